//! Arbitrary bytes as a partition directory after a crash or a clean stop: a `.log`, its `.index`
//! and `.timeindex`, and a `leader-epoch-checkpoint`. Opening must never panic (it may refuse
//! with an error), and an opened log must serve every offset it claims without panicking.
//!
//! The first three bytes pick how the rest is split between the files; the second half of the
//! runs rewrites the log's CRCs to match so the fuzzer gets past them.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::log_open::check_input(data));
