//! The UI's state and the pure reducer over actions and engine messages.
//!
//! Nothing here touches the DOM, a worker or a socket: effects live in `app` and `link`. Every value
//! shown comes from an engine message; the UI never computes a partition or an offset itself.

use std::collections::BTreeMap;
use std::rc::Rc;

use kite_shared::api::{
    Command, GroupOffsetRow, HostCommand, PartitionRef, RecordView, Reply, Request, ServerMessage,
    TopicDescription,
};
use kite_shared::error::KafkaError;
use kite_shared::partitioner::Placement;
use kite_shared::serializer::SerializerKind;
use yew::Reducible;

/// Which engine the UI talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The engine compiled to wasm, in a Web Worker of this tab.
    InTab,
    /// A `kite serve` process, over its websocket; `token` when it was started with `--token`.
    Server { url: String, token: Option<String> },
}

/// The first reconnect to a server waits this long; each failed attempt doubles it.
pub const RECONNECT_BACKOFF_MS: u32 = 500;
/// The longest wait between reconnect attempts.
pub const RECONNECT_BACKOFF_MAX_MS: u32 = 10_000;

/// How long to wait before reconnect attempt `attempt` (1 for the first): exponential backoff
/// from `RECONNECT_BACKOFF_MS`, capped at `RECONNECT_BACKOFF_MAX_MS` (Kafka's clients back off
/// the same way, `reconnect.backoff.ms` to `reconnect.backoff.max.ms`).
pub fn reconnect_delay_ms(attempt: u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(31);
    RECONNECT_BACKOFF_MS.saturating_mul(1_u32 << doublings).min(RECONNECT_BACKOFF_MAX_MS)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkStatus {
    Connecting,
    /// The engine said welcome; `engine` is how it named itself.
    Ready {
        engine: String,
    },
    Closed {
        reason: String,
    },
}

/// The answer to the last produce, as the engine gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Produced {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub placement: Placement,
    /// An idempotent producer's sequence, and whether the leader found the record a duplicate.
    pub idempotent: Option<kite_shared::api::IdempotentWrite>,
    /// The send was a retry of the one before it ("Retry this batch").
    pub retried: bool,
}

/// The UI producer's `enable.idempotence`: the producer id InitProducerId gave, the next sequence
/// of each partition it wrote to, and the last record it sent (retried as it was sent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerSession {
    pub idempotence: bool,
    /// Its id, epoch and sequences, once InitProducerId answered (with idempotence on).
    pub producer: Option<kite_shared::api::IdempotentProducer>,
    /// The last record sent, its partition pinned once the engine placed it.
    pub last_sent: Option<Command>,
    /// The last send was a retry.
    pub retried: bool,
    /// The transactional producer, once a transaction was begun.
    pub transaction: Option<TransactionSession>,
}

/// The producer's `transactional.id` and its transaction, as the producer panel shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionSession {
    pub transactional_id: String,
    /// Its id, epoch and sequences once InitTransactions answered.
    pub producer: Option<kite_shared::api::IdempotentProducer>,
    /// A transaction is open: records sent go in it.
    pub open: bool,
    /// The partitions the open (or last) transaction wrote to, as `topic-N`, in order.
    pub partitions: Vec<String>,
    /// Records sent in the open (or last) transaction.
    pub records: u32,
    /// How the last transaction ended: committed (true) or aborted.
    pub ended: Option<bool>,
    /// The coordinator's view of the id, as `describe_transactions` answered.
    pub coordinator: Option<kite_shared::api::TransactionView>,
    /// The group whose offsets were sent in the open (or last) transaction.
    pub offsets_for: Option<String>,
}

impl ProducerSession {
    /// A transaction begins for `id`: the same id goes on with its producer (as Kafka's
    /// `beginTransaction`); another starts afresh and waits for InitTransactions' answer.
    fn begin_transaction(&mut self, id: String) {
        let same = self.transaction.take().filter(|t| t.transactional_id == id);
        let (producer, coordinator) = same.map_or((None, None), |t| (t.producer, t.coordinator));
        self.transaction = Some(TransactionSession {
            transactional_id: id,
            open: true,
            producer,
            coordinator,
            ..Default::default()
        });
    }

    /// `enable.idempotence` on or off: off forgets the idempotent producer's id; the
    /// transactional producer stays.
    fn set_idempotence(&mut self, on: bool) {
        *self =
            ProducerSession { idempotence: on, transaction: self.transaction.take(), ..Default::default() };
    }

    /// Whether a send must wait for a producer id: the transaction's, or the idempotent one's.
    pub fn waiting_for_id(&self) -> bool {
        match &self.transaction {
            Some(t) if t.open => t.producer.is_none(),
            _ => self.idempotence && self.producer.is_none(),
        }
    }

