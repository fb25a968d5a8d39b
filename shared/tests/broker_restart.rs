//! A broker stopped and started again in a running cluster is a new process: it must be told the
//! topics' configs again, or its replicas keep Kafka's defaults (here `segment.bytes`: one segment
//! where the other replicas roll one per record).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, RETENTION_CHECK_INTERVAL_MS, StorageOptions};
use kite_shared::log::storage::{BrokerStore, FileMap, Journal, MemoryBrokerStore, apply_ops};

const T0: i64 = 1_700_000_000_000;
const RECORDS: usize = 30;

fn segments_of(files: &FileMap, broker: usize) -> usize {
    let dir = format!("broker-{broker}/tiny-0");
    files.keys().filter(|(d, file)| *d == dir && file.ends_with(".log")).count()
}

#[test]
fn a_restarted_broker_takes_the_topics_configs_back() {
    let journal = Journal::default();
    let store = |dir: &str| -> Box<dyn BrokerStore> {
        Box::new(MemoryBrokerStore::journaled_under(dir, &FileMap::new(), journal.clone()))
    };
    let brokers = (0..3).map(|id| store(&format!("broker-{id}"))).collect();
    let mut cluster = Cluster::open_replicated(
        1,
        T0,
        store("controller"),
        common::controller_stores(&store),
        brokers,
        StorageOptions::MEMORY,
    )
    .unwrap();
    cluster.allow_faults = true;
    let configs = BTreeMap::from([("segment.bytes".to_string(), "100".to_string())]);
    let create =
        Command::CreateTopic { name: "tiny".into(), partitions: 1, configs, replication_factor: Some(3) };
    let Reply::TopicCreated { topic, .. } = cluster.handle(T0, create) else { panic!("not created") };
    let leader = topic.partitions[0].leader.unwrap();
    let follower = (leader + 1) % 3;
    for fault in [Command::StopBroker { broker: follower }, Command::StartBroker { broker: follower }] {
        let reply = cluster.handle(T0, fault);
        assert!(matches!(reply, Reply::ClusterDescribed { .. }), "{reply:?}");
    }
    for n in 0..RECORDS {
        let value = format!("record {n} {}", "x".repeat(60));
        let produce = Command::produce_text("tiny", Some(0), None, &value);
        let reply = cluster.handle(T0, produce);
        assert!(matches!(reply, Reply::Produced { .. }), "{reply:?}");
    }
    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let segments: Vec<usize> = (0..3).map(|broker| segments_of(&files, broker)).collect();
    for (broker, &count) in segments.iter().enumerate() {
        assert!(
            count >= RECORDS - 1,
            "broker {broker} rolled {count} segments: {segments:?} (restarted: {follower})"
        );
    }
}

/// A follower stopped while retention deleted the leader's oldest segments comes back with a log
/// that ends before the leader's log start: what it lacks is gone from the leader. As Kafka's
/// follower does (`truncateFullyAndStartAt`), it starts over, empty, at the leader's log start,
/// catches up from there and rejoins the ISR; before, it fetched below the leader's log start
/// forever and stayed out of the ISR.
#[test]
fn a_follower_behind_the_leaders_log_start_starts_over_there() {
    let mut cluster = Cluster::replicated_in_memory(1, 3, T0);
    cluster.allow_faults = true;
    let configs = BTreeMap::from([
        ("segment.bytes".to_string(), "100".to_string()),
        ("retention.bytes".to_string(), "400".to_string()),
    ]);
    let create =
        Command::CreateTopic { name: "tiny".into(), partitions: 1, configs, replication_factor: Some(3) };
    let Reply::TopicCreated { topic, .. } = cluster.handle(T0, create) else { panic!("not created") };
    let leader = topic.partitions[0].leader.unwrap();
    let follower = (leader + 1) % 3;
    let stopped = cluster.handle(T0, Command::StopBroker { broker: follower });
    assert!(matches!(stopped, Reply::ClusterDescribed { .. }), "{stopped:?}");
    let produce = |cluster: &mut Cluster, now: i64, n: usize| {
        let value = format!("record {n} {}", "x".repeat(60));
        let reply = cluster.handle(now, Command::produce_text("tiny", Some(0), None, &value));
        assert!(matches!(reply, Reply::Produced { .. }), "{reply:?}");
    };
    for n in 0..RECORDS {
        produce(&mut cluster, T0, n);
    }
    // Retention runs on the brokers that are up: the leader's log start passes the follower's end.
    cluster.tick(T0 + 1_000);
    let later = T0 + RETENTION_CHECK_INTERVAL_MS + 2_000;
    cluster.tick(later);
    let earliest = Command::ListOffsets { topic: "tiny".into(), partition: 0, timestamp_ms: -2 };
    let Reply::Offsets { offset: Some(log_start), .. } = cluster.handle(later, earliest) else {
        panic!("no log start")
    };
    assert!(log_start > 0, "retention deleted nothing");
    let started = cluster.handle(later, Command::StartBroker { broker: follower });
    assert!(matches!(started, Reply::ClusterDescribed { .. }), "{started:?}");
    for second in 1..=30 {
        cluster.tick(later + second * 1_000);
    }
    produce(&mut cluster, later + 31_000, RECORDS);
    let Reply::Topics { topics } = cluster.handle(later + 32_000, Command::ListTopics) else { panic!() };
    let isr = &topics.iter().find(|t| t.name == "tiny").unwrap().partitions[0].isr;
    assert!(isr.contains(&follower), "broker {follower} is back in the ISR {isr:?} (log start {log_start})");
}

