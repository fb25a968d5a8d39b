//! Kafka Connect's converters: a connector's records are Connect data (here a string, bytes, a
//! JSON value or null), and a converter turns them into a record's key or value bytes on the way
//! into Kafka (`fromConnectData`) and back on the way out (`toConnectData`). The Avro converter
//! writes through the cluster's schema registry, which a converter reaches as a [`Registry`].

use std::collections::BTreeMap;

use apache_avro::Schema;

use super::avro_data;
use crate::schema_registry::{SchemaRegistry, decode_framed, encode_framed};

/// Connect data, as a connector hands it over or a sink task receives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// No value (a null key, a tombstone).
    Null,
    /// A string (Connect's `STRING` schema): what FileStreamSource reads, a line a record.
    String(String),
    /// Raw bytes (`BYTES`).
    Bytes(Vec<u8>),
    /// Any other value: a number, a boolean, a map or a list (a JSON payload).
    Json(serde_json::Value),
}

impl Data {
    /// The value as FileStreamSink writes it on a line: a string as it is, anything else as JSON
    /// text, bytes as they are.
    pub fn to_line(&self) -> Vec<u8> {
        match self {
            Data::Null => b"null".to_vec(),
            Data::String(text) => text.as_bytes().to_vec(),
            Data::Bytes(bytes) => bytes.clone(),
            Data::Json(value) => value.to_string().into_bytes(),
        }
    }
}

/// `org.apache.kafka.connect.json.JsonConverter`: JSON, in a `{"schema", "payload"}` envelope when
/// `schemas.enable` (its default) is true.
pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
/// `org.apache.kafka.connect.storage.StringConverter`: UTF-8 text.
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
/// `org.apache.kafka.connect.converters.ByteArrayConverter`: the bytes as they are.
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// `io.confluent.connect.avro.AvroConverter`: Confluent's framing around an Avro datum, its
/// schema in the schema registry under the topic's `-key` / `-value` subject.
pub const AVRO_CONVERTER: &str = "io.confluent.connect.avro.AvroConverter";

/// The schema registry as Confluent's client in a converter sees it.
pub trait Registry {
    /// The id of `schema` under `subject`: registered when `register` (auto.register.schemas),
    /// else looked up, refused when the subject does not hold it.
    fn schema_id(&mut self, subject: &str, schema: &str, register: bool) -> Result<i32, String>;
    /// The schema with the global id `id`.
    fn schema(&self, id: i32) -> Option<&Schema>;
}

impl Registry for SchemaRegistry {
    fn schema_id(&mut self, subject: &str, schema: &str, register: bool) -> Result<i32, String> {
        if register {
            return self.register(subject, schema).map(|r| r.id).map_err(|e| e.to_string());
        }
        self.id_of(subject, schema)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "Schema not found; error code: 40403".to_string())
    }

    fn schema(&self, id: i32) -> Option<&Schema> {
        self.by_id(id)
    }
}

/// A converter, as a connector's `key.converter` / `value.converter` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Converter {
    /// `StringConverter`.
    String,
    /// `ByteArrayConverter`.
    ByteArray,
    /// `JsonConverter`, with or without the schema envelope.
    Json {
        /// `schemas.enable`.
        schemas_enable: bool,
    },
    /// Confluent's `AvroConverter` on the cluster's schema registry.
    Avro {
        /// `auto.register.schemas` (default true): register a value's schema, or only look it up.
        auto_register: bool,
    },
}

impl Converter {
    /// The converter `which` (`key.converter` or `value.converter`) names in `config`, with its
    /// `which.schemas.enable`; the worker's default when absent: JsonConverter with schemas, as
    /// Kafka's `connect-distributed.properties` and the quickstart have it.
    pub fn from_config(config: &BTreeMap<String, String>, which: &str) -> Result<Converter, String> {
        let class = config.get(which).map(String::as_str).unwrap_or(JSON_CONVERTER);
        match class.trim() {
            JSON_CONVERTER | "JsonConverter" => {
                let schemas_enable = flag(config, &format!("{which}.schemas.enable"))?.unwrap_or(true);
                Ok(Converter::Json { schemas_enable })
            }
            AVRO_CONVERTER | "AvroConverter" => {
                // Confluent's converter needs the registry's address; Kite's registry is the
                // cluster's own, whatever the address says.
                if config.get(&format!("{which}.schema.registry.url")).is_none_or(|url| url.trim().is_empty())
                {
                    return Err(format!(
                        "Missing required configuration \"{which}.schema.registry.url\" which has no default value."
                    ));
                }
                let auto_register = flag(config, &format!("{which}.auto.register.schemas"))?.unwrap_or(true);
                Ok(Converter::Avro { auto_register })
            }
            STRING_CONVERTER | "StringConverter" => Ok(Converter::String),
            BYTE_ARRAY_CONVERTER | "ByteArrayConverter" => Ok(Converter::ByteArray),
            other => Err(format!(
                "Invalid value {other} for configuration {which}: Class {other} could not be found (Kite has {JSON_CONVERTER}, {STRING_CONVERTER}, {BYTE_ARRAY_CONVERTER} and {AVRO_CONVERTER})"
            )),
        }
    }