    /// A producer id came: a transaction waiting for its id takes it; else the idempotent
    /// producer does (with idempotence on).
    fn producer_id_initialized(&mut self, producer_id: i64, producer_epoch: i16) {
        let waiting = self.transaction.as_mut().filter(|t| t.producer.is_none());
        let transactional_id = waiting.as_ref().map(|t| t.transactional_id.clone());
        let producer = kite_shared::api::IdempotentProducer {
            producer_id,
            producer_epoch,
            sequences: vec![],
            transactional_id,
        };
        match waiting {
            Some(t) => t.producer = Some(producer),
            None => self.producer = self.idempotence.then_some(producer),
        }
    }

    /// The coordinator's answer about the transactions: how the producer's ended, or its view.
    fn transaction_reply(&mut self, reply: Reply) {
        let Some(t) = self.transaction.as_mut() else { return };
        match reply {
            Reply::TransactionEnded { committed, .. } => {
                t.open = false;
                t.ended = Some(committed);
            }
            Reply::Transactions { transactions } => {
                t.coordinator = transactions.into_iter().find(|v| v.transactional_id == t.transactional_id);
            }
            Reply::OffsetsSent { group } => t.offsets_for = Some(group),
            _ => {}
        }
    }

    /// The producer a record goes with: the transactional one inside a transaction, else the
    /// idempotent one (if on).
    pub fn sending_as(&self) -> Option<kite_shared::api::IdempotentProducer> {
        match &self.transaction {
            Some(t) if t.open => t.producer.clone(),
            _ => self.producer.clone(),
        }
    }
}

/// A consumer the engine runs for this UI, as its polls report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedConsumer {
    pub id: u32,
    pub client_id: String,
    pub assignment: Vec<PartitionRef>,
    /// A member of a stable group (not joining).
    pub stable: bool,
    /// Records its polls have returned.
    pub consumed: u64,
    /// Its position in each partition it read: the offset after the last record polled.
    pub positions: std::collections::BTreeMap<(String, i32), i64>,
}

impl HostedConsumer {
    /// A poll's answer: its assignment, whether its group is stable, and how far it read.
    fn polled(
        &mut self,
        records: &[kite_shared::api::PolledRecord],
        assignment: Vec<PartitionRef>,
        stable: bool,
    ) {
        self.assignment = assignment;
        self.stable = stable;
        self.consumed += records.len() as u64;
        for r in records {
            let position = self.positions.entry((r.topic.clone(), r.partition)).or_default();
            *position = (*position).max(r.record.offset + 1);
        }
    }
}

/// A group as the last `describe_group` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    pub group: String,
    pub state: String,
    pub protocol: String,
    pub members: usize,
    pub rows: Vec<GroupOffsetRow>,
    /// The group's total lag at each describe, oldest first (at most `LAG_SAMPLES_KEPT`).
    pub lag_history: std::collections::VecDeque<i64>,
}

/// The tab engine's clock as the last `set_clock` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockView {
    pub now_ms: i64,
    pub speed_percent: u32,
    pub paused: bool,
    pub seed: u64,
}

/// The steps of the page's scenario played so far, and whether it reached its end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScenarioView {
    pub steps: Vec<kite_shared::scenario::StepReport>,
    pub finished: bool,
}

/// A replay's outcome, as the engine answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayView {
    pub seed: u64,
    pub requests: usize,
    pub events: u64,
    pub identical: bool,
    pub differences: Vec<String>,
}

/// How many lag samples the consumers view charts (a minute at one a second).
pub const LAG_SAMPLES_KEPT: usize = 60;

/// Where a run of `produce_batch` requests (the generator, an import) put its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchTally {
    pub topic: String,
    pub records: u64,
    pub per_partition: BTreeMap<i32, u64>,
}

/// The answer to the last `reset_offsets`: a dry run's plan or what was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetsReset {
    pub group: String,
    pub executed: bool,
    pub offsets: Vec<kite_shared::api::GroupOffset>,
}

/// How many `get_metrics` samples the charts keep (a minute at one a second).
pub const METRICS_SAMPLES_KEPT: usize = 60;

/// How many Kafka exchanges the protocol inspector lists, the newest.
pub const INSPECTOR_EXCHANGES_KEPT: usize = 50;

/// How many of the engine's newest events the timeline keeps.
pub const TIMELINE_EVENTS_KEPT: usize = 500;

/// One engine event as the timeline shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Its place in the order the events arrived (a stable key for the list).
    pub seq: u64,
    pub at_ms: i64,
    /// The event's kind (`appended`, `election`, `isr_change`, …), for its colour.
    pub kind: String,
    pub text: String,
    /// About an internal topic's partition (`__consumer_offsets`): hidden unless asked for.
    pub internal: bool,
}

