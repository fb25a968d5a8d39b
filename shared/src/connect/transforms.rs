//! Single message transforms and their predicates, as Kafka Connect configures them
//! (`transforms=a,b`, `transforms.a.type=…$Value`, `transforms.a.predicate=p`,
//! `predicates.p.type=…`): each record goes through the chain in order, a transform whose
//! predicate does not hold (or holds, with `negate`) passing it on unchanged. Without a schema,
//! as Kite's data has none, the field transforms work on maps (JSON objects) as Kafka's do on
//! `Map` values, and refuse anything else in Kafka's words.

use std::collections::BTreeMap;

use regex_lite::Regex;
use serde_json::{Map, Value};

use super::converter::Data;
use crate::limits::{MAX_CONNECT_REGEX_CHARS, MAX_CONNECT_REGEX_COMPILED_BYTES, MAX_TRANSFORMS};

/// A record on its way through a connector: what the transforms see and change.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectRecord {
    /// The topic it goes to (a source) or came from (a sink).
    pub topic: String,
    /// Its partition (a sink's; a source's is chosen by the producer).
    pub partition: Option<i32>,
    /// Its offset (a sink's only).
    pub offset: Option<i64>,
    /// Its timestamp (ms).
    pub timestamp_ms: i64,
    /// The key.
    pub key: Data,
    /// The value.
    pub value: Data,
    /// Its headers: key and value bytes (`None` a null value).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The key or the value: which part of a record a `$Key` / `$Value` transform changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Key,
    Value,
}

/// A type `Cast` casts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CastType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
}

#[derive(Debug)]
enum Transform {
    InsertField {
        part: Part,
        topic: Option<String>,
        partition: Option<String>,
        offset: Option<String>,
        timestamp: Option<String>,
        fixed: Option<(String, String)>,
    },
    ReplaceField {
        part: Part,
        exclude: Vec<String>,
        include: Vec<String>,
        renames: Vec<(String, String)>,
    },
    MaskField {
        part: Part,
        fields: Vec<String>,
        replacement: Option<String>,
    },
    ValueToKey {
        fields: Vec<String>,
    },
    ExtractField {
        part: Part,
        field: String,
    },
    HoistField {
        part: Part,
        field: String,
    },
    Cast {
        part: Part,
        whole: Option<CastType>,
        fields: Vec<(String, CastType)>,
    },
    TimestampRouter {
        topic_format: String,
        timestamp_format: String,
    },
    RegexRouter {
        regex: Regex,
        replacement: String,
    },
    Flatten {
        part: Part,
        delimiter: String,
    },
    Filter,
}

#[derive(Debug)]
enum Predicate {
    TopicNameMatches(Regex),
    HasHeaderKey(String),
    RecordIsTombstone,
}

/// One step of a chain: its alias, what it does, and when.
#[derive(Debug)]
struct Step {
    alias: String,
    class: String,
    transform: Transform,
    predicate: Option<(Predicate, bool)>,
}

/// A connector's transforms, in order.
#[derive(Debug, Default)]
pub struct Chain {
    steps: Vec<Step>,
}

const PACKAGE: &str = "org.apache.kafka.connect.transforms.";

/// A transform refused a record: the transform's class and Kafka's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformError {
    /// The transform's class (`org.apache.kafka.connect.transforms.InsertField$Value`).
    pub class: String,
    /// Why.
    pub message: String,
}

impl Chain {
    /// The chain a connector's config names; every config error with the key it belongs to.
    pub fn parse(config: &BTreeMap<String, String>) -> Result<Chain, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let aliases = list(config.get("transforms"));
        if aliases.len() > MAX_TRANSFORMS {
            errors.push(("transforms".to_string(), format!("at most {MAX_TRANSFORMS} transforms")));
        }
        let mut steps = Vec::new();
        for alias in aliases.iter().take(MAX_TRANSFORMS) {
            let prefix = format!("transforms.{alias}.");
            let get = |key: &str| config.get(&format!("{prefix}{key}")).map(|v| v.trim().to_string());
            let class = get("type").unwrap_or_default();
            let transform = match transform(&class, &get) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((format!("{prefix}type"), e));
                    continue;
                }
            };
            let predicate = match get("predicate") {
                None => None,
                Some(name) => match predicate(config, &name) {
                    Ok(p) => Some((p, get("negate").is_some_and(|n| n.eq_ignore_ascii_case("true")))),
                    Err(e) => {
                        errors.push((format!("{prefix}predicate"), e));
                        continue;
                    }
                },
            };
            let class = if class.starts_with(PACKAGE) { class } else { format!("{PACKAGE}{class}") };
            steps.push(Step { alias: alias.clone(), class, transform, predicate });
        }
        if errors.is_empty() { Ok(Chain { steps }) } else { Err(errors) }
    }

    /// Whether the chain has any step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The record through every step: `None` when a step dropped it (`Filter`).
    pub fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, TransformError> {
        for step in &self.steps {
            let applies = match &step.predicate {
                None => true,
                Some((predicate, negate)) => predicate.test(&record) != *negate,
            };
            if !applies {
                continue;
            }
            match step.transform.apply(record) {
                Ok(Some(next)) => record = next,
                Ok(None) => return Ok(None),
                Err(message) => return Err(TransformError { class: step.class.clone(), message }),
            }
        }
        Ok(Some(record))
    }

    /// The aliases, in order (for the Connect view).
    pub fn aliases(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.alias.as_str()).collect()
    }
}

