//! The messages brokers, the controller and clients exchange, in Kafka's terms: broker
//! heartbeats, the brokers' fetch of the metadata log they replay, the leader's AlterPartition
//! requests, replica and consumer Fetch, Produce, Metadata.

use crate::config::Acks;
use crate::error::ErrorCode;
use crate::group::coordinator::{GroupRequest, GroupResponse};

pub use crate::ids::{BrokerId, NodeId, TopicId, TopicPartition};

/// A partition as the controller's metadata records it (Kafka's PartitionRecord /
/// PartitionChangeRecord folded together).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionState {
    /// The partition this state is for.
    pub tp: TopicPartition,
    /// Its topic's id: a replica's directory holding another id is a deleted topic's
    /// (`partition.metadata`). Zero in metadata written before topic ids.
    #[serde(default)]
    pub topic_id: TopicId,
    /// The assignment; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// `None`: offline, no eligible leader.
    pub leader: Option<BrokerId>,
    /// Bumped at every leader election. The leader stamps it on each batch it appends and
    /// refuses fetches that name an older one (FENCED_LEADER_EPOCH).
    pub leader_epoch: i32,
    /// The in-sync replicas: the leader and the followers that caught up within
    /// `replica.lag.time.max.ms`. The high watermark waits for all of them; a clean election
    /// picks from them.
    pub isr: Vec<BrokerId>,
    /// KIP-966's eligible leader replicas: members that left the ISR while it was below
    /// `min.insync.replicas` (so the high watermark could not move past what they hold). They
    /// may lead cleanly when no ISR member can.
    pub elr: Vec<BrokerId>,
    /// Bumped on every change (Kafka's partition epoch), so a stale AlterPartition is refused.
    pub partition_epoch: i32,
    /// The topic's `min.insync.replicas`: while the ISR is smaller, acks=all produces are
    /// refused (NOT_ENOUGH_REPLICAS) and the high watermark does not advance.
    pub min_insync_replicas: usize,
    /// A reassignment in progress (KIP-455): the replicas being added. They are in `replicas`
    /// already, fetch from the leader, and the reassignment completes once all are in the ISR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adding: Vec<BrokerId>,
    /// A reassignment in progress: the replicas that leave `replicas` once it completes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing: Vec<BrokerId>,
}

/// What a Fetch returns, to a follower or a consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchData {
    /// The leader's high watermark after this fetch: a follower takes it (capped at its own log
    /// end offset); consumers read only below it.
    pub high_watermark: i64,
    /// The leader's log start offset: the first offset it still holds.
    pub log_start_offset: i64,
    /// The leader's log end offset: the offset its next append gets.
    pub log_end_offset: i64,
    /// Whole batches from the fetch offset (for a consumer: only below the high watermark).
    pub records: Vec<u8>,
    /// KIP-320 / KIP-595: the follower's last fetched epoch ends at this (epoch, offset) in the
    /// leader's log; the follower truncates there before fetching again.
    pub diverging: Option<(i32, i64)>,
    /// For a read_committed consumer: the aborted transactions among the batches, whose records
    /// it skips.
    pub aborted: Vec<crate::log::producer_state::AbortedTxn>,
}

