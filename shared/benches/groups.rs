//! Consumer groups' speed. The assignors on 100 members × 1000 partitions (the group leader's
//! computation): fresh, and after one member leaves (the sticky ones keep what they can). A whole
//! rebalance on an in-process 3-broker cluster with Kafka's default timings: one member of a
//! stable 100-member group over a 1000-partition topic leaves, until everyone is stable again with
//! every partition assigned, and a 101st member joins it (wall time; the simulated milliseconds
//! are printed once per assignor).
//! And a consumer reading 100,000 100-byte records through the brokers, beside decoding the same
//! log directly (the ceiling). `cargo xtask bench` runs it.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

/// Benchmarks are native; on wasm32 (checked by clippy) this target is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod benches {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Once;

    use divan::counter::ItemsCount;
    use divan::{Bencher, black_box};
    use kite_shared::config::Acks;
    use kite_shared::group::assignor::{ASSIGNORS, Assignment, Subscription, assign};
    use kite_shared::group::consumer::{Consumer, ConsumerConfig, OffsetReset};
    use kite_shared::group::coordinator::{CoordinatorConfig, OFFSETS_TOPIC};
    use kite_shared::record::batch::{BatchRecord, RecordBatch};
    use kite_shared::replication::broker::BrokerConfig;
    use kite_shared::replication::local::LocalCluster;
    use kite_shared::replication::protocol::TopicPartition;

    const MEMBERS: usize = 100;
    const PARTITIONS: i32 = 1_000;
    const TOPIC: &str = "bench";
    const NOW_MS: i64 = 1_700_000_000_000;
    const RECORDS: usize = 100_000;
    const RECORDS_PER_BATCH: usize = 1_000;
    const VALUE_BYTES: usize = 100;
    /// A rebalance that has not settled after this much simulated time is a failure.
    const REBALANCE_LIMIT_MS: i64 = 120_000;

    fn counts() -> BTreeMap<String, i32> {
        BTreeMap::from([(TOPIC.to_string(), PARTITIONS)])
    }

    fn members(owned: Option<&Assignment>) -> Vec<Subscription> {
        (0..MEMBERS)
            .map(|i| {
                let id = format!("member-{i:03}");
                let mut s = Subscription::new(&id, &[TOPIC]);
                if let Some(previous) = owned {
                    s.owned_partitions = previous.get(&id).cloned().unwrap_or_default();
                    s.generation = 1;
                }
                s
            })
            .collect()
    }

    #[divan::bench(args = ASSIGNORS)]
    fn assign_fresh(bencher: Bencher, name: &str) {
        let (counts, members) = (counts(), members(None));
        bencher.bench(|| assign(black_box(name), &counts, &members));
    }

    #[divan::bench(args = ASSIGNORS)]
    fn assign_after_one_member_leaves(bencher: Bencher, name: &str) {
        let counts = counts();
        let previous = assign(name, &counts, &members(None)).unwrap();
        let mut remaining = members(Some(&previous));
        remaining.remove(0);
        bencher.bench(|| assign(black_box(name), &counts, &remaining));
    }

    fn broker_config() -> BrokerConfig {
        BrokerConfig {
            coordinator: CoordinatorConfig { offsets_partitions: 3, ..CoordinatorConfig::default() },
            ..BrokerConfig::default()
        }
    }

    /// Everyone stable and every partition owned by exactly one member.
    fn settled(consumers: &[Consumer]) -> bool {
        let mut owned = BTreeSet::new();
        let mut count = 0;
        for c in consumers {
            if !c.is_stable() {
                return false;
            }
            for tp in c.assignment() {
                owned.insert(tp);
                count += 1;
            }
        }
        owned.len() == PARTITIONS as usize && count == owned.len()
    }

    /// Polls every member each tick until the group settles; returns the simulated ms it took.
    fn run_until_settled(cluster: &mut LocalCluster, consumers: &mut [Consumer]) -> i64 {
        let start = cluster.now_ms;
        // At least one round, so a leave is noticed before "settled" is judged.
        loop {
            for c in consumers.iter_mut() {
                cluster.poll(c);
            }
            cluster.advance(10);
            if settled(consumers) || cluster.now_ms - start > REBALANCE_LIMIT_MS {
                return cluster.now_ms - start;
            }
        }
    }

    /// A stable group of `MEMBERS` over `PARTITIONS` partitions, using `assignor`.
    fn stable_group(assignor: &str) -> (LocalCluster, Vec<Consumer>) {
        let mut cluster = LocalCluster::new(3, broker_config(), NOW_MS);
        cluster.keep_trace = false;
        cluster.create_topic(TOPIC, PARTITIONS, 3, 2).unwrap();
        cluster.create_topic(OFFSETS_TOPIC, 3, 3, 2).unwrap();
        let mut consumers: Vec<Consumer> = (0..MEMBERS as u32)
            .map(|i| {
                let config = ConsumerConfig {
                    assignors: vec![assignor.to_string()],
                    auto_offset_reset: OffsetReset::Earliest,
                    ..ConsumerConfig::new(&format!("member-{i:03}"), Some("bench-group"))
                };
                let mut c = Consumer::new(100 + i, config);
                c.subscribe(&[TOPIC]);
                c
            })
            .collect();
        let took = run_until_settled(&mut cluster, &mut consumers);
        assert!(took < REBALANCE_LIMIT_MS, "{assignor}: the group never settled");
        (cluster, consumers)
    }

    static PRINTED: [Once; 4] = [Once::new(), Once::new(), Once::new(), Once::new()];

    #[divan::bench(args = ASSIGNORS, sample_count = 3, sample_size = 1)]
    fn rebalance_after_one_of_100_leaves(bencher: Bencher, name: &str) {
        let index = ASSIGNORS.iter().position(|a| *a == name).unwrap_or(0);
        bencher.with_inputs(|| stable_group(name)).bench_local_values(|(mut cluster, mut consumers)| {
            let out = consumers[0].close(cluster.now_ms);
            cluster.deliver(&mut consumers[0], out);
            let mut rest = consumers.split_off(1);
            let took = run_until_settled(&mut cluster, &mut rest);
            PRINTED[index]
                .call_once(|| eprintln!("rebalance_after_one_of_100_leaves {name}: {took} simulated ms"));
            assert!(took < REBALANCE_LIMIT_MS, "{name}: no settled rebalance");
            took
        });
    }

    static PRINTED_JOIN: [Once; 4] = [Once::new(), Once::new(), Once::new(), Once::new()];

    /// A 101st member joins: partitions must move (cooperative-sticky: in two rebalances).
    #[divan::bench(args = ASSIGNORS, sample_count = 3, sample_size = 1)]
    fn rebalance_when_a_101st_joins(bencher: Bencher, name: &str) {
        let index = ASSIGNORS.iter().position(|a| *a == name).unwrap_or(0);
        bencher.with_inputs(|| stable_group(name)).bench_local_values(|(mut cluster, mut consumers)| {
            let config = ConsumerConfig {
                assignors: vec![name.to_string()],
                auto_offset_reset: OffsetReset::Earliest,
                ..ConsumerConfig::new("member-new", Some("bench-group"))
            };
            let mut newcomer = Consumer::new(99, config);
            newcomer.subscribe(&[TOPIC]);
            consumers.push(newcomer);
            let took = run_until_settled(&mut cluster, &mut consumers);
            PRINTED_JOIN[index]
                .call_once(|| eprintln!("rebalance_when_a_101st_joins {name}: {took} simulated ms"));
            assert!(took < REBALANCE_LIMIT_MS, "{name}: no settled rebalance");
            took
        });
    }

    /// 100,000 records in one partition (RF 3, acks=all), and a fresh standalone consumer.
    fn loaded_cluster() -> LocalCluster {
        let mut cluster = LocalCluster::new(3, BrokerConfig::default(), NOW_MS);
        cluster.keep_trace = false;
        cluster.create_topic(TOPIC, 1, 3, 2).unwrap();
        let tp = TopicPartition { topic: TOPIC.into(), partition: 0 };
        for _ in 0..RECORDS / RECORDS_PER_BATCH {
            let records = (0..RECORDS_PER_BATCH)
                .map(|i| BatchRecord {
                    offset_delta: i as i32,
                    value: Some(vec![(i % 251) as u8; VALUE_BYTES]),
                    ..BatchRecord::default()
                })
                .collect();
            let batch = RecordBatch::new(NOW_MS, records).encode().unwrap();
            cluster.produce(0, &tp, batch, Acks::All).unwrap();
        }
        cluster
    }

    #[divan::bench(sample_count = 10)]
    fn consumer_reads_100k_records(bencher: Bencher) {
        let tp = TopicPartition { topic: TOPIC.into(), partition: 0 };
        bencher
            .counter(ItemsCount::new(RECORDS))
            .with_inputs(|| {
                let cluster = loaded_cluster();
                let config = ConsumerConfig {
                    auto_offset_reset: OffsetReset::Earliest,
                    ..ConsumerConfig::new("bench", None)
                };
                let mut consumer = Consumer::new(7, config);
                consumer.assign(std::slice::from_ref(&tp));
                (cluster, consumer)
            })
            .bench_local_values(|(mut cluster, mut consumer)| {
                let mut read = 0;
                while read < RECORDS {
                    read += cluster.poll(&mut consumer).len();
                }
                read
            });
    }

    /// The ceiling: decoding the leader's log directly, the same 100,000 records.
    #[divan::bench(sample_count = 10)]
    fn baseline_decode_the_log_directly(bencher: Bencher) {
        let tp = TopicPartition { topic: TOPIC.into(), partition: 0 };
        bencher.counter(ItemsCount::new(RECORDS)).with_inputs(loaded_cluster).bench_local_values(|cluster| {
            let leader = cluster.leader(&tp).unwrap();
            let log = &cluster.brokers[leader as usize].partitions[&tp].log;
            let mut offset = 0;
            let mut read = 0;
            while read < RECORDS {
                let bytes = log.read(offset, 1024 * 1024).unwrap();
                let mut rest = &bytes[..];
                while let Ok((batch, used)) = RecordBatch::decode(rest) {
                    rest = &rest[used..];
                    read += batch.records.len();
                    offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
                }
            }
            read
        });
    }
}
