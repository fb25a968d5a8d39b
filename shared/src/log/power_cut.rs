//! A disk that can lose power: stores that keep every file twice, as the running process sees it
//! (the OS page cache) and as the disk holds it (what was fsynced), so a test or the simulator can
//! cut the power and restart from what survives.
//!
//! It makes durable exactly what `kite serve`'s disk store (`backend/src/disk.rs`) makes durable:
//! - a segment's appends and truncations at its `flush` (fsync), not before;
//! - whole-file writes, renames, new files and directories, and removed directories at once (each
//!   is written aside, fsynced, renamed, and its directory fsynced);
//! - a partition file's deletion only at the next fsync of its directory: until then a cut brings
//!   the file back, as on a real disk.
//!
//! A process killed with -9 loses nothing the OS was given ([`PowerCutDisk::process_kill`]); a
//! power cut loses every byte not yet fsynced ([`PowerCutDisk::power_cut`]). Its writes can also
//! fail as a real disk's do ([`PowerCutDisk::fail_writes`]: EIO, ENOSPC, EMFILE), an append then
//! leaving part of its bytes behind.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::log::storage::{
    BrokerStore, FileMap, LOG_SUFFIX, PartitionStore, SegmentFile, StorageError, file_name,
};
use crate::random::Rng;

/// One file: what the process sees (`None` once deleted) and what the disk holds (`None` while
/// its directory entry is not durable).
#[derive(Clone, Debug, Default)]
struct FileState {
    live: Option<Vec<u8>>,
    durable: Option<Vec<u8>>,
}

/// Every file under the root, by `(directory, name)`; directories are paths from the root
/// (`broker-1/orders-0`), `""` the root itself.
#[derive(Debug, Default)]
struct Disk {
    files: BTreeMap<(String, String), FileState>,
    /// Directories created (durably) and not removed, even while they hold no file.
    dirs: BTreeSet<String>,
    /// Write-side operations fail one time in this many (none while `None`).
    failing: Option<(u64, Rng)>,
    /// How many operations failed so far.
    failed: u64,
    /// Fsyncs succeed without making anything durable (a planted fault for the simulator).
    lying: bool,
}

/// The errors a failing disk gives, as the OS words them.
const DISK_ERRORS: [&str; 3] = [
    "Input/output error (os error 5)",
    "No space left on device (os error 28)",
    "Too many open files (os error 24)",
];

impl Disk {
    /// Whether this write-side operation fails, and how.
    fn fault(&mut self, operation: &'static str, path: &str) -> Result<(), StorageError> {
        let Some((one_in, rng)) = &mut self.failing else { return Ok(()) };
        if *one_in == 0 || rng.next_u64() % *one_in != 0 {
            return Ok(());
        }
        let error = DISK_ERRORS[(rng.next_u64() % DISK_ERRORS.len() as u64) as usize];
        self.failed += 1;
        Err(StorageError::new(operation, path, error))
    }

    /// A draw from the faults' generator, for how much of a failed append reached the file.
    fn draw(&mut self, below: usize) -> usize {
        match &mut self.failing {
            Some((_, rng)) if below > 0 => (rng.next_u64() % below as u64) as usize,
            _ => 0,
        }
    }

    /// An fsync of `dir`: its entries as the process sees them become the durable ones.
    fn sync_dir(&mut self, dir: &str) {
        self.files.retain(|(d, _), file| {
            if d != dir {
                return true;
            }
            match &file.live {
                None => false,
                Some(_) => {
                    // A new entry made durable before its bytes: the disk holds it empty.
                    file.durable.get_or_insert_with(Vec::new);
                    true
                }
            }
        });
    }

    fn live(&self, dir: &str, name: &str) -> Option<&Vec<u8>> {
        self.files.get(&(dir.to_string(), name.to_string()))?.live.as_ref()
    }

