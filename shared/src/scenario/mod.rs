//! Scenario scripts: a small line-oriented language a docs author writes to set up a cluster and
//! play steps on it — topics, produces, broker faults, consumers, waits, pauses for the reader —
//! and to assert what Kafka does ("expect partition 2", "expect error NOT_ENOUGH_REPLICAS").
//! `parse` reads a script (errors name the line and what was expected); `ScenarioRun` plays it on
//! a cluster, deterministically: the seed is the script's and the clock is virtual.
//! docs/scenarios.md is the language's reference.

mod parse;
mod run;
mod url;

pub use crate::api::{Outcome, Prediction, StepReport};
pub use parse::parse;
pub use run::{SCENARIO_START_MS, ScenarioRun};
pub use url::{URL_FORMAT_VERSION, from_url, from_url_within, to_url};

use crate::api::Command;

/// The most lines a script may have.
pub const MAX_SCENARIO_LINES: usize = 2_000;
/// The most brokers a script may ask for.
pub const MAX_SCENARIO_BROKERS: usize = 9;
/// The most choices an `ask` may offer.
pub const MAX_ASK_CHOICES: usize = 6;
/// The most bytes a script may have once inflated from a URL.
pub const MAX_SCENARIO_BYTES: usize = 64 * 1024;
/// The longest single `wait`, in milliseconds (an hour).
pub const MAX_SCENARIO_WAIT_MS: i64 = 3_600_000;
/// The most virtual time a whole script's waits may add up to, in milliseconds (two hours): each
/// 100 ms of it is a turn of every broker's timers, and a script is untrusted input (a URL, an
/// upload).
pub const MAX_SCENARIO_TOTAL_WAIT_MS: i64 = 7_200_000;

/// A parsed script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// Every random choice of the cluster comes from it (`seed N`; 1 when not given).
    pub seed: u64,
    /// `brokers N` (3 when not given).
    pub brokers: usize,
    /// `controllers N`: the KRaft quorum of a replicated cluster (3 when not given).
    pub controllers: usize,
    /// `broker-config NAME=VALUE …`: the broker configs the cluster starts with (Kafka's defaults
    /// when not given).
    pub broker_configs: crate::config::BrokerConfigs,
    /// `racks R R …`: broker N's `broker.rack` is the Nth (none when not given).
    pub racks: Vec<Option<String>>,
    /// The script's steps, in the order they play.
    pub steps: Vec<Step>,
}

/// One step and the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// 1-based.
    pub line: usize,
    /// The line's text, trimmed, as a step's report shows it.
    pub source: String,
    /// What the step does.
    pub action: Action,
}

/// What one step of a script does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A request to the engine, as the API has it.
    Request(Command),
    /// `consumer NAME group G topic T [read_committed|read_uncommitted]`: a consumer the run polls
    /// once a second of virtual time.
    OpenConsumer {
        /// The name expectations and reports use; also the consumer's `client.id`.
        name: String,
        /// The consumer group it joins.
        group: String,
        /// The topic it subscribes to.
        topic: String,
        /// `isolation.level=read_committed`: it reads committed transactions' records only.
        read_committed: bool,
    },
    /// `begin TXN`: the script's transactional producer `TXN` (its `transactional.id`; its id
    /// and epoch asked for first, InitTransactions) opens a transaction: the `produce` lines
    /// after it are written in the transaction until `commit TXN` or `abort TXN`.
    Begin {
        /// The producer's `transactional.id`.
        transactional_id: String,
    },
    /// `commit TXN` / `abort TXN`: the open transaction ends; the coordinator writes a COMMIT or
    /// ABORT marker to every partition it wrote to.
    EndTransaction {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// Commit (true) or abort.
        commit: bool,
    },
    /// `wait MS`: virtual time passes (consumers poll, brokers fence, groups rebalance).
    Wait {
        /// How much virtual time passes, in ms (at most `MAX_SCENARIO_WAIT_MS`).
        ms: i64,
    },
    /// `pause "…"` (or `pause "…" ko "…"`): the run stops here until the reader continues.
    Pause {
        /// What to tell the reader.
        text: String,
        /// The same in Korean, for a Korean page (`ko "…"` after the English).
        ko: Option<String>,
    },
    /// `ask "…" [ko "…"] choices A B … answer A`: the run stops for the reader to predict; the
    /// `expect` after it (the parser requires one before the next pause or question) settles the
    /// prediction, and holding proves the answer is what the engine does.
    Ask {
        /// The question.
        text: String,
        /// The same in Korean.
        ko: Option<String>,
        /// What the reader may answer (2 to `MAX_ASK_CHOICES`).
        choices: Vec<String>,
        /// The script's answer, one of the choices.
        answer: String,
    },
    /// `expect …`: a check of the cluster at this point, which fails the run when it does not hold.
    Expect(Expectation),
    /// `produce … idempotent`: the script's idempotent producer sends the record — its producer
    /// id asked for first (InitProducerId), the record numbered with its sequence for the
    /// partition it lands in.
    ProduceIdempotent(Command),
    /// `retry`: the last record produced sent again exactly as it went (its partition, its
    /// sequence), as a producer retries a batch whose answer was lost.
    Retry,
}

