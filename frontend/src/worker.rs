//! The in-tab engine host: a dedicated Web Worker owning a `Cluster`, answering JSON text messages.
//!
//! The worker is to the tab what `kite serve` is to a machine: it passes its virtual clock in,
//! keeps the engine's files (in IndexedDB, unless the page asked for `?storage=ephemeral`), and
//! answers the page through the same `host::HostSession` the server keeps per websocket. A reply
//! is posted only once the request's storage changes are committed, so what the page was told
//! is stored.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Date, Reflect};
use kite_shared::api::{
    Command, Reply, Request, ServerMessage, TabCommand, decode_client_message, encode, reply_text,
    welcome_text,
};
use kite_shared::cluster::layout::{self, Count, Found, LayoutStores};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::config::{BrokerConfigs, broker_racks};
use kite_shared::connect::files::{CONNECT_FILES_DIR, CONNECT_TABLES_DIR, MemoryFiles};
use kite_shared::error::{ErrorCode, KafkaError};
use kite_shared::host::{Answer, Capabilities, HostSession, Turn, serve_text};
use kite_shared::kafka::ui_requests;
use kite_shared::log::storage::{
    BrokerStore, FileMap, Journal, MemoryBrokerStore, StorageOp, coalesce_appends,
};
use kite_shared::replication::kraft::{DEFAULT_CONTROLLERS, check_quorum_size};
use kite_shared::scenario::{SCENARIO_START_MS, ScenarioRun};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::indexed_db::{
    DATABASE_LOCK_WAIT_MS, DEFAULT_DATABASE_NAME, DatabaseLock, Durability, PendingCommit, TabStorage,
};

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
    /// Reads `storage=ephemeral|persistent|strict` from a query string; persistent otherwise,
    /// but ephemeral for an embed (`embed=1`): a docs page's widget must not share or fill the
    /// site's storage unless it asks.
    pub fn from_query(search: &str) -> StorageMode {
        let pairs: Vec<&str> = search.trim_start_matches('?').split('&').collect();
        let embedded = pairs.contains(&"embed=1");
        let value = pairs.iter().find_map(|pair| pair.strip_prefix("storage=")).unwrap_or(if embedded {
            "ephemeral"
        } else {
            "persistent"
        });
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

/// How many brokers and KRaft controllers the tab's cluster has, and the broker configs and
/// racks it starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub brokers: usize,
    /// The controller quorum of a replicated cluster (one broker has none).
    pub controllers: usize,
    /// `auto.leader.rebalance.enable` and `leader.imbalance.check.interval.seconds`.
    pub broker_configs: BrokerConfigs,
    /// Each broker's `broker.rack` (broker N's the Nth).
    pub racks: Vec<Option<String>>,
}

impl Shape {
    /// The tab's cluster when the page does not say: three brokers, three controllers.
    pub const DEFAULT: Shape = Shape {
        brokers: DEFAULT_TAB_BROKERS,
        controllers: DEFAULT_CONTROLLERS,
        broker_configs: BrokerConfigs::DEFAULT,
        racks: Vec::new(),
    };

    /// `brokers` brokers and Kafka's three controllers.
    pub fn brokers(brokers: usize) -> Shape {
        Shape { brokers, ..Shape::DEFAULT }
    }

    /// Reads `brokers=N` (1 to `MAX_TAB_BROKERS`), `controllers=N` (an odd quorum, 1 to
    /// `MAX_CONTROLLERS`) and the broker configs Kite honours (`auto.leader.rebalance.enable=false`)
    /// from a query string; the default for what is missing or out of range.
    pub fn from_query(search: &str) -> Shape {
        let pairs = || search.trim_start_matches('?').split('&');
        let number = |name: &str| {
            pairs()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .and_then(|n| n.parse::<usize>().ok())
        };
        // Each broker config on its own: a bad one keeps its default, the others still apply.
        let broker_configs = pairs().filter(|pair| BrokerConfigs::from_overrides([*pair]).is_ok());
        let broker_configs = BrokerConfigs::from_overrides(broker_configs).unwrap_or_default();
        Shape {
            brokers: number("brokers")
                .filter(|n| (1..=MAX_TAB_BROKERS).contains(n))
                .unwrap_or(DEFAULT_TAB_BROKERS),
            controllers: number("controllers")
                .and_then(|n| check_quorum_size(n).ok())
                .unwrap_or(DEFAULT_CONTROLLERS),
            broker_configs,
            racks: pairs()
                .find_map(|pair| pair.strip_prefix("racks="))
                .and_then(|list| broker_racks(list, MAX_TAB_BROKERS).ok())
                .unwrap_or_default(),
        }
    }
}

