//! Partition reassignment through the cluster front, on four brokers keeping their files: a
//! replica moves to a broker that held none, catching up before the one it replaces leaves (and
//! deletes its directory); a move to a broker that cannot catch up stays in progress, is listed,
//! and is cancelled back; and the outcome survives a restart.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use kite_shared::api::{
    Command, PartitionDescription, PartitionRef, Reassignment, ReassignmentTarget, Reply,
};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::config::ElectionType;
use kite_shared::error::ErrorCode;
use kite_shared::log::storage::{BrokerStore, FileMap, Journal, MemoryBrokerStore, apply_ops};

const T0: i64 = 1_700_000_000_000;
const BROKERS: i32 = 4;
const RECORDS: i64 = 40;
/// Long enough for a follower to fetch and join the ISR, and the controller to complete.
const SETTLE_MS: i64 = 3_000;

fn open(files: &FileMap, journal: &Journal) -> Cluster {
    let store = |dir: &str| -> Box<dyn BrokerStore> {
        Box::new(MemoryBrokerStore::journaled_under(dir, files, journal.clone()))
    };
    let brokers = (0..BROKERS).map(|id| store(&format!("broker-{id}"))).collect();
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
    cluster
}

fn partition(cluster: &mut Cluster, now_ms: i64) -> PartitionDescription {
    let Reply::Topics { topics } = cluster.handle(now_ms, Command::ListTopics) else { panic!("no topics") };
    topics.into_iter().find(|t| t.name == "moves").unwrap().partitions.remove(0)
}

fn reassign(cluster: &mut Cluster, now_ms: i64, replicas: Option<Vec<i32>>) -> Option<ErrorCode> {
    let target = ReassignmentTarget { topic: "moves".into(), partition: 0, replicas };
    let command = Command::AlterPartitionReassignments { partitions: vec![target] };
    let Reply::ReassignmentsAltered { results } = cluster.handle(now_ms, command) else {
        panic!("no answer")
    };
    results[0].error.as_ref().map(|e| e.error)
}

fn in_progress(cluster: &mut Cluster, now_ms: i64) -> Vec<Reassignment> {
    let Reply::Reassignments { reassignments } = cluster.handle(now_ms, Command::ListPartitionReassignments)
    else {
        panic!("no list")
    };
    reassignments
}

fn has_directory(files: &FileMap, broker: i32) -> bool {
    let dir = format!("broker-{broker}/moves-0");
    files.keys().any(|(d, _)| *d == dir)
}

/// Creates `moves`: one partition, three replicas.
fn create_moves(cluster: &mut Cluster) {
    let create = Command::CreateTopic {
        name: "moves".into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));
}

