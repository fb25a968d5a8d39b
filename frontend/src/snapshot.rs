//! A snapshot of the tab's cluster as one file: every file the engine keeps in IndexedDB —
//! segments, indexes, checkpoints, the metadata log, topics and schemas, in Kafka's layout under
//! `controller/` and `broker-N/` — and the seed. Importing one replaces what the database holds;
//! the next engine opens it as a restarting cluster would (log recovery, then serving), so topics,
//! records, offsets and groups come back as they were. The layout is `kite serve`'s data
//! directory's, file for file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kite_shared::log::storage::{FileMap, StorageOp};
use serde::{Deserialize, Serialize};

use crate::indexed_db::{Durability, TabStorage};

/// What a snapshot file says it is.
pub const SNAPSHOT_FORMAT: &str = "kite-snapshot";
pub const SNAPSHOT_VERSION: u32 = 1;
/// The most bytes of files a snapshot may carry.
pub const MAX_SNAPSHOT_BYTES: usize = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: String,
    version: u32,
    seed: u64,
    files: Vec<SnapshotFile>,
}

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    /// The file's directory (`broker-0/orders-0`, `controller`; empty for the root).
    dir: String,
    file: String,
    /// Its bytes, base64.
    bytes: String,
}

/// The snapshot of `files` and `seed` as JSON text.
pub fn encode(seed: u64, files: &FileMap) -> String {
    let files = files
        .iter()
        .map(|((dir, file), bytes)| SnapshotFile {
            dir: dir.clone(),
            file: file.clone(),
            bytes: STANDARD.encode(bytes),
        })
        .collect();
    let snapshot = Snapshot { format: SNAPSHOT_FORMAT.into(), version: SNAPSHOT_VERSION, seed, files };
    serde_json::to_string(&snapshot).unwrap_or_default()
}

/// A directory or file name a snapshot may carry: relative, without `..`, no empty parts.
fn safe_path(path: &str, allow_slash: bool) -> bool {
    path.is_empty()
        || path.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && (allow_slash || !path.contains('/'))
        })
}

/// The seed and files of a snapshot's text; an error says what is wrong with it.
pub fn decode(text: &str) -> Result<(u64, FileMap), String> {
    let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| format!("not a Kite snapshot: {e}"))?;
    if snapshot.format != SNAPSHOT_FORMAT {
        return Err(format!("not a Kite snapshot: its format is {:?}", snapshot.format));
    }
    if snapshot.version != SNAPSHOT_VERSION {
        return Err(format!(
            "a snapshot of version {}; this Kite reads version {SNAPSHOT_VERSION}",
            snapshot.version
        ));
    }
    let mut files = FileMap::new();
    let mut total = 0;
    for f in snapshot.files {
        if !safe_path(&f.dir, true) || f.file.is_empty() || !safe_path(&f.file, false) {
            return Err(format!("the snapshot names an unsafe path: {:?}/{:?}", f.dir, f.file));
        }
        let bytes =
            STANDARD.decode(&f.bytes).map_err(|e| format!("{}/{}: not base64: {e}", f.dir, f.file))?;
        total += bytes.len();
        if total > MAX_SNAPSHOT_BYTES {
            return Err(format!("the snapshot holds more than {MAX_SNAPSHOT_BYTES} bytes"));
        }
        files.insert((f.dir, f.file), bytes);
    }
    Ok((snapshot.seed, files))
}

/// The snapshot of what database `database` holds.
pub async fn export(database: &str) -> Result<String, String> {
    let storage = TabStorage::open(database).await?;
    let loaded = storage.load().await;
    storage.close();
    let loaded = loaded?;
    let seed = loaded.seed.ok_or("nothing is stored: this tab keeps no cluster (?storage=ephemeral)")?;
    Ok(encode(seed, &loaded.files))
}

/// Replaces what database `database` holds with the snapshot in `text`, in one transaction (the
/// old files are deleted and the new written together, or nothing changes). The engine using the
/// database must be stopped first; the next one opens the snapshot's cluster.
pub async fn import(database: &str, text: &str) -> Result<(), String> {
    let (seed, files) = decode(text)?;
    let storage = TabStorage::open(database).await?;
    let result = async {
        let existing = storage.load().await?;
        let mut ops: Vec<StorageOp> = existing
            .files
            .keys()
            .map(|(dir, file)| StorageOp::Delete { dir: dir.clone(), file: file.clone() })
            .collect();
        ops.extend(files.into_iter().map(|((dir, file), bytes)| StorageOp::Write { dir, file, bytes }));
        storage.commit(&ops, Durability::Strict).await?;
        storage.save_seed(seed).await
    }
    .await;
    storage.close();
    result
}