    /// Its Java class, as error reports name it.
    pub fn class(self) -> &'static str {
        match self {
            Converter::String => STRING_CONVERTER,
            Converter::ByteArray => BYTE_ARRAY_CONVERTER,
            Converter::Json { .. } => JSON_CONVERTER,
            Converter::Avro { .. } => AVRO_CONVERTER,
        }
    }

    /// Connect data to a record's bytes (`fromConnectData`) for a record of `topic`, its key when
    /// `is_key`; `None` is a null key or value. An Avro schema goes under Confluent's
    /// TopicNameStrategy subject, `<topic>-key` or `<topic>-value`.
    pub fn serialize(
        &self,
        data: &Data,
        (topic, is_key): (&str, bool),
        registry: &mut dyn Registry,
    ) -> Result<Option<Vec<u8>>, String> {
        match (self, data) {
            (_, Data::Null) => Ok(None),
            (Converter::Avro { auto_register }, data) => {
                let subject = format!("{topic}-{}", if is_key { "key" } else { "value" });
                avro_serialize(data, &subject, *auto_register, registry)
                    .map_err(|e| format!("Failed to serialize Avro data from topic {topic}: {e}"))
            }
            (Converter::String, Data::String(text)) => Ok(Some(text.as_bytes().to_vec())),
            (Converter::String, Data::Bytes(bytes)) => Ok(Some(bytes.clone())),
            (Converter::String, Data::Json(value)) => Ok(Some(value.to_string().into_bytes())),
            (Converter::ByteArray, Data::Bytes(bytes)) => Ok(Some(bytes.clone())),
            (Converter::ByteArray, other) => Err(format!(
                "Invalid schema type for ByteArrayConverter: {}",
                schema_type(other).to_uppercase()
            )),
            (Converter::Json { schemas_enable: false }, data) => {
                Ok(Some(json_of(data).to_string().into_bytes()))
            }
            (Converter::Json { schemas_enable: true }, data) => {
                let schema = match data {
                    Data::Json(_) => serde_json::Value::Null,
                    other => serde_json::json!({"type": schema_type(other), "optional": false}),
                };
                let envelope = serde_json::json!({"schema": schema, "payload": json_of(data)});
                Ok(Some(envelope.to_string().into_bytes()))
            }
        }
    }

    /// A record's bytes to Connect data (`toConnectData`); refused in Kafka's words when they
    /// are not what the converter reads.
    pub fn deserialize(
        &self,
        bytes: Option<&[u8]>,
        topic: &str,
        registry: &dyn Registry,
    ) -> Result<Data, String> {
        let Some(bytes) = bytes else { return Ok(Data::Null) };
        match self {
            Converter::Avro { .. } => avro_deserialize(bytes, registry)
                .map_err(|e| format!("Failed to deserialize data for topic {topic} to Avro: {e}")),
            Converter::String => Ok(Data::String(String::from_utf8_lossy(bytes).into_owned())),
            Converter::ByteArray => Ok(Data::Bytes(bytes.to_vec())),
            Converter::Json { schemas_enable } => {
                let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
                    format!("Converting byte[] to Kafka Connect data failed due to serialization error: {e}")
                })?;
                if !schemas_enable {
                    return Ok(data_of(value));
                }
                match value {
                    serde_json::Value::Object(mut envelope)
                        if envelope.len() == 2 && envelope.contains_key("schema") && envelope.contains_key("payload") =>
                    {
                        // A `bytes` schema's payload (base64) stays text: no file connector reads bytes.
                        Ok(data_of(envelope.remove("payload").unwrap_or_default()))
                    }
                    _ => Err("JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.".to_string()),
                }
            }
        }
    }
}

