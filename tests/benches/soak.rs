//! Load and soak against a release `kite serve` (`cargo xtask soak`; figures in
//! docs/benchmarks.md). Three measurements, each with its baseline beside it:
//!
//! 1. **Soak**: `KITE_SOAK_CLIENTS` websocket clients (default 200) for a warm-up of six minutes
//!    and then `KITE_SOAK_MINUTES` more (default 10) — a quarter producing batches with acks=all,
//!    a quarter tailing partitions, a quarter consuming in groups and committing, a quarter reading
//!    (metrics, the cluster, fetches) — while the server's resident memory and open file
//!    descriptors are sampled. Target: memory after the warm-up stays within 10 % of the figure at
//!    its end (the baseline). The warm-up lasts until the first retention pass: before it the logs
//!    only grow.
//! 2. **A wide create**: another client's `get_metrics` round trips while a 1,000-partition
//!    topic at RF 3 is created — from the request until its last partition takes a record (the
//!    server answers the creation once the controller has it and makes the replica logs a slice
//!    per turn) — beside the same round trips with nothing else going on.
//! 3. **SIGTERM**: how long the server takes to exit on SIGTERM with every soak client still
//!    busy, and with its log directory on a full disk (a small tmpfs: produces fail with
//!    KAFKA_STORAGE_ERROR) — target within 5 s — beside an idle server's exit.

use std::path::Path;
use std::process::Command as Process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kite_backend::client::ApiClient;
use kite_e2e::{KiteServer, TempDir};
use kite_shared::api::{BatchedRecord, Command, HostCommand, Push, Reply};

/// How long the soak runs unless `KITE_SOAK_MINUTES` says otherwise.
const DEFAULT_SOAK_MINUTES: u64 = 10;
/// How many clients the soak runs unless `KITE_SOAK_CLIENTS` says otherwise.
const DEFAULT_SOAK_CLIENTS: usize = 200;
/// The soak topic's partitions (RF 3 over the default three brokers).
const SOAK_PARTITIONS: i32 = 6;
/// Per-partition retention, so ten minutes of producing reach a steady state on disk.
const SOAK_RETENTION_BYTES: &str = "33554432";
/// Segment size, so retention has whole segments to delete.
const SOAK_SEGMENT_BYTES: &str = "8388608";
/// Records per `produce_batch` of a producing client.
const PRODUCE_BATCH_RECORDS: usize = 100;
/// Each record's value size: the benchmarks' usual 100 B.
const VALUE_BYTES: usize = 100;
/// A producing client's pause between batches (so 50 producers make a steady, not a maximal, load).
const PRODUCE_PAUSE_MS: u64 = 200;
/// ListOffsets' timestamp for the earliest offset (Kafka's `-2`).
const EARLIEST_TIMESTAMP: i64 = -2;
/// A reading client's pause between requests.
const READ_PAUSE_MS: u64 = 100;
/// Records a consuming client asks for per poll.
const POLL_RECORDS: u32 = 500;
/// Groups the consuming clients are spread over.
const CONSUMER_GROUPS: usize = 10;
/// How often the server's memory and descriptors are sampled.
const SAMPLE_INTERVAL_MS: u64 = 5_000;
/// The warm-up before the soak is measured: Kafka's `log.retention.check.interval.ms` default
/// (`RETENTION_CHECK_INTERVAL_MS` in the engine, 300 s) and a minute more, so the first
/// retention pass falls inside it.
const WARM_UP_SECS: u64 = 360;
/// The target: memory after the warm-up stays within this much of the warm-up's figure.
const RSS_FLAT_PERCENT: f64 = 10.0;
/// Partitions of the wide topic created while `get_metrics` is timed.
const WIDE_PARTITIONS: i32 = 1_000;
/// The pause between the creating client's tries at the wide topic's last partition.
const WIDE_RETRY_PAUSE_MS: u64 = 10;
/// The pause between timed `get_metrics` round trips.
const METRICS_PAUSE_MS: u64 = 10;
/// How long the idle `get_metrics` baseline samples.
const METRICS_BASELINE_MS: u64 = 5_000;
/// The full disk's size for the SIGTERM-under-storage-faults run.
const FULL_DISK_MEGABYTES: u64 = 48;
/// The target for an exit after SIGTERM.
const SHUTDOWN_TARGET_MS: u128 = 5_000;
/// How long to wait for an exit after SIGTERM before calling it hung.
const SHUTDOWN_GIVE_UP: Duration = Duration::from_secs(60);

