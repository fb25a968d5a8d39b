//! The Jepsen-style checker: given what clients sent and were told, what consumers read, and the
//! final committed log of every partition (after healing and draining), name every violation of
//! Kafka's guarantees. A library: the simulator, the tests and (later) the UI call it.

use std::collections::BTreeMap;

use super::protocol::TopicPartition;
use crate::config::Acks;
use crate::error::ErrorCode;

/// What became of one produced value, as its producer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged at this offset.
    Acked(i64),
    /// Refused: not written (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, …).
    Failed(ErrorCode),
    /// Unknown: timed out, or refused after the append (NOT_ENOUGH_REPLICAS_AFTER_APPEND); may
    /// or may not be in the log.
    Indeterminate,
    /// Sent with acks=0, or still in flight at the end: no answer either way.
    Unanswered,
}

/// One produced value: where it went, with which acks, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The partition it was produced to.
    pub tp: TopicPartition,
    /// The acks it was sent with; only an acknowledgement with acks=1 or all promises it stays.
    pub acks: Acks,
    /// What the producer was last told.
    pub outcome: Outcome,
}

/// Everything the checker looks at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Every produced value (values are unique) and its outcome.
    pub sent: BTreeMap<String, Sent>,
    /// (consumer, partition, offset, value, the high watermark the fetch reported), in order.
    pub consumed: Vec<(u32, TopicPartition, i64, String, i64)>,
    /// Each partition's committed log after the final heal-and-drain: offset → value.
    pub final_logs: BTreeMap<TopicPartition, BTreeMap<i64, String>>,
    /// Replicas that disagree with the leader below the high watermark after draining:
    /// (partition, broker, offset).
    pub replica_mismatches: Vec<(TopicPartition, i32, i64)>,
    /// What the consumer group's members finished processing, in order.
    pub processed: Vec<Processed>,
    /// The group ran and drained: every acknowledged record must have been processed.
    pub group_checked: bool,
    /// Partitions the group had not caught up on when the run ended: (partition, the next
    /// offset it would process, the log end).
    pub group_behind: Vec<(TopicPartition, i64, i64)>,
    /// What the controller quorum did (`kraft`), when the run had one.
    pub kraft: Option<super::kraft::KraftObservations>,
}

/// One record a group member finished processing. `session` counts the times the partition was
/// assigned to this client: within one, offsets must increase; a new one starts again from the
/// committed offset (at-least-once re-delivery).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Processed {
    /// The member's client id.
    pub client: u32,
    /// Which assignment of `tp` to this client the record was processed under.
    pub session: u64,
    /// The partition the record came from.
    pub tp: TopicPartition,
    /// The record's offset.
    pub offset: i64,
    /// The record's value, as text.
    pub value: String,
}