/// A message between the nodes of a replicated cluster: brokers, the controller and clients
/// (producers, consumers, admins). A request carries a `correlation` that its answer echoes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Broker → controller, every `BROKER_HEARTBEAT_INTERVAL_MS`. A new `incarnation` is a
    /// restarted broker; `unclean_restart` says it came back from a crash that may have lost
    /// unflushed records (KIP-966: such a broker is no longer an eligible leader);
    /// `log_dir_offline` that a write failed (disk full) and its replicas are gone until restart.
    BrokerHeartbeat {
        /// The sending broker.
        broker: BrokerId,
        /// The broker's current life: it changes at every restart (KRaft's broker epoch).
        incarnation: u64,
        /// It restarted after a crash that may have lost unflushed records.
        unclean_restart: bool,
        /// A write failed and its log directory is offline: the controller fences it.
        log_dir_offline: bool,
        /// Its `broker.rack`, if it has one (placement spreads a partition's replicas over racks).
        rack: Option<String>,
    },
    /// Broker → controller: KRaft's Fetch of `__cluster_metadata` by an observer (a broker is
    /// no voter): the committed records from `fetch_offset` on. The active controller holds the
    /// request while the broker is caught up and answers once the high watermark moves (or
    /// empty after `QUORUM_FETCH_MAX_WAIT_MS`), so a committed change reaches every broker in
    /// one round trip.
    MetadataFetch {
        /// The fetching broker.
        broker: BrokerId,
        /// The offset of the next record it wants: it has replayed everything below.
        fetch_offset: i64,
    },
    /// Controller → broker: committed metadata records from the fetch offset on, or the
    /// snapshot that replaced them (KIP-630's FetchSnapshot, in one answer here).
    MetadataFetchResponse {
        /// The controller's high watermark: everything below it is committed.
        high_watermark: i64,
        /// The records (`Entries`, `from` the fetch offset) or a snapshot.
        result: super::quorum::FetchResult<MetadataRecord>,
    },
    /// Leader → controller: change the ISR, if `leader_epoch` and `partition_epoch` are current.
    /// The leader learns the result from the metadata log it fetches.
    AlterPartition {
        /// The partition whose ISR changes.
        tp: TopicPartition,
        /// The broker asking; it must be the partition's current leader.
        leader: BrokerId,
        /// The leader epoch the leader holds.
        leader_epoch: i32,
        /// The partition epoch of the state the proposal starts from; a stale one is refused.
        partition_epoch: i32,
        /// The proposed ISR: it holds the leader, and a new member must be a live replica.
        isr: Vec<BrokerId>,
    },
    /// A follower (`replica: Some`) or a consumer (`None`) fetching from the leader, which
    /// answers with a FetchResponse.
    Fetch {
        /// The partition to read.
        tp: TopicPartition,
        /// The fetching follower; `None` for a consumer.
        replica: Option<BrokerId>,
        /// The first offset wanted (a follower's log end offset); the answer starts with the
        /// batch that holds it.
        fetch_offset: i64,
        /// The leader epoch of the follower's last record, for the leader's divergence check
        /// (KIP-320); `None` for a consumer.
        last_fetched_epoch: Option<i32>,
        /// The leader epoch the fetcher believes current, -1 for none: an older one gets
        /// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH.
        leader_epoch: i32,
        /// Echoed in the FetchResponse.
        correlation: u64,
    },
    /// Leader → fetcher: the answer to a Fetch. A follower appends the records, or first
    /// truncates where `diverging` says; a consumer hands them out.
    FetchResponse {
        /// The partition fetched.
        tp: TopicPartition,
        /// The Fetch's correlation.
        correlation: u64,
        /// The data, or why not (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH,
        /// OFFSET_OUT_OF_RANGE, KAFKA_STORAGE_ERROR, …).
        result: Result<FetchData, ErrorCode>,
    },
    /// Producer → partition leader: append a batch. The leader assigns its offsets and answers
    /// with a ProduceResponse when `acks` says (never for acks=0).
    Produce {
        /// The partition to append to.
        tp: TopicPartition,
        /// One encoded record batch (v2); the leader sets its base offset and leader epoch.
        batch: Vec<u8>,
        /// When the leader answers: after its own append (1), once the high watermark passes
        /// the batch (all), or never (0).
        acks: Acks,
        /// Echoed in the ProduceResponse.
        correlation: u64,
    },
    /// Leader → producer: the first offset of the appended batch, or why not.
    ProduceResponse {
        /// The partition produced to.
        tp: TopicPartition,
        /// The Produce's correlation.
        correlation: u64,
        /// The batch's first offset, or the error (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS,
        /// NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT, …).
        result: Result<i64, ErrorCode>,
    },
    /// A consumer-group request, to the broker whose coordinator owns the group. It answers
    /// with a GroupResponse.
    Group {
        /// Echoed in the GroupResponse.
        correlation: u64,
        /// What the client asks of the group coordinator.
        request: GroupRequest,
    },
    /// The coordinator's broker → client: the answer to a Group request.
    GroupResponse {
        /// The Group request's correlation.
        correlation: u64,
        /// The coordinator's answer.
        response: GroupResponse,
    },
    /// Kafka's ListOffsets for one partition: `timestamp` -2 is the earliest offset, -1 the
    /// latest (the high watermark), otherwise the first offset with a timestamp at or after it.
    /// A consumer sends it to the partition's leader, which answers with a ListOffsetsResponse.
    ListOffsets {
        /// The partition to look in.
        tp: TopicPartition,
        /// -2 (earliest), -1 (latest) or a time in ms since the epoch.
        timestamp: i64,
        /// Echoed in the ListOffsetsResponse.
        correlation: u64,
    },
    /// Leader → consumer: the offset a ListOffsets asked for.
    ListOffsetsResponse {
        /// The partition looked in.
        tp: TopicPartition,
        /// The ListOffsets' correlation.
        correlation: u64,
        /// The offset (the high watermark when no committed record is that recent), or
        /// NOT_LEADER_OR_FOLLOWER or KAFKA_STORAGE_ERROR.
        result: Result<i64, ErrorCode>,
    },
    /// Admin client → leader: Kafka's DeleteRecords for one partition: the log starts at
    /// `offset` from now on (-1: at the high watermark). The followers take the new log start
    /// from the leader's fetch answers.
    DeleteRecords {
        /// The partition whose records before `offset` go.
        tp: TopicPartition,
        /// The new log start offset; -1 for the high watermark.
        offset: i64,
        /// Echoed in the DeleteRecordsResponse.
        correlation: u64,
    },
    /// Leader → admin client: the leader's log start offset after a DeleteRecords.
    DeleteRecordsResponse {
        /// The partition.
        tp: TopicPartition,
        /// The DeleteRecords' correlation.
        correlation: u64,
        /// The leader's new log start offset, or OFFSET_OUT_OF_RANGE (past the high watermark),
        /// POLICY_VIOLATION (a compacted topic), NOT_LEADER_OR_FOLLOWER or KAFKA_STORAGE_ERROR.
        result: Result<i64, ErrorCode>,
    },
    /// Client → controller: Kafka's Metadata request, for every partition's state (above all
    /// its leader). The controller answers with a MetadataResponse.
    Metadata {
        /// Echoed in the MetadataResponse.
        correlation: u64,
    },
    /// Controller → client: every partition's state. Clients send produce, fetch and
    /// ListOffsets to the leaders it names, and find a group's coordinator from it.
    MetadataResponse {
        /// The Metadata request's correlation.
        correlation: u64,
        /// Every partition of every topic, as the controller records it now.
        partitions: Vec<PartitionState>,
    },
    /// Between the controllers: the KRaft quorum's own RPCs (Vote, BeginQuorumEpoch,
    /// EndQuorumEpoch, Fetch of the metadata log).
    Quorum(super::quorum::QuorumMessage<MetadataRecord>),
}

