//! Kite's automation, in Rust so it runs wherever cargo does: `cargo xtask <command>`.
//!
//! - `run [-- ARGS]`: build the UI and the server, then start `kite serve ARGS` (Ctrl-C stops it).
//! - `dist`: build the UI into `dist/` only.
//! - `test`: everything a contributor must keep green, each stage with a one-line result.
//! - `tidy`: shared stays sans-IO, no function grows long (a stage of `test`).
//! - `bench`: the engine's throughput benchmarks.
//! - `soak [--minutes N] [--clients N]`: load and soak against a release `kite serve`.
//! - `fuzz <target> [--seconds N] [--runs N]`: a libFuzzer target on nightly.
//! - `sim [ARGS]`: the deterministic cluster simulator over seeds (`kite sim`, in release).

mod bench;
mod dist;
mod docs;
mod fuzz;
mod proc;
mod test;
mod tidy;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run [-- SERVE-ARGS]   build the UI and `kite`, then run `kite serve` (default http://127.0.0.1:8080)
  dist                  build the UI into dist/
  docs                  build the UI and the docs site (docs/site, served by kite serve under /docs)
  test                  fmt, tidy, clippy (native + wasm32), native tests, browser tests, end-to-end tests
  tidy                  shared stays sans-IO; no function over 100 lines but those listed in xtask/src/tidy.rs
  bench                 the engine's throughput benchmarks (docs/benchmarks.md)
  soak [--minutes N] [--clients N]
                        load and soak a release `kite serve` (default 200 clients, 10 minutes)
  fuzz TARGET [--seconds N] [--runs N]
                        fuzz a decoder (record_batch_decode, api_message_decode,
                        segment_recover, log_open, metadata_log_open, offsets_record_decode, scenario_parse,
                        scenario_play, avro_datum, kafka_request, host_sim_choices) on nightly
  sim [--seeds A..B] [--faults crash,partition|none] [--duration-ms N] [--unsafe FLAG] [--trace]
                        simulate the replicated cluster under faults and check every run
                        (FLAG: unclean-election, min-isr-1, acks-1; see `kite sim --help`)";

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(PathBuf::from).unwrap_or(manifest_dir)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("dist") => dist::build(false).map(|_| ()),
        Some("docs") => {
            dist::build(false).and_then(|ui| docs::build(&ui, &dist::build_server(false)?)).map(|_| ())
        }
        Some("test") => test::run_all(),
        Some("tidy") => tidy::run(),
        Some("bench") => bench::run(),
        Some("soak") => bench::soak(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("sim") => sim(&args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Builds everything, then replaces this process with `kite serve` so Ctrl-C reaches the server
/// directly and it shuts down cleanly.
fn run(args: &[String]) -> Result<(), String> {
    let serve_args: Vec<String> = args.iter().skip_while(|a| *a == "--").cloned().collect();
    let dist_dir = dist::build(false)?;
    let kite = dist::build_server(false)?;
    docs::build(&dist_dir, &kite)?;
    let root = workspace_root();
    let mut command = std::process::Command::new(&kite);
    command.current_dir(&root).arg("serve").arg("--ui-dir").arg(&dist_dir).args(&serve_args);
    println!("xtask: starting {} serve (Ctrl-C stops it)", kite.display());
    proc::exec(command)
}

/// `kite sim ARGS`, built in release (a sweep of thousands of seeds wants an optimised build).
fn sim(args: &[String]) -> Result<(), String> {
    let mut command = proc::cargo();
    command
        .args(["run", "--quiet", "--release", "-p", "kite-backend", "--bin", "kite", "--", "sim"])
        .args(args);
    proc::exec(command)
}
