//! Replication quotas (KIP-73), as a reassignment's throttle uses them: a broker measures the
//! bytes it sends as leader (or fetches as follower) for throttled replicas over Kafka's sampled
//! windows, and while that rate is above `leader.replication.throttled.rate` (or
//! `follower.replication.throttled.rate`) it holds back throttled replicas that are not in sync.
//! Which replicas are throttled is a topic's `leader.replication.throttled.replicas` /
//! `follower.replication.throttled.replicas` (`ThrottledReplicas`).

use std::collections::VecDeque;

use crate::ids::BrokerId;

/// Kafka's `replication.quota.window.num`: how many samples the rate is measured over.
pub const QUOTA_WINDOW_SAMPLES: usize = 11;
/// Kafka's `replication.quota.window.size.seconds`, in milliseconds: each sample's span.
pub const QUOTA_WINDOW_MS: i64 = 1_000;

/// One broker's quota for one direction (leader or follower replication).
#[derive(Clone, Debug, Default)]
pub struct ReplicationQuota {
    /// The bound in bytes per second; `None`: unthrottled (Kafka's default, `Long.MAX_VALUE`).
    bound_bytes_per_sec: Option<i64>,
    /// (window start ms, bytes recorded in it), oldest first, at most `QUOTA_WINDOW_SAMPLES`.
    samples: VecDeque<(i64, u64)>,
}

impl ReplicationQuota {
    /// Sets the bound (`None` lifts it); what was measured stays.
    pub fn set_bound(&mut self, bytes_per_sec: Option<i64>) {
        self.bound_bytes_per_sec = bytes_per_sec;
    }

    /// The bound in bytes per second, if there is one.
    pub fn bound(&self) -> Option<i64> {
        self.bound_bytes_per_sec
    }

    /// Records `bytes` moved for throttled replicas at `now_ms` (Kafka's `quota.record`).
    pub fn record(&mut self, now_ms: i64, bytes: usize) {
        let current = self.samples.back().is_some_and(|&(start, _)| now_ms - start < QUOTA_WINDOW_MS);
        if !current {
            if self.samples.len() == QUOTA_WINDOW_SAMPLES {
                self.samples.pop_front();
            }
            self.samples.push_back((now_ms, 0));
        }
        if let Some((_, total)) = self.samples.back_mut() {
            *total = total.saturating_add(bytes as u64);
        }
    }

    /// The measured rate in bytes per second (Kafka's `Rate` over sampled windows: the samples'
    /// total over the time they span, counted as at least all but one full window, so a first
    /// burst is spread over the whole measure rather than over the moment it took).
    pub fn rate_bytes_per_sec(&mut self, now_ms: i64) -> u64 {
        let (total, elapsed_ms) = self.measure(now_ms);
        (total.saturating_mul(1_000) / elapsed_ms) as u64
    }

    /// Whether the measured rate is above the bound (Kafka's `isQuotaExceeded`).
    pub fn is_exceeded(&mut self, now_ms: i64) -> bool {
        let Some(bound) = self.bound_bytes_per_sec else { return false };
        let (total, elapsed_ms) = self.measure(now_ms);
        total * 1_000 > bound.max(0) as u128 * elapsed_ms
    }

    /// The bytes the kept samples hold and the milliseconds they count for.
    fn measure(&mut self, now_ms: i64) -> (u128, u128) {
        let oldest_kept = now_ms - QUOTA_WINDOW_SAMPLES as i64 * QUOTA_WINDOW_MS;
        self.samples.retain(|&(start, _)| start > oldest_kept);
        let oldest = self.samples.front().map_or(now_ms, |&(start, _)| start);
        let minimum = (QUOTA_WINDOW_SAMPLES as i64 - 1) * QUOTA_WINDOW_MS;
        let elapsed_ms = (now_ms - oldest).max(minimum) as u128;
        (self.samples.iter().map(|&(_, bytes)| bytes as u128).sum(), elapsed_ms)
    }
}

/// A topic's `leader.replication.throttled.replicas` or `follower.replication.throttled.replicas`:
/// which of its replicas (partition on broker) replication throttles.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ThrottledReplicas {
    /// Empty (Kafka's default): none.
    #[default]
    None,
    /// `*`: every replica of the topic.
    All,
    /// `partition:broker` pairs, in the order given.
    Listed(ReplicaPairs),
}

/// The most `partition:broker` pairs one throttled-replicas config takes (a whole 1,000-partition
/// topic at replication factor 10 is 10,000).
pub const MAX_THROTTLED_REPLICAS: usize = 10_000;

