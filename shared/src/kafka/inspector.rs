//! The protocol inspector: the last requests Kafka clients sent to the brokers' listeners and
//! what came of them, kept as bytes while the connection runs and decoded field by field only
//! when someone asks (`inspect_kafka`), so a learner sees what their client's calls are on the
//! wire and serving clients pays one bounded copy per frame.
//!
//! Decoding needs kafka-protocol's response decoders and its enums of every message, which only
//! native builds carry: the tab has no Kafka listener, so nothing is ever kept there.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::api::KafkaExchangeView;
use crate::limits::{MAX_INSPECTED_EXCHANGES, MAX_INSPECTED_EXCHANGES_PER_REPLY, MAX_INSPECTED_FRAME_BYTES};

/// The exchanges kept, oldest first.
#[derive(Debug, Default)]
pub struct Exchanges {
    last_id: u64,
    kept: VecDeque<Exchange>,
}

/// One request and what came of it.
#[derive(Debug)]
struct Exchange {
    id: u64,
    connection: u64,
    broker: i32,
    client_id: String,
    at_ms: i64,
    /// What the frame is: a request (its header's first fields), or PLAIN's raw token.
    kind: Kind,
    request: Frame,
    outcome: Outcome,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Request {
        api_key: i16,
        version: i16,
        correlation_id: i32,
    },
    /// After a SaslHandshake v0, PLAIN's token is sent bare, without a request header.
    RawSaslToken,
}

/// A frame as kept: its size prefix and at most `MAX_INSPECTED_FRAME_BYTES` of it in all.
#[derive(Debug)]
pub struct Frame {
    /// The whole frame's size on the wire, its prefix included.
    size: usize,
    /// Its first bytes (none when redacted). The tab's build never reads them: it keeps none.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    bytes: Bytes,
    /// The bytes hold credentials and were not kept.
    redacted: bool,
}

/// What came of a request.
#[derive(Debug)]
pub enum Outcome {
    /// A fetch waiting for records, a group request for its rebalance.
    Waiting,
    /// Its response (the bytes the broker sent, size prefix included).
    Answered(Frame),
    /// Produce with acks=0: Kafka sends nothing back.
    NoResponse,
    /// The broker closed the connection instead, and why.
    Closed(String),
}

impl Outcome {
    /// The response bytes a broker sent (its size prefix included).
    pub fn answered(response: &[u8]) -> Outcome {
        Outcome::Answered(Frame::kept(response))
    }
}

impl Frame {
    /// A frame's wire bytes, kept up to `MAX_INSPECTED_FRAME_BYTES`.
    fn kept(wire: &[u8]) -> Frame {
        let kept = &wire[..wire.len().min(MAX_INSPECTED_FRAME_BYTES)];
        Frame { size: wire.len(), bytes: Bytes::copy_from_slice(kept), redacted: false }
    }
}

