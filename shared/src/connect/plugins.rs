//! The connector plugins Kite Connect has, and their configs: what a connector's config must
//! hold, its defaults, and what `PUT /connector-plugins/{plugin}/config/validate` answers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::converter::Converter;
use super::datagen::Quickstart;
use super::files::check_path;
use super::jdbc_sink::{self, JdbcConfig};
use super::transforms::Chain;
use crate::limits::{MAX_CONNECTOR_TASKS, MAX_DATAGEN_INTERVAL_MS, MAX_SOURCE_BATCH_RECORDS};

/// The Kafka version Kite's plugins report (`GET /connector-plugins`): the one whose Connect
/// Kite follows.
pub const PLUGIN_VERSION: &str = "3.9.0";

/// A source connector brings data into Kafka, a sink connector takes it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    /// Reads from a system, produces to topics.
    Source,
    /// Consumes from topics, writes to a system.
    Sink,
}

/// A connector class Kite has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plugin {
    /// `FileStreamSourceConnector`: each new line of a file becomes a record.
    FileStreamSource,
    /// `FileStreamSinkConnector`: each record's value is appended to a file as a line.
    FileStreamSink,
    /// `DatagenConnector` (kafka-connect-datagen): mock records of a quickstart.
    Datagen,
    /// `JdbcSinkConnector` (Confluent's), on SQLite: each record a row of a table.
    JdbcSink,
}

impl Plugin {
    /// Every plugin, as `GET /connector-plugins` lists them.
    pub const ALL: [Plugin; 4] =
        [Plugin::FileStreamSink, Plugin::FileStreamSource, Plugin::Datagen, Plugin::JdbcSink];

    /// Its Java class name, as Kafka's own.
    pub fn class(self) -> &'static str {
        match self {
            Plugin::FileStreamSource => "org.apache.kafka.connect.file.FileStreamSourceConnector",
            Plugin::FileStreamSink => "org.apache.kafka.connect.file.FileStreamSinkConnector",
            Plugin::Datagen => "io.confluent.kafka.connect.datagen.DatagenConnector",
            Plugin::JdbcSink => "io.confluent.connect.jdbc.JdbcSinkConnector",
        }
    }

    /// Source or sink.
    pub fn kind(self) -> ConnectorType {
        match self {
            Plugin::FileStreamSource | Plugin::Datagen => ConnectorType::Source,
            Plugin::FileStreamSink | Plugin::JdbcSink => ConnectorType::Sink,
        }
    }

    /// The plugin a `connector.class` names: its class name, its simple name, or that without
    /// `Connector` (Kafka's aliases).
    pub fn find(name: &str) -> Option<Plugin> {
        let name = name.trim();
        Plugin::ALL.into_iter().find(|plugin| {
            let class = plugin.class();
            let simple = class.rsplit('.').next().unwrap_or(class);
            name == class || name == simple || Some(name) == simple.strip_suffix("Connector")
        })
    }
}

/// A connector's config, checked: what its tasks run with.
#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    /// `name`.
    pub name: String,
    /// `connector.class`.
    pub plugin: Plugin,
    /// `tasks.max` (1 by default, at most `MAX_CONNECTOR_TASKS`).
    pub tasks_max: usize,
    /// `key.converter` and its settings.
    pub key_converter: Converter,
    /// `value.converter` and its settings.
    pub value_converter: Converter,
    /// `file`: the file read or written, inside the connect directory; the JDBC sink's
    /// database (its `connection.url` without `jdbc:sqlite:`).
    pub file: String,
    /// A source's `topic`.
    pub topic: Option<String>,
    /// A sink's `topics`.
    pub topics: Vec<String>,
    /// A sink's `topics.regex`: it reads every topic whose whole name matches (internal ones
    /// left out), looked for again every `worker::SINK_TOPICS_REGEX_REFRESH_MS`.
    pub topics_regex: Option<regex_lite::Regex>,
    /// A source's `batch.size`: the most lines one poll reads (2,000 by default).
    pub batch_size: usize,
    /// `transforms` and their `predicates`.
    pub transforms: std::sync::Arc<Chain>,
    /// `errors.tolerance=all`: a record that fails is skipped, not the task failed.
    pub tolerate_all: bool,
    /// A sink's `errors.deadletterqueue.topic.name`.
    pub dlq_topic: Option<String>,
    /// `errors.deadletterqueue.context.headers.enable`.
    pub dlq_context_headers: bool,
    /// Datagen's `quickstart`.
    pub quickstart: Option<Quickstart>,
    /// Datagen's `max.interval` (ms, 500 by default): the longest wait between records.
    pub max_interval_ms: i64,
    /// Datagen's `iterations` (-1, the default: without end).
    pub iterations: i64,
    /// The JDBC sink's settings.
    pub jdbc: Option<JdbcConfig>,
}

