//! The producer's transactions: a `transactional.id`, Begin (InitTransactions the first time),
//! the records sent meanwhile written in the transaction, the page's consumers' positions sent
//! as a group's offsets (consume-transform-produce), Commit or Abort (EndTxn) — and what the
//! coordinator holds for the id, live: its state, its broker, the producer id and epoch.

use kite_shared::api::{Command, GroupOffset};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};
use crate::state::{ProducerSession, TransactionSession};

use super::bind_text;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub session: ProducerSession,
    pub ready: bool,
    pub send: Callback<Command>,
    /// A transaction begins for this `transactional.id`.
    pub on_begin: Callback<String>,
    /// Where this page's consumers have read to.
    pub consumed: Vec<GroupOffset>,
}

#[function_component(TransactionBox)]
pub fn transaction_box(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let id = use_state(|| "pay-app".to_string());
    let current = props.session.transaction.clone();
    let open = current.as_ref().is_some_and(|t| t.open);
    let begin = {
        let (id, send, on_begin, current) =
            (id.clone(), props.send.clone(), props.on_begin.clone(), current.clone());
        Callback::from(move |_: MouseEvent| {
            let id = id.trim().to_string();
            // A new id (or the first) asks for its producer id, fencing older instances; the same
            // id goes on with the producer it has, as Kafka's beginTransaction does.
            let known = current.as_ref().is_some_and(|t| t.transactional_id == id && t.producer.is_some());
            on_begin.emit(id.clone());
            if !known {
                send.emit(Command::InitTransactions { transactional_id: id, transaction_timeout_ms: None });
            }
            send.emit(Command::DescribeTransactions);
        })
    };
    let end = |commit: bool| {
        as_producer(&props.send, &current, move |transactional_id, p| Command::EndTransaction {
            transactional_id,
            producer_id: p.producer_id,
            producer_epoch: p.producer_epoch,
            commit,
        })
    };
    let has_producer = current.as_ref().is_some_and(|t| t.producer.is_some());
    let ready = props.ready && has_producer;
    html! {
        <div class="transaction" id="transaction">
            <label>{ "transactional.id" }
                <input id="transactional-id" type="text" value={(*id).clone()} oninput={bind_text(&id)} disabled={open} />
            </label>
            if open {
                <button id="txn-commit" type="button" onclick={end(true)} disabled={!props.ready || !has_producer}>
                    { tr(lang, "Commit") }</button>
                <button id="txn-abort" type="button" onclick={end(false)} disabled={!props.ready || !has_producer}>
                    { tr(lang, "Abort") }</button>
                <SendOffsets session={current.clone()} {ready} send={props.send.clone()} consumed={props.consumed.clone()} />
            } else {
                <button id="txn-begin" type="button" onclick={begin} disabled={!props.ready || id.trim().is_empty()}
                    title={tr(lang, "Records sent until Commit or Abort are written in one transaction")}>
                    { tr(lang, "Begin transaction") }</button>
            }
            if let Some(t) = &current {
                <p class="txn-state" id="txn-state" data-open={open.to_string()}
                    data-ended={t.ended.map(|c| c.to_string()).unwrap_or_default()}>{ state_line(lang, t) }</p>
                if let Some(c) = &t.coordinator {
                    <p class="hint" id="txn-coordinator" data-state={c.state.clone()}>{ trf(lang,
                        "Coordinator: broker {} (__transaction_state-{}) holds it as {}, producer {} epoch {}.",
                        &[&c.coordinator.map_or_else(|| "?".to_string(), |b| b.to_string()), &c.coordinator_partition,
                          &c.state, &c.producer_id, &c.producer_epoch]) }</p>
                }
            }
        </div>
    }
}

/// A button's click: the command `make` writes for the session's transactional producer (none
/// before InitTransactions answered), then the coordinator's view asked again.
fn as_producer(
    send: &Callback<Command>,
    session: &Option<TransactionSession>,
    make: impl Fn(String, &kite_shared::api::IdempotentProducer) -> Command + 'static,
) -> Callback<MouseEvent> {
    let (send, session) = (send.clone(), session.clone());
    Callback::from(move |_: MouseEvent| {
        let Some(TransactionSession { transactional_id, producer: Some(p), .. }) = session.clone() else {
            return;
        };
        send.emit(make(transactional_id, &p));
        send.emit(Command::DescribeTransactions);
    })
}

/// Where the producer's transaction is, in a sentence.
fn state_line(lang: Lang, t: &TransactionSession) -> String {
    let partitions = if t.partitions.is_empty() { "—".to_string() } else { t.partitions.join(", ") };
    match (t.open, t.ended) {
        (true, _) if t.producer.is_none() => {
            tr(lang, "Asking the coordinator for the producer id…").to_string()
        }
        (true, _) => {
            let mut line = trf(
                lang,
                "Transaction open: {} records to {}. read_committed consumers see none of them yet.",
                &[&t.records, &partitions],
            );
            if let Some(group) = &t.offsets_for {
                line.push(' ');
                line.push_str(&trf(lang, "Group {}'s offsets go with it.", &[group]));
            }
            line
        }
        (false, Some(true)) => trf(
            lang,
            "Committed: a COMMIT marker on {}; its {} records are visible together.",
            &[&partitions, &t.records],
        ),
        (false, Some(false)) => trf(
            lang,
            "Aborted: an ABORT marker on {}; read_committed consumers skip its {} records.",
            &[&partitions, &t.records],
        ),
        (false, None) => String::new(),
    }
}

#[derive(Properties, PartialEq)]
struct SendOffsetsProps {
    session: Option<TransactionSession>,
    ready: bool,
    send: Callback<Command>,
    consumed: Vec<GroupOffset>,
}

/// Kafka's `sendOffsetsToTransaction`: the page's consumers' positions, as `group.id`'s offsets,
/// committed with the transaction (AddOffsetsToTxn, then TxnOffsetCommit).
#[function_component(SendOffsets)]
fn send_offsets(props: &SendOffsetsProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let group = use_state(|| "billing".to_string());
    let onclick = {
        let (group, offsets) = (group.clone(), props.consumed.clone());
        as_producer(&props.send, &props.session, move |transactional_id, p| {
            Command::SendOffsetsToTransaction {
                transactional_id,
                producer_id: p.producer_id,
                producer_epoch: p.producer_epoch,
                group: group.trim().to_string(),
                offsets: offsets.clone(),
            }
        })
    };
    let positions: Vec<String> =
        props.consumed.iter().map(|o| format!("{}-{}@{}", o.topic, o.partition, o.offset)).collect();
    let hint = if positions.is_empty() {
        tr(lang, "Consume with the Consumers panel first: their positions are the offsets sent.").to_string()
    } else {
        trf(lang, "Positions sent: {}", &[&positions.join(", ")])
    };
    html! {
        <div class="txn-offsets">
            <label>{ "group.id" }
                <input id="txn-group" type="text" value={(*group).clone()} oninput={bind_text(&group)} />
            </label>
            <button id="txn-send-offsets" type="button" {onclick}
                disabled={!props.ready || positions.is_empty() || group.trim().is_empty()}
                title={tr(lang, "The group's offsets commit with the transaction: on Abort they are dropped")}>
                { tr(lang, "Send offsets") }</button>
            <span class="hint" id="txn-positions">{ hint }</span>
        </div>
    }
}
