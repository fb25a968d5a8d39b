//! Kafka's rules for a topic's name and partition count, with Kafka's own refusals.

use crate::error::{ErrorCode, KafkaError};
use crate::limits::{MAX_PARTITIONS_PER_TOPIC, MAX_TOPIC_NAME_LEN_CHARS};

/// Kafka's `Topic.validate`: 1..=249 characters of `[a-zA-Z0-9._-]`, and not `.` or `..`.
/// The messages are Kafka's own.
pub fn validate_name(name: &str) -> Result<(), KafkaError> {
    let invalid = |message: String| Err(KafkaError::new(ErrorCode::InvalidTopicException, message));
    if name.is_empty() {
        return invalid("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return invalid("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.chars().count() > MAX_TOPIC_NAME_LEN_CHARS {
        return invalid(format!(
            "Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LEN_CHARS} characters, topic name: {name}"
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return invalid(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// The topics Kafka keeps for itself: the group coordinator's offsets, the transaction
/// coordinator's state and KRaft's metadata log. Kafka's `Topic.isInternal` names the first two
/// (`__cluster_metadata` is never listed by a broker); a user's own `__name` is not internal.
pub const INTERNAL_TOPICS: [&str; 3] = ["__consumer_offsets", "__transaction_state", "__cluster_metadata"];

/// Whether `name` is one of Kafka's own topics ([`INTERNAL_TOPICS`]): Metadata's `is_internal`.
pub fn is_internal(name: &str) -> bool {
    INTERNAL_TOPICS.contains(&name)
}

/// What a UI hides unless asked: Kafka's own topics, and Kafka Connect's (`connect-configs`,
/// `connect-offsets`, `connect-status`: ordinary topics to Kafka, the worker's bookkeeping to a
/// reader — 31 partitions that would crowd the cluster map).
pub fn is_hidden(name: &str) -> bool {
    use crate::connect::storage::{CONFIG_TOPIC, OFFSET_TOPIC, STATUS_TOPIC};
    is_internal(name) || [CONFIG_TOPIC, OFFSET_TOPIC, STATUS_TOPIC].contains(&name)
}

/// Kafka's `Topic.hasCollision`: metric names replace `.` with `_`, so `a.b` and `a_b` would collide.
pub fn names_collide(a: &str, b: &str) -> bool {
    a != b && a.replace('.', "_") == b.replace('.', "_")
}

/// kafka-topics' warning for names with `.` or `_`, which metric names cannot tell apart.
pub fn collision_warning(name: &str) -> Option<String> {
    (name.contains('.') || name.contains('_')).then(|| {
        "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') \
         could collide. To avoid issues it is best to use either, but not both."
            .to_string()
    })
}

/// A topic needs at least one partition (Kafka: "Number of partitions must be larger than 0.");
/// Kite also caps the count at `MAX_PARTITIONS_PER_TOPIC`.
pub fn validate_partition_count(count: i32) -> Result<(), KafkaError> {
    if count < 1 {
        return Err(KafkaError::new(
            ErrorCode::InvalidPartitions,
            format!("Number of partitions must be larger than 0, got {count}."),
        ));
    }
    if count > MAX_PARTITIONS_PER_TOPIC {
        return Err(KafkaError::new(
            ErrorCode::InvalidPartitions,
            format!("Number of partitions {count} exceeds Kite's limit of {MAX_PARTITIONS_PER_TOPIC}."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_names_pass() {
        for name in ["orders", "a", "A.b_c-9", &"x".repeat(MAX_TOPIC_NAME_LEN_CHARS), "..."] {
            assert_eq!(validate_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn illegal_names_say_why() {
        let cases = [
            ("", "can't be empty"),
            (".", "cannot be \".\" or \"..\""),
            ("..", "cannot be \".\" or \"..\""),
            ("has space", "contains a character other than"),
            ("주문", "contains a character other than"),
            ("a/b", "contains a character other than"),
        ];
        for (name, expected) in cases {
            let err = validate_name(name).unwrap_err();
            assert_eq!(err.error, ErrorCode::InvalidTopicException);
            assert!(err.message.contains(expected), "{name:?}: {}", err.message);
        }
        let long = "x".repeat(MAX_TOPIC_NAME_LEN_CHARS + 1);
        assert!(validate_name(&long).unwrap_err().message.contains("longer than 249"));
    }

    #[test]
    fn dot_and_underscore_collide() {
        assert!(names_collide("a.b", "a_b"));
        assert!(!names_collide("a.b", "a.b"), "the same name is a duplicate, not a collision");
        assert!(!names_collide("a.b", "a-b"));
    }

    #[test]
    fn partition_counts() {
        assert!(validate_partition_count(1).is_ok());
        assert!(validate_partition_count(MAX_PARTITIONS_PER_TOPIC).is_ok());
        for bad in [0, -1, MAX_PARTITIONS_PER_TOPIC + 1] {
            assert_eq!(validate_partition_count(bad).unwrap_err().error, ErrorCode::InvalidPartitions);
        }
    }
}
