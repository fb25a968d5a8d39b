//! Partition reassignment as KRaft's controller does it (KIP-455): the replicas grow to the union
//! of the current and the target assignment, the added replicas fetch from the leader until they
//! join the ISR, and only then does the assignment shrink to the target — so a partition is never
//! less replicated while it moves. Pure functions over a partition's state; the controller
//! records and pushes what they change.

use super::protocol::{BrokerId, PartitionState};
use crate::error::{ErrorCode, KafkaError};
use crate::trace::{Event, Trace};

/// Checks a target assignment as Kafka's controller does: not empty, no broker twice, every
/// broker registered.
pub fn validate(target: &[BrokerId], registered: &dyn Fn(BrokerId) -> bool) -> Result<(), KafkaError> {
    let refuse = |message: String| Err(KafkaError::new(ErrorCode::InvalidReplicaAssignment, message));
    if target.is_empty() {
        return refuse("The manual partition assignment includes an empty replica list.".into());
    }
    for (at, &broker) in target.iter().enumerate() {
        if target[..at].contains(&broker) {
            return refuse(format!(
                "The manual partition assignment includes the broker {broker} more than once."
            ));
        }
        if !registered(broker) {
            return refuse(format!(
                "The manual partition assignment includes broker {broker}, but no such broker is registered."
            ));
        }
    }
    Ok(())
}

/// Whether a partition is being reassigned.
pub fn in_progress(state: &PartitionState) -> bool {
    !state.adding.is_empty() || !state.removing.is_empty()
}

/// The replicas a reassignment in progress started from (its revert), or the replicas.
pub fn original(state: &PartitionState) -> Vec<BrokerId> {
    state.replicas.iter().copied().filter(|r| !state.adding.contains(r)).collect()
}

/// The replicas a reassignment in progress moves to, or the replicas.
pub fn target(state: &PartitionState) -> Vec<BrokerId> {
    state.replicas.iter().copied().filter(|r| !state.removing.contains(r)).collect()
}

/// Starts moving `state` to `target` (already validated): the replicas become the target followed
/// by the original replicas leaving, the ISR stays. A reassignment already in progress is
/// replaced, starting again from its original replicas (a replica it was adding that the new
/// target drops leaves the ISR). Completes at once when nothing is added.
pub fn start(state: &mut PartitionState, target: Vec<BrokerId>, now_ms: i64, trace: &mut Trace) {
    let original = original(state);
    state.adding = target.iter().copied().filter(|r| !original.contains(r)).collect();
    state.removing = original.iter().copied().filter(|r| !target.contains(r)).collect();
    let mut replicas = target;
    replicas.extend(state.removing.iter().copied());
    let dropped: Vec<BrokerId> = state.replicas.iter().copied().filter(|r| !replicas.contains(r)).collect();
    state.replicas = replicas;
    state.isr.retain(|r| !dropped.contains(r));
    state.elr.retain(|r| !dropped.contains(r));
    state.partition_epoch += 1;
    record(state, now_ms, trace);
    maybe_complete(state, now_ms, trace);
}

/// Cancels the reassignment in progress (KIP-455's revert): the replicas go back to the original
/// ones, the replicas being added leave. Refused when no original replica is in the ISR (reverting
/// would leave it empty), and when none is in progress.
pub fn cancel(state: &mut PartitionState, now_ms: i64, trace: &mut Trace) -> Result<(), KafkaError> {
    if !in_progress(state) {
        return Err(no_reassignment(state));
    }
    let original = original(state);
    if !state.isr.iter().any(|r| original.contains(r)) {
        return Err(KafkaError::new(
            ErrorCode::InvalidReplicaAssignment,
            format!(
                "Unable to revert partition assignment for {} because it would leave no in-sync replica.",
                state.tp
            ),
        ));
    }
    state.adding.clear();
    state.removing.clear();
    shrink_to(state, original, now_ms, trace);
    Ok(())
}

