//! The simulator's consumer-group workload: members of `sim-group` (the real consumer client
//! against the brokers' real coordinators) poll, process each record for a few milliseconds and
//! — with auto commit — commit only what earlier polls returned, so processing comes first
//! (at-least-once). Members crash mid-processing, leave, and rejoin while brokers fail; an admin
//! first commits offset 0 for every partition (`--reset-offsets --to-earliest`) and members use
//! `auto.offset.reset=latest`, so a lost commit would skip records and the checker would see it.

use std::collections::BTreeMap;

use super::{Event, Message, NodeId, TOPIC, TopicPartition, World};
use crate::group::consumer::{Consumer, ConsumerConfig, ConsumerEvent, ConsumerRecord, OffsetReset};
use crate::group::coordinator::{GroupRequest, GroupResponse, GroupState, OFFSETS_TOPIC};
use crate::group::coordinator_partition;
use crate::replication::check::{History, Processed};
use crate::trace::Trace;

/// The group the workload's members join.
pub const GROUP_ID: &str = "sim-group";
/// Client ids from here up belong to the group workload (the admin, then members).
pub(super) const ADMIN_CLIENT: u32 = 999;
/// A member's client id is this × (member index + 1) + its incarnation: a restarted member is a
/// new client, so answers meant for its previous life go nowhere.
const MEMBER_CLIENT_STRIDE: u32 = 1_000;
/// Scaled down like the other timeouts (Kafka: 3 s).
pub(super) const INITIAL_REBALANCE_DELAY_MS: i64 = 100;
/// Processing one record takes 1 to this many milliseconds.
const MAX_PROCESSING_MS: u64 = 10;
/// After the workload stops, the group gets at most this long to catch up.
pub(super) const GROUP_DRAIN_MAX_MS: i64 = 30_000;
/// The admin retries its initial commit this often.
const ADMIN_RETRY_MS: i64 = 200;

pub(super) struct Member {
    index: u32,
    incarnation: u32,
    /// A scenario's member: its own configuration.
    config: Option<ConsumerConfig>,
    consumer: Option<Consumer>,
    /// Records polled and being processed: done at the given time.
    processing: Vec<(ConsumerRecord, i64)>,
}

impl Member {
    fn client(&self) -> u32 {
        MEMBER_CLIENT_STRIDE * (self.index + 1) + self.incarnation
    }
}

#[derive(Default)]
pub(super) struct GroupWorkload {
    members: Vec<Member>,
    /// The admin's initial commit has been stored.
    pub(super) initialized: bool,
    admin_sent_ms: Option<i64>,
    /// Per (client, partition): how many times it was assigned (the checker's `session`).
    sessions: BTreeMap<(u32, TopicPartition), u64>,
    next_group_fault_ms: i64,
    /// Members come from a scenario's script, not the random workload.
    pub(super) scripted: bool,
    /// A scenario's admin request and its answer.
    admin_answer: Option<(u64, Option<GroupResponse>)>,
}

impl World {
    fn member_config(&self, index: u32) -> ConsumerConfig {
        let assignors = if self.config.assignors.is_empty() {
            let names = crate::group::assignor::ASSIGNORS;
            vec![names[(self.config.seed % names.len() as u64) as usize].to_string()]
        } else {
            self.config.assignors.clone()
        };
        ConsumerConfig {
            assignors,
            session_timeout_ms: 1_500,
            heartbeat_interval_ms: 300,
            max_poll_interval_ms: 3_000,
            max_poll_records: 20,
            enable_auto_commit: !self.config.commit_before_processing,
            auto_commit_interval_ms: 200,
            auto_offset_reset: OffsetReset::Latest,
            request_timeout_ms: 1_000,
            retry_backoff_ms: 50,
            metadata_max_age_ms: 1_000,
            ..ConsumerConfig::new(&format!("member-{index}"), Some(GROUP_ID))
        }
    }

    pub(super) fn create_offsets_topic(&mut self) {
        self.create_named_topic(OFFSETS_TOPIC, self.config.offsets_partitions);
        self.group.next_group_fault_ms = self.now + 1_500;
    }

