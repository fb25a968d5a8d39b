//! The Connect worker: a client of the cluster, as Kafka Connect's distributed worker is. It
//! keeps connectors' configs, task configs and target states in `connect-configs`, source
//! offsets in `connect-offsets` and states in `connect-status` (Kafka Connect's keys and JSON),
//! reads them back when it starts, and runs each task through the engine's own producer and
//! consumer-group paths (`Cluster::handle`), never around them. One worker per cluster; the
//! host steps it from the cluster's tick.

use std::collections::BTreeMap;

use super::files::{ConnectFiles, MemoryFiles};
use super::plugins::{self, ConnectorConfig, ConnectorType, Plugin};
use super::storage::{
    self, CONFIG_TOPIC, ConfigRecord, OFFSET_TOPIC, OFFSET_TOPIC_PARTITIONS, STATUS_TOPIC,
    STATUS_TOPIC_PARTITIONS, State, TargetState,
};
use super::task::{self, Ctx, Run};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;
use crate::limits::{MAX_CONNECT_RESTORE_RECORDS, MAX_FETCH_RECORDS};
use crate::serializer::SerializerKind;

/// How often (ms of the host's clock) tasks poll: a source reads its file, a sink its topics.
pub const CONNECT_POLL_INTERVAL_MS: i64 = 100;
/// `offset.flush.interval.ms` as Kafka's `connect-distributed.properties` and
/// `connect-standalone.properties` set it (the code's default is 60,000): how often a source's
/// offsets and a sink's consumer positions are committed.
pub const OFFSET_FLUSH_INTERVAL_MS: i64 = 10_000;
/// Kafka Connect's internal topics' replication factor (`config.storage.replication.factor`, …).
pub const INTERNAL_TOPIC_REPLICAS: usize = 3;
/// Polls one task makes in one step at most, while each comes back full.
pub const MAX_POLLS_PER_STEP: usize = 16;
/// The worker's generation in its group, as its status records carry it: Kite runs one worker.
const GENERATION: i32 = 1;
/// How often a `topics.regex` sink looks for the topics its pattern matches (ms). Kafka's
/// consumer looks at its metadata refresh (`metadata.max.age.ms`, 5 minutes by default); Kite
/// looks every few seconds so a reader sees a new topic picked up.
pub const SINK_TOPICS_REGEX_REFRESH_MS: i64 = 5_000;
/// The worker id a host that names none is shown as.
pub const DEFAULT_WORKER_ID: &str = "kite:8083";

/// Whether the worker knows its internal topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not looked yet (a worker just started).
    Unknown,
    /// No `connect-configs`: nothing to run until a connector is created.
    Absent,
    /// Its topics exist and were read back.
    Ready,
}

/// A connector, as the worker runs it.
#[derive(Debug)]
struct Connector {
    config: BTreeMap<String, String>,
    target: TargetState,
    state: State,
    trace: Option<String>,
    tasks: Vec<Task>,
    /// When its tasks last committed offsets (ms).
    last_flush_ms: i64,
    /// Its config checked (transforms compiled), kept until the config changes.
    checked: Option<Result<ConnectorConfig, String>>,
}

/// A task and where it is.
#[derive(Debug)]
struct Task {
    config: BTreeMap<String, String>,
    state: State,
    trace: Option<String>,
    run: Run,
}

/// Records a task moved, for the Connect view and the benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Records a source produced, or a sink wrote.
    pub records: u64,
    /// Records a `Filter` dropped.
    pub filtered: u64,
    /// Records that failed and were skipped (`errors.tolerance=all`).
    pub skipped: u64,
}

/// The Connect worker.
pub struct Worker {
    worker_id: String,
    /// Where the worker's random choices come from (datagen's records): the host's seed.
    seed: u64,
    files: Box<dyn ConnectFiles + Send>,
    phase: Phase,
    connectors: BTreeMap<String, Connector>,
    /// `task-<name>-<n>` records read since the connector's last `commit-<name>`.
    pending_tasks: BTreeMap<String, BTreeMap<usize, BTreeMap<String, String>>>,
    /// Source offsets as `connect-offsets` holds them: (connector, source partition) → offset.
    offsets: BTreeMap<(String, String), serde_json::Value>,
    /// Records for the internal topics not written yet, in order: a write a client would retry
    /// (a new topic's leader not made yet, too few replicas in sync) waits here and goes at the
    /// next step, before anything written after it.
    outbox: std::collections::VecDeque<Outgoing>,
    /// Consumers of tasks stopped, to close at the next step, each with whether it commits its
    /// positions first (a task stopped on request does, as Kafka's sink task does when it
    /// closes its partitions; a failed one does not).
    closing: Vec<(u32, bool)>,
    /// Records moved, by (connector, task).
    counts: BTreeMap<(String, usize), TaskCounts>,
    /// What went wrong reading the internal topics back (a record a client wrote there that
    /// does not parse), newest last, at most `MAX_PROBLEMS_KEPT`.
    problems: Vec<String>,
    next_poll_ms: i64,
}

const MAX_PROBLEMS_KEPT: usize = 32;

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("phase", &self.phase)
            .field("connectors", &self.connectors)
            .finish_non_exhaustive()
    }
}

impl Default for Worker {
    fn default() -> Worker {
        Worker {
            worker_id: DEFAULT_WORKER_ID.to_string(),
            seed: 0,
            files: Box::new(MemoryFiles::default()),
            phase: Phase::Unknown,
            connectors: BTreeMap::new(),
            pending_tasks: BTreeMap::new(),
            offsets: BTreeMap::new(),
            outbox: std::collections::VecDeque::new(),
            closing: Vec::new(),
            counts: BTreeMap::new(),
            problems: Vec::new(),
            next_poll_ms: i64::MIN,
        }
    }
}

