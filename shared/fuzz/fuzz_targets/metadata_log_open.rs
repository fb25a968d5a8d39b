//! Arbitrary bytes as a KRaft controller's files (quorum-state, a snapshot, the metadata log):
//! opening them gives the voter's state or an error naming the file, never a panic or an endless
//! read, and what opens is written back the same.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::metadata_log_open::check_input(data));
