//! The simulator over the server's own turn: every client request goes the way `kite serve`
//! sends a websocket frame — decoded by `HostSession::decode_frame`, answered by `answer_frame`
//! over the `Cluster` front, the answer decoded as a client would — on a `PowerCutDisk` whose
//! writes fail (EIO, ENOSPC, EMFILE) and whose power goes, on a clock that jumps. Every choice
//! comes from one seed, including which faults the run has and how often (swarm testing: a run
//! with few kinds of fault reaches states that a run with all of them at once rarely does).
//!
//! With a rotting disk, one broker's flushed segments also come back changed at restarts (a
//! flipped byte, a sector of zeros); the operator replaces what rotted when healing.
//!
//! After the faults, the operator heals: the disk stops failing and the process is restarted.
//! Then every partition is read from offset 0 and the checker judges what the clients were told:
//! acknowledged records stay where they were acknowledged (unless a power cut without `--fsync`
//! took a partition's tail, which docs/storage-format.md says it may), what a consumer read is
//! not rewritten, no offset is handed out twice, nothing appears that was not sent, and the
//! cluster serves again.
//!
//! The same run can take its choices from a fuzzer's bytes instead of a seed (`run_on_bytes`):
//! the stateful fuzz target `host_sim_choices` steers the workload, the faults and the clock with
//! them, and coverage guides it toward states the seeds' sweeps do not reach.

mod transform;

use std::collections::{BTreeMap, BTreeSet};

mod connect;
pub use transform::{
    ABORT_ONE_IN, CRASH_ONE_IN, MAX_RECORDS_PER_TRANSACTION, OUTPUT_PARTITIONS, OUTPUT_TOPIC,
    TRANSACTIONAL_ID, TRANSFORM_GROUP,
};

use crate::api::{
    ClientMessage, Command, Frame, IdempotentProducer, Reply, ServerMessage, decode_server_frame, encode,
};
use crate::cluster::layout::{self, Count};
use crate::cluster::{Cluster, EARLIEST_TIMESTAMP, MAX_TIMESTAMP, StorageOptions};
use crate::error::ErrorCode;
use crate::host::{Capabilities, HostSession};
use crate::limits::MAX_FETCH_RECORDS;
use crate::log::power_cut::PowerCutDisk;
use crate::log::storage::{FileMap, LOG_SUFFIX};
use crate::random::Rng;

/// The workload's topic.
pub const TOPIC: &str = "orders";
/// Its partitions.
pub const PARTITIONS: i32 = 3;
/// A second topic the workload creates and deletes, so metadata changes meet the faults too.
pub const SCRATCH_TOPIC: &str = "scratch";
/// Replica logs a creation makes per turn here: kite serve paces at
/// `MAX_REPLICA_LOGS_CREATED_PER_TURN`, which these small topics never reach, so the simulator
/// paces at two, and its crashes, power cuts and stopped brokers meet creations half-made.
pub const REPLICA_LOGS_CREATED_PER_TURN: usize = 2;
/// Steps in a run unless the config says otherwise.
pub const DEFAULT_STEPS: u32 = 300;
/// The clock moves 1 to this many ms between steps.
pub const MAX_STEP_MS: u64 = 50;
/// The furthest a jump moves the clock forward, in ms (an hour: retention is off for the topics).
pub const MAX_CLOCK_JUMP_FORWARD_MS: u64 = 3_600_000;
/// The furthest a jump moves the clock back, in ms (the wall clock corrected by NTP).
pub const MAX_CLOCK_JUMP_BACK_MS: u64 = 5_000;
/// Bytes of a fuzzer's input one choice reads.
pub const BYTES_PER_CHOICE: usize = 4;
/// The most steps a run on a fuzzer's bytes takes, however long its input.
pub const MAX_STEPS_ON_BYTES: u32 = 1_000;
/// How long the healed cluster runs before it is read, in ms.
pub const SETTLE_MS: i64 = 10_000;
/// Records one of the workload's fetches asks for.
pub const WORKLOAD_FETCH_RECORDS: u32 = 20;
/// The virtual clock's start.
pub const START_MS: i64 = 1_700_000_000_000;
/// With a rotting disk, one restart in this many finds a segment rotted.
pub const ROT_ONE_RESTART_IN: u64 = 2;
/// A lost write's size: one disk sector.
pub const SECTOR_BYTES: usize = 512;
/// `offsets.topic.num.partitions` and `transaction.state.log.num.partitions` here: a few, so a
/// restart reopens a few coordinator logs rather than a hundred.
pub const INTERNAL_TOPIC_PARTITIONS: i32 = 3;
/// Mixed into the seed for the rot's own stream of choices.
const ROT_STREAM: u64 = 0x726f_7474_696e_6721;
/// Mixed into the seed for the controller faults' own stream of choices: a seed's other faults
/// stay those it drew before controllers faulted.
const CONTROLLER_STREAM: u64 = 0x6b72_6166_745f_6374;

/// One run's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSimConfig {
    /// Every choice of the run comes from it: same seed, same run.
    pub seed: u64,
    /// Brokers in the cluster (1: a single broker; more replicate, RF = brokers).
    pub brokers: u32,
    /// `kite serve --controllers`: the KRaft quorum of a replicated cluster.
    pub controllers: u32,
    /// `kite serve --fsync`.
    pub fsync: bool,
    /// Steps of workload and faults.
    pub steps: u32,
    /// A planted fault no setting of Kite's can express, to prove the checker notices: the disk
    /// acknowledges fsyncs without making anything durable (a write cache without barriers), so
    /// with `--fsync` a power cut loses acknowledged records after all.
    pub lying_fsync: bool,
    /// A disk that rots: at a restart, now and then, one broker's disk returns other bytes than
    /// were flushed to a segment (a flipped byte, or a 512-byte sector that reads back as zeros:
    /// a write the disk said it made and lost). Always the same broker in a run (with more than
    /// one, the others' copies are good); the rot's choices come from a stream of their own, so
    /// a seed's workload and faults are those of the same seed without it.
    pub rotting_disk: bool,
    /// A transactional application beside the workload (`transform`): consume-transform-produce
    /// with exactly-once, its choices from a stream of their own.
    pub transactions: bool,
    /// A bug planted in the transaction coordinator, to prove the checker finds it (implies
    /// `transactions`).
    pub planted_txn_bug: Option<crate::cluster::PlantedTxnBug>,
    /// The server starts with `--racks` (the brokers alternate between two zones), at every
    /// restart too: their registrations carry the racks through every fault.
    pub racks: bool,
    /// A Kite Connect pipeline beside the workload (`connect`): a file through a topic into
    /// another file, judged at least once, and into a JDBC sink's table, which must mirror the
    /// topic; its choices from a stream of their own.
    pub connect: bool,
}

