//! The cluster as clients see it: topics, produce and fetch, answering one command at a time.
//!
//! This first cut is a single logical broker holding every partition's log, and it plays the
//! producer client's part too (serializers, partitioner, batching into Kafka's bytes). Brokers,
//! replication and the controller arrive with the replicated-cluster issue behind the same `handle`.
//!
//! The broker keeps its files in a `BrokerStore` the host provides: a directory per partition,
//! Kafka's recovery-point and log-start checkpoints, the clean-shutdown marker, and (until the
//! KRaft metadata log arrives) the topics and their configs in `kite-topics.json`.

mod groups;

use std::collections::BTreeMap;

use crate::api::{
    BrokerView, Command, Metrics, PartitionDescription, ProducedRecord, RecordView, Reply, TopicDescription,
};
use crate::config::{Acks, TopicCompression, TopicConfig};
use crate::error::{ErrorCode, KafkaError};
use crate::limits::{
    FETCH_READ_CHUNK_BYTES, MAX_BATCH_BYTES, MAX_FETCH_BYTES, MAX_FETCH_RECORDS,
    MAX_PARTITION_BYTES_IN_MEMORY, MAX_PRODUCE_BATCH_RECORDS, MAX_TOPICS_PER_CLUSTER,
};
use crate::log::checkpoint::{
    CLEAN_SHUTDOWN_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, OffsetCheckpoint, RECOVERY_POINT_CHECKPOINT_FILE,
};
use crate::log::local_log::{LocalLog, LogConfig, LogError, OpenCheckpoints, OpenReport};
use crate::log::storage::{BrokerStore, MemoryBrokerStore, StorageError};
use crate::partitioner::{
    DEFAULT_BATCH_SIZE_BYTES, PartitionInput, PartitionerKind, Placement, TopicPartitionerState, place,
};
use crate::random::Rng;
use crate::record::batch::{BatchRecord, RecordBatch, TimestampType};
use crate::replication::trace::Event;
use crate::schema_registry::SchemaRegistry;
use crate::serializer::{SerializerKind, deserialize, serialize};
use crate::topic::{Topic, collision_warning, names_collide, validate_name, validate_partition_count};
use serde::{Deserialize, Serialize};

/// ListOffsets' special timestamps (Kafka's `ListOffsetsRequest.EARLIEST_TIMESTAMP` and
/// `LATEST_TIMESTAMP`).
pub const EARLIEST_TIMESTAMP: i64 = -2;
pub const LATEST_TIMESTAMP: i64 = -1;
/// Brokers this engine runs (the replicated engine is `replication`; this one is one broker).
const SINGLE_BROKER_COUNT: usize = 1;
/// That broker's id (it is the controller too).
const SINGLE_BROKER_ID: i32 = 0;
/// The broker directory's identity file (Kafka's `meta.properties`: `cluster.id`, `node.id`).
pub const META_PROPERTIES_FILE: &str = "meta.properties";

/// A Kafka-style cluster id: 16 bytes from the seed, base64url without padding (22 characters),
/// the shape `kafka-storage random-uuid` prints.
fn new_cluster_id(seed: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Its own stream, so the id does not shift the engine's other random choices.
    let mut rng = Rng::from_seed(seed ^ 0x6b69_7465_5f69_6421);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    let mut bits = 0u32;
    let mut held = 0;
    let mut id = String::with_capacity(22);
    for byte in bytes {
        bits = (bits << 8) | u32::from(byte);
        held += 8;
        while held >= 6 {
            held -= 6;
            id.push(ALPHABET[((bits >> held) & 0x3f) as usize] as char);
        }
    }
    if held > 0 {
        id.push(ALPHABET[((bits << (6 - held)) & 0x3f) as usize] as char);
    }
    id
}

/// Events kept for the host to take (`take_events`); older ones go first when nobody takes them.
pub const MAX_BUFFERED_EVENTS: usize = 10_000;

/// The offset an `acks=0` producer hears (Kafka's RecordMetadata without an answer).
pub const NO_OFFSET: i64 = -1;
/// The one broker leads every partition in its first epoch, until elections arrive.
const SINGLE_BROKER_LEADER_EPOCH: i32 = 0;
/// The broker's topics and their configs, until the KRaft metadata log replaces it.
pub const TOPICS_FILE: &str = "kite-topics.json";
/// The version of `kite-topics.json` this code writes and reads.
const TOPICS_FILE_VERSION: u32 = 1;
/// How often the broker writes its recovery-point and log-start checkpoints (Kafka's
/// `log.flush.offset.checkpoint.interval.ms` default).
pub const CHECKPOINT_INTERVAL_MS: i64 = 60_000;
/// How often retention and the cleaner run (Kafka's `log.retention.check.interval.ms` default).
pub const RETENTION_CHECK_INTERVAL_MS: i64 = 300_000;

/// How the host wants the broker to store logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageOptions {
    /// Kite's option: flush (fsync) every append before acknowledging it, whatever the topic's
    /// `flush.messages` says.
    pub flush_every_append: bool,
    /// The most bytes one partition may hold; memory hosts bound it, disk hosts need not.
    pub max_partition_bytes: usize,
}

impl StorageOptions {
    /// Logs held in memory: no flushing, bounded so one partition cannot exhaust a tab.
    pub const MEMORY: StorageOptions =
        StorageOptions { flush_every_append: false, max_partition_bytes: MAX_PARTITION_BYTES_IN_MEMORY };
}

#[derive(Serialize, Deserialize)]
struct TopicsFile {
    version: u32,
    topics: Vec<TopicRecord>,
}

/// The schema registry's registrations in order, replayed at open to the same ids and versions.
pub const SCHEMAS_FILE: &str = "kite-schemas.json";
const SCHEMAS_FILE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SchemasFile {
    version: u32,
    registrations: Vec<SchemaRecord>,
}

#[derive(Clone, Serialize, Deserialize)]
struct SchemaRecord {
    subject: String,
    schema: String,
}

#[derive(Serialize, Deserialize)]
struct TopicRecord {
    name: String,
    partitions: i32,
    configs: BTreeMap<String, String>,
}

