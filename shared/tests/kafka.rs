//! The Kafka front end (`kafka::KafkaConnection`) fed requests a Kafka client would send, encoded
//! by `kafka-protocol`'s client side, and its responses decoded the same way: ApiVersions (with
//! KIP-511's answer to a version it cannot read), Metadata, Produce at the leader and elsewhere,
//! `acks=0`, a fetch that waits for records, ListOffsets, a consumer group's whole life, and every
//! served version of every API.
// kafka-protocol's client side is a native dev-dependency.
#![cfg(not(target_arch = "wasm32"))]

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::alter_configs_request::{
    AlterConfigsResource as LegacyAlterConfigsResource, AlterableConfig as LegacyAlterableConfig,
};
use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{DeleteRecordsPartition, DeleteRecordsTopic};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    ListTransactionsRequest, ListTransactionsResponse, TransactionalId, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::messages::{
    AlterConfigsRequest, AlterConfigsResponse, ApiKey, ApiVersionsRequest, ApiVersionsResponse,
    ConsumerProtocolAssignment, CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest,
    CreateTopicsResponse, DeleteGroupsRequest, DeleteGroupsResponse, DeleteRecordsRequest,
    DeleteRecordsResponse, DeleteTopicsRequest, DeleteTopicsResponse, DescribeClusterRequest,
    DescribeClusterResponse, DescribeGroupsRequest, DescribeGroupsResponse, FetchRequest, FetchResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    InitProducerIdRequest, InitProducerIdResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, ListOffsetsRequest, ListOffsetsResponse,
    MetadataRequest, MetadataResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, ProduceRequest, ProduceResponse, ProducerId, RequestHeader, ResponseHeader,
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
    SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, BrokerId, ElectLeadersRequest,
    ElectLeadersResponse, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use kafka_protocol::messages::{
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::{Cluster, ListenerReach};
use kite_shared::config::BrokerConfigs;
use kite_shared::kafka::{AdvertisedBroker, KafkaConnection, KafkaListener};
use kite_shared::limits::MAX_TXN_MARKER_PARTITIONS_PER_REQUEST;
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::record::compression::Compression;

const NOW_MS: i64 = 1_700_000_000_000;

fn listener(broker: i32) -> KafkaListener {
    let brokers =
        (0..3).map(|id| AdvertisedBroker { id, host: "127.0.0.1".into(), port: 9092 + id }).collect();
    KafkaListener { broker, brokers, sasl_plain_password: None }
}

/// A three-broker cluster with `orders` (one partition, three replicas) and its leader.
fn cluster_with_orders() -> (Cluster, i32) {
    let mut cluster = Cluster::replicated_in_memory(11, 3, NOW_MS);
    let leader = create_orders(&mut cluster);
    (cluster, leader)
}

/// Creates `orders` (one partition, three replicas): its leader.
fn create_orders(cluster: &mut Cluster) -> i32 {
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    let Reply::TopicCreated { topic, .. } = cluster.handle(NOW_MS, create) else { panic!("not created") };
    topic.partitions[0].leader.expect("a leader")
}

/// A request frame as a client writes it.
fn frame<T: Encodable + HeaderVersion>(api: ApiKey, version: i16, correlation_id: i32, body: &T) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("kite-test")));
    let mut bytes = BytesMut::new();
    header.encode(&mut bytes, api.request_header_version(version)).unwrap();
    body.encode(&mut bytes, version).unwrap();
    let mut framed = (bytes.len() as i32).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    framed
}

/// The one response in `bytes`, its correlation id checked.
fn response<T: Decodable + HeaderVersion>(bytes: &[u8], version: i16, correlation_id: i32) -> T {
    let size = i32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 4 + size, "one whole response");
    let mut body = Bytes::copy_from_slice(&bytes[4..]);
    let header = ResponseHeader::decode(&mut body, T::header_version(version)).unwrap();
    assert_eq!(header.correlation_id, correlation_id);
    T::decode(&mut body, version).unwrap()
}

fn records(values: &[&str]) -> Bytes {
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| BatchRecord {
            offset_delta: i as i32,
            value: Some(v.as_bytes().to_vec()),
            ..BatchRecord::default()
        })
        .collect();
    Bytes::from(RecordBatch::new(NOW_MS, records).encode().unwrap())
}

fn produce(acks: i16, values: &[&str]) -> ProduceRequest {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records(values)));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partition_data(vec![partition]);
    ProduceRequest::default().with_acks(acks).with_timeout_ms(30_000).with_topic_data(vec![topic])
}

#[test]
fn api_versions_says_what_is_served_and_answers_a_version_it_cannot_read_in_v0() {
    let (mut cluster, _) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(0));
    let asked = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kcat"))
        .with_client_software_version(StrBytes::from_static_str("1.7.1"));
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::ApiVersions, 3, 1, &asked)).unwrap();
    let answer: ApiVersionsResponse = response(&out, 3, 1);
    assert_eq!(answer.error_code, 0);
    let served: Vec<(i16, i16, i16)> =
        answer.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
    let expected: Vec<(i16, i16, i16)> = kite_shared::kafka::versions::SUPPORTED
        .iter()
        .map(|(api, min, max)| (*api as i16, *min, *max))
        .collect();
    assert_eq!(served, expected);
    assert_eq!(connection.client().software_name, "kcat");
    assert_eq!(connection.client().client_id.as_deref(), Some("kite-test"));

    // KIP-511: version 99 cannot be read; the answer is v0's, with UNSUPPORTED_VERSION (35).
    let mut unreadable = frame(ApiKey::ApiVersions, 3, 2, &asked);
    unreadable[6..8].copy_from_slice(&99i16.to_be_bytes());
    let out = connection.receive(&mut cluster, NOW_MS, &unreadable).unwrap();
    let answer: ApiVersionsResponse = response(&out, 0, 2);
    assert_eq!(answer.error_code, 35);
    assert_eq!(answer.api_keys.len(), expected.len());
}

#[test]
fn metadata_lists_every_broker_and_creates_a_topic_asked_for() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(0));
    let asked = MetadataRequest::default().with_topics(None);
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 5, &asked)).unwrap();
    let answer: MetadataResponse = response(&out, 12, 5);
    let brokers: Vec<(i32, i32)> = answer.brokers.iter().map(|b| (b.node_id.0, b.port)).collect();
    assert_eq!(brokers, [(0, 9092), (1, 9093), (2, 9094)]);
    let orders =
        answer.topics.iter().find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some("orders")).unwrap();
    assert_eq!(orders.partitions[0].leader_id.0, leader);
    assert_eq!(orders.partitions[0].replica_nodes.len(), 3);
    // Metadata v10+ names the topic's id, the one the engine describes.
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!() };
    let described = topics.iter().find(|t| t.name == "orders").unwrap();
    let id = kite_shared::ids::TopicId::parse(&described.topic_id).expect("a topic id");
    assert_eq!(orders.topic_id.as_bytes(), &id.0);
    assert_ne!(id, kite_shared::ids::TopicId::ZERO);

    let wanted = kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
        .with_name(Some(TopicName(StrBytes::from_static_str("payments"))));
    let asked =
        MetadataRequest::default().with_topics(Some(vec![wanted])).with_allow_auto_topic_creation(true);
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 6, &asked)).unwrap();
    let answer: MetadataResponse = response(&out, 12, 6);
    assert_eq!(answer.topics.len(), 1);
    assert_eq!(answer.topics[0].error_code, 0, "created with the broker's defaults");
    assert_eq!(answer.topics[0].partitions.len(), 1);
}

#[test]
fn produce_is_taken_by_the_leader_only_and_acks_0_hears_nothing() {
    let (mut cluster, leader) = cluster_with_orders();
    let follower = (leader + 1) % 3;
    let mut at_follower = KafkaConnection::new(listener(follower));
    let out = at_follower
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 3, &produce(-1, &["a"])))
        .unwrap();
    let answer: ProduceResponse = response(&out, 9, 3);
    let refused = &answer.responses[0].partition_responses[0];
    assert_eq!(refused.error_code, 6, "NOT_LEADER_OR_FOLLOWER");

    let mut at_leader = KafkaConnection::new(listener(leader));
    let out = at_leader
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 4, &produce(-1, &["a", "b"])))
        .unwrap();
    let answer: ProduceResponse = response(&out, 9, 4);
    let taken = &answer.responses[0].partition_responses[0];
    assert_eq!((taken.error_code, taken.base_offset), (0, 0));

    let out =
        at_leader.receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 5, &produce(0, &["c"]))).unwrap();
    assert!(out.is_empty(), "acks=0: no response");
    // Two requests in one read are answered in order, with nothing left over.
    let mut both = frame(ApiKey::Produce, 9, 6, &produce(1, &["d"]));
    both.extend(frame(ApiKey::Produce, 9, 7, &produce(1, &["e"])));
    let out = at_leader.receive(&mut cluster, NOW_MS, &both).unwrap();
    let first_len = 4 + i32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
    let first: ProduceResponse = response(&out[..first_len], 9, 6);
    let second: ProduceResponse = response(&out[first_len..], 9, 7);
    assert_eq!(first.responses[0].partition_responses[0].base_offset, 3);
    assert_eq!(second.responses[0].partition_responses[0].base_offset, 4);
}

/// The batch a producer sent is the batch stored, as on a Kafka broker (LogValidator's in-place
/// offset assignment): its codec, timestamps and bytes kept, only the base offset and the leader
/// epoch stamped. A topic whose `compression.type` names another codec stores the records anew in
/// that codec, as Kafka recompresses.
#[test]
fn a_producers_batch_is_stored_as_it_came() {
    let (mut cluster, leader) = cluster_with_orders();
    let records = (0..3)
        .map(|i| BatchRecord {
            offset_delta: i,
            timestamp_delta: i64::from(7 - i),
            key: Some(format!("k{i}").into_bytes()),
            value: Some(vec![b'v'; 200]),
            ..BatchRecord::default()
        })
        .collect();
    let mut batch = RecordBatch::new(NOW_MS - 5_000, records);
    batch.attributes.compression = Compression::Lz4;
    let sent = batch.encode().unwrap();
    let produce_sent = |topic: &'static str| {
        let partition =
            PartitionProduceData::default().with_index(0).with_records(Some(Bytes::from(sent.clone())));
        let topic = TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str(topic)))
            .with_partition_data(vec![partition]);
        ProduceRequest::default().with_acks(-1).with_timeout_ms(30_000).with_topic_data(vec![topic])
    };
    let mut connection = KafkaConnection::new(listener(leader));
    let out = connection
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 1, &produce_sent("orders")))
        .unwrap();
    let answer: ProduceResponse = response(&out, 9, 1);
    assert_eq!(answer.responses[0].partition_responses[0].error_code, 0);
    let fetch = Command::FetchRecords {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_bytes: None,
        isolation_level: Default::default(),
    };
    let Reply::RecordBatches { payload, .. } = cluster.handle(NOW_MS, fetch) else { panic!("no batches") };
    // baseOffset (0..8) was 0 already; partitionLeaderEpoch (12..16) is the leader's.
    assert_eq!(payload.len(), sent.len());
    assert_eq!((&payload[..12], &payload[16..]), (&sent[..12], &sent[16..]), "the bytes kept");

    let create = Command::CreateTopic {
        name: "gzipped".into(),
        partitions: 1,
        configs: [("compression.type".to_string(), "gzip".to_string())].into(),
        replication_factor: Some(3),
    };
    let Reply::TopicCreated { topic, .. } = cluster.handle(NOW_MS, create) else { panic!("not created") };
    let mut connection = KafkaConnection::new(listener(topic.partitions[0].leader.unwrap()));
    connection
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 2, &produce_sent("gzipped")))
        .unwrap();
    let dump = Command::DumpRecord { topic: "gzipped".into(), partition: 0, offset: 2 };
    let Reply::RecordDumped { batch, .. } = cluster.handle(NOW_MS, dump) else { panic!("no dump") };
    assert_eq!((batch.compresscodec.as_str(), batch.count), ("gzip", 3), "recompressed in the topic's codec");
}

#[test]
fn a_fetch_with_nothing_to_read_waits_for_records_or_its_max_wait() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut consumer = KafkaConnection::new(listener(leader));
    let partition =
        FetchPartition::default().with_partition(0).with_fetch_offset(0).with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    let fetch = FetchRequest::default()
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![topic]);
    let out = consumer.receive(&mut cluster, NOW_MS, &frame(ApiKey::Fetch, 12, 8, &fetch)).unwrap();
    assert!(out.is_empty(), "nothing to read: the fetch waits");
    assert_eq!(consumer.wake_at_ms(), Some(NOW_MS + 500));
    assert!(consumer.wake(&mut cluster, NOW_MS + 100).unwrap().is_empty(), "still nothing");

    let mut producer = KafkaConnection::new(listener(leader));
    producer
        .receive(&mut cluster, NOW_MS + 200, &frame(ApiKey::Produce, 9, 1, &produce(-1, &["x", "y"])))
        .unwrap();
    let out = consumer.wake(&mut cluster, NOW_MS + 200).unwrap();
    let answer: FetchResponse = response(&out, 12, 8);
    let data = &answer.responses[0].partitions[0];
    assert_eq!((data.error_code, data.high_watermark), (0, 2));
    let records = data.records.clone().unwrap();
    let (batch, _) = RecordBatch::decode(&records).unwrap();
    let values: Vec<_> = batch.records.iter().map(|r| r.value.clone().unwrap()).collect();
    assert_eq!(values, [b"x".to_vec(), b"y".to_vec()]);
    assert_eq!(consumer.wake_at_ms(), None);

    // Past its max wait, an empty fetch is answered empty.
    let partition =
        FetchPartition::default().with_partition(0).with_fetch_offset(2).with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    let fetch = fetch.with_topics(vec![topic]);
    assert!(
        consumer
            .receive(&mut cluster, NOW_MS + 300, &frame(ApiKey::Fetch, 12, 9, &fetch))
            .unwrap()
            .is_empty()
    );
    let out = consumer.wake(&mut cluster, NOW_MS + 800).unwrap();
    let answer: FetchResponse = response(&out, 12, 9);
    assert_eq!(answer.responses[0].partitions[0].records.as_ref().map(Bytes::len), Some(0));

    // While a fetch waits, a client that keeps sending is closed past MAX_KAFKA_INBOX_BYTES.
    assert!(
        consumer
            .receive(&mut cluster, NOW_MS + 900, &frame(ApiKey::Fetch, 12, 10, &fetch))
            .unwrap()
            .is_empty()
    );
    let chunk = vec![0u8; kite_shared::limits::MAX_KAFKA_INBOX_BYTES / 2];
    for _ in 0..2 {
        assert!(consumer.receive(&mut cluster, NOW_MS + 900, &chunk).is_ok(), "up to the limit is held");
    }
    let close = consumer.receive(&mut cluster, NOW_MS + 900, &[0]).unwrap_err();
    assert!(close.reason.contains("while requests wait"), "{}", close.reason);
}