    fn start_member(&mut self, index: u32) {
        let existing = self.group.members.iter().find(|m| m.index == index);
        let own = existing.and_then(|m| m.config.clone());
        let config = own.clone().unwrap_or_else(|| self.member_config(index));
        let incarnation = existing.map_or(0, |m| m.incarnation + 1);
        let mut member = Member { index, incarnation, config: own, consumer: None, processing: Vec::new() };
        let mut consumer = Consumer::new(member.client(), config);
        consumer.subscribe(&[TOPIC]);
        member.consumer = Some(consumer);
        match self.group.members.iter_mut().find(|m| m.index == index) {
            Some(slot) => *slot = member,
            None => self.group.members.push(member),
        }
    }

    /// Every member's turn: finish processing, poll or tick; the group nemesis; the admin.
    pub(super) fn group_tick(&mut self) {
        if self.config.group_members == 0 && !self.group.scripted {
            return;
        }
        if !self.group.initialized {
            return self.admin_tick();
        }
        if self.group.members.is_empty() && !self.group.scripted {
            for index in 0..self.config.group_members {
                self.start_member(index);
            }
        }
        self.group_nemesis();
        for i in 0..self.group.members.len() {
            let now = self.now;
            let member = &mut self.group.members[i];
            let client = member.client();
            let Some(consumer) = member.consumer.as_mut() else { continue };
            let (done, still): (Vec<_>, Vec<_>) =
                std::mem::take(&mut member.processing).into_iter().partition(|(_, at)| *at <= now);
            member.processing = still;
            record_processed(&mut self.history, &mut self.trace, &self.group.sessions, now, client, done);
            let out = if member.processing.is_empty() {
                let (records, mut out) = consumer.poll(now, &mut self.trace);
                for record in records {
                    let at = now + 1 + (self.rng.next_u64() % MAX_PROCESSING_MS) as i64;
                    member.processing.push((record, at));
                }
                if self.config.commit_before_processing {
                    out.extend(consumer.commit(now));
                }
                out
            } else {
                consumer.tick(now, &mut self.trace)
            };
            self.member_events(i);
            self.send(NodeId::Client(client), out);
        }
    }

    /// Counts assignment sessions for the checker.
    fn member_events(&mut self, i: usize) {
        let member = &mut self.group.members[i];
        let client = member.client();
        let Some(consumer) = member.consumer.as_mut() else { return };
        for event in consumer.take_events() {
            if let ConsumerEvent::Assigned { assigned, .. } = event {
                for tp in assigned {
                    *self.group.sessions.entry((client, tp)).or_insert(0) += 1;
                }
            }
        }
    }

    /// `kafka-consumer-groups --reset-offsets --to-earliest` before any member starts: offset 0
    /// for every partition, committed from outside the (empty) group.
    fn admin_tick(&mut self) {
        if self.group.admin_sent_ms.is_some_and(|at| self.now - at < ADMIN_RETRY_MS) {
            return;
        }
        let offsets_tp = TopicPartition {
            topic: OFFSETS_TOPIC.into(),
            partition: coordinator_partition(GROUP_ID, self.config.offsets_partitions),
        };
        let Some(coordinator) = self.controllers.state().partitions.get(&offsets_tp).and_then(|s| s.leader)
        else {
            return;
        };
        self.group.admin_sent_ms = Some(self.now);
        let offsets = (0..self.config.partitions)
            .map(|partition| (TopicPartition { topic: TOPIC.into(), partition }, 0, -1, String::new()))
            .collect();
        let request = GroupRequest::OffsetCommit {
            group: GROUP_ID.into(),
            generation: -1,
            member_id: String::new(),
            offsets,
        };
        self.correlation += 1;
        let message = Message::Group { correlation: self.correlation, request };
        self.send(NodeId::Client(ADMIN_CLIENT), vec![(NodeId::Broker(coordinator), message)]);
    }

