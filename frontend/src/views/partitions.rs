//! The selected topic's partitions as rows of offsets: log start, high watermark, each replica's
//! log end, and the newest records coloured by key, so equal keys visibly land in equal
//! partitions. Clicking a record shows its lineage: where it is, which replicas hold it, whether
//! it is committed, and which consumer groups have committed past it. Each row lists its records
//! newest first; style.css lays them out oldest left, the newest in view.

use std::collections::BTreeMap;

use kite_shared::api::{Command, MarkerView, PartitionDescription, RecordView, TopicDescription, TxnMark};
use kite_shared::partitioner::{murmur2, to_positive};
use kite_shared::serializer::SerializerKind;
use kite_shared::txn::marker::MarkerKind;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use crate::state::{Dumped, GroupView, PARTITIONS_SHOWN, record_fetches};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topic: Option<TopicDescription>,
    pub records: BTreeMap<(String, i32), Vec<RecordView>>,
    /// The transaction markers among each partition's records.
    pub markers: BTreeMap<(String, i32), Vec<MarkerView>>,
    pub key_deserializer: SerializerKind,
    pub value_deserializer: SerializerKind,
    pub send: Callback<Command>,
    /// The consumer group the consumers view follows, for the lineage's "consumed by".
    pub group: Option<GroupView>,
    /// The chosen record's bytes and batch, as `dump_record` answered.
    pub dumped: Option<Dumped>,
    /// A partition (and record) the cluster map asked to open.
    pub reveal: Option<Reveal>,
}

/// A partition the map opened, and the record whose lineage to show: scrolled to and focused.
#[derive(Clone, Debug, PartialEq)]
pub struct Reveal {
    pub topic: String,
    pub partition: i32,
    pub offset: Option<i64>,
    /// Counts the requests, so opening the same partition again scrolls to it again.
    pub nonce: u32,
}

/// A stable hue per key, so one key has one colour everywhere.
fn key_hue(key: Option<&str>) -> i32 {
    key.map_or(0, |k| to_positive(murmur2(k.as_bytes())) % 360)
}

/// Kafka's id of the topic, as kafka-topics --describe prints it: another topic of the same name,
/// deleted and created again, has another.
fn topic_id_line(lang: Lang, topic_id: &str) -> Html {
    let title = tr(lang, "A topic deleted and created again under the same name gets another id.");
    html! { <p class="hint topic-id" id="topic-id" {title}>{ "TopicId " }<code>{ topic_id }</code></p> }
}

/// The topic's id, a button that adds a partition (kafka-topics --alter --partitions): the
/// learner sees a key's next record move to another partition; and a partition's replicas moved
/// (`reassign`). Kafka's own topics keep theirs.
fn topic_header(lang: Lang, topic: &TopicDescription, send: &Callback<Command>) -> Html {
    let count = topic.partitions.len() as i32 + 1;
    let command = Command::CreatePartitions { topic: topic.name.clone(), count };
    let send_move = send.clone();
    let send = send.clone();
    let title = tr(
        lang,
        "kafka-topics --alter --partitions: keys hash over the new count, so a key's next records may land in another partition",
    );
    html! {
        <div class="topic-header">
            { topic_id_line(lang, &topic.topic_id) }
            if !kite_shared::topic::is_hidden(&topic.name) {
                <button id="add-partition" {title}
                    onclick={Callback::from(move |_: MouseEvent| send.emit(command.clone()))}>
                    { tr(lang, "Add a partition") }</button>
                <super::reassign::MoveReplicas topic={topic.clone()} send={send_move} />
            }
        </div>
    }
}

