//! Kite in the browser: the yew UI, and the Web Worker that runs the engine inside the tab.
//!
//! One wasm module serves both roles. The page calls `run_app`; `worker.js` calls `worker_main` in a
//! dedicated worker, so the engine never blocks the page's rendering.

pub mod app;
pub mod clock;
pub mod i18n;
pub mod indexed_db;
pub mod link;
pub mod state;
pub mod views;
pub mod worker;

use wasm_bindgen::prelude::wasm_bindgen;

/// Mounts the UI on the page's body.
#[wasm_bindgen]
pub fn run_app() {
    yew::Renderer::<app::App>::new().render();
}

/// Starts the engine inside a dedicated Web Worker (called by `worker.js`).
#[wasm_bindgen]
pub fn worker_main() {
    worker::start();
}
