//! The websocket API's speed against a real `kite serve` (release build, loopback, `--data-dir`
//! on the temp disk), each beside the same requests answered in-process by the engine (a
//! `Cluster` with disk-free memory storage) in the same run: single-record produce throughput
//! (one request per record, 100-byte values), `produce_batch` of 1000 records per request (JSON),
//! `produce_records` of the same 1000 records as one Kafka record batch in a binary frame, fetch
//! of 1000 records per request (JSON, and `fetch_records`' binary batches decoded by the client),
//! and single-record produce latency p50/p99; and kcat over Kafka's protocol, then a pipelined
//! producer of pre-encoded 1 MB requests (which keeps the broker, not the client, the
//! bottleneck), each against Kite and against Tansu (a Kafka-compatible broker in Rust) in the
//! same run.
//! `cargo xtask bench` runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use kite_backend::client::ApiClient;
use kite_shared::api::{BatchedRecord, Command, Reply, decode_binary_frame};
use kite_shared::cluster::Cluster;
use kite_shared::config::Acks;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::serializer::SerializerKind;

const VALUE_BYTES: usize = 100;
/// Requests per throughput measurement.
const REQUESTS: usize = 20_000;
/// Round trips for the latency percentiles.
const LATENCY_SAMPLES: usize = 10_000;
/// Records per fetch request.
const FETCH_RECORDS: u32 = 1_000;
const NOW_MS: i64 = 1_700_000_000_000;

fn produce(acks: Acks, i: usize) -> Command {
    Command::Produce {
        acks,
        topic: "bench".into(),
        partition: Some(0),
        key: Some(format!("key-{i:06}")),
        value: Some("v".repeat(VALUE_BYTES)),
        timestamp_ms: Some(NOW_MS),
        partitioner: PartitionerKind::Default,
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        headers: Vec::new(),
        producer: None,
    }
}

/// Records per `produce_batch` request.
const BATCH_RECORDS: usize = 1_000;

fn produce_batch(acks: Acks, first: usize) -> Command {
    Command::ProduceBatch {
        acks,
        topic: "bench".into(),
        partition: Some(0),
        partitioner: PartitionerKind::Default,
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        records: (first..first + BATCH_RECORDS)
            .map(|i| BatchedRecord {
                key: Some(format!("key-{i:06}")),
                value: Some("v".repeat(VALUE_BYTES)),
                timestamp_ms: Some(NOW_MS),
                headers: Vec::new(),
            })
            .collect(),
        // Every record's offset back, as these figures have always measured.
        answer_per_partition: false,
    }
}

/// The same records as `produce_batch(first)`, as the Kafka record batch a producer would send.
fn records_batch(first: usize) -> Vec<u8> {
    batch_of(first, BATCH_RECORDS)
}

/// `count` records of 100 B from number `first` on, as one Kafka record batch.
fn batch_of(first: usize, count: usize) -> Vec<u8> {
    let records = (first..first + count)
        .zip(0..)
        .map(|(i, delta)| BatchRecord {
            offset_delta: delta,
            key: Some(format!("key-{i:06}").into_bytes()),
            value: Some(vec![b'v'; VALUE_BYTES]),
            ..BatchRecord::default()
        })
        .collect();
    RecordBatch::new(NOW_MS, records).encode().expect("a valid batch")
}

fn produce_records(acks: Acks, payload: Vec<u8>) -> Command {
    Command::ProduceRecords {
        acks,
        topic: "bench".into(),
        partition: Some(0),
        partitioner: PartitionerKind::Default,
        payload,
    }
}

fn fetch_records(offset: i64) -> Command {
    Command::FetchRecords {
        topic: "bench".into(),
        partition: 0,
        offset,
        max_bytes: Some(FETCH_RECORDS_BYTES),
        isolation_level: Default::default(),
    }
}

/// Kafka's `max.partition.fetch.bytes` default: about 8,000 records of 100 B per request.
const FETCH_RECORDS_BYTES: u32 = 1024 * 1024;

