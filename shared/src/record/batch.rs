//! Kafka's RecordBatch v2 (magic 2): the bytes producers send, logs store and consumers fetch.
//!
//! Layout (big-endian; offsets from the batch start): baseOffset i64 @0, batchLength i32 @8 (bytes
//! after this field), partitionLeaderEpoch i32 @12, magic i8 @16, crc u32 @17 (CRC-32C of bytes
//! 21..end), attributes i16 @21, lastOffsetDelta i32 @23, baseTimestamp i64 @27, maxTimestamp i64
//! @35, producerId i64 @43, producerEpoch i16 @51, baseSequence i32 @53, recordCount i32 @57,
//! records @61 — compressed as one blob when the attributes name a codec.
//!
//! Decoding trusts nothing: every length is checked against the bytes that are actually there before
//! anything is allocated, and every malformed input is a `BatchError`, never a panic.

use serde::{Deserialize, Serialize};

use super::compression::{self, Compression};
use super::varint::{Reader, varint_len, varlong_len, write_varint, write_varlong};
use crate::limits::{MAX_BATCH_BYTES, MAX_DECOMPRESSED_BATCH_BYTES};

/// The magic byte of RecordBatch v2, the only record format Kite reads and writes.
pub const MAGIC_V2: i8 = 2;
/// `DefaultRecordBatch.RECORD_BATCH_OVERHEAD`: every batch's fixed header.
pub const BATCH_HEADER_BYTES: usize = 61;
/// baseOffset and batchLength: the bytes `batchLength` does not count.
pub const LOG_OVERHEAD_BYTES: usize = 12;
/// The shortest possible record: seven one-byte fields (length, attributes, timestamp delta, offset
/// delta, key length, value length, header count). Bounds how many records a body can hold.
pub const MIN_RECORD_BYTES: usize = 7;

/// producerId of a batch from a producer that is neither idempotent nor transactional.
pub const NO_PRODUCER_ID: i64 = -1;
/// producerEpoch of a batch without a producerId.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// baseSequence of a batch without a producerId: no sequence check on append.
pub const NO_SEQUENCE: i32 = -1;
/// partitionLeaderEpoch of a batch no leader has stamped yet (as a producer sends it).
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

const BASE_OFFSET_AT: usize = 0;
const BATCH_LENGTH_AT: usize = 8;
const PARTITION_LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORD_COUNT_AT: usize = 57;

/// The batch header's fields by Kafka's names (`DefaultRecordBatch`), each with its first byte
/// and width: how the protocol inspector maps a batch's bytes to its fields.
pub const HEADER_FIELDS: [(&str, usize, usize); 13] = [
    ("baseOffset", BASE_OFFSET_AT, 8),
    ("batchLength", BATCH_LENGTH_AT, 4),
    ("partitionLeaderEpoch", PARTITION_LEADER_EPOCH_AT, 4),
    ("magic", MAGIC_AT, 1),
    ("crc", CRC_AT, 4),
    ("attributes", ATTRIBUTES_AT, 2),
    ("lastOffsetDelta", LAST_OFFSET_DELTA_AT, 4),
    ("baseTimestamp", BASE_TIMESTAMP_AT, 8),
    ("maxTimestamp", MAX_TIMESTAMP_AT, 8),
    ("producerId", PRODUCER_ID_AT, 8),
    ("producerEpoch", PRODUCER_EPOCH_AT, 2),
    ("baseSequence", BASE_SEQUENCE_AT, 4),
    ("recordCount", RECORD_COUNT_AT, 4),
];

const COMPRESSION_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;
const DELETE_HORIZON_BIT: i16 = 0x40;

/// Whose clock a batch's timestamps are: attribute bit 3, set from the topic's
/// `message.timestamp.type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimestampType {
    /// The producer's timestamp (`message.timestamp.type=CreateTime`, the default).
    #[default]
    CreateTime,
    /// The broker's clock at append (`LogAppendTime`).
    LogAppendTime,
}

/// The batch's attribute bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Bits 0–2: the codec the records are compressed with, as one blob.
    pub compression: Compression,
    /// Bit 3: CreateTime (0) or LogAppendTime (1).
    pub timestamp_type: TimestampType,
    /// Bit 4: written by a transactional producer; read_committed consumers skip it if the
    /// transaction aborts.
    pub transactional: bool,
    /// Bit 5: a control batch, whose record is a transaction marker (COMMIT or ABORT), not data.
    pub control: bool,
    /// Bit 6: baseTimestamp holds the log cleaner's delete horizon (ms) for the batch's tombstones
    /// and markers (KIP-534), not the first record's timestamp.
    pub delete_horizon: bool,
}

