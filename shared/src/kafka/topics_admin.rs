//! The topic admin APIs, as `kafka-topics`, `kafka-configs` and the admin clients use them:
//! CreateTopics, CreatePartitions and DeleteTopics, on the engine's own `create_topic` /
//! `create_partitions` / `delete_topic` commands
//! (the same checks, limits and error codes as the UI's and the CLI's), DescribeConfigs for a
//! topic's configs (every one Kite knows, its value, and whether it is the topic's own or the
//! default) and IncrementalAlterConfigs to set or remove them, or AlterConfigs to replace them
//! all (both the engine's `alter_topic_config`); DescribeConfigs for a broker's configs too, which
//! are static (read-only while the cluster runs, as Kafka has the ones Kite honours).

use bytes::Bytes;
use kafka_protocol::messages::alter_configs_response as legacy;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{
    AlterConfigsRequest, AlterConfigsResponse, ApiKey, CreatePartitionsRequest, CreatePartitionsResponse,
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse,
};
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, respond};
use crate::api::{BrokerConfigView, Command, Reply, TopicDescription};
use crate::cluster::Cluster;
use crate::config::{
    AUTO_LEADER_REBALANCE_ENABLE, DYNAMIC_BROKER_CONFIG_NAMES, REPLICA_FETCH_MAX_BYTES, TopicConfig,
};
use crate::error::ErrorCode;

/// Kafka's `num.partitions` default: a CreateTopics asking -1 partitions gets this many.
const DEFAULT_NUM_PARTITIONS: i32 = 1;

/// One of the topic admin APIs.
pub(super) fn answer(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    match request.api {
        ApiKey::CreateTopics => create(connection, cluster, request, body),
        ApiKey::DeleteTopics => delete(connection, cluster, request, body),
        ApiKey::CreatePartitions => create_partitions(connection, cluster, request, body),
        ApiKey::DescribeConfigs => describe_configs(connection, cluster, request, body),
        ApiKey::AlterConfigs => alter_configs(connection, cluster, request, body),
        // Where partitions live and who leads them.
        ApiKey::AlterPartitionReassignments
        | ApiKey::ListPartitionReassignments
        | ApiKey::ElectLeaders
        | ApiKey::UnregisterBroker => super::reassignments::answer(connection, cluster, request, body),
        _ => incremental_alter_configs(connection, cluster, request, body),
    }
}

/// CreateTopics: each topic created as `kafka-topics --create` would (a manual replica assignment
/// is INVALID_REQUEST: not served). `validate_only` checks that the name is free and creates
/// nothing.
fn create(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: CreateTopicsRequest = decode(request, body)?;
    let mut results = Vec::with_capacity(asked.topics.len());
    for topic in asked.topics {
        let result = CreatableTopicResult::default().with_name(topic.name.clone());
        let refuse = |code: i16, message: String| {
            result.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
        };
        let name = topic.name.0.to_string();
        if !topic.assignments.is_empty() {
            results.push(refuse(
                ErrorCode::InvalidRequest.code(),
                "Kite places replicas itself: a manual replica assignment is not served.".into(),
            ));
            continue;
        }
        if asked.validate_only {
            let exists = matches!(connection.ask(cluster, request.now_ms, Command::ListTopics),
                Reply::Topics { topics } if topics.iter().any(|t| t.name == name));
            results.push(if exists {
                refuse(ErrorCode::TopicAlreadyExists.code(), format!("Topic '{name}' already exists."))
            } else {
                result
            });
            continue;
        }
        let command = Command::CreateTopic {
            name,
            partitions: if topic.num_partitions == -1 {
                DEFAULT_NUM_PARTITIONS
            } else {
                topic.num_partitions
            },
            configs: topic
                .configs
                .iter()
                .filter_map(|c| c.value.as_ref().map(|v| (c.name.to_string(), v.to_string())))
                .collect(),
            replication_factor: (topic.replication_factor != -1).then_some(topic.replication_factor),
        };
        let reply = connection.ask(cluster, request.now_ms, command);
        results.push(created(result, reply, request.version));
    }
    respond(request, &CreateTopicsResponse::default().with_topics(results))
}

