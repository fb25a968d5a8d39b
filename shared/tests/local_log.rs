//! Partition-log scenarios: a fixture of operations in, the log's state after each out, compared
//! with a snapshot beside the fixture (`UPDATE_EXPECT=1` rewrites them). Operations:
//!
//! - `config NAME=VALUE ...`: topic configs for the log (before any append).
//! - `append COUNT x BYTES at TIMESTAMP epoch EPOCH`: a producer batch of COUNT records with
//!   BYTES-byte values, record i stamped TIMESTAMP + i.
//! - `append-keyed KEY=VALUE,KEY=null,... at TIMESTAMP epoch EPOCH`: one batch of those records
//!   (`null` is a tombstone; `-` as a key is a null key).
//! - `read OFFSET max BYTES`, `find-ts TIMESTAMP` (ListOffsets by time), `find-max-ts`
//!   (ListOffsets' MAX_TIMESTAMP), `truncate OFFSET`, `delete-records OFFSET`,
//!   `retention now TIMESTAMP`, `clean now TIMESTAMP` (compaction), `records` (every record, decoded).
//! - Storage (the log lives in a journaled memory store whose journal is "the disk"): `flush`,
//!   `checkpoint` (remember recovery point and log start, as the broker's checkpoint files do),
//!   `files` (the directory listing with sizes), `restart` (clean close, then open), `crash`
//!   (open again from whatever was written, from the remembered checkpoint), optionally followed
//!   by `tear BYTES` (cut the last `.log`), `flip BYTE in BASE` or `zero FROM to TO in BASE`
//!   (corrupt a segment: a rotten byte, a lost sector) first.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use kite_shared::config::TopicConfig;
use kite_shared::log::local_log::{LocalLog, LogConfig, OpenCheckpoints, OpenReport};
use kite_shared::log::segment::file_name;
use kite_shared::log::storage::{FileMap, Journal, MemoryPartitionStore, apply_ops};
use kite_shared::record::batch::{BatchHeader, BatchRecord, RecordBatch};

mod common;
use common::producer_batch;

fn keyed_batch(pairs: &str, timestamp: i64) -> Vec<u8> {
    let records = pairs
        .split(',')
        .enumerate()
        .map(|(i, pair)| {
            let (key, value) = pair.split_once('=').expect("KEY=VALUE");
            BatchRecord {
                timestamp_delta: i as i64,
                offset_delta: i as i32,
                key: (key != "-").then(|| key.as_bytes().to_vec()),
                value: (value != "null").then(|| value.as_bytes().to_vec()),
                headers: vec![],
            }
        })
        .collect();
    RecordBatch::new(timestamp, records).encode().unwrap()
}

/// Every record from the log start: (offset, key, value), read batch by batch as a consumer would.
fn walk(log: &LocalLog) -> Vec<(i64, Option<String>, Option<String>)> {
    let text = |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let bytes = log.read(offset, usize::MAX).unwrap();
        let mut at = 0;
        while at < bytes.len() {
            let (batch, used) = RecordBatch::decode(&bytes[at..]).unwrap();
            at += used;
            for r in &batch.records {
                out.push((batch.base_offset + i64::from(r.offset_delta), text(&r.key), text(&r.value)));
            }
            offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
        }
    }
    out
}

/// Every record from the log start, as `offset:key=value`.
fn records(log: &LocalLog) -> String {
    let null = |t: &Option<String>| t.clone().unwrap_or_else(|| "null".to_string());
    walk(log).iter().map(|(o, k, v)| format!("{o}:{}={}", null(k), null(v))).collect::<Vec<_>>().join(" ")
}

fn state(log: &LocalLog) -> String {
    let segments: Vec<String> = log
        .segments()
        .map(|s| format!("{}..{} {}B", s.base_offset(), s.next_offset(), s.size_bytes()))
        .collect();
    format!(
        "  log start {}, LEO {}, segments [{}], epochs {:?}",
        log.log_start_offset(),
        log.log_end_offset(),
        segments.join(", "),
        log.leader_epochs().entries()
    )
}

/// The partition directory "p" as the disk holds it, journaling further changes.
fn store(journal: &Journal, disk: &FileMap) -> Box<MemoryPartitionStore> {
    let files = disk.iter().map(|((_, f), b)| (f.clone(), b.clone())).collect();
    Box::new(MemoryPartitionStore::with_files("p", files, Some(journal.clone())))
}

