//! The tab's log storage in IndexedDB, beside a raw put of the same bytes in the same page:
//!
//! - `log append + commit`: a leader append of a 1000-record batch (100-byte values) to a
//!   `LocalLog` on a journaled memory store, then committing its journal (the segment chunk, and
//!   the index and checkpoint writes when they happen) in one IndexedDB transaction — what the
//!   worker does per produce request;
//! - `raw put`: one transaction putting the same batch bytes as one chunk, the least any
//!   IndexedDB store of those bytes can do.
//!
//! Both with relaxed and with strict durability. One iteration is one batch of
//! `RECORDS_PER_BATCH` records; records/s = RECORDS_PER_BATCH / time per iteration.
//! `cargo xtask bench` runs it in headless Chromium.

use std::cell::RefCell;
use std::rc::Rc;

use kite_frontend::indexed_db::{Durability, TabStorage};
use kite_shared::config::TopicConfig;
use kite_shared::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use kite_shared::log::storage::{Journal, MemoryPartitionStore, StorageOp};
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use wasm_bindgen_test::{Criterion, wasm_bindgen_bench, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const RECORDS_PER_BATCH: usize = 1000;
const VALUE_BYTES: usize = 100;
const NOW_MS: i64 = 1_700_000_000_000;
/// `tab_produce` deletes and recreates its topic after this many batches (40,000 records, about
/// 15 MB over three replicas), bounding what the tab holds.
const BATCHES_PER_TOPIC: usize = 40;
/// The page's window of unanswered requests (Kafka's `max.in.flight.requests.per.connection`).
const IN_FLIGHT_REQUESTS: usize = 5;

fn producer_batch() -> Vec<u8> {
    let records = (0..RECORDS_PER_BATCH)
        .map(|i| BatchRecord {
            timestamp_delta: i as i64,
            offset_delta: i as i32,
            key: Some(format!("key-{i:06}").into_bytes()),
            value: Some((0..VALUE_BYTES).map(|b| (b * 31 + i) as u8).collect()),
            headers: Vec::new(),
        })
        .collect();
    RecordBatch::new(NOW_MS, records).encode().unwrap()
}

async fn log_append(c: &mut Criterion, database: &str, durability: Durability, name: &str) {
    TabStorage::delete(database).await.unwrap();
    let storage = TabStorage::open(database).await.unwrap();
    let journal = Journal::default();
    let store =
        Box::new(MemoryPartitionStore::with_files("bench-0", Default::default(), Some(journal.clone())));
    let mut config = LogConfig::from(&TopicConfig::default());
    config.max_message_bytes = usize::MAX;
    let (log, _) = LocalLog::open(config, store, OpenCheckpoints::default()).unwrap();
    let log = Rc::new(RefCell::new(log));
    let batch = Rc::new(producer_batch());
    let storage = Rc::new(storage);
    c.bench_async_function(name, move |b| {
        let (log, batch, storage, journal) = (log.clone(), batch.clone(), storage.clone(), journal.clone());
        Box::pin(b.iter_future(move || {
            let (log, batch, storage, journal) =
                (log.clone(), batch.clone(), storage.clone(), journal.clone());
            async move {
                log.borrow_mut().append_as_leader(&batch, 0, NOW_MS).unwrap();
                let ops: Vec<StorageOp> = journal.lock().unwrap().drain(..).collect();
                storage.commit(&ops, durability).await.unwrap();
            }
        }))
    })
    .await;
}

async fn raw_put(c: &mut Criterion, database: &str, durability: Durability, name: &str) {
    TabStorage::delete(database).await.unwrap();
    let storage = TabStorage::open(database).await.unwrap();
    let batch = Rc::new(producer_batch());
    let position = Rc::new(RefCell::new(0usize));
    let storage = Rc::new(storage);
    c.bench_async_function(name, move |b| {
        let (batch, position, storage) = (batch.clone(), position.clone(), storage.clone());
        Box::pin(b.iter_future(move || {
            let (batch, position, storage) = (batch.clone(), position.clone(), storage.clone());
            async move {
                let at = position.replace_with(|p| *p + batch.len());
                // The same bytes as one chunk: the copy a store of them must make.
                let op = StorageOp::Append {
                    dir: "raw-0".into(),
                    file: "00000000000000000000.log".into(),
                    position: at,
                    bytes: batch.to_vec(),
                };
                storage.commit(&[op], durability).await.unwrap();
            }
        }))
    })
    .await;
}

#[wasm_bindgen_bench]
async fn log_append_relaxed(c: &mut Criterion) {
    log_append(c, "kite-bench-log", Durability::Relaxed, "log append + commit, relaxed (1000 x 100 B)").await;
}

#[wasm_bindgen_bench]
async fn raw_put_relaxed(c: &mut Criterion) {
    raw_put(c, "kite-bench-raw", Durability::Relaxed, "baseline raw put, relaxed (1000 x 100 B)").await;
}

#[wasm_bindgen_bench]
async fn log_append_strict(c: &mut Criterion) {
    log_append(c, "kite-bench-log-strict", Durability::Strict, "log append + commit, strict (1000 x 100 B)")
        .await;
}

#[wasm_bindgen_bench]
async fn raw_put_strict(c: &mut Criterion) {
    raw_put(c, "kite-bench-raw-strict", Durability::Strict, "baseline raw put, strict (1000 x 100 B)").await;
}

/// The worker's whole path for one `produce_batch` of 1000 records of 100 B, on the tab's three
/// brokers with a topic of replication factor 3 and `acks=all`: decode the JSON, serialize and
/// place the records, append on the leader, replicate to both followers, commit every replica's
/// changes to IndexedDB (relaxed) — or, as the baseline, the same request answered by the same
/// engine in memory without storage. `in_flight` requests go at once through the worker's loop
/// (`answer_in_order`, which answers the next ones while the first commits) per iteration; with 1,
/// one `handle` — compute, then commit — per iteration.
async fn tab_produce(c: &mut Criterion, database: Option<&str>, in_flight: usize, name: &str) {
    use kite_frontend::worker::{StorageMode, TabEngine, answer_in_order};
    use kite_shared::api::{BatchedRecord, ClientMessage, Command, encode};
    use wasm_bindgen::JsValue;
    let mode = match database {
        Some(database) => {
            TabStorage::delete(database).await.unwrap();
            StorageMode::Persistent
        }
        None => StorageMode::Ephemeral,
    };
    let engine =
        Rc::new(RefCell::new(TabEngine::open_with_brokers(mode, database.unwrap_or("unused"), 3).await));
    let create = Command::CreateTopic {
        name: "bench".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    let create = Rc::new(encode(&ClientMessage { id: 1, command: create.into() }));
    let delete = Rc::new(encode(&ClientMessage {
        id: 3,
        command: Command::DeleteTopic { name: "bench".into() }.into(),
    }));
    let created = TabEngine::handle(&engine, NOW_MS, &JsValue::from_str(&create)).await;
    assert!(created.contains("topic_created"), "{created}");
    let batches = Rc::new(RefCell::new(0usize));
    let records = (0..RECORDS_PER_BATCH)
        .map(|i| BatchedRecord {
            key: Some(format!("key-{i:06}")),
            value: Some("v".repeat(VALUE_BYTES)),
            timestamp_ms: Some(NOW_MS),
            headers: Vec::new(),
        })
        .collect();
    let produce = Command::ProduceBatch {
        acks: kite_shared::config::Acks::All,
        topic: "bench".into(),
        partition: Some(0),
        partitioner: Default::default(),
        key_serializer: Default::default(),
        value_serializer: Default::default(),
        records,
        // As the page's generator asks.
        answer_per_partition: true,
    };
    let text = Rc::new(encode(&ClientMessage { id: 2, command: produce.into() }));
    c.bench_async_function(name, move |b| {
        let (engine, text, create, delete, batches) =
            (engine.clone(), text.clone(), create.clone(), delete.clone(), batches.clone());
        Box::pin(b.iter_future(move || {
            let (engine, text, create, delete, batches) =
                (engine.clone(), text.clone(), create.clone(), delete.clone(), batches.clone());
            async move {
                if in_flight == 1 {
                    let answer = TabEngine::handle(&engine, NOW_MS, &JsValue::from_str(&text)).await;
                    assert!(answer.contains("produced_records"), "{answer}");
                } else {
                    let queue = RefCell::new((0..in_flight).map(|_| JsValue::from_str(&text)).collect());
                    let answered = RefCell::new(0);
                    answer_in_order(&engine, &queue, |answers| {
                        for answer in answers {
                            assert!(answer.contains("produced_records"), "{answer}");
                            *answered.borrow_mut() += 1;
                        }
                    })
                    .await;
                    assert_eq!(answered.into_inner(), in_flight);
                }
                // The topic starts again every `BATCHES_PER_TOPIC` batches (its deletion and
                // creation timed too), so thousands of iterations fit in the tab's memory.
                let count = batches.replace_with(|n| *n + in_flight) + in_flight;
                if count.is_multiple_of(BATCHES_PER_TOPIC) {
                    TabEngine::handle(&engine, NOW_MS, &JsValue::from_str(&delete)).await;
                    TabEngine::handle(&engine, NOW_MS, &JsValue::from_str(&create)).await;
                }
            }
        }))
    })
    .await;
}

#[wasm_bindgen_bench]
async fn tab_produce_persistent(c: &mut Criterion) {
    let name = "in-tab produce_batch, 3 brokers RF 3 acks=all, IndexedDB (1000 x 100 B)";
    tab_produce(c, Some("kite-bench-tab"), 1, name).await;
}

#[wasm_bindgen_bench]
async fn tab_produce_persistent_five_in_flight(c: &mut Criterion) {
    let name = "the same, 5 requests in flight through answer_in_order (5 x 1000 x 100 B per iteration)";
    tab_produce(c, Some("kite-bench-tab-window"), IN_FLIGHT_REQUESTS, name).await;
}

#[wasm_bindgen_bench]
async fn tab_produce_in_memory(c: &mut Criterion) {
    tab_produce(c, None, 1, "baseline: the same engine in memory (1000 x 100 B)").await;
}
