//! The root component: owns the state and the engine link, and wires views to both.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use kite_shared::api::{ClientMessage, Command, Reply, Request, ServerMessage, TabCommand};
use kite_shared::serializer::SerializerKind;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::i18n::{Lang, Theme, tr};

use crate::link::{EngineLink, Incoming};
use crate::state::{Action, AppState, LinkStatus, Mode, follow_ups, reconnect_delay_ms};
use crate::views::Seen;
use crate::views::cluster::ClusterPanel;
use crate::views::code::CodePanel;
use crate::views::connect::ConnectPanel;
use crate::views::connection::ConnectionBar;
use crate::views::consumers::ConsumersPanel;
use crate::views::generator::{BatchRun, BatchSender};
use crate::views::inspector::InspectorPanel;
use crate::views::map::{ClusterMap, OpenPartition};
use crate::views::messages::{BROWSE_FETCH_RECORDS, BrowseRequest, MessagesPanel};
use crate::views::metrics::MetricsPanel;
use crate::views::partitions::{PartitionsView, Reveal};
use crate::views::producer::ProducerPanel;
use crate::views::scenario::ScenarioPanel;
use crate::views::timeline::TimelinePanel;
use crate::views::topics::TopicsPanel;
use crate::views::welcome::WelcomeCard;

/// Sends `command` under the next request id and returns the id.
fn send_command(
    link: &RefCell<Option<EngineLink>>,
    next_id: &RefCell<u64>,
    command: impl Into<Request>,
) -> Result<u64, String> {
    let id = {
        let mut next = next_id.borrow_mut();
        *next += 1;
        *next
    };
    match link.borrow().as_ref() {
        Some(link) => link.send(&ClientMessage { id, command: command.into() }).map(|()| id),
        None => Err("not connected to an engine".to_string()),
    }
}

/// `performance.mark(name)`, read without another web-sys feature.
fn performance_mark(name: &str) {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into());
    if let Ok(performance) = performance {
        let mark = js_sys::Reflect::get(&performance, &"mark".into());
        if let Ok(mark) = mark.and_then(|m| m.dyn_into::<js_sys::Function>()) {
            let _ = mark.call1(&performance, &name.into());
        }
    }
}

/// The message browser's requests in flight: their ids, and for an offset lookup by time the
/// deserializers of the fetch its answer leads to.
/// The message browser's requests: for a seek by time, how to read from the offset it finds.
type BrowseIds = BTreeMap<u64, Option<BrowseAs>>;

/// How the message browser reads: its deserializers and its isolation level.
type BrowseAs = ((SerializerKind, SerializerKind), kite_shared::api::IsolationLevel);

/// What the page's URL asks for: `?scenario=v1.…` plays a scenario (docs/scenarios.md);
/// `?embed=1` is the compact widget a docs page embeds, showing `?views=` (default: producer and
/// partitions) under the scenario, with a link to the same scenario in the full playground.
#[derive(Clone, Debug, PartialEq)]
struct Page {
    scenario: bool,
    embed: bool,
    /// `?locked=1` (or a locked element): the views show, but their controls are off; only the
    /// scenario's Continue works, as a docs author wants a page's example to stay on its point.
    locked: bool,
    views: Vec<String>,
    full_playground: String,
    /// What the worker is told in its URL.
    worker_query: String,
}

/// A playground a `<kite-playground>` element mounts (kite-embed.js): its scenario's text, the
/// views it shows, and where the UI's files are.
#[derive(Clone, Debug, PartialEq)]
pub struct Mounted {
    pub scenario: String,
    pub views: String,
    /// The UI's directory (a URL ending in `/`), where the full playground's link points.
    pub base: String,
    /// The element's `lang` (`ko`, `en`); the reader's choice when empty.
    pub lang: String,
    /// The element's `locked`: only the scenario's Continue is a control.
    pub locked: bool,
}

#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// Set when mounted into an element; the page's own URL says what to show otherwise.
    #[prop_or_default]
    pub mounted: Option<Mounted>,
}

