//! Avro binary datums (the payload inside Confluent's framing), converted from and to JSON text,
//! so a learner can type a record as JSON and see its Avro bytes.
//!
//! The schemas are apache-avro's (`Schema`, parsed and checked for compatibility by the crate);
//! the datums are read and written by Kite's own code, bounded in depth and in values, because
//! what is read was stored by anyone who could produce (see [`decode_to_json`], [`encode_json`]).
//! Its bytes and JSON are apache-avro's, checked side by side in `shared/tests/serializers.rs`.

use apache_avro::schema::{
    DecimalSchema, InnerDecimalSchema, NamesRef, NamespaceRef, ResolvedSchema, UuidSchema,
};
use apache_avro::{Schema, Uuid};
use serde_json::Value as Json;

use crate::limits::{MAX_AVRO_DATUM_DEPTH_LEVELS, MAX_AVRO_DATUM_VALUES};

/// Encodes JSON `text` as an Avro binary datum of `schema`. Numbers, objects and arrays are
/// resolved against the schema as apache-avro's `Value::resolve` does (an object becomes a
/// record or a map, a number an int, long, float or double, a string bytes, fixed, an enum symbol
/// or a uuid; a record's missing field takes its default); a union's branch is chosen as
/// apache-avro chooses it, in one step (`branch_for`). Kite writes datums itself: apache-avro
/// tried every branch of a union on a copy of the whole value below it, so a value nested n
/// unions deep cost 2^n.
/// A datum that [`decode_to_json`] would refuse is refused here, so nothing is stored that cannot
/// be read.
pub fn encode_json(schema: &Schema, text: &str) -> Result<Vec<u8>, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    write_datum(schema, &json, text)
}

/// Encodes a JSON value as an Avro binary datum of `schema`, as [`encode_json`] encodes its text
/// (what Kite Connect's AvroConverter writes).
pub fn encode_value(schema: &Schema, json: &Json) -> Result<Vec<u8>, String> {
    write_datum(schema, json, &brief(json))
}

/// `json` as a datum of `schema`, read back before it is handed out; errors name it as `shown`.
fn write_datum(schema: &Schema, json: &Json, shown: &str) -> Result<Vec<u8>, String> {
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| format!("unusable schema: {e}"))?;
    let mut writer = DatumWriter { out: Vec::new(), names: resolved.get_names(), values: 0 };
    writer.value(schema, None, json, 0).map_err(|e| format!("{shown} does not fit the schema: {e}"))?;
    decode_to_value(schema, &writer.out).map_err(|e| format!("cannot encode {shown}: {e}"))?;
    Ok(writer.out)
}

/// The bytes written so far and how many values they hold.
struct DatumWriter<'n> {
    out: Vec<u8>,
    names: &'n NamesRef<'n>,
    values: usize,
}

