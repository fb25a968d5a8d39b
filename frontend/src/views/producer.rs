//! The producer: key, value and optional partition in; the engine's placement and offset out, with
//! the partitioner's arithmetic spelled out.

use kite_shared::api::{Command, TopicDescription};
use kite_shared::partitioner::{PartitionerKind, Placement};
use kite_shared::serializer::SerializerKind;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use super::bind_text;
use crate::state::Produced;

/// A schema to start from when Avro is picked: a record a learner can fill in as JSON.
const EXAMPLE_AVRO_SCHEMA: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"}]}"#;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topics: std::rc::Rc<Vec<TopicDescription>>,
    pub selected: Option<String>,
    pub ready: bool,
    pub send: Callback<Command>,
    pub last_produced: Option<Produced>,
    pub key_serializer: SerializerKind,
    pub value_serializer: SerializerKind,
    /// The user picked other serializers: (key, value).
    pub on_serializers: Callback<(SerializerKind, SerializerKind)>,
    /// A run of generated or imported batches starts.
    pub on_batch_start: Callback<()>,
    pub batch_tally: Option<crate::state::BatchTally>,
    /// `enable.idempotence`, the producer id and sequences, the last record sent.
    pub session: crate::state::ProducerSession,
    /// A record was sent: the command, and whether it was the last one sent again.
    pub on_sent: Callback<(Command, bool)>,
    /// `enable.idempotence` was switched on or off.
    pub on_idempotence: Callback<bool>,
    /// A transaction begins for this `transactional.id`.
    pub on_begin_transaction: Callback<String>,
    /// Where this page's consumers have read to: the offsets a transaction can send.
    pub consumed: Vec<kite_shared::api::GroupOffset>,
}

/// Headers typed as kafka-console-producer reads them with `parse.headers=true`: `key:value`
/// pairs separated by `,` (a pair without `:` is a header with an empty value).
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once(':') {
            Some((key, value)) => (key.trim().to_string(), value.trim().to_string()),
            None => (pair.to_string(), String::new()),
        })
        .collect()
}

/// Bytes as Kafka tools print them: lowercase hex pairs separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The partitioner's decision as the steps a learner can follow, one per line.
pub fn explain(placement: &Placement) -> Vec<String> {
    match placement {
        Placement::Explicit { partition } => {
            vec![format!("partition {partition} was given explicitly: the partitioner was not consulted")]
        }
        Placement::KeyHash { key_bytes, murmur2, positive, num_partitions, partition } => vec![
            format!("key bytes: {} ({} bytes)", hex(key_bytes), key_bytes.len()),
            format!("murmur2(key bytes) = {murmur2}"),
            format!("{murmur2} & 0x7fffffff = {positive}"),
            format!("{positive} % {num_partitions} partitions = {partition}"),
        ],
        Placement::Sticky { partition, produced_bytes, batch_size, chosen_with } => {
            let mut steps =
                vec!["null key: the built-in partitioner sticks to one partition (KIP-794)".to_string()];
            if let Some(choice) = chosen_with {
                steps.push(format!(
                    "new sticky partition: random {} % {} available = {partition}",
                    choice.random, choice.available
                ));
            } else {
                steps.push(format!("still sticky to partition {partition}"));
            }
            steps.push(format!("{produced_bytes} of batch.size {batch_size} bytes sent to it"));
            if produced_bytes >= batch_size {
                steps.push("batch.size reached: the next null-key record picks a new partition".into());
            }
            steps
        }
        Placement::RoundRobin { counter, available, partition } => vec![
            "RoundRobinPartitioner: keys are ignored".into(),
            format!("counter {counter} % {available} available partitions → partition {partition}"),
        ],
        Placement::Crc32 { key_bytes, crc32, num_partitions, partition } => vec![
            format!("key bytes: {} ({} bytes)", hex(key_bytes), key_bytes.len()),
            format!("consistent_random: CRC-32(key bytes) = {crc32}"),
            format!("{crc32} % {num_partitions} partitions = {partition}"),
        ],
        Placement::Random { choice, partition } => vec![
            "librdkafka places this key at random (null key, or empty for consistent_random)".into(),
            format!("random {} % {} available = {partition}", choice.random, choice.available),
        ],
    }
}

