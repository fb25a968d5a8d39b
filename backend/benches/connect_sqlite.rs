//! The JDBC sink into a real SQLite file, beside raw SQLite in the same run (issue 25's row:
//! the sink's records/s against plain inserts of the same data, target ≥ 50 %):
//!
//! - the sink end to end: 100,000 keyed JSON records of a topic (10,000 keys) consumed by the
//!   engine's JDBC sink (upsert by key) and written through `SqliteTables`, a transaction a poll;
//! - `SqliteTables` alone applying the same rows as changes, 500 to a transaction;
//! - the baseline: rusqlite with one prepared `INSERT … ON CONFLICT DO UPDATE`, the same rows, the
//!   same transactions — what any program writing this table does at the least.
//!
//! SQLite's defaults throughout: a rollback journal, synchronous=FULL, every transaction durable.
//! Files go under `KITE_BENCH_DIR` (default: the system temp dir). `cargo xtask bench` runs it.

use std::path::{Path, PathBuf};

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use kite_backend::connect_sqlite::SqliteTables;
use kite_shared::api::{Command, Reply, TableView};
use kite_shared::cluster::Cluster;
use kite_shared::connect::encode_batches;
use kite_shared::connect::files::ConnectFiles;
use kite_shared::connect::tables::{Column, ColumnType, ConnectTables, SqlValue, TableChange, WriteMode};
use kite_shared::record::batch::BatchRecord;

fn main() {
    divan::main();
}

const ROWS_WRITTEN: usize = 100_000;
const KEYS: usize = 10_000;
/// `max.poll.records`: the records one sink poll applies in one transaction.
const ROWS_PER_TRANSACTION: usize = 500;
const NOW_MS: i64 = 1_700_000_000_000;
const TICK_MS: i64 = 10;
/// A sink that has not written every record after this much of the cluster's clock failed.
const LIMIT_MS: i64 = 600_000;

fn key(i: usize) -> String {
    format!("k{:05}", i % KEYS)
}

fn note() -> String {
    "x".repeat(60)
}

fn bench_file() -> PathBuf {
    let root = std::env::var_os("KITE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = root.join(format!("kite-bench-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a bench directory");
    dir.join("bank.db")
}

fn remove(path: &Path) {
    std::fs::remove_dir_all(path.parent().expect("its directory")).expect("removed");
}

/// The rows the table must end with.
fn check(path: &Path) {
    let db = rusqlite::Connection::open(path).expect("opened");
    let count: i64 = db.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).expect("counted");
    assert_eq!(count, KEYS as i64);
}

/// The connect directory for the engine's sink: its tables in SQLite, no files.
struct Dir {
    tables: SqliteTables,
    path: PathBuf,
}

impl ConnectTables for Dir {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        self.tables.columns(database, &self.path, table)
    }
    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        self.tables.apply(database, &self.path, changes)
    }
    fn show(&mut self, database: &str) -> Result<Vec<TableView>, String> {
        self.tables.show(database, &self.path)
    }
}