/// A broken guarantee the checker found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// An acknowledged value (acks=1 or all) is not in the final log at its offset.
    LostWrite {
        /// The value.
        value: String,
        /// The partition it was acknowledged in.
        tp: TopicPartition,
        /// The offset its acknowledgement named.
        offset: i64,
        /// The acks it was sent with.
        acks: Acks,
        /// What the final log holds at that offset, if anything.
        found: Option<String>,
    },
    /// A value appears at more than one offset.
    Duplicate {
        /// The value.
        value: String,
        /// The partition it was first found in.
        tp: TopicPartition,
        /// Every offset it is at.
        offsets: Vec<i64>,
    },
    /// A consumer read a value at an offset that later holds something else (or nothing).
    ReadLost {
        /// The reading client.
        consumer: u32,
        /// The partition read.
        tp: TopicPartition,
        /// The offset read.
        offset: i64,
        /// The value it read there.
        read: String,
        /// What the final log holds at that offset, if anything.
        found: Option<String>,
    },
    /// A consumer's reads of a partition went backwards or repeated.
    NonMonotonicRead {
        /// The reading client.
        consumer: u32,
        /// The partition read.
        tp: TopicPartition,
        /// The offset read.
        offset: i64,
        /// The offset it had read just before, at or past `offset`.
        after: i64,
    },
    /// A consumer was served a record at or above the high watermark.
    ReadAboveHighWatermark {
        /// The reading client.
        consumer: u32,
        /// The partition read.
        tp: TopicPartition,
        /// The offset read.
        offset: i64,
        /// The high watermark the same fetch reported.
        high_watermark: i64,
    },
    /// The final log holds a value nobody sent.
    Phantom {
        /// The partition.
        tp: TopicPartition,
        /// Where in it.
        offset: i64,
        /// The value found.
        value: String,
    },
    /// A replica holds a different value than the leader below the high watermark.
    ReplicaDivergence {
        /// The partition.
        tp: TopicPartition,
        /// The disagreeing replica's broker.
        broker: i32,
        /// An offset where the two disagree.
        offset: i64,
    },
    /// An acknowledged record no member of the group ever processed (at-least-once broken).
    SkippedByGroup {
        /// The record's value.
        value: String,
        /// Its partition.
        tp: TopicPartition,
        /// Its offset.
        offset: i64,
    },
    /// A member processed a partition's records out of order while it owned it.
    GroupOutOfOrder {
        /// The member's client id.
        client: u32,
        /// The partition.
        tp: TopicPartition,
        /// The offset processed.
        offset: i64,
        /// The offset it had processed just before, at or past `offset`.
        after: i64,
    },
    /// The group never caught up with a partition after every fault was healed.
    GroupBehind {
        /// The partition.
        tp: TopicPartition,
        /// The next offset the group would have processed.
        next: i64,
        /// The partition's high watermark at the end of the run.
        end: i64,
    },
    /// Two controllers were active in the same quorum epoch.
    TwoActiveControllers {
        /// The epoch.
        epoch: i32,
        /// The controllers that led it.
        controllers: Vec<i32>,
    },
    /// A committed metadata record was missing from a later active controller's log.
    CommittedMetadataLost {
        /// Its offset in the metadata log.
        offset: i64,
        /// The epoch it was committed in.
        epoch: i32,
    },
    /// A broker was sent a partition state whose metadata record never committed.
    UncommittedMetadataSent {
        /// The partition.
        tp: TopicPartition,
        /// The state's leader epoch.
        leader_epoch: i32,
        /// The state's partition epoch.
        partition_epoch: i32,
    },
    /// One leader epoch of a partition was given to two different brokers.
    LeaderEpochReused {
        /// The partition.
        tp: TopicPartition,
        /// The leader epoch.
        leader_epoch: i32,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::LostWrite { value, tp, offset, acks, found } => write!(
                f,
                "lost acknowledged write {value} ({tp}@{offset}, acks={acks:?}); the log has {}",
                found.as_deref().unwrap_or("nothing there")
            ),
            Violation::Duplicate { value, tp, offsets } => {
                write!(f, "duplicate {value} in {tp} at {offsets:?}")
            }
            Violation::ReadLost { consumer, tp, offset, read, found } => write!(
                f,
                "client-{consumer} read {read} at {tp}@{offset}, later {}",
                found.as_deref().map_or("gone".to_string(), |v| format!("{v} there"))
            ),
            Violation::NonMonotonicRead { consumer, tp, offset, after } => {
                write!(f, "client-{consumer} read {tp}@{offset} after {after}")
            }
            Violation::ReadAboveHighWatermark { consumer, tp, offset, high_watermark } => {
                write!(
                    f,
                    "client-{consumer} read {tp}@{offset} at or above the high watermark {high_watermark}"
                )
            }
            Violation::Phantom { tp, offset, value } => write!(f, "{tp}@{offset} holds {value}, never sent"),
            Violation::SkippedByGroup { value, tp, offset } => {
                write!(f, "the group never processed acknowledged {value} ({tp}@{offset})")
            }
            Violation::GroupOutOfOrder { client, tp, offset, after } => {
                write!(f, "client-{client} processed {tp}@{offset} after {after} while owning it")
            }
            Violation::GroupBehind { tp, next, end } => {
                write!(f, "the group stopped at {tp}@{next}, the log ends at {end}")
            }
            Violation::TwoActiveControllers { epoch, controllers } => {
                write!(f, "controllers {controllers:?} were all active in quorum epoch {epoch}")
            }
            Violation::CommittedMetadataLost { offset, epoch } => {
                write!(
                    f,
                    "committed metadata record {offset} (epoch {epoch}) missing from a later active controller's log"
                )
            }
            Violation::UncommittedMetadataSent { tp, leader_epoch, partition_epoch } => write!(
                f,
                "{tp} leader epoch {leader_epoch} partition epoch {partition_epoch} was sent to brokers but never committed"
            ),
            Violation::LeaderEpochReused { tp, leader_epoch } => {
                write!(f, "{tp} leader epoch {leader_epoch} was given to two different brokers")
            }
            Violation::ReplicaDivergence { tp, broker, offset } => {
                write!(
                    f,
                    "broker-{broker} disagrees with the leader on {tp}@{offset} below the high watermark"
                )
            }
        }
    }
}

