//! The group coordinator (Kafka's classic-protocol `GroupCoordinator`): for the
//! `__consumer_offsets` partitions its broker leads, it runs each group's membership — JoinGroup
//! (MEMBER_ID_REQUIRED first), generations, the leader member, SyncGroup, Heartbeat, LeaveGroup,
//! session and rebalance timeouts — through the states Empty, PreparingRebalance,
//! CompletingRebalance, Stable and Dead, and keeps committed offsets. What must survive (offset
//! commits, each generation's assignment, deletions) is written as `__consumer_offsets` records;
//! a coordinator that takes a partition over rebuilds its groups from them.
//!
//! Sans-IO: requests come in with the time; replies, log writes and trace events go out. The host
//! appends each write to the offsets partition and reports when it is replicated (or failed).

use std::collections::{BTreeMap, BTreeSet};

use super::coordinator_partition;
use super::offsets_topic::{
    ConsumerAssignment, GroupMetadataValue, MemberMetadata, OffsetCommitValue, OffsetsKey,
};
use crate::error::ErrorCode;
use crate::ids::{NodeId, TopicPartition};
use crate::trace::{Event, Trace};

/// Kafka's `group.min.session.timeout.ms` default.
pub const GROUP_MIN_SESSION_TIMEOUT_MS: i32 = 6_000;
/// Kafka's `group.max.session.timeout.ms` default.
pub const GROUP_MAX_SESSION_TIMEOUT_MS: i32 = 1_800_000;
/// Kafka's `group.initial.rebalance.delay.ms` default: a new group waits this long for more
/// members before its first generation.
pub const GROUP_INITIAL_REBALANCE_DELAY_MS: i64 = 3_000;
/// Kafka's `offsets.topic.num.partitions` default.
pub const OFFSETS_TOPIC_PARTITIONS: i32 = 50;
/// The offsets topic's name.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";
/// Kite's bound on members per group (Kafka's `group.max.size` is unbounded by default; a
/// bound keeps one client from growing the coordinator without limit).
pub const GROUP_MAX_MEMBERS: usize = 10_000;
/// Kafka's `offsets.retention.minutes` default (7 days), in milliseconds: an empty group's
/// offsets expire this long after it became empty (or after their commit, if later).
pub const OFFSETS_RETENTION_MS: i64 = 7 * 24 * 60 * 60 * 1_000;
/// Kafka's `offsets.retention.check.interval.ms` default.
pub const OFFSETS_RETENTION_CHECK_INTERVAL_MS: i64 = 600_000;
/// The longest group id accepted, in bytes (it becomes part of record keys).
pub const MAX_GROUP_ID_BYTES: usize = 249;

/// A group coordinator's settings (Kafka's `group.*` and `offsets.topic.*` broker configs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// `group.min.session.timeout.ms`: a JoinGroup asking for a shorter session (ms) gets
    /// INVALID_SESSION_TIMEOUT.
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms`: a JoinGroup asking for a longer session (ms) gets
    /// INVALID_SESSION_TIMEOUT.
    pub max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms`: how long (ms) a rebalance out of Empty waits for more
    /// members; 0 for no wait.
    pub initial_rebalance_delay_ms: i64,
    /// `offsets.topic.num.partitions`: how many `__consumer_offsets` partitions the group ids
    /// are spread over.
    pub offsets_partitions: i32,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            min_session_timeout_ms: GROUP_MIN_SESSION_TIMEOUT_MS,
            max_session_timeout_ms: GROUP_MAX_SESSION_TIMEOUT_MS,
            initial_rebalance_delay_ms: GROUP_INITIAL_REBALANCE_DELAY_MS,
            offsets_partitions: OFFSETS_TOPIC_PARTITIONS,
        }
    }
}

/// A classic consumer group's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupState {
    /// No members; committed offsets may remain (they expire after `offsets.retention.minutes`).
    Empty,
    /// A rebalance is under way: members must rejoin (heartbeats answer REBALANCE_IN_PROGRESS)
    /// until all have or the rebalance timeout passes.
    PreparingRebalance,
    /// Everyone rejoined and got the new generation; the group waits for the leader's
    /// SyncGroup and for the assignment to be stored.
    CompletingRebalance,
    /// The generation's assignment is stored and handed out; members heartbeat.
    Stable,
    /// Being deleted (its tombstones are being written). DescribeGroups also reports a group
    /// the coordinator does not hold as Dead.
    Dead,
}

impl GroupState {
    /// Kafka's name for the state, as `kafka-consumer-groups --describe --state` prints it.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A JoinGroup request: a consumer asking to be a member of the group's next generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroup {
    /// The group id.
    pub group: String,
    /// Empty for a member's first join.
    pub member_id: String,
    /// The consumer's `client.id`; it starts the member id the coordinator hands out.
    pub client_id: String,
    /// The consumer's host, as DescribeGroups shows it.
    pub client_host: String,
    /// The consumer's `session.timeout.ms`: the coordinator removes the member after this long
    /// (ms) without a heartbeat.
    pub session_timeout_ms: i32,
    /// The consumer's `max.poll.interval.ms`: how long the join phase waits for it.
    pub rebalance_timeout_ms: i32,
    /// `consumer` for consumer groups; every member of a group must use the same.
    pub protocol_type: String,
    /// (assignor name, subscription bytes), in the member's order of preference.
    pub protocols: Vec<(String, Vec<u8>)>,
}

/// A request to a group coordinator, as a `Group` message carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupRequest {
    /// JoinGroup: take part in the group's next generation.
    Join(JoinGroup),
    /// SyncGroup: a member of a new generation asks for its assignment; the leader's request
    /// carries everyone's.
    Sync {
        /// The group id.
        group: String,
        /// The generation the member joined.
        generation: i32,
        /// The member's id.
        member_id: String,
        /// From the leader: (member id, consumer protocol assignment bytes) for each member;
        /// empty from the others.
        assignments: Vec<(String, Vec<u8>)>,
    },
    /// Heartbeat: the member is alive. An answer of REBALANCE_IN_PROGRESS tells it to rejoin.
    Heartbeat {
        /// The group id.
        group: String,
        /// The generation the member holds.
        generation: i32,
        /// The member's id.
        member_id: String,
    },
    /// LeaveGroup: the member leaves at once, without waiting for its session to expire; the
    /// group rebalances.
    Leave {
        /// The group id.
        group: String,
        /// The leaving member's id.
        member_id: String,
    },
    /// OffsetCommit: store the offsets in `__consumer_offsets`. `generation` -1 with an empty
    /// member id: a commit from outside the group (a standalone consumer or an admin reset),
    /// allowed only while the group has no members.
    OffsetCommit {
        /// The group id.
        group: String,
        /// The committing member's generation, or -1 from outside the group.
        generation: i32,
        /// The committing member's id, or empty from outside the group.
        member_id: String,
        /// (partition, offset: the next one to read, leader epoch of the last record read or -1,
        /// the client's metadata text, kept and given back by OffsetFetch).
        offsets: Vec<(TopicPartition, i64, i32, String)>,
    },
    /// OffsetFetch: the group's committed offsets.
    OffsetFetch {
        /// The group id.
        group: String,
        /// The partitions asked about; `None`: every partition the group has an offset for.
        partitions: Option<Vec<TopicPartition>>,
    },
    /// ListGroups: the groups of the `__consumer_offsets` partitions this coordinator has
    /// loaded.
    ListGroups,
    /// DescribeGroups for one group.
    Describe {
        /// The group id.
        group: String,
    },
    /// DeleteGroups for one group: only an Empty one; its offsets and metadata get tombstones.
    Delete {
        /// The group id.
        group: String,
    },
}

impl GroupRequest {
    /// The group the request is about; `None` for ListGroups.
    pub fn group(&self) -> Option<&str> {
        match self {
            GroupRequest::Join(j) => Some(&j.group),
            GroupRequest::Sync { group, .. }
            | GroupRequest::Heartbeat { group, .. }
            | GroupRequest::Leave { group, .. }
            | GroupRequest::OffsetCommit { group, .. }
            | GroupRequest::OffsetFetch { group, .. }
            | GroupRequest::Describe { group }
            | GroupRequest::Delete { group } => Some(group),
            GroupRequest::ListGroups => None,
        }
    }
}

