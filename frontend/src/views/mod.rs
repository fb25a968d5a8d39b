//! The UI's views: small components that render state and dispatch commands.

pub mod cluster;
pub mod code;
pub mod connect;
pub mod connection;
pub mod consumers;
pub mod generator;
pub mod inspector;
pub mod map;
pub mod messages;
pub mod metadata_log;
pub mod metrics;
pub mod network;
pub mod partitions;
pub mod producer;
pub mod reassign;
pub mod scenario;
pub mod timeline;
pub mod topics;
pub mod tour;
pub mod transaction;
pub mod welcome;

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::{
    Children, Html, InputEvent, NodeRef, Properties, TargetCast, UseStateHandle, function_component, hook,
    html, use_effect_with, use_mut_ref, use_node_ref, use_state_eq,
};

/// How far outside the visible area a view still counts as on screen: it is drawn up to date just
/// before it scrolls into sight.
const ON_SCREEN_MARGIN_PX: u32 = 200;

/// Whether `node`'s element is on screen, or within ON_SCREEN_MARGIN_PX of it (an
/// IntersectionObserver's answer, which sees through the scrolling boxes around it; `true` until
/// its first answer).
#[hook]
fn use_on_screen(node: &NodeRef) -> bool {
    let on_screen = use_state_eq(|| true);
    {
        let (node, on_screen) = (node.clone(), on_screen.clone());
        use_effect_with((), move |_| {
            let seen = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
                move |entries: js_sys::Array| {
                    // The newest entry says where the element is now.
                    let newest = entries.iter().last();
                    if let Some(entry) =
                        newest.and_then(|e| e.dyn_into::<web_sys::IntersectionObserverEntry>().ok())
                    {
                        on_screen.set(entry.is_intersecting());
                    }
                },
            );
            let options = web_sys::IntersectionObserverInit::new();
            options.set_root_margin(&format!("{ON_SCREEN_MARGIN_PX}px"));
            let observer =
                web_sys::IntersectionObserver::new_with_options(seen.as_ref().unchecked_ref(), &options).ok();
            if let (Some(observer), Some(element)) = (&observer, node.cast::<web_sys::Element>()) {
                observer.observe(&element);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(seen);
            }
        });
    }
    *on_screen
}

/// How often a view out of sight is drawn again while what it shows keeps changing.
const OFF_SCREEN_REFRESH_MS: f64 = 1_000.0;

/// `value` while `on_screen`; out of sight, `value` at most every OFF_SCREEN_REFRESH_MS (the
/// newest then: a timer draws it again once that time is up), and at once in a new `epoch`.
#[hook]
fn use_seen<T: Clone + 'static>(on_screen: bool, epoch: u64, value: T) -> T {
    // What was shown, when, and in which epoch.
    let seen = use_mut_ref(|| (value.clone(), f64::NEG_INFINITY, epoch));
    let waiting = use_mut_ref(|| false);
    let redraw = yew::use_force_update();
    let now = js_sys::Date::now();
    let mut shown = seen.borrow_mut();
    let since_ms = now - shown.1;
    if on_screen || since_ms >= OFF_SCREEN_REFRESH_MS || epoch != shown.2 {
        *shown = (value.clone(), now, epoch);
        return value;
    }
    if !*waiting.borrow() {
        *waiting.borrow_mut() = true;
        let waiting = waiting.clone();
        later((OFF_SCREEN_REFRESH_MS - since_ms).ceil() as i32, move || {
            *waiting.borrow_mut() = false;
            redraw.force_update();
        });
    }
    shown.0.clone()
}

/// How often the cluster's views (and the protocol inspector) ask the engine again.
pub const REFRESH_INTERVAL_MS: i32 = 1_000;

/// Runs `tick` every `interval_ms` while `active`; the returned function stops it (an effect's
/// destructor). `FnMut`, not `Fn`: wasm-bindgen 0.2.130 cannot bind a `dyn Fn()` closure once
/// wasm-opt has run on the module ("failed to find `0` in function table").
pub fn every(interval_ms: i32, active: bool, tick: impl FnMut() + 'static) -> impl FnOnce() {
    let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(tick);
    let window = web_sys::window();
    let handle = match (&window, active) {
        (Some(window), true) => window
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                interval_ms,
            )
            .ok(),
        _ => None,
    };
    move || {
        if let (Some(window), Some(handle)) = (window, handle) {
            window.clear_interval_with_handle(handle);
        }
        drop(tick);
    }
}

/// Runs `then` once after `delay_ms`; the returned function cancels it (an effect's destructor).
pub fn after(delay_ms: i32, then: impl FnMut() + 'static) -> impl FnOnce() {
    let then = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(then);
    let window = web_sys::window();
    let handle = window.as_ref().and_then(|window| {
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(then.as_ref().unchecked_ref(), delay_ms)
            .ok()
    });
    move || {
        if let (Some(window), Some(handle)) = (window, handle) {
            window.clear_timeout_with_handle(handle);
        }
        drop(then);
    }
}

/// Runs `then` once after `delay_ms`, not to be cancelled (the closure frees itself once run).
pub fn later(delay_ms: i32, then: impl FnOnce() + 'static) {
    let then = wasm_bindgen::closure::Closure::once_into_js(then);
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(then.unchecked_ref(), delay_ms);
    }
}

/// An `oninput` handler that keeps a text state in step with its input element.
pub fn bind_text(state: &UseStateHandle<String>) -> yew::Callback<InputEvent> {
    let state = state.clone();
    yew::Callback::from(move |e: InputEvent| state.set(e.target_unchecked_into::<HtmlInputElement>().value()))
}

/// Epoch milliseconds as ISO-8601 UTC (`2026-11-27T06:18:16.368Z`).
pub fn iso(timestamp_ms: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(timestamp_ms as f64)).to_iso_string().into()
}

/// `HH:MM:SS.mmm` in UTC.
pub fn clock(at_ms: i64) -> String {
    let ms = at_ms.rem_euclid(86_400_000);
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000)
}

#[derive(Properties, PartialEq)]
pub struct SeenProps {
    /// The page's connection (`AppState::generation`): a view is never kept as it was on another
    /// engine, whose effects (a tab's clock, a topic's fetches) would go to this one.
    pub epoch: u64,
    /// Records are streaming (the generator runs): out of sight, the view waits.
    pub streaming: bool,
    pub children: Children,
}

/// A view drawn at every update while it is on screen (or about to be), and, while records
/// stream, at most every OFF_SCREEN_REFRESH_MS out of sight; it catches up as it scrolls into
/// view and when the stream ends. The side panel's views change at every update while records
/// stream (each topic's offsets) and nobody sees most of them: on 9 brokers × 500 partitions the
/// timeline alone, out of sight, made most of the page's DOM changes (docs/benchmarks.md).
#[function_component(Seen)]
pub fn seen(props: &SeenProps) -> Html {
    let node = use_node_ref();
    let on_screen = use_on_screen(&node);
    let children = use_seen(on_screen || !props.streaming, props.epoch, props.children.clone());
    html! { <div class="seen" ref={node}>{ children }</div> }
}
