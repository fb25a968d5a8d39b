//! The cluster as clients see it: topics, produce and fetch, answering one command at a time.
//!
//! Behind `handle` run one broker or N replicating brokers with a controller (`brokers`), and the
//! group coordinator with the consumers it hosts for clients (`groups`). The front plays the
//! producer client's part too: serializers, partitioner, batching into Kafka's bytes.
//!
//! Each broker keeps its files in a `BrokerStore` the host provides: a directory per partition,
//! Kafka's recovery-point and log-start checkpoints, the clean-shutdown marker; the cluster's
//! topics, configs and schemas are kept beside them (`kite-topics.json`, the controller's metadata
//! snapshot) until the KRaft metadata log arrives.

mod brokers;
mod clients;
mod groups;
pub mod layout;
mod leader_election;
mod membership;
pub mod metadata_log;
mod producers;
pub mod quorum_store;
mod reassignments;
mod transactions;

use crate::record::dump::DumpError;
use brokers::{Brokers, PartitionView, Replicated, SINGLE_BROKER_ID, SingleBroker};
pub use brokers::{CHECKPOINT_INTERVAL_MS, ListenerReach, METADATA_LOG_FILE, RETENTION_CHECK_INTERVAL_MS};
pub use clients::AdvertisedBroker;
pub use producers::{PRODUCER_ID_BLOCK_IDS, PRODUCER_IDS_PER_MS};
pub use transactions::PlantedTxnBug;

use std::collections::BTreeMap;

use crate::api::{
    BrokerConfigView, Command, IdempotentProducer, IdempotentWrite, IsolationLevel, MarkerView, Metrics,
    PartitionDescription, PartitionRef, ProducedPartition, ProducedRecord, RecordView, ReplicaLogEnd, Reply,
    TopicDescription, TxnMark,
};
use crate::config::{Acks, BrokerConfigs, TopicCompression, TopicConfig};
use crate::error::{ErrorCode, KafkaError};
use crate::ids::TopicId;
use crate::limits::{
    FETCH_READ_CHUNK_BYTES, MAX_BATCH_BYTES, MAX_FETCH_BYTES, MAX_FETCH_RECORDS,
    MAX_PARTITION_BYTES_IN_MEMORY, MAX_PARTITIONS_PER_CLUSTER, MAX_PRODUCE_BATCH_RECORDS,
    MAX_TOPICS_PER_CLUSTER,
};
use crate::log::index::NO_TIMESTAMP;
use crate::log::local_log::{LocalLog, OpenReport};
use crate::log::producer_state::ProducerBatch;
use crate::log::segment::TimestampAndOffset;
use crate::log::storage::{BrokerStore, MemoryBrokerStore, StorageError, sweep_stray_partitions};
use crate::partitioner::{
    DEFAULT_BATCH_SIZE_BYTES, PartitionInput, PartitionerKind, Placement, TopicPartitionerState, place,
};
use crate::random::Rng;
use crate::record::batch::{BatchHeader, BatchRecord, RecordBatch, TimestampType};
use crate::replication::local::LinkEnd;
use crate::schema_registry::SchemaRegistry;
use crate::serializer::{SerializerKind, deserialize};
use crate::topic::{collision_warning, names_collide, validate_name, validate_partition_count};
use crate::trace::Event;
use serde::{Deserialize, Serialize};

/// ListOffsets' special timestamp for the log start offset (Kafka's
/// `ListOffsetsRequest.EARLIEST_TIMESTAMP`).
pub const EARLIEST_TIMESTAMP: i64 = -2;
/// ListOffsets' special timestamp for the high watermark (Kafka's `LATEST_TIMESTAMP`).
pub const LATEST_TIMESTAMP: i64 = -1;
/// ListOffsets' special timestamp for the record with the largest timestamp (KIP-734, v7).
pub const MAX_TIMESTAMP: i64 = -3;
/// ListOffsets' special timestamp for the first offset on the broker's own disk (KIP-405, v8):
/// the log start, since Kite keeps no tiered storage.
pub const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;
/// ListOffsets' special timestamp for the last offset in tiered storage (KIP-1005, v9): none
/// without tiered storage, as Kafka answers then.
pub const LATEST_TIERED_TIMESTAMP: i64 = -5;

/// ListOffsets' special timestamp by the name kafka-get-offsets' `--time` gives it (`latest`,
/// `earliest`, `max-timestamp`, `earliest-local`, `latest-tiered`); `None` for any other word.
pub fn list_offsets_timestamp(name: &str) -> Option<i64> {
    match name {
        "latest" => Some(LATEST_TIMESTAMP),
        "earliest" => Some(EARLIEST_TIMESTAMP),
        "max-timestamp" => Some(MAX_TIMESTAMP),
        "earliest-local" => Some(EARLIEST_LOCAL_TIMESTAMP),
        "latest-tiered" => Some(LATEST_TIERED_TIMESTAMP),
        _ => None,
    }
}
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
/// The broker's topics and their configs, until the KRaft metadata log replaces it.
pub const TOPICS_FILE: &str = "kite-topics.json";
/// Seeds the topic id stream apart from the producer's (`topic_ids` in ASCII).
const TOPIC_ID_STREAM: u64 = 0x746f_7069_635f_6964;
/// The version of `kite-topics.json` this code writes and reads.
const TOPICS_FILE_VERSION: u32 = 1;
/// Kafka's `default.replication.factor`: a topic created without one has one replica.
pub const DEFAULT_REPLICATION_FACTOR: i16 = 1;

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
    /// How many topic ids were drawn: the stream goes on from there after a restart, so a topic
    /// created again under a deleted one's name never gets its id back.
    #[serde(default)]
    topic_ids_drawn: u64,
    /// The end of the last block of producer ids claimed: ids below it may have been handed out.
    #[serde(default)]
    producer_ids_claimed: i64,
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
    /// Absent in files written before topic ids: one is given at open.
    #[serde(default)]
    topic_id: Option<TopicId>,
    partitions: i32,
    configs: BTreeMap<String, String>,
}

/// What `kite-topics.json` holds: its topics and how many topic ids were drawn; `None` when there
/// is no file (a new cluster, or one whose metadata is elsewhere).
fn read_topics_file(store: &dyn BrokerStore) -> Result<Option<(Vec<TopicRecord>, u64, i64)>, String> {
    let Some(bytes) = store.read_file(TOPICS_FILE).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let file: TopicsFile = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{TOPICS_FILE} is not a Kite topics file: {e}"))?;
    if file.version != TOPICS_FILE_VERSION {
        return Err(format!(
            "{TOPICS_FILE} has version {}; this Kite reads version {TOPICS_FILE_VERSION}",
            file.version
        ));
    }
    Ok(Some((file.topics, file.topic_ids_drawn, file.producer_ids_claimed)))
}

/// The engine a host runs: the brokers (one, or N replicating under a controller), the group
/// coordinator and the clients it hosts, answering each [`Command`] at the time the host gives.
pub struct Cluster {
    topics: BTreeMap<String, TopicState>,
    schema_registry: SchemaRegistry,
    /// The producer's random choices (sticky partitions, librdkafka's random placement).
    rng: Rng,
    /// Where new topic ids come from: a stream of their own (ids do not move the producer's
    /// choices), at draw `topic_ids_drawn` (kept in the topics file), mixed with the time.
    topic_id_seed: u64,
    topic_ids_drawn: u64,
    /// The brokers holding the partitions' logs (and the cluster's own files).
    brokers: Box<dyn Brokers>,
    options: StorageOptions,
    /// Every registration that added a version, in order (what `kite-schemas.json` holds).
    schema_registrations: Vec<SchemaRecord>,
    /// The group coordinator and the consumers this engine runs for its clients.
    groups: groups::Groups,
    /// Derived from the seed: the same data directory reports the same id.
    cluster_id: String,
    /// Events not yet taken by the host.
    events: std::collections::VecDeque<(i64, Event)>,
    counters: Metrics,
    /// Shut down: the clean-shutdown marker is written, so nothing may change any more.
    closed: bool,
    /// Clients may stop and start brokers (the host's choice: `kite serve --allow-faults`).
    pub allow_faults: bool,
    /// The broker configs the cluster started with (`set_broker_configs`).
    broker_configs: BrokerConfigs,
    /// Each partition's ISR size at its last change, to tell shrinks from expands.
    isr_sizes: BTreeMap<crate::replication::protocol::TopicPartition, usize>,
    /// Idempotent producers: the ids handed out, each partition's sequences.
    producers: producers::Producers,
    /// The transaction coordinator, its owed markers and the offsets sent in transactions.
    transactions: transactions::Transactions,
    /// Kafka clients connected to the listeners, by connection, as `describe_cluster` lists them.
    kafka_clients: BTreeMap<u64, crate::api::KafkaClientView>,
    /// The id the next Kafka connection is listed under.
    next_kafka_client: u64,
    /// The protocol inspector's last requests and responses on the Kafka listeners.
    kafka_exchanges: crate::kafka::inspector::Exchanges,
    /// How the host makes a new broker's directory (`add_broker`); `None`: it makes none.
    new_broker_stores: Option<layout::NewBrokerStore>,
    /// The Kafka listeners the host opened for brokers added while it ran.
    kafka_listeners_added: Vec<AdvertisedBroker>,
    /// Kite Connect's worker, a client of this cluster stepped from its tick (taken out while it
    /// runs, so it can ask the cluster as any client does).
    connect: Option<Box<crate::connect::Worker>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("brokers", &self.brokers.describe_store())
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct TopicState {
    name: String,
    topic_id: TopicId,
    partitions: i32,
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

/// A record placed by the producer: where it goes and why, and its timestamp.
struct Placed {
    placement: Placement,
    timestamp_ms: i64,
    record: BatchRecord,
}

/// One partition's placed records (`indexes` into `placed`) as a new batch, in request order,
/// in the topic's codec, with an idempotent producer's id, epoch and base sequence.
fn encode_batch(
    now_ms: i64,
    placed: &[Placed],
    indexes: &[usize],
    compression: TopicCompression,
    producer: Option<ProducerBatch>,
) -> Result<Vec<u8>, KafkaError> {
    let base_timestamp = indexes.iter().map(|&i| placed[i].timestamp_ms).min().unwrap_or(now_ms);
    let records = indexes
        .iter()
        .zip(0..)
        .map(|(&i, delta)| BatchRecord {
            offset_delta: delta,
            timestamp_delta: placed[i].timestamp_ms - base_timestamp,
            ..placed[i].record.clone()
        })
        .collect();
    let mut batch = RecordBatch::new(base_timestamp, records);
    if let TopicCompression::Codec(codec) = compression {
        batch.attributes.compression = codec;
    }
    if let Some(producer) = producer {
        batch.producer_id = producer.producer_id;
        batch.producer_epoch = producer.epoch;
        batch.base_sequence = producer.first_sequence;
        batch.attributes.transactional = producer.transactional;
    }
    batch.encode().map_err(|e| KafkaError::new(ErrorCode::CorruptMessage, e.to_string()))
}

/// Whether a client's batch can be stored as it came, as Kafka's `LogValidator` assigns offsets
/// in place: its records' offset deltas are 0, 1, … to its last, and the topic's
/// `compression.type` takes its codec (`producer`, or the same one).
fn keeps_as_sent(batch: &RecordBatch, compression: TopicCompression) -> bool {
    let in_order = batch.records.iter().zip(0..).all(|(record, delta)| record.offset_delta == delta);
    let last = i32::try_from(batch.records.len()).is_ok_and(|n| batch.last_offset_delta == n - 1);
    let codec = match compression {
        TopicCompression::Producer => true,
        TopicCompression::Codec(codec) => codec == batch.attributes.compression,
    };
    in_order && last && codec && !batch.records.is_empty()
}

/// A `produce_records` payload read: each record with its timestamp, the producer's batch
/// when it is idempotent, how many batches came, and the first one's bytes when they can be
/// stored as they came.
struct ProducerRecords<'a> {
    records: Vec<(i64, BatchRecord)>,
    idempotent: Option<ProducerBatch>,
    batches: usize,
    kept: Option<&'a [u8]>,
}

/// A payload that is one batch a topic keeps as it came: its records' timestamps, and the
/// producer's batch when it is idempotent.
struct AsSent {
    timestamps: Vec<i64>,
    idempotent: Option<ProducerBatch>,
}

/// A payload that is one batch a topic keeps as it came (`keeps_as_sent`), checked in place as
/// Kafka's broker validates a batch it stores: its records are never copied out, and stand in
/// the answer as their timestamps only. `None` for any other payload.
fn records_as_sent(payload: &[u8], compression: TopicCompression) -> Result<Option<AsSent>, KafkaError> {
    let (checked, used) = RecordBatch::check(payload).map_err(not_batches)?;
    let header = &checked.header;
    let codec = match compression {
        TopicCompression::Producer => true,
        TopicCompression::Codec(codec) => codec == header.attributes.compression,
    };
    let count = checked.timestamp_deltas.len();
    let last = i32::try_from(count).is_ok_and(|n| header.last_offset_delta == n - 1);
    if used != payload.len() || !(checked.dense && last && codec && count > 0) {
        return Ok(None);
    }
    refuse_control(header.attributes.control)?;
    check_produce_size(checked.data_bytes, count)?;
    let timestamps = checked
        .timestamp_deltas
        .iter()
        .map(|delta| record_timestamp(header.base_timestamp, *delta))
        .collect::<Result<Vec<_>, _>>()?;
    let idempotent = (header.producer_id >= 0).then(|| ProducerBatch {
        producer_id: header.producer_id,
        epoch: header.producer_epoch,
        first_sequence: header.base_sequence,
        record_count: i32::try_from(count).unwrap_or(i32::MAX).max(1),
        transactional: header.attributes.transactional,
    });
    Ok(Some(AsSent { timestamps, idempotent }))
}

/// A payload's batches decoded, every record copied out (to be placed one by one, or put in
/// new batches); the first batch's bytes kept when the topic can store them as they came.
fn records_decoded(
    payload: &[u8],
    compression: Option<TopicCompression>,
) -> Result<ProducerRecords<'_>, KafkaError> {
    let mut read = ProducerRecords { records: Vec::new(), idempotent: None, batches: 0, kept: None };
    let mut decoded_bytes = 0usize;
    let mut rest = payload;
    while !rest.is_empty() {
        let (batch, used) = RecordBatch::decode(rest).map_err(not_batches)?;
        if read.batches == 0 && compression.is_some_and(|compression| keeps_as_sent(&batch, compression)) {
            read.kept = Some(&rest[..used]);
        }
        rest = &rest[used..];
        read.batches += 1;
        refuse_control(batch.attributes.control)?;
        if batch.producer_id >= 0 {
            read.idempotent = Some(ProducerBatch {
                producer_id: batch.producer_id,
                epoch: batch.producer_epoch,
                first_sequence: batch.base_sequence,
                record_count: i32::try_from(batch.records.len()).unwrap_or(i32::MAX).max(1),
                transactional: batch.attributes.transactional,
            });
        }
        for record in batch.records {
            decoded_bytes +=
                record.key.as_ref().map_or(0, Vec::len) + record.value.as_ref().map_or(0, Vec::len);
            let timestamp = record_timestamp(batch.base_timestamp, record.timestamp_delta)?;
            read.records.push((timestamp, BatchRecord { timestamp_delta: 0, offset_delta: 0, ..record }));
        }
        check_produce_size(decoded_bytes, read.records.len())?;
    }
    Ok(read)
}

