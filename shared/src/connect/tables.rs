//! The tables the JDBC sink writes, behind a trait the host implements: `kite serve` keeps them
//! in real SQLite databases in its connect directory, the tab, the scenario player and the
//! simulators in memory with SQLite's semantics (the same changes give the same rows: a test in
//! the backend plays one list of changes into both).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::TableView;
use crate::limits::{MAX_CONNECT_TABLE_ROWS_SHOWN, MAX_CONNECT_TABLES_SHOWN, MAX_MEMORY_TABLE_ROWS};

/// A value in a table's cell, as SQLite stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SqlValue {
    /// `NULL`.
    Null,
    /// A 64-bit integer (Connect's INT8 … INT64 and BOOLEAN, as SQLite keeps them).
    Integer(i64),
    /// A 64-bit float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
}

impl SqlValue {
    /// The cell as the table viewer shows it (`None` for NULL).
    pub fn shown(&self) -> Option<String> {
        match self {
            SqlValue::Null => None,
            SqlValue::Integer(n) => Some(n.to_string()),
            SqlValue::Real(x) => Some(format!("{x:?}")),
            SqlValue::Text(text) => Some(text.clone()),
        }
    }

    /// The value a column of `kind` stores, by SQLite's type affinity: an INTEGER column keeps
    /// 5.0 as 5, a REAL column 5 as 5.0, a TEXT column a number as its text.
    pub fn stored_as(self, kind: ColumnType) -> SqlValue {
        match (kind, self) {
            (ColumnType::Integer, SqlValue::Real(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                SqlValue::Integer(x as i64)
            }
            (ColumnType::Real, SqlValue::Integer(n)) => SqlValue::Real(n as f64),
            (ColumnType::Text, SqlValue::Integer(n)) => SqlValue::Text(n.to_string()),
            (ColumnType::Text, SqlValue::Real(x)) => SqlValue::Text(format!("{x:?}")),
            (_, value) => value,
        }
    }

    /// SQLite's order: NULL, then numbers by value, then text by its bytes.
    pub fn sql_cmp(&self, other: &SqlValue) -> Ordering {
        use SqlValue::*;
        let rank = |v: &SqlValue| match v {
            Null => 0,
            Integer(_) | Real(_) => 1,
            Text(_) => 2,
        };
        match (self, other) {
            (Integer(a), Integer(b)) => a.cmp(b),
            (Integer(a), Real(b)) => (*a as f64).total_cmp(b),
            (Real(a), Integer(b)) => a.total_cmp(&(*b as f64)),
            (Real(a), Real(b)) => a.total_cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

/// A column's declared type (Confluent's SQLite dialect: INTEGER, REAL, TEXT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnType {
    /// `INTEGER`: Connect's integers and booleans.
    Integer,
    /// `REAL`: Connect's FLOAT32 / FLOAT64.
    Real,
    /// `TEXT`: Connect's STRING.
    Text,
}

impl ColumnType {
    /// Its SQL name.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Text => "TEXT",
        }
    }

    /// The type a declared SQL type names (SQLite's affinity rules, in short).
    pub fn of_sql(declared: &str) -> ColumnType {
        let upper = declared.to_ascii_uppercase();
        if upper.contains("INT") {
            ColumnType::Integer
        } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
            ColumnType::Real
        } else {
            ColumnType::Text
        }
    }
}

/// A table's column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its declared type.
    pub kind: ColumnType,
    /// Whether it is part of the primary key.
    pub key: bool,
}

/// How a row is written (the JDBC sink's `insert.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteMode {
    /// `INSERT`: a second row with the same key fails (`UNIQUE constraint failed`).
    Insert,
    /// `INSERT … ON CONFLICT (key) DO UPDATE`: the row with the key is replaced field by field.
    Upsert,
    /// `UPDATE … WHERE key`: nothing happens when no row has the key.
    Update,
}

/// One change to a database; a poll's changes are applied in one transaction. The tab logs them
/// as JSON lines (`files::CONNECT_TABLES_DIR`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TableChange {
    /// `CREATE TABLE` with its columns and primary key (`auto.create`).
    Create {
        /// The table.
        table: String,
        /// Its columns, key columns first.
        columns: Vec<Column>,
    },
    /// `ALTER TABLE … ADD COLUMN` (`auto.evolve`); never a key column.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: Column,
    },
    /// A row written.
    Write {
        /// The table.
        table: String,
        /// How.
        mode: WriteMode,
        /// The row's cells by column, key columns first.
        cells: Vec<(String, SqlValue)>,
    },
    /// `DELETE … WHERE key` (a tombstone with `delete.enabled`).
    Delete {
        /// The table.
        table: String,
        /// The key's cells.
        key: Vec<(String, SqlValue)>,
    },
}

