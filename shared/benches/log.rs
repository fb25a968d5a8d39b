//! The in-memory partition log (`LocalLog`), beside the plain copy of the same bytes into a `Vec`
//! (the ceiling for an append that must keep the bytes): leader appends of 1000-record batches,
//! and reading every batch back; and the producer state a reopened log gives its leader, from its
//! `.snapshot` files and the batches after the newest, beside the same log without them (every
//! batch replayed). `cargo xtask bench` runs it with the codec benchmarks.

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
    use kite_shared::config::TopicConfig;
    use kite_shared::log::local_log::{LocalLog, LogConfig};
    use kite_shared::record::batch::{BatchRecord, RecordBatch};

    /// Records per produced batch (issue 4's benchmark shape).
    const RECORDS_PER_BATCH: usize = 1000;
    /// Batches appended per measured iteration.
    const BATCHES_PER_ITERATION: usize = 16;
    const VALUE_SIZES_BYTES: [usize; 2] = [100, 1024];
    const NOW_MS: i64 = 1_700_000_000_000;

    fn producer_batch(value_bytes: usize) -> Vec<u8> {
        let records = (0..RECORDS_PER_BATCH)
            .map(|i| BatchRecord {
                timestamp_delta: i as i64,
                offset_delta: i as i32,
                key: Some(format!("key-{i:06}").into_bytes()),
                value: Some((0..value_bytes).map(|b| (b * 31 + i) as u8).collect()),
                headers: Vec::new(),
            })
            .collect();
        RecordBatch::new(NOW_MS, records).encode().unwrap()
    }

    fn config() -> LogConfig {
        let mut config = LogConfig::from(&TopicConfig::default());
        config.max_message_bytes = usize::MAX;
        config
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn local_log_append(bencher: Bencher, value_bytes: usize) {
        let batch = producer_batch(value_bytes);
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH * BATCHES_PER_ITERATION))
            .counter(BytesCount::new(batch.len() * BATCHES_PER_ITERATION))
            .with_inputs(|| LocalLog::new(config()))
            .bench_local_values(|mut log| {
                for _ in 0..BATCHES_PER_ITERATION {
                    log.append_as_leader(black_box(&batch), 0, NOW_MS).unwrap();
                }
                log
            });
    }

    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn baseline_vec_append(bencher: Bencher, value_bytes: usize) {
        let batch = producer_batch(value_bytes);
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH * BATCHES_PER_ITERATION))
            .counter(BytesCount::new(batch.len() * BATCHES_PER_ITERATION))
            .with_inputs(Vec::<u8>::new)
            .bench_local_values(|mut log| {
                for _ in 0..BATCHES_PER_ITERATION {
                    log.extend_from_slice(black_box(&batch));
                }
                log
            });
    }

    /// Fetch-style reads of every batch in turn. A read returns a borrowed slice of the segment (as
    /// Kafka's sendfile does not touch the bytes), so this measures finding the batch; the counter
    /// is reads, not bytes.
    #[divan::bench(args = VALUE_SIZES_BYTES)]
    fn local_log_read_each_batch(bencher: Bencher, value_bytes: usize) {
        let batch = producer_batch(value_bytes);
        let mut log = LocalLog::new(config());
        for _ in 0..BATCHES_PER_ITERATION {
            log.append_as_leader(&batch, 0, NOW_MS).unwrap();
        }
        bencher.counter(ItemsCount::new(BATCHES_PER_ITERATION)).bench_local(|| {
            let (mut offset, mut total) = (0, 0);
            while offset < log.log_end_offset() {
                let bytes = log.read(black_box(offset), 1).unwrap();
                total += bytes.len();
                offset += RECORDS_PER_BATCH as i64;
            }
            total
        });
    }

    /// Idempotent batches in the producer-state benchmark: 100 producers, one record each.
    const IDEMPOTENT_BATCHES: usize = 100_000;
    const PRODUCERS: i64 = 100;

    /// The files of a log of `IDEMPOTENT_BATCHES` idempotent batches in 1 MiB segments, closed
    /// cleanly (so every segment but the active one has a `.snapshot` at its end, and the end has one).
    fn idempotent_log_files() -> std::collections::BTreeMap<String, Vec<u8>> {
        use kite_shared::log::local_log::OpenCheckpoints;
        use kite_shared::log::storage::{FileMap, Journal, MemoryPartitionStore, apply_ops};
        let journal = Journal::default();
        let store = MemoryPartitionStore::with_files("p", Default::default(), Some(journal.clone()));
        let mut config = config();
        config.segment_bytes = 1 << 20;
        let (mut log, _) = LocalLog::open(config, Box::new(store), OpenCheckpoints::default()).unwrap();
        for n in 0..IDEMPOTENT_BATCHES {
            let record = BatchRecord { value: Some(vec![b'v'; 20]), ..Default::default() };
            let mut batch = RecordBatch::new(NOW_MS, vec![record]);
            batch.producer_id = n as i64 % PRODUCERS;
            batch.producer_epoch = 0;
            batch.base_sequence = (n as i64 / PRODUCERS) as i32;
            log.append_as_leader(&batch.encode().unwrap(), 0, NOW_MS).unwrap();
        }
        log.close().unwrap();
        let mut files = FileMap::new();
        apply_ops(&mut files, journal.lock().unwrap().drain(..));
        files.into_iter().map(|((_, name), bytes)| (name, bytes)).collect()
    }

    /// The leader's producer state from a reopened log: from the snapshot a clean close wrote
    /// at its end (`"close"`); from the newest roll's and the last segment's batches, as after a
    /// crash (`"rolls"`); from every batch, without snapshots (`"none"`, the baseline).
    #[divan::bench(args = ["close", "rolls", "none"], sample_count = 10)]
    fn producer_state_after_restart(bencher: Bencher, snapshots: &str) {
        use kite_shared::log::local_log::OpenCheckpoints;
        use kite_shared::log::storage::MemoryPartitionStore;
        let mut files = idempotent_log_files();
        let mut names: Vec<String> = files.keys().filter(|n| n.ends_with(".snapshot")).cloned().collect();
        names.sort();
        let doomed: Vec<String> = match snapshots {
            "close" => Vec::new(),
            "rolls" => names.pop().into_iter().collect(),
            _ => names,
        };
        files.retain(|name, _| !doomed.contains(name));
        let checkpoints = OpenCheckpoints { clean_shutdown: true, ..Default::default() };
        bencher
            .counter(ItemsCount::new(IDEMPOTENT_BATCHES))
            .with_inputs(|| {
                let store = MemoryPartitionStore::with_files("p", files.clone(), None);
                LocalLog::open(config(), Box::new(store), checkpoints).unwrap().0
            })
            .bench_local_refs(|log| {
                let state = log.producer_state().unwrap();
                assert_eq!(state.producer_count(), PRODUCERS as usize);
                black_box(state)
            });
    }
}