/// An `onchange` handler for a `<select>` whose option values are names `parse` understands.
fn on_select<T: 'static>(parse: fn(&str) -> Option<T>, emit: impl Fn(T) + 'static) -> Callback<Event> {
    Callback::from(move |e: Event| {
        if let Some(value) = parse(&e.target_unchecked_into::<HtmlSelectElement>().value()) {
            emit(value);
        }
    })
}

fn serializer_options(selected: SerializerKind) -> Html {
    SerializerKind::ALL
        .iter()
        .map(|kind| {
            html! {
                <option value={kind.serializer_name()} selected={*kind == selected}>{ kind.serializer_name() }</option>
            }
        })
        .collect()
}

/// The producer form's fields.
struct Form {
    key: UseStateHandle<String>,
    value: UseStateHandle<String>,
    partition: UseStateHandle<String>,
    headers: UseStateHandle<String>,
    partitioner: UseStateHandle<PartitionerKind>,
    acks: UseStateHandle<kite_shared::config::Acks>,
}

impl Form {
    /// The record the form describes, as a `produce` (an idempotent producer's id and sequences
    /// with it).
    fn command(
        &self,
        topic: &str,
        (key_serializer, value_serializer): (SerializerKind, SerializerKind),
        producer: Option<kite_shared::api::IdempotentProducer>,
    ) -> Command {
        let partition = self.partition.trim();
        Command::Produce {
            acks: *self.acks,
            topic: topic.to_string(),
            // An empty box means "let the partitioner choose"; anything else goes to the
            // engine as typed (an unparsable number as -1, which it refuses by name).
            partition: (!partition.is_empty()).then(|| partition.parse().unwrap_or(-1)),
            // An empty key box is Kafka's null key.
            key: (!self.key.is_empty()).then(|| (*self.key).clone()),
            value: Some((*self.value).clone()),
            timestamp_ms: None,
            partitioner: *self.partitioner,
            key_serializer,
            value_serializer,
            headers: parse_headers(&self.headers),
            producer,
        }
    }
}

