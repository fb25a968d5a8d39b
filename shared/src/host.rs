//! One client's session with the engine, the same in every host: what `kite serve` does for each
//! websocket and the tab's worker for its page. A host passes in the client's frames, the time and
//! the engine's events; the session answers, keeps the client's subscriptions (event streams and
//! live tails) and the consumers it opened, and makes the pushes to send. The host keeps only its
//! transport and its storage commits.

use crate::api::{
    ClientMessage, Command, DecodeError, Frame, HostCommand, Push, Reply, Request, ServerMessage, TabCommand,
    decode_client_frame, decode_client_message, encode, reply_frame, reply_text,
};
use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError};
use crate::limits::{
    MAX_CONSUMERS_PER_CONNECTION, MAX_EVENTS_PUSHED_PER_SECOND, MAX_PUSH_BYTES_PER_EVENT_BATCH,
    MAX_SUBSCRIPTIONS_PER_CONNECTION, MAX_TAIL_FETCHES_PER_PUSH, TAIL_PUSH_RECORDS,
};
use crate::serializer::SerializerKind;
use crate::trace::Event;

/// A client's session: its subscriptions and the consumers it opened.
#[derive(Debug)]
pub struct HostSession {
    /// Each with the id of the request that made it, which its pushes carry.
    subscriptions: Vec<(u64, Subscription)>,
    consumers: Vec<u32>,
    capabilities: Capabilities,
}

/// What a host does beyond the engine; the session asks before it serves a command that needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Live tails (`tail`). A host that replays what its engine was given has none: a tail's
    /// reads are not requests the client made, so a replay would not make them again.
    pub live_tails: bool,
    /// The tab's commands ([`TabCommand`]): a virtual clock, replay from the seed, reset, shared
    /// links and the page's scenario.
    pub tab_commands: bool,
}

impl Capabilities {
    /// `kite serve`: live tails, on the wall clock.
    pub const SERVER: Capabilities = Capabilities { live_tails: true, tab_commands: false };
    /// The tab's worker: a virtual clock and replay, no live tails.
    pub const TAB: Capabilities = Capabilities { live_tails: false, tab_commands: true };
}

/// What a client subscribed to.
#[derive(Debug)]
enum Subscription {
    /// The engine's events, at most `MAX_EVENTS_PUSHED_PER_SECOND` in the second that started
    /// at `second_from_ms`, of which `pushed` have gone.
    Events {
        second_from_ms: i64,
        pushed: u32,
    },
    Tail {
        topic: String,
        partition: i32,
        next: i64,
        deserializers: (SerializerKind, SerializerKind),
    },
}

/// A client message answered by [`HostSession::answer`].
#[derive(Debug)]
pub struct Answer {
    /// The request's id.
    pub id: u64,
    /// The answer to send the client.
    pub reply: Reply,
    /// Whether the engine itself handled the command (what a replay must give it again), rather
    /// than the session (subscriptions, a consumer it does not own, a cap).
    pub by_engine: bool,
}

/// What the session made of a client message.
#[derive(Debug)]
// One per request, returned and taken apart at once: never stored, so its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Turn {
    /// Answered by the engine or by the session.
    Answered(Answer),
    /// A tab command, for the host to do: only a host with [`Capabilities::tab_commands`] gets one.
    ForHost {
        /// The request's id, which the host's reply must carry.
        id: u64,
        /// What the tab is asked to do.
        command: TabCommand,
    },
}

impl HostSession {
    /// A session for a host that can do what `capabilities` says.
    pub fn new(capabilities: Capabilities) -> HostSession {
        HostSession { subscriptions: Vec::new(), consumers: Vec::new(), capabilities }
    }

    /// One frame from the client, decoded: a host decodes before it takes the engine for its
    /// turn, so the client's bytes are read outside it (and a decoder that panicked fails only
    /// this frame, see [`crate::untrusted`]).
    pub fn decode_frame(frame: &Frame) -> Result<ClientMessage, DecodeError> {
        crate::untrusted::decode(|| decode_client_frame(frame))
            .unwrap_or_else(|reason| Err(DecodeError::Malformed { reason }))
    }

    /// One decoded frame from the client ([`HostSession::decode_frame`]), answered at `now_ms`,
    /// as the frame to send back (binary for a reply that carries record batches). For a host
    /// without tab commands.
    pub fn answer_frame(
        &mut self,
        cluster: &mut Cluster,
        now_ms: i64,
        decoded: Result<ClientMessage, DecodeError>,
    ) -> Frame {
        match decoded {
            Ok(message) => match self.answer(cluster, now_ms, message) {
                Turn::Answered(Answer { id, reply, .. }) => reply_frame(id, reply),
                Turn::ForHost { id, .. } => reply_frame(id, no_tab_commands()),
            },
            Err(err) => Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
        }
    }

