//! The consumer client (KafkaConsumer's logic, sans-IO), shared by the simulator, the UI and
//! the server: subscribe to topics as a group member (find the coordinator, JoinGroup, run the
//! assignor as leader, SyncGroup, heartbeat, rejoin when told) or assign partitions by hand;
//! positions from committed offsets or `auto.offset.reset`; fetch from partition leaders (only
//! below the high watermark); `poll` hands out at most `max.poll.records` and, with auto commit,
//! first commits what earlier polls handed out (at-least-once); seek, pause, resume, commit,
//! close. Eager assignors give everything up before a rebalance; cooperative-sticky only what
//! moves, in a second rebalance.
//!
//! It speaks the cluster's messages: `tick` and `poll` return what to send, `handle` takes what
//! arrives. Metadata comes from the controller, as in the simulator.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::assignor::{self, Subscription};
use super::coordinator::{GroupRequest, GroupResponse, JoinGroup, OFFSETS_TOPIC};
use super::coordinator_partition;
use super::offsets_topic::{ConsumerAssignment, ConsumerSubscription, by_topic};
use crate::api::IsolationLevel;
use crate::error::ErrorCode;
use crate::record::batch::{Header, RecordBatch};
use crate::replication::partition::Outbox;
use crate::replication::protocol::{BrokerId, Message, NodeId, PartitionState, TopicPartition};
use crate::trace::{Event, Trace};

/// Kafka's consumer default for `session.timeout.ms`.
pub const DEFAULT_SESSION_TIMEOUT_MS: i32 = 45_000;
/// Kafka's consumer default for `heartbeat.interval.ms`.
pub const DEFAULT_HEARTBEAT_INTERVAL_MS: i64 = 3_000;
/// Kafka's consumer default for `max.poll.interval.ms`.
pub const DEFAULT_MAX_POLL_INTERVAL_MS: i32 = 300_000;
/// Kafka's consumer default for `max.poll.records`.
pub const DEFAULT_MAX_POLL_RECORDS: usize = 500;
/// Kafka's consumer default for `auto.commit.interval.ms`.
pub const DEFAULT_AUTO_COMMIT_INTERVAL_MS: i64 = 5_000;
/// Kafka's consumer default for `request.timeout.ms`.
pub const DEFAULT_REQUEST_TIMEOUT_MS: i64 = 30_000;
/// Kafka's consumer default for `retry.backoff.ms`.
pub const DEFAULT_RETRY_BACKOFF_MS: i64 = 100;
/// Kafka's consumer default for `metadata.max.age.ms`.
pub const DEFAULT_METADATA_MAX_AGE_MS: i64 = 300_000;
/// ListOffsets' special timestamps (defined with the engine's ListOffsets).
pub use crate::cluster::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
/// Kafka's `protocol_type` for consumer groups.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// `auto.offset.reset`: where to start when there is no committed offset (or it is out of range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    /// From the log start offset: everything still in the log.
    Earliest,
    /// From the high watermark: only records produced from now on.
    Latest,
    /// No reset: the partition waits and the consumer reports `NoOffset`.
    None,
}

/// A consumer's settings, named as Kafka's consumer configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `client.id`: it starts the member id the coordinator hands out.
    pub client_id: String,
    /// `group.id`: needed to subscribe and to commit; `None` for a standalone consumer that
    /// neither fetches nor commits offsets.
    pub group_id: Option<String>,
    /// `partition.assignment.strategy`, by name, in order of preference.
    pub assignors: Vec<String>,
    /// `session.timeout.ms`: the coordinator removes the member after this long (ms) without a
    /// heartbeat.
    pub session_timeout_ms: i32,
    /// `heartbeat.interval.ms`: how often (ms) a member with an assignment heartbeats.
    pub heartbeat_interval_ms: i64,
    /// `max.poll.interval.ms`: a member that does not poll for this long (ms) leaves the group;
    /// it is also the rebalance timeout it joins with.
    pub max_poll_interval_ms: i32,
    /// `max.poll.records`: the most records one `poll` returns, and the most buffered per
    /// partition before fetching pauses.
    pub max_poll_records: usize,
    /// `enable.auto.commit`: `poll` commits the positions earlier polls reached, every
    /// `auto_commit_interval_ms`; giving partitions up and `close` commit too.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (ms).
    pub auto_commit_interval_ms: i64,
    /// `auto.offset.reset`.
    pub auto_offset_reset: OffsetReset,
    /// `request.timeout.ms`: a request unanswered this long (ms) is given up (a commit then
    /// fails with REQUEST_TIMED_OUT and the coordinator is looked up again).
    pub request_timeout_ms: i64,
    /// `retry.backoff.ms`: how long (ms) it waits after a failed request or an empty fetch
    /// before trying again.
    pub retry_backoff_ms: i64,
    /// `metadata.max.age.ms`: metadata older than this (ms) is fetched again.
    pub metadata_max_age_ms: i64,
    /// `isolation.level`: read_committed reads to the last stable offset and skips aborted
    /// transactions' records.
    pub isolation_level: IsolationLevel,
}

