//! AlterPartitionReassignments and ListPartitionReassignments (`kafka-reassign-partitions`, the
//! admin clients' `alterPartitionReassignments` / `listPartitionReassignments`), on the engine's
//! own `alter_partition_reassignments` / `list_partition_reassignments` commands.

use bytes::Bytes;
use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, ApiKey, BrokerId,
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, ReassignmentTarget, Reply};
use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError};

/// One of the two reassignment APIs, ElectLeaders (`leader_election`) or UnregisterBroker
/// (`membership`, which moves a broker's replicas away): where partitions live and who leads them.
pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    match request.api {
        ApiKey::AlterPartitionReassignments => alter(connection, cluster, request, body),
        ApiKey::ElectLeaders => super::leader_election::answer(connection, cluster, request, body),
        ApiKey::UnregisterBroker => super::membership::unregister_broker(connection, cluster, request, body),
        _ => list(connection, cluster, request, body),
    }
}

/// AlterPartitionReassignments: every partition asked, in one engine command, answered per
/// partition. From v1, `allow_replication_factor_change` false (KIP-860) refuses a target of
/// another size than the partition's replicas with INVALID_REPLICATION_FACTOR.
fn alter(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: AlterPartitionReassignmentsRequest = decode(request, body)?;
    let sizes = if asked.allow_replication_factor_change {
        None
    } else {
        match connection.ask(cluster, request.now_ms, Command::ListTopics) {
            Reply::Topics { topics } => Some(topics),
            _ => None,
        }
    };
    let size_of = |topic: &str, partition: i32| {
        let topic = sizes.as_ref()?.iter().find(|t| t.name == topic)?;
        Some(topic.partitions.iter().find(|p| p.partition == partition)?.replicas.len())
    };
    // Each partition asked, in order: refused here, or the index of its target in the command.
    let mut targets = Vec::new();
    let mut slots: Vec<Result<usize, KafkaError>> = Vec::new();
    for topic in &asked.topics {
        let name = topic.name.0.to_string();
        for wanted in &topic.partitions {
            let replicas: Option<Vec<i32>> =
                wanted.replicas.as_ref().map(|r| r.iter().map(|b| b.0).collect());
            let resized = replicas.as_ref().map(Vec::len).zip(size_of(&name, wanted.partition_index));
            slots.push(match resized {
                Some((target, current)) if target != current => Err(KafkaError::new(
                    ErrorCode::InvalidReplicationFactor,
                    format!(
                        "The replication factor is changed from {current} to {target} but allowReplicationFactorChange is false."
                    ),
                )),
                _ => {
                    let partition = wanted.partition_index;
                    targets.push(ReassignmentTarget { topic: name.clone(), partition, replicas });
                    Ok(targets.len() - 1)
                }
            });
        }
    }
    let command = Command::AlterPartitionReassignments { partitions: targets };
    let outcomes: Vec<Option<KafkaError>> = match connection.ask(cluster, request.now_ms, command) {
        Reply::ReassignmentsAltered { results } => results.into_iter().map(|r| r.error).collect(),
        Reply::Error(error) => vec![Some(error); slots.len()],
        _ => Vec::new(),
    };
    let mut slots = slots.into_iter();
    let mut responses = Vec::with_capacity(asked.topics.len());
    for topic in asked.topics {
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for wanted in &topic.partitions {
            let error = match slots.next() {
                Some(Err(error)) => Some(error),
                Some(Ok(at)) => outcomes.get(at).cloned().flatten(),
                None => None,
            };
            let answer =
                ReassignablePartitionResponse::default().with_partition_index(wanted.partition_index);
            partitions.push(match error {
                None => answer.with_error_message(None),
                Some(error) => answer
                    .with_error_code(error_code(&error))
                    .with_error_message(Some(StrBytes::from_string(error.message))),
            });
        }
        responses
            .push(ReassignableTopicResponse::default().with_name(topic.name).with_partitions(partitions));
    }
    let response = AlterPartitionReassignmentsResponse::default()
        .with_allow_replication_factor_change(asked.allow_replication_factor_change)
        .with_error_message(None)
        .with_responses(responses);
    respond(request, &response)
}

/// ListPartitionReassignments: the reassignments in progress, all or those of the partitions
/// named.
fn list(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ListPartitionReassignmentsRequest = decode(request, body)?;
    let reassignments = match connection.ask(cluster, request.now_ms, Command::ListPartitionReassignments) {
        Reply::Reassignments { reassignments } => reassignments,
        _ => Vec::new(),
    };
    let wanted = |topic: &str, partition: i32| match &asked.topics {
        None => true,
        Some(topics) => {
            topics.iter().any(|t| t.name.0.as_str() == topic && t.partition_indexes.contains(&partition))
        }
    };
    let mut topics: Vec<OngoingTopicReassignment> = Vec::new();
    for r in reassignments.into_iter().filter(|r| wanted(&r.topic, r.partition)) {
        let brokers = |ids: Vec<i32>| ids.into_iter().map(BrokerId).collect::<Vec<_>>();
        let ongoing = OngoingPartitionReassignment::default()
            .with_partition_index(r.partition)
            .with_replicas(brokers(r.replicas))
            .with_adding_replicas(brokers(r.adding))
            .with_removing_replicas(brokers(r.removing));
        match topics.last_mut().filter(|t| t.name.0.as_str() == r.topic) {
            Some(topic) => topic.partitions.push(ongoing),
            None => topics.push(
                OngoingTopicReassignment::default()
                    .with_name(TopicName(StrBytes::from_string(r.topic)))
                    .with_partitions(vec![ongoing]),
            ),
        }
    }
    respond(
        request,
        &ListPartitionReassignmentsResponse::default().with_error_message(None).with_topics(topics),
    )
}
