//! The Kafka front end fed what no client sends: every served request, at every served version,
//! with bytes flipped, cut short, repeated, or an array count made huge — 20,000 frames from a
//! fixed seed. Each is answered or closes its connection; nothing panics, nothing aborts (this
//! binary maps huge blocks lazily, as `kite serve` does), and the engine answers afterwards.

use bytes::BytesMut;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::alter_configs_request::{
    AlterConfigsResource as LegacyAlterConfigsResource, AlterableConfig as LegacyAlterableConfig,
};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{DeleteRecordsPartition, DeleteRecordsTopic};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{OffsetFetchRequestGroup, OffsetFetchRequestTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, DescribeTransactionsRequest, EndTxnRequest,
    ListTransactionsRequest, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::messages::{
    AlterConfigsRequest, CreatePartitionsRequest, DeleteRecordsRequest, DescribeConfigsRequest,
    IncrementalAlterConfigsRequest, OffsetForLeaderEpochRequest,
};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, DeleteGroupsRequest, DeleteTopicsRequest,
    DescribeClusterRequest, DescribeGroupsRequest, FetchRequest, FindCoordinatorRequest, GroupId,
    HeartbeatRequest, InitProducerIdRequest, JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest,
    ListOffsetsRequest, MetadataRequest, OffsetCommitRequest, OffsetFetchRequest, ProduceRequest, ProducerId,
    RequestHeader, SaslAuthenticateRequest, SaslHandshakeRequest, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::Cluster;
use kite_shared::kafka::{AdvertisedBroker, KafkaConnection, KafkaListener};
use kite_shared::random::Rng;

// Linked for its global allocator (huge blocks mapped lazily), as the `kite` binary links it.
use kite_backend as _;

const NOW_MS: i64 = 1_700_000_000_000;
/// Mutated frames fed in one run.
const FRAMES: usize = 20_000;

/// One valid request of `api` at `version`, framed.
fn request(api: ApiKey, version: i16) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("mutant")));
    let mut bytes = BytesMut::new();
    header.encode(&mut bytes, api.request_header_version(version)).unwrap();
    let orders = || TopicName(StrBytes::from_static_str("orders"));
    match api {
        ApiKey::ApiVersions => ApiVersionsRequest::default().encode(&mut bytes, version),
        ApiKey::Metadata => MetadataRequest::default()
            .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(orders()))]))
            .encode(&mut bytes, version),
        ApiKey::Produce => ProduceRequest::default().with_acks(-1).encode(&mut bytes, version),
        ApiKey::Fetch => FetchRequest::default().with_max_wait_ms(0).encode(&mut bytes, version),
        ApiKey::ListOffsets => ListOffsetsRequest::default().encode(&mut bytes, version),
        other => {
            bytes.extend_from_slice(&request_body(other, version));
            Ok(())
        }
    }
    .unwrap();
    let mut framed = (bytes.len() as i32).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    framed
}