#[function_component(PartitionsView)]
pub fn partitions_view(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    // Refetch whenever the topic's offsets or the chosen deserializers change: the view shows the
    // log as the engine holds it, read as a consumer with those deserializers would.
    {
        let send = props.send.clone();
        let deps = (props.topic.clone(), props.key_deserializer, props.value_deserializer);
        use_effect_with(deps, move |(topic, key, value)| {
            if let Some(topic) = topic {
                record_fetches(topic, *key, *value).into_iter().for_each(|command| send.emit(command));
            }
        });
    }
    // The record whose lineage is shown: another topic shows none until one of its own is chosen.
    let choice = use_state(|| None::<(String, i32, i64)>);
    let topic_name = props.topic.as_ref().map(|t| t.name.clone());
    let chosen: Option<(i32, i64)> = choice
        .as_ref()
        .filter(|(t, _, _)| Some(t) == topic_name.as_ref())
        .map(|(_, partition, offset)| (*partition, *offset));
    let section = use_reveal(props.reveal.clone(), topic_name.clone(), choice.clone());
    // Its bytes and batch come from the leader's log.
    {
        let send = props.send.clone();
        use_effect_with((topic_name.clone(), chosen), move |(topic, chosen)| {
            if let (Some(topic), Some((partition, offset))) = (topic, chosen) {
                send.emit(Command::DumpRecord {
                    topic: topic.clone(),
                    partition: *partition,
                    offset: *offset,
                });
            }
        });
    }
    let Some(topic) = &props.topic else {
        return html! {
            <section class="panel partitions" id="partitions">
                <h2>{ tr(lang, "Partitions") }</h2>
                <p class="hint">{ tr(lang, "Create a topic to see its partitions.") }</p>
            </section>
        };
    };
    html! {
        <section class="panel partitions" id="partitions" aria-labelledby="partitions-title" ref={section}>
            <h2 id="partitions-title">{ trf(lang, "Partitions of {}", &[&topic.name]) }</h2>
            { topic_header(lang, topic, &props.send) }
            { for topic.partitions.iter().take(PARTITIONS_SHOWN).map(|p| {
                let records = props.records.get(&(topic.name.clone(), p.partition)).cloned().unwrap_or_default();
                html! {
                    <div class={classes!("partition", p.leader.is_none().then_some("offline"))}
                        data-partition={p.partition.to_string()} tabindex="-1"
                        data-leader={p.leader.map(|l| l.to_string()).unwrap_or_default()}
                        data-isr={ids(&p.isr)}
                        data-log-end-offset={p.log_end_offset.to_string()}>
                        { partition_label(lang, p) }
                        <div class="records" role="group" aria-label={format!("{}-{}", topic.name, p.partition)}>
                            { for interleaved(&records, markers_after(&props.markers, &topic.name, p.partition, &records)).into_iter().map(|item| match item {
                                Shown::Marker(m) => marker_block(lang, &m),
                                Shown::Record(r) => html! {
                                <div class={classes!("record", r.decode_error.is_some().then_some("undecodable"),
                                        r.transaction.map(txn_class),
                                        (chosen == Some((p.partition, r.offset))).then_some("chosen"),
                                        p.rolled_at.contains(&r.offset).then_some("segment-start"))}
                                    data-offset={r.offset.to_string()}
                                    tabindex="0" role="button"
                                    aria-label={format!("{}-{} offset {}", topic.name, p.partition, r.offset)}
                                    onclick={
                                        let (choice, at) = (choice.clone(), (topic.name.clone(), p.partition, r.offset));
                                        Callback::from(move |_: MouseEvent| choice.set(Some(at.clone())))
                                    }
                                    onkeydown={
                                        // Enter or Space chooses it, as for a button.
                                        let (choice, at) = (choice.clone(), (topic.name.clone(), p.partition, r.offset));
                                        Callback::from(move |e: KeyboardEvent| if e.key() == "Enter" || e.key() == " " {
                                            e.prevent_default();
                                            choice.set(Some(at.clone()));
                                        })
                                    }
                                    style={format!("--key-hue: {}", key_hue(r.key.as_deref()))}
                                    title={format!("offset {} · key {} · value {}{}", r.offset,
                                        r.key.as_deref().unwrap_or("null"), r.value.as_deref().unwrap_or("null"),
                                        r.decode_error.as_deref().map(|e| format!(" · {e}")).unwrap_or_default())}>
                                    <span class="offset">{ r.offset }</span>
                                    <span class="key">{ shown_text(r.key.as_deref()) }</span>
                                    <span class="value">{ shown_text(r.value.as_deref()) }</span>
                                    if let Some(mark) = r.transaction.filter(|m| *m != TxnMark::Committed) {
                                        <span class="txn-mark">{ txn_label(lang, mark) }</span>
                                    }
                                </div>
                            }}) }
                        </div>
                    </div>
                }
            }) }
            { lineage(lang, topic, &props.records, chosen, props.group.as_ref(), &props.send) }
            { chosen.and_then(|(partition, offset)| {
                let dumped = props.dumped.as_ref().filter(|d| {
                    d.topic == topic.name && d.partition == partition && d.record.offset == offset
                })?;
                Some(record_bytes(lang, dumped))
            }).unwrap_or_default() }
            if topic.partitions.len() > PARTITIONS_SHOWN {
                <p class="hint">{ trf(lang, "Showing the first {} of {} partitions.", &[&PARTITIONS_SHOWN, &topic.partitions.len()]) }</p>
            }
        </section>
    }
}

