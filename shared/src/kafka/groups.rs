//! The classic consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, OffsetCommit and OffsetFetch, answered by the engine's group coordinator — the
//! same one the UI's and the CLI's consumers join, so a Kafka client's group shows beside theirs.
//! The client runs its own consumer (its assignor included), as against Kafka; this file only
//! translates. A JoinGroup waits for its join phase to end and a SyncGroup for the leader's
//! assignment: such a request waits on the connection (as Kafka mutes a connection until it
//! answers) and is answered when the coordinator's answer reaches the connection's mailbox.

use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;

use super::{Handled, KafkaClose, KafkaConnection, Request, Retried, Waiting, decode, respond};
use crate::cluster::Cluster;
use crate::error::ErrorCode;
use crate::group::coordinator::{
    GROUP_MAX_SESSION_TIMEOUT_MS, GroupRequest, GroupResponse, JoinGroup, MAX_GROUP_ID_BYTES,
};
use crate::group::offsets_topic::OffsetCommitValue;
use crate::ids::TopicPartition;
use crate::txn::coordinator::MAX_TRANSACTIONAL_ID_BYTES;

/// Kafka's `offset.metadata.max.bytes` default: a commit's metadata string may be this long.
const MAX_OFFSET_METADATA_BYTES: usize = 4_096;
/// Kafka's OFFSET_METADATA_TOO_LARGE.
const OFFSET_METADATA_TOO_LARGE: i16 = 12;
/// How long past its own timeouts a group request may wait before the connection answers it
/// with REQUEST_TIMED_OUT (a safety net: the coordinator's timers answer first).
const GROUP_ANSWER_GRACE_MS: i64 = 5_000;
/// The longest any group request waits: Kafka's largest session timeout.
const MAX_GROUP_WAIT_MS: i64 = GROUP_MAX_SESSION_TIMEOUT_MS as i64;

/// A group request the coordinator has not answered yet.
#[derive(Debug)]
pub(super) struct GroupWait {
    request: Request,
    correlation: u64,
    asked: Asked,
    pub(super) deadline_ms: i64,
}

/// What a waiting request needs to be answered in its API's shape.
#[derive(Debug)]
enum Asked {
    /// The join itself: JoinGroup v0–3 predates MEMBER_ID_REQUIRED, so the connection joins again
    /// with the id at once, as Kafka's coordinator does for those versions.
    Join(JoinGroup),
    /// SyncGroup v5 echoes the protocol type and name.
    Sync {
        protocol_type: Option<StrBytes>,
        protocol_name: Option<StrBytes>,
    },
    Heartbeat,
    /// Every partition asked, with the error it already has (unknown partitions, metadata too
    /// large).
    Commit(CommitPlan),
}

/// An OffsetCommit's partitions by topic, each with the error it already has (`None`: the
/// coordinator's answer is its answer).
type CommitPlan = Vec<(TopicName, Vec<(i32, Option<i16>)>)>;

/// FindCoordinator: the broker leading the group's `__consumer_offsets` partition (created on
/// first use). Transactions have no coordinator in Kite yet: INVALID_REQUEST.
pub(super) fn find_coordinator(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    const GROUP_KEY: i8 = 0;
    const TRANSACTION_KEY: i8 = 1;
    let asked: FindCoordinatorRequest = decode(request, body)?;
    let keys = if request.version >= 4 { asked.coordinator_keys.clone() } else { vec![asked.key.clone()] };
    let found: Vec<Coordinator> = keys
        .into_iter()
        .map(|key| {
            let answer = if asked.key_type == TRANSACTION_KEY {
                if key.is_empty() || key.len() > MAX_TRANSACTIONAL_ID_BYTES {
                    Err((
                        ErrorCode::InvalidRequest.code(),
                        format!("A transactional id is 1 to {MAX_TRANSACTIONAL_ID_BYTES} bytes."),
                    ))
                } else {
                    cluster
                        .transaction_coordinator(request.now_ms, &key)
                        .map_err(|e| (e.error.code(), e.message))
                }
            } else if asked.key_type != GROUP_KEY {
                Err((
                    ErrorCode::InvalidRequest.code(),
                    format!("Unknown coordinator key type {}.", asked.key_type),
                ))
            } else if key.len() > MAX_GROUP_ID_BYTES {
                Err((
                    ErrorCode::InvalidGroupId.code(),
                    format!("A group id is at most {MAX_GROUP_ID_BYTES} bytes."),
                ))
            } else {
                cluster.group_coordinator(request.now_ms, &key).map_err(|e| (e.error.code(), e.message))
            };
            let coordinator = Coordinator::default().with_key(key);
            let advertised = connection.listener.advertised(cluster);
            match answer.map(|id| advertised.iter().find(|b| b.id == id)) {
                Ok(Some(broker)) => coordinator
                    .with_node_id(BrokerId(broker.id))
                    .with_host(StrBytes::from_string(broker.host.clone()))
                    .with_port(broker.port),
                Ok(None) => coordinator
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(ErrorCode::CoordinatorNotAvailable.code()),
                Err((code, message)) => coordinator
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(code)
                    .with_error_message(Some(StrBytes::from_string(message))),
            }
        })
        .collect();
    if request.version >= 4 {
        return respond(request, &FindCoordinatorResponse::default().with_coordinators(found));
    }
    let Some(one) = found.into_iter().next() else {
        return Err(super::malformed("FindCoordinator without a key".into()));
    };
    let message = if request.version >= 1 { one.error_message } else { None };
    let response = FindCoordinatorResponse::default()
        .with_error_code(one.error_code)
        .with_error_message(message)
        .with_node_id(one.node_id)
        .with_host(one.host)
        .with_port(one.port);
    respond(request, &response)
}

