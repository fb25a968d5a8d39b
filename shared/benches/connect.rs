//! Kite Connect's speed, each beside its baseline in the same run: FileStreamSource turning
//! 100,000 lines of a file into records of a topic, beside producing the same lines as a client
//! would (record batches of the same size, acks=all); FileStreamSink writing 100,000 records of
//! a topic to a file, beside a consumer reading them and keeping their values; the JDBC sink
//! upserting 100,000 keyed JSON records into 10,000 rows of a table in memory, beside
//! FileStreamSink writing the same records to a file; the file source and sink again with the
//! AvroConverter on the values, beside their StringConverter rows. A three-broker
//! in-memory cluster each time, StringConverter both ways; the worker's own clock is ticked as
//! fast as it goes (wall time is the work). `cargo xtask bench` runs it.

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
    use kite_shared::api::{Command, Reply};
    use kite_shared::cluster::Cluster;
    use kite_shared::connect::encode_batches;
    use kite_shared::record::batch::BatchRecord;

    const LINES: usize = 100_000;
    const LINE_BYTES: usize = 100;
    /// FileStreamSource's `batch.size` default: the lines one request carries in the baseline.
    const LINES_PER_REQUEST: usize = 2_000;
    const NOW_MS: i64 = 1_700_000_000_000;
    const TICK_MS: i64 = 10;
    /// A run that has not moved every line after this much of the cluster's clock failed.
    const LIMIT_MS: i64 = 600_000;
    const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";

    fn line(i: usize) -> String {
        format!("{i:08} {}", "x".repeat(LINE_BYTES - 9))
    }

    fn cluster() -> Cluster {
        Cluster::replicated_in_memory(1, 3, NOW_MS)
    }

    fn rest(cluster: &mut Cluster, now_ms: i64, body: serde_json::Value) {
        let post = Command::Connect { method: "POST".into(), path: "/connectors".into(), body: Some(body) };
        match cluster.handle(now_ms, post) {
            Reply::Connect { status: 201, .. } => {}
            other => panic!("the connector was not created: {other:?}"),
        }
    }

    /// Ticks until `done`, returning the cluster's clock then.
    fn tick_until(
        cluster: &mut Cluster,
        mut now_ms: i64,
        mut done: impl FnMut(&mut Cluster, i64) -> bool,
    ) -> i64 {
        while !done(cluster, now_ms) {
            now_ms += TICK_MS;
            assert!(
                now_ms < NOW_MS + LIMIT_MS,
                "the run did not finish in {LIMIT_MS} ms of the cluster's clock"
            );
            cluster.tick(now_ms);
        }
        now_ms
    }

    /// The lines as one producer request per `LINES_PER_REQUEST`, encoded as a client would.
    fn produce_lines(cluster: &mut Cluster, now_ms: i64, topic: &str) {
        // As a producer's metadata request creates it (the source's does the same).
        let create = Command::CreateTopic {
            name: topic.into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: None,
        };
        if cluster.topic_partition_count(topic).is_none() {
            assert!(matches!(cluster.handle(now_ms, create), Reply::TopicCreated { .. }));
        }
        let lines: Vec<String> = (0..LINES).map(line).collect();
        for chunk in lines.chunks(LINES_PER_REQUEST) {
            let records = chunk
                .iter()
                .map(|l| BatchRecord { value: Some(l.as_bytes().to_vec()), ..BatchRecord::default() })
                .collect();
            let produce = Command::ProduceRecords {
                topic: topic.into(),
                partition: None,
                partitioner: Default::default(),
                acks: Default::default(),
                payload: encode_batches(records, now_ms).unwrap(),
            };
            assert!(!matches!(cluster.handle(now_ms, produce), Reply::Error(_)));
        }
    }

    fn with_file() -> Cluster {
        let mut cluster = cluster();
        let text: String = (0..LINES).map(|i| line(i) + "\n").collect();
        cluster.connect_worker().write_file("lines.txt", &text, false).unwrap();
        cluster
    }

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn file_source_100k_lines(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_file).bench_local_values(|mut cluster| {
            let source = serde_json::json!({"name": "src", "config": {
                "connector.class": "FileStreamSource", "file": "lines.txt", "topic": "lines",
                "value.converter": STRING, "key.converter": STRING}});
            rest(&mut cluster, NOW_MS, source);
            tick_until(&mut cluster, NOW_MS, |c, _| {
                c.connect_worker().counts("src", 0).records == LINES as u64
            });
            black_box(cluster)
        });
    }

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn baseline_produce_the_same_100k_lines(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(cluster).bench_local_values(|mut cluster| {
            produce_lines(&mut cluster, NOW_MS, "lines");
            black_box(cluster)
        });
    }

    fn with_topic() -> Cluster {
        let mut cluster = cluster();
        produce_lines(&mut cluster, NOW_MS, "lines");
        cluster
    }

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn file_sink_100k_records(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_topic).bench_local_values(|mut cluster| {
            let sink = serde_json::json!({"name": "out", "config": {
                "connector.class": "FileStreamSink", "file": "out.txt", "topics": "lines",
                "value.converter": STRING, "key.converter": STRING}});
            rest(&mut cluster, NOW_MS, sink);
            tick_until(&mut cluster, NOW_MS, |c, _| {
                c.connect_worker().counts("out", 0).records == LINES as u64
            });
            black_box(cluster)
        });
    }

    const AVRO: &str = "io.confluent.connect.avro.AvroConverter";

    /// A connector's config with values through the AvroConverter (keys none: the lines have
    /// no key).
    fn avro(mut config: serde_json::Value) -> serde_json::Value {
        config["value.converter"] = AVRO.into();
        config["value.converter.schema.registry.url"] = "http://registry".into();
        config["key.converter"] = STRING.into();
        config
    }

    /// The same source as `file_source_100k_lines`, each value an Avro string in the registry's
    /// framing (its baseline: that row, StringConverter).
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn avro_file_source_100k_lines(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_file).bench_local_values(|mut cluster| {
            let source = serde_json::json!({"name": "src", "config": avro(serde_json::json!({
                "connector.class": "FileStreamSource", "file": "lines.txt", "topic": "lines"}))});
            rest(&mut cluster, NOW_MS, source);
            tick_until(&mut cluster, NOW_MS, |c, _| {
                c.connect_worker().counts("src", 0).records == LINES as u64
            });
            black_box(cluster)
        });
    }

    /// `lines` written by the AvroConverter (a source run to its end, not timed).
    fn with_avro_topic() -> Cluster {
        let mut cluster = with_file();
        let source = serde_json::json!({"name": "src", "config": avro(serde_json::json!({
            "connector.class": "FileStreamSource", "file": "lines.txt", "topic": "lines"}))});
        rest(&mut cluster, NOW_MS, source);
        let now_ms = tick_until(&mut cluster, NOW_MS, |c, _| {
            c.connect_worker().counts("src", 0).records == LINES as u64
        });
        let delete = Command::Connect { method: "DELETE".into(), path: "/connectors/src".into(), body: None };
        assert!(matches!(cluster.handle(now_ms, delete), Reply::Connect { status: 204, .. }));
        cluster
    }

    /// The same sink as `file_sink_100k_records`, each record's schema found by its id and its
    /// datum decoded (its baseline: that row, StringConverter).
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn avro_file_sink_100k_records(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_avro_topic).bench_local_values(
            |mut cluster| {
                let sink = serde_json::json!({"name": "out", "config": avro(serde_json::json!({
                "connector.class": "FileStreamSink", "file": "out.txt", "topics": "lines"}))});
                rest(&mut cluster, NOW_MS, sink);
                tick_until(&mut cluster, NOW_MS, |c, _| {
                    c.connect_worker().counts("out", 0).records == LINES as u64
                });
                black_box(cluster)
            },
        );
    }

    /// Distinct keys among the JDBC sink's records: each key's row is upserted ten times.
    const KEYS: usize = 10_000;

    /// 100,000 keyed JSON records (`{"n","city","note"}`, about 100 bytes), KEYS keys.
    fn with_keyed_topic() -> Cluster {
        let mut cluster = cluster();
        let create = Command::CreateTopic {
            name: "accounts".into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: None,
        };
        assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
        let records: Vec<BatchRecord> = (0..LINES)
            .map(|i| BatchRecord {
                key: Some(format!("k{:05}", i % KEYS).into_bytes()),
                value: Some(
                    format!(r#"{{"n":{i},"city":"Seoul","note":"{}"}}"#, "x".repeat(60)).into_bytes(),
                ),
                ..BatchRecord::default()
            })
            .collect();
        for chunk in records.chunks(LINES_PER_REQUEST) {
            let produce = Command::ProduceRecords {
                topic: "accounts".into(),
                partition: None,
                partitioner: Default::default(),
                acks: Default::default(),
                payload: encode_batches(chunk.to_vec(), NOW_MS).unwrap(),
            };
            assert!(!matches!(cluster.handle(NOW_MS, produce), Reply::Error(_)));
        }
        cluster
    }

    /// The keyed records through a sink reading them as schemaless JSON with string keys.
    fn keyed_sink(cluster: &mut Cluster, config: serde_json::Value) {
        let mut config = config;
        config["topics"] = "accounts".into();
        config["key.converter"] = STRING.into();
        config["value.converter"] = "org.apache.kafka.connect.json.JsonConverter".into();
        config["value.converter.schemas.enable"] = "false".into();
        rest(cluster, NOW_MS, serde_json::json!({"name": "out", "config": config}));
        tick_until(cluster, NOW_MS, |c, _| c.connect_worker().counts("out", 0).records == LINES as u64);
    }

    /// The JDBC sink upserting 100,000 records into 10,000 rows of a table in memory (the tab's).
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn jdbc_sink_upserts_100k_records(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_keyed_topic).bench_local_values(|mut cluster| {
            keyed_sink(
                &mut cluster,
                serde_json::json!({"connector.class": "JdbcSink", "connection.url": "jdbc:sqlite:bank.db",
                    "insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "name", "auto.create": "true"}),
            );
            black_box(cluster)
        });
    }

    /// Its baseline: FileStreamSink writing the same records, read the same way, to a file.
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn baseline_file_sink_the_same_100k_records(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_keyed_topic).bench_local_values(
            |mut cluster| {
                keyed_sink(
                    &mut cluster,
                    serde_json::json!({"connector.class": "FileStreamSink", "file": "out.txt"}),
                );
                black_box(cluster)
            },
        );
    }

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn baseline_consume_the_same_100k_records(bencher: Bencher) {
        bencher.counter(ItemsCount::new(LINES)).with_inputs(with_topic).bench_local_values(|mut cluster| {
            let open = Command::OpenConsumer {
                group: Some("reader".into()),
                topics: vec!["lines".into()],
                partitions: Vec::new(),
                client_id: None,
                auto_offset_reset: Some("earliest".into()),
                assignors: Vec::new(),
                enable_auto_commit: Some(false),
                session_timeout_ms: None,
                isolation_level: Default::default(),
            };
            let Reply::ConsumerOpened { consumer } = cluster.handle(NOW_MS, open) else {
                panic!("no consumer")
            };
            let mut kept: Vec<u8> = Vec::new();
            let mut read = 0;
            tick_until(&mut cluster, NOW_MS, |c, now_ms| {
                let poll = Command::Poll {
                    consumer,
                    max_records: Some(500),
                    key_deserializer: Default::default(),
                    value_deserializer: Default::default(),
                };
                if let Reply::Polled { records, .. } = c.handle(now_ms, poll) {
                    read += records.len();
                    for r in records {
                        kept.extend(r.record.value.unwrap_or_default().into_bytes());
                        kept.push(b'\n');
                    }
                }
                read == LINES
            });
            black_box((cluster, kept))
        });
    }
}