impl Attributes {
    /// The attributes int16 as the batch header stores it.
    pub fn to_bits(self) -> i16 {
        let mut bits = self.compression.id();
        if self.timestamp_type == TimestampType::LogAppendTime {
            bits |= TIMESTAMP_TYPE_BIT;
        }
        if self.transactional {
            bits |= TRANSACTIONAL_BIT;
        }
        if self.control {
            bits |= CONTROL_BIT;
        }
        if self.delete_horizon {
            bits |= DELETE_HORIZON_BIT;
        }
        bits
    }

    /// Reads a header's attributes int16; refuses a compression id that names no codec. Bits 7 and
    /// up are ignored.
    pub fn from_bits(bits: i16) -> Result<Attributes, BatchError> {
        let codec = bits & COMPRESSION_MASK;
        let compression = Compression::from_id(codec).ok_or(BatchError::UnknownCompression { id: codec })?;
        Ok(Attributes {
            compression,
            timestamp_type: if bits & TIMESTAMP_TYPE_BIT != 0 {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            },
            transactional: bits & TRANSACTIONAL_BIT != 0,
            control: bits & CONTROL_BIT != 0,
            delete_horizon: bits & DELETE_HORIZON_BIT != 0,
        })
    }
}

/// A record header: a UTF-8 key and nullable bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Never null on the wire.
    pub key: String,
    /// `None` is a null value (length −1), distinct from an empty one.
    pub value: Option<Vec<u8>>,
}

/// A record inside a batch: its offset and timestamp are deltas from the batch's base.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchRecord {
    /// timestampDelta: the record's timestamp (ms) less the batch's baseTimestamp.
    pub timestamp_delta: i64,
    /// offsetDelta: the record's offset less the batch's baseOffset; rises within a batch, with
    /// gaps only where compaction removed records.
    pub offset_delta: i32,
    /// `None` is a null key (length −1), distinct from an empty one.
    pub key: Option<Vec<u8>>,
    /// `None` is a null value (length −1): a tombstone.
    pub value: Option<Vec<u8>>,
    /// In the order the producer wrote them; keys may repeat.
    pub headers: Vec<Header>,
}

/// A whole RecordBatch v2 decoded, records included. batchLength, magic, crc and recordCount are
/// not kept: `encode` computes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordBatch {
    /// baseOffset: the first record's offset, set by the leader on append.
    pub base_offset: i64,
    /// partitionLeaderEpoch: the leader epoch of the leader that appended the batch, −1 before.
    pub partition_leader_epoch: i32,
    /// attributes: codec, timestamp type, transactional, control, delete horizon.
    pub attributes: Attributes,
    /// lastOffsetDelta: the batch's last offset less baseOffset; the next batch starts after it.
    pub last_offset_delta: i32,
    /// baseTimestamp (ms): what records' timestampDelta counts from.
    pub base_timestamp: i64,
    /// maxTimestamp (ms): the latest record timestamp, or the broker's append time under
    /// LogAppendTime.
    pub max_timestamp: i64,
    /// producerId of an idempotent or transactional producer, −1 for none.
    pub producer_id: i64,
    /// producerEpoch: fences older instances of the same producerId; −1 for none.
    pub producer_epoch: i16,
    /// baseSequence: the first record's sequence number for this producer and partition, −1 for
    /// none; the leader checks it to drop duplicates and refuse gaps.
    pub base_sequence: i32,
    /// records, decompressed, in offset order.
    pub records: Vec<BatchRecord>,
}

