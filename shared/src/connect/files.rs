//! The files Kite Connect's file connectors read and write, behind a trait the host implements:
//! `kite serve` keeps them in one directory (`--connect-dir`), the tab, the scenario player and
//! the simulators in memory — the tab's journaled into its IndexedDB with the cluster's own
//! files, so a reload finds them. The engine never opens a file itself (it is sans-IO).

use std::collections::BTreeMap;

use super::tables::{Column, ConnectTables, MemoryTables, TableChange};
use crate::api::TableView;
use crate::limits::{MAX_CONNECT_PATH_CHARS, MAX_MEMORY_CONNECT_FILE_BYTES};
use crate::log::storage::{FileMap, Journal, StorageOp};

/// Where FileStreamSource reads and FileStreamSink writes, and the JDBC sink's databases (files
/// too, on `kite serve`). Paths are relative to the host's connect directory and already checked
/// by `check_path`.
pub trait ConnectFiles: ConnectTables {
    /// At most `max_bytes` of `path` from byte `offset` (empty at its end); `Ok(None)` when the
    /// file does not exist (yet).
    fn read(&mut self, path: &str, offset: u64, max_bytes: usize) -> Result<Option<Vec<u8>>, String>;
    /// Appends `bytes` to `path`, creating it when missing.
    fn append(&mut self, path: &str, bytes: &[u8]) -> Result<(), String>;
    /// Writes `path` whole, replacing what it held.
    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), String>;
    /// Makes what was appended to `path` durable (a sink flushes before its offsets commit).
    fn flush(&mut self, path: &str) -> Result<(), String>;
    /// Every file, with its length in bytes, by path.
    fn list(&mut self) -> Vec<(String, u64)>;
}

/// Checks a connector's `file` names a file inside the connect directory: relative, no `..`,
/// `.` or empty segment, no backslash, colon or control character. Refused by name otherwise.
pub fn check_path(path: &str) -> Result<(), String> {
    let outside = || {
        format!(
            "'{path}' is not a file inside the connect directory (kite serve --connect-dir): name one by a relative path such as test.txt"
        )
    };
    if path.is_empty() || path.chars().count() > MAX_CONNECT_PATH_CHARS {
        return Err(format!(
            "a file path of 1 to {MAX_CONNECT_PATH_CHARS} characters is needed, got {}",
            path.chars().count()
        ));
    }
    if path.starts_with('/') || path.contains(['\\', ':']) || path.chars().any(char::is_control) {
        return Err(outside());
    }
    if path.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err(outside());
    }
    Ok(())
}

/// The tab's store directory its connect files are journaled under (`(dir, path)` → bytes).
pub const CONNECT_FILES_DIR: &str = "connect-files";
/// The tab's store directory each database's change log is journaled under: a JSON
/// `TableChange` a line, rewritten as the tables' rows when it grows past twice their count.
pub const CONNECT_TABLES_DIR: &str = "connect-tables";
/// Changes a database's log holds beyond twice its rows before it is rewritten as its rows.
const TABLE_LOG_SLACK_CHANGES: usize = 1_024;

/// Where a `MemoryFiles` keeps a copy: the host's journal, and each database's change log's
/// length in bytes and in changes.
#[derive(Clone, Debug)]
struct Persisted {
    journal: Journal,
    logs: BTreeMap<String, (usize, usize)>,
}

/// Files (and the JDBC sink's tables) kept in memory: the tab's, the scenario player's and the
/// simulators'; the tab's also journaled for its IndexedDB (`journaled`).
#[derive(Clone, Debug, Default)]
pub struct MemoryFiles {
    files: BTreeMap<String, Vec<u8>>,
    tables: MemoryTables,
    persisted: Option<Persisted>,
}

impl MemoryFiles {
    /// Files and tables whose every change is also pushed to `journal` (the tab commits it to
    /// IndexedDB), reopened from what `stored` holds under `CONNECT_FILES_DIR` and
    /// `CONNECT_TABLES_DIR`. A change-log line that does not parse (a torn write) ends that
    /// database's replay.
    pub fn journaled(stored: &FileMap, journal: Journal) -> MemoryFiles {
        let mut files = MemoryFiles::default();
        let mut logs = BTreeMap::new();
        for ((dir, name), bytes) in stored {
            if dir == CONNECT_FILES_DIR && check_path(name).is_ok() {
                files.files.insert(name.clone(), bytes.clone());
            } else if dir == CONNECT_TABLES_DIR {
                let (mut count, mut good_bytes) = (0, 0);
                for line in bytes.split_inclusive(|b| *b == b'\n') {
                    let Ok(change) = serde_json::from_slice::<TableChange>(line) else { break };
                    // Only changes that were applied are logged: replayed in order, they apply.
                    let _ = files.tables.apply(name, &[change]);
                    count += 1;
                    good_bytes += line.len();
                }
                // The next change is appended after the last good line: a torn tail is cut off
                // (an append at a position truncates the file there), not kept in front of it.
                logs.insert(name.clone(), (good_bytes, count));
            }
        }
        files.persisted = Some(Persisted { journal, logs });
        files
    }

