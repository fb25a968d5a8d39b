//! Kafka's sticky assignors, `StickyAssignor` ("sticky") and `CooperativeStickyAssignor`
//! ("cooperative-sticky"), as `AbstractStickyAssignor` runs them in Kafka 3.8+ without racks:
//! `constrained` when every member subscribes to the same topics, `general` otherwise. Where
//! Kafka walks a Java `HashMap`, members go in member-id order; where it picks any element of a
//! `HashSet`, the smallest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::subscription::{Assignment, Subscription};

type Tp = (String, i32);

/// Kafka's `DEFAULT_GENERATION`: the member does not know its generation.
const UNKNOWN_GENERATION: i32 = -1;

/// Kafka's StickyAssignor ("sticky").
pub fn sticky(partitions_per_topic: &BTreeMap<String, i32>, members: &[Subscription]) -> Assignment {
    assign(partitions_per_topic, members).0
}

/// Kafka's CooperativeStickyAssignor ("cooperative-sticky"): the sticky assignment, minus every
/// partition that a different member owned in the previous generation (that owner must revoke it
/// first; it moves in the follow-up rebalance).
pub fn cooperative_sticky(
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &[Subscription],
) -> Assignment {
    let (mut assignment, transferring) = assign(partitions_per_topic, members);
    // The general path does not track moves: Kafka diffs the result against the raw claims.
    let transferring = transferring.unwrap_or_else(|| moved_from_claims(members, &assignment));
    for (tp, member) in transferring {
        if let Some(list) = assignment.get_mut(&member) {
            list.retain(|p| *p != tp);
        }
    }
    assignment
}

/// The assignment, and (constrained path only) each partition handed to a member other than the
/// one that owned it.
fn assign(
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &[Subscription],
) -> (Assignment, Option<BTreeMap<Tp, String>>) {
    let mut sorted: Vec<&Subscription> = members.iter().collect();
    sorted.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    let Some(first) = sorted.first() else { return (Assignment::new(), Some(BTreeMap::new())) };
    // Kafka's `partitionsPerTopic`: subscribed topics that have partitions.
    let subscribed: BTreeSet<&String> = sorted.iter().flat_map(|m| &m.topics).collect();
    let topics: BTreeMap<String, i32> = partitions_per_topic
        .iter()
        .filter(|(t, n)| **n > 0 && subscribed.contains(t))
        .map(|(t, n)| (t.clone(), *n))
        .collect();
    let (owned, contested) = resolve_claims(&topics, &sorted);
    // Kafka's quirk of treating an empty first subscription as "not seen yet" is not copied.
    let first_topics: BTreeSet<&String> = first.topics.iter().collect();
    let mut assignment = if sorted.iter().all(|m| m.topics.iter().collect::<BTreeSet<_>>() == first_topics) {
        let (assignment, transferring) = constrained(&topics, owned, &contested);
        (assignment, Some(transferring))
    } else {
        (General::new(&topics, &sorted, owned).build(&sorted), None)
    };
    assignment.0.values_mut().for_each(|list| list.sort());
    assignment
}

/// Kafka's `allSubscriptionsEqual` bookkeeping: each member's claims on live partitions; of two
/// claims the higher generation's wins, and a tie leaves the partition to neither (`contested`).
/// Claims naming partitions beyond a topic's count are dropped too (Kafka only checks the topic).
fn resolve_claims(
    topics: &BTreeMap<String, i32>,
    members: &[&Subscription],
) -> (BTreeMap<String, Vec<Tp>>, BTreeSet<Tp>) {
    let mut owned: BTreeMap<String, Vec<Tp>> =
        members.iter().map(|m| (m.member_id.clone(), Vec::new())).collect();
    let mut claimant: BTreeMap<Tp, (String, i32)> = BTreeMap::new();
    let mut contested = BTreeSet::new();
    for m in members {
        let mut seen = BTreeSet::new();
        let live = |tp: &&Tp| topics.get(&tp.0).is_some_and(|n| (0..*n).contains(&tp.1));
        for tp in m.owned_partitions.iter().filter(live).filter(|tp| seen.insert(*tp)) {
            let keep = match claimant.get(tp) {
                None => true,
                Some((other, generation)) if m.generation >= *generation => {
                    owned.get_mut(other).expect("claimants are members").retain(|p| p != tp);
                    if m.generation == *generation {
                        contested.insert(tp.clone());
                    }
                    m.generation > *generation
                }
                Some(_) => continue,
            };
            claimant.insert(tp.clone(), (m.member_id.clone(), m.generation));
            if keep {
                owned.get_mut(&m.member_id).expect("every member is listed").push(tp.clone());
            }
        }
    }
    (owned, contested)
}

