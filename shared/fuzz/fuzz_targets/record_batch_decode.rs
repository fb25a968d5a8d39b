//! Arbitrary bytes into the RecordBatch v2 decoder: it must never panic, and whatever it accepts
//! must survive encode → decode unchanged.
//!
//! Random bytes almost never carry a valid CRC-32C, which would keep the fuzzer at the door. So
//! each input is decoded twice: as it is, and with its CRC field rewritten to match, which lets
//! the fuzzer reach record parsing and decompression with the decoder itself unchanged.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::record_batch_decode::check_input(data));
