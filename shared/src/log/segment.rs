//! One log segment as Kafka keeps it: the `.log` bytes (whole RecordBatch v2 batches, back to
//! back), a sparse offset index and a time index, named by the segment's base offset.
//!
//! Mirrors Kafka's `LogSegment`: an index entry is added once more than `index.interval.bytes`
//! were appended since the last one, pointing the batch's last offset at the batch's position;
//! reads start at the batch that contains the requested offset and return whole batches; recovery
//! re-validates every batch and cuts the segment at the first bad one.

use std::borrow::Cow;

use super::index::{IndexError, NO_TIMESTAMP, OffsetIndex, TimeIndex, relative_offset};
use super::storage::{MemorySegment, SegmentFile, StorageError};
use crate::record::batch::{BATCH_HEADER_BYTES, BatchError, BatchHeader, RecordBatch};

/// Kafka's `index.interval.bytes` default.
pub const DEFAULT_INDEX_INTERVAL_BYTES: usize = 4096;

pub use super::storage::file_name;

/// Why a segment refused to append a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// The bytes are not a valid RecordBatch v2.
    Batch(BatchError),
    /// An index could not take the batch: its last offset does not fit a 32-bit offset relative
    /// to the segment's base, or an index is full.
    Index(IndexError),
    /// A batch whose first offset is below the segment's next offset.
    OffsetNotIncreasing {
        /// The batch's baseOffset.
        base_offset: i64,
        /// One past the segment's last offset: the lowest baseOffset it accepts.
        next_offset: i64,
    },
    /// The segment would exceed 4 GiB, the most a 32-bit index position can address.
    TooLarge {
        /// The size the segment would have reached, in bytes.
        size_bytes: usize,
    },
    /// The host could not read or write the segment's file.
    Storage(StorageError),
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
            SegmentError::Storage(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SegmentError {}

impl From<StorageError> for SegmentError {
    fn from(error: StorageError) -> Self {
        SegmentError::Storage(error)
    }
}

/// What recovery found: how much of the `.log` was valid, and why it stopped, if it stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of valid batches from the start of the `.log`; the file now ends there.
    pub valid_bytes: usize,
    /// Bytes cut off after them (a torn or partial write).
    pub truncated_bytes: usize,
    /// Valid batches kept.
    pub batches: usize,
    /// Why the scan stopped before the file's end; `None` when every batch was valid.
    pub stopped_by: Option<ScanStop>,
}

/// Why a scan of `.log` bytes stopped before their end, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanStop {
    /// The bytes at `position` are not a valid batch (short, bad CRC, …).
    InvalidBatch {
        /// Byte position in the `.log` where a batch should start.
        position: usize,
        /// Why the bytes there do not parse.
        error: BatchError,
    },
    /// The batch at `position` starts below the offset the previous batch ended at (or below the
    /// segment's base offset).
    OffsetsOutOfOrder {
        /// Byte position of the batch in the `.log`.
        position: usize,
        /// The batch's baseOffset.
        base_offset: i64,
        /// One past the previous batch's last offset; the segment's base offset for the first.
        expected_at_least: i64,
    },
    /// In a log that is not compacted, the batch at `position` does not start where the previous
    /// one ended (or at the segment's base): offsets skipped, as a rotten baseOffset (which the
    /// CRC does not cover) makes them.
    OffsetsSkipped {
        /// Byte position of the batch in the `.log`.
        position: usize,
        /// The batch's baseOffset.
        base_offset: i64,
        /// One past the previous batch's last offset; the segment's base offset for the first.
        expected: i64,
    },
    /// The batch at `position` ends more than `i32::MAX` offsets past the segment's base.
    OffsetBeyondSegment {
        /// Byte position of the batch in the `.log`.
        position: usize,
        /// The batch's last offset (baseOffset + lastOffsetDelta).
        last_offset: i64,
        /// The segment's base offset.
        base_offset: i64,
    },
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
            ScanStop::OffsetsSkipped { position, base_offset, expected } => write!(
                f,
                "batch at byte {position} starts at offset {base_offset}, where {expected} comes next"
            ),
            ScanStop::OffsetBeyondSegment { position, last_offset, base_offset } => write!(
                f,
                "batch at byte {position} ends at offset {last_offset}, too far past the segment's base {base_offset}"
            ),
        }
    }
}