    fn live_mut(&mut self, dir: &str, name: &str) -> Result<&mut Vec<u8>, StorageError> {
        self.files
            .get_mut(&(dir.to_string(), name.to_string()))
            .and_then(|file| file.live.as_mut())
            .ok_or_else(|| StorageError::new("write", format!("{dir}/{name}"), "no such file"))
    }

    /// Replaces a file whole and durably (written aside, fsynced, renamed, directory fsynced);
    /// a failure leaves the old file.
    fn write_whole(&mut self, dir: &str, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.fault("write", &format!("{dir}/{name}"))?;
        let state = FileState { live: Some(bytes.to_vec()), durable: Some(bytes.to_vec()) };
        self.files.insert((dir.to_string(), name.to_string()), state);
        self.sync_dir(dir);
        Ok(())
    }

    /// Deletes a file; durably if the directory is fsynced next.
    fn delete(&mut self, dir: &str, name: &str) {
        let key = (dir.to_string(), name.to_string());
        if let Some(file) = self.files.get_mut(&key) {
            file.live = None;
            if file.durable.is_none() {
                self.files.remove(&key);
            }
        }
    }

    fn files_of(&self, pick: impl Fn(&FileState) -> Option<&Vec<u8>>) -> FileMap {
        self.files.iter().filter_map(|(key, file)| Some((key.clone(), pick(file)?.clone()))).collect()
    }
}

/// A disk shared by the stores of one cluster's directories; cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct PowerCutDisk(Arc<Mutex<Disk>>);

impl PowerCutDisk {
    /// An empty disk.
    pub fn new() -> Self {
        PowerCutDisk::default()
    }

    /// A disk holding `files` durably: what a machine finds when it starts again.
    pub fn with_files(files: FileMap) -> Self {
        let dirs = files.keys().map(|(dir, _)| dir.clone()).collect();
        let files = files
            .into_iter()
            .map(|(key, bytes)| (key, FileState { live: Some(bytes.clone()), durable: Some(bytes) }))
            .collect();
        PowerCutDisk(Arc::new(Mutex::new(Disk { files, dirs, ..Disk::default() })))
    }

    /// From now on each write-side operation (append, truncate, fsync, whole-file write, rename,
    /// delete, a new segment or directory) fails one time in `one_in`, drawn from `seed`; `0`
    /// stops the failures.
    pub fn fail_writes(&self, seed: u64, one_in: u64) {
        self.lock().failing = (one_in > 0).then(|| (one_in, Rng::from_seed(seed)));
    }

    /// From now on (`true`) a segment's fsync succeeds and makes nothing durable, as a disk
    /// whose write cache ignores flushes: the planted fault that proves the checker notices
    /// acknowledged records lost with `--fsync`.
    pub fn lie_about_fsync(&self, lying: bool) {
        self.lock().lying = lying;
    }

    /// How many operations have failed.
    pub fn failed_writes(&self) -> u64 {
        self.lock().failed
    }

    /// Counts `failed` more failures: those of the disk this one replaced.
    pub fn add_failed_writes(&self, failed: u64) {
        self.lock().failed += failed;
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        // A poisoned lock only means another thread panicked holding it; the files are still there.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a restart after a power cut finds: the durable files, nothing else.
    pub fn power_cut(&self) -> FileMap {
        self.lock().files_of(|file| file.durable.as_ref())
    }

    /// What a restart after kill -9 finds: everything written, synced or not.
    pub fn process_kill(&self) -> FileMap {
        self.lock().files_of(|file| file.live.as_ref())
    }

    /// Whether directory `dir` (a path from the root) holds anything, or is `dir` itself made.
    pub fn holds(&self, dir: &str) -> bool {
        let nested = format!("{dir}/");
        let disk = self.lock();
        disk.dirs.iter().any(|d| d == dir || d.starts_with(&nested))
            || disk
                .files
                .iter()
                .any(|((d, _), file)| file.live.is_some() && (d == dir || d.starts_with(&nested)))
    }

    /// The store of directory `under` (`broker-1`, `controller`, `""` for the root), made if it
    /// is not there.
    pub fn store(&self, under: &str) -> PowerCutStore {
        self.lock().dirs.insert(under.to_string());
        PowerCutStore { disk: self.clone(), under: under.to_string() }
    }
}

/// Directory `name` inside `under`, as a path from the root.
fn join(under: &str, name: &str) -> String {
    match (under.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (false, true) => under.to_string(),
        (false, false) => format!("{under}/{name}"),
    }
}

/// One broker's (or the controller's) directory on a [`PowerCutDisk`].
pub struct PowerCutStore {
    disk: PowerCutDisk,
    under: String,
}

impl BrokerStore for PowerCutStore {
    fn describe(&self) -> String {
        format!("power-cut:{}", self.under)
    }

