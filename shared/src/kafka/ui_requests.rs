//! The UI's own actions as the Kafka requests a client would send for them, kept in the protocol
//! inspector beside what real clients sent. In the tab no Kafka client can connect, so this is
//! where a learner sees that "Send" is a ProduceRequest v11 carrying the very batch the leader
//! stored. Requests are encoded with kafka-protocol's client half; responses by the front end's
//! own `respond`, from the engine's reply, as the listener would have answered.

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, EndTxnRequest, EndTxnResponse, ProduceRequest,
    ProduceResponse, ProducerId, RequestHeader, TopicName, TransactionalId,
};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};

use super::{Request, inspector, respond, topics_admin};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;
use crate::config::Acks;
use crate::record::batch::stamp_offset_and_epoch;

/// The `client.id` the UI's requests carry.
pub const UI_CLIENT_ID: &str = "kite-ui";
/// The connection the inspector lists the UI's requests under (Kafka clients' count from 1).
pub const UI_CONNECTION: u64 = 0;

/// The versions shown: what a Kafka 3 Java client sends, within what Kite's listener serves.
const PRODUCE_VERSION: i16 = 11;
const CREATE_TOPICS_VERSION: i16 = 6;
const END_TXN_VERSION: i16 = 3;

/// The Java client's `request.timeout.ms` default, which its requests carry as `timeout_ms`.
const REQUEST_TIMEOUT_MS: i32 = 30_000;

/// Whether [`inspect`] shows `command` (a host copies only those before the engine takes them).
pub fn shows(command: &Command) -> bool {
    matches!(command, Command::Produce { .. } | Command::CreateTopic { .. } | Command::EndTransaction { .. })
}

/// A command the UI sent and the engine's reply: kept as a Kafka request and its response when
/// the command is one a Kafka client makes (a produce, a new topic, a transaction's end) and it
/// got that far; anything else is left out. Reads the cluster only: a replay, which does not
/// come here, builds the same engine.
pub fn inspect(cluster: &mut Cluster, now_ms: i64, command: &Command, reply: &Reply) {
    // The UI numbers its requests as the inspector numbers exchanges, as a client counts its own.
    let correlation_id = i32::try_from(cluster.kafka_exchanges().next_id()).unwrap_or(i32::MAX);
    let Some(shown) = shown(cluster, command, reply, correlation_id) else { return };
    let exchanges = cluster.kafka_exchanges();
    let id = exchanges.request(UI_CONNECTION, shown.broker, now_ms, &shown.request, false);
    let outcome = match &shown.response {
        Some(response) => inspector::Outcome::answered(response),
        None => inspector::Outcome::NoResponse,
    };
    exchanges.settle(id, Some(UI_CLIENT_ID), outcome);
}

fn shown(cluster: &Cluster, command: &Command, reply: &Reply, correlation_id: i32) -> Option<Shown> {
    match (command, reply) {
        (
            Command::Produce { topic, acks, producer, .. },
            Reply::Produced { partition, offset, timestamp_ms, .. },
        ) => {
            let transactional_id = producer.as_ref().and_then(|p| p.transactional_id.clone());
            produce(
                cluster,
                (topic, *partition, *offset, *timestamp_ms),
                *acks,
                transactional_id,
                correlation_id,
            )
        }
        (Command::CreateTopic { name, partitions, configs, replication_factor }, reply) => {
            let topic = CreatableTopic::default()
                .with_name(TopicName(StrBytes::from_string(name.clone())))
                .with_num_partitions(*partitions)
                .with_replication_factor(replication_factor.unwrap_or(-1))
                .with_configs(configs.iter().map(|(k, v)| config(k, v)).collect());
            let result = CreatableTopicResult::default().with_name(topic.name.clone());
            let request =
                CreateTopicsRequest::default().with_topics(vec![topic]).with_timeout_ms(REQUEST_TIMEOUT_MS);
            let created = topics_admin::created(result, reply.clone(), CREATE_TOPICS_VERSION);
            let response = CreateTopicsResponse::default().with_topics(vec![created]);
            let api = (ApiKey::CreateTopics, CREATE_TOPICS_VERSION);
            Shown::new((cluster.controller_broker(), correlation_id), api, &request, Some(&response))
        }
        (Command::EndTransaction { transactional_id, producer_id, producer_epoch, commit }, reply) => {
            let request = EndTxnRequest::default()
                .with_transactional_id(TransactionalId(StrBytes::from_string(transactional_id.clone())))
                .with_producer_id(ProducerId(*producer_id))
                .with_producer_epoch(*producer_epoch)
                .with_committed(*commit);
            let error = if let Reply::Error(e) = reply { e.error.code() } else { 0 };
            let response = EndTxnResponse::default()
                .with_error_code(error)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
            let broker = cluster.transaction_coordinator_now(transactional_id)?;
            Shown::new((broker, correlation_id), (ApiKey::EndTxn, END_TXN_VERSION), &request, Some(&response))
        }
        _ => None,
    }
}

