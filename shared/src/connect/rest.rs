//! Kafka Connect's REST API over the worker: the same paths, JSON shapes, statuses and error
//! bodies (`{"error_code":404,"message":"Connector x not found"}`), so curl examples from Kafka's
//! docs work under `kite serve`'s `/connect` prefix. Reached on every host as the `connect`
//! command, which carries a method, a path and a JSON body.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::plugins::{self, PLUGIN_VERSION, Plugin};
use super::storage::{State, TargetState};
use super::worker::{ConnectError, Worker};
use crate::cluster::Cluster;
use crate::limits::{MAX_CONNECTOR_CONFIG_BYTES, MAX_CONNECTOR_NAME_CHARS};

/// An answer: the HTTP status and the JSON body (none for 202 and 204).
#[derive(Clone, Debug, PartialEq)]
pub struct RestResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, when there is one.
    pub body: Option<Value>,
}

impl RestResponse {
    fn ok(body: Value) -> RestResponse {
        RestResponse { status: 200, body: Some(body) }
    }

    fn empty(status: u16) -> RestResponse {
        RestResponse { status, body: None }
    }
}

impl From<ConnectError> for RestResponse {
    fn from(e: ConnectError) -> RestResponse {
        RestResponse { status: e.status, body: Some(json!({"error_code": e.status, "message": e.message})) }
    }
}