/// A record for an internal topic: its topic, partition (the config topic's one; the default
/// partitioner's otherwise), key and value (`None`: a tombstone).
#[derive(Debug)]
struct Outgoing {
    topic: &'static str,
    partition: Option<i32>,
    key: String,
    value: Option<String>,
}

/// A refusal, as Kafka Connect's REST API answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError {
    /// The HTTP status (and `error_code`).
    pub status: u16,
    /// Kafka Connect's message.
    pub message: String,
}

impl ConnectError {
    pub(super) fn new(status: u16, message: impl Into<String>) -> ConnectError {
        ConnectError { status, message: message.into() }
    }

    fn not_found(name: &str) -> ConnectError {
        ConnectError::new(404, format!("Connector {name} not found"))
    }
}

impl Worker {
    /// The worker id its status records and REST answers carry (a host's `host:port`).
    pub fn set_worker_id(&mut self, worker_id: String) {
        self.worker_id = worker_id;
    }

    /// A worker whose random choices follow `seed` (the cluster's).
    pub fn with_seed(seed: u64) -> Worker {
        Worker { seed, ..Worker::default() }
    }

    /// Where the file connectors read and write.
    pub fn set_files(&mut self, files: Box<dyn ConnectFiles + Send>) {
        self.files = files;
    }

    /// The files the connectors read and write.
    pub fn files(&mut self) -> &mut dyn ConnectFiles {
        self.files.as_mut()
    }

    /// Problems met reading the internal topics back, newest last.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The worker's process dies: its sink consumers vanish without a word (their group notices
    /// when their sessions time out), nothing is committed, and a new worker with the same id and
    /// files starts, reading its connectors and offsets back from the internal topics.
    pub fn crash(&mut self, cluster: &mut Cluster, now_ms: i64) {
        let consumers: Vec<u32> =
            self.connectors.values().flat_map(|c| c.tasks.iter().filter_map(Task::consumer)).collect();
        for consumer in consumers {
            cluster.handle(now_ms, Command::CrashConsumer { consumer });
        }
        let files = std::mem::replace(&mut self.files, Box::new(MemoryFiles::default()));
        *self = Worker {
            worker_id: std::mem::take(&mut self.worker_id),
            seed: self.seed,
            files,
            ..Worker::default()
        };
    }

    /// Records a task moved so far.
    pub fn counts(&self, connector: &str, task: usize) -> TaskCounts {
        self.counts.get(&(connector.to_string(), task)).copied().unwrap_or_default()
    }

    /// One step: reads the internal topics back the first time, starts what should run, polls
    /// every running task once each `CONNECT_POLL_INTERVAL_MS`, and commits offsets each
    /// `OFFSET_FLUSH_INTERVAL_MS`.
    pub fn tick(&mut self, cluster: &mut Cluster, now_ms: i64) {
        if self.phase == Phase::Unknown {
            self.open(cluster, now_ms);
        }
        if self.phase != Phase::Ready || now_ms < self.next_poll_ms {
            return;
        }
        self.next_poll_ms = now_ms + CONNECT_POLL_INTERVAL_MS;
        if let Err(problem) = self.flush_outbox(cluster, now_ms) {
            self.problem(problem);
        }
        self.settle(cluster, now_ms);
        let names: Vec<String> = self.connectors.keys().cloned().collect();
        for name in names {
            self.poll_connector(cluster, now_ms, &name);
        }
    }

    /// Whether the worker knows its connectors: it read its internal topics back, or there are
    /// none yet. A worker that could not read them yet (a restarted cluster still electing
    /// leaders) tries now.
    pub fn caught_up(&mut self, cluster: &mut Cluster, now_ms: i64) -> bool {
        if self.phase == Phase::Unknown {
            self.open(cluster, now_ms);
        }
        self.phase != Phase::Unknown
    }

    /// Reads `connect-configs` and `connect-offsets` back, when they exist.
    fn open(&mut self, cluster: &mut Cluster, now_ms: i64) {
        if cluster.topic_partition_count(CONFIG_TOPIC).is_none() {
            self.phase = Phase::Absent;
            return;
        }
        // Like Kafka's worker, which reads its config topic to the end before it runs anything:
        // a topic that cannot be read yet (a restarted cluster still electing leaders) is read
        // again at the next step, rather than taken for empty.
        let (Ok(configs), Ok(offsets)) =
            (self.read_back(cluster, now_ms, CONFIG_TOPIC), self.read_back(cluster, now_ms, OFFSET_TOPIC))
        else {
            return;
        };
        for (key, value) in configs {
            match ConfigRecord::parse(&key, value.as_deref()) {
                Ok(Some(record)) => self.apply(record),
                Ok(None) => {}
                Err(problem) => self.problem(problem),
            }
        }
        for (key, value) in offsets {
            match storage::parse_offset_key(&key) {
                Ok((connector, partition)) => {
                    let at = (connector, partition.to_string());
                    match value.and_then(|v| serde_json::from_str(&v).ok()) {
                        Some(offset) => self.offsets.insert(at, offset),
                        None => self.offsets.remove(&at),
                    };
                }
                Err(problem) => self.problem(problem),
            }
        }
        self.phase = Phase::Ready;
    }

    fn problem(&mut self, problem: String) {
        if self.problems.len() == MAX_PROBLEMS_KEPT {
            self.problems.remove(0);
        }
        self.problems.push(problem);
    }

