//! An in-process cluster with a perfect network: the KRaft controllers and N brokers whose
//! messages are delivered at once, in order, on a clock the caller moves. Clients (producers,
//! the consumer client) talk to it through their inboxes. The hosts (tab, server) run their
//! cluster on it; tests and benchmarks use it where the simulator's delays and faults would only
//! be noise.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::broker::{Broker, BrokerConfig};
use super::controller::Controller;
use super::kraft::{Controllers, ControllersOut, DEFAULT_CONTROLLERS, DurableVoter};
use super::partition::Outbox;
use super::protocol::{BrokerId, Message, MetadataRecord, NodeId, TopicPartition};
use super::quorum::VoterId;
use crate::config::Acks;
use crate::error::{ErrorCode, KafkaError};
use crate::group::consumer::{Consumer, ConsumerRecord};
use crate::random::Rng;
use crate::trace::Trace;

/// The clock moves in steps of this many milliseconds; every node ticks at each.
pub const LOCAL_TICK_MS: i64 = 10;
/// The controller's broker session timeout here (Kafka's `broker.session.timeout.ms`).
const BROKER_SESSION_TIMEOUT_MS: i64 = 9_000;
/// How often the controller checks preferred leaders (Kafka's 300 s).
const PREFERRED_LEADER_CHECK_MS: i64 = 300_000;
/// A synchronous produce gives up after this much virtual time.
const PRODUCE_WAIT_MS: i64 = 30_000;

/// The in-process cluster: the controller quorum, brokers, a queue of messages between them,
/// and each client's inbox.
pub struct LocalCluster {
    /// The cluster's clock (ms); it moves only when the caller advances it.
    pub now_ms: i64,
    /// The KRaft controllers: the quorum's leader runs the controller (`controller()`).
    pub controllers: Controllers,
    /// The brokers; broker `i` is at index `i`.
    pub brokers: Vec<Broker>,
    /// What happened, as trace events (emptied after every pump unless `keep_trace`).
    pub trace: Trace,
    /// Keep trace events (tests read them) or drop them as they come (benchmarks).
    pub keep_trace: bool,
    /// Brokers not running: messages to them are lost and they do not tick.
    pub down: BTreeSet<BrokerId>,
    /// Brokers cut off by a network partition: they run, but nothing they send or are sent
    /// arrives.
    pub isolated: BTreeSet<BrokerId>,
    /// Controllers cut off the same way, from the other voters, the brokers and the clients.
    pub isolated_controllers: BTreeSet<VoterId>,
    /// Single links a network partition cut, both ways (each pair kept in order): what one end
    /// sends the other is lost, while both still reach everyone else.
    pub cut_links: BTreeSet<(LinkEnd, LinkEnd)>,
    queue: VecDeque<(NodeId, NodeId, Message)>,
    /// While a paced change's messages are delivered (`act_paced`): how many more replica logs
    /// the brokers may create at once before the rest wait for `release_deferred`.
    pacing: Option<usize>,
    inbox: BTreeMap<u32, Vec<Message>>,
    rng: Rng,
    correlation: u64,
}

impl LocalCluster {
    /// `brokers` brokers, registered with the controller.
    pub fn new(brokers: usize, config: BrokerConfig, now_ms: i64) -> LocalCluster {
        LocalCluster::with_brokers(
            (0..brokers as BrokerId).map(|id| Broker::new(id, 1, config)).collect(),
            now_ms,
        )
    }

    /// These brokers (ids 0, 1, … in order), registered with the controller.
    pub fn with_brokers(brokers: Vec<Broker>, now_ms: i64) -> LocalCluster {
        LocalCluster::restarted(Vec::new(), brokers, now_ms)
    }

    /// Controllers restarted over the metadata `records` a host kept (`Controller::snapshot`),
    /// with these brokers; no records: a new cluster.
    pub fn restarted(records: Vec<MetadataRecord>, brokers: Vec<Broker>, now_ms: i64) -> LocalCluster {
        LocalCluster::with_controllers(DEFAULT_CONTROLLERS, records, brokers, now_ms)
    }

