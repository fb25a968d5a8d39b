//! The guided tour after the welcome's one-click start: five steps, each pointing at one part of
//! the page (the map, the producer, a partition's log, a broker to stop, the consumers) with a
//! sentence on what Kafka does there. The step is kept in localStorage, so a reload resumes it;
//! finished or skipped, it is gone for good.

use yew::prelude::*;

use crate::i18n::{Lang, tr};

/// Where the page keeps the tour's step (`0`–`4`, or `done`).
const TOUR_KEY: &str = "kite.tour";

/// Each step: the element it points at (a CSS selector) and what it says.
pub const STEPS: [(&str, &str); 5] = [
    (
        "#map",
        "This is the cluster map. Each column is a broker; each block a replica of one of orders' partitions. The filled block is the partition's leader: producers write to it and consumers read from it. The outlined ones are followers in the ISR, copying the leader.",
    ),
    (
        "#producer",
        "The producer. Send a record with a key: the default partitioner hashes the key with murmur2, so the same key always lands in the same partition. The explanation below shows the arithmetic.",
    ),
    (
        "#partitions",
        "Each partition is an ordered log: every record gets the next offset. LEO is where the next record goes; HW, the high watermark, is how far every in-sync replica has copied, and consumers read only up to it.",
    ),
    (
        "#map .map-broker",
        "Click a broker's name on the map and stop it. The partitions it led get a new leader from their ISR, and its replicas go grey until it starts again.",
    ),
    (
        "#consumers",
        "The consumer group billing reads orders: each partition belongs to one member, and lag is how many records it still has to read. Add a second consumer and watch the group rebalance.",
    ),
];

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The step a reload resumes, if a tour is under way.
pub fn stored_step() -> Option<usize> {
    storage()?.get_item(TOUR_KEY).ok()??.parse().ok().filter(|&step| step < STEPS.len())
}

/// Keeps `step` (`None`: the tour is over, for good).
pub fn store_step(step: Option<usize>) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(TOUR_KEY, &step.map_or("done".to_string(), |s| s.to_string()));
    }
}

/// Marks the step's element (`data-tour="here"`, which style.css outlines) and scrolls it into
/// view; the returned function takes the mark off.
fn point_at(selector: &'static str) -> impl FnOnce() {
    let element =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector(selector).ok().flatten());
    if let Some(element) = &element {
        let _ = element.set_attribute("data-tour", "here");
        element.scroll_into_view();
    }
    move || {
        if let Some(element) = element {
            let _ = element.remove_attribute("data-tour");
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The step shown, from 0.
    pub step: usize,
    /// A step chosen (`None`: the tour ends).
    pub on_step: Callback<Option<usize>>,
}

#[function_component(Tour)]
pub fn tour(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let step = props.step.min(STEPS.len() - 1);
    let (selector, text) = STEPS[step];
    use_effect_with(step, move |_| point_at(selector));
    let go = |to: Option<usize>| {
        let on_step = props.on_step.clone();
        Callback::from(move |_: MouseEvent| on_step.emit(to))
    };
    let last = step + 1 == STEPS.len();
    html! {
        <aside class="tour" id="tour" data-step={(step + 1).to_string()} aria-live="polite" aria-labelledby="tour-title">
            <p class="tour-count" id="tour-title">{ format!("{} {} / {}", tr(lang, "Tour"), step + 1, STEPS.len()) }</p>
            <p>{ tr(lang, text) }</p>
            <p class="actions">
                if step > 0 {
                    <button id="tour-back" onclick={go(Some(step - 1))}>{ tr(lang, "Back") }</button>
                }
                if last {
                    <button id="tour-done" class="primary" onclick={go(None)}>{ tr(lang, "Done") }</button>
                } else {
                    <button id="tour-next" class="primary" onclick={go(Some(step + 1))}>{ tr(lang, "Next") }</button>
                    <button id="tour-skip" onclick={go(None)}>{ tr(lang, "Skip the tour") }</button>
                }
            </p>
        </aside>
    }
}