#[test]
fn a_replica_moves_to_a_new_broker_after_catching_up() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    create_moves(&mut cluster);
    for n in 0..RECORDS {
        let produce = Command::produce_text("moves", Some(0), None, &format!("record {n}"));
        assert!(matches!(cluster.handle(T0, produce), Reply::Produced { .. }));
    }
    let before = partition(&mut cluster, T0);
    let newcomer = (0..BROKERS).find(|b| !before.replicas.contains(b)).unwrap();
    let leaving = before.leader.unwrap();
    // The leader's replica moves to the broker that has none; the newcomer becomes preferred.
    let mut target: Vec<i32> = before.replicas.iter().copied().filter(|&r| r != leaving).collect();
    target.insert(0, newcomer);

    // A newcomer that cannot fetch: the move stays in progress, listed, and is cancelled back.
    assert!(matches!(
        cluster.handle(T0, Command::PauseBroker { broker: newcomer }),
        Reply::ClusterDescribed { .. }
    ));
    assert_eq!(reassign(&mut cluster, T0, Some(target.clone())), None);
    let listed = in_progress(&mut cluster, T0 + 100);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].adding.clone(), listed[0].removing.clone()), (vec![newcomer], vec![leaving]));
    let during = partition(&mut cluster, T0 + 100);
    assert!(!during.isr.contains(&newcomer) && during.replicas.len() == 4, "{during:?}");
    assert_eq!(reassign(&mut cluster, T0 + 200, None), None, "cancelled");
    // Kafka's revert keeps the replicas' order less the added ones: the target's first.
    let mut reverted = partition(&mut cluster, T0 + 200).replicas;
    reverted.sort_unstable();
    assert_eq!(
        reverted,
        before
            .replicas
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(reassign(&mut cluster, T0 + 200, None), Some(ErrorCode::NoReassignmentInProgress));
    assert!(matches!(
        cluster.handle(T0 + 300, Command::ResumeBroker { broker: newcomer }),
        Reply::ClusterDescribed { .. }
    ));

    // Refusals name what is wrong.
    assert_eq!(
        reassign(&mut cluster, T0 + 300, Some(vec![0, 0, 1])),
        Some(ErrorCode::InvalidReplicaAssignment)
    );
    assert_eq!(reassign(&mut cluster, T0 + 300, Some(vec![0, 9])), Some(ErrorCode::InvalidReplicaAssignment));

    // Now it can fetch: it catches up, joins the ISR, and the old leader's replica leaves.
    assert_eq!(reassign(&mut cluster, T0 + 300, Some(target.clone())), None);
    let after = partition(&mut cluster, T0 + 300 + SETTLE_MS);
    assert!(in_progress(&mut cluster, T0 + 300 + SETTLE_MS).is_empty());
    assert_eq!(after.replicas, target);
    assert_eq!(after.isr.len(), 3, "{after:?}");
    assert_ne!(after.leader, Some(leaving));
    let newcomer_end = after.replica_log_end_offsets.iter().find(|r| r.broker == newcomer).unwrap();
    assert_eq!(newcomer_end.log_end_offset, RECORDS, "the newcomer holds every record");
    assert_eq!(after.log_end_offset, RECORDS);

    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    assert!(has_directory(&files, newcomer));
    assert!(!has_directory(&files, leaving), "the replaced replica's directory is deleted");

    // After a restart: the same replicas, every record readable.
    cluster.shutdown().unwrap();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let mut cluster = open(&files, &journal);
    let restarted = partition(&mut cluster, T0 + 10_000);
    assert_eq!((restarted.replicas, restarted.log_end_offset), (target, RECORDS));
}

fn elect(cluster: &mut Cluster, now_ms: i64, election: ElectionType) -> Option<ErrorCode> {
    let partitions = Some(vec![PartitionRef { topic: "moves".into(), partition: 0 }]);
    let Reply::LeadersElected { results } =
        cluster.handle(now_ms, Command::ElectLeaders { election, partitions })
    else {
        panic!("no answer")
    };
    results[0].error.as_ref().map(|e| e.error)
}

/// kafka-leader-election: after a move that changed the preferred replica, a preferred election
/// hands it the leadership; asked again there is nothing to do, and so for an unclean election
/// while a leader is up. With the only replica fenced, an unclean election finds no one alive.
#[test]
fn a_preferred_election_follows_a_reordering_and_an_unclean_one_needs_someone_alive() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    create_moves(&mut cluster);
    let before = partition(&mut cluster, T0);
    let mut reordered = before.replicas.clone();
    reordered.rotate_left(1);
    assert_eq!(reassign(&mut cluster, T0, Some(reordered.clone())), None);
    let after = partition(&mut cluster, T0);
    assert_eq!(
        (after.replicas, after.leader),
        (reordered.clone(), before.leader),
        "a new order, same leader"
    );
    assert_eq!(elect(&mut cluster, T0, ElectionType::Preferred), None);
    assert_eq!(partition(&mut cluster, T0).leader, Some(reordered[0]));
    assert_eq!(elect(&mut cluster, T0, ElectionType::Preferred), Some(ErrorCode::ElectionNotNeeded));
    assert_eq!(elect(&mut cluster, T0, ElectionType::Unclean), Some(ErrorCode::ElectionNotNeeded));

    let single = Command::CreateTopic {
        name: "alone".into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: Some(1),
    };
    let Reply::TopicCreated { topic, .. } = cluster.handle(T0, single) else { panic!("not created") };
    let only = topic.partitions[0].replicas[0];
    assert!(matches!(
        cluster.handle(T0, Command::PauseBroker { broker: only }),
        Reply::ClusterDescribed { .. }
    ));
    let partitions = Some(vec![PartitionRef { topic: "alone".into(), partition: 0 }]);
    let unclean = Command::ElectLeaders { election: ElectionType::Unclean, partitions };
    let Reply::LeadersElected { results } = cluster.handle(T0 + 20_000, unclean) else { panic!("no answer") };
    assert_eq!(results[0].error.as_ref().map(|e| e.error), Some(ErrorCode::EligibleLeadersNotAvailable));
}

