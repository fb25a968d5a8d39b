//! Kite Connect: each connector as a pipe between a file (or a generator) and a topic, its
//! tasks' states, the records they moved and how fast; one click starts Kafka's Connect
//! quickstart, a datagen source, or a users table kept by a JDBC sink; the connect directory's
//! files, to upload, read, add lines to and download; the JDBC sinks' tables, a row per key.

use std::collections::BTreeMap;

use kite_shared::api::{Command, ConnectView, ConnectorView, TableView};
use serde_json::json;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub connect: Option<ConnectView>,
    pub ready: bool,
    pub send: Callback<Command>,
}

/// A REST request to Kite Connect.
fn rest(method: &str, path: String, body: Option<serde_json::Value>) -> Command {
    Command::Connect { method: method.into(), path, body }
}

fn connector_path(name: &str, tail: &str) -> String {
    format!("/connectors/{}{tail}", kite_shared::connect::rest::percent_encode(name))
}

/// Kafka's quickstart: two lines in test.txt, a FileStreamSource into connect-test and a
/// FileStreamSink out to test.sink.txt.
fn quickstart() -> Vec<Command> {
    vec![
        Command::WriteConnectFile { path: "test.txt".into(), text: "foo\nbar\n".into(), append: false },
        rest(
            "POST",
            "/connectors".into(),
            Some(json!({"name": "local-file-source", "config": {
            "connector.class": "FileStreamSource", "tasks.max": "1", "file": "test.txt", "topic": "connect-test"}})),
        ),
        rest(
            "POST",
            "/connectors".into(),
            Some(json!({"name": "local-file-sink", "config": {
            "connector.class": "FileStreamSink", "tasks.max": "1", "file": "test.sink.txt", "topics": "connect-test"}})),
        ),
    ]
}

/// A datagen source of orders, as schemaless JSON with a string key.
fn datagen_orders() -> Command {
    rest(
        "POST",
        "/connectors".into(),
        Some(json!({"name": "datagen-orders", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": "orders", "quickstart": "orders",
        "max.interval": "1000", "iterations": "-1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false"}})),
    )
}

/// A datagen source of orders written by Confluent's AvroConverter: the value's schema goes to
/// the schema registry under `orders-avro-value`, each record carries only its id.
fn datagen_orders_avro() -> Command {
    rest(
        "POST",
        "/connectors".into(),
        Some(json!({"name": "datagen-orders-avro", "config": {
        "connector.class": "DatagenConnector", "kafka.topic": "orders-avro", "quickstart": "orders",
        "max.interval": "1000", "iterations": "-1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": "http://localhost:8081"}})),
    )
}

/// A datagen source of users (nine user ids) and a JDBC sink upserting them by key into
/// users.db: the records keep coming, the table keeps one row a user — a KTable.
fn users_table() -> Vec<Command> {
    let schemaless = |config: serde_json::Value| {
        let mut config = config;
        config["key.converter"] = json!("org.apache.kafka.connect.storage.StringConverter");
        config["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");
        config["value.converter.schemas.enable"] = json!("false");
        config
    };
    vec![
        rest(
            "POST",
            "/connectors".into(),
            Some(json!({"name": "datagen-users", "config": schemaless(json!({
            "connector.class": "DatagenConnector", "kafka.topic": "users", "quickstart": "users",
            "max.interval": "1000", "iterations": "-1"}))})),
        ),
        rest(
            "POST",
            "/connectors".into(),
            Some(json!({"name": "users-table", "config": schemaless(json!({
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": "users",
            "connection.url": "jdbc:sqlite:users.db", "insert.mode": "upsert", "pk.mode": "record_key",
            "pk.fields": "userid", "delete.enabled": "true", "auto.create": "true", "auto.evolve": "true"}))})),
        ),
    ]
}

