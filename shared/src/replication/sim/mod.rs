//! The deterministic simulator: brokers, the controller, producers and consumers on one
//! single-threaded virtual clock, a network with random delays (so messages reorder) and faults,
//! all randomness from one seed. Same seed, same code ⇒ the same trace, byte for byte.
//!
//! A run: the controller registers the brokers and creates topic `sim`; producers send unique
//! values ("p0-17") and consumers read to the high watermark while a nemesis crashes (losing
//! unflushed records), restarts, isolates and heals brokers; then every fault is healed, the
//! cluster settles, each partition's committed log is drained, and the checker judges.

mod groups;

pub use groups::{GROUP_ID, ResetTo};

use std::collections::{BTreeMap, BTreeSet};

use super::broker::{Broker, BrokerConfig};
use super::check::{History, Outcome, Sent, Violation, check};
use super::kraft::{Controllers, ControllersOut, DEFAULT_CONTROLLERS, PlantedControllerBug};
use super::partition::{Outbox, PlantedBug};
use super::protocol::{BrokerId, Message, NodeId, PartitionState, TopicPartition};
use super::quorum::VoterId;
use crate::config::Acks;
use crate::error::ErrorCode;
use crate::group::coordinator::CoordinatorConfig;
use crate::random::Rng;
use crate::record::batch::{BatchRecord, RecordBatch};
use crate::trace::{Event, Trace};

/// Every node's periodic work runs this often.
pub const TICK_MS: i64 = 10;
/// A message takes 1 to this many milliseconds on a link.
pub const MAX_LINK_DELAY_MS: u64 = 5;
/// How long a client waits for an answer before giving up on it.
pub const CLIENT_TIMEOUT_MS: i64 = 5_000;
/// How long the cluster runs after every fault is healed, before draining.
pub const HEAL_MS: i64 = 10_000;
/// How many times a producer sends a value refused before it was written.
pub const MAX_PRODUCE_RETRIES: u32 = 10;
/// How long a consumer waits after an empty fetch.
pub const CONSUMER_IDLE_MS: i64 = 50;
/// The topic the workload uses.
pub const TOPIC: &str = "sim";
/// The virtual clock's start, so timestamps look like wall-clock milliseconds.
pub const START_MS: i64 = 1_700_000_000_000;

/// A setting that gives up a guarantee, for proving the checker notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsafe {
    /// `unclean.leader.election.enable=true`, with up to three faults at a time so every
    /// eligible replica can be down while a lagging one is up, and every append flushed so
    /// crashes alone lose nothing (the safe setting under the same faults keeps everything).
    UncleanElection,
    /// `min.insync.replicas=1`: acks=all is acknowledged by the leader alone once the ISR shrinks
    /// (its followers cut off from it); if it then crashes, those records are gone.
    MinIsrOne,
    /// `acks=1`: acknowledged before replication.
    AcksOne,
    /// The consumer group commits what `poll` returned before processing it: a member that
    /// crashes mid-processing leaves records nobody processes.
    CommitBeforeProcessing,
    /// A bug planted in the code: the leader's high watermark runs one offset ahead of the
    /// ISR, so acks=all is answered before the last in-sync follower has the record.
    PlantedHighWatermarkOffByOne,
    /// A bug planted in the code: leaders skip the KIP-320 divergence check, so a follower
    /// keeps a tail the leader never had and builds on it.
    PlantedSkippedTruncation,
    /// A bug planted in the controller: a reassignment completes as soon as it starts, its new
    /// replicas counted in sync before they fetched anything (and one may lead, empty). Turns
    /// the admin's reassignments on, on four brokers.
    PlantedReassignBeforeCatchUp,
    /// A bug planted in the controllers: one acts without a majority, sending what it decided
    /// before its metadata records commit (`PlantedControllerBug::NoQuorum`).
    PlantedControllerNoQuorum,
}

impl Unsafe {
    /// Every unsafe setting, in the order `kite sim` lists them.
    pub const ALL: [Unsafe; 8] = [
        Unsafe::UncleanElection,
        Unsafe::MinIsrOne,
        Unsafe::AcksOne,
        Unsafe::CommitBeforeProcessing,
        Unsafe::PlantedHighWatermarkOffByOne,
        Unsafe::PlantedSkippedTruncation,
        Unsafe::PlantedReassignBeforeCatchUp,
        Unsafe::PlantedControllerNoQuorum,
    ];

    /// The setting's name for `kite sim --unsafe`.
    pub fn name(self) -> &'static str {
        match self {
            Unsafe::UncleanElection => "unclean-election",
            Unsafe::MinIsrOne => "min-isr-1",
            Unsafe::AcksOne => "acks-1",
            Unsafe::CommitBeforeProcessing => "commit-before-processing",
            Unsafe::PlantedHighWatermarkOffByOne => "planted-hw-off-by-one",
            Unsafe::PlantedSkippedTruncation => "planted-skipped-truncation",
            Unsafe::PlantedReassignBeforeCatchUp => "reassign-before-catch-up",
            Unsafe::PlantedControllerNoQuorum => "controller-no-quorum",
        }
    }

    /// The setting with this `--unsafe` name, if there is one.
    pub fn from_name(name: &str) -> Option<Unsafe> {
        Unsafe::ALL.into_iter().find(|u| u.name() == name)
    }
}

/// One simulation run's settings: the cluster, the workload and the faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Every random choice of the run comes from this seed: same seed, same run.
    pub seed: u64,
    /// How many brokers (ids 0, 1, …).
    pub brokers: usize,
    /// Partitions of the workload's topic `sim`.
    pub partitions: i32,
    /// Replicas per partition, for `sim` and `__consumer_offsets` alike.
    pub replication_factor: usize,
    /// `min.insync.replicas` of both topics.
    pub min_insync_replicas: usize,
    /// The producers' `acks`.
    pub acks: Acks,
    /// `unclean.leader.election.enable` of both topics.
    pub unclean_election: bool,
    /// Simulated time with the workload and faults, before healing.
    pub duration_ms: i64,
    /// The nemesis crashes brokers (unflushed writes lost or torn) and restarts them.
    pub crash_faults: bool,
    /// Isolate, cut off from the brokers, flaky links.
    pub partition_faults: bool,
    /// The nemesis pauses brokers (a long GC pause, a stopped VM) and resumes them.
    pub pause_faults: bool,
    /// Full and slow disks.
    pub disk_faults: bool,
    /// The most broker faults active at once.
    pub max_concurrent_faults: usize,
    /// How many producers; each sends unique values (`p0-17`) round-robin over the partitions
    /// of `sim`.
    pub producers: u32,
    /// How many standalone consumers (no group); each reads every partition of `sim` from
    /// offset 0 up to the high watermark.
    pub consumers: u32,
    /// A producer sends its next value at least this long (ms) after the last one.
    pub produce_interval_ms: i64,
    /// Kafka's `replica.lag.time.max.ms` (ms). This and the next three are scaled down from
    /// Kafka's defaults (30 s, 2 s, 9 s, 300 s) so a 10-second run sees failovers; the
    /// mechanisms are the same.
    pub replica_lag_time_max_ms: i64,
    /// The brokers' `broker.heartbeat.interval.ms` (ms).
    pub heartbeat_interval_ms: i64,
    /// The controller's `broker.session.timeout.ms` (ms): a broker silent this long is fenced.
    pub session_timeout_ms: i64,
    /// How often (ms) the controller moves leadership back to preferred replicas.
    pub preferred_leader_check_ms: i64,
    /// Every append flushed before it counts (Kite's `--fsync`): a crash loses nothing
    /// acknowledged, and a restart is a clean one.
    pub flush_every_append: bool,
    /// Members of the consumer group `sim-group` (0: no group, no `__consumer_offsets`).
    pub group_members: u32,
    /// Members crash, leave and rejoin.
    pub group_faults: bool,
    /// The members' `partition.assignment.strategy`; empty: one assignor picked by the seed.
    pub assignors: Vec<String>,
    /// `__consumer_offsets` partitions (Kafka's default is 50; a small cluster needs fewer).
    pub offsets_partitions: i32,
    /// Members commit what each poll returned at once, before processing it, with auto commit
    /// off (`Unsafe::CommitBeforeProcessing`).
    pub commit_before_processing: bool,
    /// A bug planted in every replica's code (`Unsafe::Planted…`); `None` is Kite's own code.
    pub planted_bug: Option<PlantedBug>,
    /// An admin moves partitions of `sim` during the workload (AlterPartitionReassignments):
    /// every `REASSIGN_MIN_INTERVAL_MS` to twice that, one partition to a random set of
    /// `replication_factor` brokers. Moves need more brokers than the replication factor.
    pub reassignments: bool,
    /// An admin grows and shrinks the cluster during the workload: every
    /// `MEMBERSHIP_MIN_INTERVAL_MS` to twice that, a broker added (always while no more than
    /// `replication_factor` stay) or one decommissioned (`Controller::remove_broker`).
    pub membership: bool,
    /// How many KRaft controllers (quorum voters, ids 0, 1, …).
    pub controllers: usize,
    /// The nemesis also crashes (and restarts), isolates, and cuts controllers off from the
    /// other controllers, the active one half the time.
    pub controller_faults: bool,
    /// A bug planted in the controllers (`Unsafe::PlantedControllerNoQuorum`); `None` is Kite's
    /// own code.
    pub controller_bug: Option<PlantedControllerBug>,
}

