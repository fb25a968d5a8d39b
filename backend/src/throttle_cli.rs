//! A reassignment's replication throttle, as kafka-reassign-partitions sets and clears it:
//! `--execute --throttle N` gives every broker a move touches `leader.replication.throttled.rate`
//! and `follower.replication.throttled.rate` of N bytes/s and marks, per topic, the replicas the
//! moved partitions have now (`leader.replication.throttled.replicas`: any of them may send) and
//! those being added (`follower.replication.throttled.replicas`: they fetch); `--verify` clears
//! them all once no move is left in progress.

use std::collections::{BTreeMap, BTreeSet};

use kite_backend::client::ApiClient;
use kite_shared::api::{Command, ReassignmentTarget, Reply, TopicDescription};
use kite_shared::config::{FOLLOWER_REPLICATION_THROTTLED_RATE, LEADER_REPLICATION_THROTTLED_RATE};

use crate::cli::kafka_error;

const LEADER_REPLICAS: &str = "leader.replication.throttled.replicas";
const FOLLOWER_REPLICAS: &str = "follower.replication.throttled.replicas";

/// Sets the throttle for `plan` at `rate` bytes/s; what it prints (Kafka's warning and limit).
pub(crate) fn set_throttle(
    connection: &mut ApiClient,
    topics: &[TopicDescription],
    plan: &[ReassignmentTarget],
    rate: u64,
) -> Result<String, String> {
    let moves = plan.iter().filter_map(|target| {
        let wanted = target.replicas.as_deref()?;
        let topic = topics.iter().find(|t| t.name == target.topic)?;
        let now = &topic.partitions.iter().find(|p| p.partition == target.partition)?.replicas;
        Some((target.topic.as_str(), target.partition, now.as_slice(), wanted))
    });
    for command in Command::throttle_moves(moves, rate) {
        expect_altered(connection.request(command)?)?;
    }
    Ok(format!(
        "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\nThe inter-broker throttle limit was set to {rate} B/s\n"
    ))
}

/// Clears every broker's throttled rates and the plan's topics' throttled replicas (Kafka clears
/// them on all brokers: which ones a finished move touched is not known any more); what it
/// prints.
pub(crate) fn clear_throttles(
    connection: &mut ApiClient,
    plan: &[ReassignmentTarget],
) -> Result<String, String> {
    let (brokers, configs) = match connection.request(Command::DescribeCluster)? {
        Reply::ClusterDescribed { brokers, broker_configs, .. } => (brokers, broker_configs),
        other => return Err(kafka_error(other)),
    };
    let ids: Vec<i32> = brokers.iter().map(|b| b.id).collect();
    let rates = [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE];
    // Each broker (and the default) that has a dynamic rate set loses it.
    let mut set_on: BTreeMap<Option<i32>, Vec<String>> = BTreeMap::new();
    for view in
        configs.iter().filter(|v| v.source == "DYNAMIC_BROKER_CONFIG" && rates.contains(&v.name.as_str()))
    {
        set_on.entry(view.broker).or_default().push(view.name.clone());
    }
    for (broker, delete) in set_on {
        let command = Command::AlterBrokerConfig { broker, set: BTreeMap::new(), delete };
        expect_altered(connection.request(command)?)?;
    }
    let names: BTreeSet<&str> = plan.iter().map(|p| p.topic.as_str()).collect();
    for topic in &names {
        let delete = vec![LEADER_REPLICAS.to_string(), FOLLOWER_REPLICAS.to_string()];
        let command = Command::AlterTopicConfig { name: topic.to_string(), set: BTreeMap::new(), delete };
        expect_altered(connection.request(command)?)?;
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let list = ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let topics = names.iter().copied().collect::<Vec<_>>().join(",");
    Ok(format!(
        "Clearing broker-level throttles on broker{} {list}\nClearing topic-level throttles on topic{} {topics}\n",
        plural(ids.len()),
        plural(names.len())
    ))
}

fn expect_altered(reply: Reply) -> Result<(), String> {
    match reply {
        Reply::BrokerConfigAltered { .. } | Reply::TopicConfigAltered { .. } => Ok(()),
        other => Err(kafka_error(other)),
    }
}