impl ConsumerConfig {
    /// Kafka's defaults (assignors `[range, cooperative-sticky]`, reset `latest`).
    pub fn new(client_id: &str, group_id: Option<&str>) -> ConsumerConfig {
        ConsumerConfig {
            client_id: client_id.into(),
            group_id: group_id.map(str::to_string),
            assignors: vec!["range".into(), "cooperative-sticky".into()],
            session_timeout_ms: DEFAULT_SESSION_TIMEOUT_MS,
            heartbeat_interval_ms: DEFAULT_HEARTBEAT_INTERVAL_MS,
            max_poll_interval_ms: DEFAULT_MAX_POLL_INTERVAL_MS,
            max_poll_records: DEFAULT_MAX_POLL_RECORDS,
            enable_auto_commit: true,
            auto_commit_interval_ms: DEFAULT_AUTO_COMMIT_INTERVAL_MS,
            auto_offset_reset: OffsetReset::Latest,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            retry_backoff_ms: DEFAULT_RETRY_BACKOFF_MS,
            metadata_max_age_ms: DEFAULT_METADATA_MAX_AGE_MS,
            isolation_level: IsolationLevel::ReadUncommitted,
        }
    }

    /// Kafka's rule: cooperative rebalancing only when every configured assignor supports it.
    pub fn cooperative(&self) -> bool {
        !self.assignors.is_empty() && self.assignors.iter().all(|a| assignor::is_cooperative(a))
    }
}

/// A record `poll` hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// The partition it was read from.
    pub tp: TopicPartition,
    /// Its offset in that partition.
    pub offset: i64,
    /// Its timestamp (ms since the epoch), as its batch carries it.
    pub timestamp: i64,
    /// Its key; `None` for a null key.
    pub key: Option<Vec<u8>>,
    /// Its value; `None` for a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// Its headers, in order.
    pub headers: Vec<Header>,
}

/// What happened that the application may want to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerEvent {
    /// The partitions it owns changed: a new assignment taken in `poll`, partitions given up
    /// before rejoining, or partitions lost with the membership.
    Assigned {
        /// The generation the change belongs to; -1 once the membership is lost.
        generation: i32,
        /// Partitions it owns from now on.
        assigned: Vec<TopicPartition>,
        /// Partitions it no longer owns (lost ones without a commit).
        revoked: Vec<TopicPartition>,
    },
    /// A commit is stored: these (partition, offset) pairs.
    Committed(Vec<(TopicPartition, i64)>),
    /// A commit failed with this error (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION,
    /// REQUEST_TIMED_OUT, …).
    CommitFailed(ErrorCode),
    /// No committed offset and `auto.offset.reset=none`.
    NoOffset(TopicPartition),
    /// The group refused this consumer for good (e.g. INCONSISTENT_GROUP_PROTOCOL).
    Fatal(ErrorCode),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Membership {
    Unjoined,
    Joining,
    Syncing,
    Stable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    Metadata,
    Join,
    Sync,
    Heartbeat,
    Commit(Vec<(TopicPartition, i64)>),
    OffsetFetch,
    ListOffsets(TopicPartition),
    Fetch(TopicPartition, i64),
    Leave,
}

/// Where the next fetch starts: after what is buffered, else at the position.
fn next_fetch_offset(f: &Fetching) -> Option<i64> {
    f.buffer.back().map(|r| r.offset + 1).or(f.position)
}

#[derive(Clone, Debug, Default)]
struct Fetching {
    position: Option<i64>,
    /// A seek to the beginning or end, or a reset, waiting for its ListOffsets.
    reset_to: Option<i64>,
    paused: bool,
    fetch_in_flight: bool,
    reset_in_flight: bool,
    next_fetch_ms: i64,
    /// The leader epoch of the last record handed out (committed with the offset).
    last_epoch: i32,
    buffer: VecDeque<ConsumerRecord>,
}

/// A consumer client: a group member or a standalone consumer, driven by `poll`, `tick` and
/// `handle`.
pub struct Consumer {
    /// Its node on the network: `NodeId::Client(id)`.
    pub id: u32,
    /// Its settings.
    pub config: ConsumerConfig,
    subscription: Vec<String>,
    /// Partitions assigned by hand (no group membership).
    manual: bool,
    leaders: BTreeMap<TopicPartition, BrokerId>,
    partition_counts: BTreeMap<String, i32>,
    /// The subscribed topics' partition counts the leader assigned with; a change rejoins.
    assigned_with: BTreeMap<String, i32>,
    metadata_wanted: bool,
    last_metadata_ms: Option<i64>,
    /// The member id the coordinator gave it; empty before its first join or after the
    /// coordinator forgot it.
    pub member_id: String,
    /// The generation it last joined; -1 when it holds none.
    pub generation: i32,
    membership: Membership,
    rejoin_needed: bool,
    is_leader: bool,
    coordinator: Option<BrokerId>,
    retry_after_ms: i64,
    partitions: BTreeMap<TopicPartition, Fetching>,
    requests: BTreeMap<u64, (Pending, i64)>,
    next_correlation: u64,
    last_heartbeat_ms: i64,
    last_poll_ms: Option<i64>,
    next_auto_commit_ms: i64,
    /// What the last successful commit stored, per partition.
    committed: BTreeMap<TopicPartition, i64>,
    offsets_fetch_wanted: bool,
    /// A SyncGroup answer (generation, assignment) waiting for the next `poll` — as in Kafka,
    /// a rebalance only changes what the application owns inside `poll`, never while it is
    /// still processing what the last one returned.
    pending_assignment: Option<(i32, BTreeSet<TopicPartition>)>,
    /// The last assignment received: an eager member has given it up when it rejoins, but the
    /// sticky assignor still wants to know it (Kafka's StickyAssignor carries it in the
    /// subscription's user data; Kite sends it as the owned partitions, which it reads the same way).
    last_assignment: BTreeSet<TopicPartition>,
    closed: bool,
    events: Vec<ConsumerEvent>,
}