/// Whether this listener's broker coordinates `group`: Kafka answers NOT_COORDINATOR elsewhere,
/// and the client looks the coordinator up again.
pub(super) fn coordinates(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    group: &str,
) -> Result<(), i16> {
    if group.is_empty() || group.len() > MAX_GROUP_ID_BYTES {
        return Err(ErrorCode::InvalidGroupId.code());
    }
    match cluster.group_coordinator(now_ms, group) {
        Ok(broker) if broker == connection.listener.broker => Ok(()),
        Ok(_) => Err(ErrorCode::NotCoordinator.code()),
        Err(e) => Err(e.error.code()),
    }
}

/// This connection's id as the coordinator's client, opened on its first group request.
fn client(connection: &mut KafkaConnection, cluster: &mut Cluster) -> Result<u32, i16> {
    if let Some(client) = connection.group_client {
        return Ok(client);
    }
    let client = cluster.open_group_client().map_err(ErrorCode::code)?;
    connection.group_client = Some(client);
    Ok(client)
}

/// Sends `group_request` to the coordinator and answers at once if it did, else waits.
fn ask(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    group_request: GroupRequest,
    asked: Asked,
    wait_ms: i64,
) -> Result<Handled, KafkaClose> {
    let client = match client(connection, cluster) {
        Ok(client) => client,
        Err(code) => return failed(request, &asked, code).map(Handled::Respond),
    };
    connection.group_requests += 1;
    let correlation = connection.group_requests;
    cluster.ask_group(request.now_ms, client, correlation, group_request);
    let deadline_ms = request.now_ms + wait_ms.clamp(0, MAX_GROUP_WAIT_MS) + GROUP_ANSWER_GRACE_MS;
    let wait = Box::new(GroupWait { request, correlation, asked, deadline_ms });
    match retry(connection, cluster, request.now_ms, wait)? {
        Retried::Answered(bytes) => Ok(Handled::Respond(bytes)),
        Retried::Waiting(waiting) => Ok(Handled::Park(waiting)),
    }
}

/// Looks for the coordinator's answer to a waiting request: answered once it came; past its
/// deadline, REBALANCE_IN_PROGRESS for a join or sync (the client rejoins), REQUEST_TIMED_OUT for
/// the others.
pub(super) fn retry(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    wait: Box<GroupWait>,
) -> Result<Retried, KafkaClose> {
    let answer = connection.group_client.and_then(|client| cluster.group_answer(client, wait.correlation));
    let Some(response) = answer else {
        if now_ms >= wait.deadline_ms {
            // A JoinGroup or SyncGroup past every timeout: rejoin (the one answer clients take
            // for either); a commit: timed out.
            let code = match wait.asked {
                Asked::Join(_) | Asked::Sync { .. } => ErrorCode::RebalanceInProgress,
                Asked::Heartbeat | Asked::Commit(_) => ErrorCode::RequestTimedOut,
            };
            return failed(wait.request, &wait.asked, code.code()).map(Retried::Answered);
        }
        return Ok(Retried::Waiting(Waiting::Group(wait)));
    };
    let GroupWait { request, asked, deadline_ms, .. } = *wait;
    if let (Asked::Join(join), GroupResponse::Join(Err((ErrorCode::MemberIdRequired, id)))) =
        (&asked, &response)
        && request.version < 4
        && join.member_id.is_empty()
    {
        // Before KIP-394 the first join is the join: ask again with the id handed out.
        let join = JoinGroup { member_id: id.clone(), ..join.clone() };
        let request = Request { now_ms, ..request };
        let wait_ms = deadline_ms - now_ms - GROUP_ANSWER_GRACE_MS;
        return match ask(
            connection,
            cluster,
            request,
            GroupRequest::Join(join.clone()),
            Asked::Join(join),
            wait_ms,
        )? {
            Handled::Respond(bytes) => Ok(Retried::Answered(bytes)),
            Handled::Park(waiting) => Ok(Retried::Waiting(waiting)),
            Handled::Silent => Ok(Retried::Answered(Vec::new())),
        };
    }
    answered(request, &asked, response).map(Retried::Answered)
}

