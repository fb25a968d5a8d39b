//! Consumer groups: the group coordinator a broker runs (`coordinator`), the records it keeps in
//! `__consumer_offsets` (`offsets_topic`), the consumer client (`consumer`), the partition
//! assignors a group's leader member runs (`assignor`, `sticky`, over `subscription`), and which `__consumer_offsets`
//! partition coordinates a group (`coordinator_partition`).

pub mod assignor;
pub mod consumer;
pub mod coordinator;
pub mod coordinator_record;
pub mod offsets_topic;
pub mod sticky;
pub mod subscription;

/// Java's `String.hashCode`: `31 * h + c` over the UTF-16 code units, wrapping.
pub fn java_string_hash_code(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// The `__consumer_offsets` partition whose leader coordinates `group_id`:
/// `Utils.abs(groupId.hashCode()) % partitions`, where Kafka's `abs(Integer.MIN_VALUE)` is 0.
pub fn coordinator_partition(group_id: &str, partitions: i32) -> i32 {
    let hash = java_string_hash_code(group_id);
    let positive = if hash == i32::MIN { 0 } else { hash.abs() };
    positive % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinator_partitions_are_kafkas() {
        // kafka-reference.md §6.
        assert_eq!(java_string_hash_code("my-group"), -1_906_497_762);
        assert_eq!(coordinator_partition("my-group", 50), 12);
        assert_eq!(java_string_hash_code(""), 0);
        // Java's "polygenelubricants".hashCode() is Integer.MIN_VALUE; Kafka's abs makes it 0.
        assert_eq!(java_string_hash_code("polygenelubricants"), i32::MIN);
        assert_eq!(coordinator_partition("polygenelubricants", 50), 0);
    }
}
