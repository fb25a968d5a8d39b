//! Moving a partition's replicas from the partitions view, as `kafka-reassign-partitions
//! --execute` / `--cancel` would: the partition, the brokers it should live on (the first the
//! preferred leader), Move or Cancel the move; and its preferred replica made leader
//! (`kafka-leader-election`). A move may be throttled (`--throttle`, KIP-73) and the throttle
//! cleared once it is done (`--verify`). A move's progress shows on the map (joining and leaving
//! replicas, a throttled one dashed) and in the partition's row.

use kite_shared::api::{Command, PartitionRef, ReassignmentTarget, TopicDescription};
use kite_shared::config::{
    ElectionType, FOLLOWER_REPLICATION_THROTTLED_RATE, LEADER_REPLICATION_THROTTLED_RATE, ThrottledReplicas,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topic: TopicDescription,
    pub send: Callback<Command>,
}

/// `0,2,3` (spaces allowed) → broker ids; `None` when a part is not a number.
fn brokers(text: &str) -> Option<Vec<i32>> {
    text.split(',').map(|b| b.trim().parse().ok()).collect()
}

#[function_component(MoveReplicas)]
pub fn move_replicas(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let (partition_ref, brokers_ref, throttle_ref) = (use_node_ref(), use_node_ref(), use_node_ref());
    let chosen = use_state(|| 0);
    let unreadable = use_state(|| false);
    let topic = &props.topic;
    let moving = topic
        .partitions
        .iter()
        .find(|p| p.partition == *chosen)
        .filter(|p| !p.adding.is_empty() || !p.removing.is_empty());
    let current = topic
        .partitions
        .iter()
        .find(|p| p.partition == *chosen)
        .map(|p| p.replicas.iter().map(i32::to_string).collect::<Vec<_>>().join(","));
    let ask = {
        let (send, name, partition) = (props.send.clone(), topic.name.clone(), *chosen);
        move |replicas: Option<Vec<i32>>| {
            let target = ReassignmentTarget { topic: name.clone(), partition, replicas };
            send.emit(Command::AlterPartitionReassignments { partitions: vec![target] });
            send.emit(Command::ListTopics);
        }
    };
    let onsubmit = {
        let (brokers_ref, throttle_ref, unreadable) =
            (brokers_ref.clone(), throttle_ref.clone(), unreadable.clone());
        let (ask, send, name) = (ask.clone(), props.send.clone(), topic.name.clone());
        let now: Vec<i32> = topic
            .partitions
            .iter()
            .find(|p| p.partition == *chosen)
            .map(|p| p.replicas.clone())
            .unwrap_or_default();
        let partition = *chosen;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let rate = value(&throttle_ref);
            let rate = match rate.trim() {
                "" => Ok(None),
                text => text.parse::<u64>().map(Some),
            };
            match (brokers(&value(&brokers_ref)), rate) {
                (Some(list), Ok(rate)) => {
                    unreadable.set(false);
                    if let Some(rate) = rate {
                        throttle(&send, &name, partition, (&now, &list), rate);
                    }
                    ask(Some(list));
                }
                _ => unreadable.set(true),
            }
        })
    };
    let throttled = [LEADER_REPLICAS, FOLLOWER_REPLICAS].iter().any(|k| topic.configs.contains_key(*k));
    let clear = {
        let (send, topic) = (props.send.clone(), topic.clone());
        Callback::from(move |_: MouseEvent| clear_throttle(&send, &topic))
    };
    let onchange = {
        let (partition_ref, chosen) = (partition_ref.clone(), chosen.clone());
        Callback::from(move |_: Event| {
            let value = partition_ref.cast::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default();
            chosen.set(value.parse().unwrap_or(0));
        })
    };
    let cancel = Callback::from(move |_: MouseEvent| ask(None));
    let title = tr(
        lang,
        "kafka-reassign-partitions --execute: the replicas grow to both sets, the new ones catch up and join the ISR, then the old ones leave",
    );
    html! {
        <form class="move-replicas" id="move-replicas" {onsubmit} {title}>
            <label>{ tr(lang, "Move partition") }{ " " }
                <select id="move-partition" ref={partition_ref} {onchange}>
                    { for topic.partitions.iter().map(|p| html! {
                        <option value={p.partition.to_string()} selected={p.partition == *chosen}>{ p.partition }</option>
                    }) }
                </select>
            </label>
            <label>{ tr(lang, "to brokers") }{ " " }
                <input id="move-brokers" ref={brokers_ref} size="8" placeholder={current.clone().unwrap_or_default()}
                    aria-invalid={unreadable.to_string()} />
            </label>
            { throttle_controls(lang, throttle_ref, *unreadable, throttled.then_some(clear)) }
            { elect_button(lang, &props.send, &topic.name, *chosen) }
            if let Some(p) = moving {
                <button type="button" id="move-cancel" onclick={cancel}>{ tr(lang, "Cancel the move") }</button>
                <span class="hint" id="move-progress">
                    { trf(lang, "Moving: adding {}, removing {}", &[&list(&p.adding), &list(&p.removing)]) }</span>
            }
            if *unreadable {
                <span class="hint bad">{ tr(lang, "Brokers as ids separated by commas, e.g. 0,2,3; a throttle as a number of bytes a second") }</span>
            }
        </form>
    }
}

