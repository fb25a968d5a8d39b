//! Kafka's serializers and deserializers, byte for byte, selected by their Java class names.
//!
//! A UI types text; `serialize` turns it into the bytes Kafka's Java serializer of that name would
//! write for the equivalent value, and `deserialize` reads bytes back into text, refusing bytes the
//! Java deserializer would refuse with a message naming the problem. Every serializer maps null to
//! null (a tombstone when it is the value).

use serde::{Deserialize, Serialize};

use crate::record::batch::{BatchRecord, Header};
use crate::schema_registry::{SchemaRegistry, decode_framed, encode_framed};

/// The serializers Kite speaks, by Kafka's class short names (`StringSerializer`, …). On the wire
/// it is written as the serializer's name and read from either name or a fully qualified class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SerializerKind {
    /// `StringSerializer`: the text as UTF-8.
    #[default]
    String,
    /// `ByteArraySerializer`: raw bytes, which the UI writes and shows as hex pairs (`0a ff 10`).
    ByteArray,
    /// `ShortSerializer`: an i16 as 2 big-endian bytes.
    Short,
    /// `IntegerSerializer`: an i32 as 4 big-endian bytes.
    Integer,
    /// `LongSerializer`: an i64 as 8 big-endian bytes.
    Long,
    /// `FloatSerializer`: an IEEE 754 f32 as 4 big-endian bytes.
    Float,
    /// `DoubleSerializer`: an IEEE 754 f64 as 8 big-endian bytes.
    Double,
    /// `BooleanSerializer`: one byte, 1 for true and 0 for false.
    Boolean,
    /// `UUIDSerializer`: the UUID's 36-character text (8-4-4-4-12 hex digits) as UTF-8.
    Uuid,
    /// `VoidSerializer`: always null; its deserializer refuses any bytes.
    Void,
    /// JSON text as UTF-8, compact (what Jackson-based JSON serializers write).
    Json,
    /// Confluent's KafkaAvroSerializer: magic 0, schema id (int32), Avro binary datum.
    Avro,
}

impl SerializerKind {
    /// Every serializer, in the order the producer's view lists them.
    pub const ALL: [SerializerKind; 12] = [
        SerializerKind::String,
        SerializerKind::ByteArray,
        SerializerKind::Short,
        SerializerKind::Integer,
        SerializerKind::Long,
        SerializerKind::Float,
        SerializerKind::Double,
        SerializerKind::Boolean,
        SerializerKind::Uuid,
        SerializerKind::Void,
        SerializerKind::Json,
        SerializerKind::Avro,
    ];

    /// The class short name without its `Serializer` suffix: `String`, `Integer`, `UUID`, …
    fn stem(self) -> &'static str {
        match self {
            SerializerKind::String => "String",
            SerializerKind::ByteArray => "ByteArray",
            SerializerKind::Short => "Short",
            SerializerKind::Integer => "Integer",
            SerializerKind::Long => "Long",
            SerializerKind::Float => "Float",
            SerializerKind::Double => "Double",
            SerializerKind::Boolean => "Boolean",
            SerializerKind::Uuid => "UUID",
            SerializerKind::Void => "Void",
            SerializerKind::Json => "Json",
            SerializerKind::Avro => "KafkaAvro",
        }
    }

    /// The serializer's class short name, e.g. `IntegerSerializer`: how it is written on the wire.
    pub fn serializer_name(self) -> String {
        format!("{}Serializer", self.stem())
    }

    /// The matching deserializer's class short name, e.g. `IntegerDeserializer`.
    pub fn deserializer_name(self) -> String {
        format!("{}Deserializer", self.stem())
    }

    /// Accepts `IntegerSerializer`, `IntegerDeserializer` and fully qualified Java class names.
    pub fn from_class_name(name: &str) -> Option<SerializerKind> {
        let short = name.rsplit('.').next().unwrap_or(name);
        let stem = short.strip_suffix("Deserializer").or_else(|| short.strip_suffix("Serializer"))?;
        SerializerKind::ALL.into_iter().find(|kind| kind.stem() == stem)
    }
}

