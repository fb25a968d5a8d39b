//! The KRaft controller quorum's consensus, as KIP-595 specifies it (Kafka's `KafkaRaftClient`):
//! voters elect a leader by epoch (Vote, after a pre-vote as KIP-996 adds, so a voter cut off
//! and back does not depose a working leader), the leader announces itself (BeginQuorumEpoch) and
//! steps down gracefully (EndQuorumEpoch), followers pull the log by Fetch with the offset and
//! the epoch of what they hold last (a diverging follower is told where to truncate), and the
//! leader's high watermark moves to what a majority holds once an entry of its own epoch is
//! there. Pure and sans-IO: the host passes in the time and randomness, carries the messages,
//! and keeps each voter's `QuorumState` and log durable before it delivers what a step sent.
//! What the entries are is the caller's (`R`): the controller's metadata records, proposed in
//! atomic batches (Kafka's `scheduleAtomicAppend`): one decision's records are sent, stored,
//! committed and snapshotted whole, so no voter or observer ever holds half a decision.

use std::collections::{BTreeMap, BTreeSet};

use crate::random::Rng;

/// A voter's id (Kafka's `node.id` of a controller).
pub type VoterId = i32;

/// Kafka's `controller.quorum.election.timeout.ms` default: how long a voter without a leader
/// waits before it stands for election (plus a random part up to as much again).
pub const QUORUM_ELECTION_TIMEOUT_MS: i64 = 1_000;
/// Kafka's `controller.quorum.fetch.timeout.ms` default: a follower that has not fetched from
/// its leader this long stands for election; a leader not fetched from by a majority this long
/// resigns.
pub const QUORUM_FETCH_TIMEOUT_MS: i64 = 2_000;
/// Kafka's `controller.quorum.election.backoff.max.ms` default: a candidate whose election
/// failed waits up to this long (at random) before the next.
pub const QUORUM_ELECTION_BACKOFF_MAX_MS: i64 = 1_000;
/// A follower fetches again after this long without an answer (a lost request or response),
/// beyond the time the leader may hold its request (`QUORUM_FETCH_MAX_WAIT_MS`).
pub const QUORUM_FETCH_RETRY_MS: i64 = 100;
/// How long a leader holds a caught-up follower's Fetch before answering it empty (Kafka's
/// fetch long-poll, as a broker's `replica.fetch.wait.max.ms`): a new entry, or a high
/// watermark that moved, answers it at once, so a record commits in two round trips.
pub const QUORUM_FETCH_MAX_WAIT_MS: i64 = 500;
/// A leader announces itself again (BeginQuorumEpoch) to a voter that has not fetched from it
/// this long into its epoch (the first announcement may have been lost).
pub const QUORUM_BEGIN_EPOCH_RETRY_MS: i64 = 200;
/// A prospective voter or a candidate asks again the voters that have not answered after this
/// long (a lost request or answer; Kafka retries its RPCs after `quorum.request.timeout.ms`).
pub const QUORUM_VOTE_RETRY_MS: i64 = 200;
/// The most entries one Fetch response carries, unless its last batch is longer (a batch is
/// sent whole).
pub const MAX_QUORUM_FETCH_ENTRIES: usize = 1_000;

/// One entry of the metadata log: the epoch of the leader that appended it and its record;
/// `None` is the LeaderChange control record a new leader appends first (so that an entry of
/// its own epoch can commit what earlier leaders left).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<R> {
    /// The leader epoch it was appended in.
    pub epoch: i32,
    /// The record; `None`: a LeaderChange control record.
    pub record: Option<R>,
    /// The last entry of its atomic batch: a log is only ever cut, sent, committed or
    /// snapshotted after such an entry.
    pub ends_batch: bool,
}

impl<R> Entry<R> {
    /// An entry that is a batch of its own.
    pub fn single(epoch: i32, record: Option<R>) -> Entry<R> {
        Entry { epoch, record, ends_batch: true }
    }
}

/// A snapshot of a log's committed prefix (KIP-630): the records that rebuild the state the
/// entries below `end_offset` built (the caller's compaction of them), and the epoch of the last
/// entry it replaces. A voter keeps its log from `end_offset` on; a follower that needs what
/// the snapshot replaced is sent the snapshot (Kafka's FetchSnapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot<R> {
    /// The offset after the last entry it covers.
    pub end_offset: i64,
    /// The epoch of that entry.
    pub last_epoch: i32,
    /// The state, as records.
    pub records: Vec<R>,
}

/// What a voter keeps durable besides its log (Kafka's `quorum-state` file): its epoch, whom it
/// voted for in that epoch, and the leader it knows of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuorumState {
    /// The latest epoch it has seen.
    pub epoch: i32,
    /// Whom it voted for in `epoch`.
    pub voted_for: Option<VoterId>,
    /// The leader of `epoch`, once known.
    pub leader: Option<VoterId>,
}