/// The coordinator's answer in the shape of the request's API and version.
fn answered(request: Request, asked: &Asked, response: GroupResponse) -> Result<Vec<u8>, KafkaClose> {
    match (asked, response) {
        (Asked::Join(join), GroupResponse::Join(Ok(joined))) => {
            let members = joined
                .members
                .into_iter()
                .map(|(id, metadata)| {
                    JoinGroupResponseMember::default()
                        .with_member_id(StrBytes::from_string(id))
                        .with_metadata(Bytes::from(metadata))
                })
                .collect();
            let protocol = joined.protocol.unwrap_or_default();
            let response = join_response(request, join)
                .with_generation_id(joined.generation)
                .with_protocol_name(Some(StrBytes::from_string(protocol)))
                .with_leader(StrBytes::from_string(joined.leader))
                .with_member_id(StrBytes::from_string(joined.member_id))
                .with_members(members);
            respond(request, &response)
        }
        (Asked::Join(join), GroupResponse::Join(Err((error, id)))) => {
            // MEMBER_ID_REQUIRED hands out the id; other errors echo the id the member sent.
            let member_id = if error == ErrorCode::MemberIdRequired { id } else { join.member_id.clone() };
            let response = join_response(request, join)
                .with_error_code(error.code())
                .with_member_id(StrBytes::from_string(member_id));
            respond(request, &response)
        }
        (Asked::Sync { protocol_type, protocol_name }, GroupResponse::Sync(result)) => {
            let mut response = SyncGroupResponse::default();
            if request.version >= 5 {
                response = response
                    .with_protocol_type(protocol_type.clone())
                    .with_protocol_name(protocol_name.clone());
            }
            match result {
                Ok(assignment) => respond(request, &response.with_assignment(Bytes::from(assignment))),
                Err(error) => respond(request, &response.with_error_code(error.code())),
            }
        }
        (Asked::Heartbeat, GroupResponse::Heartbeat(result)) => {
            respond(request, &HeartbeatResponse::default().with_error_code(code_of(result)))
        }
        (Asked::Commit(topics), GroupResponse::OffsetCommit(result)) => {
            respond(request, &commit_response(topics, code_of(result)))
        }
        (asked, response) => {
            Err(super::malformed(format!("the coordinator answered {response:?} to {asked:?}")))
        }
    }
}

/// A request refused before the coordinator saw it (or never answered), in its API's shape.
fn failed(request: Request, asked: &Asked, code: i16) -> Result<Vec<u8>, KafkaClose> {
    match asked {
        Asked::Join(join) => respond(
            request,
            &join_response(request, join)
                .with_error_code(code)
                .with_member_id(StrBytes::from_string(join.member_id.clone())),
        ),
        Asked::Sync { .. } => respond(request, &SyncGroupResponse::default().with_error_code(code)),
        Asked::Heartbeat => respond(request, &HeartbeatResponse::default().with_error_code(code)),
        Asked::Commit(topics) => respond(request, &commit_response(topics, code)),
    }
}

fn code_of(result: Result<(), ErrorCode>) -> i16 {
    result.err().map_or(0, ErrorCode::code)
}

/// A JoinGroup response's version-dependent frame: v7+ name the protocol type; before v7 the
/// protocol name is a non-null string (empty on errors), from v7 null on errors.
fn join_response(request: Request, join: &JoinGroup) -> JoinGroupResponse {
    let response = JoinGroupResponse::default().with_generation_id(-1);
    if request.version >= 7 {
        response.with_protocol_type(Some(StrBytes::from_string(join.protocol_type.clone())))
    } else {
        response.with_protocol_name(Some(StrBytes::default()))
    }
}