impl HostSimConfig {
    /// A run of `DEFAULT_STEPS`.
    pub fn new(seed: u64, brokers: u32, fsync: bool) -> HostSimConfig {
        HostSimConfig {
            seed,
            brokers,
            controllers: crate::replication::kraft::DEFAULT_CONTROLLERS as u32,
            fsync,
            steps: DEFAULT_STEPS,
            lying_fsync: false,
            rotting_disk: false,
            transactions: false,
            planted_txn_bug: None,
            racks: false,
            connect: false,
        }
    }

    /// The command that runs this seed again.
    pub fn replay_command(&self) -> String {
        let fsync = if self.fsync { " --fsync" } else { "" };
        let lying = if self.lying_fsync { " --unsafe lying-fsync" } else { "" };
        let rotting = if self.rotting_disk { " --rotting-disk" } else { "" };
        let rotting = if self.racks { format!("{rotting} --racks") } else { rotting.to_string() };
        let rotting = if self.connect { format!("{rotting} --connect") } else { rotting };
        let transactions = match self.planted_txn_bug {
            Some(crate::cluster::PlantedTxnBug::SkipMarkers) => " --unsafe skip-markers",
            Some(crate::cluster::PlantedTxnBug::NoFencing) => " --unsafe no-fencing",
            None if self.transactions => " --transactions",
            None => "",
        };
        let controllers = match self.controllers as usize {
            crate::replication::kraft::DEFAULT_CONTROLLERS => String::new(),
            count => format!(" --controllers {count}"),
        };
        format!(
            "cargo xtask sim --host --seeds {} --brokers {}{controllers} --steps {}{fsync}{lying}{rotting}{transactions} --trace",
            self.seed, self.brokers, self.steps
        )
    }
}

/// How often each fault comes in a run: one step in this many, `0` for never. Drawn from the
/// seed, each kind on in about half the runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swarm {
    /// A broker stopped (controlled shutdown), or a stopped one started.
    pub stop_broker: u64,
    /// The process killed (-9) and restarted.
    pub kill: u64,
    /// The power cut and the process restarted.
    pub power_cut: u64,
    /// The process shut down cleanly and restarted.
    pub clean_restart: u64,
    /// A write-side storage operation fails.
    pub failing_writes: u64,
    /// The clock jumps.
    pub clock_jump: u64,
    /// The scratch topic created or deleted.
    pub scratch_topic: u64,
    /// An acknowledged record's answer lost, so its producer retries it. With this on, the run's
    /// producer is idempotent, and the retry must be answered as a duplicate, not written again.
    pub retry: u64,
    /// A KRaft controller stopped, paused or isolated (a minority at most), or one back.
    pub controller: u64,
}

/// Where a run's choices come from: a seed's pseudo-random sequence, or a fuzzer's bytes read
/// `BYTES_PER_CHOICE` at a time (zeros once they run out, and the run then stops stepping).
#[derive(Clone, Debug)]
enum Choices {
    Seeded(Rng),
    Bytes { bytes: Vec<u8>, at: usize },
}

impl Choices {
    fn next_u64(&mut self) -> u64 {
        match self {
            Choices::Seeded(rng) => rng.next_u64(),
            Choices::Bytes { bytes, at } => {
                let mut word = [0u8; 8];
                let end = (*at + BYTES_PER_CHOICE).min(bytes.len());
                let taken = bytes.get(*at..end).unwrap_or_default();
                word[..taken.len()].copy_from_slice(taken);
                *at = end;
                u64::from_le_bytes(word)
            }
        }
    }

    /// Whether a fuzzer's bytes are used up (never, for a seed).
    fn exhausted(&self) -> bool {
        matches!(self, Choices::Bytes { bytes, at } if *at >= bytes.len())
    }
}

impl Swarm {
    fn draw(rng: &mut Choices, brokers: u32) -> Swarm {
        let mut pick = |low: u64, high: u64| {
            if rng.next_u64().is_multiple_of(2) { 0 } else { low + rng.next_u64() % (high - low) }
        };
        let stop_broker = pick(8, 40);
        Swarm {
            stop_broker: if brokers > 1 { stop_broker } else { 0 },
            kill: pick(40, 160),
            power_cut: pick(40, 160),
            clean_restart: pick(60, 200),
            failing_writes: pick(30, 600),
            clock_jump: pick(10, 60),
            scratch_topic: pick(10, 50),
            retry: pick(3, 12),
            // Drawn from the controllers' own stream (`draw_controller_faults`).
            controller: 0,
        }
    }

    /// Whether and how often the run faults controllers, from a stream of its own (returned, for
    /// the run's later choices of them), so a seed's other faults stay those it drew before
    /// controllers faulted. One broker is its own controller: none to fault.
    fn draw_controller_faults(&mut self, config: &HostSimConfig) -> Rng {
        let mut rng = Rng::from_seed(config.seed ^ CONTROLLER_STREAM);
        if config.brokers > 1 && config.controllers > 1 && rng.next_u64().is_multiple_of(2) {
            self.controller = 10 + rng.next_u64() % 50;
        }
        rng
    }

    /// The faults on, as `kind 1/N` for a run's summary.
    pub fn describe(&self) -> String {
        let kinds = [
            ("stop-broker", self.stop_broker),
            ("kill", self.kill),
            ("power-cut", self.power_cut),
            ("clean-restart", self.clean_restart),
            ("failing-writes", self.failing_writes),
            ("clock-jump", self.clock_jump),
            ("scratch-topic", self.scratch_topic),
            ("idempotent-retry", self.retry),
            ("controller", self.controller),
        ];
        let on: Vec<String> =
            kinds.iter().filter(|(_, n)| *n > 0).map(|(kind, n)| format!("{kind} 1/{n}")).collect();
        if on.is_empty() { "no faults".into() } else { on.join(", ") }
    }
}

/// How a controller is kept out of the quorum by a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ControllerFault {
    Stopped,
    Paused,
    Isolated,
}

