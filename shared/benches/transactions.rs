//! Transactions' cost: 100,000 records of 100 B produced as Kafka record batches of up to 1,000
//! (`produce_records`, acks=all) to an in-process 3-broker cluster (RF 3, min.insync.replicas 2)
//! by an idempotent producer — the baseline — and by a transactional one in transactions of 100
//! and of 10,000 records (each transaction: AddPartitionsToTxn, its batches, EndTxn with its
//! decision written to `__transaction_state` and a COMMIT marker), and in transactions of 100 that
//! abort (an ABORT marker and a `.txnindex` entry on every replica). Issue 22's target: at 10,000
//! records per transaction, at least 80 % of the idempotent rate. `cargo xtask bench` runs it.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

/// Benchmarks are native; on wasm32 (checked by clippy) this target is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod benches {
    use std::collections::BTreeMap;

    use divan::Bencher;
    use divan::counter::ItemsCount;
    use kite_shared::api::{Command, Reply};
    use kite_shared::cluster::Cluster;
    use kite_shared::ids::TopicPartition;
    use kite_shared::record::batch::{BatchRecord, RecordBatch};

    const RECORDS: usize = 100_000;
    const RECORDS_PER_BATCH: usize = 1_000;
    const VALUE_BYTES: usize = 100;
    const TOPIC: &str = "bench";
    const NOW_MS: i64 = 1_700_000_000_000;

    /// A 3-broker cluster with the topic (one partition, RF 3, min.insync.replicas 2).
    fn cluster() -> Cluster {
        let mut cluster = Cluster::replicated_in_memory(1, 3, NOW_MS);
        let configs = BTreeMap::from([("min.insync.replicas".to_string(), "2".to_string())]);
        let create =
            Command::CreateTopic { name: TOPIC.into(), partitions: 1, configs, replication_factor: Some(3) };
        assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
        cluster
    }

    /// One batch of `count` records from the producer, at its sequence.
    fn batch(producer: (i64, i16), sequence: i32, count: usize, transactional: bool) -> Vec<u8> {
        let value = vec![b'v'; VALUE_BYTES];
        let records = (0..count)
            .map(|i| BatchRecord {
                offset_delta: i as i32,
                value: Some(value.clone()),
                ..BatchRecord::default()
            })
            .collect();
        let mut batch = RecordBatch::new(NOW_MS, records);
        (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (producer.0, producer.1, sequence);
        batch.attributes.transactional = transactional;
        batch.encode().unwrap()
    }

    fn append(cluster: &mut Cluster, payload: Vec<u8>) {
        let command = Command::ProduceRecords {
            topic: TOPIC.into(),
            partition: Some(0),
            partitioner: Default::default(),
            acks: Default::default(),
            payload,
        };
        let reply = cluster.handle(NOW_MS, command);
        assert!(matches!(reply, Reply::ProducedRecords { .. }), "{reply:?}");
    }

    /// The batches of `RECORDS` records, `per_transaction` a transaction, each batch at its
    /// sequence (encoded before the clock starts, as a client's are before they are sent).
    fn batches(producer: (i64, i16), per_transaction: usize, transactional: bool) -> Vec<Vec<Vec<u8>>> {
        let mut sequence = 0;
        (0..RECORDS / per_transaction)
            .map(|_| {
                let mut left = per_transaction;
                let mut txn = Vec::new();
                while left > 0 {
                    let count = left.min(RECORDS_PER_BATCH);
                    txn.push(batch(producer, sequence, count, transactional));
                    sequence += count as i32;
                    left -= count;
                }
                txn
            })
            .collect()
    }

    #[divan::bench(sample_count = 10)]
    fn idempotent(bencher: Bencher) {
        bencher
            .counter(ItemsCount::new(RECORDS))
            .with_inputs(|| {
                let mut cluster = cluster();
                let Reply::ProducerIdInitialized { producer_id, producer_epoch } =
                    cluster.handle(NOW_MS, Command::InitProducerId)
                else {
                    panic!("no producer id")
                };
                let batches = batches((producer_id, producer_epoch), RECORDS_PER_BATCH, false);
                (cluster, batches)
            })
            .bench_local_values(|(mut cluster, batches)| {
                for payload in batches.into_iter().flatten() {
                    append(&mut cluster, payload);
                }
                cluster
            });
    }

    #[divan::bench(args = [100, 10_000], sample_count = 10)]
    fn transactional(bencher: Bencher, per_transaction: usize) {
        in_transactions(bencher, per_transaction, true);
    }

    /// Transactions of 100 that abort: each ABORT marker also adds an entry to the `.txnindex`
    /// of every replica's segment.
    #[divan::bench(sample_count = 10)]
    fn aborted(bencher: Bencher) {
        in_transactions(bencher, 100, false);
    }

    fn in_transactions(bencher: Bencher, per_transaction: usize, commit: bool) {
        bencher
            .counter(ItemsCount::new(RECORDS))
            .with_inputs(|| {
                let mut cluster = cluster();
                let producer = cluster.init_transactional_producer(NOW_MS, "bench-tx", 60_000, None).unwrap();
                let batches = batches(producer, per_transaction, true);
                (cluster, producer, batches)
            })
            .bench_local_values(|(mut cluster, producer, transactions)| {
                let tp = TopicPartition { topic: TOPIC.into(), partition: 0 };
                for transaction in transactions {
                    cluster
                        .add_partitions_to_txn(NOW_MS, "bench-tx", producer, std::slice::from_ref(&tp))
                        .unwrap();
                    for payload in transaction {
                        append(&mut cluster, payload);
                    }
                    cluster.end_txn(NOW_MS, "bench-tx", producer, commit).unwrap();
                }
                cluster
            });
    }
}
