//! The single broker's consumer groups: it is the coordinator of every group (it leads every
//! `__consumer_offsets` partition, a compacted topic created on first use and kept with the other
//! logs, so committed offsets and group metadata survive restarts), and it runs consumers for its
//! clients (`open_consumer`, `poll`, …) — the shared consumer client, whose requests are answered
//! here at once: metadata, fetches below the high watermark (the log end: one broker), ListOffsets,
//! and the coordinator's group requests. Admin commands list, describe (with lag), reset offsets and
//! delete groups as kafka-consumer-groups does.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Cluster, record_view, unknown_partition, unknown_topic};
use crate::api::{
    GroupListing, GroupMemberView, GroupOffset, GroupOffsetRow, IsolationLevel, PartitionRef, PolledRecord,
    Reply, ResetTarget,
};
use crate::config::Acks;
use crate::error::{ErrorCode, KafkaError};
use crate::group::consumer::{Consumer, ConsumerConfig, ConsumerEvent, OffsetReset};
use crate::group::coordinator::{
    CoordinatorConfig, CoordinatorOutput, GroupCoordinator, GroupDescription, GroupRequest, GroupResponse,
    GroupState, OFFSETS_TOPIC, Reply as GroupReply,
};
use crate::group::offsets_topic::{OffsetCommitValue, encode_batch, records_in};
use crate::limits::{MAX_FETCH_RECORDS, MAX_GROUP_CLIENTS};
use crate::record::batch::BatchRecord;
use crate::replication::partition::{MAX_FETCH_BYTES, Outbox};
use crate::replication::protocol::{BrokerId, FetchData, Message, NodeId, PartitionState, TopicPartition};
use crate::serializer::SerializerKind;
use crate::trace::Trace;

/// The broker the engine's coordinator runs as.
const BROKER: BrokerId = 0;
/// Kafka's `offsets.topic.replication.factor` default.
const OFFSETS_TOPIC_REPLICATION_FACTOR: usize = 3;
/// The client id the admin commands' requests come from.
const ADMIN: u32 = 0;
/// Consumers the engine runs at once for its clients.
pub(super) const MAX_HOSTED_CONSUMERS: usize = 1_000;
/// A consumer nobody has polled for this long is closed (its client went away).
pub(super) const HOSTED_CONSUMER_IDLE_MS: i64 = 600_000;
/// Request rounds one command may take between the consumers and the broker (a join, a sync, an
/// offset fetch, a fetch… take a few; the bound only stops a bug from spinning).
const MAX_ROUTING_ROUNDS: usize = 1_000;
/// The consumer polls one `poll` command may run while they return nothing.
const POLL_ROUNDS: usize = 4;
/// `__consumer_offsets`' configs, as Kafka creates it.
const OFFSETS_TOPIC_CONFIGS: [(&str, &str); 2] =
    [("cleanup.policy", "compact"), ("segment.bytes", "104857600")];

struct Hosted {
    consumer: Consumer,
    last_used_ms: i64,
}

pub(super) struct Groups {
    coordinator: GroupCoordinator,
    consumers: BTreeMap<u32, Hosted>,
    next_consumer: u32,
    next_correlation: u64,
    /// The coordinator's and consumers' events, until the engine takes them.
    trace: Trace,
    /// The coordinator is creating `__consumer_offsets` (clients may not).
    creating: bool,
    /// Clients that send the coordinator their own requests (Kafka connections), with the
    /// answers that came for them (a JoinGroup is answered when the join phase ends, perhaps in
    /// another client's turn or a tick) until they take them.
    clients: BTreeMap<u32, Vec<(u64, GroupResponse)>>,
    /// When `ask_group` last ran the coordinator's timers.
    ticked_at_ms: Option<i64>,
}

impl Groups {
    /// The coordinator's and consumers' events since the last call.
    pub(super) fn take_trace(&mut self) -> Vec<(i64, crate::trace::Event)> {
        std::mem::take(&mut self.trace.events)
    }

    pub(super) fn creating_offsets_topic(&self) -> bool {
        self.creating
    }

    pub(super) fn group_count(&self) -> usize {
        self.coordinator.group_ids().len()
    }

    pub(super) fn consumer_count(&self) -> usize {
        self.consumers.len()
    }

    pub(super) fn new() -> Groups {
        Groups {
            coordinator: GroupCoordinator::new(BROKER, CoordinatorConfig::default()),
            consumers: BTreeMap::new(),
            next_consumer: ADMIN + 1,
            next_correlation: 0,
            trace: Trace::default(),
            creating: false,
            clients: BTreeMap::new(),
            ticked_at_ms: None,
        }
    }
}

fn unknown_consumer(consumer: u32) -> KafkaError {
    KafkaError::new(ErrorCode::InvalidRequest, format!("There is no open consumer {consumer}."))
}

fn partition_ref(tp: &TopicPartition) -> PartitionRef {
    PartitionRef { topic: tp.topic.clone(), partition: tp.partition }
}

