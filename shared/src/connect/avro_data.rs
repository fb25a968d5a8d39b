//! Confluent's AvroData for Kite's Connect data: the Avro schema a key or value is written with,
//! inferred from the value itself (Kite's connectors hand over schemaless data, where Kafka
//! Connect's carry a Connect schema), named as AvroData names a struct without a name.
//!
//! A JSON object is a record, a whole number a `long`, a fraction a `double`, a null an optional
//! field (`["null", T]`, default null); the items of an array share one schema, merged from all
//! of them (a `long` and a `double` are a `double`, a missing or null field makes it optional).

use serde_json::{Map, Value as Json, json};

use super::converter::Data;
use crate::limits::MAX_AVRO_DATUM_DEPTH_LEVELS;

/// The namespace of the records AvroData names itself.
pub const NAMESPACE: &str = "io.confluent.connect.avro";
/// The name AvroData gives a struct that has none; the next ones get 2, 3, … after it.
pub const DEFAULT_RECORD_NAME: &str = "ConnectDefault";

/// The shape of a value: an Avro type, before its records are named.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// Only nulls seen: an optional string, for want of anything better.
    Null,
    Boolean,
    Long,
    Double,
    String,
    Bytes,
    Array(Box<Shape>),
    Record(Vec<(String, Shape)>),
    /// A union of null and the shape, with null first (a field's default is null).
    Optional(Box<Shape>),
}

impl Shape {
    /// What an error calls it.
    fn name(&self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Boolean => "boolean",
            Shape::Long => "long",
            Shape::Double => "double",
            Shape::String => "string",
            Shape::Bytes => "bytes",
            Shape::Array(_) => "array",
            Shape::Record(_) => "record",
            Shape::Optional(inner) => inner.name(),
        }
    }

    fn optional(self) -> Shape {
        match self {
            Shape::Null | Shape::Optional(_) => self,
            other => Shape::Optional(Box::new(other)),
        }
    }
}

/// The Avro schema `data` is written with, and the value as [`crate::avro::encode_value`] takes
/// it; `None` for null (a null key, a tombstone), which no converter writes a schema for.
pub fn schema_and_value(data: &Data) -> Result<Option<(Json, Json)>, String> {
    let (shape, value) = match data {
        Data::Null => return Ok(None),
        Data::String(text) => (Shape::String, Json::String(text.clone())),
        Data::Bytes(bytes) => (Shape::Bytes, Json::Array(bytes.iter().map(|&b| Json::from(b)).collect())),
        Data::Json(Json::Null) => return Ok(None),
        Data::Json(value) => (shape_of(value, 0)?, value.clone()),
    };
    let mut records = 0;
    Ok(Some((render(&shape, &mut records), value)))
}

fn shape_of(value: &Json, depth: usize) -> Result<Shape, String> {
    if depth >= MAX_AVRO_DATUM_DEPTH_LEVELS {
        return Err(format!("the value nests deeper than {MAX_AVRO_DATUM_DEPTH_LEVELS} levels"));
    }
    Ok(match value {
        Json::Null => Shape::Null,
        Json::Bool(_) => Shape::Boolean,
        Json::Number(n) if n.is_i64() => Shape::Long,
        Json::Number(_) => Shape::Double,
        Json::String(_) => Shape::String,
        Json::Array(items) => {
            // No items: nothing to go by, an optional string as for a null.
            let mut shape: Option<Shape> = None;
            for item in items {
                let item = shape_of(item, depth + 1)?;
                shape = Some(match shape {
                    None => item,
                    Some(seen) => merge(seen, item)?,
                });
            }
            Shape::Array(Box::new(shape.unwrap_or(Shape::Null)))
        }
        Json::Object(fields) => {
            let mut shapes = Vec::with_capacity(fields.len());
            for (name, field) in fields {
                check_name(name)?;
                shapes.push((name.clone(), shape_of(field, depth + 1)?));
            }
            Shape::Record(shapes)
        }
    })
}