/// Answers one request: `path` is what follows `/connect` (query included).
pub fn handle(
    worker: &mut Worker,
    cluster: &mut Cluster,
    now_ms: i64,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> RestResponse {
    match route(worker, cluster, now_ms, method, path, body) {
        Ok(response) => response,
        Err(e) => e.into(),
    }
}

fn route(
    worker: &mut Worker,
    cluster: &mut Cluster,
    now_ms: i64,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<RestResponse, ConnectError> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let segments =
        path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect::<Result<Vec<_>, _>>()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let flag = |name: &str| query_value(query, name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // A worker that has not read its connectors back yet does not answer for them (a 404 for a
    // connector it holds, a 201 for a name it has): Kafka's worker answers so while it rejoins.
    if segments.first() == Some(&"connectors") && !worker.caught_up(cluster, now_ms) {
        return Err(ConnectError::new(
            409,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        ));
    }
    match (method, segments.as_slice()) {
        ("GET", []) => Ok(RestResponse::ok(json!({
            "version": PLUGIN_VERSION,
            "commit": "kite",
            "kafka_cluster_id": cluster.cluster_id(),
        }))),
        ("GET", ["connectors"]) => Ok(RestResponse::ok(list(worker, query))),
        ("POST", ["connectors"]) => create(worker, cluster, now_ms, body),
        ("GET", ["connectors", name]) => Ok(RestResponse::ok(info(worker, name)?)),
        ("DELETE", ["connectors", name]) => {
            worker.delete_connector(cluster, now_ms, name)?;
            Ok(RestResponse::empty(204))
        }
        ("GET", ["connectors", name, "config"]) => {
            Ok(RestResponse::ok(json!(worker.connector_config(name)?)))
        }
        ("PUT", ["connectors", name, "config"]) => {
            let config = config_of(body.unwrap_or(Value::Null), name)?;
            let created = worker.put_connector(cluster, now_ms, name, config)?;
            Ok(RestResponse { status: if created { 201 } else { 200 }, body: Some(info(worker, name)?) })
        }
        ("GET", ["connectors", name, "status"]) => Ok(RestResponse::ok(status(worker, name)?)),
        ("GET", ["connectors", name, "tasks"]) => Ok(RestResponse::ok(tasks(worker, name)?)),
        ("GET", ["connectors", name, "tasks", task, "status"]) => {
            Ok(RestResponse::ok(task_status(worker, name, task)?))
        }
        ("PUT", ["connectors", name, "pause"]) => {
            target(worker, cluster, now_ms, name, TargetState::Paused, 202)
        }
        ("PUT", ["connectors", name, "resume"]) => {
            target(worker, cluster, now_ms, name, TargetState::Started, 202)
        }
        ("PUT", ["connectors", name, "stop"]) => {
            target(worker, cluster, now_ms, name, TargetState::Stopped, 204)
        }
        ("POST", ["connectors", name, "restart"]) => {
            let (include_tasks, only_failed) = (flag("includeTasks"), flag("onlyFailed"));
            worker.restart(cluster, now_ms, name, include_tasks, only_failed)?;
            if !include_tasks && !only_failed {
                return Ok(RestResponse::empty(204));
            }
            Ok(RestResponse { status: 202, body: Some(status(worker, name)?) })
        }
        ("POST", ["connectors", name, "tasks", task, "restart"]) => {
            let t: usize =
                task.parse().map_err(|_| ConnectError::new(404, format!("Unknown task: {name}-{task}")))?;
            worker.restart_task(cluster, now_ms, name, t)?;
            Ok(RestResponse::empty(204))
        }
        ("GET", ["connector-plugins"]) => {
            let plugins =
                Plugin::ALL.map(|p| json!({"class": p.class(), "type": p.kind(), "version": PLUGIN_VERSION}));
            Ok(RestResponse::ok(json!(plugins)))
        }
        ("PUT", ["connector-plugins", plugin, "config", "validate"]) => {
            let found =
                Plugin::find(plugin).ok_or_else(|| ConnectError::new(400, plugins::unknown_class(plugin)))?;
            let config = config_of(body.unwrap_or(Value::Null), "")?;
            if let Some(class) = config.get("connector.class").filter(|c| Plugin::find(c) != Some(found)) {
                return Err(ConnectError::new(
                    400,
                    format!("Included connector type {class} does not match request type {plugin}"),
                ));
            }
            Ok(RestResponse::ok(plugins::validate(found, &config)))
        }
        (_, ["connectors", ..] | ["connector-plugins", ..] | []) => {
            Err(ConnectError::new(405, "HTTP 405 Method Not Allowed"))
        }
        _ => Err(ConnectError::new(404, "HTTP 404 Not Found")),
    }
}

/// `GET /connectors/{name}/tasks`: each task's id and config.
fn tasks(worker: &Worker, name: &str) -> Result<Value, ConnectError> {
    let configs = worker.task_configs(name)?;
    let tasks: Vec<Value> = configs
        .iter()
        .enumerate()
        .map(|(t, config)| json!({"id": {"connector": name, "task": t}, "config": config}))
        .collect();
    Ok(json!(tasks))
}

/// `GET /connectors/{name}/tasks/{task}/status`.
fn task_status(worker: &Worker, name: &str, task: &str) -> Result<Value, ConnectError> {
    let (_, tasks) = worker.states(name)?;
    let missing = || ConnectError::new(404, format!("No status found for task {name}-{task}"));
    let t: usize = task.parse().map_err(|_| missing())?;
    let (state, trace) = tasks.get(t).copied().ok_or_else(missing)?;
    Ok(task_state(t, state, trace, worker.worker_id()))
}

/// `GET /connectors`: the names, or with `?expand=status` / `?expand=info` a map of each.
fn list(worker: &Worker, query: &str) -> Value {
    let expand: Vec<&str> = query.split('&').filter_map(|p| p.strip_prefix("expand=")).collect();
    let names = worker.connector_names();
    if expand.is_empty() {
        return json!(names);
    }
    let mut all = serde_json::Map::new();
    for name in names {
        let mut one = serde_json::Map::new();
        if expand.contains(&"status") {
            one.insert("status".into(), status(worker, &name).unwrap_or(Value::Null));
        }
        if expand.contains(&"info") {
            one.insert("info".into(), info(worker, &name).unwrap_or(Value::Null));
        }
        all.insert(name, Value::Object(one));
    }
    Value::Object(all)
}

/// `POST /connectors`: `{"name", "config", "initial_state"}`; 201, or 409 when it exists.
fn create(
    worker: &mut Worker,
    cluster: &mut Cluster,
    now_ms: i64,
    body: Option<Value>,
) -> Result<RestResponse, ConnectError> {
    let Some(Value::Object(mut request)) = body else {
        return Err(ConnectError::new(
            400,
            "Request body must be a JSON object with \"name\" and \"config\"",
        ));
    };
    let name = match request.remove("name") {
        Some(Value::String(name)) => name.trim().to_string(),
        _ => return Err(ConnectError::new(400, "Connector name must be a string")),
    };
    let config = config_of(request.remove("config").unwrap_or(Value::Null), &name)?;
    if let Some(initial) = request.remove("initial_state").filter(|s| !s.is_null()) {
        let state = match initial.as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("RUNNING") => TargetState::Started,
            Some("PAUSED") => TargetState::Paused,
            Some("STOPPED") => TargetState::Stopped,
            _ => {
                return Err(ConnectError::new(
                    400,
                    format!("Invalid initial state {initial}: RUNNING, PAUSED or STOPPED"),
                ));
            }
        };
        plugins::parse(&config).map_err(|e| ConnectError::new(400, e))?;
        check_absent(worker, &name)?;
        worker.put_connector(cluster, now_ms, &name, config)?;
        worker.set_target(cluster, now_ms, &name, state)?;
    } else {
        plugins::parse(&config).map_err(|e| ConnectError::new(400, e))?;
        check_absent(worker, &name)?;
        worker.put_connector(cluster, now_ms, &name, config)?;
    }
    Ok(RestResponse { status: 201, body: Some(info(worker, &name)?) })
}

fn check_absent(worker: &Worker, name: &str) -> Result<(), ConnectError> {
    match worker.connector_config(name) {
        Ok(_) => Err(ConnectError::new(409, format!("Connector {name} already exists"))),
        Err(_) => Ok(()),
    }
}

fn target(
    worker: &mut Worker,
    cluster: &mut Cluster,
    now_ms: i64,
    name: &str,
    state: TargetState,
    status: u16,
) -> Result<RestResponse, ConnectError> {
    worker.set_target(cluster, now_ms, name, state)?;
    Ok(RestResponse::empty(status))
}

/// A config from a request body: a JSON object of strings (numbers and booleans are taken as
/// their text, as Jackson reads them into Kafka's `Map<String, String>`), with `name` set to the
/// connector's when absent and refused when it differs.
fn config_of(body: Value, name: &str) -> Result<BTreeMap<String, String>, ConnectError> {
    let Value::Object(fields) = body else {
        return Err(ConnectError::new(400, "The connector config must be a JSON object of strings"));
    };
    let mut config = BTreeMap::new();
    for (key, value) in fields {
        let text = match value {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(ConnectError::new(
                    400,
                    format!("The config {key} must be a string, not {other}"),
                ));
            }
        };
        config.insert(key, text);
    }
    if config.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > MAX_CONNECTOR_CONFIG_BYTES {
        return Err(ConnectError::new(
            400,
            format!("A connector config may hold at most {MAX_CONNECTOR_CONFIG_BYTES} bytes"),
        ));
    }
    if name.is_empty() {
        return Ok(config);
    }
    check_name(name)?;
    match config.get("name") {
        Some(given) if given != name => Err(ConnectError::new(
            400,
            format!(
                "Connector name configuration ({given}) doesn't match connector name in the URL ({name})"
            ),
        )),
        Some(_) => Ok(config),
        None => {
            config.insert("name".into(), name.to_string());
            Ok(config)
        }
    }
}

