//! Kafka listeners: one TCP port per broker, so a Kafka client's requests reach the broker it
//! chose (a partition's leader, as Metadata says). Each connection's bytes go through a
//! `KafkaConnection` (the engine's Kafka front end, over the same host session the websocket
//! uses); this file keeps only the sockets, the caps and the timers.

use std::net::SocketAddr;
use std::sync::Arc;

use kite_shared::cluster::{Cluster, ListenerReach};
use kite_shared::kafka::{AdvertisedBroker, KafkaConnection, KafkaListener};
use kite_shared::trace::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::guard::Guard;
use crate::session::{IDLE_TIMEOUT_SECS, Shared, now_ms};

/// Who may use the listeners: with a password (the server's token), clients authenticate with
/// SASL/PLAIN; the guard locks out an address that keeps guessing, as on the websocket.
#[derive(Clone)]
pub(crate) struct Access {
    pub(crate) sasl_plain_password: Option<String>,
    pub(crate) guard: Arc<Guard>,
}

/// Where the first broker's Kafka listener is unless `--kafka-listen` says; broker N listens on
/// the port after broker N-1's (port 0: each gets a free port).
pub(crate) const DEFAULT_KAFKA_LISTEN: &str = "127.0.0.1:9092";
/// Kafka connections open at once, over every listener; more wait to be accepted.
pub(crate) const MAX_KAFKA_CONNECTIONS: usize = 256;
/// How much one read from a client's socket takes at most.
const READ_CHUNK_BYTES: usize = 64 * 1024;
/// How often a waiting request (a fetch, a JoinGroup) looks again besides the engine's events.
const WAITING_RECHECK_MS: u64 = 100;

/// How often the server looks for brokers added since it started, to open their listeners.
const ADDED_BROKERS_CHECK_MS: u64 = 200;

/// Binds broker `broker`'s listener: `first`'s port plus its id (a free port with port 0).
async fn bind(
    first: SocketAddr,
    broker: i32,
    advertise: &Option<String>,
) -> Result<(TcpListener, AdvertisedBroker), String> {
    let port = if first.port() == 0 {
        0
    } else {
        u16::try_from(broker).ok().and_then(|id| first.port().checked_add(id)).ok_or("a port past 65535")?
    };
    let addr = SocketAddr::new(first.ip(), port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for Kafka clients on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot read the bound address: {e}"))?;
    let advertised = AdvertisedBroker {
        id: broker,
        host: advertise.clone().unwrap_or_else(|| local.ip().to_string()),
        port: i32::from(local.port()),
    };
    Ok((listener, advertised))
}

/// Binds one listener per broker id the cluster has given out, from `first` (ports counting up,
/// or each free with port 0), and serves them; then opens one for each broker added while the
/// server runs (`grow`). Returns each broker's address as Metadata advertises it (`advertise` as
/// the host, else the bound address).
pub(crate) async fn start(
    first: SocketAddr,
    advertise: Option<String>,
    shared: Shared,
    access: Access,
) -> Result<Vec<AdvertisedBroker>, String> {
    let brokers = shared.engine.turn(|cluster| cluster.broker_ids_given()).await;
    let mut bound = Vec::new();
    for broker in 0..brokers {
        bound.push(bind(first, broker, &advertise).await?);
    }
    let advertised: Vec<AdvertisedBroker> = bound.iter().map(|(_, a)| a.clone()).collect();
    let slots = Arc::new(Semaphore::new(MAX_KAFKA_CONNECTIONS));
    for (listener, broker) in bound {
        let on = KafkaListener {
            broker: broker.id,
            brokers: advertised.clone(),
            sasl_plain_password: access.sasl_plain_password.clone(),
        };
        tokio::spawn(accept(listener, on, shared.clone(), slots.clone(), access.guard.clone()));
    }
    let started = advertised.clone();
    tokio::spawn(grow(first, advertise, started, shared, slots, access));
    Ok(advertised)
}

/// Opens the listener of each broker added while the server runs (`kite cluster add-broker`),
/// and tells the engine where it is, so Metadata advertises it to every connection.
async fn grow(
    first: SocketAddr,
    advertise: Option<String>,
    started: Vec<AdvertisedBroker>,
    shared: Shared,
    slots: Arc<Semaphore>,
    access: Access,
) {
    let mut next = started.len() as i32;
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(ADDED_BROKERS_CHECK_MS)) => {}
            _ = shutdown.changed() => return,
        }
        let given = shared.engine.turn(|cluster| cluster.broker_ids_given()).await;
        while next < given {
            let broker = next;
            next += 1;
            match bind(first, broker, &advertise).await {
                Ok((listener, advertised)) => {
                    tracing::info!(
                        "broker {broker} added: Kafka listener at {}:{}",
                        advertised.host,
                        advertised.port
                    );
                    let on = KafkaListener {
                        broker,
                        brokers: started.clone(),
                        sasl_plain_password: access.sasl_plain_password.clone(),
                    };
                    shared.engine.turn(move |cluster| cluster.add_kafka_listener(advertised)).await;
                    tokio::spawn(accept(listener, on, shared.clone(), slots.clone(), access.guard.clone()));
                }
                // The broker runs; Kafka clients cannot reach it (the websocket still can).
                Err(e) => tracing::warn!("broker {broker} added, but {e}"),
            }
        }
    }
}

