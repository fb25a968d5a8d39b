//! Deleting a topic survives a crash half-way: the metadata goes first, and a crash before the
//! partition directories are gone leaves directories no topic names. Opening sweeps them away (as
//! Kafka's log manager removes `-delete` and stray logs at startup), so a topic created again
//! under the same name starts empty instead of finding the old records.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use kite_shared::api::{Command, Reply, TopicDescription};
use kite_shared::cluster::layout::{self, Count, DEFAULT_QUORUM, LayoutStores};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::log::storage::{BrokerStore, FileMap, Journal, MemoryBrokerStore, StorageOp, apply_ops};

const T0: i64 = 1_700_000_000_000;
const RECORDS: usize = 12;

/// A host's stored files (as the tab keeps them in IndexedDB), and the journal of changes since.
#[derive(Default)]
struct Stored {
    files: FileMap,
    journal: Journal,
}

impl LayoutStores for Stored {
    fn holds(&self, dir: &str) -> bool {
        let nested = format!("{dir}/");
        self.files.keys().any(|(d, _)| d == dir || d.starts_with(&nested))
    }
    fn store(&mut self, dir: &str) -> Result<Box<dyn BrokerStore>, String> {
        Ok(Box::new(MemoryBrokerStore::journaled_under(dir, &self.files, self.journal.clone())))
    }
}

impl Stored {
    /// The files with every change so far applied.
    fn settled(&self) -> FileMap {
        let mut files = self.files.clone();
        apply_ops(&mut files, self.journal.lock().unwrap().clone());
        files
    }
}

fn open(files: FileMap, brokers: u32) -> (Cluster, Stored) {
    let mut stored = Stored { files, journal: Journal::default() };
    let (cluster, _, _) =
        layout::open(7, T0, &mut stored, Count::Exactly(brokers), DEFAULT_QUORUM, StorageOptions::MEMORY)
            .unwrap();
    (cluster, stored)
}

fn orders(cluster: &mut Cluster) -> Option<TopicDescription> {
    match cluster.handle(T0, Command::ListTopics) {
        Reply::Topics { topics } => topics.into_iter().find(|t| t.name == "orders"),
        other => panic!("{other:?}"),
    }
}

fn create_orders(cluster: &mut Cluster, brokers: u32) {
    let command = Command::CreateTopic {
        name: "orders".into(),
        partitions: 3,
        configs: BTreeMap::new(),
        replication_factor: Some(brokers as i16),
    };
    let reply = cluster.handle(T0, command);
    assert!(matches!(reply, Reply::TopicCreated { .. }), "{reply:?}");
}

/// One record to `orders`, acknowledged.
fn produce(cluster: &mut Cluster, partition: Option<i32>, key: Option<String>, value: &str) {
    let reply = cluster.handle(T0, Command::produce_text("orders", partition, key, value));
    assert!(matches!(reply, Reply::Produced { .. }), "{reply:?}");
}

/// Whether an op changes a broker's or the controller's own files (metadata, checkpoints), not a
/// partition directory's.
fn is_metadata(op: &StorageOp) -> bool {
    let dir = match op {
        StorageOp::Append { dir, .. } | StorageOp::Write { dir, .. } | StorageOp::Delete { dir, .. } => dir,
    };
    !dir.contains('/')
}

fn partition_dirs(files: &FileMap) -> Vec<String> {
    let mut dirs: Vec<String> =
        files.keys().filter(|(dir, _)| dir.contains("/orders-")).map(|(dir, _)| dir.clone()).collect();
    dirs.dedup();
    dirs
}

fn crash_between_metadata_and_directories(brokers: u32) {
    let (mut cluster, stored) = open(FileMap::new(), brokers);
    create_orders(&mut cluster, brokers);
    for n in 0..RECORDS {
        produce(&mut cluster, None, Some(format!("customer-{n}")), &format!("order {n}"));
    }
    let before = stored.settled();
    assert_eq!(partition_dirs(&before).len(), 3 * brokers as usize, "every replica has its directory");
    let first_id = orders(&mut cluster).unwrap().topic_id;
    assert_eq!(first_id.len(), 22, "Kafka's text form of a topic id: {first_id}");
    assert_eq!(ids_in_directories(&before), vec![first_id.clone(); 3 * brokers as usize]);

    // The deletion's metadata reaches storage; the crash comes before its directories go.
    stored.journal.lock().unwrap().clear();
    let reply = cluster.handle(T0, Command::DeleteTopic { name: "orders".into() });
    assert!(matches!(reply, Reply::TopicDeleted { .. }), "{reply:?}");
    let mut crashed = before;
    apply_ops(&mut crashed, stored.journal.lock().unwrap().drain(..).filter(is_metadata));
    assert!(!partition_dirs(&crashed).is_empty(), "the crash left the old directories");

    let (mut reopened, stored) = open(crashed, brokers);
    assert_eq!(orders(&mut reopened), None, "the deletion held");
    assert_eq!(
        partition_dirs(&stored.settled()),
        Vec::<String>::new(),
        "opening swept the stray directories"
    );
    create_orders(&mut reopened, brokers);
    let recreated = orders(&mut reopened).unwrap();
    let records: i64 = recreated.partitions.iter().map(|p| p.log_end_offset).sum();
    assert_eq!(records, 0, "the new topic found the old one's records: {recreated:?}");
    assert_ne!(recreated.topic_id, first_id, "another topic of the same name has another id");
    let files = stored.settled();
    assert_eq!(ids_in_directories(&files), vec![recreated.topic_id.clone(); 3 * brokers as usize]);

    // The id is the topic's for good: the same after a restart.
    drop(reopened);
    let (mut again, _) = open(files, brokers);
    assert_eq!(orders(&mut again).unwrap().topic_id, recreated.topic_id);
}