    /// `controllers` KRaft controllers over `records` (see `restarted`) with these brokers. The
    /// quorum elects its first leader before this returns: nothing is lost here, so no voter
    /// need wait out an election timeout.
    pub fn with_controllers(
        controllers: usize,
        records: Vec<MetadataRecord>,
        brokers: Vec<Broker>,
        now_ms: i64,
    ) -> LocalCluster {
        let mut rng = Rng::from_seed(1);
        let controllers = Controllers::restarted(
            controllers,
            records,
            now_ms,
            BROKER_SESSION_TIMEOUT_MS,
            PREFERRED_LEADER_CHECK_MS,
            &mut rng,
        );
        LocalCluster::with_parts(controllers, brokers, now_ms, rng)
    }

    /// Controllers starting over what each kept durable (`Controllers::from_durable`), with
    /// these brokers; the most up-to-date voter stands for election at once.
    pub fn with_voters(voters: Vec<DurableVoter>, brokers: Vec<Broker>, now_ms: i64) -> LocalCluster {
        let mut rng = Rng::from_seed(1);
        let controllers = Controllers::from_durable(
            voters,
            now_ms,
            BROKER_SESSION_TIMEOUT_MS,
            PREFERRED_LEADER_CHECK_MS,
            &mut rng,
        );
        LocalCluster::with_parts(controllers, brokers, now_ms, rng)
    }

    fn with_parts(mut controllers: Controllers, brokers: Vec<Broker>, now_ms: i64, rng: Rng) -> LocalCluster {
        controllers.observe = false;
        let mut cluster = LocalCluster {
            now_ms,
            controllers,
            brokers,
            trace: Trace::default(),
            keep_trace: true,
            down: BTreeSet::new(),
            isolated: BTreeSet::new(),
            isolated_controllers: BTreeSet::new(),
            cut_links: BTreeSet::new(),
            queue: VecDeque::new(),
            pacing: None,
            inbox: BTreeMap::new(),
            rng,
            correlation: 0,
        };
        cluster.elect_now();
        cluster.tick();
        cluster
    }

    /// The metadata as the active controller holds it (as the last one did while the quorum
    /// elects another).
    pub fn controller(&self) -> &Controller {
        self.controllers.state()
    }

    /// An admin's change, made by the active controller; the brokers fetch what it appended
    /// once that is committed, from the next `pump` on (a host keeps the metadata first).
    /// `None`: no controller is active (Kafka's NOT_CONTROLLER).
    pub fn act<T>(&mut self, change: impl FnOnce(&mut Controller, &mut Trace) -> T) -> Option<T> {
        // An admin's request reaches no controller cut off from the clients: it would wait for
        // an answer until a reachable one is elected.
        let active = self.controllers.active()?;
        if !self.reachable(NodeId::Client(0), NodeId::Voter(active)) {
            return None;
        }
        let mut out = ControllersOut::default();
        let result = self.controllers.act(self.now_ms, &mut out, &mut self.trace, change);
        self.enqueue_controllers(out);
        result
    }

    /// As `act`, except that past the first `per_turn` replica logs the brokers create for it
    /// (directories, files, fsyncs) the rest wait for `release_deferred`. A topic of a thousand
    /// partitions then creates its 3,000 replica logs a slice at a time, and a host answers
    /// other clients between slices, as Kafka's brokers create logs while their request
    /// handlers go on. The pacing lasts until the next `pump` has delivered what the change
    /// caused.
    pub fn act_paced<T>(
        &mut self,
        per_turn: usize,
        change: impl FnOnce(&mut Controller, &mut Trace) -> T,
    ) -> Option<T> {
        self.pacing = Some(per_turn);
        self.act(change)
    }

    /// The running voter with the longest log stands for election now (a host starting, or
    /// starting a controller again): see `Controllers::elect_now`.
    pub fn elect_now(&mut self) {
        let mut out = ControllersOut::default();
        self.controllers.elect_now(self.now_ms, &mut self.rng, &mut out);
        self.enqueue_controllers(out);
        self.pump();
    }

    /// Stops controller `id` (its log and quorum state stay); a stopped leader's epoch ends
    /// only when the other voters notice it is gone (their fetch timeout), as in Kafka.
    pub fn stop_controller(&mut self, id: VoterId) {
        self.controllers.crash(id);
    }

    /// Freezes controller `id` (`pause`) or lets it go on (`Controllers::pause`).
    pub fn pause_controller(&mut self, id: VoterId, pause: bool) {
        self.controllers.pause(id, pause);
        if !pause {
            self.tick();
        }
    }

    /// Starts controller `id` again over what it kept; it rejoins as a follower (or stands for
    /// election, when no leader is left to follow).
    pub fn start_controller(&mut self, id: VoterId) {
        self.controllers.restart(id, self.now_ms, &mut self.rng);
        self.tick();
    }

