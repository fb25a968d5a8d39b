//! Kite Connect through its REST API on in-memory clusters, each story a trace of requests,
//! answers, topics and files checked against its `.trace` (`UPDATE_EXPECT=1` rewrites them):
//! Kafka's Connect quickstart (a file into `connect-test` and out again), a worker that crashes
//! and resumes from `connect-offsets`, and the API's answers to bad requests.

use kite_shared::api::{Command, Reply};
use kite_shared::cluster::Cluster;

const START_MS: i64 = 1_700_000_000_000;
/// How often the host ticks the cluster (ms), as `kite serve` does.
const TICK_MS: i64 = 10;

struct Run {
    cluster: Cluster,
    now_ms: i64,
    trace: String,
}

impl Run {
    fn new(brokers: usize) -> Run {
        let cluster =
            if brokers == 1 { Cluster::new(7) } else { Cluster::replicated_in_memory(7, brokers, START_MS) };
        Run { cluster, now_ms: START_MS, trace: String::new() }
    }

    /// A REST request; the trace gets it and the answer.
    fn rest(&mut self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let command = Command::Connect {
            method: method.into(),
            path: path.into(),
            body: body.map(|b| serde_json::from_str(b).expect("a test's body is JSON")),
        };
        let Reply::Connect { status, body } = self.cluster.handle(self.now_ms, command) else {
            panic!("not a connect reply")
        };
        let body = body.unwrap_or(serde_json::Value::Null);
        self.trace += &format!("> {method} {path}\n< {status} {body}\n");
        (status, body)
    }

    fn note(&mut self, line: &str) {
        self.trace += &format!("# {line}\n");
    }

    fn wait(&mut self, ms: i64) {
        let until = self.now_ms + ms;
        while self.now_ms < until {
            self.now_ms += TICK_MS;
            self.cluster.tick(self.now_ms);
        }
    }

    fn append(&mut self, path: &str, text: &str) {
        self.cluster.connect_worker().files().append(path, text.as_bytes()).unwrap();
    }

    fn file(&mut self, path: &str) -> String {
        let bytes =
            self.cluster.connect_worker().files().read(path, 0, usize::MAX).unwrap().unwrap_or_default();
        String::from_utf8(bytes).unwrap()
    }

    /// Every record of a topic, partition by partition, as `key => value`.
    fn topic(&mut self, topic: &str) -> Vec<String> {
        let partitions = self.cluster.topic_partition_count(topic).unwrap_or(0);
        let mut all = Vec::new();
        for partition in 0..partitions {
            let fetch = Command::Fetch {
                topic: topic.into(),
                partition,
                offset: 0,
                max_records: 10_000,
                key_deserializer: Default::default(),
                value_deserializer: Default::default(),
                isolation_level: Default::default(),
            };
            let Reply::Records { records, .. } = self.cluster.handle(self.now_ms, fetch) else {
                panic!("{topic} was not read")
            };
            all.extend(records.into_iter().map(|r| {
                format!(
                    "{}-{partition}@{}: {} => {}",
                    topic,
                    r.offset,
                    r.key.as_deref().unwrap_or("null"),
                    r.value.as_deref().unwrap_or("null")
                )
            }));
        }
        all
    }

    fn show_topic(&mut self, topic: &str) {
        for line in self.topic(topic) {
            self.trace += &format!("  {line}\n");
        }
    }

    /// The worker dies and a new one starts over the same cluster and files.
    fn crash_worker(&mut self) {
        self.cluster.crash_connect_worker(self.now_ms);
    }

    fn check(self, name: &str) {
        expect_test::expect_file![format!("connect/{name}.trace")].assert_eq(&self.trace);
    }
}

const SOURCE: &str = r#"{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"test.txt","topic":"connect-test"}}"#;
const SINK: &str = r#"{"name":"local-file-sink","config":{"connector.class":"FileStreamSink","tasks.max":"1","file":"test.sink.txt","topics":"connect-test"}}"#;

/// Kafka's quickstart, step 6 ("import/export your data as streams of events with Kafka
/// Connect"), with its two properties files as REST bodies.
#[test]
fn kafkas_connect_quickstart_moves_a_file_through_a_topic_and_out_again() {
    let mut run = Run::new(1);
    run.append("test.txt", "foo\nbar\n");
    run.rest("GET", "/connector-plugins", None);
    run.rest("POST", "/connectors", Some(SOURCE));
    run.rest("POST", "/connectors", Some(SINK));
    run.rest("GET", "/connectors", None);
    // The sink's group waits group.initial.rebalance.delay.ms (3 s) before its first assignment.
    run.wait(5_000);
    run.rest("GET", "/connectors/local-file-source/status", None);
    run.rest("GET", "/connectors/local-file-sink/tasks", None);
    run.note("connect-test, as kafka-console-consumer shows it");
    run.show_topic("connect-test");
    let sink = run.file("test.sink.txt");
    assert_eq!(sink, "foo\nbar\n", "the sink file is the source file");
    run.append("test.txt", "Another line\n");
    run.wait(1_000);
    assert_eq!(run.file("test.sink.txt"), run.file("test.txt"));
    run.note("after a line is appended to test.txt");
    run.show_topic("connect-test");
    run.wait(10_000);
    run.note("connect-offsets after the offset flush");
    run.show_topic("connect-offsets");
    run.note("connect-configs");
    run.show_topic("connect-configs");
    run.check("quickstart");
}

