//! The cluster map: the cluster drawn, not listed. Brokers are columns holding their partition
//! replicas as blocks — the leader filled, an in-sync follower outlined, a follower out of the
//! ISR dashed, an offline replica grey — each with its log end and the high watermark; the
//! producer above, with an arrow to the leader its last record went to; consumer groups below,
//! with an arrow from each partition they own and its lag. Records fly from the producer to the
//! leader they were written to, coloured by key as the partitions view colours them (at most one
//! flight per `FLIGHT_INTERVAL_MS`, so a 200 k records/s run draws as calmly as one record); a
//! replica whose role changed (a new leader, one leaving or rejoining the ISR) pulses. Under the
//! brokers, the KRaft controller quorum: each controller with its role (the active one filled),
//! its epoch and how much of the metadata log it holds. Click a broker to stop, pause or isolate
//! it, a controller to stop or start it, a block to open its partition's log, a landed record for
//! its lineage; each is a button for the keyboard too.

use std::collections::HashMap;

use kite_shared::api::{Command, ControllerView, PartitionDescription, TopicDescription};
use kite_shared::config::ThrottledReplicas;
use kite_shared::partitioner::Placement;
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};
use crate::state::{BatchTally, ClusterView, GroupView, Produced};

/// A broker column's width and the gap between columns, in SVG user units (CSS pixels at
/// natural size).
const COLUMN_WIDTH_PX: f64 = 150.0;
const COLUMN_GAP_PX: f64 = 14.0;
/// A replica block's height and the space under it.
const BLOCK_HEIGHT_PX: f64 = 38.0;
const BLOCK_GAP_PX: f64 = 6.0;
/// The producer's row above the brokers, the brokers' headers, the groups' row below.
const PRODUCER_ROW_PX: f64 = 58.0;
const HEADER_HEIGHT_PX: f64 = 44.0;
const GROUP_ROW_PX: f64 = 70.0;
/// The controller quorum's row under the brokers (its label, then a box per controller).
const QUORUM_ROW_PX: f64 = 78.0;
const QUORUM_LABEL_PX: f64 = 24.0;
const CONTROLLER_BOX_HEIGHT_PX: f64 = 46.0;
/// The most replica blocks drawn in one broker's column; the rest are counted ("+12 more"), so a
/// 500-partition topic draws in the time of a small one.
pub const MAX_BLOCKS_PER_BROKER: usize = 16;
/// At most one record flies from the producer per this many ms; the records between are counted
/// on their blocks, not drawn.
const FLIGHT_INTERVAL_MS: f64 = 250.0;
/// How long a replica whose role changed keeps its pulse (the CSS animation is shorter).
const CHANGE_HIGHLIGHT_MS: f64 = 2_000.0;
/// The smallest the map is drawn, as a share of its natural size (its text stays readable).
const MIN_MAP_SCALE: f64 = 0.6;
/// A flying record's radius.
const FLIGHT_RADIUS_PX: f64 = 6.0;

/// Opens a partition's log (topic, partition) and, given an offset, that record's lineage.
pub type OpenPartition = Callback<(String, i32, Option<i64>)>;

/// What a replica is to its partition, as the map draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// It leads: producers write to it, consumers read from it.
    Leader,
    /// It follows and is in the ISR: it has everything below the high watermark.
    InSync,
    /// It follows but fell out of the ISR.
    OutOfSync,
    /// Its partition has no leader, or its broker is down.
    Offline,
}

impl Role {
    fn class(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::InSync => "in-sync",
            Role::OutOfSync => "out-of-sync",
            Role::Offline => "offline",
        }
    }
}

/// One replica block in a broker's column.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub topic: String,
    pub partition: i32,
    pub role: Role,
    /// This replica's log end offset.
    pub log_end: i64,
    /// The partition's high watermark.
    pub high_watermark: i64,
    /// Its part in a reassignment in progress, if any.
    pub moving: Option<Moving>,
}

/// A replica's part in a partition reassignment (KIP-455).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moving {
    /// Being added: it catches up, and the move completes once it is in the ISR.
    Joining,
    /// Being added under a replication throttle (its topic's
    /// `follower.replication.throttled.replicas` names it): it catches up at the throttled rate.
    JoiningThrottled,
    /// Leaving once the move completes.
    Leaving,
}

/// One broker's column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub broker: i32,
    pub state: String,
    /// Being removed: its replicas move off it, then it leaves.
    pub leaving: bool,
    pub controller: bool,
    /// Its `broker.rack`, if it has one.
    pub rack: Option<String>,
    pub blocks: Vec<Block>,
    /// Replicas not drawn (past `MAX_BLOCKS_PER_BROKER`).
    pub more: usize,
}

