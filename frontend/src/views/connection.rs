//! Where the engine runs: in this tab, or a `kite serve` over its websocket; and the link's status.

use yew::prelude::*;

use crate::i18n::{Lang, engine_name, status_sentence, tr, trf};

use super::bind_text;
use crate::state::{LinkStatus, Mode, reconnect_delay_ms};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub mode: Mode,
    pub status: LinkStatus,
    /// Reconnect attempts since the server link was lost (0 while connected).
    pub reconnect_attempt: u32,
    pub on_connect: Callback<Mode>,
}

/// The websocket of the server this page came from, if it came from one.
fn default_server_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let protocol = location.as_ref().and_then(|l| l.protocol().ok()).unwrap_or_default();
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    match protocol.as_str() {
        "https:" => format!("wss://{host}/ws"),
        "http:" if !host.is_empty() => format!("ws://{host}/ws"),
        _ => "ws://127.0.0.1:8080/ws".to_string(),
    }
}

#[function_component(ConnectionBar)]
pub fn connection_bar(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let url = use_state(default_server_url);
    let token = use_state(String::new);
    let in_tab = {
        let on_connect = props.on_connect.clone();
        Callback::from(move |_: MouseEvent| on_connect.emit(Mode::InTab))
    };
    let to_server = {
        let on_connect = props.on_connect.clone();
        let (url, token) = (url.clone(), token.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let token = Some(token.trim().to_string()).filter(|t| !t.is_empty());
            on_connect.emit(Mode::Server { url: url.trim().to_string(), token });
        })
    };
    let (status_class, status_text) = match &props.status {
        LinkStatus::Connecting => ("connecting", tr(lang, "connecting…").to_string()),
        LinkStatus::Ready { engine } => ("ready", trf(lang, "ready — {}", &[&engine_name(lang, engine)])),
        LinkStatus::Closed { reason } if props.reconnect_attempt > 0 => {
            let seconds = f64::from(reconnect_delay_ms(props.reconnect_attempt)) / 1000.0;
            let retry = trf(lang, "retrying in {} s (attempt {})", &[&seconds, &props.reconnect_attempt]);
            (
                "closed",
                format!("{} · {retry}", trf(lang, "disconnected — {}", &[&status_sentence(lang, reason)])),
            )
        }
        LinkStatus::Closed { reason } => {
            ("closed", trf(lang, "disconnected — {}", &[&status_sentence(lang, reason)]))
        }
    };
    let in_tab_active = props.mode == Mode::InTab;
    html! {
        <div class="connection">
            <button id="mode-in-tab" class={classes!("mode", in_tab_active.then_some("active"))}
                onclick={in_tab} title={tr(lang, "Run the engine as WebAssembly in this tab")}>{ tr(lang, "In this tab") }</button>
            <form class={classes!("server", (!in_tab_active).then_some("active"))} onsubmit={to_server}>
                <input id="server-url" type="text" aria-label={tr(lang, "Server websocket URL")}
                    value={(*url).clone()} oninput={bind_text(&url)} />
                <input id="server-token" type="password" aria-label={tr(lang, "Token (kite serve --token)")}
                    placeholder={tr(lang, "token, if any")} value={(*token).clone()} oninput={bind_text(&token)}
                    autocomplete="off" />
                <button id="server-connect" type="submit">{ tr(lang, "Connect to server") }</button>
            </form>
            <span id="status" class={classes!("status", status_class)} data-status={status_class}
                data-reconnect-attempt={props.reconnect_attempt.to_string()}
                role="status">{ status_text }</span>
        </div>
    }
}