/// Where the JDBC sink's databases are. A database is named by its path inside the connect
/// directory (checked by `files::check_path`).
pub trait ConnectTables {
    /// `table`'s columns in `database`; `None` when there is no such table.
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String>;
    /// Applies `changes` in one transaction: all of them, or (an error) none.
    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String>;
    /// `database`'s tables for the viewer: at most `MAX_CONNECT_TABLES_SHOWN`, each with its
    /// first `MAX_CONNECT_TABLE_ROWS_SHOWN` rows by key (by insertion without one).
    fn show(&mut self, database: &str) -> Result<Vec<TableView>, String>;
}

/// A table kept in memory.
#[derive(Clone, Debug, Default)]
struct Table {
    columns: Vec<Column>,
    /// Rows by their key's cells (a table with a primary key).
    keyed: BTreeMap<Key, Vec<SqlValue>>,
    /// Rows in insertion order (a table without one).
    unkeyed: Vec<Vec<SqlValue>>,
}

/// A row's key cells, ordered as SQLite orders them.
#[derive(Clone, Debug)]
struct Key(Vec<SqlValue>);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        self.0.iter().zip(&other.0).map(|(a, b)| a.sql_cmp(b)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    }
}

impl Table {
    fn has_key(&self) -> bool {
        self.columns.iter().any(|c| c.key)
    }

    fn len(&self) -> usize {
        if self.has_key() { self.keyed.len() } else { self.unkeyed.len() }
    }

    /// A row of every column from `cells` (NULL where absent), stored by the columns' affinity,
    /// and its key.
    fn row(&self, table: &str, cells: &[(String, SqlValue)]) -> Result<(Key, Vec<SqlValue>), String> {
        if let Some((name, _)) = cells.iter().find(|(name, _)| !self.columns.iter().any(|c| &c.name == name))
        {
            return Err(format!("table {table} has no column named {name}"));
        }
        let row: Vec<SqlValue> = self
            .columns
            .iter()
            .map(|c| {
                let cell = cells.iter().find(|(name, _)| name == &c.name);
                cell.map_or(SqlValue::Null, |(_, v)| v.clone().stored_as(c.kind))
            })
            .collect();
        let key: Vec<SqlValue> =
            self.columns.iter().zip(&row).filter(|(c, _)| c.key).map(|(_, v)| v.clone()).collect();
        if let Some((c, _)) = self.columns.iter().zip(&row).find(|(c, v)| c.key && **v == SqlValue::Null) {
            return Err(format!("NOT NULL constraint failed: {table}.{}", c.name));
        }
        Ok((Key(key), row))
    }
}

/// What undoes one applied change (a failed transaction is rolled back by these, newest first).
enum Undo {
    Drop(String),
    DropColumn(String),
    Restore(String, Key, Option<Vec<SqlValue>>),
    Pop(String),
}

/// Databases kept in memory: the tab's, the scenario player's and the simulators'.
#[derive(Clone, Debug, Default)]
pub struct MemoryTables {
    databases: BTreeMap<String, BTreeMap<String, Table>>,
}

impl MemoryTables {
    /// Rows of every table of `database`.
    pub fn row_count(&self, database: &str) -> usize {
        self.databases.get(database).map_or(0, |db| db.values().map(Table::len).sum())
    }

    /// The changes that make `database` again as it is: each table made, then its rows inserted.
    pub fn snapshot(&self, database: &str) -> Vec<TableChange> {
        let Some(db) = self.databases.get(database) else { return Vec::new() };
        let mut changes = Vec::new();
        for (name, t) in db {
            changes.push(TableChange::Create { table: name.clone(), columns: t.columns.clone() });
            let rows: Box<dyn Iterator<Item = &Vec<SqlValue>>> =
                if t.has_key() { Box::new(t.keyed.values()) } else { Box::new(t.unkeyed.iter()) };
            changes.extend(rows.map(|row| TableChange::Write {
                table: name.clone(),
                mode: WriteMode::Insert,
                cells: t.columns.iter().map(|c| c.name.clone()).zip(row.iter().cloned()).collect(),
            }));
        }
        changes
    }

    /// How many changes `snapshot` makes.
    pub fn snapshot_len(&self, database: &str) -> usize {
        self.databases.get(database).map_or(0, |db| db.values().map(|t| 1 + t.len()).sum())
    }