fn open(
    config: LogConfig,
    journal: &Journal,
    disk: &mut FileMap,
    saved: OpenCheckpoints,
) -> (LocalLog, OpenReport) {
    LocalLog::open(config, store(journal, disk), saved).unwrap()
}

fn describe_report(report: &OpenReport) -> String {
    let mut out = format!(
        "opened {} segments, recovered {}, scanned {}B, truncated {}B",
        report.segments, report.recovered_segments, report.scanned_bytes, report.truncated_bytes
    );
    if let Some(stop) = &report.stopped_by {
        write!(out, " ({stop})").unwrap();
    }
    if !report.deleted_segments.is_empty() {
        write!(out, ", deleted segments {:?}", report.deleted_segments).unwrap();
    }
    if report.rebuilt_indexes > 0 {
        write!(out, ", rebuilt indexes of {}", report.rebuilt_indexes).unwrap();
    }
    if !report.cleaned_up_files.is_empty() {
        write!(out, ", cleaned up {:?}", report.cleaned_up_files).unwrap();
    }
    out
}

fn num<T: std::str::FromStr>(word: Option<&str>, line: &str) -> T {
    word.and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("bad number in {line:?}"))
}

fn run(fixture: &str) -> String {
    let mut overrides = BTreeMap::new();
    let mut log: Option<LocalLog> = None;
    let mut trace = String::new();
    let journal = Journal::default();
    let mut disk = FileMap::new();
    let mut saved = OpenCheckpoints::default();
    for line in fixture.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let op = words.next().unwrap();
        if op == "config" {
            for pair in words {
                let (k, v) = pair.split_once('=').unwrap();
                overrides.insert(k.to_string(), v.to_string());
            }
            writeln!(trace, "> {line}").unwrap();
            continue;
        }
        let config = LogConfig::from(&TopicConfig::from_overrides(&overrides).expect("valid configs"));
        let log = log.get_or_insert_with(|| open(config.clone(), &journal, &mut disk, saved).0);
        let result = match op {
            "flush" => format!("{:?}, recovery point {}", log.flush(), log.recovery_point()),
            "checkpoint" => {
                saved.recovery_point = Some(log.recovery_point());
                saved.log_start_offset = Some(log.log_start_offset());
                format!("recovery point {}, log start {}", log.recovery_point(), log.log_start_offset())
            }
            "files" => {
                apply_ops(&mut disk, journal.lock().unwrap().drain(..));
                let names: Vec<String> = disk.iter().map(|((_, f), b)| format!("{f} {}B", b.len())).collect();
                names.join(", ")
            }
            "restart" | "crash" => {
                // A log that refuses to close (offline after a failure) is not closed cleanly:
                // it opens again as after a crash.
                let mut refused = String::new();
                let clean = op == "restart"
                    && match log.close() {
                        Ok(()) => true,
                        Err(e) => {
                            refused = format!("close refused ({e}), so reopened as after a crash; ");
                            false
                        }
                    };
                if clean {
                    saved.recovery_point = Some(log.recovery_point());
                    saved.log_start_offset = Some(log.log_start_offset());
                }
                apply_ops(&mut disk, journal.lock().unwrap().drain(..));
                let segment = |base: &str| ("p".to_string(), file_name(num(Some(base), line), ".log"));
                match words.by_ref().collect::<Vec<_>>()[..] {
                    ["tear", bytes] => {
                        let last = disk.keys().rfind(|(_, f)| f.ends_with(".log")).unwrap().clone();
                        let file = disk.get_mut(&last).unwrap();
                        file.truncate(file.len() - num::<usize>(Some(bytes), line));
                    }
                    ["flip", at, "in", base] => {
                        disk.get_mut(&segment(base)).unwrap()[num::<usize>(Some(at), line)] ^= 0x40;
                    }
                    ["zero", from, "to", to, "in", base] => {
                        let file = disk.get_mut(&segment(base)).unwrap();
                        file[num(Some(from), line)..num(Some(to), line)].fill(0);
                    }
                    [] => {}
                    _ => panic!("bad {op} in {line:?}"),
                }
                let checkpoints = OpenCheckpoints { clean_shutdown: clean, ..saved };
                let (reopened, report) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    LocalLog::open(config.clone(), store(&journal, &disk), checkpoints)
                })) {
                    Ok(Ok(opened)) => opened,
                    Ok(Err(e)) => {
                        writeln!(trace, "> {line}\n< {refused}error {e}").unwrap();
                        continue;
                    }
                    Err(_) => panic!("opening panicked"),
                };
                *log = reopened;
                format!("{refused}{}", describe_report(&report))
            }
            "append" => {
                let count: usize = num(words.next(), line);
                words.next(); // x
                let bytes: usize = num(words.next(), line);
                words.next(); // at
                let ts: i64 = num(words.next(), line);
                words.next(); // epoch
                let epoch: i32 = num(words.next(), line);
                match log.append_as_leader(&producer_batch(count, bytes, ts), epoch, ts + 1_000) {
                    Ok(info) => format!(
                        "offsets {}..={} max timestamp {}{}",
                        info.first_offset,
                        info.last_offset,
                        info.max_timestamp,
                        if info.rolled { ", rolled" } else { "" }
                    ),
                    Err(e) => format!("error {e:?}"),
                }
            }
            "append-keyed" => {
                let pairs = words.next().expect("pairs");
                words.next(); // at
                let ts: i64 = num(words.next(), line);
                words.next(); // epoch
                let epoch: i32 = num(words.next(), line);
                match log.append_as_leader(&keyed_batch(pairs, ts), epoch, ts + 1_000) {
                    Ok(info) => format!(
                        "offsets {}..={}{}",
                        info.first_offset,
                        info.last_offset,
                        if info.rolled { ", rolled" } else { "" }
                    ),
                    Err(e) => format!("error {e:?}"),
                }
            }
            "clean" => {
                words.next(); // now
                match log.clean(num(words.next(), line)).unwrap() {
                    Some(r) => format!(
                        "dirty ratio {:.2}, segments cleaned {}, records {} -> {}, tombstones dropped {}",
                        r.dirty_ratio,
                        r.segments_cleaned,
                        r.records_before,
                        r.records_after,
                        r.tombstones_dropped
                    ),
                    None => format!("not run (dirty ratio {:.2})", log.dirty_ratio()),
                }
            }
            "records" => records(log),
            "read" => {
                let offset: i64 = num(words.next(), line);
                words.next(); // max
                let max: usize = num(words.next(), line);
                match log.read(offset, max) {
                    Ok(bytes) => {
                        let mut batches = Vec::new();
                        let mut at = 0;
                        while at < bytes.len() {
                            let h = BatchHeader::parse(&bytes[at..]).expect("reads return valid batches");
                            batches.push(format!("{}..={}", h.base_offset, h.last_offset()));
                            at += h.total_bytes();
                        }
                        format!("{} bytes, batches [{}]", bytes.len(), batches.join(", "))
                    }
                    Err(e) => format!("error {e:?}"),
                }
            }
            "find-ts" => format!("{:?}", log.find_by_timestamp(num(words.next(), line))),
            "find-max-ts" => format!("{:?}", log.find_max_timestamp()),
            "truncate" => format!("{:?}", log.truncate_to(num(words.next(), line))),
            "delete-records" => format!("{:?}", log.delete_records(num(words.next(), line))),
            "retention" => {
                words.next(); // now
                format!("deleted segments {:?}", log.apply_retention(num(words.next(), line)).unwrap())
            }
            other => panic!("unknown operation {other:?}"),
        };
        writeln!(trace, "> {line}\n< {result}\n{}", state(log)).unwrap();
    }
    trace
}