async fn accept(
    listener: TcpListener,
    on: KafkaListener,
    shared: Shared,
    slots: Arc<Semaphore>,
    guard: Arc<Guard>,
) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        // A slot is taken once a connection is there, not while waiting for one: a listener
        // waiting for its next client would otherwise hold a slot idle, and with every slot
        // taken a client of another broker's listener would wait while one of them stood empty.
        // A connection past the cap waits here, the only one of its listener (the others wait in
        // the kernel's backlog).
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        };
        match accepted {
            // An address locked out for guessing the token is not served at all.
            Ok((_, peer)) if guard.locked_out(peer.ip(), std::time::Instant::now()) => {}
            // A stopped broker's port: closed at once, the nearest a listener still bound comes
            // to a refused connection (the client tries another broker, as with a dead one).
            Ok(_)
                if shared.engine.turn(|cluster| cluster.kafka_listener_reach(on.broker)).await
                    == ListenerReach::Refused => {}
            Ok((stream, peer)) => {
                let (on, shared, guard) = (on.clone(), shared.clone(), guard.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    let _ = stream.set_nodelay(true);
                    serve(stream, peer, on, shared, &guard).await;
                });
            }
            Err(e) => tracing::warn!("a Kafka connection was not accepted: {e}"),
        }
    }
}

/// One connection: requests in, responses out, until either side closes, the client idles or
/// stops reading, sends what Kafka would close on, or the server shuts down.
async fn serve(mut stream: TcpStream, peer: SocketAddr, on: KafkaListener, shared: Shared, guard: &Guard) {
    // Kafka shows a member's host as the address with a leading slash (Java's InetAddress).
    let mut connection = KafkaConnection::new(on).with_peer_host(format!("/{}", peer.ip()));
    let mut published = shared.events.0.subscribe();
    let mut shutdown = shared.shutdown.clone();
    let idle = std::time::Duration::from_secs(IDLE_TIMEOUT_SECS);
    // Idle means nothing read from the client or sent to it (Kafka's connections.max.idle.ms):
    // the engine's events do not move the deadline.
    let mut idle_deadline = tokio::time::Instant::now() + idle;
    let mut buffer = vec![0u8; READ_CHUNK_BYTES];
    let mut noted_failures = 0;
    loop {
        let parked = connection.wake_at_ms().is_some();
        let recheck = std::time::Duration::from_millis(WAITING_RECHECK_MS);
        let answered = tokio::select! {
            // While a request waits, the connection is not read (Kafka mutes it the same way).
            read = tokio::time::timeout_at(idle_deadline, stream.read(&mut buffer)), if !parked => match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => {
                    idle_deadline = tokio::time::Instant::now() + idle;
                    turn(&shared, |cluster, now| connection.receive(cluster, now, &buffer[..n])).await
                }
            },
            // A waiting request looks again whenever the engine did something. A broker stopped,
            // paused or cut off closes or mutes its connections at once, not at their next
            // request: a Kafka client learns its broker is gone when it is.
            events = published.recv() => match events {
                Ok(events) if !parked && !events.iter().any(|(_, e)| matches!(e, Event::Fault { .. })) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                _ => turn(&shared, |cluster, now| connection.wake(cluster, now)).await,
            },
            () = tokio::time::sleep(recheck), if parked => turn(&shared, |cluster, now| connection.wake(cluster, now)).await,
            _ = shutdown.changed() => break,
        };
        // Failed SASL logins count toward the address's lockout, whether answered or closed on.
        while noted_failures < connection.failed_logins() {
            noted_failures += 1;
            guard.note_wrong_token(peer.ip(), std::time::Instant::now());
        }
        let bytes = match answered {
            Some(Ok(bytes)) => bytes,
            Some(Err(close)) => {
                tracing::info!("closing a Kafka connection from {peer}: {}", close.reason);
                break;
            }
            None => break,
        };
        if !bytes.is_empty() {
            match tokio::time::timeout(shared.write_timeout, stream.write_all(&bytes)).await {
                // An answer is activity too (one a request waited long for, above all).
                Ok(Ok(())) => idle_deadline = tokio::time::Instant::now() + idle,
                _ => break,
            }
        }
        if connection.closing() {
            // A failed authentication: answered, then closed, as Kafka does.
            tracing::info!("closing a Kafka connection from {peer}: SASL authentication failed");
            break;
        }
    }
    shared
        .engine
        .turn(|cluster| {
            connection.close(cluster, now_ms());
            shared.events.publish(cluster);
        })
        .await;
}

/// One turn of the engine for this connection, its events published.
async fn turn<T>(shared: &Shared, work: impl FnOnce(&mut Cluster, i64) -> T) -> Option<T> {
    let answered = shared
        .engine
        .turn(|cluster| {
            let result = work(cluster, now_ms());
            shared.events.publish(cluster);
            result
        })
        .await;
    Some(answered)
}
