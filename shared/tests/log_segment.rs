//! A log segment in Kafka's bytes: appends, index entries, reads, timestamp lookups, truncation,
//! roll decisions and recovery — against hand-worked cases and a property over random logs.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::log::index::DEFAULT_SEGMENT_INDEX_BYTES;
use kite_shared::log::segment::{LogSegment, RollCheck, ScanStop, file_name};
use kite_shared::record::batch::{BatchError, BatchHeader, stamp_offset_and_epoch};
use proptest::prelude::*;

mod common;
use common::producer_batch;

const BASE_TIMESTAMP_MS: i64 = 1_700_000_000_000;
/// A small index interval so a few batches already produce index entries.
const INTERVAL_BYTES: usize = 200;

/// `producer_batch` stamped at `base_offset`, as a leader would.
fn batch(base_offset: i64, count: usize, value_bytes: usize, base_timestamp: i64) -> Vec<u8> {
    let mut bytes = producer_batch(count, value_bytes, base_timestamp);
    stamp_offset_and_epoch(&mut bytes, base_offset, 0);
    bytes
}

/// Ten batches of 5 records (offsets 0..50), 10 ms apart.
fn ten_batches() -> (LogSegment, Vec<Vec<u8>>) {
    let mut segment = LogSegment::new(0, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    let batches: Vec<Vec<u8>> = (0..10).map(|i| batch(i * 5, 5, 20, BASE_TIMESTAMP_MS + i * 10)).collect();
    for b in &batches {
        segment.append(b).unwrap();
    }
    (segment, batches)
}

#[test]
fn file_names_are_twenty_digit_base_offsets() {
    assert_eq!(file_name(0, ".log"), "00000000000000000000.log");
    assert_eq!(file_name(170_410, ".timeindex"), "00000000000000170410.timeindex");
}

#[test]
fn appends_index_every_interval_and_reads_whole_batches() {
    let (segment, batches) = ten_batches();
    let batch_bytes = batches[0].len();
    assert_eq!(segment.next_offset(), 50);
    assert_eq!(segment.size_bytes(), 10 * batch_bytes);
    assert_eq!(*segment.log_bytes().unwrap(), batches.concat());
    // An entry once more than INTERVAL_BYTES went in since the last one.
    let expected_entries = {
        let (mut since, mut entries) = (0, 0);
        for _ in 0..10 {
            if since > INTERVAL_BYTES {
                entries += 1;
                since = 0;
            }
            since += batch_bytes;
        }
        entries
    };
    assert!(expected_entries > 0);
    assert_eq!(segment.offset_index().len(), expected_entries);

    // Offset 12 is in the third batch (10..15): the read starts there.
    let (position, header) = segment.translate_offset(12).unwrap().unwrap();
    assert_eq!((position, header.base_offset), (2 * batch_bytes, 10));
    assert_eq!(
        *segment.read(12, 2 * batch_bytes).unwrap().unwrap(),
        segment.log_bytes().unwrap()[2 * batch_bytes..4 * batch_bytes]
    );
    // Always at least one whole batch, even over the byte limit.
    assert_eq!(segment.read(12, 1).unwrap().unwrap().len(), batch_bytes);
    assert!(segment.read(50, 1000).unwrap().is_none(), "past the end");
}

#[test]
fn finds_offsets_by_timestamp() {
    let (segment, _) = ten_batches();
    // Batch 3 holds offsets 15..20 at timestamps base+30 .. base+34.
    assert_eq!(
        segment.find_by_timestamp(BASE_TIMESTAMP_MS + 30, 0).unwrap().map(|found| found.offset),
        Some(15)
    );
    assert_eq!(
        segment.find_by_timestamp(BASE_TIMESTAMP_MS + 32, 0).unwrap().map(|found| found.offset),
        Some(17)
    );
    assert_eq!(
        segment.find_by_timestamp(BASE_TIMESTAMP_MS + 35, 0).unwrap().map(|found| found.offset),
        Some(20)
    );
    assert_eq!(segment.find_by_timestamp(0, 0).unwrap().map(|found| found.offset), Some(0));
    assert_eq!(
        segment.find_by_timestamp(BASE_TIMESTAMP_MS + 1_000, 0).unwrap().map(|found| found.offset),
        None
    );
}

#[test]
fn truncation_removes_whole_batches() {
    let (mut segment, batches) = ten_batches();
    let removed = segment.truncate_to(22).unwrap(); // inside the batch 20..25
    assert_eq!(removed, 6 * batches[0].len());
    assert_eq!(segment.next_offset(), 20);
    assert_eq!(*segment.log_bytes().unwrap(), batches[..4].concat());
    let (rebuilt, _) =
        LogSegment::recover_bytes(0, batches[..4].concat(), INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert_eq!(segment, rebuilt, "indexes after truncation equal indexes built from scratch");
}

#[test]
fn refuses_batches_that_go_backwards_or_are_corrupt() {
    let (mut segment, _) = ten_batches();
    let err = segment.append(&batch(40, 1, 1, BASE_TIMESTAMP_MS)).unwrap_err();
    assert_eq!(err.to_string(), "batch starts at offset 40, below the segment's next offset 50");
    let mut corrupt = batch(50, 1, 1, BASE_TIMESTAMP_MS);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    assert!(segment.append(&corrupt).unwrap_err().to_string().contains("CRC-32C mismatch"));
    assert_eq!(segment.next_offset(), 50, "nothing was appended");
}

#[test]
fn roll_decisions() {
    let (segment, batches) = ten_batches();
    let check = |batch_bytes, batch_max_timestamp, batch_last_offset| RollCheck {
        max_segment_bytes: 11 * batches[0].len(),
        segment_ms: 1_000,
        batch_bytes,
        batch_max_timestamp,
        batch_last_offset,
    };
    let len = batches[0].len();
    assert!(!segment.should_roll(&check(len, BASE_TIMESTAMP_MS + 100, 55)));
    assert!(segment.should_roll(&check(len + 1, BASE_TIMESTAMP_MS + 100, 55)), "segment.bytes");
    assert!(
        segment.should_roll(&check(len, BASE_TIMESTAMP_MS + 1_000 + 5, 55)),
        "segment.ms from the first batch"
    );
    assert!(
        segment.should_roll(&check(len, BASE_TIMESTAMP_MS, i64::from(i32::MAX) + 1)),
        "relative offset overflow"
    );
    let empty = LogSegment::new(0, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert!(!empty.should_roll(&check(usize::MAX / 2, i64::MAX, 0)), "an empty segment takes any batch");
}

#[test]
fn recovery_keeps_the_valid_prefix_and_says_where_it_stopped() {
    let (segment, batches) = ten_batches();
    let len = batches[0].len();

    let (clean, report) = LogSegment::recover_bytes(
        0,
        segment.log_bytes().unwrap().to_vec(),
        INTERVAL_BYTES,
        DEFAULT_SEGMENT_INDEX_BYTES,
    );
    assert_eq!(clean, segment, "recovering a clean segment changes nothing");
    assert_eq!((report.batches, report.truncated_bytes, report.stopped_by), (10, 0, None));

    // A torn tail: half of a batch after seven whole ones.
    let mut torn = batches[..7].concat();
    torn.extend_from_slice(&batches[7][..len / 2]);
    let (recovered, report) = LogSegment::recover_bytes(0, torn, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert_eq!((recovered.next_offset(), report.valid_bytes, report.truncated_bytes), (35, 7 * len, len / 2));
    assert!(
        matches!(report.stopped_by, Some(ScanStop::InvalidBatch { position, error: BatchError::Truncated { .. } }) if position == 7 * len)
    );

    // A flipped byte in batch 4: everything from there is cut, and the position is reported.
    let mut flipped = segment.log_bytes().unwrap().to_vec();
    flipped[4 * len + 70] ^= 1;
    let (recovered, report) =
        LogSegment::recover_bytes(0, flipped, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert_eq!(recovered.next_offset(), 20);
    let stop = report.stopped_by.unwrap();
    assert!(matches!(stop, ScanStop::InvalidBatch { error: BatchError::CrcMismatch { .. }, .. }));
    assert_eq!(stop.to_string().split(':').next().unwrap(), format!("invalid batch at byte {}", 4 * len));

    // Offsets that go backwards end the valid prefix.
    let mut backwards = batches[..3].concat();
    backwards.extend_from_slice(&batch(5, 5, 20, BASE_TIMESTAMP_MS));
    let (_, report) = LogSegment::recover_bytes(0, backwards, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
    assert_eq!(
        report.stopped_by,
        Some(ScanStop::OffsetsOutOfOrder { position: 3 * len, base_offset: 5, expected_at_least: 15 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random logs: the segment serves every offset from the batch that holds it, recovery of its
    /// bytes rebuilds it exactly, and recovery of any cut of its bytes keeps whole batches only.
    #[test]
    fn random_segments(
        shapes in proptest::collection::vec((1usize..8, 0usize..300), 1..30),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut segment = LogSegment::new(1_000, INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
        let mut offset = 1_000;
        let mut starts = Vec::new();
        for (i, (count, value_bytes)) in shapes.iter().enumerate() {
            starts.push((offset, segment.size_bytes()));
            segment.append(&batch(offset, *count, *value_bytes, BASE_TIMESTAMP_MS + i as i64)).unwrap();
            offset += *count as i64;
        }
        prop_assert_eq!(segment.next_offset(), offset);
        for window in starts.windows(2).chain(std::iter::once(&[*starts.last().unwrap(), (offset, segment.size_bytes())][..])) {
            let ((first, position), (next, _)) = (window[0], window[1]);
            for o in first..next {
                let bytes = segment.read(o, 0).unwrap().unwrap();
                let header = BatchHeader::parse(&bytes).unwrap();
                prop_assert_eq!(header.base_offset, first);
                prop_assert_eq!(bytes.as_ptr(), segment.log_bytes().unwrap()[position..].as_ptr(), "memory reads borrow");
            }
        }
        let (rebuilt, report) = LogSegment::recover_bytes(1_000, segment.log_bytes().unwrap().to_vec(), INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
        prop_assert_eq!(&rebuilt, &segment);
        prop_assert_eq!(report.stopped_by, None);

        let cut_at = cut.index(segment.size_bytes() + 1);
        let (prefix, report) = LogSegment::recover_bytes(1_000, segment.log_bytes().unwrap()[..cut_at].to_vec(), INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
        let whole = starts.iter().map(|&(_, p)| p).chain(std::iter::once(segment.size_bytes())).filter(|&p| p <= cut_at).max().unwrap();
        prop_assert_eq!(report.valid_bytes, whole);
        prop_assert_eq!(&*prefix.log_bytes().unwrap(), &segment.log_bytes().unwrap()[..whole]);
    }
}

/// Inputs the fuzzers found (`shared/tests/regressions/segment_recover-*`): recovery keeps a
/// prefix of whole batches, never panics, and recovering what it kept keeps all of it.
#[test]
fn fuzz_regressions_recover_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("segment_recover-") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let (segment, report) =
            LogSegment::recover_bytes(0, data.clone(), INTERVAL_BYTES, DEFAULT_SEGMENT_INDEX_BYTES);
        assert_eq!(&*segment.log_bytes().unwrap(), &data[..report.valid_bytes], "{}", path.display());
        let (again, second) = LogSegment::recover_bytes(
            0,
            segment.log_bytes().unwrap().to_vec(),
            INTERVAL_BYTES,
            DEFAULT_SEGMENT_INDEX_BYTES,
        );
        assert_eq!(second.truncated_bytes, 0, "{}", path.display());
        assert_eq!(again, segment);
        checked += 1;
    }
    assert!(checked > 0);
}
