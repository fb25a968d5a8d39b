//! Kafka's wire protocol in front of the host session: what a real Kafka client (kcat, librdkafka,
//! the Java client) says on a broker's listener, answered by the same engine and the same
//! [`HostSession`] the websocket clients use. Sans-IO: the host passes in the bytes a connection
//! received and the time, and sends back the bytes it is given; it keeps only the sockets.
//!
//! Requests are decoded and responses encoded by the `kafka-protocol` crate; records stay Kite's
//! own RecordBatch v2 bytes, so every codec works. Which APIs and versions are served is
//! [`versions::SUPPORTED`], and ApiVersions says exactly that.

mod delete_records;
mod fetch;
mod group_admin;
mod groups;
pub mod inspector;
mod leader_election;
mod leader_epochs;
mod membership;
mod metadata;
mod produce;
mod reassignments;
mod sasl;
mod topics_admin;
mod transactions;
pub mod ui_requests;
pub mod versions;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};

use crate::api::{ClientMessage, Command, Reply};
use crate::cluster::{Cluster, ListenerReach};
use crate::error::{ErrorCode, KafkaError};
use crate::host::{Capabilities, HostSession, Turn};
use crate::limits::{MAX_KAFKA_INBOX_BYTES, MAX_KAFKA_REQUEST_BYTES};

/// A broker as Metadata advertises it (kept by the cluster, which learns of listeners opened for
/// brokers added while the host runs).
pub use crate::cluster::AdvertisedBroker;

/// Where a connection arrived: the broker whose listener it is (produce and fetch go to a
/// partition's leader, as in Kafka), and every broker's advertised listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaListener {
    /// The broker this listener speaks for.
    pub broker: i32,
    /// Every broker's listener, as Metadata returns them.
    pub brokers: Vec<AdvertisedBroker>,
    /// With a password, clients must authenticate with SASL/PLAIN and this password (any user
    /// name) before anything but ApiVersions.
    pub sasl_plain_password: Option<String>,
}

impl KafkaListener {
    /// Every broker's listener as Metadata advertises it: those the host started with, and
    /// those it opened for brokers added since.
    pub fn advertised(&self, cluster: &Cluster) -> Vec<AdvertisedBroker> {
        let mut all = self.brokers.clone();
        let added =
            cluster.kafka_listeners_added().iter().filter(|b| !self.brokers.iter().any(|s| s.id == b.id));
        all.extend(added.cloned());
        all
    }
}

/// What a Kafka client said about itself: its `client.id` (in every request header) and, from
/// ApiVersions v3, its software's name and version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KafkaClient {
    /// The `client.id` of the last request; `None` when the client sends none.
    pub client_id: Option<String>,
    /// E.g. `librdkafka`, `apache-kafka-java`; empty until an ApiVersions v3 says.
    pub software_name: String,
    /// E.g. `2.3.0`.
    pub software_version: String,
}

/// Why a connection must close: Kafka closes a connection rather than answer a request it cannot
/// read (a bad size, an unknown API, a version it does not serve, bytes that do not decode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaClose {
    /// What was wrong, for the host's log.
    pub reason: String,
}

/// One client connection on a Kafka listener.
#[derive(Debug)]
pub struct KafkaConnection {
    listener: KafkaListener,
    session: HostSession,
    /// Bytes received and not yet a whole request.
    inbox: BytesMut,
    /// The last request id given to the session (Kafka's correlation ids are the client's).
    requests: u64,
    client: KafkaClient,
    /// A request waiting (a fetch for records, a JoinGroup for its rebalance), with the
    /// requests after it: Kafka answers a connection's requests in order.
    parked: Option<Waiting>,
    /// Where the client connects from, as the group coordinator shows a member's host.
    peer_host: String,
    /// This connection's id as a client of the group coordinator, once it asked it something.
    group_client: Option<u32>,
    /// The last request id given to the group coordinator.
    group_requests: u64,
    /// Where the connection is in SASL's exchange.
    sasl: sasl::SaslState,
    /// Failed SASL authentications (the host locks out an address that guesses).
    failed_logins: u32,
    /// The last response sent, the connection closes (a failed authentication).
    closing: bool,
    /// The id `describe_cluster` lists this connection under, once its first bytes came
    /// (`None` before, or past the listing's limit).
    listed: Option<Option<u64>>,
    /// The broker is paused or cut off from clients: what the client sends waits unread.
    unanswered: bool,
    /// The protocol inspector's exchange of the request that waits (`parked`).
    parked_exchange: Option<u64>,
}

