//! Arbitrary text into the engine's API entry point, as a websocket or worker message would bring
//! it: every input gets an answer that is itself a valid server message, and nothing panics.
#![no_main]

use kite_shared::api::{decode_server_message, serve_text};
use kite_shared::cluster::Cluster;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut cluster = Cluster::new(0);
        let answer = serve_text(&mut cluster, 1_700_000_000_000, text);
        decode_server_message(&answer).expect("the engine's answers always decode");
    }
});
