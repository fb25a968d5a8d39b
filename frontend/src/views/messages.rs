//! The message browser: a topic's records as a table (partition, offset, timestamp, key, value,
//! headers) read as a consumer reads them; seek to the beginning, the end, an offset or a
//! timestamp (Kafka's `offsetsForTimes`); filter by key, value or header; a live tail; export what
//! is shown as CSV or JSON; produce a record again.

use std::collections::BTreeMap;

use kite_shared::api::{Command, IsolationLevel, RecordView, TopicDescription};
use kite_shared::serializer::SerializerKind;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use super::bind_text;

/// How many records one seek or tail fetch asks for, per partition.
pub const BROWSE_FETCH_RECORDS: u32 = 100;

/// How often the live tail fetches what was appended since.
pub const TAIL_INTERVAL_MS: i32 = 1_000;

/// How many rows the table draws (the filter runs over every kept record first).
pub const BROWSE_ROWS_SHOWN: usize = 200;

/// What the browser asks of the engine: fetches and offset lookups, after dropping what it showed
/// (`reset`) or adding to it (the tail). Offset lookups' answers lead to fetches read with
/// `deserializers`.
#[derive(Clone, Debug, PartialEq)]
pub struct BrowseRequest {
    pub reset: bool,
    pub commands: Vec<Command>,
    /// The browser's `isolation.level`, for the fetch a seek by time makes once its offset is
    /// found.
    pub isolation: IsolationLevel,
}

/// The browser's `isolation.level`: read_committed shows what such a consumer reads.
fn isolation_select(lang: Lang, isolation: &UseStateHandle<IsolationLevel>) -> Html {
    let level = **isolation;
    let isolation = isolation.clone();
    let on_change = Callback::from(move |e: Event| {
        let committed = e.target_unchecked_into::<HtmlSelectElement>().value() == "read_committed";
        isolation.set(if committed {
            IsolationLevel::ReadCommitted
        } else {
            IsolationLevel::ReadUncommitted
        });
    });
    html! {
        <label title={tr(lang, "read_committed shows what such a consumer reads: nothing of an open or aborted transaction")}>
            { "isolation.level" }
            <select id="browse-isolation" onchange={on_change}>
                <option value="read_uncommitted" selected={level == IsolationLevel::ReadUncommitted}>{ "read_uncommitted" }</option>
                <option value="read_committed" selected={level == IsolationLevel::ReadCommitted}>{ "read_committed" }</option>
            </select></label>
    }
}

impl BrowseRequest {
    /// `commands` with their fetches read at `isolation` (a read_committed browser shows what
    /// such a consumer reads).
    pub fn read(reset: bool, mut commands: Vec<Command>, isolation: IsolationLevel) -> BrowseRequest {
        for command in &mut commands {
            if let Command::Fetch { isolation_level, .. } = command {
                *isolation_level = isolation;
            }
        }
        BrowseRequest { reset, commands, isolation }
    }
}

/// The seek form's choices: each `Seek::parse` kind with its label.
const SEEK_KINDS: [(&str, &str); 5] = [
    ("end", "newest"),
    ("beginning", "beginning"),
    ("offset", "offset"),
    ("timestamp", "timestamp"),
    ("max-timestamp", "largest timestamp"),
];

/// Where a seek starts reading, in every partition browsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    Beginning,
    /// The newest `BROWSE_FETCH_RECORDS` records.
    End,
    Offset(i64),
    /// The first record whose timestamp is at or after it (ListOffsets by time).
    Timestamp(i64),
    /// The record with the largest timestamp, which need not be the newest by offset
    /// (ListOffsets' MAX_TIMESTAMP, KIP-734).
    MaxTimestamp,
}

impl Seek {
    /// Reads the seek form: `kind` is `beginning`, `end`, `offset`, `timestamp` or
    /// `max-timestamp`; `at` an offset,
    /// or a time as epoch milliseconds or an ISO-8601 date.
    pub fn parse(kind: &str, at: &str) -> Result<Seek, String> {
        let at = at.trim();
        match kind {
            "beginning" => Ok(Seek::Beginning),
            "end" => Ok(Seek::End),
            "max-timestamp" => Ok(Seek::MaxTimestamp),
            "offset" => at.parse().map(Seek::Offset).map_err(|_| format!("{at:?} is not an offset")),
            "timestamp" => {
                if let Ok(ms) = at.parse::<i64>() {
                    return Ok(Seek::Timestamp(ms));
                }
                let ms = js_sys::Date::parse(at);
                if ms.is_nan() {
                    Err(format!("{at:?} is neither epoch milliseconds nor an ISO-8601 time"))
                } else {
                    Ok(Seek::Timestamp(ms as i64))
                }
            }
            other => Err(format!("unknown seek {other:?}")),
        }
    }
}