/// Why bytes are not a valid RecordBatch v2, or a batch cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The input ends before a field, a record or the whole batch does.
    Truncated {
        /// Kafka's name for what was being read.
        field: &'static str,
        /// Bytes it takes.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// batchLength is shorter than the rest of the 61-byte header or would make the batch larger
    /// than `MAX_BATCH_BYTES`.
    BatchLengthOutOfRange {
        /// The batchLength stored in the batch.
        batch_length: i32,
        /// Smallest valid batchLength in bytes: the header after baseOffset and batchLength.
        min: usize,
        /// Largest accepted batchLength in bytes: `MAX_BATCH_BYTES` less the 12-byte log overhead.
        max: usize,
    },
    /// The magic byte is not 2: an older message format (v0/v1) or not a batch at all.
    UnsupportedMagic {
        /// The magic byte found.
        magic: i8,
    },
    /// The crc field does not match the CRC-32C of the bytes from attributes to the end: the batch
    /// was damaged after it was written.
    CrcMismatch {
        /// The crc the batch carries.
        stored: u32,
        /// The CRC-32C of its bytes.
        computed: u32,
    },
    /// The attributes' compression bits name no codec (5 to 7).
    UnknownCompression {
        /// The value of attribute bits 0–2.
        id: i16,
    },
    /// recordCount is negative.
    NegativeRecordCount {
        /// The recordCount stored.
        count: i32,
    },
    /// lastOffsetDelta is negative, or baseOffset + lastOffsetDelta overflows an int64.
    LastOffsetOutOfRange {
        /// The stored baseOffset.
        base_offset: i64,
        /// The stored lastOffsetDelta.
        last_offset_delta: i32,
    },
    /// recordCount claims more records than the records' bytes could hold at the smallest record
    /// size (`MIN_RECORD_BYTES`); refused before anything is allocated for them.
    RecordCountTooLarge {
        /// The recordCount stored.
        count: i32,
        /// Bytes of records after the header, after decompression for a compressed batch.
        body_bytes: usize,
    },
    /// The records' bytes hold fewer records than recordCount says.
    RecordCountMismatch {
        /// The recordCount stored.
        declared: i32,
        /// Records actually decoded.
        found: usize,
    },
    /// A varint runs past 5 bytes (a varint) or 10 bytes (a varlong), or does not fit an int32.
    VarintTooLong {
        /// Kafka's name for the field being read.
        field: &'static str,
    },
    /// A length or count is negative: below −1 for a nullable field, below 0 for a record's length
    /// or its header count.
    NegativeLength {
        /// Kafka's name for the field whose length it is.
        field: &'static str,
        /// The length read.
        len: i32,
    },
    /// A record's fields end before the bytes its length varint declared.
    RecordLengthMismatch {
        /// The record's length varint, in bytes.
        declared: i32,
        /// Bytes its fields took.
        actual: usize,
    },
    /// A record's offsetDelta is not greater than the one before it.
    OffsetDeltaOutOfOrder {
        /// The offsetDelta of the previous record.
        previous: i32,
        /// The offsetDelta that should have been greater.
        found: i32,
    },
    /// A record's offsetDelta is negative or beyond the batch's lastOffsetDelta.
    OffsetDeltaBeyondLast {
        /// The record's offsetDelta.
        offset_delta: i32,
        /// The batch's lastOffsetDelta.
        last_offset_delta: i32,
    },
    /// A header key's bytes are not UTF-8, which Kafka requires of header keys.
    HeaderKeyNotUtf8,
    /// A header key has length −1; Kafka allows null header values, never null keys.
    NullHeaderKey,
    /// Bytes are left after the last record recordCount declares.
    TrailingBytes {
        /// How many bytes are left.
        count: usize,
    },
    /// The compressed records could not be decompressed.
    Decompression {
        /// The codec the attributes name.
        codec: Compression,
        /// The decompressor's own message.
        reason: String,
    },
    /// Compressing the records for `encode` failed.
    CompressionFailed {
        /// The codec the attributes name.
        codec: Compression,
        /// The compressor's own message.
        reason: String,
    },
    /// The compressed records expand past `MAX_DECOMPRESSED_BATCH_BYTES` (a "zip bomb").
    DecompressedTooLarge {
        /// The codec the attributes name.
        codec: Compression,
        /// The limit that was reached, in bytes.
        max_bytes: usize,
    },
    /// A length or count to encode does not fit the int32 Kafka stores it in.
    FieldTooLarge {
        /// Kafka's name for the field.
        field: &'static str,
        /// Its length in bytes (a count, for `record count` and `header count`).
        len: usize,
    },
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use BatchError::*;
        match self {
            Truncated { field, needed, available } => {
                write!(f, "batch truncated reading {field}: needs {needed} bytes, {available} left")
            }
            BatchLengthOutOfRange { batch_length, min, max } => {
                write!(f, "batchLength {batch_length} is outside {min}..={max}")
            }
            UnsupportedMagic { magic } => write!(f, "magic {magic} is not RecordBatch v2 (magic 2)"),
            CrcMismatch { stored, computed } => {
                write!(f, "CRC-32C mismatch: batch says {stored:#010x}, bytes give {computed:#010x}")
            }
            UnknownCompression { id } => write!(f, "unknown compression codec id {id}"),
            NegativeRecordCount { count } => write!(f, "negative record count {count}"),
            LastOffsetOutOfRange { base_offset, last_offset_delta } => {
                write!(
                    f,
                    "baseOffset {base_offset} with lastOffsetDelta {last_offset_delta} is not a valid last offset"
                )
            }
            RecordCountTooLarge { count, body_bytes } => {
                write!(f, "record count {count} cannot fit in {body_bytes} bytes of records")
            }
            RecordCountMismatch { declared, found } => {
                write!(f, "batch declares {declared} records but holds {found}")
            }
            VarintTooLong { field } => write!(f, "varint for {field} is too long"),
            NegativeLength { field, len } => write!(f, "{field} has negative length {len}"),
            RecordLengthMismatch { declared, actual } => {
                write!(f, "record declares {declared} bytes but its fields take {actual}")
            }
            OffsetDeltaOutOfOrder { previous, found } => {
                write!(f, "offset delta {found} does not follow {previous}")
            }
            OffsetDeltaBeyondLast { offset_delta, last_offset_delta } => {
                write!(f, "offset delta {offset_delta} is beyond lastOffsetDelta {last_offset_delta}")
            }
            HeaderKeyNotUtf8 => write!(f, "a header key is not valid UTF-8"),
            NullHeaderKey => write!(f, "a header key is null"),
            TrailingBytes { count } => write!(f, "{count} bytes follow the last record"),
            Decompression { codec, reason } => write!(f, "{} data is corrupt: {reason}", codec.name()),
            CompressionFailed { codec, reason } => write!(f, "{} compression failed: {reason}", codec.name()),
            DecompressedTooLarge { codec, max_bytes } => {
                write!(f, "{} data decompresses to more than {max_bytes} bytes", codec.name())
            }
            FieldTooLarge { field, len } => {
                write!(f, "{field} of {len} bytes does not fit Kafka's int32 length")
            }
        }
    }
}

