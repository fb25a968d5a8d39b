//! `kite serve` as a process: it serves the built UI with the right content types, refuses a data
//! directory another server holds, and stops cleanly on SIGTERM.

use kite_e2e::{KiteServer, TempDir, http_get, http_get_with, kite_serve};
use kite_shared::record::compression::{Compression, decompress};

/// The name `text` gives a file it refers to: the quoted name (`"start.…"` or `"./start.…"`) that
/// starts with `stem` and ends with `extension` (`start.0123456789abcdef.js` for `start.` and `.js`).
fn referred(text: &str, stem: &str, extension: &str) -> String {
    let start = [format!("\"{stem}"), format!("\"./{stem}")]
        .iter()
        .find_map(|quoted| text.find(quoted.as_str()).map(|at| at + quoted.len() - stem.len()))
        .unwrap_or_else(|| panic!("no \"{stem}…\" in {text}"));
    let rest = &text[start..];
    let end =
        rest.find(extension).unwrap_or_else(|| panic!("no {stem}…{extension} in {text}")) + extension.len();
    rest[..end].to_string()
}

/// The UI as a browser first loads it: the page's status line, headers and text, its entry's
/// name in `dist/` (content-hashed) and the entry's text.
struct FirstLoad {
    status: String,
    headers: String,
    page: String,
    entry: String,
    start: String,
}

fn first_load(server: &KiteServer) -> FirstLoad {
    let (status, headers, body) = http_get(server.addr, "/");
    let page = String::from_utf8_lossy(&body).into_owned();
    let entry = referred(&page, "start.", ".js");
    let (_, _, start) = http_get(server.addr, &format!("/{entry}"));
    FirstLoad { status, headers, page, entry, start: String::from_utf8_lossy(&start).into_owned() }
}

#[test]
fn serves_the_ui_and_its_wasm() {
    let data = TempDir::new("http");
    let server = KiteServer::start(data.path());
    let FirstLoad { status, headers, page, entry, start } = first_load(&server);
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: text/html"), "{headers}");
    assert!(
        page.contains(&format!(r#"<script type="module" src="{entry}">"#)),
        "the page loads its entry: {page}"
    );
    assert!(!page.contains("<script>") && !page.contains("import "), "no inline script: {page}");
    assert!(start.contains("./kite_frontend."), "the entry loads the UI module: {start}");
    // No sniffing, no Referer, and no framing by another site's page…
    for header in [
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';",
        "frame-ancestors 'self'",
        "x-frame-options: sameorigin",
    ] {
        assert!(headers.contains(header), "{header} in {headers}");
    }
    // …but the embeddable playground, which docs pages anywhere frame.
    let (status, headers, _) = http_get(server.addr, "/?embed=1&views=cluster");
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("x-content-type-options: nosniff"), "{headers}");
    assert!(!headers.contains("frame-ancestors") && !headers.contains("x-frame-options"), "{headers}");
    assert!(headers.contains("content-security-policy: default-src 'self';"), "{headers}");

    let module = referred(&start, "kite_frontend_bg.", ".wasm");
    let (status, headers, body) = http_get(server.addr, &format!("/{module}"));
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: application/wasm"), "{headers}");
    assert_eq!(&body[..4], b"\0asm", "a WebAssembly module");

    let (status, _, _) = http_get(server.addr, &format!("/{}", referred(&start, "worker.", ".js")));
    assert!(status.contains("200"), "{status}");
    for path in [
        "/no-such-file",
        "/start.js",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/docs/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let (status, _, _) = http_get(server.addr, path);
        assert!(status.contains("404"), "{path}: {status}");
    }
}

/// Issue 27: a browser gets the brotli or gzip copy it accepts, content-hashed files are cached
/// for good, and the page is revalidated: a second visit transfers nothing but a 304.
#[test]
fn sends_compressed_copies_and_a_second_visit_transfers_nothing() {
    let data = TempDir::new("assets");
    let server = KiteServer::start(data.path());
    let FirstLoad { headers: page_headers, start, .. } = first_load(&server);
    assert!(page_headers.contains("cache-control: no-cache"), "the page is revalidated: {page_headers}");
    let module = format!("/{}", referred(&start, "kite_frontend_bg.", ".wasm"));
    let (_, plain_headers, plain) = http_get(server.addr, &module);
    assert!(plain_headers.contains("cache-control: public, max-age=31536000, immutable"), "{plain_headers}");
    assert!(!plain_headers.contains("content-encoding"), "asked for nothing, sent as it is: {plain_headers}");

    let (status, headers, gzipped) =
        http_get_with(server.addr, &module, &[("accept-encoding", "gzip, deflate")]);
    assert!(status.contains("200") && headers.contains("content-encoding: gzip"), "{status} {headers}");
    assert!(
        headers.contains("content-type: application/wasm") && headers.contains("vary: accept-encoding"),
        "{headers}"
    );
    assert_eq!(
        decompress(Compression::Gzip, &gzipped, plain.len()).unwrap(),
        plain,
        "the same bytes, gzipped"
    );
    assert!(gzipped.len() * 2 < plain.len(), "{} of {} bytes", gzipped.len(), plain.len());

    let (_, headers, brotli) =
        http_get_with(server.addr, &module, &[("accept-encoding", "gzip, deflate, br, zstd")]);
    assert!(headers.contains("content-encoding: br"), "brotli first when accepted: {headers}");
    assert!(brotli.len() < gzipped.len(), "brotli {} bytes, gzip {}", brotli.len(), gzipped.len());
    let (_, headers, _) = http_get_with(server.addr, &module, &[("accept-encoding", "gzip, br;q=0")]);
    assert!(headers.contains("content-encoding: gzip"), "br refused with q=0: {headers}");

    // The second visit: the page's entity tag back, and nothing but a 304.
    let etag = page_headers
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .expect("the page has an etag")
        .trim()
        .to_string();
    let (status, _, body) = http_get_with(server.addr, "/", &[("if-none-match", &etag)]);
    assert!(status.contains("304") && body.is_empty(), "{status}, {} bytes", body.len());
    let (status, _, _) = http_get_with(server.addr, "/", &[("if-none-match", "\"something-else\"")]);
    assert!(status.contains("200"), "another tag gets the page: {status}");
}

#[test]
fn a_second_server_cannot_take_a_held_data_dir_and_sigterm_stops_cleanly() {
    let data = TempDir::new("lock");
    let mut first = KiteServer::start(data.path());

    let second = kite_serve(data.path()).output().unwrap();
    assert!(!second.status.success(), "a second server on the same data dir must not start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is in use by another kite process"), "{stderr}");

    let status = first.terminate();
    assert!(status.success(), "kite serve exits 0 after SIGTERM, got {status}");

    // Once the first has stopped, the directory is free again.
    let mut again = KiteServer::start(data.path());
    assert!(again.terminate().success());
}