    pub(super) fn group_client_receives(&mut self, client: u32, message: Message) {
        if client == ADMIN_CLIENT {
            if let Message::GroupResponse { correlation, response } = message {
                if let Some((expected, answer)) = &mut self.group.admin_answer
                    && *expected == correlation
                {
                    *answer = Some(response);
                } else if response == GroupResponse::OffsetCommit(Ok(())) {
                    self.group.initialized = true;
                }
            }
            return;
        }
        let now = self.now;
        let Some(i) = self.group.members.iter().position(|m| m.client() == client) else { return };
        let Some(consumer) = self.group.members[i].consumer.as_mut() else { return };
        let out = consumer.handle(now, message, &mut self.trace);
        self.member_events(i);
        self.send(NodeId::Client(client), out);
    }

    /// While the workload runs: now and then a member crashes (its in-progress records are
    /// lost, it never says goodbye), leaves cleanly, or a stopped member starts again.
    fn group_nemesis(&mut self) {
        if !self.config.group_faults || !self.producing || self.now < self.group.next_group_fault_ms {
            return;
        }
        self.group.next_group_fault_ms = self.now + 700 + (self.rng.next_u64() % 2_000) as i64;
        let index = (self.rng.next_u64() % self.group.members.len() as u64) as usize;
        let now = self.now;
        let member = &mut self.group.members[index];
        let client = member.client();
        let description = match member.consumer.take() {
            None => {
                let which = member.index;
                self.start_member(which);
                format!("group member {which} starts again as client-{}", self.group.members[index].client())
            }
            Some(mut consumer) => {
                if self.rng.next_u64().is_multiple_of(2) {
                    member.processing.clear();
                    format!("group member {} (client-{client}) crashes mid-processing", member.index)
                } else {
                    // A clean shutdown: finish what is in hand, then close (which commits).
                    let done = std::mem::take(&mut member.processing);
                    record_processed(
                        &mut self.history,
                        &mut self.trace,
                        &self.group.sessions,
                        now,
                        client,
                        done,
                    );
                    let out = consumer.close(now);
                    let text = format!("group member {} (client-{client}) leaves the group", member.index);
                    self.send(NodeId::Client(client), out);
                    text
                }
            }
        };
        self.trace.push(self.now, Event::Fault { description });
    }

    /// At heal time every stopped member starts again.
    pub(super) fn restart_members(&mut self) {
        let stopped: Vec<u32> =
            self.group.members.iter().filter(|m| m.consumer.is_none()).map(|m| m.index).collect();
        for index in stopped {
            self.start_member(index);
        }
    }

    /// After the run: let the group catch up with every partition's high watermark (bounded);
    /// report where it stopped short. Returns the end time.
    pub(super) fn drain_group(&mut self, mut end: i64) -> i64 {
        if self.config.group_members == 0 {
            return end;
        }
        let limit = end + GROUP_DRAIN_MAX_MS;
        loop {
            let behind = self.group_behind();
            if behind.is_empty() || end >= limit {
                self.history.group_behind = behind;
                return end;
            }
            end += 500;
            self.advance_until(end);
        }
    }

    /// Partitions whose log (below the leader's high watermark) holds offsets the group has not
    /// processed yet, past the last one it did.
    fn group_behind(&self) -> Vec<(TopicPartition, i64, i64)> {
        let mut behind = Vec::new();
        for (tp, state) in &self.controllers.state().partitions {
            if tp.topic != TOPIC {
                continue;
            }
            let Some((broker, true)) = state.leader.and_then(|l| self.brokers.get(&l)) else { continue };
            let Some(partition) = broker.partitions.get(tp) else { continue };
            let end = partition.high_watermark;
            let next = self
                .history
                .processed
                .iter()
                .filter(|p| &p.tp == tp)
                .map(|p| p.offset + 1)
                .max()
                .unwrap_or(0);
            if next < end {
                behind.push((tp.clone(), next, end));
            }
        }
        behind
    }
}