/// A cluster of `shape` held in memory only, started at `now_ms`.
fn ephemeral_cluster(seed: u64, shape: &Shape, now_ms: i64) -> Cluster {
    let mut cluster = if shape.brokers == 1 {
        Cluster::new(seed)
    } else {
        Cluster::replicated_in_memory_with_controllers(seed, shape.brokers, shape.controllers, now_ms)
    };
    // The tab is the learner's own cluster: stopping and pausing brokers is what it is for.
    cluster.allow_faults = true;
    cluster.set_broker_configs(shape.broker_configs);
    cluster.set_broker_racks(&shape.racks);
    cluster
}

/// The most requests a replay goes through: past them the history stops and replay says so.
pub const MAX_REPLAY_REQUESTS: usize = 50_000;
/// The most bytes of requests the history keeps (a produce of 1,000 records is ~50 KB of JSON).
pub const MAX_REPLAY_HISTORY_BYTES: usize = 64 * 1024 * 1024;

/// What the engine was given, in order, with the virtual time of each: enough to replay it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "given", read straight when the tag comes first (`kite_shared::tagged`).
enum Given {
    Request {
        now_ms: i64,
        text: String,
    },
    /// A step of the paused clock: the brokers' and groups' timers ran to `now_ms`.
    Tick {
        now_ms: i64,
    },
}
kite_shared::tag_first!(Given, "given");

impl Given {
    /// The bytes of request text it keeps (what `MAX_REPLAY_HISTORY_BYTES` counts).
    fn bytes(&self) -> usize {
        match self {
            Given::Request { text, .. } => text.len(),
            Given::Tick { .. } => 0,
        }
    }
}

/// The most bytes of JSON a shared state (`?state=`) may inflate to.
pub const MAX_SHARED_STATE_BYTES: usize = 4 * 1024 * 1024;

/// A cluster's whole story, for `?state=`: the seed, the brokers and controllers, when it was
/// made, and everything it was given.
#[derive(serde::Serialize, serde::Deserialize)]
struct SharedState {
    seed: u64,
    brokers: usize,
    /// Links shared before the tab's quorum could be chosen had three.
    #[serde(default = "default_controllers")]
    controllers: usize,
    created_at_ms: i64,
    history: Vec<Given>,
}

fn default_controllers() -> usize {
    DEFAULT_CONTROLLERS
}

/// A new cluster with `seed` and `shape`, given `history`: the cluster it makes, the digest of
/// its events and the virtual time of the last thing given.
fn rebuild(seed: u64, shape: &Shape, created_at_ms: i64, history: &[Given]) -> (Cluster, EventDigest, i64) {
    let mut cluster = ephemeral_cluster(seed, shape, created_at_ms);
    let mut digest = EventDigest::default();
    let mut last = created_at_ms;
    for given in history {
        match given {
            Given::Request { now_ms, text } => {
                serve_text(&mut cluster, *now_ms, text);
                last = *now_ms;
            }
            Given::Tick { now_ms } => {
                let _ = cluster.tick(*now_ms);
                last = *now_ms;
            }
        }
        digest.add(&cluster.take_events());
    }
    (cluster, digest, last)
}

/// A running digest of the engine's events (their count and an FNV-1a hash of their JSON), to
/// tell whether a replay produced the same ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct EventDigest {
    count: u64,
    hash: u64,
}

impl EventDigest {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

    fn add(&mut self, events: &[(i64, kite_shared::trace::Event)]) {
        for (at_ms, event) in events {
            if self.count == 0 {
                self.hash = Self::FNV_OFFSET;
            }
            self.count += 1;
            let text = format!("{at_ms} {}", serde_json::to_string(event).unwrap_or_default());
            for byte in text.bytes() {
                self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(Self::FNV_PRIME);
            }
        }
    }
}

/// The engine with its storage: the cluster on a journaled memory store, and the database the
/// journal is committed to.
pub struct TabEngine {
    cluster: Cluster,
    /// The engine's time: the wall clock, sped up, slowed down or paused.
    clock: crate::clock::VirtualClock,
    seed: u64,
    shape: Shape,
    /// When the cluster was made (virtual time), for a replay to make it the same way.
    created_at_ms: i64,
    /// Everything the engine was given since it was made; why not, when a replay cannot be had.
    history: Result<Vec<Given>, String>,
    /// The bytes of the requests in `history`.
    history_bytes: usize,
    digest: EventDigest,
    database: String,
    journal: Journal,
    storage: Option<(Rc<TabStorage>, Durability)>,
    /// This tab's claim on the database, held as long as `storage` is.
    lock: Option<DatabaseLock>,
    /// A commit that failed: from then on every request gets this error (the tab's memory is
    /// ahead of what is stored; a reload goes back to what is stored).
    failed: Option<String>,
    /// Said in the welcome: where the data lives and what opening it found.
    pub description: String,
    /// The page's session, as `kite serve` keeps one per websocket: its `subscribe_events`
    /// subscription (after each reply the engine's new events are pushed to it) and the consumers
    /// it opened. No live tails: a replay could not make their fetches again.
    session: HostSession,
    /// The page's scenario (`?scenario=`): the run, or why the script cannot be played.
    scenario: Option<Result<ScenarioRun, String>>,
}

