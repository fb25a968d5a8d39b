//! Consumer groups: add consumers the engine runs as members of a group (subscribed to the
//! selected topic), poll them every second, remove them; and the group as
//! `kafka-consumer-groups --describe` shows it — state, protocol, and per partition the committed
//! offset, the log end, the lag and the member that owns it.

use kite_shared::api::{Command, PartitionRef};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use super::bind_text;
use crate::state::{GroupView, HostedConsumer};

/// The session timeout of the consumers this view adds.
pub const PLAYGROUND_SESSION_TIMEOUT_MS: i32 = 10_000;

/// How often the view polls its consumers and describes their group.
pub const POLL_INTERVAL_MS: i32 = 1_000;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub selected_topic: Option<String>,
    pub consumers: Vec<HostedConsumer>,
    pub group: Option<GroupView>,
    pub ready: bool,
    pub send: Callback<Command>,
}

fn partitions(list: &[PartitionRef]) -> String {
    if list.is_empty() {
        return "—".into();
    }
    list.iter().map(|p| format!("{}-{}", p.topic, p.partition)).collect::<Vec<_>>().join(", ")
}

#[function_component(ConsumersPanel)]
pub fn consumers_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let group = use_state(|| "billing".to_string());
    let added = use_state(|| 0_u32);

    // Every second: poll each consumer (what keeps it in its group and consuming) and describe
    // the group.
    {
        let send = props.send.clone();
        let ids: Vec<u32> = props.consumers.iter().map(|c| c.id).collect();
        let group = (*group).clone();
        let ready = props.ready;
        use_effect_with((ids, group, ready), move |(ids, group, ready)| {
            let (ids, group) = (ids.clone(), group.clone());
            let active = *ready && !ids.is_empty();
            super::every(POLL_INTERVAL_MS, active, move || {
                for &consumer in &ids {
                    send.emit(Command::Poll {
                        consumer,
                        max_records: None,
                        key_deserializer: Default::default(),
                        value_deserializer: Default::default(),
                    });
                }
                send.emit(Command::DescribeGroup { group: group.clone() });
            })
        });
    }

    let add = {
        let (group, added, send, topic) =
            (group.clone(), added.clone(), props.send.clone(), props.selected_topic.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(topic) = topic.clone() else { return };
            let n = *added + 1;
            added.set(n);
            send.emit(Command::OpenConsumer {
                group: Some(group.trim().to_string()),
                topics: vec![topic],
                partitions: Vec::new(),
                client_id: Some(format!("consumer-{n}")),
                auto_offset_reset: Some("earliest".into()),
                assignors: Vec::new(),
                enable_auto_commit: None,
                // A playground's session: a crashed member is noticed after 10 s, not Kafka's
                // default 45 s (the broker's minimum is 6 s).
                session_timeout_ms: Some(PLAYGROUND_SESSION_TIMEOUT_MS),
            });
        })
    };
    let can_add = props.ready && props.selected_topic.is_some();
    html! {
        <section class="panel consumers" id="consumers" aria-labelledby="consumers-title">
            <h2 id="consumers-title">{ tr(lang, "Consumer groups") }</h2>
            <form class="add-consumer" onsubmit={add}>
                <label>{ tr(lang, "Group") }<input id="group-id" type="text" value={(*group).clone()}
                    oninput={bind_text(&group)} /></label>
                <button id="add-consumer" type="submit" disabled={!can_add}>
                    { match &props.selected_topic {
                        Some(topic) => trf(lang, "Add a consumer of {}", &[topic]),
                        None => tr(lang, "Select a topic first").to_string(),
                    } }
                </button>
            </form>
            <ul id="consumer-list" class="consumer-list">
                { for props.consumers.iter().map(|c| {
                    let send = props.send.clone();
                    let crash_send = props.send.clone();
                    let id = c.id;
                    html! {
                        <li key={c.id.to_string()} data-consumer={c.id.to_string()}>
                            <span class="consumer-name">{ &c.client_id }</span>
                            <span class="consumer-meta">
                                { if c.stable { tr(lang, "member") } else { tr(lang, "joining…") } }
                                { format!(" · owns {} · consumed {}", partitions(&c.assignment), c.consumed) }
                            </span>
                            <button class="remove-consumer" title={tr(lang, "close: commit and leave the group")}
                                onclick={Callback::from(move |_: MouseEvent| send.emit(Command::CloseConsumer { consumer: id }))}>
                                { tr(lang, "Remove") }
                            </button>
                            <button class="crash-consumer" title={tr(lang, "crash: no commit, no goodbye; the group notices when its session times out")}
                                onclick={Callback::from(move |_: MouseEvent| crash_send.emit(Command::CrashConsumer { consumer: id }))}>
                                { tr(lang, "Crash") }
                            </button>
                        </li>
                    }
                }) }
            </ul>
            if let Some(view) = &props.group {
                <div class="group" id="group-description" data-state={view.state.clone()}
                    data-members={view.members.to_string()}>
                    <p class="group-state">
                        { format!("{} · {} · protocol {} · {} member(s)", view.group, view.state,
                            if view.protocol.is_empty() { "—" } else { view.protocol.as_str() }, view.members) }
                    </p>
                    <table class="lag">
                        <thead><tr>
                            <th>{ tr(lang, "Partition") }</th><th>{ tr(lang, "Committed") }</th><th>{ tr(lang, "Log end") }</th>
                            <th>{ tr(lang, "Lag") }</th><th>{ tr(lang, "Owner") }</th>
                        </tr></thead>
                        <tbody>
                            { for view.rows.iter().map(|row| html! {
                                <tr data-partition={format!("{}-{}", row.topic, row.partition)}
                                    data-lag={row.lag.map_or("-".to_string(), |l| l.to_string())}>
                                    <td>{ format!("{}-{}", row.topic, row.partition) }</td>
                                    <td>{ row.current_offset.map_or("-".to_string(), |o| o.to_string()) }</td>
                                    <td>{ row.log_end_offset }</td>
                                    <td class="lag-value">{ row.lag.map_or("-".to_string(), |l| l.to_string()) }</td>
                                    <td>{ row.client_id.clone().unwrap_or_else(|| "-".into()) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            }
        </section>
    }
}
