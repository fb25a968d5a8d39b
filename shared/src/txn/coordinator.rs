//! The transaction coordinator's state machine (Kafka's `TransactionCoordinator` and
//! `TransactionMetadata`): each `transactional.id`'s producer id and epoch, its state, and the
//! partitions its open transaction wrote to. Every method here only decides: it returns the
//! metadata to write to `__transaction_state`, and the cluster (`cluster::transactions`) writes it,
//! then `put`s it, then writes the markers. So a decision is in the log before anyone acts on it,
//! and a restart finds every transaction where the log left it.

use std::collections::{BTreeMap, BTreeSet};

use super::log::{TransactionLogValue, TxnState, decode_key};
use crate::error::ErrorCode;
use crate::ids::TopicPartition;

/// Kafka's `transaction.max.timeout.ms` default (15 minutes): a producer asking for a longer
/// `transaction.timeout.ms` gets INVALID_TRANSACTION_TIMEOUT.
pub const TRANSACTION_MAX_TIMEOUT_MS: i32 = 900_000;
/// Kafka's `transaction.state.log.num.partitions` default.
pub const TRANSACTION_STATE_PARTITIONS: i32 = 50;
/// The most `transactional.id`s the coordinator holds; past it a new one is refused
/// (COORDINATOR_NOT_AVAILABLE), as memory is the bound here.
pub const MAX_TRANSACTIONAL_IDS: usize = 10_000;
/// The most partitions one transaction may write to.
pub const MAX_PARTITIONS_PER_TRANSACTION: usize = 10_000;
/// The longest `transactional.id`, in bytes (a Kafka string's length is an int16).
pub const MAX_TRANSACTIONAL_ID_BYTES: usize = 32_767;
/// The epoch past which a producer id is exhausted and a new one is handed out (Kafka bumps to a
/// new id rather than wrap).
const LAST_USABLE_EPOCH: i16 = i16::MAX - 1;

/// One `transactional.id`'s transaction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxnMetadata {
    /// The producer's `transactional.id`.
    pub transactional_id: String,
    /// Its producer id.
    pub producer_id: i64,
    /// Its current epoch: a producer with an older one is fenced.
    pub producer_epoch: i16,
    /// `transaction.timeout.ms`: an open transaction older than this is aborted.
    pub timeout_ms: i32,
    /// Where the transaction is.
    pub state: TxnState,
    /// The partitions the transaction wrote to (its markers go to each).
    pub partitions: BTreeSet<TopicPartition>,
    /// When the open transaction started, -1 when none is open.
    pub start_ms: i64,
    /// When the state last changed.
    pub last_update_ms: i64,
}

impl TxnMetadata {
    /// The `__transaction_state` value for it.
    pub fn value(&self) -> TransactionLogValue {
        TransactionLogValue {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            timeout_ms: self.timeout_ms,
            state: self.state,
            partitions: self.partitions.clone(),
            last_update_ms: self.last_update_ms,
            start_ms: self.start_ms,
        }
    }

    /// Whether COMMIT (true) or ABORT (false) markers are owed, in a Prepare state.
    pub fn committing(&self) -> Option<bool> {
        match self.state {
            TxnState::PrepareCommit => Some(true),
            TxnState::PrepareAbort => Some(false),
            _ => None,
        }
    }

    fn moved_to(&self, state: TxnState, now_ms: i64) -> TxnMetadata {
        TxnMetadata { state, last_update_ms: now_ms, ..self.clone() }
    }
}

/// What InitProducerId must do for a `transactional.id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitStep {
    /// Write this (state Empty, the new epoch) and answer with its producer id and epoch.
    Ready(TxnMetadata),
    /// The id has a transaction open: abort it first under the bumped epoch (this PrepareAbort,
    /// then the markers), which fences the older producer; then ask again.
    AbortFirst(TxnMetadata),
}

/// What EndTxn must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndStep {
    /// Write this Prepare state, then the markers, then the Complete state.
    Prepare(TxnMetadata),
    /// The transaction already ended the way asked (a retried EndTxn): answer success.
    AlreadyDone,
}

/// Every `transactional.id` the cluster's coordinator holds.
#[derive(Clone, Debug, Default)]
pub struct TransactionCoordinator {
    txns: BTreeMap<String, TxnMetadata>,
}

impl TransactionCoordinator {
    /// The transaction of `transactional_id`.
    pub fn get(&self, transactional_id: &str) -> Option<&TxnMetadata> {
        self.txns.get(transactional_id)
    }