/// A successful JoinGroup: the generation the member is now in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinResponse {
    /// The new generation id.
    pub generation: i32,
    /// The assignor the group chose: one every member supports, by the members' votes.
    pub protocol: Option<String>,
    /// The leader member's id: it runs the assignor and sends every assignment in SyncGroup.
    pub leader: String,
    /// This member's id.
    pub member_id: String,
    /// For the leader only: every member and its subscription for the chosen protocol.
    pub members: Vec<(String, Vec<u8>)>,
}

/// One member as DescribeGroups shows it (`kafka-consumer-groups --describe --members`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberDescription {
    /// The id the coordinator gave it (CONSUMER-ID).
    pub member_id: String,
    /// The consumer's `client.id` (CLIENT-ID).
    pub client_id: String,
    /// The consumer's host (HOST).
    pub client_host: String,
    /// Decoded from the consumer protocol assignment.
    pub assignment: Vec<(String, i32)>,
    /// Its subscription for the group's protocol, as it sent it (DescribeGroups' member metadata).
    pub metadata: Vec<u8>,
    /// Its assignment as the leader sent it (DescribeGroups' member assignment).
    pub raw_assignment: Vec<u8>,
}

/// A group as DescribeGroups returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group: String,
    /// Its state; Dead for a group the coordinator does not hold.
    pub state: GroupState,
    /// `consumer` for consumer groups; empty before any member joined.
    pub protocol_type: String,
    /// The current generation's assignor; empty when there is none.
    pub protocol: String,
    /// The current generation id; -1 for a group the coordinator does not hold.
    pub generation: i32,
    /// The current members.
    pub members: Vec<MemberDescription>,
}

/// A group coordinator's answer, one variant per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupResponse {
    /// `Err((MEMBER_ID_REQUIRED, id))` hands a new member its id; other errors carry `""`.
    Join(Result<JoinResponse, (ErrorCode, String)>),
    /// The member's assignment (consumer protocol bytes, empty for none), or why not
    /// (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, …).
    Sync(Result<Vec<u8>, ErrorCode>),
    /// Ok, or REBALANCE_IN_PROGRESS (rejoin), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, …
    Heartbeat(Result<(), ErrorCode>),
    /// Ok, or UNKNOWN_MEMBER_ID.
    Leave(Result<(), ErrorCode>),
    /// Ok once the offsets are replicated in `__consumer_offsets`, or why not.
    OffsetCommit(Result<(), ErrorCode>),
    /// Each partition's committed offset, -1 for none.
    OffsetFetch(Result<Vec<(TopicPartition, i64)>, ErrorCode>),
    /// (group, state, protocol type).
    ListGroups(Vec<(String, GroupState, String)>),
    /// The group's description; one the coordinator does not hold is described as Dead.
    Describe(Result<GroupDescription, ErrorCode>),
    /// Ok once the tombstones are replicated; GROUP_ID_NOT_FOUND, or NON_EMPTY_GROUP unless the
    /// group is Empty.
    Delete(Result<(), ErrorCode>),
}

/// A reply to a client's request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The client that sent the request.
    pub to: NodeId,
    /// The request's correlation, echoed.
    pub correlation: u64,
    /// The answer.
    pub response: GroupResponse,
}

/// Records to append to `__consumer_offsets` partition `partition`; the host reports the outcome
/// with `write_completed(id, …)` once the high watermark passes them (or the append fails).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetsWrite {
    /// Names this write when the host reports on it.
    pub id: u64,
    /// The `__consumer_offsets` partition to append to.
    pub partition: i32,
    /// (key, value) records in order; a `None` value is a tombstone.
    pub records: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What the coordinator asks of its host.
#[derive(Debug, Default)]
pub struct CoordinatorOutput {
    /// Answers to send to clients now.
    pub replies: Vec<Reply>,
    /// Records to append to `__consumer_offsets`; what waits on them is answered once the host
    /// reports each write.
    pub writes: Vec<OffsetsWrite>,
}

type Waiter = (NodeId, u64);

#[derive(Clone, Debug)]
struct Member {
    client_id: String,
    client_host: String,
    session_timeout_ms: i32,
    rebalance_timeout_ms: i32,
    protocols: Vec<(String, Vec<u8>)>,
    assignment: Vec<u8>,
    awaiting_join: Option<Waiter>,
    awaiting_sync: Option<Waiter>,
    last_heartbeat_ms: i64,
}

#[derive(Clone, Debug)]
struct Group {
    partition: i32,
    state: GroupState,
    protocol_type: Option<String>,
    protocol: Option<String>,
    generation: i32,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    /// Ids handed out with MEMBER_ID_REQUIRED, with when: the member must join with it within
    /// its session timeout.
    pending_members: BTreeMap<String, (i64, i32)>,
    /// When the join phase ends even if not every member has rejoined.
    join_deadline_ms: Option<i64>,
    /// The join phase never runs past this (the initial delay keeps extending).
    join_hard_deadline_ms: Option<i64>,
    /// This rebalance started from Empty: it waits `group.initial.rebalance.delay.ms` for more
    /// members even when everyone known has joined (Kafka's InitialDelayedJoin).
    initial_delay: bool,
    offsets: BTreeMap<TopicPartition, OffsetCommitValue>,
    state_timestamp_ms: i64,
}

impl Group {
    fn new(partition: i32, now_ms: i64) -> Group {
        Group {
            partition,
            state: GroupState::Empty,
            protocol_type: None,
            protocol: None,
            generation: 0,
            leader: None,
            members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            join_deadline_ms: None,
            join_hard_deadline_ms: None,
            initial_delay: false,
            offsets: BTreeMap::new(),
            state_timestamp_ms: now_ms,
        }
    }

    /// Kafka's protocol selection: the protocols every member supports; each member votes for
    /// the first of them in its own order; the most votes win (ties to the earliest candidate).
    fn select_protocol(&self) -> Option<String> {
        let mut candidates: Option<Vec<String>> = None;
        for member in self.members.values() {
            let names: Vec<String> = member.protocols.iter().map(|(n, _)| n.clone()).collect();
            candidates = Some(match candidates {
                None => names,
                Some(c) => c.into_iter().filter(|n| names.contains(n)).collect(),
            });
        }
        let candidates = candidates?;
        let mut votes: Vec<(usize, &String)> = candidates.iter().map(|c| (0, c)).collect();
        for member in self.members.values() {
            if let Some((name, _)) = member.protocols.iter().find(|(n, _)| candidates.contains(n))
                && let Some(vote) = votes.iter_mut().find(|(_, c)| *c == name)
            {
                vote.0 += 1;
            }
        }
        let best = votes.iter().map(|(n, _)| *n).max()?;
        votes.into_iter().find(|(n, _)| *n == best).map(|(_, c)| c.clone())
    }

    /// Does a joining member's protocol list fit the group (same type, a protocol in common)?
    fn supports(&self, join: &JoinGroup) -> bool {
        if join.protocols.is_empty() || self.protocol_type.as_ref().is_some_and(|t| *t != join.protocol_type)
        {
            return false;
        }
        let others: Vec<&Member> =
            self.members.iter().filter(|(id, _)| **id != join.member_id).map(|(_, m)| m).collect();
        join.protocols
            .iter()
            .any(|(name, _)| others.iter().all(|m| m.protocols.iter().any(|(n, _)| n == name)))
    }