impl std::error::Error for BatchError {}

fn be_i16(bytes: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([bytes[at], bytes[at + 1]])
}
fn be_i32(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}
fn be_i64(bytes: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The fixed 61-byte header of a batch, validated (size, magic, CRC, counts) but with its records
/// left as bytes. What the log needs to append, index and serve a batch without decoding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// baseOffset: the first record's offset.
    pub base_offset: i64,
    /// batchLength: the batch's bytes after this field, so the whole batch is 12 bytes more.
    pub batch_length: i32,
    /// partitionLeaderEpoch: the leader epoch of the leader that appended the batch, −1 before.
    pub partition_leader_epoch: i32,
    /// crc: the CRC-32C of the bytes from attributes to the batch's end, as stored.
    pub crc: u32,
    /// attributes: codec, timestamp type, transactional, control, delete horizon.
    pub attributes: Attributes,
    /// lastOffsetDelta: the batch's last offset less baseOffset; never negative once parsed.
    pub last_offset_delta: i32,
    /// baseTimestamp (ms): what records' timestampDelta counts from.
    pub base_timestamp: i64,
    /// maxTimestamp (ms): the latest record timestamp, or the append time under LogAppendTime.
    pub max_timestamp: i64,
    /// producerId, −1 for none.
    pub producer_id: i64,
    /// producerEpoch, −1 for none.
    pub producer_epoch: i16,
    /// baseSequence: the first record's sequence number for this producer, −1 for none.
    pub base_sequence: i32,
    /// recordCount: how many records the batch declares; never negative once parsed.
    pub record_count: i32,
}

impl BatchHeader {
    /// Parses and validates the batch at the start of `input`, CRC included.
    pub fn parse(input: &[u8]) -> Result<BatchHeader, BatchError> {
        BatchHeader::parse_checked(input, true, input.len())
    }

    /// Like `parse` but without recomputing the CRC: only for bytes this process has already
    /// validated (a log's own segments), where scanning headers must not cost a pass over every
    /// batch. Every other check still runs, so a bad length can never be followed.
    pub fn parse_trusted(input: &[u8]) -> Result<BatchHeader, BatchError> {
        BatchHeader::parse_checked(input, false, input.len())
    }