#[test]
fn list_offsets_gives_the_earliest_and_latest() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(leader));
    connection
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 1, &produce(-1, &["a", "b", "c"])))
        .unwrap();
    for (timestamp, expected) in [(-2, 0), (-1, 3)] {
        let partition = ListOffsetsPartition::default().with_partition_index(0).with_timestamp(timestamp);
        let topic = ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("orders")))
            .with_partitions(vec![partition]);
        let asked = ListOffsetsRequest::default()
            .with_replica_id(kafka_protocol::messages::BrokerId(-1))
            .with_topics(vec![topic]);
        let out =
            connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::ListOffsets, 6, 2, &asked)).unwrap();
        let answer: ListOffsetsResponse = response(&out, 6, 2);
        assert_eq!(answer.topics[0].partitions[0].offset, expected, "timestamp {timestamp}");
    }
}

fn delete_records(offset: i64) -> DeleteRecordsRequest {
    let partition = DeleteRecordsPartition::default().with_partition_index(0).with_offset(offset);
    let topic = DeleteRecordsTopic::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    DeleteRecordsRequest::default().with_topics(vec![topic]).with_timeout_ms(30_000)
}

/// (error code, low watermark) of a DeleteRecords of `orders-0` up to `offset`, at `broker`.
fn delete_records_at(cluster: &mut Cluster, broker: i32, offset: i64) -> (i16, i64) {
    let mut connection = KafkaConnection::new(listener(broker));
    let out = connection
        .receive(cluster, NOW_MS, &frame(ApiKey::DeleteRecords, 2, 7, &delete_records(offset)))
        .unwrap();
    let answer: DeleteRecordsResponse = response(&out, 2, 7);
    let partition = &answer.topics[0].partitions[0];
    (partition.error_code, partition.low_watermark)
}

#[test]
fn delete_records_moves_the_log_start_at_the_leader_only() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(leader));
    connection
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 1, &produce(-1, &["a", "b", "c", "d"])))
        .unwrap();
    let follower = (leader + 1) % 3;
    // NOT_LEADER_OR_FOLLOWER at a follower; OFFSET_OUT_OF_RANGE past the high watermark.
    assert_eq!(delete_records_at(&mut cluster, follower, 2), (6, -1));
    assert_eq!(delete_records_at(&mut cluster, leader, 5), (1, -1));
    assert_eq!(delete_records_at(&mut cluster, leader, 2), (0, 2));
    let earliest = Command::ListOffsets { topic: "orders".into(), partition: 0, timestamp_ms: -2 };
    assert!(matches!(cluster.handle(NOW_MS, earliest), Reply::Offsets { offset: Some(2), .. }));
    // -1: up to the high watermark.
    assert_eq!(delete_records_at(&mut cluster, leader, -1), (0, 4));
    // A request naming more partitions than a cluster can have: those past the limit are refused
    // without a turn of the engine.
    let limit = kite_shared::limits::MAX_DELETE_RECORDS_PARTITIONS_PER_REQUEST;
    let mut asked = delete_records(4);
    let one = asked.topics[0].partitions[0].clone();
    asked.topics[0].partitions = vec![one; limit + 2];
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::DeleteRecords, 2, 9, &asked)).unwrap();
    let answer: DeleteRecordsResponse = response(&out, 2, 9);
    let codes: Vec<i16> = answer.topics[0].partitions.iter().map(|p| p.error_code).collect();
    assert_eq!(codes.len(), limit + 2);
    assert!(
        codes[..limit].iter().all(|&c| c == 0) && codes[limit..] == [42, 42],
        "{:?}",
        &codes[limit - 1..]
    );
}

fn create_partitions(count: i32, validate_only: bool) -> CreatePartitionsRequest {
    let topic = CreatePartitionsTopic::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_count(count)
        .with_assignments(None);
    CreatePartitionsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only)
}

/// (error code, message) of a CreatePartitions of `orders` to `count`.
fn grow_orders(cluster: &mut Cluster, count: i32, validate_only: bool) -> (i16, Option<String>) {
    let mut connection = KafkaConnection::new(listener(0));
    let asked = frame(ApiKey::CreatePartitions, 3, 8, &create_partitions(count, validate_only));
    let out = connection.receive(cluster, NOW_MS, &asked).unwrap();
    let answer: CreatePartitionsResponse = response(&out, 3, 8);
    let result = &answer.results[0];
    (result.error_code, result.error_message.as_ref().map(|m| m.to_string()))
}

fn partitions_of_orders(cluster: &mut Cluster) -> usize {
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!("no topics") };
    topics.iter().find(|t| t.name == "orders").map_or(0, |t| t.partitions.len())
}

#[test]
fn create_partitions_grows_a_topic_and_never_shrinks_it() {
    let (mut cluster, _) = cluster_with_orders();
    // validate_only checks and changes nothing.
    assert_eq!(grow_orders(&mut cluster, 3, true), (0, None));
    assert_eq!(partitions_of_orders(&mut cluster), 1);
    assert_eq!(grow_orders(&mut cluster, 3, false), (0, None));
    assert_eq!(partitions_of_orders(&mut cluster), 3);
    let refused =
        (37, Some("Topic currently has 3 partitions, which is higher than the requested 2.".into()));
    assert_eq!(grow_orders(&mut cluster, 2, true), refused);
    assert_eq!(grow_orders(&mut cluster, 2, false), refused);
}

/// AlterConfigs replaces a topic's overrides: what it lists is set, what the topic overrode and
/// it leaves out goes back to the default.
#[test]
fn alter_configs_replaces_a_topics_overrides() {
    let (mut cluster, _) = cluster_with_orders();
    let set = |name: &'static str, value: &'static str| {
        LegacyAlterableConfig::default()
            .with_name(StrBytes::from_static_str(name))
            .with_value(Some(StrBytes::from_static_str(value)))
    };
    let mut connection = KafkaConnection::new(listener(0));
    for (id, configs) in [(1, vec![set("retention.ms", "60000")]), (2, vec![set("retention.bytes", "1000")])]
    {
        let resource = LegacyAlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("orders"))
            .with_configs(configs);
        let asked = AlterConfigsRequest::default().with_resources(vec![resource]);
        let out =
            connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::AlterConfigs, 1, id, &asked)).unwrap();
        let answer: AlterConfigsResponse = response(&out, 1, id);
        assert_eq!(answer.responses[0].error_code, 0);
    }
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!("no topics") };
    let overrides: Vec<(&str, &str)> =
        topics[0].configs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(overrides, [("retention.bytes", "1000")]);
}

/// Each broker's `broker.rack` reaches clients in Metadata, as the host gave it; a broker
/// without one has none, and a topic created after spreads its replicas over the racks.
#[test]
fn metadata_gives_each_brokers_rack_and_new_replicas_spread_over_racks() {
    let mut cluster = Cluster::replicated_in_memory(11, 3, NOW_MS);
    cluster.set_broker_racks(&[Some("zone-a".into()), Some("zone-a".into()), Some("zone-b".into())]);
    let mut connection = KafkaConnection::new(listener(0));
    let asked = MetadataRequest::default().with_topics(None);
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 1, &asked)).unwrap();
    let answer: MetadataResponse = response(&out, 12, 1);
    let racks: Vec<Option<String>> =
        answer.brokers.iter().map(|b| b.rack.as_ref().map(|r| r.to_string())).collect();
    assert_eq!(racks, [Some("zone-a".into()), Some("zone-a".into()), Some("zone-b".into())]);
    let create = Command::CreateTopic {
        name: "spread".into(),
        partitions: 6,
        configs: Default::default(),
        replication_factor: Some(2),
    };
    assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!("no topics") };
    let spread = topics.iter().find(|t| t.name == "spread").expect("created");
    for p in &spread.partitions {
        assert!(p.replicas.contains(&2), "each partition has its zone-b copy: {:?}", p.replicas);
    }
}

/// A broker's configs are the ones the cluster started with, read-only but for the replication
/// throttle's rates, with Kafka's sources; a broker not in the cluster and an alteration of a
/// static config are refused by name; a throttle rate set on a broker, and as the default, is
/// described with its dynamic source.
#[test]
fn broker_configs_are_described_and_only_the_throttle_rates_altered() {
    let (mut cluster, _) = cluster_with_orders();
    let configs = BrokerConfigs::from_overrides(["auto.leader.rebalance.enable=false"]).unwrap();
    cluster.set_broker_configs(configs);
    let mut connection = KafkaConnection::new(listener(0));
    let describe = |name: &'static str| {
        let resource = DescribeConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_static_str(name))
            .with_configuration_keys(None);
        DescribeConfigsRequest::default().with_resources(vec![resource])
    };
    let asked = frame(ApiKey::DescribeConfigs, 4, 1, &describe("1"));
    let answer: DescribeConfigsResponse =
        response(&connection.receive(&mut cluster, NOW_MS, &asked).unwrap(), 4, 1);
    let listed: Vec<(String, Option<String>, bool, i8)> = answer.results[0]
        .configs
        .iter()
        .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string()), c.read_only, c.config_source))
        .collect();
    let max = i64::MAX.to_string();
    assert_eq!(
        listed,
        [
            ("auto.leader.rebalance.enable".into(), Some("false".into()), true, 4),
            ("leader.imbalance.check.interval.seconds".into(), Some("300".into()), true, 5),
            ("replica.fetch.max.bytes".into(), Some("1048576".into()), true, 5),
            ("leader.replication.throttled.rate".into(), Some(max.clone()), false, 5),
            ("follower.replication.throttled.rate".into(), Some(max), false, 5),
        ]
    );
    let asked = frame(ApiKey::DescribeConfigs, 4, 2, &describe("7"));
    let answer: DescribeConfigsResponse =
        response(&connection.receive(&mut cluster, NOW_MS, &asked).unwrap(), 4, 2);
    let refused = &answer.results[0];
    assert_eq!(refused.error_code, 42, "INVALID_REQUEST");
    assert_eq!(
        refused.error_message.as_deref(),
        Some("Broker '7' is not in this cluster (brokers: 0, 1, 2).")
    );
    let mut alter = |broker: &'static str, name: &'static str, value: &'static str, correlation: i32| {
        let config = AlterableConfig::default()
            .with_name(StrBytes::from_static_str(name))
            .with_config_operation(0)
            .with_value(Some(StrBytes::from_static_str(value)));
        let resource = AlterConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_static_str(broker))
            .with_configs(vec![config]);
        let asked = IncrementalAlterConfigsRequest::default().with_resources(vec![resource]);
        let asked = frame(ApiKey::IncrementalAlterConfigs, 1, correlation, &asked);
        let out = connection.receive(&mut cluster, NOW_MS, &asked).unwrap();
        let answer: IncrementalAlterConfigsResponse = response(&out, 1, correlation);
        let message = answer.responses[0].error_message.as_deref().unwrap_or_default().to_string();
        (answer.responses[0].error_code, message)
    };
    let (code, message) = alter("1", "auto.leader.rebalance.enable", "true", 3);
    assert_eq!(code, 42);
    assert!(
        message.starts_with("Cannot update these configs dynamically: [auto.leader.rebalance.enable]."),
        "{message}"
    );
    assert_eq!(alter("1", "leader.replication.throttled.rate", "-5", 4).0, 40, "INVALID_CONFIG");
    assert_eq!(alter("1", "leader.replication.throttled.rate", "5000", 5), (0, String::new()));
    assert_eq!(alter("", "follower.replication.throttled.rate", "7000", 6), (0, String::new()));
    assert!(!cluster.broker_configs().auto_leader_rebalance_enable, "still as it started");
    let asked = frame(ApiKey::DescribeConfigs, 4, 7, &describe("1"));
    let answer: DescribeConfigsResponse =
        response(&connection.receive(&mut cluster, NOW_MS, &asked).unwrap(), 4, 7);
    let rates: Vec<(String, Option<String>, i8)> = answer.results[0].configs[3..]
        .iter()
        .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string()), c.config_source))
        .collect();
    assert_eq!(
        rates,
        [
            ("leader.replication.throttled.rate".into(), Some("5000".into()), 2),
            ("follower.replication.throttled.rate".into(), Some("7000".into()), 3),
        ]
    );
    let asked = frame(ApiKey::DescribeConfigs, 4, 8, &describe(""));
    let answer: DescribeConfigsResponse =
        response(&connection.receive(&mut cluster, NOW_MS, &asked).unwrap(), 4, 8);
    let defaults: Vec<String> = answer.results[0].configs.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(defaults, ["follower.replication.throttled.rate"]);
}

#[test]
fn a_request_split_across_reads_is_answered_once_whole() {
    let (mut cluster, _) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(0));
    let whole = frame(ApiKey::ApiVersions, 3, 1, &ApiVersionsRequest::default());
    for byte in &whole[..whole.len() - 1] {
        assert!(connection.receive(&mut cluster, NOW_MS, std::slice::from_ref(byte)).unwrap().is_empty());
    }
    let out = connection.receive(&mut cluster, NOW_MS, &whole[whole.len() - 1..]).unwrap();
    let answer: ApiVersionsResponse = response(&out, 3, 1);
    assert_eq!(answer.error_code, 0);
}

/// One fetch of `orders`' partition 0 from offset 0, at the leader epoch the client has seen.
fn fetch_at_epoch(epoch: i32) -> FetchRequest {
    let partition = FetchPartition::default()
        .with_partition(0)
        .with_fetch_offset(0)
        .with_current_leader_epoch(epoch)
        .with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    FetchRequest::default().with_max_wait_ms(0).with_max_bytes(1 << 20).with_topics(vec![topic])
}

/// A topic's id as Kite describes it, as the UUID Kafka's requests carry.
fn topic_id(cluster: &mut Cluster, name: &str) -> uuid::Uuid {
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!("no topics") };
    let described = topics.iter().find(|t| t.name == name).expect("the topic");
    let id = kite_shared::ids::TopicId::parse(&described.topic_id).expect("an id");
    uuid::Uuid::from_bytes(id.0)
}

/// A fetch (v13+) of partition 0 of the topic with `id`, from `offset`.
fn fetch_by_id(id: uuid::Uuid, offset: i64) -> FetchRequest {
    let partition = FetchPartition::default()
        .with_partition(0)
        .with_fetch_offset(offset)
        .with_current_leader_epoch(-1)
        .with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default().with_topic_id(id).with_partitions(vec![partition]);
    FetchRequest::default().with_max_wait_ms(0).with_max_bytes(1 << 20).with_topics(vec![topic])
}

/// A produce (v13) of `values` to partition 0 of the topic with `id`, acks=all.
fn produce_by_id(id: uuid::Uuid, values: &[&str]) -> ProduceRequest {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records(values)));
    let topic = TopicProduceData::default().with_topic_id(id).with_partition_data(vec![partition]);
    ProduceRequest::default().with_acks(-1).with_timeout_ms(30_000).with_topic_data(vec![topic])
}

