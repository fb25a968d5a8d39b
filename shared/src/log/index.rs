//! A segment's two sparse indexes, in Kafka's on-disk bytes: the offset index (`.index`, 8-byte
//! entries: relative offset i32, file position i32) and the time index (`.timeindex`, 12-byte
//! entries: timestamp i64, relative offset i32), all big-endian.
//!
//! Both answer "where do I start scanning?": a lookup returns the last entry at or before the
//! target, and the caller scans batches from there.

/// Bytes per offset index entry.
pub const OFFSET_INDEX_ENTRY_BYTES: usize = 8;
/// Bytes per time index entry.
pub const TIME_INDEX_ENTRY_BYTES: usize = 12;
/// Kafka's `segment.index.bytes` default: each index file is at most 10 MiB.
pub const DEFAULT_SEGMENT_INDEX_BYTES: usize = 10 * 1024 * 1024;
/// Kafka's `RecordBatch.NO_TIMESTAMP`.
pub const NO_TIMESTAMP: i64 = -1;

/// Why an index refused an entry, or an index file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexError {
    /// Offsets in an index only grow (Kafka's InvalidOffsetException).
    OffsetNotIncreasing {
        /// The offset being added.
        offset: i64,
        /// The last offset already in the index.
        last: i64,
    },
    /// The offset is below the segment's base or too far above it for a 32-bit relative offset.
    OffsetOutOfRange {
        /// The offset being added.
        offset: i64,
        /// The segment's base offset.
        base_offset: i64,
    },
    /// The index already holds `segment.index.bytes` worth of entries; the segment must roll.
    Full {
        /// The most entries the index holds: `segment.index.bytes` over the entry size.
        max_entries: usize,
    },
    /// Index file bytes that are not whole entries, or entries out of order.
    Corrupt {
        /// What is wrong, for the error message.
        reason: String,
    },
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::OffsetNotIncreasing { offset, last } => {
                write!(
                    f,
                    "attempt to append offset {offset}, no larger than the last offset appended ({last})"
                )
            }
            IndexError::OffsetOutOfRange { offset, base_offset } => {
                write!(f, "offset {offset} cannot be stored relative to base offset {base_offset}")
            }
            IndexError::Full { max_entries } => write!(f, "index is full ({max_entries} entries)"),
            IndexError::Corrupt { reason } => write!(f, "corrupt index: {reason}"),
        }
    }
}

impl std::error::Error for IndexError {}

/// `offset - base_offset` as the i32 Kafka stores, if it fits.
pub fn relative_offset(base_offset: i64, offset: i64) -> Option<i32> {
    offset.checked_sub(base_offset).and_then(|delta| i32::try_from(delta).ok()).filter(|delta| *delta >= 0)
}

/// Index of the last entry whose key is at most `target`, over keys that never decrease.
fn floor_index<T>(entries: &[T], target: i64, key: impl Fn(&T) -> i64) -> Option<usize> {
    let count = entries.partition_point(|entry| key(entry) <= target);
    count.checked_sub(1)
}

/// One fixed-size index entry in Kafka's big-endian bytes.
trait Entry: Copy + 'static {
    const BYTES: usize;
    fn relative_offset(&self) -> i32;
    fn write(&self, out: &mut Vec<u8>);
    /// `bytes` is exactly `BYTES` long.
    fn read(bytes: &[u8]) -> Self;
}

/// Offset index entry: (relative offset, position in the `.log`).
impl Entry for (i32, u32) {
    const BYTES: usize = OFFSET_INDEX_ENTRY_BYTES;
    fn relative_offset(&self) -> i32 {
        self.0
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_be_bytes());
        out.extend_from_slice(&self.1.to_be_bytes());
    }
    fn read(bytes: &[u8]) -> Self {
        (
            i32::from_be_bytes(bytes[0..4].try_into().expect("4 bytes")),
            u32::from_be_bytes(bytes[4..8].try_into().expect("4 bytes")),
        )
    }
}