/// What a run found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSimResult {
    /// The faults the seed drew.
    pub swarm: Swarm,
    /// Every broken guarantee, one sentence each; empty when the run passed.
    pub violations: Vec<String>,
    /// What happened, a line per step's client request or fault.
    pub trace: Vec<String>,
    /// Records acknowledged.
    pub acked: usize,
    /// Acknowledged records a power cut without `--fsync` took (allowed, counted).
    pub lost_to_power_cuts: usize,
    /// Acknowledged records a single broker's rotting disk took (allowed, counted): the
    /// operator deleted the rotten partitions, and one broker keeps no other copy.
    pub lost_to_rot: usize,
    /// Storage operations that failed.
    pub failed_writes: u64,
}

/// A run's one-line summary.
pub fn summary(config: &HostSimConfig, result: &HostSimResult) -> String {
    format!(
        "seed {} ({} brokers, fsync {}; {}): {} acknowledged, {} lost to power cuts, {} to rot, {} failed writes, {} violations — replay: {}",
        config.seed,
        config.brokers,
        config.fsync,
        result.swarm.describe(),
        result.acked,
        result.lost_to_power_cuts,
        result.lost_to_rot,
        result.failed_writes,
        result.violations.len(),
        config.replay_command()
    )
}

/// How the process stops before a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Kill,
    PowerCut,
    Clean,
}

/// Up to `max_records` of a partition of the topic from `offset`, as text.
fn fetch(partition: i32, offset: i64, max_records: u32) -> Command {
    Command::Fetch {
        topic: TOPIC.into(),
        partition,
        offset,
        max_records,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
        isolation_level: Default::default(),
    }
}

/// A produced value: the era it was sent in (eras end at restarts) and where it was
/// acknowledged, if it was.
struct Sent {
    value: String,
    era: u32,
    acked: Option<(i32, i64)>,
}

/// A record a fetch returned: committed, so it must stay.
struct Observed {
    partition: i32,
    offset: i64,
    value: String,
    era: u32,
}

struct Sim {
    config: HostSimConfig,
    swarm: Swarm,
    rng: Choices,
    /// The controller faults' own choices (`CONTROLLER_STREAM`).
    controller_rng: Rng,
    now: i64,
    disk: PowerCutDisk,
    /// `None` only once the process could not start again.
    cluster: Option<Cluster>,
    session: HostSession,
    next_id: u64,
    era: u32,
    /// Eras a power cut without `--fsync` ended: their acknowledged tails may be gone.
    lossy_eras: BTreeSet<u32>,
    sent: Vec<Sent>,
    observed: Vec<Observed>,
    stopped: BTreeSet<i32>,
    /// Controllers stopped, paused or isolated, each with how (a process restart brings all back).
    faulted_controllers: BTreeMap<i32, ControllerFault>,
    trace: Vec<String>,
    violations: Vec<String>,
    /// The run's idempotent producer (with retries on), once InitProducerId answered; after an
    /// error it asks for a new id, as a Kafka producer resets when a batch's fate is unknown.
    producer: Option<IdempotentProducer>,
    /// The disk's rot, with a rotting disk.
    rot: Option<Rot>,
    /// The transactional application, in a run with transactions.
    transformer: Option<transform::Transformer>,
    /// The Kite Connect pipeline, in a run with one.
    pipeline: Option<connect::Pipeline>,
}

/// A rotting disk: the broker whose disk it is, the rot's own choices, and the partitions of
/// the topic whose replica on it rotted.
struct Rot {
    rng: Rng,
    victim: u32,
    partitions: BTreeSet<i32>,
    /// The operator has replaced what rotted: the disk rots no more.
    healed: bool,
}

/// Runs one seed.
pub fn run(config: &HostSimConfig) -> HostSimResult {
    run_with(config, Choices::Seeded(Rng::from_seed(config.seed)))
}

/// Runs with every choice read from `bytes` (the config's seed unused), for as many steps as
/// they last, up to `MAX_STEPS_ON_BYTES`: the stateful fuzz target's run.
pub fn run_on_bytes(brokers: u32, fsync: bool, bytes: &[u8]) -> HostSimResult {
    let config = HostSimConfig { steps: MAX_STEPS_ON_BYTES, ..HostSimConfig::new(0, brokers, fsync) };
    run_with(&config, Choices::Bytes { bytes: bytes.to_vec(), at: 0 })
}

fn run_with(config: &HostSimConfig, mut choices: Choices) -> HostSimResult {
    let mut swarm = Swarm::draw(&mut choices, config.brokers);
    let controller_rng = swarm.draw_controller_faults(config);
    let mut sim = Sim::start(config.clone(), swarm.clone(), choices, controller_rng);
    for _ in 0..config.steps {
        if sim.cluster.is_none() || sim.rng.exhausted() {
            break;
        }
        sim.step();
    }
    sim.heal();
    sim.settle_pipeline();
    let finals = sim.read_final();
    sim.check(&finals);
    sim.check_transform(&finals);
    sim.check_pipeline();
    let acked = sim.sent.iter().filter(|s| s.acked.is_some()).count();
    let (lost_to_power_cuts, lost_to_rot) = sim.lost(&finals);
    HostSimResult {
        swarm,
        violations: sim.violations,
        trace: sim.trace,
        acked,
        lost_to_power_cuts,
        lost_to_rot,
        failed_writes: sim.disk.failed_writes(),
    }
}

impl Sim {
    fn start(config: HostSimConfig, swarm: Swarm, rng: Choices, controller_rng: Rng) -> Sim {
        let mut sim = Sim {
            config,
            swarm,
            rng,
            controller_rng,
            now: START_MS,
            disk: PowerCutDisk::new(),
            cluster: None,
            session: HostSession::new(Capabilities::SERVER),
            next_id: 0,
            era: 0,
            lossy_eras: BTreeSet::new(),
            sent: Vec::new(),
            observed: Vec::new(),
            stopped: BTreeSet::new(),
            faulted_controllers: BTreeMap::new(),
            trace: Vec::new(),
            violations: Vec::new(),
            producer: None,
            rot: None,
            transformer: None,
            pipeline: None,
        };
        if sim.config.rotting_disk {
            let mut rng = Rng::from_seed(sim.config.seed ^ ROT_STREAM);
            let victim = (rng.next_u64() % u64::from(sim.config.brokers)) as u32;
            sim.rot = Some(Rot { rng, victim, partitions: BTreeSet::new(), healed: false });
        }
        match sim.open() {
            Ok(cluster) => sim.cluster = Some(cluster),
            Err(e) => sim.violations.push(format!("a new cluster does not open: {e}")),
        }
        let segment_bytes = 200 + sim.rng.next_u64() % 2_000;
        let configs = BTreeMap::from([
            ("segment.bytes".to_string(), segment_bytes.to_string()),
            ("retention.ms".to_string(), "-1".to_string()),
            ("min.insync.replicas".to_string(), sim.config.brokers.min(2).to_string()),
        ]);
        let create = Command::CreateTopic {
            name: TOPIC.into(),
            partitions: PARTITIONS,
            configs,
            replication_factor: Some(sim.config.brokers as i16),
        };
        let reply = sim.ask(create);
        if !matches!(reply, Reply::TopicCreated { .. }) {
            sim.violations.push(format!("{TOPIC} is not created: {reply:?}"));
        }
        sim.log(format!("{TOPIC}: {PARTITIONS} partitions, segment.bytes={segment_bytes}"));
        if sim.config.transactions || sim.config.planted_txn_bug.is_some() {
            sim.create_output_topic();
            sim.transformer = Some(transform::Transformer::new(sim.config.seed));
        }
        if sim.config.connect {
            let pipeline = connect::Pipeline::new(sim.config.seed);
            if let Some(cluster) = sim.cluster.as_mut() {
                cluster.connect_worker().set_files(Box::new(pipeline.files.clone()));
            }
            sim.pipeline = Some(pipeline);
            sim.start_pipeline();
        }
        sim.arm_disk();
        sim
    }