/// JoinGroup: into the group's next generation (the first join of v4+ gets MEMBER_ID_REQUIRED
/// and its id, KIP-394). Answered when the join phase ends.
pub(super) fn join(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: JoinGroupRequest = decode(request, body)?;
    // v0 has no rebalance timeout: the session timeout is both.
    let rebalance_timeout_ms =
        if request.version == 0 { asked.session_timeout_ms } else { asked.rebalance_timeout_ms };
    let join = JoinGroup {
        group: asked.group_id.0.to_string(),
        member_id: asked.member_id.to_string(),
        client_id: connection.client.client_id.clone().unwrap_or_default(),
        client_host: connection.peer_host.clone(),
        session_timeout_ms: asked.session_timeout_ms,
        rebalance_timeout_ms,
        protocol_type: asked.protocol_type.to_string(),
        protocols: asked.protocols.iter().map(|p| (p.name.to_string(), p.metadata.to_vec())).collect(),
    };
    if let Err(code) = coordinates(connection, cluster, request.now_ms, &join.group) {
        return failed(request, &Asked::Join(join), code).map(Handled::Respond);
    }
    if let Some(Some(listed)) = connection.listed {
        cluster.kafka_client_group(listed, &join.group);
    }
    // The join phase lasts as long as the group's longest rebalance timeout, not this member's.
    ask(connection, cluster, request, GroupRequest::Join(join.clone()), Asked::Join(join), MAX_GROUP_WAIT_MS)
}

/// SyncGroup: the member's assignment for its generation (the leader's carries everyone's).
pub(super) fn sync(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: SyncGroupRequest = decode(request, body)?;
    let group = asked.group_id.0.to_string();
    let echo = Asked::Sync {
        protocol_type: asked.protocol_type.clone(),
        protocol_name: asked.protocol_name.clone(),
    };
    if let Err(code) = coordinates(connection, cluster, request.now_ms, &group) {
        return failed(request, &echo, code).map(Handled::Respond);
    }
    let sync = GroupRequest::Sync {
        group,
        generation: asked.generation_id,
        member_id: asked.member_id.to_string(),
        assignments: asked
            .assignments
            .iter()
            .map(|a| (a.member_id.to_string(), a.assignment.to_vec()))
            .collect(),
    };
    ask(connection, cluster, request, sync, echo, MAX_GROUP_WAIT_MS)
}

/// Heartbeat: the member is alive; REBALANCE_IN_PROGRESS tells it to rejoin.
pub(super) fn heartbeat(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: HeartbeatRequest = decode(request, body)?;
    let group = asked.group_id.0.to_string();
    if let Err(code) = coordinates(connection, cluster, request.now_ms, &group) {
        return failed(request, &Asked::Heartbeat, code).map(Handled::Respond);
    }
    let beat = GroupRequest::Heartbeat {
        group,
        generation: asked.generation_id,
        member_id: asked.member_id.to_string(),
    };
    ask(connection, cluster, request, beat, Asked::Heartbeat, 0)
}

/// Asks the coordinator something it answers at once (a leave, an offset fetch): its answer, or
/// `None` when it did not come.
fn ask_now(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    now_ms: i64,
    group_request: GroupRequest,
) -> Result<GroupResponse, i16> {
    let client = client(connection, cluster)?;
    connection.group_requests += 1;
    let correlation = connection.group_requests;
    cluster.ask_group(now_ms, client, correlation, group_request);
    cluster.group_answer(client, correlation).ok_or(ErrorCode::CoordinatorNotAvailable.code())
}

/// LeaveGroup: the members leave now (v3+ may name several); the group rebalances.
pub(super) fn leave(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: LeaveGroupRequest = decode(request, body)?;
    let group = asked.group_id.0.to_string();
    let members: Vec<StrBytes> = if request.version >= 3 {
        asked.members.iter().map(|m| m.member_id.clone()).collect()
    } else {
        vec![asked.member_id.clone()]
    };
    if let Err(code) = coordinates(connection, cluster, request.now_ms, &group) {
        return respond(request, &LeaveGroupResponse::default().with_error_code(code));
    }
    let mut answers = Vec::with_capacity(members.len());
    for member in members {
        let leave = GroupRequest::Leave { group: group.clone(), member_id: member.to_string() };
        let code = match ask_now(connection, cluster, request.now_ms, leave) {
            Ok(GroupResponse::Leave(result)) => code_of(result),
            Ok(_) => ErrorCode::CoordinatorNotAvailable.code(),
            Err(code) => code,
        };
        answers.push(MemberResponse::default().with_member_id(member).with_error_code(code));
    }
    if request.version >= 3 {
        respond(request, &LeaveGroupResponse::default().with_members(answers))
    } else {
        let code = answers.first().map_or(0, |m| m.error_code);
        respond(request, &LeaveGroupResponse::default().with_error_code(code))
    }
}

