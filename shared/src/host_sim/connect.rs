//! The simulator's Kite Connect pipeline: a FileStreamSource reads `in.txt` into `lines`, a
//! FileStreamSink writes `lines` to `out.txt` and a JDBC sink upserts it into a table of
//! `lines.db` keyed by each record's offset, values through the AvroConverter (the schema in the
//! cluster's registry, which must survive every fault the records do), while the run's
//! faults meet the worker anywhere — a restart of the process is the worker's crash, a stopped
//! broker fails a task's produce or poll. The connect directory outlives the process (a restart
//! opens a new worker over the same files, as `kite serve --connect-dir` does). Lines are
//! appended to `in.txt` from a stream of the pipeline's own.
//!
//! After healing, failed tasks are restarted (`POST /connectors/{name}/restart?includeTasks=true
//! &onlyFailed=true`, what an operator does) and the pipeline settles. The checker then judges,
//! at least once: every line appended reaches `out.txt`, and the lines' first appearances there
//! are in the order they were appended (one partition). A power cut without fsync may take
//! acknowledged records of `lines`, of `connect-offsets` or of the sink's committed offsets, and
//! what follows from that may reach lines appended later: in a run with such a cut, lines lost are
//! counted, not judged. Without such a cut the table must hold exactly a row per record of
//! `lines`, its line: records written again (at least once) land on their own rows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::Sim;
use crate::api::{Command, Reply};
use crate::connect::files::{ConnectFiles, MemoryFiles};
use crate::connect::tables::{Column, ConnectTables, TableChange};
use crate::random::Rng;

/// The file the source reads.
pub(super) const SOURCE_FILE: &str = "in.txt";
/// The file the sink writes.
pub(super) const SINK_FILE: &str = "out.txt";
/// The topic between them.
pub(super) const LINES_TOPIC: &str = "lines";
/// The database the JDBC sink keeps `lines` in, a row per record (keyed by its offset).
const TABLE_DATABASE: &str = "lines.db";
/// One step in this many appends a line to the source file.
pub(super) const APPEND_ONE_IN: u64 = 2;
/// Mixed into the seed for the pipeline's own choices.
const PIPELINE_STREAM: u64 = 0x636f_6e6e_6563_7400;
/// How long the healed worker is given to read its topics back before failed tasks are restarted.
const RESTART_AFTER_MS: i64 = 10_000;
/// How many times a connector's creation is tried at the start.
const CREATE_ATTEMPTS: i64 = 10;
/// How long the healed pipeline is given to catch up (ms of the cluster's clock).
const CATCH_UP_MS: i64 = 120_000;

/// The connect directory, shared by every worker the run's processes open.
#[derive(Clone, Default)]
pub(super) struct SharedFiles(Arc<Mutex<MemoryFiles>>);

impl SharedFiles {
    fn with<T>(&self, work: impl FnOnce(&mut MemoryFiles) -> T) -> T {
        // A poisoned lock is a panic already on its way: the run fails there.
        let mut files = self.0.lock().unwrap_or_else(|e| e.into_inner());
        work(&mut files)
    }
}

impl ConnectTables for SharedFiles {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        self.with(|f| f.columns(database, table))
    }

    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        self.with(|f| f.apply(database, changes))
    }

    fn show(&mut self, database: &str) -> Result<Vec<crate::api::TableView>, String> {
        self.with(|f| f.show(database))
    }
}

impl ConnectFiles for SharedFiles {
    fn read(&mut self, path: &str, offset: u64, max_bytes: usize) -> Result<Option<Vec<u8>>, String> {
        self.with(|f| f.read(path, offset, max_bytes))
    }

    fn append(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        self.with(|f| f.append(path, bytes))
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        self.with(|f| f.write(path, bytes))
    }

    fn flush(&mut self, path: &str) -> Result<(), String> {
        self.with(|f| f.flush(path))
    }

    fn list(&mut self) -> Vec<(String, u64)> {
        self.with(|f| f.list())
    }
}

/// The pipeline: its files, its choices, and the lines appended with the era each was.
pub(super) struct Pipeline {
    pub(super) files: SharedFiles,
    rng: Rng,
    appended: Vec<(String, u32)>,
}

impl Pipeline {
    pub(super) fn new(seed: u64) -> Pipeline {
        Pipeline {
            files: SharedFiles::default(),
            rng: Rng::from_seed(seed ^ PIPELINE_STREAM),
            appended: Vec::new(),
        }
    }
}

fn connector(name: &str, config: serde_json::Value) -> Command {
    let mut config = config;
    config["key.converter"] = "org.apache.kafka.connect.storage.StringConverter".into();
    // Values through Confluent's AvroConverter: the schema registered through the cluster must
    // outlive its restarts, or the sinks cannot read what the source wrote.
    config["value.converter"] = crate::connect::converter::AVRO_CONVERTER.into();
    config["value.converter.schema.registry.url"] = "http://registry".into();
    Command::Connect {
        method: "POST".into(),
        path: "/connectors".into(),
        body: Some(serde_json::json!({"name": name, "config": config})),
    }
}

