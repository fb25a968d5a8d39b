//! The in-tab engine host: a dedicated Web Worker owning a `Cluster`, answering JSON text messages.
//!
//! The worker is to the tab what `kite serve` is to a machine: it passes the wall clock in, keeps
//! the engine's files (in IndexedDB, unless the page asked for `?storage=ephemeral`), and carries
//! the engine's replies out through the same `serve_text` the server uses. A reply is posted only
//! once the request's storage changes are committed, so what the page was told is stored.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Date, Reflect};
use kite_shared::api::{
    Command, Push, Reply, ServerMessage, decode_client_message, encode, serve_text, welcome_text,
};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::error::{ErrorCode, KafkaError};
use kite_shared::log::storage::{BrokerStore, FileMap, Journal, MemoryBrokerStore, StorageOp};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::indexed_db::{DEFAULT_DATABASE_NAME, Durability, TabStorage};

/// What the welcome says answers, shown in the UI's status line.
pub const ENGINE_NAME: &str = concat!("in-tab worker ", env!("CARGO_PKG_VERSION"), " (wasm32)");

/// Where the tab keeps the cluster, from the page's `?storage=` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageMode {
    /// Memory only: a reload starts afresh.
    Ephemeral,
    /// IndexedDB with the browser's relaxed durability (the default).
    Persistent,
    /// IndexedDB, each request's changes flushed to disk before the reply.
    Strict,
}

impl StorageMode {
    /// Reads `storage=ephemeral|persistent|strict` from a query string; persistent otherwise.
    pub fn from_query(search: &str) -> StorageMode {
        let value = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("storage="))
            .unwrap_or("persistent");
        match value {
            "ephemeral" => StorageMode::Ephemeral,
            "strict" => StorageMode::Strict,
            _ => StorageMode::Persistent,
        }
    }
}

/// The tab's brokers unless the page says `?brokers=N`: Kafka's smallest replicated cluster.
pub const DEFAULT_TAB_BROKERS: usize = 3;
/// The most brokers a tab runs.
pub const MAX_TAB_BROKERS: usize = 9;
/// The replicated cluster's own files in the database, as `kite serve` keeps them.
const CONTROLLER_DIR: &str = "controller";

/// Reads `brokers=N` (1 to `MAX_TAB_BROKERS`) from a query string; `DEFAULT_TAB_BROKERS` otherwise.
pub fn brokers_from_query(search: &str) -> usize {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("brokers="))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=MAX_TAB_BROKERS).contains(n))
        .unwrap_or(DEFAULT_TAB_BROKERS)
}

/// A cluster of `brokers` held in memory only.
fn ephemeral_cluster(seed: u64, brokers: usize) -> Cluster {
    let mut cluster = if brokers == 1 {
        Cluster::new(seed)
    } else {
        Cluster::replicated_in_memory(seed, brokers, Date::now() as i64)
    };
    // The tab is the learner's own cluster: stopping and pausing brokers is what it is for.
    cluster.allow_faults = true;
    cluster
}

/// One message in, one answer out: the engine's part of what the worker does per message (the
/// storage commit comes after, in `TabEngine::handle`).
pub fn answer(cluster: &mut Cluster, now_ms: i64, data: &JsValue) -> String {
    match data.as_string() {
        Some(text) => serve_text(cluster, now_ms, &text),
        None => {
            encode(&ServerMessage::Invalid { message: "the worker accepts JSON text messages only".into() })
        }
    }
}

/// The engine with its storage: the cluster on a journaled memory store, and the database the
/// journal is committed to.
pub struct TabEngine {
    cluster: Cluster,
    journal: Journal,
    storage: Option<(Rc<TabStorage>, Durability)>,
    /// A commit that failed: from then on every request gets this error (the tab's memory is
    /// ahead of what is stored; a reload goes back to what is stored).
    failed: Option<String>,
    /// Said in the welcome: where the data lives and what opening it found.
    pub description: String,
    /// The page's `subscribe_events` subscription: after each reply the engine's new events are
    /// pushed to it, as `kite serve` pushes them. Without one they are dropped.
    events_subscription: Option<u64>,
}

impl TabEngine {
    /// Opens the cluster kept in IndexedDB database `database` (or an empty ephemeral one), as a
    /// restarting broker: the log recovery runs on what the database held.
    pub async fn open(mode: StorageMode, database: &str) -> TabEngine {
        TabEngine::open_with_brokers(mode, database, DEFAULT_TAB_BROKERS).await
    }

