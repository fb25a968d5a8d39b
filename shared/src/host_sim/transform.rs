//! The simulator's transactional workload: a consume-transform-produce application, as Kafka
//! Streams' exactly-once mode runs one. The transformer reads a few records of the workload's
//! topic read_committed from its position, writes each upper-cased to `OUTPUT_TOPIC` in a
//! transaction, sends the consumed offsets to the same transaction (`TRANSFORM_GROUP`), and
//! commits — or aborts, or crashes mid-transaction and comes back as a new instance (which
//! fences the old one and resumes from the group's committed offsets). Faults of the run meet it
//! anywhere: restarts, power cuts, failing writes, stopped brokers, clock jumps past its timeout.
//!
//! The checker then reads the output read_committed and judges: nothing of an aborted
//! transaction is visible, every committed transaction is visible whole, a transaction whose
//! outcome the transformer never heard is all or nothing, and — exactly once — the outputs
//! visible are exactly the transforms of the input records below the group's committed offsets,
//! each once. A power cut without fsync may leave a transaction hanging — the coordinator lost
//! it, the output partition kept its records, and its producer id is never heard from again —
//! which holds that partition's last stable offset below it for good, as in Kafka (whose answer is
//! `kafka-transactions.sh abort`, KIP-664): records behind it are not judged missing then.

use std::collections::{BTreeMap, BTreeSet};

use super::{PARTITIONS, Sim, TOPIC};
use crate::api::{Command, GroupOffset, IdempotentProducer, IsolationLevel, Reply};
use crate::limits::MAX_FETCH_RECORDS;
use crate::random::Rng;

/// The topic the transformer writes to.
pub const OUTPUT_TOPIC: &str = "shipments";
/// Its partitions.
pub const OUTPUT_PARTITIONS: i32 = 2;
/// The transformer's consumer group (its offsets are sent in its transactions).
pub const TRANSFORM_GROUP: &str = "transformer";
/// The transformer's `transactional.id`.
pub const TRANSACTIONAL_ID: &str = "transformer";
/// Input records one transaction takes at most.
pub const MAX_RECORDS_PER_TRANSACTION: u32 = 3;
/// One transform step in this many aborts its transaction instead of committing it.
pub const ABORT_ONE_IN: u64 = 5;
/// One transform step in this many crashes the transformer (it comes back as a new instance).
pub const CRASH_ONE_IN: u64 = 8;
/// Mixed into the seed for the transformer's own stream of choices, so a seed's other choices
/// are those of the same seed without it.
const TRANSFORM_STREAM: u64 = 0x7472_616e_7366_6f72;

/// How a transaction ended, as far as the transformer heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Still open.
    Open,
    /// EndTxn(commit) answered.
    Committed,
    /// EndTxn(abort) answered, or the transformer crashed with it open (its next instance's
    /// InitProducerId aborts it).
    Aborted,
    /// A request of it failed: committed or aborted, the transformer cannot tell.
    Unknown,
}

/// One transaction of the transformer.
pub(super) struct Txn {
    /// The era it began in (a power cut without fsync may take what a lossy era wrote).
    era: u32,
    /// The values it wrote (`OUTPUT_TOPIC`).
    outputs: Vec<String>,
    outcome: Outcome,
}

/// The consume-transform-produce application.
pub(super) struct Transformer {
    rng: Rng,
    /// Its transactional producer, once InitTransactions answered; `None` after a crash or an
    /// error (the next step starts a new instance).
    producer: Option<IdempotentProducer>,
    /// The next input offset per partition, from the group's committed offsets at the start.
    positions: BTreeMap<i32, i64>,
    /// The open transaction (an index into `txns`), the partition it read and where its input
    /// ends.
    open: Option<(usize, i32, i64)>,
    txns: Vec<Txn>,
}

impl Transformer {
    pub(super) fn new(seed: u64) -> Transformer {
        Transformer {
            rng: Rng::from_seed(seed ^ TRANSFORM_STREAM),
            producer: None,
            positions: BTreeMap::new(),
            open: None,
            txns: Vec::new(),
        }
    }

    /// The open transaction ends as `outcome`; the instance is gone when it was an error.
    fn ended(&mut self, outcome: Outcome) {
        if let Some((index, _, _)) = self.open.take() {
            self.txns[index].outcome = outcome;
        }
        if outcome == Outcome::Unknown {
            self.producer = None;
        }
    }

    /// Transactions by outcome: (committed, aborted, unknown).
    pub(super) fn counts(&self) -> (usize, usize, usize) {
        let count = |o: Outcome| self.txns.iter().filter(|t| t.outcome == o).count();
        (count(Outcome::Committed), count(Outcome::Aborted), count(Outcome::Unknown))
    }
}