impl DatumWriter<'_> {
    /// Writes `json` as a value of `schema`; the types that nest here, scalars in [`Self::scalar`].
    fn value(
        &mut self,
        schema: &Schema,
        namespace: NamespaceRef,
        json: &Json,
        depth: usize,
    ) -> Result<(), String> {
        self.values += 1;
        if self.values > MAX_AVRO_DATUM_VALUES {
            return Err(too_many_values());
        }
        match (schema, json) {
            (Schema::Array(array), Json::Array(items)) => {
                let depth = deeper(depth)?;
                self.block_count(items.len());
                for item in items {
                    self.value(&array.items, namespace, item, depth)?;
                }
                self.long(0);
            }
            (Schema::Map(map), Json::Object(entries)) => {
                let depth = deeper(depth)?;
                self.block_count(entries.len());
                for (key, item) in entries {
                    self.bytes(key.as_bytes());
                    self.value(&map.types, namespace, item, depth)?;
                }
                self.long(0);
            }
            (Schema::Union(union), _) => {
                let depth = deeper(depth)?;
                let (index, branch) =
                    self.branch_for(union.variants(), namespace, json).ok_or_else(|| {
                        format!(
                            "no branch of the union {} fits {}",
                            type_names(union.variants()),
                            brief(json)
                        )
                    })?;
                self.long(index as i64);
                self.value(branch, namespace, json, depth)?;
            }
            (Schema::Record(record), Json::Object(given)) => {
                let depth = deeper(depth)?;
                let name = record.name.fully_qualified_name(namespace);
                for field in &record.fields {
                    let value = given.get(&field.name).or(field.default.as_ref()).ok_or_else(|| {
                        format!("field {:?} of {} is missing and has no default", field.name, record.name)
                    })?;
                    // A union field's default is a value of its first branch (the Avro spec).
                    match (&field.schema, given.contains_key(&field.name)) {
                        (Schema::Union(union), false) => {
                            let depth = deeper(depth)?;
                            let first = union.variants().first().ok_or("an empty union")?;
                            self.long(0);
                            self.value(first, name.namespace(), value, depth)?;
                        }
                        _ => self.value(&field.schema, name.namespace(), value, depth)?,
                    }
                }
            }
            (Schema::Ref { name }, _) => {
                let name = name.fully_qualified_name(namespace);
                let named = self.names.get(&name).ok_or_else(|| format!("unknown type {name}"))?;
                self.value(named, name.namespace(), json, depth)?;
            }
            (scalar, json) => self.scalar(scalar, json)?,
        }
        Ok(())
    }

    #[inline(never)]
    fn scalar(&mut self, schema: &Schema, json: &Json) -> Result<(), String> {
        let wrong = || format!("{} is not {}", brief(json), type_name(schema));
        match (schema, json) {
            (Schema::Null, Json::Null) => {}
            (Schema::Boolean, Json::Bool(b)) => self.out.push(u8::from(*b)),
            (Schema::Int | Schema::Date | Schema::TimeMillis, Json::Number(n)) => {
                let int = n.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(wrong)?;
                self.long(i64::from(int));
            }
            (long, Json::Number(n)) if is_long(long) => self.long(n.as_i64().ok_or_else(wrong)?),
            (Schema::Float, _) => {
                let float = float_of(json).ok_or_else(wrong)? as f32;
                self.out.extend_from_slice(&float.to_le_bytes());
            }
            (Schema::Double, _) => {
                self.out.extend_from_slice(&float_of(json).ok_or_else(wrong)?.to_le_bytes())
            }
            (Schema::String, Json::String(text)) => self.bytes(text.as_bytes()),
            (
                Schema::Bytes
                | Schema::BigDecimal
                | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Bytes, .. }),
                _,
            ) => {
                let bytes = bytes_of(json).ok_or_else(wrong)?;
                self.bytes(&bytes);
            }
            (
                Schema::Fixed(fixed)
                | Schema::Duration(fixed)
                | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }),
                _,
            ) => {
                let bytes = bytes_of(json).filter(|b| b.len() == fixed.size).ok_or_else(wrong)?;
                self.out.extend_from_slice(&bytes);
            }
            (Schema::Enum(enumeration), Json::String(symbol)) => {
                let index = symbol_index(enumeration, symbol).ok_or_else(wrong)?;
                self.long(index as i64);
            }
            (Schema::Uuid(kind), Json::String(text)) => {
                let uuid = Uuid::parse_str(text).map_err(|e| format!("{}: {e}", wrong()))?;
                match kind {
                    UuidSchema::String => self.bytes(uuid.as_hyphenated().to_string().as_bytes()),
                    UuidSchema::Bytes => self.bytes(uuid.as_bytes()),
                    UuidSchema::Fixed(_) => self.out.extend_from_slice(uuid.as_bytes()),
                }
            }
            _ => return Err(wrong()),
        }
        Ok(())
    }

    /// The union branch `json` is written as, chosen as apache-avro chooses it, but in one step
    /// (no branch is tried on the whole value below): the branch of `json`'s own type (an integer
    /// that fits 32 bits is an `int`, a larger one a `long`, a fraction a `double`, an object a
    /// `map`), or a named type (record, enum, fixed) that fits, whichever comes first; failing
    /// both, the first branch the value can be promoted to (an integer to a `long` or `double`,
    /// a string to `bytes`, …).
    fn branch_for<'s>(
        &self,
        branches: &'s [Schema],
        namespace: NamespaceRef,
        json: &Json,
    ) -> Option<(usize, &'s Schema)> {
        let own = branches.iter().position(|branch| own_type(branch, json));
        let named = branches.iter().position(|branch| {
            let named =
                matches!(branch, Schema::Record(_) | Schema::Enum(_) | Schema::Fixed(_) | Schema::Ref { .. });
            named && self.fits(branch, namespace, json)
        });
        let chosen = match (own, named) {
            (Some(own), Some(named)) => Some(own.min(named)),
            (own, named) => own.or(named),
        };
        chosen
            .or_else(|| branches.iter().position(|branch| self.fits(branch, namespace, json)))
            .map(|index| (index, &branches[index]))
    }

    /// Whether `json` fits `schema` at its top level: what picks a union's branch, in one step
    /// (a record fits an object holding every field that has no default).
    fn fits(&self, schema: &Schema, namespace: NamespaceRef, json: &Json) -> bool {
        match (schema, json) {
            (Schema::Ref { name }, _) => {
                let name = name.fully_qualified_name(namespace);
                match self.names.get(&name) {
                    Some(named) if !matches!(named, Schema::Ref { .. }) => {
                        self.fits(named, name.namespace(), json)
                    }
                    _ => false,
                }
            }
            (Schema::Record(record), Json::Object(given)) => {
                record.fields.iter().all(|field| field.default.is_some() || given.contains_key(&field.name))
            }
            (Schema::Array(_), Json::Array(_)) | (Schema::Map(_), Json::Object(_)) => true,
            (Schema::Union(_), _) => false,
            (Schema::Null, Json::Null)
            | (Schema::Boolean, Json::Bool(_))
            | (Schema::String, Json::String(_)) => true,
            (Schema::Int | Schema::Date | Schema::TimeMillis, Json::Number(n)) => {
                n.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
            }
            (long, Json::Number(n)) if is_long(long) => n.as_i64().is_some(),
            (Schema::Float | Schema::Double, _) => float_of(json).is_some(),
            (Schema::Enum(enumeration), Json::String(symbol)) => symbol_index(enumeration, symbol).is_some(),
            (Schema::Uuid(_), Json::String(text)) => Uuid::parse_str(text).is_ok(),
            (
                Schema::Fixed(fixed)
                | Schema::Duration(fixed)
                | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }),
                _,
            ) => bytes_of(json).is_some_and(|b| b.len() == fixed.size),
            (Schema::Bytes | Schema::BigDecimal | Schema::Decimal(_), _) => bytes_of(json).is_some(),
            _ => false,
        }
    }

    /// The count of the one block an array or map is written in: none when it is empty, since a
    /// count of 0 is the closing block.
    fn block_count(&mut self, count: usize) {
        if count > 0 {
            self.long(count as i64);
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.long(bytes.len() as i64);
        self.out.extend_from_slice(bytes);
    }

    /// A zigzag varint.
    fn long(&mut self, value: i64) {
        let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
        while zigzag >= 0x80 {
            self.out.push((zigzag as u8 & 0x7f) | 0x80);
            zigzag >>= 7;
        }
        self.out.push(zigzag as u8);
    }
}

