//! A task's work, one poll at a time: a source's records (a file's new lines, datagen's mock
//! records) through the transforms and converters to the producer; a sink's records from its
//! consumer through the converters and transforms to its file. A record that fails on the way
//! fails the task, or — with `errors.tolerance=all` — is skipped, and a sink's goes to the
//! dead-letter queue (`errors.deadletterqueue.topic.name`) with Kafka's error-context headers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::converter::{Converter, Data, Registry};
use super::datagen;
use super::file_stream::{self, Lines};
use super::files::ConnectFiles;
use super::jdbc_sink;
use super::plugins::{ConnectorConfig, Plugin};
use super::transforms::{ConnectRecord, TransformError};
use crate::api::{Command, PolledRecord, Reply};
use crate::cluster::Cluster;
use crate::limits::MAX_SOURCE_READ_BYTES;
use crate::random::Rng;
use crate::record::batch::{BatchRecord, Header, RecordBatch};
use crate::serializer::SerializerKind;

/// Kafka's producer `batch.size` default: records are sent in batches of about this many bytes.
pub const PRODUCER_BATCH_SIZE_BYTES: usize = 16_384;
/// Kafka's `max.poll.records` default: the records one sink poll takes at most.
pub const SINK_MAX_POLL_RECORDS: u32 = 500;
/// Mixed into a datagen task's seed so its stream is its own.
const DATAGEN_STREAM: u64 = 0x6461_7461_6765_6e00;

/// What a running task holds.
#[derive(Debug)]
pub(super) enum Run {
    /// Not started (or stopped).
    Idle,
    /// FileStreamSource: the next byte to read, and the position its last offset commit wrote.
    File { position: u64, committed: u64 },
    /// Datagen: the next record's number, the number its last commit wrote, when it makes the
    /// next record, and its stream of choices.
    Datagen { iteration: u64, committed: u64, next_ms: i64, rng: Rng },
    /// A sink: the consumer it reads with (a member of `connect-<name>`), whether it wrote
    /// anything since its last commit, the topics it is subscribed to and when a `topics.regex`
    /// sink last looked for the topics its pattern matches.
    Sink { consumer: u32, written: bool, topics: Vec<String>, checked_ms: i64 },
    /// A `topics.regex` sink that no topic matched when it last looked: nothing to read yet.
    NoTopics { checked_ms: i64 },
}

/// What one poll did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// Records produced (a source) or written (a sink).
    pub records: u64,
    /// Records dropped by a `Filter`.
    pub filtered: u64,
    /// Records that failed and were skipped (`errors.tolerance=all`); a sink's went to its
    /// dead-letter queue when it has one.
    pub skipped: u64,
    /// The poll took all it could (`batch.size` lines, `max.poll.records`): more may be waiting.
    pub full: bool,
    /// The records were not acknowledged for a reason a client retries: the source keeps its
    /// position and sends them again at its next poll.
    pub unacked: bool,
}

/// The errors a Kafka client retries (its `RetriableException`s): the leader moving, too few
/// replicas in sync for now, a request that timed out. A task meeting one keeps its position
/// and tries again at its next poll, as Kafka's producer and consumer retry, rather than fail.
pub(super) fn retriable(error: crate::error::ErrorCode) -> bool {
    use crate::error::ErrorCode;
    matches!(
        error,
        ErrorCode::RequestTimedOut
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend
            | ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::CoordinatorNotAvailable
            | ErrorCode::KafkaStorageError
    )
}

/// What a task works with in one poll.
pub(super) struct Ctx<'a> {
    pub cluster: &'a mut Cluster,
    pub now_ms: i64,
    pub files: &'a mut dyn ConnectFiles,
    pub config: &'a ConnectorConfig,
    pub name: &'a str,
    pub task: usize,
}

/// Where a record failed, by Kafka Connect's stage names, the class at work and why.
struct Failure {
    stage: &'static str,
    class: String,
    message: String,
}

impl Failure {
    fn converting(stage: &'static str, converter: Converter, message: String) -> Failure {
        Failure { stage, class: converter.class().to_string(), message }
    }