/// Whether a broker in `state` serves its replicas.
fn serves(state: &str) -> bool {
    state == "up"
}

/// The columns of the map: each broker's replicas of the learner's topics (internal ones left
/// out), in topic and partition order.
pub fn columns(cluster: &ClusterView, topics: &[TopicDescription]) -> Vec<Column> {
    cluster
        .brokers
        .iter()
        .map(|broker| {
            let mut blocks: Vec<Block> = topics
                .iter()
                .filter(|topic| !kite_shared::topic::is_hidden(&topic.name))
                .flat_map(|topic| topic.partitions.iter().map(move |p| (topic, p)))
                .filter(|(_, p)| p.replicas.contains(&broker.id))
                .map(|(topic, p)| block(topic, p, broker.id, serves(&broker.state)))
                .collect();
            let more = blocks.len().saturating_sub(MAX_BLOCKS_PER_BROKER);
            blocks.truncate(MAX_BLOCKS_PER_BROKER);
            Column {
                broker: broker.id,
                state: broker.state.clone(),
                leaving: broker.leaving,
                // Named controller only when the cluster shows no quorum (DescribeCluster's
                // stand-in broker would read as if it ran the controller).
                controller: cluster.controllers.is_empty() && broker.id == cluster.controller,
                rack: broker.rack.clone(),
                blocks,
                more,
            }
        })
        .collect()
}

fn block(topic: &TopicDescription, p: &PartitionDescription, broker: i32, serving: bool) -> Block {
    let role = match p.leader {
        None => Role::Offline,
        _ if !serving => Role::Offline,
        Some(leader) if leader == broker => Role::Leader,
        Some(_) if p.isr.contains(&broker) => Role::InSync,
        Some(_) => Role::OutOfSync,
    };
    let log_end =
        p.replica_log_end_offsets.iter().find(|r| r.broker == broker).map_or(0, |r| r.log_end_offset);
    let throttled = || {
        let list = topic.configs.get("follower.replication.throttled.replicas");
        list.and_then(|l| ThrottledReplicas::parse(l)).is_some_and(|l| l.contains(p.partition, broker))
    };
    let moving = if p.adding.contains(&broker) {
        Some(if throttled() { Moving::JoiningThrottled } else { Moving::Joining })
    } else if p.removing.contains(&broker) {
        Some(Moving::Leaving)
    } else {
        None
    };
    Block {
        topic: topic.name.clone(),
        partition: p.partition,
        role,
        log_end,
        high_watermark: p.log_end_offset,
        moving,
    }
}

/// Where a block sits: its column's left edge and its top.
fn block_at(columns: &[Column], topic: &str, partition: i32, role: Role) -> Option<(f64, f64)> {
    columns.iter().enumerate().find_map(|(i, column)| {
        let row = column
            .blocks
            .iter()
            .position(|b| b.topic == topic && b.partition == partition && b.role == role)?;
        Some((
            column_x(i),
            PRODUCER_ROW_PX + HEADER_HEIGHT_PX + row as f64 * (BLOCK_HEIGHT_PX + BLOCK_GAP_PX),
        ))
    })
}

fn column_x(index: usize) -> f64 {
    index as f64 * (COLUMN_WIDTH_PX + COLUMN_GAP_PX)
}

/// A record on its way from the producer to the leader it was written to.
#[derive(Clone, Debug, PartialEq)]
pub struct Flight {
    /// Counts the flights: each is a new element, so its animation starts again.
    pub seq: u64,
    pub topic: String,
    pub partition: i32,
    /// The record's offset when one record flies (a single produce), for its lineage.
    pub offset: Option<i64>,
    /// The key's hue, as the partitions view colours keys; `None` for a null key or a batch.
    pub hue: Option<i32>,
}

/// What the newest produce would send flying, and what identifies it (a new identity is a new
/// flight): the last single record, or one of the partitions the generator's latest batch reached.
pub fn produced_flight(last: Option<&Produced>) -> Option<(String, Flight)> {
    let p = last?;
    let hue = match &p.placement {
        Placement::KeyHash { positive, .. } => Some(positive % 360),
        _ => None,
    };
    let flight =
        Flight { seq: 0, topic: p.topic.clone(), partition: p.partition, offset: Some(p.offset), hue };
    Some((format!("{}-{}@{}", p.topic, p.partition, p.offset), flight))
}