/// Kafka's `ConstrainedAssignmentBuilder`: everyone keeps up to its quota of what it owned (lowest
/// partition numbers first), then the rest go round-robin to members under `min_quota`, then one
/// each to members at `min_quota` until `extra` members hold `max_quota`.
fn constrained(
    topics: &BTreeMap<String, i32>,
    owned: BTreeMap<String, Vec<Tp>>,
    contested: &BTreeSet<Tp>,
) -> (Assignment, BTreeMap<Tp, String>) {
    let all: Vec<Tp> = topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
    let (min_quota, extra) = (all.len() / owned.len(), all.len() % owned.len());
    let max_quota = min_quota + usize::from(extra > 0);
    let (mut over_min, mut under_min, mut at_min) = (0, Vec::new(), VecDeque::new());
    let (mut assignment, mut revoked) = (Assignment::new(), BTreeMap::new());
    for (member, mut list) in owned {
        list.retain(|tp| !contested.contains(tp));
        list.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let keep = if list.len() < min_quota {
            under_min.push(member.clone());
            list.len()
        } else if list.len() >= max_quota && over_min < extra {
            over_min += 1;
            if over_min == extra {
                at_min.clear();
            }
            max_quota
        } else {
            if over_min < extra {
                at_min.push_back(member.clone());
            }
            min_quota
        };
        revoked.extend(list.split_off(keep).into_iter().map(|tp| (tp, member.clone())));
        assignment.insert(member, list);
    }
    let taken: BTreeSet<&Tp> = assignment.values().flatten().collect();
    let unassigned: Vec<Tp> = all.iter().filter(|tp| !taken.contains(tp)).cloned().collect();
    under_min.sort();
    at_min.make_contiguous().sort();
    let (mut cursor, mut transferring) = (0, BTreeMap::new());
    for tp in unassigned {
        let from_under_min = !under_min.is_empty();
        let member = if from_under_min {
            if cursor == under_min.len() {
                cursor = 0;
            }
            cursor += 1;
            under_min[cursor - 1].clone()
        } else {
            at_min.pop_front().expect("the quotas leave room for every partition")
        };
        if revoked.get(&tp).is_some_and(|from| *from != member) || contested.contains(&tp) {
            transferring.insert(tp.clone(), member.clone());
        }
        let list = assignment.get_mut(&member).expect("every member is listed");
        list.push(tp);
        if list.len() == min_quota && from_under_min {
            cursor -= 1;
            under_min.remove(cursor);
            at_min.push_back(member);
        }
    }
    (assignment, transferring)
}

/// CooperativeStickyAssignor's `computePartitionsTransferringOwnership`: partitions newly given to
/// a member that some member claimed and no longer gets.
fn moved_from_claims(members: &[Subscription], assignment: &Assignment) -> BTreeMap<Tp, String> {
    let (mut added, mut revoked) = (BTreeMap::new(), BTreeSet::new());
    for m in members {
        let assigned = assignment.get(&m.member_id).map_or(&[][..], Vec::as_slice);
        added.extend(
            assigned
                .iter()
                .filter(|tp| !m.owned_partitions.contains(tp))
                .map(|tp| (tp.clone(), m.member_id.clone())),
        );
        revoked.extend(m.owned_partitions.iter().filter(|tp| !assigned.contains(tp)).cloned());
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}

/// Kafka's `GeneralAssignmentBuilder`: keep every valid claim, give each unassigned partition to
/// the least-loaded subscriber, then move partitions from members holding 2+ more than another
/// subscriber, undoing earlier moves where it can; revert if that did not improve the balance.
struct General<'a> {
    topics: &'a BTreeMap<String, i32>,
    subscribers: BTreeMap<&'a str, Vec<&'a str>>,
    subscribed: BTreeMap<&'a str, BTreeSet<&'a str>>,
    current: BTreeMap<String, Vec<Tp>>,
    holder: BTreeMap<Tp, String>,
    /// Kafka's `sortedCurrentSubscriptions`: (partitions held, member), fewest first.
    by_load: BTreeSet<(usize, String)>,
    movements: Movements,
    revocation_required: bool,
}

