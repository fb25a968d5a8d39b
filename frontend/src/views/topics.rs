//! Topics: create one (name, partitions, replication factor, configs — checked as you type by the
//! engine's own validators, so the messages are Kafka's) and pick the one the other views show.

use std::collections::BTreeMap;

use kite_shared::api::{Command, TopicDescription};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use super::bind_text;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topics: std::rc::Rc<Vec<TopicDescription>>,
    pub selected: Option<String>,
    pub ready: bool,
    pub send: Callback<Command>,
    pub on_select: Callback<String>,
    /// The brokers there are (from `describe_cluster`), for the replication factor's check.
    pub brokers: Option<usize>,
}

/// What is wrong with the create form, in Kafka's words (empty when nothing is): the name, the
/// partition count, the replication factor against the brokers there are, and every config.
pub fn form_problems(
    name: &str,
    partitions: &str,
    replication: &str,
    configs: &str,
    brokers: Option<usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = kite_shared::topic::validate_name(name.trim()) {
        problems.push(e.message);
    }
    match partitions.trim().parse::<i32>() {
        Ok(count) => {
            if let Err(e) = kite_shared::topic::validate_partition_count(count) {
                problems.push(e.message);
            }
        }
        Err(_) => problems.push(format!("The partition count {:?} is not a number.", partitions.trim())),
    }
    if !replication.trim().is_empty() {
        match (replication.trim().parse::<i16>(), brokers) {
            (Ok(factor), Some(brokers)) => {
                if let Err(e) = kite_shared::config::validate_replication_factor(factor, brokers) {
                    problems.push(e.message);
                }
            }
            (Ok(_), None) => {}
            (Err(_), _) => {
                problems.push(format!("The replication factor {:?} is not a number.", replication.trim()))
            }
        }
    }
    if let Err(e) = kite_shared::config::TopicConfig::from_overrides(&parse_configs(configs)) {
        problems.push(e.message);
    }
    problems
}

/// `k=v` pairs separated by commas, as `kafka-topics --config` takes them one by one. An entry
/// without `=` is sent with an empty value, which the engine refuses by name.
pub fn parse_configs(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (entry.to_string(), String::new()),
        })
        .collect()
}

#[function_component(TopicsPanel)]
pub fn topics_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let name = use_state(|| "orders".to_string());
    let partitions = use_state(|| "3".to_string());
    // Empty: the broker's default.replication.factor (1), as kafka-topics without the flag.
    let replication = use_state(String::new);
    let configs = use_state(String::new);
    let create = {
        let (name, partitions, replication, configs, send) =
            (name.clone(), partitions.clone(), replication.clone(), configs.clone(), props.send.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // An unparsable count goes to the engine as 0, which refuses it with Kafka's message.
            let count = partitions.trim().parse::<i32>().unwrap_or(0);
            send.emit(Command::CreateTopic {
                name: name.trim().to_string(),
                partitions: count,
                configs: parse_configs(&configs),
                // An unparsable factor goes as 0, which the engine refuses with Kafka's message.
                replication_factor: (!replication.trim().is_empty())
                    .then(|| replication.trim().parse::<i16>().unwrap_or(0)),
            });
        })
    };
    // Kafka's own topics (`__consumer_offsets`) are listed only when asked for.
    let show_internal = use_state(|| false);
    let toggle_internal = {
        let show_internal = show_internal.clone();
        Callback::from(move |_: Event| show_internal.set(!*show_internal))
    };
    let listed = props.topics.iter().filter(|topic| {
        *show_internal
            || !kite_shared::topic::is_hidden(&topic.name)
            || props.selected.as_deref() == Some(topic.name.as_str())
    });
    let problems = form_problems(&name, &partitions, &replication, &configs, props.brokers);
    let warning = kite_shared::topic::collision_warning(name.trim());
    html! {
        <section class="panel topics" id="topics" aria-labelledby="topics-title">
            <h2 id="topics-title">{ tr(lang, "Topics") }</h2>
            <form class="create-topic" onsubmit={create}>
                <label>{ tr(lang, "Name") }<input id="topic-name" type="text" value={(*name).clone()}
                    oninput={bind_text(&name)} /></label>
                <label>{ tr(lang, "Partitions") }<input id="topic-partitions" type="number" min="1"
                    value={(*partitions).clone()} oninput={bind_text(&partitions)} /></label>
                <label>{ tr(lang, "Replication") }<input id="topic-replication" type="number" min="1"
                    value={(*replication).clone()} oninput={bind_text(&replication)} placeholder="1" /></label>
                <button id="create-topic" type="submit" disabled={!props.ready || !problems.is_empty()}>
                    { tr(lang, "Create topic") }</button>
                <label class="wide">{ tr(lang, "Configs") }<input id="topic-configs" type="text" value={(*configs).clone()}
                    oninput={bind_text(&configs)} placeholder="retention.ms=3600000, cleanup.policy=compact" /></label>
            </form>
            if !problems.is_empty() {
                <ul id="topic-problems" class="problems" role="alert">
                    { for problems.iter().map(|p| html! { <li>{ p }</li> }) }
                </ul>
            } else if let Some(warning) = warning {
                <p class="hint" id="topic-warning">{ warning }</p>
            }
            <label class="show-internal"><input id="show-internal" type="checkbox" checked={*show_internal}
                onchange={toggle_internal} />{ tr(lang, "Show internal topics") }</label>
            <ul id="topic-list" class="topic-list">
                { for listed.map(|topic| {
                    let records: i64 = topic.partitions.iter()
                        .map(|p| p.log_end_offset - p.log_start_offset).sum();
                    let is_selected = props.selected.as_deref() == Some(topic.name.as_str());
                    let on_select = props.on_select.clone();
                    let name = topic.name.clone();
                    html! {
                        <li key={topic.name.clone()}>
                            <button class={classes!("topic", is_selected.then_some("selected"))}
                                data-topic={topic.name.clone()}
                                onclick={Callback::from(move |_: MouseEvent| on_select.emit(name.clone()))}>
                                <span class="topic-name">{ &topic.name }</span>
                                <span class="topic-meta">
                                    { trf(lang, "{} partitions · {} records", &[&topic.partitions.len(), &records]) }
                                </span>
                            </button>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