#[test]
fn log_scenarios_match_their_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/log_scenarios");
    let fixtures = common::files_with_extension(&dir, "ops");
    assert!(!fixtures.is_empty());
    for fixture in fixtures {
        let trace = run(&std::fs::read_to_string(&fixture).unwrap());
        expect_test::expect_file![fixture.with_extension("trace")].assert_eq(&trace);
    }
}

mod compaction_model {
    use super::*;
    use proptest::prelude::*;

    fn compacted_log() -> LocalLog {
        let mut overrides = BTreeMap::new();
        overrides.insert("cleanup.policy".to_string(), "compact".to_string());
        overrides.insert("segment.bytes".to_string(), "200".to_string());
        overrides.insert("min.cleanable.dirty.ratio".to_string(), "0".to_string());
        LocalLog::new(LogConfig::from(&TopicConfig::from_overrides(&overrides).unwrap()))
    }

    /// (offset, key, value) of every record in the log; every record has a key on a compacted topic.
    fn all(log: &LocalLog) -> Vec<(i64, String, Option<String>)> {
        walk(log).into_iter().map(|(o, k, v)| (o, k.expect("compacted topics have keys"), v)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Against a map of each key's latest value: compaction never loses a key's latest record
        /// (tombstones included, while within delete.retention.ms), keeps offsets rising, and leaves
        /// at most one record per key outside the active segment.
        #[test]
        fn compaction_keeps_each_keys_latest_record(
            writes in proptest::collection::vec(("[a-e]", proptest::option::of("[0-9]{1,3}")), 1..60),
        ) {
            let mut log = compacted_log();
            let mut model: BTreeMap<String, (i64, Option<String>)> = BTreeMap::new();
            for (i, (key, value)) in writes.iter().enumerate() {
                let pair = format!("{key}={}", value.as_deref().unwrap_or("null"));
                let info = log.append_as_leader(&keyed_batch(&pair, 1_000 + i as i64), 0, 0).unwrap();
                model.insert(key.clone(), (info.first_offset, value.clone()));
            }
            let before = all(&log);
            log.clean(2_000).unwrap();
            let after = all(&log);
            prop_assert!(after.windows(2).all(|w| w[0].0 < w[1].0), "offsets rise");
            prop_assert!(after.iter().all(|r| before.contains(r)), "compaction only removes records");
            for (key, (offset, value)) in &model {
                prop_assert!(after.contains(&(*offset, key.clone(), value.clone())), "latest {key} kept");
            }
            let active_base = log.segments().last().unwrap().base_offset();
            let mut seen = std::collections::BTreeSet::new();
            for (offset, key, _) in after.iter().filter(|r| r.0 < active_base) {
                prop_assert!(seen.insert(key.clone()), "{key} twice below the active segment (at {offset})");
            }
        }
    }
}

mod failed_writes {
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use kite_shared::log::local_log::{LocalLog, LogConfig, LogError, OpenCheckpoints};
    use kite_shared::log::storage::{MemoryPartitionStore, PartitionStore, SegmentFile, StorageError};

