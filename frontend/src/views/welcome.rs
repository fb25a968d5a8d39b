//! The first thing a newcomer sees on an empty cluster: what is running, and a one-click start —
//! a topic `orders`, a few keyed records and a consumer group reading them — so there is
//! something to look at before anything has been learned, then a five-step tour of the page
//! (`tour`). Dismissed for good once used.

use kite_shared::api::Command;
use kite_shared::config::Acks;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::serializer::SerializerKind;
use yew::prelude::*;

use super::tour::{self, Tour};
use crate::i18n::{Lang, tr, trf};

/// The topic the start creates, and its partition count.
pub const START_TOPIC: &str = "orders";
pub const START_PARTITIONS: i32 = 3;
/// The replication factor it asks for (fewer on a smaller cluster): Kafka's usual production one.
pub const START_REPLICATION_FACTOR: usize = 3;
/// The group that reads them.
pub const START_GROUP: &str = "billing";
/// The records produced: a key per customer, twice each, so a learner sees equal keys land in the
/// same partition.
pub const START_RECORDS: [(&str, &str); 6] = [
    ("customer-1", r#"{"order":1,"amount":12.5}"#),
    ("customer-2", r#"{"order":2,"amount":7.0}"#),
    ("customer-3", r#"{"order":3,"amount":30.0}"#),
    ("customer-1", r#"{"order":4,"amount":3.2}"#),
    ("customer-2", r#"{"order":5,"amount":18.9}"#),
    ("customer-3", r#"{"order":6,"amount":5.5}"#),
];

/// Where the page remembers that the welcome was used or dismissed.
const WELCOME_KEY: &str = "kite.welcome";

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Whether the engine answers yet.
    pub ready: bool,
    /// The engine runs in this tab (else on a server).
    pub in_tab: bool,
    /// Whether the cluster holds a topic of the learner's own (not an internal one).
    pub has_own_topics: bool,
    /// The brokers there are, once `describe_cluster` said (the card waits for it).
    pub brokers: Option<usize>,
    pub send: Callback<Command>,
}

fn remembered() -> bool {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    storage.and_then(|s| s.get_item(WELCOME_KEY).ok().flatten()).is_some()
}

fn remember() {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(WELCOME_KEY, "done");
    }
}

/// The commands of the one-click start, in the order the engine answers them: the topic, its
/// records (placed by the default partitioner: murmur2 of the key), then a consumer of the group.
pub fn start_commands(brokers: usize) -> Vec<Command> {
    let replication_factor = START_REPLICATION_FACTOR.min(brokers.max(1)) as i16;
    let mut commands = vec![Command::CreateTopic {
        name: START_TOPIC.into(),
        partitions: START_PARTITIONS,
        configs: Default::default(),
        replication_factor: Some(replication_factor),
    }];
    commands.extend(START_RECORDS.iter().map(|(key, value)| Command::Produce {
        topic: START_TOPIC.into(),
        partition: None,
        key: Some((*key).into()),
        value: Some((*value).into()),
        timestamp_ms: None,
        partitioner: PartitionerKind::Default,
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
        headers: Vec::new(),
        acks: Acks::All,
        producer: None,
    }));
    commands.push(Command::OpenConsumer {
        group: Some(START_GROUP.into()),
        topics: vec![START_TOPIC.into()],
        partitions: Vec::new(),
        client_id: Some("consumer-1".into()),
        auto_offset_reset: Some("earliest".into()),
        assignors: Vec::new(),
        enable_auto_commit: None,
        session_timeout_ms: Some(super::consumers::PLAYGROUND_SESSION_TIMEOUT_MS),
        isolation_level: Default::default(),
    });
    commands
}

#[function_component(WelcomeCard)]
pub fn welcome_card(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let done = use_state(remembered);
    // The tour the start begins (resumed after a reload).
    let touring = use_state(tour::stored_step);
    let on_step = {
        let touring = touring.clone();
        Callback::from(move |step: Option<usize>| {
            tour::store_step(step);
            touring.set(step);
        })
    };
    let tour = touring.map(|step| html! { <Tour {step} on_step={on_step.clone()} /> });
    // Shown once the cluster has been described: its topics were listed before that (the page
    // asks for them first), so a cluster that has some never flashes the card.
    let Some(brokers) = props.brokers.filter(|_| !*done && props.ready && !props.has_own_topics) else {
        return html! { { for tour } };
    };
    let replication_factor = START_REPLICATION_FACTOR.min(brokers.max(1));
    let start = {
        let (send, done) = (props.send.clone(), done.clone());
        Callback::from(move |_: MouseEvent| {
            remember();
            done.set(true);
            for command in start_commands(brokers) {
                send.emit(command);
            }
            on_step.emit(Some(0));
        })
    };
    let dismiss = {
        let done = done.clone();
        Callback::from(move |_: MouseEvent| {
            remember();
            done.set(true);
        })
    };
    let running = if props.in_tab {
        trf(lang, "A Kafka cluster of {} brokers is running in this tab.", &[&brokers])
    } else {
        trf(lang, "A Kafka cluster of {} brokers is running on kite serve.", &[&brokers])
    };
    html! {
        <section class="panel welcome" id="welcome" aria-labelledby="welcome-title">
            <h2 id="welcome-title">{ tr(lang, "Welcome to Kite") }</h2>
            <p>{ running }{ " " }{ tr(lang, "It holds no topic of yours yet.") }</p>
            <p>{ trf(lang, "One click makes something to look at: a topic orders with 3 partitions and replication factor {} (each partition kept by that many brokers, one of them its leader), six records keyed by customer (each goes to the partition its key's murmur2 hash picks), and a consumer group billing reading them.", &[&replication_factor]) }</p>
            <p class="hint">{ tr(lang, "Then send a record with the same key and see it land in the same partition, stop a broker on the cluster map (click its name) and watch another take over as leader, or add a second consumer and watch the group rebalance.") }</p>
            <p class="actions">
                <button id="welcome-start" class="primary" onclick={start}>
                    { tr(lang, "Start: create orders, produce, consume") }</button>
                <button id="welcome-dismiss" onclick={dismiss}>{ tr(lang, "No thanks, I'll start from scratch") }</button>
            </p>
        </section>
    }
}
