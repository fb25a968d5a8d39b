//! The cluster: every broker with its state (up, fenced, stopped, paused, isolated), how many
//! replicas it holds and leads, the controller, the under-replicated and offline partitions, and
//! the faults a learner can cause — stop and start, pause and resume, isolate and heal a broker,
//! and single links cut in the network partition editor (`network`); and the Kafka clients
//! connected to the brokers' listeners (kcat, a learner's own code), with what they ask.
//! Kept live by describing the cluster (and listing topics, for leaders and ISRs) every second.

use kite_shared::api::{Command, ControllerView, KafkaClientView, PartitionRef};
use kite_shared::config::{
    AUTO_LEADER_REBALANCE_ENABLE, FOLLOWER_REPLICATION_THROTTLED_RATE,
    LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS, LEADER_REPLICATION_THROTTLED_RATE,
};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

use crate::state::ClusterView;
use crate::views::network::NetworkEditor;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub cluster: Option<ClusterView>,
    /// The active controller's newest metadata log entries.
    #[prop_or_default]
    pub metadata_log: Option<crate::state::MetadataLogView>,
    pub ready: bool,
    pub send: Callback<Command>,
}

/// Partitions named in the summary; more are counted.
const PARTITIONS_NAMED: usize = 4;

/// How many partitions, naming the first few — the learner's topics before internal ones.
fn names(list: &[PartitionRef]) -> String {
    if list.is_empty() {
        return "0".into();
    }
    let mut sorted: Vec<&PartitionRef> = list.iter().collect();
    sorted.sort_by_key(|p| (kite_shared::topic::is_hidden(&p.topic), p.topic.clone(), p.partition));
    let named: Vec<String> =
        sorted.iter().take(PARTITIONS_NAMED).map(|p| format!("{}-{}", p.topic, p.partition)).collect();
    let more = list.len().saturating_sub(PARTITIONS_NAMED);
    let more = if more > 0 { format!(", {more} more") } else { String::new() };
    format!("{} ({}{more})", list.len(), named.join(", "))
}

/// A broker state in the reader's language (the API's word when the table has none).
pub fn state_name(lang: Lang, state: &str) -> String {
    match state {
        "up" | "fenced" | "log-dir-offline" | "stopped" | "paused" | "isolated" => {
            let known: &'static str = match state {
                "up" => "up",
                "fenced" => "fenced",
                "log-dir-offline" => "log directory offline",
                "stopped" => "stopped",
                "paused" => "paused",
                _ => "isolated",
            };
            tr(lang, known).to_string()
        }
        other => other.to_string(),
    }
}

/// A KRaft controller's role as the map and the quorum's table name it.
pub(crate) fn controller_state_name(lang: Lang, state: &str) -> String {
    let known: &'static str = match state {
        "active" => "active",
        "follower" => "follower",
        "stopped" => "stopped",
        "paused" => "paused",
        "unattached" => "no leader known",
        "prospective" => "asking for pre-votes",
        "candidate" => "asking for votes",
        "resigned" => "resigned",
        "leader" => "deposed leader",
        other => return other.to_string(),
    };
    tr(lang, known).to_string()
}

/// The faults a KRaft controller can be given now, each as (button class, label, command):
/// a stopped one can only start; a running one stops, pauses or resumes, isolates or heals.
pub(crate) fn controller_faults(c: &ControllerView) -> Vec<(&'static str, &'static str, Command)> {
    let controller = c.id;
    if c.state == "stopped" {
        return vec![("start-controller", "Start", Command::StartController { controller })];
    }
    let mut faults = vec![("stop-controller", "Stop", Command::StopController { controller })];
    faults.push(match c.state.as_str() {
        "paused" => ("resume-controller", "Resume", Command::ResumeController { controller }),
        _ => ("pause-controller", "Pause", Command::PauseController { controller }),
    });
    faults.push(match c.isolated {
        true => ("heal-controller", "Heal", Command::HealController { controller }),
        false => ("isolate-controller", "Isolate", Command::IsolateController { controller }),
    });
    faults
}

