//! Metadata: the brokers' listeners, the controller, and each topic's partitions with their
//! leader, replicas and ISR, as the engine has them. A topic asked for by name that does not exist
//! is created first when the client allows it (Kafka's `auto.create.topics.enable`, on by default,
//! with `num.partitions` 1 and `default.replication.factor` 1). DescribeCluster gives the same
//! brokers and controller as the admin clients ask for them.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeClusterRequest, DescribeClusterResponse, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, error_code, respond};
use crate::api::{Command, PartitionDescription, Reply, TopicDescription};
use crate::cluster::{Cluster, ListenerReach};
use crate::error::ErrorCode;

/// Kafka's UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const LEADER_NOT_AVAILABLE: i16 = 5;

pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: MetadataRequest = decode(request, body)?;
    // v0 asks for every topic with an empty list; later versions with null.
    let names: Option<Vec<String>> =
        asked.topics.filter(|topics| request.version > 0 || !topics.is_empty()).map(|topics| {
            topics.iter().filter_map(|t| t.name.as_ref()).map(|n| n.0.as_str().to_string()).collect()
        });
    let auto_create = request.version < 4 || asked.allow_auto_topic_creation;
    let mut created_errors = BTreeMap::new();
    if let (Some(names), true) = (&names, auto_create) {
        for name in names {
            if let Some(code) = create_if_missing(connection, cluster, request.now_ms, name) {
                created_errors.insert(name.clone(), code);
            }
        }
    }
    let Reply::Topics { topics } = connection.ask(cluster, request.now_ms, Command::ListTopics) else {
        return Err(KafkaClose { reason: "the engine did not list its topics".into() });
    };
    let mut response = MetadataResponse::default().with_brokers(brokers(connection, cluster));
    if let Reply::ClusterDescribed { cluster_id, controller, .. } =
        connection.ask(cluster, request.now_ms, Command::DescribeCluster)
    {
        response = response
            .with_cluster_id(Some(StrBytes::from_string(cluster_id)))
            .with_controller_id(BrokerId(controller));
    }
    let by_name: BTreeMap<&str, &TopicDescription> = topics.iter().map(|t| (t.name.as_str(), t)).collect();
    let described = match names {
        None => topics.iter().map(|t| topic(cluster, t)).collect(),
        Some(names) => names
            .iter()
            .map(|name| match by_name.get(name.as_str()) {
                Some(found) => topic(cluster, found),
                None => {
                    missing(name, created_errors.get(name).copied().unwrap_or(UNKNOWN_TOPIC_OR_PARTITION))
                }
            })
            .collect(),
    };
    respond(request, &fit(response.with_topics(described), request.version))
}

/// Creates topic `name` with the broker's defaults if it does not exist: `None` when it exists
/// now, else Kafka's error code for why not.
fn create_if_missing(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    name: &str,
) -> Option<i16> {
    let create = Command::CreateTopic {
        name: name.to_string(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: None,
    };
    match connection.ask(cluster, now_ms, create) {
        Reply::Error(error) if error.error != crate::error::ErrorCode::TopicAlreadyExists => {
            Some(error_code(&error))
        }
        _ => None,
    }
}

/// The response without what `version` does not carry (a value set there would not encode):
/// the controller came with v1, the cluster id with v2, leader epochs with v7, topic ids with v10.
fn fit(mut response: MetadataResponse, version: i16) -> MetadataResponse {
    if version < 1 {
        response.controller_id = BrokerId(-1);
        response.topics.iter_mut().for_each(|t| t.is_internal = false);
    }
    if version < 2 {
        response.cluster_id = None;
    }
    if version < 7 {
        response.topics.iter_mut().flat_map(|t| &mut t.partitions).for_each(|p| p.leader_epoch = -1);
    }
    if version < 10 {
        response.topics.iter_mut().for_each(|t| t.topic_id = uuid::Uuid::nil());
    }
    response
}

/// The brokers a client can reach: as Kafka lists only live brokers, a stopped one is left out
/// (its listener refuses connections).
fn brokers(connection: &KafkaConnection, cluster: &Cluster) -> Vec<MetadataResponseBroker> {
    let racks = cluster.broker_racks();
    connection
        .listener
        .advertised(cluster)
        .iter()
        .filter(|b| cluster.kafka_listener_reach(b.id) != ListenerReach::Refused)
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.id))
                .with_host(StrBytes::from_string(b.host.clone()))
                .with_port(b.port)
                .with_rack(racks.get(&b.id).map(|r| StrBytes::from_string(r.clone())))
        })
        .collect()
}

