//! Browser tests of the tab's IndexedDB storage (headless Chromium): a cluster written through
//! the worker's engine reopens from the database with every record; a torn tail is cut by the
//! same recovery a server runs; strict durability commits; the stored `.log` bytes are Kafka's;
//! replicas' identical appends are stored once and outlive any one replica's file; a gap in one
//! file leaves the others whole; the worker's loop answers in order, each answer after its commit, and a failed commit stops
//! the tab without losing what was stored.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use kite_frontend::i18n::{Lang, engine_name};
use kite_frontend::indexed_db::{Durability, TabStorage};
use kite_frontend::worker::{ENGINE_NAME, StorageMode, TabEngine, answer_in_order};
use kite_shared::api::{
    ClientMessage, Command, Reply, Request, ServerMessage, TabCommand, decode_server_message, encode,
};
use kite_shared::log::storage::StorageOp;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::record::batch::BatchHeader;
use kite_shared::serializer::SerializerKind;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const NOW_MS: i64 = 1_700_000_000_000;

async fn ask(engine: &RefCell<TabEngine>, id: u64, command: impl Into<Request>) -> Reply {
    let text = encode(&ClientMessage { id, command: command.into() });
    let answer = TabEngine::handle(engine, NOW_MS, &JsValue::from_str(&text)).await;
    match decode_server_message(&answer).unwrap() {
        ServerMessage::Reply { reply, .. } => reply,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn produce(value: &str) -> Command {
    Command::Produce {
        acks: Default::default(),
        topic: "orders".into(),
        partition: Some(0),
        key: Some("k".into()),
        value: Some(value.into()),
        timestamp_ms: Some(NOW_MS),
        partitioner: PartitionerKind::Default,
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        headers: vec![],
        producer: None,
    }
}

async fn values(engine: &RefCell<TabEngine>) -> Vec<(i64, String)> {
    let fetch = Command::Fetch {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_records: 1_000,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
        isolation_level: Default::default(),
    };
    match ask(engine, 999, fetch).await {
        Reply::Records { records, .. } => records.into_iter().map(|r| (r.offset, r.value.unwrap())).collect(),
        other => panic!("fetch: {other:?}"),
    }
}

/// A fresh database holding topic `orders` (segment.bytes=300, so it rolls) with `count` records.
async fn written(database: &str, mode: StorageMode, count: usize) -> RefCell<TabEngine> {
    TabStorage::delete(database).await.unwrap();
    let engine = RefCell::new(TabEngine::open_with_brokers(mode, database, 1).await);
    assert!(engine.borrow().description.starts_with("IndexedDB"), "{}", engine.borrow().description);
    reads_in_korean(&engine.borrow().description);
    let configs = BTreeMap::from([("segment.bytes".to_string(), "300".to_string())]);
    let created = ask(
        &engine,
        1,
        Command::CreateTopic { name: "orders".into(), partitions: 2, configs, replication_factor: None },
    )
    .await;
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    for i in 0..count {
        let produced = ask(&engine, 2 + i as u64, produce(&format!("value {i}"))).await;
        assert!(matches!(produced, Reply::Produced { offset, .. } if offset == i as i64), "{produced:?}");
    }
    engine
}

fn expected(count: usize) -> Vec<(i64, String)> {
    (0..count).map(|i| (i as i64, format!("value {i}"))).collect()
}

#[wasm_bindgen_test]
async fn a_cluster_reopens_from_indexeddb_with_every_record() {
    let database = "kite-test-reopen";
    let engine = written(database, StorageMode::Persistent, 12).await;
    assert_eq!(values(&engine).await, expected(12));
    drop(engine);

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    let description = reopened.borrow().description.clone();
    assert!(description.contains("2 partitions reopened"), "{description}");
    assert!(reads_in_korean(&description).contains("파티션 2개를 다시 열었음"));
    assert_eq!(values(&reopened).await, expected(12), "the reload sees what was acknowledged");
    // And it goes on from where it was.
    let produced = ask(&reopened, 50, produce("value 12")).await;
    assert!(matches!(produced, Reply::Produced { offset: 12, .. }), "{produced:?}");
}

/// A database from before the tab and the server shared one layout keeps its one broker's files
/// at its root: it still opens, as that one broker, whatever `?brokers=` asks for.
#[wasm_bindgen_test]
async fn a_database_with_one_broker_at_its_root_still_opens() {
    use kite_shared::cluster::{Cluster, StorageOptions};
    use kite_shared::log::storage::{Journal, MemoryBrokerStore};
    let database = "kite-test-root-layout";
    TabStorage::delete(database).await.unwrap();
    let journal = Journal::default();
    let store = MemoryBrokerStore::journaled(Default::default(), journal.clone());
    let (mut cluster, _) = Cluster::open(7, Box::new(store), StorageOptions::MEMORY).unwrap();
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: None,
    };
    assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
    for i in 0..3 {
        assert!(matches!(cluster.handle(NOW_MS, produce(&format!("value {i}"))), Reply::Produced { .. }));
    }
    let ops: Vec<StorageOp> = journal.lock().unwrap().drain(..).collect();
    assert!(
        ops.iter().any(|op| matches!(op, StorageOp::Write { dir, .. } if dir.is_empty())),
        "written at the root"
    );
    let storage = TabStorage::open(database).await.unwrap();
    storage.commit(&ops, Durability::Relaxed).await.unwrap();
    storage.close();

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 3).await);
    let description = reopened.borrow().description.clone();
    assert!(description.contains("1 partitions reopened"), "{description}");
    assert_eq!(values(&reopened).await, expected(3));
}

