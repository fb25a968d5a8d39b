//! The protocol inspector: the last requests real Kafka clients sent to `kite serve`'s brokers
//! and the responses they got, each opened field by field beside its bytes (size, API key and
//! version, correlation id, client id, tagged fields, then the decoded body), filterable by
//! client and by API. Asked for with `inspect_kafka` once a second, only what is new.

use std::cell::Cell;
use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use kite_shared::api::{Command, KafkaExchangeView, KafkaFrameView};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::REFRESH_INTERVAL_MS;
use crate::i18n::{Lang, tr, trf};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Oldest first.
    pub exchanges: VecDeque<KafkaExchangeView>,
    /// The engine runs in this tab, where no Kafka client can connect.
    pub in_tab: bool,
    pub ready: bool,
    pub send: Callback<Command>,
}

/// What a filter select shows for "every client" or "every API".
const ALL: &str = "";

#[function_component(InspectorPanel)]
pub fn inspector_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    // The newest exchange held, read by the timer at each tick (it outlives this render).
    let newest = use_memo((), |_| Rc::new(Cell::new(0_u64)));
    newest.set(props.exchanges.back().map_or(0, |e| e.id));
    {
        // In the tab only the page's own actions make exchanges: it asks after each of them
        // (state::follow_ups), not on a timer.
        let (send, newest, asks) = (props.send.clone(), (*newest).clone(), props.ready && !props.in_tab);
        use_effect_with(asks, move |asks| {
            super::every(REFRESH_INTERVAL_MS, *asks, move || {
                send.emit(Command::InspectKafka { after: newest.get() });
            })
        });
    }
    let client = use_state(|| ALL.to_string());
    let api = use_state(|| ALL.to_string());
    let clients: BTreeSet<String> = props.exchanges.iter().map(client_label).collect();
    let apis: BTreeSet<String> = props.exchanges.iter().map(|e| e.api.clone()).collect();
    let shown: Vec<&KafkaExchangeView> = props
        .exchanges
        .iter()
        .rev()
        .filter(|e| *client == ALL || client_label(e) == *client)
        .filter(|e| *api == ALL || e.api == *api)
        .collect();
    html! {
        <section class="panel inspector" id="inspector" aria-labelledby="inspector-title">
            <h2 id="inspector-title">{ tr(lang, "Protocol inspector") }</h2>
            if props.in_tab {
                <p class="hint" id="inspector-in-tab">
                    { tr(lang, "No Kafka client can connect to a tab, so here are the page's own actions as the Kafka requests a client would send for them: a produce is a ProduceRequest carrying the very batch the leader stored, a new topic a CreateTopicsRequest, a commit or abort an EndTxnRequest. Under kite serve, real clients' requests show here too.") }
                </p>
            }
            if props.exchanges.is_empty() && props.in_tab {
                <p class="hint" id="inspector-none">
                    { tr(lang, "Nothing sent yet: produce a record or create a topic.") }
                </p>
            } else if props.exchanges.is_empty() {
                <p class="hint" id="inspector-none">
                    { tr(lang, "No Kafka request yet. Point a client at a broker's listener (127.0.0.1:9092): its requests and the broker's responses show here.") }
                </p>
            } else {
                <div class="inspector-filters">
                    <label>{ tr(lang, "Client") }{ " " }
                        { filter_select("inspector-client", lang, &clients, &client) }
                    </label>
                    <label>{ tr(lang, "API") }{ " " }
                        { filter_select("inspector-api", lang, &apis, &api) }
                    </label>
                    <span class="hint">{ trf(lang, "{} of the last {} requests", &[&shown.len(), &props.exchanges.len()]) }</span>
                </div>
                <ul class="exchanges" id="inspector-exchanges">
                    { for shown.into_iter().map(|e| exchange(lang, e)) }
                </ul>
            }
        </section>
    }
}

/// How the filter names an exchange's client: its `client.id` and connection.
fn client_label(exchange: &KafkaExchangeView) -> String {
    let id = if exchange.client_id.is_empty() { "-" } else { exchange.client_id.as_str() };
    format!("{id} #{}", exchange.connection)
}

fn filter_select(
    id: &'static str,
    lang: Lang,
    options: &BTreeSet<String>,
    chosen: &UseStateHandle<String>,
) -> Html {
    let onchange = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| chosen.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    html! {
        <select {id} {onchange}>
            <option value={ALL} selected={chosen.as_str() == ALL}>{ tr(lang, "all") }</option>
            { for options.iter().map(|o| html! { <option value={o.clone()} selected={**chosen == *o}>{ o }</option> }) }
        </select>
    }
}