    fn log(&mut self, line: String) {
        self.trace.push(format!("t+{} era {} {line}", self.now - START_MS, self.era));
    }

    fn one_in(&mut self, n: u64) -> bool {
        n > 0 && self.rng.next_u64().is_multiple_of(n)
    }

    fn arm_disk(&mut self) {
        let seed = self.rng.next_u64();
        self.disk.fail_writes(seed, self.swarm.failing_writes);
        self.disk.lie_about_fsync(self.config.lying_fsync);
    }

    fn open(&mut self) -> Result<Cluster, String> {
        let options =
            StorageOptions { flush_every_append: self.config.fsync, max_partition_bytes: usize::MAX };
        let count = Count::Exactly(self.config.brokers);
        // A power cut may take a controller's directory that was never flushed: the count is
        // what a new cluster gets, the stored one keeping its own.
        let quorum = if self.config.brokers > 1 {
            Count::ForNew(self.config.controllers)
        } else {
            layout::DEFAULT_QUORUM
        };
        let (mut cluster, _, _) =
            layout::open(self.config.seed, self.now, &mut self.disk.clone(), count, quorum, options)?;
        cluster.allow_faults = true;
        cluster.pace_creations(REPLICA_LOGS_CREATED_PER_TURN);
        if let Some(bug) = self.config.planted_txn_bug {
            cluster.plant_txn_bug(bug);
        }
        cluster.set_internal_topic_partitions(INTERNAL_TOPIC_PARTITIONS);
        // The connect directory outlives the process.
        if let Some(pipeline) = &self.pipeline {
            cluster.connect_worker().set_files(Box::new(pipeline.files.clone()));
        }
        if self.config.racks {
            cluster.set_broker_racks(&self.racks());
        }
        Ok(cluster)
    }

    /// The racks `--racks` gives: broker N in zone N mod 2.
    fn racks(&self) -> Vec<Option<String>> {
        (0..self.config.brokers).map(|broker| Some(format!("zone-{}", broker % 2))).collect()
    }

    /// One request through the server's turn: encoded, decoded by the session, answered, and
    /// the answer decoded as the client reads it.
    fn ask(&mut self, command: Command) -> Reply {
        let Some(cluster) = self.cluster.as_mut() else {
            return Reply::Error(crate::error::KafkaError::new(
                crate::error::ErrorCode::KafkaStorageError,
                "The process is not running.",
            ));
        };
        self.next_id += 1;
        let id = self.next_id;
        let text = encode(&ClientMessage { id, command: command.into() });
        let decoded = HostSession::decode_frame(&Frame::Text(text));
        let frame = self.session.answer_frame(cluster, self.now, decoded);
        match decode_server_frame(&frame) {
            Ok(ServerMessage::Reply { id: answered, reply }) if answered == id => reply,
            other => {
                self.violations.push(format!("request {id} was answered with {other:?}"));
                Reply::Error(crate::error::KafkaError::new(
                    crate::error::ErrorCode::InvalidRequest,
                    "no reply",
                ))
            }
        }
    }

    fn step(&mut self) {
        self.now += 1 + (self.rng.next_u64() % MAX_STEP_MS) as i64;
        if self.one_in(self.swarm.clock_jump) {
            let jump = if self.rng.next_u64().is_multiple_of(2) {
                (self.rng.next_u64() % MAX_CLOCK_JUMP_FORWARD_MS) as i64
            } else {
                -((self.rng.next_u64() % MAX_CLOCK_JUMP_BACK_MS) as i64)
            };
            self.now += jump;
            self.log(format!("the clock jumps {jump} ms"));
        }
        if let Some(cluster) = self.cluster.as_mut() {
            let problems = cluster.tick(self.now);
            // kite serve's turn of its own for a paced creation's next slice.
            let resumed = cluster.has_deferred_work() && !cluster.resume(self.now);
            for problem in problems {
                self.log(format!("tick: {problem}"));
            }
            if resumed {
                self.log("every replica of the topics created is made".to_string());
            }
        }
        // Beside the other faults, from a stream of its own.
        let controller = self.swarm.controller;
        if controller > 0 && self.controller_rng.next_u64().is_multiple_of(controller) {
            self.fault_or_heal_controller();
        }
        if self.fault() {
            return;
        }
        if self.rng.next_u64() % 10 < 7 {
            self.produce();
        } else {
            self.fetch();
        }
        // The transformer's step takes its choices from its own stream: the run's other
        // choices stay those of the same seed without it. So does the pipeline's.
        self.transform();
        self.pipeline_step();
    }

    /// At most one fault a step; whether one came.
    fn fault(&mut self) -> bool {
        if self.one_in(self.swarm.stop_broker) {
            self.stop_or_start_broker();
        } else if self.one_in(self.swarm.kill) {
            self.restart(Stop::Kill);
        } else if self.one_in(self.swarm.power_cut) {
            self.restart(Stop::PowerCut);
        } else if self.one_in(self.swarm.clean_restart) {
            self.restart(Stop::Clean);
        } else if self.one_in(self.swarm.scratch_topic) {
            self.create_or_delete_scratch();
        } else {
            return false;
        }
        true
    }

