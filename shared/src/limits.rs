//! Every bound the engine enforces, in one place, each with its unit in its name.
//!
//! A limit exists so that no input — a command from a browser tab, a websocket frame from anywhere —
//! can make the engine allocate or loop without bound. Kafka's own limits are used where Kafka has one.

/// Kafka's maximum topic name length (`Topic.MAX_NAME_LENGTH`).
pub const MAX_TOPIC_NAME_LEN_CHARS: usize = 249;

/// Partitions one topic may have. Kafka has no hard cap; Kite runs in a browser tab, so it keeps
/// one small enough that the partition view stays usable.
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 1_000;

/// The most brokers one cluster runs, removed ones counted (their ids are not given again):
/// each is a directory, a set of logs and, on the server, a Kafka listener's port.
pub const MAX_BROKERS_PER_CLUSTER: usize = 16;

/// Partitions one cluster may hold, all topics together (internal ones included). Each partition
/// is a log per replica, each log open files per segment: without a cap, topics of 1,000
/// partitions could be created until the process ran out of file descriptors, and then a segment
/// roll failed and took a partition offline. Kafka's own guidance is a few thousand partitions a
/// broker.
pub const MAX_PARTITIONS_PER_CLUSTER: i64 = 4_000;

/// Replica logs a host that paces creations (`Cluster::pace_creations`: `kite serve`) creates
/// in one engine turn; a wider topic's others come in the turns after, between other clients'
/// requests. Each costs a directory, files and a few fsyncs (about 0.8 ms on the disk
/// docs/benchmarks.md measures), so a turn of these stays within about 0.3 s, where making a
/// 1,000-partition topic's 3,000 at once held every client for 2–3 s. Above `__consumer_offsets`' 150
/// (50 partitions, three replicas), which the group coordinator uses as soon as it is created.
pub const MAX_REPLICA_LOGS_CREATED_PER_TURN: usize = 256;

/// Topics one cluster may hold.
pub const MAX_TOPICS_PER_CLUSTER: usize = 10_000;

/// Kafka's default `max.message.bytes` (1 MiB + record batch overhead). Topics may set their own
/// limit; this one sizes the API's message bound below.
pub const MAX_RECORD_BYTES: usize = 1_048_588;

/// Records one fetch returns at most.
pub const MAX_FETCH_RECORDS: u32 = 10_000;

/// Bytes one partition's log may hold in memory (retention usually keeps it far smaller). Past it,
/// produce is refused rather than let one partition exhaust a browser tab.
pub const MAX_PARTITION_BYTES_IN_MEMORY: usize = 256 * 1024 * 1024;

/// The most bytes of batches one fetch reads from a log before decoding them for a client.
pub const MAX_FETCH_BYTES: usize = 4 * 1024 * 1024;

/// A fetch reads the log this much at a time (at least one whole batch), stopping once it has
/// `max_records`: small fetches read little.
pub const FETCH_READ_CHUNK_BYTES: usize = 64 * 1024;

/// The largest API message (one JSON text) the engine decodes. Room for one maximal record encoded
/// as a JSON string (which can double its size by escaping), plus the envelope.
pub const MAX_API_MESSAGE_BYTES: usize = 4 * MAX_RECORD_BYTES;

/// The largest RecordBatch the decoder accepts, header included. Kafka's brokers accept batches up
/// to `message.max.bytes` (1 MiB by default, configurable); 16 MiB leaves room for raised configs.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes one compressed batch may expand to. Bounds what a small, highly compressed
/// ("zip bomb") batch can make the decoder allocate.
pub const MAX_DECOMPRESSED_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Schemas one in-cluster schema registry holds.
pub const MAX_SCHEMAS_PER_REGISTRY: usize = 10_000;

/// The longest schema text the registry parses.
pub const MAX_SCHEMA_TEXT_BYTES: usize = 64 * 1024;

/// The most records one `produce_batch` request may carry.
pub const MAX_PRODUCE_BATCH_RECORDS: usize = 10_000;

/// How deep an Avro datum may nest, counting each record, array, map and union as one level.
/// apache-avro decodes (and converts to JSON, and drops) a datum by recursion with no limit of its
/// own, so a datum of a recursive schema nested 50,000 deep — 100 KB of bytes — overflowed the
/// stack and aborted the process, again at every restart, since the record stays stored. JSON
/// text is read with serde_json's limit of 128 nested arrays and objects; this one keeps every
/// datum Kite accepts well inside what the decoder's frames need on a 1 MiB stack.
pub const MAX_AVRO_DATUM_DEPTH_LEVELS: usize = 128;

