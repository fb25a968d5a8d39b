//! A partition's log made of segments (Kafka's `LocalLog` and the IO-free parts of `UnifiedLog`
//! and `LogCleaner`): leader appends that stamp offsets and epochs into Kafka's bytes, rolling,
//! reads of whole batches, timestamp lookups, truncation, delete-records, retention by time and
//! size, and compaction.
//!
//! The files live in a `PartitionStore` the host provides (memory, disk, IndexedDB); this module
//! decides what is written when: appends, rolls (which flush the finished segment and write its
//! indexes), the flush policy, retention's deletes, compaction's swaps, and recovery on open.
//! A failed write poisons the log: it refuses every later write, as Kafka takes a log dir
//! offline. `Cluster` keeps one per partition.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::epoch_cache::LeaderEpochCache;
use super::index::DEFAULT_SEGMENT_INDEX_BYTES;
use super::producer_state::ProducerState;
use super::segment::{
    DEFAULT_INDEX_INTERVAL_BYTES, LogSegment, OpenError, RecoverError, RollCheck, ScanStop, SegmentError,
    TimestampAndOffset, file_name,
};
use super::storage::{
    INDEX_SUFFIX, LEADER_EPOCH_CHECKPOINT_FILE, LOG_SUFFIX, MemoryPartitionStore, PartitionStore,
    SWAP_SUFFIX, StorageError, TEMP_SUFFIX, TIME_INDEX_SUFFIX,
};
use super::txn_index::TXN_INDEX_SUFFIX;
use crate::config::TopicConfig;
use crate::error::{ErrorCode, KafkaError};
use crate::record::batch::{
    BatchError, BatchHeader, RecordBatch, TimestampType, stamp_log_append_time, stamp_offset_and_epoch,
};

mod producers;
mod transactions;

/// An empty range of offsets: `delete_snapshots_outside(NO_OFFSETS)` deletes them all.
#[allow(clippy::reversed_empty_ranges)]
const NO_OFFSETS: std::ops::RangeInclusive<i64> = 0..=-1;

/// The topic configs a log obeys.
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// `cleanup.policy` contains `delete`: retention deletes old segments.
    pub delete: bool,
    /// `cleanup.policy` contains `compact`: the cleaner keeps the latest record per key.
    pub compact: bool,
    /// `min.cleanable.dirty.ratio`: the cleaner runs once the dirty ratio is above this.
    pub min_cleanable_dirty_ratio: f64,
    /// `delete.retention.ms`: how long (ms) after its timestamp a tombstone survives compaction.
    pub delete_retention_ms: i64,
    /// `segment.bytes`: a non-empty active segment rolls before a batch would take it past this.
    pub segment_bytes: usize,
    /// `segment.ms`: the active segment rolls once a batch's maxTimestamp is more than this (ms)
    /// after its first batch's.
    pub segment_ms: i64,
    /// `retention.ms`: non-active segments whose largest timestamp is older than this (ms) are
    /// deleted; −1 keeps them.
    pub retention_ms: i64,
    /// `retention.bytes`: the oldest segments are deleted while the log would still hold at least
    /// this many bytes without them; −1 for no limit.
    pub retention_bytes: i64,
    /// `max.message.bytes`: the largest batch, in bytes, a leader appends.
    pub max_message_bytes: usize,
    /// `message.timestamp.type`: under LogAppendTime the leader stamps its clock into each batch.
    pub timestamp_type: TimestampType,
    /// `index.interval.bytes`: bytes appended between two offset index entries.
    pub index_interval_bytes: usize,
    /// `segment.index.bytes`: the most bytes each index holds; a full index rolls the segment.
    pub segment_index_bytes: usize,
    /// `flush.messages`: flush after this many appended messages (Kite counts batches, one per
    /// produce); `i64::MAX` (Kafka's default) never flushes for that reason. 1 = fsync every append.
    pub flush_messages: i64,
    /// `flush.ms`: flush when this long has passed since the last flush.
    pub flush_ms: i64,
}

impl From<&TopicConfig> for LogConfig {
    fn from(config: &TopicConfig) -> Self {
        LogConfig {
            delete: config.cleanup_policy.delete,
            compact: config.cleanup_policy.compact,
            min_cleanable_dirty_ratio: config.min_cleanable_dirty_ratio,
            delete_retention_ms: config.delete_retention_ms,
            segment_bytes: usize::try_from(config.segment_bytes).unwrap_or(usize::MAX),
            segment_ms: config.segment_ms,
            retention_ms: config.retention_ms,
            retention_bytes: config.retention_bytes,
            max_message_bytes: usize::try_from(config.max_message_bytes).unwrap_or(0),
            timestamp_type: config.message_timestamp_type,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            segment_index_bytes: DEFAULT_SEGMENT_INDEX_BYTES,
            flush_messages: config.flush_messages,
            flush_ms: config.flush_ms,
        }
    }
}

/// Why a log refused a write or a read, or could not open; each maps to a Kafka error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The bytes are not a valid RecordBatch v2 (CORRUPT_MESSAGE).
    Batch(BatchError),
    /// The active segment refused the batch (CORRUPT_MESSAGE).
    Segment(SegmentError),
    /// A produced batch Kafka's leader refuses (no records, gaps in offsets, …).
    InvalidRecord(String),
    /// The batch is larger than the topic's `max.message.bytes` (MESSAGE_TOO_LARGE).
    RecordTooLarge {
        /// The batch's size in bytes.
        size_bytes: usize,
        /// The topic's `max.message.bytes`.
        max_bytes: usize,
    },
    /// An offset below the log start offset or past the log end offset (OFFSET_OUT_OF_RANGE).
    OffsetOutOfRange {
        /// The offset asked for.
        offset: i64,
        /// The first offset the log holds.
        log_start_offset: i64,
        /// The offset the next record would get.
        log_end_offset: i64,
    },
    /// The host's storage failed; after a failed write the log refuses all writes.
    Storage(StorageError),
    /// Stored bytes that must be valid are not (found while opening the log).
    Corrupt {
        /// The file, after the store's name for its directory.
        file: String,
        /// Byte position of the damage; 0 for a file that is wrong as a whole.
        position: usize,
        /// What is wrong.
        reason: String,
    },
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", KafkaError::from(self.clone()).message)
    }
}

impl std::error::Error for LogError {}

impl From<LogError> for KafkaError {
    fn from(error: LogError) -> KafkaError {
        match error {
            LogError::Batch(e) => KafkaError::new(ErrorCode::CorruptMessage, e.to_string()),
            LogError::Segment(e) => KafkaError::new(ErrorCode::CorruptMessage, e.to_string()),
            LogError::InvalidRecord(reason) => KafkaError::new(ErrorCode::InvalidRecord, reason),
            LogError::RecordTooLarge { size_bytes, max_bytes } => KafkaError::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "The record batch is {size_bytes} bytes, over the topic's max.message.bytes {max_bytes}."
                ),
            ),
            LogError::OffsetOutOfRange { offset, log_start_offset, log_end_offset } => KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "Offset {offset} is out of range (log start {log_start_offset}, log end {log_end_offset})."
                ),
            ),
            LogError::Storage(e) => KafkaError::new(ErrorCode::KafkaStorageError, e.to_string()),
            LogError::Corrupt { file, position, reason } => KafkaError::new(
                ErrorCode::KafkaStorageError,
                format!("{file} is corrupt at byte {position}: {reason}"),
            ),
        }
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    /// The offset the batch's first record got: the log end offset before the append.
    pub first_offset: i64,
    /// The offset of the batch's last record.
    pub last_offset: i64,
    /// The batch's max timestamp as stored (the broker's clock under LogAppendTime).
    pub max_timestamp: i64,
    /// Whether a new segment was started for this batch.
    pub rolled: bool,
}

