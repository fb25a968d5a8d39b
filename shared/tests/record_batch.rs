//! RecordBatch v2 against kafka-reference.md's vectors, byte for byte; against the kafka-protocol
//! crate's independent codec; and against random and hostile input.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::record::batch::{
    Attributes, BatchError, BatchHeader, BatchRecord, Header, RecordBatch, TimestampType,
    stamp_log_append_time, stamp_offset_and_epoch,
};
use kite_shared::record::compression::Compression;
use proptest::prelude::*;

const VECTOR_A: &str = "0000000000000000000000400000000002db5e9cdd0000000000000000018bcfe568000000018bcfe56800ffffffffffffffffffffffffffff000000011c000000066b65790a76616c756500";
const VECTOR_B: &str = "00000000000000000000004d0000000002f87ab86e0000000000010000018bcfe568000000018bcfe56805ffffffffffffffffffffffffffff000000021c000000066b65790a76616c75650018000a02010476320202680278";
const BASE_TIMESTAMP_MS: i64 = 1_700_000_000_000;

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

fn vector_a_batch() -> RecordBatch {
    let mut batch = RecordBatch::new(
        BASE_TIMESTAMP_MS,
        vec![BatchRecord {
            key: Some(b"key".to_vec()),
            value: Some(b"value".to_vec()),
            ..Default::default()
        }],
    );
    batch.partition_leader_epoch = 0;
    batch
}

fn vector_b_batch() -> RecordBatch {
    let mut batch = RecordBatch::new(
        BASE_TIMESTAMP_MS,
        vec![
            BatchRecord { key: Some(b"key".to_vec()), value: Some(b"value".to_vec()), ..Default::default() },
            BatchRecord {
                timestamp_delta: 5,
                offset_delta: 1,
                key: None,
                value: Some(b"v2".to_vec()),
                headers: vec![Header { key: "h".into(), value: Some(b"x".to_vec()) }],
            },
        ],
    );
    batch.partition_leader_epoch = 0;
    batch
}

#[test]
fn crc32c_check_value() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}

#[test]
fn vector_a_is_byte_exact() {
    let bytes = vector_a_batch().encode().unwrap();
    assert_eq!(bytes.len(), 76);
    assert_eq!(bytes, unhex(VECTOR_A));
    let header = BatchHeader::parse(&bytes).unwrap();
    assert_eq!((header.batch_length, header.crc), (0x40, 0xdb5e_9cdd));
    let (decoded, used) = RecordBatch::decode(&bytes).unwrap();
    assert_eq!((decoded, used), (vector_a_batch(), 76));
}

#[test]
fn vector_b_is_byte_exact() {
    let bytes = vector_b_batch().encode().unwrap();
    assert_eq!(bytes.len(), 89);
    assert_eq!(bytes, unhex(VECTOR_B));
    let header = BatchHeader::parse(&bytes).unwrap();
    assert_eq!(
        (header.batch_length, header.crc, header.max_timestamp),
        (0x4d, 0xf87a_b86e, BASE_TIMESTAMP_MS + 5)
    );
    assert_eq!(RecordBatch::decode(&bytes).unwrap().0, vector_b_batch());
}