    /// `open` with `brokers` brokers for a new cluster (a stored one keeps its own count).
    pub async fn open_with_brokers(mode: StorageMode, database: &str, brokers: usize) -> TabEngine {
        let journal = Journal::default();
        let fresh_seed = || (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let durability = if mode == StorageMode::Strict { Durability::Strict } else { Durability::Relaxed };
        let opened = match mode {
            StorageMode::Ephemeral => None,
            _ => Some(TabEngine::open_database(database, &journal, fresh_seed(), brokers).await),
        };
        match opened {
            None => TabEngine {
                cluster: ephemeral_cluster(fresh_seed(), brokers),
                journal,
                storage: None,
                failed: None,
                description: "ephemeral".into(),
                events_subscription: None,
            },
            Some(Ok((cluster, storage, report))) => TabEngine {
                cluster,
                journal,
                storage: Some((Rc::new(storage), durability)),
                failed: None,
                description: format!(
                    "IndexedDB{}{report}",
                    if durability == Durability::Strict { " (strict)" } else { "" }
                ),
                events_subscription: None,
            },
            // No IndexedDB (a private window may refuse it): run, but say so.
            Some(Err(e)) => TabEngine {
                cluster: ephemeral_cluster(fresh_seed(), brokers),
                journal,
                storage: None,
                failed: None,
                description: format!("ephemeral: {e}"),
                events_subscription: None,
            },
        }
    }

    async fn open_database(
        database: &str,
        journal: &Journal,
        fresh_seed: u64,
        brokers: usize,
    ) -> Result<(Cluster, TabStorage, String), String> {
        let storage = TabStorage::open(database).await?;
        let loaded = storage.load().await?;
        let seed = match loaded.seed {
            Some(seed) => seed,
            None => {
                storage.save_seed(fresh_seed).await?;
                fresh_seed
            }
        };
        let (mut cluster, reports, opened) = open_cluster(seed, loaded.files, journal, brokers)?;
        cluster.allow_faults = true;
        // Opening may itself write (recovery cuts, fresh indexes): store that before serving.
        let ops: Vec<StorageOp> = journal.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        storage.commit(&ops, Durability::Relaxed).await?;
        let recovered: usize = reports.iter().map(|(_, r)| r.recovered_segments).sum();
        let cut: usize = reports.iter().map(|(_, r)| r.truncated_bytes).sum();
        let mut report = match opened {
            Opened::New(1) => ", new cluster".to_string(),
            Opened::New(n) => format!(", new cluster of {n} brokers"),
            Opened::Single => format!(", {} partitions reopened", reports.len()),
            Opened::Replicated(n) => format!(", {n} brokers reopened"),
        };
        if recovered > 0 {
            report.push_str(&format!(", {recovered} segments recovered, {cut} bytes cut"));
        }
        if loaded.dropped_bytes > 0 {
            report.push_str(&format!(", {} bytes after a gap dropped", loaded.dropped_bytes));
        }
        Ok((cluster, storage, report))
    }

    /// Answers one message and commits what it changed; the answer reports a storage failure
    /// instead of the engine's reply if the commit fails.
    pub async fn handle(engine: &RefCell<TabEngine>, now_ms: i64, data: &JsValue) -> String {
        let (reply, ops, storage) = {
            let mut this = engine.borrow_mut();
            if let (Some(failure), Some(text)) = (&this.failed, data.as_string()) {
                return storage_error(&text, failure);
            }
            let reply = match this.subscription(data) {
                Some(reply) => reply,
                None => answer(&mut this.cluster, now_ms, data),
            };
            let ops: Vec<StorageOp> =
                this.journal.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
            (reply, ops, this.storage.clone())
        };
        let Some((storage, durability)) = storage else { return reply };
        match storage.commit(&ops, durability).await {
            Ok(()) => reply,
            Err(e) => {
                let failure = format!(
                    "{e}. The tab stopped taking requests so nothing stored is lost; reload to continue from what was stored."
                );
                let answer = data.as_string().map(|text| storage_error(&text, &failure)).unwrap_or_default();
                engine.borrow_mut().failed = Some(failure);
                answer
            }
        }
    }
}

/// What opening each partition's log found (the single broker reports them).
type OpenReports = Vec<(String, kite_shared::log::local_log::OpenReport)>;

/// What `open_cluster` found in the database.
enum Opened {
    /// Nothing: a new cluster of this many brokers.
    New(usize),
    /// One broker's files at the root (`broker-0`'s layout without the directory).
    Single,
    /// A replicated cluster: `controller/` and this many `broker-N/` directories.
    Replicated(usize),
}

/// Opens the cluster in `files`: one broker at the root, or `controller/` and `broker-N/` as
/// `kite serve` lays them out; a new one with `brokers` brokers when there is nothing yet.
fn open_cluster(
    seed: u64,
    files: FileMap,
    journal: &Journal,
    brokers: usize,
) -> Result<(Cluster, OpenReports, Opened), String> {
    let cannot = |e: String| format!("cannot open the stored cluster: {e}");
    let single_at_root = files.keys().any(|(dir, _)| dir.is_empty());
    let stored_brokers = (0..)
        .take_while(|id| {
            let dir = format!("broker-{id}");
            files.keys().any(|(d, _)| d == &dir || d.starts_with(&format!("{dir}/")))
        })
        .count();
    let opened = match (single_at_root, stored_brokers) {
        (true, _) => Opened::Single,
        (false, 0) => Opened::New(brokers),
        (false, n) => Opened::Replicated(n),
    };
    let count = match opened {
        Opened::Single => 1,
        Opened::New(n) | Opened::Replicated(n) => n,
    };
    if count == 1 {
        let store = MemoryBrokerStore::journaled(files, journal.clone());
        let (cluster, reports) =
            Cluster::open(seed, Box::new(store), StorageOptions::MEMORY).map_err(cannot)?;
        return Ok((cluster, reports, opened));
    }
    let metadata = MemoryBrokerStore::journaled_under(CONTROLLER_DIR, &files, journal.clone());
    let stores = (0..count)
        .map(|id| {
            let store = MemoryBrokerStore::journaled_under(&format!("broker-{id}"), &files, journal.clone());
            Box::new(store) as Box<dyn BrokerStore>
        })
        .collect();
    let cluster = Cluster::open_replicated(
        seed,
        Date::now() as i64,
        Box::new(metadata),
        stores,
        StorageOptions::MEMORY,
    )
    .map_err(cannot)?;
    Ok((cluster, Vec::new(), opened))
}

impl TabEngine {
    /// Answers `subscribe_events` and `unsubscribe` for the page (the worker pushes events the
    /// way `kite serve` does; live tails are the server's alone). `None` for other messages.
    fn subscription(&mut self, data: &JsValue) -> Option<String> {
        let message = decode_client_message(&data.as_string()?).ok()?;
        let reply = match message.command {
            Command::SubscribeEvents => {
                // Events from before the subscription are not news.
                self.cluster.take_events();
                self.events_subscription = Some(message.id);
                Reply::Subscribed { subscription: message.id }
            }
            Command::Unsubscribe { subscription } if self.events_subscription == Some(subscription) => {
                self.events_subscription = None;
                Reply::Unsubscribed { subscription }
            }
            _ => return None,
        };
        Some(encode(&ServerMessage::Reply { id: message.id, reply }))
    }