    /// `parse_trusted` from just the batch's first `BATCH_HEADER_BYTES` (a stored segment read
    /// header by header), where `bytes_available` bytes of the file start at the batch.
    pub fn parse_stored(header: &[u8], bytes_available: usize) -> Result<BatchHeader, BatchError> {
        if header.len() < BATCH_HEADER_BYTES.min(bytes_available) {
            return Err(BatchError::Truncated {
                field: "batch header",
                needed: BATCH_HEADER_BYTES,
                available: header.len(),
            });
        }
        BatchHeader::parse_checked(header, false, bytes_available)
    }

    fn parse_checked(input: &[u8], verify_crc: bool, available: usize) -> Result<BatchHeader, BatchError> {
        if input.len() < LOG_OVERHEAD_BYTES {
            return Err(BatchError::Truncated {
                field: "baseOffset and batchLength",
                needed: LOG_OVERHEAD_BYTES,
                available: input.len(),
            });
        }
        let batch_length = be_i32(input, BATCH_LENGTH_AT);
        let min = BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES;
        let max = MAX_BATCH_BYTES - LOG_OVERHEAD_BYTES;
        if batch_length < min as i32 || batch_length as usize > max {
            return Err(BatchError::BatchLengthOutOfRange { batch_length, min, max });
        }
        let total = LOG_OVERHEAD_BYTES + batch_length as usize;
        if available < total {
            return Err(BatchError::Truncated { field: "batch", needed: total, available });
        }
        // Only `parse_stored` passes fewer bytes than the batch; it needs the whole header.
        debug_assert!(input.len() >= BATCH_HEADER_BYTES);
        let magic = input[MAGIC_AT] as i8;
        if magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic { magic });
        }
        let stored = u32::from_be_bytes(input[CRC_AT..CRC_AT + 4].try_into().expect("4 bytes"));
        if verify_crc {
            let computed = crc32c::crc32c(&input[ATTRIBUTES_AT..total]);
            if stored != computed {
                return Err(BatchError::CrcMismatch { stored, computed });
            }
        }
        let attributes = Attributes::from_bits(be_i16(input, ATTRIBUTES_AT))?;
        let base_offset = be_i64(input, BASE_OFFSET_AT);
        let last_offset_delta = be_i32(input, LAST_OFFSET_DELTA_AT);
        if last_offset_delta < 0 || base_offset.checked_add(i64::from(last_offset_delta)).is_none() {
            return Err(BatchError::LastOffsetOutOfRange { base_offset, last_offset_delta });
        }
        let record_count = be_i32(input, RECORD_COUNT_AT);
        if record_count < 0 {
            return Err(BatchError::NegativeRecordCount { count: record_count });
        }
        let body_bytes = total - BATCH_HEADER_BYTES;
        if attributes.compression == Compression::None
            && record_count as usize > body_bytes / MIN_RECORD_BYTES
        {
            return Err(BatchError::RecordCountTooLarge { count: record_count, body_bytes });
        }
        Ok(BatchHeader {
            base_offset,
            batch_length,
            partition_leader_epoch: be_i32(input, PARTITION_LEADER_EPOCH_AT),
            crc: stored,
            attributes,
            last_offset_delta,
            base_timestamp: be_i64(input, BASE_TIMESTAMP_AT),
            max_timestamp: be_i64(input, MAX_TIMESTAMP_AT),
            producer_id: be_i64(input, PRODUCER_ID_AT),
            producer_epoch: be_i16(input, PRODUCER_EPOCH_AT),
            base_sequence: be_i32(input, BASE_SEQUENCE_AT),
            record_count,
        })
    }

    /// The whole batch's size in bytes.
    pub fn total_bytes(&self) -> usize {
        LOG_OVERHEAD_BYTES + self.batch_length as usize
    }

    /// baseOffset + lastOffsetDelta; `parse` refused headers where this would overflow.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }
}

/// Rewrites what a partition leader stamps on append — baseOffset and partitionLeaderEpoch — in
/// place. Neither is covered by the CRC, so the batch stays valid without recomputing it.
pub fn stamp_offset_and_epoch(batch: &mut [u8], base_offset: i64, leader_epoch: i32) {
    batch[BASE_OFFSET_AT..BASE_OFFSET_AT + 8].copy_from_slice(&base_offset.to_be_bytes());
    batch[PARTITION_LEADER_EPOCH_AT..PARTITION_LEADER_EPOCH_AT + 4]
        .copy_from_slice(&leader_epoch.to_be_bytes());
}

