//! The Kafka front end (`kafka::KafkaConnection`) fed requests a Kafka client would send, encoded
//! by `kafka-protocol`'s client side, and its responses decoded the same way: ApiVersions (with
//! KIP-511's answer to a version it cannot read), Metadata, Produce at the leader and elsewhere,
//! `acks=0`, a fetch that waits for records, ListOffsets.
// kafka-protocol's client side is a native dev-dependency.
#![cfg(not(target_arch = "wasm32"))]

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, FetchResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse, RequestHeader,
    ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::Cluster;
use kite_shared::kafka::{AdvertisedBroker, KafkaConnection, KafkaListener};
use kite_shared::record::batch::{BatchRecord, RecordBatch};

const NOW_MS: i64 = 1_700_000_000_000;

fn listener(broker: i32) -> KafkaListener {
    let brokers =
        (0..3).map(|id| AdvertisedBroker { id, host: "127.0.0.1".into(), port: 9092 + id }).collect();
    KafkaListener { broker, brokers }
}

/// A three-broker cluster with `orders` (one partition, three replicas) and its leader.
fn cluster_with_orders() -> (Cluster, i32) {
    let mut cluster = Cluster::replicated_in_memory(11, 3, NOW_MS);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    let Reply::TopicCreated { topic, .. } = cluster.handle(NOW_MS, create) else { panic!("not created") };
    let leader = topic.partitions[0].leader.expect("a leader");
    (cluster, leader)
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
    assert_eq!(code(&mut connection, &mut cluster, new_epoch, 6), 6, "NOT_LEADER_OR_FOLLOWER");
}

/// Every served version of every API, as a client that negotiated it would ask: each answered
/// (not closed) with a response that decodes at that version. A field set in a response that the
/// version lacks would not encode, and the connection would close instead.
#[test]
fn every_served_version_of_every_api_is_answered() {
    let (mut cluster, leader) = cluster_with_orders();
    let mut connection = KafkaConnection::new(listener(leader));
    let mut id = 0;
    for (api, min, max) in kite_shared::kafka::versions::SUPPORTED {
        for version in min..=max {
            id += 1;
            let asked = match api {
                ApiKey::ApiVersions => frame(api, version, id, &ApiVersionsRequest::default()),
                ApiKey::Metadata => {
                    let topic = kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                        .with_name(Some(TopicName(StrBytes::from_static_str("orders"))));
                    frame(api, version, id, &MetadataRequest::default().with_topics(Some(vec![topic])))
                }
                ApiKey::Produce => frame(api, version, id, &produce(-1, &["v"])),
                ApiKey::Fetch => frame(api, version, id, &fetch_at_epoch(-1)),
                ApiKey::ListOffsets => {
                    let partition =
                        ListOffsetsPartition::default().with_partition_index(0).with_timestamp(-1);
                    let topic = ListOffsetsTopic::default()
                        .with_name(TopicName(StrBytes::from_static_str("orders")))
                        .with_partitions(vec![partition]);
                    frame(api, version, id, &ListOffsetsRequest::default().with_topics(vec![topic]))
                }
                other => panic!("{other:?} is served but not asked here"),
            };
            let out = connection
                .receive(&mut cluster, NOW_MS, &asked)
                .unwrap_or_else(|close| panic!("{api:?} v{version} closed: {}", close.reason));
            let errors: Vec<i16> = match api {
                ApiKey::ApiVersions => vec![response::<ApiVersionsResponse>(&out, version, id).error_code],
                ApiKey::Metadata => {
                    let answer: MetadataResponse = response(&out, version, id);
                    answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
                }
                ApiKey::Produce => {
                    let answer: ProduceResponse = response(&out, version, id);
                    answer
                        .responses
                        .iter()
                        .flat_map(|t| &t.partition_responses)
                        .map(|p| p.error_code)
                        .collect()
                }
                ApiKey::Fetch => {
                    let answer: FetchResponse = response(&out, version, id);
                    answer.responses.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
                }
                _ => {
                    let answer: ListOffsetsResponse = response(&out, version, id);
                    answer.topics.iter().flat_map(|t| &t.partitions).map(|p| p.error_code).collect()
                }
            };
            assert!(!errors.is_empty() && errors.iter().all(|&e| e == 0), "{api:?} v{version}: {errors:?}");
        }
    }
}