#[function_component(ConnectPanel)]
pub fn connect_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let shown = use_state(|| None::<String>);
    {
        let (send, file) = (props.send.clone(), (*shown).clone());
        use_effect_with((props.ready, file), move |(ready, file)| {
            let describe = Command::DescribeConnect { file: file.clone() };
            // At once (a reloaded tab's connectors, a file just chosen), then every second.
            if *ready {
                send.emit(describe.clone());
            }
            super::every(super::REFRESH_INTERVAL_MS, *ready, move || send.emit(describe.clone()))
        });
    }
    let send = props.send.clone();
    let start = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| quickstart().into_iter().for_each(|c| send.emit(c)))
    };
    let datagen = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send.emit(datagen_orders()))
    };
    let table = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| users_table().into_iter().for_each(|c| send.emit(c)))
    };
    let avro = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send.emit(datagen_orders_avro()))
    };
    let view = props.connect.clone().unwrap_or_default();
    let rates = throughput(&use_mut_ref(Samples::default), &view);
    html! {
        <section class="panel connect" id="connect" aria-labelledby="connect-title">
            <h2 id="connect-title">{ tr(lang, "Connect") }</h2>
            <p class="hint">{ tr(lang, "Kafka Connect moves data between Kafka and other systems: a source connector writes into topics, a sink connector reads them out. Kite runs one worker; its connectors, offsets and states live in the topics connect-configs, connect-offsets and connect-status.") }</p>
            <div class="connect-actions">
                <button id="connect-quickstart" disabled={!props.ready} onclick={start}>{ tr(lang, "Run Kafka's quickstart (file → topic → file)") }</button>
                <button id="connect-datagen" disabled={!props.ready} onclick={datagen}>{ tr(lang, "Add a datagen source of orders") }</button>
                <button id="connect-table" disabled={!props.ready} onclick={table}>{ tr(lang, "Keep users in a table (datagen → JDBC sink, upsert by key)") }</button>
                <button id="connect-avro" disabled={!props.ready} onclick={avro}>{ tr(lang, "Write orders as Avro (schema registry)") }</button>
            </div>
            if view.connectors.is_empty() {
                <p class="hint" id="connect-empty">{ tr(lang, "No connectors yet.") }</p>
            }
            <ul class="connectors" id="connectors">
                { for view.connectors.iter().map(|c| connector(lang, c, rates.get(&c.name).copied(), &send)) }
            </ul>
            { files(lang, &view, &shown, &send) }
            if !view.tables.is_empty() {
                <div class="connect-tables" id="connect-tables">
                    <h3>{ tr(lang, "Tables") }</h3>
                    <p class="hint">{ tr(lang, "A JDBC sink with pk.mode=record_key keeps one row a key, its latest value: a topic read by key is a table (a KTable). A tombstone deletes the row.") }</p>
                    { for view.tables.iter().map(|t| table_view(lang, t)) }
                </div>
            }
            if !view.schemas.is_empty() {
                <div class="connect-schemas" id="connect-schemas">
                    <h3>{ tr(lang, "Schema registry") }</h3>
                    <p class="hint">{ tr(lang, "AvroConverter registers a value's schema once, under the subject <topic>-value, and writes before each record only a zero byte and the schema's id (5 bytes): a reader finds the schema by that id.") }</p>
                    <ul class="subjects">
                        { for view.schemas.iter().map(|s| html! {
                            <li class="subject" data-subject={s.subject.clone()}>
                                <strong>{ &s.subject }</strong>{ " " }{ trf(lang, "version {} · id {}", &[&s.version, &s.id]) }
                                <pre class="schema-text">{ pretty(&s.schema) }</pre>
                            </li>
                        }) }
                    </ul>
                </div>
            }
        </section>
    }
}

/// Each connector's records moved (all its tasks) when last sampled, and the rate since the
/// sample before: the view's throughput.
#[derive(Default)]
struct Samples {
    at_ms: f64,
    totals: BTreeMap<String, u64>,
    rates: BTreeMap<String, f64>,
}

/// Samples move at most once in this long, so a render between refreshes keeps the last rate.
const THROUGHPUT_SAMPLE_MS: f64 = 900.0;

/// Records a second each connector moved, from the records its tasks count.
fn throughput(
    samples: &std::rc::Rc<std::cell::RefCell<Samples>>,
    view: &ConnectView,
) -> BTreeMap<String, f64> {
    let mut samples = samples.borrow_mut();
    let now = js_sys::Date::now();
    let elapsed_ms = now - samples.at_ms;
    if elapsed_ms >= THROUGHPUT_SAMPLE_MS {
        let totals: BTreeMap<String, u64> = view
            .connectors
            .iter()
            .map(|c| (c.name.clone(), c.tasks.iter().map(|t| t.records).sum()))
            .collect();
        let rates = totals
            .iter()
            .filter_map(|(name, total)| {
                let before = samples.totals.get(name)?;
                Some((name.clone(), total.saturating_sub(*before) as f64 * 1000.0 / elapsed_ms))
            })
            .collect();
        *samples = Samples { at_ms: now, totals, rates };
    }
    samples.rates.clone()
}