/// A worker killed mid-stream: the new one reads its connectors from `connect-configs` and the
/// source's position from `connect-offsets`, so no line is lost; lines produced after the last
/// offset flush are produced again (at least once), and the trace counts them.
#[test]
fn a_worker_that_crashes_resumes_from_connect_offsets() {
    let mut run = Run::new(3);
    let first: String = (0..100).map(|i| format!("order {i}\n")).collect();
    run.append("orders.txt", &first);
    let source = SOURCE.replace("test.txt", "orders.txt").replace("connect-test", "orders");
    let sink = SINK.replace("test.sink.txt", "orders.out").replace("connect-test", "orders");
    run.rest("POST", "/connectors", Some(&source));
    run.rest("POST", "/connectors", Some(&sink));
    run.wait(11_000);
    let more: String = (100..150).map(|i| format!("order {i}\n")).collect();
    run.append("orders.txt", &more);
    run.wait(500);
    run.note("the worker crashes: 150 lines produced, the offsets of 100 committed");
    run.crash_worker();
    run.wait(60_000);
    run.rest("GET", "/connectors?expand=status", None);
    let produced = run.topic("orders").len();
    let out = run.file("orders.out");
    let lines: Vec<&str> = out.lines().collect();
    let mut seen = std::collections::BTreeSet::new();
    let first_seen: Vec<&str> = lines.iter().copied().filter(|l| seen.insert(*l)).collect();
    let expected: Vec<String> = (0..150).map(|i| format!("order {i}")).collect();
    assert_eq!(first_seen, expected, "every line reached the sink, in order");
    run.note(&format!(
        "orders holds {produced} records for 150 lines ({} produced again); orders.out holds {} lines ({} written again)",
        produced - 150,
        lines.len(),
        lines.len() - 150
    ));
    run.check("crash");
}

/// What the API answers to requests it refuses, and to pause, resume, restart and delete.
#[test]
fn the_rest_api_answers_as_kafka_connect_does() {
    let mut run = Run::new(1);
    run.rest("GET", "/connectors/nope", None);
    run.rest("POST", "/connectors", Some(r#"{"name":"x","config":{"name":"x"}}"#));
    run.rest("POST", "/connectors", Some(r#"{"name":"x","config":{"connector.class":"JdbcSinkConnector"}}"#));
    run.rest("POST", "/connectors", Some(r#"{"name":"x","config":{"connector.class":"FileStreamSink","file":"../etc/passwd","tasks.max":"0"}}"#));
    run.rest("PUT", "/connectors/x/config", Some(r#"{"name":"y","connector.class":"FileStreamSink"}"#));
    run.rest(
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        Some(r#"{"connector.class":"FileStreamSource","topic":"t"}"#),
    );
    run.rest(
        "PUT",
        "/connectors/s/config",
        Some(r#"{"connector.class":"FileStreamSink","file":"out.txt","topics":"t","tasks.max":2}"#),
    );
    run.rest(
        "PUT",
        "/connectors/s/config",
        Some(r#"{"connector.class":"FileStreamSink","file":"out.txt","topics":"t","tasks.max":"1"}"#),
    );
    run.rest(
        "POST",
        "/connectors",
        Some(r#"{"name":"s","config":{"connector.class":"FileStreamSink","file":"out.txt","topics":"t"}}"#),
    );
    run.wait(200);
    run.rest("PUT", "/connectors/s/pause", None);
    run.wait(200);
    run.rest("GET", "/connectors/s/status", None);
    run.rest("PUT", "/connectors/s/resume", None);
    run.rest("POST", "/connectors/s/restart", None);
    run.rest("POST", "/connectors/s/restart?includeTasks=true", None);
    run.wait(200);
    run.rest("GET", "/connectors/s/tasks/0/status", None);
    run.rest("GET", "/connectors/s/tasks/7/status", None);
    run.rest("PATCH", "/connectors/s", None);
    run.rest("GET", "/connectors/s%2Fx", None);
    run.rest("GET", "/connectors/bad%zz", None);
    run.rest("DELETE", "/connectors/s", None);
    run.rest("GET", "/connectors/s/status", None);
    run.note("connect-configs and connect-status after the delete");
    run.show_topic("connect-configs");
    run.show_topic("connect-status");
    run.check("rest");
}