    fn partition(&mut self, dir: &str) -> Result<Box<dyn PartitionStore>, StorageError> {
        let path = join(&self.under, dir);
        let mut disk = self.disk.lock();
        if !disk.dirs.contains(&path) {
            disk.fault("create", &path)?;
            disk.dirs.insert(path.clone());
        }
        Ok(Box::new(PowerCutPartition { disk: self.disk.clone(), dir: path }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.disk.lock().live(&self.under, name).cloned())
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.disk.lock().write_whole(&self.under, name, bytes)
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        disk.fault("delete", &join(&self.under, name))?;
        disk.delete(&self.under, name);
        disk.sync_dir(&self.under);
        Ok(())
    }

    fn remove_partition(&mut self, dir: &str) -> Result<(), StorageError> {
        // Renamed `-delete`, directory fsynced, then removed: durable in one step.
        let path = join(&self.under, dir);
        let mut disk = self.disk.lock();
        disk.fault("remove", &path)?;
        disk.files.retain(|(d, _), _| *d != path);
        disk.dirs.remove(&path);
        Ok(())
    }

    fn partition_dirs(&self) -> Result<Vec<String>, StorageError> {
        let nested = format!("{}/", self.under);
        let disk = self.disk.lock();
        let inner = |dir: &String| dir.strip_prefix(&nested).map(str::to_string);
        let mut dirs: BTreeSet<String> = disk.dirs.iter().filter_map(inner).collect();
        dirs.extend(disk.files.iter().filter(|(_, f)| f.live.is_some()).filter_map(|((d, _), _)| inner(d)));
        Ok(dirs.into_iter().collect())
    }
}

/// One partition directory on a [`PowerCutDisk`].
pub struct PowerCutPartition {
    disk: PowerCutDisk,
    dir: String,
}

impl PartitionStore for PowerCutPartition {
    fn describe(&self) -> String {
        format!("power-cut:{}", self.dir)
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let disk = self.disk.lock();
        let listed = disk.files.iter().filter(|((d, _), file)| *d == self.dir && file.live.is_some());
        Ok(listed.map(|((_, name), _)| name.clone()).collect())
    }

    fn open_segment(&mut self, base_offset: i64) -> Result<Box<dyn SegmentFile>, StorageError> {
        let name = file_name(base_offset, LOG_SUFFIX);
        let mut disk = self.disk.lock();
        if disk.live(&self.dir, &name).is_none() {
            disk.fault("open", &format!("{}/{name}", self.dir))?;
            // Created, then the directory fsynced, as the disk store does for a new segment.
            let key = (self.dir.clone(), name.clone());
            disk.files.entry(key).or_default().live = Some(Vec::new());
            disk.sync_dir(&self.dir);
        }
        Ok(Box::new(PowerCutSegment { disk: self.disk.clone(), dir: self.dir.clone(), name }))
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.disk.lock().live(&self.dir, name).cloned())
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.disk.lock().write_whole(&self.dir, name, bytes)
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        disk.fault("rename", &format!("{}/{from}", self.dir))?;
        let key = (self.dir.clone(), from.to_string());
        let moved = disk.files.remove(&key).filter(|file| file.live.is_some());
        let Some(moved) = moved else {
            return Err(StorageError::new("rename", format!("{}/{from}", self.dir), "no such file"));
        };
        // The inode moves with its durable bytes; the directory fsync makes the new name durable.
        let state = FileState { durable: moved.durable.clone().or_else(|| Some(Vec::new())), ..moved };
        disk.files.insert((self.dir.clone(), to.to_string()), state);
        disk.sync_dir(&self.dir);
        Ok(())
    }

