//! The typed messages between a UI (or CLI, or test) and an engine, and their JSON text encoding.
//!
//! The same messages travel over a Web Worker's `postMessage` in the tab and over the websocket to
//! `kite serve`, so the UI cannot tell — and need not care — which engine answers. The wire form is
//! documented in docs/websocket-api.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Acks, ElectionType};
use crate::error::KafkaError;
use crate::limits::{MAX_API_MESSAGE_BYTES, MAX_PRODUCE_BATCH_RECORDS};
use crate::partitioner::{PartitionerKind, Placement};
use crate::serializer::SerializerKind;

/// Bumped when a message changes shape incompatibly. Sent in `ServerMessage::Welcome`.
pub const PROTOCOL_VERSION: u32 = 1;

/// A request: the client's correlation id and what it asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMessage {
    /// The client's correlation id: the reply, and a subscription's pushes, carry it back.
    pub id: u64,
    /// What the client asks for.
    pub command: Request,
}

/// A request the engine answers: Kafka's admin, producer and consumer operations, and fault
/// injection. On the wire, `type` names it (`{"type": "create_topic", ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum Command {
    /// Like `kafka-topics --create --topic NAME --partitions N [--config k=v]...`.
    CreateTopic {
        /// The topic's name: 1 to 249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
        name: String,
        /// How many partitions it has: 1 to `MAX_PARTITIONS_PER_TOPIC`.
        partitions: i32,
        /// Topic config overrides by Kafka's names (`retention.ms`, `cleanup.policy`, …).
        #[serde(default)]
        configs: BTreeMap<String, String>,
        /// Checked against the brokers there are (Kafka's INVALID_REPLICATION_FACTOR); the
        /// broker's default (1) when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replication_factor: Option<i16>,
    },
    /// Every topic with its partitions' offsets.
    ListTopics,
    /// One record. Key and value are text turned into bytes by the named serializers (Kafka's
    /// class names; `StringSerializer` by default); `None` is null. With no `partition`, the named
    /// partitioner (the Java producer's built-in one by default) places the record.
    Produce {
        /// The topic to produce to.
        topic: String,
        /// The partition to write to; when absent, `partitioner` chooses one.
        #[serde(default)]
        partition: Option<i32>,
        /// The record's key as text; `None` is a null key.
        #[serde(default)]
        key: Option<String>,
        /// The record's value as text; `None` is a null value (a tombstone).
        #[serde(default)]
        value: Option<String>,
        /// CreateTime; the host's current time when absent, as a producer stamps it.
        #[serde(default)]
        timestamp_ms: Option<i64>,
        /// The partitioner that places the record when no `partition` is given.
        #[serde(default)]
        partitioner: PartitionerKind,
        /// The serializer that turns `key` into bytes.
        #[serde(default)]
        key_serializer: SerializerKind,
        /// The serializer that turns `value` into bytes.
        #[serde(default)]
        value_serializer: SerializerKind,
        /// Record headers, (key, value) in order; values are sent as UTF-8.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<(String, String)>,
        /// The producer's `acks`: `"all"` (default), `"1"` or `"0"` (no offset comes back).
        #[serde(default)]
        acks: Acks,
        /// With `enable.idempotence`: the producer's id and epoch (from `init_producer_id`) and
        /// its next sequence per partition. The record carries the sequence of the partition it
        /// lands in; the same record sent again with the same sequence is not written twice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        producer: Option<IdempotentProducer>,
    },
    /// Kafka's InitProducerId for an idempotent producer: a new producer id at epoch 0. Answered
    /// with `producer_id_initialized`.
    InitProducerId,
    /// The transactional producer's `initTransactions`: InitProducerId with a `transactional.id`,
    /// at its coordinator. The id's producer id and its epoch bumped, which fences every older
    /// instance (a transaction one left open is aborted first). Answered with
    /// `producer_id_initialized`; `produce` with `producer.transactional_id` then writes in a
    /// transaction, which `end_transaction` commits or aborts.
    InitTransactions {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// `transaction.timeout.ms`: an open transaction older than this is aborted by the
        /// coordinator; Kafka's default (60,000) when absent.
        #[serde(default)]
        transaction_timeout_ms: Option<i32>,
    },
    /// `commitTransaction` / `abortTransaction`: the coordinator writes its decision, then a
    /// COMMIT or ABORT marker to every partition the transaction wrote to. Answered with
    /// `transaction_ended`.
    EndTransaction {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// Its producer id, from `init_transactions`.
        producer_id: i64,
        /// Its epoch, from `init_transactions`: an older one is fenced (PRODUCER_FENCED).
        producer_epoch: i16,
        /// Commit (true) or abort.
        commit: bool,
    },
    /// `sendOffsetsToTransaction`: a consumer group's offsets committed with the transaction, or
    /// not at all (AddOffsetsToTxn, then TxnOffsetCommit). Answered with `offsets_sent`.
    SendOffsetsToTransaction {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// Its producer id.
        producer_id: i64,
        /// Its epoch.
        producer_epoch: i16,
        /// The consumer group whose offsets these are.
        group: String,
        /// The offsets: for each partition, the next one the group will read.
        offsets: Vec<GroupOffset>,
    },
    /// Every transaction the coordinator holds, as `kafka-transactions.sh list` and `describe`
    /// show them. Answered with `transactions`.
    DescribeTransactions,
    /// Up to `max_records` records of one partition from `offset`, read with the named deserializers.
    Fetch {
        /// The topic to read.
        topic: String,
        /// The partition to read.
        partition: i32,
        /// The first offset to read: from the log start to the log end offset, both included.
        offset: i64,
        /// The most records to return (capped at `MAX_FETCH_RECORDS`).
        max_records: u32,
        /// The deserializer that reads each key into text.
        #[serde(default)]
        key_deserializer: SerializerKind,
        /// The deserializer that reads each value into text.
        #[serde(default)]
        value_deserializer: SerializerKind,
        /// `read_committed` reads only below the last stable offset and skips the records of
        /// aborted transactions; `read_uncommitted` (the default) reads everything below the
        /// high watermark.
        #[serde(default, skip_serializing_if = "IsolationLevel::is_uncommitted")]
        isolation_level: IsolationLevel,
    },
    /// Registers an Avro schema under a subject in the cluster's schema registry
    /// (`POST /subjects/{subject}/versions`); `TOPIC-key` and `TOPIC-value` are the subjects the
    /// Avro serializer uses.
    RegisterSchema {
        /// The subject to register under, e.g. `orders-value`.
        subject: String,
        /// The Avro schema, as JSON text.
        schema: String,
    },
    /// Many records in one request, as a producer's batches: each record is placed (or goes to
    /// `partition`), the records of each partition go in one RecordBatch, and every record's
    /// partition and offset come back in request order (`produced_batch`). Everything is
    /// checked (serializers, partitions, sizes) before anything is appended.
    ProduceBatch {
        /// The topic to produce to.
        topic: String,
        /// The partition every record goes to; when absent, `partitioner` places each record.
        #[serde(default)]
        partition: Option<i32>,
        /// The partitioner that places each record when no `partition` is given.
        #[serde(default)]
        partitioner: PartitionerKind,
        /// The serializer that turns every record's key into bytes.
        #[serde(default)]
        key_serializer: SerializerKind,
        /// The serializer that turns every record's value into bytes.
        #[serde(default)]
        value_serializer: SerializerKind,
        /// The records, in order: 1 to `MAX_PRODUCE_BATCH_RECORDS` of them.
        #[serde(deserialize_with = "records_up_to_one_past_the_limit")]
        records: Vec<BatchedRecord>,
        /// The producer's `acks`, as for `produce`.
        #[serde(default)]
        acks: Acks,
        /// Answer as Kafka's ProduceResponse does, with `produced_records`: each partition's base
        /// offset and each record's partition (~2 bytes a record) rather than every record's
        /// offset and timestamp (~60 bytes a record).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        answer_per_partition: bool,
    },
    /// Kafka's ListOffsets for one partition: `timestamp_ms` -2 is the earliest offset, -1 the
    /// latest (the high watermark: the log end as consumers see it), -3 the record with the
    /// largest timestamp, -4 the earliest kept locally (the log start), -5 the latest tiered
    /// (none: Kite tiers nothing), anything else the first offset whose timestamp is at or after
    /// it (`null` when there is none).
    ListOffsets {
        /// The partition's topic.
        topic: String,
        /// The partition asked about.
        partition: i32,
        /// -2 (earliest), -1 (latest), -3 (max timestamp), -4 (earliest local), -5 (latest
        /// tiered), or a time in ms since the Unix epoch.
        timestamp_ms: i64,
    },
    /// Kafka's DeleteRecords for one partition (`kafka-delete-records`): the partition's log
    /// starts at `offset` from now on; whole segments below it go. `offset` -1 means the high
    /// watermark (everything committed); past the high watermark is OFFSET_OUT_OF_RANGE, and a
    /// topic without `cleanup.policy=delete` refuses with POLICY_VIOLATION.
    DeleteRecords {
        /// The partition's topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The new log start offset, or -1 for the high watermark.
        offset: i64,
    },
    /// Kafka's CreatePartitions (`kafka-topics --alter --partitions`): the topic grows to `count`
    /// partitions, the new ones replicated as its first is. Partitions are never removed: fewer
    /// (or as many) is INVALID_PARTITIONS. Keys hash over the new count from now on, so a key's
    /// new records may land in another partition than its old ones.
    CreatePartitions {
        /// The topic.
        topic: String,
        /// Its partition count after the change: more than it has, at most
        /// `MAX_PARTITIONS_PER_TOPIC`.
        count: i32,
    },
    /// Deletes a topic and its logs (`kafka-topics --delete`).
    DeleteTopic {
        /// The topic to delete.
        name: String,
    },
    /// Changes a topic's config overrides (`kafka-configs --alter --add-config k=v
    /// --delete-config k`); the result is validated like a creation's.
    AlterTopicConfig {
        /// The topic whose configs change.
        name: String,
        /// Overrides to add or change, by Kafka's names (`retention.ms`, …).
        #[serde(default)]
        set: BTreeMap<String, String>,
        /// Overrides to remove, so those configs go back to Kafka's defaults.
        #[serde(default)]
        delete: Vec<String>,
    },
    /// Changes dynamic broker configs (`kafka-configs --entity-type brokers --entity-name N
    /// --alter`, or `--entity-default` for every broker's default): Kafka's
    /// `leader.replication.throttled.rate` and `follower.replication.throttled.rate`.
    AlterBrokerConfig {
        /// The broker, or `None` for the cluster-wide default.
        #[serde(default)]
        broker: Option<i32>,
        /// Configs to set, by Kafka's names.
        #[serde(default)]
        set: BTreeMap<String, String>,
        /// Configs to delete, so the broker falls back to the default (or the static value).
        #[serde(default)]
        delete: Vec<String>,
    },
    /// Opens a consumer the engine runs for this client (Kafka's KafkaConsumer): a member of
    /// `group` subscribed to `topics`, or — with `partitions` — assigned those partitions without
    /// group membership (offsets still committed to `group` when given).
    OpenConsumer {
        /// The consumer's `group.id`: needed to subscribe to `topics`; with `partitions`, the
        /// group its offsets are committed to.
        #[serde(default)]
        group: Option<String>,
        /// The topics to subscribe to, as a member of `group`.
        #[serde(default)]
        topics: Vec<String>,
        /// The partitions to assign it (KafkaConsumer's `assign`), without group membership.
        #[serde(default)]
        partitions: Vec<PartitionRef>,
        /// The consumer's `client.id`; `kite-consumer-N` when absent.
        #[serde(default)]
        client_id: Option<String>,
        /// `earliest`, `latest` (Kafka's default) or `none`.
        #[serde(default)]
        auto_offset_reset: Option<String>,
        /// `partition.assignment.strategy` by name; Kafka's default `[range, cooperative-sticky]`.
        #[serde(default)]
        assignors: Vec<String>,
        /// `enable.auto.commit`; true (Kafka's default) when absent.
        #[serde(default)]
        enable_auto_commit: Option<bool>,
        /// `session.timeout.ms`: how long (ms) the group waits for a silent member before it
        /// removes it; Kafka's default (45,000) when absent.
        #[serde(default)]
        session_timeout_ms: Option<i32>,
        /// `isolation.level`: `read_committed` reads only committed transactions' records.
        #[serde(default, skip_serializing_if = "IsolationLevel::is_uncommitted")]
        isolation_level: IsolationLevel,
    },
    /// The consumer's `poll`: at most `max_records` records (its `max.poll.records`, 500, when
    /// absent), read with the named deserializers. With auto commit, first commits what earlier
    /// polls returned.
    Poll {
        /// The consumer, by the id `open_consumer` answered with.
        consumer: u32,
        /// The most records to return, at most `MAX_FETCH_RECORDS`; when absent, the consumer's
        /// `max.poll.records` (500, or what an earlier poll set).
        #[serde(default)]
        max_records: Option<u32>,
        /// The deserializer that reads each key into text.
        #[serde(default)]
        key_deserializer: SerializerKind,
        /// The deserializer that reads each value into text.
        #[serde(default)]
        value_deserializer: SerializerKind,
    },
    /// Commits the consumer's positions (`commitSync`).
    CommitOffsets {
        /// The consumer, by the id `open_consumer` answered with.
        consumer: u32,
    },
    /// Closes the consumer: commits (with auto commit) and leaves its group.
    CloseConsumer {
        /// The consumer, by the id `open_consumer` answered with.
        consumer: u32,
    },
    /// The consumer's process dies: it commits nothing and sends no LeaveGroup, so its group
    /// notices only when its session times out (`session.timeout.ms`) and rebalances then.
    /// Answered with `consumer_closed`.
    CrashConsumer {
        /// The consumer, by the id `open_consumer` answered with.
        consumer: u32,
    },
    /// `kafka-consumer-groups --list`.
    ListGroups,
    /// `kafka-consumer-groups --describe --group G`: members and, per partition, the committed
    /// offset, the log end and the lag.
    DescribeGroup {
        /// The group to describe.
        group: String,
    },
    /// `kafka-consumer-groups --reset-offsets --group G --topic T --to-…`: only for an inactive
    /// group; without `execute` it only says what it would do (Kafka's dry run).
    ResetOffsets {
        /// The group whose committed offsets move.
        group: String,
        /// The topic whose partitions are reset, all of them.
        topic: String,
        /// Where to move them; each offset is clamped to its partition's log start and high
        /// watermark.
        to: ResetTarget,
        /// Commit the new offsets (`--execute`); without, only say what they would be.
        #[serde(default)]
        execute: bool,
    },
    /// `kafka-consumer-groups --delete --group G`: only an empty group.
    DeleteGroup {
        /// The group to delete.
        group: String,
    },
    /// The cluster: its brokers, its controller, and partitions without enough replicas.
    DescribeCluster,
    /// A KRaft controller's copy of the metadata log (`__cluster_metadata`), as
    /// `kafka-dump-log --cluster-metadata-decoder` prints it: each entry's offset, quorum epoch
    /// and record, and how far it is committed.
    DescribeMetadataLog {
        /// Whose copy (`controller-N`); the active controller's when not given (with none
        /// active, the running one with the longest log).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        controller: Option<i32>,
        /// The first entry wanted; the last `max_entries` when not given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_offset: Option<i64>,
        /// At most this many entries (`DEFAULT_METADATA_LOG_ENTRIES` when not given, at most
        /// `MAX_METADATA_LOG_ENTRIES`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_entries: Option<u32>,
    },
    /// Kafka's AlterPartitionReassignments (`kafka-reassign-partitions --execute` / `--cancel`):
    /// each partition moves to its target replicas — added replicas catch up and join the ISR
    /// first, then the others leave — or, with `replicas` null, its reassignment in progress is
    /// cancelled. Answered per partition, as Kafka does.
    AlterPartitionReassignments {
        /// The partitions and where each goes.
        partitions: Vec<ReassignmentTarget>,
    },
    /// Kafka's ListPartitionReassignments (`kafka-reassign-partitions --verify` reads it): every
    /// reassignment in progress.
    ListPartitionReassignments,
    /// Kafka's ElectLeaders (`kafka-leader-election`): `preferred` moves each partition's
    /// leadership to its first replica when that one is alive and in sync; `unclean` gives a
    /// partition without a leader its first live replica, in sync or not (records may be lost).
    /// Answered per partition: ELECTION_NOT_NEEDED where there is nothing to do.
    ElectLeaders {
        /// `preferred` or `unclean`.
        election: ElectionType,
        /// The partitions; `None`: every partition of every topic.
        #[serde(default)]
        partitions: Option<Vec<PartitionRef>>,
    },
    /// Add a broker to the running cluster (`kite cluster add-broker`): it gets the next id,
    /// registers with the controller (with its `broker.rack`, if given) and holds nothing until
    /// partitions move to it. Answered with its id.
    AddBroker {
        /// Its `broker.rack`: letters, digits, `.`, `_` and `-`, at most `MAX_RACK_NAME_CHARS`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rack: Option<String>,
    },
    /// Decommission a broker (`kite cluster remove-broker N`): every partition with a replica on
    /// it moves that replica to another broker (reassignments, as `list_partition_reassignments`
    /// shows them); once none is left on it, the controller unregisters it and it stops. Asked
    /// again while it is leaving, the partitions still on it are planned again.
    RemoveBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Fault injection (only where the host allows it: `kite serve --allow-faults`, the tab):
    /// stop a broker cleanly — Kafka's controlled shutdown moves its leaderships first.
    /// Answered with the cluster as `describe_cluster` shows it.
    StopBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Start a stopped broker again over its log directory; it catches up and rejoins the ISRs.
    StartBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Fault injection: stop a KRaft controller (its metadata log and quorum state stay). When
    /// it was the active one, the other voters elect another once their fetch timeout passes;
    /// without a majority running nothing about the cluster can change. Answered with the
    /// cluster as `describe_cluster` shows it.
    StopController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Start a stopped controller again: it catches up on the metadata log as a follower.
    StartController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Freeze a KRaft controller (a long GC pause): it keeps its state and does nothing. A
    /// paused active controller answers nobody; the others elect another once their fetch
    /// timeout passes.
    PauseController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Let a paused controller go on: a leader resumed after another was elected believes it
    /// leads until its fetch timeout or the new epoch tells it otherwise.
    ResumeController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Cut a KRaft controller off by a network partition: it runs on, but reaches no other
    /// controller, broker or client.
    IsolateController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Heal a controller's network partition.
    HealController {
        /// The controller, by its id in the quorum (`controller-N`).
        controller: i32,
    },
    /// Pause a broker, as a process frozen by a long GC pause or SIGSTOP: it neither answers nor
    /// heartbeats, so the controller fences it after `broker.session.timeout.ms` and moves its
    /// leaderships. Answered with the cluster as `describe_cluster` shows it.
    PauseBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Let a paused broker run on from where it stopped: it heartbeats again, learns it was
    /// replaced, truncates what diverged and catches up.
    ResumeBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Cut a broker off by a network partition: it keeps running (a leader may go on accepting
    /// nothing, since clients cannot reach it either), but nothing reaches it or leaves it, so
    /// the controller fences it after `broker.session.timeout.ms`.
    IsolateBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Heal a broker's network partition.
    HealBroker {
        /// The broker, by its `node.id`.
        broker: i32,
    },
    /// Cut one network link, both ways, between two nodes — `controller`, `broker-N`, or
    /// `clients` (every producer and consumer) — while both still reach everyone else: a
    /// partial partition. A broker cut from the controller stops heartbeating and is fenced
    /// after `broker.session.timeout.ms`; a follower cut from its leader stops fetching and
    /// leaves the ISR after `replica.lag.time.max.ms`. Answered like `describe_cluster`.
    CutLink {
        /// One end: `controller`, `broker-N` or `clients`.
        from: String,
        /// The other end, named the same way.
        to: String,
    },
    /// Heal a link `cut_link` cut.
    HealLink {
        /// One end: `controller`, `broker-N` or `clients`.
        from: String,
        /// The other end, named the same way.
        to: String,
    },
    /// The engine's counters and gauges.
    GetMetrics,
    /// Kite Connect at a glance, for the Connect view and `kite connect list`: every connector
    /// with its tasks' states and the records they moved, the files the file connectors can
    /// use, and — with `file` — that file's text. Answered with `connect_described`.
    DescribeConnect {
        /// A file of the connect directory to show (its last `MAX_CONNECT_FILE_SHOWN_BYTES`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// Writes text to a file of the connect directory (the tab's upload, a scenario's `append`):
    /// replacing it, or appended with `append`. Answered with `connect_described`.
    WriteConnectFile {
        /// The file, a relative path inside the connect directory.
        path: String,
        /// The text written.
        text: String,
        /// Appends instead of replacing.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        append: bool,
    },
    /// A request to Kite Connect's REST API (Kafka Connect's: `GET /connectors`,
    /// `POST /connectors`, `GET /connectors/{name}/status`, …), answered with `connect`.
    Connect {
        /// `GET`, `POST`, `PUT` or `DELETE`.
        method: String,
        /// The path as Kafka Connect's (what follows `/connect` on `kite serve`), query included.
        path: String,
        /// The JSON body of a `POST` or `PUT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
    },
    /// The protocol inspector: the last requests Kafka clients sent to the brokers' listeners,
    /// newer than exchange `after`, each with its response, decoded field by field beside its
    /// bytes (at most `MAX_INSPECTED_EXCHANGES_PER_REPLY`, the newest). Answered with
    /// `kafka_exchanges`.
    InspectKafka {
        /// The last exchange id the asker has; 0 for all that are kept.
        #[serde(default)]
        after: u64,
    },
    /// Records a client serialized itself, as Kafka record batches (v2 bytes, any codec) in the
    /// payload of a binary frame; each is placed like `produce_batch`'s (or goes to `partition`).
    /// Answered with `produced_batch`.
    ProduceRecords {
        /// The topic to produce to.
        topic: String,
        /// The partition every record goes to; when absent, `partitioner` places each record by
        /// its key bytes.
        #[serde(default)]
        partition: Option<i32>,
        /// The partitioner that places each record when no `partition` is given.
        #[serde(default)]
        partitioner: PartitionerKind,
        /// The producer's `acks`, as for `produce`.
        #[serde(default)]
        acks: Acks,
        /// The record batches: the binary frame's payload, not part of the JSON header.
        #[serde(skip)]
        payload: Vec<u8>,
    },
    /// The committed record at `offset` and the batch holding it, field by field with their bytes
    /// in hex, as `kafka-dump-log.sh --print-data-log` shows a segment (read from the leader).
    DumpRecord {
        /// The record's topic.
        topic: String,
        /// The record's partition.
        partition: i32,
        /// The record's offset; it must be committed (below the high watermark).
        offset: i64,
    },
    /// Whole record batches from `offset`, as stored (the first may start before it), up to
    /// `max_bytes`: answered with `record_batches` in a binary frame.
    FetchRecords {
        /// The topic to read.
        topic: String,
        /// The partition to read.
        partition: i32,
        /// The offset to read from: the first batch returned holds it.
        offset: i64,
        /// The most bytes of batches to return (at least one whole batch is); at most, and by
        /// default, `MAX_FETCH_BYTES`.
        #[serde(default)]
        max_bytes: Option<u32>,
        /// The consumer's `isolation.level`: `read_committed` reads only to the last stable
        /// offset and is told which transactions aborted.
        #[serde(default, skip_serializing_if = "IsolationLevel::is_uncommitted")]
        isolation_level: IsolationLevel,
    },
}

/// A consumer's `isolation.level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// Everything below the high watermark, aborted transactions' records included (Kafka's
    /// default).
    #[default]
    ReadUncommitted,
    /// Only up to the last stable offset: no record of an open transaction, and the aborted
    /// transactions named so their records are skipped.
    ReadCommitted,
}

