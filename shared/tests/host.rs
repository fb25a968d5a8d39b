//! A client's session (`host::HostSession`), the turn both hosts share: subscriptions and what
//! they push, consumers owned by the session that opened them, and what goes to the engine.

use std::collections::BTreeMap;

use kite_shared::api::{
    ClientMessage, Command, HostCommand, PartitionRef, Reply, Request, ServerMessage, TabCommand,
    decode_client_message, decode_server_message,
};
use kite_shared::cluster::Cluster;
use kite_shared::host::{Answer, Capabilities, HostSession, Turn};

/// The session's answer to `command`, which must not be one for the host.
fn ask(session: &mut HostSession, cluster: &mut Cluster, id: u64, command: impl Into<Request>) -> Answer {
    match session.answer(cluster, 1_000, ClientMessage { id, command: command.into() }) {
        Turn::Answered(answer) => answer,
        other => panic!("left to the host: {other:?}"),
    }
}

fn server() -> HostSession {
    HostSession::new(Capabilities::SERVER)
}

fn produce(value: &str) -> Command {
    Command::produce_text("orders", Some(0), None, value)
}

/// A live tail of `orders`' partition 0 from its end.
fn tail_of_orders() -> HostCommand {
    HostCommand::Tail {
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

/// A push as (subscription, its kind), a `skipped` one with its count (`skipped 100`).
fn push_kind(text: &str) -> (u64, String) {
    let ServerMessage::Push { subscription, push } = decode_server_message(text).unwrap() else {
        panic!("not a push: {text}")
    };
    let push = serde_json::to_value(&push).unwrap();
    match push["type"].as_str().unwrap() {
        "skipped" => (subscription, format!("skipped {}", push["events"])),
        kind => (subscription, kind.to_string()),
    }
}

/// The pushes a session makes of what the engine did since the last call, as (subscription, kind).
fn pushes(session: &mut HostSession, cluster: &mut Cluster) -> Vec<(u64, String)> {
    let events = cluster.take_events();
    session.pushes(cluster, 1_000, &events).iter().map(|text| push_kind(text)).collect()
}

#[test]
fn subscriptions_are_the_sessions_and_push_what_the_engine_did() {
    let mut cluster = cluster_with_orders();
    let mut session = server();
    assert!(!session.has_subscriptions());
    let events = ask(&mut session, &mut cluster, 1, HostCommand::SubscribeEvents);
    assert!(matches!(events, Answer { reply: Reply::Subscribed { subscription: 1 }, by_engine: false, .. }));
    let tail = tail_of_orders();
    assert!(matches!(ask(&mut session, &mut cluster, 2, tail).reply, Reply::Subscribed { subscription: 2 }));
    let produced = ask(&mut session, &mut cluster, 3, produce("hello"));
    assert!(produced.by_engine, "a produce is the engine's");
    let got = pushes(&mut session, &mut cluster);
    assert!(got.contains(&(1, "event".into())), "{got:?}");
    assert!(got.contains(&(2, "records".into())), "{got:?}");
    // Unsubscribed, the tail stops; unknown subscriptions are named.
    let gone = ask(&mut session, &mut cluster, 4, HostCommand::Unsubscribe { subscription: 2 });
    assert!(matches!(gone.reply, Reply::Unsubscribed { subscription: 2 }));
    let again = ask(&mut session, &mut cluster, 5, HostCommand::Unsubscribe { subscription: 2 });
    let Reply::Error(error) = again.reply else { panic!("{again:?}") };
    assert_eq!(error.message, "There is no subscription 2 on this connection.");
    ask(&mut session, &mut cluster, 6, produce("again"));
    assert!(pushes(&mut session, &mut cluster).iter().all(|(s, _)| *s == 1));
}

#[test]
fn the_tabs_session_leaves_its_commands_to_the_tab_and_refuses_live_tails() {
    let mut cluster = cluster_with_orders();
    let mut tab = HostSession::new(Capabilities::TAB);
    let answer = ask(&mut tab, &mut cluster, 1, tail_of_orders());
    let Reply::Error(error) = &answer.reply else { panic!("{answer:?}") };
    assert!(error.message.starts_with("Live tails are kite serve's"), "{error:?}");
    assert!(!answer.by_engine, "the session refuses it, not the engine");
    let replay = ClientMessage { id: 2, command: TabCommand::Replay.into() };
    assert!(matches!(
        tab.answer(&mut cluster, 1_000, replay.clone()),
        Turn::ForHost { id: 2, command: TabCommand::Replay }
    ));
    // On the server the same request is refused by name.
    let answer = ask(&mut server(), &mut cluster, 2, TabCommand::Replay);
    let Reply::Error(error) = &answer.reply else { panic!("{answer:?}") };
    assert!(error.message.starts_with("This host runs on the wall clock"), "{error:?}");
}

#[test]
fn a_ping_is_answered_by_the_session_with_the_engines_time() {
    let mut cluster = cluster_with_orders();
    for mut session in [server(), HostSession::new(Capabilities::TAB)] {
        let answer = ask(&mut session, &mut cluster, 9, HostCommand::Ping);
        assert!(matches!(answer, Answer { id: 9, reply: Reply::Pong { now_ms: 1_000 }, by_engine: false }));
    }
}

#[test]
fn requests_of_the_engine_the_session_and_the_tab_are_one_object_on_the_wire() {
    let read = |text: &str| decode_client_message(text).map(|message| message.command);
    assert_eq!(read(r#"{"id":1,"command":{"type":"ping"}}"#).unwrap(), Request::Host(HostCommand::Ping));
    assert_eq!(
        read(r#"{"id":1,"command":{"type":"list_topics"}}"#).unwrap(),
        Request::Engine(Command::ListTopics)
    );
    assert_eq!(read(r#"{"id":1,"command":{"type":"replay"}}"#).unwrap(), Request::Tab(TabCommand::Replay));
    // The tag anywhere in the object, as for every tagged message.
    assert_eq!(
        read(r#"{"command":{"subscription":3,"type":"unsubscribe"},"id":2}"#).unwrap(),
        Request::Host(HostCommand::Unsubscribe { subscription: 3 })
    );
    // Written as read: the tag first, the fields beside it.
    let message = ClientMessage { id: 4, command: HostCommand::Unsubscribe { subscription: 3 }.into() };
    assert_eq!(
        kite_shared::api::encode(&message),
        r#"{"id":4,"command":{"type":"unsubscribe","subscription":3}}"#
    );
    // An unknown type is named, with every type there is (serde's words).
    let error = read(r#"{"id":1,"command":{"type":"pong"}}"#).unwrap_err().to_string();
    assert!(error.contains("unknown variant `pong`, expected one of `create_topic`"), "{error}");
    assert!(error.contains("`ping`") && error.contains("`replay`"), "{error}");
    // A known type with a field it does not have is refused by that type's reader.
    let text = r#"{"id":1,"command":{"type":"unsubscribe","subscription":3,"topic":"t"}}"#;
    let error = read(text).unwrap_err().to_string();
    assert!(error.contains("unknown field `topic`, expected `subscription`"), "{error}");
}

#[test]
fn consumers_belong_to_the_session_that_opened_them() {
    let mut cluster = cluster_with_orders();
    let (mut mine, mut theirs) = (server(), server());
    let open = Command::OpenConsumer {
        group: Some("billing".into()),
        topics: vec!["orders".into()],
        partitions: Vec::<PartitionRef>::new(),
        client_id: None,
        auto_offset_reset: None,
        assignors: vec![],
        enable_auto_commit: None,
        session_timeout_ms: None,
        isolation_level: Default::default(),
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

/// `count` high-watermark events, as a produce to that many partitions makes.
fn high_watermarks(count: i32) -> Vec<(i64, kite_shared::trace::Event)> {
    (0..count)
        .map(|partition| {
            let tp = kite_shared::ids::TopicPartition { topic: "load".into(), partition };
            (1_000, kite_shared::trace::Event::HighWatermark { broker: 0, tp, high_watermark: 1 })
        })
        .collect()
}

/// The pushes' kinds and, for a `skipped`, its count.
fn kinds(texts: &[String]) -> Vec<String> {
    texts.iter().map(|text| push_kind(text).1).collect()
}

#[test]
fn a_flood_of_events_is_capped_per_second_and_the_rest_counted() {
    let mut cluster = cluster_with_orders();
    let mut session = server();
    ask(&mut session, &mut cluster, 1, HostCommand::SubscribeEvents);
    let most = kite_shared::limits::MAX_EVENTS_PUSHED_PER_SECOND as usize;
    // 600 events in one batch: the first `most` go, one push counts the rest.
    let got = kinds(&session.pushes(&mut cluster, 1_000, &high_watermarks(600)));
    assert_eq!(got.len(), most + 1);
    assert_eq!(got[most], format!("skipped {}", 600 - most));
    assert!(got[..most].iter().all(|kind| kind == "event"));
    // Later in the same second: only counted.
    assert_eq!(kinds(&session.pushes(&mut cluster, 1_999, &high_watermarks(3))), vec!["skipped 3"]);
    // The next second pushes again.
    assert_eq!(kinds(&session.pushes(&mut cluster, 2_000, &high_watermarks(2))), vec!["event", "event"]);
}
