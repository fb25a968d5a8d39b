//! What Kafka Connect keeps in its three internal topics, in Kafka Connect's own keys and JSON
//! (its internal JsonConverter, `schemas.enable=false`): connector and task configs in
//! `connect-configs`, source offsets in `connect-offsets`, states in `connect-status`. A worker
//! that starts reads them back; anything a client wrote there that does not parse is skipped
//! with the reason, never trusted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Connector and task configs, target states (one partition: their order matters).
pub const CONFIG_TOPIC: &str = "connect-configs";
/// Source connectors' offsets.
pub const OFFSET_TOPIC: &str = "connect-offsets";
/// Connectors' and tasks' states.
pub const STATUS_TOPIC: &str = "connect-status";
/// `offset.storage.partitions`' default.
pub const OFFSET_TOPIC_PARTITIONS: i32 = 25;
/// `status.storage.partitions`' default.
pub const STATUS_TOPIC_PARTITIONS: i32 = 5;

/// A connector's or task's state, by Kafka Connect's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not running on any worker yet.
    Unassigned,
    /// Running.
    Running,
    /// Paused by `PUT /pause`.
    Paused,
    /// Failed: its trace says why; `POST /restart` runs it again.
    Failed,
    /// Being restarted.
    Restarting,
    /// Stopped.
    Stopped,
}

/// What a connector was asked to be (`target-state-<name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetState {
    /// Running (the default when no record says otherwise).
    Started,
    /// Paused: its tasks keep their place and do nothing.
    Paused,
    /// Stopped: no tasks.
    Stopped,
}

impl TargetState {
    fn name(self) -> &'static str {
        match self {
            TargetState::Started => "STARTED",
            TargetState::Paused => "PAUSED",
            TargetState::Stopped => "STOPPED",
        }
    }
}

/// A record of `connect-configs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigRecord {
    /// `connector-<name>`: its config, or `None` (a tombstone) once deleted.
    Connector {
        /// The connector.
        name: String,
        /// Its config; `None` once deleted.
        properties: Option<BTreeMap<String, String>>,
    },
    /// `task-<name>-<n>`: one task's config.
    Task {
        /// The connector.
        name: String,
        /// The task's number, from 0.
        task: usize,
        /// The task's config.
        properties: BTreeMap<String, String>,
    },
    /// `commit-<name>`: the task configs written before it are the connector's, `tasks` of them.
    Commit {
        /// The connector.
        name: String,
        /// How many task configs it has.
        tasks: usize,
    },
    /// `target-state-<name>`, or `None` (a tombstone) once deleted.
    Target {
        /// The connector.
        name: String,
        /// What it was asked to be; `None` once deleted.
        state: Option<TargetState>,
    },
}

#[derive(Serialize, Deserialize)]
struct Properties {
    properties: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Commit {
    tasks: usize,
}

#[derive(Serialize, Deserialize)]
struct Target {
    state: String,
    #[serde(rename = "state.v2", default, skip_serializing_if = "Option::is_none")]
    state_v2: Option<String>,
}

impl ConfigRecord {
    /// The record's key.
    pub fn key(&self) -> String {
        match self {
            ConfigRecord::Connector { name, .. } => format!("connector-{name}"),
            ConfigRecord::Task { name, task, .. } => format!("task-{name}-{task}"),
            ConfigRecord::Commit { name, .. } => format!("commit-{name}"),
            ConfigRecord::Target { name, .. } => format!("target-state-{name}"),
        }
    }

    /// The record's value; `None` is a tombstone.
    pub fn value(&self) -> Option<String> {
        let json = match self {
            ConfigRecord::Connector { properties, .. } => {
                serde_json::to_string(&Properties { properties: properties.clone()? })
            }
            ConfigRecord::Task { properties, .. } => {
                serde_json::to_string(&Properties { properties: properties.clone() })
            }
            ConfigRecord::Commit { tasks, .. } => serde_json::to_string(&Commit { tasks: *tasks }),
            // STOPPED is written as PAUSED for workers that predate it, as Kafka does.
            ConfigRecord::Target { state, .. } => {
                let state = (*state)?;
                serde_json::to_string(&Target {
                    state: if state == TargetState::Stopped { "PAUSED" } else { state.name() }.to_string(),
                    state_v2: Some(state.name().to_string()),
                })
            }
        };
        json.ok()
    }