/// Time index entry: (timestamp, relative offset).
impl Entry for (i64, i32) {
    const BYTES: usize = TIME_INDEX_ENTRY_BYTES;
    fn relative_offset(&self) -> i32 {
        self.1
    }
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_be_bytes());
        out.extend_from_slice(&self.1.to_be_bytes());
    }
    fn read(bytes: &[u8]) -> Self {
        (
            i64::from_be_bytes(bytes[0..8].try_into().expect("8 bytes")),
            i32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")),
        )
    }
}

/// What both indexes share (Kafka's `AbstractIndex`): a base offset, entries whose relative
/// offsets never decrease, and a capacity from `segment.index.bytes`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entries<E> {
    base_offset: i64,
    entries: Vec<E>,
    max_entries: usize,
}

impl<E: Entry> Entries<E> {
    fn new(base_offset: i64, max_index_bytes: usize) -> Self {
        Entries { base_offset, entries: Vec::new(), max_entries: max_index_bytes / E::BYTES }
    }

    fn offset_of(&self, entry: &E) -> i64 {
        self.base_offset + i64::from(entry.relative_offset())
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= self.max_entries
    }

    fn truncate_to(&mut self, offset: i64) {
        let keep = self.entries.partition_point(|entry| self.offset_of(entry) < offset);
        self.entries.truncate(keep);
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * E::BYTES);
        self.entries.iter().for_each(|entry| entry.write(&mut out));
        out
    }

    /// The entries of an index file, still to be checked for order by the caller.
    fn read_all(bytes: &[u8]) -> Result<impl Iterator<Item = E> + '_, IndexError> {
        if !bytes.len().is_multiple_of(E::BYTES) {
            return Err(IndexError::Corrupt {
                reason: format!("{} bytes is not a whole number of {}-byte entries", bytes.len(), E::BYTES),
            });
        }
        Ok(bytes.chunks_exact(E::BYTES).map(E::read))
    }
}

/// A segment's `.index`: sparse (offset, position in the `.log`) entries, one added each time
/// more than `index.interval.bytes` were appended since the last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetIndex {
    /// (relative offset, position in the `.log`), both strictly increasing.
    inner: Entries<(i32, u32)>,
}

impl OffsetIndex {
    /// An empty index for the segment at `base_offset`, holding at most `max_index_bytes` of
    /// 8-byte entries.
    pub fn new(base_offset: i64, max_index_bytes: usize) -> OffsetIndex {
        OffsetIndex { inner: Entries::new(base_offset, max_index_bytes) }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// No entry yet: a lookup starts at the segment's beginning.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// Holds `segment.index.bytes` worth of entries: the segment rolls before the next append.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// Adds an entry: `offset` is at or after the batch that starts at `position`.
    pub fn append(&mut self, offset: i64, position: u32) -> Result<(), IndexError> {
        let inner = &mut self.inner;
        if inner.is_full() {
            return Err(IndexError::Full { max_entries: inner.max_entries });
        }
        if let Some(last) = inner.entries.last().map(|entry| inner.offset_of(entry))
            && offset <= last
        {
            return Err(IndexError::OffsetNotIncreasing { offset, last });
        }
        let relative = relative_offset(inner.base_offset, offset)
            .ok_or(IndexError::OffsetOutOfRange { offset, base_offset: inner.base_offset })?;
        inner.entries.push((relative, position));
        Ok(())
    }

    /// The last indexed (offset, position) at or before `offset`; (base offset, 0) when there is none.
    pub fn lookup(&self, offset: i64) -> (i64, u32) {
        let inner = &self.inner;
        match floor_index(&inner.entries, offset, |entry| inner.offset_of(entry)) {
            Some(i) => (inner.offset_of(&inner.entries[i]), inner.entries[i].1),
            None => (inner.base_offset, 0),
        }
    }

    /// Drops every entry for `offset` and above.
    pub fn truncate_to(&mut self, offset: i64) {
        self.inner.truncate_to(offset);
    }

    /// The `.index` file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads an `.index` file, checking it is whole entries in increasing order.
    pub fn from_bytes(
        base_offset: i64,
        bytes: &[u8],
        max_index_bytes: usize,
    ) -> Result<OffsetIndex, IndexError> {
        let mut index = OffsetIndex::new(base_offset, max_index_bytes.max(bytes.len()));
        let mut last_position = None;
        for (relative, position) in Entries::<(i32, u32)>::read_all(bytes)? {
            if last_position.is_some_and(|last| position <= last) {
                return Err(IndexError::Corrupt { reason: format!("position {position} does not increase") });
            }
            index
                .append(base_offset + i64::from(relative), position)
                .map_err(|e| IndexError::Corrupt { reason: e.to_string() })?;
            last_position = Some(position);
        }
        Ok(index)
    }
}

/// A segment's `.timeindex`: sparse (timestamp, offset) entries, each the largest timestamp in the
/// segment so far and the last offset of the batch that carried it. Finds offsets by time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeIndex {
    /// (timestamp, relative offset): timestamps strictly increase, offsets never decrease.
    inner: Entries<(i64, i32)>,
}