/// A connector: where its data comes from and goes, its state, its throughput, its tasks, and
/// its buttons.
fn connector(lang: Lang, c: &ConnectorView, rate: Option<f64>, send: &Callback<Command>) -> Html {
    let topics = c.topics.join(", ");
    let file = c.file.clone().unwrap_or_else(|| tr(lang, "generated records").to_string());
    let flow = if c.kind == "sink" { format!("{topics} → {file}") } else { format!("{file} → {topics}") };
    let class = short(&c.class);
    let button = |id: &str, label: &'static str, method: &'static str, tail: &'static str| {
        let (send, name) = (send.clone(), c.name.clone());
        let onclick =
            Callback::from(move |_: MouseEvent| send.emit(rest(method, connector_path(&name, tail), None)));
        html! { <button class="small" id={format!("connector-{id}-{}", c.name)} {onclick}>{ tr(lang, label) }</button> }
    };
    let paused = c.state == "PAUSED";
    html! {
        <li class={classes!("connector", c.kind.clone())} data-name={c.name.clone()} data-state={c.state.clone()}>
            <div class="connector-head">
                <strong>{ &c.name }</strong>
                <code class="connector-class">{ class }</code>
                <span class={classes!("state", c.state.to_lowercase())}>{ &c.state }</span>
                if let Some(rate) = rate {
                    <span class="connector-rate">{ format!("{rate:.0} ") }{ tr(lang, "records/s") }</span>
                }
            </div>
            <p class="connector-flow">{ flow }</p>
            if c.converters.1 != DEFAULT_CONVERTER || c.converters.0 != DEFAULT_CONVERTER {
                <p class="hint connector-converters">{ trf(lang, "Converters: key {}, value {}", &[&short(&c.converters.0), &short(&c.converters.1)]) }</p>
            }
            if !c.transforms.is_empty() {
                <p class="hint">{ trf(lang, "Transforms: {}", &[&c.transforms.join(" → ")]) }</p>
            }
            if let Some(trace) = &c.trace {
                <p class="trace" role="alert">{ trace }</p>
            }
            <ol class="connect-tasks">
                { for c.tasks.iter().map(|t| html! {
                    <li class="connect-task" data-state={t.state.clone()}>
                        <span class={classes!("state", t.state.to_lowercase())}>{ trf(lang, "task {}: {}", &[&t.id, &t.state]) }</span>
                        { " " }{ trf(lang, "{} records", &[&t.records]) }
                        if t.skipped > 0 { { " · " }{ trf(lang, "{} skipped", &[&t.skipped]) } }
                        if t.filtered > 0 { { " · " }{ trf(lang, "{} filtered", &[&t.filtered]) } }
                        if let Some(offset) = &t.offset { { " · " }<code title="connect-offsets">{ offset }</code> }
                        if let Some(trace) = &t.trace { <p class="trace">{ trace }</p> }
                    </li>
                }) }
            </ol>
            <div class="connector-buttons">
                if paused { { button("resume", "Resume", "PUT", "/resume") } } else { { button("pause", "Pause", "PUT", "/pause") } }
                { button("restart", "Restart", "POST", "/restart?includeTasks=true") }
                { button("delete", "Delete", "DELETE", "") }
            </div>
        </li>
    }
}

/// The worker's default converter (Kafka's `connect-distributed.properties`): not worth a line.
const DEFAULT_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// A class's short name (`AvroConverter`).
fn short(class: &str) -> String {
    class.rsplit('.').next().unwrap_or(class).to_string()
}

/// A schema's JSON, indented to be read; as it came when it is not JSON.
fn pretty(schema: &str) -> String {
    serde_json::from_str::<serde_json::Value>(schema)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| schema.to_string())
}

