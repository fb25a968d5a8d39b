//! The controller (Kafka's KRaft `QuorumController`, as one always-available node here): broker
//! registration and heartbeats, fencing after `broker.session.timeout.ms`, topic creation with
//! Kafka's replica assignment, leader election (clean from the ISR in assignment order, unclean
//! if enabled), AlterPartition, preferred-leader elections, partition reassignments
//! (`reassignment`), each change a record of the metadata log the brokers fetch.

use std::collections::{BTreeMap, BTreeSet};

use super::partition::{Outbox, PlantedBug};
use super::protocol::{BrokerId, Message, MetadataRecord, NodeId, PartitionState, TopicId, TopicPartition};
use super::reassignment;
use crate::config::ElectionType;
use crate::error::{ErrorCode, KafkaError};
use crate::random::Rng;
use crate::trace::{Event, Trace};

/// Kafka's `broker.session.timeout.ms` default.
pub const BROKER_SESSION_TIMEOUT_MS: i64 = 9_000;
/// How many records the metadata log may hold beyond twice what a snapshot of it would before
/// the controller replaces it with that snapshot (KRaft snapshots and truncates its log the same
/// way): a long-running cluster whose ISRs come and go must not grow it without end.
pub const METADATA_LOG_SLACK_RECORDS: usize = 10_000;

#[derive(Clone, Debug)]
struct Registration {
    incarnation: u64,
    /// Its `broker.rack`, as it last registered.
    rack: Option<String>,
    last_heartbeat_ms: i64,
    fenced: bool,
    /// Being decommissioned: it gets no new replicas, and is unregistered once it holds none.
    leaving: bool,
}

/// The cluster's controller: the registered brokers, every partition's state, and the
/// metadata log that records each change.
pub struct Controller {
    brokers: BTreeMap<BrokerId, Registration>,
    /// Every partition's current state: leader, leader epoch, ISR, ELR.
    pub partitions: BTreeMap<TopicPartition, PartitionState>,
    unclean_election: BTreeMap<String, bool>,
    /// How often leadership moves back to preferred replicas; `None`: never on its own
    /// (`auto.leader.rebalance.enable=false`).
    preferred_leader_check_ms: Option<i64>,
    session_timeout_ms: i64,
    last_preferred_check_ms: i64,
    /// Every change since the last snapshot, in order (KRaft's metadata log, which the brokers
    /// fetch once the quorum has committed it).
    metadata_log: Vec<MetadataRecord>,
    /// Where in `metadata_log` each partition's last recorded state is.
    recorded_at: BTreeMap<TopicPartition, usize>,
    /// How many records were ever appended (KRaft's log end offset): compaction keeps it.
    metadata_end_offset: u64,
    /// Records appended since the quorum last took them (`take_appended`), for it to
    /// replicate; `None` while no quorum runs this controller (nothing is kept then).
    appended: Option<Vec<MetadataRecord>>,
    /// Brokers decommissioned and unregistered: their heartbeats are not answered (a removed
    /// broker does not come back by heartbeating).
    removed: std::collections::BTreeSet<BrokerId>,
    /// Dynamic broker configs (ConfigRecords): (broker, or `None` for the default; name) → value.
    broker_configs: BTreeMap<(Option<BrokerId>, String), String>,
    /// A bug planted in the controller's code (`PlantedBug::ReassignBeforeCatchUp`), for
    /// proving the simulator's checker notices; `None` is Kite's own code.
    pub planted_bug: Option<PlantedBug>,
}

/// Where a topic's new partitions may go, and how they are replicated.
#[derive(Clone, Copy)]
struct Placement<'a> {
    /// The live brokers, in id order.
    brokers: &'a [BrokerId],
    replication_factor: usize,
    min_insync_replicas: usize,
}

/// Kafka's words for a CreatePartitions that does not add any.
pub fn partitions_refusal(existing: i32, asked: i32) -> String {
    if asked == existing {
        format!("Topic already has {existing} partitions.")
    } else {
        format!("Topic currently has {existing} partitions, which is higher than the requested {asked}.")
    }
}

impl Controller {
    /// A controller with no brokers or topics yet. It fences a broker whose last heartbeat is
    /// older than `session_timeout_ms`, and checks preferred leaders every
    /// `preferred_leader_check_ms` (never, given `None`).
    pub fn new(session_timeout_ms: i64, preferred_leader_check_ms: Option<i64>) -> Controller {
        Controller {
            brokers: BTreeMap::new(),
            partitions: BTreeMap::new(),
            unclean_election: BTreeMap::new(),
            preferred_leader_check_ms,
            session_timeout_ms,
            metadata_log: Vec::new(),
            recorded_at: BTreeMap::new(),
            metadata_end_offset: 0,
            appended: None,
            last_preferred_check_ms: 0,
            removed: std::collections::BTreeSet::new(),
            broker_configs: BTreeMap::new(),
            planted_bug: None,
        }
    }

    /// Sets how often leadership moves back to preferred replicas (`None`: never on its own).
    pub fn set_preferred_leader_check_ms(&mut self, every: Option<i64>) {
        self.preferred_leader_check_ms = every;
    }

    /// The metadata log since its last snapshot.
    pub fn metadata_log(&self) -> &[MetadataRecord] {
        &self.metadata_log
    }

    /// How many records the metadata log has had appended, compacted ones included: it moves
    /// exactly when the metadata changes.
    pub fn metadata_end_offset(&self) -> u64 {
        self.metadata_end_offset
    }

    fn append(&mut self, record: MetadataRecord) {
        match &record {
            MetadataRecord::Partition(state) => {
                self.recorded_at.insert(state.tp.clone(), self.metadata_log.len());
            }
            MetadataRecord::RemoveTopic { name } => self.recorded_at.retain(|tp, _| &tp.topic != name),
            _ => {}
        }
        if let Some(appended) = &mut self.appended {
            appended.push(record.clone());
        }
        self.metadata_log.push(record);
        self.metadata_end_offset += 1;
    }

    /// The records appended since the last call, in order: what the controller quorum
    /// replicates before anything decided with them reaches a broker (`kraft`).
    pub fn take_appended(&mut self) -> Vec<MetadataRecord> {
        self.appended.replace(Vec::new()).unwrap_or_default()
    }