impl IsolationLevel {
    /// Kafka's default, left out on the wire.
    pub fn is_uncommitted(&self) -> bool {
        *self == IsolationLevel::ReadUncommitted
    }
}
crate::tag_first!(Command, "type");

/// What a client asks of its session rather than of the engine: subscriptions, answered by
/// [`crate::host::HostSession`] in every host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum HostCommand {
    /// Push every engine event (the simulator's typed trace events) to this connection, as
    /// `push` messages under the request's id. Both hosts push them.
    SubscribeEvents,
    /// Push a partition's new records as they are appended (live tail), from `offset` (the log
    /// end when absent), under the request's id.
    Tail {
        /// The topic to tail.
        topic: String,
        /// The partition to tail.
        partition: i32,
        /// The offset the tail starts at; when absent, the high watermark (where consumers read up to).
        #[serde(default)]
        offset: Option<i64>,
        /// The deserializer that reads each key into text.
        #[serde(default)]
        key_deserializer: SerializerKind,
        /// The deserializer that reads each value into text.
        #[serde(default)]
        value_deserializer: SerializerKind,
    },
    /// Stops the pushes of a `subscribe_events` or `tail` (its request id).
    Unsubscribe {
        /// The id of the request that subscribed.
        subscription: u64,
    },
    /// Whether the session answers, and the engine's time (virtual in the tab, the wall clock on
    /// the server). Answered with `pong`.
    Ping,
}
crate::tag_first!(HostCommand, "type");

