//! `kite`: the native host. `kite serve` runs Kite's engine on real time behind a websocket and
//! serves the browser UI; later subcommands mirror Kafka's command-line tools.

mod assets;
mod cli;
mod connect_cli;
mod connect_http;
mod crash_writer;
mod engine;
mod groups_cli;
mod guard;
mod kafka_listener;
mod partitions_cli;
mod scenario_cmd;
mod serve;
mod session;
mod sim_cmd;
mod snapshot_cmd;
mod throttle_cli;
mod transactions_cli;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kite", version, about = "Kafka's semantics, to learn, demo and run")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve the UI and the engine's websocket API.
    Serve(ServeArgs),
    /// Create, list and describe topics on a running server (like kafka-topics).
    Topics {
        #[command(subcommand)]
        command: cli::TopicsCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// Send records to a topic, from arguments or stdin lines (like kafka-console-producer).
    Produce(cli::ProduceArgs),
    /// Print a topic's records (like kafka-console-consumer; `--group` joins a consumer group).
    Consume(cli::ConsumeArgs),
    /// Print each partition's offset at a time, or its earliest, latest or max-timestamp offset
    /// (like kafka-get-offsets: `topic:partition:offset`).
    GetOffsets(cli::GetOffsetsArgs),
    /// Delete a partition's records before an offset: its log starts there (like
    /// kafka-delete-records; prints each partition's low watermark).
    DeleteRecords(cli::DeleteRecordsArgs),
    /// The protocol inspector: the last requests Kafka clients sent and the brokers' responses,
    /// decoded field by field.
    InspectKafka(cli::InspectKafkaArgs),
    /// Describe the cluster: brokers, controller, under-replicated and offline partitions.
    Cluster {
        #[command(subcommand)]
        command: cli::ClusterCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// Move partitions' replicas between brokers (like kafka-reassign-partitions).
    Partitions {
        #[command(subcommand)]
        command: partitions_cli::PartitionsCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// Print the engine's events as they happen (appends, high watermarks, topics, rebalances…).
    Events(cli::EventsArgs),
    /// List, describe, reset and delete consumer groups (like kafka-consumer-groups).
    Groups {
        #[command(subcommand)]
        command: groups_cli::GroupsCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// Kite Connect's connectors: list, create, status, pause, resume, restart, delete (Kafka
    /// Connect's REST API, /connect on the server).
    Connect {
        #[command(subcommand)]
        command: connect_cli::ConnectCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// List and describe transactional ids and their transactions (like kafka-transactions).
    Transactions {
        #[command(subcommand)]
        command: transactions_cli::TransactionsCommand,
        #[command(flatten)]
        server: cli::ServerArg,
    },
    /// Play a scenario script (docs/scenarios.md) or print the URL parameter that opens it.
    Scenario {
        #[command(subcommand)]
        command: scenario_cmd::ScenarioCommand,
    },
    /// Write a stopped server's data directory as one snapshot file, or restore one into a new
    /// data directory (the format the playground's Export snapshot writes).
    Snapshot {
        #[command(subcommand)]
        command: snapshot_cmd::SnapshotCommand,
    },
    /// Run the deterministic cluster simulator over seeds and check every run.
    Sim(sim_cmd::SimArgs),
    /// Test helper: append to a disk log in a loop, printing each acknowledged offset, until
    /// killed (the crash tests SIGKILL it at random points).
    #[command(hide = true)]
    CrashWriter(crash_writer::CrashWriterArgs),
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory that holds the cluster's data; created if missing, locked while serving.
    #[arg(long, default_value = "./kite-data")]
    pub data_dir: PathBuf,
    /// Directory of the built UI (`cargo xtask dist` writes `dist/`).
    #[arg(long, default_value = "./dist")]
    pub ui_dir: PathBuf,
    /// Least severe log level written to stderr: error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    pub log_level: tracing::Level,
    /// Flush (fsync) every append to disk before acknowledging it, as if every topic had
    /// flush.messages=1. Kafka's default, and Kite's, leaves flushing to the OS: Kafka is safe
    /// that way because its replicas live on separate machines, which rarely lose power together.
    /// Kite's replicas share one process and one disk, so without --fsync a power cut (not a
    /// process crash) can lose records acknowledged even with acks=all.
    #[arg(long)]
    pub fsync: bool,
    /// Require this token on every websocket connection (`?token=…` or `Authorization: Bearer …`)
    /// and, as the SASL/PLAIN password (any user name), on every Kafka connection.
    #[arg(long)]
    pub token: Option<String>,
    /// Also accept websocket upgrades from pages at this origin, e.g. https://docs.example.com
    /// (repeatable; the server's own origins are always accepted).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Also accept requests addressed to this Host, e.g. kite.internal:8080 (repeatable; this
    /// server's own addresses are always accepted).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// The most websocket connections served at once.
    #[arg(long, default_value_t = guard::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (the websocket handshake too)
    /// before its connection is closed.
    #[arg(long, default_value_t = serve::DEFAULT_HANDSHAKE_TIMEOUT_MS)]
    pub handshake_timeout_ms: u64,
    /// How long one message may take to reach a websocket client before a client that stopped
    /// reading is disconnected.
    #[arg(long, default_value_t = session::DEFAULT_WRITE_TIMEOUT_MS)]
    pub write_timeout_ms: u64,
    /// How many brokers a new cluster runs (default 3), each with its own directory (`broker-N`)
    /// under the data directory. With more than one they replicate, and a `controller` directory
    /// keeps the cluster's metadata. A stored cluster keeps the brokers it has (`kite cluster
    /// add-broker` / `remove-broker` change them); given, it must match.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=serve::MAX_BROKERS as i64))]
    pub brokers: Option<u32>,
    /// How many KRaft controllers a new replicated cluster runs: 1, 3 (the default), 5 or 7, each
    /// keeping its copy of the metadata log in `controller-N/__cluster_metadata-0/`. A stored
    /// cluster keeps the quorum it has; given, it must match.
    #[arg(long, value_parser = quorum_size)]
    pub controllers: Option<u32>,
    /// Let clients stop and start brokers (`kite cluster stop-broker`, the UI's cluster view).
    #[arg(long)]
    pub allow_faults: bool,
    /// A broker config the cluster starts with, as kafka-server-start's --override sets one
    /// (repeatable): auto.leader.rebalance.enable=false keeps leaders where a failover put them;
    /// leader.imbalance.check.interval.seconds=N moves them back to their preferred replicas
    /// every N seconds (Kafka's 300). Read-only while it runs, as in Kafka.
    #[arg(long = "override", value_name = "NAME=VALUE")]
    pub overrides: Vec<String>,
    /// Each broker's broker.rack, comma-separated (broker N gets the Nth; an empty entry leaves
    /// one without): eu-1a,eu-1b,eu-1c. New topics then place each partition's replicas in
    /// different racks, as Kafka does, so losing a rack loses at most one copy.
    #[arg(long, value_name = "RACK,RACK,…")]
    pub racks: Option<String>,
    /// Where broker 0's Kafka listener is, for Kafka clients (kcat, librdkafka, the Java client);
    /// broker N listens on the port N after it. Port 0: every broker gets a free port.
    #[arg(long, default_value = kafka_listener::DEFAULT_KAFKA_LISTEN)]
    pub kafka_listen: std::net::SocketAddr,
    /// The host name Metadata gives Kafka clients for every broker (default: the listener's address).
    #[arg(long, value_name = "HOST")]
    pub kafka_advertise: Option<String>,
    /// Open no Kafka listeners.
    #[arg(long)]
    pub no_kafka: bool,
    /// The directory Kite Connect's file connectors read and write (FileStreamSource's and
    /// FileStreamSink's `file`, a path inside it); default `<data-dir>/connect-files`.
    #[arg(long, value_name = "DIR")]
    pub connect_dir: Option<PathBuf>,
    /// For tests of the panic policy only: the engine's periodic turn panics once a topic of this
    /// name exists (a planted bug; kite serve must then exit, not linger).
    #[arg(long, hide = true, value_name = "TOPIC")]
    pub panic_on_topic: Option<String>,
}

/// `--controllers`: an odd quorum Kite runs (`kraft::check_quorum_size`).
fn quorum_size(value: &str) -> Result<u32, String> {
    let count: usize = value.parse().map_err(|_| format!("{value:?} is not a number of controllers"))?;
    kite_shared::replication::kraft::check_quorum_size(count).map(|n| n as u32)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Commands::Serve(args) => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_max_level(args.log_level)
                .init();
            match serve::serve(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("kite serve: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Commands::Topics { command, server } => {
            tool("topics", cli::topics(command, &server, &mut std::io::stdout()))
        }
        Commands::Produce(args) => {
            let stdin = std::io::stdin();
            let interactive = stdin.is_terminal();
            tool("produce", cli::produce(args, stdin.lock(), interactive, &mut std::io::stdout()))
        }
        Commands::Consume(args) => tool("consume", cli::consume(args, &mut std::io::stdout())),
        Commands::GetOffsets(args) => tool("get-offsets", cli::get_offsets(args, &mut std::io::stdout())),
        Commands::DeleteRecords(args) => {
            tool("delete-records", cli::delete_records(args, &mut std::io::stdout()))
        }
        Commands::InspectKafka(args) => {
            tool("inspect-kafka", cli::inspect_kafka(args, &mut std::io::stdout()))
        }
        Commands::Cluster {
            command:
                cli::ClusterCommand::ElectLeaders { election_type, topic, partition, all_topic_partitions },
            server,
        } => {
            let asked = partitions_cli::Elect { election_type, topic, partition, all_topic_partitions };
            tool("cluster", partitions_cli::elect_leaders(&server, asked, &mut std::io::stdout()))
        }
        Commands::Cluster { command, server } => {
            tool("cluster", cli::cluster(command, &server, &mut std::io::stdout()))
        }
        Commands::Partitions { command, server } => {
            tool("partitions", partitions_cli::partitions(command, &server, &mut std::io::stdout()))
        }
        Commands::Events(args) => tool("events", cli::events(args, &mut std::io::stdout())),
        Commands::Groups { command, server } => {
            tool("groups", groups_cli::groups(command, &server, &mut std::io::stdout()))
        }
        Commands::Connect { command, server } => {
            tool("connect", connect_cli::connect(command, &server, &mut std::io::stdout()))
        }
        Commands::Transactions { command, server } => {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            tool(
                "transactions",
                transactions_cli::transactions(command, &server, now_ms, &mut std::io::stdout()),
            )
        }
        Commands::Scenario { command } => {
            tool("scenario", scenario_cmd::run(command, &mut std::io::stdout()))
        }
        Commands::Snapshot { command } => {
            tool("snapshot", snapshot_cmd::run(command, &mut std::io::stdout()))
        }
        Commands::Sim(args) => match sim_cmd::run_sweep(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(err) => {
                eprintln!("kite sim: {err}");
                ExitCode::from(2)
            }
        },
        Commands::CrashWriter(args) => match crash_writer::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("kite crash-writer: {err}");
                ExitCode::FAILURE
            }
        },
    }
}

/// A tool's exit: its error on stderr and a failure status.
fn tool(name: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kite {name}: {err}");
            ExitCode::FAILURE
        }
    }
}