    fn produce(&mut self) {
        let value = format!("v{}", self.sent.len());
        let key = format!("k{}", self.rng.next_u64() % 20);
        let mut command = Command::produce_text(TOPIC, None, Some(key), &value);
        let idempotent = self.swarm.retry != 0;
        if idempotent {
            self.name_producer(&mut command);
        }
        // Without a producer id (InitProducerId failed: its block could not be written), the
        // record goes as a plain producer's, which has nothing to retry with.
        let numbered = matches!(&command, Command::Produce { producer: Some(_), .. });
        let reply = self.ask(command.clone());
        let (acked, line) = match &reply {
            Reply::Produced { partition, offset, .. } => {
                (Some((*partition, *offset)), format!("produce {value} → {TOPIC}-{partition}@{offset}"))
            }
            Reply::Error(e) => (None, format!("produce {value} → {}", e.error.name())),
            other => (None, format!("produce {value} → {other:?}")),
        };
        self.sent.push(Sent { value: value.clone(), era: self.era, acked });
        self.log(line);
        if idempotent {
            self.producer_answered(&reply);
            if let Some(at) = acked
                && self.one_in(self.swarm.retry)
                && numbered
            {
                self.retry(command, at, &value);
            }
        }
    }

    /// The run's idempotent producer on `command` (its id asked for first when it has none).
    fn name_producer(&mut self, command: &mut Command) {
        if self.producer.is_none()
            && let Reply::ProducerIdInitialized { producer_id, producer_epoch } =
                self.ask(Command::InitProducerId)
        {
            self.producer = Some(IdempotentProducer {
                producer_id,
                producer_epoch,
                sequences: vec![],
                transactional_id: None,
            });
        }
        if let Command::Produce { producer, .. } = command {
            producer.clone_from(&self.producer);
        }
    }

    /// The producer's next sequence moves on where a record was written; after an error its
    /// record's fate is unknown, so the next produce starts over with a new producer id.
    fn producer_answered(&mut self, reply: &Reply) {
        match (reply, &mut self.producer) {
            (Reply::Produced { partition, idempotent: Some(write), .. }, Some(producer)) => {
                producer.wrote(*partition, write);
            }
            _ => self.producer = None,
        }
    }

    /// The acknowledged record at `at` sent again as it went (its answer "lost"): the leader must
    /// answer with the same offset and write nothing (the final check finds a second copy too).
    fn retry(&mut self, mut command: Command, at: (i32, i64), value: &str) {
        if let Command::Produce { partition, .. } = &mut command {
            *partition = Some(at.0);
        }
        match self.ask(command) {
            Reply::Produced { partition, offset, idempotent: Some(w), .. }
                if (partition, offset) == at && w.duplicate =>
            {
                self.log(format!("retry {value} → a duplicate of {TOPIC}-{partition}@{offset}"));
            }
            Reply::Produced { partition, offset, idempotent, .. } => {
                self.violations.push(format!(
                    "{value} was acknowledged at {TOPIC}-{}@{} and its retry was taken again at {partition}@{offset} ({idempotent:?})",
                    at.0, at.1
                ));
            }
            other => {
                self.log(format!("retry {value} → {other:?}"));
                self.producer = None;
            }
        }
    }

    fn fetch(&mut self) {
        let partition = (self.rng.next_u64() % PARTITIONS as u64) as i32;
        let known = self.sent.iter().filter(|s| s.acked.is_some_and(|(p, _)| p == partition)).count();
        let offset = (self.rng.next_u64() % (known as u64 + 1)) as i64;
        match self.ask(fetch(partition, offset, WORKLOAD_FETCH_RECORDS)) {
            Reply::Records { records, .. } => {
                self.log(format!("fetch {TOPIC}-{partition}@{offset} → {} records", records.len()));
                for record in records {
                    let value = record.value.unwrap_or_default();
                    let again = self
                        .observed
                        .iter()
                        .any(|o| o.partition == partition && o.offset == record.offset && o.value == value);
                    if !again {
                        self.observed.push(Observed {
                            partition,
                            offset: record.offset,
                            value,
                            era: self.era,
                        });
                    }
                }
            }
            Reply::Error(e) => self.log(format!("fetch {TOPIC}-{partition}@{offset} → {}", e.error.name())),
            other => self.log(format!("fetch {TOPIC}-{partition}@{offset} → {other:?}")),
        }
    }

    fn stop_or_start_broker(&mut self) {
        let broker = (self.rng.next_u64() % u64::from(self.config.brokers)) as i32;
        let stopping = !self.stopped.contains(&broker);
        // Leave a majority of replicas up, so acks=all can still be met.
        if stopping && self.stopped.len() + 1 >= self.config.brokers as usize {
            return;
        }
        let command = if stopping { Command::StopBroker { broker } } else { Command::StartBroker { broker } };
        let reply = self.ask(command);
        let verb = if stopping { "stop" } else { "start" };
        match reply {
            Reply::ClusterDescribed { .. } => {
                if stopping {
                    self.stopped.insert(broker);
                } else {
                    self.stopped.remove(&broker);
                }
                self.log(format!("{verb} broker {broker}"));
            }
            Reply::Error(e) => {
                self.log(format!("{verb} broker {broker} → {}: {}", e.error.name(), e.message))
            }
            other => self.log(format!("{verb} broker {broker} → {other:?}")),
        }
    }

    /// A controller brought back from its fault, or one more faulted while a majority stays
    /// healthy: stopped, paused or isolated, as `kite cluster` can.
    fn fault_or_heal_controller(&mut self) {
        let controller = (self.controller_rng.next_u64() % u64::from(self.config.controllers)) as i32;
        let command = match self.faulted_controllers.get(&controller) {
            Some(ControllerFault::Stopped) => Command::StartController { controller },
            Some(ControllerFault::Paused) => Command::ResumeController { controller },
            Some(ControllerFault::Isolated) => Command::HealController { controller },
            None if self.faulted_controllers.len() + 1 > (self.config.controllers as usize - 1) / 2 => return,
            None => match self.controller_rng.next_u64() % 3 {
                0 => Command::StopController { controller },
                1 => Command::PauseController { controller },
                _ => Command::IsolateController { controller },
            },
        };
        let line = format!("{command:?}");
        match self.ask(command.clone()) {
            Reply::ClusterDescribed { .. } => {
                let fault = match command {
                    Command::StopController { .. } => Some(ControllerFault::Stopped),
                    Command::PauseController { .. } => Some(ControllerFault::Paused),
                    Command::IsolateController { .. } => Some(ControllerFault::Isolated),
                    _ => None,
                };
                match fault {
                    Some(fault) => self.faulted_controllers.insert(controller, fault),
                    None => self.faulted_controllers.remove(&controller),
                };
                self.log(line);
            }
            Reply::Error(e) => self.log(format!("{line} → {}: {}", e.error.name(), e.message)),
            other => self.log(format!("{line} → {other:?}")),
        }
    }

