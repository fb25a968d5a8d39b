//! The in-tab engine host: a dedicated Web Worker owning a `Cluster`, answering JSON text messages.
//!
//! The worker is to the tab what `kite serve` is to a machine: it passes the wall clock in and
//! carries the engine's replies out, through the same `serve_text` the server uses.

use js_sys::Date;
use kite_shared::api::{ServerMessage, encode, serve_text, welcome_text};
use kite_shared::cluster::Cluster;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// What the welcome says answers, shown in the UI's status line.
pub const ENGINE_NAME: &str = concat!("in-tab worker ", env!("CARGO_PKG_VERSION"), " (wasm32)");

/// One message in, one answer out; what the worker does per message.
pub fn answer(cluster: &mut Cluster, now_ms: i64, data: &JsValue) -> String {
    match data.as_string() {
        Some(text) => serve_text(cluster, now_ms, &text),
        None => {
            encode(&ServerMessage::Invalid { message: "the worker accepts JSON text messages only".into() })
        }
    }
}

pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // The host draws the engine's seed; the engine itself never touches entropy.
    let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    let mut cluster = Cluster::new(seed);
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = answer(&mut cluster, Date::now() as i64, &event.data());
        // Posting a string to our own page cannot fail short of the page being gone.
        let _ = reply_scope.post_message(&JsValue::from_str(&text));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    // Messages sent before this point would have been lost, so the page waits for this welcome.
    let _ = scope.post_message(&JsValue::from_str(&welcome_text(ENGINE_NAME)));
}
