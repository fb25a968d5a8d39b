//! A broker's offset checkpoint files (Kafka's `OffsetCheckpointFile`): `recovery-point-offset-checkpoint`
//! and `log-start-offset-checkpoint`, one `topic partition offset` line per partition after a
//! version line and a count line; and the clean-shutdown marker's name.

use std::collections::BTreeMap;

/// Everything below each partition's offset here was flushed.
pub const RECOVERY_POINT_CHECKPOINT_FILE: &str = "recovery-point-offset-checkpoint";
/// Each partition's log start offset (moved by retention and delete-records).
pub const LOG_START_OFFSET_CHECKPOINT_FILE: &str = "log-start-offset-checkpoint";
/// Written last on a clean shutdown, deleted first on startup (Kafka's `.kafka_cleanshutdown`).
pub const CLEAN_SHUTDOWN_FILE: &str = ".kafka_cleanshutdown";
/// The only checkpoint format version Kafka has written.
const CHECKPOINT_VERSION: u32 = 0;
/// More entries than this in a checkpoint file is garbage, not a broker's partitions.
pub const MAX_CHECKPOINT_ENTRIES: usize = 1_000_000;

/// What a broker's directory said when the broker opened it, as Kafka's LogManager reads it:
/// whether the last stop was clean, and the two checkpoints. Each partition's log opens with its
/// part (`for_partition`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerCheckpoints {
    /// The clean-shutdown marker was there: the last stop flushed and indexed every log.
    pub clean_shutdown: bool,
    /// `recovery-point-offset-checkpoint`: below each offset, the partition's log was flushed.
    pub recovery_points: OffsetCheckpoint,
    /// `log-start-offset-checkpoint`: each partition's log start offset.
    pub log_starts: OffsetCheckpoint,
}

impl BrokerCheckpoints {
    /// Reads the clean-shutdown marker and both checkpoints, then deletes the marker: it goes
    /// before any write, so a crash from here on is an unclean stop.
    pub fn open(store: &mut dyn crate::log::storage::BrokerStore) -> Result<BrokerCheckpoints, String> {
        let clean_shutdown = store.read_file(CLEAN_SHUTDOWN_FILE).map_err(|e| e.to_string())?.is_some();
        let recovery_points = OffsetCheckpoint::read(store, RECOVERY_POINT_CHECKPOINT_FILE)?;
        let log_starts = OffsetCheckpoint::read(store, LOG_START_OFFSET_CHECKPOINT_FILE)?;
        store.delete_file(CLEAN_SHUTDOWN_FILE).map_err(|e| e.to_string())?;
        Ok(BrokerCheckpoints { clean_shutdown, recovery_points, log_starts })
    }

    /// How one partition's log opens: from its recovery point and log start, cleanly or not.
    pub fn for_partition(&self, topic: &str, partition: i32) -> crate::log::local_log::OpenCheckpoints {
        crate::log::local_log::OpenCheckpoints {
            clean_shutdown: self.clean_shutdown,
            recovery_point: self.recovery_points.get(topic, partition),
            log_start_offset: self.log_starts.get(topic, partition),
        }
    }

    /// Writes both checkpoints for `logs` — (topic, partition, log) — over what this said at open
    /// (`self`: kept for partitions not open now; `BrokerCheckpoints::default()` for none).
    pub fn write<'a>(
        &self,
        store: &mut dyn crate::log::storage::BrokerStore,
        logs: impl IntoIterator<Item = (&'a str, i32, &'a crate::log::local_log::LocalLog)>,
    ) -> Result<(), crate::log::storage::StorageError> {
        let (mut recovery_points, mut log_starts) = (self.recovery_points.clone(), self.log_starts.clone());
        for (topic, partition, log) in logs {
            recovery_points.offsets.insert((topic.to_string(), partition), log.recovery_point());
            log_starts.offsets.insert((topic.to_string(), partition), log.log_start_offset());
        }
        store.write_file(RECOVERY_POINT_CHECKPOINT_FILE, recovery_points.to_text().as_bytes())?;
        store.write_file(LOG_START_OFFSET_CHECKPOINT_FILE, log_starts.to_text().as_bytes())
    }
}

