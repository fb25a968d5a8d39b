//! Confluent's JDBC sink connector, on SQLite: each record a row of the table named after its
//! topic (`table.name.format`), inserted or upserted by its key (`insert.mode`, `pk.mode`,
//! `pk.fields`), deleted by a tombstone (`delete.enabled`), tables made and widened as records
//! need (`auto.create`, `auto.evolve`). A topic read into a table by key is a KTable made
//! concrete: the table holds each key's latest value.
//!
//! Confluent's sink needs records with a schema (a Struct); Kite's converters keep none, so a
//! value must be a JSON object and each column's type is its first value's JSON type.

use std::collections::BTreeMap;

use serde_json::Value;

use super::converter::Data;
use super::tables::{Column, ColumnType, ConnectTables, SqlValue, TableChange, WriteMode};
use super::transforms::ConnectRecord;
use crate::limits::{MAX_CONNECT_PATH_CHARS, MAX_CONNECT_TABLE_COLUMNS};

/// `connection.url`'s prefix: Kite's JDBC sink speaks SQLite only.
pub const SQLITE_URL_PREFIX: &str = "jdbc:sqlite:";
/// The key column of a record whose key is not a struct, when `pk.fields` names none.
const CONNECT_KEY_COLUMN: &str = "__connect_key";
/// `pk.mode=kafka`'s columns, when `pk.fields` names none.
const KAFKA_COORDINATES: [&str; 3] = ["__connect_topic", "__connect_partition", "__connect_offset"];

/// `pk.mode`: where a row's primary key comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkMode {
    /// `none`: no key; rows are only ever inserted.
    None,
    /// `kafka`: the record's topic, partition and offset.
    Kafka,
    /// `record_key`: the record's key (a primitive, or a struct's `pk.fields`).
    RecordKey,
    /// `record_value`: the value's `pk.fields`.
    RecordValue,
}

/// The JDBC sink's settings, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JdbcConfig {
    /// `insert.mode`.
    pub insert_mode: WriteMode,
    /// `pk.mode`.
    pub pk_mode: PkMode,
    /// `pk.fields`.
    pub pk_fields: Vec<String>,
    /// `table.name.format` (`${topic}` is the record's topic).
    pub table_format: String,
    /// `auto.create`.
    pub auto_create: bool,
    /// `auto.evolve`.
    pub auto_evolve: bool,
    /// `delete.enabled`.
    pub delete_enabled: bool,
}

impl JdbcConfig {
    /// The settings in `config`, each refused in Confluent's words; the database's path
    /// (`connection.url` without its prefix) comes separately, as the connector's `file`.
    pub fn parse(config: &BTreeMap<String, String>, refuse: &mut dyn FnMut(&str, String)) -> JdbcConfig {
        let get = |name: &str| config.get(name).map(|v| v.trim().to_ascii_lowercase());
        let insert_mode = match get("insert.mode").as_deref() {
            None | Some("insert") => WriteMode::Insert,
            Some("upsert") => WriteMode::Upsert,
            Some("update") => WriteMode::Update,
            Some(other) => {
                refuse("insert.mode", invalid(other, "insert.mode", "insert, upsert, update"));
                WriteMode::Insert
            }
        };
        let pk_mode = match get("pk.mode").as_deref() {
            None | Some("none") => PkMode::None,
            Some("kafka") => PkMode::Kafka,
            Some("record_key") => PkMode::RecordKey,
            Some("record_value") => PkMode::RecordValue,
            Some(other) => {
                refuse("pk.mode", invalid(other, "pk.mode", "none, kafka, record_key, record_value"));
                PkMode::None
            }
        };
        let pk_fields: Vec<String> = config
            .get("pk.fields")
            .map(|f| f.split(',').map(str::trim).filter(|f| !f.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        let flag = |name: &str, refuse: &mut dyn FnMut(&str, String)| match get(name).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                refuse(
                    name,
                    format!(
                        "Invalid value {other} for configuration {name}: Expected value to be either true or false"
                    ),
                );
                false
            }
        };
        let (auto_create, auto_evolve) = (flag("auto.create", refuse), flag("auto.evolve", refuse));
        let delete_enabled = flag("delete.enabled", refuse);
        if delete_enabled && pk_mode != PkMode::RecordKey {
            refuse(
                "delete.enabled",
                "Primary key mode must be 'record_key' when delete support is enabled".into(),
            );
        }
        if insert_mode != WriteMode::Insert && pk_mode == PkMode::None {
            let mode = if insert_mode == WriteMode::Upsert { "UPSERT" } else { "UPDATE" };
            refuse(
                "pk.mode",
                format!("Write to a table in {mode} mode requires key field names to be known: set pk.mode"),
            );
        }
        if pk_mode == PkMode::Kafka && !(pk_fields.is_empty() || pk_fields.len() == 3) {
            refuse("pk.fields", "PK mode for table is KAFKA so there should either be no field names defined for defaults to be applied, or exactly 3".into());
        }
        let table_format = config.get("table.name.format").map(|f| f.trim().to_string()).unwrap_or_default();
        let table_format = if table_format.is_empty() { "${topic}".to_string() } else { table_format };
        JdbcConfig { insert_mode, pk_mode, pk_fields, table_format, auto_create, auto_evolve, delete_enabled }
    }
}

