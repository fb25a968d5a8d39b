//! Who may open the websocket. A page on another site must not drive a local Kite (the `Origin`
//! allowlist), a hostile DNS name pointed at 127.0.0.1 must not reach it (the `Host` allowlist,
//! against DNS rebinding), `--token` may be required, and connections are capped.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most websocket connections served at once, unless `--max-connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Why an upgrade was refused, with the HTTP status it gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 403: a `Host` or `Origin` not on the allowlist.
    Forbidden(String),
    /// 401: `--token` is set and the request did not carry it.
    Unauthorized,
    /// 503: the connection cap is reached.
    Busy { max: usize },
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Forbidden(_) => 403,
            Refusal::Unauthorized => 401,
            Refusal::Busy { .. } => 503,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Forbidden(why) => why.clone(),
            Refusal::Unauthorized => {
                "this server requires a token: add ?token=… to the websocket URL or send Authorization: Bearer …".into()
            }
            Refusal::Busy { max } => format!("this server already serves its maximum of {max} connections"),
        }
    }
}

/// A held connection slot; dropping it frees the slot.
pub struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Guard {
    bound: SocketAddr,
    allow_hosts: Vec<String>,
    allow_origins: Vec<String>,
    token: Option<String>,
    max_connections: usize,
    active: Arc<AtomicUsize>,
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
    pub fn new(
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

    /// Checks an upgrade request's headers and takes a connection slot.
    /// Websocket sessions running now (each holds a permit until it has finished, its cleanup
    /// included).
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    pub fn admit(
        &self,
        host: Option<&str>,
        origin: Option<&str>,
        token: Option<&str>,
    ) -> Result<Permit, Refusal> {
        let host = host.ok_or_else(|| Refusal::Forbidden("the request has no Host header".into()))?;
        if !self.host_allowed(host) {
            return Err(Refusal::Forbidden(format!(
                "Host {host:?} is not this server (use --allow-host to accept it)"
            )));
        }
        // Browsers send Origin; other clients (the CLI) need not.
        if let Some(origin) = origin {
            let lower = origin.trim().to_ascii_lowercase();
            let own = lower.strip_prefix("http://").is_some_and(|authority| self.host_allowed(authority));
            if !own && !self.allow_origins.contains(&lower) {
                return Err(Refusal::Forbidden(format!(
                    "Origin {origin:?} may not use this server (use --allow-origin to accept it)"
                )));
            }
        }
        if let Some(expected) = &self.token
            && token != Some(expected.as_str())
        {
            return Err(Refusal::Unauthorized);
        }
        let previous = self.active.fetch_add(1, Ordering::SeqCst);
        if previous >= self.max_connections {
            self.active.fetch_sub(1, Ordering::SeqCst);
            return Err(Refusal::Busy { max: self.max_connections });
        }
        Ok(Permit(self.active.clone()))
    }
}

/// The token a request carries: `?token=…` (browsers cannot set headers on a websocket) or
/// `Authorization: Bearer …`.
pub fn request_token<'a>(query: &'a str, authorization: Option<&'a str>) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .or_else(|| authorization.and_then(|a| a.trim().strip_prefix("Bearer ")))
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

    #[test]
    fn hosts_origins_tokens_and_the_cap() {
        let g = guard("127.0.0.1:8080", None, 2);
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "kite.example:8080"]
        {
            assert!(g.admit(Some(host), None, None).is_ok(), "{host}");
        }
        for host in ["evil.example:8080", "127.0.0.1:9999", "10.0.0.1:8080"] {
            assert_eq!(g.admit(Some(host), None, None).err().map(|r| r.status()), Some(403), "{host}");
        }
        assert_eq!(g.admit(None, None, None).err().map(|r| r.status()), Some(403));
        assert!(g.admit(Some("localhost:8080"), Some("http://localhost:8080"), None).is_ok());
        assert!(g.admit(Some("localhost:8080"), Some("https://docs.example"), None).is_ok());
        let foreign = g.admit(Some("localhost:8080"), Some("http://evil.example"), None);
        assert_eq!(foreign.err().map(|r| r.status()), Some(403));

        let (a, b) =
            (g.admit(Some("localhost:8080"), None, None), g.admit(Some("localhost:8080"), None, None));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(g.admit(Some("localhost:8080"), None, None).err(), Some(Refusal::Busy { max: 2 }));
        drop(a);
        assert!(g.admit(Some("localhost:8080"), None, None).is_ok(), "a closed connection frees its slot");

        let locked = guard("0.0.0.0:8080", Some("s3cret"), 10);
        assert_eq!(locked.admit(Some("192.168.1.5:8080"), None, None).err(), Some(Refusal::Unauthorized));
        assert!(locked.admit(Some("192.168.1.5:8080"), None, Some("s3cret")).is_ok());
        assert_eq!(
            locked.admit(Some("myhost.lan:8080"), None, Some("s3cret")).err().map(|r| r.status()),
            Some(403)
        );
        assert_eq!(request_token("a=1&token=xyz", None), Some("xyz"));
        assert_eq!(request_token("", Some("Bearer abc")), Some("abc"));
        assert_eq!(request_token("", None), None);
    }
}
