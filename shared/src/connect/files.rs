//! The files Kite Connect's file connectors read and write, behind a trait the host implements:
//! `kite serve` keeps them in one directory (`--connect-dir`), the tab, the scenario player and
//! the simulators in memory. The engine never opens a file itself (it is sans-IO).

use std::collections::BTreeMap;

use super::tables::{Column, ConnectTables, MemoryTables, TableChange};
use crate::api::TableView;
use crate::limits::{MAX_CONNECT_PATH_CHARS, MAX_MEMORY_CONNECT_FILE_BYTES};

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

/// Files (and the JDBC sink's tables) kept in memory: the tab's, the scenario player's and the
/// simulators'.
#[derive(Clone, Debug, Default)]
pub struct MemoryFiles {
    files: BTreeMap<String, Vec<u8>>,
    tables: MemoryTables,
}

impl ConnectTables for MemoryFiles {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        self.tables.columns(database, table)
    }

    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        self.tables.apply(database, changes)
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
        file.extend_from_slice(bytes);
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
