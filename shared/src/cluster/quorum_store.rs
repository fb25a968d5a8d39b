//! Each KRaft controller's durable state, in Kafka's layout: `controller-N/__cluster_metadata-0/`
//! holds the controller's copy of the metadata log as record batches (one per atomic batch the
//! quorum appended, so a torn write loses whole decisions; its `partitionLeaderEpoch` the
//! quorum epoch that appended it), `quorum-state` (its epoch, vote and leader, as Kafka's
//! JSON), and `<end offset>-<epoch>.checkpoint` snapshots (KIP-630). Kafka encodes metadata
//! records in its own binary schemas; Kite's records are the JSON of `MetadataRecord`. A
//! LeaderChange entry is a control batch with Kafka's LEADER_CHANGE key and no value.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::TopicConfig;
use crate::log::local_log::{LocalLog, LogConfig, OpenCheckpoints};
use crate::log::storage::BrokerStore;
use crate::record::batch::{BatchRecord, RecordBatch};
use crate::replication::protocol::MetadataRecord;
use crate::replication::quorum::{Entry, QuorumNode, QuorumState, Snapshot, VoterId};

/// The metadata log's partition directory in each controller's directory, as Kafka names it.
pub const METADATA_LOG_DIR: &str = "__cluster_metadata-0";
/// Kafka's file of a voter's epoch, vote and leader.
pub const QUORUM_STATE_FILE: &str = "quorum-state";
/// A metadata log segment rolls past this many bytes (Kafka's `metadata.log.segment.bytes` is
/// 1 GiB; a learner's metadata log is small, and segments below a snapshot are deleted whole).
const METADATA_LOG_SEGMENT_BYTES: usize = 1024 * 1024;
/// The most bytes one read of the metadata log takes while it is loaded.
const METADATA_LOAD_READ_BYTES: usize = 1024 * 1024;
/// A snapshot's records go in batches of at most this many.
const SNAPSHOT_RECORDS_PER_BATCH: usize = 1_000;
/// Kafka's control record type of a LeaderChange record (the key is version 0, then the type).
const LEADER_CHANGE_KEY: [u8; 4] = [0, 0, 0, 2];
/// The largest metadata snapshot a controller reads back: the whole cluster's metadata as JSON
/// records, a few hundred bytes a partition (a larger file is damage, refused before it is read).
pub const MAX_METADATA_SNAPSHOT_BYTES: u64 = 256 * 1024 * 1024;
/// The largest `quorum-state` read back (Kafka's is a line of JSON naming the voters).
pub const MAX_QUORUM_STATE_BYTES: u64 = 64 * 1024;

/// Controller `id`'s directory.
pub fn controller_dir(id: VoterId) -> String {
    format!("controller-{id}")
}

/// A voter's durable state as it was read back: what `QuorumNode::start` takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// Its epoch, vote and leader.
    pub state: QuorumState,
    /// The latest snapshot, if the log was compacted.
    pub snapshot: Option<Snapshot<MetadataRecord>>,
    /// The log after the snapshot.
    pub log: Vec<Entry<MetadataRecord>>,
}

/// Kafka's `quorum-state` (data version 0).
#[derive(Serialize, Deserialize)]
struct QuorumStateFile {
    #[serde(rename = "clusterId")]
    cluster_id: String,
    #[serde(rename = "leaderId")]
    leader_id: i32,
    #[serde(rename = "leaderEpoch")]
    leader_epoch: i32,
    #[serde(rename = "votedId")]
    voted_id: i32,
    #[serde(rename = "appliedOffset")]
    applied_offset: i64,
    #[serde(rename = "currentVoters")]
    current_voters: Vec<VoterEntry>,
    data_version: i32,
}

#[derive(Serialize, Deserialize)]
struct VoterEntry {
    #[serde(rename = "voterId")]
    voter_id: i32,
}

