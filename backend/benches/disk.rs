//! The partition log on disk (`DiskPartitionStore`), each beside its baseline in the same run:
//!
//! - leader appends of 1000-record batches (100 B and 1 KiB values), without and with an fsync
//!   after every batch, beside a plain sequential `write` (and `write` + `fdatasync`) of the same
//!   bytes to a file: the ceiling for any append that keeps the bytes;
//! - reading every batch back through the log, beside a plain positioned read of the same bytes;
//! - reopening a 1 GiB log after a clean stop (index files, no batch read);
//! - recovering the same 1 GiB log after an unclean stop (every batch CRC-checked), whose
//!   throughput is the recovery scan rate.
//!
//! Files go under `KITE_BENCH_DIR` (default: the system temp dir). `cargo xtask bench` runs it.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use kite_backend::disk::DiskBrokerStore;
use kite_shared::config::TopicConfig;
use kite_shared::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use kite_shared::log::storage::BrokerStore;
use kite_shared::record::batch::{BatchRecord, RecordBatch};

fn main() {
    divan::main();
}

/// Records per produced batch (issue 4's benchmark shape).
const RECORDS_PER_BATCH: usize = 1000;
/// Batches appended per measured iteration.
const BATCHES_PER_ITERATION: usize = 16;
const VALUE_SIZES_BYTES: [usize; 2] = [100, 1024];
const NOW_MS: i64 = 1_700_000_000_000;
/// The reopen and recovery benchmarks' log.
const BIG_LOG_BYTES: usize = 1 << 30;

