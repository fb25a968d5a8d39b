//! Sending many records at once: N generated from key and value patterns at a chosen rate, or
//! imported from JSONL (one record per line, or the message browser's JSON export), sent as
//! producer batches (`produce_batch`) with the producer's partitioner, serializers and acks; and
//! where they went, counted per partition.

use std::collections::VecDeque;
use std::rc::Rc;

use kite_shared::api::{BatchedRecord, Command};
use kite_shared::config::Acks;
use kite_shared::partitioner::PartitionerKind;
use kite_shared::serializer::SerializerKind;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};
use crate::state::BatchTally;

use super::bind_text;

/// Records per `produce_batch` request (a producer's batch; under `MAX_PRODUCE_BATCH_RECORDS`).
pub const SEND_BATCH_RECORDS: usize = 1_000;

/// How often the sender sends its next batch.
pub const SEND_INTERVAL_MS: i32 = 100;

/// While sending, the topics (and so the partition view) are refreshed every this many ticks.
const REFRESH_EVERY_TICKS: u32 = 10;

/// The most records one generation or import may queue.
pub const MAX_QUEUED_RECORDS: usize = 1_000_000;

/// `count` records whose keys and values are the patterns with `{i}` replaced by 0, 1, …; an
/// empty key pattern gives null keys (the partitioner's sticky or round-robin case).
pub fn generate(count: usize, key_pattern: &str, value_pattern: &str) -> Vec<BatchedRecord> {
    (0..count.min(MAX_QUEUED_RECORDS))
        .map(|i| BatchedRecord {
            key: (!key_pattern.is_empty()).then(|| key_pattern.replace("{i}", &i.to_string())),
            value: Some(value_pattern.replace("{i}", &i.to_string())),
            timestamp_ms: None,
            headers: Vec::new(),
        })
        .collect()
}

/// One imported record: `kite consume --output json`'s line (and the message browser's export);
/// `topic`, `partition`, `offset` and `timestamp` are ignored — the partitioner places the record
/// and the producer stamps it now, as a replay into another topic would.
#[derive(serde::Deserialize)]
struct ImportedRecord {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    headers: Vec<ImportedHeader>,
}

#[derive(serde::Deserialize)]
struct ImportedHeader {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

impl From<ImportedRecord> for BatchedRecord {
    fn from(r: ImportedRecord) -> BatchedRecord {
        BatchedRecord {
            key: r.key,
            value: r.value,
            timestamp_ms: None,
            headers: r.headers.into_iter().map(|h| (h.key, h.value.unwrap_or_default())).collect(),
        }
    }
}

/// Reads JSONL (one JSON object per line; blank lines skipped) or a JSON array of the same
/// objects. An error names the line (or array element) and what was wrong.
pub fn parse_import(text: &str) -> Result<Vec<BatchedRecord>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let records: Vec<ImportedRecord> =
            serde_json::from_str(trimmed).map_err(|e| format!("the JSON array: {e}"))?;
        if records.len() > MAX_QUEUED_RECORDS {
            return Err(format!("{} records: at most {MAX_QUEUED_RECORDS} at once", records.len()));
        }
        return Ok(records.into_iter().map(BatchedRecord::from).collect());
    }
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if records.len() == MAX_QUEUED_RECORDS {
            return Err(format!("line {}: at most {MAX_QUEUED_RECORDS} records at once", i + 1));
        }
        let record: ImportedRecord = serde_json::from_str(line).map_err(|e| {
            format!("line {}: {e} (expected an object like {{\"key\":\"k\",\"value\":\"v\"}})", i + 1)
        })?;
        records.push(record.into());
    }
    Ok(records)
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topic: String,
    pub ready: bool,
    pub partitioner: PartitionerKind,
    pub acks: Acks,
    pub key_serializer: SerializerKind,
    pub value_serializer: SerializerKind,
    pub send: Callback<Command>,
    /// A new run starts: its tally begins at zero.
    pub on_start: Callback<()>,
    pub tally: Option<BatchTally>,
}