impl<'a> General<'a> {
    fn new(
        topics: &'a BTreeMap<String, i32>,
        members: &[&'a Subscription],
        owned: BTreeMap<String, Vec<Tp>>,
    ) -> Self {
        let mut subscribers: BTreeMap<&str, Vec<&str>> =
            topics.keys().map(|t| (t.as_str(), Vec::new())).collect();
        let mut subscribed = BTreeMap::new();
        for m in members {
            let mine: BTreeSet<&str> =
                m.topics.iter().map(String::as_str).filter(|t| topics.contains_key(*t)).collect();
            mine.iter()
                .for_each(|t| subscribers.get_mut(t).expect("topic exists").push(m.member_id.as_str()));
            subscribed.insert(m.member_id.as_str(), mine);
        }
        // A claim on a topic its member no longer subscribes to is dropped, and must be revoked.
        let (mut current, mut revocation_required) = (owned, false);
        for (member, list) in &mut current {
            let before = list.len();
            list.retain(|tp| subscribed[member.as_str()].contains(tp.0.as_str()));
            revocation_required |= list.len() < before;
        }
        let holder = current.iter().flat_map(|(m, l)| l.iter().map(|tp| (tp.clone(), m.clone()))).collect();
        let by_load = current.iter().map(|(m, l)| (l.len(), m.clone())).collect();
        General {
            topics,
            subscribers,
            subscribed,
            current,
            holder,
            by_load,
            movements: Movements::default(),
            revocation_required,
        }
    }

    fn build(mut self, members: &[&Subscription]) -> Assignment {
        // Partitions of topics with fewer subscribers first (Kafka's `TopicComparator`).
        let mut order: Vec<&String> = self.topics.keys().collect();
        order.sort_by_key(|t| (self.subscribers[t.as_str()].len(), *t));
        let mut all: Vec<Tp> =
            order.iter().flat_map(|t| (0..self.topics[*t]).map(|p| ((*t).clone(), p))).collect();
        let mut unassigned: Vec<Tp> =
            all.iter().filter(|tp| !self.holder.contains_key(*tp)).cloned().collect();
        // Claims of members behind the newest generation: a partition may go back to such a member.
        let newest = members.iter().map(|m| m.generation).fold(UNKNOWN_GENERATION, i32::max);
        let mut previous: BTreeMap<Tp, (String, i32)> = BTreeMap::new();
        for m in members.iter().filter(|m| m.generation < newest) {
            for tp in &m.owned_partitions {
                if previous.get(tp).is_none_or(|(_, g)| m.generation > *g) {
                    previous.insert(tp.clone(), (m.member_id.clone(), m.generation));
                }
            }
        }
        let initializing = self.by_load.last().is_some_and(|(n, _)| *n == 0);
        for tp in &unassigned {
            let least =
                self.by_load.iter().find(|(_, m)| self.subscribed[m.as_str()].contains(tp.0.as_str()));
            if let Some((_, member)) = least.cloned() {
                self.place(tp, &member);
            }
        }
        // Only partitions with two or more possible members, and members that could change, move.
        let movable = |tp: &Tp| self.subscribers[tp.0.as_str()].len() >= 2;
        all.retain(movable);
        unassigned.retain(movable);
        let fixed: Vec<String> = self.current.keys().filter(|m| !self.can_change(m)).cloned().collect();
        let mut fixed_lists = BTreeMap::new();
        for member in fixed {
            let list = self.current.remove(&member).expect("listed above");
            self.by_load.remove(&(list.len(), member.clone()));
            fixed_lists.insert(member, list);
        }
        let before = (self.current.clone(), self.holder.clone());
        if !self.revocation_required {
            self.rebalance(&unassigned, &previous);
        }
        let moved = self.rebalance(&all, &previous);
        if !initializing && moved && balance_score(&self.current) >= balance_score(&before.0) {
            (self.current, self.holder) = before;
        }
        self.current.extend(fixed_lists);
        self.current
    }

    fn load(&self, member: &str) -> usize {
        self.current.get(member).map_or(0, Vec::len)
    }

    fn max_load(&self, member: &str) -> usize {
        self.subscribed[member].iter().map(|t| self.topics[*t] as usize).sum()
    }

    /// Kafka's `canConsumerParticipateInReassignment`.
    fn can_change(&self, member: &str) -> bool {
        self.load(member) < self.max_load(member)
            || self.current[member].iter().any(|tp| self.subscribers[tp.0.as_str()].len() >= 2)
    }

    /// Balanced: loads differ by at most one, or no member could take a partition from a member
    /// holding two or more more than it.
    fn is_balanced(&self) -> bool {
        let (Some(least), Some(most)) = (self.by_load.first(), self.by_load.last()) else { return true };
        if least.0 + 1 >= most.0 {
            return true;
        }
        self.by_load.iter().filter(|(load, m)| *load != self.max_load(m)).all(|(load, m)| {
            self.subscribed[m.as_str()]
                .iter()
                .flat_map(|t| (0..self.topics[*t]).map(|p| (t.to_string(), p)))
                .all(|tp| self.holder.get(&tp).is_none_or(|h| load + 1 >= self.load(h)))
        })
    }

    /// Kafka's `performReassignments`: sweep `partitions` until balanced or nothing moves.
    fn rebalance(&mut self, partitions: &[Tp], previous: &BTreeMap<Tp, (String, i32)>) -> bool {
        let mut moved = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(holder) = self.holder.get(tp).cloned() else { continue };
                let load = self.load(&holder);
                // Back to its owner of an older generation, if it still could take it (Kafka
                // does not check that it still subscribes or is still in play).
                if let Some((owner, _)) = previous.get(tp) {
                    let eligible = self.current.contains_key(owner)
                        && self.subscribed[owner.as_str()].contains(tp.0.as_str());
                    if eligible && load > self.load(owner) + 1 {
                        self.reassign(tp, owner);
                        (moved, modified) = (true, true);
                        continue;
                    }
                }
                if self.subscribers[tp.0.as_str()].iter().any(|other| load > self.load(other) + 1) {
                    let least = self
                        .by_load
                        .iter()
                        .find(|(_, m)| self.subscribed[m.as_str()].contains(tp.0.as_str()));
                    let (_, to) = least.cloned().expect("the holder subscribes");
                    self.reassign(tp, &to);
                    (moved, modified) = (true, true);
                }
            }
            if !modified {
                return moved;
            }
        }
    }

    fn reassign(&mut self, tp: &Tp, to: &str) {
        let actual = self.movements.actual(tp, &self.holder[tp], to);
        self.movements.record(&actual, &self.holder[&actual], to);
        self.place(&actual, to);
    }

    /// Moves `tp` to `to`, keeping `by_load` in step.
    fn place(&mut self, tp: &Tp, to: &str) {
        if let Some(from) = self.holder.insert(tp.clone(), to.to_string()) {
            self.change(&from, |list| list.retain(|p| p != tp));
        }
        self.change(to, |list| list.push(tp.clone()));
    }

    fn change(&mut self, member: &str, edit: impl FnOnce(&mut Vec<Tp>)) {
        let Some(list) = self.current.get_mut(member) else { return };
        let ranked = self.by_load.remove(&(list.len(), member.to_string()));
        edit(list);
        if ranked {
            self.by_load.insert((list.len(), member.to_string()));
        }
    }
}