/// kafka-leader-election's preferred election for one partition.
fn elect_button(lang: Lang, send: &Callback<Command>, topic: &str, partition: i32) -> Html {
    let elect = {
        let (send, topic) = (send.clone(), topic.to_string());
        Callback::from(move |_: MouseEvent| {
            let partitions = Some(vec![PartitionRef { topic: topic.clone(), partition }]);
            send.emit(Command::ElectLeaders { election: ElectionType::Preferred, partitions });
        })
    };
    html! {
        <button type="button" id="elect-preferred" onclick={elect}
            title={tr(lang, "kafka-leader-election --election-type preferred: the first replica leads, if it is in sync")}>
            { tr(lang, "Elect the preferred leader") }</button>
    }
}

fn list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// The throttle's rate box, the Move button, and (`clear`, when the topic has throttled
/// replicas) the button that clears the throttle.
fn throttle_controls(
    lang: Lang,
    throttle_ref: NodeRef,
    unreadable: bool,
    clear: Option<Callback<MouseEvent>>,
) -> Html {
    html! { <>
        <label title={tr(lang, "kafka-reassign-partitions --throttle: the replicas the move adds catch up at most this many bytes a second; empty: unthrottled")}>
            { tr(lang, "throttled to (B/s)") }{ " " }
            <input id="move-throttle" ref={throttle_ref} size="8" inputmode="numeric" placeholder="—"
                aria-invalid={unreadable.to_string()} />
        </label>
        <button type="submit" id="move-start">{ tr(lang, "Move") }</button>
        if let Some(clear) = clear {
            <button type="button" id="throttle-clear" onclick={clear}
                title={tr(lang, "kafka-reassign-partitions --verify, once every move is done: the throttled rates and replicas go")}>
                { tr(lang, "Clear the throttle") }</button>
        }
    </> }
}

const LEADER_REPLICAS: &str = "leader.replication.throttled.replicas";
const FOLLOWER_REPLICAS: &str = "follower.replication.throttled.replicas";

/// What `kafka-reassign-partitions --execute --throttle` sets before a move of `partition` from
/// `now` to `to`: both rates on every broker the move touches, and the topic's throttled replicas.
fn throttle(send: &Callback<Command>, topic: &str, partition: i32, (now, to): (&[i32], &[i32]), rate: u64) {
    for command in Command::throttle_moves([(topic, partition, now, to)], rate) {
        send.emit(command);
    }
}

/// What `kafka-reassign-partitions --verify` clears once the moves are done: the topic's
/// throttled replicas, and the rates on every broker they name.
fn clear_throttle(send: &Callback<Command>, topic: &TopicDescription) {
    let mut brokers: Vec<i32> = [LEADER_REPLICAS, FOLLOWER_REPLICAS]
        .iter()
        .filter_map(|k| topic.configs.get(*k).and_then(|v| ThrottledReplicas::parse(v)))
        .flat_map(|list| match list {
            ThrottledReplicas::Listed(pairs) => pairs.into_iter().map(|(_, b)| b).collect(),
            _ => Vec::new(),
        })
        .collect();
    brokers.sort_unstable();
    brokers.dedup();
    for broker in brokers {
        let delete =
            [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE].map(String::from);
        send.emit(Command::AlterBrokerConfig {
            broker: Some(broker),
            set: Default::default(),
            delete: delete.into(),
        });
    }
    let delete = [LEADER_REPLICAS, FOLLOWER_REPLICAS].map(String::from).into();
    send.emit(Command::AlterTopicConfig { name: topic.name.clone(), set: Default::default(), delete });
    send.emit(Command::ListTopics);
    send.emit(Command::DescribeCluster);
}