/// A comma-separated list, entries trimmed, empty ones left out.
fn list(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

/// A pattern as Java's `Matcher.matches()` uses it (the whole text must match), bounded.
pub(super) fn regex(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_CONNECT_REGEX_CHARS {
        return Err(format!("a pattern of at most {MAX_CONNECT_REGEX_CHARS} characters"));
    }
    // Java's Matcher.matches(): the whole name must match.
    regex_lite::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_CONNECT_REGEX_COMPILED_BYTES)
        .build()
        .map_err(|e| format!("Invalid regex: {e}"))
}

/// A field name, `!` (required) or `?` (optional, the default) cut off its end, as InsertField's.
fn field_name(spec: String) -> String {
    spec.trim_end_matches(['!', '?']).to_string()
}

fn transform(class: &str, get: &dyn Fn(&str) -> Option<String>) -> Result<Transform, String> {
    let short = class.strip_prefix(PACKAGE).unwrap_or(class);
    let (name, part) = match short.split_once('$') {
        Some((name, "Key")) => (name, Part::Key),
        Some((name, "Value")) => (name, Part::Value),
        Some(_) => return Err(format!("Class {class} could not be found.")),
        None => (short, Part::Value),
    };
    let needs_part = !matches!(name, "ValueToKey" | "TimestampRouter" | "RegexRouter" | "Filter");
    if needs_part && !short.contains('$') {
        return Err(format!("Class {class} could not be found: name {name}$Key or {name}$Value"));
    }
    let required = |key: &str| {
        get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("Missing required configuration \"{key}\" which has no default value."))
    };
    Ok(match name {
        "InsertField" => Transform::InsertField {
            part,
            topic: get("topic.field").map(field_name),
            partition: get("partition.field").map(field_name),
            offset: get("offset.field").map(field_name),
            timestamp: get("timestamp.field").map(field_name),
            fixed: get("static.field").map(|f| (field_name(f), get("static.value").unwrap_or_default())),
        },
        "ReplaceField" => Transform::ReplaceField {
            part,
            exclude: list(get("exclude").or_else(|| get("blacklist")).as_ref()),
            include: list(get("include").or_else(|| get("whitelist")).as_ref()),
            renames: list(get("renames").as_ref())
                .iter()
                .map(|pair| {
                    pair.split_once(':')
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .ok_or_else(|| format!("Invalid rename mapping: {pair}"))
                })
                .collect::<Result<_, _>>()?,
        },
        "MaskField" => Transform::MaskField {
            part,
            fields: list(Some(&required("fields")?)),
            replacement: get("replacement"),
        },
        "ValueToKey" => Transform::ValueToKey { fields: list(Some(&required("fields")?)) },
        "ExtractField" => Transform::ExtractField { part, field: required("field")? },
        "HoistField" => Transform::HoistField { part, field: required("field")? },
        "Cast" => cast(part, &required("spec")?)?,
        "TimestampRouter" => Transform::TimestampRouter {
            topic_format: get("topic.format").unwrap_or_else(|| "${topic}-${timestamp}".into()),
            timestamp_format: get("timestamp.format").unwrap_or_else(|| "yyyyMMdd".into()),
        },
        "RegexRouter" => Transform::RegexRouter {
            regex: regex(&required("regex")?)?,
            replacement: required("replacement")?,
        },
        "Flatten" => Transform::Flatten { part, delimiter: get("delimiter").unwrap_or_else(|| ".".into()) },
        "Filter" => Transform::Filter,
        _ => {
            return Err(format!(
                "Class {class} could not be found (Kite has InsertField, ReplaceField, MaskField, ValueToKey, ExtractField, HoistField, Cast, TimestampRouter, RegexRouter, Flatten and Filter)."
            ));
        }
    })
}

