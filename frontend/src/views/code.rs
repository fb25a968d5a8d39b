//! Copy the code: the reader's last action (a topic created, a record produced, a group's consumer
//! opened, offsets reset) as the same action with Kafka's CLI, kcat, Java, confluent-kafka,
//! kafkajs and rdkafka, with the settings Kite used (`kite_shared::code`), a toggle button per tool
//! and a button that copies it.

use kite_shared::api::Command;
use kite_shared::code::{Code, Tool, snippets};
use yew::prelude::*;

use crate::i18n::{Lang, tr};

/// Where the snippets point: `kite serve`'s first broker listens here by default, and it is where
/// a local Kafka listens too.
const BOOTSTRAP: &str = "127.0.0.1:9092";

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The reader's last copyable action, if any yet.
    pub action: Option<Command>,
    /// The engine runs in this tab, where no client can connect: the code is for a real cluster.
    pub in_tab: bool,
}

#[function_component(CodePanel)]
pub fn code_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let chosen = use_state(|| Tool::KafkaCli);
    let copied = use_state(|| false);
    let written = props.action.as_ref().map(|a| snippets(a, BOOTSTRAP)).unwrap_or_default();
    let where_to = if props.in_tab {
        tr(
            lang,
            "This cluster runs in your tab, where no client can reach it: paste the code against a real cluster (its bootstrap servers for 127.0.0.1:9092), or against kite serve.",
        )
    } else {
        tr(lang, "Paste it as it is: kite serve's first broker listens at 127.0.0.1:9092.")
    };
    let shown = written.iter().find(|s| s.tool == *chosen);
    let body = match shown.map(|s| &s.code) {
        None => {
            html! { <p class="hint" id="code-empty">{ tr(lang, "Create a topic, produce a record, start a consumer or reset a group's offsets: the same action with Kafka's tools and clients shows here.") }</p> }
        }
        Some(Code::Ready { text }) => {
            let copy = {
                let (text, copied) = (text.clone(), copied.clone());
                Callback::from(move |_: MouseEvent| copied.set(copy_to_clipboard(&text)))
            };
            html! { <>
                <pre class="code-snippet" id="code-text" tabindex="0"><code>{ text }</code></pre>
                <button type="button" id="code-copy" onclick={copy}>
                    { if *copied { tr(lang, "Copied") } else { tr(lang, "Copy") } }</button>
            </> }
        }
        Some(Code::Unavailable { en, ko }) => {
            html! { <p class="hint" id="code-unavailable">{ if lang == Lang::Ko { ko } else { en } }</p> }
        }
    };
    html! {
        <section class="panel code" id="code" aria-labelledby="code-title">
            <h2 id="code-title">{ tr(lang, "Code") }</h2>
            if !written.is_empty() {
                <p class="hint">{ where_to }</p>
                <div class="code-tools" role="group" aria-label={tr(lang, "Kafka tools and clients")}>
                    { for written.iter().map(|s| {
                        let (choose, copied, tool) = (chosen.clone(), copied.clone(), s.tool);
                        let pick = Callback::from(move |_: MouseEvent| { choose.set(tool); copied.set(false); });
                        let selected = s.tool == *chosen;
                        html! {
                            <button type="button" class="code-tool" data-tool={s.tool.id()}
                                aria-pressed={selected.to_string()} onclick={pick}>{ s.tool.label() }</button>
                        }
                    }) }
                </div>
            }
            { body }
        </section>
    }
}

/// `navigator.clipboard.writeText(text)`, looked up at the call: whether the browser has it (a
/// page not served from a secure origin does not).
fn copy_to_clipboard(text: &str) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let get = |target: &JsValue, name: &str| js_sys::Reflect::get(target, &JsValue::from_str(name)).ok();
    let Some(window) = web_sys::window() else { return false };
    let clipboard =
        get(&window, "navigator").and_then(|n| get(&n, "clipboard")).filter(|c| !c.is_undefined());
    let Some(clipboard) = clipboard else { return false };
    let write = get(&clipboard, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    write.is_some_and(|f| f.call1(&clipboard, &JsValue::from_str(text)).is_ok())
}
