//! Playing a script on a cluster, step by step, on a virtual clock that starts at
//! `SCENARIO_START_MS` and moves only on `wait`: the same script always plays the same way.

use std::collections::BTreeMap;

use crate::api::{Command, IdempotentProducer, IsolationLevel, Outcome, Prediction, Reply, StepReport};
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
    /// The script's idempotent producer, once it has its id: its next sequence per partition.
    producer: Option<IdempotentProducer>,
    /// The last record produced, as it was sent, its partition pinned: what `retry` sends.
    last_produce: Option<Command>,
    /// The script's transactional producers by `transactional.id`, once they have their ids.
    transactions: BTreeMap<String, IdempotentProducer>,
    /// The transaction `produce` lines are written in, between `begin` and `commit`/`abort`.
    open_transaction: Option<String>,
    /// The question asked last, with its choices, until the expectation after it settles it.
    question: Option<(Prediction, Vec<String>)>,
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
            producer: None,
            last_produce: None,
            transactions: BTreeMap::new(),
            open_transaction: None,
            question: None,
        }
    }

    /// The cluster a script plays on: its brokers and seed, in memory, faults allowed.
    pub fn cluster_for(script: &Script) -> Cluster {
        let mut cluster = if script.brokers == 1 {
            Cluster::new(script.seed)
        } else {
            Cluster::replicated_in_memory_with_controllers(
                script.seed,
                script.brokers,
                script.controllers,
                SCENARIO_START_MS,
            )
        };
        cluster.allow_faults = true;
        cluster.set_broker_configs(script.broker_configs);
        cluster.set_broker_racks(&script.racks);
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

    /// The reader's answer to the question the run stopped at: one of its choices. Refused when
    /// no question waits (it was settled, or none was asked) or `choice` is not one of them.
    pub fn answer(&mut self, choice: &str) -> Result<(), String> {
        match &mut self.question {
            Some((prediction, choices)) if prediction.picked.is_none() => {
                if !choices.iter().any(|c| c == choice) {
                    return Err(format!(
                        "`{choice}` is not one of the question's choices: {}",
                        choices.join(", ")
                    ));
                }
                prediction.picked = Some(choice.to_string());
                Ok(())
            }
            Some(_) => Err("the question was answered already".into()),
            None => Err("no question waits for an answer".into()),
        }
    }

    /// Whether the run stopped at a question the reader has not answered yet.
    pub fn awaits_answer(&self) -> bool {
        matches!(&self.question, Some((prediction, _)) if prediction.picked.is_none())
            && self
                .next
                .checked_sub(1)
                .and_then(|i| self.script.steps.get(i))
                .is_some_and(|s| matches!(s.action, Action::Ask { .. }))
    }

    /// Plays steps until a reader's pause or question (included) or the end.
    pub fn run_until_pause(&mut self, cluster: &mut Cluster) -> Vec<StepReport> {
        let mut reports = Vec::new();
        while let Some(report) = self.step(cluster) {
            let paused = matches!(report.outcome, Outcome::Paused { .. } | Outcome::Asked { .. });
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
            Action::Request(command @ Command::Produce { .. }) if self.open_transaction.is_some() => {
                self.produce_in_transaction(cluster, command)
            }
            Action::Request(command) => self.request(cluster, command),
            Action::Begin { transactional_id } => self.begin(cluster, transactional_id),
            Action::EndTransaction { transactional_id, commit } => {
                self.end_transaction(cluster, transactional_id, commit)
            }
            Action::ProduceIdempotent(command) => self.produce_idempotent(cluster, command),
            Action::Retry => match self.last_produce.clone() {
                Some(command) => self.request(cluster, command),
                None => Said::new(
                    "nothing to retry: no record was produced yet",
                    "다시 보낼 레코드가 없습니다: 아직 produce한 레코드가 없습니다",
                )
                .done(),
            },
            Action::OpenConsumer { name, group, topic, read_committed } => {
                self.open_consumer(cluster, name, (group, topic), read_committed)
            }
            Action::Wait { ms } => {
                self.wait(cluster, ms);
                Said::new(format!("{ms} ms passed"), format!("{ms} ms 경과")).done()
            }
            Action::Pause { text, ko } => Outcome::Paused { text, ko },
            Action::Ask { text, ko, choices, answer } => {
                let prediction = Prediction { question: text.clone(), picked: None, answer };
                self.question = Some((prediction, choices.clone()));
                Outcome::Asked { text, ko, choices }
            }
            Action::Expect(expectation) => {
                let prediction = self.question.take().map(|(prediction, _)| prediction);
                match self.check(cluster, &expectation) {
                    Ok(said) => Outcome::Passed { said: said.en, ko: Some(said.ko), prediction },
                    Err(why) => Outcome::Failed { why: why.en, ko: Some(why.ko), prediction },
                }
            }
        };
        // A question's line is shown without its answer, which the reader is about to predict.
        let source = match outcome {
            Outcome::Asked { .. } => {
                step.source.rfind(" answer ").map_or(step.source.clone(), |at| step.source[..at].to_string())
            }
            _ => step.source,
        };
        Some(StepReport { line: step.line, source, outcome })
    }

    /// One request to the engine; a produce is remembered for `retry`.
    fn request(&mut self, cluster: &mut Cluster, command: Command) -> Outcome {
        let reply = match cluster.handle(self.now_ms, command.clone()) {
            // A script reassigns one partition at a time: its refusal is the step's.
            Reply::ReassignmentsAltered { results } | Reply::LeadersElected { results }
                if results.len() == 1 && results[0].error.is_some() =>
            {
                Reply::Error(results.into_iter().next().and_then(|r| r.error).expect("checked above"))
            }
            reply => reply,
        };
        self.remember(command, &reply);
        let said = describe(&reply);
        self.last = Some(reply);
        said.done()
    }

    /// A record of the script's idempotent producer: its id first if it has none yet.
    fn produce_idempotent(&mut self, cluster: &mut Cluster, mut command: Command) -> Outcome {
        if self.producer.is_none() {
            match cluster.handle(self.now_ms, Command::InitProducerId) {
                Reply::ProducerIdInitialized { producer_id, producer_epoch } => {
                    self.producer = Some(IdempotentProducer {
                        producer_id,
                        producer_epoch,
                        sequences: vec![],
                        transactional_id: None,
                    });
                }
                other => return describe(&other).done(),
            }
        }
        if let Command::Produce { producer, .. } = &mut command {
            producer.clone_from(&self.producer);
        }
        self.request(cluster, command)
    }

    /// A produce's record as sent, pinned to the partition it went to (a retry goes there too,
    /// with the same sequence); an idempotent or transactional producer's next sequence there
    /// moves on.
    fn remember(&mut self, mut command: Command, reply: &Reply) {
        let (
            Command::Produce { partition: pinned, producer: sent_by, .. },
            Reply::Produced { partition, idempotent, .. },
        ) = (&mut command, reply)
        else {
            return;
        };
        *pinned = Some(*partition);
        let transactional_id = sent_by.as_ref().and_then(|p| p.transactional_id.clone());
        let producer = match transactional_id {
            Some(id) => self.transactions.get_mut(&id),
            None => self.producer.as_mut(),
        };
        if let (Some(write), Some(producer)) = (idempotent, producer) {
            producer.wrote(*partition, write);
        }
        self.last_produce = Some(command);
    }

    /// `begin TXN`: the transactional producer's id and epoch asked for the first time
    /// (InitTransactions, which fences older instances); the `produce` lines after it go in.
    fn begin(&mut self, cluster: &mut Cluster, transactional_id: String) -> Outcome {
        if !self.transactions.contains_key(&transactional_id) {
            let init = Command::InitTransactions {
                transactional_id: transactional_id.clone(),
                transaction_timeout_ms: None,
            };
            let reply = cluster.handle(self.now_ms, init);
            let Reply::ProducerIdInitialized { producer_id, producer_epoch } = reply else {
                let said = describe(&reply);
                self.last = Some(reply);
                return said.done();
            };
            let producer = IdempotentProducer {
                producer_id,
                producer_epoch,
                sequences: Vec::new(),
                transactional_id: Some(transactional_id.clone()),
            };
            self.transactions.insert(transactional_id.clone(), producer);
        }
        let Some(producer) = self.transactions.get(&transactional_id) else {
            return Outcome::Done { said: String::new(), ko: None };
        };
        let said = Said::new(
            format!(
                "{transactional_id} begins a transaction (producer {}, epoch {})",
                producer.producer_id, producer.producer_epoch
            ),
            format!(
                "{transactional_id} 트랜잭션 시작 (프로듀서 {}, epoch {})",
                producer.producer_id, producer.producer_epoch
            ),
        );
        self.open_transaction = Some(transactional_id);
        said.done()
    }

    /// A `produce` line inside `begin … commit`: the record goes in the open transaction.
    fn produce_in_transaction(&mut self, cluster: &mut Cluster, mut command: Command) -> Outcome {
        let producer = self.open_transaction.as_ref().and_then(|id| self.transactions.get(id)).cloned();
        if let Command::Produce { producer: sent_by, .. } = &mut command {
            *sent_by = producer;
        }
        self.request(cluster, command)
    }

    /// `commit TXN` / `abort TXN`: the coordinator's decision and its markers.
    fn end_transaction(&mut self, cluster: &mut Cluster, transactional_id: String, commit: bool) -> Outcome {
        self.open_transaction = None;
        let Some(producer) = self.transactions.get(&transactional_id) else {
            return Said::new(
                format!("{transactional_id} has no producer id: its begin failed"),
                format!("{transactional_id}에 프로듀서 id가 없습니다: begin이 실패했습니다"),
            )
            .done();
        };
        let end = Command::EndTransaction {
            transactional_id,
            producer_id: producer.producer_id,
            producer_epoch: producer.producer_epoch,
            commit,
        };
        self.request(cluster, end)
    }

    fn open_consumer(
        &mut self,
        cluster: &mut Cluster,
        name: String,
        (group, topic): (String, String),
        read_committed: bool,
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
                isolation_level: isolation(read_committed),
            },
        );
        let outcome = match &reply {
            Reply::ConsumerOpened { consumer } => {
                self.consumers.push((name.clone(), *consumer));
                self.poll(cluster);
                Said::new(format!("{name} joins {group}"), format!("{name}, group {group}에 참여")).done()
            }
            other => describe(other).done(),
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

    fn check(&self, cluster: &mut Cluster, expectation: &Expectation) -> Result<Said, Said> {
        let produced = || match &self.last {
            Some(Reply::Produced { partition, offset, .. }) => Ok((*partition, *offset)),
            Some(other) => {
                let d = describe(other);
                Err(Said::new(
                    format!("the step before produced nothing: {}", d.en),
                    format!("바로 앞 단계는 produce가 아니었습니다: {}", d.ko),
                ))
            }
            None => Err(Said::new("nothing was produced yet", "아직 produce한 레코드가 없습니다")),
        };
        let no_request = || Said::new("no request yet", "아직 요청이 없습니다");
        match expectation {
            Expectation::Partition(expected) => {
                let (partition, _) = produced()?;
                same(("partition", "partition"), *expected, partition)
            }
            Expectation::Offset(expected) => match &self.last {
                // An `offsets` step's lookup, or else the last produce.
                Some(Reply::Offsets { offset: Some(offset), .. }) => {
                    same(("offset", "offset"), *expected, *offset)
                }
                // A `delete records` step's low watermark.
                Some(Reply::RecordsDeleted { low_watermark, .. }) => {
                    same(("offset", "offset"), *expected, *low_watermark)
                }
                Some(Reply::Offsets { offset: None, .. }) => Err(Said::new(
                    format!("expected offset {expected}, the lookup found none"),
                    format!("offset {expected}를 기대했지만 찾은 offset이 없습니다"),
                )),
                _ => {
                    let (_, offset) = produced()?;
                    same(("offset", "offset"), *expected, offset)
                }
            },
            Expectation::Ok => self.succeeded(),
            Expectation::Error(name) => match &self.last {
                Some(Reply::Error(e)) if e.error.name() == name => {
                    let said = format!("{name}: {}", e.message);
                    Ok(Said::new(said.clone(), said))
                }
                Some(Reply::Error(e)) => Err(Said::new(
                    format!("expected {name}, got {}: {}", e.error.name(), e.message),
                    format!("{name}를 기대했지만 {}: {}", e.error.name(), e.message),
                )),
                Some(other) => {
                    let d = describe(other);
                    Err(Said::new(
                        format!("expected {name}, but it succeeded: {}", d.en),
                        format!("{name}를 기대했지만 성공했습니다: {}", d.ko),
                    ))
                }
                None => Err(no_request()),
            },
            Expectation::Leader { topic, partition, broker } => {
                leader_is(&partition_of(cluster, self.now_ms, topic, *partition)?, topic, *broker)
            }
            Expectation::Replicas { topic, partition, brokers } => {
                let p = partition_of(cluster, self.now_ms, topic, *partition)?;
                let found = &p.replicas;
                if found == brokers {
                    Ok(Said::new(
                        format!("{topic}-{partition} replicas {found:?}"),
                        format!("{topic}-{partition}의 replica {found:?}"),
                    ))
                } else {
                    Err(Said::new(
                        format!("expected replicas {brokers:?}, found {found:?}"),
                        format!("기대한 replica는 {brokers:?}, 실제는 {found:?}"),
                    ))
                }
            }
            Expectation::Brokers(expected) => brokers_are(cluster, self.now_ms, expected),
            Expectation::ActiveController(expected) => active_controller_is(cluster, self.now_ms, *expected),
            Expectation::Isr { topic, partition, brokers } => {
                isr_is(&partition_of(cluster, self.now_ms, topic, *partition)?, topic, brokers)
            }
            Expectation::Records { .. }
            | Expectation::Assigned { .. }
            | Expectation::Segments { .. }
            | Expectation::Lag { .. } => counted(cluster, self.now_ms, expectation),
            Expectation::Readable { .. } | Expectation::StableOffset { .. } => {
                transactional_view(cluster, self.now_ms, expectation)
            }
            Expectation::Connector { .. } | Expectation::FileLines { .. } | Expectation::TableRows { .. } => {
                connected(cluster, self.now_ms, expectation)
            }
            Expectation::SubjectVersions { subject, versions } => {
                let found = cluster.schema_registry().versions(subject).len() as i64;
                let (en, ko) = (format!("{subject}'s versions"), format!("{subject}의 버전 수"));
                same((&en, &ko), *versions, found)
            }
        }
    }
}