/// OffsetCommit: the offsets (with their leader epochs and metadata text) into
/// `__consumer_offsets`, for partitions that exist; answered once replicated.
pub(super) fn commit(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Handled, KafkaClose> {
    let asked: OffsetCommitRequest = decode(request, body)?;
    let group = asked.group_id.0.to_string();
    let mut offsets = Vec::new();
    let topics: CommitPlan = asked
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let name = topic.name.0.as_str();
                    let metadata = p.committed_metadata.as_ref().map_or(0, |m| m.len());
                    let refused = if cluster.leadership(name, p.partition_index).is_err() {
                        Some(ErrorCode::UnknownTopicOrPartition.code())
                    } else if metadata > MAX_OFFSET_METADATA_BYTES {
                        Some(OFFSET_METADATA_TOO_LARGE)
                    } else {
                        let tp = TopicPartition { topic: name.to_string(), partition: p.partition_index };
                        let text = p.committed_metadata.as_ref().map(|m| m.to_string()).unwrap_or_default();
                        offsets.push((tp, p.committed_offset, p.committed_leader_epoch, text));
                        None
                    };
                    (p.partition_index, refused)
                })
                .collect();
            (topic.name.clone(), partitions)
        })
        .collect();
    let asked_commit = Asked::Commit(topics);
    if let Err(code) = coordinates(connection, cluster, request.now_ms, &group) {
        return failed(request, &asked_commit, code).map(Handled::Respond);
    }
    if offsets.is_empty() {
        return failed(request, &asked_commit, 0).map(Handled::Respond);
    }
    let commit = GroupRequest::OffsetCommit {
        group,
        generation: asked.generation_id_or_member_epoch,
        member_id: asked.member_id.to_string(),
        offsets,
    };
    ask(connection, cluster, request, commit, asked_commit, MAX_GROUP_WAIT_MS)
}

/// Each partition's answer: the error it already had, else the coordinator's.
fn commit_response(topics: &CommitPlan, code: i16) -> OffsetCommitResponse {
    let topics = topics
        .iter()
        .map(|(name, partitions)| {
            let partitions = partitions
                .iter()
                .map(|(index, refused)| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(*index)
                        .with_error_code(refused.unwrap_or(code))
                })
                .collect();
            OffsetCommitResponseTopic::default().with_name(name.clone()).with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

/// One partition's commit as OffsetFetch gives it back: (partition, offset, leader epoch,
/// metadata); -1, -1 and "" where nothing is committed.
/// (partition, offset, leader epoch, metadata, error code: UNSTABLE_OFFSET_COMMIT when a stable
/// offset was asked for and a transaction holds one back).
type CommittedPartition = (i32, i64, i32, String, i16);

/// One group's commits by topic, in the order asked (or every partition it has one for).
type Committed = Vec<(String, Vec<CommittedPartition>)>;

/// OffsetFetch: the committed offsets of one group (v1–7) or several (v8+).
pub(super) fn offset_fetch(
    connection: &mut KafkaConnection,
    cluster: &mut Cluster,
    request: Request,
    body: &mut Bytes,
) -> Result<Vec<u8>, KafkaClose> {
    let asked: OffsetFetchRequest = decode(request, body)?;
    if request.version >= 8 {
        let groups = asked
            .groups
            .iter()
            .map(|g| {
                let topics = g.topics.as_ref().map(|topics| {
                    topics.iter().map(|t| (t.name.0.to_string(), t.partition_indexes.clone())).collect()
                });
                let answer = OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
                match committed(
                    connection,
                    cluster,
                    (request.now_ms, asked.require_stable),
                    &g.group_id,
                    topics,
                ) {
                    Ok(found) => answer.with_topics(
                        found
                            .into_iter()
                            .map(|(name, partitions)| {
                                let partitions = partitions
                                    .into_iter()
                                    .map(|(index, offset, epoch, metadata, error)| {
                                        OffsetFetchResponsePartitions::default()
                                            .with_partition_index(index)
                                            .with_error_code(error)
                                            .with_committed_offset(offset)
                                            .with_committed_leader_epoch(epoch)
                                            .with_metadata(Some(StrBytes::from_string(metadata)))
                                    })
                                    .collect();
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(StrBytes::from_string(name)))
                                    .with_partitions(partitions)
                            })
                            .collect(),
                    ),
                    Err(code) => answer.with_error_code(code),
                }
            })
            .collect();
        return respond(request, &OffsetFetchResponse::default().with_groups(groups));
    }
    // v1 has no "every partition" (null topics) and no top-level error code.
    let topics = asked
        .topics
        .as_ref()
        .map(|topics| topics.iter().map(|t| (t.name.0.to_string(), t.partition_indexes.clone())).collect());
    let stable = (request.now_ms, asked.require_stable);
    let response = match committed(connection, cluster, stable, &asked.group_id, topics) {
        Ok(found) => OffsetFetchResponse::default().with_topics(
            found
                .into_iter()
                .map(|(name, partitions)| {
                    let partitions = partitions
                        .into_iter()
                        .map(|(index, offset, epoch, metadata, error)| {
                            // The leader epoch is in v5+ only.
                            let epoch = if request.version >= 5 { epoch } else { -1 };
                            OffsetFetchResponsePartition::default()
                                .with_partition_index(index)
                                .with_error_code(error)
                                .with_committed_offset(offset)
                                .with_committed_leader_epoch(epoch)
                                .with_metadata(Some(StrBytes::from_string(metadata)))
                        })
                        .collect();
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(StrBytes::from_string(name)))
                        .with_partitions(partitions)
                })
                .collect(),
        ),
        Err(code) if request.version >= 2 => OffsetFetchResponse::default().with_error_code(code),
        Err(code) => refused_per_partition(asked.topics.unwrap_or_default(), code),
    };
    respond(request, &response)
}

