//! The segment files a process keeps open, at most `MAX_OPEN_SEGMENT_FILES`: a segment's file is
//! opened when it is read or written, and the one used longest ago is closed when the pool is
//! full. One descriptor per segment of every replica, held for the log's life, let a topic with a
//! tiny `segment.bytes` use up the process's descriptors; the next segment roll then failed with
//! EMFILE and took its partition offline. Closing a file loses nothing: its written bytes stay in
//! the page cache, and a later fsync through a new descriptor flushes them (fsync is per inode).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// The most segment files open at once in this process.
pub const MAX_OPEN_SEGMENT_FILES: usize = 512;

/// The open files, by segment, with when each was last used.
struct Pool {
    files: BTreeMap<u64, (File, u64)>,
    next_segment: u64,
    clock: u64,
}

static POOL: Mutex<Pool> = Mutex::new(Pool { files: BTreeMap::new(), next_segment: 0, clock: 0 });

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // The pool's state stays whole whatever panicked while it was held (a map of open files).
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A number for a new segment's file, `file` its open descriptor (kept while there is room).
pub fn register(file: File) -> u64 {
    let mut pool = pool();
    let segment = pool.next_segment;
    pool.next_segment += 1;
    pool.clock += 1;
    let now = pool.clock;
    make_room(&mut pool);
    pool.files.insert(segment, (file, now));
    segment
}

/// Runs `work` on segment `segment`'s file at `path`, opening it again if it was closed.
pub fn with_file<T>(
    segment: u64,
    path: &Path,
    work: impl FnOnce(&File) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut pool = pool();
    pool.clock += 1;
    let now = pool.clock;
    if !pool.files.contains_key(&segment) {
        make_room(&mut pool);
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        pool.files.insert(segment, (file, now));
    }
    match pool.files.get_mut(&segment) {
        Some((file, used)) => {
            *used = now;
            work(file)
        }
        None => Err(std::io::Error::other("the segment file was not kept open")),
    }
}

/// Closes segment `segment`'s file, if it is open (the segment is gone).
pub fn forget(segment: u64) {
    pool().files.remove(&segment);
}

/// How many segment files are open now.
pub fn open_now() -> usize {
    pool().files.len()
}

/// Closes the file used longest ago while the pool is full.
fn make_room(pool: &mut Pool) {
    while pool.files.len() >= MAX_OPEN_SEGMENT_FILES {
        let oldest = pool.files.iter().min_by_key(|(_, (_, used))| *used).map(|(&segment, _)| segment);
        match oldest {
            Some(segment) => pool.files.remove(&segment),
            None => return,
        };
    }
}
