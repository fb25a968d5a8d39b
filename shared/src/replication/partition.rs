//! One replica of a partition on one broker (Kafka's `Partition`): its log, its high watermark,
//! and — while it leads — the followers' log end offsets, the ISR it maintains (shrink after
//! `replica.lag.time.max.ms`, expand when caught up, both through the controller), the
//! high-watermark rule, and produce requests waiting for `acks=all`.

use std::collections::BTreeMap;

use super::protocol::{BrokerId, FetchData, Message, NodeId, PartitionState, TopicPartition};
use crate::config::Acks;
use crate::error::ErrorCode;
use crate::log::local_log::LocalLog;
use crate::record::batch::BatchHeader;
use crate::trace::{Event, Trace};

/// Kafka's `request.timeout.ms` default: how long a produce waits for its acks.
pub const REQUEST_TIMEOUT_MS: i64 = 30_000;
/// The most bytes one fetch returns (Kafka's `replica.fetch.max.bytes` default).
pub const MAX_FETCH_BYTES: usize = 1024 * 1024;
/// How long an AlterPartition may go unanswered before the leader sends it again.
pub const ALTER_PARTITION_RETRY_MS: i64 = 1_000;
/// DeleteRecords' offset for "up to the high watermark" (Kafka's `DeleteRecordsRequest.HIGH_WATERMARK`).
pub const DELETE_TO_HIGH_WATERMARK: i64 = -1;

/// DeleteRecords on a leader's `log` whose high watermark is `high_watermark` (see
/// `Partition::delete_records`); the one broker's logs take the same path.
pub fn delete_records(log: &mut LocalLog, high_watermark: i64, offset: i64) -> Result<i64, ErrorCode> {
    if !log.config().delete {
        return Err(ErrorCode::PolicyViolation);
    }
    let offset = if offset == DELETE_TO_HIGH_WATERMARK { high_watermark } else { offset };
    if !(0..=high_watermark).contains(&offset) {
        return Err(ErrorCode::OffsetOutOfRange);
    }
    log.delete_records(offset).map_err(|_| ErrorCode::KafkaStorageError)
}

/// Where the messages a replica sends go.
pub type Outbox = Vec<(NodeId, Message)>;

#[derive(Clone, Copy, Debug)]
struct FollowerState {
    /// The follower's log end offset, as its last fetch said; -1 before its first fetch.
    log_end_offset: i64,
    last_caught_up_ms: i64,
}

#[derive(Clone, Debug)]
struct WaitingProduce {
    client: NodeId,
    correlation: u64,
    first_offset: i64,
    /// The high watermark that acknowledges it: one past its last offset.
    required_offset: i64,
    deadline_ms: i64,
}

/// A produce request's fields, as the leader needs them.
pub struct ProduceRequest<'a> {
    /// The sender; the ProduceResponse goes there.
    pub client: NodeId,
    /// Echoed in the ProduceResponse.
    pub correlation: u64,
    /// One encoded record batch, as the producer sent it; the leader assigns its offsets.
    pub batch: &'a [u8],
    /// When to answer: after the append (1), once the high watermark passes the batch (all),
    /// or never (0).
    pub acks: Acks,
}

/// A fetch request's fields, as the leader needs them.
pub struct FetchRequest {
    /// The fetching follower, or `None` for a consumer.
    pub replica: Option<BrokerId>,
    /// The first offset wanted; for a follower, its log end offset.
    pub fetch_offset: i64,
    /// The leader epoch of the follower's last record, checked against the leader's epochs
    /// for divergence (KIP-320); `None` for a consumer.
    pub last_fetched_epoch: Option<i32>,
    /// The leader epoch the fetcher believes in; -1 for none.
    pub leader_epoch: i32,
    /// The most bytes to return past a first whole batch (`replica.fetch.max.bytes` for a
    /// follower); 0 returns none at all (a follower the leader's quota holds back).
    pub max_bytes: usize,
}