fn group_error(error: ErrorCode, group: &str) -> KafkaError {
    let message = match error {
        ErrorCode::NonEmptyGroup => format!("The group '{group}' is not empty."),
        ErrorCode::GroupIdNotFound => format!("The group id '{group}' does not exist."),
        ErrorCode::InvalidGroupId => format!("The group id '{group}' is not valid."),
        other => format!("The coordinator answered {} for group '{group}'.", other.name()),
    };
    KafkaError::new(error, message)
}

impl Cluster {
    /// The group coordinator's check of a transactional offset commit's member and generation.
    pub(super) fn check_txn_commit(
        &self,
        group: &str,
        member_id: &str,
        generation: i32,
    ) -> Result<(), ErrorCode> {
        self.groups.coordinator.check_txn_commit(group, member_id, generation)
    }

    /// The group coordinator takes each `__consumer_offsets` partition whose leader's log is there
    /// and that it has not loaded yet, rebuilding its groups from the records, as Kafka's loads a
    /// partition when its broker becomes the leader: at open a replicated partition's leader may
    /// not be elected yet, and until it is, its groups answer NOT_COORDINATOR rather than as
    /// groups with nothing committed. Offsets of transactions not yet decided go to the
    /// transaction coordinator, which holds them until their markers.
    pub(super) fn load_group_partitions(&mut self, now_ms: i64) {
        let Some(state) = self.topics.get(OFFSETS_TOPIC) else { return };
        // Groups hash over the partitions the topic has (Kafka reads them from the topic).
        let partitions = state.partitions;
        self.groups.coordinator.config.offsets_partitions = partitions;
        for partition in 0..partitions {
            if self.groups.coordinator.loaded_partitions().contains(&partition) {
                continue;
            }
            let Some((records, pending)) =
                self.brokers.partition(OFFSETS_TOPIC, partition).and_then(|view| view.log.map(records_in))
            else {
                continue;
            };
            self.hold_txn_offsets(pending);
            self.groups.coordinator.load(now_ms, partition, records, &mut self.groups.trace);
        }
    }

    /// Kafka's `offsets.topic.num.partitions` and `transaction.state.log.num.partitions` (both 50
    /// by default): how many partitions the coordinators' topics get when they are created. The
    /// simulator uses a few, so that its restarts reopen fewer logs.
    pub fn set_internal_topic_partitions(&mut self, partitions: i32) {
        let partitions = partitions.max(1);
        if !self.topics.contains_key(OFFSETS_TOPIC) {
            self.groups.coordinator.config.offsets_partitions = partitions;
        }
        self.set_transaction_state_partitions(partitions);
    }

    /// How many partitions `__consumer_offsets` has: what a group's partition is hashed over.
    pub(super) fn offsets_partitions(&self) -> i32 {
        self.groups.coordinator.config.offsets_partitions
    }

    /// Offsets a transaction sent for `group`, committed with it (its records are in the log).
    pub(super) fn apply_txn_offset(
        &mut self,
        now_ms: i64,
        group: &str,
        tp: TopicPartition,
        value: OffsetCommitValue,
    ) {
        self.groups.coordinator.apply_committed(now_ms, group, tp, value);
    }

    /// Creates `__consumer_offsets` on first use, as Kafka does on the first FindCoordinator.
    fn ensure_offsets_topic(&mut self, now_ms: i64) -> Result<(), KafkaError> {
        if self.topics.contains_key(OFFSETS_TOPIC) {
            return Ok(());
        }
        let configs = OFFSETS_TOPIC_CONFIGS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.groups.creating = true;
        // Kafka's offsets.topic.replication.factor (3), as far as there are brokers.
        let replication_factor = OFFSETS_TOPIC_REPLICATION_FACTOR.min(self.brokers.broker_count());
        // offsets.topic.num.partitions: Kafka's 50 unless the host set another.
        let partitions = self.groups.coordinator.config.offsets_partitions;
        let created =
            self.create_topic(now_ms, OFFSETS_TOPIC.to_string(), partitions, configs, replication_factor);
        self.groups.creating = false;
        created?;
        for partition in 0..partitions {
            self.groups.coordinator.load(now_ms, partition, Vec::new(), &mut self.groups.trace);
        }
        Ok(())
    }

    /// Appends the coordinator's writes to `__consumer_offsets` (one broker: replicated as soon as
    /// appended) and completes them, until it has nothing more to write. Returns its replies.
    fn settle(&mut self, now_ms: i64, mut output: CoordinatorOutput) -> Vec<GroupReply> {
        let mut replies = Vec::new();
        loop {
            replies.append(&mut output.replies);
            let writes = std::mem::take(&mut output.writes);
            if writes.is_empty() {
                return replies;
            }
            for write in writes {
                let result = self.append_offsets_records(now_ms, write.partition, write.records);
                self.groups.coordinator.write_completed(
                    now_ms,
                    write.id,
                    result,
                    &mut output,
                    &mut self.groups.trace,
                );
            }
        }
    }

