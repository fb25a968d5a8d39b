//! The messages brokers, the controller and clients exchange, in Kafka's terms: broker
//! heartbeats and partition metadata (the KRaft metadata a broker replays, pushed here), the
//! leader's AlterPartition requests, replica and consumer Fetch, Produce, Metadata.

use crate::config::Acks;
use crate::error::ErrorCode;
use crate::group::coordinator::{GroupRequest, GroupResponse};

pub use crate::ids::{BrokerId, NodeId, TopicPartition};

/// A partition as the controller's metadata records it (Kafka's PartitionRecord /
/// PartitionChangeRecord folded together).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionState {
    pub tp: TopicPartition,
    /// The assignment; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// `None`: offline, no eligible leader.
    pub leader: Option<BrokerId>,
    pub leader_epoch: i32,
    pub isr: Vec<BrokerId>,
    /// KIP-966's eligible leader replicas: members that left the ISR while it was below
    /// `min.insync.replicas` (so the high watermark could not move past what they hold). They
    /// may lead cleanly when no ISR member can.
    pub elr: Vec<BrokerId>,
    /// Bumped on every change (Kafka's partition epoch), so a stale AlterPartition is refused.
    pub partition_epoch: i32,
    pub min_insync_replicas: usize,
}

/// What a replica fetch returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchData {
    pub high_watermark: i64,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// Whole batches from the fetch offset (for a consumer: only below the high watermark).
    pub records: Vec<u8>,
    /// KIP-320 / KIP-595: the follower's last fetched epoch ends at this (epoch, offset) in the
    /// leader's log; the follower truncates there before fetching again.
    pub diverging: Option<(i32, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Broker → controller, every `BROKER_HEARTBEAT_INTERVAL_MS`. A new `incarnation` is a
    /// restarted broker; `unclean_restart` says it came back from a crash that may have lost
    /// unflushed records (KIP-966: such a broker is no longer an eligible leader);
    /// `log_dir_offline` that a write failed (disk full) and its replicas are gone until restart.
    BrokerHeartbeat {
        broker: BrokerId,
        incarnation: u64,
        unclean_restart: bool,
        log_dir_offline: bool,
    },
    /// Controller → broker: a partition's current state (the metadata the broker replays),
    /// addressed to the broker's registered `incarnation` (KRaft's broker epoch): a restarted
    /// broker ignores state meant for its previous life until it has registered again.
    PartitionUpdate {
        state: PartitionState,
        incarnation: u64,
    },
    /// Leader → controller: change the ISR, if `leader_epoch` and `partition_epoch` are current.
    AlterPartition {
        tp: TopicPartition,
        leader: BrokerId,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
    },
    /// A follower (`replica: Some`) or a consumer (`None`) fetching from the leader.
    Fetch {
        tp: TopicPartition,
        replica: Option<BrokerId>,
        fetch_offset: i64,
        last_fetched_epoch: Option<i32>,
        leader_epoch: i32,
        correlation: u64,
    },
    FetchResponse {
        tp: TopicPartition,
        correlation: u64,
        result: Result<FetchData, ErrorCode>,
    },
    Produce {
        tp: TopicPartition,
        batch: Vec<u8>,
        acks: Acks,
        correlation: u64,
    },
    /// The first offset of the appended batch, or why not.
    ProduceResponse {
        tp: TopicPartition,
        correlation: u64,
        result: Result<i64, ErrorCode>,
    },
    /// A consumer-group request, to the broker whose coordinator owns the group.
    Group {
        correlation: u64,
        request: GroupRequest,
    },
    GroupResponse {
        correlation: u64,
        response: GroupResponse,
    },
    /// Kafka's ListOffsets for one partition: `timestamp` -2 is the earliest offset, -1 the
    /// latest (the high watermark), otherwise the first offset with a timestamp at or after it.
    ListOffsets {
        tp: TopicPartition,
        timestamp: i64,
        correlation: u64,
    },
    ListOffsetsResponse {
        tp: TopicPartition,
        correlation: u64,
        result: Result<i64, ErrorCode>,
    },
    Metadata {
        correlation: u64,
    },
    MetadataResponse {
        correlation: u64,
        partitions: Vec<PartitionState>,
    },
}

/// One record of the controller's metadata log (KRaft's `__cluster_metadata`), in order. A host
/// keeps it (JSON, one record per line) so a restarted controller can replay it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum MetadataRecord {
    RegisterBroker {
        broker: BrokerId,
        incarnation: u64,
    },
    FenceBroker {
        broker: BrokerId,
    },
    Topic {
        name: String,
        partitions: i32,
    },
    /// A partition's state after a change (PartitionRecord / PartitionChangeRecord).
    Partition(PartitionState),
    /// A deleted topic (RemoveTopicRecord): its partitions are gone.
    RemoveTopic {
        name: String,
    },
}
crate::tag_first!(MetadataRecord, "type");
