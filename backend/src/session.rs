//! One websocket connection: a welcome, then one reply per client message, until either side
//! closes or the server shuts down; and what its subscriptions push (the engine's events, a
//! partition's new records), fed by the events every request and tick publishes.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use kite_shared::api::{
    ClientMessage, Command, Frame, Push, Reply, ServerMessage, decode_client_frame, encode, reply_frame,
    welcome_text,
};
use kite_shared::cluster::Cluster;
use kite_shared::error::{ErrorCode, KafkaError};
use kite_shared::replication::trace::Event;
use kite_shared::serializer::SerializerKind;
use tokio::sync::watch;
use warp::ws::{Message, WebSocket};

/// What the welcome says answers: the UI shows it, so a learner can see which engine they talk to.
const ENGINE_NAME: &str = concat!("kite serve ", env!("CARGO_PKG_VERSION"), " (native)");

/// Websocket close code 1001, "going away": the server is shutting down.
const CLOSE_GOING_AWAY: u16 = 1001;
/// Websocket close code 1011: the server hit an internal error.
const CLOSE_INTERNAL_ERROR: u16 = 1011;
/// Websocket close code 1000: a normal close (here: the client was idle too long).
const CLOSE_NORMAL: u16 = 1000;
/// Websocket close code 1009: a message was larger than the server reads.
const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;
/// How long one message may take to reach a client, unless `--write-timeout-ms` says otherwise: a
/// client that stops reading fills its socket's buffers, and would otherwise hold its slot, and
/// the pushes queued for it, forever.
pub const DEFAULT_WRITE_TIMEOUT_MS: u64 = 30_000;
/// A connection that sends nothing for this long is closed.
pub const IDLE_TIMEOUT_SECS: u64 = 600;
/// Batches of events the broadcast holds for slow subscribers; one that falls further behind
/// skips ahead.
pub const EVENT_CHANNEL_CAPACITY: usize = 1_024;
/// Subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 64;
/// Consumers one connection may run in the engine: the engine runs at most
/// `MAX_HOSTED_CONSUMERS` (1,000) for everyone, and one client must not take them all.
pub const MAX_CONSUMERS_PER_CONNECTION: usize = 32;
/// Records one live-tail push carries at most.
const TAIL_PUSH_RECORDS: u32 = 1_000;
/// Bytes of pushes one batch of events may make for one connection: 64 tails of one partition
/// turned a 1,000-record produce into ~10 MB of pushes per connection (212 MB for 20 of them).
/// Past it, events are skipped and tails stop where they are, to go on at their partition's next
/// append.
pub const MAX_PUSH_BYTES_PER_EVENT_BATCH: usize = 4 * 1024 * 1024;
/// Pushes one batch of events may send a tail, to catch up after a large produce.
const MAX_TAIL_FETCHES_PER_PUSH: usize = 16;

type EventBatch = Arc<Vec<(i64, Event)>>;

/// The engine's events, published after every request and tick to every connection.
#[derive(Clone)]
pub struct Events(pub tokio::sync::broadcast::Sender<EventBatch>);

impl Events {
    /// Takes what the engine recorded and sends it to every connection (nobody listening is fine).
    pub fn publish(&self, cluster: &mut Cluster) {
        let events = cluster.take_events();
        if !events.is_empty() {
            let _ = self.0.send(Arc::new(events));
        }
    }
}

/// What a connection subscribed to.
enum Subscription {
    Events,
    Tail { topic: String, partition: i32, next: i64, deserializers: (SerializerKind, SerializerKind) },
}

pub async fn run(
    socket: WebSocket,
    cluster: Arc<Mutex<Cluster>>,
    shutdown: watch::Receiver<bool>,
    events: Events,
    write_timeout: std::time::Duration,
) {
    let mut consumers = Vec::new();
    serve(socket, &cluster, shutdown, &events, &mut consumers, write_timeout).await;
    // The consumers this connection opened go with it: closed (committing, leaving their groups)
    // rather than left for their session timeouts.
    // Without a commit: the client may not have received what its last poll returned.
    if let Ok(mut cluster) = cluster.lock() {
        for consumer in consumers {
            cluster.abandon_consumer(now_ms(), consumer);
        }
    }
}

