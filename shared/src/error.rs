//! Kafka's error codes, by the names and numbers Kafka's protocol gives them.

use serde::{Deserialize, Serialize};

/// An error the engine answers with. Serialized by Kafka's name (`TOPIC_ALREADY_EXISTS`), so what a
/// learner reads in Kite is what a Kafka client would print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    OffsetOutOfRange,
    CorruptMessage,
    UnknownTopicOrPartition,
    MessageTooLarge,
    InvalidTopicException,
    TopicAlreadyExists,
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidConfig,
    InvalidRequest,
    PolicyViolation,
    KafkaStorageError,
    LeaderNotAvailable,
    NotLeaderOrFollower,
    RequestTimedOut,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    InvalidRecord,
    CoordinatorLoadInProgress,
    CoordinatorNotAvailable,
    NotCoordinator,
    IllegalGeneration,
    InconsistentGroupProtocol,
    InvalidGroupId,
    UnknownMemberId,
    InvalidSessionTimeout,
    RebalanceInProgress,
    NonEmptyGroup,
    GroupIdNotFound,
    MemberIdRequired,
    GroupMaxSizeReached,
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
            ErrorCode::InvalidConfig => 40,
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
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
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
        }
    }
}

/// An error code with the sentence that says what was wrong, naming the offending value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaError {
    pub error: ErrorCode,
    pub message: String,
}

impl KafkaError {
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
            ErrorCode::InvalidConfig,
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
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.name()));
        }
    }
}
