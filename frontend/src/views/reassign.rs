//! Moving a partition's replicas from the partitions view, as `kafka-reassign-partitions
//! --execute` / `--cancel` would: the partition, the brokers it should live on (the first the
//! preferred leader), Move or Cancel the move; and its preferred replica made leader
//! (`kafka-leader-election`). A move's progress shows on the map (joining and leaving replicas)
//! and in the partition's row.

use kite_shared::api::{Command, PartitionRef, ReassignmentTarget, TopicDescription};
use kite_shared::config::ElectionType;
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
    let (partition_ref, brokers_ref) = (use_node_ref(), use_node_ref());
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
        let (brokers_ref, unreadable) = (brokers_ref.clone(), unreadable.clone());
        let ask = ask.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = brokers_ref.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            match brokers(&text) {
                Some(list) => {
                    unreadable.set(false);
                    ask(Some(list));
                }
                None => unreadable.set(true),
            }
        })
    };
    let onchange = {
        let (partition_ref, chosen) = (partition_ref.clone(), chosen.clone());
        Callback::from(move |_: Event| {
            let value = partition_ref.cast::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default();
            chosen.set(value.parse().unwrap_or(0));
        })
    };
    let elect = {
        let (send, topic, partition) = (props.send.clone(), topic.name.clone(), *chosen);
        Callback::from(move |_: MouseEvent| {
            let partitions = Some(vec![PartitionRef { topic: topic.clone(), partition }]);
            send.emit(Command::ElectLeaders { election: ElectionType::Preferred, partitions });
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
            <button type="submit" id="move-start">{ tr(lang, "Move") }</button>
            <button type="button" id="elect-preferred" onclick={elect}
                title={tr(lang, "kafka-leader-election --election-type preferred: the first replica leads, if it is in sync")}>
                { tr(lang, "Elect the preferred leader") }</button>
            if let Some(p) = moving {
                <button type="button" id="move-cancel" onclick={cancel}>{ tr(lang, "Cancel the move") }</button>
                <span class="hint" id="move-progress">
                    { trf(lang, "Moving: adding {}, removing {}", &[&list(&p.adding), &list(&p.removing)]) }</span>
            }
            if *unreadable {
                <span class="hint bad">{ tr(lang, "Brokers as ids separated by commas, e.g. 0,2,3") }</span>
            }
        </form>
    }
}

fn list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}
