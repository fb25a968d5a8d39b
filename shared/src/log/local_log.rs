//! A partition's log made of segments (Kafka's `LocalLog` and the IO-free parts of `UnifiedLog`
//! and `LogCleaner`): leader appends that stamp offsets and epochs into Kafka's bytes, rolling,
//! reads of whole batches, timestamp lookups, truncation, delete-records, retention by time and
//! size, and compaction.
//!
//! Everything is held in memory here: this is the memory backend's behaviour and the logic the disk
//! and IndexedDB backends will share. `Cluster` keeps one per partition.

use std::collections::BTreeMap;

use super::epoch_cache::LeaderEpochCache;
use super::index::DEFAULT_SEGMENT_INDEX_BYTES;
use super::segment::{DEFAULT_INDEX_INTERVAL_BYTES, LogSegment, RollCheck, SegmentError};
use crate::config::TopicConfig;
use crate::error::{ErrorCode, KafkaError};
use crate::record::batch::{
    BatchError, BatchHeader, RecordBatch, TimestampType, stamp_log_append_time, stamp_offset_and_epoch,
};

/// The topic configs a log obeys.
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// `cleanup.policy` contains `delete`: retention deletes old segments.
    pub delete: bool,
    /// `cleanup.policy` contains `compact`: the cleaner keeps the latest record per key.
    pub compact: bool,
    pub min_cleanable_dirty_ratio: f64,
    pub delete_retention_ms: i64,
    pub segment_bytes: usize,
    pub segment_ms: i64,
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub max_message_bytes: usize,
    pub timestamp_type: TimestampType,
    pub index_interval_bytes: usize,
    pub segment_index_bytes: usize,
}

impl From<&TopicConfig> for LogConfig {
    fn from(config: &TopicConfig) -> Self {
        LogConfig {
            delete: config.cleanup_policy.delete,
            compact: config.cleanup_policy.compact,
            min_cleanable_dirty_ratio: config.min_cleanable_dirty_ratio,
            delete_retention_ms: config.delete_retention_ms,
            segment_bytes: usize::try_from(config.segment_bytes).unwrap_or(usize::MAX),
            segment_ms: config.segment_ms,
            retention_ms: config.retention_ms,
            retention_bytes: config.retention_bytes,
            max_message_bytes: usize::try_from(config.max_message_bytes).unwrap_or(0),
            timestamp_type: config.message_timestamp_type,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            segment_index_bytes: DEFAULT_SEGMENT_INDEX_BYTES,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    Batch(BatchError),
    Segment(SegmentError),
    /// A produced batch Kafka's leader refuses (control batch, no records, gaps in offsets, …).
    InvalidRecord(String),
    RecordTooLarge {
        size_bytes: usize,
        max_bytes: usize,
    },
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        log_end_offset: i64,
    },
}

impl From<LogError> for KafkaError {
    fn from(error: LogError) -> KafkaError {
        match error {
            LogError::Batch(e) => KafkaError::new(ErrorCode::CorruptMessage, e.to_string()),
            LogError::Segment(e) => KafkaError::new(ErrorCode::CorruptMessage, e.to_string()),
            LogError::InvalidRecord(reason) => KafkaError::new(ErrorCode::InvalidRecord, reason),
            LogError::RecordTooLarge { size_bytes, max_bytes } => KafkaError::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "The record batch is {size_bytes} bytes, over the topic's max.message.bytes {max_bytes}."
                ),
            ),
            LogError::OffsetOutOfRange { offset, log_start_offset, log_end_offset } => KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "Offset {offset} is out of range (log start {log_start_offset}, log end {log_end_offset})."
                ),
            ),
        }
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    pub first_offset: i64,
    pub last_offset: i64,
    /// The batch's max timestamp as stored (the broker's clock under LogAppendTime).
    pub max_timestamp: i64,
    /// Whether a new segment was started for this batch.
    pub rolled: bool,
}

/// What one compaction pass did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CleanResult {
    /// Dirty bytes over all bytes of the cleanable segments when the pass started.
    pub dirty_ratio: f64,
    pub segments_cleaned: usize,
    pub records_before: usize,
    pub records_after: usize,
    pub tombstones_dropped: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LocalLog {
    config: LogConfig,
    /// The cleaner's checkpoint: offsets below it were compacted already ("clean").
    first_dirty_offset: i64,
    /// Base offset → segment; never empty; the last is the active segment.
    segments: BTreeMap<i64, LogSegment>,
    log_start_offset: i64,
    epochs: LeaderEpochCache,
}

