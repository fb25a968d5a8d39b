//! Arbitrary text as Kite Connect's REST requests, internal-topic records, transform configs and
//! converter input (`checks::connect_request`).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::connect_request::check_input(data));