/// What one compaction pass did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CleanResult {
    /// Dirty bytes over all bytes of the cleanable segments when the pass started.
    pub dirty_ratio: f64,
    /// Non-active segments rewritten, or deleted when nothing in them was kept.
    pub segments_cleaned: usize,
    /// Records in those segments before the pass.
    pub records_before: usize,
    /// Records kept.
    pub records_after: usize,
    /// Tombstones that were still their key's latest record but older than
    /// `delete.retention.ms`; superseded tombstones are not counted here.
    pub tombstones_dropped: usize,
}

/// What the host knows about a log from outside its directory: the broker's checkpoints and
/// whether the last shutdown was clean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenCheckpoints {
    /// The clean-shutdown marker was there: every file was flushed and indexed at close.
    pub clean_shutdown: bool,
    /// From `recovery-point-offset-checkpoint`: everything below was flushed.
    pub recovery_point: Option<i64>,
    /// From `log-start-offset-checkpoint`.
    pub log_start_offset: Option<i64>,
}

/// What opening a log found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Segments opened from the store and kept (0 for a new, empty log).
    pub segments: usize,
    /// Segments re-validated batch by batch (those at or after the recovery point).
    pub recovered_segments: usize,
    /// Bytes read by recovery.
    pub scanned_bytes: usize,
    /// Bytes cut from the end of the log (a torn or partial write).
    pub truncated_bytes: usize,
    /// Where and why recovery cut.
    pub stopped_by: Option<String>,
    /// Segments after a cut, deleted as Kafka does, and segments wholly below the log start
    /// whose deletion a crash interrupted.
    pub deleted_segments: Vec<i64>,
    /// Segments whose index files were missing or not sane and were rebuilt.
    pub rebuilt_indexes: usize,
    /// The `.txnindex` files were not sane (unreadable, or naming markers past the log's end)
    /// and were rebuilt from the log's markers.
    pub rebuilt_txn_indexes: bool,
    /// Files left by an interrupted replacement, removed or completed.
    pub cleaned_up_files: Vec<String>,
    /// Why the log is offline instead (a flushed segment found corrupt): its files are left as
    /// they are, for the operator, and the partition answers KAFKA_STORAGE_ERROR.
    pub offline: Option<String>,
}

/// One partition's log, as one broker stores it: segments in the host's `PartitionStore`, the
/// log start offset, the leader epoch cache, the recovery point and the flush policy's state.
pub struct LocalLog {
    config: LogConfig,
    store: Box<dyn PartitionStore>,
    /// The cleaner's checkpoint: offsets below it were compacted already ("clean").
    first_dirty_offset: i64,
    /// Base offset → segment; never empty; the last is the active segment.
    segments: BTreeMap<i64, LogSegment>,
    log_start_offset: i64,
    epochs: LeaderEpochCache,
    /// Everything below this offset has been flushed.
    recovery_point: i64,
    /// Appends since the last flush (`flush.messages`).
    unflushed_appends: i64,
    /// When the last flush happened (`flush.ms`); the first tick starts the clock.
    last_flush_ms: Option<i64>,
    /// The write that failed; once set, every write is refused.
    poisoned: Option<StorageError>,
    /// What a read found wrong in bytes the log had stored whole: the disk returned other bytes
    /// (rot, a lost write). Set from `read(&self)`; it poisons the log as a failed write does.
    found_corrupt: OnceLock<StorageError>,
    /// The producers' state as appends go, once a marker or a roll needed it (`None`: not built
    /// since the log opened or was truncated).
    producers: Option<ProducerState>,
    /// The offsets of the producer state snapshots (`<offset>.snapshot`) there are.
    snapshots: BTreeSet<i64>,
    /// The segments that have a `.txnindex` file.
    txn_indexed: BTreeSet<i64>,
}

impl std::fmt::Debug for LocalLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLog")
            .field("store", &self.store.describe())
            .field("log_start_offset", &self.log_start_offset)
            .field("log_end_offset", &self.log_end_offset())
            .field("recovery_point", &self.recovery_point)
            .field("segments", &self.segments.values().collect::<Vec<_>>())
            .field("poisoned", &self.poisoned())
            .finish()
    }
}

/// What is wrong with the batches a read of `offset` found, if anything: a batch whose CRC-32C
/// or header does not check, a first batch that does not hold `offset`, offsets that do not
/// follow on (in a compacted log, batches may skip offsets but never go back), or a batch whose
/// partitionLeaderEpoch is not the one `epochs` gives its offsets. The CRC does not cover
/// baseOffset or partitionLeaderEpoch (the leader stamps them): a rotten epoch served to a
/// follower would make good replicas truncate what they hold. The CRC is checked only over bytes
/// the file held when this process opened it (`stored`): what the process appended since, it
/// checked when appending, and reading it again would cost a second pass over every byte served.
fn read_problem(
    offset: i64,
    bytes: &[u8],
    compacted: bool,
    epochs: &LeaderEpochCache,
    stored: bool,
) -> Option<String> {
    let mut at = 0;
    let mut next = offset;
    while at < bytes.len() {
        let parsed =
            if stored { BatchHeader::parse(&bytes[at..]) } else { BatchHeader::parse_trusted(&bytes[at..]) };
        let header = match parsed {
            Ok(header) => header,
            Err(e) => return Some(format!("byte {at} of the read: {e}")),
        };
        let first = at == 0;
        let skips = header.base_offset > next && !compacted;
        let goes_back = header.last_offset() < next || (!first && header.base_offset < next);
        if skips || goes_back {
            return Some(format!(
                "byte {at} of the read holds offsets {} to {} where offset {next} comes next",
                header.base_offset,
                header.last_offset()
            ));
        }
        let floor = epochs.entries().iter().rev().find(|&&(_, start)| start <= header.base_offset);
        if let Some(&(epoch, _)) = floor.filter(|&&(epoch, _)| epoch != header.partition_leader_epoch) {
            return Some(format!(
                "byte {at} of the read holds offsets {} to {} under leader epoch {}, where the log's epochs say {epoch}",
                header.base_offset,
                header.last_offset(),
                header.partition_leader_epoch
            ));
        }
        next = header.last_offset() + 1;
        at += header.total_bytes();
    }
    None
}

/// How a recovered batch's partitionLeaderEpoch (which its CRC does not cover) contradicts the
/// batch before it (`previous`'s epoch: a log's epochs never go back) or `leader-epoch-checkpoint`
/// as it was read, if it does: where the checkpoint knows a later epoch began after the batch,
/// the batch must be in the epoch the checkpoint gives its offset; past the checkpoint's last
/// entry (it may lag), in that epoch or a newer one.
fn epoch_contradiction(
    checkpoint: &LeaderEpochCache,
    previous: Option<i32>,
    header: &BatchHeader,
) -> Option<String> {
    let base = header.base_offset;
    if let Some(before) = previous.filter(|&before| header.partition_leader_epoch < before) {
        let epoch = header.partition_leader_epoch;
        return Some(format!(
            "the batch at offset {base} says leader epoch {epoch}, after a batch of epoch {before}"
        ));
    }
    let entries = checkpoint.entries();
    let floor = entries.iter().rposition(|&(_, start)| start <= base)?;
    let (expected, _) = entries[floor];
    let epoch = header.partition_leader_epoch;
    let covered = floor + 1 < entries.len();
    let contradicts = if covered { epoch != expected } else { epoch < expected };
    contradicts.then(|| {
        format!("the batch at offset {base} says leader epoch {epoch}, where leader-epoch-checkpoint says {expected}")
    })
}

