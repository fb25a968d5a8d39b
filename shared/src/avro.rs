//! Avro binary datums (the payload inside Confluent's framing), converted from and to JSON text
//! through the `apache-avro` crate, so a learner can type a record as JSON and see its Avro bytes.

use apache_avro::Schema;
use apache_avro::types::Value;

/// Encodes JSON `text` as an Avro binary datum of `schema`. Numbers, objects and arrays are
/// resolved against the schema (an object becomes a record, a number an int or long, …).
pub fn encode_json(schema: &Schema, text: &str) -> Result<Vec<u8>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    let value =
        Value::from(json).resolve(schema).map_err(|e| format!("{text} does not fit the schema: {e}"))?;
    apache_avro::to_avro_datum(schema, value).map_err(|e| format!("cannot encode {text}: {e}"))
}

/// Decodes an Avro binary datum of `schema` into compact JSON text. The whole datum must be used.
pub fn decode_to_json(schema: &Schema, datum: &[u8]) -> Result<String, String> {
    let mut reader = datum;
    let value = apache_avro::from_avro_datum(schema, &mut reader, None)
        .map_err(|e| format!("bad Avro datum: {e}"))?;
    if !reader.is_empty() {
        return Err(format!("{} bytes follow the Avro datum", reader.len()));
    }
    let json = serde_json::Value::try_from(value).map_err(|e| format!("datum has no JSON form: {e}"))?;
    Ok(json.to_string())
}