    /// Creates a topic and waits until every partition has its leader.
    pub fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        replication_factor: usize,
        min_insync_replicas: usize,
    ) -> Result<(), KafkaError> {
        let now = self.now_ms;
        let mut rng = self.rng.clone();
        let created = self.act(|controller, trace| {
            controller.create_topic(
                now,
                name,
                crate::ids::TopicId::of_name(name),
                partitions,
                replication_factor,
                min_insync_replicas,
                false,
                &mut rng,
                trace,
            )
        });
        self.rng = rng;
        created.ok_or_else(not_controller)??;
        self.pump();
        self.advance(LOCAL_TICK_MS);
        Ok(())
    }

    /// Puts a restarted broker (a new incarnation) in place of the one with its id, and runs the
    /// clock until the controller has registered it and told it its partitions.
    pub fn replace_broker(&mut self, broker: Broker) {
        let index = broker.id as usize;
        if index < self.brokers.len() {
            self.brokers[index] = broker;
        }
        self.advance(LOCAL_TICK_MS * 10);
    }

    /// Adds a broker to the running cluster (its id the next after the last); it registers at
    /// its first heartbeat and hosts nothing until partitions move to it.
    pub fn add_broker(&mut self, broker: Broker) {
        debug_assert_eq!(broker.id as usize, self.brokers.len(), "broker ids follow one another");
        self.trace.push(self.now_ms, crate::trace::Event::BrokerAdded { broker: broker.id });
        self.brokers.push(broker);
        self.advance(LOCAL_TICK_MS);
    }

    /// The partition's leader as the controller records it; `None` while it is offline.
    pub fn leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        self.controller().partitions.get(tp).and_then(|s| s.leader)
    }

    fn enqueue(&mut self, from: NodeId, out: Outbox) {
        self.queue.extend(out.into_iter().map(|(to, message)| (from, to, message)));
    }

    /// Queues what the controllers sent: between voters, and what each released to brokers and
    /// clients.
    fn enqueue_controllers(&mut self, out: ControllersOut) {
        for (from, to, message) in out.quorum {
            self.queue.push_back((NodeId::Voter(from), NodeId::Voter(to), Message::Quorum(message)));
        }
        for (from, sent) in out.released {
            self.enqueue(NodeId::Voter(from), sent);
        }
    }

    /// A message for controller `to`: a voter's quorum message, or a broker's or client's
    /// request (handled only by a controller that leads).
    fn deliver_to_controller(&mut self, from: NodeId, to: VoterId, message: Message) {
        let mut out = ControllersOut::default();
        match (from, message) {
            (NodeId::Voter(from), Message::Quorum(message)) => self.controllers.deliver(
                self.now_ms,
                from,
                to,
                message,
                &mut self.rng,
                &mut out,
                &mut self.trace,
            ),
            // Only voters speak the quorum's protocol.
            (_, Message::Quorum(_)) => {}
            (from, message) => {
                self.controllers.handle(self.now_ms, to, from, message, &mut out, &mut self.trace);
            }
        }
        self.enqueue_controllers(out);
    }

    /// Delivers every queued message (and what they cause) now.
    pub fn pump(&mut self) {
        while let Some((from, to, message)) = self.queue.pop_front() {
            // "The controller" is whichever voter leads now; while none does, the first running
            // voter (a bootstrap voter: it tells a fetching broker it does not lead).
            let to = match to {
                NodeId::Controller => {
                    match self.controllers.active().or_else(|| self.bootstrap_voter(from)) {
                        Some(id) => NodeId::Voter(id),
                        None => continue,
                    }
                }
                to => to,
            };
            if from != to && !self.reachable(from, to) {
                continue;
            }
            let mut out = Outbox::new();
            match to {
                NodeId::Controller => continue,
                NodeId::Voter(id) => {
                    self.deliver_to_controller(from, id, message);
                    continue;
                }
                NodeId::Broker(id) if self.down.contains(&id) => continue,
                NodeId::Broker(id) => match self.brokers.get_mut(id as usize) {
                    Some(broker) => {
                        // A paced change's budget of replica logs is shared by every broker.
                        broker.creation_budget = self.pacing;
                        broker.handle(self.now_ms, from, message, &mut out, &mut self.trace);
                        self.pacing = broker.creation_budget.take();
                    }
                    None => continue,
                },
                NodeId::Client(id) => self.inbox.entry(id).or_default().push(message),
            }
            self.enqueue(to, out);
        }
        self.pacing = None;
        if !self.keep_trace {
            self.trace.events.clear();
        }
    }

    /// The first running, awake voter `from` reaches: whom a node asks while no controller is
    /// active.
    fn bootstrap_voter(&self, from: NodeId) -> Option<VoterId> {
        let ids = self.controllers.ids();
        ids.iter().copied().find(|&v| {
            self.controllers.is_running(v)
                && !self.controllers.is_paused(v)
                && self.reachable(from, NodeId::Voter(v))
        })
    }

    /// Whether what `from` sends reaches `to`: neither is isolated and their link is not cut.
    pub fn reachable(&self, from: NodeId, to: NodeId) -> bool {
        let isolated = |node: NodeId| match node {
            NodeId::Broker(id) => self.isolated.contains(&id),
            NodeId::Voter(id) => self.isolated_controllers.contains(&id),
            NodeId::Controller | NodeId::Client(_) => false,
        };
        if isolated(from) || isolated(to) {
            return false;
        }
        self.cut_links.is_empty() || !self.cut_links.contains(&LinkEnd::pair(from.into(), to.into()))
    }

    /// Every node's periodic work at the current time.
    pub fn tick(&mut self) {
        let mut out = ControllersOut::default();
        self.controllers.tick(self.now_ms, &mut self.rng, &mut out, &mut self.trace);
        self.enqueue_controllers(out);
        for i in 0..self.brokers.len() {
            if self.down.contains(&(i as BrokerId)) {
                continue;
            }
            let mut out = Outbox::new();
            self.brokers[i].tick(self.now_ms, &mut out, &mut self.trace);
            self.enqueue(NodeId::Broker(i as BrokerId), out);
        }
        self.pump();
    }

    /// Moves the clock `ms` forward in ticks.
    pub fn advance(&mut self, ms: i64) {
        let until = self.now_ms + ms;
        while self.now_ms < until {
            self.now_ms += LOCAL_TICK_MS;
            self.tick();
        }
    }

    /// Creates the next `per_turn` held-back replica logs, each with the state its broker has
    /// replayed by now: a topic deleted since gets nothing. Whether more wait.
    ///
    /// Partition by partition across the brokers (always the lowest partition any running broker
    /// still waits to create), not broker by broker: a partition's replicas are then made in the
    /// same slice, so its leader never waits a whole broker's share of slices for its followers
    /// (its acks=all produces timing out until they come, or its ISR shrinking meanwhile), and
    /// partitions become writable in order.
    pub fn release_deferred(&mut self, per_turn: usize) -> bool {
        let mut budget = per_turn;
        while budget > 0 {
            let next = (0..self.brokers.len())
                .filter(|&i| !self.down.contains(&(i as BrokerId)))
                .filter_map(|i| self.brokers[i].first_pending_creation().map(|tp| (tp, i)))
                .min();
            let Some((_, i)) = next else { break };
            let (mut one, mut out) = (1, Outbox::new());
            self.brokers[i].create_pending(self.now_ms, &mut one, &mut out, &mut self.trace);
            budget -= 1 - one;
            self.enqueue(NodeId::Broker(i as BrokerId), out);
        }
        self.pump();
        self.has_deferred()
    }

    /// Whether `broker`'s replica of `tp` waits for `release_deferred`.
    pub fn is_deferred(&self, broker: BrokerId, tp: &TopicPartition) -> bool {
        self.brokers.get(broker as usize).is_some_and(|b| b.is_pending_creation(tp))
    }

    /// Whether replica creations wait for `release_deferred`.
    pub fn has_deferred(&self) -> bool {
        self.brokers
            .iter()
            .enumerate()
            .any(|(i, b)| !self.down.contains(&(i as BrokerId)) && b.has_pending_creations())
    }

    /// The followers of `tp` fetch from its leader now, until they have caught up (a perfect
    /// network: the leader's new records reach them at once).
    pub fn replicate(&mut self, tp: &TopicPartition) {
        let replicas = self.controller().partitions.get(tp).map(|s| s.replicas.clone()).unwrap_or_default();
        for replica in replicas {
            if self.down.contains(&replica) {
                continue;
            }
            let Some(broker) = self.brokers.get_mut(replica as usize) else { continue };
            let mut out = Outbox::new();
            broker.fetch_now(self.now_ms, tp, &mut out);
            self.enqueue(NodeId::Broker(replica), out);
        }
        self.pump();
    }

    /// What a client sends.
    pub fn send(&mut self, client: u32, out: Outbox) {
        self.enqueue(NodeId::Client(client), out);
        self.pump();
    }

    /// What has arrived for a client.
    pub fn take_inbox(&mut self, client: u32) -> Vec<Message> {
        self.inbox.remove(&client).unwrap_or_default()
    }

    /// Produces a batch through the partition's leader and waits for the answer.
    pub fn produce(
        &mut self,
        client: u32,
        tp: &TopicPartition,
        batch: Vec<u8>,
        acks: Acks,
    ) -> Result<i64, ErrorCode> {
        let leader = self.leader(tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        self.correlation += 1;
        let correlation = self.correlation;
        let message = Message::Produce { tp: tp.clone(), batch, acks, correlation };
        self.send(client, vec![(NodeId::Broker(leader), message)]);
        let deadline = self.now_ms + PRODUCE_WAIT_MS;
        loop {
            let mut answer = None;
            self.inbox.entry(client).or_default().retain(|m| match m {
                Message::ProduceResponse { correlation: c, result, .. } if *c == correlation => {
                    answer = Some(*result);
                    false
                }
                _ => true,
            });
            if let Some(result) = answer {
                return result;
            }
            if acks == Acks::None {
                return Ok(-1);
            }
            if self.now_ms >= deadline {
                return Err(ErrorCode::RequestTimedOut);
            }
            self.advance(LOCAL_TICK_MS);
        }
    }

    /// Hands a consumer what arrived for it, until it has nothing more to send.
    pub fn deliver(&mut self, consumer: &mut Consumer, mut out: Outbox) {
        loop {
            self.send(consumer.id, out);
            let messages = self.take_inbox(consumer.id);
            if messages.is_empty() {
                return;
            }
            out = Outbox::new();
            for message in messages {
                out.extend(consumer.handle(self.now_ms, message, &mut self.trace));
            }
        }
    }

    /// One `poll` of a consumer with everything it sends answered at once.
    pub fn poll(&mut self, consumer: &mut Consumer) -> Vec<ConsumerRecord> {
        let (records, out) = consumer.poll(self.now_ms, &mut self.trace);
        self.deliver(consumer, out);
        records
    }
}

