//! Idempotent producers: the producer ids InitProducerId hands out, and each partition's producer
//! state (`log::producer_state`) that lets its leader drop a retried batch and refuse a gap. The
//! state is taken from the leader's log the first time a partition sees an idempotent batch
//! after the cluster opened or the leader changed — the log's own, or its newest `.snapshot` and
//! the batches after it — so it follows the log across restarts, crashes and failovers.

use std::collections::BTreeMap;

use super::Cluster;
use crate::api::ProducedRecord;
use crate::config::Acks;
use crate::error::{ErrorCode, KafkaError};
use crate::ids::TopicPartition;
use crate::log::producer_state::{ProducerBatch, ProducerState, Verdict};
use crate::partitioner::PartitionerKind;
use crate::record::batch::BatchRecord;

/// A cluster whose files name no producer id yet (new, or written before ids were kept) starts
/// them at the clock times this, above any id an earlier Kite handed out from the clock.
pub const PRODUCER_IDS_PER_MS: i64 = 1_000;
/// Producer ids claimed at a time, as Kafka's controller hands out a block (`ProducerIdsRecord`):
/// the block's end is kept in the topics file before any id of it is handed out, so an id is
/// never handed out twice, whatever the clock does across restarts.
pub const PRODUCER_ID_BLOCK_IDS: i64 = 1_000;

/// The cluster's idempotent producers.
#[derive(Debug, Default)]
pub(super) struct Producers {
    /// The next id InitProducerId hands out.
    next_id: i64,
    /// The end of the claimed block, as the topics file keeps it (0: none claimed yet).
    pub(super) claimed_end: i64,
    /// Each partition's state, with the leader epoch it was built under.
    states: BTreeMap<TopicPartition, (i32, ProducerState)>,
}

impl Producers {
    /// After a restart: ids go on from the end of the last block claimed (none: from the clock).
    pub(super) fn start_after(&mut self, claimed_end: i64) {
        self.claimed_end = claimed_end;
        self.next_id = claimed_end;
    }
}

impl Cluster {
    /// InitProducerId for an idempotent producer (no transactional id): always a new producer
    /// id at epoch 0, whatever id and epoch the producer names, as Kafka's coordinator does
    /// (KIP-360's epoch bump is for transactional ids). Returns (producer id, epoch).
    pub fn init_producer_id(&mut self, now_ms: i64) -> Result<(i64, i16), KafkaError> {
        if self.producers.claimed_end == 0 {
            self.producers.next_id = now_ms.saturating_mul(PRODUCER_IDS_PER_MS).max(0);
        }
        if self.producers.next_id >= self.producers.claimed_end {
            let start = self.producers.next_id.max(self.producers.claimed_end);
            let before = self.producers.claimed_end;
            self.producers.claimed_end = start.saturating_add(PRODUCER_ID_BLOCK_IDS);
            if let Err(e) = self.write_topics_file() {
                self.producers.claimed_end = before;
                return Err(KafkaError::new(
                    ErrorCode::KafkaStorageError,
                    format!("No producer id block could be claimed: {e}"),
                ));
            }
            self.producers.next_id = start;
        }
        let id = self.producers.next_id;
        self.producers.next_id = id.saturating_add(1);
        Ok((id, 0))
    }

    /// Forgets a deleted topic's producer state (a topic of the same name starts afresh).
    pub(super) fn forget_producers(&mut self, topic: &str) {
        self.producers.states.retain(|tp, _| tp.topic != topic);
    }

