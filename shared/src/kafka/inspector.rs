//! The protocol inspector: the last requests Kafka clients sent to the brokers' listeners and
//! what came of them, kept as bytes while the connection runs and decoded field by field only
//! when someone asks (`inspect_kafka`), so a learner sees what their client's calls are on the
//! wire and serving clients pays one bounded copy per frame.
//!
//! In the tab, where no client can connect, the exchanges are the UI's own actions as Kafka
//! requests ([`super::ui_requests`]); its build decodes those APIs only.

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
    /// Its first bytes (none when redacted).
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

    /// The id the next request will get.
    pub fn next_id(&self) -> u64 {
        self.last_id + 1
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

/// The frames decoded field by field: their header fields and record batches each with the bytes
/// it spans, their body as text. Native builds decode every message (any Kafka client connects
/// there); the tab's only the APIs of its own actions ([`super::ui_requests`]).
mod decoding {
    use bytes::Bytes;
    use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
    use kafka_protocol::protocol::Decodable;

    use super::{Frame, Kind};
    use crate::api::{KafkaFieldView, KafkaFrameView};
    use crate::limits::{MAX_INSPECTED_BATCHES_PER_FRAME, MAX_INSPECTED_BODY_CHARS, MAX_INSPECTED_HEX_BYTES};
    use crate::record::batch::{BATCH_HEADER_BYTES, HEADER_FIELDS, LOG_OVERHEAD_BYTES};

    /// A body as text, and the record batch fields it holds (`records` of a Produce request or a
    /// Fetch response), which are slices of the frame's own bytes.
    pub(super) type Body = (String, Vec<Bytes>);

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
            let name = format!("{api:?}Request v{version}");
            body(&mut view, frame, header_end, || bodies::request(api, &mut bytes, version), &name);
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
                let name = format!("{api:?}Response v{version}");
                body(&mut view, frame, header_end, || bodies::response(api, &mut bytes, version), &name);
            }
            Err(error) => view.body = format!("the header does not decode: {error}"),
        }
        view
    }

    /// The bodies a build decodes. Natively, every message kind.
    #[cfg(not(target_arch = "wasm32"))]
    mod bodies {
        use bytes::Bytes;
        use kafka_protocol::messages::{ApiKey, RequestKind, ResponseKind};

        use super::Body;

        pub(super) fn request(api: ApiKey, bytes: &mut Bytes, version: i16) -> Result<Body, String> {
            let kind = RequestKind::decode(api, bytes, version).map_err(|e| e.to_string())?;
            let records = match &kind {
                RequestKind::Produce(produce) => produce
                    .topic_data
                    .iter()
                    .flat_map(|t| &t.partition_data)
                    .filter_map(|p| p.records.clone())
                    .collect(),
                _ => Vec::new(),
            };
            Ok((format!("{kind:#?}"), records))
        }

        pub(super) fn response(api: ApiKey, bytes: &mut Bytes, version: i16) -> Result<Body, String> {
            let kind = ResponseKind::decode(api, bytes, version).map_err(|e| e.to_string())?;
            let records = match &kind {
                ResponseKind::Fetch(fetch) => fetch
                    .responses
                    .iter()
                    .flat_map(|t| &t.partitions)
                    .filter_map(|p| p.records.clone())
                    .collect(),
                _ => Vec::new(),
            };
            Ok((format!("{kind:#?}"), records))
        }
    }

    /// The bodies a build decodes. In the tab, the APIs of the UI's own actions
    /// ([`crate::kafka::ui_requests`]): the enums of every message would weigh on the module.
    #[cfg(target_arch = "wasm32")]
    mod bodies {
        use bytes::Bytes;
        use kafka_protocol::messages::{
            ApiKey, CreateTopicsRequest, CreateTopicsResponse, EndTxnRequest, EndTxnResponse, ProduceRequest,
            ProduceResponse,
        };
        use kafka_protocol::protocol::Decodable;

        use super::Body;

        pub(super) fn request(api: ApiKey, bytes: &mut Bytes, version: i16) -> Result<Body, String> {
            match api {
                ApiKey::Produce => {
                    let produce = ProduceRequest::decode(bytes, version).map_err(|e| e.to_string())?;
                    let records = produce
                        .topic_data
                        .iter()
                        .flat_map(|t| &t.partition_data)
                        .filter_map(|p| p.records.clone())
                        .collect();
                    Ok((format!("{produce:#?}"), records))
                }
                ApiKey::CreateTopics => text::<CreateTopicsRequest>(bytes, version),
                ApiKey::EndTxn => text::<EndTxnRequest>(bytes, version),
                _ => Err(format!("the tab decodes the APIs of its own actions only, not {api:?}")),
            }
        }

        pub(super) fn response(api: ApiKey, bytes: &mut Bytes, version: i16) -> Result<Body, String> {
            match api {
                ApiKey::Produce => text::<ProduceResponse>(bytes, version),
                ApiKey::CreateTopics => text::<CreateTopicsResponse>(bytes, version),
                ApiKey::EndTxn => text::<EndTxnResponse>(bytes, version),
                _ => Err(format!("the tab decodes the APIs of its own actions only, not {api:?}")),
            }
        }

        fn text<T: Decodable + std::fmt::Debug>(bytes: &mut Bytes, version: i16) -> Result<Body, String> {
            let message = T::decode(bytes, version).map_err(|e| e.to_string())?;
            Ok((format!("{message:#?}"), Vec::new()))
        }
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

    /// The body from `start`: decoded when the whole frame was kept, else why not; then its
    /// record batches' fields.
    fn body(
        view: &mut KafkaFrameView,
        frame: &Frame,
        start: usize,
        decoded: impl FnOnce() -> Result<Body, String>,
        name: &str,
    ) {
        view.fields.push(field("body", name.to_string(), start, frame.size));
        if frame.bytes.len() < frame.size {
            view.body = format!(
                "{name}: a frame of {} bytes; the inspector keeps its first {}",
                frame.size,
                frame.bytes.len()
            );
            return;
        }
        match decode(decoded) {
            Ok((text, records)) => {
                view.body = shortened(text);
                batch_fields(view, &frame.bytes, &records);
            }
            Err(error) => view.body = format!("{name} does not decode: {error}"),
        }
    }

    /// Each record batch's header fields with the bytes they span, then its records, for the
    /// first `MAX_INSPECTED_BATCHES_PER_FRAME` batches. The decoder hands the `records` fields
    /// out as slices of the frame, so where they lie is where their bytes are.
    fn batch_fields(view: &mut KafkaFrameView, frame: &Bytes, records: &[Bytes]) {
        let mut shown = 0;
        for records in records {
            let Some(mut at) = position_in(frame, records) else { continue };
            let end = at + records.len();
            while shown < MAX_INSPECTED_BATCHES_PER_FRAME && at + BATCH_HEADER_BYTES <= end {
                let length = i32::from_be_bytes(read(frame, at + 8));
                let total =
                    usize::try_from(length).map_or(usize::MAX, |l| l.saturating_add(LOG_OVERHEAD_BYTES));
                for (name, offset, width) in HEADER_FIELDS {
                    let bytes = &frame[at + offset..at + offset + width];
                    let value = match (name, width) {
                        ("crc", _) => format!("0x{}", hex(bytes).replace(' ', "")),
                        (_, 1) => (bytes[0] as i8).to_string(),
                        (_, 2) => i16::from_be_bytes(read(bytes, 0)).to_string(),
                        (_, 4) => i32::from_be_bytes(read(bytes, 0)).to_string(),
                        _ => i64::from_be_bytes(read(bytes, 0)).to_string(),
                    };
                    view.fields.push(field(
                        &format!("batch {shown}: {name}"),
                        value,
                        at + offset,
                        at + offset + width,
                    ));
                }
                let batch_end = at.saturating_add(total).min(end);
                let count = i32::from_be_bytes(read(frame, at + BATCH_HEADER_BYTES - 4));
                // The records' own fields are varints: their count, and the bytes they span.
                let name = format!("batch {shown}: records");
                view.fields.push(field(&name, count.to_string(), at + BATCH_HEADER_BYTES, batch_end));
                shown += 1;
                at = batch_end;
            }
        }
    }

    /// Where `part` starts in `whole`, when it is a slice of it.
    fn position_in(whole: &Bytes, part: &Bytes) -> Option<usize> {
        let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
        (whole.get(at..at.checked_add(part.len())?)? == &part[..]).then_some(at)
    }

    /// `N` bytes from `at` (zeros past the end: callers checked the header fits).
    fn read<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
        let mut out = [0; N];
        if let Some(b) = bytes.get(at..at + N) {
            out.copy_from_slice(b);
        }
        out
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