#[function_component(Generator)]
pub fn generator(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let count = use_state(|| "1000".to_string());
    let rate = use_state(|| "0".to_string());
    let key_pattern = use_state(|| "user-{i}".to_string());
    let value_pattern = use_state(|| "event {i}".to_string());
    let jsonl = use_state(String::new);
    let problem = use_state(|| None::<String>);
    // What is still to send, and whether the sender runs.
    let queue = use_mut_ref(VecDeque::<BatchedRecord>::new);
    let sending = use_state(|| false);
    let per_tick = use_mut_ref(|| SEND_BATCH_RECORDS);

    {
        let (queue, sending_handle, per_tick) = (queue.clone(), sending.clone(), per_tick.clone());
        let (send, topic) = (props.send.clone(), props.topic.clone());
        let (partitioner, acks) = (props.partitioner, props.acks);
        let (key_serializer, value_serializer) = (props.key_serializer, props.value_serializer);
        use_effect_with((*sending, topic.clone()), move |(sending, _)| {
            let mut ticks = 0_u32;
            super::every(SEND_INTERVAL_MS, *sending, move || {
                ticks += 1;
                let mut budget = *per_tick.borrow();
                while budget > 0 {
                    let take = budget.min(SEND_BATCH_RECORDS).min(queue.borrow().len());
                    if take == 0 {
                        break;
                    }
                    budget -= take;
                    let records: Vec<BatchedRecord> = queue.borrow_mut().drain(..take).collect();
                    send.emit(Command::ProduceBatch {
                        topic: topic.clone(),
                        partition: None,
                        partitioner,
                        key_serializer,
                        value_serializer,
                        records,
                        acks,
                    });
                }
                let done = queue.borrow().is_empty();
                if done || ticks.is_multiple_of(REFRESH_EVERY_TICKS) {
                    send.emit(Command::ListTopics);
                }
                if done {
                    sending_handle.set(false);
                }
            })
        });
    }

    let start = {
        let (queue, sending, per_tick, on_start) =
            (queue.clone(), sending.clone(), per_tick.clone(), props.on_start.clone());
        let (rate, problem) = (rate.clone(), problem.clone());
        Rc::new(move |records: Vec<BatchedRecord>| {
            let per_second: usize = rate.trim().parse().unwrap_or(0);
            // 0 is "as fast as it goes": ten batches a tick.
            *per_tick.borrow_mut() = if per_second == 0 {
                10 * SEND_BATCH_RECORDS
            } else {
                (per_second * SEND_INTERVAL_MS as usize / 1000).max(1)
            };
            problem.set(None);
            on_start.emit(());
            *queue.borrow_mut() = records.into();
            sending.set(true);
        })
    };
    let on_generate = {
        let (start, count, key_pattern, value_pattern, problem) =
            (start.clone(), count.clone(), key_pattern.clone(), value_pattern.clone(), problem.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match count.trim().parse::<usize>() {
                Ok(n) if n > 0 && n <= MAX_QUEUED_RECORDS => start(generate(n, &key_pattern, &value_pattern)),
                _ => problem.set(Some(format!("the count must be 1 to {MAX_QUEUED_RECORDS}"))),
            }
        })
    };
    let on_import = {
        let (start, jsonl, problem) = (start.clone(), jsonl.clone(), problem.clone());
        Callback::from(move |_: MouseEvent| match parse_import(&jsonl) {
            Ok(records) if records.is_empty() => problem.set(Some("nothing to import".into())),
            Ok(records) => start(records),
            Err(reason) => problem.set(Some(reason)),
        })
    };
    let on_stop = {
        let (queue, sending) = (queue.clone(), sending.clone());
        Callback::from(move |_: MouseEvent| {
            queue.borrow_mut().clear();
            sending.set(false);
        })
    };
    // A chosen file's text goes into the box, to be looked at before it is sent.
    let on_file = {
        let (jsonl, problem) = (jsonl.clone(), problem.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            let (jsonl, problem) = (jsonl.clone(), problem.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(text) => jsonl.set(text.as_string().unwrap_or_default()),
                    Err(e) => problem.set(Some(format!("cannot read {}: {e:?}", file.name()))),
                }
            });
        })
    };
    let on_jsonl = {
        let jsonl = jsonl.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target().and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok()) {
                jsonl.set(area.value());
            }
        })
    };
    let can_send = props.ready && !props.topic.is_empty() && !*sending;
    let queued = queue.borrow().len();
    html! {
        <details class="generator" id="generator">
            <summary>{ tr(lang, "Send many") }</summary>
            <form class="generate" onsubmit={on_generate}>
                <label>{ tr(lang, "Count") }<input id="generate-count" value={(*count).clone()} oninput={bind_text(&count)} /></label>
                <label>{ tr(lang, "Key pattern ({i} = 0, 1, …; empty = null)") }
                    <input id="generate-key" value={(*key_pattern).clone()} oninput={bind_text(&key_pattern)} /></label>
                <label>{ tr(lang, "Value pattern") }
                    <input id="generate-value" value={(*value_pattern).clone()} oninput={bind_text(&value_pattern)} /></label>
                <label>{ tr(lang, "Records/s (0 = as fast as it goes)") }
                    <input id="generate-rate" value={(*rate).clone()} oninput={bind_text(&rate)} /></label>
                <button id="generate-send" type="submit" disabled={!can_send}>{ tr(lang, "Generate and send") }</button>
            </form>
            <div class="import">
                <label>{ tr(lang, "JSONL: one object with key, value and headers per line, or an exported JSON array") }
                    <textarea id="import-jsonl" rows="3" value={(*jsonl).clone()} oninput={on_jsonl} /></label>
                <input id="import-file" type="file" accept=".jsonl,.json,.txt,application/json" onchange={on_file}
                    aria-label={tr(lang, "Load a file")} />
                <button id="import-send" type="button" disabled={!can_send} onclick={on_import}>{ tr(lang, "Import and send") }</button>
                if *sending {
                    <button id="generate-stop" type="button" onclick={on_stop}>{ trf(lang, "Stop ({} queued)", &[&queued]) }</button>
                }
            </div>
            if let Some(reason) = &*problem {
                <p class="error" role="alert" id="generate-problem">{ reason }</p>
            }
            if let Some(tally) = &props.tally {
                <p class="tally" id="batch-tally" data-records={tally.records.to_string()}>
                    { trf(lang, "Sent {} records to {}: ", &[&tally.records, &tally.topic]) }
                    { tally.per_partition.iter().map(|(p, n)| format!("P{p} ×{n}")).collect::<Vec<_>>().join(" · ") }
                </p>
            }
        </details>
    }
}