    fn create_or_delete_scratch(&mut self) {
        let exists = match self.ask(Command::ListTopics) {
            Reply::Topics { topics } => topics.iter().any(|t| t.name == SCRATCH_TOPIC),
            _ => return,
        };
        let command = if exists {
            Command::DeleteTopic { name: SCRATCH_TOPIC.into() }
        } else {
            Command::CreateTopic {
                name: SCRATCH_TOPIC.into(),
                partitions: 2,
                configs: BTreeMap::new(),
                replication_factor: Some(self.config.brokers as i16),
            }
        };
        let reply = self.ask(command);
        let verb = if exists { "delete" } else { "create" };
        match reply {
            Reply::Error(e) => {
                self.log(format!("{verb} {SCRATCH_TOPIC} → {}: {}", e.error.name(), e.message))
            }
            _ => self.log(format!("{verb} {SCRATCH_TOPIC}")),
        }
    }

    /// The process stops and starts again over what the disk kept.
    fn restart(&mut self, how: Stop) {
        self.restart_replacing(how, None);
    }

    /// A restart in which the operator replaces what rotted on broker `replaced`'s disk: with
    /// more brokers than one, the whole disk (the broker starts empty and refetches); a single
    /// broker's rotten partitions are deleted (their records are gone).
    fn restart_replacing(&mut self, how: Stop, replaced: Option<u32>) {
        let Some(mut cluster) = self.cluster.take() else { return };
        if how == Stop::Clean
            && let Err(e) = cluster.shutdown()
        {
            self.log(format!("shutdown failed: {e}"));
        }
        drop(cluster);
        let files = match how {
            Stop::PowerCut => self.disk.power_cut(),
            Stop::Kill | Stop::Clean => self.disk.process_kill(),
        };
        let mut files = self.rot(files);
        let replaced_dir = replaced.map(|broker| {
            let dirs: Vec<String> = match &self.rot {
                Some(rot) if self.config.brokers == 1 => rot
                    .partitions
                    .iter()
                    .map(|p| format!("{}/{TOPIC}-{p}", layout::broker_dir(broker)))
                    .collect(),
                _ => vec![layout::broker_dir(broker)],
            };
            files.retain(|(dir, _), _| !dirs.iter().any(|d| dir == d || dir.starts_with(&format!("{d}/"))));
            self.log(format!("the operator replaces what rotted: {} emptied", dirs.join(", ")));
            layout::broker_dir(broker)
        });
        let lossy = how == Stop::PowerCut && !(self.config.fsync || self.config.lying_fsync);
        if lossy {
            self.lossy_eras.insert(self.era);
        }
        self.log(format!("{how:?}, then a restart{}", if lossy { " (unsynced bytes lost)" } else { "" }));
        self.era += 1;
        let failed = self.disk.failed_writes();
        self.disk = PowerCutDisk::with_files(files);
        if let Some(dir) = replaced_dir {
            // The new disk is mounted where the old one was: the directory is there, empty.
            self.disk.store(&dir);
        }
        self.arm_disk();
        self.session = HostSession::new(Capabilities::SERVER);
        self.stopped.clear();
        self.faulted_controllers.clear();
        self.now += 1_000;
        let opened = match self.open() {
            Ok(cluster) => Ok(cluster),
            Err(e) => {
                // As an operator would: free the disk and start it again.
                self.log(format!("start failed: {e}"));
                self.disk.fail_writes(0, 0);
                self.open()
            }
        };
        match opened {
            Ok(cluster) => self.cluster = Some(cluster),
            Err(e) => {
                self.violations.push(format!("after {how:?} the cluster does not start on a good disk: {e}"))
            }
        }
        // The new disk counts its own failures; keep the run's total.
        self.disk.add_failed_writes(failed);
    }

    /// What the victim's disk returns after a restart, one time in `ROT_ONE_RESTART_IN`: one of
    /// its segments of the topic with a byte flipped, or a sector of it zeros.
    fn rot(&mut self, mut files: FileMap) -> FileMap {
        let Some(rot) = self.rot.as_mut().filter(|rot| !rot.healed) else { return files };
        if !rot.rng.next_u64().is_multiple_of(ROT_ONE_RESTART_IN) {
            return files;
        }
        let prefix = format!("{}/{TOPIC}-", layout::broker_dir(rot.victim));
        let segments: Vec<(String, String)> = files
            .iter()
            .filter(|((dir, name), bytes)| {
                dir.starts_with(&prefix) && name.ends_with(LOG_SUFFIX) && !bytes.is_empty()
            })
            .map(|(key, _)| key.clone())
            .collect();
        if segments.is_empty() {
            return files;
        }
        let key = segments[(rot.rng.next_u64() % segments.len() as u64) as usize].clone();
        let Some(bytes) = files.get_mut(&key) else { return files };
        let at = (rot.rng.next_u64() % bytes.len() as u64) as usize;
        let what = if rot.rng.next_u64().is_multiple_of(2) {
            bytes[at] ^= 1 + (rot.rng.next_u64() % 255) as u8;
            format!("byte {at} flipped")
        } else {
            let start = at / SECTOR_BYTES * SECTOR_BYTES;
            let end = (start + SECTOR_BYTES).min(bytes.len());
            bytes[start..end].fill(0);
            format!("bytes {start}..{end} read back as zeros")
        };
        if let Some(partition) = key.0.strip_prefix(&prefix).and_then(|p| p.parse().ok()) {
            rot.partitions.insert(partition);
        }
        self.log(format!("the disk rots: {}/{} has {what}", key.0, key.1));
        files
    }

