//! Serializers against the bytes Kafka's Java classes write (kafka-reference.md §4), deserializers
//! against the bytes they refuse, and the schema registry's framing and BACKWARD rule.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::schema_registry::{RegistryError, SchemaRegistry, decode_framed, encode_framed};
use kite_shared::serializer::{SerializerKind, canonical_uuid, deserialize, serialize};

fn ser(kind: SerializerKind, text: &str) -> Vec<u8> {
    serialize(kind, Some(text), &SchemaRegistry::new(), "t-value").unwrap().unwrap()
}

fn de(kind: SerializerKind, bytes: &[u8]) -> Result<Option<String>, String> {
    deserialize(kind, Some(bytes), &SchemaRegistry::new()).map_err(|e| e.0)
}

#[test]
fn golden_bytes() {
    use SerializerKind::*;
    let cases: &[(SerializerKind, &str, &[u8])] = &[
        (String, "héllo", "héllo".as_bytes()),
        (ByteArray, "00 ff 10", &[0x00, 0xff, 0x10]),
        (Short, "-2", &[0xff, 0xfe]),
        (Integer, "42", &[0, 0, 0, 42]),
        (Integer, "-1", &[0xff, 0xff, 0xff, 0xff]),
        (Integer, "2147483647", &[0x7f, 0xff, 0xff, 0xff]),
        (Long, "1700000000000", &[0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]),
        (Float, "1.5", &[0x3f, 0xc0, 0, 0]),
        (Double, "-0.1", &[0xbf, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]),
        (Boolean, "true", &[1]),
        (Boolean, "false", &[0]),
        (Uuid, "123E4567-E89B-12D3-A456-426614174000", b"123e4567-e89b-12d3-a456-426614174000"),
        (Json, "{ \"a\" : [1, 2] }", b"{\"a\":[1,2]}"),
    ];
    for &(kind, text, bytes) in cases {
        assert_eq!(ser(kind, text), bytes, "{} of {text:?}", kind.serializer_name());
        let back = de(kind, bytes).unwrap().unwrap();
        assert_eq!(ser(kind, &back), bytes, "{} reads back what it wrote", kind.deserializer_name());
    }
    assert_eq!(serialize(Void, Some("anything"), &SchemaRegistry::new(), "s").unwrap(), None);
    for kind in SerializerKind::ALL {
        assert_eq!(serialize(kind, None, &SchemaRegistry::new(), "s").unwrap(), None, "null stays null");
        assert_eq!(deserialize(kind, None, &SchemaRegistry::new()).unwrap(), None);
    }
}

