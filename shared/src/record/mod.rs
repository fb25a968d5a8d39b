//! A record as a partition log holds it: offset, timestamp, key and value bytes.
//!
//! Bytes, not strings: Kafka stores what the serializer produced. `batch` frames records in Kafka's
//! RecordBatch v2 bytes, `compression` compresses them, `varint` is the integer encoding inside.

pub mod batch;
pub mod compression;
pub mod varint;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the partition, assigned by the log on append.
    pub offset: i64,
    /// CreateTime: milliseconds since the Unix epoch, as the producer stamped it.
    pub timestamp_ms: i64,
    /// `None` is Kafka's null key.
    pub key: Option<Vec<u8>>,
    /// `None` is Kafka's null value (a tombstone).
    pub value: Option<Vec<u8>>,
}

impl Record {
    /// Key plus value bytes: what `max.message.bytes` bounds in this slice.
    pub fn payload_len_bytes(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len) + self.value.as_ref().map_or(0, Vec::len)
    }
}