/// AvroConverter's `fromConnectData`: the value's schema registered (or looked up) under
/// `subject`, the datum in Confluent's framing.
fn avro_serialize(
    data: &Data,
    subject: &str,
    auto_register: bool,
    registry: &mut dyn Registry,
) -> Result<Option<Vec<u8>>, String> {
    let Some((schema, value)) = avro_data::schema_and_value(data)? else { return Ok(None) };
    let id = registry.schema_id(subject, &schema.to_string(), auto_register)?;
    let schema = registry.schema(id).ok_or_else(|| format!("unknown schema id {id}"))?;
    Ok(Some(encode_framed(id, &crate::avro::encode_value(schema, &value)?)))
}

/// AvroConverter's `toConnectData`: the framing's schema id looked up, the datum read with it.
fn avro_deserialize(bytes: &[u8], registry: &dyn Registry) -> Result<Data, String> {
    let (id, datum) = decode_framed(bytes)?;
    let schema = registry.schema(id).ok_or_else(|| {
        format!("Error retrieving Avro schema for id {id}: Schema not found; error code: 40403")
    })?;
    Ok(data_of(crate::avro::decode_to_value(schema, datum)?))
}

/// A converter's boolean setting (`true` / `false`, any case); `None` when absent.
fn flag(config: &BTreeMap<String, String>, key: &str) -> Result<Option<bool>, String> {
    match config.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v == "true" => Ok(Some(true)),
        Some(v) if v == "false" => Ok(Some(false)),
        Some(v) => Err(format!(
            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
        )),
    }
}

/// Connect's schema type of a value, as the JSON envelope names it.
fn schema_type(data: &Data) -> &'static str {
    match data {
        Data::Null | Data::Json(_) => "struct",
        Data::String(_) => "string",
        Data::Bytes(_) => "bytes",
    }
}

fn json_of(data: &Data) -> serde_json::Value {
    match data {
        Data::Null => serde_json::Value::Null,
        Data::String(text) => serde_json::Value::String(text.clone()),
        // Connect's JSON of bytes is base64; Kite shows them as hex pairs everywhere else, and
        // the file connectors never produce bytes, so base64 it is, as Kafka writes it.
        Data::Bytes(bytes) => serde_json::Value::String(base64(bytes)),
        Data::Json(value) => value.clone(),
    }
}

fn data_of(value: serde_json::Value) -> Data {
    match value {
        serde_json::Value::Null => Data::Null,
        serde_json::Value::String(text) => Data::String(text),
        other => Data::Json(other),
    }
}