/// Every violation in `history`, in a stable order.
pub fn check(history: &History) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut placed: BTreeMap<&str, Vec<(&TopicPartition, i64)>> = BTreeMap::new();
    for (tp, log) in &history.final_logs {
        for (&offset, value) in log {
            placed.entry(value.as_str()).or_default().push((tp, offset));
            if !history.sent.contains_key(value) {
                violations.push(Violation::Phantom { tp: tp.clone(), offset, value: value.clone() });
            }
        }
    }
    for (value, places) in &placed {
        if places.len() > 1 {
            violations.push(Violation::Duplicate {
                value: value.to_string(),
                tp: places[0].0.clone(),
                offsets: places.iter().map(|(_, o)| *o).collect(),
            });
        }
    }
    for (value, sent) in &history.sent {
        if let (Outcome::Acked(offset), Acks::Leader | Acks::All) = (&sent.outcome, sent.acks) {
            let found = history.final_logs.get(&sent.tp).and_then(|log| log.get(offset));
            if found != Some(value) {
                violations.push(Violation::LostWrite {
                    value: value.clone(),
                    tp: sent.tp.clone(),
                    offset: *offset,
                    acks: sent.acks,
                    found: found.cloned(),
                });
            }
        }
    }
    let mut last_read: BTreeMap<(u32, &TopicPartition), i64> = BTreeMap::new();
    for (consumer, tp, offset, value, high_watermark) in &history.consumed {
        if offset >= high_watermark {
            violations.push(Violation::ReadAboveHighWatermark {
                consumer: *consumer,
                tp: tp.clone(),
                offset: *offset,
                high_watermark: *high_watermark,
            });
        }
        if let Some(&after) = last_read.get(&(*consumer, tp))
            && *offset <= after
        {
            violations.push(Violation::NonMonotonicRead {
                consumer: *consumer,
                tp: tp.clone(),
                offset: *offset,
                after,
            });
        }
        last_read.insert((*consumer, tp), *offset);
        let found = history.final_logs.get(tp).and_then(|log| log.get(offset));
        if found != Some(value) {
            violations.push(Violation::ReadLost {
                consumer: *consumer,
                tp: tp.clone(),
                offset: *offset,
                read: value.clone(),
                found: found.cloned(),
            });
        }
    }
    for (tp, broker, offset) in &history.replica_mismatches {
        violations.push(Violation::ReplicaDivergence { tp: tp.clone(), broker: *broker, offset: *offset });
    }
    check_group(history, &mut violations);
    if let Some(kraft) = &history.kraft {
        check_kraft(kraft, &mut violations);
    }
    violations
}

/// The controller quorum's guarantees: one active controller per epoch, committed metadata
/// never lost, nothing sent to a broker before it committed, a leader epoch never reused.
fn check_kraft(kraft: &super::kraft::KraftObservations, violations: &mut Vec<Violation>) {
    for (&epoch, controllers) in &kraft.activations {
        if controllers.len() > 1 {
            violations.push(Violation::TwoActiveControllers {
                epoch,
                controllers: controllers.iter().copied().collect(),
            });
        }
    }
    for &(offset, epoch, _) in &kraft.lost {
        violations.push(Violation::CommittedMetadataLost { offset, epoch });
    }
    for (tp, leader_epoch, partition_epoch) in kraft.released_states.difference(&kraft.committed_states) {
        violations.push(Violation::UncommittedMetadataSent {
            tp: tp.clone(),
            leader_epoch: *leader_epoch,
            partition_epoch: *partition_epoch,
        });
    }
    for (tp, leader_epoch) in &kraft.leader_epoch_conflicts {
        violations.push(Violation::LeaderEpochReused { tp: tp.clone(), leader_epoch: *leader_epoch });
    }
}