/// One client message: answered by the engine, except that a connection may only use the
/// consumers it opened.
fn answer(
    cluster: &mut Cluster,
    frame: &Frame,
    consumers: &mut Vec<u32>,
    subscriptions: &mut Vec<(u64, Subscription)>,
) -> Frame {
    let ClientMessage { id, command } = match decode_client_frame(frame) {
        Ok(message) => message,
        Err(err) => return Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
    };
    if let Some(reply) = subscribe(cluster, id, &command, subscriptions) {
        return reply_frame(id, reply);
    }
    let target = match &command {
        Command::Poll { consumer, .. }
        | Command::CommitOffsets { consumer }
        | Command::CloseConsumer { consumer }
        | Command::CrashConsumer { consumer } => Some(*consumer),
        _ => None,
    };
    let reply = match target {
        Some(consumer) if !consumers.contains(&consumer) => Reply::Error(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("There is no open consumer {consumer} on this connection."),
        )),
        None if matches!(command, Command::OpenConsumer { .. })
            && consumers.len() >= MAX_CONSUMERS_PER_CONNECTION =>
        {
            Reply::Error(KafkaError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "A connection runs at most {MAX_CONSUMERS_PER_CONNECTION} consumers; close one first."
                ),
            ))
        }
        _ => cluster.handle(now_ms(), command),
    };
    match &reply {
        Reply::ConsumerOpened { consumer } => consumers.push(*consumer),
        Reply::ConsumerClosed { consumer } => consumers.retain(|c| c != consumer),
        _ => {}
    }
    reply_frame(id, reply)
}

