//! The records of `__consumer_offsets`, byte for byte as Kafka writes them: an offset commit
//! (key version 1: group, topic, partition → value version 3: offset, leader epoch, metadata,
//! commit timestamp), a group's metadata (key version 2: group → value version 3: protocol,
//! generation, leader, members with their subscription and assignment bytes), a tombstone (null
//! value) to forget either; and the consumer protocol's subscription (version 2) and assignment
//! bytes that travel inside JoinGroup and SyncGroup. Every decoder returns a typed error naming
//! the field; nothing here trusts its input.

use std::collections::BTreeMap;

/// The key version Kafka writes for an offset commit.
pub const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
/// The key version Kafka writes for a group's metadata.
pub const GROUP_METADATA_KEY_VERSION: i16 = 2;
/// The offset commit value version Kafka writes when there is no expire timestamp.
pub const OFFSET_COMMIT_VALUE_VERSION: i16 = 3;
/// The group metadata value version Kafka writes (since 2.3).
pub const GROUP_METADATA_VALUE_VERSION: i16 = 3;
/// The consumer protocol version Kite's consumers speak (owned partitions and generation).
pub const CONSUMER_PROTOCOL_VERSION: i16 = 2;

/// What a `__consumer_offsets` record's key says it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OffsetsKey {
    /// A committed offset (key version 0 or 1).
    OffsetCommit {
        /// The group id.
        group: String,
        /// The committed partition's topic.
        topic: String,
        /// The committed partition's number.
        partition: i32,
    },
    /// A group's metadata (key version 2).
    GroupMetadata {
        /// The group id.
        group: String,
    },
}

/// An offset commit's value (Kafka's OffsetCommitValue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitValue {
    /// The committed offset: the next one the group will read.
    pub offset: i64,
    /// The leader epoch of the last record consumed, -1 when unknown (always in versions 0–2).
    pub leader_epoch: i32,
    /// The text the client attached to the commit (Kafka's `committed_metadata`), given back by
    /// OffsetFetch; Kite's own consumers attach none.
    pub metadata: String,
    /// When it was committed (ms since the epoch); offsets retention counts from it.
    pub commit_timestamp: i64,
}

/// One member as a group metadata value stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberMetadata {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its `group.instance.id` (static membership); Kite writes none.
    pub group_instance_id: Option<String>,
    /// The consumer's `client.id`.
    pub client_id: String,
    /// The consumer's host, as describe shows it.
    pub client_host: String,
    /// How long (ms) a rebalance waits for it to rejoin: the consumer's `max.poll.interval.ms`;
    /// -1 in version 0 records.
    pub rebalance_timeout_ms: i32,
    /// How long (ms) without a heartbeat before the coordinator removes it.
    pub session_timeout_ms: i32,
    /// The consumer protocol subscription bytes of the chosen protocol.
    pub subscription: Vec<u8>,
    /// The consumer protocol assignment bytes the leader gave it.
    pub assignment: Vec<u8>,
}

/// A group's metadata value (Kafka's GroupMetadataValue), written when a generation's
/// assignment is stored and when the group becomes Empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadataValue {
    /// `consumer` for consumer groups; empty when no member ever joined.
    pub protocol_type: String,
    /// The generation id.
    pub generation: i32,
    /// The assignor the generation chose; `None` while the group is Empty.
    pub protocol: Option<String>,
    /// The leader member's id; `None` while the group is Empty.
    pub leader: Option<String>,
    /// When the group entered its current state (ms since the epoch); -1 in records before
    /// version 2.
    pub current_state_timestamp: i64,
    /// The generation's members.
    pub members: Vec<MemberMetadata>,
}

/// ConsumerProtocolSubscription.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerSubscription {
    /// The topics the member subscribes to.
    pub topics: Vec<String>,
    /// Assignor-specific bytes; Kite's consumer sends none.
    pub user_data: Option<Vec<u8>>,
    /// What the member owned, by topic (version 1+); the sticky assignors keep it where they can.
    pub owned_partitions: Vec<(String, Vec<i32>)>,
    /// The generation it owned them in (version 2+), -1 when unknown.
    pub generation: i32,
}

/// ConsumerProtocolAssignment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerAssignment {
    /// The partitions assigned to the member, by topic.
    pub partitions: Vec<(String, Vec<i32>)>,
    /// Assignor-specific bytes; Kite's assignors send none.
    pub user_data: Option<Vec<u8>>,
}

pub use super::coordinator_record::{DecodeError, MAX_DECODED_ARRAY_LEN};
use super::coordinator_record::{
    Reader, put_bytes, put_i16, put_i32, put_i64, put_len, put_nullable_bytes, put_nullable_string,
    put_string, put_topic_partitions,
};