impl Sim {
    /// The output topic, at the start of a transactional run.
    pub(super) fn create_output_topic(&mut self) {
        let create = Command::CreateTopic {
            name: OUTPUT_TOPIC.into(),
            partitions: OUTPUT_PARTITIONS,
            configs: BTreeMap::from([(
                "min.insync.replicas".to_string(),
                self.config.brokers.min(2).to_string(),
            )]),
            replication_factor: Some(self.config.brokers as i16),
        };
        let reply = self.ask(create);
        if !matches!(reply, Reply::TopicCreated { .. }) {
            self.violations.push(format!("{OUTPUT_TOPIC} is not created: {reply:?}"));
        }
    }

    /// One step of the transformer: a new instance, a transaction begun, or the open one ended
    /// (or a crash).
    pub(super) fn transform(&mut self) {
        let Some(mut transformer) = self.transformer.take() else { return };
        if transformer.rng.next_u64().is_multiple_of(CRASH_ONE_IN) {
            if transformer.producer.is_some() {
                self.log("the transformer crashes".into());
            }
            // Its open transaction is aborted by the next instance's InitProducerId.
            transformer.ended(Outcome::Aborted);
            transformer.producer = None;
        } else if transformer.producer.is_none() {
            self.start_transformer(&mut transformer);
        } else if transformer.open.is_none() {
            self.begin_transform(&mut transformer);
        } else {
            self.end_transform(&mut transformer);
        }
        self.transformer = Some(transformer);
    }

    /// A new instance: InitTransactions (fencing the old one, aborting what it left open), then
    /// the group's committed offsets as its positions.
    fn start_transformer(&mut self, t: &mut Transformer) {
        let init = Command::InitTransactions {
            transactional_id: TRANSACTIONAL_ID.into(),
            transaction_timeout_ms: None,
        };
        let (producer_id, producer_epoch) = match self.ask(init) {
            Reply::ProducerIdInitialized { producer_id, producer_epoch } => (producer_id, producer_epoch),
            other => return self.log(format!("transformer: init_transactions → {}", name(&other))),
        };
        let positions = match self.ask(Command::DescribeGroup { group: TRANSFORM_GROUP.into() }) {
            Reply::GroupDescribed { offsets, .. } => offsets
                .iter()
                .filter(|row| row.topic == TOPIC)
                .filter_map(|row| Some((row.partition, row.current_offset?)))
                .collect(),
            Reply::Error(e) if e.error == crate::error::ErrorCode::GroupIdNotFound => BTreeMap::new(),
            other => return self.log(format!("transformer: describe_group → {}", name(&other))),
        };
        self.log(format!("transformer: a new instance, producer {producer_id} epoch {producer_epoch}, positions {positions:?}"));
        t.positions = positions;
        t.producer = Some(IdempotentProducer {
            producer_id,
            producer_epoch,
            sequences: Vec::new(),
            transactional_id: Some(TRANSACTIONAL_ID.into()),
        });
    }

