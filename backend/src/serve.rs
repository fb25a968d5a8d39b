//! `kite serve`: opens the broker's logs on disk (recovering them after an unclean stop), binds
//! the listener, serves the UI's files and the `/ws` websocket, ticks the engine's periodic work
//! (flush.ms, checkpoints, retention), and on Ctrl-C or SIGTERM shuts down cleanly: logs flushed,
//! indexes and checkpoints written, the clean-shutdown marker last.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use kite_backend::data_dir::DataDir;
use kite_shared::api::{Command, Reply};
use kite_shared::cluster::layout::{self, Count};
use kite_shared::cluster::{Cluster, StorageOptions};
use tokio::sync::watch;
use warp::Filter;

use crate::ServeArgs;
use crate::engine::{self, Engine};
use crate::guard::{Guard, Peer, Upgrade, request_token};
use crate::kafka_listener;
use crate::session::{self, Shared};

/// Kafka's smallest replicated cluster, and `kite serve`'s default.
pub(crate) const DEFAULT_BROKERS: u32 = 3;
/// The most brokers one process runs (added ones too).
pub(crate) const MAX_BROKERS: u32 = kite_shared::limits::MAX_BROKERS_PER_CLUSTER as u32;
/// How often the engine's periodic work runs.
const TICK_INTERVAL_MS: u64 = 1_000;

/// Largest websocket message the server accepts: one maximal API message.
pub(crate) const MAX_WS_MESSAGE_BYTES: usize = kite_shared::limits::MAX_API_MESSAGE_BYTES;
/// Largest single websocket frame; browsers send whole messages in one frame.
pub(crate) const MAX_WS_FRAME_BYTES: usize = MAX_WS_MESSAGE_BYTES;
/// How long a client may take to send a request's headers (a websocket upgrade included) before
/// the connection is closed: a client that connects and dawdles holds nothing for long.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// How long shutdown waits for requests in flight.
const GRACEFUL_SHUTDOWN_MS: u64 = 5_000;
/// How long shutdown waits for websocket sessions to finish (closing their consumers) before the
/// engine is shut down.
const SESSION_DRAIN_MS: u64 = 2_000;

/// The most threads the runtime keeps beside its workers: each engine turn hands its worker to
/// one of them (`block_in_place`), and under 200 busy clients tokio's default (512) filled up,
/// each thread with its stack and allocator arena (docs/benchmarks.md, soak runs 4 and 5). A
/// handoff that finds them all busy waits for one; turns are one at a time, so it never waits long.
const MAX_BLOCKING_THREADS: usize = 16;

/// Each broker's rack as `--racks` lists them (none without the flag).
fn broker_racks(args: &ServeArgs) -> Result<Vec<Option<String>>, String> {
    let Some(list) = &args.racks else { return Ok(Vec::new()) };
    kite_shared::config::broker_racks(list, MAX_BROKERS as usize).map_err(|e| format!("--racks: {e}"))
}

/// The broker configs `--override` sets, or the first refused by name.
fn broker_configs(args: &ServeArgs) -> Result<kite_shared::config::BrokerConfigs, String> {
    let pairs = args.overrides.iter().map(String::as_str);
    kite_shared::config::BrokerConfigs::from_overrides(pairs)
        .map_err(|e| format!("--override: {}", e.message))
}

pub(crate) fn serve(args: ServeArgs) -> Result<(), String> {
    engine::end_on_panic_in_turn();
    // A bad override or rack is refused before anything is opened or locked.
    broker_configs(&args)?;
    broker_racks(&args)?;
    let data_dir = DataDir::open(&args.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run(args, &data_dir))
}

