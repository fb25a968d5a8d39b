//! The producer: key, value and optional partition in; the engine's placement and offset out, with
//! the partitioner's arithmetic spelled out.

use kite_shared::api::{Command, TopicDescription};
use kite_shared::partitioner::Placement;
use yew::prelude::*;

use super::bind_text;
use crate::state::Produced;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topics: Vec<TopicDescription>,
    pub selected: Option<String>,
    pub ready: bool,
    pub send: Callback<Command>,
    pub last_produced: Option<Produced>,
}

/// Bytes as Kafka tools print them: lowercase hex pairs separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The partitioner's decision as the steps a learner can follow, one per line.
pub fn explain(placement: &Placement) -> Vec<String> {
    match placement {
        Placement::Explicit { partition } => {
            vec![format!("partition {partition} was given explicitly: the partitioner was not consulted")]
        }
        Placement::KeyHash { key_bytes, murmur2, positive, num_partitions, partition } => vec![
            format!("key bytes (StringSerializer, UTF-8): {} ({} bytes)", hex(key_bytes), key_bytes.len()),
            format!("murmur2(key bytes) = {murmur2}"),
            format!("{murmur2} & 0x7fffffff = {positive}"),
            format!("{positive} % {num_partitions} partitions = {partition}"),
        ],
    }
}

#[function_component(ProducerPanel)]
pub fn producer_panel(props: &Props) -> Html {
    let key = use_state(|| "customer-42".to_string());
    let value = use_state(|| "hello, kafka".to_string());
    let partition = use_state(String::new);
    let topic = props.selected.clone().unwrap_or_default();
    let produce = {
        let (key, value, partition, send, topic) =
            (key.clone(), value.clone(), partition.clone(), props.send.clone(), topic.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let partition = partition.trim();
            send.emit(Command::Produce {
                topic: topic.clone(),
                // An empty box means "let the partitioner choose"; anything else goes to the
                // engine as typed (an unparsable number as -1, which it refuses by name).
                partition: (!partition.is_empty()).then(|| partition.parse().unwrap_or(-1)),
                // An empty key box is Kafka's null key.
                key: (!key.is_empty()).then(|| (*key).clone()),
                value: Some((*value).clone()),
                timestamp_ms: None,
            });
        })
    };
    let can_send = props.ready && !topic.is_empty();
    html! {
        <section class="panel producer" aria-labelledby="producer-title">
            <h2 id="producer-title">{ "Producer" }</h2>
            <form class="produce" onsubmit={produce}>
                <p class="target">{ "Topic: " }<strong id="produce-topic">{
                    if topic.is_empty() { "create a topic first".to_string() } else { topic.clone() }
                }</strong></p>
                <label>{ "Key" }<input id="produce-key" type="text" value={(*key).clone()}
                    oninput={bind_text(&key)} placeholder="empty = null key" /></label>
                <label>{ "Value" }<input id="produce-value" type="text" value={(*value).clone()}
                    oninput={bind_text(&value)} /></label>
                <label>{ "Partition" }<input id="produce-partition" type="text" value={(*partition).clone()}
                    oninput={bind_text(&partition)} placeholder="empty = partitioner" /></label>
                <button id="produce-send" type="submit" disabled={!can_send}>{ "Send" }</button>
            </form>
            if let Some(produced) = &props.last_produced {
                <ProducedResult produced={produced.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ResultProps {
    pub produced: Produced,
}

/// The engine's answer to the last send.
#[function_component(ProducedResult)]
pub fn produced_result(props: &ResultProps) -> Html {
    let p = &props.produced;
    html! {
        <div id="produce-result" class="produce-result" data-topic={p.topic.clone()}
            data-partition={p.partition.to_string()} data-offset={p.offset.to_string()}>
            <p class="headline">
                { "Written to " }<strong>{ format!("{}-{}", p.topic, p.partition) }</strong>
                { " at offset " }<strong>{ p.offset }</strong>
            </p>
            <ol class="explanation">
                { for explain(&p.placement).into_iter().map(|step| html! { <li>{ step }</li> }) }
            </ol>
        </div>
    }
}
