//! DeleteRecords (`kafka-delete-records`, the admin clients' `deleteRecords`): each partition's
//! log start moves up to the offset asked, at its leader, on the engine's own `delete_records`
//! command, and the answer carries the low watermark once every live replica starts there.

use bytes::Bytes;
use kafka_protocol::messages::delete_records_request::DeleteRecordsPartition;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;
use crate::error::ErrorCode;
use crate::limits::MAX_DELETE_RECORDS_PARTITIONS_PER_REQUEST;

/// The low watermark a refused partition answers with (Kafka's `INVALID_LOW_WATERMARK`).
const INVALID_LOW_WATERMARK: i64 = -1;

/// DeleteRecords: every partition asked, each at this listener's broker if it leads it; past
/// `MAX_DELETE_RECORDS_PARTITIONS_PER_REQUEST` of them, INVALID_REQUEST without the engine.
pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DeleteRecordsRequest = decode(request, body)?;
    let mut topics = Vec::with_capacity(asked.topics.len());
    let mut named = 0;
    for topic in asked.topics {
        let name = topic.name.0.as_str().to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for wanted in &topic.partitions {
            named += 1;
            partitions.push(if named > MAX_DELETE_RECORDS_PARTITIONS_PER_REQUEST {
                DeleteRecordsPartitionResult::default()
                    .with_partition_index(wanted.partition_index)
                    .with_low_watermark(INVALID_LOW_WATERMARK)
                    .with_error_code(ErrorCode::InvalidRequest.code())
            } else {
                partition(connection, cluster, request.now_ms, &name, wanted)
            });
        }
        topics.push(DeleteRecordsTopicResult::default().with_name(topic.name).with_partitions(partitions));
    }
    respond(request, &DeleteRecordsResponse::default().with_topics(topics))
}

fn partition(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    wanted: &DeleteRecordsPartition,
) -> DeleteRecordsPartitionResult {
    let answer = DeleteRecordsPartitionResult::default()
        .with_partition_index(wanted.partition_index)
        .with_low_watermark(INVALID_LOW_WATERMARK);
    if let Err(code) = super::lead(connection, cluster, topic, wanted.partition_index, -1) {
        return answer.with_error_code(code);
    }
    let command = Command::DeleteRecords {
        topic: topic.to_string(),
        partition: wanted.partition_index,
        offset: wanted.offset,
    };
    match connection.ask(cluster, now_ms, command) {
        Reply::RecordsDeleted { low_watermark, .. } => answer.with_low_watermark(low_watermark),
        Reply::Error(error) => answer.with_error_code(error_code(&error)),
        _ => answer.with_error_code(ErrorCode::InvalidRequest.code()),
    }
}
