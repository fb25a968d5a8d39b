//! A blocking client of Kite's websocket API (docs/websocket-api.md): what `kite`'s command-line
//! tools, the end-to-end tests and the benchmarks use to talk to a `kite serve`.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kite_shared::api::{
    ClientMessage, Command, Frame, Push, Reply, Request, ServerMessage, decode_server_frame, encode,
    encode_binary_frame,
};
use tungstenite::Message;

/// How long a client waiting for pushes goes without sending before it sends a websocket ping:
/// `kite serve` closes a connection that sends nothing for its idle timeout (600 s by default),
/// and a subscription that only listens (`kite events`) must not end with it.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// One connection to a server's `/ws`, after its welcome.
pub struct ApiClient {
    socket: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    /// Pushes that arrived while a reply was awaited: (subscription, push), for `next_push`.
    pushes: VecDeque<(u64, Push)>,
    /// When this client last sent anything, and how long it may stay silent while it waits.
    last_sent: Instant,
    keepalive: Duration,
    /// Whether the server closed the connection.
    closed: bool,
}

impl ApiClient {
    /// Connects to `url` (`ws://host:port/ws`, a `?token=` allowed) and reads the welcome.
    pub fn connect(url: &str) -> Result<ApiClient, String> {
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| format!("{url:?} is not a ws:// URL like ws://127.0.0.1:8080/ws"))?;
        let stream = TcpStream::connect(address)
            .map_err(|e| format!("cannot connect to {url}: {e} (is `kite serve` running?)"))?;
        // Requests wait for their answers: nothing gains from Nagle's delay.
        stream.set_nodelay(true).map_err(|e| format!("cannot set up the connection to {url}: {e}"))?;
        let (socket, _) = tungstenite::client::client(url, stream)
            .map_err(|e| format!("websocket handshake with {url} failed: {e}"))?;
        let mut client = ApiClient {
            socket,
            next_id: 1,
            pushes: VecDeque::new(),
            last_sent: Instant::now(),
            keepalive: KEEPALIVE_INTERVAL,
            closed: false,
        };
        match client.receive()? {
            Some(ServerMessage::Welcome { .. }) => Ok(client),
            Some(other) => Err(format!("{url} did not say welcome: {other:?}")),
            None => Err(format!("{url} closed the connection before its welcome")),
        }
    }

    /// Sends `command` and waits for its reply.
    pub fn request(&mut self, command: impl Into<Request>) -> Result<Reply, String> {
        let id = self.send(command.into(), None)?;
        self.reply_to(id)
    }

    /// Sends `command` with `payload` as its binary frame's records (`produce_records`) and waits
    /// for its reply.
    pub fn request_binary(&mut self, command: Command, payload: &[u8]) -> Result<Reply, String> {
        let id = self.send(command.into(), Some(payload))?;
        self.reply_to(id)
    }

    /// Sends `command` and returns its answer's binary frame as it arrived, undecoded (what a
    /// benchmark of decoding `record_batches` starts from).
    pub fn request_raw(&mut self, command: Command) -> Result<Vec<u8>, String> {
        self.send(command.into(), None)?;
        loop {
            match self.read()? {
                Some(Message::Binary(bytes)) => return Ok(bytes.to_vec()),
                Some(Message::Close(_)) | None => return Err("the server closed the connection".into()),
                Some(_) => {}
            }
        }
    }

    /// Whether the server has closed the connection (`next_push` then answers `None` at once).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// This client with `every` as its keepalive interval instead of `KEEPALIVE_INTERVAL`.
    pub fn with_keepalive(mut self, every: Duration) -> ApiClient {
        self.keepalive = every;
        self
    }

    /// The next push, waiting at most `timeout` (`None`: as long as it takes); `None` when none
    /// came in time or the server closed the connection. While it waits, a ping goes out whenever
    /// the client has sent nothing for its keepalive interval.
    pub fn next_push(&mut self, timeout: Option<Duration>) -> Result<Option<(u64, Push)>, String> {
        if let Some(push) = self.pushes.pop_front() {
            return Ok(Some(push));
        }
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let left = deadline.map(|at| at.saturating_duration_since(Instant::now()));
            if self.closed || left.is_some_and(|left| left.is_zero()) {
                return Ok(None);
            }
            let until_ping = self.keepalive.saturating_sub(self.last_sent.elapsed());
            if until_ping.is_zero() {
                self.socket
                    .send(Message::Ping(Default::default()))
                    .map_err(|e| format!("cannot ping the server: {e}"))?;
                self.last_sent = Instant::now();
                continue;
            }
            let wait = left.map_or(until_ping, |left| left.min(until_ping));
            self.socket.get_mut().set_read_timeout(Some(wait)).map_err(|e| e.to_string())?;
            let received = self.receive();
            self.socket.get_mut().set_read_timeout(None).map_err(|e| e.to_string())?;
            match received? {
                Some(ServerMessage::Push { subscription, push }) => return Ok(Some((subscription, push))),
                Some(other) => return Err(format!("expected a push, got {other:?}")),
                None => {}
            }
        }
    }

    fn send(&mut self, command: Request, payload: Option<&[u8]>) -> Result<u64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let header = encode(&ClientMessage { id, command });
        let message = match payload {
            Some(payload) => Message::binary(encode_binary_frame(&header, payload)),
            None => Message::text(header),
        };
        self.socket.send(message).map_err(|e| format!("cannot send to the server: {e}"))?;
        self.last_sent = Instant::now();
        Ok(id)
    }

    /// Reads until the reply to request `id`, keeping the pushes that come first.
    fn reply_to(&mut self, id: u64) -> Result<Reply, String> {
        loop {
            match self.receive()? {
                Some(ServerMessage::Reply { id: answered, reply }) if answered == id => {
                    return Ok(reply);
                }
                Some(ServerMessage::Push { subscription, push }) => {
                    self.pushes.push_back((subscription, push))
                }
                Some(ServerMessage::Invalid { message }) => {
                    return Err(format!("the server refused the request: {message}"));
                }
                Some(other) => return Err(format!("expected the reply to {id}, got {other:?}")),
                None => return Err("the server closed the connection".into()),
            }
        }
    }

    /// The next message from the server (pings and pongs skipped); `None` once it closed the
    /// connection or the read timeout passed.
    fn receive(&mut self) -> Result<Option<ServerMessage>, String> {
        loop {
            let frame = match self.read()? {
                Some(Message::Text(text)) => Frame::Text(text.to_string()),
                Some(Message::Binary(bytes)) => Frame::Binary(bytes.to_vec()),
                Some(Message::Close(_)) => {
                    self.closed = true;
                    return Ok(None);
                }
                None => return Ok(None),
                Some(_) => continue,
            };
            return decode_server_frame(&frame)
                .map(Some)
                .map_err(|e| format!("the server sent something unreadable: {e:?}"));
        }
    }

    /// The next websocket message; `None` when the read timeout passed first.
    fn read(&mut self) -> Result<Option<Message>, String> {
        match self.socket.read() {
            Ok(message) => Ok(Some(message)),
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                Ok(None)
            }
            Err(e) => {
                self.closed = true;
                Err(format!("the server closed the connection: {e}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kite_shared::api::welcome_text;

    /// A client waiting for pushes with nothing to send pings the server, so a server that closes
    /// silent connections keeps one that only listens (`kite events`, a live tail). Here a
    /// server waits for two pings before it pushes; without them the wait ends in nothing.
    #[test]
    fn a_client_waiting_for_pushes_pings_the_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut socket = tungstenite::accept(stream).unwrap();
            socket.send(Message::text(welcome_text("test"))).unwrap();
            let mut pings = 0;
            while pings < 2 {
                match socket.read() {
                    Ok(Message::Ping(_)) => pings += 1,
                    Ok(_) => {}
                    Err(e) => return Err(format!("no ping came: {e}")),
                }
            }
            let push = ServerMessage::Push { subscription: 1, push: Push::Skipped { events: 3 } };
            socket.send(Message::text(encode(&push))).unwrap();
            Ok(pings)
        });
        let client = ApiClient::connect(&format!("ws://{addr}/ws")).unwrap();
        let mut client = client.with_keepalive(Duration::from_millis(50));
        let push = client.next_push(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(push, Some((1, Push::Skipped { events: 3 })));
        assert_eq!(server.join().unwrap(), Ok(2));
    }
}
