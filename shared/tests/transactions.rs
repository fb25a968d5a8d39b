//! Transactions across a restart: the coordinator's state comes back from `__transaction_state`,
//! each partition's open transactions and aborted ones from its own log (the last stable offset
//! held where it was), and offsets sent in a transaction not yet decided from
//! `__consumer_offsets` — committed with the transaction when it commits after the restart.

#![cfg(not(target_arch = "wasm32"))]

use kite_shared::api::{
    Command, GroupOffset, IdempotentProducer, IsolationLevel, PartitionRef, Reply, TxnMark,
};
use kite_shared::cluster::Cluster;
use kite_shared::group::offsets_topic::OffsetCommitValue;
use kite_shared::ids::TopicPartition;
use kite_shared::log::producer_state::AbortedTxn;
use kite_shared::log::storage::{FileMap, Journal, apply_ops};
use kite_shared::log::txn_index::TxnIndexEntry;
use kite_shared::record::batch::{BatchRecord, RecordBatch};
use kite_shared::txn::log::TxnState;
use kite_shared::txn::marker::MarkerKind;

const T0: i64 = 1_700_000_000_000;
const TIMEOUT_MS: i32 = 60_000;

mod common;

/// A three-broker cluster on `files`, its writes going to `journal`.
fn open(files: &FileMap, journal: &Journal) -> Cluster {
    common::open_three_brokers(files, journal, T0)
}

/// A transactional batch of `values` to orders-0.
fn produce(cluster: &mut Cluster, (producer_id, epoch): (i64, i16), sequence: i32, values: &[&str]) -> i64 {
    let records = (0..)
        .zip(values)
        .map(|(delta, v)| BatchRecord {
            offset_delta: delta,
            value: Some(v.as_bytes().to_vec()),
            ..Default::default()
        })
        .collect();
    let mut batch = RecordBatch::new(T0, records);
    (batch.producer_id, batch.producer_epoch, batch.base_sequence) = (producer_id, epoch, sequence);
    batch.attributes.transactional = true;
    match common::produce_batch(cluster, ("orders", 0), &batch, T0) {
        Reply::ProducedRecords { batches, .. } => batches[0].base_offset,
        other => panic!("{other:?}"),
    }
}

/// A read_committed fetch of orders-0: (last stable offset, aborted transactions).
fn committed_view(cluster: &mut Cluster) -> (i64, Vec<AbortedTxn>) {
    let fetch = Command::FetchRecords {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_bytes: None,
        isolation_level: IsolationLevel::ReadCommitted,
    };
    match cluster.handle(T0, fetch) {
        Reply::RecordBatches { last_stable_offset, aborted_transactions, .. } => {
            (last_stable_offset, aborted_transactions)
        }
        other => panic!("{other:?}"),
    }
}

/// Creates `orders`: one partition, three replicas.
fn create_orders(cluster: &mut Cluster) {
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));
}

/// Up to 100 records of orders-0 from its start, as Kite's `fetch` reads them.
fn fetch_orders(isolation_level: IsolationLevel) -> Command {
    Command::Fetch {
        topic: "orders".into(),
        partition: 0,
        offset: 0,
        max_records: 100,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
        isolation_level,
    }
}

fn orders_0() -> TopicPartition {
    TopicPartition { topic: "orders".into(), partition: 0 }
}

