//! Disk storage for a broker's logs, in Kafka's layout: `<data-dir>/broker-<id>/` holds the
//! checkpoints, the clean-shutdown marker and one `<topic>-<partition>/` directory per partition,
//! which holds `00000000000000000000.log`, `.index`, `.timeindex` and `leader-epoch-checkpoint`.
//!
//! Segment files are appended with positioned writes and read with positioned reads; small files
//! are replaced whole by writing `<name>.tmp`, fsyncing it, renaming it over `<name>` and fsyncing
//! the directory, so a crash leaves the old or the new file, never a mix.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::segment_files;
use kite_shared::cluster::layout::LayoutStores;
use kite_shared::log::segment::file_name;
use kite_shared::log::storage::{
    BrokerStore, LOG_SUFFIX, PartitionStore, SegmentFile, StorageError, TEMP_SUFFIX,
};

/// The directory of broker `id` under the data directory.
pub fn broker_dir(data_dir: &Path, id: u32) -> PathBuf {
    data_dir.join(kite_shared::cluster::layout::broker_dir(id))
}

/// A data directory as the engine's layout sees it (`kite_shared::cluster::layout`): its
/// subdirectories, each a broker's or the controller's store.
pub struct DiskLayout<'a>(pub &'a Path);

impl LayoutStores for DiskLayout<'_> {
    fn holds(&self, dir: &str) -> bool {
        self.0.join(dir).is_dir()
    }

    fn store(&mut self, dir: &str) -> Result<Box<dyn BrokerStore>, String> {
        Ok(Box::new(DiskBrokerStore::at(self.0.join(dir))?))
    }

    fn new_broker_stores(&self) -> Option<kite_shared::cluster::layout::NewBrokerStore> {
        let data_dir = self.0.to_path_buf();
        Some(Box::new(move |dir| {
            Ok(Box::new(DiskBrokerStore::at(data_dir.join(dir))?) as Box<dyn BrokerStore>)
        }))
    }
}

fn error(operation: &'static str, path: &Path, e: std::io::Error) -> StorageError {
    StorageError::new(operation, path.display().to_string(), e.to_string())
}

/// Fsyncs a directory, so renames and new entries in it survive a crash.
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| error("sync directory", dir, e))
}

fn read_whole(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error("read", path, e)),
    }
}

/// Replaces `dir/name` whole, atomically and durably.
fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let path = dir.join(name);
    let temp = dir.join(format!("{name}{TEMP_SUFFIX}"));
    let mut file = File::create(&temp).map_err(|e| error("create", &temp, e))?;
    file.write_all(bytes).map_err(|e| error("write", &temp, e))?;
    file.sync_all().map_err(|e| error("fsync", &temp, e))?;
    std::fs::rename(&temp, &path).map_err(|e| error("rename into place", &path, e))?;
    sync_dir(dir)
}

fn delete(path: &Path) -> Result<(), StorageError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(error("delete", path, e)),
    }
}

/// One broker's directory.
pub struct DiskBrokerStore {
    dir: PathBuf,
}

impl DiskBrokerStore {
    /// Opens (creating if needed) `<data-dir>/broker-<id>`.
    pub fn open(data_dir: &Path, id: u32) -> Result<DiskBrokerStore, String> {
        let dir = broker_dir(data_dir, id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(DiskBrokerStore { dir })
    }

    /// A store over `dir` itself (the replicated cluster's `controller` directory).
    pub fn at(dir: PathBuf) -> Result<DiskBrokerStore, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(DiskBrokerStore { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl BrokerStore for DiskBrokerStore {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn partition(&mut self, dir: &str) -> Result<Box<dyn PartitionStore>, StorageError> {
        let path = self.dir.join(dir);
        if !path.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| error("create", &path, e))?;
            sync_dir(&self.dir)?;
        }
        Ok(Box::new(DiskPartitionStore { dir: path }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        read_whole(&self.dir.join(name))
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        write_whole(&self.dir, name, bytes)
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        delete(&self.dir.join(name))?;
        sync_dir(&self.dir)
    }

    /// As Kafka deletes a log: the directory (whose log deleted its segments already) is renamed
    /// `<dir>.<id>-delete` (one atomic step, made durable), then removed. A crash before the
    /// rename leaves a partition directory with part of its files, after it a `-delete` one: the
    /// metadata no longer names either, and the sweep at the next open removes both.
    fn remove_partition(&mut self, dir: &str) -> Result<(), StorageError> {
        let path = self.dir.join(dir);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let marked = self.dir.join(format!("{dir}.{nanos:032x}-delete"));
        match std::fs::rename(&path, &marked) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(error("rename for deletion", &path, e)),
        }
        match std::fs::remove_dir_all(&marked) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(error("remove", &marked, e)),
        }
    }

    fn partition_dirs(&self) -> Result<Vec<String>, StorageError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| error("list", &self.dir, e))?;
        let mut dirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| error("list", &self.dir, e))?;
            let is_dir = entry.file_type().map_err(|e| error("list", &entry.path(), e))?.is_dir();
            // A name that is not UTF-8 is no partition of Kite's: left alone.
            if let (true, Ok(name)) = (is_dir, entry.file_name().into_string()) {
                dirs.push(name);
            }
        }
        dirs.sort();
        Ok(dirs)
    }
}