pub struct Cluster {
    topics: BTreeMap<String, TopicState>,
    schema_registry: SchemaRegistry,
    /// The producer's random choices (sticky partitions, librdkafka's random placement).
    rng: Rng,
    store: Box<dyn BrokerStore>,
    options: StorageOptions,
    /// Every registration that added a version, in order (what `kite-schemas.json` holds).
    schema_registrations: Vec<SchemaRecord>,
    last_checkpoint_ms: Option<i64>,
    last_retention_check_ms: Option<i64>,
    /// The group coordinator and the consumers this engine runs for its clients.
    groups: groups::Groups,
    /// Derived from the seed: the same data directory reports the same id.
    cluster_id: String,
    /// Events not yet taken by the host.
    events: std::collections::VecDeque<(i64, Event)>,
    counters: Metrics,
    /// Shut down: the clean-shutdown marker is written, so nothing may change any more.
    closed: bool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("store", &self.store.describe())
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct TopicState {
    topic: Topic,
    config: TopicConfig,
    overrides: BTreeMap<String, String>,
    partitioner: TopicPartitionerState,
}

/// How a `produce_batch` places and serializes its records.
struct BatchSettings {
    partition: Option<i32>,
    partitioner: PartitionerKind,
    key_serializer: SerializerKind,
    value_serializer: SerializerKind,
}

/// One record to produce, as the command gave it.
struct ProduceRequest<'a> {
    topic: &'a str,
    partition: Option<i32>,
    key: Option<String>,
    value: Option<String>,
    timestamp_ms: i64,
    partitioner: PartitionerKind,
    key_serializer: SerializerKind,
    value_serializer: SerializerKind,
    headers: Vec<(String, String)>,
}

impl Cluster {
    /// An empty cluster held in memory. `seed` drives every random choice, so a seed and a
    /// sequence of commands always give the same replies.
    pub fn new(seed: u64) -> Self {
        Cluster {
            topics: BTreeMap::new(),
            schema_registry: SchemaRegistry::new(),
            schema_registrations: Vec::new(),
            rng: Rng::from_seed(seed),
            store: Box::new(MemoryBrokerStore::ephemeral()),
            options: StorageOptions::MEMORY,
            last_checkpoint_ms: None,
            last_retention_check_ms: None,
            groups: groups::Groups::new(),
            cluster_id: new_cluster_id(seed),
            events: std::collections::VecDeque::new(),
            counters: Metrics::default(),
            closed: false,
        }
    }

