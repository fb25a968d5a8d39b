//! Decommissioning a broker, planned: which partitions move their replica off it and where to.
//! Kafka's operator does this by hand (`kafka-reassign-partitions` away from the broker, then
//! `kafka-cluster unregister`); Kite's controller plans the moves, starts them as ordinary
//! reassignments, and unregisters the broker once nothing is placed on it.

use std::collections::BTreeMap;

use super::protocol::{BrokerId, PartitionState, TopicPartition};
use crate::error::{ErrorCode, KafkaError};

/// The reassignments that take `leaving` out of every partition's target replicas: each
/// partition whose target (its replicas less those a move in progress already removes) holds
/// `leaving` gets, in its place, the broker among `remaining` not already one of them that keeps
/// the replicas on different racks (`racks`: each broker's `broker.rack`; a rack the partition's
/// other replicas are on comes last, as Kafka's rack-aware placement keeps a zone's loss from
/// taking two copies), then would hold the fewest replicas (ties: the lowest id). The
/// replacement takes the leaving broker's position, so a partition whose preferred leader was
/// leaving prefers the newcomer. Refused whole, naming the partition, when a partition has more
/// replicas than `remaining` can hold.
pub fn plan<'a>(
    states: impl Iterator<Item = &'a PartitionState> + Clone,
    leaving: BrokerId,
    remaining: &[BrokerId],
    racks: &BTreeMap<BrokerId, String>,
) -> Result<Vec<(TopicPartition, Vec<BrokerId>)>, KafkaError> {
    let mut load: BTreeMap<BrokerId, usize> = remaining.iter().map(|&b| (b, 0)).collect();
    for state in states.clone() {
        for broker in target(state) {
            if let Some(count) = load.get_mut(&broker) {
                *count += 1;
            }
        }
    }
    let mut moves = Vec::new();
    for state in states {
        let mut replicas = target(state);
        let Some(position) = replicas.iter().position(|&b| b == leaving) else { continue };
        // The racks the partition keeps once `leaving`'s replica goes.
        let kept: Vec<&String> =
            replicas.iter().filter(|&&b| b != leaving).filter_map(|b| racks.get(b)).collect();
        let shares_a_rack = |b: BrokerId| racks.get(&b).is_some_and(|rack| kept.contains(&rack));
        let Some(replacement) = load
            .iter()
            .filter(|(b, _)| !replicas.contains(b))
            .min_by_key(|&(&b, &count)| (shares_a_rack(b), count, b))
            .map(|(&b, _)| b)
        else {
            return Err(KafkaError::new(
                ErrorCode::InvalidReplicaAssignment,
                format!(
                    "Broker {leaving} cannot be removed: partition {} has {} replicas and only {} other broker{} would be left to hold them.",
                    state.tp,
                    replicas.len(),
                    remaining.len(),
                    if remaining.len() == 1 { "" } else { "s" }
                ),
            ));
        };
        replicas[position] = replacement;
        *load.entry(replacement).or_insert(0) += 1;
        moves.push((state.tp.clone(), replicas));
    }
    Ok(moves)
}

/// Where a partition is going: its replicas less those a reassignment in progress removes.
fn target(state: &PartitionState) -> Vec<BrokerId> {
    state.replicas.iter().copied().filter(|b| !state.removing.contains(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(partition: i32, replicas: &[BrokerId]) -> PartitionState {
        PartitionState {
            tp: tp(partition),
            topic_id: crate::ids::TopicId::ZERO,
            replicas: replicas.to_vec(),
            leader: replicas.first().copied(),
            leader_epoch: 1,
            isr: replicas.to_vec(),
            elr: Vec::new(),
            partition_epoch: 1,
            min_insync_replicas: 2,
            adding: Vec::new(),
            removing: Vec::new(),
        }
    }

    fn tp(partition: i32) -> TopicPartition {
        TopicPartition { topic: "orders".into(), partition }
    }

    #[test]
    fn each_replica_on_the_leaving_broker_goes_to_the_least_loaded_other() {
        let states = [state(0, &[0, 1, 2]), state(1, &[1, 2, 3]), state(2, &[2, 3, 0]), state(3, &[3, 0, 1])];
        // Broker 2 leaves; 0, 1 and 3 hold 3, 3 and 3 replicas: each move fills the least loaded.
        let moves = plan(states.iter(), 2, &[0, 1, 3], &BTreeMap::new()).unwrap();
        let moved: Vec<(i32, Vec<BrokerId>)> = moves.into_iter().map(|(tp, r)| (tp.partition, r)).collect();
        assert_eq!(moved, vec![(0, vec![0, 1, 3]), (1, vec![1, 0, 3]), (2, vec![1, 3, 0])]);
    }

    #[test]
    fn too_few_brokers_left_refuses_naming_the_partition() {
        let states = [state(0, &[0, 1, 2])];
        let refusal = plan(states.iter(), 2, &[0, 1], &BTreeMap::new()).unwrap_err();
        assert_eq!(refusal.error, ErrorCode::InvalidReplicaAssignment);
        assert_eq!(
            refusal.message,
            "Broker 2 cannot be removed: partition orders-0 has 3 replicas and only 2 other brokers would be left to hold them."
        );
    }

    #[test]
    fn a_move_in_progress_is_planned_from_its_target() {
        let mut moving = state(0, &[0, 2, 1]);
        // Moving from [0, 1] to [0, 2]: 1 is already leaving, 2 is being added.
        moving.adding = vec![2];
        moving.removing = vec![1];
        let moves = plan([moving.clone()].iter(), 1, &[0, 2, 3], &BTreeMap::new()).unwrap();
        assert!(moves.is_empty(), "1 leaves this partition already: {moves:?}");
        // 2 leaving instead: 1 and 3 hold none of the target; 1, the lower id, is taken back.
        let moves = plan([moving].iter(), 2, &[0, 1, 3], &BTreeMap::new()).unwrap();
        assert_eq!(moves, vec![(tp(0), vec![0, 1])]);
    }

    #[test]
    fn a_replacement_keeps_the_replicas_on_different_racks_before_balancing_load() {
        // Racks a: 0, 3; b: 1, 4; c: 2. Broker 2 (rack c) leaves orders-0 on 0, 1, 2: 3 and 4
        // share a rack with a kept replica; 3 holds nothing, but so does 4: with no free rack
        // the least loaded, lowest id wins. With a fifth broker on rack c, it is taken.
        let racks: BTreeMap<BrokerId, String> = [(0, "a"), (1, "b"), (2, "c"), (3, "a"), (4, "b"), (5, "c")]
            .map(|(b, r)| (b, r.to_string()))
            .into();
        let states = [state(0, &[0, 1, 2]), state(1, &[5, 3, 4]), state(2, &[5, 4, 3])];
        let moves = plan(states[..1].iter(), 2, &[0, 1, 3, 4], &racks).unwrap();
        assert_eq!(moves, vec![(tp(0), vec![0, 1, 3])]);
        // 5 is on rack c and holds two replicas already; 3 and 4 hold two each as well, but on
        // racks orders-0 keeps: 5 is taken, the racks stay three.
        let moves = plan(states.iter(), 2, &[0, 1, 3, 4, 5], &racks).unwrap();
        assert_eq!(moves, vec![(tp(0), vec![0, 1, 5])]);
    }
}