/// A record found by its time, as Kafka's `FileRecords.TimestampAndOffset`: its offset and its
/// own timestamp (which ListOffsets gives back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampAndOffset {
    /// The record's timestamp (ms), as consumers see it.
    pub timestamp: i64,
    /// The record's offset.
    pub offset: i64,
}

/// When a segment must roll before taking a batch (Kafka's `LogSegment.shouldRoll`).
pub struct RollCheck {
    /// `segment.bytes`.
    pub max_segment_bytes: usize,
    /// `segment.ms`.
    pub segment_ms: i64,
    /// Size of the batch about to be appended, in bytes.
    pub batch_bytes: usize,
    /// The batch's maxTimestamp (ms); `segment.ms` counts from the first batch's to it.
    pub batch_max_timestamp: i64,
    /// The batch's last offset, which must fit a 32-bit offset relative to the segment's base.
    pub batch_last_offset: i64,
}

/// One segment: its `.log` file, its offset and time indexes, and the bookkeeping Kafka's
/// `LogSegment` keeps to extend them.
pub struct LogSegment {
    base_offset: i64,
    /// The `.log` bytes, wherever the host keeps them.
    file: Box<dyn SegmentFile>,
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
    /// The bytes the file held when this process opened it. Only they can have changed since
    /// they were written (a disk that rots); what this process appended it checked itself.
    found_on_disk: usize,
}

impl std::fmt::Debug for LogSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSegment")
            .field("base_offset", &self.base_offset)
            .field("size_bytes", &self.file.len())
            .field("next_offset", &self.next_offset)
            .field("max_timestamp", &self.max_timestamp_so_far)
            .finish_non_exhaustive()
    }
}

/// Same base, bytes, indexes and bookkeeping, wherever the bytes are kept.
impl PartialEq for LogSegment {
    fn eq(&self, other: &Self) -> bool {
        self.base_offset == other.base_offset
            && self.offset_index == other.offset_index
            && self.time_index == other.time_index
            && self.index_interval_bytes == other.index_interval_bytes
            && self.bytes_since_last_index_entry == other.bytes_since_last_index_entry
            && self.max_timestamp_so_far == other.max_timestamp_so_far
            && self.offset_of_max_timestamp == other.offset_of_max_timestamp
            && self.rolling_based_timestamp == other.rolling_based_timestamp
            && self.next_offset == other.next_offset
            && self.log_bytes() == other.log_bytes()
    }
}

impl LogSegment {
    /// An empty segment held in memory.
    pub fn new(base_offset: i64, index_interval_bytes: usize, max_index_bytes: usize) -> LogSegment {
        let file = Box::new(MemorySegment::ephemeral(base_offset));
        LogSegment::empty(base_offset, file, index_interval_bytes, max_index_bytes)
    }

    /// A segment over `file`, taken to be empty (a freshly created `.log`).
    pub fn empty(
        base_offset: i64,
        file: Box<dyn SegmentFile>,
        index_interval_bytes: usize,
        max_index_bytes: usize,
    ) -> LogSegment {
        LogSegment {
            base_offset,
            file,
            offset_index: OffsetIndex::new(base_offset, max_index_bytes),
            time_index: TimeIndex::new(base_offset, max_index_bytes),
            index_interval_bytes,
            max_index_bytes,
            bytes_since_last_index_entry: 0,
            max_timestamp_so_far: NO_TIMESTAMP,
            offset_of_max_timestamp: base_offset,
            found_on_disk: 0,
            rolling_based_timestamp: None,
            next_offset: base_offset,
        }
    }

