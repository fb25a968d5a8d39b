//! The fuzz targets' checks, one module each: the libFuzzer targets (`cargo xtask fuzz TARGET`, on
//! nightly) call them with the fuzzer's inputs, and a stable test (`shared/tests/fuzz_corpora.rs`)
//! replays every committed seed and corpus through them on every `cargo xtask test`.
#![allow(dead_code)]

use kite_shared::api::{Frame, decode_server_frame, decode_server_message};
use kite_shared::cluster::Cluster;
use kite_shared::config::TopicConfig;
use kite_shared::group::coordinator::{CoordinatorConfig, GroupCoordinator};
use kite_shared::group::offsets_topic::{
    ConsumerAssignment, ConsumerSubscription, GroupMetadataValue, OffsetCommitValue, OffsetsKey,
};
use kite_shared::host::{serve_frame, serve_text};
use kite_shared::log::index::DEFAULT_SEGMENT_INDEX_BYTES;
use kite_shared::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use kite_shared::log::segment::{DEFAULT_INDEX_INTERVAL_BYTES, LogSegment};
use kite_shared::log::storage::MemoryPartitionStore;
use kite_shared::record::batch::RecordBatch;
use kite_shared::scenario::{ScenarioRun, from_url, parse};
use kite_shared::trace::Trace;
use std::collections::BTreeMap;

/// RecordBatch v2 layout: batchLength field, CRC field, start of the CRC's coverage, header size.
const BATCH_LENGTH_AT: usize = 8;
const CRC_AT: usize = 17;
const CRC_COVERS_FROM: usize = 21;
const LOG_OVERHEAD_BYTES: usize = 12;
const BATCH_HEADER_BYTES: usize = 61;

