//! A broker (Kafka's `BrokerServer` with its `ReplicaManager` and replica fetchers): heartbeats
//! to the controller, fetches the metadata log and applies its partition states (becoming
//! leader or follower), answers produce and fetch as leader, fetches from leaders as follower.

use std::collections::{BTreeMap, BTreeSet};

use super::metadata_image::MetadataImage;

use super::partition::{FetchRequest, MAX_FETCH_BYTES, Outbox, Partition, PlantedBug, ProduceRequest};
use super::protocol::{BrokerId, FetchData, Message, NodeId, PartitionState, TopicId, TopicPartition};
use super::quota::{ReplicationQuota, ThrottledReplicas};
use crate::config::{Acks, TopicConfig};
use crate::error::ErrorCode;
use crate::group::coordinator::{CoordinatorConfig, CoordinatorOutput, GroupCoordinator, OFFSETS_TOPIC};
use crate::group::offsets_topic::{encode_batch, records_in};
use crate::log::checkpoint::{BrokerCheckpoints, CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT_FILE};
use crate::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use crate::log::partition_metadata;
use crate::log::segment::file_name;
use crate::log::storage::{
    BrokerStore, LEADER_EPOCH_CHECKPOINT_FILE, LOG_SUFFIX, MemoryPartitionStore, is_partition_dir,
};
use crate::random::Rng;
use crate::trace::{Event, Trace};

/// Kafka's `broker.heartbeat.interval.ms` default.
pub const BROKER_HEARTBEAT_INTERVAL_MS: i64 = 2_000;
/// Kafka's `replica.lag.time.max.ms` default.
pub const DEFAULT_REPLICA_LAG_TIME_MAX_MS: i64 = 30_000;
/// At most this many unflushed bytes survive a crash (the last of them possibly a torn batch).
pub const MAX_TORN_BYTES: u64 = 512;
/// How long a follower waits for a fetch answer before fetching again (a lost message).
pub const FETCH_RETRY_MS: i64 = 500;
/// How often a broker with a store writes its recovery-point and log-start checkpoints (Kafka's
/// `log.flush.offset.checkpoint.interval.ms` default).
pub const CHECKPOINT_INTERVAL_MS: i64 = 60_000;
/// Set in the correlation of the coordinator's own appends to `__consumer_offsets`, so their
/// answers (addressed to this broker) are told apart from everything else.
const COORDINATOR_WRITE_BIT: u64 = 1 << 63;

/// A broker's tunables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Kafka's `replica.lag.time.max.ms`: a follower that has not caught up to the leader's
    /// log end offset for this long (ms) is dropped from the ISR.
    pub replica_lag_time_max_ms: i64,
    /// Kafka's `broker.heartbeat.interval.ms`: how often (ms) it heartbeats to the controller.
    pub heartbeat_interval_ms: i64,
    /// Kite's `--fsync`: every append flushed before it counts (`flush.messages=1`).
    pub flush_every_append: bool,
    /// The settings of its group coordinator.
    pub coordinator: CoordinatorConfig,
    /// Whether the broker coordinates the groups of the `__consumer_offsets` partitions it leads
    /// (Kafka's brokers do; off where a host coordinates groups itself, as the cluster front does).
    pub runs_coordinator: bool,
    /// A bug planted in every replica it hosts, for the simulator's checker; `None` elsewhere.
    pub planted_bug: Option<PlantedBug>,
    /// Kafka's `replica.fetch.max.bytes`: the most bytes (past a first whole batch) a follower's
    /// fetch of one partition returns. Kafka's follower sends it; every Kite broker has the
    /// same static configs, so the leader applies its own.
    pub replica_fetch_max_bytes: usize,
    /// The static `leader.replication.throttled.rate` (bytes/s); `None`: unthrottled. A dynamic
    /// value in the metadata log overrides it.
    pub leader_replication_throttled_rate: Option<i64>,
    /// The static `follower.replication.throttled.rate` (bytes/s), as the leader's.
    pub follower_replication_throttled_rate: Option<i64>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            replica_lag_time_max_ms: DEFAULT_REPLICA_LAG_TIME_MAX_MS,
            heartbeat_interval_ms: BROKER_HEARTBEAT_INTERVAL_MS,
            flush_every_append: false,
            coordinator: CoordinatorConfig::default(),
            runs_coordinator: true,
            planted_bug: None,
            replica_fetch_max_bytes: MAX_FETCH_BYTES,
            leader_replication_throttled_rate: None,
            follower_replication_throttled_rate: None,
        }
    }
}

/// One broker: the replicas it hosts, its group coordinator and, on a server, its log
/// directory.
pub struct Broker {
    /// The broker's id (Kafka's `node.id`).
    pub id: BrokerId,
    /// Changes at every restart; the controller tells a restarted broker by it.
    pub incarnation: u64,
    /// Its settings; a restart keeps them.
    pub config: BrokerConfig,
    /// Its `broker.rack`, as the host configured it; it registers with it.
    pub rack: Option<String>,
    /// The replicas it hosts, each created when the controller first names it a replica.
    pub partitions: BTreeMap<TopicPartition, Partition>,
    /// Restarted after a crash that may have lost unflushed records.
    unclean_restart: bool,
    /// The disk is full: the next write fails.
    pub disk_full: bool,
    /// A write failed: the log directory is offline until the broker restarts (Kafka's
    /// LogDirFailureChannel); its replicas neither lead nor follow.
    log_dir_offline: bool,
    last_heartbeat_ms: Option<i64>,
    next_correlation: u64,
    /// The group coordinator for the `__consumer_offsets` partitions this broker leads.
    pub coordinator: GroupCoordinator,
    /// Where its logs live (Kafka's log directory); `None`: in memory only (the simulator,
    /// which models crashes on the logs' bytes itself).
    store: Option<Box<dyn BrokerStore>>,
    /// What the store said at open, for opening each partition's log when it is first named.
    opened_from: Option<BrokerCheckpoints>,
    last_checkpoint_ms: Option<i64>,
    /// Each topic's log settings (from its configs), for the logs this broker opens; topics not
    /// named use Kafka's defaults.
    topic_configs: BTreeMap<String, LogConfig>,
    /// The metadata log as this broker has fetched and replayed it.
    pub metadata: MetadataImage,
    /// Replicas named to it whose logs it has yet to create, each waiting for its turn
    /// (`creation_budget`); created then with the partition's state at that time.
    pending_creations: BTreeSet<TopicPartition>,
    /// How many more replica logs it may create now; `None`: no limit. A host pacing a wide
    /// topic's creation sets it around each delivery (`LocalCluster::act_paced`).
    pub creation_budget: Option<usize>,
    /// Each topic's throttled replicas (`leader.replication.throttled.replicas`, `follower.…`).
    throttled: BTreeMap<String, (ThrottledReplicas, ThrottledReplicas)>,
    /// What it sends as leader to throttled followers not in sync, against its
    /// `leader.replication.throttled.rate` (KIP-73).
    pub leader_quota: ReplicationQuota,
    /// What it fetches as a throttled follower not in sync, against its
    /// `follower.replication.throttled.rate`.
    pub follower_quota: ReplicationQuota,
    /// The metadata image's `broker_configs_version` its quotas' bounds were read at.
    quota_bounds_version: u64,
}