fn main() {
    let minutes = env_number("KITE_SOAK_MINUTES", DEFAULT_SOAK_MINUTES);
    let clients = env_number("KITE_SOAK_CLIENTS", DEFAULT_SOAK_CLIENTS as u64) as usize;
    if minutes > 0 {
        println!(
            "soak: {clients} clients for {WARM_UP_SECS} s of warm-up and {minutes} min more against a release kite serve (3 brokers)"
        );
        soak(clients, Duration::from_secs(WARM_UP_SECS + minutes * 60));
    }
    wide_create();
    full_disk_shutdown();
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What each role of client did, summed over the clients of that role.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    records: AtomicU64,
    errors: AtomicU64,
}

/// Errors printed per role; the rest are only counted.
const ERRORS_SHOWN: u64 = 3;

const ROLES: [&str; 4] = ["producers", "tailers", "consumers", "readers"];

fn soak(clients: usize, length: Duration) {
    let data = TempDir::new("soak");
    let mut server = KiteServer::start(data.path());
    let mut admin = ApiClient::connect(&server.ws_url()).expect("connect");
    let created = admin.request(Command::CreateTopic {
        name: "soak".into(),
        partitions: SOAK_PARTITIONS,
        configs: [("retention.bytes", SOAK_RETENTION_BYTES), ("segment.bytes", SOAK_SEGMENT_BYTES)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        replication_factor: Some(3),
    });
    assert!(matches!(created, Ok(Reply::TopicCreated { .. })), "{created:?}");

    // `ending`: the server is being stopped, so a client's failure from here on is expected.
    let (stop, ending) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let tallies: Arc<[Tally; 4]> = Arc::new(Default::default());
    let url = server.ws_url();
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (url, stop, ending, tallies) = (url.clone(), stop.clone(), ending.clone(), tallies.clone());
            std::thread::spawn(move || run_client(i, &url, &stop, &ending, &tallies[i % ROLES.len()]))
        })
        .collect();

    let samples = sample_while(server.pid(), length);
    report_soak(&samples, length, &tallies);
    report_disk(data.path());
    ending.store(true, Ordering::Relaxed);
    let busy_exit = terminate_timed(&mut server);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    let idle_exit = idle_shutdown();
    println!(
        "shutdown after SIGTERM: {busy_exit} ms with {clients} clients busy (idle server, the baseline: {idle_exit} ms; target ≤ {SHUTDOWN_TARGET_MS} ms)"
    );
}

/// One soak client: connects, then does its role's work until `stop` (or the server goes).
fn run_client(i: usize, url: &str, stop: &AtomicBool, ending: &AtomicBool, tally: &Tally) {
    let Ok(mut client) = ApiClient::connect(url) else {
        tally.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let result = match i % ROLES.len() {
        0 => produce_loop(i, &mut client, stop, tally),
        1 => tail_loop(i, &mut client, stop, tally),
        2 => consume_loop(i, &mut client, stop, tally),
        _ => read_loop(i, &mut client, stop, tally),
    };
    if let Err(error) = result
        && !ending.load(Ordering::Relaxed)
    {
        tally.errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("soak client {i}: {error}");
    }
}

fn count(tally: &Tally, reply: &Reply, records: usize) {
    tally.requests.fetch_add(1, Ordering::Relaxed);
    if let Reply::Error(error) = reply {
        // The first few are shown: what went wrong matters more than how often.
        if tally.errors.fetch_add(1, Ordering::Relaxed) < ERRORS_SHOWN {
            eprintln!("soak: {error:?}");
        }
    } else {
        tally.records.fetch_add(records as u64, Ordering::Relaxed);
    }
}

fn produce_loop(i: usize, client: &mut ApiClient, stop: &AtomicBool, tally: &Tally) -> Result<(), String> {
    let value = "v".repeat(VALUE_BYTES);
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let records = (0..PRODUCE_BATCH_RECORDS)
            .map(|k| BatchedRecord {
                key: Some(format!("client-{i}-{}", n + k)),
                value: Some(value.clone()),
                timestamp_ms: None,
                headers: Vec::new(),
            })
            .collect();
        n += PRODUCE_BATCH_RECORDS;
        let reply = client.request(Command::ProduceBatch {
            topic: "soak".into(),
            partition: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            records,
            acks: Default::default(),
            answer_per_partition: false,
        })?;
        count(tally, &reply, PRODUCE_BATCH_RECORDS);
        std::thread::sleep(Duration::from_millis(PRODUCE_PAUSE_MS));
    }
    Ok(())
}

