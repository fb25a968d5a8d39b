//! Choosing a record's partition the way Kafka's Java producer does, and explaining the choice.
//!
//! Keyed records go to `(murmur2(keyBytes) & 0x7fffffff) % numPartitions` over *all* partitions of
//! the topic (`BuiltInPartitioner.partitionForKey`). Kafka masks with `& 0x7fffffff` rather than
//! taking `abs`, so `i32::MIN` maps to 0 instead of overflowing; Kite does the same.
//!
//! The other partitioners — uniform sticky for null keys, RoundRobinPartitioner, and librdkafka's
//! consistent_random and murmur2_random — live here too, each explaining its decision as a
//! `Placement`. Their random draws come from a seeded `Rng`, never from entropy.

use serde::{Deserialize, Serialize};

use crate::random::Rng;

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

/// Which partitioner places records without an explicit partition, by the names Kafka's clients use
/// (written as `name()`, read from that or a fully qualified Java class name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PartitionerKind {
    /// The Java producer's built-in partitioner (no `partitioner.class`): murmur2 for keys, uniform
    /// sticky for null keys (KIP-794).
    #[default]
    Default,
    /// `org.apache.kafka.clients.producer.RoundRobinPartitioner`: keys ignored.
    RoundRobin,
    /// librdkafka's default: CRC-32 of the key; null or empty key random.
    ConsistentRandom,
    /// librdkafka's Java-compatible choice: murmur2 of the key; null key random.
    Murmur2Random,
}

impl TryFrom<String> for PartitionerKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        PartitionerKind::from_name(&name).ok_or_else(|| format!("unknown partitioner {name:?}"))
    }
}

impl From<PartitionerKind> for String {
    fn from(kind: PartitionerKind) -> String {
        kind.name().to_string()
    }
}

impl PartitionerKind {
    /// Every partitioner, in the order the producer's view lists them.
    pub const ALL: [PartitionerKind; 4] = [
        PartitionerKind::Default,
        PartitionerKind::RoundRobin,
        PartitionerKind::ConsistentRandom,
        PartitionerKind::Murmur2Random,
    ];

    /// The name it is written as: `default`, `RoundRobinPartitioner`, `consistent_random` or
    /// `murmur2_random`.
    pub fn name(self) -> &'static str {
        match self {
            PartitionerKind::Default => "default",
            PartitionerKind::RoundRobin => "RoundRobinPartitioner",
            PartitionerKind::ConsistentRandom => "consistent_random",
            PartitionerKind::Murmur2Random => "murmur2_random",
        }
    }

    /// Accepts the short names above and Java's fully qualified class names.
    pub fn from_name(name: &str) -> Option<PartitionerKind> {
        let short = name.rsplit('.').next().unwrap_or(name);
        match short {
            "default" | "DefaultPartitioner" | "BuiltInPartitioner" | "" => Some(PartitionerKind::Default),
            "RoundRobinPartitioner" | "round_robin" => Some(PartitionerKind::RoundRobin),
            "consistent_random" => Some(PartitionerKind::ConsistentRandom),
            "murmur2_random" => Some(PartitionerKind::Murmur2Random),
            _ => None,
        }
    }
}

/// Kafka's default `batch.size`: how many bytes go to one sticky partition before switching.
pub const DEFAULT_BATCH_SIZE_BYTES: usize = 16_384;

/// What a producer remembers per topic between records: the sticky partition and the bytes sent
/// to it, and RoundRobinPartitioner's counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicPartitionerState {
    sticky: Option<StickyPartition>,
    round_robin_counter: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StickyPartition {
    partition: i32,
    produced_bytes: usize,
}

/// How a record's partition was chosen, with every intermediate value, for the UI to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Placement {
    /// The producer named the partition.
    Explicit {
        /// The partition the producer named.
        partition: i32,
    },
    /// murmur2 of the key: Java's default partitioner and librdkafka's murmur2_random.
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
    /// Java's uniform sticky partitioner for a null key (KIP-794).
    Sticky {
        /// The sticky partition the record went to.
        partition: i32,
        /// Bytes sent to this sticky partition so far, this record included.
        produced_bytes: usize,
        /// `batch.size`: once `produced_bytes` reaches it, the next record picks a new partition.
        batch_size: usize,
        /// Set when this record started a new sticky partition: the random draw and how many
        /// partitions were available (`partition = available[random % available]`).
        chosen_with: Option<RandomChoice>,
    },
    /// RoundRobinPartitioner: `available[toPositive(counter) % available]`.
    RoundRobin {
        /// The topic's counter before this record; it goes up by one for every record.
        counter: i32,
        /// How many partitions have a leader now.
        available: i32,
        /// `available[toPositive(counter) % available]`.
        partition: i32,
    },
    /// librdkafka consistent_random for a non-empty key: zlib CRC-32 of the key.
    Crc32 {
        /// The serialized key the checksum was taken over.
        key_bytes: Vec<u8>,
        /// The zlib CRC-32 of `key_bytes`.
        crc32: u32,
        /// The topic's partition count, the modulus.
        num_partitions: i32,
        /// `crc32 % num_partitions`.
        partition: i32,
    },
    /// A librdkafka partitioner given a key it places at random (null, or empty for consistent_random).
    Random {
        /// The random draw and how many partitions it picked among.
        choice: RandomChoice,
        /// `available[random % available]`.
        partition: i32,
    },
}

