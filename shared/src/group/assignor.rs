//! The partition assignors a consumer group's leader runs, as Kafka's clients implement them:
//! `range` (per topic, contiguous ranges, the first members one extra) and `roundrobin` (every
//! subscribed topic-partition, sorted, dealt in turn to the members subscribed to its topic).
//! Sticky and cooperative-sticky live in `sticky`.

use std::collections::BTreeMap;

pub use super::subscription::{Assignment, Subscription};

fn empty_assignment(members: &[Subscription]) -> Assignment {
    members.iter().map(|m| (m.member_id.clone(), Vec::new())).collect()
}

/// Kafka's `RangeAssignor`: for each topic, its subscribers sorted by member id; each gets
/// `partitions / subscribers` consecutive partitions, and the first `partitions % subscribers`
/// one more.
pub fn range(partitions_per_topic: &BTreeMap<String, i32>, members: &[Subscription]) -> Assignment {
    let mut assignment = empty_assignment(members);
    for (topic, &count) in partitions_per_topic {
        let mut subscribers: Vec<&str> =
            members.iter().filter(|m| m.topics.contains(topic)).map(|m| m.member_id.as_str()).collect();
        subscribers.sort_unstable();
        if subscribers.is_empty() {
            continue;
        }
        let n = subscribers.len() as i32;
        let (per_member, extra) = (count / n, count % n);
        for (i, member) in (0..).zip(&subscribers) {
            let start = per_member * i + i.min(extra);
            let length = per_member + i32::from(i < extra);
            let owned = assignment.get_mut(*member).expect("every member is in the assignment");
            owned.extend((start..start + length).map(|p| (topic.clone(), p)));
        }
    }
    for owned in assignment.values_mut() {
        owned.sort();
    }
    assignment
}

/// Kafka's `RoundRobinAssignor`: every topic-partition of every subscribed topic, sorted by topic
/// then partition, goes to the next member (members sorted by id, taken in a circle) that is
/// subscribed to its topic.
pub fn roundrobin(partitions_per_topic: &BTreeMap<String, i32>, members: &[Subscription]) -> Assignment {
    let mut assignment = empty_assignment(members);
    let mut sorted: Vec<&Subscription> = members.iter().collect();
    sorted.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    if sorted.is_empty() {
        return assignment;
    }
    let mut next = 0;
    for (topic, &count) in partitions_per_topic {
        if !sorted.iter().any(|m| m.topics.contains(topic)) {
            continue;
        }
        for partition in 0..count {
            // The circle continues where it stopped; skip members not subscribed to this topic.
            while !sorted[next % sorted.len()].topics.contains(topic) {
                next += 1;
            }
            let member = &sorted[next % sorted.len()].member_id;
            assignment
                .get_mut(member)
                .expect("every member is in the assignment")
                .push((topic.clone(), partition));
            next += 1;
        }
    }
    assignment
}

/// The assignors Kite's consumers know, by Kafka's protocol names.
pub const ASSIGNORS: [&str; 4] = ["range", "roundrobin", "sticky", "cooperative-sticky"];

/// Does this assignor support cooperative (incremental) rebalancing?
pub fn is_cooperative(name: &str) -> bool {
    name == "cooperative-sticky"
}

/// Runs the assignor a group chose by its protocol name; `None` for an unknown name.
pub fn assign(
    name: &str,
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &[Subscription],
) -> Option<Assignment> {
    match name {
        "range" => Some(range(partitions_per_topic, members)),
        "roundrobin" => Some(roundrobin(partitions_per_topic, members)),
        "sticky" => Some(super::sticky::sticky(partitions_per_topic, members)),
        "cooperative-sticky" => Some(super::sticky::cooperative_sticky(partitions_per_topic, members)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(list: &[(&str, i32)]) -> BTreeMap<String, i32> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn member(id: &str, subscribed: &[&str]) -> Subscription {
        Subscription::new(id, subscribed)
    }

    fn owned(assignment: &Assignment, member: &str) -> Vec<String> {
        assignment[member].iter().map(|(t, p)| format!("{t}p{p}")).collect()
    }

    #[test]
    fn range_matches_kafkas_javadoc_example() {
        // RangeAssignor's javadoc: C0, C1; t0 and t1 with 3 partitions each.
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let assignment = range(&topics(&[("t0", 3), ("t1", 3)]), &members);
        assert_eq!(owned(&assignment, "C0"), ["t0p0", "t0p1", "t1p0", "t1p1"]);
        assert_eq!(owned(&assignment, "C1"), ["t0p2", "t1p2"]);
        // More members than partitions: the last ones get nothing.
        let members = [member("a", &["t"]), member("b", &["t"]), member("c", &["t"])];
        let assignment = range(&topics(&[("t", 2)]), &members);
        assert_eq!(
            (owned(&assignment, "a"), owned(&assignment, "b")),
            (vec!["tp0".to_string()], vec!["tp1".to_string()])
        );
        assert!(assignment["c"].is_empty());
    }

    #[test]
    fn roundrobin_matches_kafkas_javadoc_examples() {
        // RoundRobinAssignor's javadoc, same subscriptions: C0 [t0p0, t0p2, t1p1], C1 [t0p1, t1p0, t1p2].
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let assignment = roundrobin(&topics(&[("t0", 3), ("t1", 3)]), &members);
        assert_eq!(owned(&assignment, "C0"), ["t0p0", "t0p2", "t1p1"]);
        assert_eq!(owned(&assignment, "C1"), ["t0p1", "t1p0", "t1p2"]);
        // Different subscriptions: t0, t1, t2 with 1, 2, 3 partitions; C0 ⊂ C1 ⊂ C2.
        let members = [member("C0", &["t0"]), member("C1", &["t0", "t1"]), member("C2", &["t0", "t1", "t2"])];
        let assignment = roundrobin(&topics(&[("t0", 1), ("t1", 2), ("t2", 3)]), &members);
        assert_eq!(owned(&assignment, "C0"), ["t0p0"]);
        assert_eq!(owned(&assignment, "C1"), ["t1p0"]);
        assert_eq!(owned(&assignment, "C2"), ["t1p1", "t2p0", "t2p1", "t2p2"]);
    }

    #[test]
    fn every_subscribed_partition_is_assigned_exactly_once() {
        let members = [member("m3", &["a", "b"]), member("m1", &["a"]), member("m2", &["b", "c"])];
        let partitions = topics(&[("a", 5), ("b", 4), ("c", 1), ("unsubscribed", 2)]);
        for assignment in [range(&partitions, &members), roundrobin(&partitions, &members)] {
            let mut all: Vec<(String, i32)> = assignment.values().flatten().cloned().collect();
            all.sort();
            let expected: Vec<(String, i32)> = ["a", "b", "c"]
                .iter()
                .flat_map(|t| (0..partitions[*t]).map(|p| (t.to_string(), p)))
                .collect();
            assert_eq!(all, expected);
            for m in &members {
                assert!(
                    assignment[&m.member_id].iter().all(|(t, _)| m.topics.contains(t)),
                    "only subscribed topics"
                );
            }
        }
    }
}