/// For `message.timestamp.type=LogAppendTime`: marks the batch's timestamps as the broker's and
/// sets maxTimestamp to `now_ms`, then recomputes the CRC (both fields are covered by it).
/// `batch` must be one whole batch, as `BatchHeader::parse` accepted it.
pub fn stamp_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attributes = be_i16(batch, ATTRIBUTES_AT) | TIMESTAMP_TYPE_BIT;
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&now_ms.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

fn nullable_len(bytes: Option<&[u8]>) -> usize {
    match bytes {
        None => varint_len(-1),
        Some(b) => varint_len(b.len() as i32) + b.len(),
    }
}

fn length_i32(field: &'static str, len: usize) -> Result<i32, BatchError> {
    i32::try_from(len).map_err(|_| BatchError::FieldTooLarge { field, len })
}

impl BatchRecord {
    /// Bytes of the record body (everything after its length varint).
    pub fn body_len(&self) -> usize {
        1 + varlong_len(self.timestamp_delta)
            + varint_len(self.offset_delta)
            + nullable_len(self.key.as_deref())
            + nullable_len(self.value.as_deref())
            + varint_len(self.headers.len() as i32)
            + self
                .headers
                .iter()
                .map(|h| varint_len(h.key.len() as i32) + h.key.len() + nullable_len(h.value.as_deref()))
                .sum::<usize>()
    }

    /// Bytes the record takes in an uncompressed batch, its length varint included.
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        varint_len(body as i32) + body
    }

    /// The record's bytes as an uncompressed batch holds them, its length varint first.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BatchError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), BatchError> {
        let write_nullable = |out: &mut Vec<u8>, field, bytes: Option<&[u8]>| -> Result<(), BatchError> {
            match bytes {
                None => write_varint(out, -1),
                Some(b) => {
                    write_varint(out, length_i32(field, b.len())?);
                    out.extend_from_slice(b);
                }
            }
            Ok(())
        };
        write_varint(out, length_i32("record", self.body_len())?);
        out.push(0); // record attributes: unused, always 0
        write_varlong(out, self.timestamp_delta);
        write_varint(out, self.offset_delta);
        write_nullable(out, "key", self.key.as_deref())?;
        write_nullable(out, "value", self.value.as_deref())?;
        write_varint(out, length_i32("header count", self.headers.len())?);
        for header in &self.headers {
            write_varint(out, length_i32("header key", header.key.len())?);
            out.extend_from_slice(header.key.as_bytes());
            write_nullable(out, "header value", header.value.as_deref())?;
        }
        Ok(())
    }
}

/// A record read in place, every field checked, nothing copied out: a producer's megabyte
/// batch that is stored as it came need not be ([`RecordBatch::check`]); `to_owned` copies it
/// into a [`BatchRecord`] ([`RecordBatch::decode`]).
struct RecordRef<'a> {
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    /// The headers' bytes, already checked, and how many there are.
    headers: &'a [u8],
    header_count: usize,
}

impl<'a> RecordRef<'a> {
    fn decode(reader: &mut Reader<'a>) -> Result<RecordRef<'a>, BatchError> {
        let declared = reader.varint("record length")?;
        if declared < 0 {
            return Err(BatchError::NegativeLength { field: "record", len: declared });
        }
        let body = reader.bytes(declared as usize, "record")?;
        let mut fields = Reader::new(body);
        let _attributes = fields.i8("record attributes")?;
        let timestamp_delta = fields.varlong("timestampDelta")?;
        let offset_delta = fields.varint("offsetDelta")?;
        let key = fields.nullable_bytes("key")?;
        let value = fields.nullable_bytes("value")?;
        let header_count = fields.varint("header count")?;
        if header_count < 0 {
            return Err(BatchError::NegativeLength { field: "headers", len: header_count });
        }
        let headers_at = fields.position();
        for _ in 0..header_count {
            let key = fields.nullable_bytes("header key")?.ok_or(BatchError::NullHeaderKey)?;
            std::str::from_utf8(key).map_err(|_| BatchError::HeaderKeyNotUtf8)?;
            fields.nullable_bytes("header value")?;
        }
        if fields.remaining() != 0 {
            return Err(BatchError::RecordLengthMismatch { declared, actual: fields.position() });
        }
        Ok(RecordRef {
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers: &body[headers_at..],
            header_count: header_count as usize,
        })
    }
}

impl RecordRef<'_> {
    /// The record copied out of its batch.
    fn to_owned(&self) -> Result<BatchRecord, BatchError> {
        let record = self;
        let mut fields = Reader::new(record.headers);
        let mut headers = Vec::with_capacity(record.header_count);
        for _ in 0..record.header_count {
            // Checked by `RecordRef::decode`; read again to copy them out.
            let key = fields.nullable_bytes("header key")?.ok_or(BatchError::NullHeaderKey)?;
            let key = std::str::from_utf8(key).map_err(|_| BatchError::HeaderKeyNotUtf8)?.to_string();
            let value = fields.nullable_bytes("header value")?.map(<[u8]>::to_vec);
            headers.push(Header { key, value });
        }
        Ok(BatchRecord {
            timestamp_delta: record.timestamp_delta,
            offset_delta: record.offset_delta,
            key: record.key.map(<[u8]>::to_vec),
            value: record.value.map(<[u8]>::to_vec),
            headers,
        })
    }
}

