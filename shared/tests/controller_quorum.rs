//! The KRaft controller quorum under the hosts' cluster (the tab, `kite serve`): three
//! controllers, the active one the quorum's leader. Stopping it leaves the cluster without a
//! controller until the others notice (their fetch timeout) and elect another — admin changes
//! get NOT_CONTROLLER meanwhile while the brokers go on serving produces; without a majority
//! running nothing in the metadata changes; a restarted host elects at once. The failover's
//! timeline (each controller's role every 250 ms) is a snapshot beside this file.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use kite_shared::api::{Command, ControllerView, Reply};
use kite_shared::cluster::Cluster;
use kite_shared::cluster::METADATA_LOG_FILE;
use kite_shared::cluster::StorageOptions;
use kite_shared::cluster::layout::{self, Count, DEFAULT_QUORUM};
use kite_shared::cluster::quorum_store::{METADATA_LOG_DIR, QUORUM_STATE_FILE, VoterStore};
use kite_shared::error::ErrorCode;
use kite_shared::log::power_cut::PowerCutDisk;
use kite_shared::log::storage::BrokerStore;
use kite_shared::scenario::{Outcome, ScenarioRun, parse};

const T0: i64 = 1_700_000_000_000;
/// How often the timeline looks at the quorum.
const STEP_MS: i64 = 250;
/// How long the timeline runs after the active controller stops.
const TIMELINE_MS: i64 = 5_000;

fn controllers(cluster: &mut Cluster, now_ms: i64) -> Vec<ControllerView> {
    let Reply::ClusterDescribed { controllers, .. } = cluster.handle(now_ms, Command::DescribeCluster) else {
        panic!("no description")
    };
    controllers
}

fn active(cluster: &mut Cluster, now_ms: i64) -> Option<ControllerView> {
    controllers(cluster, now_ms).into_iter().find(|c| c.state == "active")
}

fn create(cluster: &mut Cluster, now_ms: i64, name: &str) -> Reply {
    let command = Command::CreateTopic {
        name: name.into(),
        partitions: 3,
        configs: BTreeMap::new(),
        replication_factor: Some(3),
    };
    cluster.handle(now_ms, command)
}

fn produce(cluster: &mut Cluster, now_ms: i64, value: &str) -> Reply {
    cluster.handle(now_ms, Command::produce_text("orders", None, Some(value.into()), value))
}

fn refused(reply: Reply) -> ErrorCode {
    match reply {
        Reply::Error(e) => e.error,
        other => panic!("not refused: {other:?}"),
    }
}

fn new_cluster() -> Cluster {
    let mut cluster = Cluster::replicated_in_memory(7, 3, T0);
    cluster.allow_faults = true;
    cluster
}

/// One line of the timeline: the time since the stop and each controller's role and epoch.
fn timeline_line(since_ms: i64, quorum: &[ControllerView]) -> String {
    let roles: Vec<String> =
        quorum.iter().map(|c| format!("controller-{} {} e{}", c.id, c.state, c.epoch)).collect();
    format!("+{since_ms:>5} ms  {}\n", roles.join(" · "))
}

#[test]
fn stopping_the_active_controller_elects_another_while_the_brokers_serve() {
    let mut cluster = new_cluster();
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    let first = active(&mut cluster, T0).expect("a new cluster has its active controller at once");
    assert!(matches!(produce(&mut cluster, T0, "before"), Reply::Produced { .. }));

    let stop = Command::StopController { controller: first.id };
    assert!(matches!(cluster.handle(T0, stop), Reply::ClusterDescribed { .. }));
    assert_eq!(refused(create(&mut cluster, T0, "payments")), ErrorCode::NotController);
    // The data plane does not need the controller: the partitions' leaders go on.
    assert!(matches!(produce(&mut cluster, T0, "during"), Reply::Produced { .. }));

    let mut timeline = String::new();
    let mut now = T0;
    let mut without_ms = None;
    while now <= T0 + TIMELINE_MS {
        let quorum = controllers(&mut cluster, now);
        timeline.push_str(&timeline_line(now - T0, &quorum));
        if without_ms.is_none() && quorum.iter().any(|c| c.state == "active") {
            without_ms = Some(now - T0);
        }
        now += STEP_MS;
    }
    expect_test::expect_file!["controller_quorum/failover.timeline"].assert_eq(&timeline);
    let second = active(&mut cluster, now).expect("the two left elect another");
    assert!(second.id != first.id && second.epoch > first.epoch, "{first:?} then {second:?}");
    let without_ms = without_ms.expect("an active controller again within the timeline");
    assert!(without_ms >= 2_000, "not before the followers' fetch timeout (2 s): {without_ms} ms");
    assert!(matches!(create(&mut cluster, now, "payments"), Reply::TopicCreated { .. }));

    // Started again, the old one follows the new one and catches up on the metadata log.
    let start = Command::StartController { controller: first.id };
    assert!(matches!(cluster.handle(now, start), Reply::ClusterDescribed { .. }));
    let later = now + 1_000;
    let quorum = controllers(&mut cluster, later);
    let (old, new) = (&quorum[first.id as usize], &quorum[second.id as usize]);
    assert_eq!((old.state.as_str(), old.epoch), ("follower", new.epoch), "{quorum:?}");
    assert_eq!(old.log_end_offset, new.log_end_offset, "{quorum:?}");
}

