//! Arbitrary bytes as a `__consumer_offsets` record and as consumer-protocol payloads: every
//! decoder returns a value or a typed error, never panics, never allocates past what the input
//! could hold; what decodes re-encodes to bytes that decode to the same value. The coordinator
//! rebuilt from such records must answer a describe without panicking.
#![no_main]

use kite_shared::group::coordinator::{CoordinatorConfig, GroupCoordinator};
use kite_shared::group::offsets_topic::{
    ConsumerAssignment, ConsumerSubscription, GroupMetadataValue, OffsetCommitValue, OffsetsKey,
};
use kite_shared::trace::Trace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = OffsetsKey::decode(data) {
        assert_eq!(OffsetsKey::decode(&key.encode()), Ok(key));
    }
    if let Ok(value) = OffsetCommitValue::decode(data) {
        assert_eq!(OffsetCommitValue::decode(&value.encode()), Ok(value));
    }
    if let Ok(value) = GroupMetadataValue::decode(data) {
        assert_eq!(GroupMetadataValue::decode(&value.encode()), Ok(value));
    }
    if let Ok(value) = ConsumerSubscription::decode(data) {
        let _ = ConsumerSubscription::decode(&value.encode());
    }
    if let Ok(value) = ConsumerAssignment::decode(data) {
        let _ = value.flat();
    }
    // The same bytes split into a key and a value, loaded as a partition's records.
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (key, value) = data.split_at(split);
    let mut coordinator =
        GroupCoordinator::new(0, CoordinatorConfig { offsets_partitions: 1, ..Default::default() });
    let mut trace = Trace::default();
    coordinator.load(0, 0, vec![(key.to_vec(), Some(value.to_vec()))], &mut trace);
    for group in coordinator.group_ids() {
        let _ = coordinator.describe(&group);
    }
});