/// `data` with every RecordBatch's CRC rewritten to match (walking batchLength fields from the
/// start): random bytes almost never carry a valid CRC-32C, which would keep the fuzzer at the door.
fn fix_crcs(data: &[u8]) -> Vec<u8> {
    let mut fixed = data.to_vec();
    let mut at = 0;
    while at + BATCH_HEADER_BYTES <= fixed.len() {
        let length =
            i32::from_be_bytes(fixed[at + BATCH_LENGTH_AT..at + BATCH_LENGTH_AT + 4].try_into().unwrap());
        let Ok(length) = usize::try_from(length) else { break };
        if length + LOG_OVERHEAD_BYTES < BATCH_HEADER_BYTES {
            break;
        }
        let end = (at + LOG_OVERHEAD_BYTES + length).min(fixed.len());
        let crc = crc32c::crc32c(&fixed[at + CRC_COVERS_FROM..end]);
        fixed[at + CRC_AT..at + CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
        at = end;
    }
    fixed
}

/// Arbitrary text and binary frames into the engine's API entry point, as a websocket or worker
/// message would bring them: every input gets an answer that is itself a valid server frame, and
/// nothing panics.
pub(crate) mod api_message_decode {
    #[allow(unused_imports)]
    use super::*;

    pub(crate) fn check_input(data: &[u8]) {
        let mut cluster = Cluster::new(0);
        if let Ok(text) = std::str::from_utf8(data) {
            let answer = serve_text(&mut cluster, 1_700_000_000_000, text);
            decode_server_message(&answer).expect("the engine's answers always decode");
        }
        // The same bytes as a binary frame, and behind a valid binary prefix (so the fuzzer reaches
        // the header and the record payload).
        let answer = serve_frame(&mut cluster, 1_700_000_000_000, &Frame::Binary(data.to_vec()));
        decode_server_frame(&answer).expect("the engine's answers always decode");
        let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
        let mut framed = b"KB\x01".to_vec();
        framed.extend_from_slice(&(split as u32).to_be_bytes());
        framed.extend_from_slice(data);
        let answer = serve_frame(&mut cluster, 1_700_000_000_000, &Frame::Binary(framed));
        decode_server_frame(&answer).expect("the engine's answers always decode");
    }
}

/// Arbitrary bytes as a partition directory after a crash or a clean stop: a `.log`, its `.index`,
/// `.timeindex` and `.txnindex`, a producer `.snapshot` and a `leader-epoch-checkpoint`. Opening
/// must never panic (it may refuse with an error), and an opened log must serve every offset, its
/// aborted transactions and its producer state without panicking.
///
/// The first five bytes pick how the rest is split between the files; the second half of the
/// runs rewrites the log's CRCs to match so the fuzzer gets past them.
pub(crate) mod log_open {
    #[allow(unused_imports)]
    use super::*;

    fn open(files: BTreeMap<String, Vec<u8>>, clean_shutdown: bool, recovery_point: i64) {
        let store = Box::new(MemoryPartitionStore::with_files("p", files, None));
        let config = LogConfig::from(&TopicConfig::default());
        let checkpoints =
            OpenCheckpoints { clean_shutdown, recovery_point: Some(recovery_point), log_start_offset: None };
        let Ok((log, _)) = LocalLog::open(config, store, checkpoints) else { return };
        let _ = log.aborted_transactions(log.log_start_offset(), log.log_end_offset());
        let _ = log.producer_state();
        let mut offset = log.log_start_offset();
        while offset < log.log_end_offset() {
            let Ok(bytes) = log.read(offset, 1 << 20) else { break };
            match RecordBatch::decode(&bytes) {
                Ok((batch, _)) if batch.base_offset + i64::from(batch.last_offset_delta) >= offset => {
                    offset = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
                }
                _ => break,
            }
        }
    }

    pub(crate) fn check_input(data: &[u8]) {
        if data.len() < 5 {
            return;
        }
        let (split, rest) = data.split_at(5);
        let mut parts = Vec::new();
        let mut rest = rest;
        for &len in split {
            let (part, tail) = rest.split_at((len as usize).min(rest.len()));
            parts.push(part.to_vec());
            rest = tail;
        }
        let files = BTreeMap::from([
            ("00000000000000000000.index".to_string(), parts[0].clone()),
            ("00000000000000000000.timeindex".to_string(), parts[1].clone()),
            ("leader-epoch-checkpoint".to_string(), parts[2].clone()),
            ("00000000000000000000.txnindex".to_string(), parts[3].clone()),
            ("00000000000000000000.snapshot".to_string(), parts[4].clone()),
            ("00000000000000000000.log".to_string(), rest.to_vec()),
        ]);
        // A producer snapshot that reads back writes the same bytes.
        if let Ok(entries) = kite_shared::log::producer_snapshot::decode(&parts[4]) {
            assert_eq!(kite_shared::log::producer_snapshot::encode(&entries), parts[4]);
        }
        // A transaction index that reads back writes the same bytes.
        if let Ok(entries) = kite_shared::log::txn_index::decode(&parts[3]) {
            let bytes: Vec<u8> = entries.iter().flat_map(|e| e.encode()).collect();
            assert_eq!(bytes, parts[3]);
        }
        for clean in [true, false] {
            open(files.clone(), clean, i64::from(split[0]));
        }
    }
}

/// Arbitrary bytes as a `__consumer_offsets` record and as consumer-protocol payloads: every
/// decoder returns a value or a typed error, never panics, never allocates past what the input
/// could hold; what decodes re-encodes to bytes that decode to the same value. The coordinator
/// rebuilt from such records must answer a describe without panicking.
pub(crate) mod offsets_record_decode {
    #[allow(unused_imports)]
    use super::*;

    pub(crate) fn check_input(data: &[u8]) {
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
    }
}

/// Arbitrary bytes into the RecordBatch v2 decoder: it must never panic, whatever it accepts
/// must survive encode → decode unchanged, and `RecordBatch::check` (the in-place check of a batch
/// stored as it came) must accept exactly what it accepts.
///
/// Random bytes almost never carry a valid CRC-32C, which would keep the fuzzer at the door. So
/// each input is decoded twice: as it is, and with its CRC field rewritten to match, which lets
/// the fuzzer reach record parsing and decompression with the decoder itself unchanged.
pub(crate) mod record_batch_decode {
    #[allow(unused_imports)]
    use super::*;

    fn check(data: &[u8]) {
        // The in-place check a broker stores a batch after accepts exactly what decode does.
        let checked = RecordBatch::check(data);
        assert_eq!(checked.is_ok(), RecordBatch::decode(data).is_ok(), "check and decode disagree");
        if let (Ok((batch, used)), Ok((checked, checked_used))) = (RecordBatch::decode(data), checked) {
            assert_eq!(used, checked_used);
            let deltas: Vec<i64> = batch.records.iter().map(|r| r.timestamp_delta).collect();
            assert_eq!(checked.timestamp_deltas, deltas);
        }
        if let Ok((batch, used)) = RecordBatch::decode(data) {
            assert!(used <= data.len());
            let bytes = batch.encode().expect("a decoded batch re-encodes");
            let (again, _) = RecordBatch::decode(&bytes).expect("a re-encoded batch decodes");
            assert_eq!(again, batch);
        }
    }

    pub(crate) fn check_input(data: &[u8]) {
        check(data);
        check(&fix_crcs(data));
    }
}

/// Arbitrary text as a scenario script and as a `?scenario=` parameter (both come from pages and
/// links a docs author or a reader controls): parsing answers with a script or a line-numbered
/// error, and nothing panics. (Playing what parses is `scenario_play`: a whole run each, a
/// thousand times slower.)
pub(crate) mod scenario_parse {
    #[allow(unused_imports)]
    use super::*;

    pub(crate) fn check_input(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let _ = from_url(text);
        let _ = parse(text);
    }
}

/// Arbitrary text as a scenario script, played to its end when it parses: every step answers,
/// each question is answered with its last choice, and nothing panics.
pub(crate) mod scenario_play {
    #[allow(unused_imports)]
    use super::*;

    pub(crate) fn check_input(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else { return };
        if let Ok(script) = parse(text) {
            let mut cluster = ScenarioRun::cluster_for(&script);
            let mut run = ScenarioRun::new(script);
            while let Some(report) = run.step(&mut cluster) {
                if let kite_shared::api::Outcome::Asked { choices, .. } = &report.outcome {
                    let last = choices.last().expect("a question has choices");
                    run.answer(last).expect("a question's own choice is an answer");
                }
            }
        }
    }
}

/// Arbitrary bytes as a `.log` file after a crash: recovery must never panic, must keep a prefix of
/// the bytes, and recovering what it kept must keep all of it.
///
/// Each input is also tried with every batch's CRC rewritten to match (walking batchLength fields
/// from the start), so the fuzzer reaches multi-batch logs and the checks after the CRC.
pub(crate) mod segment_recover {
    #[allow(unused_imports)]
    use super::*;

    fn check(data: &[u8]) {
        let (segment, report) = LogSegment::recover_bytes(
            0,
            data.to_vec(),
            DEFAULT_INDEX_INTERVAL_BYTES,
            DEFAULT_SEGMENT_INDEX_BYTES,
        );
        assert_eq!(&*segment.log_bytes().unwrap(), &data[..report.valid_bytes]);
        assert_eq!(report.valid_bytes + report.truncated_bytes, data.len());
        let (again, second) = LogSegment::recover_bytes(
            0,
            segment.log_bytes().unwrap().to_vec(),
            DEFAULT_INDEX_INTERVAL_BYTES,
            DEFAULT_SEGMENT_INDEX_BYTES,
        );
        assert_eq!(second.truncated_bytes, 0);
        assert_eq!(again, segment);
    }

    pub(crate) fn check_input(data: &[u8]) {
        check(data);
        check(&fix_crcs(data));
    }
}

/// Arbitrary bytes as a KRaft controller's files (`controller-N/__cluster_metadata-0/`): its
/// `quorum-state`, a `.checkpoint` snapshot and the metadata log's first segment, each a part of
/// the input (two big-endian lengths first, the segment's batch CRCs made right). Opening them
/// returns the voter's state or an error naming the file, never a panic or a read that goes on
/// forever; what opens, written back by a voter that holds it, opens again the same.
pub(crate) mod metadata_log_open {
    #[allow(unused_imports)]
    use super::*;
    use kite_shared::cluster::quorum_store::{METADATA_LOG_DIR, QUORUM_STATE_FILE, VoterStore};
    use kite_shared::log::storage::{FileMap, Journal, MemoryBrokerStore};

    const VOTERS: [i32; 3] = [0, 1, 2];

    pub(crate) fn check_input(data: &[u8]) {
        if data.len() < 4 {
            return;
        }
        let length = |at: usize| usize::from(u16::from_be_bytes([data[at], data[at + 1]]));
        let rest = &data[4..];
        let (state, rest) = rest.split_at(length(0).min(rest.len()));
        let (checkpoint, segment) = rest.split_at(length(2).min(rest.len()));
        let file =
            |name: &str, bytes: &[u8]| ((METADATA_LOG_DIR.to_string(), name.to_string()), bytes.to_vec());
        let mut files: FileMap = [
            file("00000000000000000003.log", &fix_crcs(segment)),
            file("00000000000000000003-0000000001.checkpoint", &fix_crcs(checkpoint)),
        ]
        .into_iter()
        .collect();
        if !state.is_empty() {
            files.insert((METADATA_LOG_DIR.to_string(), QUORUM_STATE_FILE.to_string()), state.to_vec());
        }
        let store = Box::new(MemoryBrokerStore::journaled(files, Journal::default()));
        let Ok((_, durable)) = VoterStore::open(store, &VOTERS) else { return };
        // What opened is a voter's state: a fresh controller directory that a voter holding it
        // saves reads back as the same.
        let mut rng = kite_shared::random::Rng::from_seed(1);
        let voter = kite_shared::replication::quorum::QuorumNode::start(
            0,
            &VOTERS,
            durable.state,
            durable.snapshot.clone(),
            durable.log.clone(),
            0,
            &mut rng,
        );
        let disk = kite_shared::log::power_cut::PowerCutDisk::default();
        let fresh = Box::new(disk.store("controller-0"));
        let (mut saved, _) = VoterStore::open(fresh, &VOTERS).expect("an empty directory opens");
        saved.save(&voter, 0).expect("a voter's state is written");
        let (_, again) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).expect("it opens");
        assert_eq!((again.snapshot, again.log), (durable.snapshot, durable.log));
    }
}