async fn run(args: ServeArgs, data_dir: &DataDir) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| format!("cannot read the bound address: {e}"))?;

    let seed = engine_seed();
    tracing::info!("engine seed {seed}: random choices (sticky partitions, …) follow from it");
    let mut cluster = open_cluster(&args, data_dir, seed)?;
    cluster.allow_faults = args.allow_faults;
    cluster.set_broker_configs(broker_configs(&args)?);
    cluster.set_broker_racks(&broker_racks(&args)?);
    let connect_dir = args.connect_dir.clone().unwrap_or_else(|| data_dir.path().join("connect-files"));
    cluster.connect_worker().set_files(Box::new(crate::connect_http::DirFiles::open(&connect_dir)?));
    cluster.connect_worker().set_worker_id(addr.to_string());
    tracing::info!(
        "{} broker(s){}",
        cluster.broker_count(),
        if args.allow_faults { ", faults allowed" } else { "" }
    );
    let engine = Arc::new(Engine::new(cluster));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (events_tx, _) = tokio::sync::broadcast::channel(session::EVENT_CHANNEL_CAPACITY);
    let events = session::Events(events_tx);
    let ticker = tokio::spawn(tick(engine.clone(), events.clone(), args.panic_on_topic.clone()));

    if !addr.ip().is_loopback() && args.token.is_none() {
        tracing::warn!(
            "listening on {addr}, beyond this machine, without --token: anyone who can reach it can use this cluster"
        );
    }
    let guard = Arc::new(Guard::new(
        addr,
        args.allow_hosts.clone(),
        args.allow_origins.clone(),
        args.token.clone(),
        args.max_connections,
    ));
    let drain_guard = guard.clone();
    // What every connection shares, Kafka's and the websocket's alike.
    let shared = Shared {
        engine: engine.clone(),
        events: events.clone(),
        shutdown: shutdown_rx,
        write_timeout: std::time::Duration::from_millis(args.write_timeout_ms),
    };
    let kafka = start_kafka(&args, shared.clone(), guard.clone()).await?;
    let connect = crate::connect_http::route(guard.clone(), engine.clone());
    let ws = websocket_route(guard, shared);
    let ui = with_page_headers(ui_routes(&args.ui_dir));
    let routes = ws.or(connect).unify().or(ui).unify().with(warp::log("kite::http"));

    let signals = ShutdownSignals::register()?;
    if let Some(line) = kafka {
        println!("{line}");
    }
    // Tests and `cargo xtask run` read this line to learn the address; keep its shape.
    println!(
        "Kite is serving on http://{addr} (websocket ws://{addr}/ws, data in {})",
        data_dir.path().display()
    );
    std::io::stdout().flush().map_err(|e| format!("cannot write to stdout: {e}"))?;

    let signal = async move {
        signals.wait().await;
        tracing::info!("shutting down");
        // Upgraded websockets are not tracked by the server's graceful shutdown: tell them.
        let _ = shutdown_tx.send(true);
    };
    let handshake_timeout = std::time::Duration::from_millis(args.handshake_timeout_ms);
    serve_http(listener, warp::service(routes), handshake_timeout, signal).await;
    // The sessions were told to close; let them finish (their consumers leave their groups)
    // before the engine writes its clean-shutdown marker.
    let drain_deadline = std::time::Instant::now() + std::time::Duration::from_millis(SESSION_DRAIN_MS);
    while drain_guard.active() > 0 && std::time::Instant::now() < drain_deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    ticker.abort();
    shut_down(&engine).await
}

/// `/ws`: a websocket upgrade the guard admits (Host, Origin, token, the connection cap), then
/// one session over it.
fn websocket_route(
    guard: Arc<Guard>,
    shared: Shared,
) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let Shared { engine: ws_engine, events: ws_events, shutdown: shutdown_rx, write_timeout } = shared;
    warp::path("ws")
        .and(warp::path::end())
        .and(warp::header::optional::<String>("host"))
        .and(warp::header::optional::<String>("origin"))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::ext::optional::<Peer>())
        .and(warp::ws())
        .map(
            move |host: Option<String>,
                  origin: Option<String>,
                  authorization: Option<String>,
                  query: String,
                  peer: Option<Peer>,
                  ws: warp::ws::Ws| {
                use warp::Reply;
                let token = request_token(&query, authorization.as_deref());
                let request = Upgrade {
                    host: host.as_deref(),
                    origin: origin.as_deref(),
                    token: token.as_deref(),
                    peer: peer.map(|Peer(ip)| ip),
                };
                match guard.admit(&request, std::time::Instant::now()) {
                    Ok(permit) => {
                        let engine = ws_engine.clone();
                        let shutdown = shutdown_rx.clone();
                        let events = ws_events.clone();
                        ws.max_message_size(MAX_WS_MESSAGE_BYTES)
                            .max_frame_size(MAX_WS_FRAME_BYTES)
                            .on_upgrade(move |socket| async move {
                                // The slot is held for as long as the session runs.
                                let _permit = permit;
                                session::run(socket, engine, shutdown, events, write_timeout).await
                            })
                            .into_response()
                    }
                    Err(refusal) => {
                        tracing::info!("refused a websocket upgrade: {}", refusal.message());
                        let status = warp::http::StatusCode::from_u16(refusal.status())
                            .unwrap_or(warp::http::StatusCode::FORBIDDEN);
                        warp::reply::with_status(refusal.message(), status).into_response()
                    }
                }
            },
        )
        .boxed()
}