    fn transforming(e: TransformError) -> Failure {
        Failure { stage: "TRANSFORMATION", class: e.class, message: e.message }
    }

    /// The task's trace when the failure is not tolerated.
    fn trace(&self) -> String {
        format!(
            "Tolerance exceeded in error handler: {} {} failed: org.apache.kafka.connect.errors.DataException: {}",
            self.stage, self.class, self.message
        )
    }
}

impl Run {
    /// A source task's start from its committed offset, or a sink's with its consumer.
    pub(super) fn source(config: &ConnectorConfig, task: usize, offset: Option<&Value>, seed: u64) -> Run {
        match config.plugin {
            Plugin::Datagen => {
                let iteration =
                    offset.and_then(|o| o.get("current.iteration")).and_then(Value::as_u64).unwrap_or(0);
                let rng = Rng::from_seed(seed ^ DATAGEN_STREAM ^ (task as u64) << 32 ^ iteration);
                Run::Datagen { iteration, committed: iteration, next_ms: i64::MIN, rng }
            }
            _ => {
                let position = offset.and_then(|o| o.get("position")).and_then(Value::as_u64).unwrap_or(0);
                Run::File { position, committed: position }
            }
        }
    }

    /// A source task's partition in `connect-offsets`: `{"filename": …}` or `{"task.id": n}`.
    pub(super) fn source_partition(config: &ConnectorConfig, task: usize) -> Value {
        match config.plugin {
            Plugin::Datagen => json!({ "task.id": task }),
            _ => json!({ "filename": config.file }),
        }
    }

    /// The offset to commit, when it moved since the last commit; marks it committed.
    pub(super) fn take_offset(&mut self) -> Option<Value> {
        match self {
            Run::File { position, committed } if position != committed => {
                *committed = *position;
                Some(json!({ "position": *position }))
            }
            Run::Datagen { iteration, committed, .. } if iteration != committed => {
                *committed = *iteration;
                Some(json!({ "current.iteration": *iteration }))
            }
            _ => None,
        }
    }

    /// The sink's consumer.
    pub(super) fn consumer(&self) -> Option<u32> {
        match self {
            Run::Sink { consumer, .. } => Some(*consumer),
            _ => None,
        }
    }

    /// One poll.
    pub(super) fn poll(&mut self, ctx: &mut Ctx<'_>) -> Result<Moved, String> {
        match self {
            Run::Idle | Run::NoTopics { .. } => Ok(Moved::default()),
            Run::File { position, .. } => poll_file(ctx, position),
            Run::Datagen { iteration, next_ms, rng, .. } => poll_datagen(ctx, iteration, next_ms, rng),
            Run::Sink { consumer, written, .. } => {
                let moved = poll_sink(ctx, *consumer)?;
                *written |= moved.records > 0;
                Ok(moved)
            }
        }
    }
}

/// FileStreamSource's poll: the file's new complete lines from `position` (at most
/// `batch.size`), produced; `position` moves past them once the cluster acknowledged them. A file
/// not there yet is waited for, as Kafka's task does.
fn poll_file(ctx: &mut Ctx<'_>, position: &mut u64) -> Result<Moved, String> {
    let config = ctx.config;
    let Some(bytes) = ctx.files.read(&config.file, *position, MAX_SOURCE_READ_BYTES)? else {
        return Ok(Moved::default());
    };
    let Lines { lines, next_position } = file_stream::split_lines(&bytes, *position, config.batch_size);
    if lines.is_empty() {
        if bytes.len() == MAX_SOURCE_READ_BYTES {
            return Err(format!(
                "a line of {} at byte {position} is longer than {MAX_SOURCE_READ_BYTES} bytes, the longest a source task reads",
                config.file
            ));
        }
        return Ok(Moved::default());
    }
    let full = lines.len() == config.batch_size;
    let records = lines.into_iter().map(|line| (Data::Null, Data::String(line))).collect();
    let moved = send(ctx, records)?;
    if !moved.unacked {
        *position = next_position;
    }
    Ok(Moved { full: full && !moved.unacked, ..moved })
}