/// Kafka's `getBalanceScore`: the sum of load differences over all pairs of members.
fn balance_score(assignment: &BTreeMap<String, Vec<Tp>>) -> usize {
    let loads: Vec<usize> = assignment.values().map(Vec::len).collect();
    loads.iter().enumerate().flat_map(|(i, a)| loads[i + 1..].iter().map(move |b| a.abs_diff(*b))).sum()
}

/// Kafka's `PartitionMovements`: each moved partition's first source this rebalance, so that a
/// move back between the same two members undoes an earlier move instead of adding one.
#[derive(Default)]
struct Movements {
    of: BTreeMap<Tp, (String, String)>,
    /// (topic, source, destination) → the partitions that moved that way.
    by_route: BTreeMap<(String, String, String), BTreeSet<Tp>>,
}

impl Movements {
    fn record(&mut self, tp: &Tp, from: &str, to: &str) {
        let source = match self.of.remove(tp) {
            Some((source, dest)) => {
                let route = (tp.0.clone(), source.clone(), dest);
                let moved = self.by_route.get_mut(&route).expect("recorded with the partition");
                moved.remove(tp);
                if moved.is_empty() {
                    self.by_route.remove(&route);
                }
                source
            }
            None => from.to_string(),
        };
        if source != to {
            self.by_route.entry((tp.0.clone(), source.clone(), to.into())).or_default().insert(tp.clone());
            self.of.insert(tp.clone(), (source, to.into()));
        }
    }