impl SimConfig {
    /// The safe setting: RF 3, min ISR 2, acks=all, unclean election off, one fault at a time.
    pub fn safe(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            brokers: 3,
            partitions: 2,
            replication_factor: 3,
            min_insync_replicas: 2,
            acks: Acks::All,
            unclean_election: false,
            duration_ms: 10_000,
            crash_faults: true,
            partition_faults: true,
            pause_faults: true,
            disk_faults: true,
            max_concurrent_faults: 1,
            producers: 2,
            consumers: 1,
            produce_interval_ms: 20,
            replica_lag_time_max_ms: 1_500,
            heartbeat_interval_ms: 500,
            session_timeout_ms: 2_000,
            preferred_leader_check_ms: 5_000,
            flush_every_append: false,
            group_members: 3,
            group_faults: true,
            assignors: Vec::new(),
            offsets_partitions: 3,
            commit_before_processing: false,
            planted_bug: None,
            reassignments: false,
            membership: false,
            controllers: DEFAULT_CONTROLLERS,
            controller_faults: true,
            controller_bug: None,
        }
    }

    /// The safe setting with brokers added and removed during the workload.
    pub fn changing_membership(seed: u64) -> SimConfig {
        SimConfig { membership: true, ..SimConfig::safe(seed) }
    }

    /// The safe setting on four brokers with the admin's reassignments during the workload.
    pub fn reassigning(seed: u64) -> SimConfig {
        SimConfig { brokers: REASSIGN_BROKERS, reassignments: true, ..SimConfig::safe(seed) }
    }

    /// This configuration with `setting` applied. Unclean election also allows three faults at
    /// once and flushes every append, so only the election can lose acknowledged records.
    pub fn with_unsafe(mut self, setting: Unsafe) -> SimConfig {
        match setting {
            Unsafe::UncleanElection => {
                self.unclean_election = true;
                self.max_concurrent_faults = 3;
                self.flush_every_append = true;
            }
            Unsafe::MinIsrOne => self.min_insync_replicas = 1,
            Unsafe::AcksOne => self.acks = Acks::Leader,
            Unsafe::CommitBeforeProcessing => self.commit_before_processing = true,
            Unsafe::PlantedHighWatermarkOffByOne => {
                self.planted_bug = Some(PlantedBug::HighWatermarkOffByOne);
            }
            Unsafe::PlantedSkippedTruncation => {
                self.planted_bug = Some(PlantedBug::SkippedFollowerTruncation)
            }
            Unsafe::PlantedReassignBeforeCatchUp => {
                self.planted_bug = Some(PlantedBug::ReassignBeforeCatchUp);
                self.reassignments = true;
                self.brokers = self.brokers.max(REASSIGN_BROKERS);
            }
            Unsafe::PlantedControllerNoQuorum => {
                self.controller_bug = Some(PlantedControllerBug::NoQuorum);
                self.controller_faults = true;
            }
        }
        self
    }
}

/// Counts from one run, for the sweep's summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Virtual time the run took, from `START_MS` to the end of the group's drain (ms).
    pub simulated_ms: i64,
    /// Distinct values the producers sent (retries not counted).
    pub sent: usize,
    /// Values the producers had acknowledged.
    pub acked: usize,
    /// Records the standalone consumers read.
    pub consumed: usize,
    /// Faults injected (heals not counted).
    pub faults: usize,
    /// Messages delivered to a node (dropped ones and ones held for a paused broker not counted).
    pub messages: u64,
}

/// Everything one run produced.
pub struct SimResult {
    /// Every event of the run, in order.
    pub trace: Trace,
    /// What the clients sent, were told and read, and the final logs: the checker's input.
    pub history: History,
    /// What the checker found; empty when every guarantee held.
    pub violations: Vec<Violation>,
    /// Counts for the summary line.
    pub stats: SimStats,
}

struct InFlight {
    value: String,
    tp: TopicPartition,
    correlation: u64,
    sent_ms: i64,
    attempts: u32,
}

struct Producer {
    id: u32,
    next_seq: u64,
    in_flight: Option<InFlight>,
    /// A value refused before it was written, to send again.
    retry: Option<(String, TopicPartition, u32)>,
    next_send_ms: i64,
}

struct Consumer {
    id: u32,
    positions: BTreeMap<TopicPartition, i64>,
    in_flight: BTreeMap<TopicPartition, (u64, i64)>,
    next_fetch_ms: BTreeMap<TopicPartition, i64>,
}

/// In a `Split`'s `side` mask: bit `b` for broker `b`, and these two for the controller and the
/// clients.
const SPLIT_CONTROLLER_BIT: u64 = 1 << 62;
const SPLIT_CLIENTS_BIT: u64 = 1 << 63;

/// In a `Split`'s `side` mask: bit `VOTER_BIT_BASE + v` for controller `v`.
const VOTER_BIT_BASE: u32 = 48;

