//! One log segment as Kafka keeps it: the `.log` bytes (whole RecordBatch v2 batches, back to
//! back), a sparse offset index and a time index, named by the segment's base offset.
//!
//! Mirrors Kafka's `LogSegment`: an index entry is added once more than `index.interval.bytes`
//! were appended since the last one, pointing the batch's last offset at the batch's position;
//! reads start at the batch that contains the requested offset and return whole batches; recovery
//! re-validates every batch and cuts the segment at the first bad one.

use super::index::{IndexError, NO_TIMESTAMP, OffsetIndex, TimeIndex, relative_offset};
use crate::record::batch::{BatchError, BatchHeader, RecordBatch};

/// Kafka's `index.interval.bytes` default.
pub const DEFAULT_INDEX_INTERVAL_BYTES: usize = 4096;

/// A segment file's name: the base offset in 20 digits, then the suffix (`.log`, `.index`, …).
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentError {
    Batch(BatchError),
    Index(IndexError),
    /// A batch whose first offset is below the segment's next offset.
    OffsetNotIncreasing {
        base_offset: i64,
        next_offset: i64,
    },
    /// The segment would exceed 4 GiB, the most a 32-bit index position can address.
    TooLarge {
        size_bytes: usize,
    },
}

impl std::fmt::Display for SegmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegmentError::Batch(e) => write!(f, "invalid batch: {e}"),
            SegmentError::Index(e) => write!(f, "index: {e}"),
            SegmentError::OffsetNotIncreasing { base_offset, next_offset } => {
                write!(
                    f,
                    "batch starts at offset {base_offset}, below the segment's next offset {next_offset}"
                )
            }
            SegmentError::TooLarge { size_bytes } => write!(f, "segment of {size_bytes} bytes exceeds 4 GiB"),
        }
    }
}

impl std::error::Error for SegmentError {}

/// What recovery found: how much of the `.log` was valid, and why it stopped, if it stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    pub valid_bytes: usize,
    pub truncated_bytes: usize,
    pub batches: usize,
    pub stopped_by: Option<ScanStop>,
}

/// Why a scan of `.log` bytes stopped before their end, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanStop {
    /// The bytes at `position` are not a valid batch (short, bad CRC, …).
    InvalidBatch { position: usize, error: BatchError },
    /// The batch at `position` starts below the offset the previous batch ended at.
    OffsetsOutOfOrder { position: usize, base_offset: i64, expected_at_least: i64 },
}

impl std::fmt::Display for ScanStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanStop::InvalidBatch { position, error } => {
                write!(f, "invalid batch at byte {position}: {error}")
            }
            ScanStop::OffsetsOutOfOrder { position, base_offset, expected_at_least } => write!(
                f,
                "batch at byte {position} starts at offset {base_offset}, below {expected_at_least}"
            ),
        }
    }
}

/// When a segment must roll before taking a batch (Kafka's `LogSegment.shouldRoll`).
pub struct RollCheck {
    /// `segment.bytes`.
    pub max_segment_bytes: usize,
    /// `segment.ms`.
    pub segment_ms: i64,
    pub batch_bytes: usize,
    pub batch_max_timestamp: i64,
    pub batch_last_offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSegment {
    base_offset: i64,
    log: Vec<u8>,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    index_interval_bytes: usize,
    /// The byte budget each index was made with (`segment.index.bytes`).
    max_index_bytes: usize,
    bytes_since_last_index_entry: usize,
    /// The largest batch max timestamp so far, and the last offset of that batch.
    max_timestamp_so_far: i64,
    offset_of_max_timestamp: i64,
    /// The first batch's max timestamp: `segment.ms` counts from it.
    rolling_based_timestamp: Option<i64>,
    next_offset: i64,
}

impl LogSegment {
    pub fn new(base_offset: i64, index_interval_bytes: usize, max_index_bytes: usize) -> LogSegment {
        LogSegment {
            base_offset,
            log: Vec::new(),
            offset_index: OffsetIndex::new(base_offset, max_index_bytes),
            time_index: TimeIndex::new(base_offset, max_index_bytes),
            index_interval_bytes,
            max_index_bytes,
            bytes_since_last_index_entry: 0,
            max_timestamp_so_far: NO_TIMESTAMP,
            offset_of_max_timestamp: base_offset,
            rolling_based_timestamp: None,
            next_offset: base_offset,
        }
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// One past the last offset in the segment.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub fn size_bytes(&self) -> usize {
        self.log.len()
    }

    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp_so_far
    }