/// One controller's files, and what of its voter's state they already hold.
pub struct VoterStore {
    /// The controller's directory, to open its log again after a failed write.
    store: Box<dyn BrokerStore>,
    log: LocalLog,
    /// A write failed: the log may be poisoned and what it holds unknown, so the next save
    /// opens it again first, as a controller process would restart.
    broken: bool,
    voters: Vec<VoterId>,
    written_state: Option<QuorumState>,
    written_snapshot_end: i64,
    /// The epoch of each entry written, from the log's start: an entry at the same offset with
    /// the same epoch is the same entry (Raft's log matching), so only what differs is written.
    written_epochs: Vec<i32>,
    /// Below this offset the written entries were committed when last saved: they never change.
    settled_end: i64,
}

impl VoterStore {
    /// Opens controller `id`'s files in `store` (new and empty if there are none), and reads
    /// back what its voter kept.
    pub fn open(
        mut store: Box<dyn BrokerStore>,
        voters: &[VoterId],
    ) -> Result<(VoterStore, Durable), String> {
        let (log, durable) = load(store.as_mut())?;
        let start = durable.snapshot.as_ref().map_or(0, |s| s.end_offset);
        let voter_store = VoterStore {
            store,
            log,
            broken: false,
            voters: voters.to_vec(),
            written_state: Some(durable.state),
            written_snapshot_end: start,
            written_epochs: durable.log.iter().map(|e| e.epoch).collect(),
            settled_end: start,
        };
        Ok((voter_store, durable))
    }

    /// Opens the log again after a failed write and takes what it holds as written (what a
    /// restarted controller would find), so the next save writes the rest.
    fn reopen(&mut self) -> Result<(), String> {
        let (log, durable) = load(self.store.as_mut())?;
        let start = durable.snapshot.as_ref().map_or(0, |s| s.end_offset);
        self.log = log;
        self.written_state = Some(durable.state);
        self.written_snapshot_end = start;
        self.written_epochs = durable.log.iter().map(|e| e.epoch).collect();
        self.settled_end = start;
        self.broken = false;
        Ok(())
    }

    /// Closes the log as a clean shutdown does: flushed, its indexes written.
    pub fn close(&mut self) -> Result<(), String> {
        self.log.close().map_err(|e| e.to_string())
    }

    /// Writes what of `voter`'s durable state changed since the last save: its quorum state,
    /// a new snapshot, and its log from the first entry that differs (a follower truncated to
    /// its leader's log), flushed before this returns.
    pub fn save(&mut self, voter: &QuorumNode<MetadataRecord>, now_ms: i64) -> Result<(), String> {
        if self.broken {
            self.reopen()?;
        }
        let saved = self.write_changes(voter, now_ms);
        self.broken = saved.is_err();
        saved
    }

    fn write_changes(&mut self, voter: &QuorumNode<MetadataRecord>, now_ms: i64) -> Result<(), String> {
        // The epoch first, as Raft keeps its term before its log: entries of an epoch the
        // quorum state does not reach would have this voter, after a failed write, ask for votes
        // in an epoch the others have passed.
        let state = voter.quorum_state();
        if self.written_state != Some(state) {
            let bytes = quorum_state_bytes(state, &self.voters)?;
            self.log.files().write_file(QUORUM_STATE_FILE, &bytes).map_err(|e| e.to_string())?;
            self.written_state = Some(state);
        }
        if let Some(snapshot) = voter.snapshot().filter(|s| s.end_offset != self.written_snapshot_end) {
            self.write_snapshot(snapshot)?;
        }
        self.write_entries(voter, now_ms)
    }