    /// Every record of an internal topic, partition by partition, as (key, value) text.
    fn read_back(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        topic: &str,
    ) -> Result<Vec<(String, Option<String>)>, String> {
        let mut records = Vec::new();
        for partition in 0..cluster.topic_partition_count(topic).unwrap_or(0) {
            let mut offset = 0;
            loop {
                let fetch = Command::Fetch {
                    topic: topic.to_string(),
                    partition,
                    offset,
                    max_records: MAX_FETCH_RECORDS,
                    key_deserializer: SerializerKind::String,
                    value_deserializer: SerializerKind::String,
                    isolation_level: Default::default(),
                };
                let (read, log_start_offset, log_end_offset) = match cluster.handle(now_ms, fetch) {
                    Reply::Records { records, log_start_offset, log_end_offset, .. } => {
                        (records, log_start_offset, log_end_offset)
                    }
                    Reply::Error(e) => return Err(format!("{topic}-{partition}: {}", e.error.name())),
                    other => return Err(format!("{topic}-{partition}: {other:?}")),
                };
                if read.is_empty() && offset < log_start_offset {
                    offset = log_start_offset;
                    continue;
                }
                let Some(last) = read.last().map(|r| r.offset) else { break };
                records.extend(read.into_iter().filter_map(|r| Some((r.key?, r.value))));
                offset = last + 1;
                if records.len() >= MAX_CONNECT_RESTORE_RECORDS {
                    self.problem(format!("{topic} holds more than {MAX_CONNECT_RESTORE_RECORDS} records; the rest were not read"));
                    return Ok(records);
                }
                if offset >= log_end_offset {
                    break;
                }
            }
        }
        Ok(records)
    }

    /// Applies a `connect-configs` record: the same whether it was just written or read back.
    fn apply(&mut self, record: ConfigRecord) {
        match record {
            ConfigRecord::Connector { name, properties: Some(config) } => {
                let connector = self.connectors.entry(name).or_insert_with(|| Connector {
                    config: BTreeMap::new(),
                    target: TargetState::Started,
                    state: State::Unassigned,
                    trace: None,
                    tasks: Vec::new(),
                    last_flush_ms: i64::MIN,
                    checked: None,
                });
                connector.config = config;
                connector.checked = None;
            }
            ConfigRecord::Connector { name, properties: None } => {
                if let Some(gone) = self.connectors.remove(&name) {
                    self.closing.extend(gone.tasks.iter().filter_map(Task::consumer).map(|c| (c, true)));
                }
            }
            ConfigRecord::Task { name, task, properties } => {
                self.pending_tasks.entry(name).or_default().insert(task, properties);
            }
            ConfigRecord::Commit { name, tasks } => {
                let mut pending = self.pending_tasks.remove(&name).unwrap_or_default();
                if let Some(connector) = self.connectors.get_mut(&name) {
                    self.closing.extend(connector.tasks.iter().filter_map(Task::consumer).map(|c| (c, true)));
                    connector.tasks = (0..tasks)
                        .map(|i| Task {
                            config: pending.remove(&i).unwrap_or_default(),
                            state: State::Unassigned,
                            trace: None,
                            run: Run::Idle,
                        })
                        .collect();
                }
            }
            ConfigRecord::Target { name, state } => {
                if let Some(connector) = self.connectors.get_mut(&name) {
                    connector.target = state.unwrap_or(TargetState::Started);
                }
            }
        }
    }

    /// Closes the consumers of tasks stopped, then starts (or pauses, or stops) what the
    /// configs and target states ask.
    fn settle(&mut self, cluster: &mut Cluster, now_ms: i64) {
        self.close_stopped(cluster, now_ms);
        self.start(cluster, now_ms);
    }

    fn close_stopped(&mut self, cluster: &mut Cluster, now_ms: i64) {
        for (consumer, commit) in std::mem::take(&mut self.closing) {
            if commit {
                cluster.handle(now_ms, Command::CommitOffsets { consumer });
            }
            cluster.handle(now_ms, Command::CloseConsumer { consumer });
        }
    }

    /// Brings every connector and task to what its target state asks, writing each change of
    /// state to `connect-status`.
    fn start(&mut self, cluster: &mut Cluster, now_ms: i64) {
        let names: Vec<String> = self.connectors.keys().cloned().collect();
        for name in names {
            let Some(checked) = self.checked(&name) else { continue };
            let Some(connector) = self.connectors.get(&name) else { continue };
            let (state, trace) = match (&checked, connector.target) {
                (Err(e), _) => (State::Failed, Some(e.clone())),
                (Ok(_), TargetState::Started) => (State::Running, None),
                (Ok(_), TargetState::Paused) => (State::Paused, None),
                (Ok(_), TargetState::Stopped) => (State::Stopped, None),
            };
            self.set_state(cluster, now_ms, &name, None, state, trace);
            let Ok(config) = checked else { continue };
            for task in 0..self.connectors.get(&name).map_or(0, |c| c.tasks.len()) {
                self.start_task(cluster, now_ms, &name, task, &config);
            }
        }
    }