/// One exchange: a line that opens to the request and the response, side by side.
fn exchange(lang: Lang, e: &KafkaExchangeView) -> Html {
    let answer = match e.outcome.as_str() {
        "answered" => e.response.as_ref().map_or(String::new(), |r| format!("{} B", r.size)),
        "waiting" => tr(lang, "waiting").to_string(),
        "no_response" => tr(lang, "no response (acks=0)").to_string(),
        _ => tr(lang, "connection closed").to_string(),
    };
    let client =
        if e.client_id.is_empty() { tr(lang, "(no client.id)").to_string() } else { e.client_id.clone() };
    html! {
        <li key={e.id} class="exchange" data-api={e.api.clone()} data-outcome={e.outcome.clone()} data-id={e.id.to_string()}>
            <details>
                <summary>
                    <time>{ super::clock(e.at_ms) }</time>
                    <strong>{ format!(" {} v{}", e.api, e.version) }</strong>
                    { format!(" · {client} → ") }{ trf(lang, "broker {}", &[&e.broker]) }
                    { format!(" · corr {} · {} B → {answer}", e.correlation_id, e.request.size) }
                </summary>
                <div class="frames">
                    { frame(lang, tr(lang, "Request"), Some(&e.request), "") }
                    { frame(lang, tr(lang, "Response"), e.response.as_ref(), &outcome_text(lang, e)) }
                </div>
            </details>
        </li>
    }
}

/// Why an exchange has no response frame.
fn outcome_text(lang: Lang, e: &KafkaExchangeView) -> String {
    match e.outcome.as_str() {
        "waiting" => tr(lang, "The broker holds it: a fetch waits for records up to max_wait_ms, a JoinGroup for the rebalance.").to_string(),
        "no_response" => tr(lang, "A Produce with acks=0 gets no response: the producer does not wait.").to_string(),
        "closed" => trf(lang, "The broker closed the connection instead: {}", &[&e.closed_reason]),
        _ => String::new(),
    }
}

/// A field's bytes in hex: at most `FIELD_HEX_BYTES` of them (a batch's records run long).
fn field_hex(hex: &[&str], start: usize, end: usize) -> String {
    let shown = end.min(hex.len()).min(start.saturating_add(FIELD_HEX_BYTES));
    let mut text = hex.get(start..shown).map(|b| b.join(" ")).unwrap_or_default();
    if shown < end {
        text.push_str(" …");
    }
    text
}

/// How many of a field's bytes its row shows.
const FIELD_HEX_BYTES: usize = 16;

/// A frame: its fields with the bytes each spans, its decoded body and its bytes in hex.
fn frame(lang: Lang, title: &str, frame: Option<&KafkaFrameView>, missing: &str) -> Html {
    let Some(frame) = frame else {
        return html! { <div class="frame"><h4>{ title }</h4><p class="hint">{ missing }</p></div> };
    };
    let hex: Vec<&str> = frame.hex.split(' ').collect();
    html! {
        <div class="frame">
            <h4>{ title }{ " · " }{ trf(lang, "{} bytes", &[&frame.size]) }</h4>
            <table class="fields">
                <thead><tr>
                    <th>{ tr(lang, "Field") }</th><th>{ tr(lang, "Value") }</th><th>{ tr(lang, "Bytes") }</th>
                </tr></thead>
                <tbody>
                    { for frame.fields.iter().map(|f| {
                        // The body's bytes are in the dump below; a header field's are shown here.
                        let bytes = if f.name == "body" { String::from("…") } else { field_hex(&hex, f.start, f.end) };
                        // A record batch's field is named "batch N: kafkaName": N above the name.
                        let (batch, name) = f.name.split_once(": ").map_or((None, f.name.as_str()), |(b, n)| (Some(b), n));
                        html! {
                            <tr data-field={f.name.clone()}>
                                <td>
                                    if let Some(batch) = batch.and_then(|b| b.strip_prefix("batch ")) {
                                        <small class="batch">{ trf(lang, "batch {}", &[&batch]) }</small>
                                    }
                                    <code>{ name }</code>
                                </td>
                                <td>
                                    if batch.is_some() && name == "records" {
                                        { trf(lang, "{} record(s), each its length, attributes, timestamp and offset deltas, key, value and headers", &[&f.value]) }
                                    } else {
                                        { &f.value }
                                    }
                                </td>
                                <td><code>{ format!("{}–{} ", f.start, f.end.saturating_sub(1)) }</code><code class="hex">{ bytes }</code></td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            if frame.redacted {
                <p class="hint">{ tr(lang, "It holds credentials: the inspector keeps none of them.") }</p>
            }
            <pre class="body">{ &frame.body }</pre>
            <pre class="hex">{ &frame.hex }</pre>
        </div>
    }
}