/// Produce v13 and Fetch v13+ name topics by id (KIP-516): the records go to and come from the
/// topic that has it, its id given back; an id no topic has, or the id of a topic deleted and
/// created again, is UNKNOWN_TOPIC_ID.
#[test]
fn a_fetch_by_topic_id_reads_that_topic_and_a_stale_id_is_unknown() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut at_leader = KafkaConnection::new(listener(leader));
    let orders = topic_id(&mut cluster, "orders");
    let produced = |connection: &mut KafkaConnection, cluster: &mut Cluster, id, correlation| {
        let asked = frame(ApiKey::Produce, 13, correlation, &produce_by_id(id, &["a", "b"]));
        let answer: ProduceResponse =
            response(&connection.receive(cluster, NOW_MS, &asked).unwrap(), 13, correlation);
        let topic = &answer.responses[0];
        (topic.topic_id, topic.partition_responses[0].error_code, topic.partition_responses[0].base_offset)
    };
    assert_eq!(produced(&mut at_leader, &mut cluster, orders, 1), (orders, 0, 0), "produced by id");
    let stranger = uuid::Uuid::from_bytes([9; 16]);
    assert_eq!(produced(&mut at_leader, &mut cluster, stranger, 11), (stranger, 100, -1), "UNKNOWN_TOPIC_ID");
    let fetch = |connection: &mut KafkaConnection, cluster: &mut Cluster, id, version, correlation| {
        let out = connection
            .receive(cluster, NOW_MS, &frame(ApiKey::Fetch, version, correlation, &fetch_by_id(id, 0)))
            .unwrap();
        let answer: FetchResponse = response(&out, version, correlation);
        let topic = &answer.responses[0];
        let partition = &topic.partitions[0];
        (topic.topic_id, partition.error_code, partition.high_watermark)
    };
    for version in [13, 16] {
        assert_eq!(fetch(&mut at_leader, &mut cluster, orders, version, 2), (orders, 0, 2), "v{version}");
    }
    let unknown = uuid::Uuid::from_bytes([7; 16]);
    assert_eq!(fetch(&mut at_leader, &mut cluster, unknown, 16, 3), (unknown, 100, -1), "UNKNOWN_TOPIC_ID");

    // Deleted and created again: the same name, a new id; the old id is unknown.
    assert!(matches!(
        cluster.handle(NOW_MS, Command::DeleteTopic { name: "orders".into() }),
        Reply::TopicDeleted { .. }
    ));
    let new_leader = create_orders(&mut cluster);
    let again = topic_id(&mut cluster, "orders");
    assert_ne!(again, orders);
    let mut at_new_leader = KafkaConnection::new(listener(new_leader));
    assert_eq!(fetch(&mut at_new_leader, &mut cluster, orders, 16, 4).1, 100, "the old id is unknown");
    assert_eq!(
        fetch(&mut at_new_leader, &mut cluster, again, 16, 5),
        (again, 0, 0),
        "the new one is read, empty"
    );
}

#[test]
fn metadata_gives_the_leader_epoch_and_a_fetch_at_another_epoch_is_refused() {
    let (mut cluster, leader) = cluster_with_orders();
    cluster.allow_faults = true;
    let mut connection = KafkaConnection::new(listener(leader));
    let asked = MetadataRequest::default().with_topics(None);
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 1, &asked)).unwrap();
    let answer: MetadataResponse = response(&out, 12, 1);
    let orders =
        answer.topics.iter().find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some("orders")).unwrap();
    let epoch = orders.partitions[0].leader_epoch;
    assert!(epoch >= 0, "a leader epoch, not -1");

    let code = |connection: &mut KafkaConnection, cluster: &mut Cluster, epoch: i32, id: i32| {
        let out = connection
            .receive(cluster, NOW_MS, &frame(ApiKey::Fetch, 12, id, &fetch_at_epoch(epoch)))
            .unwrap();
        let answer: FetchResponse = response(&out, 12, id);
        answer.responses[0].partitions[0].error_code
    };
    assert_eq!(code(&mut connection, &mut cluster, epoch, 2), 0);
    assert_eq!(code(&mut connection, &mut cluster, epoch + 1, 3), 75, "UNKNOWN_LEADER_EPOCH");

    // The leader stops: another broker leads at a higher epoch, and a client still at the old
    // one is told its metadata is stale.
    let stopped = cluster.handle(NOW_MS, Command::StopBroker { broker: leader });
    assert!(matches!(stopped, Reply::ClusterDescribed { .. }), "{stopped:?}");
    let (new_leader, new_epoch) = cluster.leadership("orders", 0).unwrap();
    let new_leader = new_leader.expect("a new leader");
    assert!(new_leader != leader && new_epoch > epoch, "{new_leader} at {new_epoch}");
    let mut at_new_leader = KafkaConnection::new(listener(new_leader));
    assert_eq!(code(&mut at_new_leader, &mut cluster, epoch, 4), 74, "FENCED_LEADER_EPOCH");
    assert_eq!(code(&mut at_new_leader, &mut cluster, new_epoch, 5), 0);
    // The old leader is stopped: its connection closes rather than answer.
    let closed =
        connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Fetch, 12, 6, &fetch_at_epoch(new_epoch)));
    assert!(closed.is_err(), "a stopped broker answers nothing");
    // Started again as a follower, it says who leads now.
    let started = cluster.handle(NOW_MS, Command::StartBroker { broker: leader });
    assert!(matches!(started, Reply::ClusterDescribed { .. }), "{started:?}");
    let mut at_old_leader = KafkaConnection::new(listener(leader));
    assert_eq!(code(&mut at_old_leader, &mut cluster, new_epoch, 7), 6, "NOT_LEADER_OR_FOLLOWER");
}

/// Every served version of every API, as a client that negotiated it would ask: each answered
/// (not closed) with a response that decodes at that version, with the error codes expected (none,
/// but UNKNOWN_MEMBER_ID for a member the group does not know, GROUP_ID_NOT_FOUND for a deleted
/// group). A field set in a response that the version lacks would not encode, and the connection
/// would close instead.
#[test]
fn every_served_version_of_every_api_is_answered() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut at_leader = KafkaConnection::new(listener(leader));
    let mut at_coordinator = KafkaConnection::new(listener(billing_coordinator(&mut cluster)));
    let txn_coordinator = cluster.transaction_coordinator(NOW_MS, "ghost-tx").unwrap();
    let mut at_txn_coordinator = KafkaConnection::new(listener(txn_coordinator));
    let ghost_tx = || TransactionalId(StrBytes::from_static_str("ghost-tx"));
    let group = || GroupId(StrBytes::from_static_str("billing"));
    let orders = || TopicName(StrBytes::from_static_str("orders"));
    let mut id = 0;
    for (api, min, max) in kite_shared::kafka::versions::SUPPORTED {
        for version in min..=max {
            id += 1;
            let asked = match api {
                ApiKey::ApiVersions => frame(api, version, id, &ApiVersionsRequest::default()),
                ApiKey::Metadata => {
                    let topic = kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                        .with_name(Some(orders()));
                    frame(api, version, id, &MetadataRequest::default().with_topics(Some(vec![topic])))
                }
                ApiKey::Produce if version >= 13 => {
                    frame(api, version, id, &produce_by_id(topic_id(&mut cluster, "orders"), &["v"]))
                }
                ApiKey::Produce => frame(api, version, id, &produce(-1, &["v"])),
                ApiKey::Fetch if version >= 13 => {
                    frame(api, version, id, &fetch_by_id(topic_id(&mut cluster, "orders"), 0))
                }
                ApiKey::Fetch => frame(api, version, id, &fetch_at_epoch(-1)),
                ApiKey::ListOffsets => {
                    let partition =
                        ListOffsetsPartition::default().with_partition_index(0).with_timestamp(-1);
                    let topic =
                        ListOffsetsTopic::default().with_name(orders()).with_partitions(vec![partition]);
                    frame(api, version, id, &ListOffsetsRequest::default().with_topics(vec![topic]))
                }
                ApiKey::OffsetForLeaderEpoch => frame(api, version, id, &epoch_end_request(-1, 0)),
                ApiKey::FindCoordinator => {
                    let key = StrBytes::from_static_str("billing");
                    let ask = if version >= 4 {
                        FindCoordinatorRequest::default().with_coordinator_keys(vec![key])
                    } else {
                        FindCoordinatorRequest::default().with_key(key)
                    };
                    frame(api, version, id, &ask)
                }
                ApiKey::JoinGroup => frame(api, version, id, &join_group("ghost")),
                ApiKey::SyncGroup => {
                    let sync = SyncGroupRequest::default()
                        .with_group_id(group())
                        .with_generation_id(1)
                        .with_member_id(StrBytes::from_static_str("ghost"));
                    frame(api, version, id, &sync)
                }
                ApiKey::Heartbeat => frame(api, version, id, &heartbeat("ghost", 1)),
                ApiKey::LeaveGroup => {
                    let ghost = StrBytes::from_static_str("ghost");
                    let leave = if version >= 3 {
                        LeaveGroupRequest::default()
                            .with_group_id(group())
                            .with_members(vec![MemberIdentity::default().with_member_id(ghost)])
                    } else {
                        LeaveGroupRequest::default().with_group_id(group()).with_member_id(ghost)
                    };
                    frame(api, version, id, &leave)
                }
                ApiKey::OffsetCommit => {
                    // From outside the group (an admin's reset), allowed while it has no members.
                    let partition = OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1);
                    let topic = OffsetCommitRequestTopic::default()
                        .with_name(orders())
                        .with_partitions(vec![partition]);
                    let commit = OffsetCommitRequest::default()
                        .with_group_id(group())
                        .with_generation_id_or_member_epoch(-1)
                        .with_topics(vec![topic]);
                    frame(api, version, id, &commit)
                }
                ApiKey::OffsetFetch => {
                    let fetch = if version >= 8 {
                        let topic = kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopics::default()
                            .with_name(orders())
                            .with_partition_indexes(vec![0]);
                        let asked =
                            kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup::default(
                            )
                            .with_group_id(group())
                            .with_topics(Some(vec![topic]));
                        OffsetFetchRequest::default().with_groups(vec![asked])
                    } else {
                        let topic = OffsetFetchRequestTopic::default()
                            .with_name(orders())
                            .with_partition_indexes(vec![0]);
                        OffsetFetchRequest::default().with_group_id(group()).with_topics(Some(vec![topic]))
                    };
                    frame(api, version, id, &fetch)
                }
                ApiKey::ListGroups => frame(api, version, id, &ListGroupsRequest::default()),
                ApiKey::DescribeCluster => {
                    frame(api, version, id, &DescribeClusterRequest::default().with_endpoint_type(1))
                }
                ApiKey::IncrementalAlterConfigs => {
                    let set = AlterableConfig::default()
                        .with_name(StrBytes::from_static_str("retention.ms"))
                        .with_config_operation(0)
                        .with_value(Some(StrBytes::from_string(format!("{}", 60_000 + i64::from(version)))));
                    let resource = AlterConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(StrBytes::from_static_str("orders"))
                        .with_configs(vec![set]);
                    frame(
                        api,
                        version,
                        id,
                        &IncrementalAlterConfigsRequest::default().with_resources(vec![resource]),
                    )
                }
                ApiKey::AlterConfigs => {
                    let config = LegacyAlterableConfig::default()
                        .with_name(StrBytes::from_static_str("retention.ms"))
                        .with_value(Some(StrBytes::from_string(format!("{}", 90_000 + i64::from(version)))));
                    let resource = LegacyAlterConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(StrBytes::from_static_str("orders"))
                        .with_configs(vec![config]);
                    frame(api, version, id, &AlterConfigsRequest::default().with_resources(vec![resource]))
                }
                ApiKey::DescribeConfigs => {
                    let resource = DescribeConfigsResource::default()
                        .with_resource_type(2)
                        .with_resource_name(StrBytes::from_static_str("orders"));
                    frame(api, version, id, &DescribeConfigsRequest::default().with_resources(vec![resource]))
                }
                ApiKey::CreateTopics => {
                    let topic = CreatableTopic::default()
                        .with_name(TopicName(StrBytes::from_string(format!("created-v{version}"))))
                        .with_num_partitions(2)
                        .with_replication_factor(-1);
                    frame(api, version, id, &CreateTopicsRequest::default().with_topics(vec![topic]))
                }
                ApiKey::DeleteRecords => frame(api, version, id, &delete_records(0)),
                // Each version grows orders by one partition.
                ApiKey::CreatePartitions => {
                    frame(api, version, id, &create_partitions(2 + i32::from(version), false))
                }
                ApiKey::DeleteTopics => {
                    // Each version deletes what CreateTopics one version up made.
                    let name = TopicName(StrBytes::from_string(format!("created-v{}", version + 1)));
                    frame(api, version, id, &DeleteTopicsRequest::default().with_topic_names(vec![name]))
                }
                ApiKey::SaslHandshake => {
                    let ask =
                        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
                    frame(api, version, id, &ask)
                }
                ApiKey::SaslAuthenticate => frame(api, version, id, &SaslAuthenticateRequest::default()),
                ApiKey::DescribeGroups => {
                    frame(api, version, id, &DescribeGroupsRequest::default().with_groups(vec![group()]))
                }
                ApiKey::DeleteGroups => {
                    frame(api, version, id, &DeleteGroupsRequest::default().with_groups_names(vec![group()]))
                }
                ApiKey::InitProducerId => {
                    let ask = InitProducerIdRequest::default()
                        .with_transactional_id(None)
                        .with_producer_id(ProducerId(-1));
                    frame(api, version, id, &ask)
                }
                ApiKey::AddPartitionsToTxn => {
                    let topic = kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                        .with_name(orders())
                        .with_partitions(vec![0]);
                    let ask = AddPartitionsToTxnRequest::default()
                        .with_v3_and_below_transactional_id(ghost_tx())
                        .with_v3_and_below_producer_id(ProducerId(1))
                        .with_v3_and_below_topics(vec![topic]);
                    frame(api, version, id, &ask)
                }
                ApiKey::AddOffsetsToTxn => {
                    let ask = AddOffsetsToTxnRequest::default()
                        .with_transactional_id(ghost_tx())
                        .with_producer_id(ProducerId(1))
                        .with_group_id(group());
                    frame(api, version, id, &ask)
                }
                ApiKey::EndTxn => {
                    let ask = EndTxnRequest::default()
                        .with_transactional_id(ghost_tx())
                        .with_producer_id(ProducerId(1));
                    frame(api, version, id, &ask)
                }
                ApiKey::TxnOffsetCommit => {
                    let partition = kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1);
                    let topic = kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                        .with_name(orders())
                        .with_partitions(vec![partition]);
                    let ask = TxnOffsetCommitRequest::default()
                        .with_transactional_id(ghost_tx())
                        .with_group_id(group())
                        .with_producer_id(ProducerId(1))
                        .with_topics(vec![topic]);
                    frame(api, version, id, &ask)
                }
                ApiKey::DescribeTransactions => frame(
                    api,
                    version,
                    id,
                    &DescribeTransactionsRequest::default().with_transactional_ids(vec![ghost_tx()]),
                ),
                ApiKey::ListTransactions => frame(api, version, id, &ListTransactionsRequest::default()),
                ApiKey::WriteTxnMarkers => frame(api, version, id, &write_markers(1, 0, true, 0)),
                // orders-0 to the replicas it has: nothing moves, nothing is refused.
                ApiKey::AlterPartitionReassignments => {
                    let replicas = replicas_of_orders(&mut cluster);
                    frame(api, version, id, &reassign_orders(Some(replicas), true))
                }
                ApiKey::ListPartitionReassignments => {
                    frame(api, version, id, &ListPartitionReassignmentsRequest::default())
                }
                // orders-0's preferred replica leads already: ELECTION_NOT_NEEDED.
                ApiKey::ElectLeaders => {
                    let topic = kafka_protocol::messages::elect_leaders_request::TopicPartitions::default()
                        .with_topic(orders())
                        .with_partitions(vec![0]);
                    frame(
                        api,
                        version,
                        id,
                        &ElectLeadersRequest::default().with_topic_partitions(Some(vec![topic])),
                    )
                }
                // No broker 99: BROKER_ID_NOT_REGISTERED, and nobody leaves.
                ApiKey::UnregisterBroker => frame(
                    api,
                    version,
                    id,
                    &kafka_protocol::messages::UnregisterBrokerRequest::default()
                        .with_broker_id(BrokerId(99)),
                ),
                other => panic!("{other:?} is served but not asked here"),
            };
            let group_api = matches!(
                api,
                ApiKey::JoinGroup
                    | ApiKey::SyncGroup
                    | ApiKey::Heartbeat
                    | ApiKey::LeaveGroup
                    | ApiKey::OffsetCommit
                    | ApiKey::OffsetFetch
                    | ApiKey::ListGroups
                    | ApiKey::DescribeGroups
                    | ApiKey::DeleteGroups
                    | ApiKey::TxnOffsetCommit
            );
            let txn_api = matches!(
                api,
                ApiKey::AddPartitionsToTxn
                    | ApiKey::AddOffsetsToTxn
                    | ApiKey::EndTxn
                    | ApiKey::DescribeTransactions
                    | ApiKey::ListTransactions
            );
            let connection = if group_api {
                &mut at_coordinator
            } else if txn_api {
                &mut at_txn_coordinator
            } else {
                &mut at_leader
            };
            let out = connection
                .receive(&mut cluster, NOW_MS, &asked)
                .unwrap_or_else(|close| panic!("{api:?} v{version} closed: {}", close.reason));
            let errors = error_codes(api, &out, version, id);
            let expected = match api {
                ApiKey::JoinGroup | ApiKey::SyncGroup | ApiKey::Heartbeat | ApiKey::LeaveGroup => 25,
                // A listener without SASL: the exchange is out of place (ILLEGAL_SASL_STATE).
                ApiKey::SaslHandshake | ApiKey::SaslAuthenticate => 34,
                // The group OffsetCommit made is deleted by v0; later versions find none.
                ApiKey::DeleteGroups if version > 0 => 69,
                // No producer holds the transactional id: INVALID_PRODUCER_ID_MAPPING, and
                // TRANSACTIONAL_ID_NOT_FOUND when described.
                ApiKey::AddPartitionsToTxn
                | ApiKey::AddOffsetsToTxn
                | ApiKey::EndTxn
                | ApiKey::TxnOffsetCommit => 49,
                ApiKey::DescribeTransactions => 105,
                ApiKey::ElectLeaders => 84,
                ApiKey::UnregisterBroker => 102,
                _ => 0,
            };
            assert!(
                !errors.is_empty() && errors.iter().all(|&e| e == expected),
                "{api:?} v{version}: {errors:?}"
            );
        }
    }
}