/// Once the topic the map opened is the one shown: its record (if any) chosen, its partition's
/// row in view with the focus on it. Returns the ref the view's section takes.
#[hook]
fn use_reveal(
    reveal: Option<Reveal>,
    topic: Option<String>,
    choice: UseStateHandle<Option<(String, i32, i64)>>,
) -> NodeRef {
    let section = use_node_ref();
    let found = section.clone();
    use_effect_with((reveal, topic), move |(reveal, topic)| {
        if let Some(reveal) = reveal.as_ref().filter(|r| Some(&r.topic) == topic.as_ref()) {
            if let Some(offset) = reveal.offset {
                choice.set(Some((reveal.topic.clone(), reveal.partition, offset)));
            }
            reveal_row(&found, reveal.partition);
        }
    });
    section
}

/// Scrolls the partition's row into view and moves the focus to it (the section's own query, so it
/// works in a docs widget's shadow root too).
fn reveal_row(section: &NodeRef, partition: i32) {
    use wasm_bindgen::JsCast;
    let row = section
        .cast::<web_sys::Element>()
        .and_then(|s| s.query_selector(&format!(".partition[data-partition='{partition}']")).ok().flatten());
    if let Some(row) = row.and_then(|row| row.dyn_into::<web_sys::HtmlElement>().ok()) {
        row.scroll_into_view();
        let _ = row.focus();
    }
}

/// The markers of a partition among (or after) its records shown, in offset order: each takes
/// an offset, between the records of the transactions it ends.
fn markers_after(
    markers: &BTreeMap<(String, i32), Vec<MarkerView>>,
    topic: &str,
    partition: i32,
    records: &[RecordView],
) -> Vec<MarkerView> {
    let first = records.first().map_or(i64::MIN, |r| r.offset);
    let mut shown: Vec<MarkerView> = markers
        .get(&(topic.to_string(), partition))
        .map(|m| m.iter().filter(|m| m.offset >= first).copied().collect())
        .unwrap_or_default();
    shown.sort_by_key(|m| m.offset);
    shown
}