#[test]
fn wrong_bytes_are_named() {
    use SerializerKind::*;
    assert_eq!(de(Integer, &[0, 0, 1]).unwrap_err(), "Size of data received by IntegerDeserializer is not 4");
    assert_eq!(de(Short, &[0]).unwrap_err(), "Size of data received by ShortDeserializer is not 2");
    assert_eq!(de(Long, &[0; 4]).unwrap_err(), "Size of data received by LongDeserializer is not 8");
    assert_eq!(de(Double, &[0; 4]).unwrap_err(), "Size of data received by DoubleDeserializer is not 8");
    assert_eq!(de(Boolean, &[2]).unwrap_err(), "Unexpected byte received by BooleanDeserializer: 2");
    assert!(de(Uuid, b"not-a-uuid").unwrap_err().contains("UUID"));
    assert!(de(String, &[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    assert!(de(Json, b"{").unwrap_err().contains("not JSON"));
    assert!(de(Avro, &[1, 0, 0, 0, 1, 2]).unwrap_err().contains("Unknown magic byte"));
    assert!(de(Avro, &[0, 0, 0, 0, 9, 2]).unwrap_err().contains("unknown schema id 9"));
    let registry = SchemaRegistry::new();
    let err = serialize(Integer, Some("4.5"), &registry, "s").unwrap_err().0;
    assert!(err.starts_with("IntegerSerializer: cannot read \"4.5\""), "{err}");
    let err = serialize(Avro, Some("{}"), &registry, "orders-value").unwrap_err().0;
    assert!(err.contains("no schema registered under subject \"orders-value\""), "{err}");
}

#[test]
fn class_names() {
    assert_eq!(SerializerKind::from_class_name("IntegerSerializer"), Some(SerializerKind::Integer));
    assert_eq!(SerializerKind::from_class_name("UUIDDeserializer"), Some(SerializerKind::Uuid));
    assert_eq!(
        SerializerKind::from_class_name("org.apache.kafka.common.serialization.LongSerializer"),
        Some(SerializerKind::Long)
    );
    assert_eq!(
        SerializerKind::from_class_name("io.confluent.kafka.serializers.KafkaAvroSerializer"),
        Some(SerializerKind::Avro)
    );
    assert_eq!(SerializerKind::from_class_name("Nope"), None);
    for kind in SerializerKind::ALL {
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.serializer_name()));
    }
    assert_eq!(canonical_uuid("123e4567-e89b-12d3-a456-42661417400"), None);
}

const USER_V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#;
const USER_V2_WITH_DEFAULT: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"},{"name":"email","type":"string","default":""}]}"#;
const USER_V2_NO_DEFAULT: &str = r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"age","type":"int"},{"name":"email","type":"string"}]}"#;