#[wasm_bindgen_test]
async fn stored_segments_are_kafka_record_batches() {
    let database = "kite-test-bytes";
    drop(written(database, StorageMode::Strict, 9).await);
    let storage = TabStorage::open(database).await.unwrap();
    let loaded = storage.load().await.unwrap();
    let mut segments: Vec<(&String, &Vec<u8>)> = loaded
        .files
        .iter()
        .filter(|((dir, file), _)| dir == "broker-0/orders-0" && file.ends_with(".log"))
        .map(|((_, file), bytes)| (file, bytes))
        .collect();
    segments.sort();
    assert!(
        segments.len() > 2,
        "segment.bytes=300 rolled: {:?}",
        segments.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let mut next = 0;
    for (name, bytes) in segments {
        assert_eq!(name, &format!("{next:020}.log"), "named by its 20-digit base offset");
        let mut at = 0;
        while at < bytes.len() {
            let header = BatchHeader::parse(&bytes[at..]).expect("a valid RecordBatch v2 with its CRC");
            assert_eq!(header.base_offset, next);
            next = header.last_offset() + 1;
            at += header.total_bytes();
        }
    }
    assert_eq!(next, 9);
    // One broker lives in `broker-0/`, as under `kite serve --brokers 1`.
    assert!(loaded.files.contains_key(&("broker-0".to_string(), "kite-topics.json".to_string())));
    storage.close();
}

#[wasm_bindgen_test]
async fn a_torn_tail_in_indexeddb_is_cut_by_recovery() {
    let database = "kite-test-torn";
    drop(written(database, StorageMode::Persistent, 5).await);
    // Tear the active segment's last batch, as a tab closed mid-write could leave it.
    let storage = TabStorage::open(database).await.unwrap();
    let loaded = storage.load().await.unwrap();
    let ((dir, file), bytes) = loaded
        .files
        .iter()
        .rfind(|((dir, file), bytes)| {
            dir == "broker-0/orders-0" && file.ends_with(".log") && !bytes.is_empty()
        })
        .unwrap();
    let torn =
        StorageOp::Write { dir: dir.clone(), file: file.clone(), bytes: bytes[..bytes.len() - 7].to_vec() };
    storage.commit(&[torn], Durability::Relaxed).await.unwrap();
    storage.close();

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    let description = reopened.borrow().description.clone();
    assert!(description.contains("bytes cut"), "{description}");
    reads_in_korean(&description);
    assert_eq!(values(&reopened).await, expected(4), "the torn record is gone, the rest intact");
}

#[wasm_bindgen_test]
async fn ephemeral_mode_keeps_nothing() {
    let engine =
        RefCell::new(TabEngine::open_with_brokers(StorageMode::Ephemeral, "kite-test-unused", 1).await);
    assert_eq!(engine.borrow().description, "ephemeral");
    reads_in_korean("ephemeral");
    assert_eq!(StorageMode::from_query("?storage=strict&x=1"), StorageMode::Strict);
    assert_eq!(StorageMode::from_query("?storage=ephemeral"), StorageMode::Ephemeral);
    assert_eq!(StorageMode::from_query(""), StorageMode::Persistent);
    assert_eq!(
        StorageMode::from_query("?embed=1&views=cluster"),
        StorageMode::Ephemeral,
        "an embed keeps nothing"
    );
    assert_eq!(StorageMode::from_query("?embed=1&storage=persistent"), StorageMode::Persistent);
}

/// The tab's default: three brokers replicating, each broker's files under `broker-N/` and the
/// cluster's under `controller/`, as `kite serve` lays them out; a reload reopens all of it
/// (whatever broker count the page asks for: the stored cluster keeps its own).
#[wasm_bindgen_test]
async fn a_replicated_cluster_reopens_from_indexeddb() {
    let database = "kite-test-replicated";
    TabStorage::delete(database).await.unwrap();
    let engine = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 3).await);
    let description = engine.borrow().description.clone();
    assert!(description.contains("new cluster of 3 brokers"), "{description}");
    assert!(reads_in_korean(&description).contains("브로커 3대로 만든 새 클러스터"));
    let configs = BTreeMap::from([("min.insync.replicas".to_string(), "2".to_string())]);
    let created = ask(
        &engine,
        1,
        Command::CreateTopic { name: "orders".into(), partitions: 2, configs, replication_factor: Some(3) },
    )
    .await;
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    for i in 0..5 {
        let produced = ask(&engine, 2 + i as u64, produce(&format!("value {i}"))).await;
        assert!(matches!(produced, Reply::Produced { offset, .. } if offset == i as i64), "{produced:?}");
    }
    drop(engine);

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    let description = reopened.borrow().description.clone();
    assert!(description.contains("3 brokers reopened"), "{description}");
    reads_in_korean(&description);
    assert_eq!(values(&reopened).await, expected(5));
    match ask(&reopened, 20, Command::ListTopics).await {
        Reply::Topics { topics } => {
            let partition = &topics[0].partitions[0];
            assert_eq!((partition.replicas.len(), partition.isr.len()), (3, 3), "{partition:?}");
        }
        other => panic!("{other:?}"),
    }
    let files = TabStorage::open(database).await.unwrap().load().await.unwrap().files;
    for broker in 0..3 {
        let dir = format!("broker-{broker}/orders-0");
        assert!(files.keys().any(|(d, f)| d == &dir && f.ends_with(".log")), "{dir} holds a replica's log");
    }
    // Each KRaft controller's metadata log and quorum state, in Kafka's layout.
    for controller in 0..3 {
        let dir = format!("controller-{controller}/__cluster_metadata-0");
        for name in ["00000000000000000000.log", "quorum-state"] {
            assert!(files.contains_key(&(dir.clone(), name.to_string())), "{dir}/{name} is kept");
        }
    }
}