    /// Reads a record back: `Ok(None)` for keys Kite does not use (`session-key`, …).
    pub fn parse(key: &str, value: Option<&str>) -> Result<Option<ConfigRecord>, String> {
        let bad = |e: serde_json::Error| format!("{CONFIG_TOPIC} record {key}: {e}");
        if let Some(name) = key.strip_prefix("connector-") {
            let properties = match value {
                None => None,
                Some(v) => Some(serde_json::from_str::<Properties>(v).map_err(bad)?.properties),
            };
            return Ok(Some(ConfigRecord::Connector { name: name.to_string(), properties }));
        }
        if let Some(name) = key.strip_prefix("target-state-") {
            let state = match value {
                None => None,
                Some(v) => {
                    let target = serde_json::from_str::<Target>(v).map_err(bad)?;
                    Some(match target.state_v2.as_deref().unwrap_or(&target.state) {
                        "STARTED" => TargetState::Started,
                        "PAUSED" => TargetState::Paused,
                        "STOPPED" => TargetState::Stopped,
                        other => return Err(format!("{CONFIG_TOPIC} record {key}: no target state {other}")),
                    })
                }
            };
            return Ok(Some(ConfigRecord::Target { name: name.to_string(), state }));
        }
        if let Some(name) = key.strip_prefix("commit-") {
            let Some(v) = value else { return Ok(None) };
            let tasks = serde_json::from_str::<Commit>(v).map_err(bad)?.tasks;
            return Ok(Some(ConfigRecord::Commit { name: name.to_string(), tasks }));
        }
        if let Some(rest) = key.strip_prefix("task-") {
            let (Some((name, task)), Some(v)) = (rest.rsplit_once('-'), value) else { return Ok(None) };
            let task = task.parse().map_err(|_| format!("{CONFIG_TOPIC} record {key}: no task number"))?;
            let properties = serde_json::from_str::<Properties>(v).map_err(bad)?.properties;
            return Ok(Some(ConfigRecord::Task { name: name.to_string(), task, properties }));
        }
        Ok(None)
    }
}

/// `status-connector-<name>`.
pub fn connector_status_key(name: &str) -> String {
    format!("status-connector-{name}")
}

/// `status-task-<name>-<n>`.
pub fn task_status_key(name: &str, task: usize) -> String {
    format!("status-task-{name}-{task}")
}

/// A `connect-status` value: `{"state":"RUNNING","trace":null,"worker_id":…,"generation":…}`.
pub fn status_value(state: State, trace: Option<&str>, worker_id: &str, generation: i32) -> String {
    #[derive(Serialize)]
    struct Status<'a> {
        state: State,
        trace: Option<&'a str>,
        worker_id: &'a str,
        generation: i32,
    }
    serde_json::to_string(&Status { state, trace, worker_id, generation }).unwrap_or_default()
}

/// A `connect-offsets` key: `["<connector>",{<source partition>}]`.
pub fn offset_key(connector: &str, partition: &serde_json::Value) -> String {
    serde_json::json!([connector, partition]).to_string()
}

/// Reads a `connect-offsets` key back: the connector and its source partition.
pub fn parse_offset_key(key: &str) -> Result<(String, serde_json::Value), String> {
    let refused = || format!("{OFFSET_TOPIC} key {key} is not [\"<connector>\", {{<partition>}}]");
    let value: serde_json::Value = serde_json::from_str(key).map_err(|_| refused())?;
    match value {
        serde_json::Value::Array(mut pair) if pair.len() == 2 && pair[1].is_object() => {
            let partition = pair.pop().unwrap_or_default();
            let connector = pair.pop().and_then(|c| c.as_str().map(String::from)).ok_or_else(refused)?;
            Ok((connector, partition))
        }
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_records_are_kafka_connects_keys_and_json() {
        let properties = BTreeMap::from([("file".to_string(), "test.txt".to_string())]);
        let connector = ConfigRecord::Connector { name: "src".into(), properties: Some(properties.clone()) };
        assert_eq!(connector.key(), "connector-src");
        assert_eq!(connector.value().unwrap(), r#"{"properties":{"file":"test.txt"}}"#);
        let task = ConfigRecord::Task { name: "my-src".into(), task: 2, properties };
        assert_eq!(task.key(), "task-my-src-2");
        let commit = ConfigRecord::Commit { name: "src".into(), tasks: 1 };
        assert_eq!(commit.value().unwrap(), r#"{"tasks":1}"#);
        let stopped = ConfigRecord::Target { name: "src".into(), state: Some(TargetState::Stopped) };
        assert_eq!(stopped.value().unwrap(), r#"{"state":"PAUSED","state.v2":"STOPPED"}"#);
        for record in [connector, task, commit, stopped] {
            let again = ConfigRecord::parse(&record.key(), record.value().as_deref()).unwrap();
            assert_eq!(again, Some(record));
        }
        let deleted = ConfigRecord::Connector { name: "src".into(), properties: None };
        assert_eq!(deleted.value(), None);
        assert_eq!(ConfigRecord::parse("connector-src", None).unwrap(), Some(deleted));
        assert_eq!(ConfigRecord::parse("session-key", Some("{}")).unwrap(), None);
        assert!(ConfigRecord::parse("connector-x", Some("[1")).unwrap_err().contains("connector-x"));
        assert!(ConfigRecord::parse("task-x-y", Some(r#"{"properties":{}}"#)).is_err());
    }

    #[test]
    fn status_and_offset_records_are_kafka_connects_json() {
        assert_eq!(
            status_value(State::Running, None, "127.0.0.1:8080", 1),
            r#"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8080","generation":1}"#
        );
        let key = offset_key("local-file-source", &serde_json::json!({"filename": "test.txt"}));
        assert_eq!(key, r#"["local-file-source",{"filename":"test.txt"}]"#);
        assert_eq!(parse_offset_key(&key).unwrap().0, "local-file-source");
        assert!(parse_offset_key("[1,2]").is_err());
        assert!(parse_offset_key("nope").is_err());
    }
}