/// How long a move of `moves-0` (holding `RECORDS` records of `value_bytes` each) takes to finish
/// from `T0`, throttled (as `kite partitions reassign --execute --throttle` does it) at `rate`
/// bytes/s or not at all, with followers fetching at most `fetch_max_bytes` of a partition at a
/// time; and whether any replica left the ISR meanwhile.
fn throttled_move(rate: Option<u64>, value_bytes: usize, fetch_max_bytes: usize) -> (i64, bool) {
    let mut cluster = open(&FileMap::new(), &Journal::default());
    let fetch_max = format!("replica.fetch.max.bytes={fetch_max_bytes}");
    let fetch_max = kite_shared::config::BrokerConfigs::from_overrides([fetch_max.as_str()]);
    cluster.set_broker_configs(fetch_max.unwrap());
    create_moves(&mut cluster);
    let value = "v".repeat(value_bytes);
    for _ in 0..RECORDS {
        let produce = Command::produce_text("moves", Some(0), None, &value);
        assert!(matches!(cluster.handle(T0, produce), Reply::Produced { .. }));
    }
    let before = partition(&mut cluster, T0);
    let newcomer = (0..BROKERS).find(|b| !before.replicas.contains(b)).unwrap();
    let mut target = before.replicas.clone();
    target[2] = newcomer;
    if let Some(rate) = rate {
        for broker in 0..BROKERS {
            let set = ["leader.replication.throttled.rate", "follower.replication.throttled.rate"]
                .map(|name| (name.to_string(), rate.to_string()));
            let command =
                Command::AlterBrokerConfig { broker: Some(broker), set: set.into(), delete: Vec::new() };
            let altered = cluster.handle(T0, command);
            assert!(matches!(altered, Reply::BrokerConfigAltered { .. }), "{altered:?}");
        }
        let leaders = before.replicas.iter().map(|b| format!("0:{b}")).collect::<Vec<_>>().join(",");
        let set = BTreeMap::from([
            ("leader.replication.throttled.replicas".to_string(), leaders),
            ("follower.replication.throttled.replicas".to_string(), format!("0:{newcomer}")),
        ]);
        let command = Command::AlterTopicConfig { name: "moves".into(), set, delete: Vec::new() };
        assert!(matches!(cluster.handle(T0, command), Reply::TopicConfigAltered { .. }));
    }
    assert_eq!(reassign(&mut cluster, T0, Some(target.clone())), None);
    let mut now = T0;
    let mut isr_shrank = false;
    while !in_progress(&mut cluster, now).is_empty() {
        now += 100;
        assert!(now - T0 < 600_000, "the move never finished");
        let during = partition(&mut cluster, now);
        isr_shrank |= before.replicas.iter().filter(|b| target.contains(b)).any(|b| !during.isr.contains(b));
    }
    assert_eq!(partition(&mut cluster, now).replicas, target);
    (now - T0, isr_shrank)
}

/// KIP-73's throttle: a move of 400 KB unthrottled is done at once; throttled at 10 KB/s the added
/// replica fetches what the quota lets through (a first burst of ten windows' worth, which the
/// measure then counts over those ten seconds, then the rate), so the move takes the 40 s that
/// 400 KB at 10 KB/s takes, and the in-sync replicas are never held back (none leaves the ISR).
#[test]
fn a_throttled_move_catches_up_at_the_throttled_rate() {
    let (unthrottled, shrank) = throttled_move(None, 10_000, 4096);
    assert!(unthrottled <= 1_000 && !shrank, "unthrottled: {unthrottled} ms");
    // replica.fetch.max.bytes=0 still fetches a batch at a time, as Kafka's does.
    let (smallest, _) = throttled_move(None, 10_000, 0);
    assert!(smallest <= 1_000, "replica.fetch.max.bytes=0: {smallest} ms");
    let (throttled, shrank) = throttled_move(Some(10_000), 10_000, 4096);
    assert!((38_000..=42_000).contains(&throttled), "throttled: {throttled} ms");
    assert!(!shrank, "the throttle holds back only replicas outside the ISR");
}
