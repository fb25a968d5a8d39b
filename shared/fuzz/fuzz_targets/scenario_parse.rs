//! Arbitrary text as a scenario script and as a `?scenario=` parameter (both come from pages and
//! links a docs author or a reader controls): parsing answers with a script or a line-numbered
//! error, a parsed script plays to its end, and nothing panics.
#![no_main]

use kite_shared::scenario::{ScenarioRun, from_url, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = from_url(text);
    if let Ok(script) = parse(text) {
        let mut cluster = ScenarioRun::cluster_for(&script);
        let mut run = ScenarioRun::new(script);
        while run.step(&mut cluster).is_some() {}
    }
});