/// One partition's directory.
pub struct DiskPartitionStore {
    dir: PathBuf,
}

impl PartitionStore for DiskPartitionStore {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| error("list", &self.dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| error("list", &self.dir, e))?;
            // Names that are not UTF-8 are not Kafka's; leave them alone.
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError> {
        let path = self.dir.join(file_name(base_offset, LOG_SUFFIX));
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| error("open", &path, e))?;
        if !existed {
            sync_dir(&self.dir)?;
        }
        let len = file.metadata().map_err(|e| error("stat", &path, e))?.len();
        let len = usize::try_from(len)
            .map_err(|_| StorageError::new("open", path.display().to_string(), "too large"))?;
        Ok(Box::new(DiskSegment { segment: segment_files::register(file), len, path }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        read_whole(&self.dir.join(name))
    }

    fn file_len(&self, name: &str) -> Result<Option<u64>, StorageError> {
        let path = self.dir.join(name);
        match std::fs::metadata(&path) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(error("stat", &path, e)),
        }
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        write_whole(&self.dir, name, bytes)
    }

    fn append_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.dir.join(name);
        let created = !path.exists();
        let mut file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(|e| error("open", &path, e))?;
        file.write_all(bytes).map_err(|e| error("append to", &path, e))?;
        file.sync_all().map_err(|e| error("fsync", &path, e))?;
        if created { sync_dir(&self.dir) } else { Ok(()) }
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let (from, to) = (self.dir.join(from), self.dir.join(to));
        std::fs::rename(&from, &to).map_err(|e| error("rename", &from, e))?;
        sync_dir(&self.dir)
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        delete(&self.dir.join(name))
    }

    fn sync_dir(&mut self) -> Result<(), StorageError> {
        sync_dir(&self.dir)
    }
}

/// A segment's `.log` file, open while `segment_files` has room for it. `len` is what this
/// process has written (the file's length when opened, plus appends), so appends are positioned
/// writes at the end.
pub struct DiskSegment {
    segment: u64,
    len: usize,
    path: PathBuf,
}

impl DiskSegment {
    fn with_file<T>(&self, work: impl FnOnce(&File) -> std::io::Result<T>) -> std::io::Result<T> {
        segment_files::with_file(self.segment, &self.path, work)
    }
}

impl Drop for DiskSegment {
    fn drop(&mut self) {
        segment_files::forget(self.segment);
    }
}

impl SegmentFile for DiskSegment {
    fn len(&self) -> usize {
        self.len
    }

    fn read_at(&self, position: usize, len: usize) -> Result<Cow<'_, [u8]>, StorageError> {
        let end = position.saturating_add(len).min(self.len);
        let mut buffer = vec![0; end.saturating_sub(position)];
        self.with_file(|file| file.read_exact_at(&mut buffer, position as u64))
            .map_err(|e| error("read", &self.path, e))?;
        Ok(Cow::Owned(buffer))
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        let at = self.len as u64;
        self.with_file(|file| file.write_all_at(bytes, at)).map_err(|e| error("append to", &self.path, e))?;
        self.len += bytes.len();
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> Result<(), StorageError> {
        self.with_file(|file| file.set_len(len as u64)).map_err(|e| error("truncate", &self.path, e))?;
        self.len = len;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        self.with_file(File::sync_data).map_err(|e| error("fsync", &self.path, e))
    }
}

/// What `check_partition_dir` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionDirSummary {
    pub segments: usize,
    pub batches: usize,
    /// The first segment's base offset and one past the last batch's last offset.
    pub first_offset: i64,
    pub end_offset: i64,
}

/// Checks a partition directory the way `kafka-dump-log --verify` would read it: every `.log` is
/// named by a 20-digit base offset, holds only whole RecordBatch v2 batches with valid CRCs, and
/// offsets rise across batches and segments with no gaps (a log that was never compacted).
pub fn check_partition_dir(dir: &Path) -> Result<PartitionDirSummary, String> {
    use kite_shared::record::batch::BatchHeader;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(LOG_SUFFIX))
        .collect();
    names.sort();
    let mut summary = PartitionDirSummary { segments: 0, batches: 0, first_offset: 0, end_offset: 0 };
    for (i, name) in names.iter().enumerate() {
        let digits = &name[..name.len() - LOG_SUFFIX.len()];
        let base: i64 = (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
            .ok_or(format!("{name} is not named by a 20-digit base offset"))?;
        if i == 0 {
            summary.first_offset = base;
            summary.end_offset = base;
        } else if base != summary.end_offset {
            return Err(format!(
                "{name} starts at {base}, but the previous segment ended at {}",
                summary.end_offset
            ));
        }
        let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("cannot read {name}: {e}"))?;
        let mut at = 0;
        while at < bytes.len() {
            let header = BatchHeader::parse(&bytes[at..]).map_err(|e| format!("{name} byte {at}: {e}"))?;
            if header.base_offset != summary.end_offset {
                return Err(format!(
                    "{name} byte {at}: batch starts at offset {}, expected {}",
                    header.base_offset, summary.end_offset
                ));
            }
            summary.end_offset = header.last_offset() + 1;
            summary.batches += 1;
            at += header.total_bytes();
        }
        summary.segments += 1;
    }
    Ok(summary)
}