impl KafkaConnection {
    /// A new connection on `listener`.
    pub fn new(listener: KafkaListener) -> KafkaConnection {
        let sasl = if listener.sasl_plain_password.is_some() {
            sasl::SaslState::AwaitingHandshake
        } else {
            sasl::SaslState::Open
        };
        KafkaConnection {
            sasl,
            failed_logins: 0,
            closing: false,
            listed: None,
            unanswered: false,
            parked_exchange: None,
            listener,
            session: HostSession::new(Capabilities::SERVER),
            inbox: BytesMut::new(),
            requests: 0,
            client: KafkaClient::default(),
            parked: None,
            peer_host: String::new(),
            group_client: None,
            group_requests: 0,
        }
    }

    /// The client's address (as Kafka shows a group member's host, e.g. `/127.0.0.1`).
    pub fn with_peer_host(mut self, host: impl Into<String>) -> KafkaConnection {
        self.peer_host = host.into();
        self
    }

    /// What the client said about itself.
    pub fn client(&self) -> &KafkaClient {
        &self.client
    }

    /// How many SASL authentications failed on this connection.
    pub fn failed_logins(&self) -> u32 {
        self.failed_logins
    }

    /// The bytes last returned end the conversation: send them, then close (a failed
    /// authentication is answered before Kafka closes).
    pub fn closing(&self) -> bool {
        self.closing
    }

    /// Bytes the client sent, at `now_ms`: the response bytes to send (possibly none: a request
    /// may be incomplete, `acks=0` has no response, a fetch may wait), or why to close.
    pub fn receive(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        bytes: &[u8],
    ) -> Result<Vec<u8>, KafkaClose> {
        if self.inbox.len() + bytes.len() > MAX_KAFKA_INBOX_BYTES {
            return Err(KafkaClose {
                reason: format!(
                    "over {MAX_KAFKA_INBOX_BYTES} bytes sent while requests wait (Kite holds that much of a connection's requests)"
                ),
            });
        }
        if self.listed.is_none() {
            self.listed = Some(cluster.kafka_client_connected(self.listener.broker, &self.peer_host));
        }
        self.inbox.extend_from_slice(bytes);
        self.answer_waiting(cluster, now_ms)
    }

    /// When a waiting request must be answered at the latest (`None`: nothing waits): a fetch
    /// without records at its `max_wait_ms`, a group request when the coordinator should long
    /// have answered. The host calls [`KafkaConnection::wake`] then, and sooner whenever the
    /// engine did something (records arrived, another member joined, a timer fired).
    /// While the broker is paused or cut off, there is no deadline: the host looks again
    /// whenever the engine did something, and stops reading the connection meanwhile.
    pub fn wake_at_ms(&self) -> Option<i64> {
        if self.unanswered {
            return Some(i64::MAX);
        }
        self.parked.as_ref().map(|parked| match parked {
            Waiting::Fetch(fetch) => fetch.deadline_ms,
            Waiting::Group(group) => group.deadline_ms,
        })
    }

    /// Answers a waiting request if it can be now, then the requests after it: the bytes to
    /// send.
    pub fn wake(&mut self, cluster: &mut Cluster, now_ms: i64) -> Result<Vec<u8>, KafkaClose> {
        self.answer_waiting(cluster, now_ms)
    }

    /// The connection ends: what its session opened is closed, and answers still coming from
    /// the group coordinator are dropped (its group members stay until their sessions expire,
    /// as in Kafka).
    pub fn close(self, cluster: &mut Cluster, now_ms: i64) {
        if let Some(client) = self.group_client {
            cluster.close_group_client(client);
        }
        if let Some(Some(id)) = self.listed {
            cluster.kafka_client_closed(id);
        }
        self.session.close(cluster, now_ms);
    }