/// A bug planted on purpose in this replica's code, so the simulator can prove its checker
/// catches code bugs no setting can express (`kite sim --unsafe planted-…`). No host sets one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// The leader's high watermark runs one offset ahead of what every in-sync replica has.
    HighWatermarkOffByOne,
    /// The leader never reports a diverging epoch (KIP-320 skipped), so a follower never
    /// truncates the tail its history does not share with the leader's.
    SkippedFollowerTruncation,
    /// The controller counts the replicas a reassignment adds as in sync at once, so it completes
    /// (and may hand leadership to a new replica) before they have caught up.
    ReassignBeforeCatchUp,
}

/// One replica of a partition on one broker: leader or follower as the controller's latest
/// state says.
pub struct Partition {
    /// The partition this is a replica of.
    pub tp: TopicPartition,
    broker: BrokerId,
    /// This replica's log.
    pub log: LocalLog,
    /// The controller's latest state for the partition; `None` until the first one arrives.
    pub state: Option<PartitionState>,
    /// The high watermark: on the leader, the smallest log end offset over the ISR; on a
    /// follower, the last one the leader reported, capped at its own log end offset.
    pub high_watermark: i64,
    followers: BTreeMap<BrokerId, FollowerState>,
    /// An ISR change sent to the controller and not yet seen back, with when it was sent.
    pending_isr: Option<(Vec<BrokerId>, i64)>,
    waiting: Vec<WaitingProduce>,
    /// The follower's outstanding fetch: correlation and when it was sent.
    pub fetch_in_flight: Option<(u64, i64)>,
    /// A bug planted for the simulator's checker; `None` everywhere else.
    pub planted_bug: Option<PlantedBug>,
}

impl Partition {
    /// A replica of `tp` on `broker` over `log`, neither leader nor follower until the
    /// controller's state arrives; high watermark 0.
    pub fn new(tp: TopicPartition, broker: BrokerId, log: LocalLog) -> Partition {
        Partition {
            tp,
            broker,
            log,
            state: None,
            high_watermark: 0,
            followers: BTreeMap::new(),
            pending_isr: None,
            waiting: Vec::new(),
            fetch_in_flight: None,
            planted_bug: None,
        }
    }