/// Every error code in one response of `api`.
fn error_codes(api: ApiKey, out: &[u8], version: i16, id: i32) -> Vec<i16> {
    match api {
        ApiKey::ApiVersions => vec![response::<ApiVersionsResponse>(out, version, id).error_code],
        ApiKey::Metadata => {
            let answer: MetadataResponse = response(out, version, id);
            answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
        }
        ApiKey::OffsetForLeaderEpoch => {
            let answer: OffsetForLeaderEpochResponse = response(out, version, id);
            answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
        }
        ApiKey::Produce => {
            let answer: ProduceResponse = response(out, version, id);
            answer.responses.iter().flat_map(|t| &t.partition_responses).map(|p| p.error_code).collect()
        }
        ApiKey::Fetch => {
            let answer: FetchResponse = response(out, version, id);
            answer.responses.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
        }
        ApiKey::ListOffsets => {
            let answer: ListOffsetsResponse = response(out, version, id);
            answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
        }
        ApiKey::FindCoordinator => {
            let answer: FindCoordinatorResponse = response(out, version, id);
            if version >= 4 {
                answer.coordinators.iter().map(|c| c.error_code).collect()
            } else {
                vec![answer.error_code]
            }
        }
        ApiKey::JoinGroup => vec![response::<JoinGroupResponse>(out, version, id).error_code],
        ApiKey::InitProducerId => vec![response::<InitProducerIdResponse>(out, version, id).error_code],
        ApiKey::ListGroups => vec![response::<ListGroupsResponse>(out, version, id).error_code],
        ApiKey::IncrementalAlterConfigs => {
            let answer: IncrementalAlterConfigsResponse = response(out, version, id);
            answer.responses.iter().map(|r| r.error_code).collect()
        }
        ApiKey::DescribeConfigs => {
            let answer: DescribeConfigsResponse = response(out, version, id);
            let names: Vec<&str> = answer.results[0].configs.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names.len(), kite_shared::config::TOPIC_CONFIG_NAMES.len(), "{:?}", answer.results[0]);
            vec![answer.results[0].error_code]
        }
        ApiKey::DescribeCluster => {
            let answer: DescribeClusterResponse = response(out, version, id);
            assert_eq!(answer.brokers.len(), 3, "DescribeCluster v{version}: every broker");
            vec![answer.error_code]
        }
        ApiKey::CreateTopics => {
            response::<CreateTopicsResponse>(out, version, id).topics.iter().map(|t| t.error_code).collect()
        }
        ApiKey::CreatePartitions => response::<CreatePartitionsResponse>(out, version, id)
            .results
            .iter()
            .map(|t| t.error_code)
            .collect(),
        ApiKey::AlterConfigs => response::<AlterConfigsResponse>(out, version, id)
            .responses
            .iter()
            .map(|r| r.error_code)
            .collect(),
        ApiKey::DeleteRecords => response::<DeleteRecordsResponse>(out, version, id)
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
            .collect(),
        ApiKey::DeleteTopics => response::<DeleteTopicsResponse>(out, version, id)
            .responses
            .iter()
            .map(|t| t.error_code)
            .collect(),
        ApiKey::SaslHandshake => vec![response::<SaslHandshakeResponse>(out, version, id).error_code],
        ApiKey::SaslAuthenticate => vec![response::<SaslAuthenticateResponse>(out, version, id).error_code],
        ApiKey::DescribeGroups => {
            response::<DescribeGroupsResponse>(out, version, id).groups.iter().map(|g| g.error_code).collect()
        }
        ApiKey::DeleteGroups => {
            response::<DeleteGroupsResponse>(out, version, id).results.iter().map(|r| r.error_code).collect()
        }
        ApiKey::SyncGroup => vec![response::<SyncGroupResponse>(out, version, id).error_code],
        ApiKey::Heartbeat => vec![response::<HeartbeatResponse>(out, version, id).error_code],
        ApiKey::LeaveGroup => {
            let answer: LeaveGroupResponse = response(out, version, id);
            if version >= 3 {
                answer.members.iter().map(|m| m.error_code).collect()
            } else {
                vec![answer.error_code]
            }
        }
        ApiKey::OffsetCommit => {
            let answer: OffsetCommitResponse = response(out, version, id);
            answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
        }
        ApiKey::OffsetFetch => {
            let answer: OffsetFetchResponse = response(out, version, id);
            if version >= 8 {
                let groups = answer.groups.iter();
                groups
                    .flat_map(|g| {
                        g.topics
                            .iter()
                            .flat_map(|t| &t.partitions)
                            .map(|p| p.error_code)
                            .chain([g.error_code])
                    })
                    .collect()
            } else {
                answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
            }
        }
        ApiKey::AddPartitionsToTxn => response::<AddPartitionsToTxnResponse>(out, version, id)
            .results_by_topic_v3_and_below
            .iter()
            .flat_map(|t| t.results_by_partition.iter().map(|p| p.partition_error_code))
            .collect(),
        ApiKey::AddOffsetsToTxn => vec![response::<AddOffsetsToTxnResponse>(out, version, id).error_code],
        ApiKey::EndTxn => vec![response::<EndTxnResponse>(out, version, id).error_code],
        ApiKey::TxnOffsetCommit => response::<TxnOffsetCommitResponse>(out, version, id)
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
            .collect(),
        ApiKey::DescribeTransactions => response::<DescribeTransactionsResponse>(out, version, id)
            .transaction_states
            .iter()
            .map(|t| t.error_code)
            .collect(),
        ApiKey::ListTransactions => vec![response::<ListTransactionsResponse>(out, version, id).error_code],
        ApiKey::WriteTxnMarkers => response::<WriteTxnMarkersResponse>(out, version, id)
            .markers
            .iter()
            .flat_map(|m| m.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)))
            .collect(),
        ApiKey::AlterPartitionReassignments => {
            let answer: AlterPartitionReassignmentsResponse = response(out, version, id);
            let partitions = answer.responses.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code));
            std::iter::once(answer.error_code).chain(partitions).collect()
        }
        ApiKey::ListPartitionReassignments => {
            vec![response::<ListPartitionReassignmentsResponse>(out, version, id).error_code]
        }
        ApiKey::ElectLeaders => {
            let answer: ElectLeadersResponse = response(out, version, id);
            answer
                .replica_election_results
                .iter()
                .flat_map(|t| t.partition_result.iter().map(|p| p.error_code))
                .collect()
        }
        ApiKey::UnregisterBroker => {
            vec![response::<kafka_protocol::messages::UnregisterBrokerResponse>(out, version, id).error_code]
        }
        other => panic!("{other:?} has no reader here"),
    }
}

fn replicas_of_orders(cluster: &mut Cluster) -> Vec<i32> {
    let Reply::Topics { topics } = cluster.handle(NOW_MS, Command::ListTopics) else { panic!("no topics") };
    topics.into_iter().find(|t| t.name == "orders").unwrap().partitions[0].replicas.clone()
}

/// An AlterPartitionReassignments of `orders-0` to `replicas` (`None`: cancel).
fn reassign_orders(replicas: Option<Vec<i32>>, allow_resize: bool) -> AlterPartitionReassignmentsRequest {
    let partition = ReassignablePartition::default()
        .with_partition_index(0)
        .with_replicas(replicas.map(|r| r.into_iter().map(BrokerId).collect()));
    let topic = ReassignableTopic::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(30_000)
        .with_allow_replication_factor_change(allow_resize)
        .with_topics(vec![topic])
}

/// The error code and message of `orders-0` in an AlterPartitionReassignments v1.
/// Asked at `broker`'s listener (not a paused one's: it answers nothing).
fn alter_orders(
    cluster: &mut Cluster,
    broker: i32,
    asked: &AlterPartitionReassignmentsRequest,
) -> (i16, Option<String>) {
    let mut connection = KafkaConnection::new(listener(broker));
    let out = connection
        .receive(cluster, NOW_MS, &frame(ApiKey::AlterPartitionReassignments, 1, 5, asked))
        .unwrap();
    let answer: AlterPartitionReassignmentsResponse = response(&out, 1, 5);
    let result = &answer.responses[0].partitions[0];
    (result.error_code, result.error_message.as_ref().map(|m| m.to_string()))
}

/// A reassignment over the Kafka protocol, on four brokers: to a broker that cannot fetch it
/// stays in progress and is listed with its adding and removing replicas; a resize refused when
/// the client forbids it (KIP-860); cancelled, then nothing left to cancel.
#[test]
fn a_reassignment_is_started_listed_and_cancelled() {
    let mut cluster = Cluster::replicated_in_memory(11, 4, NOW_MS);
    cluster.allow_faults = true;
    create_orders(&mut cluster);
    let replicas = replicas_of_orders(&mut cluster);
    let newcomer = (0..4).find(|b| !replicas.contains(b)).unwrap();
    let paused = cluster.handle(NOW_MS, Command::PauseBroker { broker: newcomer });
    assert!(matches!(paused, Reply::ClusterDescribed { .. }), "{paused:?}");
    let target = vec![newcomer, replicas[1], replicas[2]];
    let at = replicas[1];

    let resize = reassign_orders(Some(vec![newcomer, replicas[1]]), false);
    let (code, message) = alter_orders(&mut cluster, at, &resize);
    assert_eq!((code, message.unwrap().contains("from 3 to 2")), (38, true));
    assert_eq!(alter_orders(&mut cluster, at, &reassign_orders(Some(target.clone()), false)), (0, None));

    let mut connection = KafkaConnection::new(listener(at));
    let listed =
        frame(ApiKey::ListPartitionReassignments, 0, 6, &ListPartitionReassignmentsRequest::default());
    let out = connection.receive(&mut cluster, NOW_MS, &listed).unwrap();
    let answer: ListPartitionReassignmentsResponse = response(&out, 0, 6);
    let ongoing = &answer.topics[0].partitions[0];
    let ids = |b: &[BrokerId]| b.iter().map(|b| b.0).collect::<Vec<_>>();
    assert_eq!(answer.topics[0].name.0.as_str(), "orders");
    assert_eq!(ids(&ongoing.adding_replicas), vec![newcomer]);
    assert_eq!(ids(&ongoing.removing_replicas), vec![replicas[0]]);
    assert_eq!(ids(&ongoing.replicas), vec![newcomer, replicas[1], replicas[2], replicas[0]]);

    assert_eq!(alter_orders(&mut cluster, at, &reassign_orders(None, true)), (0, None));
    let (code, message) = alter_orders(&mut cluster, at, &reassign_orders(None, true));
    assert_eq!((code, message), (85, Some("No ongoing reassignment for partition orders-0.".into())));
    let (code, _) = alter_orders(&mut cluster, at, &reassign_orders(Some(vec![0, 9, 1]), true));
    assert_eq!(code, 39);
}

/// The consumer protocol's assignment bytes, as a group's leader sends them: `topic` partitions.
fn assignment(topic: &str, partitions: &[i32]) -> Bytes {
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as Assigned;
    let assigned = Assigned::default()
        .with_topic(TopicName(StrBytes::from_string(topic.into())))
        .with_partitions(partitions.to_vec());
    let body = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![assigned]);
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&3i16.to_be_bytes());
    body.encode(&mut bytes, 3).unwrap();
    bytes.freeze()
}

fn join_group(member_id: &str) -> JoinGroupRequest {
    let protocol = JoinGroupRequestProtocol::default()
        .with_name(StrBytes::from_static_str("range"))
        .with_metadata(Bytes::from_static(b"subscription"));
    JoinGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(StrBytes::from_string(member_id.into()))
        .with_protocol_type(StrBytes::from_static_str("consumer"))
        .with_protocols(vec![protocol])
}

fn heartbeat(member_id: &str, generation: i32) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_generation_id(generation)
        .with_member_id(StrBytes::from_string(member_id.into()))
}

/// The broker FindCoordinator names for `billing`, asked at broker 0 (it creates
/// `__consumer_offsets`, as Kafka does).
fn billing_coordinator(cluster: &mut Cluster) -> i32 {
    let mut connection = KafkaConnection::new(listener(0));
    let ask = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("billing"));
    let out = connection.receive(cluster, NOW_MS, &frame(ApiKey::FindCoordinator, 2, 1, &ask)).unwrap();
    let found: FindCoordinatorResponse = response(&out, 2, 1);
    assert_eq!(found.error_code, 0);
    assert_eq!(found.port, 9092 + found.node_id.0, "the coordinator's own listener");
    connection.close(cluster, NOW_MS);
    found.node_id.0
}