/// What only the tab's host does: it has a virtual clock and replays its cluster from a seed.
/// Elsewhere the session refuses these by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum TabCommand {
    /// The engine's virtual clock (the tab's host has one; `kite serve` runs on the wall clock and
    /// refuses): run it at `speed_percent` of real time (`MIN_CLOCK_SPEED_PERCENT` to
    /// `MAX_CLOCK_SPEED_PERCENT`), pause it, or — paused — move it `step_ms` forward. With
    /// nothing set it only says where it is. Answered with `clock`.
    SetClock {
        /// The speed to run at, in percent of real time (100 is real time).
        #[serde(default)]
        speed_percent: Option<u32>,
        /// Pause the clock (`true`) or let it run again (`false`).
        #[serde(default)]
        paused: Option<bool>,
        /// How far (ms) to move a paused clock forward, up to an hour; the brokers' and groups'
        /// timers run to the new time.
        #[serde(default)]
        step_ms: Option<i64>,
    },
    /// Replays this cluster's life from its seed (a host with a virtual clock): a new cluster
    /// with the same seed gets every request at the virtual time it came, and its events and
    /// state are compared with this one's. Answered with `replayed`.
    Replay,
    /// Deletes this cluster and what stores it (the tab's host); the page then starts a new one.
    /// Answered with `cluster_reset`.
    ResetCluster,
    /// Everything this cluster was given, as a URL parameter that makes the same cluster again
    /// (the tab's host): `?state=…`. Answered with `state_shared`.
    ShareState,
    /// Plays the page's scenario script (the tab's host, opened with `?scenario=`) up to its next
    /// reader's pause or question, or its end. Answered with `scenario_played`.
    ContinueScenario {
        /// The reader's answer to the question the run stopped at (`ask … choices …`), one of its
        /// choices; without one the run goes on unpredicted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        choice: Option<String>,
    },
}
crate::tag_first!(TabCommand, "type");

/// What a request asks for: one object on the wire (`{"type": ..., ...}`), whose `type` names a
/// command of the engine, of the client's session or of the tab's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A command the engine answers.
    Engine(Command),
    /// A command the client's session answers (subscriptions, `ping`).
    Host(HostCommand),
    /// A command only the tab's host answers.
    Tab(TabCommand),
}

impl Command {
    /// What `kafka-reassign-partitions --execute --throttle RATE` sends before its moves, each
    /// (topic, partition, replicas now, target replicas): both throttled rates on every broker a
    /// move touches, then per topic its leader list (the moved partitions' current replicas) and
    /// follower list (the replicas they gain). Kite's CLI and the partitions view send these.
    pub fn throttle_moves<'a>(
        moves: impl IntoIterator<Item = (&'a str, i32, &'a [i32], &'a [i32])>,
        rate: u64,
    ) -> Vec<Command> {
        use crate::config::{
            FOLLOWER_REPLICATION_THROTTLED_RATE, LEADER_REPLICATION_THROTTLED_RATE, ThrottledReplicas,
        };
        use crate::replication::quota::{ReplicaPairs, throttled_for_move};
        let mut lists: BTreeMap<&str, (ReplicaPairs, ReplicaPairs)> = BTreeMap::new();
        let mut brokers = std::collections::BTreeSet::new();
        for (topic, partition, now, to) in moves {
            let (leaders, followers) = lists.entry(topic).or_default();
            let (as_leaders, as_followers) = throttled_for_move(partition, now, to);
            leaders.extend(as_leaders);
            followers.extend(as_followers);
            brokers.extend(now.iter().chain(to).copied());
        }
        let rates = [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE];
        let mut commands: Vec<Command> = brokers
            .into_iter()
            .map(|broker| Command::AlterBrokerConfig {
                broker: Some(broker),
                set: rates.iter().map(|name| (name.to_string(), rate.to_string())).collect(),
                delete: Vec::new(),
            })
            .collect();
        commands.extend(lists.into_iter().map(|(topic, (leaders, followers))| Command::AlterTopicConfig {
            name: topic.to_string(),
            set: BTreeMap::from([
                (
                    "leader.replication.throttled.replicas".to_string(),
                    ThrottledReplicas::Listed(leaders).describe(),
                ),
                (
                    "follower.replication.throttled.replicas".to_string(),
                    ThrottledReplicas::Listed(followers).describe(),
                ),
            ]),
            delete: Vec::new(),
        }));
        commands
    }

    /// A `produce` of one text record `value` with key `key` to `topic`, at `partition` or where
    /// the default partitioner puts it, and the API's defaults for the rest (string serializers,
    /// acks=all, no headers, the host's time): what a test, a benchmark or the simulator sends.
    pub fn produce_text(topic: &str, partition: Option<i32>, key: Option<String>, value: &str) -> Command {
        Command::Produce {
            topic: topic.into(),
            partition,
            key,
            value: Some(value.into()),
            timestamp_ms: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            headers: Vec::new(),
            acks: Default::default(),
            producer: None,
        }
    }
}

impl From<Command> for Request {
    fn from(command: Command) -> Request {
        Request::Engine(command)
    }
}

impl From<HostCommand> for Request {
    fn from(command: HostCommand) -> Request {
        Request::Host(command)
    }
}

impl From<TabCommand> for Request {
    fn from(command: TabCommand) -> Request {
        Request::Tab(command)
    }
}

impl Serialize for Request {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Request::Engine(command) => command.serialize(serializer),
            Request::Host(command) => command.serialize(serializer),
            Request::Tab(command) => command.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Request, D::Error> {
        crate::tagged::read_one_of("type", deserializer)
    }
}

impl<'de> crate::tagged::OneOf<'de> for Request {
    fn read<A: serde::de::MapAccess<'de>>(
        name: &str,
        named: crate::tagged::Named<'_, A>,
    ) -> Result<Request, A::Error> {
        use crate::tagged::variant_names;
        // The derived (inherent, externally tagged) readers, given the variant by name.
        if variant_names(HostCommand::deserialize).contains(&name) {
            HostCommand::deserialize(named).map(Request::Host)
        } else if variant_names(TabCommand::deserialize).contains(&name) {
            TabCommand::deserialize(named).map(Request::Tab)
        } else if variant_names(Command::deserialize).contains(&name) {
            Command::deserialize(named).map(Request::Engine)
        } else {
            let known: Vec<&str> = [
                variant_names(Command::deserialize),
                variant_names(HostCommand::deserialize),
                variant_names(TabCommand::deserialize),
            ]
            .concat();
            Err(serde::de::Error::custom(format_args!(
                "unknown variant `{name}`, expected one of `{}`",
                known.join("`, `")
            )))
        }
    }
}

/// The slowest a virtual clock runs, in percent of real time: ×0.25.
pub const MIN_CLOCK_SPEED_PERCENT: u32 = 25;
/// The fastest a virtual clock runs, in percent of real time: ×100.
pub const MAX_CLOCK_SPEED_PERCENT: u32 = 10_000;

/// The engine's counters since it started, and gauges now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Produce commands (`produce`, `produce_batch`, `produce_records`), refused ones included.
    pub produce_requests: u64,
    /// Records the produce commands appended.
    pub records_produced: u64,
    /// Bytes the produce commands added to the leaders' logs, as stored (record batches).
    pub bytes_produced: u64,
    /// `fetch` and `fetch_records` commands answered (consumer polls are not counted).
    pub fetch_requests: u64,
    /// Records returned by fetches, binary fetches and consumer polls.
    pub records_fetched: u64,
    /// Commands answered with an error.
    pub errors: u64,
    /// Topics now, `__consumer_offsets` included once a group has needed it.
    pub topics: usize,
    /// Partitions now, of every topic.
    pub partitions: usize,
    /// Consumer groups the coordinator knows now.
    pub groups: usize,
    /// Consumers the engine runs for its clients now.
    pub consumers: usize,
    /// Partitions with a leader whose in-sync replicas are fewer than their replicas.
    #[serde(default)]
    pub under_replicated_partitions: usize,
    /// Partitions without a leader.
    #[serde(default)]
    pub offline_partitions: usize,
    /// ISR changes that removed a replica (Kafka's `IsrShrinksPerSec`, as a count).
    #[serde(default)]
    pub isr_shrinks: u64,
    /// ISR changes that added a replica (Kafka's `IsrExpandsPerSec`, as a count).
    #[serde(default)]
    pub isr_expands: u64,
    /// The engine's clock when these were read, so a client can turn two samples into rates.
    #[serde(default)]
    pub at_ms: i64,
}

/// What a subscription pushes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum Push {
    /// One engine event: its virtual or wall time, its one-line text, and the typed event
    /// (`kind` and its fields) as JSON.
    Event {
        /// When it happened, in ms since the Unix epoch on the engine's clock.
        at_ms: i64,
        /// The event as one line of text.
        text: String,
        /// The typed event as JSON: its `kind` and its fields.
        event: serde_json::Value,
    },
    /// Events not pushed: more than [`crate::limits::MAX_EVENTS_PUSHED_PER_SECOND`] came in
    /// one second of the engine's clock. One per batch of events that had any skipped.
    Skipped {
        /// How many of this batch's events were not pushed.
        events: u64,
    },
    /// New records of a tailed partition.
    Records {
        /// The tailed partition's topic.
        topic: String,
        /// The tailed partition.
        partition: i32,
        /// The records appended since the last push, in offset order.
        records: Vec<RecordView>,
    },
}
crate::tag_first!(Push, "type");

impl Push {
    /// The push of one engine event.
    pub fn event(at_ms: i64, event: &crate::trace::Event) -> Push {
        Push::Event { at_ms, text: event.to_string(), event: serde_json::to_value(event).unwrap_or_default() }
    }
}

/// A broker as `describe_cluster` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    /// The broker's `node.id`.
    pub id: i32,
    /// `up`, `fenced` (the controller stopped counting on it), `log-dir-offline` (a write failed
    /// or stored bytes were found corrupt: fenced until restarted), `stopped`, `paused` or
    /// `isolated`.
    pub state: String,
    /// How many partition replicas it holds.
    pub replicas: usize,
    /// How many partitions it leads.
    pub leaders: usize,
    /// Being removed (`remove_broker`): its replicas are moving to the other brokers, after
    /// which it leaves the cluster.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaving: bool,
    /// How far it has fetched and replayed the metadata log (`__cluster_metadata`) as a KRaft
    /// observer: the offset of the next record it wants. Absent for a single broker (no quorum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_offset: Option<i64>,
    /// Its `broker.rack`, as it registered with it (none without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<String>,
}