/// Datagen's poll: the next record once its time has come (a random wait up to `max.interval`
/// after the last), until `iterations` are made.
fn poll_datagen(
    ctx: &mut Ctx<'_>,
    iteration: &mut u64,
    next_ms: &mut i64,
    rng: &mut Rng,
) -> Result<Moved, String> {
    let config = ctx.config;
    let done = config.iterations >= 0 && *iteration >= config.iterations as u64;
    if done || ctx.now_ms < *next_ms {
        return Ok(Moved::default());
    }
    let Some(quickstart) = config.quickstart else { return Ok(Moved::default()) };
    let before = rng.clone();
    let record = datagen::record(quickstart, *iteration, rng);
    let moved = send(ctx, vec![record])?;
    if moved.unacked {
        // The same record again at the next poll.
        *rng = before;
        return Ok(moved);
    }
    *iteration += 1;
    *next_ms = ctx.now_ms + (rng.next_u64() % config.max_interval_ms.max(1) as u64) as i64;
    Ok(moved)
}

/// A source's records through the transforms and converters, produced topic by topic (a
/// transform may route them) in record batches, as Connect's producer sends them.
fn send(ctx: &mut Ctx<'_>, records: Vec<(Data, Data)>) -> Result<Moved, String> {
    let config = ctx.config;
    let mut moved = Moved::default();
    let mut by_topic: BTreeMap<String, Vec<BatchRecord>> = BTreeMap::new();
    let mut registry = ClusterRegistry::new(ctx.cluster, ctx.now_ms);
    for (key, value) in records {
        let record = ConnectRecord {
            topic: config.topic.clone().unwrap_or_default(),
            partition: None,
            offset: None,
            timestamp_ms: ctx.now_ms,
            key,
            value,
            headers: Vec::new(),
        };
        match to_batch_record(config, record, &mut registry) {
            Ok(Some((topic, record))) => by_topic.entry(topic).or_default().push(record),
            Ok(None) => moved.filtered += 1,
            Err(_) if config.tolerate_all => moved.skipped += 1,
            Err(failure) => return Err(failure.trace()),
        }
    }
    for (topic, records) in by_topic {
        let count = records.len() as u64;
        if !produce(ctx.cluster, ctx.now_ms, &topic, records)? {
            // Not acknowledged, for now: the whole poll goes again (topics sent already get
            // their records twice — at least once).
            return Ok(Moved { unacked: true, ..Moved::default() });
        }
        moved.records += count;
    }
    Ok(moved)
}

fn to_batch_record(
    config: &ConnectorConfig,
    record: ConnectRecord,
    registry: &mut ClusterRegistry<'_>,
) -> Result<Option<(String, BatchRecord)>, Failure> {
    let Some(record) = config.transforms.apply(record).map_err(Failure::transforming)? else {
        return Ok(None);
    };
    let topic = record.topic.as_str();
    let key = config
        .key_converter
        .serialize(&record.key, (topic, true), registry)
        .map_err(|e| Failure::converting("KEY_CONVERTER", config.key_converter, e))?;
    let value = config
        .value_converter
        .serialize(&record.value, (topic, false), registry)
        .map_err(|e| Failure::converting("VALUE_CONVERTER", config.value_converter, e))?;
    let headers = record.headers.into_iter().map(|(key, value)| Header { key, value }).collect();
    Ok(Some((record.topic, BatchRecord { key, value, headers, ..BatchRecord::default() })))
}

/// The cluster's schema registry as the converters' client: a registration goes through the
/// cluster (so it is kept like any other), and the ids it gave are remembered for the poll, as
/// Confluent's client caches them, so a poll of a thousand records registers once.
struct ClusterRegistry<'a> {
    cluster: &'a mut Cluster,
    now_ms: i64,
    known: Vec<(String, String, i32)>,
}

impl<'a> ClusterRegistry<'a> {
    fn new(cluster: &'a mut Cluster, now_ms: i64) -> Self {
        ClusterRegistry { cluster, now_ms, known: Vec::new() }
    }
}

