//! One stored record and the batch around it, field by field with the bytes in hex: what Kafka's
//! `kafka-dump-log.sh --print-data-log` prints for a segment, for the record lineage view.

use serde::{Deserialize, Serialize};

use super::batch::{BATCH_HEADER_BYTES, BatchError, BatchHeader, MAGIC_V2, RecordBatch, TimestampType};

/// The batch as `kafka-dump-log` describes it (its names, in snake case).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpedBatch {
    /// baseOffset: the first record's offset.
    pub base_offset: i64,
    /// baseOffset + lastOffsetDelta.
    pub last_offset: i64,
    /// recordCount.
    pub count: i32,
    /// baseSequence, −1 without a producerId.
    pub base_sequence: i32,
    /// producerId, −1 for a producer that is neither idempotent nor transactional.
    pub producer_id: i64,
    /// producerEpoch, −1 without a producerId.
    pub producer_epoch: i16,
    /// The leader epoch of the leader that appended the batch.
    pub partition_leader_epoch: i32,
    /// Attribute bit 4: written inside a transaction.
    pub is_transactional: bool,
    /// Attribute bit 5: a transaction marker, not data.
    pub is_control: bool,
    /// `CreateTime` or `LogAppendTime`, and the batch's max timestamp under it.
    pub timestamp_type: String,
    /// maxTimestamp (ms).
    pub max_timestamp: i64,
    /// baseTimestamp (ms).
    pub base_timestamp: i64,
    /// The whole batch's bytes, its 12-byte log overhead included.
    pub size_bytes: usize,
    /// Always 2: only RecordBatch v2 is stored.
    pub magic: i8,
    /// `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compresscodec: String,
    /// The CRC-32C stored in the batch (a dump is only made when the bytes after it match it).
    pub crc: u32,
    /// The 61-byte batch header in hex.
    pub header_hex: String,
}

/// One record of the batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpedRecord {
    /// The record's offset: baseOffset + offsetDelta.
    pub offset: i64,
    /// The record's timestamp (ms): baseTimestamp + timestampDelta under CreateTime, the batch's
    /// maxTimestamp under LogAppendTime.
    pub timestamp: i64,
    /// Bytes of the key, −1 for a null key, as Kafka's tools print it.
    pub key_size: i32,
    /// Bytes of the value, −1 for a null value (a tombstone).
    pub value_size: i32,
    /// The header keys in the record's order.
    pub header_keys: Vec<String>,
    /// The record's own bytes (length varint, attributes, deltas, key, value, headers) in hex; for
    /// a compressed batch, as they are after decompression.
    pub record_hex: String,
    /// The key in hex; `None` for a null key.
    pub key_hex: Option<String>,
    /// The value in hex; `None` for a null value.
    pub value_hex: Option<String>,
}

/// Why a record could not be dumped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpError {
    /// The bytes are not a valid batch: its CRC no longer matches, or a field is malformed.
    Batch(BatchError),
    /// The batch holds no record at this offset (compacted away, or another batch's).
    NoRecordAt {
        /// The offset asked for.
        offset: i64,
        /// The batch's baseOffset.
        base_offset: i64,
        /// The batch's last offset (baseOffset + lastOffsetDelta).
        last_offset: i64,
    },
}

impl std::fmt::Display for DumpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpError::Batch(e) => write!(f, "{e}"),
            DumpError::NoRecordAt { offset, base_offset, last_offset } => write!(
                f,
                "the batch at {base_offset}..={last_offset} holds no record at offset {offset} (compacted away?)"
            ),
        }
    }
}

/// Lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Dumps the record at `offset` from `batch`: the bytes of one whole stored batch.
pub fn dump_record(batch: &[u8], offset: i64) -> Result<(DumpedBatch, DumpedRecord), DumpError> {
    // `parse` recomputes the CRC: a damaged batch is an error naming both values.
    let header = BatchHeader::parse(batch).map_err(DumpError::Batch)?;
    let size_bytes = header.total_bytes();
    let dumped_batch = DumpedBatch {
        base_offset: header.base_offset,
        last_offset: header.last_offset(),
        count: header.record_count,
        base_sequence: header.base_sequence,
        producer_id: header.producer_id,
        producer_epoch: header.producer_epoch,
        partition_leader_epoch: header.partition_leader_epoch,
        is_transactional: header.attributes.transactional,
        is_control: header.attributes.control,
        timestamp_type: match header.attributes.timestamp_type {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        }
        .to_string(),
        max_timestamp: header.max_timestamp,
        base_timestamp: header.base_timestamp,
        size_bytes,
        magic: MAGIC_V2,
        compresscodec: header.attributes.compression.name().to_string(),
        crc: header.crc,
        header_hex: hex(&batch[..BATCH_HEADER_BYTES]),
    };
    let (decoded, _) = RecordBatch::decode(&batch[..size_bytes]).map_err(DumpError::Batch)?;
    let record =
        decoded.records.iter().find(|r| header.base_offset + i64::from(r.offset_delta) == offset).ok_or(
            DumpError::NoRecordAt {
                offset,
                base_offset: header.base_offset,
                last_offset: header.last_offset(),
            },
        )?;
    let size = |bytes: &Option<Vec<u8>>| bytes.as_ref().map_or(-1, |b| b.len() as i32);
    let timestamp = match header.attributes.timestamp_type {
        TimestampType::LogAppendTime => header.max_timestamp,
        TimestampType::CreateTime => header.base_timestamp.saturating_add(record.timestamp_delta),
    };
    let dumped_record = DumpedRecord {
        offset,
        timestamp,
        key_size: size(&record.key),
        value_size: size(&record.value),
        header_keys: record.headers.iter().map(|h| h.key.clone()).collect(),
        record_hex: hex(&record.to_bytes().map_err(DumpError::Batch)?),
        key_hex: record.key.as_deref().map(hex),
        value_hex: record.value.as_deref().map(hex),
    };
    Ok((dumped_batch, dumped_record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::batch::{BatchRecord, Header, stamp_offset_and_epoch};

    fn stored_batch() -> Vec<u8> {
        let records = vec![
            BatchRecord {
                offset_delta: 0,
                key: Some(b"k".to_vec()),
                value: Some(b"v1".to_vec()),
                ..Default::default()
            },
            BatchRecord {
                offset_delta: 1,
                timestamp_delta: 5,
                key: None,
                value: Some(b"v2".to_vec()),
                headers: vec![Header { key: "h".into(), value: None }],
            },
        ];
        let mut bytes = RecordBatch::new(1_000, records).encode().expect("a small batch encodes");
        stamp_offset_and_epoch(&mut bytes, 40, 3);
        bytes
    }

    #[test]
    fn dumps_a_record_with_its_batch_fields_and_bytes() {
        let bytes = stored_batch();
        let (batch, record) = dump_record(&bytes, 41).expect("offset 41 is in the batch");
        assert_eq!((batch.base_offset, batch.last_offset, batch.count), (40, 41, 2));
        assert_eq!((batch.partition_leader_epoch, batch.magic, batch.size_bytes), (3, 2, bytes.len()));
        assert_eq!(batch.crc, u32::from_be_bytes([bytes[17], bytes[18], bytes[19], bytes[20]]));
        assert_eq!(batch.compresscodec, "none");
        assert_eq!(batch.header_hex, hex(&bytes[..61]));
        assert_eq!((record.offset, record.timestamp, record.key_size, record.value_size), (41, 1_005, -1, 2));
        assert_eq!(record.header_keys, vec!["h".to_string()]);
        assert_eq!(record.value_hex.as_deref(), Some("7632"));
        // The record's bytes are where an uncompressed batch stores them, right after the first.
        let stored = hex(&bytes[61..]);
        assert!(stored.ends_with(&record.record_hex), "{stored} ends with {}", record.record_hex);
    }

    #[test]
    fn a_damaged_batch_is_refused_naming_its_crc() {
        let mut bytes = stored_batch();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let error = dump_record(&bytes, 40).expect_err("the CRC no longer matches");
        assert!(error.to_string().to_lowercase().contains("crc"), "{error}");
    }

    #[test]
    fn an_offset_outside_the_batch_is_named() {
        let error = dump_record(&stored_batch(), 39).expect_err("39 is before the batch");
        assert_eq!(error, DumpError::NoRecordAt { offset: 39, base_offset: 40, last_offset: 41 });
    }
}