    /// The producer state of `topic`'s `partition` under its current leader, rebuilt from the
    /// leader's log when not held (after open, or a leader change).
    pub(super) fn producer_state(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> Result<&ProducerState, KafkaError> {
        let tp = TopicPartition { topic: topic.to_string(), partition };
        let (_, epoch) = self.leadership(topic, partition)?;
        let current = self.producers.states.get(&tp).is_some_and(|(built_at, _)| *built_at == epoch);
        if !current {
            let state = self.rebuild_producer_state(topic, partition)?;
            self.producers.states.insert(tp.clone(), (epoch, state));
        }
        self.producers.states.get(&tp).map(|(_, state)| state).ok_or_else(|| {
            KafkaError::new(ErrorCode::UnknownTopicOrPartition, format!("{tp} has no producer state."))
        })
    }

    /// What the leader of `topic`'s `partition` makes of an idempotent batch.
    pub(super) fn producer_verdict(
        &mut self,
        topic: &str,
        partition: i32,
        batch: &ProducerBatch,
    ) -> Result<Verdict, KafkaError> {
        Ok(self.producer_state(topic, partition)?.check(batch))
    }

    /// Notes a transaction marker appended at `offset` in the partition's producer state (a
    /// state not held is rebuilt from the log, marker included, when next needed).
    pub(super) fn marker_appended(&mut self, tp: &TopicPartition, producer_id: i64, epoch: i16, offset: i64) {
        if let Some((_, state)) = self.producers.states.get_mut(tp)
            && state.marker(producer_id, epoch, offset).is_err()
        {
            self.producers.states.remove(tp);
        }
    }

    /// The last stable offset of `topic`'s `partition` if its producer state is held, else its
    /// high watermark (what a read_uncommitted fetch reports, without scanning the log).
    pub(super) fn known_stable_offset(&self, topic: &str, partition: i32) -> Result<i64, KafkaError> {
        let (_, high_watermark) = self.readable(topic, partition)?;
        let (_, epoch) = self.leadership(topic, partition)?;
        let tp = TopicPartition { topic: topic.to_string(), partition };
        Ok(match self.producers.states.get(&tp) {
            Some((built_at, state)) if *built_at == epoch => state.last_stable_offset(high_watermark),
            _ => high_watermark,
        })
    }

    /// The last stable offset of `topic`'s `partition` and the aborted transactions among the
    /// offsets `from` up to it (from the leader's `.txnindex`): what a read_committed fetch reads
    /// to and skips.
    pub(super) fn stable_view(
        &mut self,
        topic: &str,
        partition: i32,
        from: i64,
    ) -> Result<(i64, Vec<crate::log::producer_state::AbortedTxn>), KafkaError> {
        let (_, high_watermark) = self.readable(topic, partition)?;
        let stable = self.producer_state(topic, partition)?.last_stable_offset(high_watermark);
        let (log, _) = self.readable(topic, partition)?;
        Ok((stable, log.aborted_transactions(from, stable).map_err(KafkaError::from)?))
    }

    /// Notes how an idempotent batch's append went: appended at an offset, refused before
    /// anything was written (the state stays), or with an outcome not known (a timeout after
    /// the leader wrote, a storage error, `acks=0`): then the state is rebuilt from the log when
    /// next needed.
    pub(super) fn producer_appended(
        &mut self,
        topic: &str,
        partition: i32,
        batch: ProducerBatch,
        outcome: Result<i64, ErrorCode>,
    ) {
        let tp = TopicPartition { topic: topic.to_string(), partition };
        let unknown = matches!(
            outcome,
            Err(ErrorCode::RequestTimedOut
                | ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::KafkaStorageError)
        );
        match (outcome, self.producers.states.get_mut(&tp)) {
            (Ok(offset), Some((_, state))) if offset >= 0 => state.appended(batch, offset),
            (Err(_), _) if !unknown => {}
            _ => {
                self.producers.states.remove(&tp);
            }
        }
    }

    /// Whether a retried batch's records (`first_offset` on, `count` of them) are replicated as
    /// `acks=all` promises: Kafka answers a duplicate only once the high watermark passed it.
    pub(super) fn duplicate_committed(
        &self,
        topic: &str,
        partition: i32,
        first_offset: i64,
        count: i64,
    ) -> bool {
        self.readable(topic, partition)
            .is_ok_and(|(_, high_watermark)| high_watermark >= first_offset + count)
    }

    /// `produce_records` for an idempotent producer's batch (`sent`: the batch and how many
    /// came): Kafka's checks, then a duplicate answered with its first offsets, or the batch
    /// appended with its producer id, epoch and sequence and noted in the partition's state.
    /// Returns where the records are, and whether they were a duplicate (nothing appended).
    pub(super) fn produce_idempotent(
        &mut self,
        now_ms: i64,
        acks: Acks,
        topic_name: &str,
        (partition, partitioner): (Option<i32>, PartitionerKind),
        (batch, batches, kept): (ProducerBatch, usize, Option<&[u8]>),
        records: Vec<(i64, BatchRecord)>,
    ) -> Result<(Vec<ProducedRecord>, bool), KafkaError> {
        // Kafka's rules for an idempotent producer: one batch with records and a sequence, to
        // the partition it names.
        let (Some(partition), 1, false, true) =
            (partition, batches, records.is_empty(), batch.first_sequence >= 0)
        else {
            return Err(KafkaError::new(
                ErrorCode::InvalidRecord,
                "An idempotent producer sends one batch of records with a base sequence to the partition it names."
                    .to_string(),
            ));
        };
        if batch.transactional {
            let tp = TopicPartition { topic: topic_name.to_string(), partition };
            self.verify_txn_partition(&tp, batch.producer_id, batch.epoch)?;
        }
        match self.producer_verdict(topic_name, partition, &batch)? {
            Verdict::Append => {}
            Verdict::Refuse(code) => return Err(refused(code, topic_name, partition, &batch)),
            Verdict::Duplicate { first_offset } => {
                // A retry: the offsets the batch got the first time, nothing appended again —
                // under acks=all once they are replicated, as the first answer would have been.
                let count = records.len() as i64;
                if acks == Acks::All && !self.duplicate_committed(topic_name, partition, first_offset, count)
                {
                    return Err(KafkaError::new(
                        ErrorCode::RequestTimedOut,
                        format!(
                            "The batch is stored in {topic_name}-{partition} but not yet replicated to the ISR."
                        ),
                    ));
                }
                let records = (0..)
                    .zip(&records)
                    .map(|(delta, (timestamp_ms, _))| ProducedRecord {
                        partition,
                        offset: first_offset + delta,
                        timestamp_ms: *timestamp_ms,
                    })
                    .collect();
                return Ok((records, true));
            }
        }
        let placed = self.place_records(topic_name, (Some(partition), partitioner), records)?;
        let appended = self.append_placed(now_ms, acks, topic_name, placed, (Some(batch), kept));
        let outcome = match &appended {
            Ok(records) => Ok(records.first().map_or(-1, |r| r.offset)),
            Err(error) => Err(error.error),
        };
        self.producer_appended(topic_name, partition, batch, outcome);
        Ok((appended?, false))
    }

    /// The producer state the leader's log leaves: the one the log keeps, or its newest
    /// `.snapshot` and the batches after it (`LocalLog::producer_state`).
    fn rebuild_producer_state(&self, topic: &str, partition: i32) -> Result<ProducerState, KafkaError> {
        let (log, _) = self.readable(topic, partition)?;
        log.producer_state().map_err(KafkaError::from)
    }
}

/// Kafka's error for a refused idempotent batch, with what was wrong.
pub(super) fn refused(code: ErrorCode, topic: &str, partition: i32, batch: &ProducerBatch) -> KafkaError {
    let message = match code {
        ErrorCode::InvalidProducerEpoch => format!(
            "Producer {} at epoch {} is fenced on {topic}-{partition}: a newer epoch wrote there.",
            batch.producer_id, batch.epoch
        ),
        _ => format!(
            "Producer {} epoch {} sent sequence {} to {topic}-{partition}, which is not the next one.",
            batch.producer_id, batch.epoch, batch.first_sequence
        ),
    };
    KafkaError::new(code, message)
}
