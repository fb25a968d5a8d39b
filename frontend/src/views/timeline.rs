//! The timeline: the engine's events as they happen — appends on leaders and followers, high
//! watermarks, elections, ISR changes, fencing, group joins and syncs — newest first, with the
//! time each happened. Freeze holds the list still to read it; the events keep coming underneath.
//! In the tab, the engine's virtual clock: its time and seed, a speed from ×0.25 to ×100, pause
//! and step, replay from the seed, and reset.

use std::collections::VecDeque;

use kite_shared::api::TabCommand;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use crate::state::{ClockView, ReplayView, TimelineEvent};

/// The clock speeds offered, in percent of real time.
const SPEEDS_PERCENT: [u32; 7] = [25, 50, 100, 200, 500, 1_000, 10_000];

/// How often the clock's time is asked for.
const CLOCK_REFRESH_MS: i32 = 1_000;

/// Events drawn at once (the state keeps more).
const EVENTS_SHOWN: usize = 200;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub events: std::rc::Rc<VecDeque<TimelineEvent>>,
    /// The engine runs in this tab (it has a virtual clock, replay and reset).
    pub in_tab: bool,
    pub ready: bool,
    pub clock: Option<ClockView>,
    pub replayed: Option<ReplayView>,
    pub send: Callback<TabCommand>,
    /// The last `share_state` answer: the `?state=` parameter.
    pub shared_state: Option<String>,
    /// A snapshot file's text to import (the app stops the engine, imports, starts a new one).
    pub on_import_snapshot: Callback<String>,
}

/// Downloads the tab's stored cluster as `kite-snapshot.json` (crate::snapshot).
fn export_snapshot(problem: UseStateHandle<Option<String>>) {
    wasm_bindgen_futures::spawn_local(async move {
        match crate::snapshot::export(crate::indexed_db::DEFAULT_DATABASE_NAME).await {
            Ok(text) => {
                let href = format!(
                    "data:application/json;charset=utf-8,{}",
                    String::from(js_sys::encode_uri_component(&text))
                );
                let link =
                    web_sys::window().and_then(|w| w.document()).and_then(|d| d.create_element("a").ok());
                if let Some(link) = link {
                    let _ = link.set_attribute("href", &href);
                    let _ = link.set_attribute("download", "kite-snapshot.json");
                    // HTMLElement.click(), read without another web-sys feature.
                    let click = js_sys::Reflect::get(&link, &"click".into())
                        .ok()
                        .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok());
                    if let Some(click) = click {
                        let _ = click.call0(&link);
                    }
                }
                problem.set(None);
            }
            Err(reason) => problem.set(Some(reason)),
        }
    });
}

fn speed_label(percent: u32) -> String {
    format!("×{}", f64::from(percent) / 100.0)
}

/// The virtual clock's controls (the tab's engine only).
fn clock_bar(lang: Lang, props: &Props, snapshot_problem: UseStateHandle<Option<String>>) -> Html {
    let Some(clock) = &props.clock else { return html! {} };
    let set = |speed_percent: Option<u32>, paused: Option<bool>, step_ms: Option<i64>| {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| {
            send.emit(TabCommand::SetClock { speed_percent, paused, step_ms })
        })
    };
    let on_speed = {
        let send = props.send.clone();
        Callback::from(move |e: Event| {
            if let Ok(speed) = e.target_unchecked_into::<HtmlSelectElement>().value().parse() {
                send.emit(TabCommand::SetClock { speed_percent: Some(speed), paused: None, step_ms: None });
            }
        })
    };
    let replay = {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| send.emit(TabCommand::Replay))
    };
    let on_file = {
        let on_import = props.on_import_snapshot.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            let on_import = on_import.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    on_import.emit(text.as_string().unwrap_or_default());
                }
            });
        })
    };
    let reset = {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| {
            let sure = web_sys::window()
                .and_then(|w| w.confirm_with_message("Delete this cluster and start a new one?").ok())
                .unwrap_or(false);
            if sure {
                send.emit(TabCommand::ResetCluster);
            }
        })
    };
    html! {
        <div class="clock" id="clock" data-paused={clock.paused.to_string()} data-now={clock.now_ms.to_string()}>
            <span>{ tr(lang, "Engine time") }{ " " }<strong id="clock-now">{ clock_text(clock.now_ms) }</strong></span>
            <span>{ tr(lang, "Seed") }{ " " }<code id="clock-seed">{ clock.seed }</code></span>
            <label>{ tr(lang, "Speed") }
                <select id="clock-speed" onchange={on_speed}>
                    { for SPEEDS_PERCENT.iter().map(|&p| html! {
                        <option value={p.to_string()} selected={p == clock.speed_percent}>{ speed_label(p) }</option>
                    }) }
                </select></label>
            <button id="clock-pause" onclick={set(None, Some(!clock.paused), None)}>
                { if clock.paused { tr(lang, "Run the clock") } else { tr(lang, "Pause the clock") } }</button>
            if clock.paused {
                <button id="clock-step-100" onclick={set(None, None, Some(100))}>{ "+100 ms" }</button>
                <button id="clock-step-1000" onclick={set(None, None, Some(1_000))}>{ "+1 s" }</button>
                <button id="clock-step-10000" onclick={set(None, None, Some(10_000))}>{ "+10 s" }</button>
            }
            <button id="replay" title={tr(lang, "A new cluster with this seed is given every request again, at the same virtual times")}
                onclick={replay}>{ tr(lang, "Replay from seed") }</button>
            <button id="reset-cluster" class="danger" onclick={reset}>{ tr(lang, "Reset cluster") }</button>
            <button id="share-state" title={tr(lang, "A link that makes this same cluster again: its seed and everything it was given")}
                onclick={{
                    let send = props.send.clone();
                    Callback::from(move |_: MouseEvent| send.emit(TabCommand::ShareState))
                }}>{ tr(lang, "Share") }</button>
            if let Some(parameter) = &props.shared_state {
                <input id="share-link" class="share-link" readonly=true aria-label={tr(lang, "Link to this cluster")}
                    value={share_link(parameter)} />
            }
            <button id="export-snapshot" onclick={{
                let problem = snapshot_problem.clone();
                Callback::from(move |_: MouseEvent| export_snapshot(problem.clone()))
            }}>{ tr(lang, "Export snapshot") }</button>
            <label class="import-snapshot">{ tr(lang, "Import snapshot") }
                <input id="import-snapshot" type="file" accept=".json,application/json" onchange={on_file} /></label>
            if let Some(problem) = &*snapshot_problem {
                <p class="error" role="alert">{ problem }</p>
            }
            if let Some(r) = &props.replayed {
                <p id="replay-result" class={classes!("replay", if r.identical { "same" } else { "different" })}
                    data-identical={r.identical.to_string()}>
                    { if r.identical {
                        trf(lang, "Replayed from seed {}: {} requests, {} events — the same cluster, event for event.",
                            &[&r.seed, &r.requests, &r.events])
                    } else {
                        trf(lang, "Replayed from seed {}: {} requests — it came out different: {}",
                            &[&r.seed, &r.requests, &r.differences.join("; ")])
                    } }
                </p>
            }
        </div>
    }
}

