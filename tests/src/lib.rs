//! The end-to-end harness: start a real `kite serve`, a real chromedriver and headless Chromium,
//! and tear every one of them down again, even when a test fails.
//!
//! `cargo xtask test` builds the UI and the server and passes their paths in the environment
//! (KITE_BIN, KITE_UI_DIR, CHROME, CHROMEDRIVER, KITE_CHROME_ARGS, KITE_SCREENSHOT_DIR).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// How long a started process may take to become ready.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the UI may take to show what a test waits for.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `kite serve` may take to stop after SIGTERM.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

pub fn env_path(name: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{name} is not set: run the end-to-end tests through `cargo xtask test`"))
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let path = std::env::temp_dir().join(format!("kite-e2e-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `kite serve`, killed on drop if the test did not stop it.
pub struct KiteServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// Each broker's Kafka listener, broker 0 first (empty with `--no-kafka`).
    pub kafka: Vec<SocketAddr>,
}

impl KiteServer {
    /// Starts `kite serve` on a free port with `data_dir`, serving the built UI.
    pub fn start(data_dir: &Path) -> KiteServer {
        KiteServer::start_with(data_dir, &[])
    }

    /// `start` with more `kite serve` arguments.
    pub fn start_with(data_dir: &Path, args: &[&str]) -> KiteServer {
        KiteServer::start_at(data_dir, FREE_PORT, args)
    }

    /// `start_with` listening on `listen` (to come back on the address a client knows).
    pub fn start_at(data_dir: &Path, listen: &str, args: &[&str]) -> KiteServer {
        KiteServer::spawn(kite_serve_at(data_dir, listen).args(args))
    }

    /// `start`, serving the UI in `ui_dir` rather than KITE_UI_DIR's.
    pub fn start_serving(data_dir: &Path, ui_dir: &Path) -> KiteServer {
        KiteServer::spawn(&mut kite_serve_ui(data_dir, FREE_PORT, ui_dir))
    }

    fn spawn(command: &mut Command) -> KiteServer {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        // Owned from here on, so a panic below still kills the process.
        let mut server =
            KiteServer { child: Some(child), addr: SocketAddr::from(([0, 0, 0, 0], 0)), kafka: Vec::new() };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("kite serve did not print its address in time");
            if let Some(rest) = line.strip_prefix("Kafka listeners: ") {
                server.kafka = kafka_listeners(rest);
            }
            if let Some(rest) = line.strip_prefix("Kite is serving on http://") {
                server.addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                return server;
            }
        }
    }

    /// `bootstrap.servers` for a Kafka client: every broker's listener, as a client in production
    /// lists several, so that one broker stopped (its port closed) does not keep it from starting.
    pub fn bootstrap(&self) -> String {
        assert!(!self.kafka.is_empty(), "kite serve opened Kafka listeners");
        self.kafka.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("still running");
        let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("kite serve did not stop within {SHUTDOWN_TIMEOUT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl KiteServer {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits up to `within` for the process to exit on its own; its status, or `None` if it is
    /// still running.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        let child = self.child.as_mut().expect("still running");
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGKILL: no shutdown at all, as a crash.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("still running");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// `kite_backend::client::ApiClient` on a test's server, failing the test on any error.
pub struct ApiClient(kite_backend::client::ApiClient);

impl ApiClient {
    /// Connects and reads the welcome.
    pub fn connect(server: &KiteServer) -> ApiClient {
        ApiClient(kite_backend::client::ApiClient::connect(&server.ws_url()).unwrap())
    }

    /// Sends one command and returns its reply (keeping pushes that come first for `next_push`).
    pub fn request(&mut self, command: impl Into<kite_shared::api::Request>) -> kite_shared::api::Reply {
        self.0.request(command).unwrap()
    }

    /// Creates topic `name` with `partitions` partitions and the defaults, or fails the test.
    pub fn create_topic(&mut self, name: &str, partitions: i32) {
        self.create(name, partitions, None);
    }

    /// `create_topic` with `replication_factor` replicas of each partition.
    pub fn create_topic_with(&mut self, name: &str, partitions: i32, replication_factor: i16) {
        self.create(name, partitions, Some(replication_factor));
    }

    fn create(&mut self, name: &str, partitions: i32, replication_factor: Option<i16>) {
        let created = self.request(kite_shared::api::Command::CreateTopic {
            name: name.into(),
            partitions,
            configs: Default::default(),
            replication_factor,
        });
        assert!(matches!(created, kite_shared::api::Reply::TopicCreated { .. }), "{created:?}");
    }

    /// The next push, waiting up to `timeout`; `None` if none came.
    pub fn next_push(&mut self, timeout: std::time::Duration) -> Option<(u64, kite_shared::api::Push)> {
        self.0.next_push(Some(timeout)).unwrap()
    }
}

impl Drop for KiteServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `kite serve` on a free port with `data_dir` and the built UI, not yet started.
pub fn kite_serve(data_dir: &Path) -> Command {
    kite_serve_at(data_dir, FREE_PORT)
}

/// The addresses in `kite serve`'s `Kafka listeners: broker 0 at HOST:PORT, … (bootstrap…)` line.
fn kafka_listeners(line: &str) -> Vec<SocketAddr> {
    line.split(", ")
        .filter_map(|part| part.split(" at ").nth(1))
        .filter_map(|addr| addr.split_whitespace().next())
        .filter_map(|addr| addr.parse().ok())
        .collect()
}

/// `--listen` for a free loopback port (the server prints the one it got).
const FREE_PORT: &str = "127.0.0.1:0";

/// `kite serve` listening on `listen`.
pub fn kite_serve_at(data_dir: &Path, listen: &str) -> Command {
    kite_serve_ui(data_dir, listen, &env_path("KITE_UI_DIR"))
}

fn kite_serve_ui(data_dir: &Path, listen: &str, ui_dir: &Path) -> Command {
    let mut command = Command::new(env_path("KITE_BIN"));
    command
        .arg("serve")
        .arg("--listen")
        .arg(listen)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--ui-dir")
        .arg(ui_dir)
        .arg("--log-level")
        .arg("warn")
        // Every broker's Kafka listener on a free port, so servers run side by side.
        .arg("--kafka-listen")
        .arg("127.0.0.1:0");
    command
}

/// A plain HTTP/1.0 GET: (status line, headers, body).
pub fn http_get(addr: SocketAddr, path: &str) -> (String, String, Vec<u8>) {
    http_get_with(addr, path, &[])
}

/// `http_get` with more request headers (`("accept-encoding", "br")`).
pub fn http_get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(STARTUP_TIMEOUT)).unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{extra}\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (status.to_string(), headers.to_ascii_lowercase(), response[split + 4..].to_vec())
}

/// A running chromedriver on a free port, killed on drop.
pub struct ChromeDriver {
    child: Child,
    pub port: u16,
}

impl ChromeDriver {
    pub fn start() -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env_path("CHROMEDRIVER"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port} in time");
            std::thread::sleep(Duration::from_millis(50));
        }
        ChromeDriver { child, port }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens a headless Chromium session, runs `body` with it, and closes the session whatever
/// happened (killing chromedriver alone would leave Chromium running).
pub async fn with_browser<F, Fut>(driver: &ChromeDriver, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let chrome = env_path("CHROME");
    let args: Vec<String> = std::env::var("KITE_CHROME_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chrome.to_string_lossy(), "args": args }),
    );
    // The console's messages, for `browser_log`.
    capabilities.insert("goog:loggingPrefs".into(), serde_json::json!({ "browser": "ALL" }));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium");
    let result = body(client.clone()).await;
    let closed = client.close().await;
    if let Err(message) = result {
        panic!("{message}");
    }
    closed.expect("closing the WebDriver session");
}

/// Waits for the element matching `css` and returns it.
pub async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element, String> {
    match client.wait().at_most(UI_TIMEOUT).for_element(Locator::Css(css)).await {
        Ok(found) => Ok(found),
        Err(e) => Err(format!("waiting for `{css}`: {e}; the page's alerts: {:?}", alerts(client).await)),
    }
}

/// The text of every alert the page shows (an engine's error, a view's problem): what a failed
/// wait reports, so a test that timed out says why the page did not get there.
async fn alerts(client: &Client) -> serde_json::Value {
    let js = "return [...document.querySelectorAll('[role=alert]')].map(e => e.innerText.trim())";
    client.execute(js, vec![]).await.unwrap_or_else(|e| serde_json::Value::String(e.to_string()))
}

/// Runs `js` until it returns `expected`, or fails saying what the page said last once the UI
/// timeout passes.
pub async fn until(client: &Client, js: &str, expected: serde_json::Value) -> Result<(), String> {
    let started = std::time::Instant::now();
    loop {
        let found = client.execute(js, vec![]).await.map_err(|e| e.to_string())?;
        if found == expected {
            return Ok(());
        }
        if started.elapsed() > UI_TIMEOUT {
            return Err(format!("waited for {expected}, the page says {found}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Replaces the text of the input matching `css` the way a person would: select all, type.
pub async fn fill(client: &Client, css: &str, text: &str) -> Result<(), String> {
    let input = wait_for(client, css).await?;
    input.click().await.map_err(|e| format!("clicking `{css}`: {e}"))?;
    // U+E009 is WebDriver's Control key, U+E000 releases it; Ctrl+A selects what is there and
    // Backspace (U+E003) clears it, so an empty `text` empties the input.
    input
        .send_keys(&format!("\u{E009}a\u{E000}\u{E003}{text}"))
        .await
        .map_err(|e| format!("typing into `{css}`: {e}"))?;
    let value = input.prop("value").await.map_err(|e| e.to_string())?.unwrap_or_default();
    if value != text {
        return Err(format!("`{css}` holds {value:?} after typing {text:?}"));
    }
    Ok(())
}

/// Picks the option with `value` in the `<select>` matching `css`.
pub async fn select(client: &Client, css: &str, value: &str) -> Result<(), String> {
    wait_for(client, css)
        .await?
        .select_by_value(value)
        .await
        .map_err(|e| format!("choosing {value} in `{css}`: {e}"))
}

pub async fn click(client: &Client, css: &str) -> Result<(), String> {
    wait_for(client, css).await?.click().await.map_err(|e| format!("clicking `{css}`: {e}"))
}

pub async fn text_of(client: &Client, css: &str) -> Result<String, String> {
    wait_for(client, css).await?.text().await.map_err(|e| format!("reading `{css}`: {e}"))
}

/// Saves a PNG of the page under KITE_SCREENSHOT_DIR.
pub async fn screenshot(client: &Client, name: &str) -> Result<PathBuf, String> {
    let dir = env_path("KITE_SCREENSHOT_DIR");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let png = client.screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|e| e.to_string())?;
    Ok(path)
}

/// ChromeDriver's log endpoint (`POST /session/{id}/se/log`), which fantoccini has no method for.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }
    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_string()))
    }
}

/// ChromeDriver's network emulation (`POST /session/{id}/chromium/network_conditions`): every
/// request waits `latency_ms` for its answer, and bytes come at most `bytes_per_second` each way.
#[derive(Debug)]
struct NetworkConditions {
    latency_ms: u64,
    bytes_per_second: u64,
}

impl fantoccini::wd::WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/chromium/network_conditions", session_id.unwrap_or_default()))
    }
    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let conditions = serde_json::json!({ "network_conditions": {
            "offline": false,
            "latency": self.latency_ms,
            "download_throughput": self.bytes_per_second,
            "upload_throughput": self.bytes_per_second,
        }});
        (http::Method::POST, Some(conditions.to_string()))
    }
}