fn split_bit(node: NodeId) -> u64 {
    match node {
        NodeId::Controller => SPLIT_CONTROLLER_BIT,
        NodeId::Voter(v) => 1 << (VOTER_BIT_BASE + v.clamp(0, 13) as u32),
        NodeId::Client(_) => SPLIT_CLIENTS_BIT,
        NodeId::Broker(b) => 1 << b,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Crashed(BrokerId),
    /// Cut off from every other node.
    Isolated(BrokerId),
    /// Cut off from the other brokers only: the controller and clients still reach it.
    CutFromBrokers(BrokerId),
    /// Stopped (a long GC pause, a stopped VM): it neither runs nor answers; messages to it wait
    /// and are delivered when it resumes — it may wake as a fenced, stale leader.
    Paused(BrokerId),
    /// A network partition: the nodes in `side` (some brokers, maybe the controller, maybe the
    /// clients) cannot talk with the rest.
    Split {
        side: u64,
    },
    /// Its disk is full: its next write fails and its log directory goes offline until it is
    /// restarted (with room again); nothing already written is lost.
    DiskFull(BrokerId),
    /// Its disk is slow: everything it sends is 100–300 ms later.
    SlowDisk(BrokerId),
    /// Its links drop 30% of messages, delay the rest by up to 50 ms more, and duplicate 10% of
    /// those between brokers and the controller.
    Flaky(BrokerId),
    /// A controller's process stops; it restarts over its metadata log when healed.
    ControllerCrashed(VoterId),
    /// A controller is cut off from every other node.
    ControllerIsolated(VoterId),
    /// A controller is cut off from the other controllers only: brokers and clients still reach
    /// it (a leader there cannot commit, and should not act).
    ControllerCutOff(VoterId),
    /// A controller is frozen (a long GC pause): what reaches it meanwhile is lost; resumed, a
    /// leader of an old epoch goes on as if nothing happened until it learns otherwise.
    ControllerPaused(VoterId),
}

/// A message on its way: from, to, what.
type Envelope = (NodeId, NodeId, Message);

impl Fault {
    /// The brokers it affects.
    fn brokers(self) -> Vec<BrokerId> {
        match self {
            Fault::Crashed(b)
            | Fault::Isolated(b)
            | Fault::CutFromBrokers(b)
            | Fault::Paused(b)
            | Fault::DiskFull(b)
            | Fault::SlowDisk(b)
            | Fault::Flaky(b) => vec![b],
            Fault::ControllerCrashed(_)
            | Fault::ControllerIsolated(_)
            | Fault::ControllerCutOff(_)
            | Fault::ControllerPaused(_) => Vec::new(),
            // The brokers on the named side; the others are cut off from them, but they are
            // the ones the fault "is".
            Fault::Split { side } => {
                (0..VOTER_BIT_BASE).filter(|b| side & (1 << b) != 0).map(|b| b as BrokerId).collect()
            }
        }
    }
}

/// The brokers a run with reassignments has: one more than the replication factor, so a
/// partition's replicas can move to a broker that held none.
pub const REASSIGN_BROKERS: usize = 4;
/// The controllers snapshot their metadata log this often here (records), so a run sees
/// snapshots taken, and sent to a controller that was down while the others took one.
pub const SIM_METADATA_SNAPSHOT_INTERVAL_RECORDS: i64 = 25;

/// Mixed into the run's seed for the placement's own random source.
const PLACEMENT_SEED_MIX: u64 = 0x706c_6163_656d_656e;

/// The replication throttle rates the admin picks from before each reassignment (or none): low
/// enough that a replica catching up a few seconds of the workload is held back.
const SIM_THROTTLE_RATES_BYTES_PER_SEC: [u64; 2] = [200, 2_000];

/// Both throttled-replicas lists at `*`: every replica of the topic throttled.
fn throttled_everywhere() -> crate::config::TopicConfig {
    let mut config = crate::config::TopicConfig::default();
    config.leader_replication_throttled_replicas = crate::config::ThrottledReplicas::All;
    config.follower_replication_throttled_replicas = crate::config::ThrottledReplicas::All;
    config
}

/// The admin's next reassignment comes this long after the last, up to twice as long.
pub const REASSIGN_MIN_INTERVAL_MS: i64 = 1_000;

/// The admin's next broker addition or removal comes this long after the last, up to twice as long.
pub const MEMBERSHIP_MIN_INTERVAL_MS: i64 = 1_500;
/// A run with membership changes adds brokers up to this many ids.
pub const MEMBERSHIP_MAX_BROKER_IDS: BrokerId = 8;

/// A flaky link drops this share of messages, in percent.
pub const FLAKY_DROP_PERCENT: u64 = 30;
/// A slow disk delays everything its broker sends by at least this much…
pub const SLOW_DISK_MIN_DELAY_MS: i64 = 100;
/// …plus up to this much more.
pub const SLOW_DISK_EXTRA_DELAY_MS: u64 = 200;
/// A flaky link between brokers (or the controller) duplicates this share of messages, in percent.
pub const FLAKY_DUPLICATE_PERCENT: u64 = 10;
/// A flaky link adds up to this much delay.
pub const FLAKY_EXTRA_DELAY_MS: u64 = 50;

struct World {
    config: SimConfig,
    now: i64,
    rng: Rng,
    /// Where topics' replicas go comes from its own seeded source, so a run's placement does not
    /// move with the timing of everything before (a story's brokers stay the ones it names).
    placement_rng: Rng,
    controllers: Controllers,
    /// Controllers cut off from every node, and ones cut off from the other controllers.
    isolated_controllers: BTreeSet<VoterId>,
    cut_off_controllers: BTreeSet<VoterId>,
    brokers: BTreeMap<BrokerId, (Broker, bool)>,
    isolated: BTreeSet<BrokerId>,
    cut_from_brokers: BTreeSet<BrokerId>,
    paused: BTreeSet<BrokerId>,
    /// Messages that reached a paused broker, delivered when it resumes.
    held: Vec<(NodeId, NodeId, Message)>,
    flaky: BTreeSet<BrokerId>,
    slow_disk: BTreeSet<BrokerId>,
    /// Active network partitions, as side masks.
    splits: Vec<u64>,
    /// Messages on their way, by arrival time: boxed, so the map moves pointers, not messages,
    /// as it rebalances (moving whole messages was a sixth of a run's time).
    network: BTreeMap<(i64, u64), Box<Envelope>>,
    sequence: u64,
    trace: Trace,
    history: History,
    producers: Vec<Producer>,
    consumers: Vec<Consumer>,
    /// Each client's view of partition leaders (from metadata).
    leaders: BTreeMap<(u32, TopicPartition), BrokerId>,
    metadata_wanted: BTreeSet<u32>,
    correlation: u64,
    faults: Vec<Fault>,
    next_fault_ms: i64,
    producing: bool,
    next_tick: i64,
    topic_created: bool,
    /// A scenario's one produce at a time: value, correlation, and its outcome once answered.
    scripted: Option<(String, u64, Option<Outcome>)>,
    stats: SimStats,
    group: groups::GroupWorkload,
    /// When the admin moves a partition next (`SimConfig::reassignments`).
    next_reassign_ms: i64,
    /// When the admin adds or removes a broker next (`SimConfig::membership`), and the id the
    /// next added broker gets.
    next_membership_ms: i64,
    next_broker_id: BrokerId,
}

/// Runs one simulation.
pub fn run(config: &SimConfig) -> SimResult {
    let mut world = World::new(config.clone());
    world.run();
    world.finish()
}

impl World {
    fn new(config: SimConfig) -> World {
        let mut rng = Rng::from_seed(config.seed);
        let broker_config = BrokerConfig {
            replica_lag_time_max_ms: config.replica_lag_time_max_ms,
            heartbeat_interval_ms: config.heartbeat_interval_ms,
            flush_every_append: config.flush_every_append,
            coordinator: CoordinatorConfig {
                min_session_timeout_ms: 100,
                initial_rebalance_delay_ms: groups::INITIAL_REBALANCE_DELAY_MS,
                offsets_partitions: config.offsets_partitions,
                ..CoordinatorConfig::default()
            },
            runs_coordinator: true,
            planted_bug: config.planted_bug,
            ..BrokerConfig::default()
        };
        let brokers = (0..config.brokers as BrokerId)
            .map(|id| {
                let mut broker = Broker::new(id, 1, broker_config);
                if config.reassignments {
                    // Every replica of the workload's topic is throttled (`*`), as a throttled
                    // reassignment marks them; the admin sets and lifts the rates (`reassign`).
                    broker.set_topic_config(TOPIC, &throttled_everywhere());
                }
                (id, (broker, true))
            })
            .collect();
        let next_fault_ms = START_MS + 1_000 + (rng.next_u64() % 1_000) as i64;
        let mut controllers = Controllers::new(
            config.controllers,
            START_MS,
            config.session_timeout_ms,
            config.preferred_leader_check_ms,
            &mut rng,
        );
        controllers.planted_bug = config.planted_bug;
        controllers.planted_controller_bug = config.controller_bug;
        controllers.snapshot_interval_records = SIM_METADATA_SNAPSHOT_INTERVAL_RECORDS;
        let next_reassign_ms = START_MS + 2 * REASSIGN_MIN_INTERVAL_MS;
        World {
            controllers,
            isolated_controllers: BTreeSet::new(),
            cut_off_controllers: BTreeSet::new(),
            next_reassign_ms,
            next_membership_ms: START_MS + 2 * MEMBERSHIP_MIN_INTERVAL_MS,
            next_broker_id: config.brokers as BrokerId,
            producers: (0..config.producers)
                .map(|id| Producer { id, next_seq: 0, in_flight: None, retry: None, next_send_ms: START_MS })
                .collect(),
            consumers: (0..config.consumers)
                .map(|i| Consumer {
                    id: config.producers + i,
                    positions: BTreeMap::new(),
                    in_flight: BTreeMap::new(),
                    next_fetch_ms: BTreeMap::new(),
                })
                .collect(),
            placement_rng: Rng::from_seed(config.seed ^ PLACEMENT_SEED_MIX),
            config,
            now: START_MS,
            rng,
            brokers,
            isolated: BTreeSet::new(),
            cut_from_brokers: BTreeSet::new(),
            paused: BTreeSet::new(),
            held: Vec::new(),
            flaky: BTreeSet::new(),
            slow_disk: BTreeSet::new(),
            splits: Vec::new(),
            network: BTreeMap::new(),
            sequence: 0,
            trace: Trace::default(),
            history: History::default(),
            leaders: BTreeMap::new(),
            metadata_wanted: BTreeSet::new(),
            correlation: 0,
            faults: Vec::new(),
            next_fault_ms,
            producing: true,
            next_tick: START_MS,
            topic_created: false,
            scripted: None,
            stats: SimStats::default(),
            group: groups::GroupWorkload::default(),
        }
    }

    fn send(&mut self, from: NodeId, outbox: Outbox) {
        for (to, message) in outbox {
            // The active controller, as the sender finds it: the newest leader it reaches.
            let to = match to {
                NodeId::Controller => match self.controller_for(from) {
                    Some(voter) => NodeId::Voter(voter),
                    None => {
                        self.trace.push(self.now, Event::MessageDropped { from, to });
                        continue;
                    }
                },
                to => to,
            };
            let mut delay = 1 + (self.rng.next_u64() % MAX_LINK_DELAY_MS) as i64;
            if matches!(from, NodeId::Broker(b) if self.slow_disk.contains(&b)) {
                delay += SLOW_DISK_MIN_DELAY_MS + (self.rng.next_u64() % SLOW_DISK_EXTRA_DELAY_MS) as i64;
            }
            let flaky = |node: NodeId| matches!(node, NodeId::Broker(b) if self.flaky.contains(&b));
            if flaky(from) || flaky(to) {
                if self.rng.next_u64() % 100 < FLAKY_DROP_PERCENT {
                    self.trace.push(self.now, Event::MessageDropped { from, to });
                    continue;
                }
                delay += (self.rng.next_u64() % FLAKY_EXTRA_DELAY_MS) as i64;
                // Between brokers and the controller a flaky link also duplicates (clients talk
                // over TCP to one broker: their requests are never delivered twice).
                let internal = !matches!(from, NodeId::Client(_)) && !matches!(to, NodeId::Client(_));
                if internal && self.rng.next_u64() % 100 < FLAKY_DUPLICATE_PERCENT {
                    let again = delay + 1 + (self.rng.next_u64() % FLAKY_EXTRA_DELAY_MS) as i64;
                    self.sequence += 1;
                    self.network
                        .insert((self.now + again, self.sequence), Box::new((from, to, message.clone())));
                }
            }
            self.sequence += 1;
            self.network.insert((self.now + delay, self.sequence), Box::new((from, to, message)));
        }
    }

    /// The controller a message from `from` goes to: the leader of the newest epoch it can
    /// reach (a broker asks the controllers until one answers as the active one).
    /// While none leads, it goes to the first running voter it reaches, as Kafka's nodes ask a
    /// bootstrap voter (which answers a broker's metadata fetch with NOT_LEADER).
    fn controller_for(&self, from: NodeId) -> Option<VoterId> {
        let leaders = self.controllers.leaders();
        let reached = |&v: &VoterId| !self.cut(from, NodeId::Voter(v));
        let bootstrap = || {
            let ids = self.controllers.ids();
            ids.iter()
                .copied()
                .find(|v| self.controllers.is_running(*v) && reached(v))
                .or(ids.first().copied())
        };
        leaders.iter().copied().find(reached).or(leaders.first().copied()).or_else(bootstrap)
    }

    /// Sends what the controllers' step put out: quorum messages and released decisions.
    fn send_controllers(&mut self, out: ControllersOut) {
        for (from, to, message) in out.quorum {
            self.send(NodeId::Voter(from), vec![(NodeId::Voter(to), Message::Quorum(message))]);
        }
        for (from, outbox) in out.released {
            self.send(NodeId::Voter(from), outbox);
        }
    }

    fn cut(&self, from: NodeId, to: NodeId) -> bool {
        let isolated = |node: NodeId| match node {
            NodeId::Broker(b) => self.isolated.contains(&b),
            NodeId::Voter(v) => self.isolated_controllers.contains(&v),
            _ => false,
        };
        let between_brokers = match (from, to) {
            (NodeId::Broker(a), NodeId::Broker(b)) => {
                self.cut_from_brokers.contains(&a) || self.cut_from_brokers.contains(&b)
            }
            (NodeId::Voter(a), NodeId::Voter(b)) => {
                self.cut_off_controllers.contains(&a) || self.cut_off_controllers.contains(&b)
            }
            _ => false,
        };
        let split =
            self.splits.iter().any(|side| (side & split_bit(from) != 0) != (side & split_bit(to) != 0));
        isolated(from) || isolated(to) || between_brokers || split
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, message: Message) {
        if self.cut(from, to) {
            self.trace.push(self.now, Event::MessageDropped { from, to });
            return;
        }
        if let NodeId::Broker(b) = to
            && self.paused.contains(&b)
        {
            self.held.push((from, to, message));
            return;
        }
        self.stats.messages += 1;
        let mut out = Outbox::new();
        match to {
            NodeId::Voter(voter) => {
                let mut sent = ControllersOut::default();
                match (from, message) {
                    (NodeId::Voter(from), Message::Quorum(message)) => self.controllers.deliver(
                        self.now,
                        from,
                        voter,
                        message,
                        &mut self.rng,
                        &mut sent,
                        &mut self.trace,
                    ),
                    (_, message) => {
                        if !self.controllers.handle(
                            self.now,
                            voter,
                            from,
                            message,
                            &mut sent,
                            &mut self.trace,
                        ) {
                            self.trace.push(self.now, Event::MessageDropped { from, to });
                        }
                    }
                }
                self.send_controllers(sent);
            }
            // Resolved to a voter when sent.
            NodeId::Controller => {}
            NodeId::Broker(id) => match self.brokers.get_mut(&id) {
                Some((broker, true)) => broker.handle(self.now, from, message, &mut out, &mut self.trace),
                _ => self.trace.push(self.now, Event::MessageDropped { from, to }),
            },
            NodeId::Client(id) => self.client_receives(id, message),
        }
        self.send(to, out);
    }

    fn run(&mut self) {
        let produce_end = START_MS + self.config.duration_ms;
        let end = produce_end + HEAL_MS;
        self.advance_until(produce_end);
        self.heal_all();
        self.advance_until(end);
        let end = self.drain_group(end);
        self.stats.simulated_ms = end - START_MS;
    }

    /// Runs the clock to `until`: messages in delivery order, every node's tick every `TICK_MS`.
    /// Brokers register first; the topic is created once they have.
    fn advance_until(&mut self, until: i64) {
        loop {
            let next_message = self.network.keys().next().map(|(at, _)| *at);
            if next_message.is_none_or(|at| at > self.next_tick) {
                if self.next_tick > until {
                    self.now = self.now.max(until);
                    break;
                }
                self.now = self.next_tick;
                self.next_tick += TICK_MS;
                if !self.topic_created && self.brokers_registered() {
                    self.topic_created = true;
                    self.create_topic();
                }
                self.tick_all(self.topic_created);
            } else if let Some(((at, _), sent)) = self.network.pop_first() {
                let (from, to, message) = *sent;
                self.now = at;
                self.deliver(from, to, message);
            }
        }
    }

    /// Whether an active controller has registered every broker the run started with (a
    /// fresh quorum elects its first leader within a couple of election timeouts).
    fn brokers_registered(&self) -> bool {
        self.controllers.active().is_some()
            && self.controllers.state().registrations().filter(|(_, fenced)| !fenced).count()
                >= self.config.brokers
    }

    fn create_topic(&mut self) {
        self.create_named_topic(TOPIC, self.config.partitions);
        if self.config.offsets_partitions > 0 && (self.config.group_members > 0 || self.group.scripted) {
            self.create_offsets_topic();
        }
        for client in 0..self.config.producers + self.config.consumers {
            self.metadata_wanted.insert(client);
        }
    }

    /// The admin creates again a topic the active controller does not have: one whose creation
    /// never committed (its controller lost the quorum first), as a client whose CreateTopics
    /// timed out tries again.
    fn recreate_lost_topics(&mut self) {
        if self.controllers.active().is_none() {
            return;
        }
        let has = |world: &World, name: &str| {
            world.controllers.state().partitions.keys().any(|tp| tp.topic == name)
        };
        if !has(self, TOPIC) {
            self.create_named_topic(TOPIC, self.config.partitions);
        }
        let offsets =
            self.config.offsets_partitions > 0 && (self.config.group_members > 0 || self.group.scripted);
        if offsets && !has(self, crate::group::coordinator::OFFSETS_TOPIC) {
            self.create_named_topic(crate::group::coordinator::OFFSETS_TOPIC, self.config.offsets_partitions);
        }
    }

    /// A topic with the run's replication settings, created by the controller.
    fn create_named_topic(&mut self, name: &str, partitions: i32) {
        let mut sent = ControllersOut::default();
        let config = &self.config;
        let rng = &mut self.placement_rng;
        let created = self.controllers.act(self.now, &mut sent, &mut self.trace, |controller, trace| {
            controller.create_topic(
                self.now,
                name,
                crate::ids::TopicId::of_name(name),
                partitions,
                config.replication_factor,
                config.min_insync_replicas,
                config.unclean_election,
                rng,
                trace,
            )
        });
        if let Some(e) = refusal(created) {
            self.trace
                .push(self.now, Event::Fault { description: format!("cannot create topic {name}: {e}") });
        }
        self.send_controllers(sent);
    }

    fn tick_all(&mut self, topic_created: bool) {
        let mut sent = ControllersOut::default();
        self.controllers.tick(self.now, &mut self.rng, &mut sent, &mut self.trace);
        self.send_controllers(sent);
        let ids: Vec<BrokerId> = self.brokers.keys().copied().collect();
        for id in ids {
            let mut out = Outbox::new();
            if let Some((broker, true)) = self.brokers.get_mut(&id)
                && !self.paused.contains(&id)
            {
                broker.tick(self.now, &mut out, &mut self.trace);
            }
            self.send(NodeId::Broker(id), out);
        }
        if !topic_created {
            return;
        }
        self.recreate_lost_topics();
        self.nemesis();
        self.reassign();
        self.membership();
        let wanted: Vec<u32> = std::mem::take(&mut self.metadata_wanted).into_iter().collect();
        for client in wanted {
            self.correlation += 1;
            let message = Message::Metadata { correlation: self.correlation };
            self.send(NodeId::Client(client), vec![(NodeId::Controller, message)]);
        }
        for i in 0..self.producers.len() {
            self.producer_tick(i);
        }
        for i in 0..self.consumers.len() {
            self.consumer_tick(i);
        }
        self.group_tick();
    }

    fn nemesis(&mut self) {
        let any = self.config.crash_faults
            || self.config.partition_faults
            || self.config.pause_faults
            || self.config.disk_faults
            || self.config.controller_faults;
        if !self.producing || !any {
            return;
        }
        if self.now < self.next_fault_ms {
            return;
        }
        let heal = !self.faults.is_empty()
            && (self.faults.len() >= self.config.max_concurrent_faults
                || self.rng.next_u64().is_multiple_of(2));
        if heal {
            let index = (self.rng.next_u64() % self.faults.len() as u64) as usize;
            let fault = self.faults.remove(index);
            // Sometimes a cut-off broker then crashes (the same broker, still one at a time):
            // the case where only it holds the newest records.
            let escalate = self.config.crash_faults && self.rng.next_u64().is_multiple_of(3);
            match fault {
                Fault::Isolated(b)
                | Fault::CutFromBrokers(b)
                | Fault::Paused(b)
                | Fault::Flaky(b)
                | Fault::SlowDisk(b)
                    if escalate =>
                {
                    self.heal(fault);
                    self.apply(Fault::Crashed(b));
                    self.faults.push(Fault::Crashed(b));
                }
                _ => self.heal(fault),
            }
            self.next_fault_ms = self.now + 500 + (self.rng.next_u64() % 2_000) as i64;
            return;
        }
        let only_controllers = !(self.config.crash_faults
            || self.config.partition_faults
            || self.config.pause_faults
            || self.config.disk_faults);
        if self.config.controller_faults && (only_controllers || self.rng.next_u64().is_multiple_of(4)) {
            self.controller_fault();
            return;
        }
        let affected: Vec<BrokerId> = self.faults.iter().flat_map(|f| f.brokers()).collect();
        let candidates: Vec<BrokerId> =
            self.brokers.keys().copied().filter(|b| !affected.contains(b)).collect();
        if candidates.is_empty() {
            return;
        }
        let broker = candidates[(self.rng.next_u64() % candidates.len() as u64) as usize];
        let mut kinds = Vec::new();
        if self.config.crash_faults {
            kinds.push(Fault::Crashed(broker));
        }
        if self.config.partition_faults {
            kinds.push(Fault::Isolated(broker));
            kinds.push(Fault::CutFromBrokers(broker));
            kinds.push(Fault::Flaky(broker));
            // A partition: this broker, maybe one more unaffected one (never all), and maybe the
            // controller and the clients, against the rest.
            let mut side = 1u64 << broker;
            let others: Vec<BrokerId> = candidates.iter().copied().filter(|&b| b != broker).collect();
            if others.len() >= 2 && self.rng.next_u64().is_multiple_of(2) {
                side |= 1 << others[(self.rng.next_u64() % others.len() as u64) as usize];
            }
            if self.rng.next_u64().is_multiple_of(2) {
                let voter = self.some_controller();
                side |= split_bit(NodeId::Voter(voter));
            }
            if self.rng.next_u64().is_multiple_of(2) {
                side |= SPLIT_CLIENTS_BIT;
            }
            kinds.push(Fault::Split { side });
        }
        if self.config.pause_faults {
            kinds.push(Fault::Paused(broker));
        }
        if self.config.disk_faults {
            kinds.push(Fault::DiskFull(broker));
            kinds.push(Fault::SlowDisk(broker));
        }
        let fault = kinds[(self.rng.next_u64() % kinds.len() as u64) as usize];
        self.apply(fault);
        self.faults.push(fault);
        self.next_fault_ms = self.now + 1_000 + (self.rng.next_u64() % 3_000) as i64;
    }

    /// The active controller half the time, else any controller.
    fn some_controller(&mut self) -> VoterId {
        let ids = self.controllers.ids();
        let any = ids[(self.rng.next_u64() % ids.len() as u64) as usize];
        match self.controllers.active() {
            Some(active) if self.rng.next_u64().is_multiple_of(2) => active,
            _ => any,
        }
    }

    /// A fault on a controller not already faulted, while a majority stays unfaulted: crashed,
    /// isolated, or cut off from the other controllers.
    fn controller_fault(&mut self) {
        let voter = self.some_controller();
        let faulted: Vec<VoterId> = self
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::ControllerCrashed(v)
                | Fault::ControllerIsolated(v)
                | Fault::ControllerCutOff(v)
                | Fault::ControllerPaused(v) => Some(*v),
                _ => None,
            })
            .collect();
        // A minority at most: the quorum's claim is to survive losing one, not most.
        let minority = (self.controllers.ids().len() - 1) / 2;
        if faulted.contains(&voter) || faulted.len() >= minority {
            return;
        }
        let kinds = [
            Fault::ControllerCrashed(voter),
            Fault::ControllerIsolated(voter),
            Fault::ControllerCutOff(voter),
            Fault::ControllerPaused(voter),
        ];
        let fault = kinds[(self.rng.next_u64() % kinds.len() as u64) as usize];
        self.apply(fault);
        self.faults.push(fault);
        self.next_fault_ms = self.now + 1_000 + (self.rng.next_u64() % 3_000) as i64;
    }

    /// The admin's AlterPartitionReassignments, while the workload runs: one partition of `sim`
    /// to `replication_factor` brokers drawn from all of them (the same ones in another order,
    /// some of them, or ones that held none), each under a replication throttle the admin sets,
    /// changes or lifts first (`throttle`).
    fn reassign(&mut self) {
        if !self.config.reassignments || !self.producing || self.now < self.next_reassign_ms {
            return;
        }
        self.next_reassign_ms = self.now
            + REASSIGN_MIN_INTERVAL_MS
            + (self.rng.next_u64() % REASSIGN_MIN_INTERVAL_MS as u64) as i64;
        self.throttle();
        let partition = (self.rng.next_u64() % self.config.partitions.max(1) as u64) as i32;
        let mut brokers: Vec<BrokerId> = self.brokers.keys().copied().collect();
        // A Fisher–Yates shuffle from the run's seed; the first `replication_factor` are the target.
        for i in (1..brokers.len()).rev() {
            let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
            brokers.swap(i, j);
        }
        brokers.truncate(self.config.replication_factor);
        let tp = TopicPartition { topic: TOPIC.into(), partition };
        let mut sent = ControllersOut::default();
        let now = self.now;
        let target = Some(brokers.clone());
        let done = self.controllers.act(now, &mut sent, &mut self.trace, |controller, trace| {
            controller.reassign(now, &tp, target, trace)
        });
        if let Some(e) = refusal(done) {
            let description = format!("reassign {tp} to {brokers:?} refused: {e}");
            self.trace.push(self.now, Event::Fault { description });
        }
        self.send_controllers(sent);
    }

    /// The admin's IncrementalAlterConfigs on every broker's default: the replication throttle's
    /// two rates set to one of `SIM_THROTTLE_RATES_BYTES_PER_SEC`, or deleted (unthrottled). They
    /// go through the quorum as ConfigRecords, and each broker applies them once it has replayed
    /// them.
    fn throttle(&mut self) {
        use crate::config::{FOLLOWER_REPLICATION_THROTTLED_RATE, LEADER_REPLICATION_THROTTLED_RATE};
        let pick = (self.rng.next_u64() % (SIM_THROTTLE_RATES_BYTES_PER_SEC.len() as u64 + 1)) as usize;
        let rate = SIM_THROTTLE_RATES_BYTES_PER_SEC.get(pick).map(u64::to_string);
        let changes = [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE]
            .map(|name| (name.to_string(), rate.clone()));
        let mut sent = ControllersOut::default();
        let done = self.controllers.act(self.now, &mut sent, &mut self.trace, |controller, _| {
            controller.alter_broker_configs(None, &changes)
        });
        if let Some(e) = refusal(done) {
            let description = format!("throttle at {rate:?} B/s refused: {e}");
            self.trace.push(self.now, Event::Fault { description });
        }
        self.send_controllers(sent);
    }

    /// The admin adds a broker or decommissions one, while the workload runs; a broker the
    /// controller has unregistered stops for good (its process ends).
    fn membership(&mut self) {
        if !self.config.membership {
            return;
        }
        let controller = self.controllers.state();
        self.brokers.retain(|&id, _| !controller.is_removed(id));
        if !self.producing || self.now < self.next_membership_ms {
            return;
        }
        self.next_membership_ms = self.now
            + MEMBERSHIP_MIN_INTERVAL_MS
            + (self.rng.next_u64() % MEMBERSHIP_MIN_INTERVAL_MS as u64) as i64;
        let controller = self.controllers.state();
        let staying: Vec<BrokerId> =
            controller.registrations().map(|(b, _)| b).filter(|&b| !controller.is_leaving(b)).collect();
        let can_add = self.next_broker_id < MEMBERSHIP_MAX_BROKER_IDS;
        let add = can_add
            && (staying.len() <= self.config.replication_factor || self.rng.next_u64().is_multiple_of(2));
        if add {
            let id = self.next_broker_id;
            self.next_broker_id += 1;
            let Some(config) = self.brokers.values().next().map(|(b, _)| b.config) else { return };
            self.brokers.insert(id, (Broker::new(id, 1, config), true));
            self.trace.push(self.now, Event::BrokerAdded { broker: id });
            return;
        }
        if staying.len() <= self.config.replication_factor {
            return;
        }
        let leaving = staying[(self.rng.next_u64() % staying.len() as u64) as usize];
        let mut sent = ControllersOut::default();
        let now = self.now;
        let done = self.controllers.act(now, &mut sent, &mut self.trace, |controller, trace| {
            controller.remove_broker(now, leaving, trace)
        });
        if let Some(e) = refusal(done) {
            let description = format!("remove broker-{leaving} refused: {e}");
            self.trace.push(self.now, Event::Fault { description });
        }
        self.send_controllers(sent);
    }

    fn apply(&mut self, fault: Fault) {
        self.stats.faults += 1;
        let description = match fault {
            Fault::Crashed(id) => {
                let Some((broker, up)) = self.brokers.get_mut(&id) else { return };
                let recovered = broker.crash(&mut self.rng);
                *up = false;
                format!("crash broker-{id} (unflushed writes lost or torn; {})", recovered.join("; "))
            }
            Fault::Isolated(id) => {
                self.isolated.insert(id);
                format!("isolate broker-{id} from every other node")
            }
            Fault::CutFromBrokers(id) => {
                self.cut_from_brokers.insert(id);
                format!("cut broker-{id} off from the other brokers (controller and clients still reach it)")
            }
            Fault::Paused(id) => {
                self.paused.insert(id);
                format!("pause broker-{id}")
            }
            Fault::DiskFull(id) => {
                if let Some((broker, _)) = self.brokers.get_mut(&id) {
                    broker.disk_full = true;
                }
                format!("broker-{id}'s disk is full")
            }
            Fault::SlowDisk(id) => {
                self.slow_disk.insert(id);
                format!("broker-{id}'s disk is slow")
            }
            Fault::Split { side } => {
                self.splits.push(side);
                format!("network partition: {} | the rest", describe_side(side))
            }
            Fault::Flaky(id) => {
                self.flaky.insert(id);
                format!(
                    "make broker-{id}'s links flaky ({FLAKY_DROP_PERCENT}% dropped, up to {FLAKY_EXTRA_DELAY_MS} ms more delay)"
                )
            }
            Fault::ControllerCrashed(id) => {
                self.controllers.crash(id);
                format!("crash controller-{id}")
            }
            Fault::ControllerIsolated(id) => {
                self.isolated_controllers.insert(id);
                format!("isolate controller-{id} from every other node")
            }
            Fault::ControllerCutOff(id) => {
                self.cut_off_controllers.insert(id);
                format!(
                    "cut controller-{id} off from the other controllers (brokers and clients still reach it)"
                )
            }
            Fault::ControllerPaused(id) => {
                self.controllers.pause(id, true);
                format!("pause controller-{id}")
            }
        };
        self.trace.push(self.now, Event::Fault { description });
    }

    fn heal(&mut self, fault: Fault) {
        let description = match fault {
            Fault::Crashed(id) => {
                let Some((broker, up)) = self.brokers.remove(&id) else { return };
                debug_assert!(!up);
                let incarnation = broker.incarnation + 1;
                let unclean = !broker.config.flush_every_append;
                self.brokers.insert(id, (broker.restart(incarnation, unclean), true));
                format!("restart broker-{id} (incarnation {incarnation}; log recovery)")
            }
            Fault::DiskFull(id) => {
                // Space is freed; an offline log directory needs a restart (nothing was lost).
                let Some((broker, _)) = self.brokers.remove(&id) else { return };
                let incarnation = broker.incarnation + 1;
                self.brokers.insert(id, (broker.restart(incarnation, false), true));
                format!("free broker-{id}'s disk and restart it (incarnation {incarnation})")
            }
            Fault::SlowDisk(id) => {
                self.slow_disk.remove(&id);
                format!("broker-{id}'s disk is fast again")
            }
            Fault::Isolated(id) | Fault::CutFromBrokers(id) => {
                self.isolated.remove(&id);
                self.cut_from_brokers.remove(&id);
                format!("reconnect broker-{id}")
            }
            Fault::Paused(id) => {
                self.paused.remove(&id);
                let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
                    .into_iter()
                    .partition(|(_, to, _)| *to == NodeId::Broker(id));
                self.held = others;
                for (from, to, message) in mine {
                    self.sequence += 1;
                    self.network.insert((self.now + 1, self.sequence), Box::new((from, to, message)));
                }
                format!("resume broker-{id}")
            }
            Fault::Split { side } => {
                self.splits.retain(|s| *s != side);
                format!("network partition healed: {} | the rest", describe_side(side))
            }
            Fault::Flaky(id) => {
                self.flaky.remove(&id);
                format!("steady broker-{id}'s links")
            }
            Fault::ControllerCrashed(id) => {
                self.controllers.restart(id, self.now, &mut self.rng);
                format!("restart controller-{id} (over its metadata log)")
            }
            Fault::ControllerIsolated(id) | Fault::ControllerCutOff(id) => {
                self.isolated_controllers.remove(&id);
                self.cut_off_controllers.remove(&id);
                format!("reconnect controller-{id}")
            }
            Fault::ControllerPaused(id) => {
                self.controllers.pause(id, false);
                format!("resume controller-{id}")
            }
        };
        self.trace.push(self.now, Event::Fault { description });
    }

    fn heal_all(&mut self) {
        self.producing = false;
        for fault in std::mem::take(&mut self.faults) {
            self.heal(fault);
        }
        self.restart_members();
        self.trace.push(self.now, Event::Fault { description: "workload stops; everything healed".into() });
    }

    fn producer_tick(&mut self, index: usize) {
        let now = self.now;
        let producer = &mut self.producers[index];
        let id = producer.id;
        if let Some(in_flight) = &producer.in_flight
            && now - in_flight.sent_ms >= CLIENT_TIMEOUT_MS
        {
            let value = in_flight.value.clone();
            producer.in_flight = None;
            if let Some(sent) = self.history.sent.get_mut(&value) {
                sent.outcome = Outcome::Indeterminate;
            }
            self.metadata_wanted.insert(id);
            return;
        }
        let producer = &mut self.producers[index];
        if producer.in_flight.is_some() || now < producer.next_send_ms {
            return;
        }
        let (value, tp, attempts) = match producer.retry.take() {
            Some(retry) => retry,
            None if self.producing => {
                let seq = producer.next_seq;
                producer.next_seq += 1;
                let tp = TopicPartition {
                    topic: TOPIC.into(),
                    partition: (seq % self.config.partitions as u64) as i32,
                };
                (format!("p{id}-{seq}"), tp, 0)
            }
            None => return,
        };
        let Some(&leader) = self.leaders.get(&(id, tp.clone())) else {
            self.producers[index].retry = Some((value, tp, attempts));
            self.metadata_wanted.insert(id);
            return;
        };
        self.correlation += 1;
        let correlation = self.correlation;
        let record = BatchRecord { value: Some(value.clone().into_bytes()), ..BatchRecord::default() };
        let Ok(batch) = RecordBatch::new(now, vec![record]).encode() else { return };
        let acks = self.config.acks;
        self.history.sent.entry(value.clone()).or_insert(Sent {
            tp: tp.clone(),
            acks,
            outcome: Outcome::Unanswered,
        });
        self.stats.sent += usize::from(attempts == 0);
        self.trace.push(
            now,
            Event::ProduceSent { client: id, tp: tp.clone(), to: leader, value: value.clone(), acks },
        );
        let message = Message::Produce { tp: tp.clone(), batch, acks, correlation };
        let producer = &mut self.producers[index];
        producer.next_send_ms = now + self.config.produce_interval_ms;
        if acks != Acks::None {
            producer.in_flight = Some(InFlight { value, tp, correlation, sent_ms: now, attempts });
        }
        self.send(NodeId::Client(id), vec![(NodeId::Broker(leader), message)]);
    }

    fn consumer_tick(&mut self, index: usize) {
        let now = self.now;
        let id = self.consumers[index].id;
        for p in 0..self.config.partitions {
            let tp = TopicPartition { topic: TOPIC.into(), partition: p };
            let consumer = &mut self.consumers[index];
            if let Some(&(_, sent)) = consumer.in_flight.get(&tp) {
                if now - sent < CLIENT_TIMEOUT_MS / 5 {
                    continue;
                }
                consumer.in_flight.remove(&tp);
            }
            if consumer.next_fetch_ms.get(&tp).is_some_and(|&at| now < at) {
                continue;
            }
            let Some(&leader) = self.leaders.get(&(id, tp.clone())) else {
                self.metadata_wanted.insert(id);
                continue;
            };
            self.correlation += 1;
            let correlation = self.correlation;
            let consumer = &mut self.consumers[index];
            let fetch_offset = *consumer.positions.get(&tp).unwrap_or(&0);
            consumer.in_flight.insert(tp.clone(), (correlation, now));
            let message = Message::Fetch {
                tp,
                replica: None,
                fetch_offset,
                last_fetched_epoch: None,
                leader_epoch: -1,
                correlation,
            };
            self.send(NodeId::Client(id), vec![(NodeId::Broker(leader), message)]);
        }
    }

    fn client_receives(&mut self, client: u32, message: Message) {
        if client >= groups::ADMIN_CLIENT {
            return self.group_client_receives(client, message);
        }
        match message {
            Message::MetadataResponse { partitions, .. } => {
                for state in partitions {
                    self.learn_leader(client, &state);
                }
            }
            Message::ProduceResponse { tp, correlation, result } => {
                if client == SCRIPT_CLIENT {
                    if let Some((value, expected, outcome)) = &mut self.scripted
                        && *expected == correlation
                    {
                        *outcome = Some(match result {
                            Ok(offset) => {
                                self.trace.push(
                                    self.now,
                                    Event::ProduceAcked { client, tp, value: value.clone(), offset },
                                );
                                Outcome::Acked(offset)
                            }
                            Err(error) => {
                                self.trace.push(
                                    self.now,
                                    Event::ProduceFailed { client, tp, value: value.clone(), error },
                                );
                                Outcome::Failed(error)
                            }
                        });
                    }
                    return;
                }
                let Some(producer) = self.producers.iter_mut().find(|p| p.id == client) else { return };
                let Some(in_flight) = producer.in_flight.take_if(|f| f.correlation == correlation) else {
                    return;
                };
                let value = in_flight.value;
                let outcome = match result {
                    Ok(offset) => {
                        self.trace.push(
                            self.now,
                            Event::ProduceAcked { client, tp: tp.clone(), value: value.clone(), offset },
                        );
                        self.stats.acked += 1;
                        Outcome::Acked(offset)
                    }
                    // Refused before the append: safe to send again.
                    Err(error @ (ErrorCode::NotEnoughReplicas | ErrorCode::KafkaStorageError))
                        if in_flight.attempts < MAX_PRODUCE_RETRIES =>
                    {
                        self.trace.push(
                            self.now,
                            Event::ClientRetry {
                                client,
                                tp: tp.clone(),
                                value: value.clone(),
                                reason: error,
                            },
                        );
                        producer.retry = Some((value, in_flight.tp, in_flight.attempts + 1));
                        producer.next_send_ms = self.now + 100;
                        self.metadata_wanted.insert(client);
                        return;
                    }
                    // NOT_LEADER_OR_FOLLOWER may come after the append (a leader that lost its
                    // leadership while the request waited for acks): without idempotence a retry
                    // could duplicate, so the outcome stays unknown.
                    Err(
                        error @ (ErrorCode::NotLeaderOrFollower
                        | ErrorCode::NotEnoughReplicasAfterAppend
                        | ErrorCode::RequestTimedOut),
                    ) => {
                        self.trace.push(
                            self.now,
                            Event::ProduceFailed { client, tp: tp.clone(), value: value.clone(), error },
                        );
                        self.metadata_wanted.insert(client);
                        Outcome::Indeterminate
                    }
                    Err(error) => {
                        self.trace.push(
                            self.now,
                            Event::ProduceFailed { client, tp: tp.clone(), value: value.clone(), error },
                        );
                        Outcome::Failed(error)
                    }
                };
                if let Some(sent) = self.history.sent.get_mut(&value) {
                    sent.outcome = outcome;
                }
            }
            Message::FetchResponse { tp, correlation, result } => {
                let Some(consumer) = self.consumers.iter_mut().find(|c| c.id == client) else { return };
                if consumer.in_flight.get(&tp).map(|(c, _)| *c) != Some(correlation) {
                    return;
                }
                consumer.in_flight.remove(&tp);
                match result {
                    Ok(data) => {
                        let mut position = *consumer.positions.get(&tp).unwrap_or(&0);
                        let mut bytes = &data.records[..];
                        let mut read_any = false;
                        while let Ok((batch, used)) = RecordBatch::decode(bytes) {
                            bytes = &bytes[used..];
                            for record in &batch.records {
                                let offset = batch.base_offset + i64::from(record.offset_delta);
                                if offset < position {
                                    continue;
                                }
                                let value =
                                    String::from_utf8_lossy(record.value.as_deref().unwrap_or_default())
                                        .into_owned();
                                self.trace.push(
                                    self.now,
                                    Event::Consumed { client, tp: tp.clone(), offset, value: value.clone() },
                                );
                                self.history.consumed.push((
                                    client,
                                    tp.clone(),
                                    offset,
                                    value,
                                    data.high_watermark,
                                ));
                                self.stats.consumed += 1;
                                position = offset + 1;
                                read_any = true;
                            }
                        }
                        consumer.positions.insert(tp.clone(), position);
                        if !read_any {
                            consumer.next_fetch_ms.insert(tp, self.now + CONSUMER_IDLE_MS);
                        }
                    }
                    Err(_) => {
                        consumer.next_fetch_ms.insert(tp, self.now + CONSUMER_IDLE_MS);
                        self.metadata_wanted.insert(client);
                    }
                }
            }
            _ => {}
        }
    }

    fn learn_leader(&mut self, client: u32, state: &PartitionState) {
        match state.leader {
            Some(leader) => self.leaders.insert((client, state.tp.clone()), leader),
            None => self.leaders.remove(&(client, state.tp.clone())),
        };
    }

    /// Drains each partition's committed log from its leader, compares the other in-sync
    /// replicas with it, and runs the checker.
    fn finish(mut self) -> SimResult {
        for (tp, state) in &self.controllers.state().partitions {
            let mut log = BTreeMap::new();
            let leader = state.leader.and_then(|l| self.brokers.get(&l)).filter(|(_, up)| *up);
            if let Some((broker, _)) = leader
                && let Some(partition) = broker.partitions.get(tp)
            {
                log = committed(partition, partition.high_watermark);
                for &replica in state.isr.iter().filter(|&&r| Some(r) != state.leader) {
                    let Some((other, true)) = self.brokers.get(&replica) else { continue };
                    let Some(copy) = other.partitions.get(tp) else { continue };
                    let theirs = committed(copy, partition.high_watermark.min(copy.log.log_end_offset()));
                    for (offset, value) in &theirs {
                        if log.get(offset) != Some(value) {
                            self.history.replica_mismatches.push((tp.clone(), replica, *offset));
                        }
                    }
                }
            }
            if tp.topic == TOPIC {
                self.history.final_logs.insert(tp.clone(), log);
            }
        }
        self.history.group_checked = self.config.group_members > 0;
        self.history.kraft = Some(self.controllers.observations.clone());
        let violations = check(&self.history);
        SimResult { trace: self.trace, history: self.history, violations, stats: self.stats }
    }
}