/// A partition's row label: its number, log start and high watermark (and its last stable
/// offset while a transaction is open), its replicas, where its log rolled.
fn partition_label(lang: Lang, p: &PartitionDescription) -> Html {
    html! {
        <div class="partition-label">
            <strong>{ format!("P{}", p.partition) }</strong>
            <span class="offsets">{ format!("start {} · HW {}", p.log_start_offset, p.log_end_offset) }</span>
            if let Some(stable) = p.last_stable_offset {
                <span class="lso" data-lso={stable.to_string()}
                    title={tr(lang, "Last stable offset: a transaction is open from here; read_committed consumers stop here")}>
                    { format!("LSO {stable}") }</span>
            }
            <span class="replicas">{ replicas_line(lang, p) }</span>
            if !p.rolled_at.is_empty() {
                <span class="segments" data-rolled-at={ids64(&p.rolled_at)}>
                    { trf(lang, "segments from {}", &[&ids64(&p.rolled_at)]) }</span>
            }
        </div>
    }
}

/// The most characters of a key or value a record's block holds: more than its 220 px show
/// (the rest is cut with an ellipsis there too, and the block's title holds the whole text). A
/// browser lays out every character it is given: sixteen rows of 100-byte values took the page
/// most of its slow frames on 9 brokers × 500 partitions (docs/benchmarks.md).
const RECORD_TEXT_SHOWN_CHARS: usize = 40;

/// A record's key or value as its block shows it: "null" for none, cut at
/// RECORD_TEXT_SHOWN_CHARS characters.
fn shown_text(text: Option<&str>) -> String {
    text.map_or_else(
        || "null".to_string(),
        |text| kite_shared::serializer::cut(text, RECORD_TEXT_SHOWN_CHARS),
    )
}

/// One block of a partition's row: a record, or a transaction marker between records.
enum Shown<'a> {
    Record(&'a RecordView),
    Marker(MarkerView),
}

/// A partition's records and markers, newest first (the row's order).
fn interleaved(records: &[RecordView], markers: Vec<MarkerView>) -> Vec<Shown<'_>> {
    let mut shown: Vec<(i64, Shown<'_>)> = records.iter().map(|r| (r.offset, Shown::Record(r))).collect();
    shown.extend(markers.into_iter().map(|m| (m.offset, Shown::Marker(m))));
    shown.sort_by_key(|(offset, _)| std::cmp::Reverse(*offset));
    shown.into_iter().map(|(_, item)| item).collect()
}

/// A marker drawn among the records: its offset and COMMIT or ABORT.
fn marker_block(lang: Lang, m: &MarkerView) -> Html {
    let (class, name) = match m.kind {
        MarkerKind::Commit => ("marker-commit", "COMMIT"),
        MarkerKind::Abort => ("marker-abort", "ABORT"),
    };
    html! {
        <div class={classes!("record", "marker", class)} data-offset={m.offset.to_string()} data-marker={name}
            title={trf(lang, "A transaction marker (control record) of producer {}: it takes an offset but is never handed to a consumer", &[&m.producer_id])}>
            <span class="offset">{ m.offset }</span>
            <span class="key">{ name }</span>
            <span class="value">{ tr(lang, "marker") }</span>
        </div>
    }
}

/// A transactional record's class: its transaction open, committed or aborted.
fn txn_class(mark: TxnMark) -> &'static str {
    match mark {
        TxnMark::Open => "txn-open",
        TxnMark::Committed => "txn-committed",
        TxnMark::Aborted => "txn-aborted",
    }
}

/// What a read_committed consumer makes of a transactional record not yet committed.
fn txn_label(lang: Lang, mark: TxnMark) -> &'static str {
    match mark {
        TxnMark::Open => tr(lang, "open transaction"),
        TxnMark::Aborted => tr(lang, "aborted"),
        TxnMark::Committed => tr(lang, "committed"),
    }
}