    /// Answers the waiting request (if it may be now) and every whole request in the inbox, in
    /// order.
    fn answer_waiting(&mut self, cluster: &mut Cluster, now_ms: i64) -> Result<Vec<u8>, KafkaClose> {
        if self.closing {
            return Err(malformed(
                "the connection ended with its last answer (a failed SASL authentication)".into(),
            ));
        }
        // The broker's port as a client would find it: a stopped broker closes its connections
        // (what it was sent is lost, as in a crash); a paused or cut-off one reads nothing.
        self.unanswered = match cluster.kafka_listener_reach(self.listener.broker) {
            ListenerReach::Serving => false,
            ListenerReach::Unanswered => true,
            ListenerReach::Refused => {
                return Err(KafkaClose {
                    reason: format!(
                        "broker {} is stopped: nothing listens on its port any more",
                        self.listener.broker
                    ),
                });
            }
        };
        let mut out = Vec::new();
        if self.unanswered {
            return Ok(out);
        }
        if let Some(parked) = self.parked.take() {
            let exchange = self.parked_exchange.take();
            let retried = match parked {
                Waiting::Fetch(fetch) => fetch::retry(self, cluster, now_ms, fetch),
                Waiting::Group(group) => groups::retry(self, cluster, now_ms, group),
            };
            match self.inspected(cluster, exchange, retried)? {
                Retried::Answered(bytes) => out.extend_from_slice(&bytes),
                Retried::Waiting(parked) => {
                    self.parked = Some(parked);
                    self.parked_exchange = exchange;
                    return Ok(out);
                }
            }
        }
        while !self.closing
            && let Some(frame) = self.next_frame()?
        {
            let exchange = self.listed.flatten().map(|connection| {
                let raw_token = self.sasl == sasl::SaslState::AwaitingRawToken;
                let broker = self.listener.broker;
                cluster.kafka_exchanges().request(connection, broker, now_ms, &frame, raw_token)
            });
            let handled = self.request(cluster, now_ms, frame);
            match self.inspected(cluster, exchange, handled)? {
                Handled::Respond(bytes) => out.extend_from_slice(&bytes),
                Handled::Silent => {}
                Handled::Park(parked) => {
                    self.parked = Some(parked);
                    self.parked_exchange = exchange;
                    break;
                }
            }
        }
        Ok(out)
    }

    /// What came of a request, told to the protocol inspector (when it keeps `exchange`).
    fn inspected<T: Inspected>(
        &self,
        cluster: &mut Cluster,
        exchange: Option<u64>,
        came: Result<T, KafkaClose>,
    ) -> Result<T, KafkaClose> {
        if let Some(id) = exchange {
            let outcome = match &came {
                Ok(came) => came.outcome(),
                Err(close) => inspector::Outcome::Closed(close.reason.clone()),
            };
            cluster.kafka_exchanges().settle(id, self.client.client_id.as_deref(), outcome);
        }
        came
    }

    /// The next whole request in the inbox: Kafka's frame is a big-endian i32 size, then that
    /// many bytes.
    fn next_frame(&mut self) -> Result<Option<Bytes>, KafkaClose> {
        if self.inbox.len() < 4 {
            return Ok(None);
        }
        let size = i32::from_be_bytes([self.inbox[0], self.inbox[1], self.inbox[2], self.inbox[3]]);
        let size = usize::try_from(size)
            .ok()
            .filter(|size| *size <= MAX_KAFKA_REQUEST_BYTES)
            .ok_or_else(|| KafkaClose {
                reason: format!(
                    "a request of {size} bytes (Kite takes 0 to {MAX_KAFKA_REQUEST_BYTES}, Kafka's socket.request.max.bytes)"
                ),
            })?;
        if self.inbox.len() < 4 + size {
            return Ok(None);
        }
        self.inbox.advance(4);
        Ok(Some(self.inbox.split_to(size).freeze()))
    }

