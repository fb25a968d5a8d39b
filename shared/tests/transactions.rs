//! Transactions across a restart: the coordinator's state comes back from `__transaction_state`,
//! each partition's open transactions and aborted ones from its own log (the last stable offset
//! held where it was), and offsets sent in a transaction not yet decided from
//! `__consumer_offsets` — committed with the transaction when it commits after the restart.

#![cfg(not(target_arch = "wasm32"))]

use kite_shared::api::{Command, IsolationLevel, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::group::offsets_topic::OffsetCommitValue;
use kite_shared::ids::TopicPartition;
use kite_shared::log::producer_state::AbortedTxn;
use kite_shared::log::storage::{BrokerStore, FileMap, Journal, MemoryBrokerStore, apply_ops};
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::txn::log::TxnState;

const T0: i64 = 1_700_000_000_000;
const TIMEOUT_MS: i32 = 60_000;

/// A three-broker cluster on `files`, its writes going to `journal`.
fn open(files: &FileMap, journal: &Journal) -> Cluster {
    let store = |dir: &str| -> Box<dyn BrokerStore> {
        Box::new(MemoryBrokerStore::journaled_under(dir, files, journal.clone()))
    };
    let brokers = (0..3).map(|id| store(&format!("broker-{id}"))).collect();
    Cluster::open_replicated(1, T0, store("controller"), brokers, StorageOptions::MEMORY).unwrap()
}

/// A transactional batch of `values` to orders-0.
fn produce(cluster: &mut Cluster, (producer_id, epoch): (i64, i16), sequence: i32, values: &[&str]) -> i64 {
    let records = (0..)
        .zip(values)
        .map(|(delta, v)| BatchRecord {
            offset_delta: delta,
            value: Some(v.as_bytes().to_vec()),
            ..Default::default()
        })
        .collect();
    let mut batch = RecordBatch::new(T0, records);
    (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (producer_id, epoch, sequence);
    batch.attributes.transactional = true;
    let command = Command::ProduceRecords {
        topic: "orders".into(),
        partition: Some(0),
        partitioner: Default::default(),
        acks: Default::default(),
        payload: batch.encode().unwrap(),
    };
    match cluster.handle(T0, command) {
        Reply::ProducedRecords { batches, .. } => batches[0].base_offset,
        other => panic!("{other:?}"),
    }
}

/// A read_committed fetch of orders-0: (last stable offset, aborted transactions).
fn committed_view(cluster: &mut Cluster) -> (i64, Vec<AbortedTxn>) {
    let fetch = Command::FetchRecords {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_bytes: None,
        isolation_level: IsolationLevel::ReadCommitted,
    };
    match cluster.handle(T0, fetch) {
        Reply::RecordBatches { last_stable_offset, aborted_transactions, .. } => {
            (last_stable_offset, aborted_transactions)
        }
        other => panic!("{other:?}"),
    }
}

fn orders_0() -> TopicPartition {
    TopicPartition { topic: "orders".into(), partition: 0 }
}

#[test]
fn transactions_come_back_after_a_restart() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));

    // "aborter" aborts a transaction; "open" leaves one open with offsets sent for "billing".
    let aborter = cluster.init_transactional_producer(T0, "aborter", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "aborter", aborter, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, aborter, 0, &["lost"]), 0);
    cluster.end_txn(T0, "aborter", aborter, false).unwrap();
    let open_id = cluster.init_transactional_producer(T0, "open", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "open", open_id, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, open_id, 0, &["pending"]), 2);
    cluster.add_offsets_to_txn(T0, "open", open_id, "billing").unwrap();
    let offset =
        OffsetCommitValue { offset: 3, leader_epoch: -1, metadata: String::new(), commit_timestamp: T0 };
    cluster.txn_offset_commit(T0, "open", open_id, "billing", vec![(orders_0(), offset)]).unwrap();
    let before = committed_view(&mut cluster);
    assert_eq!(before, (2, vec![AbortedTxn { producer_id: aborter.0, first_offset: 0, last_offset: 1 }]));

    // A crash: only what was written comes back.
    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let mut cluster = open(&files, &journal);
    let states: Vec<(String, TxnState)> =
        cluster.transactions().into_iter().map(|t| (t.transactional_id, t.state)).collect();
    assert_eq!(states, [("aborter".into(), TxnState::CompleteAbort), ("open".into(), TxnState::Ongoing)]);
    assert_eq!(
        committed_view(&mut cluster),
        before,
        "the open transaction still holds the last stable offset"
    );
    assert!(cluster.committed_offsets("billing").is_empty(), "the transaction's offsets wait on it");

    // It commits after the restart: its records and its offsets become visible together.
    cluster.end_txn(T0, "open", open_id, true).unwrap();
    assert_eq!(committed_view(&mut cluster).0, 4, "the record and its COMMIT marker");
    let committed: Vec<i64> =
        cluster.committed_offsets("billing").into_iter().map(|(_, v)| v.offset).collect();
    assert_eq!(committed, [3]);
    // A new instance of "aborter" after the restart: the epoch goes on from where it was.
    let again = cluster.init_transactional_producer(T0, "aborter", TIMEOUT_MS, None).unwrap();
    assert_eq!(again, (aborter.0, aborter.1 + 1));
}