/// offset → value for every record below `below` in a replica's log.
fn committed(partition: &super::partition::Partition, below: i64) -> BTreeMap<i64, String> {
    let mut out = BTreeMap::new();
    let mut offset = partition.log.log_start_offset();
    while offset < below {
        let Ok(bytes) = partition.log.read(offset, usize::MAX) else { break };
        if bytes.is_empty() {
            break;
        }
        let mut rest = &bytes[..];
        while let Ok((batch, used)) = RecordBatch::decode(rest) {
            rest = &rest[used..];
            for record in &batch.records {
                let at = batch.base_offset + i64::from(record.offset_delta);
                if at >= offset && at < below {
                    out.insert(
                        at,
                        String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned(),
                    );
                }
            }
            offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
        }
    }
    out
}

/// Why an admin's change through the controllers did not happen: the controller's refusal, or
/// no active controller to make it (an election runs); `None` when it was made.
fn refusal<T, E: std::fmt::Display>(done: Option<Result<T, E>>) -> Option<String> {
    match done {
        Some(Ok(_)) => None,
        Some(Err(e)) => Some(e.to_string()),
        None => Some("no active controller".to_string()),
    }
}

/// The nodes on a split's side, as a trace names them.
fn describe_side(side: u64) -> String {
    let mut names: Vec<String> =
        (0..VOTER_BIT_BASE).filter(|b| side & (1 << b) != 0).map(|b| format!("broker-{b}")).collect();
    names.extend(
        (VOTER_BIT_BASE..62)
            .filter(|b| side & (1 << b) != 0)
            .map(|b| format!("controller-{}", b - VOTER_BIT_BASE)),
    );
    if side & SPLIT_CONTROLLER_BIT != 0 {
        names.push("controller".into());
    }
    if side & SPLIT_CLIENTS_BIT != 0 {
        names.push("clients".into());
    }
    format!("{{{}}}", names.join(", "))
}