impl ScenarioRun {
    /// `expect ok`: the last request was answered, not refused (a Connect request refused has a
    /// status of 400 or more).
    fn succeeded(&self) -> Result<Said, Said> {
        match &self.last {
            Some(Reply::Error(e)) => Err(Said::new(
                format!("expected success, got {}: {}", e.error.name(), e.message),
                format!("성공을 기대했지만 {}: {}", e.error.name(), e.message),
            )),
            Some(refused @ Reply::Connect { status, .. }) if *status >= 400 => {
                let d = describe(refused);
                Err(Said::new(
                    format!("expected success, got {}", d.en),
                    format!("성공을 기대했지만 {}", d.ko),
                ))
            }
            Some(_) => Ok(Said::new("ok", "성공")),
            None => Err(Said::new("no request yet", "아직 요청이 없습니다")),
        }
    }
}

/// `expect connector NAME STATE` (the connector and all its tasks), `expect file PATH lines N`
/// and `expect table DATABASE TABLE rows N`.
fn connected(cluster: &mut Cluster, now_ms: i64, expectation: &Expectation) -> Result<Said, Said> {
    let file = match expectation {
        Expectation::FileLines { path, .. } => Some(path.clone()),
        _ => None,
    };
    let view = match cluster.handle(now_ms, Command::DescribeConnect { file }) {
        Reply::ConnectDescribed(view) => view,
        other => return Err(describe(&other)),
    };
    match expectation {
        Expectation::FileLines { path, lines } => {
            let found = view.shown.map_or(0, |(_, text, _)| text.matches('\n').count() as i64);
            let (en, ko) = (format!("{path}'s lines"), format!("{path}의 줄 수"));
            same((&en, &ko), *lines, found)
        }
        Expectation::TableRows { database, table, rows } => {
            let found = view.tables.iter().find(|t| &t.database == database && &t.table == table);
            let found = found.map_or(0, |t| t.row_count as i64);
            let (en, ko) = (format!("{database}:{table}'s rows"), format!("{database}:{table}의 행 수"));
            same((&en, &ko), *rows, found)
        }
        Expectation::Connector { name, state } => {
            let Some(c) = view.connectors.iter().find(|c| &c.name == name) else {
                return Err(Said::new(
                    format!("no connector {name}"),
                    format!("connector {name}이 없습니다"),
                ));
            };
            let states: Vec<&str> =
                std::iter::once(c.state.as_str()).chain(c.tasks.iter().map(|t| t.state.as_str())).collect();
            if states.iter().all(|s| s == state) {
                Ok(Said::new(
                    format!("{name} and its {} task(s) {state}", c.tasks.len()),
                    format!("{name}와 task {}개 모두 {state}", c.tasks.len()),
                ))
            } else {
                let why = c
                    .tasks
                    .iter()
                    .find_map(|t| t.trace.clone())
                    .or(c.trace.clone())
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                Err(Said::new(
                    format!("expected {name} {state}, found {}{why}", states.join(", ")),
                    format!("기대한 {name}의 상태는 {state}, 실제는 {}{why}", states.join(", ")),
                ))
            }
        }
        _ => Err(Said::new("not a Connect expectation", "Connect 기대가 아닙니다")),
    }
}

