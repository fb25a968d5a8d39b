//! Who may open the websocket. A page on another site must not drive a local Kite (the `Origin`
//! allowlist), a hostile DNS name pointed at 127.0.0.1 must not reach it (the `Host` allowlist,
//! against DNS rebinding), `--token` may be required (compared in constant time, guessing locked
//! out per address), and connections are capped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most websocket connections served at once, unless `--max-connections` says otherwise.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Wrong tokens one address may send before it is locked out.
pub(crate) const MAX_FAILED_TOKEN_ATTEMPTS: u32 = 5;

/// How long an address that sent too many wrong tokens is refused (429), whatever it sends.
pub(crate) const TOKEN_LOCKOUT_MS: u64 = 30_000;

/// Addresses whose wrong tokens are remembered at once; past it, the oldest lockouts are
/// forgotten first, so a flood of addresses cannot grow the table.
pub(crate) const MAX_TRACKED_TOKEN_PEERS: usize = 4_096;

/// Why an upgrade was refused, with the HTTP status it gets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 403: a `Host` or `Origin` not on the allowlist.
    Forbidden(String),
    /// 401: `--token` is set and the request did not carry it.
    Unauthorized,
    /// 503: the connection cap is reached.
    Busy { max: usize },
    /// 429: this address sent [`MAX_FAILED_TOKEN_ATTEMPTS`] wrong tokens; refused until then.
    LockedOut { retry_after_ms: u64 },
}

impl Refusal {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Refusal::Forbidden(_) => 403,
            Refusal::Unauthorized => 401,
            Refusal::Busy { .. } => 503,
            Refusal::LockedOut { .. } => 429,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            Refusal::Forbidden(why) => why.clone(),
            Refusal::Unauthorized => {
                "this server requires a token: add ?token=… to the websocket URL or send Authorization: Bearer …".into()
            }
            Refusal::Busy { max } => format!("this server already serves its maximum of {max} connections"),
            Refusal::LockedOut { retry_after_ms } => format!(
                "too many wrong tokens from this address: try again in {} s",
                retry_after_ms.div_ceil(1_000)
            ),
        }
    }
}

/// A held connection slot; dropping it frees the slot.
pub(crate) struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) struct Guard {
    bound: SocketAddr,
    allow_hosts: Vec<String>,
    allow_origins: Vec<String>,
    token: Option<String>,
    max_connections: usize,
    active: Arc<AtomicUsize>,
    /// Per address: wrong tokens so far, and when a lockout ends.
    token_failures: Mutex<HashMap<IpAddr, (u32, Option<Instant>)>>,
}

/// `host[:port]` split, lower-cased, brackets kept off IPv6 literals.
fn split_host(authority: &str) -> (String, Option<u16>) {
    let authority = authority.trim().to_ascii_lowercase();
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (host.to_string(), after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host.to_string(), port.parse().ok()),
        _ => (authority, None),
    }
}