/// (topic, partition) → offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetCheckpoint {
    /// One entry per `topic partition offset` line; written sorted by topic, then partition.
    pub offsets: BTreeMap<(String, i32), i64>,
}

impl OffsetCheckpoint {
    /// A broker's checkpoint file `name` from `store`; empty when there is none.
    pub fn read(
        store: &dyn crate::log::storage::BrokerStore,
        name: &str,
    ) -> Result<OffsetCheckpoint, String> {
        match store.read_file(name).map_err(|e| e.to_string())? {
            None => Ok(OffsetCheckpoint::default()),
            Some(bytes) => OffsetCheckpoint::from_text(name, &String::from_utf8_lossy(&bytes)),
        }
    }

    /// The offset checkpointed for one partition; `None` when the file has no line for it.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        self.offsets.get(&(topic.to_string(), partition)).copied()
    }

    /// The file's text as Kafka writes it: version 0, the entry count, then one
    /// `topic partition offset` line per entry.
    pub fn to_text(&self) -> String {
        let mut out = format!("{CHECKPOINT_VERSION}\n{}\n", self.offsets.len());
        for ((topic, partition), offset) in &self.offsets {
            out.push_str(&format!("{topic} {partition} {offset}\n"));
        }
        out
    }

    /// Parses a checkpoint file, saying which line is wrong and how.
    pub fn from_text(file: &str, text: &str) -> Result<OffsetCheckpoint, String> {
        let mut lines = text.lines();
        let version = lines.next().ok_or(format!("{file} is empty"))?;
        if version.trim() != CHECKPOINT_VERSION.to_string() {
            return Err(format!("{file}: unknown version {version:?} (expected {CHECKPOINT_VERSION})"));
        }
        let count: usize = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or(format!("{file}: line 2 should be the entry count"))?;
        if count > MAX_CHECKPOINT_ENTRIES {
            return Err(format!("{file} claims {count} entries, over {MAX_CHECKPOINT_ENTRIES}"));
        }
        let mut checkpoint = OffsetCheckpoint::default();
        for i in 0..count {
            let line = lines.next().ok_or(format!("{file} ends after {i} of {count} entries"))?;
            let fields: Vec<&str> = line.split(' ').collect();
            let parsed = match fields.as_slice() {
                [topic, partition, offset] if !topic.is_empty() => {
                    partition.parse::<i32>().ok().zip(offset.parse::<i64>().ok()).map(|po| (topic, po))
                }
                _ => None,
            };
            let (topic, (partition, offset)) = parsed
                .ok_or(format!("{file} line {}: expected `topic partition offset`, got {line:?}", i + 3))?;
            checkpoint.offsets.insert((topic.to_string(), partition), offset);
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_kafkas_format_and_names_bad_lines() {
        let mut checkpoint = OffsetCheckpoint::default();
        checkpoint.offsets.insert(("orders".into(), 1), 42);
        checkpoint.offsets.insert(("orders".into(), 0), 7);
        let text = checkpoint.to_text();
        assert_eq!(text, "0\n2\norders 0 7\norders 1 42\n");
        assert_eq!(OffsetCheckpoint::from_text("f", &text).unwrap(), checkpoint);
        assert_eq!(checkpoint.get("orders", 1), Some(42));
        for (bad, says) in [
            ("", "empty"),
            ("1\n0\n", "unknown version"),
            ("0\nx\n", "entry count"),
            ("0\n2\norders 0 7\n", "ends after 1 of 2"),
            ("0\n1\norders zero 7\n", "line 3"),
            ("0\n9999999\n", "claims 9999999"),
        ] {
            let error = OffsetCheckpoint::from_text("f", bad).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