    /// Replaces the metadata log with its snapshot once it has grown well past one.
    fn compact_metadata_log(&mut self) {
        let live = self.brokers.len() * 2 + self.partitions.len() * 2 + self.broker_configs.len();
        if self.metadata_log.len() <= live + METADATA_LOG_SLACK_RECORDS {
            return;
        }
        self.metadata_log = self.snapshot();
        self.recorded_at = recorded_positions(&self.metadata_log);
    }

    /// A controller restarted at `now_ms` over its metadata log: the topics and each partition's
    /// last recorded state (leader, epochs, ISR, ELR) come back; the brokers it knew keep their
    /// registrations and get a fresh session to heartbeat in (a restarted broker does so with a
    /// new incarnation, which the usual path handles).
    pub fn replay(
        now_ms: i64,
        records: Vec<MetadataRecord>,
        session_timeout_ms: i64,
        preferred_leader_check_ms: Option<i64>,
    ) -> Controller {
        let mut controller = Controller::new(session_timeout_ms, preferred_leader_check_ms);
        for record in &records {
            match record {
                MetadataRecord::RegisterBroker { broker, incarnation, rack } => {
                    let registration = Registration {
                        incarnation: *incarnation,
                        rack: rack.clone(),
                        last_heartbeat_ms: now_ms,
                        fenced: false,
                        leaving: false,
                    };
                    controller.brokers.insert(*broker, registration);
                    controller.removed.remove(broker);
                }
                MetadataRecord::BrokerLeaving { broker } => {
                    if let Some(registration) = controller.brokers.get_mut(broker) {
                        registration.leaving = true;
                    }
                }
                MetadataRecord::UnregisterBroker { broker } => {
                    controller.brokers.remove(broker);
                    controller.removed.insert(*broker);
                }
                MetadataRecord::FenceBroker { broker } => {
                    if let Some(registration) = controller.brokers.get_mut(broker) {
                        registration.fenced = true;
                    }
                }
                MetadataRecord::Topic { name, .. } => {
                    controller.unclean_election.entry(name.clone()).or_insert(false);
                }
                MetadataRecord::Partition(state) => {
                    controller.partitions.insert(state.tp.clone(), state.clone());
                }
                MetadataRecord::RemoveTopic { name } => {
                    controller.partitions.retain(|tp, _| &tp.topic != name);
                    controller.unclean_election.remove(name);
                }
                MetadataRecord::BrokerConfig { broker, name, value } => {
                    controller.replay_broker_config(*broker, name, value.clone());
                }
            }
        }
        controller.recorded_at = recorded_positions(&records);
        controller.metadata_end_offset = records.len() as u64;
        controller.metadata_log = records;
        controller.last_preferred_check_ms = now_ms;
        controller
    }

    /// The metadata log compacted as a KRaft snapshot would be: each broker's last registration
    /// (and fencing), each live topic, each partition's last state. Replaying it gives the same
    /// controller as replaying the whole log.
    pub fn snapshot(&self) -> Vec<MetadataRecord> {
        let mut records = Vec::new();
        for (&broker, registration) in &self.brokers {
            records.push(MetadataRecord::RegisterBroker {
                broker,
                incarnation: registration.incarnation,
                rack: registration.rack.clone(),
            });
            if registration.fenced {
                records.push(MetadataRecord::FenceBroker { broker });
            }
            if registration.leaving {
                records.push(MetadataRecord::BrokerLeaving { broker });
            }
        }
        records.extend(self.removed.iter().map(|&broker| MetadataRecord::UnregisterBroker { broker }));
        let mut topics: BTreeMap<&str, (i32, TopicId)> = BTreeMap::new();
        for (tp, state) in &self.partitions {
            let entry = topics.entry(tp.topic.as_str()).or_insert((0, state.topic_id));
            entry.0 += 1;
        }
        for (name, (partitions, topic_id)) in topics {
            records.push(MetadataRecord::Topic { name: name.to_string(), partitions, topic_id });
        }
        records.extend(self.partitions.values().cloned().map(MetadataRecord::Partition));
        records.extend(self.broker_configs.iter().map(|((broker, name), value)| {
            MetadataRecord::BrokerConfig { broker: *broker, name: name.clone(), value: Some(value.clone()) }
        }));
        records
    }

    fn replay_broker_config(&mut self, broker: Option<BrokerId>, name: &str, value: Option<String>) {
        match value {
            Some(value) => self.broker_configs.insert((broker, name.to_string()), value),
            None => self.broker_configs.remove(&(broker, name.to_string())),
        };
    }

    /// Kafka's IncrementalAlterConfigs on a BROKER resource: sets (`Some`) or deletes (`None`)
    /// dynamic configs of `broker` or (`None`) every broker's default, all or none (an unknown
    /// broker, a config that cannot be updated dynamically or a bad value refuses the whole
    /// change). The brokers apply them once they replay the ConfigRecords.
    pub fn alter_broker_configs(
        &mut self,
        broker: Option<BrokerId>,
        changes: &[(String, Option<String>)],
    ) -> Result<(), KafkaError> {
        if let Some(id) = broker.filter(|id| !self.brokers.contains_key(id)) {
            return Err(KafkaError::new(
                ErrorCode::BrokerIdNotRegistered,
                format!("Broker ID {id} is not currently registered"),
            ));
        }
        for (name, value) in changes {
            crate::config::validate_dynamic_broker_config(name, value.as_deref())?;
        }
        for (name, value) in changes {
            self.replay_broker_config(broker, name, value.clone());
            self.append(MetadataRecord::BrokerConfig { broker, name: name.clone(), value: value.clone() });
        }
        Ok(())
    }

    /// The dynamic broker configs: ((broker, or `None` for the default), name) → value.
    pub fn broker_configs(&self) -> &BTreeMap<(Option<BrokerId>, String), String> {
        &self.broker_configs
    }