/// How many metadata log entries `describe_metadata_log` answers with when not told.
pub const DEFAULT_METADATA_LOG_ENTRIES: u32 = 50;
/// The most metadata log entries one `describe_metadata_log` answers with.
pub const MAX_METADATA_LOG_ENTRIES: u32 = 1_000;

/// One entry of a controller's metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataEntryView {
    /// Its offset in the metadata log.
    pub offset: i64,
    /// The quorum epoch of the leader that appended it (its batch's partitionLeaderEpoch).
    pub epoch: i32,
    /// Kafka's name for it: `RegisterBrokerRecord`, `TopicRecord`, `PartitionChangeRecord`, …;
    /// `LeaderChangeMessage` for the control record a new leader appends.
    pub record_type: String,
    /// The record (none for a LeaderChange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<crate::replication::protocol::MetadataRecord>,
}

/// A broker config, as `kafka-configs --describe --all` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerConfigView {
    /// Kafka's name (`auto.leader.rebalance.enable`).
    pub name: String,
    /// Its value.
    pub value: String,
    /// Where it came from, in Kafka's words: `DYNAMIC_BROKER_CONFIG` (set on this broker while
    /// it runs), `DYNAMIC_DEFAULT_BROKER_CONFIG` (set as every broker's default),
    /// `STATIC_BROKER_CONFIG` (set when the cluster started) or `DEFAULT_CONFIG`.
    pub source: String,
    /// The broker a `DYNAMIC_BROKER_CONFIG` is set on; `None` for every other source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
}

/// A KRaft controller, as `describe_cluster` shows it: its place in the metadata quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerView {
    /// Its id in the quorum (`controller-N`).
    pub id: i32,
    /// `active` (the quorum's leader: it runs the controller), `follower`, `stopped`, or, with
    /// no leader known, `unattached` (waiting for its election timeout or for a leader to
    /// announce itself), `prospective` (asking for pre-votes), `candidate` (asking for votes);
    /// `resigned` (a leader that stepped down) or `leader` (a deposed one that has not heard
    /// yet) are brief.
    pub state: String,
    /// The latest quorum epoch it has seen (each election starts a new one).
    pub epoch: i32,
    /// The end of its copy of the metadata log (`__cluster_metadata`).
    pub log_end_offset: i64,
    /// How far it knows that log is committed (held by a majority).
    pub high_watermark: i64,
    /// Cut off from everyone by `isolate_controller` (its `state` is what it believes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub isolated: bool,
}

/// A Kafka client connected to a broker's listener, as `describe_cluster` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaClientView {
    /// The connection's number, as the protocol inspector names it.
    #[serde(default)]
    pub connection: u64,
    /// The broker whose listener it connected to.
    pub broker: i32,
    /// Where it connects from (e.g. `/127.0.0.1`).
    pub address: String,
    /// Its `client.id`, from its last request's header; empty when it sends none.
    pub client_id: String,
    /// Its software's name and version from ApiVersions v3 (e.g. `librdkafka 2.0.2`); empty
    /// before it says.
    pub software: String,
    /// How many requests of each API it sent, by Kafka's name (`Produce`, `Fetch`, …).
    pub requests: BTreeMap<String, u64>,
    /// The producer ids InitProducerId gave it (at most `MAX_LISTED_PER_KAFKA_CLIENT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub producer_ids: Vec<i64>,
    /// The consumer groups it joined (at most `MAX_LISTED_PER_KAFKA_CLIENT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Its last fetch asked for `isolation.level=read_committed`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_committed: bool,
}

/// An idempotent producer as a `produce` names it (`enable.idempotence=true`): who it is and the
/// next sequence number of each partition it writes to, as a Kafka producer keeps them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotentProducer {
    /// Its id, from `init_producer_id`.
    pub producer_id: i64,
    /// Its epoch, from `init_producer_id`.
    pub producer_epoch: i16,
    /// (partition, next sequence) for each partition it has written to; others start at 0.
    #[serde(default)]
    pub sequences: Vec<(i32, i32)>,
    /// A transactional producer's `transactional.id` (from `init_transactions`): the record is
    /// written in its open transaction, its partition added to the transaction first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactional_id: Option<String>,
}

impl IdempotentProducer {
    /// The sequence its next record to `partition` carries.
    pub fn next_sequence(&self, partition: i32) -> i32 {
        self.sequences.iter().find(|(p, _)| *p == partition).map_or(0, |(_, next)| *next)
    }

    /// A record of it was taken in `partition` (`write` says with which sequence): the next one
    /// there carries the sequence after it (a duplicate moves nothing; Kafka wraps at i32::MAX).
    pub fn wrote(&mut self, partition: i32, write: &IdempotentWrite) {
        let next = write.sequence.wrapping_add(1).max(0);
        match self.sequences.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, sequence)) => *sequence = (*sequence).max(next),
            None => self.sequences.push((partition, next)),
        }
    }
}

/// How the leader took an idempotent producer's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotentWrite {
    /// The producer's id.
    pub producer_id: i64,
    /// The record's sequence number in its partition.
    pub sequence: i32,
    /// The leader had this producer's sequence already (a retry): the answer is the first
    /// write's offset, and nothing was appended again.
    pub duplicate: bool,
}

/// One request a Kafka client sent and what came of it, as the protocol inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaExchangeView {
    /// The exchange's number, counting up from 1 since the engine opened.
    pub id: u64,
    /// The connection it came on (as `describe_cluster` lists Kafka clients).
    pub connection: u64,
    /// The broker whose listener it reached.
    pub broker: i32,
    /// The connection's `client.id` (empty when it sends none).
    pub client_id: String,
    /// When it arrived, in ms since the Unix epoch.
    pub at_ms: i64,
    /// Kafka's name for the API (`Produce`, `Fetch`, …), or what the bytes were instead.
    pub api: String,
    /// The request's API key, version and correlation id, as its header says.
    pub api_key: i16,
    /// The API version the client chose.
    pub version: i16,
    /// The number the client matches the response by.
    pub correlation_id: i32,
    /// The request's bytes and fields.
    pub request: KafkaFrameView,
    /// The response's, once there is one.
    pub response: Option<KafkaFrameView>,
    /// `answered`, `waiting` (a fetch or a group request the broker holds), `no_response`
    /// (Produce with acks=0, as Kafka) or `closed` (the broker closed the connection instead).
    pub outcome: String,
    /// Why the connection closed, for `closed`.
    pub closed_reason: String,
}

/// One frame on the wire, as the protocol inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaFrameView {
    /// The frame's size on the wire, its 4-byte size prefix included.
    pub size: usize,
    /// The size prefix and each header field, with the bytes it spans, then the body.
    pub fields: Vec<KafkaFieldView>,
    /// The body decoded, field by field (tagged fields included), or why it could not be.
    pub body: String,
    /// The frame's first bytes in hex (at most `MAX_INSPECTED_HEX_BYTES`).
    pub hex: String,
    /// Whether the bytes were not kept because they hold credentials (SASL).
    pub redacted: bool,
}

/// A field of a frame and the bytes it spans (`start..end`, from the frame's first byte).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaFieldView {
    /// Kafka's name for it (`correlation_id`, `client_id`, …).
    pub name: String,
    /// Its value.
    pub value: String,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// A topic-partition in a command or reply.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartitionRef {
    /// The topic's name.
    pub topic: String,
    /// The partition's number within the topic, from 0.
    pub partition: i32,
}

/// Where `reset_offsets` moves a group's offsets (kafka-consumer-groups' options).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
// Tagged "kind", read straight when the tag comes first (`tagged`).
pub enum ResetTarget {
    /// Each partition's log start offset (`--to-earliest`).
    Earliest,
    /// Each partition's high watermark, where consumers read up to (`--to-latest`).
    Latest,
    /// One offset for every partition (`--to-offset`).
    Offset {
        /// The offset to move to.
        offset: i64,
    },
    /// The first offset at or after this time (`--to-datetime`); the high watermark when no
    /// record is that late.
    Datetime {
        /// The time, in ms since the Unix epoch.
        timestamp_ms: i64,
    },
    /// Each committed offset moved by `shift` (`--shift-by`); from the high watermark where
    /// nothing is committed.
    ShiftBy {
        /// How many offsets to move: negative goes back.
        shift: i64,
    },
}
crate::tag_first!(ResetTarget, "kind");

/// A transactional id and its transaction, as `kafka-transactions.sh describe` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    /// The producer's `transactional.id`.
    pub transactional_id: String,
    /// Its producer id.
    pub producer_id: i64,
    /// Its current epoch.
    pub producer_epoch: i16,
    /// Kafka's state name: `Empty`, `Ongoing`, `PrepareCommit`, `CompleteCommit`, …
    pub state: String,
    /// `transaction.timeout.ms`.
    pub timeout_ms: i32,
    /// When the open transaction started (ms), -1 when none is open.
    pub start_ms: i64,
    /// The partitions the open transaction wrote to.
    pub partitions: Vec<PartitionRef>,
    /// The `__transaction_state` partition that keeps it.
    pub coordinator_partition: i32,
    /// That partition's leader: the transaction's coordinator (none while it has no leader).
    pub coordinator: Option<i32>,
}

/// A record a consumer polled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolledRecord {
    /// The topic it was read from.
    pub topic: String,
    /// The partition it was read from.
    pub partition: i32,
    /// The record; its fields sit beside `topic` and `partition` on the wire.
    #[serde(flatten)]
    pub record: RecordView,
}

/// A partition's offset in a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOffset {
    /// The partition's topic.
    pub topic: String,
    /// The partition's number within `topic`.
    pub partition: i32,
    /// The group's offset there: the next offset its consumers read.
    pub offset: i64,
}

/// A group as `kafka-consumer-groups --list --state` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupListing {
    /// The group's id.
    pub group: String,
    /// Its state by Kafka's name: `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable`
    /// or `Dead`.
    pub state: String,
    /// The protocol type its members join with: `consumer` for a consumer group; empty when no
    /// member has joined.
    pub protocol_type: String,
}

/// A member of a group, as `kafka-consumer-groups --describe --members` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMemberView {
    /// The id the coordinator gave the member.
    pub member_id: String,
    /// The member's `client.id`.
    pub client_id: String,
    /// The host the member connects from (`/client-N` in Kite).
    pub host: String,
    /// The partitions assigned to it.
    pub assignment: Vec<PartitionRef>,
}

/// One row of `kafka-consumer-groups --describe`: `current_offset` is the committed offset
/// (`None`: nothing committed), `lag` the log end minus it — for a member that reads committed,
/// the last stable offset minus it, what it can still read; the member that owns the partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOffsetRow {
    /// The partition's topic.
    pub topic: String,
    /// The partition's number within `topic`.
    pub partition: i32,
    /// The group's committed offset; `None` when nothing is committed.
    pub current_offset: Option<i64>,
    /// The partition's high watermark: the log end as consumers see it.
    pub log_end_offset: i64,
    /// The partition's last stable offset: where a read_committed consumer must stop while a
    /// transaction is open (the high watermark when none is).
    #[serde(default)]
    pub last_stable_offset: i64,
    /// The owning member fetches with `isolation.level=read_committed`: its lag counts to the
    /// last stable offset.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_committed: bool,
    /// `log_end_offset` (`last_stable_offset` when `read_committed`) less `current_offset`,
    /// never below 0; `None` when nothing is committed.
    pub lag: Option<i64>,
    /// The member id of the member that owns the partition; `None` when no member does.
    pub consumer_id: Option<String>,
    /// That member's host.
    pub host: Option<String>,
    /// That member's `client.id`.
    pub client_id: Option<String>,
}