/// Arbitrary bytes as an Avro datum of one of a few schemas (the first byte picks it), recursive
/// ones included: reading answers with JSON or an error — never a panic, never a stack overflow,
/// never work beyond the datum's limits — and JSON read back from a datum writes a datum that
/// reads back to the same JSON.
pub(crate) mod avro_datum {
    #[allow(unused_imports)]
    use super::*;

    /// A linked list, a tree of maps and arrays, and every scalar type in a union.
    pub(crate) const SCHEMAS: &[&str] = &[
        r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"R","fields":[
            {"name":"m","type":{"type":"map","values":["null","R"]}},
            {"name":"a","type":{"type":"array","items":{"type":"enum","name":"E","symbols":["X","Y"]}}},
            {"name":"f","type":{"type":"fixed","name":"F","size":2}}]}"#,
        r#"["null","boolean","int","long","float","double","bytes","string",{"type":"array","items":"long"}]"#,
    ];

    /// The schemas, parsed once: parsing them for every input was most of a run's time.
    fn parsed() -> &'static [apache_avro::Schema] {
        static PARSED: std::sync::OnceLock<Vec<apache_avro::Schema>> = std::sync::OnceLock::new();
        PARSED.get_or_init(|| {
            SCHEMAS
                .iter()
                .map(|text| apache_avro::Schema::parse_str(text).expect("the fuzz schemas parse"))
                .collect()
        })
    }

    pub(crate) fn check_input(data: &[u8]) {
        let Some((&pick, datum)) = data.split_first() else { return };
        let schema = &parsed()[usize::from(pick) % SCHEMAS.len()];
        if let Ok(json) = kite_shared::avro::decode_to_json(schema, datum) {
            let written = kite_shared::avro::encode_json(schema, &json).expect("what was read writes again");
            let again = kite_shared::avro::decode_to_json(schema, &written).expect("what was written reads");
            assert_eq!(again, json);
        }
    }
}