/// `expect brokers`: the cluster's brokers, in id order.
fn brokers_are(cluster: &mut Cluster, now_ms: i64, expected: &[i32]) -> Result<Said, Said> {
    let found: Vec<i32> = match cluster.handle(now_ms, Command::DescribeCluster) {
        Reply::ClusterDescribed { brokers, .. } => brokers.iter().map(|b| b.id).collect(),
        _ => Vec::new(),
    };
    if found == expected {
        Ok(Said::new(format!("brokers {found:?}"), format!("브로커 {found:?}")))
    } else {
        Err(Said::new(
            format!("expected brokers {expected:?}, found {found:?}"),
            format!("기대한 브로커는 {expected:?}, 실제는 {found:?}"),
        ))
    }
}

/// `expect controller`: which KRaft controller is active, if any.
fn active_controller_is(cluster: &mut Cluster, now_ms: i64, expected: Option<i32>) -> Result<Said, Said> {
    let found = match cluster.handle(now_ms, Command::DescribeCluster) {
        Reply::ClusterDescribed { controllers, .. } => {
            controllers.iter().find(|c| c.state == "active").map(|c| (c.id, c.epoch))
        }
        _ => None,
    };
    let name = |active: Option<i32>| active.map_or("none".to_string(), |id| format!("controller-{id}"));
    match found {
        Some((id, epoch)) if Some(id) == expected => Ok(Said::new(
            format!("controller-{id} is the active controller (epoch {epoch})"),
            format!("controller-{id}{} active 컨트롤러 (epoch {epoch})", subject_particle(id)),
        )),
        None if expected.is_none() => {
            Ok(Said::new("no active controller".to_string(), "active 컨트롤러 없음".to_string()))
        }
        _ => Err(Said::new(
            format!("expected active controller {}, found {}", name(expected), name(found.map(|f| f.0))),
            format!("기대한 active 컨트롤러는 {}, 실제는 {}", name(expected), name(found.map(|f| f.0))),
        )),
    }
}