impl TabEngine {
    /// Opens the cluster kept in IndexedDB database `database` (or an empty ephemeral one), as a
    /// restarting broker: the log recovery runs on what the database held.
    pub async fn open(mode: StorageMode, database: &str) -> TabEngine {
        TabEngine::open_with_shape(mode, database, Shape::DEFAULT).await
    }

    /// `open` with `brokers` brokers for a new cluster (a stored one keeps its own count).
    pub async fn open_with_brokers(mode: StorageMode, database: &str, brokers: usize) -> TabEngine {
        TabEngine::open_with_shape(mode, database, Shape::brokers(brokers)).await
    }

    /// `open` with `shape` for a new cluster (a stored one keeps its own brokers and quorum).
    pub async fn open_with_shape(mode: StorageMode, database: &str, shape: Shape) -> TabEngine {
        let journal = Journal::default();
        let fresh_seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let durability = if mode == StorageMode::Strict { Durability::Strict } else { Durability::Relaxed };
        let now = Date::now();
        let opened = match mode {
            StorageMode::Ephemeral => None,
            // The database lock first: another tab running on the same database would write the
            // same files from its own idea of them.
            _ => Some(match DatabaseLock::claim(database, DATABASE_LOCK_WAIT_MS).await {
                Ok(lock) => {
                    TabEngine::open_database(database, &journal, fresh_seed, shape.clone(), now as i64)
                        .await
                        .map(|opened| (opened, lock))
                }
                Err(e) => Err(e),
            }),
        };
        let new = |cluster: Cluster, seed: u64, shape: Shape, history, storage, description| TabEngine {
            database: database.to_string(),
            journal: journal.clone(),
            storage,
            ..TabEngine::in_memory(cluster, seed, shape, (now as i64, now), history, description)
        };
        let fresh = || ephemeral_cluster(fresh_seed, &shape, now as i64);
        match opened {
            None => new(fresh(), fresh_seed, shape, Ok(Vec::new()), None, "ephemeral".into()),
            Some(Ok((opened, lock))) => {
                let description = format!(
                    "IndexedDB{}{}",
                    if durability == Durability::Strict { " (strict)" } else { "" },
                    opened.report
                );
                let history = if opened.new {
                    Ok(Vec::new())
                } else {
                    Err("this cluster was reopened from IndexedDB, with what an earlier visit did: a replay starts from a cluster's beginning (Reset starts a new one)".to_string())
                };
                let storage = Some((Rc::new(opened.storage), durability));
                TabEngine {
                    lock: Some(lock),
                    ..new(opened.cluster, opened.seed, opened.shape, history, storage, description)
                }
            }
            // No IndexedDB (a private window may refuse it), or another tab holds the database:
            // run in memory, and say so.
            Some(Err(e)) => new(fresh(), fresh_seed, shape, Ok(Vec::new()), None, format!("ephemeral: {e}")),
        }
    }

    /// An engine for a page that plays a scenario (`?scenario=v1.…`): memory only, the cluster
    /// the script sets up (its seed, its brokers), the clock at the scenario's start. A script
    /// that cannot be read still gives an engine, which says why when asked to play it.
    pub fn with_scenario(parameter: &str) -> TabEngine {
        let now = Date::now();
        let script = kite_shared::scenario::from_url(parameter)
            .and_then(|text| kite_shared::scenario::parse(&text).map_err(|e| e.to_string()));
        let (cluster, seed, shape, scenario) = match script {
            Ok(script) => {
                let cluster = ScenarioRun::cluster_for(&script);
                let shape = Shape {
                    brokers: script.brokers,
                    controllers: script.controllers,
                    broker_configs: script.broker_configs,
                    racks: script.racks.clone(),
                };
                (cluster, script.seed, shape, Ok(ScenarioRun::new(script)))
            }
            Err(reason) => {
                (ephemeral_cluster(1, &Shape::DEFAULT, SCENARIO_START_MS), 1, Shape::DEFAULT, Err(reason))
            }
        };
        let history = Err("this cluster plays a scenario: open its link again to see it again".into());
        let at = (SCENARIO_START_MS, now);
        TabEngine {
            scenario: Some(scenario),
            ..TabEngine::in_memory(cluster, seed, shape, at, history, "scenario, ephemeral".into())
        }
    }

    /// An engine in memory made at virtual time `made_at.0` (real time `made_at.1`), with what it
    /// was given so far; the constructors above set what differs.
    fn in_memory(
        cluster: Cluster,
        seed: u64,
        shape: Shape,
        made_at: (i64, f64),
        history: Result<Vec<Given>, String>,
        description: String,
    ) -> TabEngine {
        let history_bytes = history.as_ref().map_or(0, |history| history.iter().map(Given::bytes).sum());
        TabEngine {
            cluster,
            clock: crate::clock::VirtualClock::at(made_at.0, made_at.1),
            seed,
            shape,
            created_at_ms: made_at.0,
            history,
            history_bytes,
            digest: EventDigest::default(),
            database: String::new(),
            journal: Journal::default(),
            storage: None,
            lock: None,
            failed: None,
            description,
            session: HostSession::new(Capabilities::TAB),
            scenario: None,
        }
    }