/// The cluster as the last `describe_cluster` (or fault command) answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    pub controller: i32,
    pub brokers: Vec<kite_shared::api::BrokerView>,
    pub partitions: usize,
    pub under_replicated: Vec<kite_shared::api::PartitionRef>,
    pub offline: Vec<kite_shared::api::PartitionRef>,
    /// Network links cut by the partition editor, each as its two ends in order.
    pub cut_links: Vec<[String; 2]>,
    /// Kafka clients connected to the brokers' listeners (server mode).
    pub kafka_clients: Vec<kite_shared::api::KafkaClientView>,
    /// The KRaft controller quorum (none for a single broker).
    pub controllers: Vec<kite_shared::api::ControllerView>,
    /// The broker configs the cluster started with (none for a single broker).
    pub broker_configs: Vec<kite_shared::api::BrokerConfigView>,
}

impl ClusterView {
    /// The view of a `describe_cluster` answer (`None` for any other reply).
    fn described(reply: Reply) -> Option<ClusterView> {
        let Reply::ClusterDescribed {
            controller,
            brokers,
            partitions,
            under_replicated,
            offline,
            cut_links,
            kafka_clients,
            controllers,
            broker_configs,
            ..
        } = reply
        else {
            return None;
        };
        Some(ClusterView {
            controller,
            brokers,
            partitions,
            under_replicated,
            offline,
            cut_links,
            kafka_clients,
            controllers,
            broker_configs,
        })
    }
}

/// A controller's metadata log as the last `describe_metadata_log` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataLogView {
    pub controller: i32,
    pub high_watermark: i64,
    pub log_end_offset: i64,
    pub entries: Vec<kite_shared::api::MetadataEntryView>,
}

impl MetadataLogView {
    /// The view of a `describe_metadata_log` answer (`None` for any other reply).
    fn described(reply: Reply) -> Option<MetadataLogView> {
        let Reply::MetadataLogDescribed { controller, high_watermark, log_end_offset, entries, .. } = reply
        else {
            return None;
        };
        Some(MetadataLogView { controller, high_watermark, log_end_offset, entries })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppState {
    pub mode: Mode,
    /// Bumped on every `Connect`, so reconnecting to the same place opens a fresh link.
    pub generation: u64,
    /// Reconnect attempts to a server since the link last said welcome (0 while connected).
    pub reconnect_attempt: u32,
    pub status: LinkStatus,
    /// Shared, not copied: every render passes the topics to three views (500 partitions each).
    pub topics: Rc<Vec<TopicDescription>>,
    pub selected_topic: Option<String>,
    /// The newest records fetched per (topic, partition).
    pub records: BTreeMap<(String, i32), Vec<RecordView>>,
    /// The transaction markers among each partition's newest records (their offsets are not
    /// records).
    pub markers: BTreeMap<(String, i32), Vec<kite_shared::api::MarkerView>>,
    pub last_produced: Option<Produced>,
    /// The UI producer's idempotence, sequences and last send.
    pub producer: ProducerSession,
    /// Where the current (or last) run of batches went.
    pub batch_tally: Option<BatchTally>,
    /// The last refusal: a Kafka error or a transport problem, said plainly.
    pub last_error: Option<String>,
    /// The last success worth saying that has no view of its own (a schema registered).
    pub last_notice: Option<String>,
    /// The key and value serializers chosen in the producer; records are read back with the
    /// matching deserializers.
    pub key_serializer: SerializerKind,
    pub value_serializer: SerializerKind,
    /// The consumers this UI opened, in the order it opened them.
    pub consumers: Vec<HostedConsumer>,
    pub group: Option<GroupView>,
    pub last_reset: Option<OffsetsReset>,
    /// The reader's last action that Kafka's tools and clients can do too (the Code view's).
    pub last_action: Option<Command>,
    pub clock: Option<ClockView>,
    pub replayed: Option<ReplayView>,
    /// The page's scenario as played so far.
    pub scenario: Option<ScenarioView>,
    /// The last `share_state` answer: the `?state=` parameter that makes this cluster again.
    pub shared_state: Option<String>,
    pub cluster: Option<ClusterView>,
    /// The active controller's newest metadata log entries (a replicated cluster).
    pub metadata_log: Option<MetadataLogView>,
    /// Kite Connect at a glance (the Connect view asks for it once a second).
    pub connect: Option<kite_shared::api::ConnectView>,
    /// The engine's newest events, newest first (at most `TIMELINE_EVENTS_KEPT`).
    /// Shared, not copied, between states and with the timeline view (500 events).
    pub timeline: Rc<std::collections::VecDeque<TimelineEvent>>,
    /// The engine's metrics, oldest first (at most `METRICS_SAMPLES_KEPT`).
    pub metrics: std::collections::VecDeque<kite_shared::api::Metrics>,
    /// The protocol inspector's last Kafka requests and responses, oldest first.
    pub kafka_exchanges: std::collections::VecDeque<kite_shared::api::KafkaExchangeView>,
    /// The message browser's records per (topic, partition), oldest first (at most
    /// `BROWSE_ROWS_KEPT` each): what its seeks and its live tail fetched.
    /// Shared, not copied, between states: the page's every message copies the state, and a
    /// browse of 500 partitions holds 50,000 records.
    pub browsed: Rc<BTreeMap<(String, i32), Vec<RecordView>>>,
    /// The record the lineage shows, as `dump_record` answered.
    pub dumped: Option<Dumped>,
}

/// A record and its batch as `dump_record` answered, for the lineage's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dumped {
    pub topic: String,
    pub partition: i32,
    pub batch: kite_shared::record::dump::DumpedBatch,
    pub record: kite_shared::record::dump::DumpedRecord,
}

/// How many records of one partition the message browser keeps (the oldest go first).
pub const BROWSE_ROWS_KEPT: usize = 500;

impl AppState {
    pub fn new(mode: Mode) -> Self {
        AppState {
            mode,
            generation: 0,
            reconnect_attempt: 0,
            status: LinkStatus::Connecting,
            topics: Rc::default(),
            selected_topic: None,
            records: BTreeMap::new(),
            markers: BTreeMap::new(),
            last_produced: None,
            producer: ProducerSession::default(),
            batch_tally: None,
            last_error: None,
            last_notice: None,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            consumers: Vec::new(),
            group: None,
            last_reset: None,
            last_action: None,
            clock: None,
            replayed: None,
            scenario: None,
            shared_state: None,
            cluster: None,
            metadata_log: None,
            connect: None,
            timeline: Rc::default(),
            metrics: std::collections::VecDeque::new(),
            kafka_exchanges: std::collections::VecDeque::new(),
            browsed: Rc::default(),
            dumped: None,
        }
    }

