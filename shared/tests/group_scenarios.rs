//! The consumer-group stories, as scripts in `group_scenarios/*.story`, each run on the
//! simulator's scripted `Scenario` (seed 1: 3 brokers, RF 3, `__consumer_offsets` with 3
//! partitions) with real members of `sim-group`, compared with the `.trace` beside it
//! (`UPDATE_EXPECT=1` rewrites them; review the diff like code). Every `expect` line must hold.
//! The trace shows the group's events (rebalances, generations, assignments, coordinator moves)
//! and faults; record-level events are left out so the stories stay readable.
//!
//! Script lines (`#` comments):
//! - `cluster partitions=N` — first line.
//! - `produce N` — N new values `v<i>`, value i to partition i mod N, acks=all.
//! - `member NAME assignor=A[,B] [reset=earliest|latest|none]` — a member subscribed to `sim`.
//! - `crash NAME` (no goodbye: its session must time out), `close NAME` (finishes, commits,
//!   LeaveGroup), `restart NAME` (a new client and member id).
//! - `crash-broker coordinator`, `heal-broker old-coordinator`.
//! - `wait MS`.
//! - `reset-offsets to-earliest|to-latest|to-offset N|shift-by N`.
//! - `expect assignment NAME P,P|none`, `expect state STATE`, `expect committed P=N ...`,
//!   `expect processed N` (records processed by all members so far), `expect coordinator-moved`.
//! - `check` — last line: heal everything, settle, run the checker.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write;

use kite_shared::config::Acks;
use kite_shared::group::consumer::{ConsumerConfig, OffsetReset};
use kite_shared::replication::protocol::BrokerId;
use kite_shared::replication::sim::{ResetTo, START_MS, Scenario, ScenarioFault, SimConfig};
use kite_shared::trace::Event;

struct Runner {
    scenario: Option<Scenario>,
    members: BTreeMap<String, u32>,
    produced: usize,
    old_coordinator: Option<BrokerId>,
    trace: String,
    failures: Vec<String>,
    printed_events: usize,
}

/// The events a group story shows.
fn shown(event: &Event) -> bool {
    match event {
        Event::GroupsLoaded { .. }
        | Event::GroupsUnloaded { .. }
        | Event::GroupPreparing { .. }
        | Event::GroupGeneration { .. }
        | Event::GroupStable { .. }
        | Event::GroupMemberRemoved { .. }
        | Event::Assignment { .. }
        | Event::Fault { .. } => true,
        Event::Election { tp, .. } => tp.topic == "__consumer_offsets",
        _ => false,
    }
}

fn partitions(list: &[kite_shared::replication::protocol::TopicPartition]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter().map(|tp| tp.to_string()).collect::<Vec<_>>().join(",")
}

impl Runner {
    fn scenario(&mut self) -> &mut Scenario {
        self.scenario.as_mut().expect("the first line is `cluster`")
    }

    fn member(&self, name: &str) -> u32 {
        *self.members.get(name).unwrap_or_else(|| panic!("no member {name}"))
    }