/// The most values (of any type, nested ones included) one Avro datum may decode to. A value can
/// take no bytes at all (a `null`, an empty record), so a 5-byte array header can claim a billion
/// of them; this bounds the memory and time one datum can cost, at one value per byte of a
/// maximal record.
pub const MAX_AVRO_DATUM_VALUES: usize = MAX_RECORD_BYTES;

/// Subscriptions (event streams, live tails) one client connection may hold.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 64;

/// Consumers one client connection may run in the engine: the engine runs at most
/// `MAX_HOSTED_CONSUMERS` (1,000) for everyone, and one client must not take them all.
pub const MAX_CONSUMERS_PER_CONNECTION: usize = 32;

/// Bytes of pushes one batch of the engine's events may make for one connection: 64 tails of
/// one partition turned a 1,000-record produce into ~16 MB of pushes per connection (212 MB for
/// 20 of them).
pub const MAX_PUSH_BYTES_PER_EVENT_BATCH: usize = 4 * 1024 * 1024;

/// Events one events subscription is pushed per second of the engine's clock. A produce to a
/// 500-partition topic makes ~500 high-watermark events per batch, thousands a second: decoding
/// them cost the page more than 300 ms at a time (docs/benchmarks.md), and no reader follows that
/// many (the UI's timeline keeps 500). Past the cap an event is counted, not pushed, and one
/// `skipped` push per batch of events says how many.
pub const MAX_EVENTS_PUSHED_PER_SECOND: u32 = 500;

/// Records one live-tail push carries at most.
pub const TAIL_PUSH_RECORDS: u32 = 1_000;

/// Pushes one batch of events may send a tail, to catch up after a large produce.
pub const MAX_TAIL_FETCHES_PER_PUSH: usize = 16;

/// The largest Kafka request a listener reads, size prefix excluded (Kafka's
/// `socket.request.max.bytes` is 100 MiB; a producer's `max.request.size` is 1 MiB by default).
/// A larger size prefix closes the connection before anything is read.
pub const MAX_KAFKA_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The most bytes a Kafka connection holds unanswered: a whole largest request, and as much
/// again behind it. Kafka stops reading a connection while a request of it waits; a client that
/// sends more anyway is closed.
pub const MAX_KAFKA_INBOX_BYTES: usize = 2 * (MAX_KAFKA_REQUEST_BYTES + 4);

/// The most partitions one DeleteRecords request may name: each is a turn of the engine (the
/// leader, then every follower's fetch), and a cluster has at most `MAX_PARTITIONS_PER_CLUSTER`
/// partitions, so a request naming more names some twice; those past it are INVALID_REQUEST.
pub const MAX_DELETE_RECORDS_PARTITIONS_PER_REQUEST: usize = MAX_PARTITIONS_PER_CLUSTER as usize;

/// The most partitions one AlterPartitionReassignments may move, or one ElectLeaders elect (the
/// websocket's and the Kafka listener's alike): a cluster has at most `MAX_PARTITIONS_PER_CLUSTER`, so a request naming
/// more names some twice, and is refused whole with POLICY_VIOLATION.
pub const MAX_REASSIGNMENTS_PER_REQUEST: usize = MAX_PARTITIONS_PER_CLUSTER as usize;

/// The most partitions one WriteTxnMarkers request may write markers to (summed over its
/// markers): each is an append under acks=all; those past it are INVALID_REQUEST, as for
/// DeleteRecords.
pub const MAX_TXN_MARKER_PARTITIONS_PER_REQUEST: usize = MAX_PARTITIONS_PER_CLUSTER as usize;

/// The longest a Kafka fetch waits for `min_bytes` (its `max_wait_ms` is cut to this; clients
/// ask for 500 by default).
pub const MAX_KAFKA_FETCH_WAIT_MS: i32 = 30_000;

/// Kafka connections that talk to the group coordinator at once (each runs its own consumer, as
/// a real client does, and may wait on a rebalance); more get COORDINATOR_NOT_AVAILABLE.
pub const MAX_GROUP_CLIENTS: usize = 10_000;

/// Requests (each with its response) the protocol inspector keeps, the newest; older ones go.
pub const MAX_INSPECTED_EXCHANGES: usize = 200;

/// Bytes of one request or response frame the protocol inspector keeps (its size prefix
/// included). A larger frame keeps its first bytes: its header still decodes, its body is
/// reported as not kept. With [`MAX_INSPECTED_EXCHANGES`], at most about 12.5 MiB.
pub const MAX_INSPECTED_FRAME_BYTES: usize = 32 * 1024;

/// Exchanges one `inspect_kafka` answers with, the newest (each decoded, so the answer stays
/// a few hundred KiB at most).
pub const MAX_INSPECTED_EXCHANGES_PER_REPLY: usize = 25;