    /// One message from the client: the session's own commands are answered here, the tab's go
    /// to a host that has them, and the engine's go to the engine — a consumer only from the
    /// session that opened it.
    pub fn answer(&mut self, cluster: &mut Cluster, now_ms: i64, message: ClientMessage) -> Turn {
        let ClientMessage { id, command } = message;
        let answered = |reply, by_engine| Turn::Answered(Answer { id, reply, by_engine });
        let command = match command {
            Request::Engine(command) => command,
            Request::Host(command) => {
                return answered(self.host_command(cluster, now_ms, id, command), false);
            }
            Request::Tab(command) if self.capabilities.tab_commands => return Turn::ForHost { id, command },
            Request::Tab(_) => return answered(no_tab_commands(), false),
        };
        if let Some(refusal) = self.refuse_for_consumers(&command) {
            return answered(refusal, false);
        }
        let reply = cluster.handle(now_ms, command);
        match &reply {
            Reply::ConsumerOpened { consumer } => self.consumers.push(*consumer),
            Reply::ConsumerClosed { consumer } => self.consumers.retain(|c| c != consumer),
            _ => {}
        }
        answered(reply, true)
    }

    /// A consumer is used only by the session that opened it, and a session opens at most
    /// [`MAX_CONSUMERS_PER_CONNECTION`].
    fn refuse_for_consumers(&self, command: &Command) -> Option<Reply> {
        let target = match command {
            Command::Poll { consumer, .. }
            | Command::CommitOffsets { consumer }
            | Command::CloseConsumer { consumer }
            | Command::CrashConsumer { consumer } => Some(*consumer),
            _ => None,
        };
        if let Some(consumer) = target.filter(|consumer| !self.consumers.contains(consumer)) {
            return Some(refusal(format!("There is no open consumer {consumer} on this connection.")));
        }
        if matches!(command, Command::OpenConsumer { .. })
            && self.consumers.len() >= MAX_CONSUMERS_PER_CONNECTION
        {
            return Some(Reply::Error(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "A connection runs at most {MAX_CONSUMERS_PER_CONNECTION} consumers; close one first."
                ),
            )));
        }
        None
    }
    /// Whether anything is subscribed (without, the engine's events need not be looked at).
    pub fn has_subscriptions(&self) -> bool {
        !self.subscriptions.is_empty()
    }

    /// What the subscriptions push for a batch of the engine's events, at most
    /// [`MAX_PUSH_BYTES_PER_EVENT_BATCH`] of it: past that, further events are skipped and the
    /// tails not yet served go on at their partition's next append.
    pub fn pushes(&mut self, cluster: &mut Cluster, now_ms: i64, events: &[(i64, Event)]) -> Vec<String> {
        let mut out = Outbox::default();
        for (subscription, kind) in &mut self.subscriptions {
            if out.full() {
                break;
            }
            match kind {
                Subscription::Events { second_from_ms, pushed } => {
                    if now_ms.saturating_sub(*second_from_ms) >= 1_000 {
                        (*second_from_ms, *pushed) = (now_ms, 0);
                    }
                    let mut skipped = 0;
                    for (at_ms, event) in events {
                        if *pushed >= MAX_EVENTS_PUSHED_PER_SECOND || out.full() {
                            skipped += 1;
                            continue;
                        }
                        *pushed += 1;
                        let push = Push::event(*at_ms, event);
                        out.push(encode(&ServerMessage::Push { subscription: *subscription, push }));
                    }
                    if skipped > 0 {
                        let push = Push::Skipped { events: skipped };
                        out.push(encode(&ServerMessage::Push { subscription: *subscription, push }));
                    }
                }
                Subscription::Tail { topic, partition, next, deserializers } => {
                    let appended = events.iter().any(|(_, e)| {
                        matches!(e, Event::Appended { tp, .. } if tp.topic == *topic && tp.partition == *partition)
                    });
                    if appended {
                        let tail = TailPosition {
                            topic,
                            partition: *partition,
                            next,
                            deserializers: *deserializers,
                        };
                        tail.catch_up(cluster, now_ms, *subscription, &mut out);
                    }
                }
            }
        }
        out.texts
    }

    /// The session ends: the consumers it opened are closed (leaving their groups) rather than
    /// left for their session timeouts, without a commit — the client may not have received what
    /// its last poll returned.
    pub fn close(self, cluster: &mut Cluster, now_ms: i64) {
        for consumer in self.consumers {
            cluster.abandon_consumer(now_ms, consumer);
        }
    }

    /// The session's own commands: subscriptions are the client's, not the engine's.
    fn host_command(&mut self, cluster: &mut Cluster, now_ms: i64, id: u64, command: HostCommand) -> Reply {
        let subscription = match command {
            HostCommand::Ping => return Reply::Pong { now_ms },
            HostCommand::Unsubscribe { subscription } => {
                let before = self.subscriptions.len();
                self.subscriptions.retain(|(s, _)| *s != subscription);
                if self.subscriptions.len() == before {
                    return refusal(format!("There is no subscription {subscription} on this connection."));
                }
                return Reply::Unsubscribed { subscription };
            }
            HostCommand::SubscribeEvents => Subscription::Events { second_from_ms: i64::MIN, pushed: 0 },
            HostCommand::Tail { .. } if !self.capabilities.live_tails => {
                return refusal(
                    "Live tails are kite serve's: this host replays its cluster, and a tail's reads are not requests a replay makes again."
                        .into(),
                );
            }
            HostCommand::Tail { topic, partition, offset, key_deserializer, value_deserializer } => {
                // Where the tail starts: the given offset, else the log end (as ListOffsets says).
                let latest = Command::ListOffsets { topic: topic.clone(), partition, timestamp_ms: -1 };
                let next = match cluster.handle(now_ms, latest) {
                    Reply::Offsets { offset: end, .. } => offset.or(end).unwrap_or(0),
                    error @ Reply::Error(_) => return error,
                    _ => 0,
                };
                Subscription::Tail {
                    topic,
                    partition,
                    next,
                    deserializers: (key_deserializer, value_deserializer),
                }
            }
        };
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return refusal(format!(
                "A connection holds at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions."
            ));
        }
        self.subscriptions.push((id, subscription));
        Reply::Subscribed { subscription: id }
    }
}