/// A topic's result in a CreateTopics response at `version`, from the engine's `create_topic`
/// reply (the listener's answer, and the inspector's for the UI's own creates).
pub(super) fn created(result: CreatableTopicResult, reply: Reply, version: i16) -> CreatableTopicResult {
    let refuse = |code: i16, message: String| {
        result.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
    };
    match reply {
        Reply::TopicCreated { topic, .. } if version >= 5 => {
            let replicas = topic.partitions.first().map_or(0, |p| p.replicas.len());
            result
                .with_num_partitions(i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX))
                .with_replication_factor(i16::try_from(replicas).unwrap_or(i16::MAX))
        }
        Reply::TopicCreated { .. } => result,
        Reply::Error(error) => refuse(error.error.code(), error.message),
        _ => refuse(ErrorCode::InvalidRequest.code(), "The engine did not answer as a create.".into()),
    }
}

/// DeleteTopics: each topic deleted as `kafka-topics --delete` would (internal topics refused).
fn delete(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DeleteTopicsRequest = decode(request, body)?;
    let mut responses = Vec::with_capacity(asked.topic_names.len());
    for name in asked.topic_names {
        let result = DeletableTopicResult::default().with_name(Some(name.clone()));
        let answer =
            connection.ask(cluster, request.now_ms, Command::DeleteTopic { name: name.0.to_string() });
        responses.push(match answer {
            Reply::TopicDeleted { .. } => result,
            Reply::Error(error) if request.version >= 5 => result
                .with_error_code(error.error.code())
                .with_error_message(Some(StrBytes::from_string(error.message))),
            Reply::Error(error) => result.with_error_code(error.error.code()),
            _ => result.with_error_code(ErrorCode::InvalidRequest.code()),
        });
    }
    respond(request, &DeleteTopicsResponse::default().with_responses(responses))
}

/// CreatePartitions (`kafka-topics --alter --partitions`, the admin clients'
/// `createPartitions`): each topic grown on the engine's own `create_partitions`. Kite places the
/// new replicas itself, as for a new topic: a manual assignment is INVALID_REQUEST. With
/// `validate_only`, the count is checked against the topic's and nothing changes.
fn create_partitions(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: CreatePartitionsRequest = decode(request, body)?;
    let mut results = Vec::with_capacity(asked.topics.len());
    for topic in asked.topics {
        let name = topic.name.0.to_string();
        let result =
            CreatePartitionsTopicResult::default().with_name(topic.name.clone()).with_error_message(None);
        let refuse = |code: ErrorCode, message: String| {
            result
                .clone()
                .with_error_code(code.code())
                .with_error_message(Some(StrBytes::from_string(message)))
        };
        let command = Command::CreatePartitions { topic: name.clone(), count: topic.count };
        let answer = if topic.assignments.is_some() {
            Reply::Error(crate::error::KafkaError::new(
                ErrorCode::InvalidRequest,
                "Kite places new partitions' replicas itself: leave the assignment out.".to_string(),
            ))
        } else if asked.validate_only {
            validate_partitions(connection, cluster, request.now_ms, &name, topic.count)
        } else {
            connection.ask(cluster, request.now_ms, command)
        };
        results.push(match answer {
            Reply::PartitionsCreated { .. } => result,
            Reply::Error(error) => refuse(error.error, error.message),
            _ => refuse(ErrorCode::InvalidRequest, "unexpected answer".into()),
        });
    }
    respond(request, &CreatePartitionsResponse::default().with_results(results))
}

/// A CreatePartitions with `validate_only`: the topic's count now against the one asked.
fn validate_partitions(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    name: &str,
    count: i32,
) -> Reply {
    let topics = match connection.ask(cluster, now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics,
        other => return other,
    };
    let refusal = match topics.into_iter().find(|t| t.name == name) {
        None => crate::cluster::unknown_topic(name),
        Some(topic) if count <= topic.partitions.len() as i32 => crate::error::KafkaError::new(
            ErrorCode::InvalidPartitions,
            crate::replication::controller::partitions_refusal(topic.partitions.len() as i32, count),
        ),
        Some(topic) => match crate::topic::validate_partition_count(count) {
            Ok(()) => return Reply::PartitionsCreated { topic },
            Err(error) => error,
        },
    };
    Reply::Error(refusal)
}