fn topic(cluster: &Cluster, description: &TopicDescription) -> MetadataResponseTopic {
    let epoch =
        |p: &PartitionDescription| cluster.leadership(&description.name, p.partition).map_or(-1, |(_, e)| e);
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(description.name.clone()))))
        .with_topic_id(
            crate::ids::TopicId::parse(&description.topic_id)
                .map_or(uuid::Uuid::nil(), |id| uuid::Uuid::from_bytes(id.0)),
        )
        .with_is_internal(crate::topic::is_internal(&description.name))
        .with_partitions(description.partitions.iter().map(|p| partition(p, epoch(p))).collect())
}

fn partition(description: &PartitionDescription, leader_epoch: i32) -> MetadataResponsePartition {
    let ids = |brokers: &[i32]| brokers.iter().map(|&b| BrokerId(b)).collect();
    MetadataResponsePartition::default()
        .with_error_code(if description.leader.is_some() { 0 } else { LEADER_NOT_AVAILABLE })
        .with_partition_index(description.partition)
        .with_leader_id(BrokerId(description.leader.unwrap_or(-1)))
        // Clients send it back with their fetches, which a broker at another epoch refuses.
        .with_leader_epoch(leader_epoch)
        .with_replica_nodes(ids(&description.replicas))
        .with_isr_nodes(ids(&description.isr))
}

fn missing(name: &str, code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(code)
        .with_name(Some(TopicName(StrBytes::from_string(name.to_string()))))
}

/// Kafka's MISMATCHED_ENDPOINT_TYPE: a DescribeCluster for the controllers' endpoint, which a
/// broker's listener is not.
const MISMATCHED_ENDPOINT_TYPE: i16 = 114;
/// DescribeCluster's endpoint type for brokers.
const BROKERS_ENDPOINT: i8 = 1;

/// DescribeCluster (KIP-700): the cluster id, the controller as Metadata names it, and every
/// broker's listener; v2 says which are fenced and leaves them out unless asked.
pub(super) fn describe_cluster(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DescribeClusterRequest = decode(request, body)?;
    let mut response = DescribeClusterResponse::default();
    if request.version >= 1 {
        response = response.with_endpoint_type(BROKERS_ENDPOINT);
        if asked.endpoint_type != BROKERS_ENDPOINT {
            return respond(request, &response.with_error_code(MISMATCHED_ENDPOINT_TYPE));
        }
    }
    let Reply::ClusterDescribed { cluster_id, controller, brokers: states, .. } =
        connection.ask(cluster, request.now_ms, Command::DescribeCluster)
    else {
        return respond(request, &response.with_error_code(ErrorCode::InvalidRequest.code()));
    };
    let fenced = |id: i32| {
        states.iter().any(|b| b.id == id && matches!(b.state.as_str(), "fenced" | "log-dir-offline"))
    };
    let brokers = connection
        .listener
        .advertised(cluster)
        .iter()
        // A removed broker is not registered: Kafka lists it no more.
        .filter(|b| states.iter().any(|s| s.id == b.id))
        .filter(|b| request.version < 2 || asked.include_fenced_brokers || !fenced(b.id))
        .map(|b| {
            let broker = DescribeClusterBroker::default()
                .with_broker_id(BrokerId(b.id))
                .with_host(StrBytes::from_string(b.host.clone()))
                .with_port(b.port)
                .with_rack(
                    states
                        .iter()
                        .find(|s| s.id == b.id)
                        .and_then(|s| s.rack.clone())
                        .map(StrBytes::from_string),
                );
            if request.version >= 2 { broker.with_is_fenced(fenced(b.id)) } else { broker }
        })
        .collect();
    let response = response
        .with_cluster_id(StrBytes::from_string(cluster_id))
        .with_controller_id(BrokerId(controller))
        .with_brokers(brokers);
    respond(request, &response)
}