impl Exchanges {
    /// A request frame (without its size prefix) arrived on `connection`: its id. A frame that
    /// is PLAIN's raw token is kept without its bytes, and so is a SaslAuthenticate's body.
    pub fn request(
        &mut self,
        connection: u64,
        broker: i32,
        at_ms: i64,
        frame: &[u8],
        raw_token: bool,
    ) -> u64 {
        let field = |at: usize| frame.get(at..at + 2).map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
        let kind = if raw_token {
            Kind::RawSaslToken
        } else {
            let correlation_id = frame.get(4..8).map_or(-1, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            Kind::Request { api_key: field(0), version: field(2), correlation_id }
        };
        let secret = raw_token || matches!(kind, Kind::Request { api_key: SASL_AUTHENTICATE_KEY, .. });
        // SaslAuthenticate keeps its first header fields (api key, version, correlation id), not
        // its token; PLAIN's bare token keeps nothing.
        let shown = match (raw_token, secret) {
            (true, _) => 0,
            (false, true) => frame.len().min(8),
            (false, false) => frame.len().min(MAX_INSPECTED_FRAME_BYTES - 4),
        };
        let mut bytes = Vec::with_capacity(4 + shown);
        bytes.extend_from_slice(&u32::try_from(frame.len()).unwrap_or(u32::MAX).to_be_bytes());
        bytes.extend_from_slice(&frame[..shown]);
        let request = Frame { size: 4 + frame.len(), bytes: bytes.into(), redacted: secret };
        if self.kept.len() >= MAX_INSPECTED_EXCHANGES {
            self.kept.pop_front();
        }
        self.last_id += 1;
        self.kept.push_back(Exchange {
            id: self.last_id,
            connection,
            broker,
            client_id: String::new(),
            at_ms,
            kind,
            request,
            outcome: Outcome::Waiting,
        });
        self.last_id
    }

    /// What came of request `id`, and the connection's `client.id` as its header said.
    pub fn settle(&mut self, id: u64, client_id: Option<&str>, outcome: Outcome) {
        // Ids count up and the oldest go first: the search is over at most the kept ones.
        let Some(exchange) = self.kept.iter_mut().rev().find(|e| e.id == id) else { return };
        if let Some(client_id) = client_id
            && exchange.client_id != client_id
        {
            exchange.client_id = client_id.to_string();
        }
        exchange.outcome = outcome;
    }

    /// The exchanges newer than `after`, oldest first (at most the newest
    /// `MAX_INSPECTED_EXCHANGES_PER_REPLY`), decoded.
    pub fn view(&self, after: u64) -> Vec<KafkaExchangeView> {
        let newer = self.kept.iter().filter(|e| e.id > after);
        let skip = newer.clone().count().saturating_sub(MAX_INSPECTED_EXCHANGES_PER_REPLY);
        newer.skip(skip).map(Exchange::view).collect()
    }
}

/// SaslAuthenticate's API key: its body carries the password.
const SASL_AUTHENTICATE_KEY: i16 = 36;

impl Exchange {
    fn view(&self) -> KafkaExchangeView {
        let (api_key, version, correlation_id) = match self.kind {
            Kind::Request { api_key, version, correlation_id } => (api_key, version, correlation_id),
            Kind::RawSaslToken => (-1, -1, -1),
        };
        let (outcome, response, closed_reason) = match &self.outcome {
            Outcome::Waiting => ("waiting", None, String::new()),
            Outcome::Answered(frame) => ("answered", Some(frame), String::new()),
            Outcome::NoResponse => ("no_response", None, String::new()),
            Outcome::Closed(reason) => ("closed", None, reason.clone()),
        };
        KafkaExchangeView {
            id: self.id,
            connection: self.connection,
            broker: self.broker,
            client_id: self.client_id.clone(),
            at_ms: self.at_ms,
            api: match self.kind {
                Kind::Request { api_key, .. } => decoding::api_name(api_key),
                Kind::RawSaslToken => "SASL/PLAIN token".to_string(),
            },
            api_key,
            version,
            correlation_id,
            request: decoding::request(&self.request, self.kind),
            response: response.map(|frame| decoding::response(frame, api_key, version)),
            outcome: outcome.to_string(),
            closed_reason,
        }
    }
}

/// The frames decoded field by field (native builds, which have kafka-protocol's decoders of
/// every message).
#[cfg(not(target_arch = "wasm32"))]
mod decoding {
    use bytes::Bytes;
    use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
    use kafka_protocol::protocol::Decodable;

    use super::{Frame, Kind};
    use crate::api::{KafkaFieldView, KafkaFrameView};
    use crate::limits::{MAX_INSPECTED_BODY_CHARS, MAX_INSPECTED_HEX_BYTES};

    /// Kafka's name for an API key.
    pub(super) fn api_name(key: i16) -> String {
        match ApiKey::try_from(key) {
            Ok(api) => format!("{api:?}"),
            Err(()) => format!("unknown API key {key}"),
        }
    }

    /// A request frame: its size, its header's fields, its body.
    pub(super) fn request(frame: &Frame, kind: Kind) -> KafkaFrameView {
        let mut view = shell(frame);
        let Kind::Request { api_key, version, .. } = kind else {
            view.body =
                "PLAIN's token (authzid, user name, password), sent bare after SaslHandshake v0: not kept"
                    .into();
            return view;
        };
        let Ok(api) = ApiKey::try_from(api_key) else {
            view.body = format!("unknown API key {api_key}: the broker closes the connection");
            return view;
        };
        let header_version = api.request_header_version(version);
        fixed(&mut view, &frame.bytes, "request_api_key", 4, 2, |b| {
            format!("{} ({api:?})", i16::from_be_bytes([b[0], b[1]]))
        });
        fixed(&mut view, &frame.bytes, "request_api_version", 6, 2, |b| {
            i16::from_be_bytes([b[0], b[1]]).to_string()
        });
        fixed(&mut view, &frame.bytes, "correlation_id", 8, 4, |b| {
            i32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string()
        });
        if frame.redacted {
            view.body = format!("{api:?} v{version}: holds credentials (SASL), not kept");
            return view;
        }
        let mut bytes = frame.bytes.slice(4..);
        let header = decode(|| RequestHeader::decode(&mut bytes, header_version));
        let header_end = frame.bytes.len() - bytes.len();
        match &header {
            Ok(header) => {
                if header_version >= 1 {
                    let client_id = header
                        .client_id
                        .as_ref()
                        .map_or("null".to_string(), |id| format!("{:?}", id.as_str()));
                    let end = header_end.min(14 + header.client_id.as_ref().map_or(0, |id| id.len()));
                    view.fields.push(field("client_id", client_id, 12, end));
                }
                if header_version >= 2 {
                    let end = view.fields.last().map_or(12, |f| f.end);
                    view.fields.push(field(
                        "_tagged_fields",
                        format!("{} tagged", header.unknown_tagged_fields.len()),
                        end,
                        header_end,
                    ));
                }
            }
            Err(error) => view.body = format!("the header does not decode: {error}"),
        }
        if header.is_ok() {
            body(
                &mut view,
                frame,
                header_end,
                || {
                    RequestKind::decode(api, &mut bytes, version)
                        .map(|kind| format!("{kind:#?}"))
                        .map_err(|e| e.to_string())
                },
                &format!("{api:?}Request v{version}"),
            );
        }
        view
    }