impl Consumer {
    /// A consumer with nothing subscribed or assigned yet; its first `tick` asks for metadata.
    pub fn new(id: u32, config: ConsumerConfig) -> Consumer {
        Consumer {
            id,
            config,
            subscription: Vec::new(),
            manual: false,
            leaders: BTreeMap::new(),
            partition_counts: BTreeMap::new(),
            assigned_with: BTreeMap::new(),
            metadata_wanted: true,
            last_metadata_ms: None,
            member_id: String::new(),
            generation: -1,
            membership: Membership::Unjoined,
            rejoin_needed: false,
            is_leader: false,
            coordinator: None,
            retry_after_ms: i64::MIN,
            partitions: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_correlation: 0,
            last_heartbeat_ms: i64::MIN,
            last_poll_ms: None,
            next_auto_commit_ms: i64::MIN,
            committed: BTreeMap::new(),
            offsets_fetch_wanted: false,
            pending_assignment: None,
            last_assignment: BTreeSet::new(),
            closed: false,
            events: Vec::new(),
        }
    }

    /// Joins the group (`group_id` required) for these topics.
    pub fn subscribe(&mut self, topics: &[&str]) {
        self.subscription = topics.iter().map(|t| t.to_string()).collect();
        self.manual = false;
        self.rejoin_needed = true;
    }

    /// Takes exactly these partitions, no group membership (a standalone consumer).
    pub fn assign(&mut self, partitions: &[TopicPartition]) {
        self.manual = true;
        self.subscription.clear();
        self.partitions.retain(|tp, _| partitions.contains(tp));
        let reset = self.reset_timestamp();
        let grouped = self.config.group_id.is_some();
        for tp in partitions {
            let f = self.partitions.entry(tp.clone()).or_default();
            // Without a group there is no committed offset to look up: straight to the reset.
            if !grouped && f.position.is_none() && f.reset_to.is_none() {
                match reset {
                    Some(timestamp) => f.reset_to = Some(timestamp),
                    None => self.events.push(ConsumerEvent::NoOffset(tp.clone())),
                }
            }
        }
        self.offsets_fetch_wanted = grouped;
    }

