//! Brokers added to and removed from a running cluster, through the cluster front and over a
//! disk opened the way `kite serve` opens its data directory (`layout::open`): a new broker gets
//! the next id and holds nothing; a removed one's replicas move to the others before the
//! controller unregisters it; every record stays readable; and the membership survives a restart.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use kite_shared::api::{BrokerView, Command, Reply};
use kite_shared::cluster::layout::{self, Count, DEFAULT_QUORUM};
use kite_shared::cluster::{Cluster, StorageOptions};
use kite_shared::error::ErrorCode;
use kite_shared::log::power_cut::PowerCutDisk;

const T0: i64 = 1_700_000_000_000;
const PARTITIONS: i32 = 3;
const RECORDS: usize = 30;
/// Long enough for new replicas to catch up and the controller to complete every move.
const SETTLE_MS: i64 = 5_000;

fn open(disk: &PowerCutDisk, now_ms: i64) -> Cluster {
    let (mut cluster, _, _) =
        layout::open(7, now_ms, &mut disk.clone(), Count::ForNew(3), DEFAULT_QUORUM, StorageOptions::MEMORY)
            .unwrap_or_else(|e| panic!("cannot open: {e}"));
    cluster.allow_faults = true;
    cluster
}

fn brokers(cluster: &mut Cluster, now_ms: i64) -> Vec<BrokerView> {
    let Reply::ClusterDescribed { brokers, .. } = cluster.handle(now_ms, Command::DescribeCluster) else {
        panic!("no description")
    };
    brokers
}

/// Each partition's replicas, in order.
fn replicas(cluster: &mut Cluster, now_ms: i64) -> Vec<Vec<i32>> {
    let Reply::Topics { topics } = cluster.handle(now_ms, Command::ListTopics) else { panic!("no topics") };
    let orders = topics.into_iter().find(|t| t.name == "orders").expect("orders is listed");
    orders.partitions.into_iter().map(|p| p.replicas).collect()
}

/// Every value of `orders`, partition by partition.
fn values(cluster: &mut Cluster, now_ms: i64) -> Vec<String> {
    let mut all = Vec::new();
    for partition in 0..PARTITIONS {
        let fetch = Command::Fetch {
            topic: "orders".into(),
            partition,
            offset: 0,
            max_records: kite_shared::limits::MAX_FETCH_RECORDS,
            key_deserializer: Default::default(),
            value_deserializer: Default::default(),
            isolation_level: Default::default(),
        };
        let Reply::Records { records, .. } = cluster.handle(now_ms, fetch) else { panic!("no records") };
        all.extend(records.into_iter().filter_map(|r| r.value));
    }
    all.sort();
    all
}

fn settle(cluster: &mut Cluster, from_ms: i64) -> i64 {
    let mut now = from_ms;
    while now < from_ms + SETTLE_MS {
        now += 100;
        cluster.tick(now);
    }
    now
}