/// This page's address with `?state=parameter`.
fn share_link(parameter: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let origin = location.as_ref().and_then(|l| l.origin().ok()).unwrap_or_default();
    let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
    format!("{origin}{path}?state={parameter}")
}

fn clock_text(at_ms: i64) -> String {
    format!("{} UTC", super::iso(at_ms).replace('T', " ").trim_end_matches('Z'))
}

#[function_component(TimelinePanel)]
pub fn timeline_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    // In the tab, the clock's time once a second.
    {
        let send = props.send.clone();
        let active = props.in_tab && props.ready;
        use_effect_with(active, move |active| {
            if *active {
                send.emit(TabCommand::SetClock { speed_percent: None, paused: None, step_ms: None });
            }
            super::every(CLOCK_REFRESH_MS, *active, move || {
                send.emit(TabCommand::SetClock { speed_percent: None, paused: None, step_ms: None })
            })
        });
    }
    let snapshot_problem = use_state(|| None::<String>);
    // Frozen: the events as they were when freeze was pressed.
    let frozen = use_state(|| None::<std::rc::Rc<VecDeque<TimelineEvent>>>);
    let toggle = {
        let (frozen, events) = (frozen.clone(), props.events.clone());
        Callback::from(move |_: MouseEvent| {
            frozen.set(if frozen.is_some() { None } else { Some(events.clone()) });
        })
    };
    // `__consumer_offsets`' fifty partitions are noisy; the learner's topics come first.
    let internal = use_state(|| false);
    let toggle_internal = {
        let internal = internal.clone();
        Callback::from(move |_: Event| internal.set(!*internal))
    };
    let events = frozen.as_ref().unwrap_or(&props.events).clone();
    html! {
        <section class="panel timeline" id="timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">{ tr(lang, "Timeline") }
                <span class="timeline-controls">
                    <label><input id="timeline-internal" type="checkbox" checked={*internal}
                        onchange={toggle_internal} />{ " __consumer_offsets" }</label>
                    <button id="timeline-pause" class="timeline-pause" onclick={toggle}>
                        { if frozen.is_some() { tr(lang, "Unfreeze") } else { tr(lang, "Freeze") } }</button>
                </span>
            </h2>
            if props.in_tab {
                { clock_bar(lang, props, snapshot_problem) }
            }
            <EventList {events} internal={*internal} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct EventListProps {
    events: std::rc::Rc<VecDeque<TimelineEvent>>,
    /// Whether `__consumer_offsets`' events are shown too.
    internal: bool,
}

/// The newest events, newest first: a component of its own, drawn again only when they change.
#[function_component(EventList)]
fn event_list(props: &EventListProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let shown: Vec<&TimelineEvent> =
        props.events.iter().filter(|e| props.internal || !e.internal).take(EVENTS_SHOWN).collect();
    html! {
        <>
            if shown.is_empty() {
                <p class="hint">{ tr(lang, "The engine's events appear here as they happen: produce a record.") }</p>
            }
            <ol class="events" id="events">
                { for shown.iter().map(|e| html! {
                    <li key={e.seq} class={classes!("event", format!("event-{}", e.kind))} data-kind={e.kind.clone()}>
                        <time>{ super::clock(e.at_ms) }</time>
                        <span class="event-text">{ event_text(lang, e) }</span>
                    </li>
                }) }
            </ol>
        </>
    }
}

/// An event's line: the engine's own text, or for events the engine did not push (more than
/// `MAX_EVENTS_PUSHED_PER_SECOND` in a second) how many.
fn event_text(lang: Lang, e: &crate::state::TimelineEvent) -> String {
    if e.kind == "skipped" {
        let most = kite_shared::limits::MAX_EVENTS_PUSHED_PER_SECOND;
        trf(lang, "{} events not shown: more than {} a second", &[&e.text, &most])
    } else {
        e.text.clone()
    }
}