impl Guard {
    pub(crate) fn new(
        bound: SocketAddr,
        allow_hosts: Vec<String>,
        allow_origins: Vec<String>,
        token: Option<String>,
        max_connections: usize,
    ) -> Guard {
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        Guard {
            bound,
            allow_hosts: lower(allow_hosts),
            allow_origins: lower(allow_origins),
            token,
            max_connections,
            active: Arc::new(AtomicUsize::new(0)),
            token_failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `authority` (a `Host` header, or an origin's host) names this server.
    fn host_allowed(&self, authority: &str) -> bool {
        if self.allow_hosts.iter().any(|allowed| allowed == &authority.trim().to_ascii_lowercase()) {
            return true;
        }
        let (host, port) = split_host(authority);
        if port.unwrap_or(80) != self.bound.port() {
            return false;
        }
        let ip = host.parse::<IpAddr>().ok();
        let loopback_name = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
        let bound_ip = self.bound.ip();
        if bound_ip.is_unspecified() {
            // Listening everywhere: any address of this machine, by IP; names must be allowed.
            loopback_name || ip.is_some()
        } else {
            (loopback_name && bound_ip.is_loopback()) || ip == Some(bound_ip)
        }
    }

    /// Websocket sessions running now (each holds a permit until it has finished, its cleanup
    /// included).
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Checks an upgrade request's headers and takes a connection slot. `peer` is the address the
    /// connection comes from, `now` the time (for token lockouts).
    pub(crate) fn admit(&self, request: &Upgrade<'_>, now: Instant) -> Result<Permit, Refusal> {
        let host = request.host.ok_or_else(|| Refusal::Forbidden("the request has no Host header".into()))?;
        if !self.host_allowed(host) {
            return Err(Refusal::Forbidden(format!(
                "Host {host:?} is not this server (use --allow-host to accept it)"
            )));
        }
        // Browsers send Origin; other clients (the CLI) need not.
        if let Some(origin) = request.origin
            && !self.origin_allowed(origin, host)
        {
            return Err(Refusal::Forbidden(format!(
                "Origin {origin:?} may not use this server (use --allow-origin to accept it)"
            )));
        }
        if let Some(expected) = &self.token {
            self.check_token(expected, request.token, request.peer, now)?;
        }
        let previous = self.active.fetch_add(1, Ordering::SeqCst);
        if previous >= self.max_connections {
            self.active.fetch_sub(1, Ordering::SeqCst);
            return Err(Refusal::Busy { max: self.max_connections });
        }
        Ok(Permit(self.active.clone()))
    }

    /// A page's origin is this server's when it is the very authority the request was sent to
    /// (`Origin` = `http://` + `Host`: the UI served from here), or, on a bind that is not every
    /// address, any name of this server. Listening on every address, any IP literal on the port
    /// would otherwise do — an attacker's own `http://203.0.113.9:8080` page included.
    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let lower = origin.trim().to_ascii_lowercase();
        if self.allow_origins.contains(&lower) {
            return true;
        }
        let Some(authority) = lower.strip_prefix("http://") else { return false };
        authority == host.trim().to_ascii_lowercase()
            || (!self.bound.ip().is_unspecified() && self.host_allowed(authority))
    }

    fn check_token(
        &self,
        expected: &str,
        given: Option<&str>,
        peer: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Refusal> {
        let mut failures = self.token_failures.lock().unwrap_or_else(|e| e.into_inner());
        let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if let Some(&(_, Some(until))) = failures.get(&peer) {
            if now < until {
                let retry_after_ms = u64::try_from(until.duration_since(now).as_millis()).unwrap_or(u64::MAX);
                return Err(Refusal::LockedOut { retry_after_ms });
            }
            failures.remove(&peer);
        }
        if given.is_some_and(|given| same_token(expected, given)) {
            failures.remove(&peer);
            return Ok(());
        }
        record_wrong_token(&mut failures, peer, now);
        Err(Refusal::Unauthorized)
    }

    /// Whether `peer` is locked out for guessing the token (on the websocket or, as a SASL
    /// password, on a Kafka listener).
    pub(crate) fn locked_out(&self, peer: IpAddr, now: Instant) -> bool {
        let failures = self.token_failures.lock().unwrap_or_else(|e| e.into_inner());
        matches!(failures.get(&peer), Some(&(_, Some(until))) if now < until)
    }

    /// A Kafka client at `peer` failed SASL authentication: a wrong token, counted as one.
    pub(crate) fn note_wrong_token(&self, peer: IpAddr, now: Instant) {
        let mut failures = self.token_failures.lock().unwrap_or_else(|e| e.into_inner());
        record_wrong_token(&mut failures, peer, now);
    }
}

/// Counts a wrong token from `peer`, locking it out at `MAX_FAILED_TOKEN_ATTEMPTS`.
fn record_wrong_token(failures: &mut HashMap<IpAddr, (u32, Option<Instant>)>, peer: IpAddr, now: Instant) {
    if failures.len() >= MAX_TRACKED_TOKEN_PEERS && !failures.contains_key(&peer) {
        forget_oldest(failures, now);
    }
    let entry = failures.entry(peer).or_insert((0, None));
    entry.0 += 1;
    if entry.0 >= MAX_FAILED_TOKEN_ATTEMPTS {
        entry.1 = Some(now + Duration::from_millis(TOKEN_LOCKOUT_MS));
        tracing::warn!("{peer} sent {} wrong tokens: locked out for {TOKEN_LOCKOUT_MS} ms", entry.0);
    }
}

/// The address a connection comes from, put into each of its requests' extensions by the
/// server's connection loop (warp's own `addr::remote` is not filled by a custom loop).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub IpAddr);

/// What an upgrade request says about itself.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Upgrade<'a> {
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub token: Option<&'a str>,
    /// The address the connection came from.
    pub peer: Option<IpAddr>,
}

/// Frees room in a full lockout table: expired lockouts first, else the one ending soonest, else
/// (only counting, none locked out) everything.
fn forget_oldest(failures: &mut HashMap<IpAddr, (u32, Option<Instant>)>, now: Instant) {
    failures.retain(|_, (_, until)| until.is_none_or(|until| until > now));
    if failures.len() < MAX_TRACKED_TOKEN_PEERS {
        return;
    }
    match failures.iter().filter_map(|(peer, (_, until))| until.map(|u| (u, *peer))).min() {
        Some((_, soonest)) => {
            failures.remove(&soonest);
        }
        None => failures.clear(),
    }
}

/// Whether two tokens are equal, in time that depends on their lengths only: a byte-by-byte `!=`
/// stops at the first difference, and how soon it stops tells an attacker how much they guessed.
fn same_token(expected: &str, given: &str) -> bool {
    let (expected, given) = (expected.as_bytes(), given.as_bytes());
    let mut difference = expected.len() ^ given.len();
    for (i, &byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(!byte));
    }
    std::hint::black_box(difference) == 0
}

/// The token a request carries: `?token=…` (browsers cannot set headers on a websocket), its
/// `%XX` escapes decoded (the UI escapes it with `encodeURIComponent`, so a base64 token's `=`,
/// `+` and `/` arrive as `%3D`, `%2B` and `%2F`), or `Authorization: Bearer …` as it is.
pub(crate) fn request_token(query: &str, authorization: Option<&str>) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(|escaped| percent_encoding::percent_decode_str(escaped).decode_utf8_lossy().into_owned())
        .or_else(|| authorization.and_then(|a| a.trim().strip_prefix("Bearer ")).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bound: &str, token: Option<&str>, max: usize) -> Guard {
        Guard::new(
            bound.parse().unwrap(),
            vec!["kite.example:8080".into()],
            vec!["https://docs.example".into()],
            token.map(str::to_string),
            max,
        )
    }

