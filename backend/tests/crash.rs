//! Crash tests: a child `kite crash-writer --fsync` appends in a loop and is SIGKILLed at a
//! random moment (during recovery, mid-append, mid-roll, mid-fsync); then the log is opened as a
//! restarting broker would and checked: every acknowledged record is there with its value,
//! offsets run from 0 without gaps, every `.log` file parses as RecordBatch v2 with valid CRCs.
//!
//! `KITE_CRASH_CYCLES` sets the number of cycles (default 200, in two halves run side by side on
//! their own logs); the kill times come from a fixed seed (`KITE_CRASH_SEED` to vary them), so a
//! failure replays.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use kite_backend::disk::{DiskBrokerStore, check_partition_dir};
use kite_shared::api::{Command as EngineCommand, Reply};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::random::Rng;
use kite_shared::serializer::SerializerKind;

const DEFAULT_CYCLES: u64 = 200;
const DEFAULT_SEED: u64 = 0x6b69_7465;
/// The longest a child runs before the kill.
const MAX_RUN_BEFORE_KILL_MS: u64 = 30;
/// Bytes in each record's value (the crash writer's default).
const VALUE_BYTES: usize = 100;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Opens the broker as a restart would and returns every record of `crash-0` as (offset, value),
/// with the log end offset; a clean shutdown afterwards if `clean`.
fn reopen_and_read(data_dir: &Path, clean: bool) -> (Vec<(i64, String)>, i64) {
    let store = DiskBrokerStore::open(data_dir, 0).unwrap();
    let options = StorageOptions { flush_every_append: true, max_partition_bytes: usize::MAX };
    let (mut cluster, _) = Cluster::open(1, Box::new(store), options).expect("the log opens after a kill");
    let mut records = Vec::new();
    let mut end;
    loop {
        let fetch = EngineCommand::Fetch {
            topic: "crash".into(),
            partition: 0,
            offset: records.len() as i64,
            max_records: 10_000,
            key_deserializer: SerializerKind::String,
            value_deserializer: SerializerKind::String,
            isolation_level: Default::default(),
        };
        match cluster.handle(0, fetch) {
            Reply::Records { records: page, log_end_offset, .. } => {
                end = log_end_offset;
                if page.is_empty() {
                    break;
                }
                records.extend(page.into_iter().map(|r| (r.offset, r.value.unwrap_or_default())));
            }
            // The first child may die before it creates the topic.
            Reply::Error(e) if records.is_empty() => {
                assert!(e.message.contains("does not host topic"), "{e:?}");
                return (records, 0);
            }
            other => panic!("fetch answered {other:?}"),
        }
    }
    if clean {
        cluster.shutdown().unwrap();
    }
    (records, end)
}

// Half the cycles each: most of a cycle is waiting (a child starting, fsync, the kill's timing),
// so two logs killed side by side take half the time.
#[test]
fn acknowledged_fsynced_records_survive_kill_9_first_half() {
    kill_cycles("first", env_u64("KITE_CRASH_SEED", DEFAULT_SEED));
}

#[test]
fn acknowledged_fsynced_records_survive_kill_9_second_half() {
    kill_cycles("second", env_u64("KITE_CRASH_SEED", DEFAULT_SEED).wrapping_add(1));
}

/// Half of `KITE_CRASH_CYCLES` kill-and-reopen cycles on a log of its own, under `target/`.
fn kill_cycles(half: &str, seed: u64) {
    let cycles = env_u64("KITE_CRASH_CYCLES", DEFAULT_CYCLES) / 2;
    let mut rng = Rng::from_seed(seed);
    let data_dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kite-crash-{half}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut highest_acked: Option<i64> = None;
    let (mut kills_after_open, mut acked_total) = (0, 0);
    for cycle in 0..cycles {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kite"))
            .args(["crash-writer", "--fsync", "--data-dir"])
            .arg(&data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kite runs");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut lines = Vec::new();
        // One kill in five may land anywhere, recovery included; the rest once the log is open.
        if cycle % 5 != 0 {
            let mut first = String::new();
            stdout.read_line(&mut first).expect("the writer talks");
            lines.push(first.trim_end().to_string());
        }
        std::thread::sleep(Duration::from_micros(rng.next_u64() % (MAX_RUN_BEFORE_KILL_MS * 1000)));
        child.kill().expect("SIGKILL");
        lines.extend(stdout.lines().map(|line| line.unwrap()));
        let output = child.wait_with_output().expect("reaped");
        let mut opened = false;
        for line in lines {
            if line == "opened" {
                opened = true;
            } else if let Some(offset) = line.strip_prefix("acked ") {
                let offset: i64 = offset.parse().unwrap();
                highest_acked = highest_acked.max(Some(offset));
                acked_total += 1;
            }
        }
        kills_after_open += u64::from(opened);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("crash-writer:"), "cycle {cycle}: the writer failed: {stderr}");

        // Every few cycles the "restart" is followed by a clean shutdown, so the next child opens
        // from index files instead of recovering.
        let (records, end) = reopen_and_read(&data_dir, cycle % 10 == 9);
        for (i, (offset, value)) in records.iter().enumerate() {
            assert_eq!(*offset, i as i64, "cycle {cycle}: offsets run from 0 without gaps");
            assert_eq!(value, &format!("{offset:0VALUE_BYTES$}"), "cycle {cycle}: record {offset}");
        }
        assert_eq!(end, records.len() as i64, "cycle {cycle}: every offset below the end is served");
        if let Some(acked) = highest_acked {
            assert!(end > acked, "cycle {cycle}: offset {acked} was acknowledged, but the log ends at {end}");
        }
        let partition_dir = data_dir.join("broker-0").join("crash-0");
        if partition_dir.exists() {
            let summary =
                check_partition_dir(&partition_dir).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
            assert_eq!(summary.end_offset, end, "cycle {cycle}");
        }
    }
    eprintln!(
        "{cycles} kill -9 cycles: {kills_after_open} killed after opening, {acked_total} appends acknowledged, log end {}",
        highest_acked.map_or(0, |a| a + 1)
    );
    assert!(kills_after_open > cycles / 2, "most kills should land while appending");
    assert!(acked_total > 0);
    let _ = std::fs::remove_dir_all(&data_dir);
}
