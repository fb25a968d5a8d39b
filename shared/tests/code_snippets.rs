//! Copy the code: each action in `code_snippets/actions.jsonl` (commands as the API writes them)
//! turned into every tool's snippet, checked against `code_snippets/actions.snippets`
//! (`UPDATE_EXPECT=1` rewrites it; review it like code). That the snippets run is checked against
//! a real `kite serve` with real clients in `tests/tests/kafka_clients.rs`.

use std::path::Path;

use kite_shared::api::Command;
use kite_shared::code::{Code, snippets};

#[test]
fn every_action_becomes_each_tools_code_or_says_why_not() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/code_snippets");
    let actions = std::fs::read_to_string(dir.join("actions.jsonl")).expect("the actions");
    let mut out = String::new();
    for line in actions.lines().filter(|l| !l.trim().is_empty()) {
        let command: Command = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        out.push_str(&format!("=== {line}\n"));
        let written = snippets(&command, "127.0.0.1:9092");
        if written.is_empty() {
            out.push_str("(no client equivalent)\n\n");
        }
        for snippet in written {
            match snippet.code {
                Code::Ready { text } => out.push_str(&format!("--- {}\n{text}\n\n", snippet.tool.label())),
                Code::Unavailable { en, ko } => {
                    out.push_str(&format!("--- {} (not available)\n{en}\n{ko}\n\n", snippet.tool.label()))
                }
            }
        }
    }
    expect_test::expect_file![dir.join("actions.snippets")].assert_eq(&out);
}
