//! The network partition editor: every link between the controller, each broker and the
//! clients as a matrix; a click cuts a link both ways (`cut_link`) or heals it (`heal_link`),
//! so a learner can build the partial partitions real networks make and watch Kafka react.

use kite_shared::api::{BrokerView, Command};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub brokers: Vec<BrokerView>,
    pub cut_links: Vec<[String; 2]>,
    pub ready: bool,
    /// Sends a command; the cluster is described again by its reply.
    pub send: Callback<Command>,
}

/// The editor's nodes in the engine's names: the controller, every broker, the clients.
pub fn link_nodes(brokers: &[BrokerView]) -> Vec<String> {
    let mut nodes = vec!["controller".to_string()];
    nodes.extend(brokers.iter().map(|b| format!("broker-{}", b.id)));
    nodes.push("clients".into());
    nodes
}

/// Whether the link between `a` and `b` is cut (links are kept with their ends in order, but
/// the check does not rely on which order).
pub fn is_cut(cut_links: &[[String; 2]], a: &str, b: &str) -> bool {
    cut_links.iter().any(|[x, y]| (x == a && y == b) || (x == b && y == a))
}

/// A node's name in the reader's language.
fn label(lang: Lang, node: &str) -> String {
    match node.strip_prefix("broker-") {
        Some(id) => trf(lang, "Broker {}", &[&id]),
        None if node == "controller" => tr(lang, "Controller").to_string(),
        None => tr(lang, "Clients").to_string(),
    }
}

#[function_component(NetworkEditor)]
pub fn network_editor(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let nodes = link_nodes(&props.brokers);
    let toggle = |a: &str, b: &str, cut: bool| {
        let send = props.send.clone();
        let (from, to) = (a.to_string(), b.to_string());
        Callback::from(move |_: MouseEvent| {
            let (from, to) = (from.clone(), to.clone());
            send.emit(if cut { Command::HealLink { from, to } } else { Command::CutLink { from, to } });
            send.emit(Command::ListTopics);
        })
    };
    let heal_all = {
        let send = props.send.clone();
        let links = props.cut_links.clone();
        Callback::from(move |_: MouseEvent| {
            for [from, to] in &links {
                send.emit(Command::HealLink { from: from.clone(), to: to.clone() });
            }
            send.emit(Command::ListTopics);
        })
    };
    html! {
        <section class="network" id="network" aria-labelledby="network-title">
            <h3 id="network-title">{ tr(lang, "Network partition editor") }</h3>
            <p class="hint">{ tr(lang, "Click a link to cut it both ways; click it again to heal it. A broker cut from the controller is fenced after 9 s; a follower cut from its leader leaves the ISR after 30 s; clients cut from a leader time out.") }</p>
            // A phone is narrower than five nodes' matrix: the matrix scrolls, not the page.
            <div class="matrix-scroll"><table class="link-matrix">
                <thead>
                    <tr>
                        <th></th>
                        { for nodes.iter().map(|n| html! { <th scope="col">{ label(lang, n) }</th> }) }
                    </tr>
                </thead>
                <tbody>
                    { for nodes.iter().map(|a| html! {
                        <tr>
                            <th scope="row">{ label(lang, a) }</th>
                            { for nodes.iter().map(|b| {
                                if a == b {
                                    return html! { <td class="link-self">{ "—" }</td> };
                                }
                                let cut = is_cut(&props.cut_links, a, b);
                                let ends: [&dyn std::fmt::Display; 2] = [&label(lang, a), &label(lang, b)];
                                let title = if cut {
                                    trf(lang, "{} ↔ {}: cut — click to heal", &ends)
                                } else {
                                    trf(lang, "{} ↔ {}: connected — click to cut", &ends)
                                };
                                html! {
                                    <td>
                                        <button class={classes!("link", if cut { "link-cut" } else { "link-ok" })}
                                            data-link={format!("{a}|{b}")} aria-pressed={cut.to_string()}
                                            disabled={!props.ready} title={title.clone()} aria-label={title}
                                            onclick={toggle(a, b, cut)}>
                                            { if cut { "✂" } else { "●" } }
                                        </button>
                                    </td>
                                }
                            }) }
                        </tr>
                    }) }
                </tbody>
            </table></div>
            <p class="cut-links" id="cut-links">
                if props.cut_links.is_empty() {
                    { tr(lang, "Every link is up.") }
                } else {
                    { trf(lang, "Cut: {}", &[&props.cut_links.iter().map(|[a, b]| format!("{} ↔ {}", label(lang, a), label(lang, b))).collect::<Vec<_>>().join(", ")]) }
                    { " " }
                    <button class="heal-links" disabled={!props.ready} onclick={heal_all}>{ tr(lang, "Heal every link") }</button>
                }
            </p>
        </section>
    }
}