/// What an admin change gets while no controller is active.
pub fn not_controller() -> KafkaError {
    KafkaError::new(
        ErrorCode::NotController,
        "No active controller can be reached: the KRaft quorum elects one once its voters notice the last one is gone.",
    )
}

/// One end of a network link, as a partition editor names it: `controller`, `broker-N`, or
/// `clients` for every producer and consumer (they reach the cluster through the same network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkEnd {
    /// The controller.
    Controller,
    /// One broker, by id.
    Broker(BrokerId),
    /// Every client at once.
    Clients,
}

impl LinkEnd {
    /// The two ends of a link in the order it is kept in (links are cut both ways).
    pub fn pair(a: LinkEnd, b: LinkEnd) -> (LinkEnd, LinkEnd) {
        if a <= b { (a, b) } else { (b, a) }
    }
}

impl From<NodeId> for LinkEnd {
    fn from(node: NodeId) -> LinkEnd {
        match node {
            NodeId::Controller | NodeId::Voter(_) => LinkEnd::Controller,
            NodeId::Broker(id) => LinkEnd::Broker(id),
            NodeId::Client(_) => LinkEnd::Clients,
        }
    }
}

impl std::fmt::Display for LinkEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkEnd::Controller => write!(f, "controller"),
            LinkEnd::Broker(id) => write!(f, "broker-{id}"),
            LinkEnd::Clients => write!(f, "clients"),
        }
    }
}

impl std::str::FromStr for LinkEnd {
    type Err = String;

    /// `controller`, `broker-N` or `clients`; anything else is named in the error.
    fn from_str(name: &str) -> Result<LinkEnd, String> {
        match name {
            "controller" => Ok(LinkEnd::Controller),
            "clients" => Ok(LinkEnd::Clients),
            _ => name
                .strip_prefix("broker-")
                .and_then(|id| id.parse::<BrokerId>().ok())
                .filter(|id| *id >= 0)
                .map(LinkEnd::Broker)
                .ok_or_else(|| {
                    format!("`{name}` is not a network node: name controller, broker-N or clients.")
                }),
        }
    }
}
