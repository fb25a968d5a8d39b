//! Topic configs by Kafka's names, with Kafka's defaults and validation (a bad value is refused
//! with INVALID_CONFIG naming the config and the value, in Kafka's own words), the broker configs
//! Kite honours (static, as `server.properties` sets them), and the producer's `acks`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, KafkaError};
use crate::record::batch::TimestampType;
use crate::record::compression::Compression;
pub use crate::replication::quota::ThrottledReplicas;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn invalid(name: &str, value: &str, why: &str) -> KafkaError {
    KafkaError::new(
        ErrorCode::InvalidConfig,
        format!("Invalid value {value} for configuration {name}: {why}"),
    )
}

fn long(name: &str, value: &str, min: i64) -> Result<i64, KafkaError> {
    let parsed: i64 = value.trim().parse().map_err(|_| invalid(name, value, "Not a number of type LONG"))?;
    if parsed < min {
        return Err(invalid(name, value, &format!("Value must be at least {min}")));
    }
    Ok(parsed)
}

fn int(name: &str, value: &str, min: i32) -> Result<i32, KafkaError> {
    let parsed: i32 = value.trim().parse().map_err(|_| invalid(name, value, "Not a number of type INT"))?;
    if parsed < min {
        return Err(invalid(name, value, &format!("Value must be at least {min}")));
    }
    Ok(parsed)
}

fn boolean(name: &str, value: &str) -> Result<bool, KafkaError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(name, value, "Expected value to be either true or false")),
    }
}

/// A throttled-replicas list, refused in Kafka's words (which show the value as the list it
/// parsed).
fn throttled_replicas(name: &str, value: &str) -> Result<ThrottledReplicas, KafkaError> {
    ThrottledReplicas::parse(value).ok_or_else(|| {
        let listed: Vec<&str> = value.split(',').map(str::trim).collect();
        let why = format!(
            "{name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
        );
        invalid(name, &format!("[{}]", listed.join(", ")), &why)
    })
}

/// `compression.type` on a topic: a codec, or `producer` (keep what the producer sent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicCompression {
    /// `producer`: each batch keeps the compression the producer gave it (Kafka's default).
    #[default]
    Producer,
    /// A codec every batch is written with; `uncompressed` is `Codec(Compression::None)`.
    Codec(Compression),
}

/// `cleanup.policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupPolicy {
    /// Contains `delete`: retention deletes whole old segments (by `retention.ms`, `retention.bytes`).
    pub delete: bool,
    /// Contains `compact`: the log cleaner keeps only the latest record of each key.
    pub compact: bool,
}