/// The views an embed shows unless `?views=` names others.
const DEFAULT_EMBED_VIEWS: [&str; 2] = ["producer", "partitions"];

/// The views a `views` list names (comma-separated), or the default ones when there is none.
fn embed_views(list: Option<&str>) -> Vec<String> {
    match list.map(str::trim).filter(|l| !l.is_empty()) {
        Some(list) => list.split(',').map(|v| v.trim().to_string()).collect(),
        None => DEFAULT_EMBED_VIEWS.iter().map(|v| v.to_string()).collect(),
    }
}

impl Page {
    fn mounted(mounted: &Mounted) -> Page {
        let parameter = kite_shared::scenario::to_url(&mounted.scenario);
        let views = embed_views(Some(&mounted.views));
        Page {
            scenario: true,
            embed: true,
            locked: mounted.locked,
            views,
            full_playground: format!("{}?scenario={parameter}", mounted.base),
            worker_query: format!("?scenario={parameter}"),
        }
    }

    fn from_location() -> Page {
        let location = web_sys::window().map(|w| w.location());
        let search = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
        let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
        let pairs: Vec<&str> = search.trim_start_matches('?').split('&').filter(|p| !p.is_empty()).collect();
        let value =
            |name: &str| pairs.iter().find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
        let views = embed_views(value("views"));
        let kept: Vec<&str> =
            pairs.iter().copied().filter(|p| !p.starts_with("embed=") && !p.starts_with("views=")).collect();
        Page {
            scenario: value("scenario").is_some(),
            embed: value("embed") == Some("1"),
            locked: value("locked") == Some("1"),
            views,
            full_playground: format!("{path}?{}", kept.join("&")),
            // The worker reads the page's `?storage=` and `?scenario=` from its own URL.
            worker_query: search,
        }
    }
}

/// How long the engine's event pushes (and the generator's batch answers) are gathered before
/// they update the state together: a produce burst brings thousands, and one render each would
/// starve the page's frames. At 100 ms a burst of 100,000 records still had frames over 50 ms;
/// at 250 ms none (docs/benchmarks.md), and four updates a second still read as live.
const EVENT_FLUSH_MS: i32 = 250;

/// The reader's language and theme, and the controls that change them.
struct Preferences {
    lang: Lang,
    theme: Theme,
    toggle_lang: Callback<MouseEvent>,
    on_theme: Callback<Event>,
}

/// Marks for the first-render benchmark (tests/benches/first_render.rs): the first render, and
/// the engine's first answer.
#[hook]
fn use_performance_marks(ready: bool) {
    use_effect_with((), |_| performance_mark("kite-first-render"));
    use_effect_with(ready, |ready| {
        if *ready {
            performance_mark("kite-engine-ready");
        }
    });
}

/// The reader's language and theme: from the URL, their last choice, or the system's. A mounted
/// playground takes its element's language (`mounted_lang`) and leaves the host page's alone.
#[hook]
fn use_preferences(mounted_lang: Option<Lang>, mounted: bool) -> Preferences {
    let lang_state = use_state(|| mounted_lang.unwrap_or_else(Lang::initial));
    let theme = use_state(Theme::initial);
    let lang = *lang_state;
    use_effect_with(lang, move |lang| {
        if !mounted {
            lang.apply()
        }
    });
    use_effect_with(*theme, move |theme| {
        if !mounted {
            theme.apply()
        }
    });
    let toggle_lang = Callback::from(move |_: MouseEvent| {
        lang_state.set(if *lang_state == Lang::Ko { Lang::En } else { Lang::Ko })
    });
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            if let Some(chosen) = Theme::from_code(&value) {
                theme.set(chosen);
            }
        })
    };
    Preferences { lang, theme: *theme, toggle_lang, on_theme }
}

/// The ways the page sends to the engine. Each is made once (`use_callback`, `use_memo`): a
/// callback made anew at each render differs from the last, and every view that takes one would
/// render again at each of the page's updates, whether its own data changed or not.
struct Senders {
    request: Callback<Request>,
    /// The engine's commands.
    engine: Callback<Command>,
    /// The tab's (its clock, replay, reset and scenario).
    tab: Callback<TabCommand>,
    browse: SendBrowse,
    batch: Callback<Command>,
}

