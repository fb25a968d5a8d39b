//! The websocket API's speed against a real `kite serve` (release build, loopback, `--data-dir`
//! on the temp disk), each beside the same requests answered in-process by the engine (a
//! `Cluster` with disk-free memory storage) in the same run: single-record produce throughput
//! (one request per record, 100-byte values), `produce_batch` of 1000 records per request, fetch
//! of 1000 records per request, and single-record produce latency p50/p99.
//! `cargo xtask bench` runs it.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use kite_shared::api::{
    BatchedRecord, ClientMessage, Command, Reply, ServerMessage, decode_server_message, encode,
};
use kite_shared::cluster::Cluster;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::serializer::SerializerKind;

const VALUE_BYTES: usize = 100;
/// Requests per throughput measurement.
const REQUESTS: usize = 20_000;
/// Round trips for the latency percentiles.
const LATENCY_SAMPLES: usize = 10_000;
/// Records per fetch request.
const FETCH_RECORDS: u32 = 1_000;
const NOW_MS: i64 = 1_700_000_000_000;

fn produce(i: usize) -> Command {
    Command::Produce {
        topic: "bench".into(),
        partition: Some(0),
        key: Some(format!("key-{i:06}")),
        value: Some("v".repeat(VALUE_BYTES)),
        timestamp_ms: Some(NOW_MS),
        partitioner: PartitionerKind::Default,
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        headers: Vec::new(),
    }
}

/// Records per `produce_batch` request.
const BATCH_RECORDS: usize = 1_000;

fn produce_batch(first: usize) -> Command {
    Command::ProduceBatch {
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
    }
}

fn fetch(offset: i64) -> Command {
    Command::Fetch {
        topic: "bench".into(),
        partition: 0,
        offset,
        max_records: FETCH_RECORDS,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
    }
}

fn create() -> Command {
    Command::CreateTopic {
        name: "bench".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: None,
    }
}

struct Server {
    child: Child,
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
}

impl Server {
    fn start(data_dir: &std::path::Path) -> Server {
        let mut child = Process::new(env!("CARGO_BIN_EXE_kite"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-level",
                "error",
                "--ui-dir",
                "/nonexistent",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("kite serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .strip_prefix("Kite is serving on http://")
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let (mut socket, _) = tungstenite::client::client(format!("ws://{addr}/ws"), stream).unwrap();
        let _welcome = socket.read().unwrap();
        Server { child, socket, next_id: 1 }
    }

    fn request(&mut self, command: Command) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        self.socket.send(tungstenite::Message::text(encode(&ClientMessage { id, command }))).unwrap();
        loop {
            if let tungstenite::Message::Text(text) = self.socket.read().unwrap() {
                match decode_server_message(&text).unwrap() {
                    ServerMessage::Reply { reply, .. } => return reply,
                    other => panic!("{other:?}"),
                }
            }
        }
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
    let data = std::env::temp_dir().join(format!("kite-bench-ws-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = Server::start(&data);
    let mut engine = Cluster::new(1);
    assert!(matches!(server.request(create()), Reply::TopicCreated { .. }));
    assert!(matches!(engine.handle(NOW_MS, create()), Reply::TopicCreated { .. }));

    let started = Instant::now();
    for i in 0..REQUESTS {
        assert!(matches!(server.request(produce(i)), Reply::Produced { .. }));
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for i in 0..REQUESTS {
        assert!(matches!(engine.handle(NOW_MS, produce(i)), Reply::Produced { .. }));
    }
    let in_process = started.elapsed();
    report("produce, one 100 B record per request", REQUESTS, "records", websocket, in_process);

    let batches = 10 * REQUESTS / BATCH_RECORDS;
    let started = Instant::now();
    for b in 0..batches {
        assert!(matches!(server.request(produce_batch(b * BATCH_RECORDS)), Reply::ProducedBatch { .. }));
    }
    let websocket = started.elapsed();
    let started = Instant::now();
    for b in 0..batches {
        assert!(matches!(
            engine.handle(NOW_MS, produce_batch(b * BATCH_RECORDS)),
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

    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    let mut local = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        server.request(produce(i));
        samples.push(started.elapsed());
        let started = Instant::now();
        engine.handle(NOW_MS, produce(i));
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
