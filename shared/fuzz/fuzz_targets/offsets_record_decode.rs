//! Arbitrary bytes as a `__consumer_offsets` record and as consumer-protocol payloads: every
//! decoder returns a value or a typed error, never panics, never allocates past what the input
//! could hold; what decodes re-encodes to bytes that decode to the same value. The coordinator
//! rebuilt from such records must answer a describe without panicking.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::offsets_record_decode::check_input(data));