/// The virtual clock pauses, steps and changes speed; a replay from the seed of a three-broker
/// cluster that lived through a stopped broker and clock steps comes out the same, event for
/// event; a reopened cluster has no beginning to replay from; a reset deletes the database.
#[wasm_bindgen_test]
async fn the_clock_steps_a_replay_comes_out_the_same_and_reset_starts_afresh() {
    let database = "kite-test-replay";
    TabStorage::delete(database).await.unwrap();
    let engine = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 3).await);
    let created = ask(
        &engine,
        1,
        Command::CreateTopic {
            name: "orders".into(),
            partitions: 1,
            configs: BTreeMap::new(),
            replication_factor: Some(3),
        },
    )
    .await;
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    ask(&engine, 2, produce("before")).await;
    let clock = |speed_percent, paused, step_ms| TabCommand::SetClock { speed_percent, paused, step_ms };
    let Reply::Clock { now_ms: paused_at, paused: true, .. } =
        ask(&engine, 3, clock(None, Some(true), None)).await
    else {
        panic!("the clock pauses")
    };
    let Reply::Clock { now_ms, .. } = ask(&engine, 4, clock(None, None, Some(10_000))).await else {
        panic!("a paused clock steps")
    };
    assert_eq!(now_ms, paused_at + 10_000);
    ask(&engine, 5, Command::StopBroker { broker: 0 }).await;
    ask(&engine, 6, clock(None, None, Some(10_000))).await;
    ask(&engine, 7, produce("while broker 0 is down")).await;
    ask(&engine, 8, Command::StartBroker { broker: 0 }).await;
    let refused = ask(&engine, 9, clock(Some(5), None, None)).await;
    assert!(matches!(&refused, Reply::Error(e) if e.message.contains("outside 25..=10000")), "{refused:?}");
    let Reply::Clock { speed_percent: 10_000, paused: false, .. } =
        ask(&engine, 10, clock(Some(10_000), Some(false), None)).await
    else {
        panic!("×100, running")
    };
    assert_eq!(values(&engine).await, vec![(0, "before".into()), (1, "while broker 0 is down".into())]);

    let replayed = ask(&engine, 11, TabCommand::Replay).await;
    let Reply::Replayed { identical, requests, events, differences, .. } = &replayed else {
        panic!("{replayed:?}")
    };
    assert!(*identical, "{differences:?}");
    // Six requests (create, two produces, stop, start, the fetch) and the two steps.
    assert!(*requests == 8 && *events > 20, "{replayed:?}");
    engine.into_inner().close();

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 3).await);
    let refused = ask(&reopened, 1, TabCommand::Replay).await;
    assert!(matches!(&refused, Reply::Error(e) if e.message.contains("reopened")), "{refused:?}");
    assert_eq!(ask(&reopened, 2, TabCommand::ResetCluster).await, Reply::ClusterReset);
    let after = ask(&reopened, 3, Command::ListTopics).await;
    assert!(matches!(&after, Reply::Error(e) if e.message.contains("reset")), "{after:?}");
    reopened.into_inner().close();
    let fresh = TabEngine::open_with_brokers(StorageMode::Persistent, database, 3).await;
    assert!(fresh.description.contains("new cluster of 3 brokers"), "{}", fresh.description);
}

