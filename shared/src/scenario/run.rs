//! Playing a script on a cluster, step by step, on a virtual clock that starts at
//! `SCENARIO_START_MS` and moves only on `wait`: the same script always plays the same way.

use crate::api::{Command, Outcome, Reply, StepReport};
use crate::cluster::Cluster;

use super::{Action, Expectation, Script};

/// The virtual time a scenario starts at (2023-11-14T22:13:20Z), so its timestamps repeat.
pub const SCENARIO_START_MS: i64 = 1_700_000_000_000;
/// During a `wait`, the brokers' and groups' timers run in steps this long.
const WAIT_STEP_MS: i64 = 100;
/// During a `wait`, each consumer polls this often (a poll loop).
const CONSUMER_POLL_INTERVAL_MS: i64 = 1_000;
/// A scenario's consumers' `session.timeout.ms`, as the playground's.
const CONSUMER_SESSION_TIMEOUT_MS: i32 = 10_000;

/// A script being played: where it is, the virtual clock, the last reply and its consumers.
pub struct ScenarioRun {
    script: Script,
    next: usize,
    now_ms: i64,
    last: Option<Reply>,
    /// (name, engine consumer id), in the order they were opened.
    consumers: Vec<(String, u32)>,
    last_poll_ms: i64,
}

impl ScenarioRun {
    /// A run of `script` from its first step, its clock at `SCENARIO_START_MS`.
    pub fn new(script: Script) -> ScenarioRun {
        ScenarioRun {
            script,
            next: 0,
            now_ms: SCENARIO_START_MS,
            last: None,
            consumers: Vec::new(),
            last_poll_ms: SCENARIO_START_MS,
        }
    }

    /// The cluster a script plays on: its brokers and seed, in memory, faults allowed.
    pub fn cluster_for(script: &Script) -> Cluster {
        let mut cluster = if script.brokers == 1 {
            Cluster::new(script.seed)
        } else {
            Cluster::replicated_in_memory(script.seed, script.brokers, SCENARIO_START_MS)
        };
        cluster.allow_faults = true;
        cluster
    }

    /// The script being played.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// The run's virtual time.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Moves the run's clock forward to `now_ms` (the host's clock ran on between pauses).
    pub fn sync_to(&mut self, now_ms: i64) {
        self.now_ms = self.now_ms.max(now_ms);
    }

    /// Whether every step has been played.
    pub fn finished(&self) -> bool {
        self.next >= self.script.steps.len()
    }

    /// Plays steps until a reader's pause (included) or the end.
    pub fn run_until_pause(&mut self, cluster: &mut Cluster) -> Vec<StepReport> {
        let mut reports = Vec::new();
        while let Some(report) = self.step(cluster) {
            let paused = matches!(report.outcome, Outcome::Paused { .. });
            reports.push(report);
            if paused {
                break;
            }
        }
        reports
    }

    /// Plays the next step; `None` at the end.
    pub fn step(&mut self, cluster: &mut Cluster) -> Option<StepReport> {
        let step = self.script.steps.get(self.next)?.clone();
        self.next += 1;
        let outcome = match step.action {
            Action::Request(command) => {
                let reply = cluster.handle(self.now_ms, command);
                let said = describe(&reply);
                self.last = Some(reply);
                Outcome::Done { said }
            }
            Action::OpenConsumer { name, group, topic } => self.open_consumer(cluster, name, group, topic),
            Action::Wait { ms } => {
                self.wait(cluster, ms);
                Outcome::Done { said: format!("{ms} ms passed") }
            }
            Action::Pause { text, ko } => Outcome::Paused { text, ko },
            Action::Expect(expectation) => match self.check(cluster, &expectation) {
                Ok(said) => Outcome::Passed { said },
                Err(why) => Outcome::Failed { why },
            },
        };
        Some(StepReport { line: step.line, source: step.source, outcome })
    }

    fn open_consumer(
        &mut self,
        cluster: &mut Cluster,
        name: String,
        group: String,
        topic: String,
    ) -> Outcome {
        let reply = cluster.handle(
            self.now_ms,
            Command::OpenConsumer {
                group: Some(group.clone()),
                topics: vec![topic],
                partitions: Vec::new(),
                client_id: Some(name.clone()),
                auto_offset_reset: Some("earliest".into()),
                assignors: Vec::new(),
                enable_auto_commit: None,
                session_timeout_ms: Some(CONSUMER_SESSION_TIMEOUT_MS),
            },
        );
        let outcome = match &reply {
            Reply::ConsumerOpened { consumer } => {
                self.consumers.push((name.clone(), *consumer));
                self.poll(cluster);
                Outcome::Done { said: format!("{name} joins {group}") }
            }
            other => Outcome::Done { said: describe(other) },
        };
        self.last = Some(reply);
        outcome
    }

    fn poll(&mut self, cluster: &mut Cluster) {
        for &(_, consumer) in &self.consumers {
            cluster.handle(
                self.now_ms,
                Command::Poll {
                    consumer,
                    max_records: None,
                    key_deserializer: Default::default(),
                    value_deserializer: Default::default(),
                },
            );
        }
        self.last_poll_ms = self.now_ms;
    }