    /// Every transaction, by `transactional.id`.
    pub fn all(&self) -> impl Iterator<Item = &TxnMetadata> {
        self.txns.values()
    }

    /// The transactional id whose producer id is `producer_id`, if one holds it.
    pub fn by_producer(&self, producer_id: i64) -> Option<&TxnMetadata> {
        self.txns.values().find(|t| t.producer_id == producer_id)
    }

    /// Takes a decision the cluster has written to `__transaction_state`.
    pub fn put(&mut self, txn: TxnMetadata) {
        if txn.state == TxnState::Dead {
            self.txns.remove(&txn.transactional_id);
        } else {
            self.txns.insert(txn.transactional_id.clone(), txn);
        }
    }

    /// Rebuilds every transaction from `__transaction_state`'s records (key, value) in offset
    /// order: the last value for a key wins, a null value removes it. A record that does not
    /// decode is skipped, as Kafka skips it.
    pub fn load(&mut self, records: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>) {
        for (key, value) in records {
            let Ok(id) = decode_key(&key) else { continue };
            match value.as_deref().map(TransactionLogValue::decode) {
                None => {
                    self.txns.remove(&id);
                }
                Some(Ok(v)) => {
                    let txn = TxnMetadata {
                        transactional_id: id.clone(),
                        producer_id: v.producer_id,
                        producer_epoch: v.producer_epoch,
                        timeout_ms: v.timeout_ms,
                        state: v.state,
                        partitions: v.partitions,
                        start_ms: v.start_ms,
                        last_update_ms: v.last_update_ms,
                    };
                    self.put(txn);
                }
                Some(Err(_)) => {}
            }
        }
    }