fn error(reply: Reply) -> ErrorCode {
    match reply {
        Reply::Error(e) => e.error,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_broker_joins_another_leaves_and_nothing_is_lost() {
    let disk = PowerCutDisk::default();
    let mut cluster = open(&disk, T0);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: PARTITIONS,
        configs: BTreeMap::new(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));
    for n in 0..RECORDS {
        let produce =
            Command::produce_text("orders", None, Some(format!("key-{n}")), &format!("order {n:02}"));
        assert!(matches!(cluster.handle(T0, produce), Reply::Produced { .. }));
    }
    let expected = values(&mut cluster, T0);
    assert_eq!(expected.len(), RECORDS);

    // Three brokers hold three replicas of each partition: none can leave yet.
    assert_eq!(
        error(cluster.handle(T0, Command::RemoveBroker { broker: 0 })),
        ErrorCode::InvalidReplicaAssignment
    );
    assert_eq!(cluster.handle(T0, Command::AddBroker { rack: None }), Reply::BrokerAdded { broker: 3 });
    let joined = brokers(&mut cluster, T0);
    assert_eq!(
        joined.iter().map(|b| (b.id, b.state.as_str(), b.replicas)).collect::<Vec<_>>(),
        [(0, "up", 3), (1, "up", 3), (2, "up", 3), (3, "up", 0)]
    );

    // Broker 0 leaves: each partition's replica on it moves to broker 3.
    assert_eq!(
        cluster.handle(T0, Command::RemoveBroker { broker: 0 }),
        Reply::BrokerRemoval { broker: 0, moving: 3 }
    );
    let now = settle(&mut cluster, T0);
    for partition_replicas in replicas(&mut cluster, now) {
        assert!(!partition_replicas.contains(&0), "{partition_replicas:?}");
        assert!(partition_replicas.contains(&3), "{partition_replicas:?}");
    }
    let left: Vec<i32> = brokers(&mut cluster, now).iter().map(|b| b.id).collect();
    assert_eq!(left, [1, 2, 3]);
    assert_eq!(values(&mut cluster, now), expected);
    assert_eq!(
        error(cluster.handle(now, Command::StopBroker { broker: 0 })),
        ErrorCode::BrokerIdNotRegistered
    );
    assert_eq!(
        error(cluster.handle(now, Command::RemoveBroker { broker: 0 })),
        ErrorCode::BrokerIdNotRegistered
    );
    // Its directory stays, empty of partitions: what `broker-0` held moved away.
    let files = disk.process_kill();
    assert!(!files.keys().any(|(dir, _)| dir.starts_with("broker-0/orders-")), "broker-0 kept a partition");

    // Restarted, the cluster is the three brokers it had; a new one gets the next id, not 0's.
    cluster.shutdown().unwrap();
    let mut cluster = open(&disk, now);
    let now = settle(&mut cluster, now);
    let back: Vec<(i32, String)> = brokers(&mut cluster, now).into_iter().map(|b| (b.id, b.state)).collect();
    assert_eq!(back, [(1, "up".to_string()), (2, "up".into()), (3, "up".into())]);
    assert_eq!(values(&mut cluster, now), expected);
    assert_eq!(cluster.handle(now, Command::AddBroker { rack: None }), Reply::BrokerAdded { broker: 4 });
    // A broker that holds nothing leaves at once.
    assert_eq!(
        cluster.handle(now, Command::RemoveBroker { broker: 4 }),
        Reply::BrokerRemoval { broker: 4, moving: 0 }
    );
    let ids: Vec<i32> = brokers(&mut cluster, now).iter().map(|b| b.id).collect();
    assert_eq!(ids, [1, 2, 3]);
}

#[test]
fn the_last_broker_stays() {
    let disk = PowerCutDisk::default();
    let mut cluster = open(&disk, T0);
    // No topics: brokers 0 and 1 hold nothing and leave at once; broker 2 may not.
    for broker in [0, 1] {
        assert_eq!(
            cluster.handle(T0, Command::RemoveBroker { broker }),
            Reply::BrokerRemoval { broker, moving: 0 }
        );
    }
    assert_eq!(error(cluster.handle(T0, Command::RemoveBroker { broker: 2 })), ErrorCode::InvalidRequest);
    let ids: Vec<i32> = brokers(&mut cluster, T0).iter().map(|b| b.id).collect();
    assert_eq!(ids, [2]);
}

#[test]
fn a_leaving_broker_gets_no_new_replicas_and_leaves_once_its_moves_complete() {
    let disk = PowerCutDisk::default();
    let mut cluster = open(&disk, T0);
    let create = |name: &str, replication_factor: i16| Command::CreateTopic {
        name: name.into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: Some(replication_factor),
    };
    assert!(matches!(cluster.handle(T0, create("first", 1)), Reply::TopicCreated { .. }));
    let Reply::Topics { topics } = cluster.handle(T0, Command::ListTopics) else { panic!("no topics") };
    let holder = topics[0].partitions[0].replicas[0];
    // The other brokers cannot fetch from the holder: its replica's move cannot complete.
    let others: Vec<i32> = (0..3).filter(|&b| b != holder).collect();
    for &other in &others {
        let cut = Command::CutLink { from: format!("broker-{holder}"), to: format!("broker-{other}") };
        assert!(matches!(cluster.handle(T0, cut), Reply::ClusterDescribed { .. }));
    }
    assert_eq!(
        cluster.handle(T0, Command::RemoveBroker { broker: holder }),
        Reply::BrokerRemoval { broker: holder, moving: 1 }
    );
    let now = settle(&mut cluster, T0);
    let leaving: Vec<i32> = brokers(&mut cluster, now).iter().filter(|b| b.leaving).map(|b| b.id).collect();
    assert_eq!(leaving, [holder]);
    // Three replicas would need the leaving broker: refused while it leaves.
    assert_eq!(error(cluster.handle(now, create("wide", 3))), ErrorCode::InvalidReplicationFactor);
    assert!(matches!(cluster.handle(now, create("narrow", 2)), Reply::TopicCreated { .. }));
    let Reply::Topics { topics } = cluster.handle(now, Command::ListTopics) else { panic!("no topics") };
    let narrow = topics.iter().find(|t| t.name == "narrow").unwrap();
    assert!(!narrow.partitions[0].replicas.contains(&holder), "a leaving broker got a new replica");
    // The links healed, the move completes and the broker leaves.
    for &other in &others {
        let heal = Command::HealLink { from: format!("broker-{holder}"), to: format!("broker-{other}") };
        assert!(matches!(cluster.handle(now, heal), Reply::ClusterDescribed { .. }));
    }
    let now = settle(&mut cluster, now);
    let ids: Vec<i32> = brokers(&mut cluster, now).iter().map(|b| b.id).collect();
    assert_eq!(ids, others);
}

/// A client cannot grow the cluster without end: past `MAX_BROKERS_PER_CLUSTER` broker ids
/// (removed ones counted, since ids are not given again) `add_broker` is refused by name.
#[test]
fn brokers_are_added_up_to_the_limit() {
    use kite_shared::limits::MAX_BROKERS_PER_CLUSTER;
    let mut cluster = Cluster::replicated_in_memory(3, 3, T0);
    for id in 3..MAX_BROKERS_PER_CLUSTER as i32 {
        assert_eq!(cluster.handle(T0, Command::AddBroker { rack: None }), Reply::BrokerAdded { broker: id });
    }
    assert_eq!(
        cluster.handle(T0, Command::RemoveBroker { broker: 15 }),
        Reply::BrokerRemoval { broker: 15, moving: 0 }
    );
    let Reply::Error(refused) = cluster.handle(T0, Command::AddBroker { rack: None }) else {
        panic!("not refused")
    };
    assert_eq!(refused.error, ErrorCode::PolicyViolation);
    assert!(refused.message.contains("at most 16 brokers, removed ones counted"), "{}", refused.message);
}

/// A broker added on a rack (`kite cluster add-broker --rack`) registers with it; decommissioning
/// a broker then moves its replicas to a broker whose rack the partition's other replicas are not
/// on, before the least loaded one (which, without racks, would have been taken); a rack name
/// `broker.rack` does not take is refused by name.
#[test]
fn a_broker_added_on_a_rack_registers_with_it_and_a_decommission_keeps_racks_apart() {
    let mut cluster = Cluster::replicated_in_memory(3, 3, T0);
    cluster.set_broker_racks(&[Some("a".into()), Some("b".into()), Some("c".into())]);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: Default::default(),
        replication_factor: Some(3),
    };
    assert!(matches!(cluster.handle(T0, create), Reply::TopicCreated { .. }));
    for (rack, id) in [("a", 3), ("c", 4)] {
        let added = cluster.handle(T0, Command::AddBroker { rack: Some(rack.into()) });
        assert_eq!(added, Reply::BrokerAdded { broker: id });
    }
    let now = settle(&mut cluster, T0);
    let racks: Vec<(i32, Option<String>)> =
        brokers(&mut cluster, now).into_iter().map(|b| (b.id, b.rack)).collect();
    assert_eq!(racks[3..], [(3, Some("a".to_string())), (4, Some("c".to_string()))]);
    // Broker 2 (rack c) leaves: 3 and 4 hold nothing, 3 has the lower id, but 4 keeps orders-0 on
    // three racks.
    let removal = cluster.handle(now, Command::RemoveBroker { broker: 2 });
    assert_eq!(removal, Reply::BrokerRemoval { broker: 2, moving: 1 });
    let now = settle(&mut cluster, now);
    let mut placed = replicas(&mut cluster, now).remove(0);
    placed.sort_unstable();
    assert_eq!(placed, [0, 1, 4]);
    let Reply::Error(refused) = cluster.handle(now, Command::AddBroker { rack: Some("a b".into()) }) else {
        panic!("not refused")
    };
    assert_eq!(refused.error, ErrorCode::InvalidRequest);
    assert!(refused.message.starts_with("broker.rack: rack 'a b' has a character"), "{}", refused.message);
}