/// A uniform random pick among the available partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomChoice {
    /// The draw, a non-negative i32 (Java's `Utils.toPositive(random.nextInt())`).
    pub random: i32,
    /// How many partitions had a leader to pick among.
    pub available: i32,
}

impl Placement {
    /// The partition the record goes to.
    pub fn partition(&self) -> i32 {
        match self {
            Placement::Explicit { partition }
            | Placement::KeyHash { partition, .. }
            | Placement::Sticky { partition, .. }
            | Placement::RoundRobin { partition, .. }
            | Placement::Crc32 { partition, .. }
            | Placement::Random { partition, .. } => *partition,
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

fn random_choice(rng: &mut Rng, available: &[i32]) -> (RandomChoice, i32) {
    let random = rng.next_positive_i32();
    let len = available.len() as i32;
    (RandomChoice { random, available: len }, available[(random % len) as usize])
}

/// What the partitioner is asked to place.
pub struct PartitionInput<'a> {
    /// The serialized key; `None` is a null key.
    pub key: Option<&'a [u8]>,
    /// The record's size in its batch, for the sticky partitioner's byte count.
    pub record_bytes: usize,
    /// All partitions of the topic (keyed placement hashes over all of them).
    pub num_partitions: i32,
    /// The partitions that have a leader now (random and sticky choices pick among these).
    pub available: &'a [i32],
    /// `batch.size`.
    pub batch_size_bytes: usize,
}

/// Places one record with `kind`, updating the topic's partitioner state. `available` must not be
/// empty and `num_partitions` must be positive.
pub fn place(
    kind: PartitionerKind,
    state: &mut TopicPartitionerState,
    rng: &mut Rng,
    input: &PartitionInput<'_>,
) -> Placement {
    assert!(input.num_partitions > 0 && !input.available.is_empty(), "a topic has partitions to place on");
    match (kind, input.key) {
        (PartitionerKind::Default, Some(key)) | (PartitionerKind::Murmur2Random, Some(key)) => {
            partition_for_key(key, input.num_partitions)
        }
        (PartitionerKind::Default, None) => {
            let (mut sticky, chosen_with) = match state.sticky {
                Some(sticky) => (sticky, None),
                None => {
                    let (choice, partition) = random_choice(rng, input.available);
                    (StickyPartition { partition, produced_bytes: 0 }, Some(choice))
                }
            };
            sticky.produced_bytes += input.record_bytes;
            // BuiltInPartitioner.updatePartitionInfo: switch once batch.size bytes went here.
            state.sticky = (sticky.produced_bytes < input.batch_size_bytes).then_some(sticky);
            Placement::Sticky {
                partition: sticky.partition,
                produced_bytes: sticky.produced_bytes,
                batch_size: input.batch_size_bytes,
                chosen_with,
            }
        }
        (PartitionerKind::RoundRobin, _) => {
            let counter = state.round_robin_counter;
            state.round_robin_counter = counter.wrapping_add(1);
            let available = input.available.len() as i32;
            let partition = input.available[(to_positive(counter) % available) as usize];
            Placement::RoundRobin { counter, available, partition }
        }
        (PartitionerKind::ConsistentRandom, Some(key)) if !key.is_empty() => {
            let crc32 = crc32fast::hash(key);
            let partition = (crc32 % input.num_partitions as u32) as i32;
            Placement::Crc32 {
                key_bytes: key.to_vec(),
                crc32,
                num_partitions: input.num_partitions,
                partition,
            }
        }
        (PartitionerKind::ConsistentRandom, _) | (PartitionerKind::Murmur2Random, None) => {
            let (choice, partition) = random_choice(rng, input.available);
            Placement::Random { choice, partition }
        }
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

    fn all_of(n: i32) -> Vec<i32> {
        (0..n).collect()
    }

    fn input<'a>(key: Option<&'a [u8]>, available: &'a [i32]) -> PartitionInput<'a> {
        PartitionInput {
            key,
            record_bytes: 100,
            num_partitions: available.len() as i32,
            available,
            batch_size_bytes: DEFAULT_BATCH_SIZE_BYTES,
        }
    }

    #[test]
    fn sticky_stays_until_batch_size_then_picks_again() {
        let available = all_of(6);
        let mut state = TopicPartitionerState::default();
        let mut rng = Rng::from_seed(1);
        let records = DEFAULT_BATCH_SIZE_BYTES / 100 + 1; // 164 records of 100 bytes fill 16384
        let placements: Vec<Placement> = (0..records * 3)
            .map(|_| place(PartitionerKind::Default, &mut state, &mut rng, &input(None, &available)))
            .collect();
        let first = placements[0].partition();
        assert!(placements[..records].iter().all(|p| p.partition() == first), "one partition per 16 KiB");
        let Placement::Sticky { chosen_with: Some(choice), produced_bytes: 100, .. } = placements[0] else {
            panic!("the first record draws a partition: {:?}", placements[0]);
        };
        assert_eq!(choice.available, 6);
        assert_eq!(first, choice.random % 6);
        let Placement::Sticky { produced_bytes, chosen_with: None, .. } = placements[records - 1] else {
            panic!()
        };
        assert_eq!(produced_bytes, records * 100);
        assert!(matches!(
            placements[records],
            Placement::Sticky { chosen_with: Some(_), produced_bytes: 100, .. }
        ));
        // Same seed, same choices.
        let mut again = TopicPartitionerState::default();
        let mut rng = Rng::from_seed(1);
        let replay: Vec<i32> = (0..records * 3)
            .map(|_| {
                place(PartitionerKind::Default, &mut again, &mut rng, &input(None, &available)).partition()
            })
            .collect();
        assert_eq!(replay, placements.iter().map(Placement::partition).collect::<Vec<_>>());
    }

    #[test]
    fn round_robin_counts_from_zero_over_available_partitions_ignoring_keys() {
        let available = [0, 2, 5];
        let mut state = TopicPartitionerState::default();
        let mut rng = Rng::from_seed(0);
        let mut kinput = input(Some(b"same-key"), &available);
        kinput.num_partitions = 6;
        let got: Vec<i32> = (0..7)
            .map(|_| place(PartitionerKind::RoundRobin, &mut state, &mut rng, &kinput).partition())
            .collect();
        assert_eq!(got, vec![0, 2, 5, 0, 2, 5, 0]);
        assert_eq!(
            place(PartitionerKind::RoundRobin, &mut state, &mut rng, &kinput),
            Placement::RoundRobin { counter: 7, available: 3, partition: 2 }
        );
    }

    #[test]
    fn librdkafka_partitioners() {
        let available = all_of(6);
        let mut state = TopicPartitionerState::default();
        let mut rng = Rng::from_seed(3);
        // kafka-reference.md §3: "kafka" on 6 partitions → CRC32 gives 5, murmur2 gives 4.
        let crc = place(
            PartitionerKind::ConsistentRandom,
            &mut state,
            &mut rng,
            &input(Some(b"kafka"), &available),
        );
        assert_eq!(crc.partition(), 5);
        assert!(matches!(crc, Placement::Crc32 { crc32, .. } if crc32 == crc32fast::hash(b"kafka")));
        let m =
            place(PartitionerKind::Murmur2Random, &mut state, &mut rng, &input(Some(b"kafka"), &available));
        assert_eq!(m.partition(), 4);
        // Empty key: random for consistent_random, hashed for murmur2_random.
        assert!(matches!(
            place(PartitionerKind::ConsistentRandom, &mut state, &mut rng, &input(Some(b""), &available)),
            Placement::Random { .. }
        ));
        assert!(matches!(
            place(PartitionerKind::Murmur2Random, &mut state, &mut rng, &input(Some(b""), &available)),
            Placement::KeyHash { .. }
        ));
        let random = place(PartitionerKind::Murmur2Random, &mut state, &mut rng, &input(None, &available));
        let Placement::Random { choice, partition } = random else { panic!("{random:?}") };
        assert_eq!(partition, choice.random % 6);
    }

    #[test]
    fn names_round_trip_and_accept_java_class_names() {
        for kind in PartitionerKind::ALL {
            assert_eq!(PartitionerKind::from_name(kind.name()), Some(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.name()));
        }
        assert_eq!(
            PartitionerKind::from_name("org.apache.kafka.clients.producer.RoundRobinPartitioner"),
            Some(PartitionerKind::RoundRobin)
        );
        assert_eq!(PartitionerKind::from_name("nope"), None);
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
