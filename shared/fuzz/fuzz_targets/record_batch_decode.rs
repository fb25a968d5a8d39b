//! Arbitrary bytes into the RecordBatch v2 decoder: it must never panic, and whatever it accepts
//! must survive encode → decode unchanged.
//!
//! Random bytes almost never carry a valid CRC-32C, which would keep the fuzzer at the door. So
//! each input is decoded twice: as it is, and with its CRC field rewritten to match, which lets
//! the fuzzer reach record parsing and decompression with the decoder itself unchanged.
#![no_main]

use kite_shared::record::batch::RecordBatch;
use libfuzzer_sys::fuzz_target;

/// Where the CRC field sits and where the bytes it covers start (RecordBatch v2 layout).
const CRC_AT: usize = 17;
const CRC_COVERS_FROM: usize = 21;
const BATCH_LENGTH_AT: usize = 8;
const LOG_OVERHEAD_BYTES: usize = 12;

fn check(data: &[u8]) {
    if let Ok((batch, used)) = RecordBatch::decode(data) {
        assert!(used <= data.len());
        let bytes = batch.encode().expect("a decoded batch re-encodes");
        let (again, _) = RecordBatch::decode(&bytes).expect("a re-encoded batch decodes");
        assert_eq!(again, batch);
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() > CRC_COVERS_FROM {
        let mut fixed = data.to_vec();
        let declared = i32::from_be_bytes(fixed[BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4].try_into().unwrap());
        let end =
            usize::try_from(declared).map_or(fixed.len(), |len| (LOG_OVERHEAD_BYTES + len).min(fixed.len()));
        if end > CRC_COVERS_FROM {
            let crc = crc32c::crc32c(&fixed[CRC_COVERS_FROM..end]);
            fixed[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
            check(&fixed);
        }
    }
});
