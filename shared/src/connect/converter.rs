//! Kafka Connect's converters: a connector's records are Connect data (here a string, bytes, a
//! JSON value or null), and a converter turns them into a record's key or value bytes on the way
//! into Kafka (`fromConnectData`) and back on the way out (`toConnectData`).

use std::collections::BTreeMap;

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
}

impl Converter {
    /// The converter `which` (`key.converter` or `value.converter`) names in `config`, with its
    /// `which.schemas.enable`; the worker's default when absent: JsonConverter with schemas, as
    /// Kafka's `connect-distributed.properties` and the quickstart have it.
    pub fn from_config(config: &BTreeMap<String, String>, which: &str) -> Result<Converter, String> {
        let class = config.get(which).map(String::as_str).unwrap_or(JSON_CONVERTER);
        match class.trim() {
            JSON_CONVERTER | "JsonConverter" => {
                let key = format!("{which}.schemas.enable");
                let schemas_enable = match config.get(&key).map(|v| v.trim().to_ascii_lowercase()) {
                    None => true,
                    Some(v) if v == "true" => true,
                    Some(v) if v == "false" => false,
                    Some(v) => {
                        return Err(format!(
                            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
                        ));
                    }
                };
                Ok(Converter::Json { schemas_enable })
            }
            STRING_CONVERTER | "StringConverter" => Ok(Converter::String),
            BYTE_ARRAY_CONVERTER | "ByteArrayConverter" => Ok(Converter::ByteArray),
            other => Err(format!(
                "Invalid value {other} for configuration {which}: Class {other} could not be found (Kite has {JSON_CONVERTER}, {STRING_CONVERTER} and {BYTE_ARRAY_CONVERTER})"
            )),
        }
    }

    /// Its Java class, as error reports name it.
    pub fn class(self) -> &'static str {
        match self {
            Converter::String => STRING_CONVERTER,
            Converter::ByteArray => BYTE_ARRAY_CONVERTER,
            Converter::Json { .. } => JSON_CONVERTER,
        }
    }

    /// Connect data to a record's bytes (`fromConnectData`); `None` is a null key or value.
    pub fn serialize(&self, data: &Data) -> Result<Option<Vec<u8>>, String> {
        match (self, data) {
            (_, Data::Null) => Ok(None),
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
    pub fn deserialize(&self, bytes: Option<&[u8]>) -> Result<Data, String> {
        let Some(bytes) = bytes else { return Ok(Data::Null) };
        match self {
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

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The Kafka quickstart's `connect-test` topic holds each line in JsonConverter's envelope.
    #[test]
    fn the_default_converter_writes_the_quickstarts_envelope() {
        let json = Converter::from_config(&BTreeMap::new(), "value.converter").unwrap();
        let bytes = json.serialize(&Data::String("foo".into())).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#
        );
        assert_eq!(json.deserialize(Some(&bytes)), Ok(Data::String("foo".into())));
        assert_eq!(json.serialize(&Data::Null), Ok(None));
    }

    #[test]
    fn each_converter_reads_back_what_it_writes() {
        let plain = Converter::from_config(
            &config(&[("value.converter.schemas.enable", "false")]),
            "value.converter",
        )
        .unwrap();
        assert_eq!(plain.serialize(&Data::String("a".into())), Ok(Some(br#""a""#.to_vec())));
        assert_eq!(plain.deserialize(Some(br#"{"n":1}"#)), Ok(Data::Json(serde_json::json!({"n": 1}))));
        let string =
            Converter::from_config(&config(&[("key.converter", STRING_CONVERTER)]), "key.converter").unwrap();
        assert_eq!(string.serialize(&Data::String("k".into())), Ok(Some(b"k".to_vec())));
        let bytes =
            Converter::from_config(&config(&[("value.converter", "ByteArrayConverter")]), "value.converter")
                .unwrap();
        assert_eq!(bytes.deserialize(Some(&[0, 255])), Ok(Data::Bytes(vec![0, 255])));
        assert!(bytes.serialize(&Data::String("x".into())).unwrap_err().contains("ByteArrayConverter"));
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }

    #[test]
    fn bad_input_is_refused_in_kafkas_words() {
        let json = Converter::Json { schemas_enable: true };
        assert!(json.deserialize(Some(b"\"plain\"")).unwrap_err().contains("set schemas.enable=false"));
        assert!(
            json.deserialize(Some(b"{"))
                .unwrap_err()
                .starts_with("Converting byte[] to Kafka Connect data failed")
        );
        let deep = "[".repeat(100_000);
        assert!(json.deserialize(Some(deep.as_bytes())).is_err(), "serde_json's recursion limit holds");
        let unknown =
            Converter::from_config(&config(&[("value.converter", "io.confluent.X")]), "value.converter");
        assert!(unknown.unwrap_err().contains("could not be found"));
        let bad_flag = config(&[("value.converter.schemas.enable", "yes")]);
        assert!(Converter::from_config(&bad_flag, "value.converter").unwrap_err().contains("true or false"));
    }
}
