//! The KRaft controllers (Kafka's `QuorumController` on each controller node): every one is a
//! voter of the metadata quorum (`quorum`), and a voter that leads runs the `Controller` over
//! the metadata log the quorum replicates. Whatever it decides is appended to that log first;
//! the brokers fetch the log as observers and get only what is committed, held by a majority,
//! and what the controller answers clients goes out only once every record it has appended is
//! committed: a controller cut off from the other voters, or one that crashes before its
//! records commit, has told nobody anything the next active controller will not know. The host
//! carries the voters' messages and delivers what is released; the checker's observations
//! (`KraftObservations`) are kept as it goes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::controller::Controller;
use super::partition::{Outbox, PlantedBug};
use super::protocol::{BrokerId, Message, MetadataRecord, NodeId, PartitionState, TopicPartition};
use super::quorum::{
    Entry, FetchResult, MAX_QUORUM_FETCH_ENTRIES, QUORUM_FETCH_MAX_WAIT_MS, QuorumMessage, QuorumNode,
    QuorumState, Snapshot, VoterId,
};
use crate::random::Rng;
use crate::trace::{Event, Trace};

/// Kafka's `controller.quorum.voters` of a cluster started without saying: three controllers,
/// so one may fail and the metadata still commits.
pub const DEFAULT_CONTROLLERS: usize = 3;
/// A controller compacts its metadata log into a snapshot (KIP-630) once this many committed
/// records follow the last one (Kafka counts bytes: `metadata.log.max.record.bytes.between.snapshots`,
/// 20 MB).
pub const METADATA_SNAPSHOT_INTERVAL_RECORDS: i64 = 1_000;

/// The most controllers a cluster may have (Kafka's quorums are three or five voters; seven
/// allows two more failures at the price of slower commits).
pub const MAX_CONTROLLERS: usize = 7;

/// `count` if it is a quorum Kite runs: odd (an even quorum survives no more failures than one
/// voter fewer, and its vote can split in half), 1 to `MAX_CONTROLLERS`.
pub fn check_quorum_size(count: usize) -> Result<usize, String> {
    if count % 2 == 1 && count <= MAX_CONTROLLERS {
        Ok(count)
    } else {
        Err(format!(
            "{count} controllers: a quorum has an odd number of voters, 1 to {MAX_CONTROLLERS} (an even one survives no more failures than one voter fewer)"
        ))
    }
}

/// What a controller keeps durable, as `QuorumNode::start` takes it back: its quorum state, its
/// snapshot, and its metadata log after the snapshot.
pub type DurableVoter = (QuorumState, Option<Snapshot<MetadataRecord>>, Vec<Entry<MetadataRecord>>);

/// A bug planted in the controllers' code, for proving the simulator's checker notices; `None`
/// is Kite's own code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedControllerBug {
    /// A controller acts without a majority: the brokers fetching its metadata log get its
    /// records before they commit, so a controller cut off from the other voters (or one about
    /// to crash) still moves leaders, while the majority elects another that moves them too.
    NoQuorum,
}

/// What is sent by the controllers' step, for the host to carry: the voters' quorum messages
/// (from, to, message) and what each leading controller releases.
#[derive(Debug, Default)]
pub struct ControllersOut {
    /// Between voters.
    pub quorum: Vec<(VoterId, VoterId, QuorumMessage<MetadataRecord>)>,
    /// From a controller to brokers and clients.
    pub released: Vec<(VoterId, Outbox)>,
}

/// What the checker judges the quorum by, gathered as the run goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KraftObservations {
    /// Which voters became the active controller in each epoch (Raft allows one).
    pub activations: BTreeMap<i32, BTreeSet<VoterId>>,
    /// The epoch of each committed metadata log entry, by offset, as leaders committed them.
    pub committed_epochs: Vec<i32>,
    /// Committed entries a new leader's log did not have (offset, committed epoch, its epoch).
    pub lost: Vec<(i64, i32, Option<i32>)>,
    /// Every committed partition state: (partition, leader epoch, partition epoch).
    pub committed_states: BTreeSet<(TopicPartition, i32, i32)>,
    /// Every partition state a controller's metadata log gave a fetching broker: (partition,
    /// leader epoch, partition epoch).
    pub released_states: BTreeSet<(TopicPartition, i32, i32)>,
    /// The leader each sent leader epoch named: (partition, leader epoch) → broker.
    pub released_leaders: BTreeMap<(TopicPartition, i32), i32>,
    /// A leader epoch of a partition sent with two different leaders: (partition, epoch).
    pub leader_epoch_conflicts: Vec<(TopicPartition, i32)>,
}

