//! The data directory: created on start and locked for as long as one `kite serve` uses it.
//!
//! Kafka holds a `.lock` file in each log directory so two brokers never write the same files; Kite
//! does the same, so a second server pointed at the same directory stops with a clear error instead
//! of corrupting the first one's data.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

const LOCK_FILE_NAME: &str = ".lock";

/// A data directory this process holds the lock of; the lock is released when this is dropped.
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    pub fn open(path: &Path) -> Result<DataDir, String> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create data directory {}: {e}", path.display()))?;
        let path = path
            .canonicalize()
            .map_err(|e| format!("cannot resolve data directory {}: {e}", path.display()))?;
        let lock_path = path.join(LOCK_FILE_NAME);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => Ok(DataDir { path, _lock: lock }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "data directory {} is in use by another kite process (it holds {})",
                path.display(),
                lock_path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_error(&lock_path, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn lock_error(lock_path: &Path, e: io::Error) -> String {
    format!("cannot lock {}: {e}", lock_path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_opener_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("kite-data-dir-test-{}", std::process::id()));
        let first = DataDir::open(&dir.join("nested")).expect("first open creates and locks");
        let second = DataDir::open(&dir.join("nested"));
        let err = second.err().expect("second open is refused while the first holds the lock");
        assert!(err.contains("in use by another kite process"), "{err}");
        drop(first);
        DataDir::open(&dir.join("nested")).expect("the lock is released on drop");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