fn cast(part: Part, spec: &str) -> Result<Transform, String> {
    let kind = |name: &str| match name.trim() {
        "int8" => Ok(CastType::Int8),
        "int16" => Ok(CastType::Int16),
        "int32" => Ok(CastType::Int32),
        "int64" => Ok(CastType::Int64),
        "float32" => Ok(CastType::Float32),
        "float64" => Ok(CastType::Float64),
        "boolean" => Ok(CastType::Boolean),
        "string" => Ok(CastType::String),
        other => Err(format!("Invalid type found in casting spec: {other}")),
    };
    let entries = list(Some(&spec.to_string()));
    if let [whole] = entries.as_slice()
        && !whole.contains(':')
    {
        return Ok(Transform::Cast { part, whole: Some(kind(whole)?), fields: Vec::new() });
    }
    let fields = entries
        .iter()
        .map(|e| {
            e.split_once(':')
                .ok_or_else(|| format!("Invalid cast mapping: {e}"))
                .and_then(|(f, t)| Ok((f.trim().to_string(), kind(t)?)))
        })
        .collect::<Result<_, _>>()?;
    Ok(Transform::Cast { part, whole: None, fields })
}

fn predicate(config: &BTreeMap<String, String>, name: &str) -> Result<Predicate, String> {
    if !list(config.get("predicates")).iter().any(|p| p == name) {
        return Err(format!(
            "Invalid value {name} for configuration predicate: it is not listed in predicates"
        ));
    }
    let get = |key: &str| config.get(&format!("predicates.{name}.{key}")).map(|v| v.trim().to_string());
    let class = get("type").unwrap_or_default();
    match class.rsplit('.').next().unwrap_or("") {
        "TopicNameMatches" => Ok(Predicate::TopicNameMatches(regex(
            &get("pattern")
                .ok_or("Missing required configuration \"pattern\" which has no default value.")?,
        )?)),
        "HasHeaderKey" => Ok(Predicate::HasHeaderKey(
            get("name").ok_or("Missing required configuration \"name\" which has no default value.")?,
        )),
        "RecordIsTombstone" => Ok(Predicate::RecordIsTombstone),
        _ => Err(format!(
            "Class {class} could not be found (Kite has TopicNameMatches, HasHeaderKey and RecordIsTombstone)."
        )),
    }
}

impl Predicate {
    fn test(&self, record: &ConnectRecord) -> bool {
        match self {
            Predicate::TopicNameMatches(regex) => regex.is_match(&record.topic),
            Predicate::HasHeaderKey(name) => record.headers.iter().any(|(k, _)| k == name),
            Predicate::RecordIsTombstone => record.value == Data::Null,
        }
    }
}

/// Kafka's words when a field transform meets a value that is not a map.
fn only_maps(purpose: &str, data: &Data) -> String {
    let found = match data {
        Data::Null => "null",
        Data::String(_) => "java.lang.String",
        Data::Bytes(_) => "[B",
        Data::Json(Value::Array(_)) => "java.util.ArrayList",
        Data::Json(Value::Bool(_)) => "java.lang.Boolean",
        Data::Json(Value::Number(_)) => "java.lang.Long",
        Data::Json(_) => "java.util.HashMap",
    };
    format!("Only Map objects supported in absence of schema for [{purpose}], found: {found}")
}

fn map_of(data: Data, purpose: &str) -> Result<Map<String, Value>, String> {
    match data {
        Data::Json(Value::Object(map)) => Ok(map),
        other => Err(only_maps(purpose, &other)),
    }
}

