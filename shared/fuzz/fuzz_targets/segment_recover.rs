//! Arbitrary bytes as a `.log` file after a crash: recovery must never panic, must keep a prefix of
//! the bytes, and recovering what it kept must keep all of it.
//!
//! Each input is also tried with every batch's CRC rewritten to match (walking batchLength fields
//! from the start), so the fuzzer reaches multi-batch logs and the checks after the CRC.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::segment_recover::check_input(data));
