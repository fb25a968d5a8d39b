//! The root component: owns the state and the engine link, and wires views to both.

use kite_shared::api::{ClientMessage, Command};
use yew::prelude::*;

use crate::i18n::{Lang, Theme, tr};

use crate::link::{EngineLink, Incoming};
use crate::state::{Action, AppState, Mode, follow_ups};
use crate::views::cluster::ClusterPanel;
use crate::views::connection::ConnectionBar;
use crate::views::consumers::ConsumersPanel;
use crate::views::metrics::MetricsPanel;
use crate::views::partitions::PartitionsView;
use crate::views::producer::ProducerPanel;
use crate::views::timeline::TimelinePanel;
use crate::views::topics::TopicsPanel;

#[function_component(App)]
pub fn app() -> Html {
    // The reader's language and theme: from the URL, their last choice, or the system's.
    let lang_state = use_state(Lang::initial);
    let theme = use_state(Theme::initial);
    let lang = *lang_state;
    use_effect_with(lang, |lang| lang.apply());
    use_effect_with(*theme, |theme| theme.apply());
    let toggle_lang = {
        let lang_state = lang_state.clone();
        Callback::from(move |_: MouseEvent| {
            lang_state.set(if *lang_state == Lang::Ko { Lang::En } else { Lang::Ko })
        })
    };
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Some(chosen) = Theme::from_code(&value) {
                theme.set(chosen);
            }
        })
    };
    let state = use_reducer(|| AppState::new(Mode::InTab));
    let link = use_mut_ref(|| None::<EngineLink>);
    let next_id = use_mut_ref(|| 0_u64);

    let send = {
        let link = link.clone();
        let dispatcher = state.dispatcher();
        Callback::from(move |command: Command| {
            let id = {
                let mut next = next_id.borrow_mut();
                *next += 1;
                *next
            };
            let sent = match link.borrow().as_ref() {
                Some(link) => link.send(&ClientMessage { id, command }),
                None => Err("not connected to an engine".to_string()),
            };
            if let Err(reason) = sent {
                dispatcher.dispatch(Action::SendFailed(reason));
            }
        })
    };

    // (Re)open the link whenever a connection is asked for; close it when replaced or unmounted.
    {
        let dispatcher = state.dispatcher();
        let send = send.clone();
        let link = link.clone();
        let mode = state.mode.clone();
        use_effect_with(state.generation, move |_| {
            let on_failure = dispatcher.clone();
            let on_incoming = move |incoming: Incoming| match incoming {
                Incoming::Message(message) => {
                    let next = follow_ups(&message);
                    dispatcher.dispatch(Action::Message(message));
                    next.into_iter().for_each(|command| send.emit(command));
                }
                Incoming::Undecodable(reason) => dispatcher.dispatch(Action::Undecodable(reason)),
                Incoming::Closed(reason) => dispatcher.dispatch(Action::Closed(reason)),
            };
            let opened = match &mode {
                Mode::InTab => EngineLink::in_tab(on_incoming),
                Mode::Server { url } => EngineLink::server(url, on_incoming),
            };
            match opened {
                Ok(opened) => *link.borrow_mut() = Some(opened),
                Err(reason) => on_failure.dispatch(Action::Closed(reason)),
            }
            move || {
                link.borrow_mut().take();
            }
        });
    }

    let on_connect = {
        let dispatcher = state.dispatcher();
        Callback::from(move |mode: Mode| dispatcher.dispatch(Action::Connect(mode)))
    };
    let on_select = {
        let dispatcher = state.dispatcher();
        Callback::from(move |name: String| dispatcher.dispatch(Action::SelectTopic(name)))
    };

    let on_serializers = {
        let dispatcher = state.dispatcher();
        Callback::from(move |(key, value)| dispatcher.dispatch(Action::SetSerializers { key, value }))
    };
    let selected = state.selected().cloned();
    let ready = state.is_ready();
    html! {
        <ContextProvider<Lang> context={lang}>
        <div class="kite">
            <header class="top">
                <h1>{ "Kite" }<span class="tagline">{ tr(lang, "Kafka's semantics, live") }</span></h1>
                <ConnectionBar mode={state.mode.clone()} status={state.status.clone()} {on_connect} />
                <span class="preferences">
                    <button id="language" class="language" onclick={toggle_lang}
                        title={if lang == Lang::Ko { "English" } else { "한국어" }}>
                        { if lang == Lang::Ko { "English" } else { "한국어" } }</button>
                    <label>{ tr(lang, "Theme") }
                        <select id="theme" onchange={on_theme}>
                            { for Theme::ALL.iter().map(|t| html! {
                                <option value={t.code()} selected={*t == *theme}>{ tr(lang, t.code()) }</option>
                            }) }
                        </select></label>
                </span>
            </header>
            if let Some(error) = &state.last_error {
                <p id="error" class="error" role="alert">{ error }</p>
            }
            if let Some(notice) = &state.last_notice {
                <p id="notice" class="notice" role="status">{ notice }</p>
            }
            <main class="panels">
                <TopicsPanel topics={state.topics.clone()} selected={state.selected_topic.clone()}
                    {ready} send={send.clone()} {on_select} />
                <ProducerPanel topics={state.topics.clone()} selected={state.selected_topic.clone()}
                    {ready} send={send.clone()} last_produced={state.last_produced.clone()}
                    key_serializer={state.key_serializer} value_serializer={state.value_serializer}
                    {on_serializers} />
                <ClusterPanel cluster={state.cluster.clone()} {ready} send={send.clone()} />
                <PartitionsView topic={selected} records={state.records.clone()} send={send.clone()}
                    group={state.group.clone()}
                    key_deserializer={state.key_serializer} value_deserializer={state.value_serializer} />
                <ConsumersPanel selected_topic={state.selected_topic.clone()} consumers={state.consumers.clone()}
                    group={state.group.clone()} {ready} {send} />
                <MetricsPanel samples={state.metrics.clone()} />
                <TimelinePanel events={state.timeline.clone()} />
            </main>
        </div>
        </ContextProvider<Lang>>
    }
}