impl Transform {
    fn apply(&self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, String> {
        let part_of = |record: &mut ConnectRecord, part: Part| -> Data {
            std::mem::replace(if part == Part::Key { &mut record.key } else { &mut record.value }, Data::Null)
        };
        let put = |record: &mut ConnectRecord, part: Part, data: Data| {
            *(if part == Part::Key { &mut record.key } else { &mut record.value }) = data;
        };
        match self {
            Transform::InsertField { part, topic, partition, offset, timestamp, fixed } => {
                let mut map = map_of(part_of(&mut record, *part), "field insertion")?;
                let mut insert = |field: &Option<String>, value: Value| {
                    if let Some(field) = field {
                        map.insert(field.clone(), value);
                    }
                };
                insert(topic, Value::String(record.topic.clone()));
                insert(partition, record.partition.map_or(Value::Null, Value::from));
                insert(offset, record.offset.map_or(Value::Null, Value::from));
                insert(timestamp, Value::from(record.timestamp_ms));
                if let Some((field, value)) = fixed {
                    map.insert(field.clone(), Value::String(value.clone()));
                }
                put(&mut record, *part, Data::Json(Value::Object(map)));
            }
            Transform::ReplaceField { part, exclude, include, renames } => {
                let map = map_of(part_of(&mut record, *part), "field replacement")?;
                let kept = map
                    .into_iter()
                    .filter(|(k, _)| !exclude.contains(k) && (include.is_empty() || include.contains(k)));
                let renamed = kept.map(|(k, v)| {
                    (renames.iter().find(|(from, _)| *from == k).map_or(k, |(_, to)| to.clone()), v)
                });
                put(&mut record, *part, Data::Json(Value::Object(renamed.collect())));
            }
            Transform::MaskField { part, fields, replacement } => {
                let mut map = map_of(part_of(&mut record, *part), "masking fields")?;
                for field in fields {
                    if let Some(value) = map.get_mut(field) {
                        *value = masked(value, replacement.as_deref())?;
                    }
                }
                put(&mut record, *part, Data::Json(Value::Object(map)));
            }
            Transform::ValueToKey { fields } => {
                let map = match &record.value {
                    Data::Json(Value::Object(map)) => map,
                    other => return Err(only_maps("copying fields from value to key", other)),
                };
                let key: Map<String, Value> =
                    fields.iter().map(|f| (f.clone(), map.get(f).cloned().unwrap_or(Value::Null))).collect();
                record.key = Data::Json(Value::Object(key));
            }
            Transform::ExtractField { part, field } => {
                let mut map = map_of(part_of(&mut record, *part), "field extraction")?;
                let value = map.remove(field).unwrap_or(Value::Null);
                put(&mut record, *part, data_of(value));
            }
            Transform::HoistField { part, field } => {
                let value = part_of(&mut record, *part);
                let mut map = Map::new();
                map.insert(field.clone(), json_of(value));
                put(&mut record, *part, Data::Json(Value::Object(map)));
            }
            Transform::Cast { part, whole, fields } => {
                let cast = cast_data(part_of(&mut record, *part), *whole, fields)?;
                put(&mut record, *part, cast);
            }
            Transform::TimestampRouter { topic_format, timestamp_format } => {
                let stamp = format_timestamp(timestamp_format, record.timestamp_ms);
                record.topic =
                    topic_format.replace("${topic}", &record.topic).replace("${timestamp}", &stamp);
            }
            Transform::RegexRouter { regex, replacement } => {
                if regex.is_match(&record.topic) {
                    record.topic = regex.replace(&record.topic, replacement.as_str()).into_owned();
                }
            }
            Transform::Flatten { part, delimiter } => {
                let flat = flatten_data(part_of(&mut record, *part), delimiter)?;
                put(&mut record, *part, flat);
            }
            Transform::Filter => return Ok(None),
        }
        Ok(Some(record))
    }
}

/// Cast: the whole key or value to one type, or each named field of a map.
fn cast_data(data: Data, whole: Option<CastType>, fields: &[(String, CastType)]) -> Result<Data, String> {
    if let Some(to) = whole {
        return Ok(data_of(cast_value(&json_of(data), to)?));
    }
    let mut map = map_of(data, "casting")?;
    for (field, to) in fields {
        if let Some(value) = map.get_mut(field) {
            *value = cast_value(value, *to)?;
        }
    }
    Ok(Data::Json(Value::Object(map)))
}

/// Flatten: a map's nested maps as one level (a null stays null).
fn flatten_data(data: Data, delimiter: &str) -> Result<Data, String> {
    match data {
        Data::Json(Value::Object(map)) => {
            let mut out = Map::new();
            flatten(&mut out, "", map, delimiter);
            Ok(Data::Json(Value::Object(out)))
        }
        Data::Null => Ok(Data::Null),
        other => Err(only_maps("flattening", &other)),
    }
}

fn json_of(data: Data) -> Value {
    match data {
        Data::Null => Value::Null,
        Data::String(s) => Value::String(s),
        Data::Bytes(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        Data::Json(v) => v,
    }
}

fn data_of(value: Value) -> Data {
    match value {
        Value::Null => Data::Null,
        Value::String(s) => Data::String(s),
        other => Data::Json(other),
    }
}

/// Nested maps as one level, their keys joined by the delimiter. Input depth is bounded by the
/// JSON reader's recursion limit (serde_json's 128), so this recursion is too.
fn flatten(out: &mut Map<String, Value>, prefix: &str, map: Map<String, Value>, delimiter: &str) {
    for (key, value) in map {
        let name = if prefix.is_empty() { key } else { format!("{prefix}{delimiter}{key}") };
        match value {
            Value::Object(inner) => flatten(out, &name, inner, delimiter),
            other => {
                out.insert(name, other);
            }
        }
    }
}

/// MaskField: the type's empty value, or the replacement (a number for a number).
fn masked(value: &Value, replacement: Option<&str>) -> Result<Value, String> {
    Ok(match (value, replacement) {
        (Value::String(_), None) => Value::String(String::new()),
        // A whole number stays whole; a double masks to 0.0, as Kafka's zero of its type.
        (Value::Number(n), None) if n.is_f64() => Value::from(0.0),
        (Value::Number(_), None) => Value::from(0),
        (Value::Bool(_), None) => Value::Bool(false),
        (Value::Array(_), None) => Value::Array(Vec::new()),
        (Value::Object(_), None) => Value::Object(Map::new()),
        (Value::Null, _) => Value::Null,
        (Value::String(_), Some(r)) => Value::String(r.to_string()),
        (Value::Number(_), Some(r)) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("Unable to convert {r} (class java.lang.String) to number"))?,
        (other, Some(_)) => {
            return Err(format!("Cannot mask value of type {} with custom replacement.", type_name(other)));
        }
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "class java.lang.Boolean",
        Value::Number(_) => "class java.lang.Number",
        Value::String(_) => "class java.lang.String",
        Value::Array(_) => "class java.util.ArrayList",
        Value::Object(_) => "class java.util.HashMap",
    }
}

fn cast_value(value: &Value, to: CastType) -> Result<Value, String> {
    let refused = || format!("Unexpected type in Cast transformation: {}", type_name(value));
    let number = || -> Result<f64, String> {
        match value {
            Value::Number(n) => n.as_f64().ok_or_else(refused),
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("Value ({s}) was out of range for requested data type")),
            _ => Err(refused()),
        }
    };
    let int = |min: f64, max: f64| -> Result<Value, String> {
        // Text is read as a whole number (Java's Integer.valueOf); a number is cut to its whole
        // part (Number.intValue).
        if let Value::String(s) = value {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("Value ({s}) was out of range for requested data type"))?;
        }
        let n = number()?.trunc();
        if n < min || n > max {
            return Err(format!("Value ({n}) was out of range for requested data type"));
        }
        Ok(Value::from(n as i64))
    };
    Ok(match (value, to) {
        (Value::Null, _) => Value::Null,
        (_, CastType::Int8) => int(i8::MIN as f64, i8::MAX as f64)?,
        (_, CastType::Int16) => int(i16::MIN as f64, i16::MAX as f64)?,
        (_, CastType::Int32) => int(i32::MIN as f64, i32::MAX as f64)?,
        (_, CastType::Int64) => int(i64::MIN as f64, i64::MAX as f64)?,
        (_, CastType::Float32 | CastType::Float64) => {
            serde_json::Number::from_f64(number()?).map(Value::Number).ok_or_else(refused)?
        }
        (Value::String(s), CastType::Boolean) => Value::Bool(s.trim().eq_ignore_ascii_case("true")),
        (_, CastType::Boolean) => Value::Bool(number()? != 0.0),
        (Value::String(s), CastType::String) => Value::String(s.clone()),
        (other, CastType::String) => Value::String(other.to_string()),
    })
}

/// A UTC time in Java's SimpleDateFormat letters TimestampRouter uses: `yyyy`, `MM`, `dd`, `HH`,
/// `mm`, `ss`; anything else is copied as it is.
pub fn format_timestamp(format: &str, timestamp_ms: i64) -> String {
    let seconds = timestamp_ms.div_euclid(1000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let fields = [
        ("yyyy", format!("{year:04}")),
        ("MM", format!("{month:02}")),
        ("dd", format!("{day:02}")),
        ("HH", format!("{:02}", of_day / 3600)),
        ("mm", format!("{:02}", of_day % 3600 / 60)),
        ("ss", format!("{:02}", of_day % 60)),
    ];
    let mut out = String::new();
    let mut rest = format;
    'next: while !rest.is_empty() {
        for (letters, value) in &fields {
            if let Some(after) = rest.strip_prefix(letters) {
                out.push_str(value);
                rest = after;
                continue 'next;
            }
        }
        let mut chars = rest.chars();
        out.extend(chars.next());
        rest = chars.as_str();
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}