/// Bytes of a frame the inspector shows in hex.
pub const MAX_INSPECTED_HEX_BYTES: usize = 1024;

/// How many record batches of one frame the protocol inspector maps field by field to their
/// bytes (a fetch response holds up to megabytes of them; a learner reads the first few).
pub const MAX_INSPECTED_BATCHES_PER_FRAME: usize = 4;

/// Characters of a decoded body the inspector shows (a fetch response's records are long).
pub const MAX_INSPECTED_BODY_CHARS: usize = 8 * 1024;

/// Producer ids and consumer groups `describe_cluster` lists for one Kafka connection (the
/// newest; a client asking InitProducerId in a loop does not grow the listing).
pub const MAX_LISTED_PER_KAFKA_CLIENT: usize = 16;

/// Kafka connections `describe_cluster` lists at once; more are served but not listed.
pub const MAX_LISTED_KAFKA_CLIENTS: usize = 1_024;

/// Connectors one Kite Connect worker runs (each sink task is a consumer the engine runs).
pub const MAX_CONNECTORS: usize = 32;

/// A connector's `tasks.max` at most.
pub const MAX_CONNECTOR_TASKS: usize = 8;

/// A connector's config, every key and value together, in bytes (Kafka's configs are a few
/// hundred bytes; this is what a POST or a `connect-configs` record may carry).
pub const MAX_CONNECTOR_CONFIG_BYTES: usize = 64 * 1024;

/// A connector's name, in characters.
pub const MAX_CONNECTOR_NAME_CHARS: usize = 200;

/// A file connector's `file` path, in characters.
pub const MAX_CONNECT_PATH_CHARS: usize = 255;

/// The most a file a sink writes (or a reader uploads) may hold, in bytes: a sink stops there,
/// failed, rather than fill the disk or the tab's memory.
pub const MAX_CONNECT_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// The most a connect file kept in memory (the tab's, a scenario's, the simulator's) may hold, in
/// bytes: a datagen source into a file sink left running fills a tab's memory otherwise.
pub const MAX_MEMORY_CONNECT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes a source task reads from its file in one poll; also the longest line it can cut (a
/// longer one fails the task, by name).
pub const MAX_SOURCE_READ_BYTES: usize = 512 * 1024;

/// A source's `batch.size` at most: the lines one poll produces.
pub const MAX_SOURCE_BATCH_RECORDS: usize = MAX_PRODUCE_BATCH_RECORDS;

/// Records of one internal topic (`connect-configs`, `connect-offsets`) a starting worker reads
/// back; past them it reads no more and says so (compaction keeps them far smaller).
pub const MAX_CONNECT_RESTORE_RECORDS: usize = 100_000;

/// Datagen's `max.interval` at most, in ms (an hour).
pub const MAX_DATAGEN_INTERVAL_MS: usize = 3_600_000;

/// Single message transforms one connector chains.
pub const MAX_TRANSFORMS: usize = 16;

/// A transform's or predicate's regular expression, in characters (RegexRouter,
/// TopicNameMatches); `regex-lite` matches in time linear in the name, whatever the pattern.
pub const MAX_CONNECT_REGEX_CHARS: usize = 1_000;

/// A compiled transform or predicate regex at most, in bytes: `a{5}{5}{5}{5}{5}{5}` is short and
/// compiles to 15,625 states; past this it is refused (`regex-lite`'s advice for untrusted
/// patterns), and a match's time is bounded by it times the topic name's length.
pub const MAX_CONNECT_REGEX_COMPILED_BYTES: usize = 256 * 1024;

/// The most of a connect file `describe_connect` shows, in bytes (its end).
pub const MAX_CONNECT_FILE_SHOWN_BYTES: usize = 64 * 1024;

/// Columns a JDBC sink's table may have: a record with more fields is refused by name (SQLite's
/// own default limit is 2,000; a JSON value with thousands of fields is not a row).
pub const MAX_CONNECT_TABLE_COLUMNS: usize = 256;

/// Rows one table kept in memory (the tab's, a scenario's, the simulator's) may hold: a datagen
/// source into a JDBC sink left running fills a tab's memory otherwise.
pub const MAX_MEMORY_TABLE_ROWS: usize = 200_000;

/// Rows of each table `describe_connect` shows (the first by key).
pub const MAX_CONNECT_TABLE_ROWS_SHOWN: usize = 50;

/// Tables of one database `describe_connect` shows.
pub const MAX_CONNECT_TABLES_SHOWN: usize = 16;

/// Schema registry subjects `describe_connect` shows (the AvroConverter connectors' topics').
pub const MAX_CONNECT_SCHEMAS_SHOWN: usize = 16;