    /// The partitions this consumer currently owns.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// The offset of the next record `poll` hands out from `tp`; `None` while it is being
    /// looked up (committed offset or reset) or for a partition it does not own.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions.get(tp).and_then(|f| f.position)
    }

    /// The next records from `tp` start at `offset`; what was buffered is dropped. Only for a
    /// partition it owns.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) {
        if let Some(f) = self.partitions.get_mut(tp) {
            f.position = Some(offset);
            f.reset_to = None;
            f.buffer.clear();
        }
    }

    /// `EARLIEST_TIMESTAMP`, `LATEST_TIMESTAMP` or a time: the offset is looked up.
    pub fn seek_to(&mut self, tp: &TopicPartition, timestamp: i64) {
        if let Some(f) = self.partitions.get_mut(tp) {
            f.position = None;
            f.reset_to = Some(timestamp);
            f.buffer.clear();
        }
    }

    /// Stops fetching `tp` and handing its records out until `resume`; the position stays.
    pub fn pause(&mut self, tp: &TopicPartition) {
        if let Some(f) = self.partitions.get_mut(tp) {
            f.paused = true;
        }
    }

    /// Fetches `tp` and hands its records out again after `pause`.
    pub fn resume(&mut self, tp: &TopicPartition) {
        if let Some(f) = self.partitions.get_mut(tp) {
            f.paused = false;
        }
    }

    /// What happened since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<ConsumerEvent> {
        std::mem::take(&mut self.events)
    }

    /// Whether it holds its partitions: always for a standalone consumer; for a group member,
    /// once SyncGroup gave it the current generation's assignment.
    pub fn is_stable(&self) -> bool {
        self.manual || self.membership == Membership::Stable
    }

    fn request(
        &mut self,
        now_ms: i64,
        to: NodeId,
        pending: Pending,
        make: impl FnOnce(u64) -> Message,
    ) -> (NodeId, Message) {
        self.next_correlation += 1;
        self.requests.insert(self.next_correlation, (pending, now_ms));
        (to, make(self.next_correlation))
    }

    fn in_flight(&self, wanted: &Pending) -> bool {
        self.requests.values().any(|(p, _)| p == wanted)
    }

    fn group_request(
        &mut self,
        now_ms: i64,
        pending: Pending,
        request: GroupRequest,
    ) -> Option<(NodeId, Message)> {
        let coordinator = self.coordinator?;
        Some(self.request(now_ms, NodeId::Broker(coordinator), pending, |correlation| Message::Group {
            correlation,
            request,
        }))
    }

    /// The group's coordinator as metadata names it: the leader of its `__consumer_offsets`
    /// partition (what FindCoordinator answers).
    fn coordinator_from_metadata(&self) -> Option<BrokerId> {
        let partitions = self.partition_counts.get(OFFSETS_TOPIC).copied().filter(|&n| n > 0)?;
        let tp = TopicPartition {
            topic: OFFSETS_TOPIC.into(),
            partition: coordinator_partition(self.group(), partitions),
        };
        self.leaders.get(&tp).copied()
    }

    fn group(&self) -> &str {
        self.config.group_id.as_deref().unwrap_or_default()
    }

    /// Hands out at most `max.poll.records` records. With auto commit, first commits the
    /// positions earlier polls reached — records the application has processed by now.
    pub fn poll(&mut self, now_ms: i64, trace: &mut Trace) -> (Vec<ConsumerRecord>, Outbox) {
        let mut out = Outbox::new();
        if self.closed {
            return (Vec::new(), out);
        }
        if self.last_poll_ms.is_some_and(|last| now_ms - last > i64::from(self.config.max_poll_interval_ms))
            && !self.manual
        {
            // It left the group for polling too slowly (below, in `tick`); polling again rejoins.
            self.rejoin_needed = true;
        }
        self.last_poll_ms = Some(now_ms);
        if let Some((generation, assignment)) = self.pending_assignment.take() {
            self.apply_assignment(now_ms, generation, assignment, &mut out, trace);
        }
        if self.config.enable_auto_commit && now_ms >= self.next_auto_commit_ms {
            self.next_auto_commit_ms = now_ms + self.config.auto_commit_interval_ms;
            out.extend(self.commit_positions(now_ms, true));
        }
        if !self.manual
            && !self.subscription.is_empty()
            && self.coordinator.is_some()
            && now_ms >= self.retry_after_ms
        {
            let joining = self.in_flight(&Pending::Join) || self.in_flight(&Pending::Sync);
            if (self.rejoin_needed || self.membership == Membership::Unjoined) && !joining {
                self.send_join(now_ms, &mut out, trace);
            }
        }
        let mut records = Vec::new();
        for f in self.partitions.values_mut() {
            while records.len() < self.config.max_poll_records && !f.paused {
                let Some(record) = f.buffer.pop_front() else { break };
                f.position = Some(record.offset + 1);
                records.push(record);
            }
        }
        out.extend(self.tick(now_ms, trace));
        (records, out)
    }

    /// Commits every owned partition's position (Kafka's `commitAsync()`); the answer comes as
    /// `Committed` or `CommitFailed`.
    pub fn commit(&mut self, now_ms: i64) -> Outbox {
        self.commit_positions(now_ms, false)
    }

    /// The positions to commit: all of them, or (auto commit) those that moved since the last
    /// commit.
    fn commit_positions(&mut self, now_ms: i64, only_moved: bool) -> Outbox {
        if self.config.group_id.is_none() {
            return Outbox::new();
        }
        let offsets: Vec<(TopicPartition, i64)> = self
            .partitions
            .iter()
            .filter_map(|(tp, f)| f.position.map(|p| (tp.clone(), p)))
            .filter(|(tp, p)| !only_moved || self.committed.get(tp) != Some(p))
            .collect();
        self.commit_offsets(now_ms, offsets)
    }

    fn commit_offsets(&mut self, now_ms: i64, offsets: Vec<(TopicPartition, i64)>) -> Outbox {
        if offsets.is_empty() {
            return Outbox::new();
        }
        let (generation, member_id) = if self.manual {
            (-1, String::new())
        } else if self.membership == Membership::Stable || self.config.cooperative() {
            (self.generation, self.member_id.clone())
        } else {
            // Mid-rebalance an eager member owns nothing it may commit (Kafka's commitSync
            // throws REBALANCE_IN_PROGRESS).
            self.events.push(ConsumerEvent::CommitFailed(ErrorCode::RebalanceInProgress));
            return Outbox::new();
        };
        let with_epochs = offsets
            .iter()
            .map(|(tp, o)| {
                (tp.clone(), *o, self.partitions.get(tp).map_or(-1, |f| f.last_epoch), String::new())
            })
            .collect();
        let request = GroupRequest::OffsetCommit {
            group: self.group().into(),
            generation,
            member_id,
            offsets: with_epochs,
        };
        self.group_request(now_ms, Pending::Commit(offsets), request).into_iter().collect()
    }

    /// Leaves the group (committing first, with auto commit).
    pub fn close(&mut self, now_ms: i64) -> Outbox {
        let mut out = Outbox::new();
        if self.config.enable_auto_commit {
            out.extend(self.commit_positions(now_ms, true));
        }
        out.extend(self.abandon(now_ms));
        out
    }

    /// The process goes away without committing (its client vanished): only LeaveGroup, so
    /// its partitions move on at once, from the last committed offsets — what Kafka sees of a
    /// consumer that dies, minus the session timeout.
    pub fn abandon(&mut self, now_ms: i64) -> Outbox {
        let mut out = Outbox::new();
        if !self.manual && !self.member_id.is_empty() {
            let request =
                GroupRequest::Leave { group: self.group().into(), member_id: self.member_id.clone() };
            out.extend(self.group_request(now_ms, Pending::Leave, request));
        }
        self.closed = true;
        out
    }

    fn coordinator_lost(&mut self, now_ms: i64) {
        self.coordinator = None;
        self.metadata_wanted = true;
        self.retry_after_ms = now_ms + self.config.retry_backoff_ms;
    }

    /// Gives up the membership: with eager assignors (or when the generation is lost) every
    /// partition goes; `lost` means without committing (someone else may own them now).
    fn reset_membership(&mut self, forget_member_id: bool) {
        if forget_member_id {
            self.member_id.clear();
        }
        self.generation = -1;
        self.membership = Membership::Unjoined;
        self.rejoin_needed = true;
        self.pending_assignment = None;
        self.partitions.clear();
    }

    /// Periodic work: timeouts, metadata, membership, heartbeats, positions, fetches.
    pub fn tick(&mut self, now_ms: i64, trace: &mut Trace) -> Outbox {
        let mut out = Outbox::new();
        if self.closed {
            return out;
        }
        self.expire_requests(now_ms);
        let stale = self.last_metadata_ms.is_none_or(|at| now_ms - at >= self.config.metadata_max_age_ms);
        if (self.metadata_wanted || stale) && !self.in_flight(&Pending::Metadata) {
            self.metadata_wanted = false;
            out.push(self.request(now_ms, NodeId::Controller, Pending::Metadata, |correlation| {
                Message::Metadata { correlation }
            }));
        }
        if !self.manual && !self.subscription.is_empty() {
            self.group_tick(now_ms, &mut out, trace);
        }
        if self.offsets_fetch_wanted && self.config.group_id.is_some() {
            self.fetch_committed(now_ms, &mut out);
        }
        self.positions_and_fetches(now_ms, &mut out);
        out
    }

    fn expire_requests(&mut self, now_ms: i64) {
        let timeout = self.config.request_timeout_ms;
        let expired: Vec<u64> =
            self.requests.iter().filter(|(_, (_, sent))| now_ms - sent >= timeout).map(|(c, _)| *c).collect();
        for correlation in expired {
            let Some((pending, _)) = self.requests.remove(&correlation) else { continue };
            match pending {
                Pending::Metadata => self.metadata_wanted = true,
                Pending::Join | Pending::Sync => {
                    self.coordinator_lost(now_ms);
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
                Pending::Heartbeat | Pending::OffsetFetch | Pending::Leave => {
                    self.coordinator_lost(now_ms);
                    self.offsets_fetch_wanted |= pending == Pending::OffsetFetch;
                }
                Pending::Commit(_) => {
                    self.coordinator_lost(now_ms);
                    self.events.push(ConsumerEvent::CommitFailed(ErrorCode::RequestTimedOut));
                }
                Pending::ListOffsets(tp) => {
                    if let Some(f) = self.partitions.get_mut(&tp) {
                        f.reset_in_flight = false;
                    }
                    self.metadata_wanted = true;
                }
                Pending::Fetch(tp, _) => {
                    if let Some(f) = self.partitions.get_mut(&tp) {
                        f.fetch_in_flight = false;
                    }
                    self.metadata_wanted = true;
                }
            }
        }
    }

    fn group_tick(&mut self, now_ms: i64, out: &mut Outbox, trace: &mut Trace) {
        if self.coordinator.is_none() {
            self.coordinator = self.coordinator_from_metadata();
            if self.coordinator.is_none() {
                self.metadata_wanted = true;
                return;
            }
        }
        if now_ms < self.retry_after_ms {
            return;
        }
        // max.poll.interval.ms: a member that stopped polling leaves, so its partitions move on.
        if self.membership == Membership::Stable
            && self
                .last_poll_ms
                .is_some_and(|last| now_ms - last > i64::from(self.config.max_poll_interval_ms))
        {
            let request =
                GroupRequest::Leave { group: self.group().into(), member_id: self.member_id.clone() };
            out.extend(self.group_request(now_ms, Pending::Leave, request));
            self.reset_membership(true);
            self.rejoin_needed = false;
            return;
        }
        // Joining happens in `poll` (it may give partitions up, committing them first).
        let _ = trace;
        if self.membership == Membership::Stable
            && now_ms - self.last_heartbeat_ms >= self.config.heartbeat_interval_ms
            && !self.in_flight(&Pending::Heartbeat)
        {
            self.last_heartbeat_ms = now_ms;
            let request = GroupRequest::Heartbeat {
                group: self.group().into(),
                generation: self.generation,
                member_id: self.member_id.clone(),
            };
            out.extend(self.group_request(now_ms, Pending::Heartbeat, request));
        }
    }

    fn send_join(&mut self, now_ms: i64, out: &mut Outbox, trace: &mut Trace) {
        if !self.config.cooperative() && !self.partitions.is_empty() {
            // Eager: commit, then give up every partition before joining.
            if self.config.enable_auto_commit {
                out.extend(self.commit_positions(now_ms, true));
            }
            let revoked: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
            self.partitions.clear();
            self.announce(now_ms, Vec::new(), revoked, trace);
        }
        self.rejoin_needed = false;
        self.membership = Membership::Joining;
        let owned: Vec<(String, i32)> = if self.config.cooperative() {
            self.partitions.keys().map(|tp| (tp.topic.clone(), tp.partition)).collect()
        } else {
            self.last_assignment.iter().map(|tp| (tp.topic.clone(), tp.partition)).collect()
        };
        let subscription = ConsumerSubscription {
            topics: self.subscription.clone(),
            user_data: None,
            owned_partitions: by_topic(&owned),
            generation: self.generation,
        }
        .encode();
        let join = JoinGroup {
            group: self.group().into(),
            member_id: self.member_id.clone(),
            client_id: self.config.client_id.clone(),
            client_host: format!("/client-{}", self.id),
            session_timeout_ms: self.config.session_timeout_ms,
            rebalance_timeout_ms: self.config.max_poll_interval_ms,
            protocol_type: CONSUMER_PROTOCOL_TYPE.into(),
            protocols: self.config.assignors.iter().map(|a| (a.clone(), subscription.clone())).collect(),
        };
        out.extend(self.group_request(now_ms, Pending::Join, GroupRequest::Join(join)));
    }

    fn announce(
        &mut self,
        now_ms: i64,
        assigned: Vec<TopicPartition>,
        revoked: Vec<TopicPartition>,
        trace: &mut Trace,
    ) {
        trace.push(
            now_ms,
            Event::Assignment {
                client: self.id,
                generation: self.generation,
                assigned: assigned.clone(),
                revoked: revoked.clone(),
            },
        );
        self.events.push(ConsumerEvent::Assigned { generation: self.generation, assigned, revoked });
    }

    fn fetch_committed(&mut self, now_ms: i64, out: &mut Outbox) {
        if self.in_flight(&Pending::OffsetFetch) || self.coordinator.is_none() && !self.manual {
            return;
        }
        if self.manual && self.coordinator.is_none() {
            self.coordinator = self.coordinator_from_metadata();
            if self.coordinator.is_none() {
                self.metadata_wanted = true;
                return;
            }
        }
        let wanted: Vec<TopicPartition> = self
            .partitions
            .iter()
            .filter(|(_, f)| f.position.is_none() && f.reset_to.is_none())
            .map(|(tp, _)| tp.clone())
            .collect();
        self.offsets_fetch_wanted = false;
        if wanted.is_empty() {
            return;
        }
        let request = GroupRequest::OffsetFetch { group: self.group().into(), partitions: Some(wanted) };
        out.extend(self.group_request(now_ms, Pending::OffsetFetch, request));
    }

    fn reset_timestamp(&self) -> Option<i64> {
        match self.config.auto_offset_reset {
            OffsetReset::Earliest => Some(EARLIEST_TIMESTAMP),
            OffsetReset::Latest => Some(LATEST_TIMESTAMP),
            OffsetReset::None => None,
        }
    }

    fn positions_and_fetches(&mut self, now_ms: i64, out: &mut Outbox) {
        if !self.manual && self.membership != Membership::Stable && !self.config.cooperative() {
            return;
        }
        let max = self.config.max_poll_records;
        let mut sends = Vec::new();
        for (tp, f) in &mut self.partitions {
            let Some(&leader) = self.leaders.get(tp) else {
                self.metadata_wanted = true;
                continue;
            };
            if let Some(timestamp) = f.reset_to {
                if !f.reset_in_flight {
                    f.reset_in_flight = true;
                    sends.push((leader, Pending::ListOffsets(tp.clone()), timestamp));
                }
                continue;
            }
            let Some(position) = next_fetch_offset(f) else { continue };
            if f.paused || f.fetch_in_flight || now_ms < f.next_fetch_ms || f.buffer.len() >= max {
                continue;
            }
            f.fetch_in_flight = true;
            sends.push((leader, Pending::Fetch(tp.clone(), position), position));
        }
        for (leader, pending, value) in sends {
            let to = NodeId::Broker(leader);
            let message = match &pending {
                Pending::ListOffsets(tp) => {
                    let tp = tp.clone();
                    self.request(now_ms, to, pending, |correlation| Message::ListOffsets {
                        tp,
                        timestamp: value,
                        correlation,
                    })
                }
                Pending::Fetch(tp, _) => {
                    let tp = tp.clone();
                    self.request(now_ms, to, pending, |correlation| Message::Fetch {
                        tp,
                        replica: None,
                        fetch_offset: value,
                        last_fetched_epoch: None,
                        leader_epoch: -1,
                        correlation,
                    })
                }
                _ => continue,
            };
            out.push(message);
        }
    }

    /// A message for this consumer.
    pub fn handle(&mut self, now_ms: i64, message: Message, trace: &mut Trace) -> Outbox {
        let mut out = Outbox::new();
        let correlation = match &message {
            Message::MetadataResponse { correlation, .. }
            | Message::GroupResponse { correlation, .. }
            | Message::ListOffsetsResponse { correlation, .. }
            | Message::FetchResponse { correlation, .. } => *correlation,
            _ => return out,
        };
        let Some((pending, _)) = self.requests.remove(&correlation) else { return out };
        if self.closed {
            return out;
        }
        match message {
            Message::MetadataResponse { partitions, .. } => self.learn_metadata(now_ms, &partitions),
            Message::GroupResponse { response, .. } => {
                self.group_response(now_ms, pending, response, &mut out, trace)
            }
            Message::ListOffsetsResponse { tp, result, .. } => {
                let Some(f) = self.partitions.get_mut(&tp) else { return out };
                f.reset_in_flight = false;
                match result {
                    Ok(offset) => {
                        f.position = Some(offset);
                        f.reset_to = None;
                    }
                    Err(_) => {
                        f.next_fetch_ms = now_ms + self.config.retry_backoff_ms;
                        self.metadata_wanted = true;
                    }
                }
            }
            Message::FetchResponse { tp, result, .. } => {
                let Pending::Fetch(_, requested) = pending else { return out };
                let reset = self.reset_timestamp();
                let backoff = self.config.retry_backoff_ms;
                let Some(f) = self.partitions.get_mut(&tp) else { return out };
                f.fetch_in_flight = false;
                match result {
                    // Only if nothing moved the position meanwhile (a seek, a poll).
                    Ok(data) if next_fetch_offset(f) == Some(requested) => {
                        let mut rest = &data.records[..];
                        while let Ok((batch, used)) = RecordBatch::decode(rest) {
                            rest = &rest[used..];
                            let aborted = data.aborted.iter().any(|a| {
                                a.producer_id == batch.producer_id
                                    && (a.first_offset..=a.last_offset).contains(&batch.base_offset)
                            });
                            if batch.attributes.control || aborted {
                                // A transaction marker is no record, and an aborted transaction's
                                // records are not read (read_committed): the position moves past
                                // them when nothing waits before (else the next fetch starts
                                // after the records that do).
                                let after = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
                                if f.buffer.is_empty() && after > requested {
                                    f.position = Some(after);
                                }
                                continue;
                            }
                            for record in batch.records {
                                let offset = batch.base_offset + i64::from(record.offset_delta);
                                if offset < requested {
                                    continue;
                                }
                                f.last_epoch = batch.partition_leader_epoch;
                                f.buffer.push_back(ConsumerRecord {
                                    tp: tp.clone(),
                                    offset,
                                    timestamp: batch.base_timestamp + record.timestamp_delta,
                                    key: record.key,
                                    value: record.value,
                                    headers: record.headers,
                                });
                            }
                        }
                        if f.buffer.is_empty() {
                            f.next_fetch_ms = now_ms + backoff;
                        }
                    }
                    Ok(_) => {}
                    Err(ErrorCode::OffsetOutOfRange) => {
                        f.position = None;
                        match reset {
                            Some(timestamp) => f.reset_to = Some(timestamp),
                            None => self.events.push(ConsumerEvent::NoOffset(tp)),
                        }
                    }
                    Err(_) => {
                        f.next_fetch_ms = now_ms + backoff;
                        self.metadata_wanted = true;
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn learn_metadata(&mut self, now_ms: i64, partitions: &[PartitionState]) {
        self.last_metadata_ms = Some(now_ms);
        self.leaders.clear();
        self.partition_counts.clear();
        for state in partitions {
            if let Some(leader) = state.leader {
                self.leaders.insert(state.tp.clone(), leader);
            }
            let count = self.partition_counts.entry(state.tp.topic.clone()).or_insert(0);
            *count = (*count).max(state.tp.partition + 1);
        }
        // The leader rejoins when a subscribed topic's partition count changed since it assigned.
        if self.is_leader && self.membership == Membership::Stable {
            let now: BTreeMap<String, i32> = self
                .subscription
                .iter()
                .filter_map(|t| self.partition_counts.get(t).map(|n| (t.clone(), *n)))
                .collect();
            if now != self.assigned_with {
                self.rejoin_needed = true;
            }
        }
        // The coordinator may have moved.
        if let Some(coordinator) = self.coordinator
            && self.partition_counts.contains_key(OFFSETS_TOPIC)
            && self.coordinator_from_metadata() != Some(coordinator)
        {
            self.coordinator = None;
        }
    }

    fn group_response(
        &mut self,
        now_ms: i64,
        pending: Pending,
        response: GroupResponse,
        out: &mut Outbox,
        trace: &mut Trace,
    ) {
        let coordinator_error = |e: ErrorCode| {
            matches!(
                e,
                ErrorCode::NotCoordinator
                    | ErrorCode::CoordinatorNotAvailable
                    | ErrorCode::CoordinatorLoadInProgress
            )
        };
        match (pending, response) {
            (Pending::Join, GroupResponse::Join(result)) => match result {
                Ok(join) => {
                    self.member_id = join.member_id;
                    self.generation = join.generation;
                    self.is_leader = join.leader == self.member_id;
                    self.membership = Membership::Syncing;
                    let assignments = if self.is_leader {
                        self.run_assignor(join.protocol.as_deref().unwrap_or_default(), &join.members)
                    } else {
                        Vec::new()
                    };
                    let request = GroupRequest::Sync {
                        group: self.group().into(),
                        generation: self.generation,
                        member_id: self.member_id.clone(),
                        assignments,
                    };
                    out.extend(self.group_request(now_ms, Pending::Sync, request));
                }
                Err((ErrorCode::MemberIdRequired, id)) => {
                    self.member_id = id;
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                }
                Err((error, _)) => {
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                    match error {
                        ErrorCode::UnknownMemberId => self.member_id.clear(),
                        ErrorCode::IllegalGeneration => self.generation = -1,
                        e if coordinator_error(e) => self.coordinator_lost(now_ms),
                        ErrorCode::RebalanceInProgress => {}
                        fatal => {
                            self.events.push(ConsumerEvent::Fatal(fatal));
                            self.closed = true;
                        }
                    }
                }
            },
            (Pending::Sync, GroupResponse::Sync(result)) => match result {
                Ok(bytes) => {
                    let new: BTreeSet<TopicPartition> = ConsumerAssignment::decode(&bytes)
                        .map(|a| a.flat())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(topic, partition)| TopicPartition { topic, partition })
                        .collect();
                    self.membership = Membership::Stable;
                    self.last_heartbeat_ms = now_ms;
                    self.pending_assignment = Some((self.generation, new));
                }
                Err(error) => {
                    self.membership = Membership::Unjoined;
                    self.rejoin_needed = true;
                    match error {
                        ErrorCode::UnknownMemberId => self.reset_membership(true),
                        ErrorCode::IllegalGeneration => self.reset_membership(false),
                        e if coordinator_error(e) => self.coordinator_lost(now_ms),
                        _ => {}
                    }
                }
            },
            (Pending::Heartbeat, GroupResponse::Heartbeat(result)) => match result {
                Ok(()) => {}
                Err(ErrorCode::RebalanceInProgress) => self.rejoin_needed = true,
                Err(ErrorCode::UnknownMemberId) => self.lose_partitions(now_ms, true, trace),
                Err(ErrorCode::IllegalGeneration) => self.lose_partitions(now_ms, false, trace),
                Err(e) if coordinator_error(e) => self.coordinator_lost(now_ms),
                Err(_) => {}
            },
            (Pending::Commit(offsets), GroupResponse::OffsetCommit(result)) => match result {
                Ok(()) => {
                    for (tp, offset) in &offsets {
                        self.committed.insert(tp.clone(), *offset);
                    }
                    self.events.push(ConsumerEvent::Committed(offsets));
                }
                Err(error) => {
                    self.events.push(ConsumerEvent::CommitFailed(error));
                    match error {
                        ErrorCode::RebalanceInProgress => self.rejoin_needed = true,
                        ErrorCode::UnknownMemberId => self.lose_partitions(now_ms, true, trace),
                        ErrorCode::IllegalGeneration => self.lose_partitions(now_ms, false, trace),
                        e if coordinator_error(e) => self.coordinator_lost(now_ms),
                        _ => {}
                    }
                }
            },
            (Pending::OffsetFetch, GroupResponse::OffsetFetch(result)) => match result {
                Ok(list) => {
                    let reset = self.reset_timestamp();
                    for (tp, offset) in list {
                        let Some(f) = self.partitions.get_mut(&tp) else { continue };
                        if f.position.is_some() || f.reset_to.is_some() {
                            continue;
                        }
                        if offset >= 0 {
                            f.position = Some(offset);
                            self.committed.insert(tp, offset);
                        } else {
                            match reset {
                                Some(timestamp) => f.reset_to = Some(timestamp),
                                None => self.events.push(ConsumerEvent::NoOffset(tp)),
                            }
                        }
                    }
                }
                Err(e) => {
                    self.offsets_fetch_wanted = true;
                    if coordinator_error(e) {
                        self.coordinator_lost(now_ms);
                    }
                }
            },
            (Pending::Leave, _) => {}
            _ => {}
        }
    }

    /// Takes a new assignment (inside `poll`): cooperative members commit and give up what moved
    /// away, then rejoin so it can go to its new owner; new partitions look up their positions.
    fn apply_assignment(
        &mut self,
        now_ms: i64,
        generation: i32,
        new: BTreeSet<TopicPartition>,
        out: &mut Outbox,
        trace: &mut Trace,
    ) {
        if generation != self.generation || self.membership != Membership::Stable {
            return;
        }
        self.last_assignment = new.clone();
        let owned: BTreeSet<TopicPartition> = self.partitions.keys().cloned().collect();
        let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
        let assigned: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
        if !revoked.is_empty() {
            if self.config.enable_auto_commit {
                let offsets = revoked
                    .iter()
                    .filter_map(|tp| self.partitions[tp].position.map(|p| (tp.clone(), p)))
                    .filter(|(tp, p)| self.committed.get(tp) != Some(p))
                    .collect();
                out.extend(self.commit_offsets(now_ms, offsets));
            }
            for tp in &revoked {
                self.partitions.remove(tp);
            }
            self.rejoin_needed = true;
        }
        for tp in &assigned {
            self.partitions.insert(tp.clone(), Fetching::default());
        }
        self.offsets_fetch_wanted = true;
        self.announce(now_ms, assigned, revoked, trace);
        self.fetch_committed(now_ms, out);
    }

    /// The coordinator no longer knows this member (or its generation): its partitions may be
    /// someone else's already, so they are dropped without committing, and it rejoins.
    fn lose_partitions(&mut self, now_ms: i64, forget_member_id: bool, trace: &mut Trace) {
        let lost: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        self.reset_membership(forget_member_id);
        if !lost.is_empty() {
            self.announce(now_ms, Vec::new(), lost, trace);
        }
    }

    /// The leader's job: decode every member's subscription, run the chosen assignor, encode.
    fn run_assignor(&mut self, protocol: &str, members: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
        let subscriptions: Vec<Subscription> = members
            .iter()
            .map(|(id, bytes)| {
                let decoded = ConsumerSubscription::decode(bytes).unwrap_or_default();
                Subscription {
                    member_id: id.clone(),
                    topics: decoded.topics,
                    owned_partitions: decoded
                        .owned_partitions
                        .iter()
                        .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
                        .collect(),
                    generation: decoded.generation,
                }
            })
            .collect();
        let topics: BTreeSet<&String> = subscriptions.iter().flat_map(|s| s.topics.iter()).collect();
        let counts: BTreeMap<String, i32> = topics
            .into_iter()
            .filter_map(|t| self.partition_counts.get(t).map(|n| (t.clone(), *n)))
            .collect();
        self.assigned_with =
            self.subscription.iter().filter_map(|t| counts.get(t).map(|n| (t.clone(), *n))).collect();
        let assignment = assignor::assign(protocol, &counts, &subscriptions).unwrap_or_default();
        assignment
            .into_iter()
            .map(|(member, partitions)| {
                (member, ConsumerAssignment { partitions: by_topic(&partitions), user_data: None }.encode())
            })
            .collect()
    }
}