/// A topic's configs, one field per Kafka config name (`retention.ms` is `retention_ms`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// `cleanup.policy`: delete old segments, compact by key, or both.
    pub cleanup_policy: CleanupPolicy,
    /// `retention.ms`: how long (ms) a segment is kept after its newest record's timestamp; -1 keeps
    /// segments for ever.
    pub retention_ms: i64,
    /// `retention.bytes`: the most bytes a partition keeps before its oldest segments are deleted;
    /// -1 (the default) has no limit.
    pub retention_bytes: i64,
    /// `segment.bytes`: the size (bytes) at which the active segment is rolled and a new one begun.
    pub segment_bytes: i32,
    /// `segment.ms`: the age (ms, by record timestamps) after which the active segment is rolled on
    /// the next append, even if not full.
    pub segment_ms: i64,
    /// `min.insync.replicas`: the fewest in-sync replicas an `acks=all` produce needs.
    pub min_insync_replicas: i32,
    /// `max.message.bytes`: the largest record batch (bytes) the topic accepts.
    pub max_message_bytes: i32,
    /// `message.timestamp.type`: whether a record keeps the producer's timestamp (`CreateTime`) or
    /// is stamped with the broker's time on append (`LogAppendTime`).
    pub message_timestamp_type: TimestampType,
    /// `compression.type`: the codec batches are stored with, or `producer` to keep the producer's.
    pub compression_type: TopicCompression,
    /// `unclean.leader.election.enable`: whether a replica outside the ISR may become leader when no
    /// in-sync one is left, at the cost of losing the records it lacks.
    pub unclean_leader_election_enable: bool,
    /// `delete.retention.ms`: how long (ms) the cleaner keeps a tombstone (a record with a null
    /// value) on a compacted topic before it drops it.
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio`: the share of a log not yet compacted (0 to 1) above which the
    /// cleaner compacts it.
    pub min_cleanable_dirty_ratio: f64,
    /// `flush.messages`: flush (fsync) the log after this many appends; `i64::MAX` (Kafka's default)
    /// never flushes for that reason.
    pub flush_messages: i64,
    /// `flush.ms`: flush (fsync) the log when this long (ms) has passed since the last flush;
    /// `i64::MAX` (Kafka's default) never does.
    pub flush_ms: i64,
    /// `leader.replication.throttled.replicas`: the replicas whose leader throttles what it sends
    /// to followers not in sync (by its broker's `leader.replication.throttled.rate`).
    #[serde(default)]
    pub leader_replication_throttled_replicas: ThrottledReplicas,
    /// `follower.replication.throttled.replicas`: the replicas that, following and not in sync,
    /// throttle their fetching (by their broker's `follower.replication.throttled.rate`).
    #[serde(default)]
    pub follower_replication_throttled_replicas: ThrottledReplicas,
}

impl Default for TopicConfig {
    /// Kafka's defaults.
    fn default() -> Self {
        TopicConfig {
            cleanup_policy: CleanupPolicy { delete: true, compact: false },
            retention_ms: 7 * DAY_MS,
            retention_bytes: -1,
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: 7 * DAY_MS,
            min_insync_replicas: 1,
            max_message_bytes: 1_048_588,
            message_timestamp_type: TimestampType::CreateTime,
            compression_type: TopicCompression::Producer,
            unclean_leader_election_enable: false,
            delete_retention_ms: DAY_MS,
            min_cleanable_dirty_ratio: 0.5,
            // Never: Kafka leaves durability to replication and the OS.
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            leader_replication_throttled_replicas: ThrottledReplicas::None,
            follower_replication_throttled_replicas: ThrottledReplicas::None,
        }
    }
}

/// The topic config names Kite knows, in Kafka's spelling.
pub const TOPIC_CONFIG_NAMES: [&str; 16] = [
    "cleanup.policy",
    "retention.ms",
    "retention.bytes",
    "segment.bytes",
    "segment.ms",
    "min.insync.replicas",
    "max.message.bytes",
    "message.timestamp.type",
    "compression.type",
    "unclean.leader.election.enable",
    "delete.retention.ms",
    "min.cleanable.dirty.ratio",
    "flush.messages",
    "flush.ms",
    "leader.replication.throttled.replicas",
    "follower.replication.throttled.replicas",
];

/// Kafka's smallest legal `segment.bytes` (`LegacyRecord.RECORD_OVERHEAD_V0`).
const MIN_SEGMENT_BYTES: i32 = 14;

impl TopicConfig {
    /// Kafka's defaults overridden by `overrides` (as `kafka-topics --config k=v` gives them).
    pub fn from_overrides(overrides: &BTreeMap<String, String>) -> Result<TopicConfig, KafkaError> {
        let mut config = TopicConfig::default();
        for (name, value) in overrides {
            config.set(name, value)?;
        }
        Ok(config)
    }

    /// Sets the config `name` to `value` (Kafka's spelling of both); an unknown name or a bad value
    /// is refused with INVALID_CONFIG, and the config is left as it was.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), KafkaError> {
        match name {
            "cleanup.policy" => {
                let mut policy = CleanupPolicy::default();
                for part in value.split(',').map(str::trim) {
                    match part {
                        "delete" => policy.delete = true,
                        "compact" => policy.compact = true,
                        _ => return Err(invalid(name, value, "String must be one of: compact, delete")),
                    }
                }
                self.cleanup_policy = policy;
            }
            "retention.ms" => self.retention_ms = long(name, value, -1)?,
            "retention.bytes" => self.retention_bytes = long(name, value, i64::MIN)?,
            "segment.bytes" => self.segment_bytes = int(name, value, MIN_SEGMENT_BYTES)?,
            "segment.ms" => self.segment_ms = long(name, value, 1)?,
            "min.insync.replicas" => self.min_insync_replicas = int(name, value, 1)?,
            "max.message.bytes" => self.max_message_bytes = int(name, value, 0)?,
            "message.timestamp.type" => {
                self.message_timestamp_type = match value.trim() {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => {
                        return Err(invalid(name, value, "String must be one of: CreateTime, LogAppendTime"));
                    }
                }
            }
            "compression.type" => {
                self.compression_type = match value.trim() {
                    "producer" => TopicCompression::Producer,
                    "uncompressed" => TopicCompression::Codec(Compression::None),
                    other => Compression::from_name(other)
                        .filter(|c| *c != Compression::None)
                        .map(TopicCompression::Codec)
                        .ok_or_else(|| {
                            invalid(
                                name,
                                value,
                                "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
                            )
                        })?,
                }
            }
            "unclean.leader.election.enable" => self.unclean_leader_election_enable = boolean(name, value)?,
            "delete.retention.ms" => self.delete_retention_ms = long(name, value, 0)?,
            "flush.messages" => self.flush_messages = long(name, value, 1)?,
            "flush.ms" => self.flush_ms = long(name, value, 0)?,
            "leader.replication.throttled.replicas" => {
                self.leader_replication_throttled_replicas = throttled_replicas(name, value)?
            }
            "follower.replication.throttled.replicas" => {
                self.follower_replication_throttled_replicas = throttled_replicas(name, value)?
            }
            "min.cleanable.dirty.ratio" => {
                let ratio: f64 =
                    value.trim().parse().map_err(|_| invalid(name, value, "Not a number of type DOUBLE"))?;
                if !(0.0..=1.0).contains(&ratio) {
                    return Err(invalid(name, value, "Value must be between 0 and 1"));
                }
                self.min_cleanable_dirty_ratio = ratio;
            }
            _ => {
                return Err(KafkaError::new(
                    ErrorCode::InvalidConfig,
                    format!("Unknown topic config name: {name}"),
                ));
            }
        }
        Ok(())
    }

    /// Every config as (name, value) in Kafka's spelling, like `kafka-configs --describe --all`.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let policy = match (self.cleanup_policy.delete, self.cleanup_policy.compact) {
            (true, true) => "compact,delete",
            (false, true) => "compact",
            _ => "delete",
        };
        let timestamp_type = match self.message_timestamp_type {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        };
        let compression = match self.compression_type {
            TopicCompression::Producer => "producer",
            TopicCompression::Codec(Compression::None) => "uncompressed",
            TopicCompression::Codec(codec) => codec.name(),
        };
        vec![
            ("cleanup.policy", policy.to_string()),
            ("retention.ms", self.retention_ms.to_string()),
            ("retention.bytes", self.retention_bytes.to_string()),
            ("segment.bytes", self.segment_bytes.to_string()),
            ("segment.ms", self.segment_ms.to_string()),
            ("min.insync.replicas", self.min_insync_replicas.to_string()),
            ("max.message.bytes", self.max_message_bytes.to_string()),
            ("message.timestamp.type", timestamp_type.to_string()),
            ("compression.type", compression.to_string()),
            ("unclean.leader.election.enable", self.unclean_leader_election_enable.to_string()),
            ("delete.retention.ms", self.delete_retention_ms.to_string()),
            ("min.cleanable.dirty.ratio", self.min_cleanable_dirty_ratio.to_string()),
            ("flush.messages", self.flush_messages.to_string()),
            ("flush.ms", self.flush_ms.to_string()),
            ("leader.replication.throttled.replicas", self.leader_replication_throttled_replicas.describe()),
            (
                "follower.replication.throttled.replicas",
                self.follower_replication_throttled_replicas.describe(),
            ),
        ]
    }
}

/// `acks`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: the producer does not wait for the broker at all.
    #[serde(rename = "0")]
    None,
    /// `acks=1`: the leader acknowledges once it has appended the records to its own log.
    #[serde(rename = "1")]
    Leader,
    /// The default since Kafka 3.0.
    #[default]
    #[serde(rename = "all")]
    All,
}

impl Acks {
    /// The producer's `acks` as Kafka reads it: `all` (or `-1`), `1` or `0`.
    pub fn from_name(name: &str) -> Option<Acks> {
        match name.trim() {
            "all" | "-1" => Some(Acks::All),
            "1" => Some(Acks::Leader),
            "0" => Some(Acks::None),
            _ => None,
        }
    }
}

/// Replication factor against the brokers there are (Kafka's messages).
pub fn validate_replication_factor(replication_factor: i16, brokers: usize) -> Result<(), KafkaError> {
    if replication_factor < 1 {
        return Err(KafkaError::new(
            ErrorCode::InvalidReplicationFactor,
            "Replication factor must be larger than 0.".to_string(),
        ));
    }
    if replication_factor as usize > brokers {
        return Err(KafkaError::new(
            ErrorCode::InvalidReplicationFactor,
            format!("Replication factor: {replication_factor} larger than available brokers: {brokers}."),
        ));
    }
    Ok(())
}

/// Which leader an ElectLeaders chooses (Kafka's ElectionType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionType {
    /// The first replica in assignment order, when it is alive and in the ISR.
    Preferred,
    /// For a partition without a leader: the first live replica, in the ISR or not.
    Unclean,
}

/// The longest `broker.rack` Kite takes, in characters (a rack or zone name).
pub const MAX_RACK_NAME_CHARS: usize = 64;

/// Each broker's `broker.rack` from a comma-separated list (broker N gets the Nth; an empty entry
/// is a broker without one): `eu-1a,eu-1b,eu-1c`. Racks are names of letters, digits, `.`, `_`
/// and `-`, at most `MAX_RACK_NAME_CHARS` each, and at most `max_brokers` of them.
pub fn broker_racks(list: &str, max_brokers: usize) -> Result<Vec<Option<String>>, String> {
    let racks: Vec<&str> = list.split(',').map(str::trim).collect();
    if racks.len() > max_brokers {
        return Err(format!("{} racks for at most {max_brokers} brokers", racks.len()));
    }
    racks
        .into_iter()
        .map(|rack| {
            let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if rack.chars().count() > MAX_RACK_NAME_CHARS {
                Err(format!("rack '{rack}' is longer than {MAX_RACK_NAME_CHARS} characters"))
            } else if !rack.chars().all(allowed) {
                Err(format!("rack '{rack}' has a character other than letters, digits, '.', '_' and '-'"))
            } else {
                Ok((!rack.is_empty()).then(|| rack.to_string()))
            }
        })
        .collect()
}

/// Kafka's broker config: whether the controller moves leadership back to preferred replicas.
pub const AUTO_LEADER_REBALANCE_ENABLE: &str = "auto.leader.rebalance.enable";
/// Kafka's broker config: how often (seconds) the controller looks for partitions not led by
/// their preferred replica.
pub const LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: &str = "leader.imbalance.check.interval.seconds";
/// Kafka's default `leader.imbalance.check.interval.seconds`.
const DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: i64 = 300;
/// The longest `leader.imbalance.check.interval.seconds` Kite takes: a year (in milliseconds it
/// must not overflow the clock's arithmetic).
const MAX_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: i64 = 365 * 24 * 60 * 60;

/// Kafka's broker config: the most bytes (past a first whole batch) a follower fetches of one
/// partition at a time.
pub const REPLICA_FETCH_MAX_BYTES: &str = "replica.fetch.max.bytes";
/// Kafka's default `replica.fetch.max.bytes` (1 MiB).
const DEFAULT_REPLICA_FETCH_MAX_BYTES: i32 = 1024 * 1024;
/// Kafka's dynamic broker config: the bytes per second a broker sends as leader to throttled
/// replicas not in sync (KIP-73; what `kafka-reassign-partitions --throttle` sets).
pub const LEADER_REPLICATION_THROTTLED_RATE: &str = "leader.replication.throttled.rate";
/// Kafka's dynamic broker config: the bytes per second a broker fetches as a throttled follower
/// not in sync.
pub const FOLLOWER_REPLICATION_THROTTLED_RATE: &str = "follower.replication.throttled.rate";
/// The broker configs that may be updated while the cluster runs (per broker, or as the
/// cluster-wide default), as Kafka lets them be.
pub const DYNAMIC_BROKER_CONFIG_NAMES: [&str; 2] =
    [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE];

/// A dynamic broker config's new value (`None`: deleted), refused in Kafka's words when the
/// config cannot be updated dynamically or the value is bad.
pub fn validate_dynamic_broker_config(name: &str, value: Option<&str>) -> Result<(), KafkaError> {
    if !DYNAMIC_BROKER_CONFIG_NAMES.contains(&name) {
        return Err(KafkaError::new(
            ErrorCode::InvalidRequest,
            format!(
                "Cannot update these configs dynamically: [{name}]. Kite updates {} while it runs; the others are set at start (kite serve --override).",
                DYNAMIC_BROKER_CONFIG_NAMES.join(" and ")
            ),
        ));
    }
    match value {
        Some(value) => long(name, value, 0).map(|_| ()),
        None => Ok(()),
    }
}

/// The broker (and controller) configs Kite honours, set when the cluster starts (Kafka's
/// `server.properties`, or `kafka-server-start --override`): read-only while it runs, as Kafka
/// has them (neither may be updated dynamically).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerConfigs {
    /// `auto.leader.rebalance.enable`: every check, partitions whose preferred replica is in the
    /// ISR but does not lead get it back as leader.
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds`: how often that check runs.
    pub leader_imbalance_check_interval_seconds: i64,
    /// `replica.fetch.max.bytes`: what a follower's fetch of one partition returns at most.
    pub replica_fetch_max_bytes: i32,
    /// `leader.replication.throttled.rate` as set at start (bytes/s; `i64::MAX`: unthrottled);
    /// a dynamic value overrides it.
    pub leader_replication_throttled_rate: i64,
    /// `follower.replication.throttled.rate` as set at start, as the leader's.
    pub follower_replication_throttled_rate: i64,
    /// Which were set rather than left at Kafka's default (in `entries`' order).
    overridden: [bool; 5],
}

