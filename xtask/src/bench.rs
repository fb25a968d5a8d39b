//! `cargo xtask bench`: the engine's throughput benchmarks (divan: record codec, partition log in
//! memory and on disk), Kite beside its baselines.
//! Figures and how to read them: docs/benchmarks.md.

use crate::proc;

pub fn run() -> Result<(), String> {
    let mut bench = proc::cargo();
    bench.args(["bench", "-p", "kite-shared", "-p", "kite-backend"]);
    proc::run(bench)
}
