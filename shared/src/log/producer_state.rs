//! Kafka's producer state (`ProducerStateManager`) for one partition: each idempotent producer's
//! epoch and the sequence ranges of its last five batches with their offsets, so that a batch the
//! producer retries is recognized and answered with the offsets it already has, a skipped
//! sequence is refused (OUT_OF_ORDER_SEQUENCE_NUMBER) and an older instance of the producer is
//! fenced (INVALID_PRODUCER_EPOCH). For transactional producers it also keeps each open
//! transaction's first offset — the lowest is where the last stable offset stops. (The
//! transactions that ended in an ABORT marker are in the log's own `.txnindex`, `txn_index`.) It
//! is rebuilt from the batch headers of the log itself, so it survives restarts and leader changes
//! with the log.

use std::collections::{BTreeMap, VecDeque};

use super::producer_snapshot::SnapshotEntry;
use crate::error::ErrorCode;
use crate::record::batch::BatchHeader;

/// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`: how many of a producer's last batches a
/// partition remembers to recognize a retry (and why `max.in.flight.requests.per.connection` may
/// be at most 5 with idempotence).
pub const PRODUCER_BATCHES_KEPT: usize = 5;
/// The most producers one partition remembers; past it the one that wrote longest ago is
/// forgotten (Kafka forgets producers after `producer.id.expiration.ms`, a day by default). A
/// forgotten producer's next batch is taken at any sequence, as Kafka takes an unknown one's.
pub const MAX_PRODUCERS_PER_PARTITION: usize = 1_000;

// A snapshot holds every producer a partition remembers, with room to spare.
const _: () = assert!(super::producer_snapshot::MAX_SNAPSHOT_ENTRIES >= 2 * MAX_PRODUCERS_PER_PARTITION);

/// One idempotent batch: who wrote it, its sequence range, and where it went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerBatch {
    /// The producer id InitProducerId handed out.
    pub producer_id: i64,
    /// The producer's epoch.
    pub epoch: i16,
    /// The first record's sequence number.
    pub first_sequence: i32,
    /// How many records the batch holds (at least 1).
    pub record_count: i32,
    /// Written by a transactional producer: part of its open transaction until a marker.
    pub transactional: bool,
}

impl ProducerBatch {
    /// The idempotent batch a header describes; `None` for a batch without a producer id. Its
    /// span is `lastOffsetDelta + 1`, as Kafka counts it: compaction drops records from a batch
    /// but keeps that delta, so the sequences it covered stay known.
    pub fn of(header: &BatchHeader) -> Option<ProducerBatch> {
        (header.producer_id >= 0 && header.base_sequence >= 0).then_some(ProducerBatch {
            producer_id: header.producer_id,
            epoch: header.producer_epoch,
            first_sequence: header.base_sequence,
            record_count: header.last_offset_delta.saturating_add(1).max(1),
            transactional: header.attributes.transactional,
        })
    }

    /// The last record's sequence number; sequences wrap from `i32::MAX` to 0, as Kafka's do.
    pub fn last_sequence(&self) -> i32 {
        next_sequence(self.first_sequence, self.record_count - 1)
    }
}

/// `sequence` moved on by `delta`, wrapping past `i32::MAX` to 0 (Kafka's
/// `DefaultRecordBatch.incrementSequence`).
fn next_sequence(sequence: i32, delta: i32) -> i32 {
    if sequence > i32::MAX - delta { delta - (i32::MAX - sequence) - 1 } else { sequence + delta }
}

/// How far `last` is past `first` in sequence numbers, across the wrap past `i32::MAX`.
fn sequence_delta(first: i32, last: i32) -> i32 {
    if last >= first { last - first } else { (i32::MAX - first) + last + 1 }
}

/// The first sequence of a batch whose last is `last`, `delta` before it (the inverse of
/// `sequence_delta`).
fn first_sequence(last: i32, delta: i32) -> i32 {
    if last >= delta { last - delta } else { i32::MAX - (delta - last - 1) }
}

/// What the partition makes of an idempotent batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Append it: it follows the producer's last batch.
    Append,
    /// A retry of a batch already in the log: answer with its first offset, append nothing.
    Duplicate {
        /// The offset the batch's first record got the first time.
        first_offset: i64,
    },
    /// Refuse it with this error.
    Refuse(ErrorCode),
}

/// One producer's state on a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    epoch: i16,
    /// (first sequence, last sequence, first offset), oldest first, at most
    /// [`PRODUCER_BATCHES_KEPT`].
    batches: VecDeque<(i32, i32, i64)>,
    /// The last offset the producer wrote, to forget the stalest first.
    last_offset: i64,
}