/// Decodes fetched batches as a client does; returns the next offset and how many records.
fn decode_batches(payload: &[u8], from: i64) -> (i64, usize) {
    let (mut next, mut count, mut rest) = (from, 0, payload);
    while let Ok((batch, used)) = RecordBatch::decode(rest) {
        rest = &rest[used..];
        for record in &batch.records {
            let offset = batch.base_offset + i64::from(record.offset_delta);
            if offset >= next {
                next = offset + 1;
                count += 1;
            }
        }
    }
    (next, count)
}

fn fetch(offset: i64) -> Command {
    Command::Fetch {
        topic: "bench".into(),
        partition: 0,
        offset,
        max_records: FETCH_RECORDS,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
        isolation_level: Default::default(),
    }
}

fn create(replication_factor: i16) -> Command {
    Command::CreateTopic {
        name: "bench".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(replication_factor),
    }
}

/// One configuration the suite runs in: brokers, the topic's replication factor, the producer's acks.
struct Setup {
    brokers: usize,
    replication_factor: i16,
    acks: Acks,
}

const SETUPS: [Setup; 3] = [
    Setup { brokers: 1, replication_factor: 1, acks: Acks::Leader },
    Setup { brokers: 3, replication_factor: 3, acks: Acks::Leader },
    Setup { brokers: 3, replication_factor: 3, acks: Acks::All },
];

struct Server {
    child: Child,
    client: ApiClient,
    /// Broker 0's Kafka listener (`bootstrap.servers`).
    kafka: Option<String>,
    /// Every broker's Kafka listener, by broker id.
    listeners: Vec<String>,
}