    fn start_task(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: usize,
        config: &ConnectorConfig,
    ) {
        let Some(connector) = self.connectors.get(name) else { return };
        let current = connector.tasks[task].state;
        let wanted = match connector.target {
            TargetState::Started if current == State::Failed => return,
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        if wanted == State::Stopped {
            self.stop_run(name, task, true);
        } else if wanted == State::Running && matches!(connector.tasks[task].run, Run::Idle) {
            let run = match config.plugin.kind() {
                ConnectorType::Source => {
                    let partition = Run::source_partition(config, task).to_string();
                    Run::source(config, task, self.offsets.get(&(name.to_string(), partition)), self.seed)
                }
                ConnectorType::Sink => match open_sink(cluster, now_ms, name, task, config) {
                    Ok(Some(run)) => run,
                    Ok(None) => return,
                    Err(e) => {
                        return self.set_state(cluster, now_ms, name, Some(task), State::Failed, Some(e));
                    }
                },
            };
            if let Some(connector) = self.connectors.get_mut(name) {
                connector.tasks[task].run = run;
            }
        }
        self.set_state(cluster, now_ms, name, Some(task), wanted, None);
    }

    /// Sets a connector's (`task` `None`) or a task's state, writing it to `connect-status` when
    /// it changed.
    fn set_state(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: Option<usize>,
        state: State,
        trace: Option<String>,
    ) {
        let Some(connector) = self.connectors.get_mut(name) else { return };
        let (at_state, at_trace) = match task {
            None => (&mut connector.state, &mut connector.trace),
            Some(i) => {
                let task = &mut connector.tasks[i];
                (&mut task.state, &mut task.trace)
            }
        };
        if *at_state == state && *at_trace == trace {
            return;
        }
        let key = match task {
            None => storage::connector_status_key(name),
            Some(i) => storage::task_status_key(name, i),
        };
        let value = storage::status_value(state, trace.as_deref(), &self.worker_id, GENERATION);
        (*at_state, *at_trace) = (state, trace);
        let _ = self.write_internal(
            cluster,
            now_ms,
            Outgoing { topic: STATUS_TOPIC, partition: None, key, value: Some(value) },
        );
    }

    /// A connector's config checked, from the cache while its config is unchanged.
    fn checked(&mut self, name: &str) -> Option<Result<ConnectorConfig, String>> {
        let Connector { config, checked, .. } = self.connectors.get_mut(name)?;
        Some(checked.get_or_insert_with(|| plugins::parse(config)).clone())
    }

    /// Polls a connector's running tasks once, and commits their offsets when it is time.
    fn poll_connector(&mut self, cluster: &mut Cluster, now_ms: i64, name: &str) {
        let Some(Ok(config)) = self.checked(name) else { return };
        let Some(connector) = self.connectors.get(name) else { return };
        let flush = now_ms.saturating_sub(connector.last_flush_ms) >= OFFSET_FLUSH_INTERVAL_MS;
        for task in 0..connector.tasks.len() {
            let running = self.connectors.get(name).is_some_and(|c| c.tasks[task].state == State::Running);
            if !running {
                continue;
            }
            if let Err(trace) = self.follow_topics_regex(cluster, now_ms, name, task, &config) {
                self.fail_task(cluster, now_ms, name, task, trace);
                continue;
            }
            // A poll that came back full (a whole batch.size of lines, max.poll.records) is
            // followed by another at once, as Kafka's tasks poll while there is data, up to
            // MAX_POLLS_PER_STEP so one step stays short.
            let mut polled = Ok(());
            for _ in 0..MAX_POLLS_PER_STEP {
                match self.poll_task(cluster, now_ms, name, task, &config) {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        polled = Err(e);
                        break;
                    }
                }
            }
            let committed = polled.and_then(|()| {
                if flush { self.commit_task(cluster, now_ms, name, task, &config) } else { Ok(()) }
            });
            if let Err(trace) = committed {
                self.fail_task(cluster, now_ms, name, task, trace);
            }
        }
        if let (true, Some(connector)) = (flush, self.connectors.get_mut(name)) {
            connector.last_flush_ms = now_ms;
        }
    }

    /// A `topics.regex` sink looks again, every `SINK_TOPICS_REGEX_REFRESH_MS`, for the topics
    /// its pattern matches; when they changed, its consumer goes (its file flushed and its
    /// positions committed first) and a new one subscribes to them, as a pattern subscription
    /// rejoins its group when its metadata shows new topics.
    fn follow_topics_regex(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: usize,
        config: &ConnectorConfig,
    ) -> Result<(), String> {
        if config.topics_regex.is_none() {
            return Ok(());
        }
        let Some(connector) = self.connectors.get_mut(name) else { return Ok(()) };
        let (subscribed, checked_ms, written) = match &mut connector.tasks[task].run {
            Run::Sink { topics, checked_ms, written, .. } => (topics.clone(), checked_ms, *written),
            Run::NoTopics { checked_ms } => (Vec::new(), checked_ms, false),
            _ => return Ok(()),
        };
        if now_ms.saturating_sub(*checked_ms) < SINK_TOPICS_REGEX_REFRESH_MS {
            return Ok(());
        }
        *checked_ms = now_ms;
        if sink_topics(cluster, now_ms, config) == subscribed {
            return Ok(());
        }
        if written && config.jdbc.is_none() {
            self.files.flush(&config.file)?;
        }
        self.stop_run(name, task, true);
        // A coordinator not ready yet: look again at the next step.
        let run = open_sink(cluster, now_ms, name, task, config)?
            .unwrap_or(Run::NoTopics { checked_ms: now_ms - SINK_TOPICS_REGEX_REFRESH_MS });
        if let Some(connector) = self.connectors.get_mut(name) {
            connector.tasks[task].run = run;
        }
        Ok(())
    }

