//! The replication stories the UI will teach, as scripts in `replication_scenarios/*.story`, each
//! run on the simulator's scripted `Scenario` (seed 1) and compared with the `.trace` beside it
//! (`UPDATE_EXPECT=1` rewrites them; review the diff like code). Every `expect` line must hold.
//!
//! Script lines (`#` comments):
//! - `cluster [min-isr=N] [unclean=true] [fsync=true]` — first line: 3 brokers, one partition, RF 3.
//! - `produce VALUE [acks=all|1|0]` — through the current leader; waits for the answer.
//! - `crash B`, `isolate B`, `cut B` (off from the other brokers only), `pause B`, `heal B`
//!   (restart, reconnect, resume) — `B` is
//!   `broker-N`, `leader` (the current leader, remembered as `old-leader`) or `old-leader`.
//! - `wait MS`.
//! - `expect leader B|none`, `expect isr [..]`, `expect outcome acked|ERROR_NAME|unknown`,
//!   `expect committed V...` (below the leader's high watermark), `expect log B V...`.
//! - `check` — last line: heal everything, settle, drain, run the checker; print its findings.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::fmt::Write;

use kite_shared::config::Acks;
use kite_shared::replication::check::Outcome;
use kite_shared::replication::protocol::BrokerId;
use kite_shared::replication::sim::{START_MS, Scenario, ScenarioFault, SimConfig};

struct Runner {
    scenario: Option<Scenario>,
    old_leader: Option<BrokerId>,
    last_outcome: Option<Outcome>,
    trace: String,
    failures: Vec<String>,
    printed_events: usize,
}

impl Runner {
    fn scenario(&mut self) -> &mut Scenario {
        self.scenario.as_mut().expect("the first line is `cluster`")
    }

