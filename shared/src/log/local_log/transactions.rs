//! A log's aborted transactions as Kafka's `UnifiedLog` keeps them beside the segments: each
//! segment's `.txnindex`, an entry written when an ABORT marker is appended (leader and follower
//! alike, from the transactions open in the log's producer state), cut with the log, deleted
//! with its segment, and read by read_committed fetches.

use std::collections::BTreeSet;

use super::{LocalLog, LogError, OpenReport, parse_segment_file_name};
use crate::limits::FETCH_READ_CHUNK_BYTES;
use crate::log::producer_state::{AbortedTxn, ProducerState};
use crate::log::segment::file_name;
use crate::log::storage::StorageError;
use crate::log::txn_index::{TXN_INDEX_SUFFIX, TxnIndexEntry, decode};
use crate::record::batch::{BatchHeader, RecordBatch};
use crate::txn::marker::{MarkerKind, marker_of};

/// The `.txnindex` entry an ABORT marker at `header` makes, from the transactions `state` has
/// open before it: the transaction's first offset, and the last stable offset once it ends (the
/// next oldest open transaction's first offset, or the marker's offset + 1). None for a COMMIT,
/// or a producer with no transaction open here.
fn aborted_entry(state: &ProducerState, header: &BatchHeader, bytes: &[u8]) -> Option<TxnIndexEntry> {
    let producer_id = header.producer_id;
    let first_offset = state.open_transaction(producer_id)?;
    let last_stable_offset = state.first_open_offset_besides(producer_id).unwrap_or(header.base_offset + 1);
    is_abort(bytes).then_some(TxnIndexEntry {
        txn: AbortedTxn { producer_id, first_offset, last_offset: header.base_offset },
        last_stable_offset,
    })
}

/// Whether a control batch's bytes hold an ABORT marker.
fn is_abort(bytes: &[u8]) -> bool {
    RecordBatch::decode(bytes)
        .ok()
        .and_then(|(batch, _)| marker_of(&batch))
        .is_some_and(|marker| matches!(marker, Ok(m) if m.kind == MarkerKind::Abort))
}

impl LocalLog {
    /// Every batch from offset `from` up to (not including) `to`, header and bytes, oldest first,
    /// read a chunk at a time (nothing kept).
    pub fn for_each_batch(
        &self,
        from: i64,
        to: i64,
        mut visit: impl FnMut(&BatchHeader, &[u8]),
    ) -> Result<(), LogError> {
        let mut offset = from.max(self.log_start_offset());
        while offset < to.min(self.log_end_offset()) {
            let bytes = self.read(offset, FETCH_READ_CHUNK_BYTES)?;
            let mut rest: &[u8] = &bytes;
            let before = offset;
            while let Ok(header) = BatchHeader::parse_trusted(rest) {
                if header.base_offset >= to {
                    return Ok(());
                }
                let size = header.total_bytes().min(rest.len());
                offset = header.last_offset() + 1;
                visit(&header, &rest[..size]);
                rest = &rest[size..];
            }
            if offset == before {
                // Nothing readable at `offset` (a hole the log reports as empty): stop here.
                break;
            }
        }
        Ok(())
    }

    /// The producer state and the aborted transactions the log's batches below `to` leave,
    /// replayed from its start (a transaction begun before the log start is not seen).
    fn replay_transactions(&self, to: i64) -> Result<(ProducerState, Vec<TxnIndexEntry>), LogError> {
        let mut state = ProducerState::default();
        let mut aborted = Vec::new();
        self.for_each_batch(self.log_start_offset(), to, |header, bytes| {
            if header.attributes.control && header.producer_id >= 0 {
                aborted.extend(aborted_entry(&state, header, bytes));
            }
            super::producers::fold(&mut state, header);
        })?;
        Ok((state, aborted))
    }

    /// Before a marker is appended: the producer state kept from now on, built the first time a
    /// marker needs it (an unreadable log refuses the marker before anything is written).
    pub(super) fn prepare_transaction(&mut self, header: &BatchHeader) -> Result<(), LogError> {
        if header.attributes.control {
            self.keep_producers(header.base_offset)?;
        }
        Ok(())
    }

    /// Before a marker is appended to the active segment: an ABORT marker's entry appended to
    /// that segment's `.txnindex` (the producer state is not changed yet).
    pub(super) fn index_aborted_transaction(
        &mut self,
        bytes: &[u8],
        header: &BatchHeader,
    ) -> Result<(), LogError> {
        if !header.attributes.control || header.producer_id < 0 {
            return Ok(());
        }
        let Some(state) = &self.producers else { return Ok(()) };
        match aborted_entry(state, header, bytes) {
            Some(entry) => self.append_txn_index(entry),
            None => Ok(()),
        }
    }

    /// Appends `entry` to the `.txnindex` of the segment holding its marker.
    fn append_txn_index(&mut self, entry: TxnIndexEntry) -> Result<(), LogError> {
        let Some((&base, _)) = self.segments.range(..=entry.txn.last_offset).next_back() else {
            return Ok(());
        };
        self.txn_indexed.insert(base);
        let appended = self.store.append_file(&file_name(base, TXN_INDEX_SUFFIX), &entry.encode());
        appended.map_err(|e| self.poison(e))
    }

