//! Kite Connect through its REST API on in-memory clusters, each story a trace of requests,
//! answers, topics and files checked against its `.trace` (`UPDATE_EXPECT=1` rewrites them):
//! Kafka's Connect quickstart (a file into `connect-test` and out again), a worker that crashes
//! and resumes from `connect-offsets`, and the API's answers to bad requests.

use kite_shared::api::{Command, Reply};
use kite_shared::cluster::Cluster;
use kite_shared::serializer::SerializerKind;

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
        self.topic_as(topic, Default::default())
    }

    /// Every record of a topic, its values read with `value_deserializer`.
    fn topic_as(&mut self, topic: &str, value_deserializer: SerializerKind) -> Vec<String> {
        let partitions = self.cluster.topic_partition_count(topic).unwrap_or(0);
        let mut all = Vec::new();
        for partition in 0..partitions {
            let fetch = Command::Fetch {
                topic: topic.into(),
                partition,
                offset: 0,
                max_records: 10_000,
                key_deserializer: Default::default(),
                value_deserializer,
                isolation_level: Default::default(),
            };
            let Reply::Records { records, .. } = self.cluster.handle(self.now_ms, fetch) else {
                panic!("{topic} was not read")
            };
            all.extend(records.into_iter().map(|r| {
                let headers: Vec<String> = r
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
                    .collect();
                let headers =
                    if headers.is_empty() { String::new() } else { format!(" [{}]", headers.join(", ")) };
                format!(
                    "{}-{partition}@{}: {} => {}{headers}",
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

    /// Produces a record with a text value (a null key).
    fn produce(&mut self, topic: &str, value: &str) {
        self.produce_with(topic, value, Default::default());
    }

    /// Produces a record whose value `serializer` writes (a null key).
    fn produce_with(&mut self, topic: &str, value: &str, serializer: SerializerKind) {
        let produce = Command::Produce {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            timestamp_ms: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: serializer,
            headers: Vec::new(),
            acks: Default::default(),
            producer: None,
        };
        assert!(matches!(self.cluster.handle(self.now_ms, produce), Reply::Produced { .. }));
    }

    /// Produces a record with a text key and value; no value is a tombstone.
    fn produce_keyed(&mut self, topic: &str, key: &str, value: Option<&str>) {
        let produce = Command::Produce {
            topic: topic.into(),
            partition: None,
            key: Some(key.into()),
            value: value.map(String::from),
            timestamp_ms: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            headers: Vec::new(),
            acks: Default::default(),
            producer: None,
        };
        let reply = self.cluster.handle(self.now_ms, produce);
        assert!(matches!(reply, Reply::Produced { .. }), "{reply:?}");
    }

    /// The JDBC sinks' tables, as the Connect view shows them, into the trace.
    fn show_tables(&mut self) -> Vec<kite_shared::api::TableView> {
        let Reply::ConnectDescribed(view) =
            self.cluster.handle(self.now_ms, Command::DescribeConnect { file: None })
        else {
            panic!("not described")
        };
        for table in &view.tables {
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|(name, kind, key)| format!("{name} {kind}{}", if *key { " KEY" } else { "" }))
                .collect();
            self.trace += &format!(
                "  {}:{} ({}) {} rows\n",
                table.database,
                table.table,
                columns.join(", "),
                table.row_count
            );
            for row in &table.rows {
                let cells: Vec<&str> = row.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect();
                self.trace += &format!("    {}\n", cells.join(" | "));
            }
        }
        view.tables
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

/// Every transform and predicate, data-driven: `connect/transforms.cases` holds configs and
/// records, `connect/transforms.trace` what came out of each chain (or why not).
#[test]
fn single_message_transforms_and_predicates_do_what_kafkas_do() {
    use kite_shared::connect::converter::Data;
    use kite_shared::connect::transforms::{Chain, ConnectRecord};
    let data = |v: &serde_json::Value| match v {
        serde_json::Value::Null => Data::Null,
        serde_json::Value::String(s) => Data::String(s.clone()),
        other => Data::Json(other.clone()),
    };
    let json = |d: &Data| match d {
        Data::Null => serde_json::Value::Null,
        Data::String(s) => serde_json::json!(s),
        Data::Bytes(b) => serde_json::json!(b),
        Data::Json(v) => v.clone(),
    };
    let cases = include_str!("connect/transforms.cases");
    let mut trace = String::new();
    for case in cases.split("## ").filter(|c| !c.trim().is_empty()) {
        let (title, body) = case.split_once('\n').unwrap();
        trace += &format!("## {title}\n");
        let config = body
            .lines()
            .filter_map(|l| l.split_once('=').filter(|_| !l.starts_with('>')))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let chain = match Chain::parse(&config) {
            Ok(chain) => chain,
            Err(errors) => {
                for (key, message) in errors {
                    trace += &format!("refused {key}: {message}\n");
                }
                continue;
            }
        };
        for line in body.lines().filter_map(|l| l.strip_prefix("> ")) {
            let input: serde_json::Value = serde_json::from_str(line).unwrap();
            let headers = input["headers"]
                .as_array()
                .map(|hs| {
                    hs.iter()
                        .map(|h| {
                            (h[0].as_str().unwrap().to_string(), h[1].as_str().map(|v| v.as_bytes().to_vec()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let record = ConnectRecord {
                topic: input["topic"].as_str().unwrap().to_string(),
                partition: input["partition"].as_i64().map(|p| p as i32),
                offset: input["offset"].as_i64(),
                timestamp_ms: input["timestamp"].as_i64().unwrap_or(1_700_000_000_000),
                key: data(&input["key"]),
                value: data(&input["value"]),
                headers,
            };
            trace += &format!("> {line}\n");
            trace += &match chain.apply(record) {
                Ok(Some(out)) => format!(
                    "< {}\n",
                    serde_json::json!({"topic": out.topic, "key": json(&out.key), "value": json(&out.value)})
                ),
                Ok(None) => "< dropped\n".to_string(),
                Err(e) => format!("< error in {}: {}\n", e.class, e.message),
            };
        }
    }
    expect_test::expect_file!["connect/transforms.trace"].assert_eq(&trace);
}

/// `errors.tolerance=all` with a dead-letter queue: a sink reading JsonConverter's envelopes
/// meets plain text; the good records reach the file, the bad ones the DLQ byte for byte with
/// Kafka's `__connect.errors.*` headers. Without tolerance the first bad record fails the task.
#[test]
fn bad_records_go_to_the_dead_letter_queue_while_good_ones_flow() {
    let mut run = Run::new(1);
    run.rest("POST", "/connectors", Some(r#"{"name":"in","config":{"connector.class":"FileStreamSource","file":"in.txt","topic":"mixed"}}"#));
    run.append("in.txt", "one\ntwo\n");
    run.wait(500);
    run.produce("mixed", "not JSON at all");
    // Not UTF-8 at all: the sink reads it again as bytes, and the queue gets them as they were.
    run.produce_with("mixed", "ff fe 7b", SerializerKind::ByteArray);
    run.append("in.txt", "three\n");
    run.wait(500);
    let tolerant = r#"{"name":"tolerant","config":{"connector.class":"FileStreamSink","file":"out.txt","topics":"mixed","errors.tolerance":"all","errors.deadletterqueue.topic.name":"dlq-mixed","errors.deadletterqueue.context.headers.enable":"true"}}"#;
    run.rest("POST", "/connectors", Some(tolerant));
    run.rest("POST", "/connectors", Some(r#"{"name":"strict","config":{"connector.class":"FileStreamSink","file":"strict.txt","topics":"mixed"}}"#));
    run.wait(5_000);
    assert_eq!(run.file("out.txt"), "one\ntwo\nthree\n");
    run.note("out.txt holds one, two, three; dlq-mixed:");
    run.show_topic("dlq-mixed");
    let dlq = run.cluster.handle(
        run.now_ms,
        Command::Fetch {
            topic: "dlq-mixed".into(),
            partition: 0,
            offset: 1,
            max_records: 1,
            key_deserializer: Default::default(),
            value_deserializer: SerializerKind::ByteArray,
            isolation_level: Default::default(),
        },
    );
    let Reply::Records { records, .. } = dlq else { panic!("dlq-mixed was not read") };
    assert_eq!(records[0].value.as_deref(), Some("ff fe 7b"), "the queue holds the record's own bytes");
    run.rest("GET", "/connectors/strict/status", None);
    // Kafka's sink task converts a whole poll before it puts any of it: the bad record fails the
    // poll it came in, so none of that poll is written.
    assert_eq!(run.file("strict.txt"), "", "the strict sink's one poll held the bad record");
    run.check("dead_letter_queue");
}

/// Datagen's orders, five of them, through a transform chain: schemaless JSON with a string key,
/// the address flattened and the item masked.
#[test]
fn datagen_makes_a_quickstarts_records_through_transforms() {
    let mut run = Run::new(1);
    let datagen = r#"{"name":"orders-gen","config":{"connector.class":"DatagenConnector","kafka.topic":"orders","quickstart":"orders","max.interval":"200","iterations":"5","key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter.schemas.enable":"false","transforms":"flat,mask","transforms.flat.type":"org.apache.kafka.connect.transforms.Flatten$Value","transforms.mask.type":"org.apache.kafka.connect.transforms.MaskField$Value","transforms.mask.fields":"itemid"}}"#;
    run.rest("POST", "/connectors", Some(datagen));
    run.rest("POST", "/connectors", Some(r#"{"name":"bad","config":{"connector.class":"Datagen","kafka.topic":"x","quickstart":"stocks","max.interval":"0"}}"#));
    run.wait(3_000);
    run.show_topic("orders");
    assert_eq!(run.topic("orders").len(), 5, "iterations=5");
    run.wait(11_000);
    run.note("connect-offsets: the task's count");
    run.show_topic("connect-offsets");
    run.check("datagen");
}

const ACCOUNTS_SINK: &str = r#"{"name":"accounts-db","config":{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","topics":"accounts","connection.url":"jdbc:sqlite:bank.db","insert.mode":"upsert","pk.mode":"record_key","pk.fields":"name","delete.enabled":"true","auto.create":"true","auto.evolve":"true","key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter.schemas.enable":"false"}}"#;

/// A topic into a table (the KTable lesson): the JDBC sink upserts each key's latest value,
/// deletes on a tombstone, widens the table for a new field, and a crashed worker's replayed
/// records leave the same table. Beside it, sinks that refuse in Confluent's words.
#[test]
fn a_jdbc_sink_keeps_each_keys_latest_value_in_a_table() {
    let mut run = Run::new(3);
    let create = Command::CreateTopic {
        name: "accounts".into(),
        partitions: 3,
        configs: Default::default(),
        replication_factor: None,
    };
    assert!(matches!(run.cluster.handle(run.now_ms, create), Reply::TopicCreated { .. }));
    run.produce_keyed("accounts", "alice", Some(r#"{"balance":10,"city":"Seoul"}"#));
    run.produce_keyed("accounts", "bob", Some(r#"{"balance":5,"city":"Busan"}"#));
    run.produce_keyed("accounts", "alice", Some(r#"{"balance":25.5,"city":"Seoul"}"#));
    run.produce_keyed("accounts", "carol", Some(r#"{"balance":7,"city":"Daegu"}"#));
    run.produce_keyed("accounts", "bob", None);
    run.rest("POST", "/connectors", Some(ACCOUNTS_SINK));
    // The group's first join waits group.initial.rebalance.delay.ms (3 s).
    run.wait(5_000);
    run.rest("GET", "/connectors/accounts-db/status", None);
    run.note("five records, three keys, bob deleted by his tombstone:");
    let tables = run.show_tables();
    assert_eq!(tables[0].row_count, 2, "alice and carol");
    run.produce_keyed("accounts", "dave", Some(r#"{"balance":1,"city":"Jeju","vip":true}"#));
    run.wait(11_000);
    run.produce_keyed("accounts", "alice", Some(r#"{"balance":30,"city":"Seoul"}"#));
    run.wait(1_000);
    run.crash_worker();
    run.wait(2_000);
    run.note("vip added by auto.evolve; alice written twice around the crash, one row still:");
    let tables = run.show_tables();
    assert_eq!(tables[0].row_count, 3);
    let refusing = [
        r#"{"name":"no-create","config":{"connector.class":"JdbcSink","topics":"accounts","connection.url":"jdbc:sqlite:other.db","key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter.schemas.enable":"false"}}"#,
        r#"{"name":"no-deletes","config":{"connector.class":"JdbcSink","topics":"accounts","connection.url":"jdbc:sqlite:log.db","pk.mode":"kafka","auto.create":"true","key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter.schemas.enable":"false"}}"#,
        r#"{"name":"bad","config":{"connector.class":"JdbcSink","topics":"accounts","connection.url":"jdbc:postgresql://db/x","insert.mode":"merge","delete.enabled":"true"}}"#,
        r#"{"name":"no-key","config":{"connector.class":"JdbcSink","topics":"accounts","connection.url":"jdbc:sqlite:x.db","insert.mode":"upsert"}}"#,
    ];
    for body in refusing {
        run.rest("POST", "/connectors", Some(body));
    }
    run.wait(5_000);
    run.rest("GET", "/connectors/no-create/status", None);
    run.rest("GET", "/connectors/no-deletes/status", None);
    run.check("jdbc_sink");
}

/// Confluent's AvroConverter on the cluster's schema registry: datagen's users written as Avro
/// (the schema inferred and registered under `users-value`, each value framed with its id), read
/// back by a JDBC sink into a table; a file's lines as Avro strings; a record that is not Avro
/// sent to the dead-letter queue in Confluent's words; a schema the subject cannot take failing
/// the source that would write it.
#[test]
fn the_avro_converter_writes_and_reads_through_the_schema_registry() {
    let mut run = Run::new(1);
    let avro = r#""value.converter":"io.confluent.connect.avro.AvroConverter","value.converter.schema.registry.url":"http://localhost:8081""#;
    let users = format!(
        r#"{{"name":"users-gen","config":{{"connector.class":"DatagenConnector","kafka.topic":"users","quickstart":"users","max.interval":"100","iterations":"4","key.converter":"org.apache.kafka.connect.storage.StringConverter",{avro}}}}}"#
    );
    run.rest("POST", "/connectors", Some(&users));
    let table = format!(
        r#"{{"name":"users-db","config":{{"connector.class":"JdbcSink","topics":"users","connection.url":"jdbc:sqlite:users.db","insert.mode":"upsert","pk.mode":"record_key","pk.fields":"userid","auto.create":"true","key.converter":"org.apache.kafka.connect.storage.StringConverter",{avro}}}}}"#
    );
    run.rest("POST", "/connectors", Some(&table));
    run.rest("POST", "/connectors", Some(r#"{"name":"no-url","config":{"connector.class":"FileStreamSink","file":"x.txt","topics":"users","value.converter":"io.confluent.connect.avro.AvroConverter"}}"#));
    run.wait(5_000);
    run.note("users, read with KafkaAvroDeserializer:");
    for line in run.topic_as("users", SerializerKind::Avro) {
        run.trace += &format!("  {line}\n");
    }
    let registry = run.cluster.schema_registry();
    assert_eq!(registry.versions("users-value"), &[1]);
    let (id, schema) = registry.latest("users-value").unwrap();
    run.trace += &format!("# users-value v1, id {id}: {}\n", serde_json::to_string(schema).unwrap());
    run.note("users.db, by the sink that read them back:");
    assert!(!run.show_tables().is_empty());

    let lines = format!(
        r#"{{"name":"lines","config":{{"connector.class":"FileStreamSource","file":"in.txt","topic":"lines",{avro}}}}}"#
    );
    run.rest("POST", "/connectors", Some(&lines));
    run.append("in.txt", "foo\n");
    run.wait(500);
    run.produce("lines", "not Avro");
    let dlq = format!(
        r#"{{"name":"lines-out","config":{{"connector.class":"FileStreamSink","file":"out.txt","topics":"lines","errors.tolerance":"all","errors.deadletterqueue.topic.name":"dlq-lines","errors.deadletterqueue.context.headers.enable":"true",{avro}}}}}"#
    );
    run.rest("POST", "/connectors", Some(&dlq));
    run.wait(5_000);
    assert_eq!(run.file("out.txt"), "foo\n");
    run.note("out.txt holds foo; dlq-lines:");
    run.show_topic("dlq-lines");

    // A subject holding a long cannot take a string (BACKWARD): the source fails, as Connect's does.
    let register = Command::RegisterSchema { subject: "numbers-value".into(), schema: r#""long""#.into() };
    assert!(matches!(run.cluster.handle(run.now_ms, register), Reply::SchemaRegistered { .. }));
    let numbers = format!(
        r#"{{"name":"numbers","config":{{"connector.class":"FileStreamSource","file":"in.txt","topic":"numbers",{avro}}}}}"#
    );
    run.rest("POST", "/connectors", Some(&numbers));
    run.wait(1_000);
    run.rest("GET", "/connectors/numbers/status", None);
    let Reply::ConnectDescribed(view) =
        run.cluster.handle(run.now_ms, Command::DescribeConnect { file: None })
    else {
        panic!("not described")
    };
    run.note("the Connect view's subjects:");
    for subject in &view.schemas {
        run.trace += &format!("  {} v{} id {}\n", subject.subject, subject.version, subject.id);
    }
    run.check("avro_converter");
}

/// A sink reading `topics.regex`: every topic whose whole name matches, internal ones left out; a
/// topic made later is picked up at the next look (`SINK_TOPICS_REGEX_REFRESH_MS`), its consumer
/// subscribing again in the same group so nothing already written comes twice. Beside it, the
/// configs Kafka refuses.
#[test]
fn a_topics_regex_sink_reads_every_matching_topic_and_picks_up_new_ones() {
    let mut run = Run::new(1);
    let create = |run: &mut Run, name: &str| {
        let create = Command::CreateTopic {
            name: name.into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: None,
        };
        assert!(matches!(run.cluster.handle(run.now_ms, create), Reply::TopicCreated { .. }));
    };
    create(&mut run, "logs-web");
    create(&mut run, "metrics");
    run.produce("logs-web", "web 1");
    run.produce("metrics", "cpu 3");
    let sink = r#"{"name":"logs","config":{"connector.class":"FileStreamSink","file":"logs.txt","topics.regex":"logs-.*","value.converter":"org.apache.kafka.connect.storage.StringConverter"}}"#;
    run.rest("POST", "/connectors", Some(sink));
    run.wait(5_000);
    assert_eq!(run.file("logs.txt"), "web 1\n");
    create(&mut run, "logs-db");
    run.produce("logs-db", "db 1");
    run.produce("logs-web", "web 2");
    run.wait(12_000);
    run.note("logs-db made after the sink started; metrics never matched:");
    let written = run.file("logs.txt");
    run.trace += &format!("  logs.txt: {written:?}\n");
    let mut lines: Vec<&str> = written.lines().collect();
    lines.sort();
    assert_eq!(lines, ["db 1", "web 1", "web 2"], "each matching record once");
    let Reply::ConnectDescribed(view) =
        run.cluster.handle(run.now_ms, Command::DescribeConnect { file: None })
    else {
        panic!("not described")
    };
    run.trace += &format!("  topics shown: {:?}\n", view.connectors[0].topics);
    run.rest("GET", "/connectors/logs/status", None);
    let refused = [
        r#"{"name":"both","config":{"connector.class":"FileStreamSink","file":"x.txt","topics":"a","topics.regex":"a.*"}}"#,
        r#"{"name":"bad-regex","config":{"connector.class":"FileStreamSink","file":"x.txt","topics.regex":"logs-("}}"#,
        r#"{"name":"dlq-read","config":{"connector.class":"FileStreamSink","file":"x.txt","topics.regex":"logs-.*","errors.tolerance":"all","errors.deadletterqueue.topic.name":"logs-dlq"}}"#,
        r#"{"name":"dlq-listed","config":{"connector.class":"FileStreamSink","file":"x.txt","topics":"a,dlq","errors.tolerance":"all","errors.deadletterqueue.topic.name":"dlq"}}"#,
    ];
    for body in refused {
        run.rest("POST", "/connectors", Some(body));
    }
    run.check("topics_regex");
}

/// A worker restarted while `connect-configs` has no leader cannot know its connectors: its REST
/// API answers 409, as Kafka's does while its worker rejoins, rather than "not found" for a
/// connector it holds (or a 201 for a name taken); once the brokers are back it reads them back
/// and answers for them.
#[test]
fn a_restarted_worker_answers_409_until_it_has_read_its_connectors_back() {
    let mut run = Run::new(3);
    run.cluster.allow_faults = true;
    run.append("test.txt", "foo\n");
    run.rest("POST", "/connectors", Some(SOURCE));
    run.wait(1_000);
    let brokers = |run: &mut Run, stop: bool| {
        for broker in 0..3 {
            let command = if stop { Command::StopBroker { broker } } else { Command::StartBroker { broker } };
            let reply = run.cluster.handle(run.now_ms, command);
            assert!(!matches!(reply, Reply::Error(_)), "{reply:?}");
        }
    };
    brokers(&mut run, true);
    run.crash_worker();
    run.wait(1_000);
    run.note("every broker stopped, the worker restarted:");
    let (status, _) = run.rest("GET", "/connectors/local-file-source/status", None);
    assert_eq!(status, 409);
    run.rest("POST", "/connectors", Some(SOURCE));
    brokers(&mut run, false);
    run.wait(15_000);
    run.note("the brokers back:");
    let (status, _) = run.rest("GET", "/connectors/local-file-source/status", None);
    assert_eq!(status, 200);
    run.check("restore");
}