/// Arbitrary bytes on a Kafka listener, as a client's socket would bring them, in two reads split
/// where the first byte says (with SASL/PLAIN required when its low bit is set): each read is
/// answered with whole responses — a size and that many bytes, nothing left over — or closes the
/// connection. Nothing panics, no decoder panic is caught on the way (libFuzzer's hook aborts on
/// any panic, caught or not), and a new connection is answered afterwards.
pub(crate) mod kafka_request {
    #[allow(unused_imports)]
    use super::*;
    use kite_shared::api::{Command, Reply};
    use kite_shared::kafka::{AdvertisedBroker, KafkaConnection, KafkaListener};

    const NOW_MS: i64 = 1_700_000_000_000;
    /// ApiVersions v0 (key 18), correlation id 1, no client id: what every client sends first.
    const API_VERSIONS: [u8; 14] = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff];

    fn listener(sasl: bool) -> KafkaListener {
        let broker = AdvertisedBroker { id: 0, host: "127.0.0.1".into(), port: 9092 };
        KafkaListener {
            broker: 0,
            brokers: vec![broker],
            sasl_plain_password: sasl.then(|| "pw".to_string()),
        }
    }

    /// Every response in `out` whole, and nothing else.
    fn whole_responses(out: &[u8]) {
        let mut at = 0;
        while at < out.len() {
            let size = i32::from_be_bytes(out[at..at + 4].try_into().expect("a size prefix"));
            let size = usize::try_from(size).expect("a size of 0 or more");
            at += 4 + size;
            assert!(at <= out.len(), "a response cut short");
        }
    }

    pub(crate) fn check_input(data: &[u8]) {
        let Some((&pick, bytes)) = data.split_first() else { return };
        let mut cluster = Cluster::new(0);
        let mut connection = KafkaConnection::new(listener(pick & 1 == 1));
        let split = usize::from(pick >> 1).min(bytes.len());
        for read in [&bytes[..split], &bytes[split..]] {
            match connection.receive(&mut cluster, NOW_MS, read) {
                Ok(out) => whole_responses(&out),
                Err(_) => break,
            }
        }
        let mut fresh = KafkaConnection::new(listener(false));
        let out = fresh.receive(&mut cluster, NOW_MS, &API_VERSIONS).expect("a new connection is answered");
        assert!(!out.is_empty(), "ApiVersions is answered");
        whole_responses(&out);
        // The protocol inspector decodes whatever was sent, and never shows a password.
        let inspected = cluster.handle(NOW_MS, Command::InspectKafka { after: 0 });
        let Reply::KafkaExchanges { exchanges } = inspected else { panic!("not inspected: {inspected:?}") };
        assert!(!exchanges.is_empty(), "the ApiVersions at least is kept");
        for exchange in exchanges.iter().filter(|e| e.api == "SaslAuthenticate") {
            assert!(exchange.request.redacted && exchange.request.hex.len() <= 12 * 3, "{exchange:?}");
        }
    }
}

