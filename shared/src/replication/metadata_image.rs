//! What a broker knows of the cluster's metadata (Kafka's `MetadataImage`, built by the broker's
//! metadata loader): the broker is an observer of the KRaft quorum, fetching the committed
//! records of `__cluster_metadata` from the active controller and replaying them in order.
//! Partition states reach its replicas only once it has replayed its own registration in the
//! incarnation it runs (Kafka's broker waits for its RegisterBrokerRecord the same way), so a
//! restarted broker never acts on what was meant for its previous life.

use std::collections::BTreeMap;

use super::protocol::{BrokerId, Message, MetadataRecord, NodeId, PartitionState, TopicPartition};
use super::quorum::{FetchResult, QUORUM_FETCH_MAX_WAIT_MS, QUORUM_FETCH_RETRY_MS};

/// A broker fetches the metadata log again after this long without an answer (lost, or held
/// by a controller that stopped leading): the controller's long-poll plus the quorum's retry.
pub const METADATA_FETCH_RETRY_MS: i64 = QUORUM_FETCH_MAX_WAIT_MS + QUORUM_FETCH_RETRY_MS;

/// A broker told its fetch reached a controller that does not lead asks again after this long
/// (Kafka's `controller.quorum.retry.backoff.ms` is 20 ms; Kite's clock ticks in 10 ms steps).
pub const METADATA_FETCH_BACKOFF_MS: i64 = QUORUM_FETCH_RETRY_MS;

/// One broker's replay of the metadata log.
#[derive(Clone, Debug)]
pub struct MetadataImage {
    broker: BrokerId,
    incarnation: u64,
    /// The offset of the next record to fetch: everything below is replayed.
    offset: i64,
    /// The controller's high watermark, as its last answer said.
    high_watermark: i64,
    /// Every partition's latest state.
    partitions: BTreeMap<TopicPartition, PartitionState>,
    /// Dynamic broker configs replayed (ConfigRecords): (broker or default, name) → value.
    broker_configs: BTreeMap<(Option<BrokerId>, String), String>,
    /// Counts the replays that may have changed `broker_configs`, so the broker re-reads them
    /// only then.
    broker_configs_version: u64,
    /// It has replayed its own registration in this incarnation.
    registered: bool,
    /// When the outstanding fetch went; `None`: none is.
    fetch_sent_ms: Option<i64>,
}

impl MetadataImage {
    /// An empty image for broker `broker` in `incarnation`: it fetches from the log's start.
    pub fn new(broker: BrokerId, incarnation: u64) -> MetadataImage {
        MetadataImage {
            broker,
            incarnation,
            offset: 0,
            high_watermark: 0,
            partitions: BTreeMap::new(),
            broker_configs: BTreeMap::new(),
            broker_configs_version: 0,
            registered: false,
            fetch_sent_ms: None,
        }
    }

    /// The offset of the next record it fetches (all below are replayed).
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// The high watermark the controller last told it.
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// Whether it has replayed its own registration in this incarnation.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// A partition's latest state, as replayed.
    pub fn state(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.partitions.get(tp)
    }

    /// How many times the dynamic broker configs may have changed: a broker re-reads them when
    /// this moves.
    pub fn broker_configs_version(&self) -> u64 {
        self.broker_configs_version
    }

    /// This broker's dynamic config `name`, as Kafka resolves it: its own value, else the
    /// cluster-wide default's.
    pub fn broker_config(&self, name: &str) -> Option<&str> {
        let own = self.broker_configs.get(&(Some(self.broker), name.to_string()));
        own.or_else(|| self.broker_configs.get(&(None, name.to_string()))).map(String::as_str)
    }

    /// The fetch to send now: none is outstanding, or the last went unanswered too long.
    pub fn poll(&mut self, now_ms: i64, out: &mut Vec<(NodeId, Message)>) {
        if self.fetch_sent_ms.is_none_or(|sent| now_ms - sent >= METADATA_FETCH_RETRY_MS) {
            self.fetch(now_ms, out);
        }
    }

    fn fetch(&mut self, now_ms: i64, out: &mut Vec<(NodeId, Message)>) {
        self.fetch_sent_ms = Some(now_ms);
        let fetch = Message::MetadataFetch { broker: self.broker, fetch_offset: self.offset };
        out.push((NodeId::Controller, fetch));
    }

    /// A controller's answer: its records replayed (an answer for another offset, late or
    /// duplicated, changes nothing), and the next fetch sent at once, as Kafka's fetchers
    /// keep one outstanding; a controller that does not lead gets it after
    /// `METADATA_FETCH_BACKOFF_MS`. Returns the partition states the broker's replicas take, in
    /// order: once registered, every one replayed; at the registration itself, every
    /// partition's current state.
    pub fn answered(
        &mut self,
        now_ms: i64,
        high_watermark: i64,
        result: FetchResult<MetadataRecord>,
        out: &mut Vec<(NodeId, Message)>,
    ) -> Vec<PartitionState> {
        let mut changed = Vec::new();
        match result {
            FetchResult::Entries { from, entries } if from == self.offset => {
                self.offset += entries.len() as i64;
                for record in entries.into_iter().filter_map(|e| e.record) {
                    self.replay(record, &mut changed);
                }
            }
            FetchResult::Snapshot(snapshot) if snapshot.end_offset > self.offset => {
                let was_registered = self.registered;
                (self.partitions, self.registered) = (BTreeMap::new(), false);
                self.broker_configs.clear();
                self.broker_configs_version += 1;
                let mut ignored = Vec::new();
                for record in snapshot.records {
                    self.replay(record, &mut ignored);
                }
                self.offset = snapshot.end_offset;
                if self.registered || was_registered {
                    self.registered = true;
                    changed = self.partitions.values().cloned().collect();
                }
            }
            FetchResult::NotLeader => {
                // Asked a controller that does not lead: again after the backoff, not at once.
                self.fetch_sent_ms = Some(now_ms - METADATA_FETCH_RETRY_MS + METADATA_FETCH_BACKOFF_MS);
                return changed;
            }
            // Stale, or not for this offset: fetch again from where it is.
            _ => {}
        }
        self.high_watermark = self.high_watermark.max(high_watermark);
        self.fetch(now_ms, out);
        changed
    }