    fn all_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    fn metadata_value(&self, now_ms: i64) -> GroupMetadataValue {
        let protocol = self.protocol.clone();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            protocol: protocol.clone(),
            leader: self.leader.clone(),
            current_state_timestamp: now_ms,
            members: self
                .members
                .iter()
                .map(|(id, m)| MemberMetadata {
                    member_id: id.clone(),
                    group_instance_id: None,
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: m
                        .protocols
                        .iter()
                        .find(|(n, _)| Some(n) == protocol.as_ref())
                        .map(|(_, s)| s.clone())
                        .unwrap_or_default(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug)]
enum PendingWrite {
    Commit {
        group: String,
        reply: Waiter,
        offsets: Vec<(TopicPartition, OffsetCommitValue)>,
    },
    /// The leader's assignment for `generation`; answers the syncs waiting on it.
    Assignment {
        group: String,
        generation: i32,
    },
    /// A group's metadata (it became Empty): nothing waits on it.
    Metadata,
    Delete {
        group: String,
        reply: Waiter,
    },
    /// Expired offsets (and, with `remove`, the whole empty group) tombstoned.
    Expire {
        group: String,
        offsets: Vec<TopicPartition>,
        remove: bool,
    },
}

impl PendingWrite {
    /// The group the write is for (none for a group's routine metadata record).
    fn group(&self) -> Option<&str> {
        match self {
            PendingWrite::Commit { group, .. }
            | PendingWrite::Assignment { group, .. }
            | PendingWrite::Delete { group, .. }
            | PendingWrite::Expire { group, .. } => Some(group),
            PendingWrite::Metadata => None,
        }
    }
}

/// One broker's group coordinator.
pub struct GroupCoordinator {
    /// The broker it runs on; its id is part of every member id it hands out.
    pub broker: i32,
    /// Its settings.
    pub config: CoordinatorConfig,
    groups: BTreeMap<String, Group>,
    /// The offsets partitions this coordinator leads and has loaded.
    loaded: BTreeSet<i32>,
    pending: BTreeMap<u64, PendingWrite>,
    next_write: u64,
    next_member: u64,
    last_cleanup_ms: Option<i64>,
}

fn reply(out: &mut CoordinatorOutput, to: Waiter, response: GroupResponse) {
    out.replies.push(Reply { to: to.0, correlation: to.1, response });
}

impl GroupCoordinator {
    /// A coordinator on `broker` that has loaded no `__consumer_offsets` partition yet, and so
    /// coordinates no group.
    pub fn new(broker: i32, config: CoordinatorConfig) -> GroupCoordinator {
        GroupCoordinator {
            broker,
            config,
            groups: BTreeMap::new(),
            loaded: BTreeSet::new(),
            pending: BTreeMap::new(),
            next_write: 0,
            next_member: 0,
            last_cleanup_ms: None,
        }
    }

    /// Does this coordinator currently own `group`'s offsets partition?
    pub fn owns(&self, group: &str) -> bool {
        self.loaded.contains(&coordinator_partition(group, self.config.offsets_partitions))
    }

    /// The `__consumer_offsets` partitions it has loaded: it coordinates their groups.
    pub fn loaded_partitions(&self) -> &BTreeSet<i32> {
        &self.loaded
    }

    /// Becomes coordinator for `partition`: rebuilds its groups from the partition's records
    /// (key, value) in offset order — the last record for a key wins; a null value deletes.
    /// Members get a fresh session from now (Kafka does the same after a load).
    pub fn load(
        &mut self,
        now_ms: i64,
        partition: i32,
        records: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>,
        trace: &mut Trace,
    ) {
        self.groups.retain(|_, g| g.partition != partition);
        let mut offsets: BTreeMap<(String, TopicPartition), OffsetCommitValue> = BTreeMap::new();
        let mut metadata: BTreeMap<String, GroupMetadataValue> = BTreeMap::new();
        for (key, value) in records {
            // A record that does not decode is skipped (Kafka logs and skips it too).
            let Ok(key) = OffsetsKey::decode(&key) else { continue };
            match key {
                OffsetsKey::OffsetCommit { group, topic, partition: p } => {
                    let tp = TopicPartition { topic, partition: p };
                    match value.as_deref().map(OffsetCommitValue::decode) {
                        Some(Ok(v)) => {
                            offsets.insert((group, tp), v);
                        }
                        None => {
                            offsets.remove(&(group, tp));
                        }
                        Some(Err(_)) => {}
                    }
                }
                OffsetsKey::GroupMetadata { group } => match value.as_deref().map(GroupMetadataValue::decode)
                {
                    Some(Ok(v)) => {
                        metadata.insert(group, v);
                    }
                    None => {
                        metadata.remove(&group);
                        offsets.retain(|(g, _), _| *g != group);
                    }
                    Some(Err(_)) => {}
                },
            }
        }
        let offset_count = offsets.len();
        for (group_id, value) in metadata {
            let mut group = Group::new(partition, now_ms);
            group.generation = value.generation;
            group.protocol_type = Some(value.protocol_type).filter(|t| !t.is_empty());
            group.protocol = value.protocol;
            group.leader = value.leader;
            for m in value.members {
                let protocol = group.protocol.clone().unwrap_or_default();
                group.members.insert(
                    m.member_id,
                    Member {
                        client_id: m.client_id,
                        client_host: m.client_host,
                        session_timeout_ms: m.session_timeout_ms,
                        rebalance_timeout_ms: m.rebalance_timeout_ms,
                        protocols: vec![(protocol, m.subscription)],
                        assignment: m.assignment,
                        awaiting_join: None,
                        awaiting_sync: None,
                        last_heartbeat_ms: now_ms,
                    },
                );
            }
            group.state = if group.members.is_empty() { GroupState::Empty } else { GroupState::Stable };
            self.groups.insert(group_id, group);
        }
        for ((group_id, tp), value) in offsets {
            self.groups
                .entry(group_id)
                .or_insert_with(|| Group::new(partition, now_ms))
                .offsets
                .insert(tp, value);
        }
        self.loaded.insert(partition);
        let groups = self.groups.values().filter(|g| g.partition == partition).count();
        trace.push(
            now_ms,
            Event::GroupsLoaded { broker: self.broker, partition, groups, offsets: offset_count },
        );
    }

    /// An offset a transaction committed for `group` (its COMMIT marker reached the group's
    /// partition): the group's committed offset from now on, with no write (the record is in
    /// the log already).
    pub fn apply_committed(
        &mut self,
        now_ms: i64,
        group_id: &str,
        tp: TopicPartition,
        value: OffsetCommitValue,
    ) {
        let partition = coordinator_partition(group_id, self.config.offsets_partitions);
        let group = self.groups.entry(group_id.to_string()).or_insert_with(|| Group::new(partition, now_ms));
        group.offsets.insert(tp, value);
    }

    /// Stops coordinating `partition` (another broker leads it now): its groups are dropped and
    /// everything waiting on them is told NOT_COORDINATOR.
    pub fn unload(&mut self, now_ms: i64, partition: i32, out: &mut CoordinatorOutput, trace: &mut Trace) {
        if !self.loaded.remove(&partition) {
            return;
        }
        let dropped: Vec<String> =
            self.groups.iter().filter(|(_, g)| g.partition == partition).map(|(id, _)| id.clone()).collect();
        for id in &dropped {
            if let Some(group) = self.groups.remove(id) {
                for member in group.members.into_values() {
                    if let Some(w) = member.awaiting_join {
                        reply(out, w, GroupResponse::Join(Err((ErrorCode::NotCoordinator, String::new()))));
                    }
                    if let Some(w) = member.awaiting_sync {
                        reply(out, w, GroupResponse::Sync(Err(ErrorCode::NotCoordinator)));
                    }
                }
            }
        }
        let writes: Vec<u64> = self.pending.keys().copied().collect();
        for id in writes {
            let group_partition = self.pending[&id]
                .group()
                .map_or(partition, |group| coordinator_partition(group, self.config.offsets_partitions));
            if group_partition == partition {
                self.write_completed(now_ms, id, Err(ErrorCode::NotCoordinator), out, trace);
            }
        }
        trace.push(now_ms, Event::GroupsUnloaded { broker: self.broker, partition });
    }

    fn write(
        &mut self,
        partition: i32,
        records: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        pending: PendingWrite,
        out: &mut CoordinatorOutput,
    ) {
        self.next_write += 1;
        self.pending.insert(self.next_write, pending);
        out.writes.push(OffsetsWrite { id: self.next_write, partition, records });
    }

    /// A client's request.
    pub fn handle(
        &mut self,
        now_ms: i64,
        from: NodeId,
        correlation: u64,
        request: GroupRequest,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let waiter = (from, correlation);
        if let Some(group) = request.group()
            && !self.owns(group)
        {
            let error = ErrorCode::NotCoordinator;
            let response = match request {
                GroupRequest::Join(_) => GroupResponse::Join(Err((error, String::new()))),
                GroupRequest::Sync { .. } => GroupResponse::Sync(Err(error)),
                GroupRequest::Heartbeat { .. } => GroupResponse::Heartbeat(Err(error)),
                GroupRequest::Leave { .. } => GroupResponse::Leave(Err(error)),
                GroupRequest::OffsetCommit { .. } => GroupResponse::OffsetCommit(Err(error)),
                GroupRequest::OffsetFetch { .. } => GroupResponse::OffsetFetch(Err(error)),
                GroupRequest::Describe { .. } => GroupResponse::Describe(Err(error)),
                GroupRequest::Delete { .. } => GroupResponse::Delete(Err(error)),
                GroupRequest::ListGroups => GroupResponse::ListGroups(Vec::new()),
            };
            return reply(out, waiter, response);
        }
        let touched = match &request {
            GroupRequest::Join(join) => Some(join.group.clone()),
            GroupRequest::OffsetCommit { group, .. } => Some(group.clone()),
            _ => None,
        };
        self.dispatch(now_ms, waiter, request, out, trace);
        if let Some(group) = touched {
            self.forget_if_unused(&group);
        }
    }

    /// A refused join or commit leaves no group behind: one that never had a member, a pending
    /// member, an offset or a write is forgotten.
    fn forget_if_unused(&mut self, group_id: &str) {
        let pending = self.pending.values().any(|p| p.group() == Some(group_id));
        let unused = self.groups.get(group_id).is_some_and(|g| {
            g.state == GroupState::Empty
                && g.generation == 0
                && g.members.is_empty()
                && g.pending_members.is_empty()
                && g.offsets.is_empty()
        });
        if unused && !pending {
            self.groups.remove(group_id);
        }
    }

    fn dispatch(
        &mut self,
        now_ms: i64,
        waiter: Waiter,
        request: GroupRequest,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        match request {
            GroupRequest::Join(join) => self.join(now_ms, waiter, join, out, trace),
            GroupRequest::Sync { group, generation, member_id, assignments } => {
                self.sync(now_ms, waiter, &group, generation, &member_id, assignments, out, trace)
            }
            GroupRequest::Heartbeat { group, generation, member_id } => {
                let result = self.heartbeat(now_ms, &group, generation, &member_id);
                reply(out, waiter, GroupResponse::Heartbeat(result));
            }
            GroupRequest::Leave { group, member_id } => {
                let result = match self.groups.get(&group) {
                    Some(g) if g.members.contains_key(&member_id) => {
                        self.remove_member(now_ms, &group, &member_id, "left the group", out, trace);
                        Ok(())
                    }
                    _ => Err(ErrorCode::UnknownMemberId),
                };
                reply(out, waiter, GroupResponse::Leave(result));
            }
            GroupRequest::OffsetCommit { group, generation, member_id, offsets } => {
                self.commit(now_ms, waiter, group, generation, &member_id, offsets, out)
            }
            GroupRequest::OffsetFetch { group, partitions } => {
                let committed = self.groups.get(&group).map(|g| &g.offsets);
                let list = match partitions {
                    Some(list) => list
                        .into_iter()
                        .map(|tp| {
                            let offset = committed.and_then(|c| c.get(&tp)).map_or(-1, |v| v.offset);
                            (tp, offset)
                        })
                        .collect(),
                    None => committed.into_iter().flatten().map(|(tp, v)| (tp.clone(), v.offset)).collect(),
                };
                reply(out, waiter, GroupResponse::OffsetFetch(Ok(list)));
            }
            GroupRequest::ListGroups => {
                let list = self
                    .groups
                    .iter()
                    .filter(|(_, g)| self.loaded.contains(&g.partition))
                    .map(|(id, g)| (id.clone(), g.state, g.protocol_type.clone().unwrap_or_default()))
                    .collect();
                reply(out, waiter, GroupResponse::ListGroups(list));
            }
            GroupRequest::Describe { group } => {
                let response = match self.describe(&group) {
                    Some(d) => Ok(d),
                    None => Ok(GroupDescription {
                        group,
                        state: GroupState::Dead,
                        protocol_type: String::new(),
                        protocol: String::new(),
                        generation: -1,
                        members: Vec::new(),
                    }),
                };
                reply(out, waiter, GroupResponse::Describe(response));
            }
            GroupRequest::Delete { group } => {
                let Some(g) = self.groups.get_mut(&group) else {
                    return reply(out, waiter, GroupResponse::Delete(Err(ErrorCode::GroupIdNotFound)));
                };
                if g.state != GroupState::Empty {
                    return reply(out, waiter, GroupResponse::Delete(Err(ErrorCode::NonEmptyGroup)));
                }
                g.state = GroupState::Dead;
                let partition = g.partition;
                let mut records: Vec<(Vec<u8>, Option<Vec<u8>>)> = g
                    .offsets
                    .keys()
                    .map(|tp| {
                        let key = OffsetsKey::OffsetCommit {
                            group: group.clone(),
                            topic: tp.topic.clone(),
                            partition: tp.partition,
                        };
                        (key.encode(), None)
                    })
                    .collect();
                records.push((OffsetsKey::GroupMetadata { group: group.clone() }.encode(), None));
                self.write(partition, records, PendingWrite::Delete { group, reply: waiter }, out);
            }
        }
    }

    fn join(
        &mut self,
        now_ms: i64,
        waiter: Waiter,
        join: JoinGroup,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let fail = |out: &mut CoordinatorOutput, error: ErrorCode| {
            reply(out, waiter, GroupResponse::Join(Err((error, String::new()))));
        };
        if join.group.is_empty() || join.group.len() > MAX_GROUP_ID_BYTES {
            return fail(out, ErrorCode::InvalidGroupId);
        }
        if join.session_timeout_ms < self.config.min_session_timeout_ms
            || join.session_timeout_ms > self.config.max_session_timeout_ms
        {
            return fail(out, ErrorCode::InvalidSessionTimeout);
        }
        let partition = coordinator_partition(&join.group, self.config.offsets_partitions);
        let group = self.groups.entry(join.group.clone()).or_insert_with(|| Group::new(partition, now_ms));
        if group.state == GroupState::Dead {
            return fail(out, ErrorCode::CoordinatorNotAvailable);
        }
        if !group.supports(&join) {
            return fail(out, ErrorCode::InconsistentGroupProtocol);
        }
        if join.member_id.is_empty() {
            if group.members.len() + group.pending_members.len() >= GROUP_MAX_MEMBERS {
                return fail(out, ErrorCode::GroupMaxSizeReached);
            }
            // KIP-394: a new member first gets its id, and must join again with it.
            self.next_member += 1;
            let id = format!("{}-{}-{}", join.client_id, self.broker, self.next_member);
            group.pending_members.insert(id.clone(), (now_ms, join.session_timeout_ms));
            return reply(out, waiter, GroupResponse::Join(Err((ErrorCode::MemberIdRequired, id))));
        }
        let known = group.members.contains_key(&join.member_id);
        if !known && group.pending_members.remove(&join.member_id).is_none() {
            return fail(out, ErrorCode::UnknownMemberId);
        }
        let member = Member {
            client_id: join.client_id.clone(),
            client_host: join.client_host.clone(),
            session_timeout_ms: join.session_timeout_ms,
            rebalance_timeout_ms: join.rebalance_timeout_ms,
            protocols: join.protocols.clone(),
            assignment: Vec::new(),
            awaiting_join: Some(waiter),
            awaiting_sync: None,
            last_heartbeat_ms: now_ms,
        };
        if !known {
            group.protocol_type.get_or_insert(join.protocol_type.clone());
            group.members.insert(join.member_id.clone(), member);
            let reason = format!("{} joined", join.member_id);
            return self.prepare_rebalance(now_ms, &join.group, reason, out, trace);
        }
        let state = group.state;
        let existing = group.members.get_mut(&join.member_id).expect("known member");
        let same_metadata = existing.protocols == join.protocols;
        let is_leader = group.leader.as_deref() == Some(join.member_id.as_str());
        match state {
            GroupState::PreparingRebalance => {
                // A replaced request gets nothing back (its client gave up on it).
                *existing = Member { assignment: existing.assignment.clone(), ..member };
                self.maybe_complete_join(now_ms, &join.group, out, trace);
            }
            GroupState::CompletingRebalance | GroupState::Stable if same_metadata && !is_leader => {
                // Nothing changed: the member just gets the current generation again.
                existing.last_heartbeat_ms = now_ms;
                let response = JoinResponse {
                    generation: group.generation,
                    protocol: group.protocol.clone(),
                    leader: group.leader.clone().unwrap_or_default(),
                    member_id: join.member_id.clone(),
                    members: Vec::new(),
                };
                reply(out, waiter, GroupResponse::Join(Ok(response)));
            }
            _ => {
                *existing = Member { assignment: existing.assignment.clone(), ..member };
                let reason = format!("{} rejoined", join.member_id);
                self.prepare_rebalance(now_ms, &join.group, reason, out, trace);
            }
        }
    }

    fn prepare_rebalance(
        &mut self,
        now_ms: i64,
        group_id: &str,
        reason: String,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let delay = self.config.initial_rebalance_delay_ms;
        let Some(group) = self.groups.get_mut(group_id) else { return };
        let max_rebalance =
            group.members.values().map(|m| i64::from(m.rebalance_timeout_ms)).max().unwrap_or(0);
        match group.state {
            GroupState::PreparingRebalance => {
                // A new member during the initial delay extends it (bounded).
                if let (Some(deadline), Some(hard)) = (group.join_deadline_ms, group.join_hard_deadline_ms)
                    && group.initial_delay
                {
                    group.join_deadline_ms = Some((now_ms + delay).min(hard).max(deadline));
                }
            }
            GroupState::Dead => return,
            previous => {
                // A sync still waiting (CompletingRebalance) is told to rejoin.
                for member in group.members.values_mut() {
                    if let Some(w) = member.awaiting_sync.take() {
                        reply(out, w, GroupResponse::Sync(Err(ErrorCode::RebalanceInProgress)));
                    }
                }
                group.state = GroupState::PreparingRebalance;
                group.state_timestamp_ms = now_ms;
                group.initial_delay = previous == GroupState::Empty && delay > 0;
                if group.initial_delay {
                    group.join_deadline_ms = Some(now_ms + delay);
                    group.join_hard_deadline_ms = Some(now_ms + max_rebalance.max(delay));
                } else {
                    group.join_deadline_ms = Some(now_ms + max_rebalance);
                    group.join_hard_deadline_ms = Some(now_ms + max_rebalance);
                }
                trace.push(now_ms, Event::GroupPreparing { group: group_id.to_string(), reason });
            }
        }
        self.maybe_complete_join(now_ms, group_id, out, trace);
    }

    /// Ends the join phase when every member has rejoined (not during the initial
    /// delay) or its deadline passed (members that did not rejoin are removed).
    fn maybe_complete_join(
        &mut self,
        now_ms: i64,
        group_id: &str,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.state != GroupState::PreparingRebalance {
            return;
        }
        let expired = group.join_deadline_ms.is_some_and(|d| now_ms >= d);
        let delaying = group.initial_delay;
        if !(expired || (group.all_joined() && !delaying)) {
            return;
        }
        let stragglers: Vec<String> = group
            .members
            .iter()
            .filter(|(_, m)| m.awaiting_join.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in stragglers {
            group.members.remove(&id);
            trace.push(
                now_ms,
                Event::GroupMemberRemoved {
                    group: group_id.into(),
                    member: id,
                    reason: "did not rejoin in time",
                },
            );
        }
        group.pending_members.clear();
        group.initial_delay = false;
        group.join_deadline_ms = None;
        group.join_hard_deadline_ms = None;
        group.generation += 1;
        group.state_timestamp_ms = now_ms;
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.protocol = None;
            group.leader = None;
            trace.push(
                now_ms,
                Event::GroupGeneration {
                    group: group_id.into(),
                    generation: group.generation,
                    protocol: None,
                    leader: None,
                    members: Vec::new(),
                },
            );
            let partition = group.partition;
            let record = (
                OffsetsKey::GroupMetadata { group: group_id.into() }.encode(),
                Some(group.metadata_value(now_ms).encode()),
            );
            return self.write(partition, vec![record], PendingWrite::Metadata, out);
        }
        group.protocol = group.select_protocol();
        if !group.leader.as_ref().is_some_and(|l| group.members.contains_key(l)) {
            group.leader = group.members.keys().next().cloned();
        }
        group.state = GroupState::CompletingRebalance;
        let protocol = group.protocol.clone().unwrap_or_default();
        let leader = group.leader.clone().unwrap_or_default();
        let everyone: Vec<(String, Vec<u8>)> = group
            .members
            .iter()
            .map(|(id, m)| {
                let metadata = m
                    .protocols
                    .iter()
                    .find(|(n, _)| *n == protocol)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default();
                (id.clone(), metadata)
            })
            .collect();
        trace.push(
            now_ms,
            Event::GroupGeneration {
                group: group_id.into(),
                generation: group.generation,
                protocol: group.protocol.clone(),
                leader: group.leader.clone(),
                members: group.members.keys().cloned().collect(),
            },
        );
        for (id, member) in &mut group.members {
            member.last_heartbeat_ms = now_ms;
            let Some(w) = member.awaiting_join.take() else { continue };
            let response = JoinResponse {
                generation: group.generation,
                protocol: group.protocol.clone(),
                leader: leader.clone(),
                member_id: id.clone(),
                members: if *id == leader { everyone.clone() } else { Vec::new() },
            };
            reply(out, w, GroupResponse::Join(Ok(response)));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sync(
        &mut self,
        now_ms: i64,
        waiter: Waiter,
        group_id: &str,
        generation: i32,
        member_id: &str,
        assignments: Vec<(String, Vec<u8>)>,
        out: &mut CoordinatorOutput,
        _trace: &mut Trace,
    ) {
        let fail = |out: &mut CoordinatorOutput, e| reply(out, waiter, GroupResponse::Sync(Err(e)));
        let Some(group) = self.groups.get_mut(group_id) else { return fail(out, ErrorCode::UnknownMemberId) };
        if !group.members.contains_key(member_id) {
            return fail(out, ErrorCode::UnknownMemberId);
        }
        if generation != group.generation {
            return fail(out, ErrorCode::IllegalGeneration);
        }
        match group.state {
            GroupState::Empty | GroupState::Dead => fail(out, ErrorCode::UnknownMemberId),
            GroupState::PreparingRebalance => fail(out, ErrorCode::RebalanceInProgress),
            GroupState::Stable => {
                let assignment = group.members[member_id].assignment.clone();
                reply(out, waiter, GroupResponse::Sync(Ok(assignment)));
            }
            GroupState::CompletingRebalance => {
                let member = group.members.get_mut(member_id).expect("checked above");
                member.awaiting_sync = Some(waiter);
                member.last_heartbeat_ms = now_ms;
                if group.leader.as_deref() != Some(member_id) {
                    return;
                }
                // The leader's assignment: members it left out get an empty one.
                let given: BTreeMap<String, Vec<u8>> = assignments.into_iter().collect();
                for (id, m) in &mut group.members {
                    m.assignment = given.get(id).cloned().unwrap_or_default();
                }
                let partition = group.partition;
                let record = (
                    OffsetsKey::GroupMetadata { group: group_id.into() }.encode(),
                    Some(group.metadata_value(now_ms).encode()),
                );
                let pending = PendingWrite::Assignment { group: group_id.into(), generation };
                self.write(partition, vec![record], pending, out);
            }
        }
    }

    /// Kafka's check of a transactional offset commit's group fields (KIP-447): a producer
    /// outside the group (generation -1) commits to an empty group; otherwise a member id the
    /// group does not have is UNKNOWN_MEMBER_ID and a generation not the group's
    /// ILLEGAL_GENERATION. A group not known yet is created by the commit, as an offset commit
    /// creates one.
    pub fn check_txn_commit(
        &self,
        group_id: &str,
        member_id: &str,
        generation: i32,
    ) -> Result<(), ErrorCode> {
        let Some(group) = self.groups.get(group_id) else { return Ok(()) };
        if group.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        if generation < 0 && group.state == GroupState::Empty {
            return Ok(());
        }
        if !member_id.is_empty() && !group.members.contains_key(member_id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        if generation >= 0 && generation != group.generation {
            return Err(ErrorCode::IllegalGeneration);
        }
        Ok(())
    }

    fn heartbeat(
        &mut self,
        now_ms: i64,
        group_id: &str,
        generation: i32,
        member_id: &str,
    ) -> Result<(), ErrorCode> {
        let group = self.groups.get_mut(group_id).ok_or(ErrorCode::UnknownMemberId)?;
        if group.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        let member = group.members.get_mut(member_id).ok_or(ErrorCode::UnknownMemberId)?;
        if generation != group.generation {
            return Err(ErrorCode::IllegalGeneration);
        }
        member.last_heartbeat_ms = now_ms;
        match group.state {
            GroupState::PreparingRebalance => Err(ErrorCode::RebalanceInProgress),
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        now_ms: i64,
        waiter: Waiter,
        group_id: String,
        generation: i32,
        member_id: &str,
        offsets: Vec<(TopicPartition, i64, i32, String)>,
        out: &mut CoordinatorOutput,
    ) {
        let fail = |out: &mut CoordinatorOutput, e| reply(out, waiter, GroupResponse::OffsetCommit(Err(e)));
        if group_id.is_empty() || group_id.len() > MAX_GROUP_ID_BYTES {
            return fail(out, ErrorCode::InvalidGroupId);
        }
        let partition = coordinator_partition(&group_id, self.config.offsets_partitions);
        let group = self.groups.entry(group_id.clone()).or_insert_with(|| Group::new(partition, now_ms));
        // Kafka's validation: an outside commit (generation < 0) only to an empty group; a
        // member's commit only from a current member of the current generation, not mid-sync.
        if generation < 0 && member_id.is_empty() {
            if group.state != GroupState::Empty {
                return fail(out, ErrorCode::UnknownMemberId);
            }
        } else if group.state == GroupState::CompletingRebalance {
            return fail(out, ErrorCode::RebalanceInProgress);
        } else if !group.members.contains_key(member_id) {
            return fail(out, ErrorCode::UnknownMemberId);
        } else if generation != group.generation {
            return fail(out, ErrorCode::IllegalGeneration);
        }
        if let Some(member) = group.members.get_mut(member_id) {
            member.last_heartbeat_ms = now_ms;
        }
        let values: Vec<(TopicPartition, OffsetCommitValue)> = offsets
            .into_iter()
            .map(|(tp, offset, leader_epoch, metadata)| {
                (tp, OffsetCommitValue { offset, leader_epoch, metadata, commit_timestamp: now_ms })
            })
            .collect();
        let records = values
            .iter()
            .map(|(tp, v)| {
                let key = OffsetsKey::OffsetCommit {
                    group: group_id.clone(),
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                };
                (key.encode(), Some(v.encode()))
            })
            .collect();
        self.write(
            partition,
            records,
            PendingWrite::Commit { group: group_id, reply: waiter, offsets: values },
            out,
        );
    }

    /// The host's report on a write: replicated (`Ok`) or failed with the append's error.
    pub fn write_completed(
        &mut self,
        now_ms: i64,
        id: u64,
        result: Result<(), ErrorCode>,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let Some(pending) = self.pending.remove(&id) else { return };
        // Kafka maps append errors to what a group client understands.
        let result = result.map_err(|e| match e {
            ErrorCode::NotLeaderOrFollower | ErrorCode::NotCoordinator => ErrorCode::NotCoordinator,
            ErrorCode::MessageTooLarge | ErrorCode::InvalidRecord => ErrorCode::InvalidRequest,
            _ => ErrorCode::CoordinatorNotAvailable,
        });
        match pending {
            PendingWrite::Commit { group, reply: waiter, offsets } => {
                if result.is_ok()
                    && let Some(g) = self.groups.get_mut(&group)
                {
                    for (tp, value) in offsets {
                        trace.push(
                            now_ms,
                            Event::OffsetCommitted {
                                group: group.clone(),
                                tp: tp.clone(),
                                offset: value.offset,
                            },
                        );
                        g.offsets.insert(tp, value);
                    }
                }
                reply(out, waiter, GroupResponse::OffsetCommit(result));
            }
            PendingWrite::Assignment { group: group_id, generation } => {
                let Some(group) = self.groups.get_mut(&group_id) else { return };
                if group.generation != generation || group.state != GroupState::CompletingRebalance {
                    return;
                }
                match result {
                    Ok(()) => {
                        group.state = GroupState::Stable;
                        group.state_timestamp_ms = now_ms;
                        for member in group.members.values_mut() {
                            if let Some(w) = member.awaiting_sync.take() {
                                reply(out, w, GroupResponse::Sync(Ok(member.assignment.clone())));
                            }
                        }
                        trace.push(now_ms, Event::GroupStable { group: group_id, generation });
                    }
                    Err(error) => {
                        // The assignment is not stored: everyone waiting is told, and the group
                        // rebalances again.
                        for member in group.members.values_mut() {
                            member.assignment.clear();
                            if let Some(w) = member.awaiting_sync.take() {
                                reply(out, w, GroupResponse::Sync(Err(error)));
                            }
                        }
                        let reason = format!("storing the assignment failed: {}", error.name());
                        self.prepare_rebalance(now_ms, &group_id, reason, out, trace);
                    }
                }
            }
            PendingWrite::Metadata => {}
            PendingWrite::Expire { group, offsets, remove } => {
                if result.is_ok() {
                    if remove {
                        self.groups.remove(&group);
                    } else if let Some(g) = self.groups.get_mut(&group) {
                        for tp in offsets {
                            g.offsets.remove(&tp);
                        }
                    }
                }
            }
            PendingWrite::Delete { group, reply: waiter } => {
                match result {
                    Ok(()) => {
                        self.groups.remove(&group);
                    }
                    Err(_) => {
                        if let Some(g) = self.groups.get_mut(&group) {
                            g.state = GroupState::Empty;
                        }
                    }
                }
                reply(out, waiter, GroupResponse::Delete(result));
            }
        }
    }

    fn remove_member(
        &mut self,
        now_ms: i64,
        group_id: &str,
        member_id: &str,
        reason: &'static str,
        out: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        let Some(member) = group.members.remove(member_id) else { return };
        if let Some(w) = member.awaiting_join {
            reply(out, w, GroupResponse::Join(Err((ErrorCode::UnknownMemberId, String::new()))));
        }
        if let Some(w) = member.awaiting_sync {
            reply(out, w, GroupResponse::Sync(Err(ErrorCode::UnknownMemberId)));
        }
        trace.push(
            now_ms,
            Event::GroupMemberRemoved { group: group_id.into(), member: member_id.into(), reason },
        );
        match group.state {
            GroupState::PreparingRebalance => self.maybe_complete_join(now_ms, group_id, out, trace),
            GroupState::Stable | GroupState::CompletingRebalance => {
                let reason = format!("{member_id} {reason}");
                self.prepare_rebalance(now_ms, group_id, reason, out, trace)
            }
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Timers: expired sessions, expired pending member ids, join phases past their deadline.
    pub fn tick(&mut self, now_ms: i64, out: &mut CoordinatorOutput, trace: &mut Trace) {
        let mut expired = Vec::new();
        let mut joins = Vec::new();
        for (id, group) in &mut self.groups {
            group.pending_members.retain(|_, (since, session)| now_ms - *since < i64::from(*session));
            for (member_id, member) in &group.members {
                // A member waiting in a join is not expected to heartbeat (Kafka likewise).
                let waiting_join =
                    member.awaiting_join.is_some() && group.state == GroupState::PreparingRebalance;
                if !waiting_join && now_ms - member.last_heartbeat_ms >= i64::from(member.session_timeout_ms)
                {
                    expired.push((id.clone(), member_id.clone()));
                }
            }
            if group.state == GroupState::PreparingRebalance {
                joins.push(id.clone());
            }
        }
        for (group, member) in expired {
            self.remove_member(now_ms, &group, &member, "session timed out", out, trace);
        }
        for group in joins {
            self.maybe_complete_join(now_ms, &group, out, trace);
        }
        if self.last_cleanup_ms.is_none_or(|last| now_ms - last >= OFFSETS_RETENTION_CHECK_INTERVAL_MS) {
            self.last_cleanup_ms = Some(now_ms);
            self.expire(now_ms, out);
        }
    }

    /// Kafka's group metadata cleanup: an empty group's offsets expire `OFFSETS_RETENTION_MS`
    /// after it became empty (or after their commit, if later); an empty group left without
    /// offsets is removed. Both by tombstones, applied once written.
    fn expire(&mut self, now_ms: i64, out: &mut CoordinatorOutput) {
        let busy: BTreeSet<String> =
            self.pending.values().filter_map(|p| p.group().map(str::to_string)).collect();
        let mut writes = Vec::new();
        for (id, group) in &self.groups {
            let idle = group.state == GroupState::Empty && group.pending_members.is_empty();
            if !idle || busy.contains(id) || !self.loaded.contains(&group.partition) {
                continue;
            }
            let expired: Vec<TopicPartition> = group
                .offsets
                .iter()
                .filter(|(_, v)| {
                    now_ms - group.state_timestamp_ms.max(v.commit_timestamp) >= OFFSETS_RETENTION_MS
                })
                .map(|(tp, _)| tp.clone())
                .collect();
            let remove = expired.len() == group.offsets.len();
            if expired.is_empty() && !remove {
                continue;
            }
            let mut records: Vec<(Vec<u8>, Option<Vec<u8>>)> = expired
                .iter()
                .map(|tp| {
                    let key = OffsetsKey::OffsetCommit {
                        group: id.clone(),
                        topic: tp.topic.clone(),
                        partition: tp.partition,
                    };
                    (key.encode(), None)
                })
                .collect();
            if remove {
                records.push((OffsetsKey::GroupMetadata { group: id.clone() }.encode(), None));
            }
            writes.push((
                group.partition,
                records,
                PendingWrite::Expire { group: id.clone(), offsets: expired, remove },
            ));
        }
        for (partition, records, pending) in writes {
            self.write(partition, records, pending, out);
        }
    }

    /// DescribeGroups for `group_id`; `None` if this coordinator holds no such group.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        let group = self.groups.get(group_id)?;
        Some(GroupDescription {
            group: group_id.into(),
            state: group.state,
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            protocol: group.protocol.clone().unwrap_or_default(),
            generation: group.generation,
            members: group
                .members
                .iter()
                .map(|(id, m)| MemberDescription {
                    member_id: id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    assignment: ConsumerAssignment::decode(&m.assignment)
                        .map(|a| a.flat())
                        .unwrap_or_default(),
                    metadata: m
                        .protocols
                        .iter()
                        .find(|(name, _)| Some(name) == group.protocol.as_ref())
                        .map(|(_, subscription)| subscription.clone())
                        .unwrap_or_default(),
                    raw_assignment: m.assignment.clone(),
                })
                .collect(),
        })
    }

    /// A group's committed offsets, for describe and lag.
    pub fn committed(&self, group_id: &str) -> Vec<(TopicPartition, i64)> {
        self.groups
            .get(group_id)
            .map_or_else(Vec::new, |g| g.offsets.iter().map(|(tp, v)| (tp.clone(), v.offset)).collect())
    }

    /// A group's committed offsets with everything stored beside them (leader epoch, metadata,
    /// commit time), in partition order.
    pub fn committed_values(&self, group_id: &str) -> Vec<(TopicPartition, OffsetCommitValue)> {
        self.groups
            .get(group_id)
            .map_or_else(Vec::new, |g| g.offsets.iter().map(|(tp, v)| (tp.clone(), v.clone())).collect())
    }

    /// Every group this coordinator holds.
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000;

    struct Harness {
        coordinator: GroupCoordinator,
        trace: Trace,
        /// Every write so far, as the log would hold it.
        log: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        correlation: u64,
    }

    impl Harness {
        fn new() -> Harness {
            let config = CoordinatorConfig {
                initial_rebalance_delay_ms: 0,
                offsets_partitions: 1,
                ..Default::default()
            };
            let mut coordinator = GroupCoordinator::new(0, config);
            let mut trace = Trace::default();
            coordinator.load(T0, 0, Vec::new(), &mut trace);
            Harness { coordinator, trace, log: Vec::new(), correlation: 0 }
        }

        /// Sends a request from `client`; every write succeeds at once. Returns all replies.
        fn send(&mut self, now: i64, client: u32, request: GroupRequest) -> Vec<Reply> {
            self.correlation += 1;
            let mut out = CoordinatorOutput::default();
            self.coordinator.handle(
                now,
                NodeId::Client(client),
                self.correlation,
                request,
                &mut out,
                &mut self.trace,
            );
            self.settle(now, out)
        }

        fn settle(&mut self, now: i64, mut out: CoordinatorOutput) -> Vec<Reply> {
            let mut replies = Vec::new();
            loop {
                replies.append(&mut out.replies);
                let writes = std::mem::take(&mut out.writes);
                if writes.is_empty() {
                    return replies;
                }
                for write in writes {
                    self.log.extend(write.records);
                    self.coordinator.write_completed(now, write.id, Ok(()), &mut out, &mut self.trace);
                }
            }
        }

        fn tick(&mut self, now: i64) -> Vec<Reply> {
            let mut out = CoordinatorOutput::default();
            self.coordinator.tick(now, &mut out, &mut self.trace);
            self.settle(now, out)
        }
    }

    fn join(member_id: &str, protocols: &[&str]) -> GroupRequest {
        join_to("g", member_id, protocols)
    }

    fn join_to(group: &str, member_id: &str, protocols: &[&str]) -> GroupRequest {
        GroupRequest::Join(JoinGroup {
            group: group.into(),
            member_id: member_id.into(),
            client_id: "c".into(),
            client_host: "/h".into(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 30_000,
            protocol_type: "consumer".into(),
            protocols: protocols.iter().map(|p| (p.to_string(), vec![1])).collect(),
        })
    }

    fn member_id_required(replies: &[Reply]) -> String {
        match replies {
            [Reply { response: GroupResponse::Join(Err((ErrorCode::MemberIdRequired, id))), .. }] => {
                id.clone()
            }
            other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
        }
    }

    fn joined(replies: &[Reply], client: u32) -> JoinResponse {
        replies
            .iter()
            .find_map(|r| match (&r.to, &r.response) {
                (NodeId::Client(c), GroupResponse::Join(Ok(j))) if *c == client => Some(j.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no join answer for client {client} in {replies:?}"))
    }

    /// One member joins, syncs, and the group is Stable at generation 1.
    fn stable_group(h: &mut Harness) -> String {
        let id = member_id_required(&h.send(T0, 1, join("", &["range"])));
        let response = joined(&h.send(T0, 1, join(&id, &["range"])), 1);
        assert_eq!(
            (response.generation, response.leader.as_str(), response.members.len()),
            (1, id.as_str(), 1)
        );
        let sync = GroupRequest::Sync {
            group: "g".into(),
            generation: 1,
            member_id: id.clone(),
            assignments: vec![(id.clone(), vec![7])],
        };
        let replies = h.send(T0, 1, sync);
        assert_eq!(replies[0].response, GroupResponse::Sync(Ok(vec![7])));
        assert_eq!(h.coordinator.describe("g").unwrap().state, GroupState::Stable);
        id
    }

    #[test]
    fn join_sync_heartbeat_and_a_second_member_rebalances() {
        let mut h = Harness::new();
        let first = stable_group(&mut h);
        let heartbeat = |id: &str, generation| GroupRequest::Heartbeat {
            group: "g".into(),
            generation,
            member_id: id.into(),
        };
        assert_eq!(h.send(T0 + 1, 1, heartbeat(&first, 1))[0].response, GroupResponse::Heartbeat(Ok(())));
        // A second member: the group prepares a rebalance; the first hears it in its heartbeat.
        let second = member_id_required(&h.send(T0 + 2, 2, join("", &["range"])));
        assert!(h.send(T0 + 3, 2, join(&second, &["range"])).is_empty(), "waits for the first to rejoin");
        assert_eq!(
            h.send(T0 + 4, 1, heartbeat(&first, 1))[0].response,
            GroupResponse::Heartbeat(Err(ErrorCode::RebalanceInProgress))
        );
        let replies = h.send(T0 + 5, 1, join(&first, &["range"]));
        let (a, b) = (joined(&replies, 1), joined(&replies, 2));
        assert_eq!((a.generation, b.generation), (2, 2));
        assert_eq!(a.members.len(), 2, "the leader sees every member");
        assert!(b.members.is_empty(), "followers see none");
        // Stale and unknown members get Kafka's errors.
        assert_eq!(
            h.send(T0 + 6, 1, heartbeat(&first, 1))[0].response,
            GroupResponse::Heartbeat(Err(ErrorCode::IllegalGeneration))
        );
        assert_eq!(
            h.send(T0 + 6, 3, heartbeat("nobody", 2))[0].response,
            GroupResponse::Heartbeat(Err(ErrorCode::UnknownMemberId))
        );
        // A follower's sync waits for the leader's.
        let follower_sync = GroupRequest::Sync {
            group: "g".into(),
            generation: 2,
            member_id: second.clone(),
            assignments: vec![],
        };
        assert!(h.send(T0 + 7, 2, follower_sync).is_empty());
        let leader_sync = GroupRequest::Sync {
            group: "g".into(),
            generation: 2,
            member_id: first.clone(),
            assignments: vec![(first.clone(), vec![1]), (second.clone(), vec![2])],
        };
        let replies = h.send(T0 + 8, 1, leader_sync);
        assert_eq!(replies.len(), 2);
        assert!(
            replies
                .iter()
                .any(|r| r.to == NodeId::Client(2) && r.response == GroupResponse::Sync(Ok(vec![2])))
        );
    }

    #[test]
    fn protocols_must_overlap_and_the_most_voted_common_one_wins() {
        let mut h = Harness::new();
        let a = member_id_required(&h.send(T0, 1, join("", &["sticky", "range"])));
        assert_eq!(
            joined(&h.send(T0, 1, join(&a, &["sticky", "range"])), 1).protocol.as_deref(),
            Some("sticky")
        );
        let b = member_id_required(&h.send(T0, 2, join("", &["range", "sticky"])));
        h.send(T0, 2, join(&b, &["range", "sticky"]));
        let replies = h.send(T0, 1, join(&a, &["sticky", "range"]));
        // One vote each: the tie goes to the earliest candidate.
        assert_eq!(joined(&replies, 2).protocol.as_deref(), Some("sticky"));
        assert_eq!(
            h.send(T0, 3, join("", &["roundrobin"]))[0].response,
            GroupResponse::Join(Err((ErrorCode::InconsistentGroupProtocol, String::new())))
        );
    }

    #[test]
    fn an_expired_session_removes_the_member_and_empties_the_group() {
        let mut h = Harness::new();
        stable_group(&mut h);
        h.tick(T0 + 9_999);
        assert_eq!(h.coordinator.describe("g").unwrap().state, GroupState::Stable);
        h.tick(T0 + 10_000);
        let description = h.coordinator.describe("g").unwrap();
        assert_eq!(
            (description.state, description.members.len(), description.generation),
            (GroupState::Empty, 0, 2)
        );
    }

    #[test]
    fn a_transactional_commit_is_checked_against_the_group_as_kip_447_says() {
        let mut h = Harness::new();
        let id = stable_group(&mut h);
        let c = &h.coordinator;
        assert_eq!(c.check_txn_commit("g", &id, 1), Ok(()));
        assert_eq!(c.check_txn_commit("g", &id, 0), Err(ErrorCode::IllegalGeneration));
        assert_eq!(c.check_txn_commit("g", "zombie", 1), Err(ErrorCode::UnknownMemberId));
        assert_eq!(c.check_txn_commit("g", "", -1), Ok(()), "a producer that names no member");
        assert_eq!(c.check_txn_commit("new", "x", 4), Ok(()), "a group the commit creates");
    }

    #[test]
    fn commits_are_validated_stored_and_survive_a_reload() {
        let mut h = Harness::new();
        let id = stable_group(&mut h);
        let tp = TopicPartition { topic: "t".into(), partition: 0 };
        let commit = |generation, member: &str, offset| GroupRequest::OffsetCommit {
            group: "g".into(),
            generation,
            member_id: member.into(),
            offsets: vec![(tp.clone(), offset, 0, String::new())],
        };
        assert_eq!(h.send(T0, 1, commit(1, &id, 5))[0].response, GroupResponse::OffsetCommit(Ok(())));
        assert_eq!(
            h.send(T0, 1, commit(0, &id, 6))[0].response,
            GroupResponse::OffsetCommit(Err(ErrorCode::IllegalGeneration))
        );
        // From outside (an admin reset) only while the group is empty.
        assert_eq!(
            h.send(T0, 9, commit(-1, "", 0))[0].response,
            GroupResponse::OffsetCommit(Err(ErrorCode::UnknownMemberId))
        );
        // Another broker takes the partition over: it rebuilds the group from the records.
        let mut other = GroupCoordinator::new(1, h.coordinator.config);
        other.load(T0 + 1, 0, h.log.clone(), &mut h.trace);
        assert_eq!(other.committed("g"), vec![(tp.clone(), 5)]);
        let before = h.coordinator.describe("g").unwrap();
        assert_eq!(other.describe("g").unwrap(), before);
        let fetch = GroupRequest::OffsetFetch {
            group: "g".into(),
            partitions: Some(vec![tp.clone(), TopicPartition { topic: "t".into(), partition: 1 }]),
        };
        let mut out = CoordinatorOutput::default();
        other.handle(T0 + 2, NodeId::Client(1), 1, fetch, &mut out, &mut h.trace);
        assert_eq!(
            out.replies[0].response,
            GroupResponse::OffsetFetch(Ok(vec![
                (tp, 5),
                (TopicPartition { topic: "t".into(), partition: 1 }, -1)
            ]))
        );
    }

    #[test]
    fn only_an_empty_group_is_deleted_and_the_deletion_is_stored() {
        let mut h = Harness::new();
        let id = stable_group(&mut h);
        let delete = || GroupRequest::Delete { group: "g".into() };
        assert_eq!(h.send(T0, 9, delete())[0].response, GroupResponse::Delete(Err(ErrorCode::NonEmptyGroup)));
        h.send(T0, 1, GroupRequest::Leave { group: "g".into(), member_id: id });
        assert_eq!(h.send(T0, 9, delete())[0].response, GroupResponse::Delete(Ok(())));
        assert_eq!(
            h.send(T0, 9, delete())[0].response,
            GroupResponse::Delete(Err(ErrorCode::GroupIdNotFound))
        );
        let mut other = GroupCoordinator::new(1, h.coordinator.config);
        other.load(T0, 0, h.log.clone(), &mut h.trace);
        assert!(other.describe("g").is_none(), "the tombstones deleted it");
    }

    #[test]
    fn empty_groups_lose_their_offsets_after_the_retention_and_then_go() {
        let mut h = Harness::new();
        let id = stable_group(&mut h);
        let tp = TopicPartition { topic: "t".into(), partition: 0 };
        let commit = GroupRequest::OffsetCommit {
            group: "g".into(),
            generation: 1,
            member_id: id.clone(),
            offsets: vec![(tp.clone(), 5, 0, String::new())],
        };
        h.send(T0, 1, commit);
        h.send(T0, 1, GroupRequest::Leave { group: "g".into(), member_id: id });
        // A group that never committed goes at the first cleanup.
        member_id_required(&h.send(T0, 2, join_to("h", "", &["range"])));
        h.tick(T0 + 30_000);
        assert!(h.coordinator.describe("h").is_none(), "an empty group without offsets is removed");
        assert_eq!(
            h.coordinator.committed("g"),
            vec![(tp.clone(), 5)],
            "offsets are kept within the retention"
        );
        h.tick(T0 + OFFSETS_RETENTION_MS / 2);
        assert_eq!(h.coordinator.committed("g").len(), 1);
        h.tick(T0 + OFFSETS_RETENTION_MS + OFFSETS_RETENTION_CHECK_INTERVAL_MS);
        assert!(h.coordinator.describe("g").is_none(), "expired, then removed");
        // By tombstones: a coordinator that loads the log agrees.
        let mut other = GroupCoordinator::new(1, h.coordinator.config);
        other.load(T0, 0, h.log.clone(), &mut h.trace);
        assert!(other.group_ids().is_empty(), "{:?}", other.group_ids());
    }

    #[test]
    fn a_group_it_does_not_coordinate_is_not_coordinator() {
        let mut h = Harness::new();
        let mut out = CoordinatorOutput::default();
        h.coordinator.unload(T0, 0, &mut out, &mut h.trace);
        assert_eq!(
            h.send(T0, 1, join("", &["range"]))[0].response,
            GroupResponse::Join(Err((ErrorCode::NotCoordinator, String::new())))
        );
    }
}
