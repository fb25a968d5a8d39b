//! Internally tagged enums (`{"type": "produce", ...}`) read straight from the text when the tag
//! comes first, and written exactly as serde writes them.
//!
//! serde's own `#[serde(tag = "...")]` reads the whole object into a private buffer before it
//! looks at the tag, because JSON may put the tag anywhere. For the API's messages that cost twice:
//! a 4,000-record `produce_batch` was parsed once into the buffer and once out of it (1.35 ms
//! against 0.70 ms read straight, natively), and every type inside a message had its reading code
//! built twice into the browser bundle, once per way of reading.
//!
//! Kite writes the tag first, and so do clients that build their messages in the obvious order.
//! An enum that opts in derives serde's *externally* tagged code with `#[serde(remote = "Self")]`
//! (derived functions, no trait impls) and gets its trait impls from [`tag_first!`](crate::tag_first!):
//! - reading takes the first key; when it is the tag, its value names the variant and the rest of
//!   the object is that variant's fields, read by the derived code as they stream past;
//! - when the tag is not first, the read fails with [`TAG_NOT_FIRST`], and [`from_json`] moves the
//!   tags to the front of every object and reads once more, so any order is still accepted;
//! - writing turns serde's externally tagged calls into an object with the tag first.
//!
//! A type that is one of several such enums on the wire (the API's `Request`: the engine's,
//! the session's or the tab's command) implements [`OneOf`]: [`read_one_of`] reads the tag once
//! and hands the variant's name to the derived reader of the enum that has it ([`Named`]).
//!
//! One thing to know: `remote = "Self"` makes the derived functions inherent, so `Command::deserialize(d)`
//! (a path call) is the externally tagged read. Go through the traits (`serde_json::from_str`,
//! `<Command as Deserialize>::deserialize`) or [`from_json`].

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, Serialize, SerializeStruct, SerializeStructVariant, Serializer};
use std::fmt;

/// For [`tag_first!`]'s expansion in other crates.
#[doc(hidden)]
pub use serde;

/// The tag names in use: `type` for the API's messages and the metadata log, `kind` for the
/// nested ones, `given` for a shared state's history.
pub const TAG_NAMES: [&str; 3] = ["type", "kind", "given"];

/// The start of the error a read gives when an object's tag is not its first key.
pub const TAG_NOT_FIRST: &str = "the tag must be the object's first key";

/// Implements `Serialize` and `Deserialize` for an enum that derives both with
/// `#[serde(remote = "Self", ...)]`, as an internally tagged enum with tag `$tag`. (Deriving only
/// one would make the other impl call itself: rustc warns "cannot return without recursing".)
#[macro_export]
macro_rules! tag_first {
    ($ty:ty, $tag:literal) => {
        impl $crate::tagged::serde::Serialize for $ty {
            fn serialize<S: $crate::tagged::serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                // The inherent (derived, externally tagged) function, not this trait method.
                <$ty>::serialize(self, $crate::tagged::TagWriter::new($tag, serializer))
            }
        }
        impl<'de> $crate::tagged::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::tagged::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                <$ty>::deserialize($crate::tagged::TagFirst::new($tag, deserializer))
            }
        }
    };
}

/// Reads `T` from JSON text, accepting the tags of tagged enums anywhere in their objects: a text
/// whose tags are not first is reordered (through `serde_json::Value`) and read again.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Err(first) if first.to_string().starts_with(TAG_NOT_FIRST) => {
            let mut value: serde_json::Value = serde_json::from_str(text)?;
            tags_first(&mut value);
            serde_json::from_str(&value.to_string())
        }
        read => read,
    }
}

/// Moves the tag keys to the front of every object in `value`. Harmless for untagged objects:
/// structs and maps do not depend on their keys' order.
fn tags_first(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let mut ordered = serde_json::Map::new();
            for tag in TAG_NAMES {
                if let Some(v) = map.shift_remove(tag) {
                    ordered.insert(tag.to_string(), v);
                }
            }
            ordered.extend(std::mem::take(map));
            *map = ordered;
            map.values_mut().for_each(tags_first);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(tags_first),
        _ => {}
    }
}

/// The deserializer the derived, externally tagged code is given: its `deserialize_enum` reads an
/// object whose first key is the tag.
pub struct TagFirst<D> {
    tag: &'static str,
    inner: D,
}