/// A snapshot of a cluster, imported into another database, reopens as the same cluster: every
/// record at its offset, and it goes on from there; a broken snapshot is refused by name and
/// leaves what was stored alone.
#[wasm_bindgen_test]
async fn a_snapshot_exported_and_imported_is_the_same_cluster() {
    use kite_frontend::snapshot;
    let (from, to) = ("kite-test-snapshot-from", "kite-test-snapshot-to");
    let engine = written(from, StorageMode::Persistent, 12).await;
    let text = snapshot::export(from).await.expect("a stored cluster exports");
    engine.into_inner().close();

    TabStorage::delete(to).await.unwrap();
    let other = written(to, StorageMode::Persistent, 2).await;
    other.into_inner().close();
    let refused =
        snapshot::import(to, "{\"format\":\"kite-snapshot\",\"version\":9,\"seed\":1,\"files\":[]}").await;
    assert_eq!(refused, Err("a snapshot of version 9; this Kite reads version 1".to_string()));
    let unsafe_path = text.replacen("\"dir\":\"", "\"dir\":\"../", 1);
    assert!(snapshot::import(to, &unsafe_path).await.unwrap_err().contains("unsafe path"));
    let untouched = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, to, 1).await);
    assert_eq!(values(&untouched).await, expected(2), "a refused import changes nothing");
    untouched.into_inner().close();

    snapshot::import(to, &text).await.expect("the snapshot imports");
    let imported = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, to, 1).await);
    assert_eq!(values(&imported).await, expected(12), "the imported cluster holds the exported records");
    let produced = ask(&imported, 50, produce("value 12")).await;
    assert!(matches!(produced, Reply::Produced { offset: 12, .. }), "{produced:?}");
}