impl Sim {
    /// `lines` (replicated as the workload's topic is), the source and the sink.
    pub(super) fn start_pipeline(&mut self) {
        let configs =
            BTreeMap::from([("min.insync.replicas".to_string(), self.config.brokers.min(2).to_string())]);
        let create = Command::CreateTopic {
            name: LINES_TOPIC.into(),
            partitions: 1,
            configs,
            replication_factor: Some(self.config.brokers as i16),
        };
        let created = self.ask(create);
        let source = connector(
            "source",
            serde_json::json!({"connector.class": "FileStreamSource", "file": SOURCE_FILE, "topic": LINES_TOPIC}),
        );
        let sink = connector(
            "sink",
            serde_json::json!({"connector.class": "FileStreamSink", "file": SINK_FILE, "topics": LINES_TOPIC}),
        );
        // The same records into a table, keyed by their place in the topic (pk.mode=kafka) and
        // upserted, so a record written again lands on its own row.
        let table = connector(
            "table",
            serde_json::json!({"connector.class": "JdbcSink", "topics": LINES_TOPIC,
                "connection.url": format!("jdbc:sqlite:{TABLE_DATABASE}"), "insert.mode": "upsert",
                "pk.mode": "kafka", "auto.create": "true", "transforms": "hoist",
                "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
                "transforms.hoist.field": "line"}),
        );
        let answers = [self.until_taken(source), self.until_taken(sink), self.until_taken(table)];
        if !matches!(created, Reply::TopicCreated { .. })
            || answers.iter().any(|a| !matches!(a, Reply::Connect { status: 201, .. }))
        {
            self.violations.push(format!("the Connect pipeline did not start: {created:?}, {answers:?}"));
        }
        self.log(format!("pipeline: {SOURCE_FILE} → {LINES_TOPIC} → {SINK_FILE} and {TABLE_DATABASE}"));
    }

    /// A REST request sent again until the worker could take it: a new topic's replicas are
    /// made a slice per turn (until then it answers 500), and a restarted worker reads its
    /// connectors back first (409); a client tries again.
    fn until_taken(&mut self, post: Command) -> Reply {
        let mut answer = self.ask(post.clone());
        for attempt in 1..=CREATE_ATTEMPTS {
            // 500: not written yet; 409: the worker has not read its connectors back yet.
            if !matches!(answer, Reply::Connect { status: 500 | 409, .. }) {
                break;
            }
            if let Some(cluster) = self.cluster.as_mut() {
                cluster.tick(self.now + attempt);
                while cluster.resume(self.now + attempt) {}
            }
            answer = self.ask(post.clone());
        }
        answer
    }

    /// Now and then a line appended to the source file.
    pub(super) fn pipeline_step(&mut self) {
        let Some(pipeline) = self.pipeline.as_mut() else { return };
        if !pipeline.rng.next_u64().is_multiple_of(APPEND_ONE_IN) {
            return;
        }
        let line = format!("line {}", pipeline.appended.len());
        let appended = pipeline.files.append(SOURCE_FILE, format!("{line}\n").as_bytes());
        if appended.is_ok() {
            pipeline.appended.push((line, self.era));
        }
    }

    /// Restarts what failed, then gives the pipeline time to catch up.
    pub(super) fn settle_pipeline(&mut self) {
        if self.pipeline.is_none() {
            return;
        }
        // The restarted worker first reads its topics back (once their leaders are elected).
        self.catch_up(RESTART_AFTER_MS);
        for name in ["source", "sink", "table"] {
            let restart = Command::Connect {
                method: "POST".into(),
                path: format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
                body: None,
            };
            let answer = self.until_taken(restart);
            self.log(format!("restart {name}'s failed tasks: {answer:?}"));
        }
        self.catch_up(CATCH_UP_MS);
    }

    /// `ms` of the cluster's clock, a tick a second.
    fn catch_up(&mut self, ms: i64) {
        for second in 1..=ms / 1_000 {
            if let Some(cluster) = self.cluster.as_mut() {
                cluster.tick(self.now + second * 1_000);
            }
        }
        self.now += ms;
    }