fn config(name: &str, value: &str) -> CreatableTopicConfig {
    CreatableTopicConfig::default()
        .with_name(StrBytes::from_string(name.to_string()))
        .with_value(Some(StrBytes::from_string(value.to_string())))
}

/// One exchange as a client would have had it.
struct Shown {
    broker: i32,
    /// The request frame without its size prefix (as a listener reads it).
    request: Vec<u8>,
    /// The response frame, size prefix included; `None` for a produce with acks=0.
    response: Option<Vec<u8>>,
}

impl Shown {
    /// The exchange of `request` to `broker` (with its correlation id) and `response`.
    fn new<Q: Encodable + HeaderVersion, R: Encodable + HeaderVersion>(
        (broker, correlation_id): (i32, i32),
        (api, version): (ApiKey, i16),
        request: &Q,
        response: Option<&R>,
    ) -> Option<Shown> {
        let header = RequestHeader::default()
            .with_request_api_key(api as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(UI_CLIENT_ID)));
        let mut frame = bytes::BytesMut::new();
        header.encode(&mut frame, Q::header_version(version)).ok()?;
        request.encode(&mut frame, version).ok()?;
        let response = match response {
            Some(response) => {
                Some(respond(Request { api, version, correlation_id, now_ms: 0 }, response).ok()?)
            }
            None => None,
        };
        Some(Shown { broker, request: frame.to_vec(), response })
    }
}

/// A produce of one record: the batch the leader stored, as the producer sent it (base offset
/// 0 and no leader epoch: the leader stamps both), and the offset it got.
fn produce(
    cluster: &Cluster,
    (topic, partition, offset, timestamp_ms): (&str, i32, i64, i64),
    acks: Acks,
    transactional_id: Option<String>,
    correlation_id: i32,
) -> Option<Shown> {
    // Under acks=0 the producer hears no offset: its record is the leader's last.
    let stored = cluster.stored_batch(topic, partition, (offset >= 0).then_some(offset))?;
    let mut batch = stored.bytes;
    stamp_offset_and_epoch(&mut batch, 0, -1);
    let name = TopicName(StrBytes::from_string(topic.to_string()));
    let request = ProduceRequest::default()
        .with_transactional_id(transactional_id.map(|id| TransactionalId(StrBytes::from_string(id))))
        .with_acks(match acks {
            Acks::All => -1,
            Acks::Leader => 1,
            Acks::None => 0,
        })
        .with_timeout_ms(REQUEST_TIMEOUT_MS)
        .with_topic_data(vec![TopicProduceData::default().with_name(name.clone()).with_partition_data(
            vec![
                PartitionProduceData::default().with_index(partition).with_records(Some(Bytes::from(batch))),
            ],
        )]);
    let appended = PartitionProduceResponse::default()
        .with_index(partition)
        .with_base_offset(offset)
        .with_log_append_time_ms(if stored.log_append_time { timestamp_ms } else { -1 })
        .with_log_start_offset(stored.log_start_offset);
    let response = ProduceResponse::default().with_responses(vec![
        TopicProduceResponse::default().with_name(name).with_partition_responses(vec![appended]),
    ]);
    let response = (acks != Acks::None).then_some(&response);
    Shown::new((stored.leader, correlation_id), (ApiKey::Produce, PRODUCE_VERSION), &request, response)
}
