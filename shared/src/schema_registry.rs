//! An in-cluster schema registry in Confluent's model: subjects with numbered versions, schemas with
//! global ids, BACKWARD compatibility on registration, and the wire framing serializers put around
//! a datum (magic byte 0, schema id as big-endian int32, then the payload).

use std::collections::BTreeMap;

use apache_avro::Schema;
use apache_avro::schema_compatibility::SchemaCompatibility;

use crate::limits::{MAX_SCHEMA_TEXT_BYTES, MAX_SCHEMAS_PER_REGISTRY};

/// Confluent's wire-format magic byte.
pub const MAGIC_BYTE: u8 = 0;
/// Magic byte plus schema id.
pub const FRAME_HEADER_BYTES: usize = 5;

/// Why the registry refused to register a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// Confluent error 42201.
    InvalidSchema(String),
    /// Confluent error 409: the new schema cannot read data written with the latest version.
    Incompatible {
        /// The subject the schema was to be registered under.
        subject: String,
        /// The subject's latest version, which the new schema was checked against.
        latest_version: u32,
        /// Why Avro's compatibility check failed.
        reason: String,
    },
    /// The registry already holds Kite's limit of `MAX_SCHEMAS_PER_REGISTRY` schemas.
    TooManySchemas,
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::InvalidSchema(reason) => write!(f, "Invalid schema (42201): {reason}"),
            RegistryError::Incompatible { subject, latest_version, reason } => write!(
                f,
                "Schema being registered is incompatible with an earlier schema for subject \"{subject}\" \
                 (409): BACKWARD check against version {latest_version} failed: {reason}"
            ),
            RegistryError::TooManySchemas => {
                write!(f, "the registry already holds Kite's limit of {MAX_SCHEMAS_PER_REGISTRY} schemas")
            }
        }
    }
}

impl std::error::Error for RegistryError {}

/// What a registration returned: the schema's global id and its version in the subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The schema's global id, the one serializers write in their framing.
    pub id: i32,
    /// The schema's version in the subject, from 1.
    pub version: u32,
}

/// A registry: subjects with their versions, and Avro schemas by global id (from 1).
#[derive(Clone, Debug, Default)]
pub struct SchemaRegistry {
    /// Index i holds the schema with id i + 1.
    schemas: Vec<(Schema, String)>,
    /// Subject → schema ids, version 1 first.
    subjects: BTreeMap<String, Vec<i32>>,
}

impl SchemaRegistry {
    /// An empty registry: no subjects, no schemas.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `schema_text` under `subject` (`POST /subjects/{subject}/versions`). The same schema
    /// again returns its existing version; a new one must pass the BACKWARD check against the latest.
    pub fn register(&mut self, subject: &str, schema_text: &str) -> Result<Registered, RegistryError> {
        let (schema, canonical) = parse(schema_text)?;
        let versions = self.subjects.get(subject).cloned().unwrap_or_default();
        if let Some(position) = versions.iter().position(|&id| self.schemas[id as usize - 1].1 == canonical) {
            return Ok(Registered { id: versions[position], version: position as u32 + 1 });
        }
        if let Some(&latest) = versions.last() {
            let (latest_schema, _) = &self.schemas[latest as usize - 1];
            // BACKWARD: consumers on the new schema can read what was written with the latest.
            SchemaCompatibility::can_read(latest_schema, &schema).map_err(|e| {
                RegistryError::Incompatible {
                    subject: subject.to_string(),
                    latest_version: versions.len() as u32,
                    reason: e.to_string(),
                }
            })?;
        }
        // The same schema under another subject keeps its global id, as Confluent's registry does.
        let id = match self.schemas.iter().position(|(_, c)| *c == canonical) {
            Some(index) => index as i32 + 1,
            None => {
                if self.schemas.len() >= MAX_SCHEMAS_PER_REGISTRY {
                    return Err(RegistryError::TooManySchemas);
                }
                self.schemas.push((schema, canonical));
                self.schemas.len() as i32
            }
        };
        let versions = self.subjects.entry(subject.to_string()).or_default();
        versions.push(id);
        Ok(Registered { id, version: versions.len() as u32 })
    }

    /// The id of `schema_text` when it is one of `subject`'s versions (`POST /subjects/{subject}`,
    /// what a serializer with `auto.register.schemas=false` asks); `None` is Confluent's 40403.
    pub fn id_of(&self, subject: &str, schema_text: &str) -> Result<Option<i32>, RegistryError> {
        let (_, canonical) = parse(schema_text)?;
        Ok(self.versions(subject).iter().copied().find(|&id| self.schemas[id as usize - 1].1 == canonical))
    }

    /// The latest schema of `subject` and its id.
    pub fn latest(&self, subject: &str) -> Option<(i32, &Schema)> {
        let &id = self.subjects.get(subject)?.last()?;
        Some((id, &self.schemas[id as usize - 1].0))
    }

    /// `GET /schemas/ids/{id}`.
    pub fn by_id(&self, id: i32) -> Option<&Schema> {
        usize::try_from(id).ok()?.checked_sub(1).and_then(|index| self.schemas.get(index)).map(|(s, _)| s)
    }

    /// The subject's schema ids, version 1 first.
    pub fn versions(&self, subject: &str) -> &[i32] {
        self.subjects.get(subject).map_or(&[], Vec::as_slice)
    }
}

/// A schema's text parsed, with its canonical form (what makes two texts the same schema).
fn parse(schema_text: &str) -> Result<(Schema, String), RegistryError> {
    if schema_text.len() > MAX_SCHEMA_TEXT_BYTES {
        return Err(RegistryError::InvalidSchema(format!(
            "schema of {} bytes exceeds {MAX_SCHEMA_TEXT_BYTES} bytes",
            schema_text.len()
        )));
    }
    let schema = Schema::parse_str(schema_text).map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
    let canonical = schema.canonical_form();
    Ok((schema, canonical))
}

/// Confluent's framing: magic byte 0, the schema id, then `payload`.
pub fn encode_framed(schema_id: i32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
    out.push(MAGIC_BYTE);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits framed bytes into the schema id and the payload.
pub fn decode_framed(bytes: &[u8]) -> Result<(i32, &[u8]), String> {
    // The magic byte first, as Confluent's deserializer reads it: plain text is "Unknown magic
    // byte!" however short.
    match bytes.first() {
        Some(&MAGIC_BYTE) => {}
        Some(other) => return Err(format!("Unknown magic byte! (found {other:#04x}, expected 0x00)")),
        None => return Err("0 bytes is too short for the 5-byte schema registry header".to_string()),
    }
    if bytes.len() < FRAME_HEADER_BYTES {
        return Err(format!("{} bytes is too short for the 5-byte schema registry header", bytes.len()));
    }
    let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((id, &bytes[FRAME_HEADER_BYTES..]))
}