    /// Opens the broker kept in `store`, as a Kafka broker starts: notes and removes the
    /// clean-shutdown marker, reads the checkpoints and the topics, and opens every partition's
    /// log (recovering those that were not shut down cleanly). Returns each log's report.
    pub fn open(
        seed: u64,
        mut store: Box<dyn BrokerStore>,
        options: StorageOptions,
    ) -> Result<(Cluster, Vec<(String, OpenReport)>), String> {
        let at = |e: StorageError| e.to_string();
        let clean_shutdown = store.read_file(CLEAN_SHUTDOWN_FILE).map_err(at)?.is_some();
        let recovery_points = OffsetCheckpoint::read(store.as_ref(), RECOVERY_POINT_CHECKPOINT_FILE)?;
        let log_starts = OffsetCheckpoint::read(store.as_ref(), LOG_START_OFFSET_CHECKPOINT_FILE)?;
        let topics: Vec<TopicRecord> = match store.read_file(TOPICS_FILE).map_err(at)? {
            None => Vec::new(),
            Some(bytes) => {
                let file: TopicsFile = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{} is not a Kite topics file: {e}", TOPICS_FILE))?;
                if file.version != TOPICS_FILE_VERSION {
                    return Err(format!(
                        "{TOPICS_FILE} has version {}; this Kite reads version {TOPICS_FILE_VERSION}",
                        file.version
                    ));
                }
                file.topics
            }
        };
        let registrations: Vec<SchemaRecord> = match store.read_file(SCHEMAS_FILE).map_err(at)? {
            None => Vec::new(),
            Some(bytes) => {
                let file: SchemasFile = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{SCHEMAS_FILE} is not a Kite schemas file: {e}"))?;
                if file.version != SCHEMAS_FILE_VERSION {
                    return Err(format!(
                        "{SCHEMAS_FILE} has version {}; this Kite reads version {SCHEMAS_FILE_VERSION}",
                        file.version
                    ));
                }
                file.registrations
            }
        };
        // The marker goes before any write: a crash from here on is an unclean shutdown.
        store.delete_file(CLEAN_SHUTDOWN_FILE).map_err(at)?;
        // The cluster id is the data's, not the process's: kept in meta.properties, as Kafka does.
        let stored_id = match store.read_file(META_PROPERTIES_FILE).map_err(at)? {
            Some(bytes) => Some(
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .find_map(|line| line.strip_prefix("cluster.id=").map(|id| id.trim().to_string()))
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| format!("{META_PROPERTIES_FILE} has no cluster.id"))?,
            ),
            None => None,
        };
        let mut cluster = Cluster { store, options, ..Cluster::new(seed) };
        match stored_id {
            Some(id) => cluster.cluster_id = id,
            None => {
                let text =
                    format!("cluster.id={}\nnode.id={SINGLE_BROKER_ID}\nversion=1\n", cluster.cluster_id);
                cluster.store.write_file(META_PROPERTIES_FILE, text.as_bytes()).map_err(at)?;
            }
        }
        for record in &registrations {
            cluster
                .schema_registry
                .register(&record.subject, &record.schema)
                .map_err(|e| format!("{SCHEMAS_FILE}: subject {}: {e}", record.subject))?;
        }
        cluster.schema_registrations = registrations;
        let mut reports = Vec::new();
        for record in topics {
            validate_name(&record.name).map_err(|e| format!("{TOPICS_FILE}: {}", e.message))?;
            validate_partition_count(record.partitions)
                .map_err(|e| format!("{TOPICS_FILE}: {}", e.message))?;
            let config = TopicConfig::from_overrides(&record.configs)
                .map_err(|e| format!("{TOPICS_FILE}: topic {}: {}", record.name, e.message))?;
            let mut logs = Vec::new();
            for partition in 0..record.partitions {
                let checkpoints = OpenCheckpoints {
                    clean_shutdown,
                    recovery_point: recovery_points.get(&record.name, partition),
                    log_start_offset: log_starts.get(&record.name, partition),
                };
                let dir = format!("{}-{partition}", record.name);
                let (log, report) = cluster
                    .open_log(&dir, &config, checkpoints)
                    .map_err(|e| format!("cannot open partition {dir}: {e}"))?;
                reports.push((dir, report));
                logs.push(log);
            }
            let state = TopicState {
                topic: Topic::new(record.name.clone(), logs),
                config,
                overrides: record.configs,
                partitioner: TopicPartitionerState::default(),
            };
            cluster.topics.insert(record.name, state);
        }
        cluster.load_groups();
        Ok((cluster, reports))
    }

    fn log_config(&self, config: &TopicConfig) -> LogConfig {
        let mut log_config = LogConfig::from(config);
        if self.options.flush_every_append {
            log_config.flush_messages = 1;
        }
        log_config
    }

    fn open_log(
        &mut self,
        dir: &str,
        config: &TopicConfig,
        checkpoints: OpenCheckpoints,
    ) -> Result<(LocalLog, OpenReport), LogError> {
        let store = self.store.partition(dir).map_err(LogError::Storage)?;
        LocalLog::open(self.log_config(config), store, checkpoints)
    }

    /// The broker's periodic work at `now_ms`: the time half of each log's flush policy, the
    /// offset checkpoints every `CHECKPOINT_INTERVAL_MS`, retention and the cleaner every
    /// `RETENTION_CHECK_INTERVAL_MS`. Returns the problems it met, one line each.
    pub fn tick(&mut self, now_ms: i64) -> Vec<String> {
        let mut problems = Vec::new();
        let retention_due =
            now_ms - *self.last_retention_check_ms.get_or_insert(now_ms) >= RETENTION_CHECK_INTERVAL_MS;
        if retention_due {
            self.last_retention_check_ms = Some(now_ms);
        }
        for (name, state) in &mut self.topics {
            for (partition, log) in state.topic.partitions_mut().iter_mut().enumerate() {
                if log.poisoned().is_some() {
                    continue;
                }
                let mut work = || -> Result<(), LogError> {
                    log.maybe_flush(now_ms)?;
                    if retention_due {
                        log.apply_retention(now_ms)?;
                        log.clean(now_ms)?;
                    }
                    Ok(())
                };
                if let Err(e) = work() {
                    problems.push(format!("partition {name}-{partition}: {e}"));
                }
            }
        }
        self.tick_groups(now_ms);
        if now_ms - *self.last_checkpoint_ms.get_or_insert(now_ms) >= CHECKPOINT_INTERVAL_MS {
            self.last_checkpoint_ms = Some(now_ms);
            if let Err(e) = self.write_checkpoints() {
                problems.push(e.to_string());
            }
        }
        problems
    }

    fn write_checkpoints(&mut self) -> Result<(), StorageError> {
        let (mut recovery_points, mut log_starts) =
            (OffsetCheckpoint::default(), OffsetCheckpoint::default());
        for (name, state) in &self.topics {
            for (log, partition) in state.topic.partitions().iter().zip(0..) {
                recovery_points.offsets.insert((name.clone(), partition), log.recovery_point());
                log_starts.offsets.insert((name.clone(), partition), log.log_start_offset());
            }
        }
        self.store.write_file(RECOVERY_POINT_CHECKPOINT_FILE, recovery_points.to_text().as_bytes())?;
        self.store.write_file(LOG_START_OFFSET_CHECKPOINT_FILE, log_starts.to_text().as_bytes())
    }

    fn write_topics_file(&mut self) -> Result<(), StorageError> {
        let topics = self
            .topics
            .values()
            .map(|state| TopicRecord {
                name: state.topic.name().to_string(),
                partitions: state.topic.partition_count(),
                configs: state.overrides.clone(),
            })
            .collect();
        let file = TopicsFile { version: TOPICS_FILE_VERSION, topics };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| StorageError::new("encode", TOPICS_FILE, e.to_string()))?;
        self.store.write_file(TOPICS_FILE, &json)
    }

    /// A clean shutdown, as a Kafka broker's: close every log (flushed, indexes written), write
    /// the checkpoints, then the clean-shutdown marker, last. If anything fails the marker is not
    /// written, so the next start recovers.
    pub fn shutdown(&mut self) -> Result<(), String> {
        let mut failed = Vec::new();
        for (name, state) in &mut self.topics {
            for (partition, log) in state.topic.partitions_mut().iter_mut().enumerate() {
                if let Err(e) = log.close() {
                    failed.push(format!("partition {name}-{partition}: {e}"));
                }
            }
        }
        if !failed.is_empty() {
            return Err(failed.join("; "));
        }
        self.write_checkpoints().map_err(|e| e.to_string())?;
        // From here nothing writes: a late request would land after the marker.
        self.closed = true;
        self.store.write_file(CLEAN_SHUTDOWN_FILE, b"").map_err(|e| e.to_string())
    }

    /// Answers one command. `now_ms` is the host's wall clock in milliseconds since the Unix epoch;
    /// the engine never reads a clock itself.
    pub fn handle(&mut self, now_ms: i64, command: Command) -> Reply {
        if self.closed {
            return Reply::Error(KafkaError::new(ErrorCode::KafkaStorageError, "The broker has shut down."));
        }
        let result = match command {
            Command::CreateTopic { name, partitions, configs, replication_factor } => {
                match crate::config::validate_replication_factor(
                    replication_factor.unwrap_or(1),
                    SINGLE_BROKER_COUNT,
                ) {
                    Ok(()) => self.create_topic(name, partitions, configs),
                    Err(e) => Err(e),
                }
            }
            Command::ListTopics => Ok(Reply::Topics { topics: self.topics.values().map(describe).collect() }),
            Command::Produce {
                topic,
                partition,
                key,
                value,
                timestamp_ms,
                partitioner,
                key_serializer,
                value_serializer,
                headers,
                acks,
            } => self.with_acks(now_ms, &topic.clone(), acks, |cluster| {
                cluster.produce(
                    now_ms,
                    ProduceRequest {
                        topic: &topic,
                        partition,
                        key,
                        value,
                        timestamp_ms: timestamp_ms.unwrap_or(now_ms),
                        partitioner,
                        key_serializer,
                        value_serializer,
                        headers,
                    },
                )
            }),
            Command::Fetch {
                topic,
                partition,
                offset,
                max_records,
                key_deserializer,
                value_deserializer,
            } => self.fetch(&topic, partition, offset, max_records, key_deserializer, value_deserializer),
            Command::ProduceBatch {
                topic,
                partition,
                partitioner,
                key_serializer,
                value_serializer,
                records,
                acks,
            } => {
                let settings = BatchSettings { partition, partitioner, key_serializer, value_serializer };
                self.with_acks(now_ms, &topic, acks, |cluster| {
                    cluster.produce_batch(now_ms, &topic, settings, records)
                })
            }
            Command::ListOffsets { topic, partition, timestamp_ms } => {
                self.list_offsets(&topic, partition, timestamp_ms)
            }
            Command::DeleteTopic { name } => self.delete_topic(&name),
            Command::AlterTopicConfig { name, set, delete } => self.alter_topic_config(&name, set, delete),
            Command::RegisterSchema { subject, schema } => self.register_schema(subject, schema),
            Command::OpenConsumer {
                group,
                topics,
                partitions,
                client_id,
                auto_offset_reset,
                assignors,
                enable_auto_commit,
                session_timeout_ms,
            } => self.open_consumer(
                now_ms,
                group,
                topics,
                partitions,
                client_id,
                auto_offset_reset,
                assignors,
                enable_auto_commit,
                session_timeout_ms,
            ),
            Command::Poll { consumer, max_records, key_deserializer, value_deserializer } => {
                self.poll(now_ms, consumer, max_records, (key_deserializer, value_deserializer))
            }
            Command::CommitOffsets { consumer } => self.commit_offsets(now_ms, consumer),
            Command::CloseConsumer { consumer } => self.close_consumer(now_ms, consumer),
            Command::ListGroups => self.list_groups(now_ms),
            Command::DescribeGroup { group } => self.describe_group(now_ms, group),
            Command::ResetOffsets { group, topic, to, execute } => {
                self.reset_offsets(now_ms, group, topic, to, execute)
            }
            Command::DeleteGroup { group } => self.delete_group(now_ms, group),
            Command::ProduceRecords { topic, partition, partitioner, acks, payload } => {
                self.with_acks(now_ms, &topic, acks, |cluster| {
                    cluster.produce_records(now_ms, &topic, partition, partitioner, &payload)
                })
            }
            Command::DescribeCluster => Ok(self.describe_cluster()),
            Command::GetMetrics => Ok(Reply::Metrics(self.metrics())),
            Command::SubscribeEvents | Command::Tail { .. } | Command::Unsubscribe { .. } => {
                Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    "Subscriptions push messages, which this host does not do; kite serve does.",
                ))
            }
            Command::FetchRecords { topic, partition, offset, max_bytes } => {
                self.fetch_records(&topic, partition, offset, max_bytes)
            }
        };
        self.collect_group_events();
        match result {
            Ok(reply) => {
                self.count(now_ms, &reply);
                reply
            }
            Err(error) => {
                self.counters.errors += 1;
                Reply::Error(error)
            }
        }
    }

    /// What happened since the last call, oldest first: the engine's typed events with the time
    /// they happened (at most `MAX_BUFFERED_EVENTS`; older ones are dropped when nobody takes them).
    pub fn take_events(&mut self) -> Vec<(i64, Event)> {
        self.collect_group_events();
        self.events.drain(..).collect()
    }

    fn event(&mut self, now_ms: i64, event: Event) {
        if self.events.len() >= MAX_BUFFERED_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back((now_ms, event));
    }

    fn collect_group_events(&mut self) {
        for (at, event) in self.groups.take_trace() {
            self.event(at, event);
        }
    }

    /// Fetch counters, from the replies that carry records; topic events.
    fn count(&mut self, now_ms: i64, reply: &Reply) {
        match reply {
            Reply::TopicCreated { topic, .. } => {
                let partitions = topic.partitions.len() as i32;
                self.event(now_ms, Event::TopicCreated { topic: topic.name.clone(), partitions });
            }
            Reply::TopicDeleted { name } => self.event(now_ms, Event::TopicDeleted { topic: name.clone() }),
            Reply::Records { records, .. } => {
                self.counters.fetch_requests += 1;
                self.counters.records_fetched += records.len() as u64;
            }
            Reply::RecordBatches { payload, .. } => {
                self.counters.fetch_requests += 1;
                let mut at = 0;
                while at < payload.len() {
                    let Ok(header) = crate::record::batch::BatchHeader::parse_trusted(&payload[at..]) else {
                        break;
                    };
                    self.counters.records_fetched +=
                        u64::from(header.last_offset_delta.max(0).unsigned_abs()) + 1;
                    at += header.total_bytes();
                }
            }
            Reply::Polled { records, .. } => self.counters.records_fetched += records.len() as u64,
            _ => {}
        }
    }

    fn metrics(&self) -> Metrics {
        Metrics {
            topics: self.topics.len(),
            partitions: self.topics.values().map(|s| s.topic.partition_count() as usize).sum(),
            groups: self.groups.group_count(),
            consumers: self.groups.consumer_count(),
            ..self.counters.clone()
        }
    }

    fn topic_bytes(&self, topic: &str) -> u64 {
        self.topics.get(topic).map_or(0, |s| s.topic.partitions().iter().map(|l| l.size_bytes() as u64).sum())
    }

    /// A produce under the producer's `acks`: with `all`, the topic's `min.insync.replicas` must
    /// be met by the in-sync replicas (one broker: one replica), else NOT_ENOUGH_REPLICAS and
    /// nothing is written; with `0` the producer hears no offsets (-1), as Kafka's does.
    fn with_acks(
        &mut self,
        now_ms: i64,
        topic: &str,
        acks: Acks,
        produce: impl FnOnce(&mut Self) -> Result<Reply, KafkaError>,
    ) -> Result<Reply, KafkaError> {
        self.counters.produce_requests += 1;
        if let Some(state) = self.topics.get(topic)
            && acks == Acks::All
            && state.config.min_insync_replicas > SINGLE_BROKER_COUNT as i32
        {
            return Err(KafkaError::new(
                ErrorCode::NotEnoughReplicas,
                format!(
                    "Messages are rejected since there are fewer in-sync replicas than required: {topic} has min.insync.replicas={} and 1 in-sync replica.",
                    state.config.min_insync_replicas
                ),
            ));
        }
        let bytes_before = self.topic_bytes(topic);
        let mut reply = produce(self)?;
        self.counters.bytes_produced += self.topic_bytes(topic).saturating_sub(bytes_before);
        // The appends, as events: one per partition written.
        let mut ranges: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        match &reply {
            Reply::Produced { partition, offset, .. } => {
                ranges.insert(*partition, (*offset, *offset));
            }
            Reply::ProducedBatch { records, .. } => {
                for r in records {
                    let range = ranges.entry(r.partition).or_insert((r.offset, r.offset));
                    *range = (range.0.min(r.offset), range.1.max(r.offset));
                }
            }
            _ => {}
        }
        for (partition, (first_offset, last_offset)) in ranges {
            self.counters.records_produced += (last_offset - first_offset + 1) as u64;
            let tp = crate::replication::protocol::TopicPartition { topic: topic.to_string(), partition };
            let appended = Event::Appended {
                broker: SINGLE_BROKER_ID,
                tp: tp.clone(),
                first_offset,
                last_offset,
                leader_epoch: SINGLE_BROKER_LEADER_EPOCH,
                as_leader: true,
            };
            self.event(now_ms, appended);
            let high_watermark = last_offset + 1;
            self.event(now_ms, Event::HighWatermark { broker: SINGLE_BROKER_ID, tp, high_watermark });
        }
        if acks == Acks::None {
            match &mut reply {
                Reply::Produced { offset, .. } => *offset = NO_OFFSET,
                Reply::ProducedBatch { records, .. } => records.iter_mut().for_each(|r| r.offset = NO_OFFSET),
                _ => {}
            }
        }
        Ok(reply)
    }

    /// The cluster as `kite cluster describe` shows it: one broker, the controller too, leading
    /// every partition (nothing under-replicated or offline with one replica each).
    fn describe_cluster(&self) -> Reply {
        let partitions: usize = self.topics.values().map(|s| s.topic.partition_count() as usize).sum();
        Reply::ClusterDescribed {
            cluster_id: self.cluster_id.clone(),
            controller: SINGLE_BROKER_ID,
            brokers: vec![BrokerView {
                id: SINGLE_BROKER_ID,
                state: "up".into(),
                replicas: partitions,
                leaders: partitions,
            }],
            partitions,
            under_replicated: Vec::new(),
            offline: Vec::new(),
        }
    }

    fn create_topic(
        &mut self,
        name: String,
        partitions: i32,
        overrides: BTreeMap<String, String>,
    ) -> Result<Reply, KafkaError> {
        validate_name(&name)?;
        validate_partition_count(partitions)?;
        if name == crate::group::coordinator::OFFSETS_TOPIC && self.groups.creating_offsets_topic() {
            // The coordinator's own creation, below.
        } else if name == crate::group::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!("{name} is an internal topic: the group coordinator creates it on first use."),
            ));
        }
        let config = TopicConfig::from_overrides(&overrides)?;
        if self.topics.contains_key(&name) {
            return Err(KafkaError::new(
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        if let Some(existing) = self.topics.keys().find(|existing| names_collide(&name, existing)) {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!("Topic '{name}' collides with existing topic: {existing}"),
            ));
        }
        if self.topics.len() >= MAX_TOPICS_PER_CLUSTER {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!("The cluster already holds Kite's limit of {MAX_TOPICS_PER_CLUSTER} topics."),
            ));
        }
        let mut logs = Vec::new();
        for partition in 0..partitions {
            let dir = format!("{name}-{partition}");
            let (log, _) = self.open_log(&dir, &config, OpenCheckpoints::default())?;
            logs.push(log);
        }
        let state = TopicState {
            topic: Topic::new(name.clone(), logs),
            config,
            overrides,
            partitioner: TopicPartitionerState::default(),
        };
        let description = describe(&state);
        let warnings = collision_warning(&name).into_iter().collect();
        self.topics.insert(name, state);
        self.write_topics_file().map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        Ok(Reply::TopicCreated { topic: description, warnings })
    }

    /// Registers a schema; a new version is kept in `kite-schemas.json` (Confluent's registry keeps
    /// its `_schemas` topic), so a restart can still decode what was written with it.
    fn register_schema(&mut self, subject: String, schema: String) -> Result<Reply, KafkaError> {
        let before = self.schema_registry.versions(&subject).len();
        let registered = self
            .schema_registry
            .register(&subject, &schema)
            .map_err(|err| KafkaError::new(ErrorCode::InvalidRequest, err.to_string()))?;
        if self.schema_registry.versions(&subject).len() != before {
            self.schema_registrations.push(SchemaRecord { subject: subject.clone(), schema });
            let file = SchemasFile {
                version: SCHEMAS_FILE_VERSION,
                registrations: self.schema_registrations.clone(),
            };
            let json = serde_json::to_vec_pretty(&file)
                .map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
            self.store
                .write_file(SCHEMAS_FILE, &json)
                .map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        }
        Ok(Reply::SchemaRegistered { subject, id: registered.id, version: registered.version })
    }

    /// Kafka's ListOffsets: earliest (-2), latest (-1), or by timestamp (the time index).
    fn list_offsets(&self, topic_name: &str, partition: i32, timestamp_ms: i64) -> Result<Reply, KafkaError> {
        let state = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let log = state.topic.partition(partition).ok_or_else(|| unknown_partition(topic_name, partition))?;
        let offset = match timestamp_ms {
            EARLIEST_TIMESTAMP => Some(log.log_start_offset()),
            LATEST_TIMESTAMP => Some(log.log_end_offset()),
            t if t < 0 => {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    format!("timestamp_ms {t}: use -2 (earliest), -1 (latest) or a time in milliseconds"),
                ));
            }
            t => log.find_offset_by_timestamp(t)?,
        };
        Ok(Reply::Offsets { topic: topic_name.to_string(), partition, timestamp_ms, offset })
    }

    /// `kafka-topics --delete`: the topic goes from the metadata, then its files.
    fn delete_topic(&mut self, name: &str) -> Result<Reply, KafkaError> {
        if name == crate::group::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!(
                    "Topic {name} is a kafka internal topic and is not allowed to be marked for deletion."
                ),
            ));
        }
        let state = self.topics.remove(name).ok_or_else(|| unknown_topic(name))?;
        let storage = |e: StorageError| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string());
        // The metadata first: a crash in between leaves directories no topic names, not a topic
        // without its logs.
        self.write_topics_file().map_err(storage)?;
        for (partition, log) in state.topic.into_partitions().into_iter().enumerate() {
            log.delete().map_err(KafkaError::from)?;
            self.store.remove_partition(&format!("{name}-{partition}")).map_err(storage)?;
        }
        Ok(Reply::TopicDeleted { name: name.to_string() })
    }

    /// `kafka-configs --alter`: new overrides, validated as a whole, applied to every partition.
    fn alter_topic_config(
        &mut self,
        name: &str,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
    ) -> Result<Reply, KafkaError> {
        let state = self.topics.get(name).ok_or_else(|| unknown_topic(name))?;
        let mut overrides = state.overrides.clone();
        for key in &delete {
            overrides.remove(key);
        }
        overrides.extend(set);
        let config = TopicConfig::from_overrides(&overrides)?;
        let log_config = self.log_config(&config);
        let state = self.topics.get_mut(name).expect("looked up above");
        for log in state.topic.partitions_mut() {
            log.set_config(log_config.clone());
        }
        state.config = config;
        state.overrides = overrides;
        let topic = describe(state);
        self.write_topics_file().map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        Ok(Reply::TopicConfigAltered { topic })
    }

    fn produce(&mut self, now_ms: i64, request: ProduceRequest<'_>) -> Result<Reply, KafkaError> {
        let topic_name = request.topic;
        refuse_internal(topic_name)?;
        check_timestamp(request.timestamp_ms)?;
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let serializers = (request.key_serializer, request.value_serializer);
        let record = serialize_record(
            &self.schema_registry,
            topic_name,
            serializers,
            (request.key.as_deref(), request.value.as_deref()),
            request.headers,
        )?;
        let placement = place_record(state, &mut self.rng, request.partitioner, request.partition, &record);
        let partition = placement.partition();
        if state.topic.partition(partition).is_none() {
            return Err(unknown_partition(topic_name, partition));
        }

        // The producer's batch, in Kafka's bytes; the log checks it as a leader would, stamps its
        // offset and epoch, and stores those bytes.
        let mut batch = RecordBatch::new(request.timestamp_ms, vec![record]);
        if let TopicCompression::Codec(codec) = state.config.compression_type {
            batch.attributes.compression = codec;
        }
        let bytes = batch.encode().map_err(|e| KafkaError::new(ErrorCode::CorruptMessage, e.to_string()))?;
        let log = state.topic.partition_mut(partition).expect("partition checked above");
        let max_bytes = self.options.max_partition_bytes;
        if log.size_bytes() + bytes.len() > max_bytes {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "Partition {topic_name}-{partition} holds Kite's in-memory limit of {max_bytes} bytes; lower retention.ms or retention.bytes."
                ),
            ));
        }
        let appended = log.append_as_leader(&bytes, SINGLE_BROKER_LEADER_EPOCH, now_ms)?;
        let timestamp_ms = match state.config.message_timestamp_type {
            TimestampType::CreateTime => request.timestamp_ms,
            TimestampType::LogAppendTime => appended.max_timestamp,
        };
        Ok(Reply::Produced {
            topic: topic_name.to_string(),
            partition,
            offset: appended.first_offset,
            timestamp_ms,
            placement,
        })
    }

    /// A producer's many records at once: all serialized and placed first (a refusal appends
    /// nothing), then one RecordBatch per partition, in record order.
    fn produce_batch(
        &mut self,
        now_ms: i64,
        topic_name: &str,
        settings: BatchSettings,
        records: Vec<crate::api::BatchedRecord>,
    ) -> Result<Reply, KafkaError> {
        refuse_internal(topic_name)?;
        if records.is_empty() || records.len() > MAX_PRODUCE_BATCH_RECORDS {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "A produce_batch carries 1 to {MAX_PRODUCE_BATCH_RECORDS} records, not {}.",
                    records.len()
                ),
            ));
        }
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        // (partition, timestamp, record) per input record, in order.
        let mut placed = Vec::with_capacity(records.len());
        for item in records {
            let timestamp_ms = item.timestamp_ms.unwrap_or(now_ms);
            check_timestamp(timestamp_ms)?;
            let record = serialize_record(
                &self.schema_registry,
                topic_name,
                (settings.key_serializer, settings.value_serializer),
                (item.key.as_deref(), item.value.as_deref()),
                item.headers,
            )?;
            let partition =
                place_record(state, &mut self.rng, settings.partitioner, settings.partition, &record)
                    .partition();
            if state.topic.partition(partition).is_none() {
                return Err(unknown_partition(topic_name, partition));
            }
            placed.push((partition, timestamp_ms, record));
        }
        self.append_placed(now_ms, topic_name, placed)
    }

    /// `produce_records`: the records of Kafka record batches a client built itself (keys and
    /// values already serialized, as a Kafka producer sends them), placed like `produce_batch`'s.
    fn produce_records(
        &mut self,
        now_ms: i64,
        topic_name: &str,
        partition: Option<i32>,
        partitioner: PartitionerKind,
        payload: &[u8],
    ) -> Result<Reply, KafkaError> {
        refuse_internal(topic_name)?;
        let invalid = |message: String| KafkaError::new(ErrorCode::InvalidRequest, message);
        if payload.is_empty() {
            return Err(invalid(
                "produce_records carries its records as Kafka record batches in a binary frame; none came."
                    .into(),
            ));
        }
        let mut records = Vec::new();
        let mut decoded_bytes = 0usize;
        let mut rest = payload;
        while !rest.is_empty() {
            let (batch, used) = RecordBatch::decode(rest).map_err(|e| {
                KafkaError::new(
                    ErrorCode::CorruptMessage,
                    format!("The binary payload is not Kafka record batches: {e}"),
                )
            })?;
            rest = &rest[used..];
            for record in batch.records {
                decoded_bytes +=
                    record.key.as_ref().map_or(0, Vec::len) + record.value.as_ref().map_or(0, Vec::len);
                let timestamp =
                    batch.base_timestamp.checked_add(record.timestamp_delta).ok_or_else(|| {
                        invalid(format!(
                            "A record's timestamp overflows: {} + {}.",
                            batch.base_timestamp, record.timestamp_delta
                        ))
                    })?;
                records.push((timestamp, record));
            }
            if decoded_bytes > MAX_BATCH_BYTES {
                return Err(invalid(format!(
                    "A produce_records carries at most {MAX_BATCH_BYTES} bytes of keys and values."
                )));
            }
            if records.len() > MAX_PRODUCE_BATCH_RECORDS {
                return Err(invalid(format!(
                    "A produce_records carries at most {MAX_PRODUCE_BATCH_RECORDS} records."
                )));
            }
        }
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let mut placed = Vec::with_capacity(records.len());
        for (timestamp_ms, record) in records {
            check_timestamp(timestamp_ms)?;
            let record = BatchRecord { timestamp_delta: 0, offset_delta: 0, ..record };
            let chosen = place_record(state, &mut self.rng, partitioner, partition, &record).partition();
            if state.topic.partition(chosen).is_none() {
                return Err(unknown_partition(topic_name, chosen));
            }
            placed.push((chosen, timestamp_ms, record));
        }
        self.append_placed(now_ms, topic_name, placed)
    }

    /// Appends placed records: one RecordBatch per partition, its records in request order,
    /// every batch checked (size, the in-memory limit) before any is appended.
    fn append_placed(
        &mut self,
        now_ms: i64,
        topic_name: &str,
        placed: Vec<(i32, i64, BatchRecord)>,
    ) -> Result<Reply, KafkaError> {
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        // One batch per partition, its records in request order.
        let mut by_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for (index, (partition, _, _)) in placed.iter().enumerate() {
            by_partition.entry(*partition).or_default().push(index);
        }
        let mut encoded = Vec::new();
        for (&partition, indexes) in &by_partition {
            let base_timestamp = indexes.iter().map(|&i| placed[i].1).min().unwrap_or(now_ms);
            let batch_records = indexes
                .iter()
                .zip(0..)
                .map(|(&i, delta)| BatchRecord {
                    offset_delta: delta,
                    timestamp_delta: placed[i].1 - base_timestamp,
                    ..placed[i].2.clone()
                })
                .collect();
            let mut batch = RecordBatch::new(base_timestamp, batch_records);
            if let TopicCompression::Codec(codec) = state.config.compression_type {
                batch.attributes.compression = codec;
            }
            let bytes =
                batch.encode().map_err(|e| KafkaError::new(ErrorCode::CorruptMessage, e.to_string()))?;
            let log = state.topic.partition(partition).expect("partition checked above");
            if bytes.len() > log.config().max_message_bytes {
                return Err(KafkaError::new(
                    ErrorCode::MessageTooLarge,
                    format!(
                        "The record batch for partition {partition} is {} bytes, over the topic's max.message.bytes {}.",
                        bytes.len(),
                        log.config().max_message_bytes
                    ),
                ));
            }
            if log.size_bytes() + bytes.len() > self.options.max_partition_bytes {
                return Err(KafkaError::new(
                    ErrorCode::PolicyViolation,
                    format!(
                        "Partition {topic_name}-{partition} holds Kite's in-memory limit; lower retention.ms or retention.bytes."
                    ),
                ));
            }
            encoded.push((partition, bytes));
        }
        let mut results = vec![ProducedRecord { partition: 0, offset: 0, timestamp_ms: 0 }; placed.len()];
        let log_append_time = state.config.message_timestamp_type == TimestampType::LogAppendTime;
        for (partition, bytes) in encoded {
            let log = state.topic.partition_mut(partition).expect("partition checked above");
            let appended = log.append_as_leader(&bytes, SINGLE_BROKER_LEADER_EPOCH, now_ms)?;
            for (delta, &i) in (0..).zip(&by_partition[&partition]) {
                let timestamp_ms = if log_append_time { appended.max_timestamp } else { placed[i].1 };
                results[i] =
                    ProducedRecord { partition, offset: appended.first_offset + delta, timestamp_ms };
            }
        }
        Ok(Reply::ProducedBatch { topic: topic_name.to_string(), records: results })
    }

    /// `fetch_records`: whole batches from `offset` as the log stores them (no decoding here: the
    /// client decodes, as a Kafka consumer does), up to `max_bytes` (at least one batch).
    fn fetch_records(
        &self,
        topic_name: &str,
        partition: i32,
        offset: i64,
        max_bytes: Option<u32>,
    ) -> Result<Reply, KafkaError> {
        let state = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let log = state.topic.partition(partition).ok_or_else(|| unknown_partition(topic_name, partition))?;
        check_fetch_offset(log, topic_name, partition, offset)?;
        let max_bytes = max_bytes.map_or(MAX_FETCH_BYTES, |m| (m as usize).clamp(1, MAX_FETCH_BYTES));
        let payload = if offset < log.log_end_offset() {
            log.read(offset, max_bytes)?.into_owned()
        } else {
            Vec::new()
        };
        Ok(Reply::RecordBatches {
            topic: topic_name.to_string(),
            partition,
            log_start_offset: log.log_start_offset(),
            log_end_offset: log.log_end_offset(),
            payload,
        })
    }

    fn fetch(
        &self,
        topic_name: &str,
        partition: i32,
        offset: i64,
        max_records: u32,
        key_deserializer: SerializerKind,
        value_deserializer: SerializerKind,
    ) -> Result<Reply, KafkaError> {
        let state = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let log = state.topic.partition(partition).ok_or_else(|| unknown_partition(topic_name, partition))?;
        let max_records = max_records.min(MAX_FETCH_RECORDS) as usize;
        check_fetch_offset(log, topic_name, partition, offset)?;
        let corrupt =
            |e: crate::record::batch::BatchError| KafkaError::new(ErrorCode::CorruptMessage, e.to_string());
        let deserializers = (key_deserializer, value_deserializer);
        let view = |offset: i64, timestamp_ms: i64, record: &BatchRecord| {
            record_view(&self.schema_registry, deserializers, offset, timestamp_ms, record)
        };
        // Read whole batches as a consumer's fetch does, then decode them as its client would,
        // skipping the records before `offset` in the first batch.
        let mut records = Vec::new();
        let mut next = offset;
        let mut read_bytes = 0;
        while records.len() < max_records && next < log.log_end_offset() && read_bytes < MAX_FETCH_BYTES {
            let bytes = log.read(next, FETCH_READ_CHUNK_BYTES.min(MAX_FETCH_BYTES - read_bytes))?;
            if bytes.is_empty() {
                break;
            }
            read_bytes += bytes.len();
            let mut at = 0;
            while at < bytes.len() && records.len() < max_records {
                let (batch, used) = RecordBatch::decode(&bytes[at..]).map_err(corrupt)?;
                at += used;
                for record in &batch.records {
                    let record_offset = batch.base_offset + i64::from(record.offset_delta);
                    if record_offset < next || records.len() == max_records {
                        continue;
                    }
                    let timestamp_ms = match batch.attributes.timestamp_type {
                        TimestampType::CreateTime => batch.base_timestamp + record.timestamp_delta,
                        TimestampType::LogAppendTime => batch.max_timestamp,
                    };
                    records.push(view(record_offset, timestamp_ms, record));
                }
                next = next.max(batch.base_offset + i64::from(batch.last_offset_delta) + 1);
            }
        }
        Ok(Reply::Records {
            topic: topic_name.to_string(),
            partition,
            log_start_offset: log.log_start_offset(),
            log_end_offset: log.log_end_offset(),
            records,
        })
    }
}