impl ConnectFiles for Dir {
    fn read(&mut self, _: &str, _: u64, _: usize) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
    fn append(&mut self, path: &str, _: &[u8]) -> Result<(), String> {
        Err(format!("no files here: {path}"))
    }
    fn write(&mut self, path: &str, _: &[u8]) -> Result<(), String> {
        Err(format!("no files here: {path}"))
    }
    fn flush(&mut self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn list(&mut self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// A three-broker cluster holding the records in `accounts`, and the database's path.
fn with_topic() -> (Cluster, PathBuf) {
    let mut cluster = Cluster::replicated_in_memory(1, 3, NOW_MS);
    let create = Command::CreateTopic {
        name: "accounts".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: None,
    };
    assert!(matches!(cluster.handle(NOW_MS, create), Reply::TopicCreated { .. }));
    let records: Vec<BatchRecord> = (0..ROWS_WRITTEN)
        .map(|i| BatchRecord {
            key: Some(key(i).into_bytes()),
            value: Some(format!(r#"{{"n":{i},"city":"Seoul","note":"{}"}}"#, note()).into_bytes()),
            ..BatchRecord::default()
        })
        .collect();
    for chunk in records.chunks(2_000) {
        let produce = Command::ProduceRecords {
            topic: "accounts".into(),
            partition: None,
            partitioner: Default::default(),
            acks: Default::default(),
            payload: encode_batches(chunk.to_vec(), NOW_MS).expect("encoded"),
        };
        assert!(!matches!(cluster.handle(NOW_MS, produce), Reply::Error(_)));
    }
    let path = bench_file();
    cluster.connect_worker().set_files(Box::new(Dir { tables: SqliteTables::default(), path: path.clone() }));
    (cluster, path)
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn jdbc_sink_into_sqlite_100k_records(bencher: Bencher) {
    bencher.counter(ItemsCount::new(ROWS_WRITTEN)).with_inputs(with_topic).bench_local_values(
        |(mut cluster, path)| {
            let sink = serde_json::json!({"name": "db", "config": {
            "connector.class": "JdbcSink", "topics": "accounts", "connection.url": "jdbc:sqlite:bank.db",
            "insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "name", "auto.create": "true",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false"}});
            let post =
                Command::Connect { method: "POST".into(), path: "/connectors".into(), body: Some(sink) };
            assert!(matches!(cluster.handle(NOW_MS, post), Reply::Connect { status: 201, .. }));
            let mut now_ms = NOW_MS;
            while cluster.connect_worker().counts("db", 0).records < ROWS_WRITTEN as u64 {
                now_ms += TICK_MS;
                assert!(now_ms < NOW_MS + LIMIT_MS, "the sink did not finish");
                cluster.tick(now_ms);
            }
            drop(cluster);
            check(&path);
            remove(&path);
        },
    );
}

/// The table, then the upserts, a transaction's worth each.
fn transactions() -> Vec<Vec<TableChange>> {
    let column = |name: &str, kind| Column { name: name.into(), kind, key: name == "name" };
    let create = TableChange::Create {
        table: "accounts".into(),
        columns: vec![
            column("name", ColumnType::Text),
            column("n", ColumnType::Integer),
            column("city", ColumnType::Text),
            column("note", ColumnType::Text),
        ],
    };
    let writes: Vec<TableChange> = (0..ROWS_WRITTEN)
        .map(|i| TableChange::Write {
            table: "accounts".into(),
            mode: WriteMode::Upsert,
            cells: vec![
                ("name".into(), SqlValue::Text(key(i))),
                ("n".into(), SqlValue::Integer(i as i64)),
                ("city".into(), SqlValue::Text("Seoul".into())),
                ("note".into(), SqlValue::Text(note())),
            ],
        })
        .collect();
    let mut all = vec![vec![create]];
    all.extend(writes.chunks(ROWS_PER_TRANSACTION).map(<[TableChange]>::to_vec));
    all
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn sqlite_tables_apply_the_same_rows(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(ROWS_WRITTEN))
        .with_inputs(|| (transactions(), bench_file()))
        .bench_local_values(|(transactions, path)| {
            let mut tables = SqliteTables::default();
            for changes in &transactions {
                tables.apply("bank.db", &path, changes).expect("applied");
            }
            drop(tables);
            check(&path);
            remove(&path);
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn baseline_raw_sqlite_upserts_the_same_rows(bencher: Bencher) {
    bencher.counter(ItemsCount::new(ROWS_WRITTEN)).with_inputs(bench_file).bench_local_values(|path| {
        let mut db = rusqlite::Connection::open(&path).expect("opened");
        db.execute_batch(
            "CREATE TABLE accounts (name TEXT NOT NULL, n INTEGER NULL, city TEXT NULL, note TEXT NULL, PRIMARY KEY(name))",
        )
        .expect("created");
        let note = note();
        for start in (0..ROWS_WRITTEN).step_by(ROWS_PER_TRANSACTION) {
            let tx = db.transaction().expect("begun");
            {
                let mut upsert = tx
                    .prepare_cached(
                        "INSERT INTO accounts(name,n,city,note) VALUES(?,?,?,?) ON CONFLICT(name) DO UPDATE SET n=excluded.n,city=excluded.city,note=excluded.note",
                    )
                    .expect("prepared");
                for i in start..start + ROWS_PER_TRANSACTION {
                    upsert.execute(rusqlite::params![key(i), i as i64, "Seoul", note]).expect("upserted");
                }
            }
            tx.commit().expect("committed");
        }
        black_box(&db);
        drop(db);
        check(&path);
        remove(&path);
    });
}