    /// InitProducerId with a `transactional.id`: a new id at epoch 0, or the epoch bumped (which
    /// fences the producer's older instances); `expected` is the id and epoch a producer that
    /// already had one names (KIP-360), refused when they are no longer current. `new_id` hands
    /// out a producer id.
    pub fn init(
        &self,
        now_ms: i64,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        new_id: &mut dyn FnMut() -> Result<i64, ErrorCode>,
    ) -> Result<InitStep, ErrorCode> {
        if !(1..=TRANSACTION_MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(ErrorCode::InvalidTransactionTimeout);
        }
        if transactional_id.is_empty() || transactional_id.len() > MAX_TRANSACTIONAL_ID_BYTES {
            return Err(ErrorCode::InvalidRequest);
        }
        let Some(txn) = self.txns.get(transactional_id) else {
            if self.txns.len() >= MAX_TRANSACTIONAL_IDS {
                return Err(ErrorCode::CoordinatorNotAvailable);
            }
            return Ok(InitStep::Ready(TxnMetadata {
                transactional_id: transactional_id.to_string(),
                producer_id: new_id()?,
                producer_epoch: 0,
                timeout_ms,
                state: TxnState::Empty,
                partitions: BTreeSet::new(),
                start_ms: -1,
                last_update_ms: now_ms,
            }));
        };
        if let Some((id, epoch)) = expected
            && (id != txn.producer_id || epoch != txn.producer_epoch)
        {
            return Err(ErrorCode::ProducerFenced);
        }
        match txn.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                Err(ErrorCode::ConcurrentTransactions)
            }
            TxnState::Ongoing => Ok(InitStep::AbortFirst(fenced(txn, now_ms))),
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort | TxnState::Dead => {
                let mut next = txn.moved_to(TxnState::Empty, now_ms);
                if txn.producer_epoch >= LAST_USABLE_EPOCH {
                    next.producer_id = new_id()?;
                    next.producer_epoch = 0;
                } else {
                    next.producer_epoch += 1;
                }
                next.timeout_ms = timeout_ms;
                next.partitions.clear();
                next.start_ms = -1;
                Ok(InitStep::Ready(next))
            }
        }
    }

    /// The transaction of `transactional_id` as the producer `producer_id` at `epoch` may act on
    /// it: Kafka's checks, in Kafka's order.
    fn current(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
    ) -> Result<&TxnMetadata, ErrorCode> {
        let txn = self.txns.get(transactional_id).ok_or(ErrorCode::InvalidProducerIdMapping)?;
        if txn.producer_id != producer_id {
            return Err(ErrorCode::InvalidProducerIdMapping);
        }
        if txn.producer_epoch != epoch {
            return Err(ErrorCode::ProducerFenced);
        }
        Ok(txn)
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, whose partition is the group's
    /// `__consumer_offsets` one): the transaction open with these partitions in it. `None` when
    /// every one is in already (nothing to write).
    pub fn add_partitions(
        &self,
        now_ms: i64,
        transactional_id: &str,
        (producer_id, epoch): (i64, i16),
        partitions: &[TopicPartition],
    ) -> Result<Option<TxnMetadata>, ErrorCode> {
        let txn = self.current(transactional_id, producer_id, epoch)?;
        match txn.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                return Err(ErrorCode::ConcurrentTransactions);
            }
            TxnState::Dead => return Err(ErrorCode::InvalidProducerIdMapping),
            _ => {}
        }
        if txn.state == TxnState::Ongoing && partitions.iter().all(|tp| txn.partitions.contains(tp)) {
            return Ok(None);
        }
        let mut next = txn.moved_to(TxnState::Ongoing, now_ms);
        if txn.state != TxnState::Ongoing {
            next.partitions.clear();
            next.start_ms = now_ms;
        }
        next.partitions.extend(partitions.iter().cloned());
        if next.partitions.len() > MAX_PARTITIONS_PER_TRANSACTION {
            return Err(ErrorCode::PolicyViolation);
        }
        Ok(Some(next))
    }

    /// EndTxn: commit (true) or abort the open transaction.
    pub fn end(
        &self,
        now_ms: i64,
        transactional_id: &str,
        (producer_id, epoch): (i64, i16),
        commit: bool,
    ) -> Result<EndStep, ErrorCode> {
        let txn = self.current(transactional_id, producer_id, epoch)?;
        match (txn.state, commit) {
            (TxnState::Ongoing, true) => Ok(EndStep::Prepare(txn.moved_to(TxnState::PrepareCommit, now_ms))),
            (TxnState::Ongoing, false) => Ok(EndStep::Prepare(txn.moved_to(TxnState::PrepareAbort, now_ms))),
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => Ok(EndStep::AlreadyDone),
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(ErrorCode::ConcurrentTransactions)
            }
            _ => Err(ErrorCode::InvalidTxnState),
        }
    }

    /// The Complete state a Prepare one goes to once every marker is written.
    pub fn completed(&self, transactional_id: &str, now_ms: i64) -> Option<TxnMetadata> {
        let txn = self.txns.get(transactional_id)?;
        let state = match txn.state {
            TxnState::PrepareCommit => TxnState::CompleteCommit,
            TxnState::PrepareAbort => TxnState::CompleteAbort,
            _ => return None,
        };
        let mut next = txn.moved_to(state, now_ms);
        next.partitions.clear();
        next.start_ms = -1;
        Some(next)
    }

    /// Open transactions older than their `transaction.timeout.ms`: each as the PrepareAbort
    /// under a bumped epoch the coordinator writes to abort it (the producer is fenced: its next
    /// request fails with PRODUCER_FENCED or INVALID_PRODUCER_EPOCH).
    pub fn timed_out(&self, now_ms: i64) -> Vec<TxnMetadata> {
        self.txns
            .values()
            .filter(|t| {
                t.state == TxnState::Ongoing && now_ms >= t.start_ms.saturating_add(i64::from(t.timeout_ms))
            })
            .map(|t| fenced(t, now_ms))
            .collect()
    }

    /// Transactions whose decision is written but whose markers may not all be (after a restart,
    /// or a leader that was down): the coordinator writes them again.
    pub fn preparing(&self) -> Vec<TxnMetadata> {
        self.txns.values().filter(|t| t.committing().is_some()).cloned().collect()
    }
}