/// The Java producer refuses a negative timestamp before sending (ProducerRecord's constructor).
fn check_timestamp(timestamp_ms: i64) -> Result<(), KafkaError> {
    if timestamp_ms < 0 {
        return Err(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("Invalid timestamp: {timestamp_ms}. Timestamp should always be non-negative or null."),
        ));
    }
    Ok(())
}

/// A producer record in Kafka's bytes: key and value through their serializers (Avro against
/// `registry`, under the topic's `-key`/`-value` subjects), header values as UTF-8.
fn serialize_record(
    registry: &SchemaRegistry,
    topic: &str,
    (key_serializer, value_serializer): (SerializerKind, SerializerKind),
    (key, value): (Option<&str>, Option<&str>),
    headers: Vec<(String, String)>,
) -> Result<BatchRecord, KafkaError> {
    let refused = |e: crate::serializer::SerdeError| KafkaError::new(ErrorCode::InvalidRecord, e.0);
    let key = serialize(key_serializer, key, registry, &format!("{topic}-key")).map_err(refused)?;
    let value = serialize(value_serializer, value, registry, &format!("{topic}-value")).map_err(refused)?;
    let headers = headers
        .into_iter()
        .map(|(key, value)| crate::record::batch::Header { key, value: Some(value.into_bytes()) })
        .collect();
    Ok(BatchRecord { key, value, headers, ..BatchRecord::default() })
}