/// Whether `schema` is written as an Avro `long`: the type itself and the logical types on it.
fn is_long(schema: &Schema) -> bool {
    matches!(
        schema,
        Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos
    )
}

/// Whether `schema` is the type JSON's own reading of `json` has, as apache-avro's
/// `Value::from(json)` reads it: null, boolean, an `int` for an integer of 32 bits and a `long`
/// for a larger one, a `double` for a fraction, a string, an array, a map for an object.
fn own_type(schema: &Schema, json: &Json) -> bool {
    match (schema, json) {
        (Schema::Null, Json::Null)
        | (Schema::Boolean, Json::Bool(_))
        | (Schema::String, Json::String(_))
        | (Schema::Array(_), Json::Array(_))
        | (Schema::Map(_), Json::Object(_)) => true,
        (Schema::Int, Json::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        (Schema::Long, Json::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_err()),
        (Schema::Double, Json::Number(n)) => !n.is_i64() && !n.is_u64(),
        _ => false,
    }
}

/// A number, or one of the texts apache-avro reads as the floats JSON cannot write.
fn float_of(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::String(text) => match text.as_str() {
            "NaN" => Some(f64::NAN),
            "INF" | "Infinity" => Some(f64::INFINITY),
            "-INF" | "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Bytes given as a string (its UTF-8) or as an array of numbers 0–255, as apache-avro takes them.
fn bytes_of(json: &Json) -> Option<Vec<u8>> {
    match json {
        Json::String(text) => Some(text.as_bytes().to_vec()),
        Json::Array(items) => {
            items.iter().map(|item| item.as_u64().and_then(|b| u8::try_from(b).ok())).collect()
        }
        _ => None,
    }
}

/// A symbol's index, or the enum's default's when the symbol is unknown (Avro 1.9's enum default).
fn symbol_index(enumeration: &apache_avro::schema::EnumSchema, symbol: &str) -> Option<usize> {
    let position = |s: &str| enumeration.symbols.iter().position(|known| known == s);
    position(symbol).or_else(|| enumeration.default.as_deref().and_then(position))
}

fn type_name(schema: &Schema) -> String {
    match schema {
        Schema::Record(record) => record.name.to_string(),
        Schema::Enum(enumeration) => enumeration.name.to_string(),
        Schema::Fixed(fixed) => format!("{} (fixed {})", fixed.name, fixed.size),
        Schema::Ref { name } => name.to_string(),
        other => format!("{:?}", apache_avro::schema::SchemaKind::from(other)).to_lowercase(),
    }
}

fn type_names(branches: &[Schema]) -> String {
    format!("[{}]", branches.iter().map(type_name).collect::<Vec<_>>().join(", "))
}

/// A value as an error names it: its JSON, cut short.
fn brief(json: &Json) -> String {
    const BRIEF_CHARS: usize = 40;
    crate::serializer::cut(&json.to_string(), BRIEF_CHARS)
}

/// Decodes an Avro binary datum of `schema` into compact JSON text. The whole datum must be used.
/// The JSON form is apache-avro's (`serde_json::Value::try_from(avro Value)`): a union shows its
/// branch's value, an enum its symbol, bytes and fixed as arrays of numbers, a uuid as text.
pub fn decode_to_json(schema: &Schema, datum: &[u8]) -> Result<String, String> {
    decode_to_value(schema, datum).map(|json| json.to_string())
}

/// Reads `datum` into its JSON form, refusing it when it nests deeper than
/// [`MAX_AVRO_DATUM_DEPTH_LEVELS`], holds more than [`MAX_AVRO_DATUM_VALUES`] values, ends early
/// or leaves bytes over. Kite reads datums itself rather than with apache-avro's reader: that one
/// recurses without a limit, in frames of ~33 KB in a debug build, and a 50 KB datum of a
/// recursive schema crashed every process that read it (a fetch, a live tail, the browser).
pub fn decode_to_value(schema: &Schema, datum: &[u8]) -> Result<Json, String> {
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| format!("unusable schema: {e}"))?;
    let mut reader = DatumReader { rest: datum, names: resolved.get_names(), values: 0 };
    let json = reader.value(schema, None, 0).map_err(|e| format!("bad Avro datum: {e}"))?;
    if !reader.rest.is_empty() {
        return Err(format!("{} bytes follow the Avro datum", reader.rest.len()));
    }
    Ok(json)
}

/// The bytes not yet read and how many values they held so far.
struct DatumReader<'d, 'n> {
    rest: &'d [u8],
    names: &'n NamesRef<'n>,
    values: usize,
}

impl DatumReader<'_, '_> {
    /// One value of `schema`. Only the types that nest are read here; the frame this function
    /// recurses in stays small (a few hundred bytes even unoptimised) because scalars are read in
    /// [`Self::scalar`].
    fn value(&mut self, schema: &Schema, namespace: NamespaceRef, depth: usize) -> Result<Json, String> {
        self.values += 1;
        if self.values > MAX_AVRO_DATUM_VALUES {
            return Err(too_many_values());
        }
        Ok(match schema {
            Schema::Array(array) => {
                let depth = deeper(depth)?;
                let mut items = Vec::new();
                self.blocks(|reader| {
                    items.push(reader.value(&array.items, namespace, depth)?);
                    Ok(())
                })?;
                Json::Array(items)
            }
            Schema::Map(map) => {
                let depth = deeper(depth)?;
                let mut entries = serde_json::Map::new();
                self.blocks(|reader| {
                    let key = reader.string()?;
                    entries.insert(key, reader.value(&map.types, namespace, depth)?);
                    Ok(())
                })?;
                Json::Object(entries)
            }
            Schema::Union(union) => {
                let depth = deeper(depth)?;
                let index = self.long()?;
                let variant = usize::try_from(index)
                    .ok()
                    .and_then(|i| union.variants().get(i))
                    .ok_or_else(|| no_such_branch(index, union.variants().len()))?;
                self.value(variant, namespace, depth)?
            }
            Schema::Record(record) => {
                let depth = deeper(depth)?;
                let name = record.name.fully_qualified_name(namespace);
                let mut fields = serde_json::Map::new();
                for field in &record.fields {
                    fields.insert(field.name.clone(), self.value(&field.schema, name.namespace(), depth)?);
                }
                Json::Object(fields)
            }
            // A name resolves to a record, enum or fixed, never to another name: the record counts.
            Schema::Ref { name } => {
                let name = name.fully_qualified_name(namespace);
                let named = self.names.get(&name).ok_or_else(|| format!("unknown type {name}"))?;
                self.value(named, name.namespace(), depth)?
            }
            scalar => self.scalar(scalar)?,
        })
    }

    #[inline(never)]
    fn scalar(&mut self, schema: &Schema) -> Result<Json, String> {
        Ok(match schema {
            Schema::Null => Json::Null,
            Schema::Boolean => match self.take(1)? {
                [0] => Json::Bool(false),
                [1] => Json::Bool(true),
                other => return Err(format!("boolean byte {:#04x}", other[0])),
            },
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                let long = self.long()?;
                i32::try_from(long).map_err(|_| format!("int {long} out of range"))?.into()
            }
            long if is_long(long) => self.long()?.into(),
            Schema::Float => {
                let float = f32::from_le_bytes(self.array()?);
                number(f64::from(float))?
            }
            Schema::Double => number(f64::from_le_bytes(self.array()?))?,
            Schema::String => Json::String(self.string()?),
            // A decimal's or big decimal's bytes are its two's-complement digits, shown as they are.
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Bytes, .. }) => {
                let length = self.length()?;
                byte_array(self.take(length)?)
            }
            Schema::Fixed(fixed)
            | Schema::Duration(fixed)
            | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }) => {
                byte_array(self.take(fixed.size)?)
            }
            Schema::Uuid(UuidSchema::String) => {
                let text = self.string()?;
                uuid_text(Uuid::parse_str(&text).map_err(|e| format!("uuid {text:?}: {e}"))?)
            }
            Schema::Uuid(UuidSchema::Bytes) => {
                let length = self.length()?;
                uuid_text(Uuid::from_slice(self.take(length)?).map_err(|e| format!("uuid: {e}"))?)
            }
            Schema::Uuid(UuidSchema::Fixed(fixed)) => {
                uuid_text(Uuid::from_slice(self.take(fixed.size)?).map_err(|e| format!("uuid: {e}"))?)
            }
            Schema::Enum(enumeration) => {
                let index = self.long()?;
                let symbol = usize::try_from(index).ok().and_then(|i| enumeration.symbols.get(i));
                Json::String(
                    symbol
                        .ok_or_else(|| format!("enum symbol {index} of {}", enumeration.symbols.len()))?
                        .clone(),
                )
            }
            _ => return Err("a nested type read as a scalar".to_string()),
        })
    }

    /// An array's or map's blocks: a count (negative: followed by the block's size in bytes), its
    /// items, until a count of 0.
    fn blocks(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), String>) -> Result<(), String> {
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                self.long()?;
            }
            for _ in 0..count.unsigned_abs() {
                item(self)?;
            }
        }
    }

    /// A zigzag varint of at most 10 bytes, as Avro writes `int` and `long`.
    fn long(&mut self) -> Result<i64, String> {
        let mut unsigned: u64 = 0;
        for (i, &byte) in self.rest.iter().enumerate().take(MAX_VARINT_BYTES) {
            unsigned |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[i + 1..];
                return Ok((unsigned >> 1) as i64 ^ -((unsigned & 1) as i64));
            }
        }
        Err(if self.rest.len() < MAX_VARINT_BYTES {
            "the datum ends inside a number".to_string()
        } else {
            format!("a number longer than {MAX_VARINT_BYTES} bytes")
        })
    }

    fn length(&mut self) -> Result<usize, String> {
        let length = self.long()?;
        usize::try_from(length).map_err(|_| format!("negative length {length}"))
    }

    fn string(&mut self) -> Result<String, String> {
        let length = self.length()?;
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("string is not UTF-8: {e}"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let bytes = self.take(N)?;
        Ok(bytes.try_into().unwrap_or([0; N]))
    }

    fn take(&mut self, bytes: usize) -> Result<&[u8], String> {
        if bytes > self.rest.len() {
            return Err(format!("the datum ends early: {bytes} bytes wanted, {} left", self.rest.len()));
        }
        let (taken, rest) = self.rest.split_at(bytes);
        self.rest = rest;
        Ok(taken)
    }
}

