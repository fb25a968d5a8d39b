//! One client's session with the engine, the same in every host: what `kite serve` does for each
//! websocket and the tab's worker for its page. A host passes in the client's frames, the time and
//! the engine's events; the session answers, keeps the client's subscriptions (event streams and
//! live tails) and the consumers it opened, and makes the pushes to send. The host keeps only its
//! transport and its storage commits.

use crate::api::{
    ClientMessage, Command, Frame, Push, Reply, ServerMessage, decode_client_frame, decode_client_message,
    encode, reply_frame, reply_text,
};
use crate::cluster::Cluster;
use crate::error::{ErrorCode, KafkaError};
use crate::limits::{
    MAX_CONSUMERS_PER_CONNECTION, MAX_PUSH_BYTES_PER_EVENT_BATCH, MAX_SUBSCRIPTIONS_PER_CONNECTION,
    MAX_TAIL_FETCHES_PER_PUSH, TAIL_PUSH_RECORDS,
};
use crate::serializer::SerializerKind;
use crate::trace::Event;

/// A client's session: its subscriptions and the consumers it opened.
#[derive(Debug)]
pub struct HostSession {
    /// Each with the id of the request that made it, which its pushes carry.
    subscriptions: Vec<(u64, Subscription)>,
    consumers: Vec<u32>,
    /// Whether this host serves live tails (`tail`); without, the engine refuses them.
    live_tails: bool,
}

/// What a client subscribed to.
#[derive(Debug)]
enum Subscription {
    Events,
    Tail { topic: String, partition: i32, next: i64, deserializers: (SerializerKind, SerializerKind) },
}

/// A client message answered by [`HostSession::answer`].
#[derive(Debug)]
pub struct Answer {
    /// The request's id.
    pub id: u64,
    pub reply: Reply,
    /// Whether the engine itself handled the command (what a replay must give it again), rather
    /// than the session (subscriptions, a consumer it does not own, a cap).
    pub by_engine: bool,
}

impl Default for HostSession {
    fn default() -> HostSession {
        HostSession::new()
    }
}

impl HostSession {
    /// A session that serves everything: event streams and live tails.
    pub fn new() -> HostSession {
        HostSession { subscriptions: Vec::new(), consumers: Vec::new(), live_tails: true }
    }

    /// A session without live tails, for a host that replays what the engine was given: a tail's
    /// fetches are not requests the client made, so a replay would not make them again.
    pub fn without_live_tails() -> HostSession {
        HostSession { live_tails: false, ..HostSession::new() }
    }

    /// One frame from the client, answered at `now_ms`, as the frame to send back (binary for a
    /// reply that carries record batches).
    pub fn answer_frame(&mut self, cluster: &mut Cluster, now_ms: i64, frame: &Frame) -> Frame {
        match decode_client_frame(frame) {
            Ok(message) => {
                let Answer { id, reply, .. } = self.answer(cluster, now_ms, message);
                reply_frame(id, reply)
            }
            Err(err) => Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
        }
    }

    /// One message from the client: subscriptions are the session's, consumers may be used only
    /// by the session that opened them, everything else goes to the engine.
    pub fn answer(&mut self, cluster: &mut Cluster, now_ms: i64, message: ClientMessage) -> Answer {
        let ClientMessage { id, command } = message;
        let answered = |reply, by_engine| Answer { id, reply, by_engine };
        if let Some(reply) = self.subscribe(cluster, now_ms, id, &command) {
            return answered(reply, false);
        }
        let target = match &command {
            Command::Poll { consumer, .. }
            | Command::CommitOffsets { consumer }
            | Command::CloseConsumer { consumer }
            | Command::CrashConsumer { consumer } => Some(*consumer),
            _ => None,
        };
        if let Some(consumer) = target.filter(|consumer| !self.consumers.contains(consumer)) {
            return answered(
                refusal(format!("There is no open consumer {consumer} on this connection.")),
                false,
            );
        }
        if matches!(command, Command::OpenConsumer { .. })
            && self.consumers.len() >= MAX_CONSUMERS_PER_CONNECTION
        {
            let reply = Reply::Error(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "A connection runs at most {MAX_CONSUMERS_PER_CONNECTION} consumers; close one first."
                ),
            ));
            return answered(reply, false);
        }
        let reply = cluster.handle(now_ms, command);
        match &reply {
            Reply::ConsumerOpened { consumer } => self.consumers.push(*consumer),
            Reply::ConsumerClosed { consumer } => self.consumers.retain(|c| c != consumer),
            _ => {}
        }
        answered(reply, true)
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
                Subscription::Events => {
                    for (at_ms, event) in events {
                        let push = Push::event(*at_ms, event);
                        out.push(encode(&ServerMessage::Push { subscription: *subscription, push }));
                        if out.full() {
                            break;
                        }
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
    fn subscribe(&mut self, cluster: &mut Cluster, now_ms: i64, id: u64, command: &Command) -> Option<Reply> {
        let subscription = match command {
            Command::Unsubscribe { subscription } => {
                let before = self.subscriptions.len();
                self.subscriptions.retain(|(s, _)| s != subscription);
                if self.subscriptions.len() == before {
                    return Some(refusal(format!(
                        "There is no subscription {subscription} on this connection."
                    )));
                }
                return Some(Reply::Unsubscribed { subscription: *subscription });
            }
            Command::SubscribeEvents => Subscription::Events,
            Command::Tail { .. } if !self.live_tails => return None,
            Command::Tail { topic, partition, offset, key_deserializer, value_deserializer } => {
                // Where the tail starts: the given offset, else the log end (as ListOffsets says).
                let latest =
                    Command::ListOffsets { topic: topic.clone(), partition: *partition, timestamp_ms: -1 };
                let next = match cluster.handle(now_ms, latest) {
                    Reply::Offsets { offset: end, .. } => offset.or(end).unwrap_or(0),
                    error @ Reply::Error(_) => return Some(error),
                    _ => 0,
                };
                Subscription::Tail {
                    topic: topic.clone(),
                    partition: *partition,
                    next,
                    deserializers: (*key_deserializer, *value_deserializer),
                }
            }
            _ => return None,
        };
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return Some(refusal(format!(
                "A connection holds at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions."
            )));
        }
        self.subscriptions.push((id, subscription));
        Some(Reply::Subscribed { subscription: id })
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

/// A client's frame in, the engine's answer out, with no session around it (no subscriptions,
/// no consumer ownership): for the fuzzers and tests. Hosts answer through
/// `host::HostSession`. A binary frame's payload goes to the command that carries records
/// (`produce_records`); a reply that carries records (`record_batches`) goes out as a binary
/// frame, everything else as text.
pub fn serve_frame(cluster: &mut Cluster, now_ms: i64, incoming: &Frame) -> Frame {
    match decode_client_frame(incoming) {
        Ok(ClientMessage { id, command }) => reply_frame(id, cluster.handle(now_ms, command)),
        Err(err) => Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
    }
}

/// As `serve_frame` for text: a reply that would need a binary frame is refused in text. The
/// tab's replay gives its history to a new cluster through it.
pub fn serve_text(cluster: &mut Cluster, now_ms: i64, text: &str) -> String {
    match decode_client_message(text) {
        Ok(ClientMessage { id, command }) => reply_text(id, cluster.handle(now_ms, command)),
        Err(err) => encode(&ServerMessage::Invalid { message: err.to_string() }),
    }
}