fn tail_loop(i: usize, client: &mut ApiClient, stop: &AtomicBool, tally: &Tally) -> Result<(), String> {
    let partition = (i / ROLES.len()) as i32 % SOAK_PARTITIONS;
    let reply = client.request(HostCommand::Tail {
        topic: "soak".into(),
        partition,
        offset: None,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
    })?;
    count(tally, &reply, 0);
    while !stop.load(Ordering::Relaxed) {
        if let Some((_, Push::Records { records, .. })) = client.next_push(Some(Duration::from_secs(1)))? {
            tally.records.fetch_add(records.len() as u64, Ordering::Relaxed);
        }
        // Closed, `next_push` answers at once: asking again would spin.
        if client.is_closed() {
            return Err("the server closed the connection".into());
        }
    }
    Ok(())
}

fn consume_loop(i: usize, client: &mut ApiClient, stop: &AtomicBool, tally: &Tally) -> Result<(), String> {
    let opened = client.request(Command::OpenConsumer {
        group: Some(format!("soak-{}", i % CONSUMER_GROUPS)),
        topics: vec!["soak".into()],
        partitions: Vec::new(),
        client_id: Some(format!("soak-consumer-{i}")),
        auto_offset_reset: Some("latest".into()),
        assignors: Vec::new(),
        enable_auto_commit: Some(false),
        session_timeout_ms: None,
        isolation_level: Default::default(),
    })?;
    count(tally, &opened, 0);
    let Reply::ConsumerOpened { consumer } = opened else { return Err(format!("{opened:?}")) };
    while !stop.load(Ordering::Relaxed) {
        let polled = client.request(Command::Poll {
            consumer,
            max_records: Some(POLL_RECORDS),
            key_deserializer: Default::default(),
            value_deserializer: Default::default(),
        })?;
        let got = if let Reply::Polled { records, .. } = &polled { records.len() } else { 0 };
        count(tally, &polled, got);
        count(tally, &client.request(Command::CommitOffsets { consumer })?, 0);
        if got == 0 {
            std::thread::sleep(Duration::from_millis(READ_PAUSE_MS));
        }
    }
    Ok(())
}

/// A reading client: metrics, the cluster, and fetches from each partition's start (which
/// retention moves: a fetch below it is answered OFFSET_OUT_OF_RANGE, then the reader asks for
/// the earliest offset, as a consumer with `auto.offset.reset=earliest` does).
fn read_loop(i: usize, client: &mut ApiClient, stop: &AtomicBool, tally: &Tally) -> Result<(), String> {
    let mut n = i;
    let mut starts = [0i64; SOAK_PARTITIONS as usize];
    while !stop.load(Ordering::Relaxed) {
        let partition = n as i32 % SOAK_PARTITIONS;
        let start = &mut starts[partition as usize];
        let command = match n % 3 {
            0 => Command::GetMetrics,
            1 => Command::DescribeCluster,
            _ => Command::Fetch {
                topic: "soak".into(),
                partition,
                offset: *start,
                max_records: POLL_RECORDS,
                key_deserializer: Default::default(),
                value_deserializer: Default::default(),
                isolation_level: Default::default(),
            },
        };
        let reply = client.request(command)?;
        let records = match &reply {
            Reply::Records { records, log_start_offset, .. } => {
                *start = *log_start_offset;
                records.len()
            }
            Reply::Error(error) if error.error == kite_shared::error::ErrorCode::OffsetOutOfRange => {
                let earliest = client.request(Command::ListOffsets {
                    topic: "soak".into(),
                    partition,
                    timestamp_ms: EARLIEST_TIMESTAMP,
                })?;
                if let Reply::Offsets { offset: Some(offset), .. } = earliest {
                    *start = offset;
                }
                n += 1;
                continue;
            }
            _ => 0,
        };
        count(tally, &reply, records);
        n += 1;
        std::thread::sleep(Duration::from_millis(READ_PAUSE_MS));
    }
    Ok(())
}