/// The longest varint Avro writes: 64 bits, 7 a byte.
const MAX_VARINT_BYTES: usize = 10;

fn deeper(depth: usize) -> Result<usize, String> {
    if depth >= MAX_AVRO_DATUM_DEPTH_LEVELS {
        return Err(too_deep());
    }
    Ok(depth + 1)
}

#[cold]
fn too_deep() -> String {
    format!("nested deeper than {MAX_AVRO_DATUM_DEPTH_LEVELS} levels (Kite's MAX_AVRO_DATUM_DEPTH_LEVELS)")
}

#[cold]
fn too_many_values() -> String {
    format!("more than {MAX_AVRO_DATUM_VALUES} values (Kite's MAX_AVRO_DATUM_VALUES)")
}

#[cold]
fn no_such_branch(index: i64, of: usize) -> String {
    format!("union branch {index} of {of}")
}

fn number(float: f64) -> Result<Json, String> {
    serde_json::Number::from_f64(float)
        .map(Json::Number)
        .ok_or_else(|| format!("datum has no JSON form: {float}"))
}

fn byte_array(bytes: &[u8]) -> Json {
    Json::Array(bytes.iter().map(|&b| Json::from(b)).collect())
}

fn uuid_text(uuid: Uuid) -> Json {
    Json::String(uuid.as_hyphenated().to_string())
}