    /// The registered brokers and whether each is fenced.
    pub fn registrations(&self) -> impl Iterator<Item = (BrokerId, bool)> + '_ {
        self.brokers.iter().map(|(&broker, r)| (broker, r.fenced))
    }

    /// Whether `broker` is being decommissioned.
    pub fn is_leaving(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|r| r.leaving)
    }

    /// Whether `broker` was decommissioned and unregistered.
    pub fn is_removed(&self, broker: BrokerId) -> bool {
        self.removed.contains(&broker)
    }

    /// Decommissions `broker` (`kite cluster remove-broker`): every partition that places a
    /// replica on it moves that replica to another live broker (`decommission::plan`, started
    /// as reassignments), it gets no new replicas, and once none is placed on it the controller
    /// unregisters it (`tick`). Asked again, it plans the partitions still on it. Returns how
    /// many partitions started moving; refused whole when the others cannot hold its replicas.
    pub fn remove_broker(
        &mut self,
        now_ms: i64,
        broker: BrokerId,
        trace: &mut Trace,
    ) -> Result<usize, KafkaError> {
        if !self.brokers.contains_key(&broker) {
            return Err(KafkaError::new(
                ErrorCode::BrokerIdNotRegistered,
                format!("Broker ID {broker} is not currently registered"),
            ));
        }
        if !self.brokers.iter().any(|(&b, r)| b != broker && !r.leaving) {
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("Broker {broker} is the last broker staying: a cluster keeps at least one."),
            ));
        }
        let remaining: Vec<BrokerId> = self
            .brokers
            .iter()
            .filter(|&(&b, r)| b != broker && !r.fenced && !r.leaving)
            .map(|(&b, _)| b)
            .collect();
        let racks = self.broker_racks();
        let moves = super::decommission::plan(self.partitions.values(), broker, &remaining, &racks)?;
        if let Some(registration) = self.brokers.get_mut(&broker).filter(|r| !r.leaving) {
            registration.leaving = true;
            self.append(MetadataRecord::BrokerLeaving { broker });
        }
        trace.push(now_ms, Event::BrokerLeaving { broker, moving: moves.len() });
        let moving = moves.len();
        for (tp, target) in moves {
            self.reassign(now_ms, &tp, Some(target), trace)?;
        }
        self.unregister_departed(now_ms, trace);
        Ok(moving)
    }

    /// Unregisters the leaving brokers no partition places a replica on any more.
    fn unregister_departed(&mut self, now_ms: i64, trace: &mut Trace) {
        let done: Vec<BrokerId> = self
            .brokers
            .iter()
            .filter(|(b, r)| r.leaving && !self.partitions.values().any(|s| s.replicas.contains(b)))
            .map(|(&b, _)| b)
            .collect();
        for broker in done {
            self.brokers.remove(&broker);
            self.removed.insert(broker);
            self.append(MetadataRecord::UnregisterBroker { broker });
            trace.push(now_ms, Event::BrokerUnregistered { broker });
        }
    }

    /// Deletes a topic (Kafka's DeleteTopics: a RemoveTopicRecord). The brokers drop its
    /// replicas when their host tells them to.
    pub fn delete_topic(&mut self, name: &str) {
        self.partitions.retain(|tp, _| tp.topic != name);
        self.unclean_election.remove(name);
        self.append(MetadataRecord::RemoveTopic { name: name.to_string() });
    }

    /// A topic's configs the controller acts on: `min.insync.replicas` (kept in each partition's
    /// state, which goes to the brokers) and `unclean.leader.election.enable`.
    pub fn set_topic_config(&mut self, name: &str, min_insync_replicas: usize, unclean_election: bool) {
        self.unclean_election.insert(name.to_string(), unclean_election);
        let tps: Vec<TopicPartition> =
            self.partitions.keys().filter(|tp| tp.topic == name).cloned().collect();
        for tp in tps {
            let Some(state) = self.partitions.get_mut(&tp) else { continue };
            if state.min_insync_replicas != min_insync_replicas {
                state.min_insync_replicas = min_insync_replicas;
                state.partition_epoch += 1;
                self.record(&tp);
            }
        }
    }

    /// A broker's controlled shutdown (KRaft: a heartbeat asking to shut down): it is fenced at
    /// once, leaving every ISR, and the partitions it led get new leaders before it stops.
    pub fn controlled_shutdown(&mut self, now_ms: i64, broker: BrokerId, trace: &mut Trace) {
        if self.alive(broker) {
            self.fence(now_ms, broker, trace);
        }
    }

    /// KIP-966's unclean recovery (its Balanced strategy): a partition without a leader, whose
    /// ISR and ELR are empty because every member restarted uncleanly, gets `leader` — the
    /// replica the host found with the longest log — once every replica is back. Nothing
    /// acknowledged can be on a replica that is not back, so none is given up by choosing.
    pub fn recover_leader(&mut self, now_ms: i64, tp: &TopicPartition, leader: BrokerId, trace: &mut Trace) {
        let alive: Vec<BrokerId> = self.brokers.iter().filter(|(_, r)| !r.fenced).map(|(&b, _)| b).collect();
        let Some(state) = self.partitions.get_mut(tp) else { return };
        let all_back = state.replicas.iter().all(|r| alive.contains(r));
        if state.leader.is_some() || !state.isr.is_empty() || !state.elr.is_empty() || !all_back {
            return;
        }
        if !state.replicas.contains(&leader) {
            return;
        }
        isr_of_one(state, leader, Vec::new(), now_ms, trace);
        set_leader(state, leader, now_ms, trace);
        self.record(tp);
    }

    /// Kafka's AlterPartitionReassignments for one partition: moves it to `target`, or cancels
    /// the reassignment in progress (`None`). The target is validated (INVALID_REPLICA_ASSIGNMENT
    /// names what is wrong); the replicas grow first, and the reassignment completes once the
    /// added replicas are in the ISR (`reassignment`).
    pub fn reassign(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        target: Option<Vec<BrokerId>>,
        trace: &mut Trace,
    ) -> Result<(), KafkaError> {
        let Some(current) = self.partitions.get(tp) else {
            return Err(KafkaError::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("This server does not host partition {tp}."),
            ));
        };
        // A broker being decommissioned keeps the replicas it has until they move, and gets no
        // new ones.
        let registered =
            |b: BrokerId| self.brokers.get(&b).is_some_and(|r| !r.leaving || current.replicas.contains(&b));
        if let Some(target) = &target {
            reassignment::validate(target, &registered)?;
        }
        let Some(state) = self.partitions.get_mut(tp) else { return Ok(()) };
        match target {
            Some(target) => {
                reassignment::start(state, target, now_ms, trace);
                if self.planted_bug == Some(PlantedBug::ReassignBeforeCatchUp) {
                    // The planted bug: the added replicas count as in sync before they fetched.
                    let adding = state.adding.clone();
                    state.isr.extend(adding);
                    reassignment::maybe_complete(state, now_ms, trace);
                }
            }
            None => reassignment::cancel(state, now_ms, trace)?,
        }
        self.record(tp);
        Ok(())
    }

    /// Kafka's ElectLeaders for one partition. Preferred: its first replica leads, if alive and
    /// in the ISR (PREFERRED_LEADER_NOT_AVAILABLE otherwise; ELECTION_NOT_NEEDED if it leads
    /// already). Unclean: a partition without a leader gets its first live replica as the whole
    /// ISR, in sync or not (ELECTION_NOT_NEEDED when it has a leader).
    pub fn elect_leader(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        election: ElectionType,
        trace: &mut Trace,
    ) -> Result<(), KafkaError> {
        let alive: Vec<BrokerId> = self.brokers.iter().filter(|(_, r)| !r.fenced).map(|(&b, _)| b).collect();
        let Some(state) = self.partitions.get_mut(tp) else {
            return Err(KafkaError::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("This server does not host partition {tp}."),
            ));
        };
        let not_needed = || {
            KafkaError::new(
                ErrorCode::ElectionNotNeeded,
                format!("Leader election not needed for topic partition {tp}."),
            )
        };
        match election {
            ElectionType::Preferred => {
                let preferred = state.replicas.first().copied().unwrap_or(-1);
                if state.leader == Some(preferred) {
                    return Err(not_needed());
                }
                if !alive.contains(&preferred) || !state.isr.contains(&preferred) {
                    return Err(KafkaError::new(
                        ErrorCode::PreferredLeaderNotAvailable,
                        format!(
                            "Failed to elect leader for partition {tp} under strategy PreferredReplicaPartitionLeaderElectionStrategy: broker {preferred} is not alive and in the ISR."
                        ),
                    ));
                }
                set_leader(state, preferred, now_ms, trace);
            }
            ElectionType::Unclean => {
                if state.leader.is_some() {
                    return Err(not_needed());
                }
                let Some(leader) = state.replicas.iter().copied().find(|r| alive.contains(r)) else {
                    return Err(KafkaError::new(
                        ErrorCode::EligibleLeadersNotAvailable,
                        format!(
                            "Failed to elect leader for partition {tp} under strategy UncleanPartitionLeaderElectionStrategy: no replica is alive."
                        ),
                    ));
                };
                isr_of_one(state, leader, Vec::new(), now_ms, trace);
                state.leader = Some(leader);
                state.leader_epoch += 1;
                state.partition_epoch += 1;
                let election = Event::Election {
                    tp: tp.clone(),
                    leader: Some(leader),
                    leader_epoch: state.leader_epoch,
                    unclean: true,
                };
                trace.push(now_ms, election);
            }
        }
        self.record(tp);
        Ok(())
    }

    /// Every partition being reassigned, with its state.
    pub fn reassignments(&self) -> impl Iterator<Item = &PartitionState> {
        self.partitions.values().filter(|s| reassignment::in_progress(s))
    }

    fn alive(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|r| !r.fenced)
    }

    /// Creates a topic with Kafka's replica assignment over the registered brokers: partition
    /// `p`'s first replica is broker `(start + p) % n`, the others follow at a shift that grows
    /// every `n` partitions (AdminUtils' rack-unaware assignment), `start` and `shift` drawn from
    /// `rng`. Leaders are the first replicas.
    #[allow(clippy::too_many_arguments)]
    pub fn create_topic(
        &mut self,
        now_ms: i64,
        name: &str,
        topic_id: TopicId,
        partitions: i32,
        replication_factor: usize,
        min_insync_replicas: usize,
        unclean_election: bool,
        rng: &mut Rng,
        trace: &mut Trace,
    ) -> Result<(), KafkaError> {
        // Only brokers the controller counts on get replicas (Kafka skips fenced brokers).
        let brokers: Vec<BrokerId> =
            self.brokers.iter().filter(|(_, r)| !r.fenced && !r.leaving).map(|(&b, _)| b).collect();
        let n = brokers.len();
        if replication_factor == 0 || replication_factor > n {
            return Err(KafkaError::new(
                ErrorCode::InvalidReplicationFactor,
                format!("Replication factor: {replication_factor} larger than available brokers: {n}."),
            ));
        }
        if self.partitions.keys().any(|tp| tp.topic == name) {
            return Err(KafkaError::new(
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        self.append(MetadataRecord::Topic { name: name.to_string(), partitions, topic_id });
        let placement = Placement { brokers: &brokers, replication_factor, min_insync_replicas };
        self.place_partitions(now_ms, name, topic_id, 0..partitions, placement, rng, trace);
        self.unclean_election.insert(name.to_string(), unclean_election);
        Ok(())
    }

    /// Kafka's CreatePartitions: `name` grows to `count` partitions, the new ones placed as a new
    /// topic's are, with the replication factor and `min.insync.replicas` of its partition 0.
    /// Fewer or as many as it has is INVALID_PARTITIONS; too few live brokers for its replication
    /// factor, INVALID_REPLICATION_FACTOR.
    pub fn create_partitions(
        &mut self,
        now_ms: i64,
        name: &str,
        count: i32,
        rng: &mut Rng,
        trace: &mut Trace,
    ) -> Result<(), KafkaError> {
        let existing = self.partitions.keys().filter(|tp| tp.topic == name).count() as i32;
        let first = TopicPartition { topic: name.to_string(), partition: 0 };
        let Some(template) = self.partitions.get(&first).cloned() else {
            return Err(KafkaError::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("This server does not host topic '{name}'."),
            ));
        };
        if count <= existing {
            return Err(KafkaError::new(ErrorCode::InvalidPartitions, partitions_refusal(existing, count)));
        }
        let brokers: Vec<BrokerId> =
            self.brokers.iter().filter(|(_, r)| !r.fenced && !r.leaving).map(|(&b, _)| b).collect();
        let replication_factor = template.replicas.len();
        if replication_factor > brokers.len() {
            return Err(KafkaError::new(
                ErrorCode::InvalidReplicationFactor,
                format!(
                    "Unable to replicate the partition {replication_factor} time(s): only {} broker(s) are registered and unfenced.",
                    brokers.len()
                ),
            ));
        }
        self.append(MetadataRecord::Topic {
            name: name.to_string(),
            partitions: count,
            topic_id: template.topic_id,
        });
        let placement = Placement {
            brokers: &brokers,
            replication_factor,
            min_insync_replicas: template.min_insync_replicas,
        };
        self.place_partitions(now_ms, name, template.topic_id, existing..count, placement, rng, trace);
        Ok(())
    }

    /// Each of `brokers` with its registered rack (`""` without one).
    fn racks(&self, brokers: &[BrokerId]) -> Vec<(BrokerId, String)> {
        let rack = |b: &BrokerId| self.brokers.get(b).and_then(|r| r.rack.clone()).unwrap_or_default();
        brokers.iter().map(|b| (*b, rack(b))).collect()
    }

    /// Each registered broker's rack, for the hosts' views.
    pub fn broker_racks(&self) -> BTreeMap<BrokerId, String> {
        self.brokers.iter().filter_map(|(&b, r)| Some((b, r.rack.clone()?))).collect()
    }

    /// Kafka's replica placement for partitions `range` of a topic: each partition's first
    /// replica round the brokers from a random start, the others shifted (a shift that moves on
    /// every round of the brokers), each partition led by its first replica.
    #[allow(clippy::too_many_arguments)]
    fn place_partitions(
        &mut self,
        now_ms: i64,
        name: &str,
        topic_id: TopicId,
        range: std::ops::Range<i32>,
        placement: Placement<'_>,
        rng: &mut Rng,
        trace: &mut Trace,
    ) {
        let Placement { brokers, replication_factor, min_insync_replicas } = placement;
        let n = brokers.len();
        let start = (rng.next_u64() % n as u64) as usize;
        let shift = (rng.next_u64() % n as u64) as usize;
        let count = (range.end - range.start).max(0) as usize;
        let racks = self.racks(brokers);
        let assignment = if racks.iter().any(|(_, rack)| !rack.is_empty()) {
            assign_replicas_rack_aware(&racks, count, replication_factor, start, shift)
        } else {
            assign_replicas(brokers, count, replication_factor, start, shift)
        };
        for (p, replicas) in range.zip(assignment) {
            let tp = TopicPartition { topic: name.to_string(), partition: p };
            let state = PartitionState {
                tp: tp.clone(),
                topic_id,
                leader: Some(replicas[0]),
                isr: replicas.clone(),
                elr: Vec::new(),
                replicas,
                leader_epoch: 0,
                partition_epoch: 0,
                min_insync_replicas,
                adding: Vec::new(),
                removing: Vec::new(),
            };
            trace.push(
                now_ms,
                Event::Election { tp: tp.clone(), leader: state.leader, leader_epoch: 0, unclean: false },
            );
            self.partitions.insert(tp.clone(), state);
            self.record(&tp);
        }
    }

    /// Records a partition's state in the metadata log if it changed: the brokers that host it
    /// read it there.
    fn record(&mut self, tp: &TopicPartition) {
        let Some(state) = self.partitions.get(tp) else { return };
        let recorded = self.recorded_at.get(tp).and_then(|&at| match self.metadata_log.get(at) {
            Some(MetadataRecord::Partition(s)) => Some(s),
            _ => None,
        });
        if recorded != Some(state) {
            self.append(MetadataRecord::Partition(state.clone()));
        }
    }

    /// A message for the controller: a broker's heartbeat (registers it, unfences it, or
    /// fences it when its log directory is offline), a leader's AlterPartition (applied if
    /// current and valid), or a client's Metadata.
    pub fn handle(
        &mut self,
        now_ms: i64,
        from: NodeId,
        message: Message,
        out: &mut Outbox,
        trace: &mut Trace,
    ) {
        match message {
            Message::BrokerHeartbeat { broker, incarnation, unclean_restart, log_dir_offline, rack } => {
                if log_dir_offline {
                    // Its replicas are gone until it restarts: fence it (elections move away),
                    // while it keeps heartbeating.
                    if self.brokers.get(&broker).is_some_and(|r| r.incarnation == incarnation && !r.fenced) {
                        self.fence(now_ms, broker, trace);
                    }
                    if let Some(registration) = self.brokers.get_mut(&broker) {
                        registration.last_heartbeat_ms = now_ms;
                    }
                    return;
                }
                self.heartbeat(now_ms, (broker, incarnation, rack), unclean_restart, trace)
            }
            Message::AlterPartition { tp, leader, leader_epoch, partition_epoch, isr } => {
                let Some(state) = self.partitions.get_mut(&tp) else { return };
                // Only the current leader, in the current epochs, may change the ISR; only live
                // replicas may join it.
                let current = state.leader == Some(leader)
                    && state.leader_epoch == leader_epoch
                    && state.partition_epoch == partition_epoch;
                let registrations = &self.brokers;
                let valid = !isr.is_empty()
                    && isr.contains(&leader)
                    && isr.iter().all(|r| {
                        state.replicas.contains(r)
                            && (state.isr.contains(r) || registrations.get(r).is_some_and(|g| !g.fenced))
                    });
                if current && valid && isr != state.isr {
                    set_isr(state, isr, now_ms, trace);
                    // The last replica a reassignment adds joining the ISR completes it.
                    reassignment::maybe_complete(state, now_ms, trace);
                }
                // A refused proposal changes nothing: the leader learns the state it missed from
                // the metadata log, and retries (ALTER_PARTITION_RETRY_MS) otherwise.
                self.record(&tp);
            }
            Message::Metadata { correlation } => {
                let partitions = self.partitions.values().cloned().collect();
                out.push((from, Message::MetadataResponse { correlation, partitions }));
            }
            _ => {}
        }
    }

    fn heartbeat(
        &mut self,
        now_ms: i64,
        (broker, incarnation, rack): (BrokerId, u64, Option<String>),
        unclean_restart: bool,
        trace: &mut Trace,
    ) {
        if self.removed.contains(&broker) {
            return;
        }
        let known = self.brokers.get(&broker).cloned();
        let restarted = known.as_ref().is_none_or(|r| r.incarnation != incarnation);
        // A new incarnation replaces the old one, which is fenced first (KRaft's new broker
        // epoch): whatever it led gets a new leader before the restarted broker is back.
        if restarted && known.as_ref().is_some_and(|r| !r.fenced) {
            self.fence(now_ms, broker, trace);
        }
        let was_fenced = self.brokers.get(&broker).is_none_or(|r| r.fenced);
        let leaving = known.as_ref().is_some_and(|r| r.leaving);
        let moved_rack = known.as_ref().is_some_and(|r| r.rack != rack);
        let registration = Registration {
            incarnation,
            rack: rack.clone(),
            last_heartbeat_ms: now_ms,
            fenced: false,
            leaving,
        };
        self.brokers.insert(broker, registration);
        if !restarted && !was_fenced {
            // The host gave it another `broker.rack` (Kite's racks are set after the brokers
            // first register): its registration records the new one.
            if moved_rack {
                self.append(MetadataRecord::RegisterBroker { broker, incarnation, rack });
            }
            return;
        }
        trace.push(now_ms, Event::Unfenced { broker, incarnation });
        self.append(MetadataRecord::RegisterBroker { broker, incarnation, rack });
        let tps: Vec<TopicPartition> = self
            .partitions
            .iter()
            .filter(|(_, s)| s.replicas.contains(&broker))
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in tps {
            if restarted && unclean_restart && known.is_some() {
                // A restarted broker may have lost unflushed records: it leaves every ISR and
                // ELR it was in and must catch up to rejoin.
                self.forget_unclean(now_ms, &tp, broker, trace);
            }
            if self.partitions.get(&tp).is_some_and(|s| s.leader.is_none()) {
                self.elect(now_ms, &tp, trace);
            }
            self.record(&tp);
        }
    }

    /// Fences `broker`: it leaves every ISR, and the partitions it led get new leaders.
    fn fence(&mut self, now_ms: i64, broker: BrokerId, trace: &mut Trace) {
        if let Some(registration) = self.brokers.get_mut(&broker) {
            registration.fenced = true;
        }
        trace.push(now_ms, Event::Fenced { broker });
        self.append(MetadataRecord::FenceBroker { broker });
        let tps: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        for tp in tps {
            let Some(state) = self.partitions.get_mut(&tp) else { continue };
            if !state.replicas.contains(&broker) {
                continue;
            }
            if state.isr.contains(&broker) {
                let isr = state.isr.iter().copied().filter(|&r| r != broker).collect();
                set_isr(state, isr, now_ms, trace);
            }
            if state.leader == Some(broker) {
                self.elect(now_ms, &tp, trace);
            }
            self.record(&tp);
        }
    }

    /// A broker that restarted may have lost unflushed records (an unclean shutdown): it is no
    /// longer eligible anywhere until it catches up and rejoins the ISR (KIP-966).
    fn forget_unclean(&mut self, now_ms: i64, tp: &TopicPartition, broker: BrokerId, trace: &mut Trace) {
        let Some(state) = self.partitions.get_mut(tp) else { return };
        if state.elr.contains(&broker) || state.isr.contains(&broker) {
            state.elr.retain(|&r| r != broker);
            let isr = state.isr.iter().copied().filter(|&r| r != broker).collect();
            set_isr(state, isr, now_ms, trace);
        }
    }

    /// Picks a leader for `tp`: the first replica in assignment order that is alive and in the
    /// ISR; failing that, one alive in the ELR (KIP-966); failing that, with unclean election
    /// enabled, the first live replica; failing that, none (offline). A leader chosen outside
    /// the ISR becomes the whole ISR. Bumps the leader epoch.
    fn elect(&mut self, now_ms: i64, tp: &TopicPartition, trace: &mut Trace) {
        let unclean_allowed = self.unclean_election.get(&tp.topic).copied().unwrap_or(false);
        let alive: Vec<BrokerId> = self.brokers.iter().filter(|(_, r)| !r.fenced).map(|(&b, _)| b).collect();
        let Some(state) = self.partitions.get_mut(tp) else { return };
        let pick = |among: &[BrokerId]| {
            state.replicas.iter().copied().find(|r| among.contains(r) && alive.contains(r))
        };
        let (leader, from_isr, unclean) = match (pick(&state.isr), pick(&state.elr)) {
            (Some(leader), _) => (Some(leader), true, false),
            (None, Some(leader)) => (Some(leader), false, false),
            (None, None) if unclean_allowed => (pick(&state.replicas), false, true),
            (None, None) => (None, false, false),
        };
        if leader == state.leader && leader.is_some() {
            return;
        }
        match (leader, from_isr, unclean) {
            // From the ELR: the others in it stay eligible (KIP-966: the high watermark could
            // not move while the ISR was below min.insync.replicas, so each holds all of it), and
            // if the new leader then restarts uncleanly, one of them leads without a loss.
            (Some(leader), false, false) => {
                let others: Vec<BrokerId> = state.elr.iter().copied().filter(|&r| r != leader).collect();
                isr_of_one(state, leader, others, now_ms, trace);
            }
            (Some(leader), false, true) => isr_of_one(state, leader, Vec::new(), now_ms, trace),
            _ => {}
        }
        state.leader = leader;
        state.leader_epoch += 1;
        state.partition_epoch += 1;
        trace.push(
            now_ms,
            Event::Election {
                tp: tp.clone(),
                leader,
                leader_epoch: state.leader_epoch,
                unclean: unclean && leader.is_some(),
            },
        );
    }

    /// Periodic work: fences brokers silent past the session timeout, unregisters decommissioned
    /// brokers left with no replica, and moves leadership back to preferred replicas that are in
    /// the ISR (every preferred-leader check).
    pub fn tick(&mut self, now_ms: i64, trace: &mut Trace) {
        self.compact_metadata_log();
        self.unregister_departed(now_ms, trace);
        let expired: Vec<BrokerId> = self
            .brokers
            .iter()
            .filter(|(_, r)| !r.fenced && now_ms - r.last_heartbeat_ms > self.session_timeout_ms)
            .map(|(&b, _)| b)
            .collect();
        for broker in expired {
            self.fence(now_ms, broker, trace);
        }
        if let Some(every) = self.preferred_leader_check_ms
            && now_ms - self.last_preferred_check_ms >= every
        {
            self.last_preferred_check_ms = now_ms;
            let tps: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
            for tp in tps {
                let Some(state) = self.partitions.get(&tp) else { continue };
                let preferred = state.replicas[0];
                if state.leader != Some(preferred) && state.isr.contains(&preferred) && self.alive(preferred)
                {
                    let state = self.partitions.get_mut(&tp).expect("listed above");
                    set_leader(state, preferred, now_ms, trace);
                    self.record(&tp);
                }
            }
        }
    }
}

/// Kafka's rack-aware replica assignment (AdminUtils' `assignReplicasToBrokersRackAware`) of
/// `count` partitions over `brokers` (each with its rack; `""` is a broker without one, a rack of
/// its own kind): the brokers are listed alternating between racks, partition `p`'s first replica
/// is `(start + p)` round that list, and each further replica is the next at the shift that does
/// not repeat a rack while some rack has none of the partition, nor a broker while some broker
/// has none. With at least as many racks as replicas, every replica of a partition is in another
/// rack, so losing a rack loses at most one copy.
pub fn assign_replicas_rack_aware(
    brokers: &[(BrokerId, String)],
    count: usize,
    replication_factor: usize,
    start: usize,
    shift: usize,
) -> Vec<Vec<BrokerId>> {
    let arranged = rack_alternated(brokers);
    let n = arranged.len();
    if n == 0 {
        return Vec::new();
    }
    let rack_of: BTreeMap<BrokerId, &str> = brokers.iter().map(|(b, r)| (*b, r.as_str())).collect();
    let racks = rack_of.values().collect::<BTreeSet<_>>().len();
    let replication_factor = replication_factor.min(n);
    first_replicas(count, n, start, shift)
        .map(|(first, shift)| {
            let mut replicas = vec![arranged[first]];
            let mut racks_used: BTreeSet<&str> = BTreeSet::from([rack_of[&arranged[first]]]);
            let mut k = 0;
            while replicas.len() < replication_factor {
                let step = 1 + (shift * racks + k) % (n - 1).max(1);
                let broker = arranged[(first + step) % n];
                let rack = rack_of[&broker];
                k += 1;
                let rack_ok = !racks_used.contains(rack) || racks_used.len() == racks;
                // Every broker fits once each rack has one; `k` past `n` laps means none does.
                if (rack_ok || k > n * n) && !replicas.contains(&broker) {
                    replicas.push(broker);
                    racks_used.insert(rack);
                }
            }
            replicas
        })
        .collect()
}

/// Each of `count` partitions' first replica (an index into `n` brokers, from `start` round
/// them) and the shift of its other replicas, which moves on at every round of the brokers.
fn first_replicas(
    count: usize,
    n: usize,
    start: usize,
    shift: usize,
) -> impl Iterator<Item = (usize, usize)> {
    (0..count).scan(shift, move |shift, p| {
        if p > 0 && p.is_multiple_of(n) {
            *shift += 1;
        }
        Some(((p + start) % n, *shift))
    })
}

/// Kafka's rack-alternated broker list: the racks in name order, each broker's rack's brokers in
/// id order, one broker of each rack in turn (`0 a, 1 b, 2 b, 3 a` gives `0, 1, 3, 2`).
fn rack_alternated(brokers: &[(BrokerId, String)]) -> Vec<BrokerId> {
    let mut by_rack: BTreeMap<&str, std::collections::VecDeque<BrokerId>> = BTreeMap::new();
    let mut sorted: Vec<&(BrokerId, String)> = brokers.iter().collect();
    sorted.sort();
    for (broker, rack) in sorted {
        by_rack.entry(rack.as_str()).or_default().push_back(*broker);
    }
    let mut arranged = Vec::with_capacity(brokers.len());
    while arranged.len() < brokers.len() {
        for queue in by_rack.values_mut() {
            if let Some(broker) = queue.pop_front() {
                arranged.push(broker);
            }
        }
    }
    arranged
}

/// Kafka's rack-unaware replica assignment (AdminUtils' `assignReplicasToBrokers`) of `count`
/// partitions over `brokers`: partition `p`'s first replica is broker `(start + p) % n`, the
/// others follow at a shift that moves on every `n` partitions, so leaders and followers spread
/// evenly. The controller draws `start` and `shift` at random; `kite partitions reassign
/// --generate` derives them from the topic's name.
pub fn assign_replicas(
    brokers: &[BrokerId],
    count: usize,
    replication_factor: usize,
    start: usize,
    shift: usize,
) -> Vec<Vec<BrokerId>> {
    let n = brokers.len();
    if n == 0 {
        return Vec::new();
    }
    first_replicas(count, n, start, shift)
        .map(|(first, shift)| {
            let mut replicas = vec![brokers[first]];
            for j in 0..replication_factor.min(n).saturating_sub(1) {
                let index = (first + 1 + (shift + j) % (n - 1).max(1)) % n;
                replicas.push(brokers[index]);
            }
            replicas
        })
        .collect()
}

/// A leader chosen from outside the ISR becomes the whole ISR, `elr` the ELR (empty after an
/// unclean election), recorded with the partition epoch the election that follows gives it.
fn isr_of_one(
    state: &mut PartitionState,
    leader: BrokerId,
    elr: Vec<BrokerId>,
    now_ms: i64,
    trace: &mut Trace,
) {
    state.elr = elr;
    state.isr = vec![leader];
    let change = Event::IsrChange {
        tp: state.tp.clone(),
        isr: state.isr.clone(),
        elr: state.elr.clone(),
        partition_epoch: state.partition_epoch + 1,
    };
    trace.push(now_ms, change);
}

/// Makes `leader` the partition's leader in a new leader epoch (a clean election: it is in the ISR).
fn set_leader(state: &mut PartitionState, leader: BrokerId, now_ms: i64, trace: &mut Trace) {
    state.leader = Some(leader);
    state.leader_epoch += 1;
    state.partition_epoch += 1;
    let election = Event::Election {
        tp: state.tp.clone(),
        leader: Some(leader),
        leader_epoch: state.leader_epoch,
        unclean: false,
    };
    trace.push(now_ms, election);
}

/// Sets a partition's ISR with KIP-966's rule for the ELR: members leaving while the ISR is below
/// `min.insync.replicas` become eligible leader replicas; an ISR back at the minimum clears it.
fn set_isr(state: &mut PartitionState, isr: Vec<BrokerId>, now_ms: i64, trace: &mut Trace) {
    if isr.len() < state.min_insync_replicas {
        for &leaving in state.isr.iter().filter(|r| !isr.contains(r)) {
            if !state.elr.contains(&leaving) {
                state.elr.push(leaving);
            }
        }
        state.elr.retain(|r| !isr.contains(r));
    } else {
        state.elr.clear();
    }
    state.isr = isr;
    state.partition_epoch += 1;
    trace.push(
        now_ms,
        Event::IsrChange {
            tp: state.tp.clone(),
            isr: state.isr.clone(),
            elr: state.elr.clone(),
            partition_epoch: state.partition_epoch,
        },
    );
}

/// Where each partition's last state is in `records`.
fn recorded_positions(records: &[MetadataRecord]) -> BTreeMap<TopicPartition, usize> {
    let mut positions = BTreeMap::new();
    for (at, record) in records.iter().enumerate() {
        match record {
            MetadataRecord::Partition(state) => {
                positions.insert(state.tp.clone(), at);
            }
            MetadataRecord::RemoveTopic { name } => {
                positions.retain(|tp: &TopicPartition, _| &tp.topic != name)
            }
            _ => {}
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(
        controller: &mut Controller,
        now_ms: i64,
        broker: BrokerId,
        incarnation: u64,
        offline: bool,
    ) {
        let message = Message::BrokerHeartbeat {
            broker,
            incarnation,
            unclean_restart: false,
            log_dir_offline: offline,
            rack: None,
        };
        controller.handle(now_ms, NodeId::Broker(broker), message, &mut Outbox::new(), &mut Trace::default());
    }

    /// Kafka's rack-alternated list (AdminUtilsTest's vector) and its rack-aware placement: at
    /// least as many racks as replicas puts every replica of a partition in another rack, the
    /// leaders spread over every broker.
    #[test]
    fn rack_aware_placement_spreads_each_partitions_replicas_over_racks() {
        let racks =
            |pairs: &[(i32, &str)]| pairs.iter().map(|(b, r)| (*b, r.to_string())).collect::<Vec<_>>();
        let six =
            racks(&[(0, "rack1"), (1, "rack3"), (2, "rack3"), (3, "rack2"), (4, "rack2"), (5, "rack1")]);
        assert_eq!(rack_alternated(&six), [0, 3, 1, 5, 4, 2]);
        let rack_of: BTreeMap<i32, String> = six.iter().cloned().collect();
        for (start, shift) in [(0, 0), (2, 1), (5, 4)] {
            let assignment = assign_replicas_rack_aware(&six, 12, 3, start, shift);
            for replicas in &assignment {
                let used: BTreeSet<&String> = replicas.iter().map(|b| &rack_of[b]).collect();
                assert_eq!(used.len(), 3, "{replicas:?} in three racks");
            }
            let leaders: BTreeSet<i32> = assignment.iter().map(|r| r[0]).collect();
            assert_eq!(leaders.len(), 6, "every broker leads some: {assignment:?}");
        }
        // Two racks, three replicas: both racks hold one, no broker twice.
        let four = racks(&[(0, "a"), (1, "a"), (2, "b"), (3, "b")]);
        for replicas in assign_replicas_rack_aware(&four, 8, 3, 1, 3) {
            let used: BTreeSet<&str> = replicas.iter().map(|b| if *b < 2 { "a" } else { "b" }).collect();
            assert_eq!((used.len(), replicas.iter().collect::<BTreeSet<_>>().len()), (2, 3), "{replicas:?}");
        }
    }

    /// A broker whose disk fails and comes back, again and again, for days: the metadata log
    /// records every fencing and every election, and is replaced by its snapshot whenever it
    /// grows past `METADATA_LOG_SLACK_RECORDS` beyond one, its end offset counting on.
    #[test]
    fn the_metadata_log_is_compacted_to_a_snapshot_as_it_grows() {
        const FLAPS: u64 = 20_000;
        let mut controller = Controller::new(BROKER_SESSION_TIMEOUT_MS, Some(300_000));
        for broker in 0..3 {
            heartbeat(&mut controller, 0, broker, 1, false);
        }
        let mut trace = Trace::default();
        let mut rng = Rng::from_seed(7);
        controller
            .create_topic(0, "t", TopicId::of_name("t"), 10, 3, 2, false, &mut rng, &mut trace)
            .unwrap();
        let mut longest = 0;
        for flap in 0..FLAPS {
            let now_ms = flap as i64;
            heartbeat(&mut controller, now_ms, 0, flap + 1, true);
            heartbeat(&mut controller, now_ms, 0, flap + 2, false);
            controller.tick(now_ms, &mut trace);
            longest = longest.max(controller.metadata_log().len());
        }
        assert!(controller.metadata_end_offset() > 3 * METADATA_LOG_SLACK_RECORDS as u64);
        // Between two ticks the log grows by one flap's records (a handful) past the bound.
        assert!(
            longest <= 2 * (3 + 10) + METADATA_LOG_SLACK_RECORDS + 100,
            "the log reached {longest} records"
        );
        let replayed = Controller::replay(
            0,
            controller.metadata_log().to_vec(),
            BROKER_SESSION_TIMEOUT_MS,
            Some(300_000),
        );
        assert_eq!(replayed.partitions, controller.partitions, "the compacted log replays to the same state");
    }
}