/// Why an alter of another resource's configs, or one asked as `validate_only`, is refused.
const ALTER_NOT_SERVED: &str =
    "Kite alters topic and broker configs only (resource types 2 and 4), and not as validate_only.";

/// Every topic as the engine describes it (none if it answers otherwise).
fn list_topics(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
) -> Vec<TopicDescription> {
    match connection.ask(cluster, now_ms, Command::ListTopics) {
        Reply::Topics { topics } => topics,
        _ => Vec::new(),
    }
}

/// DescribeConfigs' resource type for a topic (Kafka's `ConfigResource.Type.TOPIC`).
const TOPIC_RESOURCE: i8 = 2;
/// DescribeConfigs' resource type for a broker (`ConfigResource.Type.BROKER`).
const BROKER_RESOURCE: i8 = 4;
/// Where a broker config's value comes from (Kafka's `ConfigSource`): set on the broker while it
/// runs, set as every broker's default while they run, set at start.
const DYNAMIC_BROKER_CONFIG_SOURCE: i8 = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG_SOURCE: i8 = 3;
const STATIC_BROKER_CONFIG_SOURCE: i8 = 4;
/// Where a config's value comes from (Kafka's `ConfigSource`): the topic's own, or the default.
const TOPIC_CONFIG_SOURCE: i8 = 1;
const DEFAULT_CONFIG_SOURCE: i8 = 5;

/// DescribeConfigs for topics and brokers: each config Kite knows (or those asked), its value, and
/// where it comes from (a broker's resolved as Kafka resolves it; the empty broker name lists the
/// cluster-wide dynamic defaults). Other resources (groups, …) are INVALID_REQUEST: not served.
fn describe_configs(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DescribeConfigsRequest = decode(request, body)?;
    let topics = list_topics(connection, cluster, request.now_ms);
    let brokers: Vec<i32> = match connection.ask(cluster, request.now_ms, Command::DescribeCluster) {
        Reply::ClusterDescribed { brokers, .. } => brokers.iter().map(|b| b.id).collect(),
        _ => Vec::new(),
    };
    let results = asked
        .resources
        .into_iter()
        .map(|resource| {
            let result = DescribeConfigsResult::default()
                .with_error_message(None)
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let refuse = |code: i16, message: String| {
                result.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
            };
            let wanted = |name: &str| {
                resource
                    .configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.is_empty() || keys.iter().any(|k| k.as_str() == name))
            };
            if resource.resource_type == BROKER_RESOURCE {
                let name = resource.resource_name.as_str();
                // The empty name is the cluster-wide dynamic defaults.
                let broker = match broker_resource(name) {
                    Ok(Some(id)) if brokers.contains(&id) => Some(id),
                    Ok(None) => None,
                    _ => {
                        let known: Vec<String> = brokers.iter().map(i32::to_string).collect();
                        let message = format!(
                            "Broker '{name}' is not in this cluster (brokers: {}).",
                            known.join(", ")
                        );
                        return refuse(ErrorCode::InvalidRequest.code(), message);
                    }
                };
                let configs = cluster.broker_configs_of(broker);
                let configs = configs.iter().filter(|c| wanted(&c.name));
                return result.with_configs(configs.map(|c| broker_entry(c, request.version)).collect());
            }
            if resource.resource_type != TOPIC_RESOURCE {
                return refuse(
                    ErrorCode::InvalidRequest.code(),
                    "Kite describes topic and broker configs only (resource types 2 and 4).".into(),
                );
            }
            let Some(topic) = topics.iter().find(|t| t.name == resource.resource_name.as_str()) else {
                return refuse(
                    ErrorCode::UnknownTopicOrPartition.code(),
                    format!("Topic '{}' does not exist.", resource.resource_name.as_str()),
                );
            };
            let config = match TopicConfig::from_overrides(&topic.configs) {
                Ok(config) => config,
                Err(error) => return refuse(error.error.code(), error.message),
            };
            let configs = config
                .entries()
                .into_iter()
                .filter(|(name, _)| wanted(name))
                .map(|(name, value)| {
                    let own = topic.configs.contains_key(name);
                    let entry = DescribeConfigsResourceResult::default()
                        .with_name(StrBytes::from_static_str(name))
                        .with_value(Some(StrBytes::from_string(value)))
                        .with_config_source(if own { TOPIC_CONFIG_SOURCE } else { DEFAULT_CONFIG_SOURCE });
                    if request.version >= 3 { entry.with_config_type(config_type(name)) } else { entry }
                })
                .collect();
            result.with_configs(configs)
        })
        .collect();
    respond(request, &DescribeConfigsResponse::default().with_results(results))
}

