//! Helpers the integration tests share.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::record::batch::{BatchRecord, RecordBatch};

/// The files in `dir` whose extension is `extension`, in name order (fixtures, stories, scripts).
#[allow(dead_code)] // Not every test file that shares this module reads a fixture directory.
pub(crate) fn files_with_extension(dir: &std::path::Path, extension: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Every `*.story` in `tests/<dir>` (at least `min` of them), run by `run` into a trace and
/// failed expectations: each trace must equal the `.trace` beside its story (`UPDATE_EXPECT=1`
/// rewrites them), and no expectation may fail.
#[allow(dead_code)] // Not every test file that shares this module runs stories.
pub(crate) fn check_stories(dir: &str, min: usize, run: impl Fn(&str) -> (String, Vec<String>)) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(dir);
    let stories = files_with_extension(&dir, "story");
    assert!(stories.len() >= min, "{} stories in {}", stories.len(), dir.display());
    let mut failures = Vec::new();
    for story in stories {
        let (trace, failed) = run(&std::fs::read_to_string(&story).expect("a readable story"));
        expect_test::expect_file![story.with_extension("trace")].assert_eq(&trace);
        failures.extend(failed.into_iter().map(|f| format!("{}: {f}", story.display())));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A producer's batch (offsets from 0, unstamped) of `count` records with keys `k0`, `k1`, … and
/// `value_bytes`-byte values, record i stamped `timestamp + i`.
#[allow(dead_code)] // Not every test file that shares this module builds batches.
pub(crate) fn producer_batch(count: usize, value_bytes: usize, timestamp: i64) -> Vec<u8> {
    let records = (0..count)
        .map(|i| BatchRecord {
            timestamp_delta: i as i64,
            offset_delta: i as i32,
            key: Some(format!("k{i}").into_bytes()),
            value: Some(vec![b'v'; value_bytes]),
            headers: vec![],
        })
        .collect();
    RecordBatch::new(timestamp, records).encode().expect("test batches encode")
}

/// A three-broker cluster (and its controller) on `files`, each broker's writes going to
/// `journal` under its own directory: a restart is `open` again on the files the journal left.
#[allow(dead_code)] // Only the tests that restart a cluster use it.
pub(crate) fn open_three_brokers(
    files: &kite_shared::log::storage::FileMap,
    journal: &kite_shared::log::storage::Journal,
    now_ms: i64,
) -> kite_shared::cluster::Cluster {
    use kite_shared::log::storage::{BrokerStore, MemoryBrokerStore};
    let store = |dir: &str| -> Box<dyn BrokerStore> {
        Box::new(MemoryBrokerStore::journaled_under(dir, files, journal.clone()))
    };
    let brokers = (0..3).map(|id| store(&format!("broker-{id}"))).collect();
    let controllers = controller_stores(&store);
    let options = kite_shared::cluster::StorageOptions::MEMORY;
    kite_shared::cluster::Cluster::open_replicated(
        1,
        now_ms,
        store("controller"),
        controllers,
        brokers,
        options,
    )
    .unwrap()
}

/// `batch` produced to `topic`'s `partition` as a Kafka producer sends it (`produce_records`,
/// acks=all): the engine's answer.
#[allow(dead_code)] // Only the tests that write producers' batches use it.
pub(crate) fn produce_batch(
    cluster: &mut kite_shared::cluster::Cluster,
    (topic, partition): (&str, i32),
    batch: &RecordBatch,
    now_ms: i64,
) -> kite_shared::api::Reply {
    let command = kite_shared::api::Command::ProduceRecords {
        topic: topic.into(),
        partition: Some(partition),
        partitioner: Default::default(),
        acks: Default::default(),
        payload: batch.encode().expect("a batch the test built encodes"),
    };
    cluster.handle(now_ms, command)
}

/// The three KRaft controllers' directories (`controller-N`), as `store` makes a directory's.
#[allow(dead_code)] // Only the tests that open a replicated cluster over stores use it.
pub(crate) fn controller_stores(
    store: &dyn Fn(&str) -> Box<dyn kite_shared::log::storage::BrokerStore>,
) -> Vec<Box<dyn kite_shared::log::storage::BrokerStore>> {
    (0..3).map(|id| store(&format!("controller-{id}"))).collect()
}
