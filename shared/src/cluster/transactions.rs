//! The cluster's transaction coordinator at work: `__transaction_state` created on first use (50
//! compacted partitions, as Kafka's), each decision of `txn::coordinator` written there before it
//! is acted on, then the COMMIT or ABORT markers written to every partition of the transaction at
//! its leader, then the Complete state. Markers a partition could not take (no leader, too few
//! in-sync replicas) are written again at each tick until they land, as Kafka's marker channel
//! retries; open transactions past their timeout are aborted there too. Offsets sent in a
//! transaction (TxnOffsetCommit) are written to `__consumer_offsets` as a transactional batch and
//! become the group's committed offsets when the COMMIT marker reaches that partition.

use std::collections::{BTreeMap, BTreeSet};

use super::Cluster;
use crate::api::{Command, PartitionRef, Reply, TransactionView};
use crate::config::Acks;
use crate::error::{ErrorCode, KafkaError};
use crate::group::coordinator::OFFSETS_TOPIC;
use crate::group::offsets_topic::{OffsetCommitValue, OffsetsKey, Record, encode_batch, records_in};
use crate::ids::TopicPartition;
use crate::record::batch::RecordBatch;
use crate::txn::TRANSACTION_STATE_TOPIC;
use crate::txn::coordinator::{
    EndStep, InitStep, TRANSACTION_STATE_PARTITIONS, TransactionCoordinator, TxnMetadata,
};
use crate::txn::log::{TxnState, encode_key};
use crate::txn::marker::{MarkerKind, encode_marker};

/// Kafka's `transaction.state.log.replication.factor` default.
const TRANSACTION_STATE_REPLICATION_FACTOR: usize = 3;
/// Kafka's `transaction.state.log.min.isr` default.
const TRANSACTION_STATE_MIN_ISR: usize = 2;
/// Kafka's `transaction.timeout.ms` default, for a producer that names none.
pub(super) const DEFAULT_TRANSACTION_TIMEOUT_MS: i32 = 60_000;
/// Offsets one transaction may send (TxnOffsetCommit) before it ends.
pub(super) const MAX_PENDING_OFFSETS_PER_TRANSACTION: usize = 100_000;

/// A bug planted in the transaction coordinator, which no setting can express: the simulator
/// plants one to prove its checker finds what it breaks (`kite sim --host --unsafe …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedTxnBug {
    /// EndTxn completes the transaction without writing a single marker.
    SkipMarkers,
    /// InitProducerId hands a known id its current epoch back and leaves its open transaction
    /// open (nothing fenced, nothing aborted); a timeout aborts without bumping the epoch.
    NoFencing,
}

/// The coordinator, the markers it still owes, and offsets waiting on their transaction.
#[derive(Debug, Default)]
pub(super) struct Transactions {
    pub(super) coordinator: TransactionCoordinator,
    /// A bug the simulator planted, if any.
    planted: Option<PlantedTxnBug>,
    /// `transaction.state.log.num.partitions` when the host set one (Kafka's 50 otherwise).
    state_partitions: Option<i32>,
    /// The `__transaction_state` partitions whose records the coordinator has read.
    loaded: BTreeSet<i32>,
    /// Creating `__transaction_state` (the one time it may be created).
    creating: bool,
    /// Per `transactional.id` in a Prepare state: the partitions whose marker is not written yet.
    owed_markers: BTreeMap<String, BTreeSet<TopicPartition>>,
    /// Offsets sent in open transactions, by producer id: (group, partition, value).
    pending_offsets: BTreeMap<i64, Vec<(String, TopicPartition, OffsetCommitValue)>>,
}

impl Transactions {
    /// Whether the coordinator is creating `__transaction_state` right now.
    pub(super) fn creating_state_topic(&self) -> bool {
        self.creating
    }

