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
/// simulated run (about 0.1 s each here), and its corpus holds hundreds; `connect_request`'s
/// runs a worker for a second of ticks a line, and its corpus holds thousands.
const SEEDS_ONLY: &[&str] = &["host_sim_choices", "connect_request"];

/// Each target's name, the directory under `seeds/` and `corpus/` it replays, and its checks.
/// `scenario_play` plays `scenario_parse`'s inputs: a script that parses differently is a script
/// that plays differently.
const TARGETS: &[(&str, &str, Check)] = &[
    ("api_message_decode", "api_message_decode", checks::api_message_decode::check_input),
    ("avro_datum", "avro_datum", checks::avro_datum::check_input),
    ("connect_request", "connect_request", checks::connect_request::check_input),
    ("host_sim_choices", "host_sim_choices", checks::host_sim_choices::check_input),
    ("kafka_request", "kafka_request", checks::kafka_request::check_input),
    ("log_open", "log_open", checks::log_open::check_input),
    ("metadata_log_open", "metadata_log_open", checks::metadata_log_open::check_input),
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

/// Replays `target`'s seeds and corpus; returns how many inputs it replayed.
fn replay(target: &str) -> usize {
    replay_shard(target, 0, 1)
}

/// Replays every `shards`-th input of `target`'s seeds and corpus from the `shard`-th: a slow
/// target's replay split across the test threads.
fn replay_shard(target: &str, shard: usize, shards: usize) -> usize {
    let (_, corpus, check) = TARGETS.iter().find(|(name, _, _)| *name == target).expect("a listed target");
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = inputs(&fuzz.join("seeds").join(corpus));
    assert!(!seeds.is_empty(), "{target} has no committed seeds");
    let corpus =
        if SEEDS_ONLY.contains(&target) { Vec::new() } else { inputs(&fuzz.join("corpus").join(corpus)) };
    let mut replayed = 0;
    for (name, bytes) in seeds.iter().chain(&corpus).skip(shard).step_by(shards) {
        let t0 = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(|| check(bytes));
        if t0.elapsed().as_millis() > 200 {
            eprintln!("SLOW {} {:?}", name, t0.elapsed());
        }
        assert!(outcome.is_ok(), "{name} fails {target}'s checks");
        replayed += 1;
    }
    replayed
}

// One test per target, so the test threads share the replay (a few thousand inputs each).
macro_rules! replays {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                assert!(replay(stringify!($target)) > 0);
            }
        )*

        #[test]
        fn every_target_has_its_replay_test() {
            let tested = [$(stringify!($target)),*, "scenario_play"];
            for (target, _, _) in TARGETS {
                assert!(tested.contains(target), "{target} has no replay test here");
            }
        }
    };
}

replays!(
    api_message_decode,
    avro_datum,
    connect_request,
    host_sim_choices,
    kafka_request,
    log_open,
    metadata_log_open,
    offsets_record_decode,
    record_batch_decode,
    scenario_parse,
    segment_recover,
);

// scenario_play runs a whole script per input (about 30 ms each in a debug build): halved.
#[test]
fn scenario_play_first_half() {
    assert!(replay_shard("scenario_play", 0, 2) > 0);
}

#[test]
fn scenario_play_second_half() {
    assert!(replay_shard("scenario_play", 1, 2) > 0);
}