/// The Kafka listeners, unless `--no-kafka`: the line that says where they are. With `--token`
/// a Kafka client authenticates with SASL/PLAIN, the token as its password, and guessing is
/// locked out as on the websocket.
async fn start_kafka(args: &ServeArgs, shared: Shared, guard: Arc<Guard>) -> Result<Option<String>, String> {
    if args.no_kafka {
        return Ok(None);
    }
    if !args.kafka_listen.ip().is_loopback() && args.token.is_none() {
        tracing::warn!(
            "Kafka listeners on {}, beyond this machine: anyone who can reach them can use this cluster",
            args.kafka_listen
        );
    }
    let access = kafka_listener::Access { sasl_plain_password: args.token.clone(), guard };
    let brokers =
        kafka_listener::start(args.kafka_listen, args.kafka_advertise.clone(), shared, access).await?;
    let each: Vec<String> =
        brokers.iter().map(|b| format!("broker {} at {}:{}", b.id, b.host, b.port)).collect();
    // Tests read this line for the addresses; keep its shape.
    Ok(Some(format!(
        "Kafka listeners: {} (bootstrap.servers={}:{})",
        each.join(", "),
        brokers[0].host,
        brokers[0].port
    )))
}

/// The engine's clean shutdown: logs flushed, indexes and checkpoints written, the marker last.
async fn shut_down(engine: &Engine) -> Result<(), String> {
    // After a panic in the engine the process has ended already (engine::end_on_panic_in_turn):
    // no clean-shutdown marker, so the next start recovers every log from what is on disk.
    match engine.turn(Cluster::shutdown).await {
        Ok(()) => tracing::info!("stopped; logs flushed and marked clean"),
        Err(e) => {
            tracing::error!("stopped without a clean shutdown (the next start recovers): {e}");
            return Err(format!("shutdown: {e}"));
        }
    }
    Ok(())
}

/// The HTTP server loop: what `warp::serve` does, plus deadlines on a connection's first byte and
/// on reading each request's headers (warp offers none), and each request told its peer's
/// address. Every connection is served with upgrades (websockets); once `signal` completes, it
/// stops accepting and gives requests in flight GRACEFUL_SHUTDOWN_MS.
async fn serve_http<S>(
    listener: tokio::net::TcpListener,
    service: S,
    handshake_timeout: std::time::Duration,
    signal: impl std::future::Future<Output = ()>,
) where
    S: tower_service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = warp::reply::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1 only (websockets upgrade from it): the auto-detecting builder would first wait,
    // with no deadline, for enough bytes to tell HTTP/2 from HTTP/1.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(handshake_timeout);
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let (builder, service, watcher) = (builder.clone(), service.clone(), graceful.watcher());
        tokio::spawn(async move {
            // hyper's header deadline starts once bytes arrive: a client that connects and says
            // nothing would hold its socket (and a file descriptor) forever. The first byte is due
            // within the same deadline, counted from accept. (`peek`, not `readable`: readiness
            // can be reported before any byte is there.)
            let first_byte = tokio::time::timeout(handshake_timeout, stream.peek(&mut [0u8; 1])).await;
            if !matches!(first_byte, Ok(Ok(1))) {
                tracing::debug!("closed a connection that sent nothing for {handshake_timeout:?}");
                return;
            }
            // Each request learns the connection's address (the guard locks out token guessing
            // per address).
            let service = TowerToHyperService::new(service);
            let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request.extensions_mut().insert(Peer(peer.ip()));
                hyper::service::Service::call(&service, request)
            });
            let connection =
                builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    let drained =
        tokio::time::timeout(std::time::Duration::from_millis(GRACEFUL_SHUTDOWN_MS), graceful.shutdown());
    if drained.await.is_err() {
        tracing::warn!("requests still in flight after {GRACEFUL_SHUTDOWN_MS} ms; stopping anyway");
    }
}

/// The engine's periodic work, once a second: flush.ms, checkpoints, retention and cleaning;
/// and, whenever a turn left some, the next slice of a wide topic's replica logs, in a turn of
/// its own behind the requests already waiting (`Cluster::resume`).
/// `panic_on_topic` plants a bug for the panic policy's test (`--panic-on-topic`).
async fn tick(engine: Arc<Engine>, events: session::Events, panic_on_topic: Option<String>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(TICK_INTERVAL_MS));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = engine.deferred_work() => {
                engine
                    .turn(|cluster| {
                        cluster.resume(session::now_ms());
                        events.publish(cluster);
                    })
                    .await;
                continue;
            }
        }
        let problems = engine
            .turn(|cluster| {
                if let Some(name) = &panic_on_topic
                    && let Reply::Topics { topics } = cluster.handle(session::now_ms(), Command::ListTopics)
                    && topics.iter().any(|topic| &topic.name == name)
                {
                    panic!("--panic-on-topic {name}: the planted bug");
                }
                let problems = cluster.tick(session::now_ms());
                events.publish(cluster);
                problems
            })
            .await;
        for problem in problems {
            tracing::error!("{problem}");
        }
    }
}

