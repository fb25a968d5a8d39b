//! Kafka's error codes, by the names and numbers Kafka's protocol gives them.

use serde::{Deserialize, Serialize};

/// An error the engine answers with. Serialized by Kafka's name (`TOPIC_ALREADY_EXISTS`), so what a
/// learner reads in Kite is what a Kafka client would print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The offset asked for is before the partition's log start offset or past its log end offset.
    OffsetOutOfRange,
    /// Bytes that do not decode as Kafka record batches (a bad header, length or CRC).
    CorruptMessage,
    /// No topic of that name, or no partition of that number, is hosted here.
    UnknownTopicOrPartition,
    /// A record batch larger than the topic's `max.message.bytes`.
    MessageTooLarge,
    /// A topic name Kafka refuses: empty, `.` or `..`, too long, an illegal character, or one that
    /// collides with an existing topic by `.`/`_`.
    InvalidTopicException,
    /// A topic of that name already exists.
    TopicAlreadyExists,
    /// A partition count Kafka refuses (below 1, or more than allowed).
    InvalidPartitions,
    /// A replication factor below 1 or above the number of brokers.
    InvalidReplicationFactor,
    /// A replica assignment Kafka refuses: empty, a broker twice, or a broker not registered.
    InvalidReplicaAssignment,
    /// A reassignment cancelled (or listed) for a partition that has none in progress.
    NoReassignmentInProgress,
    /// A leader election asked where the leader is already the one it would choose.
    ElectionNotNeeded,
    /// A preferred leader election whose preferred replica is down or out of the ISR.
    PreferredLeaderNotAvailable,
    /// An unclean election for a partition none of whose replicas is alive.
    EligibleLeadersNotAvailable,
    /// A broker id the controller has no registration for (never started, or removed).
    BrokerIdNotRegistered,
    /// A topic config Kafka refuses: an unknown name, or a value it cannot parse or that is out of range.
    InvalidConfig,
    /// The request went to a controller that is not the active one, or no controller is active
    /// while the quorum elects one (Kafka's clients retry it).
    NotController,
    /// A request that is malformed or not allowed as sent (the message says which).
    InvalidRequest,
    /// A request refused by a policy rather than by Kafka's rules, e.g. one of Kite's limits.
    PolicyViolation,
    /// The broker's storage failed: a read or write did not succeed, or a file is corrupt.
    KafkaStorageError,
    /// The partition has no leader right now (e.g. while one is elected).
    LeaderNotAvailable,
    /// The broker asked is not the partition's leader (or does not host the partition).
    NotLeaderOrFollower,
    /// The request did not complete in time, e.g. an `acks=all` produce the ISR did not catch up on.
    RequestTimedOut,
    /// An `acks=all` produce refused before appending: the ISR is smaller than `min.insync.replicas`.
    NotEnoughReplicas,
    /// An `acks=all` produce that was appended, but the ISR shrank below `min.insync.replicas`
    /// before it was acknowledged.
    NotEnoughReplicasAfterAppend,
    /// The request's leader epoch is older than the partition's current one.
    FencedLeaderEpoch,
    /// The request's leader epoch is newer than the one this broker knows.
    UnknownLeaderEpoch,
    /// A request names a topic by an id no topic has (KIP-516): deleted, or created again under
    /// a new id since the client read its metadata.
    UnknownTopicId,
    /// A record the broker refuses, e.g. one without a key on a compacted topic or a control batch
    /// from a client; Kite also answers with it when a serializer refuses a record's text.
    InvalidRecord,
    /// The group coordinator is still loading the group's state from `__consumer_offsets`.
    CoordinatorLoadInProgress,
    /// No group coordinator can serve the group right now.
    CoordinatorNotAvailable,
    /// The broker asked is not the group's coordinator.
    NotCoordinator,
    /// The member's generation id is not the group's current generation.
    IllegalGeneration,
    /// The member's protocol type or assignors match none the group already uses.
    InconsistentGroupProtocol,
    /// A group id Kafka refuses (empty, or too long).
    InvalidGroupId,
    /// The group has no member of that id.
    UnknownMemberId,
    /// A session timeout outside the broker's `group.min.session.timeout.ms` to
    /// `group.max.session.timeout.ms`.
    InvalidSessionTimeout,
    /// The group is rebalancing: the member must join again.
    RebalanceInProgress,
    /// The group still has members, so it cannot be deleted.
    NonEmptyGroup,
    /// No group of that id exists.
    GroupIdNotFound,
    /// A first join without a member id (KIP-394): the answer gives the id to join again with.
    MemberIdRequired,
    /// The group already has as many members as it may (Kafka's `group.max.size`).
    GroupMaxSizeReached,
    /// An idempotent producer's batch does not follow its last one: a sequence was skipped, or
    /// a new producer (or epoch) did not start at 0.
    OutOfOrderSequenceNumber,
    /// An idempotent producer's epoch is older than the one the partition has seen: a newer
    /// instance of the producer took its id over.
    InvalidProducerEpoch,
    /// A transaction request its transaction's state does not allow, e.g. EndTxn with no transaction open, or a commit of one being aborted.
    InvalidTxnState,
    /// A transactional request whose producer id is not the one the coordinator holds for its `transactional.id`.
    InvalidProducerIdMapping,
    /// A `transaction.timeout.ms` above the broker's `transaction.max.timeout.ms` (or not positive).
    InvalidTransactionTimeout,
    /// The transaction is still being completed (its markers are being written): try again shortly.
    ConcurrentTransactions,
    /// A group's offset is part of a transaction not yet completed: OffsetFetch with `require_stable` retries.
    UnstableOffsetCommit,
    /// A transactional producer whose epoch is older than its `transactional.id`'s: a newer instance (or a timed-out transaction's abort) fenced it.
    ProducerFenced,
    /// No transaction has this `transactional.id`.
    TransactionalIdNotFound,
}