pub fn batch_flight(tally: Option<&BatchTally>) -> Option<(String, Flight)> {
    let tally = tally?;
    // The partitions take turns, so a long run visibly reaches all of them.
    let count = tally.per_partition.len().max(1) as u64;
    let &partition = tally.per_partition.keys().nth((tally.records % count) as usize)?;
    let flight = Flight { seq: 0, topic: tally.topic.clone(), partition, offset: None, hue: None };
    Some((format!("{}:{}", tally.topic, tally.records), flight))
}

/// The map's memory between renders: the flight on screen and when it left, what each source last
/// sent flying, and when each replica's role last changed.
#[derive(Default)]
pub struct Motion {
    /// The flight on screen.
    pub flight: Option<Flight>,
    flight_at_ms: f64,
    seen_produced: String,
    seen_batch: String,
    /// Replica (`topic-partition@broker`) → its role and when it took it.
    roles: HashMap<String, (Role, f64)>,
}

impl Motion {
    /// Sends the newest produce flying, unless one left less than `FLIGHT_INTERVAL_MS` ago (then a
    /// later render sends whatever is newest then).
    pub fn launch(
        &mut self,
        now_ms: f64,
        produced: Option<(String, Flight)>,
        batch: Option<(String, Flight)>,
    ) {
        if now_ms - self.flight_at_ms < FLIGHT_INTERVAL_MS {
            return;
        }
        let next = match (produced, batch) {
            (Some((id, flight)), _) if id != self.seen_produced => {
                self.seen_produced = id;
                flight
            }
            (_, Some((id, flight))) if id != self.seen_batch => {
                self.seen_batch = id;
                flight
            }
            _ => return,
        };
        let seq = self.flight.as_ref().map_or(1, |f| f.seq + 1);
        self.flight = Some(Flight { seq, ..next });
        self.flight_at_ms = now_ms;
    }

    /// Whether the replica's role changed in the last `CHANGE_HIGHLIGHT_MS` (a replica seen for
    /// the first time did not change: it is new).
    pub fn changed(&mut self, now_ms: f64, replica: &str, role: Role) -> bool {
        match self.roles.get_mut(replica) {
            Some((known, at)) if *known != role => {
                *known = role;
                *at = now_ms;
                true
            }
            Some((_, at)) => *at > 0.0 && now_ms - *at < CHANGE_HIGHLIGHT_MS,
            None => {
                self.roles.insert(replica.to_string(), (role, 0.0));
                false
            }
        }
    }
}

/// What the map marks on blocks: the partition the last record went to, and each partition a
/// group member owns with its lag.
pub struct Marks {
    written: Option<(String, i32)>,
    lags: Vec<(String, i32, i64)>,
    /// Replicas (`topic-partition@broker`) whose role just changed.
    changed: Vec<String>,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub cluster: Option<ClusterView>,
    pub topics: std::rc::Rc<Vec<TopicDescription>>,
    pub last_produced: Option<Produced>,
    pub group: Option<GroupView>,
    /// Where the generator's batches went, for the records flying from the producer.
    pub batch_tally: Option<BatchTally>,
    pub ready: bool,
    pub send: Callback<Command>,
    /// Opens a partition's log (topic, partition) and, given an offset, that record's lineage.
    pub on_open: OpenPartition,
}