/// The host's own commands: subscriptions are the connection's, not the engine's.
fn subscribe(
    cluster: &mut Cluster,
    id: u64,
    command: &Command,
    subscriptions: &mut Vec<(u64, Subscription)>,
) -> Option<Reply> {
    let refuse = |message: String| Some(Reply::Error(KafkaError::new(ErrorCode::InvalidRequest, message)));
    let subscription = match command {
        Command::Unsubscribe { subscription } => {
            let before = subscriptions.len();
            subscriptions.retain(|(s, _)| s != subscription);
            if subscriptions.len() == before {
                return refuse(format!("There is no subscription {subscription} on this connection."));
            }
            return Some(Reply::Unsubscribed { subscription: *subscription });
        }
        Command::SubscribeEvents => Subscription::Events,
        Command::Tail { topic, partition, offset, key_deserializer, value_deserializer } => {
            // Where the tail starts: the given offset, else the log end (as ListOffsets says).
            let latest =
                Command::ListOffsets { topic: topic.clone(), partition: *partition, timestamp_ms: -1 };
            let next = match cluster.handle(now_ms(), latest) {
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
    if subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
        return refuse(format!(
            "A connection holds at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions."
        ));
    }
    subscriptions.push((id, subscription));
    Some(Reply::Subscribed { subscription: id })
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

/// What the subscriptions push for a batch of events.
fn pushes(
    cluster: &Mutex<Cluster>,
    events: &[(i64, Event)],
    subscriptions: &mut [(u64, Subscription)],
) -> Vec<String> {
    let mut out = Outbox::default();
    for (subscription, kind) in subscriptions.iter_mut() {
        if out.full() {
            tracing::debug!(
                "a connection's pushes reached {MAX_PUSH_BYTES_PER_EVENT_BATCH} bytes for one batch of events"
            );
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
                if !appended {
                    continue;
                }
                let Ok(mut engine) = cluster.lock() else { return out.texts };
                // Until caught up (bounded per batch of events; the next append continues).
                for _ in 0..MAX_TAIL_FETCHES_PER_PUSH {
                    let fetch = Command::Fetch {
                        topic: topic.clone(),
                        partition: *partition,
                        offset: *next,
                        max_records: TAIL_PUSH_RECORDS,
                        key_deserializer: deserializers.0,
                        value_deserializer: deserializers.1,
                    };
                    match engine.handle(now_ms(), fetch) {
                        Reply::Records { records, log_start_offset, .. } => {
                            let Some(last) = records.last() else {
                                // Nothing there: retention may have moved the log start past it.
                                *next = (*next).max(log_start_offset);
                                break;
                            };
                            *next = last.offset + 1;
                            let full = records.len() == TAIL_PUSH_RECORDS as usize;
                            let push = Push::Records { topic: topic.clone(), partition: *partition, records };
                            out.push(encode(&ServerMessage::Push { subscription: *subscription, push }));
                            if !full || out.full() {
                                break;
                            }
                        }
                        // Out of range (deleted, or retention passed it): follow from the log start.
                        _ => {
                            let earliest = Command::ListOffsets {
                                topic: topic.clone(),
                                partition: *partition,
                                timestamp_ms: -2,
                            };
                            if let Reply::Offsets { offset: Some(start), .. } =
                                engine.handle(now_ms(), earliest)
                            {
                                *next = start;
                            }
                            break;
                        }
                    }
                }
            }
        }
    }
    out.texts
}

async fn serve(
    socket: WebSocket,
    cluster: &Mutex<Cluster>,
    mut shutdown: watch::Receiver<bool>,
    events: &Events,
    consumers: &mut Vec<u32>,
    write_timeout: std::time::Duration,
) {
    let mut subscriptions: Vec<(u64, Subscription)> = Vec::new();
    let mut published = events.0.subscribe();
    // Idle means no client message: pushes to it do not count.
    let idle = std::time::Duration::from_secs(IDLE_TIMEOUT_SECS);
    let mut deadline = tokio::time::Instant::now() + idle;
    let (mut tx, mut rx) = socket.split();
    // Whether `message` reached the client's socket in time; a client too slow to read is let go.
    let mut send = async |message: Message| -> bool {
        match tokio::time::timeout(write_timeout, tx.send(message)).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                tracing::info!("closing a connection that read nothing for {write_timeout:?}");
                false
            }
        }
    };
    if !send(Message::text(welcome_text(ENGINE_NAME))).await {
        return;
    }
    loop {
        let message = tokio::select! {
            message = rx.next() => {
                deadline = tokio::time::Instant::now() + idle;
                message
            }
            () = tokio::time::sleep_until(deadline) => {
                let _ = send(Message::close_with(CLOSE_NORMAL, "idle for too long")).await;
                return;
            }
            _ = shutdown.changed() => {
                let _ = send(Message::close_with(CLOSE_GOING_AWAY, "kite serve is shutting down")).await;
                return;
            }
            batch = published.recv() => {
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!("a subscriber fell {missed} event batches behind");
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                if subscriptions.is_empty() {
                    continue;
                }
                for text in pushes(cluster, &batch, &mut subscriptions) {
                    if !send(Message::text(text)).await {
                        return;
                    }
                }
                continue;
            }
        };
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                tracing::debug!("websocket error: {e}");
                if is_too_big(&e) {
                    let _ = send(Message::close_with(CLOSE_MESSAGE_TOO_BIG, "message too big")).await;
                }
                return;
            }
            None => return,
        };
        let frame = if message.is_close() {
            return;
        } else if let Ok(text) = message.to_str() {
            Frame::Text(text.to_string())
        } else if message.is_binary() {
            Frame::Binary(message.into_bytes().to_vec())
        } else {
            // Ping and pong are answered by the websocket layer.
            continue;
        };
        let reply = {
            let Ok(mut cluster) = cluster.lock() else {
                tracing::error!("the engine panicked earlier; closing the connection");
                let _ = send(Message::close_with(CLOSE_INTERNAL_ERROR, "engine unavailable")).await;
                return;
            };
            let reply = answer(&mut cluster, &frame, consumers, &mut subscriptions);
            events.publish(&mut cluster);
            reply
        };
        let outgoing = match reply {
            Frame::Text(text) => Message::text(text),
            Frame::Binary(bytes) => Message::binary(bytes),
        };
        if !send(outgoing).await {
            return;
        }
    }
}

/// Whether a read failed because a message or frame was over the server's limit.
fn is_too_big(error: &warp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if matches!(e.downcast_ref::<tungstenite::Error>(), Some(tungstenite::Error::Capacity(_))) {
            return true;
        }
        source = e.source();
    }
    false
}

/// Wall-clock milliseconds since the Unix epoch: the engine's notion of "now" comes from its host.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
