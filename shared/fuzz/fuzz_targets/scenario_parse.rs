//! Arbitrary text as a scenario script and as a `?scenario=` parameter (both come from pages and
//! links a docs author or a reader controls): parsing answers with a script or a line-numbered
//! error, and nothing panics.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::scenario_parse::check_input(data));
