//! `cargo xtask tidy`: rules a reviewer would otherwise check by eye, run as a stage of
//! `cargo xtask test`. `shared` stays sans-IO (no runtime, clock, randomness, files, sockets,
//! threads or browser APIs in its library code), and no function grows past
//! `MAX_FUNCTION_LINES` (the few that already had are listed with their length, which may
//! only shrink).

use std::path::{Path, PathBuf};

/// What `shared/src` may not name, and what each would bring in.
const FORBIDDEN_IN_SHARED: &[(&str, &str)] = &[
    ("tokio", "an async runtime"),
    ("async fn", "an async runtime"),
    ("web_sys", "the browser"),
    ("js_sys", "the browser"),
    ("wasm_bindgen", "the browser"),
    ("std::fs", "files"),
    ("std::net", "sockets"),
    ("std::process", "processes"),
    ("std::thread", "threads"),
    ("std::env", "the environment"),
    ("SystemTime", "the wall clock"),
    ("Instant", "a clock"),
    ("getrandom", "a random source"),
];

/// The longest a function may be, counted from its `fn` line to its closing brace.
const MAX_FUNCTION_LINES: usize = 100;

/// The functions that were longer than `MAX_FUNCTION_LINES` when the rule came: each may stay as
/// long as it is, not grow. Split one and lower (or remove) its line here: the check says when.
const LONG_FUNCTIONS: &[(&str, &str, usize)] = &[
    ("frontend/src/app.rs", "app", 217),
    ("frontend/src/i18n.rs", "korean", 156),
    ("frontend/src/views/messages.rs", "messages_panel", 167),
    ("frontend/src/views/consumers.rs", "consumers_panel", 146),
    ("frontend/src/views/generator.rs", "generator", 156),
    ("shared/src/replication/sim/mod.rs", "client_receives", 144),
    ("shared/src/group/consumer.rs", "group_response", 135),
    ("frontend/src/views/producer.rs", "producer_panel", 114),
    ("frontend/src/views/partitions.rs", "partitions_view", 107),
    ("shared/src/group/coordinator.rs", "maybe_complete_join", 103),
];

/// The source trees whose functions are measured.
const MEASURED_TREES: &[&str] = &["shared/src", "frontend/src", "backend/src", "tests/src", "xtask/src"];

pub(crate) fn run() -> Result<(), String> {
    let root = crate::workspace_root();
    let mut problems = sans_io_problems(&root)?;
    problems.extend(function_length_problems(&root)?);
    if problems.is_empty() {
        println!("tidy: shared is sans-IO; no function over {MAX_FUNCTION_LINES} lines but the listed ones");
        return Ok(());
    }
    for problem in &problems {
        println!("tidy: {problem}");
    }
    Err(format!("{} tidy problem(s)", problems.len()))
}

/// Every mention of IO in `shared/src`'s code (comments aside).
fn sans_io_problems(root: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for file in rust_files(&root.join("shared").join("src"))? {
        let text = read(&file)?;
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (name, brings) in FORBIDDEN_IN_SHARED {
                if mentions(code, name) {
                    let shown = file.strip_prefix(root).unwrap_or(&file).display();
                    problems.push(format!(
                        "{shown}:{}: `{name}` would bring {brings} into shared, which must stay sans-IO",
                        number + 1
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// Whether `code` names `name` as a whole word (so `Instant` is not found in `Instantly`).
fn mentions(code: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

fn function_length_problems(root: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for tree in MEASURED_TREES {
        for file in rust_files(&root.join(tree))? {
            let relative = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
            for (name, line, length) in function_lengths(&read(&file)?) {
                let allowed = LONG_FUNCTIONS
                    .iter()
                    .find(|(path, function, _)| *path == relative && *function == name)
                    .map_or(MAX_FUNCTION_LINES, |(_, _, lines)| *lines);
                if length > allowed {
                    problems.push(format!(
                        "{relative}:{line}: fn {name} is {length} lines, over {allowed}: split it where a reader would thank you"
                    ));
                } else if length < allowed && allowed > MAX_FUNCTION_LINES {
                    // The ratchet: a listed function that shrank keeps its new length.
                    let entry = if length > MAX_FUNCTION_LINES {
                        format!("lower its entry in LONG_FUNCTIONS to {length}")
                    } else {
                        "take it off LONG_FUNCTIONS".to_string()
                    };
                    problems.push(format!("{relative}:{line}: fn {name} shrank to {length} lines: {entry}"));
                }
            }
        }
    }
    Ok(problems)
}

/// Each function in `text`: its name, the line its `fn` is on, and its length in lines (to the
/// brace that closes its body). Braces in comments, strings and character literals are not
/// counted.
fn function_lengths(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0usize;
        let mut opened = false;
        for (offset, body_line) in lines[start..].iter().enumerate() {
            let code = without_literals(body_line);
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if !opened && code.contains(';') {
                break; // a declaration without a body
            }
            if opened && depth == 0 {
                found.push((name.to_string(), start + 1, offset + 1));
                break;
            }
        }
    }
    found
}

/// The name of the function a line starts, if it starts one.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// A line with its comment, string literals and character literals blanked.
fn without_literals(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // '{' and '}' as characters; a lifetime ('a) has no closing quote after one char.
            '\'' => {
                let mut lookahead = chars.clone();
                if let (Some(_), Some('\'')) = (lookahead.next(), lookahead.next()) {
                    chars.next();
                    chars.next();
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_measured_to_their_closing_brace() {
        let text = "fn a() {\n    let s = \"}\";\n    let c = '{';\n    // }\n}\npub(crate) fn b<'x>(v: &'x str) -> &'x str { v }\nfn c();\n";
        assert_eq!(function_lengths(text), vec![("a".to_string(), 1, 5), ("b".to_string(), 6, 1)]);
    }

    #[test]
    fn io_names_are_found_as_whole_words_outside_comments() {
        assert!(mentions("use std::time::Instant;", "Instant"));
        assert!(!mentions("let instantly = Instantly;", "Instant"));
        assert!(mentions("tokio::spawn(x)", "tokio"));
        assert!(!mentions("let my_tokio_like = 1;", "tokio"));
    }
}