    /// Every row of `table`, by key (by insertion without one): what a checker compares.
    pub fn rows(&self, database: &str, table: &str) -> Vec<Vec<SqlValue>> {
        let Some(t) = self.databases.get(database).and_then(|db| db.get(table)) else { return Vec::new() };
        if t.has_key() { t.keyed.values().cloned().collect() } else { t.unkeyed.clone() }
    }

    fn apply_one(db: &mut BTreeMap<String, Table>, change: &TableChange) -> Result<Undo, String> {
        let missing = |table: &str| format!("no such table: {table}");
        match change {
            TableChange::Create { table, columns } => {
                if db.contains_key(table) {
                    return Err(format!("table \"{table}\" already exists"));
                }
                db.insert(table.clone(), Table { columns: columns.clone(), ..Table::default() });
                Ok(Undo::Drop(table.clone()))
            }
            TableChange::AddColumn { table, column } => {
                let t = db.get_mut(table).ok_or_else(|| missing(table))?;
                if t.columns.iter().any(|c| c.name == column.name) {
                    return Err(format!("duplicate column name: {}", column.name));
                }
                t.columns.push(Column { key: false, ..column.clone() });
                t.keyed.values_mut().chain(t.unkeyed.iter_mut()).for_each(|row| row.push(SqlValue::Null));
                Ok(Undo::DropColumn(table.clone()))
            }
            TableChange::Write { table, mode, cells } => {
                let t = db.get_mut(table).ok_or_else(|| missing(table))?;
                let (key, row) = t.row(table, cells)?;
                if !t.has_key() {
                    if *mode == WriteMode::Update {
                        return Err(format!("table {table} has no primary key to update by"));
                    }
                    if t.unkeyed.len() >= MAX_MEMORY_TABLE_ROWS {
                        return Err(too_many_rows(table));
                    }
                    t.unkeyed.push(row);
                    return Ok(Undo::Pop(table.clone()));
                }
                let old = t.keyed.get(&key).cloned();
                let new = match (mode, &old) {
                    (WriteMode::Insert, Some(_)) => {
                        let names: Vec<String> = t
                            .columns
                            .iter()
                            .filter(|c| c.key)
                            .map(|c| format!("{table}.{}", c.name))
                            .collect();
                        return Err(format!("UNIQUE constraint failed: {}", names.join(", ")));
                    }
                    (WriteMode::Update, None) => return Ok(Undo::Restore(table.clone(), key, None)),
                    (WriteMode::Insert, None) | (WriteMode::Upsert, None) => row,
                    (WriteMode::Upsert | WriteMode::Update, Some(old)) => {
                        // Only the columns the record names change.
                        let mut merged = old.clone();
                        for (i, c) in t.columns.iter().enumerate() {
                            if cells.iter().any(|(name, _)| name == &c.name) {
                                merged[i] = row[i].clone();
                            }
                        }
                        merged
                    }
                };
                if old.is_none() && t.keyed.len() >= MAX_MEMORY_TABLE_ROWS {
                    return Err(too_many_rows(table));
                }
                t.keyed.insert(key.clone(), new);
                Ok(Undo::Restore(table.clone(), key, old))
            }
            TableChange::Delete { table, key } => {
                let t = db.get_mut(table).ok_or_else(|| missing(table))?;
                let (key, _) = t.row(table, key)?;
                let old = t.keyed.remove(&key);
                Ok(Undo::Restore(table.clone(), key, old))
            }
        }
    }

    fn undo(db: &mut BTreeMap<String, Table>, undo: Undo) {
        match undo {
            Undo::Drop(table) => {
                db.remove(&table);
            }
            Undo::DropColumn(table) => {
                if let Some(t) = db.get_mut(&table) {
                    t.columns.pop();
                    t.keyed.values_mut().chain(t.unkeyed.iter_mut()).for_each(|row| {
                        row.pop();
                    });
                }
            }
            Undo::Restore(table, key, old) => {
                if let Some(t) = db.get_mut(&table) {
                    match old {
                        Some(row) => t.keyed.insert(key, row),
                        None => t.keyed.remove(&key),
                    };
                }
            }
            Undo::Pop(table) => {
                if let Some(t) = db.get_mut(&table) {
                    t.unkeyed.pop();
                }
            }
        }
    }
}

fn too_many_rows(table: &str) -> String {
    format!(
        "table {table} would hold more than {MAX_MEMORY_TABLE_ROWS} rows, the most a table in memory may hold"
    )
}