/// The expectations that count something in the cluster: records, a member's partitions,
/// segments, lag.
fn counted(cluster: &mut Cluster, now_ms: i64, expectation: &Expectation) -> Result<Said, Said> {
    match expectation {
        Expectation::Records { topic, count } => {
            let topics = match cluster.handle(now_ms, Command::ListTopics) {
                Reply::Topics { topics } => topics,
                other => return Err(describe(&other)),
            };
            let t = topics
                .iter()
                .find(|t| &t.name == topic)
                .ok_or_else(|| Said::new(format!("no topic {topic}"), format!("topic {topic}이 없습니다")))?;
            let found: i64 = t.partitions.iter().map(|p| p.log_end_offset - p.log_start_offset).sum();
            let (en, ko) = (format!("{topic}'s committed records"), format!("{topic}의 커밋된 레코드 수"));
            same((&en, &ko), *count, found)
        }
        Expectation::Assigned { group, member, count } => {
            match cluster.handle(now_ms, Command::DescribeGroup { group: group.clone() }) {
                Reply::GroupDescribed { members, .. } => {
                    // A consumer outside the group (not joined yet, or gone) owns nothing.
                    let found = members
                        .iter()
                        .find(|m| &m.client_id == member)
                        .map_or(0, |m| m.assignment.len() as i64);
                    let (en, ko) = (
                        format!("{member}'s partitions in {group}"),
                        format!("{group}에서 {member}가 맡은 partition 수"),
                    );
                    same((&en, &ko), *count, found)
                }
                other => Err(describe(&other)),
            }
        }
        Expectation::Segments { topic, partition, count } => {
            let p = partition_of(cluster, now_ms, topic, *partition)?;
            // `rolled_at` names where each segment after the first begins.
            let found = p.rolled_at.len() as i64 + 1;
            let (en, ko) =
                (format!("{topic}-{partition}'s segments"), format!("{topic}-{partition}의 segment 수"));
            same((&en, &ko), *count, found)
        }
        Expectation::Lag { group, lag } => {
            match cluster.handle(now_ms, Command::DescribeGroup { group: group.clone() }) {
                Reply::GroupDescribed { offsets, .. } => {
                    let found: i64 = offsets.iter().map(|row| row.lag.unwrap_or(row.log_end_offset)).sum();
                    let (en, ko) = (format!("{group}'s lag"), format!("{group}의 lag"));
                    same((&en, &ko), *lag, found)
                }
                other => Err(describe(&other)),
            }
        }
        _ => Err(Said::new("not a count", "개수를 세는 기대가 아닙니다")),
    }
}