impl Registry for ClusterRegistry<'_> {
    fn schema_id(&mut self, subject: &str, schema: &str, register: bool) -> Result<i32, String> {
        if let Some((_, _, id)) = self.known.iter().find(|(s, t, _)| s == subject && t == schema) {
            return Ok(*id);
        }
        let id = if register {
            let command =
                Command::RegisterSchema { subject: subject.to_string(), schema: schema.to_string() };
            match self.cluster.handle(self.now_ms, command) {
                Reply::SchemaRegistered { id, .. } => id,
                Reply::Error(e) => return Err(e.message),
                other => return Err(format!("the registry answered {other:?}")),
            }
        } else {
            let found = self.cluster.schema_registry().id_of(subject, schema).map_err(|e| e.to_string())?;
            found.ok_or("Schema not found; error code: 40403")?
        };
        self.known.push((subject.to_string(), schema.to_string(), id));
        Ok(id)
    }

    fn schema(&self, id: i32) -> Option<&apache_avro::Schema> {
        self.cluster.schema_registry().by_id(id)
    }
}

/// Records produced to `topic` (created first when missing, as a producer's metadata request
/// creates one), acks=all, in batches of about `PRODUCER_BATCH_SIZE_BYTES`: whether they were
/// acknowledged (`false`: refused for a reason a client retries).
pub(super) fn produce(
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    records: Vec<BatchRecord>,
) -> Result<bool, String> {
    create_if_missing(cluster, now_ms, topic)?;
    let produce = Command::ProduceRecords {
        topic: topic.to_string(),
        partition: None,
        partitioner: Default::default(),
        acks: Default::default(),
        payload: encode_batches(records, now_ms)?,
    };
    match cluster.handle(now_ms, produce) {
        Reply::Error(e) if retriable(e.error) => Ok(false),
        Reply::Error(e) => Err(format!("{}: {}", e.error.name(), e.message)),
        _ => Ok(true),
    }
}

/// Records as record batches of about `PRODUCER_BATCH_SIZE_BYTES` each, one after another.
pub fn encode_batches(records: Vec<BatchRecord>, now_ms: i64) -> Result<Vec<u8>, String> {
    let encode = |records: Vec<BatchRecord>| {
        RecordBatch::new(now_ms, records).encode().map_err(|e| format!("cannot encode a record batch: {e:?}"))
    };
    let (mut payload, mut batch, mut bytes_in_batch) = (Vec::new(), Vec::new(), 0);
    for mut record in records {
        bytes_in_batch += record.encoded_len();
        record.offset_delta = batch.len() as i32;
        batch.push(record);
        if bytes_in_batch >= PRODUCER_BATCH_SIZE_BYTES {
            payload.extend(encode(std::mem::take(&mut batch))?);
            bytes_in_batch = 0;
        }
    }
    if !batch.is_empty() {
        payload.extend(encode(batch)?);
    }
    Ok(payload)
}

