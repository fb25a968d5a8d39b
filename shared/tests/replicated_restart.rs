//! Replicated brokers that keep their logs in a store (Kafka's log directory): after a clean
//! shutdown every broker reopens its partitions from its files without recovery; after a crash
//! (no shutdown) they recover from the files; and the whole cluster comes back with the
//! controller replaying its metadata log. Every acknowledged record is on every replica, and
//! producing continues at the next offset.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::config::Acks;
use kite_shared::log::storage::{FileMap, Journal, MemoryBrokerStore, apply_ops};
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::replication::broker::{Broker, BrokerConfig};
use kite_shared::replication::local::LocalCluster;
use kite_shared::replication::protocol::TopicPartition;

const T0: i64 = 1_700_000_000_000;
const BROKERS: usize = 3;
const RECORDS: usize = 60;

/// A broker over a journaled memory store, and the journal (its files, as a host would persist them).
fn broker(id: i32, incarnation: u64, files: FileMap) -> (Broker, Journal) {
    let journal = Journal::default();
    let store = MemoryBrokerStore::journaled(files, journal.clone());
    (Broker::open(id, incarnation, BrokerConfig::default(), Box::new(store)).unwrap(), journal)
}

fn files_of(before: &FileMap, journal: &Journal) -> FileMap {
    let mut files = before.clone();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    files
}

fn produce(cluster: &mut LocalCluster, partition: i32, value: &str) -> i64 {
    let record = BatchRecord { value: Some(value.as_bytes().to_vec()), ..BatchRecord::default() };
    let batch = RecordBatch::new(cluster.now_ms, vec![record]).encode().unwrap();
    let tp = TopicPartition { topic: "orders".into(), partition };
    cluster.produce(1, &tp, batch, Acks::All).unwrap()
}

/// Every replica's log of `orders-p`, as values, below its high watermark / log end.
fn values(cluster: &LocalCluster, broker: usize, partition: i32) -> Vec<String> {
    let tp = TopicPartition { topic: "orders".into(), partition };
    let Some(p) = cluster.brokers[broker].partitions.get(&tp) else { return Vec::new() };
    let mut out = Vec::new();
    let mut offset = p.log.log_start_offset();
    while offset < p.log.log_end_offset() {
        let bytes = p.log.read(offset, usize::MAX).unwrap();
        let mut rest = &bytes[..];
        while let Ok((batch, used)) = RecordBatch::decode(rest) {
            rest = &rest[used..];
            for r in batch.records {
                out.push(String::from_utf8(r.value.unwrap()).unwrap());
            }
            offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
        }
    }
    out
}

/// How the cluster comes back.
#[derive(Clone, Copy, PartialEq)]
enum Restart {
    /// Every broker stops cleanly and starts again; the controller stays up.
    CleanBrokers,
    /// Every broker crashes and starts again; the controller stays up.
    CrashedBrokers,
    /// Everything stops cleanly: the controller comes back from its metadata log (kept as JSON
    /// lines), the brokers from their files.
    Everything,
}

fn restart_all(how: Restart) {
    let clean = how != Restart::CrashedBrokers;
    let mut journals = Vec::new();
    let mut brokers = Vec::new();
    for id in 0..BROKERS as i32 {
        let (b, j) = broker(id, 1, FileMap::new());
        brokers.push(b);
        journals.push(j);
    }
    let mut cluster = LocalCluster::with_brokers(brokers, T0);
    cluster.create_topic("orders", 2, 3, 2).unwrap();
    let mut expected: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    for i in 0..RECORDS {
        let partition = (i % 2) as i32;
        let value = format!("v{i}");
        let offset = produce(&mut cluster, partition, &value);
        assert_eq!(offset as usize, expected[partition as usize].len());
        expected[partition as usize].push(value);
    }
    cluster.advance(1_000);
    // Stop every broker (cleanly or not) and start each again over its files.
    let mut files = Vec::new();
    for (id, journal) in journals.iter().enumerate() {
        if clean {
            cluster.brokers[id].shutdown().unwrap();
        }
        files.push(files_of(&FileMap::new(), journal));
    }
    let marker = files[0].contains_key(&(String::new(), ".kafka_cleanshutdown".to_string()));
    assert_eq!(marker, clean, "the clean-shutdown marker is written last, only on a clean stop");
    if how == Restart::Everything {
        let lines: Vec<String> =
            cluster.controller().metadata_log().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        let records = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let brokers = files.into_iter().zip(0..).map(|(files, id)| broker(id, 2, files).0).collect();
        let now = cluster.now_ms;
        cluster = LocalCluster::restarted(records, brokers, now);
    } else {
        for (id, files) in files.into_iter().enumerate() {
            let (restarted, _) = broker(id as i32, 2, files);
            cluster.replace_broker(restarted);
        }
    }
    cluster.advance(5_000);
    for broker in 0..BROKERS {
        for partition in 0..2 {
            assert_eq!(
                values(&cluster, broker, partition),
                expected[partition as usize],
                "broker-{broker} orders-{partition}"
            );
        }
    }
    // Producing goes on at the next offsets.
    assert_eq!(produce(&mut cluster, 0, "after") as usize, RECORDS / 2);
}

#[test]
fn brokers_reopen_their_logs_after_a_clean_shutdown() {
    restart_all(Restart::CleanBrokers);
}

#[test]
fn brokers_recover_their_logs_after_a_crash() {
    restart_all(Restart::CrashedBrokers);
}

#[test]
fn the_whole_cluster_restarts_from_its_metadata_log_and_files() {
    restart_all(Restart::Everything);
}
