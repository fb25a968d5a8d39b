//! Consumer groups: add consumers the engine runs as members of a group (subscribed to the
//! selected topic), poll them every second, remove them; and the group as
//! `kafka-consumer-groups --describe` shows it — state, protocol, and per partition the committed
//! offset, the log end, the lag and the member that owns it.

use kite_shared::api::{Command, PartitionRef, ResetTarget};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use super::bind_text;
use crate::state::{GroupView, HostedConsumer, OffsetsReset};

/// The session timeout of the consumers this view adds.
pub const PLAYGROUND_SESSION_TIMEOUT_MS: i32 = 10_000;

/// How often the view polls its consumers and describes their group.
pub const POLL_INTERVAL_MS: i32 = 1_000;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub selected_topic: Option<String>,
    pub consumers: Vec<HostedConsumer>,
    pub group: Option<GroupView>,
    pub last_reset: Option<OffsetsReset>,
    pub ready: bool,
    pub send: Callback<Command>,
}

/// Reads the reset form as kafka-consumer-groups' `--to-earliest`, `--to-latest`, `--to-offset N`,
/// `--shift-by N` or `--to-datetime T` (epoch ms or ISO-8601).
pub fn reset_target(kind: &str, value: &str) -> Result<ResetTarget, String> {
    let number = || value.trim().parse::<i64>().map_err(|_| format!("{:?} is not a number", value.trim()));
    match kind {
        "earliest" => Ok(ResetTarget::Earliest),
        "latest" => Ok(ResetTarget::Latest),
        "offset" => Ok(ResetTarget::Offset { offset: number()? }),
        "shift-by" => Ok(ResetTarget::ShiftBy { shift: number()? }),
        "datetime" => match super::messages::Seek::parse("timestamp", value)? {
            super::messages::Seek::Timestamp(timestamp_ms) => Ok(ResetTarget::Datetime { timestamp_ms }),
            _ => Err(format!("{value:?} is not a time")),
        },
        other => Err(format!("unknown reset {other:?}")),
    }
}

fn partitions(list: &[PartitionRef]) -> String {
    if list.is_empty() {
        return "—".into();
    }
    list.iter().map(|p| format!("{}-{}", p.topic, p.partition)).collect::<Vec<_>>().join(", ")
}