    /// A new snapshot: its checkpoint file, the older ones deleted, and the log's start moved
    /// to its end (segments wholly below it go).
    fn write_snapshot(&mut self, snapshot: &Snapshot<MetadataRecord>) -> Result<(), String> {
        let bytes = snapshot_bytes(&snapshot.records)?;
        let name = checkpoint_name(snapshot.end_offset, snapshot.last_epoch);
        let files = self.log.files();
        files.write_file(&name, &bytes).map_err(|e| e.to_string())?;
        for old in files.list().map_err(|e| e.to_string())? {
            if old != name && parse_checkpoint_name(&old).is_some() {
                files.delete_file(&old).map_err(|e| e.to_string())?;
            }
        }
        let written_start = self.written_snapshot_end;
        if self.log.log_end_offset() < snapshot.end_offset {
            self.log.truncate_fully_and_start_at(snapshot.end_offset).map_err(|e| e.to_string())?;
            self.written_epochs.clear();
        } else {
            self.log.delete_records(snapshot.end_offset).map_err(|e| e.to_string())?;
            let dropped = usize::try_from(snapshot.end_offset - written_start).unwrap_or(0);
            self.written_epochs.drain(..dropped.min(self.written_epochs.len()));
        }
        self.written_snapshot_end = snapshot.end_offset;
        self.settled_end = self.settled_end.max(snapshot.end_offset);
        Ok(())
    }

    /// The log from the first entry that differs from what was written.
    fn write_entries(&mut self, voter: &QuorumNode<MetadataRecord>, now_ms: i64) -> Result<(), String> {
        let start = self.written_snapshot_end;
        let written_end = start + self.written_epochs.len() as i64;
        let differs = (self.settled_end.max(start)..written_end)
            .find(|&offset| voter.entry(offset).map(|e| e.epoch) != Some(self.epoch_at(offset)));
        let from = differs.unwrap_or(written_end);
        if from < written_end {
            self.log.truncate_to(from).map_err(|e| e.to_string())?;
            self.written_epochs.truncate((from - start) as usize);
        }
        let mut bytes = Vec::new();
        let mut batch: Vec<&Entry<MetadataRecord>> = Vec::new();
        for offset in from..voter.end_offset() {
            let Some(entry) = voter.entry(offset) else { break };
            batch.push(entry);
            self.written_epochs.push(entry.epoch);
            if entry.ends_batch {
                let base = offset + 1 - batch.len() as i64;
                bytes.extend(entries_batch(base, &batch, now_ms)?);
                batch.clear();
            }
        }
        // A voter's log ends where a batch does (the quorum appends, sends and truncates whole
        // batches); an unfinished one is written as it is rather than lost.
        if !batch.is_empty() {
            let base = voter.end_offset() - batch.len() as i64;
            bytes.extend(entries_batch(base, &batch, now_ms)?);
        }
        if !bytes.is_empty() {
            self.log.append_as_follower(&bytes).map_err(|e| e.to_string())?;
            // Raft counts an entry only once its voter has it durably.
            self.log.flush().map_err(|e| e.to_string())?;
        }
        self.settled_end = voter.high_watermark().min(start + self.written_epochs.len() as i64);
        Ok(())
    }

    fn epoch_at(&self, offset: i64) -> i32 {
        let index = usize::try_from(offset - self.written_snapshot_end).unwrap_or(usize::MAX);
        self.written_epochs.get(index).copied().unwrap_or(-1)
    }
}

/// Reads a controller's files back: its log (opened, a torn tail cut), its quorum state, its
/// newest snapshot and the entries after it.
fn load(store: &mut dyn BrokerStore) -> Result<(LocalLog, Durable), String> {
    let describe = store.describe();
    let at = |e: String| format!("{describe}/{METADATA_LOG_DIR}: {e}");
    let partition = store.partition(METADATA_LOG_DIR).map_err(|e| at(e.to_string()))?;
    let state = match read_small(partition.as_ref(), QUORUM_STATE_FILE, MAX_QUORUM_STATE_BYTES).map_err(at)? {
        Some(bytes) => read_quorum_state(&bytes).map_err(at)?,
        None => QuorumState::default(),
    };
    let snapshot = read_latest_snapshot(partition.as_ref()).map_err(at)?;
    let start = snapshot.as_ref().map_or(0, |s| s.end_offset);
    let checkpoints =
        OpenCheckpoints { clean_shutdown: false, recovery_point: None, log_start_offset: Some(start) };
    let (mut log, _) = LocalLog::open(log_config(), partition, checkpoints).map_err(|e| at(e.to_string()))?;
    // A follower sent a snapshot past its log starts over from it.
    if log.log_end_offset() < start {
        log.truncate_fully_and_start_at(start).map_err(|e| at(e.to_string()))?;
    }
    let entries = read_entries(&log, start).map_err(at)?;
    Ok((log, Durable { state, snapshot, log: entries }))
}

