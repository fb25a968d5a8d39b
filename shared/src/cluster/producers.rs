//! Idempotent producers: the producer ids InitProducerId hands out, and each partition's producer
//! state (`log::producer_state`) that lets its leader drop a retried batch and refuse a gap. The
//! state is rebuilt from the leader's log the first time a partition sees an idempotent batch
//! after the cluster opened or the leader changed, so it follows the log across restarts, crashes
//! and failovers (Kafka keeps `.snapshot` files to skip most of that scan; Kite does not yet).

use std::collections::BTreeMap;

use super::Cluster;
use crate::error::{ErrorCode, KafkaError};
use crate::ids::TopicPartition;
use crate::limits::FETCH_READ_CHUNK_BYTES;
use crate::log::producer_state::{ProducerBatch, ProducerState, Verdict};
use crate::record::batch::BatchHeader;

/// Producer ids start at the time the cluster opened times this, counting up, so ids handed out
/// after a restart are above every earlier one while fewer than this many were handed out per
/// millisecond (Kafka's controller hands out persisted blocks of ids instead).
pub const PRODUCER_IDS_PER_MS: i64 = 1_000;

/// The cluster's idempotent producers.
#[derive(Debug, Default)]
pub(super) struct Producers {
    /// The next id InitProducerId hands out (0: not started from the clock yet).
    next_id: i64,
    /// Each partition's state, with the leader epoch it was built under.
    states: BTreeMap<TopicPartition, (i32, ProducerState)>,
}

impl Cluster {
    /// InitProducerId for an idempotent producer: a new producer id at epoch 0, or, for a
    /// producer that names the id and epoch it has (KIP-360, after it lost track of a
    /// sequence), the same id at the next epoch. Returns (producer id, epoch).
    pub fn init_producer_id(&mut self, now_ms: i64, existing: Option<(i64, i16)>) -> (i64, i16) {
        if let Some((id, epoch)) = existing
            && (0..self.producers.next_id).contains(&id)
            && (0..i16::MAX).contains(&epoch)
        {
            return (id, epoch + 1);
        }
        let id = self.producers.next_id.max(now_ms.saturating_mul(PRODUCER_IDS_PER_MS));
        self.producers.next_id = id.saturating_add(1);
        (id, 0)
    }

    /// What the leader of `topic`'s `partition` makes of an idempotent batch.
    pub(super) fn producer_verdict(
        &mut self,
        topic: &str,
        partition: i32,
        batch: &ProducerBatch,
    ) -> Result<Verdict, KafkaError> {
        let tp = TopicPartition { topic: topic.to_string(), partition };
        let (_, epoch) = self.leadership(topic, partition)?;
        let current = self.producers.states.get(&tp).filter(|(built_at, _)| *built_at == epoch);
        if current.is_none() {
            let state = self.rebuild_producer_state(topic, partition)?;
            self.producers.states.insert(tp.clone(), (epoch, state));
        }
        let verdict = self.producers.states.get(&tp).map_or(Verdict::Append, |(_, s)| s.check(batch));
        Ok(verdict)
    }

    /// Notes an idempotent batch appended at `first_offset`; with no offset (an append whose
    /// outcome is not known) the partition's state is rebuilt from the log next time.
    pub(super) fn producer_appended(
        &mut self,
        topic: &str,
        partition: i32,
        batch: ProducerBatch,
        first_offset: Option<i64>,
    ) {
        let tp = TopicPartition { topic: topic.to_string(), partition };
        match (first_offset, self.producers.states.get_mut(&tp)) {
            (Some(offset), Some((_, state))) if offset >= 0 => state.appended(batch, offset),
            _ => {
                self.producers.states.remove(&tp);
            }
        }
    }

    /// The producer state the leader's log leaves: every batch header from the log's start.
    fn rebuild_producer_state(&self, topic: &str, partition: i32) -> Result<ProducerState, KafkaError> {
        let (log, _) = self.readable(topic, partition)?;
        let mut headers = Vec::new();
        let mut offset = log.log_start_offset();
        while offset < log.log_end_offset() {
            let bytes = log.read(offset, FETCH_READ_CHUNK_BYTES).map_err(KafkaError::from)?;
            let mut rest: &[u8] = &bytes;
            let before = offset;
            while let Ok(header) = BatchHeader::parse_trusted(rest) {
                let size = usize::try_from(header.batch_length).unwrap_or(0) + 12;
                offset = header.base_offset + i64::from(header.last_offset_delta) + 1;
                if ProducerBatch::of(&header).is_some() {
                    headers.push(header);
                }
                rest = rest.get(size..).unwrap_or_default();
            }
            if offset == before {
                // Nothing readable at `offset` (a hole the log reports as empty): stop here.
                break;
            }
        }
        Ok(ProducerState::rebuild(&headers))
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
