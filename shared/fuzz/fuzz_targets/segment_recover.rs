//! Arbitrary bytes as a `.log` file after a crash: recovery must never panic, must keep a prefix of
//! the bytes, and recovering what it kept must keep all of it.
//!
//! Each input is also tried with every batch's CRC rewritten to match (walking batchLength fields
//! from the start), so the fuzzer reaches multi-batch logs and the checks after the CRC.
#![no_main]

use kite_shared::log::index::DEFAULT_SEGMENT_INDEX_BYTES;
use kite_shared::log::segment::{DEFAULT_INDEX_INTERVAL_BYTES, LogSegment};
use libfuzzer_sys::fuzz_target;

/// RecordBatch v2 layout: batchLength field, CRC field, start of the CRC's coverage, header size.
const BATCH_LENGTH_AT: usize = 8;
const CRC_AT: usize = 17;
const CRC_COVERS_FROM: usize = 21;
const LOG_OVERHEAD_BYTES: usize = 12;
const BATCH_HEADER_BYTES: usize = 61;

fn fix_crcs(data: &[u8]) -> Vec<u8> {
    let mut fixed = data.to_vec();
    let mut at = 0;
    while at + BATCH_HEADER_BYTES <= fixed.len() {
        let length =
            i32::from_be_bytes(fixed[at + BATCH_LENGTH_AT..at + BATCH_LENGTH_AT + 4].try_into().unwrap());
        let Ok(length) = usize::try_from(length) else { break };
        if length + LOG_OVERHEAD_BYTES < BATCH_HEADER_BYTES {
            break;
        }
        let end = (at + LOG_OVERHEAD_BYTES + length).min(fixed.len());
        let crc = crc32c::crc32c(&fixed[at + CRC_COVERS_FROM..end]);
        fixed[at + CRC_AT..at + CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        at = end;
    }
    fixed
}

fn check(data: &[u8]) {
    let (segment, report) =
        LogSegment::recover_bytes(0, data.to_vec(), DEFAULT_INDEX_INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert_eq!(&*segment.log_bytes().unwrap(), &data[..report.valid_bytes]);
    assert_eq!(report.valid_bytes + report.truncated_bytes, data.len());
    let (again, second) = LogSegment::recover_bytes(
        0,
        segment.log_bytes().unwrap().to_vec(),
        DEFAULT_INDEX_INTERVAL_BYTES,
        DEFAULT_SEGMENT_INDEX_BYTES,
    );
    assert_eq!(second.truncated_bytes, 0);
    assert_eq!(again, segment);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&fix_crcs(data));
});
