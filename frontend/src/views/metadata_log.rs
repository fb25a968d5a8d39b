//! The KRaft metadata log as it commits: the newest records of the active controller's copy of
//! `__cluster_metadata`, each with its offset, quorum epoch, Kafka's record type and what it says.

use kite_shared::api::{Command, MetadataEntryView};
use kite_shared::replication::protocol::MetadataRecord;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};
use crate::state::MetadataLogView;

/// How many of the newest entries the cluster view lists.
const METADATA_ENTRIES_SHOWN: usize = 12;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub log: Option<MetadataLogView>,
    pub ready: bool,
    pub send: Callback<Command>,
}

/// Shown with the quorum (a replicated cluster): it asks for the newest entries as often as the
/// cluster view refreshes.
#[function_component(MetadataLog)]
pub fn metadata_log(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    {
        let send = props.send.clone();
        use_effect_with(props.ready, move |&ready| {
            let describe =
                Command::DescribeMetadataLog { controller: None, from_offset: None, max_entries: None };
            super::every(super::REFRESH_INTERVAL_MS, ready, move || send.emit(describe.clone()))
        });
    }
    let Some(log) = &props.log else { return Html::default() };
    html! {
        <div class="metadata-log">
            <h3>{ tr(lang, "Metadata log") }</h3>
            <p class="hint" id="metadata-log-bounds">
                { trf(lang, "controller-{}'s copy of __cluster_metadata: high watermark {}, log end {}. Newest first; a record is committed once a majority of the controllers holds it.",
                    &[&log.controller, &log.high_watermark, &log.log_end_offset]) }
            </p>
            <ol class="metadata-entries" id="metadata-log">
            { for log.entries.iter().rev().take(METADATA_ENTRIES_SHOWN).map(|entry| {
                let committed = entry.offset < log.high_watermark;
                html! {
                    <li class={classes!("metadata-entry", (!committed).then_some("uncommitted"))}
                        data-offset={entry.offset.to_string()} data-type={entry.record_type.clone()}
                        data-committed={committed.to_string()}>
                        <span class="metadata-offset">{ entry.offset }</span>
                        <span class="metadata-epoch" title="epoch">{ format!("e{}", entry.epoch) }</span>
                        <code class="metadata-type">{ &entry.record_type }</code>
                        <span class="metadata-summary">{ summary(lang, entry) }</span>
                    </li>
                }
            }) }
            </ol>
        </div>
    }
}

/// What an entry says, in a few words.
fn summary(lang: Lang, entry: &MetadataEntryView) -> String {
    let Some(record) = &entry.record else {
        return trf(lang, "a new active controller in epoch {}", &[&entry.epoch]);
    };
    match record {
        MetadataRecord::RegisterBroker { broker, incarnation, rack: None } => {
            trf(lang, "broker {} registered (incarnation {})", &[broker, incarnation])
        }
        MetadataRecord::RegisterBroker { broker, incarnation, rack: Some(rack) } => {
            trf(lang, "broker {} registered (incarnation {}, rack {})", &[broker, incarnation, rack])
        }
        MetadataRecord::FenceBroker { broker } => {
            trf(lang, "broker {} fenced: out of every ISR, leads nothing", &[broker])
        }
        MetadataRecord::BrokerLeaving { broker } => {
            trf(lang, "broker {} leaving: its replicas move away", &[broker])
        }
        MetadataRecord::UnregisterBroker { broker } => trf(lang, "broker {} unregistered", &[broker]),
        MetadataRecord::Topic { name, partitions, .. } => {
            trf(lang, "topic {} created with {} partitions", &[name, partitions])
        }
        MetadataRecord::Partition(state) => {
            let leader = state.leader.map_or_else(|| tr(lang, "none").to_string(), |l| l.to_string());
            let isr = match state.isr.as_slice() {
                [] => tr(lang, "none").to_string(),
                isr => isr.iter().map(i32::to_string).collect::<Vec<_>>().join(","),
            };
            trf(
                lang,
                "{}-{}: leader {} · ISR {} · leader epoch {}",
                &[&state.tp.topic, &state.tp.partition, &leader, &isr, &state.leader_epoch],
            )
        }
        MetadataRecord::RemoveTopic { name } => trf(lang, "topic {} deleted", &[name]),
        MetadataRecord::BrokerConfig { broker, name, value } => {
            let on = broker
                .map_or_else(|| tr(lang, "every broker").to_string(), |b| trf(lang, "broker {}", &[&b]));
            match value {
                Some(value) => trf(lang, "{}: {} set to {}", &[&on, name, value]),
                None => trf(lang, "{}: {} deleted", &[&on, name]),
            }
        }
    }
}
