//! The UI's connection to an engine: the in-tab worker or a `kite serve` websocket.
//!
//! Both carry the same JSON text messages (`kite_shared::api`); this module is the only place that
//! knows which transport is in use. The websocket carries one message per frame, as its public API
//! says. The worker link is private to the page: it carries the JSON as UTF-8 bytes (a transferred
//! buffer, never turned into a JavaScript string), and the worker posts the answers and pushes of
//! one turn together, one message per line — thousands of event pushes a second were thousands
//! of tasks on the page's thread, each with its own cost.

use std::cell::RefCell;

use js_sys::{Array, Uint8Array};
use kite_shared::api::{ClientMessage, ServerMessage, decode_server_message, encode};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{
    CloseEvent, DedicatedWorkerGlobalScope, MessageEvent, WebSocket, Worker, WorkerOptions, WorkerType,
};

/// What ends each message in the worker's posts. JSON text as the API encodes it has no raw line
/// break: a newline in a string is written `\n`.
const LINE_END: u8 = b'\n';

/// What arrives from the engine, decoded: a message, or a transport event.
// Each is built once per arrival and moved straight into the app; boxing the big variant would
// add an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Incoming {
    Message(ServerMessage),
    /// The text could not be decoded; carries why.
    Undecodable(String),
    Closed(String),
}

enum Transport {
    Worker(Worker),
    Socket(WebSocket),
}

/// An open link. Dropping it ends the worker or closes the socket and detaches every handler.
pub struct EngineLink {
    transport: Transport,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Option<Closure<dyn FnMut(CloseEvent)>>,
}

fn message_handler(on_incoming: impl Fn(Incoming) + 'static) -> Closure<dyn FnMut(MessageEvent)> {
    Closure::new(move |event: MessageEvent| {
        let data = event.data();
        if let Some(text) = data.as_string() {
            return on_incoming(incoming(&text));
        }
        match data.dyn_into::<Uint8Array>() {
            // The worker's lines: every message one turn gave.
            Ok(bytes) => {
                let bytes = bytes.to_vec();
                for line in bytes.split(|b| *b == LINE_END).filter(|line| !line.is_empty()) {
                    on_incoming(match std::str::from_utf8(line) {
                        Ok(text) => incoming(text),
                        Err(err) => {
                            Incoming::Undecodable(format!("the engine sent text that is not UTF-8: {err}"))
                        }
                    });
                }
            }
            Err(_) => on_incoming(Incoming::Undecodable("the engine sent neither text nor bytes".into())),
        }
    })
}

fn incoming(text: &str) -> Incoming {
    match decode_server_message(text) {
        Ok(message) => Incoming::Message(message),
        Err(err) => Incoming::Undecodable(err.to_string()),
    }
}

/// Posts `bytes` as a Uint8Array whose buffer moves to the other side instead of being copied.
fn post_bytes(
    post: impl FnOnce(&JsValue, &JsValue) -> Result<(), JsValue>,
    bytes: &[u8],
) -> Result<(), JsValue> {
    let array = Uint8Array::from(bytes);
    post(&array, &Array::of1(&array.buffer()))
}

/// The worker's side: posts `texts` to the page in one message, each ended by a newline.
pub fn post_lines(scope: &DedicatedWorkerGlobalScope, texts: &[&str]) {
    let mut bytes = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
    for text in texts {
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(LINE_END);
    }
    // Posting to our own page cannot fail short of the page being gone.
    let _ = post_bytes(|message, transfer| scope.post_message_with_transfer(message, transfer), &bytes);
}

/// The worker's side: a message from the page as text (the page posts UTF-8 bytes; a string is
/// taken too). `None` when it is neither.
pub fn request_text(data: &JsValue) -> Option<String> {
    match data.as_string() {
        Some(text) => Some(text),
        None => String::from_utf8(data.dyn_ref::<Uint8Array>()?.to_vec()).ok(),
    }
}

