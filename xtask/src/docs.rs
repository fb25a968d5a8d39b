//! `cargo xtask docs`: the docs site (`docs/site/{en,ko}/*.html`) built into `dist/docs/`, where
//! `kite serve` serves it under `/docs`. Each page's `{{scenario:NAME}}` becomes the text of
//! `docs/scenarios/NAME.kite` (for a `<kite-playground>`), `{{url:NAME}}` its `?scenario=` parameter
//! (for an iframe, from `kite scenario url`), `{{sides:NAME}}` and `{{template:NAME}}` a
//! `<kite-compare>`'s attributes and script from `NAME.compare`, and the page is wrapped in the
//! site's layout; the course's chapters (`course.txt`) get their place and the way on.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The site's languages: (directory, `<html lang>`, the other language's directory and name).
const LANGUAGES: &[(&str, &str, &str, &str)] = &[("en", "en", "ko", "한국어"), ("ko", "ko", "en", "English")];

/// The course's chapters, one page name per line in reading order (`#` starts a comment).
const COURSE: &str = "course.txt";

/// One page of the site: its file name, its `<!-- title: … -->` and its source.
struct Page {
    name: String,
    title: String,
    source: String,
}

/// The words the layout adds around a chapter, per language.
struct Words {
    chapter: &'static str,
    of: &'static str,
    all: &'static str,
    previous: &'static str,
    next: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "ko" => Words {
            chapter: "", of: "장 / 전체 ", all: "전체 목차", previous: "이전", next: "다음"
        },
        _ => {
            Words { chapter: "Chapter ", of: " of ", all: "All chapters", previous: "Previous", next: "Next" }
        }
    }
}

/// Builds the site into `ui_dir/docs` with `kite` (for the URL parameters); returns its path.
pub(crate) fn build(ui_dir: &Path, kite: &Path) -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let site = root.join("docs").join("site");
    let out = ui_dir.join("docs");
    let course = read_course(&site.join(COURSE))?;
    for &(dir, lang, other_dir, other_name) in LANGUAGES {
        let target = out.join(dir);
        std::fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        let pages = read_pages(&site.join(dir))?;
        let chapters: Vec<&Page> = course
            .iter()
            .map(|name| {
                pages
                    .iter()
                    .find(|p| &p.name == name)
                    .ok_or_else(|| format!("{COURSE} names {name}, which docs/site/{dir}/ does not have"))
            })
            .collect::<Result<_, _>>()?;
        let list = chapter_list(&chapters);
        for page in &pages {
            let body =
                fill(&page.source, &root, kite, &list).map_err(|e| format!("{dir}/{}: {e}", page.name))?;
            let mut body = widgets_in(&body, lang);
            let number = chapters.iter().position(|c| c.name == page.name);
            if let Some(index) = number {
                body = chaptered(&chapters, index, &body, &words(lang));
            }
            let html = layout(
                lang,
                page,
                number.map(|_| page.name.as_str()),
                &format!("../{other_dir}/{}", page.name),
                other_name,
                &body,
            );
            std::fs::write(target.join(&page.name), html)
                .map_err(|e| format!("cannot write {}: {e}", page.name))?;
        }
    }
    for file in ["site.css", "course.js"] {
        std::fs::copy(site.join(file), out.join(file)).map_err(|e| format!("cannot copy {file}: {e}"))?;
    }
    // The site's front door picks English.
    let index = "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url=en/index.html\">\
                 <a href=\"en/index.html\">Kite docs</a>\n";
    std::fs::write(out.join("index.html"), index)
        .map_err(|e| format!("cannot write the site's index: {e}"))?;
    // `dist::build` installed brotli if it could.
    crate::dist::precompress(&out, false)?;
    println!("xtask: docs ready in {}", out.display());
    Ok(out)
}

/// The page with every widget (`<kite-playground>`, `<kite-compare>`) that names no language
/// speaking the page's: a Korean page's widget once showed English because its source forgot
/// `lang="ko"`.
fn widgets_in(body: &str, lang: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) =
        ["<kite-playground", "<kite-compare"].iter().filter_map(|t| rest.find(t).map(|i| (i, t.len()))).min()
    {
        let (start, name) = at;
        let tag_end = rest[start..].find('>').map_or(rest.len(), |i| start + i);
        out.push_str(&rest[..start + name]);
        if !rest[start..tag_end].contains(" lang=") {
            out.push_str(&format!(" lang=\"{lang}\""));
        }
        rest = &rest[start + name..];
    }
    out.push_str(rest);
    out
}