/// A consumer group run by two Kafka clients over the protocol: FindCoordinator, JoinGroup
/// (MEMBER_ID_REQUIRED first at v4+, one step at v0), the join phase that waits for the initial
/// rebalance delay, SyncGroup with the leader's assignment, heartbeats that tell a member to
/// rejoin, OffsetCommit/OffsetFetch, LeaveGroup; NOT_COORDINATOR at another broker; and the
/// engine's own DescribeGroup (what the UI shows) seeing the same group.
#[test]
fn a_consumer_group_over_the_kafka_protocol() {
    let (mut cluster, leader) = cluster_with_orders();
    let coordinator = billing_coordinator(&mut cluster);
    let mut a = KafkaConnection::new(listener(coordinator)).with_peer_host("/10.0.0.1");
    let mut b = KafkaConnection::new(listener(coordinator)).with_peer_host("/10.0.0.2");
    let mut now = NOW_MS;

    // A's first join hands it an id (KIP-394); with it, the join waits for the initial delay.
    let out = a.receive(&mut cluster, now, &frame(ApiKey::JoinGroup, 5, 2, &join_group(""))).unwrap();
    let first: JoinGroupResponse = response(&out, 5, 2);
    assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED");
    let a_id = first.member_id.to_string();
    assert!(a_id.starts_with("kite-test-"), "{a_id}");
    let out = a.receive(&mut cluster, now, &frame(ApiKey::JoinGroup, 5, 3, &join_group(&a_id))).unwrap();
    assert!(out.is_empty(), "the join phase waits");
    assert!(a.wake_at_ms().is_some());
    now += 3_001;
    cluster.tick(now);
    let joined: JoinGroupResponse = response(&a.wake(&mut cluster, now).unwrap(), 5, 3);
    assert_eq!((joined.error_code, joined.generation_id), (0, 1));
    assert_eq!(joined.leader.as_str(), a_id);
    assert_eq!(joined.protocol_name.as_deref(), Some("range"));
    assert_eq!(joined.members.len(), 1, "the leader gets every member's subscription");

    // The leader's SyncGroup carries the assignment and gets its own share back.
    let mine = assignment("orders", &[0]);
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_generation_id(1)
        .with_member_id(StrBytes::from_string(a_id.clone()))
        .with_assignments(vec![
            SyncGroupRequestAssignment::default()
                .with_member_id(StrBytes::from_string(a_id.clone()))
                .with_assignment(mine.clone()),
        ]);
    let synced: SyncGroupResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::SyncGroup, 3, 4, &sync)).unwrap(), 3, 4);
    assert_eq!((synced.error_code, synced.assignment), (0, mine));
    let beat: HeartbeatResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::Heartbeat, 2, 5, &heartbeat(&a_id, 1))).unwrap(),
        2,
        5,
    );
    assert_eq!(beat.error_code, 0);

    // Commit offset 1 of orders-0 with metadata (and of a partition that does not exist), then read
    // it back.
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_generation_id_or_member_epoch(1)
        .with_member_id(StrBytes::from_string(a_id.clone()))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1)
                        .with_committed_leader_epoch(0)
                        .with_committed_metadata(Some(StrBytes::from_static_str("read by A"))),
                    OffsetCommitRequestPartition::default().with_partition_index(9).with_committed_offset(1),
                ]),
        ]);
    let committed: OffsetCommitResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::OffsetCommit, 7, 6, &commit)).unwrap(), 7, 6);
    let codes: Vec<i16> = committed.topics[0].partitions.iter().map(|p| p.error_code).collect();
    assert_eq!(codes, [0, 3], "UNKNOWN_TOPIC_OR_PARTITION for orders-9");
    let fetch = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_topics(Some(vec![
            OffsetFetchRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partition_indexes(vec![0]),
        ]));
    let fetched: OffsetFetchResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::OffsetFetch, 5, 7, &fetch)).unwrap(), 5, 7);
    let partition = &fetched.topics[0].partitions[0];
    assert_eq!((partition.committed_offset, partition.committed_leader_epoch), (1, 0));
    assert_eq!(partition.metadata.as_deref(), Some("read by A"), "the metadata round-trips");

    // A fetches read_committed on its connection to the leader: its lag counts to the last
    // stable offset.
    let mut a_fetches = KafkaConnection::new(listener(leader)).with_peer_host("/10.0.0.1");
    let three = produce(-1, &["x", "y", "z"]);
    a_fetches.receive(&mut cluster, now, &frame(ApiKey::Produce, 9, 19, &three)).unwrap();
    let ask = fetch_at_epoch(-1).with_isolation_level(1);
    a_fetches.receive(&mut cluster, now, &frame(ApiKey::Fetch, 12, 20, &ask)).unwrap();
    let Reply::GroupDescribed { offsets, .. } =
        cluster.handle(now, Command::DescribeGroup { group: "billing".into() })
    else {
        panic!("not described")
    };
    assert!(offsets[0].read_committed, "{offsets:?}");
    assert_eq!((offsets[0].last_stable_offset, offsets[0].lag), (3, Some(2)));
    a_fetches.close(&mut cluster, now);

    // B, an old client, joins in one step (JoinGroup v0): A's heartbeat says rebalance, A
    // rejoins, and both get generation 2.
    let out = b.receive(&mut cluster, now, &frame(ApiKey::JoinGroup, 0, 8, &join_group(""))).unwrap();
    assert!(out.is_empty(), "B waits for A to rejoin");
    let beat: HeartbeatResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::Heartbeat, 2, 9, &heartbeat(&a_id, 1))).unwrap(),
        2,
        9,
    );
    assert_eq!(beat.error_code, 27, "REBALANCE_IN_PROGRESS");
    let rejoined: JoinGroupResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::JoinGroup, 5, 10, &join_group(&a_id))).unwrap(),
        5,
        10,
    );
    let b_joined: JoinGroupResponse = response(&b.wake(&mut cluster, now).unwrap(), 0, 8);
    assert_eq!((rejoined.generation_id, b_joined.generation_id), (2, 2));
    assert_eq!(rejoined.members.len(), 2);
    assert_eq!(b_joined.leader, rejoined.leader);

    // What the UI sees: the engine's DescribeGroup, with both members and their hosts.
    let Reply::GroupDescribed { state, members, .. } =
        cluster.handle(now, Command::DescribeGroup { group: "billing".into() })
    else {
        panic!("not described")
    };
    assert_eq!(state, "CompletingRebalance");
    let hosts: Vec<&str> = members.iter().map(|m| m.host.as_str()).collect();
    assert_eq!(hosts.len(), 2);
    assert!(hosts.contains(&"/10.0.0.1") && hosts.contains(&"/10.0.0.2"), "{hosts:?}");

    // The admin APIs at the coordinator: ListGroups, DescribeGroups with the members' bytes.
    let listed: ListGroupsResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::ListGroups, 4, 20, &ListGroupsRequest::default()))
            .unwrap(),
        4,
        20,
    );
    let names: Vec<(&str, &str)> =
        listed.groups.iter().map(|g| (g.group_id.0.as_str(), g.group_state.as_str())).collect();
    assert_eq!(names, [("billing", "CompletingRebalance")]);
    let asked =
        DescribeGroupsRequest::default().with_groups(vec![GroupId(StrBytes::from_static_str("billing"))]);
    let described: DescribeGroupsResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::DescribeGroups, 5, 21, &asked)).unwrap(),
        5,
        21,
    );
    let group = &described.groups[0];
    assert_eq!(
        (group.error_code, group.protocol_type.as_str(), group.protocol_data.as_str()),
        (0, "consumer", "range")
    );
    assert_eq!(group.members.len(), 2);
    assert!(group.members.iter().all(|m| m.member_metadata.as_ref() == b"subscription"));

    // B leaves (LeaveGroup v3 names members); a member nobody knows gets UNKNOWN_MEMBER_ID.
    let leave = LeaveGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_members(vec![MemberIdentity::default().with_member_id(b_joined.member_id.clone())]);
    let left: LeaveGroupResponse =
        response(&b.receive(&mut cluster, now, &frame(ApiKey::LeaveGroup, 3, 11, &leave)).unwrap(), 3, 11);
    assert_eq!(left.members[0].error_code, 0);
    let leave = LeaveGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_member_id(StrBytes::from_static_str("nobody"));
    let left: LeaveGroupResponse =
        response(&b.receive(&mut cluster, now, &frame(ApiKey::LeaveGroup, 0, 12, &leave)).unwrap(), 0, 12);
    assert_eq!(left.error_code, 25, "UNKNOWN_MEMBER_ID");

    // A group with a member cannot be deleted; once A leaves too, it can, offsets and all.
    let delete =
        DeleteGroupsRequest::default().with_groups_names(vec![GroupId(StrBytes::from_static_str("billing"))]);
    let deleted: DeleteGroupsResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::DeleteGroups, 2, 22, &delete)).unwrap(), 2, 22);
    assert_eq!(deleted.results[0].error_code, 68, "NON_EMPTY_GROUP");
    let leave = LeaveGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_member_id(StrBytes::from_string(a_id.clone()));
    let left: LeaveGroupResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::LeaveGroup, 2, 23, &leave)).unwrap(), 2, 23);
    assert_eq!(left.error_code, 0);
    let deleted: DeleteGroupsResponse =
        response(&a.receive(&mut cluster, now, &frame(ApiKey::DeleteGroups, 2, 24, &delete)).unwrap(), 2, 24);
    assert_eq!(deleted.results[0].error_code, 0);
    let described: DescribeGroupsResponse = response(
        &a.receive(&mut cluster, now, &frame(ApiKey::DescribeGroups, 5, 25, &asked)).unwrap(),
        5,
        25,
    );
    assert_eq!(described.groups[0].group_state.as_str(), "Dead", "a deleted group is Dead, as in Kafka");

    // Any other broker is not the coordinator.
    let elsewhere = (0..3).find(|id| *id != coordinator).unwrap();
    let mut c = KafkaConnection::new(listener(elsewhere));
    let beat: HeartbeatResponse = response(
        &c.receive(&mut cluster, now, &frame(ApiKey::Heartbeat, 2, 13, &heartbeat(&a_id, 2))).unwrap(),
        2,
        13,
    );
    assert_eq!(beat.error_code, 16, "NOT_COORDINATOR");
    for connection in [a, b, c] {
        connection.close(&mut cluster, now);
    }
}

/// An idempotent producer's batch of `values` at `epoch` from `first_sequence`.
fn idempotent(producer_id: i64, epoch: i16, first_sequence: i32, values: &[&str]) -> ProduceRequest {
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| BatchRecord {
            offset_delta: i as i32,
            value: Some(v.as_bytes().to_vec()),
            ..BatchRecord::default()
        })
        .collect();
    let mut batch = RecordBatch::new(NOW_MS, records);
    (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (producer_id, epoch, first_sequence);
    let partition = PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(Bytes::from(batch.encode().unwrap())));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partition_data(vec![partition]);
    ProduceRequest::default().with_acks(-1).with_timeout_ms(30_000).with_topic_data(vec![topic])
}

/// The (error code, base offset) a produce gets.
fn produced(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    id: i32,
    request: &ProduceRequest,
) -> (i16, i64) {
    let out = connection.receive(cluster, NOW_MS, &frame(ApiKey::Produce, 9, id, request)).unwrap();
    let answer: ProduceResponse = response(&out, 9, id);
    let partition = &answer.responses[0].partition_responses[0];
    (partition.error_code, partition.base_offset)
}

fn init_producer_id(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    id: i32,
    existing: (i64, i16),
) -> (i64, i16) {
    let ask = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(existing.0))
        .with_producer_epoch(existing.1);
    let out = connection.receive(cluster, NOW_MS, &frame(ApiKey::InitProducerId, 4, id, &ask)).unwrap();
    let answer: InitProducerIdResponse = response(&out, 4, id);
    assert_eq!(answer.error_code, 0);
    (answer.producer_id.0, answer.producer_epoch)
}

/// The idempotent producer: InitProducerId hands out a new id each time (an id without an epoch
/// is INVALID_REQUEST); a retried batch gets the offset it got the first time and is not stored
/// twice; a skipped sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; a newer epoch fences the older one
/// (INVALID_PRODUCER_EPOCH); a batch without a sequence is INVALID_RECORD; the stored batch keeps the
/// producer's id, epoch and sequence; and after the leader moves, the new leader, rebuilding the
/// state from its own log, still knows the last batch as a retry.
#[test]
fn an_idempotent_producer_is_not_duplicated_and_is_fenced() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(leader));
    let (pid, epoch) = init_producer_id(&mut connection, &mut cluster, 1, (-1, -1));
    assert_eq!(epoch, 0);
    assert!(pid >= 0);
    let (again, _) = init_producer_id(&mut connection, &mut cluster, 10, (pid, 0));
    assert!(again > pid, "an idempotent producer always gets a new id");
    let half = InitProducerIdRequest::default().with_transactional_id(None).with_producer_id(ProducerId(pid));
    let out = connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::InitProducerId, 4, 11, &half)).unwrap();
    assert_eq!(response::<InitProducerIdResponse>(&out, 4, 11).error_code, 42, "INVALID_REQUEST");
    assert_eq!(
        produced(&mut connection, &mut cluster, 12, &idempotent(pid, 0, -1, &["x"])).0,
        87,
        "INVALID_RECORD"
    );

    let first = idempotent(pid, 0, 0, &["a", "b"]);
    assert_eq!(produced(&mut connection, &mut cluster, 2, &first), (0, 0));
    assert_eq!(produced(&mut connection, &mut cluster, 3, &first), (0, 0), "a retry: the same offset");
    assert_eq!(produced(&mut connection, &mut cluster, 4, &idempotent(pid, 0, 2, &["c"])), (0, 2));
    assert_eq!(
        produced(&mut connection, &mut cluster, 5, &idempotent(pid, 0, 9, &["x"])).0,
        45,
        "OUT_OF_ORDER_SEQUENCE_NUMBER"
    );
    let fetch = Command::Fetch {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_records: 10,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
        isolation_level: Default::default(),
    };
    let Reply::Records { records, .. } = cluster.handle(NOW_MS, fetch.clone()) else { panic!("no records") };
    let values: Vec<_> = records.iter().filter_map(|r| r.value.clone()).collect();
    assert_eq!(values, ["a", "b", "c"], "the retry was not stored again");
    let Reply::RecordBatches { payload, .. } = cluster.handle(
        NOW_MS,
        Command::FetchRecords {
            topic: "orders".into(),
            partition: 0,
            offset: 0,
            max_bytes: None,
            isolation_level: Default::default(),
        },
    ) else {
        panic!("no batches")
    };
    let (stored, _) = RecordBatch::decode(&payload).unwrap();
    assert_eq!((stored.producer_id, stored.producer_epoch, stored.base_sequence), (pid, 0, 0));

    // The leader moves; the new one rebuilds the producer's state from its log.
    cluster.allow_faults = true;
    assert!(!matches!(cluster.handle(NOW_MS, Command::StopBroker { broker: leader }), Reply::Error(_)));
    let (new_leader, _) = cluster.leadership("orders", 0).unwrap();
    let new_leader = new_leader.expect("a new leader");
    assert_ne!(new_leader, leader);
    let mut at_new_leader = KafkaConnection::new(listener(new_leader));
    // Until the new leader's high watermark passes the batch, its retry under acks=all is
    // REQUEST_TIMED_OUT (Kafka would hold the answer); the client retries, and then it is known.
    let retry = idempotent(pid, 0, 2, &["c"]);
    let mut answers = Vec::new();
    for round in 0..20 {
        cluster.tick(NOW_MS + round * 100);
        answers.push(produced(&mut at_new_leader, &mut cluster, 100 + round as i32, &retry));
        if answers.last() == Some(&(0, 2)) {
            break;
        }
    }
    assert_eq!(answers.last(), Some(&(0, 2)), "still a retry after failover: {answers:?}");
    assert!(answers.iter().all(|a| *a == (0, 2) || a.0 == 7), "{answers:?}");

    // A newer epoch of the producer (a transactional producer's bump) fences the older one.
    assert_eq!(produced(&mut at_new_leader, &mut cluster, 8, &idempotent(pid, 1, 0, &["d"])), (0, 3));
    assert_eq!(
        produced(&mut at_new_leader, &mut cluster, 9, &idempotent(pid, 0, 3, &["e"])).0,
        47,
        "INVALID_PRODUCER_EPOCH"
    );
}

