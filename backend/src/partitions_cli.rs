//! Where partitions live and who leads them, against a running `kite serve`: `kite partitions
//! reassign`, like kafka-reassign-partitions (`--generate` proposes a plan moving whole topics
//! onto a broker list, `--execute` starts one, printing the current assignment to roll back to,
//! `--verify` says which moves are done, `--cancel` reverts the ones in progress; plans are
//! kafka-reassign-partitions' own JSON; `--throttle` limits the replication they cause, see
//! `throttle_cli`); and `kite cluster elect-leaders`, like
//! kafka-leader-election.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kite_backend::client::ApiClient;
use kite_shared::api::{Command, PartitionRef, ReassignmentTarget, Reply, TopicDescription};
use kite_shared::config::ElectionType;
use kite_shared::replication::controller::{assign_replicas, assign_replicas_rack_aware};

use crate::cli::{ElectionArg, ServerArg, kafka_error};

/// The largest plan file read: a plan for every partition a cluster may hold is far smaller.
const MAX_PLAN_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(clap::Subcommand)]
pub(crate) enum PartitionsCommand {
    /// Move partitions' replicas between brokers, like kafka-reassign-partitions: --generate a
    /// plan, --execute it, --verify it, or --cancel it.
    Reassign(ReassignArgs),
}

#[derive(clap::Args)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("mode").required(true).multiple(false))]
pub(crate) struct ReassignArgs {
    /// Propose a plan that spreads the topics of --topics-to-move-json-file over --broker-list.
    #[arg(long, group = "mode")]
    generate: bool,
    /// Start the moves of --reassignment-json-file.
    #[arg(long, group = "mode")]
    execute: bool,
    /// Say which moves of --reassignment-json-file are done.
    #[arg(long, group = "mode")]
    verify: bool,
    /// Cancel the moves of --reassignment-json-file still in progress (their replicas go back).
    #[arg(long, group = "mode")]
    cancel: bool,
    /// `{"version":1,"topics":[{"topic":"orders"}]}`: the topics --generate moves.
    #[arg(long, value_name = "FILE")]
    topics_to_move_json_file: Option<PathBuf>,
    /// The brokers --generate places replicas on, e.g. "0,1,2".
    #[arg(long, value_name = "IDS")]
    broker_list: Option<String>,
    /// A plan: `{"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[1,2]}]}`.
    #[arg(long, value_name = "FILE")]
    reassignment_json_file: Option<PathBuf>,
    /// With --execute: throttle the replication the moves cause to this many bytes/s per broker
    /// (leader.replication.throttled.rate and follower.replication.throttled.rate); --verify
    /// clears it once every move is done.
    #[arg(long, value_name = "BYTES_PER_SEC", requires = "execute")]
    throttle: Option<u64>,
    /// With --verify: leave the throttles in place when the moves are done.
    #[arg(long, requires = "verify")]
    preserve_throttles: bool,
}

#[derive(serde::Deserialize)]
struct Plan {
    partitions: Vec<ReassignmentTarget>,
}

#[derive(serde::Deserialize)]
struct TopicsToMove {
    topics: Vec<TopicToMove>,
}

#[derive(serde::Deserialize)]
struct TopicToMove {
    topic: String,
}

pub(crate) fn partitions(
    command: PartitionsCommand,
    server: &ServerArg,
    out: &mut impl Write,
) -> Result<(), String> {
    let PartitionsCommand::Reassign(args) = command;
    let mut connection = ApiClient::connect(&server.server)?;
    let topics = match connection.request(Command::ListTopics)? {
        Reply::Topics { topics } => topics,
        other => return Err(kafka_error(other)),
    };
    let text = if args.generate {
        // Each broker's rack: the plan spreads replicas over racks, as Kafka's --generate does.
        let racks = match connection.request(Command::DescribeCluster)? {
            Reply::ClusterDescribed { brokers, .. } => {
                brokers.into_iter().filter_map(|b| Some((b.id, b.rack?))).collect()
            }
            other => return Err(kafka_error(other)),
        };
        generate(&args, &topics, &racks)?
    } else {
        let file = args.reassignment_json_file.as_deref().ok_or("--reassignment-json-file is required")?;
        let plan: Plan = read_json(file)?;
        if args.execute {
            execute(&mut connection, &topics, plan.partitions, args.throttle)?
        } else if args.verify {
            let mut text = verify(&mut connection, &topics, &plan.partitions)?;
            if !args.preserve_throttles && !text.contains("still in progress") {
                text.push_str(&crate::throttle_cli::clear_throttles(&mut connection, &plan.partitions)?);
            }
            text
        } else {
            cancel(&mut connection, &plan.partitions)?
        }
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_PLAN_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() as u64 > MAX_PLAN_FILE_BYTES {
        return Err(format!("{}: larger than {MAX_PLAN_FILE_BYTES} bytes", path.display()));
    }
    serde_json::from_str(&text).map_err(|e| format!("{}: not a plan kite can read: {e}", path.display()))
}

/// kafka-reassign-partitions' JSON for partitions and their replicas.
fn plan_json<'a>(partitions: impl Iterator<Item = (&'a str, i32, &'a [i32])>) -> String {
    let partitions: Vec<serde_json::Value> = partitions
        .map(|(topic, partition, replicas)| {
            serde_json::json!({
                "topic": topic, "partition": partition, "replicas": replicas,
                "log_dirs": vec!["any"; replicas.len()],
            })
        })
        .collect();
    serde_json::json!({ "version": 1, "partitions": partitions }).to_string()
}