/// One record of a `produce_batch`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchedRecord {
    /// The key as text; `None` is a null key.
    #[serde(default)]
    pub key: Option<String>,
    /// The value as text; `None` is a null value (a tombstone).
    #[serde(default)]
    pub value: Option<String>,
    /// CreateTime in ms; the host's current time when absent, as a producer stamps it.
    #[serde(default)]
    pub timestamp_ms: Option<i64>,
    /// Record headers, (key, value) in order; values are sent as UTF-8.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// Kite Connect at a glance (`describe_connect`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectView {
    /// The worker's id (`host:port` on `kite serve`).
    pub worker_id: String,
    /// Every connector, by name.
    pub connectors: Vec<ConnectorView>,
    /// The connect directory's files: path and size in bytes.
    pub files: Vec<(String, u64)>,
    /// The file asked for: its path, its text (the last `MAX_CONNECT_FILE_SHOWN_BYTES`, UTF-8
    /// with bad bytes replaced) and the byte that text starts at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<(String, String, u64)>,
    /// The tables the JDBC sinks write, each database's first `MAX_CONNECT_TABLES_SHOWN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableView>,
    /// Records of the internal topics that did not parse when the worker read them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The schema registry's subjects the AvroConverter connectors write and read (the latest
    /// version of each), the first `MAX_CONNECT_SCHEMAS_SHOWN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<SubjectView>,
}

/// A schema registry subject's latest version, as the Connect view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectView {
    /// The subject (`<topic>-key`, `<topic>-value`).
    pub subject: String,
    /// Its latest version, from 1.
    pub version: u32,
    /// That schema's global id, the one in each record's framing.
    pub id: i32,
    /// The schema, as JSON text.
    pub schema: String,
}

/// A table a JDBC sink writes, as the table viewer shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableView {
    /// The database: its path inside the connect directory (`connection.url` without
    /// `jdbc:sqlite:`).
    pub database: String,
    /// The table's name.
    pub table: String,
    /// Its columns: name, SQL type and whether it is part of the primary key.
    pub columns: Vec<(String, String, bool)>,
    /// Its first `MAX_CONNECT_TABLE_ROWS_SHOWN` rows by key, each cell's text (`None`: NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// How many rows it holds.
    pub row_count: u64,
}

/// A connector as the Connect view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorView {
    /// Its name.
    pub name: String,
    /// Its `connector.class` as given.
    pub class: String,
    /// `source`, `sink` or `unknown`.
    pub kind: String,
    /// Its state (`RUNNING`, `PAUSED`, `FAILED`, …).
    pub state: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The topics it writes (a source's `topic` / `kafka.topic`) or reads (a sink's `topics`).
    pub topics: Vec<String>,
    /// Its file, for the file connectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `transforms`' aliases, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<String>,
    /// Its key and value converters' classes, as its config names them or the worker's default.
    #[serde(default)]
    pub converters: (String, String),
    /// Its tasks.
    pub tasks: Vec<ConnectTaskView>,
}

/// A task as the Connect view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectTaskView {
    /// Its number.
    pub id: usize,
    /// Its state.
    pub state: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// Records it produced (a source) or wrote (a sink).
    pub records: u64,
    /// Records a `Filter` dropped.
    pub filtered: u64,
    /// Records that failed and were skipped (`errors.tolerance=all`).
    pub skipped: u64,
    /// A source's committed offset (`{"position":N}`), as `connect-offsets` holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

/// A scenario step, as `continue_scenario` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// The script line the step came from, 1-based.
    pub line: usize,
    /// That line's text, trimmed.
    pub source: String,
    /// What came of the step.
    pub outcome: Outcome,
}

/// What came of a scenario step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A request or a wait, and what came of it (a Kafka error too: a script may expect one).
    Done {
        /// What happened, in a few words (e.g. `orders-0 @ offset 0`).
        said: String,
        /// The same in Korean, for a Korean page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ko: Option<String>,
    },
    /// The reader's pause: the run waits here.
    Paused {
        /// What to tell the reader.
        text: String,
        /// The same in Korean, when the script gives it (`pause "…" ko "…"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ko: Option<String>,
    },
    /// A question for the reader (`ask "…" choices … answer …`): the run waits here for a choice,
    /// and the expectation after it says whether the reader's prediction held.
    Asked {
        /// The question.
        text: String,
        /// The same in Korean, when the script gives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ko: Option<String>,
        /// What the reader may answer, in the script's order.
        choices: Vec<String>,
    },
    /// An expectation that held.
    Passed {
        /// What was found, in a few words.
        said: String,
        /// The same in Korean.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ko: Option<String>,
        /// The question this expectation answers, when one came before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prediction: Option<Prediction>,
    },
    /// An expectation that did not, and what was found instead.
    Failed {
        /// What was expected and what was found.
        why: String,
        /// The same in Korean.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ko: Option<String>,
        /// The question this expectation answers, when one came before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prediction: Option<Prediction>,
    },
}

/// A reader's prediction, settled by the expectation after its question: the script's answer is
/// what the engine does when that expectation holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    /// The question, as the script asked it.
    pub question: String,
    /// The reader's choice; `None` when the run went on without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picked: Option<String>,
    /// The script's answer.
    pub answer: String,
}

impl Prediction {
    /// Whether the reader picked the answer.
    pub fn held(&self) -> bool {
        self.picked.as_deref() == Some(self.answer.as_str())
    }
}

/// Reads a `produce_batch`'s records, keeping at most one more than
/// [`MAX_PRODUCE_BATCH_RECORDS`] (for the engine to refuse) and skipping the rest unkept: 4 MiB of
/// `{}` are 1.4 million records, 128–230 MB before the engine could count them.
fn records_up_to_one_past_the_limit<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<BatchedRecord>, D::Error> {
    struct Bounded;
    impl<'de> serde::de::Visitor<'de> for Bounded {
        type Value = Vec<BatchedRecord>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of records")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut records = Vec::new();
            while records.len() <= MAX_PRODUCE_BATCH_RECORDS {
                match seq.next_element()? {
                    Some(record) => records.push(record),
                    None => return Ok(records),
                }
            }
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(records)
        }
    }
    deserializer.deserialize_seq(Bounded)
}

/// Where one record of a `produce_batch` went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducedRecord {
    /// The partition the record went to.
    pub partition: i32,
    /// Its offset there; -1 under `acks=0` (the producer hears no offsets).
    pub offset: i64,
    /// Its timestamp in ms: the producer's CreateTime, or the broker's time under LogAppendTime.
    pub timestamp_ms: i64,
}

/// One partition's part of a `produce_records` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducedPartition {
    /// The partition written.
    pub partition: i32,
    /// -1 under `acks=0` (the producer hears no offsets).
    pub base_offset: i64,
    /// The broker's append time, when the topic stamps it (`message.timestamp.type=LogAppendTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_append_time_ms: Option<i64>,
}

impl ProducedPartition {
    /// Each record's partition, offset and timestamp, in request order, from a `produce_records`
    /// answer and the records' own timestamps (`timestamps[i]` for record `i`).
    pub fn expand(
        partitions: &[i32],
        batches: &[ProducedPartition],
        timestamps: &[i64],
    ) -> Vec<ProducedRecord> {
        let mut seen: BTreeMap<i32, i64> = BTreeMap::new();
        partitions
            .iter()
            .zip(timestamps.iter().copied().chain(std::iter::repeat(-1)))
            .map(|(&partition, timestamp_ms)| {
                let index = seen.entry(partition).or_insert(0);
                let batch = batches.iter().find(|b| b.partition == partition);
                let offset = match batch {
                    Some(b) if b.base_offset >= 0 => b.base_offset + *index,
                    _ => -1,
                };
                *index += 1;
                let timestamp_ms = batch.and_then(|b| b.log_append_time_ms).unwrap_or(timestamp_ms);
                ProducedRecord { partition, offset, timestamp_ms }
            })
            .collect()
    }
}

/// A partition as `list_topics` and `create_topic` describe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionDescription {
    /// The partition's number, from 0.
    pub partition: i32,
    /// The first offset still in the log (Kafka's log start offset): retention moves it up.
    pub log_start_offset: i64,
    /// The high watermark: where consumers read up to (the log end once every in-sync replica
    /// has the records).
    pub log_end_offset: i64,
    /// The leader broker; `None` while the partition is offline.
    #[serde(default)]
    pub leader: Option<i32>,
    /// The brokers of its assigned replicas; the first is the preferred leader.
    #[serde(default)]
    pub replicas: Vec<i32>,
    /// The in-sync replicas (Kafka's ISR): those caught up with the leader.
    #[serde(default)]
    pub isr: Vec<i32>,
    /// How far each replica's log goes (its log end offset), stopped brokers' included: a
    /// record at offset `o` is on the replicas whose log end is past `o`.
    #[serde(default)]
    pub replica_log_end_offsets: Vec<ReplicaLogEnd>,
    /// Where the leader's log rolled: the base offset of each segment after its first (the
    /// first starts at or before `log_start_offset`). Absent while the log is one segment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rolled_at: Vec<i64>,
    /// The last stable offset, when a transaction still open holds it below the high
    /// watermark: read_committed consumers stop there. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stable_offset: Option<i64>,
    /// A reassignment in progress: the replicas being added (catching up). Absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adding: Vec<i32>,
    /// A reassignment in progress: the replicas that leave once it completes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing: Vec<i32>,
}

/// Where `alter_partition_reassignments` moves one partition, in kafka-reassign-partitions'
/// JSON shape (`{"topic", "partition", "replicas"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignmentTarget {
    /// The partition's topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The target replicas, the first the preferred leader; `None` cancels the reassignment in
    /// progress.
    pub replicas: Option<Vec<i32>>,
}

/// One partition's outcome in `reassignments_altered` and `leaders_elected`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionResult {
    /// The partition's topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Why it was refused (INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS,
    /// ELECTION_NOT_NEEDED, UNKNOWN_TOPIC_OR_PARTITION, …); absent when it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<KafkaError>,
}

/// A reassignment in progress, as ListPartitionReassignments gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassignment {
    /// The partition's topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Its replicas now: the target's, then those leaving.
    pub replicas: Vec<i32>,
    /// Replicas catching up; the reassignment completes once all are in the ISR.
    pub adding: Vec<i32>,
    /// Replicas that leave when it completes.
    pub removing: Vec<i32>,
}

/// One replica's log end offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaLogEnd {
    /// The broker holding the replica.
    pub broker: i32,
    /// The offset the next record appended to that replica's log gets (Kafka's log end offset).
    pub log_end_offset: i64,
}

/// A topic as `list_topics` and `create_topic` describe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicDescription {
    /// The topic's name.
    pub name: String,
    /// Its id (KIP-516), as Kafka prints it: 22 characters of URL-safe base64. A topic deleted
    /// and created again under the same name has another.
    #[serde(default)]
    pub topic_id: String,
    /// Its partitions, by number.
    pub partitions: Vec<PartitionDescription>,
    /// The topic's config overrides (Kafka's defaults apply to the rest).
    pub configs: BTreeMap<String, String>,
}

/// A record as a client reads it, key and value read by the fetch's deserializers. When a
/// deserializer refuses the bytes, that field shows them as hex and `decode_error` says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// The record's offset in its partition.
    pub offset: i64,
    /// Its timestamp in ms: CreateTime, or the broker's append time under LogAppendTime.
    pub timestamp_ms: i64,
    /// The key as the key deserializer reads it; `None` for a null key.
    pub key: Option<String>,
    /// The value as the value deserializer reads it; `None` for a null value (a tombstone).
    pub value: Option<String>,
    /// Why a deserializer refused the key or the value (the key's reason when both were refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_error: Option<String>,
    /// The record's headers: key and value (UTF-8, or hex when not; `None` for a null value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>)>,
    /// For a record a transactional producer wrote: whether its transaction is still open,
    /// committed or aborted. Absent for other records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TxnMark>,
}

/// Where a transactional record's transaction is, as a read_committed consumer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnMark {
    /// Not decided yet: at or past the last stable offset, invisible to read_committed.
    Open,
    /// Committed: visible to every consumer.
    Committed,
    /// Aborted: read_committed consumers skip it.
    Aborted,
}