impl<D> TagFirst<D> {
    /// Reads through `inner`, taking the variant's name from the key `tag`.
    pub fn new(tag: &'static str, inner: D) -> Self {
        TagFirst { tag, inner }
    }
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for TagFirst<D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(ObjectVisitor { tag: self.tag, visitor })
    }

    /// The derived enum code asks only for an enum; anything else is passed through.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Reads the object: its first key must be the tag.
struct ObjectVisitor<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with a \"{}\" field naming its variant", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        match map.next_key_seed(KeyIs(self.tag))? {
            Some(true) => self.visitor.visit_enum(Variant { map }),
            Some(false) => Err(tag_not_first(self.tag, map)),
            None => Err(de::Error::missing_field(self.tag)),
        }
    }
}

/// The error for an object whose first key is not the tag: whether the tag comes later
/// (`from_json` reorders and reads again) or not at all.
fn tag_not_first<'de, A: MapAccess<'de>>(tag: &'static str, mut map: A) -> A::Error {
    let mut skip = || -> Result<A::Error, A::Error> {
        let _ = map.next_value::<IgnoredAny>()?;
        while let Some(is_tag) = map.next_key_seed(KeyIs(tag))? {
            if is_tag {
                return Ok(de::Error::custom(format_args!("{TAG_NOT_FIRST}: \"{tag}\"")));
            }
            let _ = map.next_value::<IgnoredAny>()?;
        }
        Ok(de::Error::missing_field(tag))
    };
    skip().unwrap_or_else(|error| error)
}

/// A type read as one of several tagged enums, by its tag's value: the API's requests are the
/// engine's commands or the host's, one object on the wire (`{"type": "tail", ...}`) either way.
pub trait OneOf<'de>: Sized {
    /// Reads the variant `name`, whose fields are the rest of `named`'s object: give `named` to
    /// the derived (inherent) `deserialize` of the enum whose variant that is.
    fn read<A: MapAccess<'de>>(name: &str, named: Named<'_, A>) -> Result<Self, A::Error>;
}

/// `T`'s `Deserialize`: reads the tag (which must come first), then lets `T` choose the enum.
pub fn read_one_of<'de, T: OneOf<'de>, D: de::Deserializer<'de>>(
    tag: &'static str,
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(OneOfVisitor { tag, chosen: std::marker::PhantomData })
}

struct OneOfVisitor<T> {
    tag: &'static str,
    chosen: std::marker::PhantomData<T>,
}

impl<'de, T: OneOf<'de>> Visitor<'de> for OneOfVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with a \"{}\" field naming what it is", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key_seed(KeyIs(self.tag))? {
            Some(true) => {
                let name: String = map.next_value()?;
                T::read(&name, Named { name: &name, map })
            }
            Some(false) => Err(tag_not_first(self.tag, map)),
            None => Err(de::Error::missing_field(self.tag)),
        }
    }
}

/// An object whose tag was read: what a derived enum's `deserialize` reads its variant from,
/// the variant named by `name` and its fields the entries still unread. The fields are read from
/// the same `MapAccess` as when the enum is read alone, so no reading code is built twice.
pub struct Named<'n, A> {
    name: &'n str,
    map: A,
}

impl<'de, A: MapAccess<'de>> de::Deserializer<'de> for Named<'_, A> {
    type Error = A::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Named<'_, A> {
    type Error = A::Error;
    type Variant = Variant<A>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Variant<A>), A::Error> {
        let variant = seed.deserialize(de::value::StrDeserializer::<A::Error>::new(self.name))?;
        Ok((variant, Variant { map: self.map }))
    }
}

/// The variant names of an enum deriving `Deserialize` with `#[serde(remote = "Self")]`, given
/// its derived (inherent) `deserialize` for [`VariantNames`]: `variant_names(Command::deserialize)`.
pub fn variant_names<T>(read: fn(VariantNames) -> Result<T, NamesFound>) -> &'static [&'static str] {
    match read(VariantNames) {
        Err(NamesFound(names)) => names,
        Ok(_) => &[],
    }
}

/// A deserializer that reads nothing: it answers an enum's read with the enum's variant names.
pub struct VariantNames;

/// [`VariantNames`]' answer (and its error for anything but an enum: no names).
#[derive(Debug)]
pub struct NamesFound(&'static [&'static str]);

impl fmt::Display for NamesFound {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "variants {:?}", self.0)
    }
}

impl std::error::Error for NamesFound {}

impl de::Error for NamesFound {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NamesFound(&[])
    }
}