#[function_component(ClusterMap)]
pub fn cluster_map(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let chosen = use_state(|| None::<i32>);
    let chosen_controller = use_state(|| None::<i32>);
    let motion = use_mut_ref(Motion::default);
    let Some(cluster) = &props.cluster else {
        return html! {
            <section class="panel map" id="map" aria-labelledby="map-title">
                <h2 id="map-title">{ tr(lang, "Cluster map") }</h2>
                <p class="hint">{ tr(lang, "Waiting for the engine…") }</p>
            </section>
        };
    };
    let columns = columns(cluster, &props.topics);
    // An empty cluster takes one row, which says so; the groups' row only when there is a group.
    let tallest = columns.iter().map(|c| c.blocks.len() + usize::from(c.more > 0)).max().unwrap_or(0);
    let brokers_bottom =
        PRODUCER_ROW_PX + HEADER_HEIGHT_PX + tallest.max(1) as f64 * (BLOCK_HEIGHT_PX + BLOCK_GAP_PX);
    let width = column_x(columns.len().max(cluster.controllers.len())) - COLUMN_GAP_PX;
    let quorum_top = brokers_bottom + if props.group.is_some() { GROUP_ROW_PX } else { 0.0 };
    let height = quorum_top + if cluster.controllers.is_empty() { 0.0 } else { QUORUM_ROW_PX };
    let now_ms = js_sys::Date::now();
    let (flight, changed) = {
        let mut motion = motion.borrow_mut();
        motion.launch(
            now_ms,
            produced_flight(props.last_produced.as_ref()),
            batch_flight(props.batch_tally.as_ref()),
        );
        let drawn: Vec<(String, Role)> = columns
            .iter()
            .flat_map(|c| c.blocks.iter().map(move |b| (replica_name(b, c.broker), b.role)))
            .collect();
        let changed: Vec<String> = drawn
            .iter()
            .filter(|(name, role)| motion.changed(now_ms, name, *role))
            .map(|(name, _)| name.clone())
            .collect();
        // Only what is drawn is remembered (a deleted topic's replicas are forgotten).
        motion.roles.retain(|name, _| drawn.iter().any(|(drawn, _)| drawn == name));
        (motion.flight.clone(), changed)
    };
    let marks = Marks {
        written: props.last_produced.as_ref().map(|p| (p.topic.clone(), p.partition)),
        lags: props
            .group
            .iter()
            .flat_map(|g| &g.rows)
            .filter(|row| row.client_id.is_some())
            .map(|row| (row.topic.clone(), row.partition, row.lag.unwrap_or(row.log_end_offset)))
            .collect(),
        changed,
    };
    let choose = |broker: i32| {
        let chosen = chosen.clone();
        Callback::from(move |()| chosen.set(if *chosen == Some(broker) { None } else { Some(broker) }))
    };
    html! {
        <section class="panel map" id="map" aria-labelledby="map-title">
            <h2 id="map-title">{ tr(lang, "Cluster map") }</h2>
            // Drawn to fit, down to `MIN_MAP_SCALE` of its size; past that (many brokers on a
            // narrow screen) it scrolls sideways in its own box, never the page.
            <div class="map-scroll">
            <svg class="cluster-map" viewBox={format!("-2 -2 {} {}", width + 4.0, height + 4.0)}
                style={format!("max-width: {}px; min-width: {}px", width + 4.0, ((width + 4.0) * MIN_MAP_SCALE).round())}
                role="group" aria-labelledby="map-title">
                <defs>
                    <marker id="map-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" /></marker>
                </defs>
                { producer(lang, &columns, props.last_produced.as_ref(), width) }
                { for columns.iter().enumerate().map(|(i, column)| broker_column(lang, i, column, &marks, choose(column.broker), &props.on_open)) }
                { for props.group.iter().map(|group| group_row(lang, &columns, group, brokers_bottom, width)) }
                { quorum_row(lang, &cluster.controllers, quorum_top, &chosen_controller) }
                if tallest == 0 {
                    <text class="more" x="8" y={(PRODUCER_ROW_PX + HEADER_HEIGHT_PX + 20.0).to_string()}>
                        { tr(lang, "No partition of yours yet: create a topic and its replicas appear here.") }</text>
                }
                { for flight.iter().map(|f| flying_record(lang, &columns, f, &props.on_open)) }
            </svg>
            </div>
            { legend(lang) }
            if cluster.brokers.len() > 1 {
                { add_broker(lang, props.ready, next_rack(cluster), &props.send) }
            }
            if let Some(broker) = *chosen && let Some(column) = columns.iter().find(|c| c.broker == broker) {
                { broker_actions(lang, column, cluster.brokers.len() > 1, props.ready, &props.send) }
            }
            if let Some(id) = *chosen_controller && let Some(controller) = cluster.controllers.iter().find(|c| c.id == id) {
                { controller_actions(lang, controller, props.ready, &props.send) }
            }
        </section>
    }
}

/// A replica's name on the map and in tests: `topic-partition@broker`.
fn replica_name(block: &Block, broker: i32) -> String {
    format!("{}-{}@{broker}", block.topic, block.partition)
}

/// Enter or Space, as a button takes them.
fn on_activate(then: Callback<()>) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            then.emit(());
        }
    })
}

/// The record flying from the producer to its partition's leader, where it lands and stays until
/// the next one leaves; a single record, once landed, opens its lineage.
fn flying_record(lang: Lang, columns: &[Column], flight: &Flight, on_open: &OpenPartition) -> Html {
    let Some((x, y)) = block_at(columns, &flight.topic, flight.partition, Role::Leader) else {
        return Html::default();
    };
    // It lands in the block's lower right corner, clear of its name, offsets and lag badge.
    let (to_x, to_y) = (x + COLUMN_WIDTH_PX - 18.0, y + BLOCK_HEIGHT_PX - 11.0);
    let fill = flight.hue.map_or("var(--muted)".to_string(), |hue| format!("hsl({hue} 70% 50%)"));
    let name = format!("{}-{}", flight.topic, flight.partition);
    let label = match flight.offset {
        Some(offset) => trf(lang, "Record {} at offset {}: show its lineage", &[&name, &offset]),
        None => trf(lang, "Records on their way to {}", &[&name]),
    };
    let open = {
        let (on_open, at) = (on_open.clone(), (flight.topic.clone(), flight.partition, flight.offset));
        Callback::from(move |()| on_open.emit(at.clone()))
    };
    html! {
        <g key={flight.seq.to_string()} class="flight" data-partition={name} data-seq={flight.seq.to_string()}
            data-offset={flight.offset.map(|o| o.to_string()).unwrap_or_default()}
            style={format!("--from-x: 150px; --from-y: 30px; --to-x: {to_x}px; --to-y: {to_y}px")}
            role="button" tabindex={flight.offset.map(|_| "0")} aria-label={label.clone()}
            onclick={open.reform(|_: MouseEvent| ())} onkeydown={on_activate(open)}>
            <title>{ label }</title>
            <circle r={FLIGHT_RADIUS_PX.to_string()} style={format!("fill: {fill}")} />
        </g>
    }
}