/// At-least-once for the consumer group: every acknowledged record in the final log was
/// processed by some member; each member processed a partition in order while it owned it;
/// what was processed is what the log holds.
fn check_group(history: &History, violations: &mut Vec<Violation>) {
    let mut last: BTreeMap<(u32, u64, &TopicPartition), i64> = BTreeMap::new();
    let mut seen: BTreeMap<&TopicPartition, std::collections::BTreeSet<i64>> = BTreeMap::new();
    for p in &history.processed {
        let key = (p.client, p.session, &p.tp);
        if let Some(&after) = last.get(&key)
            && p.offset <= after
        {
            violations.push(Violation::GroupOutOfOrder {
                client: p.client,
                tp: p.tp.clone(),
                offset: p.offset,
                after,
            });
        }
        last.insert(key, p.offset);
        seen.entry(&p.tp).or_default().insert(p.offset);
        let found = history.final_logs.get(&p.tp).and_then(|log| log.get(&p.offset));
        if found != Some(&p.value) {
            violations.push(Violation::ReadLost {
                consumer: p.client,
                tp: p.tp.clone(),
                offset: p.offset,
                read: p.value.clone(),
                found: found.cloned(),
            });
        }
    }
    if !history.group_checked {
        return;
    }
    for (tp, next, end) in &history.group_behind {
        violations.push(Violation::GroupBehind { tp: tp.clone(), next: *next, end: *end });
    }
    for (value, sent) in &history.sent {
        let Outcome::Acked(offset) = sent.outcome else { continue };
        let in_log = history.final_logs.get(&sent.tp).and_then(|log| log.get(&offset)) == Some(value);
        let processed = seen.get(&sent.tp).is_some_and(|s| s.contains(&offset));
        if in_log && !processed {
            violations.push(Violation::SkippedByGroup { value: value.clone(), tp: sent.tp.clone(), offset });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> TopicPartition {
        TopicPartition { topic: "t".into(), partition: 0 }
    }

    #[test]
    fn each_kind_of_violation_is_named() {
        let mut history = History::default();
        let sent = |outcome, acks| Sent { tp: tp(), acks, outcome };
        history.sent.insert("a".into(), sent(Outcome::Acked(0), Acks::All));
        history.sent.insert("b".into(), sent(Outcome::Acked(1), Acks::Leader));
        history.sent.insert("c".into(), sent(Outcome::Indeterminate, Acks::All));
        history.sent.insert("d".into(), sent(Outcome::Acked(9), Acks::None));
        history.final_logs.insert(
            tp(),
            BTreeMap::from([(0, "a".into()), (1, "c".into()), (2, "c".into()), (3, "z".into())]),
        );
        history.consumed =
            vec![(7, tp(), 1, "b".into(), 2), (7, tp(), 0, "a".into(), 2), (7, tp(), 2, "c".into(), 2)];
        let found: Vec<String> = check(&history).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "t-0@3 holds z, never sent",
                "duplicate c in t-0 at [1, 2]",
                "lost acknowledged write b (t-0@1, acks=Leader); the log has c",
                "client-7 read b at t-0@1, later c there",
                "client-7 read t-0@0 after 1",
                "client-7 read t-0@2 at or above the high watermark 2",
            ]
        );
        // acks=0 and indeterminate outcomes promise nothing; an acknowledged write in place is fine.
        history.sent.remove("b");
        history.final_logs.insert(tp(), BTreeMap::from([(0, "a".into()), (1, "c".into())]));
        history.consumed.clear();
        assert!(check(&history).is_empty());
    }

    #[test]
    fn each_kind_of_quorum_violation_is_named() {
        use super::super::kraft::KraftObservations;
        let mut kraft = KraftObservations::default();
        kraft.activations.insert(1, [0].into());
        kraft.activations.insert(2, [1, 2].into());
        kraft.lost.push((4, 1, None));
        kraft.committed_states.insert((tp(), 0, 0));
        kraft.released_states.extend([(tp(), 0, 0), (tp(), 1, 1)]);
        kraft.leader_epoch_conflicts.push((tp(), 1));
        let history = History { kraft: Some(kraft), ..History::default() };
        let found: Vec<String> = check(&history).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "controllers [1, 2] were all active in quorum epoch 2",
                "committed metadata record 4 (epoch 1) missing from a later active controller's log",
                "t-0 leader epoch 1 partition epoch 1 was sent to brokers but never committed",
                "t-0 leader epoch 1 was given to two different brokers",
            ]
        );
    }
}