#[function_component(ClusterPanel)]
pub fn cluster_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    {
        let send = props.send.clone();
        use_effect_with(props.ready, move |&ready| {
            super::every(super::REFRESH_INTERVAL_MS, ready, move || {
                send.emit(Command::DescribeCluster);
                send.emit(Command::ListTopics);
                send.emit(Command::GetMetrics);
            })
        });
    }
    let Some(cluster) = &props.cluster else {
        return html! {
            <section class="panel cluster" id="cluster" aria-labelledby="cluster-title">
                <h2 id="cluster-title">{ tr(lang, "Cluster") }</h2>
                <p class="hint">{ tr(lang, "Waiting for the engine…") }</p>
            </section>
        };
    };
    let replicated = cluster.brokers.len() > 1;
    let fault = |command: Command| {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| {
            send.emit(command.clone());
            send.emit(Command::ListTopics);
        })
    };
    html! {
        <section class="panel cluster" id="cluster" aria-labelledby="cluster-title">
            <h2 id="cluster-title">{ tr(lang, "Cluster") }</h2>
            <p class="cluster-summary" id="cluster-summary">
                { match lang {
                    // English counts its brokers in the singular or the plural.
                    Lang::En => format!("{} broker{} · controller {} · {} partitions · under-replicated: {} · offline: {}",
                        cluster.brokers.len(), if cluster.brokers.len() == 1 { "" } else { "s" },
                        cluster.controller, cluster.partitions,
                        names(&cluster.under_replicated), names(&cluster.offline)),
                    Lang::Ko => trf(lang, "{} brokers · controller {} · {} partitions · under-replicated: {} · offline: {}",
                        &[&cluster.brokers.len(), &cluster.controller, &cluster.partitions,
                          &names(&cluster.under_replicated), &names(&cluster.offline)]),
                } }
            </p>
            <ul class="broker-list" id="brokers">
                { for cluster.brokers.iter().map(|b| {
                    let id = b.id;
                    let running = matches!(b.state.as_str(), "up" | "fenced" | "log-dir-offline");
                    html! {
                        <li class={classes!("broker", format!("broker-{}", b.state))} data-broker={id.to_string()}
                            data-state={b.state.clone()}>
                            { broker_head(lang, b) }
                            if replicated {
                                <span class="broker-actions">
                                    if b.state == "stopped" {
                                        <button class="start-broker" disabled={!props.ready}
                                            onclick={fault(Command::StartBroker { broker: id })}>{ tr(lang, "Start") }</button>
                                    } else if b.state == "paused" {
                                        <button class="resume-broker" disabled={!props.ready}
                                            onclick={fault(Command::ResumeBroker { broker: id })}>{ tr(lang, "Resume") }</button>
                                    } else if b.state == "isolated" {
                                        <button class="heal-broker" disabled={!props.ready}
                                            onclick={fault(Command::HealBroker { broker: id })}>{ tr(lang, "Heal") }</button>
                                    } else if running {
                                        <button class="stop-broker" disabled={!props.ready}
                                            title={tr(lang, "A controlled shutdown: its leaderships move first")}
                                            onclick={fault(Command::StopBroker { broker: id })}>{ tr(lang, "Stop") }</button>
                                        <button class="pause-broker" disabled={!props.ready}
                                            title={tr(lang, "Frozen: fenced after broker.session.timeout.ms (9 s)")}
                                            onclick={fault(Command::PauseBroker { broker: id })}>{ tr(lang, "Pause") }</button>
                                        <button class="isolate-broker" disabled={!props.ready}
                                            title={tr(lang, "A network partition around it")}
                                            onclick={fault(Command::IsolateBroker { broker: id })}>{ tr(lang, "Isolate") }</button>
                                    }
                                </span>
                            }
                        </li>
                    }
                }) }
            </ul>
            { leader_balance(lang, &cluster.broker_configs) }
            { replication_throttle(lang, &cluster.broker_configs) }
            <Quorum controllers={cluster.controllers.clone()} metadata_log={props.metadata_log.clone()}
                observers={cluster.brokers.iter().filter_map(|b| Some((b.id, b.metadata_offset?))).collect::<Vec<_>>()}
                ready={props.ready} send={props.send.clone()} />
            <KafkaClients clients={cluster.kafka_clients.clone()} />
            if replicated {
                <NetworkEditor brokers={cluster.brokers.clone()} cut_links={cluster.cut_links.clone()}
                    ready={props.ready} send={props.send.clone()} />
            }
        </section>
    }
}

/// A broker's name, state, rack, whether it is leaving, and what it leads.
fn broker_head(lang: Lang, b: &kite_shared::api::BrokerView) -> Html {
    html! {
        <>
            <strong>{ trf(lang, "Broker {}", &[&b.id]) }</strong>
            <span class="broker-state">{ state_name(lang, &b.state) }</span>
            if let Some(rack) = &b.rack {
                <span class="broker-rack" title={tr(lang, "broker.rack: a new topic's replicas go to different racks")}>
                    { trf(lang, "rack {}", &[rack]) }</span>
            }
            if b.leaving {
                <span class="broker-leaving" title={tr(lang, "kite cluster remove-broker: its replicas move to the other brokers first, then it leaves")}>
                    { tr(lang, "leaving") }</span>
            }
            <span class="broker-meta">{ trf(lang, "leads {} of {} replicas", &[&b.leaders, &b.replicas]) }</span>
        </>
    }
}