/// The producer's box, with an arrow to the broker leading the partition its last record went to
/// (the block itself is marked `written`: arrows into the column would cross other blocks).
fn producer(lang: Lang, columns: &[Column], last: Option<&Produced>, width: f64) -> Html {
    let target = last.and_then(|p| Some((p, block_at(columns, &p.topic, p.partition, Role::Leader)?)));
    let label = match last {
        Some(p) => {
            trf(lang, "Producer: last record to {}-{} at offset {}", &[&p.topic, &p.partition, &p.offset])
        }
        None => tr(lang, "Producer: nothing sent yet").to_string(),
    };
    html! {
        <g class="map-producer" data-target={last.map(|p| format!("{}-{}", p.topic, p.partition)).unwrap_or_default()}>
            <rect x="0" y="0" width={(width.min(300.0)).to_string()} height="30" rx="6" />
            <text x="10" y="20">{ label }</text>
            if let Some((_, (x, _))) = target {
                <path class="flow" d={format!("M 150 30 C 150 {mid}, {bx} {mid}, {bx} {PRODUCER_ROW_PX}", mid = (30.0 + PRODUCER_ROW_PX) / 2.0, bx = x + COLUMN_WIDTH_PX / 2.0)}
                    marker-end="url(#map-arrow)" aria-hidden="true" />
            }
        </g>
    }
}

fn broker_column(
    lang: Lang,
    index: usize,
    column: &Column,
    marks: &Marks,
    choose: Callback<()>,
    on_open: &OpenPartition,
) -> Html {
    let x = column_x(index);
    let top = PRODUCER_ROW_PX;
    let state = column.state.clone();
    let shown_state = match column.leaving {
        true => format!("{} · {}", super::cluster::state_name(lang, &state), tr(lang, "leaving")),
        false => super::cluster::state_name(lang, &state),
    };
    let shown_state = match &column.rack {
        Some(rack) => format!("{shown_state} · {}", trf(lang, "rack {}", &[rack])),
        None => shown_state,
    };
    let label = if column.controller {
        trf(lang, "Broker {} · controller", &[&column.broker])
    } else {
        trf(lang, "Broker {}", &[&column.broker])
    };
    let keyed = on_activate(choose.clone());
    let clicked = choose.reform(|_: MouseEvent| ());
    html! {
        <g class={classes!("map-broker", format!("broker-{state}"), column.leaving.then_some("broker-leaving"))}
            data-broker={column.broker.to_string()} data-state={state.clone()} data-leaving={column.leaving.to_string()}>
            <g class="broker-head" role="button" tabindex="0" onclick={clicked} onkeydown={keyed}
                aria-label={trf(lang, "{}: {} — choose to stop, pause or isolate it", &[&label, &shown_state])}>
                <rect x={x.to_string()} y={top.to_string()} width={COLUMN_WIDTH_PX.to_string()} height={(HEADER_HEIGHT_PX - 6.0).to_string()} rx="6" />
                <text x={(x + 8.0).to_string()} y={(top + 16.0).to_string()} class="broker-name">{ label }</text>
                <text x={(x + 8.0).to_string()} y={(top + 31.0).to_string()} class="broker-state">{ shown_state.clone() }</text>
            </g>
            { for column.blocks.iter().enumerate().map(|(row, block)| replica_block(x, row, column.broker, block, marks, on_open)) }
            if column.more > 0 {
                <text class="more" x={(x + 8.0).to_string()}
                    y={(top + HEADER_HEIGHT_PX + column.blocks.len() as f64 * (BLOCK_HEIGHT_PX + BLOCK_GAP_PX) + 16.0).to_string()}>
                    { trf(lang, "+{} more", &[&column.more]) }</text>
            }
        </g>
    }
}