impl Default for BrokerConfigs {
    fn default() -> BrokerConfigs {
        BrokerConfigs::DEFAULT
    }
}

impl BrokerConfigs {
    /// Kafka's defaults.
    pub const DEFAULT: BrokerConfigs = BrokerConfigs {
        auto_leader_rebalance_enable: true,
        leader_imbalance_check_interval_seconds: DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS,
        replica_fetch_max_bytes: DEFAULT_REPLICA_FETCH_MAX_BYTES,
        leader_replication_throttled_rate: i64::MAX,
        follower_replication_throttled_rate: i64::MAX,
        overridden: [false; 5],
    };

    /// Kafka's defaults with `overrides` (`name=value` each) applied; an unknown name or a bad
    /// value is refused with INVALID_CONFIG naming it.
    pub fn from_overrides<'a>(
        overrides: impl IntoIterator<Item = &'a str>,
    ) -> Result<BrokerConfigs, KafkaError> {
        let mut configs = BrokerConfigs::default();
        for pair in overrides {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(KafkaError::new(
                    ErrorCode::InvalidConfig,
                    format!("'{pair}' is not a broker config: expected name=value"),
                ));
            };
            configs.set(name.trim(), value)?;
        }
        Ok(configs)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), KafkaError> {
        match name {
            AUTO_LEADER_REBALANCE_ENABLE => {
                self.auto_leader_rebalance_enable = boolean(name, value)?;
                self.overridden[0] = true;
            }
            LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS => {
                let seconds = long(name, value, 1)?;
                if seconds > MAX_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS {
                    let most = format!("Value must be at most {MAX_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS}");
                    return Err(invalid(name, value, &most));
                }
                self.leader_imbalance_check_interval_seconds = seconds;
                self.overridden[1] = true;
            }
            REPLICA_FETCH_MAX_BYTES => {
                self.replica_fetch_max_bytes = int(name, value, 0)?;
                self.overridden[2] = true;
            }
            LEADER_REPLICATION_THROTTLED_RATE => {
                self.leader_replication_throttled_rate = long(name, value, 0)?;
                self.overridden[3] = true;
            }
            FOLLOWER_REPLICATION_THROTTLED_RATE => {
                self.follower_replication_throttled_rate = long(name, value, 0)?;
                self.overridden[4] = true;
            }
            _ => {
                let known = [
                    AUTO_LEADER_REBALANCE_ENABLE,
                    LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS,
                    REPLICA_FETCH_MAX_BYTES,
                    LEADER_REPLICATION_THROTTLED_RATE,
                    FOLLOWER_REPLICATION_THROTTLED_RATE,
                ];
                return Err(KafkaError::new(
                    ErrorCode::InvalidConfig,
                    format!("Kite does not know the broker config '{name}': it honours {}", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// How often the controller moves leadership back to preferred replicas (ms); `None` when
    /// `auto.leader.rebalance.enable` is off.
    pub fn preferred_leader_check_ms(&self) -> Option<i64> {
        self.auto_leader_rebalance_enable.then_some(self.leader_imbalance_check_interval_seconds * 1_000)
    }

    /// Each config as DescribeConfigs lists it: name, value, and whether it was set (else
    /// Kafka's default).
    pub fn entries(&self) -> Vec<(&'static str, String, bool)> {
        vec![
            (AUTO_LEADER_REBALANCE_ENABLE, self.auto_leader_rebalance_enable.to_string(), self.overridden[0]),
            (
                LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS,
                self.leader_imbalance_check_interval_seconds.to_string(),
                self.overridden[1],
            ),
            (REPLICA_FETCH_MAX_BYTES, self.replica_fetch_max_bytes.to_string(), self.overridden[2]),
            (
                LEADER_REPLICATION_THROTTLED_RATE,
                self.leader_replication_throttled_rate.to_string(),
                self.overridden[3],
            ),
            (
                FOLLOWER_REPLICATION_THROTTLED_RATE,
                self.follower_replication_throttled_rate.to_string(),
                self.overridden[4],
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn racks_are_listed_per_broker_and_refused_by_name() {
        assert_eq!(
            broker_racks("eu-1a,,eu-1b", 9),
            Ok(vec![Some("eu-1a".into()), None, Some("eu-1b".into())])
        );
        assert_eq!(broker_racks("a,b,c", 2), Err("3 racks for at most 2 brokers".into()));
        assert!(broker_racks("a b", 9).unwrap_err().contains("rack 'a b' has a character"));
        assert!(broker_racks(&"r".repeat(65), 9).unwrap_err().contains("longer than 64"));
    }

    #[test]
    fn broker_configs_take_kafkas_defaults_and_refuse_what_they_do_not_know_by_name() {
        let default = BrokerConfigs::default();
        assert_eq!(default.preferred_leader_check_ms(), Some(300_000));
        assert!(default.entries().iter().all(|(_, _, set)| !set));
        let off = BrokerConfigs::from_overrides(["auto.leader.rebalance.enable=false"]).unwrap();
        assert_eq!(off.preferred_leader_check_ms(), None);
        assert_eq!(off.entries()[0], (AUTO_LEADER_REBALANCE_ENABLE, "false".to_string(), true));
        let often = BrokerConfigs::from_overrides(["leader.imbalance.check.interval.seconds=30"]).unwrap();
        assert_eq!(often.preferred_leader_check_ms(), Some(30_000));
        let refused = |pair: &str| BrokerConfigs::from_overrides([pair]).unwrap_err().message;
        assert_eq!(
            refused("leader.imbalance.check.interval.seconds=0"),
            "Invalid value 0 for configuration leader.imbalance.check.interval.seconds: Value must be at least 1"
        );
        assert!(
            refused("auto.leader.rebalance.enable=yes").contains("Expected value to be either true or false")
        );
        assert!(refused("broker.rack=a").starts_with("Kite does not know the broker config 'broker.rack'"));
        assert_eq!(
            refused("auto.leader.rebalance.enable"),
            "'auto.leader.rebalance.enable' is not a broker config: expected name=value"
        );
        assert!(refused("leader.imbalance.check.interval.seconds=99999999999").contains("at most 31536000"));
        let throttled = BrokerConfigs::from_overrides(["follower.replication.throttled.rate=1000"]).unwrap();
        assert_eq!(throttled.follower_replication_throttled_rate, 1_000);
        assert_eq!(throttled.entries()[4], (FOLLOWER_REPLICATION_THROTTLED_RATE, "1000".to_string(), true));
        assert!(refused("replica.fetch.max.bytes=-1").contains("Value must be at least 0"));
        // Dynamic updates: the two rates only, as a LONG of at least 0.
        assert!(validate_dynamic_broker_config(LEADER_REPLICATION_THROTTLED_RATE, Some("10")).is_ok());
        assert!(validate_dynamic_broker_config(LEADER_REPLICATION_THROTTLED_RATE, None).is_ok());
        let bad = validate_dynamic_broker_config(LEADER_REPLICATION_THROTTLED_RATE, Some("-1")).unwrap_err();
        assert_eq!(bad.error, ErrorCode::InvalidConfig);
        let fixed = validate_dynamic_broker_config(AUTO_LEADER_REBALANCE_ENABLE, Some("true")).unwrap_err();
        assert!(
            fixed.message.starts_with("Cannot update these configs dynamically: [auto.leader"),
            "{fixed:?}"
        );
    }

    #[test]
    fn defaults_are_kafkas() {
        let entries = TopicConfig::default().entries();
        let get = |name| entries.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap();
        assert_eq!(get("retention.ms"), "604800000");
        assert_eq!(get("retention.bytes"), "-1");
        assert_eq!(get("segment.bytes"), "1073741824");
        assert_eq!(get("max.message.bytes"), "1048588");
        assert_eq!(get("min.insync.replicas"), "1");
        assert_eq!(get("cleanup.policy"), "delete");
        assert_eq!(get("compression.type"), "producer");
        assert_eq!(get("unclean.leader.election.enable"), "false");
        assert_eq!(get("delete.retention.ms"), "86400000");
        assert_eq!(get("min.cleanable.dirty.ratio"), "0.5");
        assert_eq!(entries.len(), TOPIC_CONFIG_NAMES.len());
    }

    #[test]
    fn overrides_apply_and_bad_values_are_named() {
        let config = TopicConfig::from_overrides(&overrides(&[
            ("cleanup.policy", "compact,delete"),
            ("min.insync.replicas", "2"),
            ("compression.type", "zstd"),
            ("message.timestamp.type", "LogAppendTime"),
        ]))
        .unwrap();
        assert_eq!(config.cleanup_policy, CleanupPolicy { delete: true, compact: true });
        assert_eq!(config.min_insync_replicas, 2);
        assert_eq!(config.compression_type, TopicCompression::Codec(Compression::Zstd));
        assert_eq!(config.message_timestamp_type, TimestampType::LogAppendTime);

        let cases = [
            (
                "retention.ms",
                "soon",
                "Invalid value soon for configuration retention.ms: Not a number of type LONG",
            ),
            (
                "min.insync.replicas",
                "0",
                "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1",
            ),
            (
                "cleanup.policy",
                "forever",
                "Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete",
            ),
            (
                "min.cleanable.dirty.ratio",
                "1.5",
                "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be between 0 and 1",
            ),
            (
                "segment.bytes",
                "13",
                "Invalid value 13 for configuration segment.bytes: Value must be at least 14",
            ),
            (
                "leader.replication.throttled.replicas",
                "0:1,x",
                "Invalid value [0:1, x] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
            ),
            ("colour", "blue", "Unknown topic config name: colour"),
        ];
        for (name, value, message) in cases {
            let err = TopicConfig::from_overrides(&overrides(&[(name, value)])).unwrap_err();
            assert_eq!((err.error, err.message.as_str()), (ErrorCode::InvalidConfig, message));
        }
    }

    #[test]
    fn acks_by_name() {
        for (name, acks) in [("all", Acks::All), ("-1", Acks::All), (" 1", Acks::Leader), ("0", Acks::None)] {
            assert_eq!(Acks::from_name(name), Some(acks), "{name}");
        }
        assert_eq!(Acks::from_name("2"), None);
    }

    #[test]
    fn replication_factor() {
        assert!(validate_replication_factor(3, 3).is_ok());
        assert_eq!(
            validate_replication_factor(4, 3).unwrap_err().message,
            "Replication factor: 4 larger than available brokers: 3."
        );
        assert_eq!(validate_replication_factor(0, 3).unwrap_err().error, ErrorCode::InvalidReplicationFactor);
    }
}