    /// One request: its response, none, or a fetch to park.
    fn request(&mut self, cluster: &mut Cluster, now_ms: i64, frame: Bytes) -> Result<Handled, KafkaClose> {
        if self.sasl == sasl::SaslState::AwaitingRawToken {
            // After a SaslHandshake v0 the next frame is PLAIN's token itself, not a request.
            return sasl::raw_token(self, &frame).map(Handled::Respond);
        }
        if frame.len() < 8 {
            return Err(malformed(format!("a request of {} bytes has no header", frame.len())));
        }
        let (key, version) =
            (i16::from_be_bytes([frame[0], frame[1]]), i16::from_be_bytes([frame[2], frame[3]]));
        let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
        if let Ok(api) = ApiKey::try_from(key)
            && !sasl::allowed(self.sasl, api)
        {
            return Err(sasl::unauthenticated(api));
        }
        let Some(api) = versions::served(key, version) else {
            return match ApiKey::try_from(key) {
                // KIP-511: an ApiVersions this broker cannot read is answered in v0 with the keys.
                Ok(ApiKey::ApiVersions) => Ok(Handled::Respond(versions::unsupported(correlation_id)?)),
                Ok(api) => Err(malformed(format!("{api:?} v{version} is not served here"))),
                Err(()) => Err(malformed(format!("unknown API key {key}"))),
            };
        };
        let mut body = frame;
        let header = untrusted(|| RequestHeader::decode(&mut body, api.request_header_version(version)))
            .map_err(|e| malformed(format!("{api:?} v{version}: the header does not decode: {e}")))?;
        if let Some(client_id) = &header.client_id {
            self.client.client_id = Some(client_id.as_str().to_string());
        }
        if let Some(Some(id)) = self.listed {
            let software = format!("{} {}", self.client.software_name, self.client.software_version);
            let client_id = self.client.client_id.as_deref().unwrap_or_default();
            cluster.kafka_client_request(id, api_name(api), client_id, software.trim());
        }
        let request = Request { api, version, correlation_id, now_ms };
        match api {
            ApiKey::ApiVersions => versions::answer(self, request, &mut body).map(Handled::Respond),
            ApiKey::Metadata => metadata::answer(self, cluster, request, &mut body).map(Handled::Respond),
            ApiKey::Produce => produce::answer(self, cluster, request, &mut body),
            ApiKey::Fetch => fetch::answer(self, cluster, request, body),
            ApiKey::ListOffsets => {
                fetch::list_offsets(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::OffsetForLeaderEpoch => {
                leader_epochs::answer(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::DescribeCluster => {
                metadata::describe_cluster(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::DescribeConfigs
            | ApiKey::IncrementalAlterConfigs
            | ApiKey::CreateTopics
            | ApiKey::DeleteTopics
            | ApiKey::AlterConfigs
            | ApiKey::CreatePartitions
            | ApiKey::AlterPartitionReassignments
            | ApiKey::ListPartitionReassignments
            | ApiKey::ElectLeaders
            | ApiKey::UnregisterBroker => {
                topics_admin::answer(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::DeleteRecords => {
                delete_records::answer(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::SaslHandshake => sasl::handshake(self, request, &mut body).map(Handled::Respond),
            ApiKey::SaslAuthenticate => sasl::authenticate(self, request, &mut body).map(Handled::Respond),
            ApiKey::InitProducerId => {
                produce::init_producer_id(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::FindCoordinator => {
                groups::find_coordinator(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::JoinGroup => groups::join(self, cluster, request, &mut body),
            ApiKey::SyncGroup => groups::sync(self, cluster, request, &mut body),
            ApiKey::Heartbeat => groups::heartbeat(self, cluster, request, &mut body),
            ApiKey::LeaveGroup => groups::leave(self, cluster, request, &mut body).map(Handled::Respond),
            ApiKey::OffsetCommit => groups::commit(self, cluster, request, &mut body),
            ApiKey::ListGroups => group_admin::list(self, cluster, request, &mut body).map(Handled::Respond),
            ApiKey::DescribeGroups => {
                group_admin::describe(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::DeleteGroups => {
                group_admin::delete(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::AddPartitionsToTxn
            | ApiKey::AddOffsetsToTxn
            | ApiKey::EndTxn
            | ApiKey::TxnOffsetCommit
            | ApiKey::DescribeTransactions
            | ApiKey::ListTransactions
            | ApiKey::WriteTxnMarkers => {
                transactions::answer(self, cluster, request, &mut body).map(Handled::Respond)
            }
            ApiKey::OffsetFetch => {
                groups::offset_fetch(self, cluster, request, &mut body).map(Handled::Respond)
            }
            other => Err(malformed(format!("{other:?} is not served here"))),
        }
    }

    /// Asks the engine through this connection's session.
    fn ask(&mut self, cluster: &mut Cluster, now_ms: i64, command: Command) -> Reply {
        self.requests += 1;
        let message = ClientMessage { id: self.requests, command: command.into() };
        match self.session.answer(cluster, now_ms, message) {
            Turn::Answered(answer) => answer.reply,
            // An engine command never goes to the host; say so rather than panic.
            Turn::ForHost { .. } => {
                Reply::Error(KafkaError::new(ErrorCode::InvalidRequest, "not the engine's"))
            }
        }
    }
}

/// A request's header, as the handlers need it.
#[derive(Clone, Copy, Debug)]
struct Request {
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    now_ms: i64,
}

/// What a request came to.
#[derive(Debug)]
enum Handled {
    Respond(Vec<u8>),
    /// No response: a produce with `acks=0`.
    Silent,
    /// A request that waits: a fetch for records, a group request for the coordinator.
    Park(Waiting),
}

/// A request waiting for its answer.
#[derive(Debug)]
enum Waiting {
    /// A fetch with fewer than `min_bytes`, until records come or `max_wait_ms` passes.
    Fetch(Box<fetch::Parked>),
    /// A group request the coordinator has not answered yet (a JoinGroup until the join phase
    /// ends, a SyncGroup until the leader's assignment is stored).
    Group(Box<groups::GroupWait>),
}

/// What retrying a waiting request came to.
enum Retried {
    Answered(Vec<u8>),
    Waiting(Waiting),
}

/// What a request came to, as the protocol inspector records it.
trait Inspected {
    fn outcome(&self) -> inspector::Outcome;
}

impl Inspected for Handled {
    fn outcome(&self) -> inspector::Outcome {
        match self {
            Handled::Respond(bytes) => inspector::Outcome::answered(bytes),
            Handled::Silent => inspector::Outcome::NoResponse,
            Handled::Park(_) => inspector::Outcome::Waiting,
        }
    }
}

impl Inspected for Retried {
    fn outcome(&self) -> inspector::Outcome {
        match self {
            Retried::Answered(bytes) => inspector::Outcome::answered(bytes),
            Retried::Waiting(_) => inspector::Outcome::Waiting,
        }
    }
}

/// Reads a request body of type `T` at the request's version.
fn decode<T: Decodable>(request: Request, body: &mut Bytes) -> Result<T, KafkaClose> {
    untrusted(|| T::decode(body, request.version))
        .map_err(|e| malformed(format!("{:?} v{} does not decode: {e}", request.api, request.version)))
}

/// A `kafka-protocol` decoder run over a client's bytes (`crate::untrusted`): its value, or why
/// not — its error, or its panic — as text.
fn untrusted<T, E: std::fmt::Display>(decode: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    crate::untrusted::decode(|| decode().map_err(|e| e.to_string())).and_then(|decoded| decoded)
}

/// The first Produce and Fetch versions that name topics by id rather than by name (KIP-516).
const FIRST_VERSION_BY_TOPIC_ID: i16 = 13;

/// The topic a Produce or Fetch names: by `id` from [`FIRST_VERSION_BY_TOPIC_ID`], else by
/// `name`; `None` for an id no topic has.
fn named_topic(
    cluster: &Cluster,
    request: Request,
    name: &kafka_protocol::messages::TopicName,
    id: uuid::Uuid,
) -> Option<String> {
    if request.version >= FIRST_VERSION_BY_TOPIC_ID {
        cluster.topic_named_by_id(&crate::ids::TopicId(id.into_bytes())).map(str::to_string)
    } else {
        Some(name.0.as_str().to_string())
    }
}

/// A response frame: its size, the response header (at the version the API's response takes)
/// and the body.
fn respond<T: Encodable + HeaderVersion>(request: Request, body: &T) -> Result<Vec<u8>, KafkaClose> {
    let header = ResponseHeader::default().with_correlation_id(request.correlation_id);
    let mut out = BytesMut::with_capacity(64);
    out.extend_from_slice(&[0; 4]);
    let encoded = header
        .encode(&mut out, T::header_version(request.version))
        .and_then(|()| body.encode(&mut out, request.version));
    encoded.map_err(|e| KafkaClose {
        reason: format!("{:?} v{}: the response does not encode: {e}", request.api, request.version),
    })?;
    let size =
        i32::try_from(out.len() - 4).map_err(|_| KafkaClose { reason: "a response over 2 GiB".into() })?;
    out[..4].copy_from_slice(&size.to_be_bytes());
    Ok(out.to_vec())
}

/// Kafka's name for an API, as the cluster view lists a client's requests.
fn api_name(api: ApiKey) -> &'static str {
    match api {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::OffsetForLeaderEpoch => "OffsetForLeaderEpoch",
        ApiKey::Metadata => "Metadata",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::DeleteRecords => "DeleteRecords",
        ApiKey::CreatePartitions => "CreatePartitions",
        ApiKey::AlterPartitionReassignments => "AlterPartitionReassignments",
        ApiKey::ElectLeaders => "ElectLeaders",
        ApiKey::UnregisterBroker => "UnregisterBroker",
        ApiKey::ListPartitionReassignments => "ListPartitionReassignments",
        ApiKey::AlterConfigs => "AlterConfigs",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::DeleteGroups => "DeleteGroups",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::DescribeCluster => "DescribeCluster",
        ApiKey::DescribeConfigs => "DescribeConfigs",
        ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
        ApiKey::AddPartitionsToTxn => "AddPartitionsToTxn",
        ApiKey::AddOffsetsToTxn => "AddOffsetsToTxn",
        ApiKey::EndTxn => "EndTxn",
        ApiKey::TxnOffsetCommit => "TxnOffsetCommit",
        ApiKey::DescribeTransactions => "DescribeTransactions",
        ApiKey::ListTransactions => "ListTransactions",
        ApiKey::WriteTxnMarkers => "WriteTxnMarkers",
        _ => "other",
    }
}

fn malformed(reason: String) -> KafkaClose {
    KafkaClose { reason }
}

/// Whether this listener's broker leads `topic`'s `partition`, at the epoch the client has seen
/// (`current_epoch`, -1 when it does not say): the leader epoch, or Kafka's error code —
/// NOT_LEADER_OR_FOLLOWER elsewhere, FENCED_LEADER_EPOCH for an epoch older than the leader's,
/// UNKNOWN_LEADER_EPOCH for a newer one (the client's metadata is ahead of this broker's).
fn lead(
    connection: &KafkaConnection,
    cluster: &Cluster,
    topic: &str,
    partition: i32,
    current_epoch: i32,
) -> Result<i32, i16> {
    let (leader, epoch) = cluster.leadership(topic, partition).map_err(|error| error_code(&error))?;
    if leader != Some(connection.listener.broker) {
        return Err(ErrorCode::NotLeaderOrFollower.code());
    }
    match current_epoch {
        -1 => Ok(epoch),
        seen if seen < epoch => Err(ErrorCode::FencedLeaderEpoch.code()),
        seen if seen > epoch => Err(ErrorCode::UnknownLeaderEpoch.code()),
        _ => Ok(epoch),
    }
}

/// Kafka's error code for an engine refusal.
fn error_code(error: &KafkaError) -> i16 {
    error.error.code()
}