    /// The `.log` file's bytes.
    pub fn log_bytes(&self) -> &[u8] {
        &self.log
    }

    pub fn offset_index(&self) -> &OffsetIndex {
        &self.offset_index
    }

    pub fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    pub fn should_roll(&self, check: &RollCheck) -> bool {
        let size = self.log.len();
        let too_big = size + check.batch_bytes > check.max_segment_bytes;
        let too_old = size > 0
            && self
                .rolling_based_timestamp
                .is_some_and(|first| check.batch_max_timestamp - first > check.segment_ms);
        let cannot_index = self.offset_index.is_full() || self.time_index.is_full();
        let offset_overflows = relative_offset(self.base_offset, check.batch_last_offset).is_none();
        (size > 0 && too_big) || too_old || cannot_index || offset_overflows
    }

    /// Appends one whole batch whose offsets are already assigned. It is validated first, so a
    /// segment only ever holds batches that parse with a good CRC.
    pub fn append(&mut self, batch: &[u8]) -> Result<(), SegmentError> {
        let header = BatchHeader::parse(batch).map_err(SegmentError::Batch)?;
        self.append_validated(&batch[..header.total_bytes()], &header)
    }

    /// `append` for a batch the caller has just validated and whose `header` it holds (a leader
    /// that parsed, then stamped, the batch), so the CRC is not computed twice.
    pub(crate) fn append_validated(
        &mut self,
        batch: &[u8],
        header: &BatchHeader,
    ) -> Result<(), SegmentError> {
        debug_assert_eq!(batch.len(), header.total_bytes());
        if header.base_offset < self.next_offset {
            return Err(SegmentError::OffsetNotIncreasing {
                base_offset: header.base_offset,
                next_offset: self.next_offset,
            });
        }
        let position = u32::try_from(self.log.len())
            .map_err(|_| SegmentError::TooLarge { size_bytes: self.log.len() + batch.len() })?;
        if relative_offset(self.base_offset, header.last_offset()).is_none() {
            return Err(SegmentError::Index(IndexError::OffsetOutOfRange {
                offset: header.last_offset(),
                base_offset: self.base_offset,
            }));
        }
        self.index_batch(header, position)?;
        self.log.extend_from_slice(batch);
        Ok(())
    }

    /// Index bookkeeping for a batch at `position`, exactly as Kafka orders it.
    fn index_batch(&mut self, header: &BatchHeader, position: u32) -> Result<(), SegmentError> {
        if position == 0 {
            self.rolling_based_timestamp = Some(header.max_timestamp);
        }
        if header.max_timestamp > self.max_timestamp_so_far {
            self.max_timestamp_so_far = header.max_timestamp;
            self.offset_of_max_timestamp = header.last_offset();
        }
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            self.offset_index.append(header.last_offset(), position).map_err(SegmentError::Index)?;
            self.time_index
                .maybe_append(self.max_timestamp_so_far, self.offset_of_max_timestamp)
                .map_err(SegmentError::Index)?;
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += header.total_bytes();
        self.next_offset = header.last_offset() + 1;
        Ok(())
    }