/// A panic inside the engine (a bug planted with the hidden `--panic-on-topic`) ends kite serve
/// with status 70 rather than leaving it up with a poisoned lock, serving nobody; a restart
/// recovers what was stored.
#[test]
fn a_panic_in_the_engine_ends_the_process_and_a_restart_recovers() {
    use kite_e2e::ApiClient;
    use kite_shared::api::{Command, Reply};
    let data = TempDir::new("panic");
    let mut server = KiteServer::start_with(data.path(), &["--no-kafka", "--panic-on-topic", "boom"]);
    let mut client = ApiClient::connect(&server);
    client.create_topic("kept", 1);
    client.create_topic("boom", 1);
    // The engine's periodic turn (every second) meets the planted bug.
    let status = server.wait_exit(std::time::Duration::from_secs(5));
    let status = status.expect("kite serve still runs after a panic inside the engine");
    assert_eq!(status.code(), Some(70), "{status}");

    let restarted = KiteServer::start_with(data.path(), &["--no-kafka"]);
    let mut client = ApiClient::connect(&restarted);
    let Reply::Topics { topics } = client.request(Command::ListTopics) else { panic!("no topics") };
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["boom", "kept"], "what was stored before the panic is there");
}

/// A 1,000-partition topic at replication factor 3 (3,000 replica logs): kite serve answers its
/// creation once the controller has it and makes the replica logs a slice per turn, in turns of
/// their own between other clients' requests, until every partition takes records. Killed right
/// after a second such creation was answered, the restarted server makes every replica it had
/// not made yet.
#[test]
fn a_wide_topic_is_created_a_slice_at_a_time_and_whole_after_a_crash() {
    use kite_e2e::ApiClient;
    let data = TempDir::new("wide");
    let mut server = KiteServer::start_with(data.path(), &["--no-kafka"]);
    let mut client = ApiClient::connect(&server);
    let partitions = kite_shared::limits::MAX_PARTITIONS_PER_TOPIC;
    client.create_topic_with("wide", partitions, 3);
    the_last_slice_takes_records(&mut client, "wide", partitions);
    assert_eq!(replica_dirs(data.path(), "wide"), 3 * partitions as usize);

    client.create_topic_with("wider", partitions, 3);
    server.kill9();
    let restarted = KiteServer::start_with(data.path(), &["--no-kafka"]);
    let mut client = ApiClient::connect(&restarted);
    the_last_slice_takes_records(&mut client, "wider", partitions);
    assert_eq!(replica_dirs(data.path(), "wider"), 3 * partitions as usize);
}

/// How long a 1,000-partition creation may take to reach its last slice. A liveness bound, not a
/// performance target (that is the soak bench's): a debug build making 3,000 replica logs beside
/// the other end-to-end tests on two cores once took over a minute on a fresh machine.
const WIDE_CREATION_DEADLINE_SECS: u64 = 300;

