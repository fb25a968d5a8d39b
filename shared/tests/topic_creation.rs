//! Creating a topic is all or nothing: when storage fails part-way (out of file descriptors at the
//! sixth partition, a metadata write refused), nothing of the topic stays behind — no partition
//! directory no topic names, no topic in the controller the front does not list — and the name
//! can be created again, whole. Paced (as `kite serve` creates a wide topic, a slice of replica
//! logs per turn), every replica is made in the end, even across a broker's restart, and none of a
//! topic deleted before the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::error::ErrorCode;
use kite_shared::limits::{MAX_PARTITIONS_PER_TOPIC, MAX_REPLICA_LOGS_CREATED_PER_TURN};
use kite_shared::log::storage::{BrokerStore, MemoryBrokerStore, PartitionStore, StorageError};

/// How the stores of one test fail, and which partition directories exist in them.
#[derive(Clone, Default)]
struct Faults {
    /// Partition directories that may still be opened before opening fails (EMFILE).
    partitions_left: Arc<AtomicUsize>,
    /// How many metadata writes (`write_file`) fail from now on.
    writes_failing: Arc<AtomicUsize>,
    /// Every store's partition directories that exist now.
    dirs: Arc<Mutex<BTreeSet<String>>>,
}

/// A memory store that fails as `faults` say.
struct FailingStore {
    inner: MemoryBrokerStore,
    name: String,
    faults: Faults,
}

impl BrokerStore for FailingStore {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn partition(&mut self, dir: &str) -> Result<Box<dyn PartitionStore>, StorageError> {
        let left = self.faults.partitions_left.load(Ordering::SeqCst);
        if left == 0 {
            return Err(StorageError::new("open", dir, "Too many open files (os error 24)"));
        }
        self.faults.partitions_left.store(left - 1, Ordering::SeqCst);
        self.faults.dirs.lock().unwrap().insert(format!("{}/{dir}", self.name));
        self.inner.partition(dir)
    }
    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_file(name)
    }
    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let failing = self.faults.writes_failing.load(Ordering::SeqCst);
        if failing > 0 {
            self.faults.writes_failing.store(failing - 1, Ordering::SeqCst);
            return Err(StorageError::new("write", name, "No space left on device (os error 28)"));
        }
        self.inner.write_file(name, bytes)
    }
    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        self.inner.delete_file(name)
    }
    fn remove_partition(&mut self, dir: &str) -> Result<(), StorageError> {
        self.faults.dirs.lock().unwrap().remove(&format!("{}/{dir}", self.name));
        self.inner.remove_partition(dir)
    }
    fn partition_dirs(&self) -> Result<Vec<String>, StorageError> {
        self.inner.partition_dirs()
    }
}

fn store(name: &str, faults: &Faults) -> Box<dyn BrokerStore> {
    Box::new(FailingStore {
        inner: MemoryBrokerStore::ephemeral(),
        name: name.into(),
        faults: faults.clone(),
    })
}

fn create(name: &str, partitions: i32) -> Command {
    Command::CreateTopic { name: name.into(), partitions, configs: BTreeMap::new(), replication_factor: None }
}

fn topics(cluster: &mut Cluster) -> Vec<String> {
    match cluster.handle(0, Command::ListTopics) {
        Reply::Topics { topics, .. } => topics.into_iter().map(|t| t.name).collect(),
        other => panic!("{other:?}"),
    }
}

fn dirs_of(faults: &Faults, topic: &str) -> usize {
    faults.dirs.lock().unwrap().iter().filter(|d| d.contains(&format!("/{topic}-"))).count()
}

/// How many of `topic`'s partitions have some of their three replicas made but not all.
fn partly_made(faults: &Faults, topic: &str) -> usize {
    let mut replicas = BTreeMap::<String, usize>::new();
    for dir in faults.dirs.lock().unwrap().iter().filter_map(|d| d.split_once('/')).map(|(_, dir)| dir) {
        if dir.strip_prefix(topic).is_some_and(|rest| rest.starts_with('-')) {
            *replicas.entry(dir.to_string()).or_default() += 1;
        }
    }
    replicas.values().filter(|&&made| made < 3).count()
}