/// `read_committed` as Kafka's isolation level.
fn isolation(read_committed: bool) -> IsolationLevel {
    if read_committed { IsolationLevel::ReadCommitted } else { IsolationLevel::ReadUncommitted }
}

/// The expectations about what transactions leave visible: records a consumer reads, read
/// committed or not, and a partition's last stable offset.
fn transactional_view(cluster: &mut Cluster, now_ms: i64, expectation: &Expectation) -> Result<Said, Said> {
    let topics = match cluster.handle(now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics,
        other => return Err(describe(&other)),
    };
    let topic_named = |name: &str| {
        topics
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Said::new(format!("no topic {name}"), format!("topic {name}이 없습니다")))
    };
    match expectation {
        Expectation::Readable { topic, count, read_committed } => {
            let mut found = 0;
            for p in &topic_named(topic)?.partitions {
                let mut offset = p.log_start_offset;
                loop {
                    let fetch = Command::Fetch {
                        topic: topic.clone(),
                        partition: p.partition,
                        offset,
                        max_records: crate::limits::MAX_FETCH_RECORDS,
                        key_deserializer: Default::default(),
                        value_deserializer: Default::default(),
                        isolation_level: isolation(*read_committed),
                    };
                    match cluster.handle(now_ms, fetch) {
                        Reply::Records { records, .. } if !records.is_empty() => {
                            found += records.len() as i64;
                            offset = records.last().map_or(offset, |r| r.offset + 1);
                        }
                        Reply::Records { .. } => break,
                        other => return Err(describe(&other)),
                    }
                }
            }
            let level = if *read_committed { "read_committed" } else { "read_uncommitted" };
            let (en, ko) = (
                format!("records a {level} consumer reads in {topic}"),
                format!("{level} 컨슈머가 {topic}에서 읽는 레코드 수"),
            );
            same((&en, &ko), *count, found)
        }
        Expectation::StableOffset { topic, partition, offset } => {
            let start = topic_named(topic)?
                .partitions
                .iter()
                .find(|p| p.partition == *partition)
                .map_or(0, |p| p.log_start_offset);
            let fetch = Command::FetchRecords {
                topic: topic.clone(),
                partition: *partition,
                offset: start,
                max_bytes: Some(1),
                isolation_level: IsolationLevel::ReadCommitted,
            };
            let found = match cluster.handle(now_ms, fetch) {
                Reply::RecordBatches { last_stable_offset, .. } => last_stable_offset,
                other => return Err(describe(&other)),
            };
            let (en, ko) = (
                format!("{topic}-{partition}'s last stable offset"),
                format!("{topic}-{partition}의 last stable offset"),
            );
            same((&en, &ko), *offset, found)
        }
        _ => Err(Said::new("not about transactions", "트랜잭션에 관한 기대가 아닙니다")),
    }
}

/// A step's report in English and in Korean, said together so neither can be forgotten.
struct Said {
    en: String,
    ko: String,
}

impl Said {
    fn new(en: impl Into<String>, ko: impl Into<String>) -> Said {
        Said { en: en.into(), ko: ko.into() }
    }

    fn done(self) -> Outcome {
        Outcome::Done { said: self.en, ko: Some(self.ko) }
    }
}

/// `what` (English, Korean) is `expected`, or says what was found.
fn same<T: PartialEq + std::fmt::Display>(what: (&str, &str), expected: T, found: T) -> Result<Said, Said> {
    let (en, ko) = what;
    if expected == found {
        Ok(Said::new(format!("{en} {found}"), format!("{ko} {found}")))
    } else {
        Err(Said::new(
            format!("expected {en} {expected}, found {found}"),
            format!("기대한 {ko}: {expected}, 실제: {found}"),
        ))
    }
}