/// `share_state` gives a `?state=` parameter; an engine opened with it is the same cluster —
/// topics, replicas, records — made again from the seed, and goes on from there.
#[wasm_bindgen_test]
async fn a_shared_state_opens_the_same_cluster() {
    let engine = RefCell::new(TabEngine::open_with_brokers(StorageMode::Ephemeral, "unused", 3).await);
    let created = ask(
        &engine,
        1,
        Command::CreateTopic {
            name: "orders".into(),
            partitions: 2,
            configs: BTreeMap::new(),
            replication_factor: Some(3),
        },
    )
    .await;
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    ask(&engine, 2, produce("one")).await;
    ask(&engine, 3, Command::StopBroker { broker: 1 }).await;
    ask(&engine, 4, produce("two")).await;
    let Reply::StateShared { parameter } = ask(&engine, 5, TabCommand::ShareState).await else {
        panic!("the tab's engine shares its state")
    };
    assert!(parameter.starts_with("v1."), "{parameter}");

    let opened = RefCell::new(TabEngine::with_state(&parameter));
    assert!(opened.borrow().description.starts_with("shared state of"), "{}", opened.borrow().description);
    assert_eq!(ask(&opened, 1, Command::ListTopics).await, ask(&engine, 6, Command::ListTopics).await);
    assert_eq!(values(&opened).await, vec![(0, "one".into()), (1, "two".into())]);
    let produced = ask(&opened, 2, produce("three")).await;
    assert!(matches!(produced, Reply::Produced { offset: 2, .. }), "{produced:?}");

    let broken = TabEngine::with_state("v1.not-a-state");
    assert!(broken.description.contains("the shared state did not open"), "{}", broken.description);
}

/// The ids and replies of the answers `answer_in_order` posted.
fn replies(posted: &[String]) -> Vec<(u64, Reply)> {
    posted
        .iter()
        .map(|text| match decode_server_message(text).unwrap() {
            ServerMessage::Reply { id, reply } => (id, reply),
            other => panic!("expected a reply, got {other:?}"),
        })
        .collect()
}

fn request(id: u64, value: &str) -> JsValue {
    JsValue::from_str(&encode(&ClientMessage { id, command: produce(value).into() }))
}

#[wasm_bindgen_test]
async fn the_worker_answers_in_order_each_after_its_commit_and_messages_can_join_while_it_stores() {
    let database = "kite-test-answer-in-order";
    let engine = written(database, StorageMode::Persistent, 2).await;
    let queue: RefCell<VecDeque<JsValue>> =
        RefCell::new((0..6).map(|i| request(10 + i, &format!("value {}", 2 + i))).collect());
    let posted = RefCell::new(Vec::new());
    answer_in_order(&engine, &queue, |texts| {
        // Three more arrive once the first answer is out, while the rest are being stored.
        if posted.borrow().is_empty() {
            queue.borrow_mut().extend((0..3).map(|i| request(20 + i, &format!("value {}", 8 + i))));
        }
        posted.borrow_mut().extend(texts.iter().map(|text| text.to_string()));
    })
    .await;
    let answers = replies(&posted.borrow());
    let ids: Vec<u64> = answers.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [10, 11, 12, 13, 14, 15, 20, 21, 22]);
    for (n, (_, reply)) in answers.iter().enumerate() {
        assert!(matches!(reply, Reply::Produced { offset, .. } if *offset == 2 + n as i64), "{reply:?}");
    }
    engine.into_inner().close();
    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    assert_eq!(values(&reopened).await, expected(11), "every answered record was stored");
}

#[wasm_bindgen_test]
async fn a_failed_commit_stops_the_tab_and_loses_nothing_stored() {
    let database = "kite-test-failed-commit";
    let engine = written(database, StorageMode::Persistent, 3).await;
    engine.borrow().close_write_connection();
    let queue = RefCell::new(VecDeque::from([request(30, "lost"), request(31, "refused")]));
    let posted = RefCell::new(Vec::new());
    answer_in_order(&engine, &queue, |texts| posted.borrow_mut().extend(texts.iter().map(|t| t.to_string())))
        .await;
    let answers = replies(&posted.borrow());
    assert_eq!(answers.len(), 2);
    for (id, reply) in &answers {
        let Reply::Error(error) = reply else { panic!("{id}: expected the storage error, got {reply:?}") };
        assert_eq!(error.error.name(), "KAFKA_STORAGE_ERROR", "{error:?}");
        assert!(error.message.contains("reload to continue from what was stored"), "{}", error.message);
    }
    // The tab keeps refusing: its memory is ahead of what is stored.
    let after = ask(&engine, 32, produce("after")).await;
    assert!(matches!(&after, Reply::Error(e) if e.error.name() == "KAFKA_STORAGE_ERROR"), "{after:?}");
    drop(engine);

    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    assert_eq!(values(&reopened).await, expected(3), "what was stored before the failure is all there");
    let produced = ask(&reopened, 33, produce("value 3")).await;
    assert!(matches!(produced, Reply::Produced { offset: 3, .. }), "{produced:?}");
}