fn bench_dir(name: &str) -> PathBuf {
    let root = std::env::var_os("KITE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = root.join(format!("kite-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn producer_batch(value_bytes: usize) -> Vec<u8> {
    let records = (0..RECORDS_PER_BATCH)
        .map(|i| BatchRecord {
            timestamp_delta: i as i64,
            offset_delta: i as i32,
            key: Some(format!("key-{i:06}").into_bytes()),
            value: Some((0..value_bytes).map(|b| (b * 31 + i) as u8).collect()),
            headers: Vec::new(),
        })
        .collect();
    RecordBatch::new(NOW_MS, records).encode().unwrap()
}

fn config(fsync: bool) -> LogConfig {
    let mut config = LogConfig::from(&TopicConfig::default());
    config.max_message_bytes = usize::MAX;
    if fsync {
        config.flush_messages = 1;
    }
    config
}

fn open_log(dir: &Path, config: LogConfig, checkpoints: OpenCheckpoints) -> LocalLog {
    let mut broker = DiskBrokerStore::open(dir, 0).unwrap();
    let store = broker.partition("bench-0").unwrap();
    LocalLog::open(config, store, checkpoints).unwrap().0
}

fn append(bencher: Bencher, value_bytes: usize, fsync: bool) {
    let batch = producer_batch(value_bytes);
    let dir = bench_dir("append");
    let mut log = open_log(&dir, config(fsync), OpenCheckpoints::default());
    bencher
        .counter(ItemsCount::new(RECORDS_PER_BATCH * BATCHES_PER_ITERATION))
        .counter(BytesCount::new(batch.len() * BATCHES_PER_ITERATION))
        .bench_local(|| {
            for _ in 0..BATCHES_PER_ITERATION {
                log.append_as_leader(black_box(&batch), 0, NOW_MS).unwrap();
            }
        });
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}

fn plain_write(bencher: Bencher, value_bytes: usize, fsync: bool) {
    let batch = producer_batch(value_bytes);
    let dir = bench_dir("plain");
    let mut file = File::create(dir.join("plain.log")).unwrap();
    bencher
        .counter(ItemsCount::new(RECORDS_PER_BATCH * BATCHES_PER_ITERATION))
        .counter(BytesCount::new(batch.len() * BATCHES_PER_ITERATION))
        .bench_local(|| {
            for _ in 0..BATCHES_PER_ITERATION {
                file.write_all(black_box(&batch)).unwrap();
                if fsync {
                    file.sync_data().unwrap();
                }
            }
        });
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
}

#[divan::bench(args = VALUE_SIZES_BYTES, sample_count = 50)]
fn disk_append(bencher: Bencher, value_bytes: usize) {
    append(bencher, value_bytes, false);
}

#[divan::bench(args = VALUE_SIZES_BYTES, sample_count = 50)]
fn baseline_plain_write(bencher: Bencher, value_bytes: usize) {
    plain_write(bencher, value_bytes, false);
}

#[divan::bench(args = VALUE_SIZES_BYTES, sample_count = 20)]
fn disk_append_fsync_every_batch(bencher: Bencher, value_bytes: usize) {
    append(bencher, value_bytes, true);
}

#[divan::bench(args = VALUE_SIZES_BYTES, sample_count = 20)]
fn baseline_plain_write_fdatasync_every_batch(bencher: Bencher, value_bytes: usize) {
    plain_write(bencher, value_bytes, true);
}

/// A log of `batches` 1 KiB-value batches in `dir`, closed cleanly.
fn written_log(dir: &Path, batches: usize) -> LocalLog {
    let batch = producer_batch(1024);
    let mut log = open_log(dir, config(false), OpenCheckpoints::default());
    for _ in 0..batches {
        log.append_as_leader(&batch, 0, NOW_MS).unwrap();
    }
    log.close().unwrap();
    log
}

/// Every batch of a 64 MiB log, read through the log (positioned reads of whole batches).
#[divan::bench(sample_count = 10)]
fn disk_read_all(bencher: Bencher) {
    let dir = bench_dir("read");
    let batch_bytes = producer_batch(1024).len();
    let log = written_log(&dir, (64 << 20) / batch_bytes);
    let end = log.log_end_offset();
    bencher.counter(BytesCount::new(log.size_bytes())).counter(ItemsCount::new(end as usize)).bench_local(
        || {
            let mut offset = 0;
            while offset < end {
                let bytes = log.read(offset, 1 << 20).unwrap();
                offset += (bytes.len() / batch_bytes * RECORDS_PER_BATCH) as i64;
            }
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same 64 MiB read with plain positioned reads of 1 MiB.
#[divan::bench(sample_count = 10)]
fn baseline_plain_read(bencher: Bencher) {
    let dir = bench_dir("plain-read");
    let bytes = vec![7u8; 64 << 20];
    std::fs::write(dir.join("plain.log"), &bytes).unwrap();
    let file = File::open(dir.join("plain.log")).unwrap();
    let mut buffer = vec![0u8; 1 << 20];
    bencher.counter(BytesCount::new(bytes.len())).bench_local(|| {
        for chunk in 0..64 {
            file.read_exact_at(&mut buffer, chunk << 20).unwrap();
            black_box(&buffer);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opening a cleanly closed 1 GiB log: index files and the tail after the last index entry only.
#[divan::bench(sample_count = 10)]
fn reopen_1gib_after_clean_stop(bencher: Bencher) {
    let dir = bench_dir("reopen");
    let batch_bytes = producer_batch(1024).len();
    drop(written_log(&dir, BIG_LOG_BYTES / batch_bytes));
    let clean = OpenCheckpoints { clean_shutdown: true, recovery_point: None, log_start_offset: None };
    bencher.bench_local(|| open_log(&dir, config(false), clean));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opening the same 1 GiB log after an unclean stop with no recovery point: every batch read and
/// CRC-checked. Its throughput is the recovery scan rate.
#[divan::bench(sample_count = 5)]
fn recover_1gib_after_crash(bencher: Bencher) {
    let dir = bench_dir("recover");
    let batch_bytes = producer_batch(1024).len();
    let size = written_log(&dir, BIG_LOG_BYTES / batch_bytes).size_bytes();
    let crashed = OpenCheckpoints { clean_shutdown: false, recovery_point: Some(0), log_start_offset: None };
    bencher.counter(BytesCount::new(size)).bench_local(|| open_log(&dir, config(false), crashed));
    let _ = std::fs::remove_dir_all(&dir);
}