/// A replica's block, as a component: drawn again only when what it shows changed (the map is
/// drawn at every update while records stream; most blocks' offsets move at most once a second).
fn replica_block(
    x: f64,
    row: usize,
    broker: i32,
    block: &Block,
    marks: &Marks,
    on_open: &OpenPartition,
) -> Html {
    let leads = block.role == Role::Leader;
    let written = leads && marks.written.as_ref() == Some(&(block.topic.clone(), block.partition));
    let lag = marks
        .lags
        .iter()
        .find(|(t, p, _)| leads && *t == block.topic && *p == block.partition)
        .map(|(_, _, lag)| *lag);
    let replica = replica_name(block, broker);
    let changed = marks.changed.contains(&replica);
    let y = PRODUCER_ROW_PX + HEADER_HEIGHT_PX + row as f64 * (BLOCK_HEIGHT_PX + BLOCK_GAP_PX);
    html! {
        <ReplicaBlock key={replica.as_str()} replica={replica.clone()} {x} {y} {broker} block={block.clone()} {written} {lag} {changed}
            on_open={on_open.clone()} />
    }
}

#[derive(Properties, PartialEq)]
struct ReplicaProps {
    /// `topic-partition@broker`.
    replica: String,
    /// The block's column's left edge and its top.
    x: f64,
    y: f64,
    broker: i32,
    block: Block,
    /// The last record went to it.
    written: bool,
    /// The group's lag on it, when a member reads it.
    lag: Option<i64>,
    /// Its role just changed.
    changed: bool,
    on_open: OpenPartition,
}

#[function_component(ReplicaBlock)]
fn replica_block_view(props: &ReplicaProps) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let ReplicaProps { replica, x, y, broker, block, written, lag, changed, on_open } = props;
    let (x, y) = (*x, *y);
    let name = format!("{}-{}", block.topic, block.partition);
    let role = match block.role {
        Role::Leader => tr(lang, "leader"),
        Role::InSync => tr(lang, "follower, in sync"),
        Role::OutOfSync => tr(lang, "follower, out of the ISR"),
        Role::Offline => tr(lang, "offline"),
    };
    let open = {
        let (on_open, at) = (on_open.clone(), (block.topic.clone(), block.partition, None));
        Callback::from(move |()| on_open.emit(at.clone()))
    };
    let (moving_class, badge, moving_text) = match block.moving {
        Some(Moving::Joining) => (
            "joining",
            tr(lang, "+ joining"),
            tr(lang, " · being added by a reassignment: it catches up, then joins the ISR"),
        ),
        Some(Moving::JoiningThrottled) => (
            "joining",
            tr(lang, "+ joining, throttled"),
            tr(
                lang,
                " · being added by a reassignment under a replication throttle: it catches up at the throttled rate, then joins the ISR",
            ),
        ),
        Some(Moving::Leaving) => {
            ("leaving", tr(lang, "− leaving"), tr(lang, " · leaves once the reassignment completes"))
        }
        None => ("", "", ""),
    };
    let text = trf(
        lang,
        "{} on broker {}: {} · LEO {} · HW {} — open its log",
        &[&name, broker, &format!("{role}{moving_text}"), &block.log_end, &block.high_watermark],
    );
    html! {
        <g class={classes!("replica", block.role.class(), written.then_some("written"), changed.then_some("changed"), (!moving_class.is_empty()).then_some(moving_class), (block.moving == Some(Moving::JoiningThrottled)).then_some("throttled"))}
            data-replica={replica.clone()} data-role={block.role.class()} data-changed={changed.to_string()} data-moving={moving_class}
            role="button" tabindex="0" aria-label={text.clone()}
            onclick={open.reform(|_: MouseEvent| ())} onkeydown={on_activate(open)}>
            <title>{ text }</title>
            <rect x={(x + 4.0).to_string()} y={y.to_string()} width={(COLUMN_WIDTH_PX - 8.0).to_string()} height={BLOCK_HEIGHT_PX.to_string()} rx="4" />
            <text x={(x + 12.0).to_string()} y={(y + 15.0).to_string()} class="replica-name">{ name }</text>
            <text x={(x + 12.0).to_string()} y={(y + 30.0).to_string()} class="replica-offsets">
                { format!("LEO {} · HW {}", block.log_end, block.high_watermark) }</text>
            if let Some(lag) = lag {
                <text x={(x + COLUMN_WIDTH_PX - 12.0).to_string()} y={(y + 15.0).to_string()} class="lag-badge" text-anchor="end">
                    { format!("lag {lag}") }</text>
            }
            if !badge.is_empty() {
                <text x={(x + COLUMN_WIDTH_PX - 12.0).to_string()} y={(y + 30.0).to_string()} class="moving-badge" text-anchor="end">
                    { badge }</text>
            }
        </g>
    }
}