/// The requests a seek makes: a fetch per partition from where it starts, or a ListOffsets by
/// time or for the largest timestamp (whose answer the app turns into a fetch).
pub fn seek_commands(
    topic: &TopicDescription,
    partition: Option<i32>,
    seek: Seek,
    deserializers: (SerializerKind, SerializerKind),
) -> Vec<Command> {
    let fetch = |partition: i32, offset: i64| Command::Fetch {
        topic: topic.name.clone(),
        partition,
        offset,
        max_records: BROWSE_FETCH_RECORDS,
        key_deserializer: deserializers.0,
        value_deserializer: deserializers.1,
        isolation_level: Default::default(),
    };
    topic
        .partitions
        .iter()
        .filter(|p| partition.is_none_or(|chosen| chosen == p.partition))
        .filter(|p| p.log_end_offset > p.log_start_offset)
        .map(|p| match seek {
            Seek::Beginning => fetch(p.partition, p.log_start_offset),
            Seek::End => fetch(
                p.partition,
                (p.log_end_offset - i64::from(BROWSE_FETCH_RECORDS)).max(p.log_start_offset),
            ),
            Seek::Offset(offset) => fetch(p.partition, offset.clamp(p.log_start_offset, p.log_end_offset)),
            Seek::Timestamp(timestamp_ms) => {
                Command::ListOffsets { topic: topic.name.clone(), partition: p.partition, timestamp_ms }
            }
            Seek::MaxTimestamp => Command::ListOffsets {
                topic: topic.name.clone(),
                partition: p.partition,
                timestamp_ms: kite_shared::cluster::MAX_TIMESTAMP,
            },
        })
        .collect()
}

/// Where a seek left each browsed partition: its fetch's offset, or (for a partition it did not
/// fetch, or a seek by time, whose fetch comes later) the log end then. The tail goes on from
/// there in a partition that shows nothing yet.
pub fn seek_starts(
    topic: &TopicDescription,
    partition: Option<i32>,
    commands: &[Command],
) -> BTreeMap<i32, i64> {
    topic
        .partitions
        .iter()
        .filter(|p| partition.is_none_or(|chosen| chosen == p.partition))
        .map(|p| {
            let fetched = commands.iter().find_map(|c| match c {
                Command::Fetch { partition, offset, .. } if *partition == p.partition => Some(*offset),
                _ => None,
            });
            (p.partition, fetched.unwrap_or(p.log_end_offset))
        })
        .collect()
}

/// The tail's fetches: from just after the newest record shown in each browsed partition (from
/// where the seek left it when it shows none), where the log has grown past it.
pub fn tail_commands(
    topic: &TopicDescription,
    browsed: &BTreeMap<(String, i32), Vec<RecordView>>,
    starts: &BTreeMap<i32, i64>,
    deserializers: (SerializerKind, SerializerKind),
) -> Vec<Command> {
    topic
        .partitions
        .iter()
        .filter_map(|p| {
            let start = *starts.get(&p.partition)?;
            let shown = browsed.get(&(topic.name.clone(), p.partition));
            let next = shown.and_then(|rs| rs.last()).map_or(start, |r| r.offset + 1);
            (p.log_end_offset > next).then(|| Command::Fetch {
                topic: topic.name.clone(),
                partition: p.partition,
                offset: next.max(p.log_start_offset),
                max_records: BROWSE_FETCH_RECORDS,
                key_deserializer: deserializers.0,
                value_deserializer: deserializers.1,
                isolation_level: Default::default(),
            })
        })
        .collect()
}

/// Which field the filter looks in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterField {
    Any,
    Key,
    Value,
    Header,
}

impl FilterField {
    pub const ALL: [FilterField; 4] =
        [FilterField::Any, FilterField::Key, FilterField::Value, FilterField::Header];

    pub fn code(self) -> &'static str {
        match self {
            FilterField::Any => "any",
            FilterField::Key => "key",
            FilterField::Value => "value",
            FilterField::Header => "header",
        }
    }
}