/// A broker config as DescribeConfigs lists it: where its value comes from, and read-only unless
/// it may be updated dynamically.
fn broker_entry(config: &BrokerConfigView, version: i16) -> DescribeConfigsResourceResult {
    const BOOLEAN: i8 = 1;
    const INT: i8 = 3;
    const LONG: i8 = 5;
    let source = match config.source.as_str() {
        "DYNAMIC_BROKER_CONFIG" => DYNAMIC_BROKER_CONFIG_SOURCE,
        "DYNAMIC_DEFAULT_BROKER_CONFIG" => DYNAMIC_DEFAULT_BROKER_CONFIG_SOURCE,
        "STATIC_BROKER_CONFIG" => STATIC_BROKER_CONFIG_SOURCE,
        _ => DEFAULT_CONFIG_SOURCE,
    };
    let entry = DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(config.name.clone()))
        .with_value(Some(StrBytes::from_string(config.value.clone())))
        .with_read_only(!DYNAMIC_BROKER_CONFIG_NAMES.contains(&config.name.as_str()))
        .with_config_source(source);
    let kind = match config.name.as_str() {
        AUTO_LEADER_REBALANCE_ENABLE => BOOLEAN,
        REPLICA_FETCH_MAX_BYTES => INT,
        _ => LONG,
    };
    if version >= 3 { entry.with_config_type(kind) } else { entry }
}

/// A BROKER resource's name: a broker id, or empty for every broker's default.
fn broker_resource(name: &str) -> Result<Option<i32>, String> {
    if name.is_empty() {
        return Ok(None);
    }
    name.parse()
        .map(Some)
        .map_err(|_| format!("'{name}' is not a broker id (or empty, for the cluster-wide default)."))
}

/// Kafka's `ConfigType` of a topic config (DescribeConfigs v3+).
fn config_type(name: &str) -> i8 {
    const BOOLEAN: i8 = 1;
    const STRING: i8 = 2;
    const INT: i8 = 3;
    const LONG: i8 = 5;
    const DOUBLE: i8 = 6;
    const LIST: i8 = 7;
    match name {
        "cleanup.policy"
        | "leader.replication.throttled.replicas"
        | "follower.replication.throttled.replicas" => LIST,
        "segment.bytes" | "min.insync.replicas" | "max.message.bytes" => INT,
        "message.timestamp.type" | "compression.type" => STRING,
        "unclean.leader.election.enable" => BOOLEAN,
        "min.cleanable.dirty.ratio" => DOUBLE,
        _ => LONG,
    }
}

