//! The Kafka-style command-line tools, talking to a running `kite serve` over its websocket API:
//! `kite topics` (like kafka-topics), `kite produce` (like kafka-console-producer) and
//! `kite consume` (like kafka-console-consumer, with `--group` as a group member); `kite groups`
//! (like kafka-consumer-groups) is in `groups_cli`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use kite_backend::client::ApiClient;
use kite_shared::api::{
    BatchedRecord, Command, HostCommand, IsolationLevel, ProducedRecord, Push, RecordView, Reply,
    TopicDescription,
};
use kite_shared::config::Acks;
use kite_shared::limits::MAX_EVENTS_PUSHED_PER_SECOND;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::serializer::SerializerKind;
use kite_shared::serializer::serialize_record;

/// Where the tools connect unless `--server` says otherwise.
pub(crate) const DEFAULT_SERVER: &str = "ws://127.0.0.1:8080/ws";
/// Records `kite produce` sends per request when reading a file or a pipe.
const PRODUCE_CHUNK_RECORDS: usize = 1_000;
/// How long a consumer waits between polls that found nothing.
const CONSUME_POLL_INTERVAL_MS: u64 = 200;
/// Records one consumer poll asks for per partition.
const CONSUME_BATCH_RECORDS: u32 = 500;

#[derive(clap::Args)]
pub(crate) struct ServerArg {
    /// The `kite serve` websocket to talk to.
    #[arg(long, global = true, default_value = DEFAULT_SERVER)]
    pub server: String,
}

#[derive(clap::Subcommand)]
pub(crate) enum TopicsCommand {
    /// Create a topic.
    Create {
        name: String,
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        #[arg(long)]
        replication_factor: Option<i16>,
        /// A topic config override, `name=value` (repeatable).
        #[arg(long = "config", value_name = "NAME=VALUE")]
        configs: Vec<String>,
    },
    /// List topic names.
    List,
    /// Describe topics (all, or one) with their partitions, like kafka-topics --describe.
    Describe { name: Option<String> },
    /// Delete a topic and its logs.
    Delete { name: String },
    /// Add partitions to a topic, like kafka-topics --alter --partitions (a key's new records
    /// may then land in another partition).
    Alter {
        name: String,
        /// The topic's partition count after the change (more than it has).
        #[arg(long)]
        partitions: i32,
    },
    /// Change a topic's configs, like kafka-configs --alter.
    AlterConfig {
        name: String,
        /// `name=value` to set (repeatable).
        #[arg(long = "add-config", value_name = "NAME=VALUE")]
        add: Vec<String>,
        /// A config name to return to its default (repeatable).
        #[arg(long = "delete-config", value_name = "NAME")]
        delete: Vec<String>,
    },
}

/// kafka-leader-election's `--election-type`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum ElectionArg {
    Preferred,
    Unclean,
}