#[test]
fn leader_stamping_keeps_the_crc_valid() {
    let mut bytes = unhex(VECTOR_B);
    stamp_offset_and_epoch(&mut bytes, 42, 7);
    let header = BatchHeader::parse(&bytes).expect("still valid: offset and epoch are outside the CRC");
    assert_eq!((header.base_offset, header.partition_leader_epoch, header.crc), (42, 7, 0xf87a_b86e));
    assert_eq!(header.last_offset(), 43);

    stamp_log_append_time(&mut bytes, BASE_TIMESTAMP_MS + 1_000);
    let header = BatchHeader::parse(&bytes).expect("CRC recomputed for LogAppendTime");
    assert_eq!(header.attributes.timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(header.max_timestamp, BASE_TIMESTAMP_MS + 1_000);
}

#[test]
fn trusted_parsing_skips_only_the_crc() {
    let mut bytes = unhex(VECTOR_B);
    bytes[80] ^= 1;
    assert!(matches!(BatchHeader::parse(&bytes), Err(BatchError::CrcMismatch { .. })));
    assert_eq!(BatchHeader::parse_trusted(&bytes).unwrap().record_count, 2);
    bytes[16] = 1;
    assert!(matches!(BatchHeader::parse_trusted(&bytes), Err(BatchError::UnsupportedMagic { magic: 1 })));
    assert!(matches!(BatchHeader::parse_trusted(&bytes[..30]), Err(BatchError::Truncated { .. })));
}

#[test]
fn every_header_field_is_carried() {
    let mut batch = vector_b_batch();
    batch.base_offset = 1_234_567;
    batch.producer_id = 99;
    batch.producer_epoch = 3;
    batch.base_sequence = 17;
    batch.attributes = Attributes {
        compression: Compression::None,
        timestamp_type: TimestampType::LogAppendTime,
        transactional: true,
        control: false,
        delete_horizon: true,
    };
    let bytes = batch.encode().unwrap();
    assert_eq!(RecordBatch::decode(&bytes).unwrap().0, batch);
}

#[test]
fn compressed_batches_round_trip_for_every_codec() {
    for codec in Compression::ALL {
        let mut batch = vector_b_batch();
        batch.attributes.compression = codec;
        let bytes = batch.encode().unwrap();
        let header = BatchHeader::parse(&bytes).unwrap();
        assert_eq!(header.attributes.compression, codec);
        assert_eq!(RecordBatch::decode(&bytes).unwrap().0, batch, "{}", codec.name());
    }
}

#[test]
fn malformed_batches_are_named() {
    let good = unhex(VECTOR_B);
    let expect = |bytes: &[u8], check: &dyn Fn(&BatchError) -> bool| {
        let err = RecordBatch::decode(bytes).unwrap_err();
        assert!(check(&err), "unexpected error: {err}");
        assert!(!err.to_string().is_empty());
    };
    expect(&good[..10], &|e| matches!(e, BatchError::Truncated { .. }));
    expect(&good[..60], &|e| matches!(e, BatchError::Truncated { .. }));
    let mut bad_magic = good.clone();
    bad_magic[16] = 1;
    expect(&bad_magic, &|e| matches!(e, BatchError::UnsupportedMagic { magic: 1 }));
    let mut flipped = good.clone();
    flipped[80] ^= 0x01;
    expect(&flipped, &|e| matches!(e, BatchError::CrcMismatch { stored: 0xf87a_b86e, .. }));
    let mut short_length = good.clone();
    short_length[8..12].copy_from_slice(&10_i32.to_be_bytes());
    expect(&short_length, &|e| matches!(e, BatchError::BatchLengthOutOfRange { batch_length: 10, .. }));

    // Re-encode bodies with a valid CRC so the deeper checks are reached.
    let with_count = |count: i32| {
        let mut bytes = good.clone();
        bytes[57..61].copy_from_slice(&count.to_be_bytes());
        let crc = crc32c::crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        bytes
    };
    expect(&with_count(1), &|e| matches!(e, BatchError::TrailingBytes { .. }));
    expect(&with_count(3), &|e| matches!(e, BatchError::RecordCountMismatch { declared: 3, found: 2 }));
    expect(&with_count(-1), &|e| matches!(e, BatchError::NegativeRecordCount { count: -1 }));
    expect(&with_count(i32::MAX), &|e| matches!(e, BatchError::RecordCountTooLarge { .. }));

    // Found by fuzzing recovery: baseOffset + lastOffsetDelta overflowed when a header was used.
    let mut near_max = good.clone();
    near_max[0..8].copy_from_slice(&i64::MAX.to_be_bytes());
    expect(&near_max, &|e| {
        matches!(e, BatchError::LastOffsetOutOfRange { base_offset: i64::MAX, last_offset_delta: 1 })
    });
    let mut negative_delta = good.clone();
    negative_delta[23..27].copy_from_slice(&(-1_i32).to_be_bytes());
    let crc = crc32c::crc32c(&negative_delta[21..]);
    negative_delta[17..21].copy_from_slice(&crc.to_be_bytes());
    expect(&negative_delta, &|e| matches!(e, BatchError::LastOffsetOutOfRange { last_offset_delta: -1, .. }));

    let mut unknown_codec = good.clone();
    unknown_codec[22] = 0x07;
    let crc = crc32c::crc32c(&unknown_codec[21..]);
    unknown_codec[17..21].copy_from_slice(&crc.to_be_bytes());
    expect(&unknown_codec, &|e| matches!(e, BatchError::UnknownCompression { id: 7 }));
}

#[test]
fn offset_deltas_must_rise_within_last_offset_delta() {
    let mut batch = vector_b_batch();
    batch.records[1].offset_delta = 0;
    let bytes = batch.encode().unwrap();
    assert_eq!(
        RecordBatch::decode(&bytes).unwrap_err(),
        BatchError::OffsetDeltaOutOfOrder { previous: 0, found: 0 }
    );

    let mut batch = vector_b_batch();
    batch.last_offset_delta = 0;
    let bytes = batch.encode().unwrap();
    assert_eq!(
        RecordBatch::decode(&bytes).unwrap_err(),
        BatchError::OffsetDeltaBeyondLast { offset_delta: 1, last_offset_delta: 0 }
    );

    // Compaction leaves gaps; they are fine.
    let mut batch = vector_b_batch();
    batch.records[1].offset_delta = 5;
    batch.last_offset_delta = 9;
    let bytes = batch.encode().unwrap();
    assert_eq!(RecordBatch::decode(&bytes).unwrap().0, batch);
}

/// The kafka-protocol crate's codec, written independently, reads Kite's bytes and Kite reads its.
#[test]
fn agrees_with_the_kafka_protocol_crate() {
    use kafka_protocol::records::{
        Compression as KpCompression, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    };
    for (codec, kp_codec) in [
        (Compression::None, KpCompression::None),
        (Compression::Gzip, KpCompression::Gzip),
        (Compression::Snappy, KpCompression::Snappy),
        (Compression::Lz4, KpCompression::Lz4),
    ] {
        let mut batch = vector_b_batch();
        batch.attributes.compression = codec;
        let ours = batch.encode().unwrap();
        let mut buf = bytes::Bytes::from(ours.clone());
        let theirs = RecordBatchDecoder::decode(&mut buf).unwrap();
        let records = theirs.records;
        assert_eq!(records.len(), 2, "{}", codec.name());
        assert_eq!(records[0].key.as_deref(), Some(&b"key"[..]));
        assert_eq!(records[0].value.as_deref(), Some(&b"value"[..]));
        assert_eq!(records[1].key, None);
        assert_eq!(records[1].timestamp, BASE_TIMESTAMP_MS + 5);
        assert_eq!(
            records[1]
                .headers
                .get(&kafka_protocol::protocol::StrBytes::from_static_str("h"))
                .cloned()
                .flatten()
                .as_deref(),
            Some(&b"x"[..])
        );

        // And the other way: kafka-protocol's bytes decode to the same records.
        let mut encoded = bytes::BytesMut::new();
        let options = RecordEncodeOptions { version: 2, compression: kp_codec };
        RecordBatchEncoder::encode(&mut encoded, &records, &options).unwrap();
        let (decoded, _) = RecordBatch::decode(&encoded).unwrap();
        let pairs: Vec<_> =
            decoded.records.iter().map(|r| (r.key.clone(), r.value.clone(), r.headers.clone())).collect();
        let expected: Vec<_> =
            batch.records.iter().map(|r| (r.key.clone(), r.value.clone(), r.headers.clone())).collect();
        assert_eq!(pairs, expected, "{}", codec.name());
        assert_eq!(decoded.attributes.compression, codec);
    }
}

fn arb_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64))
}

