//! What every assignor reads and writes: a member's subscription (its JoinGroup metadata) and
//! the assignment a group's leader hands back. Kept apart from the assignors themselves, so
//! `assignor` (which dispatches to `sticky`) and `sticky` both import it and not each other.

use std::collections::BTreeMap;

/// A member's subscription, as its JoinGroup metadata carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The member's id, as the coordinator gave it.
    pub member_id: String,
    /// The topics it subscribes to.
    pub topics: Vec<String>,
    /// What the member owned in the generation it last took part in (ConsumerProtocol
    /// subscription v1+); the sticky assignors keep it where they can.
    pub owned_partitions: Vec<(String, i32)>,
    /// That generation (subscription v2+), -1 when unknown: when two members claim the same
    /// partition, the higher generation's claim wins.
    pub generation: i32,
}

impl Subscription {
    /// A member that owns nothing yet.
    pub fn new(member_id: &str, topics: &[&str]) -> Subscription {
        Subscription {
            member_id: member_id.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            owned_partitions: Vec::new(),
            generation: -1,
        }
    }
}

/// Member id → its topic-partitions, sorted; every member appears, possibly with none.
pub type Assignment = BTreeMap<String, Vec<(String, i32)>>;
