//! One websocket connection's transport: a welcome, then each client frame through the
//! connection's `HostSession` (shared with the tab's worker) and its answer back, until either side
//! closes, the client idles or stops reading, or the server shuts down; and the pushes the session
//! makes of the events every request and tick publishes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use kite_shared::api::{Frame, welcome_text};
use kite_shared::cluster::Cluster;
use kite_shared::host::{Capabilities, HostSession};
use kite_shared::trace::Event;
use tokio::sync::watch;
use warp::ws::{Message, WebSocket};

use crate::engine::Engine;

/// What the welcome says answers: the UI shows it, so a learner can see which engine they talk to.
const ENGINE_NAME: &str = concat!("kite serve ", env!("CARGO_PKG_VERSION"), " (native)");

/// Websocket close code 1001, "going away": the server is shutting down.
const CLOSE_GOING_AWAY: u16 = 1001;
/// Websocket close code 1000: a normal close (here: the client was idle too long).
const CLOSE_NORMAL: u16 = 1000;
/// Websocket close code 1009: a message was larger than the server reads.
const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;
/// How long one message may take to reach a client, unless `--write-timeout-ms` says otherwise: a
/// client that stops reading fills its socket's buffers, and would otherwise hold its slot, and
/// the pushes queued for it, forever.
pub(crate) const DEFAULT_WRITE_TIMEOUT_MS: u64 = 30_000;
/// A connection that sends nothing for this long is closed.
pub(crate) const IDLE_TIMEOUT_SECS: u64 = 600;
/// Batches of events the broadcast holds for slow subscribers; one that falls further behind
/// skips ahead.
pub(crate) const EVENT_CHANNEL_CAPACITY: usize = 1_024;

type EventBatch = Arc<Vec<(i64, Event)>>;

/// The engine's events, published after every request and tick to every connection.
#[derive(Clone)]
pub(crate) struct Events(pub tokio::sync::broadcast::Sender<EventBatch>);

impl Events {
    /// Takes what the engine recorded and sends it to every connection (nobody listening is fine).
    pub(crate) fn publish(&self, cluster: &mut Cluster) {
        let events = cluster.take_events();
        if !events.is_empty() {
            let _ = self.0.send(Arc::new(events));
        }
    }
}

/// What every connection shares, a websocket's and a Kafka client's alike: the engine, its
/// events, the shutdown signal, and how long a write to a client may take.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) engine: Arc<Engine>,
    pub(crate) events: Events,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) write_timeout: std::time::Duration,
}

pub(crate) async fn run(
    socket: WebSocket,
    engine: Arc<Engine>,
    shutdown: watch::Receiver<bool>,
    events: Events,
    write_timeout: std::time::Duration,
) {
    let mut session = HostSession::new(Capabilities::SERVER);
    serve(socket, &engine, shutdown, &events, &mut session, write_timeout).await;
    engine.turn(|cluster| session.close(cluster, now_ms())).await;
}

async fn serve(
    socket: WebSocket,
    engine: &Engine,
    mut shutdown: watch::Receiver<bool>,
    events: &Events,
    session: &mut HostSession,
    write_timeout: std::time::Duration,
) {
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
                if !session.has_subscriptions() {
                    continue;
                }
                let texts = engine.turn(|cluster| session.pushes(cluster, now_ms(), &batch)).await;
                for text in texts {
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
        if message.is_close() {
            return;
        }
        // Ping and pong are answered by the websocket layer.
        let Some(frame) = client_frame(message) else { continue };
        // The client's bytes are read before the engine is taken.
        let decoded = HostSession::decode_frame(&frame);
        let reply = engine
            .turn(|cluster| {
                let reply = session.answer_frame(cluster, now_ms(), decoded);
                events.publish(cluster);
                reply
            })
            .await;
        let outgoing = match reply {
            Frame::Text(text) => Message::text(text),
            Frame::Binary(bytes) => Message::binary(bytes),
        };
        if !send(outgoing).await {
            return;
        }
    }
}

/// A data message as the frame the session reads; `None` for ping, pong and close.
fn client_frame(message: Message) -> Option<Frame> {
    if let Ok(text) = message.to_str() {
        Some(Frame::Text(text.to_string()))
    } else if message.is_binary() {
        Some(Frame::Binary(message.into_bytes().to_vec()))
    } else {
        None
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
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