#[test]
fn avro_in_schema_registry_framing() {
    let mut registry = SchemaRegistry::new();
    let v1 = registry.register("users-value", USER_V1).unwrap();
    assert_eq!((v1.id, v1.version), (1, 1));
    let bytes = serialize(SerializerKind::Avro, Some(r#"{"name":"Ann","age":33}"#), &registry, "users-value")
        .unwrap()
        .unwrap();
    // 0x00, id 1, then the datum: string "Ann" (zigzag length 3 = 0x06) and int 33 (zigzag 66 = 0x42).
    assert_eq!(bytes, [0, 0, 0, 0, 1, 0x06, b'A', b'n', b'n', 0x42]);
    assert_eq!(decode_framed(&bytes).unwrap().0, 1);
    let text = deserialize(SerializerKind::Avro, Some(&bytes), &registry).unwrap().unwrap();
    assert_eq!(text, r#"{"name":"Ann","age":33}"#);
    let err =
        serialize(SerializerKind::Avro, Some(r#"{"name":"Ann"}"#), &registry, "users-value").unwrap_err();
    assert!(err.0.contains("does not fit the schema"), "{err}");
}

#[test]
fn registry_versions_ids_and_backward_compatibility() {
    let mut registry = SchemaRegistry::new();
    assert_eq!(registry.register("users-value", USER_V1).unwrap().id, 1);
    // Registering the same schema again is idempotent.
    let again = registry.register("users-value", USER_V1).unwrap();
    assert_eq!((again.id, again.version), (1, 1));
    // A new field with a default: new readers can read old data → BACKWARD compatible.
    let v2 = registry.register("users-value", USER_V2_WITH_DEFAULT).unwrap();
    assert_eq!((v2.id, v2.version), (2, 2));
    assert_eq!(registry.versions("users-value"), &[1, 2]);
    // A new field without a default cannot be filled from old data → refused, nothing changes.
    let mut other = SchemaRegistry::new();
    other.register("users-value", USER_V1).unwrap();
    let err = other.register("users-value", USER_V2_NO_DEFAULT).unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { latest_version: 1, .. }), "{err}");
    assert!(err.to_string().contains("incompatible with an earlier schema"), "{err}");
    assert_eq!(other.versions("users-value"), &[1]);
    // The same schema under another subject keeps its id.
    assert_eq!(
        registry.register("people-value", USER_V1).unwrap(),
        kite_shared::schema_registry::Registered { id: 1, version: 1 }
    );
    assert!(registry.by_id(2).is_some() && registry.by_id(3).is_none() && registry.by_id(0).is_none());
    assert!(matches!(registry.register("x", "{not json"), Err(RegistryError::InvalidSchema(_))));
}

/// Found by `cargo xtask fuzz api_message_decode`: apache-avro 0.21 panicked (an `unwrap` in its
/// name parsing) on a record named "-U". 0.22 returns an error; this keeps it that way.
#[test]
fn an_invalid_schema_name_is_an_error_not_a_panic() {
    let mut registry = SchemaRegistry::new();
    let schema = r#"{"type":"record","name":"-U","fields":[{"name":"a","type":"int"}]}"#;
    assert!(matches!(registry.register("orders-value", schema), Err(RegistryError::InvalidSchema(_))));
}

/// A linked list: each node may hold another, so a datum can nest as deep as its bytes allow.
const NODE: &str = r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;

/// `nodes` nested nodes as Avro bytes in Confluent's framing (schema id 1): each is the union's
/// branch 1 (zigzag 2), the last one's `next` is branch 0, null.
fn framed_list(nodes: usize) -> Vec<u8> {
    let mut datum = vec![0x02; nodes];
    datum.push(0x00);
    encode_framed(1, &datum)
}

fn list_json(nodes: usize) -> String {
    format!("{}null{}", r#"{"next":"#.repeat(nodes + 1), "}".repeat(nodes + 1))
}

/// The persistent remote crash: one stored record of a recursive schema nested 50,000 deep
/// (50 KB) overflowed the stack of whoever read it with KafkaAvroDeserializer, and aborted the
/// process. Each node is two levels (its union and its record), under the top record's one.
#[test]
fn a_deeply_nested_avro_datum_is_refused_not_a_crash() {
    let mut registry = SchemaRegistry::new();
    registry.register("list-value", NODE).unwrap();
    let err = deserialize(SerializerKind::Avro, Some(&framed_list(50_000)), &registry).unwrap_err();
    assert!(err.0.contains("nested deeper than 128 levels"), "{err}");
    // 63 nodes are 127 levels, 64 are 129.
    let deepest = deserialize(SerializerKind::Avro, Some(&framed_list(63)), &registry).unwrap().unwrap();
    assert_eq!(deepest, list_json(63));
    let err = deserialize(SerializerKind::Avro, Some(&framed_list(64)), &registry).unwrap_err();
    assert!(err.0.contains("nested deeper than 128 levels"), "{err}");
    // What would not be read back is not written either.
    let written = serialize(SerializerKind::Avro, Some(&list_json(63)), &registry, "list-value").unwrap();
    assert_eq!(written.unwrap(), framed_list(63));
    let err = serialize(SerializerKind::Avro, Some(&list_json(64)), &registry, "list-value").unwrap_err();
    assert!(err.0.contains("nested deeper than 128 levels"), "{err}");
}

/// The deepest datum Kite accepts decodes within the 1 MiB stack a wasm32 module gets, even
/// unoptimised (~3 KB a level in a debug build; apache-avro's own reader took ~33 KB).
#[test]
fn the_deepest_accepted_avro_datum_decodes_on_a_wasm_sized_stack() {
    const SMALL_STACK_BYTES: usize = 1024 * 1024;
    let decoded = std::thread::Builder::new()
        .stack_size(SMALL_STACK_BYTES)
        .spawn(|| {
            let mut registry = SchemaRegistry::new();
            registry.register("list-value", NODE).unwrap();
            deserialize(SerializerKind::Avro, Some(&framed_list(63)), &registry).unwrap().unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(decoded, list_json(63));
}

/// A record that must hold another of itself has no finite datum; apache-avro recursed forever
/// on it without reading a byte.
#[test]
fn a_record_that_must_contain_itself_is_refused() {
    let mut registry = SchemaRegistry::new();
    let endless = r#"{"type":"record","name":"Loop","fields":[{"name":"again","type":"Loop"}]}"#;
    registry.register("loop-value", endless).unwrap();
    let err = deserialize(SerializerKind::Avro, Some(&encode_framed(1, &[])), &registry).unwrap_err();
    assert!(err.0.contains("nested deeper than 128 levels"), "{err}");
}

/// Values that take no bytes: an array header of five bytes claims a billion nulls, which the
/// decoder would have built one by one.
#[test]
fn an_avro_datum_claiming_a_billion_empty_values_is_refused() {
    let mut registry = SchemaRegistry::new();
    registry.register("nulls-value", r#"{"type":"array","items":"null"}"#).unwrap();
    // zigzag(1,000,000,000) = 2,000,000,000 as a varint, then the closing block of 0.
    let datum = [0x80, 0xa8, 0xd6, 0xb9, 0x07, 0x00];
    let err = deserialize(SerializerKind::Avro, Some(&encode_framed(1, &datum)), &registry).unwrap_err();
    assert!(err.0.contains("more than 1048588 values"), "{err}");
    // A truncated datum names what is missing instead of reading nulls past the end.
    let err = deserialize(SerializerKind::Avro, Some(&encode_framed(1, &[0x80])), &registry).unwrap_err();
    assert!(err.0.contains("ends inside a number"), "{err}");
}

/// Kite reads and writes Avro datums itself (bounded, linear in the datum); these pairs of a schema
/// and a JSON value cover every Avro type, and each must give the bytes apache-avro's writer gives
/// and read back to what apache-avro's reader shows.
#[test]
fn avro_datums_match_apache_avro_byte_for_byte() {
    use apache_avro::reader::datum::GenericDatumReader;
    use apache_avro::writer::datum::GenericDatumWriter;
    let cases: &[(&str, &str)] = &[
        (r#""null""#, "null"),
        (r#""boolean""#, "true"),
        (r#""int""#, "-2147483648"),
        (r#""long""#, "9007199254740993"),
        (r#""float""#, "1.5"),
        (r#""double""#, "-0.125"),
        (r#""double""#, "3"),
        (r#""bytes""#, r#""hi""#),
        (r#""bytes""#, "[0, 255, 16]"),
        (r#""string""#, r#""héllo""#),
        (r#"{"type":"fixed","name":"F","size":3}"#, r#""abc""#),
        (r#"{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS"]}"#, r#""HEARTS""#),
        (r#"{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}"#, r#""Z""#),
        (r#"{"type":"array","items":"long"}"#, "[1, -2, 300]"),
        (r#"{"type":"array","items":"int"}"#, "[]"),
        (r#"{"type":"map","values":"string"}"#, r#"{"k":"v"}"#),
        (r#"["null","string"]"#, "null"),
        (r#"["null","string"]"#, r#""x""#),
        (r#"["null","long","double"]"#, "2.5"),
        // A union's branch as apache-avro picks it: the value's own type, or a named type,
        // whichever comes first; else the first it can be promoted to.
        (r#"["null","float","double"]"#, "2.5"),
        (r#"["null","float","double"]"#, "1e300"),
        (r#"["double","long"]"#, "5"),
        (r#"["null","long"]"#, "5"),
        (r#"["null","int","long"]"#, "5000000000"),
        (r#"["string",{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS"]}]"#, r#""HEARTS""#),
        (r#"["null",{"type":"enum","name":"Suit","symbols":["SPADES","HEARTS"]}]"#, r#""HEARTS""#),
        (r#"["null","bytes"]"#, r#""raw""#),
        (
            r#"[{"type":"map","values":"int"},{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]"#,
            r#"{"x":1}"#,
        ),
        (
            r#"[{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]},{"type":"map","values":"int"}]"#,
            r#"{"x":1}"#,
        ),
        (r#"{"type":"string","logicalType":"uuid"}"#, r#""123e4567-e89b-12d3-a456-426614174000""#),
        (r#"{"type":"int","logicalType":"date"}"#, "19000"),
        (r#"{"type":"long","logicalType":"timestamp-millis"}"#, "1700000000000"),
        (
            r#"{"type":"record","name":"User","namespace":"shop","fields":[
                {"name":"name","type":"string"},
                {"name":"age","type":["null","int"],"default":null},
                {"name":"email","type":"string","default":"none"},
                {"name":"tags","type":{"type":"array","items":"string"}},
                {"name":"address","type":["null",{"type":"record","name":"Address","fields":[
                    {"name":"city","type":"string"}]}]},
                {"name":"home","type":["null","Address"]}]}"#,
            r#"{"name":"Ann","tags":["a","b"],"address":{"city":"Seoul"},"home":null}"#,
        ),
        (NODE, &list_json(5)),
    ];
    for (schema_text, json) in cases {
        let schema = apache_avro::Schema::parse_str(schema_text).unwrap();
        let ours = kite_shared::avro::encode_json(&schema, json).unwrap_or_else(|e| panic!("{json}: {e}"));
        let value =
            apache_avro::types::Value::try_from(serde_json::from_str::<serde_json::Value>(json).unwrap())
                .unwrap()
                .resolve(&schema)
                .unwrap();
        let theirs = GenericDatumWriter::builder(&schema).build().unwrap().write_value_to_vec(value).unwrap();
        assert_eq!(ours, theirs, "{schema_text} {json}");
        let read = kite_shared::avro::decode_to_json(&schema, &ours).unwrap();
        let reader = GenericDatumReader::builder(&schema).build().unwrap();
        let expected = serde_json::Value::try_from(reader.read_value(&mut ours.as_slice()).unwrap()).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&read).unwrap(),
            expected,
            "{schema_text} {json}"
        );
    }
}

/// What a union cannot take is named, as is a missing field without a default.
#[test]
fn avro_values_that_do_not_fit_are_named() {
    let schema = apache_avro::Schema::parse_str(r#"["null","int"]"#).unwrap();
    let err = kite_shared::avro::encode_json(&schema, r#""seven""#).unwrap_err();
    assert!(err.contains(r#"no branch of the union [null, int] fits "seven""#), "{err}");
    let schema = apache_avro::Schema::parse_str(USER_V1).unwrap();
    let err = kite_shared::avro::encode_json(&schema, r#"{"name":"Ann"}"#).unwrap_err();
    assert!(err.contains(r#"field "age" of User is missing and has no default"#), "{err}");
    let err = kite_shared::avro::encode_json(&schema, r#"{"name":"Ann","age":3000000000}"#).unwrap_err();
    assert!(err.contains("3000000000 is not int"), "{err}");
}

/// Any bytes, read as a datum of schemas that nest: an error or a value, never a panic; a value
/// written again reads back the same (the bytes may differ: a varint or a block can be written in
/// more than one way).
mod any_bytes {
    use proptest::prelude::*;

    const SCHEMAS: &[&str] = &[
        super::NODE,
        r#"{"type":"record","name":"R","fields":[
            {"name":"m","type":{"type":"map","values":["null","R"]}},
            {"name":"a","type":{"type":"array","items":{"type":"enum","name":"E","symbols":["X","Y"]}}},
            {"name":"f","type":{"type":"fixed","name":"F","size":2}},
            {"name":"s","type":["string","long","boolean"]}]}"#,
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]
        #[test]
        fn read_write_read(bytes in proptest::collection::vec(any::<u8>(), 0..200), which in 0..SCHEMAS.len()) {
            let schema = apache_avro::Schema::parse_str(SCHEMAS[which]).unwrap();
            if let Ok(json) = kite_shared::avro::decode_to_json(&schema, &bytes) {
                let written = kite_shared::avro::encode_json(&schema, &json).unwrap();
                prop_assert_eq!(kite_shared::avro::decode_to_json(&schema, &written).unwrap(), json);
            }
        }
    }
}