impl OffsetsKey {
    /// The key's bytes, at the versions Kafka writes (1 for a commit, 2 for metadata).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            OffsetsKey::OffsetCommit { group, topic, partition } => {
                put_i16(&mut out, OFFSET_COMMIT_KEY_VERSION);
                put_string(&mut out, group);
                put_string(&mut out, topic);
                put_i32(&mut out, *partition);
            }
            OffsetsKey::GroupMetadata { group } => {
                put_i16(&mut out, GROUP_METADATA_KEY_VERSION);
                put_string(&mut out, group);
            }
        }
        out
    }

    /// A key of any version Kafka has written: 0 and 1 are commits, 2 is metadata.
    pub fn decode(bytes: &[u8]) -> Result<OffsetsKey, DecodeError> {
        let mut r = Reader { bytes };
        let key = match r.i16("key version")? {
            0 | 1 => OffsetsKey::OffsetCommit {
                group: r.string("offset commit key group")?,
                topic: r.string("offset commit key topic")?,
                partition: r.i32("offset commit key partition")?,
            },
            2 => OffsetsKey::GroupMetadata { group: r.string("group metadata key group")? },
            version => return Err(DecodeError::UnknownVersion { record: "__consumer_offsets key", version }),
        };
        r.finish("__consumer_offsets key")?;
        Ok(key)
    }

    /// The group the record belongs to.
    pub fn group(&self) -> &str {
        match self {
            OffsetsKey::OffsetCommit { group, .. } | OffsetsKey::GroupMetadata { group } => group,
        }
    }
}

impl OffsetCommitValue {
    /// The value's bytes, version 3.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, OFFSET_COMMIT_VALUE_VERSION);
        put_i64(&mut out, self.offset);
        put_i32(&mut out, self.leader_epoch);
        put_string(&mut out, &self.metadata);
        put_i64(&mut out, self.commit_timestamp);
        out
    }

    /// Versions 0 to 3 (the non-flexible ones Kafka has written).
    pub fn decode(bytes: &[u8]) -> Result<OffsetCommitValue, DecodeError> {
        let mut r = Reader { bytes };
        let version = r.i16("offset commit value version")?;
        if !(0..=3).contains(&version) {
            return Err(DecodeError::UnknownVersion { record: "offset commit value", version });
        }
        let offset = r.i64("offset")?;
        let leader_epoch = if version >= 3 { r.i32("leader epoch")? } else { -1 };
        let metadata = r.string("metadata")?;
        let commit_timestamp = r.i64("commit timestamp")?;
        if version == 1 {
            r.i64("expire timestamp")?;
        }
        r.finish("offset commit value")?;
        Ok(OffsetCommitValue { offset, leader_epoch, metadata, commit_timestamp })
    }
}

impl GroupMetadataValue {
    /// The value's bytes, version 3.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, GROUP_METADATA_VALUE_VERSION);
        put_string(&mut out, &self.protocol_type);
        put_i32(&mut out, self.generation);
        put_nullable_string(&mut out, self.protocol.as_deref());
        put_nullable_string(&mut out, self.leader.as_deref());
        put_i64(&mut out, self.current_state_timestamp);
        put_len(&mut out, self.members.len());
        for m in &self.members {
            put_string(&mut out, &m.member_id);
            put_nullable_string(&mut out, m.group_instance_id.as_deref());
            put_string(&mut out, &m.client_id);
            put_string(&mut out, &m.client_host);
            put_i32(&mut out, m.rebalance_timeout_ms);
            put_i32(&mut out, m.session_timeout_ms);
            put_bytes(&mut out, &m.subscription);
            put_bytes(&mut out, &m.assignment);
        }
        out
    }

    /// Versions 0 to 3.
    pub fn decode(bytes: &[u8]) -> Result<GroupMetadataValue, DecodeError> {
        let mut r = Reader { bytes };
        let version = r.i16("group metadata value version")?;
        if !(0..=3).contains(&version) {
            return Err(DecodeError::UnknownVersion { record: "group metadata value", version });
        }
        let protocol_type = r.string("protocol type")?;
        let generation = r.i32("generation")?;
        let protocol = r.nullable_string("protocol")?;
        let leader = r.nullable_string("leader")?;
        let current_state_timestamp = if version >= 2 { r.i64("current state timestamp")? } else { -1 };
        let count = r.count("members", 20)?;
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let member_id = r.string("member id")?;
            let group_instance_id = if version >= 3 { r.nullable_string("group instance id")? } else { None };
            let client_id = r.string("client id")?;
            let client_host = r.string("client host")?;
            let rebalance_timeout_ms = if version >= 1 { r.i32("rebalance timeout")? } else { -1 };
            let session_timeout_ms = r.i32("session timeout")?;
            let subscription = r.bytes("subscription")?;
            let assignment = r.bytes("assignment")?;
            members.push(MemberMetadata {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription,
                assignment,
            });
        }
        r.finish("group metadata value")?;
        Ok(GroupMetadataValue {
            protocol_type,
            generation,
            protocol,
            leader,
            current_state_timestamp,
            members,
        })
    }
}

