//! Leader election on request at the front (`kafka-leader-election`, ElectLeaders): the
//! partitions named (or every one) checked against the topics, then handed to the controller,
//! which moves leadership to the preferred replica or, uncleanly, to any live one.

use super::Cluster;
use crate::api::{PartitionRef, PartitionResult, Reply};
use crate::config::ElectionType;
use crate::error::{ErrorCode, KafkaError};
use crate::ids::TopicPartition;
use crate::limits::MAX_REASSIGNMENTS_PER_REQUEST;

impl Cluster {
    /// Elects each partition's leader as `election` says: an outcome per partition, in the order
    /// asked (every partition of every topic, in order, when none are named).
    pub(super) fn elect_leaders(
        &mut self,
        now_ms: i64,
        election: ElectionType,
        asked: Option<Vec<PartitionRef>>,
    ) -> Reply {
        let asked: Vec<PartitionRef> = asked.unwrap_or_else(|| {
            let every = self
                .topics
                .values()
                .flat_map(|t| (0..t.partitions).map(|partition| (t.name.clone(), partition)));
            every.map(|(topic, partition)| PartitionRef { topic, partition }).collect()
        });
        let result = |p: &PartitionRef, error: Option<KafkaError>| PartitionResult {
            topic: p.topic.clone(),
            partition: p.partition,
            error,
        };
        if asked.len() > MAX_REASSIGNMENTS_PER_REQUEST {
            let refusal = KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "{} partitions in one election; Kite takes at most {MAX_REASSIGNMENTS_PER_REQUEST} a request.",
                    asked.len()
                ),
            );
            return Reply::LeadersElected {
                results: asked.iter().map(|p| result(p, Some(refusal.clone()))).collect(),
            };
        }
        let known = |p: &PartitionRef| {
            self.topics.get(&p.topic).is_some_and(|t| (0..t.partitions).contains(&p.partition))
        };
        let tps: Vec<TopicPartition> = asked
            .iter()
            .filter(|p| known(p))
            .map(|p| TopicPartition { topic: p.topic.clone(), partition: p.partition })
            .collect();
        let checked: Vec<bool> = asked.iter().map(known).collect();
        let mut outcomes = self.brokers.elect_leaders(now_ms, tps, election).into_iter();
        let results = asked
            .iter()
            .zip(checked)
            .map(|(p, known)| {
                let error = if known {
                    outcomes.next().and_then(Result::err)
                } else {
                    let message = format!("This server does not host partition {}-{}.", p.topic, p.partition);
                    Some(KafkaError::new(ErrorCode::UnknownTopicOrPartition, message))
                };
                result(p, error)
            })
            .collect();
        Reply::LeadersElected { results }
    }
}