#[hook]
fn use_senders(
    link: &Rc<RefCell<Option<EngineLink>>>,
    next_id: &Rc<RefCell<u64>>,
    browse_ids: &Rc<RefCell<BrowseIds>>,
    batch_ids: &Rc<RefCell<HashSet<u64>>>,
    dispatcher: UseReducerDispatcher<AppState>,
) -> Senders {
    let send_request = {
        let (link, next_id) = (link.clone(), next_id.clone());
        let dispatcher = dispatcher.clone();
        use_callback((), move |command: Request, _| {
            if let Err(reason) = send_command(&link, &next_id, command) {
                dispatcher.dispatch(Action::SendFailed(reason));
            }
        })
    };
    // The engine's commands, and the tab's (its clock, replay, reset and scenario).
    // An action Kafka's clients can do too is kept for the Code view as it goes.
    let (send, send_tab) = {
        let (send_request, dispatcher) = (send_request.clone(), dispatcher.clone());
        (*use_memo((), move |_| {
            let engine = send_request.reform(Request::Engine);
            let acted = Callback::from(move |command: Command| {
                if kite_shared::code::is_copyable(&command) {
                    dispatcher.dispatch(Action::Acted(command.clone()));
                }
                engine.emit(command);
            });
            (acted, send_request.reform(Request::Tab))
        }))
        .clone()
    };
    // The message browser's requests, whose answers go to it rather than to the partition view.
    let send_browse = {
        let (link, next_id, browse_ids) = (link.clone(), next_id.clone(), browse_ids.clone());
        let dispatcher = dispatcher.clone();
        let made = use_memo((), move |_| -> SendBrowse {
            Rc::new(move |command: Command, deserializers: Option<BrowseAs>| {
                let by_time = matches!(command, Command::ListOffsets { .. });
                match send_command(&link, &next_id, command) {
                    Ok(id) => {
                        browse_ids.borrow_mut().insert(id, deserializers.filter(|_| by_time));
                    }
                    Err(reason) => dispatcher.dispatch(Action::SendFailed(reason)),
                }
            })
        });
        (*made).clone()
    };
    // The generator's batches, whose answers also tell its run to send the next.
    let send_batch = {
        let (link, next_id, batch_ids) = (link.clone(), next_id.clone(), batch_ids.clone());
        let dispatcher = dispatcher.clone();
        use_callback((), move |command: Command, _| match send_command(&link, &next_id, command) {
            Ok(id) => {
                batch_ids.borrow_mut().insert(id);
            }
            Err(reason) => dispatcher.dispatch(Action::SendFailed(reason)),
        })
    };
    Senders { request: send_request, engine: send, tab: send_tab, browse: send_browse, batch: send_batch }
}

/// The message browser's requests: a command, and for a seek by time the deserializers of the
/// fetch its answer leads to.
type SendBrowse = Rc<dyn Fn(Command, Option<BrowseAs>)>;

/// Where the engine's messages go: event pushes and the generator's batch answers are gathered
/// for the next flush, the message browser's answers go to it, everything else to the state,
/// followed by the requests it calls for.
#[derive(Clone)]
struct Router {
    dispatcher: UseReducerDispatcher<AppState>,
    send_request: Callback<Request>,
    browse_ids: Rc<RefCell<BrowseIds>>,
    send_browse: SendBrowse,
    batch_run: Rc<RefCell<BatchRun>>,
    batch_ids: Rc<RefCell<HashSet<u64>>>,
    send_batch: Callback<Command>,
    /// Messages waiting for the next flush (`None`: no flush is scheduled): the page renders them
    /// together, at most every EVENT_FLUSH_MS.
    gathered: Rc<RefCell<Option<Vec<ServerMessage>>>>,
}

