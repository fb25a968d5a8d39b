//! Reading the API's JSON messages: a 4,000-record `produce_batch` (what the tab's producer sends
//! the worker), its answer record by record (`produced_batch`) and per partition
//! (`produced_records`, what the page asks for), beside the same texts read into
//! `serde_json::Value`, a buffered read like serde's own for internally tagged enums.
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
    use divan::counter::{BytesCount, ItemsCount};
    use divan::{Bencher, black_box};
    use kite_shared::api::{
        BatchedRecord, ClientMessage, Command, ProducedPartition, ProducedRecord, Reply, ServerMessage,
        decode_client_message, decode_server_message, encode,
    };

    /// Records per request: the tab producer's request size.
    const RECORDS_PER_REQUEST: usize = 4_000;
    /// Each record's value: Kreps's 100-byte benchmark records.
    const VALUE_BYTES: usize = 100;

    fn request() -> String {
        let records = (0..RECORDS_PER_REQUEST)
            .map(|i| BatchedRecord {
                key: Some(format!("key-{i}")),
                value: Some("v".repeat(VALUE_BYTES)),
                ..BatchedRecord::default()
            })
            .collect();
        let command = Command::ProduceBatch {
            topic: "orders".into(),
            partition: None,
            partitioner: Default::default(),
            key_serializer: Default::default(),
            value_serializer: Default::default(),
            records,
            acks: Default::default(),
            answer_per_partition: true,
        };
        encode(&ClientMessage { id: 7, command: command.into() })
    }

    fn answer() -> String {
        let records = (0..RECORDS_PER_REQUEST)
            .map(|i| ProducedRecord {
                partition: (i % 3) as i32,
                offset: (i / 3) as i64,
                timestamp_ms: 1_700_000_000_000 + i as i64,
            })
            .collect();
        encode(&ServerMessage::Reply {
            id: 7,
            reply: Reply::ProducedBatch { topic: "orders".into(), records },
        })
    }

    /// Times `read` on `text`, counting its records and bytes.
    fn reads<T>(bencher: Bencher, text: String, read: impl Fn(&str) -> T + Sync) {
        bencher
            .counter(ItemsCount::new(RECORDS_PER_REQUEST))
            .counter(BytesCount::new(text.len()))
            .bench(|| read(black_box(&text)));
    }

    fn buffered(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("JSON")
    }

    /// The same answer per partition, as the page's generator asks for it (`produced_records`).
    fn answer_per_partition() -> String {
        let partitions = (0..RECORDS_PER_REQUEST).map(|i| (i % 3) as i32).collect();
        let batches = (0..3)
            .map(|partition| ProducedPartition { partition, base_offset: 0, log_append_time_ms: None })
            .collect();
        encode(&ServerMessage::Reply {
            id: 7,
            reply: Reply::ProducedRecords { topic: "orders".into(), partitions, batches },
        })
    }

    #[divan::bench]
    fn produce_batch_request(bencher: Bencher) {
        reads(bencher, request(), |text| decode_client_message(text).expect("our own request"));
    }

    #[divan::bench]
    fn produce_batch_request_baseline_value(bencher: Bencher) {
        reads(bencher, request(), buffered);
    }

    #[divan::bench]
    fn produced_batch_answer(bencher: Bencher) {
        reads(bencher, answer(), |text| decode_server_message(text).expect("our own answer"));
    }

    #[divan::bench]
    fn produced_records_answer(bencher: Bencher) {
        reads(bencher, answer_per_partition(), |text| decode_server_message(text).expect("our own answer"));
    }

    #[divan::bench]
    fn produced_batch_answer_baseline_value(bencher: Bencher) {
        reads(bencher, answer(), buffered);
    }
}