/// Partitions added to a topic survive a restart of the whole cluster: the controller's metadata
/// log and the front's topics file both say the new count, and every broker reopens the new
/// partitions' logs with what was written to them.
#[test]
fn added_partitions_come_back_after_a_restart() {
    let journal = Journal::default();
    let open = |files: &FileMap| {
        let store = |dir: &str| -> Box<dyn BrokerStore> {
            Box::new(MemoryBrokerStore::journaled_under(dir, files, journal.clone()))
        };
        let brokers = (0..3).map(|id| store(&format!("broker-{id}"))).collect();
        Cluster::open_replicated(
            1,
            T0,
            store("controller"),
            common::controller_stores(&store),
            brokers,
            StorageOptions::MEMORY,
        )
        .unwrap()
    };
    let mut cluster = open(&FileMap::new());
    let create = Command::CreateTopic {
        name: "grows".into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));
    let grow = Command::CreatePartitions { topic: "grows".into(), count: 3 };
    assert!(matches!(cluster.handle(T0, grow), Reply::PartitionsCreated { .. }));
    let produce = Command::produce_text("grows", Some(2), None, "in the new partition");
    assert!(matches!(cluster.handle(T0, produce), Reply::Produced { offset: 0, .. }));
    cluster.shutdown().unwrap();
    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));

    let mut cluster = open(&files);
    let Reply::Topics { topics } = cluster.handle(T0 + 1_000, Command::ListTopics) else {
        panic!("no topics")
    };
    let partitions: Vec<(i32, usize, i64)> =
        topics[0].partitions.iter().map(|p| (p.partition, p.replicas.len(), p.log_end_offset)).collect();
    assert_eq!(partitions, [(0, 3, 0), (1, 3, 0), (2, 3, 1)]);
}

/// A broker started after an unclean stop opens its logs only as it learns its partitions; one
/// stopped cleanly before that has not recovered them, so it writes no clean-shutdown marker: the
/// next start recovers them. With the marker, bytes a process kill left in the page cache only
/// were taken as flushed, and a power cut after that left a gap in a "flushed" log, its broker's
/// log directory offline for good (host simulator, seed 2592 on three brokers).
#[test]
fn a_broker_stopped_before_it_recovered_its_logs_writes_no_clean_shutdown_marker() {
    use kite_shared::log::checkpoint::CLEAN_SHUTDOWN_FILE;
    use kite_shared::log::power_cut::PowerCutDisk;
    use kite_shared::replication::broker::{Broker, BrokerConfig};

    let disk = PowerCutDisk::default();
    let mut partition = disk.store("broker-0").partition("orders-0").unwrap();
    partition.write_file("00000000000000000000.log", b"").unwrap();
    let marker = || disk.store("broker-0").read_file(CLEAN_SHUTDOWN_FILE).unwrap();
    let open = || Broker::open(0, 1, BrokerConfig::default(), Box::new(disk.store("broker-0"))).unwrap();

    // No marker: the last stop was unclean. Stopped again before orders-0 was opened: still none.
    open().shutdown().expect("a clean stop");
    assert_eq!(marker(), None, "orders-0 was never recovered");
    // With every log recovered (none here once the partition is gone), the stop is clean.
    disk.store("broker-0").remove_partition("orders-0").unwrap();
    open().shutdown().expect("a clean stop");
    assert!(marker().is_some(), "nothing left unrecovered");
}