/// Why a record went where it went, as a clause after its offset (empty for a partition the
/// producer named): the partitioner's arithmetic, which is what a reader's prediction is about.
/// The key bytes the partitioner hashed, as a reader would recognise them: quoted text when they
/// are printable UTF-8 (a `StringSerializer`'s), else hex pairs (`00 00 00 01` from an
/// `IntegerSerializer`).
fn key_as_hashed(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(char::is_control) => format!("\"{text}\""),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
    }
}

fn placed(placement: &crate::partitioner::Placement) -> Said {
    use crate::partitioner::Placement;
    match placement {
        Placement::KeyHash { key_bytes, murmur2, positive, num_partitions, partition } => {
            let key = key_as_hashed(key_bytes);
            let said = format!(
                ": murmur2({key}) = {murmur2}, & 0x7fffffff = {positive}, % {num_partitions} = {partition}"
            );
            Said::new(said.clone(), said)
        }
        Placement::Sticky { produced_bytes, batch_size, chosen_with, .. } => match chosen_with {
            Some(choice) => Said::new(
                format!(
                    ": a null key, a new sticky partition (random {} % {} available)",
                    choice.random, choice.available
                ),
                format!(
                    ": null key라 새 sticky partition을 고름 (random {} % 가용 {})",
                    choice.random, choice.available
                ),
            ),
            None => Said::new(
                format!(
                    ": a null key, the same sticky partition ({produced_bytes} of batch.size {batch_size} bytes)"
                ),
                format!(
                    ": null key라 같은 sticky partition ({produced_bytes} / batch.size {batch_size} 바이트)"
                ),
            ),
        },
        Placement::RoundRobin { counter, available, partition } => Said::new(
            format!(": round robin, counter {counter} % {available} available → {partition}"),
            format!(": round robin, counter {counter} % 가용 {available} → {partition}"),
        ),
        Placement::Crc32 { crc32, num_partitions, partition, .. } => Said::new(
            format!(": crc32 of the key = {crc32}, % {num_partitions} = {partition}"),
            format!(": key의 crc32 = {crc32}, % {num_partitions} = {partition}"),
        ),
        Placement::Random { choice, partition } => Said::new(
            format!(": at random ({} % {} available → {partition})", choice.random, choice.available),
            format!(": 무작위 ({} % 가용 {} → {partition})", choice.random, choice.available),
        ),
        Placement::Explicit { .. } => Said::new("", ""),
    }
}

/// `expect leader`: the partition's leader is `broker` (`None`: it is offline).
fn leader_is(p: &crate::api::PartitionDescription, topic: &str, broker: Option<i32>) -> Result<Said, Said> {
    let partition = p.partition;
    let shown = |b: Option<i32>| b.map_or("none".to_string(), |b| b.to_string());
    let korean = |b: Option<i32>| b.map_or("없음".to_string(), |b| format!("broker {b}"));
    if p.leader == broker {
        Ok(Said::new(
            format!("{topic}-{partition} is led by {}", shown(p.leader)),
            format!("{topic}-{partition}의 leader는 {}", korean(p.leader)),
        ))
    } else {
        Err(Said::new(
            format!("expected leader {}, found {}", shown(broker), shown(p.leader)),
            format!("기대한 leader는 {}, 실제는 {}", korean(broker), korean(p.leader)),
        ))
    }
}

/// `expect isr`: the partition's in-sync replicas are `brokers`, in any order.
fn isr_is(p: &crate::api::PartitionDescription, topic: &str, brokers: &[i32]) -> Result<Said, Said> {
    let partition = p.partition;
    let (mut expected, mut found) = (brokers.to_vec(), p.isr.clone());
    expected.sort_unstable();
    found.sort_unstable();
    if expected == found {
        Ok(Said::new(
            format!("{topic}-{partition} ISR {found:?}"),
            format!("{topic}-{partition}의 ISR {found:?}"),
        ))
    } else {
        Err(Said::new(
            format!("expected ISR {expected:?}, found {found:?}"),
            format!("기대한 ISR은 {expected:?}, 실제는 {found:?}"),
        ))
    }
}

fn partition_of(
    cluster: &mut Cluster,
    now_ms: i64,
    topic: &str,
    partition: i32,
) -> Result<crate::api::PartitionDescription, Said> {
    match cluster.handle(now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics
            .into_iter()
            .find(|t| t.name == topic)
            .and_then(|t| t.partitions.into_iter().find(|p| p.partition == partition))
            .ok_or_else(|| {
                Said::new(
                    format!("no partition {topic}-{partition}"),
                    format!("{topic}-{partition} partition이 없습니다"),
                )
            }),
        other => Err(describe(&other)),
    }
}

/// A reply in a few words, for a step's report.
/// What Kite Connect answered: a REST status (and an error's message), or a file's size.
fn describe_connect(reply: &Reply) -> Said {
    match reply {
        Reply::Connect { status, body } => {
            let message = body
                .as_ref()
                .and_then(|b| b.get("message"))
                .and_then(|m| m.as_str())
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Said::new(
                format!("Kite Connect answered {status}{message}"),
                format!("Kite Connect 응답 {status}{message}"),
            )
        }
        Reply::ConnectDescribed(view) => {
            let (path, bytes) = view
                .shown
                .as_ref()
                .map_or((String::new(), 0), |(p, t, from)| (p.clone(), from + t.len() as u64));
            Said::new(format!("{path} holds {bytes} bytes"), format!("{path}: {bytes}바이트"))
        }
        _ => Said::new("", ""),
    }
}

