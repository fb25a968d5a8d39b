//! Fetch and ListOffsets. A fetch reads whole batches as the leader stores them (the first may start
//! before the offset asked for, as in Kafka) below the high watermark, within the request's
//! `max_bytes` and each partition's; with fewer than `min_bytes` it waits up to `max_wait_ms` for
//! more (a parked fetch, answered by [`super::KafkaConnection::wake`]). From v13 a fetch names its
//! topics by id, and an id no topic has is `UNKNOWN_TOPIC_ID`. A read_committed fetch reads
//! only below the last stable offset and is told which transactions aborted among its batches.

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{AbortedTransaction, FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::list_offsets_request::ListOffsetsPartition;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, ProducerId,
};

use super::{Handled, KafkaClose, KafkaConnection, Request, Retried, Waiting, decode, error_code, respond};
use crate::api::{Command, IsolationLevel, Reply};
use crate::cluster::Cluster;
use crate::error::ErrorCode;
use crate::limits::{MAX_FETCH_BYTES, MAX_KAFKA_FETCH_WAIT_MS};

/// ListOffsets' timestamp for the latest offset.
const LATEST_TIMESTAMP: i64 = -1;

/// A fetch waiting for records, and until when.
#[derive(Debug)]
pub(super) struct Parked {
    request: Request,
    asked: FetchRequest,
    pub(super) deadline_ms: i64,
}

pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    mut body: Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: FetchRequest = decode(request, &mut body)?;
    if let Some(Some(listed)) = connection.listed {
        cluster.kafka_client_isolation(listed, asked.isolation_level == 1);
    }
    let (response, bytes) = read(connection, cluster, request, &asked);
    let wait_ms = i64::from(asked.max_wait_ms.clamp(0, MAX_KAFKA_FETCH_WAIT_MS));
    if bytes >= usize::try_from(asked.min_bytes).unwrap_or(0) || wait_ms == 0 {
        return respond(request, &response).map(Handled::Respond);
    }
    Ok(Handled::Park(Waiting::Fetch(Box::new(Parked {
        request,
        asked,
        deadline_ms: request.now_ms + wait_ms,
    }))))
}

/// Reads again for a parked fetch: answered once it has `min_bytes` or its wait is over.
pub(super) fn retry(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    parked: Box<Parked>,
) -> Result<Retried, KafkaClose> {
    let request = Request { now_ms, ..parked.request };
    let (response, bytes) = read(connection, cluster, request, &parked.asked);
    if bytes >= usize::try_from(parked.asked.min_bytes).unwrap_or(0) || now_ms >= parked.deadline_ms {
        return respond(parked.request, &response).map(Retried::Answered);
    }
    Ok(Retried::Waiting(Waiting::Fetch(parked)))
}

/// Every partition's batches, within the request's `max_bytes` (the first partition with records
/// always gets at least one batch, as Kafka gives it, so a consumer makes progress); and the
/// record bytes read.
fn read(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    asked: &FetchRequest,
) -> (FetchResponse, usize) {
    let mut budget = usize::try_from(asked.max_bytes).unwrap_or(0).clamp(1, MAX_FETCH_BYTES);
    let mut read_bytes = 0;
    let mut topics = Vec::with_capacity(asked.topics.len());
    for topic in &asked.topics {
        // From v13 a fetch names its topics by id (KIP-516); a name does not travel.
        let name = super::named_topic(cluster, request, &topic.topic, topic.topic_id);
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for wanted in &topic.partitions {
            let Some(name) = &name else {
                partitions.push(unanswered(wanted).with_error_code(ErrorCode::UnknownTopicId.code()));
                continue;
            };
            let data =
                partition(connection, cluster, (request.now_ms, asked.isolation_level), name, wanted, budget);
            let got = data.records.as_ref().map_or(0, Bytes::len);
            read_bytes += got;
            budget = budget.saturating_sub(got);
            partitions.push(data);
        }
        topics.push(
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_topic_id(topic.topic_id)
                .with_partitions(partitions),
        );
    }
    // Session id 0: no fetch session (KIP-227) is kept, so every fetch is a full one.
    if request.version < 5 {
        // The log start offset came with v5; a value set before would not encode.
        topics.iter_mut().flat_map(|t| &mut t.partitions).for_each(|p| p.log_start_offset = -1);
    }
    (FetchResponse::default().with_session_id(0).with_responses(topics), read_bytes)
}

/// A partition's answer before anything is read: no offsets, no records.
fn unanswered(wanted: &FetchPartition) -> PartitionData {
    PartitionData::default()
        .with_partition_index(wanted.partition)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_preferred_read_replica(BrokerId(-1))
        .with_aborted_transactions(Some(Vec::new()))
}