/// The stateful target: the host simulator (`kite sim --host`) with every choice — the faults on
/// and how often, each step's request, fault and clock move — read from the input instead of a
/// seed. Three brokers, or one when the first byte is odd; `--fsync` when its second bit is set.
/// A run that breaks one of the checker's rules (an acknowledged record lost, an offset given
/// twice, a partition that never serves again, …) or panics is a crash.
pub(crate) mod host_sim_choices {
    #[allow(unused_imports)]
    use super::*;
    use kite_shared::host_sim;

    pub(crate) fn check_input(data: &[u8]) {
        let Some((&pick, choices)) = data.split_first() else { return };
        let brokers = if pick & 1 == 1 { 1 } else { 3 };
        let fsync = pick & 2 == 2;
        let result = host_sim::run_on_bytes(brokers, fsync, choices);
        assert!(
            result.violations.is_empty(),
            "{} broker(s), fsync {fsync}: {}\n{}",
            brokers,
            result.violations.join("\n"),
            result.trace.join("\n")
        );
    }
}

/// Arbitrary text as Kite Connect's inputs: each line a REST request (`METHOD PATH [JSON body]`)
/// to a one-broker cluster's worker, with a second of ticks after each (so what was created
/// runs); the same lines as `connect-configs` and `connect-offsets` records read back, as a
/// connector config whose transforms are applied to a record, and as bytes for every converter.
/// Every answer is a status with a body when it is an error; nothing panics.
pub(crate) mod connect_request {
    #[allow(unused_imports)]
    use super::*;
    use kite_shared::api::{Command, Reply};
    use kite_shared::connect::converter::{Converter, Data};
    use kite_shared::connect::storage::{ConfigRecord, parse_offset_key};
    use kite_shared::connect::transforms::{Chain, ConnectRecord};

