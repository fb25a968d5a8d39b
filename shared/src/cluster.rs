//! The cluster as clients see it: topics, produce and fetch, answering one command at a time.
//!
//! This first cut is a single logical broker holding every partition's log, and it plays the
//! producer client's part too (serializers, partitioner, batching into Kafka's bytes). Brokers,
//! replication and the controller arrive with the replicated-cluster issue behind the same `handle`.

use std::collections::BTreeMap;

use crate::api::{Command, PartitionDescription, RecordView, Reply, TopicDescription};
use crate::config::{TopicCompression, TopicConfig};
use crate::error::{ErrorCode, KafkaError};
use crate::limits::{
    MAX_FETCH_BYTES, MAX_FETCH_RECORDS, MAX_PARTITION_BYTES_IN_MEMORY, MAX_TOPICS_PER_CLUSTER,
};
use crate::log::local_log::LogConfig;
use crate::partitioner::{
    DEFAULT_BATCH_SIZE_BYTES, PartitionInput, PartitionerKind, Placement, TopicPartitionerState, place,
};
use crate::random::Rng;
use crate::record::batch::{BatchRecord, RecordBatch, TimestampType};
use crate::schema_registry::SchemaRegistry;
use crate::serializer::{SerializerKind, deserialize, serialize};
use crate::topic::{Topic, collision_warning, names_collide, validate_name, validate_partition_count};

/// The one broker leads every partition in its first epoch, until elections arrive.
const SINGLE_BROKER_LEADER_EPOCH: i32 = 0;

#[derive(Clone, Debug)]
pub struct Cluster {
    topics: BTreeMap<String, TopicState>,
    schema_registry: SchemaRegistry,
    /// The producer's random choices (sticky partitions, librdkafka's random placement).
    rng: Rng,
}

#[derive(Clone, Debug)]
struct TopicState {
    topic: Topic,
    config: TopicConfig,
    overrides: BTreeMap<String, String>,
    partitioner: TopicPartitionerState,
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
}

impl Cluster {
    /// An empty cluster. `seed` drives every random choice, so a seed and a sequence of commands
    /// always give the same replies.
    pub fn new(seed: u64) -> Self {
        Cluster { topics: BTreeMap::new(), schema_registry: SchemaRegistry::new(), rng: Rng::from_seed(seed) }
    }

    /// Answers one command. `now_ms` is the host's wall clock in milliseconds since the Unix epoch;
    /// the engine never reads a clock itself.
    pub fn handle(&mut self, now_ms: i64, command: Command) -> Reply {
        let result = match command {
            Command::CreateTopic { name, partitions, configs } => {
                self.create_topic(name, partitions, configs)
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
            } => self.produce(
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
                },
            ),
            Command::Fetch {
                topic,
                partition,
                offset,
                max_records,
                key_deserializer,
                value_deserializer,
            } => self.fetch(&topic, partition, offset, max_records, key_deserializer, value_deserializer),
            Command::RegisterSchema { subject, schema } => match self
                .schema_registry
                .register(&subject, &schema)
            {
                Ok(registered) => {
                    Ok(Reply::SchemaRegistered { subject, id: registered.id, version: registered.version })
                }
                Err(err) => Err(KafkaError::new(ErrorCode::InvalidRequest, err.to_string())),
            },
        };
        result.unwrap_or_else(Reply::Error)
    }

    fn create_topic(
        &mut self,
        name: String,
        partitions: i32,
        overrides: BTreeMap<String, String>,
    ) -> Result<Reply, KafkaError> {
        validate_name(&name)?;
        validate_partition_count(partitions)?;
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
        let state = TopicState {
            topic: Topic::new(name.clone(), partitions, &LogConfig::from(&config)),
            config,
            overrides,
            partitioner: TopicPartitionerState::default(),
        };
        let description = describe(&state);
        let warnings = collision_warning(&name).into_iter().collect();
        self.topics.insert(name, state);
        Ok(Reply::TopicCreated { topic: description, warnings })
    }

    fn produce(&mut self, now_ms: i64, request: ProduceRequest<'_>) -> Result<Reply, KafkaError> {
        let topic_name = request.topic;
        if request.timestamp_ms < 0 {
            // The Java producer refuses this before sending (ProducerRecord's constructor).
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Invalid timestamp: {}. Timestamp should always be non-negative or null.",
                    request.timestamp_ms
                ),
            ));
        }
        let state = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let serialization_error =
            |e: crate::serializer::SerdeError| KafkaError::new(ErrorCode::InvalidRecord, e.0);
        let key = serialize(
            request.key_serializer,
            request.key.as_deref(),
            &self.schema_registry,
            &format!("{topic_name}-key"),
        )
        .map_err(serialization_error)?;
        let value = serialize(
            request.value_serializer,
            request.value.as_deref(),
            &self.schema_registry,
            &format!("{topic_name}-value"),
        )
        .map_err(serialization_error)?;

        let record = BatchRecord { key, value, ..BatchRecord::default() };
        let placement = match request.partition {
            Some(partition) => Placement::Explicit { partition },
            None => {
                // Every partition has a leader on a single broker, so all are available.
                let available: Vec<i32> = (0..state.topic.partition_count()).collect();
                let input = PartitionInput {
                    key: record.key.as_deref(),
                    record_bytes: record.encoded_len(),
                    num_partitions: state.topic.partition_count(),
                    available: &available,
                    batch_size_bytes: DEFAULT_BATCH_SIZE_BYTES,
                };
                place(request.partitioner, &mut state.partitioner, &mut self.rng, &input)
            }
        };
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
        if log.size_bytes() + bytes.len() > MAX_PARTITION_BYTES_IN_MEMORY {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "Partition {topic_name}-{partition} holds Kite's in-memory limit of {MAX_PARTITION_BYTES_IN_MEMORY} bytes; lower retention.ms or retention.bytes."
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
        if offset < log.log_start_offset() || offset > log.log_end_offset() {
            return Err(KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "Fetch position {offset} is out of range for partition {topic_name}-{partition} (log start {}, log end {}).",
                    log.log_start_offset(),
                    log.log_end_offset()
                ),
            ));
        }
        let corrupt =
            |e: crate::record::batch::BatchError| KafkaError::new(ErrorCode::CorruptMessage, e.to_string());
        let view = |offset: i64, timestamp_ms: i64, record: &BatchRecord| {
            let mut decode_error = None;
            let mut read = |kind, bytes: Option<&[u8]>| match deserialize(kind, bytes, &self.schema_registry)
            {
                Ok(text) => text,
                Err(e) => {
                    decode_error.get_or_insert(e.0);
                    bytes.map(crate::serializer::hex)
                }
            };
            let key = read(key_deserializer, record.key.as_deref());
            let value = read(value_deserializer, record.value.as_deref());
            RecordView { offset, timestamp_ms, key, value, decode_error }
        };
        // Read whole batches as a consumer's fetch does, then decode them as its client would,
        // skipping the records before `offset` in the first batch.
        let mut records = Vec::new();
        let mut next = offset;
        while records.len() < max_records && next < log.log_end_offset() {
            let bytes = log.read(next, MAX_FETCH_BYTES)?;
            if bytes.is_empty() {
                break;
            }
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

fn unknown_topic(topic: &str) -> KafkaError {
    KafkaError::new(ErrorCode::UnknownTopicOrPartition, format!("This server does not host topic '{topic}'."))
}

fn unknown_partition(topic: &str, partition: i32) -> KafkaError {
    KafkaError::new(
        ErrorCode::UnknownTopicOrPartition,
        format!("This server does not host this topic-partition: {topic}-{partition}."),
    )
}
