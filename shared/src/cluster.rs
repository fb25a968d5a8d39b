//! The cluster as clients see it: topics, produce and fetch, answering one command at a time.
//!
//! This first cut is a single logical broker holding every partition's log. Brokers, replication and
//! the controller arrive with the replicated-cluster issue behind the same `handle` entry point.

use std::collections::BTreeMap;

use crate::api::{Command, PartitionDescription, RecordView, Reply, TopicDescription};
use crate::error::{ErrorCode, KafkaError};
use crate::limits::{MAX_FETCH_RECORDS, MAX_RECORD_BYTES, MAX_TOPICS_PER_CLUSTER};
use crate::log::AppendError;
use crate::partitioner::{Placement, partition_for_key};
use crate::topic::{Topic, names_collide, validate_name, validate_partition_count};

#[derive(Clone, Debug, Default)]
pub struct Cluster {
    topics: BTreeMap<String, Topic>,
}

impl Cluster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers one command. `now_ms` is the host's wall clock in milliseconds since the Unix epoch;
    /// the engine never reads a clock itself.
    pub fn handle(&mut self, now_ms: i64, command: Command) -> Reply {
        let result = match command {
            Command::CreateTopic { name, partitions } => self.create_topic(name, partitions),
            Command::ListTopics => Ok(Reply::Topics { topics: self.topics.values().map(describe).collect() }),
            Command::Produce { topic, partition, key, value, timestamp_ms } => {
                self.produce(&topic, partition, key, value, timestamp_ms.unwrap_or(now_ms))
            }
            Command::Fetch { topic, partition, offset, max_records } => {
                self.fetch(&topic, partition, offset, max_records)
            }
        };
        result.unwrap_or_else(Reply::Error)
    }

    fn create_topic(&mut self, name: String, partitions: i32) -> Result<Reply, KafkaError> {
        validate_name(&name)?;
        validate_partition_count(partitions)?;
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
        let topic = Topic::new(name.clone(), partitions);
        let description = describe(&topic);
        self.topics.insert(name, topic);
        Ok(Reply::TopicCreated { topic: description })
    }

    fn produce(
        &mut self,
        topic_name: &str,
        partition: Option<i32>,
        key: Option<String>,
        value: Option<String>,
        timestamp_ms: i64,
    ) -> Result<Reply, KafkaError> {
        if timestamp_ms < 0 {
            // The Java producer refuses this before sending (ProducerRecord's constructor).
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Invalid timestamp: {timestamp_ms}. Timestamp should always be non-negative or null."
                ),
            ));
        }
        let topic = self.topics.get_mut(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        // StringSerializer: the UTF-8 bytes of the string; null stays null.
        let key = key.map(String::into_bytes);
        let value = value.map(String::into_bytes);
        let size_bytes = key.as_ref().map_or(0, Vec::len) + value.as_ref().map_or(0, Vec::len);
        if size_bytes > MAX_RECORD_BYTES {
            return Err(KafkaError::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "The record's key and value are {size_bytes} bytes, over max.message.bytes {MAX_RECORD_BYTES}."
                ),
            ));
        }
        let placement = match (partition, &key) {
            (Some(partition), _) => Placement::Explicit { partition },
            (None, Some(key)) => partition_for_key(key, topic.partition_count()),
            (None, None) => {
                return Err(KafkaError::new(
                    ErrorCode::InvalidRequest,
                    "A record with a null key needs an explicit partition: the sticky partitioner for null keys is not built yet.",
                ));
            }
        };
        let partition = placement.partition();
        let log = topic.partition_mut(partition).ok_or_else(|| unknown_partition(topic_name, partition))?;
        let offset = log.append(timestamp_ms, key, value).map_err(|AppendError::Full| {
            KafkaError::new(
                ErrorCode::PolicyViolation,
                format!("Partition {topic_name}-{partition} holds the most records Kite keeps in memory."),
            )
        })?;
        Ok(Reply::Produced { topic: topic_name.to_string(), partition, offset, timestamp_ms, placement })
    }

    fn fetch(
        &self,
        topic_name: &str,
        partition: i32,
        offset: i64,
        max_records: u32,
    ) -> Result<Reply, KafkaError> {
        let topic = self.topics.get(topic_name).ok_or_else(|| unknown_topic(topic_name))?;
        let log = topic.partition(partition).ok_or_else(|| unknown_partition(topic_name, partition))?;
        let max_records = max_records.min(MAX_FETCH_RECORDS) as usize;
        let records = log.read(offset, max_records).ok_or_else(|| {
            KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "Fetch position {offset} is out of range for partition {topic_name}-{partition} (log start {}, log end {}).",
                    log.log_start_offset(),
                    log.log_end_offset()
                ),
            )
        })?;
        Ok(Reply::Records {
            topic: topic_name.to_string(),
            partition,
            log_start_offset: log.log_start_offset(),
            log_end_offset: log.log_end_offset(),
            records: records
                .iter()
                .map(|r| RecordView {
                    offset: r.offset,
                    timestamp_ms: r.timestamp_ms,
                    key: r.key.as_deref().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: r.value.as_deref().map(|v| String::from_utf8_lossy(v).into_owned()),
                })
                .collect(),
        })
    }
}

fn describe(topic: &Topic) -> TopicDescription {
    TopicDescription {
        name: topic.name().to_string(),
        partitions: topic
            .partitions()
            .iter()
            .zip(0..)
            .map(|(log, partition)| PartitionDescription {
                partition,
                log_start_offset: log.log_start_offset(),
                log_end_offset: log.log_end_offset(),
            })
            .collect(),
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
