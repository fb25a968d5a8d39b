//! The event trace: every state change of the cluster (replication, groups, clients) as a typed
//! event with its virtual time. The simulator, the checker, the scenario tests and (later) the UI read it; the
//! text form is what "byte-identical trace" means.

use crate::config::Acks;
use crate::error::ErrorCode;
use crate::ids::{BrokerId, NodeId, TopicPartition};

/// Serialized (for the engine's event stream) tagged by `kind`, fields by name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    ProduceSent {
        client: u32,
        tp: TopicPartition,
        to: BrokerId,
        value: String,
        acks: Acks,
    },
    ProduceAcked {
        client: u32,
        tp: TopicPartition,
        value: String,
        offset: i64,
    },
    ProduceFailed {
        client: u32,
        tp: TopicPartition,
        value: String,
        error: ErrorCode,
    },
    ClientRetry {
        client: u32,
        tp: TopicPartition,
        value: String,
        reason: ErrorCode,
    },
    Appended {
        broker: BrokerId,
        tp: TopicPartition,
        first_offset: i64,
        last_offset: i64,
        leader_epoch: i32,
        as_leader: bool,
    },
    HighWatermark {
        broker: BrokerId,
        tp: TopicPartition,
        high_watermark: i64,
    },
    IsrChange {
        tp: TopicPartition,
        isr: Vec<BrokerId>,
        elr: Vec<BrokerId>,
        partition_epoch: i32,
    },
    Election {
        tp: TopicPartition,
        leader: Option<BrokerId>,
        leader_epoch: i32,
        unclean: bool,
    },
    Fenced {
        broker: BrokerId,
    },
    Unfenced {
        broker: BrokerId,
        incarnation: u64,
    },
    Truncated {
        broker: BrokerId,
        tp: TopicPartition,
        to_offset: i64,
        reason: &'static str,
    },
    Consumed {
        client: u32,
        tp: TopicPartition,
        offset: i64,
        value: String,
    },
    Fault {
        description: String,
    },
    MessageDropped {
        from: NodeId,
        to: NodeId,
    },
    /// A coordinator took over a `__consumer_offsets` partition and rebuilt its groups from it.
    GroupsLoaded {
        broker: BrokerId,
        partition: i32,
        groups: usize,
        offsets: usize,
    },
    /// A coordinator lost a `__consumer_offsets` partition (it no longer leads it).
    GroupsUnloaded {
        broker: BrokerId,
        partition: i32,
    },
    /// A group starts a rebalance (state PreparingRebalance).
    GroupPreparing {
        group: String,
        reason: String,
    },
    /// The join phase ended: a new generation with these members (state CompletingRebalance,
    /// or Empty when none are left).
    GroupGeneration {
        group: String,
        generation: i32,
        protocol: Option<String>,
        leader: Option<String>,
        members: Vec<String>,
    },
    /// The leader's assignment is stored: the group is Stable.
    GroupStable {
        group: String,
        generation: i32,
    },
    GroupMemberRemoved {
        group: String,
        member: String,
        reason: &'static str,
    },
    /// An offset commit is stored (replicated to the high watermark of `__consumer_offsets`).
    OffsetCommitted {
        group: String,
        tp: TopicPartition,
        offset: i64,
    },
    /// A topic was created (the single-broker engine's event; the simulator's controller records
    /// topics in its metadata log).
    TopicCreated {
        topic: String,
        partitions: i32,
    },
    TopicDeleted {
        topic: String,
    },
    /// A consumer's assignment changed.
    Assignment {
        client: u32,
        generation: i32,
        assigned: Vec<TopicPartition>,
        revoked: Vec<TopicPartition>,
    },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::ProduceSent { client, tp, to, value, acks } => {
                write!(f, "client-{client} produce {value} to {tp} via broker-{to} acks={acks:?}")
            }
            Event::ProduceAcked { client, tp, value, offset } => {
                write!(f, "client-{client} acked {value} at {tp}@{offset}")
            }
            Event::ProduceFailed { client, tp, value, error } => {
                write!(f, "client-{client} failed {value} on {tp}: {}", error.name())
            }
            Event::ClientRetry { client, tp, value, reason } => {
                write!(f, "client-{client} retries {value} on {tp} after {}", reason.name())
            }
            Event::Appended { broker, tp, first_offset, last_offset, leader_epoch, as_leader } => write!(
                f,
                "broker-{broker} appended {tp}@{first_offset}..={last_offset} epoch {leader_epoch} as {}",
                if *as_leader { "leader" } else { "follower" }
            ),
            Event::HighWatermark { broker, tp, high_watermark } => {
                write!(f, "broker-{broker} {tp} high watermark {high_watermark}")
            }
            Event::IsrChange { tp, isr, elr, partition_epoch } => {
                write!(f, "{tp} isr {isr:?}")?;
                if !elr.is_empty() {
                    write!(f, " elr {elr:?}")?;
                }
                write!(f, " (partition epoch {partition_epoch})")
            }
            Event::Election { tp, leader, leader_epoch, unclean } => match leader {
                Some(leader) => write!(
                    f,
                    "{tp} leader broker-{leader} epoch {leader_epoch}{}",
                    if *unclean { " (UNCLEAN)" } else { "" }
                ),
                None => write!(f, "{tp} offline (no eligible leader), epoch {leader_epoch}"),
            },
            Event::Fenced { broker } => write!(f, "broker-{broker} fenced"),
            Event::Unfenced { broker, incarnation } => {
                write!(f, "broker-{broker} registered (incarnation {incarnation})")
            }
            Event::Truncated { broker, tp, to_offset, reason } => {
                write!(f, "broker-{broker} truncated {tp} to {to_offset} ({reason})")
            }
            Event::Consumed { client, tp, offset, value } => {
                write!(f, "client-{client} consumed {tp}@{offset} {value}")
            }
            Event::Fault { description } => write!(f, "FAULT {description}"),
            Event::MessageDropped { from, to } => write!(f, "dropped {from} -> {to}"),
            Event::GroupsLoaded { broker, partition, groups, offsets } => write!(
                f,
                "broker-{broker} coordinates __consumer_offsets-{partition}: loaded {groups} groups, {offsets} offsets"
            ),
            Event::GroupsUnloaded { broker, partition } => {
                write!(f, "broker-{broker} no longer coordinates __consumer_offsets-{partition}")
            }
            Event::GroupPreparing { group, reason } => write!(f, "group {group} rebalancing: {reason}"),
            Event::GroupGeneration { group, generation, protocol, leader, members } => write!(
                f,
                "group {group} generation {generation} protocol {} leader {} members {members:?}",
                protocol.as_deref().unwrap_or("-"),
                leader.as_deref().unwrap_or("-")
            ),
            Event::GroupStable { group, generation } => {
                write!(f, "group {group} stable at generation {generation}")
            }
            Event::GroupMemberRemoved { group, member, reason } => {
                write!(f, "group {group} removed {member} ({reason})")
            }
            Event::OffsetCommitted { group, tp, offset } => {
                write!(f, "group {group} committed {tp} at {offset}")
            }
            Event::TopicCreated { topic, partitions } => {
                write!(f, "topic {topic} created with {partitions} partitions")
            }
            Event::TopicDeleted { topic } => write!(f, "topic {topic} deleted"),
            Event::Assignment { client, generation, assigned, revoked } => {
                let names =
                    |list: &[TopicPartition]| list.iter().map(|tp| tp.to_string()).collect::<Vec<_>>();
                write!(f, "client-{client} generation {generation} assigned {:?}", names(assigned))?;
                if !revoked.is_empty() {
                    write!(f, " revoked {:?}", names(revoked))?;
                }
                Ok(())
            }
        }
    }
}

/// Events with their virtual time, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<(i64, Event)>,
    /// Keep `MessageDropped` events (noisy; off by default).
    pub record_drops: bool,
}

impl Trace {
    pub fn push(&mut self, now_ms: i64, event: Event) {
        if matches!(event, Event::MessageDropped { .. }) && !self.record_drops {
            return;
        }
        self.events.push((now_ms, event));
    }

    /// One line per event: `[time] event`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (at, event) in &self.events {
            out.push_str(&format!("[{at:>7}] {event}\n"));
        }
        out
    }
}