/// A transaction marker (control record) among fetched records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerView {
    /// Its offset: taken, but never a record a consumer is handed.
    pub offset: i64,
    /// The transactional producer whose transaction it ends.
    pub producer_id: i64,
    /// COMMIT or ABORT.
    pub kind: crate::txn::marker::MarkerKind,
}

impl RecordView {
    /// The record as one JSON object the way `kite consume --output json` prints it (and the
    /// message browser exports it): `topic`, `partition`, `offset`, `timestamp`, `key`, `value`,
    /// `headers` as `[{"key", "value"}]`.
    pub fn consumer_json(&self, topic: &str, partition: i32) -> serde_json::Value {
        let headers: Vec<serde_json::Value> = self
            .headers
            .iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect();
        serde_json::json!({
            "topic": topic, "partition": partition, "offset": self.offset,
            "timestamp": self.timestamp_ms, "key": self.key, "value": self.value,
            "headers": headers,
        })
    }
}

/// The answer to a request, one for each: from the engine, the client's session or the tab's
/// host. On the wire, `type` names it (`{"type": "topic_created", ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum Reply {
    /// `create_topic`'s answer: the topic as created, and Kafka's warnings.
    TopicCreated {
        /// The topic as created.
        topic: TopicDescription,
        /// What `kafka-topics --create` would warn about (a `.` or `_` in the name).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// `list_topics`' answer.
    Topics {
        /// Every topic, by name, with its partitions.
        topics: Vec<TopicDescription>,
    },
    /// `produce`'s answer: where the record went and how its partition was chosen.
    Produced {
        /// The topic produced to.
        topic: String,
        /// The partition the record went to.
        partition: i32,
        /// Its offset there; -1 under `acks=0` (the producer hears no offsets).
        offset: i64,
        /// Its timestamp in ms: the producer's CreateTime, or the broker's time under
        /// LogAppendTime.
        timestamp_ms: i64,
        /// How the partition was chosen, with every intermediate value.
        placement: Placement,
        /// For an idempotent producer: its id, the record's sequence, and whether the leader
        /// found it a duplicate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idempotent: Option<IdempotentWrite>,
    },
    /// `end_transaction`'s answer: the transaction's decision is written and its markers are on
    /// their way (on every partition that could take one).
    TransactionEnded {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// Committed (true) or aborted.
        committed: bool,
    },
    /// `send_offsets_to_transaction`'s answer: the offsets wait on the transaction.
    OffsetsSent {
        /// The group they are for.
        group: String,
    },
    /// `describe_transactions`' answer.
    Transactions {
        /// Every transactional id the coordinator holds, by id.
        transactions: Vec<TransactionView>,
    },
    /// `init_producer_id`'s answer: the producer's id and epoch.
    ProducerIdInitialized {
        /// The new producer id.
        producer_id: i64,
        /// Its epoch (0 for a new id).
        producer_epoch: i16,
    },
    /// `fetch`'s answer.
    Records {
        /// The topic read.
        topic: String,
        /// The partition read.
        partition: i32,
        /// The partition's log start offset: the first offset still in its log.
        log_start_offset: i64,
        /// The partition's high watermark: where consumers read up to.
        log_end_offset: i64,
        /// The records read, in offset order from the requested offset.
        records: Vec<RecordView>,
        /// The transaction markers among them (their offsets are not records). Absent when none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        markers: Vec<MarkerView>,
    },
    /// `register_schema`'s answer.
    SchemaRegistered {
        /// The subject registered under.
        subject: String,
        /// The schema's global id, which the Avro serializer writes before each datum.
        id: i32,
        /// The schema's version in the subject, from 1.
        version: u32,
    },
    /// `delete_topic`'s answer.
    TopicDeleted {
        /// The topic deleted.
        name: String,
    },
    /// Every record of a `produce_batch`, in request order.
    ProducedBatch {
        /// The topic produced to.
        topic: String,
        /// Where each record went, in request order.
        records: Vec<ProducedRecord>,
    },
    /// `produce_records`' answer, shaped like Kafka's ProduceResponse: per partition written,
    /// its batch's base offset (and the broker's time under LogAppendTime); and each record's
    /// partition, in request order. A record's offset is its partition's base offset plus how
    /// many of that partition's records came before it (`ProducedPartition::expand`).
    ProducedRecords {
        /// The topic produced to.
        topic: String,
        /// Each record's partition, in request order.
        partitions: Vec<i32>,
        /// Each partition written, with its batch's base offset.
        batches: Vec<ProducedPartition>,
    },
    /// `list_offsets`' answer.
    Offsets {
        /// The partition's topic.
        topic: String,
        /// The partition asked about.
        partition: i32,
        /// The timestamp asked about: -2 (earliest), -1 (latest), -3 (max timestamp), -4
        /// (earliest local), -5 (latest tiered) or a time in ms.
        timestamp_ms: i64,
        /// The offset found; `None` when no committed record is that late.
        offset: Option<i64>,
        /// The found record's own timestamp (ms), for a lookup by time or by max timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_timestamp_ms: Option<i64>,
    },
    /// `delete_records`' answer: the low watermark, the lowest log start offset among the
    /// partition's live replicas, once every one of them starts at the offset asked for.
    RecordsDeleted {
        /// The partition's topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The partition's low watermark now.
        low_watermark: i64,
    },
    /// `alter_partition_reassignments`' answer: each partition's outcome, in the order asked.
    ReassignmentsAltered {
        /// One per partition asked about.
        results: Vec<PartitionResult>,
    },
    /// `elect_leaders`' answer: each partition's outcome, by topic and number.
    LeadersElected {
        /// One per partition asked about (every partition when none were named).
        results: Vec<PartitionResult>,
    },
    /// `add_broker`'s answer: the new broker.
    BrokerAdded {
        /// Its `node.id`.
        broker: i32,
    },
    /// `remove_broker`'s answer: the broker is leaving.
    BrokerRemoval {
        /// The broker.
        broker: i32,
        /// How many partitions started moving their replica off it; 0: it held none and has
        /// left the cluster already.
        moving: usize,
    },
    /// `list_partition_reassignments`' answer: the partitions being reassigned.
    Reassignments {
        /// Each partition in progress, by topic and number.
        reassignments: Vec<Reassignment>,
    },
    /// `create_partitions`' answer: the topic with its new partitions.
    PartitionsCreated {
        /// The topic as it is now.
        topic: TopicDescription,
    },
    /// The topic after the change, with its overrides.
    TopicConfigAltered {
        /// The topic with its new overrides.
        topic: TopicDescription,
    },
    /// The broker's (or the default's) configs after a change, as DescribeConfigs resolves them.
    BrokerConfigAltered {
        /// The broker, or `None` for the cluster-wide default.
        broker: Option<i32>,
        /// Every config with its value and source.
        configs: Vec<BrokerConfigView>,
    },
    /// `open_consumer`'s answer.
    ConsumerOpened {
        /// The consumer's id, by which later commands name it.
        consumer: u32,
    },
    /// What a poll returned, the consumer's assignment, and whether it is in a stable group (or
    /// still joining).
    Polled {
        /// The consumer polled.
        consumer: u32,
        /// The records returned.
        records: Vec<PolledRecord>,
        /// The partitions the consumer owns now.
        assignment: Vec<PartitionRef>,
        /// Whether its group is stable (always, for a consumer assigned its partitions); false
        /// while it is still joining.
        stable: bool,
    },
    /// `commit_offsets`' answer.
    OffsetsCommitted {
        /// The consumer that committed.
        consumer: u32,
        /// The offsets committed, one per partition.
        offsets: Vec<GroupOffset>,
    },
    /// `close_consumer`'s and `crash_consumer`'s answer.
    ConsumerClosed {
        /// The consumer closed.
        consumer: u32,
    },
    /// `list_groups`' answer.
    Groups {
        /// Every group the coordinator knows.
        groups: Vec<GroupListing>,
    },
    /// `describe_group`'s answer, as `kafka-consumer-groups --describe` shows it.
    GroupDescribed {
        /// The group described.
        group: String,
        /// Its state by Kafka's name (`Stable`, `Empty`, …).
        state: String,
        /// The assignor the group chose (e.g. `range`); empty while it has none.
        protocol: String,
        /// Its members and their assignments.
        members: Vec<GroupMemberView>,
        /// One row per partition the group has committed an offset for or a member owns.
        offsets: Vec<GroupOffsetRow>,
    },
    /// The new offsets; `executed: false` for a dry run.
    OffsetsReset {
        /// The group whose offsets were reset.
        group: String,
        /// Whether they were committed; `false` for a dry run.
        executed: bool,
        /// The new offsets, one per partition of the topic.
        offsets: Vec<GroupOffset>,
    },
    /// `delete_group`'s answer.
    GroupDeleted {
        /// The group deleted.
        group: String,
    },
    /// `inspect_kafka`'s answer: the exchanges newer than the one asked after, oldest first.
    KafkaExchanges {
        /// Each request with its response.
        exchanges: Vec<KafkaExchangeView>,
    },
    /// `get_metrics`' answer.
    Metrics(Metrics),
    /// A subscription started; its pushes carry this id (the request's).
    Subscribed {
        /// The subscription's id: the id of the request that made it.
        subscription: u64,
    },
    /// `unsubscribe`'s answer: the subscription's pushes have stopped.
    Unsubscribed {
        /// The subscription stopped.
        subscription: u64,
    },
    /// `describe_metadata_log`'s answer: entries of one controller's metadata log.
    MetadataLogDescribed {
        /// Whose copy (`controller-N`).
        controller: i32,
        /// Where its log starts: everything before is in its latest snapshot (KIP-630).
        log_start_offset: i64,
        /// How far it knows the log is committed.
        high_watermark: i64,
        /// The end of its copy.
        log_end_offset: i64,
        /// The entries asked for, oldest first.
        entries: Vec<MetadataEntryView>,
    },
    /// `describe_cluster`'s answer, and every fault injection's: the cluster as it is then.
    ClusterDescribed {
        /// The cluster's id, as `meta.properties` keeps it (`cluster.id`).
        cluster_id: String,
        /// The broker reported as controller: as in Kafka's DescribeCluster under KRaft, a running
        /// broker, since clients never reach the controller quorum.
        controller: i32,
        /// Every broker and its state.
        brokers: Vec<BrokerView>,
        /// How many partitions the cluster holds, all topics together.
        partitions: usize,
        /// Partitions whose in-sync replicas are fewer than their replicas.
        under_replicated: Vec<PartitionRef>,
        /// Partitions without a leader.
        offline: Vec<PartitionRef>,
        /// Network links cut by `cut_link`, each as its two ends in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cut_links: Vec<[String; 2]>,
        /// Kafka clients connected to the brokers' listeners (`kite serve`; none in the tab).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kafka_clients: Vec<KafkaClientView>,
        /// The KRaft controller quorum (none for a single broker, which is its own controller).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        controllers: Vec<ControllerView>,
        /// The broker configs Kite honours, as the cluster started with them (replicated
        /// clusters, where they act).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        broker_configs: Vec<BrokerConfigView>,
    },
    /// Where the virtual clock is: its time, speed and whether it is paused, and the seed every
    /// random choice of this cluster comes from.
    Clock {
        /// The virtual clock's time, in ms since the Unix epoch.
        now_ms: i64,
        /// Its speed, in percent of real time.
        speed_percent: u32,
        /// Whether it is paused.
        paused: bool,
        /// The seed every random choice of this cluster comes from.
        seed: u64,
    },
    /// A replay's outcome: how many requests and events it went through, and whether the replayed
    /// cluster came out the same (`differences` says where not).
    Replayed {
        /// The seed both clusters were made from.
        seed: u64,
        /// How many requests the replayed cluster was given.
        requests: usize,
        /// How many events the replayed cluster made.
        events: u64,
        /// Whether the replayed cluster came out the same: its events, topics and cluster.
        identical: bool,
        /// Where it did not, one sentence each.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        differences: Vec<String>,
    },
    /// `reset_cluster`'s answer: the cluster and its storage are deleted.
    ClusterReset,
    /// `ping`'s answer: the engine's time.
    Pong {
        /// The engine's time in ms since the Unix epoch: the tab's virtual clock, or the server's
        /// wall clock.
        now_ms: i64,
    },
    /// `share_state`'s answer: the `?state=` parameter.
    StateShared {
        /// The parameter's value, to follow `?state=`.
        parameter: String,
    },
    /// The steps a `continue_scenario` played, the last a reader's pause unless `finished`.
    ScenarioPlayed {
        /// The steps played, in order.
        steps: Vec<StepReport>,
        /// Whether the script has played to its end.
        finished: bool,
    },
    /// `describe_connect`'s and `write_connect_file`'s answer.
    ConnectDescribed(ConnectView),
    /// Kite Connect's answer to `connect`: Kafka Connect's HTTP status and JSON body.
    Connect {
        /// The HTTP status (an error's is its `error_code` too).
        status: u16,
        /// The body; none for 202 and 204.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
    },
    /// `dump_record`'s answer.
    RecordDumped {
        /// The record's topic.
        topic: String,
        /// The record's partition.
        partition: i32,
        /// The batch holding the record, its header field by field.
        batch: crate::record::dump::DumpedBatch,
        /// The record, field by field, with its bytes in hex.
        record: crate::record::dump::DumpedRecord,
    },
    /// `fetch_records`' answer: the batches travel as the binary frame's payload.
    RecordBatches {
        /// The topic read.
        topic: String,
        /// The partition read.
        partition: i32,
        /// The partition's log start offset: the first offset still in its log.
        log_start_offset: i64,
        /// The partition's high watermark: where consumers read up to.
        log_end_offset: i64,
        /// The last stable offset: below it no transaction is open (a read_committed fetch
        /// reads to here).
        #[serde(default)]
        last_stable_offset: i64,
        /// For a read_committed fetch, the aborted transactions among the batches: a consumer
        /// skips each producer's records from `first_offset` to its ABORT marker.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aborted_transactions: Vec<crate::log::producer_state::AbortedTxn>,
        /// The batches as stored, undecoded: the binary frame's payload, not part of the JSON
        /// header.
        #[serde(skip)]
        payload: Vec<u8>,
    },
    /// Any request refused: Kafka's error code and a sentence naming the offending value.
    Error(KafkaError),
}
crate::tag_first!(Reply, "type");