    /// Requests one input sends at most (each runs a second of the worker).
    const MAX_REQUESTS: usize = 16;

    pub(crate) fn check_input(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let mut cluster = Cluster::new(1);
        let mut now_ms = 1_700_000_000_000;
        let _ = cluster.handle(
            now_ms,
            Command::WriteConnectFile { path: "test.txt".into(), text: "foo\nbar\n".into(), append: false },
        );
        for line in text.lines().take(MAX_REQUESTS) {
            let mut parts = line.splitn(3, ' ');
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
            let body = parts.next().and_then(|b| serde_json::from_str(b).ok());
            let command = Command::Connect { method: method.into(), path: path.into(), body };
            match cluster.handle(now_ms, command) {
                Reply::Connect { status, body } => {
                    assert!((200..600).contains(&status), "status {status}");
                    assert!(
                        status < 400 || body.is_some_and(|b| b["error_code"] == status),
                        "an error has its body"
                    );
                }
                other => panic!("a connect request answered {other:?}"),
            }
            for _ in 0..100 {
                now_ms += 10;
                cluster.tick(now_ms);
            }
        }
        let _ = cluster.handle(now_ms, Command::DescribeConnect { file: Some("test.txt".into()) });
        let (key, value) = text.split_once('\n').unwrap_or((text, ""));
        let _ = ConfigRecord::parse(key, Some(value));
        let _ = parse_offset_key(key);
        // The Avro converter reads with a registry holding a record schema (id 1), so framed
        // input reaches the datum reader, and writes back through the same registry.
        let mut registry = kite_shared::schema_registry::SchemaRegistry::new();
        let record = r#"{"type":"record","name":"r","fields":[{"name":"a","type":["null","string"]}]}"#;
        let _ = registry.register("t-value", record);
        for converter in [
            Converter::String,
            Converter::ByteArray,
            Converter::Json { schemas_enable: true },
            Converter::Json { schemas_enable: false },
            Converter::Avro { auto_register: true },
        ] {
            if let Ok(data) = converter.deserialize(Some(data), "t", &registry) {
                let _ = converter.serialize(&data, ("t", false), &mut registry);
            }
        }
        let config: BTreeMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Ok(chain) = Chain::parse(&config) {
            let value =
                serde_json::from_str(value).map(Data::Json).unwrap_or(Data::String(value.to_string()));
            let record = ConnectRecord {
                topic: key.to_string(),
                partition: Some(0),
                offset: Some(0),
                timestamp_ms: 0,
                key: Data::Null,
                value,
                headers: Vec::new(),
            };
            let _ = chain.apply(record);
        }
        jdbc_rows(text, &config, key);
    }

    /// The same text as a JDBC sink's config (its `key=value` lines) and its records (each line,
    /// JSON when it parses, keyed by its first characters), written into tables in memory.
    fn jdbc_rows(text: &str, config: &BTreeMap<String, String>, topic: &str) {
        use kite_shared::connect::jdbc_sink::{JdbcConfig, Writer};
        use kite_shared::connect::tables::{ConnectTables, MemoryTables};
        let mut refused = false;
        let jdbc = JdbcConfig::parse(config, &mut |_, _| refused = true);
        if refused {
            return;
        }
        let mut tables = MemoryTables::default();
        let mut writer = Writer::new(&jdbc, "fuzz", "fuzz.db");
        for (offset, line) in text.lines().take(MAX_REQUESTS).enumerate() {
            let value = serde_json::from_str(line).map(Data::Json).unwrap_or(Data::String(line.to_string()));
            let record = ConnectRecord {
                topic: topic.to_string(),
                partition: Some(0),
                offset: Some(offset as i64),
                timestamp_ms: 0,
                key: Data::String(line.chars().take(8).collect()),
                value,
                headers: Vec::new(),
            };
            let _ = writer.add(&mut tables, &record);
        }
        let _ = writer.finish(&mut tables);
        let _ = tables.show("fuzz.db");
    }
}
