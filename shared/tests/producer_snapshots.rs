//! Producer state snapshots (`<offset>.snapshot`) across a restart: written at each roll in
//! Kafka's format on every replica, and what a partition knows of a producer whose batches are
//! gone (deleted records) — without them, the restarted leader would take the producer for a new
//! one and let a gap in its sequences through.

#![cfg(not(target_arch = "wasm32"))]

use kite_shared::api::{Command, Reply};
use kite_shared::cluster::Cluster;
use kite_shared::log::producer_snapshot::decode;
use kite_shared::log::storage::{FileMap, Journal, apply_ops};
use kite_shared::record::batch::{BatchRecord, RecordBatch};

const T0: i64 = 1_700_000_000_000;

mod common;

/// A three-broker cluster on `files`, its writes going to `journal`.
fn open(files: &FileMap, journal: &Journal) -> Cluster {
    common::open_three_brokers(files, journal, T0)
}

/// An idempotent batch of one record from `producer` at `sequence` to orders-0: the error code
/// (0 when written) and the offset.
fn send(cluster: &mut Cluster, (producer_id, epoch): (i64, i16), sequence: i32) -> Result<i64, String> {
    let record = BatchRecord { value: Some(vec![b'v'; 40]), ..Default::default() };
    let mut batch = RecordBatch::new(T0, vec![record]);
    (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (producer_id, epoch, sequence);
    match common::produce_batch(cluster, ("orders", 0), &batch, T0) {
        Reply::ProducedRecords { batches, .. } => Ok(batches[0].base_offset),
        Reply::Error(e) => Err(e.error.name().to_string()),
        other => panic!("{other:?}"),
    }
}

fn producer(cluster: &mut Cluster) -> (i64, i16) {
    match cluster.handle(T0, Command::InitProducerId) {
        Reply::ProducerIdInitialized { producer_id, producer_epoch } => (producer_id, producer_epoch),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_snapshot_remembers_a_producer_whose_batches_are_gone() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    // A segment a batch: every append rolls, and every roll writes a snapshot.
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: [("segment.bytes".to_string(), "100".to_string())].into(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }), "created");
    let (p, q) = (producer(&mut cluster), producer(&mut cluster));
    assert_eq!((send(&mut cluster, p, 0), send(&mut cluster, p, 1)), (Ok(0), Ok(1)));
    assert_eq!((send(&mut cluster, q, 0), send(&mut cluster, q, 1)), (Ok(2), Ok(3)));
    // P's batches go: the log starts at 2.
    let delete = Command::DeleteRecords { topic: "orders".into(), partition: 0, offset: 2 };
    assert!(matches!(cluster.handle(T0, delete), Reply::RecordsDeleted { .. }), "deleted");

    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let snapshots = |files: &FileMap, broker: usize| -> Vec<String> {
        let dir = format!("broker-{broker}/orders-0");
        files.keys().filter(|(d, f)| *d == dir && f.ends_with(".snapshot")).map(|(_, f)| f.clone()).collect()
    };
    for broker in 0..3 {
        let names = snapshots(&files, broker);
        assert_eq!(
            names,
            ["00000000000000000002.snapshot", "00000000000000000003.snapshot"],
            "broker {broker}: the ones below the log start are gone"
        );
        let key = (format!("broker-{broker}/orders-0"), names[0].clone());
        let entries = decode(&files[&key]).expect("Kafka's snapshot format");
        let of_p = entries.iter().find(|e| e.producer_id == p.0).expect("P as of offset 2");
        assert_eq!((of_p.last_sequence, of_p.last_offset), (1, 1));
    }

    // After a restart the leader knows P from the snapshot: a gap in its sequences is refused,
    // and its next batch is taken.
    let mut cluster = open(&files, &journal);
    assert_eq!(send(&mut cluster, p, 5), Err("OUT_OF_ORDER_SEQUENCE_NUMBER".to_string()));
    assert_eq!(send(&mut cluster, p, 2), Ok(4));
}