/// What an `expect` line checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// The last produce went to this partition.
    Partition(i32),
    /// The last produce got this offset, or the last `offsets` lookup found it.
    Offset(i64),
    /// The last request was refused with this Kafka error name.
    Error(String),
    /// The last request succeeded.
    Ok,
    /// The partition's leader (`None`: offline).
    Leader {
        /// The partition's topic.
        topic: String,
        /// The partition's number.
        partition: i32,
        /// The broker expected to lead it; `None` when it is expected offline.
        broker: Option<i32>,
    },
    /// The partition's replicas, in assignment order (the first is the preferred leader); while
    /// it is being reassigned, the target's followed by those leaving.
    Replicas {
        /// The partition's topic.
        topic: String,
        /// The partition's number.
        partition: i32,
        /// The brokers expected, in order.
        brokers: Vec<i32>,
    },
    /// The brokers in the cluster (registered, or leaving), in id order: `expect brokers 1,2,3`.
    Brokers(Vec<i32>),
    /// The KRaft controller that is active (`expect controller 1`), or that none is while the
    /// quorum elects one or has no majority (`expect controller none`).
    ActiveController(Option<i32>),
    /// The partition's in-sync replicas, in any order.
    Isr {
        /// The partition's topic.
        topic: String,
        /// The partition's number.
        partition: i32,
        /// The brokers expected in the ISR, in any order.
        brokers: Vec<i32>,
    },
    /// A Kite Connect connector and every task of it are in this state (`RUNNING`, `FAILED`, …).
    Connector {
        /// The connector.
        name: String,
        /// The state expected, by Kafka Connect's name.
        state: String,
    },
    /// A file of the connect directory holds this many lines.
    FileLines {
        /// The file.
        path: String,
        /// How many lines (`\n`-ended) it is expected to hold.
        lines: i64,
    },
    /// A JDBC sink's table holds this many rows.
    TableRows {
        /// The database (`connection.url` without `jdbc:sqlite:`).
        database: String,
        /// The table.
        table: String,
        /// How many rows it is expected to hold.
        rows: i64,
    },
    /// A schema registry subject holds this many versions (what the AvroConverter registered).
    SubjectVersions {
        /// The subject (`<topic>-value`, `<topic>-key`).
        subject: String,
        /// How many versions it is expected to hold.
        versions: i64,
    },
    /// The topic's committed records (each partition's high watermark less its log start).
    Records {
        /// The topic counted.
        topic: String,
        /// How many committed records it is expected to hold, over all its partitions.
        count: i64,
    },
    /// The group's total lag over its partitions; a partition without a committed offset counts its
    /// whole log end offset.
    Lag {
        /// The consumer group.
        group: String,
        /// The total lag expected, in records.
        lag: i64,
    },
    /// How many partitions the group's coordinator assigned to one of its members (named by the
    /// `consumer NAME` that opened it, its `client.id`).
    Assigned {
        /// The consumer group.
        group: String,
        /// The member's name.
        member: String,
        /// The partitions expected in its assignment.
        count: i64,
    },
    /// How many records a consumer reads from the start of every partition of the topic, read
    /// committed (skipping aborted transactions, stopping at the last stable offset) or not.
    Readable {
        /// The topic read.
        topic: String,
        /// The records expected.
        count: i64,
        /// `read_committed` (true) or `read_uncommitted`.
        read_committed: bool,
    },
    /// The partition's last stable offset: where a read_committed consumer stops, at the first
    /// offset of the oldest open transaction (or the high watermark).
    StableOffset {
        /// The partition's topic.
        topic: String,
        /// The partition's number.
        partition: i32,
        /// The offset expected.
        offset: i64,
    },
    /// How many segments the partition's leader keeps its log in (a log rolls to a new segment
    /// at `segment.bytes` or `segment.ms`).
    Segments {
        /// The partition's topic.
        topic: String,
        /// The partition's number.
        partition: i32,
        /// The segments expected.
        count: i64,
    },
}

/// Why a script cannot be read: the line (1-based) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line the problem is on, 1-based.
    pub line: usize,
    /// What was expected there, and what was found.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}