/// Waits (at most WIDE_CREATION_DEADLINE_SECS) until the topic's last partition, made in the last
/// slice, takes a record (retrying what a Kafka producer retries); the first, made in the first,
/// takes one too.
fn the_last_slice_takes_records(client: &mut kite_e2e::ApiClient, topic: &str, partitions: i32) {
    use kite_shared::api::{Command, Reply};
    let produce = |client: &mut kite_e2e::ApiClient, partition: i32| {
        client.request(Command::produce_text(topic, Some(partition), None, "hello"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(WIDE_CREATION_DEADLINE_SECS);
    loop {
        match produce(client, partitions - 1) {
            Reply::Produced { .. } => break,
            Reply::Error(e) if std::time::Instant::now() < deadline => {
                // Retriable, as a Kafka producer takes them: the replica is not made yet, or (after
                // the restart, its followers still recovering thousands of logs) not every
                // in-sync replica has fetched the record within the request's time.
                use kite_shared::error::ErrorCode::{NotLeaderOrFollower, RequestTimedOut};
                assert!(matches!(e.error, NotLeaderOrFollower | RequestTimedOut), "{e:?}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => panic!("{topic}-{}: {other:?}", partitions - 1),
        }
    }
    let first = produce(client, 0);
    assert!(matches!(first, Reply::Produced { .. }), "{topic}-0: {first:?}");
}

/// The topic's replica directories on every broker.
fn replica_dirs(data_dir: &std::path::Path, topic: &str) -> usize {
    let prefix = format!("{topic}-");
    (0..3)
        .map(|broker| {
            std::fs::read_dir(data_dir.join(format!("broker-{broker}")))
                .unwrap()
                .filter(|entry| {
                    let name = entry.as_ref().unwrap().file_name().into_string().unwrap();
                    name.strip_prefix(&prefix).is_some_and(|rest| rest.parse::<i32>().is_ok())
                })
                .count()
        })
        .sum()
}

mod persistence {
    use std::collections::BTreeMap;

    use kite_backend::disk::check_partition_dir;
    use kite_e2e::{ApiClient, KiteServer, TempDir};
    use kite_shared::api::{Command, Reply};
    use kite_shared::partitioner::PartitionerKind;
    use kite_shared::serializer::SerializerKind;

    const PARTITIONS: i32 = 3;

    /// A string record for `orders` (to `partition`, or where the default partitioner puts it).
    fn produce_command(partition: Option<i32>, key: Option<String>, value: &str) -> Command {
        Command::Produce {
            acks: Default::default(),
            topic: "orders".into(),
            partition,
            key,
            value: Some(value.to_string()),
            timestamp_ms: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            headers: vec![],
            producer: None,
        }
    }

    /// Creates `orders` with `PARTITIONS` partitions.
    fn create_orders(
        client: &mut ApiClient,
        configs: BTreeMap<String, String>,
        replication_factor: Option<i16>,
    ) {
        let created = client.request(Command::CreateTopic {
            name: "orders".into(),
            partitions: PARTITIONS,
            configs,
            replication_factor,
        });
        assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    }

    fn produce(client: &mut ApiClient, i: usize) -> (i32, i64) {
        let command = produce_command(None, Some(format!("customer-{}", i % 7)), &format!("order {i}"));
        match client.request(command) {
            Reply::Produced { partition, offset, .. } => (partition, offset),
            other => panic!("produce {i}: {other:?}"),
        }
    }

    /// Every value of every partition, by (partition, offset).
    /// Produces `order {i}` for each `i` of `numbers`, keeping where each went in `expected`.
    fn produce_orders(
        client: &mut ApiClient,
        numbers: std::ops::Range<usize>,
        expected: &mut BTreeMap<(i32, i64), String>,
    ) {
        for i in numbers {
            expected.insert(produce(client, i), format!("order {i}"));
        }
    }

    /// A fetch of `orders`' partition from its first offset, as text.
    fn fetch_orders(partition: i32) -> Command {
        Command::Fetch {
            topic: "orders".into(),
            partition,
            offset: 0,
            max_records: 10_000,
            key_deserializer: SerializerKind::String,
            value_deserializer: SerializerKind::String,
            isolation_level: Default::default(),
        }
    }

    fn read_all(client: &mut ApiClient) -> BTreeMap<(i32, i64), String> {
        let mut all = BTreeMap::new();
        for partition in 0..PARTITIONS {
            let fetch = fetch_orders(partition);
            match client.request(fetch) {
                Reply::Records { records, .. } => {
                    for r in records {
                        all.insert((partition, r.offset), r.value.unwrap());
                    }
                }
                other => panic!("fetch {partition}: {other:?}"),
            }
        }
        all
    }

    /// Every partition directory holds Kafka's files: 20-digit names, RecordBatch v2 with valid
    /// CRCs, consecutive offsets ending at `ends[partition]`.
    fn check_layout(data: &std::path::Path, expected: &BTreeMap<(i32, i64), String>) {
        for partition in 0..PARTITIONS {
            let dir = data.join("broker-0").join(format!("orders-{partition}"));
            let summary = check_partition_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let count = expected.keys().filter(|(p, _)| *p == partition).count() as i64;
            assert_eq!(summary.end_offset, count, "{}", dir.display());
            assert!(dir.join("leader-epoch-checkpoint").is_file());
        }
    }

    #[test]
    fn logs_survive_a_clean_restart_and_a_kill_9_in_kafkas_layout() {
        let data = TempDir::new("persist");
        let mut server = KiteServer::start_with(data.path(), &["--fsync", "--brokers", "1"]);
        let mut client = ApiClient::connect(&server);
        let configs = BTreeMap::from([("segment.bytes".to_string(), "1024".to_string())]);
        create_orders(&mut client, configs, None);
        let mut expected = BTreeMap::new();
        produce_orders(&mut client, 0..120, &mut expected);
        drop(client);
        assert!(server.terminate().success());
        let broker = data.path().join("broker-0");
        assert!(broker.join(".kafka_cleanshutdown").is_file(), "a clean stop leaves the marker");
        let recovery_points =
            std::fs::read_to_string(broker.join("recovery-point-offset-checkpoint")).unwrap();
        assert!(recovery_points.starts_with("0\n3\norders 0 "), "{recovery_points}");
        check_layout(data.path(), &expected);
        let segments = std::fs::read_dir(broker.join("orders-0")).unwrap().count();
        assert!(segments > 4, "segment.bytes=1024 rolled segments ({segments} files)");

        // A clean restart: everything is there; then appends acknowledged under --fsync, and a kill.
        let mut server = KiteServer::start_with(data.path(), &["--fsync", "--brokers", "1"]);
        assert!(!broker.join(".kafka_cleanshutdown").exists(), "the marker is removed on start");
        let mut client = ApiClient::connect(&server);
        assert_eq!(read_all(&mut client), expected);
        produce_orders(&mut client, 120..200, &mut expected);
        server.kill9();

        let server = KiteServer::start_with(data.path(), &["--fsync", "--brokers", "1"]);
        let mut client = ApiClient::connect(&server);
        assert_eq!(read_all(&mut client), expected, "every acknowledged record after kill -9");
        check_layout(data.path(), &expected);
        drop(server);
    }

    /// A disk that rots under one broker: a byte of a flushed segment flipped while the server
    /// was down. The server starts, the rotten partition answers KAFKA_STORAGE_ERROR naming the
    /// file (never a record altered), the other partitions serve and take records, and the
    /// rotten file is left as it was for the operator.
    #[test]
    fn a_rotten_segment_takes_only_its_partition_offline() {
        let data = TempDir::new("persist-rot");
        let mut server = KiteServer::start_with(data.path(), &["--brokers", "1"]);
        let mut client = ApiClient::connect(&server);
        create_orders(&mut client, BTreeMap::new(), None);
        let mut expected = BTreeMap::new();
        produce_orders(&mut client, 0..60, &mut expected);
        drop(client);
        assert!(server.terminate().success());
        // A byte of orders-0's first value, as a rotten sector returns it.
        let segment = data.path().join("broker-0/orders-0/00000000000000000000.log");
        let mut bytes = std::fs::read(&segment).unwrap();
        let first = expected[&(0, 0)].as_bytes();
        let at = bytes.windows(first.len()).position(|w| w == first).expect("orders-0's first value");
        bytes[at] ^= 0x20;
        std::fs::write(&segment, &bytes).unwrap();

        let server = KiteServer::start_with(data.path(), &["--brokers", "1"]);
        let mut client = ApiClient::connect(&server);
        let fetch = fetch_orders;
        match client.request(fetch(0)) {
            Reply::Error(e) => {
                assert_eq!(e.error.name(), "KAFKA_STORAGE_ERROR", "{e:?}");
                assert!(e.message.contains("orders-0/00000000000000000000.log"), "{}", e.message);
                assert!(e.message.contains("CRC-32C mismatch"), "{}", e.message);
            }
            other => panic!("a rotten partition answered {other:?}"),
        }
        for partition in 1..PARTITIONS {
            let Reply::Records { records, .. } = client.request(fetch(partition)) else {
                panic!("orders-{partition}")
            };
            let read: BTreeMap<(i32, i64), String> =
                records.into_iter().map(|r| ((partition, r.offset), r.value.unwrap())).collect();
            let kept: BTreeMap<(i32, i64), String> =
                expected.iter().filter(|((p, _), _)| *p == partition).map(|(k, v)| (*k, v.clone())).collect();
            assert_eq!(read, kept, "orders-{partition} is whole");
        }
        let produce_to = |partition| produce_command(Some(partition), None, "after the rot");
        let next = expected.keys().filter(|(p, _)| *p == 1).count() as i64;
        let reply = client.request(produce_to(1));
        assert!(matches!(reply, Reply::Produced { partition: 1, offset, .. } if offset == next), "{reply:?}");
        let reply = client.request(produce_to(0));
        assert!(matches!(&reply, Reply::Error(e) if e.error.name() == "KAFKA_STORAGE_ERROR"), "{reply:?}");
        drop(client);
        drop(server);
        assert_eq!(std::fs::read(&segment).unwrap(), bytes, "the rotten file is left as it was");
    }

    /// Three brokers, a topic with replication factor 3 and min.insync.replicas=2: acks=all
    /// records, a kill -9 in the middle of producing, and after the restart (every broker
    /// recovering its logs, the controller replaying its metadata snapshot) every acknowledged
    /// record is there, on every replica's directory, and producing goes on. With `--fsync` or
    /// without, every broker restarts uncleanly (no clean-shutdown marker), leaves every ISR, and
    /// the controller's unclean recovery gives each partition the replica with the longest log
    /// once all are back (a process kill loses nothing the OS was handed, so nothing is lost).
    #[test]
    fn a_replicated_cluster_keeps_every_acknowledged_record_through_kill_9() {
        for flags in [&["--fsync"][..], &[][..]] {
            replicated_kill_9(flags);
        }
    }

    fn replicated_kill_9(flags: &[&str]) {
        let data = TempDir::new("persist-replicated");
        let mut server = KiteServer::start_with(data.path(), flags);
        let mut client = ApiClient::connect(&server);
        let configs = BTreeMap::from([
            ("segment.bytes".to_string(), "1024".to_string()),
            ("min.insync.replicas".to_string(), "2".to_string()),
        ]);
        create_orders(&mut client, configs, Some(3));
        let mut expected = BTreeMap::new();
        produce_orders(&mut client, 0..150, &mut expected);
        server.kill9();

        let mut server = KiteServer::start_with(data.path(), flags);
        let mut client = ApiClient::connect(&server);
        assert_eq!(read_all(&mut client), expected, "every acknowledged record after kill -9 ({flags:?})");
        produce_orders(&mut client, 150..200, &mut expected);
        assert_eq!(read_all(&mut client), expected);
        drop(client);
        assert!(server.terminate().success());
        // Every broker holds every partition (replication factor 3), each a valid Kafka log
        // ending where the leader's does.
        for broker in 0..3 {
            for partition in 0..PARTITIONS {
                let dir = data.path().join(format!("broker-{broker}")).join(format!("orders-{partition}"));
                let summary = check_partition_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                let count = expected.keys().filter(|(p, _)| *p == partition).count() as i64;
                assert_eq!(summary.end_offset, count, "{}", dir.display());
            }
        }
    }
}

mod schemas {

    use kite_e2e::{ApiClient, KiteServer, TempDir};
    use kite_shared::api::{Command, Reply};
    use kite_shared::partitioner::PartitionerKind;
    use kite_shared::serializer::SerializerKind;

    const SCHEMA: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#;

    fn fetch_avro(client: &mut ApiClient) -> Reply {
        client.request(Command::Fetch {
            topic: "orders".into(),
            partition: 0,
            offset: 0,
            max_records: 10,
            key_deserializer: SerializerKind::String,
            value_deserializer: SerializerKind::Avro,
            isolation_level: Default::default(),
        })
    }

    #[test]
    fn registered_schemas_survive_a_restart() {
        let data = TempDir::new("schemas");
        let mut server = KiteServer::start(data.path());
        let mut client = ApiClient::connect(&server);
        client.create_topic("orders", 1);
        let registered =
            client.request(Command::RegisterSchema { subject: "orders-value".into(), schema: SCHEMA.into() });
        assert!(matches!(registered, Reply::SchemaRegistered { id: 1, version: 1, .. }), "{registered:?}");
        let produced = client.request(Command::Produce {
            acks: Default::default(),
            topic: "orders".into(),
            partition: Some(0),
            key: None,
            value: Some(r#"{"id":"o-1"}"#.into()),
            timestamp_ms: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::Avro,
            headers: vec![],
            producer: None,
        });
        assert!(matches!(produced, Reply::Produced { .. }), "{produced:?}");
        let before = fetch_avro(&mut client);
        drop(client);
        assert!(server.terminate().success());

        let server = KiteServer::start(data.path());
        let mut client = ApiClient::connect(&server);
        assert_eq!(fetch_avro(&mut client), before, "the record still decodes with schema id 1");
        let Reply::Records { records, .. } = &before else { panic!("{before:?}") };
        assert_eq!(records[0].value.as_deref(), Some(r#"{"id":"o-1"}"#));
        // And the registry goes on from where it was.
        let again =
            client.request(Command::RegisterSchema { subject: "orders-value".into(), schema: SCHEMA.into() });
        assert!(matches!(again, Reply::SchemaRegistered { id: 1, version: 1, .. }), "{again:?}");
    }

    /// The persistent remote crash: a recursive schema, then one record nested 50,000 deep (sent
    /// as raw bytes), then a fetch with KafkaAvroDeserializer. It overflowed the server's stack and,
    /// the record being stored, did so again after every restart. Now the record reads back as hex
    /// with the reason, before and after a restart, and the server keeps serving.
    #[test]
    fn a_deeply_nested_avro_record_cannot_take_the_server_down() {
        const NODE: &str =
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
        let data = TempDir::new("avro-depth");
        let mut server = KiteServer::start(data.path());
        let mut client = ApiClient::connect(&server);
        client.create_topic("orders", 1);
        let registered =
            client.request(Command::RegisterSchema { subject: "orders-value".into(), schema: NODE.into() });
        assert!(matches!(registered, Reply::SchemaRegistered { id: 1, .. }), "{registered:?}");
        // Schema id 1 in Confluent's framing, then 50,000 times "branch 1: another node", then null.
        let value = format!("0000000001{}00", "02".repeat(50_000));
        let produced = client.request(Command::Produce {
            acks: Default::default(),
            topic: "orders".into(),
            partition: Some(0),
            key: None,
            value: Some(value),
            timestamp_ms: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::ByteArray,
            headers: vec![],
            producer: None,
        });
        assert!(matches!(produced, Reply::Produced { .. }), "{produced:?}");
        for restart in [false, true] {
            if restart {
                drop(client);
                assert!(server.terminate().success(), "the server was still up to stop cleanly");
                server = KiteServer::start(data.path());
                client = ApiClient::connect(&server);
            }
            let fetched = fetch_avro(&mut client);
            let Reply::Records { records, .. } = &fetched else { panic!("{fetched:?}") };
            let reason = records[0].decode_error.as_deref().unwrap_or_default();
            assert!(reason.contains("nested deeper than 128 levels"), "{reason}");
        }
    }
}

mod security {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    use kite_e2e::{ApiClient, KiteServer, TempDir};
    use kite_shared::api::{Command, PartitionRef, Reply};

    /// Sends a websocket upgrade request with `headers` (Host first if given) and returns the
    /// response's status code, keeping the stream (open, if upgraded).
    fn upgrade(addr: SocketAddr, query: &str, host: &str, headers: &[(&str, &str)]) -> (u16, TcpStream) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = format!(
            "GET /ws{query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut status_line = String::new();
        BufReader::new(stream.try_clone().unwrap()).read_line(&mut status_line).unwrap();
        let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, stream)
    }

    fn own_host(server: &KiteServer) -> String {
        server.addr.to_string()
    }

    #[test]
    fn foreign_origins_and_hosts_are_refused() {
        let data = TempDir::new("origin");
        let server = KiteServer::start(data.path());
        let host = own_host(&server);
        assert_eq!(upgrade(server.addr, "", &host, &[]).0, 101, "the CLI's request: no Origin");
        let own_origin = format!("http://{host}");
        assert_eq!(
            upgrade(server.addr, "", &host, &[("Origin", &own_origin)]).0,
            101,
            "the UI served from here"
        );
        assert_eq!(upgrade(server.addr, "", &host, &[("Origin", "http://evil.example")]).0, 403);
        let rebinding = format!("evil.example:{}", server.addr.port());
        assert_eq!(upgrade(server.addr, "", &rebinding, &[]).0, 403, "DNS rebinding");
        // Still serving.
        assert_eq!(upgrade(server.addr, "", &host, &[]).0, 101);
    }

    #[test]
    fn a_token_and_the_connection_cap_are_enforced() {
        let data = TempDir::new("token");
        let server = KiteServer::start_with(data.path(), &["--token", "s3cret", "--max-connections", "2"]);
        let host = own_host(&server);
        assert_eq!(upgrade(server.addr, "", &host, &[]).0, 401);
        assert_eq!(upgrade(server.addr, "?token=wrong", &host, &[]).0, 401);
        let (first, first_stream) = upgrade(server.addr, "?token=s3cret", &host, &[]);
        let (second, _second_stream) = upgrade(server.addr, "", &host, &[("Authorization", "Bearer s3cret")]);
        assert_eq!((first, second), (101, 101));
        assert_eq!(upgrade(server.addr, "?token=s3cret", &host, &[]).0, 503, "the cap of 2 is reached");
        drop(first_stream);
        // The closed connection's slot comes back once the server notices.
        let freed = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            let (status, _stream) = upgrade(server.addr, "?token=s3cret", &host, &[]);
            status == 101
        });
        assert!(freed, "a closed connection frees its slot");
    }

    /// The UI escapes its token (encodeURIComponent): a base64 token arrives with %2B and %3D and
    /// is accepted. Guessing is locked out: after five wrong tokens, even the right one gets 429.
    #[test]
    fn escaped_tokens_are_accepted_and_guessing_is_locked_out() {
        let data = TempDir::new("token-guess");
        let server = KiteServer::start_with(data.path(), &["--token", "a+b/c=="]);
        let host = own_host(&server);
        assert_eq!(upgrade(server.addr, "?token=a%2Bb%2Fc%3D%3D", &host, &[]).0, 101);
        for _ in 0..5 {
            assert_eq!(upgrade(server.addr, "?token=guess", &host, &[]).0, 401);
        }
        assert_eq!(upgrade(server.addr, "?token=a%2Bb%2Fc%3D%3D", &host, &[]).0, 429);
    }

    /// One connection may run 32 consumers; the engine's 1,000 are for everyone.
    #[test]
    fn one_connection_cannot_take_every_hosted_consumer() {
        let data = TempDir::new("consumer-cap");
        let server = KiteServer::start(data.path());
        let mut client = ApiClient::connect(&server);
        client.create_topic("orders", 1);
        let open = || Command::OpenConsumer {
            group: None,
            topics: vec![],
            partitions: vec![PartitionRef { topic: "orders".into(), partition: 0 }],
            client_id: None,
            auto_offset_reset: None,
            assignors: vec![],
            enable_auto_commit: None,
            session_timeout_ms: None,
            isolation_level: Default::default(),
        };
        let mut opened = Vec::new();
        for _ in 0..32 {
            match client.request(open()) {
                Reply::ConsumerOpened { consumer } => opened.push(consumer),
                other => panic!("{other:?}"),
            }
        }
        let refused = client.request(open());
        let Reply::Error(error) = &refused else { panic!("{refused:?}") };
        assert!(error.message.contains("at most 32 consumers"), "{refused:?}");
        // Another connection still gets one, and closing one makes room again.
        assert!(matches!(ApiClient::connect(&server).request(open()), Reply::ConsumerOpened { .. }));
        let closed = client.request(Command::CloseConsumer { consumer: opened[0] });
        assert!(matches!(closed, Reply::ConsumerClosed { .. }), "{closed:?}");
        assert!(matches!(client.request(open()), Reply::ConsumerOpened { .. }));
    }

    #[test]
    fn a_client_that_never_finishes_its_handshake_is_cut_off() {
        use std::io::Read;
        let data = TempDir::new("handshake");
        let server = KiteServer::start_with(data.path(), &["--handshake-timeout-ms", "500"]);
        let mut slow = TcpStream::connect(server.addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Half a request, then nothing (a slowloris client).
        slow.write_all(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1").unwrap();
        let started = std::time::Instant::now();
        let mut buffer = [0u8; 256];
        let read = slow.read(&mut buffer);
        assert!(
            matches!(read, Ok(0) | Err(_)) || String::from_utf8_lossy(&buffer).starts_with("HTTP/1.1 408"),
            "the server closes the connection: {read:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "within its handshake timeout, not later");
        // A client that connects and never sends a byte: its deadline runs from accept (it used to
        // start at the first byte, so such sockets piled up until file descriptors ran out).
        let mut silent = TcpStream::connect(server.addr).unwrap();
        silent.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = std::time::Instant::now();
        let read = silent.read(&mut buffer);
        assert!(matches!(read, Ok(0) | Err(_)), "the server closes a silent connection: {read:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "within its handshake timeout, not later");
        // Everyone else is served as before.
        let (status, _) = upgrade(server.addr, "", &server.addr.to_string(), &[]);
        assert_eq!(status, 101);
    }

    /// A client that subscribes to a live tail and stops reading: its socket's buffers fill, and
    /// the server lets it go after `--write-timeout-ms` instead of holding its slot forever.
    #[test]
    fn a_client_that_stops_reading_is_let_go() {
        use std::io::Read;
        let data = TempDir::new("never-reads");
        let server = KiteServer::start_with(data.path(), &["--write-timeout-ms", "500"]);
        let mut producer = ApiClient::connect(&server);
        producer.create_topic("orders", 1);
        let stream = TcpStream::connect(server.addr).unwrap();
        let (mut stalled, _) = tungstenite::client::client(server.ws_url(), stream).unwrap();
        let _welcome = stalled.read().unwrap();
        let tail = r#"{"id":1,"command":{"type":"tail","topic":"orders","partition":0,"offset":0}}"#;
        stalled.send(tungstenite::Message::text(tail)).unwrap();
        let subscribed = stalled.read().unwrap().into_text().unwrap();
        assert!(subscribed.contains("subscribed"), "{subscribed}");
        // 48 MB of records to push to a client that reads none of them.
        let value = "v".repeat(512 * 1024);
        for _ in 0..96 {
            let produced = producer.request(Command::Produce {
                acks: Default::default(),
                topic: "orders".into(),
                partition: Some(0),
                key: None,
                value: Some(value.clone()),
                timestamp_ms: None,
                partitioner: kite_shared::partitioner::PartitionerKind::Default,
                key_serializer: kite_shared::serializer::SerializerKind::String,
                value_serializer: kite_shared::serializer::SerializerKind::String,
                headers: vec![],
                producer: None,
            });
            assert!(matches!(produced, Reply::Produced { .. }), "{produced:?}");
        }
        std::thread::sleep(Duration::from_millis(1_500));
        // What reached the socket before the server gave up is there to read, then the end.
        let mut raw = stalled.into_inner();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buffer = vec![0u8; 1 << 20];
        let mut total = 0usize;
        let ended = loop {
            match raw.read(&mut buffer) {
                Ok(0) => break true,
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        assert!(ended, "the server closed the connection after reading {total} bytes of it");
        assert!(total < 48 * 1024 * 1024, "not everything was pushed: {total} bytes");
    }

    #[test]
    fn garbage_and_oversized_messages_do_not_hurt_the_server() {
        let data = TempDir::new("garbage");
        let server = KiteServer::start(data.path());
        let stream = TcpStream::connect(server.addr).unwrap();
        let (mut socket, _) = tungstenite::client::client(server.ws_url(), stream).unwrap();
        let _welcome = socket.read().unwrap();
        socket.send(tungstenite::Message::text("{not json")).unwrap();
        let reply = socket.read().unwrap().into_text().unwrap();
        assert!(reply.contains("\"type\":\"invalid\""), "{reply}");
        socket.send(tungstenite::Message::binary(vec![0xff, 0x00, 0x13])).unwrap();
        let reply = socket.read().unwrap().into_text().unwrap();
        assert!(reply.contains("a binary frame starts with"), "garbage bytes are named: {reply}");

        // A message over the limit closes the connection…
        let huge = "x".repeat(kite_shared::limits::MAX_API_MESSAGE_BYTES + 1);
        let _ = socket.send(tungstenite::Message::text(huge));
        let closed = (0..10).find_map(|_| match socket.read() {
            Ok(tungstenite::Message::Text(_)) => None,
            other => Some(other),
        });
        // …with 1009, "message too big", for the client to tell why.
        let Some(Ok(tungstenite::Message::Close(Some(frame)))) = closed else {
            panic!("an oversized message ends the connection with a close frame: {closed:?}")
        };
        assert_eq!(u16::from(frame.code), 1009, "{frame:?}");

        // …and the server is still there, with its data.
        let mut client = kite_e2e::ApiClient::connect(&server);
        let reply = client.request(kite_shared::api::Command::ListTopics);
        assert!(matches!(reply, kite_shared::api::Reply::Topics { .. }), "{reply:?}");
    }
}

mod load {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    use kite_e2e::{ApiClient, KiteServer, TempDir};
    use kite_shared::api::{Command, Reply};
    use kite_shared::partitioner::PartitionerKind;
    use kite_shared::serializer::SerializerKind;

    /// Concurrent websocket clients in the load test (issue 7: at least 200).
    const CLIENTS: usize = 200;
    /// How long every client produces.
    const RUN_FOR: Duration = Duration::from_secs(2);
    /// The server's resident memory may not pass this during the test.
    const MAX_RSS_KIB: u64 = 512 * 1024;

    fn rss_kib(pid: u32) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                })
            })
            .flatten()
            .unwrap_or(0)
    }

    #[test]
    fn two_hundred_clients_produce_and_consume_and_nothing_is_lost() {
        let data = TempDir::new("load");
        let server = Arc::new(KiteServer::start(data.path()));
        let mut admin = ApiClient::connect(&server);
        let created = admin.request(Command::CreateTopic {
            name: "load".into(),
            partitions: 8,
            configs: BTreeMap::new(),
            replication_factor: None,
        });
        assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");

        let barrier = Arc::new(Barrier::new(CLIENTS));
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (server, barrier) = (server.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut api = ApiClient::connect(&server);
                    barrier.wait();
                    let started = Instant::now();
                    let mut acked = Vec::new();
                    let mut seq = 0;
                    while started.elapsed() < RUN_FOR {
                        let value = format!("c{client}-{seq}");
                        seq += 1;
                        let reply = api.request(Command::Produce {
                            acks: Default::default(),
                            topic: "load".into(),
                            partition: None,
                            key: Some(format!("client-{client}")),
                            value: Some(value.clone()),
                            timestamp_ms: None,
                            partitioner: PartitionerKind::Default,
                            key_serializer: SerializerKind::String,
                            value_serializer: SerializerKind::String,
                            headers: vec![],
                            producer: None,
                        });
                        match reply {
                            Reply::Produced { partition, offset, .. } => {
                                acked.push((partition, offset, value))
                            }
                            other => panic!("client {client}: {other:?}"),
                        }
                        // Every tenth request is a read, as a consumer would interleave.
                        if seq % 10 == 0 {
                            let (partition, offset, _) = acked[acked.len() - 1];
                            let reply = api.request(Command::Fetch {
                                topic: "load".into(),
                                partition,
                                offset,
                                max_records: 1,
                                key_deserializer: SerializerKind::String,
                                value_deserializer: SerializerKind::String,
                                isolation_level: Default::default(),
                            });
                            assert!(
                                matches!(reply, Reply::Records { ref records, .. } if records.len() == 1),
                                "{reply:?}"
                            );
                        }
                    }
                    acked
                })
            })
            .collect();
        let mut peak_rss = 0;
        while !handles.iter().all(|h| h.is_finished()) {
            peak_rss = peak_rss.max(rss_kib(server.pid()));
            std::thread::sleep(Duration::from_millis(100));
        }
        let acked: Vec<(i32, i64, String)> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        assert!(acked.len() > CLIENTS, "every client got through ({} acks)", acked.len());

        // Every acknowledged record is at its offset.
        let mut stored: BTreeMap<(i32, i64), String> = BTreeMap::new();
        for partition in 0..8 {
            let mut offset = 0;
            loop {
                let reply = admin.request(Command::Fetch {
                    topic: "load".into(),
                    partition,
                    offset,
                    max_records: 10_000,
                    key_deserializer: SerializerKind::String,
                    value_deserializer: SerializerKind::String,
                    isolation_level: Default::default(),
                });
                let Reply::Records { records, .. } = reply else { panic!("{reply:?}") };
                if records.is_empty() {
                    break;
                }
                for r in records {
                    offset = r.offset + 1;
                    stored.insert((partition, r.offset), r.value.unwrap());
                }
            }
        }
        for (partition, offset, value) in &acked {
            assert_eq!(
                stored.get(&(*partition, *offset)),
                Some(value),
                "acknowledged {value} at {partition}@{offset}"
            );
        }
        assert_eq!(stored.len(), acked.len(), "nothing unacknowledged was stored");
        assert!(peak_rss < MAX_RSS_KIB, "the server's memory stayed bounded: {peak_rss} KiB");
        eprintln!(
            "{CLIENTS} clients: {} records acknowledged in {RUN_FOR:?}; server peak RSS {peak_rss} KiB",
            acked.len()
        );
    }
}

mod subscriptions {
    use std::time::Duration;

    use kite_e2e::{ApiClient, KiteServer, TempDir};
    use kite_shared::api::{Command, HostCommand, Push, Reply};

    fn produce(partition: i32, value: &str) -> Command {
        Command::Produce {
            acks: Default::default(),
            topic: "orders".into(),
            partition: Some(partition),
            key: None,
            value: Some(value.into()),
            timestamp_ms: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            headers: vec![],
            producer: None,
        }
    }

    /// Pushes until `wanted` says stop (or 5 s pass without one).
    fn collect(client: &mut ApiClient, mut wanted: impl FnMut(&[(u64, Push)]) -> bool) -> Vec<(u64, Push)> {
        let mut got = Vec::new();
        while !wanted(&got) {
            match client.next_push(Duration::from_secs(5)) {
                Some(push) => got.push(push),
                None => panic!("no push within 5 s; got {got:?}"),
            }
        }
        got
    }

    #[test]
    fn events_and_live_tails_are_pushed_and_metrics_count() {
        let data = TempDir::new("subscriptions");
        let server = KiteServer::start(data.path());
        let mut producer = ApiClient::connect(&server);
        let mut watcher = ApiClient::connect(&server);
        let create = Command::CreateTopic {
            name: "orders".into(),
            partitions: 2,
            configs: Default::default(),
            replication_factor: None,
        };
        assert!(matches!(producer.request(create), Reply::TopicCreated { .. }));
        let Reply::Subscribed { subscription: events } = watcher.request(HostCommand::SubscribeEvents) else {
            panic!("no events subscription")
        };
        let tail = HostCommand::Tail {
            topic: "orders".into(),
            partition: 1,
            offset: None,
            key_deserializer: Default::default(),
            value_deserializer: Default::default(),
        };
        let Reply::Subscribed { subscription: tailing } = watcher.request(tail) else { panic!("no tail") };
        assert!(matches!(producer.request(produce(0, "elsewhere")), Reply::Produced { .. }));
        assert!(matches!(producer.request(produce(1, "hello")), Reply::Produced { .. }));
        let pushes = collect(&mut watcher, |got| got.iter().any(|(s, _)| *s == tailing));
        let appended: Vec<&serde_json::Value> = pushes
            .iter()
            .filter_map(|(s, p)| match p {
                Push::Event { event, .. } if *s == events && event["kind"] == "appended" => Some(event),
                _ => None,
            })
            .collect();
        assert_eq!(appended.len(), 2, "both appends, as typed events: {pushes:?}");
        assert_eq!(
            (appended[1]["tp"]["topic"].as_str(), appended[1]["tp"]["partition"].as_i64()),
            (Some("orders"), Some(1))
        );
        let records: Vec<String> = pushes
            .iter()
            .filter_map(|(s, p)| match p {
                Push::Records { records, .. } if *s == tailing => {
                    Some(records.iter().filter_map(|r| r.value.clone()))
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(records, ["hello"], "the tail pushes only its partition's new records");

        let Reply::Metrics(metrics) = watcher.request(Command::GetMetrics) else { panic!("no metrics") };
        assert_eq!(
            (metrics.topics, metrics.partitions, metrics.produce_requests, metrics.records_produced),
            (1, 2, 2, 2)
        );
        assert!(metrics.bytes_produced > 0);

        // Unsubscribed: the tail stops; events go on.
        assert!(matches!(
            watcher.request(HostCommand::Unsubscribe { subscription: tailing }),
            Reply::Unsubscribed { .. }
        ));
        assert!(matches!(producer.request(produce(1, "again")), Reply::Produced { .. }));
        let pushes = collect(&mut watcher, |got| {
            got.iter()
                .any(|(_, p)| matches!(p, Push::Event { event, .. } if event["kind"] == "high_watermark"))
        });
        assert!(pushes.iter().all(|(s, _)| *s == events), "{pushes:?}");
        assert!(matches!(
            watcher.request(HostCommand::Unsubscribe { subscription: tailing }),
            Reply::Error(_)
        ));
    }

    /// 64 live tails of one partition on one connection, then 1,000 records of 200 bytes: every
    /// tail would push them all (~16 MB for that one produce). A connection's pushes for one batch
    /// of events stop at MAX_PUSH_BYTES_PER_EVENT_BATCH (4 MiB); the tails left behind go on at
    /// the partition's next append.
    #[test]
    fn pushes_for_one_batch_of_events_are_bounded_per_connection() {
        const CAP_BYTES: usize = 4 * 1024 * 1024;
        let data = TempDir::new("push-cap");
        let server = KiteServer::start(data.path());
        let mut producer = ApiClient::connect(&server);
        let mut watcher = ApiClient::connect(&server);
        let create = Command::CreateTopic {
            name: "orders".into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: None,
        };
        assert!(matches!(producer.request(create), Reply::TopicCreated { .. }));
        for _ in 0..64 {
            let tail = HostCommand::Tail {
                topic: "orders".into(),
                partition: 0,
                offset: None,
                key_deserializer: Default::default(),
                value_deserializer: Default::default(),
            };
            assert!(matches!(watcher.request(tail), Reply::Subscribed { .. }));
        }
        let records = (0..1_000)
            .map(|_| kite_shared::api::BatchedRecord { value: Some("v".repeat(200)), ..Default::default() })
            .collect();
        let batch = Command::ProduceBatch {
            topic: "orders".into(),
            partition: Some(0),
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            records,
            acks: Default::default(),
            answer_per_partition: true,
        };
        assert!(matches!(producer.request(batch), Reply::ProducedRecords { .. }));
        let (mut bytes, mut largest, mut tails) = (0, 0, std::collections::BTreeSet::new());
        while let Some((subscription, push)) = watcher.next_push(Duration::from_secs(2)) {
            let size = serde_json::to_string(&push).unwrap().len();
            (bytes, largest) = (bytes + size, largest.max(size));
            tails.insert(subscription);
        }
        assert!(bytes > 0 && bytes < CAP_BYTES + largest, "{bytes} bytes pushed");
        assert!(tails.len() < 64, "not every tail was served: {}", tails.len());
        // The next append serves the tails left behind.
        assert!(matches!(producer.request(produce(0, "next")), Reply::Produced { .. }));
        let mut more = std::collections::BTreeSet::new();
        while let Some((subscription, _)) = watcher.next_push(Duration::from_secs(2)) {
            more.insert(subscription);
        }
        assert!(more.iter().any(|s| !tails.contains(s)), "tails left behind go on");
    }
}