fn current<'a>(topics: &'a [TopicDescription], wanted: &[(String, i32)]) -> Vec<(&'a str, i32, &'a [i32])> {
    wanted
        .iter()
        .filter_map(|(topic, partition)| {
            let t = topics.iter().find(|t| &t.name == topic)?;
            let p = t.partitions.iter().find(|p| p.partition == *partition)?;
            Some((t.name.as_str(), p.partition, p.replicas.as_slice()))
        })
        .collect()
}

/// The topics' current assignment and a proposal over the broker list, each topic keeping its
/// replication factor, placed as Kafka places a new topic's replicas.
fn generate(
    args: &ReassignArgs,
    topics: &[TopicDescription],
    racks: &std::collections::BTreeMap<i32, String>,
) -> Result<String, String> {
    let file = args.topics_to_move_json_file.as_deref().ok_or("--topics-to-move-json-file is required")?;
    let moving: TopicsToMove = read_json(file)?;
    let list = args.broker_list.as_deref().ok_or("--broker-list is required")?;
    let brokers: Vec<i32> = list
        .split(',')
        .map(|b| b.trim().parse().map_err(|_| format!("--broker-list: {b:?} is not a broker id")))
        .collect::<Result<_, _>>()?;
    let mut now = Vec::new();
    let mut proposed = Vec::new();
    for TopicToMove { topic } in &moving.topics {
        let t = topics.iter().find(|t| &t.name == topic).ok_or_else(|| format!("Topic {topic} not found"))?;
        let factor = t.partitions.first().map_or(1, |p| p.replicas.len());
        if factor > brokers.len() {
            return Err(format!(
                "Replication factor: {factor} larger than available brokers: {}.",
                brokers.len()
            ));
        }
        // Where the first replica of partition 0 goes: from the name, so the plan is the same
        // each time it is generated (Kafka draws it at random).
        let start = topic.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
        let (count, start) = (t.partitions.len(), start % brokers.len());
        let assignment = if brokers.iter().any(|b| racks.contains_key(b)) {
            let with_racks: Vec<(i32, String)> =
                brokers.iter().map(|b| (*b, racks.get(b).cloned().unwrap_or_default())).collect();
            assign_replicas_rack_aware(&with_racks, count, factor, start, 0)
        } else {
            assign_replicas(&brokers, count, factor, start, 0)
        };
        for (p, replicas) in t.partitions.iter().zip(assignment) {
            now.push((t.name.as_str(), p.partition, p.replicas.as_slice()));
            proposed.push((t.name.clone(), p.partition, replicas));
        }
    }
    let proposal = plan_json(proposed.iter().map(|(t, p, r)| (t.as_str(), *p, r.as_slice())));
    Ok(format!(
        "Current partition replica assignment\n{}\n\nProposed partition reassignment configuration\n{proposal}\n",
        plan_json(now.into_iter())
    ))
}

fn names(partitions: &[ReassignmentTarget]) -> String {
    partitions.iter().map(|p| format!("{}-{}", p.topic, p.partition)).collect::<Vec<_>>().join(",")
}

fn alter(connection: &mut ApiClient, partitions: Vec<ReassignmentTarget>) -> Result<(), String> {
    let results = match connection.request(Command::AlterPartitionReassignments { partitions })? {
        Reply::ReassignmentsAltered { results } => results,
        other => return Err(kafka_error(other)),
    };
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| {
            let e = r.error.as_ref()?;
            Some(format!(
                "{}-{}: {} ({}): {}",
                r.topic,
                r.partition,
                e.error.name(),
                e.error.code(),
                e.message
            ))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("Error reassigning partition(s):\n{}", failed.join("\n")))
    }
}

fn execute(
    connection: &mut ApiClient,
    topics: &[TopicDescription],
    partitions: Vec<ReassignmentTarget>,
    throttle: Option<u64>,
) -> Result<String, String> {
    let wanted: Vec<(String, i32)> = partitions.iter().map(|p| (p.topic.clone(), p.partition)).collect();
    let rollback = plan_json(current(topics, &wanted).into_iter());
    let started = names(&partitions);
    let plural = if partitions.len() == 1 { "" } else { "s" };
    // The throttle goes first, so the replicas the moves add fetch under it from their start.
    let throttled = match throttle {
        Some(rate) => crate::throttle_cli::set_throttle(connection, topics, &partitions, rate)?,
        None => String::new(),
    };
    alter(connection, partitions)?;
    Ok(format!(
        "Current partition replica assignment\n\n{rollback}\n\nSave this to use as the --reassignment-json-file option during rollback\n{throttled}Successfully started partition reassignment{plural} for {started}\n"
    ))
}