/// The metadata log's topic configs: segments that roll while the log is small, fsynced by
/// `save` itself, never deleted by retention (only by snapshots).
fn log_config() -> LogConfig {
    LogConfig {
        delete: false,
        compact: false,
        segment_bytes: METADATA_LOG_SEGMENT_BYTES,
        retention_ms: -1,
        retention_bytes: -1,
        flush_messages: i64::MAX,
        ..LogConfig::from(&TopicConfig::default())
    }
}

/// One atomic batch of entries (all of one epoch) as the record batch that stores it from
/// `base_offset`: a LeaderChange entry is a control batch of its own.
fn entries_batch(
    base_offset: i64,
    entries: &[&Entry<MetadataRecord>],
    now_ms: i64,
) -> Result<Vec<u8>, String> {
    let mut records = Vec::new();
    for (offset_delta, entry) in (0..).zip(entries) {
        records.push(match &entry.record {
            Some(record) => BatchRecord {
                timestamp_delta: 0,
                offset_delta,
                key: None,
                value: Some(serde_json::to_vec(record).map_err(|e| e.to_string())?),
                headers: Vec::new(),
            },
            None => BatchRecord {
                timestamp_delta: 0,
                offset_delta,
                key: Some(LEADER_CHANGE_KEY.to_vec()),
                value: None,
                headers: Vec::new(),
            },
        });
    }
    let mut batch = RecordBatch::new(now_ms, records);
    batch.base_offset = base_offset;
    batch.partition_leader_epoch = entries.first().map_or(0, |e| e.epoch);
    batch.attributes.control = entries.first().is_some_and(|e| e.record.is_none());
    batch.encode().map_err(|e| e.to_string())
}

/// The entries of `log` from `start` to its end, decoded from their batches.
fn read_entries(log: &LocalLog, start: i64) -> Result<Vec<Entry<MetadataRecord>>, String> {
    let mut entries = Vec::new();
    let mut offset = start;
    while offset < log.log_end_offset() {
        let bytes = log.read(offset, METADATA_LOAD_READ_BYTES).map_err(|e| e.to_string())?;
        let batches = decode_batches(&bytes, "the metadata log")?;
        let before = offset;
        for batch in batches {
            let end = batch.base_offset + i64::from(batch.last_offset_delta) + 1;
            if end <= offset {
                continue;
            }
            entries.extend(entries_of(&batch, offset)?);
            offset = end;
        }
        // Stored bytes that do not take the read forward (no batch, or only batches below
        // the offset asked for) are damage: refused, not read again forever.
        if offset == before {
            return Err(format!("the metadata log has no batch at offset {offset}"));
        }
    }
    Ok(entries)
}