    /// An engine for a page opened with `?state=v1.…` (`share_state`): the shared cluster made
    /// again by replaying its history from its seed, in memory, going on from there. A state that
    /// cannot be read gives an ephemeral new cluster and says why in its description.
    pub fn with_state(parameter: &str) -> TabEngine {
        let now = Date::now();
        let state = kite_shared::scenario::from_url_within(parameter, MAX_SHARED_STATE_BYTES)
            .and_then(|json| {
                kite_shared::tagged::from_json::<SharedState>(&json)
                    .map_err(|e| format!("not a shared state: {e}"))
            })
            .and_then(|state| {
                if !(1..=MAX_TAB_BROKERS).contains(&state.brokers) {
                    Err(format!(
                        "a shared state of {} brokers; a tab runs 1 to {MAX_TAB_BROKERS}",
                        state.brokers
                    ))
                } else {
                    check_quorum_size(state.controllers).map(|_| state)
                }
            });
        let (cluster, seed, shape, created_at_ms, history, digest, last, description) = match state {
            Ok(state) => {
                let shape =
                    Shape { brokers: state.brokers, controllers: state.controllers, ..Shape::DEFAULT };
                let (cluster, digest, last) =
                    rebuild(state.seed, &shape, state.created_at_ms, &state.history);
                let description = format!("shared state of {} requests, ephemeral", state.history.len());
                (cluster, state.seed, shape, state.created_at_ms, state.history, digest, last, description)
            }
            Err(reason) => {
                let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
                let cluster = ephemeral_cluster(seed, &Shape::DEFAULT, now as i64);
                let description = format!("ephemeral — the shared state did not open: {reason}");
                (
                    cluster,
                    seed,
                    Shape::DEFAULT,
                    now as i64,
                    Vec::new(),
                    EventDigest::default(),
                    now as i64,
                    description,
                )
            }
        };
        // The clock goes on from the last request's time; the cluster was made at its own.
        TabEngine {
            digest,
            clock: crate::clock::VirtualClock::at(last, now),
            ..TabEngine::in_memory(cluster, seed, shape, (created_at_ms, now), Ok(history), description)
        }
    }

    async fn open_database(
        database: &str,
        journal: &Journal,
        fresh_seed: u64,
        shape: Shape,
        now_ms: i64,
    ) -> Result<OpenedDatabase, String> {
        let storage = TabStorage::open(database).await?;
        let loaded = storage.load().await?;
        let seed = match loaded.seed {
            Some(seed) => seed,
            None => {
                storage.save_seed(fresh_seed).await?;
                fresh_seed
            }
        };
        // Kite Connect's files and tables: beside the cluster's, journaled the same way.
        let connect: FileMap = loaded
            .files
            .iter()
            .filter(|((dir, _), _)| dir == CONNECT_FILES_DIR || dir == CONNECT_TABLES_DIR)
            .map(|(name, bytes)| (name.clone(), bytes.clone()))
            .collect();
        let mut layout = TabLayout { files: loaded.files, journal: journal.clone() };
        let (brokers, controllers) =
            (Count::ForNew(shape.brokers as u32), Count::ForNew(shape.controllers as u32));
        let (mut cluster, reports, found) =
            layout::open(seed, now_ms, &mut layout, brokers, controllers, StorageOptions::MEMORY)
                .map_err(|e| format!("cannot open the stored cluster: {e}"))?;
        cluster.allow_faults = true;
        cluster.connect_worker().set_files(Box::new(MemoryFiles::journaled(&connect, journal.clone())));
        cluster.set_broker_configs(shape.broker_configs);
        cluster.set_broker_racks(&shape.racks);
        // Opening may itself write (recovery cuts, fresh indexes): store that before serving.
        let ops: Vec<StorageOp> = journal.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        storage.commit(&ops, Durability::Relaxed).await?;
        let recovered: usize = reports.iter().map(|(_, r)| r.recovered_segments).sum();
        let cut: usize = reports.iter().map(|(_, r)| r.truncated_bytes).sum();
        let mut report = match found {
            Found::New(1) => ", new cluster".to_string(),
            Found::New(n) => format!(", new cluster of {n} brokers"),
            Found::Single | Found::BrokerAtRoot => format!(", {} partitions reopened", reports.len()),
            // Removed brokers keep their directories: count the brokers the cluster has.
            Found::Replicated(_) => format!(", {} brokers reopened", cluster.broker_count()),
        };
        if recovered > 0 {
            report.push_str(&format!(", {recovered} segments recovered, {cut} bytes cut"));
        }
        if loaded.dropped_bytes > 0 {
            report.push_str(&format!(", {} bytes after a gap dropped", loaded.dropped_bytes));
        }
        let new = matches!(found, Found::New(_));
        let shape = Shape {
            brokers: found.brokers() as usize,
            controllers: cluster.controller_count(),
            broker_configs: shape.broker_configs,
            racks: shape.racks.clone(),
        };
        Ok(OpenedDatabase { cluster, storage, report, seed, new, shape })
    }

