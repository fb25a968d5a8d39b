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
    /// A simulated producer sent a one-record batch to the broker it takes for the partition's
    /// leader (a retry sends the same value again).
    ProduceSent {
        /// The producer's client number.
        client: u32,
        /// The partition the record is for.
        tp: TopicPartition,
        /// The broker the Produce went to: the leader as the producer last learned it.
        to: BrokerId,
        /// The record's value, unique in a run (`p0-17`): how the checker follows one record.
        value: String,
        /// The producer's `acks`.
        acks: Acks,
    },
    /// A simulated producer got a successful Produce response: under its `acks`, the record is
    /// written.
    ProduceAcked {
        /// The producer's client number.
        client: u32,
        /// The record's partition.
        tp: TopicPartition,
        /// The record's value.
        value: String,
        /// The offset the leader gave the record.
        offset: i64,
    },
    /// A simulated producer got an error for its record and does not retry it. After
    /// NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND or REQUEST_TIMED_OUT the record
    /// may still have been written.
    ProduceFailed {
        /// The producer's client number.
        client: u32,
        /// The record's partition.
        tp: TopicPartition,
        /// The record's value.
        value: String,
        /// The Produce response's error code.
        error: ErrorCode,
    },
    /// A simulated producer's record was refused before it was appended (NOT_ENOUGH_REPLICAS,
    /// KAFKA_STORAGE_ERROR): the producer refreshes its metadata and sends it again.
    ClientRetry {
        /// The producer's client number.
        client: u32,
        /// The record's partition.
        tp: TopicPartition,
        /// The record's value.
        value: String,
        /// The error code that refused it.
        reason: ErrorCode,
    },
    /// A replica appended to its log: as leader, a producer's batch it stamped with offsets and
    /// its leader epoch; as follower, batches fetched from the leader.
    Appended {
        /// The broker holding the replica.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// The first offset appended.
        first_offset: i64,
        /// The last offset appended; the log end offset is now one past it.
        last_offset: i64,
        /// As leader, the epoch it stamped as partitionLeaderEpoch; as follower, the latest
        /// epoch in its leader epoch cache after the append.
        leader_epoch: i32,
        /// Appended as the partition's leader (a produce), not as a follower (a fetch).
        as_leader: bool,
    },
    /// A replica's high watermark moved: on the leader, up to the smallest log end offset in the
    /// ISR; on a follower, to the leader's, capped at its own log end offset.
    HighWatermark {
        /// The broker holding the replica.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// The new high watermark: offsets below it are committed and readable by consumers.
        high_watermark: i64,
    },
    /// The controller stored a new ISR for a partition: a leader's AlterPartition (a follower
    /// fell behind or caught up), a fenced or uncleanly restarted broker leaving it, or a leader
    /// elected from outside it becoming the whole ISR.
    IsrChange {
        /// The partition.
        tp: TopicPartition,
        /// The in-sync replicas now.
        isr: Vec<BrokerId>,
        /// Eligible leader replicas (KIP-966): replicas that left the ISR while it was below
        /// `min.insync.replicas`, still safe to elect.
        elr: Vec<BrokerId>,
        /// The partition epoch of the new state; every ISR or leader change bumps it.
        partition_epoch: i32,
    },
    /// The controller gave a partition a leader, or found none: at topic creation (leader epoch
    /// 0), when its leader was fenced, or moving leadership back to the preferred replica.
    Election {
        /// The partition.
        tp: TopicPartition,
        /// The new leader; `None` when no replica is eligible and the partition is offline.
        leader: Option<BrokerId>,
        /// The new leader epoch; every election bumps it.
        leader_epoch: i32,
        /// The leader came from outside the ISR and the ELR (`unclean.leader.election.enable`):
        /// committed records may be lost.
        unclean: bool,
    },
    /// The controller changed a partition's assignment for a reassignment (KIP-455): started it
    /// (the replicas grew by those `adding`), completed it (both lists empty: the replicas are
    /// the target) or cancelled it.
    Reassignment {
        /// The partition.
        tp: TopicPartition,
        /// Its replicas now; while `adding` or `removing` is not empty, the target's followed by
        /// those leaving.
        replicas: Vec<BrokerId>,
        /// Replicas catching up, to join the ISR before the reassignment completes.
        adding: Vec<BrokerId>,
        /// Replicas that leave when it completes.
        removing: Vec<BrokerId>,
        /// The in-sync replicas now.
        isr: Vec<BrokerId>,
    },
    /// The controller fenced a broker (heartbeats stopped for the session timeout, a controlled
    /// shutdown, an offline log directory, or a restart in a new incarnation): it leaves every
    /// ISR and the partitions it led get new leaders.
    Fenced {
        /// The fenced broker.
        broker: BrokerId,
    },
    /// The controller registered a broker (a first start or a restart) or unfenced it when its
    /// heartbeats came back: it may lead partitions and rejoin ISRs.
    Unfenced {
        /// The broker.
        broker: BrokerId,
        /// Which start of the broker this is; each restart gets a new one, like KRaft's broker
        /// epoch.
        incarnation: u64,
    },
    /// A broker is being removed from the cluster: `moving` partitions move their replica off
    /// it first (reassignments), then the controller unregisters it.
    BrokerLeaving {
        /// The broker.
        broker: BrokerId,
        /// How many partitions started moving off it.
        moving: usize,
    },
    /// The controller unregistered a broker that holds nothing any more: it has left the cluster.
    BrokerUnregistered {
        /// The broker.
        broker: BrokerId,
    },
    /// A broker was added to the running cluster: it registers and holds nothing until
    /// partitions move to it.
    BrokerAdded {
        /// Its id.
        broker: BrokerId,
    },
    /// A controller won the quorum's election: it is the active controller of `epoch`, over
    /// the metadata log it holds.
    ControllerActivated {
        /// The controller's id.
        controller: i32,
        /// The quorum epoch it leads.
        epoch: i32,
    },
    /// A follower cut its log back to where it diverged from the leader's, found through the
    /// leader epochs (KIP-101, KIP-279); the records after that point are gone from it.
    Truncated {
        /// The follower's broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Its log end offset after the cut.
        to_offset: i64,
        /// Why it truncated, in words.
        reason: &'static str,
    },
    /// A simulated consumer took a record: read from a fetch below the high watermark, or
    /// processed by a group member.
    Consumed {
        /// The consumer's client number.
        client: u32,
        /// The record's partition.
        tp: TopicPartition,
        /// The record's offset.
        offset: i64,
        /// The record's value (lossy UTF-8; empty for a null value).
        value: String,
    },
    /// A fault was injected or healed (a broker crashed, stopped, paused or restarted, cut off or
    /// its disk filled or slowed; a link cut or healed), or a broker hit one itself (its log
    /// directory went offline). The simulator notes its own steps here too (the workload stops).
    Fault {
        /// What happened, in words, naming the broker or link.
        description: String,
    },
    /// The simulated network lost a message: its link was cut, its receiver was down, or a flaky
    /// broker's link dropped it. Kept only with `Trace::record_drops`.
    MessageDropped {
        /// The sender.
        from: NodeId,
        /// The intended receiver.
        to: NodeId,
    },
    /// A coordinator took over a `__consumer_offsets` partition and rebuilt its groups from it.
    GroupsLoaded {
        /// The broker whose coordinator took the partition over.
        broker: BrokerId,
        /// The `__consumer_offsets` partition.
        partition: i32,
        /// Groups it now coordinates from that partition.
        groups: usize,
        /// Committed offsets read back from it.
        offsets: usize,
    },
    /// A coordinator lost a `__consumer_offsets` partition (it no longer leads it).
    GroupsUnloaded {
        /// The broker that stopped coordinating.
        broker: BrokerId,
        /// The `__consumer_offsets` partition.
        partition: i32,
    },
    /// A group starts a rebalance (state PreparingRebalance).
    GroupPreparing {
        /// The group id.
        group: String,
        /// What started it (a member joined, rejoined, left or timed out), in words.
        reason: String,
    },
    /// The join phase ended: a new generation with these members (state CompletingRebalance,
    /// or Empty when none are left).
    GroupGeneration {
        /// The group id.
        group: String,
        /// The new generation id.
        generation: i32,
        /// The assignor chosen (e.g. `range`); `None` when the group is Empty.
        protocol: Option<String>,
        /// The member that computes the assignment; `None` when the group is Empty.
        leader: Option<String>,
        /// The member ids of the new generation.
        members: Vec<String>,
    },
    /// The leader's assignment is stored: the group is Stable.
    GroupStable {
        /// The group id.
        group: String,
        /// The generation whose assignment was stored.
        generation: i32,
    },
    /// The coordinator removed a member: it left (LeaveGroup), its session timed out, or it did
    /// not rejoin before the rebalance's deadline.
    GroupMemberRemoved {
        /// The group id.
        group: String,
        /// The removed member's id.
        member: String,
        /// Why, in words.
        reason: &'static str,
    },
    /// An offset commit is stored (replicated to the high watermark of `__consumer_offsets`).
    OffsetCommitted {
        /// The group id.
        group: String,
        /// The partition the offset is for.
        tp: TopicPartition,
        /// The committed offset: the next offset the group will read.
        offset: i64,
    },
    /// A topic was created through the engine, whatever its broker count (the simulator's
    /// controller records topics in its metadata log instead).
    TopicCreated {
        /// The topic's name.
        topic: String,
        /// Its partition count.
        partitions: i32,
    },
    /// A topic was deleted through the engine.
    TopicDeleted {
        /// The topic's name.
        topic: String,
    },
    /// A transaction's state changed at its coordinator: the change is written to
    /// `__transaction_state` (InitProducerId, AddPartitionsToTxn, EndTxn, a timeout).
    TransactionState {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// Its producer id.
        producer_id: i64,
        /// Its epoch.
        producer_epoch: i16,
        /// Kafka's state name (`Ongoing`, `PrepareCommit`, `CompleteAbort`, …).
        state: String,
        /// The partitions of the open transaction.
        partitions: usize,
    },
    /// A transaction marker (a control record) was written to a partition of a transaction.
    TransactionMarker {
        /// The partition.
        tp: TopicPartition,
        /// The transactional producer's id.
        producer_id: i64,
        /// COMMIT (true) or ABORT.
        commit: bool,
        /// The marker's offset.
        offset: i64,
    },
    /// A consumer's assignment changed.
    Assignment {
        /// The consumer's client number.
        client: u32,
        /// The consumer's generation when the change took effect.
        generation: i32,
        /// Partitions it gained.
        assigned: Vec<TopicPartition>,
        /// Partitions it gave up: before rejoining (eager), moved to another member
        /// (cooperative), or lost when the coordinator no longer knew it.
        revoked: Vec<TopicPartition>,
    },
}