    /// Opens a flushed segment (below the recovery point, or any after a clean shutdown) without
    /// reading all its batches: the index files are loaded (rebuilt from batch headers when
    /// missing or not sane), and only the batches after the last offset index entry are read to
    /// find the segment's end, as Kafka's `LogSegment` does lazily. Returns whether the indexes
    /// were rebuilt, or where a batch header was unreadable.
    pub fn open(
        base_offset: i64,
        file: Box<dyn SegmentFile>,
        index_files: Option<(&[u8], &[u8])>,
        index_interval_bytes: usize,
        max_index_bytes: usize,
        contiguous: bool,
    ) -> Result<(LogSegment, bool), OpenError> {
        let size = file.len();
        let mut segment = LogSegment::empty(base_offset, file, index_interval_bytes, max_index_bytes);
        let loaded = index_files.and_then(|(offsets, times)| {
            let offsets = OffsetIndex::from_bytes(base_offset, offsets, max_index_bytes).ok()?;
            let times = TimeIndex::from_bytes(base_offset, times, max_index_bytes).ok()?;
            // Kafka's sanity check: every entry must point inside the file.
            let (_, last_position) = offsets.lookup(i64::MAX);
            ((last_position as usize) < size || offsets.is_empty()).then_some((offsets, times))
        });
        let rebuilt = loaded.is_none();
        let mut from = 0;
        // The offset the first batch read must start at (outside compaction): the segment's base,
        // or where the batch the last index entry names starts (its last offset is the entry's).
        let mut expected = Some(base_offset);
        if let Some((offsets, times)) = loaded {
            let (indexed, position) = offsets.lookup(i64::MAX);
            from = position as usize;
            expected = (from == 0).then_some(base_offset);
            if from > 0 {
                let header = segment.header_at(from)?.ok_or(OpenError::Unreadable { position: from })?;
                if contiguous && header.last_offset() != indexed {
                    return Err(OpenError::OffsetsSkipped {
                        position: from,
                        base_offset: header.base_offset,
                        expected: indexed,
                    });
                }
            }
            if let Some((timestamp, offset)) = times.last_entry() {
                segment.max_timestamp_so_far = timestamp;
                segment.offset_of_max_timestamp = offset;
            }
            segment.offset_index = offsets;
            segment.time_index = times;
            if from > 0 {
                let first = segment.header_at(0)?.ok_or(OpenError::Unreadable { position: 0 })?;
                segment.rolling_based_timestamp = Some(first.max_timestamp);
            }
        }
        // Replay the batches after the last entry; `index_batch` adds what the files lack.
        let mut at = from;
        while at < size {
            let header = segment.header_at(at)?.ok_or(OpenError::Unreadable { position: at })?;
            if let Some(expected) = expected.filter(|&e| contiguous && header.base_offset != e) {
                return Err(OpenError::OffsetsSkipped {
                    position: at,
                    base_offset: header.base_offset,
                    expected,
                });
            }
            segment.index_batch(&header, at as u32).map_err(|_| OpenError::Unreadable { position: at })?;
            expected = Some(header.last_offset() + 1);
            at += header.total_bytes();
        }
        segment.found_on_disk = size;
        Ok((segment, rebuilt))
    }