/// One shape that both values fit, as an array's items need.
fn merge(a: Shape, b: Shape) -> Result<Shape, String> {
    Ok(match (a, b) {
        (a, b) if a == b => a,
        (Shape::Null, other) | (other, Shape::Null) => other.optional(),
        (Shape::Optional(a), b) | (b, Shape::Optional(a)) => merge(*a, b)?.optional(),
        (Shape::Long, Shape::Double) | (Shape::Double, Shape::Long) => Shape::Double,
        (Shape::Array(a), Shape::Array(b)) => Shape::Array(Box::new(merge(*a, *b)?)),
        (Shape::Record(mut a), Shape::Record(b)) => {
            let mut seen = vec![false; a.len()];
            for (name, shape) in b {
                match a.iter().position(|(n, _)| *n == name) {
                    Some(i) => {
                        seen[i] = true;
                        let here = std::mem::replace(&mut a[i].1, Shape::Null);
                        a[i].1 = merge(here, shape)?;
                    }
                    None => a.push((name, shape.optional())),
                }
            }
            // A field only the first record has is missing from the second: optional.
            for (i, seen) in seen.into_iter().enumerate() {
                if !seen {
                    let here = std::mem::replace(&mut a[i].1, Shape::Null);
                    a[i].1 = here.optional();
                }
            }
            Shape::Record(a)
        }
        (a, b) => {
            return Err(format!(
                "an array holds both a {} and a {}: its items have no one Avro schema",
                a.name(),
                b.name()
            ));
        }
    })
}

/// An Avro name: a letter or `_`, then letters, digits or `_` (what Avro's parser accepts).
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "Illegal character in: {name} (an Avro field name is letters, digits and _, not starting with a digit)"
        ))
    }
}

/// The schema as Avro's `Schema.toString()` writes it (what Confluent's converter registers);
/// records are named in the order they are written.
fn render(shape: &Shape, records: &mut u32) -> Json {
    match shape {
        Shape::Null => json!(["null", "string"]),
        Shape::Boolean => json!("boolean"),
        Shape::Long => json!("long"),
        Shape::Double => json!("double"),
        Shape::String => json!("string"),
        Shape::Bytes => json!("bytes"),
        Shape::Optional(inner) => json!(["null", render(inner, records)]),
        Shape::Array(items) => json!({"type": "array", "items": render(items, records)}),
        Shape::Record(fields) => {
            *records += 1;
            let index = *records;
            let name = match index {
                1 => DEFAULT_RECORD_NAME.to_string(),
                n => format!("{DEFAULT_RECORD_NAME}{n}"),
            };
            let fields: Vec<Json> = fields
                .iter()
                .map(|(field, shape)| {
                    let mut out = Map::new();
                    out.insert("name".into(), json!(field));
                    out.insert("type".into(), render(shape, records));
                    if matches!(shape, Shape::Null | Shape::Optional(_)) {
                        out.insert("default".into(), Json::Null);
                    }
                    Json::Object(out)
                })
                .collect();
            // Avro writes a nested record's namespace only when it differs from its parent's.
            match index {
                1 => json!({"type": "record", "name": name, "namespace": NAMESPACE, "fields": fields}),
                _ => json!({"type": "record", "name": name, "fields": fields}),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(value: Json) -> String {
        schema_and_value(&Data::Json(value)).unwrap().unwrap().0.to_string()
    }

    #[test]
    fn a_string_is_a_string_and_null_has_no_schema() {
        let (schema, value) = schema_and_value(&Data::String("foo".into())).unwrap().unwrap();
        assert_eq!((schema, value), (json!("string"), json!("foo")));
        assert_eq!(schema_and_value(&Data::Null), Ok(None));
    }

    #[test]
    fn an_object_is_a_record_named_as_avro_data_names_it() {
        assert_eq!(
            schema(json!({"id": 7, "price": 2.5, "ok": true, "note": null, "at": {"city": "Seoul"}})),
            concat!(
                r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":["#,
                r#"{"name":"id","type":"long"},{"name":"price","type":"double"},{"name":"ok","type":"boolean"},"#,
                r#"{"name":"note","type":["null","string"],"default":null},"#,
                r#"{"name":"at","type":{"type":"record","name":"ConnectDefault2","fields":[{"name":"city","type":"string"}]}}]}"#
            )
        );
    }

    #[test]
    fn an_arrays_items_share_one_merged_schema() {
        let numbers = schema(json!({"a": [1, 2.5]}));
        assert!(numbers.contains(r#"{"type":"array","items":"double"}"#), "{numbers}");
        let merged = schema(json!({"a": [{"x": 1}, {"x": null, "y": "s"}]}));
        assert!(merged.contains(r#"{"name":"x","type":["null","long"],"default":null}"#), "{merged}");
        assert!(merged.contains(r#"{"name":"y","type":["null","string"],"default":null}"#), "{merged}");
        let mixed = schema_and_value(&Data::Json(json!({"a": [1, "one"]}))).unwrap_err();
        assert!(mixed.contains("both a long and a string"), "{mixed}");
    }

    #[test]
    fn names_avro_cannot_hold_are_refused_by_name() {
        let bad = schema_and_value(&Data::Json(json!({"user-id": 1}))).unwrap_err();
        assert!(bad.starts_with("Illegal character in: user-id"), "{bad}");
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        assert!(schema_and_value(&Data::Json(deep)).unwrap_err().contains("deeper than"));
    }
}
