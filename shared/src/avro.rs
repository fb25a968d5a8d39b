//! Avro binary datums (the payload inside Confluent's framing), converted from and to JSON text
//! through the `apache-avro` crate, so a learner can type a record as JSON and see its Avro bytes.

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;

/// Encodes JSON `text` as an Avro binary datum of `schema`. Numbers, objects and arrays are
/// resolved against the schema (an object becomes a record, a number an int or long, …).
pub fn encode_json(schema: &Schema, text: &str) -> Result<Vec<u8>, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    let value = Value::try_from(json)
        .and_then(|value| value.resolve(schema))
        .map_err(|e| format!("{text} does not fit the schema: {e}"))?;
    let writer = GenericDatumWriter::builder(schema).build().map_err(|e| format!("unusable schema: {e}"))?;
    writer.write_value_to_vec(value).map_err(|e| format!("cannot encode {text}: {e}"))
}

/// Decodes an Avro binary datum of `schema` into compact JSON text. The whole datum must be used.
pub fn decode_to_json(schema: &Schema, datum: &[u8]) -> Result<String, String> {
    let reader = GenericDatumReader::builder(schema).build().map_err(|e| format!("unusable schema: {e}"))?;
    let mut rest = datum;
    let value = reader.read_value(&mut rest).map_err(|e| format!("bad Avro datum: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes follow the Avro datum", rest.len()));
    }
    let json = serde_json::Value::try_from(value).map_err(|e| format!("datum has no JSON form: {e}"))?;
    Ok(json.to_string())
}