/// One config's definition, as `config/validate` shows it.
#[derive(Clone, Copy, Debug)]
struct Definition {
    name: &'static str,
    kind: &'static str,
    required: bool,
    default: Option<&'static str>,
    importance: &'static str,
    documentation: &'static str,
    group: Option<&'static str>,
    display_name: &'static str,
}

const fn common(
    name: &'static str,
    kind: &'static str,
    default: Option<&'static str>,
    documentation: &'static str,
    display_name: &'static str,
) -> Definition {
    Definition {
        name,
        kind,
        required: default.is_none(),
        default,
        importance: "HIGH",
        documentation,
        group: Some("Common"),
        display_name,
    }
}

const COMMON: [Definition; 5] = [
    common("name", "STRING", None, "Globally unique name to use for this connector.", "Connector name"),
    common(
        "connector.class",
        "STRING",
        None,
        "Name or alias of the class for this connector.",
        "Connector class",
    ),
    common("tasks.max", "INT", Some("1"), "Maximum number of tasks to use for this connector.", "Tasks max"),
    common(
        "key.converter",
        "CLASS",
        Some(""),
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
        "Key converter class",
    ),
    common(
        "value.converter",
        "CLASS",
        Some(""),
        "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
        "Value converter class",
    ),
];

const SINK_TOPICS: Definition =
    common("topics", "LIST", Some(""), "List of topics to consume, separated by commas", "Topics");

const SINK_TOPICS_REGEX: Definition = common(
    "topics.regex",
    "STRING",
    Some(""),
    "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.",
    "Topics regex",
);

const FILE: Definition = Definition {
    name: "file",
    kind: "STRING",
    required: true,
    default: None,
    importance: "HIGH",
    documentation: "Source filename (Kite: inside the connect directory; Kafka would read standard input without one).",
    group: None,
    display_name: "file",
};

const TOPIC: Definition = Definition {
    name: "topic",
    kind: "STRING",
    required: true,
    default: None,
    importance: "HIGH",
    documentation: "The topic to publish data to",
    group: None,
    display_name: "topic",
};

const BATCH_SIZE: Definition = Definition {
    name: "batch.size",
    kind: "INT",
    required: false,
    default: Some("2000"),
    importance: "LOW",
    documentation: "The maximum number of records the source task can read from the file each time it is polled",
    group: None,
    display_name: "batch.size",
};

const fn datagen(
    name: &'static str,
    kind: &'static str,
    default: Option<&'static str>,
    documentation: &'static str,
) -> Definition {
    Definition {
        name,
        kind,
        required: default.is_none(),
        default,
        importance: "HIGH",
        documentation,
        group: Some("Datagen"),
        display_name: name,
    }
}

const DATAGEN: [Definition; 4] = [
    datagen("kafka.topic", "STRING", None, "Topic to write to"),
    datagen(
        "quickstart",
        "STRING",
        None,
        "Name of quickstart to use: orders, users, pageviews or clickstream",
    ),
    datagen("max.interval", "LONG", Some("500"), "Max interval between messages (ms)"),
    datagen(
        "iterations",
        "INT",
        Some("-1"),
        "Number of messages to send from each task, or less than 1 for unlimited",
    ),
];

const fn errors(
    name: &'static str,
    kind: &'static str,
    default: &'static str,
    documentation: &'static str,
) -> Definition {
    Definition {
        name,
        kind,
        required: false,
        default: Some(default),
        importance: "MEDIUM",
        documentation,
        group: Some("Error Handling"),
        display_name: name,
    }
}