    /// Whether the controller's latest state names this broker the leader.
    pub fn is_leader(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.leader == Some(self.broker))
    }

    /// The leader epoch of the controller's latest state; -1 before any.
    pub fn leader_epoch(&self) -> i32 {
        self.state.as_ref().map_or(-1, |s| s.leader_epoch)
    }

    fn isr(&self) -> &[BrokerId] {
        self.state.as_ref().map_or(&[], |s| s.isr.as_slice())
    }

    /// The ISR the high watermark waits for: the committed ISR plus any member being added
    /// (Kafka's "maximal ISR": counting more replicas is always safe).
    fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.isr().to_vec();
        if let Some((pending, _)) = &self.pending_isr {
            for member in pending {
                if !isr.contains(member) {
                    isr.push(*member);
                }
            }
        }
        isr
    }

    /// Applies the controller's latest state for this partition.
    pub fn update(&mut self, now_ms: i64, state: PartitionState, out: &mut Outbox, trace: &mut Trace) {
        let was_leader_epoch = self.state.as_ref().filter(|_| self.is_leader()).map(|s| s.leader_epoch);
        let newer = self.state.as_ref().is_none_or(|s| {
            (state.leader_epoch, state.partition_epoch) > (s.leader_epoch, s.partition_epoch)
        });
        if !newer {
            return;
        }
        self.pending_isr = self
            .pending_isr
            .take()
            .filter(|_| self.state.as_ref().is_some_and(|s| s.partition_epoch == state.partition_epoch));
        let leads = state.leader == Some(self.broker);
        let epoch = state.leader_epoch;
        self.state = Some(state);
        if leads && was_leader_epoch != Some(epoch) {
            // Becoming leader (Kafka's makeLeader): the new epoch starts at our log end.
            let _ = self.log.assign_leader_epoch(epoch);
            self.followers = self
                .state
                .as_ref()
                .map(|s| s.replicas.iter().filter(|&&r| r != self.broker).copied().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(|r| (r, FollowerState { log_end_offset: -1, last_caught_up_ms: now_ms }))
                .collect();
            self.fetch_in_flight = None;
            self.fail_waiting(ErrorCode::NotLeaderOrFollower, out);
        } else if leads {
            // Still leading, with the replicas changed (a reassignment): followers added start
            // unknown, those removed are forgotten.
            let replicas = self.state.as_ref().map(|s| s.replicas.clone()).unwrap_or_default();
            self.followers.retain(|r, _| replicas.contains(r));
            for r in replicas.into_iter().filter(|&r| r != self.broker) {
                self.followers
                    .entry(r)
                    .or_insert(FollowerState { log_end_offset: -1, last_caught_up_ms: now_ms });
            }
        } else {
            self.followers.clear();
            self.fail_waiting(ErrorCode::NotLeaderOrFollower, out);
            self.fetch_in_flight = None;
        }
        if leads {
            if self.isr().len() < self.min_isr() {
                self.fail_waiting(ErrorCode::NotEnoughReplicasAfterAppend, out);
            }
            self.maybe_advance_high_watermark(now_ms, out, trace);
        }
    }

    fn min_isr(&self) -> usize {
        self.state.as_ref().map_or(1, |s| s.min_insync_replicas)
    }

    fn fail_waiting(&mut self, error: ErrorCode, out: &mut Outbox) {
        for waiting in self.waiting.drain(..) {
            let response = Message::ProduceResponse {
                tp: self.tp.clone(),
                correlation: waiting.correlation,
                result: Err(error),
            };
            out.push((waiting.client, response));
        }
    }

    /// A produce request arriving at this replica.
    pub fn produce(&mut self, now_ms: i64, request: ProduceRequest<'_>, out: &mut Outbox, trace: &mut Trace) {
        let ProduceRequest { client, correlation, batch, acks } = request;
        let respond = |out: &mut Outbox, result| {
            if acks != Acks::None {
                out.push((client, Message::ProduceResponse { tp: self.tp.clone(), correlation, result }));
            }
        };
        if !self.is_leader() {
            return respond(out, Err(ErrorCode::NotLeaderOrFollower));
        }
        if acks == Acks::All && self.isr().len() < self.min_isr() {
            return respond(out, Err(ErrorCode::NotEnoughReplicas));
        }
        let appended = match self.log.append_as_leader(batch, self.leader_epoch(), now_ms) {
            Ok(appended) => appended,
            Err(e) => return respond(out, Err(crate::error::KafkaError::from(e).error)),
        };
        trace.push(
            now_ms,
            Event::Appended {
                broker: self.broker,
                tp: self.tp.clone(),
                first_offset: appended.first_offset,
                last_offset: appended.last_offset,
                leader_epoch: self.leader_epoch(),
                as_leader: true,
            },
        );
        match acks {
            Acks::None | Acks::Leader => respond(out, Ok(appended.first_offset)),
            Acks::All => self.waiting.push(WaitingProduce {
                client,
                correlation,
                first_offset: appended.first_offset,
                required_offset: appended.last_offset + 1,
                deadline_ms: now_ms + REQUEST_TIMEOUT_MS,
            }),
        }
        self.maybe_advance_high_watermark(now_ms, out, trace);
    }

    /// The high watermark is the smallest log end offset over the (maximal) ISR, and does not
    /// advance while the ISR is smaller than `min.insync.replicas`. Completes `acks=all` produces
    /// it reaches.
    fn maybe_advance_high_watermark(&mut self, now_ms: i64, out: &mut Outbox, trace: &mut Trace) {
        if !self.is_leader() || self.isr().len() < self.min_isr() {
            return;
        }
        let mut new_hw = self.log.log_end_offset();
        for member in self.maximal_isr() {
            if member == self.broker {
                continue;
            }
            let leo = self.followers.get(&member).map_or(-1, |f| f.log_end_offset);
            new_hw = new_hw.min(leo);
        }
        if self.planted_bug == Some(PlantedBug::HighWatermarkOffByOne) {
            new_hw = (new_hw + 1).min(self.log.log_end_offset());
        }
        if new_hw > self.high_watermark {
            self.high_watermark = new_hw;
            trace.push(
                now_ms,
                Event::HighWatermark { broker: self.broker, tp: self.tp.clone(), high_watermark: new_hw },
            );
        }
        let hw = self.high_watermark;
        let (done, still): (Vec<_>, Vec<_>) = self.waiting.drain(..).partition(|w| w.required_offset <= hw);
        self.waiting = still;
        for waiting in done {
            out.push((
                waiting.client,
                Message::ProduceResponse {
                    tp: self.tp.clone(),
                    correlation: waiting.correlation,
                    result: Ok(waiting.first_offset),
                },
            ));
        }
    }

    /// A fetch from a follower (`replica: Some`) or a consumer, at the leader.
    pub fn fetch(
        &mut self,
        now_ms: i64,
        request: FetchRequest,
        out: &mut Outbox,
        trace: &mut Trace,
    ) -> Result<FetchData, ErrorCode> {
        let FetchRequest { replica, fetch_offset, last_fetched_epoch, leader_epoch, max_bytes } = request;
        if !self.is_leader() {
            return Err(ErrorCode::NotLeaderOrFollower);
        }
        if leader_epoch >= 0 && leader_epoch < self.leader_epoch() {
            return Err(ErrorCode::FencedLeaderEpoch);
        }
        if leader_epoch > self.leader_epoch() {
            return Err(ErrorCode::UnknownLeaderEpoch);
        }
        let leo = self.log.log_end_offset();
        let base = FetchData {
            high_watermark: self.high_watermark,
            log_start_offset: self.log.log_start_offset(),
            log_end_offset: leo,
            records: Vec::new(),
            diverging: None,
            aborted: Vec::new(),
        };
        // A replica a reassignment removed (or never placed here) fetches no more.
        if replica.is_some_and(|r| self.state.as_ref().is_some_and(|s| !s.replicas.contains(&r))) {
            return Err(ErrorCode::NotLeaderOrFollower);
        }
        let Some(follower) = replica else {
            // A consumer reads only what is committed: below the high watermark. Between the
            // high watermark and the log end it gets nothing yet (a new leader's high watermark
            // may trail what the old one told the consumer); past the log end is out of range.
            if fetch_offset < self.log.log_start_offset() || fetch_offset > leo {
                return Err(ErrorCode::OffsetOutOfRange);
            }
            let records = self.read(fetch_offset, self.high_watermark, max_bytes);
            return Ok(FetchData { records, ..base });
        };
        // A follower whose log ends before our log start (stopped while retention deleted what
        // it lacks): no records and no divergence check (our epochs there are gone too), only
        // our log start, at which it starts over. Kafka's leader answers OFFSET_OUT_OF_RANGE
        // with its log start, and the follower truncates fully and starts at it.
        if fetch_offset < self.log.log_start_offset() {
            return Ok(base);
        }
        // KIP-320: does the follower's history agree with ours up to where it fetches?
        if let Some(epoch) = last_fetched_epoch
            && self.planted_bug != Some(PlantedBug::SkippedFollowerTruncation)
        {
            match self.log.leader_epochs().end_offset_for(epoch, leo) {
                Some((our_epoch, end_offset)) if our_epoch == epoch && end_offset >= fetch_offset => {}
                Some((our_epoch, end_offset)) => {
                    return Ok(FetchData {
                        diverging: Some((our_epoch, end_offset.min(fetch_offset))),
                        ..base
                    });
                }
                None => {
                    return Ok(FetchData {
                        diverging: Some((-1, self.high_watermark.min(fetch_offset))),
                        ..base
                    });
                }
            }
        }
        if fetch_offset > leo || fetch_offset < self.log.log_start_offset() {
            return Err(ErrorCode::OffsetOutOfRange);
        }
        if let Some(state) = self.followers.get_mut(&follower) {
            state.log_end_offset = fetch_offset;
            if fetch_offset >= leo {
                state.last_caught_up_ms = now_ms;
            }
        }
        self.maybe_expand_isr(now_ms, follower, fetch_offset, out);
        self.maybe_advance_high_watermark(now_ms, out, trace);
        let records = self.read(fetch_offset, leo, max_bytes);
        Ok(FetchData { records, high_watermark: self.high_watermark, ..base })
    }

    /// Whole batches from `offset` that end below `below`: the first, and more up to
    /// `max_bytes` (none at all when it is 0).
    fn read(&self, offset: i64, below: i64, max_bytes: usize) -> Vec<u8> {
        if offset >= below || max_bytes == 0 {
            return Vec::new();
        }
        let Ok(bytes) = self.log.read(offset, max_bytes) else { return Vec::new() };
        let mut end = 0;
        while end < bytes.len() {
            match BatchHeader::parse_trusted(&bytes[end..]) {
                Ok(header) if header.last_offset() < below => end += header.total_bytes(),
                _ => break,
            }
        }
        bytes[..end].to_vec()
    }

    fn propose_isr(&mut self, now_ms: i64, isr: Vec<BrokerId>, out: &mut Outbox) {
        let Some(state) = &self.state else { return };
        out.push((
            NodeId::Controller,
            Message::AlterPartition {
                tp: self.tp.clone(),
                leader: self.broker,
                leader_epoch: state.leader_epoch,
                partition_epoch: state.partition_epoch,
                isr: isr.clone(),
            },
        ));
        self.pending_isr = Some((isr, now_ms));
    }

    /// Adds a follower that has caught up to the high watermark (and into the current epoch).
    fn maybe_expand_isr(&mut self, now_ms: i64, follower: BrokerId, fetch_offset: i64, out: &mut Outbox) {
        if self.pending_isr.is_some() || self.isr().contains(&follower) {
            return;
        }
        let epoch_start = self
            .log
            .leader_epochs()
            .entries()
            .iter()
            .rev()
            .find(|(epoch, _)| *epoch == self.leader_epoch())
            .map_or(0, |(_, start)| *start);
        if fetch_offset >= self.high_watermark && fetch_offset >= epoch_start {
            let mut isr = self.isr().to_vec();
            isr.push(follower);
            isr.sort_unstable();
            self.propose_isr(now_ms, isr, out);
        }
    }

    /// The leader's periodic work: shrink the ISR of followers that have not caught up within
    /// `replica_lag_time_max_ms`, retry a lost AlterPartition, time out waiting produces.
    pub fn leader_tick(&mut self, now_ms: i64, replica_lag_time_max_ms: i64, out: &mut Outbox) {
        if !self.is_leader() {
            return;
        }
        if let Some((isr, sent)) = &self.pending_isr
            && now_ms - sent >= ALTER_PARTITION_RETRY_MS
        {
            let isr = isr.clone();
            self.propose_isr(now_ms, isr, out);
        }
        if self.pending_isr.is_none() {
            let lagging: Vec<BrokerId> = self
                .isr()
                .iter()
                .copied()
                .filter(|&member| member != self.broker)
                .filter(|member| {
                    self.followers
                        .get(member)
                        .is_none_or(|f| now_ms - f.last_caught_up_ms > replica_lag_time_max_ms)
                })
                .collect();
            if !lagging.is_empty() {
                let isr: Vec<BrokerId> =
                    self.isr().iter().copied().filter(|m| !lagging.contains(m)).collect();
                self.propose_isr(now_ms, isr, out);
            }
        }
        let (expired, still): (Vec<_>, Vec<_>) =
            self.waiting.drain(..).partition(|w| now_ms >= w.deadline_ms);
        self.waiting = still;
        for waiting in expired {
            out.push((
                waiting.client,
                Message::ProduceResponse {
                    tp: self.tp.clone(),
                    correlation: waiting.correlation,
                    result: Err(ErrorCode::RequestTimedOut),
                },
            ));
        }
    }

    /// A follower's fetch answer: truncate where histories diverge, or append and take the
    /// leader's high watermark. Returns whether to fetch again at once.
    pub fn follower_response(&mut self, now_ms: i64, data: FetchData, trace: &mut Trace) -> bool {
        if let Some((epoch, end_offset)) = data.diverging {
            // As Kafka's follower does: to the leader's end for `epoch`, but no further than our
            // own end for it, so our later epochs (which the leader never had) go and the next
            // fetch names an epoch the leader knows. Truncating only to the leader's end would
            // keep them, and the leader would answer the same divergence forever.
            let leo = self.log.log_end_offset();
            let epochs = self.log.leader_epochs();
            let ours = if epoch >= 0 { epochs.end_offset_for(epoch, leo).map(|(_, end)| end) } else { None };
            let before = (leo, epochs.latest_epoch());
            let to = end_offset.min(ours.unwrap_or(end_offset)).min(leo);
            if self.log.truncate_to(to).is_ok() {
                let after = (self.log.log_end_offset(), self.log.leader_epochs().latest_epoch());
                if after == before {
                    // Nothing changed: asking again at once would get the same answer. The next
                    // periodic fetch tries again.
                    return false;
                }
                self.high_watermark = self.high_watermark.min(self.log.log_end_offset());
                trace.push(
                    now_ms,
                    Event::Truncated {
                        broker: self.broker,
                        tp: self.tp.clone(),
                        to_offset: self.log.log_end_offset(),
                        reason: "diverged from the leader's epochs",
                    },
                );
                return true;
            }
            return false;
        }
        if self.log.log_end_offset() < data.log_start_offset {
            return self.start_over_at(now_ms, data.log_start_offset, trace);
        }
        let fetched = !data.records.is_empty();
        if fetched {
            let first = self.log.log_end_offset();
            match self.log.append_as_follower(&data.records) {
                Ok(leo) => trace.push(
                    now_ms,
                    Event::Appended {
                        broker: self.broker,
                        tp: self.tp.clone(),
                        first_offset: first,
                        last_offset: leo - 1,
                        leader_epoch: self.log.leader_epochs().latest_epoch().unwrap_or(-1),
                        as_leader: false,
                    },
                ),
                Err(_) => return false,
            }
        }
        let hw = data.high_watermark.min(self.log.log_end_offset());
        if hw != self.high_watermark {
            self.high_watermark = hw;
            trace.push(
                now_ms,
                Event::HighWatermark { broker: self.broker, tp: self.tp.clone(), high_watermark: hw },
            );
        }
        // The leader's log start moved (DeleteRecords, retention): ours follows it, never past
        // what we know is committed (Kafka's follower `maybeIncrementLogStartOffset`).
        let log_start = data.log_start_offset.min(self.high_watermark);
        if log_start > self.log.log_start_offset() && self.log.delete_records(log_start).is_err() {
            return false;
        }
        fetched
    }

    /// Kafka's DeleteRecords at the leader (`deleteRecordsOnLeader`): the log starts at `offset`
    /// (-1: the high watermark) and the segments wholly below it go. An offset below the log
    /// start changes nothing; past the high watermark it is OFFSET_OUT_OF_RANGE, as records not
    /// yet committed cannot be deleted; a topic without `cleanup.policy=delete` refuses with
    /// POLICY_VIOLATION. Returns the leader's log start offset.
    pub fn delete_records(&mut self, offset: i64) -> Result<i64, ErrorCode> {
        delete_records(&mut self.log, self.high_watermark, offset)
    }

    /// The leader's log starts past our log end: what we hold, it no longer has. Start over,
    /// empty, at its log start (Kafka's `truncateFullyAndStartAt`) and fetch from there.
    fn start_over_at(&mut self, now_ms: i64, log_start_offset: i64, trace: &mut Trace) -> bool {
        if self.log.truncate_fully_and_start_at(log_start_offset).is_err() {
            return false;
        }
        self.high_watermark = log_start_offset;
        trace.push(
            now_ms,
            Event::Truncated {
                broker: self.broker,
                tp: self.tp.clone(),
                to_offset: log_start_offset,
                reason: "started over at the leader's log start",
            },
        );
        true
    }
}