/// The KRaft controller quorum's row under the brokers (nothing for a single broker); a click
/// on a controller chooses it (`chosen`), or unchooses it.
fn quorum_row(
    lang: Lang,
    controllers: &[ControllerView],
    top: f64,
    chosen: &UseStateHandle<Option<i32>>,
) -> Html {
    if controllers.is_empty() {
        return Html::default();
    }
    let choose = |id: i32| {
        let chosen = chosen.clone();
        Callback::from(move |()| chosen.set(if *chosen == Some(id) { None } else { Some(id) }))
    };
    html! { <>
        <text class="quorum-label" x="0" y={(top + 16.0).to_string()}>
            { tr(lang, "KRaft controllers: the active one (the quorum's leader) runs the controller") }</text>
        { for controllers.iter().enumerate().map(|(i, c)| controller_box(lang, i, c, top, choose(c.id))) }
    </> }
}

/// A KRaft controller's box in the quorum's row: its role (the active one filled, a stopped one
/// dashed), its epoch, and its copy of the metadata log (end, and what it knows is committed).
fn controller_box(
    lang: Lang,
    index: usize,
    controller: &ControllerView,
    top: f64,
    choose: Callback<()>,
) -> Html {
    let (x, y) = (column_x(index), top + QUORUM_LABEL_PX);
    let name = format!("controller-{}", controller.id);
    let mut role = super::cluster::controller_state_name(lang, &controller.state);
    if controller.isolated {
        role = format!("{role} · {}", tr(lang, "isolated"));
    }
    let summary = trf(
        lang,
        "{} · epoch {} · metadata log {} · HW {}",
        &[&role, &controller.epoch, &controller.log_end_offset, &controller.high_watermark],
    );
    let label = trf(lang, "{}: {} — choose to stop, pause or isolate it", &[&name, &summary]);
    html! {
        <g class={classes!("map-controller", format!("controller-{}", controller.state), controller.isolated.then_some("controller-isolated"))}
            data-controller={controller.id.to_string()} data-state={controller.state.clone()}
            data-isolated={controller.isolated.to_string()}
            role="button" tabindex="0" aria-label={label.clone()}
            onclick={choose.reform(|_: MouseEvent| ())} onkeydown={on_activate(choose)}>
            <title>{ label }</title>
            <rect x={x.to_string()} y={y.to_string()} width={COLUMN_WIDTH_PX.to_string()} height={CONTROLLER_BOX_HEIGHT_PX.to_string()} rx="6" />
            <text x={(x + 8.0).to_string()} y={(y + 17.0).to_string()} class="broker-name">{ name }</text>
            <text x={(x + 8.0).to_string()} y={(y + 34.0).to_string()} class="broker-state">
                { format!("{role} · e{} · HW {}", controller.epoch, controller.high_watermark) }</text>
        </g>
    }
}

/// What a chosen controller can do, as a broker's: stop or start, pause or resume, isolate or
/// heal.
fn controller_actions(
    lang: Lang,
    controller: &ControllerView,
    ready: bool,
    send: &Callback<Command>,
) -> Html {
    let id = controller.id;
    let button = |(class, text, command): (&'static str, &'static str, Command)| {
        let send = send.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            send.emit(command.clone());
            send.emit(Command::DescribeCluster);
        });
        html! { <button class={class} disabled={!ready} {onclick}>{ tr(lang, text) }</button> }
    };
    html! {
        <p class="map-actions" id="controller-actions" data-controller={id.to_string()}>
            <strong>{ format!("controller-{id}") }</strong>
            { for super::cluster::controller_faults(controller).into_iter().map(button) }
            <span class="hint">{ tr(lang, "kite cluster stop-controller: when the active one stops, the others elect a new one once their fetch timeout passes; without a majority nothing in the cluster's metadata can change") }</span>
        </p>
    }
}