    use super::*;

    /// A memory store whose writes fail while `full` is set, like a disk that filled up; and
    /// whose small files' writes fail while `files_full` is (the segments' go on).
    struct FlakyStore {
        inner: MemoryPartitionStore,
        full: Arc<AtomicBool>,
        files_full: Arc<AtomicBool>,
    }

    struct FlakySegment {
        inner: Box<dyn SegmentFile>,
        full: Arc<AtomicBool>,
    }

    fn check(full: &AtomicBool, operation: &'static str) -> Result<(), StorageError> {
        if full.load(Ordering::SeqCst) {
            Err(StorageError::new(operation, "00000000000000000000.log", "No space left on device"))
        } else {
            Ok(())
        }
    }

    impl SegmentFile for FlakySegment {
        fn len(&self) -> usize {
            self.inner.len()
        }
        fn read_at(&self, position: usize, len: usize) -> Result<Cow<'_, [u8]>, StorageError> {
            self.inner.read_at(position, len)
        }
        fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
            check(&self.full, "append to")?;
            self.inner.append(bytes)
        }
        fn truncate(&mut self, len: usize) -> Result<(), StorageError> {
            check(&self.full, "truncate")?;
            self.inner.truncate(len)
        }
        fn flush(&mut self) -> Result<(), StorageError> {
            check(&self.full, "fsync")?;
            self.inner.flush()
        }
    }

    impl PartitionStore for FlakyStore {
        fn describe(&self) -> String {
            "flaky".into()
        }
        fn list(&self) -> Result<Vec<String>, StorageError> {
            self.inner.list()
        }
        fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError> {
            check(&self.full, "create")?;
            let inner = self.inner.open_segment(base_offset)?;
            Ok(Box::new(FlakySegment { inner, full: self.full.clone() }))
        }
        fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.read_file(name)
        }
        fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
            check(&self.full, "write")?;
            check(&self.files_full, "write")?;
            self.inner.write_file(name, bytes)
        }
        fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
            self.inner.rename(from, to)
        }
        fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
            self.inner.delete_file(name)
        }
    }

    #[test]
    fn a_failed_write_takes_the_log_offline_and_loses_nothing_stored() {
        let full = Arc::new(AtomicBool::new(false));
        let files_full = Arc::new(AtomicBool::new(false));
        let inner = MemoryPartitionStore::ephemeral();
        let store = Box::new(FlakyStore { inner, full: full.clone(), files_full });
        let mut config = LogConfig::from(&TopicConfig::default());
        config.flush_messages = 1;
        let (mut log, _) = LocalLog::open(config, store, OpenCheckpoints::default()).unwrap();
        for i in 0..3 {
            log.append_as_leader(&producer_batch(2, 10, 1_000 + i), 0, 0).unwrap();
        }
        let before = records(&log);

        full.store(true, Ordering::SeqCst);
        let error = log.append_as_leader(&producer_batch(2, 10, 2_000), 0, 0).unwrap_err();
        assert!(
            matches!(&error, LogError::Storage(e) if e.message == "No space left on device"),
            "{error:?}"
        );
        assert_eq!(
            kite_shared::error::KafkaError::from(error).error,
            kite_shared::error::ErrorCode::KafkaStorageError
        );
        assert!(log.poisoned().is_some());

        // The disk has room again, but the log stays offline until reopened: a write that failed
        // half-way may have left bytes the log does not know about.
        full.store(false, Ordering::SeqCst);
        let refused = log.append_as_leader(&producer_batch(1, 10, 3_000), 0, 0).unwrap_err();
        assert!(refused.to_string().contains("offline after an earlier failure"), "{refused}");
        assert!(log.flush().is_err() && log.truncate_to(2).is_err() && log.apply_retention(0).is_err());
        // Everything stored before the failure is still served.
        assert_eq!(records(&log), before);
        assert_eq!(log.log_end_offset(), 6);
    }

    /// An ABORT marker whose `.txnindex` entry cannot be written is not appended either: a
    /// marker the index missed would show the aborted records to read_committed consumers.
    #[test]
    fn an_abort_marker_is_not_appended_without_its_index_entry() {
        let files_full = Arc::new(AtomicBool::new(false));
        let inner = MemoryPartitionStore::ephemeral();
        let store = Box::new(FlakyStore {
            inner,
            full: Arc::new(AtomicBool::new(false)),
            files_full: files_full.clone(),
        });
        let (mut log, _) =
            LocalLog::open(LogConfig::from(&TopicConfig::default()), store, OpenCheckpoints::default())
                .unwrap();
        let mut batch =
            RecordBatch::new(0, vec![BatchRecord { value: Some(b"v".to_vec()), ..Default::default() }]);
        (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (7, 0, 0);
        batch.attributes.transactional = true;
        log.append_as_leader(&batch.encode().unwrap(), 0, 0).unwrap();
        let abort =
            kite_shared::txn::marker::encode_marker(0, 7, 0, kite_shared::txn::marker::MarkerKind::Abort, 0)
                .unwrap();
        files_full.store(true, Ordering::SeqCst);
        assert!(log.append_as_leader(&abort, 0, 0).is_err());
        assert_eq!(log.log_end_offset(), 1, "the marker is not in the log");
        assert!(log.aborted_transactions(0, 2).unwrap().is_empty());
    }
}