fn js_error(what: &str, err: JsValue) -> String {
    format!("{what}: {}", err.as_string().unwrap_or_else(|| format!("{err:?}")))
}

thread_local! {
    /// The engine worker's script URL and the engine's module as the page compiled it: one
    /// compile per page, whatever the number of workers (playgrounds, restarts) it starts.
    static ENGINE_MODULE: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// Keeps the worker's script URL and the compiled module for every `EngineLink::in_tab`.
pub fn set_engine_module(worker: String, module: JsValue) {
    ENGINE_MODULE.with(|engine| *engine.borrow_mut() = Some((worker, module)));
}

impl EngineLink {
    /// Starts the engine in a module Web Worker in this tab, given `query` (`?storage=`,
    /// `?scenario=`, …) in its URL, where it reads them; its first message is the engine's module
    /// the page compiled (`set_engine_module`).
    pub fn in_tab(query: &str, on_incoming: impl Fn(Incoming) + 'static) -> Result<EngineLink, String> {
        let (script, module) = ENGINE_MODULE.with(|engine| engine.borrow().clone()).ok_or_else(|| {
            "the page has not handed over the engine's module (its entry script calls set_engine_module)"
                .to_string()
        })?;
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(&format!("{script}{query}"), &options)
            .map_err(|e| js_error("cannot start the engine worker", e))?;
        worker.post_message(&module).map_err(|e| js_error("cannot hand the engine to its worker", e))?;
        let on_message = message_handler(on_incoming);
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(EngineLink { transport: Transport::Worker(worker), _on_message: on_message, _on_close: None })
    }

    /// Connects to a `kite serve` websocket, e.g. `ws://127.0.0.1:8080/ws`, with its `--token`
    /// (sent as `?token=`: a browser cannot set headers on a websocket).
    pub fn server(
        url: &str,
        token: Option<&str>,
        on_incoming: impl Fn(Incoming) + Clone + 'static,
    ) -> Result<EngineLink, String> {
        let address = match token.filter(|t| !t.is_empty()) {
            Some(token) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}token={}", String::from(js_sys::encode_uri_component(token)))
            }
            None => url.to_string(),
        };
        // Messages name `url`, never `address`: the token stays out of the page's text.
        let socket =
            WebSocket::new(&address).map_err(|e| js_error(&format!("cannot connect to {url}"), e))?;
        let on_message = message_handler(on_incoming.clone());
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let url = url.to_string();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let reason = match (event.code(), event.reason()) {
                // A browser learns nothing more about a refused upgrade (401, 403) than this.
                (1006, _) => format!(
                    "could not reach {url}: the server is down, or it refused the connection \
                     (a missing or wrong token, or an origin it does not allow)"
                ),
                (code, reason) if reason.is_empty() => format!("{url} closed the connection (code {code})"),
                (code, reason) => format!("{url} closed the connection (code {code}): {reason}"),
            };
            on_incoming(Incoming::Closed(reason));
        });
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(EngineLink {
            transport: Transport::Socket(socket),
            _on_message: on_message,
            _on_close: Some(on_close),
        })
    }

    pub fn send(&self, message: &ClientMessage) -> Result<(), String> {
        let text = encode(message);
        match &self.transport {
            Transport::Worker(worker) => post_bytes(
                |message, transfer| worker.post_message_with_transfer(message, transfer),
                text.as_bytes(),
            )
            .map_err(|e| js_error("cannot reach the engine worker", e)),
            Transport::Socket(socket) => {
                socket.send_with_str(&text).map_err(|e| js_error("cannot send to the server", e))
            }
        }
    }
}

impl Drop for EngineLink {
    fn drop(&mut self) {
        match &self.transport {
            Transport::Worker(worker) => {
                worker.set_onmessage(None);
                worker.terminate();
            }
            Transport::Socket(socket) => {
                socket.set_onmessage(None);
                socket.set_onclose(None);
                let _ = socket.close();
            }
        }
    }
}