impl Router {
    fn route(&self, incoming: Incoming) {
        match incoming {
            Incoming::Message(event @ ServerMessage::Push { .. }) => self.gather(event),
            Incoming::Message(answer @ ServerMessage::Reply { id, .. })
                if self.batch_ids.borrow().contains(&id) =>
            {
                self.batch_ids.borrow_mut().remove(&id);
                self.gather(answer);
                // The next batches go in a task of their own, not at the next render: made and
                // encoded in the same task as a worker message's other answers, they kept the
                // page from drawing a frame for 50–100 ms (docs/benchmarks.md).
                let (run, send) = (self.batch_run.clone(), self.send_batch.clone());
                crate::views::later(0, move || {
                    let next = run.borrow_mut().answered();
                    next.into_iter().for_each(|command| send.emit(command));
                });
            }
            // While the generator runs, the topics it refreshes are drawn at the next flush with
            // the batches' answers, not in a render of their own.
            Incoming::Message(answer @ ServerMessage::Reply { reply: Reply::Topics { .. }, .. })
                if self.batch_run.borrow().running() =>
            {
                self.gather(answer)
            }
            Incoming::Message(ServerMessage::Reply { id, reply })
                if self.browse_ids.borrow().contains_key(&id) =>
            {
                let by_time = self.browse_ids.borrow_mut().remove(&id).flatten();
                // A seek by time found its offset: read from there.
                if let (
                    Reply::Offsets { topic, partition, offset: Some(offset), .. },
                    Some((deserializers, isolation)),
                ) = (&reply, by_time)
                {
                    let fetch = Command::Fetch {
                        topic: topic.clone(),
                        partition: *partition,
                        offset: *offset,
                        max_records: BROWSE_FETCH_RECORDS,
                        key_deserializer: deserializers.0,
                        value_deserializer: deserializers.1,
                        isolation_level: isolation,
                    };
                    (self.send_browse)(fetch, None);
                }
                self.dispatcher.dispatch(Action::Browsed(reply));
            }
            // The partitions view's fetches come back one per partition (up to PARTITIONS_SHOWN
            // after each refresh of a topic's offsets): rendered together at the next flush, not
            // one render each.
            Incoming::Message(answer @ ServerMessage::Reply { reply: Reply::Records { .. }, .. }) => {
                self.gather(answer)
            }
            Incoming::Message(message) => {
                let next = follow_ups(&message);
                self.dispatcher.dispatch(Action::Message(message));
                next.into_iter().for_each(|command| self.send_request.emit(command));
            }
            Incoming::Undecodable(reason) => self.dispatcher.dispatch(Action::Undecodable(reason)),
            Incoming::Closed(reason) => self.dispatcher.dispatch(Action::Closed(reason)),
        }
    }

    fn gather(&self, message: ServerMessage) {
        let mut waiting = self.gathered.borrow_mut();
        match waiting.as_mut() {
            Some(messages) => messages.push(message),
            None => {
                *waiting = Some(vec![message]);
                let (gathered, dispatcher) = (self.gathered.clone(), self.dispatcher.clone());
                crate::views::later(EVENT_FLUSH_MS, move || {
                    let messages = gathered.borrow_mut().take().unwrap_or_default();
                    dispatcher.dispatch(Action::Messages(messages));
                });
            }
        }
    }
}

/// The compact widget a docs page embeds: the scenario and the views the author chose, no header.
fn embed_page(
    lang: Lang,
    batch_sender: BatchSender,
    status: &LinkStatus,
    scenario_panel: Option<Html>,
    chosen: Vec<Html>,
    locked: bool,
) -> Html {
    let status = match status {
        LinkStatus::Ready { .. } => "ready",
        LinkStatus::Connecting => "connecting",
        LinkStatus::Closed { .. } => "closed",
    };
    html! {
        <ContextProvider<Lang> context={lang}>
        <ContextProvider<BatchSender> context={batch_sender}>
        <div class="kite embed">
            <p class="embed-status"><span id="status" class="status" data-status={status}>{ "Kite" }</span></p>
            <main class="panels">
                { for scenario_panel }
                if locked {
                    // A disabled fieldset turns off every control inside it, keyboard included:
                    // the views still show and refresh, the scenario's Continue stays on.
                    <fieldset class="locked" disabled=true>{ for chosen }</fieldset>
                } else {
                    { for chosen }
                }
            </main>
        </div>
        </ContextProvider<BatchSender>>
        </ContextProvider<Lang>>
    }
}

