//! Scenario tests: a fixture of commands in, the engine's trace of replies out, compared with a
//! snapshot beside the fixture. `UPDATE_EXPECT=1 cargo test -p kite-shared` rewrites the snapshots;
//! review the diff like code.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use kite_shared::api::{Command, encode};
use kite_shared::cluster::Cluster;

mod common;

/// Virtual time of the first step; each step is one second later.
const SCENARIO_START_MS: i64 = 1_700_000_000_000;
const SCENARIO_STEP_MS: i64 = 1_000;
/// The seed of every scenario's random choices.
const SCENARIO_SEED: u64 = 1;

fn run_scenario(fixture: &str) -> String {
    // `# brokers: N` on the first line runs the scenario on N replicating brokers.
    let brokers = fixture
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("# brokers:"))
        .map(|n| n.trim().parse::<usize>().expect("# brokers: takes a number"));
    let mut cluster = match brokers {
        Some(brokers) => Cluster::replicated_in_memory(SCENARIO_SEED, brokers, SCENARIO_START_MS),
        None => Cluster::new(SCENARIO_SEED),
    };
    cluster.allow_faults = true;
    let mut trace = String::new();
    let mut now_ms = SCENARIO_START_MS;
    for (line_no, line) in fixture.lines().enumerate() {
        let line = line.trim();
        // `# wait MS`: time passes without a command (timeouts, fencing, elections).
        if let Some(ms) = line.strip_prefix("# wait ") {
            now_ms += ms.trim().parse::<i64>().expect("# wait takes milliseconds");
            trace.push_str(&format!("# wait {ms}\n"));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let command: Command = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("fixture line {}: not a command: {e}", line_no + 1));
        let reply = cluster.handle(now_ms, command.clone());
        trace.push_str(&format!("> {}\n< {}\n", encode(&command), encode(&reply)));
        now_ms += SCENARIO_STEP_MS;
    }
    trace
}

#[test]
fn scenarios_match_their_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let fixtures = common::files_with_extension(&dir, "jsonl");
    assert!(!fixtures.is_empty(), "no scenario fixtures in {}", dir.display());
    for fixture in fixtures {
        let text = std::fs::read_to_string(&fixture).expect("readable fixture");
        let trace = run_scenario(&text);
        expect_test::expect_file![fixture.with_extension("trace")].assert_eq(&trace);
    }
}