impl ConnectTables for MemoryTables {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        Ok(self.databases.get(database).and_then(|db| db.get(table)).map(|t| t.columns.clone()))
    }

    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        let db = self.databases.entry(database.to_string()).or_default();
        let mut undos = Vec::with_capacity(changes.len());
        for change in changes {
            match Self::apply_one(db, change) {
                Ok(undo) => undos.push(undo),
                Err(e) => {
                    while let Some(undo) = undos.pop() {
                        Self::undo(db, undo);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn show(&mut self, database: &str) -> Result<Vec<TableView>, String> {
        let Some(db) = self.databases.get(database) else { return Ok(Vec::new()) };
        Ok(db
            .iter()
            .take(MAX_CONNECT_TABLES_SHOWN)
            .map(|(name, t)| {
                let rows: Box<dyn Iterator<Item = &Vec<SqlValue>>> =
                    if t.has_key() { Box::new(t.keyed.values()) } else { Box::new(t.unkeyed.iter()) };
                TableView {
                    database: database.to_string(),
                    table: name.clone(),
                    columns: t
                        .columns
                        .iter()
                        .map(|c| (c.name.clone(), c.kind.sql().to_string(), c.key))
                        .collect(),
                    rows: rows
                        .take(MAX_CONNECT_TABLE_ROWS_SHOWN)
                        .map(|row| row.iter().map(SqlValue::shown).collect())
                        .collect(),
                    row_count: t.len() as u64,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: i64) -> (String, SqlValue) {
        ("id".to_string(), SqlValue::Integer(n))
    }

    fn text(name: &str, v: &str) -> (String, SqlValue) {
        (name.to_string(), SqlValue::Text(v.to_string()))
    }

    fn create() -> TableChange {
        TableChange::Create {
            table: "t".into(),
            columns: vec![
                Column { name: "id".into(), kind: ColumnType::Integer, key: true },
                Column { name: "name".into(), kind: ColumnType::Text, key: false },
            ],
        }
    }

    fn write(mode: WriteMode, cells: Vec<(String, SqlValue)>) -> TableChange {
        TableChange::Write { table: "t".into(), mode, cells }
    }

    #[test]
    fn upserts_replace_inserts_refuse_and_a_failed_transaction_leaves_nothing() {
        let mut tables = MemoryTables::default();
        tables.apply("a.db", &[create(), write(WriteMode::Insert, vec![id(2), text("name", "b")])]).unwrap();
        let refused = tables
            .apply(
                "a.db",
                &[
                    write(WriteMode::Upsert, vec![id(1), text("name", "a")]),
                    write(WriteMode::Insert, vec![id(2)]),
                ],
            )
            .unwrap_err();
        assert_eq!(refused, "UNIQUE constraint failed: t.id");
        assert_eq!(tables.show("a.db").unwrap()[0].row_count, 1, "the upsert before it was rolled back");
        tables
            .apply(
                "a.db",
                &[
                    write(WriteMode::Upsert, vec![id(1), text("name", "a")]),
                    write(WriteMode::Upsert, vec![id(2), text("name", "B")]),
                    TableChange::Delete { table: "t".into(), key: vec![id(1)] },
                    write(WriteMode::Update, vec![id(9), text("name", "none")]),
                ],
            )
            .unwrap();
        let shown = &tables.show("a.db").unwrap()[0];
        assert_eq!(shown.rows, vec![vec![Some("2".to_string()), Some("B".to_string())]]);
    }

    #[test]
    fn cells_take_their_columns_affinity_and_keys_sort_as_sqlite_sorts() {
        assert_eq!(SqlValue::Real(5.0).stored_as(ColumnType::Integer), SqlValue::Integer(5));
        assert_eq!(SqlValue::Integer(5).stored_as(ColumnType::Text), SqlValue::Text("5".into()));
        assert_eq!(SqlValue::Integer(5).stored_as(ColumnType::Real), SqlValue::Real(5.0));
        assert_eq!(SqlValue::Integer(2).sql_cmp(&SqlValue::Real(10.5)), Ordering::Less);
        assert_eq!(SqlValue::Text("1".into()).sql_cmp(&SqlValue::Integer(9)), Ordering::Greater);
        assert_eq!(SqlValue::Null.sql_cmp(&SqlValue::Integer(-9)), Ordering::Less);
        assert_eq!(ColumnType::of_sql("BIGINT"), ColumnType::Integer);
        assert_eq!(ColumnType::of_sql("DOUBLE"), ColumnType::Real);
    }
}
