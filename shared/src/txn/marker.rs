//! Transaction markers: the control batch a transaction's coordinator has written to every
//! partition the transaction touched, saying COMMIT or ABORT (Kafka's `EndTransactionMarker`). The
//! batch carries the producer's id and epoch, the control and transactional attribute bits, and
//! one record: key = version 0 and the marker type, value = version 0 and the coordinator epoch.

use crate::group::coordinator_record::{DecodeError, Reader, put_i16, put_i32};
use crate::record::batch::{BatchError, BatchRecord, RecordBatch};

/// The control record key version (`ControlRecordType.CURRENT_CONTROL_RECORD_KEY_VERSION`).
const CONTROL_KEY_VERSION: i16 = 0;
/// The marker value version Kafka writes.
const MARKER_VALUE_VERSION: i16 = 0;

/// What a marker says about the producer's transaction on this partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// Its records are aborted: read_committed consumers skip them.
    Abort,
    /// Its records are committed.
    Commit,
}

impl MarkerKind {
    /// Kafka's control record type (`ControlRecordType`: ABORT 0, COMMIT 1).
    fn type_id(self) -> i16 {
        match self {
            MarkerKind::Abort => 0,
            MarkerKind::Commit => 1,
        }
    }
}

/// A marker as read back from a control batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// COMMIT or ABORT.
    pub kind: MarkerKind,
    /// The epoch of the coordinator that wrote it (its `__transaction_state` partition's leader
    /// epoch).
    pub coordinator_epoch: i32,
}

/// The control batch for `kind`, ready to append: the producer's id and epoch, no sequence.
pub fn encode_marker(
    now_ms: i64,
    producer_id: i64,
    producer_epoch: i16,
    kind: MarkerKind,
    coordinator_epoch: i32,
) -> Result<Vec<u8>, BatchError> {
    let mut key = Vec::with_capacity(4);
    put_i16(&mut key, CONTROL_KEY_VERSION);
    put_i16(&mut key, kind.type_id());
    let mut value = Vec::with_capacity(6);
    put_i16(&mut value, MARKER_VALUE_VERSION);
    put_i32(&mut value, coordinator_epoch);
    let record = BatchRecord { key: Some(key), value: Some(value), ..BatchRecord::default() };
    let mut batch = RecordBatch::new(now_ms, vec![record]);
    batch.attributes.control = true;
    batch.attributes.transactional = true;
    batch.producer_id = producer_id;
    batch.producer_epoch = producer_epoch;
    batch.encode()
}

/// The marker a control batch holds; `None` for any other batch.
pub fn marker_of(batch: &RecordBatch) -> Option<Result<Marker, DecodeError>> {
    if !batch.attributes.control {
        return None;
    }
    let record = batch.records.first()?;
    Some(decode_marker(record.key.as_deref().unwrap_or_default(), record.value.as_deref()))
}

/// Reads a control record's key and value.
pub fn decode_marker(key: &[u8], value: Option<&[u8]>) -> Result<Marker, DecodeError> {
    let mut r = Reader { bytes: key };
    let version = r.i16("control key version")?;
    if version != CONTROL_KEY_VERSION {
        return Err(DecodeError::UnknownVersion { record: "control record key", version });
    }
    let kind = match r.i16("control type")? {
        0 => MarkerKind::Abort,
        1 => MarkerKind::Commit,
        other => return Err(DecodeError::BadLength { field: "control type", length: other.into() }),
    };
    // Kafka reads the key's version and type and ignores what may follow (newer versions).
    let coordinator_epoch = match value {
        Some(value) if value.len() >= 6 => {
            let mut r = Reader { bytes: value };
            r.i16("marker version")?;
            r.i32("coordinator_epoch")?
        }
        _ => return Err(DecodeError::Truncated { field: "marker value" }),
    };
    Ok(Marker { kind, coordinator_epoch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_a_control_batch_kafka_reads() {
        let bytes = encode_marker(7, 1000, 3, MarkerKind::Commit, 2).unwrap();
        let (batch, used) = RecordBatch::decode(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert!(batch.attributes.control && batch.attributes.transactional);
        assert_eq!((batch.producer_id, batch.producer_epoch, batch.base_sequence), (1000, 3, -1));
        assert_eq!(batch.records[0].key.as_deref(), Some(&[0, 0, 0, 1][..]));
        assert_eq!(batch.records[0].value.as_deref(), Some(&[0, 0, 0, 0, 0, 2][..]));
        assert_eq!(marker_of(&batch), Some(Ok(Marker { kind: MarkerKind::Commit, coordinator_epoch: 2 })));
        assert!(matches!(decode_marker(&[0, 0, 0, 9], Some(&[0; 6])), Err(DecodeError::BadLength { .. })));
        assert!(matches!(decode_marker(&[0, 0, 0, 0], None), Err(DecodeError::Truncated { .. })));
    }
}
