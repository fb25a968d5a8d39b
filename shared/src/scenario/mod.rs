//! Scenario scripts: a small line-oriented language a docs author writes to set up a cluster and
//! play steps on it — topics, produces, broker faults, consumers, waits, pauses for the reader —
//! and to assert what Kafka does ("expect partition 2", "expect error NOT_ENOUGH_REPLICAS").
//! `parse` reads a script (errors name the line and what was expected); `ScenarioRun` plays it on
//! a cluster, deterministically: the seed is the script's and the clock is virtual.
//! docs/scenarios.md is the language's reference.

mod parse;
mod run;
mod url;

pub use crate::api::{Outcome, StepReport};
pub use parse::parse;
pub use run::{SCENARIO_START_MS, ScenarioRun};
pub use url::{URL_FORMAT_VERSION, from_url, from_url_within, to_url};

use crate::api::Command;

/// The most lines a script may have.
pub const MAX_SCENARIO_LINES: usize = 2_000;
/// The most brokers a script may ask for.
pub const MAX_SCENARIO_BROKERS: usize = 9;
/// The most bytes a script may have once inflated from a URL.
pub const MAX_SCENARIO_BYTES: usize = 64 * 1024;
/// The longest single `wait`, in milliseconds (an hour).
pub const MAX_SCENARIO_WAIT_MS: i64 = 3_600_000;

/// A parsed script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// Every random choice of the cluster comes from it (`seed N`; 1 when not given).
    pub seed: u64,
    /// `brokers N` (3 when not given).
    pub brokers: usize,
    pub steps: Vec<Step>,
}

/// One step and the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// 1-based.
    pub line: usize,
    pub source: String,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A request to the engine, as the API has it.
    Request(Command),
    /// `consumer NAME group G topic T`: a consumer the run polls once a second of virtual time.
    OpenConsumer {
        name: String,
        group: String,
        topic: String,
    },
    /// `wait MS`: virtual time passes (consumers poll, brokers fence, groups rebalance).
    Wait {
        ms: i64,
    },
    /// `pause "…"`: the run stops here until the reader continues.
    Pause {
        text: String,
    },
    Expect(Expectation),
}

/// What an `expect` line checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// The last produce went to this partition.
    Partition(i32),
    /// The last produce got this offset.
    Offset(i64),
    /// The last request was refused with this Kafka error name.
    Error(String),
    /// The last request succeeded.
    Ok,
    /// The partition's leader (`None`: offline).
    Leader { topic: String, partition: i32, broker: Option<i32> },
    /// The partition's in-sync replicas, in any order.
    Isr { topic: String, partition: i32, brokers: Vec<i32> },
    /// The topic's committed records (each partition's high watermark less its log start).
    Records { topic: String, count: i64 },
    /// The group's total lag.
    Lag { group: String, lag: i64 },
}

/// Why a script cannot be read: the line (1-based) and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}