impl ConsumerSubscription {
    /// The subscription's bytes, version 2.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, CONSUMER_PROTOCOL_VERSION);
        put_len(&mut out, self.topics.len());
        for topic in &self.topics {
            put_string(&mut out, topic);
        }
        put_nullable_bytes(&mut out, self.user_data.as_deref());
        put_topic_partitions(&mut out, &self.owned_partitions);
        put_i32(&mut out, self.generation);
        out
    }

    /// Any version: like Kafka, a newer one is read as far as this one knows it.
    pub fn decode(bytes: &[u8]) -> Result<ConsumerSubscription, DecodeError> {
        let mut r = Reader { bytes };
        let version = r.i16("subscription version")?;
        if version < 0 {
            return Err(DecodeError::UnknownVersion { record: "consumer subscription", version });
        }
        let count = r.count("subscribed topics", 2)?;
        let mut topics = Vec::with_capacity(count);
        for _ in 0..count {
            topics.push(r.string("subscribed topic")?);
        }
        let user_data = r.nullable_bytes("subscription user data")?;
        let owned_partitions =
            if version >= 1 { r.topic_partitions("owned partitions")? } else { Vec::new() };
        let generation = if version >= 2 { r.i32("subscription generation")? } else { -1 };
        if version <= CONSUMER_PROTOCOL_VERSION {
            r.finish("consumer subscription")?;
        }
        Ok(ConsumerSubscription { topics, user_data, owned_partitions, generation })
    }
}

impl ConsumerAssignment {
    /// The assignment's bytes, version 2.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_i16(&mut out, CONSUMER_PROTOCOL_VERSION);
        put_topic_partitions(&mut out, &self.partitions);
        put_nullable_bytes(&mut out, self.user_data.as_deref());
        out
    }

    /// Any version (they all share this layout). Empty bytes are an empty assignment, as Kafka
    /// sends to a member the leader gave nothing.
    pub fn decode(bytes: &[u8]) -> Result<ConsumerAssignment, DecodeError> {
        if bytes.is_empty() {
            return Ok(ConsumerAssignment::default());
        }
        let mut r = Reader { bytes };
        let version = r.i16("assignment version")?;
        if version < 0 {
            return Err(DecodeError::UnknownVersion { record: "consumer assignment", version });
        }
        let partitions = r.topic_partitions("assigned partitions")?;
        let user_data = r.nullable_bytes("assignment user data")?;
        if version <= CONSUMER_PROTOCOL_VERSION {
            r.finish("consumer assignment")?;
        }
        Ok(ConsumerAssignment { partitions, user_data })
    }

    /// The assignment as a flat sorted list.
    pub fn flat(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> =
            self.partitions.iter().flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p))).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Groups a flat list of topic-partitions by topic, as the consumer protocol carries them.
pub fn by_topic(partitions: &[(String, i32)]) -> Vec<(String, Vec<i32>)> {
    let mut grouped: std::collections::BTreeMap<&str, Vec<i32>> = std::collections::BTreeMap::new();
    for (topic, p) in partitions {
        grouped.entry(topic).or_default().push(*p);
    }
    grouped
        .into_iter()
        .map(|(t, mut ps)| {
            ps.sort_unstable();
            ps.dedup();
            (t.to_string(), ps)
        })
        .collect()
}

/// A coordinator partition's records (key, value) as its coordinator takes them, in offset
/// order: every plain record, and a transaction's records (offsets sent with TxnOffsetCommit) at
/// the place of its COMMIT marker; an aborted transaction's are dropped. Second, the records of
/// transactions not yet decided, by producer id.
pub fn records_in(log: &crate::log::local_log::LocalLog) -> (Vec<Record>, BTreeMap<i64, Vec<Record>>) {
    let mut records = Vec::new();
    let mut pending: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let Ok(bytes) = log.read(offset, usize::MAX) else { break };
        let mut rest = &bytes[..];
        let before = offset;
        while let Ok((batch, used)) = crate::record::batch::RecordBatch::decode(rest) {
            rest = &rest[used..];
            offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
            if let Some(marker) = crate::txn::marker::marker_of(&batch) {
                let decided = pending.remove(&batch.producer_id).unwrap_or_default();
                if matches!(marker, Ok(m) if m.kind == crate::txn::marker::MarkerKind::Commit) {
                    records.extend(decided);
                }
                continue;
            }
            let keyed = batch.records.into_iter().filter_map(|r| Some((r.key?, r.value)));
            if batch.attributes.transactional {
                pending.entry(batch.producer_id).or_default().extend(keyed);
            } else {
                records.extend(keyed);
            }
        }
        if offset == before {
            break;
        }
    }
    (records, pending)
}