/// A batch checked as [`RecordBatch::decode`] checks it, without copying its records out: what
/// a broker needs to store a producer's batch as it came.
#[derive(Debug)]
pub struct CheckedBatch {
    /// Its header.
    pub header: BatchHeader,
    /// Each record's timestamp delta, in order.
    pub timestamp_deltas: Vec<i64>,
    /// The bytes of its keys and values.
    pub data_bytes: usize,
    /// Whether its offset deltas are 0, 1, 2, … (a producer's batch, not a compacted one).
    pub dense: bool,
}

/// Every record of a batch's (decompressed) records bytes, checked and handed to `visit` in
/// order: offsets rising within the count the header declares.
fn walk_records<'a>(
    header: &BatchHeader,
    records_bytes: &'a [u8],
    mut visit: impl FnMut(RecordRef<'a>) -> Result<(), BatchError>,
) -> Result<(), BatchError> {
    let mut reader = Reader::new(records_bytes);
    let mut count = 0usize;
    let mut previous: Option<i32> = None;
    while reader.remaining() > 0 {
        if count == header.record_count as usize {
            return Err(BatchError::TrailingBytes { count: reader.remaining() });
        }
        let record = RecordRef::decode(&mut reader)?;
        // Offsets rise within a batch; compaction may leave gaps, never reorderings.
        if let Some(previous) = previous
            && record.offset_delta <= previous
        {
            return Err(BatchError::OffsetDeltaOutOfOrder { previous, found: record.offset_delta });
        }
        if record.offset_delta < 0 || record.offset_delta > header.last_offset_delta {
            return Err(BatchError::OffsetDeltaBeyondLast {
                offset_delta: record.offset_delta,
                last_offset_delta: header.last_offset_delta,
            });
        }
        previous = Some(record.offset_delta);
        count += 1;
        visit(record)?;
    }
    if count != header.record_count as usize {
        return Err(BatchError::RecordCountMismatch { declared: header.record_count, found: count });
    }
    Ok(())
}

