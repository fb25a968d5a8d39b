//! The consumer client against an in-process 3-broker cluster (RF 3): standalone consumers
//! (`assign`) with `auto.offset.reset`, seeks (offset, time, beginning, end), pause and resume,
//! `max.poll.records`, commits read back by a later consumer, `auto.offset.reset=none`, and a
//! group member that finds its coordinator and gets every partition.
#![cfg(not(target_arch = "wasm32"))]

use kite_shared::config::Acks;
use kite_shared::group::consumer::{
    Consumer, ConsumerConfig, ConsumerEvent, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, OffsetReset,
};
use kite_shared::group::coordinator::{CoordinatorConfig, OFFSETS_TOPIC};
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::replication::broker::BrokerConfig;
use kite_shared::replication::local::LocalCluster;
use kite_shared::replication::protocol::TopicPartition;

const T0: i64 = 1_700_000_000_000;
const PRODUCER: u32 = 1;

fn tp(partition: i32) -> TopicPartition {
    TopicPartition { topic: "orders".into(), partition }
}

/// A cluster with `orders` (2 partitions) and `__consumer_offsets` (1 partition), all RF 3.
fn cluster() -> LocalCluster {
    let config = BrokerConfig {
        coordinator: CoordinatorConfig {
            offsets_partitions: 1,
            initial_rebalance_delay_ms: 0,
            ..Default::default()
        },
        ..BrokerConfig::default()
    };
    let mut cluster = LocalCluster::new(3, config, T0);
    cluster.create_topic("orders", 2, 3, 2).unwrap();
    cluster.create_topic(OFFSETS_TOPIC, 1, 3, 2).unwrap();
    cluster
}

/// Produces `values` to a partition, one batch each, `gap_ms` of virtual time apart.
fn produce(cluster: &mut LocalCluster, partition: i32, values: &[&str], gap_ms: i64) {
    for value in values {
        let record = BatchRecord { value: Some(value.as_bytes().to_vec()), ..BatchRecord::default() };
        let batch = RecordBatch::new(cluster.now_ms, vec![record]).encode().unwrap();
        cluster.produce(PRODUCER, &tp(partition), batch, Acks::All).unwrap();
        cluster.advance(gap_ms);
    }
}

/// Polls every 10 ms until `wanted` records came back, or 200 polls (`wanted` 0: all 200),
/// returning "partition@offset=value".
fn consume(cluster: &mut LocalCluster, consumer: &mut Consumer, wanted: usize) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..200 {
        if wanted > 0 && got.len() >= wanted {
            break;
        }
        for r in cluster.poll(consumer) {
            got.push(format!(
                "{}@{}={}",
                r.tp.partition,
                r.offset,
                String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
            ));
        }
        cluster.advance(10);
    }
    got
}

fn standalone(id: u32, reset: OffsetReset, group: Option<&str>) -> Consumer {
    let config = ConsumerConfig { auto_offset_reset: reset, ..ConsumerConfig::new("c", group) };
    Consumer::new(id, config)
}

#[test]
fn assign_reads_from_earliest_or_latest_and_respects_max_poll_records() {
    let mut cluster = cluster();
    produce(&mut cluster, 0, &["a", "b", "c"], 10);
    let mut earliest = standalone(10, OffsetReset::Earliest, None);
    earliest.config.max_poll_records = 2;
    earliest.assign(&[tp(0)]);
    let first = consume(&mut cluster, &mut earliest, 1);
    assert_eq!(first.len(), 2, "max.poll.records=2: {first:?}");
    assert_eq!(consume(&mut cluster, &mut earliest, 1), ["0@2=c"]);

    let mut latest = standalone(11, OffsetReset::Latest, None);
    latest.assign(&[tp(0)]);
    assert!(consume(&mut cluster, &mut latest, 1).is_empty(), "latest: nothing old");
    produce(&mut cluster, 0, &["d"], 10);
    assert_eq!(consume(&mut cluster, &mut latest, 1), ["0@3=d"]);
}

#[test]
fn seeks_pause_and_resume() {
    let mut cluster = cluster();
    produce(&mut cluster, 1, &["a", "b", "c", "d"], 1_000);
    let mut consumer = standalone(10, OffsetReset::Latest, None);
    consumer.assign(&[tp(0), tp(1)]);
    consume(&mut cluster, &mut consumer, 0);
    consumer.seek(&tp(1), 2);
    assert_eq!(consume(&mut cluster, &mut consumer, 2), ["1@2=c", "1@3=d"]);
    consumer.seek_to(&tp(1), EARLIEST_TIMESTAMP);
    assert_eq!(consume(&mut cluster, &mut consumer, 4).len(), 4);
    // By time: the second record was produced 1 s after the first.
    consumer.seek_to(&tp(1), T0 + 1_500);
    assert_eq!(consume(&mut cluster, &mut consumer, 2), ["1@2=c", "1@3=d"]);
    consumer.seek_to(&tp(1), LATEST_TIMESTAMP);
    assert!(consume(&mut cluster, &mut consumer, 1).is_empty());
    // Paused: records wait until it resumes.
    consumer.pause(&tp(1));
    produce(&mut cluster, 1, &["e"], 10);
    assert!(consume(&mut cluster, &mut consumer, 1).is_empty());
    consumer.resume(&tp(1));
    assert_eq!(consume(&mut cluster, &mut consumer, 1), ["1@4=e"]);
}

