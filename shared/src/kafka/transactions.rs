//! The transaction APIs a transactional producer and Kafka's admin tools send: InitProducerId
//! with a `transactional.id` (in `produce`), AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
//! TxnOffsetCommit at the transaction's coordinator (the leader of its `__transaction_state`
//! partition; NOT_COORDINATOR elsewhere), DescribeTransactions / ListTransactions, and the
//! brokers' own WriteTxnMarkers at a partition's leader. Each is the engine's coordinator
//! (`cluster::transactions`) asked on the client's behalf.

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::describe_transactions_response::{self, TopicData};
use kafka_protocol::messages::list_transactions_response;
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    ApiKey, DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TopicName, TransactionalId,
    TxnOffsetCommitRequest, TxnOffsetCommitResponse, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::{KafkaClose, KafkaConnection, Request, decode, respond};
use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError};
use crate::group::offsets_topic::OffsetCommitValue;
use crate::ids::TopicPartition;
use crate::limits::MAX_TXN_MARKER_PARTITIONS_PER_REQUEST;
use crate::txn::log::TxnState;
use crate::txn::marker::MarkerKind;

/// Kafka's OPERATION_NOT_ATTEMPTED: this partition was fine, another one of the request was not.
const OPERATION_NOT_ATTEMPTED: i16 = 55;

/// One of the transaction APIs.
pub(super) fn answer(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    match request.api {
        ApiKey::AddPartitionsToTxn => add_partitions(connection, cluster, request, body),
        ApiKey::AddOffsetsToTxn => add_offsets(connection, cluster, request, body),
        ApiKey::EndTxn => end(connection, cluster, request, body),
        ApiKey::TxnOffsetCommit => txn_offset_commit(connection, cluster, request, body),
        ApiKey::DescribeTransactions => describe(connection, cluster, request, body),
        ApiKey::WriteTxnMarkers => write_markers(connection, cluster, request, body),
        _ => list(connection, cluster, request, body),
    }
}

/// Whether this listener's broker coordinates `transactional_id` (Kafka answers NOT_COORDINATOR
/// elsewhere, and the producer looks the coordinator up again).
fn coordinates(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    transactional_id: &str,
) -> Result<(), i16> {
    match cluster.transaction_coordinator(now_ms, transactional_id) {
        Ok(id) if id == connection.listener.broker => Ok(()),
        Ok(_) => Err(ErrorCode::NotCoordinator.code()),
        Err(e) => Err(e.error.code()),
    }
}

/// The code a refusal travels with.
fn code(result: Result<(), KafkaError>) -> i16 {
    result.err().map_or(0, |e| e.error.code())
}

/// AddPartitionsToTxn (v0-3, the client's form): every partition joins, or none does — an
/// unknown one is UNKNOWN_TOPIC_OR_PARTITION and the rest OPERATION_NOT_ATTEMPTED, as Kafka
/// answers.
fn add_partitions(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: AddPartitionsToTxnRequest = decode(request, body)?;
    let id = asked.v3_and_below_transactional_id.0.as_str().to_string();
    let wanted: Vec<TopicPartition> = asked
        .v3_and_below_topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|&partition| TopicPartition { topic: t.name.0.as_str().to_string(), partition })
        })
        .collect();
    let unknown = |tp: &TopicPartition| cluster.leadership(&tp.topic, tp.partition).is_err();
    let any_unknown = wanted.iter().any(unknown);
    let codes: Vec<i16> = if any_unknown {
        wanted
            .iter()
            .map(|tp| {
                if unknown(tp) { ErrorCode::UnknownTopicOrPartition.code() } else { OPERATION_NOT_ATTEMPTED }
            })
            .collect()
    } else {
        let outcome = coordinates(connection, cluster, request.now_ms, &id).and_then(|()| {
            let producer = (asked.v3_and_below_producer_id.0, asked.v3_and_below_producer_epoch);
            match cluster.add_partitions_to_txn(request.now_ms, &id, producer, &wanted) {
                Ok(()) => Ok(()),
                Err(e) => Err(e.error.code()),
            }
        });
        vec![outcome.err().unwrap_or(0); wanted.len()]
    };
    let mut codes = codes.into_iter();
    let topics = asked
        .v3_and_below_topics
        .iter()
        .map(|t| {
            let results = t
                .partitions
                .iter()
                .map(|&partition| {
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(partition)
                        .with_partition_error_code(codes.next().unwrap_or(0))
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(t.name.clone())
                .with_results_by_partition(results)
        })
        .collect();
    respond(request, &AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics))
}

/// AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction.
fn add_offsets(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: AddOffsetsToTxnRequest = decode(request, body)?;
    let id = asked.transactional_id.0.as_str();
    let error = match coordinates(connection, cluster, request.now_ms, id) {
        Err(code) => code,
        Ok(()) => code(cluster.add_offsets_to_txn(
            request.now_ms,
            id,
            (asked.producer_id.0, asked.producer_epoch),
            asked.group_id.0.as_str(),
        )),
    };
    respond(request, &AddOffsetsToTxnResponse::default().with_error_code(error))
}

/// EndTxn: commit or abort; answered once the decision is in `__transaction_state`.
fn end(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: EndTxnRequest = decode(request, body)?;
    let id = asked.transactional_id.0.as_str();
    let error = match coordinates(connection, cluster, request.now_ms, id) {
        Err(code) => code,
        Ok(()) => code(cluster.end_txn(
            request.now_ms,
            id,
            (asked.producer_id.0, asked.producer_epoch),
            asked.committed,
        )),
    };
    let response = EndTxnResponse::default()
        .with_error_code(error)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    respond(request, &response)
}

/// TxnOffsetCommit: the consumed offsets sent in the transaction, committed with it. Sent to
/// the group's coordinator, as Kafka's producer sends it.
fn txn_offset_commit(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: TxnOffsetCommitRequest = decode(request, body)?;
    let group = asked.group_id.0.as_str();
    let offsets: Vec<(TopicPartition, OffsetCommitValue)> = asked
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                let tp =
                    TopicPartition { topic: t.name.0.as_str().to_string(), partition: p.partition_index };
                let value = OffsetCommitValue {
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p
                        .committed_metadata
                        .as_ref()
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default(),
                    commit_timestamp: request.now_ms,
                };
                (tp, value)
            })
        })
        .collect();
    let error = match super::groups::coordinates(connection, cluster, request.now_ms, group) {
        Err(code) => code,
        Ok(()) => code(cluster.txn_offset_commit(
            request.now_ms,
            asked.transactional_id.0.as_str(),
            (asked.producer_id.0, asked.producer_epoch),
            (group, asked.member_id.as_str(), asked.generation_id),
            offsets,
        )),
    };
    let topics = asked
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(error)
                })
                .collect();
            TxnOffsetCommitResponseTopic::default().with_name(t.name.clone()).with_partitions(partitions)
        })
        .collect();
    respond(request, &TxnOffsetCommitResponse::default().with_topics(topics))
}

/// DescribeTransactions: each id's state, producer, timeout, start and partitions, as
/// `kafka-transactions.sh describe` prints them; TRANSACTIONAL_ID_NOT_FOUND for an unknown id.
fn describe(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DescribeTransactionsRequest = decode(request, body)?;
    let known = cluster.transactions();
    let states = asked
        .transactional_ids
        .iter()
        .map(|id| {
            let answer = describe_transactions_response::TransactionState::default()
                .with_transactional_id(id.clone())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1)
                .with_transaction_start_time_ms(-1);
            if let Err(code) = coordinates(connection, cluster, request.now_ms, id.0.as_str()) {
                return answer.with_error_code(code);
            }
            let Some(txn) = known.iter().find(|t| t.transactional_id == id.0.as_str()) else {
                return answer.with_error_code(ErrorCode::TransactionalIdNotFound.code());
            };
            let mut topics: Vec<TopicData> = Vec::new();
            for tp in &txn.partitions {
                match topics.last_mut() {
                    Some(last) if last.topic.0.as_str() == tp.topic => last.partitions.push(tp.partition),
                    _ => topics.push(
                        TopicData::default()
                            .with_topic(TopicName(StrBytes::from_string(tp.topic.clone())))
                            .with_partitions(vec![tp.partition]),
                    ),
                }
            }
            answer
                .with_transaction_state(StrBytes::from_static_str(txn.state.name()))
                .with_transaction_timeout_ms(txn.timeout_ms)
                .with_transaction_start_time_ms(txn.start_ms)
                .with_producer_id(ProducerId(txn.producer_id))
                .with_producer_epoch(txn.producer_epoch)
                .with_topics(topics)
        })
        .collect();
    respond(request, &DescribeTransactionsResponse::default().with_transaction_states(states))
}