/// Every second: polls each consumer (what keeps it in its group and consuming) and describes
/// the group. The group `shown` already is described once more when its last consumer goes, so
/// the table follows the leaving; a group no consumer has joined is not asked about (it does not
/// exist yet: GROUP_ID_NOT_FOUND, an error on a fresh page).
#[hook]
fn use_group_polling(send: Callback<Command>, ids: Vec<u32>, group: String, ready: bool, shown: bool) {
    use_effect_with((ids, group, ready, shown), move |(ids, group, ready, shown)| {
        let (ids, group) = (ids.clone(), group.clone());
        let active = *ready && !ids.is_empty();
        if *ready && (active || *shown) {
            send.emit(Command::DescribeGroup { group: group.clone() });
        }
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

#[function_component(ConsumersPanel)]
pub fn consumers_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let group = use_state(|| "billing".to_string());
    let added = use_state(|| 0_u32);

    let ids: Vec<u32> = props.consumers.iter().map(|c| c.id).collect();
    let shown = props.group.as_ref().is_some_and(|view| view.group == *group);
    use_group_polling(props.send.clone(), ids, (*group).clone(), props.ready, shown);

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
                // A playground's session: a crashed member noticed after 10 s, not Kafka's 45 s.
                session_timeout_ms: Some(PLAYGROUND_SESSION_TIMEOUT_MS),
                isolation_level: Default::default(),
            });
        })
    };
    let can_add = props.ready && props.selected_topic.is_some();
    let reset_kind = use_state(|| "earliest".to_string());
    let reset_value = use_state(String::new);
    let reset_error = use_state(|| None::<String>);
    let reset = |execute: bool| {
        let (send, topic, group) = (props.send.clone(), props.selected_topic.clone(), (*group).clone());
        let (kind, value, error) = (reset_kind.clone(), reset_value.clone(), reset_error.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(topic) = topic.clone() else { return };
            match reset_target(&kind, &value) {
                Ok(to) => {
                    error.set(None);
                    send.emit(Command::ResetOffsets { group: group.trim().to_string(), topic, to, execute });
                }
                Err(reason) => error.set(Some(reason)),
            }
        })
    };
    let on_reset_kind = {
        let reset_kind = reset_kind.clone();
        Callback::from(move |e: Event| reset_kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let reset_needs_value = matches!(reset_kind.as_str(), "offset" | "shift-by" | "datetime");
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
                            { for view.rows.iter().map(|row| lag_row(lang, row)) }
                        </tbody>
                    </table>
                    if view.lag_history.len() > 1 {
                        { super::metrics::chart("chart-lag", tr(lang, "Total lag"), tr(lang, "records"),
                            &view.lag_history.iter().map(|&l| l as f64).collect::<Vec<_>>()) }
                    }
                </div>
            }
            <div class="reset-offsets" id="reset-offsets">
                <h3>{ tr(lang, "Reset offsets") }</h3>
                <p class="hint">{ tr(lang, "Like kafka-consumer-groups --reset-offsets: only while the group has no members. Preview is its dry run.") }</p>
                <div class="reset-form">
                    <label>{ tr(lang, "To") }
                        <select id="reset-to" onchange={on_reset_kind}>
                            { for [("earliest", "--to-earliest"), ("latest", "--to-latest"), ("offset", "--to-offset"),
                                   ("shift-by", "--shift-by"), ("datetime", "--to-datetime")]
                                .into_iter().map(|(code, flag)| html! {
                                    <option value={code} selected={*reset_kind == code}>{ flag }</option>
                                }) }
                        </select></label>
                    if reset_needs_value {
                        <input id="reset-value" aria-label={tr(lang, "Offset, shift, or time")} value={(*reset_value).clone()}
                            oninput={bind_text(&reset_value)} />
                    }
                    <button id="reset-preview" type="button" disabled={!can_add} onclick={reset(false)}>{ tr(lang, "Preview") }</button>
                    <button id="reset-execute" type="button" disabled={!can_add} onclick={reset(true)}>{ tr(lang, "Execute") }</button>
                </div>
                if let Some(reason) = &*reset_error {
                    <p class="error" role="alert">{ reason }</p>
                }
                if let Some(done) = &props.last_reset {
                    <p id="reset-result" class="hint" data-executed={done.executed.to_string()}>
                        { if done.executed { tr(lang, "Moved: ") } else { tr(lang, "Would move (dry run): ") } }
                        { done.offsets.iter().map(|o| format!("{}-{} → {}", o.topic, o.partition, o.offset))
                            .collect::<Vec<_>>().join(", ") }
                    </p>
                }
            </div>
        </section>
    }
}

/// One partition of the group: committed offset, log end, lag (to the last stable offset for a
/// member that reads committed) and owner.
fn lag_row(lang: Lang, row: &kite_shared::api::GroupOffsetRow) -> Html {
    let lag = row.lag.map_or("-".to_string(), |l| l.to_string());
    let why = row
        .read_committed
        .then(|| tr(lang, "Its member reads committed: lag counts to the last stable offset"));
    html! {
        <tr data-partition={format!("{}-{}", row.topic, row.partition)} data-lag={lag.clone()}>
            <td>{ format!("{}-{}", row.topic, row.partition) }</td>
            <td>{ row.current_offset.map_or("-".to_string(), |o| o.to_string()) }</td>
            <td>{ row.log_end_offset }</td>
            <td class="lag-value" data-read-committed={row.read_committed.to_string()} title={why}>
                { lag }
                if row.read_committed {
                    <span class="lso-note">{ format!(" → LSO {}", row.last_stable_offset) }</span>
                }
            </td>
            <td>{ row.client_id.clone().unwrap_or_else(|| "-".into()) }</td>
        </tr>
    }
}
