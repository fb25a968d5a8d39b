//! Arbitrary text as a scenario script, played to its end on a fresh cluster when it parses: every
//! step answers and nothing panics. Each input is a whole run, so this target is slow (about 150
//! executions a second); `scenario_parse` covers the parser alone at full speed.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::scenario_play::check_input(data));
