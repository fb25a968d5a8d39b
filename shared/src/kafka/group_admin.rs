//! The consumer-group admin APIs, as `kafka-consumer-groups` and the admin clients use them:
//! ListGroups (each broker lists the groups it coordinates; the client asks every broker),
//! DescribeGroups (members with their subscription and assignment bytes) and DeleteGroups (an
//! empty group and its offsets), all on the engine's group coordinator.

use bytes::Bytes;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse, GroupId,
    ListGroupsRequest, ListGroupsResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::groups::coordinates;
use super::{KafkaClose, KafkaConnection, Request, decode, respond};
use crate::api::{Command, Reply};
use crate::cluster::Cluster;
use crate::error::ErrorCode;

/// The one group type Kite has (ListGroups v5): KIP-848's "consumer" groups are not served.
const CLASSIC_GROUP_TYPE: &str = "classic";

/// ListGroups: the groups this broker coordinates, filtered by state (v4+) and type (v5+).
pub(super) fn list(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: ListGroupsRequest = decode(request, body)?;
    let listed = match connection.ask(cluster, request.now_ms, Command::ListGroups) {
        Reply::Groups { groups } => groups,
        Reply::Error(error) => {
            return respond(request, &ListGroupsResponse::default().with_error_code(error.error.code()));
        }
        _ => Vec::new(),
    };
    let wanted = |filter: &[StrBytes], value: &str| {
        filter.is_empty() || filter.iter().any(|f| f.as_str().eq_ignore_ascii_case(value))
    };
    let mut groups = Vec::new();
    for listing in listed {
        let here = coordinates(connection, cluster, request.now_ms, &listing.group).is_ok();
        if !here
            || !wanted(&asked.states_filter, &listing.state)
            || !wanted(&asked.types_filter, CLASSIC_GROUP_TYPE)
        {
            continue;
        }
        let mut group = ListedGroup::default()
            .with_group_id(GroupId(StrBytes::from_string(listing.group)))
            .with_protocol_type(StrBytes::from_string(listing.protocol_type));
        if request.version >= 4 {
            group = group.with_group_state(StrBytes::from_string(listing.state));
        }
        if request.version >= 5 {
            group = group.with_group_type(StrBytes::from_static_str(CLASSIC_GROUP_TYPE));
        }
        groups.push(group);
    }
    respond(request, &ListGroupsResponse::default().with_groups(groups))
}

/// DescribeGroups: each group's state, protocol and members; a group nobody has is Dead, as in
/// Kafka; NOT_COORDINATOR for a group another broker coordinates.
pub(super) fn describe(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DescribeGroupsRequest = decode(request, body)?;
    let mut groups = Vec::with_capacity(asked.groups.len());
    for group_id in asked.groups {
        let answer = DescribedGroup::default().with_group_id(group_id.clone());
        let group = group_id.0.as_str();
        if let Err(code) = coordinates(connection, cluster, request.now_ms, group) {
            groups.push(answer.with_error_code(code));
            continue;
        }
        let description = match cluster.group_description(request.now_ms, group) {
            Ok(description) => description,
            Err(error) => {
                groups.push(answer.with_error_code(error.error.code()));
                continue;
            }
        };
        let members = description
            .members
            .into_iter()
            .map(|m| {
                DescribedGroupMember::default()
                    .with_member_id(StrBytes::from_string(m.member_id))
                    .with_client_id(StrBytes::from_string(m.client_id))
                    .with_client_host(StrBytes::from_string(m.client_host))
                    .with_member_metadata(Bytes::from(m.metadata))
                    .with_member_assignment(Bytes::from(m.raw_assignment))
            })
            .collect();
        groups.push(
            answer
                .with_group_state(StrBytes::from_static_str(description.state.name()))
                .with_protocol_type(StrBytes::from_string(description.protocol_type))
                .with_protocol_data(StrBytes::from_string(description.protocol))
                .with_members(members),
        );
    }
    respond(request, &DescribeGroupsResponse::default().with_groups(groups))
}

/// DeleteGroups: each empty group with its committed offsets (NON_EMPTY_GROUP while it has
/// members, GROUP_ID_NOT_FOUND for none).
pub(super) fn delete(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: DeleteGroupsRequest = decode(request, body)?;
    let mut results = Vec::with_capacity(asked.groups_names.len());
    for group_id in asked.groups_names {
        let group = group_id.0.to_string();
        let code = match coordinates(connection, cluster, request.now_ms, &group) {
            Err(code) => code,
            Ok(()) => match connection.ask(cluster, request.now_ms, Command::DeleteGroup { group }) {
                Reply::GroupDeleted { .. } => 0,
                Reply::Error(error) => error.error.code(),
                _ => ErrorCode::CoordinatorNotAvailable.code(),
            },
        };
        results.push(DeletableGroupResult::default().with_group_id(group_id).with_error_code(code));
    }
    respond(request, &DeleteGroupsResponse::default().with_results(results))
}