/// Whether and how often the controller moves leadership back to preferred replicas, from the
/// broker configs the cluster started with (nothing for a single broker, which has none).
fn leader_balance(lang: Lang, configs: &[kite_shared::api::BrokerConfigView]) -> Html {
    let value = |name: &str| configs.iter().find(|c| c.name == name).map(|c| c.value.as_str());
    let text = match (value(AUTO_LEADER_REBALANCE_ENABLE), value(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS)) {
        (Some("false"), _) => tr(lang, "auto.leader.rebalance.enable=false: leaders stay where a failover put them until preferred leaders are elected (kite cluster elect-leaders --election-type preferred)").to_string(),
        (Some(_), Some(seconds)) => trf(lang, "Preferred leaders come back every {} s (auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds)", &[&seconds]),
        _ => return Html::default(),
    };
    html! { <p class="hint leader-balance" id="leader-balance">{ text }</p> }
}

/// The replication throttle's rates in force (KIP-73): each broker's, every broker's default,
/// or the ones set at start; nothing when replication is unthrottled (Kafka's default).
fn replication_throttle(lang: Lang, configs: &[kite_shared::api::BrokerConfigView]) -> Html {
    let unthrottled = i64::MAX.to_string();
    let rates: Vec<String> = configs
        .iter()
        .filter(|c| {
            [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE]
                .contains(&c.name.as_str())
        })
        .filter(|c| c.value != unthrottled)
        .map(|c| {
            let on = match (c.broker, c.source.as_str()) {
                (Some(broker), _) => trf(lang, "broker {}", &[&broker]),
                (None, "DYNAMIC_DEFAULT_BROKER_CONFIG") => tr(lang, "every broker").to_string(),
                _ => tr(lang, "every broker, set at start").to_string(),
            };
            format!("{on}: {}={} B/s", c.name, c.value)
        })
        .collect();
    if rates.is_empty() {
        return Html::default();
    }
    let text = trf(lang, "Replication throttled (KIP-73): {}", &[&rates.join(" · ")]);
    html! { <p class="hint replication-throttle" id="replication-throttle">{ text }</p> }
}

#[derive(Properties, PartialEq)]
struct QuorumProps {
    controllers: Vec<ControllerView>,
    /// The brokers, observers of the quorum: each with how far it has fetched the log.
    observers: Vec<(i32, i64)>,
    metadata_log: Option<crate::state::MetadataLogView>,
    ready: bool,
    send: Callback<Command>,
}

