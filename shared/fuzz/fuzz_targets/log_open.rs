//! Arbitrary bytes as a partition directory after a crash or a clean stop: a `.log`, its `.index`
//! and `.timeindex`, and a `leader-epoch-checkpoint`. Opening must never panic (it may refuse
//! with an error), and an opened log must serve every offset it claims without panicking.
//!
//! The first three bytes pick how the rest is split between the files; the second half of the
//! runs rewrites the log's CRCs to match so the fuzzer gets past them.
#![no_main]

use std::collections::BTreeMap;

use kite_shared::config::TopicConfig;
use kite_shared::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use kite_shared::log::storage::MemoryPartitionStore;
use kite_shared::record::batch::RecordBatch;
use libfuzzer_sys::fuzz_target;

fn open(files: BTreeMap<String, Vec<u8>>, clean_shutdown: bool, recovery_point: i64) {
    let store = Box::new(MemoryPartitionStore::with_files("p", files, None));
    let config = LogConfig::from(&TopicConfig::default());
    let checkpoints = OpenCheckpoints { clean_shutdown, recovery_point: Some(recovery_point), log_start_offset: None };
    let Ok((log, _)) = LocalLog::open(config, store, checkpoints) else { return };
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let Ok(bytes) = log.read(offset, 1 << 20) else { break };
        match RecordBatch::decode(&bytes) {
            Ok((batch, _)) if batch.base_offset + i64::from(batch.last_offset_delta) >= offset => {
                offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
            }
            _ => break,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (split, rest) = data.split_at(3);
    let mut parts = Vec::new();
    let mut rest = rest;
    for &len in split {
        let (part, tail) = rest.split_at((len as usize).min(rest.len()));
        parts.push(part.to_vec());
        rest = tail;
    }
    let files = BTreeMap::from([
        ("00000000000000000000.index".to_string(), parts[0].clone()),
        ("00000000000000000000.timeindex".to_string(), parts[1].clone()),
        ("leader-epoch-checkpoint".to_string(), parts[2].clone()),
        ("00000000000000000000.log".to_string(), rest.to_vec()),
    ]);
    for clean in [true, false] {
        open(files.clone(), clean, i64::from(split[0]));
    }
});