/// The language switch and the theme's choice, in the header.
fn preferences(
    lang: Lang,
    theme: Theme,
    toggle_lang: Callback<MouseEvent>,
    on_theme: Callback<Event>,
) -> Html {
    let other = if lang == Lang::Ko { "English" } else { "한국어" };
    html! {
        <span class="preferences">
            <button id="language" class="language" onclick={toggle_lang} title={other}>{ other }</button>
            <label>{ tr(lang, "Theme") }
                <select id="theme" onchange={on_theme}>
                    { for Theme::ALL.iter().map(|t| html! {
                        <option value={t.code()} selected={*t == theme}>{ tr(lang, t.code()) }</option>
                    }) }
                </select></label>
        </span>
    }
}

/// Choosing a topic (the topics view), and the map opening a partition's log (and a record's
/// lineage) in the partitions view: the topic selected, and what to reveal there.
#[hook]
fn use_topic_openers(
    dispatcher: UseReducerDispatcher<AppState>,
) -> (Callback<String>, UseStateHandle<Option<Reveal>>, OpenPartition) {
    let reveal = use_state(|| None::<Reveal>);
    let on_select = {
        let dispatcher = dispatcher.clone();
        use_callback((), move |name: String, _| dispatcher.dispatch(Action::SelectTopic(name)))
    };
    let on_open = {
        let set_reveal = reveal.setter();
        use_callback(
            (*reveal).clone(),
            move |(topic, partition, offset): (String, i32, Option<i64>), shown| {
                dispatcher.dispatch(Action::SelectTopic(topic.clone()));
                let nonce = shown.as_ref().map_or(0, |r: &Reveal| r.nonce.wrapping_add(1));
                set_reveal.set(Some(Reveal { topic, partition, offset, nonce }));
            },
        )
    };
    (on_select, reveal, on_open)
}

/// The views the page is about, in the stage; the ones to look things up in, in the side panel.
const STAGE_VIEWS: [&str; 3] = ["map", "producer", "consumers"];
const DETAIL_VIEWS: [(&str, &str); 9] = [
    ("topics", "Topics"),
    ("partitions", "Partitions"),
    ("messages", "Messages"),
    ("cluster", "Cluster"),
    ("connect", "Connect"),
    ("inspector", "Protocol inspector"),
    ("metrics", "Metrics"),
    ("timeline", "Timeline"),
    ("code", "Code"),
];

/// The full page's views: the map with the producer and consumers beside it in the stage, the
/// detailed views in a side panel of their own (with links to each) on a wide screen; one column,
/// the stage first, on a narrow one. While the generator streams records, the side panel's views
/// out of sight are drawn at most once a second (`Seen`).
fn layout(lang: Lang, generation: u64, streaming: bool, panels: Vec<(&str, Html)>) -> Html {
    let pick = |name: &str| panels.iter().find(|(n, _)| *n == name).map(|(_, panel)| panel.clone());
    html! { <>
        <div class="stage">{ for STAGE_VIEWS.iter().filter_map(|name| pick(name)) }</div>
        <aside class="details" aria-label={tr(lang, "The detailed views")}>
            <nav class="details-nav" aria-label={tr(lang, "Details")}>
                { for DETAIL_VIEWS.iter().map(|(id, title)| html! { <a href={format!("#{id}")}>{ tr(lang, title) }</a> }) }
            </nav>
            <div class="details-views">
                { for DETAIL_VIEWS.iter().filter_map(|(name, _)| pick(name)).map(|view| html! { <Seen epoch={generation} {streaming}>{ view }</Seen> }) }
            </div>
        </aside>
    </> }
}