impl Broker {
    /// A broker without replicas or a store: its logs live in memory only.
    pub fn new(id: BrokerId, incarnation: u64, config: BrokerConfig) -> Broker {
        Broker {
            id,
            incarnation,
            config,
            rack: None,
            partitions: BTreeMap::new(),
            unclean_restart: false,
            disk_full: false,
            log_dir_offline: false,
            last_heartbeat_ms: None,
            next_correlation: 0,
            coordinator: GroupCoordinator::new(id, config.coordinator),
            store: None,
            opened_from: None,
            last_checkpoint_ms: None,
            topic_configs: BTreeMap::new(),
            metadata: MetadataImage::new(id, incarnation),
            pending_creations: BTreeSet::new(),
            creation_budget: None,
            throttled: BTreeMap::new(),
            leader_quota: ReplicationQuota::default(),
            follower_quota: ReplicationQuota::default(),
            quota_bounds_version: 0,
        }
    }

    /// A broker over its log directory, as a Kafka broker starts: it notes and removes the
    /// clean-shutdown marker and reads the recovery-point and log-start checkpoints; each
    /// partition's log is opened from the store when the controller first names this broker a
    /// replica (recovered from the recovery point unless the last stop was clean).
    pub fn open(
        id: BrokerId,
        incarnation: u64,
        config: BrokerConfig,
        mut store: Box<dyn BrokerStore>,
    ) -> Result<Broker, String> {
        // A directory with no partition and no checkpoint is a new disk (one replaced after it
        // failed): whatever the controller thinks this broker holds, it holds nothing.
        let new_disk = store.partition_dirs().map_err(|e| e.to_string())?.is_empty()
            && store.read_file(RECOVERY_POINT_CHECKPOINT_FILE).map_err(|e| e.to_string())?.is_none();
        let opened = BrokerCheckpoints::open(store.as_mut())?;
        let mut broker = Broker::new(id, incarnation, config);
        // Without the clean-shutdown marker the restart is an unclean one in KIP-966's sense,
        // with `--fsync` too: recovery may have cut what a disk returned wrong (a rotten
        // sector), and a new disk lost everything. The broker leaves every ISR and refetches
        // before it may lead; a partition every replica left gets the longest log as leader.
        broker.unclean_restart = new_disk || !opened.clean_shutdown;
        broker.store = Some(store);
        broker.opened_from = Some(opened);
        Ok(broker)
    }

    /// Sets its `broker.rack`; a change goes to the controller with the next tick's heartbeat.
    pub fn set_rack(&mut self, rack: Option<String>) {
        if self.rack != rack {
            self.rack = rack;
            self.last_heartbeat_ms = None;
        }
    }

    /// A partition's log: opened from the store (if the broker has one), else new in memory.
    fn create_log(&mut self, tp: &TopicPartition, topic_id: TopicId) -> Result<LocalLog, String> {
        let config = self.topic_configs.get(&tp.topic).cloned().unwrap_or_else(|| self.log_config());
        let Some(store) = self.store.as_mut() else { return Ok(LocalLog::new(config)) };
        let mut checkpoints = self
            .opened_from
            .as_ref()
            .map_or_else(OpenCheckpoints::default, |from| from.for_partition(&tp.topic, tp.partition));
        let mut partition_store = store.partition(&tp.to_string()).map_err(|e| e.to_string())?;
        // A directory of another topic of this name (deleted) is emptied first, and one that was
        // not this topic's does not take the checkpoints (a deleted namesake's log start); metadata
        // written before topic ids names none, and the directory is taken as it is.
        if topic_id != TopicId::ZERO {
            let claimed =
                partition_metadata::claim(partition_store.as_mut(), topic_id).map_err(|e| e.to_string())?;
            if claimed != partition_metadata::Claimed::Kept {
                checkpoints = OpenCheckpoints::default();
            }
        }
        LocalLog::open(config, partition_store, checkpoints).map(|(log, _)| log).map_err(|e| e.to_string())
    }

    fn write_checkpoints(&mut self) -> Result<(), String> {
        let Some(store) = self.store.as_mut() else { return Ok(()) };
        // What the files said at open, for partitions not reopened yet, overlaid with the open ones.
        let base = self.opened_from.clone().unwrap_or_default();
        let logs = self.partitions.iter().map(|(tp, p)| (tp.topic.as_str(), tp.partition, &p.log));
        base.write(store.as_mut(), logs).map_err(|e| e.to_string())
    }