#[test]
fn transactions_come_back_after_a_restart() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    create_orders(&mut cluster);

    // "aborter" aborts a transaction; "open" leaves one open with offsets sent for "billing".
    let aborter = cluster.init_transactional_producer(T0, "aborter", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "aborter", aborter, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, aborter, 0, &["lost"]), 0);
    cluster.end_txn(T0, "aborter", aborter, false).unwrap();
    let open_id = cluster.init_transactional_producer(T0, "open", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "open", open_id, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, open_id, 0, &["pending"]), 2);
    cluster.add_offsets_to_txn(T0, "open", open_id, "billing").unwrap();
    let offset =
        OffsetCommitValue { offset: 3, leader_epoch: -1, metadata: String::new(), commit_timestamp: T0 };
    cluster.txn_offset_commit(T0, "open", open_id, ("billing", "", -1), vec![(orders_0(), offset)]).unwrap();
    let before = committed_view(&mut cluster);
    assert_eq!(before, (2, vec![AbortedTxn { producer_id: aborter.0, first_offset: 0, last_offset: 1 }]));

    // A crash: only what was written comes back.
    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let mut cluster = open(&files, &journal);
    let states: Vec<(String, TxnState)> =
        cluster.transactions().into_iter().map(|t| (t.transactional_id, t.state)).collect();
    assert_eq!(states, [("aborter".into(), TxnState::CompleteAbort), ("open".into(), TxnState::Ongoing)]);
    assert_eq!(
        committed_view(&mut cluster),
        before,
        "the open transaction still holds the last stable offset"
    );
    assert!(cluster.committed_offsets("billing").is_empty(), "the transaction's offsets wait on it");

    // It commits after the restart: its records and its offsets become visible together.
    cluster.end_txn(T0, "open", open_id, true).unwrap();
    assert_eq!(committed_view(&mut cluster).0, 4, "the record and its COMMIT marker");
    let committed: Vec<i64> =
        cluster.committed_offsets("billing").into_iter().map(|(_, v)| v.offset).collect();
    assert_eq!(committed, [3]);
    // A new instance of "aborter" after the restart: the epoch goes on from where it was.
    let again = cluster.init_transactional_producer(T0, "aborter", TIMEOUT_MS, None).unwrap();
    assert_eq!(again, (aborter.0, aborter.1 + 1));
}

/// Every replica's log keeps its aborted transactions in Kafka's `.txnindex` (34-byte entries in
/// the segment holding the ABORT marker); a commit writes none. An index that is torn, of an
/// unknown version, or naming a marker the log lost is rebuilt from the log's markers at open,
/// and read_committed fetches still skip the aborted records.
#[test]
fn every_replica_keeps_aborted_transactions_in_its_txnindex() {
    let journal = Journal::default();
    let mut cluster = open(&FileMap::new(), &journal);
    create_orders(&mut cluster);
    let aborter = cluster.init_transactional_producer(T0, "aborter", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "aborter", aborter, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, aborter, 0, &["lost", "gone"]), 0);
    cluster.end_txn(T0, "aborter", aborter, false).unwrap();
    let keeper = cluster.init_transactional_producer(T0, "keeper", TIMEOUT_MS, None).unwrap();
    cluster.add_partitions_to_txn(T0, "keeper", keeper, &[orders_0()]).unwrap();
    assert_eq!(produce(&mut cluster, keeper, 0, &["kept"]), 3);
    cluster.end_txn(T0, "keeper", keeper, true).unwrap();

    let mut files = FileMap::new();
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    let key =
        |broker: usize| (format!("broker-{broker}/orders-0"), "00000000000000000000.txnindex".to_string());
    let aborted = AbortedTxn { producer_id: aborter.0, first_offset: 0, last_offset: 2 };
    let entry = TxnIndexEntry { txn: aborted, last_stable_offset: 3 };
    for broker in 0..3 {
        assert_eq!(files.get(&key(broker)), Some(&entry.encode().to_vec()), "broker {broker}'s index");
    }
    let view = (5, vec![aborted]);
    assert_eq!(committed_view(&mut cluster), view);

    // Broken three ways: torn, an unknown version, a marker past the log's end.
    files.insert(key(0), entry.encode()[..30].to_vec());
    let mut versioned = entry.encode();
    versioned[1] = 7;
    files.insert(key(1), versioned.to_vec());
    let lost = TxnIndexEntry { txn: AbortedTxn { last_offset: 99, ..aborted }, ..entry };
    files.insert(key(2), [entry.encode(), lost.encode()].concat());
    let mut cluster = open(&files, &journal);
    assert_eq!(committed_view(&mut cluster), view, "rebuilt from the markers");
    apply_ops(&mut files, journal.lock().unwrap().drain(..));
    for broker in 0..3 {
        assert_eq!(
            files.get(&key(broker)),
            Some(&entry.encode().to_vec()),
            "broker {broker}'s index rebuilt"
        );
    }
}