/// The messages between voters (KIP-595's RPCs). `epoch` is always the sender's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumMessage<R> {
    /// A candidate asks for a vote in `epoch`, saying how far its log goes; a pre-vote asks
    /// whether the voter would give it, changing nothing (KIP-996).
    Vote {
        /// The epoch the candidate stands in.
        epoch: i32,
        /// The candidate.
        candidate: VoterId,
        /// The epoch of its log's last entry.
        last_epoch: i32,
        /// Its log end offset.
        end_offset: i64,
        /// Only asking (KIP-996's pre-vote).
        pre_vote: bool,
    },
    /// A vote given or refused; a voter following a leader says which.
    VoteResponse {
        /// The voter's epoch.
        epoch: i32,
        /// Given.
        granted: bool,
        /// The answer to a pre-vote.
        pre_vote: bool,
        /// The leader the voter follows in its epoch.
        leader: Option<VoterId>,
    },
    /// A new leader announces itself.
    BeginQuorumEpoch {
        /// Its epoch.
        epoch: i32,
        /// The leader.
        leader: VoterId,
    },
    /// A leader resigns (shutting down): the voters elect another without waiting for their
    /// fetch timeout, `preferred` first.
    EndQuorumEpoch {
        /// Its epoch.
        epoch: i32,
        /// The leader resigning.
        leader: VoterId,
        /// The voters to stand first, the most caught-up first.
        preferred: Vec<VoterId>,
    },
    /// A follower asks for the log from `fetch_offset`, the entry before it of `last_epoch`.
    Fetch {
        /// The follower's epoch.
        epoch: i32,
        /// Its log end offset: it holds everything below.
        fetch_offset: i64,
        /// The epoch of its last entry.
        last_epoch: i32,
    },
    /// The leader's answer (or a stale voter's: `leader` says whom to ask).
    FetchResponse {
        /// The answering voter's epoch.
        epoch: i32,
        /// The leader it knows of.
        leader: Option<VoterId>,
        /// The leader's high watermark.
        high_watermark: i64,
        /// Entries, a divergence, or not the leader.
        result: FetchResult<R>,
    },
}

/// What a Fetch gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchResult<R> {
    /// The entries from `from` on (none when the follower is caught up).
    Entries {
        /// The offset of the first.
        from: i64,
        /// The entries, at most `MAX_QUORUM_FETCH_ENTRIES`.
        entries: Vec<Entry<R>>,
    },
    /// The follower's log diverges: its entries from `end_offset` on are not the leader's.
    Diverging {
        /// The leader's last epoch at or below the one the follower named.
        epoch: i32,
        /// Where that epoch ends in the leader's log.
        end_offset: i64,
    },
    /// Not the leader of the epoch asked (the response's `leader` says who is, if known).
    NotLeader,
    /// What the follower needs next was compacted into this snapshot: it starts over from it
    /// (KIP-630's FetchSnapshot, in one answer here).
    Snapshot(Snapshot<R>),
}

/// A bug planted in a voter's code, for proving the quorum's checker notices (the simulator's
/// tests set it); `None` is Kite's own code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedQuorumBug {
    /// Votes go to any candidate, however short its log: a leader may lack committed entries.
    VoteWithoutLogCheck,
}

/// What a leader knows of another voter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Progress {
    /// It holds every entry below this offset (its last fetch offset).
    offset: i64,
    /// When it last fetched in this epoch; `None`: not yet.
    fetched_ms: Option<i64>,
    /// When the leader last announced itself to it.
    announced_ms: i64,
}

/// What a prospective voter or a candidate has collected, and when it last asked.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ballot {
    granted: BTreeSet<VoterId>,
    answered: BTreeSet<VoterId>,
    asked_ms: i64,
}

/// A voter's role in its epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    /// No leader known; asks for pre-votes at `deadline_ms`.
    Unattached,
    /// Asking whether the others would vote for it (KIP-996), before it stands; `lost` is the
    /// leader it stopped hearing from (an answer naming that one is not followed again).
    Prospective { ballot: Ballot, lost: Option<VoterId> },
    /// A candidate collecting votes.
    Candidate { ballot: Ballot },
    /// The leader: what each other voter holds and when it last fetched, where its epoch's
    /// entries start, and the caught-up Fetches it holds (voter → since when).
    Leader { voters: BTreeMap<VoterId, Progress>, epoch_start: i64, parked: BTreeMap<VoterId, i64> },
    /// Following `leader`; `fetch_sent_ms` is when its outstanding Fetch went.
    Follower { leader: VoterId, fetch_sent_ms: Option<i64> },
    /// A leader that resigned: it waits for the next election; one that shut down gracefully
    /// tells the others again (`preferred`, when it last did) until another epoch begins, as
    /// Kafka retries EndQuorumEpoch.
    Resigned { preferred: Option<Vec<VoterId>>, announced_ms: i64 },
}