/// How long a scenario waits at most for its cluster to come up (a first election, the brokers
/// registered, the topic created).
pub const SCENARIO_START_LIMIT_MS: i64 = 10_000;

/// The client id of a scenario's scripted producer.
pub const SCRIPT_CLIENT: u32 = 100;

/// A scripted run for scenario tests and the UI's stories: no random workload and no nemesis;
/// the script produces, injects faults, heals and waits, and reads the cluster's state.
pub struct Scenario {
    world: World,
}

/// A fault a scenario injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioFault {
    /// The broker crashes: unflushed writes are lost or torn; healing restarts it through log
    /// recovery, in a new incarnation.
    Crash(BrokerId),
    /// The broker is cut off from every other node.
    Isolate(BrokerId),
    /// The broker is cut off from the other brokers; the controller and clients still reach it.
    CutFromBrokers(BrokerId),
    /// The broker stops (a long GC pause): messages to it wait until it resumes.
    Pause(BrokerId),
}

impl Scenario {
    /// A cluster per `config` (its workload and fault settings are ignored), with topic `sim`
    /// created and its leaders elected.
    pub fn new(config: SimConfig) -> Scenario {
        Scenario::start(config, false)
    }

    /// A scenario with `__consumer_offsets` and group coordinators, for scripted group members.
    pub fn with_groups(config: SimConfig) -> Scenario {
        Scenario::start(config, true)
    }