/// SASL/PLAIN on a listener that requires it: nothing but ApiVersions and the exchange before
/// authenticating (Metadata closes the connection); PLAIN only; a wrong password is answered
/// SASL_AUTHENTICATION_FAILED and ends the connection; the right one (any user) opens it.
#[test]
fn a_listener_with_a_password_takes_sasl_plain_only() {
    let (mut cluster, leader) = cluster_with_orders();
    let guarded = KafkaListener { sasl_plain_password: Some("classroom".into()), ..listener(leader) };
    let metadata = frame(ApiKey::Metadata, 12, 1, &MetadataRequest::default().with_topics(None));

    let mut early = KafkaConnection::new(guarded.clone());
    let close = early.receive(&mut cluster, NOW_MS, &metadata).unwrap_err();
    assert!(close.reason.contains("before SASL authentication"), "{}", close.reason);

    let handshake = |mechanism: &'static str, id| {
        frame(
            ApiKey::SaslHandshake,
            1,
            id,
            &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism)),
        )
    };
    let authenticate = |secret: &'static [u8], id| {
        frame(
            ApiKey::SaslAuthenticate,
            2,
            id,
            &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from_static(secret)),
        )
    };
    let mut guesser = KafkaConnection::new(guarded.clone());
    let out = guesser
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::ApiVersions, 3, 2, &ApiVersionsRequest::default()))
        .unwrap();
    assert_eq!(response::<ApiVersionsResponse>(&out, 3, 2).error_code, 0, "ApiVersions is answered first");
    let out = guesser.receive(&mut cluster, NOW_MS, &handshake("SCRAM-SHA-256", 3)).unwrap();
    let answer: SaslHandshakeResponse = response(&out, 1, 3);
    assert_eq!(
        (answer.error_code, answer.mechanisms[0].as_str()),
        (33, "PLAIN"),
        "UNSUPPORTED_SASL_MECHANISM"
    );
    assert_eq!(
        response::<SaslHandshakeResponse>(
            &guesser.receive(&mut cluster, NOW_MS, &handshake("PLAIN", 4)).unwrap(),
            1,
            4
        )
        .error_code,
        0
    );
    let out = guesser.receive(&mut cluster, NOW_MS, &authenticate(b"\0kite\0wrong", 5)).unwrap();
    assert_eq!(response::<SaslAuthenticateResponse>(&out, 2, 5).error_code, 58, "SASL_AUTHENTICATION_FAILED");
    assert!(guesser.closing() && guesser.failed_logins() == 1);
    assert!(guesser.receive(&mut cluster, NOW_MS, &metadata).is_err(), "the connection is over");

    let mut learner = KafkaConnection::new(guarded);
    learner.receive(&mut cluster, NOW_MS, &handshake("PLAIN", 6)).unwrap();
    let out = learner.receive(&mut cluster, NOW_MS, &authenticate(b"\0anyone\0classroom", 7)).unwrap();
    assert_eq!(response::<SaslAuthenticateResponse>(&out, 2, 7).error_code, 0);
    let out = learner.receive(&mut cluster, NOW_MS, &metadata).unwrap();
    let answer: MetadataResponse = response(&out, 12, 1);
    assert_eq!(answer.brokers.len(), 3, "authenticated: Metadata is answered");

    // SaslHandshake v0 (KIP-43): the bare token follows in its own frame; an empty frame back.
    let mut old = KafkaConnection::new(KafkaListener {
        sasl_plain_password: Some("classroom".into()),
        ..listener(leader)
    });
    let v0 = frame(
        ApiKey::SaslHandshake,
        0,
        8,
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN")),
    );
    assert_eq!(
        response::<SaslHandshakeResponse>(&old.receive(&mut cluster, NOW_MS, &v0).unwrap(), 0, 8).error_code,
        0
    );
    let token = b"\0anyone\0classroom";
    let mut bare = (token.len() as i32).to_be_bytes().to_vec();
    bare.extend_from_slice(token);
    assert_eq!(old.receive(&mut cluster, NOW_MS, &bare).unwrap(), [0, 0, 0, 0]);
    assert!(!old.receive(&mut cluster, NOW_MS, &metadata).unwrap().is_empty());
}

/// A Kafka connection is listed by `describe_cluster` (the UI's cluster view) from its first
/// bytes: the broker, its address, its client.id and software (ApiVersions v3), its requests by
/// API; and is gone once it closes.
#[test]
fn describe_cluster_lists_the_connected_kafka_clients() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(leader)).with_peer_host("/10.0.0.7");
    let hello = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kite-test-client"))
        .with_client_software_version(StrBytes::from_static_str("1.2"));
    connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::ApiVersions, 3, 1, &hello)).unwrap();
    for id in 2..4 {
        let metadata = MetadataRequest::default().with_topics(None);
        connection.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, id, &metadata)).unwrap();
    }
    let Reply::ClusterDescribed { kafka_clients, .. } = cluster.handle(NOW_MS, Command::DescribeCluster)
    else {
        panic!("not described")
    };
    assert_eq!(kafka_clients.len(), 1);
    let client = &kafka_clients[0];
    assert_eq!(
        (client.broker, client.address.as_str(), client.client_id.as_str()),
        (leader, "/10.0.0.7", "kite-test")
    );
    assert_eq!(client.software, "kite-test-client 1.2");
    let requests: Vec<(&str, u64)> = client.requests.iter().map(|(api, n)| (api.as_str(), *n)).collect();
    assert_eq!(requests, [("ApiVersions", 1), ("Metadata", 2)]);
    assert_eq!(client.connection, 1, "the number the protocol inspector names it by");

    // Its producer ids and its groups are listed too: what it is, not only what it asked.
    let (producer_id, _) = init_producer_id(&mut connection, &mut cluster, 4, (-1, -1));
    let coordinator = billing_coordinator(&mut cluster);
    let mut member = KafkaConnection::new(listener(coordinator));
    member.receive(&mut cluster, NOW_MS, &frame(ApiKey::JoinGroup, 5, 1, &join_group(""))).unwrap();
    let Reply::ClusterDescribed { kafka_clients, .. } = cluster.handle(NOW_MS, Command::DescribeCluster)
    else {
        panic!("not described")
    };
    let by_connection = |n: u64| kafka_clients.iter().find(|c| c.connection == n).expect("listed");
    assert_eq!(by_connection(1).producer_ids, [producer_id]);
    let joined: Vec<&Vec<String>> = kafka_clients.iter().map(|c| &c.groups).collect();
    assert!(joined.iter().any(|groups| groups.as_slice() == ["billing"]), "{kafka_clients:?}");
    member.close(&mut cluster, NOW_MS);
    connection.close(&mut cluster, NOW_MS);
    let Reply::ClusterDescribed { kafka_clients, .. } = cluster.handle(NOW_MS, Command::DescribeCluster)
    else {
        panic!("not described")
    };
    assert!(kafka_clients.is_empty(), "gone once closed");
}

/// A broker's listener as a client finds it: a stopped broker closes its connections (its port
/// is gone); a paused or cut-off one reads nothing and answers nothing until it is back, and
/// then answers what waited.
#[test]
fn a_stopped_broker_closes_its_connections_and_a_paused_one_leaves_requests_waiting() {
    let (mut cluster, leader) = cluster_with_orders();
    cluster.allow_faults = true;
    let follower = (leader + 1) % 3;
    let mut at_follower = KafkaConnection::new(listener(follower));
    let metadata = MetadataRequest::default().with_topics(None);
    let out = at_follower.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 1, &metadata)).unwrap();
    let _: MetadataResponse = response(&out, 12, 1);
    assert_eq!(at_follower.wake_at_ms(), None, "nothing waits while the broker is up");

    for (pause, resume) in [
        (Command::PauseBroker { broker: follower }, Command::ResumeBroker { broker: follower }),
        (Command::IsolateBroker { broker: follower }, Command::HealBroker { broker: follower }),
    ] {
        let paused = cluster.handle(NOW_MS, pause.clone());
        assert!(matches!(paused, Reply::ClusterDescribed { .. }), "{paused:?}");
        let out =
            at_follower.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 2, &metadata)).unwrap();
        assert!(out.is_empty(), "{pause:?}: no answer");
        assert!(at_follower.wake_at_ms().is_some(), "{pause:?}: the host looks again later");
        assert!(at_follower.wake(&mut cluster, NOW_MS + 1_000).unwrap().is_empty(), "{pause:?}: still none");
        let resumed = cluster.handle(NOW_MS, resume);
        assert!(matches!(resumed, Reply::ClusterDescribed { .. }), "{resumed:?}");
        let out = at_follower.wake(&mut cluster, NOW_MS + 2_000).unwrap();
        let _: MetadataResponse = response(&out, 12, 2);
        assert_eq!(at_follower.wake_at_ms(), None, "{pause:?}: answered once back");
    }

    let stopped = cluster.handle(NOW_MS, Command::StopBroker { broker: follower });
    assert!(matches!(stopped, Reply::ClusterDescribed { .. }), "{stopped:?}");
    let closed = at_follower.wake(&mut cluster, NOW_MS).unwrap_err();
    assert!(closed.reason.contains(&format!("broker {follower} is stopped")), "{}", closed.reason);
    assert_eq!(cluster.kafka_listener_reach(follower), ListenerReach::Refused);
    let mut reconnected = KafkaConnection::new(listener(follower));
    let refused = reconnected.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 3, &metadata));
    assert!(refused.is_err(), "a new connection to the stopped broker is closed too");
    // Started again, it answers new connections.
    let started = cluster.handle(NOW_MS, Command::StartBroker { broker: follower });
    assert!(matches!(started, Reply::ClusterDescribed { .. }), "{started:?}");
    assert_eq!(cluster.kafka_listener_reach(follower), ListenerReach::Serving);
    let mut again = KafkaConnection::new(listener(follower));
    let out = again.receive(&mut cluster, NOW_MS, &frame(ApiKey::Metadata, 12, 4, &metadata)).unwrap();
    let _: MetadataResponse = response(&out, 12, 4);
}

/// OffsetForLeaderEpoch for `orders-0`: a consumer at `current` (-1: unchecked) asking where
/// `epoch` ended.
fn epoch_end_request(current: i32, epoch: i32) -> OffsetForLeaderEpochRequest {
    let partition = OffsetForLeaderPartition::default()
        .with_partition(0)
        .with_current_leader_epoch(current)
        .with_leader_epoch(epoch);
    let topic = OffsetForLeaderTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(kafka_protocol::messages::BrokerId(-1))
        .with_topics(vec![topic])
}

/// OffsetForLeaderEpoch as a consumer asks it after a leader change (KIP-320): the old epoch
/// ended where the new leader's began, the current one at the log end; a newer epoch is
/// undefined, a stale or future current epoch is refused, and a broker that does not lead says so.
#[test]
fn offset_for_leader_epoch_says_where_each_epoch_ended() {
    let (mut cluster, leader) = cluster_with_orders();
    cluster.allow_faults = true;
    let (_, first_epoch) = cluster.leadership("orders", 0).unwrap();
    let mut at_leader = KafkaConnection::new(listener(leader));
    let out = at_leader
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 1, &produce(-1, &["a", "b"])))
        .unwrap();
    let _: ProduceResponse = response(&out, 9, 1);
    let ask = |connection: &mut KafkaConnection, cluster: &mut Cluster, current: i32, epoch: i32, id: i32| {
        let out = connection
            .receive(
                cluster,
                NOW_MS,
                &frame(ApiKey::OffsetForLeaderEpoch, 4, id, &epoch_end_request(current, epoch)),
            )
            .unwrap();
        let answer: OffsetForLeaderEpochResponse = response(&out, 4, id);
        let p = &answer.topics[0].partitions[0];
        (p.error_code, p.leader_epoch, p.end_offset)
    };
    assert_eq!(
        ask(&mut at_leader, &mut cluster, first_epoch, first_epoch, 2),
        (0, first_epoch, 2),
        "the current epoch ends at the log end"
    );
    assert_eq!(
        ask(&mut at_leader, &mut cluster, first_epoch, first_epoch + 1, 3),
        (0, -1, -1),
        "an epoch the log has not seen: undefined"
    );

    // The leader stops; the new one leads at a higher epoch, from offset 2.
    assert!(matches!(
        cluster.handle(NOW_MS, Command::StopBroker { broker: leader }),
        Reply::ClusterDescribed { .. }
    ));
    let (new_leader, new_epoch) = cluster.leadership("orders", 0).unwrap();
    let new_leader = new_leader.expect("a new leader");
    let mut at_new_leader = KafkaConnection::new(listener(new_leader));
    let out = at_new_leader
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 4, &produce(1, &["c"])))
        .unwrap();
    let _: ProduceResponse = response(&out, 9, 4);
    assert_eq!(
        ask(&mut at_new_leader, &mut cluster, new_epoch, first_epoch, 5),
        (0, first_epoch, 2),
        "the old epoch ended where the new one began"
    );
    assert_eq!(ask(&mut at_new_leader, &mut cluster, new_epoch, new_epoch, 6), (0, new_epoch, 3));
    assert_eq!(
        ask(&mut at_new_leader, &mut cluster, -1, new_epoch, 7),
        (0, new_epoch, 3),
        "-1: the current epoch is not checked"
    );
    assert_eq!(
        ask(&mut at_new_leader, &mut cluster, first_epoch, first_epoch, 8).0,
        74,
        "FENCED_LEADER_EPOCH"
    );
    assert_eq!(
        ask(&mut at_new_leader, &mut cluster, new_epoch + 1, new_epoch, 9).0,
        75,
        "UNKNOWN_LEADER_EPOCH"
    );
    let follower = (0..3).find(|b| *b != leader && *b != new_leader).unwrap();
    let mut at_follower = KafkaConnection::new(listener(follower));
    assert_eq!(ask(&mut at_follower, &mut cluster, new_epoch, new_epoch, 10).0, 6, "NOT_LEADER_OR_FOLLOWER");
}