    pub fn selected(&self) -> Option<&TopicDescription> {
        let name = self.selected_topic.as_ref()?;
        self.topics.iter().find(|t| &t.name == name)
    }

    /// What to show when nothing is selected: the first topic that is not internal, else none
    /// (`__consumer_offsets` is the coordinator's: never a default target, only picked by hand).
    fn default_topic(&self) -> Option<String> {
        self.topics.iter().find(|t| !kite_shared::topic::is_hidden(&t.name)).map(|t| t.name.clone())
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.status, LinkStatus::Ready { .. })
    }

    /// Where this page's consumers have read to, per partition (the furthest of them): the
    /// offsets a consume-transform-produce loop sends with its transaction.
    pub fn consumed_positions(&self) -> Vec<kite_shared::api::GroupOffset> {
        let mut furthest: std::collections::BTreeMap<(String, i32), i64> = Default::default();
        for (tp, &offset) in self.consumers.iter().flat_map(|c| &c.positions) {
            let at = furthest.entry(tp.clone()).or_default();
            *at = (*at).max(offset);
        }
        furthest
            .into_iter()
            .map(|((topic, partition), offset)| kite_shared::api::GroupOffset { topic, partition, offset })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A new link is being opened; everything learned from the old engine is dropped.
    Connect(Mode),
    Message(ServerMessage),
    /// Several messages at once: the engine's event pushes, gathered so a burst of them costs one
    /// state update and one render, not one each.
    Messages(Vec<ServerMessage>),
    Undecodable(String),
    Closed(String),
    /// Time to try the server again after a lost or failed connection (backoff elapsed).
    Reconnect,
    /// A command could not even be sent.
    SendFailed(String),
    SelectTopic(String),
    /// The reader closed the error shown (it stays until then, or until the next success).
    DismissError,
    SetSerializers {
        key: SerializerKind,
        value: SerializerKind,
    },
    /// A new run of batches starts (its tally from zero).
    BatchStarted,
    /// The message browser seeks afresh: what it showed is dropped.
    BrowseReset,
    /// An answer to one of the message browser's own requests (its fetches and offset lookups).
    Browsed(Reply),
    /// The producer's `enable.idempotence` turned on or off (off forgets its producer id).
    SetIdempotence(bool),
    /// The producer sent a record; `true` when it was the last one sent again.
    ProduceSent(Command, bool),
    /// A transaction begins for this `transactional.id` (a new id asks for its producer id).
    BeginTransaction(String),
    /// The reader did something the Code view can write out (`code::is_copyable`).
    Acted(Command),
}

fn describe_error(error: &KafkaError) -> String {
    format!("{}: {}", error.error.name(), error.message)
}

impl AppState {
    /// The pure transition; `Reducible::reduce` wraps it.
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Connect(mode) => {
                let generation = self.generation + 1;
                return AppState { generation, ..AppState::new(mode) };
            }
            Action::Messages(messages) => {
                return messages
                    .into_iter()
                    .fold(self, |state, message| state.apply(Action::Message(message)));
            }
            Action::Undecodable(reason) => self.last_error = Some(format!("undecodable message: {reason}")),
            Action::Closed(reason) => {
                self.last_error = Some(reason.clone());
                self.status = LinkStatus::Closed { reason };
                if matches!(self.mode, Mode::Server { .. }) {
                    self.reconnect_attempt += 1;
                }
            }
            Action::Reconnect => {
                let (generation, attempt) = (self.generation + 1, self.reconnect_attempt);
                return AppState { generation, reconnect_attempt: attempt, ..AppState::new(self.mode) };
            }
            Action::SendFailed(reason) => self.last_error = Some(reason),
            Action::SelectTopic(name) => self.selected_topic = Some(name),
            Action::DismissError => self.last_error = None,
            Action::SetSerializers { key, value } => {
                self.key_serializer = key;
                self.value_serializer = value;
            }
            Action::BrowseReset => self.browsed = Rc::default(),
            Action::BatchStarted => self.batch_tally = None,
            Action::SetIdempotence(on) => self.producer.set_idempotence(on),
            Action::Acted(command) => self.last_action = Some(command),
            Action::BeginTransaction(id) => self.producer.begin_transaction(id),
            Action::ProduceSent(command, retry) => {
                self.producer.retried = retry;
                if !retry {
                    self.producer.last_sent = Some(command);
                }
            }
            Action::Browsed(Reply::Records { topic, partition, records, .. }) => {
                let kept = Rc::make_mut(&mut self.browsed).entry((topic, partition)).or_default();
                // A tail's fetch starts after what is shown; anything older is already here.
                let after = kept.last().map_or(i64::MIN, |r| r.offset);
                kept.extend(records.into_iter().filter(|r| r.offset > after));
                let excess = kept.len().saturating_sub(BROWSE_ROWS_KEPT);
                kept.drain(..excess);
            }
            Action::Browsed(Reply::Error(error)) => self.last_error = Some(describe_error(&error)),
            // Offset lookups lead to fetches (`app`); nothing else is asked for.
            Action::Browsed(_) => {}
            Action::Message(ServerMessage::Welcome { engine, .. }) => {
                self.status = LinkStatus::Ready { engine };
                self.reconnect_attempt = 0;
                // A reconnect's "could not reach" is over.
                if self.last_error.as_deref().is_some_and(|e| e.starts_with("could not reach")) {
                    self.last_error = None;
                }
            }
            Action::Message(ServerMessage::Invalid { message }) => {
                self.last_error = Some(format!("the engine could not read a request: {message}"))
            }
            // The tab's cluster was deleted: a new engine (a new worker) starts a new one.
            Action::Message(ServerMessage::Reply { reply: Reply::ClusterReset, .. }) => {
                let generation = self.generation + 1;
                let notice = Some("The cluster was reset: a new one starts with a new seed.".to_string());
                return AppState { generation, last_notice: notice, ..AppState::new(Mode::InTab) };
            }
            Action::Message(ServerMessage::Reply { reply, .. }) => self.apply_reply(reply),
            // The UI subscribes to nothing yet (the live views are issue 8's).
            Action::Message(ServerMessage::Push {
                push: kite_shared::api::Push::Event { at_ms, text, event },
                ..
            }) => {
                let kind = event.get("kind").and_then(|k| k.as_str()).unwrap_or("event").to_string();
                let topic = event.get("tp").and_then(|tp| tp.get("topic")).and_then(|t| t.as_str());
                let internal = topic.is_some_and(kite_shared::topic::is_hidden);
                let seq = self.timeline.front().map_or(0, |newest| newest.seq + 1);
                let timeline = Rc::make_mut(&mut self.timeline);
                timeline.push_front(TimelineEvent { seq, at_ms, kind, text, internal });
                timeline.truncate(TIMELINE_EVENTS_KEPT);
            }
            // A flood of events (a produce to hundreds of partitions): the engine counted them.
            Action::Message(ServerMessage::Push {
                push: kite_shared::api::Push::Skipped { events }, ..
            }) => {
                let seq = self.timeline.front().map_or(0, |newest| newest.seq + 1);
                let at_ms = self.timeline.front().map_or(0, |newest| newest.at_ms);
                // The count: the timeline says it in the page's language.
                let (kind, text) = ("skipped".to_string(), events.to_string());
                let timeline = Rc::make_mut(&mut self.timeline);
                timeline.push_front(TimelineEvent { seq, at_ms, kind, text, internal: false });
                timeline.truncate(TIMELINE_EVENTS_KEPT);
            }
            Action::Message(ServerMessage::Push { .. }) => {}
        }
        self
    }

    /// A refusal: its error shown, the notice before it gone.
    fn refused(&mut self, error: &KafkaError) {
        self.last_notice = None;
        self.last_error = Some(describe_error(error));
    }

    /// A reassignment's or an election's outcome: the first refusal said as any error is, an
    /// election that changed nothing as a notice (a move's progress shows on the map, from the
    /// topics asked for next).
    fn placed(&mut self, results: &[kite_shared::api::PartitionResult]) {
        let needless = |e: &KafkaError| e.error == kite_shared::error::ErrorCode::ElectionNotNeeded;
        let errors = || results.iter().filter_map(|r| r.error.as_ref());
        self.last_error = errors().find(|e| !needless(e)).map(describe_error);
        self.last_notice = errors().find(|e| needless(e)).map(|e| e.message.clone());
    }

    /// A batch's records, by the partition each went to, into the run's tally.
    fn tally(&mut self, topic: String, partitions: impl Iterator<Item = i32>) {
        self.last_error = None;
        let tally = self.batch_tally.get_or_insert_with(|| BatchTally {
            topic,
            records: 0,
            per_partition: BTreeMap::new(),
        });
        for partition in partitions {
            tally.records += 1;
            *tally.per_partition.entry(partition).or_default() += 1;
        }
    }

    fn apply_reply(&mut self, reply: Reply) {
        match reply {
            Reply::TopicCreated { topic, warnings } => {
                self.last_error = None;
                self.last_notice = (!warnings.is_empty()).then(|| warnings.join(" "));
                self.selected_topic = Some(topic.name.clone());
                self.upsert_topic(topic);
            }
            Reply::Topics { topics } => {
                self.topics = Rc::new(topics);
                let still_there = self.selected().is_some();
                if !still_there {
                    self.selected_topic = self.default_topic();
                }
            }
            produced @ Reply::Produced { .. } => self.produced(produced),
            Reply::ProducerIdInitialized { producer_id, producer_epoch } => {
                self.producer.producer_id_initialized(producer_id, producer_epoch)
            }
            ended @ (Reply::TransactionEnded { .. }
            | Reply::Transactions { .. }
            | Reply::OffsetsSent { .. }) => self.producer.transaction_reply(ended),
            Reply::Records { topic, partition, records, markers, .. } => {
                self.records.insert((topic.clone(), partition), records);
                self.markers.insert((topic, partition), markers);
            }
            Reply::SchemaRegistered { subject, id, version } => {
                self.last_error = None;
                self.last_notice = Some(format!("Schema registered: {subject} version {version} (id {id})"));
            }
            Reply::ConsumerOpened { consumer } => {
                self.last_error = None;
                self.consumers.push(HostedConsumer {
                    id: consumer,
                    client_id: format!("consumer {consumer}"),
                    assignment: Vec::new(),
                    stable: false,
                    consumed: 0,
                    positions: Default::default(),
                });
            }
            Reply::Polled { consumer, records, assignment, stable } => {
                if let Some(c) = self.consumers.iter_mut().find(|c| c.id == consumer) {
                    c.polled(&records, assignment, stable);
                }
            }
            Reply::ConsumerClosed { consumer } => self.consumers.retain(|c| c.id != consumer),
            Reply::GroupDescribed { group, state, protocol, members, offsets } => {
                self.show_group(group, state, protocol, members.len(), offsets)
            }
            Reply::OffsetsReset { group, executed, offsets } => {
                self.last_error = None;
                self.last_reset = Some(OffsetsReset { group, executed, offsets });
            }
            // Not asked for by the UI yet.
            Reply::Offsets { .. }
            | Reply::OffsetsCommitted { .. }
            | Reply::Groups { .. }
            | Reply::GroupDeleted { .. }
            | Reply::RecordBatches { .. }
            | Reply::Subscribed { .. }
            | Reply::Unsubscribed { .. }
            | Reply::Pong { .. }
            | Reply::Reassignments { .. }
            | Reply::ClusterReset => {}
            Reply::RecordDumped { topic, partition, batch, record } => {
                self.dumped = Some(Dumped { topic, partition, batch, record });
            }
            Reply::ProducedBatch { topic, records } => self.tally(topic, records.iter().map(|r| r.partition)),
            // The generator's batches are answered per partition, as Kafka's ProduceResponse.
            Reply::ProducedRecords { topic, partitions, .. } => self.tally(topic, partitions.into_iter()),
            Reply::Clock { now_ms, speed_percent, paused, seed } => {
                self.clock = Some(ClockView { now_ms, speed_percent, paused, seed });
            }
            Reply::Replayed { seed, requests, events, identical, differences } => {
                self.replayed = Some(ReplayView { seed, requests, events, identical, differences });
            }
            Reply::StateShared { parameter } => self.shared_state = Some(parameter),
            Reply::ScenarioPlayed { steps, finished } => {
                let view = self.scenario.get_or_insert_with(ScenarioView::default);
                view.steps.extend(steps);
                view.finished = finished;
            }
            connect @ (Reply::Connect { .. } | Reply::ConnectDescribed(_)) => self.apply_connect(connect),
            Reply::Metrics(sample) => self.sampled(sample),
            Reply::KafkaExchanges { exchanges } => self.inspected(exchanges),
            described @ Reply::ClusterDescribed { .. } => self.cluster = ClusterView::described(described),
            log @ Reply::MetadataLogDescribed { .. } => self.metadata_log = MetadataLogView::described(log),
            admin @ (Reply::TopicDeleted { .. }
            | Reply::RecordsDeleted { .. }
            | Reply::PartitionsCreated { .. }
            | Reply::TopicConfigAltered { .. }
            | Reply::BrokerConfigAltered { .. }
            | Reply::BrokerAdded { .. }
            | Reply::BrokerRemoval { .. }
            | Reply::ReassignmentsAltered { .. }
            | Reply::LeadersElected { .. }) => self.apply_admin_reply(admin),
            Reply::Error(error) => self.refused(&error),
        }
    }

    /// The UI producer's record was written: where, and for an idempotent producer its next
    /// sequence in that partition; a retry goes to the same partition.
    fn produced(&mut self, reply: Reply) {
        let Reply::Produced { topic, partition, offset, timestamp_ms, placement, idempotent } = reply else {
            return;
        };
        self.last_error = None;
        self.selected_topic = Some(topic.clone());
        let in_transaction = self.producer.transaction.as_mut().filter(|t| t.open);
        if let Some(t) = in_transaction {
            if let (Some(write), Some(producer)) = (&idempotent, &mut t.producer) {
                producer.wrote(partition, write);
            }
            let at = format!("{topic}-{partition}");
            if !t.partitions.contains(&at) {
                t.partitions.push(at);
            }
            t.records += 1;
        } else if let (Some(write), Some(producer)) = (&idempotent, &mut self.producer.producer) {
            producer.wrote(partition, write);
        }
        if let Some(Command::Produce { partition: pinned, .. }) = &mut self.producer.last_sent {
            *pinned = Some(partition);
        }
        let retried = self.producer.retried;
        self.last_produced =
            Some(Produced { topic, partition, offset, timestamp_ms, placement, idempotent, retried });
    }

    /// Kite Connect's answers: what it holds now, or a REST request it refused (Kafka Connect's
    /// status and message, shown as an error).
    fn apply_connect(&mut self, reply: Reply) {
        match reply {
            Reply::ConnectDescribed(view) => self.connect = Some(view),
            Reply::Connect { status, body } if status >= 400 => {
                let message =
                    body.as_ref().and_then(|b| b.get("message")).and_then(|m| m.as_str()).unwrap_or("");
                self.last_error = Some(format!("Kite Connect {status}: {message}"));
            }
            _ => {}
        }
    }

    /// A metrics sample, after those the charts have (the newest kept).
    fn sampled(&mut self, sample: kite_shared::api::Metrics) {
        self.metrics.push_back(sample);
        while self.metrics.len() > METRICS_SAMPLES_KEPT {
            self.metrics.pop_front();
        }
    }

    /// The protocol inspector's newest exchanges, after those it has (the newest kept).
    fn inspected(&mut self, exchanges: Vec<kite_shared::api::KafkaExchangeView>) {
        // A follow-up asks for the newest without knowing which the page has.
        let newest = self.kafka_exchanges.back().map_or(0, |e| e.id);
        self.kafka_exchanges.extend(exchanges.into_iter().filter(|e| e.id > newest));
        while self.kafka_exchanges.len() > INSPECTOR_EXCHANGES_KEPT {
            self.kafka_exchanges.pop_front();
        }
    }

    /// The answer to an admin action (a topic's, a move's, a broker joining or leaving): the
    /// topics as they are now, and a notice saying what changed.
    fn apply_admin_reply(&mut self, reply: Reply) {
        self.last_error = None;
        match reply {
            Reply::TopicDeleted { name } => {
                Rc::make_mut(&mut self.topics).retain(|t| t.name != name);
                self.records.retain(|(topic, _), _| topic != &name);
                if self.selected_topic.as_deref() == Some(name.as_str()) {
                    self.selected_topic = self.default_topic();
                }
                self.last_notice = Some(format!("Topic {name} deleted."));
            }
            Reply::RecordsDeleted { topic, partition, low_watermark } => {
                self.last_notice = Some(format!(
                    "Records of {topic}-{partition} before offset {low_watermark} deleted: every live replica's log starts there now (low watermark {low_watermark})."
                ));
            }
            Reply::PartitionsCreated { topic } => {
                self.last_notice =
                    Some(format!("{} now has {} partitions.", topic.name, topic.partitions.len()));
                self.upsert_topic(topic);
            }
            Reply::TopicConfigAltered { topic } => {
                self.last_notice = Some(format!("Configs of {} updated.", topic.name));
                self.upsert_topic(topic);
            }
            Reply::BrokerConfigAltered { broker: Some(broker), .. } => {
                self.last_notice = Some(format!("Dynamic configs of broker {broker} updated."));
            }
            Reply::BrokerConfigAltered { broker: None, .. } => {
                self.last_notice = Some("Every broker's dynamic default configs updated.".to_string());
            }
            Reply::ReassignmentsAltered { results } | Reply::LeadersElected { results } => {
                self.placed(&results)
            }
            Reply::BrokerAdded { broker } => {
                self.last_notice =
                    Some(format!("Broker {broker} added: it holds nothing until partitions move to it."));
            }
            Reply::BrokerRemoval { broker, moving: 0 } => {
                self.last_notice = Some(format!("Broker {broker} held no replica and has left the cluster."));
            }
            Reply::BrokerRemoval { broker, moving } => {
                self.last_notice = Some(format!(
                    "Broker {broker} is leaving: {moving} partitions move their replica off it, then it leaves the cluster."
                ));
            }
            _ => {}
        }
    }

    /// A group's description, its total lag added to the lag history (the same group's goes on;
    /// another group's starts afresh).
    fn show_group(
        &mut self,
        group: String,
        state: String,
        protocol: String,
        members: usize,
        rows: Vec<GroupOffsetRow>,
    ) {
        let mut lag_history = match self.group.take() {
            Some(previous) if previous.group == group => previous.lag_history,
            _ => Default::default(),
        };
        lag_history.push_back(rows.iter().filter_map(|row| row.lag).sum());
        while lag_history.len() > LAG_SAMPLES_KEPT {
            lag_history.pop_front();
        }
        self.group = Some(GroupView { group, state, protocol, members, rows, lag_history });
    }

    fn upsert_topic(&mut self, topic: TopicDescription) {
        let topics = Rc::make_mut(&mut self.topics);
        match topics.iter_mut().find(|t| t.name == topic.name) {
            Some(existing) => *existing = topic,
            None => {
                topics.push(topic);
                topics.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        // No copy when nothing else holds the state (a render between two messages does).
        Rc::new(Rc::unwrap_or_clone(self).apply(action))
    }
}

/// The requests an engine message calls for: fresh offsets after anything that changes them.
pub fn follow_ups(message: &ServerMessage) -> Vec<Request> {
    match message {
        // The engine's events feed the timeline, pushed as they happen.
        ServerMessage::Welcome { .. } => {
            vec![Command::ListTopics.into(), HostCommand::SubscribeEvents.into()]
        }
        // In the tab the protocol inspector shows a produce or a new topic as the Kafka request
        // a client would send; it asks after the page's own actions, not on a timer.
        ServerMessage::Reply { reply: Reply::TopicCreated { .. } | Reply::Produced { .. }, .. } => {
            vec![Command::ListTopics.into(), Command::InspectKafka { after: 0 }.into()]
        }
        ServerMessage::Reply {
            reply:
                Reply::ScenarioPlayed { .. } | Reply::ReassignmentsAltered { .. } | Reply::LeadersElected { .. },
            ..
        } => {
            vec![Command::ListTopics.into()]
        }
        ServerMessage::Reply { reply: Reply::TransactionEnded { .. }, .. } => {
            vec![Command::InspectKafka { after: 0 }.into()]
        }
        // The group's table shows the offsets a reset moved.
        ServerMessage::Reply { reply: Reply::OffsetsReset { group, executed: true, .. }, .. } => {
            vec![Command::DescribeGroup { group: group.clone() }.into()]
        }
        _ => Vec::new(),
    }
}

/// How many of each partition's newest records the partition view shows: more than a row has
/// room for on a wide screen (the older ones scroll into its box). At 12, while records stream
/// into many partitions, every block of every row was new at each refresh, and laying them out
/// made most of the page's frames over 50 ms on 9 brokers × 500 partitions (docs/benchmarks.md).
pub const RECORDS_SHOWN_PER_PARTITION: u32 = 6;

/// How many partitions of the selected topic the partition view fetches and draws: 16 rows of
/// 6 records, as many rows as the map draws blocks per broker. At 64 the rows' layout alone cost the page
/// 0.7 s of a 100 k-record run into 500 partitions (docs/benchmarks.md); nobody reads 64 rows.
pub const PARTITIONS_SHOWN: usize = 16;

/// The fetches that bring the partition view up to date with the selected topic's offsets, read
/// with the deserializers matching the chosen serializers.
pub fn record_fetches(topic: &TopicDescription, key: SerializerKind, value: SerializerKind) -> Vec<Command> {
    topic
        .partitions
        .iter()
        .take(PARTITIONS_SHOWN)
        .filter(|p| p.log_end_offset > p.log_start_offset)
        .map(|p| Command::Fetch {
            topic: topic.name.clone(),
            partition: p.partition,
            offset: (p.log_end_offset - i64::from(RECORDS_SHOWN_PER_PARTITION)).max(p.log_start_offset),
            max_records: RECORDS_SHOWN_PER_PARTITION,
            key_deserializer: key,
            value_deserializer: value,
            isolation_level: Default::default(),
        })
        .collect()
}