/// `produce` with a transactional id, then `end_transaction`, through Kite's own commands (as the
/// UI, the CLI and scenarios use them): a read_committed `fetch` and a read_committed consumer
/// see the committed record only, never the aborted one nor one still open; read_uncommitted sees
/// them all. `send_offsets_to_transaction` commits a group's offset with the transaction.
#[test]
fn kites_own_commands_write_and_read_transactions() {
    let mut cluster = Cluster::replicated_in_memory(3, 3, T0);
    create_orders(&mut cluster);
    let init = Command::InitTransactions { transactional_id: "shop".into(), transaction_timeout_ms: None };
    let Reply::ProducerIdInitialized { producer_id, producer_epoch } = cluster.handle(T0, init) else {
        panic!()
    };
    let mut producer = IdempotentProducer {
        producer_id,
        producer_epoch,
        sequences: Vec::new(),
        transactional_id: Some("shop".into()),
    };
    let mut send = |cluster: &mut Cluster, value: &str| {
        let mut produce = Command::produce_text("orders", Some(0), None, value);
        if let Command::Produce { producer: p, .. } = &mut produce {
            *p = Some(producer.clone());
        }
        match cluster.handle(T0, produce) {
            Reply::Produced { partition, idempotent: Some(write), .. } => producer.wrote(partition, &write),
            other => panic!("{other:?}"),
        }
    };
    let end = |cluster: &mut Cluster, commit: bool| {
        let end =
            Command::EndTransaction { transactional_id: "shop".into(), producer_id, producer_epoch, commit };
        assert_eq!(
            cluster.handle(T0, end),
            Reply::TransactionEnded { transactional_id: "shop".into(), committed: commit }
        );
    };
    send(&mut cluster, "kept");
    let offsets = vec![GroupOffset { topic: "orders".into(), partition: 0, offset: 1 }];
    let send_offsets = Command::SendOffsetsToTransaction {
        transactional_id: "shop".into(),
        producer_id,
        producer_epoch,
        group: "readers".into(),
        offsets,
    };
    assert_eq!(cluster.handle(T0, send_offsets), Reply::OffsetsSent { group: "readers".into() });
    end(&mut cluster, true);
    send(&mut cluster, "dropped");
    end(&mut cluster, false);
    send(&mut cluster, "open");

    let values = |cluster: &mut Cluster, isolation_level| {
        let fetch = fetch_orders(isolation_level);
        let Reply::Records { records, .. } = cluster.handle(T0, fetch) else { panic!() };
        records.into_iter().filter_map(|r| r.value).collect::<Vec<_>>()
    };
    assert_eq!(values(&mut cluster, IsolationLevel::ReadCommitted), ["kept"]);
    // Read uncommitted, each record says where its transaction is, and the markers are named.
    let fetch = fetch_orders(IsolationLevel::ReadUncommitted);
    let Reply::Records { records, markers, .. } = cluster.handle(T0, fetch) else { panic!() };
    let marks: Vec<_> = records.iter().map(|r| (r.offset, r.transaction)).collect();
    assert_eq!(marks, [(0, Some(TxnMark::Committed)), (2, Some(TxnMark::Aborted)), (4, Some(TxnMark::Open))]);
    let kinds: Vec<_> = markers.iter().map(|m| (m.offset, m.kind)).collect();
    assert_eq!(kinds, [(1, MarkerKind::Commit), (3, MarkerKind::Abort)]);
    let Reply::Topics { topics } = cluster.handle(T0, Command::ListTopics) else { panic!() };
    let orders = topics.iter().find(|t| t.name == "orders").unwrap();
    assert_eq!(orders.partitions[0].last_stable_offset, Some(4), "held below the high watermark 5");
    assert_eq!(values(&mut cluster, IsolationLevel::ReadUncommitted), ["kept", "dropped", "open"]);
    let committed: Vec<i64> =
        cluster.committed_offsets("readers").into_iter().map(|(_, v)| v.offset).collect();
    assert_eq!(committed, [1], "the group's offset committed with the transaction");

    // A read_committed consumer of its own, and a read_uncommitted one.
    let polled = |cluster: &mut Cluster, isolation_level| {
        consume(cluster, (None, isolation_level), (10, 100)).1.into_iter().filter_map(|r| r.record.value)
    };
    assert_eq!(polled(&mut cluster, IsolationLevel::ReadCommitted).collect::<Vec<_>>(), ["kept"]);
    let all: Vec<_> = polled(&mut cluster, IsolationLevel::ReadUncommitted).collect();
    assert_eq!(all, ["kept", "dropped", "open"]);

    // A member of "readers" (committed offset 1) that reads committed lags to the last stable
    // offset (4); one that reads uncommitted to the high watermark (5). It polls past the
    // group's initial rebalance delay (3 s), so it owns the partition.
    let lag = |cluster: &mut Cluster, isolation_level| {
        let (consumer, _) = consume(cluster, (Some("readers"), isolation_level), (20, 500));
        let Reply::GroupDescribed { offsets, .. } =
            cluster.handle(T0, Command::DescribeGroup { group: "readers".into() })
        else {
            panic!()
        };
        let _ = cluster.handle(T0, Command::CloseConsumer { consumer });
        offsets
            .iter()
            .map(|o| (o.current_offset, o.last_stable_offset, o.read_committed, o.lag))
            .collect::<Vec<_>>()
    };
    assert_eq!(lag(&mut cluster, IsolationLevel::ReadCommitted), [(Some(1), 4, true, Some(3))]);
    assert_eq!(lag(&mut cluster, IsolationLevel::ReadUncommitted), [(Some(1), 4, false, Some(4))]);

    let Reply::Transactions { transactions } = cluster.handle(T0, Command::DescribeTransactions) else {
        panic!()
    };
    assert_eq!(transactions.len(), 1);
    assert_eq!((transactions[0].state.as_str(), transactions[0].partitions.len()), ("Ongoing", 1));
}