    /// A transaction: a few input records read committed, each transformed into the output,
    /// and the offsets after them sent with it.
    fn begin_transform(&mut self, t: &mut Transformer) {
        let partition = (t.rng.next_u64() % PARTITIONS as u64) as i32;
        let from = t.positions.get(&partition).copied().unwrap_or(0);
        let fetch = Command::Fetch {
            topic: TOPIC.into(),
            partition,
            offset: from,
            max_records: MAX_RECORDS_PER_TRANSACTION,
            key_deserializer: Default::default(),
            value_deserializer: Default::default(),
            isolation_level: IsolationLevel::ReadCommitted,
        };
        let records = match self.ask(fetch) {
            Reply::Records { records, .. } => records,
            // An offset the log no longer has (a power cut took the tail): start where it ends.
            other => {
                return self.log(format!("transformer: fetch {TOPIC}-{partition}@{from} → {}", name(&other)));
            }
        };
        let Some(last) = records.last().map(|r| r.offset) else { return };
        let index = t.txns.len();
        t.txns.push(Txn { era: self.era, outputs: Vec::new(), outcome: Outcome::Open });
        t.open = Some((index, partition, last + 1));
        for record in records {
            let Some(mut producer) = t.producer.clone() else { return };
            // The input's value upper-cased, and the transaction's number: a retried input's
            // output is told apart from its aborted attempt's.
            let output = format!("{}#{index}", record.value.unwrap_or_default().to_uppercase());
            let mut produce = Command::produce_text(OUTPUT_TOPIC, None, record.key, &output);
            if let Command::Produce { producer: sent_by, .. } = &mut produce {
                *sent_by = Some(producer.clone());
            }
            // Written (or maybe written) before the answer: the checker must find it in the
            // transaction's outcome either way.
            t.txns[index].outputs.push(output.clone());
            match self.ask(produce) {
                Reply::Produced { partition: written, idempotent: Some(write), .. } => {
                    producer.wrote(written, &write);
                    t.producer = Some(producer);
                }
                other => {
                    self.log(format!("transformer: produce {output} → {}", name(&other)));
                    return t.ended(Outcome::Unknown);
                }
            }
        }
        let Some(producer) = t.producer.clone() else { return };
        let send = Command::SendOffsetsToTransaction {
            transactional_id: TRANSACTIONAL_ID.into(),
            producer_id: producer.producer_id,
            producer_epoch: producer.producer_epoch,
            group: TRANSFORM_GROUP.into(),
            offsets: vec![GroupOffset { topic: TOPIC.into(), partition, offset: last + 1 }],
        };
        match self.ask(send) {
            Reply::OffsetsSent { .. } => {
                let outputs = t.txns[index].outputs.join(",");
                self.log(format!(
                    "transformer: {TOPIC}-{partition}@{from}..{last} → {outputs}, offset {} sent",
                    last + 1
                ));
            }
            other => {
                self.log(format!("transformer: send offsets → {}", name(&other)));
                t.ended(Outcome::Unknown);
            }
        }
    }

    /// The open transaction committed (or, one time in `ABORT_ONE_IN`, aborted).
    fn end_transform(&mut self, t: &mut Transformer) {
        let (Some(producer), Some((_, partition, next))) = (t.producer.clone(), t.open) else { return };
        let commit = !t.rng.next_u64().is_multiple_of(ABORT_ONE_IN);
        let end = Command::EndTransaction {
            transactional_id: TRANSACTIONAL_ID.into(),
            producer_id: producer.producer_id,
            producer_epoch: producer.producer_epoch,
            commit,
        };
        match self.ask(end) {
            Reply::TransactionEnded { committed, .. } => {
                self.log(format!("transformer: {}", if committed { "commit" } else { "abort" }));
                if committed {
                    t.positions.insert(partition, next);
                    t.ended(Outcome::Committed);
                } else {
                    t.ended(Outcome::Aborted);
                }
            }
            other => {
                self.log(format!("transformer: end_transaction → {}", name(&other)));
                t.ended(Outcome::Unknown);
            }
        }
    }

    /// The values of output `partition` from `offset` on as `isolation` reads them, and where
    /// the read stopped; `Err` naming the answer that was not records.
    fn read_partition(
        &mut self,
        partition: i32,
        mut offset: i64,
        isolation_level: IsolationLevel,
    ) -> Result<(Vec<String>, i64), String> {
        let mut values = Vec::new();
        loop {
            let fetch = Command::Fetch {
                topic: OUTPUT_TOPIC.into(),
                partition,
                offset,
                max_records: MAX_FETCH_RECORDS,
                key_deserializer: Default::default(),
                value_deserializer: Default::default(),
                isolation_level,
            };
            match self.ask(fetch) {
                Reply::Records { records, .. } if !records.is_empty() => {
                    offset = records.last().map_or(offset, |r| r.offset + 1);
                    values.extend(records.into_iter().map(|r| r.value.unwrap_or_default()));
                }
                Reply::Records { .. } => return Ok((values, offset)),
                other => return Err(format!("{other:?}")),
            }
        }
    }

    /// The output read from every partition's start, read committed: values in offset order;
    /// and the values written after where a partition's read committed stops (behind an open
    /// transaction).
    fn read_output(&mut self) -> (Vec<String>, BTreeSet<String>) {
        let (mut values, mut held) = (Vec::new(), BTreeSet::new());
        for partition in 0..OUTPUT_PARTITIONS {
            match self.read_partition(partition, 0, IsolationLevel::ReadCommitted) {
                Ok((committed, stopped)) => {
                    values.extend(committed);
                    let behind = self.read_partition(partition, stopped, IsolationLevel::ReadUncommitted);
                    held.extend(behind.map(|(v, _)| v).unwrap_or_default());
                }
                Err(other) => self
                    .violations
                    .push(format!("{OUTPUT_TOPIC}-{partition} cannot be read after healing: {other}")),
            }
        }
        (values, held)
    }