    fn start(config: SimConfig, groups: bool) -> Scenario {
        // No random workload and no nemesis: the script does everything.
        let config = SimConfig {
            producers: 0,
            consumers: 0,
            group_members: 0,
            group_faults: false,
            crash_faults: false,
            partition_faults: false,
            pause_faults: false,
            disk_faults: false,
            controller_faults: false,
            ..config
        };
        let mut world = World::new(config);
        world.group.scripted = groups;
        world.group.initialized = groups;
        // The controllers elect their first leader (an election timeout or two), it registers
        // the brokers and creates the topic; the partitions' leaders are told 100 ms later.
        while !world.topic_created && world.now < START_MS + SCENARIO_START_LIMIT_MS {
            world.advance_until(world.now + TICK_MS);
        }
        world.advance_until(world.now + 100);
        Scenario { world }
    }

    /// The virtual clock (ms).
    pub fn now_ms(&self) -> i64 {
        self.world.now
    }

    /// Every event so far, in order.
    pub fn trace(&self) -> &Trace {
        &self.world.trace
    }

    /// Waits `ms` of virtual time.
    pub fn wait(&mut self, ms: i64) {
        let until = self.world.now + ms;
        self.world.advance_until(until);
    }

    /// Produces `value` to `partition` through its current leader (a client with fresh metadata)
    /// and waits for the answer, up to the client timeout.
    pub fn produce(&mut self, partition: i32, value: &str, acks: Acks) -> Outcome {
        let tp = TopicPartition { topic: TOPIC.into(), partition };
        let Some(leader) = self.leader(partition) else {
            return Outcome::Failed(ErrorCode::NotLeaderOrFollower);
        };
        let Ok(batch) = RecordBatch::new(
            self.world.now,
            vec![BatchRecord { value: Some(value.as_bytes().to_vec()), ..BatchRecord::default() }],
        )
        .encode() else {
            return Outcome::Failed(ErrorCode::InvalidRecord);
        };
        self.world.correlation += 1;
        let correlation = self.world.correlation;
        self.world.scripted = Some((value.to_string(), correlation, None));
        self.world
            .history
            .sent
            .insert(value.to_string(), Sent { tp: tp.clone(), acks, outcome: Outcome::Unanswered });
        let now = self.world.now;
        self.world.trace.push(
            now,
            Event::ProduceSent {
                client: SCRIPT_CLIENT,
                tp: tp.clone(),
                to: leader,
                value: value.into(),
                acks,
            },
        );
        let message = Message::Produce { tp, batch, acks, correlation };
        self.world.send(NodeId::Client(SCRIPT_CLIENT), vec![(NodeId::Broker(leader), message)]);
        if acks == Acks::None {
            self.world.scripted = None;
            return Outcome::Unanswered;
        }
        let deadline = now + CLIENT_TIMEOUT_MS;
        while self.world.now < deadline {
            self.wait(TICK_MS);
            if let Some((_, _, Some(outcome))) = &self.world.scripted {
                let outcome = outcome.clone();
                self.world.scripted = None;
                if let Some(sent) = self.world.history.sent.get_mut(value) {
                    sent.outcome = outcome.clone();
                }
                return outcome;
            }
        }
        self.world.scripted = None;
        if let Some(sent) = self.world.history.sent.get_mut(value) {
            sent.outcome = Outcome::Indeterminate;
        }
        Outcome::Indeterminate
    }

