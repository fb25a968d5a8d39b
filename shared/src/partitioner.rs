//! Choosing a record's partition the way Kafka's Java producer does, and explaining the choice.
//!
//! Keyed records go to `(murmur2(keyBytes) & 0x7fffffff) % numPartitions` over *all* partitions of
//! the topic (`BuiltInPartitioner.partitionForKey`). Kafka masks with `& 0x7fffffff` rather than
//! taking `abs`, so `i32::MIN` maps to 0 instead of overflowing; Kite does the same.

use serde::{Deserialize, Serialize};

/// The seed Kafka's `Utils.murmur2` starts from.
const MURMUR2_SEED: u32 = 0x9747_b28c;
/// Murmur2's mixing constant.
const MURMUR2_M: u32 = 0x5bd1_e995;
/// Murmur2's shift.
const MURMUR2_R: u32 = 24;

/// Kafka's `Utils.murmur2`: 32-bit MurmurHash2 over the bytes, read as little-endian words.
///
/// Java computes this with `int` arithmetic and logical shifts (`>>>`); the same is u32 with
/// wrapping multiplication, returned reinterpreted as i32 as Java would print it.
pub fn murmur2(data: &[u8]) -> i32 {
    // Java's `int` length; keys are bounded far below i32::MAX by the engine's limits, and a
    // longer slice wraps exactly as Java's int conversion of the length would.
    let length = data.len() as u32;
    let mut h = MURMUR2_SEED ^ length;

    let mut words = data.chunks_exact(4);
    for word in &mut words {
        let mut k = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        k = k.wrapping_mul(MURMUR2_M);
        k ^= k >> MURMUR2_R;
        k = k.wrapping_mul(MURMUR2_M);
        h = h.wrapping_mul(MURMUR2_M);
        h ^= k;
    }

    // The tail falls through in Java's switch: 3 bytes mix in b[2], b[1] and b[0].
    let tail = words.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(MURMUR2_M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(MURMUR2_M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// How a record's partition was chosen, with every intermediate value, for the UI to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Placement {
    /// The producer named the partition.
    Explicit { partition: i32 },
    /// Java's default partitioner for a keyed record.
    KeyHash {
        /// The serialized key the hash was taken over.
        key_bytes: Vec<u8>,
        /// `Utils.murmur2(key_bytes)` as Java prints it (signed).
        murmur2: i32,
        /// `murmur2 & 0x7fffffff`.
        positive: i32,
        /// The topic's partition count, the modulus.
        num_partitions: i32,
        /// `positive % num_partitions`.
        partition: i32,
    },
}

impl Placement {
    pub fn partition(&self) -> i32 {
        match self {
            Placement::Explicit { partition } | Placement::KeyHash { partition, .. } => *partition,
        }
    }
}

/// Java's default placement of a keyed record over `num_partitions` partitions.
///
/// `num_partitions` must be positive; topics always have at least one partition.
pub fn partition_for_key(key_bytes: &[u8], num_partitions: i32) -> Placement {
    assert!(num_partitions > 0, "a topic has at least one partition");
    let hash = murmur2(key_bytes);
    let positive = to_positive(hash);
    Placement::KeyHash {
        key_bytes: key_bytes.to_vec(),
        murmur2: hash,
        positive,
        num_partitions,
        partition: positive % num_partitions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kafka-reference.md §3 (the last row is the bytes a, b, c): (key, murmur2 signed, positive, partition for N=3, for N=6).
    const KEYED_VECTORS: &[(&[u8], i32, i32, i32, i32)] = &[
        (b"21", -973932308, 1173551340, 0, 0),
        (b"foobar", -790332482, 1357151166, 0, 0),
        (b"a-little-bit-long-string", -985981536, 1161502112, 2, 2),
        (b"a-little-bit-longer-string", -1486304829, 661178819, 2, 5),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 2088585677, 2, 5),
        (b"abc", 479470107, 479470107, 0, 3),
    ];

    #[test]
    fn murmur2_and_placement_match_kafkas_table() {
        for &(key, signed, positive, p3, p6) in KEYED_VECTORS {
            let name = String::from_utf8_lossy(key);
            assert_eq!(murmur2(key), signed, "murmur2({name})");
            assert_eq!(to_positive(murmur2(key)), positive, "toPositive({name})");
            assert_eq!(partition_for_key(key, 3).partition(), p3, "{name} on 3 partitions");
            assert_eq!(partition_for_key(key, 6).partition(), p6, "{name} on 6 partitions");
        }
    }

    #[test]
    fn murmur2_matches_kafka_and_kafkajs_hex_vectors() {
        let vectors: &[(&str, u32)] = &[
            ("kafka", 0xd067cf64),
            ("giberish123456789", 0x8f552b0c),
            ("1234", 0x9fc97b14),
            ("234", 0xe7c009ca),
            ("34", 0x873930da),
            ("4", 0x5a4b5ca1),
            ("", 0x106e08d9),
        ];
        for &(key, expected) in vectors {
            assert_eq!(murmur2(key.as_bytes()) as u32, expected, "murmur2({key:?})");
        }
        // kafkajs' published values (signed).
        assert_eq!(murmur2(b"0"), 971027396);
        assert_eq!(murmur2(b"1"), -1993445489);
        assert_eq!(murmur2(b"100:48069"), 1009543857);
    }

    #[test]
    fn to_positive_masks_rather_than_abs() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn explanation_carries_every_intermediate_value() {
        let placement = partition_for_key(b"a-little-bit-longer-string", 6);
        assert_eq!(
            placement,
            Placement::KeyHash {
                key_bytes: b"a-little-bit-longer-string".to_vec(),
                murmur2: -1486304829,
                positive: 661178819,
                num_partitions: 6,
                partition: 5,
            }
        );
    }
}