/// The chapters' page names from `course.txt`, in order.
fn read_course(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Every `.html` page of one language's directory, sorted by name.
fn read_pages(dir: &Path) -> Result<Vec<Page>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source =
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let title = source
                .lines()
                .next()
                .and_then(|l| l.trim().strip_prefix("<!-- title:"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(|t| t.trim().to_string())
                .ok_or_else(|| format!("{} does not start with <!-- title: … -->", path.display()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Page { name, title, source })
        })
        .collect()
}

/// `{{chapters}}`: the course's table of contents; `course.js` marks the chapters read.
fn chapter_list(chapters: &[&Page]) -> String {
    let items: String = chapters
        .iter()
        .map(|c| format!("  <li data-chapter=\"{0}\"><a href=\"{0}\">{1}</a></li>\n", c.name, c.title))
        .collect();
    format!(
        "<ol class=\"chapters\" id=\"course\">\n{items}</ol>\n<p id=\"course-progress\" aria-live=\"polite\"></p>"
    )
}

/// A chapter's body with its place in the course above it and the way on below it.
fn chaptered(chapters: &[&Page], index: usize, body: &str, words: &Words) -> String {
    let Words { chapter, of, all, previous, next } = words;
    let (number, total) = (index + 1, chapters.len());
    let mut way = String::new();
    if let Some(before) = index.checked_sub(1).and_then(|i| chapters.get(i)) {
        way.push_str(&format!("<a rel=\"prev\" href=\"{}\">← {previous}: {}</a>", before.name, before.title));
    }
    if let Some(after) = chapters.get(index + 1) {
        way.push_str(&format!("<a rel=\"next\" href=\"{}\">{next}: {} →</a>", after.name, after.title));
    }
    format!(
        "<p class=\"chapter-place\">{chapter}{number}{of}{total} · <a href=\"index.html#course\">{all}</a> \
         <span class=\"chapter-done\" hidden>✓</span></p>\n{body}\n<nav class=\"prev-next\">{way}</nav>"
    )
}

/// Replaces `{{scenario:NAME}}`, `{{url:NAME}}`, `{{sides:NAME}}`, `{{template:NAME}}` and
/// `{{chapters}}` in `source`.
fn fill(source: &str, root: &Path, kite: &Path, chapters: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or("a `{{` is not closed")? + start;
        let inside = &rest[start + 2..end];
        if inside == "chapters" {
            out.push_str(chapters);
        } else {
            let (kind, name) = inside
                .split_once(':')
                .ok_or("expected {{scenario:NAME}}, {{url:NAME}}, {{sides:NAME}} or {{template:NAME}}")?;
            out.push_str(&placeholder(kind, name, &root.join("docs").join("scenarios"), kite)?);
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One placeholder's text: a script (`scenario`), its URL parameter (`url`), or a comparison's
/// attributes (`sides`) and script (`template`) from `NAME.compare`.
fn placeholder(kind: &str, name: &str, scenarios: &Path, kite: &Path) -> Result<String, String> {
    let read = |file: &Path| {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    };
    // Inside <script type="text/kite-scenario"> only `</` could end the element early.
    let script = |text: String, file: &Path| {
        if text.contains("</") {
            Err(format!("{} contains `</`, which would end its <script> early", file.display()))
        } else {
            Ok(text)
        }
    };
    let kite_file = scenarios.join(format!("{name}.kite"));
    let compare_file = scenarios.join(format!("{name}.compare"));
    match kind {
        "scenario" => script(read(&kite_file)?, &kite_file),
        "url" => {
            let output = Command::new(kite)
                .args(["scenario", "url"])
                .arg(&kite_file)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", kite.display()))?;
            if !output.status.success() {
                return Err(String::from_utf8_lossy(&output.stderr).into_owned());
            }
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        }
        "sides" | "template" => {
            let text = read(&compare_file)?;
            let (head, template) = text
                .split_once("\n---\n")
                .ok_or_else(|| format!("{} has no `---` line before its script", compare_file.display()))?;
            if kind == "template" {
                return script(template.to_string(), &compare_file);
            }
            // `a …`, `b …`, `label-a …`, `label-b …` become the element's attributes.
            let mut attributes = Vec::new();
            for line in head.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
                let (attribute, value) = line.split_once(' ').unwrap_or((line, ""));
                if !["a", "b", "label-a", "label-b"].contains(&attribute) {
                    return Err(format!("{}: unknown line `{line}`", compare_file.display()));
                }
                let value = value.trim().replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
                attributes.push(format!("{attribute}=\"{value}\""));
            }
            Ok(attributes.join(" "))
        }
        other => Err(format!("unknown placeholder {{{{{other}:…}}}}")),
    }
}

/// A page in the site's layout; a chapter's `<main>` names it for `course.js`.
fn layout(
    lang: &str,
    page: &Page,
    chapter: Option<&str>,
    other_href: &str,
    other_name: &str,
    body: &str,
) -> String {
    let title = &page.title;
    let main = chapter.map_or_else(|| "<main>".to_string(), |name| format!("<main data-chapter=\"{name}\">"));
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="../site.css">
  <script type="module" src="/kite-embed.js"></script>
  <script type="module" src="../course.js"></script>
</head>
<body>
  <nav><a href="index.html">Kite docs</a> · <a href="/">Playground</a> · <a href="{other_href}" hreflang="{other}">{other_name}</a></nav>
  {main}
{body}
  </main>
</body>
</html>
"#,
        other = other_href.split('/').nth(1).unwrap_or_default()
    )
}