/// A voter that leads: its controller, the end of what it has appended, what it decided but
/// may not send before that commits (the log offset it waits for, and the messages), and the
/// brokers' metadata fetches it holds until there is more to give (broker → the offset asked,
/// since when).
struct Leading {
    epoch: i32,
    controller: Controller,
    proposed_end: i64,
    held: VecDeque<(i64, Outbox)>,
    observers: BTreeMap<BrokerId, (i64, i64)>,
}

/// One controller node: a quorum voter, running or crashed (its log and quorum state are
/// durable: they come back when it restarts).
struct ControllerNode {
    voter: QuorumNode<MetadataRecord>,
    running: bool,
    /// Frozen (a long GC pause, a stopped VM): it keeps its state, hears nothing, does nothing;
    /// resumed, it goes on from where it was, however stale.
    paused: bool,
}

impl ControllerNode {
    /// Running and not paused: it keeps time and answers.
    fn awake(&self) -> bool {
        self.running && !self.paused
    }
}

/// The controller quorum: the voters, the controllers the leading ones run, and what the last
/// active one knew (read by the host while an election runs, as a broker's metadata cache is).
pub struct Controllers {
    ids: Vec<VoterId>,
    nodes: BTreeMap<VoterId, ControllerNode>,
    leading: BTreeMap<VoterId, Leading>,
    last_known: Controller,
    session_timeout_ms: i64,
    /// How often the active controller moves leadership back to preferred replicas; `None`:
    /// `auto.leader.rebalance.enable=false`.
    preferred_leader_check_ms: Option<i64>,
    /// A bug planted in every controller's replica handling (`PlantedBug::ReassignBeforeCatchUp`).
    pub planted_bug: Option<PlantedBug>,
    /// A bug planted in how controllers use the quorum.
    pub planted_controller_bug: Option<PlantedControllerBug>,
    /// What the checker reads.
    pub observations: KraftObservations,
    /// Whether to gather `observations` (the simulator does; a host running for days does not:
    /// they grow with every record).
    pub observe: bool,
    /// Committed records after a voter's snapshot before it takes the next
    /// (`METADATA_SNAPSHOT_INTERVAL_RECORDS`; the simulator takes them far more often).
    pub snapshot_interval_records: i64,
}

impl Controllers {
    /// `count` controllers (ids 0, 1, …) starting with empty metadata logs at `now_ms`.
    pub fn new(
        count: usize,
        now_ms: i64,
        session_timeout_ms: i64,
        preferred_leader_check_ms: i64,
        rng: &mut Rng,
    ) -> Controllers {
        let ids: Vec<VoterId> = (0..count.clamp(1, MAX_CONTROLLERS) as VoterId).collect();
        let nodes = ids
            .iter()
            .map(|&id| {
                let voter =
                    QuorumNode::start(id, &ids, QuorumState::default(), None, Vec::new(), now_ms, rng);
                (id, ControllerNode { voter, running: true, paused: false })
            })
            .collect();
        Controllers {
            ids,
            nodes,
            leading: BTreeMap::new(),
            last_known: Controller::new(session_timeout_ms, Some(preferred_leader_check_ms)),
            session_timeout_ms,
            preferred_leader_check_ms: Some(preferred_leader_check_ms),
            planted_bug: None,
            planted_controller_bug: None,
            observations: KraftObservations::default(),
            observe: true,
            snapshot_interval_records: METADATA_SNAPSHOT_INTERVAL_RECORDS,
        }
    }