    /// Closes the connection the commits go through, as clearing the site's data does: the
    /// next commit fails, and the tab stops taking requests (the tests' way to make storage fail).
    pub fn close_write_connection(&self) {
        if let Some((storage, _)) = &self.storage {
            storage.close_write_connection();
        }
    }

    /// Closes the database (a dropped connection stays open until collected, and an open one
    /// blocks deleting the database).
    pub fn close(mut self) {
        if let Some((storage, _)) = self.storage.take()
            && let Ok(storage) = Rc::try_unwrap(storage)
        {
            storage.close();
        }
    }

    /// Deletes the cluster's database; from then on this engine refuses requests and the page
    /// starts a new worker, which finds nothing stored and makes a new cluster.
    async fn reset(engine: &RefCell<TabEngine>, id: u64) -> String {
        let (storage, database) = {
            let mut this = engine.borrow_mut();
            this.failed = Some("This cluster was reset; the page starts a new one.".into());
            // The next worker takes the database lock; this one lets go of it now.
            this.lock = None;
            (this.storage.take(), this.database.clone())
        };
        let reply = match storage {
            None => Reply::ClusterReset,
            Some((storage, _)) => {
                // The database is deleted only once no connection is open to it.
                if let Ok(storage) = Rc::try_unwrap(storage) {
                    storage.close();
                }
                match TabStorage::delete(&database).await {
                    Ok(()) => Reply::ClusterReset,
                    Err(e) => Reply::Error(KafkaError::new(
                        ErrorCode::KafkaStorageError,
                        format!("cannot delete the tab's database {database}: {e}"),
                    )),
                }
            }
        };
        encode(&ServerMessage::Reply { id, reply })
    }

    /// Answers one message and commits what it changed; the answer reports a storage failure
    /// instead of the engine's reply if the commit fails. One request on its own, for tests and
    /// benchmarks: the event pushes it causes are dropped (`answer_in_order` posts them).
    pub async fn handle(engine: &RefCell<TabEngine>, now_ms: i64, data: &JsValue) -> String {
        match TabEngine::process(engine, now_ms, data) {
            Processed::Reset(id) => TabEngine::reset(engine, id).await,
            Processed::Answer(held, ops) => {
                let mut held = vec![held];
                let commit = TabEngine::begin_commit(engine, &mut held, &ops);
                TabEngine::settle(engine, &mut held, commit).await;
                held.pop().map(|h| h.answer).unwrap_or_default()
            }
        }
    }

    /// Answers one message in memory: the answer, and the storage changes to commit before it
    /// may be given. A `reset_cluster` is left to the caller (it deletes the database).
    pub fn process(engine: &RefCell<TabEngine>, now_ms: i64, data: &JsValue) -> Processed {
        let answer_only =
            |answer| Processed::Answer(Held { id: None, answer, pushes: Vec::new() }, Vec::new());
        // One copy of the text out of JavaScript and one decode per message: a produce_batch of
        // 4,000 records is 400 KB of JSON, and each pass over it cost the whole request's time.
        let Some(text) = crate::link::request_text(data) else { return answer_only(not_text()) };
        let message = match decode_client_message(&text) {
            Ok(message) => message,
            Err(err) => return answer_only(encode(&ServerMessage::Invalid { message: err.to_string() })),
        };
        let id = message.id;
        let mut this = engine.borrow_mut();
        if let Some(failure) = &this.failed {
            return Processed::Answer(
                Held { id: Some(id), answer: storage_error(id, failure), pushes: Vec::new() },
                Vec::new(),
            );
        }
        let real_ms = now_ms as f64;
        let now = this.clock.now(real_ms);
        // A produce, a new topic or a transaction's end is also shown as the Kafka request a
        // client would send (no Kafka client can connect to a tab).
        let shown = match &message.command {
            Request::Engine(command) if ui_requests::shows(command) => Some(command.clone()),
            _ => None,
        };
        let TabEngine { session, cluster, .. } = &mut *this;
        let answer = match session.answer(cluster, now, message) {
            Turn::Answered(Answer { id, reply, by_engine }) => {
                if let Some(command) = &shown {
                    ui_requests::inspect(&mut this.cluster, now, command, &reply);
                }
                if by_engine {
                    this.remember(Given::Request { now_ms: now, text });
                }
                reply_text(id, reply)
            }
            Turn::ForHost { id, command: TabCommand::ResetCluster } => return Processed::Reset(id),
            Turn::ForHost { id, command } => reply_text(id, this.tab_command(real_ms, command)),
        };
        let pushes = this.take_events(real_ms);
        let ops: Vec<StorageOp> = this.journal.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        Processed::Answer(Held { id: Some(id), answer, pushes }, ops)
    }