/// The topic id each replica's `partition.metadata` names.
fn ids_in_directories(files: &FileMap) -> Vec<String> {
    files
        .iter()
        .filter(|((dir, file), _)| dir.contains("/orders-") && file == "partition.metadata")
        .map(|(_, bytes)| {
            let text = String::from_utf8(bytes.clone()).unwrap();
            let id = text.strip_prefix("version: 0\ntopic_id: ").and_then(|rest| rest.strip_suffix('\n'));
            id.unwrap_or_else(|| panic!("not Kafka's partition.metadata: {text:?}")).to_string()
        })
        .collect()
}

#[test]
fn a_single_broker_sweeps_a_deleted_topics_directories_at_open() {
    crash_between_metadata_and_directories(1);
}

#[test]
fn replicated_brokers_sweep_a_deleted_topics_directories_at_open() {
    crash_between_metadata_and_directories(3);
}

/// A crash between the front's topics file and the controller's log (the deletion writes them in
/// that order): the controller still holds the topic the front no longer lists. The open deletes
/// it, directories and all, so the name is free and a new topic of it starts empty.
#[test]
fn a_topic_the_controller_holds_but_the_front_does_not_list_is_deleted_at_open() {
    let (mut cluster, stored) = open(FileMap::new(), 3);
    create_orders(&mut cluster, 3);
    produce(&mut cluster, Some(0), None, "old");
    let before = stored.settled();
    stored.journal.lock().unwrap().clear();
    assert!(matches!(
        cluster.handle(T0, Command::DeleteTopic { name: "orders".into() }),
        Reply::TopicDeleted { .. }
    ));
    let mut crashed = before;
    let topics_file_only =
        |op: &StorageOp| matches!(op, StorageOp::Write { file, .. } if file == "kite-topics.json");
    apply_ops(&mut crashed, stored.journal.lock().unwrap().drain(..).filter(topics_file_only));

    let (mut reopened, stored) = open(crashed, 3);
    assert_eq!(orders(&mut reopened), None);
    assert_eq!(partition_dirs(&stored.settled()), Vec::<String>::new(), "its replicas went");
    create_orders(&mut reopened, 3);
    let recreated = orders(&mut reopened).unwrap();
    assert_eq!(recreated.partitions.iter().map(|p| p.log_end_offset).sum::<i64>(), 0, "{recreated:?}");
}

/// A cluster stored before topic ids: its topics get ids at open, written to the topics file
/// before any log opens, and keep their records; the ids stay the same at the next start.
#[test]
fn topics_stored_before_ids_get_ids_and_keep_their_records() {
    let (mut cluster, stored) = open(FileMap::new(), 1);
    create_orders(&mut cluster, 1);
    produce(&mut cluster, Some(1), None, "kept");
    // As an older Kite left it: no ids in the topics file, no partition.metadata.
    let mut old = stored.settled();
    old.retain(|(_, file), _| file != "partition.metadata");
    for ((_, file), bytes) in old.iter_mut() {
        if file == "kite-topics.json" {
            let mut json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            json["topics"].as_array_mut().unwrap().iter_mut().for_each(|t| {
                t.as_object_mut().unwrap().remove("topic_id");
            });
            json.as_object_mut().unwrap().remove("topic_ids_drawn");
            *bytes = serde_json::to_vec(&json).unwrap();
        }
    }
    let (mut upgraded, stored) = open(old, 1);
    let described = orders(&mut upgraded).unwrap();
    assert_eq!(described.topic_id.len(), 22, "an id was given: {described:?}");
    assert_eq!(described.partitions[1].log_end_offset, 1, "the record is kept");
    let files = stored.settled();
    let topics_file =
        String::from_utf8(files[&("broker-0".to_string(), "kite-topics.json".to_string())].clone()).unwrap();
    assert!(topics_file.contains(&described.topic_id), "{topics_file}");
    let (mut again, _) = open(files, 1);
    let again = orders(&mut again).unwrap();
    assert_eq!((again.topic_id, again.partitions[1].log_end_offset), (described.topic_id, 1));
}