/// The PrepareAbort that fences `txn`'s producer: the epoch bumped, as Kafka's
/// PrepareEpochFence does before it aborts.
fn fenced(txn: &TxnMetadata, now_ms: i64) -> TxnMetadata {
    let mut next = txn.moved_to(TxnState::PrepareAbort, now_ms);
    next.producer_epoch = txn.producer_epoch.saturating_add(1);
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition { topic: topic.into(), partition }
    }

    fn ready(step: InitStep) -> TxnMetadata {
        match step {
            InitStep::Ready(txn) => txn,
            other => panic!("expected Ready, got {other:?}"),
        }
    }

    #[test]
    fn a_transaction_goes_through_kafkas_states_and_fences_older_producers() {
        let mut c = TransactionCoordinator::default();
        let mut ids = 1000..;
        let mut new_id = || Ok(ids.next().unwrap());
        let first = ready(c.init(0, "tx", 60_000, None, &mut new_id).unwrap());
        assert_eq!((first.producer_id, first.producer_epoch, first.state), (1000, 0, TxnState::Empty));
        c.put(first);
        let pe = (1000, 0);
        assert_eq!(c.end(1, "tx", pe, true), Err(ErrorCode::InvalidTxnState), "nothing open");
        let open = c.add_partitions(2, "tx", pe, &[tp("a", 0), tp("b", 1)]).unwrap().unwrap();
        assert_eq!((open.state, open.start_ms, open.partitions.len()), (TxnState::Ongoing, 2, 2));
        c.put(open);
        assert_eq!(c.add_partitions(3, "tx", pe, &[tp("a", 0)]), Ok(None), "already in");
        assert_eq!(c.add_partitions(3, "tx", (1000, 1), &[tp("a", 0)]), Err(ErrorCode::ProducerFenced));
        assert_eq!(
            c.add_partitions(3, "tx", (7, 0), &[tp("a", 0)]),
            Err(ErrorCode::InvalidProducerIdMapping)
        );
        let EndStep::Prepare(prepare) = c.end(4, "tx", pe, true).unwrap() else { panic!() };
        assert_eq!(prepare.state, TxnState::PrepareCommit);
        c.put(prepare);
        assert_eq!(c.end(5, "tx", pe, true), Err(ErrorCode::ConcurrentTransactions));
        assert_eq!(c.end(5, "tx", pe, false), Err(ErrorCode::InvalidTxnState));
        let done = c.completed("tx", 6).unwrap();
        assert_eq!((done.state, done.partitions.len(), done.start_ms), (TxnState::CompleteCommit, 0, -1));
        c.put(done);
        assert_eq!(c.end(7, "tx", pe, true), Ok(EndStep::AlreadyDone), "a retried commit");
        // A new instance of the producer: the epoch goes up, the old one is fenced.
        let again = ready(c.init(8, "tx", 60_000, None, &mut new_id).unwrap());
        assert_eq!((again.producer_id, again.producer_epoch), (1000, 1));
        c.put(again);
        assert_eq!(c.add_partitions(9, "tx", pe, &[tp("a", 0)]), Err(ErrorCode::ProducerFenced));
        assert_eq!(c.init(9, "tx", 60_000, Some(pe), &mut new_id), Err(ErrorCode::ProducerFenced));
        assert_eq!(c.init(9, "tx", 0, None, &mut new_id), Err(ErrorCode::InvalidTransactionTimeout));
    }

    #[test]
    fn an_open_transaction_is_aborted_under_a_bumped_epoch_on_timeout_and_on_a_new_instance() {
        let mut c = TransactionCoordinator::default();
        let mut new_id = || Ok(5);
        c.put(ready(c.init(0, "tx", 1_000, None, &mut new_id).unwrap()));
        c.put(c.add_partitions(10, "tx", (5, 0), &[tp("a", 0)]).unwrap().unwrap());
        assert!(c.timed_out(1_009).is_empty());
        let aborting = c.timed_out(1_010);
        assert_eq!(aborting.len(), 1);
        assert_eq!((aborting[0].state, aborting[0].producer_epoch), (TxnState::PrepareAbort, 1));
        assert_eq!(aborting[0].partitions.len(), 1, "the markers go where the transaction wrote");
        // A new instance while the transaction is open: abort first, same fence.
        assert_eq!(
            c.init(20, "tx", 1_000, None, &mut new_id),
            Ok(InitStep::AbortFirst(aborting[0].moved_to(TxnState::PrepareAbort, 20)))
        );
        c.put(aborting[0].clone());
        assert_eq!(c.preparing().len(), 1);
        assert_eq!(c.init(21, "tx", 1_000, None, &mut new_id), Err(ErrorCode::ConcurrentTransactions));
    }

    #[test]
    fn the_log_gives_every_transaction_back() {
        let mut c = TransactionCoordinator::default();
        let mut new_id = || Ok(9);
        let txn = ready(c.init(0, "tx", 1_000, None, &mut new_id).unwrap());
        let records = vec![
            (super::super::log::encode_key("tx"), Some(txn.value().encode())),
            (super::super::log::encode_key("gone"), Some(txn.value().encode())),
            (super::super::log::encode_key("gone"), None),
            (vec![0, 9], Some(vec![1])),
        ];
        c.load(records);
        assert_eq!(c.get("tx"), Some(&txn));
        assert!(c.get("gone").is_none());
        assert_eq!(c.by_producer(9).map(|t| t.transactional_id.as_str()), Some("tx"));
    }
}