#[test]
fn committed_offsets_are_where_the_next_consumer_starts() {
    let mut cluster = cluster();
    produce(&mut cluster, 0, &["a", "b", "c"], 10);
    let mut first = standalone(10, OffsetReset::Earliest, Some("billing"));
    first.config.enable_auto_commit = false;
    first.assign(&[tp(0)]);
    assert_eq!(consume(&mut cluster, &mut first, 3).len(), 3);
    let out = first.commit(cluster.now_ms);
    cluster.deliver(&mut first, out);
    // The commit is answered once __consumer_offsets has replicated it.
    cluster.advance(100);
    cluster.deliver(&mut first, Vec::new());
    assert!(first.take_events().contains(&ConsumerEvent::Committed(vec![(tp(0), 3)])));
    produce(&mut cluster, 0, &["d"], 10);
    let mut second = standalone(11, OffsetReset::Earliest, Some("billing"));
    second.assign(&[tp(0)]);
    assert_eq!(consume(&mut cluster, &mut second, 1), ["0@3=d"], "starts at the committed offset");

    // auto.offset.reset=none with no committed offset: the consumer says so and reads nothing.
    let mut strict = standalone(12, OffsetReset::None, Some("fresh"));
    strict.assign(&[tp(0)]);
    assert!(consume(&mut cluster, &mut strict, 1).is_empty());
    assert!(strict.take_events().contains(&ConsumerEvent::NoOffset(tp(0))));
}

#[test]
fn a_subscribed_member_joins_and_gets_every_partition() {
    let mut cluster = cluster();
    produce(&mut cluster, 0, &["a"], 10);
    produce(&mut cluster, 1, &["b"], 10);
    let mut member = Consumer::new(
        20,
        ConsumerConfig {
            auto_offset_reset: OffsetReset::Earliest,
            ..ConsumerConfig::new("m", Some("readers"))
        },
    );
    member.subscribe(&["orders"]);
    let mut got = consume(&mut cluster, &mut member, 2);
    got.sort();
    assert_eq!(got, ["0@0=a", "1@0=b"]);
    assert_eq!(member.assignment(), [tp(0), tp(1)]);
    assert!(member.is_stable());
    // It closes: the commit and the LeaveGroup reach the coordinator.
    let out = member.close(cluster.now_ms);
    cluster.deliver(&mut member, out);
    cluster.advance(100);
    let coordinator = cluster.leader(&TopicPartition { topic: OFFSETS_TOPIC.into(), partition: 0 }).unwrap();
    let broker = &cluster.brokers[coordinator as usize];
    assert_eq!(broker.coordinator.committed("readers"), vec![(tp(0), 1), (tp(1), 1)]);
    assert_eq!(broker.coordinator.describe("readers").unwrap().members.len(), 0);
}

#[test]
fn a_member_that_stops_polling_leaves_after_max_poll_interval() {
    let mut cluster = cluster();
    let config = ConsumerConfig {
        max_poll_interval_ms: 10_000,
        auto_offset_reset: OffsetReset::Earliest,
        ..ConsumerConfig::new("slow", Some("patient"))
    };
    let mut member = Consumer::new(30, config);
    member.subscribe(&["orders"]);
    consume(&mut cluster, &mut member, 0);
    assert!(member.is_stable() && member.assignment().len() == 2);
    let coordinator_of = |cluster: &LocalCluster| {
        let leader = cluster.leader(&TopicPartition { topic: OFFSETS_TOPIC.into(), partition: 0 }).unwrap();
        cluster.brokers[leader as usize].coordinator.describe("patient").unwrap()
    };
    assert_eq!(coordinator_of(&cluster).members.len(), 1);
    // The application stops calling poll; the heartbeats go on (tick), until max.poll.interval.ms.
    for _ in 0..9 {
        cluster.advance(1_000);
        let out = member.tick(cluster.now_ms, &mut cluster.trace);
        cluster.deliver(&mut member, out);
    }
    assert_eq!(coordinator_of(&cluster).members.len(), 1, "still within max.poll.interval.ms");
    for _ in 0..3 {
        cluster.advance(1_000);
        let out = member.tick(cluster.now_ms, &mut cluster.trace);
        cluster.deliver(&mut member, out);
    }
    assert!(coordinator_of(&cluster).members.is_empty(), "it left the group");
    assert!(member.assignment().is_empty(), "and gave its partitions up");
    // Polling again rejoins.
    consume(&mut cluster, &mut member, 0);
    assert_eq!(coordinator_of(&cluster).members.len(), 1);
    assert_eq!(member.assignment().len(), 2);
}