    /// A task's run ends: a sink's consumer is closed at the next step, committing its
    /// positions first when `commit` (a stop on request; not a failure).
    fn stop_run(&mut self, name: &str, task: usize, commit: bool) {
        if let Some(connector) = self.connectors.get_mut(name)
            && let Run::Sink { consumer, .. } = std::mem::replace(&mut connector.tasks[task].run, Run::Idle)
        {
            self.closing.push((consumer, commit));
        }
    }

    fn fail_task(&mut self, cluster: &mut Cluster, now_ms: i64, name: &str, task: usize, trace: String) {
        self.stop_run(name, task, false);
        self.set_state(cluster, now_ms, name, Some(task), State::Failed, Some(trace));
    }

    fn poll_task(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: usize,
        config: &ConnectorConfig,
    ) -> Result<bool, String> {
        let Some(connector) = self.connectors.get_mut(name) else { return Ok(false) };
        let mut ctx = Ctx { cluster, now_ms, files: self.files.as_mut(), config, name, task };
        let moved = connector.tasks[task].run.poll(&mut ctx)?;
        let counts = self.counts.entry((name.to_string(), task)).or_default();
        counts.records += moved.records;
        counts.filtered += moved.filtered;
        counts.skipped += moved.skipped;
        Ok(moved.full)
    }