/// A truncation that removes whole segments makes their deletion durable before it cuts the one
/// it keeps: if what follows the cut fails (here the leader-epoch checkpoint cannot be written)
/// and the power goes, the removed segments must not come back beyond the shortened one (the
/// host simulator found a controller's metadata log refused at its next open: "offsets skipped").
#[test]
fn a_truncation_leaves_no_gap_after_a_failure_and_a_power_cut() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use kite_shared::log::power_cut::PowerCutDisk;
    use kite_shared::log::storage::{BrokerStore, PartitionStore, SegmentFile, StorageError};

    /// A store whose small files' writes fail while `failing` is set.
    struct SmallFilesFail {
        inner: Box<dyn PartitionStore>,
        failing: Arc<AtomicBool>,
    }
    impl PartitionStore for SmallFilesFail {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn list(&self) -> Result<Vec<String>, StorageError> {
            self.inner.list()
        }
        fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError> {
            self.inner.open_segment(base_offset)
        }
        fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.read_file(name)
        }
        fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(StorageError::new("write", name, "Input/output error"));
            }
            self.inner.write_file(name, bytes)
        }
        fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
            self.inner.rename(from, to)
        }
        fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
            self.inner.delete_file(name)
        }
        fn sync_dir(&mut self) -> Result<(), StorageError> {
            self.inner.sync_dir()
        }
    }

    let disk = PowerCutDisk::default();
    let mut overrides = BTreeMap::new();
    overrides.insert("segment.bytes".to_string(), "200".to_string());
    let config = LogConfig::from(&TopicConfig::from_overrides(&overrides).unwrap());
    let failing = Arc::new(AtomicBool::new(false));
    let store = SmallFilesFail { inner: disk.store("b").partition("t-0").unwrap(), failing: failing.clone() };
    let (mut log, _) = LocalLog::open(config.clone(), Box::new(store), OpenCheckpoints::default()).unwrap();
    for i in 0..12 {
        log.append_as_leader(&keyed_batch(&format!("k{i}=v{i}"), 1_000 + i), 0, 0).unwrap();
    }
    log.flush().unwrap();
    let bases: Vec<i64> = log.segments().map(|s| s.base_offset()).collect();
    assert!(bases.len() > 2, "{bases:?}");
    failing.store(true, Ordering::SeqCst);
    let cut = bases[1] + 1;
    assert!(log.truncate_to(cut).is_err(), "the epoch checkpoint cannot be written");
    let after_cut = PowerCutDisk::with_files(disk.power_cut());
    let partition = after_cut.store("b").partition("t-0").unwrap();
    let (reopened, _) = LocalLog::open(config, partition, OpenCheckpoints::default()).unwrap();
    assert_eq!(reopened.log_end_offset(), cut);
}