/// A sink's poll: the records its consumer is handed, each value a line appended to the file
/// or a row written to its table (the poll's rows in one transaction).
fn poll_sink(ctx: &mut Ctx<'_>, consumer: u32) -> Result<Moved, String> {
    // Text is read as UTF-8 (its bytes are the record's); a ByteArrayConverter's bytes come as
    // hex. A record that is not UTF-8 is read again as bytes (`Raw::of`), so the converters and
    // the dead-letter queue always have the record's own bytes.
    let as_bytes = |c: Converter| {
        if reads_bytes(c) { SerializerKind::ByteArray } else { SerializerKind::String }
    };
    let poll = Command::Poll {
        consumer,
        max_records: Some(SINK_MAX_POLL_RECORDS),
        key_deserializer: as_bytes(ctx.config.key_converter),
        value_deserializer: as_bytes(ctx.config.value_converter),
    };
    let records = match ctx.cluster.handle(ctx.now_ms, poll) {
        Reply::Polled { records, .. } => records,
        Reply::Error(e) if retriable(e.error) => return Ok(Moved::default()),
        Reply::Error(e) => return Err(format!("{}: {}", e.error.name(), e.message)),
        _ => return Ok(Moved::default()),
    };
    let mut moved = Moved { full: records.len() == SINK_MAX_POLL_RECORDS as usize, ..Moved::default() };
    let config = ctx.config;
    let mut lines = Vec::new();
    let mut rows = config.jdbc.as_ref().map(|jdbc| jdbc_sink::Writer::new(jdbc, ctx.name, &config.file));
    for polled in records {
        let raw = Raw::of(ctx, &polled);
        match sink_record(config, ctx.cluster.schema_registry(), &polled, &raw) {
            Ok(Some(record)) => {
                match &mut rows {
                    Some(rows) => rows.add(ctx.files, &record)?,
                    None => {
                        lines.extend(record.value.to_line());
                        lines.push(b'\n');
                    }
                }
                moved.records += 1;
            }
            Ok(None) => moved.filtered += 1,
            Err(failure) if ctx.config.tolerate_all => {
                moved.skipped += 1;
                if let Some(dlq) = &ctx.config.dlq_topic {
                    let record = dead_letter(ctx, &polled, raw, &failure);
                    // The poll's records are the consumer's already: a dead letter that
                    // cannot be written now fails the task, whose restart reads them again.
                    if !produce(ctx.cluster, ctx.now_ms, dlq, vec![record])? {
                        return Err(format!("the dead-letter queue {dlq} did not acknowledge a record"));
                    }
                }
            }
            Err(failure) => return Err(failure.trace()),
        }
    }
    if let Some(rows) = rows {
        rows.finish(ctx.files)?;
    } else if !lines.is_empty() {
        ctx.files.append(&config.file, &lines)?;
    }
    Ok(moved)
}

/// A consumed record's bytes, as they were in the topic.
struct Raw {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<Header>,
}

impl Raw {
    fn of(ctx: &mut Ctx<'_>, polled: &PolledRecord) -> Raw {
        let headers = polled
            .record
            .headers
            .iter()
            .map(|(key, value)| Header {
                key: key.clone(),
                value: value.as_ref().map(|v| v.as_bytes().to_vec()),
            })
            .collect();
        let record = &polled.record;
        let read = |text: &Option<String>, converter: Converter| match reads_bytes(converter) {
            true => text.as_deref().and_then(crate::serializer::parse_hex),
            false => text.as_ref().map(|t| t.as_bytes().to_vec()),
        };
        let (key, value) = match &record.decode_error {
            None => {
                (read(&record.key, ctx.config.key_converter), read(&record.value, ctx.config.value_converter))
            }
            Some(_) => refetch(ctx, polled),
        };
        Raw { key, value, headers }
    }
}

/// Whether a sink's consumer reads the converter's records as bytes (hex) rather than text.
fn reads_bytes(converter: Converter) -> bool {
    matches!(converter, Converter::ByteArray | Converter::Avro { .. })
}

/// A record that was not UTF-8, read again from its partition as bytes.
fn refetch(ctx: &mut Ctx<'_>, polled: &PolledRecord) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let fetch = Command::Fetch {
        topic: polled.topic.clone(),
        partition: polled.partition,
        offset: polled.record.offset,
        max_records: 1,
        key_deserializer: SerializerKind::ByteArray,
        value_deserializer: SerializerKind::ByteArray,
        isolation_level: Default::default(),
    };
    let hex = |text: &Option<String>| text.as_deref().and_then(crate::serializer::parse_hex);
    match ctx.cluster.handle(ctx.now_ms, fetch) {
        Reply::Records { records, .. } => records
            .first()
            .filter(|r| r.offset == polled.record.offset)
            .map_or((None, None), |r| (hex(&r.key), hex(&r.value))),
        _ => (None, None),
    }
}