    /// A clean stop, as a Kafka broker's: every log closed (flushed, indexes written), the
    /// checkpoints, then the clean-shutdown marker last. Without a store there is nothing to do.
    pub fn shutdown(&mut self) -> Result<(), String> {
        if self.store.is_none() {
            return Ok(());
        }
        let mut failed = Vec::new();
        for (tp, partition) in &mut self.partitions {
            if let Err(e) = partition.log.close() {
                failed.push(format!("{tp}: {e}"));
            }
        }
        if !failed.is_empty() {
            return Err(failed.join("; "));
        }
        self.write_checkpoints()?;
        if self.left_unrecovered()? {
            return Ok(());
        }
        match self.store.as_mut() {
            Some(store) => store.write_file(CLEAN_SHUTDOWN_FILE, b"").map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Whether this life began after an unclean stop and left a partition's log unopened, so
    /// unrecovered: its files may hold bytes a process kill left in the page cache only, which
    /// the clean-shutdown marker would have the next start take as flushed (and a power cut
    /// after that as a gap in a flushed log). Kafka recovers every log at startup; Kite opens
    /// them as the broker learns its partitions, so it writes no marker then.
    fn left_unrecovered(&self) -> Result<bool, String> {
        let (Some(store), Some(opened)) = (self.store.as_ref(), self.opened_from.as_ref()) else {
            return Ok(false);
        };
        if opened.clean_shutdown {
            return Ok(false);
        }
        let opened_here: BTreeSet<String> = self.partitions.keys().map(TopicPartition::to_string).collect();
        let dirs = store.partition_dirs().map_err(|e| e.to_string())?;
        let unopened = |dir: &String| {
            is_partition_dir(dir)
                && !dir.ends_with("-delete")
                && !dir.ends_with("-stray")
                && !opened_here.contains(dir)
        };
        Ok(dirs.iter().any(unopened))
    }

    /// A topic's log settings from now on: for the logs it opens later and those open now.
    pub fn set_topic_config(&mut self, topic: &str, config: &TopicConfig) {
        let mut log_config = LogConfig::from(config);
        if self.config.flush_every_append {
            log_config.flush_messages = 1;
        }
        for (tp, partition) in &mut self.partitions {
            if tp.topic == topic {
                partition.log.set_config(log_config.clone());
            }
        }
        self.topic_configs.insert(topic.to_string(), log_config);
        let lists = (
            config.leader_replication_throttled_replicas.clone(),
            config.follower_replication_throttled_replicas.clone(),
        );
        self.throttled.insert(topic.to_string(), lists);
        self.refresh_quota_bounds();
    }

    /// Its static replication settings (`kite serve --override`): `replica.fetch.max.bytes` and
    /// the throttled rates, which dynamic values in the metadata log override.
    pub fn set_replication_configs(&mut self, configs: &crate::config::BrokerConfigs) {
        let rate = |rate: i64| (rate != i64::MAX).then_some(rate);
        self.config.replica_fetch_max_bytes = usize::try_from(configs.replica_fetch_max_bytes).unwrap_or(0);
        self.config.leader_replication_throttled_rate = rate(configs.leader_replication_throttled_rate);
        self.config.follower_replication_throttled_rate = rate(configs.follower_replication_throttled_rate);
        self.refresh_quota_bounds();
    }

    /// Its quotas' bounds: a dynamic rate replayed from the metadata log (its own, else the
    /// cluster-wide default), else the static one; Kafka's default `Long.MAX_VALUE` is none.
    fn refresh_quota_bounds(&mut self) {
        use crate::config::{FOLLOWER_REPLICATION_THROTTLED_RATE, LEADER_REPLICATION_THROTTLED_RATE};
        let bound = |name: &str, fixed: Option<i64>| {
            let dynamic = self.metadata.broker_config(name).and_then(|v| v.trim().parse::<i64>().ok());
            dynamic.or(fixed).filter(|&rate| rate != i64::MAX)
        };
        let leader = bound(LEADER_REPLICATION_THROTTLED_RATE, self.config.leader_replication_throttled_rate);
        let follower =
            bound(FOLLOWER_REPLICATION_THROTTLED_RATE, self.config.follower_replication_throttled_rate);
        self.leader_quota.set_bound(leader);
        self.follower_quota.set_bound(follower);
        self.quota_bounds_version = self.metadata.broker_configs_version();
    }

    /// Whether `tp`'s replica here is throttled: as its leader (`leader: true`) or follower.
    fn is_throttled(&self, tp: &TopicPartition, leader: bool) -> bool {
        self.throttled.get(&tp.topic).is_some_and(|(as_leader, as_follower)| {
            let list = if leader { as_leader } else { as_follower };
            list.contains(tp.partition, self.id)
        })
    }

    /// Whether `replica` of `tp` is in its ISR, as this broker last knew the partition's state.
    fn in_sync(&self, tp: &TopicPartition, replica: BrokerId) -> bool {
        let state = self.partitions.get(tp).and_then(|p| p.state.as_ref());
        state.is_some_and(|s| s.isr.contains(&replica))
    }

    /// Kafka's `shouldLeaderThrottle`: a throttled replica not in sync gets no records while the
    /// leader's quota is exceeded (an in-sync one never waits: the ISR must not thrash).
    fn leader_holds_back(&mut self, now_ms: i64, tp: &TopicPartition, replica: BrokerId) -> bool {
        self.is_throttled(tp, true) && !self.in_sync(tp, replica) && self.leader_quota.is_exceeded(now_ms)
    }

    /// Kafka's `shouldFollowerThrottle`: a throttled follower not in sync leaves the partition
    /// out of its fetches while its quota is exceeded.
    fn follower_holds_back(&mut self, now_ms: i64, tp: &TopicPartition) -> bool {
        self.is_throttled(tp, false) && !self.in_sync(tp, self.id) && self.follower_quota.is_exceeded(now_ms)
    }

    /// Drops a deleted topic's replicas: their logs and directories go.
    pub fn remove_topic(&mut self, topic: &str) -> Result<(), String> {
        self.topic_configs.remove(topic);
        self.pending_creations.retain(|tp| tp.topic != topic);
        let tps: Vec<TopicPartition> =
            self.partitions.keys().filter(|tp| tp.topic == topic).cloned().collect();
        for tp in tps {
            let Some(partition) = self.partitions.remove(&tp) else { continue };
            partition.log.delete().map_err(|e| format!("{tp}: {e}"))?;
            if let Some(store) = self.store.as_mut() {
                store.remove_partition(&tp.to_string()).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Creates up to `budget` of the replica logs waiting for their turn (`creation_budget`),
    /// each with its partition's state as replayed now: a topic deleted since gets nothing.
    pub fn create_pending(&mut self, now_ms: i64, budget: &mut usize, out: &mut Outbox, trace: &mut Trace) {
        let mut groups = CoordinatorOutput::default();
        while *budget > 0 {
            let Some(tp) = self.pending_creations.pop_first() else { break };
            let Some(state) = self.metadata.state(&tp).filter(|s| s.replicas.contains(&self.id)) else {
                continue;
            };
            *budget -= 1;
            let (state, paced) = (state.clone(), self.creation_budget.take());
            self.apply_partition_state(now_ms, state, out, &mut groups, trace);
            self.creation_budget = paced;
        }
        self.settle_coordinator(now_ms, out, groups, trace);
    }

    /// The first replica log waiting for its turn to be created here.
    pub fn first_pending_creation(&self) -> Option<&TopicPartition> {
        self.pending_creations.first()
    }

    /// Whether replica logs wait for their turn to be created.
    pub fn has_pending_creations(&self) -> bool {
        !self.pending_creations.is_empty()
    }

    /// Whether `tp`'s replica waits for its turn to be created here.
    pub fn is_pending_creation(&self, tp: &TopicPartition) -> bool {
        self.pending_creations.contains(tp)
    }

    /// Drops one replica a reassignment removed from this broker: its log and directory go. A
    /// failure to delete takes the log directory offline, as a failed write does.
    fn remove_replica(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        groups: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let Some(partition) = self.partitions.remove(tp) else { return };
        if tp.topic == OFFSETS_TOPIC && self.config.runs_coordinator {
            self.coordinator_follows_leadership(now_ms, tp.partition, false, groups, trace);
        }
        let deleted =
            partition.log.delete().map_err(|e| e.to_string()).and_then(|()| match self.store.as_mut() {
                Some(store) => store.remove_partition(&tp.to_string()).map_err(|e| e.to_string()),
                None => Ok(()),
            });
        if let Err(e) = deleted {
            trace.push(now_ms, Event::Fault { description: format!("broker-{}: {tp}: {e}", self.id) });
            self.log_dir_offline = true;
        }
    }

    /// The broker's periodic log upkeep at `now_ms` (Kafka's LogManager tasks): the time half of
    /// each log's flush policy and, when `retention_due`, retention and the cleaner. Returns the
    /// problems met, one line each; a write that failed takes the log directory offline, with
    /// the same trace event as a failed append.
    pub fn maintain_logs(&mut self, now_ms: i64, retention_due: bool, trace: &mut Trace) -> Vec<String> {
        let mut problems = Vec::new();
        let mut failed = Vec::new();
        for (tp, partition) in &mut self.partitions {
            if let Err(e) = partition.log.maintain(now_ms, retention_due) {
                problems.push(format!("broker-{} {tp}: {e}", self.id));
                failed.push(tp.clone());
            }
        }
        for tp in failed {
            self.offline_if_failed(now_ms, &tp, trace);
        }
        problems
    }

    /// After a write to `tp`'s log: if the store failed it (the log is poisoned: what it holds
    /// past its last flush may not be on disk), or a read found its bytes corrupt, the whole log
    /// directory goes offline, as Kafka's LogDirFailureChannel takes it. Nothing more is served from it — in particular not the
    /// record whose flush failed — and the next heartbeat has the controller move leadership.
    fn offline_if_failed(&mut self, now_ms: i64, tp: &TopicPartition, trace: &mut Trace) {
        let Some(error) = self.partitions.get(tp).and_then(|p| p.log.poisoned()) else { return };
        if self.log_dir_offline {
            return;
        }
        let description = format!("broker-{}: log directory offline after {tp}: {error}", self.id);
        trace.push(now_ms, Event::Fault { description });
        self.log_dir_offline = true;
    }

    /// A replica of `tp` on this broker over `log`.
    fn replica(&self, tp: TopicPartition, log: LocalLog) -> Partition {
        let mut partition = Partition::new(tp, self.id, log);
        partition.planted_bug = self.config.planted_bug;
        partition
    }

    /// Whether its log directory is offline (a write failed): it serves nothing until restarted.
    pub fn log_dir_offline(&self) -> bool {
        self.log_dir_offline
    }

    /// Its log directory, handed back after a shutdown so the broker can be started again.
    pub fn into_store(self) -> Option<Box<dyn BrokerStore>> {
        self.store
    }

    fn log_config(&self) -> LogConfig {
        let mut config = LogConfig::from(&TopicConfig::default());
        if self.config.flush_every_append {
            config.flush_messages = 1;
        }
        config
    }

    /// A crash: everything in memory is gone. Each log's files keep what was flushed (per the
    /// flush policy) and, past it, a random part of what was written but not flushed — possibly
    /// a torn batch, as a crash mid-write leaves; the log is then reopened through the real log
    /// recovery (`LocalLog::open` from the recovery point), which cuts what does not parse.
    /// Returns, per partition, what recovery kept.
    pub fn crash(&mut self, rng: &mut Rng) -> Vec<String> {
        let config = self.log_config();
        let mut described = Vec::new();
        for (tp, partition) in &mut self.partitions {
            let flushed = partition.log.recovery_point();
            let mut files = BTreeMap::new();
            let mut torn_budget = (rng.next_u64() % MAX_TORN_BYTES) as usize;
            for segment in partition.log.segments() {
                let Ok(bytes) = segment.log_bytes() else { continue };
                let durable = if segment.next_offset() <= flushed {
                    bytes.len()
                } else if segment.base_offset() >= flushed {
                    0
                } else {
                    segment
                        .translate_offset(flushed)
                        .ok()
                        .flatten()
                        .map_or(bytes.len(), |(position, _)| position)
                };
                // Some unflushed bytes reached the disk anyway, the last of them maybe torn.
                let survived = (bytes.len() - durable).min(torn_budget);
                torn_budget -= survived;
                files.insert(
                    file_name(segment.base_offset(), LOG_SUFFIX),
                    bytes[..durable + survived].to_vec(),
                );
            }
            files.insert(
                LEADER_EPOCH_CHECKPOINT_FILE.to_string(),
                partition.log.leader_epochs().to_checkpoint().into_bytes(),
            );
            let store = Box::new(MemoryPartitionStore::with_files(&tp.to_string(), files, None));
            let checkpoints = OpenCheckpoints {
                clean_shutdown: false,
                recovery_point: Some(flushed),
                log_start_offset: Some(partition.log.log_start_offset()),
            };
            match LocalLog::open(config.clone(), store, checkpoints) {
                Ok((log, report)) => {
                    let cut = if report.truncated_bytes > 0 {
                        format!(", recovery cut a torn {} bytes", report.truncated_bytes)
                    } else {
                        String::new()
                    };
                    described.push(format!("{tp} recovered to {}{cut}", log.log_end_offset()));
                    partition.log = log;
                }
                Err(e) => {
                    described.push(format!("{tp} could not be recovered ({e}); started empty"));
                    partition.log = LocalLog::new(config.clone());
                }
            }
        }
        described
    }

    /// The same broker started again over its logs, with a new incarnation. After a crash
    /// (`unclean`) it may have lost records, and says so when it registers.
    pub fn restart(self, incarnation: u64, unclean: bool) -> Broker {
        let mut broker = Broker::new(self.id, incarnation, self.config);
        broker.unclean_restart = unclean;
        broker.rack = self.rack;
        // Topic configs, as a restarted Kafka broker reads them again from the metadata.
        broker.throttled = self.throttled;
        for (tp, old) in self.partitions {
            broker.partitions.insert(tp.clone(), broker.replica(tp, old.log));
        }
        broker
    }

    fn correlation(&mut self) -> u64 {
        self.next_correlation += 1;
        self.next_correlation
    }

    /// A message from `from` at `now_ms`: partition state from the controller, a client's
    /// Produce, Fetch, ListOffsets or group request, a follower's Fetch, or the answer to one of
    /// its own fetches. What it sends in return goes to `out`.
    pub fn handle(
        &mut self,
        now_ms: i64,
        from: NodeId,
        message: Message,
        out: &mut Outbox,
        trace: &mut Trace,
    ) {
        let mut groups = CoordinatorOutput::default();
        // A produce may fail a write; serving a follower's fetch may find the log's bytes corrupt.
        let produced_to = match &message {
            Message::Produce { tp, .. } | Message::Fetch { tp, .. } => Some(tp.clone()),
            _ => None,
        };
        self.handle_message(now_ms, from, message, out, &mut groups, trace);
        if let Some(tp) = produced_to {
            self.offline_if_failed(now_ms, &tp, trace);
        }
        self.settle_coordinator(now_ms, out, groups, trace);
    }

    /// A partition state replayed from the metadata log: a replica moved away is removed, one
    /// new to us gets its log (now, or at its turn when the host paces creations; a log that
    /// cannot be opened takes the log directory offline), and the state is applied.
    fn apply_partition_state(
        &mut self,
        now_ms: i64,
        state: PartitionState,
        out: &mut Outbox,
        groups: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        if !state.replicas.contains(&self.id) {
            // A reassignment moved the partition away: the replica stops and its log goes (KRaft's
            // broker deletes a partition the metadata no longer places on it).
            self.pending_creations.remove(&state.tp);
            if self.partitions.contains_key(&state.tp) {
                self.remove_replica(now_ms, &state.tp, groups, trace);
            }
            return;
        }
        if !self.partitions.contains_key(&state.tp) {
            // Created at its turn, with the state the image holds then.
            if self.pending_creations.contains(&state.tp) {
                return;
            }
            if let Some(budget) = &mut self.creation_budget {
                if *budget == 0 {
                    self.pending_creations.insert(state.tp.clone());
                    return;
                }
                *budget -= 1;
            }
            match self.create_log(&state.tp, state.topic_id) {
                Ok(log) => {
                    self.partitions.insert(state.tp.clone(), self.replica(state.tp.clone(), log));
                }
                Err(e) => {
                    // A log that cannot be opened takes the log directory offline, as
                    // Kafka's LogDirFailureChannel does; the controller moves leadership.
                    trace.push(
                        now_ms,
                        Event::Fault { description: format!("broker-{}: {}: {e}", self.id, state.tp) },
                    );
                    self.log_dir_offline = true;
                    return;
                }
            }
        }
        let Some(partition) = self.partitions.get_mut(&state.tp) else { return };
        let offsets_partition = (state.tp.topic == OFFSETS_TOPIC).then_some(state.tp.partition);
        partition.update(now_ms, state, out, trace);
        let leads = partition.is_leader();
        if let Some(p) = offsets_partition.filter(|_| self.config.runs_coordinator) {
            self.coordinator_follows_leadership(now_ms, p, leads, groups, trace);
        }
    }

    fn handle_message(
        &mut self,
        now_ms: i64,
        from: NodeId,
        message: Message,
        out: &mut Outbox,
        groups: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        match message {
            Message::MetadataFetchResponse { high_watermark, result } => {
                let states = self.metadata.answered(now_ms, high_watermark, result, out);
                if self.metadata.broker_configs_version() != self.quota_bounds_version {
                    self.refresh_quota_bounds();
                }
                for state in states {
                    self.apply_partition_state(now_ms, state, out, groups, trace);
                }
            }
            Message::Produce { tp, correlation, .. } if self.disk_full || self.log_dir_offline => {
                // The append fails: the log directory goes offline (nothing was written).
                self.log_dir_offline = true;
                out.push((
                    from,
                    Message::ProduceResponse { tp, correlation, result: Err(ErrorCode::KafkaStorageError) },
                ));
            }
            Message::Fetch { tp, correlation, .. } if self.log_dir_offline => {
                out.push((
                    from,
                    Message::FetchResponse { tp, correlation, result: Err(ErrorCode::KafkaStorageError) },
                ));
            }
            Message::FetchResponse { result: Ok(data), .. } if self.disk_full && !data.records.is_empty() => {
                // A follower's append fails the same way.
                self.log_dir_offline = true;
            }
            Message::Produce { tp, batch, acks, correlation } => match self.partitions.get_mut(&tp) {
                Some(partition) => {
                    let request = ProduceRequest { client: from, correlation, batch: &batch, acks };
                    partition.produce(now_ms, request, out, trace);
                }
                None => out.push((
                    from,
                    Message::ProduceResponse { tp, correlation, result: Err(ErrorCode::NotLeaderOrFollower) },
                )),
            },
            Message::Fetch { tp, replica, fetch_offset, last_fetched_epoch, leader_epoch, correlation } => {
                let request =
                    FetchRequest { replica, fetch_offset, last_fetched_epoch, leader_epoch, max_bytes: 0 };
                let result = self.answer_fetch(now_ms, &tp, request, out, trace);
                out.push((from, Message::FetchResponse { tp, correlation, result }));
            }
            Message::FetchResponse { tp, correlation, result } => {
                self.follow(now_ms, &tp, correlation, result, out, trace);
            }
            Message::Group { correlation, request } => {
                self.coordinator.handle(now_ms, from, correlation, request, groups, trace);
            }
            Message::ListOffsets { tp, timestamp, correlation } => {
                let result = match self.partitions.get(&tp) {
                    _ if self.log_dir_offline => Err(ErrorCode::KafkaStorageError),
                    Some(partition) if partition.is_leader() => Ok(list_offset(partition, timestamp)),
                    _ => Err(ErrorCode::NotLeaderOrFollower),
                };
                out.push((from, Message::ListOffsetsResponse { tp, correlation, result }));
            }
            Message::DeleteRecords { tp, offset, correlation } => {
                let result = match self.partitions.get_mut(&tp) {
                    _ if self.log_dir_offline => Err(ErrorCode::KafkaStorageError),
                    Some(partition) if partition.is_leader() => partition.delete_records(offset),
                    _ => Err(ErrorCode::NotLeaderOrFollower),
                };
                out.push((from, Message::DeleteRecordsResponse { tp, correlation, result }));
            }
            // Only the controllers and clients receive these.
            Message::BrokerHeartbeat { .. }
            | Message::MetadataFetch { .. }
            | Message::Quorum(_)
            | Message::AlterPartition { .. }
            | Message::ProduceResponse { .. }
            | Message::Metadata { .. }
            | Message::MetadataResponse { .. }
            | Message::GroupResponse { .. }
            | Message::ListOffsetsResponse { .. }
            | Message::DeleteRecordsResponse { .. } => {}
        }
    }

    /// A follower's fetch answered: append, or truncate where the histories diverge, then fetch
    /// again at once if there is more.
    fn follow(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        correlation: u64,
        result: Result<FetchData, ErrorCode>,
        out: &mut Outbox,
        trace: &mut Trace,
    ) {
        let Some(partition) = self.partitions.get_mut(tp) else { return };
        // Only a follower's own outstanding fetch counts (a replica that became leader since
        // must not act on its old leader's answer).
        if partition.is_leader() || partition.fetch_in_flight.map(|(c, _)| c) != Some(correlation) {
            return;
        }
        partition.fetch_in_flight = None;
        if let Ok(data) = &result
            && self.throttled.get(&tp.topic).is_some_and(|(_, f)| f.contains(tp.partition, self.id))
        {
            self.follower_quota.record(now_ms, data.records.len());
        }
        let Some(partition) = self.partitions.get_mut(tp) else { return };
        let recovery_point = partition.log.recovery_point();
        let more = result.is_ok_and(|data| partition.follower_response(now_ms, data, trace));
        // A truncation lowered the recovery point: the checkpoint on disk must not go on
        // claiming the cut offsets were flushed, or a write torn by a crash before the next
        // periodic checkpoint would read, at the next open, as flushed data gone bad.
        if partition.log.recovery_point() < recovery_point && self.write_checkpoints().is_err() {
            self.log_dir_offline = true;
        }
        self.offline_if_failed(now_ms, tp, trace);
        if more && !self.log_dir_offline {
            // More to fetch, or a truncation to follow up: fetch again at once.
            self.send_fetch(now_ms, tp, out);
        }
    }

    /// A Fetch at this broker: a consumer's up to `MAX_FETCH_BYTES`, a follower's up to
    /// `replica.fetch.max.bytes`, or nothing while the leader's quota holds that follower back;
    /// the bytes sent for a leader-throttled replica count against the quota.
    fn answer_fetch(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        mut request: FetchRequest,
        out: &mut Outbox,
        trace: &mut Trace,
    ) -> Result<FetchData, ErrorCode> {
        let replica = request.replica;
        request.max_bytes = match replica {
            Some(follower) if self.leader_holds_back(now_ms, tp, follower) => 0,
            // Kafka's `replica.fetch.max.bytes` is not an absolute maximum: a first batch comes
            // whole even when it is larger (or the config is 0), or a follower could never
            // catch up; only the quota returns nothing.
            Some(_) => self.config.replica_fetch_max_bytes.max(1),
            None => MAX_FETCH_BYTES,
        };
        let Some(partition) = self.partitions.get_mut(tp) else { return Err(ErrorCode::NotLeaderOrFollower) };
        let result = partition.fetch(now_ms, request, out, trace);
        if let Ok(data) = &result
            && replica.is_some()
            && self.is_throttled(tp, true)
        {
            self.leader_quota.record(now_ms, data.records.len());
        }
        result
    }

    /// A follower of `tp` with no fetch outstanding fetches now (what Kafka's long-polling replica
    /// fetcher does as soon as its leader has new records).
    pub fn fetch_now(&mut self, now_ms: i64, tp: &TopicPartition, out: &mut Outbox) {
        let idle = self.partitions.get(tp).is_some_and(|p| !p.is_leader() && p.fetch_in_flight.is_none());
        if idle && !self.log_dir_offline {
            self.send_fetch(now_ms, tp, out);
        }
    }

    fn send_fetch(&mut self, now_ms: i64, tp: &TopicPartition, out: &mut Outbox) {
        if self.follower_holds_back(now_ms, tp) {
            // The next tick asks again; by then the quota may allow it.
            return;
        }
        let correlation = self.correlation();
        let id = self.id;
        let Some(partition) = self.partitions.get_mut(tp) else { return };
        let Some(state) = &partition.state else { return };
        let Some(leader) = state.leader.filter(|&leader| leader != id) else { return };
        partition.fetch_in_flight = Some((correlation, now_ms));
        out.push((
            NodeId::Broker(leader),
            Message::Fetch {
                tp: tp.clone(),
                replica: Some(id),
                fetch_offset: partition.log.log_end_offset(),
                last_fetched_epoch: partition.log.leader_epochs().latest_epoch(),
                leader_epoch: state.leader_epoch,
                correlation,
            },
        ));
    }

    /// The coordinator takes over an offsets partition this broker now leads (rebuilding its
    /// groups from the log) and lets go of one it no longer leads.
    fn coordinator_follows_leadership(
        &mut self,
        now_ms: i64,
        partition: i32,
        leads: bool,
        groups: &mut CoordinatorOutput,
        trace: &mut Trace,
    ) {
        let loaded = self.coordinator.loaded_partitions().contains(&partition);
        if leads && !loaded && !self.log_dir_offline {
            let tp = TopicPartition { topic: OFFSETS_TOPIC.into(), partition };
            let records = self.partitions.get(&tp).map(|p| records_in(&p.log).0).unwrap_or_default();
            self.coordinator.load(now_ms, partition, records, trace);
        } else if !leads && loaded {
            self.coordinator.unload(now_ms, partition, groups, trace);
        }
    }

    /// Sends the coordinator's replies and appends its writes to `__consumer_offsets` (as leader,
    /// acks=all); answers to those appends come back addressed to this broker and complete the
    /// writes, which may produce more replies — until nothing is left.
    fn settle_coordinator(
        &mut self,
        now_ms: i64,
        out: &mut Outbox,
        mut groups: CoordinatorOutput,
        trace: &mut Trace,
    ) {
        loop {
            for reply in groups.replies.drain(..) {
                out.push((
                    reply.to,
                    Message::GroupResponse { correlation: reply.correlation, response: reply.response },
                ));
            }
            for write in std::mem::take(&mut groups.writes) {
                let tp = TopicPartition { topic: OFFSETS_TOPIC.into(), partition: write.partition };
                let batch = encode_batch(now_ms, write.records);
                let leader = self.partitions.get(&tp).filter(|p| p.is_leader());
                match (batch, leader) {
                    (Err(_), _) => self.coordinator.write_completed(
                        now_ms,
                        write.id,
                        Err(ErrorCode::InvalidRecord),
                        &mut groups,
                        trace,
                    ),
                    (Ok(_), None) => self.coordinator.write_completed(
                        now_ms,
                        write.id,
                        Err(ErrorCode::NotLeaderOrFollower),
                        &mut groups,
                        trace,
                    ),
                    (Ok(_), Some(_)) if self.disk_full || self.log_dir_offline => {
                        self.log_dir_offline = true;
                        self.coordinator.write_completed(
                            now_ms,
                            write.id,
                            Err(ErrorCode::KafkaStorageError),
                            &mut groups,
                            trace,
                        )
                    }
                    (Ok(batch), Some(_)) => {
                        let me = NodeId::Broker(self.id);
                        let request = ProduceRequest {
                            client: me,
                            correlation: write.id | COORDINATOR_WRITE_BIT,
                            batch: &batch,
                            acks: Acks::All,
                        };
                        if let Some(partition) = self.partitions.get_mut(&tp) {
                            partition.produce(now_ms, request, out, trace);
                        }
                    }
                }
            }
            // Answers to the coordinator's appends, wherever they were produced.
            let me = NodeId::Broker(self.id);
            let mut completed = Vec::new();
            out.retain(|(to, message)| match message {
                Message::ProduceResponse { correlation, result, .. }
                    if *to == me && correlation & COORDINATOR_WRITE_BIT != 0 =>
                {
                    completed.push((correlation & !COORDINATOR_WRITE_BIT, result.map(|_| ())));
                    false
                }
                _ => true,
            });
            for (id, result) in completed {
                self.coordinator.write_completed(now_ms, id, result, &mut groups, trace);
            }
            if groups.replies.is_empty() && groups.writes.is_empty() {
                return;
            }
        }
    }

    /// Periodic work: heartbeat, leaders' ISR and timeout upkeep, followers' fetches, the
    /// coordinator's timers.
    pub fn tick(&mut self, now_ms: i64, out: &mut Outbox, trace: &mut Trace) {
        let mut groups = CoordinatorOutput::default();
        self.coordinator.tick(now_ms, &mut groups, trace);
        self.settle_coordinator(now_ms, out, groups, trace);
        // A client's read (answered by the cluster's front) may have found a log corrupt.
        let found = match self.log_dir_offline {
            true => None,
            false => {
                self.partitions.iter().find(|(_, p)| p.log.poisoned().is_some()).map(|(tp, _)| tp.clone())
            }
        };
        if let Some(tp) = found {
            self.offline_if_failed(now_ms, &tp, trace);
        }
        self.tick_replicas(now_ms, out);
        // Leaders' timeouts may have failed the coordinator's appends.
        self.settle_coordinator(now_ms, out, CoordinatorOutput::default(), trace);
    }

    fn tick_replicas(&mut self, now_ms: i64, out: &mut Outbox) {
        if self.store.is_some()
            && self.last_checkpoint_ms.is_none_or(|last| now_ms - last >= CHECKPOINT_INTERVAL_MS)
        {
            self.last_checkpoint_ms = Some(now_ms);
            // A checkpoint that cannot be written only means a longer recovery after a crash.
            let _ = self.write_checkpoints();
        }
        if self.last_heartbeat_ms.is_none_or(|last| now_ms - last >= self.config.heartbeat_interval_ms) {
            self.last_heartbeat_ms = Some(now_ms);
            let heartbeat = Message::BrokerHeartbeat {
                broker: self.id,
                incarnation: self.incarnation,
                unclean_restart: self.unclean_restart,
                log_dir_offline: self.log_dir_offline,
                rack: self.rack.clone(),
            };
            out.push((NodeId::Controller, heartbeat));
        }
        self.metadata.poll(now_ms, out);
        if self.log_dir_offline {
            return;
        }
        let lag = self.config.replica_lag_time_max_ms;
        let mut to_fetch = Vec::new();
        for (tp, partition) in &mut self.partitions {
            partition.leader_tick(now_ms, lag, out);
            let following = partition.state.as_ref().is_some_and(|s| s.leader.is_some_and(|l| l != self.id));
            let idle = partition.fetch_in_flight.is_none_or(|(_, sent)| now_ms - sent >= FETCH_RETRY_MS);
            if following && idle {
                to_fetch.push(tp.clone());
            }
        }
        for tp in to_fetch {
            self.send_fetch(now_ms, &tp, out);
        }
    }

    /// How trace events and errors name the broker: `broker-N (incarnation M)`.
    pub fn describe(&self) -> String {
        format!("broker-{} (incarnation {})", self.id, self.incarnation)
    }
}

/// ListOffsets at a leader: earliest, latest (the high watermark: what consumers can read), or
/// the first committed offset at or after a time (the high watermark when there is none, so a
/// seek by time past the last record waits at the end).
fn list_offset(partition: &Partition, timestamp: i64) -> i64 {
    use crate::group::consumer::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
    match timestamp {
        EARLIEST_TIMESTAMP => partition.log.log_start_offset(),
        LATEST_TIMESTAMP => partition.high_watermark,
        time => partition
            .log
            .find_offset_by_timestamp(time)
            .ok()
            .flatten()
            .filter(|&offset| offset < partition.high_watermark)
            .unwrap_or(partition.high_watermark),
    }
}

/// Records a fault in the trace.
pub fn fault(trace: &mut Trace, now_ms: i64, description: String) {
    trace.push(now_ms, Event::Fault { description });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::protocol::MetadataRecord;
    use crate::replication::quorum::{Entry, FetchResult};

    fn state(replicas: &[BrokerId], epochs: (i32, i32)) -> MetadataRecord {
        MetadataRecord::Partition(PartitionState {
            tp: TopicPartition { topic: "t".into(), partition: 0 },
            topic_id: crate::ids::TopicId::ZERO,
            replicas: replicas.to_vec(),
            leader: replicas.first().copied(),
            leader_epoch: epochs.0,
            isr: replicas.to_vec(),
            elr: Vec::new(),
            partition_epoch: epochs.1,
            min_insync_replicas: 1,
            adding: Vec::new(),
            removing: Vec::new(),
        })
    }

    /// The broker learns its partitions from the metadata log it fetches: nothing before its own
    /// registration, then each state in order — moved away deletes the replica, added again
    /// creates it — and, while a host paces creations, new replicas wait for their turn.
    #[test]
    fn replicas_follow_the_metadata_log_the_broker_fetches() {
        let mut broker = Broker::new(0, 1, BrokerConfig::default());
        let (mut out, mut trace) = (Outbox::new(), Trace::default());
        let tp = TopicPartition { topic: "t".into(), partition: 0 };
        let mut offset = 0;
        let mut deliver = |broker: &mut Broker, records: Vec<MetadataRecord>| {
            let entries: Vec<_> = records.into_iter().map(|r| Entry::single(1, Some(r))).collect();
            let from = offset;
            offset += entries.len() as i64;
            let result = FetchResult::Entries { from, entries };
            let answer = Message::MetadataFetchResponse { high_watermark: offset, result };
            broker.handle(0, NodeId::Controller, answer, &mut out, &mut trace);
        };
        deliver(&mut broker, vec![state(&[0, 1], (0, 0))]);
        assert!(broker.partitions.is_empty(), "not registered yet");
        deliver(&mut broker, vec![MetadataRecord::RegisterBroker { broker: 0, incarnation: 1, rack: None }]);
        assert!(broker.partitions.contains_key(&tp), "registered: its partitions as they are");
        deliver(&mut broker, vec![state(&[1, 2], (1, 2))]);
        assert!(!broker.partitions.contains_key(&tp), "moved away: deleted");
        broker.creation_budget = Some(0);
        deliver(&mut broker, vec![state(&[1, 2, 0], (1, 3))]);
        assert!(!broker.partitions.contains_key(&tp) && broker.is_pending_creation(&tp), "waits its turn");
        broker.creation_budget = None;
        let mut budget = 1;
        broker.create_pending(0, &mut budget, &mut out, &mut trace);
        assert_eq!(
            broker.partitions.get(&tp).and_then(|p| p.state.as_ref()).map(|s| s.partition_epoch),
            Some(3)
        );
        assert!(!broker.has_pending_creations() && budget == 0);
    }
}