/// NO_REASSIGNMENT_IN_PROGRESS for `state`'s partition.
pub fn no_reassignment(state: &PartitionState) -> KafkaError {
    KafkaError::new(
        ErrorCode::NoReassignmentInProgress,
        format!("No ongoing reassignment for partition {}.", state.tp),
    )
}

/// Completes the reassignment in progress if it may: every replica being added is in the ISR and
/// the ISR without the leaving replicas is not empty. The replicas become the target, the
/// leaving replicas leave the ISR, and the leader epoch moves on (with a new leader when the old
/// one leaves). Returns whether it completed.
pub fn maybe_complete(state: &mut PartitionState, now_ms: i64, trace: &mut Trace) -> bool {
    if !in_progress(state) || !state.adding.iter().all(|r| state.isr.contains(r)) {
        return false;
    }
    let target = target(state);
    if !state.isr.iter().any(|r| target.contains(r)) {
        return false;
    }
    state.adding.clear();
    state.removing.clear();
    shrink_to(state, target, now_ms, trace);
    true
}

/// The replicas become `replicas`, which hold at least one ISR member: the others leave the ISR
/// and ELR, and the leader epoch moves on — to the first remaining ISR member in assignment order
/// when the leader leaves or there was none.
fn shrink_to(state: &mut PartitionState, replicas: Vec<BrokerId>, now_ms: i64, trace: &mut Trace) {
    state.isr.retain(|r| replicas.contains(r));
    state.elr.retain(|r| replicas.contains(r));
    state.replicas = replicas;
    if state.leader.is_none_or(|leader| !state.replicas.contains(&leader)) {
        state.leader = state.replicas.iter().copied().find(|r| state.isr.contains(r));
    }
    state.leader_epoch += 1;
    state.partition_epoch += 1;
    record(state, now_ms, trace);
    let election = Event::Election {
        tp: state.tp.clone(),
        leader: state.leader,
        leader_epoch: state.leader_epoch,
        unclean: false,
    };
    trace.push(now_ms, election);
}