/// A file name's base offset and suffix, if it is named like a segment file.
fn parse_segment_file_name(name: &str) -> Option<(i64, &str)> {
    let digits = name.get(..20)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &name[20..]))
}

/// Finishes what a crash interrupted in a partition's directory — temporary files deleted, a
/// finished compaction's swap completed, index files without their segment deleted — and gives
/// the segments' base offsets, in order.
fn finish_interrupted_work(
    store: &mut dyn PartitionStore,
    report: &mut OpenReport,
) -> Result<Vec<i64>, LogError> {
    let storage = LogError::Storage;
    for name in &store.list().map_err(storage)? {
        if name.ends_with(TEMP_SUFFIX) {
            store.delete_file(name).map_err(storage)?;
            report.cleaned_up_files.push(name.clone());
        } else if let Some(target) = name.strip_suffix(SWAP_SUFFIX) {
            // A finished compaction output: finish the swap. Its indexes are stale.
            if let Some((base, LOG_SUFFIX)) = parse_segment_file_name(target) {
                store.delete_file(&file_name(base, INDEX_SUFFIX)).map_err(storage)?;
                store.delete_file(&file_name(base, TIME_INDEX_SUFFIX)).map_err(storage)?;
            }
            store.rename(name, target).map_err(storage)?;
            report.cleaned_up_files.push(name.clone());
        }
    }
    let names = store.list().map_err(storage)?;
    let mut bases: Vec<i64> = names
        .iter()
        .filter_map(|n| parse_segment_file_name(n))
        .filter(|(_, suffix)| *suffix == LOG_SUFFIX)
        .map(|(base, _)| base)
        .collect();
    bases.sort_unstable();
    for name in &names {
        if let Some((base, INDEX_SUFFIX | TIME_INDEX_SUFFIX | TXN_INDEX_SUFFIX)) =
            parse_segment_file_name(name)
            && !bases.contains(&base)
        {
            store.delete_file(name).map_err(storage)?;
            report.cleaned_up_files.push(name.clone());
        }
    }
    Ok(bases)
}

impl LocalLog {
    /// A log that could not be opened from its files (`error` says why): it holds nothing, in
    /// memory only, and refuses every write, so nothing touches the files until a restart.
    pub fn offline(config: LogConfig, error: StorageError) -> LocalLog {
        let mut log = LocalLog::new(config);
        log.poisoned = Some(error);
        log
    }

    /// An empty log held in memory.
    pub fn new(config: LogConfig) -> LocalLog {
        match LocalLog::open(config, Box::new(MemoryPartitionStore::ephemeral()), OpenCheckpoints::default())
        {
            Ok((log, _)) => log,
            Err(e) => unreachable!("an empty memory store cannot fail to open: {e}"),
        }
    }