fn describe(reply: &Reply) -> Said {
    match reply {
        Reply::Connect { .. } | Reply::ConnectDescribed(_) => describe_connect(reply),
        Reply::TopicCreated { topic, .. } => Said::new(
            format!("created {} ({} partitions)", topic.name, topic.partitions.len()),
            format!("{} 생성 (partition {}개)", topic.name, topic.partitions.len()),
        ),
        Reply::Produced { topic, partition, offset, idempotent: None, placement, .. } => {
            let why = placed(placement);
            Said::new(
                format!("{topic}-{partition} @ offset {offset}{}", why.en),
                format!("{topic}-{partition}의 offset {offset}에 기록{}", why.ko),
            )
        }
        Reply::Produced { topic, partition, offset, idempotent: Some(w), .. } if w.duplicate => Said::new(
            format!(
                "{topic}-{partition} @ offset {offset}: a duplicate of producer {}'s sequence {}, not written again",
                w.producer_id, w.sequence
            ),
            format!(
                "{topic}-{partition}의 offset {offset}: 이미 받은 프로듀서 {}, 시퀀스 {}의 재전송이라 다시 기록하지 않음",
                w.producer_id, w.sequence
            ),
        ),
        Reply::Produced { topic, partition, offset, idempotent: Some(w), .. } => Said::new(
            format!(
                "{topic}-{partition} @ offset {offset} (producer {}, sequence {})",
                w.producer_id, w.sequence
            ),
            format!(
                "{topic}-{partition}의 offset {offset}에 기록 (프로듀서 {}, 시퀀스 {})",
                w.producer_id, w.sequence
            ),
        ),
        Reply::Offsets { topic, partition, offset: Some(offset), record_timestamp_ms, .. } => {
            let at = record_timestamp_ms.map(|t| format!(" (timestamp {t})")).unwrap_or_default();
            let ko_at = record_timestamp_ms.map(|t| format!(" (타임스탬프 {t})")).unwrap_or_default();
            Said::new(
                format!("{topic}-{partition}: offset {offset}{at}"),
                format!("{topic}-{partition}: offset {offset}{ko_at}"),
            )
        }
        Reply::Offsets { topic, partition, offset: None, .. } => Said::new(
            format!("{topic}-{partition}: no such offset"),
            format!("{topic}-{partition}: 해당하는 offset이 없습니다"),
        ),
        Reply::TopicDeleted { name } => Said::new(format!("deleted {name}"), format!("{name} 삭제")),
        Reply::PartitionsCreated { topic } => Said::new(
            format!("{} now has {} partitions", topic.name, topic.partitions.len()),
            format!("{}의 partition이 {}개가 됨", topic.name, topic.partitions.len()),
        ),
        altered @ (Reply::TopicConfigAltered { .. } | Reply::BrokerConfigAltered { .. }) => {
            configs_altered(altered)
        }
        Reply::ReassignmentsAltered { results } => reassigned(results),
        Reply::LeadersElected { results } => elected(results),
        membership @ (Reply::BrokerAdded { .. } | Reply::BrokerRemoval { .. }) => joined_or_left(membership),
        Reply::RecordsDeleted { topic, partition, low_watermark } => Said::new(
            format!("{topic}-{partition} starts at offset {low_watermark} (low watermark)"),
            format!("{topic}-{partition}의 로그가 offset {low_watermark}에서 시작 (low watermark)"),
        ),
        Reply::ClusterDescribed { brokers, controllers, .. } => cluster_described(brokers, controllers),
        Reply::TransactionEnded { transactional_id, committed: true } => Said::new(
            format!("{transactional_id} commits: a COMMIT marker on every partition it wrote to"),
            format!("{transactional_id} commit: 쓴 partition마다 COMMIT 마커 기록"),
        ),
        Reply::TransactionEnded { transactional_id, committed: false } => Said::new(
            format!("{transactional_id} aborts: an ABORT marker on every partition it wrote to"),
            format!("{transactional_id} abort: 쓴 partition마다 ABORT 마커 기록"),
        ),
        // Kafka's error name and the engine's message, in both.
        Reply::Error(e) => {
            let said = format!("{}: {}", e.error.name(), e.message);
            Said::new(said.clone(), said)
        }
        // Its `type`, which the API's writer puts first (`tagged`): `{"type":"offsets_reset",…`.
        other => {
            let text = crate::api::encode(other);
            let kind = text
                .strip_prefix(r#"{"type":""#)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_string();
            Said::new(kind.clone(), kind)
        }
    }
}

/// A topic's overrides, or a broker's (or every broker's default) dynamic configs, after a change.
fn configs_altered(reply: &Reply) -> Said {
    match reply {
        Reply::TopicConfigAltered { topic } => {
            let configs: Vec<String> = topic.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Said::new(
                format!("{}'s configs: {}", topic.name, configs.join(", ")),
                format!("{}의 설정: {}", topic.name, configs.join(", ")),
            )
        }
        Reply::BrokerConfigAltered { broker, configs } => {
            let set: Vec<String> = configs
                .iter()
                .filter(|c| c.source.starts_with("DYNAMIC"))
                .map(|c| format!("{}={}", c.name, c.value))
                .collect();
            let (en, ko) = match broker {
                Some(b) => (format!("broker {b}"), format!("브로커 {b}")),
                None => ("every broker (default)".to_string(), "모든 브로커(기본값)".to_string()),
            };
            Said::new(
                format!("{en}'s dynamic configs: {}", set.join(", ")),
                format!("{ko}의 동적 설정: {}", set.join(", ")),
            )
        }
        _ => Said::new(String::new(), String::new()),
    }
}

/// A reassignment's answer, partition by partition: accepted, or why not.
fn reassigned(results: &[crate::api::PartitionResult]) -> Said {
    let (en, ko): (Vec<String>, Vec<String>) = results
        .iter()
        .map(|r| {
            let p = format!("{}-{}", r.topic, r.partition);
            match &r.error {
                None => (format!("{p} reassignment accepted"), format!("{p} 재할당 요청 수락")),
                Some(e) => {
                    let why = format!("{}: {}", e.error.name(), e.message);
                    (format!("{p} {why}"), format!("{p} {why}"))
                }
            }
        })
        .unzip();
    Said::new(en.join(", "), ko.join(", "))
}

/// An election's answer: the partitions whose leader changed, and why the others did not.
fn elected(results: &[crate::api::PartitionResult]) -> Said {
    let (en, ko): (Vec<String>, Vec<String>) = results
        .iter()
        .map(|r| {
            let p = format!("{}-{}", r.topic, r.partition);
            match &r.error {
                None => (format!("{p} has a new leader"), format!("{p}의 리더를 새로 뽑음")),
                Some(e) => {
                    let why = format!("{}: {}", e.error.name(), e.message);
                    (format!("{p} {why}"), format!("{p} {why}"))
                }
            }
        })
        .unzip();
    Said::new(en.join(", "), ko.join(", "))
}

/// A broker's state as the Korean UI names it (frontend/src/i18n.rs).
/// What `add broker` and `remove broker N` did.
fn joined_or_left(reply: &Reply) -> Said {
    match *reply {
        Reply::BrokerAdded { broker } => Said::new(
            format!("broker {broker} added: it holds nothing until partitions move to it"),
            format!("broker {broker} 추가: partition을 옮겨 오기 전까지는 아무것도 맡지 않음"),
        ),
        Reply::BrokerRemoval { broker, moving: 0 } => Said::new(
            format!("broker {broker} held no replica and left the cluster"),
            format!("broker {broker}는 맡은 replica가 없어 바로 클러스터를 떠남"),
        ),
        Reply::BrokerRemoval { broker, moving } => Said::new(
            format!("broker {broker} leaving: {moving} partitions move their replica off it"),
            format!("broker {broker} 빼는 중: partition {moving}개의 replica를 다른 broker로 옮김"),
        ),
        _ => Said::new(String::new(), String::new()),
    }
}

/// How a scenario line tells the cluster's state: each broker's, and the controllers' when one is
/// not in its everyday state.
fn cluster_described(brokers: &[crate::api::BrokerView], controllers: &[crate::api::ControllerView]) -> Said {
    let (mut en, mut ko): (Vec<String>, Vec<String>) = brokers
        .iter()
        .map(|b| {
            let (leaving_en, leaving_ko) =
                if b.leaving { (" (leaving)", " (빠지는 중)") } else { ("", "") };
            (
                format!("broker {} {}{leaving_en}", b.id, b.state),
                format!("broker {}: {}{leaving_ko}", b.id, state_ko(&b.state)),
            )
        })
        .unzip();
    // The quorum only when a controller is not in its everyday state, so that a line
    // about brokers stays about brokers.
    if controllers.iter().any(|c| c.isolated || (c.state != "active" && c.state != "follower")) {
        for c in controllers {
            let epoch = if c.state == "active" { format!(" (epoch {})", c.epoch) } else { String::new() };
            let (cut_en, cut_ko) = if c.isolated { (", isolated", ", 격리됨") } else { ("", "") };
            en.push(format!("controller-{} {}{epoch}{cut_en}", c.id, c.state));
            ko.push(format!("controller-{}: {}{epoch}{cut_ko}", c.id, controller_state_ko(&c.state)));
        }
    }
    Said::new(en.join(", "), ko.join(", "))
}

/// The subject particle after a number read in Sino-Korean: 이 after a final consonant (영, 일,
/// 삼, 육, 칠, 팔), 가 after a vowel (이, 사, 오, 구).
fn subject_particle(number: i32) -> &'static str {
    match number.rem_euclid(10) {
        2 | 4 | 5 | 9 => "가",
        _ => "이",
    }
}

/// A KRaft controller's state (`ControllerView::state`) in Korean.
fn controller_state_ko(state: &str) -> &str {
    match state {
        "stopped" => "정지됨",
        "paused" => "일시 정지",
        "unattached" => "leader 모름",
        "prospective" => "사전 투표 요청 중",
        "candidate" => "투표 요청 중",
        "resigned" => "물러남",
        other => other,
    }
}

fn state_ko(state: &str) -> &str {
    match state {
        "up" => "동작 중",
        "fenced" => "펜싱됨",
        "log-dir-offline" => "로그 디렉터리 오프라인",
        "stopped" => "정지됨",
        "paused" => "일시 정지",
        "isolated" => "격리됨",
        other => other,
    }
}