impl ThrottledReplicas {
    /// Parses Kafka's syntax: `*`, or `[partitionId]:[brokerId],…` (empty entries skipped, as
    /// Kafka's list parsing does); `None` when the value is neither.
    pub fn parse(value: &str) -> Option<ThrottledReplicas> {
        let value = value.trim();
        if value == "*" {
            return Some(ThrottledReplicas::All);
        }
        let mut pairs = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (partition, broker) = entry.split_once(':')?;
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(partition) || !digits(broker) || pairs.len() == MAX_THROTTLED_REPLICAS {
                return None;
            }
            pairs.push((partition.parse().ok()?, broker.parse().ok()?));
        }
        Some(if pairs.is_empty() { ThrottledReplicas::None } else { ThrottledReplicas::Listed(pairs) })
    }

    /// Whether `partition`'s replica on `broker` is throttled.
    pub fn contains(&self, partition: i32, broker: BrokerId) -> bool {
        match self {
            ThrottledReplicas::None => false,
            ThrottledReplicas::All => true,
            ThrottledReplicas::Listed(pairs) => pairs.contains(&(partition, broker)),
        }
    }

    /// The value as Kafka describes it.
    pub fn describe(&self) -> String {
        match self {
            ThrottledReplicas::None => String::new(),
            ThrottledReplicas::All => "*".into(),
            ThrottledReplicas::Listed(pairs) => {
                pairs.iter().map(|(p, b)| format!("{p}:{b}")).collect::<Vec<_>>().join(",")
            }
        }
    }
}

/// `partition:broker` pairs, as a throttled-replicas list names them.
pub type ReplicaPairs = Vec<(i32, BrokerId)>;

/// What `kafka-reassign-partitions --execute --throttle` marks for moving `partition` from
/// `current` to `target`: as leader-throttled, every replica it has now (any of them may lead and
/// send); as follower-throttled, the replicas the move adds (they fetch). Kite's CLI and UI set
/// both lists, and the rates on every broker in them.
pub fn throttled_for_move(
    partition: i32,
    current: &[BrokerId],
    target: &[BrokerId],
) -> (ReplicaPairs, ReplicaPairs) {
    let leaders = current.iter().map(|&b| (partition, b)).collect();
    let followers = target.iter().filter(|b| !current.contains(b)).map(|&b| (partition, b)).collect();
    (leaders, followers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_spread_over_all_but_one_window_until_the_samples_span_more() {
        let mut quota = ReplicationQuota::default();
        assert!(!quota.is_exceeded(0), "no bound, never exceeded");
        quota.set_bound(Some(1_000));
        quota.record(0, 10_000);
        // 10,000 bytes over the 10 s minimum: 1,000 B/s, at the bound, not above it.
        assert_eq!(quota.rate_bytes_per_sec(500), 1_000);
        assert!(!quota.is_exceeded(500));
        quota.record(600, 1);
        assert!(quota.is_exceeded(700), "one byte more is above it");
        // 12 s later the first window has left the measure.
        assert_eq!(quota.rate_bytes_per_sec(12_000), 0);
        assert!(!quota.is_exceeded(12_000));
        // Windows roll each second; only the last eleven count.
        let mut steady = ReplicationQuota::default();
        for second in 0..30 {
            steady.record(second * 1_000, 500);
        }
        assert_eq!(steady.samples.len(), QUOTA_WINDOW_SAMPLES);
        assert_eq!(steady.rate_bytes_per_sec(29_500), 11 * 500 * 1_000 / 10_500);
    }

    #[test]
    fn a_move_throttles_its_current_replicas_as_leaders_and_its_new_ones_as_followers() {
        let (leaders, followers) = throttled_for_move(3, &[0, 1, 2], &[3, 1, 2]);
        assert_eq!(ThrottledReplicas::Listed(leaders).describe(), "3:0,3:1,3:2");
        assert_eq!(ThrottledReplicas::Listed(followers).describe(), "3:3");
    }

    #[test]
    fn throttled_replicas_are_parsed_as_kafka_writes_them() {
        assert_eq!(ThrottledReplicas::parse(""), Some(ThrottledReplicas::None));
        assert_eq!(ThrottledReplicas::parse(" * "), Some(ThrottledReplicas::All));
        let listed = ThrottledReplicas::parse("0:1, 0:2,,1:0").unwrap();
        assert_eq!(listed, ThrottledReplicas::Listed(vec![(0, 1), (0, 2), (1, 0)]));
        assert!(listed.contains(0, 2) && !listed.contains(1, 1));
        assert_eq!(listed.describe(), "0:1,0:2,1:0");
        for bad in ["0", "a:1", "0:1,*", "-1:0", "0:1:2", "0:99999999999"] {
            assert_eq!(ThrottledReplicas::parse(bad), None, "{bad}");
        }
        let too_many = (0..=MAX_THROTTLED_REPLICAS).map(|p| format!("{p}:0")).collect::<Vec<_>>().join(",");
        assert_eq!(ThrottledReplicas::parse(&too_many), None);
    }
}