    fn record(&self, op: StorageOp) {
        if let Some(persisted) = &self.persisted {
            persisted.journal.lock().unwrap_or_else(|e| e.into_inner()).push(op);
        }
    }

    /// Logs a database's applied changes; rewrites its log as its rows when it has grown.
    fn log_changes(&mut self, database: &str, changes: &[TableChange]) {
        let rows = self.tables.row_count(database);
        let Some(persisted) = &mut self.persisted else { return };
        let (bytes, count) = persisted.logs.entry(database.to_string()).or_default();
        let (dir, file) = (CONNECT_TABLES_DIR.to_string(), database.to_string());
        let lines = |changes: &[TableChange]| {
            let mut text = Vec::new();
            for change in changes {
                text.extend(serde_json::to_vec(change).unwrap_or_default());
                text.push(b'\n');
            }
            text
        };
        let op = if *count + changes.len() > 2 * rows + TABLE_LOG_SLACK_CHANGES {
            let whole = lines(&self.tables.snapshot(database));
            *count = self.tables.snapshot_len(database);
            *bytes = whole.len();
            StorageOp::Write { dir, file, bytes: whole }
        } else {
            let appended = lines(changes);
            let position = *bytes;
            *bytes += appended.len();
            *count += changes.len();
            StorageOp::Append { dir, file, position, bytes: appended }
        };
        persisted.journal.lock().unwrap_or_else(|e| e.into_inner()).push(op);
    }
}

impl ConnectTables for MemoryFiles {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        self.tables.columns(database, table)
    }

    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        self.tables.apply(database, changes)?;
        self.log_changes(database, changes);
        Ok(())
    }

    fn show(&mut self, database: &str) -> Result<Vec<TableView>, String> {
        self.tables.show(database)
    }
}

impl MemoryFiles {
    /// Writes (replaces) a whole file, as a reader uploading one does.
    pub fn put(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), String> {
        check_path(path)?;
        if bytes.len() as u64 > MAX_MEMORY_CONNECT_FILE_BYTES {
            return Err(too_large(path));
        }
        if self.persisted.is_some() {
            let (dir, file) = (CONNECT_FILES_DIR.to_string(), path.to_string());
            self.record(StorageOp::Write { dir, file, bytes: bytes.clone() });
        }
        self.files.insert(path.to_string(), bytes);
        Ok(())
    }

    /// The JDBC sinks' tables.
    pub fn tables(&self) -> &MemoryTables {
        &self.tables
    }

    /// A whole file, as a reader downloading it gets it.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

fn too_large(path: &str) -> String {
    format!(
        "{path} would grow past {MAX_MEMORY_CONNECT_FILE_BYTES} bytes, the most a connect file in memory may hold"
    )
}

impl ConnectFiles for MemoryFiles {
    fn read(&mut self, path: &str, offset: u64, max_bytes: usize) -> Result<Option<Vec<u8>>, String> {
        let Some(bytes) = self.files.get(path) else { return Ok(None) };
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
        let end = start.saturating_add(max_bytes).min(bytes.len());
        Ok(Some(bytes[start..end].to_vec()))
    }

    fn append(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        check_path(path)?;
        let file = self.files.entry(path.to_string()).or_default();
        if (file.len() + bytes.len()) as u64 > MAX_MEMORY_CONNECT_FILE_BYTES {
            return Err(too_large(path));
        }
        let position = file.len();
        file.extend_from_slice(bytes);
        if self.persisted.is_some() {
            let (dir, file) = (CONNECT_FILES_DIR.to_string(), path.to_string());
            self.record(StorageOp::Append { dir, file, position, bytes: bytes.to_vec() });
        }
        Ok(())
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        self.put(path, bytes.to_vec())
    }