/// A coordinator record: its key, and its value (`None`: a tombstone).
pub type Record = (Vec<u8>, Option<Vec<u8>>);

/// One batch of coordinator records (keys and values, a null value a tombstone), as the
/// coordinator appends them to its partition.
pub fn encode_batch(
    now_ms: i64,
    records: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> Result<Vec<u8>, crate::record::batch::BatchError> {
    use crate::record::batch::{BatchRecord, RecordBatch};
    let records = records
        .into_iter()
        .zip(0..)
        .map(|((key, value), delta)| BatchRecord {
            offset_delta: delta,
            key: Some(key),
            value,
            ..BatchRecord::default()
        })
        .collect();
    RecordBatch::new(now_ms, records).encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn offset_commit_bytes_are_kafkas() {
        let key = OffsetsKey::OffsetCommit { group: "g".into(), topic: "t".into(), partition: 2 };
        // version 1, "g", "t", partition 2.
        assert_eq!(hex(&key.encode()), "0001000167000174".to_string() + "00000002");
        assert_eq!(OffsetsKey::decode(&key.encode()), Ok(key));
        let value = OffsetCommitValue {
            offset: 42,
            leader_epoch: 3,
            metadata: String::new(),
            commit_timestamp: 1_000,
        };
        assert_eq!(
            hex(&value.encode()),
            "0003".to_string() + "000000000000002a" + "00000003" + "0000" + "00000000000003e8"
        );
        assert_eq!(OffsetCommitValue::decode(&value.encode()), Ok(value));
        let group = OffsetsKey::GroupMetadata { group: "my-group".into() };
        assert_eq!(hex(&group.encode()), "00020008".to_string() + &hex(b"my-group"));
    }

    #[test]
    fn group_metadata_and_consumer_protocol_round_trip() {
        let subscription = ConsumerSubscription {
            topics: vec!["orders".into()],
            user_data: None,
            owned_partitions: by_topic(&[("orders".into(), 1), ("orders".into(), 0)]),
            generation: 4,
        };
        assert_eq!(ConsumerSubscription::decode(&subscription.encode()), Ok(subscription.clone()));
        let assignment =
            ConsumerAssignment { partitions: vec![("orders".into(), vec![0, 1])], user_data: None };
        assert_eq!(ConsumerAssignment::decode(&assignment.encode()), Ok(assignment.clone()));
        assert_eq!(assignment.flat(), [("orders".to_string(), 0), ("orders".to_string(), 1)]);
        let value = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 4,
            protocol: Some("range".into()),
            leader: Some("m-1".into()),
            current_state_timestamp: 7,
            members: vec![MemberMetadata {
                member_id: "m-1".into(),
                group_instance_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: subscription.encode(),
                assignment: assignment.encode(),
            }],
        };
        assert_eq!(GroupMetadataValue::decode(&value.encode()), Ok(value));
    }

    #[test]
    fn damaged_bytes_are_named_errors() {
        assert_eq!(
            OffsetsKey::decode(&[0, 9]),
            Err(DecodeError::UnknownVersion { record: "__consumer_offsets key", version: 9 })
        );
        assert_eq!(
            OffsetsKey::decode(&[0, 1, 0]),
            Err(DecodeError::Truncated { field: "offset commit key group" })
        );
        // A member count claiming more than the bytes could hold is refused before allocating.
        let mut value = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 1,
            protocol: None,
            leader: None,
            current_state_timestamp: 0,
            members: vec![],
        }
        .encode();
        let at = value.len() - 4;
        value[at..].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(
            GroupMetadataValue::decode(&value),
            Err(DecodeError::BadLength { field: "members", length: i32::MAX.into() })
        );
        let mut commit =
            OffsetCommitValue { offset: 1, leader_epoch: -1, metadata: String::new(), commit_timestamp: 0 }
                .encode();
        commit.push(0);
        assert_eq!(
            OffsetCommitValue::decode(&commit),
            Err(DecodeError::TrailingBytes { record: "offset commit value", count: 1 })
        );
    }
}