/// AlterConfigs (the older, whole-set API kafka-python's `alter_configs` sends): a topic's
/// overrides (or a broker's dynamic configs) become exactly the configs given, the others back to
/// their defaults, on the same engine commands as IncrementalAlterConfigs.
fn alter_configs(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: AlterConfigsRequest = decode(request, body)?;
    let topics = list_topics(connection, cluster, request.now_ms);
    let responses = asked
        .resources
        .into_iter()
        .map(|resource| {
            let answer = legacy::AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let refuse = |code: i16, message: String| {
                answer.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
            };
            let broker = resource.resource_type == BROKER_RESOURCE;
            if !(broker || resource.resource_type == TOPIC_RESOURCE) || asked.validate_only {
                return refuse(ErrorCode::InvalidRequest.code(), ALTER_NOT_SERVED.into());
            }
            let set: std::collections::BTreeMap<String, String> = resource
                .configs
                .iter()
                .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())))
                .collect();
            let name = resource.resource_name.to_string();
            if broker {
                // The legacy AlterConfigs replaces the entity's dynamic configs whole: what it
                // leaves out is deleted.
                let broker = match broker_resource(&name) {
                    Ok(broker) => broker,
                    Err(message) => return refuse(ErrorCode::InvalidRequest.code(), message),
                };
                let dynamic = cluster.broker_config_views();
                let delete = dynamic
                    .iter()
                    .filter(|v| {
                        v.source.starts_with("DYNAMIC") && v.broker == broker && !set.contains_key(&v.name)
                    })
                    .map(|v| v.name.clone())
                    .collect();
                return match connection.ask(
                    cluster,
                    request.now_ms,
                    Command::AlterBrokerConfig { broker, set, delete },
                ) {
                    Reply::Error(error) => refuse(error.error.code(), error.message),
                    _ => answer,
                };
            }
            // What the topic overrides now and the request leaves out goes back to its default.
            let delete: Vec<String> = topics
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.configs.keys().filter(|k| !set.contains_key(*k)).cloned().collect())
                .unwrap_or_default();
            match connection.ask(cluster, request.now_ms, Command::AlterTopicConfig { name, set, delete }) {
                Reply::Error(error) => refuse(error.error.code(), error.message),
                _ => answer,
            }
        })
        .collect();
    respond(request, &AlterConfigsResponse::default().with_responses(responses))
}

/// IncrementalAlterConfigs for topics and brokers: SET (0) and DELETE (1) of each config, all of a
/// resource's at once through the engine's `alter_topic_config` or `alter_broker_config` (their
/// validation and errors; a broker's name is its id, or empty for every broker's default).
/// APPEND and SUBTRACT (list configs), other resources and `validate_only` are INVALID_REQUEST:
/// not served.
fn incremental_alter_configs(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    const SET: i8 = 0;
    const DELETE: i8 = 1;
    let asked: IncrementalAlterConfigsRequest = decode(request, body)?;
    let responses = asked
        .resources
        .into_iter()
        .map(|resource| {
            let answer = AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let refuse = |code: i16, message: String| {
                answer.clone().with_error_code(code).with_error_message(Some(StrBytes::from_string(message)))
            };
            let broker = resource.resource_type == BROKER_RESOURCE;
            if !(broker || resource.resource_type == TOPIC_RESOURCE) || asked.validate_only {
                return refuse(ErrorCode::InvalidRequest.code(), ALTER_NOT_SERVED.into());
            }
            let (mut set, mut delete) = (std::collections::BTreeMap::new(), Vec::new());
            for config in &resource.configs {
                match (config.config_operation, &config.value) {
                    (SET, Some(value)) => {
                        set.insert(config.name.to_string(), value.to_string());
                    }
                    (DELETE, _) => delete.push(config.name.to_string()),
                    (operation, _) => {
                        let message = format!(
                            "Operation {operation} on {} is not served (SET with a value and DELETE are).",
                            config.name.as_str()
                        );
                        return refuse(ErrorCode::InvalidRequest.code(), message);
                    }
                }
            }
            let name = resource.resource_name.to_string();
            let command = match broker {
                true => match broker_resource(&name) {
                    Ok(broker) => Command::AlterBrokerConfig { broker, set, delete },
                    Err(message) => return refuse(ErrorCode::InvalidRequest.code(), message),
                },
                false => Command::AlterTopicConfig { name, set, delete },
            };
            match connection.ask(cluster, request.now_ms, command) {
                Reply::Error(error) => refuse(error.error.code(), error.message),
                _ => answer,
            }
        })
        .collect();
    respond(request, &IncrementalAlterConfigsResponse::default().with_responses(responses))
}