/// The KRaft controller quorum, as `kafka-metadata-quorum describe --replication` lists it:
/// each controller's role, the epoch it has seen, its metadata log's end and high watermark,
/// and a Stop or Start; then the brokers, observers fetching the log, with how far they have.
/// Nothing for a single broker, which is its own controller.
#[function_component(Quorum)]
fn quorum(props: &QuorumProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    if props.controllers.is_empty() {
        return Html::default();
    }
    let fault = |command: Command| {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| {
            send.emit(command.clone());
            send.emit(Command::DescribeCluster);
        })
    };
    let committed = props.controllers.iter().find(|c| c.state == "active").map(|c| c.high_watermark);
    html! {
        <div class="quorum">
            <h3>{ tr(lang, "KRaft controller quorum") }</h3>
            <div class="quorum-scroll">
            <table class="quorum-table" id="quorum">
                <thead><tr>
                    <th>{ tr(lang, "Controller") }</th><th>{ tr(lang, "Role") }</th>
                    <th>{ "Epoch" }</th>
                    <th title="LogEndOffset">{ "LEO" }</th><th title="HighWatermark">{ "HW" }</th><th></th>
                </tr></thead>
                <tbody>
                { for props.controllers.iter().map(|c| {
                    let id = c.id;
                    html! {
                        <tr class={classes!("controller", format!("controller-{}", c.state), c.isolated.then_some("controller-isolated"))}
                            data-controller={id.to_string()} data-state={c.state.clone()} data-isolated={c.isolated.to_string()}>
                            <td>{ format!("controller-{id}") }</td>
                            <td>{ controller_state_name(lang, &c.state) }
                                if c.isolated { { format!(" · {}", tr(lang, "isolated")) } }</td>
                            <td>{ c.epoch }</td><td>{ c.log_end_offset }</td><td>{ c.high_watermark }</td>
                            <td class="controller-faults">
                                { for controller_faults(c).into_iter().map(|(class, text, command)| html! {
                                    <button class={class} disabled={!props.ready} onclick={fault(command)}>{ tr(lang, text) }</button>
                                }) }
                            </td>
                        </tr>
                    }
                }) }
                { for props.observers.iter().map(|&(broker, offset)| {
                    // Behind the active controller's high watermark: records it has yet to fetch.
                    let behind = committed.is_some_and(|hw| offset < hw);
                    html! {
                        <tr class={classes!("observer", behind.then_some("observer-behind"))} data-broker={broker.to_string()}
                            data-offset={offset.to_string()} data-behind={behind.to_string()}>
                            <td>{ format!("broker-{broker}") }</td><td>{ tr(lang, "observer") }</td>
                            <td></td><td>{ offset }</td><td></td><td></td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            </div>
            <p class="hint">{ tr(lang, "The active controller is the quorum's leader: it makes every metadata change, committed once a majority holds it. Followers learn the high watermark with their next fetch, so theirs may trail.") }</p>
            <p class="hint">{ tr(lang, "Brokers are observers: they fetch the committed metadata log from the active controller, without a vote, and replay it. Their LEO is how far they have.") }</p>
            <super::metadata_log::MetadataLog log={props.metadata_log.clone()} ready={props.ready} send={props.send.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ClientsProps {
    clients: Vec<KafkaClientView>,
}

/// The Kafka clients connected to the brokers' listeners: who (client.id, software, its
/// connection's number in the protocol inspector), from where, to which broker, its producer ids
/// and consumer groups, and its requests of each API with their rate since the last refresh.
#[function_component(KafkaClients)]
fn kafka_clients(props: &ClientsProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    // The counts the last render saw, and when: requests per second since then.
    let seen = use_mut_ref(|| (0.0_f64, RequestCounts::new()));
    let now_ms = js_sys::Date::now();
    let rates = request_rates(&seen.borrow(), now_ms, &props.clients);
    *seen.borrow_mut() = (now_ms, props.clients.iter().map(|c| (c.connection, c.requests.clone())).collect());
    html! {
        <div class="kafka-clients">
            <h3>{ tr(lang, "Kafka clients") }</h3>
            if props.clients.is_empty() {
                <p class="hint" id="kafka-clients-none">
                    { tr(lang, "No Kafka client is connected. Under kite serve, point one at a broker's listener (127.0.0.1:9092).") }
                </p>
            } else {
                <ul class="kafka-client-list" id="kafka-clients">
                    { for props.clients.iter().map(|c| {
                        let name = if c.client_id.is_empty() { tr(lang, "(no client.id)").to_string() } else { c.client_id.clone() };
                        let requests: Vec<String> = c.requests.iter().map(|(api, n)| {
                            match rates.get(&(c.connection, api.clone())) {
                                Some(rate) if *rate >= 0.5 => format!("{api} {n} ({rate:.0}/s)"),
                                _ => format!("{api} {n}"),
                            }
                        }).collect();
                        let ids: Vec<String> = c.producer_ids.iter().map(i64::to_string).collect();
                        html! {
                            <li class="kafka-client" data-client-id={c.client_id.clone()} data-broker={c.broker.to_string()}
                                data-connection={c.connection.to_string()}>
                                <strong>{ name }<span class="kafka-client-connection">{ format!(" #{}", c.connection) }</span></strong>
                                <span class="kafka-client-software">{ c.software.clone() }</span>
                                <span class="kafka-client-meta">{ trf(lang, "from {} to broker {}", &[&c.address, &c.broker]) }</span>
                                if !ids.is_empty() {
                                    <span class="kafka-client-producers">{ trf(lang, "producer id {}", &[&ids.join(", ")]) }</span>
                                }
                                if !c.groups.is_empty() {
                                    <span class="kafka-client-groups">{ trf(lang, "groups: {}", &[&c.groups.join(", ")]) }</span>
                                }
                                if c.read_committed {
                                    <span class="kafka-client-isolation">{ tr(lang, "reads committed (isolation.level=read_committed)") }</span>
                                }
                                <span class="kafka-client-requests">{ requests.join(" · ") }</span>
                            </li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}

/// Each connection's request count by API.
type RequestCounts = std::collections::BTreeMap<u64, std::collections::BTreeMap<String, u64>>;

/// Requests per second of each (connection, API) since `seen` was taken (none at the first look).
fn request_rates(
    (then_ms, counts): &(f64, RequestCounts),
    now_ms: f64,
    clients: &[KafkaClientView],
) -> std::collections::BTreeMap<(u64, String), f64> {
    let seconds = (now_ms - then_ms) / 1000.0;
    if *then_ms <= 0.0 || seconds <= 0.0 {
        return Default::default();
    }
    clients
        .iter()
        .flat_map(|c| c.requests.iter().map(move |(api, n)| (c, api, *n)))
        .filter_map(|(c, api, n)| {
            let before = counts.get(&c.connection)?.get(api)?;
            Some(((c.connection, api.clone()), n.saturating_sub(*before) as f64 / seconds))
        })
        .collect()
}