/// The last error, with Kafka's error name (when the text starts with one) for tests and styles,
/// and a button that dismisses it.
fn error_banner(lang: Lang, error: &str, dispatcher: UseReducerDispatcher<AppState>) -> Html {
    let code = error.split(':').next().filter(|c| c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'));
    html! {
        <p id="error" class="error" role="alert" data-code={code.unwrap_or_default().to_string()}>
            { error }
            <button class="dismiss" id="error-dismiss" aria-label={tr(lang, "Dismiss")} title={tr(lang, "Dismiss")}
                onclick={Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::DismissError))}>
                { "×" }
            </button>
        </p>
    }
}

/// A callback that turns its value into an action on the state.
fn dispatching<T: 'static>(state: &UseReducerHandle<AppState>, to_action: fn(T) -> Action) -> Callback<T> {
    let dispatcher = state.dispatcher();
    Callback::from(move |value| dispatcher.dispatch(to_action(value)))
}

/// The timeline, its clock and its replay (the tab's), and snapshots of the cluster.
fn timeline_panel(
    state: &AppState,
    send_tab: Callback<TabCommand>,
    on_import_snapshot: Callback<String>,
) -> Html {
    html! {
        <TimelinePanel events={state.timeline.clone()} in_tab={state.mode == Mode::InTab} ready={state.is_ready()}
            clock={state.clock.clone()} replayed={state.replayed.clone()} send={send_tab}
            {on_import_snapshot} shared_state={state.shared_state.clone()} />
    }
}

/// Copy the code: the reader's last action with Kafka's tools and clients.
fn code_panel(state: &AppState) -> Html {
    html! { <CodePanel action={state.last_action.clone()} in_tab={state.mode == Mode::InTab} /> }
}

/// The producer, its settings and its idempotence kept in the state.
fn producer_panel(state: &UseReducerHandle<AppState>, send: Callback<Command>) -> Html {
    let on_serializers = dispatching(state, |(key, value)| Action::SetSerializers { key, value });
    let on_batch_start = dispatching(state, |()| Action::BatchStarted);
    let on_sent = dispatching(state, |(command, retry)| Action::ProduceSent(command, retry));
    let on_idempotence = dispatching(state, Action::SetIdempotence);
    let on_begin_transaction = dispatching(state, Action::BeginTransaction);
    html! {
        <ProducerPanel topics={state.topics.clone()} selected={state.selected_topic.clone()}
            ready={state.is_ready()} {send} last_produced={state.last_produced.clone()}
            key_serializer={state.key_serializer} value_serializer={state.value_serializer}
            {on_serializers} {on_batch_start} batch_tally={state.batch_tally.clone()}
            session={state.producer.clone()} {on_sent} {on_idempotence} {on_begin_transaction}
            consumed={state.consumed_positions()} />
    }
}