/// A recovery that cuts a torn tail makes the cut durable at once: the log's recovery point and
/// a clean shutdown will soon say the segment is whole, and a power cut that brought the torn
/// bytes back would leave a "flushed" segment that cannot be read (the host simulator's seed 151
/// with `--fsync` and controller faults found a broker's log directory offline for good).
#[test]
fn a_recovery_cut_survives_a_power_cut() {
    use kite_shared::log::power_cut::PowerCutDisk;
    use kite_shared::log::storage::BrokerStore;
    let disk = PowerCutDisk::default();
    let config = LogConfig::from(&TopicConfig::default());
    let partition = disk.store("b").partition("t-0").unwrap();
    let (mut log, _) = LocalLog::open(config.clone(), partition, OpenCheckpoints::default()).unwrap();
    log.append_as_leader(&keyed_batch("k=v", 1_000), 0, 0).unwrap();
    log.flush().unwrap();
    drop(log);
    // A torn append to a segment just rolled: part of a batch header reached the disk. The cut
    // leaves that segment empty at the log's end, where flushing the log below its end offset
    // does not reach it.
    let mut store = disk.store("b").partition("t-0").unwrap();
    let mut segment = store.open_segment(1).unwrap();
    segment.append(&[0xAB; 20]).unwrap();
    segment.flush().unwrap();
    let unclean =
        OpenCheckpoints { clean_shutdown: false, recovery_point: Some(0), log_start_offset: Some(0) };
    let partition = disk.store("b").partition("t-0").unwrap();
    let (log, report) = LocalLog::open(config.clone(), partition, unclean).unwrap();
    assert_eq!((log.log_end_offset(), report.truncated_bytes), (1, 20));
    drop(log);
    // The power goes; the next start is taken for clean, everything below offset 1 flushed.
    let after_cut = PowerCutDisk::with_files(disk.power_cut());
    let clean = OpenCheckpoints { clean_shutdown: true, recovery_point: Some(1), log_start_offset: Some(0) };
    let partition = after_cut.store("b").partition("t-0").unwrap();
    let (reopened, _) = LocalLog::open(config, partition, clean).unwrap();
    assert_eq!(reopened.log_end_offset(), 1);
}

