//! The storage interface a partition log asks of its host, and the in-memory backend.
//!
//! A partition log (`LocalLog`) keeps its files in a `PartitionStore`: one `.log` per segment,
//! opened as a `SegmentFile` (append, positioned read, truncate, flush), and small whole files
//! (`.index`, `.timeindex`, `leader-epoch-checkpoint`) replaced atomically. The engine decides
//! what to write and when; the host does the writing. `backend` keeps the files on disk in
//! Kafka's layout; the memory store here keeps them in `Vec`s, and can journal every change as a
//! `StorageOp` so the browser tab can replay them into IndexedDB (the tab's storage requests).
//! Either way the `.log` bytes are the same Kafka RecordBatch v2 bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A segment's log file suffix.
pub const LOG_SUFFIX: &str = ".log";
/// A segment's offset index file suffix.
pub const INDEX_SUFFIX: &str = ".index";
/// A segment's time index file suffix.
pub const TIME_INDEX_SUFFIX: &str = ".timeindex";
/// A finished, flushed replacement for a segment's `.log` (compaction), renamed over it next.
pub const SWAP_SUFFIX: &str = ".swap";
/// A partly written whole-file replacement; never valid after a crash.
pub const TEMP_SUFFIX: &str = ".tmp";
/// The partition's leader epoch cache.
pub const LEADER_EPOCH_CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// What went wrong with the host's storage, naming the operation and file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageError {
    /// What was being done, as a verb the message puts after "cannot" (`append to`, `fsync`, …).
    pub operation: &'static str,
    /// The file or directory, as the store names it.
    pub file: String,
    /// The host's reason (the OS error's text on disk).
    pub message: String,
}

impl StorageError {
    /// An error that reads `cannot {operation} {file}: {message}`.
    pub fn new(operation: &'static str, file: impl Into<String>, message: impl Into<String>) -> Self {
        StorageError { operation, file: file.into(), message: message.into() }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot {} {}: {}", self.operation, self.file, self.message)
    }
}

impl std::error::Error for StorageError {}

/// One segment's `.log` file, open for appending and positioned reads.
pub trait SegmentFile: Send {
    /// The file's length in bytes.
    fn len(&self) -> usize;
    /// Whether the file holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Up to `len` bytes from `position` (fewer at the end of the file).
    fn read_at(&self, position: usize, len: usize) -> Result<Cow<'_, [u8]>, StorageError>;
    /// Appends `bytes` at the end of the file.
    fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError>;
    /// Cuts the file to `len` bytes.
    fn truncate(&mut self, len: usize) -> Result<(), StorageError>;
    /// Makes everything written so far durable (fsync on disk).
    fn flush(&mut self) -> Result<(), StorageError>;
}