impl RecordBatch {
    /// A batch as a producer builds it: offsets 0.., no producer id, CreateTime, uncompressed,
    /// `partitionLeaderEpoch` unset (−1) until a leader stamps it.
    pub fn new(base_timestamp: i64, records: Vec<BatchRecord>) -> RecordBatch {
        let last_offset_delta = records.iter().map(|r| r.offset_delta).max().unwrap_or(0);
        let max_timestamp = records
            .iter()
            .map(|r| base_timestamp.saturating_add(r.timestamp_delta))
            .max()
            .unwrap_or(base_timestamp);
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            attributes: Attributes::default(),
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            records,
        }
    }

    /// A record's timestamp as consumers see it: its own (CreateTime), or the broker's append
    /// time, the batch's maxTimestamp, for every record of a LogAppendTime batch.
    pub fn timestamp_of(&self, record: &BatchRecord) -> i64 {
        match self.attributes.timestamp_type {
            TimestampType::CreateTime => self.base_timestamp.saturating_add(record.timestamp_delta),
            TimestampType::LogAppendTime => self.max_timestamp,
        }
    }

    /// Kafka's bytes for this batch.
    pub fn encode(&self) -> Result<Vec<u8>, BatchError> {
        let records_len: usize = self.records.iter().map(BatchRecord::encoded_len).sum();
        let mut records = Vec::with_capacity(records_len);
        for record in &self.records {
            record.encode(&mut records)?;
        }
        let codec = self.attributes.compression;
        let body = if codec == Compression::None {
            records
        } else {
            compression::compress(codec, &records)
                .map_err(|reason| BatchError::CompressionFailed { codec, reason })?
        };
        let total = BATCH_HEADER_BYTES + body.len();
        let batch_length = length_i32("batch", total - LOG_OVERHEAD_BYTES)?;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&self.base_offset.to_be_bytes());
        out.extend_from_slice(&batch_length.to_be_bytes());
        out.extend_from_slice(&self.partition_leader_epoch.to_be_bytes());
        out.push(MAGIC_V2 as u8);
        out.extend_from_slice(&[0; 4]); // CRC, filled in below
        out.extend_from_slice(&self.attributes.to_bits().to_be_bytes());
        out.extend_from_slice(&self.last_offset_delta.to_be_bytes());
        out.extend_from_slice(&self.base_timestamp.to_be_bytes());
        out.extend_from_slice(&self.max_timestamp.to_be_bytes());
        out.extend_from_slice(&self.producer_id.to_be_bytes());
        out.extend_from_slice(&self.producer_epoch.to_be_bytes());
        out.extend_from_slice(&self.base_sequence.to_be_bytes());
        out.extend_from_slice(&length_i32("record count", self.records.len())?.to_be_bytes());
        debug_assert_eq!(out.len(), BATCH_HEADER_BYTES);
        out.extend_from_slice(&body);
        let crc = crc32c::crc32c(&out[ATTRIBUTES_AT..]);
        out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(out)
    }

    /// Decodes the batch at the start of `input`; returns it and how many bytes it took.
    pub fn decode(input: &[u8]) -> Result<(RecordBatch, usize), BatchError> {
        let header = BatchHeader::parse(input)?;
        let total = header.total_bytes();
        let body = &input[BATCH_HEADER_BYTES..total];
        let decompressed = records_bytes(&header, body)?;
        let mut records = Vec::with_capacity(header.record_count as usize);
        walk_records(&header, decompressed.as_deref().unwrap_or(body), |record| {
            records.push(record.to_owned()?);
            Ok(())
        })?;
        let batch = RecordBatch {
            base_offset: header.base_offset,
            partition_leader_epoch: header.partition_leader_epoch,
            attributes: header.attributes,
            last_offset_delta: header.last_offset_delta,
            base_timestamp: header.base_timestamp,
            max_timestamp: header.max_timestamp,
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            base_sequence: header.base_sequence,
            records,
        };
        Ok((batch, total))
    }

    /// Checks the batch at the start of `input` as [`RecordBatch::decode`] does (its CRC, every
    /// record's framing, offsets and headers) without copying its records out; returns what a
    /// broker storing it as it came needs, and how many bytes it took.
    pub fn check(input: &[u8]) -> Result<(CheckedBatch, usize), BatchError> {
        let header = BatchHeader::parse(input)?;
        let total = header.total_bytes();
        let body = &input[BATCH_HEADER_BYTES..total];
        let decompressed = records_bytes(&header, body)?;
        let mut timestamp_deltas = Vec::with_capacity(header.record_count as usize);
        let (mut data_bytes, mut dense) = (0usize, true);
        walk_records(&header, decompressed.as_deref().unwrap_or(body), |record| {
            dense &= i64::from(record.offset_delta) == timestamp_deltas.len() as i64;
            data_bytes += record.key.map_or(0, <[u8]>::len) + record.value.map_or(0, <[u8]>::len);
            timestamp_deltas.push(record.timestamp_delta);
            Ok(())
        })?;
        Ok((CheckedBatch { header, timestamp_deltas, data_bytes, dense }, total))
    }
}

/// A batch's records bytes decompressed (`None`: it is uncompressed, its body is them), bounded
/// by `MAX_DECOMPRESSED_BATCH_BYTES` and by what its record count could take.
fn records_bytes(header: &BatchHeader, body: &[u8]) -> Result<Option<Vec<u8>>, BatchError> {
    let codec = header.attributes.compression;
    if codec == Compression::None {
        return Ok(None);
    }
    let decompressed = compression::decompress(codec, body, MAX_DECOMPRESSED_BATCH_BYTES)?;
    if header.record_count as usize > decompressed.len() / MIN_RECORD_BYTES {
        return Err(BatchError::RecordCountTooLarge {
            count: header.record_count,
            body_bytes: decompressed.len(),
        });
    }
    Ok(Some(decompressed))
}