    /// A response frame to a request of `api_key` at `version`.
    pub(super) fn response(frame: &Frame, api_key: i16, version: i16) -> KafkaFrameView {
        let mut view = shell(frame);
        fixed(&mut view, &frame.bytes, "correlation_id", 4, 4, |b| {
            i32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string()
        });
        let Ok(api) = ApiKey::try_from(api_key) else { return view };
        let header_version = api.response_header_version(version);
        let mut bytes = frame.bytes.slice(4..);
        match decode(|| ResponseHeader::decode(&mut bytes, header_version)) {
            Ok(header) => {
                let header_end = frame.bytes.len() - bytes.len();
                if header_version >= 1 {
                    view.fields.push(field(
                        "_tagged_fields",
                        format!("{} tagged", header.unknown_tagged_fields.len()),
                        8,
                        header_end,
                    ));
                }
                body(
                    &mut view,
                    frame,
                    header_end,
                    || {
                        ResponseKind::decode(api, &mut bytes, version)
                            .map(|kind| format!("{kind:#?}"))
                            .map_err(|e| e.to_string())
                    },
                    &format!("{api:?}Response v{version}"),
                );
            }
            Err(error) => view.body = format!("the header does not decode: {error}"),
        }
        view
    }

    /// The view every frame starts as: its size prefix and its bytes in hex.
    fn shell(frame: &Frame) -> KafkaFrameView {
        let mut view = KafkaFrameView {
            size: frame.size,
            fields: Vec::new(),
            body: String::new(),
            hex: hex(&frame.bytes[..frame.bytes.len().min(MAX_INSPECTED_HEX_BYTES)]),
            redacted: frame.redacted,
        };
        fixed(&mut view, &frame.bytes, "size", 0, 4, |_| (frame.size - 4).to_string());
        view
    }

    /// A fixed-width header field at `start`, when the kept bytes reach it.
    fn fixed(
        view: &mut KafkaFrameView,
        bytes: &Bytes,
        name: &str,
        start: usize,
        width: usize,
        value: impl Fn(&[u8]) -> String,
    ) {
        if let Some(b) = bytes.get(start..start + width) {
            view.fields.push(field(name, value(b), start, start + width));
        }
    }

    /// The body from `start`: decoded when the whole frame was kept, else why not.
    fn body(
        view: &mut KafkaFrameView,
        frame: &Frame,
        start: usize,
        decoded: impl FnOnce() -> Result<String, String>,
        name: &str,
    ) {
        view.fields.push(field("body", name.to_string(), start, frame.size));
        view.body = if frame.bytes.len() < frame.size {
            format!(
                "{name}: a frame of {} bytes; the inspector keeps its first {}",
                frame.size,
                frame.bytes.len()
            )
        } else {
            match decode(decoded) {
                Ok(text) => shortened(text),
                Err(error) => format!("{name} does not decode: {error}"),
            }
        };
    }

    fn field(name: &str, value: String, start: usize, end: usize) -> KafkaFieldView {
        KafkaFieldView { name: name.to_string(), value, start, end }
    }

    /// A decoder over bytes a client sent: its value or why not (its error or its panic).
    fn decode<T, E: std::fmt::Display>(decode: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
        crate::untrusted::decode(|| decode().map_err(|e| e.to_string())).and_then(|decoded| decoded)
    }

    /// At most `MAX_INSPECTED_BODY_CHARS` of a decoded body.
    fn shortened(mut text: String) -> String {
        if let Some((cut, _)) = text.char_indices().nth(MAX_INSPECTED_BODY_CHARS) {
            let more = text.len() - cut;
            text.truncate(cut);
            text.push_str(&format!("\n… {more} bytes more"));
        }
        text
    }

    fn hex(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() * 3);
        for (i, byte) in bytes.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }
}

/// The tab has no Kafka listener, so it keeps no exchanges to decode; its build leaves out
/// kafka-protocol's decoders of every message rather than carry them unused.
#[cfg(target_arch = "wasm32")]
mod decoding {
    use super::{Frame, Kind};
    use crate::api::KafkaFrameView;

    pub(super) fn api_name(key: i16) -> String {
        format!("API key {key}")
    }

    pub(super) fn request(frame: &Frame, _: Kind) -> KafkaFrameView {
        undecoded(frame)
    }

    pub(super) fn response(frame: &Frame, _: i16, _: i16) -> KafkaFrameView {
        undecoded(frame)
    }

    fn undecoded(frame: &Frame) -> KafkaFrameView {
        KafkaFrameView {
            size: frame.size,
            fields: Vec::new(),
            body: "decoded by kite serve only".into(),
            hex: String::new(),
            redacted: frame.redacted,
        }
    }
}