const ERRORS: [Definition; 3] = [
    errors(
        "errors.tolerance",
        "STRING",
        "none",
        "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.",
    ),
    errors(
        "errors.deadletterqueue.topic.name",
        "STRING",
        "",
        "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters.",
    ),
    errors(
        "errors.deadletterqueue.context.headers.enable",
        "BOOLEAN",
        "false",
        "If true, add headers containing error context to the messages written to the dead letter queue.",
    ),
];

const fn jdbc(
    name: &'static str,
    kind: &'static str,
    default: Option<&'static str>,
    group: &'static str,
    documentation: &'static str,
) -> Definition {
    Definition {
        name,
        kind,
        required: default.is_none(),
        default,
        importance: "HIGH",
        documentation,
        group: Some(group),
        display_name: name,
    }
}

const JDBC: [Definition; 8] = [
    jdbc(
        "connection.url",
        "STRING",
        None,
        "Connection",
        "JDBC connection URL (Kite: jdbc:sqlite:<a file inside the connect directory>).",
    ),
    jdbc(
        "insert.mode",
        "STRING",
        Some("insert"),
        "Writes",
        "The insertion mode to use: insert, upsert (insert or update by primary key) or update.",
    ),
    jdbc(
        "table.name.format",
        "STRING",
        Some("${topic}"),
        "Data Mapping",
        "A format string for the destination table name, which may contain '${topic}' as a placeholder for the originating topic name.",
    ),
    jdbc(
        "pk.mode",
        "STRING",
        Some("none"),
        "Data Mapping",
        "The primary key mode: none, kafka (topic, partition, offset), record_key or record_value.",
    ),
    jdbc("pk.fields", "LIST", Some(""), "Data Mapping", "List of comma-separated primary key field names."),
    jdbc(
        "delete.enabled",
        "BOOLEAN",
        Some("false"),
        "Writes",
        "Whether to treat null record values as deletes. Requires pk.mode to be record_key.",
    ),
    jdbc(
        "auto.create",
        "BOOLEAN",
        Some("false"),
        "DDL Support",
        "Whether to automatically create the destination table based on record schema if it is found to be missing by issuing CREATE.",
    ),
    jdbc(
        "auto.evolve",
        "BOOLEAN",
        Some("false"),
        "DDL Support",
        "Whether to automatically add columns in the table schema when found to be missing relative to the record schema by issuing ALTER.",
    ),
];

fn definitions(plugin: Plugin) -> Vec<Definition> {
    let mut all = COMMON.to_vec();
    all.extend(ERRORS);
    match plugin {
        Plugin::Datagen => all.extend(DATAGEN),
        Plugin::FileStreamSource => all.extend([FILE, TOPIC, BATCH_SIZE]),
        Plugin::FileStreamSink => {
            all.extend([SINK_TOPICS, SINK_TOPICS_REGEX]);
            all.push(Definition { documentation: "Destination filename (Kite: inside the connect directory; Kafka would write standard output without one).", ..FILE });
        }
        Plugin::JdbcSink => {
            all.extend([SINK_TOPICS, SINK_TOPICS_REGEX]);
            all.extend(JDBC);
        }
    }
    all
}

/// Each config's errors, by name (every definition has an entry, most empty).
pub type ConfigErrors = BTreeMap<String, Vec<String>>;