impl TryFrom<String> for SerializerKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        SerializerKind::from_class_name(&name).ok_or_else(|| format!("unknown serializer class {name:?}"))
    }
}

impl From<SerializerKind> for String {
    fn from(kind: SerializerKind) -> String {
        kind.serializer_name()
    }
}

/// Why text could not be serialized, or bytes could not be deserialized. The message names the
/// serializer and the offending input, as Kafka's `SerializationException` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerdeError(pub String);

impl std::fmt::Display for SerdeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerdeError {}

fn parse<T: std::str::FromStr>(kind: SerializerKind, text: &str) -> Result<T, SerdeError>
where
    T::Err: std::fmt::Display,
{
    text.trim()
        .parse()
        .map_err(|e| SerdeError(format!("{}: cannot read {text:?} as a value: {e}", kind.serializer_name())))
}

/// Java's `UUID.toString()` form: 8-4-4-4-12 lowercase hex digits.
pub fn canonical_uuid(text: &str) -> Option<String> {
    let text = text.trim();
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let well_formed = groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()));
    well_formed.then(|| text.to_ascii_lowercase())
}

/// Hex bytes, with optional spaces: how the UI writes raw bytes for `ByteArraySerializer`.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let nibble = |d: u8| (d as char).to_digit(16).map(|n| n as u8);
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high = None;
    for d in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        match high.take() {
            None => high = Some(nibble(d)?),
            Some(h) => out.push(h << 4 | nibble(d)?),
        }
    }
    high.is_none().then_some(out)
}

/// `text` cut after `most` characters, with an ellipsis when it was longer: a value as a short
/// line of a view or an error shows it.
pub fn cut(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Bytes as lowercase hex pairs separated by spaces, as the UI shows raw bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The bytes Kafka's serializer `kind` writes for the value `text` (None = null).
/// Avro needs a registry holding the schema: `subject` names it, and the latest version is used.
pub fn serialize(
    kind: SerializerKind,
    text: Option<&str>,
    registry: &SchemaRegistry,
    subject: &str,
) -> Result<Option<Vec<u8>>, SerdeError> {
    let Some(text) = text else { return Ok(None) };
    let bytes = match kind {
        SerializerKind::String => text.as_bytes().to_vec(),
        SerializerKind::ByteArray => parse_hex(text).ok_or_else(|| {
            SerdeError(format!("ByteArraySerializer: {text:?} is not hex bytes (e.g. \"0a ff 10\")"))
        })?,
        SerializerKind::Short => parse::<i16>(kind, text)?.to_be_bytes().to_vec(),
        SerializerKind::Integer => parse::<i32>(kind, text)?.to_be_bytes().to_vec(),
        SerializerKind::Long => parse::<i64>(kind, text)?.to_be_bytes().to_vec(),
        // Float.floatToRawIntBits / Double.doubleToRawLongBits, big-endian.
        SerializerKind::Float => parse::<f32>(kind, text)?.to_bits().to_be_bytes().to_vec(),
        SerializerKind::Double => parse::<f64>(kind, text)?.to_bits().to_be_bytes().to_vec(),
        SerializerKind::Boolean => vec![u8::from(parse::<bool>(kind, text)?)],
        // UUIDSerializer writes uuid.toString() as UTF-8: 36 characters, not 16 raw bytes.
        SerializerKind::Uuid => canonical_uuid(text)
            .ok_or_else(|| {
                SerdeError(format!("UUIDSerializer: {text:?} is not a UUID (8-4-4-4-12 hex digits)"))
            })?
            .into_bytes(),
        SerializerKind::Void => return Ok(None),
        SerializerKind::Json => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| SerdeError(format!("JsonSerializer: {text:?} is not JSON: {e}")))?;
            serde_json::to_vec(&value).map_err(|e| SerdeError(format!("JsonSerializer: {e}")))?
        }
        SerializerKind::Avro => {
            let (id, schema) = registry.latest(subject).ok_or_else(|| {
                SerdeError(format!("KafkaAvroSerializer: no schema registered under subject {subject:?}"))
            })?;
            let datum = crate::avro::encode_json(schema, text)
                .map_err(|e| SerdeError(format!("KafkaAvroSerializer: {e}")))?;
            encode_framed(id, &datum)
        }
    };
    Ok(Some(bytes))
}