/// A record with offset delta 0; the batch strategy numbers them.
fn arb_record() -> impl Strategy<Value = BatchRecord> {
    let header = ("[a-z]{0,8}", arb_bytes()).prop_map(|(key, value)| Header { key, value });
    (-1_000_000i64..1_000_000, arb_bytes(), arb_bytes(), proptest::collection::vec(header, 0..4)).prop_map(
        |(timestamp_delta, key, value, headers)| BatchRecord {
            timestamp_delta,
            offset_delta: 0,
            key,
            value,
            headers,
        },
    )
}

fn arb_compression() -> impl Strategy<Value = Compression> {
    proptest::sample::select(Compression::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(
        records in proptest::collection::vec(arb_record(), 0..20),
        base_timestamp in 0i64..4_000_000_000_000,
        base_offset in 0i64..i64::from(i32::MAX),
        epoch in -1i32..1000,
        codec in arb_compression(),
    ) {
        let records: Vec<BatchRecord> = records
            .into_iter()
            .enumerate()
            .map(|(i, record)| BatchRecord { offset_delta: i as i32, ..record })
            .collect();
        let mut batch = RecordBatch::new(base_timestamp, records);
        batch.base_offset = base_offset;
        batch.partition_leader_epoch = epoch;
        batch.attributes.compression = codec;
        let bytes = batch.encode().unwrap();
        if codec == Compression::None {
            let expected: usize = 61 + batch.records.iter().map(BatchRecord::encoded_len).sum::<usize>();
            prop_assert_eq!(bytes.len(), expected);
        }
        let (decoded, used) = RecordBatch::decode(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(decoded, batch);
    }

    /// The fuzz target's property, bounded, in every test run: arbitrary bytes never panic, and
    /// the in-place check accepts exactly what decode accepts.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert_eq!(RecordBatch::check(&bytes).is_ok(), RecordBatch::decode(&bytes).is_ok());
    }

    /// A valid batch, checked in place: its records' timestamps, the bytes of its keys and
    /// values and whether its offsets are a producer's 0, 1, 2, … — what decoding it would say.
    #[test]
    fn the_in_place_check_reads_what_decode_reads(
        records in proptest::collection::vec(arb_record(), 1..20),
        gap in 0usize..20,
        codec in arb_compression(),
    ) {
        let records: Vec<BatchRecord> = records
            .into_iter()
            .enumerate()
            .map(|(i, record)| BatchRecord { offset_delta: (i + usize::from(i > gap)) as i32, ..record })
            .collect();
        let mut batch = RecordBatch::new(1_700_000_000_000, records);
        batch.attributes.compression = codec;
        let bytes = batch.encode().unwrap();
        let (checked, used) = RecordBatch::check(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        let deltas: Vec<i64> = batch.records.iter().map(|r| r.timestamp_delta).collect();
        prop_assert_eq!(checked.timestamp_deltas, deltas);
        let data: usize = batch.records.iter().map(|r| r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len)).sum();
        prop_assert_eq!(checked.data_bytes, data);
        prop_assert_eq!(checked.dense, gap + 1 >= batch.records.len());
    }

    /// Valid batches with single bytes flipped after the CRC was computed are rejected or decode;
    /// they never panic.
    #[test]
    fn corrupted_batches_never_panic(index in 0usize..89, value in any::<u8>(), fix_crc in any::<bool>()) {
        let mut bytes = unhex(VECTOR_B);
        bytes[index] = value;
        if fix_crc {
            let crc = crc32c::crc32c(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        }
        let _ = RecordBatch::decode(&bytes);
    }
}