/// One look at the server process.
struct Sample {
    secs: u64,
    /// Resident memory, KiB.
    rss_kib: u64,
    /// The resident memory that is anonymous (the heap and thread stacks, not mapped files), KiB.
    anon_kib: u64,
    fds: usize,
    threads: u64,
}

fn sample_while(pid: u32, length: Duration) -> Vec<Sample> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while start.elapsed() < length {
        std::thread::sleep(Duration::from_millis(SAMPLE_INTERVAL_MS));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        samples.push(Sample {
            secs: start.elapsed().as_secs(),
            rss_kib: status_figure(&status, "VmRSS:"),
            anon_kib: status_figure(&status, "RssAnon:"),
            fds: open_fds(pid),
            threads: status_figure(&status, "Threads:"),
        });
    }
    samples
}

/// A figure of `/proc/PID/status` (`VmRSS:` in KiB, `Threads:`, …).
fn status_figure(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|figure| figure.parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|dir| dir.count()).unwrap_or(0)
}

fn report_soak(samples: &[Sample], length: Duration, tallies: &[Tally; 4]) {
    let warm_up_secs = WARM_UP_SECS;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("  t (s)   RSS (MiB)   of it anonymous   fds   threads");
    for s in samples.iter().filter(|s| s.secs % 60 < SAMPLE_INTERVAL_MS / 1000) {
        println!(
            "  {:>5}   {:>9.1}   {:>15.1}   {:>4}   {:>7}",
            s.secs,
            mib(s.rss_kib),
            mib(s.anon_kib),
            s.fds,
            s.threads
        );
    }
    let Some(warm) = samples.iter().find(|s| s.secs >= warm_up_secs) else {
        println!("  (too short for a warm-up figure)");
        return;
    };
    let (warm_secs, warm) = (warm.secs, warm.rss_kib);
    let peak = samples.iter().filter(|s| s.secs > warm_secs).map(|s| s.rss_kib).max().unwrap_or(warm);
    let last = samples.last().map_or(warm, |s| s.rss_kib);
    let growth = (peak as f64 - warm as f64) * 100.0 / warm.max(1) as f64;
    let verdict = if growth <= RSS_FLAT_PERCENT { "met" } else { "not met" };
    println!(
        "RSS: {:.1} MiB after the warm-up ({warm_up_secs} s, the baseline), peak after it {:.1} MiB, last {:.1} MiB: {growth:+.1} % (target within {RSS_FLAT_PERCENT} %: {verdict})",
        mib(warm),
        mib(peak),
        mib(last)
    );
    let most_threads = samples.iter().map(|s| s.threads).max().unwrap_or(0);
    println!("threads: at most {most_threads}");
    let secs = length.as_secs_f64();
    println!("  over the whole run, warm-up included:");
    for (role, tally) in ROLES.iter().zip(tallies) {
        println!(
            "  {role:<9} {:>9} requests ({:>7.0}/s) {:>10} records ({:>8.0}/s) {:>5} errors",
            tally.requests.load(Ordering::Relaxed),
            tally.requests.load(Ordering::Relaxed) as f64 / secs,
            tally.records.load(Ordering::Relaxed),
            tally.records.load(Ordering::Relaxed) as f64 / secs,
            tally.errors.load(Ordering::Relaxed),
        );
    }
}