/// A transaction that ended in an ABORT marker on this partition: its records, from
/// `first_offset` to the marker at `last_offset`, are skipped by read_committed consumers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AbortedTxn {
    /// The transactional producer's id.
    pub producer_id: i64,
    /// The transaction's first offset on this partition.
    pub first_offset: i64,
    /// The ABORT marker's offset.
    pub last_offset: i64,
}

/// Every idempotent producer's state on one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerState {
    producers: BTreeMap<i64, Entry>,
    /// Each open transaction's first offset, by producer id.
    open_txns: BTreeMap<i64, i64>,
}

impl ProducerState {
    /// How many producers it remembers.
    pub fn producer_count(&self) -> usize {
        self.producers.len()
    }

    /// Kafka's checks of an idempotent batch against the producer's state: the epoch first
    /// (older: fenced; newer: must start at sequence 0), then a retry of one of the last five
    /// batches, then the sequence that must come next.
    pub fn check(&self, batch: &ProducerBatch) -> Verdict {
        let Some(entry) = self.producers.get(&batch.producer_id) else {
            // Kafka takes a producer it has no state for at any sequence: its earlier batches may
            // have gone with retention, DeleteRecords or a forgotten entry.
            return Verdict::Append;
        };
        if batch.epoch < entry.epoch {
            return Verdict::Refuse(ErrorCode::InvalidProducerEpoch);
        }
        if batch.epoch > entry.epoch {
            return if batch.first_sequence == 0 {
                Verdict::Append
            } else {
                Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber)
            };
        }
        let last = batch.last_sequence();
        if let Some(&(_, _, first_offset)) =
            entry.batches.iter().find(|(first, end, _)| *first == batch.first_sequence && *end == last)
        {
            return Verdict::Duplicate { first_offset };
        }
        match entry.batches.back() {
            // Known only from a marker (its batches forgotten): taken at any sequence.
            None => Verdict::Append,
            Some(&(_, end, _)) if next_sequence(end, 1) == batch.first_sequence => Verdict::Append,
            _ => Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber),
        }
    }

    /// Notes a transaction marker at `offset`: the producer's open transaction ends here, and the marker's epoch becomes the producer's, fencing older
    /// ones — the coordinator bumps the epoch when it aborts a transaction that timed out. A
    /// marker from an older epoch than the partition has seen is refused, as Kafka refuses it.
    pub fn marker(&mut self, producer_id: i64, epoch: i16, offset: i64) -> Result<(), ErrorCode> {
        let entry = self.producers.entry(producer_id).or_insert_with(|| Entry {
            epoch,
            batches: VecDeque::new(),
            last_offset: offset,
        });
        if epoch < entry.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if epoch != entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.last_offset = offset;
        self.open_txns.remove(&producer_id);
        Ok(())
    }

    /// The last stable offset: the first offset of the oldest open transaction, or the high
    /// watermark when that comes first (Kafka's `firstUnstableOffset` against the HW).
    pub fn last_stable_offset(&self, high_watermark: i64) -> i64 {
        self.open_txns.values().copied().min().map_or(high_watermark, |first| first.min(high_watermark))
    }

    /// The epoch the partition last saw of `producer_id`, if it knows the producer.
    pub fn epoch_of(&self, producer_id: i64) -> Option<i16> {
        self.producers.get(&producer_id).map(|entry| entry.epoch)
    }

    /// The first offset of the oldest transaction open here besides `producer_id`'s: where the
    /// last stable offset stops once that producer's transaction ends.
    pub fn first_open_offset_besides(&self, producer_id: i64) -> Option<i64> {
        self.open_txns.iter().filter(|(id, _)| **id != producer_id).map(|(_, first)| *first).min()
    }

    /// The snapshot of this state, as Kafka writes it: each producer's epoch, its last batch and
    /// its open transaction (the four batches before the last are not kept, as Kafka keeps one).
    pub fn to_snapshot(&self) -> Vec<SnapshotEntry> {
        self.producers
            .iter()
            .map(|(&producer_id, entry)| {
                let (last_sequence, last_offset, offset_delta) = match entry.batches.back() {
                    Some(&(first, last, first_offset)) => {
                        let delta = sequence_delta(first, last);
                        (last, first_offset + i64::from(delta), delta)
                    }
                    None => (-1, -1, 0),
                };
                SnapshotEntry {
                    producer_id,
                    epoch: entry.epoch,
                    last_sequence,
                    last_offset,
                    offset_delta,
                    timestamp: -1,
                    coordinator_epoch: -1,
                    current_txn_first_offset: self.open_txns.get(&producer_id).copied().unwrap_or(-1),
                }
            })
            .collect()
    }

    /// The state a snapshot holds (a snapshot's bytes come from storage: any numbers are taken
    /// without overflowing).
    pub fn from_snapshot(entries: &[SnapshotEntry]) -> ProducerState {
        let mut state = ProducerState::default();
        for e in entries {
            let mut batches = VecDeque::new();
            let first_offset = e.last_offset.checked_sub(i64::from(e.offset_delta));
            if let (true, true, Some(first_offset)) =
                (e.last_sequence >= 0, e.offset_delta >= 0, first_offset)
            {
                batches.push_back((
                    first_sequence(e.last_sequence, e.offset_delta),
                    e.last_sequence,
                    first_offset,
                ));
            }
            state
                .producers
                .insert(e.producer_id, Entry { epoch: e.epoch, batches, last_offset: e.last_offset });
            if e.current_txn_first_offset >= 0 {
                state.open_txns.insert(e.producer_id, e.current_txn_first_offset);
            }
        }
        state
    }

    /// The first offset of `producer_id`'s open transaction here, if one is open.
    pub fn open_transaction(&self, producer_id: i64) -> Option<i64> {
        self.open_txns.get(&producer_id).copied()
    }

    /// Notes a batch appended at `first_offset` (a newer epoch starts the producer afresh).
    pub fn appended(&mut self, batch: ProducerBatch, first_offset: i64) {
        let last_offset = first_offset + i64::from(batch.record_count) - 1;
        let entry = self.producers.entry(batch.producer_id).or_insert_with(|| Entry {
            epoch: batch.epoch,
            batches: VecDeque::new(),
            last_offset,
        });
        if batch.epoch != entry.epoch {
            entry.epoch = batch.epoch;
            entry.batches.clear();
        }
        entry.batches.push_back((batch.first_sequence, batch.last_sequence(), first_offset));
        if batch.transactional {
            self.open_txns.entry(batch.producer_id).or_insert(first_offset);
        }
        while entry.batches.len() > PRODUCER_BATCHES_KEPT {
            entry.batches.pop_front();
        }
        entry.last_offset = last_offset;
        if self.producers.len() > MAX_PRODUCERS_PER_PARTITION {
            // A producer with a transaction open is kept: its marker must find it.
            let stalest = self
                .producers
                .iter()
                .filter(|(id, _)| !self.open_txns.contains_key(id))
                .min_by_key(|(_, e)| e.last_offset)
                .map(|(id, _)| *id);
            if let Some(id) = stalest {
                self.producers.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: i16, first_sequence: i32, record_count: i32) -> ProducerBatch {
        ProducerBatch { producer_id: 7, epoch, first_sequence, record_count, transactional: false }
    }

    #[test]
    fn open_transactions_hold_the_last_stable_offset_and_markers_fence() {
        let mut state = ProducerState::default();
        let txn = |producer_id, first_sequence| ProducerBatch {
            producer_id,
            epoch: 0,
            first_sequence,
            record_count: 2,
            transactional: true,
        };
        state.appended(txn(1, 0), 10);
        state.appended(txn(2, 0), 12);
        state.appended(txn(1, 2), 14);
        assert_eq!(state.last_stable_offset(20), 10, "producer 1's transaction is open from 10");
        assert_eq!(state.last_stable_offset(5), 5, "never past the high watermark");
        state.marker(1, 0, 16).unwrap();
        assert_eq!(state.last_stable_offset(20), 12);
        state.marker(2, 0, 17).unwrap();
        assert_eq!(state.last_stable_offset(20), 20);
        // The sequence goes on across transactions in one epoch; a bumped marker fences.
        assert_eq!(state.check(&txn(1, 4)), Verdict::Append);
        state.marker(1, 1, 18).unwrap();
        assert_eq!(state.check(&txn(1, 4)), Verdict::Refuse(ErrorCode::InvalidProducerEpoch));
        assert_eq!(state.marker(1, 0, 19), Err(ErrorCode::InvalidProducerEpoch));
    }

    #[test]
    fn a_retry_is_recognized_a_gap_refused_an_old_epoch_fenced() {
        let mut state = ProducerState::default();
        assert_eq!(state.check(&batch(0, 3, 1)), Verdict::Append, "an unknown producer, at any sequence");
        assert_eq!(state.check(&batch(0, 0, 2)), Verdict::Append);
        state.appended(batch(0, 0, 2), 10);
        assert_eq!(state.check(&batch(0, 2, 3)), Verdict::Append);
        state.appended(batch(0, 2, 3), 12);
        // Sequences 0-1 and 2-4 again: the offsets they got.
        assert_eq!(state.check(&batch(0, 0, 2)), Verdict::Duplicate { first_offset: 10 });
        assert_eq!(state.check(&batch(0, 2, 3)), Verdict::Duplicate { first_offset: 12 });
        // 6 skips 5; a batch overlapping another is no retry either.
        assert_eq!(state.check(&batch(0, 6, 1)), Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber));
        assert_eq!(state.check(&batch(0, 1, 2)), Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber));
        // A newer epoch starts over at 0; then the old epoch is fenced.
        assert_eq!(state.check(&batch(1, 5, 1)), Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber));
        state.appended(batch(1, 0, 1), 15);
        assert_eq!(state.check(&batch(0, 5, 1)), Verdict::Refuse(ErrorCode::InvalidProducerEpoch));
        assert_eq!(state.check(&batch(1, 1, 1)), Verdict::Append);
    }

    #[test]
    fn only_the_last_five_batches_are_remembered_and_sequences_wrap() {
        let mut state = ProducerState::default();
        for n in 0..7 {
            state.appended(batch(0, n, 1), 100 + i64::from(n));
        }
        assert_eq!(state.check(&batch(0, 2, 1)), Verdict::Duplicate { first_offset: 102 });
        assert_eq!(state.check(&batch(0, 1, 1)), Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber));
        let mut state = ProducerState::default();
        state.appended(batch(0, i32::MAX - 1, 2), 0);
        assert_eq!(batch(0, i32::MAX - 1, 2).last_sequence(), i32::MAX);
        assert_eq!(state.check(&batch(0, 0, 1)), Verdict::Append, "after i32::MAX comes 0");
        assert_eq!(batch(0, i32::MAX, 3).last_sequence(), 1);
    }

    #[test]
    fn a_snapshot_keeps_each_producers_last_batch_and_open_transaction() {
        let mut state = ProducerState::default();
        state.appended(batch(0, 0, 2), 10);
        state.appended(batch(0, 2, 3), 12);
        state
            .appended(ProducerBatch { producer_id: 8, transactional: true, ..batch(1, i32::MAX - 1, 3) }, 20);
        let restored = ProducerState::from_snapshot(&state.to_snapshot());
        assert_eq!(
            restored.check(&batch(0, 2, 3)),
            Verdict::Duplicate { first_offset: 12 },
            "the last batch"
        );
        assert_eq!(restored.check(&batch(0, 5, 1)), Verdict::Append);
        assert_eq!(restored.check(&batch(0, 0, 2)), Verdict::Refuse(ErrorCode::OutOfOrderSequenceNumber));
        let wrapped = ProducerBatch { producer_id: 8, transactional: true, ..batch(1, i32::MAX - 1, 3) };
        assert_eq!(restored.check(&wrapped), Verdict::Duplicate { first_offset: 20 }, "across the wrap");
        assert_eq!(restored.open_transaction(8), Some(20));
        assert_eq!(restored.first_open_offset_besides(7), Some(20));
        assert_eq!(restored.first_open_offset_besides(8), None);
    }

    #[test]
    fn the_stalest_producer_is_forgotten_past_the_limit() {
        let mut state = ProducerState::default();
        for id in 0..=MAX_PRODUCERS_PER_PARTITION as i64 {
            state.appended(
                ProducerBatch {
                    producer_id: id,
                    epoch: 0,
                    first_sequence: 0,
                    record_count: 1,
                    transactional: false,
                },
                id,
            );
        }
        assert_eq!(state.producer_count(), MAX_PRODUCERS_PER_PARTITION);
        // Producer 0 was forgotten: its retry is no longer known as one.
        let first = ProducerBatch {
            producer_id: 0,
            epoch: 0,
            first_sequence: 0,
            record_count: 1,
            transactional: false,
        };
        assert_eq!(state.check(&first), Verdict::Append);
        let last = ProducerBatch { producer_id: MAX_PRODUCERS_PER_PARTITION as i64, ..first };
        assert_eq!(
            state.check(&last),
            Verdict::Duplicate { first_offset: MAX_PRODUCERS_PER_PARTITION as i64 }
        );
    }
}