/// What a host sends its client: the welcome, replies, refusals of messages it could not decode,
/// and pushes. On the wire, `type` names it (`{"type": "reply", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
// Tagged "type", read straight when the tag comes first (`tagged`).
pub enum ServerMessage {
    /// The first message on every connection: the engine is ready and says what it is.
    Welcome {
        /// The API's version, [`PROTOCOL_VERSION`].
        protocol_version: u32,
        /// What answers, e.g. `kite serve 0.1.0 (native)`.
        engine: String,
    },
    /// The answer to the client message with the same `id`.
    Reply {
        /// The request's id.
        id: u64,
        /// The answer.
        reply: Reply,
    },
    /// A client message that could not be decoded, and why. Nothing was changed.
    Invalid {
        /// Why it could not be decoded.
        message: String,
    },
    /// Something a subscription (the request with id `subscription`) pushes.
    Push {
        /// The id of the request that subscribed.
        subscription: u64,
        /// What is pushed.
        push: Push,
    },
}
crate::tag_first!(ServerMessage, "type");

/// Why a text could not be decoded into a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The message is larger than the engine decodes ([`MAX_API_MESSAGE_BYTES`]).
    TooLarge {
        /// The message's size, in bytes.
        len_bytes: usize,
        /// The most bytes a message may have.
        max_bytes: usize,
    },
    /// Not a message: not JSON, an unknown `type`, a missing or unknown field, or a bad binary
    /// frame.
    Malformed {
        /// What was wrong, as the decoder found it.
        reason: String,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooLarge { len_bytes, max_bytes } => {
                write!(f, "message of {len_bytes} bytes exceeds the limit of {max_bytes} bytes")
            }
            DecodeError::Malformed { reason } => write!(f, "malformed message: {reason}"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, DecodeError> {
    if text.len() > MAX_API_MESSAGE_BYTES {
        return Err(DecodeError::TooLarge { len_bytes: text.len(), max_bytes: MAX_API_MESSAGE_BYTES });
    }
    crate::tagged::from_json(text).map_err(|e| DecodeError::Malformed { reason: e.to_string() })
}

/// A client's JSON text as its message; text over [`MAX_API_MESSAGE_BYTES`] is refused unread.
pub fn decode_client_message(text: &str) -> Result<ClientMessage, DecodeError> {
    decode(text)
}

/// A host's JSON text as its message (what a client reads); text over [`MAX_API_MESSAGE_BYTES`]
/// is refused unread.
pub fn decode_server_message(text: &str) -> Result<ServerMessage, DecodeError> {
    decode(text)
}

/// JSON text of any API message. The API types have only string map keys and no custom
/// serializers, so encoding cannot fail.
pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).expect("API messages always serialize to JSON")
}

/// A binary frame starts with these bytes…
pub const BINARY_FRAME_MAGIC: [u8; 2] = *b"KB";
/// …then this version byte, a big-endian u32 header length, the header (a `ClientMessage` or
/// `ServerMessage` as JSON text) and the payload (Kafka record batches), to the frame's end.
pub const BINARY_FRAME_VERSION: u8 = 1;
const BINARY_FRAME_PREFIX_BYTES: usize = 7;

/// What travels in either direction: JSON text, or a binary frame carrying record bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A message as JSON text.
    Text(String),
    /// A binary frame: `KB`, a version byte, a JSON header and record batches
    /// ([`encode_binary_frame`]).
    Binary(Vec<u8>),
}