    /// Replaces segment `base`'s `.txnindex` with `entries` (deleted when there are none, as
    /// Kafka creates the file only for a segment with an aborted transaction).
    fn write_txn_index(&mut self, base: i64, entries: &[TxnIndexEntry]) -> Result<(), LogError> {
        let name = file_name(base, TXN_INDEX_SUFFIX);
        let written = if entries.is_empty() {
            self.txn_indexed.remove(&base);
            self.store.delete_file(&name)
        } else {
            self.txn_indexed.insert(base);
            let bytes: Vec<u8> = entries.iter().flat_map(TxnIndexEntry::encode).collect();
            self.store.write_file(&name, &bytes)
        };
        written.map_err(|e| self.poison(e))
    }

    /// Segment `base`'s `.txnindex` entries (none without the file).
    fn txn_index(&self, base: i64) -> Result<Vec<TxnIndexEntry>, LogError> {
        if !self.txn_indexed.contains(&base) {
            return Ok(Vec::new());
        }
        let name = file_name(base, TXN_INDEX_SUFFIX);
        let bytes = self.store.read_file(&name).map_err(LogError::Storage)?.unwrap_or_default();
        decode(&bytes).map_err(|e| {
            LogError::Storage(StorageError::new(
                "read",
                format!("{}/{name}", self.store.describe()),
                e.to_string(),
            ))
        })
    }

    /// After a cut at `offset` in segment `floor`: its entries for markers at or past the cut go,
    /// and the open transactions are replayed again when next needed.
    pub(super) fn truncate_txn_index(&mut self, floor: i64, offset: i64) -> Result<(), LogError> {
        self.producers = None;
        let entries = self.txn_index(floor)?;
        let kept: Vec<TxnIndexEntry> =
            entries.iter().copied().filter(|e| e.txn.last_offset < offset).collect();
        if kept.len() != entries.len() { self.write_txn_index(floor, &kept) } else { Ok(()) }
    }

    /// At open: which segments have a `.txnindex`, each checked. One that cannot be read, or that
    /// names a marker past the log's end (the marker was lost with a torn tail), has all of them
    /// rebuilt from the log's markers, as Kafka rebuilds the indexes of what it recovers.
    pub(super) fn open_txn_indexes(&mut self, report: &mut OpenReport) -> Result<(), LogError> {
        if self.log_start_offset() == self.log_end_offset() {
            // Nothing to replay: an empty log has no producers.
            self.producers = Some(ProducerState::default());
        }
        let names = self.store.list().map_err(LogError::Storage)?;
        let end = self.log_end_offset();
        let mut insane = BTreeSet::new();
        for name in names {
            let Some((base, TXN_INDEX_SUFFIX)) = parse_segment_file_name(&name) else { continue };
            self.txn_indexed.insert(base);
            let entries = self.txn_index(base);
            let inside = entries.is_ok_and(|entries| entries.iter().all(|e| e.txn.last_offset < end));
            if !(inside && self.segments.contains_key(&base)) {
                insane.insert(base);
            }
        }
        if insane.is_empty() {
            return Ok(());
        }
        report.rebuilt_txn_indexes = true;
        let (state, aborted) = self.replay_transactions(end)?;
        // Each segment's index is replaced (or removed), the ones found wrong last: a write that
        // fails part-way leaves one of them for the next open to find and rebuild again. Removed
        // first, a failure would leave indexes missing aborted transactions that look sane.
        let mut bases: Vec<i64> = self.segments.keys().chain(self.txn_indexed.iter()).copied().collect();
        bases.sort_unstable_by_key(|base| (insane.contains(base), *base));
        bases.dedup();
        for base in bases {
            let next = self.segments.range(base + 1..).next().map_or(i64::MAX, |(&next, _)| next);
            let entries: Vec<TxnIndexEntry> =
                aborted.iter().copied().filter(|e| (base..next).contains(&e.txn.last_offset)).collect();
            let segment = self.segments.contains_key(&base);
            if (segment && !entries.is_empty()) || self.txn_indexed.contains(&base) {
                self.write_txn_index(base, if segment { &entries } else { &[] })?;
            }
        }
        self.producers = Some(state);
        Ok(())
    }

    /// The aborted transactions a read_committed fetch from `from` up to `to` must return (those
    /// whose marker is at or after `from` and that began before `to`), from the `.txnindex` of
    /// `from`'s segment on, stopping at an entry whose stable offset is past `to` (Kafka's
    /// `collectAbortedTxns`).
    pub fn aborted_transactions(&self, from: i64, to: i64) -> Result<Vec<AbortedTxn>, LogError> {
        let first = self.segments.range(..=from).next_back().map_or(i64::MIN, |(&base, _)| base);
        let mut found = Vec::new();
        for &base in self.txn_indexed.range(first..) {
            for entry in self.txn_index(base)? {
                if entry.txn.last_offset >= from && entry.txn.first_offset < to {
                    found.push(entry.txn);
                }
                if entry.last_stable_offset >= to {
                    return Ok(found);
                }
            }
        }
        Ok(found)
    }
}
