//! Arbitrary bytes as Avro datums of recursive and flat schemas: read, written again, read again;
//! bounded in depth and work, never a panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::avro_datum::check_input(data));