/// Checks a connector's config for `plugin`: every definition's errors, then the config when
/// there are none.
fn check(plugin: Plugin, config: &BTreeMap<String, String>) -> (ConfigErrors, Option<ConnectorConfig>) {
    let mut errors: ConfigErrors =
        definitions(plugin).iter().map(|d| (d.name.to_string(), Vec::new())).collect();
    let mut refuse = |name: &str, message: String| errors.entry(name.to_string()).or_default().push(message);
    for d in definitions(plugin) {
        if d.required && config.get(d.name).is_none_or(|v| v.trim().is_empty()) {
            refuse(
                d.name,
                format!("Missing required configuration \"{}\" which has no default value.", d.name),
            );
        }
    }
    let tasks_max = int(config, "tasks.max", 1, MAX_CONNECTOR_TASKS, &mut refuse);
    let batch_size = int(config, "batch.size", 2000, MAX_SOURCE_BATCH_RECORDS, &mut refuse);
    let (quickstart, max_interval_ms, iterations) = datagen_settings(plugin, config, &mut refuse);
    let (tolerate_all, dlq_topic, dlq_context_headers) = error_handling(config, &mut refuse);
    let transforms = Chain::parse(config).unwrap_or_else(|problems| {
        for (key, message) in problems {
            refuse(&key, message);
        }
        Chain::default()
    });
    let mut converter = |which: &str| {
        Converter::from_config(config, which).unwrap_or_else(|e| {
            refuse(which, e);
            Converter::String
        })
    };
    let (key_converter, value_converter) = (converter("key.converter"), converter("value.converter"));
    let (file, jdbc) = file_of(plugin, config, &mut refuse);
    let (topic, topics, topics_regex) = topics_of(plugin, config, &mut refuse);
    check_dlq_topic(dlq_topic.as_deref(), &topics, topics_regex.as_ref(), config, &mut refuse);
    if errors.values().any(|e| !e.is_empty()) {
        return (errors, None);
    }
    let checked = ConnectorConfig {
        name: config.get("name").cloned().unwrap_or_default(),
        plugin,
        tasks_max,
        key_converter,
        value_converter,
        file,
        topic,
        topics,
        topics_regex,
        batch_size,
        transforms: std::sync::Arc::new(transforms),
        tolerate_all,
        dlq_topic,
        dlq_context_headers,
        quickstart,
        max_interval_ms,
        iterations,
        jdbc,
    };
    (errors, Some(checked))
}

/// The file a file connector reads or writes, or the JDBC sink's database and settings.
fn file_of(
    plugin: Plugin,
    config: &BTreeMap<String, String>,
    refuse: &mut dyn FnMut(&str, String),
) -> (String, Option<JdbcConfig>) {
    let jdbc = (plugin == Plugin::JdbcSink).then(|| JdbcConfig::parse(config, refuse));
    let (key, file) = match (plugin, config.get("connection.url")) {
        (Plugin::JdbcSink, Some(url)) => match jdbc_sink::database_of(url) {
            Ok(path) => ("connection.url", path),
            Err(e) => {
                refuse("connection.url", e);
                return (String::new(), jdbc);
            }
        },
        (Plugin::JdbcSink, None) => return (String::new(), jdbc),
        _ => ("file", config.get("file").map(|f| f.trim().to_string()).unwrap_or_default()),
    };
    if let (false, Err(e)) = (file.is_empty(), check_path(&file)) {
        refuse(key, e);
    }
    (file, jdbc)
}

/// A config that is a number from 1 to `max`; `default` when absent or refused.
fn int(
    config: &BTreeMap<String, String>,
    name: &str,
    default: usize,
    max: usize,
    refuse: &mut dyn FnMut(&str, String),
) -> usize {
    match config.get(name).map(|v| v.trim().parse::<usize>()) {
        None => default,
        Some(Ok(n)) if (1..=max).contains(&n) => n,
        Some(_) => {
            let given = &config[name];
            refuse(
                name,
                format!(
                    "Invalid value {given} for configuration {name}: Value must be an integer from 1 to {max}"
                ),
            );
            default
        }
    }
}

/// Datagen's `quickstart`, `max.interval` and `iterations`.
fn datagen_settings(
    plugin: Plugin,
    config: &BTreeMap<String, String>,
    refuse: &mut dyn FnMut(&str, String),
) -> (Option<Quickstart>, i64, i64) {
    let max_interval_ms = int(config, "max.interval", 500, MAX_DATAGEN_INTERVAL_MS, refuse) as i64;
    let iterations = match config.get("iterations").map(|v| v.trim().parse::<i64>()) {
        None => -1,
        Some(Ok(n)) => n.max(-1),
        Some(Err(_)) => {
            let given = &config["iterations"];
            refuse(
                "iterations",
                format!("Invalid value {given} for configuration iterations: Not a number of type INT"),
            );
            -1
        }
    };
    let quickstart = config.get("quickstart").and_then(|q| Quickstart::named(q));
    if let (Plugin::Datagen, Some(name), None) = (plugin, config.get("quickstart"), quickstart) {
        refuse(
            "quickstart",
            format!(
                "Invalid value {name} for configuration quickstart: Kite has orders, users, pageviews and clickstream"
            ),
        );
    }
    (quickstart, max_interval_ms, iterations)
}