/// A group API's (the admin ones too), InitProducerId's or a transaction API's request body, with a
/// member, an assignment and an offset for mutations to hit.
fn request_body(api: ApiKey, version: i16) -> Vec<u8> {
    fn body<T: Encodable>(version: i16, request: T) -> Vec<u8> {
        let mut bytes = BytesMut::new();
        request.encode(&mut bytes, version).unwrap();
        bytes.to_vec()
    }
    let billing = || GroupId(StrBytes::from_static_str("billing"));
    let member = || StrBytes::from_static_str("mutant-0-1");
    let orders = || TopicName(StrBytes::from_static_str("orders"));
    let tx = || TransactionalId(StrBytes::from_static_str("mutant-tx"));
    match api {
        ApiKey::FindCoordinator if version >= 4 => {
            body(version, FindCoordinatorRequest::default().with_coordinator_keys(vec![billing().0]))
        }
        ApiKey::FindCoordinator => body(version, FindCoordinatorRequest::default().with_key(billing().0)),
        ApiKey::JoinGroup => body(
            version,
            JoinGroupRequest::default()
                .with_group_id(billing())
                .with_session_timeout_ms(10_000)
                .with_member_id(member())
                .with_protocol_type(StrBytes::from_static_str("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(StrBytes::from_static_str("range"))
                        .with_metadata(bytes::Bytes::from_static(&[0, 3, 0, 0, 0, 1, 0, 6])),
                ]),
        ),
        ApiKey::SyncGroup => body(
            version,
            SyncGroupRequest::default().with_group_id(billing()).with_member_id(member()).with_assignments(
                vec![
                    SyncGroupRequestAssignment::default()
                        .with_member_id(member())
                        .with_assignment(bytes::Bytes::from_static(&[0, 3, 0, 0, 0, 1, 0, 6, b'o'])),
                ],
            ),
        ),
        ApiKey::Heartbeat => {
            body(version, HeartbeatRequest::default().with_group_id(billing()).with_member_id(member()))
        }
        ApiKey::LeaveGroup if version >= 3 => body(
            version,
            LeaveGroupRequest::default()
                .with_group_id(billing())
                .with_members(vec![MemberIdentity::default().with_member_id(member())]),
        ),
        ApiKey::LeaveGroup => {
            body(version, LeaveGroupRequest::default().with_group_id(billing()).with_member_id(member()))
        }
        ApiKey::OffsetCommit => body(
            version,
            OffsetCommitRequest::default()
                .with_group_id(billing())
                .with_generation_id_or_member_epoch(-1)
                .with_topics(vec![OffsetCommitRequestTopic::default().with_name(orders()).with_partitions(
                    vec![
                    OffsetCommitRequestPartition::default().with_partition_index(1).with_committed_offset(7),
                ],
                )]),
        ),
        ApiKey::OffsetFetch if version >= 8 => body(
            version,
            OffsetFetchRequest::default()
                .with_groups(vec![OffsetFetchRequestGroup::default().with_group_id(billing())]),
        ),
        ApiKey::OffsetFetch => body(
            version,
            OffsetFetchRequest::default().with_group_id(billing()).with_topics(Some(vec![
                OffsetFetchRequestTopic::default().with_name(orders()).with_partition_indexes(vec![0, 1]),
            ])),
        ),
        ApiKey::ListGroups => body(version, ListGroupsRequest::default()),
        ApiKey::DescribeGroups => {
            body(version, DescribeGroupsRequest::default().with_groups(vec![billing()]))
        }
        ApiKey::DeleteGroups => {
            body(version, DeleteGroupsRequest::default().with_groups_names(vec![billing()]))
        }
        ApiKey::InitProducerId => body(
            version,
            InitProducerIdRequest::default().with_transactional_id(None).with_producer_id(ProducerId(-1)),
        ),
        ApiKey::CreateTopics => body(
            version,
            CreateTopicsRequest::default().with_topics(vec![
                CreatableTopic::default()
                    .with_name(orders())
                    .with_num_partitions(3)
                    .with_replication_factor(3),
            ]),
        ),
        ApiKey::DeleteTopics => {
            let doomed = TopicName(StrBytes::from_static_str("doomed"));
            body(version, DeleteTopicsRequest::default().with_topic_names(vec![doomed]))
        }
        ApiKey::DescribeCluster => body(version, DescribeClusterRequest::default().with_endpoint_type(1)),
        ApiKey::OffsetForLeaderEpoch => body(
            version,
            OffsetForLeaderEpochRequest::default().with_replica_id((-1).into()).with_topics(vec![
                OffsetForLeaderTopic::default().with_topic(orders()).with_partitions(vec![
                    OffsetForLeaderPartition::default().with_current_leader_epoch(0).with_leader_epoch(0),
                ]),
            ]),
        ),
        ApiKey::IncrementalAlterConfigs => body(
            version,
            IncrementalAlterConfigsRequest::default().with_resources(vec![
                AlterConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(orders().0)
                    .with_configs(vec![
                        AlterableConfig::default()
                            .with_name(StrBytes::from_static_str("retention.ms"))
                            .with_value(Some(StrBytes::from_static_str("60000"))),
                    ]),
            ]),
        ),
        ApiKey::DescribeConfigs => body(
            version,
            DescribeConfigsRequest::default().with_resources(vec![
                DescribeConfigsResource::default().with_resource_type(2).with_resource_name(orders().0),
            ]),
        ),
        ApiKey::SaslHandshake => {
            body(version, SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN")))
        }
        ApiKey::SaslAuthenticate => body(
            version,
            SaslAuthenticateRequest::default()
                .with_auth_bytes(bytes::Bytes::from_static(b"\0mutant\0classroom")),
        ),
        ApiKey::DeleteRecords => body(
            version,
            DeleteRecordsRequest::default().with_timeout_ms(30_000).with_topics(vec![
                DeleteRecordsTopic::default().with_name(orders()).with_partitions(vec![
                    DeleteRecordsPartition::default().with_partition_index(0).with_offset(1),
                ]),
            ]),
        ),
        ApiKey::CreatePartitions => body(
            version,
            CreatePartitionsRequest::default().with_timeout_ms(30_000).with_topics(vec![
                CreatePartitionsTopic::default().with_name(orders()).with_count(4).with_assignments(None),
            ]),
        ),
        ApiKey::AlterConfigs => body(
            version,
            AlterConfigsRequest::default().with_resources(vec![
                LegacyAlterConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(orders().0)
                    .with_configs(vec![
                        LegacyAlterableConfig::default()
                            .with_name(StrBytes::from_static_str("retention.ms"))
                            .with_value(Some(StrBytes::from_static_str("60000"))),
                    ]),
            ]),
        ),
        ApiKey::AddPartitionsToTxn => body(
            version,
            AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(tx())
                .with_v3_and_below_producer_id(ProducerId(1))
                .with_v3_and_below_topics(vec![
                    AddPartitionsToTxnTopic::default().with_name(orders()).with_partitions(vec![0]),
                ]),
        ),
        ApiKey::AddOffsetsToTxn => body(
            version,
            AddOffsetsToTxnRequest::default()
                .with_transactional_id(tx())
                .with_producer_id(ProducerId(1))
                .with_group_id(billing()),
        ),
        ApiKey::EndTxn => body(
            version,
            EndTxnRequest::default()
                .with_transactional_id(tx())
                .with_producer_id(ProducerId(1))
                .with_committed(true),
        ),
        ApiKey::TxnOffsetCommit => body(
            version,
            TxnOffsetCommitRequest::default()
                .with_transactional_id(tx())
                .with_group_id(billing())
                .with_producer_id(ProducerId(1))
                .with_member_id(if version >= 3 { member() } else { StrBytes::default() })
                .with_topics(vec![
                    TxnOffsetCommitRequestTopic::default().with_name(orders()).with_partitions(vec![
                        TxnOffsetCommitRequestPartition::default()
                            .with_partition_index(0)
                            .with_committed_offset(1),
                    ]),
                ]),
        ),
        ApiKey::DescribeTransactions => {
            body(version, DescribeTransactionsRequest::default().with_transactional_ids(vec![tx()]))
        }
        ApiKey::ListTransactions => body(
            version,
            ListTransactionsRequest::default().with_state_filters(vec![StrBytes::from_static_str("Ongoing")]),
        ),
        ApiKey::WriteTxnMarkers => {
            use kafka_protocol::messages::WriteTxnMarkersRequest;
            use kafka_protocol::messages::write_txn_markers_request::{
                WritableTxnMarker, WritableTxnMarkerTopic,
            };
            let topic =
                WritableTxnMarkerTopic::default().with_name(orders()).with_partition_indexes(vec![0, 1]);
            let marker = WritableTxnMarker::default()
                .with_producer_id(ProducerId(1))
                .with_transaction_result(false)
                .with_topics(vec![topic]);
            body(version, WriteTxnMarkersRequest::default().with_markers(vec![marker]))
        }
        ApiKey::AlterPartitionReassignments => {
            use kafka_protocol::messages::AlterPartitionReassignmentsRequest;
            use kafka_protocol::messages::alter_partition_reassignments_request::{
                ReassignablePartition, ReassignableTopic,
            };
            let ids = |ids: &[i32]| ids.iter().map(|&id| kafka_protocol::messages::BrokerId(id)).collect();
            let partitions = vec![
                ReassignablePartition::default().with_partition_index(0).with_replicas(Some(ids(&[2, 1, 0]))),
                ReassignablePartition::default().with_partition_index(1).with_replicas(None),
            ];
            let topic = ReassignableTopic::default().with_name(orders()).with_partitions(partitions);
            body(
                version,
                AlterPartitionReassignmentsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![topic]),
            )
        }
        ApiKey::ListPartitionReassignments => {
            use kafka_protocol::messages::ListPartitionReassignmentsRequest;
            use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
            let topic = ListPartitionReassignmentsTopics::default()
                .with_name(orders())
                .with_partition_indexes(vec![0, 1]);
            body(
                version,
                ListPartitionReassignmentsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(Some(vec![topic])),
            )
        }
        ApiKey::ElectLeaders => {
            use kafka_protocol::messages::ElectLeadersRequest;
            use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
            let topic = TopicPartitions::default().with_topic(orders()).with_partitions(vec![0, 1]);
            body(
                version,
                ElectLeadersRequest::default()
                    .with_election_type(i8::from(version > 0))
                    .with_topic_partitions(Some(vec![topic])),
            )
        }
        // A broker that is not there: mutated, it may name a real one, which then leaves.
        ApiKey::UnregisterBroker => body(
            version,
            kafka_protocol::messages::UnregisterBrokerRequest::default()
                .with_broker_id(kafka_protocol::messages::BrokerId(99)),
        ),
        other => panic!("{other:?} is served but has no request here"),
    }
}

