//! The names everything else uses for the cluster's parts: a broker's id, a node of the network
//! (the controller, a broker, a client), and a topic's partition.

/// A broker's `node.id`.
pub type BrokerId = i32;

/// Every participant the network connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum NodeId {
    /// The KRaft controller, which keeps the metadata log (topics, leaders, ISRs).
    Controller,
    /// A broker, by its `node.id`.
    Broker(BrokerId),
    /// A client (a producer, a consumer or an admin), by its number on the network.
    Client(u32),
    /// One controller of the KRaft quorum, by its id (`NodeId::Controller` is whichever of
    /// them is active).
    Voter(i32),
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeId::Controller => write!(f, "controller"),
            NodeId::Broker(id) => write!(f, "broker-{id}"),
            NodeId::Client(id) => write!(f, "client-{id}"),
            NodeId::Voter(id) => write!(f, "controller-{id}"),
        }
    }
}

/// One partition of a topic; shown as Kafka names it, `topic-partition` (e.g. `orders-0`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TopicPartition {
    /// The topic's name.
    pub topic: String,
    /// The partition's number within the topic, from 0.
    pub partition: i32,
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A topic's id (Kafka's `Uuid`, KIP-516): given at creation, so a topic deleted and created again
/// under the same name is another topic. Shown as Kafka shows it: the 16 bytes in URL-safe base64
/// without padding (22 characters, e.g. `vdLBMAtzSDqRmGMOj5qw7A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId(pub [u8; 16]);

impl TopicId {
    /// Kafka's `Uuid.ZERO_UUID`: no id (a request that names topics by name).
    pub const ZERO: TopicId = TopicId([0; 16]);

    /// A random id from `random` (a host's randomness, passed in), as Kafka's `Uuid.randomUuid`:
    /// a version-4 UUID, never zero, never the metadata topic's id (0, 1) and never one whose text
    /// starts with `-` (it would read as a command-line flag).
    pub fn random(mut random: impl FnMut() -> u64) -> TopicId {
        loop {
            let mut bytes = [0_u8; 16];
            bytes[..8].copy_from_slice(&random().to_be_bytes());
            bytes[8..].copy_from_slice(&random().to_be_bytes());
            bytes[6] = (bytes[6] & 0x0f) | 0x40;
            bytes[8] = (bytes[8] & 0x3f) | 0x80;
            let id = TopicId(bytes);
            let metadata_topic = u128::from_be_bytes(bytes) == 1;
            if id != TopicId::ZERO && !metadata_topic && !id.to_string().starts_with('-') {
                return id;
            }
        }
    }

    /// An id that depends only on `name`: for clusters whose topics are made in code (the
    /// simulator, `LocalCluster` in tests), where drawing from their random stream would change
    /// every choice after it.
    pub fn of_name(name: &str) -> TopicId {
        let mut state = 0x6b69_7465_u64 ^ name.len() as u64;
        for &byte in name.as_bytes() {
            state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        TopicId::random(|| {
            // splitmix64: well spread from any start.
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
    }

    /// Reads Kafka's text form (URL-safe base64, no padding, 16 bytes).
    pub fn parse(text: &str) -> Option<TopicId> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        Some(TopicId(bytes.try_into().ok()?))
    }
}

impl Default for TopicId {
    /// No id: what metadata written before topic ids holds.
    fn default() -> TopicId {
        TopicId::ZERO
    }
}

impl serde::Serialize for TopicId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TopicId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<TopicId, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        TopicId::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a topic id")))
    }
}

impl std::fmt::Display for TopicId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use base64::Engine;
        f.write_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_read_and_print_as_kafka_does() {
        let id = TopicId(u128::to_be_bytes(0x40a1_d8e2_3c94_4a9b_b6f5_8d1e_7c2a_0b13));
        let text = id.to_string();
        assert_eq!(text.len(), 22);
        assert_eq!(TopicId::parse(&text), Some(id));
        assert_eq!(TopicId::ZERO.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(TopicId::parse("not an id"), None);
        assert_eq!(TopicId::parse("AAAA"), None, "too short");
    }

    #[test]
    fn random_ids_are_version_4_and_never_reserved() {
        let mut n = 0_u64;
        // The first draw would print as "-…" (its first six bits are 111110): drawn again.
        let id = TopicId::random(|| {
            n += 1;
            if n <= 2 { 0xf800_0000_0000_0000 } else { n }
        });
        assert_eq!(n, 4, "one draw refused");
        assert_ne!(id, TopicId::ZERO);
        assert!(!id.to_string().starts_with('-'), "{id}");
        assert_eq!(id.0[6] >> 4, 4, "version 4");
        assert_eq!(id.0[8] >> 6, 0b10, "IETF variant");
    }
}