/// Opens the cluster the data directory holds (a new one of `--brokers` brokers when it holds
/// none), saying what the opening found: the logs recovered after an unclean stop.
fn open_cluster(args: &ServeArgs, data_dir: &DataDir, seed: u64) -> Result<Cluster, String> {
    let options = StorageOptions { flush_every_append: args.fsync, max_partition_bytes: usize::MAX };
    let opened = std::time::Instant::now();
    let mut stores = kite_backend::disk::DiskLayout(data_dir.path());
    // Without --brokers a stored cluster keeps the brokers it has (added or removed since).
    let count = match args.brokers {
        Some(brokers) => Count::Exactly(brokers),
        None => Count::ForNew(DEFAULT_BROKERS),
    };
    let controllers = args.controllers.map_or(layout::DEFAULT_QUORUM, Count::Exactly);
    let (cluster, reports, found) =
        layout::open(seed, session::now_ms(), &mut stores, count, controllers, options)
            .map_err(|e| format!("{} {e}", data_dir.path().display()))?;
    for (partition, report) in &reports {
        if let Some(reason) = &report.offline {
            tracing::warn!("partition {partition} is offline until its files are dealt with: {reason}");
        }
        if report.recovered_segments > 0 || report.truncated_bytes > 0 || !report.cleaned_up_files.is_empty()
        {
            tracing::info!(
                "partition {partition}: recovered {} segment(s), scanned {} bytes, cut {} bytes{}",
                report.recovered_segments,
                report.scanned_bytes,
                report.truncated_bytes,
                report.stopped_by.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
            );
        }
    }
    // One broker reports every log it opened; replicated brokers open theirs as the controller
    // names them, so only the time is known here.
    if found.brokers() == 1 {
        tracing::info!("opened {} partition log(s) in {:?}", reports.len(), opened.elapsed());
    } else {
        let controllers = cluster.controller_count();
        tracing::info!(
            "opened {} brokers and {controllers} controllers in {:?}",
            found.brokers(),
            opened.elapsed()
        );
    }
    Ok(cluster)
}

/// A fresh seed per run: the host, not the engine, draws it, from the clock and the process id.
fn engine_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}

/// The UI's files with the headers a browser should heed: no guessing a file's type from its
/// bytes (`nosniff`), no address of this server in a `Referer`, and no framing by another site's
/// page (clickjacking: a hidden frame of the server-mode UI under a lure), except the embeddable
/// playground (`?embed=1`), which docs pages anywhere may put in an iframe.
/// What the UI's pages may load: scripts only from this server's files (no inline script, no
/// eval; WebAssembly compiles), styles from its files and the views' `style` attributes, images
/// from its files and `data:`, connections to this server and to any websocket (the UI's
/// Connect to server takes an address), frames from this server (the docs' embedded playgrounds);
/// no plugins, no `<base>`, no form posts. A page that injects a script cannot run it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; \
    worker-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
/// The same, and no other site may frame the page (clickjacking).
const CONTENT_SECURITY_POLICY_NOT_FRAMED: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; \
    worker-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'self'";

fn with_page_headers(
    ui: warp::filters::BoxedFilter<(warp::reply::Response,)>,
) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    use warp::http::header::{HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and(ui)
        .map(|query: String, mut response: warp::reply::Response| {
            let headers = response.headers_mut();
            headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            let policy = if query.split('&').any(|pair| pair == "embed=1") {
                // The embeddable playground: any site's docs page may frame it.
                HeaderValue::from_static(CONTENT_SECURITY_POLICY)
            } else {
                headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
                HeaderValue::from_static(CONTENT_SECURITY_POLICY_NOT_FRAMED)
            };
            headers.insert("content-security-policy", policy);
            response
        })
        .boxed()
}

/// The built UI from `ui_dir`, or a page saying how to build it.
fn ui_routes(ui_dir: &Path) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    use warp::Reply;
    if ui_dir.join("index.html").is_file() {
        crate::assets::routes(ui_dir)
    } else {
        tracing::warn!("no UI in {}: build it with `cargo xtask dist`", ui_dir.display());
        let message = format!(
            "Kite's UI is not built: no index.html in {}. Run `cargo xtask run`, or `cargo xtask dist` and pass --ui-dir.",
            ui_dir.display()
        );
        warp::get()
            .map(move || {
                warp::reply::with_status(message.clone(), warp::http::StatusCode::NOT_FOUND).into_response()
            })
            .boxed()
    }
}

/// Ctrl-C and SIGTERM, registered before the server says it is ready, so a signal that arrives
/// right after the announcement is already ours (and not the default "die at once").
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    #[cfg(unix)]
    fn register() -> Result<ShutdownSignals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt =
            signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
        let terminate =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
        Ok(ShutdownSignals { interrupt, terminate })
    }

    #[cfg(not(unix))]
    fn register() -> Result<ShutdownSignals, String> {
        Ok(ShutdownSignals {})
    }

    #[cfg(unix)]
    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