    /// Injects `fault` now; it lasts until its broker is healed.
    pub fn fault(&mut self, fault: ScenarioFault) {
        let fault = match fault {
            ScenarioFault::Crash(b) => Fault::Crashed(b),
            ScenarioFault::Isolate(b) => Fault::Isolated(b),
            ScenarioFault::CutFromBrokers(b) => Fault::CutFromBrokers(b),
            ScenarioFault::Pause(b) => Fault::Paused(b),
        };
        self.world.apply(fault);
        self.world.faults.push(fault);
    }

    /// Heals every fault on `broker`: restarts it if crashed, reconnects it if cut off.
    pub fn heal_broker(&mut self, broker: BrokerId) {
        self.heal(broker)
    }

    /// Heals every fault on `broker`: restarts it if crashed, reconnects it if cut off.
    pub fn heal(&mut self, broker: BrokerId) {
        let (mine, others): (Vec<Fault>, Vec<Fault>) =
            std::mem::take(&mut self.world.faults).into_iter().partition(|f| f.brokers().contains(&broker));
        self.world.faults = others;
        for fault in mine {
            self.world.heal(fault);
        }
    }

    /// The controller's metadata log so far.
    pub fn metadata_log(&self) -> &[super::protocol::MetadataRecord] {
        self.world.controllers.state().metadata_log()
    }