    /// Starts committing `ops`, the changes behind the `held` answers. `None` when there is
    /// nothing to wait for: no storage, no change, or the tab already failed (then the held
    /// answers become the storage error).
    pub fn begin_commit(
        engine: &RefCell<TabEngine>,
        held: &mut [Held],
        ops: &[StorageOp],
    ) -> Option<PendingCommit> {
        let storage = {
            let this = engine.borrow();
            if let Some(failure) = &this.failed {
                refuse_held(held, failure);
                return None;
            }
            this.storage.clone()
        };
        let (storage, durability) = storage?;
        if ops.is_empty() {
            return None;
        }
        match storage.begin_commit(ops, durability) {
            Ok(commit) => Some(commit),
            Err(e) => {
                TabEngine::fail(engine, held, e);
                None
            }
        }
    }

    /// Waits for `commit` (if any); if it failed, the tab stops and the `held` answers become
    /// the storage error.
    pub async fn settle(engine: &RefCell<TabEngine>, held: &mut [Held], commit: Option<PendingCommit>) {
        if let Some(commit) = commit
            && let Err(e) = commit.finish().await
        {
            TabEngine::fail(engine, held, e);
        }
    }

    fn fail(engine: &RefCell<TabEngine>, held: &mut [Held], error: String) {
        let failure = format!(
            "{error}. The tab stopped taking requests so nothing stored is lost; reload to continue from what was stored."
        );
        refuse_held(held, &failure);
        engine.borrow_mut().failed = Some(failure);
    }
}

/// A message answered in memory, not yet given: its answer and the event pushes after it.
pub struct Held {
    /// The request's id; `None` for a message that was not a request (its answer stands).
    id: Option<u64>,
    pub answer: String,
    pub pushes: Vec<String>,
}

/// What `process` made of a message.
pub enum Processed {
    /// The answer, given once these storage changes are committed.
    Answer(Held, Vec<StorageOp>),
    /// `reset_cluster` with this id.
    Reset(u64),
}

/// Turns the held answers to requests into the storage error: their changes were not stored.
fn refuse_held(held: &mut [Held], failure: &str) {
    for held in held {
        if let Some(id) = held.id {
            held.answer = storage_error(id, failure);
        }
    }
}

/// A cluster opened from the database, and what opening it found.
struct OpenedDatabase {
    cluster: Cluster,
    storage: TabStorage,
    report: String,
    seed: u64,
    /// Nothing was stored: the cluster is new.
    new: bool,
    shape: Shape,
}

/// The database's files as the engine's layout sees them (`kite_shared::cluster::layout`):
/// `controller/` and `broker-N/` as `kite serve` lays them out, or, in a database from before the
/// layout was shared, one broker's files at the root.
struct TabLayout {
    files: FileMap,
    journal: Journal,
}

impl TabLayout {
    fn holds_files_in(&self, dir: &str) -> bool {
        let nested = format!("{dir}/");
        self.files.keys().any(|(d, _)| d == dir || d.starts_with(&nested))
    }
}

impl LayoutStores for TabLayout {
    fn holds(&self, dir: &str) -> bool {
        self.holds_files_in(dir)
    }

    fn holds_broker_at_root(&self) -> bool {
        self.files.keys().any(|(dir, _)| dir.is_empty())
    }

    fn store(&mut self, dir: &str) -> Result<Box<dyn BrokerStore>, String> {
        Ok(Box::new(if dir.is_empty() {
            // Only a database of the earlier layout is opened at its root, as its one broker.
            MemoryBrokerStore::journaled(std::mem::take(&mut self.files), self.journal.clone())
        } else {
            MemoryBrokerStore::journaled_under(dir, &self.files, self.journal.clone())
        }))
    }

    fn new_broker_stores(&self) -> Option<kite_shared::cluster::layout::NewBrokerStore> {
        let journal = self.journal.clone();
        // A new broker's directory is empty: nothing of the loaded files is under it.
        Some(Box::new(move |dir| {
            Ok(Box::new(MemoryBrokerStore::journaled_under(dir, &FileMap::new(), journal.clone()))
                as Box<dyn BrokerStore>)
        }))
    }
}

