//! A client's session (`host::HostSession`), the turn both hosts share: subscriptions and what
//! they push, consumers owned by the session that opened them, and what goes to the engine.

use std::collections::BTreeMap;

use kite_shared::api::{ClientMessage, Command, PartitionRef, Reply, ServerMessage, decode_server_message};
use kite_shared::cluster::Cluster;
use kite_shared::host::{Answer, HostSession};

fn ask(session: &mut HostSession, cluster: &mut Cluster, id: u64, command: Command) -> Answer {
    session.answer(cluster, 1_000, ClientMessage { id, command })
}

fn produce(value: &str) -> Command {
    Command::Produce {
        acks: Default::default(),
        topic: "orders".into(),
        partition: Some(0),
        key: None,
        value: Some(value.into()),
        timestamp_ms: None,
        partitioner: Default::default(),
        key_serializer: Default::default(),
        value_serializer: Default::default(),
        headers: vec![],
    }
}

/// A live tail of `orders`' partition 0 from its end.
fn tail_of_orders() -> Command {
    Command::Tail {
        topic: "orders".into(),
        partition: 0,
        offset: None,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
    }
}

fn cluster_with_orders() -> Cluster {
    let mut cluster = Cluster::new(7);
    let create = Command::CreateTopic {
        name: "orders".into(),
        partitions: 1,
        configs: BTreeMap::new(),
        replication_factor: None,
    };
    assert!(matches!(cluster.handle(0, create), Reply::TopicCreated { .. }));
    cluster.take_events();
    cluster
}

/// The pushes a session makes of what the engine did since the last call, as (subscription, kind).
fn pushes(session: &mut HostSession, cluster: &mut Cluster) -> Vec<(u64, String)> {
    let events = cluster.take_events();
    session
        .pushes(cluster, 1_000, &events)
        .iter()
        .map(|text| match decode_server_message(text).unwrap() {
            ServerMessage::Push { subscription, push } => {
                (subscription, serde_json::to_value(&push).unwrap()["type"].as_str().unwrap().to_string())
            }
            other => panic!("not a push: {other:?}"),
        })
        .collect()
}

#[test]
fn subscriptions_are_the_sessions_and_push_what_the_engine_did() {
    let mut cluster = cluster_with_orders();
    let mut session = HostSession::new();
    assert!(!session.has_subscriptions());
    let events = ask(&mut session, &mut cluster, 1, Command::SubscribeEvents);
    assert!(matches!(events, Answer { reply: Reply::Subscribed { subscription: 1 }, by_engine: false, .. }));
    let tail = tail_of_orders();
    assert!(matches!(ask(&mut session, &mut cluster, 2, tail).reply, Reply::Subscribed { subscription: 2 }));
    let produced = ask(&mut session, &mut cluster, 3, produce("hello"));
    assert!(produced.by_engine, "a produce is the engine's");
    let got = pushes(&mut session, &mut cluster);
    assert!(got.contains(&(1, "event".into())), "{got:?}");
    assert!(got.contains(&(2, "records".into())), "{got:?}");
    // Unsubscribed, the tail stops; unknown subscriptions are named.
    let gone = ask(&mut session, &mut cluster, 4, Command::Unsubscribe { subscription: 2 });
    assert!(matches!(gone.reply, Reply::Unsubscribed { subscription: 2 }));
    let again = ask(&mut session, &mut cluster, 5, Command::Unsubscribe { subscription: 2 });
    let Reply::Error(error) = again.reply else { panic!("{again:?}") };
    assert_eq!(error.message, "There is no subscription 2 on this connection.");
    ask(&mut session, &mut cluster, 6, produce("again"));
    assert!(pushes(&mut session, &mut cluster).iter().all(|(s, _)| *s == 1));
}

#[test]
fn a_session_without_live_tails_leaves_them_to_the_engine() {
    let mut cluster = cluster_with_orders();
    let mut session = HostSession::without_live_tails();
    let tail = tail_of_orders();
    let answer = ask(&mut session, &mut cluster, 1, tail);
    let Reply::Error(error) = &answer.reply else { panic!("{answer:?}") };
    assert!(error.message.starts_with("Subscriptions push messages"), "{error:?}");
    assert!(answer.by_engine);
}

#[test]
fn consumers_belong_to_the_session_that_opened_them() {
    let mut cluster = cluster_with_orders();
    let (mut mine, mut theirs) = (HostSession::new(), HostSession::new());
    let open = Command::OpenConsumer {
        group: Some("billing".into()),
        topics: vec!["orders".into()],
        partitions: Vec::<PartitionRef>::new(),
        client_id: None,
        auto_offset_reset: None,
        assignors: vec![],
        enable_auto_commit: None,
        session_timeout_ms: None,
    };
    let Reply::ConsumerOpened { consumer } = ask(&mut mine, &mut cluster, 1, open).reply else { panic!() };
    let poll = || Command::Poll {
        consumer,
        max_records: None,
        key_deserializer: Default::default(),
        value_deserializer: Default::default(),
    };
    let refused = ask(&mut theirs, &mut cluster, 1, poll());
    let Reply::Error(error) = &refused.reply else { panic!("{refused:?}") };
    assert_eq!(error.message, format!("There is no open consumer {consumer} on this connection."));
    assert!(!refused.by_engine, "the engine never saw it");
    assert!(matches!(ask(&mut mine, &mut cluster, 2, poll()).reply, Reply::Polled { .. }));
    // The session ends: its consumer leaves the group.
    mine.close(&mut cluster, 2_000);
    let described = cluster.handle(2_000, Command::DescribeGroup { group: "billing".into() });
    let Reply::GroupDescribed { members, .. } = &described else { panic!("{described:?}") };
    assert!(members.is_empty(), "{described:?}");
}
