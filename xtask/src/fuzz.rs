//! `cargo xtask fuzz <target> [--seconds N] [--runs N]`: runs a libFuzzer target of `shared/fuzz`
//! with cargo-fuzz on the nightly toolchain, installing cargo-fuzz when it is missing. With
//! `--runs`, the run ends after that many executions (or the seconds, whichever comes first).

use std::process::Command;

use crate::proc;

/// How long a fuzz run lasts when `--seconds` is not given.
const DEFAULT_FUZZ_SECONDS: u64 = 60;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask fuzz <record_batch_decode | api_message_decode | segment_recover | log_open | metadata_log_open | offsets_record_decode | scenario_parse | scenario_play | avro_datum | kafka_request | host_sim_choices | connect_request> [--seconds N] [--runs N]";
    let target = args.first().filter(|a| !a.starts_with("--")).ok_or(usage)?;
    let seconds = match args.iter().position(|a| a == "--seconds") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse::<u64>().ok()).ok_or(usage)?,
        None => DEFAULT_FUZZ_SECONDS,
    };
    let runs = match args.iter().position(|a| a == "--runs") {
        Some(i) => Some(args.get(i + 1).and_then(|n| n.parse::<u64>().ok()).ok_or(usage)?),
        None => None,
    };

    let mut toolchains = Command::new("rustup");
    toolchains.args(["toolchain", "list"]);
    let listed = toolchains.output().map_err(|e| format!("cannot run rustup: {e}"))?;
    if !String::from_utf8_lossy(&listed.stdout).lines().any(|l| l.starts_with("nightly")) {
        return Err("fuzzing needs the nightly toolchain: rustup toolchain install nightly".into());
    }
    let mut probe = Command::new("cargo");
    probe.args(["fuzz", "--version"]);
    if proc::first_line(probe).is_none() {
        println!("xtask: installing cargo-fuzz (cargo install cargo-fuzz)");
        let mut install = proc::cargo();
        install.args(["install", "cargo-fuzz"]);
        proc::run(install)?;
    }

    let shared = crate::workspace_root().join("shared");
    // The working corpus grows under fuzz/corpus (not committed); fuzz/seeds holds committed
    // starting inputs (Kafka's test vectors, example API messages).
    let corpus = shared.join("fuzz").join("corpus").join(target);
    let seeds = shared.join("fuzz").join("seeds").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut fuzz = Command::new("cargo");
    fuzz.current_dir(&shared).args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", target]).arg(&corpus);
    if seeds.is_dir() {
        fuzz.arg(&seeds);
    }
    // Playing scripts starts from parsing's seeds and corpus (committed; this target's own
    // corpus is not: each input is a whole run).
    if target == "scenario_play" {
        fuzz.arg(shared.join("fuzz").join("seeds").join("scenario_parse"));
        fuzz.arg(shared.join("fuzz").join("corpus").join("scenario_parse"));
    }
    fuzz.arg("--").arg(format!("-max_total_time={seconds}")).arg("-print_final_stats=1");
    if let Some(runs) = runs {
        fuzz.arg(format!("-runs={runs}"));
    }
    println!("xtask: fuzzing {target} for {seconds} s");
    proc::run(fuzz)
}
