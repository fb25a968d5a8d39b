//! A log's producer state as Kafka's `UnifiedLog` keeps it: every idempotent and transactional
//! producer's last batches and open transaction. Once first needed it is kept as batches are
//! appended, leader and follower alike; it is built from the newest `<offset>.snapshot` at or
//! below the offset asked for and the batches after it (or the whole log, without one), and
//! written to a snapshot at each roll and at a clean close. A corrupt snapshot is passed over
//! for an older one, as Kafka deletes it and loads the one before.

use std::ops::RangeInclusive;

use super::{LocalLog, LogError, parse_segment_file_name};
use crate::log::producer_snapshot::{SNAPSHOT_SUFFIX, SnapshotEntry, decode, encode};
use crate::log::producer_state::{ProducerBatch, ProducerState};
use crate::log::segment::file_name;
use crate::record::batch::BatchHeader;

/// Notes one batch in `state`: an idempotent or transactional batch, or a transaction marker.
pub(super) fn fold(state: &mut ProducerState, header: &BatchHeader) {
    if let Some(batch) = ProducerBatch::of(header) {
        state.appended(batch, header.base_offset);
    } else if header.attributes.control && header.producer_id >= 0 {
        // A marker from an older epoch than one seen was refused when it was written.
        let _ = state.marker(header.producer_id, header.producer_epoch, header.base_offset);
    }
}

impl LocalLog {
    /// Folds the batches from `from` up to `to` into `state`.
    fn replay_producers(&self, state: &mut ProducerState, from: i64, to: i64) -> Result<(), LogError> {
        self.for_each_batch(from, to, |header, _| fold(state, header))
    }

    /// Snapshot `offset`'s entries, if its file is there and sane.
    fn read_snapshot(&self, offset: i64) -> Option<Vec<SnapshotEntry>> {
        let bytes = self.store.read_file(&file_name(offset, SNAPSHOT_SUFFIX)).ok()??;
        decode(&bytes).ok()
    }

    /// The producer state as of offset `to`: the newest sane snapshot at or below it (and not
    /// below the log start, whose batches are gone), else an empty state at the log start; then
    /// the batches after it.
    fn producer_state_at(&self, to: i64) -> Result<ProducerState, LogError> {
        let start = self.log_start_offset();
        for &offset in self.snapshots.range(start..=to.max(start)).rev() {
            if let Some(entries) = self.read_snapshot(offset) {
                let mut state = ProducerState::from_snapshot(&entries);
                self.replay_producers(&mut state, offset, to)?;
                return Ok(state);
            }
        }
        let mut state = ProducerState::default();
        self.replay_producers(&mut state, start, to)?;
        Ok(state)
    }

    /// The producer state at the log end (what a new leader starts from): the one kept as
    /// appends go, else the newest snapshot and the batches after it.
    pub fn producer_state(&self) -> Result<ProducerState, LogError> {
        match &self.producers {
            Some(state) => Ok(state.clone()),
            None => self.producer_state_at(self.log_end_offset()),
        }
    }

    /// Keeps the producer state from now on, built as of `to` (the log end) if it is not yet.
    pub(super) fn keep_producers(&mut self, to: i64) -> Result<(), LogError> {
        if self.producers.is_none() {
            self.producers = Some(self.producer_state_at(to)?);
        }
        Ok(())
    }

    /// Notes an appended batch in the kept producer state.
    pub(super) fn note_producer(&mut self, header: &BatchHeader) {
        if let Some(state) = &mut self.producers {
            fold(state, header);
        }
    }

    /// Writes `<offset>.snapshot` of the kept producer state (`offset` is the log end: a roll's
    /// new base, or a clean close's end).
    pub(super) fn write_producer_snapshot(&mut self, offset: i64) -> Result<(), LogError> {
        let Some(state) = &self.producers else { return Ok(()) };
        let bytes = encode(&state.to_snapshot());
        let written = self.store.write_file(&file_name(offset, SNAPSHOT_SUFFIX), &bytes);
        written.map_err(|e| self.poison(e))?;
        self.snapshots.insert(offset);
        Ok(())
    }

    /// Deletes the snapshots outside `keep`: below the log start (their batches are gone) or
    /// past a cut (they hold batches that are gone).
    pub(super) fn delete_snapshots_outside(&mut self, keep: RangeInclusive<i64>) -> Result<(), LogError> {
        let doomed: Vec<i64> = self.snapshots.iter().copied().filter(|o| !keep.contains(o)).collect();
        for offset in doomed {
            self.snapshots.remove(&offset);
            let deleted = self.store.delete_file(&file_name(offset, SNAPSHOT_SUFFIX));
            deleted.map_err(|e| self.poison(e))?;
        }
        Ok(())
    }

    /// At open: the snapshots there are; those past the log end (written before a tail was lost)
    /// or below its start go.
    pub(super) fn open_producer_snapshots(&mut self) -> Result<(), LogError> {
        for name in self.store.list().map_err(LogError::Storage)? {
            if let Some((offset, SNAPSHOT_SUFFIX)) = parse_segment_file_name(&name) {
                self.snapshots.insert(offset);
            }
        }
        self.delete_snapshots_outside(self.log_start_offset()..=self.log_end_offset())
    }
}