#[test]
fn a_single_broker_leaves_no_partition_of_a_topic_it_could_not_create() {
    let faults = Faults::default();
    faults.partitions_left.store(5, Ordering::SeqCst);
    let (mut cluster, _) = Cluster::open(1, store("broker-0", &faults), StorageOptions::MEMORY).unwrap();
    let Reply::Error(error) = cluster.handle(0, create("big", 10)) else { panic!("created") };
    assert_eq!(error.error, ErrorCode::KafkaStorageError, "{error:?}");
    assert!(error.message.contains("Too many open files"), "{error:?}");
    assert!(!topics(&mut cluster).contains(&"big".to_string()));
    assert_eq!(dirs_of(&faults, "big"), 0, "no directory of the failed topic is left");

    faults.partitions_left.store(usize::MAX, Ordering::SeqCst);
    assert!(matches!(cluster.handle(0, create("big", 10)), Reply::TopicCreated { .. }));
    assert_eq!(dirs_of(&faults, "big"), 10);
}

#[test]
fn replicated_brokers_leave_no_topic_in_the_controller_they_could_not_create() {
    let faults = Faults::default();
    faults.partitions_left.store(usize::MAX, Ordering::SeqCst);
    let brokers = (0..3).map(|id| store(&format!("broker-{id}"), &faults)).collect();
    let mut cluster = Cluster::open_replicated(
        1,
        0,
        store("controller", &faults),
        controllers(),
        brokers,
        StorageOptions::MEMORY,
    )
    .unwrap();
    // The metadata write of the creation fails (once: the undoing's own write goes through).
    faults.writes_failing.store(1, Ordering::SeqCst);
    let Reply::Error(error) = cluster.handle(0, create("big", 6)) else { panic!("created") };
    assert_eq!(error.error, ErrorCode::KafkaStorageError, "{error:?}");
    assert!(!topics(&mut cluster).contains(&"big".to_string()));
    assert_eq!(dirs_of(&faults, "big"), 0, "no replica of the failed topic is left");

    // The name is free again: created whole, with exactly its partitions (one replica each, by
    // Kafka's default.replication.factor), each led, and none of the six the failed attempt made.
    let created = cluster.handle(0, create("big", 4));
    let Reply::TopicCreated { topic, .. } = &created else { panic!("{created:?}") };
    assert_eq!(topic.partitions.len(), 4, "{created:?}");
    assert!(topic.partitions.iter().all(|p| p.leader.is_some()), "{created:?}");
    assert_eq!(dirs_of(&faults, "big"), 4);
}

/// The front's own topics file is the last write of a creation: when it fails, the topic is not
/// listed, and the brokers' partitions go too.
#[test]
fn a_topic_whose_listing_could_not_be_stored_is_not_listed() {
    let faults = Faults::default();
    faults.partitions_left.store(usize::MAX, Ordering::SeqCst);
    let (mut cluster, _) = Cluster::open(1, store("broker-0", &faults), StorageOptions::MEMORY).unwrap();
    faults.writes_failing.store(1, Ordering::SeqCst);
    let Reply::Error(error) = cluster.handle(0, create("big", 3)) else { panic!("created") };
    assert_eq!(error.error, ErrorCode::KafkaStorageError, "{error:?}");
    assert!(!topics(&mut cluster).contains(&"big".to_string()));
    assert_eq!(dirs_of(&faults, "big"), 0);
    assert!(matches!(cluster.handle(0, create("big", 3)), Reply::TopicCreated { .. }));
}

/// A replicated cluster of three brokers over `faults`' stores, pacing creations as `kite serve`
/// does.
fn paced_cluster(faults: &Faults) -> Cluster {
    faults.partitions_left.store(usize::MAX, Ordering::SeqCst);
    let brokers = (0..3).map(|id| store(&format!("broker-{id}"), faults)).collect();
    let mut cluster = Cluster::open_replicated(
        1,
        0,
        store("controller", faults),
        controllers(),
        brokers,
        StorageOptions::MEMORY,
    )
    .unwrap();
    cluster.pace_creations(MAX_REPLICA_LOGS_CREATED_PER_TURN);
    cluster
}

fn create_wide(cluster: &mut Cluster) {
    let command = Command::CreateTopic {
        name: "wide".into(),
        partitions: MAX_PARTITIONS_PER_TOPIC,
        configs: BTreeMap::new(),
        replication_factor: Some(3),
    };
    let created = cluster.handle(0, command);
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
}

