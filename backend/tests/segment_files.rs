//! A topic with a tiny `segment.bytes` rolls a segment per record: thousands of segment files,
//! of which the process keeps at most `MAX_OPEN_SEGMENT_FILES` open (it used to keep one
//! descriptor per segment, until the process ran out and a roll took the partition offline).
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kite_backend::disk::DiskBrokerStore;
use kite_backend::segment_files::{MAX_OPEN_SEGMENT_FILES, open_now};
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::serializer::SerializerKind;

/// Segments the test rolls: well past the pool.
const SEGMENTS: usize = 3 * MAX_OPEN_SEGMENT_FILES;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|entries| entries.count()).unwrap_or(0)
}

#[test]
fn a_segment_per_record_keeps_a_bounded_number_of_files_open() {
    let data_dir: PathBuf =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("segment-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let before = open_descriptors();
    let store = DiskBrokerStore::open(&data_dir, 0).unwrap();
    let options = StorageOptions { flush_every_append: false, max_partition_bytes: usize::MAX };
    let (mut cluster, _) = Cluster::open(1, Box::new(store), options).unwrap();
    let configs = BTreeMap::from([("segment.bytes".to_string(), "14".to_string())]);
    let create =
        Command::CreateTopic { name: "tiny".into(), partitions: 1, configs, replication_factor: None };
    assert!(matches!(cluster.handle(0, create), Reply::TopicCreated { .. }));
    for n in 0..SEGMENTS {
        let produce = Command::produce_text("tiny", Some(0), None, &format!("record {n}"));
        let reply = cluster.handle(0, produce);
        assert!(matches!(reply, Reply::Produced { .. }), "record {n}: {reply:?}");
    }
    let segments = std::fs::read_dir(data_dir.join("broker-0/tiny-0"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".log"))
        .count();
    assert!(segments >= SEGMENTS, "a segment per record: {segments}");
    assert!(open_now() <= MAX_OPEN_SEGMENT_FILES, "{} segment files open", open_now());
    let held = open_descriptors().saturating_sub(before);
    assert!(held <= MAX_OPEN_SEGMENT_FILES + 16, "{held} descriptors held for {segments} segments");

    // Every record reads back, the closed segments opened again as they are read.
    let fetch = Command::Fetch {
        topic: "tiny".into(),
        partition: 0,
        offset: 0,
        max_records: 10_000,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
        isolation_level: Default::default(),
    };
    let Reply::Records { records, .. } = cluster.handle(0, fetch) else { panic!("no records") };
    assert_eq!(records.len(), SEGMENTS);
    assert_eq!(records.last().and_then(|r| r.value.clone()), Some(format!("record {}", SEGMENTS - 1)));
    drop(cluster);
    std::fs::remove_dir_all(&data_dir).unwrap();
}