    /// `count` controllers starting over the metadata `records` a host kept (a snapshot every
    /// voter starts from), or with empty logs when there are none.
    pub fn restarted(
        count: usize,
        records: Vec<MetadataRecord>,
        now_ms: i64,
        session_timeout_ms: i64,
        preferred_leader_check_ms: i64,
        rng: &mut Rng,
    ) -> Controllers {
        let mut controllers =
            Controllers::new(count, now_ms, session_timeout_ms, preferred_leader_check_ms, rng);
        if records.is_empty() {
            return controllers;
        }
        let snapshot = Snapshot { end_offset: records.len() as i64, last_epoch: 0, records };
        for (&id, node) in controllers.nodes.iter_mut() {
            let (state, snapshot) = (QuorumState::default(), Some(snapshot.clone()));
            node.voter = QuorumNode::start(id, &controllers.ids, state, snapshot, Vec::new(), now_ms, rng);
        }
        controllers.last_known =
            Controller::replay(now_ms, snapshot.records, session_timeout_ms, Some(preferred_leader_check_ms));
        controllers
    }

    /// The running voter with the most up-to-date log (then the lowest id) stands for election
    /// now, unless a leader is known: on a network that loses nothing the quorum has its
    /// active controller as soon as the messages are delivered, not after an election timeout.
    pub fn elect_now(&mut self, now_ms: i64, rng: &mut Rng, out: &mut ControllersOut) {
        if self.nodes.values().any(|n| n.running && n.voter.leader().is_some()) {
            return;
        }
        let Some(id) = self.best_voter() else { return };
        let mut sent = Vec::new();
        self.nodes.get_mut(&id).expect("a voter").voter.campaign(now_ms, rng, &mut sent);
        out.quorum.extend(sent.into_iter().map(|(to, m)| (id, to, m)));
    }

    /// Controllers starting over what each kept durable (voter `i` is `voters[i]`: its quorum
    /// state, snapshot and log), as a host reads them back from their directories.
    pub fn from_durable(
        voters: Vec<DurableVoter>,
        now_ms: i64,
        session_timeout_ms: i64,
        preferred_leader_check_ms: i64,
        rng: &mut Rng,
    ) -> Controllers {
        let mut controllers =
            Controllers::new(voters.len(), now_ms, session_timeout_ms, preferred_leader_check_ms, rng);
        let ids = controllers.ids.clone();
        for (&id, (state, snapshot, log)) in ids.iter().zip(voters) {
            let voter = QuorumNode::start(id, &ids, state, snapshot, log, now_ms, rng);
            if let Some(node) = controllers.nodes.get_mut(&id) {
                node.voter = voter;
            }
        }
        // What the most up-to-date voter holds, read until one takes office.
        if let Some(best) = controllers.best_voter() {
            let voter = &controllers.nodes[&best].voter;
            let records = voter_records(voter, voter.end_offset());
            controllers.last_known =
                Controller::replay(now_ms, records, session_timeout_ms, Some(preferred_leader_check_ms));
        }
        controllers
    }