    fn delete_file(&mut self, name: &str) -> Result<(), StorageError> {
        // The disk store fsyncs no directory here: the deletion is durable at the next sync.
        let mut disk = self.disk.lock();
        disk.fault("delete", &format!("{}/{name}", self.dir))?;
        disk.delete(&self.dir, name);
        Ok(())
    }

    fn sync_dir(&mut self) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        disk.fault("sync", &self.dir)?;
        disk.sync_dir(&self.dir);
        Ok(())
    }
}

/// A segment's `.log` on a [`PowerCutDisk`], reached by its path as the disk store reaches its
/// files (a segment closed for lack of descriptors is opened again by name).
pub struct PowerCutSegment {
    disk: PowerCutDisk,
    dir: String,
    name: String,
}

impl SegmentFile for PowerCutSegment {
    fn len(&self) -> usize {
        self.disk.lock().live(&self.dir, &self.name).map_or(0, Vec::len)
    }

    fn read_at(&self, position: usize, len: usize) -> Result<Cow<'_, [u8]>, StorageError> {
        let disk = self.disk.lock();
        let bytes = disk.live(&self.dir, &self.name).ok_or_else(|| {
            StorageError::new("read", format!("{}/{}", self.dir, self.name), "no such file")
        })?;
        let start = position.min(bytes.len());
        let end = position.saturating_add(len).min(bytes.len());
        Ok(Cow::Owned(bytes[start..end].to_vec()))
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        if let Err(e) = disk.fault("append to", &format!("{}/{}", self.dir, self.name)) {
            // A write that fails part-way leaves what it wrote.
            let written = disk.draw(bytes.len());
            disk.live_mut(&self.dir, &self.name)?.extend_from_slice(&bytes[..written]);
            return Err(e);
        }
        disk.live_mut(&self.dir, &self.name)?.extend_from_slice(bytes);
        Ok(())
    }

    fn truncate(&mut self, len: usize) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        disk.fault("truncate", &format!("{}/{}", self.dir, self.name))?;
        disk.live_mut(&self.dir, &self.name)?.truncate(len);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        let mut disk = self.disk.lock();
        disk.fault("fsync", &format!("{}/{}", self.dir, self.name))?;
        if disk.lying {
            return Ok(());
        }
        let key = (self.dir.clone(), self.name.clone());
        if let Some(file) = disk.files.get_mut(&key)
            && let Some(live) = &file.live
        {
            file.durable = Some(live.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(files: &FileMap, dir: &str, name: &str) -> Option<Vec<u8>> {
        files.get(&(dir.to_string(), name.to_string())).cloned()
    }

    #[test]
    fn a_cut_keeps_what_was_fsynced_and_a_kill_keeps_what_was_written() {
        let disk = PowerCutDisk::new();
        let mut broker = disk.store("broker-0");
        let mut partition = broker.partition("orders-0").unwrap();
        let mut segment = partition.open_segment(0).unwrap();
        segment.append(b"synced ").unwrap();
        segment.flush().unwrap();
        segment.append(b"in the page cache").unwrap();
        partition.write_file("leader-epoch-checkpoint", b"0\n1\n0 0\n").unwrap();
        broker.write_file("recovery-point-offset-checkpoint", b"0\n0\n").unwrap();

        let log = "00000000000000000000.log";
        let cut = disk.power_cut();
        assert_eq!(file(&cut, "broker-0/orders-0", log), Some(b"synced ".to_vec()));
        assert_eq!(file(&cut, "broker-0/orders-0", "leader-epoch-checkpoint"), Some(b"0\n1\n0 0\n".to_vec()));
        assert_eq!(file(&cut, "broker-0", "recovery-point-offset-checkpoint"), Some(b"0\n0\n".to_vec()));
        let killed = disk.process_kill();
        assert_eq!(file(&killed, "broker-0/orders-0", log), Some(b"synced in the page cache".to_vec()));
    }

    #[test]
    fn a_truncation_and_a_deletion_come_undone_until_synced() {
        let disk = PowerCutDisk::new();
        let mut partition = disk.store("broker-0").partition("orders-0").unwrap();
        let mut old = partition.open_segment(0).unwrap();
        old.append(b"0123456789").unwrap();
        old.flush().unwrap();
        old.truncate(4).unwrap();
        let mut new = partition.open_segment(4).unwrap();
        new.append(b"later").unwrap();
        partition.delete_file("00000000000000000000.log").unwrap();

        let dir = "broker-0/orders-0";
        let cut = disk.power_cut();
        assert_eq!(
            file(&cut, dir, "00000000000000000000.log"),
            Some(b"0123456789".to_vec()),
            "deletion not synced"
        );
        assert_eq!(file(&cut, dir, "00000000000000000004.log"), Some(Vec::new()), "entry synced, bytes not");

        partition.write_file("leader-epoch-checkpoint", b"x").unwrap();
        assert_eq!(
            file(&disk.power_cut(), dir, "00000000000000000000.log"),
            None,
            "the directory sync made it durable"
        );
        assert!(disk.holds("broker-0") && !disk.holds("broker-1"));
    }

    #[test]
    fn a_failing_disk_fails_as_often_as_asked_and_a_failed_append_leaves_part_of_its_bytes() {
        let disk = PowerCutDisk::new();
        let mut partition = disk.store("broker-0").partition("orders-0").unwrap();
        let mut segment = partition.open_segment(0).unwrap();
        disk.fail_writes(1, 4);
        let mut failures = Vec::new();
        let mut written = 0;
        for _ in 0..400 {
            match segment.append(b"0123456789") {
                Ok(()) => written += 10,
                Err(e) => failures.push(e.to_string()),
            }
            assert!(segment.len() >= written && segment.len() < written + 10 * (failures.len() + 1));
        }
        assert_eq!(disk.failed_writes(), failures.len() as u64);
        assert!((60..140).contains(&failures.len()), "{} failures in 400, one in 4 asked", failures.len());
        assert!(
            failures.iter().any(|f| f.ends_with("No space left on device (os error 28)")),
            "{failures:?}"
        );
        assert!(failures[0].starts_with("cannot append to broker-0/orders-0/00000000000000000000.log: "));
        disk.fail_writes(0, 0);
        assert!(segment.append(b"ok").is_ok() && segment.flush().is_ok());
    }

    #[test]
    fn a_rename_moves_the_durable_bytes_and_a_removed_directory_stays_removed() {
        let disk = PowerCutDisk::new();
        let mut broker = disk.store("broker-0");
        let mut partition = broker.partition("orders-0").unwrap();
        partition.write_file("00000000000000000000.log.swap", b"cleaned").unwrap();
        partition.rename("00000000000000000000.log.swap", "00000000000000000000.log").unwrap();
        let cut = disk.power_cut();
        assert_eq!(file(&cut, "broker-0/orders-0", "00000000000000000000.log"), Some(b"cleaned".to_vec()));
        assert_eq!(file(&cut, "broker-0/orders-0", "00000000000000000000.log.swap"), None);
        assert_eq!(broker.partition_dirs().unwrap(), vec!["orders-0".to_string()]);

        broker.remove_partition("orders-0").unwrap();
        assert!(disk.power_cut().is_empty());
        assert_eq!(broker.partition_dirs().unwrap(), Vec::<String>::new());
    }
}
