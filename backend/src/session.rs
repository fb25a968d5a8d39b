//! One websocket connection: a welcome, then one reply per client message, until either side
//! closes or the server shuts down.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use kite_shared::api::{
    ClientMessage, Command, Frame, Reply, ServerMessage, decode_client_frame, encode, reply_frame,
    welcome_text,
};
use kite_shared::cluster::Cluster;
use kite_shared::error::{ErrorCode, KafkaError};
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
/// A connection that sends nothing for this long is closed.
pub const IDLE_TIMEOUT_SECS: u64 = 600;

pub async fn run(socket: WebSocket, cluster: Arc<Mutex<Cluster>>, shutdown: watch::Receiver<bool>) {
    let mut consumers = Vec::new();
    serve(socket, &cluster, shutdown, &mut consumers).await;
    // The consumers this connection opened go with it: closed (committing, leaving their groups)
    // rather than left for their session timeouts.
    if let Ok(mut cluster) = cluster.lock() {
        for consumer in consumers {
            cluster.handle(now_ms(), Command::CloseConsumer { consumer });
        }
    }
}

/// One client message: answered by the engine, except that a connection may only use the
/// consumers it opened.
fn answer(cluster: &mut Cluster, frame: &Frame, consumers: &mut Vec<u32>) -> Frame {
    let ClientMessage { id, command } = match decode_client_frame(frame) {
        Ok(message) => message,
        Err(err) => return Frame::Text(encode(&ServerMessage::Invalid { message: err.to_string() })),
    };
    let target = match &command {
        Command::Poll { consumer, .. }
        | Command::CommitOffsets { consumer }
        | Command::CloseConsumer { consumer } => Some(*consumer),
        _ => None,
    };
    let reply = match target {
        Some(consumer) if !consumers.contains(&consumer) => Reply::Error(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!("There is no open consumer {consumer} on this connection."),
        )),
        _ => cluster.handle(now_ms(), command),
    };
    match &reply {
        Reply::ConsumerOpened { consumer } => consumers.push(*consumer),
        Reply::ConsumerClosed { consumer } => consumers.retain(|c| c != consumer),
        _ => {}
    }
    reply_frame(id, reply)
}

async fn serve(
    socket: WebSocket,
    cluster: &Mutex<Cluster>,
    mut shutdown: watch::Receiver<bool>,
    consumers: &mut Vec<u32>,
) {
    let (mut tx, mut rx) = socket.split();
    if tx.send(Message::text(welcome_text(ENGINE_NAME))).await.is_err() {
        return;
    }
    loop {
        let message = tokio::select! {
            message = tokio::time::timeout(std::time::Duration::from_secs(IDLE_TIMEOUT_SECS), rx.next()) => match message {
                Ok(message) => message,
                Err(_) => {
                    let _ = tx.send(Message::close_with(CLOSE_NORMAL, "idle for too long")).await;
                    return;
                }
            },
            _ = shutdown.changed() => {
                let _ = tx.send(Message::close_with(CLOSE_GOING_AWAY, "kite serve is shutting down")).await;
                return;
            }
        };
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                tracing::debug!("websocket error: {e}");
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
                let _ = tx.send(Message::close_with(CLOSE_INTERNAL_ERROR, "engine unavailable")).await;
                return;
            };
            answer(&mut cluster, &frame, consumers)
        };
        let outgoing = match reply {
            Frame::Text(text) => Message::text(text),
            Frame::Binary(bytes) => Message::binary(bytes),
        };
        if tx.send(outgoing).await.is_err() {
            return;
        }
    }
}

/// Wall-clock milliseconds since the Unix epoch: the engine's notion of "now" comes from its host.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
