//! Throughput of Kafka's record formats in Kite, beside the kafka-protocol crate as a baseline:
//! batch encode, batch decode with CRC check, and murmur2. `cargo xtask bench` runs it.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

/// Benchmarks are native; on wasm32 (checked by clippy) this target is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod benches {
    use divan::counter::{BytesCount, ItemsCount};
    use divan::{Bencher, black_box};
    use kite_shared::partitioner::murmur2;
    use kite_shared::record::batch::{BatchRecord, RecordBatch};

    /// Records per batch: about what a 16 KiB `batch.size` holds of 100-byte records.
    const RECORDS_PER_BATCH: usize = 128;
    /// Record value sizes measured: Kreps's 100-byte benchmark records, and 1 KiB.
    const VALUE_SIZES_BYTES: [usize; 2] = [100, 1024];
    /// Keys hashed per murmur2 iteration.
    const KEYS_PER_ITERATION: usize = 1024;

    fn records(value_bytes: usize) -> Vec<BatchRecord> {
        (0..RECORDS_PER_BATCH)
            .map(|i| BatchRecord {
                timestamp_delta: i as i64,
                offset_delta: i as i32,
                key: Some(format!("key-{i:06}").into_bytes()),
                value: Some((0..value_bytes).map(|b| (b * 31 + i) as u8).collect()),
                headers: Vec::new(),
            })
            .collect()
    }

    fn batch(value_bytes: usize) -> RecordBatch {
        RecordBatch::new(1_700_000_000_000, records(value_bytes))
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn kite_encode(bencher: Bencher, value_bytes: usize) {
        let batch = batch(value_bytes);
        let size = batch.encode().unwrap().len();
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .counter(BytesCount::new(size))
            .bench(|| black_box(&batch).encode().unwrap());
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn kite_decode_and_verify(bencher: Bencher, value_bytes: usize) {
        let bytes = batch(value_bytes).encode().unwrap();
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .counter(BytesCount::new(bytes.len()))
            .bench(|| RecordBatch::decode(black_box(&bytes)).unwrap());
    }

    fn kafka_protocol_records(value_bytes: usize) -> Vec<kafka_protocol::records::Record> {
        use kafka_protocol::records::{Record, TimestampType};
        records(value_bytes)
            .into_iter()
            .enumerate()
            .map(|(i, r)| Record {
                transactional: false,
                delete_horizon: false,
                control: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: -1,
                timestamp: 1_700_000_000_000 + i as i64,
                key: r.key.map(bytes::Bytes::from),
                value: r.value.map(bytes::Bytes::from),
                headers: Default::default(),
            })
            .collect()
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn baseline_kafka_protocol_encode(bencher: Bencher, value_bytes: usize) {
        use kafka_protocol::records::{Compression, RecordBatchEncoder, RecordEncodeOptions};
        let records = kafka_protocol_records(value_bytes);
        let options = RecordEncodeOptions { version: 2, compression: Compression::None };
        let mut probe = bytes::BytesMut::new();
        RecordBatchEncoder::encode(&mut probe, &records, &options).unwrap();
        bencher.counter(ItemsCount::new(RECORDS_PER_BATCH)).counter(BytesCount::new(probe.len())).bench(
            || {
                let mut out = bytes::BytesMut::with_capacity(probe.len());
                RecordBatchEncoder::encode(&mut out, black_box(&records), &options).unwrap();
                out
            },
        );
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn baseline_kafka_protocol_decode(bencher: Bencher, value_bytes: usize) {
        use kafka_protocol::records::RecordBatchDecoder;
        let encoded = bytes::Bytes::from(batch(value_bytes).encode().unwrap());
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .counter(BytesCount::new(encoded.len()))
            .bench(|| RecordBatchDecoder::decode(&mut black_box(encoded.clone())).unwrap());
    }

    #[divan::bench]
    fn murmur2_keys(bencher: Bencher) {
        let keys: Vec<Vec<u8>> =
            (0..KEYS_PER_ITERATION).map(|i| format!("customer-{i:08}").into_bytes()).collect();
        bencher
            .counter(ItemsCount::new(KEYS_PER_ITERATION))
            .bench(|| keys.iter().fold(0_i32, |acc, key| acc ^ murmur2(black_box(key))));
    }
}