    /// Every line appended reached the sink's file, first appearances in order; lines of a lossy
    /// era missing are counted, not judged.
    pub(super) fn check_pipeline(&mut self) {
        let Some(pipeline) = self.pipeline.take() else { return };
        // What the worker says of itself, for reading a failure's trace.
        if let Reply::ConnectDescribed(view) = self.ask(Command::DescribeConnect { file: None }) {
            let states: Vec<String> = view
                .connectors
                .iter()
                .map(|c| {
                    format!(
                        "{} {} [{}]",
                        c.name,
                        c.state,
                        c.tasks
                            .iter()
                            .map(|t| format!(
                                "{}{}",
                                t.state,
                                t.trace.as_deref().map(|t| format!(": {t}")).unwrap_or_default()
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            self.log(format!("pipeline: connectors {states:?}, problems {:?}", view.problems));
        }
        let mut files = pipeline.files.clone();
        let out = files.read(SINK_FILE, 0, usize::MAX).ok().flatten().unwrap_or_default();
        let out = String::from_utf8_lossy(&out);
        let mut seen = BTreeSet::new();
        let first_seen: Vec<&str> = out.lines().filter(|l| seen.insert(*l)).collect();
        // A power cut without fsync may take a tail of `lines` below what the sink's group had
        // committed, and lines appended after it then land below that offset and are skipped —
        // in Kafka too, after any loss of acknowledged records. So with such a cut in the run,
        // missing lines are counted, not judged (as the transform checker's exactly-once is).
        let lossy = |_era: u32| !self.lossy_eras.is_empty();
        let expected: Vec<&str> = pipeline.appended.iter().map(|(line, _)| line.as_str()).collect();
        let missing: Vec<&(String, u32)> =
            pipeline.appended.iter().filter(|(line, _)| !seen.contains(line.as_str())).collect();
        let judged_missing: Vec<&str> =
            missing.iter().filter(|(_, era)| !lossy(*era)).map(|(l, _)| l.as_str()).collect();
        if !judged_missing.is_empty() {
            self.violations.push(format!(
                "{} of {} lines appended to {SOURCE_FILE} never reached {SINK_FILE}: {:?}",
                judged_missing.len(),
                expected.len(),
                judged_missing.iter().take(5).collect::<Vec<_>>()
            ));
        }
        let order: BTreeMap<&str, usize> = expected.iter().enumerate().map(|(i, l)| (*l, i)).collect();
        let positions: Vec<usize> = first_seen.iter().filter_map(|l| order.get(l).copied()).collect();
        if positions.windows(2).any(|w| w[0] > w[1]) {
            self.violations
                .push(format!("{SINK_FILE}'s lines first appear out of the order they were appended"));
        }
        if first_seen.len() > positions.len() {
            self.violations.push(format!("{SINK_FILE} holds lines never appended to {SOURCE_FILE}"));
        }
        let written = out.lines().count();
        self.log(format!(
            "pipeline: {} lines appended, {} reached {SINK_FILE} ({} written again, {} lost to power cuts)",
            expected.len(),
            expected.len() - missing.len(),
            written.saturating_sub(first_seen.len()),
            missing.len()
        ));
        self.check_table(&pipeline);
    }

    /// The JDBC sink's table mirrors `lines`: a row per record, keyed by its offset, holding its
    /// line — however often the sink wrote it again. Judged in runs without a power cut that
    /// lost acknowledged records (an offset may then hold two records in turn).
    fn check_table(&mut self, pipeline: &Pipeline) {
        use crate::connect::tables::SqlValue;
        let rows = pipeline.files.with(|f| f.tables().rows(TABLE_DATABASE, LINES_TOPIC));
        let in_table: BTreeMap<i64, String> = rows
            .iter()
            .filter_map(|row| match (&row[2], &row[3]) {
                (SqlValue::Integer(offset), SqlValue::Text(line)) => Some((*offset, line.clone())),
                _ => None,
            })
            .collect();
        let mut in_topic = BTreeMap::new();
        loop {
            let fetch = Command::Fetch {
                topic: LINES_TOPIC.into(),
                partition: 0,
                offset: in_topic.len() as i64,
                max_records: 10_000,
                key_deserializer: Default::default(),
                // The source's AvroConverter wrote each line as an Avro string: read as JSON text.
                value_deserializer: crate::serializer::SerializerKind::Avro,
                isolation_level: Default::default(),
            };
            let Reply::Records { records, .. } = self.ask(fetch) else { break };
            if records.is_empty() {
                break;
            }
            let line = |json: Option<String>| {
                let json = json.unwrap_or_default();
                serde_json::from_str::<String>(&json).unwrap_or(json)
            };
            in_topic.extend(records.into_iter().map(|r| (r.offset, line(r.value))));
        }
        self.log(format!(
            "pipeline: {} rows in {TABLE_DATABASE} for {} records of {LINES_TOPIC}",
            in_table.len(),
            in_topic.len()
        ));
        if self.lossy_eras.is_empty() && rows.len() == in_table.len() && in_table != in_topic {
            let differ = in_topic.iter().find(|(offset, line)| in_table.get(offset) != Some(line));
            self.violations.push(format!(
                "{TABLE_DATABASE} does not mirror {LINES_TOPIC}: {} rows for {} records; first difference at {differ:?}",
                in_table.len(),
                in_topic.len()
            ));
        } else if rows.len() != in_table.len() {
            self.violations
                .push(format!("{TABLE_DATABASE} holds rows that are not (offset, line): {:?}", rows.first()));
        }
    }
}