/// One record of the controller's metadata log (KRaft's `__cluster_metadata`), in order. A host
/// keeps it (JSON, one record per line) so a restarted controller can replay it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum MetadataRecord {
    /// A broker registered in this incarnation: its first heartbeat, its first after a
    /// restart, or its return after being fenced (RegisterBrokerRecord / UnfenceBrokerRecord).
    RegisterBroker {
        /// The broker.
        broker: BrokerId,
        /// Its incarnation (KRaft's broker epoch): a broker acts on partition states only once it
        /// has replayed its own registration.
        incarnation: u64,
        /// Its `broker.rack` (RegisterBrokerRecord's `rack`), if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rack: Option<String>,
    },
    /// A broker was fenced (FenceBrokerRecord): its session expired, its log directory went
    /// offline, it shut down, or it restarted. It leaves every ISR and leads nothing.
    FenceBroker {
        /// The fenced broker.
        broker: BrokerId,
    },
    /// A broker is being decommissioned: its replicas move to the other brokers, and it gets no
    /// new ones (Kite's own record; Kafka's operator does this by hand with
    /// kafka-reassign-partitions before `kafka-cluster unregister`).
    BrokerLeaving {
        /// The broker.
        broker: BrokerId,
    },
    /// A broker left the cluster (UnregisterBrokerRecord): it holds no replicas and its id is
    /// not registered any more.
    UnregisterBroker {
        /// The broker.
        broker: BrokerId,
    },
    /// A topic was created (TopicRecord); its partitions follow as `Partition` records.
    Topic {
        /// The topic's name.
        name: String,
        /// How many partitions it has.
        partitions: i32,
        /// Its id; zero in metadata written before topic ids.
        #[serde(default)]
        topic_id: TopicId,
    },
    /// A partition's state after a change (PartitionRecord / PartitionChangeRecord).
    Partition(PartitionState),
    /// A deleted topic (RemoveTopicRecord): its partitions are gone.
    RemoveTopic {
        /// The deleted topic's name.
        name: String,
    },
    /// A dynamic broker config set or deleted (ConfigRecord of a BROKER resource), for one
    /// broker or (`broker: None`, Kafka's empty resource name) as every broker's default.
    BrokerConfig {
        /// The broker, or `None` for the cluster-wide default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        broker: Option<BrokerId>,
        /// The config's name.
        name: String,
        /// Its value; `None` deletes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
}
crate::tag_first!(MetadataRecord, "type");

impl MetadataRecord {
    /// Kafka's name for the record (`org.apache.kafka.common.metadata`); a partition's first
    /// state is its PartitionRecord, every later one a PartitionChangeRecord.
    pub fn kafka_name(&self) -> &'static str {
        match self {
            MetadataRecord::RegisterBroker { .. } => "RegisterBrokerRecord",
            MetadataRecord::FenceBroker { .. } => "FenceBrokerRecord",
            // Kite's own: Kafka's operator moves the replicas by hand before unregistering.
            MetadataRecord::BrokerLeaving { .. } => "BrokerLeaving",
            MetadataRecord::UnregisterBroker { .. } => "UnregisterBrokerRecord",
            MetadataRecord::Topic { .. } => "TopicRecord",
            MetadataRecord::Partition(state) if state.partition_epoch == 0 => "PartitionRecord",
            MetadataRecord::Partition(_) => "PartitionChangeRecord",
            MetadataRecord::RemoveTopic { .. } => "RemoveTopicRecord",
            MetadataRecord::BrokerConfig { .. } => "ConfigRecord",
        }
    }
}
