//! Partition-log scenarios: a fixture of operations in, the log's state after each out, compared
//! with a snapshot beside the fixture (`UPDATE_EXPECT=1` rewrites them). Operations:
//!
//! - `config NAME=VALUE ...`: topic configs for the log (before any append).
//! - `append COUNT x BYTES at TIMESTAMP epoch EPOCH`: a producer batch of COUNT records with
//!   BYTES-byte values, record i stamped TIMESTAMP + i.
//! - `read OFFSET max BYTES`, `find-ts TIMESTAMP`, `truncate OFFSET`, `delete-records OFFSET`,
//!   `retention now TIMESTAMP`.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use kite_shared::config::TopicConfig;
use kite_shared::log::local_log::{LocalLog, LogConfig};
use kite_shared::record::batch::BatchHeader;

mod common;
use common::producer_batch;

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

fn num<T: std::str::FromStr>(word: Option<&str>, line: &str) -> T {
    word.and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("bad number in {line:?}"))
}

fn run(fixture: &str) -> String {
    let mut overrides = BTreeMap::new();
    let mut log: Option<LocalLog> = None;
    let mut trace = String::new();
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
        let log = log.get_or_insert_with(|| {
            LocalLog::new(LogConfig::from(&TopicConfig::from_overrides(&overrides).expect("valid configs")))
        });
        let result = match op {
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
            "find-ts" => format!("{:?}", log.find_offset_by_timestamp(num(words.next(), line))),
            "truncate" => {
                log.truncate_to(num(words.next(), line));
                "done".to_string()
            }
            "delete-records" => format!("{:?}", log.delete_records(num(words.next(), line))),
            "retention" => {
                words.next(); // now
                format!("deleted segments {:?}", log.apply_retention(num(words.next(), line)))
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
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/log_scenarios exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ops"))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty());
    for fixture in fixtures {
        let trace = run(&std::fs::read_to_string(&fixture).unwrap());
        expect_test::expect_file![fixture.with_extension("trace")].assert_eq(&trace);
    }
}