    /// The faults stop and the operator restarts the process, as after a disk was replaced.
    fn heal(&mut self) {
        self.swarm = Swarm::default();
        self.disk.fail_writes(0, 0);
        let replaced = self.rot.as_mut().and_then(|rot| {
            rot.healed = true;
            (!rot.partitions.is_empty()).then_some(rot.victim)
        });
        if self.cluster.is_some() {
            self.restart_replacing(Stop::Kill, replaced);
            self.disk.fail_writes(0, 0);
        }
        self.settle();
        self.log("healed".into());
        // What the cluster says of itself once healed, for reading a failure's trace.
        if let Reply::ClusterDescribed { brokers, controllers, .. } = self.ask(Command::DescribeCluster) {
            let brokers_described = brokers.clone();
            let brokers: Vec<String> = brokers
                .iter()
                .map(|b| format!("broker-{} {} @{}", b.id, b.state, b.metadata_offset.unwrap_or(-1)))
                .collect();
            let controllers: Vec<String> = controllers
                .iter()
                .map(|c| format!("controller-{} {} e{} hw {}", c.id, c.state, c.epoch, c.high_watermark))
                .collect();
            self.log(format!("healed cluster: {}; {}", brokers.join(", "), controllers.join(", ")));
            // Racks given at the last start are what the brokers registered with.
            let racks = self.racks();
            let checked = self.config.racks && self.config.brokers > 1;
            for b in brokers_described.iter().filter(|b| checked && b.state == "up") {
                let given = usize::try_from(b.id).ok().and_then(|i| racks.get(i).cloned().flatten());
                if b.rack != given {
                    self.violations.push(format!(
                        "broker-{} registered rack {:?}, started with {given:?}",
                        b.id, b.rack
                    ));
                }
            }
        }
    }

    /// `SETTLE_MS` of ticks: brokers register, leaders are elected, followers catch up.
    fn settle(&mut self) {
        for second in 1..=SETTLE_MS / 1_000 {
            if let Some(cluster) = self.cluster.as_mut() {
                cluster.tick(self.now + second * 1_000);
                // kite serve's turns of their own make a paced creation's slices meanwhile.
                while cluster.resume(self.now + second * 1_000) {}
            }
        }
        self.now += SETTLE_MS;
    }

    /// Every partition of the topic, offset → value, read from offset 0 to the high watermark;
    /// ListOffsets by time and by largest timestamp checked against what was read.
    fn read_final(&mut self) -> BTreeMap<i32, BTreeMap<i64, String>> {
        let mut finals = BTreeMap::new();
        for partition in 0..PARTITIONS {
            let mut log = BTreeMap::new();
            let mut times = Vec::new();
            let mut offset = 0;
            loop {
                match self.ask(fetch(partition, offset, MAX_FETCH_RECORDS)) {
                    Reply::Records { records, log_end_offset, .. } => {
                        let Some(last) = records.last().map(|r| r.offset) else { break };
                        for record in records {
                            times.push((record.offset, record.timestamp_ms));
                            log.insert(record.offset, record.value.unwrap_or_default());
                        }
                        offset = last + 1;
                        if offset >= log_end_offset {
                            break;
                        }
                    }
                    other => {
                        self.violations
                            .push(format!("{TOPIC}-{partition} cannot be read after healing: {other:?}"));
                        break;
                    }
                }
            }
            finals.insert(partition, log);
            self.check_time_lookups(partition, &times);
        }
        for partition in 0..PARTITIONS {
            let reply = self.ask(Command::produce_text(TOPIC, Some(partition), None, "after healing"));
            let expected = finals[&partition].len() as i64;
            if !matches!(reply, Reply::Produced { offset, .. } if offset == expected) {
                self.violations.push(format!(
                    "{TOPIC}-{partition} after healing: a produce should land at {expected}, got {reply:?}"
                ));
            }
        }
        self.check_topic_admin(&finals);
        finals
    }

    /// DeleteRecords after healing, half of each partition's records: the log starts there
    /// (answered as the low watermark, and by ListOffsets), the first record kept is the one read
    /// before, one offset earlier is out of range. And CreatePartitions: one more partition, a
    /// record written to it. All of it holds across a clean restart.
    fn check_topic_admin(&mut self, finals: &BTreeMap<i32, BTreeMap<i64, String>>) {
        let starts: Vec<(i32, i64)> = finals.iter().map(|(&p, log)| (p, log.len() as i64 / 2)).collect();
        for &(partition, start) in &starts {
            let reply = self.ask(Command::DeleteRecords { topic: TOPIC.into(), partition, offset: start });
            if !matches!(reply, Reply::RecordsDeleted { low_watermark, .. } if low_watermark == start) {
                self.violations
                    .push(format!("{TOPIC}-{partition}: DeleteRecords {start} answered {reply:?}"));
            }
        }
        let grown = PARTITIONS + 1;
        let reply = self.ask(Command::CreatePartitions { topic: TOPIC.into(), count: grown });
        if !matches!(&reply, Reply::PartitionsCreated { topic } if topic.partitions.len() == grown as usize) {
            self.violations.push(format!("{TOPIC}: CreatePartitions {grown} answered {reply:?}"));
        }
        // The slices of the added partition's replicas, in turns of their own as kite serve
        // makes them (a client asking before they are made is told NOT_LEADER_OR_FOLLOWER).
        if let Some(cluster) = self.cluster.as_mut() {
            while cluster.resume(self.now) {}
        }
        let added = Command::produce_text(TOPIC, Some(PARTITIONS), None, "in the added partition");
        if !matches!(self.ask(added), Reply::Produced { offset: 0, .. }) {
            self.violations.push(format!("{TOPIC}-{PARTITIONS}: the added partition took no record"));
        }
        self.restart(Stop::Clean);
        self.settle();
        let kept = match self.ask(fetch(PARTITIONS, 0, 1)) {
            Reply::Records { records, .. } => records.first().and_then(|r| r.value.clone()),
            _ => None,
        };
        if kept.as_deref() != Some("in the added partition") {
            self.violations.push(format!("{TOPIC}-{PARTITIONS} after a restart holds {kept:?}"));
        }
        for (partition, start) in starts {
            let earliest =
                Command::ListOffsets { topic: TOPIC.into(), partition, timestamp_ms: EARLIEST_TIMESTAMP };
            let reply = self.ask(earliest);
            if !matches!(reply, Reply::Offsets { offset: Some(offset), .. } if offset == start) {
                self.violations.push(format!(
                    "{TOPIC}-{partition}: the log should start at {start}, ListOffsets says {reply:?}"
                ));
            }
            let kept = match self.ask(fetch(partition, start, 1)) {
                Reply::Records { records, .. } => {
                    records.first().map(|r| (r.offset, r.value.clone().unwrap_or_default()))
                }
                _ => None,
            };
            let expected = finals[&partition].get(&start).map(|value| (start, value.clone()));
            // An empty partition keeps nothing to read at its start (offset 0, the log end).
            if kept != expected && !(start == 0 && expected.is_none()) {
                self.violations.push(format!("{TOPIC}-{partition}: after DeleteRecords {start} the first record is {kept:?}, not {expected:?}"));
            }
            if start > 0
                && !matches!(self.ask(fetch(partition, start - 1, 1)), Reply::Error(e) if e.error == ErrorCode::OffsetOutOfRange)
            {
                self.violations.push(format!(
                    "{TOPIC}-{partition}: offset {} is before the log start {start} and still read",
                    start - 1
                ));
            }
        }
    }

