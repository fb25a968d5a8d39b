//! `partition.metadata`: which topic a partition directory belongs to, by id, in Kafka's format
//! (`version: 0`, `topic_id: …`). A directory of a topic deleted and created again under the same
//! name holds another id: its files are not the new topic's.

use crate::ids::TopicId;
use crate::log::storage::{PartitionStore, StorageError};

/// The file's name in each partition directory.
pub const PARTITION_METADATA_FILE: &str = "partition.metadata";

/// The file's text for topic `id`.
pub fn encode(id: TopicId) -> String {
    format!("version: 0\ntopic_id: {id}\n")
}

/// The topic id the file names, if it is a version-0 file with a readable id.
pub fn decode(bytes: &[u8]) -> Option<TopicId> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    if lines.next()?.trim() != "version: 0" {
        return None;
    }
    TopicId::parse(lines.next()?.strip_prefix("topic_id:")?)
}

/// What [`claim`] found in a partition directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claimed {
    /// It was this topic's already: the broker's checkpoints for the partition hold.
    Kept,
    /// It named no topic (new, from before topic ids, or its file unreadable): now it names this
    /// one. Checkpoints are not trusted for it (they may be a deleted topic's of the same name).
    Named,
    /// It was another topic's (a deleted one of the same name): its files went first.
    Emptied,
}

/// Makes `store` the directory of topic `id` before its log opens: the file is written when
/// missing (a new directory, or one from before topic ids). When it names another topic, the files
/// are a deleted topic's of the same name and go first. An unreadable file is rewritten and the
/// data kept: a damaged file is no proof the records are someone else's.
pub fn claim(store: &mut dyn PartitionStore, id: TopicId) -> Result<Claimed, StorageError> {
    let found = store.read_file(PARTITION_METADATA_FILE)?;
    let claimed = match found.as_deref().map(decode) {
        Some(Some(found)) if found == id => return Ok(Claimed::Kept),
        Some(Some(_other_topic)) => Claimed::Emptied,
        Some(None) | None => Claimed::Named,
    };
    if claimed == Claimed::Emptied {
        for file in store.list()? {
            store.delete_file(&file)?;
        }
    }
    store.write_file(PARTITION_METADATA_FILE, encode(id).as_bytes())?;
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::storage::MemoryPartitionStore;

    #[test]
    fn a_directory_of_another_topic_is_emptied_and_claimed() {
        let (old, new) = (TopicId([1; 16]), TopicId([2; 16]));
        let mut store = MemoryPartitionStore::ephemeral();
        assert_eq!(claim(&mut store, old).unwrap(), Claimed::Named, "a new directory is claimed");
        store.write_file("00000000000000000000.log", b"old records").unwrap();
        assert_eq!(claim(&mut store, old).unwrap(), Claimed::Kept, "its own topic keeps it");
        assert_eq!(store.list().unwrap().len(), 2);
        assert_eq!(claim(&mut store, new).unwrap(), Claimed::Emptied, "another topic's files go");
        assert_eq!(store.list().unwrap(), vec![PARTITION_METADATA_FILE.to_string()]);
        let text = store.read_file(PARTITION_METADATA_FILE).unwrap().unwrap();
        assert_eq!(decode(&text), Some(new));
        assert_eq!(String::from_utf8(text).unwrap(), "version: 0\ntopic_id: AgICAgICAgICAgICAgICAg\n");
    }

    #[test]
    fn an_unreadable_file_is_rewritten_and_the_data_kept() {
        let mut store = MemoryPartitionStore::ephemeral();
        store.write_file(PARTITION_METADATA_FILE, b"garbage").unwrap();
        store.write_file("00000000000000000000.log", b"records").unwrap();
        assert_eq!(claim(&mut store, TopicId([3; 16])).unwrap(), Claimed::Named);
        assert_eq!(store.list().unwrap().len(), 2);
    }
}