/// A consumed record through the converters and transforms, as the sink writes it (a line of
/// FileStreamSink's file, a row of the JDBC sink's table); `None` when a transform dropped it.
fn sink_record(
    config: &ConnectorConfig,
    registry: &dyn Registry,
    polled: &PolledRecord,
    raw: &Raw,
) -> Result<Option<ConnectRecord>, Failure> {
    let key = config
        .key_converter
        .deserialize(raw.key.as_deref(), &polled.topic, registry)
        .map_err(|e| Failure::converting("KEY_CONVERTER", config.key_converter, e))?;
    let value = config
        .value_converter
        .deserialize(raw.value.as_deref(), &polled.topic, registry)
        .map_err(|e| Failure::converting("VALUE_CONVERTER", config.value_converter, e))?;
    let record = ConnectRecord {
        topic: polled.topic.clone(),
        partition: Some(polled.partition),
        offset: Some(polled.record.offset),
        timestamp_ms: polled.record.timestamp_ms,
        key,
        value,
        headers: raw.headers.iter().map(|h| (h.key.clone(), h.value.clone())).collect(),
    };
    config.transforms.apply(record).map_err(Failure::transforming)
}

/// The failed record for the dead-letter queue: its own key, value and headers, and with
/// `errors.deadletterqueue.context.headers.enable` Kafka's `__connect.errors.*` headers.
fn dead_letter(ctx: &Ctx<'_>, polled: &PolledRecord, raw: Raw, failure: &Failure) -> BatchRecord {
    let mut headers = raw.headers;
    if ctx.config.dlq_context_headers {
        let context = [
            ("__connect.errors.topic", polled.topic.clone()),
            ("__connect.errors.partition", polled.partition.to_string()),
            ("__connect.errors.offset", polled.record.offset.to_string()),
            ("__connect.errors.connector.name", ctx.name.to_string()),
            ("__connect.errors.task.id", ctx.task.to_string()),
            ("__connect.errors.stage", failure.stage.to_string()),
            ("__connect.errors.class.name", failure.class.clone()),
            (
                "__connect.errors.exception.class.name",
                "org.apache.kafka.connect.errors.DataException".to_string(),
            ),
            ("__connect.errors.exception.message", failure.message.clone()),
        ];
        headers.extend(
            context
                .into_iter()
                .map(|(key, value)| Header { key: key.to_string(), value: Some(value.into_bytes()) }),
        );
    }
    BatchRecord { key: raw.key, value: raw.value, headers, timestamp_delta: 0, offset_delta: 0 }
}

/// Creates a topic when missing, as a client's metadata request does
/// (`auto.create.topics.enable`): one partition, the brokers' default replication factor.
pub(super) fn create_if_missing(cluster: &mut Cluster, now_ms: i64, topic: &str) -> Result<(), String> {
    if cluster.topic_partition_count(topic).is_some() {
        return Ok(());
    }
    create_topic(cluster, now_ms, topic, 1, BTreeMap::new(), None)
}

/// Creates a topic; one that exists already is no error.
pub(super) fn create_topic(
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    partitions: i32,
    configs: BTreeMap<String, String>,
    replication_factor: Option<i16>,
) -> Result<(), String> {
    let create = Command::CreateTopic { name: topic.to_string(), partitions, configs, replication_factor };
    match cluster.handle(now_ms, create) {
        Reply::Error(e) if e.error != crate::error::ErrorCode::TopicAlreadyExists => {
            Err(format!("cannot create {topic}: {}: {}", e.error.name(), e.message))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_go_in_batches_of_about_the_producers_batch_size() {
        let records: Vec<BatchRecord> = (0..1000)
            .map(|i| BatchRecord {
                value: Some(format!("line {i} {}", "x".repeat(40)).into_bytes()),
                ..BatchRecord::default()
            })
            .collect();
        let payload = encode_batches(records, 1_700_000_000_000).unwrap();
        let (mut rest, mut values, mut batches) = (payload.as_slice(), Vec::new(), 0);
        while !rest.is_empty() {
            let (batch, used) = RecordBatch::decode(rest).unwrap();
            assert!(
                batch.records.iter().enumerate().all(|(i, r)| r.offset_delta == i as i32 && r.key.is_none())
            );
            values.extend(batch.records.into_iter().map(|r| r.value.unwrap()));
            rest = &rest[used..];
            batches += 1;
        }
        assert_eq!(values.len(), 1000);
        assert_eq!(values[7], format!("line 7 {}", "x".repeat(40)).into_bytes());
        assert!((4..=5).contains(&batches), "{batches} batches of ~16 KiB for ~55 KB");
    }
}