impl ErrorCode {
    /// The error's number in Kafka's protocol (`org.apache.kafka.common.protocol.Errors`).
    pub fn code(self) -> i16 {
        match self {
            ErrorCode::OffsetOutOfRange => 1,
            ErrorCode::CorruptMessage => 2,
            ErrorCode::UnknownTopicOrPartition => 3,
            ErrorCode::MessageTooLarge => 10,
            ErrorCode::InvalidTopicException => 17,
            ErrorCode::TopicAlreadyExists => 36,
            ErrorCode::InvalidPartitions => 37,
            ErrorCode::InvalidReplicationFactor => 38,
            ErrorCode::InvalidReplicaAssignment => 39,
            ErrorCode::NoReassignmentInProgress => 85,
            ErrorCode::ElectionNotNeeded => 84,
            ErrorCode::PreferredLeaderNotAvailable => 80,
            ErrorCode::EligibleLeadersNotAvailable => 83,
            ErrorCode::BrokerIdNotRegistered => 102,
            ErrorCode::InvalidConfig => 40,
            ErrorCode::NotController => 41,
            ErrorCode::InvalidRequest => 42,
            ErrorCode::PolicyViolation => 44,
            ErrorCode::KafkaStorageError => 56,
            ErrorCode::LeaderNotAvailable => 5,
            ErrorCode::NotLeaderOrFollower => 6,
            ErrorCode::RequestTimedOut => 7,
            ErrorCode::NotEnoughReplicas => 19,
            ErrorCode::NotEnoughReplicasAfterAppend => 20,
            ErrorCode::FencedLeaderEpoch => 74,
            ErrorCode::UnknownLeaderEpoch => 75,
            ErrorCode::UnknownTopicId => 100,
            ErrorCode::InvalidRecord => 87,
            ErrorCode::CoordinatorLoadInProgress => 14,
            ErrorCode::CoordinatorNotAvailable => 15,
            ErrorCode::NotCoordinator => 16,
            ErrorCode::IllegalGeneration => 22,
            ErrorCode::InconsistentGroupProtocol => 23,
            ErrorCode::InvalidGroupId => 24,
            ErrorCode::UnknownMemberId => 25,
            ErrorCode::InvalidSessionTimeout => 26,
            ErrorCode::RebalanceInProgress => 27,
            ErrorCode::NonEmptyGroup => 68,
            ErrorCode::GroupIdNotFound => 69,
            ErrorCode::MemberIdRequired => 79,
            ErrorCode::GroupMaxSizeReached => 81,
            ErrorCode::OutOfOrderSequenceNumber => 45,
            ErrorCode::InvalidProducerEpoch => 47,
            ErrorCode::InvalidTxnState => 48,
            ErrorCode::InvalidProducerIdMapping => 49,
            ErrorCode::InvalidTransactionTimeout => 50,
            ErrorCode::ConcurrentTransactions => 51,
            ErrorCode::UnstableOffsetCommit => 88,
            ErrorCode::ProducerFenced => 90,
            ErrorCode::TransactionalIdNotFound => 105,
        }
    }