/// A host that paces creations (`kite serve`) creates a 1,000-partition topic's 3,000 replica
/// logs a slice per turn: the creation is answered, as Kafka's CreateTopics is, once the
/// controller has the topic, with the first slice made; each `resume` makes the next slice (the
/// host answers other clients between them); a partition not created yet refuses records as a
/// leaderless one does, and takes them once its slice is made.
#[test]
fn a_paced_creation_makes_a_wide_topics_replica_logs_a_slice_per_turn() {
    let faults = Faults::default();
    let mut cluster = paced_cluster(&faults);
    create_wide(&mut cluster);
    let replicas = 3 * MAX_PARTITIONS_PER_TOPIC as usize;
    assert_eq!(dirs_of(&faults, "wide"), MAX_REPLICA_LOGS_CREATED_PER_TURN);
    assert!(cluster.has_deferred_work());
    let last = MAX_PARTITIONS_PER_TOPIC - 1;
    let early = cluster.handle(0, Command::produce_text("wide", Some(last), None, "early"));
    let Reply::Error(refused) = &early else { panic!("{early:?}") };
    assert_eq!(refused.error, ErrorCode::NotLeaderOrFollower, "{refused:?}");

    // Other clients' turns come between the slices, the clock moving on while the brokers keep
    // fetching the metadata log: they make no replica.
    let (mut turns, mut now) = (1, 0);
    loop {
        now += 1_500;
        let described = cluster.handle(now, Command::DescribeCluster);
        assert!(matches!(described, Reply::ClusterDescribed { .. }), "{described:?}");
        assert_eq!(dirs_of(&faults, "wide"), turns * MAX_REPLICA_LOGS_CREATED_PER_TURN, "turn {turns}");
        if !cluster.resume(now) {
            break;
        }
        turns += 1;
        assert_eq!(dirs_of(&faults, "wide"), turns * MAX_REPLICA_LOGS_CREATED_PER_TURN, "turn {turns}");
        // Slices go partition by partition across the brokers: once the others have made what
        // the first slice gave one broker alone, a partition's replicas are made together, and
        // its leader does not wait for followers made slices later.
        if turns >= 3 {
            assert!(partly_made(&faults, "wide") <= 2, "turn {turns}: {}", partly_made(&faults, "wide"));
        }
    }
    assert_eq!(turns + 1, replicas.div_ceil(MAX_REPLICA_LOGS_CREATED_PER_TURN), "turns in all");
    assert_eq!(dirs_of(&faults, "wide"), replicas);
    assert!(!cluster.has_deferred_work() && !cluster.resume(now));
    let later = cluster.handle(now, Command::produce_text("wide", Some(last), None, "later"));
    assert!(matches!(later, Reply::Produced { .. }), "{later:?}");
}

/// A topic deleted before its paced creation finished: the slices left make nothing, so no
/// directory of it stays on any broker.
#[test]
fn a_topic_deleted_before_its_paced_creation_finished_leaves_no_replica() {
    let faults = Faults::default();
    let mut cluster = paced_cluster(&faults);
    create_wide(&mut cluster);
    cluster.resume(0);
    let deleted = cluster.handle(0, Command::DeleteTopic { name: "wide".into() });
    assert!(matches!(deleted, Reply::TopicDeleted { .. }), "{deleted:?}");
    while cluster.resume(0) {}
    assert_eq!(dirs_of(&faults, "wide"), 0);
}

/// A broker restarted in the middle of a paced creation gets every replica it hosts: the slices
/// left are sent as the controller sees the partition then, to the broker's new incarnation.
#[test]
fn a_broker_restarted_during_a_paced_creation_gets_all_its_replicas() {
    let faults = Faults::default();
    let mut cluster = paced_cluster(&faults);
    cluster.allow_faults = true;
    create_wide(&mut cluster);
    for command in [Command::StopBroker { broker: 1 }, Command::StartBroker { broker: 1 }] {
        let reply = cluster.handle(0, command);
        assert!(!matches!(reply, Reply::Error(_)), "{reply:?}");
    }
    while cluster.resume(0) {}
    assert_eq!(dirs_of(&faults, "wide"), 3 * MAX_PARTITIONS_PER_TOPIC as usize);
}

/// The three KRaft controllers' directories, kept apart from the faults (what fails here is the
/// brokers' partition creation).
fn controllers() -> Vec<Box<dyn BrokerStore>> {
    (0..3).map(|_| Box::new(MemoryBrokerStore::ephemeral()) as Box<dyn BrokerStore>).collect()
}