    /// A source writes its position to `connect-offsets`; a sink flushes its file, then commits
    /// its consumer's positions to `connect-<name>`.
    fn commit_task(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: usize,
        config: &ConnectorConfig,
    ) -> Result<(), String> {
        let Some(connector) = self.connectors.get_mut(name) else { return Ok(()) };
        match &mut connector.tasks[task].run {
            run @ (Run::File { .. } | Run::Datagen { .. }) => {
                if let Some(offset) = run.take_offset() {
                    let partition = Run::source_partition(config, task);
                    let key = storage::offset_key(name, &partition);
                    let record = Outgoing {
                        topic: OFFSET_TOPIC,
                        partition: None,
                        key,
                        value: Some(offset.to_string()),
                    };
                    self.write_internal(cluster, now_ms, record)?;
                    self.offsets.insert((name.to_string(), partition.to_string()), offset);
                }
            }
            Run::Sink { consumer, written, .. } if *written => {
                // The JDBC sink's rows are committed with each poll's transaction already.
                if config.jdbc.is_none() {
                    self.files.flush(&config.file)?;
                }
                if let Reply::Error(e) =
                    cluster.handle(now_ms, Command::CommitOffsets { consumer: *consumer })
                {
                    return Err(format!("Commit of offsets failed: {}: {}", e.error.name(), e.message));
                }
                *written = false;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The topics a sink reads: its `topics`, or those whose whole name its `topics.regex` matches,
/// internal topics left out (a consumer's `exclude.internal.topics`).
fn sink_topics(cluster: &mut Cluster, now_ms: i64, config: &ConnectorConfig) -> Vec<String> {
    let Some(regex) = &config.topics_regex else { return config.topics.clone() };
    match cluster.handle(now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics
            .into_iter()
            .map(|t| t.name)
            .filter(|name| !name.starts_with("__") && regex.is_match(name))
            .collect(),
        _ => Vec::new(),
    }
}

/// A sink task's run: a consumer subscribed to its topics, or, for a `topics.regex` that
/// matches none yet, nothing to read; `None` when its group's coordinator is not ready.
fn open_sink(
    cluster: &mut Cluster,
    now_ms: i64,
    name: &str,
    task: usize,
    config: &ConnectorConfig,
) -> Result<Option<Run>, String> {
    let topics = sink_topics(cluster, now_ms, config);
    if topics.is_empty() {
        return Ok(Some(Run::NoTopics { checked_ms: now_ms }));
    }
    let consumer = open_sink_consumer(cluster, now_ms, name, task, &topics)?;
    Ok(consumer.map(|consumer| Run::Sink { consumer, written: false, topics, checked_ms: now_ms }))
}

/// The sink task's consumer: a member of `connect-<name>` subscribed to `topics`, reading from
/// the earliest offset when the group has none (Connect's default), committing only when the
/// worker says.
fn open_sink_consumer(
    cluster: &mut Cluster,
    now_ms: i64,
    name: &str,
    task: usize,
    topics: &[String],
) -> Result<Option<u32>, String> {
    // The consumer's metadata request creates a topic it subscribes to when missing
    // (`allow.auto.create.topics`, with the brokers' `auto.create.topics.enable`).
    for topic in topics {
        task::create_if_missing(cluster, now_ms, topic)?;
    }
    let open = Command::OpenConsumer {
        group: Some(format!("connect-{name}")),
        topics: topics.to_vec(),
        partitions: Vec::new(),
        client_id: Some(format!("connector-consumer-{name}-{task}")),
        auto_offset_reset: Some("earliest".into()),
        assignors: Vec::new(),
        enable_auto_commit: Some(false),
        session_timeout_ms: None,
        isolation_level: Default::default(),
    };
    match cluster.handle(now_ms, open) {
        Reply::ConsumerOpened { consumer } => Ok(Some(consumer)),
        // The group's coordinator not loaded yet (a restarted cluster): tried again next step.
        Reply::Error(e) if task::retriable(e.error) => Ok(None),
        Reply::Error(e) => Err(format!("{}: {}", e.error.name(), e.message)),
        other => Err(format!("the consumer did not open: {other:?}")),
    }
}

/// Produces one record of text (UTF-8 key and value), acks=all; to `partition` or where the
/// default partitioner puts its key.
fn produce_text(
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    partition: Option<i32>,
    key: String,
    value: Option<String>,
) -> Written {
    let produce = Command::Produce {
        topic: topic.to_string(),
        partition,
        key: Some(key),
        value,
        timestamp_ms: None,
        partitioner: Default::default(),
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        headers: Vec::new(),
        acks: Default::default(),
        producer: None,
    };
    match cluster.handle(now_ms, produce) {
        // The leader has appended it; it commits once the in-sync followers fetch it (a new
        // topic's followers may not be made yet). Kafka's producer would wait for that; the
        // worker's own bookkeeping goes on.
        Reply::Error(e) if e.error == crate::error::ErrorCode::RequestTimedOut => Written::Yes,
        Reply::Error(e) if task::retriable(e.error) => Written::Later,
        Reply::Error(e) => {
            Written::Refused(format!("cannot write to {topic}: {}: {}", e.error.name(), e.message))
        }
        _ => Written::Yes,
    }
}

/// What became of a record for an internal topic.
enum Written {
    Yes,
    /// Refused for a reason a client retries: it goes again.
    Later,
    Refused(String),
}

impl Task {
    fn consumer(&self) -> Option<u32> {
        self.run.consumer()
    }
}

/// What the Connect view and the files commands read and change.
impl Worker {
    /// Every connector with its tasks' states and counts, the files, and `file`'s text.
    pub fn describe(&mut self, file: Option<&str>) -> Result<crate::api::ConnectView, String> {
        use crate::api::{ConnectTaskView, ConnectorView};
        let state_name = |state: State| {
            serde_json::to_value(state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
        };
        let mut connectors = Vec::new();
        for (name, connector) in &self.connectors {
            let checked = plugins::parse(&connector.config).ok();
            let topics = match &checked {
                // A pattern's topics are those its tasks subscribed to, the pattern until any.
                Some(c) if c.topics_regex.is_some() => {
                    let mut subscribed: Vec<String> = connector
                        .tasks
                        .iter()
                        .flat_map(|t| match &t.run {
                            Run::Sink { topics, .. } => topics.clone(),
                            _ => Vec::new(),
                        })
                        .collect();
                    subscribed.sort();
                    subscribed.dedup();
                    if subscribed.is_empty() {
                        let pattern = connector.config.get("topics.regex").cloned().unwrap_or_default();
                        subscribed.push(format!("topics.regex={pattern}"));
                    }
                    subscribed
                }
                Some(c) if c.plugin.kind() == ConnectorType::Sink => c.topics.clone(),
                Some(c) => c.topic.clone().into_iter().collect(),
                None => Vec::new(),
            };
            let tasks = connector.tasks.iter().enumerate().map(|(id, task)| {
                let counts = self.counts.get(&(name.clone(), id)).copied().unwrap_or_default();
                let offset =
                    checked.as_ref().filter(|c| c.plugin.kind() == ConnectorType::Source).and_then(|c| {
                        let partition = Run::source_partition(c, id).to_string();
                        self.offsets.get(&(name.clone(), partition)).map(|o| o.to_string())
                    });
                ConnectTaskView {
                    id,
                    state: state_name(task.state),
                    trace: task.trace.clone(),
                    records: counts.records,
                    filtered: counts.filtered,
                    skipped: counts.skipped,
                    offset,
                }
            });
            connectors.push(ConnectorView {
                name: name.clone(),
                class: connector.config.get("connector.class").cloned().unwrap_or_default(),
                kind: self.connector_type(name).to_string(),
                state: state_name(connector.state),
                trace: connector.trace.clone(),
                topics,
                file: checked.as_ref().map(|c| c.file.clone()).filter(|f| !f.is_empty()),
                transforms: checked
                    .as_ref()
                    .map(|c| c.transforms.aliases().into_iter().map(String::from).collect())
                    .unwrap_or_default(),
                converters: checked.as_ref().map_or_else(Default::default, |c| {
                    (c.key_converter.class().to_string(), c.value_converter.class().to_string())
                }),
                tasks: tasks.collect(),
            });
        }
        let files = self.files.list();
        let shown = match file {
            None => None,
            Some(path) => {
                super::files::check_path(path)?;
                let size = files.iter().find(|(p, _)| p == path).map_or(0, |(_, size)| *size);
                let from = size.saturating_sub(crate::limits::MAX_CONNECT_FILE_SHOWN_BYTES as u64);
                let bytes = self
                    .files
                    .read(path, from, crate::limits::MAX_CONNECT_FILE_SHOWN_BYTES)?
                    .unwrap_or_default();
                Some((path.to_string(), String::from_utf8_lossy(&bytes).into_owned(), from))
            }
        };
        // A database that cannot be read (a file there that is not SQLite) is a problem shown,
        // not the whole view refused.
        let (mut tables, mut problems) = (Vec::new(), self.problems.clone());
        for database in self.databases() {
            match self.files.show(&database) {
                Ok(shown) => tables.extend(shown),
                Err(e) => problems.push(format!("{database}: {e}")),
            }
        }
        Ok(crate::api::ConnectView {
            worker_id: self.worker_id.clone(),
            connectors,
            files,
            shown,
            tables,
            problems,
            schemas: Vec::new(),
        })
    }

    /// The databases the JDBC sinks write, each once.
    fn databases(&self) -> std::collections::BTreeSet<String> {
        self.connectors
            .values()
            .filter_map(|c| plugins::parse(&c.config).ok())
            .filter(|c| c.jdbc.is_some())
            .map(|c| c.file)
            .collect()
    }

    /// Writes a file of the connect directory whole, or appends to it.
    pub fn write_file(&mut self, path: &str, text: &str, append: bool) -> Result<(), String> {
        super::files::check_path(path)?;
        if append {
            self.files.append(path, text.as_bytes())
        } else {
            self.files.write(path, text.as_bytes())
        }
    }
}

/// A connector's or task's state and, when it failed, why.
pub type StateOf<'a> = (State, Option<&'a str>);

/// What the REST API reads and changes.
impl Worker {
    /// The connectors, by name.
    pub fn connector_names(&self) -> Vec<String> {
        self.connectors.keys().cloned().collect()
    }

    /// A connector's config, as given.
    pub fn connector_config(&self, name: &str) -> Result<&BTreeMap<String, String>, ConnectError> {
        self.connectors.get(name).map(|c| &c.config).ok_or_else(|| ConnectError::not_found(name))
    }

    /// Each task's config.
    pub fn task_configs(&self, name: &str) -> Result<Vec<&BTreeMap<String, String>>, ConnectError> {
        let connector = self.connectors.get(name).ok_or_else(|| ConnectError::not_found(name))?;
        Ok(connector.tasks.iter().map(|t| &t.config).collect())
    }

    /// The connector's type by its class (`unknown` when the class is not one Kite has).
    pub fn connector_type(&self, name: &str) -> &'static str {
        let class = self.connectors.get(name).and_then(|c| c.config.get("connector.class"));
        match class.and_then(|c| Plugin::find(c)).map(Plugin::kind) {
            Some(ConnectorType::Source) => "source",
            Some(ConnectorType::Sink) => "sink",
            None => "unknown",
        }
    }

    /// The connector's and its tasks' states and traces.
    pub fn states(&self, name: &str) -> Result<(StateOf<'_>, Vec<StateOf<'_>>), ConnectError> {
        let c = self
            .connectors
            .get(name)
            .ok_or_else(|| ConnectError::new(404, format!("No status found for connector {name}")))?;
        Ok(((c.state, c.trace.as_deref()), c.tasks.iter().map(|t| (t.state, t.trace.as_deref())).collect()))
    }

    /// The worker id.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Creates or replaces a connector: its config, then its task configs and their commit, in
    /// `connect-configs` (its internal topics created first). Whether it was created.
    pub fn put_connector(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        config: BTreeMap<String, String>,
    ) -> Result<bool, ConnectError> {
        let checked = plugins::parse(&config).map_err(|e| ConnectError::new(400, e))?;
        let created = !self.connectors.contains_key(name);
        if created && self.connectors.len() >= crate::limits::MAX_CONNECTORS {
            return Err(ConnectError::new(
                400,
                format!(
                    "Kite Connect runs at most {} connectors; delete one first",
                    crate::limits::MAX_CONNECTORS
                ),
            ));
        }
        self.ensure_topics(cluster, now_ms).map_err(|e| ConnectError::new(500, e))?;
        // A topic whose replicas are still being made a slice per turn is not created for good
        // until the last slice (a crash before it takes the creation back): a config written
        // there could vanish, so the client is told to try again.
        if cluster.has_deferred_work() {
            return Err(ConnectError::new(500, "Request timed out"));
        }
        let tasks = task_configs(&checked, &config);
        let mut records = vec![ConfigRecord::Connector { name: name.to_string(), properties: Some(config) }];
        records.extend(tasks.iter().enumerate().map(|(task, properties)| ConfigRecord::Task {
            name: name.to_string(),
            task,
            properties: properties.clone(),
        }));
        records.push(ConfigRecord::Commit { name: name.to_string(), tasks: tasks.len() });
        for record in records {
            self.write_config(cluster, now_ms, record)?;
        }
        self.settle(cluster, now_ms);
        Ok(created)
    }

    /// Deletes a connector: tombstones for its config and target state, its tasks and then it
    /// destroyed in `connect-status` (tombstones too).
    pub fn delete_connector(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
    ) -> Result<(), ConnectError> {
        let tasks = self.connectors.get(name).ok_or_else(|| ConnectError::not_found(name))?.tasks.len();
        self.write_config(
            cluster,
            now_ms,
            ConfigRecord::Connector { name: name.to_string(), properties: None },
        )?;
        self.write_config(cluster, now_ms, ConfigRecord::Target { name: name.to_string(), state: None })?;
        let keys = (0..tasks)
            .map(|t| storage::task_status_key(name, t))
            .chain([storage::connector_status_key(name)]);
        for key in keys {
            let _ = self.write_internal(
                cluster,
                now_ms,
                Outgoing { topic: STATUS_TOPIC, partition: None, key, value: None },
            );
        }
        self.close_stopped(cluster, now_ms);
        Ok(())
    }

    /// Pauses or resumes a connector (`target-state-<name>`).
    pub fn set_target(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        if !self.connectors.contains_key(name) {
            return Err(ConnectError::new(404, format!("Unknown connector {name}")));
        }
        self.write_config(
            cluster,
            now_ms,
            ConfigRecord::Target { name: name.to_string(), state: Some(target) },
        )?;
        self.settle(cluster, now_ms);
        Ok(())
    }

    /// Restarts a connector and, with `include_tasks`, its tasks (only the failed ones with
    /// `only_failed`): each restarted task is `RESTARTING` until the next step starts it again
    /// from its committed offsets. The tasks restarted.
    pub fn restart(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Vec<usize>, ConnectError> {
        let connector = self
            .connectors
            .get(name)
            .ok_or_else(|| ConnectError::new(404, format!("Unknown connector: {name}")))?;
        let restarted: Vec<usize> = if include_tasks {
            (0..connector.tasks.len())
                .filter(|&t| !only_failed || connector.tasks[t].state == State::Failed)
                .collect()
        } else {
            Vec::new()
        };
        for &task in &restarted {
            self.restart_one(cluster, now_ms, name, task);
        }
        Ok(restarted)
    }

    /// Restarts one task (`POST /connectors/{name}/tasks/{task}/restart`).
    pub fn restart_task(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        name: &str,
        task: usize,
    ) -> Result<(), ConnectError> {
        let connector = self
            .connectors
            .get(name)
            .ok_or_else(|| ConnectError::new(404, format!("Unknown connector: {name}")))?;
        if task >= connector.tasks.len() {
            return Err(ConnectError::new(404, format!("Unknown task: {name}-{task}")));
        }
        self.restart_one(cluster, now_ms, name, task);
        Ok(())
    }

    /// A task stops (its consumer closed) and is `RESTARTING` until the next step starts it.
    fn restart_one(&mut self, cluster: &mut Cluster, now_ms: i64, name: &str, task: usize) {
        self.stop_run(name, task, true);
        self.set_state(cluster, now_ms, name, Some(task), State::Restarting, None);
        self.next_poll_ms = i64::MIN;
    }

    fn write_config(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        record: ConfigRecord,
    ) -> Result<(), ConnectError> {
        // A config is answered for only once written: a client told 201 must find its connector
        // after a crash. Kafka's herder waits for the write and answers 500 "Request timed out"
        // when it cannot make it; a turn cannot wait, so a write to retry is answered so at once.
        match produce_text(cluster, now_ms, CONFIG_TOPIC, Some(0), record.key(), record.value()) {
            Written::Yes => {
                self.apply(record);
                Ok(())
            }
            Written::Later => Err(ConnectError::new(500, "Request timed out")),
            Written::Refused(reason) => Err(ConnectError::new(500, reason)),
        }
    }

    /// Queues a record for an internal topic and writes what the queue holds, in order, up to
    /// the first a client would retry (it stays for the next step). A record refused for good is
    /// dropped and its reason returned.
    fn write_internal(&mut self, cluster: &mut Cluster, now_ms: i64, record: Outgoing) -> Result<(), String> {
        self.outbox.push_back(record);
        self.flush_outbox(cluster, now_ms)
    }

    fn flush_outbox(&mut self, cluster: &mut Cluster, now_ms: i64) -> Result<(), String> {
        while let Some(next) = self.outbox.front() {
            match produce_text(
                cluster,
                now_ms,
                next.topic,
                next.partition,
                next.key.clone(),
                next.value.clone(),
            ) {
                Written::Yes => {
                    self.outbox.pop_front();
                }
                Written::Later => return Ok(()),
                Written::Refused(reason) => {
                    self.outbox.pop_front();
                    return Err(reason);
                }
            }
        }
        Ok(())
    }

    /// Creates the internal topics when missing (compacted; 1, 25 and 5 partitions).
    fn ensure_topics(&mut self, cluster: &mut Cluster, now_ms: i64) -> Result<(), String> {
        if self.phase == Phase::Ready {
            return Ok(());
        }
        let compacted = || BTreeMap::from([("cleanup.policy".to_string(), "compact".to_string())]);
        // Kafka Connect's `*.storage.replication.factor` default, 3, on a smaller cluster all
        // its brokers (where Kafka would refuse to start the worker).
        let replicas = cluster.broker_count().clamp(1, INTERNAL_TOPIC_REPLICAS) as i16;
        for (topic, partitions) in [
            (CONFIG_TOPIC, 1),
            (OFFSET_TOPIC, OFFSET_TOPIC_PARTITIONS),
            (STATUS_TOPIC, STATUS_TOPIC_PARTITIONS),
        ] {
            if cluster.topic_partition_count(topic).is_none() {
                task::create_topic(cluster, now_ms, topic, partitions, compacted(), Some(replicas))?;
            }
        }
        self.phase = Phase::Ready;
        Ok(())
    }
}

/// The task configs a connector's config gives: FileStreamSource one (a file is one stream),
/// the sinks and Datagen `tasks.max`; each with its `task.class`, as Kafka's worker adds it.
fn task_configs(
    checked: &ConnectorConfig,
    config: &BTreeMap<String, String>,
) -> Vec<BTreeMap<String, String>> {
    match checked.plugin {
        Plugin::FileStreamSource => {
            let task = BTreeMap::from([
                ("file".to_string(), checked.file.clone()),
                ("topic".to_string(), checked.topic.clone().unwrap_or_default()),
                ("batch.size".to_string(), checked.batch_size.to_string()),
                ("task.class".to_string(), "org.apache.kafka.connect.file.FileStreamSourceTask".to_string()),
            ]);
            vec![task]
        }
        Plugin::FileStreamSink | Plugin::JdbcSink => {
            let class = match checked.plugin {
                Plugin::JdbcSink => "io.confluent.connect.jdbc.sink.JdbcSinkTask",
                _ => "org.apache.kafka.connect.file.FileStreamSinkTask",
            };
            let mut task = config.clone();
            task.insert("task.class".to_string(), class.to_string());
            vec![task; checked.tasks_max]
        }
        // kafka-connect-datagen: tasks.max tasks, each numbered.
        Plugin::Datagen => (0..checked.tasks_max)
            .map(|id| {
                let mut task = config.clone();
                task.insert("task.id".to_string(), id.to_string());
                task.insert(
                    "task.class".to_string(),
                    "io.confluent.kafka.connect.datagen.DatagenTask".to_string(),
                );
                task
            })
            .collect(),
    }
}
