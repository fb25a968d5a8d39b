//! The JDBC sink's databases on `kite serve`: real SQLite files in the connect directory
//! (rusqlite), written with the changes the engine's sink computes, one transaction a poll.
//! `sqlite3 <connect-dir>/bank.db` opens the same table the UI shows.

use std::collections::BTreeMap;
use std::path::Path;

use kite_shared::api::TableView;
use kite_shared::connect::tables::{Column, ColumnType, SqlValue, TableChange, WriteMode};
use kite_shared::limits::{MAX_CONNECT_FILE_BYTES, MAX_CONNECT_TABLE_ROWS_SHOWN, MAX_CONNECT_TABLES_SHOWN};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};

/// Databases kept open at once; opening one more closes the others (reopening costs a file
/// open, holding hundreds costs descriptors).
const MAX_OPEN_DATABASES: usize = 16;
/// SQLite's page size Kite creates databases with, in bytes (SQLite's default).
const PAGE_BYTES: u64 = 4096;

/// The open databases, by their path inside the connect directory.
#[derive(Default)]
pub struct SqliteTables {
    open: BTreeMap<String, Connection>,
}

/// A name quoted as an SQL identifier: the table and column names come from topics and records.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn shown(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => SqlValue::Integer(n).shown(),
        ValueRef::Real(x) => SqlValue::Real(x).shown(),
        ValueRef::Text(text) => Some(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Some(kite_shared::serializer::hex(bytes)),
    }
}

/// An SQLite error as the sink reports it: SQLite's own message ("UNIQUE constraint failed: …").
fn said(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message,
        other => other.to_string(),
    }
}

