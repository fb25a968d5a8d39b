//! The stateful target: the host simulator's requests, faults and clock, every choice read from
//! the fuzzer's bytes; a broken rule of the checker or a panic is a crash.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::host_sim_choices::check_input(data));