    /// ListOffsets after the crashes, over the time indexes recovery rebuilt: the largest
    /// timestamp (KIP-734) is the first record holding it, and a lookup by time finds the first
    /// record in offset order at or after the time, for a time below, at and past the records'
    /// (clock jumps leave their timestamps out of order).
    fn check_time_lookups(&mut self, partition: i32, times: &[(i64, i64)]) {
        let max = times.iter().map(|&(_, t)| t).max();
        let first_at_or_after = |bound: i64| times.iter().copied().find(|&(_, t)| t >= bound);
        let mut lookups = vec![(MAX_TIMESTAMP, max.and_then(first_at_or_after))];
        for bound in [times.first().map(|&(_, t)| t), max, max.map(|t| t + 1)].into_iter().flatten() {
            lookups.push((bound.max(0), first_at_or_after(bound.max(0))));
        }
        for (timestamp_ms, expected) in lookups {
            let reply = self.ask(Command::ListOffsets { topic: TOPIC.into(), partition, timestamp_ms });
            let found = match &reply {
                Reply::Offsets { offset, record_timestamp_ms, .. } => offset.zip(*record_timestamp_ms),
                other => {
                    self.violations
                        .push(format!("{TOPIC}-{partition}: ListOffsets {timestamp_ms} refused: {other:?}"));
                    continue;
                }
            };
            if found != expected {
                self.violations.push(format!(
                    "{TOPIC}-{partition}: ListOffsets {timestamp_ms} found (offset, timestamp) {found:?}, the records say {expected:?}"
                ));
            }
        }
    }

    /// Whether a record of `era` in `partition` may be missing: a power cut without fsync ended
    /// that era or a later one (a later cut takes what was flushed late), or the partition's
    /// only replica rotted (the operator deleted it).
    fn may_be_lost(&self, era: u32, partition: i32) -> bool {
        self.rotted_alone(partition) || self.lossy_eras.range(era..).next().is_some()
    }

    /// Whether `partition`'s only replica rotted (one broker): the operator deleted it.
    fn rotted_alone(&self, partition: i32) -> bool {
        self.config.brokers == 1 && self.rot.as_ref().is_some_and(|rot| rot.partitions.contains(&partition))
    }

    /// Acknowledged records not kept: (to power cuts, to a single broker's rot).
    fn lost(&self, finals: &BTreeMap<i32, BTreeMap<i64, String>>) -> (usize, usize) {
        let kept = |(p, o): (i32, i64), value: &str| finals[&p].get(&o).is_some_and(|v| v == value);
        let gone: Vec<i32> = self
            .sent
            .iter()
            .filter_map(|s| s.acked.filter(|&at| !kept(at, &s.value)).map(|(p, _)| p))
            .collect();
        let to_rot = gone.iter().filter(|&&p| self.rotted_alone(p)).count();
        (gone.len() - to_rot, to_rot)
    }

    fn check(&mut self, finals: &BTreeMap<i32, BTreeMap<i64, String>>) {
        let mut violations = Vec::new();
        let sent: BTreeSet<&str> = self.sent.iter().map(|s| s.value.as_str()).collect();
        let mut seen = BTreeMap::new();
        for (partition, log) in finals {
            let expected: Vec<i64> = (0..log.len() as i64).collect();
            if log.keys().copied().collect::<Vec<_>>() != expected {
                violations.push(format!("{TOPIC}-{partition}'s offsets have gaps: {:?}", log.keys()));
            }
            for (offset, value) in log {
                if !sent.contains(value.as_str()) {
                    violations.push(format!("{TOPIC}-{partition}@{offset} holds {value}, which nobody sent"));
                }
                if let Some(first) = seen.insert(value.clone(), (*partition, *offset)) {
                    violations
                        .push(format!("{value} is in the log twice: {first:?} and {partition}@{offset}"));
                }
            }
        }
        // Per era and partition: acknowledged offsets rise, and a lossy era loses only a tail.
        let mut last: BTreeMap<(u32, i32), (i64, bool)> = BTreeMap::new();
        for sent in &self.sent {
            let Some((partition, offset)) = sent.acked else { continue };
            let kept = finals[&partition].get(&offset) == Some(&sent.value);
            if !kept && !self.may_be_lost(sent.era, partition) {
                let holds = finals[&partition].get(&offset);
                violations.push(format!(
                    "{} was acknowledged at {TOPIC}-{partition}@{offset} (era {}) and is gone: the log holds {holds:?}",
                    sent.value, sent.era
                ));
            }
            if let Some(&(before, before_kept)) = last.get(&(sent.era, partition)) {
                if offset <= before {
                    violations.push(format!(
                        "{} was acknowledged at {TOPIC}-{partition}@{offset}, after {before} in the same era",
                        sent.value
                    ));
                }
                if kept && !before_kept && self.lossy_eras.contains(&sent.era) {
                    violations.push(format!(
                        "{TOPIC}-{partition} lost {before} but kept {offset} after it: a hole, not a tail",
                    ));
                }
            }
            last.insert((sent.era, partition), (offset, kept));
        }
        // An acknowledged value has one place: read anywhere else, its offset was served wrong
        // (a rotten baseOffset, which the batch's CRC does not cover), whatever the log kept.
        let acked_at: BTreeMap<&str, (i32, i64)> =
            self.sent.iter().filter_map(|s| Some((s.value.as_str(), s.acked?))).collect();
        for read in &self.observed {
            if let Some(&(partition, offset)) = acked_at.get(read.value.as_str())
                && (partition, offset) != (read.partition, read.offset)
            {
                violations.push(format!(
                    "{} was read at {TOPIC}-{}@{} (era {}), but acknowledged at {partition}@{offset}",
                    read.value, read.partition, read.offset, read.era
                ));
            }
        }
        for read in &self.observed {
            let now = finals[&read.partition].get(&read.offset);
            if now != Some(&read.value) && !self.may_be_lost(read.era, read.partition) {
                violations.push(format!(
                    "{} was read at {TOPIC}-{}@{} (era {}); the log now holds {now:?}",
                    read.value, read.partition, read.offset, read.era
                ));
            }
        }
        self.violations.extend(violations);
    }
}