    /// Opens the log kept in `store` (creating it if the store is empty), as Kafka's `LogLoader`:
    /// completes or removes interrupted replacements, drops orphaned index files, opens segments
    /// below the recovery point from their indexes, recovers the rest batch by batch (cutting a
    /// torn tail and deleting any segment after the cut), and reloads the leader epoch cache.
    pub fn open(
        config: LogConfig,
        mut store: Box<dyn PartitionStore>,
        checkpoints: OpenCheckpoints,
    ) -> Result<(LocalLog, OpenReport), LogError> {
        let mut report = OpenReport::default();
        let mut bases = finish_interrupted_work(store.as_mut(), &mut report)?;
        // Segments wholly below the checkpointed log start are a deletion the crash interrupted
        // (a segment's unlink is durable only at the directory's next sync): they hold nothing
        // the log still has, and the one after them may not follow on from their end.
        let start = checkpoints.log_start_offset.unwrap_or(0);
        let stale = bases.windows(2).take_while(|pair| pair[1] <= start).count();
        for base in bases.drain(..stale) {
            for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX] {
                store.delete_file(&file_name(base, suffix)).map_err(LogError::Storage)?;
            }
            report.deleted_segments.push(base);
        }
        let mut log = LocalLog {
            config,
            store,
            first_dirty_offset: 0,
            segments: BTreeMap::new(),
            log_start_offset: 0,
            epochs: LeaderEpochCache::new(),
            recovery_point: 0,
            unflushed_appends: 0,
            last_flush_ms: None,
            poisoned: None,
            found_corrupt: OnceLock::new(),
            producers: None,
            snapshots: BTreeSet::new(),
            txn_indexed: BTreeSet::new(),
        };
        // After a clean shutdown everything was flushed: nothing needs recovery.
        let recovery_point = if checkpoints.clean_shutdown {
            i64::MAX
        } else {
            checkpoints.recovery_point.unwrap_or(0).max(0)
        };
        let mut recovered = Vec::new();
        for (i, &base) in bases.iter().enumerate() {
            let next_base = bases.get(i + 1).copied();
            // A segment holding offsets at or past the recovery point may hold unflushed writes.
            let needs_recovery =
                !checkpoints.clean_shutdown && next_base.is_none_or(|next| next > recovery_point);
            if !needs_recovery {
                log.open_flushed_segment(base, &mut report)?;
                continue;
            }
            recovered.push(base);
            let cut = log.recover_segment(base, recovery_point, &mut report)?;
            if cut {
                for &later in &bases[i + 1..] {
                    log.delete_segment_files(later)?;
                    report.deleted_segments.push(later);
                }
                break;
            }
        }
        log.check_segments_follow_on()?;
        report.segments = log.segments.len();
        if log.segments.is_empty() {
            let base = checkpoints.log_start_offset.unwrap_or(0).max(0);
            let file = log.store.open_segment(base).map_err(LogError::Storage)?;
            log.segments.insert(base, log.empty_segment(base, file));
        }
        let first_base = *log.segments.keys().next().unwrap_or(&0);
        log.log_start_offset = checkpoints.log_start_offset.unwrap_or(first_base).max(first_base);
        log.log_start_offset = log.log_start_offset.min(log.log_end_offset());
        // The cleaner's own checkpoint is not kept: cleaning again from the start is safe.
        log.first_dirty_offset = log.log_start_offset;
        log.load_epoch_checkpoint()?;
        if !recovered.is_empty() {
            log.assign_recovered_epochs(&recovered)?;
            log.keep_what_recovery_kept()?;
        }
        // After an unclean stop what recovery read is what the disk returned, and after a
        // process kill that includes bytes still only in the page cache: the recovery point stays
        // where the checkpoint had it, so the next flush (a close's included) makes them durable,
        // as Kafka's LogLoader keeps it. Raised to the log's end, it claimed them flushed.
        log.recovery_point = recovery_point.min(log.log_end_offset());
        log.open_producer_snapshots()?;
        log.open_txn_indexes(&mut report)?;
        Ok((log, report))
    }

    /// Outside compaction each segment starts where the one before ends: a segment whose first
    /// batch's baseOffset rotted would otherwise move the log end, and appends would leave a gap.
    fn check_segments_follow_on(&self) -> Result<(), LogError> {
        if self.config.compact {
            return Ok(());
        }
        let mut next = None;
        for (&base, segment) in &self.segments {
            if let Some(next) = next.filter(|&next| next != base) {
                return Err(LogError::Corrupt {
                    file: self.segment_name(base),
                    position: 0,
                    reason: format!(
                        "the segment starts at offset {base}, where {next} comes next (offsets skipped)"
                    ),
                });
            }
            next = Some(segment.next_offset());
        }
        Ok(())
    }

    /// Opens a segment written before the recovery point (flushed): its index files are read,
    /// and rebuilt when missing or unusable.
    fn open_flushed_segment(&mut self, base: i64, report: &mut OpenReport) -> Result<(), LogError> {
        let storage = LogError::Storage;
        let file = self.store.open_segment(base).map_err(storage)?;
        let offset_index = self.store.read_file(&file_name(base, INDEX_SUFFIX)).map_err(storage)?;
        let time_index = self.store.read_file(&file_name(base, TIME_INDEX_SUFFIX)).map_err(storage)?;
        let index_files = offset_index.as_deref().zip(time_index.as_deref());
        let (interval, max_index) = (self.config.index_interval_bytes, self.config.segment_index_bytes);
        let (segment, rebuilt) = LogSegment::open(
            base,
            file,
            index_files,
            interval,
            max_index,
            !self.config.compact,
        )
        .map_err(|e| match e {
            OpenError::Storage(e) => LogError::Storage(e),
            OpenError::Unreadable { position } => LogError::Corrupt {
                file: self.segment_name(base),
                position,
                reason: "no valid batch header in a segment that was flushed".into(),
            },
            OpenError::OffsetsSkipped { position, base_offset, expected } => LogError::Corrupt {
                file: self.segment_name(base),
                position,
                reason: format!(
                    "a flushed batch has offset {base_offset} where {expected} belongs (offsets skipped)"
                ),
            },
        })?;
        if rebuilt {
            report.rebuilt_indexes += 1;
            self.write_indexes_of(&segment)?;
        }
        self.segments.insert(base, segment);
        Ok(())
    }

    /// Recovers a segment that may hold unflushed writes: its batches are scanned and it is cut
    /// at the first that does not check. Whether it was cut (the later segments then go).
    fn recover_segment(
        &mut self,
        base: i64,
        recovery_point: i64,
        report: &mut OpenReport,
    ) -> Result<bool, LogError> {
        let file = self.store.open_segment(base).map_err(LogError::Storage)?;
        let log_name = self.segment_name(base);
        let (interval, max_index) = (self.config.index_interval_bytes, self.config.segment_index_bytes);
        let contiguous = !self.config.compact;
        let (segment, recovery) = LogSegment::recover(base, file, interval, max_index, recovery_point, contiguous)
            .map_err(|e| match e {
                RecoverError::Storage(e) => LogError::Storage(e),
                RecoverError::Corrupt { stop, valid_end_offset } => LogError::Corrupt {
                    file: log_name.clone(),
                    position: scan_stop_position(&stop),
                    reason: format!(
                        "{stop}; the data up to offset {recovery_point} was flushed, but only offsets below {valid_end_offset} are readable"
                    ),
                },
            })?;
        report.recovered_segments += 1;
        report.scanned_bytes += recovery.valid_bytes + recovery.truncated_bytes;
        report.truncated_bytes += recovery.truncated_bytes;
        let cut = recovery.stopped_by.is_some();
        if let Some(stop) = recovery.stopped_by {
            report.stopped_by = Some(format!("{log_name}: {stop}"));
        }
        self.segments.insert(base, segment);
        Ok(cut)
    }

    /// A segment's `.log` file as errors name it.
    fn segment_name(&self, base: i64) -> String {
        format!("{}/{}", self.store.describe(), file_name(base, LOG_SUFFIX))
    }

    /// Reads the leader epochs' checkpoint, if any, trimmed to the log as it opened.
    fn load_epoch_checkpoint(&mut self) -> Result<(), LogError> {
        let checkpoint = self.store.read_file(LEADER_EPOCH_CHECKPOINT_FILE).map_err(LogError::Storage)?;
        let Some(bytes) = checkpoint else { return Ok(()) };
        let corrupt = |reason: String| LogError::Corrupt {
            file: format!("{}/{LEADER_EPOCH_CHECKPOINT_FILE}", self.store.describe()),
            position: 0,
            reason,
        };
        let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8 text".into()))?;
        self.epochs = LeaderEpochCache::from_checkpoint(&text).map_err(corrupt)?;
        let before = self.epochs.clone();
        self.epochs.truncate_from_end(self.log_end_offset());
        self.epochs.truncate_from_start(self.log_start_offset);
        if self.epochs != before {
            self.write_epoch_checkpoint()?;
        }
        Ok(())
    }

    /// The leader epochs of the batches recovery scanned, as Kafka's `LogSegment.recover`
    /// assigns them: the checkpoint may predate them (its write failed, or came after the
    /// crash), and a leader whose cache misses an epoch its log holds would answer a follower's
    /// divergence check with the wrong history — the follower truncating and fetching the same
    /// batches forever.
    fn assign_recovered_epochs(&mut self, bases: &[i64]) -> Result<(), LogError> {
        let before = self.epochs.clone();
        let mut previous = None;
        for base in bases {
            let Some(segment) = self.segments.get(base) else { continue };
            let bytes = segment.log_bytes().map_err(LogError::Storage)?;
            for (position, header) in LogSegment::scan(&bytes, *base, !self.config.compact).0 {
                let epoch = header.partition_leader_epoch;
                if let Some(reason) = epoch_contradiction(&before, previous, &header) {
                    return Err(LogError::Corrupt { file: self.segment_name(*base), position, reason });
                }
                previous = Some(epoch);
                if epoch >= 0 && self.epochs.latest_epoch().is_none_or(|latest| epoch > latest) {
                    self.epochs.assign(epoch, header.base_offset);
                }
            }
        }
        if self.epochs != before {
            self.write_epoch_checkpoint()?;
        }
        Ok(())
    }

    /// What recovery kept is now the log: make it durable and index it on disk, so the next open
    /// need not scan it again.
    fn keep_what_recovery_kept(&mut self) -> Result<(), LogError> {
        self.flush()?;
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        for base in bases {
            if let Some(segment) = self.segments.get(&base) {
                let (offsets, times) = (segment.offset_index().to_bytes(), segment.time_index().to_bytes());
                self.write_index_bytes(base, &offsets, &times)?;
            }
        }
        Ok(())
    }

    fn empty_segment(&self, base_offset: i64, file: Box<dyn super::storage::SegmentFile>) -> LogSegment {
        LogSegment::empty(
            base_offset,
            file,
            self.config.index_interval_bytes,
            self.config.segment_index_bytes,
        )
    }

    fn active(&self) -> &LogSegment {
        self.segments.values().next_back().expect("a log always has an active segment")
    }

    /// The first offset the log holds; retention and delete-records move it up.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// Log end offset: the offset the next record gets.
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    /// Everything below this offset has been flushed.
    pub fn recovery_point(&self) -> i64 {
        self.recovery_point
    }

    /// The write failure that took this log offline, or the corruption a read found, if any.
    pub fn poisoned(&self) -> Option<&StorageError> {
        self.poisoned.as_ref().or_else(|| self.found_corrupt.get())
    }

    /// The segments in offset order; the last is the active one.
    pub fn segments(&self) -> impl Iterator<Item = &LogSegment> {
        self.segments.values()
    }

    /// The bytes of all `.log` files, as `retention.bytes` counts them.
    pub fn size_bytes(&self) -> usize {
        self.segments.values().map(LogSegment::size_bytes).sum()
    }

    /// The leader epoch cache, as `leader-epoch-checkpoint` holds it.
    pub fn leader_epochs(&self) -> &LeaderEpochCache {
        &self.epochs
    }

    /// The log's directory, for the files Kafka keeps beside a log that the log does not own
    /// (the KRaft metadata log's `quorum-state` and `.checkpoint` snapshots).
    pub fn files(&mut self) -> &mut dyn PartitionStore {
        self.store.as_mut()
    }

    /// The topic configs the log obeys now.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Applies changed topic configs (retention, compaction, flush, …) from now on.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// Deletes every file of this log (the topic is being deleted).
    pub fn delete(mut self) -> Result<(), LogError> {
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        for base in bases {
            self.remove_segment(base)?;
        }
        self.delete_snapshots_outside(NO_OFFSETS)?;
        self.store.delete_file(LEADER_EPOCH_CHECKPOINT_FILE).map_err(LogError::Storage)
    }

    /// Refuses writes once a write has failed.
    fn check_writable(&self) -> Result<(), LogError> {
        match self.poisoned() {
            Some(e) => Err(LogError::Storage(StorageError::new(
                e.operation,
                e.file.clone(),
                format!("the log is offline after an earlier failure ({}); restart to recover", e.message),
            ))),
            None => Ok(()),
        }
    }

    /// Records a failed write and takes the log offline.
    fn poison(&mut self, error: StorageError) -> LogError {
        self.poisoned.get_or_insert_with(|| error.clone());
        LogError::Storage(error)
    }

    fn write_indexes_of(&mut self, segment: &LogSegment) -> Result<(), LogError> {
        let (offsets, times) = (segment.offset_index().to_bytes(), segment.time_index().to_bytes());
        self.write_index_bytes(segment.base_offset(), &offsets, &times)
    }

    fn write_index_bytes(&mut self, base: i64, offsets: &[u8], times: &[u8]) -> Result<(), LogError> {
        let written = self
            .store
            .write_file(&file_name(base, INDEX_SUFFIX), offsets)
            .and_then(|()| self.store.write_file(&file_name(base, TIME_INDEX_SUFFIX), times));
        written.map_err(|e| self.poison(e))
    }

    fn write_epoch_checkpoint(&mut self) -> Result<(), LogError> {
        let text = self.epochs.to_checkpoint();
        self.store.write_file(LEADER_EPOCH_CHECKPOINT_FILE, text.as_bytes()).map_err(|e| self.poison(e))
    }

    /// Deletes a segment's files: the `.log` first, so a crash in between leaves only orphaned
    /// indexes, which the next open removes.
    fn delete_segment_files(&mut self, base: i64) -> Result<(), LogError> {
        let deleted = self
            .store
            .delete_file(&file_name(base, LOG_SUFFIX))
            .and_then(|()| self.store.delete_file(&file_name(base, INDEX_SUFFIX)))
            .and_then(|()| self.store.delete_file(&file_name(base, TIME_INDEX_SUFFIX)))
            .and_then(|()| self.store.delete_file(&file_name(base, TXN_INDEX_SUFFIX)));
        deleted.map_err(|e| self.poison(e))
    }

    fn remove_segment(&mut self, base: i64) -> Result<(), LogError> {
        self.segments.remove(&base);
        self.txn_indexed.remove(&base);
        self.delete_segment_files(base)
    }

    /// Appends a producer's batch as the partition leader in `leader_epoch` (Kafka's
    /// `appendAsLeader`): validates it, assigns the next offsets, stamps offset and epoch (and the
    /// broker's time under LogAppendTime), rolls a new segment if due, appends the bytes, and
    /// flushes if `flush.messages` says so.
    pub fn append_as_leader(
        &mut self,
        batch: &[u8],
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, LogError> {
        self.check_writable()?;
        let header = BatchHeader::parse(batch).map_err(LogError::Batch)?;
        if header.total_bytes() != batch.len() {
            return Err(LogError::InvalidRecord(format!(
                "a produce carries one batch here: {} bytes follow it",
                batch.len() - header.total_bytes()
            )));
        }
        // Control batches (transaction markers) are appended here by the transaction
        // coordinator; a client's are refused at the front (`Cluster::produce_records`), as
        // Kafka's LogValidator refuses them for client appends only.
        if header.record_count == 0 || header.last_offset_delta != header.record_count - 1 {
            return Err(LogError::InvalidRecord(format!(
                "a produced batch numbers its records 0..{}: it has {} records and lastOffsetDelta {}",
                header.record_count, header.record_count, header.last_offset_delta
            )));
        }
        if self.config.compact {
            let (decoded, _) = RecordBatch::decode(batch).map_err(LogError::Batch)?;
            if decoded.records.iter().any(|r| r.key.is_none()) {
                return Err(LogError::InvalidRecord(
                    "Compacted topic cannot accept message without key.".into(),
                ));
            }
        }
        if batch.len() > self.config.max_message_bytes {
            return Err(LogError::RecordTooLarge {
                size_bytes: batch.len(),
                max_bytes: self.config.max_message_bytes,
            });
        }
        let first_offset = self.log_end_offset();
        let mut bytes = batch.to_vec();
        stamp_offset_and_epoch(&mut bytes, first_offset, leader_epoch);
        let mut max_timestamp = header.max_timestamp;
        if self.config.timestamp_type == TimestampType::LogAppendTime {
            stamp_log_append_time(&mut bytes, now_ms);
            max_timestamp = now_ms;
        }
        // Stamping changed only fields outside the CRC, or recomputed it: the batch is still the
        // one validated above, so its header is read back without a second CRC pass.
        let stamped = BatchHeader::parse_trusted(&bytes).map_err(LogError::Batch)?;
        let rolled = self.append_stamped(&bytes, &stamped, max_timestamp)?;
        let last_offset = stamped.last_offset();
        Ok(AppendInfo { first_offset, last_offset, max_timestamp, rolled })
    }

    /// Appends a batch whose offsets and epoch are final: rolls if due, writes, records a new
    /// epoch, and flushes if `flush.messages` says so. Returns whether it rolled.
    fn append_stamped(
        &mut self,
        bytes: &[u8],
        header: &BatchHeader,
        max_timestamp: i64,
    ) -> Result<bool, LogError> {
        let rolled = self.active().should_roll(&RollCheck {
            max_segment_bytes: self.config.segment_bytes,
            segment_ms: self.config.segment_ms,
            batch_bytes: bytes.len(),
            batch_max_timestamp: max_timestamp,
            batch_last_offset: header.last_offset(),
        });
        self.prepare_transaction(header)?;
        if rolled {
            self.roll(header.base_offset)?;
        }
        // An ABORT marker's `.txnindex` entry is written before the marker itself: after a failed
        // write or a power cut the index may name a marker that is not there (open rebuilds it),
        // never miss one that is.
        self.index_aborted_transaction(bytes, header)?;
        let active = self.segments.values_mut().next_back().expect("a log always has an active segment");
        match active.append_validated(bytes, header) {
            Ok(()) => {}
            Err(SegmentError::Storage(e)) => return Err(self.poison(e)),
            Err(e) => {
                let base = *self.segments.keys().next_back().expect("a log always has an active segment");
                self.truncate_txn_index(base, header.base_offset)?;
                return Err(LogError::Segment(e));
            }
        }
        self.note_producer(header);
        let epoch = header.partition_leader_epoch;
        if self.epochs.latest_epoch().is_none_or(|latest| epoch > latest) {
            self.epochs.assign(epoch, header.base_offset);
            self.write_epoch_checkpoint()?;
        }
        self.unflushed_appends += 1;
        if self.unflushed_appends >= self.config.flush_messages {
            self.flush()?;
        }
        Ok(rolled)
    }

    /// Records that `epoch` starts at the log end offset (a replica becoming leader, as Kafka's
    /// `Partition.makeLeader` does), so followers can find where their history diverges.
    pub fn assign_leader_epoch(&mut self, epoch: i32) -> Result<(), LogError> {
        self.check_writable()?;
        if self.epochs.latest_epoch().is_none_or(|latest| epoch > latest) {
            self.epochs.assign(epoch, self.log_end_offset());
            self.write_epoch_checkpoint()?;
        }
        Ok(())
    }

    /// Appends batches fetched from the partition leader (Kafka's `appendAsFollower`): their
    /// offsets and leader epochs were stamped by the leader and are kept; each batch is checked
    /// (CRC included) and must start at this log's end offset. Returns the new log end offset.
    pub fn append_as_follower(&mut self, batches: &[u8]) -> Result<i64, LogError> {
        self.check_writable()?;
        let mut at = 0;
        while at < batches.len() {
            let header = BatchHeader::parse(&batches[at..]).map_err(LogError::Batch)?;
            if header.base_offset != self.log_end_offset() {
                return Err(LogError::InvalidRecord(format!(
                    "a fetched batch starts at offset {}, but this replica's log ends at {}",
                    header.base_offset,
                    self.log_end_offset()
                )));
            }
            let bytes = &batches[at..at + header.total_bytes()];
            self.append_stamped(bytes, &header, header.max_timestamp)?;
            at += header.total_bytes();
        }
        Ok(self.log_end_offset())
    }

    /// Starts a new active segment at `base_offset`. As Kafka does on roll, the finished segment
    /// is flushed and its index files written, and the recovery point moves up to the new base.
    /// The flush comes before the new file exists: were the new segment on disk while the
    /// finished one's tail was not (the flush failed, or the power went between the two), the
    /// next open would find the log going on at `base_offset` after a gap — a hole in the log
    /// instead of a lost tail.
    fn roll(&mut self, base_offset: i64) -> Result<(), LogError> {
        self.flush_below(base_offset)?;
        // Kafka's producer snapshot at each roll: a later open replays only what follows it.
        self.keep_producers(base_offset)?;
        self.write_producer_snapshot(base_offset)?;
        let file = self.store.open_segment(base_offset).map_err(|e| self.poison(e))?;
        let finished = *self.segments.keys().next_back().expect("a log always has an active segment");
        self.segments.insert(base_offset, self.empty_segment(base_offset, file));
        if let Some(segment) = self.segments.get(&finished) {
            let (offsets, times) = (segment.offset_index().to_bytes(), segment.time_index().to_bytes());
            self.write_index_bytes(finished, &offsets, &times)?;
        }
        Ok(())
    }

    /// Flushes every segment holding offsets at or after the recovery point and below `offset`,
    /// then moves the recovery point up to `offset`.
    fn flush_below(&mut self, offset: i64) -> Result<(), LogError> {
        if offset <= self.recovery_point {
            return Ok(());
        }
        let recovery_point = self.recovery_point;
        let mut failed = None;
        for segment in self.segments.values_mut() {
            if segment.next_offset() > recovery_point
                && segment.base_offset() < offset
                && let Err(e) = segment.flush()
            {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            return Err(self.poison(e));
        }
        self.recovery_point = offset;
        Ok(())
    }

    /// Flushes everything appended so far (`kafka-log-dirs` would show the recovery point at the
    /// log end offset afterwards).
    pub fn flush(&mut self) -> Result<(), LogError> {
        self.check_writable()?;
        self.flush_below(self.log_end_offset())?;
        self.unflushed_appends = 0;
        Ok(())
    }

    /// A broker's periodic upkeep of this log (Kafka's LogManager tasks): the time half of the
    /// flush policy, and when `retention_due`, retention and the cleaner. A poisoned log is left
    /// alone (it takes no writes until its broker restarts).
    pub fn maintain(&mut self, now_ms: i64, retention_due: bool) -> Result<(), LogError> {
        if self.poisoned().is_some() {
            return Ok(());
        }
        self.maybe_flush(now_ms)?;
        if retention_due {
            self.apply_retention(now_ms)?;
            self.clean(now_ms)?;
        }
        Ok(())
    }

    /// The time half of the flush policy: flushes when `flush.ms` has passed since the last
    /// flush. Returns whether it flushed.
    pub fn maybe_flush(&mut self, now_ms: i64) -> Result<bool, LogError> {
        let last = *self.last_flush_ms.get_or_insert(now_ms);
        if self.unflushed_appends == 0 || now_ms.saturating_sub(last) < self.config.flush_ms {
            return Ok(false);
        }
        self.flush()?;
        self.last_flush_ms = Some(now_ms);
        Ok(true)
    }

    /// A clean close: flush, and write every segment's index files and the epoch checkpoint,
    /// so the next open after the broker's clean-shutdown marker reads no batches.
    pub fn close(&mut self) -> Result<(), LogError> {
        self.flush()?;
        // The state kept, if any, at the end (none is built only to be written).
        self.write_producer_snapshot(self.log_end_offset())?;
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        for base in bases {
            if let Some(segment) = self.segments.get(&base) {
                let (offsets, times) = (segment.offset_index().to_bytes(), segment.time_index().to_bytes());
                self.write_index_bytes(base, &offsets, &times)?;
            }
        }
        self.write_epoch_checkpoint()
    }

    fn out_of_range(&self, offset: i64) -> LogError {
        LogError::OffsetOutOfRange {
            offset,
            log_start_offset: self.log_start_offset,
            log_end_offset: self.log_end_offset(),
        }
    }

    /// Whole batches from the one containing `offset`, up to `max_bytes` but at least one batch,
    /// from one segment (as a Kafka fetch reads). Empty at the log end offset.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Cow<'_, [u8]>, LogError> {
        if offset == self.log_end_offset() {
            return Ok(Cow::Borrowed(&[]));
        }
        if offset < self.log_start_offset || offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        let floor = self.segments.range(..=offset).next_back().map_or(offset, |(&base, _)| base);
        // A compacted segment may end before the next one starts: read on from the next.
        for (&base, segment) in self.segments.range(floor..) {
            if let Some((bytes, stored)) = segment.read_from(offset, max_bytes).map_err(LogError::Storage)? {
                let ended_early = base != floor
                    && !self.config.compact
                    && self.segments.get(&floor).is_some_and(|s| s.next_offset() > offset);
                let problem = if ended_early {
                    Some(format!("no batch holds offset {offset}, below the segment's end"))
                } else {
                    read_problem(offset, &bytes, self.config.compact, &self.epochs, stored)
                };
                if let Some(reason) = problem {
                    return Err(self.corrupt_read(floor, offset, reason));
                }
                return Ok(bytes);
            }
        }
        // Below the log end, only compaction may leave no batch at or after an offset.
        if !self.config.compact {
            return Err(self.corrupt_read(
                floor,
                offset,
                format!("no batch holds offset {offset}, below the log end"),
            ));
        }
        Err(self.out_of_range(offset))
    }

    /// A read found stored bytes that are not what the log wrote: the log refuses everything
    /// from now on, as after a failed write, so its broker's log directory goes offline and a
    /// replica with a good copy leads (Kafka leaves the CRC to the consumer and the follower;
    /// checked here too, a bad copy is never served as records, nor read past as a gap).
    fn corrupt_read(&self, base: i64, offset: i64, reason: String) -> LogError {
        let file = self.segment_name(base);
        let message = format!("the batches read from offset {offset} are not what was written: {reason}");
        let _ = self.found_corrupt.set(StorageError::new("read", file.clone(), message.clone()));
        LogError::Corrupt { file, position: 0, reason: message }
    }

    /// The first offset whose timestamp is at or after `timestamp` (ListOffsets by time).
    pub fn find_offset_by_timestamp(&self, timestamp: i64) -> Result<Option<i64>, LogError> {
        Ok(self.find_by_timestamp(timestamp)?.map(|found| found.offset))
    }

    /// The first record from the log start whose timestamp is at or after `timestamp`, with its
    /// own timestamp (ListOffsets by time; records below the log start are not looked at, as
    /// Kafka's `UnifiedLog` passes it the log start).
    pub fn find_by_timestamp(&self, timestamp: i64) -> Result<Option<TimestampAndOffset>, LogError> {
        for segment in self.segments.values().filter(|segment| segment.max_timestamp() >= timestamp) {
            let found =
                segment.find_by_timestamp(timestamp, self.log_start_offset).map_err(LogError::Storage)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// KIP-734's MAX_TIMESTAMP: the record with the largest timestamp in the log (the first of
    /// them, in the first segment holding it, as Kafka's `UnifiedLog` picks it).
    pub fn find_max_timestamp(&self) -> Result<Option<TimestampAndOffset>, LogError> {
        let mut latest: Option<&LogSegment> = None;
        for segment in self.segments.values() {
            if latest.is_none_or(|l| segment.max_timestamp() > l.max_timestamp()) {
                latest = Some(segment);
            }
        }
        let Some(segment) = latest else { return Ok(None) };
        // Not clamped to the log start: Kafka gives the record's own offset back.
        segment.find_max_timestamp().map_err(LogError::Storage)
    }

    /// Removes everything from the batch containing `offset` on (a follower truncating to where it
    /// diverged); the log end offset becomes that batch's first offset.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        self.check_writable()?;
        if offset >= self.log_end_offset() {
            // No records go, but epochs that would start at or after `offset` do (a follower
            // told its last epoch ends here).
            let before = self.epochs.entries().len();
            self.epochs.truncate_from_end(offset);
            if self.epochs.entries().len() != before {
                self.write_epoch_checkpoint()?;
            }
            return Ok(());
        }
        // The segment holding `offset` (or starting at it) stays, cut there; the later ones go.
        // When every segment starts past `offset`, a fresh one at `offset` is opened first (as
        // Kafka's truncateFullyAndStartAt): a store that fails part-way must still leave the log
        // an active segment.
        let kept = self.segments.range(..=offset).next_back().map(|(&base, _)| base);
        if kept.is_none() {
            let file = self.store.open_segment(offset).map_err(|e| self.poison(e))?;
            self.segments.insert(offset, self.empty_segment(offset, file));
            self.log_start_offset = offset;
        }
        let floor = kept.unwrap_or(offset);
        let doomed: Vec<i64> = self.segments.range(floor + 1..).map(|(&base, _)| base).rev().collect();
        let removed = !doomed.is_empty();
        for base in doomed {
            self.remove_segment(base)?;
        }
        // The later segments' deletion is made durable before the cut: a power cut between them
        // would otherwise bring them back after a shortened segment, offsets skipped between.
        if removed {
            self.store.sync_dir().map_err(|e| self.poison(e))?;
        }
        // The cut is made durable at once: a power cut that undid it would bring back batches
        // this log has disowned, under leader epochs it has since given other offsets.
        if let Some(segment) = self.segments.get_mut(&floor)
            && let Err(e) = segment.truncate_to(offset).and_then(|_| segment.flush())
        {
            return Err(self.poison(e));
        }
        self.truncate_txn_index(floor, offset)?;
        self.delete_snapshots_outside(i64::MIN..=self.log_end_offset())?;
        self.epochs.truncate_from_end(self.log_end_offset());
        self.write_epoch_checkpoint()?;
        self.first_dirty_offset = self.first_dirty_offset.min(self.log_end_offset());
        self.recovery_point = self.recovery_point.min(self.log_end_offset());
        Ok(())
    }

    /// Kafka's `truncateFullyAndStartAt`: every record goes and the log starts over, empty, at
    /// `offset` (a follower whose log ends before its leader's log start: what it holds the leader
    /// no longer has, and what it lacks is gone from the leader). The new active segment is made
    /// before the old ones go, so a store failing part-way still leaves the log one.
    pub fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), LogError> {
        self.check_writable()?;
        let doomed: Vec<i64> = self.segments.keys().copied().filter(|&base| base != offset).collect();
        if !self.segments.contains_key(&offset) {
            let file = self.store.open_segment(offset).map_err(|e| self.poison(e))?;
            self.segments.insert(offset, self.empty_segment(offset, file));
        }
        for base in doomed {
            self.remove_segment(base)?;
        }
        // Durable before the log's start moves past them (see `truncate_to`).
        self.store.sync_dir().map_err(|e| self.poison(e))?;
        // A segment already at `offset` (this log's own, ended there) keeps nothing either.
        if let Some(segment) = self.segments.get_mut(&offset)
            && let Err(e) = segment.truncate_to(offset).and_then(|_| segment.flush())
        {
            return Err(self.poison(e));
        }
        self.truncate_txn_index(offset, offset)?;
        self.delete_snapshots_outside(NO_OFFSETS)?;
        self.log_start_offset = offset;
        self.first_dirty_offset = offset;
        self.recovery_point = offset;
        self.epochs = LeaderEpochCache::new();
        self.write_epoch_checkpoint()
    }

    /// `kafka-delete-records`: moves the log start offset up to `offset` and drops segments wholly
    /// below it. Returns the new log start offset.
    pub fn delete_records(&mut self, offset: i64) -> Result<i64, LogError> {
        self.check_writable()?;
        if offset > self.log_end_offset() || offset < 0 {
            return Err(self.out_of_range(offset));
        }
        self.log_start_offset = self.log_start_offset.max(offset);
        self.drop_segments_below_log_start()?;
        Ok(self.log_start_offset)
    }

    fn drop_segments_below_log_start(&mut self) -> Result<(), LogError> {
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        let start = self.log_start_offset;
        let doomed: Vec<i64> = self
            .segments
            .iter()
            .filter(|&(&base, segment)| base != active && segment.next_offset() <= start)
            .map(|(&base, _)| base)
            .collect();
        for base in doomed {
            self.remove_segment(base)?;
        }
        self.delete_snapshots_outside(self.log_start_offset..=i64::MAX)?;
        self.truncate_epochs_from_start()
    }

    fn truncate_epochs_from_start(&mut self) -> Result<(), LogError> {
        let before = self.epochs.entries().to_vec();
        self.epochs.truncate_from_start(self.log_start_offset);
        if self.epochs.entries() != before.as_slice() {
            self.write_epoch_checkpoint()?;
        }
        Ok(())
    }

    /// Deletes whole non-active segments past `retention.ms` (by their largest timestamp) or beyond
    /// `retention.bytes`, oldest first, and advances the log start offset. Returns the deleted
    /// segments' base offsets.
    pub fn apply_retention(&mut self, now_ms: i64) -> Result<Vec<i64>, LogError> {
        self.check_writable()?;
        let mut deleted = Vec::new();
        if !self.config.delete {
            return Ok(deleted);
        }
        let mut size = self.size_bytes() as i64;
        while self.segments.len() > 1 {
            let (&base, oldest) = self.segments.iter().next().expect("more than one segment");
            let expired =
                self.config.retention_ms >= 0 && now_ms - oldest.max_timestamp() > self.config.retention_ms;
            let oversize = self.config.retention_bytes >= 0
                && size - oldest.size_bytes() as i64 >= self.config.retention_bytes;
            if !(expired || oversize) {
                break;
            }
            size -= oldest.size_bytes() as i64;
            // Kafka moves the log start offset first, then deletes: a crash in between leaves a
            // segment the next pass deletes again.
            if let Some((&next, _)) = self.segments.range(base + 1..).next() {
                self.log_start_offset = self.log_start_offset.max(next);
            }
            self.remove_segment(base)?;
            deleted.push(base);
        }
        self.delete_snapshots_outside(self.log_start_offset..=i64::MAX)?;
        self.truncate_epochs_from_start()?;
        Ok(deleted)
    }

    /// The cleanable range's dirty ratio: bytes at or above the cleaner checkpoint over all bytes,
    /// in the segments before the active one.
    pub fn dirty_ratio(&self) -> f64 {
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        let (mut clean, mut dirty) = (0usize, 0usize);
        for (_, segment) in self.segments.range(..active) {
            if segment.next_offset() <= self.first_dirty_offset {
                clean += segment.size_bytes();
            } else {
                dirty += segment.size_bytes();
            }
        }
        if clean + dirty == 0 { 0.0 } else { dirty as f64 / (clean + dirty) as f64 }
    }

    /// One pass of Kafka's log cleaner, if `cleanup.policy` includes `compact` and the dirty ratio
    /// has reached `min.cleanable.dirty.ratio`: in every segment but the active one, keep only the
    /// latest record of each key (by offset, looking at everything up to the active segment), keep
    /// offsets as they were (gaps remain), drop tombstones older than `delete.retention.ms`, and
    /// drop batches and segments left empty. Each cleaned segment replaces the old one through a
    /// flushed `.swap` file renamed over the `.log`. Returns what it did, or `None` when it did not
    /// run.
    pub fn clean(&mut self, now_ms: i64) -> Result<Option<CleanResult>, LogError> {
        self.check_writable()?;
        if !self.config.compact || self.segments.len() < 2 {
            return Ok(None);
        }
        let dirty_ratio = self.dirty_ratio();
        // Kafka cleans a log whose ratio is strictly above the minimum.
        if dirty_ratio <= 0.0 || dirty_ratio <= self.config.min_cleanable_dirty_ratio {
            return Ok(None);
        }
        let active = *self.segments.keys().next_back().expect("a log always has an active segment");
        // The offset map: each key's latest offset in the cleanable range.
        let mut latest: std::collections::HashMap<Vec<u8>, i64> = std::collections::HashMap::new();
        for (_, segment) in self.segments.range(..active) {
            // A transaction marker's key is its type, not a record's key: markers stay as they are.
            for batch in decode_all(&segment.log_bytes().map_err(LogError::Storage)?) {
                if batch.attributes.control {
                    continue;
                }
                for record in &batch.records {
                    if let Some(key) = &record.key {
                        latest.insert(key.clone(), batch.base_offset + i64::from(record.offset_delta));
                    }
                }
            }
        }
        let mut result = CleanResult {
            dirty_ratio,
            segments_cleaned: 0,
            records_before: 0,
            records_after: 0,
            tombstones_dropped: 0,
        };
        let cleanable: Vec<i64> = self.segments.range(..active).map(|(&base, _)| base).collect();
        for base in cleanable {
            let bytes = match self.segments.get(&base) {
                Some(segment) => segment.log_bytes().map_err(LogError::Storage)?.into_owned(),
                None => continue,
            };
            let mut cleaned =
                LogSegment::new(base, self.config.index_interval_bytes, self.config.segment_index_bytes);
            for mut batch in decode_all(&bytes) {
                result.records_before += batch.records.len();
                let base_offset = batch.base_offset;
                let base_timestamp = batch.base_timestamp;
                let before = batch.records.len();
                if batch.attributes.control {
                    result.records_after += before;
                    if let Ok(bytes) = batch.encode() {
                        let _ = cleaned.append(&bytes);
                    }
                    continue;
                }
                // Keep a record only if it is its key's latest (records without a key predate the
                // compact policy and are kept as they are).
                batch.records.retain(|record| {
                    let offset = base_offset + i64::from(record.offset_delta);
                    record.key.as_ref().is_none_or(|key| latest.get(key) == Some(&offset))
                });
                let superseded = before - batch.records.len();
                batch.records.retain(|record| {
                    let expired = record.value.is_none()
                        && now_ms - (base_timestamp + record.timestamp_delta)
                            > self.config.delete_retention_ms;
                    !expired
                });
                result.tombstones_dropped += before - superseded - batch.records.len();
                result.records_after += batch.records.len();
                if batch.records.is_empty() {
                    continue;
                }
                if batch.attributes.timestamp_type == TimestampType::CreateTime {
                    batch.max_timestamp = batch
                        .records
                        .iter()
                        .map(|r| base_timestamp + r.timestamp_delta)
                        .max()
                        .unwrap_or(base_timestamp);
                }
                // Offsets and lastOffsetDelta stay as they were: gaps are how compaction looks.
                if let Ok(bytes) = batch.encode() {
                    // Re-encoding a batch that was valid cannot produce an invalid one.
                    let _ = cleaned.append(&bytes);
                }
            }
            result.segments_cleaned += 1;
            if cleaned.size_bytes() == 0 {
                self.remove_segment(base)?;
            } else {
                self.swap_in(base, cleaned)?;
            }
        }
        self.first_dirty_offset = active;
        Ok(Some(result))
    }

    /// Replaces segment `base` with `cleaned` (built in memory): write `<base>.log.swap` (flushed,
    /// all or nothing), drop the old indexes, rename the swap over the `.log`, write new indexes.
    /// A crash at any point leaves either the old segment, or a `.swap` the next open finishes.
    /// The segment's `.txnindex` stays: its entries name offsets, which compaction keeps.
    fn swap_in(&mut self, base: i64, cleaned: LogSegment) -> Result<(), LogError> {
        let log_name = file_name(base, LOG_SUFFIX);
        let swap_name = format!("{log_name}{SWAP_SUFFIX}");
        let bytes = cleaned.log_bytes().map_err(LogError::Storage)?.into_owned();
        let swapped = self
            .store
            .write_file(&swap_name, &bytes)
            .and_then(|()| self.store.delete_file(&file_name(base, INDEX_SUFFIX)))
            .and_then(|()| self.store.delete_file(&file_name(base, TIME_INDEX_SUFFIX)))
            .and_then(|()| self.store.rename(&swap_name, &log_name))
            .and_then(|()| self.store.open_segment(base));
        let file = swapped.map_err(|e| self.poison(e))?;
        let segment = cleaned.with_file(file);
        self.write_indexes_of(&segment)?;
        self.segments.insert(base, segment);
        Ok(())
    }
}

fn scan_stop_position(stop: &ScanStop) -> usize {
    match stop {
        ScanStop::InvalidBatch { position, .. }
        | ScanStop::OffsetsOutOfOrder { position, .. }
        | ScanStop::OffsetsSkipped { position, .. }
        | ScanStop::OffsetBeyondSegment { position, .. } => *position,
    }
}

/// Every batch of a segment's validated bytes, decoded.
fn decode_all(mut bytes: &[u8]) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    while let Ok((batch, used)) = RecordBatch::decode(bytes) {
        batches.push(batch);
        bytes = &bytes[used..];
    }
    batches
}
