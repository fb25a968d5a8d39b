//! Sending many records at once: N generated from key and value patterns at a chosen rate, or
//! imported from JSONL (one record per line, or the message browser's JSON export), sent as
//! producer batches (`produce_batch`) with the producer's partitioner, serializers and acks; and
//! where they went, counted per partition.

use std::cell::RefCell;
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

/// Records per `produce_batch` request (under `MAX_PRODUCE_BATCH_RECORDS`; 4,000 records of
/// 100 B are 400 KB, under Kafka's 1 MB `max.request.size`). Each request costs the page and the
/// worker a message and its handling whatever its size, so larger requests go faster: with the
/// page live, 1,000 gave 62–100 k records/s and 4,000 gave 99–136 k (docs/benchmarks.md).
pub const SEND_BATCH_RECORDS: usize = 4_000;

/// How often the sender sends its next batch.
pub const SEND_INTERVAL_MS: i32 = 100;

/// While sending, the topics (and so the partition view) are refreshed every this many ticks.
const REFRESH_EVERY_TICKS: u32 = 10;

/// The most records one generation or import may queue.
pub const MAX_QUEUED_RECORDS: usize = 1_000_000;

/// Kafka's producer default `max.in.flight.requests.per.connection`: sending as fast as it goes,
/// a run keeps this many batches unanswered and sends the next as each answer arrives, so it
/// keeps pace with the engine rather than with a timer or the page's renders.
pub const MAX_IN_FLIGHT_BATCHES: usize = 5;

/// The most batches one answer lets the page send: the one answered and one more while the
/// window is still opening.
const BATCHES_PER_ANSWER: usize = 2;

/// `count` records whose keys and values are the patterns with `{i}` replaced by 0, 1, …; an
/// empty key pattern gives null keys (the partitioner's sticky or round-robin case).
pub fn generate(count: usize, key_pattern: &str, value_pattern: &str) -> Vec<BatchedRecord> {
    generated(count, key_pattern.to_string(), value_pattern.to_string()).collect()
}

/// `generate`'s records one at a time, made as they are sent (a large run is never held whole).
fn generated(
    count: usize,
    key_pattern: String,
    value_pattern: String,
) -> impl Iterator<Item = BatchedRecord> {
    let (key, value) = (Pattern::new(&key_pattern), Pattern::new(&value_pattern));
    let null_keys = key_pattern.is_empty();
    (0..count.min(MAX_QUEUED_RECORDS)).map(move |i| {
        let number = i.to_string();
        BatchedRecord {
            key: (!null_keys).then(|| key.fill(&number)),
            value: Some(value.fill(&number)),
            timestamp_ms: None,
            headers: Vec::new(),
        }
    })
}

/// A pattern cut at its `{i}`s once, so each record is one allocation rather than a search.
struct Pattern {
    pieces: Vec<String>,
}

impl Pattern {
    fn new(pattern: &str) -> Pattern {
        Pattern { pieces: pattern.split("{i}").map(str::to_string).collect() }
    }

    /// The pattern with every `{i}` replaced by `number`.
    fn fill(&self, number: &str) -> String {
        let holes = self.pieces.len().saturating_sub(1);
        let mut out =
            String::with_capacity(self.pieces.iter().map(String::len).sum::<usize>() + number.len() * holes);
        for (n, piece) in self.pieces.iter().enumerate() {
            if n > 0 {
                out.push_str(number);
            }
            out.push_str(piece);
        }
        out
    }
}

/// What every batch of a run is sent with: the producer's settings when it started.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchSettings {
    pub topic: String,
    pub partitioner: PartitionerKind,
    pub acks: Acks,
    pub key_serializer: SerializerKind,
    pub value_serializer: SerializerKind,
}

/// A run of the generator or an import: the records still to send and how many batches are
/// unanswered. The app hands it every answer (`answered`) as it arrives.
#[derive(Default)]
pub struct BatchRun {
    source: Option<Box<dyn Iterator<Item = BatchedRecord>>>,
    queued: usize,
    in_flight: usize,
    /// Sent at a chosen rate by the view's timer (`take`) rather than as answers come.
    paced: bool,
    settings: Option<BatchSettings>,
}