fn not_batches(e: crate::record::batch::BatchError) -> KafkaError {
    KafkaError::new(ErrorCode::CorruptMessage, format!("The binary payload is not Kafka record batches: {e}"))
}

/// Markers are the transaction coordinator's to write, never a client's.
fn refuse_control(control: bool) -> Result<(), KafkaError> {
    if control {
        return Err(KafkaError::new(
            ErrorCode::InvalidRecord,
            "A client may not produce a control batch (a transaction marker).".to_string(),
        ));
    }
    Ok(())
}

/// A record's timestamp: its batch's base plus its delta, non-negative.
fn record_timestamp(base_timestamp: i64, delta: i64) -> Result<i64, KafkaError> {
    let timestamp = base_timestamp.checked_add(delta).ok_or_else(|| {
        KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("A record's timestamp overflows: {base_timestamp} + {delta}."),
        )
    })?;
    check_timestamp(timestamp)?;
    Ok(timestamp)
}

/// What one `produce_records` may carry: `MAX_BATCH_BYTES` of keys and values,
/// `MAX_PRODUCE_BATCH_RECORDS` records.
fn check_produce_size(data_bytes: usize, records: usize) -> Result<(), KafkaError> {
    let invalid = |message: String| KafkaError::new(ErrorCode::InvalidRequest, message);
    if data_bytes > MAX_BATCH_BYTES {
        return Err(invalid(format!(
            "A produce_records carries at most {MAX_BATCH_BYTES} bytes of keys and values."
        )));
    }
    if records > MAX_PRODUCE_BATCH_RECORDS {
        return Err(invalid(format!(
            "A produce_records carries at most {MAX_PRODUCE_BATCH_RECORDS} records."
        )));
    }
    Ok(())
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
    producer: Option<IdempotentProducer>,
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
            topic_id_seed: seed ^ TOPIC_ID_STREAM,
            topic_ids_drawn: 0,
            brokers: Box::new(SingleBroker::new(
                Box::new(MemoryBrokerStore::ephemeral()),
                StorageOptions::MEMORY,
            )),
            options: StorageOptions::MEMORY,
            groups: groups::Groups::new(),
            cluster_id: new_cluster_id(seed),
            events: std::collections::VecDeque::new(),
            counters: Metrics::default(),
            closed: false,
            allow_faults: false,
            broker_configs: BrokerConfigs::default(),
            isr_sizes: BTreeMap::new(),
            producers: producers::Producers::default(),
            transactions: transactions::Transactions::default(),
            kafka_clients: BTreeMap::new(),
            next_kafka_client: 0,
            kafka_exchanges: Default::default(),
            new_broker_stores: None,
            kafka_listeners_added: Vec::new(),
            connect: Some(Box::new(crate::connect::Worker::with_seed(seed))),
        }
    }

    /// A cluster of `brokers` replicating brokers held in memory (for tests and the tab), with
    /// Kafka's three controllers.
    pub fn replicated_in_memory(seed: u64, brokers: usize, now_ms: i64) -> Cluster {
        let controllers = crate::replication::kraft::DEFAULT_CONTROLLERS;
        Cluster::replicated_in_memory_with_controllers(seed, brokers, controllers, now_ms)
    }

    /// A cluster of `brokers` replicating brokers and a quorum of `controllers` (odd, checked by
    /// the caller), held in memory.
    pub fn replicated_in_memory_with_controllers(
        seed: u64,
        brokers: usize,
        controllers: usize,
        now_ms: i64,
    ) -> Cluster {
        let stores =
            (0..brokers).map(|_| Box::new(MemoryBrokerStore::ephemeral()) as Box<dyn BrokerStore>).collect();
        let metadata = Box::new(MemoryBrokerStore::ephemeral());
        let controllers = (0..controllers)
            .map(|_| Box::new(MemoryBrokerStore::ephemeral()) as Box<dyn BrokerStore>)
            .collect();
        // Memory stores do not fail, and there is nothing stored to refuse.
        let mut cluster =
            Cluster::open_replicated(seed, now_ms, metadata, controllers, stores, StorageOptions::MEMORY)
                .expect("a new in-memory cluster opens");
        cluster.set_new_broker_stores(Box::new(|_| {
            Ok(Box::new(MemoryBrokerStore::ephemeral()) as Box<dyn BrokerStore>)
        }));
        cluster
    }

    /// The broker configs this cluster runs with, as a host read them at start (Kafka's
    /// `server.properties`): read-only from then on.
    pub fn set_broker_configs(&mut self, configs: BrokerConfigs) {
        self.brokers.set_preferred_leader_check_ms(configs.preferred_leader_check_ms());
        self.brokers.set_replication_configs(&configs);
        self.broker_configs = configs;
    }

    /// Each broker's `broker.rack` (broker N gets `racks[N]`), as a host read them at start:
    /// the brokers register with them, and new topics' replicas spread over them.
    pub fn set_broker_racks(&mut self, racks: &[Option<String>]) {
        self.brokers.set_racks(racks);
    }

    /// Each broker's rack, as it registered (those without one left out).
    pub fn broker_racks(&self) -> BTreeMap<i32, String> {
        self.brokers.racks()
    }

    /// The broker configs this cluster runs with.
    pub fn broker_configs(&self) -> BrokerConfigs {
        self.broker_configs
    }

    /// How this cluster makes the directory of a broker added later (`add_broker`).
    pub fn set_new_broker_stores(&mut self, stores: layout::NewBrokerStore) {
        self.new_broker_stores = Some(stores);
    }

    /// Opens the broker kept in `store`, as a Kafka broker starts: notes and removes the
    /// clean-shutdown marker, reads the checkpoints and the topics, and opens every partition's
    /// log (recovering those that were not shut down cleanly). Returns each log's report.
    pub fn open(
        seed: u64,
        store: Box<dyn BrokerStore>,
        options: StorageOptions,
    ) -> Result<(Cluster, Vec<(String, OpenReport)>), String> {
        let brokers = SingleBroker::open(store, options)?;
        Cluster::open_with(seed, Box::new(brokers), options)
    }

    /// Opens a cluster of `stores.len()` replicating brokers (ids 0, 1, …, each over its own
    /// directory), the controller replaying its metadata snapshot and the cluster's files from
    /// `metadata`. Each broker opens the logs of the partitions it hosts as the controller names
    /// them (recovered unless it stopped cleanly).
    pub fn open_replicated(
        seed: u64,
        now_ms: i64,
        metadata: Box<dyn BrokerStore>,
        controllers: Vec<Box<dyn BrokerStore>>,
        stores: Vec<Box<dyn BrokerStore>>,
        options: StorageOptions,
    ) -> Result<Cluster, String> {
        let brokers = Replicated::open(seed, now_ms, metadata, controllers, stores, options)?;
        Cluster::open_with(seed, Box::new(brokers), options).map(|(cluster, _)| cluster)
    }

    fn open_with(
        seed: u64,
        mut brokers: Box<dyn Brokers>,
        options: StorageOptions,
    ) -> Result<(Cluster, Vec<(String, OpenReport)>), String> {
        let at = |e: StorageError| e.to_string();
        let store = brokers.metadata_store();
        let stored = read_topics_file(store)?;
        // Without a topics file nothing says which directories are strays: none is swept (the
        // file may be what was lost).
        if brokers.broker_count() == 1
            && let Some((topics, ..)) = &stored
        {
            // One broker keeps its partitions beside the topics file: a directory the file does
            // not name is a deleted topic's that a crash left behind (replicated brokers are swept
            // from the controller's metadata as they open).
            let named: std::collections::BTreeSet<String> = topics
                .iter()
                .flat_map(|t| (0..t.partitions).map(move |p| format!("{}-{p}", t.name)))
                .collect();
            let store = brokers.metadata_store();
            sweep_stray_partitions(store, &|dir| named.contains(dir)).map_err(at)?;
        }
        let (topics, topic_ids_drawn, producer_ids_claimed) = stored.unwrap_or_default();
        let store = brokers.metadata_store();
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
        let mut cluster = Cluster { brokers, options, topic_ids_drawn, ..Cluster::new(seed) };
        cluster.producers.start_after(producer_ids_claimed);
        match stored_id {
            Some(id) => cluster.cluster_id = id,
            None => {
                let text =
                    format!("cluster.id={}\nnode.id={SINGLE_BROKER_ID}\nversion=1\n", cluster.cluster_id);
                cluster
                    .brokers
                    .metadata_store()
                    .write_file(META_PROPERTIES_FILE, text.as_bytes())
                    .map_err(at)?;
            }
        }
        for record in &registrations {
            cluster
                .schema_registry
                .register(&record.subject, &record.schema)
                .map_err(|e| format!("{SCHEMAS_FILE}: subject {}: {e}", record.subject))?;
        }
        cluster.schema_registrations = registrations;
        let topics = cluster.give_topic_ids(topics).map_err(at)?;
        // The topics file is what the front lists: a topic the controller still holds without
        // it (a crash between the two files' writes, in a deletion or a creation) goes.
        let listed: std::collections::BTreeSet<String> = topics.iter().map(|t| t.name.clone()).collect();
        cluster.brokers.drop_unlisted_topics(&listed)?;
        let mut reports = Vec::new();
        for record in topics {
            validate_name(&record.name).map_err(|e| format!("{TOPICS_FILE}: {}", e.message))?;
            validate_partition_count(record.partitions)
                .map_err(|e| format!("{TOPICS_FILE}: {}", e.message))?;
            let config = TopicConfig::from_overrides(&record.configs)
                .map_err(|e| format!("{TOPICS_FILE}: topic {}: {}", record.name, e.message))?;
            let topic_id = record.topic_id.unwrap_or_default();
            reports.extend(cluster.brokers.open_topic(&record.name, topic_id, record.partitions, &config)?);
            let state = TopicState {
                name: record.name.clone(),
                topic_id,
                partitions: record.partitions,
                config,
                overrides: record.configs,
                partitioner: TopicPartitionerState::default(),
            };
            cluster.topics.insert(record.name, state);
        }
        cluster.load_coordinators();
        cluster.events.clear();
        Ok((cluster, reports))
    }

    /// Makes a topic's creation (or partitions added) create at most `replica_logs_per_turn`
    /// replica logs in the turn that asks for it, and the rest in the turns after (`resume`), so
    /// a host can answer other clients in between: a topic's creation is then answered as
    /// Kafka's CreateTopics is, once the controller has it, while its brokers still create their
    /// logs (a partition not created yet answers as a leaderless one does). `kite serve` paces
    /// (`MAX_REPLICA_LOGS_CREATED_PER_TURN`); the tab, scenarios and the simulators, whose turns
    /// keep no other client waiting, create every log at once.
    pub fn pace_creations(&mut self, replica_logs_per_turn: usize) {
        self.brokers.pace_creations(replica_logs_per_turn);
    }

    /// Creates the next slice of replica logs a paced creation held back; whether more wait (a
    /// host that paces calls it again, after the clients waiting).
    pub fn resume(&mut self, now_ms: i64) -> bool {
        !self.closed && self.brokers.resume(now_ms)
    }

    /// Whether replica logs wait for `resume`.
    pub fn has_deferred_work(&self) -> bool {
        !self.closed && self.brokers.has_deferred()
    }

    /// The brokers' periodic work at `now_ms`: the time half of each log's flush policy, the
    /// offset checkpoints every `CHECKPOINT_INTERVAL_MS`, retention and the cleaner every
    /// `RETENTION_CHECK_INTERVAL_MS`, replication on the cluster's clock, and the groups' timers.
    /// Returns the problems it met, one line each.
    pub fn tick(&mut self, now_ms: i64) -> Vec<String> {
        if self.closed {
            return Vec::new();
        }
        let problems = self.brokers.tick(now_ms);
        self.load_group_partitions(now_ms);
        self.tick_groups(now_ms);
        self.tick_transactions(now_ms);
        self.tick_connect(now_ms);
        self.collect_events();
        problems
    }

    /// Steps Kite Connect's worker (nothing to do until a connector exists).
    fn tick_connect(&mut self, now_ms: i64) {
        if let Some(mut worker) = self.connect.take() {
            worker.tick(self, now_ms);
            self.connect = Some(worker);
        }
    }

    /// Kite Connect's worker, for the host to give it files and a worker id.
    pub fn connect_worker(&mut self) -> &mut crate::connect::Worker {
        self.connect.get_or_insert_with(Box::default)
    }

    /// The cluster's id (`cluster.id`).
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// Kite Connect's worker process dies and a new one starts (`Worker::crash`).
    pub fn crash_connect_worker(&mut self, now_ms: i64) {
        if let Some(mut worker) = self.connect.take() {
            worker.crash(self, now_ms);
            self.connect = Some(worker);
        }
    }

    /// The cluster's schema registry, as clients inside the engine read it (Kite Connect's
    /// AvroConverter); registrations go through [`Command::RegisterSchema`], which keeps them.
    pub fn schema_registry(&self) -> &SchemaRegistry {
        &self.schema_registry
    }

    /// How many partitions a topic has; `None` when there is no such topic.
    pub fn topic_partition_count(&self, name: &str) -> Option<i32> {
        self.topics.get(name).map(|t| t.partitions)
    }

    fn describe_connect(&mut self, file: Option<&str>) -> Result<Reply, KafkaError> {
        let mut view = self.connect_worker().describe(file).map_err(connect_refused)?;
        view.schemas = self.connect_subjects(&view.connectors);
        Ok(Reply::ConnectDescribed(view))
    }

    /// The registry subjects the connectors' AvroConverters write and read: each topic's
    /// `-key` and `-value` subject that holds a schema, its latest version.
    fn connect_subjects(&self, connectors: &[crate::api::ConnectorView]) -> Vec<crate::api::SubjectView> {
        use crate::connect::converter::AVRO_CONVERTER;
        let mut subjects = std::collections::BTreeSet::new();
        for connector in connectors {
            let (key, value) = &connector.converters;
            for topic in &connector.topics {
                if key == AVRO_CONVERTER {
                    subjects.insert(format!("{topic}-key"));
                }
                if value == AVRO_CONVERTER {
                    subjects.insert(format!("{topic}-value"));
                }
            }
        }
        subjects
            .into_iter()
            .filter_map(|subject| {
                let (id, schema) = self.schema_registry.latest(&subject)?;
                let version = self.schema_registry.versions(&subject).len() as u32;
                let schema = serde_json::to_string(schema).ok()?;
                Some(crate::api::SubjectView { subject, version, id, schema })
            })
            .take(crate::limits::MAX_CONNECT_SCHEMAS_SHOWN)
            .collect()
    }

    fn write_connect_file(&mut self, path: &str, text: &str, append: bool) -> Result<Reply, KafkaError> {
        self.connect_worker().write_file(path, text, append).map_err(connect_refused)?;
        self.describe_connect(Some(path))
    }

    fn connect_asked(
        &mut self,
        now_ms: i64,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut worker = self.connect.take().unwrap_or_default();
        let answer = crate::connect::rest::handle(&mut worker, self, now_ms, method, path, body);
        self.connect = Some(worker);
        Reply::Connect { status: answer.status, body: answer.body }
    }

    /// `topics` from a file written before topic ids, each given one, stored before any log opens:
    /// a replica's directory is then only ever claimed by an id the file keeps (were the file
    /// written after, a failed open would leave directories claimed by ids the next start would
    /// not draw again, and that start would empty them).
    fn give_topic_ids(&mut self, mut topics: Vec<TopicRecord>) -> Result<Vec<TopicRecord>, StorageError> {
        if topics.iter().all(|t| t.topic_id.is_some()) {
            return Ok(topics);
        }
        for record in topics.iter_mut().filter(|t| t.topic_id.is_none()) {
            record.topic_id = Some(self.new_topic_id(0));
        }
        let file = TopicsFile {
            version: TOPICS_FILE_VERSION,
            topics,
            topic_ids_drawn: self.topic_ids_drawn,
            producer_ids_claimed: self.producers.claimed_end,
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| StorageError::new("encode", TOPICS_FILE, e.to_string()))?;
        self.brokers.metadata_store().write_file(TOPICS_FILE, &json)?;
        Ok(file.topics)
    }

    /// A topic id no topic of the cluster has, drawn at `now_ms`.
    fn new_topic_id(&mut self, now_ms: i64) -> TopicId {
        loop {
            self.topic_ids_drawn += 1;
            let draw = self.topic_ids_drawn.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let mut random = Rng::from_seed(self.topic_id_seed ^ draw ^ now_ms as u64);
            let id = TopicId::random(|| random.next_u64());
            if self.topics.values().all(|topic| topic.topic_id != id) {
                return id;
            }
        }
    }

    fn write_topics_file(&mut self) -> Result<(), StorageError> {
        let topics = self
            .topics
            .values()
            .map(|state| TopicRecord {
                name: state.name.clone(),
                topic_id: Some(state.topic_id),
                partitions: state.partitions,
                configs: state.overrides.clone(),
            })
            .collect();
        let file = TopicsFile {
            version: TOPICS_FILE_VERSION,
            topics,
            topic_ids_drawn: self.topic_ids_drawn,
            producer_ids_claimed: self.producers.claimed_end,
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| StorageError::new("encode", TOPICS_FILE, e.to_string()))?;
        self.brokers.metadata_store().write_file(TOPICS_FILE, &json)
    }

    /// A clean shutdown, as a Kafka broker's: close every log (flushed, indexes written), write
    /// the checkpoints, then the clean-shutdown marker, last. If anything fails the marker is not
    /// written, so the next start recovers.
    pub fn shutdown(&mut self) -> Result<(), String> {
        // From here nothing writes: a late request would land after the marker.
        self.closed = true;
        self.brokers.shutdown()
    }

    /// `create_topic` as asked: the replication factor the broker's default when not given, and
    /// checked against the brokers there are.
    fn create_topic_asked(
        &mut self,
        now_ms: i64,
        name: String,
        partitions: i32,
        configs: BTreeMap<String, String>,
        replication_factor: Option<i16>,
    ) -> Result<Reply, KafkaError> {
        let replication_factor = replication_factor.unwrap_or(DEFAULT_REPLICATION_FACTOR);
        crate::config::validate_replication_factor(replication_factor, self.brokers.broker_count())
            .and_then(|()| self.create_topic(now_ms, name, partitions, configs, replication_factor as usize))
    }

    /// Answers one command. `now_ms` is the host's wall clock in milliseconds since the Unix epoch;
    /// the engine never reads a clock itself.
    pub fn handle(&mut self, now_ms: i64, command: Command) -> Reply {
        if self.closed {
            return Reply::Error(KafkaError::new(ErrorCode::KafkaStorageError, "The broker has shut down."));
        }
        self.brokers.catch_up(now_ms);
        // Kite Connect's tasks run on requests as on ticks: a host that ticks only when asked
        // (the tab, between its clock's steps) still moves their records.
        self.tick_connect(now_ms);
        let result = match command {
            Command::CreateTopic { name, partitions, configs, replication_factor } => {
                self.create_topic_asked(now_ms, name, partitions, configs, replication_factor)
            }
            Command::ListTopics => Ok(Reply::Topics {
                topics: self.topics.values().map(|state| self.describe_topic(state)).collect(),
            }),
            produce @ Command::Produce { .. } => self.produce_asked(now_ms, produce),
            fetch @ Command::Fetch { .. } => self.fetch_asked(fetch),
            batch @ Command::ProduceBatch { .. } => self.produce_batch_asked(now_ms, batch),
            Command::ListOffsets { topic, partition, timestamp_ms } => {
                self.list_offsets(&topic, partition, timestamp_ms)
            }
            admin @ (Command::DeleteRecords { .. }
            | Command::CreatePartitions { .. }
            | Command::DeleteTopic { .. }
            | Command::AlterTopicConfig { .. }
            | Command::AlterBrokerConfig { .. }
            | Command::AlterPartitionReassignments { .. }
            | Command::ListPartitionReassignments
            | Command::ElectLeaders { .. }) => self.topic_admin(now_ms, admin),
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
                isolation_level,
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
                isolation_level,
            ),
            Command::Poll { consumer, max_records, key_deserializer, value_deserializer } => {
                self.poll(now_ms, consumer, max_records, (key_deserializer, value_deserializer))
            }
            Command::CommitOffsets { consumer } => self.commit_offsets(now_ms, consumer),
            Command::CloseConsumer { consumer } => self.close_consumer(now_ms, consumer),
            Command::CrashConsumer { consumer } => self.crash_consumer(consumer),
            Command::ListGroups => self.list_groups(now_ms),
            Command::DescribeGroup { group } => self.describe_group(now_ms, group),
            Command::ResetOffsets { group, topic, to, execute } => {
                self.reset_offsets(now_ms, group, topic, to, execute)
            }
            Command::DeleteGroup { group } => self.delete_group(now_ms, group),
            produce @ Command::ProduceRecords { .. } => self.produce_records_asked(now_ms, produce),
            ask @ (Command::DescribeCluster | Command::DescribeMetadataLog { .. }) => self.describe(ask),
            asked @ (Command::AddBroker { .. } | Command::RemoveBroker { .. }) => {
                self.membership(now_ms, asked)
            }
            Command::GetMetrics => Ok(Reply::Metrics(self.metrics(now_ms))),
            Command::Connect { method, path, body } => Ok(self.connect_asked(now_ms, &method, &path, body)),
            Command::DescribeConnect { file } => self.describe_connect(file.as_deref()),
            Command::WriteConnectFile { path, text, append } => self.write_connect_file(&path, &text, append),
            Command::InitProducerId => self.init_producer_id_asked(now_ms),
            txn @ (Command::InitTransactions { .. }
            | Command::EndTransaction { .. }
            | Command::SendOffsetsToTransaction { .. }
            | Command::DescribeTransactions) => self.transaction_asked(now_ms, txn),
            Command::InspectKafka { after } => Ok(self.inspect_kafka(after)),
            Command::FetchRecords { topic, partition, offset, max_bytes, isolation_level } => {
                self.fetch_records(&topic, partition, (offset, max_bytes), isolation_level)
            }
            Command::DumpRecord { topic, partition, offset } => self.dump_record(&topic, partition, offset),
            // What is left are the faults (`is_fault`), refused unless the host allows them.
            fault => self.inject_fault(now_ms, fault),
        };
        self.collect_events();
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

    /// `produce_batch`: the records where the batch's settings put them, answered once `acks`
    /// are met, per record or (`answer_per_partition`) per partition.
    fn produce_batch_asked(&mut self, now_ms: i64, command: Command) -> Result<Reply, KafkaError> {
        let Command::ProduceBatch {
            topic,
            partition,
            partitioner,
            key_serializer,
            value_serializer,
            records,
            acks,
            answer_per_partition,
        } = command
        else {
            return Err(KafkaError::new(ErrorCode::InvalidRequest, "not a produce_batch"));
        };
        let settings = BatchSettings { partition, partitioner, key_serializer, value_serializer };
        let log_append_time_ms = self.log_append_time(&topic, now_ms);
        self.with_acks(&topic, acks, |cluster| cluster.produce_batch(now_ms, acks, &topic, settings, records))
            .map(|reply| if answer_per_partition { compact(reply, log_append_time_ms) } else { reply })
    }

    /// What happened since the last call, oldest first: the engine's typed events with the time
    /// they happened (at most `MAX_BUFFERED_EVENTS`; older ones are dropped when nobody takes them).
    pub fn take_events(&mut self) -> Vec<(i64, Event)> {
        self.collect_events();
        self.events.drain(..).collect()
    }

    fn event(&mut self, now_ms: i64, event: Event) {
        if self.events.len() >= MAX_BUFFERED_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back((now_ms, event));
    }

    /// Fault injection, where the host allows it: a broker stopped, paused or cut off, or one
    /// network link cut; each answered with the cluster as `describe_cluster` shows it.
    fn inject_fault(&mut self, now_ms: i64, fault: Command) -> Result<Reply, KafkaError> {
        debug_assert!(is_fault(&fault), "a command that is no fault reached fault injection");
        if !self.allow_faults {
            let what = match &fault {
                Command::CutLink { .. } | Command::HealLink { .. } => "Network links".to_string(),
                Command::StopBroker { broker }
                | Command::StartBroker { broker }
                | Command::PauseBroker { broker }
                | Command::ResumeBroker { broker }
                | Command::IsolateBroker { broker }
                | Command::HealBroker { broker } => format!("Broker {broker}"),
                Command::StopController { controller }
                | Command::StartController { controller }
                | Command::PauseController { controller }
                | Command::ResumeController { controller }
                | Command::IsolateController { controller }
                | Command::HealController { controller } => format!("Controller {controller}"),
                _ => "This".to_string(),
            };
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("{what}: fault injection is off here; start kite serve with --allow-faults."),
            ));
        }
        let brokers = &mut self.brokers;
        use brokers::ControllerFault::{Heal, Isolate, Pause, Resume, Start, Stop};
        match fault {
            Command::StopBroker { broker } => brokers.stop_broker(now_ms, broker),
            Command::StartBroker { broker } => brokers.start_broker(now_ms, broker).map(|()| {
                // A broker started again is a new process: it knows the topics' configs only when
                // told (its logs would otherwise keep Kafka's defaults: another segment.bytes,
                // retention or cleanup.policy than the other replicas').
                for state in self.topics.values() {
                    self.brokers.set_topic_config(now_ms, &state.name, &state.config);
                }
            }),
            Command::StopController { controller } => brokers.controller_fault(now_ms, controller, Stop),
            Command::StartController { controller } => brokers.controller_fault(now_ms, controller, Start),
            Command::PauseController { controller } => brokers.controller_fault(now_ms, controller, Pause),
            Command::ResumeController { controller } => brokers.controller_fault(now_ms, controller, Resume),
            Command::IsolateController { controller } => {
                brokers.controller_fault(now_ms, controller, Isolate)
            }
            Command::HealController { controller } => brokers.controller_fault(now_ms, controller, Heal),
            Command::PauseBroker { broker } => brokers.pause_broker(now_ms, broker, true),
            Command::ResumeBroker { broker } => brokers.pause_broker(now_ms, broker, false),
            Command::IsolateBroker { broker } => brokers.isolate_broker(now_ms, broker, true),
            Command::HealBroker { broker } => brokers.isolate_broker(now_ms, broker, false),
            Command::CutLink { from, to } => return self.cut_link(now_ms, &from, &to, true),
            Command::HealLink { from, to } => return self.cut_link(now_ms, &from, &to, false),
            // `handle` gives only faults; formatting another command would build its Debug code.
            _ => return Err(KafkaError::new(ErrorCode::InvalidRequest, "Not a fault to inject.")),
        }
        .map(|()| self.describe_cluster())
    }

    /// A partition's leader (`None` while it is offline) and leader epoch: whom a Kafka listener
    /// lets take a produce or a fetch. Unknown topics and partitions are Kafka's errors.
    pub fn leadership(&self, topic: &str, partition: i32) -> Result<(Option<i32>, i32), KafkaError> {
        let view = self.view(topic, partition)?;
        Ok((view.leader, view.leader_epoch))
    }

    /// The batch the partition's leader stores `offset` in (its last with `None`), as the
    /// protocol inspector shows a produce of the UI's: `None` when no leader holds it. Reads only.
    pub fn stored_batch(&self, topic: &str, partition: i32, offset: Option<i64>) -> Option<StoredBatch> {
        let view = self.view(topic, partition).ok()?;
        let log = view.log?;
        let offset = offset.unwrap_or(log.log_end_offset() - 1);
        let read = log.read(offset, 1).ok()?;
        let header = BatchHeader::parse_trusted(&read).ok()?;
        Some(StoredBatch {
            bytes: read.get(..header.total_bytes())?.to_vec(),
            leader: view.leader?,
            log_start_offset: log.log_start_offset(),
            log_append_time: self.log_append_time(topic, 0).is_some(),
        })
    }

    /// The controller's broker id, as Metadata names it.
    pub fn controller_broker(&self) -> i32 {
        self.brokers.brokers().0
    }

    /// The topic whose id is `id` (KIP-516: Fetch v13+ names topics by id), if one has it now.
    pub fn topic_named_by_id(&self, id: &TopicId) -> Option<&str> {
        self.topics.values().find(|t| t.topic_id == *id).map(|t| t.name.as_str())
    }

    /// Kafka's OffsetForLeaderEpoch at a partition's leader: where `epoch` ended in the leader's
    /// log (the next epoch's start offset, or the log end for the current epoch) and the epoch
    /// the log has there; `None` for an epoch newer than any it knows (Kafka's UNDEFINED). A
    /// consumer compares it with its position to tell whether the log was truncated under it.
    pub fn leader_epoch_end_offset(
        &self,
        topic: &str,
        partition: i32,
        epoch: i32,
    ) -> Result<Option<(i32, i64)>, KafkaError> {
        let (log, _) = self.readable(topic, partition)?;
        Ok(log.leader_epochs().end_offset_for(epoch, log.log_end_offset()))
    }

    /// The brokers' and the groups' events, into the buffer the host takes from.
    fn collect_events(&mut self) {
        for (at, event) in self.brokers.take_events() {
            if let Event::IsrChange { tp, isr, .. } = &event {
                // Shrink or expand against the partition's last ISR size (at first, its
                // replicas: a new partition's ISR is all of them).
                let replicas = self.brokers.partition(&tp.topic, tp.partition).map(|v| v.replicas.len());
                let before = self.isr_sizes.insert(tp.clone(), isr.len()).or(replicas);
                match before {
                    Some(size) if isr.len() < size => self.counters.isr_shrinks += 1,
                    Some(size) if isr.len() > size => self.counters.isr_expands += 1,
                    _ => {}
                }
            }
            self.event(at, event);
        }
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
                    let Ok(header) = BatchHeader::parse_trusted(&payload[at..]) else {
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

    fn metrics(&self, now_ms: i64) -> Metrics {
        let (under_replicated, offline) = self.unhealthy_partitions();
        Metrics {
            at_ms: now_ms,
            under_replicated_partitions: under_replicated.len(),
            offline_partitions: offline.len(),
            topics: self.topics.len(),
            partitions: self.topics.values().map(|s| s.partitions as usize).sum(),
            groups: self.groups.group_count(),
            consumers: self.groups.consumer_count(),
            ..self.counters.clone()
        }
    }

    fn topic_bytes(&self, topic: &str) -> u64 {
        let partitions = self.topics.get(topic).map_or(0, |s| s.partitions);
        (0..partitions)
            .filter_map(|p| self.brokers.partition(topic, p)?.log.map(|log| log.size_bytes() as u64))
            .sum()
    }

    /// A partition as clients see it, or UNKNOWN_TOPIC_OR_PARTITION.
    fn view(&self, topic: &str, partition: i32) -> Result<PartitionView<'_>, KafkaError> {
        if !self.topics.contains_key(topic) {
            return Err(unknown_topic(topic));
        }
        self.brokers.partition(topic, partition).ok_or_else(|| unknown_partition(topic, partition))
    }

    /// A partition's leader's log and what consumers may read of it (below the high watermark),
    /// or why there is none.
    fn readable(&self, topic: &str, partition: i32) -> Result<(&LocalLog, i64), KafkaError> {
        let view = self.view(topic, partition)?;
        let log = view.log.ok_or_else(|| no_leader(topic, partition, &view))?;
        Ok((log, view.high_watermark))
    }

    /// The broker's time that stamps a topic's batches under LogAppendTime (`None` under
    /// CreateTime, or for a topic that does not exist).
    fn log_append_time(&self, topic: &str, now_ms: i64) -> Option<i64> {
        self.topics
            .get(topic)
            .filter(|s| s.config.message_timestamp_type == TimestampType::LogAppendTime)
            .map(|_| now_ms)
    }

    /// A produce under the producer's `acks` (the brokers check `min.insync.replicas` for
    /// `all`); with `0` the producer hears no offsets (-1), as Kafka's does. Counts what it wrote.
    fn with_acks(
        &mut self,
        topic: &str,
        acks: Acks,
        produce: impl FnOnce(&mut Self) -> Result<Reply, KafkaError>,
    ) -> Result<Reply, KafkaError> {
        self.counters.produce_requests += 1;
        let bytes_before = self.topic_bytes(topic);
        let mut reply = produce(self)?;
        self.counters.bytes_produced += self.topic_bytes(topic).saturating_sub(bytes_before);
        self.counters.records_produced += match &reply {
            // A retry the leader recognized wrote nothing.
            Reply::Produced { idempotent: Some(write), .. } if write.duplicate => 0,
            Reply::Produced { .. } => 1,
            Reply::ProducedBatch { records, .. } => records.len() as u64,
            _ => 0,
        };
        if acks == Acks::None {
            match &mut reply {
                Reply::Produced { offset, .. } => *offset = NO_OFFSET,
                Reply::ProducedBatch { records, .. } => records.iter_mut().for_each(|r| r.offset = NO_OFFSET),
                _ => {}
            }
        }
        Ok(reply)
    }

    /// The partitions with fewer in-sync replicas than replicas, and those without a leader.
    fn unhealthy_partitions(&self) -> (Vec<PartitionRef>, Vec<PartitionRef>) {
        let (mut under_replicated, mut offline) = (Vec::new(), Vec::new());
        for state in self.topics.values() {
            for partition in 0..state.partitions {
                let Some(view) = self.brokers.partition(&state.name, partition) else { continue };
                let reference = PartitionRef { topic: state.name.clone(), partition };
                if view.leader.is_none() {
                    offline.push(reference);
                } else if view.isr.len() < view.replicas.len() {
                    under_replicated.push(reference);
                }
            }
        }
        (under_replicated, offline)
    }

    /// Cuts (or heals) the network link between two ends, `controller`, `clients` or `broker-N`,
    /// both ways; answered with the cluster as it is then.
    fn cut_link(&mut self, now_ms: i64, from: &str, to: &str, cut: bool) -> Result<Reply, KafkaError> {
        let end =
            |name: &str| name.parse::<LinkEnd>().map_err(|e| KafkaError::new(ErrorCode::InvalidRequest, e));
        let (a, b) = (end(from)?, end(to)?);
        self.brokers.cut_link(now_ms, a, b, cut).map(|()| self.describe_cluster())
    }

    /// `describe_cluster`, or a KRaft controller's metadata log (`describe_metadata_log`).
    fn describe(&self, asked: Command) -> Result<Reply, KafkaError> {
        match asked {
            Command::DescribeMetadataLog { controller, from_offset, max_entries } => {
                self.brokers.metadata_log(controller, from_offset, max_entries)
            }
            _ => Ok(self.describe_cluster()),
        }
    }

    /// The cluster as `kite cluster describe` shows it: the brokers, the controller, and the
    /// partitions with fewer in-sync replicas than replicas, or without a leader.
    fn describe_cluster(&self) -> Reply {
        let (controller, brokers) = self.brokers.brokers();
        let (under_replicated, offline) = self.unhealthy_partitions();
        let partitions = self.topics.values().map(|s| s.partitions as usize).sum();
        Reply::ClusterDescribed {
            cluster_id: self.cluster_id.clone(),
            controller,
            brokers,
            partitions,
            under_replicated,
            offline,
            cut_links: self.brokers.cut_links().iter().map(|(a, b)| [a.to_string(), b.to_string()]).collect(),
            kafka_clients: self.kafka_clients.values().cloned().collect(),
            controllers: self.brokers.controllers(),
            broker_configs: if self.brokers.broker_count() > 1 {
                self.broker_config_views()
            } else {
                Vec::new()
            },
        }
    }

    /// The broker configs as `describe_cluster` lists them: each as set at start (or Kafka's
    /// default), then each dynamic one, the cluster-wide defaults first.
    pub fn broker_config_views(&self) -> Vec<BrokerConfigView> {
        let source = |set: bool| if set { "STATIC_BROKER_CONFIG" } else { "DEFAULT_CONFIG" };
        let entries = self.broker_configs.entries().into_iter();
        let view = |(name, value, set): (&str, String, bool)| BrokerConfigView {
            name: name.to_string(),
            value,
            source: source(set).to_string(),
            broker: None,
        };
        let mut views: Vec<BrokerConfigView> = entries.map(view).collect();
        views.extend(self.brokers.dynamic_broker_configs().into_iter().map(|((broker, name), value)| {
            let source =
                if broker.is_some() { "DYNAMIC_BROKER_CONFIG" } else { "DYNAMIC_DEFAULT_BROKER_CONFIG" };
            BrokerConfigView { name, value, source: source.to_string(), broker }
        }));
        views
    }

    /// The configs of `broker` as DescribeConfigs resolves them (its own dynamic value, else the
    /// dynamic default, else the static value, else Kafka's default); for `None` (the
    /// cluster-wide default resource) only the dynamic defaults.
    pub fn broker_configs_of(&self, broker: Option<i32>) -> Vec<BrokerConfigView> {
        let views = self.broker_config_views();
        let dynamic = |name: &str, on: Option<i32>| {
            let dynamic = |v: &&BrokerConfigView| v.source.starts_with("DYNAMIC") && v.broker == on;
            views.iter().filter(dynamic).find(|v| v.name == name).cloned()
        };
        let Some(id) = broker else {
            return views.iter().filter(|v| v.source == "DYNAMIC_DEFAULT_BROKER_CONFIG").cloned().collect();
        };
        views
            .iter()
            .filter(|v| !v.source.starts_with("DYNAMIC"))
            .map(|fixed| {
                dynamic(&fixed.name, Some(id)).or_else(|| dynamic(&fixed.name, None)).unwrap_or(fixed.clone())
            })
            .collect()
    }

    /// `kafka-configs --entity-type brokers --alter`: dynamic configs of `broker` (or every
    /// broker's default) set and deleted, all or none.
    fn alter_broker_config(
        &mut self,
        now_ms: i64,
        broker: Option<i32>,
        set: BTreeMap<String, String>,
        delete: Vec<String>,
    ) -> Result<Reply, KafkaError> {
        let mut changes: Vec<(String, Option<String>)> = set.into_iter().map(|(k, v)| (k, Some(v))).collect();
        changes.extend(delete.into_iter().map(|name| (name, None)));
        if changes.is_empty() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "Nothing to alter: no config set or deleted.",
            ));
        }
        self.brokers.alter_broker_configs(now_ms, broker, changes)?;
        Ok(Reply::BrokerConfigAltered { broker, configs: self.broker_configs_of(broker) })
    }

    fn create_topic(
        &mut self,
        now_ms: i64,
        name: String,
        partitions: i32,
        overrides: BTreeMap<String, String>,
        replication_factor: usize,
    ) -> Result<Reply, KafkaError> {
        validate_name(&name)?;
        validate_partition_count(partitions)?;
        let coordinators_own = (name == crate::group::coordinator::OFFSETS_TOPIC
            && self.groups.creating_offsets_topic())
            || (name == crate::txn::TRANSACTION_STATE_TOPIC && self.transactions.creating_state_topic());
        if !coordinators_own && is_coordinator_topic(&name) {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!("{name} is an internal topic: its coordinator creates it on first use."),
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
        let held: i64 = self.topics.values().map(|topic| i64::from(topic.partitions)).sum();
        if held + i64::from(partitions) > MAX_PARTITIONS_PER_CLUSTER {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "The cluster holds {held} partitions; {partitions} more would pass Kite's limit of {MAX_PARTITIONS_PER_CLUSTER}."
                ),
            ));
        }
        let topic_id = self.new_topic_id(now_ms);
        if let Err(e) =
            self.brokers.create_topic(now_ms, &name, topic_id, partitions, replication_factor, &config)
        {
            // All or nothing: when storage failed part-way, what the brokers and the controller
            // made of the topic goes again (it was left as a topic the front would not list,
            // nor delete). Refusals come before any change and leave nothing to undo.
            if e.error == ErrorCode::KafkaStorageError {
                let _ = self.brokers.delete_topic(now_ms, &name, partitions);
            }
            return Err(e);
        }
        let state = TopicState {
            name: name.clone(),
            topic_id,
            partitions,
            config,
            overrides,
            partitioner: TopicPartitionerState::default(),
        };
        let description = self.describe_topic(&state);
        let warnings = collision_warning(&name).into_iter().collect();
        self.topics.insert(name.clone(), state);
        if let Err(e) = self.write_topics_file() {
            // Not listed if not stored: the topic goes again, from the front and the brokers.
            self.topics.remove(&name);
            let _ = self.brokers.delete_topic(now_ms, &name, partitions);
            return Err(KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()));
        }
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
            self.brokers
                .metadata_store()
                .write_file(SCHEMAS_FILE, &json)
                .map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        }
        Ok(Reply::SchemaRegistered { subject, id: registered.id, version: registered.version })
    }

    /// Kafka's ListOffsets: earliest (-2), latest (-1), the record with the largest timestamp
    /// (-3), the earliest kept locally (-4: the log start, as Kite tiers nothing), the latest
    /// tiered (-5: none), or by timestamp (the time index). The found record's own timestamp
    /// comes back with its offset, as Kafka's answer has it.
    fn list_offsets(&self, topic_name: &str, partition: i32, timestamp_ms: i64) -> Result<Reply, KafkaError> {
        let (log, high_watermark) = self.readable(topic_name, partition)?;
        let found = match timestamp_ms {
            EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => {
                Some(TimestampAndOffset { timestamp: NO_TIMESTAMP, offset: log.log_start_offset() })
            }
            LATEST_TIMESTAMP => Some(TimestampAndOffset { timestamp: NO_TIMESTAMP, offset: high_watermark }),
            LATEST_TIERED_TIMESTAMP => None,
            MAX_TIMESTAMP => log.find_max_timestamp()?,
            t if t < 0 => {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "timestamp_ms {t}: use -2 (earliest), -1 (latest), -3 (max timestamp), -4 (earliest local), -5 (latest tiered) or a time in milliseconds"
                    ),
                ));
            }
            t => log.find_by_timestamp(t)?,
        };
        // Only what consumers can read counts (below the high watermark).
        let found = found.filter(|found| {
            matches!(timestamp_ms, EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP | LATEST_TIMESTAMP)
                || found.offset < high_watermark
        });
        Ok(Reply::Offsets {
            topic: topic_name.to_string(),
            partition,
            timestamp_ms,
            offset: found.map(|found| found.offset),
            record_timestamp_ms: found.map(|found| found.timestamp).filter(|&t| t != NO_TIMESTAMP),
        })
    }

    /// `init_producer_id`: a new idempotent producer's id, at epoch 0.
    fn init_producer_id_asked(&mut self, now_ms: i64) -> Result<Reply, KafkaError> {
        let (producer_id, producer_epoch) = self.init_producer_id(now_ms)?;
        Ok(Reply::ProducerIdInitialized { producer_id, producer_epoch })
    }

    /// `produce_records`: a client's own record batches, stored as they came.
    fn produce_records_asked(&mut self, now_ms: i64, command: Command) -> Result<Reply, KafkaError> {
        let Command::ProduceRecords { topic, partition, partitioner, acks, payload } = command else {
            return Err(KafkaError::new(ErrorCode::InvalidRequest, "not a produce_records command"));
        };
        let log_append_time_ms = self.log_append_time(&topic, now_ms);
        self.with_acks(&topic, acks, |cluster| {
            cluster.produce_records(now_ms, acks, &topic, (partition, partitioner), payload)
        })
        .map(|reply| compact(reply, log_append_time_ms))
    }

    /// The admin commands that change an existing topic: its records, partitions (their count
    /// and where their replicas live), configs, or the topic itself.
    fn topic_admin(&mut self, now_ms: i64, command: Command) -> Result<Reply, KafkaError> {
        match command {
            Command::AlterPartitionReassignments { partitions } => {
                Ok(self.alter_reassignments(now_ms, partitions))
            }
            Command::ListPartitionReassignments => Ok(self.list_reassignments()),
            Command::ElectLeaders { election, partitions } => {
                Ok(self.elect_leaders(now_ms, election, partitions))
            }
            Command::DeleteRecords { topic, partition, offset } => {
                self.delete_records(now_ms, &topic, partition, offset)
            }
            Command::CreatePartitions { topic, count } => self.create_partitions(now_ms, &topic, count),
            Command::DeleteTopic { name } => self.delete_topic(now_ms, &name),
            Command::AlterTopicConfig { name, set, delete } => {
                self.alter_topic_config(now_ms, &name, set, delete)
            }
            Command::AlterBrokerConfig { broker, set, delete } => {
                self.alter_broker_config(now_ms, broker, set, delete)
            }
            other => Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("not a topic admin command: {other:?}"),
            )),
        }
    }

    /// `kafka-delete-records`: the partition's log start moves up to `offset` (-1: the high
    /// watermark) on the leader, then on every live replica.
    fn delete_records(
        &mut self,
        now_ms: i64,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<Reply, KafkaError> {
        self.view(topic, partition)?;
        let low_watermark = self.brokers.delete_records(now_ms, topic, partition, offset)?;
        Ok(Reply::RecordsDeleted { topic: topic.to_string(), partition, low_watermark })
    }

    /// `kafka-topics --alter --partitions`: the new partitions made and placed by the brokers,
    /// then the topic's new count stored. `__consumer_offsets` keeps its count: each group's
    /// coordinator is its partition by hash, and a new count would move every group.
    fn create_partitions(&mut self, now_ms: i64, name: &str, count: i32) -> Result<Reply, KafkaError> {
        if name == crate::group::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "{name} keeps its partition count: each group's coordinator is found by hashing the group id over it."
                ),
            ));
        }
        let state = self.topics.get(name).ok_or_else(|| unknown_topic(name))?;
        let existing = state.partitions;
        if count <= existing {
            let message = crate::replication::controller::partitions_refusal(existing, count);
            return Err(KafkaError::new(ErrorCode::InvalidPartitions, message));
        }
        validate_partition_count(count)?;
        let held: i64 = self.topics.values().map(|topic| i64::from(topic.partitions)).sum();
        let added = i64::from(count - existing);
        if held + added > MAX_PARTITIONS_PER_CLUSTER {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "The cluster holds {held} partitions; {added} more would pass Kite's limit of {MAX_PARTITIONS_PER_CLUSTER}."
                ),
            ));
        }
        let (topic_id, config) = (state.topic_id, state.config.clone());
        self.brokers.create_partitions(now_ms, name, topic_id, existing, count, &config)?;
        let state = self.topics.get_mut(name).ok_or_else(|| unknown_topic(name))?;
        state.partitions = count;
        self.write_topics_file().map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        let state = self.topics.get(name).ok_or_else(|| unknown_topic(name))?;
        Ok(Reply::PartitionsCreated { topic: self.describe_topic(state) })
    }

    /// `kafka-topics --delete`: the topic goes from the metadata, then its files.
    fn delete_topic(&mut self, now_ms: i64, name: &str) -> Result<Reply, KafkaError> {
        if name == crate::group::coordinator::OFFSETS_TOPIC {
            return Err(KafkaError::new(
                ErrorCode::InvalidTopicException,
                format!(
                    "Topic {name} is a kafka internal topic and is not allowed to be marked for deletion."
                ),
            ));
        }
        let state = self.topics.remove(name).ok_or_else(|| unknown_topic(name))?;
        self.forget_producers(name);
        let storage = |e: StorageError| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string());
        // The metadata first: a crash in between leaves directories no topic names, not a topic
        // without its logs.
        self.write_topics_file().map_err(storage)?;
        self.brokers.delete_topic(now_ms, name, state.partitions)?;
        Ok(Reply::TopicDeleted { name: name.to_string() })
    }

    /// `kafka-configs --alter`: new overrides, validated as a whole, applied to every partition.
    fn alter_topic_config(
        &mut self,
        now_ms: i64,
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
        self.brokers.set_topic_config(now_ms, name, &config);
        let state = self.topics.get_mut(name).expect("looked up above");
        state.config = config;
        state.overrides = overrides;
        let state = self.topics.get(name).expect("looked up above");
        let topic = self.describe_topic(state);
        self.write_topics_file().map_err(|e| KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()))?;
        Ok(Reply::TopicConfigAltered { topic })
    }

    /// `produce` as asked, under the producer's `acks`.
    fn produce_asked(&mut self, now_ms: i64, produce: Command) -> Result<Reply, KafkaError> {
        // `handle` passes a produce only; its fields are read here to keep `handle` short.
        let Command::Produce {
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
            producer,
        } = produce
        else {
            return Err(KafkaError::new(ErrorCode::InvalidRequest, "not a produce"));
        };
        self.with_acks(&topic.clone(), acks, |cluster| {
            let request = ProduceRequest {
                topic: &topic,
                partition,
                key,
                value,
                timestamp_ms: timestamp_ms.unwrap_or(now_ms),
                partitioner,
                key_serializer,
                value_serializer,
                headers,
                producer,
            };
            cluster.produce(now_ms, acks, request)
        })
    }

    /// One record: a batch of one, answered with how its partition was chosen.
    fn produce(&mut self, now_ms: i64, acks: Acks, request: ProduceRequest<'_>) -> Result<Reply, KafkaError> {
        let topic_name = request.topic;
        refuse_internal(topic_name)?;
        check_timestamp(request.timestamp_ms)?;
        self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let record = serialize_record(
            &self.schema_registry,
            topic_name,
            (request.key_serializer, request.value_serializer),
            (request.key.as_deref(), request.value.as_deref()),
            request.headers,
        )?;
        let to = (request.partition, request.partitioner);
        let mut placed = self.place_records(topic_name, to, vec![(request.timestamp_ms, record)])?;
        let placement = placed[0].placement.clone();
        let Some(producer) = request.producer else {
            let produced = self.append_placed(now_ms, acks, topic_name, placed, (None, None))?;
            let ProducedRecord { partition, offset, timestamp_ms } = produced[0];
            let topic = topic_name.to_string();
            return Ok(Reply::Produced {
                topic,
                partition,
                offset,
                timestamp_ms,
                placement,
                idempotent: None,
            });
        };
        // An idempotent producer numbers each partition's records: this one carries the sequence
        // its producer has for the partition it was placed in, and the leader checks it.
        let Placed { timestamp_ms, record, .. } = placed.remove(0);
        let partition = placement.partition();
        let sequence = producer.next_sequence(partition);
        if let Some(transactional_id) = &producer.transactional_id {
            // As a Kafka client library does before a transaction's first record to a partition.
            let tp = crate::ids::TopicPartition { topic: topic_name.to_string(), partition };
            let pid_epoch = (producer.producer_id, producer.producer_epoch);
            self.add_partitions_to_txn(now_ms, transactional_id, pid_epoch, &[tp])?;
        }
        let batch = ProducerBatch {
            producer_id: producer.producer_id,
            epoch: producer.producer_epoch,
            first_sequence: sequence,
            record_count: 1,
            transactional: producer.transactional_id.is_some(),
        };
        let to = (Some(partition), request.partitioner);
        let (produced, duplicate) = self.produce_idempotent(
            now_ms,
            acks,
            topic_name,
            to,
            (batch, 1, None),
            vec![(timestamp_ms, record)],
        )?;
        let ProducedRecord { partition, offset, timestamp_ms } = produced[0];
        let idempotent = Some(IdempotentWrite { producer_id: producer.producer_id, sequence, duplicate });
        Ok(Reply::Produced {
            topic: topic_name.to_string(),
            partition,
            offset,
            timestamp_ms,
            placement,
            idempotent,
        })
    }

    /// The partitions with a leader: the ones a partitioner may choose when it can (Kafka's
    /// `availablePartitionsForTopic`).
    fn available_partitions(&self, topic: &str) -> Vec<i32> {
        let partitions = self.topics.get(topic).map_or(0, |s| s.partitions);
        (0..partitions)
            .filter(|&p| self.brokers.partition(topic, p).is_some_and(|view| view.log.is_some()))
            .collect()
    }

    /// A producer's many records at once: all serialized and placed first (a refusal appends
    /// nothing), then one RecordBatch per partition, in record order.
    fn produce_batch(
        &mut self,
        now_ms: i64,
        acks: Acks,
        topic_name: &str,
        settings: BatchSettings,
        records: Vec<crate::api::BatchedRecord>,
    ) -> Result<Reply, KafkaError> {
        refuse_internal(topic_name)?;
        if records.is_empty() || records.len() > MAX_PRODUCE_BATCH_RECORDS {
            // Past the limit, the reader kept one record more than it and skipped the rest.
            let count = if records.is_empty() { "0".to_string() } else { "more".to_string() };
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("A produce_batch carries 1 to {MAX_PRODUCE_BATCH_RECORDS} records, not {count}."),
            ));
        }
        self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let mut serialized = Vec::with_capacity(records.len());
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
            serialized.push((timestamp_ms, record));
        }
        let placed =
            self.place_records(topic_name, (settings.partition, settings.partitioner), serialized)?;
        let records = self.append_placed(now_ms, acks, topic_name, placed, (None, None))?;
        Ok(Reply::ProducedBatch { topic: topic_name.to_string(), records })
    }

    /// `produce_records`: the records of Kafka record batches a client built itself (keys and
    /// values already serialized, as a Kafka producer sends them), placed like `produce_batch`'s.
    fn produce_records(
        &mut self,
        now_ms: i64,
        acks: Acks,
        topic_name: &str,
        (partition, partitioner): (Option<i32>, PartitionerKind),
        payload: Vec<u8>,
    ) -> Result<Reply, KafkaError> {
        refuse_internal(topic_name)?;
        if payload.is_empty() {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                "produce_records carries its records as Kafka record batches in a binary frame; none came.",
            ));
        }
        let compression = self.topics.get(topic_name).map(|topic| topic.config.compression_type);
        let as_sent = match (partition, compression) {
            (Some(_), Some(compression)) => records_as_sent(&payload, compression)?,
            _ => None,
        };
        // One batch to the partition the producer named, stored as it came, as Kafka stores it:
        // checked in place, no record copied out or placed one by one.
        if let (Some(partition), Some(AsSent { timestamps, idempotent })) = (partition, as_sent) {
            let records = match idempotent {
                None => self.append_as_sent(now_ms, acks, (topic_name, partition), payload, &timestamps)?,
                Some(batch) => {
                    let records = timestamps.into_iter().map(|ts| (ts, BatchRecord::default())).collect();
                    let to = (Some(partition), partitioner);
                    self.produce_idempotent(
                        now_ms,
                        acks,
                        topic_name,
                        to,
                        (batch, 1, Some(&payload)),
                        records,
                    )?
                    .0
                }
            };
            return Ok(Reply::ProducedBatch { topic: topic_name.to_string(), records });
        }
        let payload = &payload[..];
        let ProducerRecords { records, idempotent, batches, kept } = records_decoded(payload, compression)?;
        // Kafka stores a producer's batch as it came; Kite does too when it goes whole to the
        // partition the client named. Otherwise (no partition named: the records are placed one
        // by one, as `produce_batch`'s) the records go in new batches.
        let kept = kept.filter(|_| batches == 1 && partition.is_some());
        let Some(batch) = idempotent else {
            let placed = self.place_records(topic_name, (partition, partitioner), records)?;
            let records = self.append_placed(now_ms, acks, topic_name, placed, (None, kept))?;
            return Ok(Reply::ProducedBatch { topic: topic_name.to_string(), records });
        };
        let to = (partition, partitioner);
        let (records, _) =
            self.produce_idempotent(now_ms, acks, topic_name, to, (batch, batches, kept), records)?;
        Ok(Reply::ProducedBatch { topic: topic_name.to_string(), records })
    }

    /// Places serialized records as the producer does: each to `to`'s partition when it names
    /// one, else where its partitioner puts it (keyed records over every partition, the others
    /// over those with a leader); an unknown partition refuses them all.
    fn place_records(
        &mut self,
        topic_name: &str,
        to: (Option<i32>, PartitionerKind),
        records: Vec<(i64, BatchRecord)>,
    ) -> Result<Vec<Placed>, KafkaError> {
        let available = self.available_partitions(topic_name);
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let mut placed = Vec::with_capacity(records.len());
        for (timestamp_ms, record) in records {
            let placement = place_record(state, &mut self.rng, to.1, to.0, &record, &available);
            let partition = placement.partition();
            if !(0..state.partitions).contains(&partition) {
                return Err(unknown_partition(topic_name, partition));
            }
            placed.push(Placed { placement, timestamp_ms, record });
        }
        Ok(placed)
    }

    /// Appends placed records: one RecordBatch per partition, its records in request order,
    /// every batch checked (size, the in-memory limit) before any is appended. An idempotent
    /// producer's batch (all to one partition) keeps its producer id, epoch and base sequence.
    fn append_placed(
        &mut self,
        now_ms: i64,
        acks: Acks,
        topic_name: &str,
        placed: Vec<Placed>,
        (producer, kept): (Option<ProducerBatch>, Option<&[u8]>),
    ) -> Result<Vec<ProducedRecord>, KafkaError> {
        let state = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let (min_isr, compression) = (state.config.min_insync_replicas, state.config.compression_type);
        let log_append_time = state.config.message_timestamp_type == TimestampType::LogAppendTime;
        // One batch per partition, its records in request order.
        let mut by_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for (index, record) in placed.iter().enumerate() {
            by_partition.entry(record.placement.partition()).or_default().push(index);
        }
        let mut encoded = Vec::new();
        for (&partition, indexes) in &by_partition {
            let bytes = match kept {
                // The client's own batch, to the one partition it names (`produce_records`).
                Some(kept) if by_partition.len() == 1 => kept.to_vec(),
                _ => encode_batch(now_ms, &placed, indexes, compression, producer)?,
            };
            self.check_append(topic_name, partition, bytes.len())?;
            encoded.push((partition, bytes));
        }
        let first_offsets: BTreeMap<i32, i64> =
            self.brokers.append(now_ms, topic_name, encoded, acks, min_isr)?.into_iter().collect();
        let mut results = vec![ProducedRecord { partition: 0, offset: 0, timestamp_ms: 0 }; placed.len()];
        for (&partition, indexes) in &by_partition {
            let first = first_offsets.get(&partition).copied();
            for (delta, &i) in (0..).zip(indexes) {
                let timestamp_ms = if log_append_time { now_ms } else { placed[i].timestamp_ms };
                let offset = first.map_or(NO_OFFSET, |first| first + delta);
                results[i] = ProducedRecord { partition, offset, timestamp_ms };
            }
        }
        Ok(results)
    }

    /// Whether a batch of `len` bytes may go to the partition: within the topic's
    /// `max.message.bytes` and the partition's room under Kite's limit.
    fn check_append(&self, topic_name: &str, partition: i32, len: usize) -> Result<(), KafkaError> {
        let (log, _) = self.readable(topic_name, partition)?;
        if len > log.config().max_message_bytes {
            return Err(KafkaError::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "The record batch for partition {partition} is {len} bytes, over the topic's max.message.bytes {}.",
                    log.config().max_message_bytes
                ),
            ));
        }
        if log.size_bytes() + len > self.options.max_partition_bytes {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "Partition {topic_name}-{partition} holds Kite's in-memory limit of {} bytes; lower retention.ms or retention.bytes.",
                    self.options.max_partition_bytes
                ),
            ));
        }
        Ok(())
    }

    /// A producer's batch appended as it came to the partition it named (`records_as_sent`):
    /// each record's offset follows from the base offset the leader gives the batch.
    fn append_as_sent(
        &mut self,
        now_ms: i64,
        acks: Acks,
        (topic_name, partition): (&str, i32),
        batch: Vec<u8>,
        timestamps: &[i64],
    ) -> Result<Vec<ProducedRecord>, KafkaError> {
        let state = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        if !(0..state.partitions).contains(&partition) {
            return Err(unknown_partition(topic_name, partition));
        }
        let min_isr = state.config.min_insync_replicas;
        let log_append_time = state.config.message_timestamp_type == TimestampType::LogAppendTime;
        self.check_append(topic_name, partition, batch.len())?;
        let appended = self.brokers.append(now_ms, topic_name, vec![(partition, batch)], acks, min_isr)?;
        let first = appended.first().map(|(_, offset)| *offset);
        let records = timestamps.iter().zip(0..).map(|(timestamp_ms, delta)| ProducedRecord {
            partition,
            offset: first.map_or(NO_OFFSET, |first| first + delta),
            timestamp_ms: if log_append_time { now_ms } else { *timestamp_ms },
        });
        Ok(records.collect())
    }

    /// `fetch_records`: whole batches from `offset` as the log stores them (no decoding here: the
    /// client decodes, as a Kafka consumer does), up to `max_bytes` (at least one batch), below
    /// the high watermark — or, read_committed, below the last stable offset, with the aborted
    /// transactions among them.
    fn fetch_records(
        &mut self,
        topic_name: &str,
        partition: i32,
        (offset, max_bytes): (i64, Option<u32>),
        isolation: IsolationLevel,
    ) -> Result<Reply, KafkaError> {
        // Read uncommitted, the last stable offset is told as far as the partition's producer
        // state is at hand: a first fetch does not scan the log for it.
        let (stable, aborted) = match isolation {
            IsolationLevel::ReadCommitted => self.stable_view(topic_name, partition, offset)?,
            IsolationLevel::ReadUncommitted => (self.known_stable_offset(topic_name, partition)?, Vec::new()),
        };
        let (log, high_watermark) = self.readable(topic_name, partition)?;
        check_fetch_offset(log, topic_name, partition, offset)?;
        let max_bytes = max_bytes.map_or(MAX_FETCH_BYTES, |m| (m as usize).clamp(1, MAX_FETCH_BYTES));
        let end = if isolation == IsolationLevel::ReadCommitted { stable } else { high_watermark };
        let payload = if offset < end {
            committed_prefix(log.read(offset, max_bytes)?.into_owned(), end)
        } else {
            Vec::new()
        };
        let read_to = batches_end(&payload).unwrap_or(offset);
        let aborted_transactions = aborted.into_iter().filter(|a| a.first_offset < read_to).collect();
        Ok(Reply::RecordBatches {
            topic: topic_name.to_string(),
            partition,
            log_start_offset: log.log_start_offset(),
            log_end_offset: high_watermark,
            last_stable_offset: stable,
            aborted_transactions,
            payload,
        })
    }

    /// The last stable offset of `topic`'s `partition`: ListOffsets' latest offset for a
    /// read_committed consumer.
    pub fn last_stable_offset(&mut self, topic: &str, partition: i32) -> Result<i64, KafkaError> {
        let (_, high_watermark) = self.readable(topic, partition)?;
        Ok(self.producer_state(topic, partition)?.last_stable_offset(high_watermark))
    }

    /// `dump_record`: the batch holding `offset`, read from the leader below the high watermark
    /// (a record not yet committed is not readable, as for a consumer).
    fn dump_record(&self, topic_name: &str, partition: i32, offset: i64) -> Result<Reply, KafkaError> {
        let (log, high_watermark) = self.readable(topic_name, partition)?;
        if offset < log.log_start_offset() || offset >= high_watermark {
            return Err(KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "No committed record at offset {offset} of {topic_name}-{partition} (log start {}, high watermark {high_watermark}).",
                    log.log_start_offset()
                ),
            ));
        }
        // One byte asks for the first whole batch: the one holding `offset`.
        let bytes = log.read(offset, 1)?;
        let (batch, record) = crate::record::dump::dump_record(&bytes, offset).map_err(|e| {
            let code = match e {
                DumpError::NoRecordAt { .. } => ErrorCode::OffsetOutOfRange,
                DumpError::Batch(_) => ErrorCode::CorruptMessage,
            };
            KafkaError::new(code, e.to_string())
        })?;
        Ok(Reply::RecordDumped { topic: topic_name.to_string(), partition, batch, record })
    }

    fn fetch(
        &mut self,
        topic_name: &str,
        partition: i32,
        (offset, max_records): (i64, u32),
        deserializers: (SerializerKind, SerializerKind),
        isolation: IsolationLevel,
    ) -> Result<Reply, KafkaError> {
        // Read committed: to the last stable offset, the aborted transactions' batches skipped.
        let (stable, aborted) = match isolation {
            IsolationLevel::ReadCommitted => self.stable_view(topic_name, partition, offset)?,
            IsolationLevel::ReadUncommitted => (i64::MAX, Vec::new()),
        };
        let (read, markers, log_start_offset, high_watermark) =
            self.read_records(topic_name, partition, (offset, max_records, stable), deserializers, &aborted)?;
        // Each transactional record says where its transaction is: read committed, every one
        // returned is committed; read uncommitted, the partition's state tells.
        let transactional = read.iter().any(|(_, producer)| producer.is_some());
        let (stable, aborted) = match isolation {
            IsolationLevel::ReadUncommitted if transactional => {
                self.stable_view(topic_name, partition, offset)?
            }
            _ => (stable, aborted),
        };
        let records = read
            .into_iter()
            .map(|(mut view, producer)| {
                view.transaction = producer.map(|(producer_id, base_offset)| {
                    if aborted.iter().any(|a| {
                        a.producer_id == producer_id
                            && (a.first_offset..=a.last_offset).contains(&base_offset)
                    }) {
                        TxnMark::Aborted
                    } else if view.offset >= stable {
                        TxnMark::Open
                    } else {
                        TxnMark::Committed
                    }
                });
                view
            })
            .collect();
        Ok(Reply::Records {
            topic: topic_name.to_string(),
            partition,
            log_start_offset,
            log_end_offset: high_watermark,
            records,
            markers,
        })
    }

    /// `fetch` as asked.
    fn fetch_asked(&mut self, fetch: Command) -> Result<Reply, KafkaError> {
        let Command::Fetch {
            topic,
            partition,
            offset,
            max_records,
            key_deserializer,
            value_deserializer,
            isolation_level,
        } = fetch
        else {
            return Err(KafkaError::new(ErrorCode::InvalidRequest, "not a fetch"));
        };
        let deserializers = (key_deserializer, value_deserializer);
        self.fetch(&topic, partition, (offset, max_records), deserializers, isolation_level)
    }

    /// After open: each coordinator takes the partitions of its topic whose leader is there (the
    /// others when their leader is elected); what loading them traced is not news.
    fn load_coordinators(&mut self) {
        self.load_group_partitions(0);
        self.load_transaction_partitions();
        self.groups.take_trace();
    }

    /// `fetch`'s read: whole batches from `offset` below `end` (and the high watermark), decoded
    /// as a consumer's client decodes them, the records before `offset` in the first batch
    /// skipped, as do aborted transactions' batches (`aborted`, read committed). Each record with
    /// its transactional producer and batch base offset; the markers met; the log start and the
    /// high watermark.
    #[allow(clippy::type_complexity)]
    fn read_records(
        &self,
        topic_name: &str,
        partition: i32,
        (offset, max_records, end): (i64, u32, i64),
        deserializers: (SerializerKind, SerializerKind),
        aborted: &[crate::log::producer_state::AbortedTxn],
    ) -> Result<(Vec<(RecordView, Option<(i64, i64)>)>, Vec<MarkerView>, i64, i64), KafkaError> {
        let (log, high_watermark) = self.readable(topic_name, partition)?;
        let end = high_watermark.min(end);
        let max_records = max_records.min(MAX_FETCH_RECORDS) as usize;
        check_fetch_offset(log, topic_name, partition, offset)?;
        let corrupt =
            |e: crate::record::batch::BatchError| KafkaError::new(ErrorCode::CorruptMessage, e.to_string());
        let view = |offset: i64, timestamp_ms: i64, record: &BatchRecord| {
            record_view(&self.schema_registry, deserializers, offset, timestamp_ms, record)
        };
        let (mut records, mut markers) = (Vec::new(), Vec::new());
        let mut next = offset;
        let mut read_bytes = 0;
        while records.len() < max_records && next < end && read_bytes < MAX_FETCH_BYTES {
            let bytes = committed_prefix(
                log.read(next, FETCH_READ_CHUNK_BYTES.min(MAX_FETCH_BYTES - read_bytes))?.into_owned(),
                end,
            );
            if bytes.is_empty() {
                break;
            }
            read_bytes += bytes.len();
            let mut at = 0;
            while at < bytes.len() && records.len() < max_records {
                let (batch, used) = RecordBatch::decode(&bytes[at..]).map_err(corrupt)?;
                at += used;
                let batch_end = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
                // A transaction marker is no record a consumer sees, nor (read committed) is an
                // aborted transaction's.
                if let Some(Ok(marker)) = crate::txn::marker::marker_of(&batch) {
                    if batch.base_offset >= next {
                        let producer_id = batch.producer_id;
                        markers.push(MarkerView {
                            offset: batch.base_offset,
                            producer_id,
                            kind: marker.kind,
                        });
                    }
                    next = next.max(batch_end);
                    continue;
                }
                let skipped = batch.attributes.control
                    || aborted.iter().any(|a| {
                        a.producer_id == batch.producer_id
                            && (a.first_offset..=a.last_offset).contains(&batch.base_offset)
                    });
                let data = if skipped { &[][..] } else { &batch.records[..] };
                let producer =
                    batch.attributes.transactional.then_some((batch.producer_id, batch.base_offset));
                for record in data {
                    let record_offset = batch.base_offset + i64::from(record.offset_delta);
                    if record_offset < next || records.len() == max_records {
                        continue;
                    }
                    records.push((view(record_offset, batch.timestamp_of(record), record), producer));
                }
                next = next.max(batch_end);
            }
        }
        Ok((records, markers, log.log_start_offset(), high_watermark))
    }
}