impl TimeIndex {
    /// An empty index for the segment at `base_offset`, holding at most `max_index_bytes` of
    /// 12-byte entries.
    pub fn new(base_offset: i64, max_index_bytes: usize) -> TimeIndex {
        TimeIndex { inner: Entries::new(base_offset, max_index_bytes) }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// No entry yet: a lookup starts at the segment's beginning.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// Holds `segment.index.bytes` worth of entries: the segment rolls before the next append.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// Kafka's `TimeIndex.maybeAppend`: records (timestamp, offset) only when the timestamp is newer
    /// than the last entry's; an older offset than the last entry's is an error.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> Result<(), IndexError> {
        let inner = &mut self.inner;
        let relative = relative_offset(inner.base_offset, offset)
            .ok_or(IndexError::OffsetOutOfRange { offset, base_offset: inner.base_offset })?;
        if let Some(&(last_timestamp, last_relative)) = inner.entries.last() {
            if relative < last_relative {
                return Err(IndexError::OffsetNotIncreasing {
                    offset,
                    last: inner.base_offset + i64::from(last_relative),
                });
            }
            if timestamp <= last_timestamp {
                return Ok(());
            }
        }
        if inner.is_full() {
            return Err(IndexError::Full { max_entries: inner.max_entries });
        }
        inner.entries.push((timestamp, relative));
        Ok(())
    }

    /// The last (timestamp, offset) entry at or before `timestamp`; (NO_TIMESTAMP, base offset)
    /// when there is none.
    pub fn lookup(&self, timestamp: i64) -> (i64, i64) {
        let inner = &self.inner;
        match floor_index(&inner.entries, timestamp, |&(ts, _)| ts) {
            Some(i) => (inner.entries[i].0, inner.offset_of(&inner.entries[i])),
            None => (NO_TIMESTAMP, inner.base_offset),
        }
    }

    /// The newest entry, if any: (max timestamp so far, its offset).
    pub fn last_entry(&self) -> Option<(i64, i64)> {
        self.inner.entries.last().map(|entry| (entry.0, self.inner.offset_of(entry)))
    }

    /// Drops every entry for `offset` and above.
    pub fn truncate_to(&mut self, offset: i64) {
        self.inner.truncate_to(offset);
    }