    /// The running voter with the most up-to-date log (its last entry's epoch, then its end),
    /// the lowest id first among equals: the one Raft's vote rules would elect.
    fn best_voter(&self) -> Option<VoterId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.awake())
            .max_by_key(|&(&id, n)| (n.voter.last_entry_epoch(), n.voter.end_offset(), std::cmp::Reverse(id)))
            .map(|(&id, _)| id)
    }

    /// Voter `id`'s quorum node: what a host keeps durable of it.
    pub fn node(&self, id: VoterId) -> Option<&QuorumNode<MetadataRecord>> {
        self.nodes.get(&id).map(|n| &n.voter)
    }

    /// The controllers' ids.
    pub fn ids(&self) -> &[VoterId] {
        &self.ids
    }

    /// The active controller: the leader of the latest epoch among the running voters, unless
    /// it is paused (nobody gets an answer from it).
    pub fn active(&self) -> Option<VoterId> {
        self.newest_leader().filter(|id| !self.nodes[id].paused)
    }

    /// The leader of the latest epoch, paused or not.
    fn newest_leader(&self) -> Option<VoterId> {
        self.leading.iter().max_by_key(|(_, l)| l.epoch).map(|(&id, _)| id)
    }

    /// The voters that believe they lead, newest epoch first (more than one only while a
    /// deposed leader has not noticed yet).
    pub fn leaders(&self) -> Vec<VoterId> {
        let mut leaders: Vec<(i32, VoterId)> = self.leading.iter().map(|(&id, l)| (l.epoch, id)).collect();
        leaders.sort_by(|a, b| b.cmp(a));
        leaders.into_iter().map(|(_, id)| id).collect()
    }

    /// The metadata as the active controller holds it, or as the last one did while none is
    /// active.
    pub fn state(&self) -> &Controller {
        match self.newest_leader() {
            Some(id) => &self.leading[&id].controller,
            None => &self.last_known,
        }
    }

    /// Whether voter `id` runs.
    pub fn is_running(&self, id: VoterId) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.running)
    }

    /// Voter `id`'s quorum view: its epoch, the leader it knows, its log end and high watermark.
    pub fn voter(&self, id: VoterId) -> Option<(i32, Option<VoterId>, i64, i64)> {
        let node = &self.nodes.get(&id)?.voter;
        Some((node.epoch(), node.leader(), node.end_offset(), node.high_watermark()))
    }

    /// Voter `id`'s role in the quorum (`QuorumNode::role_name`), or `stopped`.
    pub fn role(&self, id: VoterId) -> Option<&'static str> {
        let node = self.nodes.get(&id)?;
        Some(match (node.running, node.paused) {
            (false, _) => "stopped",
            (true, true) => "paused",
            (true, false) => node.voter.role_name(),
        })
    }

    /// Every voter's timers, then every leading controller's periodic work.
    pub fn tick(&mut self, now_ms: i64, rng: &mut Rng, out: &mut ControllersOut, trace: &mut Trace) {
        for (&id, node) in self.nodes.iter_mut().filter(|(_, n)| n.awake()) {
            let mut sent = Vec::new();
            node.voter.tick(now_ms, rng, &mut sent);
            out.quorum.extend(sent.into_iter().map(|(to, m)| (id, to, m)));
        }
        self.settle(now_ms, out, trace);
        let ids: Vec<VoterId> = self.leading.keys().copied().filter(|id| self.nodes[id].awake()).collect();
        for id in ids {
            self.on_leader(id, now_ms, out, trace, |controller, _, trace| controller.tick(now_ms, trace));
            self.answer_observers(id, now_ms, out);
        }
    }

    /// A quorum message from voter `from` for voter `to` (lost if `to` is down).
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        now_ms: i64,
        from: VoterId,
        to: VoterId,
        message: QuorumMessage<MetadataRecord>,
        rng: &mut Rng,
        out: &mut ControllersOut,
        trace: &mut Trace,
    ) {
        let Some(node) = self.nodes.get_mut(&to).filter(|n| n.awake()) else { return };
        let mut sent = Vec::new();
        node.voter.handle(now_ms, from, message, rng, &mut sent);
        out.quorum.extend(sent.into_iter().map(|(t, m)| (to, t, m)));
        self.settle(now_ms, out, trace);
    }

    /// A broker's or client's message for controller `to`; whether it was handled (only a
    /// leading controller handles one: Kafka's others answer NOT_CONTROLLER).
    pub fn handle(
        &mut self,
        now_ms: i64,
        to: VoterId,
        from: NodeId,
        message: Message,
        out: &mut ControllersOut,
        trace: &mut Trace,
    ) -> bool {
        let awake = self.nodes.get(&to).is_some_and(|n| n.awake());
        if let (Message::MetadataFetch { broker, .. }, true, false) =
            (&message, awake, self.leading.contains_key(&to))
        {
            // Not the leader: the broker is told so at once and asks again after a backoff, as
            // Kafka's observers do (it may have reached a bootstrap voter while none leads).
            let voter = &self.nodes[&to].voter;
            let result = FetchResult::NotLeader;
            let answer = Message::MetadataFetchResponse { high_watermark: voter.high_watermark(), result };
            out.released.push((to, vec![(NodeId::Broker(*broker), answer)]));
            return true;
        }
        if !awake || !self.leading.contains_key(&to) {
            return false;
        }
        if let Message::MetadataFetch { broker, fetch_offset } = message {
            if let Some(leading) = self.leading.get_mut(&to) {
                leading.observers.insert(broker, (fetch_offset, now_ms));
            }
            self.answer_observers(to, now_ms, out);
            return true;
        }
        self.on_leader(to, now_ms, out, trace, |controller, sent, trace| {
            controller.handle(now_ms, from, message, sent, trace)
        });
        true
    }

    /// An admin's change, made by the active controller; `None` when there is none (an
    /// election runs).
    pub fn act<T>(
        &mut self,
        now_ms: i64,
        out: &mut ControllersOut,
        trace: &mut Trace,
        change: impl FnOnce(&mut Controller, &mut Trace) -> T,
    ) -> Option<T> {
        let id = self.active()?;
        Some(self.on_leader(id, now_ms, out, trace, |controller, _, trace| change(controller, trace)))
    }

    /// The controller process stops (crash or kill): it leads nothing; its log and quorum state
    /// stay on its disk.
    pub fn crash(&mut self, id: VoterId) {
        if let Some(node) = self.nodes.get_mut(&id) {
            (node.running, node.paused) = (false, false);
        }
        self.step_down(id);
    }

    /// Freezes controller `id` (`pause`), or lets it go on from where it was: a leader resumed
    /// after the others elected another still believes it leads until its fetch timeout or the
    /// new leader's epoch tells it otherwise.
    pub fn pause(&mut self, id: VoterId, pause: bool) {
        if let Some(node) = self.nodes.get_mut(&id) {
            node.paused = pause;
        }
    }

    /// Whether controller `id` is paused.
    pub fn is_paused(&self, id: VoterId) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.paused)
    }

    /// The controller starts again over what it kept.
    pub fn restart(&mut self, id: VoterId, now_ms: i64, rng: &mut Rng) {
        let Some(node) = self.nodes.get_mut(&id).filter(|n| !n.running) else { return };
        let (state, log) = (node.voter.quorum_state(), node.voter.log().to_vec());
        let snapshot = node.voter.snapshot().cloned();
        let planted = node.voter.planted_bug;
        node.voter = QuorumNode::start(id, &self.ids, state, snapshot, log, now_ms, rng);
        node.voter.planted_bug = planted;
        node.running = true;
    }

    /// Sets how often the active controller moves leadership back to preferred replicas
    /// (`None`: never on its own), as the broker configs the cluster started with say.
    pub fn set_preferred_leader_check_ms(&mut self, every: Option<i64>) {
        self.preferred_leader_check_ms = every;
        self.last_known.set_preferred_leader_check_ms(every);
        for leading in self.leading.values_mut() {
            leading.controller.set_preferred_leader_check_ms(every);
        }
    }

    /// Runs `change` on leading controller `id`, replicates what it appended, and holds what
    /// it sent until that commits.
    fn on_leader<T>(
        &mut self,
        id: VoterId,
        now_ms: i64,
        out: &mut ControllersOut,
        trace: &mut Trace,
        change: impl FnOnce(&mut Controller, &mut Outbox, &mut Trace) -> T,
    ) -> T {
        let leading = self.leading.get_mut(&id).expect("a leading controller");
        let mut sent = Outbox::new();
        let result = change(&mut leading.controller, &mut sent, trace);
        let node = &mut self.nodes.get_mut(&id).expect("a voter").voter;
        let mut quorum = Vec::new();
        // One decision is one atomic batch: a fence and the elections it causes commit together.
        if let Some(end) = node.propose(now_ms, leading.controller.take_appended(), &mut quorum) {
            leading.proposed_end = end;
        }
        out.quorum.extend(quorum.into_iter().map(|(to, m)| (id, to, m)));
        if !sent.is_empty() {
            leading.held.push_back((leading.proposed_end, sent));
        }
        self.settle(now_ms, out, trace);
        result
    }

    /// Brings the controllers in line with the quorum: a voter that now leads becomes a
    /// controller (replaying its log), one that no longer does stops being one (what it held
    /// back is never sent), commits are observed, and what has committed is released.
    fn settle(&mut self, now_ms: i64, out: &mut ControllersOut, trace: &mut Trace) {
        let deposed: Vec<VoterId> = self
            .leading
            .iter()
            .filter(|(id, l)| {
                let node = &self.nodes[id];
                !node.running || !node.voter.is_leader() || node.voter.epoch() != l.epoch
            })
            .map(|(&id, _)| id)
            .collect();
        for id in deposed {
            self.step_down(id);
        }
        let risen: Vec<VoterId> = self
            .nodes
            .iter()
            .filter(|(id, n)| n.running && n.voter.is_leader() && !self.leading.contains_key(id))
            .map(|(&id, _)| id)
            .collect();
        for id in risen {
            self.take_office(id, now_ms, trace);
        }
        let ids: Vec<VoterId> = self.leading.keys().copied().collect();
        for id in ids {
            self.observe_commits(id);
            self.release(id, out);
            self.answer_observers(id, now_ms, out);
        }
        self.take_snapshots(now_ms);
    }

    /// Answers the brokers' metadata fetches leader `id` holds that it can answer now: with the
    /// snapshot when they ask below its log's start, the committed records from their offset
    /// (everything appended, when it acts without a majority), or none once one has waited
    /// `QUORUM_FETCH_MAX_WAIT_MS` (so the broker asks again); the others stay held.
    fn answer_observers(&mut self, id: VoterId, now_ms: i64, out: &mut ControllersOut) {
        let no_quorum = self.planted_controller_bug == Some(PlantedControllerBug::NoQuorum);
        let Some(leading) = self.leading.get_mut(&id) else { return };
        if leading.observers.is_empty() {
            return;
        }
        let voter = &self.nodes[&id].voter;
        let high_watermark = voter.high_watermark();
        let given = if no_quorum { voter.end_offset() } else { high_watermark };
        let mut answers = Outbox::new();
        leading.observers.retain(|&broker, &mut (offset, since_ms)| {
            let result = match voter.snapshot() {
                Some(snapshot) if offset < voter.log_start_offset() => {
                    FetchResult::Snapshot(snapshot.clone())
                }
                _ if offset < given => {
                    let end = voter.batch_end(given.min(offset + MAX_QUORUM_FETCH_ENTRIES as i64));
                    let entries = (offset..end).filter_map(|o| voter.entry(o).cloned()).collect();
                    FetchResult::Entries { from: offset, entries }
                }
                _ if now_ms - since_ms >= QUORUM_FETCH_MAX_WAIT_MS => {
                    FetchResult::Entries { from: offset, entries: Vec::new() }
                }
                _ => return true,
            };
            let answer = Message::MetadataFetchResponse { high_watermark, result };
            answers.push((NodeId::Broker(broker), answer));
            false
        });
        if self.observe {
            for (_, answer) in &answers {
                observe_released(&mut self.observations, answer);
            }
        }
        if !answers.is_empty() {
            out.released.push((id, answers));
        }
    }

    /// Each running voter whose committed log has grown `snapshot_interval_records` past its
    /// snapshot replaces that prefix with a new one: the controller state it builds, as records.
    fn take_snapshots(&mut self, now_ms: i64) {
        for node in self.nodes.values_mut().filter(|n| n.awake()) {
            let voter = &mut node.voter;
            let (start, committed) = (voter.log_start_offset(), voter.high_watermark());
            if committed - start < self.snapshot_interval_records {
                continue;
            }
            let state = Controller::replay(
                now_ms,
                voter_records(voter, committed),
                self.session_timeout_ms,
                self.preferred_leader_check_ms,
            );
            voter.compact(committed, state.snapshot());
        }
    }

    /// Voter `id` won its epoch: its controller is its metadata log replayed (what earlier
    /// leaders left uncommitted commits under this epoch, so it counts).
    fn take_office(&mut self, id: VoterId, now_ms: i64, trace: &mut Trace) {
        self.check_log_keeps_commits(id);
        let node = &self.nodes[&id].voter;
        let epoch = node.epoch();
        let mut controller = Controller::replay(
            now_ms,
            voter_records(node, node.end_offset()),
            self.session_timeout_ms,
            self.preferred_leader_check_ms,
        );
        controller.planted_bug = self.planted_bug;
        controller.take_appended();
        let proposed_end = node.end_offset();
        if self.observe {
            self.observations.activations.entry(epoch).or_default().insert(id);
        }
        trace.push(now_ms, Event::ControllerActivated { controller: id, epoch });
        let (held, observers) = (VecDeque::new(), BTreeMap::new());
        self.leading.insert(id, Leading { epoch, controller, proposed_end, held, observers });
    }

    /// Voter `id` stops being a controller; the newest one that stops is what is read until
    /// another takes office.
    fn step_down(&mut self, id: VoterId) {
        let Some(leading) = self.leading.remove(&id) else { return };
        if self.leading.values().all(|l| l.epoch < leading.epoch) {
            self.last_known = leading.controller;
        }
    }

    /// A leader's log must hold every entry committed so far, at the same epoch (what its
    /// snapshot covers was committed when it was taken).
    fn check_log_keeps_commits(&mut self, id: VoterId) {
        if !self.observe {
            return;
        }
        let node = &self.nodes[&id].voter;
        let from = node.log_start_offset().max(0) as usize;
        for (offset, &epoch) in self.observations.committed_epochs.iter().enumerate().skip(from) {
            let held = node.entry(offset as i64).map(|e| e.epoch);
            if held != Some(epoch) {
                self.observations.lost.push((offset as i64, epoch, held));
                return;
            }
        }
    }

    /// What leader `id` has newly committed joins the observations.
    fn observe_commits(&mut self, id: VoterId) {
        if !self.observe {
            return;
        }
        let node = &self.nodes[&id].voter;
        let committed = &mut self.observations.committed_epochs;
        for offset in committed.len() as i64..node.high_watermark() {
            let Some(entry) = node.entry(offset) else { break };
            committed.push(entry.epoch);
            if let Some(MetadataRecord::Partition(state)) = &entry.record {
                self.observations.committed_states.insert(state_key(state));
            }
        }
    }

    /// Sends what leader `id` held back and has now committed (everything at once when it acts
    /// without a majority).
    fn release(&mut self, id: VoterId, out: &mut ControllersOut) {
        let high_watermark = self.nodes[&id].voter.high_watermark();
        let no_quorum = self.planted_controller_bug == Some(PlantedControllerBug::NoQuorum);
        let Some(leading) = self.leading.get_mut(&id) else { return };
        while let Some((needs, _)) = leading.held.front() {
            if *needs > high_watermark && !no_quorum {
                break;
            }
            let (_, sent) = leading.held.pop_front().expect("looked at");
            out.released.push((id, sent));
        }
    }
}