/// A frame's fields as the inspector lists them, one line each: name, value, the bytes spanned.
fn field_lines(frame: &kite_shared::api::KafkaFrameView) -> Vec<String> {
    frame.fields.iter().map(|f| format!("{} = {} [{}..{})", f.name, f.value, f.start, f.end)).collect()
}

/// What `inspect_kafka` shows of every exchange, one line each.
fn inspected(cluster: &mut Cluster, after: u64) -> Vec<kite_shared::api::KafkaExchangeView> {
    let Reply::KafkaExchanges { exchanges } = cluster.handle(NOW_MS, Command::InspectKafka { after }) else {
        panic!("not inspected")
    };
    exchanges
}

/// The protocol inspector keeps each request a client sent with what came of it — answered,
/// waiting (a fetch), none (acks=0), the connection closed — and decodes both field by field
/// beside their bytes; a SASL password is never kept; the newest `MAX_INSPECTED_EXCHANGES` stay.
#[test]
fn the_protocol_inspector_shows_each_request_and_its_response() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut client = KafkaConnection::new(listener(leader));
    let produced = frame(ApiKey::Produce, 9, 2, &produce(1, &["a"]));
    client
        .receive(&mut cluster, NOW_MS, &frame(ApiKey::ApiVersions, 3, 1, &ApiVersionsRequest::default()))
        .unwrap();
    client.receive(&mut cluster, NOW_MS, &produced).unwrap();
    client.receive(&mut cluster, NOW_MS, &frame(ApiKey::Produce, 9, 3, &produce(0, &["b"]))).unwrap();
    let partition =
        FetchPartition::default().with_partition(0).with_fetch_offset(2).with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("orders")))
        .with_partitions(vec![partition]);
    let fetch = FetchRequest::default().with_max_wait_ms(500).with_min_bytes(1).with_topics(vec![topic]);
    client.receive(&mut cluster, NOW_MS, &frame(ApiKey::Fetch, 12, 4, &fetch)).unwrap();
    let mut guarded = KafkaConnection::new(KafkaListener {
        sasl_plain_password: Some("classroom".into()),
        ..listener(leader)
    });
    let handshake = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    guarded.receive(&mut cluster, NOW_MS, &frame(ApiKey::SaslHandshake, 1, 1, &handshake)).unwrap();
    let authenticate =
        SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from_static(b"\0anyone\0classroom"));
    guarded.receive(&mut cluster, NOW_MS, &frame(ApiKey::SaslAuthenticate, 2, 2, &authenticate)).unwrap();
    let mut stranger = KafkaConnection::new(listener(leader));
    assert!(stranger.receive(&mut cluster, NOW_MS, &[0, 0, 0, 8, 0x7f, 0, 0, 0, 0, 0, 0, 9]).is_err());

    let exchanges = inspected(&mut cluster, 0);
    let lines: Vec<String> = exchanges
        .iter()
        .map(|e| {
            let response = e.response.as_ref().map_or("-".to_string(), |r| r.size.to_string());
            format!(
                "#{} conn {} {} v{} corr {} {} B → {} {} {}",
                e.id,
                e.connection,
                e.api,
                e.version,
                e.correlation_id,
                e.request.size,
                response,
                e.outcome,
                e.closed_reason
            )
        })
        .collect();
    expect_test::expect![[r#"
        #1 conn 1 ApiVersions v3 corr 1 27 B → 282 answered 
        #2 conn 1 Produce v9 corr 2 117 B → 57 answered 
        #3 conn 1 Produce v9 corr 3 117 B → - no_response 
        #4 conn 1 Fetch v12 corr 4 95 B → - waiting 
        #5 conn 2 SaslHandshake v1 corr 1 30 B → 21 answered 
        #6 conn 2 SaslAuthenticate v2 corr 2 43 B → 22 answered 
        #7 conn 3 unknown API key 32512 v0 corr 9 12 B → - closed unknown API key 32512"#]]
    .assert_eq(&lines.join("\n"));

    // The produce's header, field by field beside its bytes, then its body decoded.
    let request = &exchanges[1].request;
    let fields = field_lines(request);
    expect_test::expect![[r#"
        size = 113 [0..4)
        request_api_key = 0 (Produce) [4..6)
        request_api_version = 9 [6..8)
        correlation_id = 2 [8..12)
        client_id = "kite-test" [12..23)
        _tagged_fields = 0 tagged [23..24)
        body = ProduceRequest v9 [24..117)
        batch 0: baseOffset = 0 [45..53)
        batch 0: batchLength = 57 [53..57)
        batch 0: partitionLeaderEpoch = -1 [57..61)
        batch 0: magic = 2 [61..62)
        batch 0: crc = 0x965a94b1 [62..66)
        batch 0: attributes = 0 [66..68)
        batch 0: lastOffsetDelta = 0 [68..72)
        batch 0: baseTimestamp = 1700000000000 [72..80)
        batch 0: maxTimestamp = 1700000000000 [80..88)
        batch 0: producerId = -1 [88..96)
        batch 0: producerEpoch = -1 [96..98)
        batch 0: baseSequence = -1 [98..102)
        batch 0: recordCount = 1 [102..106)
        batch 0: records = 1 [106..114)"#]]
    .assert_eq(&fields.join("\n"));
    assert!(request.hex.starts_with("00 00 00 71 00 00 00 09 00 00 00 02 00 09"), "{}", request.hex);
    assert!(request.body.contains("acks: 1") && request.body.contains("\"orders\""), "{}", request.body);
    let response = exchanges[1].response.as_ref().expect("answered");
    assert!(response.body.starts_with("Produce(\n    ProduceResponse {"), "{}", response.body);
    assert_eq!(response.fields[1].name, "correlation_id");

    // The password is in no field, body or byte of the SASL exchange.
    let sasl = &exchanges[5];
    let shown = format!("{:?}", sasl);
    assert!(sasl.request.redacted && !shown.contains("classroom"), "{shown}");
    let password_hex: Vec<String> = b"classroom".iter().map(|b| format!("{b:02x}")).collect();
    assert!(!sasl.request.hex.contains(&password_hex.join(" ")));

    // The waiting fetch is answered at its max wait, and its exchange says so.
    client.wake(&mut cluster, NOW_MS + 600).unwrap();
    let fetch = &inspected(&mut cluster, 3)[0];
    assert_eq!((fetch.id, fetch.outcome.as_str()), (4, "answered"));
    assert!(fetch.response.as_ref().is_some_and(|r| r.body.contains("high_watermark: 2")), "{fetch:?}");

    // Newest first kept, at most MAX_INSPECTED_EXCHANGES; one answer at most
    // MAX_INSPECTED_EXCHANGES_PER_REPLY, the newest.
    use kite_shared::limits::{MAX_INSPECTED_EXCHANGES, MAX_INSPECTED_EXCHANGES_PER_REPLY};
    for id in 0..MAX_INSPECTED_EXCHANGES as i32 {
        client
            .receive(
                &mut cluster,
                NOW_MS,
                &frame(ApiKey::ApiVersions, 3, 10 + id, &ApiVersionsRequest::default()),
            )
            .unwrap();
    }
    let newest = inspected(&mut cluster, 0);
    assert_eq!(newest.len(), MAX_INSPECTED_EXCHANGES_PER_REPLY);
    assert_eq!(newest.last().map(|e| e.id), Some(7 + MAX_INSPECTED_EXCHANGES as u64));
    let newest_id = 7 + MAX_INSPECTED_EXCHANGES as u64;
    assert_eq!(inspected(&mut cluster, newest_id - 3).len(), 3, "only what is newer");
}

/// A hostile client's record batches cost the inspector a bounded walk: of many batches in one
/// request only the first `MAX_INSPECTED_BATCHES_PER_FRAME` are mapped, and bytes that only look
/// like a batch (a negative `batchLength`, a header cut short) end the walk without a panic.
#[test]
fn the_inspector_maps_a_bounded_number_of_batches_and_survives_false_ones() {
    use kite_shared::limits::MAX_INSPECTED_BATCHES_PER_FRAME;
    let (mut cluster, leader) = cluster_with_orders();
    let mut client = KafkaConnection::new(listener(leader));
    let with_records = |records: Bytes| {
        let partition = PartitionProduceData::default().with_index(0).with_records(Some(records));
        let topic = TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("orders")))
            .with_partition_data(vec![partition]);
        ProduceRequest::default().with_acks(1).with_timeout_ms(30_000).with_topic_data(vec![topic])
    };
    let many: Vec<u8> =
        (0..MAX_INSPECTED_BATCHES_PER_FRAME + 3).flat_map(|_| records(&["a"]).to_vec()).collect();
    let mut false_batch = vec![0xff; 61];
    false_batch.extend_from_slice(&[0; 30]);
    for (correlation, records) in [(1, many), (2, false_batch), (3, vec![0; 60])] {
        let request = frame(ApiKey::Produce, 9, correlation, &with_records(Bytes::from(records)));
        client.receive(&mut cluster, NOW_MS, &request).unwrap();
    }
    let mapped: Vec<usize> = inspected(&mut cluster, 0)
        .iter()
        .map(|e| e.request.fields.iter().filter(|f| f.name.ends_with(": magic")).count())
        .collect();
    assert_eq!(mapped, [MAX_INSPECTED_BATCHES_PER_FRAME, 1, 0], "batches mapped per request");
}

/// In the tab no Kafka client can connect, so the inspector shows the UI's own actions as the
/// requests a client would send: a new topic is a CreateTopicsRequest answered as the listener
/// answers one; a produce is a ProduceRequest v11 carrying the batch the leader stored (base
/// offset 0 and no leader epoch, as a producer sends it), each of the batch's fields beside its
/// bytes; a refused create carries Kafka's error. Whatever the UI does besides is not shown.
#[test]
fn the_uis_own_actions_show_as_kafka_requests() {
    use kite_shared::kafka::ui_requests;
    let mut cluster = Cluster::replicated_in_memory(11, 3, NOW_MS);
    let act = |cluster: &mut Cluster, command: Command| {
        assert_eq!(ui_requests::shows(&command), !matches!(command, Command::ListTopics));
        let reply = cluster.handle(NOW_MS, command.clone());
        ui_requests::inspect(cluster, NOW_MS, &command, &reply);
        reply
    };
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: [("retention.ms".to_string(), "60000".to_string())].into(),
        replication_factor: Some(3),
    };
    act(&mut cluster, create.clone());
    act(&mut cluster, Command::ListTopics);
    let produce = Command::Produce {
        topic: "orders".into(),
        partition: None,
        key: Some("k".into()),
        value: Some("v".into()),
        timestamp_ms: Some(NOW_MS),
        partitioner: Default::default(),
        key_serializer: Default::default(),
        value_serializer: Default::default(),
        headers: Vec::new(),
        acks: Default::default(),
        producer: None,
    };
    let Reply::Produced { offset, .. } = act(&mut cluster, produce) else { panic!("not produced") };
    act(&mut cluster, create);

    let exchanges = inspected(&mut cluster, 0);
    let lines: Vec<String> = exchanges
        .iter()
        .map(|e| {
            let response = e.response.as_ref().map_or("-".to_string(), |r| format!("{} B", r.size));
            let (id, client) = (e.id, &e.client_id);
            format!(
                "#{id} conn {} {client} {} v{} corr {} {}",
                e.connection, e.api, e.version, e.correlation_id, e.outcome
            ) + &format!(" → broker {} {response}", e.broker)
        })
        .collect();
    expect_test::expect![[r#"
        #1 conn 0 kite-ui CreateTopics v6 corr 1 answered → broker 0 33 B
        #2 conn 0 kite-ui Produce v11 corr 2 answered → broker 0 57 B
        #3 conn 0 kite-ui CreateTopics v6 corr 3 answered → broker 0 63 B"#]]
    .assert_eq(&lines.join("\n"));

    let request = &exchanges[1].request;
    let fields = field_lines(request);
    expect_test::expect![[r#"
        size = 112 [0..4)
        request_api_key = 0 (Produce) [4..6)
        request_api_version = 11 [6..8)
        correlation_id = 2 [8..12)
        client_id = "kite-ui" [12..21)
        _tagged_fields = 0 tagged [21..22)
        body = ProduceRequest v11 [22..116)
        batch 0: baseOffset = 0 [43..51)
        batch 0: batchLength = 58 [51..55)
        batch 0: partitionLeaderEpoch = -1 [55..59)
        batch 0: magic = 2 [59..60)
        batch 0: crc = 0xe99b8dd8 [60..64)
        batch 0: attributes = 0 [64..66)
        batch 0: lastOffsetDelta = 0 [66..70)
        batch 0: baseTimestamp = 1700000000000 [70..78)
        batch 0: maxTimestamp = 1700000000000 [78..86)
        batch 0: producerId = -1 [86..94)
        batch 0: producerEpoch = -1 [94..96)
        batch 0: baseSequence = -1 [96..100)
        batch 0: recordCount = 1 [100..104)
        batch 0: records = 1 [104..113)"#]]
    .assert_eq(&fields.join("\n"));
    let response = exchanges[1].response.as_ref().expect("answered");
    assert!(response.body.contains(&format!("base_offset: {offset}")), "{}", response.body);
    assert!(
        exchanges[2].response.as_ref().is_some_and(|r| r.body.contains("error_code: 36")),
        "TOPIC_ALREADY_EXISTS"
    );
}

/// A transactional producer's batch: an idempotent one with the transactional bit.
fn transactional(producer_id: i64, epoch: i16, first_sequence: i32, values: &[&str]) -> ProduceRequest {
    let mut request = idempotent(producer_id, epoch, first_sequence, values);
    let data = &mut request.topic_data[0].partition_data[0];
    let (mut batch, _) = RecordBatch::decode(data.records.as_ref().unwrap()).unwrap();
    batch.attributes.transactional = true;
    data.records = Some(Bytes::from(batch.encode().unwrap()));
    request.with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx"))))
}

/// A read_committed or read_uncommitted fetch of orders-0 from `offset`: (error, high watermark,
/// last stable offset, aborted transactions as (producer id, first offset), data values).
fn fetch_isolated(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    id: i32,
    read_committed: bool,
) -> (i16, i64, i64, Vec<(i64, i64)>, Vec<String>) {
    let ask = fetch_at_epoch(-1).with_isolation_level(i8::from(read_committed));
    let out = connection.receive(cluster, NOW_MS, &frame(ApiKey::Fetch, 12, id, &ask)).unwrap();
    let answer: FetchResponse = response(&out, 12, id);
    let p = &answer.responses[0].partitions[0];
    let aborted =
        p.aborted_transactions.iter().flatten().map(|a| (a.producer_id.0, a.first_offset)).collect();
    let mut values = Vec::new();
    let mut rest = p.records.as_deref().unwrap_or_default();
    while let Ok((batch, used)) = RecordBatch::decode(rest) {
        rest = &rest[used..];
        if !batch.attributes.control {
            values.extend(
                batch
                    .records
                    .iter()
                    .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()),
            );
        }
    }
    (p.error_code, p.high_watermark, p.last_stable_offset, aborted, values)
}

/// One transaction API request at the coordinator: its response's error code.
fn txn_call<T: Encodable + HeaderVersion>(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    api: ApiKey,
    id: i32,
    request: &T,
    now_ms: i64,
) -> i16 {
    let out = connection.receive(cluster, now_ms, &frame(api, 3, id, request)).unwrap();
    match api {
        ApiKey::AddPartitionsToTxn => {
            response::<AddPartitionsToTxnResponse>(&out, 3, id).results_by_topic_v3_and_below[0]
                .results_by_partition[0]
                .partition_error_code
        }
        ApiKey::AddOffsetsToTxn => response::<AddOffsetsToTxnResponse>(&out, 3, id).error_code,
        ApiKey::EndTxn => response::<EndTxnResponse>(&out, 3, id).error_code,
        ApiKey::TxnOffsetCommit => {
            response::<TxnOffsetCommitResponse>(&out, 3, id).topics[0].partitions[0].error_code
        }
        other => panic!("{other:?}"),
    }
}

/// A transactional producer, step by step as librdkafka's and the Java client's go: FindCoordinator
/// for the transactional id, InitProducerId, AddPartitionsToTxn, a transactional batch at the
/// leader, AddOffsetsToTxn and TxnOffsetCommit, EndTxn. Read committed, nothing of an open
/// transaction shows (the last stable offset stays at its first offset); a committed one shows
/// whole with its offsets committed for the group; an aborted one is named in the fetch so the
/// consumer skips it. A batch to a partition not added is INVALID_TXN_STATE; a new instance of the
/// producer fences the old one (PRODUCER_FENCED); a transaction left open past its timeout is
/// aborted by the coordinator.
#[test]
fn a_transaction_over_the_kafka_protocol() {
    let (mut cluster, leader) = cluster_with_orders();
    let coordinator = {
        let ask =
            FindCoordinatorRequest::default().with_key_type(1).with_key(StrBytes::from_static_str("tx"));
        let mut any = KafkaConnection::new(listener(leader));
        let out = any.receive(&mut cluster, NOW_MS, &frame(ApiKey::FindCoordinator, 3, 1, &ask)).unwrap();
        let answer: FindCoordinatorResponse = response(&out, 3, 1);
        assert_eq!(answer.error_code, 0, "{answer:?}");
        answer.node_id.0
    };
    let mut at_coordinator = KafkaConnection::new(listener(coordinator));
    let mut at_leader = KafkaConnection::new(listener(leader));
    let init = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx"))))
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let out =
        at_coordinator.receive(&mut cluster, NOW_MS, &frame(ApiKey::InitProducerId, 4, 2, &init)).unwrap();
    let answer: InitProducerIdResponse = response(&out, 4, 2);
    assert_eq!((answer.error_code, answer.producer_epoch), (0, 0));
    let pid = answer.producer_id.0;
    let tx = || TransactionalId(StrBytes::from_static_str("tx"));
    let add = |epoch: i16| {
        let topic =
            kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partitions(vec![0]);
        AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(tx())
            .with_v3_and_below_producer_id(ProducerId(pid))
            .with_v3_and_below_producer_epoch(epoch)
            .with_v3_and_below_topics(vec![topic])
    };
    let end = |epoch: i16, committed: bool| {
        EndTxnRequest::default()
            .with_transactional_id(tx())
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_committed(committed)
    };
    let c = &mut cluster;
    assert_eq!(
        produced(&mut at_leader, c, 3, &transactional(pid, 0, 0, &["early"])).0,
        48,
        "INVALID_TXN_STATE: not added"
    );
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::AddPartitionsToTxn, 4, &add(0), NOW_MS), 0);
    assert_eq!(produced(&mut at_leader, c, 5, &transactional(pid, 0, 0, &["a", "b"])), (0, 0));
    assert_eq!(
        fetch_isolated(&mut at_leader, c, 6, true),
        (0, 2, 0, vec![], vec![]),
        "open: nothing committed"
    );
    assert_eq!(fetch_isolated(&mut at_leader, c, 7, false).4, ["a", "b"], "read_uncommitted sees it");

    let offsets = AddOffsetsToTxnRequest::default()
        .with_transactional_id(tx())
        .with_producer_id(ProducerId(pid))
        .with_group_id(GroupId(StrBytes::from_static_str("billing")));
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::AddOffsetsToTxn, 8, &offsets, NOW_MS), 0);
    let mut at_group = KafkaConnection::new(listener(billing_coordinator(c)));
    let partition =
        kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
            .with_partition_index(0)
            .with_committed_offset(5);
    let commit = TxnOffsetCommitRequest::default()
        .with_transactional_id(tx())
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_producer_id(ProducerId(pid))
        .with_topics(vec![
            kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partitions(vec![partition]),
        ]);
    assert_eq!(txn_call(&mut at_group, c, ApiKey::TxnOffsetCommit, 9, &commit, NOW_MS), 0);
    assert!(c.committed_offsets("billing").is_empty(), "not committed before the transaction");
    let stable = |c: &mut Cluster, at: &mut KafkaConnection, id: i32| {
        let topic = OffsetFetchRequestTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("orders")))
            .with_partition_indexes(vec![0]);
        let ask = OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("billing")))
            .with_topics(Some(vec![topic]))
            .with_require_stable(true);
        let out = at.receive(c, NOW_MS, &frame(ApiKey::OffsetFetch, 7, id, &ask)).unwrap();
        response::<OffsetFetchResponse>(&out, 7, id).topics[0].partitions[0].error_code
    };
    assert_eq!(stable(c, &mut at_group, 30), 88, "UNSTABLE_OFFSET_COMMIT while the transaction holds it");
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::EndTxn, 10, &end(0, true), NOW_MS), 0);
    // KIP-447: a member id and generation the group (empty now) does not have are a zombie's.
    let zombie = commit.clone().with_member_id(StrBytes::from_static_str("zombie")).with_generation_id(3);
    assert_eq!(
        txn_call(&mut at_group, c, ApiKey::TxnOffsetCommit, 40, &zombie, NOW_MS),
        25,
        "UNKNOWN_MEMBER_ID"
    );
    assert_eq!(
        fetch_isolated(&mut at_leader, c, 11, true),
        (0, 3, 3, vec![], vec!["a".to_string(), "b".to_string()]),
        "committed: both records, then the marker at 2"
    );
    let committed: Vec<_> =
        c.committed_offsets("billing").into_iter().map(|(tp, v)| (tp.partition, v.offset)).collect();
    assert_eq!(committed, [(0, 5)], "the offsets committed with the transaction");
    assert_eq!(stable(c, &mut at_group, 31), 0, "stable once committed");
    assert_eq!(
        txn_call(&mut at_coordinator, c, ApiKey::EndTxn, 12, &end(0, true), NOW_MS),
        0,
        "a retried commit"
    );

    // An aborted transaction: named in a read_committed fetch, its records skipped.
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::AddPartitionsToTxn, 13, &add(0), NOW_MS), 0);
    assert_eq!(produced(&mut at_leader, c, 14, &transactional(pid, 0, 2, &["x"])), (0, 3));
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::EndTxn, 15, &end(0, false), NOW_MS), 0);
    let (_, hw, lso, aborted, _) = fetch_isolated(&mut at_leader, c, 16, true);
    assert_eq!((hw, lso, aborted), (5, 5, vec![(pid, 3)]));

    // A new instance fences the old one.
    let out = at_coordinator.receive(c, NOW_MS, &frame(ApiKey::InitProducerId, 4, 17, &init)).unwrap();
    let answer: InitProducerIdResponse = response(&out, 4, 17);
    assert_eq!((answer.error_code, answer.producer_id.0, answer.producer_epoch), (0, pid, 1));
    assert_eq!(
        txn_call(&mut at_coordinator, c, ApiKey::AddPartitionsToTxn, 18, &add(0), NOW_MS),
        90,
        "PRODUCER_FENCED"
    );

    // Left open past transaction.timeout.ms: the coordinator aborts it under a bumped epoch.
    assert_eq!(txn_call(&mut at_coordinator, c, ApiKey::AddPartitionsToTxn, 19, &add(1), NOW_MS), 0);
    assert_eq!(produced(&mut at_leader, c, 20, &transactional(pid, 1, 0, &["late"])), (0, 5));
    assert_eq!(fetch_isolated(&mut at_leader, c, 21, true).2, 5, "held at the open transaction");
    c.tick(NOW_MS + 60_000);
    let (_, hw, lso, aborted, _) = fetch_isolated(&mut at_leader, c, 22, true);
    assert_eq!((hw, lso, aborted), (7, 7, vec![(pid, 3), (pid, 5)]), "aborted at the timeout");
    assert_eq!(
        txn_call(&mut at_coordinator, c, ApiKey::EndTxn, 23, &end(1, true), NOW_MS + 60_000),
        90,
        "fenced by the abort"
    );
    assert_eq!(
        produced(&mut at_leader, c, 24, &transactional(pid, 1, 1, &["stale"])).0,
        47,
        "INVALID_PRODUCER_EPOCH"
    );
}