/// The entries a batch stores from offset `from` on (a batch is one atomic batch of the
/// quorum's: its last entry ends it), each record at its own offset.
fn entries_of(batch: &RecordBatch, from: i64) -> Result<Vec<Entry<MetadataRecord>>, String> {
    let (epoch, last) = (batch.partition_leader_epoch, batch.records.len().saturating_sub(1));
    if batch.records.len() as i64 != i64::from(batch.last_offset_delta) + 1 {
        return Err(format!(
            "the metadata log's batch at offset {} holds {} records for {} offsets",
            batch.base_offset,
            batch.records.len(),
            i64::from(batch.last_offset_delta) + 1
        ));
    }
    let mut entries = Vec::new();
    for (index, record) in batch.records.iter().enumerate() {
        let offset = batch.base_offset + i64::from(record.offset_delta);
        if i64::try_from(index).ok() != Some(i64::from(record.offset_delta)) {
            return Err(format!(
                "the metadata log's batch at offset {} has a gap: its record {index} is at offset delta {}",
                batch.base_offset, record.offset_delta
            ));
        }
        if offset < from {
            continue;
        }
        let record = if batch.attributes.control { None } else { Some(metadata_record(record, offset)?) };
        entries.push(Entry { epoch, record, ends_batch: index == last });
    }
    Ok(entries)
}

fn metadata_record(record: &BatchRecord, offset: i64) -> Result<MetadataRecord, String> {
    let value = record
        .value
        .as_deref()
        .ok_or_else(|| format!("the metadata record at offset {offset} has no value"))?;
    let text = std::str::from_utf8(value)
        .map_err(|_| format!("the metadata record at offset {offset} is not UTF-8"))?;
    crate::tagged::from_json(text).map_err(|e| format!("the metadata record at offset {offset}: {e}"))
}

/// Every whole batch in `bytes` (a read may end inside one).
fn decode_batches(bytes: &[u8], what: &str) -> Result<Vec<RecordBatch>, String> {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match RecordBatch::decode(&bytes[at..]) {
            Ok((batch, used)) => {
                batches.push(batch);
                at += used;
            }
            // A batch cut by the read's size limit comes whole in the next read.
            Err(_) if !batches.is_empty() => break,
            Err(e) => return Err(format!("{what} at byte {at}: {e}")),
        }
    }
    Ok(batches)
}

/// `<end offset>-<epoch>.checkpoint`, as Kafka names a snapshot.
fn checkpoint_name(end_offset: i64, epoch: i32) -> String {
    format!("{end_offset:020}-{epoch:010}.checkpoint")
}

/// The end offset and epoch a checkpoint's name gives.
fn parse_checkpoint_name(name: &str) -> Option<(i64, i32)> {
    let (offset, epoch) = name.strip_suffix(".checkpoint")?.split_once('-')?;
    Some((offset.parse().ok()?, epoch.parse().ok()?))
}