impl Event {
    /// A reassignment's step: the replicas and ISR now, and what is still being added or removed.
    fn fmt_reassignment(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Event::Reassignment { tp, replicas, adding, removing, isr } = self else { return Ok(()) };
        write!(f, "{tp} replicas {replicas:?} isr {isr:?}")?;
        if adding.is_empty() && removing.is_empty() {
            write!(f, " (reassignment done)")
        } else {
            write!(f, " reassigning: adding {adding:?} removing {removing:?}")
        }
    }

    /// A transaction's state or marker, as the trace prints it.
    fn fmt_transaction(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::TransactionState { transactional_id, producer_id, producer_epoch, state, partitions } => {
                write!(
                    f,
                    "transaction {transactional_id} {state} (producer {producer_id} epoch {producer_epoch}, {partitions} partitions)"
                )
            }
            Event::TransactionMarker { tp, producer_id, commit, offset } => write!(
                f,
                "{tp}@{offset} {} marker for producer {producer_id}",
                if *commit { "COMMIT" } else { "ABORT" }
            ),
            _ => Ok(()),
        }
    }

    /// A broker's registration changing (added, registered, fenced, leaving, unregistered), or
    /// a controller taking office, as the trace prints it.
    fn fmt_registration(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Fenced { broker } => write!(f, "broker-{broker} fenced"),
            Event::Unfenced { broker, incarnation } => {
                write!(f, "broker-{broker} registered (incarnation {incarnation})")
            }
            Event::BrokerLeaving { broker, moving } => {
                write!(f, "broker-{broker} leaving: {moving} partitions move off it")
            }
            Event::BrokerUnregistered { broker } => {
                write!(f, "broker-{broker} unregistered: it left the cluster")
            }
            Event::BrokerAdded { broker } => write!(f, "broker-{broker} added to the cluster"),
            Event::ControllerActivated { controller, epoch } => {
                write!(f, "controller-{controller} active (quorum epoch {epoch})")
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::TransactionState { .. } | Event::TransactionMarker { .. } => self.fmt_transaction(f),
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
            Event::Reassignment { .. } => self.fmt_reassignment(f),
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
            Event::Fenced { .. } | Event::Unfenced { .. } | Event::BrokerAdded { .. } => {
                self.fmt_registration(f)
            }
            Event::BrokerLeaving { .. }
            | Event::BrokerUnregistered { .. }
            | Event::ControllerActivated { .. } => self.fmt_registration(f),
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
    /// Each event with the virtual time (ms) it happened at, in the order pushed.
    pub events: Vec<(i64, Event)>,
    /// Keep `MessageDropped` events (noisy; off by default).
    pub record_drops: bool,
}

impl Trace {
    /// Records `event` at `now_ms`; a `MessageDropped` only when `record_drops` is on.
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