    /// Offsets waiting on an open transaction for `group`'s `tp` (OffsetFetch's
    /// UNSTABLE_OFFSET_COMMIT when a client asks for stable ones).
    pub(super) fn offset_pending(&self, group: &str, tp: &TopicPartition) -> bool {
        self.pending_offsets.values().flatten().any(|(g, p, _)| g == group && p == tp)
    }
}

fn error(code: ErrorCode, message: String) -> KafkaError {
    KafkaError::new(code, message)
}

impl Cluster {
    /// Offsets sent in transactions that `__consumer_offsets` holds undecided (found as a
    /// partition is loaded): held until their transaction's marker.
    pub(super) fn hold_txn_offsets(&mut self, pending: BTreeMap<i64, Vec<Record>>) {
        for (producer_id, records) in pending {
            let offsets =
                records.into_iter().filter_map(|(key, value)| decoded_offset(&key, value.as_deref()));
            self.transactions.pending_offsets.entry(producer_id).or_default().extend(offsets);
        }
    }

    /// The transaction coordinator takes each `__transaction_state` partition whose leader's log
    /// is there and that it has not loaded yet: its transactional ids from the records, and the
    /// markers owed by those whose decision is written (written at the next tick). Until a
    /// partition is loaded its ids answer COORDINATOR_LOAD_IN_PROGRESS: a coordinator that had
    /// not read its log would hand a known id a new producer id.
    pub(super) fn load_transaction_partitions(&mut self) {
        let Some(state) = self.topics.get(TRANSACTION_STATE_TOPIC) else { return };
        for partition in 0..state.partitions {
            if self.transactions.loaded.contains(&partition) {
                continue;
            }
            let Some(records) = self
                .brokers
                .partition(TRANSACTION_STATE_TOPIC, partition)
                .and_then(|view| view.log.map(|log| records_in(log).0))
            else {
                continue;
            };
            self.transactions.coordinator.load(records);
            self.transactions.loaded.insert(partition);
        }
        for txn in self.transactions.coordinator.preparing() {
            self.transactions.owed_markers.entry(txn.transactional_id.clone()).or_insert(txn.partitions);
        }
    }

    /// Whether `transactional_id`'s partition is loaded (after trying): COORDINATOR_LOAD_IN_PROGRESS
    /// while it is not.
    fn loaded_for(&mut self, transactional_id: &str) -> Result<(), KafkaError> {
        self.load_transaction_partitions();
        let partition = self.state_partition(transactional_id);
        if self.topics.contains_key(TRANSACTION_STATE_TOPIC) && !self.transactions.loaded.contains(&partition)
        {
            return Err(error(
                ErrorCode::CoordinatorLoadInProgress,
                format!(
                    "{TRANSACTION_STATE_TOPIC}-{partition}, which keeps '{transactional_id}', is not loaded yet: its leader is not elected."
                ),
            ));
        }
        Ok(())
    }