    /// The engine's events since the last call, as pushes to the page's subscription (none
    /// without one; the events are dropped either way).
    pub fn take_pushes(&mut self) -> Vec<String> {
        let events = self.cluster.take_events();
        let Some(subscription) = self.events_subscription else { return Vec::new() };
        events
            .into_iter()
            .map(|(at_ms, event)| {
                encode(&ServerMessage::Push { subscription, push: Push::event(at_ms, &event) })
            })
            .collect()
    }
}

/// The answer to request `text` when storage failed.
fn storage_error(text: &str, failure: &str) -> String {
    match decode_client_message(text) {
        Ok(message) => encode(&ServerMessage::Reply {
            id: message.id,
            reply: Reply::Error(KafkaError::new(ErrorCode::KafkaStorageError, failure)),
        }),
        Err(_) => encode(&ServerMessage::Invalid { message: failure.to_string() }),
    }
}

/// The page's query string, as the worker sees it in its own URL.
fn worker_query() -> String {
    Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|location| Reflect::get(&location, &JsValue::from_str("search")))
        .ok()
        .and_then(|search| search.as_string())
        .unwrap_or_default()
}

pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let query = worker_query();
        let mode = StorageMode::from_query(&query);
        let brokers = brokers_from_query(&query);
        let engine =
            Rc::new(RefCell::new(TabEngine::open_with_brokers(mode, DEFAULT_DATABASE_NAME, brokers).await));
        // Requests are answered one at a time, in order, each after its commit.
        let queue: Rc<RefCell<VecDeque<JsValue>>> = Rc::default();
        let busy = Rc::new(RefCell::new(false));
        let reply_scope = scope.clone();
        let (handler_engine, handler_queue) = (engine.clone(), queue.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            handler_queue.borrow_mut().push_back(event.data());
            if busy.replace(true) {
                return;
            }
            let (engine, queue, busy, scope) =
                (handler_engine.clone(), handler_queue.clone(), busy.clone(), reply_scope.clone());
            wasm_bindgen_futures::spawn_local(async move {
                loop {
                    let next = queue.borrow_mut().pop_front();
                    let Some(data) = next else { break };
                    let text = TabEngine::handle(&engine, Date::now() as i64, &data).await;
                    // Posting a string to our own page cannot fail short of the page being gone.
                    let _ = scope.post_message(&JsValue::from_str(&text));
                    let pushes = engine.borrow_mut().take_pushes();
                    for push in pushes {
                        let _ = scope.post_message(&JsValue::from_str(&push));
                    }
                }
                *busy.borrow_mut() = false;
            });
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        on_message.forget();
        let engine_name = format!("{ENGINE_NAME}, {}", engine.borrow().description);
        // Messages sent before this point would have been lost, so the page waits for this welcome.
        let _ = scope.post_message(&JsValue::from_str(&welcome_text(&engine_name)));
    });
}
