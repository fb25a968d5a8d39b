//! The UI's views: small components that render state and dispatch commands.

pub mod cluster;
pub mod code;
pub mod connection;
pub mod consumers;
pub mod generator;
pub mod inspector;
pub mod map;
pub mod messages;
pub mod metrics;
pub mod network;
pub mod partitions;
pub mod producer;
pub mod scenario;
pub mod timeline;
pub mod topics;
pub mod tour;
pub mod transaction;
pub mod welcome;

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::{InputEvent, TargetCast, UseStateHandle};

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
