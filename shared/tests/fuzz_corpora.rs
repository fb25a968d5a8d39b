//! Every committed fuzz seed, and every entry of the committed corpora under `shared/fuzz/corpus/`
//! (minimised with `cargo fuzz cmin`, plus whatever a local fuzz run added), replayed through its
//! target's checks on stable, on every `cargo xtask test`: what once broke a decoder stays fixed
//! without nightly or a fuzzing run.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

#[path = "../fuzz/checks.rs"]
mod checks;

// `kite serve`'s allocator, as the kafka_request target links it: an entry that claims a huge
// array must fail to decode, not abort this test on an allocation the system cannot give.
#[path = "../../backend/src/huge_alloc.rs"]
#[allow(dead_code, unreachable_pub)]
mod huge_alloc;

#[global_allocator]
static ALLOCATOR: huge_alloc::HugeLazily = huge_alloc::HugeLazily;

/// A target's checks of one input (they panic on what they find).
type Check = fn(&[u8]);

/// Targets whose corpus is not replayed, only their seeds: a stateful target's input is a whole
/// simulated run (about 0.1 s each here), and its corpus holds hundreds.
const SEEDS_ONLY: &[&str] = &["host_sim_choices"];

/// Each target's name, the directory under `seeds/` and `corpus/` it replays, and its checks.
/// `scenario_play` plays `scenario_parse`'s inputs: a script that parses differently is a script
/// that plays differently.
const TARGETS: &[(&str, &str, Check)] = &[
    ("api_message_decode", "api_message_decode", checks::api_message_decode::check_input),
    ("avro_datum", "avro_datum", checks::avro_datum::check_input),
    ("host_sim_choices", "host_sim_choices", checks::host_sim_choices::check_input),
    ("kafka_request", "kafka_request", checks::kafka_request::check_input),
    ("log_open", "log_open", checks::log_open::check_input),
    ("offsets_record_decode", "offsets_record_decode", checks::offsets_record_decode::check_input),
    ("record_batch_decode", "record_batch_decode", checks::record_batch_decode::check_input),
    ("scenario_parse", "scenario_parse", checks::scenario_parse::check_input),
    ("scenario_play", "scenario_parse", checks::scenario_play::check_input),
    ("segment_recover", "segment_recover", checks::segment_recover::check_input),
];

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut inputs: Vec<(String, Vec<u8>)> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_seed_and_corpus_entry_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (target, corpus, check) in TARGETS {
        let seeds = inputs(&fuzz.join("seeds").join(corpus));
        assert!(!seeds.is_empty(), "{target} has no committed seeds");
        let corpus =
            if SEEDS_ONLY.contains(target) { Vec::new() } else { inputs(&fuzz.join("corpus").join(corpus)) };
        for (name, bytes) in seeds.iter().chain(&corpus) {
            let outcome = std::panic::catch_unwind(|| check(bytes));
            assert!(outcome.is_ok(), "{name} fails {target}'s checks");
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}