/// One voter of the controller quorum.
#[derive(Clone, Debug)]
pub struct QuorumNode<R> {
    /// This voter.
    pub id: VoterId,
    voters: Vec<VoterId>,
    state: QuorumState,
    role: Role,
    /// The snapshot of the log's committed prefix, if it was compacted.
    snapshot: Option<Snapshot<R>>,
    /// The metadata log from the snapshot's end on (offset = index + that end).
    log: Vec<Entry<R>>,
    high_watermark: i64,
    /// When the current timer fires: an election (unattached, candidate, resigned), a fetch
    /// timeout (follower) or a quorum check (leader).
    deadline_ms: i64,
    /// The leader that resigned (EndQuorumEpoch) in an epoch: an answer it sent before it
    /// resigned, arriving late, must not make this voter follow it again.
    resigned: Option<(i32, VoterId)>,
    /// A bug planted for the checker's own test; `None` is Kite's own code.
    pub planted_bug: Option<PlantedQuorumBug>,
}

/// What a step sends: each message to one voter.
pub type QuorumOutbox<R> = Vec<(VoterId, QuorumMessage<R>)>;

impl Ballot {
    /// A ballot with the voter's own vote.
    fn new(own: VoterId, now_ms: i64) -> Ballot {
        Ballot { granted: BTreeSet::from([own]), answered: BTreeSet::from([own]), asked_ms: now_ms }
    }
}

impl<R: Clone> QuorumNode<R> {
    /// A voter starting (or restarting) over what it kept durable: `state`, its snapshot and
    /// the log after it. It knows no high watermark beyond its snapshot until a leader tells it.
    pub fn start(
        id: VoterId,
        voters: &[VoterId],
        state: QuorumState,
        snapshot: Option<Snapshot<R>>,
        log: Vec<Entry<R>>,
        now_ms: i64,
        rng: &mut Rng,
    ) -> QuorumNode<R> {
        let mut voters = voters.to_vec();
        voters.sort_unstable();
        voters.dedup();
        let mut node = QuorumNode {
            id,
            voters,
            state: QuorumState { leader: None, ..state },
            role: Role::Unattached,
            high_watermark: snapshot.as_ref().map_or(0, |s| s.end_offset),
            snapshot,
            log,
            deadline_ms: now_ms,
            resigned: None,
            planted_bug: None,
        };
        // A log whose last entry is of a later epoch than the quorum state kept (a write that
        // failed between the two) starts unattached in that epoch, as Kafka's QuorumState does.
        let log_epoch = node.last_epoch();
        if node.state.epoch < log_epoch {
            node.state = QuorumState { epoch: log_epoch, voted_for: None, leader: None };
        }
        // The only voter has nobody to hear a leader from: it stands at once, as Kafka's
        // KafkaRaftClient does when it starts as the quorum's only voter.
        let alone = node.voters == [id];
        node.deadline_ms = if alone { now_ms } else { now_ms + node.election_wait(rng) };
        node
    }

    /// The durable state to keep before what the last step sent is delivered.
    pub fn quorum_state(&self) -> QuorumState {
        self.state
    }

    /// The log after the snapshot (committed entries are those below `high_watermark`).
    pub fn log(&self) -> &[Entry<R>] {
        &self.log
    }

    /// The snapshot the log starts after, if it was compacted.
    pub fn snapshot(&self) -> Option<&Snapshot<R>> {
        self.snapshot.as_ref()
    }

    /// The offset of the log's first entry: the snapshot's end, or 0.
    pub fn log_start_offset(&self) -> i64 {
        self.snapshot.as_ref().map_or(0, |s| s.end_offset)
    }

    /// The offset after the log's last entry.
    pub fn end_offset(&self) -> i64 {
        self.log_start_offset() + self.log.len() as i64
    }

    /// The entry at `offset`, unless the snapshot replaced it or the log does not reach it.
    pub fn entry(&self, offset: i64) -> Option<&Entry<R>> {
        usize::try_from(offset - self.log_start_offset()).ok().and_then(|i| self.log.get(i))
    }

    /// Replaces the committed entries below `end_offset` with a snapshot of `records` (the
    /// caller's compaction of what those entries built); refused past the high watermark or
    /// before the current snapshot.
    pub fn compact(&mut self, end_offset: i64, records: Vec<R>) -> bool {
        if end_offset > self.high_watermark || end_offset <= self.log_start_offset() {
            return false;
        }
        let Some(last) = self.entry(end_offset - 1).map(|e| e.epoch) else { return false };
        let dropped = (end_offset - self.log_start_offset()) as usize;
        self.log.drain(..dropped);
        self.snapshot = Some(Snapshot { end_offset, last_epoch: last, records });
        true
    }

    /// How far the log is committed: entries below it are on a majority and never lost.
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// The leader this voter knows of in its epoch.
    pub fn leader(&self) -> Option<VoterId> {
        self.state.leader
    }

    /// The latest epoch this voter has seen.
    pub fn epoch(&self) -> i32 {
        self.state.epoch
    }

