//! Kafka's transaction index (`<base>.txnindex`): one segment's aborted transactions, each the
//! producer id, the transaction's first offset on the partition, its ABORT marker's offset and the
//! last stable offset once it ended — 34 bytes, big-endian, version 0, as Kafka's
//! `TransactionIndex` writes them. A read_committed fetch reads them to tell the consumer which
//! records to skip. The log writes an entry when it appends an ABORT marker, on the leader and on
//! every follower alike (`LocalLog`), from the transactions open in its producer state.

use super::producer_state::AbortedTxn;

/// A segment's transaction index file suffix.
pub const TXN_INDEX_SUFFIX: &str = ".txnindex";
/// One entry's size: version (2), producer id (8), first offset (8), last offset (8), last stable
/// offset (8).
pub const TXN_INDEX_ENTRY_BYTES: usize = 34;
/// The entry version Kafka writes (`AbortedTxn.CurrentVersion`).
pub const TXN_INDEX_VERSION: i16 = 0;

/// One `.txnindex` entry: an aborted transaction and the partition's last stable offset once its
/// marker was written (a read may stop at an entry whose LSO is past its range: nothing aborted
/// later can have started inside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnIndexEntry {
    /// The transaction: producer, first offset, marker offset.
    pub txn: AbortedTxn,
    /// The first offset of the oldest transaction still open, or the marker's offset + 1.
    pub last_stable_offset: i64,
}

impl TxnIndexEntry {
    /// The entry's 34 bytes.
    pub fn encode(&self) -> [u8; TXN_INDEX_ENTRY_BYTES] {
        let mut out = [0u8; TXN_INDEX_ENTRY_BYTES];
        out[..2].copy_from_slice(&TXN_INDEX_VERSION.to_be_bytes());
        out[2..10].copy_from_slice(&self.txn.producer_id.to_be_bytes());
        out[10..18].copy_from_slice(&self.txn.first_offset.to_be_bytes());
        out[18..26].copy_from_slice(&self.txn.last_offset.to_be_bytes());
        out[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        out
    }
}

/// Why a `.txnindex` file's bytes are not an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnIndexError {
    /// The length is not a whole number of entries.
    TornEntry {
        /// The file's length in bytes.
        len: usize,
    },
    /// An entry's version is not one Kafka writes.
    UnknownVersion {
        /// The entry's position in the file.
        entry: usize,
        /// The version found.
        version: i16,
    },
    /// An entry whose first offset comes after its marker's.
    Inverted {
        /// The entry's position in the file.
        entry: usize,
    },
}

impl std::fmt::Display for TxnIndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxnIndexError::TornEntry { len } => {
                write!(f, "{len} bytes is not a whole number of {TXN_INDEX_ENTRY_BYTES}-byte entries")
            }
            TxnIndexError::UnknownVersion { entry, version } => {
                write!(f, "entry {entry} has version {version}, not {TXN_INDEX_VERSION}")
            }
            TxnIndexError::Inverted { entry } => {
                write!(f, "entry {entry} starts after its ABORT marker")
            }
        }
    }
}

impl std::error::Error for TxnIndexError {}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    i64::from_be_bytes(word)
}

/// Reads a whole `.txnindex` file.
pub fn decode(bytes: &[u8]) -> Result<Vec<TxnIndexEntry>, TxnIndexError> {
    if !bytes.len().is_multiple_of(TXN_INDEX_ENTRY_BYTES) {
        return Err(TxnIndexError::TornEntry { len: bytes.len() });
    }
    let mut entries = Vec::with_capacity(bytes.len() / TXN_INDEX_ENTRY_BYTES);
    for (entry, chunk) in bytes.chunks_exact(TXN_INDEX_ENTRY_BYTES).enumerate() {
        let version = i16::from_be_bytes([chunk[0], chunk[1]]);
        if version != TXN_INDEX_VERSION {
            return Err(TxnIndexError::UnknownVersion { entry, version });
        }
        let txn = AbortedTxn {
            producer_id: i64_at(chunk, 2),
            first_offset: i64_at(chunk, 10),
            last_offset: i64_at(chunk, 18),
        };
        if txn.first_offset > txn.last_offset {
            return Err(TxnIndexError::Inverted { entry });
        }
        entries.push(TxnIndexEntry { txn, last_stable_offset: i64_at(chunk, 26) });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_kafkas_34_bytes_and_reads_back() {
        let entry = TxnIndexEntry {
            txn: AbortedTxn { producer_id: 0x0102, first_offset: 5, last_offset: 9 },
            last_stable_offset: 10,
        };
        let bytes = entry.encode();
        assert_eq!(
            bytes.to_vec(),
            [
                &[0, 0][..],
                &[0, 0, 0, 0, 0, 0, 1, 2],
                &[0, 0, 0, 0, 0, 0, 0, 5],
                &[0, 0, 0, 0, 0, 0, 0, 9],
                &[0, 0, 0, 0, 0, 0, 0, 10],
            ]
            .concat()
        );
        let mut two = bytes.to_vec();
        two.extend_from_slice(&bytes);
        assert_eq!(decode(&two), Ok(vec![entry, entry]));
        assert_eq!(decode(&two[..40]), Err(TxnIndexError::TornEntry { len: 40 }));
        two[TXN_INDEX_ENTRY_BYTES + 1] = 1;
        assert_eq!(decode(&two), Err(TxnIndexError::UnknownVersion { entry: 1, version: 1 }));
        let inverted = TxnIndexEntry { txn: AbortedTxn { first_offset: 12, ..entry.txn }, ..entry };
        assert_eq!(decode(&inverted.encode()), Err(TxnIndexError::Inverted { entry: 0 }));
    }
}