    fn broker(&mut self, word: &str) -> BrokerId {
        match word {
            "leader" => {
                let leader = self.scenario().leader(0).expect("a leader");
                self.old_leader = Some(leader);
                leader
            }
            "old-leader" => self.old_leader.expect("`leader` named earlier"),
            other => other
                .strip_prefix("broker-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a broker: {other}")),
        }
    }

    /// The engine's events since the last step, relative to the start.
    fn flush_events(&mut self) {
        let Some(scenario) = &self.scenario else { return };
        for (at, event) in &scenario.trace().events[self.printed_events..] {
            writeln!(self.trace, "    {:>6} ms  {event}", at - START_MS).unwrap();
        }
        self.printed_events = scenario.trace().events.len();
    }

    fn expect(&mut self, line: &str, holds: bool, actual: String) -> String {
        if holds {
            "ok".into()
        } else {
            self.failures.push(format!("{line}: got {actual}"));
            format!("EXPECTATION FAILED: got {actual}")
        }
    }

    fn step(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let result = match words.as_slice() {
            ["cluster", options @ ..] => {
                let mut config = SimConfig::safe(1);
                config.partitions = 1;
                for option in options {
                    match option.split_once('=') {
                        Some(("min-isr", n)) => config.min_insync_replicas = n.parse().unwrap(),
                        Some(("unclean", v)) => config.unclean_election = v == "true",
                        Some(("fsync", v)) => config.flush_every_append = v == "true",
                        _ => panic!("unknown cluster option {option}"),
                    }
                }
                self.scenario = Some(Scenario::new(config));
                "ready".into()
            }
            ["produce", value, rest @ ..] => {
                let acks = match rest.first().and_then(|r| r.strip_prefix("acks=")) {
                    Some("1") => Acks::Leader,
                    Some("0") => Acks::None,
                    _ => Acks::All,
                };
                let outcome = self.scenario().produce(0, value, acks);
                self.last_outcome = Some(outcome.clone());
                describe(&outcome)
            }
            [fault @ ("crash" | "isolate" | "cut" | "pause" | "heal"), who] => {
                let broker = self.broker(who);
                match *fault {
                    "crash" => self.scenario().fault(ScenarioFault::Crash(broker)),
                    "isolate" => self.scenario().fault(ScenarioFault::Isolate(broker)),
                    "cut" => self.scenario().fault(ScenarioFault::CutFromBrokers(broker)),
                    "pause" => self.scenario().fault(ScenarioFault::Pause(broker)),
                    _ => self.scenario().heal(broker),
                }
                format!("broker-{broker}")
            }
            ["wait", ms] => {
                self.scenario().wait(ms.parse().unwrap());
                "waited".into()
            }
            ["expect", "leader", who] => {
                let actual = self.scenario().leader(0);
                let expected = (*who != "none").then(|| self.broker(who));
                self.expect(line, actual == expected, format!("{actual:?}"))
            }
            ["expect", "isr", list] => {
                let actual =
                    format!("{:?}", self.scenario().state(0).map(|s| s.isr.clone()).unwrap_or_default())
                        .replace(' ', "");
                self.expect(line, actual == *list, actual.clone())
            }
            ["expect", "outcome", expected] => {
                let actual = self.last_outcome.as_ref().map_or("none".into(), describe);
                self.expect(line, actual.starts_with(expected), actual.clone())
            }
            ["expect", "committed", values @ ..] => {
                let actual: Vec<String> = self.scenario().committed(0).into_iter().map(|(_, v)| v).collect();
                self.expect(line, actual == values, format!("{actual:?}"))
            }
            ["expect", "log", who, values @ ..] => {
                let broker = self.broker(who);
                let actual: Vec<String> =
                    self.scenario().replica_log(broker, 0).into_iter().map(|(_, v)| v).collect();
                self.expect(line, actual == values, format!("{actual:?}"))
            }
            ["check"] => {
                let scenario = self.scenario.take().expect("a cluster");
                let (violations, trace) = scenario.check();
                for (at, event) in &trace.events[self.printed_events..] {
                    writeln!(self.trace, "    {:>6} ms  {event}", at - START_MS).unwrap();
                }
                self.printed_events = trace.events.len();
                if violations.is_empty() {
                    "the checker finds nothing".into()
                } else {
                    let lines: Vec<String> =
                        violations.iter().map(|v| format!("\n    VIOLATION {v}")).collect();
                    format!("the checker finds {}:{}", violations.len(), lines.concat())
                }
            }
            _ => panic!("unknown step {line:?}"),
        };
        self.flush_events();
        writeln!(self.trace, "< {result}").unwrap();
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Acked(offset) => format!("acked at offset {offset}"),
        Outcome::Failed(error) => error.name().to_string(),
        Outcome::Indeterminate => "unknown (no answer in time)".into(),
        Outcome::Unanswered => "sent (acks=0: no answer)".into(),
    }
}

fn run(script: &str) -> (String, Vec<String>) {
    let mut runner = Runner {
        scenario: None,
        old_leader: None,
        last_outcome: None,
        trace: String::new(),
        failures: Vec::new(),
        printed_events: 0,
    };
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        writeln!(runner.trace, "> {line}").unwrap();
        runner.step(line);
    }
    (runner.trace, runner.failures)
}

#[test]
fn replication_stories_match_their_traces() {
    common::check_stories("replication_scenarios", 7, run);
}

#[test]
fn the_controller_keeps_a_metadata_log_of_every_change() {
    use kite_shared::replication::protocol::MetadataRecord;
    let mut scenario = Scenario::new(SimConfig { partitions: 1, ..SimConfig::safe(1) });
    let leader = scenario.leader(0).unwrap();
    scenario.fault(ScenarioFault::Crash(leader));
    scenario.wait(3_000);
    let log = scenario.metadata_log();
    let registered = log.iter().filter(|r| matches!(r, MetadataRecord::RegisterBroker { .. })).count();
    assert_eq!(registered, 3, "{log:#?}");
    assert!(
        matches!(&log[3], MetadataRecord::Topic { name, partitions: 1, .. } if name == "sim"),
        "{log:#?}"
    );
    assert!(log.contains(&MetadataRecord::FenceBroker { broker: leader }));
    let last = log.iter().rev().find_map(|r| match r {
        MetadataRecord::Partition(state) => Some(state),
        _ => None,
    });
    let last = last.expect("partition records");
    assert_ne!(last.leader, Some(leader), "the log ends with the new leader");
    assert_eq!(Some(last), scenario.state(0), "replaying the log gives the controller's state");
}
