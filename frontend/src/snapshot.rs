//! A snapshot of the tab's cluster as one file: every file the engine keeps in IndexedDB —
//! segments, indexes, checkpoints, the metadata log, topics and schemas, in Kafka's layout under
//! `controller/` and `broker-N/` — and the seed. Importing one replaces what the database holds;
//! the next engine opens it as a restarting cluster would (log recovery, then serving), so topics,
//! records, offsets and groups come back as they were. The format is `kite_shared::snapshot`'s,
//! which `kite snapshot create|restore` reads and writes for a server's data directory.

use kite_shared::log::storage::StorageOp;
use kite_shared::snapshot::{decode, encode};

use crate::indexed_db::{Durability, TabStorage};

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
