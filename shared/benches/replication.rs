//! The replicated cluster's speed: produce through 3 brokers in one process (RF 3, min ISR 2,
//! acks=all, 1000-record batches of 100-byte values) with messages passed directly, beside the
//! same appends to one in-memory log (the ceiling: replication's cost is what the gap shows);
//! and the simulator's speed on a whole 10-simulated-second run (plus its 10 s heal).
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
    use std::collections::VecDeque;

    use divan::counter::ItemsCount;
    use divan::{Bencher, black_box};
    use kite_shared::config::{Acks, TopicConfig};
    use kite_shared::log::local_log::{LocalLog, LogConfig};
    use kite_shared::random::Rng;
    use kite_shared::record::batch::{BatchRecord, RecordBatch};
    use kite_shared::replication::broker::{Broker, BrokerConfig};
    use kite_shared::replication::controller::Controller;
    use kite_shared::replication::partition::Outbox;
    use kite_shared::replication::protocol::{Message, NodeId, TopicPartition};
    use kite_shared::replication::sim::{SimConfig, run};
    use kite_shared::replication::trace::Trace;

    const RECORDS_PER_BATCH: usize = 1000;
    const VALUE_BYTES: usize = 100;
    const NOW_MS: i64 = 1_700_000_000_000;
    const CLIENT: NodeId = NodeId::Client(0);

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

    /// A controller and three brokers whose messages are delivered at once, in order.
    struct InProcess {
        controller: Controller,
        brokers: Vec<Broker>,
        queue: VecDeque<(NodeId, NodeId, Message)>,
        trace: Trace,
        acked: usize,
    }

    impl InProcess {
        fn new() -> InProcess {
            let mut cluster = InProcess {
                controller: Controller::new(9_000, 300_000),
                brokers: (0..3).map(|id| Broker::new(id, 1, BrokerConfig::default())).collect(),
                queue: VecDeque::new(),
                trace: Trace::default(),
                acked: 0,
            };
            cluster.tick();
            let mut out = Outbox::new();
            let mut rng = Rng::from_seed(1);
            cluster
                .controller
                .create_topic(NOW_MS, "bench", 1, 3, 2, false, &mut rng, &mut out, &mut cluster.trace)
                .unwrap();
            cluster.enqueue(NodeId::Controller, out);
            cluster.pump();
            cluster
        }

        fn enqueue(&mut self, from: NodeId, out: Outbox) {
            self.queue.extend(out.into_iter().map(|(to, message)| (from, to, message)));
        }

        fn tick(&mut self) {
            for i in 0..self.brokers.len() {
                let mut out = Outbox::new();
                self.brokers[i].tick(NOW_MS, &mut out, &mut self.trace);
                self.enqueue(NodeId::Broker(i as i32), out);
            }
            self.pump();
        }

        fn pump(&mut self) {
            while let Some((from, to, message)) = self.queue.pop_front() {
                let mut out = Outbox::new();
                match to {
                    NodeId::Controller => {
                        self.controller.handle(NOW_MS, from, message, &mut out, &mut self.trace)
                    }
                    NodeId::Broker(id) => {
                        self.brokers[id as usize].handle(NOW_MS, from, message, &mut out, &mut self.trace)
                    }
                    NodeId::Client(_) => {
                        if let Message::ProduceResponse { result: Ok(_), .. } = message {
                            self.acked += 1;
                        }
                    }
                }
                self.enqueue(to, out);
            }
            // The trace is not what is measured; keep it from growing without bound.
            self.trace.events.clear();
        }

        /// Produces one batch with acks=all and drives the followers until it is acknowledged.
        fn produce(&mut self, leader: i32, batch: &[u8]) {
            let before = self.acked;
            let tp = TopicPartition { topic: "bench".into(), partition: 0 };
            let message = Message::Produce { tp, batch: batch.to_vec(), acks: Acks::All, correlation: 1 };
            self.queue.push_back((CLIENT, NodeId::Broker(leader), message));
            self.pump();
            while self.acked == before {
                self.tick();
            }
        }
    }

    #[divan::bench(sample_count = 50)]
    fn produce_rf3_acks_all(bencher: Bencher) {
        let batch = batch();
        let mut cluster = InProcess::new();
        let leader = cluster.controller.partitions.values().next().and_then(|s| s.leader).unwrap();
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .bench_local(|| cluster.produce(leader, black_box(&batch)));
    }

    #[divan::bench(sample_count = 50)]
    fn baseline_one_log_append(bencher: Bencher) {
        let batch = batch();
        let mut log = LocalLog::new(LogConfig::from(&TopicConfig::default()));
        bencher
            .counter(ItemsCount::new(RECORDS_PER_BATCH))
            .bench_local(|| log.append_as_leader(black_box(&batch), 0, NOW_MS).unwrap());
    }

    /// One whole simulation: 10 simulated seconds of workload and faults, 10 s of healing, the
    /// drain and the checker. One item = one seed.
    #[divan::bench(sample_count = 20)]
    fn simulate_one_seed_10s(bencher: Bencher) {
        let mut seed = 0;
        bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
            seed += 1;
            run(black_box(&SimConfig::safe(seed)))
        });
    }
}