/// `errors.tolerance`, `errors.deadletterqueue.topic.name` and its context headers.
fn error_handling(
    config: &BTreeMap<String, String>,
    refuse: &mut dyn FnMut(&str, String),
) -> (bool, Option<String>, bool) {
    let tolerate_all = match config.get("errors.tolerance").map(|v| v.trim().to_ascii_lowercase()).as_deref()
    {
        None | Some("none") => false,
        Some("all") => true,
        Some(other) => {
            refuse(
                "errors.tolerance",
                format!(
                    "Invalid value {other} for configuration errors.tolerance: String must be one of: none, all"
                ),
            );
            false
        }
    };
    let dlq_topic = config
        .get("errors.deadletterqueue.topic.name")
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(Err(e)) = dlq_topic.as_deref().map(crate::topic::validate_name) {
        refuse("errors.deadletterqueue.topic.name", e.message);
    }
    let context_headers = config
        .get("errors.deadletterqueue.context.headers.enable")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    (tolerate_all, dlq_topic, context_headers)
}

/// A source's topic (`topic`, or datagen's `kafka.topic`) and a sink's `topics` or
/// `topics.regex` (one of the two, as Kafka's SinkConnectorConfig has it), each name checked.
fn topics_of(
    plugin: Plugin,
    config: &BTreeMap<String, String>,
    refuse: &mut dyn FnMut(&str, String),
) -> (Option<String>, Vec<String>, Option<regex_lite::Regex>) {
    let topics: Vec<String> = config
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    let pattern = config.get("topics.regex").map(|r| r.trim()).filter(|r| !r.is_empty());
    let mut topics_regex = None;
    if plugin.kind() == ConnectorType::Sink {
        match (topics.is_empty(), pattern) {
            (true, None) => refuse("topics", "Must configure one of topics or topics.regex".to_string()),
            (false, Some(_)) => refuse(
                "topics",
                "topics and topics.regex are mutually exclusive options, but both are set.".to_string(),
            ),
            (_, Some(pattern)) => match super::transforms::regex(pattern) {
                Ok(regex) => topics_regex = Some(regex),
                Err(e) => refuse(
                    "topics.regex",
                    format!("Invalid value {pattern} for configuration topics.regex: {e}"),
                ),
            },
            (false, None) => {}
        }
    }
    let topic_key = match plugin {
        Plugin::FileStreamSource => "topic",
        Plugin::Datagen => "kafka.topic",
        Plugin::FileStreamSink | Plugin::JdbcSink => "topics",
    };
    for topic in topics.iter().chain(config.get(topic_key).filter(|_| topic_key != "topics")) {
        if let Err(e) = crate::topic::validate_name(topic.trim()) {
            refuse(topic_key, e.message);
        }
    }
    let topic = config.get(topic_key).filter(|_| topic_key != "topics").map(|t| t.trim().to_string());
    (topic, topics, topics_regex)
}

/// A sink's dead-letter queue may not be a topic it reads (its failures would come back to it).
fn check_dlq_topic(
    dlq_topic: Option<&str>,
    topics: &[String],
    topics_regex: Option<&regex_lite::Regex>,
    config: &BTreeMap<String, String>,
    refuse: &mut dyn FnMut(&str, String),
) {
    let Some(dlq) = dlq_topic else { return };
    let key = "errors.deadletterqueue.topic.name";
    if topics.iter().any(|t| t == dlq) {
        let listed = config.get("topics").map_or("", |t| t.as_str());
        refuse(
            key,
            format!(
                "The DLQ topic '{dlq}' may not be included in the list of topics ('topics={listed}') consumed by the connector"
            ),
        );
    }
    if topics_regex.is_some_and(|regex| regex.is_match(dlq)) {
        let pattern = config.get("topics.regex").map_or("", |t| t.as_str());
        refuse(
            key,
            format!(
                "The DLQ topic '{dlq}' may not be included in the regex matching the topics ('topics.regex={pattern}') consumed by the connector"
            ),
        );
    }
}

