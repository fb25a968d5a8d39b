//! Arbitrary text and binary frames into the engine's API entry point, as a websocket or worker
//! message would bring them: every input gets an answer that is itself a valid server frame, and
//! nothing panics.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::api_message_decode::check_input(data));