/// Records finished by a member, in the order it processed them.
fn record_processed(
    history: &mut History,
    trace: &mut Trace,
    sessions: &BTreeMap<(u32, TopicPartition), u64>,
    now: i64,
    client: u32,
    done: Vec<(ConsumerRecord, i64)>,
) {
    for (record, _) in done {
        let value = String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned();
        let session = sessions.get(&(client, record.tp.clone())).copied().unwrap_or(0);
        trace.push(
            now,
            Event::Consumed { client, tp: record.tp.clone(), offset: record.offset, value: value.clone() },
        );
        history.processed.push(Processed { client, session, tp: record.tp, offset: record.offset, value });
    }
}

/// Where `reset-offsets` moves a group's committed offsets (kafka-consumer-groups' options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetTo {
    /// Each partition's log start offset (`--to-earliest`).
    Earliest,
    /// Each partition's high watermark (`--to-latest`).
    Latest,
    /// This offset in every partition (`--to-offset`).
    Offset(i64),
    /// The first offset at or after this time, in ms since the epoch (`--to-datetime`).
    Datetime(i64),
    /// The committed offset moved by this many, negative for back (`--shift-by`); from the
    /// high watermark where nothing is committed.
    ShiftBy(i64),
}

impl super::Scenario {
    /// Starts a group member subscribed to `sim`, with this configuration (its group is
    /// `sim-group`); returns its index.
    pub fn add_member(&mut self, config: ConsumerConfig) -> u32 {
        let world = &mut self.world;
        let index = world.group.members.len() as u32;
        let mut member = Member {
            index,
            incarnation: 0,
            config: Some(config.clone()),
            consumer: None,
            processing: Vec::new(),
        };
        let mut consumer = Consumer::new(member.client(), config);
        consumer.subscribe(&[TOPIC]);
        member.consumer = Some(consumer);
        world.group.members.push(member);
        index
    }

    /// The member stops without a word (its session must time out); what it was processing is lost.
    pub fn crash_member(&mut self, index: u32) {
        let now = self.world.now;
        if let Some(member) = self.world.group.members.iter_mut().find(|m| m.index == index) {
            member.processing.clear();
            member.consumer = None;
            let description = format!("group member {index} (client-{}) crashes", member.client());
            self.world.trace.push(now, Event::Fault { description });
        }
    }

    /// The member finishes what it holds and closes (LeaveGroup).
    pub fn close_member(&mut self, index: u32) {
        let now = self.world.now;
        let world = &mut self.world;
        let Some(member) = world.group.members.iter_mut().find(|m| m.index == index) else { return };
        let client = member.client();
        let done = std::mem::take(&mut member.processing);
        let Some(mut consumer) = member.consumer.take() else { return };
        record_processed(&mut world.history, &mut world.trace, &world.group.sessions, now, client, done);
        let out = consumer.close(now);
        world.trace.push(
            now,
            Event::Fault { description: format!("group member {index} (client-{client}) closes") },
        );
        world.send(NodeId::Client(client), out);
    }

    /// Starts a stopped member again (a new client, a new member id).
    pub fn restart_member(&mut self, index: u32) {
        self.world.start_member(index);
    }

    /// What the member owns now.
    pub fn member_assignment(&self, index: u32) -> Vec<TopicPartition> {
        self.world
            .group
            .members
            .iter()
            .find(|m| m.index == index)
            .and_then(|m| m.consumer.as_ref())
            .map(|c| c.assignment())
            .unwrap_or_default()
    }

    /// The client id (network node) of member `index` in its current incarnation; `None` for
    /// no such member.
    pub fn member_client(&self, index: u32) -> Option<u32> {
        self.world.group.members.iter().find(|m| m.index == index).map(Member::client)
    }

    /// The broker coordinating `sim-group` now (the leader of its offsets partition).
    pub fn coordinator(&self) -> Option<super::BrokerId> {
        let tp = TopicPartition {
            topic: OFFSETS_TOPIC.into(),
            partition: coordinator_partition(GROUP_ID, self.world.config.offsets_partitions),
        };
        self.world.controllers.state().partitions.get(&tp).and_then(|s| s.leader)
    }

