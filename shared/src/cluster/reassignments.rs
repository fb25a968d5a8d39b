//! Partition reassignment at the front (`kafka-reassign-partitions`, AlterPartitionReassignments
//! and ListPartitionReassignments): each partition checked against the topics the front keeps,
//! then handed to the controller (`replication::reassignment` says how a move goes).

use super::Cluster;
use crate::api::{PartitionResult, Reassignment, ReassignmentTarget, Reply};
use crate::error::{ErrorCode, KafkaError};
use crate::ids::TopicPartition;
use crate::limits::MAX_REASSIGNMENTS_PER_REQUEST;

impl Cluster {
    /// Moves each partition to its target replicas, or cancels its reassignment in progress:
    /// an outcome per partition, in the order asked.
    pub(super) fn alter_reassignments(&mut self, now_ms: i64, asked: Vec<ReassignmentTarget>) -> Reply {
        if asked.len() > MAX_REASSIGNMENTS_PER_REQUEST {
            let refusal = KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "{} partitions in one reassignment; Kite takes at most {MAX_REASSIGNMENTS_PER_REQUEST} a request.",
                    asked.len()
                ),
            );
            let results = asked.into_iter().map(|t| result(&t, Err(refusal.clone()))).collect();
            return Reply::ReassignmentsAltered { results };
        }
        let mut checked = Vec::new();
        let mut moves = Vec::new();
        for target in asked {
            let known =
                self.topics.get(&target.topic).is_some_and(|t| (0..t.partitions).contains(&target.partition));
            if known {
                let tp = TopicPartition { topic: target.topic.clone(), partition: target.partition };
                moves.push((tp, target.replicas.clone()));
                checked.push((target, None));
            } else {
                let unknown = KafkaError::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("This server does not host partition {}-{}.", target.topic, target.partition),
                );
                checked.push((target, Some(unknown)));
            }
        }
        let mut outcomes = self.brokers.reassign(now_ms, moves).into_iter();
        let results = checked
            .into_iter()
            .map(|(target, refused)| {
                let outcome = match refused {
                    Some(error) => Err(error),
                    None => outcomes.next().unwrap_or(Ok(())),
                };
                result(&target, outcome)
            })
            .collect();
        Reply::ReassignmentsAltered { results }
    }

    /// Every partition with a reassignment in progress, by topic and number.
    pub(super) fn list_reassignments(&self) -> Reply {
        let mut reassignments = Vec::new();
        for state in self.topics.values() {
            for partition in 0..state.partitions {
                let Some(view) = self.brokers.partition(&state.name, partition) else { continue };
                if view.adding.is_empty() && view.removing.is_empty() {
                    continue;
                }
                reassignments.push(Reassignment {
                    topic: state.name.clone(),
                    partition,
                    replicas: view.replicas.clone(),
                    adding: view.adding.clone(),
                    removing: view.removing.clone(),
                });
            }
        }
        Reply::Reassignments { reassignments }
    }
}

fn result(target: &ReassignmentTarget, outcome: Result<(), KafkaError>) -> PartitionResult {
    PartitionResult { topic: target.topic.clone(), partition: target.partition, error: outcome.err() }
}