/// A binary frame: `header` (JSON) and the record bytes after it.
pub fn encode_binary_frame(header: &str, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(BINARY_FRAME_PREFIX_BYTES + header.len() + payload.len());
    frame.extend_from_slice(&BINARY_FRAME_MAGIC);
    frame.push(BINARY_FRAME_VERSION);
    frame.extend_from_slice(&u32::try_from(header.len()).unwrap_or(u32::MAX).to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Splits a binary frame into its header text and payload, checking the magic, the version and
/// the lengths (frames over `MAX_API_MESSAGE_BYTES` are refused before anything is read).
pub fn decode_binary_frame(frame: &[u8]) -> Result<(&str, &[u8]), DecodeError> {
    let malformed = |reason: &str| DecodeError::Malformed { reason: reason.to_string() };
    if frame.len() > MAX_API_MESSAGE_BYTES {
        return Err(DecodeError::TooLarge { len_bytes: frame.len(), max_bytes: MAX_API_MESSAGE_BYTES });
    }
    if frame.len() < BINARY_FRAME_PREFIX_BYTES || frame[..2] != BINARY_FRAME_MAGIC {
        return Err(malformed("a binary frame starts with \"KB\", a version byte and a header length"));
    }
    if frame[2] != BINARY_FRAME_VERSION {
        return Err(malformed(&format!(
            "binary frame version {} (this engine reads {BINARY_FRAME_VERSION})",
            frame[2]
        )));
    }
    let header_len = u32::from_be_bytes([frame[3], frame[4], frame[5], frame[6]]) as usize;
    let rest = &frame[BINARY_FRAME_PREFIX_BYTES..];
    if header_len > rest.len() {
        return Err(malformed(&format!(
            "the header length {header_len} runs past the frame's {} bytes",
            rest.len()
        )));
    }
    let header =
        std::str::from_utf8(&rest[..header_len]).map_err(|_| malformed("the header is not UTF-8"))?;
    Ok((header, &rest[header_len..]))
}

/// A client frame into its message; a binary frame's payload goes to `produce_records`.
pub fn decode_client_frame(incoming: &Frame) -> Result<ClientMessage, DecodeError> {
    match incoming {
        Frame::Text(text) => decode_client_message(text),
        Frame::Binary(bytes) => decode_binary_frame(bytes).and_then(|(header, payload)| {
            let mut message = decode_client_message(header)?;
            match &mut message.command {
                Request::Engine(Command::ProduceRecords { payload: records, .. }) => {
                    records.extend_from_slice(payload)
                }
                _ if payload.is_empty() => {}
                _ => {
                    return Err(DecodeError::Malformed {
                        reason: "only produce_records carries a binary payload".into(),
                    });
                }
            }
            Ok(message)
        }),
    }
}

/// A reply as the frame it travels in.
pub fn reply_frame(id: u64, mut reply: Reply) -> Frame {
    match &mut reply {
        Reply::RecordBatches { payload, .. } => {
            let payload = std::mem::take(payload);
            Frame::Binary(encode_binary_frame(&encode(&ServerMessage::Reply { id, reply }), &payload))
        }
        _ => Frame::Text(encode(&ServerMessage::Reply { id, reply })),
    }
}

/// A server frame back into its message, with the records of a binary one.
pub fn decode_server_frame(frame: &Frame) -> Result<ServerMessage, DecodeError> {
    match frame {
        Frame::Text(text) => decode_server_message(text),
        Frame::Binary(bytes) => {
            let (header, payload) = decode_binary_frame(bytes)?;
            let mut message = decode_server_message(header)?;
            if let ServerMessage::Reply { reply: Reply::RecordBatches { payload: records, .. }, .. } =
                &mut message
            {
                records.extend_from_slice(payload);
            }
            Ok(message)
        }
    }
}

/// A reply as JSON text, for a host that carries text only: a reply that would travel in a
/// binary frame (`record_batches`) is refused by name instead.
pub fn reply_text(id: u64, reply: Reply) -> String {
    match reply_frame(id, reply) {
        Frame::Text(answer) => answer,
        Frame::Binary(_) => {
            let refusal = crate::error::KafkaError::new(
                crate::error::ErrorCode::InvalidRequest,
                "fetch_records answers in a binary frame, which this host does not carry; use fetch.",
            );
            encode(&ServerMessage::Reply { id, reply: Reply::Error(refusal) })
        }
    }
}

/// The welcome a host sends first, naming itself (e.g. "kite serve 0.1.0").
pub fn welcome_text(engine: &str) -> String {
    encode(&ServerMessage::Welcome { protocol_version: PROTOCOL_VERSION, engine: engine.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;
    use crate::host::{serve_frame, serve_text};

    /// A `produce_batch` of `records` to topic `t`, placed by the default partitioner.
    fn batch_to_t(records: Vec<BatchedRecord>, acks: Acks, answer_per_partition: bool) -> Command {
        Command::ProduceBatch {
            topic: "t".into(),
            partition: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            records,
            acks,
            answer_per_partition,
        }
    }

    /// Topics of 1,000 partitions can be created until the cluster would hold more than
    /// MAX_PARTITIONS_PER_CLUSTER partitions, then POLICY_VIOLATION; nothing of the refused one stays.
    #[test]
    fn the_cluster_holds_a_bounded_number_of_partitions() {
        let mut cluster = Cluster::new(1);
        let create = |name: &str| Command::CreateTopic {
            name: name.into(),
            partitions: 1_000,
            configs: BTreeMap::new(),
            replication_factor: None,
        };
        for name in ["a", "b", "c", "d"] {
            let created = cluster.handle(0, create(name));
            assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
        }
        let Reply::Error(error) = cluster.handle(0, create("e")) else { panic!("a fifth topic of 1,000") };
        assert_eq!(error.error, crate::error::ErrorCode::PolicyViolation);
        assert_eq!(
            error.message,
            "The cluster holds 4000 partitions; 1000 more would pass Kite's limit of 4000."
        );
        let Reply::Topics { topics, .. } = cluster.handle(0, Command::ListTopics) else { panic!() };
        assert_eq!(topics.len(), 4, "{topics:?}");
    }

    /// 4 MB of empty records: the reader keeps one more than the limit (for the engine to
    /// refuse) and skips the rest, instead of building 1.4 million of them first.
    #[test]
    fn a_produce_batch_past_the_limit_is_read_without_keeping_every_record() {
        let empties = vec!["{}"; 1_390_000].join(",");
        let text =
            format!(r#"{{"id":1,"command":{{"type":"produce_batch","topic":"t","records":[{empties}]}}}}"#);
        assert!(text.len() <= MAX_API_MESSAGE_BYTES);
        let ClientMessage { command: Request::Engine(Command::ProduceBatch { records, .. }), .. } =
            decode_client_message(&text).unwrap()
        else {
            panic!("not a produce_batch")
        };
        assert_eq!(records.len(), MAX_PRODUCE_BATCH_RECORDS + 1);
        let mut cluster = Cluster::new(1);
        cluster.handle(
            0,
            Command::CreateTopic {
                name: "t".into(),
                partitions: 1,
                configs: BTreeMap::new(),
                replication_factor: None,
            },
        );
        let Reply::Error(error) = cluster.handle(0, batch_to_t(records, Acks::Leader, false)) else {
            panic!("accepted")
        };
        assert_eq!(error.message, "A produce_batch carries 1 to 10000 records, not more.");
    }

    #[test]
    fn commands_have_a_readable_wire_form() {
        let text = r#"{"id":7,"command":{"type":"produce","topic":"orders","key":"21","value":"hi"}}"#;
        let message = decode_client_message(text).unwrap();
        assert_eq!(
            message,
            ClientMessage {
                id: 7,
                command: Command::Produce {
                    acks: Default::default(),
                    topic: "orders".into(),
                    partition: None,
                    key: Some("21".into()),
                    value: Some("hi".into()),
                    timestamp_ms: None,
                    partitioner: PartitionerKind::Default,
                    key_serializer: SerializerKind::String,
                    value_serializer: SerializerKind::String,
                    headers: vec![],
                    producer: None,
                }
                .into(),
            }
        );
    }

    #[test]
    fn a_throttle_for_moves_sets_the_rates_on_every_broker_touched_and_each_topics_lists() {
        let now = [0, 1, 2];
        let commands =
            Command::throttle_moves([("t", 0, &now[..], &[3, 1, 2][..]), ("t", 1, &now[..], &now[..])], 500);
        let brokers: Vec<Option<i32>> = commands
            .iter()
            .filter_map(|c| match c {
                Command::AlterBrokerConfig { broker, set, .. } if set.values().all(|v| v == "500") => {
                    Some(*broker)
                }
                _ => None,
            })
            .collect();
        assert_eq!(brokers, [Some(0), Some(1), Some(2), Some(3)]);
        let Some(Command::AlterTopicConfig { name, set, .. }) = commands.last() else {
            panic!("{commands:?}")
        };
        assert_eq!(name, "t");
        assert_eq!(set["leader.replication.throttled.replicas"], "0:0,0:1,0:2,1:0,1:1,1:2");
        assert_eq!(set["follower.replication.throttled.replicas"], "0:3");
    }

    #[test]
    fn an_unknown_command_is_named_as_in_the_api_doc() {
        let mut cluster = Cluster::new(0);
        let answer = serve_text(&mut cluster, 0, r#"{"id":1,"command":{"type":"nope"}}"#);
        // docs/websocket-api.md quotes this answer.
        assert_eq!(
            answer,
            r#"{"type":"invalid","message":"malformed message: unknown variant `nope`, expected one of `create_topic`, `list_topics`, `produce`, `init_producer_id`, `init_transactions`, `end_transaction`, `send_offsets_to_transaction`, `describe_transactions`, `fetch`, `register_schema`, `produce_batch`, `list_offsets`, `delete_records`, `create_partitions`, `delete_topic`, `alter_topic_config`, `alter_broker_config`, `open_consumer`, `poll`, `commit_offsets`, `close_consumer`, `crash_consumer`, `list_groups`, `describe_group`, `reset_offsets`, `delete_group`, `describe_cluster`, `describe_metadata_log`, `alter_partition_reassignments`, `list_partition_reassignments`, `elect_leaders`, `add_broker`, `remove_broker`, `stop_broker`, `start_broker`, `stop_controller`, `start_controller`, `pause_controller`, `resume_controller`, `isolate_controller`, `heal_controller`, `pause_broker`, `resume_broker`, `isolate_broker`, `heal_broker`, `cut_link`, `heal_link`, `get_metrics`, `describe_connect`, `write_connect_file`, `connect`, `inspect_kafka`, `produce_records`, `dump_record`, `fetch_records`, `subscribe_events`, `tail`, `unsubscribe`, `ping`, `set_clock`, `replay`, `reset_cluster`, `share_state`, `continue_scenario` at line 1 column 33"}"#
        );
    }

    /// Asked per partition, a `produce_batch` answers as Kafka's ProduceResponse: expanded, the
    /// same partitions, offsets and timestamps the record-by-record answer gives, under CreateTime
    /// and under LogAppendTime (the broker's clock).
    #[test]
    fn a_batch_answered_per_partition_says_what_the_record_by_record_answer_says() {
        for timestamp_type in ["CreateTime", "LogAppendTime"] {
            let answers: Vec<Reply> = [false, true]
                .into_iter()
                .map(|answer_per_partition| {
                    let mut cluster = Cluster::new(0);
                    let configs =
                        BTreeMap::from([("message.timestamp.type".to_string(), timestamp_type.to_string())]);
                    cluster.handle(
                        0,
                        Command::CreateTopic {
                            name: "t".into(),
                            partitions: 3,
                            configs,
                            replication_factor: None,
                        },
                    );
                    let records = ["a", "b", "a", "c", "d", "a"]
                        .iter()
                        .map(|key| BatchedRecord {
                            key: Some(key.to_string()),
                            value: Some("v".into()),
                            timestamp_ms: Some(1_000),
                            ..BatchedRecord::default()
                        })
                        .collect();
                    let command = batch_to_t(records, Acks::All, answer_per_partition);
                    // Twice, so the offsets do not all start at 0.
                    cluster.handle(5_000, command.clone());
                    cluster.handle(7_000, command)
                })
                .collect();
            let [Reply::ProducedBatch { records, .. }, Reply::ProducedRecords { partitions, batches, .. }] =
                answers.as_slice()
            else {
                panic!("{answers:?}")
            };
            assert_eq!(
                &ProducedPartition::expand(partitions, batches, &[1_000; 6]),
                records,
                "{timestamp_type}"
            );
            assert!(records.iter().any(|r| r.offset > 0));
        }
    }

    #[test]
    fn record_bytes_travel_in_binary_frames() {
        use crate::record::batch::{BatchRecord, RecordBatch};
        let mut cluster = Cluster::new(0);
        let create = r#"{"id":1,"command":{"type":"create_topic","name":"t","partitions":3}}"#;
        serve_text(&mut cluster, 0, create);
        // A producer's batch of keyed records; the engine places them with murmur2
        // (kafka-reference.md §3: "foobar" → partition 0 of 3).
        let records = ["foobar", "foobar"]
            .iter()
            .zip(0..)
            .map(|(key, delta)| BatchRecord {
                offset_delta: delta,
                key: Some(key.as_bytes().to_vec()),
                value: Some(b"v".to_vec()),
                ..BatchRecord::default()
            })
            .collect();
        let batch = RecordBatch::new(1_000, records).encode().unwrap();
        let header = r#"{"id":2,"command":{"type":"produce_records","topic":"t"}}"#;
        let answer = serve_frame(&mut cluster, 5, &Frame::Binary(encode_binary_frame(header, &batch)));
        let Frame::Text(text) = answer else { panic!("a produce is answered in text") };
        let ServerMessage::Reply { reply: Reply::ProducedRecords { partitions, batches, .. }, .. } =
            decode_server_message(&text).unwrap()
        else {
            panic!("{text}")
        };
        let records = ProducedPartition::expand(&partitions, &batches, &[1_000, 1_000]);
        assert_eq!(
            records.iter().map(|r| (r.partition, r.offset, r.timestamp_ms)).collect::<Vec<_>>(),
            [(0, 0, 1_000), (0, 1, 1_000)]
        );
        // Fetched back as the stored batch bytes, in a binary frame.
        let fetch = r#"{"id":3,"command":{"type":"fetch_records","topic":"t","partition":0,"offset":1}}"#;
        let answer = serve_frame(&mut cluster, 6, &Frame::Text(fetch.into()));
        assert!(matches!(answer, Frame::Binary(_)));
        let ServerMessage::Reply { id: 3, reply: Reply::RecordBatches { payload, log_end_offset: 2, .. } } =
            decode_server_frame(&answer).unwrap()
        else {
            panic!("{answer:?}")
        };
        let (stored, _) = RecordBatch::decode(&payload).unwrap();
        assert_eq!(
            (stored.base_offset, stored.records.len()),
            (0, 2),
            "whole batches, from the one holding offset 1"
        );
        // A text-only host refuses to answer fetch_records in text.
        assert!(serve_text(&mut cluster, 7, fetch).contains("binary frame"));
        // produce_records needs its payload; garbage payloads and frames are named errors.
        let bare = r#"{"id":4,"command":{"type":"produce_records","topic":"t"}}"#;
        assert!(serve_text(&mut cluster, 8, bare).contains("INVALID_REQUEST"));
        let garbage = serve_frame(&mut cluster, 9, &Frame::Binary(encode_binary_frame(header, b"\x00\x01")));
        assert!(matches!(&garbage, Frame::Text(t) if t.contains("CORRUPT_MESSAGE")), "{garbage:?}");
        for (bad, why) in [
            (b"XX\x01\x00\x00\x00\x00".to_vec(), "starts with"),
            (b"KB\x09\x00\x00\x00\x00".to_vec(), "version 9"),
            (b"KB\x01\x00\x00\x01\x00{}".to_vec(), "runs past"),
        ] {
            let answer = serve_frame(&mut cluster, 10, &Frame::Binary(bad));
            assert!(
                matches!(&answer, Frame::Text(t) if t.contains("invalid") && t.contains(why)),
                "{answer:?}"
            );
        }
        // A timestamp that overflows is refused by name, not wrapped.
        let record = BatchRecord { timestamp_delta: 1, value: Some(b"v".to_vec()), ..BatchRecord::default() };
        let overflowing = RecordBatch::new(i64::MAX, vec![record]).encode().unwrap();
        let answer = serve_frame(&mut cluster, 12, &Frame::Binary(encode_binary_frame(header, &overflowing)));
        assert!(matches!(&answer, Frame::Text(t) if t.contains("timestamp overflows")), "{answer:?}");
        let wrong = encode_binary_frame(r#"{"id":5,"command":{"type":"list_topics"}}"#, b"x");
        assert!(
            matches!(serve_frame(&mut cluster, 11, &Frame::Binary(wrong)), Frame::Text(t) if t.contains("only produce_records"))
        );
    }

    #[test]
    fn undecodable_text_is_answered_not_panicked_on() {
        let mut cluster = Cluster::new(0);
        for bad in ["", "{", "null", r#"{"id":1}"#, r#"{"id":1,"command":{"type":"nope"}}"#, "\u{0}"] {
            let answer = decode_server_message(&serve_text(&mut cluster, 0, bad)).unwrap();
            assert!(matches!(answer, ServerMessage::Invalid { .. }), "{bad:?} gave {answer:?}");
        }
        let huge = "x".repeat(MAX_API_MESSAGE_BYTES + 1);
        let answer = decode_server_message(&serve_text(&mut cluster, 0, &huge)).unwrap();
        assert_eq!(
            answer,
            ServerMessage::Invalid {
                message: format!(
                    "message of {} bytes exceeds the limit of {MAX_API_MESSAGE_BYTES} bytes",
                    MAX_API_MESSAGE_BYTES + 1
                )
            }
        );
    }
}
