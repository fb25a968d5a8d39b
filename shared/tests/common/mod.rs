//! Helpers the integration tests share.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::record::batch::{BatchRecord, RecordBatch};

/// A producer's batch (offsets from 0, unstamped) of `count` records with keys `k0`, `k1`, … and
/// `value_bytes`-byte values, record i stamped `timestamp + i`.
pub fn producer_batch(count: usize, value_bytes: usize, timestamp: i64) -> Vec<u8> {
    let records = (0..count)
        .map(|i| BatchRecord {
            timestamp_delta: i as i64,
            offset_delta: i as i32,
            key: Some(format!("k{i}").into_bytes()),
            value: Some(vec![b'v'; value_bytes]),
            headers: vec![],
        })
        .collect();
    RecordBatch::new(timestamp, records).encode().expect("test batches encode")
}