/// Makes the browser's network a slow one from now on (a reader's, not localhost's).
pub async fn throttle_network(client: &Client, latency_ms: u64, bytes_per_second: u64) -> Result<(), String> {
    client
        .issue_cmd(NetworkConditions { latency_ms, bytes_per_second })
        .await
        .map(|_| ())
        .map_err(|e| format!("emulating the network: {e}"))
}

/// What the page wrote to the browser's console since the last call (failed loads included, as
/// `SEVERE` lines): `(level, message)`.
pub async fn browser_log(client: &Client) -> Result<Vec<(String, String)>, String> {
    let log = client.issue_cmd(BrowserLog).await.map_err(|e| format!("reading the console log: {e}"))?;
    let entries = log.as_array().ok_or(format!("the console log is not a list: {log}"))?;
    Ok(entries
        .iter()
        .map(|entry| {
            let field = |name: &str| entry[name].as_str().unwrap_or_default().to_string();
            (field("level"), field("message"))
        })
        .collect())
}

/// How far the page reaches past the window's right edge, in CSS pixels (0: no sideways scroll),
/// and the widest element that does, for the failure message (an element inside a box that
/// scrolls or clips sideways moves that box's content, not the page: not counted).
pub async fn horizontal_overflow(client: &Client) -> Result<(i64, String), String> {
    let script = r##"
        const width = document.documentElement.clientWidth;
        let worst = [0, ""];
        const contained = (element) => {
            for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
                if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(box).overflowX)) return true;
            }
            return false;
        };
        for (const element of document.querySelectorAll("body *")) {
            if (contained(element)) continue;
            const over = Math.round(element.getBoundingClientRect().right - width);
            if (over > worst[0]) {
                const parent = element.parentElement;
                worst = [over, (parent && parent.className && typeof parent.className === "string" ? "." + parent.className.split(" ").join(".") + " > " : "")
                    + element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
                    + (element.className && typeof element.className === "string" ? "." + element.className.split(" ").join(".") : "")];
            }
        }
        return [document.documentElement.scrollWidth - width, worst[1] + " by " + worst[0] + " px"];
    "##;
    let found = client.execute(script, Vec::new()).await.map_err(|e| format!("measuring the page: {e}"))?;
    Ok((found[0].as_i64().unwrap_or(i64::MAX), found[1].as_str().unwrap_or_default().to_string()))
}