/// `frame` changed one way or another, its size prefix mostly kept true.
fn mutate(frame: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut body = frame[4..].to_vec();
    let at = |rng: &mut Rng, len: usize| rng.next_u64() as usize % len.max(1);
    match rng.next_u64() % 5 {
        0 => {
            let i = at(rng, body.len());
            if let Some(byte) = body.get_mut(i) {
                *byte ^= 1 << (rng.next_u64() % 8);
            }
        }
        1 => body.truncate(at(rng, body.len())),
        2 => {
            // A huge count (or length) at some offset past the header.
            let i = 8 + at(rng, body.len().saturating_sub(12));
            if i + 4 <= body.len() {
                body[i..i + 4].copy_from_slice(&0x7fff_fff0_i32.to_be_bytes());
            }
        }
        3 => {
            let i = at(rng, body.len());
            let extra: Vec<u8> = (0..at(rng, 64)).map(|_| rng.next_u64() as u8).collect();
            body.splice(i..i, extra);
        }
        _ => return frame[..at(rng, frame.len())].to_vec(),
    }
    let mut framed = (body.len() as i32).to_be_bytes().to_vec();
    framed.extend(body);
    framed
}

#[test]
fn mutated_requests_are_answered_or_closed_and_never_panic() {
    let mut cluster = Cluster::replicated_in_memory(3, 3, NOW_MS);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 2,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
    let valid: Vec<Vec<u8>> = kite_shared::kafka::versions::SUPPORTED
        .iter()
        .flat_map(|&(api, min, max)| (min..=max).map(move |v| request(api, v)))
        .collect();
    let brokers: Vec<AdvertisedBroker> =
        (0..3).map(|id| AdvertisedBroker { id, host: "127.0.0.1".into(), port: 9092 + id }).collect();
    // A third of the frames at broker 0, a third at the coordinator of the group the requests
    // name, a third at a listener that wants SASL/PLAIN first.
    let coordinator = cluster.group_coordinator(NOW_MS, "billing").expect("a coordinator");
    let listeners = [(0, None), (coordinator, None), (0, Some("classroom".to_string()))].map(
        |(broker, sasl_plain_password)| KafkaListener {
            broker,
            brokers: brokers.clone(),
            sasl_plain_password,
        },
    );
    let mut rng = Rng::from_seed(20_261_204);
    let (mut answered, mut closed) = (0, 0);
    for n in 0..FRAMES {
        let frame = mutate(&valid[n % valid.len()], &mut rng);
        let mut connection = KafkaConnection::new(listeners[n % 3].clone());
        match connection.receive(&mut cluster, NOW_MS, &frame) {
            Ok(_) => answered += 1,
            Err(_) => closed += 1,
        }
        connection.close(&mut cluster, NOW_MS);
        // The protocol inspector decodes every mutated frame it kept (one answer holds the last
        // MAX_INSPECTED_EXCHANGES_PER_REPLY).
        if n % kite_shared::limits::MAX_INSPECTED_EXCHANGES_PER_REPLY == 0 {
            let inspected = cluster.handle(NOW_MS, Command::InspectKafka { after: 0 });
            assert!(matches!(inspected, Reply::KafkaExchanges { ref exchanges } if !exchanges.is_empty()));
        }
    }
    // Both outcomes happen: the mutations are not all fatal, nor all harmless.
    assert!(answered > FRAMES / 20 && closed > FRAMES / 20, "answered {answered}, closed {closed}");
    assert!(matches!(cluster.handle(NOW_MS, Command::ListTopics), Reply::Topics { .. }));
}