    /// The offset the segment's files are named by; none of its records is below it.
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// One past the last offset in the segment.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// The `.log` file's size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.file.len()
    }

    /// The largest batch maxTimestamp in the segment (ms), −1 (`NO_TIMESTAMP`) when empty;
    /// `retention.ms` measures a segment's age from it.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp_so_far
    }

    /// The `.log` file's bytes.
    pub fn log_bytes(&self) -> Result<Cow<'_, [u8]>, StorageError> {
        self.file.read_at(0, self.file.len())
    }

    /// The segment's `.index`, as it is in memory.
    pub fn offset_index(&self) -> &OffsetIndex {
        &self.offset_index
    }

    /// The segment's `.timeindex`, as it is in memory.
    pub fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    /// Makes the segment's bytes durable.
    pub fn flush(&mut self) -> Result<(), StorageError> {
        self.file.flush()
    }

    /// The same segment over another file holding the same bytes (a compacted segment moving
    /// from memory to its swapped-in file).
    pub fn with_file(self, file: Box<dyn SegmentFile>) -> LogSegment {
        debug_assert_eq!(file.len(), self.file.len());
        LogSegment { file, ..self }
    }

    /// Whether a new segment must start before this batch: it would take a non-empty segment past
    /// `segment.bytes`, its maxTimestamp is more than `segment.ms` after the first batch's, an
    /// index is full, or its last offset does not fit a 32-bit relative offset.
    pub fn should_roll(&self, check: &RollCheck) -> bool {
        let size = self.file.len();
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
        let size = self.file.len();
        // Index positions are 32-bit: the whole segment must stay addressable.
        u32::try_from(size + batch.len())
            .map_err(|_| SegmentError::TooLarge { size_bytes: size + batch.len() })?;
        let position = size as u32;
        if relative_offset(self.base_offset, header.last_offset()).is_none() {
            return Err(SegmentError::Index(IndexError::OffsetOutOfRange {
                offset: header.last_offset(),
                base_offset: self.base_offset,
            }));
        }
        // Write first: a failed write leaves the indexes describing only what the file holds.
        self.file.append(batch)?;
        self.index_batch(header, position)?;
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

    /// The header of the stored batch at `position`, read without re-checking its CRC (the
    /// segment holds validated batches); `None` at the end or where no batch parses.
    fn header_at(&self, position: usize) -> Result<Option<BatchHeader>, StorageError> {
        let size = self.file.len();
        if position >= size {
            return Ok(None);
        }
        let bytes = self.file.read_at(position, BATCH_HEADER_BYTES)?;
        Ok(BatchHeader::parse_stored(&bytes, size - position).ok())
    }

    /// Headers of the batches from `position` on, each with its position.
    fn batches_from(
        &self,
        position: usize,
    ) -> impl Iterator<Item = Result<(usize, BatchHeader), StorageError>> + '_ {
        let mut at = Some(position);
        std::iter::from_fn(move || {
            let here = at?;
            match self.header_at(here) {
                Ok(Some(header)) => {
                    at = Some(here + header.total_bytes());
                    Some(Ok((here, header)))
                }
                Ok(None) => None,
                Err(e) => {
                    at = None;
                    Some(Err(e))
                }
            }
        })
    }

    /// Position and header of the batch containing `offset` (or the first batch after it, in a
    /// compacted segment), if the segment reaches that far.
    pub fn translate_offset(&self, offset: i64) -> Result<Option<(usize, BatchHeader)>, StorageError> {
        let (_, start) = self.offset_index.lookup(offset);
        for batch in self.batches_from(start as usize) {
            let (position, header) = batch?;
            if header.last_offset() >= offset {
                return Ok(Some((position, header)));
            }
        }
        Ok(None)
    }

    /// Whole batches from the one containing `offset`, up to `max_bytes` but always at least one
    /// (Kafka's fetch rule, so a consumer can never get stuck behind a large batch).
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Option<Cow<'_, [u8]>>, StorageError> {
        Ok(self.read_from(offset, max_bytes)?.map(|(bytes, _)| bytes))
    }

    /// `read`, and whether the bytes read include some the file held when this process opened
    /// it (bytes a disk may have changed since they were written).
    pub fn read_from(&self, offset: i64, max_bytes: usize) -> Result<Option<StoredRead<'_>>, StorageError> {
        let Some((start, first)) = self.translate_offset(offset)? else { return Ok(None) };
        let mut end = start + first.total_bytes();
        for batch in self.batches_from(end) {
            let (position, header) = batch?;
            if position + header.total_bytes() - start > max_bytes {
                break;
            }
            end = position + header.total_bytes();
        }
        let stored = start < self.found_on_disk;
        self.file.read_at(start, end - start).map(|bytes| Some((bytes, stored)))
    }

    /// The first record at or past `starting_offset` whose timestamp is at or after `timestamp`
    /// (Kafka's `findOffsetByTimestamp`), decoding only the batch that holds it.
    pub fn find_by_timestamp(
        &self,
        timestamp: i64,
        starting_offset: i64,
    ) -> Result<Option<TimestampAndOffset>, StorageError> {
        let (_, indexed_offset) = self.time_index.lookup(timestamp);
        let (_, start) = self.offset_index.lookup(indexed_offset.max(starting_offset));
        self.first_record_from(start as usize, starting_offset, |ts| ts >= timestamp)
    }

    /// KIP-734's lookup in this segment: its record with the largest timestamp (the first of
    /// them), as Kafka's `UnifiedLog` finds it for ListOffsets' MAX_TIMESTAMP.
    pub fn find_max_timestamp(&self) -> Result<Option<TimestampAndOffset>, StorageError> {
        if self.max_timestamp_so_far == NO_TIMESTAMP {
            return Ok(None);
        }
        let max = self.max_timestamp_so_far;
        // The batch holding it ends at `offset_of_max_timestamp`; the index finds a position at
        // or before its start.
        let (_, start) = self.offset_index.lookup(self.offset_of_max_timestamp);
        self.first_record_from(start as usize, self.base_offset, |ts| ts == max)
    }

    /// The first record at or after byte `start` and offset `from_offset` whose timestamp (as
    /// consumers see it) passes `wanted`, skipping whole batches by their maxTimestamp header.
    fn first_record_from(
        &self,
        start: usize,
        from_offset: i64,
        wanted: impl Fn(i64) -> bool,
    ) -> Result<Option<TimestampAndOffset>, StorageError> {
        for batch in self.batches_from(start) {
            let (position, header) = batch?;
            // A batch whose largest timestamp does not pass holds no record that does (both
            // lookups ask for a timestamp at or past a bound).
            if header.last_offset() < from_offset || !wanted(header.max_timestamp) {
                continue;
            }
            let bytes = self.file.read_at(position, header.total_bytes())?;
            let Ok((batch, _)) = RecordBatch::decode(&bytes) else { return Ok(None) };
            let found = batch
                .records
                .iter()
                .map(|r| TimestampAndOffset {
                    timestamp: batch.timestamp_of(r),
                    offset: batch.base_offset + i64::from(r.offset_delta),
                })
                .find(|r| r.offset >= from_offset && wanted(r.timestamp));
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Removes the batch containing `offset` and everything after it, as Kafka's truncation does
    /// (batches are never split). Returns the bytes removed.
    pub fn truncate_to(&mut self, offset: i64) -> Result<usize, StorageError> {
        let Some((position, _)) = self.translate_offset(offset)? else { return Ok(0) };
        let removed = self.file.len() - position;
        self.file.truncate(position)?;
        let found_on_disk = self.found_on_disk.min(position);
        self.reindex()?;
        self.found_on_disk = found_on_disk;
        Ok(removed)
    }

    /// Rebuilds the indexes and counters from the file's batch headers.
    fn reindex(&mut self) -> Result<(), StorageError> {
        let headers: Vec<(usize, BatchHeader)> = self.batches_from(0).collect::<Result<_, _>>()?;
        let fresh = LogSegment::new(self.base_offset, self.index_interval_bytes, self.max_index_bytes);
        let file = std::mem::replace(&mut self.file, Box::new(MemorySegment::ephemeral(self.base_offset)));
        *self = fresh.with_file_unchecked(file);
        for (position, header) in headers {
            // The batches were valid when first appended; re-indexing them cannot fail.
            let _ = self.index_batch(&header, position as u32);
        }
        Ok(())
    }

    fn with_file_unchecked(self, file: Box<dyn SegmentFile>) -> LogSegment {
        LogSegment { file, ..self }
    }

    /// Every valid batch from the start of `log` (a segment with base offset `base_offset`), and
    /// what stopped the scan early: a batch that does not parse, starts below where the previous
    /// one ended (or below the base), or ends beyond what the segment's 32-bit relative offsets
    /// can address.
    pub fn scan(
        log: &[u8],
        base_offset: i64,
        contiguous: bool,
    ) -> (Vec<(usize, BatchHeader)>, Option<ScanStop>) {
        let mut batches = Vec::new();
        let mut at = 0;
        let mut expected_at_least = base_offset;
        while at < log.len() {
            match BatchHeader::parse(&log[at..]) {
                Ok(header) => {
                    // Offsets out of order end the valid prefix too, as Kafka's recovery does.
                    if header.base_offset < expected_at_least {
                        let stop = ScanStop::OffsetsOutOfOrder {
                            position: at,
                            base_offset: header.base_offset,
                            expected_at_least,
                        };
                        return (batches, Some(stop));
                    }
                    // Outside compaction a log has every offset: a batch that skips some is not
                    // what was written.
                    if contiguous && header.base_offset != expected_at_least {
                        let stop = ScanStop::OffsetsSkipped {
                            position: at,
                            base_offset: header.base_offset,
                            expected: expected_at_least,
                        };
                        return (batches, Some(stop));
                    }
                    if relative_offset(base_offset, header.last_offset()).is_none() {
                        let stop = ScanStop::OffsetBeyondSegment {
                            position: at,
                            last_offset: header.last_offset(),
                            base_offset,
                        };
                        return (batches, Some(stop));
                    }
                    expected_at_least = header.last_offset() + 1;
                    batches.push((at, header));
                    at += header.total_bytes();
                }
                Err(error) => return (batches, Some(ScanStop::InvalidBatch { position: at, error })),
            }
        }
        (batches, None)
    }

    /// Kafka's `LogSegment.recover`: re-validates every batch of the file, cuts the file after
    /// the valid prefix, rebuilds both indexes, and reports what it cut. If the valid prefix ends
    /// below `flushed_below` (data that was made durable is unreadable), nothing is cut: that is
    /// corruption to report, not a torn tail.
    pub fn recover(
        base_offset: i64,
        mut file: Box<dyn SegmentFile>,
        index_interval_bytes: usize,
        max_index_bytes: usize,
        flushed_below: i64,
        contiguous: bool,
    ) -> Result<(LogSegment, Recovery), RecoverError> {
        let size = file.len();
        let (batches, stopped_by) = {
            let log = file.read_at(0, size)?;
            LogSegment::scan(&log, base_offset, contiguous)
        };
        let valid_bytes = batches.last().map_or(0, |(position, header)| position + header.total_bytes());
        let valid_end = batches.last().map_or(base_offset, |(_, header)| header.last_offset() + 1);
        if let Some(stop) = &stopped_by
            && valid_end < flushed_below
        {
            return Err(RecoverError::Corrupt { stop: stop.clone(), valid_end_offset: valid_end });
        }
        if valid_bytes < size {
            // The cut is made durable at once: the log's recovery point will soon say this
            // segment is whole, and a power cut that brought the torn bytes back after that
            // would leave a "flushed" segment that cannot be read.
            file.truncate(valid_bytes)?;
            file.flush()?;
        }
        let mut segment = LogSegment::empty(base_offset, file, index_interval_bytes, max_index_bytes);
        for (position, header) in &batches {
            let _ = segment.index_batch(header, *position as u32);
        }
        segment.found_on_disk = valid_bytes;
        let recovery =
            Recovery { valid_bytes, truncated_bytes: size - valid_bytes, batches: batches.len(), stopped_by };
        Ok((segment, recovery))
    }

    /// `recover` over bytes held in memory.
    pub fn recover_bytes(
        base_offset: i64,
        log: Vec<u8>,
        index_interval_bytes: usize,
        max_index_bytes: usize,
    ) -> (LogSegment, Recovery) {
        let file = Box::new(MemorySegment::with_bytes(base_offset, log));
        // A memory file cannot fail to read or truncate.
        match LogSegment::recover(
            base_offset,
            file,
            index_interval_bytes,
            max_index_bytes,
            base_offset,
            false,
        ) {
            Ok(recovered) => recovered,
            Err(e) => unreachable!("memory storage cannot fail and nothing is protected: {e:?}"),
        }
    }
}

/// Whole batches a read found, and whether they include bytes the file held when this process
/// opened it.
pub type StoredRead<'a> = (Cow<'a, [u8]>, bool);

/// Why a segment could not be opened without recovery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// No valid batch header at this byte position.
    Unreadable {
        /// Byte position in the `.log`.
        position: usize,
    },
    /// Outside compaction, the batch at `position` does not start where the previous one ended.
    OffsetsSkipped {
        /// Byte position in the `.log`.
        position: usize,
        /// The batch's baseOffset (for the batch the last index entry names, its last offset).
        base_offset: i64,
        /// The offset it should start at (or end at).
        expected: i64,
    },
    /// The host could not read the segment's files.
    Storage(StorageError),
}

impl From<StorageError> for OpenError {
    fn from(error: StorageError) -> Self {
        OpenError::Storage(error)
    }
}

/// Why recovery refused a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoverError {
    /// Bytes below the recovery point do not parse: flushed data is damaged.
    Corrupt {
        /// Where and why the scan stopped.
        stop: ScanStop,
        /// One past the last offset of the valid batches: only offsets below it are readable.
        valid_end_offset: i64,
    },
    /// The host could not read or truncate the segment's file.
    Storage(StorageError),
}

impl From<StorageError> for RecoverError {
    fn from(error: StorageError) -> Self {
        RecoverError::Storage(error)
    }
}
