//! OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ended in a partition leader's
//! log. After a leader change a consumer asks it for the epoch of the last record it read; an end
//! offset below its position means the log it read from was truncated, and it resets as
//! `auto.offset.reset` says instead of reading on from offsets that now hold other records.

use bytes::Bytes;
use kafka_protocol::messages::offset_for_leader_epoch_request::OffsetForLeaderPartition;
use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::cluster::Cluster;

/// Each partition's epoch end offset, from its leader's leader-epoch cache.
pub(super) fn answer(
    connection: &KafkaConnection,
    cluster: &Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: OffsetForLeaderEpochRequest = decode(request, body)?;
    let topics = asked
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.topic.0.as_str().to_string();
            let partitions =
                topic.partitions.iter().map(|p| end_offset(connection, cluster, &name, p)).collect();
            OffsetForLeaderTopicResult::default().with_topic(topic.topic).with_partitions(partitions)
        })
        .collect();
    respond(request, &OffsetForLeaderEpochResponse::default().with_topics(topics))
}

/// One partition: Kafka's errors for a broker that does not lead it or a client at another
/// epoch; else the end offset, or -1 and epoch -1 (UNDEFINED) for an epoch newer than the log's.
fn end_offset(
    connection: &KafkaConnection,
    cluster: &Cluster,
    topic: &str,
    asked: &OffsetForLeaderPartition,
) -> EpochEndOffset {
    let answer = EpochEndOffset::default().with_partition(asked.partition);
    if let Err(code) = super::lead(connection, cluster, topic, asked.partition, asked.current_leader_epoch) {
        return answer.with_error_code(code);
    }
    match cluster.leader_epoch_end_offset(topic, asked.partition, asked.leader_epoch) {
        Ok(Some((epoch, offset))) => answer.with_leader_epoch(epoch).with_end_offset(offset),
        Ok(None) => answer,
        Err(error) => answer.with_error_code(error_code(&error)),
    }
}
