//! The controller quorum's consensus (`replication::quorum`, KIP-595) under a network that
//! delays, drops and reorders messages and cuts voters off, with voters crashing and restarting
//! over what they kept durable: at most one leader per epoch, and no committed entry ever lost
//! or changed; once everything heals, a leader commits again. Every voter compacts its committed
//! prefix into a snapshot (KIP-630) as it goes, so voters that fall behind are sent one. The
//! leader proposes atomic batches of one to three records: no voter's log, high watermark or
//! snapshot ever ends inside one. Seeds replay exactly.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use kite_shared::random::Rng;
use kite_shared::replication::quorum::{
    Entry, FetchResult, MAX_QUORUM_FETCH_ENTRIES, PlantedQuorumBug, QUORUM_ELECTION_BACKOFF_MAX_MS,
    QUORUM_ELECTION_TIMEOUT_MS, QUORUM_FETCH_TIMEOUT_MS, QuorumMessage, QuorumNode, QuorumOutbox,
    QuorumState, Snapshot, VoterId,
};

const TICK_MS: i64 = 10;
/// The leader appends a batch of records this often.
const PROPOSE_EVERY_MS: i64 = 20;
/// The most records of one proposed batch.
const MAX_BATCH_RECORDS: u64 = 3;
/// How long the faults last, then how long the healed quorum gets.
const FAULTS_MS: i64 = 10_000;
const HEAL_MS: i64 = 5_000;
/// A message takes 1 to this many ms.
const MAX_DELAY_MS: u64 = 20;
/// This share of messages is lost, in percent.
const DROP_PERCENT: u64 = 5;
/// A voter compacts its log once this many committed entries follow its snapshot.
const SNAPSHOT_EVERY_ENTRIES: i64 = 40;
/// Seeds of each quorum size (`KITE_QUORUM_SEEDS` asks for more).
const SEEDS: u64 = 200;