impl BatchRun {
    /// Starts sending `count` records from `source` (any earlier run's rest is dropped).
    pub fn start(
        &mut self,
        source: impl Iterator<Item = BatchedRecord> + 'static,
        count: usize,
        settings: BatchSettings,
        paced: bool,
    ) {
        self.source = Some(Box::new(source));
        self.queued = count;
        self.paced = paced;
        self.settings = Some(settings);
    }

    /// Sends nothing more and forgets what is in flight (its answers still arrive and are
    /// counted, but the run is over: a link that closed mid-run never answers).
    pub fn stop(&mut self) {
        self.source = None;
        self.queued = 0;
        self.in_flight = 0;
    }

    /// Records not yet sent.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Whether records are left or batches unanswered.
    pub fn running(&self) -> bool {
        self.queued > 0 || self.in_flight > 0
    }

    /// One batch of at most `records` records, counted in flight.
    fn batch(&mut self, records: usize) -> Option<Command> {
        let settings = self.settings.clone()?;
        let records: Vec<BatchedRecord> = self.source.as_mut()?.take(records.min(self.queued)).collect();
        if records.is_empty() {
            (self.source, self.queued) = (None, 0);
            return None;
        }
        self.queued -= records.len();
        self.in_flight += 1;
        Some(Command::ProduceBatch {
            topic: settings.topic,
            partition: None,
            partitioner: settings.partitioner,
            key_serializer: settings.key_serializer,
            value_serializer: settings.value_serializer,
            records,
            acks: settings.acks,
            // The tally needs each record's partition, not its offset: the compact answer.
            answer_per_partition: true,
        })
    }

    /// As fast as it goes: the first batch of a run. The window then opens one batch per answer
    /// (`answered` sends up to two) until `MAX_IN_FLIGHT_BATCHES` are in flight, so no turn of
    /// the page makes and encodes more than two batches (five at once took a 33–57 ms task).
    pub fn first(&mut self) -> Vec<Command> {
        self.fill(1)
    }

    /// Up to `at_most` batches, without passing the window of `MAX_IN_FLIGHT_BATCHES`.
    fn fill(&mut self, at_most: usize) -> Vec<Command> {
        let mut out = Vec::new();
        while !self.paced && self.in_flight < MAX_IN_FLIGHT_BATCHES && out.len() < at_most {
            match self.batch(SEND_BATCH_RECORDS) {
                Some(command) => out.push(command),
                None => break,
            }
        }
        out
    }

    /// At a rate: one timer tick's `budget` records, as batches.
    pub fn take(&mut self, mut budget: usize) -> Vec<Command> {
        let mut out = Vec::new();
        while self.paced && budget > 0 {
            let Some(command) = self.batch(budget.min(SEND_BATCH_RECORDS)) else { break };
            if let Command::ProduceBatch { records, .. } = &command {
                budget -= records.len();
            }
            out.push(command);
        }
        out
    }

    /// A batch was answered (its records written, or refused by name): what to send next.
    pub fn answered(&mut self) -> Vec<Command> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.fill(BATCHES_PER_ANSWER)
    }
}

/// The run and the send that counts its batches' answers, from the app (`ContextProvider`).
#[derive(Clone)]
pub struct BatchSender {
    pub run: Rc<RefCell<BatchRun>>,
    pub send: Callback<Command>,
}

impl PartialEq for BatchSender {
    fn eq(&self, other: &BatchSender) -> bool {
        Rc::ptr_eq(&self.run, &other.run) && self.send == other.send
    }
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
    // The run lives in the app, which hands it each answer; the view starts it, stops it, paces
    // it at a chosen rate, and refreshes the topics while it goes.
    let sender = use_context::<BatchSender>();
    let sending = use_state(|| false);
    let per_tick = use_mut_ref(|| SEND_BATCH_RECORDS);