impl TabEngine {
    /// Answers what the tab does rather than the engine or the page's session: the virtual clock,
    /// replay, a shared link and the page's scenario (a reset is the caller's: it deletes the
    /// database).
    fn tab_command(&mut self, real_ms: f64, command: TabCommand) -> Reply {
        let refuse = |message: String| Reply::Error(KafkaError::new(ErrorCode::InvalidRequest, message));
        match command {
            TabCommand::SetClock { speed_percent, paused, step_ms } => {
                let mut result = Ok(());
                if let Some(speed) = speed_percent {
                    result = self.clock.set_speed(real_ms, speed);
                }
                if let (Ok(()), Some(paused)) = (&result, paused) {
                    self.clock.set_paused(real_ms, paused);
                }
                if let (Ok(()), Some(step)) = (&result, step_ms) {
                    result = self.clock.step(step).map(|now| {
                        self.remember(Given::Tick { now_ms: now });
                        // Problems a tick meets are the brokers' own, shown in their events.
                        let _ = self.cluster.tick(now);
                    });
                }
                match result {
                    Ok(()) => self.clock_reply(real_ms),
                    Err(reason) => refuse(reason),
                }
            }
            TabCommand::Replay => self.replay(),
            TabCommand::ShareState => match &self.history {
                Ok(history) => {
                    let state = SharedState {
                        seed: self.seed,
                        brokers: self.shape.brokers,
                        controllers: self.shape.controllers,
                        created_at_ms: self.created_at_ms,
                        history: history.clone(),
                    };
                    let json = serde_json::to_string(&state).unwrap_or_default();
                    Reply::StateShared { parameter: kite_shared::scenario::to_url(&json) }
                }
                Err(reason) => refuse(format!("No link to share: {reason}.")),
            },
            TabCommand::ContinueScenario { choice } => self.continue_scenario(real_ms, choice.as_deref()),
            TabCommand::ResetCluster => refuse("The tab resets its cluster before it answers.".into()),
        }
    }

    /// Plays the page's scenario to its next pause, on this engine's cluster and clock.
    /// Plays the scenario on to its next pause or question, with the reader's `choice` for the
    /// question it stopped at.
    fn continue_scenario(&mut self, real_ms: f64, choice: Option<&str>) -> Reply {
        let refuse = |message: String| Reply::Error(KafkaError::new(ErrorCode::InvalidRequest, message));
        match &mut self.scenario {
            None => refuse("This page plays no scenario (open it with ?scenario=…).".into()),
            Some(Err(reason)) => refuse(reason.clone()),
            Some(Ok(run)) => {
                if let Some(Err(reason)) = choice.map(|choice| run.answer(choice)) {
                    return refuse(format!("Not an answer: {reason}."));
                }
                if choice.is_none() && run.awaits_answer() {
                    // A Continue sent before the question showed (a double click): the question
                    // stays until the reader picks, rather than being passed unanswered.
                    return Reply::ScenarioPlayed { steps: Vec::new(), finished: false };
                }
                run.sync_to(self.clock.now(real_ms));
                let steps = run.run_until_pause(&mut self.cluster);
                self.clock.jump_to(run.now_ms(), real_ms);
                Reply::ScenarioPlayed { steps, finished: run.finished() }
            }
        }
    }

    fn clock_reply(&self, real_ms: f64) -> Reply {
        Reply::Clock {
            now_ms: self.clock.now(real_ms),
            speed_percent: self.clock.speed_percent(),
            paused: self.clock.paused(),
            seed: self.seed,
        }
    }

    /// Keeps what the engine is given, for a replay, while there is room.
    fn remember(&mut self, given: Given) {
        if let Ok(history) = &mut self.history {
            self.history_bytes += given.bytes();
            if history.len() == MAX_REPLAY_REQUESTS || self.history_bytes > MAX_REPLAY_HISTORY_BYTES {
                // What was kept goes: the replay is not to be had any more.
                self.history = Err(format!(
                    "this cluster has had more than {MAX_REPLAY_REQUESTS} requests or {} MiB of them, more than a replay keeps",
                    MAX_REPLAY_HISTORY_BYTES / (1024 * 1024)
                ));
            } else {
                history.push(given);
            }
        }
    }

    /// The engine's events since the last call, counted into the digest a replay compares, and
    /// the pushes the page's session makes of them.
    fn take_events(&mut self, real_ms: f64) -> Vec<String> {
        let events = self.cluster.take_events();
        self.digest.add(&events);
        let now = self.clock.now(real_ms);
        self.session.pushes(&mut self.cluster, now, &events)
    }

    /// A new cluster with this one's seed, given everything this one was given at the same
    /// virtual times: the engine is deterministic, so its events and state must come out the same.
    fn replay(&mut self) -> Reply {
        let history = match &self.history {
            Ok(history) => history.clone(),
            Err(reason) => {
                return Reply::Error(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    format!("No replay: {reason}."),
                ));
            }
        };
        // (Every event so far is in the digest: it is taken after each request.)
        let (mut replayed, digest, last) = rebuild(self.seed, &self.shape, self.created_at_ms, &history);
        let mut differences = Vec::new();
        if digest != self.digest {
            differences.push(format!(
                "events: {} here, {} replayed (or the same number, in another order or with other contents)",
                self.digest.count, digest.count
            ));
        }
        for (what, command) in [("topics", Command::ListTopics), ("cluster", Command::DescribeCluster)] {
            let here = self.cluster.handle(last, command.clone());
            let there = replayed.handle(last, command);
            if here != there {
                differences.push(format!("{what}: {} here, {} replayed", encode(&here), encode(&there)));
            }
        }
        Reply::Replayed {
            seed: self.seed,
            requests: history.len(),
            events: digest.count,
            identical: differences.is_empty(),
            differences,
        }
    }
}