fn seeds() -> u64 {
    std::env::var("KITE_QUORUM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(SEEDS)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Crashed(VoterId),
    Isolated(VoterId),
}

/// What a crashed voter kept durable: its quorum state, snapshot and log.
type Kept = (QuorumState, Option<Snapshot<u64>>, Vec<Entry<u64>>);

/// What a voter keeps when it stops.
fn kept(node: &QuorumNode<u64>) -> Kept {
    (node.quorum_state(), node.snapshot().cloned(), node.log().to_vec())
}

struct World {
    now: i64,
    rng: Rng,
    voters: Vec<VoterId>,
    /// Each voter; `None` while it is crashed, with what it kept durable.
    nodes: BTreeMap<VoterId, Option<QuorumNode<u64>>>,
    kept: BTreeMap<VoterId, Kept>,
    network: BTreeMap<(i64, u64), (VoterId, VoterId, QuorumMessage<u64>)>,
    sequence: u64,
    fault: Option<Fault>,
    next_fault_ms: i64,
    next_value: u64,
    /// The leader of each epoch seen.
    leaders: BTreeMap<i32, VoterId>,
    /// Everything ever committed, in order: every voter's committed prefix must agree with it.
    committed: Vec<Entry<u64>>,
    violations: Vec<String>,
    bug: Option<PlantedQuorumBug>,
    /// Snapshots a leader sent a voter that needed what they replaced.
    snapshots_sent: u64,
}

impl World {
    fn new(seed: u64, count: i32) -> World {
        World::planted(seed, count, None)
    }

    fn planted(seed: u64, count: i32, bug: Option<PlantedQuorumBug>) -> World {
        let mut rng = Rng::from_seed(seed);
        let voters: Vec<VoterId> = (0..count).collect();
        let nodes = voters
            .iter()
            .map(|&id| {
                let mut node =
                    QuorumNode::start(id, &voters, QuorumState::default(), None, Vec::new(), 0, &mut rng);
                node.planted_bug = bug;
                (id, Some(node))
            })
            .collect();
        World {
            now: 0,
            rng,
            voters,
            nodes,
            kept: BTreeMap::new(),
            network: BTreeMap::new(),
            sequence: 0,
            fault: None,
            next_fault_ms: 1_000,
            next_value: 0,
            leaders: BTreeMap::new(),
            committed: Vec::new(),
            violations: Vec::new(),
            bug,
            snapshots_sent: 0,
        }
    }

    fn send(&mut self, from: VoterId, out: QuorumOutbox<u64>) {
        for (to, message) in out {
            if self.rng.next_u64() % 100 < DROP_PERCENT {
                continue;
            }
            let at = self.now + 1 + (self.rng.next_u64() % MAX_DELAY_MS) as i64;
            self.sequence += 1;
            self.network.insert((at, self.sequence), (from, to, message));
        }
    }

    fn cut(&self, a: VoterId, b: VoterId) -> bool {
        matches!(self.fault, Some(Fault::Isolated(v)) if v == a || v == b)
    }

    fn run(&mut self, until: i64, faults: bool) {
        while self.now < until {
            let next_tick = self.now + TICK_MS;
            while let Some((&(at, seq), _)) = self.network.iter().next() {
                if at > next_tick {
                    break;
                }
                let (from, to, message) = self.network.remove(&(at, seq)).expect("listed");
                self.now = self.now.max(at);
                if self.cut(from, to) {
                    continue;
                }
                let (mut out, now) = (Vec::new(), self.now);
                if let Some(Some(node)) = self.nodes.get_mut(&to) {
                    if matches!(
                        &message,
                        QuorumMessage::FetchResponse { result: FetchResult::Snapshot(_), .. }
                    ) {
                        self.snapshots_sent += 1;
                    }
                    node.handle(now, from, message, &mut self.rng, &mut out);
                }
                self.send(to, out);
                self.check();
            }
            self.now = next_tick;
            for id in self.voters.clone() {
                let (mut out, now) = (Vec::new(), self.now);
                if let Some(Some(node)) = self.nodes.get_mut(&id) {
                    node.tick(now, &mut self.rng, &mut out);
                    if self.now % PROPOSE_EVERY_MS == 0 && node.is_leader() {
                        let size = 1 + self.rng.next_u64() % MAX_BATCH_RECORDS;
                        node.propose(now, (self.next_value..self.next_value + size).collect(), &mut out);
                        self.next_value += size;
                    }
                }
                self.send(id, out);
            }
            self.check();
            self.compact();
            if faults {
                self.nemesis();
            }
        }
    }

    /// One fault at a time: a voter crashes (keeping its durable state) or is cut off, and comes
    /// back 0.3–1.8 s later.
    fn nemesis(&mut self) {
        if self.now < self.next_fault_ms {
            return;
        }
        self.next_fault_ms = self.now + 300 + (self.rng.next_u64() % 1_500) as i64;
        match self.fault.take() {
            Some(Fault::Crashed(id)) => self.restart(id),
            Some(Fault::Isolated(_)) => {}
            None => {
                let id = self.voters[(self.rng.next_u64() % self.voters.len() as u64) as usize];
                if self.rng.next_u64().is_multiple_of(2) {
                    let node = self.nodes.get_mut(&id).and_then(Option::take).expect("running");
                    self.kept.insert(id, kept(&node));
                    self.fault = Some(Fault::Crashed(id));
                } else {
                    self.fault = Some(Fault::Isolated(id));
                }
            }
        }
    }

    fn restart(&mut self, id: VoterId) {
        let (state, snapshot, log) = self.kept.remove(&id).expect("kept when it crashed");
        let mut node = QuorumNode::start(id, &self.voters, state, snapshot, log, self.now, &mut self.rng);
        node.planted_bug = self.bug;
        self.nodes.insert(id, Some(node));
    }

    fn heal(&mut self) {
        if let Some(Fault::Crashed(id)) = self.fault.take() {
            self.restart(id);
        }
    }

    /// At most one leader per epoch; every voter's committed prefix is the one committed so far
    /// (extended by the longest): its snapshot holds exactly the committed records below its
    /// end, and its entries above agree; its log, high watermark and snapshot end between
    /// batches.
    fn check(&mut self) {
        for (&id, node) in &self.nodes {
            let Some(node) = node else { continue };
            let inside = [("log end", node.end_offset()), ("high watermark", node.high_watermark())]
                .into_iter()
                .find(|&(_, offset)| node.batch_end(offset) != offset || !between_batches(node, offset));
            if let Some((what, offset)) = inside {
                self.violations.push(format!("voter {id}: its {what} {offset} is inside a batch"));
            }
            if node.is_leader() {
                let leader = *self.leaders.entry(node.epoch()).or_insert(id);
                if leader != id {
                    self.violations.push(format!("epoch {}: leaders {leader} and {id}", node.epoch()));
                }
            }
            let high_watermark = node.high_watermark();
            if high_watermark > node.end_offset() {
                let end = node.end_offset();
                self.violations
                    .push(format!("voter {id}: high watermark {high_watermark} past its log {end}"));
                continue;
            }
            if let Some(snapshot) = node.snapshot() {
                let covered = (snapshot.end_offset as usize).min(self.committed.len());
                let values: Vec<u64> = self.committed[..covered].iter().filter_map(|e| e.record).collect();
                if snapshot.end_offset as usize <= self.committed.len() && values != snapshot.records {
                    self.violations.push(format!("voter {id}: its snapshot differs from what was committed"));
                }
            }
            let agreed = (high_watermark as usize).min(self.committed.len());
            let from = node.log_start_offset() as usize;
            if let Some(at) = (from..agreed).find(|&i| node.entry(i as i64) != Some(&self.committed[i])) {
                self.violations.push(format!("voter {id}: committed entry {at} differs or was lost"));
            }
            for offset in self.committed.len() as i64..high_watermark {
                let Some(entry) = node.entry(offset) else { break };
                self.committed.push(entry.clone());
            }
        }
    }

    /// Each running voter compacts the committed entries after its snapshot once there are
    /// `SNAPSHOT_EVERY_ENTRIES` of them (the state of a log of numbers is the numbers).
    fn compact(&mut self) {
        for node in self.nodes.values_mut().flatten() {
            let (start, high_watermark) = (node.log_start_offset(), node.high_watermark());
            if high_watermark - start < SNAPSHOT_EVERY_ENTRIES {
                continue;
            }
            let mut records = node.snapshot().map(|s| s.records.clone()).unwrap_or_default();
            records.extend((start..high_watermark).filter_map(|o| node.entry(o).and_then(|e| e.record)));
            node.compact(high_watermark, records);
        }
    }

    fn leader(&self) -> Option<VoterId> {
        self.nodes.iter().find(|(_, n)| n.as_ref().is_some_and(QuorumNode::is_leader)).map(|(&id, _)| id)
    }
}

/// Whether `offset` falls between two batches of `node`'s log (or at its start).
fn between_batches(node: &QuorumNode<u64>, offset: i64) -> bool {
    offset <= node.log_start_offset() || node.entry(offset - 1).is_none_or(|e| e.ends_batch)
}

fn sweep(count: i32) -> (Vec<String>, u64) {
    sweep_with(count, 0..seeds(), None)
}

/// The failures of each seed, and how many snapshots were sent to voters that fell behind.
fn sweep_with(count: i32, seeds: std::ops::Range<u64>, bug: Option<PlantedQuorumBug>) -> (Vec<String>, u64) {
    let (mut failures, mut snapshots) = (Vec::new(), 0);
    for seed in seeds {
        let mut world = World::planted(seed, count, bug);
        world.run(FAULTS_MS, true);
        world.heal();
        let committed_before = world.committed.len();
        world.run(FAULTS_MS + HEAL_MS, false);
        if world.leader().is_none() {
            world.violations.push("no leader after healing".into());
        }
        if world.committed.len() <= committed_before {
            world.violations.push(format!("nothing committed after healing ({committed_before} before)"));
        }
        if let Some(first) = world.violations.first() {
            failures.push(format!(
                "{count} voters, seed {seed}: {first} ({} violations)",
                world.violations.len()
            ));
        }
        snapshots += world.snapshots_sent;
    }
    (failures, snapshots)
}

#[test]
fn three_voters_elect_one_leader_per_epoch_and_never_lose_a_commit() {
    let (failures, snapshots) = sweep(3);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(snapshots > 0, "no voter fell behind a snapshot: the sweep did not test them");
}

#[test]
fn five_voters_elect_one_leader_per_epoch_and_never_lose_a_commit() {
    let (failures, _) = sweep(5);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn one_voter_leads_at_once_and_commits_alone() {
    let mut world = World::new(1, 1);
    world.run(3_000, false);
    assert_eq!(world.leader(), Some(0));
    assert!(world.committed.len() > 50, "{} committed", world.committed.len());
}

/// Seeds of the resignation test.
const RESIGN_SEEDS: u64 = 40;

/// A leader that resigns (a controlled shutdown) is replaced, usually well within the fetch
/// timeout the followers would otherwise wait out: EndQuorumEpoch (sent again until another
/// epoch begins) starts the election at once. Not always: with messages lost, the most
/// caught-up voter may need a second ballot.
#[test]
fn a_resigning_leader_is_replaced_quickly() {
    let mut took = Vec::new();
    for seed in 1..=RESIGN_SEEDS {
        let mut world = World::new(seed, 3);
        world.run(3_000, false);
        let old = world.leader().expect("a leader");
        let epoch = world.nodes[&old].as_ref().unwrap().epoch();
        let (mut out, now) = (Vec::new(), world.now);
        world.nodes.get_mut(&old).unwrap().as_mut().unwrap().resign(now, &mut out);
        world.send(old, out);
        let resigned_at = world.now;
        while world.leader().is_none_or(|l| world.nodes[&l].as_ref().unwrap().epoch() == epoch) {
            world.run(world.now + TICK_MS, false);
            assert!(world.now - resigned_at < 10_000, "seed {seed}: no new leader within 10 s");
        }
        assert!(world.violations.is_empty(), "seed {seed}: {:?}", world.violations);
        took.push(world.now - resigned_at);
    }
    took.sort_unstable();
    let median = took[took.len() / 2];
    println!("replaced after a resignation (simulated ms): median {median}, max {}", took[took.len() - 1]);
    assert!(median < QUORUM_FETCH_TIMEOUT_MS, "median {median} ms: {took:?}");
}

/// Votes given without Raft's election restriction elect leaders that lack committed entries:
/// the checker sees committed entries lost or changed.
#[test]
fn a_planted_vote_without_the_log_check_is_caught_losing_commits() {
    let (failures, _) = sweep_with(3, 0..50, Some(PlantedQuorumBug::VoteWithoutLogCheck));
    let lost =
        failures.iter().filter(|f| f.contains("differs or was lost") || f.contains("past its log")).count();
    assert!(lost > 0, "no commit lost in 50 seeds: {failures:?}");
}

/// The leader crashes: the followers' fetch timeout, a pre-vote and a vote later, another voter
/// leads and commits again, within the fetch timeout plus two election timeouts with their
/// random parts and a backoff (a bound, not a speed target: docs/benchmarks.md has the median).
#[test]
fn a_crashed_leader_is_replaced_and_commits_resume() {
    const BOUND_MS: i64 =
        QUORUM_FETCH_TIMEOUT_MS + 4 * QUORUM_ELECTION_TIMEOUT_MS + QUORUM_ELECTION_BACKOFF_MAX_MS;
    let mut took = Vec::new();
    for seed in 0..100 {
        let mut world = World::new(seed, 3);
        world.run(3_000, false);
        let old = world.leader().expect("a leader after 3 s");
        let node = world.nodes.get_mut(&old).and_then(Option::take).expect("running");
        world.kept.insert(old, kept(&node));
        let (crashed_at, committed) = (world.now, world.committed.len());
        while world.leader().is_none() || world.committed.len() <= committed {
            world.run(world.now + TICK_MS, false);
            assert!(
                world.now - crashed_at <= BOUND_MS,
                "seed {seed}: no new leader committing within {BOUND_MS} ms"
            );
        }
        assert!(world.violations.is_empty(), "seed {seed}: {:?}", world.violations);
        took.push(world.now - crashed_at);
    }
    took.sort_unstable();
    println!("failover (simulated ms): median {}, p90 {}, max {}", took[50], took[90], took[99]);
}

/// A voter whose log holds an entry of a later epoch than its quorum state (a write that failed
/// between the two) starts in its log's epoch, as Kafka's QuorumState does, so it next asks for
/// votes in an epoch the others have not passed.
#[test]
fn a_voter_whose_log_outran_its_quorum_state_starts_in_the_logs_epoch() {
    let state = QuorumState { epoch: 2, voted_for: Some(1), leader: None };
    let log = vec![Entry::single(1, Some(1u64)), Entry::single(3, Some(2))];
    let node = QuorumNode::start(0, &[0, 1, 2], state, None, log, 0, &mut Rng::from_seed(1));
    assert_eq!((node.epoch(), node.quorum_state().voted_for), (3, None));
}

/// A Fetch ends where a batch does: one that would stop at `MAX_QUORUM_FETCH_ENTRIES` inside a
/// batch carries the whole batch, so a follower never holds half a decision.
#[test]
fn a_fetch_carries_a_batch_that_crosses_its_limit_whole() {
    let mut world = World::new(1, 3);
    world.run(3_000, false);
    let leader = world.leader().expect("a leader after 3 s");
    let node = world.nodes.get_mut(&leader).and_then(Option::as_mut).expect("running");
    let (fetch_offset, last_epoch) = (node.end_offset(), node.epoch());
    let (mut out, now) = (Vec::new(), world.now);
    for value in 0..MAX_QUORUM_FETCH_ENTRIES as u64 - 2 {
        node.propose(now, vec![value], &mut out);
    }
    node.propose(now, (0..5).collect(), &mut out);
    let follower = world.voters.iter().copied().find(|&v| v != leader).expect("three voters");
    let fetch = QuorumMessage::Fetch { epoch: node.epoch(), fetch_offset, last_epoch };
    let mut answer = Vec::new();
    node.handle(now, follower, fetch, &mut world.rng, &mut answer);
    let carried = answer.iter().find_map(|(_, m)| match m {
        QuorumMessage::FetchResponse { result: FetchResult::Entries { entries, .. }, .. } => Some(entries),
        _ => None,
    });
    let entries = carried.expect("entries for the follower");
    assert_eq!(entries.len(), MAX_QUORUM_FETCH_ENTRIES + 3, "the batch across the limit comes whole");
    assert!(entries.last().is_some_and(|e| e.ends_batch));
}