/// What the soak left on disk, per topic (every broker's replicas summed): retention at work.
fn report_disk(data: &Path) {
    let mut by_topic: std::collections::BTreeMap<String, (u64, usize)> = Default::default();
    for broker in std::fs::read_dir(data).into_iter().flatten().flatten() {
        for partition in std::fs::read_dir(broker.path()).into_iter().flatten().flatten() {
            if !partition.path().is_dir() {
                continue;
            }
            let name = partition.file_name().to_string_lossy().into_owned();
            let Some((topic, _)) = name.rsplit_once('-') else { continue };
            let entry = by_topic.entry(topic.to_string()).or_default();
            for file in std::fs::read_dir(partition.path()).into_iter().flatten().flatten() {
                entry.0 += file.metadata().map_or(0, |m| m.len());
                entry.1 += 1;
            }
        }
    }
    for (topic, (bytes, files)) in by_topic {
        println!("  on disk: {topic:<20} {:>8.1} MiB in {files} files", bytes as f64 / (1024.0 * 1024.0));
    }
}

/// Sends SIGTERM and returns how long the process took to exit, in ms.
fn terminate_timed(server: &mut KiteServer) -> u128 {
    let start = Instant::now();
    let sent = Process::new("kill").arg("-TERM").arg(server.pid().to_string()).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM failed");
    let status = server.wait_exit(SHUTDOWN_GIVE_UP);
    let elapsed = start.elapsed().as_millis();
    assert!(status.is_some(), "kite serve did not exit within {SHUTDOWN_GIVE_UP:?} of SIGTERM");
    elapsed
}

fn idle_shutdown() -> u128 {
    let data = TempDir::new("soak-idle");
    let mut server = KiteServer::start(data.path());
    std::thread::sleep(Duration::from_secs(1));
    terminate_timed(&mut server)
}

/// Round trips of `round_trip`, in µs, one every `METRICS_PAUSE_MS`, until `until` says stop.
fn time_round_trips(until: impl Fn() -> bool, mut round_trip: impl FnMut()) -> Vec<u64> {
    let mut round_trips = Vec::new();
    while !until() {
        let start = Instant::now();
        round_trip();
        round_trips.push(start.elapsed().as_micros() as u64);
        std::thread::sleep(Duration::from_millis(METRICS_PAUSE_MS));
    }
    round_trips
}

/// HTTP GETs of the page, in µs, until `until` says stop.
fn time_page(addr: std::net::SocketAddr, until: impl Fn() -> bool) -> Vec<u64> {
    time_round_trips(until, || {
        let (status, ..) = kite_e2e::http_get(addr, "/");
        assert!(status.contains("200"), "{status}");
    })
}

/// `get_metrics` round trips from one client, in µs, until `until` says stop.
fn time_metrics(client: &mut ApiClient, until: impl Fn() -> bool) -> Vec<u64> {
    time_round_trips(until, || {
        let reply = client.request(Command::GetMetrics).expect("get_metrics");
        assert!(matches!(reply, Reply::Metrics(_)), "{reply:?}");
    })
}

fn percentiles(mut micros: Vec<u64>) -> String {
    micros.sort_unstable();
    let at = |p: usize| micros.get((micros.len() * p / 100).min(micros.len().saturating_sub(1))).copied();
    let ms = |v: Option<u64>| v.map_or("-".into(), |v| format!("{:.1}", v as f64 / 1000.0));
    format!(
        "p50 {} ms, p99 {} ms, max {} ms over {} round trips",
        ms(at(50)),
        ms(at(99)),
        ms(micros.last().copied()),
        micros.len()
    )
}

