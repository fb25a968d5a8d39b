//! ElectLeaders (`kafka-leader-election`, the admin clients' `electLeaders`), on the engine's own
//! `elect_leaders` command: preferred (v0's only kind) or unclean, for the partitions named or,
//! with none, every partition.

use bytes::Bytes;
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, PartitionRef, Reply};
use crate::cluster::Cluster;
use crate::config::ElectionType;
use crate::error::ErrorCode;

/// Kafka's ElectionType byte: 0 preferred, 1 unclean.
const PREFERRED: i8 = 0;
const UNCLEAN: i8 = 1;

pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ElectLeadersRequest = decode(request, body)?;
    let election = match asked.election_type {
        PREFERRED => ElectionType::Preferred,
        UNCLEAN => ElectionType::Unclean,
        _ => {
            let refused = ElectLeadersResponse::default().with_error_code(ErrorCode::InvalidRequest.code());
            return respond(request, &refused);
        }
    };
    let partitions = asked.topic_partitions.as_ref().map(|topics| {
        let each = topics.iter().flat_map(|t| t.partitions.iter().map(move |&p| (t.topic.0.to_string(), p)));
        each.map(|(topic, partition)| PartitionRef { topic, partition }).collect()
    });
    let results =
        match connection.ask(cluster, request.now_ms, Command::ElectLeaders { election, partitions }) {
            Reply::LeadersElected { results } => results,
            Reply::Error(error) => {
                return respond(
                    request,
                    &ElectLeadersResponse::default().with_error_code(error_code(&error)),
                );
            }
            _ => Vec::new(),
        };
    let mut topics: Vec<ReplicaElectionResult> = Vec::new();
    for r in results {
        let answer = PartitionResult::default().with_partition_id(r.partition);
        let answer = match r.error {
            None => answer.with_error_message(None),
            Some(e) => answer
                .with_error_code(error_code(&e))
                .with_error_message(Some(StrBytes::from_string(e.message))),
        };
        match topics.last_mut().filter(|t| t.topic.0.as_str() == r.topic) {
            Some(topic) => topic.partition_result.push(answer),
            None => topics.push(
                ReplicaElectionResult::default()
                    .with_topic(TopicName(StrBytes::from_string(r.topic)))
                    .with_partition_result(vec![answer]),
            ),
        }
    }
    respond(request, &ElectLeadersResponse::default().with_replica_election_results(topics))
}