    {
        let (sending_handle, per_tick, sender) = (sending.clone(), per_tick.clone(), sender.clone());
        use_effect_with(*sending, move |sending| {
            let mut ticks = 0_u32;
            super::every(SEND_INTERVAL_MS, *sending, move || {
                let Some(sender) = &sender else { return };
                ticks += 1;
                let paced = sender.run.borrow_mut().take(*per_tick.borrow());
                paced.into_iter().for_each(|command| sender.send.emit(command));
                let done = !sender.run.borrow().running();
                if done || ticks.is_multiple_of(REFRESH_EVERY_TICKS) {
                    sender.send.emit(Command::ListTopics);
                }
                if done {
                    sending_handle.set(false);
                }
            })
        });
    }

    let start = {
        let (sending, per_tick, on_start, sender) =
            (sending.clone(), per_tick.clone(), props.on_start.clone(), sender.clone());
        let (rate, problem) = (rate.clone(), problem.clone());
        let settings = BatchSettings {
            topic: props.topic.clone(),
            partitioner: props.partitioner,
            acks: props.acks,
            key_serializer: props.key_serializer,
            value_serializer: props.value_serializer,
        };
        Rc::new(move |records: Box<dyn Iterator<Item = BatchedRecord>>, count: usize| {
            let Some(sender) = &sender else { return };
            let per_second: usize = rate.trim().parse().unwrap_or(0);
            // 0 is "as fast as it goes": the window of batches in flight sets the pace.
            let paced = per_second > 0;
            *per_tick.borrow_mut() = (per_second * SEND_INTERVAL_MS as usize / 1000).max(1);
            problem.set(None);
            on_start.emit(());
            sender.run.borrow_mut().start(records, count, settings.clone(), paced);
            let first = sender.run.borrow_mut().first();
            first.into_iter().for_each(|command| sender.send.emit(command));
            sending.set(true);
        })
    };
    let on_generate = {
        let (start, count, key_pattern, value_pattern, problem) =
            (start.clone(), count.clone(), key_pattern.clone(), value_pattern.clone(), problem.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match count.trim().parse::<usize>() {
                Ok(n) if n > 0 && n <= MAX_QUEUED_RECORDS => {
                    start(Box::new(generated(n, (*key_pattern).clone(), (*value_pattern).clone())), n)
                }
                _ => problem.set(Some(format!("the count must be 1 to {MAX_QUEUED_RECORDS}"))),
            }
        })
    };
    let on_import = {
        let (start, jsonl, problem) = (start.clone(), jsonl.clone(), problem.clone());
        Callback::from(move |_: MouseEvent| match parse_import(&jsonl) {
            Ok(records) if records.is_empty() => problem.set(Some("nothing to import".into())),
            Ok(records) => {
                let count = records.len();
                start(Box::new(records.into_iter()), count)
            }
            Err(reason) => problem.set(Some(reason)),
        })
    };
    let on_stop = {
        let sender = sender.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(sender) = &sender {
                sender.run.borrow_mut().stop();
            }
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
    let queued = sender.as_ref().map_or(0, |s| s.run.borrow().queued());
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
                // Always there (disabled while idle), so starting a run moves nothing on the page.
                <button id="generate-stop" type="button" disabled={!*sending} onclick={on_stop}>
                    { trf(lang, "Stop ({} queued)", &[&queued]) }
                </button>
            </div>
            if let Some(reason) = &*problem {
                <p class="error" role="alert" id="generate-problem">{ reason }</p>
            }
            // Its room is kept before the first run, so the count appearing shifts nothing.
            <p class="tally" id="batch-tally" data-records={props.tally.as_ref().map_or(0, |t| t.records).to_string()}>
                if let Some(tally) = &props.tally {
                    { trf(lang, "Sent {} records to {}: ", &[&tally.records, &tally.topic]) }
                    // On a line of its own, so it starts at the same place as the count grows.
                    <span class="per-partition">
                        { tally.per_partition.iter().map(|(p, n)| format!("P{p} ×{n}")).collect::<Vec<_>>().join(" · ") }
                    </span>
                }
            </p>
        </details>
    }
}