/// The protocol inspector over the exchanges the state holds.
fn inspector_panel(state: &AppState, send: Callback<Command>) -> Html {
    html! {
        <InspectorPanel exchanges={state.kafka_exchanges.clone()} in_tab={state.mode == Mode::InTab}
            ready={state.is_ready()} {send} />
    }
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let page = use_memo(props.mounted.clone(), |mounted| match mounted {
        Some(mounted) => Page::mounted(mounted),
        None => Page::from_location(),
    });
    let Preferences { lang, theme, toggle_lang, on_theme } = use_preferences(
        props.mounted.as_ref().and_then(|m| Lang::from_code(&m.lang)),
        props.mounted.is_some(),
    );
    let state = use_reducer(|| AppState::new(Mode::InTab));
    use_performance_marks(state.is_ready());
    let link = use_mut_ref(|| None::<EngineLink>);
    let next_id = use_mut_ref(|| 0_u64);
    let browse_ids = use_mut_ref(BrowseIds::new);
    // The generator's run, and the ids of its batches still unanswered.
    let batch_run = use_mut_ref(BatchRun::default);
    let batch_ids = use_mut_ref(HashSet::<u64>::new);
    let Senders {
        request: send_request,
        engine: send,
        tab: send_tab,
        browse: send_browse,
        batch: send_batch,
    } = use_senders(&link, &next_id, &browse_ids, &batch_ids, state.dispatcher());
    let batch_sender = BatchSender { run: batch_run.clone(), send: send_batch.clone() };
    let browse = {
        let (dispatcher, send_browse) = (state.dispatcher(), send_browse.clone());
        let deserializers = (state.key_serializer, state.value_serializer);
        use_callback(deserializers, move |request: BrowseRequest, deserializers| {
            if request.reset {
                dispatcher.dispatch(Action::BrowseReset);
            }
            let read = Some((*deserializers, request.isolation));
            request.commands.into_iter().for_each(|command| send_browse(command, read));
        })
    };

    // (Re)open the link whenever a connection is asked for; close it when replaced or unmounted.
    {
        let router = Router {
            dispatcher: state.dispatcher(),
            send_request: send_request.clone(),
            browse_ids: browse_ids.clone(),
            send_browse: send_browse.clone(),
            batch_run: batch_run.clone(),
            batch_ids: batch_ids.clone(),
            send_batch: send_batch.clone(),
            gathered: Rc::new(RefCell::new(None)),
        };
        let (link, mode, worker_page) = (link.clone(), state.mode.clone(), (*page).clone());
        use_effect_with(state.generation, move |_| {
            // A new link has none of the old one's batches in flight.
            router.batch_run.borrow_mut().stop();
            let on_failure = router.dispatcher.clone();
            let on_incoming = move |incoming| router.route(incoming);
            let opened = match &mode {
                Mode::InTab => EngineLink::in_tab(&worker_page.worker_query, on_incoming),
                Mode::Server { url, token } => EngineLink::server(url, token.as_deref(), on_incoming),
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

    // A lost or refused server connection is retried with backoff.
    {
        let dispatcher = state.dispatcher();
        let retry =
            matches!(state.mode, Mode::Server { .. }) && matches!(state.status, LinkStatus::Closed { .. });
        use_effect_with((retry, state.reconnect_attempt, state.generation), move |(retry, attempt, _)| {
            let delay = if *retry { reconnect_delay_ms(*attempt) as i32 } else { i32::MAX };
            let cancel =
                (*retry).then(|| crate::views::after(delay, move || dispatcher.dispatch(Action::Reconnect)));
            move || cancel.into_iter().for_each(|cancel| cancel())
        });
    }

    let on_connect = {
        let dispatcher = state.dispatcher();
        use_callback((), move |mode: Mode, _| dispatcher.dispatch(Action::Connect(mode)))
    };
    let (on_select, reveal, on_open) = use_topic_openers(state.dispatcher());

    // Importing a snapshot: the engine (and its database connection) stops, the snapshot replaces
    // what the database holds, and a new engine opens it.
    let on_import_snapshot = {
        let (link, dispatcher) = (link.clone(), state.dispatcher());
        use_callback((), move |text: String, _| {
            link.borrow_mut().take();
            let dispatcher = dispatcher.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let imported = crate::snapshot::import(crate::indexed_db::DEFAULT_DATABASE_NAME, &text).await;
                dispatcher.dispatch(Action::Connect(Mode::InTab));
                if let Err(reason) = imported {
                    dispatcher
                        .dispatch(Action::SendFailed(format!("the snapshot was not imported: {reason}")));
                }
            });
        })
    };
    let ready = state.is_ready();
    // A page with a scenario plays it to its first pause once the engine is ready.
    {
        let send_tab = send_tab.clone();
        let plays = page.scenario && state.mode == Mode::InTab;
        use_effect_with((ready, state.generation), move |(ready, _)| {
            if *ready && plays {
                send_tab.emit(TabCommand::ContinueScenario { choice: None });
            }
        });
    }
    let scenario_panel = page.scenario.then(|| {
        let error = if state.scenario.is_none() { state.last_error.clone() } else { None };
        html! {
            <ScenarioPanel scenario={state.scenario.clone()} {error} {ready} send={send_tab.clone()}
                full_playground={page.embed.then(|| page.full_playground.clone())} />
        }
    });
    // Every view by name, in the full page's order.
    let panels: Vec<(&str, Html)> = vec![
        (
            "map",
            html! {
                <ClusterMap cluster={state.cluster.clone()} topics={state.topics.clone()}
                    last_produced={state.last_produced.clone()} group={state.group.clone()}
                    batch_tally={state.batch_tally.clone()} {ready} send={send.clone()} {on_open} />
            },
        ),
        (
            "topics",
            html! {
                <TopicsPanel topics={state.topics.clone()} selected={state.selected_topic.clone()}
                    {ready} send={send.clone()} {on_select}
                    brokers={state.cluster.as_ref().map(|c| c.brokers.len())} />
            },
        ),
        ("producer", producer_panel(&state, send.clone())),
        (
            "cluster",
            html! {
                <ClusterPanel cluster={state.cluster.clone()} metadata_log={state.metadata_log.clone()} {ready} send={send.clone()} />
            },
        ),
        (
            "partitions",
            html! {
                <PartitionsView topic={state.selected().cloned()} records={state.records.clone()} markers={state.markers.clone()} send={send.clone()}
                    dumped={state.dumped.clone()} reveal={(*reveal).clone()}
                    group={state.group.clone()}
                    key_deserializer={state.key_serializer} value_deserializer={state.value_serializer} />
            },
        ),
        (
            "messages",
            html! {
                <MessagesPanel topic={state.selected().cloned()} browsed={state.browsed.clone()}
                    key_serializer={state.key_serializer} value_serializer={state.value_serializer}
                    {ready} {browse} send={send.clone()} />
            },
        ),
        (
            "consumers",
            html! {
                <ConsumersPanel selected_topic={state.selected_topic.clone()} consumers={state.consumers.clone()}
                    group={state.group.clone()} last_reset={state.last_reset.clone()} {ready} send={send.clone()} />
            },
        ),
        ("connect", html! { <ConnectPanel connect={state.connect.clone()} {ready} send={send.clone()} /> }),
        ("inspector", inspector_panel(&state, send.clone())),
        ("code", code_panel(&state)),
        ("metrics", html! { <MetricsPanel samples={state.metrics.clone()} /> }),
        ("timeline", timeline_panel(&state, send_tab.clone(), on_import_snapshot)),
    ];
    if page.embed {
        // The compact widget: the scenario and the views the author chose, no header.
        let chosen: Vec<Html> = page
            .views
            .iter()
            .filter_map(|name| panels.iter().find(|(n, _)| n == name).map(|(_, panel)| panel.clone()))
            .collect();
        return embed_page(lang, batch_sender, &state.status, scenario_panel, chosen, page.locked);
    }
    html! {
        <ContextProvider<Lang> context={lang}>
        <ContextProvider<BatchSender> context={batch_sender.clone()}>
        <div class="kite">
            <header class="top">
                <h1>{ "Kite" }<span class="tagline">{ tr(lang, "Kafka's semantics, live") }</span></h1>
                <ConnectionBar mode={state.mode.clone()} status={state.status.clone()}
                    reconnect_attempt={state.reconnect_attempt} {on_connect} />
                { preferences(lang, theme, toggle_lang, on_theme) }
            </header>
            if let Some(error) = &state.last_error {
                { error_banner(lang, error, state.dispatcher()) }
            }
            if let Some(notice) = &state.last_notice {
                <p id="notice" class="notice" role="status">{ crate::i18n::status_sentence(lang, notice) }</p>
            }
            <main class="panels">
                { for scenario_panel }
                if !page.scenario {
                    <WelcomeCard {ready} in_tab={state.mode == Mode::InTab}
                        has_own_topics={state.topics.iter().any(|t| !kite_shared::topic::is_hidden(&t.name))}
                        brokers={state.cluster.as_ref().map(|c| c.brokers.len())} send={send.clone()} />
                }
                { layout(lang, state.generation, batch_run.borrow().running(), panels) }
            </main>
        </div>
        </ContextProvider<BatchSender>>
        </ContextProvider<Lang>>
    }
}