/// Where the producer puts `record`: the explicit `partition`, else `partitioner`'s choice over
/// every partition (one broker leads them all, so all are available).
fn place_record(
    state: &mut TopicState,
    rng: &mut Rng,
    partitioner: PartitionerKind,
    partition: Option<i32>,
    record: &BatchRecord,
) -> Placement {
    if let Some(partition) = partition {
        return Placement::Explicit { partition };
    }
    let available: Vec<i32> = (0..state.topic.partition_count()).collect();
    let input = PartitionInput {
        key: record.key.as_deref(),
        record_bytes: record.encoded_len(),
        num_partitions: state.topic.partition_count(),
        available: &available,
        batch_size_bytes: DEFAULT_BATCH_SIZE_BYTES,
    };
    place(partitioner, &mut state.partitioner, rng, &input)
}

/// A record as a client reads it: key and value through the deserializers (hex and the reason
/// when they refuse the bytes), header values as UTF-8 (hex when not).
fn record_view(
    registry: &SchemaRegistry,
    (key_deserializer, value_deserializer): (SerializerKind, SerializerKind),
    offset: i64,
    timestamp_ms: i64,
    record: &BatchRecord,
) -> RecordView {
    let mut decode_error = None;
    let mut read = |kind, bytes: Option<&[u8]>| match deserialize(kind, bytes, registry) {
        Ok(text) => text,
        Err(e) => {
            decode_error.get_or_insert(e.0);
            bytes.map(crate::serializer::hex)
        }
    };
    let key = read(key_deserializer, record.key.as_deref());
    let value = read(value_deserializer, record.value.as_deref());
    let headers = record
        .headers
        .iter()
        .map(|h| {
            let value = h
                .value
                .as_deref()
                .map(|v| String::from_utf8(v.to_vec()).unwrap_or_else(|_| crate::serializer::hex(v)));
            (h.key.clone(), value)
        })
        .collect();
    RecordView { offset, timestamp_ms, key, value, decode_error, headers }
}