fn invalid(given: &str, name: &str, allowed: &str) -> String {
    format!("Invalid value {given} for configuration {name}: String must be one of: {allowed}")
}

/// The database's path in `connection.url` (`jdbc:sqlite:orders.db` → `orders.db`).
pub fn database_of(url: &str) -> Result<String, String> {
    match url.trim().strip_prefix(SQLITE_URL_PREFIX) {
        Some(path) => Ok(path.to_string()),
        None => Err(format!(
            "Invalid value {url} for configuration connection.url: Kite's JDBC sink writes SQLite only: {SQLITE_URL_PREFIX}<a file inside the connect directory>"
        )),
    }
}

/// One poll's records as changes to the database, knowing (and asking once for) its tables'
/// columns.
pub struct Writer<'a> {
    config: &'a JdbcConfig,
    connector: &'a str,
    database: &'a str,
    known: BTreeMap<String, Vec<Column>>,
    changes: Vec<TableChange>,
}

impl<'a> Writer<'a> {
    /// A writer into `database` for the connector `connector`.
    pub fn new(config: &'a JdbcConfig, connector: &'a str, database: &'a str) -> Writer<'a> {
        Writer { config, connector, database, known: BTreeMap::new(), changes: Vec::new() }
    }

    /// The changes `record` makes; refused in Confluent's words when it cannot be a row.
    pub fn add(&mut self, tables: &mut dyn ConnectTables, record: &ConnectRecord) -> Result<(), String> {
        let table = table_name(&self.config.table_format, &record.topic)?;
        if record.value == Data::Null {
            if !self.config.delete_enabled {
                return Err(self.needs_struct(record, "a null"));
            }
            let key = self.key_cells(record, None)?;
            if self.table(tables, &table, &key, &[])? {
                self.changes.push(TableChange::Delete { table, key });
            }
            return Ok(());
        }
        let Data::Json(Value::Object(fields)) = &record.value else {
            let found = match &record.value {
                Data::String(_) => "a String",
                Data::Bytes(_) => "a byte[]",
                _ => "a primitive",
            };
            return Err(self.needs_struct(record, found));
        };
        // Counted before the fields are looked at: a record of a million fields is refused at
        // once, not compared field by field.
        if fields.len() + self.config.pk_fields.len() > MAX_CONNECT_TABLE_COLUMNS {
            return Err(format!(
                "a record at {} has {} fields, more than the {MAX_CONNECT_TABLE_COLUMNS} columns a table may have",
                at(record),
                fields.len()
            ));
        }
        let mut cells = self.key_cells(record, Some(fields))?;
        let keys = cells.len();
        for (name, field) in fields {
            if !cells[..keys].iter().any(|(c, _)| c == name) {
                cells.push((column_name(name)?, cell(name, field)?));
            }
        }
        self.table(tables, &table, &cells[..keys], &cells[keys..])?;
        self.changes.push(TableChange::Write { table, mode: self.config.insert_mode, cells });
        Ok(())
    }

    /// Applies the poll's changes in one transaction.
    pub fn finish(self, tables: &mut dyn ConnectTables) -> Result<(), String> {
        if self.changes.is_empty() {
            return Ok(());
        }
        tables
            .apply(self.database, &self.changes)
            .map_err(|e| format!("Exception chain: java.sql.SQLException: {e}"))
    }

    /// Makes sure `table` exists with every column of `key` and `values`, creating it
    /// (`auto.create`) or adding columns (`auto.evolve`); `false` when it does not exist and
    /// nothing is to be written (a delete).
    fn table(
        &mut self,
        tables: &mut dyn ConnectTables,
        table: &str,
        key: &[(String, SqlValue)],
        values: &[(String, SqlValue)],
    ) -> Result<bool, String> {
        if !self.known.contains_key(table)
            && let Some(columns) = tables.columns(self.database, table)?
        {
            self.known.insert(table.to_string(), columns);
        }
        let column = |(name, value): &(String, SqlValue), key: bool| Column {
            name: name.clone(),
            kind: kind_of(value),
            key,
        };
        let Some(columns) = self.known.get_mut(table) else {
            if values.is_empty() {
                return Ok(false);
            }
            if !self.config.auto_create {
                return Err(format!("Table \"{table}\" is missing and auto-creation is disabled"));
            }
            let columns: Vec<Column> =
                key.iter().map(|c| column(c, true)).chain(values.iter().map(|c| column(c, false))).collect();
            self.known.insert(table.to_string(), columns.clone());
            self.changes.push(TableChange::Create { table: table.to_string(), columns });
            return Ok(true);
        };
        let missing: Vec<&(String, SqlValue)> =
            key.iter().chain(values).filter(|(name, _)| !columns.iter().any(|c| &c.name == name)).collect();
        if missing.is_empty() {
            return Ok(true);
        }
        let names: Vec<&str> = missing.iter().map(|(name, _)| name.as_str()).collect();
        if !self.config.auto_evolve {
            return Err(format!(
                "Table \"{table}\" is missing fields ({}) and auto-evolution is disabled",
                names.join(", ")
            ));
        }
        if let Some((name, _)) = missing.iter().find(|m| key.contains(m)) {
            return Err(format!(
                "Cannot ALTER TABLE \"{table}\" to add missing field {name}: it is part of the primary key"
            ));
        }
        if columns.len() + missing.len() > MAX_CONNECT_TABLE_COLUMNS {
            return Err(format!("table {table} would have more than {MAX_CONNECT_TABLE_COLUMNS} columns"));
        }
        for m in missing {
            let column = column(m, false);
            columns.push(column.clone());
            self.changes.push(TableChange::AddColumn { table: table.to_string(), column });
        }
        Ok(true)
    }

    /// The row's key cells, by `pk.mode`.
    fn key_cells(
        &self,
        record: &ConnectRecord,
        value: Option<&serde_json::Map<String, Value>>,
    ) -> Result<Vec<(String, SqlValue)>, String> {
        let fields = &self.config.pk_fields;
        match self.config.pk_mode {
            PkMode::None => Ok(Vec::new()),
            PkMode::Kafka => {
                let name =
                    |i: usize| fields.get(i).cloned().unwrap_or_else(|| KAFKA_COORDINATES[i].to_string());
                Ok(vec![
                    (name(0), SqlValue::Text(record.topic.clone())),
                    (name(1), SqlValue::Integer(record.partition.unwrap_or(0).into())),
                    (name(2), SqlValue::Integer(record.offset.unwrap_or(0))),
                ])
            }
            PkMode::RecordKey => match &record.key {
                Data::Null => Err(format!(
                    "Sink connector '{}' is configured with 'pk.mode=record_key' and therefore requires records with a non-null key, but found record at {} with a null key",
                    self.connector,
                    at(record)
                )),
                Data::Json(Value::Object(key)) => struct_cells(key, fields, record),
                Data::Json(other) => primitive_cell(fields, cell("key", other)?, record),
                Data::String(text) => primitive_cell(fields, SqlValue::Text(text.clone()), record),
                Data::Bytes(_) => Err(format!(
                    "a byte[] key at {} cannot be a column: use a StringConverter or JsonConverter key",
                    at(record)
                )),
            },
            PkMode::RecordValue => match value {
                Some(value) => struct_cells(value, fields, record),
                None => Err(self.needs_struct(record, "a null")),
            },
        }
    }

    fn needs_struct(&self, record: &ConnectRecord, found: &str) -> String {
        let delete = if self.config.delete_enabled { "true" } else { "false" };
        let pk = match self.config.pk_mode {
            PkMode::None => "none",
            PkMode::Kafka => "kafka",
            PkMode::RecordKey => "record_key",
            PkMode::RecordValue => "record_value",
        };
        format!(
            "Sink connector '{}' is configured with 'delete.enabled={delete}' and 'pk.mode={pk}' and therefore requires records with a non-null Struct value (Kite: a JSON object), but found record at {} with {found} value",
            self.connector,
            at(record)
        )
    }
}

/// Where a record is, as Confluent's messages name it.
fn at(record: &ConnectRecord) -> String {
    format!(
        "(topic='{}',partition={},offset={},timestamp={})",
        record.topic,
        record.partition.unwrap_or(0),
        record.offset.unwrap_or(0),
        record.timestamp_ms
    )
}

/// `table.name.format` for `topic`.
fn table_name(format: &str, topic: &str) -> Result<String, String> {
    let table = format.replace("${topic}", topic);
    if table.is_empty()
        || table.chars().count() > MAX_CONNECT_PATH_CHARS
        || table.chars().any(char::is_control)
    {
        return Err(format!(
            "'{table}' is not a table name: 1 to {MAX_CONNECT_PATH_CHARS} characters, no control characters"
        ));
    }
    Ok(table)
}

fn column_name(name: &str) -> Result<String, String> {
    if name.is_empty() || name.chars().count() > MAX_CONNECT_PATH_CHARS || name.chars().any(char::is_control)
    {
        return Err(format!(
            "the field '{name}' cannot be a column: 1 to {MAX_CONNECT_PATH_CHARS} characters, no control characters"
        ));
    }
    Ok(name.to_string())
}

/// A struct key's (or value's) `pk.fields` (every field when none are named), in order.
fn struct_cells(
    fields: &serde_json::Map<String, Value>,
    pk_fields: &[String],
    record: &ConnectRecord,
) -> Result<Vec<(String, SqlValue)>, String> {
    if pk_fields.is_empty() && fields.len() > MAX_CONNECT_TABLE_COLUMNS {
        return Err(format!(
            "a key at {} has {} fields, more than the {MAX_CONNECT_TABLE_COLUMNS} columns a table may have",
            at(record),
            fields.len()
        ));
    }
    let names: Vec<&String> =
        if pk_fields.is_empty() { fields.keys().collect() } else { pk_fields.iter().collect() };
    names
        .into_iter()
        .map(|name| match fields.get(name) {
            Some(field) => Ok((column_name(name)?, cell(name, field)?)),
            None => Err(format!("PK field '{name}' is not in the record at {}", at(record))),
        })
        .collect()
}

/// A primitive key's one column: `pk.fields`' one name or `__connect_key`.
fn primitive_cell(
    pk_fields: &[String],
    value: SqlValue,
    record: &ConnectRecord,
) -> Result<Vec<(String, SqlValue)>, String> {
    match pk_fields {
        [] => Ok(vec![(CONNECT_KEY_COLUMN.to_string(), value)]),
        [name] => Ok(vec![(column_name(name)?, value)]),
        _ => Err(format!(
            "Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: {} (record at {})",
            pk_fields.join(", "),
            at(record)
        )),
    }
}

/// A JSON field as a cell; a nested struct or list is refused, as Confluent's sink refuses it.
fn cell(name: &str, field: &Value) -> Result<SqlValue, String> {
    Ok(match field {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => SqlValue::Text(text.clone()),
        Value::Object(_) | Value::Array(_) => {
            let kind = if field.is_object() { "STRUCT" } else { "ARRAY" };
            return Err(format!(
                "Unsupported source data type: {kind} (field '{name}'); a Flatten transform makes a struct's fields columns"
            ));
        }
    })
}

/// The column type a first value gives (NULL: TEXT).
fn kind_of(value: &SqlValue) -> ColumnType {
    match value {
        SqlValue::Integer(_) => ColumnType::Integer,
        SqlValue::Real(_) => ColumnType::Real,
        SqlValue::Null | SqlValue::Text(_) => ColumnType::Text,
    }
}