    /// Headers of the batches from `position` on, each with its position. The segment holds only
    /// validated batches, so this reads headers without re-checking CRCs and stops only at the end.
    fn batches_from(&self, position: usize) -> impl Iterator<Item = (usize, BatchHeader)> + '_ {
        let mut at = position;
        std::iter::from_fn(move || {
            let header = BatchHeader::parse_trusted(self.log.get(at..)?).ok()?;
            let here = at;
            at += header.total_bytes();
            Some((here, header))
        })
    }

    /// Position and header of the batch containing `offset` (or the first batch after it, in a
    /// compacted segment), if the segment reaches that far.
    pub fn translate_offset(&self, offset: i64) -> Option<(usize, BatchHeader)> {
        let (_, start) = self.offset_index.lookup(offset);
        self.batches_from(start as usize).find(|(_, header)| header.last_offset() >= offset)
    }

    /// Whole batches from the one containing `offset`, up to `max_bytes` but always at least one
    /// (Kafka's fetch rule, so a consumer can never get stuck behind a large batch).
    pub fn read(&self, offset: i64, max_bytes: usize) -> Option<&[u8]> {
        let (start, first) = self.translate_offset(offset)?;
        let mut end = start + first.total_bytes();
        for (position, header) in self.batches_from(end) {
            if position + header.total_bytes() - start > max_bytes {
                break;
            }
            end = position + header.total_bytes();
        }
        Some(&self.log[start..end])
    }

    /// The first offset whose record timestamp is at or after `timestamp` (Kafka's
    /// `findOffsetByTimestamp`), decoding only the batch that holds it.
    pub fn find_offset_by_timestamp(&self, timestamp: i64) -> Option<i64> {
        let (_, indexed_offset) = self.time_index.lookup(timestamp);
        let (_, start) = self.offset_index.lookup(indexed_offset);
        let (position, header) =
            self.batches_from(start as usize).find(|(_, header)| header.max_timestamp >= timestamp)?;
        let (batch, _) = RecordBatch::decode(&self.log[position..position + header.total_bytes()]).ok()?;
        batch
            .records
            .iter()
            .find(|r| batch.base_timestamp + r.timestamp_delta >= timestamp)
            .map(|r| batch.base_offset + i64::from(r.offset_delta))
    }

    /// Removes the batch containing `offset` and everything after it, as Kafka's truncation does
    /// (batches are never split). Returns the bytes removed.
    pub fn truncate_to(&mut self, offset: i64) -> usize {
        let Some((position, _)) = self.translate_offset(offset) else { return 0 };
        let removed = self.log.len() - position;
        let kept = self.log[..position].to_vec();
        self.rebuild(kept);
        removed
    }

    /// Rebuilds the indexes and counters from `log`, which holds only validated batches.
    fn rebuild(&mut self, log: Vec<u8>) {
        let mut fresh = LogSegment::new(self.base_offset, self.index_interval_bytes, self.max_index_bytes);
        for (position, header) in LogSegment::scan(&log).0 {
            // The batches were valid when first appended; re-indexing them cannot fail.
            let _ = fresh.index_batch(&header, position as u32);
        }
        fresh.log = log;
        *self = fresh;
    }

    /// Every valid batch from the start of `log`, and what stopped the scan early.
    pub fn scan(log: &[u8]) -> (Vec<(usize, BatchHeader)>, Option<ScanStop>) {
        let mut batches = Vec::new();
        let mut at = 0;
        let mut expected_at_least: Option<i64> = None;
        while at < log.len() {
            match BatchHeader::parse(&log[at..]) {
                Ok(header) => {
                    // Offsets out of order end the valid prefix too, as Kafka's recovery does.
                    if let Some(expected) = expected_at_least
                        && header.base_offset < expected
                    {
                        let stop = ScanStop::OffsetsOutOfOrder {
                            position: at,
                            base_offset: header.base_offset,
                            expected_at_least: expected,
                        };
                        return (batches, Some(stop));
                    }
                    expected_at_least = Some(header.last_offset() + 1);
                    batches.push((at, header));
                    at += header.total_bytes();
                }
                Err(error) => return (batches, Some(ScanStop::InvalidBatch { position: at, error })),
            }
        }
        (batches, None)
    }

    /// Kafka's `LogSegment.recover`: re-validates every batch of `log`, keeps the valid prefix,
    /// rebuilds both indexes, and reports what it cut.
    pub fn recover(
        base_offset: i64,
        log: Vec<u8>,
        index_interval_bytes: usize,
        max_index_bytes: usize,
    ) -> (LogSegment, Recovery) {
        let (batches, stopped_by) = LogSegment::scan(&log);
        let valid_bytes = batches.last().map_or(0, |(position, header)| position + header.total_bytes());
        let mut segment = LogSegment::new(base_offset, index_interval_bytes, max_index_bytes);
        for (position, header) in &batches {
            let _ = segment.index_batch(header, *position as u32);
        }
        let truncated_bytes = log.len() - valid_bytes;
        let mut log = log;
        log.truncate(valid_bytes);
        segment.log = log;
        let recovery = Recovery { valid_bytes, truncated_bytes, batches: batches.len(), stopped_by };
        (segment, recovery)
    }
}