fn append(dir: &str, file: &str, position: usize, bytes: &[u8]) -> StorageOp {
    StorageOp::Append { dir: dir.into(), file: file.into(), position, bytes: bytes.to_vec() }
}

/// What the database holds: (chunks stored as bytes, chunks naming a blob, blobs).
async fn stored(database: &str) -> (usize, usize, usize) {
    let rexie = rexie::Rexie::builder(database).build().await.unwrap();
    let transaction = rexie.transaction(&["files", "blobs"], rexie::TransactionMode::ReadOnly).unwrap();
    let chunks = transaction.store("files").unwrap().scan(None, None, None, None).await.unwrap();
    let blobs = transaction.store("blobs").unwrap().scan(None, None, None, None).await.unwrap();
    let named = chunks.iter().filter(|(_, value)| value.as_f64().is_some()).count();
    rexie.close();
    (chunks.len() - named, named, blobs.len())
}

/// What a fresh open of the database reads, file by file.
async fn reread(database: &str) -> BTreeMap<(String, String), Vec<u8>> {
    let storage = TabStorage::open(database).await.unwrap();
    let files = storage.load().await.unwrap().files;
    storage.close();
    files
}

/// Database `database`, deleted first, opened and loaded (empty).
async fn empty_storage(database: &str) -> TabStorage {
    TabStorage::delete(database).await.unwrap();
    let storage = TabStorage::open(database).await.unwrap();
    storage.load().await.unwrap();
    storage
}

#[wasm_bindgen_test]
async fn replicas_appends_are_stored_once_and_outlive_any_one_replica() {
    let database = "kite-test-shared-blobs";
    let storage = empty_storage(database).await;
    let log = "00000000000000000000.log";
    let batch = b"one batch, as every replica appends it".as_slice();
    let ops = [
        append("broker-0/t-0", log, 0, batch),
        append("broker-1/t-0", log, 0, batch),
        append("broker-2/t-0", log, 0, batch),
        append("broker-0/t-0", "leader-epoch-checkpoint", 0, b"0"),
    ];
    storage.commit(&ops, Durability::Relaxed).await.unwrap();
    assert_eq!(stored(database).await, (1, 3, 1), "three chunks name one blob");
    let files = reread(database).await;
    for broker in 0..3 {
        assert_eq!(files[&(format!("broker-{broker}/t-0"), log.to_string())], batch);
    }

    // A second connection that commits without loading numbers its blob after the stored one.
    let other = TabStorage::open(database).await.unwrap();
    let index = "00000000000000000000.index";
    let ops = [append("broker-0/t-0", index, 0, b"12345678"), append("broker-1/t-0", index, 0, b"12345678")];
    other.commit(&ops, Durability::Relaxed).await.unwrap();
    other.close();
    assert_eq!(stored(database).await, (1, 5, 2));
    let files = reread(database).await;
    assert_eq!(files[&("broker-2/t-0".to_string(), log.to_string())], batch, "the first blob is intact");
    assert_eq!(files[&("broker-1/t-0".to_string(), index.to_string())], b"12345678");
    let drop_index = |broker: &str| StorageOp::Delete { dir: broker.into(), file: index.into() };
    storage
        .commit(&[drop_index("broker-0/t-0"), drop_index("broker-1/t-0")], Durability::Relaxed)
        .await
        .unwrap();
    // `storage` did not know that blob's chunks (it loaded before they were made): it leaves the
    // blob rather than guess; the next connection that loads finds no chunk naming it, and its
    // first commit deletes it.
    assert_eq!(stored(database).await, (1, 3, 2));

    // One replica's segment deleted (retention), another's rewritten (a truncation): the third
    // still reads the shared bytes, and the blob goes with the last chunk naming it.
    let delete = StorageOp::Delete { dir: "broker-0/t-0".into(), file: log.into() };
    let truncate = StorageOp::Write { dir: "broker-1/t-0".into(), file: log.into(), bytes: b"one".to_vec() };
    storage.commit(&[delete, truncate], Durability::Relaxed).await.unwrap();
    assert_eq!(stored(database).await, (2, 1, 2));
    let files = reread(database).await;
    assert!(!files.contains_key(&("broker-0/t-0".to_string(), log.to_string())));
    assert_eq!(files[&("broker-1/t-0".to_string(), log.to_string())], b"one");
    assert_eq!(files[&("broker-2/t-0".to_string(), log.to_string())], batch);
    storage.close();

    // A new connection learns which chunks name which blob from what is stored, and goes on.
    let storage = TabStorage::open(database).await.unwrap();
    storage.load().await.unwrap();
    let more = b"the next batch".as_slice();
    let ops = [append("broker-1/t-0", log, 3, more), append("broker-2/t-0", log, batch.len(), more)];
    storage.commit(&ops, Durability::Relaxed).await.unwrap();
    assert_eq!(stored(database).await, (4, 1, 1), "different positions: not copies of each other");
    let last = StorageOp::Delete { dir: "broker-2/t-0".into(), file: log.into() };
    storage.commit(&[last], Durability::Relaxed).await.unwrap();
    assert_eq!(stored(database).await, (3, 0, 0), "the last chunk naming the blob took it along");
    storage.close();
}