    /// The name Kafka prints, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::CorruptMessage => "CORRUPT_MESSAGE",
            ErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::InvalidTopicException => "INVALID_TOPIC_EXCEPTION",
            ErrorCode::TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
            ErrorCode::InvalidPartitions => "INVALID_PARTITIONS",
            ErrorCode::InvalidReplicationFactor => "INVALID_REPLICATION_FACTOR",
            ErrorCode::InvalidReplicaAssignment => "INVALID_REPLICA_ASSIGNMENT",
            ErrorCode::NoReassignmentInProgress => "NO_REASSIGNMENT_IN_PROGRESS",
            ErrorCode::ElectionNotNeeded => "ELECTION_NOT_NEEDED",
            ErrorCode::PreferredLeaderNotAvailable => "PREFERRED_LEADER_NOT_AVAILABLE",
            ErrorCode::EligibleLeadersNotAvailable => "ELIGIBLE_LEADERS_NOT_AVAILABLE",
            ErrorCode::BrokerIdNotRegistered => "BROKER_ID_NOT_REGISTERED",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::NotController => "NOT_CONTROLLER",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::PolicyViolation => "POLICY_VIOLATION",
            ErrorCode::KafkaStorageError => "KAFKA_STORAGE_ERROR",
            ErrorCode::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            ErrorCode::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            ErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
            ErrorCode::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            ErrorCode::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            ErrorCode::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            ErrorCode::UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            ErrorCode::UnknownTopicId => "UNKNOWN_TOPIC_ID",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
            ErrorCode::CoordinatorLoadInProgress => "COORDINATOR_LOAD_IN_PROGRESS",
            ErrorCode::CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
            ErrorCode::NotCoordinator => "NOT_COORDINATOR",
            ErrorCode::IllegalGeneration => "ILLEGAL_GENERATION",
            ErrorCode::InconsistentGroupProtocol => "INCONSISTENT_GROUP_PROTOCOL",
            ErrorCode::InvalidGroupId => "INVALID_GROUP_ID",
            ErrorCode::UnknownMemberId => "UNKNOWN_MEMBER_ID",
            ErrorCode::InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
            ErrorCode::RebalanceInProgress => "REBALANCE_IN_PROGRESS",
            ErrorCode::NonEmptyGroup => "NON_EMPTY_GROUP",
            ErrorCode::GroupIdNotFound => "GROUP_ID_NOT_FOUND",
            ErrorCode::MemberIdRequired => "MEMBER_ID_REQUIRED",
            ErrorCode::GroupMaxSizeReached => "GROUP_MAX_SIZE_REACHED",
            ErrorCode::OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
            ErrorCode::InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
            ErrorCode::InvalidTxnState => "INVALID_TXN_STATE",
            ErrorCode::InvalidProducerIdMapping => "INVALID_PRODUCER_ID_MAPPING",
            ErrorCode::InvalidTransactionTimeout => "INVALID_TRANSACTION_TIMEOUT",
            ErrorCode::ConcurrentTransactions => "CONCURRENT_TRANSACTIONS",
            ErrorCode::UnstableOffsetCommit => "UNSTABLE_OFFSET_COMMIT",
            ErrorCode::ProducerFenced => "PRODUCER_FENCED",
            ErrorCode::TransactionalIdNotFound => "TRANSACTIONAL_ID_NOT_FOUND",
        }
    }
}

/// An error code with the sentence that says what was wrong, naming the offending value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaError {
    /// Kafka's error code.
    pub error: ErrorCode,
    /// What was wrong, in a sentence that names the offending value.
    pub message: String,
}

impl KafkaError {
    /// An error of `error` with `message`.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        KafkaError { error, message: message.into() }
    }
}

impl std::fmt::Display for KafkaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error.name(), self.error.code(), self.message)
    }
}

impl std::error::Error for KafkaError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_name_is_kafkas_name() {
        for code in [
            ErrorCode::OffsetOutOfRange,
            ErrorCode::CorruptMessage,
            ErrorCode::InvalidReplicationFactor,
            ErrorCode::InvalidReplicaAssignment,
            ErrorCode::NoReassignmentInProgress,
            ErrorCode::ElectionNotNeeded,
            ErrorCode::PreferredLeaderNotAvailable,
            ErrorCode::EligibleLeadersNotAvailable,
            ErrorCode::BrokerIdNotRegistered,
            ErrorCode::InvalidConfig,
            ErrorCode::NotController,
            ErrorCode::InvalidRecord,
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::MessageTooLarge,
            ErrorCode::InvalidTopicException,
            ErrorCode::TopicAlreadyExists,
            ErrorCode::InvalidPartitions,
            ErrorCode::InvalidRequest,
            ErrorCode::PolicyViolation,
            ErrorCode::KafkaStorageError,
            ErrorCode::NotLeaderOrFollower,
            ErrorCode::CoordinatorLoadInProgress,
            ErrorCode::CoordinatorNotAvailable,
            ErrorCode::NotCoordinator,
            ErrorCode::IllegalGeneration,
            ErrorCode::InconsistentGroupProtocol,
            ErrorCode::InvalidGroupId,
            ErrorCode::UnknownMemberId,
            ErrorCode::InvalidSessionTimeout,
            ErrorCode::RebalanceInProgress,
            ErrorCode::NonEmptyGroup,
            ErrorCode::GroupIdNotFound,
            ErrorCode::MemberIdRequired,
            ErrorCode::GroupMaxSizeReached,
            ErrorCode::OutOfOrderSequenceNumber,
            ErrorCode::InvalidProducerEpoch,
            ErrorCode::InvalidTxnState,
            ErrorCode::InvalidProducerIdMapping,
            ErrorCode::InvalidTransactionTimeout,
            ErrorCode::ConcurrentTransactions,
            ErrorCode::UnstableOffsetCommit,
            ErrorCode::ProducerFenced,
            ErrorCode::TransactionalIdNotFound,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.name()));
        }
    }
}
