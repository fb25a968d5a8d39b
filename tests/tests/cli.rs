//! The command-line tools against a real `kite serve`: create, list and describe topics like
//! kafka-topics, produce from arguments and stdin (with parse.key) like kafka-console-producer,
//! consume from the beginning like kafka-console-consumer; Kafka's errors printed by name.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use kite_backend::disk::check_partition_dir;
use kite_e2e::{KiteServer, TempDir, env_path, kite_serve};

fn kite(server: &KiteServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env_path("KITE_BIN"))
        .args(args)
        .arg("--server")
        .arg(server.ws_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn topics_produce_and_consume_like_kafkas_tools() {
    // One broker: the placements and the describe table below are fixed.
    let data = TempDir::new("cli");
    let server = KiteServer::start_with(data.path(), &["--brokers", "1"]);

    let created = kite(
        &server,
        &["topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000"],
        None,
    );
    assert_eq!(stdout(&created), "Created topic orders.\n");
    let refused = kite(&server, &["topics", "create", "orders", "--partitions", "3"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("TOPIC_ALREADY_EXISTS (36)"));
    let refused = kite(&server, &["topics", "create", "wide", "--replication-factor", "3"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains(
        "INVALID_REPLICATION_FACTOR (38): Replication factor: 3 larger than available brokers: 1."
    ));
    assert_eq!(stdout(&kite(&server, &["topics", "list"], None)), "orders\n");
    // Fault injection needs the server's consent.
    let refused = kite(&server, &["cluster", "stop-broker", "0"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("start kite serve with --allow-faults"));

    // kafka-reference.md §3: "a-little-bit-long-string" → partition 2 of 3; "foobar" → 0.
    let produced =
        kite(&server, &["produce", "orders", "--key", "a-little-bit-long-string", "first", "second"], None);
    assert_eq!(stdout(&produced), "orders-2@0\norders-2@1\n");
    let produced = kite(
        &server,
        &["produce", "orders", "--property", "parse.key=true", "--property", "key.separator=:"],
        Some("foobar:third\nfoobar:fourth\n"),
    );
    assert_eq!(stdout(&produced), "orders-0@0\norders-0@1\n");

    let described = stdout(&kite(&server, &["topics", "describe", "orders"], None));
    // Kafka's topic id: 22 characters of URL-safe base64, drawn at creation.
    let topic_id =
        described.split("TopicId: ").nth(1).and_then(|rest| rest.split('\t').next()).unwrap_or_default();
    assert_eq!(topic_id.len(), 22, "{described}");
    assert_eq!(
        described.replace(topic_id, "<id>"),
        "Topic: orders\tTopicId: <id>\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000\n\
         \tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tLogEndOffset: 2\n\
         \tTopic: orders\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tLogEndOffset: 0\n\
         \tTopic: orders\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0\tLogStartOffset: 0\tLogEndOffset: 2\n"
    );

    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--from-beginning",
            "--max-messages",
            "4",
            "--property",
            "print.key=true",
            "--property",
            "print.partition=true",
        ],
        None,
    );
    assert_eq!(
        stdout(&consumed),
        "Partition:0\tfoobar\tthird\nPartition:0\tfoobar\tfourth\n\
         Partition:2\ta-little-bit-long-string\tfirst\nPartition:2\ta-little-bit-long-string\tsecond\n"
    );
    assert!(String::from_utf8_lossy(&consumed.stderr).contains("Processed a total of 4 messages"));
    // From an offset of one partition, stopping when nothing more comes.
    let consumed = kite(
        &server,
        &["consume", "orders", "--partition", "2", "--offset", "1", "--timeout-ms", "300"],
        None,
    );
    assert_eq!(stdout(&consumed), "second\n");

    // Headers go with the record and come back, as kafka-console-consumer prints them.
    let produced = kite(
        &server,
        &[
            "produce",
            "orders",
            "--partition",
            "1",
            "--header",
            "trace=abc",
            "--header",
            "source=cli",
            "with-headers",
        ],
        None,
    );
    assert_eq!(stdout(&produced), "orders-1@0\n");
    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--partition",
            "1",
            "--offset",
            "0",
            "--max-messages",
            "1",
            "--property",
            "print.headers=true",
        ],
        None,
    );
    assert_eq!(stdout(&consumed), "trace:abc,source:cli\twith-headers\n");
    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--partition",
            "1",
            "--offset",
            "0",
            "--max-messages",
            "1",
            "--output",
            "json",
        ],
        None,
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&consumed).trim()).unwrap();
    assert_eq!(
        line["headers"],
        serde_json::json!([{"key": "trace", "value": "abc"}, {"key": "source", "value": "cli"}])
    );

    // By time: ListOffsets finds the first record at or after the timestamp (later than every
    // record produced so far, which carry the current time).
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let hour_ms = 3_600_000;
    for (value, at) in [("old", now_ms + hour_ms), ("new", now_ms + 3 * hour_ms)] {
        let at = at.to_string();
        let produced =
            kite(&server, &["produce", "orders", "--partition", "1", "--timestamp", &at, value], None);
        assert!(produced.status.success());
    }
    let from = (now_ms + 2 * hour_ms).to_string();
    let args = ["consume", "orders", "--partition", "1", "--from-timestamp", &from, "--timeout-ms", "300"];
    assert_eq!(stdout(&kite(&server, &args, None)), "new\n");

    // Like kafka-get-offsets: the latest offset, and the record with the largest timestamp, which
    // stays `new` when a record with an older CreateTime comes after it; none that late is empty.
    let offsets = |time: &str| {
        stdout(&kite(&server, &["get-offsets", "orders", "--partition", "1", "--time", time], None))
    };
    let end: i64 = offsets("latest").trim().rsplit(':').next().unwrap().parse().unwrap();
    let late = kite(&server, &["produce", "orders", "--partition", "1", "--timestamp", &from, "late"], None);
    assert!(late.status.success());
    assert_eq!(offsets("max-timestamp"), format!("orders:1:{}\n", end - 1));
    assert_eq!(offsets("-1"), format!("orders:1:{}\n", end + 1));
    assert_eq!(offsets(&from), format!("orders:1:{}\n", end - 1), "the first at or after, by offset");
    assert_eq!(offsets(&(now_ms + 4 * hour_ms).to_string()), "orders:1:\n");
    let refused = kite(&server, &["get-offsets", "orders", "--time", "soon"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--time soon: expected latest"));

    // Like kafka-delete-records: partition 1 starts at `end` from now on, and a consumer from the
    // beginning reads from there; past the high watermark is refused, reported per partition.
    let end_arg = end.to_string();
    let deleted =
        kite(&server, &["delete-records", "orders", "--partition", "1", "--offset", &end_arg], None);
    assert_eq!(
        stdout(&deleted),
        format!(
            "Executing records delete operation\nRecords delete operation completed:\npartition: orders-1\tlow_watermark: {end}\n"
        )
    );
    assert_eq!(offsets("earliest"), format!("orders:1:{end}\n"));
    let args = ["consume", "orders", "--partition", "1", "--from-beginning", "--timeout-ms", "300"];
    assert_eq!(stdout(&kite(&server, &args, None)), "late\n");
    let past = kite(&server, &["delete-records", "orders", "--partition", "1", "--offset", "99"], None);
    assert!(!past.status.success());
    assert!(String::from_utf8_lossy(&past.stdout).contains("partition: orders-1\terror: Error: OFFSET_OUT_OF_RANGE (1): Cannot increment the log start offset to 99"));

    // JSON output: the partition Kafka's Java client chooses for each keyed record.
    let produced =
        kite(&server, &["produce", "orders", "--key", "foobar", "--output", "json", "fifth"], None);
    let line: serde_json::Value = serde_json::from_str(stdout(&produced).trim()).unwrap();
    assert_eq!(
        (line["topic"].as_str(), line["partition"].as_i64(), line["offset"].as_i64()),
        (Some("orders"), Some(0), Some(2))
    );
    assert!(line["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--partition",
            "0",
            "--offset",
            "2",
            "--max-messages",
            "1",
            "--output",
            "json",
        ],
        None,
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&consumed).trim()).unwrap();
    assert_eq!(
        (line["partition"].as_i64(), line["offset"].as_i64(), line["key"].as_str(), line["value"].as_str()),
        (Some(0), Some(2), Some("foobar"), Some("fifth"))
    );
    assert_eq!(line["headers"], serde_json::json!([]));

    let altered = kite(
        &server,
        &[
            "topics",
            "alter-config",
            "orders",
            "--add-config",
            "retention.bytes=1000000",
            "--delete-config",
            "retention.ms",
        ],
        None,
    );
    assert_eq!(
        stdout(&altered),
        "Completed updating config for topic orders: retention.bytes=1000000
"
    );
    let refused =
        kite(&server, &["topics", "alter-config", "orders", "--add-config", "retention.ms=soon"], None);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("INVALID_CONFIG (40)"),
        "a bad value changes nothing"
    );
    assert!(
        stdout(&kite(&server, &["topics", "describe", "orders"], None))
            .contains("Configs: retention.bytes=1000000\n")
    );

    // The tool serializes as a producer does (records travel as a Kafka record batch in a binary
    // frame); a value its serializer refuses is named, and nothing is sent.
    let refused =
        kite(&server, &["produce", "orders", "--value-serializer", "IntegerSerializer", "4.5"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("INVALID_RECORD (87)"));
    let produced = kite(
        &server,
        &["produce", "orders", "--partition", "0", "--value-serializer", "IntegerSerializer", "42"],
        None,
    );
    assert_eq!(stdout(&produced), "orders-0@3\n");
    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--partition",
            "0",
            "--offset",
            "3",
            "--max-messages",
            "1",
            "--value-deserializer",
            "IntegerDeserializer",
        ],
        None,
    );
    assert_eq!(stdout(&consumed), "42\n");

    let unknown = kite(&server, &["consume", "nope", "--timeout-ms", "100"], None);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("UNKNOWN_TOPIC_OR_PARTITION"));

    // Delete: gone from the metadata and from the disk.
    assert_eq!(stdout(&kite(&server, &["topics", "delete", "orders"], None)), "Deleted topic orders.\n");
    assert_eq!(stdout(&kite(&server, &["topics", "list"], None)), "");
    let broker = data.path().join("broker-0");
    assert!(
        !broker.join("orders-0").exists() && !broker.join("orders-2").exists(),
        "its directories are removed"
    );
    let again = kite(&server, &["topics", "delete", "orders"], None);
    assert!(String::from_utf8_lossy(&again.stderr).contains("UNKNOWN_TOPIC_OR_PARTITION (3)"));
    // The name can be used again, from offset 0.
    assert_eq!(stdout(&kite(&server, &["topics", "create", "orders"], None)), "Created topic orders.\n");
    assert_eq!(stdout(&kite(&server, &["produce", "orders", "again"], None)), "orders-0@0\n");

    // Like kafka-topics --alter --partitions: the topic grows (its new partition's directory is
    // on disk and a record can go there), and never shrinks.
    let grown = kite(&server, &["topics", "alter", "orders", "--partitions", "2"], None);
    assert_eq!(stdout(&grown), "orders now has 2 partitions.\n");
    assert!(broker.join("orders-1").exists());
    let args = ["produce", "orders", "--partition", "1", "in the new partition"];
    assert_eq!(stdout(&kite(&server, &args, None)), "orders-1@0\n");
    let shrink = kite(&server, &["topics", "alter", "orders", "--partitions", "1"], None);
    assert!(
        String::from_utf8_lossy(&shrink.stderr)
            .contains("INVALID_PARTITIONS (37): Topic currently has 2 partitions")
    );
}

