//! Produce: each partition's record batches appended by the engine as `produce_records` appends
//! a websocket client's, at the partition's leader only (Kafka's NOT_LEADER_OR_FOLLOWER
//! elsewhere). `acks=0` is answered with nothing, as Kafka does. InitProducerId hands an
//! idempotent producer its id and epoch; the engine checks its batches' sequences.

use bytes::Bytes;
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse, ProducerId,
};
use kafka_protocol::protocol::StrBytes;

use super::{Handled, KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;
use crate::config::Acks;
use crate::error::ErrorCode;
use crate::partitioner::PartitionerKind;

/// Kafka's INVALID_REQUIRED_ACKS.
const INVALID_REQUIRED_ACKS: i16 = 21;

pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: ProduceRequest = decode(request, body)?;
    let acks = match asked.acks {
        -1 => Some(Acks::All),
        1 => Some(Acks::Leader),
        0 => Some(Acks::None),
        _ => None,
    };
    let mut responses = Vec::with_capacity(asked.topic_data.len());
    for topic in asked.topic_data {
        // From v13 a produce names its topics by id (KIP-516).
        let name = super::named_topic(cluster, request, &topic.name, topic.topic_id);
        let partitions = topic
            .partition_data
            .into_iter()
            .map(|data| match &name {
                Some(name) => {
                    let to = Target { topic: name, acks, now_ms: request.now_ms };
                    append(connection, cluster, to, data)
                }
                None => unknown_topic_id(data.index),
            })
            .collect();
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_topic_id(topic.topic_id)
                .with_partition_responses(partitions),
        );
    }
    if asked.acks == 0 {
        return Ok(Handled::Silent);
    }
    if request.version < 8 {
        // Before v8 a refusal carries its code only: a message set would not encode.
        responses.iter_mut().flat_map(|t| &mut t.partition_responses).for_each(|p| p.error_message = None);
    }
    respond(request, &ProduceResponse::default().with_responses(responses)).map(Handled::Respond)
}

/// A partition of a topic named by an id no topic has: nothing appended.
fn unknown_topic_id(index: i32) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
        .with_error_code(ErrorCode::UnknownTopicId.code())
        .with_error_message(Some(StrBytes::from_static_str("No topic has this topic id.")))
}

/// Where a partition's batches go, and how.
struct Target<'a> {
    topic: &'a str,
    acks: Option<Acks>,
    now_ms: i64,
}

/// One partition's batches appended: its base offset, or Kafka's error for why not.
fn append(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    to: Target<'_>,
    data: PartitionProduceData,
) -> PartitionProduceResponse {
    let answer = PartitionProduceResponse::default()
        .with_index(data.index)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1);
    let refuse = |code: i16, message: String| {
        answer.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
    };
    let Some(acks) = to.acks else {
        return refuse(INVALID_REQUIRED_ACKS, "acks must be -1 (all), 1 or 0.".into());
    };
    match cluster.leadership(to.topic, data.index) {
        Err(error) => return refuse(error_code(&error), error.message),
        Ok((leader, _)) if leader != Some(connection.listener.broker) => {
            let message = format!(
                "Broker {} is not the leader of {}-{}.",
                connection.listener.broker, to.topic, data.index
            );
            return refuse(ErrorCode::NotLeaderOrFollower.code(), message);
        }
        Ok(_) => {}
    }
    let Some(records) = data.records else {
        return refuse(
            ErrorCode::InvalidRecord.code(),
            "A produce carries record batches; none came.".into(),
        );
    };
    let command = Command::ProduceRecords {
        topic: to.topic.to_string(),
        partition: Some(data.index),
        partitioner: PartitionerKind::default(),
        acks,
        payload: records.to_vec(),
    };
    match connection.ask(cluster, to.now_ms, command) {
        Reply::ProducedRecords { batches, .. } => match batches.first() {
            Some(batch) => answer
                .with_base_offset(batch.base_offset)
                .with_log_append_time_ms(batch.log_append_time_ms.unwrap_or(-1)),
            None => answer,
        },
        Reply::Error(error) => refuse(error_code(&error), error.message),
        _ => refuse(ErrorCode::InvalidRequest.code(), "The engine did not answer as a produce.".into()),
    }
}

/// InitProducerId. For an idempotent producer (no transactional id): a new producer id at epoch
/// 0, always (Kafka's coordinator ignores the id and epoch an idempotent producer names). With a
/// transactional id, at the transaction's coordinator: the id's producer id and bumped epoch,
/// which fences older instances (an open transaction of theirs is aborted first). An id without
/// an epoch, or an epoch without an id, is INVALID_REQUEST, as in Kafka.
pub(super) fn init_producer_id(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: InitProducerIdRequest = decode(request, body)?;
    let response = InitProducerIdResponse::default().with_producer_id(ProducerId(-1)).with_producer_epoch(-1);
    if (asked.producer_id.0 == -1) != (asked.producer_epoch == -1) {
        return respond(request, &response.with_error_code(ErrorCode::InvalidRequest.code()));
    }
    let claimed = match &asked.transactional_id {
        Some(id) => {
            let id = id.0.as_str();
            match cluster.transaction_coordinator(request.now_ms, id) {
                Ok(coordinator) if coordinator != connection.listener.broker => {
                    return respond(request, &response.with_error_code(ErrorCode::NotCoordinator.code()));
                }
                Ok(_) => {}
                Err(e) => return respond(request, &response.with_error_code(e.error.code())),
            }
            let expected = (asked.producer_id.0 >= 0).then_some((asked.producer_id.0, asked.producer_epoch));
            cluster.init_transactional_producer(request.now_ms, id, asked.transaction_timeout_ms, expected)
        }
        None => cluster.init_producer_id(request.now_ms),
    };
    let (id, epoch) = match claimed {
        Ok(claimed) => claimed,
        Err(e) => return respond(request, &response.with_error_code(e.error.code())),
    };
    if let Some(Some(listed)) = connection.listed {
        cluster.kafka_client_producer(listed, id);
    }
    respond(request, &response.with_producer_id(ProducerId(id)).with_producer_epoch(epoch))
}