    fn append_offsets_records(
        &mut self,
        now_ms: i64,
        partition: i32,
        records: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), ErrorCode> {
        let batch = encode_batch(now_ms, records).map_err(|_| ErrorCode::InvalidRecord)?;
        let min_isr =
            self.topics.get(OFFSETS_TOPIC).ok_or(ErrorCode::NotCoordinator)?.config.min_insync_replicas;
        self.brokers
            .append(now_ms, OFFSETS_TOPIC, vec![(partition, batch)], Acks::All, min_isr)
            .map(|_| ())
            .map_err(|e| e.error)
    }

    /// A new client of the coordinator, for a Kafka connection: the id its requests come from.
    /// It runs its own consumer, as a real client does; what the coordinator answers waits for it
    /// in a mailbox ([`Cluster::group_answer`]).
    pub fn open_group_client(&mut self) -> Result<u32, ErrorCode> {
        if self.groups.clients.len() >= MAX_GROUP_CLIENTS {
            return Err(ErrorCode::CoordinatorNotAvailable);
        }
        let id = self.groups.next_consumer;
        self.groups.next_consumer += 1;
        self.groups.clients.insert(id, Vec::new());
        Ok(id)
    }

    /// The client's connection closed: answers still coming for it are dropped. Its members stay
    /// in their groups until their sessions expire, as in Kafka.
    pub fn close_group_client(&mut self, client: u32) {
        self.groups.clients.remove(&client);
    }

    /// FindCoordinator: the broker that coordinates `group` — the leader of its
    /// `__consumer_offsets` partition — creating the topic on first use, as Kafka does.
    pub fn group_coordinator(&mut self, now_ms: i64, group: &str) -> Result<i32, KafkaError> {
        self.ensure_offsets_topic(now_ms)?;
        self.load_group_partitions(now_ms);
        self.collect_events();
        let partition =
            crate::group::coordinator_partition(group, self.groups.coordinator.config.offsets_partitions);
        match self.leadership(OFFSETS_TOPIC, partition)? {
            (Some(leader), _) => Ok(leader),
            (None, _) => Err(KafkaError::new(
                ErrorCode::CoordinatorNotAvailable,
                format!("{OFFSETS_TOPIC}-{partition}, which coordinates '{group}', has no leader."),
            )),
        }
    }

    /// A Kafka client's request to the coordinator, after its timers (a join phase may be due to
    /// end). The answer, now or later, goes to the client's mailbox under `correlation`.
    pub fn ask_group(&mut self, now_ms: i64, client: u32, correlation: u64, request: GroupRequest) {
        if !self.groups.clients.contains_key(&client) {
            return;
        }
        self.load_group_partitions(now_ms);
        // The timers once per millisecond: a request naming many members asks many times.
        let mut replies = Vec::new();
        if self.groups.ticked_at_ms != Some(now_ms) {
            self.groups.ticked_at_ms = Some(now_ms);
            let mut output = CoordinatorOutput::default();
            self.groups.coordinator.tick(now_ms, &mut output, &mut self.groups.trace);
            replies = self.settle(now_ms, output);
        }
        replies.extend(self.ask_coordinator(now_ms, client, correlation, request));
        self.deliver_replies(now_ms, replies);
        self.collect_events();
    }

    /// The coordinator's answer to the client's request `correlation`, once it came.
    pub fn group_answer(&mut self, client: u32, correlation: u64) -> Option<GroupResponse> {
        let mailbox = self.groups.clients.get_mut(&client)?;
        // A client waits on one request at a time, its ids counting up: answers to requests it
        // stopped waiting for are dropped.
        mailbox.retain(|(c, _)| *c >= correlation);
        let at = mailbox.iter().position(|(c, _)| *c == correlation)?;
        Some(mailbox.remove(at).1)
    }

    /// DescribeGroups' read: the group with each member's subscription and assignment bytes; a
    /// group the coordinator does not hold is described as Dead.
    pub fn group_description(&mut self, now_ms: i64, group: &str) -> Result<GroupDescription, KafkaError> {
        match self.admin(now_ms, GroupRequest::Describe { group: group.to_string() })? {
            GroupResponse::Describe(result) => result.map_err(|e| group_error(e, group)),
            _ => Err(KafkaError::new(ErrorCode::CoordinatorNotAvailable, "The coordinator did not answer.")),
        }
    }

    /// OffsetFetch's read: `group`'s committed offsets with their leader epochs and metadata.
    pub fn committed_offsets(&self, group: &str) -> Vec<(TopicPartition, OffsetCommitValue)> {
        self.groups.coordinator.committed_values(group)
    }

    /// Sends a request to the coordinator as `from` and settles it.
    fn ask_coordinator(
        &mut self,
        now_ms: i64,
        from: u32,
        correlation: u64,
        request: GroupRequest,
    ) -> Vec<GroupReply> {
        let mut output = CoordinatorOutput::default();
        let trace = &mut self.groups.trace;
        self.groups.coordinator.handle(
            now_ms,
            NodeId::Client(from),
            correlation,
            request,
            &mut output,
            trace,
        );
        self.settle(now_ms, output)
    }