    /// Kafka's `getTheActualPartitionToBeMoved`: a partition of the same topic that earlier moved
    /// from `to` to `tp`'s first source, if any (the smallest, where Kafka takes any), else `tp`.
    fn actual(&self, tp: &Tp, holder: &str, to: &str) -> Tp {
        let source = self.of.get(tp).map_or(holder, |(s, _)| s.as_str());
        let route = (tp.0.clone(), to.to_string(), source.to_string());
        self.by_route.get(&route).and_then(BTreeSet::first).unwrap_or(tp).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(list: &[(&str, i32)]) -> BTreeMap<String, i32> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    /// "t0p1 t2p0" → [("t0", 1), ("t2", 0)].
    fn tps(names: &str) -> Vec<Tp> {
        let tp = |n: &str| n.rsplit_once('p').map(|(t, p)| (t.to_string(), p.parse().expect("a partition")));
        names.split_whitespace().map(|n| tp(n).expect("named like t0p1")).collect()
    }

    /// A member subscribed to the space-separated `topics` that owned `owned` in `generation`.
    fn member(id: &str, topics: &str, owned: &str, generation: i32) -> Subscription {
        let subscribed: Vec<&str> = topics.split_whitespace().collect();
        Subscription { owned_partitions: tps(owned), generation, ..Subscription::new(id, &subscribed) }
    }

    /// The next generation: every member reports what `assignment` gave it.
    fn report(members: &[Subscription], assignment: &Assignment, generation: i32) -> Vec<Subscription> {
        let owning = |m: &Subscription| assignment[&m.member_id].clone();
        members
            .iter()
            .map(|m| Subscription { owned_partitions: owning(m), generation, ..m.clone() })
            .collect()
    }

    /// "C0: t0p0 t1p1 | C1: t0p1".
    fn show(assignment: &Assignment) -> String {
        let names = |list: &[Tp]| list.iter().map(|(t, p)| format!(" {t}p{p}")).collect::<String>();
        assignment.iter().map(|(m, list)| format!("{m}:{}", names(list))).collect::<Vec<_>>().join(" | ")
    }

    #[test]
    fn javadoc_example_1_identical_subscriptions() {
        let partitions = topics(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)]);
        let group = ["C0", "C1", "C2"].map(|id| member(id, "t0 t1 t2 t3", "", -1));
        let first = sticky(&partitions, &group);
        assert_eq!(show(&first), "C0: t0p0 t1p1 t3p0 | C1: t0p1 t2p0 t3p1 | C2: t1p0 t2p1");
        // C1 leaves. The javadoc (written for the pre-2.6 algorithm) moves t2p0 to C0 and t0p1,
        // t3p1 to C2; today's constrained path deals C1's t0p1, t2p0, t3p1 round-robin to the
        // members under quota, by id: C0 t0p1, C2 t2p0 and t3p1. Just as sticky and balanced.
        let stayed = report(&[group[0].clone(), group[2].clone()], &first, 1);
        assert_eq!(show(&sticky(&partitions, &stayed)), "C0: t0p0 t0p1 t1p1 t3p0 | C2: t1p0 t2p0 t2p1 t3p1");
    }

    #[test]
    fn javadoc_example_2_nested_subscriptions() {
        let partitions = topics(&[("t0", 1), ("t1", 2), ("t2", 3)]);
        let group =
            [member("C0", "t0", "", -1), member("C1", "t0 t1", "", -1), member("C2", "t0 t1 t2", "", -1)];
        let first = sticky(&partitions, &group);
        assert_eq!(show(&first), "C0: t0p0 | C1: t1p0 t1p1 | C2: t2p0 t2p1 t2p2");
        // C0 leaves: t0p0 goes to the least-loaded subscriber, C1; nothing else moves.
        let stayed = report(&group[1..], &first, 1);
        assert_eq!(show(&sticky(&partitions, &stayed)), "C1: t0p0 t1p0 t1p1 | C2: t2p0 t2p1 t2p2");
    }

    #[test]
    fn kafka_add_remove_two_consumers_two_topics() {
        // AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics, its three rounds.
        let partitions = topics(&[("t1", 3), ("t2", 4)]);
        let c = |id: &str| member(id, "t1 t2", "", 1);
        let first = sticky(&partitions, &[c("c1"), c("c2")]);
        assert_eq!(show(&first), "c1: t1p0 t1p2 t2p1 t2p3 | c2: t1p1 t2p0 t2p2");
        // Two join: the old members keep their lowest partition numbers.
        let mut group = report(&[c("c1"), c("c2")], &first, 1);
        group.extend([c("c3"), c("c4")]);
        let second = sticky(&partitions, &group);
        assert_eq!(show(&second), "c1: t1p0 t2p1 | c2: t1p1 t2p0 | c3: t1p2 t2p3 | c4: t2p2");
        // Cooperatively the three that change hands wait for the follow-up rebalance.
        let cooperative = cooperative_sticky(&partitions, &group);
        assert_eq!(show(&cooperative), "c1: t1p0 t2p1 | c2: t1p1 t2p0 | c3: | c4:");
        // The first two leave.
        let third = sticky(&partitions, &report(&group[2..], &second, 1));
        assert_eq!(show(&third), "c3: t1p0 t1p2 t2p1 t2p3 | c4: t1p1 t2p0 t2p2");
    }

    #[test]
    fn kafka_unit_test_cases() {
        let all = "t1 t2";
        let cases = [
            // AbstractStickyAssignorTest.testAllConsumersAreUnderMinQuota.
            (
                topics(&[("t1", 2), ("t2", 3)]),
                vec![member("c1", all, "t1p0", 1), member("c2", all, "t1p1", 1), member("c3", all, "", 1)],
                "c1: t1p0 t2p1 | c2: t1p1 t2p2 | c3: t2p0",
            ),
            // …testMultipleConsumersMixedTopicSubscriptions (the general path).
            (
                topics(&[("t1", 3), ("t2", 2)]),
                vec![member("c1", "t1", "", -1), member("c2", all, "", -1), member("c3", "t1", "", -1)],
                "c1: t1p0 t1p2 | c2: t2p0 t2p1 | c3: t1p1",
            ),
            // …testEnsurePartitionsAssignedToHighestGeneration: each contested claim goes to the
            // newer generation; c3 keeps only t3p2.
            (
                topics(&[("t", 3), ("t2", 3), ("t3", 3)]),
                vec![
                    member("c1", "t t2 t3", "tp0 t2p0 t3p0", 10),
                    member("c2", "t t2 t3", "tp1 t2p1 t3p1", 9),
                    member("c3", "t t2 t3", "t2p1 t3p0 t3p2", 8),
                ],
                "c1: tp0 t2p0 t3p0 | c2: tp1 t2p1 t3p1 | c3: tp2 t2p2 t3p2",
            ),
        ];
        for (partitions, group, expected) in cases {
            assert_eq!(show(&sticky(&partitions, &group)), expected);
            assert_eq!(show(&cooperative_sticky(&partitions, &group)), expected, "nothing changes hands");
        }
    }

    #[test]
    fn a_tie_in_generation_leaves_the_partition_to_neither_claimant() {
        // StickyAssignorTest / CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartition
        // InvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer.
        let partitions = topics(&[("t", 3)]);
        let group =
            [member("c1", "t", "tp0 tp1", 1), member("c2", "t", "tp0 tp2", 1), member("c3", "t", "", 1)];
        assert_eq!(show(&sticky(&partitions, &group)), "c1: tp1 | c2: tp2 | c3: tp0");
        // Cooperatively it waits until both claimants have revoked it.
        assert_eq!(show(&cooperative_sticky(&partitions, &group)), "c1: tp1 | c2: tp2 | c3:");
        // Kafka stays wary of a tied partition even when a later-visited member claims it with a
        // newer generation (members visited by id): c's claim goes too, tp0 is dealt afresh.
        let group = [member("a", "t", "tp0", 5), member("b", "t", "tp0", 5), member("c", "t", "tp0", 6)];
        assert_eq!(show(&sticky(&topics(&[("t", 1)]), &group)), "a: tp0 | b: | c:");
        assert_eq!(show(&cooperative_sticky(&topics(&[("t", 1)]), &group)), "a: | b: | c:");
    }

    #[test]
    fn an_older_owner_gets_a_partition_back_only_if_it_still_subscribes() {
        // m2 (generation 2) won m1's old claims; moving partitions off m2, Kafka's general path
        // prefers their owner of a generation ago, m1 (then the least-loaded, m3)...
        let partitions = topics(&[("a", 6), ("b", 1)]);
        let old = "ap0 ap1 ap2 ap3 ap4 ap5";
        let group = |m1_topics| {
            [member("m1", m1_topics, old, 1), member("m2", "a", old, 2), member("m3", "a b", "", 2)]
        };
        assert_eq!(show(&sticky(&partitions, &group("a b"))), "m1: ap0 ap1 bp0 | m2: ap4 ap5 | m3: ap2 ap3");
        // ...even when m1 has dropped topic a (a Kafka bug); here only a subscriber can take it.
        assert_eq!(show(&sticky(&partitions, &group("b"))), "m1: bp0 | m2: ap3 ap4 ap5 | m3: ap0 ap1 ap2");
    }

    #[test]
    fn stale_claims_empty_subscriptions_and_crowds() {
        let partitions = topics(&[("a", 2), ("gone", 0)]);
        assert!(sticky(&partitions, &[]).is_empty());
        // m1 subscribes to nothing; m2's claims name a topic without partitions, a partition beyond
        // the count and a topic that does not exist; four members share two partitions.
        let group = [
            member("m1", "", "ap0", 3),
            member("m2", "a gone", "gonep0 ap7 bp0", 3),
            member("m3", "a", "", -1),
            member("m4", "a", "", -1),
        ];
        assert_eq!(show(&sticky(&partitions, &group)), "m1: | m2: ap0 | m3: ap1 | m4:");
    }

    /// xorshift64: deterministic inputs for the property checks.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        /// Each of `TOPICS` with odds (odds - 1) in odds.
        fn topics(&mut self, odds: usize) -> Vec<&'static str> {
            TOPICS.iter().copied().filter(|_| self.below(odds) > 0).collect()
        }
    }

    const CASES: usize = 400;
    const TOPICS: [&str; 4] = ["a", "b", "c", "d"];
    const MAX_PARTITIONS: usize = 7;
    const MAX_MEMBERS: usize = 6;

    /// No partition held twice, each by a subscriber, and (`complete`) every subscribed one held,
    /// balanced as Kafka's tests define it: two members 2+ apart share no topic.
    fn assert_valid(
        partitions: &BTreeMap<String, i32>,
        members: &[Subscription],
        assignment: &Assignment,
        complete: bool,
    ) {
        let held: BTreeSet<&Tp> = assignment.values().flatten().collect();
        let total: usize = assignment.values().map(Vec::len).sum();
        assert_eq!(held.len(), total, "a partition held twice: {assignment:?}");
        for m in members {
            let list = &assignment[&m.member_id];
            assert!(list.is_sorted() && list.iter().all(|(t, p)| m.topics.contains(t) && *p < partitions[t]));
        }
        let subscribed: BTreeSet<&String> = members.iter().flat_map(|m| &m.topics).collect();
        let expected: usize =
            partitions.iter().filter(|(t, _)| subscribed.contains(t)).map(|(_, n)| *n as usize).sum();
        assert!(
            total <= expected && (!complete || total == expected),
            "{total} of {expected}: {assignment:?}"
        );
        let topics_of = |l: &[Tp]| l.iter().map(|tp| tp.0.clone()).collect::<BTreeSet<_>>();
        for (a, b) in assignment.values().flat_map(|a| assignment.values().map(move |b| (a, b))) {
            assert!(
                !complete || a.len() <= b.len() + 1 || topics_of(a).is_disjoint(&topics_of(b)),
                "{assignment:?}"
            );
        }
    }

    fn spread(assignment: &Assignment) -> usize {
        let loads = assignment.values().map(Vec::len);
        loads.clone().max().unwrap_or(0) - loads.min().unwrap_or(0)
    }

    #[test]
    fn properties_over_generated_groups() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..CASES {
            let partitions: BTreeMap<String, i32> =
                TOPICS.iter().map(|t| (t.to_string(), rng.below(MAX_PARTITIONS) as i32)).collect();
            // Even cases: everyone subscribes to the same topics (the constrained path).
            let uniform = case % 2 == 0;
            let shared = rng.topics(3);
            let members: Vec<Subscription> = (0..1 + rng.below(MAX_MEMBERS))
                .map(|i| {
                    Subscription::new(&format!("m{i}"), &if uniform { shared.clone() } else { rng.topics(2) })
                })
                .collect();
            let fresh = sticky(&partitions, &members);
            assert_valid(&partitions, &members, &fresh, true);
            // Next generation: members report what they hold; some add a stale or rival claim.
            let mut members = report(&members, &fresh, 1);
            for m in &mut members {
                if rng.below(4) == 0 {
                    m.owned_partitions
                        .push((TOPICS[rng.below(TOPICS.len())].into(), rng.below(MAX_PARTITIONS) as i32));
                    m.generation = rng.below(3) as i32;
                }
            }
            let eager = sticky(&partitions, &members);
            assert_valid(&partitions, &members, &eager, true);
            assert!(!uniform || (spread(&fresh) <= 1 && spread(&eager) <= 1), "unbalanced: {eager:?}");
            // Cooperative: a partition another member claims only goes to a member that claims it
            // too (with the newer generation); a second round, with the revoked partitions
            // released, has nothing left to revoke and, for identical subscriptions, lands where
            // the eager assignor did.
            let cooperative = cooperative_sticky(&partitions, &members);
            assert_valid(&partitions, &members, &cooperative, false);
            for (receiver, list) in &cooperative {
                let claimants = |tp| members.iter().filter(move |m| m.owned_partitions.contains(tp));
                for tp in list {
                    let rival = claimants(tp).any(|m| m.member_id != *receiver);
                    assert!(
                        !rival || claimants(tp).any(|m| m.member_id == *receiver),
                        "{receiver} got {tp:?}"
                    );
                }
            }
            let round2 = report(&members, &cooperative, 2);
            let finished = cooperative_sticky(&partitions, &round2);
            assert_valid(&partitions, &round2, &finished, true);
            assert_eq!(finished, sticky(&partitions, &round2), "nothing left to revoke");
            assert!(!uniform || finished == eager, "{finished:?} vs {eager:?}");
            // Stickiness: with identical subscriptions, when one member leaves nobody loses any.
            if uniform && members.len() > 1 {
                let stayed = report(&members[1..], &fresh, 1);
                let after = sticky(&partitions, &stayed);
                for m in &stayed {
                    assert!(
                        m.owned_partitions.iter().all(|tp| after[&m.member_id].contains(tp)),
                        "{after:?}"
                    );
                }
            }
        }
    }
}
