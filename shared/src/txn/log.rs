//! The records of `__transaction_state`, byte for byte as Kafka's transaction coordinator writes
//! them: the key (version 0: the `transactional.id`) and the value (version 0: producer id and
//! epoch, `transaction.timeout.ms`, the state, the partitions in the transaction, the last update
//! and start times). A null value is a tombstone (an expired `transactional.id`). Every decoder
//! returns a typed error naming the field; nothing here trusts its input.

use std::collections::BTreeSet;

use crate::group::coordinator_record::{
    DecodeError, Reader, put_i16, put_i32, put_i64, put_string, put_topic_partitions,
};
use crate::group::offsets_topic::by_topic;
use crate::ids::TopicPartition;

/// The key version Kafka writes.
pub const TRANSACTION_LOG_KEY_VERSION: i16 = 0;
/// The value version Kafka writes for a transaction without KIP-890's tagged fields.
pub const TRANSACTION_LOG_VALUE_VERSION: i16 = 0;

/// A transaction's state, by the number Kafka's `TransactionState` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum TxnState {
    /// A producer id and epoch, no transaction open.
    Empty,
    /// Partitions (or a group's offsets) added: records may be in the log, not yet decided.
    Ongoing,
    /// EndTxn asked to commit: the decision is in the log, the markers are being written.
    PrepareCommit,
    /// EndTxn asked to abort (or the coordinator aborts): the markers are being written.
    PrepareAbort,
    /// Every partition has its COMMIT marker.
    CompleteCommit,
    /// Every partition has its ABORT marker.
    CompleteAbort,
    /// The `transactional.id` expired and is being removed.
    Dead,
    /// A newer producer (or a timeout) bumps the epoch before aborting what was open.
    PrepareEpochFence,
}

impl TxnState {
    /// Kafka's number for it (`TransactionState.id`).
    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    /// The state numbered `id`.
    pub fn from_id(id: i8) -> Option<TxnState> {
        [
            TxnState::Empty,
            TxnState::Ongoing,
            TxnState::PrepareCommit,
            TxnState::PrepareAbort,
            TxnState::CompleteCommit,
            TxnState::CompleteAbort,
            TxnState::Dead,
            TxnState::PrepareEpochFence,
        ]
        .into_iter()
        .find(|s| s.id() == id)
    }

    /// The name Kafka's tools print (`kafka-transactions.sh describe`).
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }
}

/// A transactional id's record value (Kafka's TransactionLogValue, version 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionLogValue {
    /// The producer id the `transactional.id` maps to.
    pub producer_id: i64,
    /// Its current epoch.
    pub producer_epoch: i16,
    /// The producer's `transaction.timeout.ms`.
    pub timeout_ms: i32,
    /// Where the transaction is.
    pub state: TxnState,
    /// The partitions the open transaction wrote to (empty once complete).
    pub partitions: BTreeSet<TopicPartition>,
    /// When the state last changed (ms since the epoch).
    pub last_update_ms: i64,
    /// When the open transaction started (ms since the epoch), -1 when none is.
    pub start_ms: i64,
}

/// The key's bytes: version 0, then the `transactional.id`.
pub fn encode_key(transactional_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + transactional_id.len());
    put_i16(&mut out, TRANSACTION_LOG_KEY_VERSION);
    put_string(&mut out, transactional_id);
    out
}

/// The `transactional.id` a key names.
pub fn decode_key(bytes: &[u8]) -> Result<String, DecodeError> {
    let mut r = Reader { bytes };
    let version = r.i16("key version")?;
    if version != TRANSACTION_LOG_KEY_VERSION {
        return Err(DecodeError::UnknownVersion { record: "transaction log key", version });
    }
    let id = r.string("transactional_id")?;
    r.finish("transaction log key")?;
    Ok(id)
}

impl TransactionLogValue {
    /// The value's bytes at version 0.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        put_i16(&mut out, TRANSACTION_LOG_VALUE_VERSION);
        put_i64(&mut out, self.producer_id);
        put_i16(&mut out, self.producer_epoch);
        put_i32(&mut out, self.timeout_ms);
        out.push(self.state.id() as u8);
        let partitions: Vec<(String, i32)> =
            self.partitions.iter().map(|tp| (tp.topic.clone(), tp.partition)).collect();
        put_topic_partitions(&mut out, &by_topic(&partitions));
        put_i64(&mut out, self.last_update_ms);
        put_i64(&mut out, self.start_ms);
        out
    }

    /// Reads a version 0 value.
    pub fn decode(bytes: &[u8]) -> Result<TransactionLogValue, DecodeError> {
        let mut r = Reader { bytes };
        let version = r.i16("value version")?;
        if version != TRANSACTION_LOG_VALUE_VERSION {
            return Err(DecodeError::UnknownVersion { record: "transaction log value", version });
        }
        let producer_id = r.i64("producer_id")?;
        let producer_epoch = r.i16("producer_epoch")?;
        let timeout_ms = r.i32("transaction_timeout_ms")?;
        let status = r.take(1, "transaction_status")?[0] as i8;
        let state = TxnState::from_id(status)
            .ok_or(DecodeError::BadLength { field: "transaction_status", length: status.into() })?;
        let partitions = r
            .topic_partitions("transaction_partitions")?
            .into_iter()
            .flat_map(|(topic, ps)| {
                ps.into_iter().map(move |partition| TopicPartition { topic: topic.clone(), partition })
            })
            .collect();
        let last_update_ms = r.i64("transaction_last_update_timestamp_ms")?;
        let start_ms = r.i64("transaction_start_timestamp_ms")?;
        r.finish("transaction log value")?;
        Ok(TransactionLogValue {
            producer_id,
            producer_epoch,
            timeout_ms,
            state,
            partitions,
            last_update_ms,
            start_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_bytes_are_kafkas() {
        assert_eq!(hex(&encode_key("tx")), "000000027478");
        let value = TransactionLogValue {
            producer_id: 1000,
            producer_epoch: 2,
            timeout_ms: 60_000,
            state: TxnState::Ongoing,
            partitions: [TopicPartition { topic: "a".into(), partition: 1 }].into_iter().collect(),
            last_update_ms: 5,
            start_ms: 4,
        };
        // version, producer id, epoch, timeout, status, [topic "a" [1]], last update, start.
        assert_eq!(
            hex(&value.encode()),
            "0000".to_string()
                + "00000000000003e8"
                + "0002"
                + "0000ea60"
                + "01"
                + "00000001"
                + "000161"
                + "00000001"
                + "00000001"
                + "0000000000000005"
                + "0000000000000004"
        );
        assert_eq!(TransactionLogValue::decode(&value.encode()), Ok(value));
        assert_eq!(decode_key(&encode_key("payments-tx")).as_deref(), Ok("payments-tx"));
    }

    #[test]
    fn damaged_bytes_are_named_errors() {
        assert!(matches!(decode_key(&[0, 1, 0, 0]), Err(DecodeError::UnknownVersion { .. })));
        let mut value = TransactionLogValue {
            producer_id: 1,
            producer_epoch: 0,
            timeout_ms: 1,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            last_update_ms: 0,
            start_ms: -1,
        }
        .encode();
        value[16] = 9;
        assert_eq!(
            TransactionLogValue::decode(&value),
            Err(DecodeError::BadLength { field: "transaction_status", length: 9 })
        );
        assert!(matches!(TransactionLogValue::decode(&value[..10]), Err(DecodeError::Truncated { .. })));
    }
}