    /// The group's committed offsets after healing, per input partition.
    fn committed_positions(&mut self) -> BTreeMap<i32, i64> {
        match self.ask(Command::DescribeGroup { group: TRANSFORM_GROUP.into() }) {
            Reply::GroupDescribed { offsets, .. } => offsets
                .iter()
                .filter(|row| row.topic == TOPIC)
                .filter_map(|row| Some((row.partition, row.current_offset?)))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// What a read_committed reader finds of the transformer's work, judged (see the module's
    /// doc). `finals` is the input as read after healing, before the admin checks change it.
    pub(super) fn check_transform(&mut self, finals: &BTreeMap<i32, BTreeMap<i64, String>>) {
        let Some(t) = self.transformer.take() else { return };
        let (visible, held) = self.read_output();
        let committed = self.committed_positions();
        let shown: BTreeSet<&str> = visible.iter().map(String::as_str).collect();
        // Each input's transforms visible, whichever transaction wrote them.
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for value in &visible {
            *count.entry(input_of(value)).or_default() += 1;
        }
        // A power cut without fsync may take any of a lossy era's writes — records, markers,
        // offsets — so what follows holds only for transactions no such cut could reach.
        let lossy = |era: u32| self.lossy_eras.range(era..).next().is_some();
        let mut violations = Vec::new();
        // A lossy cut can leave a transaction hanging, holding a partition's last stable offset.
        let hung = !self.lossy_eras.is_empty();
        for (number, txn) in t.txns.iter().enumerate() {
            let held_rest =
                hung && txn.outputs.iter().all(|o| shown.contains(o.as_str()) || held.contains(o));
            // Judged: no lossy cut could reach it, and what is missing is not held behind a hung one.
            let judged = !lossy(txn.era) && !held_rest;
            let shown = txn.outputs.iter().filter(|o| shown.contains(o.as_str())).count();
            let whole = shown == txn.outputs.len();
            match txn.outcome {
                // A lossy cut may take the ABORT marker and the coordinator's decision with it:
                // the transaction is open again, and a later commit of the producer takes it.
                Outcome::Aborted if shown > 0 && !lossy(txn.era) => violations.push(format!(
                    "transaction {number} of {TRANSACTIONAL_ID} was aborted, yet {shown} of its records {:?} are read committed",
                    txn.outputs
                )),
                // What is missing may be held behind a transaction a lossy cut left hanging.
                Outcome::Committed if !whole && judged => violations.push(format!(
                    "transaction {number} of {TRANSACTIONAL_ID} was committed, yet only {shown} of its records {:?} are read committed",
                    txn.outputs
                )),
                Outcome::Unknown | Outcome::Open if shown > 0 && !whole && judged => violations.push(format!(
                    "transaction {number} of {TRANSACTIONAL_ID} is read committed in part: {shown} of {:?}",
                    txn.outputs
                )),
                _ => {}
            }
        }
        if self.lossy_eras.is_empty() {
            // Exactly once: the outputs visible are the inputs below the committed offsets,
            // transformed, each once.
            let expected: BTreeSet<String> = finals
                .iter()
                .flat_map(|(p, log)| {
                    let below = committed.get(p).copied().unwrap_or(0);
                    log.range(..below).map(|(_, value)| value.to_uppercase())
                })
                .collect();
            for (value, n) in &count {
                if *n > 1 {
                    violations.push(format!(
                        "{value} is read committed {n} times in {OUTPUT_TOPIC}: not exactly once"
                    ));
                }
                if !expected.contains(*value) {
                    violations.push(format!(
                        "{value} is read committed in {OUTPUT_TOPIC}, but its input is not below {TRANSFORM_GROUP}'s committed offsets {committed:?}"
                    ));
                }
            }
            for value in expected.iter().filter(|v| !count.contains_key(v.as_str())) {
                violations.push(format!(
                    "the input of {value} is below {TRANSFORM_GROUP}'s committed offsets {committed:?}, but {value} is not read committed"
                ));
            }
        }
        let (c, a, u) = t.counts();
        self.log(format!(
            "transformer: {c} committed, {a} aborted, {u} unknown; {} records read committed",
            visible.len()
        ));
        self.violations.extend(violations);
    }
}

/// The input value an output was transformed from (`V7#3` → `V7`).
fn input_of(output: &str) -> &str {
    output.split_once('#').map_or(output, |(input, _)| input)
}

/// A reply's kind, or its Kafka error name, for the trace.
fn name(reply: &Reply) -> String {
    match reply {
        Reply::Error(e) => e.error.name().to_string(),
        other => format!("{other:?}").split_whitespace().next().unwrap_or_default().to_string(),
    }
}