fn wide_create() {
    let data = TempDir::new("soak-wide");
    let server = KiteServer::start(data.path());
    let mut timed = ApiClient::connect(&server.ws_url()).expect("connect");
    let start = Instant::now();
    let baseline = time_metrics(&mut timed, || start.elapsed() >= Duration::from_millis(METRICS_BASELINE_MS));
    let start = Instant::now();
    let page_baseline =
        time_page(server.addr, || start.elapsed() >= Duration::from_millis(METRICS_BASELINE_MS));

    let done = Arc::new(AtomicBool::new(false));
    let url = server.ws_url();
    let creator = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut client = ApiClient::connect(&url).expect("connect");
            let start = Instant::now();
            let reply = client.request(Command::CreateTopic {
                name: "wide".into(),
                partitions: WIDE_PARTITIONS,
                configs: Default::default(),
                replication_factor: Some(3),
            });
            let answered = start.elapsed().as_millis();
            assert!(matches!(reply, Ok(Reply::TopicCreated { .. })), "{reply:?}");
            // Whole once the last slice is made: its last partition takes a record.
            let last = Command::produce_text("wide", Some(WIDE_PARTITIONS - 1), None, "whole");
            while !matches!(client.request(last.clone()), Ok(Reply::Produced { .. })) {
                std::thread::sleep(Duration::from_millis(WIDE_RETRY_PAUSE_MS));
            }
            done.store(true, Ordering::Relaxed);
            (answered, start.elapsed().as_millis())
        })
    };
    let page = {
        let (done, addr) = (done.clone(), server.addr);
        std::thread::spawn(move || time_page(addr, || done.load(Ordering::Relaxed)))
    };
    let during = time_metrics(&mut timed, || done.load(Ordering::Relaxed));
    let (answered, took) = creator.join().expect("the creating client");
    let page = page.join().expect("the page's client");
    println!(
        "get_metrics from another client, nothing else going on (the baseline): {}",
        percentiles(baseline)
    );
    println!(
        "get_metrics while a {WIDE_PARTITIONS}-partition RF 3 topic is created (answered in {answered} ms, whole in {took} ms): {}",
        percentiles(during)
    );
    println!("GET / from a browser, nothing else going on (the baseline): {}", percentiles(page_baseline));
    println!(
        "GET / while the topic is created and the client above waits for the engine: {}",
        percentiles(page)
    );
}

/// SIGTERM with the log directory on a full disk, producers still trying.
fn full_disk_shutdown() {
    let mount = TempDir::new("soak-full-disk");
    if !mount_tmpfs(mount.path()) {
        println!("shutdown on a full disk: not measured (mounting a tmpfs needs root)");
        return;
    }
    let data = mount.path().join("data");
    let mut server = KiteServer::start(&data);
    let mut client = ApiClient::connect(&server.ws_url()).expect("connect");
    let created = client.request(Command::CreateTopic {
        name: "full".into(),
        partitions: 3,
        configs: Default::default(),
        replication_factor: Some(3),
    });
    assert!(matches!(created, Ok(Reply::TopicCreated { .. })), "{created:?}");
    let value = "v".repeat(VALUE_BYTES * 100);
    let (mut produced, mut refused) = (0u64, String::new());
    while refused.is_empty() {
        match client.request(Command::produce_text("full", None, None, &value)) {
            Ok(Reply::Produced { .. }) => produced += 1,
            Ok(Reply::Error(error)) => refused = format!("{error:?}"),
            other => refused = format!("{other:?}"),
        }
    }
    // A few more produces and a fetch against the broken disk, then SIGTERM.
    for _ in 0..10 {
        let _ = client.request(Command::produce_text("full", None, None, &value));
    }
    let exit = terminate_timed(&mut server);
    println!(
        "shutdown after SIGTERM on a full {FULL_DISK_MEGABYTES} MB disk ({produced} records of 10 KB taken, then {refused}): {exit} ms (target ≤ {SHUTDOWN_TARGET_MS} ms)"
    );
    unmount(mount.path());
}

fn mount_tmpfs(at: &Path) -> bool {
    Process::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={FULL_DISK_MEGABYTES}m"), "tmpfs"])
        .arg(at)
        .status()
        .is_ok_and(|s| s.success())
}

fn unmount(at: &Path) {
    let _ = Process::new("umount").arg(at).status();
}