    /// Creates `__transaction_state` on first use, as Kafka does on the first FindCoordinator
    /// for a transactional id.
    fn ensure_transaction_topic(&mut self, now_ms: i64) -> Result<(), KafkaError> {
        if self.topics.contains_key(TRANSACTION_STATE_TOPIC) {
            return Ok(());
        }
        let replication_factor = TRANSACTION_STATE_REPLICATION_FACTOR.min(self.brokers.broker_count());
        let min_isr = TRANSACTION_STATE_MIN_ISR.min(replication_factor);
        let configs = [
            ("cleanup.policy", "compact".to_string()),
            ("segment.bytes", "104857600".to_string()),
            ("min.insync.replicas", min_isr.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        self.transactions.creating = true;
        let partitions = self.transactions.state_partitions.unwrap_or(TRANSACTION_STATE_PARTITIONS);
        let created = self.create_topic(
            now_ms,
            TRANSACTION_STATE_TOPIC.to_string(),
            partitions,
            configs,
            replication_factor,
        );
        self.transactions.creating = false;
        created?;
        // A new topic: every partition loaded, with nothing in it.
        self.transactions.loaded.extend(0..partitions);
        Ok(())
    }

    /// The `__transaction_state` partition that keeps `transactional_id`.
    fn state_partition(&self, transactional_id: &str) -> i32 {
        let configured = self.transactions.state_partitions.unwrap_or(TRANSACTION_STATE_PARTITIONS);
        let partitions = self.topics.get(TRANSACTION_STATE_TOPIC).map_or(configured, |t| t.partitions);
        crate::group::coordinator_partition(transactional_id, partitions)
    }

    /// `transaction.state.log.num.partitions` for a `__transaction_state` not created yet.
    pub(super) fn set_transaction_state_partitions(&mut self, partitions: i32) {
        self.transactions.state_partitions = Some(partitions);
    }

    /// Plants a bug in the transaction coordinator: only the simulator does, to prove its
    /// checker finds what the bug breaks.
    pub fn plant_txn_bug(&mut self, bug: PlantedTxnBug) {
        self.transactions.planted = Some(bug);
    }

    /// The broker coordinating `transactional_id` now (the leader of its `__transaction_state`
    /// partition), if there is one; unlike [`Cluster::transaction_coordinator`] it creates and
    /// loads nothing.
    pub fn transaction_coordinator_now(&self, transactional_id: &str) -> Option<i32> {
        self.leadership(TRANSACTION_STATE_TOPIC, self.state_partition(transactional_id)).ok()?.0
    }

    /// FindCoordinator for a `transactional.id`: the leader of its `__transaction_state`
    /// partition, creating the topic on first use.
    pub fn transaction_coordinator(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
    ) -> Result<i32, KafkaError> {
        self.ensure_transaction_topic(now_ms)?;
        self.loaded_for(transactional_id)?;
        self.collect_events();
        let partition = self.state_partition(transactional_id);
        match self.leadership(TRANSACTION_STATE_TOPIC, partition)? {
            (Some(leader), _) => Ok(leader),
            (None, _) => Err(error(
                ErrorCode::CoordinatorNotAvailable,
                format!(
                    "{TRANSACTION_STATE_TOPIC}-{partition}, which coordinates '{transactional_id}', has no leader."
                ),
            )),
        }
    }

    /// Writes a decision to `__transaction_state` (replicated to its ISR), then takes it.
    fn write_txn(&mut self, now_ms: i64, txn: TxnMetadata) -> Result<(), KafkaError> {
        self.ensure_transaction_topic(now_ms)?;
        let partition = self.state_partition(&txn.transactional_id);
        let record = (encode_key(&txn.transactional_id), Some(txn.value().encode()));
        let batch = encode_batch(now_ms, vec![record])
            .map_err(|e| error(ErrorCode::CorruptMessage, e.to_string()))?;
        let min_isr = self.topics.get(TRANSACTION_STATE_TOPIC).map_or(1, |t| t.config.min_insync_replicas);
        self.brokers
            .append(now_ms, TRANSACTION_STATE_TOPIC, vec![(partition, batch)], Acks::All, min_isr)
            .map_err(|e| {
                // The coordinator could not keep its decision: the client retries elsewhere.
                error(
                    ErrorCode::CoordinatorNotAvailable,
                    format!("{TRANSACTION_STATE_TOPIC}-{partition}: {}", e.message),
                )
            })?;
        let event = crate::trace::Event::TransactionState {
            transactional_id: txn.transactional_id.clone(),
            producer_id: txn.producer_id,
            producer_epoch: txn.producer_epoch,
            state: txn.state.name().to_string(),
            partitions: txn.partitions.len(),
        };
        self.event(now_ms, event);
        self.transactions.coordinator.put(txn);
        Ok(())
    }

    /// InitProducerId with a `transactional.id`: its producer id and (bumped) epoch. An open
    /// transaction of the id is aborted first, under the bumped epoch, fencing the producer that
    /// had it; if its markers cannot all be written yet, CONCURRENT_TRANSACTIONS (retry).
    pub fn init_transactional_producer(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<(i64, i16), KafkaError> {
        self.ensure_transaction_topic(now_ms)?;
        self.loaded_for(transactional_id)?;
        let explain = |code: ErrorCode| txn_error(code, transactional_id);
        if self.transactions.planted == Some(PlantedTxnBug::NoFencing)
            && let Some(known) = self.transactions.coordinator.get(transactional_id)
        {
            return Ok((known.producer_id, known.producer_epoch));
        }
        for _ in 0..2 {
            // A new producer id, in case the coordinator needs one (a new id, or an exhausted
            // epoch): ids are plentiful, one unused is no loss.
            let spare = self.init_producer_id(now_ms)?.0;
            let step = self.transactions.coordinator.init(
                now_ms,
                transactional_id,
                timeout_ms,
                expected,
                &mut || Ok(spare),
            );
            match step.map_err(explain)? {
                InitStep::Ready(txn) => {
                    let answer = (txn.producer_id, txn.producer_epoch);
                    self.write_txn(now_ms, txn)?;
                    return Ok(answer);
                }
                InitStep::AbortFirst(abort) => {
                    self.prepare_and_mark(now_ms, abort)?;
                    if self.transactions.owed_markers.contains_key(transactional_id) {
                        return Err(explain(ErrorCode::ConcurrentTransactions));
                    }
                }
            }
        }
        Err(explain(ErrorCode::ConcurrentTransactions))
    }

    /// AddPartitionsToTxn: the partitions join the producer's open transaction (opening it).
    pub fn add_partitions_to_txn(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
        producer: (i64, i16),
        partitions: &[TopicPartition],
    ) -> Result<(), KafkaError> {
        self.loaded_for(transactional_id)?;
        let step =
            self.transactions.coordinator.add_partitions(now_ms, transactional_id, producer, partitions);
        match step.map_err(|code| txn_error(code, transactional_id))? {
            Some(txn) => self.write_txn(now_ms, txn),
            None => Ok(()),
        }
    }

    /// AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction, so
    /// the offsets sent in it are committed or dropped with it.
    pub fn add_offsets_to_txn(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
        producer: (i64, i16),
        group: &str,
    ) -> Result<(), KafkaError> {
        // The group's coordinator (and `__consumer_offsets`) exists before its partition joins.
        self.group_coordinator(now_ms, group)?;
        let partition = crate::group::coordinator_partition(group, self.offsets_partitions());
        let tp = TopicPartition { topic: OFFSETS_TOPIC.to_string(), partition };
        self.add_partitions_to_txn(now_ms, transactional_id, producer, &[tp])
    }

    /// EndTxn: the decision written, then the markers; answered once the decision is kept (the
    /// markers a partition cannot take yet are written again at each tick).
    pub fn end_txn(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
        producer: (i64, i16),
        commit: bool,
    ) -> Result<(), KafkaError> {
        self.loaded_for(transactional_id)?;
        let step = self.transactions.coordinator.end(now_ms, transactional_id, producer, commit);
        match step.map_err(|code| txn_error(code, transactional_id))? {
            EndStep::AlreadyDone => Ok(()),
            EndStep::Prepare(txn) => self.prepare_and_mark(now_ms, txn),
        }
    }

    /// Writes a Prepare decision, then every marker it owes, then (all written) the Complete
    /// state.
    fn prepare_and_mark(&mut self, now_ms: i64, txn: TxnMetadata) -> Result<(), KafkaError> {
        let id = txn.transactional_id.clone();
        let partitions = txn.partitions.clone();
        self.write_txn(now_ms, txn)?;
        self.transactions.owed_markers.insert(id.clone(), partitions);
        self.write_owed_markers(now_ms, &id);
        Ok(())
    }

    /// The markers `transactional_id` still owes, each at its partition's leader; once none is
    /// owed, the Complete state.
    fn write_owed_markers(&mut self, now_ms: i64, transactional_id: &str) {
        let Some(txn) = self.transactions.coordinator.get(transactional_id).cloned() else {
            self.transactions.owed_markers.remove(transactional_id);
            return;
        };
        let Some(commit) = txn.committing() else {
            self.transactions.owed_markers.remove(transactional_id);
            return;
        };
        let owed = self.transactions.owed_markers.get(transactional_id).cloned().unwrap_or_default();
        let coordinator_epoch = self
            .leadership(TRANSACTION_STATE_TOPIC, self.state_partition(transactional_id))
            .map_or(0, |(_, epoch)| epoch);
        let kind = if commit { MarkerKind::Commit } else { MarkerKind::Abort };
        let mut still_owed = BTreeSet::new();
        let skip = self.transactions.planted == Some(PlantedTxnBug::SkipMarkers);
        for tp in owed.into_iter().filter(|_| !skip) {
            let marker = (txn.producer_id, txn.producer_epoch, kind, coordinator_epoch);
            if self.write_marker(now_ms, &tp, marker).is_err() {
                still_owed.insert(tp);
            }
        }
        if !still_owed.is_empty() {
            self.transactions.owed_markers.insert(transactional_id.to_string(), still_owed);
            return;
        }
        self.transactions.owed_markers.remove(transactional_id);
        if let Some(complete) = self.transactions.coordinator.completed(transactional_id, now_ms) {
            // Not kept: the Prepare state stays, and the markers (already in) are written again
            // after a restart, which read_committed consumers take as the same decision.
            let _ = self.write_txn(now_ms, complete);
        }
    }

    /// WriteTxnMarkers at `broker` (the brokers' internal API: a transaction coordinator asks a
    /// partition's leader to write a marker): written as the coordinator's own markers are, if
    /// `broker` leads `tp` (NOT_LEADER_OR_FOLLOWER elsewhere) and the marker's epoch is not older
    /// than the producer's there (INVALID_PRODUCER_EPOCH, as Kafka's producer state refuses it).
    /// Kite's coordinator writes its markers itself; this serves a client that sends them.
    pub fn write_txn_marker(
        &mut self,
        now_ms: i64,
        broker: i32,
        tp: &TopicPartition,
        marker: (i64, i16, MarkerKind, i32),
    ) -> Result<(), KafkaError> {
        let (leader, _) = self.leadership(&tp.topic, tp.partition)?;
        if leader != Some(broker) {
            return Err(error(
                ErrorCode::NotLeaderOrFollower,
                format!("Broker {broker} does not lead {tp}: its leader writes the marker."),
            ));
        }
        let (producer_id, epoch, _, _) = marker;
        let seen = self.producer_state(&tp.topic, tp.partition)?.epoch_of(producer_id);
        if let Some(seen) = seen.filter(|&seen| seen > epoch) {
            return Err(error(
                ErrorCode::InvalidProducerEpoch,
                format!(
                    "Producer {producer_id} is at epoch {seen} on {tp}: a marker of epoch {epoch} is stale."
                ),
            ));
        }
        self.write_marker(now_ms, tp, marker)
    }

    /// One marker appended at `tp`'s leader (a deleted topic's partition owes nothing), noted in
    /// the partition's producer state; at `__consumer_offsets`, the transaction's offsets become
    /// committed or are dropped.
    fn write_marker(
        &mut self,
        now_ms: i64,
        tp: &TopicPartition,
        (producer_id, epoch, kind, coordinator_epoch): (i64, i16, MarkerKind, i32),
    ) -> Result<(), KafkaError> {
        let Some(state) = self.topics.get(&tp.topic) else { return Ok(()) };
        if tp.partition >= state.partitions {
            return Ok(());
        }
        let min_isr = state.config.min_insync_replicas;
        let batch = encode_marker(now_ms, producer_id, epoch, kind, coordinator_epoch)
            .map_err(|e| error(ErrorCode::CorruptMessage, e.to_string()))?;
        let appended =
            self.brokers.append(now_ms, &tp.topic, vec![(tp.partition, batch)], Acks::All, min_isr)?;
        let offset = appended.first().map_or(-1, |(_, offset)| *offset);
        let commit = kind == MarkerKind::Commit;
        self.marker_appended(tp, producer_id, epoch, offset);
        self.event(
            now_ms,
            crate::trace::Event::TransactionMarker { tp: tp.clone(), producer_id, commit, offset },
        );
        if tp.topic == OFFSETS_TOPIC {
            self.settle_txn_offsets(now_ms, tp.partition, producer_id, kind == MarkerKind::Commit);
        }
        Ok(())
    }

    /// The offsets `producer_id` sent for groups of `__consumer_offsets` partition `partition`:
    /// the group's committed offsets on COMMIT, gone on ABORT.
    fn settle_txn_offsets(&mut self, now_ms: i64, partition: i32, producer_id: i64, commit: bool) {
        let partitions = self.offsets_partitions();
        let Some(pending) = self.transactions.pending_offsets.remove(&producer_id) else { return };
        let (settled, kept): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(group, _, _)| crate::group::coordinator_partition(group, partitions) == partition);
        if !kept.is_empty() {
            self.transactions.pending_offsets.insert(producer_id, kept);
        }
        if commit {
            for (group, tp, value) in settled {
                self.apply_txn_offset(now_ms, &group, tp, value);
            }
        }
    }

    /// TxnOffsetCommit: the consumed offsets sent in the producer's transaction, written to the
    /// group's `__consumer_offsets` partition as a transactional batch and held until the
    /// transaction ends. The group's partition must be in the transaction (AddOffsetsToTxn), and
    /// the consumer's member id and generation, when it sends them (KIP-447: `""` and -1 when
    /// not), the group's — a zombie instance of the application is refused.
    pub fn txn_offset_commit(
        &mut self,
        now_ms: i64,
        transactional_id: &str,
        (producer_id, epoch): (i64, i16),
        (group, member_id, generation): (&str, &str, i32),
        offsets: Vec<(TopicPartition, OffsetCommitValue)>,
    ) -> Result<(), KafkaError> {
        self.loaded_for(transactional_id)?;
        self.load_group_partitions(now_ms);
        self.check_txn_commit(group, member_id, generation).map_err(|code| {
            error(
                code,
                format!("Group '{group}' has no member '{member_id}' at generation {generation}: a zombie's offsets are refused."),
            )
        })?;
        let txn = self
            .transactions
            .coordinator
            .get(transactional_id)
            .ok_or_else(|| txn_error(ErrorCode::InvalidProducerIdMapping, transactional_id))?;
        if txn.producer_id != producer_id {
            return Err(txn_error(ErrorCode::InvalidProducerIdMapping, transactional_id));
        }
        if txn.producer_epoch != epoch {
            return Err(txn_error(ErrorCode::ProducerFenced, transactional_id));
        }
        let partition = crate::group::coordinator_partition(group, self.offsets_partitions());
        let offsets_tp = TopicPartition { topic: OFFSETS_TOPIC.to_string(), partition };
        if txn.state != TxnState::Ongoing || !txn.partitions.contains(&offsets_tp) {
            return Err(error(
                ErrorCode::InvalidTxnState,
                format!(
                    "Transaction '{transactional_id}' has not added group '{group}' (AddOffsetsToTxn first)."
                ),
            ));
        }
        let held = self.transactions.pending_offsets.get(&producer_id).map_or(0, Vec::len);
        if held + offsets.len() > MAX_PENDING_OFFSETS_PER_TRANSACTION {
            return Err(error(
                ErrorCode::PolicyViolation,
                format!("A transaction sends at most {MAX_PENDING_OFFSETS_PER_TRANSACTION} offsets."),
            ));
        }
        let records = offsets
            .iter()
            .map(|(tp, value)| {
                let key = OffsetsKey::OffsetCommit {
                    group: group.to_string(),
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                };
                (key.encode(), Some(value.encode()))
            })
            .collect();
        let bytes =
            encode_batch(now_ms, records).map_err(|e| error(ErrorCode::CorruptMessage, e.to_string()))?;
        let (mut batch, _) =
            RecordBatch::decode(&bytes).map_err(|e| error(ErrorCode::CorruptMessage, e.to_string()))?;
        batch.producer_id = producer_id;
        batch.producer_epoch = epoch;
        batch.attributes.transactional = true;
        let bytes = batch.encode().map_err(|e| error(ErrorCode::CorruptMessage, e.to_string()))?;
        let min_isr = self.topics.get(OFFSETS_TOPIC).map_or(1, |t| t.config.min_insync_replicas);
        self.brokers.append(now_ms, OFFSETS_TOPIC, vec![(partition, bytes)], Acks::All, min_isr)?;
        let pending = self.transactions.pending_offsets.entry(producer_id).or_default();
        pending.extend(offsets.into_iter().map(|(tp, value)| (group.to_string(), tp, value)));
        Ok(())
    }

    /// Whether `producer_id` at `epoch` may write a transactional batch to `tp`: its transaction
    /// is open with `tp` in it (Kafka's `transaction.partition.verification.enable`, KIP-890).
    pub(super) fn verify_txn_partition(
        &self,
        tp: &TopicPartition,
        producer_id: i64,
        epoch: i16,
    ) -> Result<(), KafkaError> {
        match self.transactions.coordinator.by_producer(producer_id) {
            Some(txn) if txn.producer_epoch > epoch => Err(error(
                ErrorCode::InvalidProducerEpoch,
                format!(
                    "Producer {producer_id} at epoch {epoch} is fenced: its transactional id is at epoch {}.",
                    txn.producer_epoch
                ),
            )),
            Some(txn) if txn.state == TxnState::Ongoing && txn.partitions.contains(tp) => Ok(()),
            _ => Err(error(
                ErrorCode::InvalidTxnState,
                format!(
                    "Producer {producer_id} has no open transaction with {tp} in it (AddPartitionsToTxn first)."
                ),
            )),
        }
    }

    /// The coordinator's timers: transactions past their timeout aborted (fencing their
    /// producers), and markers owed written again.
    pub(super) fn tick_transactions(&mut self, now_ms: i64) {
        self.load_transaction_partitions();
        for mut txn in self.transactions.coordinator.timed_out(now_ms) {
            if self.transactions.planted == Some(PlantedTxnBug::NoFencing) {
                txn.producer_epoch -= 1;
            }
            let _ = self.prepare_and_mark(now_ms, txn);
        }
        let owed: Vec<String> = self.transactions.owed_markers.keys().cloned().collect();
        for id in owed {
            self.write_owed_markers(now_ms, &id);
        }
    }

    /// DescribeTransactions' and ListTransactions' read: every transaction, or one.
    pub fn transactions(&self) -> Vec<TxnMetadata> {
        self.transactions.coordinator.all().cloned().collect()
    }

    /// Whether a group's offset for `tp` waits on an open transaction.
    pub fn offset_unstable(&self, group: &str, tp: &TopicPartition) -> bool {
        self.transactions.offset_pending(group, tp)
    }
}

/// Kafka's error for a refused transactional request, saying what it means.
fn txn_error(code: ErrorCode, transactional_id: &str) -> KafkaError {
    let message = match code {
        ErrorCode::ProducerFenced => format!(
            "Transactional id '{transactional_id}' has a newer producer epoch: this producer was fenced (a new instance started, or its transaction timed out)."
        ),
        ErrorCode::InvalidProducerIdMapping => {
            format!(
                "Transactional id '{transactional_id}' is not held by this producer id (InitProducerId first)."
            )
        }
        ErrorCode::ConcurrentTransactions => {
            format!("Transaction '{transactional_id}' is still being completed: retry shortly.")
        }
        ErrorCode::InvalidTxnState => {
            format!("Transaction '{transactional_id}' is not in a state that allows this request.")
        }
        ErrorCode::InvalidTransactionTimeout => format!(
            "transaction.timeout.ms must be between 1 and transaction.max.timeout.ms ({} ms).",
            crate::txn::coordinator::TRANSACTION_MAX_TIMEOUT_MS
        ),
        _ => format!("Transaction '{transactional_id}': {}.", code.name()),
    };
    error(code, message)
}

/// A `__consumer_offsets` offset commit record as (group, partition, value).
fn decoded_offset(key: &[u8], value: Option<&[u8]>) -> Option<(String, TopicPartition, OffsetCommitValue)> {
    let OffsetsKey::OffsetCommit { group, topic, partition } = OffsetsKey::decode(key).ok()? else {
        return None;
    };
    let value = OffsetCommitValue::decode(value?).ok()?;
    Some((group, TopicPartition { topic, partition }, value))
}

impl Cluster {
    /// The transaction commands of Kite's own API: the transactional producer's calls, made by
    /// the engine on the client's behalf as a Kafka client library makes them.
    pub(super) fn transaction_asked(&mut self, now_ms: i64, command: Command) -> Result<Reply, KafkaError> {
        match command {
            Command::InitTransactions { transactional_id, transaction_timeout_ms } => {
                self.transaction_coordinator(now_ms, &transactional_id)?;
                let timeout = transaction_timeout_ms.unwrap_or(DEFAULT_TRANSACTION_TIMEOUT_MS);
                let (producer_id, producer_epoch) =
                    self.init_transactional_producer(now_ms, &transactional_id, timeout, None)?;
                Ok(Reply::ProducerIdInitialized { producer_id, producer_epoch })
            }
            Command::EndTransaction { transactional_id, producer_id, producer_epoch, commit } => {
                self.end_txn(now_ms, &transactional_id, (producer_id, producer_epoch), commit)?;
                Ok(Reply::TransactionEnded { transactional_id, committed: commit })
            }
            Command::SendOffsetsToTransaction {
                transactional_id,
                producer_id,
                producer_epoch,
                group,
                offsets,
            } => {
                let producer = (producer_id, producer_epoch);
                self.add_offsets_to_txn(now_ms, &transactional_id, producer, &group)?;
                let offsets = offsets
                    .into_iter()
                    .map(|o| {
                        let value = OffsetCommitValue {
                            offset: o.offset,
                            leader_epoch: -1,
                            metadata: String::new(),
                            commit_timestamp: now_ms,
                        };
                        (TopicPartition { topic: o.topic, partition: o.partition }, value)
                    })
                    .collect();
                self.txn_offset_commit(now_ms, &transactional_id, producer, (&group, "", -1), offsets)?;
                Ok(Reply::OffsetsSent { group })
            }
            Command::DescribeTransactions => {
                let transactions = self
                    .transactions
                    .coordinator
                    .all()
                    .map(|t| TransactionView {
                        transactional_id: t.transactional_id.clone(),
                        producer_id: t.producer_id,
                        producer_epoch: t.producer_epoch,
                        state: t.state.name().to_string(),
                        timeout_ms: t.timeout_ms,
                        start_ms: t.start_ms,
                        partitions: t
                            .partitions
                            .iter()
                            .map(|tp| PartitionRef { topic: tp.topic.clone(), partition: tp.partition })
                            .collect(),
                        coordinator_partition: self.state_partition(&t.transactional_id),
                        coordinator: self
                            .leadership(TRANSACTION_STATE_TOPIC, self.state_partition(&t.transactional_id))
                            .ok()
                            .and_then(|(leader, _)| leader),
                    })
                    .collect();
                Ok(Reply::Transactions { transactions })
            }
            other => {
                Err(error(ErrorCode::InvalidRequest, format!("{other:?} is not a transaction command.")))
            }
        }
    }
}
