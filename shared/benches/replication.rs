//! The replicated cluster's speed: produce through 3 brokers in one process (RF 3, min ISR 2,
//! acks=all, 1000-record batches of 100-byte values) with messages passed directly, beside the
//! same appends to one in-memory log (the ceiling: replication's cost is what the gap shows);
//! a replica's catch-up when a reassignment moves it; and the simulator's speed on a whole
//! 10-simulated-second run (plus its 10 s heal), without and with the consumer group, with
//! reassignments, and with brokers added and removed; a broker's decommission; and the KRaft
//! quorum's commit rate and failover.
//! `cargo xtask bench` runs it.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

/// Benchmarks are native; on wasm32 (checked by clippy) this target is empty.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod benches {
    use divan::counter::ItemsCount;
    use divan::{Bencher, black_box};
    use kite_shared::config::{Acks, BrokerConfigs, TopicConfig};
    use kite_shared::log::local_log::{LocalLog, LogConfig};
    use kite_shared::record::batch::{BatchRecord, RecordBatch};
    use kite_shared::replication::broker::BrokerConfig;
    use kite_shared::replication::local::{LOCAL_TICK_MS, LocalCluster};
    use kite_shared::replication::protocol::TopicPartition;
    use kite_shared::replication::quorum::{QuorumMessage, QuorumNode, QuorumState};
    use kite_shared::replication::sim::{SimConfig, run};

    const RECORDS_PER_BATCH: usize = 1000;
    const VALUE_BYTES: usize = 100;
    const NOW_MS: i64 = 1_700_000_000_000;

    fn batch() -> Vec<u8> {
        let records = (0..RECORDS_PER_BATCH)
            .map(|i| BatchRecord {
                timestamp_delta: i as i64,
                offset_delta: i as i32,
                key: None,
                value: Some(vec![(i % 251) as u8; VALUE_BYTES]),
                headers: Vec::new(),
            })
            .collect();
        RecordBatch::new(NOW_MS, records).encode().unwrap()
    }

    #[divan::bench(sample_count = 50)]
    fn produce_rf3_acks_all(bencher: Bencher) {
        let batch = batch();
        let mut cluster = LocalCluster::new(3, BrokerConfig::default(), NOW_MS);
        cluster.keep_trace = false;
        cluster.create_topic("bench", 1, 3, 2).unwrap();
        let tp = TopicPartition { topic: "bench".into(), partition: 0 };
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .bench_local(|| cluster.produce(0, &tp, black_box(batch.clone()), Acks::All).unwrap());
    }

    /// The same batch through the whole engine (`Cluster::handle`, `produce_records` to a named
    /// partition, stored as it came), three brokers: what the engine adds to the replication.
    #[divan::bench(sample_count = 50)]
    fn cluster_produce_records_rf3_acks_all(bencher: Bencher) {
        use kite_shared::api::Command;
        use kite_shared::cluster::Cluster;
        let batch = batch();
        let mut cluster = Cluster::replicated_in_memory(1, 3, NOW_MS);
        let create = Command::CreateTopic {
            name: "bench".into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: Some(3),
        };
        cluster.handle(NOW_MS, create);
        let produce = |payload: Vec<u8>| Command::ProduceRecords {
            topic: "bench".into(),
            partition: Some(0),
            partitioner: Default::default(),
            acks: Acks::All,
            payload,
        };
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .bench_local(|| cluster.handle(NOW_MS, produce(black_box(batch.clone()))));
    }

    #[divan::bench(sample_count = 50)]
    fn baseline_one_log_append(bencher: Bencher) {
        let batch = batch();
        let mut log = LocalLog::new(LogConfig::from(&TopicConfig::default()));
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .bench_local(|| log.append_as_leader(black_box(&batch), 0, NOW_MS).unwrap());
    }

    /// Four brokers, `tp` at replication factor 3 holding `batches` copies of `batch`.
    fn four_brokers_holding(tp: &TopicPartition, batch: &[u8], batches: usize) -> LocalCluster {
        let mut cluster = LocalCluster::new(4, BrokerConfig::default(), NOW_MS);
        cluster.keep_trace = false;
        cluster.create_topic(&tp.topic, 1, 3, 2).unwrap();
        for _ in 0..batches {
            cluster.produce(0, tp, batch.to_vec(), Acks::All).unwrap();
        }
        cluster
    }

    /// Moves `tp` to `target` and runs the cluster's clock until the move is done.
    fn move_until_done(cluster: &mut LocalCluster, tp: &TopicPartition, target: Vec<i32>) {
        let now = cluster.now_ms;
        cluster.act(|c, trace| c.reassign(now, tp, Some(target), trace)).unwrap().unwrap();
        cluster.pump();
        while cluster.controller().reassignments().next().is_some() {
            cluster.advance(LOCAL_TICK_MS);
        }
    }

    /// Partition reassignment's catch-up: a replica moved to the broker that held none copies
    /// the partition's 100,000 records (100 batches of 1000 × 100 B) by fetching from the
    /// leader, joins the ISR, and the move completes (the old replica leaves). One item = one
    /// record copied; compare with producing the same records through three brokers above.
    #[divan::bench(sample_count = 10)]
    fn reassign_catch_up_100k_records(bencher: Bencher) {
        move_100k_records(bencher, None);
    }

    /// The same move throttled (KIP-73) at 500 KB/s on every broker, the partition's current
    /// replicas in `leader.replication.throttled.replicas` and the newcomer in
    /// `follower.replication.throttled.replicas`, as `kite partitions reassign --throttle` sets
    /// them: the newcomer copies the 10.5 MB over about 21 s of the cluster's clock (the rate's
    /// worth of ten windows at once, counted over those ten seconds, then the rate), fetching
    /// again every tick while the quota holds it back.
    /// What this measures is the engine's cost of those ticks; one item = one record copied.
    #[divan::bench(sample_count = 10)]
    fn reassign_catch_up_100k_records_throttled(bencher: Bencher) {
        move_100k_records(bencher, Some(500_000));
    }

    /// One partition of 100 batches moved to the broker that held none, throttled at
    /// `throttle_bytes_per_sec` or not.
    fn move_100k_records(bencher: Bencher, throttle_bytes_per_sec: Option<u64>) {
        const BATCHES: usize = 100;
        let batch = batch();
        let tp = TopicPartition { topic: "bench".into(), partition: 0 };
        bencher
            .counter(ItemsCount::new(BATCHES * RECORDS_PER_BATCH))
            .with_inputs(|| {
                let mut cluster = four_brokers_holding(&tp, &batch, BATCHES);
                let replicas = cluster.controller().partitions[&tp].replicas.clone();
                let newcomer = (0..4).find(|b| !replicas.contains(b)).unwrap();
                if let Some(rate) = throttle_bytes_per_sec {
                    throttle(&mut cluster, &replicas, newcomer, rate);
                }
                (cluster, vec![newcomer, replicas[1], replicas[2]])
            })
            .bench_local_values(|(mut cluster, target)| {
                move_until_done(&mut cluster, &tp, target);
                cluster
            });
    }

    /// What `kite partitions reassign --throttle` sets for a move of `bench-0` to `newcomer`:
    /// both rates on every broker, the current replicas as leaders, the newcomer as follower.
    fn throttle(cluster: &mut LocalCluster, replicas: &[i32], newcomer: i32, rate: u64) {
        let leaders: Vec<String> = replicas.iter().map(|b| format!("0:{b}")).collect();
        let mut config = TopicConfig::default();
        config.set("leader.replication.throttled.replicas", &leaders.join(",")).unwrap();
        config.set("follower.replication.throttled.replicas", &format!("0:{newcomer}")).unwrap();
        let rates = [
            format!("leader.replication.throttled.rate={rate}"),
            format!("follower.replication.throttled.rate={rate}"),
        ];
        let rates = BrokerConfigs::from_overrides(rates.iter().map(String::as_str)).unwrap();
        for broker in &mut cluster.brokers {
            broker.set_replication_configs(&rates);
            broker.set_topic_config("bench", &config);
        }
    }

    /// Decommissioning a broker (`remove_broker`): of four brokers, broker 0 leaves while it
    /// holds a replica of each of 10 partitions of 10,000 records (10 batches of 1000 × 100 B);
    /// each replica moves to a broker that lacks that partition, catches up, and once none is left
    /// on broker 0 the controller unregisters it. One item = one record copied; compare with one
    /// partition's reassignment above.
    #[divan::bench(sample_count = 10)]
    fn decommission_a_broker_100k_records(bencher: Bencher) {
        const PARTITIONS: i32 = 10;
        const BATCHES_PER_PARTITION: usize = 10;
        let batch = batch();
        bencher
            .counter(ItemsCount::new(PARTITIONS as usize * BATCHES_PER_PARTITION * RECORDS_PER_BATCH))
            .with_inputs(|| {
                let mut cluster = LocalCluster::new(4, BrokerConfig::default(), NOW_MS);
                cluster.keep_trace = false;
                cluster.create_topic("bench", PARTITIONS, 3, 2).unwrap();
                for partition in 0..PARTITIONS {
                    let tp = TopicPartition { topic: "bench".into(), partition };
                    for _ in 0..BATCHES_PER_PARTITION {
                        cluster.produce(0, &tp, batch.clone(), Acks::All).unwrap();
                    }
                }
                cluster
            })
            .bench_local_values(|mut cluster| {
                let now = cluster.now_ms;
                cluster.act(|c, trace| c.remove_broker(now, 0, trace)).unwrap().unwrap();
                cluster.pump();
                while !cluster.controller().is_removed(0) {
                    cluster.advance(LOCAL_TICK_MS);
                }
                cluster
            });
    }

    /// Three KRaft voters (`replication::quorum`) on a perfect network: each message delivered
    /// at once, in order, every voter ticked every 10 ms of virtual time.
    struct Quorum {
        now: i64,
        rng: kite_shared::random::Rng,
        nodes: Vec<Option<QuorumNode<u64>>>,
    }

    impl Quorum {
        fn new(seed: u64) -> Quorum {
            let mut rng = kite_shared::random::Rng::from_seed(seed);
            let voters = [0, 1, 2];
            let nodes = voters
                .iter()
                .map(|&id| {
                    Some(QuorumNode::start(
                        id,
                        &voters,
                        QuorumState::default(),
                        None,
                        Vec::new(),
                        0,
                        &mut rng,
                    ))
                })
                .collect();
            let mut quorum = Quorum { now: 0, rng, nodes };
            while quorum.leader().is_none() {
                quorum.step();
            }
            quorum
        }

        fn leader(&self) -> Option<usize> {
            self.nodes.iter().position(|n| n.as_ref().is_some_and(QuorumNode::is_leader))
        }

        fn deliver(&mut self, from: i32, out: Vec<(i32, QuorumMessage<u64>)>) {
            let mut queue: std::collections::VecDeque<(i32, i32, QuorumMessage<u64>)> =
                out.into_iter().map(|(to, m)| (from, to, m)).collect();
            while let Some((from, to, message)) = queue.pop_front() {
                let mut next = Vec::new();
                if let Some(Some(node)) = self.nodes.get_mut(to as usize) {
                    node.handle(self.now, from, message, &mut self.rng, &mut next);
                }
                queue.extend(next.into_iter().map(|(t, m)| (to, t, m)));
            }
        }

        fn step(&mut self) {
            self.now += LOCAL_TICK_MS;
            for id in 0..self.nodes.len() {
                let mut out = Vec::new();
                if let Some(Some(node)) = self.nodes.get_mut(id) {
                    node.tick(self.now, &mut self.rng, &mut out);
                }
                self.deliver(id as i32, out);
            }
        }
    }

    /// The controller quorum's commit rate: the leader appends 1,000 metadata records and they
    /// commit once both followers have fetched them (a majority with the leader). One item = one
    /// record committed.
    #[divan::bench(sample_count = 20)]
    fn quorum_commit_1000_records(bencher: Bencher) {
        const RECORDS: u64 = 1000;
        bencher.counter(ItemsCount::new(RECORDS as usize)).with_inputs(|| Quorum::new(1)).bench_local_values(
            |mut quorum| {
                let leader = quorum.leader().expect("elected");
                let now = quorum.now;
                let node = quorum.nodes[leader].as_mut().expect("running");
                let first = node.log().len() as i64;
                let mut out = Vec::new();
                for value in 0..RECORDS {
                    node.propose(now, vec![value], &mut out);
                }
                quorum.deliver(leader as i32, out);
                while quorum.nodes[leader].as_ref().expect("running").high_watermark()
                    < first + RECORDS as i64
                {
                    quorum.step();
                }
                quorum
            },
        );
    }

    /// A controller failover: the active controller (the quorum's leader) crashes; the followers'
    /// fetch timeout, a pre-vote and a vote later another leads. Wall time for the whole failover
    /// (about 2.1 s of virtual time: `shared/tests/quorum.rs` reports it). One item = one failover.
    #[divan::bench(sample_count = 20)]
    fn quorum_failover(bencher: Bencher) {
        let mut seed = 0;
        bencher
            .counter(ItemsCount::new(1usize))
            .with_inputs(|| {
                seed += 1;
                Quorum::new(seed)
            })
            .bench_local_values(|mut quorum| {
                let old = quorum.leader().expect("elected");
                quorum.nodes[old] = None;
                while quorum.leader().is_none() {
                    quorum.step();
                }
                quorum
            });
    }

    /// What the hosts' quorum costs a metadata change: creating a topic of 100 partitions at RF 3
    /// on three brokers appends a record per partition (and one for the topic), each committed
    /// by a majority of the KRaft controllers before the brokers are told; with one controller
    /// (nothing to replicate: the baseline) and with three, as the tab and `kite serve` run.
    /// One item = one partition created (its replicas' logs opened on three brokers).
    #[divan::bench(args = [1, 3], sample_count = 20)]
    fn create_topic_100_partitions(bencher: Bencher, controllers: usize) {
        const PARTITIONS: i32 = 100;
        bencher
            .counter(ItemsCount::new(PARTITIONS as usize))
            .with_inputs(|| {
                let brokers = (0..3)
                    .map(|id| kite_shared::replication::broker::Broker::new(id, 1, BrokerConfig::default()));
                let mut cluster =
                    LocalCluster::with_controllers(controllers, Vec::new(), brokers.collect(), NOW_MS);
                cluster.keep_trace = false;
                cluster
            })
            .bench_local_values(|mut cluster| {
                cluster.create_topic("bench", PARTITIONS, 3, 2).unwrap();
                cluster
            });
    }

    /// One whole simulation: 10 simulated seconds of workload and faults, 10 s of healing, the
    /// drain and the checker — replication only (no consumer group). One item = one seed.
    #[divan::bench(sample_count = 20)]
    fn simulate_one_seed_10s(bencher: Bencher) {
        let mut seed = 0;
        bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
            seed += 1;
            run(black_box(&SimConfig { group_members: 0, ..SimConfig::safe(seed) }))
        });
    }

    /// The same with the group, on four brokers, with an admin moving a partition every 1–2 s
    /// (`SimConfig::reassigning`, `kite sim --brokers 4 --reassign`).
    #[divan::bench(sample_count = 20)]
    fn simulate_one_seed_10s_reassigning(bencher: Bencher) {
        let mut seed = 0;
        bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
            seed += 1;
            run(black_box(&SimConfig::reassigning(seed)))
        });
    }

    /// The same with the group, with an admin adding a broker or decommissioning one every
    /// 1.5–3 s (`SimConfig::changing_membership`, `kite sim --membership`).
    #[divan::bench(sample_count = 20)]
    fn simulate_one_seed_10s_membership(bencher: Bencher) {
        let mut seed = 0;
        bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
            seed += 1;
            run(black_box(&SimConfig::changing_membership(seed)))
        });
    }

    /// The same with the default workload's consumer group (three members under faults, and the
    /// group's catch-up before the check): what `cargo xtask test`'s sweep runs.
    #[divan::bench(sample_count = 20)]
    fn simulate_one_seed_10s_with_group(bencher: Bencher) {
        let mut seed = 0;
        bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
            seed += 1;
            run(black_box(&SimConfig::safe(seed)))
        });
    }
}