/// The answer to request `id` when storage failed.
fn storage_error(id: u64, failure: &str) -> String {
    encode(&ServerMessage::Reply {
        id,
        reply: Reply::Error(KafkaError::new(ErrorCode::KafkaStorageError, failure)),
    })
}

/// The answer to a message that is not text.
fn not_text() -> String {
    encode(&ServerMessage::Invalid {
        message: "the worker accepts JSON text messages only, as a string or UTF-8 bytes".into(),
    })
}

/// The page's query string, as the worker sees it in its own URL.
fn worker_query() -> String {
    Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|location| Reflect::get(&location, &JsValue::from_str("search")))
        .ok()
        .and_then(|search| search.as_string())
        .unwrap_or_default()
}

/// Answers the messages in `queue` until it is empty, posting each answer (and the event pushes
/// after it) in order, each once its changes are stored. Messages may join `queue` while this
/// waits.
///
/// While one group of requests is being stored, the next ones are answered in memory, and
/// stored together when the first group is done: computing and storing overlap, and IndexedDB
/// sees one transaction per group, its appends joined. A transaction starts only after the
/// previous one completed, so if one fails, nothing after it is stored either, and the answers
/// not yet given become the storage error.
pub async fn answer_in_order(
    engine: &RefCell<TabEngine>,
    queue: &RefCell<VecDeque<JsValue>>,
    post: impl Fn(&[&str]),
) {
    // The answers given together, each followed by the pushes it caused, go out in one post.
    let post = |held: Vec<Held>| {
        let texts: Vec<&str> = held
            .iter()
            .flat_map(|held| {
                std::iter::once(held.answer.as_str()).chain(held.pushes.iter().map(String::as_str))
            })
            .collect();
        if !texts.is_empty() {
            post(&texts);
        }
    };
    let mut storing: Option<(Vec<Held>, Option<PendingCommit>)> = None;
    loop {
        let (mut held, mut ops, mut reset) = (Vec::new(), Vec::new(), None);
        while reset.is_none() {
            let next = queue.borrow_mut().pop_front();
            let Some(data) = next else { break };
            match TabEngine::process(engine, Date::now() as i64, &data) {
                Processed::Answer(answer, changes) => {
                    held.push(answer);
                    ops.extend(changes);
                }
                Processed::Reset(id) => reset = Some(id),
            }
        }
        if let Some((mut stored, commit)) = storing.take() {
            TabEngine::settle(engine, &mut stored, commit).await;
            post(stored);
        }
        let commit = TabEngine::begin_commit(engine, &mut held, &coalesce_appends(ops));
        if commit.is_some() {
            storing = Some((held, commit));
        } else {
            post(held);
        }
        if let Some(id) = reset {
            if let Some((mut stored, commit)) = storing.take() {
                TabEngine::settle(engine, &mut stored, commit).await;
                post(stored);
            }
            let answer = TabEngine::reset(engine, id).await;
            post(vec![Held { id: Some(id), answer, pushes: Vec::new() }]);
        }
        if storing.is_none() && queue.borrow().is_empty() {
            break;
        }
    }
}

pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let query = worker_query();
        let mode = StorageMode::from_query(&query);
        let shape = Shape::from_query(&query);
        let scenario = query.trim_start_matches('?').split('&').find_map(|p| p.strip_prefix("scenario="));
        let shared = query.trim_start_matches('?').split('&').find_map(|p| p.strip_prefix("state="));
        let engine = match (scenario, shared) {
            // A scenario or a shared state keeps nothing: the link is the state.
            (Some(parameter), _) => TabEngine::with_scenario(parameter),
            (None, Some(parameter)) => TabEngine::with_state(parameter),
            (None, None) => TabEngine::open_with_shape(mode, DEFAULT_DATABASE_NAME, shape).await,
        };
        let engine = Rc::new(RefCell::new(engine));
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
                // Posting a string to our own page cannot fail short of the page being gone.
                answer_in_order(&engine, &queue, |texts| crate::link::post_lines(&scope, texts)).await;
                *busy.borrow_mut() = false;
            });
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        on_message.forget();
        let engine_name = format!("{ENGINE_NAME}, {}", engine.borrow().description);
        // Messages sent before this point would have been lost, so the page waits for this welcome.
        crate::link::post_lines(&scope, &[&welcome_text(&engine_name)]);
    });
}