#[function_component(ProducerPanel)]
pub fn producer_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let key = use_state(|| "customer-42".to_string());
    let value = use_state(|| "hello, kafka".to_string());
    let partition = use_state(String::new);
    let headers = use_state(String::new);
    let partitioner = use_state(PartitionerKind::default);
    // Kafka's producer default since 3.0: every in-sync replica has the record before the answer.
    let acks = use_state(kite_shared::config::Acks::default);
    let schema = use_state(|| EXAMPLE_AVRO_SCHEMA.to_string());
    let topic = props.selected.clone().unwrap_or_default();
    let (key_serializer, value_serializer) = (props.key_serializer, props.value_serializer);
    let form = Form {
        key: key.clone(),
        value: value.clone(),
        partition: partition.clone(),
        headers: headers.clone(),
        partitioner: partitioner.clone(),
        acks: acks.clone(),
    };
    let produce = {
        let (send, on_sent, topic) = (props.send.clone(), props.on_sent.clone(), topic.clone());
        let producer = props.session.sending_as(); // the transactional one inside a transaction
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let command = form.command(&topic, (key_serializer, value_serializer), producer.clone());
            on_sent.emit((command.clone(), false));
            send.emit(command);
        })
    };
    let on_key_serializer = {
        let on = props.on_serializers.clone();
        on_select(SerializerKind::from_class_name, move |k| on.emit((k, value_serializer)))
    };
    let on_value_serializer = {
        let on = props.on_serializers.clone();
        on_select(SerializerKind::from_class_name, move |v| on.emit((key_serializer, v)))
    };
    let on_partitioner = {
        let partitioner = partitioner.clone();
        on_select(PartitionerKind::from_name, move |p| partitioner.set(p))
    };
    let register_schema = {
        let (schema, send, topic) = (schema.clone(), props.send.clone(), topic.clone());
        Callback::from(move |_: MouseEvent| {
            send.emit(Command::RegisterSchema {
                subject: format!("{topic}-value"),
                schema: (*schema).clone(),
            })
        })
    };
    let on_schema = {
        let schema = schema.clone();
        Callback::from(move |e: InputEvent| {
            schema.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    // A transactional or idempotent producer sends nothing before it has its producer id.
    let can_send = props.ready && !topic.is_empty() && !props.session.waiting_for_id();
    let on_acks = {
        let acks = acks.clone();
        on_select(kite_shared::config::Acks::from_name, move |kind| acks.set(kind))
    };
    html! {
        <section class="panel producer" id="producer" aria-labelledby="producer-title">
            <h2 id="producer-title">{ tr(lang, "Producer") }</h2>
            <form class="produce" onsubmit={produce}>
                <p class="target">{ tr(lang, "Topic: ") }<strong id="produce-topic">{
                    if topic.is_empty() { tr(lang, "create a topic first").to_string() } else { topic.clone() }
                }</strong></p>
                <label>{ tr(lang, "Key") }<input id="produce-key" type="text" value={(*key).clone()}
                    oninput={bind_text(&key)} placeholder="empty = null key" /></label>
                <label>{ tr(lang, "Value") }<input id="produce-value" type="text" value={(*value).clone()}
                    oninput={bind_text(&value)} /></label>
                <label>{ tr(lang, "Partition") }<input id="produce-partition" type="text" value={(*partition).clone()}
                    oninput={bind_text(&partition)} placeholder={tr(lang, "empty = partitioner")} /></label>
                <button id="produce-send" type="submit" disabled={!can_send}>{ tr(lang, "Send") }</button>
                <label>{ tr(lang, "Key serializer") }<select id="key-serializer" onchange={on_key_serializer}>
                    { serializer_options(key_serializer) }</select></label>
                <label>{ tr(lang, "Value serializer") }<select id="value-serializer" onchange={on_value_serializer}>
                    { serializer_options(value_serializer) }</select></label>
                <label>{ tr(lang, "Partitioner") }<select id="partitioner" onchange={on_partitioner}>
                    { for PartitionerKind::ALL.iter().map(|kind| html! {
                        <option value={kind.name()} selected={*kind == *partitioner}>{ kind.name() }</option>
                    }) }</select></label>
                <label>{ "acks" }<select id="acks" onchange={on_acks}>
                    { for [("all", kite_shared::config::Acks::All), ("1", kite_shared::config::Acks::Leader),
                        ("0", kite_shared::config::Acks::None)].into_iter().map(|(name, kind)| html! {
                        <option value={name} selected={kind == *acks}>{ name }</option>
                    }) }</select></label>
                <label class="wide">{ tr(lang, "Headers") }<input id="produce-headers" type="text"
                    value={(*headers).clone()} oninput={bind_text(&headers)} placeholder="source:web,trace:42" /></label>
            </form>
            if value_serializer == SerializerKind::Avro {
                <div class="schema">
                    <label>{ trf(lang, "Avro schema for subject {}", &[&format!("{topic}-value")]) }
                        <textarea id="avro-schema" rows="3" value={(*schema).clone()} oninput={on_schema} />
                    </label>
                    <button id="register-schema" type="button" onclick={register_schema} disabled={!can_send}>
                        { tr(lang, "Register schema") }</button>
                </div>
            }
            <super::generator::Generator topic={topic.clone()} ready={props.ready} partitioner={*partitioner}
                acks={*acks} {key_serializer} {value_serializer}
                on_start={props.on_batch_start.clone()} tally={props.batch_tally.clone()} />
            if let Some(produced) = &props.last_produced {
                <ProducedResult produced={produced.clone()} />
            }
            <Idempotence session={props.session.clone()} ready={props.ready} send={props.send.clone()}
                on_sent={props.on_sent.clone()} on_idempotence={props.on_idempotence.clone()} />
            <super::transaction::TransactionBox session={props.session.clone()} ready={props.ready} send={props.send.clone()} on_begin={props.on_begin_transaction.clone()} consumed={props.consumed.clone()} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct IdempotenceProps {
    session: crate::state::ProducerSession,
    ready: bool,
    send: Callback<Command>,
    on_sent: Callback<(Command, bool)>,
    on_idempotence: Callback<bool>,
}

/// `enable.idempotence` and "Retry this batch": the last record sent again exactly as it went
/// (same partition, same sequence), as a producer retries a batch whose answer it never got.
#[function_component(Idempotence)]
fn idempotence(props: &IdempotenceProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let retry = props.session.last_sent.clone().map(|command| {
        let (send, on_sent) = (props.send.clone(), props.on_sent.clone());
        Callback::from(move |_: MouseEvent| {
            on_sent.emit((command.clone(), true));
            send.emit(command.clone());
        })
    });
    let on_idempotence = {
        let (on, send) = (props.on_idempotence.clone(), props.send.clone());
        Callback::from(move |e: Event| {
            let on_now = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            on.emit(on_now);
            if on_now {
                // A Kafka producer with enable.idempotence asks for its producer id first.
                send.emit(Command::InitProducerId);
            }
        })
    };
    html! {
        <div class="idempotence">
            <label class="check" title={tr(lang, "The leader numbers each producer's records per partition and drops a retried one")}>
                <input id="enable-idempotence" type="checkbox" checked={props.session.idempotence} onchange={on_idempotence} />
                { "enable.idempotence" }
                if let Some(producer) = &props.session.producer {
                    <span class="hint" id="producer-id">{ trf(lang, " (producer id {})", &[&producer.producer_id]) }</span>
                }
            </label>
            if let Some(retry) = retry {
                <button id="produce-retry" type="button" onclick={retry} disabled={!props.ready}
                    title={tr(lang, "Send the last record again as it was sent, as a producer retries a batch whose answer was lost")}>
                    { tr(lang, "Retry this batch") }</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ResultProps {
    pub produced: Produced,
}

/// The engine's answer to the last send.
#[function_component(ProducedResult)]
pub fn produced_result(props: &ResultProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let p = &props.produced;
    html! {
        <div id="produce-result" class="produce-result" data-topic={p.topic.clone()}
            data-partition={p.partition.to_string()} data-offset={p.offset.to_string()}>
            <p class="headline">
                { tr(lang, "Written to ") }<strong>{ format!("{}-{}", p.topic, p.partition) }</strong>
                { tr(lang, " at offset ") }<strong>{ p.offset }</strong>
            </p>
            <ol class="explanation">
                { for explain(&p.placement).into_iter().map(|step| html! { <li>{ step }</li> }) }
            </ol>
            { idempotence_note(lang, p) }
        </div>
    }
}

/// What idempotence did to this send: the producer's sequence, a duplicate the leader refused to
/// write again, or — without idempotence — a retry written a second time.
fn idempotence_note(lang: Lang, p: &Produced) -> Html {
    let at = format!("{}-{}", p.topic, p.partition);
    match &p.idempotent {
        Some(w) if w.duplicate => html! {
            <p class="duplicate" id="produce-duplicate">{ trf(lang,
                "Duplicate refused: the leader already had producer {}'s sequence {} in {}, at offset {}. Nothing was written twice.",
                &[&w.producer_id, &w.sequence, &at, &p.offset]) }</p>
        },
        Some(w) => html! {
            <p class="sequence" id="produce-sequence">{ trf(lang, "Producer {}, sequence {} in {}.", &[&w.producer_id, &w.sequence, &at]) }</p>
        },
        None if p.retried => html! {
            <p class="written-twice" id="produce-written-twice">{ tr(lang,
                "Written again: without enable.idempotence the broker cannot tell a retry from a new record, so this is a second copy.") }</p>
        },
        None => html! {},
    }
}