fn record(state: &PartitionState, now_ms: i64, trace: &mut Trace) {
    let event = Event::Reassignment {
        tp: state.tp.clone(),
        replicas: state.replicas.clone(),
        adding: state.adding.clone(),
        removing: state.removing.clone(),
        isr: state.isr.clone(),
    };
    trace.push(now_ms, event);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{TopicId, TopicPartition};

    fn state(replicas: &[BrokerId], isr: &[BrokerId], leader: BrokerId) -> PartitionState {
        PartitionState {
            tp: TopicPartition { topic: "t".into(), partition: 0 },
            topic_id: TopicId::ZERO,
            replicas: replicas.to_vec(),
            leader: Some(leader),
            leader_epoch: 1,
            isr: isr.to_vec(),
            elr: Vec::new(),
            partition_epoch: 2,
            min_insync_replicas: 1,
            adding: Vec::new(),
            removing: Vec::new(),
        }
    }

    /// The TLA+ description's example: broker 3's replica moves to broker 4.
    #[test]
    fn a_move_grows_catches_up_then_shrinks() {
        let mut trace = Trace::default();
        let mut s = state(&[1, 2, 3], &[1, 2], 1);
        start(&mut s, vec![1, 2, 4], 0, &mut trace);
        assert_eq!((s.replicas.clone(), s.isr.clone()), (vec![1, 2, 4, 3], vec![1, 2]));
        assert_eq!((s.adding.clone(), s.removing.clone()), (vec![4], vec![3]));
        assert_eq!((s.leader_epoch, s.partition_epoch), (1, 3), "growing keeps the leader epoch");
        assert!(!maybe_complete(&mut s, 0, &mut trace), "4 has not caught up");
        s.isr = vec![1, 2, 4];
        assert!(maybe_complete(&mut s, 0, &mut trace));
        assert_eq!((s.replicas.clone(), s.isr.clone(), s.leader), (vec![1, 2, 4], vec![1, 2, 4], Some(1)));
        assert!(!in_progress(&s));
        assert_eq!((s.leader_epoch, s.partition_epoch), (2, 4));
    }

    #[test]
    fn a_leader_moved_away_hands_over_to_the_first_target_in_the_isr() {
        let mut trace = Trace::default();
        let mut s = state(&[0, 1, 2], &[0, 1, 2], 0);
        start(&mut s, vec![3, 1, 2], 0, &mut trace);
        s.isr = vec![0, 1, 2, 3];
        assert!(maybe_complete(&mut s, 0, &mut trace));
        assert_eq!((s.leader, s.isr.clone()), (Some(3), vec![1, 2, 3]));
    }

    #[test]
    fn removing_only_and_reordering_complete_at_once() {
        let mut trace = Trace::default();
        let mut s = state(&[0, 1, 2], &[0, 1, 2], 0);
        start(&mut s, vec![2, 1], 0, &mut trace);
        assert!(!in_progress(&s));
        assert_eq!((s.replicas.clone(), s.isr.clone(), s.leader), (vec![2, 1], vec![1, 2], Some(2)));
        let mut s = state(&[0, 1, 2], &[0, 1, 2], 0);
        start(&mut s, vec![1, 2, 0], 0, &mut trace);
        assert_eq!((s.replicas.clone(), s.leader), (vec![1, 2, 0], Some(0)), "a new order, same leader");
    }

    #[test]
    fn a_removal_that_would_empty_the_isr_waits() {
        let mut trace = Trace::default();
        let mut s = state(&[0, 1, 2], &[0], 0);
        start(&mut s, vec![1, 2], 0, &mut trace);
        assert!(in_progress(&s), "neither 1 nor 2 is in sync yet");
        s.isr = vec![0, 1];
        assert!(maybe_complete(&mut s, 0, &mut trace));
        assert_eq!((s.replicas.clone(), s.leader), (vec![1, 2], Some(1)));
    }

    #[test]
    fn cancel_reverts_and_a_new_target_starts_from_the_original() {
        let mut trace = Trace::default();
        let mut s = state(&[0, 1, 2], &[0, 1, 2], 0);
        start(&mut s, vec![3, 4, 5], 0, &mut trace);
        assert_eq!(s.replicas, vec![3, 4, 5, 0, 1, 2]);
        s.isr = vec![0, 1, 2, 3];
        start(&mut s, vec![0, 1, 4], 0, &mut trace);
        assert_eq!((s.replicas.clone(), s.isr.clone()), (vec![0, 1, 4, 2], vec![0, 1, 2]), "3 dropped");
        assert_eq!((s.adding.clone(), s.removing.clone()), (vec![4], vec![2]));
        cancel(&mut s, 0, &mut trace).unwrap();
        assert_eq!((s.replicas.clone(), s.isr.clone(), s.leader), (vec![0, 1, 2], vec![0, 1, 2], Some(0)));
        assert_eq!(cancel(&mut s, 0, &mut trace).unwrap_err().error, ErrorCode::NoReassignmentInProgress);
    }

    #[test]
    fn cancel_is_refused_when_only_added_replicas_are_in_sync() {
        let mut trace = Trace::default();
        let mut s = state(&[0], &[0], 0);
        start(&mut s, vec![1, 2], 0, &mut trace);
        s.isr = vec![1];
        assert_eq!(cancel(&mut s, 0, &mut trace).unwrap_err().error, ErrorCode::InvalidReplicaAssignment);
    }

    #[test]
    fn targets_are_validated_by_name() {
        let registered = |b: BrokerId| b < 3;
        let message = |t: &[BrokerId]| validate(t, &registered).unwrap_err().message;
        assert!(message(&[]).contains("empty replica list"));
        assert!(message(&[0, 1, 0]).contains("broker 0 more than once"));
        assert!(message(&[0, 7]).contains("broker 7, but no such broker is registered"));
        assert!(validate(&[2, 0], &registered).is_ok());
    }
}