/// A producer record in Kafka's bytes: key and value through their serializers (Avro against
/// `registry`, under the topic's `-key`/`-value` subjects), header values as UTF-8; offsets and
/// timestamps are the batch's to set. What the engine's produce and `kite produce` both send.
pub fn serialize_record(
    registry: &SchemaRegistry,
    topic: &str,
    (key_serializer, value_serializer): (SerializerKind, SerializerKind),
    (key, value): (Option<&str>, Option<&str>),
    headers: Vec<(String, String)>,
) -> Result<BatchRecord, SerdeError> {
    let key = serialize(key_serializer, key, registry, &format!("{topic}-key"))?;
    let value = serialize(value_serializer, value, registry, &format!("{topic}-value"))?;
    let headers =
        headers.into_iter().map(|(key, value)| Header { key, value: Some(value.into_bytes()) }).collect();
    Ok(BatchRecord { key, value, headers, ..BatchRecord::default() })
}

fn fixed<const N: usize>(kind: SerializerKind, bytes: &[u8]) -> Result<[u8; N], SerdeError> {
    bytes
        .try_into()
        .map_err(|_| SerdeError(format!("Size of data received by {} is not {N}", kind.deserializer_name())))
}

/// Reads `bytes` with Kafka's deserializer `kind`, as text (None = null).
pub fn deserialize(
    kind: SerializerKind,
    bytes: Option<&[u8]>,
    registry: &SchemaRegistry,
) -> Result<Option<String>, SerdeError> {
    let Some(bytes) = bytes else { return Ok(None) };
    let text = match kind {
        SerializerKind::String => String::from_utf8(bytes.to_vec())
            .map_err(|e| SerdeError(format!("StringDeserializer: bytes are not UTF-8: {e}")))?,
        SerializerKind::ByteArray => hex(bytes),
        SerializerKind::Short => i16::from_be_bytes(fixed(kind, bytes)?).to_string(),
        SerializerKind::Integer => i32::from_be_bytes(fixed(kind, bytes)?).to_string(),
        SerializerKind::Long => i64::from_be_bytes(fixed(kind, bytes)?).to_string(),
        SerializerKind::Float => f32::from_bits(u32::from_be_bytes(fixed(kind, bytes)?)).to_string(),
        SerializerKind::Double => f64::from_bits(u64::from_be_bytes(fixed(kind, bytes)?)).to_string(),
        SerializerKind::Boolean => match fixed::<1>(kind, bytes)? {
            [0] => "false".into(),
            [1] => "true".into(),
            [other] => {
                return Err(SerdeError(format!("Unexpected byte received by BooleanDeserializer: {other}")));
            }
        },
        SerializerKind::Uuid => std::str::from_utf8(bytes)
            .ok()
            .and_then(canonical_uuid)
            .ok_or_else(|| SerdeError("UUIDDeserializer: error parsing data into UUID".into()))?,
        SerializerKind::Void => {
            return Err(SerdeError("VoidDeserializer: data should be null for a VoidDeserializer".into()));
        }
        SerializerKind::Json => {
            let value: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| SerdeError(format!("JsonDeserializer: bytes are not JSON: {e}")))?;
            value.to_string()
        }
        SerializerKind::Avro => {
            let (id, datum) =
                decode_framed(bytes).map_err(|e| SerdeError(format!("KafkaAvroDeserializer: {e}")))?;
            let schema = registry
                .by_id(id)
                .ok_or_else(|| SerdeError(format!("KafkaAvroDeserializer: unknown schema id {id}")))?;
            crate::avro::decode_to_json(schema, datum)
                .map_err(|e| SerdeError(format!("KafkaAvroDeserializer: {e}")))?
        }
    };
    Ok(Some(text))
}