impl Server {
    fn start(data_dir: &std::path::Path, brokers: usize) -> Server {
        let mut child = Process::new(env!("CARGO_BIN_EXE_kite"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-level",
                "error",
                "--ui-dir",
                "/nonexistent",
                "--kafka-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir)
            .arg("--brokers")
            .arg(brokers.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("kite serve starts");
        // `Kafka listeners: broker 0 at HOST:PORT, …` first, then `Kite is serving on http://…`.
        let mut kafka = None;
        let mut listeners = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("kite serve prints its addresses").unwrap();
            if let Some(rest) = line.strip_prefix("Kafka listeners: ") {
                listeners = rest
                    .split(", ")
                    .filter_map(|each| each.split(" at ").nth(1))
                    .map(|addr| addr.split_whitespace().next().unwrap_or(addr).to_string())
                    .collect();
                kafka = listeners.first().cloned();
            }
            if let Some(rest) = line.strip_prefix("Kite is serving on http://") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let client = ApiClient::connect(&format!("ws://{addr}/ws")).unwrap();
        Server { child, client, kafka, listeners }
    }

    /// A binary frame: the header is the command, the payload its records.
    fn request_binary(&mut self, command: Command, payload: &[u8]) -> Reply {
        self.client.request_binary(command, payload).unwrap()
    }

    /// A request whose answer is a binary frame, returned as it arrived.
    fn request_raw(&mut self, command: Command) -> Vec<u8> {
        self.client.request_raw(command).unwrap()
    }

    fn request(&mut self, command: Command) -> Reply {
        self.client.request(command).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn report(name: &str, count: usize, unit: &str, kite: Duration, baseline: Duration) {
    let rate = |d: Duration| count as f64 / d.as_secs_f64();
    println!(
        "{name:<44} websocket {:>12.0} {unit}/s   in-process {:>12.0} {unit}/s   share {:>5.1}%",
        rate(kite),
        rate(baseline),
        100.0 * rate(kite) / rate(baseline)
    );
}

fn main() {
    // `cargo bench` passes --bench; this harness has no options.
    for setup in &SETUPS {
        println!(
            "-- {} broker(s), replication factor {}, acks={}",
            setup.brokers,
            setup.replication_factor,
            if setup.acks == Acks::All { "all" } else { "1" }
        );
        suite(setup);
    }
}

/// A real Kafka client, kcat (librdkafka), producing the same number of 100 B records to
/// partition 0 through the Kafka listener (linger 5 ms, batches up to 1 MB, the setup's acks),
/// plainly and, with acks=all, as an idempotent producer (to a second topic), and consuming them, each timed from
/// start to exit, beside `produce_records`' websocket and in-process times for as many records,
/// and beside the same client against Tansu (`TANSU`: a Kafka-compatible broker in Rust, memory
/// storage, one broker) in the same run. Skipped, said so, without kcat (`KCAT` or on PATH).
fn kafka_clients(
    server: &mut Server,
    dir: &std::path::Path,
    records: usize,
    (acks, replication_factor): (Acks, i16),
    binary: (Duration, Duration),
) {
    let kcat = std::env::var("KCAT").unwrap_or_else(|_| "kcat".into());
    let Some(bootstrap) = server.kafka.clone() else { return println!("kafka: no listener, skipped") };
    let Ok(version) = Process::new(&kcat).arg("-V").output() else {
        return println!("kafka (kcat): skipped, kcat not found (set KCAT or install kcat)");
    };
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let library = version.split(", ").find_map(|part| part.strip_prefix("librdkafka ")).unwrap_or("?");
    println!("kcat on librdkafka {}", library.split_whitespace().next().unwrap_or("?"));
    for name in ["bench-kafka", "bench-kafka-idempotent"] {
        let create = Command::CreateTopic {
            name: name.into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: Some(replication_factor),
        };
        assert!(matches!(server.request(create), Reply::TopicCreated { .. }));
    }
    let input = dir.join("kcat-input.txt");
    let lines: String = (0..records).map(|i| format!("key-{i:06}:{}\n", "v".repeat(VALUE_BYTES))).collect();
    std::fs::write(&input, lines).unwrap();
    let acks = if acks == Acks::All { "all" } else { "1" };
    let kcat = Kcat { kcat: &kcat, input: &input, records, acks };
    let rate = |d: Duration| records as f64 / d.as_secs_f64();
    let tansu = Tansu::start();
    for (name, topic, idempotent) in [
        ("produce, kcat over Kafka's protocol", "bench-kafka", false),
        ("produce, kcat idempotent", "bench-kafka-idempotent", true),
    ] {
        if idempotent && acks != "all" {
            // librdkafka refuses idempotence without acks=all, as Kafka's clients do.
            continue;
        }
        let kafka = kcat.produce(&bootstrap, topic, idempotent);
        println!(
            "{:<44} kafka {:>12.0} records/s   in-process {:>12.0} records/s   share {:>5.1}%   websocket binary {:>10.0} records/s",
            name,
            rate(kafka),
            rate(binary.1),
            100.0 * rate(kafka) / rate(binary.1),
            rate(binary.0)
        );
        if let Some(tansu) = &tansu {
            tansu.create_topic(topic);
            let baseline = kcat.produce(&tansu.bootstrap, topic, idempotent);
            tansu_row(name, rate(baseline), rate(kafka));
        }
    }
    let kafka = kcat.consume(&bootstrap, "bench-kafka");
    println!("{:<44} kafka {:>12.0} records/s", "consume, kcat over Kafka's protocol", rate(kafka));
    if let Some(tansu) = &tansu {
        let baseline = kcat.consume(&tansu.bootstrap, "bench-kafka");
        tansu_row("consume, kcat over Kafka's protocol", rate(baseline), rate(kafka));
    }
    // kcat spends about as much CPU as either broker, so its rates say little about the brokers;
    // the same pre-encoded requests, pipelined, keep the broker the bottleneck.
    let pipelined = Pipelined::new(acks);
    let name = "produce, pipelined 1 MB requests";
    let topic = "bench-kafka-pipelined";
    let create = Command::CreateTopic {
        name: topic.into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(replication_factor),
    };
    let Reply::TopicCreated { topic: created, .. } = server.request(create) else { panic!("not created") };
    let leader = created.partitions[0].leader.expect("a leader") as usize;
    let kafka = pipelined.produce(&server.listeners[leader], topic);
    println!("{:<44} kafka {:>12.0} records/s", name, pipelined.rate(kafka));
    if let Some(tansu) = &tansu {
        tansu.create_topic(topic);
        let baseline = pipelined.produce(&tansu.bootstrap, topic);
        tansu_row(name, pipelined.rate(baseline), pipelined.rate(kafka));
    }
}

/// Records per request of the pipelined producer: about 1 MB of 100 B records, as kcat's
/// `batch.size=1000000` sends them.
const PIPELINED_BATCH_RECORDS: usize = 8_000;
/// Requests the pipelined producer sends per run.
const PIPELINED_REQUESTS: usize = 100;
/// Requests it keeps in flight, librdkafka's `max.in.flight` for an idempotent producer.
const PIPELINED_IN_FLIGHT: usize = 5;
/// The Produce version it speaks (flexible; every broker here serves it).
const PIPELINED_PRODUCE_VERSION: i16 = 9;

/// A producer that spends next to no CPU of its own: the same ProduceRequest (one RecordBatch of
/// `PIPELINED_BATCH_RECORDS` records to partition 0), encoded once, sent `PIPELINED_REQUESTS`
/// times with `PIPELINED_IN_FLIGHT` in flight; every response read and checked.
struct Pipelined {
    acks: i16,
    batch: bytes::Bytes,
}

impl Pipelined {
    fn new(acks: &str) -> Pipelined {
        let batch = batch_of(0, PIPELINED_BATCH_RECORDS);
        Pipelined { acks: if acks == "all" { -1 } else { 1 }, batch: batch.into() }
    }

    fn rate(&self, took: Duration) -> f64 {
        (PIPELINED_REQUESTS * PIPELINED_BATCH_RECORDS) as f64 / took.as_secs_f64()
    }

    /// The run against `bootstrap` (its partition 0 of `topic` led by that broker), timed from
    /// the first byte sent to the last response read.
    fn produce(&self, bootstrap: &str, topic: &str) -> Duration {
        use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
        use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse, RequestHeader, TopicName};
        use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
        use std::io::{Read, Write};
        let version = PIPELINED_PRODUCE_VERSION;
        let request =
            ProduceRequest::default().with_acks(self.acks).with_timeout_ms(30_000).with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partition_data(vec![
                        PartitionProduceData::default().with_index(0).with_records(Some(self.batch.clone())),
                    ]),
            ]);
        let frame = |correlation_id: i32| {
            let header = RequestHeader::default()
                .with_request_api_key(ApiKey::Produce as i16)
                .with_request_api_version(version)
                .with_correlation_id(correlation_id)
                .with_client_id(Some(StrBytes::from_static_str("kite-bench")));
            let mut out = bytes::BytesMut::new();
            out.extend_from_slice(&[0; 4]);
            header.encode(&mut out, ProduceRequest::header_version(version)).unwrap();
            request.encode(&mut out, version).unwrap();
            let size = (out.len() - 4) as i32;
            out[..4].copy_from_slice(&size.to_be_bytes());
            out.freeze()
        };
        let frames: Vec<bytes::Bytes> = (0..PIPELINED_REQUESTS as i32).map(frame).collect();
        let mut socket = std::net::TcpStream::connect(bootstrap).unwrap();
        socket.set_nodelay(true).unwrap();
        let started = Instant::now();
        let (mut sent, mut answered) = (0, 0);
        while answered < PIPELINED_REQUESTS {
            while sent < PIPELINED_REQUESTS && sent - answered < PIPELINED_IN_FLIGHT {
                socket.write_all(&frames[sent]).unwrap();
                sent += 1;
            }
            let mut size = [0; 4];
            socket.read_exact(&mut size).unwrap();
            let mut response = vec![0; i32::from_be_bytes(size) as usize];
            socket.read_exact(&mut response).unwrap();
            let mut body = bytes::Bytes::from(response);
            let header_version = ProduceResponse::header_version(version);
            kafka_protocol::messages::ResponseHeader::decode(&mut body, header_version).unwrap();
            let answer = ProduceResponse::decode(&mut body, version).unwrap();
            let code = answer.responses[0].partition_responses[0].error_code;
            assert_eq!(code, 0, "produce {answered} to {bootstrap} answered error {code}");
            answered += 1;
        }
        started.elapsed()
    }
}

/// The Tansu baseline's row: its rate, and Kite's as a multiple of it (issue 20's target: ≥ 1.5×).
fn tansu_row(name: &str, tansu: f64, kite: f64) {
    println!("{:<44} tansu {:>12.0} records/s   kite/tansu {:>5.2}×", name, tansu, kite / tansu);
}

/// kcat runs of one setup: the same input file, record count and acks for every broker.
struct Kcat<'a> {
    kcat: &'a str,
    input: &'a std::path::Path,
    records: usize,
    acks: &'a str,
}

impl Kcat<'_> {
    /// Produces the input file to partition 0 of `topic`, timed from start to exit.
    fn produce(&self, bootstrap: &str, topic: &str, idempotent: bool) -> Duration {
        let started = Instant::now();
        let produced = Process::new(self.kcat)
            .args(["-b", bootstrap, "-P", "-t", topic, "-p", "0", "-K:", "-l"])
            .arg(self.input)
            .args(["-X", &format!("acks={}", self.acks), "-X", "linger.ms=5", "-X", "batch.size=1000000"])
            .args(["-X", "queue.buffering.max.messages=1000000"])
            .args(["-X", &format!("enable.idempotence={idempotent}")])
            .status()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(produced.success(), "kcat -P to {bootstrap} failed");
        elapsed
    }