/// The metadata records of a voter's snapshot and log below `end`, in order (LeaderChange
/// entries carry none).
fn voter_records(voter: &QuorumNode<MetadataRecord>, end: i64) -> Vec<MetadataRecord> {
    let mut records = voter.snapshot().map(|s| s.records.clone()).unwrap_or_default();
    records.extend(
        (voter.log_start_offset()..end)
            .filter_map(|offset| voter.entry(offset).and_then(|e| e.record.clone())),
    );
    records
}

/// The partition states a metadata fetch's answer gives a broker join the observations.
fn observe_released(observations: &mut KraftObservations, answer: &Message) {
    let Message::MetadataFetchResponse { result, .. } = answer else { return };
    let records: Vec<&MetadataRecord> = match result {
        FetchResult::Entries { entries, .. } => entries.iter().filter_map(|e| e.record.as_ref()).collect(),
        FetchResult::Snapshot(snapshot) => snapshot.records.iter().collect(),
        FetchResult::Diverging { .. } | FetchResult::NotLeader => Vec::new(),
    };
    for record in records {
        let MetadataRecord::Partition(state) = record else { continue };
        observations.released_states.insert(state_key(state));
        let Some(leader) = state.leader else { continue };
        let key = (state.tp.clone(), state.leader_epoch);
        if *observations.released_leaders.entry(key).or_insert(leader) != leader {
            observations.leader_epoch_conflicts.push((state.tp.clone(), state.leader_epoch));
        }
    }
}

/// How a partition state is told apart in the observations.
fn state_key(state: &PartitionState) -> (TopicPartition, i32, i32) {
    (state.tp.clone(), state.leader_epoch, state.partition_epoch)
}