fn describe(state: &TopicState) -> TopicDescription {
    TopicDescription {
        name: state.topic.name().to_string(),
        partitions: state
            .topic
            .partitions()
            .iter()
            .zip(0..)
            .map(|(log, partition)| PartitionDescription {
                partition,
                log_start_offset: log.log_start_offset(),
                log_end_offset: log.log_end_offset(),
            })
            .collect(),
        configs: state.overrides.clone(),
    }
}

/// A fetch position must lie within the log, its end included (Kafka's OFFSET_OUT_OF_RANGE).
fn check_fetch_offset(log: &LocalLog, topic: &str, partition: i32, offset: i64) -> Result<(), KafkaError> {
    if offset < log.log_start_offset() || offset > log.log_end_offset() {
        return Err(KafkaError::new(
            ErrorCode::OffsetOutOfRange,
            format!(
                "Fetch position {offset} is out of range for partition {topic}-{partition} (log start {}, log end {}).",
                log.log_start_offset(),
                log.log_end_offset()
            ),
        ));
    }
    Ok(())
}

/// Clients do not write to `__consumer_offsets`: only the coordinator does (Kafka's
/// ReplicaManager refuses the append the same way).
fn refuse_internal(topic: &str) -> Result<(), KafkaError> {
    if topic == crate::group::coordinator::OFFSETS_TOPIC {
        return Err(KafkaError::new(
            ErrorCode::InvalidTopicException,
            format!("Cannot append to internal topic {topic}"),
        ));
    }
    Ok(())
}

fn unknown_topic(topic: &str) -> KafkaError {
    KafkaError::new(ErrorCode::UnknownTopicOrPartition, format!("This server does not host topic '{topic}'."))
}

fn unknown_partition(topic: &str, partition: i32) -> KafkaError {
    KafkaError::new(
        ErrorCode::UnknownTopicOrPartition,
        format!("This server does not host this topic-partition: {topic}-{partition}."),
    )
}