/// Opens a consumer of orders that commits nothing itself — in `group` (subscribed), or assigned
/// orders-0 — and polls it `rounds` times, `step_ms` apart, the cluster ticking between: the
/// consumer and what it read.
fn consume(
    cluster: &mut Cluster,
    (group, isolation_level): (Option<&str>, IsolationLevel),
    (rounds, step_ms): (i64, i64),
) -> (u32, Vec<kite_shared::api::PolledRecord>) {
    let (topics, partitions) = match group {
        Some(_) => (vec!["orders".to_string()], Vec::new()),
        None => (Vec::new(), vec![PartitionRef { topic: "orders".into(), partition: 0 }]),
    };
    let open = Command::OpenConsumer {
        group: group.map(str::to_string),
        topics,
        partitions,
        client_id: None,
        auto_offset_reset: Some("earliest".into()),
        assignors: Vec::new(),
        enable_auto_commit: Some(false),
        session_timeout_ms: None,
        isolation_level,
    };
    let Reply::ConsumerOpened { consumer } = cluster.handle(T0, open) else { panic!("not opened") };
    let mut read = Vec::new();
    for round in 1..=rounds {
        let now = T0 + round * step_ms;
        cluster.tick(now);
        let poll = Command::Poll {
            consumer,
            max_records: None,
            key_deserializer: Default::default(),
            value_deserializer: Default::default(),
        };
        if let Reply::Polled { records, .. } = cluster.handle(now, poll) {
            read.extend(records);
        }
    }
    (consumer, read)
}
