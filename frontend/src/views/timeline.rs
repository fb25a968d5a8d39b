//! The timeline: the engine's events as they happen — appends on leaders and followers, high
//! watermarks, elections, ISR changes, fencing, group joins and syncs — newest first, with the
//! time each happened. Pause freezes the list to read it; the events keep coming underneath.

use std::collections::VecDeque;

use yew::prelude::*;

use crate::i18n::{Lang, tr};

use crate::state::TimelineEvent;

/// Events drawn at once (the state keeps more).
const EVENTS_SHOWN: usize = 200;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub events: VecDeque<TimelineEvent>,
}

/// `HH:MM:SS.mmm` in UTC.
fn clock(at_ms: i64) -> String {
    let ms = at_ms.rem_euclid(86_400_000);
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000)
}

#[function_component(TimelinePanel)]
pub fn timeline_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    // Paused: the events as they were when pause was pressed.
    let frozen = use_state(|| None::<VecDeque<TimelineEvent>>);
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
    let shown: Vec<&TimelineEvent> = frozen
        .as_ref()
        .unwrap_or(&props.events)
        .iter()
        .filter(|e| *internal || !e.internal)
        .take(EVENTS_SHOWN)
        .collect();
    html! {
        <section class="panel timeline" id="timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title">{ tr(lang, "Timeline") }
                <span class="timeline-controls">
                    <label><input id="timeline-internal" type="checkbox" checked={*internal}
                        onchange={toggle_internal} />{ " __consumer_offsets" }</label>
                    <button id="timeline-pause" class="timeline-pause" onclick={toggle}>
                        { if frozen.is_some() { tr(lang, "Resume") } else { tr(lang, "Pause") } }</button>
                </span>
            </h2>
            if shown.is_empty() {
                <p class="hint">{ tr(lang, "The engine's events appear here as they happen: produce a record.") }</p>
            }
            <ol class="events" id="events">
                { for shown.iter().map(|e| html! {
                    <li class={classes!("event", format!("event-{}", e.kind))} data-kind={e.kind.clone()}>
                        <time>{ clock(e.at_ms) }</time>
                        <span class="event-text">{ &e.text }</span>
                    </li>
                }) }
            </ol>
        </section>
    }
}