/// Lines sorted, for output whose order across partitions is not fixed.
fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The describe table's row for one partition, split into columns.
fn describe_row(table: &str, topic: &str, partition: i32) -> Vec<String> {
    table
        .lines()
        .map(|line| line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cols| cols.len() > 2 && cols[1] == topic && cols[2] == partition.to_string())
        .unwrap_or_else(|| panic!("no row for {topic}-{partition} in:\n{table}"))
}

#[test]
fn consumer_groups_like_kafkas_tools() {
    use kite_e2e::ApiClient;
    use kite_shared::api::{Command as Api, Reply};

    let data = TempDir::new("cli-groups");
    let mut server = KiteServer::start(data.path());
    assert!(kite(&server, &["topics", "create", "orders", "--partitions", "2"], None).status.success());
    for (partition, value) in [("0", "a"), ("0", "b"), ("1", "c"), ("1", "d")] {
        assert!(
            kite(&server, &["produce", "orders", "--partition", partition, value], None).status.success()
        );
    }

    // A group member reads everything (the group has no offsets: --from-beginning applies),
    // then closes, committing what it printed.
    let consumed = kite(
        &server,
        &["consume", "orders", "--group", "billing", "--from-beginning", "--max-messages", "4"],
        None,
    );
    assert_eq!(sorted_lines(&stdout(&consumed)), ["a", "b", "c", "d"]);
    assert_eq!(stdout(&kite(&server, &["groups", "list"], None)), "billing\n");
    let described = stdout(&kite(&server, &["groups", "describe", "billing"], None));
    assert!(described.contains("Consumer group 'billing' has no active members."), "{described}");
    assert!(described.contains("GROUP") && described.contains("CURRENT-OFFSET") && described.contains("LAG"));
    assert_eq!(describe_row(&described, "orders", 0)[3..6], ["2", "2", "0"]);
    assert_eq!(describe_row(&described, "orders", 1)[3..6], ["2", "2", "0"]);

    // New records show as lag; the next member resumes at the committed offsets.
    assert!(kite(&server, &["produce", "orders", "--partition", "1", "e"], None).status.success());
    let described = stdout(&kite(&server, &["groups", "describe", "billing"], None));
    assert_eq!(describe_row(&described, "orders", 1)[3..6], ["2", "3", "1"]);
    let consumed = kite(&server, &["consume", "orders", "--group", "billing", "--max-messages", "1"], None);
    assert_eq!(stdout(&consumed), "e\n");

    // Reset: a dry run changes nothing; --execute does.
    let args = ["groups", "reset-offsets", "billing", "--topic", "orders", "--to-earliest"];
    let dry = stdout(&kite(&server, &args, None));
    assert!(dry.contains("NEW-OFFSET") && dry.contains("Dry run"), "{dry}");
    let described = stdout(&kite(&server, &["groups", "describe", "billing"], None));
    assert_eq!(describe_row(&described, "orders", 1)[3], "3");
    let executed = stdout(&kite(&server, &[&args[..], &["--execute", "--output", "json"]].concat(), None));
    let first: serde_json::Value = serde_json::from_str(executed.lines().next().unwrap()).unwrap();
    assert_eq!((first["new_offset"].as_i64(), first["executed"].as_bool()), (Some(0), Some(true)));
    let shifted = stdout(&kite(
        &server,
        &["groups", "reset-offsets", "billing", "--topic", "orders", "--shift-by", "-1", "--execute"],
        None,
    ));
    assert!(shifted.contains("NEW-OFFSET"), "clamped at the log start: {shifted}");

    // The cluster: one broker, the controller too; its id is the data's (meta.properties).
    let cluster = |server: &KiteServer| {
        let text = stdout(&kite(server, &["cluster", "describe", "--output", "json"], None));
        serde_json::from_str::<serde_json::Value>(text.trim()).unwrap()
    };
    let before = cluster(&server);
    assert_eq!(
        (before["controller"].as_i64(), before["brokers"][0]["state"].as_str()),
        (Some(0), Some("up"))
    );
    assert_eq!(before["cluster_id"].as_str().map(str::len), Some(22), "a Kafka-style id: {before}");
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert!(
        described.contains("Controller: 0") && described.contains("UnderReplicated: 0\tOffline: 0"),
        "{described}"
    );
    // acks=0: written, no offset heard.
    assert_eq!(
        stdout(&kite(&server, &["produce", "orders", "--partition", "0", "--acks", "0", "f"], None)),
        "orders-0@-1\n"
    );

    // Committed offsets survive a restart (they are records in __consumer_offsets).
    assert!(server.terminate().success());
    let server = KiteServer::start(data.path());
    assert_eq!(cluster(&server)["cluster_id"], before["cluster_id"], "the same cluster after a restart");
    let described = stdout(&kite(&server, &["groups", "describe", "billing", "--output", "json"], None));
    let rows: Vec<serde_json::Value> = described.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["current_offset"] == 0), "{described}");
    let consumed = kite(&server, &["consume", "orders", "--group", "billing", "--max-messages", "6"], None);
    assert_eq!(sorted_lines(&stdout(&consumed)), ["a", "b", "c", "d", "e", "f"]);

    // An active group: its offsets cannot be reset, nor can it be deleted; another connection
    // cannot use its consumer; when the connection that opened it goes, the consumer leaves.
    let mut client = ApiClient::connect(&server);
    let open = Api::OpenConsumer {
        group: Some("billing".into()),
        topics: vec!["orders".into()],
        partitions: vec![],
        client_id: Some("api".into()),
        auto_offset_reset: None,
        assignors: vec![],
        enable_auto_commit: None,
        session_timeout_ms: None,
        isolation_level: Default::default(),
    };
    let Reply::ConsumerOpened { consumer } = client.request(open) else { panic!("no consumer") };
    let poll = || Api::Poll {
        consumer,
        max_records: None,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
    };
    let mut stable = false;
    for _ in 0..40 {
        if let Reply::Polled { stable: true, .. } = client.request(poll()) {
            stable = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(stable, "the member joined");
    let refused = kite(&server, &[&args[..], &["--execute"]].concat(), None);
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("can only be reset if the group 'billing' is inactive"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let refused = kite(&server, &["groups", "delete", "billing"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NON_EMPTY_GROUP (68)"));
    let mut other = ApiClient::connect(&server);
    assert!(matches!(other.request(poll()), Reply::Error(e) if e.message.contains("no open consumer")));
    let described = stdout(&kite(&server, &["groups", "describe", "billing"], None));
    assert!(described.contains("api"), "the member is listed with its client id: {described}");
    drop(client);
    let mut left = false;
    for _ in 0..40 {
        let described = stdout(&kite(&server, &["groups", "describe", "billing"], None));
        if described.contains("has no active members") {
            left = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(left, "closing the connection closed its consumer");

    assert_eq!(
        stdout(&kite(&server, &["groups", "delete", "billing"], None)),
        "Deletion of requested consumer groups ('billing') was successful.\n"
    );
    assert_eq!(stdout(&kite(&server, &["groups", "list"], None)), "");
    let again = kite(&server, &["groups", "delete", "billing"], None);
    assert!(String::from_utf8_lossy(&again.stderr).contains("GROUP_ID_NOT_FOUND (69)"));
    // Nobody writes to or deletes the internal topic.
    let refused = kite(&server, &["topics", "delete", "__consumer_offsets"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("internal topic"));
}

#[test]
fn kite_events_prints_the_engine_events_as_they_happen() {
    let data = TempDir::new("cli-events");
    let server = KiteServer::start_with(data.path(), &["--brokers", "1"]);
    let watcher = Command::new(env_path("KITE_BIN"))
        .args(["events", "--timeout-ms", "3000", "--server"])
        .arg(server.ws_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Give it a moment to subscribe, then make something happen.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(kite(&server, &["topics", "create", "orders", "--partitions", "2"], None).status.success());
    assert!(kite(&server, &["produce", "orders", "--partition", "1", "hello"], None).status.success());
    let printed = stdout(&watcher.wait_with_output().unwrap());
    assert!(printed.contains("topic orders created with 2 partitions"), "{printed}");
    assert!(printed.contains("broker-0 appended orders-1@0..=0"), "{printed}");
    assert!(printed.contains("orders-1 high watermark 1"), "{printed}");
}

/// The README's flow on `kite serve`'s default three brokers: a replicated topic described like
/// kafka-topics, acks=all through a broker stop (its leaderships move; the ISR shrinks), then
/// NOT_ENOUGH_REPLICAS with one broker left, a group's committed offsets, and after a restart of
/// the whole server every record, offset and replica is back, in each broker's own directory.
/// Racks and broker configs given at start show in `kite cluster describe`, as kafka-configs
/// and kafka-broker-api-versions would find them; a bad one stops `kite serve` before it opens
/// anything, naming what was wrong. The throttle rates change while it runs (kafka-configs
/// --entity-type brokers); a broker added with `--rack` registers on it.
#[test]
fn racks_and_broker_configs_given_at_start_are_described() {
    let data = TempDir::new("cli-racks");
    let refused = kite_serve(data.path()).args(["--racks", "zone a"]).output().unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("--racks: rack 'zone a' has a character"), "{said}");
    let server = KiteServer::start_with(
        data.path(),
        &["--racks", "zone-a,zone-a,zone-b", "--override", "leader.imbalance.check.interval.seconds=60"],
    );
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert!(described.contains("\tRack: zone-b"), "{described}");
    assert!(
        described.contains(
            "BrokerConfig: leader.imbalance.check.interval.seconds=60\tSource: STATIC_BROKER_CONFIG"
        ),
        "{described}"
    );
    assert!(
        described.contains("BrokerConfig: auto.leader.rebalance.enable=true\tSource: DEFAULT_CONFIG"),
        "{described}"
    );
    // kafka-configs --entity-type brokers --alter: a dynamic rate on broker 1 and as the default;
    // a static config refused by name.
    let alter = [
        "cluster",
        "alter-config",
        "--broker",
        "1",
        "--add-config",
        "leader.replication.throttled.rate=5000",
    ];
    assert_eq!(stdout(&kite(&server, &alter, None)), "Completed updating config for broker 1.\n");
    let default = [
        "cluster",
        "alter-config",
        "--entity-default",
        "--add-config",
        "follower.replication.throttled.rate=7000",
    ];
    let said = stdout(&kite(&server, &default, None));
    assert_eq!(said, "Completed updating default config for brokers in the cluster.\n");
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert!(
        described.contains(
            "BrokerConfig: leader.replication.throttled.rate=5000\tSource: DYNAMIC_BROKER_CONFIG\tBroker: 1"
        ) && described.contains(
            "BrokerConfig: follower.replication.throttled.rate=7000\tSource: DYNAMIC_DEFAULT_BROKER_CONFIG"
        ),
        "{described}"
    );
    let fixed =
        ["cluster", "alter-config", "--broker", "1", "--add-config", "auto.leader.rebalance.enable=false"];
    let refused = kite(&server, &fixed, None);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("Cannot update these configs dynamically"),
        "{stderr}"
    );
    // A broker added on a rack (kite cluster add-broker --rack) registers with it.
    let added = stdout(&kite(&server, &["cluster", "add-broker", "--rack", "zone-b"], None));
    assert!(added.starts_with("Broker 3 added"), "{added}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(REASSIGN_DEADLINE_SECS);
    let mut described = stdout(&kite(&server, &["cluster", "describe"], None));
    while described.matches("\tRack: zone-b").count() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        described = stdout(&kite(&server, &["cluster", "describe"], None));
    }
    assert_eq!(described.matches("\tRack: zone-b").count(), 2, "{described}");
}

#[test]
fn a_replicated_cluster_like_kafkas_tools() {
    let data = TempDir::new("cli-replicated");
    let mut server = KiteServer::start_with(data.path(), &["--allow-faults"]);
    let create = [
        "topics",
        "create",
        "orders",
        "--partitions",
        "3",
        "--replication-factor",
        "3",
        "--config",
        "min.insync.replicas=2",
    ];
    assert_eq!(stdout(&kite(&server, &create, None)), "Created topic orders.\n");
    let described = stdout(&kite(&server, &["topics", "describe", "orders"], None));
    assert!(described.contains("\tPartitionCount: 3\tReplicationFactor: 3\t"), "{described}");
    for partition in 0..3 {
        let row = partition_row(&described, partition);
        let (leader, replicas, isr) = (&row[5], &row[7], &row[9]);
        let mut sorted: Vec<&str> = replicas.split(',').collect();
        sorted.sort_unstable();
        assert_eq!(sorted, ["0", "1", "2"], "every broker holds a replica: {described}");
        assert_eq!(replicas.split(',').next(), Some(leader.as_str()), "the first replica leads: {described}");
        assert_eq!(isr.split(',').count(), 3, "{described}");
    }
    // kafka-reference.md §3: keys land where the Java client puts them, on any broker count.
    let produced = kite(
        &server,
        &[
            "produce",
            "orders",
            "--acks",
            "all",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        Some("a-little-bit-long-string:1\nfoobar:2\n"),
    );
    assert_eq!(stdout(&produced), "orders-2@0\norders-0@0\n");

    // Stop the leader of orders-2: another in-sync replica takes over and acks=all goes on.
    let leader = partition_row(&described, 2)[5].clone();
    let stopped = stdout(&kite(&server, &["cluster", "stop-broker", &leader], None));
    assert!(stopped.contains(&format!("Broker: {leader}\tState: stopped")), "{stopped}");
    assert!(stopped.contains("Under-replicated: orders-2"), "{stopped}");
    let described = stdout(&kite(&server, &["topics", "describe", "orders"], None));
    let row = partition_row(&described, 2);
    assert_ne!(row[5], leader, "a new leader: {described}");
    assert_eq!(row[9].split(',').count(), 2, "the stopped broker left the ISR: {described}");
    let produced = kite(
        &server,
        &["produce", "orders", "--acks", "all", "--key", "a-little-bit-long-string", "3"],
        None,
    );
    assert_eq!(stdout(&produced), "orders-2@1\n");

    // A second broker down: one in-sync replica is fewer than min.insync.replicas=2.
    let second = ["0", "1", "2"].into_iter().find(|b| *b != leader).unwrap();
    assert!(kite(&server, &["cluster", "stop-broker", second], None).status.success());
    let refused = kite(&server, &["produce", "orders", "--acks", "all", "--key", "foobar", "4"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NOT_ENOUGH_REPLICAS (19)"), "{refused:?}");
    for broker in [leader.as_str(), second] {
        assert!(kite(&server, &["cluster", "start-broker", broker], None).status.success());
    }
    let healthy = stdout(&kite(&server, &["cluster", "describe"], None));
    assert!(healthy.contains("UnderReplicated: 0\tOffline: 0"), "{healthy}");
    // The KRaft quorum: the active controller stopped, another is elected within seconds while
    // the brokers go on serving; started again, the old one follows.
    let quorum = stdout(&kite(&server, &["cluster", "describe"], None));
    let active = quorum
        .lines()
        .find_map(|l| l.strip_prefix("\tController: ").filter(|rest| rest.contains("State: active")))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no active controller: {quorum}"))
        .to_string();
    let stopped = stdout(&kite(&server, &["cluster", "stop-controller", &active], None));
    assert!(stopped.contains(&format!("Controller: {active}\tState: stopped")), "{stopped}");
    let produced = kite(&server, &["produce", "orders", "--acks", "all", "--key", "foobar", "5"], None);
    assert!(produced.status.success(), "the brokers serve without a controller: {produced:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let quorum = stdout(&kite(&server, &["cluster", "describe"], None));
        if quorum.contains("State: active") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no new active controller: {quorum}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(kite(&server, &["cluster", "start-controller", &active], None).status.success());
    // The brokers are the quorum's observers: each fetches the committed metadata log from the
    // new active controller and catches up to its high watermark.
    let field = |line: &str, name: &str| -> Option<i64> {
        line.split(&format!("{name}: ")).nth(1)?.split('\t').next()?.parse().ok()
    };
    loop {
        let quorum = stdout(&kite(&server, &["cluster", "describe"], None));
        let high_watermark = quorum
            .lines()
            .find(|l| l.starts_with("\tController: ") && l.contains("State: active"))
            .and_then(|l| field(l, "HighWatermark"));
        let brokers: Vec<Option<i64>> = quorum
            .lines()
            .filter(|l| l.starts_with("\tBroker: "))
            .map(|l| field(l, "MetadataOffset"))
            .collect();
        if high_watermark
            .is_some_and(|hw| hw > 0 && !brokers.is_empty() && brokers.iter().all(|&o| o == Some(hw)))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the brokers did not catch up: {quorum}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let refused = kite(&server, &["cluster", "stop-controller", "7"], None);
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("There is no controller 7: controllers are 0 to 2."),
        "{refused:?}"
    );
    // A controller paused and resumed, another cut off and healed: named so meanwhile.
    let paused = stdout(&kite(&server, &["cluster", "pause-controller", &active], None));
    assert!(paused.contains(&format!("Controller: {active}\tState: paused\t")), "{paused}");
    assert!(kite(&server, &["cluster", "resume-controller", &active], None).status.success());
    let isolated = stdout(&kite(&server, &["cluster", "isolate-controller", &active], None));
    let line =
        isolated.lines().find(|l| l.starts_with(&format!("\tController: {active}\t"))).unwrap_or_default();
    assert!(line.ends_with("\tIsolated: true"), "{isolated}");
    let healed = stdout(&kite(&server, &["cluster", "heal-controller", &active], None));
    assert!(!healed.contains("Isolated: true"), "{healed}");
    let refused = kite(&server, &["cluster", "resume-controller", &active], None);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!("Controller {active} is not paused.")),
        "{refused:?}"
    );

    // A paused broker and an isolated one are named so, and come back.
    let paused = stdout(&kite(&server, &["cluster", "pause-broker", "0"], None));
    assert!(paused.contains("Broker: 0\tState: paused"), "{paused}");
    let refused = kite(&server, &["cluster", "stop-broker", "0"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Broker 0 is paused; resume it first."));
    assert!(stdout(&kite(&server, &["cluster", "resume-broker", "0"], None)).contains("Broker: 0\tState: "));
    let isolated = stdout(&kite(&server, &["cluster", "isolate-broker", "1"], None));
    assert!(isolated.contains("Broker: 1\tState: isolated"), "{isolated}");
    let healed = stdout(&kite(&server, &["cluster", "heal-broker", "1"], None));
    assert!(!healed.contains("isolated"), "{healed}");
    let unknown = kite(&server, &["cluster", "pause-broker", "9"], None);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("There is no broker 9: brokers are 0 to 2."));
    // One link cut (a partial partition) is listed, and healed; a node that is not one is named.
    let cut = stdout(&kite(&server, &["cluster", "cut-link", "broker-2", "controller"], None));
    assert!(cut.contains("CutLink: controller <-> broker-2"), "{cut}");
    let healed = stdout(&kite(&server, &["cluster", "heal-link", "controller", "broker-2"], None));
    assert!(!healed.contains("CutLink"), "{healed}");
    let unknown = kite(&server, &["cluster", "cut-link", "broker-2", "zookeeper"], None);
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("`zookeeper` is not a network node"),
        "{unknown:?}"
    );
    // A group reads everything and commits.
    let consumed = kite(
        &server,
        &[
            "consume",
            "orders",
            "--group",
            "billing",
            "--from-beginning",
            "--max-messages",
            "4",
            "--timeout-ms",
            "10000",
        ],
        None,
    );
    assert_eq!(sorted_lines(&stdout(&consumed)), ["1", "2", "3", "5"]);

    // A restart of the whole server: the replicas, the records and the group's offsets are back.
    assert!(server.terminate().success());
    for broker in 0..3 {
        let dir = data.path().join(format!("broker-{broker}"));
        assert!(dir.join(".kafka_cleanshutdown").is_file(), "{} stopped cleanly", dir.display());
        for partition in 0..3 {
            let log = dir.join(format!("orders-{partition}"));
            check_partition_dir(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        }
    }
    // Each KRaft controller keeps its metadata log and quorum state, in Kafka's layout.
    for controller in 0..3 {
        let dir = data.path().join(format!("controller-{controller}/__cluster_metadata-0"));
        for name in ["00000000000000000000.log", "00000000000000000000.index", "quorum-state"] {
            assert!(dir.join(name).is_file(), "{}/{name}", dir.display());
        }
    }
    let server = KiteServer::start_with(data.path(), &["--allow-faults"]);
    let described = stdout(&kite(&server, &["topics", "describe", "orders"], None));
    assert_eq!(partition_row(&described, 2)[13], "2", "LogEndOffset of orders-2: {described}");
    let group = stdout(&kite(&server, &["groups", "describe", "billing"], None));
    let row =
        group.lines().find(|l| l.contains("orders") && l.split_whitespace().nth(2) == Some("2")).unwrap();
    assert_eq!(row.split_whitespace().nth(3), Some("2"), "committed offset of orders-2: {group}");
    // The data directory keeps its brokers: another count given is refused, naming the way out.
    drop(server);
    let mismatch = kite_serve(data.path()).arg("--brokers").arg("1").output().unwrap();
    let said = String::from_utf8_lossy(&mismatch.stderr);
    assert!(said.contains("start it without --brokers to open it as it is (or with --brokers 3)"), "{said}");
}

/// `kite serve --controllers 5`: five controllers each keep the metadata log, two may stop and
/// the quorum still acts; with three stopped it has no majority and admin changes are refused
/// with NOT_CONTROLLER while the brokers serve; one back is a majority again. The data directory
/// keeps its quorum: another count given is refused, naming the way out.
#[test]
fn a_quorum_of_five_controllers() {
    let data = TempDir::new("cli-five-controllers");
    let server = KiteServer::start_with(data.path(), &["--allow-faults", "--controllers", "5"]);
    let controllers = |described: &str| -> Vec<(String, String)> {
        described
            .lines()
            .filter_map(|l| l.strip_prefix("\tController: "))
            .map(|l| {
                let mut fields = l.split('\t');
                let id = fields.next().unwrap_or_default().to_string();
                (id, fields.next().unwrap_or_default().trim_start_matches("State: ").to_string())
            })
            .collect()
    };
    let active = |described: &str| controllers(described).into_iter().find(|(_, state)| state == "active");
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(controllers(&described).len(), 5, "{described}");
    // Stop the active controller three times over: twice a new one is elected, the third time
    // two of five are left and none can be.
    let mut stopped = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stopped.len() < 3 {
        let described = stdout(&kite(&server, &["cluster", "describe"], None));
        let Some((id, _)) = active(&described) else {
            assert!(std::time::Instant::now() < deadline, "no active controller: {described}");
            std::thread::sleep(std::time::Duration::from_millis(250));
            continue;
        };
        assert!(kite(&server, &["cluster", "stop-controller", &id], None).status.success());
        stopped.push(id);
    }
    let refused = kite(&server, &["topics", "create", "orders", "--partitions", "1"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NOT_CONTROLLER (41)"), "{refused:?}");
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(active(&described), None, "two of five controllers are no majority: {described}");
    assert!(kite(&server, &["cluster", "start-controller", &stopped[0]], None).status.success());
    loop {
        let created = kite(&server, &["topics", "create", "orders", "--partitions", "1"], None);
        if created.status.success() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "three of five elect no controller: {created:?}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    // The active controller's metadata log, as kafka-dump-log prints one with its metadata
    // decoder: the topic's record committed in the first epoch, the new leaders' LeaderChanges.
    let log = stdout(&kite(&server, &["cluster", "metadata-log", "--max-entries", "1000"], None));
    assert!(log.starts_with("Controller: "), "{log}");
    assert!(
        log.lines()
            .any(|l| l
                .contains("committed: true\tTopicRecord\tpayload: {\"type\":\"topic\",\"name\":\"orders\"")),
        "{log}"
    );
    assert!(log.lines().filter(|l| l.ends_with("LeaderChangeMessage")).count() >= 3, "{log}");
    drop(server);
    for controller in 0..5 {
        let state = data.path().join(format!("controller-{controller}/__cluster_metadata-0/quorum-state"));
        assert!(state.is_file(), "{}", state.display());
    }
    let mismatch = kite_serve(data.path()).arg("--controllers").arg("3").output().unwrap();
    let said = String::from_utf8_lossy(&mismatch.stderr);
    assert!(
        said.contains("holds a quorum of 5 controllers; start it without --controllers to open it as it is (or with --controllers 5)"),
        "{said}"
    );
    let even = kite_serve(data.path()).arg("--controllers").arg("4").output().unwrap();
    let said = String::from_utf8_lossy(&even.stderr);
    assert!(said.contains("4 controllers: a quorum has an odd number of voters, 1 to 7"), "{said}");
    let server = KiteServer::start(data.path());
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(controllers(&described).len(), 5, "reopened as it was: {described}");
    let topics = stdout(&kite(&server, &["topics", "list"], None));
    assert!(topics.contains("orders"), "{topics}");
}

/// kafka-reassign-partitions' three steps, and a cancel: `--generate` proposes a plan spreading
/// a topic over the brokers listed, `--execute` starts it (printing the assignment to roll back
/// to) under a `--throttle` on every broker it touches, `--verify` reports each move done once
/// the new replicas caught up and then clears the throttle, `kite topics describe` shows the
/// plan's replicas; cancelling a finished move names the error.
#[test]
fn partitions_move_like_kafka_reassign_partitions() {
    let data = TempDir::new("cli-reassign");
    let server = KiteServer::start(data.path());
    let create = ["topics", "create", "moving", "--partitions", "2", "--replication-factor", "2"];
    assert_eq!(stdout(&kite(&server, &create, None)), "Created topic moving.\n");
    kite(&server, &["produce", "moving", "a", "b", "c"], None);
    let topics = data.path().join("topics-to-move.json");
    std::fs::write(&topics, r#"{"version":1,"topics":[{"topic":"moving"}]}"#).unwrap();
    let generate = [
        "partitions",
        "reassign",
        "--generate",
        "--broker-list",
        "1,2",
        "--topics-to-move-json-file",
        topics.to_str().unwrap(),
    ];
    let generated = stdout(&kite(&server, &generate, None));
    let lines: Vec<&str> = generated.lines().collect();
    assert_eq!(
        (lines[0], lines[3]),
        ("Current partition replica assignment", "Proposed partition reassignment configuration"),
        "{generated}"
    );
    let proposal = lines[4];
    let expected = r#"{"version":1,"partitions":[{"topic":"moving","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},{"topic":"moving","partition":1,"replicas":[2,1],"log_dirs":["any","any"]}]}"#;
    assert_eq!(proposal, expected, "{generated}");

    let plan = data.path().join("plan.json");
    std::fs::write(&plan, proposal).unwrap();
    let file = plan.to_str().unwrap();
    let execute =
        ["partitions", "reassign", "--execute", "--throttle", "50000000", "--reassignment-json-file", file];
    let executed = stdout(&kite(&server, &execute, None));
    let lines: Vec<&str> = executed.lines().collect();
    assert_eq!(lines[0], "Current partition replica assignment", "{executed}");
    assert!(
        lines[2].starts_with(r#"{"version":1,"partitions":[{"topic":"moving","partition":0,"replicas":["#),
        "{executed}"
    );
    assert_eq!(
        lines[4..],
        [
            "Save this to use as the --reassignment-json-file option during rollback",
            "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.",
            "The inter-broker throttle limit was set to 50000000 B/s",
            "Successfully started partition reassignments for moving-0,moving-1"
        ],
        "{executed}"
    );
    // The throttle: both rates on every broker the moves touch, and the topic's replica lists
    // (each partition's current replicas as leaders, the ones it gains as followers).
    let throttled = |described: &str| {
        described
            .lines()
            .filter(|l| l.contains("replication.throttled.rate=50000000\tSource: DYNAMIC_BROKER_CONFIG"))
            .count()
    };
    let rollback: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    let mut touched: std::collections::BTreeSet<u64> = [1, 2].into();
    for p in rollback["partitions"].as_array().unwrap() {
        touched.extend(p["replicas"].as_array().unwrap().iter().filter_map(|b| b.as_u64()));
    }
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(throttled(&described), 2 * touched.len(), "{described}");

    let verify = ["partitions", "reassign", "--verify", "--reassignment-json-file", file];
    let done = "Status of partition reassignment:\nReassignment of partition moving-0 is completed.\nReassignment of partition moving-1 is completed.\nClearing broker-level throttles on brokers 0,1,2\nClearing topic-level throttles on topic moving\n";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(REASSIGN_DEADLINE_SECS);
    let mut verified = stdout(&kite(&server, &verify, None));
    while verified != done && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        verified = stdout(&kite(&server, &verify, None));
    }
    assert_eq!(verified, done);
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(throttled(&described), 0, "--verify cleared the throttle: {described}");
    let described = stdout(&kite(&server, &["topics", "describe", "moving"], None));
    assert_eq!(
        (partition_row(&described, 0)[7].as_str(), partition_row(&described, 1)[7].as_str()),
        ("1,2", "2,1"),
        "{described}"
    );
    // The three records (no key: the sticky partitioner picked one partition) moved along.
    let records: u32 =
        (0..2).map(|p| partition_row(&described, p)[13].parse::<u32>().unwrap_or_default()).sum();
    assert_eq!(records, 3, "every record moved along: {described}");

    // kafka-leader-election: each partition's first replica leads afterwards.
    let elect = ["cluster", "elect-leaders", "--election-type", "preferred", "--topic", "moving"];
    let elected = stdout(&kite(&server, &elect, None));
    assert!(
        elected
            .lines()
            .all(|l| l.starts_with("Successfully completed leader election (PREFERRED) for partitions ")
                || l.starts_with("Valid replica already elected for partitions ")),
        "{elected}"
    );
    assert_eq!(elected.matches("moving-").count(), 2, "{elected}");
    let described = stdout(&kite(&server, &["topics", "describe", "moving"], None));
    for p in 0..2 {
        let row = partition_row(&described, p);
        assert_eq!(
            row[7].split(',').next(),
            Some(row[5].as_str()),
            "the preferred replica leads: {described}"
        );
    }
    let again = stdout(&kite(&server, &elect, None));
    assert_eq!(again, "Valid replica already elected for partitions moving-0, moving-1\n");

    let cancelled =
        kite(&server, &["partitions", "reassign", "--cancel", "--reassignment-json-file", file], None);
    let stderr = String::from_utf8_lossy(&cancelled.stderr);
    assert!(
        !cancelled.status.success() && stderr.contains("moving-0: NO_REASSIGNMENT_IN_PROGRESS (85)"),
        "{stderr}"
    );
}

/// A liveness bound: how long two replicas of a few records take to catch up (or a new broker
/// takes to register) on a loaded machine.
const REASSIGN_DEADLINE_SECS: u64 = 30;

/// kafka-topics --describe's row for one partition, split into columns (the values sit at odd
/// indexes: 3 partition, 5 leader, 7 replicas, 9 ISR, 13 log end offset).
fn partition_row(table: &str, partition: i32) -> Vec<String> {
    table
        .lines()
        .map(|line| line.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cols| cols.len() > 3 && cols[2] == "Partition:" && cols[3] == partition.to_string())
        .unwrap_or_else(|| panic!("no row for partition {partition} in:\n{table}"))
}

/// `kite snapshot create` on a stopped server's data directory, `kite snapshot restore` into a new
/// one, and a server there serves the same records; a restore over stored data is refused.
#[test]
fn a_snapshot_of_a_data_directory_restores_into_another() {
    let (from, to) = (TempDir::new("snapshot-from"), TempDir::new("snapshot-to"));
    let mut server = KiteServer::start(from.path());
    stdout(&kite(
        &server,
        &["topics", "create", "orders", "--partitions", "3", "--replication-factor", "3"],
        None,
    ));
    let produce = ["produce", "orders", "--property", "parse.key=true", "--property", "key.separator=:"];
    stdout(&kite(&server, &produce, Some("alice:10\nbob:20\ncarol:30\n")));
    assert!(server.terminate().success());

    let file = to.path().with_extension("snapshot.json");
    let run = |args: &[&str]| Command::new(env_path("KITE_BIN")).args(args).output().unwrap();
    let created = run(&[
        "snapshot",
        "create",
        "--data-dir",
        &from.path().to_string_lossy(),
        "--out",
        &file.to_string_lossy(),
    ]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let restored =
        run(&["snapshot", "restore", &file.to_string_lossy(), "--data-dir", &to.path().to_string_lossy()]);
    assert!(String::from_utf8_lossy(&restored.stdout).starts_with("restored "), "{restored:?}");
    let again =
        run(&["snapshot", "restore", &file.to_string_lossy(), "--data-dir", &to.path().to_string_lossy()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{again:?}");

    let restored_server = KiteServer::start(to.path());
    let consumed = stdout(&kite(
        &restored_server,
        &["consume", "orders", "--from-beginning", "--property", "print.key=true", "--timeout-ms", "2000"],
        None,
    ));
    let mut lines: Vec<&str> = consumed.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, vec!["alice\t10", "bob\t20", "carol\t30"], "{consumed}");
    let _ = std::fs::remove_file(&file);
}

/// `kite produce --producer-property enable.idempotence=true` is an idempotent producer, as
/// kafka-console-producer's: its batches carry a producer id and sequences 0, 1, … (kafka-dump-log's
/// view); without acks=all it is refused with the Java producer's words; an unknown setting is
/// named.
#[test]
fn an_idempotent_console_producer() {
    use kite_e2e::ApiClient;
    use kite_shared::api::{Command as Api, Reply};

    let data = TempDir::new("cli-idempotent");
    let server = KiteServer::start_with(data.path(), &["--brokers", "1"]);
    stdout(&kite(&server, &["topics", "create", "events", "--partitions", "1"], None));
    let idempotent = ["produce", "events", "--producer-property", "enable.idempotence=true"];
    assert_eq!(stdout(&kite(&server, &idempotent, Some("a\nb\n"))), "events-0@0\nevents-0@1\n");
    let mut api = ApiClient::connect(&server);
    let dumped = |api: &mut ApiClient, offset| match api.request(Api::DumpRecord {
        topic: "events".into(),
        partition: 0,
        offset,
    }) {
        Reply::RecordDumped { batch, .. } => (batch.producer_id >= 0, batch.base_sequence),
        other => panic!("{other:?}"),
    };
    assert_eq!((dumped(&mut api, 0), dumped(&mut api, 1)), ((true, 0), (true, 1)));
    let acks_1 = kite(&server, &[&idempotent[..], &["--acks", "1", "c"]].concat(), None);
    let said = String::from_utf8_lossy(&acks_1.stderr);
    assert!(said.contains("Must set acks to all in order to use the idempotent producer."), "{said}");
    let unknown = kite(&server, &["produce", "events", "--producer-property", "linger.ms=5", "d"], None);
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(said.contains("--producer-property linger.ms is not taken here"), "{said}");
}

/// `kite produce --transactional-id` writes its records in one transaction, committed at the end
/// of its input or aborted with `--abort`; `kite consume --isolation-level read_committed` reads
/// the committed one only, read_uncommitted both; `kite transactions` lists and describes the
/// transactional id as kafka-transactions.sh does.
#[test]
fn transactions_like_kafkas_tools() {
    let data = TempDir::new("cli-transactions");
    let server = KiteServer::start_with(data.path(), &["--brokers", "1"]);
    stdout(&kite(&server, &["topics", "create", "payments", "--partitions", "1"], None));
    let committed =
        kite(&server, &["produce", "payments", "--transactional-id", "pay-app"], Some("p1\np2\n"));
    assert_eq!(stdout(&committed), "payments-0@0\npayments-0@1\n");
    assert_eq!(String::from_utf8_lossy(&committed.stderr), "Committed transaction 'pay-app': 2 records\n");
    let aborted =
        kite(&server, &["produce", "payments", "--transactional-id", "pay-app", "--abort", "lost"], None);
    assert_eq!(stdout(&aborted), "payments-0@3\n", "after the first transaction's COMMIT marker at 2");
    assert_eq!(String::from_utf8_lossy(&aborted.stderr), "Aborted transaction 'pay-app': 1 records\n");
    let read = |isolation: &str| {
        let args = [
            "consume",
            "payments",
            "--from-beginning",
            "--timeout-ms",
            "500",
            "--isolation-level",
            isolation,
        ];
        stdout(&kite(&server, &args, None))
    };
    assert_eq!(read("read_committed"), "p1\np2\n");
    assert_eq!(read("read_uncommitted"), "p1\np2\nlost\n");
    let listed = stdout(&kite(&server, &["transactions", "list"], None));
    let row: Vec<&str> = listed.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!((row[0], row[1], row[3]), ("pay-app", "0", "CompleteAbort"), "{listed}");
    let described =
        stdout(&kite(&server, &["transactions", "describe", "--transactional-id", "pay-app"], None));
    let fields: Vec<&str> = described.lines().nth(1).unwrap_or_default().split('\t').collect();
    // A second instance bumped the epoch: 0 then 1.
    assert_eq!(
        (fields[3], fields[4], fields[5], fields[6]),
        ("1", "CompleteAbort", "60000", "None"),
        "{described}"
    );
    let unknown = kite(&server, &["transactions", "describe", "--transactional-id", "nobody"], None);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("TRANSACTIONAL_ID_NOT_FOUND (105)"));
}

/// The broker ids in `kite cluster describe`'s lines.
fn broker_ids(described: &str) -> Vec<i32> {
    described
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Broker: "))
        .filter_map(|rest| rest.split('\t').next()?.parse().ok())
        .collect()
}

#[test]
fn brokers_join_and_leave_a_running_cluster() {
    let data = TempDir::new("cli-membership");
    let mut server = KiteServer::start(data.path());
    let create = ["topics", "create", "growing", "--partitions", "2", "--replication-factor", "3"];
    assert_eq!(stdout(&kite(&server, &create, None)), "Created topic growing.\n");
    kite(&server, &["produce", "growing", "a", "b", "c"], None);

    // Three brokers hold three replicas of each partition: broker 0 has nowhere to go.
    let refused = kite(&server, &["cluster", "remove-broker", "0"], None);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("INVALID_REPLICA_ASSIGNMENT (39)"), "{stderr}");

    let added = stdout(&kite(&server, &["cluster", "add-broker"], None));
    assert_eq!(
        added,
        "Broker 3 added: it holds nothing until partitions move to it (kite partitions reassign).\n"
    );
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(broker_ids(&described), [0, 1, 2, 3], "{described}");

    let removing = stdout(&kite(&server, &["cluster", "remove-broker", "0"], None));
    assert_eq!(
        removing,
        "Broker 0 is leaving: 2 partition(s) move their replica off it; it leaves the cluster once they complete.\n"
    );
    // The moves complete on the server's own clock: broker 3 catches up, then broker 0 leaves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut described = stdout(&kite(&server, &["cluster", "describe"], None));
    while broker_ids(&described) != [1, 2, 3] && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        described = stdout(&kite(&server, &["cluster", "describe"], None));
    }
    assert_eq!(broker_ids(&described), [1, 2, 3], "{described}");
    let consume = ["consume", "growing", "--from-beginning", "--max-messages", "3", "--timeout-ms", "5000"];
    let mut values: Vec<String> = stdout(&kite(&server, &consume, None)).lines().map(String::from).collect();
    values.sort();
    assert_eq!(values, ["a", "b", "c"]);

    // Restarted without --brokers, the data directory keeps the brokers it has now.
    assert!(server.terminate().success());
    let server = KiteServer::start(data.path());
    assert_eq!(server.kafka.len(), 4, "a listener per broker id, the removed one's included");
    let described = stdout(&kite(&server, &["cluster", "describe"], None));
    assert_eq!(broker_ids(&described), [1, 2, 3], "{described}");
    let added = stdout(&kite(&server, &["cluster", "add-broker", "--output", "json"], None));
    assert_eq!(added, "{\"broker\":4}\n");
}