impl LocalLog {
    pub fn new(config: LogConfig) -> LocalLog {
        let mut segments = BTreeMap::new();
        segments.insert(0, LogSegment::new(0, config.index_interval_bytes, config.segment_index_bytes));
        LocalLog {
            config,
            first_dirty_offset: 0,
            segments,
            log_start_offset: 0,
            epochs: LeaderEpochCache::new(),
        }
    }

    fn new_segment(&self, base_offset: i64) -> LogSegment {
        LogSegment::new(base_offset, self.config.index_interval_bytes, self.config.segment_index_bytes)
    }

    fn active(&self) -> &LogSegment {
        self.segments.values().next_back().expect("a log always has an active segment")
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// Log end offset: the offset the next record gets.
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    pub fn segments(&self) -> impl Iterator<Item = &LogSegment> {
        self.segments.values()
    }

    pub fn size_bytes(&self) -> usize {
        self.segments.values().map(LogSegment::size_bytes).sum()
    }

    pub fn leader_epochs(&self) -> &LeaderEpochCache {
        &self.epochs
    }

    /// Appends a producer's batch as the partition leader in `leader_epoch` (Kafka's
    /// `appendAsLeader`): validates it, assigns the next offsets, stamps offset and epoch (and the
    /// broker's time under LogAppendTime), rolls a new segment if due, and appends the bytes.
    pub fn append_as_leader(
        &mut self,
        batch: &[u8],
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, LogError> {
        let header = BatchHeader::parse(batch).map_err(LogError::Batch)?;
        if header.total_bytes() != batch.len() {
            return Err(LogError::InvalidRecord(format!(
                "a produce carries one batch here: {} bytes follow it",
                batch.len() - header.total_bytes()
            )));
        }
        if header.attributes.control {
            return Err(LogError::InvalidRecord("clients may not send control batches".into()));
        }
        if header.record_count == 0 || header.last_offset_delta != header.record_count - 1 {
            return Err(LogError::InvalidRecord(format!(
                "a produced batch numbers its records 0..{}: it has {} records and lastOffsetDelta {}",
                header.record_count, header.record_count, header.last_offset_delta
            )));
        }
        if self.config.compact {
            let (decoded, _) = RecordBatch::decode(batch).map_err(LogError::Batch)?;
            if decoded.records.iter().any(|r| r.key.is_none()) {
                return Err(LogError::InvalidRecord(
                    "Compacted topic cannot accept message without key.".into(),
                ));
            }
        }
        if batch.len() > self.config.max_message_bytes {
            return Err(LogError::RecordTooLarge {
                size_bytes: batch.len(),
                max_bytes: self.config.max_message_bytes,
            });
        }
        let first_offset = self.log_end_offset();
        let mut bytes = batch.to_vec();
        stamp_offset_and_epoch(&mut bytes, first_offset, leader_epoch);
        let mut max_timestamp = header.max_timestamp;
        if self.config.timestamp_type == TimestampType::LogAppendTime {
            stamp_log_append_time(&mut bytes, now_ms);
            max_timestamp = now_ms;
        }
        let last_offset = first_offset + i64::from(header.last_offset_delta);
        let rolled = self.active().should_roll(&RollCheck {
            max_segment_bytes: self.config.segment_bytes,
            segment_ms: self.config.segment_ms,
            batch_bytes: bytes.len(),
            batch_max_timestamp: max_timestamp,
            batch_last_offset: last_offset,
        });
        if rolled {
            let segment = self.new_segment(first_offset);
            self.segments.insert(first_offset, segment);
        }
        // Stamping changed only fields outside the CRC, or recomputed it: the batch is still the
        // one validated above, so its header is read back without a second CRC pass.
        let stamped = BatchHeader::parse_trusted(&bytes).map_err(LogError::Batch)?;
        let active = self.segments.values_mut().next_back().expect("a log always has an active segment");
        active.append_validated(&bytes, &stamped).map_err(LogError::Segment)?;
        self.epochs.assign(leader_epoch, first_offset);
        Ok(AppendInfo { first_offset, last_offset, max_timestamp, rolled })
    }

    fn out_of_range(&self, offset: i64) -> LogError {
        LogError::OffsetOutOfRange {
            offset,
            log_start_offset: self.log_start_offset,
            log_end_offset: self.log_end_offset(),
        }
    }

    /// Whole batches from the one containing `offset`, up to `max_bytes` but at least one batch,
    /// from one segment (as a Kafka fetch reads). Empty at the log end offset.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<&[u8], LogError> {
        if offset == self.log_end_offset() {
            return Ok(&[]);
        }
        if offset < self.log_start_offset || offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        let floor = self.segments.range(..=offset).next_back().map_or(offset, |(&base, _)| base);
        // A compacted segment may end before the next one starts: read on from the next.
        self.segments
            .range(floor..)
            .find_map(|(_, segment)| segment.read(offset, max_bytes))
            .ok_or_else(|| self.out_of_range(offset))
    }

    /// The first offset whose timestamp is at or after `timestamp` (ListOffsets by time).
    pub fn find_offset_by_timestamp(&self, timestamp: i64) -> Option<i64> {
        self.segments
            .values()
            .filter(|segment| segment.max_timestamp() >= timestamp)
            .find_map(|segment| segment.find_offset_by_timestamp(timestamp))
            .map(|offset| offset.max(self.log_start_offset))
    }

    /// Removes everything from the batch containing `offset` on (a follower truncating to where it
    /// diverged); the log end offset becomes that batch's first offset.
    pub fn truncate_to(&mut self, offset: i64) {
        if offset >= self.log_end_offset() {
            return;
        }
        let doomed: Vec<i64> = self.segments.range(offset..).map(|(&base, _)| base).collect();
        for base in doomed {
            self.segments.remove(&base);
        }
        match self.segments.values_mut().next_back() {
            Some(segment) => {
                segment.truncate_to(offset);
            }
            None => {
                // Everything went: start afresh at `offset`, as Kafka's truncateFullyAndStartAt.
                let segment = self.new_segment(offset);
                self.segments.insert(offset, segment);
                self.log_start_offset = offset;
            }
        }
        self.epochs.truncate_from_end(self.log_end_offset());
        self.first_dirty_offset = self.first_dirty_offset.min(self.log_end_offset());
    }

    /// `kafka-delete-records`: moves the log start offset up to `offset` and drops segments wholly
    /// below it. Returns the new log start offset.
    pub fn delete_records(&mut self, offset: i64) -> Result<i64, LogError> {
        if offset > self.log_end_offset() || offset < 0 {
            return Err(self.out_of_range(offset));
        }
        self.log_start_offset = self.log_start_offset.max(offset);
        self.drop_segments_below_log_start();
        Ok(self.log_start_offset)
    }

    fn drop_segments_below_log_start(&mut self) {
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        let start = self.log_start_offset;
        self.segments.retain(|&base, segment| base == active || segment.next_offset() > start);
        self.epochs.truncate_from_start(start);
    }

    /// Deletes whole non-active segments past `retention.ms` (by their largest timestamp) or beyond
    /// `retention.bytes`, oldest first, and advances the log start offset. Returns the deleted
    /// segments' base offsets.
    pub fn apply_retention(&mut self, now_ms: i64) -> Vec<i64> {
        let mut deleted = Vec::new();
        if !self.config.delete {
            return deleted;
        }
        let mut size = self.size_bytes() as i64;
        while self.segments.len() > 1 {
            let (&base, oldest) = self.segments.iter().next().expect("more than one segment");
            let expired =
                self.config.retention_ms >= 0 && now_ms - oldest.max_timestamp() > self.config.retention_ms;
            let oversize = self.config.retention_bytes >= 0
                && size - oldest.size_bytes() as i64 >= self.config.retention_bytes;
            if !(expired || oversize) {
                break;
            }
            size -= oldest.size_bytes() as i64;
            self.segments.remove(&base);
            deleted.push(base);
        }
        if let Some((&first, _)) = self.segments.iter().next() {
            self.log_start_offset = self.log_start_offset.max(first);
        }
        self.epochs.truncate_from_start(self.log_start_offset);
        deleted
    }

    /// The cleanable range's dirty ratio: bytes at or above the cleaner checkpoint over all bytes,
    /// in the segments before the active one.
    pub fn dirty_ratio(&self) -> f64 {
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        let (mut clean, mut dirty) = (0usize, 0usize);
        for (_, segment) in self.segments.range(..active) {
            if segment.next_offset() <= self.first_dirty_offset {
                clean += segment.size_bytes();
            } else {
                dirty += segment.size_bytes();
            }
        }
        if clean + dirty == 0 { 0.0 } else { dirty as f64 / (clean + dirty) as f64 }
    }

    /// One pass of Kafka's log cleaner, if `cleanup.policy` includes `compact` and the dirty ratio
    /// has reached `min.cleanable.dirty.ratio`: in every segment but the active one, keep only the
    /// latest record of each key (by offset, looking at everything up to the active segment), keep
    /// offsets as they were (gaps remain), drop tombstones older than `delete.retention.ms`, and
    /// drop batches and segments left empty. Returns what it did, or `None` when it did not run.
    pub fn clean(&mut self, now_ms: i64) -> Option<CleanResult> {
        if !self.config.compact || self.segments.len() < 2 {
            return None;
        }
        let dirty_ratio = self.dirty_ratio();
        // Kafka cleans a log whose ratio is strictly above the minimum.
        if dirty_ratio <= 0.0 || dirty_ratio <= self.config.min_cleanable_dirty_ratio {
            return None;
        }
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        // The offset map: each key's latest offset in the cleanable range.
        let mut latest: std::collections::HashMap<Vec<u8>, i64> = std::collections::HashMap::new();
        for (_, segment) in self.segments.range(..active) {
            for batch in decode_all(segment.log_bytes()) {
                for record in &batch.records {
                    if let Some(key) = &record.key {
                        latest.insert(key.clone(), batch.base_offset + i64::from(record.offset_delta));
                    }
                }
            }
        }
        let mut result = CleanResult {
            dirty_ratio,
            segments_cleaned: 0,
            records_before: 0,
            records_after: 0,
            tombstones_dropped: 0,
        };
        let cleanable: Vec<i64> = self.segments.range(..active).map(|(&base, _)| base).collect();
        for base in cleanable {
            let segment = self.segments.remove(&base).expect("listed above");
            let mut cleaned = self.new_segment(base);
            for mut batch in decode_all(segment.log_bytes()) {
                result.records_before += batch.records.len();
                let base_offset = batch.base_offset;
                let base_timestamp = batch.base_timestamp;
                let before = batch.records.len();
                // Keep a record only if it is its key's latest (records without a key predate the
                // compact policy and are kept as they are).
                batch.records.retain(|record| {
                    let offset = base_offset + i64::from(record.offset_delta);
                    record.key.as_ref().is_none_or(|key| latest.get(key) == Some(&offset))
                });
                let superseded = before - batch.records.len();
                batch.records.retain(|record| {
                    let expired = record.value.is_none()
                        && now_ms - (base_timestamp + record.timestamp_delta)
                            > self.config.delete_retention_ms;
                    !expired
                });
                result.tombstones_dropped += before - superseded - batch.records.len();
                result.records_after += batch.records.len();
                if batch.records.is_empty() {
                    continue;
                }
                if batch.attributes.timestamp_type == TimestampType::CreateTime {
                    batch.max_timestamp = batch
                        .records
                        .iter()
                        .map(|r| base_timestamp + r.timestamp_delta)
                        .max()
                        .unwrap_or(base_timestamp);
                }
                // Offsets and lastOffsetDelta stay as they were: gaps are how compaction looks.
                if let Ok(bytes) = batch.encode() {
                    // Re-encoding a batch that was valid cannot produce an invalid one.
                    let _ = cleaned.append(&bytes);
                }
            }
            result.segments_cleaned += 1;
            if cleaned.size_bytes() > 0 {
                self.segments.insert(base, cleaned);
            }
        }
        self.first_dirty_offset = active;
        Some(result)
    }
}

/// Every batch of a segment's validated bytes, decoded.
fn decode_all(mut bytes: &[u8]) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    while let Ok((batch, used)) = RecordBatch::decode(bytes) {
        batches.push(batch);
        bytes = &bytes[used..];
    }
    batches
}