    /// One record into the image; the partition states it changes for the broker join
    /// `changed` once the broker is registered.
    fn replay(&mut self, record: MetadataRecord, changed: &mut Vec<PartitionState>) {
        match record {
            MetadataRecord::Partition(state) => {
                if self.registered {
                    changed.push(state.clone());
                }
                self.partitions.insert(state.tp.clone(), state);
            }
            MetadataRecord::RemoveTopic { name } => self.partitions.retain(|tp, _| tp.topic != name),
            MetadataRecord::BrokerConfig { broker, name, value } => {
                self.broker_configs_version += 1;
                match value {
                    Some(value) => self.broker_configs.insert((broker, name), value),
                    None => self.broker_configs.remove(&(broker, name)),
                };
            }
            MetadataRecord::RegisterBroker { broker, incarnation, .. }
                if broker == self.broker && incarnation == self.incarnation && !self.registered =>
            {
                self.registered = true;
                changed.extend(self.partitions.values().cloned());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TopicId;
    use crate::replication::quorum::{Entry, Snapshot};

    fn state(partition: i32, replicas: &[BrokerId], leader_epoch: i32) -> PartitionState {
        PartitionState {
            tp: TopicPartition { topic: "t".into(), partition },
            topic_id: TopicId::ZERO,
            replicas: replicas.to_vec(),
            leader: replicas.first().copied(),
            leader_epoch,
            isr: replicas.to_vec(),
            elr: Vec::new(),
            partition_epoch: leader_epoch,
            min_insync_replicas: 1,
            adding: Vec::new(),
            removing: Vec::new(),
        }
    }

    fn entries(from: i64, records: Vec<MetadataRecord>) -> FetchResult<MetadataRecord> {
        FetchResult::Entries {
            from,
            entries: records.into_iter().map(|r| Entry::single(1, Some(r))).collect(),
        }
    }

    #[test]
    fn states_reach_the_replicas_only_after_the_brokers_own_registration() {
        let mut image = MetadataImage::new(1, 7);
        let mut out = Vec::new();
        image.poll(0, &mut out);
        assert_eq!(out, vec![(NodeId::Controller, Message::MetadataFetch { broker: 1, fetch_offset: 0 })]);
        // Its previous life's registration and a state before its own: nothing to apply yet.
        let before = vec![
            MetadataRecord::RegisterBroker { broker: 1, incarnation: 6, rack: None },
            MetadataRecord::Partition(state(0, &[1, 2], 0)),
        ];
        assert!(image.answered(5, 2, entries(0, before), &mut out).is_empty());
        assert_eq!(image.offset(), 2);
        // Its registration: the current state of every partition, then each change.
        let after = vec![
            MetadataRecord::RegisterBroker { broker: 1, incarnation: 7, rack: None },
            MetadataRecord::Partition(state(1, &[2, 1], 0)),
        ];
        let changed = image.answered(6, 4, entries(2, after), &mut out);
        assert_eq!(changed, vec![state(0, &[1, 2], 0), state(1, &[2, 1], 0)]);
        assert!(image.is_registered());
        // A late duplicate of the first answer changes nothing.
        let again = vec![MetadataRecord::Partition(state(0, &[2], 5))];
        assert!(image.answered(7, 4, entries(0, again), &mut out).is_empty());
        assert_eq!(
            image.state(&TopicPartition { topic: "t".into(), partition: 0 }),
            Some(&state(0, &[1, 2], 0))
        );
        // Every answer is followed by the next fetch, from where the image now is.
        assert_eq!(
            out.last(),
            Some(&(NodeId::Controller, Message::MetadataFetch { broker: 1, fetch_offset: 4 }))
        );
    }

    #[test]
    fn a_snapshot_replaces_the_image_and_a_deleted_topic_leaves_it() {
        let mut image = MetadataImage::new(0, 1);
        let mut out = Vec::new();
        let records = vec![
            MetadataRecord::RegisterBroker { broker: 0, incarnation: 1, rack: None },
            MetadataRecord::Partition(state(0, &[0], 3)),
        ];
        let snapshot = Snapshot { end_offset: 40, last_epoch: 2, records };
        let changed = image.answered(0, 41, FetchResult::Snapshot(snapshot), &mut out);
        assert_eq!((changed, image.offset(), image.high_watermark()), (vec![state(0, &[0], 3)], 40, 41));
        let removed = vec![MetadataRecord::RemoveTopic { name: "t".into() }];
        assert!(image.answered(1, 41, entries(40, removed), &mut out).is_empty());
        assert_eq!(image.state(&TopicPartition { topic: "t".into(), partition: 0 }), None);
        // Unanswered, it fetches again only after the retry time.
        let sent = out.len();
        image.poll(1 + METADATA_FETCH_RETRY_MS - 1, &mut out);
        assert_eq!(out.len(), sent);
        image.poll(1 + METADATA_FETCH_RETRY_MS, &mut out);
        assert_eq!(out.len(), sent + 1);
    }
}