impl<'de> de::Deserializer<'de> for VariantNames {
    type Error = NamesFound;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, NamesFound> {
        Err(NamesFound(variants))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, NamesFound> {
        Err(NamesFound(&[]))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Whether a key is the tag, without copying it.
struct KeyIs(&'static str);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeyIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The object after its tag: the tag's value names the variant, the entries after it are the
/// variant's fields.
pub struct Variant<A> {
    map: A,
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(mut self, seed: S) -> Result<(S::Value, Self), A::Error> {
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    /// serde's internally tagged unit variants ignore other keys; so do these.
    fn unit_variant(mut self) -> Result<(), A::Error> {
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// A newtype variant's struct has its fields beside the tag.
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.map))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

/// The `Serializer` methods for what a tagged writer cannot write (anything but a variant, or
/// a newtype variant's struct), each answering `Err($refusal())`.
macro_rules! refuse {
    ($refusal:ident) => {
        refuse!(@scalars $refusal: serialize_bool bool, serialize_i8 i8, serialize_i16 i16,
            serialize_i32 i32, serialize_i64 i64, serialize_u8 u8, serialize_u16 u16, serialize_u32 u32,
            serialize_u64 u64, serialize_f32 f32, serialize_f64 f64, serialize_char char);
        fn serialize_str(self, _: &str) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_none(self) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_unit(self) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<S::Ok, S::Error> {
            Err($refusal())
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
            Err($refusal())
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, S::Error> {
            Err($refusal())
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, S::Error> {
            Err($refusal())
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, S::Error> {
            Err($refusal())
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
            Err($refusal())
        }
    };
    (@scalars $refusal:ident: $($method:ident $ty:ty),*) => {
        $(fn $method(self, _: $ty) -> Result<S::Ok, S::Error> {
            Err($refusal())
        })*
    };
}

/// The serializer the derived, externally tagged code is given: a variant becomes an object whose
/// first key is the tag, as serde's `#[serde(tag = "...")]` writes it.
pub struct TagWriter<S> {
    tag: &'static str,
    inner: S,
}

impl<S> TagWriter<S> {
    /// Writes through `inner`, putting the variant's name first under the key `tag`.
    pub fn new(tag: &'static str, inner: S) -> Self {
        TagWriter { tag, inner }
    }
}

fn not_variant<E: ser::Error>() -> E {
    E::custom("only enum variants can be written with a tag")
}

impl<S: Serializer> Serializer for TagWriter<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Fields<S::SerializeStruct>;

    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        let mut object = self.inner.serialize_struct(name, 1)?;
        object.serialize_field(self.tag, variant)?;
        object.end()
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Fields<S::SerializeStruct>, S::Error> {
        let mut object = self.inner.serialize_struct(name, len + 1)?;
        object.serialize_field(self.tag, variant)?;
        Ok(Fields(object))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(Inlined { tag: self.tag, variant, inner: self.inner })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, S::Error> {
        Err(not_variant())
    }
    refuse!(not_variant);
}

/// A struct variant's fields, after the tag.
pub struct Fields<T>(T);

impl<T: SerializeStruct> SerializeStructVariant for Fields<T> {
    type Ok = T::Ok;
    type Error = T::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), T::Error> {
        self.0.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), T::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<T::Ok, T::Error> {
        self.0.end()
    }
}

/// A newtype variant's value: a struct whose fields go beside the tag.
struct Inlined<S> {
    tag: &'static str,
    variant: &'static str,
    inner: S,
}

impl<S: Serializer> Serializer for Inlined<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = S::SerializeStruct;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<S::SerializeStruct, S::Error> {
        let mut object = self.inner.serialize_struct(name, len + 1)?;
        object.serialize_field(self.tag, self.variant)?;
        Ok(object)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<S::Ok, S::Error> {
        Err(not_struct())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_struct())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_struct())
    }
    refuse!(not_struct);
}

fn not_struct<E: ser::Error>() -> E {
    E::custom("a tagged newtype variant must hold a struct, whose fields go beside the tag")
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Inner {
        code: i32,
        #[serde(default)]
        note: Option<String>,
    }

    /// serde's own internally tagged enum: the reference.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    enum Reference {
        Ping,
        Move {
            to: i64,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            via: Vec<String>,
            #[serde(skip)]
            payload: Vec<u8>,
        },
        Failed(Inner),
    }

    /// The same enum, read and written through `tag_first!`.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
    enum Fast {
        Ping,
        Move {
            to: i64,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            via: Vec<String>,
            #[serde(skip)]
            payload: Vec<u8>,
        },
        Failed(Inner),
    }
    crate::tag_first!(Fast, "type");

    fn same(fast: &Fast) -> Reference {
        match fast {
            Fast::Ping => Reference::Ping,
            Fast::Move { to, via, payload } => {
                Reference::Move { to: *to, via: via.clone(), payload: payload.clone() }
            }
            Fast::Failed(inner) => Reference::Failed(Inner { code: inner.code, note: inner.note.clone() }),
        }
    }

    #[test]
    fn writes_what_serde_writes() {
        let values = [
            Fast::Ping,
            Fast::Move { to: 3, via: vec![], payload: vec![1] },
            Fast::Move { to: -1, via: vec!["a".into()], payload: vec![] },
            Fast::Failed(Inner { code: 7, note: Some("n".into()) }),
        ];
        for value in &values {
            let written = serde_json::to_string(value).unwrap();
            assert_eq!(written, serde_json::to_string(&same(value)).unwrap());
            assert!(written.starts_with(r#"{"type":"#), "{written}");
        }
    }

    /// Every text is read by both; each must accept it (as the same value) or refuse it, and a
    /// refusal must name the same problem.
    #[test]
    fn reads_what_serde_reads_in_any_order() {
        let cases = [
            (r#"{"type":"ping"}"#, Ok(())),
            (r#"{"type":"ping","extra":[1,{"a":2}]}"#, Ok(())),
            (r#"{"type":"move","to":4,"via":["x"]}"#, Ok(())),
            (r#"{"to":4,"type":"move"}"#, Ok(())),
            (r#"{"via":[],"to":4,"type":"move"}"#, Ok(())),
            (r#"{"type":"failed","code":1,"note":null}"#, Ok(())),
            (r#"{"code":1,"type":"failed"}"#, Ok(())),
            (r#"{"type":"move"}"#, Err("missing field `to`")),
            (r#"{"type":"move","to":1,"x":2}"#, Err("unknown field `x`")),
            (r#"{"type":"jump"}"#, Err("unknown variant `jump`")),
            (r#"{"to":1}"#, Err("missing field `type`")),
            (r#"{}"#, Err("missing field `type`")),
            (r#"{"type":"move","to":"far"}"#, Err("invalid type: string \"far\"")),
            (r#""ping""#, Err("invalid type: string \"ping\"")),
            (r#"{"type":"move","to":1"#, Err("EOF while parsing")),
        ];
        for (text, expected) in cases {
            let reference = serde_json::from_str::<Reference>(text);
            let fast = super::from_json::<Fast>(text);
            match (expected, &reference, &fast) {
                (Ok(()), Ok(r), Ok(f)) => assert_eq!(&same(f), r, "{text}"),
                (Err(problem), Err(r), Err(f)) => {
                    assert!(r.to_string().contains(problem), "serde on {text}: {r}");
                    assert!(f.to_string().contains(problem), "tag_first on {text}: {f}");
                }
                _ => panic!("{text}: expected {expected:?}, serde read {reference:?}, tag_first {fast:?}"),
            }
        }
    }

    /// What is not a variant, or a newtype variant holding no struct, is refused, not written
    /// without its tag.
    #[test]
    fn only_variants_are_written_with_a_tag() {
        let mut out = Vec::new();
        let refused =
            5i32.serialize(super::TagWriter::new("type", &mut serde_json::Serializer::new(&mut out)));
        assert!(refused.unwrap_err().to_string().contains("only enum variants"));
        #[derive(Serialize, Deserialize)]
        #[serde(remote = "Self")]
        enum Odd {
            Number(i32),
        }
        crate::tag_first!(Odd, "type");
        let refused = serde_json::to_string(&Odd::Number(1)).unwrap_err().to_string();
        assert!(refused.contains("must hold a struct"), "{refused}");
    }

    /// A nested tagged object out of order is put right too, and a read that is not through
    /// `from_json` says what it needs.
    #[test]
    fn tags_later_are_reordered_at_every_depth() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Envelope {
            id: u32,
            body: Vec<Fast>,
        }
        let text = r#"{"body":[{"to":2,"type":"move"},{"type":"ping"}],"id":9}"#;
        let read: Envelope = super::from_json(text).unwrap();
        assert_eq!(read.body, vec![Fast::Move { to: 2, via: vec![], payload: vec![] }, Fast::Ping]);
        let direct = serde_json::from_str::<Envelope>(text).unwrap_err().to_string();
        assert!(direct.starts_with(super::TAG_NOT_FIRST), "{direct}");
    }
}
