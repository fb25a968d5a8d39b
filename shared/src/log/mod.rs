//! One partition's log: an append-only sequence of records with contiguous offsets.
//!
//! This is the in-memory first cut. Segments, indexes, retention, compaction and recovery (and the
//! storage backends behind them) replace its insides without changing what it promises: offsets start
//! at the log start offset, grow by one per record, and are never reused. `index` and `segment` are
//! the first of those pieces, in Kafka's bytes; they are not wired in yet.

pub mod epoch_cache;
pub mod index;
pub mod local_log;
pub mod segment;

use crate::limits::MAX_RECORDS_PER_PARTITION;
use crate::record::Record;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionLog {
    log_start_offset: i64,
    records: Vec<Record>,
}

/// Why an append was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The partition already holds `MAX_RECORDS_PER_PARTITION` records.
    Full,
}

impl PartitionLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The first offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// Log end offset (LEO): the offset the next appended record gets.
    pub fn log_end_offset(&self) -> i64 {
        self.log_start_offset + self.records.len() as i64
    }

    /// Appends one record and returns the offset it was given.
    pub fn append(
        &mut self,
        timestamp_ms: i64,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
    ) -> Result<i64, AppendError> {
        if self.records.len() >= MAX_RECORDS_PER_PARTITION {
            return Err(AppendError::Full);
        }
        let offset = self.log_end_offset();
        self.records.push(Record { offset, timestamp_ms, key, value });
        debug_assert_eq!(self.log_end_offset(), offset + 1);
        Ok(offset)
    }

    /// Up to `max_records` records starting at `offset`; `None` if `offset` is outside
    /// `log_start_offset..=log_end_offset` (Kafka's OFFSET_OUT_OF_RANGE). Reading at the log end
    /// offset is valid and returns nothing, as a consumer that has caught up sees.
    pub fn read(&self, offset: i64, max_records: usize) -> Option<&[Record]> {
        if offset < self.log_start_offset || offset > self.log_end_offset() {
            return None;
        }
        let start = (offset - self.log_start_offset) as usize;
        let end = start.saturating_add(max_records).min(self.records.len());
        Some(&self.records[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_contiguous_from_zero() {
        let mut log = PartitionLog::new();
        assert_eq!(log.log_end_offset(), 0);
        for expected in 0..5 {
            let offset = log.append(1_000 + expected, Some(b"k".to_vec()), None).unwrap();
            assert_eq!(offset, expected);
        }
        assert_eq!(log.log_end_offset(), 5);
        let read = log.read(3, 10).unwrap();
        assert_eq!(read.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(read[0].timestamp_ms, 1_003);
    }

    #[test]
    fn reads_outside_the_log_are_out_of_range() {
        let mut log = PartitionLog::new();
        log.append(0, None, Some(b"v".to_vec())).unwrap();
        assert!(log.read(-1, 1).is_none());
        assert!(log.read(2, 1).is_none());
        assert_eq!(log.read(1, 1).unwrap().len(), 0, "reading at the LEO is empty, not an error");
    }
}