fn group_row(lang: Lang, columns: &[Column], group: &GroupView, top: f64, width: f64) -> Html {
    let y = top + 24.0;
    // The columns whose leaders the group's members read from: one arrow from under each.
    let mut read_from: Vec<f64> = group
        .rows
        .iter()
        .filter(|row| row.client_id.is_some())
        .filter_map(|row| block_at(columns, &row.topic, row.partition, Role::Leader).map(|(x, _)| x))
        .collect();
    read_from.sort_by(f64::total_cmp);
    read_from.dedup();
    // A partition without a commit counts its whole log, as its badge shows.
    let total_lag: i64 = group.rows.iter().map(|row| row.lag.unwrap_or(row.log_end_offset)).sum();
    html! {
        <g class="map-group" data-group={group.group.clone()} data-lag={total_lag.to_string()}>
            <rect x="0" y={y.to_string()} width={width.min(300.0).to_string()} height="30" rx="6" />
            <text x="10" y={(y + 20.0).to_string()}>
                { trf(lang, "Group {} · {} · lag {}", &[&group.group, &group.state, &total_lag]) }</text>
            { for read_from.iter().map(|x| {
                let from_x = x + COLUMN_WIDTH_PX / 2.0;
                html! {
                    <path class="flow consume" d={format!("M {from_x} {top} C {from_x} {y}, 150 {top}, 150 {y}")}
                        marker-end="url(#map-arrow)" aria-hidden="true" />
                }
            }) }
        </g>
    }
}

fn legend(lang: Lang) -> Html {
    html! {
        <p class="map-legend hint">
            <span class="key leader">{ tr(lang, "leader") }</span>
            <span class="key in-sync">{ tr(lang, "follower, in sync") }</span>
            <span class="key out-of-sync">{ tr(lang, "follower, out of the ISR") }</span>
            <span class="key offline">{ tr(lang, "offline") }</span>
            { tr(lang, "LEO: the replica's log end · HW: the high watermark, what consumers may read") }
        </p>
    }
}

/// The rack a broker added from the map goes to: the one with the fewest brokers (ties: the
/// first by name); none in a cluster without racks.
pub fn next_rack(cluster: &ClusterView) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for rack in cluster.brokers.iter().filter_map(|b| b.rack.as_deref()) {
        *counts.entry(rack).or_default() += 1;
    }
    counts.into_iter().min_by_key(|&(rack, n)| (n, rack)).map(|(rack, _)| rack.to_string())
}

/// Grows the cluster by one broker (`add_broker`), on `rack` if the cluster has racks; the map
/// shows it as an empty column.
fn add_broker(lang: Lang, ready: bool, rack: Option<String>, send: &Callback<Command>) -> Html {
    let send = send.clone();
    let hint = match &rack {
        Some(rack) => trf(lang, "kite cluster add-broker --rack {}: a new broker on the rack with the fewest registers with the controller and holds nothing until partitions move to it", &[rack]),
        None => tr(lang, "kite cluster add-broker: a new broker registers with the controller and holds nothing until partitions move to it").to_string(),
    };
    let onclick = Callback::from(move |_: MouseEvent| {
        send.emit(Command::AddBroker { rack: rack.clone() });
        send.emit(Command::DescribeCluster);
    });
    html! {
        <p class="map-membership">
            <button class="add-broker" id="add-broker" disabled={!ready} {onclick}>{ tr(lang, "Add a broker") }</button>
            <span class="hint">{ hint }</span>
        </p>
    }
}

fn broker_actions(
    lang: Lang,
    column: &Column,
    replicated: bool,
    ready: bool,
    send: &Callback<Command>,
) -> Html {
    let id = column.broker;
    let button = |class: &'static str, text: &'static str, command: Command| {
        let send = send.clone();
        html! {
            <button class={class} disabled={!ready || !replicated}
                onclick={Callback::from(move |_: MouseEvent| { send.emit(command.clone()); send.emit(Command::ListTopics); send.emit(Command::DescribeCluster); })}>
                { tr(lang, text) }</button>
        }
    };
    html! {
        <p class="map-actions" id="map-actions" data-broker={id.to_string()}>
            <strong>{ trf(lang, "Broker {}", &[&id]) }</strong>
            { match column.state.as_str() {
                "stopped" => button("start-broker", "Start", Command::StartBroker { broker: id }),
                "paused" => button("resume-broker", "Resume", Command::ResumeBroker { broker: id }),
                "isolated" => button("heal-broker", "Heal", Command::HealBroker { broker: id }),
                _ => html! { <>
                    { button("stop-broker", "Stop", Command::StopBroker { broker: id }) }
                    { button("pause-broker", "Pause", Command::PauseBroker { broker: id }) }
                    { button("isolate-broker", "Isolate", Command::IsolateBroker { broker: id }) }
                </> },
            } }
            if !column.leaving {
                { button("remove-broker", "Remove from the cluster", Command::RemoveBroker { broker: id }) }
                <span class="hint">{ tr(lang, "kite cluster remove-broker: its replicas move to the other brokers first, then it leaves") }</span>
            }
            if !replicated {
                <span class="hint">{ tr(lang, "A single broker cannot be stopped: nothing would be left to serve.") }</span>
            }
        </p>
    }
}
