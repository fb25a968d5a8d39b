//! Real Kafka clients against a real `kite serve`: kcat (librdkafka) lists the cluster, produces
//! with every codec and consumes, through the brokers' Kafka listeners; what it writes, Kite's own
//! API reads, and the other way round; its balanced consumer runs a consumer group that Kite's
//! own tools see; confluent-kafka and kafka-python (Python, `tests/clients/`) produce and consume
//! in a group; bytes no Kafka client sends close their connection and leave the server up.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use kite_e2e::{
    ApiClient, ChromeDriver, KiteServer, TempDir, click, env_path, screenshot, text_of, wait_for,
    with_browser,
};
use kite_shared::api::{Command as Api, Reply};
use kite_shared::log::txn_index;

/// How long one kcat run may take.
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

/// kcat against the server, with `input` on its stdin; its stdout, or the test fails with its stderr.
fn kcat(server: &KiteServer, args: &[&str], input: &str) -> String {
    kcat_at(&server.bootstrap(), args, input)
}

/// kcat at `bootstrap` (`host:port`), `input` on its stdin: what it printed.
fn kcat_at(bootstrap: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(env_path("KCAT"))
        .arg("-b")
        .arg(bootstrap)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat runs (KCAT)");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = finish(child, &format!("kcat {args:?}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kcat {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Waits for a client to exit: a client that gets no answer retries forever, so past
/// `KCAT_TIMEOUT` it is killed and the test fails with what it printed.
fn finish(mut child: std::process::Child, what: &str) -> std::process::Output {
    let deadline = std::time::Instant::now() + KCAT_TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("{what} took over {KCAT_TIMEOUT:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Everything in `topic`'s partition 0, as `key=value@offset` lines.
fn consume(server: &KiteServer, topic: &str) -> Vec<String> {
    let out =
        kcat(server, &["-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k=%s@%o\\n"], "");
    out.lines().map(str::to_string).collect()
}

#[test]
fn kcat_lists_the_brokers_produces_with_every_codec_and_consumes() {
    let data = TempDir::new("kcat");
    let server = KiteServer::start(data.path());
    assert_eq!(server.kafka.len(), 3, "one listener per broker");

    // Produced to a topic that does not exist: Metadata creates it (auto.create.topics.enable).
    // The values compress well: librdkafka sends a batch uncompressed when compressing would
    // not make it smaller.
    let pad = ".".repeat(300);
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let input = format!("k-{codec}:v-{codec}{pad}\n");
        kcat(&server, &["-P", "-t", "orders", "-K:", "-z", codec], &input);
    }
    let listed = kcat(&server, &["-L", "-t", "orders"], "");
    assert!(listed.contains("3 brokers:"), "{listed}");
    for (id, addr) in server.kafka.iter().enumerate() {
        assert!(listed.contains(&format!("broker {id} at {addr}")), "{listed}");
    }
    assert!(listed.contains("topic \"orders\" with 1 partitions"), "{listed}");

    let consumed = consume(&server, "orders");
    let expected: Vec<String> = ["none", "gzip", "snappy", "lz4", "zstd"]
        .iter()
        .enumerate()
        .map(|(offset, codec)| format!("k-{codec}=v-{codec}{pad}@{offset}"))
        .collect();
    assert_eq!(consumed, expected);

    // What kcat wrote, Kite's own API reads; what the API writes, kcat reads.
    let mut client = ApiClient::connect(&server);
    let fetch = Api::Fetch {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_records: 10,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
        isolation_level: Default::default(),
    };
    let Reply::Records { records, .. } = client.request(fetch) else { panic!("no records") };
    let values: Vec<_> = records.iter().filter_map(|r| r.value.clone()).collect();
    let expected: Vec<String> =
        ["none", "gzip", "snappy", "lz4", "zstd"].iter().map(|codec| format!("v-{codec}{pad}")).collect();
    assert_eq!(values, expected);
    // Stored as kcat sent it (compression.type=producer, Kafka's default): the zstd batch keeps
    // its codec, as kafka-dump-log would show on a Kafka broker. (librdkafka 2.0 sends gzip,
    // snappy and lz4 uncompressed to Kite, as to Kafka 4: it looks for Produce and Fetch v2,
    // which both no longer serve; shared/tests/kafka.rs checks an lz4 batch kept byte for byte.)
    let dump = Api::DumpRecord { topic: "orders".into(), partition: 0, offset: 4 };
    let Reply::RecordDumped { batch, .. } = client.request(dump) else { panic!("no dump") };
    assert_eq!(batch.compresscodec, "zstd", "the zstd batch as kcat sent it");
    let produce = Api::produce_text("orders", Some(0), Some("from-kite".into()), "hello kcat");
    assert!(matches!(client.request(produce), Reply::Produced { offset: 5, .. }));
    assert_eq!(consume(&server, "orders").last().map(String::as_str), Some("from-kite=hello kcat@5"));
}

#[test]
fn produce_and_fetch_go_to_each_partitions_leader() {
    let data = TempDir::new("kcat-leaders");
    let server = KiteServer::start(data.path());
    let mut client = ApiClient::connect(&server);
    let create = Api::CreateTopic {
        name: "spread".into(),
        partitions: 3,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    let Reply::TopicCreated { topic, .. } = client.request(create) else { panic!("not created") };
    let leaders: Vec<Option<i32>> = topic.partitions.iter().map(|p| p.leader).collect();
    assert!(leaders.iter().all(Option::is_some), "{leaders:?}");
    // Each partition's record reaches its leader's listener (librdkafka routes by Metadata).
    for partition in 0..3 {
        kcat(&server, &["-P", "-t", "spread", "-p", &partition.to_string()], &format!("to {partition}\n"));
    }
    for partition in 0..3 {
        let p = partition.to_string();
        let out = kcat(
            &server,
            &["-C", "-t", "spread", "-p", &p, "-o", "beginning", "-e", "-q", "-f", "%s\\n"],
            "",
        );
        assert_eq!(out, format!("to {partition}\n"));
    }
}

/// kcat's balanced consumer (`-G`, librdkafka's classic group protocol): it finds the
/// coordinator, joins, syncs the assignment it computed, reads every partition, commits and
/// leaves; Kite's own DescribeGroup (what the UI and `kite groups` show) sees the committed
/// offsets; the next run resumes from them.
#[test]
fn a_kcat_consumer_group_reads_every_partition_commits_and_resumes() {
    let data = TempDir::new("kcat-group");
    let server = KiteServer::start(data.path());
    let mut client = ApiClient::connect(&server);
    client.create_topic("payments", 3);
    for partition in 0..3 {
        let lines: String = (0..3).map(|i| format!("p{partition}-{i}\n")).collect();
        kcat(&server, &["-P", "-t", "payments", "-p", &partition.to_string()], &lines);
    }
    let group = ["-G", "billing", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n", "payments"];
    let mut read: Vec<String> = kcat(&server, &group, "").lines().map(str::to_string).collect();
    read.sort();
    let expected: Vec<String> = (0..3).flat_map(|p| (0..3).map(move |i| format!("p{p}-{i}"))).collect();
    assert_eq!(read, expected);

    let Reply::GroupDescribed { offsets, .. } =
        client.request(Api::DescribeGroup { group: "billing".into() })
    else {
        panic!("billing is not described")
    };
    let committed: Vec<(i32, Option<i64>, Option<i64>)> =
        offsets.iter().map(|row| (row.partition, row.current_offset, row.lag)).collect();
    assert_eq!(committed, [(0, Some(3), Some(0)), (1, Some(3), Some(0)), (2, Some(3), Some(0))]);

    kcat(&server, &["-P", "-t", "payments", "-p", "1"], "later\n");
    assert_eq!(kcat(&server, &group, ""), "later\n", "the group resumes from its commits");
}

/// Runs one of the client scripts in `tests/clients/` against the server (the bootstrap address,
/// then `args`): a `.py` with `KITE_PYTHON`, a `.js` with node and kafkajs from
/// `KITE_NODE_MODULES`, a `.java` with `java` (its single-file source launcher) and Kafka's Java
/// client from `KITE_JAVA_JARS`. Its stdout.
fn run_client(server: &KiteServer, script: &str, args: &[&str]) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients").join(script);
    let mut runner = match script.extension().and_then(|e| e.to_str()) {
        Some("js") => {
            let mut node = Command::new("node");
            node.env("NODE_PATH", env_path("KITE_NODE_MODULES"));
            node
        }
        Some("java") => {
            let mut java = Command::new("java");
            // Nothing in the system's temporary directory: no JVM perf data, and the codecs'
            // native libraries unpacked where the tests keep their temporary files.
            java.arg("-XX:-UsePerfData");
            if let Some(tmp) = std::env::var_os("TMPDIR") {
                java.arg(format!("-Djava.io.tmpdir={}", tmp.to_string_lossy()));
            }
            java.arg("-cp").arg(env_path("KITE_JAVA_JARS").join("*"));
            java
        }
        _ => Command::new(env_path("KITE_PYTHON")),
    };
    let child = runner
        .arg(&script)
        .arg(server.bootstrap())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client's runtime starts (KITE_PYTHON, node)");
    let output = finish(child, &format!("{script:?}"));
    assert!(output.status.success(), "{script:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// confluent-kafka, kafka-python and kafkajs (second and third independent readings of the
/// protocol) and Kafka's own Java client each create a three-partition topic with their admin
/// client, produce six keyed records to it and read them back in a consumer group: each key
/// lands on the partition Kite's own murmur2 partitioner names (what the UI explains), offsets
/// count from 0 in every partition, the group reads exactly what was produced, Kite's
/// DescribeGroup shows its commits, and the confluent-kafka and Java admin clients list and
/// describe it, the cluster and the topic's configs.
#[test]
fn real_clients_produce_and_consume_in_a_group() {
    let data = TempDir::new("python-clients");
    let server = KiteServer::start(data.path());
    let mut client = ApiClient::connect(&server);
    let scripts =
        ["confluent_kafka_client.py", "kafka_python_client.py", "kafkajs_client.js", "java_client.java"];
    let mut groups = Vec::new();
    for script in scripts {
        // The script's admin client creates the topic (CreateTopics).
        let topic = script.split('.').next().unwrap().replace('_', "-");
        groups.push(format!("{topic}-group"));
        let out = run_client(&server, script, &[&topic, &format!("{topic}-group")]);
        let (mut produced, mut consumed) = (Vec::new(), Vec::new());
        let (mut listed, mut described): (Vec<String>, _) = (Vec::new(), None);
        let (mut cluster, mut configs) = (String::new(), Vec::new());
        for line in out.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            match fields.as_slice() {
                ["produced", key, partition, offset] => produced.push((
                    key.to_string(),
                    partition.parse::<i32>().unwrap(),
                    offset.parse::<i64>().unwrap(),
                )),
                ["consumed", key, value, partition, offset] => {
                    assert_eq!(*value, key.replace('k', "v"), "{script}: {line}");
                    consumed.push((
                        key.to_string(),
                        partition.parse::<i32>().unwrap(),
                        offset.parse::<i64>().unwrap(),
                    ));
                }
                ["listed", groups @ ..] => listed = groups.iter().map(|g| g.to_string()).collect(),
                ["cluster", ..] => cluster = line.to_string(),
                ["config", ..] => configs.push(line.to_string()),
                ["described", group, state, members] => {
                    described = Some((group.to_string(), state.to_string(), members.to_string()))
                }
                _ => panic!("{script}: unexpected line {line:?}"),
            }
        }
        assert_eq!(produced.len(), 6, "{script}: {out}");
        if script.starts_with("confluent") || script.starts_with("java") {
            // Its admin client lists the groups so far (ListGroups) and describes its own
            // (DescribeGroups).
            let group = format!("{topic}-group");
            let mut so_far = groups.clone();
            so_far.sort();
            assert_eq!(listed, so_far, "{script}");
            assert_eq!(described, Some((group, "EMPTY".to_string(), "0".to_string())), "{script}");
            assert_eq!(cluster, "cluster 3 brokers, controller 0", "{script}: DescribeCluster");
            // IncrementalAlterConfigs then DescribeConfigs: the config it set is the topic's
            // (source 1, DYNAMIC_TOPIC_CONFIG to the Java client), the other the default (5).
            let (set, default) = if script.starts_with("java") {
                ("DYNAMIC_TOPIC_CONFIG", "DEFAULT_CONFIG")
            } else {
                ("1", "5")
            };
            assert_eq!(
                configs,
                [
                    format!("config retention.ms 7200000 {set}"),
                    format!("config cleanup.policy delete {default}")
                ],
                "{script}"
            );
        }
        assert_eq!(consumed, produced, "{script}: the group reads what was produced");
        let mut per_partition = [0i64; 3];
        for (key, partition, offset) in &produced {
            let kite = kite_shared::partitioner::partition_for_key(key.as_bytes(), 3).partition();
            assert_eq!(*partition, kite, "{script}: {key} went where Kite's murmur2 says");
            assert!(*offset < 6, "{script}: {key}@{offset}");
            per_partition[*partition as usize] += 1;
        }
        let Reply::GroupDescribed { offsets, .. } =
            client.request(Api::DescribeGroup { group: format!("{topic}-group") })
        else {
            panic!("{script}: the group is not described")
        };
        for row in offsets {
            assert_eq!(row.current_offset, Some(per_partition[row.partition as usize]), "{script}: {row:?}");
        }
    }
}

/// ListOffsets as real clients ask it: confluent-kafka's admin client for the earliest, latest,
/// by-time and largest-timestamp offsets (ListOffsets v7+, KIP-734), kafka-python's
/// offsets_for_times; each answer carries the found record's own timestamp, not the asked one.
/// The records' CreateTimes are 1000, 9000, 2000, 3000: the largest is offset 1, and the first at
/// or after 2500 in offset order is offset 1 too (at 9000).
#[test]
fn real_clients_list_offsets_by_time_and_by_largest_timestamp() {
    let data = TempDir::new("list-offsets");
    let server = KiteServer::start(data.path());
    let out = run_client(&server, "list_offsets_client.py", &["timed"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["earliest 0 -1", "latest 4 -1", "time 1 9000", "max 1 9000", "kafka-python 1 9000"],
        "{out}"
    );
}

/// DeleteRecords from confluent-kafka's and kafka-python's admin clients: the log start moves
/// (the answer's low watermark), an offset past the high watermark is OFFSET_OUT_OF_RANGE, and a
/// consumer from the beginning starts at the new log start.
#[test]
fn real_clients_delete_records() {
    let data = TempDir::new("delete-records");
    let server = KiteServer::start(data.path());
    let out = run_client(&server, "delete_records_client.py", &["trimmed"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["deleted 2", "refused OFFSET_OUT_OF_RANGE", "kafka-python 3", "read v3 v4"],
        "{out}"
    );
}

/// CreatePartitions from confluent-kafka's and kafka-python's admin clients: validate_only
/// changes nothing, a topic grows and Metadata lists its new partitions, a shrink is
/// INVALID_PARTITIONS, and a producer writes to a new partition.
#[test]
fn real_clients_create_partitions() {
    let data = TempDir::new("create-partitions");
    let server = KiteServer::start(data.path());
    let out = run_client(&server, "create_partitions_client.py", &["growing"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["validated 1", "grown 3", "refused INVALID_PARTITIONS", "kafka-python 4", "produced 3"],
        "{out}"
    );
}

/// Partition reassignment from kafka-python's admin client: a replica moves to the broker that had
/// none, ListPartitionReassignments empties once it has caught up, Metadata gives the target
/// replicas, every record is still read, and the finished move has nothing left to cancel;
/// reordered, a preferred leader election makes the new first replica lead.
#[test]
fn a_real_client_reassigns_a_partition() {
    let data = TempDir::new("reassign");
    let server = KiteServer::start(data.path());
    let out = run_client(&server, "reassign_partitions_client.py", &["moving"]);
    let lines: Vec<&str> = out.lines().collect();
    let moved: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!((moved[0], moved[2], moved.len()), ("moved", "->", 4), "{out}");
    let newcomer = moved[3];
    assert_eq!(lines[1], "done", "{out}");
    let replicas: Vec<&str> = lines[2].split(' ').collect();
    assert_eq!((replicas[0], replicas[1], replicas.len()), ("replicas", newcomer, 3), "{out}");
    assert!(!replicas.contains(&moved[1]), "the old leader's replica left: {out}");
    assert_eq!(lines[3..5], ["read 5", "cancel NoReassignmentInProgressError"], "{out}");
    let preferred: Vec<&str> = lines[5].split(' ').collect();
    assert_eq!((preferred[0], preferred[2], preferred[1]), ("preferred", "leads", preferred[3]), "{out}");
}

/// AlterConfigs from confluent-kafka's and kafka-python's admin clients replaces a topic's
/// overrides: what a request leaves out goes back to Kafka's default, as DescribeConfigs then
/// says (kafka-python sends the other overrides along itself). A broker's configs are what
/// `--override` started it with, read-only but for the replication throttle's rates: altering a
/// static one is refused, a throttle rate is set and described as the broker's dynamic config.
#[test]
fn real_clients_alter_configs() {
    let data = TempDir::new("alter-configs");
    let server = KiteServer::start_with(data.path(), &["--override", "auto.leader.rebalance.enable=false"]);
    let out = run_client(&server, "alter_configs_client.py", &["tuned"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "retention.bytes 1000 set",
            "retention.ms 604800000 default",
            "retention.bytes 1000 set",
            "retention.ms 120000 set",
            "broker auto.leader.rebalance.enable false set read-only",
            "broker follower.replication.throttled.rate 9223372036854775807 default dynamic",
            "broker leader.imbalance.check.interval.seconds 300 default read-only",
            "broker leader.replication.throttled.rate 9223372036854775807 default dynamic",
            "broker replica.fetch.max.bytes 1048576 default read-only",
            "broker alter refused INVALID_REQUEST",
            "broker leader.replication.throttled.rate 1000000 DYNAMIC_BROKER_CONFIG",
        ],
        "{out}"
    );
}

/// Two confluent-kafka consumers in one group: the second's join rebalances the partitions
/// between them, they read everything and commit, the first leaves and the second takes over;
/// after `kite serve` restarts, the group resumes from its commits.
#[test]
fn a_group_of_two_rebalances_commits_and_resumes_after_a_restart() {
    let data = TempDir::new("python-rebalance");
    let mut server = KiteServer::start(data.path());
    ApiClient::connect(&server).create_topic("shipments", 3);
    for partition in 0..3 {
        let lines: String = (0..3).map(|i| format!("p{partition}-{i}\n")).collect();
        kcat(&server, &["-P", "-t", "shipments", "-p", &partition.to_string()], &lines);
    }
    let out = run_client(&server, "confluent_group_rebalance.py", &["shipments", "dispatch", "3", "9"]);
    assert_eq!(out, "first 3\nsplit 1 2\nread 9\nrest 3\n");

    assert!(server.terminate().success());
    let server = KiteServer::start(data.path());
    kcat(&server, &["-P", "-t", "shipments", "-p", "2"], "after the restart\n");
    let group =
        ["-G", "dispatch", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n", "shipments"];
    assert_eq!(kcat(&server, &group, ""), "after the restart\n", "the group resumes from its commits");
}

/// What a Kafka client does shows in the UI: while kcat consumes from `kite serve` in a group,
/// the cluster view lists it, in English and in Korean — its client.id, its software
/// (librdkafka), the broker it talks to, the group it joined and how many requests of each API
/// it sent; `kite cluster describe` prints it too.
/// A kcat produce shows in the protocol inspector, its request and response decoded field by
/// field, and `kite inspect-kafka` prints the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_view_lists_connected_kafka_clients() {
    let data = TempDir::new("kafka-ui");
    let server = KiteServer::start(data.path());
    ApiClient::connect(&server).create_topic("watched", 1);
    // A consumer that stays connected until the test ends.
    let mut consumer = Command::new(env_path("KCAT"))
        .args([
            "-b",
            &server.bootstrap(),
            "-G",
            "learner-group",
            "-q",
            "-X",
            "client.id=learner-app",
            "watched",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kcat runs (KCAT)");
    let driver = ChromeDriver::start();
    let (url, bootstrap) = (server.url(), server.bootstrap());
    with_browser(&driver, |client| async move {
        client.set_window_size(1280, 800).await.map_err(|e| e.to_string())?;
        client.goto(&url).await.map_err(|e| e.to_string())?;
        wait_for(&client, "#status[data-status='ready']").await?;
        click(&client, "#server-connect").await?;
        // librdkafka keeps a connection per broker it talks to (the bootstrap one, the leader's
        // for its fetches): each is listed; the view refreshes every second.
        wait_for(&client, "#kafka-clients .kafka-client[data-client-id='learner-app']").await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut text = String::new();
        while !text.contains("Fetch") && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            text = text_of(&client, "#kafka-clients").await?;
        }
        assert!(text.contains("librdkafka") && text.contains("Fetch"), "{text}");
        // A group member: the group it joined is listed with the connection that joined it.
        wait_for(&client, "#kafka-clients .kafka-client-groups").await?;
        let groups = text_of(&client, "#kafka-clients .kafka-client-groups").await?;
        assert_eq!(groups, "groups: learner-group");
        let into_view = "document.querySelector('#cluster').scrollIntoView()";
        client.execute(into_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "kafka-clients-en").await?;

        // The protocol inspector: kcat's produce, its request and the broker's response opened
        // field by field beside the bytes.
        kcat_at(
            &bootstrap,
            &["-P", "-t", "watched", "-X", "client.id=learner-producer"],
            "hello inspector\n",
        );
        let produce = "#inspector-exchanges .exchange[data-api='Produce']";
        wait_for(&client, produce).await?;
        click(&client, "#inspector-api option[value='Produce']").await?;
        click(&client, &format!("{produce} summary")).await?;
        wait_for(&client, &format!("{produce} details[open] tr[data-field='correlation_id']")).await?;
        let body = text_of(&client, &format!("{produce} pre.body")).await?;
        assert!(body.contains("ProduceRequest") && body.contains("\"watched\""), "{body}");
        let fields = text_of(&client, &format!("{produce} table.fields")).await?;
        assert!(fields.contains("\"learner-producer\"") && fields.contains("0 (Produce)"), "{fields}");
        let inspector_view = "document.querySelector('#inspector').scrollIntoView()";
        client.execute(inspector_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "inspector-en").await?;

        click(&client, "#language").await?;
        wait_for(&client, "html[lang='ko']").await?;
        assert_eq!(text_of(&client, "#inspector-title").await?, "프로토콜 인스펙터");
        client.execute(inspector_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "inspector-ko").await?;
        let heading = text_of(&client, ".kafka-clients h3").await?;
        assert_eq!(heading, "카프카 클라이언트");
        client.execute(into_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "kafka-clients-ko").await?;
        Ok(())
    })
    .await;
    let inspected = std::process::Command::new(env_path("KITE_BIN"))
        .args(["inspect-kafka", "--server", &server.ws_url()])
        .output()
        .expect("kite inspect-kafka runs");
    let printed = String::from_utf8_lossy(&inspected.stdout);
    assert!(printed.contains("Client: learner-producer") && printed.contains("Api: Produce v"), "{printed}");
    assert!(printed.contains("    correlation_id = ") && printed.contains("ProduceResponse"), "{printed}");
    let described = std::process::Command::new(env_path("KITE_BIN"))
        .args(["cluster", "--server", &server.ws_url(), "describe"])
        .output()
        .expect("kite cluster describe runs");
    let _ = consumer.kill();
    let _ = consumer.wait();
    let printed = String::from_utf8_lossy(&described.stdout);
    assert!(printed.contains("KafkaClient: learner-app\tSoftware: librdkafka"), "{printed}");
    assert!(printed.contains("\tGroups: learner-group"), "{printed}");
}

/// An idempotent producer (confluent-kafka, acks=all) while its partition's leader is stopped
/// mid-produce: librdkafka retries on the new leader; every record acknowledged is in the log
/// once, none twice, and none is lost.
#[test]
fn an_idempotent_producer_survives_a_leader_stopped_mid_produce() {
    const RECORDS: usize = 2_000;
    let data = TempDir::new("python-failover");
    let server = KiteServer::start_with(data.path(), &["--allow-faults"]);
    ApiClient::connect(&server).create_topic_with("failover", 1, 3);
    let kite = env_path("KITE_BIN");
    let out = run_client(
        &server,
        "confluent_failover_producer.py",
        &["failover", &RECORDS.to_string(), &kite.to_string_lossy(), &server.ws_url()],
    );
    let summary = out.lines().find(|l| l.starts_with("acked ")).unwrap_or_default();
    assert_eq!(summary, format!("acked {RECORDS} failed 0 queued 0"), "{out}");
    let acked: std::collections::BTreeSet<&str> =
        out.lines().filter_map(|l| l.strip_prefix("value ")).collect();
    let stored =
        kcat(&server, &["-C", "-t", "failover", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%s\\n"], "");
    let stored: Vec<&str> = stored.lines().collect();
    let unique: std::collections::BTreeSet<&str> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "no record is stored twice");
    assert_eq!(unique, acked, "every acknowledged record is stored, and only those");
}

#[test]
fn bytes_no_kafka_client_sends_close_their_connection_and_the_server_stays_up() {
    let data = TempDir::new("kafka-hostile");
    let server = KiteServer::start(data.path());
    let addr = server.kafka[0];
    // Header: api key, version, correlation id, a null client id.
    let header = |key: i16, version: i16| {
        let mut h = Vec::new();
        h.extend_from_slice(&key.to_be_bytes());
        h.extend_from_slice(&version.to_be_bytes());
        h.extend_from_slice(&7i32.to_be_bytes());
        h.extend_from_slice(&(-1i16).to_be_bytes());
        h
    };
    let framed = |body: Vec<u8>| {
        let mut frame = (body.len() as i32).to_be_bytes().to_vec();
        frame.extend(body);
        frame
    };
    // Metadata v0 claiming 2^31-1 topics in 4 bytes: a decoder that reserves them first would ask
    // for ~150 GiB and abort the process.
    let mut huge = header(3, 0);
    huge.extend_from_slice(&i32::MAX.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a huge array count", framed(huge)),
        ("a 2 GiB size prefix", i32::MAX.to_be_bytes().to_vec()),
        ("a negative size", (-5i32).to_be_bytes().to_vec()),
        ("an unknown API key", framed(header(32_000, 0))),
        ("an unserved version", framed(header(0, 1))),
        ("a truncated header", framed(vec![0, 3])),
        ("random bytes", framed((0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect())),
    ];
    for (what, bytes) in cases {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(&bytes).unwrap();
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(
            read.is_ok() && rest.is_empty(),
            "{what}: the connection closes without an answer ({read:?})"
        );
    }
    // Still up, for Kafka clients and for Kite's own.
    assert!(kcat(&server, &["-L"], "").contains("3 brokers:"));
    assert!(matches!(ApiClient::connect(&server).request(Api::ListTopics), Reply::Topics { .. }));
}

/// At most 256 Kafka connections (`MAX_KAFKA_CONNECTIONS`) are served at once, over every
/// listener: with that many open and silent, one more is not answered; once one of them closes,
/// it is. (A client holding every connection blocks others only while it holds them.)
#[test]
fn kafka_connections_past_the_cap_wait_for_a_free_slot() {
    const MAX_KAFKA_CONNECTIONS: usize = 256;
    let data = TempDir::new("kafka-cap");
    let server = KiteServer::start(data.path());
    // ApiVersions v0: api key 18, version 0, correlation id 7, a null client id.
    let api_versions: Vec<u8> = [&10i32.to_be_bytes()[..], &[0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff]].concat();
    let answered = |stream: &mut TcpStream, within: Duration| {
        stream.set_read_timeout(Some(within)).unwrap();
        let mut head = [0u8; 8];
        stream.read_exact(&mut head).is_ok() && head[4..8] == 7i32.to_be_bytes()
    };
    let mut held: Vec<TcpStream> = (0..MAX_KAFKA_CONNECTIONS)
        .map(|i| TcpStream::connect(server.kafka[i % server.kafka.len()]).unwrap())
        .collect();
    // Every one of them is served: all the slots are taken.
    for (i, stream) in held.iter_mut().enumerate() {
        stream.write_all(&api_versions).unwrap();
        assert!(answered(stream, Duration::from_secs(10)), "connection {i} is served");
    }
    let mut extra = TcpStream::connect(server.kafka[0]).unwrap();
    extra.write_all(&api_versions).unwrap();
    assert!(!answered(&mut extra, Duration::from_secs(1)), "a 257th connection waits");
    drop(held.remove(0));
    assert!(answered(&mut extra, Duration::from_secs(10)), "served once a slot is free");
}

/// With `--token`, a Kafka client authenticates with SASL/PLAIN, the token as its password: kcat
/// with it lists the cluster and produces; with a wrong one it gets nothing.
#[test]
fn with_a_token_kafka_clients_authenticate_with_sasl_plain() {
    let data = TempDir::new("kafka-token");
    let server = KiteServer::start_with(data.path(), &["--token", "classroom"]);
    let sasl = |password: &str| {
        [
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanisms=PLAIN",
            "-X",
            "sasl.username=learner",
        ]
        .into_iter()
        .map(str::to_string)
        .chain(["-X".to_string(), format!("sasl.password={password}")])
        .collect::<Vec<String>>()
    };
    let with = |password: &str, more: &[&str]| {
        let mut args: Vec<String> = sasl(password);
        args.extend(more.iter().map(|a| a.to_string()));
        args
    };
    let right = with("classroom", &["-P", "-t", "orders"]);
    let right: Vec<&str> = right.iter().map(String::as_str).collect();
    kcat(&server, &right, "hello\n");
    let listed = with("classroom", &["-L", "-t", "orders"]);
    let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
    assert!(kcat(&server, &listed, "").contains("topic \"orders\" with 1 partitions"));

    // A wrong password: the listener answers SASL_AUTHENTICATION_FAILED and closes.
    let wrong = with("guess", &["-L", "-m", "3"]);
    let output = Command::new(env_path("KCAT"))
        .arg("-b")
        .arg(server.bootstrap())
        .args(&wrong)
        .output()
        .expect("kcat runs (KCAT)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a wrong password lists nothing: {stderr}");
    assert!(stderr.contains("Authentication failed") || stderr.contains("SASL"), "{stderr}");
}

/// A stopped broker's port, as a Kafka client finds it: the connection it had is closed when the
/// broker stops, a new one is closed unanswered, Metadata from the others no longer lists it, and
/// once started it answers again.
#[test]
fn a_stopped_brokers_listener_closes_its_connections_until_it_starts() {
    let data = TempDir::new("kafka-stopped-broker");
    let server = KiteServer::start_with(data.path(), &["--allow-faults"]);
    // ApiVersions v0: api key 18, version 0, correlation id 7, a null client id, no body.
    let mut api_versions = 10i32.to_be_bytes().to_vec();
    api_versions.extend_from_slice(&[0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff]);
    let answered = |stream: &mut TcpStream| {
        stream.write_all(&api_versions).unwrap();
        let mut size = [0u8; 4];
        if stream.read_exact(&mut size).is_err() {
            return false;
        }
        let mut body = vec![0u8; usize::try_from(i32::from_be_bytes(size)).unwrap_or(0)];
        stream.read_exact(&mut body).is_ok() && body.len() > 6
    };
    let connect = || {
        let stream = TcpStream::connect(server.kafka[1]).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    };
    let mut open = connect();
    assert!(answered(&mut open), "broker 1 answers while it runs");
    let mut rest = Vec::new();
    let mut api = ApiClient::connect(&server);
    assert!(matches!(api.request(Api::StopBroker { broker: 1 }), Reply::ClusterDescribed { .. }));
    // Closed without another request (its client learns now, not at its next request).
    let read = open.read_to_end(&mut rest);
    assert!(read.is_ok(), "closed, not timed out: {read:?}");
    let mut again = connect();
    assert!(!answered(&mut again), "a new connection to the stopped broker gets no answer");
    let listed = kcat(&server, &["-L"], "");
    assert!(listed.contains("2 brokers:") && !listed.contains("broker 1 at"), "{listed}");
    assert!(matches!(api.request(Api::StartBroker { broker: 1 }), Reply::ClusterDescribed { .. }));
    assert!(answered(&mut connect()), "broker 1 answers once started");
    assert!(kcat(&server, &["-L"], "").contains("3 brokers:"));
}

/// A confluent-kafka (librdkafka 2.16) consumer reads on after its partition's leader is stopped:
/// at the new leader it first asks OffsetForLeaderEpoch where the epoch it read ended (KIP-320),
/// is told nothing was truncated, and reads the records produced after, each with its new leader
/// epoch.
#[test]
fn a_consumer_checks_its_position_with_the_new_leader_and_reads_on() {
    let data = TempDir::new("python-failover-consumer");
    let server = KiteServer::start_with(data.path(), &["--allow-faults"]);
    ApiClient::connect(&server).create_topic_with("moved", 1, 3);
    let kite = env_path("KITE_BIN");
    let out = run_client(
        &server,
        "confluent_failover_consumer.py",
        &["moved", &kite.to_string_lossy(), &server.ws_url()],
    );
    let records: Vec<Vec<&str>> =
        out.lines().filter_map(|l| l.strip_prefix("record ")).map(|l| l.split(' ').collect()).collect();
    let read: Vec<(&str, &str)> = records.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(read, [("a", "0"), ("b", "1"), ("c", "2"), ("d", "3")], "{out}");
    let epoch = |record: &[&str]| record[2].parse::<i32>().unwrap_or(-1);
    assert!(
        epoch(&records[2]) > epoch(&records[1]),
        "the records after the stop carry a higher leader epoch: {out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("KafkaClient:") && l.contains("OffsetForLeaderEpoch=")),
        "the consumer validated its position with OffsetForLeaderEpoch: {out}"
    );
}

/// Runs one Copy-the-code snippet as its tool would: `sh` for the command-line tools (kcat found
/// through `KCAT`), `KITE_PYTHON` for Python, node with kafkajs for JavaScript, and Java's
/// single-file launcher with Kafka's client jars (the snippet's statements as `main`). Its stdout.
fn run_snippet(tool: kite_shared::code::Tool, text: &str) -> String {
    use kite_shared::code::Tool;
    let dir = std::path::PathBuf::from(std::env::var_os("TMPDIR").unwrap_or_else(|| "target".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = text.to_string();
    let (runner, file) = match tool {
        Tool::Python => (Command::new(env_path("KITE_PYTHON")), dir.join("kite-snippet.py")),
        Tool::Java => {
            // The snippet's imports, then its statements as a main method's body.
            let (imports, body): (Vec<&str>, Vec<&str>) =
                text.lines().partition(|l| l.starts_with("import "));
            text = format!(
                "{}\npublic class KiteSnippet {{ public static void main(String[] args) throws Exception {{\n{}\n}} }}\n",
                imports.join("\n"),
                body.join("\n")
            );
            let mut java = Command::new("java");
            java.arg("-XX:-UsePerfData").arg(format!("-Djava.io.tmpdir={}", dir.display()));
            java.arg("-cp").arg(env_path("KITE_JAVA_JARS").join("*"));
            (java, dir.join("KiteSnippet.java"))
        }
        Tool::Kafkajs => {
            let mut node = Command::new("node");
            node.env("NODE_PATH", env_path("KITE_NODE_MODULES"));
            (node, dir.join("kite-snippet.js"))
        }
        _ => {
            let mut sh = Command::new("sh");
            let kcat_dir = env_path("KCAT").parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let path = std::env::var("PATH").unwrap_or_default();
            sh.env("PATH", format!("{}:{path}", kcat_dir.display()));
            (sh, dir.join("kite-snippet.sh"))
        }
    };
    std::fs::write(&file, &text).unwrap();
    let mut runner = runner;
    let child =
        runner.arg(&file).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the runtime starts");
    let output = finish(child, &format!("{tool:?} snippet:\n{text}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "{tool:?} snippet failed: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The snippet `tool` writes for `command` against `server`.
fn snippet(server: &KiteServer, command: &Api, tool: kite_shared::code::Tool) -> String {
    let written = kite_shared::code::snippets(command, &server.bootstrap());
    match written.into_iter().find(|s| s.tool == tool).map(|s| s.code) {
        Some(kite_shared::code::Code::Ready { text }) => text,
        other => panic!("{tool:?} has no code for {command:?}: {other:?}"),
    }
}

/// Copy the code, pasted: the create-topic snippets of confluent-kafka, kafkajs and Java create
/// their topics, and the produce snippets of kcat, confluent-kafka, kafkajs and Java (a string key, and an
/// IntegerSerializer's four bytes for the same 42) put each record on the partition Kite's own partitioner names
/// — the settings they carry (librdkafka's `murmur2_random`, kafkajs' Java-compatible
/// partitioner) are what make them agree — with the value and header given. The transactional
/// snippets of confluent-kafka, kafkajs and Java commit their record: kcat reads committed.
#[test]
fn copied_code_runs_against_kite_and_lands_where_kite_says() {
    use kite_shared::code::Tool;
    use kite_shared::serializer::SerializerKind;
    let data = TempDir::new("copied-code");
    let server = KiteServer::start(data.path());
    let create = |name: &str| Api::CreateTopic {
        name: name.into(),
        partitions: 3,
        configs: [("retention.ms".to_string(), "86400000".to_string())].into(),
        replication_factor: Some(3),
    };
    run_snippet(Tool::Python, &snippet(&server, &create("copied"), Tool::Python));
    run_snippet(Tool::Kafkajs, &snippet(&server, &create("copied-js"), Tool::Kafkajs));
    run_snippet(Tool::Java, &snippet(&server, &create("copied-java"), Tool::Java));
    let produce = |key: &str, value: &str, key_serializer| Api::Produce {
        topic: "copied".into(),
        partition: None,
        key: Some(key.into()),
        value: Some(value.into()),
        timestamp_ms: None,
        partitioner: Default::default(),
        key_serializer,
        value_serializer: SerializerKind::String,
        headers: vec![("source".into(), "copied".into())],
        acks: Default::default(),
        producer: None,
    };
    let string = SerializerKind::String;
    let in_transaction = |mut command: Api, id: &str| {
        if let Api::Produce { producer, .. } = &mut command {
            *producer = Some(kite_shared::api::IdempotentProducer {
                producer_id: 0,
                producer_epoch: 0,
                sequences: Vec::new(),
                transactional_id: Some(id.into()),
            });
        }
        command
    };
    let sent = [
        (Tool::Kcat, produce("42", "from kcat", string)),
        (Tool::Python, produce("42", "from python", string)),
        (Tool::Kafkajs, produce("42", "from kafkajs", string)),
        (Tool::Java, produce("42", "from java", string)),
        (Tool::Java, produce("42", "integer key, java", SerializerKind::Integer)),
        (Tool::Python, produce("42", "integer key, python", SerializerKind::Integer)),
        (Tool::Kafkajs, produce("42", "integer key, kafkajs", SerializerKind::Integer)),
        // In a transaction: begun, sent and committed (kcat reads committed records only).
        (Tool::Python, in_transaction(produce("42", "in a transaction, python", string), "copied-py")),
        (Tool::Kafkajs, in_transaction(produce("42", "in a transaction, kafkajs", string), "copied-js")),
        (Tool::Java, in_transaction(produce("42", "in a transaction, java", string), "copied-java")),
    ];
    for (tool, command) in &sent {
        run_snippet(*tool, &snippet(&server, command, *tool));
    }
    // What landed where, read back with kcat: partition, value, headers.
    let out = kcat(&server, &["-C", "-t", "copied", "-o", "beginning", "-e", "-q", "-f", "%p|%s|%h\\n"], "");
    let found: Vec<&str> = out.lines().collect();

    let expected_partition = |key: &[u8]| kite_shared::partitioner::partition_for_key(key, 3).partition();
    let string_partition = expected_partition(b"42");
    let integer_partition = expected_partition(&42i32.to_be_bytes());
    assert_ne!(
        string_partition, integer_partition,
        "the two keys should part for the test to mean something"
    );
    for (_, command) in &sent {
        let Api::Produce { key: Some(key), value: Some(value), key_serializer, .. } = command else {
            unreachable!()
        };
        let partition =
            if *key_serializer == SerializerKind::Integer { integer_partition } else { string_partition };
        let line = found.iter().find(|l| l.split('|').nth(1) == Some(value.as_str()));
        let line = line.unwrap_or_else(|| panic!("{value:?} is not in the topic: {out}"));
        assert!(
            line.starts_with(&format!("{partition}|")),
            "{key} ({key_serializer:?}) went elsewhere: {line}"
        );
        assert!(line.ends_with("|source=copied"), "the header is missing: {line}");
    }
}

/// confluent-kafka's transactions against a three-broker `kite serve`: a committed transaction, an
/// aborted one, a consume-transform-produce loop that sends the consumed offsets in its
/// transaction, and a producer fenced by a new instance of its transactional.id. A read_committed
/// consumer reads the committed records and the transformed ones only; read_uncommitted reads the
/// aborted and fenced ones too; the group's offsets are the ones committed with the transaction.
#[test]
fn confluent_kafka_transactions_commit_abort_and_fence() {
    let data = TempDir::new("python-transactions");
    let server = KiteServer::start(data.path());
    let mut api = ApiClient::connect(&server);
    api.create_topic_with("txn-in", 1, 3);
    api.create_topic_with("txn-out", 2, 3);
    kcat(&server, &["-P", "-t", "txn-in", "-p", "0", "-K", ":"], "k1:in1\nk2:in2\n");
    let out = run_client(&server, "confluent_transactions.py", &["txn-in", "txn-out", "transformer", "2"]);
    assert!(out.contains("fenced True"), "{out}");
    let line =
        |name: &str| out.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_default().trim().to_string();
    assert_eq!(line("committed "), "IN1,IN2,c1,c2,c3", "{out}");
    assert_eq!(line("uncommitted "), "IN1,IN2,a1,a2,c1,c2,c3,zombie", "{out}");
    let Reply::GroupDescribed { offsets, .. } =
        api.request(Api::DescribeGroup { group: "transformer".into() })
    else {
        panic!("the group is not described")
    };
    let committed: Vec<(i32, Option<i64>)> =
        offsets.iter().map(|o| (o.partition, o.current_offset)).collect();
    assert_eq!(committed, [(0, Some(2))], "the offsets sent in the transaction are the group's");
    // Every replica of a partition with aborted records keeps them in Kafka's `.txnindex`.
    let index_of = |broker: usize, partition: usize| {
        let file = format!("broker-{broker}/txn-out-{partition}/00000000000000000000.txnindex");
        std::fs::read(data.path().join(file)).ok()
    };
    for partition in 0..2 {
        let replicas: Vec<Option<Vec<u8>>> = (0..3).map(|broker| index_of(broker, partition)).collect();
        assert!(replicas.iter().all(|r| r == &replicas[0]), "txn-out-{partition}'s replicas differ");
        let entries = replicas[0].as_deref().map(|bytes| txn_index::decode(bytes).expect("Kafka's format"));
        for entry in entries.iter().flatten() {
            assert!(entry.txn.first_offset < entry.txn.last_offset, "{entry:?}");
        }
    }
    let aborted_somewhere = (0..2).any(|partition| index_of(0, partition).is_some());
    assert!(aborted_somewhere, "the aborted transaction is in a .txnindex");
}

/// kcat's `-L` until `ready` says it is what the test waits for (a broker's listener opens, or
/// a decommission completes, on the server's own clock).
fn listed_once(server: &KiteServer, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let listed = kcat(server, &["-L"], "");
        if ready(&listed) || std::time::Instant::now() > deadline {
            return listed;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A broker added while the server runs gets its own Kafka listener, which Metadata advertises
/// and kcat reaches; the leader decommissioned, its partition moves (the newcomer takes its
/// place), kcat goes on producing and reading every record, and the removed broker is listed no
/// more.
#[test]
fn kcat_finds_a_broker_added_and_loses_one_removed() {
    let data = TempDir::new("kafka-membership");
    let server = KiteServer::start(data.path());
    let mut api = ApiClient::connect(&server);
    api.create_topic_with("grown", 1, 3);
    kcat(&server, &["-P", "-t", "grown", "-p", "0"], "before\n");
    assert_eq!(api.request(Api::AddBroker { rack: None }), Reply::BrokerAdded { broker: 3 });
    let listed = listed_once(&server, |l| l.contains("4 brokers:"));
    assert!(listed.contains("4 brokers:") && listed.contains("broker 3 at 127.0.0.1:"), "{listed}");

    let Reply::Topics { topics } = api.request(Api::ListTopics) else { panic!("no topics") };
    let leader = topics.iter().find(|t| t.name == "grown").unwrap().partitions[0].leader.unwrap();
    assert_eq!(
        api.request(Api::RemoveBroker { broker: leader }),
        Reply::BrokerRemoval { broker: leader, moving: 1 }
    );
    let gone = format!("broker {leader} at");
    let listed = listed_once(&server, |l| l.contains("3 brokers:") && !l.contains(&gone));
    assert!(listed.contains("3 brokers:") && !listed.contains(&gone), "{listed}");
    assert!(listed.contains("broker 3 at"), "{listed}");
    kcat(&server, &["-P", "-t", "grown", "-p", "0"], "after\n");
    assert_eq!(consume(&server, "grown"), ["=before@0", "=after@1"]);
}