    fn flush_events(&mut self) {
        let Some(scenario) = &self.scenario else { return };
        for (at, event) in &scenario.trace().events[self.printed_events..] {
            if shown(event) {
                writeln!(self.trace, "    {:>6} ms  {event}", at - START_MS).unwrap();
            }
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
                for option in options {
                    match option.split_once('=') {
                        Some(("partitions", n)) => config.partitions = n.parse().unwrap(),
                        _ => panic!("unknown cluster option {option}"),
                    }
                }
                self.scenario = Some(Scenario::with_groups(config));
                "ready".into()
            }
            ["produce", n] => {
                let n: usize = n.parse().unwrap();
                let count =
                    (0..).take_while(|p| self.scenario.as_ref().unwrap().state(*p).is_some()).count() as i32;
                let mut acked = 0;
                for i in self.produced..self.produced + n {
                    let value = format!("v{i}");
                    let outcome = self.scenario().produce(i as i32 % count, &value, Acks::All);
                    acked +=
                        usize::from(matches!(outcome, kite_shared::replication::check::Outcome::Acked(_)));
                }
                self.produced += n;
                format!("{acked} of {n} acked")
            }
            ["member", name, options @ ..] => {
                let mut config = ConsumerConfig {
                    session_timeout_ms: 1_500,
                    heartbeat_interval_ms: 300,
                    max_poll_interval_ms: 3_000,
                    max_poll_records: 20,
                    auto_commit_interval_ms: 200,
                    auto_offset_reset: OffsetReset::Earliest,
                    request_timeout_ms: 1_000,
                    retry_backoff_ms: 50,
                    metadata_max_age_ms: 1_000,
                    ..ConsumerConfig::new(name, Some("sim-group"))
                };
                for option in options {
                    match option.split_once('=') {
                        Some(("assignor", list)) => {
                            config.assignors = list.split(',').map(str::to_string).collect()
                        }
                        Some(("reset", "earliest")) => config.auto_offset_reset = OffsetReset::Earliest,
                        Some(("reset", "latest")) => config.auto_offset_reset = OffsetReset::Latest,
                        Some(("reset", "none")) => config.auto_offset_reset = OffsetReset::None,
                        _ => panic!("unknown member option {option}"),
                    }
                }
                let index = self.scenario().add_member(config);
                self.members.insert(name.to_string(), index);
                format!("{name} is client-{}", self.scenario().member_client(index).unwrap())
            }
            [action @ ("crash" | "close" | "restart"), name] => {
                let index = self.member(name);
                match *action {
                    "crash" => self.scenario().crash_member(index),
                    "close" => self.scenario().close_member(index),
                    _ => self.scenario().restart_member(index),
                }
                match self.scenario().member_client(index) {
                    Some(client) if *action == "restart" => format!("{name} is client-{client}"),
                    _ => "done".into(),
                }
            }
            ["crash-broker", "coordinator"] => {
                let broker = self.scenario().coordinator().expect("a coordinator");
                self.old_coordinator = Some(broker);
                self.scenario().fault(ScenarioFault::Crash(broker));
                format!("broker-{broker}")
            }
            ["heal-broker", "old-coordinator"] => {
                let broker = self.old_coordinator.expect("crash-broker coordinator first");
                self.scenario().heal_broker(broker);
                format!("broker-{broker}")
            }
            ["wait", ms] => {
                self.scenario().wait(ms.parse().unwrap());
                "waited".into()
            }
            ["reset-offsets", how @ ..] => {
                let to = match how {
                    ["to-earliest"] => ResetTo::Earliest,
                    ["to-latest"] => ResetTo::Latest,
                    ["to-offset", n] => ResetTo::Offset(n.parse().unwrap()),
                    ["shift-by", n] => ResetTo::ShiftBy(n.parse().unwrap()),
                    _ => panic!("unknown reset {how:?}"),
                };
                match self.scenario().reset_offsets(to) {
                    Ok(offsets) => {
                        let list: Vec<String> = offsets.iter().map(|(tp, o)| format!("{tp}={o}")).collect();
                        format!("reset {}", list.join(" "))
                    }
                    Err(e) => format!("refused: {e}"),
                }
            }
            ["expect", "assignment", name, list] => {
                let index = self.member(name);
                let actual = partitions(&self.scenario().member_assignment(index));
                self.expect(line, actual == *list, actual.clone())
            }
            ["expect", "state", state] => {
                let actual = self
                    .scenario()
                    .describe_group()
                    .map_or("no answer".into(), |d| d.state.name().to_string());
                self.expect(line, actual == *state, actual.clone())
            }
            ["expect", "committed", list @ ..] => {
                let actual: Vec<String> =
                    self.scenario().committed_offsets().iter().map(|(tp, o)| format!("{tp}={o}")).collect();
                self.expect(line, actual == list, actual.join(" "))
            }
            ["expect", "processed", n] => {
                let actual = self.scenario().processed().len();
                self.expect(line, actual.to_string() == *n, actual.to_string())
            }
            ["expect", "coordinator-moved"] => {
                let now = self.scenario().coordinator();
                self.expect(line, now.is_some() && now != self.old_coordinator, format!("{now:?}"))
            }
            ["check"] => {
                let scenario = self.scenario.take().expect("a cluster");
                let (violations, trace) = scenario.check();
                for (at, event) in &trace.events[self.printed_events..] {
                    if shown(event) {
                        writeln!(self.trace, "    {:>6} ms  {event}", at - START_MS).unwrap();
                    }
                }
                self.printed_events = trace.events.len();
                if violations.is_empty() {
                    "the checker finds nothing".into()
                } else {
                    let lines: Vec<String> =
                        violations.iter().map(|v| format!("\n    VIOLATION {v}")).collect();
                    self.failures.push(format!("check: {}", lines.concat()));
                    format!("the checker finds {}:{}", violations.len(), lines.concat())
                }
            }
            _ => panic!("unknown step {line:?}"),
        };
        self.flush_events();
        writeln!(self.trace, "< {result}").unwrap();
    }
}

fn run(script: &str) -> (String, Vec<String>) {
    let mut runner = Runner {
        scenario: None,
        members: BTreeMap::new(),
        produced: 0,
        old_coordinator: None,
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
fn group_stories_match_their_traces() {
    common::check_stories("group_scenarios", 6, run);
}