fn verify(
    connection: &mut ApiClient,
    topics: &[TopicDescription],
    partitions: &[ReassignmentTarget],
) -> Result<String, String> {
    let moving = match connection.request(Command::ListPartitionReassignments)? {
        Reply::Reassignments { reassignments } => reassignments,
        other => return Err(kafka_error(other)),
    };
    let mut text = String::from("Status of partition reassignment:\n");
    for p in partitions {
        let name = format!("{}-{}", p.topic, p.partition);
        let now = current(topics, &[(p.topic.clone(), p.partition)]).first().map(|(_, _, r)| r.to_vec());
        let line = if moving.iter().any(|m| m.topic == p.topic && m.partition == p.partition) {
            format!("Reassignment of partition {name} is still in progress.")
        } else if p.replicas.is_some() && now != p.replicas {
            let list = |r: &[i32]| r.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            format!(
                "There is no active reassignment of partition {name}, but replica set is {} rather than {}.",
                list(&now.unwrap_or_default()),
                list(p.replicas.as_deref().unwrap_or_default())
            )
        } else {
            format!("Reassignment of partition {name} is completed.")
        };
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

fn cancel(connection: &mut ApiClient, partitions: &[ReassignmentTarget]) -> Result<String, String> {
    let cancels: Vec<ReassignmentTarget> =
        partitions.iter().map(|p| ReassignmentTarget { replicas: None, ..p.clone() }).collect();
    let cancelled = names(&cancels);
    alter(connection, cancels)?;
    Ok(format!("Successfully cancelled partition reassignment(s) for: {cancelled}\n"))
}

/// What `kite cluster elect-leaders` was asked.
pub(crate) struct Elect {
    pub election_type: ElectionArg,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub all_topic_partitions: bool,
}

/// kafka-leader-election's report: the partitions elected, those whose leader was already the
/// one asked for, and each refusal (which fails the command).
pub(crate) fn elect_leaders(server: &ServerArg, asked: Elect, out: &mut impl Write) -> Result<(), String> {
    let connection = &mut ApiClient::connect(&server.server)?;
    let (election, kind) = match asked.election_type {
        ElectionArg::Preferred => (ElectionType::Preferred, "PREFERRED"),
        ElectionArg::Unclean => (ElectionType::Unclean, "UNCLEAN"),
    };
    let partitions = match (asked.topic, asked.partition, asked.all_topic_partitions) {
        (None, _, true) => None,
        (Some(topic), Some(partition), false) => Some(vec![PartitionRef { topic, partition }]),
        (Some(topic), None, false) => {
            let topics = match connection.request(Command::ListTopics)? {
                Reply::Topics { topics } => topics,
                other => return Err(kafka_error(other)),
            };
            let t =
                topics.iter().find(|t| t.name == topic).ok_or_else(|| format!("Topic {topic} not found"))?;
            Some(
                t.partitions
                    .iter()
                    .map(|p| PartitionRef { topic: topic.clone(), partition: p.partition })
                    .collect(),
            )
        }
        _ => {
            return Err(
                "one of --all-topic-partitions or --topic (with or without --partition) is required".into()
            );
        }
    };
    let results = match connection.request(Command::ElectLeaders { election, partitions })? {
        Reply::LeadersElected { results } => results,
        other => return Err(kafka_error(other)),
    };
    let name = |r: &kite_shared::api::PartitionResult| format!("{}-{}", r.topic, r.partition);
    let elected: Vec<String> = results.iter().filter(|r| r.error.is_none()).map(name).collect();
    let needless = |r: &&kite_shared::api::PartitionResult| {
        r.error.as_ref().is_some_and(|e| e.error == kite_shared::error::ErrorCode::ElectionNotNeeded)
    };
    let already: Vec<String> = results.iter().filter(needless).map(name).collect();
    let mut text = String::new();
    if !elected.is_empty() {
        text.push_str(&format!(
            "Successfully completed leader election ({kind}) for partitions {}\n",
            elected.join(", ")
        ));
    }
    if !already.is_empty() {
        text.push_str(&format!("Valid replica already elected for partitions {}\n", already.join(", ")));
    }
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !needless(r))
        .filter_map(|r| {
            let e = r.error.as_ref()?;
            Some(format!(
                "Error completing leader election ({kind}) for partition: {}: {} ({}): {}",
                name(r),
                e.error.name(),
                e.error.code(),
                e.message
            ))
        })
        .collect();
    if failed.is_empty() { Ok(()) } else { Err(failed.join("\n")) }
}
