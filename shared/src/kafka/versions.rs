//! ApiVersions: the Kafka APIs this front end serves, at which versions, and the answer that
//! tells a client so (KIP-35; KIP-511 for a version it cannot read).

use bytes::Bytes;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};

use super::{KafkaClose, KafkaConnection, Request, decode, respond};

/// Every API served, with the lowest and highest version. Produce from v3 and Fetch from v4: the
/// versions that carry RecordBatch v2, the only record format Kite stores; Produce v13 names
/// topics by id. Fetch goes to v16
/// (v13 names topics by id; v17 and v18 add what only followers send). ListOffsets goes to v10:
/// the max-timestamp lookup (v7), the earliest local (v8) and latest tiered offsets (v9, none
/// without tiered storage), and v10's timeout for remote lookups, which Kite never waits on. The group
/// APIs are the classic consumer protocol's (KIP-848's ConsumerGroupHeartbeat is not served);
/// FindCoordinator stops at v4 (batched keys) and OffsetCommit/OffsetFetch before v10 (topic ids);
/// InitProducerId before v5 and AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit
/// before v4 (KIP-890's second transaction protocol: Kite's transactions are Kafka 3's, with the
/// broker-side partition check of its part 1); WriteTxnMarkers at v1, the only version Kafka 4
/// and the crate read; OffsetForLeaderEpoch from v2 (the current
/// leader epoch, KIP-320: what the crate and Kafka 4 read); CreateTopics before v7 and DeleteTopics
/// before v6 (topic ids); DeleteRecords, CreatePartitions, AlterConfigs, ElectLeaders and the two
/// partition reassignment APIs at every version Kafka 4 serves; UnregisterBroker v0 (a decommission here:
/// `kafka::membership`). SaslHandshake v0 is followed by PLAIN's bare
/// token (librdkafka looks for v0 before it uses v1 and SaslAuthenticate).
pub const SUPPORTED: [(ApiKey, i16, i16); 38] = [
    (ApiKey::Produce, 3, 13),
    (ApiKey::Fetch, 4, 16),
    (ApiKey::ListOffsets, 1, 10),
    (ApiKey::OffsetForLeaderEpoch, 2, 4),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::OffsetCommit, 2, 9),
    (ApiKey::OffsetFetch, 1, 9),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::CreateTopics, 2, 6),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::SaslAuthenticate, 0, 2),
    (ApiKey::DescribeCluster, 0, 2),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::AddOffsetsToTxn, 0, 3),
    (ApiKey::EndTxn, 0, 3),
    (ApiKey::TxnOffsetCommit, 0, 3),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 1),
    (ApiKey::WriteTxnMarkers, 1, 1),
    (ApiKey::AlterPartitionReassignments, 0, 1),
    (ApiKey::ListPartitionReassignments, 0, 0),
    (ApiKey::ElectLeaders, 0, 2),
    (ApiKey::UnregisterBroker, 0, 0),
];

/// The API `key` names, if it is served at `version`.
pub(super) fn served(key: i16, version: i16) -> Option<ApiKey> {
    SUPPORTED
        .iter()
        .find(|(api, min, max)| *api as i16 == key && (*min..=*max).contains(&version))
        .map(|(api, _, _)| *api)
}

/// The table as ApiVersions carries it.
fn api_keys() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|(api, min, max)| {
            ApiVersion::default().with_api_key(*api as i16).with_min_version(*min).with_max_version(*max)
        })
        .collect()
}

/// ApiVersions: the table, and (v3) the client's software name and version noted.
pub(super) fn answer(
    connection: &mut KafkaConnection,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ApiVersionsRequest = decode(request, body)?;
    if request.version >= 3 {
        connection.client.software_name = asked.client_software_name.as_str().to_string();
        connection.client.software_version = asked.client_software_version.as_str().to_string();
    }
    respond(request, &ApiVersionsResponse::default().with_api_keys(api_keys()))
}

/// KIP-511: an ApiVersions at a version this broker cannot read is answered in v0's format with
/// UNSUPPORTED_VERSION and the table, so the client retries at a version both speak.
pub(super) fn unsupported(correlation_id: i32) -> Result<Vec<u8>, KafkaClose> {
    const UNSUPPORTED_VERSION: i16 = 35;
    let request = Request { api: ApiKey::ApiVersions, version: 0, correlation_id, now_ms: 0 };
    let body = ApiVersionsResponse::default().with_error_code(UNSUPPORTED_VERSION).with_api_keys(api_keys());
    respond(request, &body)
}
