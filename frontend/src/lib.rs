//! Kite in the browser: the yew UI, and the Web Worker that runs the engine inside the tab.
//!
//! One wasm module serves both roles, compiled once by the page. The page calls `run_app`;
//! `worker.js` calls `worker_main` in a dedicated worker, so the engine never blocks the page's
//! rendering.

pub mod app;
pub mod clock;
pub mod i18n;
pub mod indexed_db;
pub mod link;
pub mod snapshot;
pub mod state;
pub mod views;
pub mod worker;

use wasm_bindgen::prelude::wasm_bindgen;

/// Hands the page's engine to the UI: `worker` the engine worker's script URL, `module` this
/// wasm module as the page compiled it, which each worker the page starts is given rather than
/// fetching and compiling it again. start.js and kite-embed.js call it before anything else.
#[wasm_bindgen]
pub fn set_engine_module(worker: String, module: wasm_bindgen::JsValue) {
    link::set_engine_module(worker, module);
}

/// Mounts the UI on the page's body.
#[wasm_bindgen]
pub fn run_app() {
    yew::Renderer::<app::App>::new().render();
}

/// Mounts a playground playing `scenario` (a script's text, docs/scenarios.md) into `root`,
/// showing `views` (comma-separated; empty: producer and partitions), with the UI's files under
/// `base` (a URL ending in `/`: the full playground's link), in `lang` (`en`, `ko`; empty: the reader's choice), `locked` leaving only the scenario's
/// Continue as a control. kite-embed.js calls it for each `<kite-playground>` element.
#[wasm_bindgen]
pub fn mount_playground(
    root: web_sys::Element,
    scenario: String,
    views: String,
    base: String,
    lang: String,
    locked: bool,
) {
    let mounted = app::Mounted { scenario, views, base, lang, locked };
    yew::Renderer::<app::App>::with_root_and_props(root, app::AppProps { mounted: Some(mounted) }).render();
}

/// Starts the engine inside a dedicated Web Worker (called by `worker.js`).
#[wasm_bindgen]
pub fn worker_main() {
    worker::start();
}
