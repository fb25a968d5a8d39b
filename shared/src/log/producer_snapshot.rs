//! Kafka's producer state snapshot (`<offset>.snapshot` in a partition's directory): every
//! producer's state as of that offset, so that opening a log replays only the batches after it.
//! Version 1 as Kafka's `ProducerStateManager` writes it: the version (int16), a CRC-32C (uint32)
//! of everything after it, and an array (int32 count) of 46-byte entries — producer id, epoch,
//! last sequence, last offset, the last batch's offset delta, its timestamp, the coordinator epoch
//! of the last marker and the open transaction's first offset (-1: none). Big-endian.

/// A producer state snapshot's file suffix.
pub const SNAPSHOT_SUFFIX: &str = ".snapshot";
/// The snapshot version Kafka writes (`PRODUCER_SNAPSHOT_VERSION`).
pub const SNAPSHOT_VERSION: i16 = 1;
/// One entry's size in bytes.
pub const SNAPSHOT_ENTRY_BYTES: usize = 46;
/// Bytes before the entries: version (2), CRC (4), entry count (4).
const HEADER_BYTES: usize = 10;
/// The most entries a snapshot may hold: a partition remembers at most
/// `producer_state::MAX_PRODUCERS_PER_PARTITION` producers (and those with a transaction open),
/// and a file claiming more is not one Kite wrote.
pub const MAX_SNAPSHOT_ENTRIES: usize = 2_000;

/// One producer's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub epoch: i16,
    /// The last sequence it wrote (-1: none, known only from a marker).
    pub last_sequence: i32,
    /// The offset of the last record it wrote (-1: none).
    pub last_offset: i64,
    /// Its last batch's last sequence less its first (0 for a batch of one).
    pub offset_delta: i32,
    /// Its last batch's max timestamp (-1: not kept).
    pub timestamp: i64,
    /// The coordinator epoch of its last marker (-1: none).
    pub coordinator_epoch: i32,
    /// Its open transaction's first offset on the partition (-1: none open).
    pub current_txn_first_offset: i64,
}

/// Why a snapshot file's bytes are not a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Shorter than its header, or its length is not the header and whole entries.
    BadLength {
        /// The file's length in bytes.
        len: usize,
    },
    /// A version Kafka does not write.
    UnknownVersion {
        /// The version found.
        version: i16,
    },
    /// The CRC does not match the bytes after it.
    BadCrc {
        /// The CRC the file holds.
        stored: u32,
        /// The CRC of its bytes.
        computed: u32,
    },
    /// The entry count is negative, past `MAX_SNAPSHOT_ENTRIES`, or not what the length holds.
    BadCount {
        /// The count the file holds.
        count: i32,
    },
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::BadLength { len } => write!(f, "{len} bytes is not a snapshot's length"),
            SnapshotError::UnknownVersion { version } => {
                write!(f, "version {version}, not {SNAPSHOT_VERSION}")
            }
            SnapshotError::BadCrc { stored, computed } => {
                write!(f, "CRC {stored:#010x} stored, {computed:#010x} computed")
            }
            SnapshotError::BadCount { count } => write!(f, "{count} entries do not fit the file"),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The snapshot file of `entries`.
pub fn encode(entries: &[SnapshotEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + entries.len() * SNAPSHOT_ENTRY_BYTES);
    out.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    for e in entries {
        out.extend_from_slice(&e.producer_id.to_be_bytes());
        out.extend_from_slice(&e.epoch.to_be_bytes());
        out.extend_from_slice(&e.last_sequence.to_be_bytes());
        out.extend_from_slice(&e.last_offset.to_be_bytes());
        out.extend_from_slice(&e.offset_delta.to_be_bytes());
        out.extend_from_slice(&e.timestamp.to_be_bytes());
        out.extend_from_slice(&e.coordinator_epoch.to_be_bytes());
        out.extend_from_slice(&e.current_txn_first_offset.to_be_bytes());
    }
    let crc = crc32c::crc32c(&out[6..]);
    out[2..6].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Reads big-endian integers from a slice whose length was checked.
struct Fields<'a> {
    bytes: &'a [u8],
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut word = [0u8; N];
        word.copy_from_slice(&self.bytes[..N]);
        self.bytes = &self.bytes[N..];
        word
    }
    fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take())
    }
    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take())
    }
    fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.take())
    }
}

/// Reads a whole snapshot file.
pub fn decode(bytes: &[u8]) -> Result<Vec<SnapshotEntry>, SnapshotError> {
    if bytes.len() < HEADER_BYTES || !(bytes.len() - HEADER_BYTES).is_multiple_of(SNAPSHOT_ENTRY_BYTES) {
        return Err(SnapshotError::BadLength { len: bytes.len() });
    }
    let mut header = Fields { bytes };
    let version = header.i16();
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::UnknownVersion { version });
    }
    let stored = header.i32() as u32;
    let computed = crc32c::crc32c(&bytes[6..]);
    if stored != computed {
        return Err(SnapshotError::BadCrc { stored, computed });
    }
    let count = header.i32();
    let held = (bytes.len() - HEADER_BYTES) / SNAPSHOT_ENTRY_BYTES;
    if usize::try_from(count).ok() != Some(held) || held > MAX_SNAPSHOT_ENTRIES {
        return Err(SnapshotError::BadCount { count });
    }
    let mut f = Fields { bytes: &bytes[HEADER_BYTES..] };
    Ok((0..held)
        .map(|_| SnapshotEntry {
            producer_id: f.i64(),
            epoch: f.i16(),
            last_sequence: f.i32(),
            last_offset: f.i64(),
            offset_delta: f.i32(),
            timestamp: f.i64(),
            coordinator_epoch: f.i32(),
            current_txn_first_offset: f.i64(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_kafkas_bytes_and_reads_back() {
        let entry = SnapshotEntry {
            producer_id: 7,
            epoch: 2,
            last_sequence: 9,
            last_offset: 41,
            offset_delta: 4,
            timestamp: -1,
            coordinator_epoch: -1,
            current_txn_first_offset: 37,
        };
        let bytes = encode(&[entry]);
        assert_eq!(bytes.len(), HEADER_BYTES + SNAPSHOT_ENTRY_BYTES);
        assert_eq!(&bytes[..2], &[0, 1], "version 1");
        assert_eq!(&bytes[6..10], &[0, 0, 0, 1], "one entry");
        assert_eq!(&bytes[10..18], &7i64.to_be_bytes(), "the producer id first");
        assert_eq!(u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]), crc32c::crc32c(&bytes[6..]));
        assert_eq!(decode(&bytes), Ok(vec![entry]));
        assert_eq!(decode(&encode(&[])), Ok(vec![]));

        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(matches!(decode(&flipped), Err(SnapshotError::BadCrc { .. })));
        assert_eq!(decode(&bytes[..30]), Err(SnapshotError::BadLength { len: 30 }));
        let mut versioned = bytes.clone();
        versioned[1] = 2;
        assert_eq!(decode(&versioned), Err(SnapshotError::UnknownVersion { version: 2 }));
        let mut counted = encode(&[entry, entry]);
        counted[9] = 3;
        let crc = crc32c::crc32c(&counted[6..]);
        counted[2..6].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&counted), Err(SnapshotError::BadCount { count: 3 }));
    }
}