    /// Virtual time passes: the timers run every `WAIT_STEP_MS`, consumers poll once a second.
    fn wait(&mut self, cluster: &mut Cluster, ms: i64) {
        let until = self.now_ms + ms;
        while self.now_ms < until {
            self.now_ms = (self.now_ms + WAIT_STEP_MS).min(until);
            // Problems a tick meets are the brokers' own, shown in their events.
            let _ = cluster.tick(self.now_ms);
            if self.now_ms - self.last_poll_ms >= CONSUMER_POLL_INTERVAL_MS {
                self.poll(cluster);
            }
        }
    }

    fn check(&self, cluster: &mut Cluster, expectation: &Expectation) -> Result<String, String> {
        let produced = || match &self.last {
            Some(Reply::Produced { partition, offset, .. }) => Ok((*partition, *offset)),
            Some(other) => Err(format!("the step before produced nothing: {}", describe(other))),
            None => Err("nothing was produced yet".to_string()),
        };
        match expectation {
            Expectation::Partition(expected) => {
                let (partition, _) = produced()?;
                same("partition", *expected, partition)
            }
            Expectation::Offset(expected) => {
                let (_, offset) = produced()?;
                same("offset", *expected, offset)
            }
            Expectation::Ok => match &self.last {
                Some(Reply::Error(e)) => {
                    Err(format!("expected success, got {}: {}", e.error.name(), e.message))
                }
                Some(_) => Ok("ok".into()),
                None => Err("no request yet".into()),
            },
            Expectation::Error(name) => match &self.last {
                Some(Reply::Error(e)) if e.error.name() == name => Ok(format!("{name}: {}", e.message)),
                Some(Reply::Error(e)) => {
                    Err(format!("expected {name}, got {}: {}", e.error.name(), e.message))
                }
                Some(other) => Err(format!("expected {name}, but it succeeded: {}", describe(other))),
                None => Err("no request yet".into()),
            },
            Expectation::Leader { topic, partition, broker } => {
                let p = partition_of(cluster, self.now_ms, topic, *partition)?;
                let shown = |b: Option<i32>| b.map_or("none".to_string(), |b| b.to_string());
                if p.leader == *broker {
                    Ok(format!("{topic}-{partition} is led by {}", shown(p.leader)))
                } else {
                    Err(format!("expected leader {}, found {}", shown(*broker), shown(p.leader)))
                }
            }
            Expectation::Isr { topic, partition, brokers } => {
                let p = partition_of(cluster, self.now_ms, topic, *partition)?;
                let (mut expected, mut found) = (brokers.clone(), p.isr.clone());
                expected.sort_unstable();
                found.sort_unstable();
                if expected == found {
                    Ok(format!("{topic}-{partition} ISR {found:?}"))
                } else {
                    Err(format!("expected ISR {expected:?}, found {found:?}"))
                }
            }
            Expectation::Records { topic, count } => {
                let topics = match cluster.handle(self.now_ms, Command::ListTopics) {
                    Reply::Topics { topics } => topics,
                    other => return Err(describe(&other)),
                };
                let t = topics.iter().find(|t| &t.name == topic).ok_or(format!("no topic {topic}"))?;
                let found: i64 = t.partitions.iter().map(|p| p.log_end_offset - p.log_start_offset).sum();
                same(&format!("{topic}'s committed records"), *count, found)
            }
            Expectation::Lag { group, lag } => match cluster
                .handle(self.now_ms, Command::DescribeGroup { group: group.clone() })
            {
                Reply::GroupDescribed { offsets, .. } => {
                    let found: i64 = offsets.iter().map(|row| row.lag.unwrap_or(row.log_end_offset)).sum();
                    same(&format!("{group}'s lag"), *lag, found)
                }
                other => Err(describe(&other)),
            },
        }
    }
}

fn same<T: PartialEq + std::fmt::Display>(what: &str, expected: T, found: T) -> Result<String, String> {
    if expected == found {
        Ok(format!("{what} {found}"))
    } else {
        Err(format!("expected {what} {expected}, found {found}"))
    }
}

fn partition_of(
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    partition: i32,
) -> Result<crate::api::PartitionDescription, String> {
    match cluster.handle(now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics
            .into_iter()
            .find(|t| t.name == topic)
            .and_then(|t| t.partitions.into_iter().find(|p| p.partition == partition))
            .ok_or(format!("no partition {topic}-{partition}")),
        other => Err(describe(&other)),
    }
}

/// A reply in a few words, for a step's report.
fn describe(reply: &Reply) -> String {
    match reply {
        Reply::TopicCreated { topic, .. } => {
            format!("created {} ({} partitions)", topic.name, topic.partitions.len())
        }
        Reply::Produced { topic, partition, offset, .. } => format!("{topic}-{partition} @ offset {offset}"),
        Reply::TopicDeleted { name } => format!("deleted {name}"),
        Reply::ClusterDescribed { brokers, .. } => {
            let states: Vec<String> =
                brokers.iter().map(|b| format!("broker {} {}", b.id, b.state)).collect();
            states.join(", ")
        }
        Reply::Error(e) => format!("{}: {}", e.error.name(), e.message),
        // Its `type`, which the API's writer puts first (`tagged`): `{"type":"offsets_reset",…`.
        other => {
            let text = crate::api::encode(other);
            text.strip_prefix(r#"{"type":""#)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_string()
        }
    }
}