/// One partition's directory (`<topic>-<partition>/`).
pub trait PartitionStore: Send {
    /// A human-readable name for errors and reports (the directory's path).
    fn describe(&self) -> String;
    /// The names of the files in the directory.
    fn list(&self) -> Result<Vec<String>, StorageError>;
    /// Opens a segment's `.log`, creating it empty if it does not exist.
    fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError>;
    /// A whole small file, if it exists.
    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// The bytes `name` holds, if it exists, without reading it where the store can tell (a
    /// reader of a file that must be small checks before it reads). By default it is read.
    fn file_len(&self, name: &str) -> Result<Option<u64>, StorageError> {
        Ok(self.read_file(name)?.map(|bytes| bytes.len() as u64))
    }
    /// Replaces `name` with `bytes` so that after a crash it holds either the old or the new bytes
    /// in full (written aside, flushed, renamed).
    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// Appends `bytes` to small file `name` (created if missing), durable once it returns (a
    /// `.txnindex` grows by one entry at a time). A crash during it may leave part of the bytes:
    /// the reader checks. By default the file is written again whole.
    fn append_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let mut whole = self.read_file(name)?.unwrap_or_default();
        whole.extend_from_slice(bytes);
        self.write_file(name, &whole)
    }
    /// Renames `from` over `to`, atomically.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError>;
    /// Deletes `name`; deleting a missing file is not an error.
    fn delete_file(&mut self, name: &str) -> Result<(), StorageError>;
    /// Makes the directory's entries durable (an fsync of the directory): the files deleted
    /// before it stay deleted after a power cut. By default nothing: a store whose every change
    /// is durable at once, or none is until the host commits it whole.
    fn sync_dir(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// A whole broker's storage: its partition directories and its own small files (checkpoints,
/// the clean-shutdown marker, topic metadata).
pub trait BrokerStore: Send {
    /// A human-readable name for errors and reports (the log directory's path).
    fn describe(&self) -> String;
    /// The store of partition directory `dir` (`<topic>-<partition>`), created if missing.
    fn partition(&mut self, dir: &str) -> Result<Box<dyn PartitionStore>, StorageError>;
    /// A whole broker file (a checkpoint, the clean-shutdown marker), if it exists.
    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// As `PartitionStore::write_file`: old or new bytes in full after a crash.
    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// Deletes broker file `name`; deleting a missing file is not an error.
    fn delete_file(&mut self, name: &str) -> Result<(), StorageError>;
    /// Removes partition directory `dir` with the files left in it (its log deleted its own:
    /// `partition.metadata` remains, or everything when a sweep finds a stray directory).
    fn remove_partition(&mut self, dir: &str) -> Result<(), StorageError>;
    /// The names of the directories in the broker's directory (partitions, and any a crash left).
    fn partition_dirs(&self) -> Result<Vec<String>, StorageError>;
}

/// Whether `dir` names a partition's directory (`<topic>-<partition>`) or one marked for removal
/// as Kafka marks them (`<topic>-<partition>.<id>-delete`, `…-stray`): what a sweep may remove.
pub fn is_partition_dir(dir: &str) -> bool {
    if dir.contains('/') {
        return false;
    }
    if dir.ends_with("-delete") || dir.ends_with("-stray") {
        return true;
    }
    dir.rsplit_once('-').is_some_and(|(topic, partition)| {
        !topic.is_empty() && !partition.is_empty() && partition.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What Kafka's log manager does at startup: every partition directory that `named` does not
/// keep goes — a deleted topic's, left by a crash between the deletion's metadata write and its
/// directories' removal, or one marked `-delete`. Without it a topic created again under the
/// same name would open the old files and find the old records. Returns the removed names.
pub fn sweep_stray_partitions(
    store: &mut dyn BrokerStore,
    named: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, StorageError> {
    let mut removed = Vec::new();
    for dir in store.partition_dirs()? {
        if is_partition_dir(&dir) && !named(&dir) {
            store.remove_partition(&dir)?;
            removed.push(dir);
        }
    }
    Ok(removed)
}

/// A storage change, as the memory store journals it for a host that persists asynchronously
/// (the browser tab writes these to IndexedDB). `dir` is the partition directory, empty for the
/// broker's own files. Three kinds are enough, and none needs a read to apply: truncations and
/// renames are journaled as whole-file writes of the bytes that remain (both are rare: recovery,
/// follower truncation, compaction's swap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageOp {
    /// `bytes` appended to `file` at `position` (its length before the append).
    Append {
        /// The partition directory, empty for a broker file; under the broker's own directory
        /// (`broker-1/…`) when several brokers share a journal.
        dir: String,
        /// The file's name in `dir`.
        file: String,
        /// Where the bytes go: the file's length before the append.
        position: usize,
        /// The appended bytes.
        bytes: Vec<u8>,
    },
    /// `file` replaced whole.
    Write {
        /// The file's directory, as for `Append`.
        dir: String,
        /// The file's name in `dir`.
        file: String,
        /// The file's whole new contents.
        bytes: Vec<u8>,
    },
    /// `file` deleted.
    Delete {
        /// The file's directory, as for `Append`.
        dir: String,
        /// The file's name in `dir`.
        file: String,
    },
}

/// Where the memory store records its changes; the host drains it.
pub type Journal = Arc<Mutex<Vec<StorageOp>>>;

/// A segment file's name: the base offset in 20 digits, then the suffix (`.log`, `.index`, …).
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// Every file of a broker as bytes: `(dir, file)` → contents; `dir` is empty for broker files.
pub type FileMap = BTreeMap<(String, String), Vec<u8>>;

fn record(journal: &Option<Journal>, op: StorageOp) {
    if let Some(journal) = journal {
        // A poisoned journal only means another thread panicked mid-push; the ops are still there.
        journal.lock().unwrap_or_else(|e| e.into_inner()).push(op);
    }
}

/// Applies journaled ops to a file map, as a host that persists them would.
pub fn apply_ops(files: &mut FileMap, ops: impl IntoIterator<Item = StorageOp>) {
    for op in ops {
        match op {
            StorageOp::Append { dir, file, position, bytes } => {
                let contents = files.entry((dir, file)).or_default();
                contents.truncate(position);
                contents.extend_from_slice(&bytes);
            }
            StorageOp::Write { dir, file, bytes } => {
                files.insert((dir, file), bytes);
            }
            StorageOp::Delete { dir, file } => {
                files.remove(&(dir, file));
            }
        }
    }
}

/// The same changes in fewer ops, for a host that stores several requests' journals at once:
/// an append that continues the last append to its file (nothing else touched that file in
/// between) joins it. Applying the result gives the same files as applying `ops`; the tab stores
/// one IndexedDB record per append, so five requests' appends to a log become one record.
pub fn coalesce_appends(ops: Vec<StorageOp>) -> Vec<StorageOp> {
    let mut out: Vec<StorageOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let StorageOp::Append { dir, file, position, bytes } = &op {
            // The last op so far on the same file (a journal's few dozen ops: a scan is enough,
            // and a map keyed by file would cost the tab's bundle a map type of its own).
            let last = out.iter_mut().rev().find(|earlier| earlier.names(dir, file));
            if let Some(StorageOp::Append { position: start, bytes: joined, .. }) = last
                && *start + joined.len() == *position
            {
                joined.extend_from_slice(bytes);
                continue;
            }
        }
        out.push(op);
    }
    out
}

impl StorageOp {
    /// Whether this op is on file `file` of directory `dir`.
    fn names(&self, dir: &str, file: &str) -> bool {
        match self {
            StorageOp::Append { dir: d, file: f, .. }
            | StorageOp::Write { dir: d, file: f, .. }
            | StorageOp::Delete { dir: d, file: f } => d == dir && f == file,
        }
    }
}

/// A broker kept in memory: ephemeral, or journaled for a host to persist, and reopenable from a
/// `FileMap` (what the host persisted).
pub struct MemoryBrokerStore {
    files: FileMap,
    /// The partition directories handed out, by name: a broker restarted over this store (same
    /// engine, new `Broker`) reopens them with what their logs left there.
    opened: BTreeMap<String, SharedFiles>,
    journal: Option<Journal>,
    /// The directory the journal names this broker's files under (`broker-1`), so several
    /// brokers can share one journal and one database; empty for the broker at the root.
    under: String,
}

impl MemoryBrokerStore {
    /// An empty broker whose files live only as long as the engine.
    pub fn ephemeral() -> Self {
        MemoryBrokerStore {
            files: FileMap::new(),
            opened: BTreeMap::new(),
            journal: None,
            under: String::new(),
        }
    }

    /// A broker reopened from `files`, journaling every change into `journal`.
    pub fn journaled(files: FileMap, journal: Journal) -> Self {
        MemoryBrokerStore { files, opened: BTreeMap::new(), journal: Some(journal), under: String::new() }
    }

    /// A broker whose files are those of `all` under directory `under` (as `files_under` picks
    /// them), journaling its changes under that directory into the shared `journal`.
    pub fn journaled_under(under: &str, all: &FileMap, journal: Journal) -> Self {
        MemoryBrokerStore {
            files: files_under(all, under),
            opened: BTreeMap::new(),
            journal: Some(journal),
            under: under.to_string(),
        }
    }

    /// How the journal names directory `dir` of this broker.
    fn journal_dir(&self, dir: &str) -> String {
        match (self.under.is_empty(), dir.is_empty()) {
            (true, _) => dir.to_string(),
            (false, true) => self.under.clone(),
            (false, false) => format!("{}/{dir}", self.under),
        }
    }
}

/// The files of `all` under directory `under`, named relative to it: `(under, f)` becomes the
/// broker file `("", f)`, `(under/d, f)` the partition file `(d, f)`.
pub fn files_under(all: &FileMap, under: &str) -> FileMap {
    let nested = format!("{under}/");
    all.iter()
        .filter_map(|((dir, file), bytes)| {
            let inner = if dir == under { Some("") } else { dir.strip_prefix(&nested) }?;
            Some(((inner.to_string(), file.clone()), bytes.clone()))
        })
        .collect()
}

impl BrokerStore for MemoryBrokerStore {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn partition(&mut self, dir: &str) -> Result<Box<dyn PartitionStore>, StorageError> {
        // Hand the partition its files (moved, not copied): those never opened, and those a
        // previous opening left when its log was closed.
        let keys: Vec<(String, String)> = self.files.keys().filter(|(d, _)| d == dir).cloned().collect();
        let mut files: BTreeMap<String, Slot> = keys
            .into_iter()
            .filter_map(|key| self.files.remove(&key).map(|bytes| (key.1, Slot::Bytes(bytes))))
            .collect();
        if let Some(previous) = self.opened.remove(dir) {
            let mut previous = lock(&previous);
            for (name, slot) in std::mem::take(&mut previous.files) {
                if let Slot::Bytes(bytes) = slot {
                    files.insert(name, Slot::Bytes(bytes));
                }
            }
        }
        let shared = Arc::new(Mutex::new(PartitionFiles { files, next_open: 0 }));
        self.opened.insert(dir.to_string(), shared.clone());
        Ok(Box::new(MemoryPartitionStore {
            dir: self.journal_dir(dir),
            files: shared,
            journal: self.journal.clone(),
        }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.files.get(&(String::new(), name.to_string())).cloned())
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.files.insert((String::new(), name.to_string()), bytes.to_vec());
        record(
            &self.journal,
            StorageOp::Write { dir: self.journal_dir(""), file: name.into(), bytes: bytes.to_vec() },
        );
        Ok(())
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        self.files.remove(&(String::new(), name.to_string()));
        record(&self.journal, StorageOp::Delete { dir: self.journal_dir(""), file: name.into() });
        Ok(())
    }

    fn remove_partition(&mut self, dir: &str) -> Result<(), StorageError> {
        // Whatever is left goes, journaled, so a host that persists the journal drops it too.
        let mut left: Vec<String> =
            self.files.keys().filter(|(d, _)| d == dir).map(|(_, name)| name.clone()).collect();
        self.files.retain(|(d, _), _| d != dir);
        if let Some(opened) = self.opened.remove(dir) {
            left.extend(lock(&opened).files.keys().cloned());
        }
        for file in left {
            record(&self.journal, StorageOp::Delete { dir: self.journal_dir(dir), file });
        }
        Ok(())
    }

    fn partition_dirs(&self) -> Result<Vec<String>, StorageError> {
        let mut dirs: std::collections::BTreeSet<String> =
            self.files.keys().map(|(dir, _)| dir.clone()).filter(|dir| !dir.is_empty()).collect();
        dirs.extend(self.opened.keys().cloned());
        Ok(dirs.into_iter().collect())
    }
}

/// A file of a memory partition directory: its bytes, or a mark that an open `MemorySegment`
/// holds them (which opening, so a segment renamed over or deleted cannot write back).
enum Slot {
    Bytes(Vec<u8>),
    Open(u64),
}

/// A partition directory's files, shared by the directory and the segments open in it.
struct PartitionFiles {
    files: BTreeMap<String, Slot>,
    next_open: u64,
}

type SharedFiles = Arc<Mutex<PartitionFiles>>;

fn lock(files: &SharedFiles) -> std::sync::MutexGuard<'_, PartitionFiles> {
    // A poisoned lock only means another thread panicked holding it; the files are still there.
    files.lock().unwrap_or_else(|e| e.into_inner())
}

/// One partition directory in memory. A segment's bytes move into its `MemorySegment` when it
/// is opened, so reads borrow them without copying, and move back when it is closed (dropped),
/// so a broker stopped and started over the same store finds its logs.
pub struct MemoryPartitionStore {
    dir: String,
    files: SharedFiles,
    journal: Option<Journal>,
}

impl MemoryPartitionStore {
    /// An empty, unjournaled partition directory.
    pub fn ephemeral() -> Self {
        MemoryPartitionStore::with_files("", BTreeMap::new(), None)
    }

    /// A partition directory holding `files`, journaling changes into `journal` if given.
    pub fn with_files(dir: &str, files: BTreeMap<String, Vec<u8>>, journal: Option<Journal>) -> Self {
        let files = files.into_iter().map(|(name, bytes)| (name, Slot::Bytes(bytes))).collect();
        MemoryPartitionStore {
            dir: dir.to_string(),
            files: Arc::new(Mutex::new(PartitionFiles { files, next_open: 0 })),
            journal,
        }
    }
}

impl PartitionStore for MemoryPartitionStore {
    fn describe(&self) -> String {
        format!("memory:{}", self.dir)
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        Ok(lock(&self.files).files.keys().cloned().collect())
    }

    fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError> {
        let name = file_name(base_offset, LOG_SUFFIX);
        let mut files = lock(&self.files);
        let bytes = match files.files.remove(&name) {
            Some(Slot::Bytes(bytes)) => bytes,
            _ => Vec::new(),
        };
        // Listing still shows the segment; its bytes now live in the open file.
        let id = files.next_open;
        files.next_open += 1;
        files.files.insert(name.clone(), Slot::Open(id));
        Ok(Box::new(MemorySegment {
            dir: self.dir.clone(),
            name,
            bytes,
            journal: self.journal.clone(),
            home: Some((self.files.clone(), id)),
        }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(lock(&self.files).files.get(name).map(|slot| match slot {
            Slot::Bytes(bytes) => bytes.clone(),
            // An open segment's bytes are read through the segment.
            Slot::Open(_) => Vec::new(),
        }))
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        lock(&self.files).files.insert(name.to_string(), Slot::Bytes(bytes.to_vec()));
        record(
            &self.journal,
            StorageOp::Write { dir: self.dir.clone(), file: name.into(), bytes: bytes.to_vec() },
        );
        Ok(())
    }

    fn append_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let position = {
            let mut files = lock(&self.files);
            match files.files.get_mut(name) {
                Some(Slot::Bytes(whole)) => {
                    let position = whole.len();
                    whole.extend_from_slice(bytes);
                    position
                }
                Some(Slot::Open(_)) => {
                    return Err(StorageError::new("append to", name, "the file is open as a segment"));
                }
                None => {
                    files.files.insert(name.to_string(), Slot::Bytes(bytes.to_vec()));
                    0
                }
            }
        };
        let op =
            StorageOp::Append { dir: self.dir.clone(), file: name.into(), position, bytes: bytes.to_vec() };
        record(&self.journal, op);
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let mut files = lock(&self.files);
        let slot =
            files.files.remove(from).ok_or_else(|| StorageError::new("rename", from, "no such file"))?;
        if self.journal.is_some() {
            let bytes = match &slot {
                Slot::Bytes(bytes) => bytes.clone(),
                Slot::Open(_) => Vec::new(),
            };
            record(&self.journal, StorageOp::Write { dir: self.dir.clone(), file: to.into(), bytes });
            record(&self.journal, StorageOp::Delete { dir: self.dir.clone(), file: from.into() });
        }
        files.files.insert(to.to_string(), slot);
        Ok(())
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        lock(&self.files).files.remove(name);
        record(&self.journal, StorageOp::Delete { dir: self.dir.clone(), file: name.into() });
        Ok(())
    }
}

/// A segment's `.log` bytes in memory.
pub struct MemorySegment {
    dir: String,
    name: String,
    bytes: Vec<u8>,
    journal: Option<Journal>,
    /// The directory it was opened from and which opening it is: closing puts the bytes back
    /// there, unless the file was deleted or replaced meanwhile.
    home: Option<(SharedFiles, u64)>,
}

impl Drop for MemorySegment {
    fn drop(&mut self) {
        let Some((files, id)) = self.home.take() else { return };
        let mut files = lock(&files);
        let still_there =
            files.files.values_mut().find(|slot| matches!(slot, Slot::Open(open) if *open == id));
        if let Some(slot) = still_there {
            *slot = Slot::Bytes(std::mem::take(&mut self.bytes));
        }
    }
}

impl MemorySegment {
    /// A fresh, unjournaled segment file.
    pub fn ephemeral(base_offset: i64) -> Self {
        MemorySegment {
            dir: String::new(),
            name: file_name(base_offset, LOG_SUFFIX),
            bytes: Vec::new(),
            journal: None,
            home: None,
        }
    }

    /// An unjournaled segment file holding `bytes`.
    pub fn with_bytes(base_offset: i64, bytes: Vec<u8>) -> Self {
        let mut segment = MemorySegment::ephemeral(base_offset);
        segment.bytes = bytes;
        segment
    }
}

impl SegmentFile for MemorySegment {
    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn read_at(&self, position: usize, len: usize) -> Result<Cow<'_, [u8]>, StorageError> {
        let start = position.min(self.bytes.len());
        let end = position.saturating_add(len).min(self.bytes.len());
        Ok(Cow::Borrowed(&self.bytes[start..end]))
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        record(
            &self.journal,
            StorageOp::Append {
                dir: self.dir.clone(),
                file: self.name.clone(),
                position: self.bytes.len(),
                bytes: bytes.to_vec(),
            },
        );
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> Result<(), StorageError> {
        self.bytes.truncate(len);
        if self.journal.is_some() {
            let op = StorageOp::Write {
                dir: self.dir.clone(),
                file: self.name.clone(),
                bytes: self.bytes.clone(),
            };
            record(&self.journal, op);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An op on one of three files of two dirs, appending at the file's end (as the journal
    /// does) or, for `gap`, somewhere else.
    #[cfg(not(target_arch = "wasm32"))]
    fn ops_strategy() -> impl proptest::strategy::Strategy<Value = Vec<(u8, u8, Vec<u8>, bool)>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            (0u8..3, 0u8..4, proptest::collection::vec(any::<u8>(), 0..6), any::<bool>()),
            0..40,
        )
    }

    // proptest is a native dev-dependency (the wasm32 build of the tests has none).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn coalesced_appends_leave_the_same_files(steps in ops_strategy()) {
            let mut lengths: BTreeMap<(String, String), usize> = BTreeMap::new();
            let mut ops = Vec::new();
            for (file, kind, bytes, gap) in steps {
                let key = (format!("d{}", file % 2), format!("f{file}"));
                let length = lengths.get(&key).copied().unwrap_or(0);
                let (dir, file) = key.clone();
                match kind {
                    0 | 1 => {
                        // A truncating append (position before the end) exercises the rule that
                        // only contiguous appends join.
                        let position = if gap { length / 2 } else { length };
                        lengths.insert(key, position + bytes.len());
                        ops.push(StorageOp::Append { dir, file, position, bytes });
                    }
                    2 => {
                        lengths.insert(key, bytes.len());
                        ops.push(StorageOp::Write { dir, file, bytes });
                    }
                    _ => {
                        lengths.remove(&key);
                        ops.push(StorageOp::Delete { dir, file });
                    }
                }
            }
            let (mut plain, mut joined) = (FileMap::new(), FileMap::new());
            apply_ops(&mut plain, ops.clone());
            let coalesced = coalesce_appends(ops.clone());
            proptest::prop_assert!(coalesced.len() <= ops.len());
            apply_ops(&mut joined, coalesced);
            proptest::prop_assert_eq!(plain, joined);
        }
    }

    #[test]
    fn five_requests_appends_to_a_log_become_one() {
        let append = |position: usize, bytes: &[u8]| StorageOp::Append {
            dir: "broker-0/t-0".into(),
            file: "00000000000000000000.log".into(),
            position,
            bytes: bytes.to_vec(),
        };
        let other = StorageOp::Write {
            dir: "broker-0/t-0".into(),
            file: "leader-epoch-checkpoint".into(),
            bytes: b"0".to_vec(),
        };
        let ops = vec![append(0, b"ab"), other.clone(), append(2, b"cd"), append(4, b"e")];
        assert_eq!(coalesce_appends(ops), vec![append(0, b"abcde"), other]);
        // A write to the log itself in between keeps the appends apart.
        let rewrite = StorageOp::Write {
            dir: "broker-0/t-0".into(),
            file: "00000000000000000000.log".into(),
            bytes: b"ab".to_vec(),
        };
        let ops = vec![append(0, b"ab"), rewrite.clone(), append(2, b"cd")];
        assert_eq!(coalesce_appends(ops.clone()), ops);
    }

    #[test]
    fn a_partition_reopened_over_the_same_store_finds_what_its_log_left() {
        let mut broker = MemoryBrokerStore::ephemeral();
        {
            let mut partition = broker.partition("t-0").unwrap();
            partition.open_segment(0).unwrap().append(b"kept").unwrap();
            let mut doomed = partition.open_segment(10).unwrap();
            doomed.append(b"deleted").unwrap();
            partition.delete_file(&file_name(10, LOG_SUFFIX)).unwrap();
            drop(doomed);
            let mut replaced = partition.open_segment(20).unwrap();
            replaced.append(b"old").unwrap();
            partition.write_file("new", b"compacted").unwrap();
            partition.rename("new", &file_name(20, LOG_SUFFIX)).unwrap();
            drop(replaced);
        }
        let mut reopened = broker.partition("t-0").unwrap();
        let mut names = reopened.list().unwrap();
        names.sort();
        assert_eq!(names, vec![file_name(0, LOG_SUFFIX), file_name(20, LOG_SUFFIX)]);
        assert_eq!(&*reopened.open_segment(0).unwrap().read_at(0, 10).unwrap(), b"kept");
        assert_eq!(&*reopened.open_segment(20).unwrap().read_at(0, 20).unwrap(), b"compacted");
        broker.remove_partition("t-0").unwrap();
        assert_eq!(broker.partition("t-0").unwrap().list().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn journal_replays_to_the_same_files() {
        let journal = Journal::default();
        let mut broker = MemoryBrokerStore::journaled(FileMap::new(), journal.clone());
        let mut partition = broker.partition("t-0").unwrap();
        let mut segment = partition.open_segment(0).unwrap();
        segment.append(b"abcdef").unwrap();
        segment.truncate(4).unwrap();
        segment.append(b"XY").unwrap();
        partition.write_file("x.tmp", b"swap").unwrap();
        partition.rename("x.tmp", "x").unwrap();
        partition.write_file("gone", b"1").unwrap();
        partition.delete_file("gone").unwrap();
        broker.write_file("marker", b"").unwrap();

        let mut files = FileMap::new();
        apply_ops(&mut files, journal.lock().unwrap().drain(..));
        let name = |d: &str, f: &str| (d.to_string(), f.to_string());
        assert_eq!(files.get(&name("t-0", "00000000000000000000.log")).unwrap(), b"abcdXY");
        assert_eq!(files.get(&name("t-0", "x")).unwrap(), b"swap");
        assert!(!files.contains_key(&name("t-0", "gone")));
        assert!(files.contains_key(&name("", "marker")));

        let mut reopened = MemoryBrokerStore::journaled(files, Journal::default());
        let segment = reopened.partition("t-0").unwrap().open_segment(0).unwrap();
        assert_eq!(&*segment.read_at(2, 100).unwrap(), b"cdXY");
        assert_eq!(&*segment.read_at(100, 4).unwrap(), b"");
    }

    #[test]
    fn brokers_under_directories_share_one_journal() {
        let journal = Journal::default();
        let mut one = MemoryBrokerStore::journaled_under("broker-1", &FileMap::new(), journal.clone());
        let mut two = MemoryBrokerStore::journaled_under("broker-2", &FileMap::new(), journal.clone());
        one.partition("t-0").unwrap().open_segment(0).unwrap().append(b"one").unwrap();
        two.partition("t-0").unwrap().open_segment(0).unwrap().append(b"two").unwrap();
        one.write_file("marker", b"1").unwrap();

        let mut files = FileMap::new();
        apply_ops(&mut files, journal.lock().unwrap().drain(..));
        let name = |d: &str, f: &str| (d.to_string(), f.to_string());
        assert_eq!(files.get(&name("broker-1/t-0", "00000000000000000000.log")).unwrap(), b"one");
        assert_eq!(files.get(&name("broker-2/t-0", "00000000000000000000.log")).unwrap(), b"two");
        assert!(files.contains_key(&name("broker-1", "marker")));

        // Each reopens from its own part of the shared files.
        let mut reopened = MemoryBrokerStore::journaled_under("broker-2", &files, Journal::default());
        assert_eq!(reopened.read_file("marker").unwrap(), None);
        let segment = reopened.partition("t-0").unwrap().open_segment(0).unwrap();
        assert_eq!(&*segment.read_at(0, 100).unwrap(), b"two");
        let reopened = MemoryBrokerStore::journaled_under("broker-1", &files, Journal::default());
        assert_eq!(reopened.read_file("marker").unwrap().as_deref(), Some(&b"1"[..]));
    }
}