/// kafka-delete-records up to the chosen record: the partition's log starts there, and what is
/// before it is gone for every consumer (whole segments are removed from disk). Only committed
/// records past the log start can be deleted before.
fn delete_before(
    lang: Lang,
    p: &PartitionDescription,
    topic: &str,
    offset: i64,
    send: &Callback<Command>,
) -> Html {
    if offset <= p.log_start_offset || offset > p.log_end_offset {
        return html! {};
    }
    let command = Command::DeleteRecords { topic: topic.to_string(), partition: p.partition, offset };
    let send = send.clone();
    let title =
        tr(lang, "kafka-delete-records: the log starts here; consumers can no longer read what is before it");
    html! {
        <p class="delete-records">
            <button id="delete-records" {title}
                onclick={Callback::from(move |_: MouseEvent| { send.emit(command.clone()); send.emit(Command::ListTopics); })}>
                { trf(lang, "Delete the records before offset {}", &[&offset]) }</button>
        </p>
    }
}

fn ids64(list: &[i64]) -> String {
    list.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn ids(list: &[i32]) -> String {
    list.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Where a partition lives: its leader (or that it has none), its replicas and which are in sync.
fn replicas_line(lang: Lang, p: &kite_shared::api::PartitionDescription) -> String {
    let leader = p.leader.map_or(tr(lang, "none (offline)").to_string(), |l| l.to_string());
    let ends: Vec<String> =
        p.replica_log_end_offsets.iter().map(|r| format!("b{}:{}", r.broker, r.log_end_offset)).collect();
    let ends = if ends.is_empty() { String::new() } else { format!(" · LEO {}", ends.join(" ")) };
    let line = trf(lang, "leader {} · replicas {} · ISR {}", &[&leader, &ids(&p.replicas), &ids(&p.isr)]);
    format!("{line}{ends}")
}

/// The chosen record's lineage: the record, its partition's replicas and which hold it, whether
/// it is committed (below the high watermark), and the group offsets past it.
fn lineage(
    lang: Lang,
    topic: &TopicDescription,
    records: &BTreeMap<(String, i32), Vec<RecordView>>,
    chosen: Option<(i32, i64)>,
    group: Option<&GroupView>,
    send: &Callback<Command>,
) -> Html {
    let Some((partition, offset)) = chosen else {
        return html! { <p class="hint">{ tr(lang, "Click a record to see where it lives.") }</p> };
    };
    let Some(p) = topic.partitions.iter().find(|p| p.partition == partition) else { return html! {} };
    let Some(record) =
        records.get(&(topic.name.clone(), partition)).and_then(|rs| rs.iter().find(|r| r.offset == offset))
    else {
        return html! {};
    };
    let committed = if offset < p.log_end_offset {
        trf(
            lang,
            "committed: below the high watermark {} — every in-sync replica has it; consumers read it",
            &[&p.log_end_offset],
        )
    } else {
        trf(lang, "not committed yet: at or past the high watermark {}", &[&p.log_end_offset])
    };
    let (holding, missing): (Vec<_>, Vec<_>) =
        p.replica_log_end_offsets.iter().partition(|r| r.log_end_offset > offset);
    let role = |broker: i32| if p.leader == Some(broker) { tr(lang, " (leader)") } else { "" };
    let holding: Vec<String> = holding
        .iter()
        .map(|r| format!("{}{}", trf(lang, "broker {}", &[&r.broker]), role(r.broker)))
        .collect();
    let missing: Vec<String> = missing
        .iter()
        .map(|r| trf(lang, "broker {} (its log ends at {})", &[&r.broker, &r.log_end_offset]))
        .collect();
    let consumed: Vec<String> = group
        .into_iter()
        .flat_map(|g| {
            g.rows.iter().filter(|row| row.topic == topic.name && row.partition == partition).filter_map(
                move |row| {
                    let committed = row.current_offset.filter(|&c| c > offset)?;
                    Some(format!("{} (committed offset {committed})", g.group))
                },
            )
        })
        .collect();
    let headers: Vec<String> =
        record.headers.iter().map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null"))).collect();
    html! {
        <div class="lineage" id="lineage" data-partition={partition.to_string()} data-offset={offset.to_string()}
            data-holding={holding.len().to_string()}>
            <h3>{ format!("{}-{partition} @ offset {offset}", topic.name) }</h3>
            <ul>
                <li>{ format!("key {} · value {} · timestamp {}{}",
                    record.key.as_deref().unwrap_or("null"), record.value.as_deref().unwrap_or("null"),
                    iso_time(record.timestamp_ms),
                    if headers.is_empty() { String::new() } else { format!(" · headers {}", headers.join(", ")) }) }</li>
                <li class="lineage-committed">{ committed }</li>
                <li class="lineage-replicas">{ trf(lang, "on {}", &[&if holding.is_empty() { tr(lang, "no replica").to_string() } else { holding.join(", ") }]) }
                    if !missing.is_empty() { { trf(lang, "; not yet on {}", &[&missing.join(", ")]) } }</li>
                <li class="lineage-groups">{ if consumed.is_empty() {
                    tr(lang, "no consumer group has committed past it").to_string()
                } else {
                    trf(lang, "consumed: {}", &[&consumed.join(", ")])
                } }</li>
            </ul>
            { delete_before(lang, p, &topic.name, offset, send) }
        </div>
    }
}

/// A timestamp as ISO-8601 UTC beside the milliseconds Kafka carries.
fn iso_time(timestamp_ms: i64) -> String {
    format!("{} ({timestamp_ms})", super::iso(timestamp_ms))
}

/// Hex split into groups of `group` bytes, for reading.
fn spaced(hex: &str, group: usize) -> String {
    let chars: Vec<char> = hex.chars().collect();
    chars.chunks(group * 2).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// The chosen record's batch and bytes, as `kafka-dump-log.sh --print-data-log` prints them, with
/// the header and the record in hex.
fn record_bytes(lang: Lang, dumped: &Dumped) -> Html {
    let (b, r) = (&dumped.batch, &dumped.record);
    let batch_line = format!(
        "baseOffset: {} lastOffset: {} count: {} baseSequence: {} producerId: {} producerEpoch: {} \
         partitionLeaderEpoch: {} isTransactional: {} isControl: {} {}: {} size: {} magic: {} \
         compresscodec: {} crc: {} (0x{:08x}) isvalid: true",
        b.base_offset,
        b.last_offset,
        b.count,
        b.base_sequence,
        b.producer_id,
        b.producer_epoch,
        b.partition_leader_epoch,
        b.is_transactional,
        b.is_control,
        b.timestamp_type,
        b.max_timestamp,
        b.size_bytes,
        b.magic,
        b.compresscodec,
        b.crc,
        b.crc,
    );
    let record_line = format!(
        "| offset: {} {}: {} keySize: {} valueSize: {} headerKeys: [{}]",
        r.offset,
        b.timestamp_type,
        r.timestamp,
        r.key_size,
        r.value_size,
        r.header_keys.join(", ")
    );
    html! {
        <div class="record-bytes" id="record-bytes" data-crc={b.crc.to_string()}>
            <h4>{ tr(lang, "Its batch and bytes (kafka-dump-log)") }</h4>
            <pre class="dump">{ format!("{batch_line}\n{record_line}") }</pre>
            <dl class="hex">
                <dt>{ tr(lang, "Batch header (61 bytes; the CRC-32C covers attributes to the end)") }</dt>
                <dd><code>{ spaced(&b.header_hex, 4) }</code></dd>
                <dt>{ tr(lang, "This record's bytes (length, attributes, timestamp and offset deltas, key, value, headers)") }</dt>
                <dd><code id="record-hex">{ spaced(&r.record_hex, 4) }</code></dd>
                <dt>{ tr(lang, "Key bytes") }</dt>
                <dd><code>{ r.key_hex.as_deref().map_or("null".to_string(), |h| spaced(h, 1)) }</code></dd>
                <dt>{ tr(lang, "Value bytes") }</dt>
                <dd><code>{ r.value_hex.as_deref().map_or("null".to_string(), |h| spaced(h, 1)) }</code></dd>
            </dl>
        </div>
    }
}