#[wasm_bindgen_test]
async fn a_gap_in_one_file_leaves_the_files_after_it_whole() {
    let database = "kite-test-gap";
    let storage = empty_storage(database).await;
    // `a`'s second chunk is missing: its third cannot be placed. `b` sorts after `a`.
    let ops = [append("d", "a", 0, b"01"), append("d", "a", 4, b"45"), append("d", "b", 0, b"whole")];
    storage.commit(&ops, Durability::Relaxed).await.unwrap();
    let loaded = storage.load().await.unwrap();
    storage.close();
    assert_eq!(loaded.files[&("d".to_string(), "a".to_string())], b"01");
    assert_eq!(loaded.files[&("d".to_string(), "b".to_string())], b"whole");
    assert_eq!(loaded.dropped_bytes, 2);
}

#[wasm_bindgen_test]
async fn a_second_tab_on_the_same_database_runs_in_memory_and_the_stored_cluster_is_untouched() {
    let database = "kite-test-two-tabs";
    let first = written(database, StorageMode::Persistent, 2).await;
    // A second engine on the same database, as a second tab's worker: it waits for the lock,
    // then runs in memory and says why.
    let second = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    let description = second.borrow().description.clone();
    assert!(
        description.starts_with("ephemeral: the cluster stored in this browser is open in another tab"),
        "{description}"
    );
    // In Korean, all but the browser's own words for the timeout.
    let status = engine_name(Lang::Ko, &format!("{ENGINE_NAME}, {description}"));
    assert!(
        status.contains("메모리에만 보관: 이 브라우저에 저장된 클러스터가 다른 탭에서 열려 있습니다"),
        "{status}"
    );
    assert!(status.ends_with("다른 탭을 닫고 새로고침하세요"), "{status}");
    let created = ask(
        &second,
        1,
        Command::CreateTopic {
            name: "orders".into(),
            partitions: 1,
            configs: BTreeMap::new(),
            replication_factor: None,
        },
    )
    .await;
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    let produced = ask(&second, 2, produce("only in the second tab")).await;
    assert!(matches!(produced, Reply::Produced { offset: 0, .. }), "{produced:?}");
    drop(second);
    assert_eq!(values(&first).await, expected(2));
    // The first lets go when it is dropped; the next engine gets the lock and the stored cluster.
    drop(first);
    let reopened = RefCell::new(TabEngine::open_with_brokers(StorageMode::Persistent, database, 1).await);
    assert!(reopened.borrow().description.starts_with("IndexedDB"), "{}", reopened.borrow().description);
    assert_eq!(values(&reopened).await, expected(2), "nothing of the second tab's reached the database");
}

/// An engine's description as the Korean status line shows it: every part translated, only
/// names and values (IndexedDB, wasm32, numbers) left in Latin letters.
fn reads_in_korean(description: &str) -> String {
    let status = engine_name(Lang::Ko, &format!("{ENGINE_NAME}, {description}"));
    let english: Vec<&str> = status
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| word.len() > 2 && !["IndexedDB", "wasm"].contains(word))
        .collect();
    assert!(english.is_empty(), "{description:?} reads {status:?}, with English {english:?}");
    status
}