    /// Sends an admin request to the coordinator and waits (up to the client timeout) for the answer.
    pub fn admin(&mut self, request: GroupRequest) -> Option<GroupResponse> {
        let coordinator = self.coordinator()?;
        self.world.correlation += 1;
        let correlation = self.world.correlation;
        self.world.group.admin_answer = Some((correlation, None));
        let message = Message::Group { correlation, request };
        self.world.send(NodeId::Client(ADMIN_CLIENT), vec![(NodeId::Broker(coordinator), message)]);
        let deadline = self.world.now + super::CLIENT_TIMEOUT_MS;
        while self.world.now < deadline {
            self.wait(super::TICK_MS);
            if let Some((_, Some(answer))) = &self.world.group.admin_answer {
                let answer = answer.clone();
                self.world.group.admin_answer = None;
                return Some(answer);
            }
        }
        self.world.group.admin_answer = None;
        None
    }

    /// `kafka-consumer-groups --describe` for `sim-group`, from its coordinator.
    pub fn describe_group(&mut self) -> Option<crate::group::coordinator::GroupDescription> {
        match self.admin(GroupRequest::Describe { group: GROUP_ID.into() })? {
            GroupResponse::Describe(Ok(description)) => Some(description),
            _ => None,
        }
    }

    /// The group's committed offsets, from its coordinator.
    pub fn committed_offsets(&mut self) -> Vec<(TopicPartition, i64)> {
        match self.admin(GroupRequest::OffsetFetch { group: GROUP_ID.into(), partitions: None }) {
            Some(GroupResponse::OffsetFetch(Ok(list))) => list,
            _ => Vec::new(),
        }
    }

    /// `kafka-consumer-groups --reset-offsets --execute` for every partition of `sim`: like the
    /// tool, only while the group is inactive (Empty or Dead); the targets are computed from each
    /// partition's leader (start, high watermark, time index) and clamped to that range.
    pub fn reset_offsets(&mut self, to: ResetTo) -> Result<Vec<(TopicPartition, i64)>, String> {
        let description = self.describe_group().ok_or("the coordinator did not answer")?;
        if !matches!(description.state, GroupState::Empty | GroupState::Dead) {
            return Err(format!(
                "Assignments can only be reset if the group '{GROUP_ID}' is inactive, but the current state is {}.",
                description.state.name()
            ));
        }
        let current: BTreeMap<TopicPartition, i64> = self.committed_offsets().into_iter().collect();
        let mut offsets = Vec::new();
        for partition in 0..self.world.config.partitions {
            let tp = TopicPartition { topic: TOPIC.into(), partition };
            let leader = self.world.controllers.state().partitions.get(&tp).and_then(|s| s.leader);
            let Some((broker, true)) = leader.and_then(|l| self.world.brokers.get(&l)) else {
                return Err(format!("{tp} has no leader"));
            };
            let Some(p) = broker.partitions.get(&tp) else { return Err(format!("{tp} has no replica")) };
            let (start, end) = (p.log.log_start_offset(), p.high_watermark);
            let target = match to {
                ResetTo::Earliest => start,
                ResetTo::Latest => end,
                ResetTo::Offset(o) => o,
                ResetTo::Datetime(t) => p.log.find_offset_by_timestamp(t).ok().flatten().unwrap_or(end),
                ResetTo::ShiftBy(n) => current.get(&tp).copied().unwrap_or(end) + n,
            };
            offsets.push((tp, target.clamp(start, end)));
        }
        let request = GroupRequest::OffsetCommit {
            group: GROUP_ID.into(),
            generation: -1,
            member_id: String::new(),
            offsets: offsets.iter().map(|(tp, o)| (tp.clone(), *o, -1, String::new())).collect(),
        };
        match self.admin(request) {
            Some(GroupResponse::OffsetCommit(Ok(()))) => Ok(offsets),
            Some(GroupResponse::OffsetCommit(Err(e))) => Err(e.name().to_string()),
            _ => Err("the coordinator did not answer".into()),
        }
    }

    /// Everything the members processed: (client, partition, offset, value), in order.
    pub fn processed(&self) -> Vec<(u32, TopicPartition, i64, String)> {
        self.world
            .history
            .processed
            .iter()
            .map(|p| (p.client, p.tp.clone(), p.offset, p.value.clone()))
            .collect()
    }
}