fn check_name(name: &str) -> Result<(), ConnectError> {
    if name.is_empty() || name.chars().count() > MAX_CONNECTOR_NAME_CHARS {
        return Err(ConnectError::new(
            400,
            format!("A connector name of 1 to {MAX_CONNECTOR_NAME_CHARS} characters is needed"),
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err(ConnectError::new(
            400,
            format!("Connector name {name:?} may not contain ISO control characters or '/'"),
        ));
    }
    Ok(())
}

/// ConnectorInfo: `{"name", "config", "tasks": [{"connector", "task"}], "type"}`.
fn info(worker: &Worker, name: &str) -> Result<Value, ConnectError> {
    let config = worker.connector_config(name)?;
    let tasks: Vec<Value> =
        (0..worker.task_configs(name)?.len()).map(|t| json!({"connector": name, "task": t})).collect();
    Ok(json!({"name": name, "config": config, "tasks": tasks, "type": worker.connector_type(name)}))
}

/// ConnectorStateInfo: the connector's and each task's state, worker and (when failed) trace.
fn status(worker: &Worker, name: &str) -> Result<Value, ConnectError> {
    let ((state, trace), tasks) = worker.states(name)?;
    let mut connector = json!({"state": state, "worker_id": worker.worker_id()});
    if let Some(trace) = trace.filter(|t| !t.is_empty()) {
        connector["trace"] = json!(trace);
    }
    let tasks: Vec<Value> = tasks
        .iter()
        .enumerate()
        .map(|(t, (state, trace))| task_state(t, *state, *trace, worker.worker_id()))
        .collect();
    Ok(json!({"name": name, "connector": connector, "tasks": tasks, "type": worker.connector_type(name)}))
}

fn task_state(id: usize, state: State, trace: Option<&str>, worker_id: &str) -> Value {
    let mut task = json!({"id": id, "state": state, "worker_id": worker_id});
    if let Some(trace) = trace.filter(|t| !t.is_empty()) {
        task["trace"] = json!(trace);
    }
    task
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// A path segment %-decoded (`my%20connector`); bad escapes or bytes that are not UTF-8 are
/// refused.
fn percent_decode(segment: &str) -> Result<String, ConnectError> {
    let bad = || ConnectError::new(400, format!("The path segment {segment:?} is not valid %-encoded UTF-8"));
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// A connector's name for a path segment: every byte but letters, digits, `-`, `.`, `_` and `~`
/// %-encoded.
pub fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