#[derive(clap::Subcommand)]
pub(crate) enum ClusterCommand {
    /// Elect partitions' leaders, like kafka-leader-election: `preferred` moves leadership to
    /// each partition's first replica when it is in sync; `unclean` gives a partition without a
    /// leader its first live replica, in sync or not (records may be lost).
    ElectLeaders {
        #[arg(long, value_enum)]
        election_type: ElectionArg,
        /// The topic (with --partition: one of its partitions; alone: all of them).
        #[arg(long)]
        topic: Option<String>,
        #[arg(long, requires = "topic")]
        partition: Option<i32>,
        /// Every partition of every topic.
        #[arg(long, conflicts_with = "topic")]
        all_topic_partitions: bool,
    },
    /// Add a broker to the running cluster: it gets the next id, registers with the
    /// controller and holds nothing until partitions move to it (kite partitions reassign).
    AddBroker {
        /// Its `broker.rack` (new replicas then spread over racks, as with `kite serve --racks`).
        #[arg(long, value_name = "RACK")]
        rack: Option<String>,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Change a broker's dynamic configs, like kafka-configs --entity-type brokers --alter:
    /// `leader.replication.throttled.rate` and `follower.replication.throttled.rate` (bytes/s),
    /// on one broker or (--entity-default) as every broker's default.
    AlterConfig {
        /// The broker whose configs change.
        #[arg(long, conflicts_with = "entity_default", required_unless_present = "entity_default")]
        broker: Option<i32>,
        /// Every broker's default instead of one broker's.
        #[arg(long)]
        entity_default: bool,
        /// `name=value` to set (repeatable).
        #[arg(long = "add-config", value_name = "NAME=VALUE")]
        add: Vec<String>,
        /// A config name to delete (repeatable): the broker falls back to the default.
        #[arg(long = "delete-config", value_name = "NAME")]
        delete: Vec<String>,
    },
    /// Decommission a broker: each partition with a replica on it moves that replica to another
    /// broker, then the controller unregisters it and it stops (kite cluster describe shows it
    /// leaving until then).
    RemoveBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// The brokers, the controller, and partitions that are under-replicated or offline.
    Describe {
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// A KRaft controller's copy of the metadata log (__cluster_metadata), entry by entry, as
    /// kafka-dump-log --cluster-metadata-decoder prints it.
    MetadataLog {
        /// Whose copy; the active controller's by default.
        #[arg(long)]
        controller: Option<i32>,
        /// The first entry; the last --max-entries by default.
        #[arg(long)]
        from_offset: Option<i64>,
        /// At most this many entries (default 50, at most 1,000).
        #[arg(long)]
        max_entries: Option<u32>,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Stop a broker cleanly (a controlled shutdown: its leaderships move first). The server
    /// must run with --allow-faults.
    StopBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Start a stopped broker again; it catches up and rejoins the in-sync replicas.
    StartBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Stop a KRaft controller (controller-N); when it was the active one, the others elect a
    /// new one once their fetch timeout passes. The server must run with --allow-faults.
    StopController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Start a stopped KRaft controller again; it catches up on the metadata log.
    StartController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Freeze a KRaft controller (a long GC pause): a paused active one answers nobody, and the
    /// others elect another once their fetch timeout passes.
    PauseController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Let a paused KRaft controller go on from where it was.
    ResumeController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Cut a KRaft controller off by a network partition: no other controller, broker or
    /// client reaches it.
    IsolateController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Heal a KRaft controller's network partition.
    HealController {
        controller: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Freeze a broker (no answers, no heartbeats): after broker.session.timeout.ms the
    /// controller fences it and elects new leaders.
    PauseBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Let a paused broker run on; it catches up and rejoins the in-sync replicas.
    ResumeBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Cut a broker off by a network partition: it runs on, but nothing reaches it or leaves it.
    IsolateBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Heal a broker's network partition.
    HealBroker {
        broker: i32,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Cut one network link, both ways, between two nodes (controller, broker-N or clients);
    /// both still reach everyone else.
    CutLink {
        from: String,
        to: String,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Heal a link cut-link cut.
    HealLink {
        from: String,
        to: String,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
}

pub(crate) fn cluster(
    command: ClusterCommand,
    server: &ServerArg,
    out: &mut impl Write,
) -> Result<(), String> {
    let mut connection = ApiClient::connect(&server.server)?;
    let (request, output) = match command {
        // `partitions_cli::elect_leaders` answers it (main.rs sends it there).
        ClusterCommand::ElectLeaders { .. } => {
            return Err("elect-leaders is not a cluster state command".into());
        }
        ClusterCommand::Describe { output } => (Command::DescribeCluster, output),
        ClusterCommand::MetadataLog { controller, from_offset, max_entries, output } => {
            (Command::DescribeMetadataLog { controller, from_offset, max_entries }, output)
        }
        ClusterCommand::AddBroker { rack, output } => (Command::AddBroker { rack }, output),
        ClusterCommand::AlterConfig { broker, entity_default: _, add, delete } => {
            let set = pairs(&add, "--add-config")?;
            (Command::AlterBrokerConfig { broker, set, delete }, Output::Text)
        }
        ClusterCommand::RemoveBroker { broker, output } => (Command::RemoveBroker { broker }, output),
        ClusterCommand::StopBroker { broker, output } => (Command::StopBroker { broker }, output),
        ClusterCommand::StartBroker { broker, output } => (Command::StartBroker { broker }, output),
        ClusterCommand::StopController { controller, output } => {
            (Command::StopController { controller }, output)
        }
        ClusterCommand::StartController { controller, output } => {
            (Command::StartController { controller }, output)
        }
        ClusterCommand::PauseController { controller, output } => {
            (Command::PauseController { controller }, output)
        }
        ClusterCommand::ResumeController { controller, output } => {
            (Command::ResumeController { controller }, output)
        }
        ClusterCommand::IsolateController { controller, output } => {
            (Command::IsolateController { controller }, output)
        }
        ClusterCommand::HealController { controller, output } => {
            (Command::HealController { controller }, output)
        }
        ClusterCommand::PauseBroker { broker, output } => (Command::PauseBroker { broker }, output),
        ClusterCommand::ResumeBroker { broker, output } => (Command::ResumeBroker { broker }, output),
        ClusterCommand::IsolateBroker { broker, output } => (Command::IsolateBroker { broker }, output),
        ClusterCommand::HealBroker { broker, output } => (Command::HealBroker { broker }, output),
        ClusterCommand::CutLink { from, to, output } => (Command::CutLink { from, to }, output),
        ClusterCommand::HealLink { from, to, output } => (Command::HealLink { from, to }, output),
    };
    match connection.request(request)? {
        membership @ (Reply::BrokerAdded { .. } | Reply::BrokerRemoval { .. }) => {
            print_membership(&membership, output, out)
        }
        described @ Reply::ClusterDescribed { .. } => print_cluster(described, output, out),
        log @ Reply::MetadataLogDescribed { .. } => print_metadata_log(&log, output, out),
        // kafka-configs' words.
        Reply::BrokerConfigAltered { broker: Some(broker), .. } => {
            writeln!(out, "Completed updating config for broker {broker}.").map_err(|e| e.to_string())
        }
        Reply::BrokerConfigAltered { broker: None, .. } => {
            writeln!(out, "Completed updating default config for brokers in the cluster.")
                .map_err(|e| e.to_string())
        }
        other => Err(kafka_error(other)),
    }
}

/// What `kite cluster describe` and the fault commands print: the brokers, the KRaft
/// controllers (as `kafka-metadata-quorum.sh describe --replication` lists the voters), the
/// partitions that are not healthy, cut links, the broker configs and connected Kafka clients.
fn print_cluster(described: Reply, output: Output, out: &mut impl Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let Reply::ClusterDescribed {
        cluster_id,
        controller,
        brokers,
        partitions,
        under_replicated,
        offline,
        cut_links,
        kafka_clients,
        controllers,
        broker_configs,
    } = described
    else {
        return Ok(());
    };
    let names = |list: &[kite_shared::api::PartitionRef]| {
        list.iter().map(|p| format!("{}-{}", p.topic, p.partition)).collect::<Vec<_>>()
    };
    match output {
        Output::Json => {
            let line = serde_json::json!({
                "cluster_id": cluster_id, "controller": controller, "partitions": partitions,
                "brokers": brokers.iter().map(|b| serde_json::json!({
                    "id": b.id, "state": b.state, "replicas": b.replicas, "leaders": b.leaders,
                    "leaving": b.leaving, "metadata_offset": b.metadata_offset, "rack": b.rack,
                })).collect::<Vec<_>>(),
                "under_replicated": names(&under_replicated), "offline": names(&offline),
                "cut_links": cut_links,
                "kafka_clients": kafka_clients,
                "controllers": controllers,
                "broker_configs": broker_configs,
            });
            writeln!(out, "{line}").map_err(io)
        }
        Output::Text => {
            writeln!(out, "ClusterId: {cluster_id}\tController: {controller}\tBrokers: {}", brokers.len())
                .map_err(io)?;
            for b in &brokers {
                // A KRaft broker is an observer of the quorum: how far it has fetched the log.
                let fetched = b.metadata_offset.map(|o| format!("\tMetadataOffset: {o}")).unwrap_or_default();
                let rack = b.rack.as_ref().map(|r| format!("\tRack: {r}")).unwrap_or_default();
                writeln!(
                    out,
                    "\tBroker: {}\tState: {}\tReplicas: {}\tLeaders: {}{}{fetched}{rack}",
                    b.id,
                    b.state,
                    b.replicas,
                    b.leaders,
                    if b.leaving { "\tLeaving: true" } else { "" }
                )
                .map_err(io)?;
            }
            // The KRaft voters, as kafka-metadata-quorum.sh describe --replication lists them.
            for c in &controllers {
                writeln!(
                    out,
                    "\tController: {}\tState: {}\tEpoch: {}\tLogEndOffset: {}\tHighWatermark: {}{}",
                    c.id,
                    c.state,
                    c.epoch,
                    c.log_end_offset,
                    c.high_watermark,
                    if c.isolated { "\tIsolated: true" } else { "" }
                )
                .map_err(io)?;
            }
            writeln!(
                out,
                "Partitions: {partitions}\tUnderReplicated: {}\tOffline: {}",
                under_replicated.len(),
                offline.len()
            )
            .map_err(io)?;
            for name in names(&under_replicated) {
                writeln!(out, "\tUnder-replicated: {name}").map_err(io)?;
            }
            for name in names(&offline) {
                writeln!(out, "\tOffline: {name}").map_err(io)?;
            }
            for [a, b] in &cut_links {
                writeln!(out, "CutLink: {a} <-> {b}").map_err(io)?;
            }
            // As kafka-configs --describe --all prints a broker's configs: value and source.
            for c in &broker_configs {
                let on = c.broker.map(|b| format!("\tBroker: {b}")).unwrap_or_default();
                writeln!(out, "BrokerConfig: {}={}\tSource: {}{on}", c.name, c.value, c.source)
                    .map_err(io)?;
            }
            print_kafka_clients(out, &kafka_clients)
        }
    }
}

/// What `kite cluster metadata-log` prints: the controller's log bounds, then an entry a line
/// (its offset, quorum epoch, whether committed, Kafka's record type and the record).
fn print_metadata_log(reply: &Reply, output: Output, out: &mut impl Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let Reply::MetadataLogDescribed { controller, log_start_offset, high_watermark, log_end_offset, entries } =
        reply
    else {
        return Ok(());
    };
    if output == Output::Json {
        return writeln!(out, "{}", serde_json::to_string(reply).map_err(|e| e.to_string())?).map_err(io);
    }
    writeln!(
        out,
        "Controller: {controller}\tLogStartOffset: {log_start_offset}\tHighWatermark: {high_watermark}\tLogEndOffset: {log_end_offset}"
    )
    .map_err(io)?;
    for entry in entries {
        let payload = match &entry.record {
            Some(record) => {
                format!("\tpayload: {}", serde_json::to_string(record).map_err(|e| e.to_string())?)
            }
            None => String::new(),
        };
        writeln!(
            out,
            "| offset: {}\tepoch: {}\tcommitted: {}\t{}{payload}",
            entry.offset,
            entry.epoch,
            entry.offset < *high_watermark,
            entry.record_type
        )
        .map_err(io)?;
    }
    Ok(())
}

/// What `kite cluster add-broker` and `remove-broker` print.
fn print_membership(reply: &Reply, output: Output, out: &mut impl Write) -> Result<(), String> {
    let line = match (reply, output) {
        (&Reply::BrokerAdded { broker }, Output::Json) => serde_json::json!({ "broker": broker }).to_string(),
        (&Reply::BrokerAdded { broker }, Output::Text) => format!(
            "Broker {broker} added: it holds nothing until partitions move to it (kite partitions reassign)."
        ),
        (&Reply::BrokerRemoval { broker, moving }, Output::Json) => {
            serde_json::json!({ "broker": broker, "moving": moving }).to_string()
        }
        (&Reply::BrokerRemoval { broker, moving: 0 }, Output::Text) => {
            format!("Broker {broker} held no replica: it has left the cluster.")
        }
        (&Reply::BrokerRemoval { broker, moving }, Output::Text) => format!(
            "Broker {broker} is leaving: {moving} partition(s) move their replica off it; it leaves the cluster once they complete."
        ),
        _ => return Ok(()),
    };
    writeln!(out, "{line}").map_err(|e| e.to_string())
}

/// `kite cluster describe`'s line per Kafka connection.
fn print_kafka_clients(
    out: &mut impl Write,
    clients: &[kite_shared::api::KafkaClientView],
) -> Result<(), String> {
    for c in clients {
        let requests: Vec<String> = c.requests.iter().map(|(api, n)| format!("{api}={n}")).collect();
        let ids: Vec<String> = c.producer_ids.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "KafkaClient: {}\tSoftware: {}\tAddress: {}\tBroker: {}\tRequests: {}\tConnection: {}\tProducerIds: {}\tGroups: {}",
            c.client_id,
            c.software,
            c.address,
            c.broker,
            requests.join(","),
            c.connection,
            ids.join(","),
            c.groups.join(",")
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct EventsArgs {
    /// Stop after this long (else run until interrupted).
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// `json`: each event as an object (`at_ms`, `text`, `event` with its `kind` and fields).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    server: ServerArg,
}

/// `kite events`: the engine's event stream, one line per event, as it happens.
pub(crate) fn events(args: EventsArgs, out: &mut impl Write) -> Result<(), String> {
    let mut connection = ApiClient::connect(&args.server.server)?;
    match connection.request(HostCommand::SubscribeEvents)? {
        Reply::Subscribed { .. } => {}
        other => return Err(kafka_error(other)),
    }
    let deadline = args.timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    loop {
        let wait = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Ok(()),
            },
            None => None,
        };
        // Nothing in time, or the server closed the connection: the stream is over.
        let Some((_, push)) = connection.next_push(wait)? else { return Ok(()) };
        let line = match (push, args.output) {
            (Push::Event { at_ms, text, .. }, Output::Text) => format!("[{at_ms}] {text}"),
            (Push::Event { at_ms, text, event }, Output::Json) => {
                serde_json::json!({ "at_ms": at_ms, "text": text, "event": event }).to_string()
            }
            (Push::Skipped { events }, Output::Text) => {
                format!("({events} events not shown: more than {MAX_EVENTS_PUSHED_PER_SECOND} a second)")
            }
            (Push::Skipped { events }, Output::Json) => serde_json::json!({ "skipped": events }).to_string(),
            (Push::Records { .. }, _) => continue,
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
}

/// How the tools print results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Human-readable lines, like Kafka's tools.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(clap::Args)]
pub(crate) struct ProduceArgs {
    topic: String,
    /// Values to send; without any, each line of stdin is one value.
    values: Vec<String>,
    /// The key of every record (else none, or parsed from the line with parse.key=true).
    #[arg(long)]
    key: Option<String>,
    /// The records' timestamp (CreateTime), in milliseconds since the epoch; now by default.
    #[arg(long)]
    timestamp: Option<i64>,
    /// A header on every record, `key=value` (repeatable, in order).
    #[arg(long = "header", value_name = "KEY=VALUE")]
    headers: Vec<String>,
    #[arg(long)]
    partition: Option<i32>,
    /// default, RoundRobinPartitioner, consistent_random, murmur2_random.
    #[arg(long, default_value = "default")]
    partitioner: String,
    #[arg(long, default_value = "StringSerializer")]
    key_serializer: String,
    #[arg(long, default_value = "StringSerializer")]
    value_serializer: String,
    /// kafka-console-producer's `parse.key=true` and `key.separator=S` (default a tab).
    #[arg(long = "property", value_name = "NAME=VALUE")]
    properties: Vec<String>,
    /// A producer setting, as kafka-console-producer's `--producer-property`:
    /// `enable.idempotence=true` gets a producer id and numbers every record (a retry is not
    /// written twice; acks must be all).
    #[arg(long = "producer-property", value_name = "NAME=VALUE")]
    producer_properties: Vec<String>,
    /// The producer's acks: all (default), 1, or 0 (no offsets come back: printed as -1).
    #[arg(long, default_value = "all")]
    acks: String,
    /// `json`: one object per record: topic, partition, offset, timestamp.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Write every record in one transaction of this `transactional.id` (committed at the end
    /// of the input, unless --abort); a read_committed consumer sees none of them before.
    #[arg(long)]
    transactional_id: Option<String>,
    /// With --transactional-id: abort the transaction instead of committing it (its records stay
    /// in the log, skipped by read_committed consumers).
    #[arg(long, requires = "transactional_id")]
    abort: bool,
    #[command(flatten)]
    server: ServerArg,
}

#[derive(clap::Args)]
pub(crate) struct ConsumeArgs {
    topic: String,
    /// Consume as a member of this consumer group: partitions are assigned by the group, and
    /// positions start at (and are committed to) the group's offsets.
    #[arg(long, conflicts_with_all = ["partition", "offset", "from_timestamp"])]
    group: Option<String>,
    /// Start at each partition's log start instead of its end (with --group: only where the
    /// group has no committed offset, as auto.offset.reset=earliest).
    #[arg(long)]
    from_beginning: bool,
    /// Only this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// Start at this offset (needs --partition).
    #[arg(long, requires = "partition", conflicts_with = "from_beginning")]
    offset: Option<i64>,
    /// Start at the first record at or after this time (ms since the epoch), via ListOffsets.
    #[arg(long, conflicts_with_all = ["from_beginning", "offset"])]
    from_timestamp: Option<i64>,
    /// Stop after this many records.
    #[arg(long)]
    max_messages: Option<usize>,
    /// Stop when no record arrived for this long.
    #[arg(long)]
    timeout_ms: Option<u64>,
    #[arg(long, default_value = "StringDeserializer")]
    key_deserializer: String,
    #[arg(long, default_value = "StringDeserializer")]
    value_deserializer: String,
    /// kafka-console-consumer's `print.key=true`, `print.partition=true`, `print.offset=true`,
    /// `print.headers=true`.
    #[arg(long = "property", value_name = "NAME=VALUE")]
    properties: Vec<String>,
    /// `json`: one object per record: topic, partition, offset, timestamp, key, value, headers.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// read_uncommitted (Kafka's default) or read_committed: only committed transactions'
    /// records, and nothing past the last stable offset.
    #[arg(long, value_enum, default_value_t = Isolation::ReadUncommitted)]
    isolation_level: Isolation,
    #[command(flatten)]
    server: ServerArg,
}

/// `--isolation-level`, by Kafka's names.
#[derive(Clone, Copy, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub(crate) enum Isolation {
    ReadUncommitted,
    ReadCommitted,
}

impl From<Isolation> for IsolationLevel {
    fn from(isolation: Isolation) -> IsolationLevel {
        match isolation {
            Isolation::ReadUncommitted => IsolationLevel::ReadUncommitted,
            Isolation::ReadCommitted => IsolationLevel::ReadCommitted,
        }
    }
}

/// The records of one produce request as a Kafka record batch, serialized here as a producer
/// does (CreateTime from this machine's clock unless `--timestamp` gave one).
fn record_batch(
    topic: &str,
    (key_serializer, value_serializer): (SerializerKind, SerializerKind),
    records: Vec<BatchedRecord>,
) -> Result<(Vec<u8>, Vec<i64>), String> {
    let registry = kite_shared::schema_registry::SchemaRegistry::new();
    let refused = |e: kite_shared::serializer::SerdeError| format!("Error: INVALID_RECORD (87): {}", e.0);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let timestamps: Vec<i64> = records.iter().map(|r| r.timestamp_ms.unwrap_or(now_ms)).collect();
    let base = timestamps.iter().copied().min().unwrap_or(now_ms);
    let mut batch_records = Vec::with_capacity(records.len());
    for ((record, &timestamp), delta) in records.into_iter().zip(&timestamps).zip(0..) {
        let serializers = (key_serializer, value_serializer);
        let key_and_value = (record.key.as_deref(), record.value.as_deref());
        let serialized = serialize_record(&registry, topic, serializers, key_and_value, record.headers)
            .map_err(refused)?;
        batch_records.push(BatchRecord {
            timestamp_delta: timestamp - base,
            offset_delta: delta,
            ..serialized
        });
    }
    let bytes = RecordBatch::new(base, batch_records)
        .encode()
        .map_err(|e| format!("cannot build the record batch: {e}"))?;
    Ok((bytes, timestamps))
}

/// A reply that is an error, as Kafka's tools print it.
pub(crate) fn kafka_error(reply: Reply) -> String {
    match reply {
        Reply::Error(e) => format!("Error: {} ({}): {}", e.error.name(), e.error.code(), e.message),
        other => format!("unexpected reply: {other:?}"),
    }
}

pub(crate) fn pairs(list: &[String], what: &str) -> Result<BTreeMap<String, String>, String> {
    list.iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| format!("{what} {pair:?} is not NAME=VALUE"))
        })
        .collect()
}

fn serializer(name: &str, flag: &str) -> Result<SerializerKind, String> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|_| {
        format!("{flag} {name:?} is not a serializer Kite knows (e.g. StringSerializer, IntegerSerializer)")
    })
}

fn deserializer(name: &str, flag: &str) -> Result<SerializerKind, String> {
    // Kafka names the consumer's side Deserializer; Kite's kinds are named once, as serializers.
    serializer(&name.replace("Deserializer", "Serializer"), flag)
}

pub(crate) fn topics(command: TopicsCommand, server: &ServerArg, out: &mut impl Write) -> Result<(), String> {
    let mut connection = ApiClient::connect(&server.server)?;
    let io = |e: std::io::Error| e.to_string();
    match command {
        TopicsCommand::Create { name, partitions, replication_factor, configs } => {
            let configs = pairs(&configs, "--config")?;
            let command =
                Command::CreateTopic { name: name.clone(), partitions, configs, replication_factor };
            match connection.request(command)? {
                Reply::TopicCreated { warnings, .. } => {
                    for warning in warnings {
                        writeln!(out, "WARNING: {warning}").map_err(io)?;
                    }
                    writeln!(out, "Created topic {name}.").map_err(io)
                }
                other => Err(kafka_error(other)),
            }
        }
        TopicsCommand::Delete { name } => match connection.request(Command::DeleteTopic { name })? {
            Reply::TopicDeleted { name } => writeln!(out, "Deleted topic {name}.").map_err(io),
            other => Err(kafka_error(other)),
        },
        TopicsCommand::Alter { name, partitions } => {
            match connection.request(Command::CreatePartitions { topic: name, count: partitions })? {
                Reply::PartitionsCreated { topic } => {
                    writeln!(out, "{} now has {} partitions.", topic.name, topic.partitions.len()).map_err(io)
                }
                other => Err(kafka_error(other)),
            }
        }
        TopicsCommand::AlterConfig { name, add, delete } => {
            let set = pairs(&add, "--add-config")?;
            match connection.request(Command::AlterTopicConfig { name, set, delete })? {
                Reply::TopicConfigAltered { topic } => {
                    let configs: Vec<String> =
                        topic.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    writeln!(out, "Completed updating config for topic {}: {}", topic.name, configs.join(","))
                        .map_err(io)
                }
                other => Err(kafka_error(other)),
            }
        }
        TopicsCommand::List => match connection.request(Command::ListTopics)? {
            Reply::Topics { topics } => {
                topics.iter().try_for_each(|t| writeln!(out, "{}", t.name).map_err(io))
            }
            other => Err(kafka_error(other)),
        },
        TopicsCommand::Describe { name } => match connection.request(Command::ListTopics)? {
            Reply::Topics { topics } => {
                let chosen: Vec<_> =
                    topics.iter().filter(|t| name.as_ref().is_none_or(|n| &t.name == n)).collect();
                if let (Some(name), true) = (&name, chosen.is_empty()) {
                    return Err(format!(
                        "Error: UNKNOWN_TOPIC_OR_PARTITION (3): Topic '{name}' does not exist."
                    ));
                }
                for topic in chosen {
                    let configs: Vec<String> =
                        topic.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let replication_factor = topic.partitions.first().map_or(0, |p| p.replicas.len());
                    writeln!(
                        out,
                        "Topic: {}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {replication_factor}\tConfigs: {}",
                        topic.name,
                        topic.topic_id,
                        topic.partitions.len(),
                        configs.join(",")
                    )
                    .map_err(io)?;
                    let ids = |ids: &[i32]| ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
                    for p in &topic.partitions {
                        // kafka-topics prints `none` for an offline partition's leader.
                        let leader = p.leader.map_or("none".to_string(), |l| l.to_string());
                        writeln!(
                            out,
                            "\tTopic: {}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tLogStartOffset: {}\tLogEndOffset: {}",
                            topic.name,
                            p.partition,
                            ids(&p.replicas),
                            ids(&p.isr),
                            p.log_start_offset,
                            p.log_end_offset
                        )
                        .map_err(io)?;
                    }
                }
                Ok(())
            }
            other => Err(kafka_error(other)),
        },
    }
}

pub(crate) fn produce(
    args: ProduceArgs,
    input: impl BufRead,
    interactive: bool,
    out: &mut impl Write,
) -> Result<(), String> {
    let properties = pairs(&args.properties, "--property")?;
    let parse_key = properties.get("parse.key").is_some_and(|v| v == "true");
    let separator = properties.get("key.separator").cloned().unwrap_or_else(|| "\t".into());
    let partitioner: PartitionerKind = serde_json::from_value(serde_json::Value::String(args.partitioner.clone()))
        .map_err(|_| format!("--partitioner {:?} is not one of default, RoundRobinPartitioner, consistent_random, murmur2_random", args.partitioner))?;
    let key_serializer = serializer(&args.key_serializer, "--key-serializer")?;
    let value_serializer = serializer(&args.value_serializer, "--value-serializer")?;
    let acks = Acks::from_name(&args.acks)
        .ok_or_else(|| format!("--acks {:?} is not one of all, -1, 1, 0", args.acks))?;
    let headers: Vec<(String, String)> = args
        .headers
        .iter()
        .map(|h| {
            h.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or(format!("--header {h:?} is not KEY=VALUE"))
        })
        .collect::<Result<_, _>>()?;
    let idempotence = idempotence(&args.producer_properties, acks)?;
    let mut connection = ApiClient::connect(&args.server.server)?;
    let mut transaction = match &args.transactional_id {
        Some(id) => Some(SequencedProducer::init(&mut connection, id)?),
        None if idempotence => Some(SequencedProducer::idempotent(&mut connection)?),
        None => None,
    };
    let lines: Box<dyn Iterator<Item = Result<String, String>>> = if args.values.is_empty() {
        Box::new(input.lines().map(|l| l.map_err(|e| format!("cannot read stdin: {e}"))))
    } else {
        Box::new(args.values.iter().cloned().map(Ok))
    };
    // Records go in batches of up to PRODUCE_CHUNK_RECORDS, one request each — but typed lines
    // (a terminal) go one by one, so each is sent when entered.
    let chunk_size = if interactive { 1 } else { PRODUCE_CHUNK_RECORDS };
    let mut chunk = Vec::new();
    let mut lines = lines.peekable();
    while let Some(line) = lines.next() {
        let line = line?;
        let (key, value) = if parse_key {
            match line.split_once(separator.as_str()) {
                Some((k, v)) => (Some(k.to_string()), v.to_string()),
                None => return Err(format!("No key separator found on line: {line}")),
            }
        } else {
            (args.key.clone(), line)
        };
        chunk.push(BatchedRecord {
            key,
            value: Some(value),
            timestamp_ms: args.timestamp,
            headers: headers.clone(),
        });
        if chunk.len() < chunk_size && lines.peek().is_some() {
            continue;
        }
        let records = std::mem::take(&mut chunk);
        let settings = (args.partition, partitioner, key_serializer, value_serializer, acks);
        let (topic, records) =
            send_records(&mut connection, transaction.as_mut(), (&args.topic, settings), records)?;
        for ProducedRecord { partition, offset, timestamp_ms } in records {
            let line = match args.output {
                Output::Text => format!("{topic}-{partition}@{offset}"),
                Output::Json => serde_json::json!({
                    "topic": topic, "partition": partition, "offset": offset, "timestamp": timestamp_ms,
                })
                .to_string(),
            };
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
    }
    if let Some(transaction) = transaction.filter(|t| t.producer.transactional_id.is_some()) {
        transaction.end(&mut connection, !args.abort)?;
    }
    Ok(())
}

/// `--producer-property enable.idempotence=…`: whether the producer is idempotent. Kafka's
/// producer refuses idempotence without acks=all, and so does this; other settings are named as
/// not taken.
fn idempotence(properties: &[String], acks: Acks) -> Result<bool, String> {
    let mut idempotent = false;
    for (name, value) in pairs(properties, "--producer-property")? {
        match (name.as_str(), value.as_str()) {
            ("enable.idempotence", "true") => idempotent = true,
            ("enable.idempotence", "false") => idempotent = false,
            ("enable.idempotence", other) => {
                return Err(format!("--producer-property enable.idempotence={other:?} is not true or false"));
            }
            (other, _) => {
                return Err(format!(
                    "--producer-property {other} is not taken here (enable.idempotence is; acks is --acks)"
                ));
            }
        }
    }
    if idempotent && acks != Acks::All {
        return Err("Must set acks to all in order to use the idempotent producer.".into());
    }
    Ok(idempotent)
}

/// Where `produce`'s next records go and how: the topic, its partition (or the partitioner's
/// choice), the serializers and acks.
type ProduceSettings<'a> = (&'a str, (Option<i32>, PartitionerKind, SerializerKind, SerializerKind, Acks));

/// One chunk of `kite produce`'s records sent: by an idempotent or transactional producer, one by
/// one with its sequences; with Avro,
/// serialized by the server (its schema registry); else serialized here as one record batch in a
/// binary frame, as a Kafka producer sends it. Where each went.
fn send_records(
    connection: &mut ApiClient,
    producer: Option<&mut SequencedProducer>,
    (topic, settings): ProduceSettings<'_>,
    records: Vec<BatchedRecord>,
) -> Result<(String, Vec<ProducedRecord>), String> {
    let (partition, partitioner, key_serializer, value_serializer, acks) = settings;
    let mut timestamps = Vec::new();
    let reply = if let Some(producer) = producer {
        producer.send(connection, topic, settings, records)?
    } else if key_serializer == SerializerKind::Avro || value_serializer == SerializerKind::Avro {
        let command = Command::ProduceBatch {
            acks,
            topic: topic.to_string(),
            partition,
            partitioner,
            key_serializer,
            value_serializer,
            records,
            answer_per_partition: false,
        };
        connection.request(command)?
    } else {
        let payload;
        (payload, timestamps) = record_batch(topic, (key_serializer, value_serializer), records)?;
        let command = Command::ProduceRecords {
            acks,
            topic: topic.to_string(),
            partition,
            partitioner,
            payload: Vec::new(),
        };
        connection.request_binary(command, &payload)?
    };
    match reply {
        Reply::ProducedBatch { topic, records } => Ok((topic, records)),
        Reply::ProducedRecords { topic, partitions, batches } => {
            Ok((topic, kite_shared::api::ProducedPartition::expand(&partitions, &batches, &timestamps)))
        }
        other => Err(kafka_error(other)),
    }
}

/// `kite produce --transactional-id`'s producer (or an idempotent one's, without a
/// transactional id): its id and epoch from `init_transactions`, its sequences, and how many
/// records it wrote.
struct SequencedProducer {
    producer: kite_shared::api::IdempotentProducer,
    records: usize,
}

impl SequencedProducer {
    fn init(connection: &mut ApiClient, transactional_id: &str) -> Result<SequencedProducer, String> {
        let init = Command::InitTransactions {
            transactional_id: transactional_id.to_string(),
            transaction_timeout_ms: None,
        };
        match connection.request(init)? {
            Reply::ProducerIdInitialized { producer_id, producer_epoch } => Ok(SequencedProducer {
                producer: kite_shared::api::IdempotentProducer {
                    producer_id,
                    producer_epoch,
                    sequences: Vec::new(),
                    transactional_id: Some(transactional_id.to_string()),
                },
                records: 0,
            }),
            other => Err(kafka_error(other)),
        }
    }

    /// An idempotent producer without a transaction (`enable.idempotence=true`): its id and
    /// epoch from `init_producer_id`; it numbers records as a transactional one does.
    fn idempotent(connection: &mut ApiClient) -> Result<SequencedProducer, String> {
        match connection.request(Command::InitProducerId)? {
            Reply::ProducerIdInitialized { producer_id, producer_epoch } => Ok(SequencedProducer {
                producer: kite_shared::api::IdempotentProducer {
                    producer_id,
                    producer_epoch,
                    sequences: Vec::new(),
                    transactional_id: None,
                },
                records: 0,
            }),
            other => Err(kafka_error(other)),
        }
    }

    /// Each record produced in the transaction; answered as one batch's records.
    fn send(
        &mut self,
        connection: &mut ApiClient,
        topic: &str,
        (partition, partitioner, key_serializer, value_serializer, acks): (
            Option<i32>,
            PartitionerKind,
            SerializerKind,
            SerializerKind,
            Acks,
        ),
        records: Vec<BatchedRecord>,
    ) -> Result<Reply, String> {
        let mut produced = Vec::with_capacity(records.len());
        for record in records {
            let command = Command::Produce {
                topic: topic.to_string(),
                partition,
                key: record.key,
                value: record.value,
                timestamp_ms: record.timestamp_ms,
                partitioner,
                key_serializer,
                value_serializer,
                headers: record.headers,
                acks,
                producer: Some(self.producer.clone()),
            };
            match connection.request(command)? {
                Reply::Produced { partition, offset, timestamp_ms, idempotent, .. } => {
                    if let Some(write) = idempotent {
                        self.producer.wrote(partition, &write);
                    }
                    produced.push(ProducedRecord { partition, offset, timestamp_ms });
                    self.records += 1;
                }
                other => return Err(kafka_error(other)),
            }
        }
        Ok(Reply::ProducedBatch { topic: topic.to_string(), records: produced })
    }

    /// Commits (or aborts) the transaction; says so on stderr, as the outcome is no record.
    fn end(self, connection: &mut ApiClient, commit: bool) -> Result<(), String> {
        let id = self.producer.transactional_id.clone().unwrap_or_default();
        let end = Command::EndTransaction {
            transactional_id: id.clone(),
            producer_id: self.producer.producer_id,
            producer_epoch: self.producer.producer_epoch,
            commit,
        };
        match connection.request(end)? {
            Reply::TransactionEnded { committed, .. } => {
                let verb = if committed { "Committed" } else { "Aborted" };
                eprintln!("{verb} transaction '{id}': {} records", self.records);
                Ok(())
            }
            other => Err(kafka_error(other)),
        }
    }
}

/// How `kite consume` prints a record: kafka-console-consumer's `print.*` properties, or JSON.
struct Printer {
    output: Output,
    print_key: bool,
    print_partition: bool,
    print_offset: bool,
    print_headers: bool,
}

impl Printer {
    fn new(properties: &[String], output: Output) -> Result<Printer, String> {
        let properties = pairs(properties, "--property")?;
        let flag = |name: &str| properties.get(name).is_some_and(|v| v == "true");
        Ok(Printer {
            output,
            print_key: flag("print.key"),
            print_partition: flag("print.partition"),
            print_offset: flag("print.offset"),
            print_headers: flag("print.headers"),
        })
    }

    fn line(&self, topic: &str, partition: i32, record: &RecordView) -> String {
        match self.output {
            Output::Json => record.consumer_json(topic, partition).to_string(),
            Output::Text => {
                let mut line = String::new();
                if self.print_partition {
                    line.push_str(&format!("Partition:{partition}\t"));
                }
                if self.print_offset {
                    line.push_str(&format!("Offset:{}\t", record.offset));
                }
                if self.print_headers {
                    // kafka-console-consumer: key:value pairs joined by commas, NO_HEADERS if none.
                    let headers: Vec<String> = record
                        .headers
                        .iter()
                        .map(|(k, v)| format!("{k}:{}", v.as_deref().unwrap_or("NULL")))
                        .collect();
                    let headers =
                        if headers.is_empty() { "NO_HEADERS".to_string() } else { headers.join(",") };
                    line.push_str(&format!("{headers}\t"));
                }
                if self.print_key {
                    line.push_str(&format!("{}\t", record.key.as_deref().unwrap_or("null")));
                }
                line.push_str(record.value.as_deref().unwrap_or("null"));
                line
            }
        }
    }
}

#[derive(clap::Args)]
pub(crate) struct GetOffsetsArgs {
    topic: String,
    /// Only this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// Which offset, as kafka-get-offsets' `--time`: `latest` (-1, the default), `earliest`
    /// (-2), `max-timestamp` (-3: the record with the largest timestamp), `earliest-local` (-4),
    /// `latest-tiered` (-5: none, nothing is tiered), or a time in ms since the epoch (the first
    /// record at or after it).
    #[arg(long, default_value = "latest", allow_hyphen_values = true)]
    time: String,
    #[command(flatten)]
    server: ServerArg,
}

/// `--time`'s word or number as ListOffsets' timestamp.
fn offset_spec(time: &str) -> Result<i64, String> {
    use kite_shared::cluster::{LATEST_TIERED_TIMESTAMP, list_offsets_timestamp};
    list_offsets_timestamp(time)
        .or_else(|| time.parse::<i64>().ok().filter(|&t| t >= LATEST_TIERED_TIMESTAMP))
        .ok_or_else(|| {
            format!(
                "--time {time}: expected latest, earliest, max-timestamp, earliest-local, latest-tiered, -1 to -5, or a time in ms"
            )
        })
}

/// The topic `name` as the server describes it, or Kafka's error for a topic that does not exist.
fn find_topic(connection: &mut ApiClient, name: &str) -> Result<TopicDescription, String> {
    match connection.request(Command::ListTopics)? {
        Reply::Topics { topics } => topics
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| format!("Error: UNKNOWN_TOPIC_OR_PARTITION (3): Topic '{name}' does not exist.")),
        other => Err(kafka_error(other)),
    }
}

/// The topic's partitions, or only `only`; Kafka's error when it has no such partition.
fn chosen_partitions(topic: &TopicDescription, only: Option<i32>) -> Result<Vec<i32>, String> {
    let partitions: Vec<i32> =
        topic.partitions.iter().map(|p| p.partition).filter(|p| only.is_none_or(|only| only == *p)).collect();
    if partitions.is_empty() {
        return Err(format!(
            "Error: UNKNOWN_TOPIC_OR_PARTITION (3): {} has no partition {only:?}",
            topic.name
        ));
    }
    Ok(partitions)
}

/// `kite get-offsets`, as kafka-get-offsets: one `topic:partition:offset` line per partition
/// (the offset left empty where no record matches).
pub(crate) fn get_offsets(args: GetOffsetsArgs, out: &mut impl Write) -> Result<(), String> {
    let timestamp_ms = offset_spec(&args.time)?;
    let mut connection = ApiClient::connect(&args.server.server)?;
    let topic = find_topic(&mut connection, &args.topic)?;
    let partitions = chosen_partitions(&topic, args.partition)?;
    for partition in partitions {
        let list = Command::ListOffsets { topic: args.topic.clone(), partition, timestamp_ms };
        let offset = match connection.request(list)? {
            Reply::Offsets { offset, .. } => offset.map(|o| o.to_string()).unwrap_or_default(),
            other => return Err(kafka_error(other)),
        };
        writeln!(out, "{}:{partition}:{offset}", args.topic).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct DeleteRecordsArgs {
    topic: String,
    /// Only this partition (every partition of the topic otherwise).
    #[arg(long)]
    partition: Option<i32>,
    /// The new log start offset: every record before it goes; -1 deletes everything committed
    /// (up to the high watermark).
    #[arg(long, allow_hyphen_values = true)]
    offset: i64,
    #[command(flatten)]
    server: ServerArg,
}

/// `kite delete-records`, as kafka-delete-records: each partition's records before `--offset`
/// deleted, and its low watermark printed (or the partition's error, in Kafka's words).
pub(crate) fn delete_records(args: DeleteRecordsArgs, out: &mut impl Write) -> Result<(), String> {
    let mut connection = ApiClient::connect(&args.server.server)?;
    let topic = find_topic(&mut connection, &args.topic)?;
    let partitions = chosen_partitions(&topic, args.partition)?;
    let write = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(|e| e.to_string());
    write(out, "Executing records delete operation".into())?;
    let mut failed = None;
    let mut lines = Vec::new();
    for partition in partitions {
        let delete = Command::DeleteRecords { topic: args.topic.clone(), partition, offset: args.offset };
        lines.push(match connection.request(delete)? {
            Reply::RecordsDeleted { low_watermark, .. } => {
                format!("partition: {}-{partition}\tlow_watermark: {low_watermark}", args.topic)
            }
            other => {
                let error = kafka_error(other);
                failed.get_or_insert_with(|| error.clone());
                format!("partition: {}-{partition}\terror: {error}", args.topic)
            }
        });
    }
    write(out, "Records delete operation completed:".into())?;
    for line in lines {
        write(out, line)?;
    }
    // Like the Kafka tool, every partition is reported; the exit status says whether one failed.
    failed.map_or(Ok(()), Err)
}

#[derive(clap::Args)]
pub(crate) struct InspectKafkaArgs {
    /// Only the exchanges after this id (0: every one kept).
    #[arg(long, default_value_t = 0)]
    after: u64,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    server: ServerArg,
}

/// `kite inspect-kafka`: the protocol inspector's last requests from Kafka clients and the
/// broker's responses, each header field with the bytes it spans, then the body decoded.
pub(crate) fn inspect_kafka(args: InspectKafkaArgs, out: &mut impl Write) -> Result<(), String> {
    let mut connection = ApiClient::connect(&args.server.server)?;
    let exchanges = match connection.request(Command::InspectKafka { after: args.after })? {
        Reply::KafkaExchanges { exchanges } => exchanges,
        other => return Err(kafka_error(other)),
    };
    let io = |e: std::io::Error| e.to_string();
    for e in &exchanges {
        if args.output == Output::Json {
            writeln!(out, "{}", serde_json::to_string(e).map_err(|e| e.to_string())?).map_err(io)?;
            continue;
        }
        writeln!(
            out,
            "Exchange: {}\tClient: {}\tConnection: {}\tBroker: {}\tApi: {} v{}\tCorrelationId: {}\tOutcome: {}{}",
            e.id,
            e.client_id,
            e.connection,
            e.broker,
            e.api,
            e.version,
            e.correlation_id,
            e.outcome,
            if e.closed_reason.is_empty() { String::new() } else { format!(" ({})", e.closed_reason) }
        )
        .map_err(io)?;
        for (side, frame) in [("Request", Some(&e.request)), ("Response", e.response.as_ref())] {
            let Some(frame) = frame else { continue };
            writeln!(out, "  {side}: {} bytes", frame.size).map_err(io)?;
            for f in &frame.fields {
                writeln!(out, "    {} = {}\t[{}..{})", f.name, f.value, f.start, f.end).map_err(io)?;
            }
            for line in frame.body.lines() {
                writeln!(out, "    | {line}").map_err(io)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn consume(args: ConsumeArgs, out: &mut impl Write) -> Result<(), String> {
    let printer = Printer::new(&args.properties, args.output)?;
    let key_deserializer = deserializer(&args.key_deserializer, "--key-deserializer")?;
    let value_deserializer = deserializer(&args.value_deserializer, "--value-deserializer")?;
    let mut connection = ApiClient::connect(&args.server.server)?;
    if let Some(group) = &args.group {
        return consume_in_group(
            &mut connection,
            group,
            &args,
            &printer,
            (key_deserializer, value_deserializer),
            out,
        );
    }
    let topic = find_topic(&mut connection, &args.topic)?;
    let mut positions: BTreeMap<i32, i64> = BTreeMap::new();
    for p in &topic.partitions {
        if args.partition.is_some_and(|only| only != p.partition) {
            continue;
        }
        let start = match (args.offset, args.from_beginning, args.from_timestamp) {
            (Some(offset), _, _) => offset,
            (None, true, _) => p.log_start_offset,
            (None, false, Some(timestamp_ms)) => {
                let list =
                    Command::ListOffsets { topic: args.topic.clone(), partition: p.partition, timestamp_ms };
                match connection.request(list)? {
                    // No record that late: start at the end.
                    Reply::Offsets { offset, .. } => offset.unwrap_or(p.log_end_offset),
                    other => return Err(kafka_error(other)),
                }
            }
            (None, false, None) => p.log_end_offset,
        };
        positions.insert(p.partition, start);
    }
    if positions.is_empty() {
        return Err(format!(
            "Error: UNKNOWN_TOPIC_OR_PARTITION (3): {} has no partition {:?}",
            args.topic, args.partition
        ));
    }
    let mut consumed = 0;
    let mut last_record = Instant::now();
    loop {
        let mut got_any = false;
        for (&partition, position) in positions.iter_mut() {
            let fetch = Command::Fetch {
                topic: args.topic.clone(),
                partition,
                offset: *position,
                max_records: CONSUME_BATCH_RECORDS,
                key_deserializer,
                value_deserializer,
                isolation_level: args.isolation_level.into(),
            };
            let records = match connection.request(fetch)? {
                Reply::Records { records, .. } => records,
                other => return Err(kafka_error(other)),
            };
            for record in records {
                writeln!(out, "{}", printer.line(&args.topic, partition, &record))
                    .map_err(|e| e.to_string())?;
                *position = record.offset + 1;
                consumed += 1;
                got_any = true;
                if args.max_messages.is_some_and(|max| consumed >= max) {
                    out.flush().map_err(|e| e.to_string())?;
                    eprintln!("Processed a total of {consumed} messages");
                    return Ok(());
                }
            }
        }
        out.flush().map_err(|e| e.to_string())?;
        if got_any {
            last_record = Instant::now();
        } else {
            if args.timeout_ms.is_some_and(|t| last_record.elapsed() >= Duration::from_millis(t)) {
                eprintln!("Processed a total of {consumed} messages");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(CONSUME_POLL_INTERVAL_MS));
        }
    }
}

/// `kite consume --group G`: a consumer the server runs as a member of G, polled until
/// `--max-messages` or `--timeout-ms`, then closed (which commits what was printed, as the
/// console consumer's auto commit does, and leaves the group).
fn consume_in_group(
    connection: &mut ApiClient,
    group: &str,
    args: &ConsumeArgs,
    printer: &Printer,
    deserializers: (SerializerKind, SerializerKind),
    out: &mut impl Write,
) -> Result<(), String> {
    let open = Command::OpenConsumer {
        group: Some(group.to_string()),
        topics: vec![args.topic.clone()],
        partitions: Vec::new(),
        client_id: Some("console-consumer".into()),
        auto_offset_reset: Some(if args.from_beginning { "earliest" } else { "latest" }.into()),
        assignors: Vec::new(),
        enable_auto_commit: Some(true),
        session_timeout_ms: None,
        isolation_level: args.isolation_level.into(),
    };
    let consumer = match connection.request(open)? {
        Reply::ConsumerOpened { consumer } => consumer,
        other => return Err(kafka_error(other)),
    };
    let mut consumed = 0;
    let mut last_record = Instant::now();
    let result = loop {
        let remaining = args.max_messages.map(|max| (max - consumed) as u32);
        let poll = Command::Poll {
            consumer,
            max_records: Some(remaining.unwrap_or(CONSUME_BATCH_RECORDS).min(CONSUME_BATCH_RECORDS)),
            key_deserializer: deserializers.0,
            value_deserializer: deserializers.1,
        };
        let records = match connection.request(poll)? {
            Reply::Polled { records, .. } => records,
            other => break Err(kafka_error(other)),
        };
        for polled in &records {
            writeln!(out, "{}", printer.line(&polled.topic, polled.partition, &polled.record))
                .map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
        consumed += records.len();
        if args.max_messages.is_some_and(|max| consumed >= max) {
            break Ok(());
        }
        if !records.is_empty() {
            last_record = Instant::now();
        } else if args.timeout_ms.is_some_and(|t| last_record.elapsed() >= Duration::from_millis(t)) {
            break Ok(());
        } else {
            std::thread::sleep(Duration::from_millis(CONSUME_POLL_INTERVAL_MS));
        }
    };
    // Closing commits what was printed and leaves the group.
    match connection.request(Command::CloseConsumer { consumer })? {
        Reply::ConsumerClosed { .. } => {}
        other => return Err(kafka_error(other)),
    }
    result?;
    eprintln!("Processed a total of {consumed} messages");
    Ok(())
}