/// A snapshot's records as batches (offsets from 0, as Kafka's snapshot writer numbers them).
fn snapshot_bytes(records: &[MetadataRecord]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    for (chunk_index, chunk) in records.chunks(SNAPSHOT_RECORDS_PER_BATCH).enumerate() {
        let records = chunk
            .iter()
            .enumerate()
            .map(|(i, record)| {
                Ok(BatchRecord {
                    timestamp_delta: 0,
                    offset_delta: i as i32,
                    key: None,
                    value: Some(serde_json::to_vec(record).map_err(|e| e.to_string())?),
                    headers: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut batch = RecordBatch::new(0, records);
        batch.base_offset = (chunk_index * SNAPSHOT_RECORDS_PER_BATCH) as i64;
        bytes.extend(batch.encode().map_err(|e| e.to_string())?);
    }
    Ok(bytes)
}

/// The newest checkpoint in the directory, read back; none when there is no checkpoint.
fn read_latest_snapshot(
    files: &dyn crate::log::storage::PartitionStore,
) -> Result<Option<Snapshot<MetadataRecord>>, String> {
    let names = files.list().map_err(|e| e.to_string())?;
    let newest: BTreeSet<(i64, i32, String)> = names
        .into_iter()
        .filter_map(|name| parse_checkpoint_name(&name).map(|(end, epoch)| (end, epoch, name)))
        .collect();
    let Some((end_offset, last_epoch, name)) = newest.into_iter().next_back() else { return Ok(None) };
    let bytes = read_small(files, &name, MAX_METADATA_SNAPSHOT_BYTES)?.unwrap_or_default();
    let mut records = Vec::new();
    for batch in decode_batches(&bytes, &name)? {
        for record in &batch.records {
            let offset = batch.base_offset + i64::from(record.offset_delta);
            records.push(metadata_record(record, offset).map_err(|e| format!("{name}: {e}"))?);
        }
    }
    Ok(Some(Snapshot { end_offset, last_epoch, records }))
}

/// File `name`, refused by name when it holds more than `max_bytes` (checked before reading).
fn read_small(
    files: &dyn crate::log::storage::PartitionStore,
    name: &str,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, String> {
    match files.file_len(name).map_err(|e| e.to_string())? {
        Some(len) if len > max_bytes => {
            Err(format!("{name} holds {len} bytes, more than the {max_bytes} it may (damaged?)"))
        }
        Some(_) => files.read_file(name).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

fn quorum_state_bytes(state: QuorumState, voters: &[VoterId]) -> Result<Vec<u8>, String> {
    let file = QuorumStateFile {
        cluster_id: String::new(),
        leader_id: state.leader.unwrap_or(-1),
        leader_epoch: state.epoch,
        voted_id: state.voted_for.unwrap_or(-1),
        applied_offset: 0,
        current_voters: voters.iter().map(|&voter_id| VoterEntry { voter_id }).collect(),
        data_version: 0,
    };
    serde_json::to_vec(&file).map_err(|e| e.to_string())
}

fn read_quorum_state(bytes: &[u8]) -> Result<QuorumState, String> {
    let file: QuorumStateFile = serde_json::from_slice(bytes)
        .map_err(|e| format!("{QUORUM_STATE_FILE} is not Kafka's quorum state: {e}"))?;
    let id = |id: i32| (id >= 0).then_some(id);
    Ok(QuorumState { epoch: file.leader_epoch, voted_for: id(file.voted_id), leader: id(file.leader_id) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::power_cut::PowerCutDisk;
    use crate::random::Rng;
    use crate::replication::protocol::MetadataRecord;

    const VOTERS: [VoterId; 3] = [0, 1, 2];

    fn record(broker: i32) -> MetadataRecord {
        MetadataRecord::RegisterBroker { broker, incarnation: 1, rack: None }
    }

    fn entry(epoch: i32, broker: Option<i32>) -> Entry<MetadataRecord> {
        Entry::single(epoch, broker.map(record))
    }

    fn voter(
        state: QuorumState,
        snapshot: Option<Snapshot<MetadataRecord>>,
        log: Vec<Entry<MetadataRecord>>,
    ) -> QuorumNode<MetadataRecord> {
        QuorumNode::start(0, &VOTERS, state, snapshot, log, 0, &mut Rng::from_seed(1))
    }

    fn reopen(disk: &PowerCutDisk) -> Durable {
        VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).expect("it opens").1
    }

    #[test]
    fn a_voters_log_state_and_snapshot_come_back_as_written() {
        let disk = PowerCutDisk::default();
        let (mut store, found) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
        assert_eq!(found, Durable::default(), "a new directory holds nothing");
        let state = QuorumState { epoch: 2, voted_for: Some(1), leader: Some(1) };
        let log = vec![entry(1, None), entry(1, Some(0)), entry(2, None), entry(2, Some(1))];
        store.save(&voter(state, None, log.clone()), 7).unwrap();
        // The node's own state: `start` forgets the leader until it hears from one again.
        let kept = reopen(&disk);
        assert_eq!((kept.state.epoch, kept.state.voted_for), (2, Some(1)));
        assert_eq!((kept.snapshot, kept.log), (None, log));
        let quorum_state = disk.store("controller-0").partition(METADATA_LOG_DIR).unwrap();
        let text = String::from_utf8(quorum_state.read_file(QUORUM_STATE_FILE).unwrap().unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"clusterId":"","leaderId":-1,"leaderEpoch":2,"votedId":1,"appliedOffset":0,"currentVoters":[{"voterId":0},{"voterId":1},{"voterId":2}],"data_version":0}"#
        );
    }

    #[test]
    fn a_follower_that_truncates_to_its_leader_truncates_its_file() {
        let disk = PowerCutDisk::default();
        let (mut store, _) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
        let state = QuorumState { epoch: 2, ..QuorumState::default() };
        store
            .save(&voter(state, None, vec![entry(1, None), entry(1, Some(0)), entry(1, Some(1))]), 0)
            .unwrap();
        // The new leader of epoch 2 never had offset 2 of epoch 1: the follower's log diverged.
        let leaders = vec![entry(1, None), entry(1, Some(0)), entry(2, None), entry(2, Some(2))];
        store.save(&voter(state, None, leaders.clone()), 0).unwrap();
        assert_eq!(reopen(&disk).log, leaders);
    }

    #[test]
    fn a_snapshot_replaces_the_log_below_it() {
        let disk = PowerCutDisk::default();
        let (mut store, _) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
        let state = QuorumState { epoch: 1, ..QuorumState::default() };
        let log: Vec<_> = (0..5).map(|b| entry(1, Some(b))).collect();
        store.save(&voter(state, None, log), 0).unwrap();
        let snapshot = Snapshot { end_offset: 4, last_epoch: 1, records: vec![record(9)] };
        store.save(&voter(state, Some(snapshot.clone()), vec![entry(1, Some(4))]), 0).unwrap();
        let kept = reopen(&disk);
        assert_eq!((kept.snapshot, kept.log), (Some(snapshot), vec![entry(1, Some(4))]));
        let files = disk.store("controller-0").partition(METADATA_LOG_DIR).unwrap().list().unwrap();
        assert!(files.contains(&"00000000000000000004-0000000001.checkpoint".to_string()), "{files:?}");
    }

    /// A follower sent a snapshot past its log starts its log over at the snapshot's end; if
    /// the old segment's deletion never became durable (the directory was not synced before the
    /// power went), it comes back beside the new one, offsets skipped between them. It is below
    /// the snapshot, so the log opens without it.
    #[test]
    fn a_segment_below_the_snapshot_whose_deletion_was_undone_is_dropped_at_open() {
        let state = QuorumState { epoch: 1, ..QuorumState::default() };
        let old = PowerCutDisk::default();
        let (mut store, _) = VoterStore::open(Box::new(old.store("controller-0")), &VOTERS).unwrap();
        store.save(&voter(state, None, (0..3).map(|b| entry(1, Some(b))).collect()), 0).unwrap();
        let new = PowerCutDisk::default();
        let (mut store, _) = VoterStore::open(Box::new(new.store("controller-0")), &VOTERS).unwrap();
        let snapshot = Snapshot { end_offset: 10, last_epoch: 1, records: vec![record(9)] };
        store.save(&voter(state, Some(snapshot.clone()), vec![entry(1, Some(10))]), 0).unwrap();
        let mut files = new.power_cut();
        let stale =
            old.power_cut().into_iter().filter(|((_, name), _)| name.starts_with("00000000000000000000."));
        files.extend(stale);
        let disk = PowerCutDisk::with_files(files);
        let kept = reopen(&disk);
        assert_eq!((kept.snapshot, kept.log), (Some(snapshot), vec![entry(1, Some(10))]));
        let files = disk.store("controller-0").partition(METADATA_LOG_DIR).unwrap().list().unwrap();
        assert!(!files.contains(&"00000000000000000000.log".to_string()), "{files:?}");
    }

    #[test]
    fn after_a_failed_write_the_log_is_opened_again_and_the_rest_written() {
        let disk = PowerCutDisk::default();
        let (mut store, _) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
        let state = QuorumState { epoch: 1, ..QuorumState::default() };
        let log: Vec<_> = (0..40).map(|b| entry(1, Some(b))).collect();
        // Every write fails for a while: saves fail, and the log may be poisoned.
        disk.fail_writes(3, 1);
        for end in 1..=20 {
            assert!(store.save(&voter(state, None, log[..end].to_vec()), 0).is_err());
        }
        disk.fail_writes(3, 0);
        store.save(&voter(state, None, log.clone()), 0).expect("the disk is back");
        assert_eq!(reopen(&disk).log, log);
    }

    /// A voter that moved to epoch 2 and appended in it, saved while writes fail: whichever
    /// write failed, what it kept never holds an entry of an epoch its quorum state has not
    /// reached (it would ask for votes in an epoch the others had passed).
    #[test]
    fn a_failed_save_never_keeps_entries_of_an_epoch_the_quorum_state_lacks() {
        let before = QuorumState { epoch: 1, ..QuorumState::default() };
        let after = QuorumState { epoch: 2, voted_for: Some(0), leader: Some(0) };
        let old_log = vec![entry(1, None), entry(1, Some(0))];
        let new_log = [old_log.clone(), vec![entry(2, None), entry(2, Some(1))]].concat();
        let mut failed = 0;
        for seed in 0..64 {
            let disk = PowerCutDisk::default();
            let (mut store, _) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
            store.save(&voter(before, None, old_log.clone()), 0).unwrap();
            disk.fail_writes(seed, 2);
            failed += u32::from(store.save(&voter(after, None, new_log.clone()), 0).is_err());
            disk.fail_writes(0, 0);
            let kept = reopen(&disk);
            let last_epoch = kept.log.last().map_or(0, |e| e.epoch);
            assert!(last_epoch <= kept.state.epoch, "seed {seed}: {kept:?}");
        }
        assert!(failed > 0, "some saves failed");
    }

    /// One decision's records (a fence and the elections it causes) are one batch on disk: a
    /// save that fails part-way keeps all of them or none, never the fence without the new
    /// leaders, and what is read back says where each batch ends.
    #[test]
    fn a_failed_save_keeps_a_batch_whole_or_not_at_all() {
        let state = QuorumState { epoch: 1, ..QuorumState::default() };
        let old_log = vec![entry(1, None), entry(1, Some(0))];
        let batch = (1..4).map(|b| Entry { epoch: 1, record: Some(record(b)), ends_batch: b == 3 });
        let new_log = [old_log.clone(), batch.collect()].concat();
        let mut failed = 0;
        for seed in 0..64 {
            let disk = PowerCutDisk::default();
            let (mut store, _) = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).unwrap();
            store.save(&voter(state, None, old_log.clone()), 0).unwrap();
            disk.fail_writes(seed, 2);
            failed += u32::from(store.save(&voter(state, None, new_log.clone()), 0).is_err());
            disk.fail_writes(0, 0);
            let kept = reopen(&disk).log;
            assert!(kept == old_log || kept == new_log, "seed {seed}: {kept:?}");
        }
        assert!(failed > 0, "some saves failed");
    }

    #[test]
    fn a_damaged_quorum_state_is_refused_by_name() {
        let disk = PowerCutDisk::default();
        let mut partition = disk.store("controller-0").partition(METADATA_LOG_DIR).unwrap();
        partition.write_file(QUORUM_STATE_FILE, b"{not json").unwrap();
        let refused = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).err().unwrap();
        assert!(refused.contains("quorum-state is not Kafka's quorum state"), "{refused}");
    }

    #[test]
    fn an_oversized_file_is_refused_before_it_is_read() {
        let disk = PowerCutDisk::default();
        let mut partition = disk.store("controller-0").partition(METADATA_LOG_DIR).unwrap();
        partition.write_file(QUORUM_STATE_FILE, &vec![b' '; MAX_QUORUM_STATE_BYTES as usize + 1]).unwrap();
        let refused = VoterStore::open(Box::new(disk.store("controller-0")), &VOTERS).err().unwrap();
        assert!(
            refused.ends_with("quorum-state holds 65537 bytes, more than the 65536 it may (damaged?)"),
            "{refused}"
        );
    }
}