    /// Reads every record of partition 0 of `topic` from the start, timed from start to exit.
    fn consume(&self, bootstrap: &str, topic: &str) -> Duration {
        let started = Instant::now();
        let consumed = Process::new(self.kcat)
            .args(["-b", bootstrap, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q"])
            .args(["-c", &self.records.to_string(), "-f", "%o\n"])
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let read = String::from_utf8_lossy(&consumed.stdout).lines().count();
        assert_eq!(read, self.records, "kcat read every record from {bootstrap}");
        elapsed
    }
}

/// How long Tansu may take to accept connections after it starts.
const TANSU_START_TIMEOUT_MS: u64 = 10_000;

/// A Tansu broker on a free loopback port, memory storage; stopped when dropped.
struct Tansu {
    child: Child,
    binary: String,
    bootstrap: String,
}

impl Tansu {
    /// `TANSU`'s broker, or `None` (said so) without it.
    fn start() -> Option<Tansu> {
        let Ok(binary) = std::env::var("TANSU") else {
            println!("tansu: skipped, TANSU not set (`cargo xtask bench` downloads it)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Process::new(&binary)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let tansu = Tansu { child, binary, bootstrap: format!("127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_millis(TANSU_START_TIMEOUT_MS);
        while std::net::TcpStream::connect(&tansu.bootstrap).is_err() {
            assert!(Instant::now() < deadline, "tansu accepts connections on {}", tansu.bootstrap);
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(tansu)
    }

    /// A one-partition topic, as the Kite side's.
    fn create_topic(&self, name: &str) {
        let created = Process::new(&self.binary)
            .args(["topic", "create", "--broker", &format!("tcp://{}", self.bootstrap), "--partitions", "1"])
            .arg(name)
            .status()
            .unwrap();
        assert!(created.success(), "tansu topic create {name}");
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn suite(setup: &Setup) {
    let acks = setup.acks;
    let data = std::env::temp_dir().join(format!("kite-bench-ws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = Server::start(&data, setup.brokers);
    let mut engine = if setup.brokers == 1 {
        Cluster::new(1)
    } else {
        Cluster::replicated_in_memory(1, setup.brokers, NOW_MS)
    };
    let create = || create(setup.replication_factor);
    assert!(matches!(server.request(create()), Reply::TopicCreated { .. }));
    assert!(matches!(engine.handle(NOW_MS, create()), Reply::TopicCreated { .. }));

    let started = Instant::now();
    for i in 0..REQUESTS {
        assert!(matches!(server.request(produce(acks, i)), Reply::Produced { .. }));
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for i in 0..REQUESTS {
        assert!(matches!(engine.handle(NOW_MS, produce(acks, i)), Reply::Produced { .. }));
    }
    let in_process = started.elapsed();
    report("produce, one 100 B record per request", REQUESTS, "records", websocket, in_process);

    let batches = 10 * REQUESTS / BATCH_RECORDS;
    let started = Instant::now();
    for b in 0..batches {
        assert!(matches!(
            server.request(produce_batch(acks, b * BATCH_RECORDS)),
            Reply::ProducedBatch { .. }
        ));
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for b in 0..batches {
        assert!(matches!(
            engine.handle(NOW_MS, produce_batch(acks, b * BATCH_RECORDS)),
            Reply::ProducedBatch { .. }
        ));
    }
    let in_process = started.elapsed();
    report(
        "produce_batch, 1000 records of 100 B each",
        batches * BATCH_RECORDS,
        "records",
        websocket,
        in_process,
    );

    // The same records as Kafka record batches in binary frames: the engine decodes, places and
    // appends them; no JSON for the data.
    let batches_bytes: Vec<Vec<u8>> = (0..batches).map(|b| records_batch(b * BATCH_RECORDS)).collect();
    let started = Instant::now();
    for payload in &batches_bytes {
        let reply = server.request_binary(produce_records(acks, Vec::new()), payload);
        assert!(matches!(reply, Reply::ProducedRecords { .. }), "{reply:?}");
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for payload in &batches_bytes {
        assert!(matches!(
            engine.handle(NOW_MS, produce_records(acks, payload.clone())),
            Reply::ProducedRecords { .. }
        ));
    }
    let in_process = started.elapsed();
    report(
        "produce_records (binary), 1000 × 100 B",
        batches * BATCH_RECORDS,
        "records",
        websocket,
        in_process,
    );
    let how = (acks, setup.replication_factor);
    kafka_clients(&mut server, &data, batches * BATCH_RECORDS, how, (websocket, in_process));

    let fetches = REQUESTS / FETCH_RECORDS as usize;
    let started = Instant::now();
    for f in 0..fetches {
        assert!(matches!(server.request(fetch(f as i64 * i64::from(FETCH_RECORDS))), Reply::Records { .. }));
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for f in 0..fetches {
        assert!(matches!(
            engine.handle(NOW_MS, fetch(f as i64 * i64::from(FETCH_RECORDS))),
            Reply::Records { .. }
        ));
    }
    let in_process = started.elapsed();
    report("fetch, 1000 records per request", REQUESTS, "records", websocket, in_process);

    // fetch_records: stored batches in a binary frame, decoded here as a client would.
    let total = 10 * REQUESTS;
    // Each side fetches from `offset` and decodes what came: (next offset, records).
    let drain = |fetch_one: &mut dyn FnMut(i64) -> (i64, usize)| {
        let (mut next, mut read) = (0, 0);
        while read < total {
            let (after, count) = fetch_one(next);
            assert!(count > 0, "progress at {next}");
            next = after;
            read += count;
        }
    };
    let started = Instant::now();
    // As a client that avoids copies would: the batches are decoded where they lie in the frame.
    drain(&mut |offset| {
        let frame = server.request_raw(fetch_records(offset));
        let (header, payload) = decode_binary_frame(&frame).expect("a binary frame");
        assert!(header.contains(r#""type":"record_batches""#), "{header}");
        decode_batches(payload, offset)
    });
    let websocket = started.elapsed();
    let started = Instant::now();
    drain(&mut |offset| match engine.handle(NOW_MS, fetch_records(offset)) {
        Reply::RecordBatches { payload, .. } => decode_batches(&payload, offset),
        other => panic!("{other:?}"),
    });
    let in_process = started.elapsed();
    report("fetch_records (binary), decoded by the client", total, "records", websocket, in_process);

    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    let mut local = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        server.request(produce(acks, i));
        samples.push(started.elapsed());
        let started = Instant::now();
        engine.handle(NOW_MS, produce(acks, i));
        local.push(started.elapsed());
    }
    samples.sort_unstable();
    local.sort_unstable();
    println!(
        "{:<44} websocket p50 {:>8.1?} p99 {:>8.1?}   in-process p50 {:>8.1?} p99 {:>8.1?}",
        "single-record produce latency",
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        percentile(&local, 0.50),
        percentile(&local, 0.99)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