    fn upgrade<'a>(host: &'a str, origin: Option<&'a str>, token: Option<&'a str>) -> Upgrade<'a> {
        Upgrade { host: Some(host), origin, token, peer: Some(IpAddr::from([192, 0, 2, 7])) }
    }

    fn status(g: &Guard, request: Upgrade<'_>) -> u16 {
        g.admit(&request, Instant::now()).err().map_or(101, |r| r.status())
    }

    #[test]
    fn hosts_origins_tokens_and_the_cap() {
        let g = guard("127.0.0.1:8080", None, 2);
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "kite.example:8080"]
        {
            assert_eq!(status(&g, upgrade(host, None, None)), 101, "{host}");
        }
        for host in ["evil.example:8080", "127.0.0.1:9999", "10.0.0.1:8080"] {
            assert_eq!(status(&g, upgrade(host, None, None)), 403, "{host}");
        }
        assert_eq!(status(&g, Upgrade::default()), 403, "no Host");
        assert_eq!(status(&g, upgrade("localhost:8080", Some("http://localhost:8080"), None)), 101);
        // Bound to loopback, any loopback name of this port is this server's page.
        assert_eq!(status(&g, upgrade("127.0.0.1:8080", Some("http://localhost:8080"), None)), 101);
        assert_eq!(status(&g, upgrade("localhost:8080", Some("https://docs.example"), None)), 101);
        assert_eq!(status(&g, upgrade("localhost:8080", Some("http://evil.example"), None)), 403);

        let now = Instant::now();
        let (a, b) = (
            g.admit(&upgrade("localhost:8080", None, None), now),
            g.admit(&upgrade("localhost:8080", None, None), now),
        );
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(
            g.admit(&upgrade("localhost:8080", None, None), now).err(),
            Some(Refusal::Busy { max: 2 })
        );
        drop(a);
        assert!(
            g.admit(&upgrade("localhost:8080", None, None), now).is_ok(),
            "a closed connection frees its slot"
        );

        let locked = guard("0.0.0.0:8080", Some("s3cret"), 10);
        assert_eq!(status(&locked, upgrade("192.168.1.5:8080", None, None)), 401);
        assert_eq!(status(&locked, upgrade("192.168.1.5:8080", None, Some("s3cret"))), 101);
        assert_eq!(status(&locked, upgrade("myhost.lan:8080", None, Some("s3cret"))), 403);
        assert_eq!(request_token("a=1&token=xyz", None).as_deref(), Some("xyz"));
        assert_eq!(request_token("", Some("Bearer abc")).as_deref(), Some("abc"));
        assert_eq!(request_token("", None), None);
    }

    /// Listening on every address, an IP literal on the right port is a valid Host (a LAN address
    /// of this machine), but a page's Origin must be the very authority it asked: an attacker's page
    /// at their own address and the same port used to count as this server's own.
    #[test]
    fn on_every_address_only_the_requested_authority_is_the_servers_own_origin() {
        let g = guard("0.0.0.0:8080", None, 10);
        assert_eq!(status(&g, upgrade("192.168.1.5:8080", Some("http://192.168.1.5:8080"), None)), 101);
        assert_eq!(status(&g, upgrade("192.168.1.5:8080", Some("http://203.0.113.9:8080"), None)), 403);
        assert_eq!(status(&g, upgrade("192.168.1.5:8080", Some("http://127.0.0.1:8080"), None)), 403);
        assert_eq!(status(&g, upgrade("192.168.1.5:8080", Some("https://docs.example"), None)), 101);
    }

    /// The UI sends its token escaped by encodeURIComponent: a base64 token's `=`, `+` and `/`
    /// arrive as `%3D`, `%2B` and `%2F`, and used to be compared undecoded (refused).
    #[test]
    fn an_escaped_token_in_the_query_is_decoded() {
        let g = guard("127.0.0.1:8080", Some("a+b/c=="), 10);
        let token = request_token("token=a%2Bb%2Fc%3D%3D", None);
        assert_eq!(token.as_deref(), Some("a+b/c=="));
        assert_eq!(status(&g, upgrade("127.0.0.1:8080", None, token.as_deref())), 101);
        assert_eq!(request_token("token=a+b/c==", None).as_deref(), Some("a+b/c=="), "unescaped too");
    }

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same_token("s3cret", "s3cret"));
        for wrong in ["", "s", "s3cre", "s3cret!", "S3cret", "s3creu", "\u{0}s3cret"] {
            assert!(!same_token("s3cret", wrong), "{wrong:?}");
        }
    }

    /// Guessing is locked out per address after MAX_FAILED_TOKEN_ATTEMPTS wrong tokens, for
    /// TOKEN_LOCKOUT_MS, even with the right token; other addresses are not affected.
    #[test]
    fn wrong_tokens_lock_an_address_out_for_a_while() {
        let g = guard("127.0.0.1:8080", Some("s3cret"), 10);
        let start = Instant::now();
        let attempt = |token, peer: [u8; 4], at: Instant| {
            let request =
                Upgrade { host: Some("127.0.0.1:8080"), origin: None, token, peer: Some(peer.into()) };
            g.admit(&request, at).err().map_or(101, |r| r.status())
        };
        for _ in 0..MAX_FAILED_TOKEN_ATTEMPTS {
            assert_eq!(attempt(Some("guess"), [192, 0, 2, 1], start), 401);
        }
        assert_eq!(attempt(Some("s3cret"), [192, 0, 2, 1], start), 429, "locked out, right token or not");
        assert_eq!(attempt(Some("s3cret"), [192, 0, 2, 2], start), 101, "another address");
        let later = start + Duration::from_millis(TOKEN_LOCKOUT_MS);
        assert_eq!(attempt(Some("s3cret"), [192, 0, 2, 1], later), 101, "the lockout ends");
        assert_eq!(attempt(Some("guess"), [192, 0, 2, 1], later), 401, "and the count starts again");
    }

    #[test]
    fn the_lockout_table_stays_bounded() {
        let g = guard("127.0.0.1:8080", Some("s3cret"), 10);
        let now = Instant::now();
        for i in 0..(MAX_TRACKED_TOKEN_PEERS as u32 + 100) {
            let request = Upgrade {
                host: Some("127.0.0.1:8080"),
                token: None,
                peer: Some(IpAddr::from(i.to_be_bytes())),
                origin: None,
            };
            assert!(g.admit(&request, now).is_err());
        }
        assert!(g.token_failures.lock().unwrap().len() <= MAX_TRACKED_TOKEN_PEERS);
    }
}