/// One partition's batches from the fetch offset, at most `budget` bytes (at least one batch
/// when the budget is not spent), or Kafka's error.
fn partition(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    (now_ms, isolation): (i64, i8),
    topic: &str,
    wanted: &FetchPartition,
    budget: usize,
) -> PartitionData {
    let answer = unanswered(wanted);
    if let Err(code) = super::lead(connection, cluster, topic, wanted.partition, wanted.current_leader_epoch)
    {
        return answer.with_error_code(code);
    }
    let max_bytes = usize::try_from(wanted.partition_max_bytes).unwrap_or(0).min(budget);
    if max_bytes == 0 {
        return answer.with_records(Some(Bytes::new()));
    }
    let command = Command::FetchRecords {
        topic: topic.to_string(),
        partition: wanted.partition,
        offset: wanted.fetch_offset,
        max_bytes: u32::try_from(max_bytes).ok(),
        isolation_level: if isolation == 1 {
            IsolationLevel::ReadCommitted
        } else {
            IsolationLevel::ReadUncommitted
        },
    };
    match connection.ask(cluster, now_ms, command) {
        Reply::RecordBatches {
            log_start_offset,
            log_end_offset,
            last_stable_offset,
            aborted_transactions,
            payload,
            ..
        } => answer
            .with_high_watermark(log_end_offset)
            .with_last_stable_offset(last_stable_offset)
            .with_log_start_offset(log_start_offset)
            .with_aborted_transactions(Some(
                aborted_transactions
                    .into_iter()
                    .map(|a| {
                        AbortedTransaction::default()
                            .with_producer_id(ProducerId(a.producer_id))
                            .with_first_offset(a.first_offset)
                    })
                    .collect(),
            ))
            .with_records(Some(Bytes::from(payload))),
        Reply::Error(error) => answer.with_error_code(error_code(&error)),
        _ => answer.with_error_code(ErrorCode::InvalidRequest.code()),
    }
}

/// ListOffsets: the earliest (-2) or latest (-1, the high watermark) offset, or the first at or
/// after a time, per partition, at its leader.
pub(super) fn list_offsets(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ListOffsetsRequest = decode(request, body)?;
    let mut topics = Vec::with_capacity(asked.topics.len());
    for topic in asked.topics {
        let name = topic.name.0.as_str().to_string();
        let read_committed = asked.isolation_level == 1;
        let partitions = topic
            .partitions
            .iter()
            .map(|p| offset(connection, cluster, (request.now_ms, read_committed), &name, p))
            .collect();
        topics.push(ListOffsetsTopicResponse::default().with_name(topic.name).with_partitions(partitions));
    }
    if request.version < 4 {
        // Leader epochs came with v4.
        topics.iter_mut().flat_map(|t| &mut t.partitions).for_each(|p| p.leader_epoch = -1);
    }
    respond(request, &ListOffsetsResponse::default().with_topics(topics))
}

fn offset(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    (now_ms, read_committed): (i64, bool),
    topic: &str,
    wanted: &ListOffsetsPartition,
) -> ListOffsetsPartitionResponse {
    let answer = ListOffsetsPartitionResponse::default()
        .with_partition_index(wanted.partition_index)
        .with_timestamp(-1)
        .with_offset(-1)
        .with_leader_epoch(-1);
    let epoch =
        match super::lead(connection, cluster, topic, wanted.partition_index, wanted.current_leader_epoch) {
            Ok(epoch) => epoch,
            Err(code) => return answer.with_error_code(code),
        };
    if read_committed && wanted.timestamp == LATEST_TIMESTAMP {
        // A read_committed consumer's end is the last stable offset (Kafka's ListOffsets with
        // isolation level 1).
        return match cluster.last_stable_offset(topic, wanted.partition_index) {
            Ok(stable) => answer.with_leader_epoch(epoch).with_offset(stable),
            Err(e) => answer.with_error_code(error_code(&e)),
        };
    }
    let command = Command::ListOffsets {
        topic: topic.to_string(),
        partition: wanted.partition_index,
        timestamp_ms: wanted.timestamp,
    };
    match connection.ask(cluster, now_ms, command) {
        // The found record's own time for a lookup by time or max timestamp, -1 for the others.
        Reply::Offsets { offset, record_timestamp_ms, .. } => answer
            .with_leader_epoch(epoch)
            .with_offset(offset.unwrap_or(-1))
            .with_timestamp(record_timestamp_ms.unwrap_or(-1)),
        Reply::Error(error) => answer.with_error_code(error_code(&error)),
        _ => answer.with_error_code(ErrorCode::InvalidRequest.code()),
    }
}
