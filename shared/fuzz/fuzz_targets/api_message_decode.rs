//! Arbitrary text and binary frames into the engine's API entry point, as a websocket or worker
//! message would bring them: every input gets an answer that is itself a valid server frame, and
//! nothing panics.
#![no_main]

use kite_shared::api::{Frame, decode_server_frame, decode_server_message};
use kite_shared::host::{serve_frame, serve_text};
use kite_shared::cluster::Cluster;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut cluster = Cluster::new(0);
    if let Ok(text) = std::str::from_utf8(data) {
        let answer = serve_text(&mut cluster, 1_700_000_000_000, text);
        decode_server_message(&answer).expect("the engine's answers always decode");
    }
    // The same bytes as a binary frame, and behind a valid binary prefix (so the fuzzer reaches
    // the header and the record payload).
    let answer = serve_frame(&mut cluster, 1_700_000_000_000, &Frame::Binary(data.to_vec()));
    decode_server_frame(&answer).expect("the engine's answers always decode");
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut framed = b"KB\x01".to_vec();
    framed.extend_from_slice(&(split as u32).to_be_bytes());
    framed.extend_from_slice(data);
    let answer = serve_frame(&mut cluster, 1_700_000_000_000, &Frame::Binary(framed));
    decode_server_frame(&answer).expect("the engine's answers always decode");
});