/// ListTransactions: the transactions this broker coordinates, filtered by state, producer id
/// and (v1) how long they have been open; unknown state names come back as Kafka returns them.
fn list(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ListTransactionsRequest = decode(request, body)?;
    let names: Vec<&str> = asked.state_filters.iter().map(|s| s.as_str()).collect();
    let known_state = |name: &str| (0..8).filter_map(TxnState::from_id).any(|s| s.name() == name);
    let unknown: Vec<StrBytes> =
        asked.state_filters.iter().filter(|s| !known_state(s.as_str())).cloned().collect();
    let mut states = Vec::new();
    for txn in cluster.transactions() {
        if coordinates(connection, cluster, request.now_ms, &txn.transactional_id).is_err() {
            continue;
        }
        let by_state = names.is_empty() || names.contains(&txn.state.name());
        let by_producer = asked.producer_id_filters.is_empty()
            || asked.producer_id_filters.iter().any(|p| p.0 == txn.producer_id);
        let by_duration = asked.duration_filter < 0
            || (txn.start_ms >= 0 && request.now_ms - txn.start_ms >= asked.duration_filter);
        if by_state && by_producer && by_duration {
            states.push(
                list_transactions_response::TransactionState::default()
                    .with_transactional_id(TransactionalId(StrBytes::from_string(
                        txn.transactional_id.clone(),
                    )))
                    .with_producer_id(ProducerId(txn.producer_id))
                    .with_transaction_state(StrBytes::from_static_str(txn.state.name())),
            );
        }
    }
    let response = ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(states);
    respond(request, &response)
}

/// WriteTxnMarkers (v1): each marker written to each partition it names, at this listener's
/// broker (`Cluster::write_txn_marker` says what is refused); past
/// `MAX_TXN_MARKER_PARTITIONS_PER_REQUEST` partitions, INVALID_REQUEST without the engine.
fn write_markers(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: WriteTxnMarkersRequest = decode(request, body)?;
    let mut named = 0;
    let mut markers = Vec::with_capacity(asked.markers.len());
    for marker in &asked.markers {
        let kind = if marker.transaction_result { MarkerKind::Commit } else { MarkerKind::Abort };
        let written = (marker.producer_id.0, marker.producer_epoch, kind, marker.coordinator_epoch);
        let mut topics = Vec::with_capacity(marker.topics.len());
        for topic in &marker.topics {
            let mut partitions = Vec::with_capacity(topic.partition_indexes.len());
            for &partition in &topic.partition_indexes {
                named += 1;
                let error = if named > MAX_TXN_MARKER_PARTITIONS_PER_REQUEST {
                    ErrorCode::InvalidRequest.code()
                } else {
                    let tp = TopicPartition { topic: topic.name.0.as_str().to_string(), partition };
                    let broker = connection.listener.broker;
                    code(cluster.write_txn_marker(request.now_ms, broker, &tp, written))
                };
                partitions.push(
                    WritableTxnMarkerPartitionResult::default()
                        .with_partition_index(partition)
                        .with_error_code(error),
                );
            }
            topics.push(
                WritableTxnMarkerTopicResult::default()
                    .with_name(topic.name.clone())
                    .with_partitions(partitions),
            );
        }
        markers.push(
            WritableTxnMarkerResult::default().with_producer_id(marker.producer_id).with_topics(topics),
        );
    }
    respond(request, &WriteTxnMarkersResponse::default().with_markers(markers))
}