/// A connector's config checked whole: the config, or every error in Kafka's words (the
/// message a create or an update is refused with).
pub fn parse(config: &BTreeMap<String, String>) -> Result<ConnectorConfig, String> {
    let class = config.get("connector.class").map(String::as_str).unwrap_or("");
    if class.trim().is_empty() {
        return Err(format!("Connector config {} contains no connector type", java_map(config)));
    }
    let Some(plugin) = Plugin::find(class) else {
        return Err(unknown_class(class));
    };
    let (errors, checked) = check(plugin, config);
    checked.ok_or_else(|| {
        let all: Vec<&String> = errors.values().flatten().collect();
        let lines: Vec<&str> = all.iter().map(|e| e.as_str()).collect();
        format!(
            "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
            all.len(),
            lines.join("\n")
        )
    })
}

/// Kafka's words for a `connector.class` it has no plugin for.
pub fn unknown_class(class: &str) -> String {
    let known: Vec<&str> = Plugin::ALL.iter().map(|p| p.class()).collect();
    format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        known.join(", ")
    )
}

/// A map as Java's `Map.toString` prints it (`{a=1, b=2}`), as Kafka's messages show configs.
fn java_map(config: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// `PUT /connector-plugins/{plugin}/config/validate`'s answer (Kafka's `ConfigInfos`).
pub fn validate(plugin: Plugin, config: &BTreeMap<String, String>) -> serde_json::Value {
    let (errors, _) = check(plugin, config);
    let configs: Vec<serde_json::Value> = definitions(plugin)
        .iter()
        .enumerate()
        .map(|(order, d)| {
            let value = config.get(d.name).cloned().or(d.default.map(String::from).filter(|v| !v.is_empty()));
            serde_json::json!({
                "definition": {
                    "name": d.name,
                    "type": d.kind,
                    "required": d.required,
                    "default_value": d.default,
                    "importance": d.importance,
                    "documentation": d.documentation,
                    "group": d.group,
                    "width": "NONE",
                    "display_name": d.display_name,
                    "dependents": [],
                    "order": order as i32 + 1,
                },
                "value": {
                    "name": d.name,
                    "value": value,
                    "recommended_values": [],
                    "errors": errors.get(d.name).cloned().unwrap_or_default(),
                    "visible": true,
                },
            })
        })
        .collect();
    let mut groups: Vec<&str> = Vec::new();
    for group in definitions(plugin).iter().filter_map(|d| d.group) {
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    serde_json::json!({
        "name": plugin.class(),
        "error_count": errors.values().map(Vec::len).sum::<usize>(),
        "groups": groups,
        "configs": configs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Kafka's quickstart's `connect-file-source.properties`, as it is.
    #[test]
    fn the_quickstarts_source_config_is_accepted() {
        let source = parse(&config(&[
            ("name", "local-file-source"),
            ("connector.class", "FileStreamSource"),
            ("tasks.max", "1"),
            ("file", "test.txt"),
            ("topic", "connect-test"),
        ]))
        .unwrap();
        assert_eq!(source.plugin, Plugin::FileStreamSource);
        assert_eq!((source.batch_size, source.topic.as_deref()), (2000, Some("connect-test")));
        assert_eq!(source.value_converter, Converter::Json { schemas_enable: true });
    }

    #[test]
    fn every_error_is_listed_in_kafkas_words() {
        let refused = parse(&config(&[
            ("name", "x"),
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "0"),
            ("file", "/etc/passwd"),
        ]))
        .unwrap_err();
        assert!(
            refused.starts_with("Connector configuration is invalid and contains the following 3 error(s):"),
            "{refused}"
        );
        assert!(refused.contains("Must configure one of topics or topics.regex"), "{refused}");
        assert!(refused.contains("Invalid value 0 for configuration tasks.max"), "{refused}");
        assert!(refused.contains("not a file inside the connect directory"), "{refused}");
        assert!(parse(&config(&[("name", "x")])).unwrap_err().contains("contains no connector type"));
        assert!(
            parse(&config(&[("connector.class", "JdbcSource")]))
                .unwrap_err()
                .contains("available connectors are")
        );
        let answer = validate(Plugin::FileStreamSink, &config(&[("topics", "a,,b")]));
        assert_eq!(answer["error_count"], 3, "name, connector.class and file: {answer}");
    }

    #[test]
    fn a_plugin_is_found_by_class_simple_name_or_alias() {
        for name in [
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "FileStreamSinkConnector",
            "FileStreamSink",
        ] {
            assert_eq!(Plugin::find(name), Some(Plugin::FileStreamSink));
        }
        assert_eq!(Plugin::find("FileStream"), None);
    }
}