/// The connect directory's files: each to show, the shown one's end, and a line to add.
fn files(
    lang: Lang,
    view: &ConnectView,
    shown: &UseStateHandle<Option<String>>,
    send: &Callback<Command>,
) -> Html {
    // A plain function, not a component: a NodeRef made here serves the form of this render.
    let line = NodeRef::default();
    let add = {
        let (send, shown, line) = (send.clone(), shown.clone(), line.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (Some(path), Some(input)) = ((*shown).clone(), line.cast::<web_sys::HtmlInputElement>())
            else {
                return;
            };
            send.emit(Command::WriteConnectFile { path, text: format!("{}\n", input.value()), append: true });
            input.set_value("");
        })
    };
    // A file the reader chooses becomes a file of the connect directory, replacing one of its
    // name (the tab keeps them in IndexedDB; `kite serve` in --connect-dir).
    let upload = {
        let (send, shown) = (send.clone(), shown.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            let (send, shown) = (send.clone(), shown.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = file.name();
                if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    let text = text.as_string().unwrap_or_default();
                    send.emit(Command::WriteConnectFile { path: path.clone(), text, append: false });
                    shown.set(Some(path));
                }
            });
            input.set_value("");
        })
    };
    html! {
        <div class="connect-files">
            <h3>{ tr(lang, "Files") }</h3>
            <label class="upload">{ tr(lang, "Add a file from this computer") }
                <input type="file" id="connect-upload" accept=".txt,.csv,.json,.jsonl,.log,text/*" onchange={upload} /></label>
            <ul class="file-list" id="connect-files">
                { for view.files.iter().map(|(path, size)| {
                    let (shown, path_clicked) = (shown.clone(), path.clone());
                    let onclick = Callback::from(move |_: MouseEvent| shown.set(Some(path_clicked.clone())));
                    html! { <li><button class="link" data-path={path.clone()} {onclick}>{ path }</button>{ " " }{ trf(lang, "{} bytes", &[size]) }</li> }
                }) }
            </ul>
            if let Some((path, text, from)) = &view.shown {
                <p class="hint">{ if *from > 0 { trf(lang, "{}, from byte {}:", &[path, from]) } else { format!("{path}:") } }</p>
                <pre class="file-text" id="connect-file-text">{ text }</pre>
                if *from == 0 {
                    <a id="connect-download" class="button" download={path.rsplit('/').next().unwrap_or(path).to_string()}
                        href={super::messages::data_url("text/plain", text)}>{ tr(lang, "Download") }</a>
                } else {
                    <p class="hint">{ tr(lang, "Only the file's end is shown; kite serve keeps the whole file in its connect directory.") }</p>
                }
                <form class="append-line" onsubmit={add}>
                    <input ref={line} id="connect-append" aria-label={tr(lang, "A line to append")} placeholder={tr(lang, "A line to append")} />
                    <button type="submit">{ tr(lang, "Append") }</button>
                </form>
            }
        </div>
    }
}

/// A table a JDBC sink writes: its columns (the key's marked), its first rows, its row count.
fn table_view(lang: Lang, t: &TableView) -> Html {
    let more = t.row_count.saturating_sub(t.rows.len() as u64);
    html! {
        <div class="sql-table" data-table={t.table.clone()} data-rows={t.row_count.to_string()}>
            <table>
                <caption>{ trf(lang, "{}: {} — {} rows", &[&t.database, &t.table, &t.row_count]) }</caption>
                <thead><tr>
                    { for t.columns.iter().map(|(name, kind, key)| html! {
                        <th scope="col" class={classes!(key.then_some("key"))} title={if *key { format!("{kind} · {}", tr(lang, "primary key")) } else { kind.clone() }}>
                            if *key { <abbr class="pk" title={tr(lang, "primary key")}>{ "PK" }</abbr>{ " " } }{ name }
                        </th>
                    }) }
                </tr></thead>
                <tbody>
                    { for t.rows.iter().map(|row| html! {
                        <tr>{ for row.iter().map(|cell| match cell {
                            Some(text) => html! { <td>{ text }</td> },
                            None => html! { <td class="null">{ "NULL" }</td> },
                        }) }</tr>
                    }) }
                </tbody>
            </table>
            if more > 0 { <p class="hint">{ trf(lang, "and {} more rows", &[&more]) }</p> }
        </div>
    }
}