    /// Its role, by Kafka's name for it (lowercase): `unattached`, `prospective`, `candidate`,
    /// `leader`, `follower` or `resigned`.
    pub fn role_name(&self) -> &'static str {
        match self.role {
            Role::Unattached => "unattached",
            Role::Prospective { .. } => "prospective",
            Role::Candidate { .. } => "candidate",
            Role::Leader { .. } => "leader",
            Role::Follower { .. } => "follower",
            Role::Resigned { .. } => "resigned",
        }
    }

    /// Whether this voter leads its epoch.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The leader appends `records` as one atomic batch (answering the Fetches it holds);
    /// returns the batch's end offset, or `None` when this voter does not lead or there is
    /// nothing to append.
    pub fn propose(&mut self, now_ms: i64, records: Vec<R>, out: &mut QuorumOutbox<R>) -> Option<i64> {
        if !self.is_leader() || records.is_empty() {
            return None;
        }
        let (epoch, last) = (self.state.epoch, records.len() - 1);
        let entries = records.into_iter().enumerate();
        self.log.extend(entries.map(|(i, record)| Entry {
            epoch,
            record: Some(record),
            ends_batch: i == last,
        }));
        self.advance_high_watermark(now_ms);
        self.answer_parked(|_| true, out);
        Some(self.end_offset())
    }

    /// `end` moved on to the end of the batch the entry before it belongs to (at most the log's
    /// end): where a read that wants at least up to `end` may stop.
    pub fn batch_end(&self, end: i64) -> i64 {
        let mut end = end.max(self.log_start_offset());
        while end < self.end_offset() && self.entry(end - 1).is_some_and(|e| !e.ends_batch) {
            end += 1;
        }
        end
    }

    /// The leader steps down (a controlled shutdown): the other voters are told to elect
    /// another at once, the most caught-up first.
    pub fn resign(&mut self, now_ms: i64, out: &mut QuorumOutbox<R>) {
        let Role::Leader { voters, .. } = &self.role else { return };
        let mut preferred: Vec<(i64, VoterId)> = voters.iter().map(|(&v, p)| (p.offset, v)).collect();
        preferred.sort_by(|a, b| b.cmp(a));
        let preferred: Vec<VoterId> = preferred.into_iter().map(|(_, v)| v).collect();
        self.end_epoch(&preferred, out);
        self.role = Role::Resigned { preferred: Some(preferred), announced_ms: now_ms };
        self.state.leader = None;
    }

    /// A voter without a leader stands for election now rather than at its election deadline:
    /// a host starting every voter at once (all logs equal, a network that loses nothing)
    /// need not wait a timeout for its first leader. Does nothing to a leader or a follower.
    pub fn campaign(&mut self, now_ms: i64, rng: &mut Rng, out: &mut QuorumOutbox<R>) {
        if matches!(self.role, Role::Unattached | Role::Resigned { .. }) {
            self.prospect(now_ms, rng, out);
        }
    }

    /// The epoch of the log's last entry (or its snapshot's): how up to date it is, with its
    /// end offset, when voters compare logs.
    pub fn last_entry_epoch(&self) -> i32 {
        self.last_epoch()
    }

    /// Tells the other voters this leader's epoch is over.
    fn end_epoch(&self, preferred: &[VoterId], out: &mut QuorumOutbox<R>) {
        let (epoch, leader) = (self.state.epoch, self.id);
        for &voter in self.others() {
            out.push((voter, QuorumMessage::EndQuorumEpoch { epoch, leader, preferred: preferred.to_vec() }));
        }
    }

    /// Timers: a follower fetches (and stands for election past its fetch timeout), a voter
    /// without a leader stands at its election deadline, a leader not fetched from by a
    /// majority within the fetch timeout resigns.
    pub fn tick(&mut self, now_ms: i64, rng: &mut Rng, out: &mut QuorumOutbox<R>) {
        match &self.role {
            Role::Leader { .. } => self.lead(now_ms, rng, out),
            Role::Follower { leader, fetch_sent_ms } => {
                let leader = *leader;
                if now_ms >= self.deadline_ms {
                    self.prospect(now_ms, rng, out);
                } else if fetch_sent_ms
                    .is_none_or(|sent| now_ms - sent >= QUORUM_FETCH_MAX_WAIT_MS + QUORUM_FETCH_RETRY_MS)
                {
                    self.fetch(now_ms, leader, out);
                }
            }
            Role::Candidate { ballot } | Role::Prospective { ballot, .. } => {
                let pre_vote = matches!(self.role, Role::Prospective { .. });
                if now_ms >= self.deadline_ms {
                    self.prospect(now_ms, rng, out);
                } else if now_ms - ballot.asked_ms >= QUORUM_VOTE_RETRY_MS {
                    self.ask_votes(now_ms, pre_vote, out);
                }
            }
            Role::Resigned { preferred: Some(preferred), announced_ms }
                if now_ms < self.deadline_ms && now_ms - announced_ms >= QUORUM_BEGIN_EPOCH_RETRY_MS =>
            {
                let preferred = preferred.clone();
                self.end_epoch(&preferred, out);
                self.role = Role::Resigned { preferred: Some(preferred), announced_ms: now_ms };
            }
            Role::Unattached | Role::Resigned { .. } => {
                if now_ms >= self.deadline_ms {
                    self.prospect(now_ms, rng, out);
                }
            }
        }
    }

    /// The leader's timers: it announces itself again to voters that have not fetched in its
    /// epoch, and resigns when a majority has not fetched within the fetch timeout (it may be
    /// cut off from them: another leader can be elected on their side).
    fn lead(&mut self, now_ms: i64, rng: &mut Rng, out: &mut QuorumOutbox<R>) {
        self.answer_parked(|since| now_ms - since >= QUORUM_FETCH_MAX_WAIT_MS, out);
        let (epoch, leader, majority) = (self.state.epoch, self.id, self.majority());
        let Role::Leader { voters, .. } = &mut self.role else { return };
        for (&voter, progress) in voters.iter_mut() {
            if progress.fetched_ms.is_none() && now_ms - progress.announced_ms >= QUORUM_BEGIN_EPOCH_RETRY_MS
            {
                progress.announced_ms = now_ms;
                out.push((voter, QuorumMessage::BeginQuorumEpoch { epoch, leader }));
            }
        }
        let heard = voters
            .values()
            .filter(|p| p.fetched_ms.is_some_and(|at| now_ms - at < QUORUM_FETCH_TIMEOUT_MS))
            .count();
        if heard + 1 >= majority {
            self.deadline_ms = now_ms + QUORUM_FETCH_TIMEOUT_MS;
        } else if now_ms >= self.deadline_ms {
            self.role = Role::Resigned { preferred: None, announced_ms: now_ms };
            self.state.leader = None;
            self.deadline_ms = now_ms + self.election_wait(rng);
        }
    }

    /// Handles one message from voter `from`.
    pub fn handle(
        &mut self,
        now_ms: i64,
        from: VoterId,
        message: QuorumMessage<R>,
        rng: &mut Rng,
        out: &mut QuorumOutbox<R>,
    ) {
        if !self.voters.contains(&from) {
            return;
        }
        match message {
            QuorumMessage::Vote { epoch, last_epoch, end_offset, pre_vote: true, .. } => {
                // Would it vote? Only with no leader heard from lately, for a later epoch and a
                // log at least as long; nothing changes either way.
                let leader_alive = self.is_leader()
                    || matches!(self.role, Role::Follower { .. }) && now_ms < self.deadline_ms;
                let log_ok = self.log_as_long(last_epoch, end_offset);
                let granted = !leader_alive && epoch > self.state.epoch && log_ok;
                let (epoch, leader) = (self.state.epoch, self.state.leader);
                out.push((from, QuorumMessage::VoteResponse { epoch, granted, pre_vote: true, leader }));
            }
            QuorumMessage::Vote { epoch, candidate, last_epoch, end_offset, pre_vote: false } => {
                self.observe_epoch(now_ms, epoch, None, rng);
                let granted = self.grant(epoch, candidate, last_epoch, end_offset);
                if granted {
                    self.state.voted_for = Some(candidate);
                    self.deadline_ms = now_ms + self.election_wait(rng);
                }
                let (epoch, leader) = (self.state.epoch, self.state.leader);
                out.push((from, QuorumMessage::VoteResponse { epoch, granted, pre_vote: false, leader }));
            }
            QuorumMessage::VoteResponse { epoch, granted, pre_vote, leader } => {
                // The leader a prospective voter stopped hearing from is not followed again on
                // another voter's word (that voter may not have timed out yet).
                let lost = matches!(self.role, Role::Prospective { lost: Some(l), .. } if leader == Some(l));
                let leader = if lost && epoch == self.state.epoch { None } else { leader };
                self.observe_epoch(now_ms, epoch, leader, rng);
                self.counted(now_ms, from, epoch, granted, pre_vote, rng, out);
            }
            QuorumMessage::BeginQuorumEpoch { epoch, leader } => {
                self.observe_epoch(now_ms, epoch, Some(leader), rng);
                // A new follower fetches at once (the leader commits nothing until a majority has).
                if let Role::Follower { leader, fetch_sent_ms: None } = self.role {
                    self.fetch(now_ms, leader, out);
                }
            }
            QuorumMessage::EndQuorumEpoch { epoch, leader, preferred } => {
                if epoch == self.state.epoch && self.state.leader == Some(leader) && !self.is_leader() {
                    // Elect another now; the most caught-up stand first.
                    let rank = preferred.iter().position(|&v| v == self.id).unwrap_or(preferred.len());
                    self.resigned = Some((epoch, leader));
                    self.role = Role::Unattached;
                    self.state.leader = None;
                    self.deadline_ms = now_ms + rank as i64 * (QUORUM_ELECTION_BACKOFF_MAX_MS / 4).max(1);
                }
            }
            QuorumMessage::Fetch { epoch, fetch_offset, last_epoch } => {
                self.observe_epoch(now_ms, epoch, None, rng);
                let moved = self.high_watermark;
                if let Some(response) = self.answer_fetch(now_ms, from, epoch, fetch_offset, last_epoch) {
                    out.push((from, response));
                }
                if self.high_watermark > moved {
                    // The others learn the new high watermark now, not at their next Fetch.
                    self.answer_parked(|_| true, out);
                }
            }
            QuorumMessage::FetchResponse { epoch, leader, high_watermark, result } => {
                self.observe_epoch(now_ms, epoch, leader, rng);
                self.fetched(now_ms, from, epoch, high_watermark, result, out);
            }
        }
    }

    fn others(&self) -> impl Iterator<Item = &VoterId> {
        self.voters.iter().filter(move |&&v| v != self.id)
    }

    fn majority(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    /// The election timeout with its random part (so voters rarely stand at once).
    fn election_wait(&self, rng: &mut Rng) -> i64 {
        QUORUM_ELECTION_TIMEOUT_MS + (rng.next_u64() % QUORUM_ELECTION_TIMEOUT_MS as u64) as i64
    }

    fn last_epoch(&self) -> i32 {
        self.log.last().map(|e| e.epoch).or(self.snapshot.as_ref().map(|s| s.last_epoch)).unwrap_or(0)
    }

    /// A message of a later epoch moves this voter to it (unattached, or following `leader`);
    /// a known leader of the current epoch is followed.
    fn observe_epoch(&mut self, now_ms: i64, epoch: i32, leader: Option<VoterId>, rng: &mut Rng) {
        if epoch > self.state.epoch {
            self.state = QuorumState { epoch, voted_for: None, leader: None };
            // Only a leader stepping down starts a new timer: a voter keeps its own, so a
            // candidate that cannot win (its log is behind) does not hold back, election after
            // election, the ones that can (Raft resets a timer only for a vote given or a leader
            // heard from).
            if matches!(self.role, Role::Leader { .. }) {
                self.deadline_ms = now_ms + self.election_wait(rng);
            }
            self.role = Role::Unattached;
        }
        if epoch == self.state.epoch
            && let Some(leader) = leader.filter(|&l| l != self.id)
            && self.resigned != Some((epoch, leader))
            && !matches!(self.role, Role::Follower { .. })
        {
            self.state.leader = Some(leader);
            self.role = Role::Follower { leader, fetch_sent_ms: None };
            self.deadline_ms = now_ms + QUORUM_FETCH_TIMEOUT_MS;
        }
    }

    /// Whether to vote for `candidate` in `epoch`: the epoch is this voter's, it has not voted
    /// for another in it nor knows a leader, and the candidate's log goes at least as far
    /// (by the epoch of its last entry, then its length).
    fn grant(&self, epoch: i32, candidate: VoterId, last_epoch: i32, end_offset: i64) -> bool {
        epoch == self.state.epoch
            && self.state.leader.is_none()
            && self.state.voted_for.is_none_or(|v| v == candidate)
            && self.log_as_long(last_epoch, end_offset)
    }

    /// Whether a candidate's log goes at least as far as this voter's: by the epoch of its last
    /// entry, then by its length (Raft's election restriction).
    fn log_as_long(&self, last_epoch: i32, end_offset: i64) -> bool {
        self.planted_bug == Some(PlantedQuorumBug::VoteWithoutLogCheck)
            || (last_epoch, end_offset) >= (self.last_epoch(), self.end_offset())
    }

    /// A vote (or pre-vote) for this voter counted; a majority makes a prospective voter stand,
    /// and a candidate lead.
    #[allow(clippy::too_many_arguments)]
    fn counted(
        &mut self,
        now_ms: i64,
        from: VoterId,
        epoch: i32,
        granted: bool,
        pre_vote: bool,
        rng: &mut Rng,
        out: &mut QuorumOutbox<R>,
    ) {
        let (majority, current) = (self.majority(), epoch == self.state.epoch);
        let ballot = match &mut self.role {
            Role::Prospective { ballot, .. } if pre_vote => ballot,
            Role::Candidate { ballot } if !pre_vote && current => ballot,
            _ => return,
        };
        ballot.answered.insert(from);
        if granted {
            ballot.granted.insert(from);
        }
        if ballot.granted.len() < majority {
            return;
        }
        if pre_vote {
            self.stand(now_ms, rng, out);
        } else {
            self.become_leader(now_ms, out);
        }
    }

    /// Asks the others whether they would vote for it in the next epoch (KIP-996), its own
    /// epoch unchanged; one voter alone stands at once.
    fn prospect(&mut self, now_ms: i64, rng: &mut Rng, out: &mut QuorumOutbox<R>) {
        if self.majority() == 1 {
            self.stand(now_ms, rng, out);
            return;
        }
        let lost = match self.role {
            Role::Follower { leader, .. } => Some(leader),
            _ => None,
        };
        self.role = Role::Prospective { ballot: Ballot::new(self.id, now_ms), lost };
        self.state.leader = None;
        self.deadline_ms = now_ms
            + self.election_wait(rng)
            + (rng.next_u64() % QUORUM_ELECTION_BACKOFF_MAX_MS as u64) as i64;
        self.ask_votes(now_ms, true, out);
    }

    /// Asks for votes (or pre-votes) the voters that have not answered this ballot yet.
    fn ask_votes(&mut self, now_ms: i64, pre_vote: bool, out: &mut QuorumOutbox<R>) {
        let epoch = if pre_vote { self.state.epoch + 1 } else { self.state.epoch };
        let (candidate, last_epoch, end_offset) = (self.id, self.last_epoch(), self.end_offset());
        let voters: Vec<VoterId> = self.others().copied().collect();
        let (Role::Prospective { ballot, .. } | Role::Candidate { ballot }) = &mut self.role else { return };
        ballot.asked_ms = now_ms;
        for voter in voters.into_iter().filter(|v| !ballot.answered.contains(v)) {
            out.push((voter, QuorumMessage::Vote { epoch, candidate, last_epoch, end_offset, pre_vote }));
        }
    }

    /// Stands for election in the next epoch, voting for itself.
    fn stand(&mut self, now_ms: i64, rng: &mut Rng, out: &mut QuorumOutbox<R>) {
        self.state = QuorumState { epoch: self.state.epoch + 1, voted_for: Some(self.id), leader: None };
        self.role = Role::Candidate { ballot: Ballot::new(self.id, now_ms) };
        self.deadline_ms = now_ms
            + self.election_wait(rng)
            + (rng.next_u64() % QUORUM_ELECTION_BACKOFF_MAX_MS as u64) as i64;
        if self.majority() == 1 {
            self.become_leader(now_ms, out);
            return;
        }
        self.ask_votes(now_ms, false, out);
    }

    /// Won the election: appends the LeaderChange record and announces itself.
    fn become_leader(&mut self, now_ms: i64, out: &mut QuorumOutbox<R>) {
        let epoch = self.state.epoch;
        let epoch_start = self.end_offset();
        self.log.push(Entry::single(epoch, None));
        self.state.leader = Some(self.id);
        let progress = Progress { offset: 0, fetched_ms: None, announced_ms: now_ms };
        let voters = self.others().map(|&v| (v, progress)).collect();
        self.role = Role::Leader { voters, epoch_start, parked: BTreeMap::new() };
        self.deadline_ms = now_ms + QUORUM_FETCH_TIMEOUT_MS;
        for &voter in self.others() {
            out.push((voter, QuorumMessage::BeginQuorumEpoch { epoch, leader: self.id }));
        }
        self.advance_high_watermark(now_ms);
    }

    /// The offset after the last entry of `epoch` or earlier, and the last such epoch this log
    /// has (`(0, 0)` when it has none); `None` when that point lies inside the snapshot.
    fn end_of_epoch(&self, epoch: i32) -> Option<(i32, i64)> {
        let end = self.log.partition_point(|e| e.epoch <= epoch);
        if end > 0 {
            return Some((self.log[end - 1].epoch, self.log_start_offset() + end as i64));
        }
        match &self.snapshot {
            None => Some((0, 0)),
            Some(snapshot) if snapshot.last_epoch <= epoch => {
                Some((snapshot.last_epoch, snapshot.end_offset))
            }
            Some(_) => None,
        }
    }

    /// The leader's answer to a Fetch: entries from its offset, a divergence, or not the
    /// leader; `None` when the follower is caught up and the Fetch is held (`parked`).
    fn answer_fetch(
        &mut self,
        now_ms: i64,
        from: VoterId,
        epoch: i32,
        fetch_offset: i64,
        last_epoch: i32,
    ) -> Option<QuorumMessage<R>> {
        let respond = |node: &Self, result| QuorumMessage::FetchResponse {
            epoch: node.state.epoch,
            leader: node.state.leader,
            high_watermark: node.high_watermark,
            result,
        };
        if epoch != self.state.epoch || !self.is_leader() {
            return Some(respond(self, FetchResult::NotLeader));
        }
        let known = self.end_of_epoch(last_epoch);
        if let (Some(snapshot), true) =
            (&self.snapshot, fetch_offset < self.log_start_offset() || known.is_none())
        {
            // What it needs is in the snapshot: it starts over from there.
            return Some(respond(self, FetchResult::Snapshot(snapshot.clone())));
        }
        let (known_epoch, end_offset) = known.unwrap_or((0, 0));
        if fetch_offset > 0 && (known_epoch != last_epoch || end_offset < fetch_offset) {
            return Some(respond(self, FetchResult::Diverging { epoch: known_epoch, end_offset }));
        }
        let fetch_offset = fetch_offset.clamp(0, self.end_offset());
        let caught_up = fetch_offset == self.end_offset();
        if let Role::Leader { voters, parked, .. } = &mut self.role
            && let Some(progress) = voters.get_mut(&from)
        {
            progress.offset = fetch_offset;
            progress.fetched_ms = Some(now_ms);
            parked.remove(&from);
            if caught_up {
                parked.insert(from, now_ms);
            }
        }
        self.advance_high_watermark(now_ms);
        if caught_up {
            return None;
        }
        Some(self.entries_for(fetch_offset))
    }

    /// A FetchResponse with the entries from `offset` on (at most `MAX_QUORUM_FETCH_ENTRIES`).
    fn entries_for(&self, offset: i64) -> QuorumMessage<R> {
        let start = self.log_start_offset();
        let result = match &self.snapshot {
            Some(snapshot) if offset < start => FetchResult::Snapshot(snapshot.clone()),
            _ => {
                let from_index = ((offset - start).max(0) as usize).min(self.log.len());
                let wanted = start + (from_index + MAX_QUORUM_FETCH_ENTRIES).min(self.log.len()) as i64;
                let until = (self.batch_end(wanted) - start) as usize;
                let entries = self.log[from_index..until].to_vec();
                FetchResult::Entries { from: start + from_index as i64, entries }
            }
        };
        QuorumMessage::FetchResponse {
            epoch: self.state.epoch,
            leader: self.state.leader,
            high_watermark: self.high_watermark,
            result,
        }
    }

    /// Answers the held Fetches whose hold time `due` says is up (with what is new since, or
    /// nothing but the high watermark).
    fn answer_parked(&mut self, due: impl Fn(i64) -> bool, out: &mut QuorumOutbox<R>) {
        let Role::Leader { voters, parked, .. } = &mut self.role else { return };
        let answered: Vec<(VoterId, i64)> = parked
            .iter()
            .filter(|&(_, &since)| due(since))
            .filter_map(|(&voter, _)| voters.get(&voter).map(|p| (voter, p.offset)))
            .collect();
        for (voter, _) in &answered {
            parked.remove(voter);
        }
        for (voter, offset) in answered {
            out.push((voter, self.entries_for(offset)));
        }
    }

    /// The leader's high watermark: the offset a majority holds, once that includes an entry of
    /// the leader's own epoch (an earlier leader's entries commit only under a later one's).
    fn advance_high_watermark(&mut self, _now_ms: i64) {
        let Role::Leader { voters, epoch_start, .. } = &self.role else { return };
        let mut held: Vec<i64> = voters.values().map(|p| p.offset).collect();
        held.push(self.end_offset());
        held.sort_unstable_by(|a, b| b.cmp(a));
        let majority_holds = held[self.majority() - 1];
        if majority_holds > *epoch_start && majority_holds > self.high_watermark {
            self.high_watermark = majority_holds;
        }
    }

    fn fetch(&mut self, now_ms: i64, leader: VoterId, out: &mut QuorumOutbox<R>) {
        let message = QuorumMessage::Fetch {
            epoch: self.state.epoch,
            fetch_offset: self.end_offset(),
            last_epoch: self.last_epoch(),
        };
        out.push((leader, message));
        self.role = Role::Follower { leader, fetch_sent_ms: Some(now_ms) };
    }

    /// A Fetch answered: entries appended, a diverging log truncated, the high watermark taken
    /// (never past what this voter holds). The next Fetch goes at once: it tells the leader what
    /// this voter now holds, and a caught-up one is held by the leader until there is more.
    fn fetched(
        &mut self,
        now_ms: i64,
        from: VoterId,
        epoch: i32,
        high_watermark: i64,
        result: FetchResult<R>,
        out: &mut QuorumOutbox<R>,
    ) {
        let following = matches!(self.role, Role::Follower { leader, .. } if leader == from);
        if epoch != self.state.epoch || !following {
            return;
        }
        match result {
            FetchResult::Entries { from: at, entries } => {
                if at != self.end_offset() {
                    return;
                }
                self.log.extend(entries);
            }
            FetchResult::Diverging { epoch: diverged, end_offset } => {
                // Never below the snapshot: what it covers is committed, on every voter alike.
                let own_end = self.end_of_epoch(diverged).map_or(self.log_start_offset(), |(_, end)| end);
                let keep = end_offset.min(own_end).max(self.log_start_offset());
                self.log.truncate((keep - self.log_start_offset()) as usize);
            }
            FetchResult::Snapshot(snapshot) => {
                if snapshot.end_offset <= self.log_start_offset() {
                    return;
                }
                self.log.clear();
                self.high_watermark = self.high_watermark.max(snapshot.end_offset);
                self.snapshot = Some(snapshot);
            }
            FetchResult::NotLeader => return,
        }
        self.high_watermark = self.high_watermark.max(high_watermark.min(self.end_offset()));
        self.deadline_ms = now_ms + QUORUM_FETCH_TIMEOUT_MS;
        self.fetch(now_ms, from, out);
    }
}