impl SqliteTables {
    /// The connection to `database` (at `path`), opened (and created) when not yet open.
    fn connection(&mut self, database: &str, path: &Path) -> Result<&mut Connection, String> {
        if !self.open.contains_key(database) {
            if self.open.len() >= MAX_OPEN_DATABASES {
                self.open.clear();
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let connection =
                Connection::open(path).map_err(|e| format!("cannot open {database}: {}", said(e)))?;
            // A database grows no larger than a connect file may.
            let pages = MAX_CONNECT_FILE_BYTES / PAGE_BYTES;
            connection
                .execute_batch(&format!("PRAGMA page_size={PAGE_BYTES}; PRAGMA max_page_count={pages};"))
                .map_err(|e| format!("{database} is not an SQLite database: {}", said(e)))?;
            self.open.insert(database.to_string(), connection);
        }
        self.open.get_mut(database).ok_or_else(|| format!("{database} did not open"))
    }

    /// `table`'s columns, key columns in key order first; `None` when it does not exist.
    pub fn columns(
        &mut self,
        database: &str,
        path: &Path,
        table: &str,
    ) -> Result<Option<Vec<Column>>, String> {
        columns_of(self.connection(database, path)?, table).map_err(said)
    }

    /// Applies the changes in one transaction.
    pub fn apply(&mut self, database: &str, path: &Path, changes: &[TableChange]) -> Result<(), String> {
        let connection = self.connection(database, path)?;
        let tx = connection.transaction().map_err(said)?;
        let mut prepared = Prepared::default();
        for change in changes {
            apply_one(&tx, change, &mut prepared).map_err(said)?;
        }
        tx.commit().map_err(said)
    }

    /// The database's tables for the viewer; none when the file is not there yet.
    pub fn show(&mut self, database: &str, path: &Path) -> Result<Vec<TableView>, String> {
        if !path.exists() {
            return Ok(Vec::new());
        }
        let connection = self.connection(database, path)?;
        show(connection, database).map_err(said)
    }
}

fn columns_of(connection: &Connection, table: &str) -> rusqlite::Result<Option<Vec<Column>>> {
    let mut info = connection.prepare(&format!("PRAGMA table_info({})", quoted(table)))?;
    // (key position, column): PRAGMA's `pk` is the column's place in the key, 0 outside it.
    let mut columns: Vec<(i64, Column)> = info
        .query_map([], |row| {
            let kind: String = row.get(2)?;
            let key_position: i64 = row.get(5)?;
            Ok((
                key_position,
                Column { name: row.get(1)?, kind: ColumnType::of_sql(&kind), key: key_position > 0 },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if columns.is_empty() {
        return Ok(None);
    }
    columns.sort_by_key(|(position, _)| if *position > 0 { *position } else { i64::MAX });
    Ok(Some(columns.into_iter().map(|(_, c)| c).collect()))
}

fn apply_one(
    tx: &rusqlite::Transaction<'_>,
    change: &TableChange,
    prepared: &mut Prepared,
) -> rusqlite::Result<()> {
    match change {
        TableChange::Create { table, columns } => {
            prepared.keys.remove(table);
            prepared.last = None;
            let mut defs: Vec<String> = columns
                .iter()
                .map(|c| {
                    format!(
                        "{} {} {}",
                        quoted(&c.name),
                        c.kind.sql(),
                        if c.key { "NOT NULL" } else { "NULL" }
                    )
                })
                .collect();
            let key: Vec<String> = columns.iter().filter(|c| c.key).map(|c| quoted(&c.name)).collect();
            if !key.is_empty() {
                defs.push(format!("PRIMARY KEY({})", key.join(",")));
            }
            tx.execute_batch(&format!("CREATE TABLE {} (\n{})", quoted(table), defs.join(",\n")))
        }
        TableChange::AddColumn { table, column } => tx.execute_batch(&format!(
            "ALTER TABLE {} ADD {} {} NULL",
            quoted(table),
            quoted(&column.name),
            column.kind.sql()
        )),
        TableChange::Write { table, mode, cells } => write(tx, prepared, table, *mode, cells),
        TableChange::Delete { table, key } => {
            let wheres: Vec<String> = key.iter().map(|(name, _)| format!("{}=?", quoted(name))).collect();
            let sql = format!("DELETE FROM {} WHERE {}", quoted(table), wheres.join(" AND "));
            tx.prepare_cached(&sql)?.execute(params_from_iter(key.iter().map(|(_, v)| Bound(v))))?;
            Ok(())
        }
    }
}

/// A cell: its column's name and its value.
type Cell = (String, SqlValue);

/// A cell's value bound as a parameter without a copy.
struct Bound<'a>(&'a SqlValue);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.0 {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Integer(n) => ValueRef::Integer(*n),
            SqlValue::Real(x) => ValueRef::Real(*x),
            SqlValue::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

/// A write's statement: its SQL and which cell each `?` takes.
struct Statement {
    table: String,
    mode: WriteMode,
    names: Vec<String>,
    sql: String,
    order: Vec<usize>,
}

impl Statement {
    /// Whether it writes `cells` into `table` by `mode` (a poll's rows are alike).
    fn fits(&self, table: &str, mode: WriteMode, cells: &[Cell]) -> bool {
        self.table == table
            && self.mode == mode
            && self.names.len() == cells.len()
            && self.names.iter().zip(cells).all(|(name, (cell, _))| name == cell)
    }

    /// The statement Confluent's SQLite dialect writes `cells` with; an update of no column
    /// but the key has no SQL (nothing to do).
    fn new(table: &str, mode: WriteMode, cells: &[Cell], key: &[String]) -> Statement {
        let is_key = |name: &str| key.iter().any(|k| k == name);
        let names: Vec<String> = cells.iter().map(|(name, _)| quoted(name)).collect();
        let marks = vec!["?"; cells.len()].join(",");
        let (keys, values): (Vec<usize>, Vec<usize>) = (0..cells.len()).partition(|&i| is_key(&cells[i].0));
        let all: Vec<usize> = (0..cells.len()).collect();
        let (sql, order) = match mode {
            WriteMode::Insert => {
                (format!("INSERT INTO {}({}) VALUES({marks})", quoted(table), names.join(",")), all)
            }
            WriteMode::Upsert => {
                let key: Vec<&str> = keys.iter().map(|&i| names[i].as_str()).collect();
                let set: Vec<String> =
                    values.iter().map(|&i| format!("{0}=excluded.{0}", names[i])).collect();
                let action = if set.is_empty() {
                    "NOTHING".to_string()
                } else {
                    format!("UPDATE SET {}", set.join(","))
                };
                let sql = format!(
                    "INSERT INTO {}({}) VALUES({marks}) ON CONFLICT({}) DO {action}",
                    quoted(table),
                    names.join(","),
                    key.join(",")
                );
                (sql, all)
            }
            WriteMode::Update if values.is_empty() => (String::new(), Vec::new()),
            WriteMode::Update => {
                let set: Vec<String> = values.iter().map(|&i| format!("{}=?", names[i])).collect();
                let wheres: Vec<String> = keys.iter().map(|&i| format!("{}=?", names[i])).collect();
                let sql =
                    format!("UPDATE {} SET {} WHERE {}", quoted(table), set.join(","), wheres.join(" AND "));
                (sql, values.into_iter().chain(keys).collect())
            }
        };
        let names = cells.iter().map(|(name, _)| name.clone()).collect();
        Statement { table: table.to_string(), mode, names, sql, order }
    }
}

/// What one transaction remembers: each table's key columns (asked of SQLite once) and the
/// last write's statement (built once for a poll's rows, not once a row).
#[derive(Default)]
struct Prepared {
    keys: BTreeMap<String, Vec<String>>,
    last: Option<Statement>,
}

/// A row written as Confluent's SQLite dialect writes it.
fn write(
    tx: &rusqlite::Transaction<'_>,
    prepared: &mut Prepared,
    table: &str,
    mode: WriteMode,
    cells: &[Cell],
) -> rusqlite::Result<()> {
    if !prepared.keys.contains_key(table) {
        let columns = columns_of(tx, table)?.unwrap_or_default();
        prepared
            .keys
            .insert(table.to_string(), columns.into_iter().filter(|c| c.key).map(|c| c.name).collect());
    }
    if !prepared.last.as_ref().is_some_and(|s| s.fits(table, mode, cells)) {
        let key = prepared.keys.get(table).map_or(&[][..], Vec::as_slice);
        prepared.last = Some(Statement::new(table, mode, cells, key));
    }
    let Some(statement) = &prepared.last else { return Ok(()) };
    if statement.sql.is_empty() {
        return Ok(());
    }
    let params = statement.order.iter().map(|&i| Bound(&cells[i].1));
    tx.prepare_cached(&statement.sql)?.execute(params_from_iter(params))?;
    Ok(())
}

fn show(connection: &Connection, database: &str) -> rusqlite::Result<Vec<TableView>> {
    let mut names = connection.prepare(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT ?",
    )?;
    let names: Vec<String> = names
        .query_map([MAX_CONNECT_TABLES_SHOWN as i64], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut views = Vec::new();
    for table in names {
        let columns = columns_of(connection, &table)?.unwrap_or_default();
        let key: Vec<String> = columns.iter().filter(|c| c.key).map(|c| quoted(&c.name)).collect();
        let order = if key.is_empty() { "rowid".to_string() } else { key.join(",") };
        let list: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
        let mut select = connection.prepare(&format!(
            "SELECT {} FROM {} ORDER BY {order} LIMIT {MAX_CONNECT_TABLE_ROWS_SHOWN}",
            list.join(","),
            quoted(&table)
        ))?;
        let rows = select
            .query_map([], |row| (0..columns.len()).map(|i| row.get_ref(i).map(shown)).collect())?
            .collect::<rusqlite::Result<Vec<Vec<Option<String>>>>>()?;
        let row_count: i64 =
            connection.query_row(&format!("SELECT count(*) FROM {}", quoted(&table)), [], |r| r.get(0))?;
        views.push(TableView {
            database: database.to_string(),
            table,
            columns: columns.iter().map(|c| (c.name.clone(), c.kind.sql().to_string(), c.key)).collect(),
            rows,
            row_count: row_count as u64,
        });
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use kite_shared::connect::tables::{ConnectTables, MemoryTables};

    use super::*;

    fn cell(name: &str, value: SqlValue) -> (String, SqlValue) {
        (name.to_string(), value)
    }

    /// One list of changes (every kind, the failures a sink meets, names that need quoting)
    /// played into SQLite and into the tab's tables in memory: the same rows, the same errors.
    #[test]
    fn sqlite_and_the_tables_in_memory_agree() {
        let dir = std::env::current_dir().unwrap().join("../target/connect-sqlite-test");
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("bank.db");
        let (mut sqlite, mut memory) = (SqliteTables::default(), MemoryTables::default());
        let column = |name: &str, kind, key| Column { name: name.into(), kind, key };
        let t = "acc\"ounts".to_string();
        let write =
            |mode, cells: Vec<(String, SqlValue)>| TableChange::Write { table: t.clone(), mode, cells };
        let steps: Vec<Vec<TableChange>> = vec![
            vec![TableChange::Create {
                table: t.clone(),
                columns: vec![
                    column("name", ColumnType::Text, true),
                    column("balance", ColumnType::Integer, false),
                ],
            }],
            vec![
                write(
                    WriteMode::Upsert,
                    vec![cell("name", SqlValue::Text("bob".into())), cell("balance", SqlValue::Real(5.0))],
                ),
                write(
                    WriteMode::Upsert,
                    vec![cell("name", SqlValue::Text("alice".into())), cell("balance", SqlValue::Real(2.5))],
                ),
                write(
                    WriteMode::Insert,
                    vec![cell("name", SqlValue::Text("carol".into())), cell("balance", SqlValue::Integer(1))],
                ),
            ],
            vec![write(WriteMode::Insert, vec![cell("name", SqlValue::Text("carol".into()))])],
            vec![
                TableChange::AddColumn {
                    table: t.clone(),
                    column: column("vip;drop", ColumnType::Text, false),
                },
                write(
                    WriteMode::Upsert,
                    vec![
                        cell("name", SqlValue::Text("alice".into())),
                        cell("vip;drop", SqlValue::Integer(1)),
                    ],
                ),
                write(
                    WriteMode::Update,
                    vec![cell("name", SqlValue::Text("zed".into())), cell("balance", SqlValue::Integer(9))],
                ),
                TableChange::Delete {
                    table: t.clone(),
                    key: vec![cell("name", SqlValue::Text("bob".into()))],
                },
            ],
            vec![write(
                WriteMode::Upsert,
                vec![cell("name", SqlValue::Text("x".into())), cell("nope", SqlValue::Null)],
            )],
            vec![TableChange::Create {
                table: "log".into(),
                columns: vec![column("line", ColumnType::Text, false)],
            }],
            vec![
                TableChange::Write {
                    table: "log".into(),
                    mode: WriteMode::Insert,
                    cells: vec![cell("line", SqlValue::Integer(7))],
                },
                TableChange::Write {
                    table: "log".into(),
                    mode: WriteMode::Insert,
                    cells: vec![cell("line", SqlValue::Text("a".into()))],
                },
            ],
        ];
        for (i, changes) in steps.iter().enumerate() {
            let in_sqlite = sqlite.apply("bank.db", &path, changes);
            let in_memory = memory.apply("bank.db", changes);
            assert_eq!(in_sqlite.is_ok(), in_memory.is_ok(), "step {i}: {in_sqlite:?} / {in_memory:?}");
            if let (Err(a), Err(b)) = (&in_sqlite, &in_memory) {
                assert_eq!(a.split(':').next(), b.split(':').next(), "step {i}");
            }
            assert_eq!(
                sqlite.show("bank.db", &path).unwrap(),
                memory.show("bank.db").unwrap(),
                "after step {i}"
            );
            assert_eq!(sqlite.columns("bank.db", &path, &t).unwrap(), memory.columns("bank.db", &t).unwrap());
        }
        let shown = memory.show("bank.db").unwrap();
        assert_eq!(shown[0].row_count, 2, "{shown:?}");
        assert_eq!(shown[1].row_count, 2, "{shown:?}");
        std::fs::write(dir.join("text.db"), "not a database, a line of text\n".repeat(200)).unwrap();
        let refused = sqlite.apply("text.db", &dir.join("text.db"), &steps[0]).unwrap_err();
        assert!(refused.contains("not a database"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