/// Whether `record` contains `needle` in `field` (case-sensitive; a header matches on its key or
/// its value). An empty needle matches everything.
pub fn matches(record: &RecordView, field: FilterField, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let has = |text: Option<&str>| text.is_some_and(|t| t.contains(needle));
    let key = || has(record.key.as_deref());
    let value = || has(record.value.as_deref());
    let header = || record.headers.iter().any(|(k, v)| k.contains(needle) || has(v.as_deref()));
    match field {
        FilterField::Any => key() || value() || header(),
        FilterField::Key => key(),
        FilterField::Value => value(),
        FilterField::Header => header(),
    }
}

/// A row of the table: the partition and the record.
pub type Row = (i32, RecordView);

/// The browsed records of `topic` in reading order — by offset within one partition, by
/// timestamp (then partition, offset) across several — that pass the filter.
pub fn rows(
    topic: &str,
    browsed: &BTreeMap<(String, i32), Vec<RecordView>>,
    field: FilterField,
    needle: &str,
) -> Vec<Row> {
    let mut rows: Vec<Row> = browsed
        .iter()
        .filter(|((t, _), _)| t == topic)
        .flat_map(|((_, partition), records)| records.iter().map(move |r| (*partition, r.clone())))
        .filter(|(_, r)| matches(r, field, needle))
        .collect();
    rows.sort_by_key(|(partition, r)| (r.timestamp_ms, *partition, r.offset));
    let partitions: std::collections::BTreeSet<i32> = rows.iter().map(|(p, _)| *p).collect();
    if partitions.len() == 1 {
        rows.sort_by_key(|(_, r)| r.offset);
    }
    rows
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn headers_text(record: &RecordView) -> String {
    let pairs: Vec<String> =
        record.headers.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null"))).collect();
    pairs.join(";")
}

/// The rows as CSV (RFC 4180: a header line, fields quoted when they hold a comma, quote or line
/// break); a null key or value is an empty field, headers are `k=v` joined by `;`.
pub fn to_csv(topic: &str, rows: &[Row]) -> String {
    let mut out = String::from("topic,partition,offset,timestamp,key,value,headers\r\n");
    for (partition, r) in rows {
        let fields = [
            csv_field(topic),
            partition.to_string(),
            r.offset.to_string(),
            r.timestamp_ms.to_string(),
            csv_field(r.key.as_deref().unwrap_or("")),
            csv_field(r.value.as_deref().unwrap_or("")),
            csv_field(&headers_text(r)),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The rows as a JSON array, each record shaped as `kite consume --output json` prints it.
pub fn to_json(topic: &str, rows: &[Row]) -> String {
    let records: Vec<serde_json::Value> =
        rows.iter().map(|(partition, r)| r.consumer_json(topic, *partition)).collect();
    serde_json::to_string_pretty(&records).unwrap_or_default()
}

/// The browsed rows that pass the filter, and their CSV and JSON exports as data URLs: memoized
/// on what was browsed and the filter, not made at every render (a topic's offsets change several
/// times a second while records stream, and 50,000 records made into data URLs took seconds).
fn filtered(
    (topic, browsed, field, needle): &(String, Browsed, FilterField, String),
) -> (Vec<Row>, String, String) {
    let all_rows = rows(topic, browsed, *field, needle);
    let csv = data_url("text/csv", &to_csv(topic, &all_rows));
    let json = data_url("application/json", &to_json(topic, &all_rows));
    (all_rows, csv, json)
}

/// The filter's field, as its select names it.
fn choose_field(field: UseStateHandle<FilterField>) -> Callback<Event> {
    Callback::from(move |e: Event| {
        let code = e.target_unchecked_into::<HtmlSelectElement>().value();
        field.set(FilterField::ALL.into_iter().find(|f| f.code() == code).unwrap_or(FilterField::Any));
    })
}

/// What the message browser holds: each browsed partition's records, shared between states.
type Browsed = std::rc::Rc<BTreeMap<(String, i32), Vec<RecordView>>>;

pub(crate) fn data_url(mime: &str, text: &str) -> String {
    format!("data:{mime};charset=utf-8,{}", String::from(js_sys::encode_uri_component(text)))
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topic: Option<TopicDescription>,
    pub browsed: Browsed,
    pub key_serializer: SerializerKind,
    pub value_serializer: SerializerKind,
    pub ready: bool,
    pub browse: Callback<BrowseRequest>,
    /// For re-producing a record.
    pub send: Callback<Command>,
}

/// A record shown, produced again to its topic as it reads (its partition chosen afresh).
fn reproduced(
    topic: &str,
    r: &RecordView,
    (key_serializer, value_serializer): (SerializerKind, SerializerKind),
) -> Command {
    Command::Produce {
        topic: topic.to_string(),
        partition: None,
        key: r.key.clone(),
        value: r.value.clone(),
        timestamp_ms: None,
        partitioner: Default::default(),
        key_serializer,
        value_serializer,
        // A null header value goes back as an empty one: the API sends header values as text.
        headers: r.headers.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect(),
        acks: Default::default(),
        producer: None,
    }
}

#[function_component(MessagesPanel)]
pub fn messages_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let partition = use_state(|| None::<i32>);
    let seek_kind = use_state(|| "end".to_string());
    let seek_at = use_state(String::new);
    let field = use_state(|| FilterField::Any);
    let needle = use_state(String::new);
    let tail = use_state(|| false);
    let seek_error = use_state(|| None::<String>);
    let isolation = use_state(IsolationLevel::default);
    let level = *isolation;
    let deserializers = (props.key_serializer, props.value_serializer);
    // Where the last seek left each partition, for the tail.
    let starts = use_mut_ref(BTreeMap::<i32, i64>::new);
    // A new topic (or new deserializers) starts from its newest records.
    {
        let (browse, topic, starts) = (props.browse.clone(), props.topic.clone(), starts.clone());
        let name = topic.as_ref().map(|t| t.name.clone());
        let (partition, ready) = (partition.clone(), props.ready);
        use_effect_with((name, deserializers, ready, level), move |_| {
            partition.set(None);
            if let Some(topic) = topic.filter(|_| ready) {
                let commands = seek_commands(&topic, None, Seek::End, deserializers);
                *starts.borrow_mut() = seek_starts(&topic, None, &commands);
                browse.emit(BrowseRequest::read(true, commands, level));
            }
        });
    }
    // The live tail: each second, what came after the newest record shown (props read via a ref).
    let latest = use_mut_ref(|| (None::<TopicDescription>, std::rc::Rc::default()));
    *latest.borrow_mut() = (props.topic.clone(), props.browsed.clone());
    {
        let (browse, latest, starts) = (props.browse.clone(), latest.clone(), starts.clone());
        use_effect_with((*tail, props.ready, level), move |(tail, ready, _)| {
            super::every(TAIL_INTERVAL_MS, *tail && *ready, move || {
                let (topic, browsed) = &*latest.borrow();
                if let Some(topic) = topic {
                    let commands = tail_commands(topic, browsed, &starts.borrow(), deserializers);
                    if !commands.is_empty() {
                        browse.emit(BrowseRequest::read(false, commands, level));
                    }
                }
            })
        });
    }
    let Some(topic) = props.topic.clone() else {
        return html! {
            <section class="panel messages" id="messages">
                <h2>{ tr(lang, "Messages") }</h2>
                <p class="hint">{ tr(lang, "Create a topic to browse its records.") }</p>
            </section>
        };
    };
    let go = {
        let (browse, topic, partition) = (props.browse.clone(), topic.clone(), partition.clone());
        let starts = starts.clone();
        let (seek_kind, seek_at, seek_error) = (seek_kind.clone(), seek_at.clone(), seek_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match Seek::parse(&seek_kind, &seek_at) {
                Ok(seek) => {
                    seek_error.set(None);
                    let commands = seek_commands(&topic, *partition, seek, deserializers);
                    *starts.borrow_mut() = seek_starts(&topic, *partition, &commands);
                    browse.emit(BrowseRequest::read(true, commands, level));
                }
                Err(reason) => seek_error.set(Some(reason)),
            }
        })
    };
    let on_partition = {
        let partition = partition.clone();
        Callback::from(move |e: Event| {
            partition.set(e.target_unchecked_into::<HtmlSelectElement>().value().parse().ok())
        })
    };
    let on_seek_kind = {
        let seek_kind = seek_kind.clone();
        Callback::from(move |e: Event| seek_kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_field = choose_field(field.clone());
    let toggle_tail = {
        let tail = tail.clone();
        Callback::from(move |_: Event| tail.set(!*tail))
    };
    let browsed = use_memo((topic.name.clone(), props.browsed.clone(), *field, (*needle).clone()), filtered);
    let (all_rows, csv_url, json_url) = &*browsed;
    let shown = &all_rows[all_rows.len().saturating_sub(BROWSE_ROWS_SHOWN)..];
    let reproduce = |r: &RecordView| {
        let send = props.send.clone();
        let command = reproduced(&topic.name, r, (props.key_serializer, props.value_serializer));
        Callback::from(move |_: MouseEvent| send.emit(command.clone()))
    };
    let needs_at = matches!(seek_kind.as_str(), "offset" | "timestamp");
    html! {
        <section class="panel messages" id="messages" aria-labelledby="messages-title">
            <h2 id="messages-title">{ trf(lang, "Messages of {}", &[&topic.name]) }</h2>
            <form class="browse" onsubmit={go}>
                <label>{ tr(lang, "Partition") }
                    <select id="browse-partition" onchange={on_partition}>
                        <option value="all" selected={partition.is_none()}>{ tr(lang, "all") }</option>
                        { for topic.partitions.iter().map(|p| html! {
                            <option value={p.partition.to_string()} selected={*partition == Some(p.partition)}>
                                { p.partition }</option>
                        }) }
                    </select></label>
                <label>{ tr(lang, "From") }
                    <select id="browse-seek" onchange={on_seek_kind}>
                        { for SEEK_KINDS.into_iter().map(|(code, text)| html! {
                                <option value={code} selected={*seek_kind == code}>{ tr(lang, text) }</option>
                            }) }
                    </select></label>
                if needs_at {
                    <input id="browse-at" aria-label={tr(lang, "Offset, or time as epoch ms or ISO-8601")}
                        placeholder={if *seek_kind == "offset" { "0" } else { "2026-11-27T09:00:00Z" }}
                        value={(*seek_at).clone()} oninput={bind_text(&seek_at)} />
                }
                <button id="browse-go" type="submit" disabled={!props.ready}>{ tr(lang, "Seek") }</button>
                <label class="tail"><input id="browse-tail" type="checkbox" checked={*tail} onchange={toggle_tail} />
                    { tr(lang, "Live tail") }</label>
                { isolation_select(lang, &isolation) }
            </form>
            if let Some(reason) = &*seek_error {
                <p class="error" role="alert">{ reason }</p>
            }
            <div class="browse-filter">
                <label>{ tr(lang, "Filter") }
                    <select id="filter-field" onchange={on_field}>
                        { for FilterField::ALL.into_iter().map(|f| html! {
                            <option value={f.code()} selected={*field == f}>{ tr(lang, f.code()) }</option>
                        }) }
                    </select></label>
                <input id="filter-text" aria-label={tr(lang, "Text to look for")} value={(*needle).clone()}
                    oninput={bind_text(&needle)} />
                <span class="count" id="browse-count" data-rows={all_rows.len().to_string()}>
                    { trf(lang, "{} records", &[&all_rows.len()]) }</span>
                <a id="export-csv" class="button" download={format!("{}.csv", topic.name)}
                    href={csv_url.clone()}>{ tr(lang, "Export CSV") }</a>
                <a id="export-json" class="button" download={format!("{}.json", topic.name)}
                    href={json_url.clone()}>{ tr(lang, "Export JSON") }</a>
            </div>
            <div class="browse-table">
                <table id="browse-rows">
                    <thead><tr>
                        <th>{ tr(lang, "Partition") }</th><th>{ tr(lang, "Offset") }</th><th>{ tr(lang, "Timestamp") }</th>
                        <th>{ tr(lang, "Key") }</th><th>{ tr(lang, "Value") }</th><th>{ tr(lang, "Headers") }</th><th></th>
                    </tr></thead>
                    <tbody>
                        { for shown.iter().map(|(p, r)| html! {
                            <tr data-partition={p.to_string()} data-offset={r.offset.to_string()}>
                                <td>{ p }</td>
                                <td>{ r.offset }</td>
                                <td title={r.timestamp_ms.to_string()}>{ super::iso(r.timestamp_ms) }</td>
                                <td class="key">{ r.key.clone().unwrap_or_else(|| "null".into()) }</td>
                                <td class="value">{ r.value.clone().unwrap_or_else(|| "null".into()) }</td>
                                <td>{ headers_text(r) }</td>
                                <td><button class="reproduce" disabled={!props.ready || r.decode_error.is_some()}
                                    title={tr(lang, "Produce this key, value and headers again")}
                                    onclick={reproduce(r)}>{ tr(lang, "Re-produce") }</button></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </section>
    }
}