    fn flush(&mut self, _path: &str) -> Result<(), String> {
        Ok(())
    }

    fn list(&mut self) -> Vec<(String, u64)> {
        self.files.iter().map(|(path, bytes)| (path.clone(), bytes.len() as u64)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_inside_the_directory_are_accepted() {
        for good in ["test.txt", "in/orders.csv", "a.b/c"] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "c:\\x", "a\\b", "a\nb", "a/"] {
            let refused = check_path(bad).unwrap_err();
            assert!(refused.contains("connect directory") || refused.contains("1 to"), "{bad}: {refused}");
        }
    }

    /// The tab's files and tables, journaled and reopened from the journal's ops (as a reload
    /// reopens them from IndexedDB): the same files, the same rows, the change log rewritten as
    /// rows once it grew past twice their count.
    #[test]
    fn journaled_files_and_tables_come_back_after_a_reload() {
        use crate::connect::tables::{ColumnType, SqlValue, WriteMode};
        let journal = Journal::default();
        let mut files = MemoryFiles::journaled(&FileMap::new(), journal.clone());
        files.append("in/a.txt", b"foo\n").unwrap();
        files.append("in/a.txt", b"bar\n").unwrap();
        files.write("b.txt", b"whole").unwrap();
        let create = TableChange::Create {
            table: "t".into(),
            columns: vec![
                Column { name: "id".into(), kind: ColumnType::Integer, key: true },
                Column { name: "v".into(), kind: ColumnType::Text, key: false },
            ],
        };
        files.apply("bank.db", &[create]).unwrap();
        for i in 0..3_000 {
            let cells =
                vec![("id".into(), SqlValue::Integer(i % 10)), ("v".into(), SqlValue::Text(format!("v{i}")))];
            files
                .apply("bank.db", &[TableChange::Write { table: "t".into(), mode: WriteMode::Upsert, cells }])
                .unwrap();
        }
        let mut stored = FileMap::new();
        crate::log::storage::apply_ops(&mut stored, journal.lock().unwrap().drain(..));
        let log = &stored[&(CONNECT_TABLES_DIR.to_string(), "bank.db".to_string())];
        let lines = log.iter().filter(|b| **b == b'\n').count();
        assert!(lines < 2 * 10 + TABLE_LOG_SLACK_CHANGES + 2, "the log was rewritten as rows: {lines} lines");
        // A torn last line (a write cut short) is dropped, and what comes after it is kept.
        let log = stored.get_mut(&(CONNECT_TABLES_DIR.to_string(), "bank.db".to_string())).unwrap();
        log.extend_from_slice(b"{\"Write\":{\"table\":");
        let torn_journal = Journal::default();
        let mut torn = MemoryFiles::journaled(&stored, torn_journal.clone());
        let cells = vec![("id".into(), SqlValue::Integer(99)), ("v".into(), SqlValue::Text("after".into()))];
        torn.apply("bank.db", &[TableChange::Write { table: "t".into(), mode: WriteMode::Upsert, cells }])
            .unwrap();
        let mut after_tear = stored.clone();
        crate::log::storage::apply_ops(&mut after_tear, torn_journal.lock().unwrap().drain(..));
        let again = MemoryFiles::journaled(&after_tear, Journal::default());
        assert_eq!(again.tables().row_count("bank.db"), 11, "the ten rows and the one after the tear");
        let mut reopened = MemoryFiles::journaled(&stored, Journal::default());
        assert_eq!(reopened.get("in/a.txt"), Some(&b"foo\nbar\n"[..]));
        assert_eq!(reopened.get("b.txt"), Some(&b"whole"[..]));
        assert_eq!(reopened.show("bank.db").unwrap(), files.show("bank.db").unwrap());
        assert_eq!(
            reopened.show("bank.db").unwrap()[0].rows[9],
            vec![Some("9".into()), Some("v2999".into())]
        );
    }

    #[test]
    fn memory_files_read_from_an_offset_and_append() {
        let mut files = MemoryFiles::default();
        assert_eq!(files.read("x.txt", 0, 10), Ok(None));
        files.append("x.txt", b"foo\nbar\n").unwrap();
        assert_eq!(files.read("x.txt", 4, 100), Ok(Some(b"bar\n".to_vec())));
        assert_eq!(files.read("x.txt", 99, 100), Ok(Some(Vec::new())));
        assert_eq!(files.list(), vec![("x.txt".to_string(), 8)]);
        assert!(files.append("../y", b"z").is_err());
    }
}