    /// The state of partition `partition` of `sim`, as the controller records it.
    pub fn state(&self, partition: i32) -> Option<&PartitionState> {
        self.world.controllers.state().partitions.get(&TopicPartition { topic: TOPIC.into(), partition })
    }

    /// The leader of partition `partition` of `sim` as the controller records it; `None` while
    /// it is offline.
    pub fn leader(&self, partition: i32) -> Option<BrokerId> {
        self.state(partition).and_then(|s| s.leader)
    }

    /// The records below the leader's high watermark: (offset, value).
    pub fn committed(&self, partition: i32) -> Vec<(i64, String)> {
        let tp = TopicPartition { topic: TOPIC.into(), partition };
        self.leader(partition)
            .and_then(|l| self.world.brokers.get(&l))
            .filter(|(_, up)| *up)
            .and_then(|(broker, _)| broker.partitions.get(&tp))
            .map(|p| committed(p, p.high_watermark).into_iter().collect())
            .unwrap_or_default()
    }

    /// A replica's whole log: (offset, value).
    pub fn replica_log(&self, broker: BrokerId, partition: i32) -> Vec<(i64, String)> {
        let tp = TopicPartition { topic: TOPIC.into(), partition };
        self.world
            .brokers
            .get(&broker)
            .and_then(|(b, _)| b.partitions.get(&tp))
            .map(|p| committed(p, p.log.log_end_offset()).into_iter().collect())
            .unwrap_or_default()
    }

    /// Heals everything, lets the cluster settle, drains and checks, as a simulation ends.
    pub fn check(mut self) -> (Vec<Violation>, Trace) {
        self.world.heal_all();
        self.wait(HEAL_MS);
        let result = self.world.finish();
        (result.violations, result.trace)
    }
}

/// The one-line summary the sweep prints for a run.
pub fn summary(config: &SimConfig, result: &SimResult) -> String {
    format!(
        "seed {}: {} ms simulated, {} sent, {} acked, {} consumed, {} faults, {} violations",
        config.seed,
        result.stats.simulated_ms,
        result.stats.sent,
        result.stats.acked,
        result.stats.consumed,
        result.stats.faults,
        result.violations.len()
    )
}
