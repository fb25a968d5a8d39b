//! The selected topic's partitions as rows of offsets: log start, log end, and the newest records
//! coloured by key, so equal keys visibly land in equal partitions.

use std::collections::BTreeMap;

use kite_shared::api::{Command, RecordView, TopicDescription};
use kite_shared::partitioner::{murmur2, to_positive};
use kite_shared::serializer::SerializerKind;
use yew::prelude::*;

use crate::state::{PARTITIONS_SHOWN, record_fetches};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topic: Option<TopicDescription>,
    pub records: BTreeMap<(String, i32), Vec<RecordView>>,
    pub key_deserializer: SerializerKind,
    pub value_deserializer: SerializerKind,
    pub send: Callback<Command>,
}

/// A stable hue per key, so one key has one colour everywhere.
fn key_hue(key: Option<&str>) -> i32 {
    key.map_or(0, |k| to_positive(murmur2(k.as_bytes())) % 360)
}

#[function_component(PartitionsView)]
pub fn partitions_view(props: &Props) -> Html {
    // Refetch whenever the topic's offsets or the chosen deserializers change: the view shows the
    // log as the engine holds it, read as a consumer with those deserializers would.
    {
        let send = props.send.clone();
        let deps = (props.topic.clone(), props.key_deserializer, props.value_deserializer);
        use_effect_with(deps, move |(topic, key, value)| {
            if let Some(topic) = topic {
                record_fetches(topic, *key, *value).into_iter().for_each(|command| send.emit(command));
            }
        });
    }
    let Some(topic) = &props.topic else {
        return html! {
            <section class="panel partitions" id="partitions">
                <h2>{ "Partitions" }</h2>
                <p class="hint">{ "Create a topic to see its partitions." }</p>
            </section>
        };
    };
    html! {
        <section class="panel partitions" id="partitions" aria-labelledby="partitions-title">
            <h2 id="partitions-title">{ format!("Partitions of {}", topic.name) }</h2>
            { for topic.partitions.iter().take(PARTITIONS_SHOWN).map(|p| {
                let records = props.records.get(&(topic.name.clone(), p.partition)).cloned().unwrap_or_default();
                html! {
                    <div class={classes!("partition", p.leader.is_none().then_some("offline"))}
                        data-partition={p.partition.to_string()}
                        data-leader={p.leader.map(|l| l.to_string()).unwrap_or_default()}
                        data-isr={ids(&p.isr)}
                        data-log-end-offset={p.log_end_offset.to_string()}>
                        <div class="partition-label">
                            <strong>{ format!("P{}", p.partition) }</strong>
                            <span class="offsets">{ format!("start {} · HW {}", p.log_start_offset, p.log_end_offset) }</span>
                            <span class="replicas">{ replicas_line(p) }</span>
                        </div>
                        <ol class="records">
                            { for records.iter().map(|r| html! {
                                <li class={classes!("record", r.decode_error.is_some().then_some("undecodable"))}
                                    data-offset={r.offset.to_string()}
                                    style={format!("--key-hue: {}", key_hue(r.key.as_deref()))}
                                    title={format!("offset {} · key {} · value {}{}", r.offset,
                                        r.key.as_deref().unwrap_or("null"), r.value.as_deref().unwrap_or("null"),
                                        r.decode_error.as_deref().map(|e| format!(" · {e}")).unwrap_or_default())}>
                                    <span class="offset">{ r.offset }</span>
                                    <span class="key">{ r.key.clone().unwrap_or_else(|| "null".into()) }</span>
                                    <span class="value">{ r.value.clone().unwrap_or_else(|| "null".into()) }</span>
                                </li>
                            }) }
                        </ol>
                    </div>
                }
            }) }
            if topic.partitions.len() > PARTITIONS_SHOWN {
                <p class="hint">{ format!("Showing the first {PARTITIONS_SHOWN} of {} partitions.", topic.partitions.len()) }</p>
            }
        </section>
    }
}

fn ids(list: &[i32]) -> String {
    list.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Where a partition lives: its leader (or that it has none), its replicas and which are in sync.
fn replicas_line(p: &kite_shared::api::PartitionDescription) -> String {
    let leader = p.leader.map_or("none (offline)".to_string(), |l| l.to_string());
    format!("leader {leader} · replicas {} · ISR {}", ids(&p.replicas), ids(&p.isr))
}