/// A `.txnindex` found wrong at open is rebuilt from the log's markers; if the disk fails while
/// the rebuild writes, the next open must still find every aborted transaction. Removing the old
/// index before writing the new one left, after such a failure, a log with no index at all, which
/// looks sane: its aborted records read as committed (host simulator, seed 965 with
/// --transactions).
#[test]
fn a_txnindex_rebuild_cut_short_by_a_failing_disk_loses_no_aborted_transaction() {
    use kite_shared::log::power_cut::PowerCutDisk;
    use kite_shared::log::storage::BrokerStore;
    use kite_shared::txn::marker::{MarkerKind, encode_marker};

    const TXN_INDEX: &str = "00000000000000000000.txnindex";
    let mut rebuilds_failed = 0;
    for seed in 0..32 {
        let disk = PowerCutDisk::default();
        let partition = || disk.store("broker-0").partition("orders-0").unwrap();
        let open = || {
            LocalLog::open(LogConfig::from(&TopicConfig::default()), partition(), OpenCheckpoints::default())
        };
        let (mut log, _) = open().unwrap();
        let mut batch =
            RecordBatch::new(0, vec![BatchRecord { value: Some(b"v".to_vec()), ..Default::default() }]);
        (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (7, 0, 0);
        batch.attributes.transactional = true;
        log.append_as_leader(&batch.encode().unwrap(), 0, 0).unwrap();
        log.append_as_leader(&encode_marker(0, 7, 0, MarkerKind::Abort, 0).unwrap(), 0, 0).unwrap();
        log.flush().unwrap();
        drop(log);
        // A torn append left part of an entry: not a whole number of entries, so not sane.
        let mut index = partition().read_file(TXN_INDEX).unwrap().expect("the abort is indexed");
        index.extend_from_slice(&[0, 0, 0]);
        partition().write_file(TXN_INDEX, &index).unwrap();

        disk.fail_writes(seed, 2);
        rebuilds_failed += u32::from(open().is_err());
        disk.fail_writes(0, 0);
        let (log, _) = open().unwrap();
        let aborted = log.aborted_transactions(0, log.log_end_offset()).unwrap();
        assert_eq!(aborted.len(), 1, "seed {seed}: the aborted transaction is indexed: {aborted:?}");
    }
    assert!(rebuilds_failed > 0, "some rebuilds failed part-way");
}

/// After an unclean stop the recovery point stays where the checkpoint had it, as Kafka's
/// LogLoader keeps it: recovery reads bytes a process kill left in the page cache, and only a
/// flush makes them durable. Raised to the log's end, it claimed them flushed, a close then
/// flushed nothing, and a power cut took them from under a recovery point past them.
#[test]
fn recovered_bytes_are_flushed_before_the_recovery_point_passes_them() {
    use kite_shared::log::power_cut::PowerCutDisk;
    use kite_shared::log::storage::BrokerStore;

    let disk = PowerCutDisk::default();
    let partition = |disk: &PowerCutDisk| disk.store("broker-0").partition("orders-0").unwrap();
    let config = LogConfig::from(&TopicConfig::default());
    let (mut log, _) = LocalLog::open(config.clone(), partition(&disk), OpenCheckpoints::default()).unwrap();
    log.append_as_leader(&keyed_batch("a=1", 0), 0, 0).unwrap();
    log.flush().unwrap();
    log.append_as_leader(&keyed_batch("b=2,c=3", 0), 0, 0).unwrap();
    drop(log);
    // The process is killed: the unflushed batch is in the page cache, read back by recovery.
    let killed = PowerCutDisk::with_files(disk.process_kill());
    let checkpoints =
        OpenCheckpoints { clean_shutdown: false, recovery_point: Some(1), log_start_offset: Some(0) };
    let (mut log, _) = LocalLog::open(config.clone(), partition(&killed), checkpoints).unwrap();
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(log.recovery_point(), 1, "recovered, not flushed");
    log.close().unwrap();
    assert_eq!(log.recovery_point(), 3);
    // Closed cleanly, then the power goes: the close made all of it durable.
    let cut = PowerCutDisk::with_files(killed.power_cut());
    let clean = OpenCheckpoints { clean_shutdown: true, recovery_point: Some(3), log_start_offset: Some(0) };
    let (log, _) = LocalLog::open(config, partition(&cut), clean).unwrap();
    assert_eq!(log.log_end_offset(), 3);
}