    /// An admin request, answered at once (admin requests never wait on a rebalance).
    fn admin(&mut self, now_ms: i64, request: GroupRequest) -> Result<GroupResponse, KafkaError> {
        self.ensure_offsets_topic(now_ms)?;
        self.load_group_partitions(now_ms);
        self.groups.next_correlation += 1;
        let correlation = self.groups.next_correlation;
        let replies = self.ask_coordinator(now_ms, ADMIN, correlation, request);
        let mine = replies.iter().position(|r| r.to == NodeId::Client(ADMIN) && r.correlation == correlation);
        let response = mine.map(|i| replies[i].response.clone());
        self.deliver_replies(now_ms, replies);
        response.ok_or_else(|| {
            KafkaError::new(ErrorCode::CoordinatorNotAvailable, "The coordinator did not answer.")
        })
    }

    /// What the single broker answers a consumer's request with.
    fn broker_serves(&mut self, now_ms: i64, from: u32, message: Message) -> Vec<(NodeId, Message)> {
        let to = NodeId::Client(from);
        match message {
            Message::Metadata { correlation } => {
                let partitions = self
                    .topics
                    .values()
                    .flat_map(|state| (0..state.partitions).map(move |partition| (state, partition)))
                    .filter_map(|(state, partition)| {
                        let view = self.brokers.partition(&state.name, partition)?;
                        Some(PartitionState {
                            tp: TopicPartition { topic: state.name.clone(), partition },
                            topic_id: state.topic_id,
                            replicas: view.replicas,
                            leader: view.leader,
                            leader_epoch: view.leader_epoch,
                            isr: view.isr,
                            elr: Vec::new(),
                            partition_epoch: 0,
                            min_insync_replicas: usize::try_from(state.config.min_insync_replicas)
                                .unwrap_or(1),
                            adding: Vec::new(),
                            removing: Vec::new(),
                        })
                    })
                    .collect();
                vec![(to, Message::MetadataResponse { correlation, partitions })]
            }
            Message::Fetch { tp, fetch_offset, correlation, .. } => {
                let isolation = self
                    .groups
                    .consumers
                    .get(&from)
                    .map_or(IsolationLevel::ReadUncommitted, |h| h.consumer.config.isolation_level);
                let result = self.fetch_for_consumer(&tp, (fetch_offset, isolation));
                vec![(to, Message::FetchResponse { tp, correlation, result })]
            }
            Message::ListOffsets { tp, timestamp, correlation } => {
                // The engine's own ListOffsets; a time past the last record resolves to the end.
                let result = match self.list_offsets(&tp.topic, tp.partition, timestamp) {
                    Ok(Reply::Offsets { offset: Some(offset), .. }) => Ok(offset),
                    Ok(_) => self.log_end(&tp.topic, tp.partition).ok_or(ErrorCode::UnknownTopicOrPartition),
                    Err(e) => Err(e.error),
                };
                vec![(to, Message::ListOffsetsResponse { tp, correlation, result })]
            }
            Message::Group { correlation, request } => {
                if let Err(e) = self.ensure_offsets_topic(now_ms) {
                    let response = match request {
                        GroupRequest::OffsetCommit { .. } => GroupResponse::OffsetCommit(Err(e.error)),
                        _ => GroupResponse::Join(Err((ErrorCode::CoordinatorNotAvailable, String::new()))),
                    };
                    return vec![(to, Message::GroupResponse { correlation, response })];
                }
                let replies = self.ask_coordinator(now_ms, from, correlation, request);
                replies
                    .into_iter()
                    .map(|r| {
                        (r.to, Message::GroupResponse { correlation: r.correlation, response: r.response })
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whole batches from `offset` below the high watermark (read committed: the last stable
    /// offset, with the aborted transactions among them): the engine's `fetch_records`, as a
    /// leader answers a consumer.
    fn fetch_for_consumer(
        &mut self,
        tp: &TopicPartition,
        (offset, isolation): (i64, IsolationLevel),
    ) -> Result<FetchData, ErrorCode> {
        let max_bytes = u32::try_from(MAX_FETCH_BYTES).unwrap_or(u32::MAX);
        match self.fetch_records(&tp.topic, tp.partition, (offset, Some(max_bytes)), isolation) {
            Ok(Reply::RecordBatches {
                log_start_offset,
                log_end_offset,
                last_stable_offset,
                aborted_transactions,
                payload,
                ..
            }) => Ok(FetchData {
                // A read_committed consumer reads to the last stable offset: its end.
                high_watermark: if isolation == IsolationLevel::ReadCommitted {
                    last_stable_offset
                } else {
                    log_end_offset
                },
                log_start_offset,
                log_end_offset,
                records: payload,
                diverging: None,
                aborted: aborted_transactions,
            }),
            Ok(_) => Err(ErrorCode::UnknownTopicOrPartition),
            Err(e) => Err(e.error),
        }
    }

    /// Delivers what `client` sends, and everything that follows from it, until quiet.
    fn route(&mut self, now_ms: i64, client: u32, out: Outbox) {
        let mut queue: VecDeque<(u32, NodeId, Message)> =
            out.into_iter().map(|(to, m)| (client, to, m)).collect();
        let mut rounds = 0;
        while let Some((from, to, message)) = queue.pop_front() {
            rounds += 1;
            if rounds > MAX_ROUTING_ROUNDS {
                break;
            }
            let answers = match to {
                NodeId::Client(_) => vec![(to, message)],
                NodeId::Controller | NodeId::Voter(_) | NodeId::Broker(_) => {
                    self.broker_serves(now_ms, from, message)
                }
            };
            for (to, answer) in answers {
                let NodeId::Client(id) = to else { continue };
                if let (Some(mailbox), Message::GroupResponse { correlation, response }) =
                    (self.groups.clients.get_mut(&id), &answer)
                {
                    mailbox.push((*correlation, response.clone()));
                    continue;
                }
                let Some(hosted) = self.groups.consumers.get_mut(&id) else { continue };
                let more = hosted.consumer.handle(now_ms, answer, &mut self.groups.trace);
                queue.extend(more.into_iter().map(|(to, m)| (id, to, m)));
            }
        }
    }

    fn deliver_replies(&mut self, now_ms: i64, replies: Vec<GroupReply>) {
        for reply in replies {
            let NodeId::Client(id) = reply.to else { continue };
            if let Some(mailbox) = self.groups.clients.get_mut(&id) {
                mailbox.push((reply.correlation, reply.response));
                continue;
            }
            let Some(hosted) = self.groups.consumers.get_mut(&id) else { continue };
            let message = Message::GroupResponse { correlation: reply.correlation, response: reply.response };
            let out = hosted.consumer.handle(now_ms, message, &mut self.groups.trace);
            self.route(now_ms, id, out);
        }
    }

    /// The coordinator's timers (sessions, join phases), and every consumer's heartbeats; drops
    /// consumers nobody polls any more.
    pub(super) fn tick_groups(&mut self, now_ms: i64) {
        let mut output = CoordinatorOutput::default();
        self.groups.coordinator.tick(now_ms, &mut output, &mut self.groups.trace);
        let replies = self.settle(now_ms, output);
        self.deliver_replies(now_ms, replies);
        let ids: Vec<u32> = self.groups.consumers.keys().copied().collect();
        for id in ids {
            let Some(hosted) = self.groups.consumers.get_mut(&id) else { continue };
            let out = if now_ms - hosted.last_used_ms >= HOSTED_CONSUMER_IDLE_MS {
                // Its client went away: leave without committing what it may never have read.
                let out = hosted.consumer.abandon(now_ms);
                self.route(now_ms, id, out);
                self.groups.consumers.remove(&id);
                continue;
            } else {
                hosted.consumer.tick(now_ms, &mut self.groups.trace)
            };
            self.route(now_ms, id, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_consumer(
        &mut self,
        now_ms: i64,
        group: Option<String>,
        topics: Vec<String>,
        partitions: Vec<PartitionRef>,
        client_id: Option<String>,
        auto_offset_reset: Option<String>,
        assignors: Vec<String>,
        enable_auto_commit: Option<bool>,
        session_timeout_ms: Option<i32>,
        isolation_level: IsolationLevel,
    ) -> Result<Reply, KafkaError> {
        if self.groups.consumers.len() >= MAX_HOSTED_CONSUMERS {
            return Err(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!("The engine already runs Kite's limit of {MAX_HOSTED_CONSUMERS} consumers."),
            ));
        }
        let invalid = |message: String| KafkaError::new(ErrorCode::InvalidConfig, message);
        if topics.is_empty() == partitions.is_empty() {
            return Err(invalid("Give either topics to subscribe to or partitions to assign.".into()));
        }
        if !topics.is_empty() && group.is_none() {
            return Err(invalid(
                "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.".into(),
            ));
        }
        for topic in topics.iter().chain(partitions.iter().map(|p| &p.topic)) {
            let state = self.topics.get(topic).ok_or_else(|| unknown_topic(topic))?;
            if let Some(p) =
                partitions.iter().find(|p| &p.topic == topic && !(0..state.partitions).contains(&p.partition))
            {
                return Err(unknown_partition(topic, p.partition));
            }
        }
        for assignor in &assignors {
            if !crate::group::assignor::ASSIGNORS.contains(&assignor.as_str()) {
                return Err(invalid(format!(
                    "Invalid value {assignor} for configuration partition.assignment.strategy: known assignors are {}.",
                    crate::group::assignor::ASSIGNORS.join(", ")
                )));
            }
        }
        let reset = match auto_offset_reset.as_deref() {
            None | Some("latest") => OffsetReset::Latest,
            Some("earliest") => OffsetReset::Earliest,
            Some("none") => OffsetReset::None,
            Some(other) => {
                return Err(invalid(format!(
                    "Invalid value {other} for configuration auto.offset.reset: String must be one of: latest, earliest, none"
                )));
            }
        };
        if group.is_some() {
            self.ensure_offsets_topic(now_ms)?;
        }
        let id = self.groups.next_consumer;
        self.groups.next_consumer += 1;
        let client_id = client_id.unwrap_or_else(|| format!("kite-consumer-{id}"));
        let mut config =
            ConsumerConfig { auto_offset_reset: reset, ..ConsumerConfig::new(&client_id, group.as_deref()) };
        if !assignors.is_empty() {
            config.assignors = assignors;
        }
        if let Some(auto_commit) = enable_auto_commit {
            config.enable_auto_commit = auto_commit;
        }
        if let Some(session) = session_timeout_ms {
            config.session_timeout_ms = session;
        }
        config.isolation_level = isolation_level;
        let mut consumer = Consumer::new(id, config);
        if topics.is_empty() {
            let tps: Vec<TopicPartition> = partitions
                .iter()
                .map(|p| TopicPartition { topic: p.topic.clone(), partition: p.partition })
                .collect();
            consumer.assign(&tps);
        } else {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&names);
        }
        self.groups.consumers.insert(id, Hosted { consumer, last_used_ms: now_ms });
        // Metadata and the first join go out at once.
        let out = self.groups.consumers.get_mut(&id).map(|h| h.consumer.tick(now_ms, &mut self.groups.trace));
        self.route(now_ms, id, out.unwrap_or_default());
        Ok(Reply::ConsumerOpened { consumer: id })
    }

    fn hosted(&mut self, consumer: u32) -> Result<&mut Hosted, KafkaError> {
        self.groups.consumers.get_mut(&consumer).ok_or_else(|| unknown_consumer(consumer))
    }

    /// A fatal or no-offset event becomes the command's error, as KafkaConsumer throws them.
    fn consumer_problem(&mut self, consumer: u32) -> Option<KafkaError> {
        let hosted = self.groups.consumers.get_mut(&consumer)?;
        hosted.consumer.take_events().into_iter().find_map(|event| match event {
            ConsumerEvent::Fatal(error) => Some(KafkaError::new(
                error,
                format!("The group refused consumer {consumer}: {}.", error.name()),
            )),
            ConsumerEvent::NoOffset(tp) => Some(KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!("Undefined offset with no reset policy for partitions: [{tp}]"),
            )),
            _ => None,
        })
    }

    pub(super) fn poll(
        &mut self,
        now_ms: i64,
        consumer: u32,
        max_records: Option<u32>,
        deserializers: (SerializerKind, SerializerKind),
    ) -> Result<Reply, KafkaError> {
        // The coordinator's timers first: a join phase may be due to end.
        let mut output = CoordinatorOutput::default();
        self.groups.coordinator.tick(now_ms, &mut output, &mut self.groups.trace);
        let replies = self.settle(now_ms, output);
        self.deliver_replies(now_ms, replies);
        // A problem from an earlier round is this poll's error; one found while polling is the
        // next poll's, so records already handed out are never dropped.
        if let Some(problem) = self.consumer_problem(consumer) {
            return Err(problem);
        }
        let mut polled = Vec::new();
        // More polls while they find nothing: an assignment that just arrived looks up its
        // positions and fetches (each step one poll here), so records that are there come back
        // with this command rather than the next.
        for _ in 0..POLL_ROUNDS {
            let groups = &mut self.groups;
            let hosted = groups.consumers.get_mut(&consumer).ok_or_else(|| unknown_consumer(consumer))?;
            hosted.last_used_ms = now_ms;
            let default = hosted.consumer.config.max_poll_records as u32;
            hosted.consumer.config.max_poll_records =
                max_records.unwrap_or(default).clamp(1, MAX_FETCH_RECORDS) as usize;
            let (records, out) = hosted.consumer.poll(now_ms, &mut groups.trace);
            self.route(now_ms, consumer, out);
            polled = records;
            if !polled.is_empty() {
                break;
            }
        }
        let registry = &self.schema_registry;
        let records = polled
            .into_iter()
            .map(|r| {
                let record =
                    BatchRecord { key: r.key, value: r.value, headers: r.headers, ..BatchRecord::default() };
                PolledRecord {
                    topic: r.tp.topic.clone(),
                    partition: r.tp.partition,
                    record: record_view(registry, deserializers, r.offset, r.timestamp, &record),
                }
            })
            .collect();
        let hosted = self.hosted(consumer)?;
        let assignment = hosted.consumer.assignment().iter().map(partition_ref).collect();
        Ok(Reply::Polled { consumer, records, assignment, stable: hosted.consumer.is_stable() })
    }

    pub(super) fn commit_offsets(&mut self, now_ms: i64, consumer: u32) -> Result<Reply, KafkaError> {
        let hosted = self.hosted(consumer)?;
        hosted.last_used_ms = now_ms;
        hosted.consumer.take_events();
        let out = hosted.consumer.commit(now_ms);
        self.route(now_ms, consumer, out);
        let events = self.hosted(consumer)?.consumer.take_events();
        let mut offsets = Vec::new();
        for event in events {
            match event {
                ConsumerEvent::Committed(list) => {
                    offsets.extend(list.into_iter().map(|(tp, offset)| GroupOffset {
                        topic: tp.topic,
                        partition: tp.partition,
                        offset,
                    }))
                }
                ConsumerEvent::CommitFailed(error) => {
                    return Err(KafkaError::new(
                        error,
                        format!("Commit cannot be completed: the coordinator answered {}.", error.name()),
                    ));
                }
                _ => {}
            }
        }
        Ok(Reply::OffsetsCommitted { consumer, offsets })
    }

    /// A consumer whose client went away (its connection closed): LeaveGroup without a commit.
    pub fn abandon_consumer(&mut self, now_ms: i64, consumer: u32) {
        if self.closed {
            return;
        }
        let Some(hosted) = self.groups.consumers.get_mut(&consumer) else { return };
        let out = hosted.consumer.abandon(now_ms);
        self.route(now_ms, consumer, out);
        self.groups.consumers.remove(&consumer);
    }

    /// A consumer whose process died: gone without a word to its coordinator, which keeps the
    /// member until its session expires.
    pub(super) fn crash_consumer(&mut self, consumer: u32) -> Result<Reply, KafkaError> {
        self.groups.consumers.remove(&consumer).ok_or_else(|| unknown_consumer(consumer))?;
        Ok(Reply::ConsumerClosed { consumer })
    }

    pub(super) fn close_consumer(&mut self, now_ms: i64, consumer: u32) -> Result<Reply, KafkaError> {
        let out = self.hosted(consumer)?.consumer.close(now_ms);
        self.route(now_ms, consumer, out);
        self.groups.consumers.remove(&consumer);
        Ok(Reply::ConsumerClosed { consumer })
    }

    pub(super) fn list_groups(&mut self, now_ms: i64) -> Result<Reply, KafkaError> {
        match self.admin(now_ms, GroupRequest::ListGroups)? {
            GroupResponse::ListGroups(list) => Ok(Reply::Groups {
                groups: list
                    .into_iter()
                    .map(|(group, state, protocol_type)| GroupListing {
                        group,
                        state: state.name().to_string(),
                        protocol_type,
                    })
                    .collect(),
            }),
            _ => Err(KafkaError::new(ErrorCode::CoordinatorNotAvailable, "The coordinator did not answer.")),
        }
    }

    fn log_end(&self, topic: &str, partition: i32) -> Option<i64> {
        // What consumers can read up to: the high watermark.
        self.readable(topic, partition).ok().map(|(_, high_watermark)| high_watermark)
    }

    /// Whether the group member `member_id` of `group` (client `client_id` from `host`) reads
    /// committed: a consumer Kite hosts by its config, a Kafka client by its connections' last
    /// fetches (a client fetches on other connections than the one it joined on).
    fn member_reads_committed(&self, member_id: &str, client_id: &str, host: &str) -> bool {
        let hosted = self.groups.consumers.values().any(|h| {
            h.consumer.member_id == member_id
                && h.consumer.config.isolation_level == crate::api::IsolationLevel::ReadCommitted
        });
        hosted
            || self
                .kafka_clients
                .values()
                .any(|c| c.read_committed && c.client_id == client_id && c.address == host)
    }

    pub(super) fn describe_group(&mut self, now_ms: i64, group: String) -> Result<Reply, KafkaError> {
        let description = match self.admin(now_ms, GroupRequest::Describe { group: group.clone() })? {
            GroupResponse::Describe(Ok(d)) => d,
            GroupResponse::Describe(Err(e)) => return Err(group_error(e, &group)),
            _ => {
                return Err(KafkaError::new(
                    ErrorCode::CoordinatorNotAvailable,
                    "The coordinator did not answer.",
                ));
            }
        };
        if description.state == GroupState::Dead {
            return Err(KafkaError::new(
                ErrorCode::GroupIdNotFound,
                format!("Consumer group '{group}' does not exist."),
            ));
        }
        let committed: BTreeMap<TopicPartition, i64> =
            self.groups.coordinator.committed(&group).into_iter().collect();
        let mut owners: BTreeMap<TopicPartition, &crate::group::coordinator::MemberDescription> =
            BTreeMap::new();
        for member in &description.members {
            for (topic, partition) in &member.assignment {
                owners.insert(TopicPartition { topic: topic.clone(), partition: *partition }, member);
            }
        }
        let partitions: BTreeSet<&TopicPartition> = committed.keys().chain(owners.keys()).collect();
        let stable: BTreeMap<&TopicPartition, i64> = partitions
            .iter()
            .filter_map(|tp| Some((*tp, self.last_stable_offset(&tp.topic, tp.partition).ok()?)))
            .collect();
        let offsets = partitions
            .into_iter()
            .map(|tp| {
                let log_end_offset = self.log_end(&tp.topic, tp.partition).unwrap_or(0);
                let last_stable_offset = stable.get(tp).copied().unwrap_or(log_end_offset);
                let current = committed.get(tp).copied();
                let owner = owners.get(tp);
                let read_committed = owner
                    .is_some_and(|m| self.member_reads_committed(&m.member_id, &m.client_id, &m.client_host));
                let readable_end = if read_committed { last_stable_offset } else { log_end_offset };
                GroupOffsetRow {
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    current_offset: current,
                    log_end_offset,
                    last_stable_offset,
                    read_committed,
                    lag: current.map(|c| (readable_end - c).max(0)),
                    consumer_id: owner.map(|m| m.member_id.clone()),
                    host: owner.map(|m| m.client_host.clone()),
                    client_id: owner.map(|m| m.client_id.clone()),
                }
            })
            .collect();
        let members = description
            .members
            .iter()
            .map(|m| GroupMemberView {
                member_id: m.member_id.clone(),
                client_id: m.client_id.clone(),
                host: m.client_host.clone(),
                assignment: m
                    .assignment
                    .iter()
                    .map(|(topic, partition)| PartitionRef { topic: topic.clone(), partition: *partition })
                    .collect(),
            })
            .collect();
        Ok(Reply::GroupDescribed {
            group,
            state: description.state.name().to_string(),
            protocol: description.protocol,
            members,
            offsets,
        })
    }

    pub(super) fn reset_offsets(
        &mut self,
        now_ms: i64,
        group: String,
        topic: String,
        to: ResetTarget,
        execute: bool,
    ) -> Result<Reply, KafkaError> {
        let state = match self.admin(now_ms, GroupRequest::Describe { group: group.clone() })? {
            GroupResponse::Describe(Ok(d)) => d.state,
            _ => GroupState::Dead,
        };
        if !matches!(state, GroupState::Empty | GroupState::Dead) {
            return Err(KafkaError::new(
                ErrorCode::NonEmptyGroup,
                format!(
                    "Assignments can only be reset if the group '{group}' is inactive, but the current state is {}.",
                    state.name()
                ),
            ));
        }
        let partitions = self.topics.get(&topic).ok_or_else(|| unknown_topic(&topic))?.partitions;
        let committed: BTreeMap<TopicPartition, i64> =
            self.groups.coordinator.committed(&group).into_iter().collect();
        let mut offsets = Vec::new();
        for partition in 0..partitions {
            let tp = TopicPartition { topic: topic.clone(), partition };
            let (log, end) = self.readable(&topic, partition)?;
            let start = log.log_start_offset();
            let target = match to {
                ResetTarget::Earliest => start,
                ResetTarget::Latest => end,
                ResetTarget::Offset { offset } => offset,
                ResetTarget::Datetime { timestamp_ms } => {
                    let found = log.find_offset_by_timestamp(timestamp_ms).map_err(KafkaError::from)?;
                    found.filter(|&offset| offset < end).unwrap_or(end)
                }
                ResetTarget::ShiftBy { shift } => {
                    committed.get(&tp).copied().unwrap_or(end).saturating_add(shift)
                }
            };
            offsets.push(GroupOffset { topic: topic.clone(), partition, offset: target.clamp(start, end) });
        }
        if execute {
            let request = GroupRequest::OffsetCommit {
                group: group.clone(),
                generation: -1,
                member_id: String::new(),
                offsets: offsets
                    .iter()
                    .map(|o| {
                        (
                            TopicPartition { topic: o.topic.clone(), partition: o.partition },
                            o.offset,
                            -1,
                            String::new(),
                        )
                    })
                    .collect(),
            };
            match self.admin(now_ms, request)? {
                GroupResponse::OffsetCommit(Ok(())) => {}
                GroupResponse::OffsetCommit(Err(e)) => return Err(group_error(e, &group)),
                _ => {
                    return Err(KafkaError::new(
                        ErrorCode::CoordinatorNotAvailable,
                        "The coordinator did not answer.",
                    ));
                }
            }
        }
        Ok(Reply::OffsetsReset { group, executed: execute, offsets })
    }

    pub(super) fn delete_group(&mut self, now_ms: i64, group: String) -> Result<Reply, KafkaError> {
        match self.admin(now_ms, GroupRequest::Delete { group: group.clone() })? {
            GroupResponse::Delete(Ok(())) => Ok(Reply::GroupDeleted { group }),
            GroupResponse::Delete(Err(e)) => Err(group_error(e, &group)),
            _ => Err(KafkaError::new(ErrorCode::CoordinatorNotAvailable, "The coordinator did not answer.")),
        }
    }
}