/// Standard base64 with padding (what Jackson writes for a `byte[]`).
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ser(converter: &Converter, data: &Data) -> Result<Option<Vec<u8>>, String> {
        converter.serialize(data, ("t", false), &mut SchemaRegistry::new())
    }

    fn de(converter: &Converter, bytes: Option<&[u8]>) -> Result<Data, String> {
        converter.deserialize(bytes, "t", &SchemaRegistry::new())
    }

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The Kafka quickstart's `connect-test` topic holds each line in JsonConverter's envelope.
    #[test]
    fn the_default_converter_writes_the_quickstarts_envelope() {
        let json = Converter::from_config(&BTreeMap::new(), "value.converter").unwrap();
        let bytes = ser(&json, &Data::String("foo".into())).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#
        );
        assert_eq!(de(&json, Some(&bytes)), Ok(Data::String("foo".into())));
        assert_eq!(ser(&json, &Data::Null), Ok(None));
    }

    #[test]
    fn each_converter_reads_back_what_it_writes() {
        let plain = Converter::from_config(
            &config(&[("value.converter.schemas.enable", "false")]),
            "value.converter",
        )
        .unwrap();
        assert_eq!(ser(&plain, &Data::String("a".into())), Ok(Some(br#""a""#.to_vec())));
        assert_eq!(de(&plain, Some(br#"{"n":1}"#)), Ok(Data::Json(serde_json::json!({"n": 1}))));
        let string =
            Converter::from_config(&config(&[("key.converter", STRING_CONVERTER)]), "key.converter").unwrap();
        assert_eq!(ser(&string, &Data::String("k".into())), Ok(Some(b"k".to_vec())));
        let bytes =
            Converter::from_config(&config(&[("value.converter", "ByteArrayConverter")]), "value.converter")
                .unwrap();
        assert_eq!(de(&bytes, Some(&[0, 255])), Ok(Data::Bytes(vec![0, 255])));
        assert!(ser(&bytes, &Data::String("x".into())).unwrap_err().contains("ByteArrayConverter"));
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn bad_input_is_refused_in_kafkas_words() {
        let json = Converter::Json { schemas_enable: true };
        assert!(de(&json, Some(b"\"plain\"")).unwrap_err().contains("set schemas.enable=false"));
        assert!(
            de(&json, Some(b"{")).unwrap_err().starts_with("Converting byte[] to Kafka Connect data failed")
        );
        let deep = "[".repeat(100_000);
        assert!(de(&json, Some(deep.as_bytes())).is_err(), "serde_json's recursion limit holds");
        let unknown =
            Converter::from_config(&config(&[("value.converter", "io.confluent.X")]), "value.converter");
        assert!(unknown.unwrap_err().contains("could not be found"));
        let bad_flag = config(&[("value.converter.schemas.enable", "yes")]);
        assert!(Converter::from_config(&bad_flag, "value.converter").unwrap_err().contains("true or false"));
    }

    /// Confluent's AvroConverter: the schema registered under the topic's subject, the datum in
    /// the registry's framing, read back through the same registry.
    #[test]
    fn the_avro_converter_registers_and_frames() {
        let settings = config(&[
            ("value.converter", AVRO_CONVERTER),
            ("value.converter.schema.registry.url", "http://localhost:8081"),
        ]);
        let avro = Converter::from_config(&settings, "value.converter").unwrap();
        assert_eq!(avro, Converter::Avro { auto_register: true });
        let mut registry = SchemaRegistry::new();
        let order = Data::Json(serde_json::json!({"id": 7, "item": "Item_1"}));
        let bytes = avro.serialize(&order, ("orders", false), &mut registry).unwrap().unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 1], "magic byte, schema id 1");
        assert_eq!(&bytes[5..], &[14, 12, b'I', b't', b'e', b'm', b'_', b'1'], "zigzag 7, then the string");
        assert_eq!(registry.versions("orders-value"), &[1]);
        assert_eq!(avro.deserialize(Some(&bytes), "orders", &registry), Ok(order));
        let line = avro.serialize(&Data::String("foo".into()), ("lines", false), &mut registry).unwrap();
        assert_eq!(line, Some(vec![0, 0, 0, 0, 2, 6, b'f', b'o', b'o']));
        assert_eq!(avro.serialize(&Data::Null, ("orders", false), &mut registry), Ok(None));
    }

    #[test]
    fn the_avro_converter_refuses_in_confluents_words() {
        let missing = config(&[("value.converter", "AvroConverter")]);
        let err = Converter::from_config(&missing, "value.converter").unwrap_err();
        assert_eq!(
            err,
            "Missing required configuration \"value.converter.schema.registry.url\" which has no default value."
        );
        let lookup_only = config(&[
            ("key.converter", AVRO_CONVERTER),
            ("key.converter.schema.registry.url", "http://registry:8081"),
            ("key.converter.auto.register.schemas", "false"),
        ]);
        let avro = Converter::from_config(&lookup_only, "key.converter").unwrap();
        let mut registry = SchemaRegistry::new();
        let err = avro.serialize(&Data::String("k".into()), ("t", true), &mut registry).unwrap_err();
        assert!(err.contains("40403"), "{err}");
        registry.register("t-key", "\"string\"").unwrap();
        assert!(avro.serialize(&Data::String("k".into()), ("t", true), &mut registry).is_ok());
        let changed = Converter::Avro { auto_register: true };
        let err =
            changed.serialize(&Data::Json(serde_json::json!(5)), ("t", true), &mut registry).unwrap_err();
        assert!(err.contains("incompatible"), "{err}");
        assert!(
            avro.deserialize(Some(b"\x01abcd"), "t", &registry).unwrap_err().contains("Unknown magic byte")
        );
        assert!(avro.deserialize(Some(&[0, 0, 0, 0, 9, 2]), "t", &registry).unwrap_err().contains("40403"));
        assert!(
            avro.deserialize(Some(&[0, 0, 0, 0, 1, 99]), "t", &registry)
                .unwrap_err()
                .contains("bad Avro datum")
        );
    }
}