/// A WriteTxnMarkers request: one marker of `producer_id` at `epoch` to orders-`partition`.
fn write_markers(producer_id: i64, epoch: i16, commit: bool, partition: i32) -> WriteTxnMarkersRequest {
    use kafka_protocol::messages::write_txn_markers_request::{WritableTxnMarker, WritableTxnMarkerTopic};
    let topic = WritableTxnMarkerTopic::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partition_indexes(vec![partition]);
    let marker = WritableTxnMarker::default()
        .with_producer_id(ProducerId(producer_id))
        .with_producer_epoch(epoch)
        .with_transaction_result(commit)
        .with_topics(vec![topic]);
    WriteTxnMarkersRequest::default().with_markers(vec![marker])
}

/// WriteTxnMarkers, the brokers' internal API, sent as a coordinator sends it: at a follower it is
/// NOT_LEADER_OR_FOLLOWER and at an unknown partition UNKNOWN_TOPIC_OR_PARTITION; at the leader an
/// ABORT marker ends the open transaction (read_committed then skips its records, and the
/// `.txnindex` names it), and a marker older than the producer's epoch is INVALID_PRODUCER_EPOCH.
#[test]
fn write_txn_markers_writes_at_the_leader_only() {
    let (mut cluster, leader) = cluster_with_orders();
    let tp = kite_shared::ids::TopicPartition { topic: "orders".into(), partition: 0 };
    let (pid, epoch) = cluster.init_transactional_producer(NOW_MS, "tx", 60_000, None).unwrap();
    cluster.add_partitions_to_txn(NOW_MS, "tx", (pid, epoch), std::slice::from_ref(&tp)).unwrap();
    let mut at_leader = KafkaConnection::new(listener(leader));
    let out = at_leader
        .receive(
            &mut cluster,
            NOW_MS,
            &frame(ApiKey::Produce, 9, 1, &transactional(pid, epoch, 0, &["a", "b"])),
        )
        .unwrap();
    assert_eq!(response::<ProduceResponse>(&out, 9, 1).responses[0].partition_responses[0].error_code, 0);
    let ask = |connection: &mut KafkaConnection, cluster: &mut Cluster, id, request| {
        let out =
            connection.receive(cluster, NOW_MS, &frame(ApiKey::WriteTxnMarkers, 1, id, &request)).unwrap();
        error_codes(ApiKey::WriteTxnMarkers, &out, 1, id)
    };
    let mut at_follower = KafkaConnection::new(listener((leader + 1) % 3));
    assert_eq!(ask(&mut at_follower, &mut cluster, 2, write_markers(pid, epoch, false, 0)), [6]);
    assert_eq!(ask(&mut at_leader, &mut cluster, 3, write_markers(pid, epoch, false, 7)), [3]);
    assert_eq!(fetch_isolated(&mut at_leader, &mut cluster, 4, true).2, 0, "still open");
    assert_eq!(ask(&mut at_leader, &mut cluster, 5, write_markers(pid, epoch, false, 0)), [0]);
    let (error, high_watermark, stable, aborted, _) = fetch_isolated(&mut at_leader, &mut cluster, 6, true);
    assert_eq!((error, high_watermark, stable, aborted), (0, 3, 3, vec![(pid, 0)]));
    assert_eq!(ask(&mut at_leader, &mut cluster, 7, write_markers(pid, epoch - 1, true, 0)), [47]);
    // Past MAX_TXN_MARKER_PARTITIONS_PER_REQUEST partitions, INVALID_REQUEST without the engine.
    let mut many = write_markers(pid, epoch, true, 7);
    many.markers[0].topics[0].partition_indexes = vec![7; MAX_TXN_MARKER_PARTITIONS_PER_REQUEST + 1];
    let codes = ask(&mut at_leader, &mut cluster, 8, many);
    assert_eq!(codes.iter().filter(|&&c| c == 3).count(), MAX_TXN_MARKER_PARTITIONS_PER_REQUEST);
    assert_eq!(codes.last(), Some(&42), "the one past the limit");
}

/// UnregisterBroker decommissions: with a fourth broker added, the leader's replica of `orders`
/// moves to it, the leader leaves, and Metadata lists the new broker (at the listener the host
/// opened for it) but no longer the removed one; with three brokers and three replicas it is
/// refused, and an id nobody has is BROKER_ID_NOT_REGISTERED.
#[test]
fn unregister_broker_moves_the_replicas_off_then_the_broker_leaves() {
    use kafka_protocol::messages::{UnregisterBrokerRequest, UnregisterBrokerResponse};
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener((leader + 1) % 3));
    let mut unregister = |cluster: &mut Cluster, broker: i32, id: i32| {
        let asked = frame(
            ApiKey::UnregisterBroker,
            0,
            id,
            &UnregisterBrokerRequest::default().with_broker_id(BrokerId(broker)),
        );
        let out =
            connection.receive(cluster, NOW_MS, &asked).unwrap_or_else(|close| panic!("{}", close.reason));
        response::<UnregisterBrokerResponse>(&out, 0, id)
    };
    let refused = unregister(&mut cluster, leader, 1);
    assert_eq!(refused.error_code, 39, "{:?}", refused.error_message);
    assert_eq!(unregister(&mut cluster, 7, 2).error_code, 102);

    assert_eq!(cluster.handle(NOW_MS, Command::AddBroker { rack: None }), Reply::BrokerAdded { broker: 3 });
    cluster.add_kafka_listener(AdvertisedBroker { id: 3, host: "127.0.0.1".into(), port: 9095 });
    assert_eq!(unregister(&mut cluster, leader, 3).error_code, 0);
    let mut now = NOW_MS;
    for _ in 0..50 {
        now += 100;
        cluster.tick(now);
    }
    let Reply::Topics { topics } = cluster.handle(now, Command::ListTopics) else { panic!("no topics") };
    let mut replicas = topics.iter().find(|t| t.name == "orders").unwrap().partitions[0].replicas.clone();
    replicas.sort();
    let mut expected: Vec<i32> = (0..4).filter(|&b| b != leader).collect();
    expected.sort();
    assert_eq!(replicas, expected);

    let mut at_other = KafkaConnection::new(listener((leader + 1) % 3));
    let asked = frame(ApiKey::Metadata, 12, 9, &MetadataRequest::default());
    let out = at_other.receive(&mut cluster, now, &asked).unwrap();
    let metadata: MetadataResponse = response(&out, 12, 9);
    let listed: Vec<(i32, i32)> = metadata.brokers.iter().map(|b| (b.node_id.0, b.port)).collect();
    let mut wanted: Vec<(i32, i32)> = expected.iter().map(|&b| (b, 9092 + b)).collect();
    wanted.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, wanted, "{listed:?}");
}