    /// The `.timeindex` file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads a `.timeindex` file, checking it is whole entries in order.
    pub fn from_bytes(
        base_offset: i64,
        bytes: &[u8],
        max_index_bytes: usize,
    ) -> Result<TimeIndex, IndexError> {
        let mut index = TimeIndex::new(base_offset, max_index_bytes.max(bytes.len()));
        for (timestamp, relative) in Entries::<(i64, i32)>::read_all(bytes)? {
            let before = index.len();
            index
                .maybe_append(timestamp, base_offset + i64::from(relative))
                .map_err(|e| IndexError::Corrupt { reason: e.to_string() })?;
            if index.len() == before {
                return Err(IndexError::Corrupt {
                    reason: format!("timestamp {timestamp} does not increase"),
                });
            }
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_index_lookups_floor_and_bytes_round_trip() {
        let mut index = OffsetIndex::new(100, DEFAULT_SEGMENT_INDEX_BYTES);
        assert_eq!(index.lookup(150), (100, 0), "empty: scan from the segment start");
        index.append(110, 4_100).unwrap();
        index.append(130, 8_300).unwrap();
        assert_eq!(index.lookup(109), (100, 0));
        assert_eq!(index.lookup(110), (110, 4_100));
        assert_eq!(index.lookup(129), (110, 4_100));
        assert_eq!(index.lookup(5_000), (130, 8_300));
        let bytes = index.to_bytes();
        assert_eq!(bytes, [0, 0, 0, 10, 0, 0, 0x10, 0x04, 0, 0, 0, 30, 0, 0, 0x20, 0x6c]);
        assert_eq!(OffsetIndex::from_bytes(100, &bytes, DEFAULT_SEGMENT_INDEX_BYTES).unwrap(), index);
        index.truncate_to(130);
        assert_eq!(index.lookup(5_000), (110, 4_100));
    }

    #[test]
    fn offset_index_refuses_what_kafka_refuses() {
        let mut index = OffsetIndex::new(100, 2 * OFFSET_INDEX_ENTRY_BYTES);
        index.append(105, 10).unwrap();
        assert_eq!(index.append(105, 20), Err(IndexError::OffsetNotIncreasing { offset: 105, last: 105 }));
        assert_eq!(index.append(99, 20), Err(IndexError::OffsetNotIncreasing { offset: 99, last: 105 }));
        let mut fresh = OffsetIndex::new(100, DEFAULT_SEGMENT_INDEX_BYTES);
        assert!(matches!(
            fresh.append(100 + i64::from(i32::MAX) + 1, 0),
            Err(IndexError::OffsetOutOfRange { .. })
        ));
        index.append(106, 20).unwrap();
        assert!(index.is_full());
        assert_eq!(index.append(107, 30), Err(IndexError::Full { max_entries: 2 }));
        assert!(OffsetIndex::from_bytes(0, &[0; 7], 1024).is_err(), "partial entry");
        let backwards = [0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 20];
        assert!(OffsetIndex::from_bytes(0, &backwards, 1024).is_err(), "offsets out of order");
    }

    #[test]
    fn time_index_keeps_only_newer_timestamps() {
        let mut index = TimeIndex::new(0, DEFAULT_SEGMENT_INDEX_BYTES);
        assert_eq!(index.lookup(1_000), (NO_TIMESTAMP, 0));
        index.maybe_append(1_000, 3).unwrap();
        index.maybe_append(900, 5).unwrap(); // older timestamp: ignored
        index.maybe_append(2_000, 7).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(index.lookup(1_500), (1_000, 3));
        assert_eq!(index.lookup(2_000), (2_000, 7));
        assert_eq!(index.last_entry(), Some((2_000, 7)));
        assert!(matches!(index.maybe_append(3_000, 6), Err(IndexError::OffsetNotIncreasing { .. })));
        let bytes = index.to_bytes();
        assert_eq!(bytes.len(), 24);
        assert_eq!(TimeIndex::from_bytes(0, &bytes, DEFAULT_SEGMENT_INDEX_BYTES).unwrap(), index);
        index.truncate_to(7);
        assert_eq!(index.last_entry(), Some((1_000, 3)));
    }
}