/// A `produce_records` answer (or a `produce_batch` one, when asked) as Kafka's ProduceResponse carries it: a base offset per partition
/// (and the broker's time under LogAppendTime) and each record's partition, not every record.
fn compact(reply: Reply, log_append_time_ms: Option<i64>) -> Reply {
    let Reply::ProducedBatch { topic, records } = reply else { return reply };
    let mut batches: BTreeMap<i32, ProducedPartition> = BTreeMap::new();
    for record in &records {
        // A partition's first record in the request is its batch's first: its offset is the
        // base (-1 under acks=0).
        batches.entry(record.partition).or_insert(ProducedPartition {
            partition: record.partition,
            base_offset: record.offset,
            log_append_time_ms,
        });
    }
    let partitions = records.iter().map(|r| r.partition).collect();
    Reply::ProducedRecords { topic, partitions, batches: batches.into_values().collect() }
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

/// `serializer::serialize_record`, refused as Kafka's producer refuses: INVALID_RECORD.
fn serialize_record(
    registry: &SchemaRegistry,
    topic: &str,
    serializers: (SerializerKind, SerializerKind),
    key_and_value: (Option<&str>, Option<&str>),
    headers: Vec<(String, String)>,
) -> Result<BatchRecord, KafkaError> {
    crate::serializer::serialize_record(registry, topic, serializers, key_and_value, headers)
        .map_err(|e| KafkaError::new(ErrorCode::InvalidRecord, e.0))
}

/// Where the producer puts `record`: the explicit `partition`, else `partitioner`'s choice (keyed
/// records over every partition, the others over those `available`, with a leader).
fn place_record(
    state: &mut TopicState,
    rng: &mut Rng,
    partitioner: PartitionerKind,
    partition: Option<i32>,
    record: &BatchRecord,
    available: &[i32],
) -> Placement {
    if let Some(partition) = partition {
        return Placement::Explicit { partition };
    }
    // With no partition's leader reachable, Kafka's partitioner picks among all of them (the
    // produce then fails on the leader it cannot reach, by name).
    let every: Vec<i32>;
    let available = if available.is_empty() {
        every = (0..state.partitions).collect();
        &every
    } else {
        available
    };
    let input = PartitionInput {
        key: record.key.as_deref(),
        record_bytes: record.encoded_len(),
        num_partitions: state.partitions,
        available,
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
    RecordView { offset, timestamp_ms, key, value, decode_error, headers, transaction: None }
}

/// The offset after the last of whole batches' records: where a fetch's answer ends.
fn batches_end(bytes: &[u8]) -> Option<i64> {
    let mut at = 0;
    let mut end = None;
    while let Ok(header) = BatchHeader::parse_trusted(&bytes[at..]) {
        end = Some(header.last_offset() + 1);
        at += header.total_bytes();
    }
    end
}

/// The batches in `bytes` that lie wholly below the high watermark: what a consumer may read.
fn committed_prefix(mut bytes: Vec<u8>, high_watermark: i64) -> Vec<u8> {
    let mut end = 0;
    while end < bytes.len() {
        match BatchHeader::parse_trusted(&bytes[end..]) {
            Ok(header) if header.last_offset() < high_watermark => end += header.total_bytes(),
            _ => break,
        }
    }
    bytes.truncate(end);
    bytes
}

impl Cluster {
    fn describe_topic(&self, state: &TopicState) -> TopicDescription {
        let partitions = (0..state.partitions)
            .map(|partition| {
                let view = self.brokers.partition(&state.name, partition);
                let log = view.as_ref().and_then(|v| v.log);
                PartitionDescription {
                    partition,
                    log_start_offset: log.map_or(0, |log| log.log_start_offset()),
                    log_end_offset: view.as_ref().map_or(0, |v| v.high_watermark),
                    leader: view.as_ref().and_then(|v| v.leader),
                    replicas: view.as_ref().map(|v| v.replicas.clone()).unwrap_or_default(),
                    isr: view.as_ref().map(|v| v.isr.clone()).unwrap_or_default(),
                    replica_log_end_offsets: view
                        .as_ref()
                        .map(|v| {
                            let ends = v.replica_log_ends.iter();
                            ends.map(|&(broker, log_end_offset)| ReplicaLogEnd { broker, log_end_offset })
                                .collect()
                        })
                        .unwrap_or_default(),
                    rolled_at: log
                        .map(|log| log.segments().skip(1).map(|s| s.base_offset()).collect())
                        .unwrap_or_default(),
                    // As far as the partition's producer state is at hand: a listing scans no log.
                    last_stable_offset: self
                        .known_stable_offset(&state.name, partition)
                        .ok()
                        .filter(|stable| view.as_ref().is_some_and(|v| *stable < v.high_watermark)),
                    adding: view.as_ref().map(|v| v.adding.clone()).unwrap_or_default(),
                    removing: view.as_ref().map(|v| v.removing.clone()).unwrap_or_default(),
                }
            })
            .collect();
        TopicDescription {
            name: state.name.clone(),
            topic_id: state.topic_id.to_string(),
            partitions,
            configs: state.overrides.clone(),
        }
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

/// The topics a coordinator keeps its state in.
fn is_coordinator_topic(topic: &str) -> bool {
    topic == crate::group::coordinator::OFFSETS_TOPIC || topic == crate::txn::TRANSACTION_STATE_TOPIC
}

/// Clients do not write to `__consumer_offsets` or `__transaction_state`: only their coordinators
/// do (Kafka's ReplicaManager refuses the append the same way).
fn refuse_internal(topic: &str) -> Result<(), KafkaError> {
    if is_coordinator_topic(topic) {
        return Err(KafkaError::new(
            ErrorCode::InvalidTopicException,
            format!("Cannot append to internal topic {topic}"),
        ));
    }
    Ok(())
}

/// Why a partition's leader cannot be reached: there is none (LEADER_NOT_AVAILABLE), the one the
/// controller names has yet to create its replica (NOT_LEADER_OR_FOLLOWER, as that broker
/// answers; a client asks for metadata and tries again), or it is down and not yet replaced (a
/// Kafka client times out).
fn no_leader(topic: &str, partition: i32, view: &brokers::PartitionView<'_>) -> KafkaError {
    if let Some(reason) = &view.offline {
        return KafkaError::new(
            ErrorCode::KafkaStorageError,
            format!("Partition {topic}-{partition} is offline: {reason}"),
        );
    }
    match view.leader {
        Some(leader) if view.creating => KafkaError::new(
            ErrorCode::NotLeaderOrFollower,
            format!(
                "Partition {topic}-{partition}: its leader, broker {leader}, has not created its replica yet (a new topic's replicas are created a slice at a time); try again."
            ),
        ),
        None => KafkaError::new(
            ErrorCode::LeaderNotAvailable,
            format!("Partition {topic}-{partition} has no leader: no in-sync replica is running."),
        ),
        Some(leader) => KafkaError::new(
            ErrorCode::RequestTimedOut,
            format!(
                "Partition {topic}-{partition}: its leader, broker {leader}, does not answer this client; when the controller cannot reach it either, it fences it after broker.session.timeout.ms and elects another in-sync replica."
            ),
        ),
    }
}

pub(crate) fn unknown_topic(topic: &str) -> KafkaError {
    KafkaError::new(ErrorCode::UnknownTopicOrPartition, format!("This server does not host topic '{topic}'."))
}

fn unknown_partition(topic: &str, partition: i32) -> KafkaError {
    KafkaError::new(
        ErrorCode::UnknownTopicOrPartition,
        format!("This server does not host this topic-partition: {topic}-{partition}."),
    )
}

/// A batch as a partition's leader stores it ([`Cluster::stored_batch`]).
#[derive(Debug)]
pub struct StoredBatch {
    /// Its bytes, from its base offset on.
    pub bytes: Vec<u8>,
    /// The leader holding it.
    pub leader: i32,
    /// The leader's log start offset.
    pub log_start_offset: i64,
    /// Whether the topic stamps its batches with the broker's time (LogAppendTime).
    pub log_append_time: bool,
}

/// Whether `command` injects a fault (a broker or controller stopped, paused or cut off, a link
/// cut): only where the host allows it.
fn is_fault(command: &Command) -> bool {
    matches!(
        command,
        Command::StopBroker { .. }
            | Command::StartBroker { .. }
            | Command::StopController { .. }
            | Command::StartController { .. }
            | Command::PauseController { .. }
            | Command::ResumeController { .. }
            | Command::IsolateController { .. }
            | Command::HealController { .. }
            | Command::PauseBroker { .. }
            | Command::ResumeBroker { .. }
            | Command::IsolateBroker { .. }
            | Command::HealBroker { .. }
            | Command::CutLink { .. }
            | Command::HealLink { .. }
    )
}

/// A files request Kite Connect refused (a path outside its directory, a file too large).
fn connect_refused(message: String) -> KafkaError {
    KafkaError::new(ErrorCode::InvalidRequest, message)
}