#[test]
fn without_a_majority_the_metadata_cannot_change() {
    let mut cluster = new_cluster();
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    let first = active(&mut cluster, T0).expect("an active controller");
    let others: Vec<i32> = (0..3).filter(|&id| id != first.id).collect();
    cluster.handle(T0, Command::StopController { controller: others[0] });
    // One of three stopped: the other two still commit.
    assert!(matches!(create(&mut cluster, T0, "payments"), Reply::TopicCreated { .. }));
    cluster.handle(T0, Command::StopController { controller: others[1] });

    // Alone, the active controller hears from no majority: it resigns after its fetch timeout,
    // and no election can be won.
    let later = T0 + 10_000;
    assert_eq!(active(&mut cluster, later), None);
    assert_eq!(refused(create(&mut cluster, later, "refunds")), ErrorCode::NotController);
    assert!(matches!(produce(&mut cluster, later, "still"), Reply::Produced { .. }));

    // A second voter back makes a majority again.
    cluster.handle(later, Command::StartController { controller: others[0] });
    let after = later + 5_000;
    assert!(active(&mut cluster, after).is_some(), "{:?}", controllers(&mut cluster, after));
    assert!(matches!(create(&mut cluster, after, "refunds"), Reply::TopicCreated { .. }));
}

/// `describe_metadata_log`: the active controller's log, entry by entry with Kafka's record
/// types; after a failover the new leader's LeaderChange in its epoch; a stopped controller's
/// copy read too; offsets outside the log and unknown controllers refused by name.
#[test]
fn the_metadata_log_entry_by_entry() {
    let mut cluster = new_cluster();
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    let log = |cluster: &mut Cluster, now_ms: i64, controller: Option<i32>, from_offset: Option<i64>| {
        cluster.handle(now_ms, Command::DescribeMetadataLog { controller, from_offset, max_entries: None })
    };
    let Reply::MetadataLogDescribed { controller, high_watermark, log_end_offset, entries, .. } =
        log(&mut cluster, T0, None, None)
    else {
        panic!("no metadata log")
    };
    let first = active(&mut cluster, T0).expect("an active controller");
    assert_eq!(controller, first.id);
    assert_eq!((high_watermark, log_end_offset), (first.high_watermark, first.log_end_offset));
    let types: Vec<&str> = entries.iter().map(|e| e.record_type.as_str()).collect();
    assert_eq!(types[0], "LeaderChangeMessage", "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "RegisterBrokerRecord").count(), 3, "{types:?}");
    let topic = types.iter().position(|t| *t == "TopicRecord").expect("the topic's record");
    assert_eq!(types[topic + 1..topic + 4], ["PartitionRecord"; 3], "{types:?}");

    cluster.handle(T0, Command::StopController { controller: first.id });
    // Elections until one is won (the first ones may split the vote).
    let later = (1..=30)
        .map(|s| T0 + s * 1_000)
        .find(|&now_ms| active(&mut cluster, now_ms).is_some())
        .expect("a new active controller within 30 s");
    let Reply::MetadataLogDescribed { controller, entries, .. } = log(&mut cluster, later, None, None) else {
        panic!("no metadata log")
    };
    assert_ne!(controller, first.id);
    let last = entries.last().expect("entries");
    assert_eq!(last.record_type, "LeaderChangeMessage", "the new leader's first entry: {entries:?}");
    assert!(last.epoch > 1, "{last:?}");
    let Reply::MetadataLogDescribed { controller, log_end_offset, .. } =
        log(&mut cluster, later, Some(first.id), Some(0))
    else {
        panic!("no metadata log of the stopped controller")
    };
    assert_eq!((controller, log_end_offset), (first.id, first.log_end_offset));

    assert_eq!(refused(log(&mut cluster, later, None, Some(10_000))), ErrorCode::OffsetOutOfRange);
    assert_eq!(refused(log(&mut cluster, later, Some(7), None)), ErrorCode::InvalidRequest);
    let mut single = Cluster::new(1);
    assert_eq!(refused(log(&mut single, later, None, None)), ErrorCode::InvalidRequest);
}

/// The first moment (in whole seconds after `from`, at most 30 s) `active` names another
/// controller than `not`.
fn elected(cluster: &mut Cluster, from: i64, not: i32) -> (i64, ControllerView) {
    (1..=30)
        .map(|s| from + s * 1_000)
        .find_map(|now_ms| active(cluster, now_ms).filter(|c| c.id != not).map(|c| (now_ms, c)))
        .expect("another active controller within 30 s")
}

/// A paused active controller answers nobody: the others elect another while the brokers
/// serve. Resumed, it is a leader of an old epoch: it learns of the new one and follows.
#[test]
fn a_paused_active_controller_is_replaced_and_follows_when_resumed() {
    let mut cluster = new_cluster();
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    let first = active(&mut cluster, T0).expect("an active controller");
    cluster.handle(T0, Command::PauseController { controller: first.id });
    assert_eq!(refused(create(&mut cluster, T0, "payments")), ErrorCode::NotController);
    assert!(matches!(produce(&mut cluster, T0, "still"), Reply::Produced { .. }));
    let (later, second) = elected(&mut cluster, T0, first.id);
    assert!(second.epoch > first.epoch, "{second:?}");
    let paused = controllers(&mut cluster, later).into_iter().find(|c| c.id == first.id).unwrap();
    assert_eq!((paused.state.as_str(), paused.epoch), ("paused", first.epoch), "frozen as it was");
    assert!(matches!(create(&mut cluster, later, "payments"), Reply::TopicCreated { .. }));

    cluster.handle(later, Command::ResumeController { controller: first.id });
    let after = later + 3_000;
    let quorum = controllers(&mut cluster, after);
    let resumed = quorum.iter().find(|c| c.id == first.id).unwrap();
    assert_eq!(active(&mut cluster, after).map(|c| c.id), Some(second.id), "{quorum:?}");
    assert_eq!((resumed.state.as_str(), resumed.epoch), ("follower", second.epoch), "{quorum:?}");
    assert_eq!(resumed.log_end_offset, second_log_end(&quorum, second.id), "caught up: {quorum:?}");
}

fn second_log_end(quorum: &[ControllerView], id: i32) -> i64 {
    quorum.iter().find(|c| c.id == id).map_or(-1, |c| c.log_end_offset)
}

/// An isolated active controller: no admin reaches it, the others elect another; cut off, it
/// asks for pre-votes (KIP-996) without raising the epoch, so once healed it follows the new
/// leader instead of disrupting it.
#[test]
fn an_isolated_active_controller_is_replaced_and_rejoins_without_disruption() {
    let mut cluster = new_cluster();
    let first = active(&mut cluster, T0).expect("an active controller");
    cluster.handle(T0, Command::IsolateController { controller: first.id });
    assert_eq!(refused(create(&mut cluster, T0, "orders")), ErrorCode::NotController);
    let (later, second) = elected(&mut cluster, T0, first.id);
    let quorum = controllers(&mut cluster, later + 10_000);
    let cut = quorum.iter().find(|c| c.id == first.id).unwrap();
    assert!(cut.isolated && cut.state != "active", "{quorum:?}");
    assert_eq!(active(&mut cluster, later + 10_000).map(|c| c.id), Some(second.id), "{quorum:?}");

    cluster.handle(later + 10_000, Command::HealController { controller: first.id });
    let after = later + 15_000;
    let quorum = controllers(&mut cluster, after);
    let healed = quorum.iter().find(|c| c.id == first.id).unwrap();
    assert_eq!(
        active(&mut cluster, after).map(|c| (c.id, c.epoch)),
        Some((second.id, second.epoch)),
        "{quorum:?}"
    );
    assert_eq!((healed.state.as_str(), healed.isolated), ("follower", false), "{quorum:?}");
    assert!(matches!(create(&mut cluster, after, "orders"), Reply::TopicCreated { .. }));
}

/// A script's `controllers 1`: one controller is a quorum of one, which commits alone and has
/// nobody to fail over to; `controllers 5` survives two stopped.
#[test]
fn a_script_chooses_its_quorum() {
    let play = |text: &str| {
        let script = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let mut cluster = ScenarioRun::cluster_for(&script);
        let mut run = ScenarioRun::new(script);
        let mut failed = Vec::new();
        while let Some(report) = run.step(&mut cluster) {
            if let Outcome::Failed { why, .. } = report.outcome {
                failed.push(format!("line {}: {why}", report.line));
            }
        }
        (controllers(&mut cluster, T0 + 60_000).len(), failed)
    };
    let one = "controllers 1\ntopic orders partitions 1\nexpect controller 0\nstop controller 0\nwait 10s\nexpect controller none\ntopic payments partitions 1\nexpect error NOT_CONTROLLER\nstart controller 0\nwait 1s\nexpect controller 0\ntopic payments partitions 1\nexpect ok\n";
    assert_eq!(play(one), (1, Vec::<String>::new()));
    let five = "controllers 5\nstop controller 0\nstop controller 1\nwait 10s\ntopic orders partitions 1\nexpect ok\n";
    assert_eq!(play(five), (5, Vec::<String>::new()));
}

#[test]
fn controller_faults_are_refused_by_name() {
    let mut cluster = new_cluster();
    let refusal = |reply: Reply| match reply {
        Reply::Error(e) => (e.error, e.message),
        other => panic!("not refused: {other:?}"),
    };
    assert_eq!(
        refusal(cluster.handle(T0, Command::StopController { controller: 3 })),
        (ErrorCode::InvalidRequest, "There is no controller 3: controllers are 0 to 2.".to_string())
    );
    assert_eq!(
        refusal(cluster.handle(T0, Command::StartController { controller: 1 })),
        (ErrorCode::InvalidRequest, "Controller 1 is not stopped.".to_string())
    );
    cluster.handle(T0, Command::StopController { controller: 1 });
    assert_eq!(
        refusal(cluster.handle(T0, Command::StopController { controller: 1 })),
        (ErrorCode::InvalidRequest, "Controller 1 is already stopped.".to_string())
    );
    assert_eq!(
        refusal(cluster.handle(T0, Command::PauseController { controller: 1 })).1,
        "Controller 1 is stopped; start it first."
    );
    assert_eq!(
        refusal(cluster.handle(T0, Command::ResumeController { controller: 2 })).1,
        "Controller 2 is not paused."
    );
    assert_eq!(
        refusal(cluster.handle(T0, Command::HealController { controller: 2 })).1,
        "Controller 2 is not isolated."
    );
    cluster.handle(T0, Command::IsolateController { controller: 2 });
    assert_eq!(
        refusal(cluster.handle(T0, Command::IsolateController { controller: 2 })).1,
        "Controller 2 is already isolated."
    );
    cluster.allow_faults = false;
    assert_eq!(
        refusal(cluster.handle(T0, Command::StartController { controller: 1 })).1,
        "Controller 1: fault injection is off here; start kite serve with --allow-faults."
    );
}

#[test]
fn a_restarted_host_has_its_active_controller_at_once() {
    let disk = PowerCutDisk::default();
    let open = |now_ms: i64| {
        let (cluster, _, _) = layout::open(
            7,
            now_ms,
            &mut disk.clone(),
            Count::ForNew(3),
            DEFAULT_QUORUM,
            StorageOptions::MEMORY,
        )
        .unwrap_or_else(|e| panic!("cannot open: {e}"));
        cluster
    };
    let mut cluster = open(T0);
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    assert!(matches!(produce(&mut cluster, T0, "kept"), Reply::Produced { .. }));

    let before = active(&mut cluster, T0).expect("an active controller");
    cluster.shutdown().expect("a clean stop");
    // Each controller kept its copy of the metadata log and its quorum state, in Kafka's layout.
    for id in 0..3 {
        let files =
            disk.store(&format!("controller-{id}")).partition(METADATA_LOG_DIR).unwrap().list().unwrap();
        for kept in ["00000000000000000000.log", QUORUM_STATE_FILE, "leader-epoch-checkpoint"] {
            assert!(files.contains(&kept.to_string()), "controller-{id}: {files:?}");
        }
    }

    let later = T0 + 60_000;
    let mut reopened = open(later);
    let after = active(&mut reopened, later).expect("an active controller at once");
    assert!(after.epoch > before.epoch, "a new epoch: {before:?} then {after:?}");
    // The log kept, and grown: a LeaderChange, the brokers registering again, their partitions'
    // new states.
    assert!(after.log_end_offset > before.log_end_offset, "{before:?} then {after:?}");
    assert!(matches!(create(&mut reopened, later, "payments"), Reply::TopicCreated { .. }));
    assert!(matches!(produce(&mut reopened, later, "more"), Reply::Produced { .. }));
}

/// One controller kept a vote from an election two epochs on that nobody won (it voted, then
/// the host stopped): the controller with the longest log asks first in an epoch that voter has
/// passed and is refused, learns that epoch, and asks again, so the cluster still opens with an
/// active controller rather than an election timeout later.
#[test]
fn a_host_opens_with_an_active_controller_when_a_voter_kept_a_later_epoch() {
    let disk = PowerCutDisk::default();
    let open = |now_ms: i64| {
        layout::open(7, now_ms, &mut disk.clone(), Count::ForNew(3), DEFAULT_QUORUM, StorageOptions::MEMORY)
            .unwrap_or_else(|e| panic!("cannot open: {e}"))
            .0
    };
    let mut cluster = open(T0);
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    let before = active(&mut cluster, T0).expect("an active controller");
    cluster.shutdown().expect("a clean stop");
    let later_vote = format!(
        r#"{{"clusterId":"","leaderId":-1,"leaderEpoch":{},"votedId":2,"appliedOffset":0,"currentVoters":[{{"voterId":0}},{{"voterId":1}},{{"voterId":2}}],"data_version":0}}"#,
        before.epoch + 2
    );
    let mut kept = disk.store("controller-1").partition(METADATA_LOG_DIR).unwrap();
    kept.write_file(QUORUM_STATE_FILE, later_vote.as_bytes()).unwrap();

    let later = T0 + 60_000;
    let mut reopened = open(later);
    let after = active(&mut reopened, later).expect("an active controller at once");
    assert!(after.epoch > before.epoch + 2, "past the kept vote's epoch: {before:?} then {after:?}");
    assert!(matches!(create(&mut reopened, later, "payments"), Reply::TopicCreated { .. }));
}

#[test]
fn a_data_directory_from_before_the_quorum_opens_with_its_metadata() {
    // A cluster as this Kite keeps it, its metadata read back and written the earlier way: one
    // JSON snapshot in `controller/`, no controller directories.
    let disk = PowerCutDisk::default();
    let (mut cluster, _, _) =
        layout::open(7, T0, &mut disk.clone(), Count::ForNew(3), DEFAULT_QUORUM, StorageOptions::MEMORY)
            .unwrap();
    assert!(matches!(create(&mut cluster, T0, "orders"), Reply::TopicCreated { .. }));
    cluster.shutdown().expect("a clean stop");
    let (_, kept) = VoterStore::open(Box::new(disk.store("controller-0")), &[0, 1, 2]).unwrap();
    let mut lines = String::new();
    for record in kept
        .snapshot
        .iter()
        .flat_map(|s| s.records.iter())
        .chain(kept.log.iter().filter_map(|e| e.record.as_ref()))
    {
        lines.push_str(&serde_json::to_string(record).unwrap());
        lines.push('\n');
    }
    let older = PowerCutDisk::default();
    let mut controller = older.store("controller");
    for name in ["meta.properties", "kite-topics.json"] {
        let bytes = disk.store("controller").read_file(name).unwrap().expect("written");
        controller.write_file(name, &bytes).unwrap();
    }
    controller.write_file(METADATA_LOG_FILE, lines.as_bytes()).unwrap();
    for broker in 0..3 {
        older
            .store(&format!("broker-{broker}"))
            .write_file("recovery-point-offset-checkpoint", b"0\n0\n")
            .unwrap();
    }

    let (mut opened, _, found) =
        layout::open(7, T0, &mut older.clone(), Count::ForNew(3), DEFAULT_QUORUM, StorageOptions::MEMORY)
            .unwrap();
    assert_eq!(found, layout::Found::Replicated(3));
    let Reply::Topics { topics } = opened.handle(T0, Command::ListTopics) else { panic!("no topics") };
    let orders = topics.iter().find(|t| t.name == "orders").expect("the topic came back");
    assert!(orders.partitions.iter().all(|p| p.leader.is_some() && p.replicas.len() == 3), "{orders:?}");
    assert!(active(&mut opened, T0).is_some());
    // The controllers keep it now; the old snapshot is gone.
    assert_eq!(older.store("controller").read_file(METADATA_LOG_FILE).unwrap(), None);
    assert!(older.holds("controller-0") && older.holds("controller-2"));
}

/// The brokers are the quorum's observers: every running broker fetches the committed metadata
/// log up to the active controller's high watermark, through topic creations and brokers
/// stopping (their controlled shutdowns are metadata changes too); a stopped one stays where it
/// stopped until it starts again and catches up.
#[test]
fn running_brokers_fetch_the_metadata_log_up_to_the_high_watermark() {
    let mut cluster = Cluster::replicated_in_memory(1, 3, T0);
    cluster.allow_faults = true;
    let fetched = |cluster: &mut Cluster, now_ms: i64| -> (i64, Vec<(i32, String, Option<i64>)>) {
        let Reply::ClusterDescribed { controllers, brokers, .. } =
            cluster.handle(now_ms, Command::DescribeCluster)
        else {
            panic!("no description")
        };
        let active = controllers.iter().find(|c| c.state == "active").expect("an active controller");
        (active.high_watermark, brokers.into_iter().map(|b| (b.id, b.state, b.metadata_offset)).collect())
    };
    let mut now = T0 + 100;
    assert!(matches!(create(&mut cluster, now, "orders"), Reply::TopicCreated { .. }));
    now += 100;
    let (high_watermark, brokers) = fetched(&mut cluster, now);
    assert!(
        brokers.iter().all(|(_, _, offset)| *offset == Some(high_watermark)),
        "{high_watermark}: {brokers:?}"
    );
    for broker in [0, 1] {
        now += 100;
        let reply = cluster.handle(now, Command::StopBroker { broker });
        assert!(matches!(reply, Reply::ClusterDescribed { .. }), "{reply:?}");
    }
    // A topic the one running broker can hold: more metadata the stopped ones do not see.
    let ledger = Command::CreateTopic {
        name: "ledger".into(),
        partitions: 2,
        configs: BTreeMap::new(),
        replication_factor: Some(1),
    };
    assert!(matches!(cluster.handle(now, ledger), Reply::TopicCreated { .. }));
    now += 100;
    let (high_watermark, brokers) = fetched(&mut cluster, now);
    let running: Vec<_> = brokers.iter().filter(|(_, state, _)| state == "up").collect();
    assert_eq!(running.len(), 1, "{brokers:?}");
    assert_eq!(running[0].2, Some(high_watermark), "{brokers:?}");
    let stopped = brokers.iter().filter(|(_, state, _)| state == "stopped");
    assert!(
        stopped.clone().count() == 2
            && stopped.clone().all(|(_, _, o)| o.is_some_and(|o| o < high_watermark)),
        "{high_watermark}: {brokers:?}"
    );
    for broker in [0, 1] {
        now += 100;
        let reply = cluster.handle(now, Command::StartBroker { broker });
        assert!(matches!(reply, Reply::ClusterDescribed { .. }), "{reply:?}");
    }
    now += 2_000;
    let (high_watermark, brokers) = fetched(&mut cluster, now);
    assert!(
        brokers.iter().all(|(_, _, offset)| *offset == Some(high_watermark)),
        "{high_watermark}: {brokers:?}"
    );
}

/// A voter's log end is an offset: past a snapshot it counts the entries the snapshot replaced
/// too, so it is never below the high watermark (it once gave the entries after the snapshot:
/// 71 against a high watermark of 1,071).
#[test]
fn a_voters_log_end_is_an_offset_past_its_snapshot() {
    use kite_shared::replication::broker::BrokerConfig;
    use kite_shared::replication::local::LocalCluster;

    let mut cluster = LocalCluster::new(3, BrokerConfig::default(), T0);
    cluster.controllers.snapshot_interval_records = 10;
    for n in 0..8 {
        cluster.create_topic(&format!("t{n}"), 2, 3, 2).expect("created");
        cluster.advance(100);
    }
    for &id in cluster.controllers.ids() {
        let node = cluster.controllers.node(id).expect("a voter");
        assert!(node.log_start_offset() > 0, "controller-{id} took a snapshot");
        let (_, _, log_end_offset, high_watermark) = cluster.controllers.voter(id).expect("a voter");
        assert_eq!(log_end_offset, node.end_offset());
        assert!(
            log_end_offset >= high_watermark,
            "controller-{id}: end {log_end_offset}, hw {high_watermark}"
        );
    }
}