/// A v1 OffsetFetch refused: v1 carries errors per partition only.
fn refused_per_partition(
    topics: Vec<kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic>,
    code: i16,
) -> OffsetFetchResponse {
    let topics = topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&index| {
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(index)
                        .with_committed_offset(-1)
                        .with_error_code(code)
                })
                .collect();
            OffsetFetchResponseTopic::default().with_name(t.name).with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}

/// A group's committed offsets, grouped by topic in the order asked: read from the coordinator's
/// state (it answers OffsetFetch at once), after the NOT_COORDINATOR check. Asked for stable
/// offsets (`require_stable`, KIP-447), a partition whose offset an open transaction holds is
/// UNSTABLE_OFFSET_COMMIT: the client asks again once the transaction ends.
fn committed(
    connection: &KafkaConnection,
    cluster: &mut Cluster,
    (now_ms, require_stable): (i64, bool),
    group: &GroupId,
    topics: Option<Vec<(String, Vec<i32>)>>,
) -> Result<Committed, i16> {
    let group = group.0.as_str();
    coordinates(connection, cluster, now_ms, group)?;
    let stored: BTreeMap<TopicPartition, OffsetCommitValue> =
        cluster.committed_offsets(group).into_iter().collect();
    let unstable = |tp: &TopicPartition| {
        if require_stable && cluster.offset_unstable(group, tp) {
            ErrorCode::UnstableOffsetCommit.code()
        } else {
            0
        }
    };
    let found: Vec<(String, CommittedPartition)> = match topics {
        None => stored
            .into_iter()
            .map(|(tp, v)| {
                let error = unstable(&tp);
                (tp.topic, (tp.partition, v.offset, v.leader_epoch, v.metadata, error))
            })
            .collect(),
        Some(topics) => topics
            .into_iter()
            .flat_map(|(topic, indexes)| indexes.into_iter().map(move |index| (topic.clone(), index)))
            .map(|(topic, index)| {
                let tp = TopicPartition { topic, partition: index };
                let error = unstable(&tp);
                let partition = stored.get(&tp).map_or((index, -1, -1, String::new(), error), |v| {
                    (index, v.offset, v.leader_epoch, v.metadata.clone(), error)
                });
                (tp.topic, partition)
            })
            .collect(),
    };
    // By topic in the order first asked; a map finds each topic's place (a request may name
    // a million topics).
    let mut by_topic: Committed = Vec::new();
    let mut places: BTreeMap<String, usize> = BTreeMap::new();
    for (topic, partition) in found {
        match places.get(&topic) {
            Some(&at) => by_topic[at].1.push(partition),
            None => {
                places.insert(topic.clone(), by_topic.len());
                by_topic.push((topic, vec![partition]));
            }
        }
    }
    Ok(by_topic)
}