/// A live tail being caught up.
struct TailPosition<'a> {
    topic: &'a str,
    partition: i32,
    next: &'a mut i64,
    deserializers: (SerializerKind, SerializerKind),
}

impl TailPosition<'_> {
    /// Pushes what was appended since the tail's position, [`TAIL_PUSH_RECORDS`] at a time, until
    /// caught up, [`MAX_TAIL_FETCHES_PER_PUSH`] pushes made, or the outbox full.
    fn catch_up(self, cluster: &mut Cluster, now_ms: i64, subscription: u64, out: &mut Outbox) {
        for _ in 0..MAX_TAIL_FETCHES_PER_PUSH {
            let fetch = Command::Fetch {
                topic: self.topic.to_string(),
                partition: self.partition,
                offset: *self.next,
                max_records: TAIL_PUSH_RECORDS,
                key_deserializer: self.deserializers.0,
                value_deserializer: self.deserializers.1,
                isolation_level: Default::default(),
            };
            match cluster.handle(now_ms, fetch) {
                Reply::Records { records, log_start_offset, .. } => {
                    let Some(last) = records.last() else {
                        // Nothing there: retention may have moved the log start past it.
                        *self.next = (*self.next).max(log_start_offset);
                        return;
                    };
                    *self.next = last.offset + 1;
                    let full = records.len() == TAIL_PUSH_RECORDS as usize;
                    let push =
                        Push::Records { topic: self.topic.to_string(), partition: self.partition, records };
                    out.push(encode(&ServerMessage::Push { subscription, push }));
                    if !full || out.full() {
                        return;
                    }
                }
                // Out of range (deleted, or retention passed it): follow from the log start.
                _ => {
                    let earliest = Command::ListOffsets {
                        topic: self.topic.to_string(),
                        partition: self.partition,
                        timestamp_ms: -2,
                    };
                    if let Reply::Offsets { offset: Some(start), .. } = cluster.handle(now_ms, earliest) {
                        *self.next = start;
                    }
                    return;
                }
            }
        }
    }
}

/// Pushes made for one batch of events, and their bytes.
#[derive(Default)]
struct Outbox {
    texts: Vec<String>,
    bytes: usize,
}

impl Outbox {
    fn push(&mut self, text: String) {
        self.bytes += text.len();
        self.texts.push(text);
    }

    fn full(&self) -> bool {
        self.bytes >= MAX_PUSH_BYTES_PER_EVENT_BATCH
    }
}

fn refusal(message: String) -> Reply {
    Reply::Error(KafkaError::new(ErrorCode::InvalidRequest, message))
}

fn no_tab_commands() -> Reply {
    refusal("This host runs on the wall clock: a virtual clock, replay from the seed, reset and scenarios are the in-tab engine's.".into())
}

/// The engine's answer to a request with no session around it.
fn sessionless(cluster: &mut Cluster, now_ms: i64, command: Request) -> Reply {
    match command {
        Request::Engine(command) => cluster.handle(now_ms, command),
        Request::Host(_) | Request::Tab(_) => refusal("Only a host's session answers this request.".into()),
    }
}

/// A client's frame in, the engine's answer out, with no session around it (no subscriptions,
/// no consumer ownership): for the fuzzers and tests. Hosts answer through
/// `host::HostSession`. A binary frame's payload goes to the command that carries records
/// (`produce_records`); a reply that carries records (`record_batches`) goes out as a binary
/// frame, everything else as text.
pub fn serve_frame(cluster: &mut Cluster, now_ms: i64, incoming: &Frame) -> Frame {
    match decode_client_frame(incoming) {
        Ok(ClientMessage { id, command }) => reply_frame(id, sessionless(cluster, now_ms, command)),
        Err(err) => Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
    }
}

/// As `serve_frame` for text: a reply that would need a binary frame is refused in text. The
/// tab's replay gives its history to a new cluster through it.
pub fn serve_text(cluster: &mut Cluster, now_ms: i64, text: &str) -> String {
    match decode_client_message(text) {
        Ok(ClientMessage { id, command }) => reply_text(id, sessionless(cluster, now_ms, command)),
        Err(err) => encode(&ServerMessage::Invalid { message: err.to_string() }),
    }
}
