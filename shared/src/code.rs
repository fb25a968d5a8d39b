//! Copy the code: what a learner just did in Kite — create a topic, produce a record, consume with
//! a group, reset a group's offsets — as the same action with Kafka's own tools and clients (the
//! Kafka CLI, kcat, Java, Python's confluent-kafka, kafkajs, Rust's rdkafka), with the settings
//! Kite used (acks, partitioner, serializers, idempotence), ready to paste against a real cluster
//! or `kite serve`. Where a tool cannot say the same thing, it says why instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{Command, ResetTarget};
use crate::config::Acks;
use crate::partitioner::PartitionerKind;
use crate::schema_registry::SchemaRegistry;
use crate::serializer::{SerializerKind, serialize};

/// The tools a snippet is written for, in the order the Code view shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// Kafka's own scripts: kafka-topics.sh, kafka-console-producer.sh, kafka-console-consumer.sh,
    /// kafka-consumer-groups.sh.
    KafkaCli,
    /// kcat (librdkafka).
    Kcat,
    /// The Java client (`org.apache.kafka:kafka-clients`).
    Java,
    /// Python's confluent-kafka (librdkafka).
    Python,
    /// kafkajs (Node.js).
    Kafkajs,
    /// Rust's rdkafka (librdkafka).
    Rust,
}

impl Tool {
    /// Every tool, in the order the Code view shows them.
    pub const ALL: [Tool; 6] =
        [Tool::KafkaCli, Tool::Kcat, Tool::Java, Tool::Python, Tool::Kafkajs, Tool::Rust];

    /// The tool's short name (`kafka-cli`, `kcat`, `java`, `python`, `kafkajs`, `rust`): the
    /// CLI's `--tool` and the page's markup.
    pub fn id(self) -> &'static str {
        match self {
            Tool::KafkaCli => "kafka-cli",
            Tool::Kcat => "kcat",
            Tool::Java => "java",
            Tool::Python => "python",
            Tool::Kafkajs => "kafkajs",
            Tool::Rust => "rust",
        }
    }

    /// The tool of a short name (`id`).
    pub fn from_id(id: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The tool's name as its users know it.
    pub fn label(self) -> &'static str {
        match self {
            Tool::KafkaCli => "Kafka CLI",
            Tool::Kcat => "kcat",
            Tool::Java => "Java",
            Tool::Python => "Python (confluent-kafka)",
            Tool::Kafkajs => "kafkajs",
            Tool::Rust => "Rust (rdkafka)",
        }
    }
}

/// One tool's version of the action: code to paste, or why the tool cannot say it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Code {
    /// The code, ready to paste.
    Ready {
        /// The code's text.
        text: String,
    },
    /// The tool has no way to do exactly this; the reason in English and Korean.
    Unavailable {
        /// Why, in English.
        en: String,
        /// Why, in Korean.
        ko: String,
    },
}

/// One tool's snippet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// The tool it is written for.
    pub tool: Tool,
    /// The code, or why there is none.
    pub code: Code,
}

/// Whether `command` is an action the Code view writes out (a topic created, a record produced —
/// in a transaction or not —, a group's consumer opened, a group's offsets reset).
pub fn is_copyable(command: &Command) -> bool {
    match command {
        Command::CreateTopic { .. } | Command::Produce { .. } | Command::ResetOffsets { .. } => true,
        Command::OpenConsumer { group: Some(_), topics, .. } => !topics.is_empty(),
        _ => false,
    }
}

/// The action `command` with every tool, against `bootstrap` (`host:port`); empty for a command
/// with no client equivalent (a fault injection, a listing).
pub fn snippets(command: &Command, bootstrap: &str) -> Vec<Snippet> {
    if !is_copyable(command) {
        return Vec::new();
    }
    let write: Box<dyn Fn(Tool) -> Code> = match command {
        Command::CreateTopic { name, partitions, configs, replication_factor } => {
            let topic = NewTopic { name, partitions: *partitions, replication: *replication_factor, configs };
            Box::new(move |tool| topic.code(tool, bootstrap))
        }
        Command::Produce {
            topic,
            partition,
            key,
            value,
            partitioner,
            key_serializer,
            value_serializer,
            headers,
            acks,
            producer,
            ..
        } => {
            let record = Record {
                topic,
                partition: *partition,
                key: Field::new(*key_serializer, key.as_deref(), topic, "key"),
                value: Field::new(*value_serializer, value.as_deref(), topic, "value"),
                partitioner: *partitioner,
                headers,
                acks: *acks,
                idempotent: producer.is_some(),
                transactional_id: producer.as_ref().and_then(|p| p.transactional_id.as_deref()),
            };
            Box::new(move |tool| record.code(tool, bootstrap))
        }
        Command::OpenConsumer { group: Some(group), topics, auto_offset_reset, .. } if !topics.is_empty() => {
            let consumer =
                GroupConsumer { group, topics, earliest: auto_offset_reset.as_deref() == Some("earliest") };
            Box::new(move |tool| consumer.code(tool, bootstrap))
        }
        Command::ResetOffsets { group, topic, to, execute } => {
            let reset = Reset { group, topic, to, execute: *execute };
            Box::new(move |tool| reset.code(tool, bootstrap))
        }
        _ => return Vec::new(),
    };
    Tool::ALL.into_iter().map(|tool| Snippet { tool, code: write(tool) }).collect()
}

fn ready(text: String) -> Code {
    Code::Ready { text }
}

fn unavailable(en: &str, ko: &str) -> Code {
    Code::Unavailable { en: en.to_string(), ko: ko.to_string() }
}

/// A shell word: single-quoted unless it is plainly safe.
fn sh(word: &str) -> String {
    let plain =
        !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_.,:/=@%+".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// A string literal for Java, Python and JavaScript alike (JSON's escapes are valid in all three).
fn lit(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// A Rust string literal.
fn rs(text: &str) -> String {
    format!("{text:?}")
}

/// kafka-topics --create, and its equivalents.
struct NewTopic<'a> {
    name: &'a str,
    partitions: i32,
    replication: Option<i16>,
    configs: &'a BTreeMap<String, String>,
}

impl NewTopic<'_> {
    fn code(&self, tool: Tool, bootstrap: &str) -> Code {
        let (name, n) = (self.name, self.partitions);
        let rf = self.replication.unwrap_or(1);
        let configs = self.configs.iter();
        match tool {
            Tool::KafkaCli => {
                let mut line = format!(
                    "kafka-topics.sh --bootstrap-server {bootstrap} --create --topic {} --partitions {n} --replication-factor {rf}",
                    sh(name)
                );
                for (k, v) in configs {
                    line.push_str(&format!(" \\\n  --config {}", sh(&format!("{k}={v}"))));
                }
                ready(line)
            }
            Tool::Kcat => unavailable(
                "kcat does not create topics: use kafka-topics.sh or a client's admin API.",
                "kcat은 토픽을 만들지 못합니다. kafka-topics.sh나 클라이언트의 admin API를 쓰세요.",
            ),
            Tool::Java => {
                let configs: Vec<String> = configs.map(|(k, v)| format!("{}, {}", lit(k), lit(v))).collect();
                ready(format!(
                    "import java.util.*;\nimport org.apache.kafka.clients.admin.*;\n\n\
                     Properties props = new Properties();\nprops.put(\"bootstrap.servers\", {});\n\
                     try (Admin admin = Admin.create(props)) {{\n    \
                     NewTopic topic = new NewTopic({}, {n}, (short) {rf}).configs(Map.of({}));\n    \
                     admin.createTopics(List.of(topic)).all().get();\n}}",
                    lit(bootstrap),
                    lit(name),
                    configs.join(", ")
                ))
            }
            Tool::Python => {
                let configs: Vec<String> = configs.map(|(k, v)| format!("{}: {}", lit(k), lit(v))).collect();
                ready(format!(
                    "from confluent_kafka.admin import AdminClient, NewTopic\n\n\
                     admin = AdminClient({{\"bootstrap.servers\": {}}})\n\
                     topic = NewTopic({}, num_partitions={n}, replication_factor={rf}, config={{{}}})\n\
                     admin.create_topics([topic])[{}].result(10)",
                    lit(bootstrap),
                    lit(name),
                    configs.join(", "),
                    lit(name)
                ))
            }
            Tool::Kafkajs => {
                let configs: Vec<String> =
                    configs.map(|(k, v)| format!("{{ name: {}, value: {} }}", lit(k), lit(v))).collect();
                ready(kafkajs(
                    bootstrap,
                    &format!(
                        "const admin = kafka.admin();\nawait admin.connect();\n\
                     await admin.createTopics({{ topics: [{{ topic: {}, numPartitions: {n}, replicationFactor: {rf}, configEntries: [{}] }}] }});\n\
                     await admin.disconnect();",
                        lit(name),
                        configs.join(", ")
                    ),
                ))
            }
            Tool::Rust => {
                let configs: String = configs.map(|(k, v)| format!(".set({}, {})", rs(k), rs(v))).collect();
                ready(format!(
                    "use rdkafka::admin::{{AdminClient, AdminOptions, NewTopic, TopicReplication}};\n\
                     use rdkafka::client::DefaultClientContext;\nuse rdkafka::config::ClientConfig;\n\n\
                     let admin: AdminClient<DefaultClientContext> =\n    \
                     ClientConfig::new().set(\"bootstrap.servers\", {}).create()?;\n\
                     let topic = NewTopic::new({}, {n}, TopicReplication::Fixed({rf})){configs};\n\
                     admin.create_topics(&[topic], &AdminOptions::new()).await?;",
                    rs(bootstrap),
                    rs(name)
                ))
            }
        }
    }
}

/// A kafkajs snippet: the client (its brokers the bootstrap list's), and `body` inside an async function (CommonJS has no top-level
/// await).
fn kafkajs(bootstrap: &str, body: &str) -> String {
    let body: Vec<String> = body.lines().map(|l| format!("  {l}")).collect();
    format!(
        "const {{ Kafka, Partitioners }} = require(\"kafkajs\");\n\nconst kafka = new Kafka({{ brokers: [{}] }});\n(async () => {{\n{}\n}})();",
        bootstrap.split(',').map(lit).collect::<Vec<_>>().join(", "),
        body.join("\n")
    )
}

/// A key or a value, with its serializer and the bytes it makes.
struct Field<'a> {
    serializer: SerializerKind,
    text: Option<&'a str>,
    /// The serialized bytes (`None`: null, or bytes the serializer refused).
    bytes: Option<Vec<u8>>,
}

impl<'a> Field<'a> {
    fn new(serializer: SerializerKind, text: Option<&'a str>, topic: &str, what: &str) -> Field<'a> {
        let subject = format!("{topic}-{what}");
        let bytes = serialize(serializer, text, &SchemaRegistry::default(), &subject).ok().flatten();
        Field { serializer, text, bytes }
    }

    /// Text sent as text: what a string serializer writes (a UUID's is its text too).
    fn as_text(&self) -> Option<&'a str> {
        match self.serializer {
            SerializerKind::String | SerializerKind::Uuid => self.text,
            _ => None,
        }
    }

    fn hex(&self) -> String {
        self.bytes.as_deref().unwrap_or_default().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The Java literal for the value, typed as its serializer's class expects.
    fn java(&self) -> String {
        let Some(text) = self.text else { return "null".into() };
        let t = text.trim();
        match self.serializer {
            SerializerKind::Integer => t.to_string(),
            SerializerKind::Long => format!("{t}L"),
            SerializerKind::Short => format!("(short) {t}"),
            SerializerKind::Float => format!("{t}f"),
            SerializerKind::Double | SerializerKind::Boolean => t.to_string(),
            SerializerKind::Uuid => format!("UUID.fromString({})", lit(t)),
            SerializerKind::ByteArray => format!("HexFormat.of().parseHex({})", lit(&self.hex())),
            _ => lit(self.json_or_text()),
        }
    }

    /// The Java type the serializer takes.
    fn java_type(&self) -> &'static str {
        match self.serializer {
            SerializerKind::Integer => "Integer",
            SerializerKind::Long => "Long",
            SerializerKind::Short => "Short",
            SerializerKind::Float => "Float",
            SerializerKind::Double => "Double",
            SerializerKind::Boolean => "Boolean",
            SerializerKind::Uuid => "UUID",
            SerializerKind::ByteArray => "byte[]",
            _ => "String",
        }
    }

    /// The Java serializer class (JSON goes as its compact text, with the String serializer).
    fn java_serializer(&self) -> String {
        let kind = match self.serializer {
            SerializerKind::Json => SerializerKind::String,
            other => other,
        };
        format!("org.apache.kafka.common.serialization.{}", kind.serializer_name())
    }

    fn json_or_text(&self) -> &str {
        match (self.serializer, &self.bytes) {
            (SerializerKind::Json, Some(bytes)) => std::str::from_utf8(bytes).unwrap_or_default(),
            _ => self.text.unwrap_or_default(),
        }
    }

    /// The field as text when its bytes are text (string, UUID, and JSON: the compact text Kite's
    /// JsonSerializer writes is exactly its bytes), else `None`.
    fn text_bytes(&self) -> Option<&str> {
        match self.serializer {
            SerializerKind::Json => Some(self.json_or_text()),
            _ => self.as_text(),
        }
    }

    /// Python's value: a str for text, else `bytes.fromhex`, `None` for null.
    fn python(&self) -> String {
        match (self.text, self.text_bytes()) {
            (None, _) => "None".into(),
            (Some(_), Some(text)) => lit(text),
            (Some(_), None) => format!("bytes.fromhex({})", lit(&self.hex())),
        }
    }

    /// kafkajs' value: a string for text, else a Buffer, `null` for null.
    fn js(&self) -> String {
        match (self.text, self.text_bytes()) {
            (None, _) => "null".into(),
            (Some(_), Some(text)) => lit(text),
            (Some(_), None) => format!("Buffer.from({}, \"hex\")", lit(&self.hex())),
        }
    }

    /// rdkafka's bytes: a `&str` for text, else a byte array.
    fn rust(&self) -> Option<String> {
        self.text?;
        Some(match self.text_bytes() {
            Some(text) => rs(text),
            None => {
                let bytes = self.bytes.as_deref().unwrap_or_default();
                let list: Vec<String> = bytes.iter().map(|b| format!("0x{b:02x}")).collect();
                format!("&[{}][..]", list.join(", "))
            }
        })
    }
}

/// One record produced, as the producer Kite played sent it.
struct Record<'a> {
    topic: &'a str,
    partition: Option<i32>,
    key: Field<'a>,
    value: Field<'a>,
    partitioner: PartitionerKind,
    headers: &'a [(String, String)],
    acks: Acks,
    idempotent: bool,
    /// Sent in a transaction of this `transactional.id`: the code begins and commits one.
    transactional_id: Option<&'a str>,
}

fn acks_name(acks: Acks) -> &'static str {
    match acks {
        Acks::All => "all",
        Acks::Leader => "1",
        Acks::None => "0",
    }
}

impl Record<'_> {
    fn code(&self, tool: Tool, bootstrap: &str) -> Code {
        if self.key.serializer == SerializerKind::Avro || self.value.serializer == SerializerKind::Avro {
            return unavailable(
                "Avro goes through Confluent's schema registry serializers: see docs/kafka-clients.md.",
                "Avro는 Confluent schema registry의 serializer를 거칩니다. docs/kafka-clients.md를 보세요.",
            );
        }
        match tool {
            Tool::KafkaCli | Tool::Kcat if self.transactional_id.is_some() => unavailable(
                "Line tools send no transactions: a transactional producer is a client's (initTransactions, beginTransaction, commitTransaction).",
                "줄 단위 도구는 트랜잭션을 보내지 못합니다. 트랜잭션 프로듀서는 클라이언트로 씁니다(initTransactions, beginTransaction, commitTransaction).",
            ),
            Tool::KafkaCli => self.console_producer(bootstrap),
            Tool::Kcat => self.kcat(bootstrap),
            Tool::Java => self.java(bootstrap),
            Tool::Python => self.python(bootstrap),
            Tool::Kafkajs => self.kafkajs(bootstrap),
            Tool::Rust => self.rust(bootstrap),
        }
    }

    /// The acks a client sends with: a transactional producer's are always `all`.
    fn client_acks(&self) -> Acks {
        if self.transactional_id.is_some() { Acks::All } else { self.acks }
    }

    /// `enable.idempotence`: on for a transactional producer, and for an idempotent one with
    /// acks=all (clients refuse it with other acks).
    fn idempotence(&self) -> bool {
        self.transactional_id.is_some() || (self.idempotent && self.acks == Acks::All)
    }

    /// Text fields for the line-based tools, or why they cannot send these bytes.
    fn lines(&self) -> Result<(Option<&str>, Option<&str>), Code> {
        fn text<'f>(f: &'f Field<'_>) -> Result<Option<&'f str>, Code> {
            match (f.text, f.text_bytes()) {
                (None, _) => Ok(None),
                (Some(_), Some(t)) if !t.contains('\n') => Ok(Some(t)),
                _ => Err(unavailable(
                    "Line tools send text lines: this key or value needs a client (its bytes are not one line of text).",
                    "줄 단위 도구는 텍스트 한 줄을 보냅니다. 이 key나 value는 한 줄 텍스트가 아니어서 클라이언트가 필요합니다.",
                )),
            }
        }
        Ok((text(&self.key)?, text(&self.value)?))
    }

    /// A separator that occurs in none of the texts.
    fn separator(texts: &[Option<&str>]) -> Option<char> {
        [':', '|', ';', '#', '~'].into_iter().find(|c| texts.iter().flatten().all(|t| !t.contains(*c)))
    }

    fn console_producer(&self, bootstrap: &str) -> Code {
        let (key, value) = match self.lines() {
            Ok(fields) => fields,
            Err(why) => return why,
        };
        if self.partition.is_some() {
            return unavailable(
                "kafka-console-producer.sh cannot name a partition: use kcat -p, or a client.",
                "kafka-console-producer.sh는 partition을 지정할 수 없습니다. kcat -p나 클라이언트를 쓰세요.",
            );
        }
        let partitioner = match self.partitioner {
            PartitionerKind::Default | PartitionerKind::Murmur2Random => None,
            PartitionerKind::RoundRobin => Some("org.apache.kafka.clients.producer.RoundRobinPartitioner"),
            PartitionerKind::ConsistentRandom => {
                return unavailable(
                    "consistent_random is librdkafka's partitioner: use kcat, confluent-kafka or rdkafka.",
                    "consistent_random은 librdkafka의 파티셔너입니다. kcat, confluent-kafka, rdkafka를 쓰세요.",
                );
            }
        };
        let Some(sep) = Record::separator(&[key, value]) else {
            return unavailable(
                "No separator is free of the key's and the value's characters.",
                "key와 value 어디에도 쓰이지 않은 구분자를 찾지 못했습니다.",
            );
        };
        let (mut line, mut headers_word, mut format) = (String::new(), String::new(), r"%s\n");
        let mut options = vec![format!("--producer-property acks={}", acks_name(self.acks))];
        if !self.headers.is_empty() {
            // A parse.headers line: the headers, a tab, then the record.
            let headers: Vec<String> = self.headers.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            headers_word = format!("{} ", sh(&headers.join(",")));
            format = r"%s\t%s\n";
            options.push("--property parse.headers=true".into());
        }
        if let Some(key) = key {
            line.push_str(&format!("{key}{sep}"));
            options
                .push(format!("--property parse.key=true --property key.separator={}", sh(&sep.to_string())));
        }
        match value {
            Some(value) => line.push_str(value),
            None => {
                line.push_str("NULL");
                options.push("--property null.marker=NULL".into());
            }
        }
        if let Some(class) = partitioner {
            options.push(format!("--producer-property partitioner.class={class}"));
        }
        if self.idempotent && self.acks == Acks::All {
            options.push("--producer-property enable.idempotence=true".into());
        }
        ready(format!(
            "printf '{format}' {headers_word}{} | kafka-console-producer.sh --bootstrap-server {bootstrap} --topic {} \\\n  {}",
            sh(&line),
            sh(self.topic),
            options.join(" \\\n  ")
        ))
    }

    /// librdkafka's `partitioner` for Kite's, or why it has none; a named partition needs none
    /// (any will do, the record goes where it is named).
    fn librdkafka_partitioner(&self) -> Result<&'static str, Code> {
        match self.partitioner {
            PartitionerKind::RoundRobin if self.partition.is_some() => Ok("murmur2_random"),
            // Java's murmur2 for keys; librdkafka's default (consistent_random) would hash differently.
            PartitionerKind::Default | PartitionerKind::Murmur2Random => Ok("murmur2_random"),
            PartitionerKind::ConsistentRandom => Ok("consistent_random"),
            PartitionerKind::RoundRobin => Err(unavailable(
                "librdkafka has no round-robin partitioner: name the partition, or use Java or kafkajs.",
                "librdkafka에는 라운드 로빈 파티셔너가 없습니다. partition을 지정하거나 Java, kafkajs를 쓰세요.",
            )),
        }
    }

    fn kcat(&self, bootstrap: &str) -> Code {
        let (key, value) = match self.lines() {
            Ok(fields) => fields,
            Err(why) => return why,
        };
        let partitioner = match self.librdkafka_partitioner() {
            Ok(p) => p,
            Err(why) => return why,
        };
        let Some(sep) = Record::separator(&[key, value]) else {
            return unavailable(
                "No separator is free of the key's and the value's characters.",
                "key와 value 어디에도 쓰이지 않은 구분자를 찾지 못했습니다.",
            );
        };
        let mut options = vec![
            format!("-b {bootstrap}"),
            format!("-t {}", sh(self.topic)),
            format!("-X acks={}", acks_name(self.acks)),
            format!("-X partitioner={partitioner}"),
        ];
        let mut line = String::new();
        if let Some(key) = key {
            line.push_str(&format!("{key}{sep}"));
            options.push(format!("-K {}", sh(&sep.to_string())));
        }
        line.push_str(value.unwrap_or_default());
        if value.is_none() {
            options.push("-Z".into());
        }
        if let Some(p) = self.partition {
            options.push(format!("-p {p}"));
        }
        for (k, v) in self.headers {
            options.push(format!("-H {}", sh(&format!("{k}={v}"))));
        }
        if self.idempotent && self.acks == Acks::All {
            options.push("-X enable.idempotence=true".into());
        }
        ready(format!("printf '%s\\n' {} | kcat -P {}", sh(&line), options.join(" ")))
    }

    fn java(&self, bootstrap: &str) -> Code {
        if self.partitioner == PartitionerKind::ConsistentRandom {
            return unavailable(
                "consistent_random is librdkafka's partitioner; Java's hashes keys with murmur2.",
                "consistent_random은 librdkafka의 파티셔너입니다. Java는 key를 murmur2로 해시합니다.",
            );
        }
        let (k, v) = (self.key.java_type(), self.value.java_type());
        let mut props = vec![
            format!("props.put(\"bootstrap.servers\", {});", lit(bootstrap)),
            format!("props.put(\"key.serializer\", {});", lit(&self.key.java_serializer())),
            format!("props.put(\"value.serializer\", {});", lit(&self.value.java_serializer())),
            format!("props.put(\"acks\", \"{}\");", acks_name(self.client_acks())),
            format!("props.put(\"enable.idempotence\", \"{}\");", self.idempotence()),
        ];
        let (begin, commit) = match self.transactional_id {
            Some(id) => {
                props.push(format!("props.put(\"transactional.id\", {});", lit(id)));
                (
                    "\n    producer.initTransactions();\n    producer.beginTransaction();",
                    "\n    producer.commitTransaction(); // or abortTransaction(): read_committed consumers skip it",
                )
            }
            None => ("", ""),
        };
        if self.partitioner == PartitionerKind::RoundRobin {
            props.push(
                "props.put(\"partitioner.class\", \"org.apache.kafka.clients.producer.RoundRobinPartitioner\");".into(),
            );
        }
        let partition = self.partition.map_or("null".to_string(), |p| p.to_string());
        let headers: String = self
            .headers
            .iter()
            .map(|(hk, hv)| {
                format!(
                    "\n    record.headers().add({}, {}.getBytes(StandardCharsets.UTF_8));",
                    lit(hk),
                    lit(hv)
                )
            })
            .collect();
        ready(format!(
            "import java.nio.charset.StandardCharsets;\nimport java.util.*;\n\
             import org.apache.kafka.clients.producer.*;\n\n\
             Properties props = new Properties();\n{}\n\
             try (KafkaProducer<{k}, {v}> producer = new KafkaProducer<>(props)) {{{begin}\n    \
             ProducerRecord<{k}, {v}> record = new ProducerRecord<>({}, {partition}, {}, {});{headers}\n    \
             RecordMetadata m = producer.send(record).get();{commit}\n    \
             System.out.println(m.topic() + \"-\" + m.partition() + \"@\" + m.offset());\n}}",
            props.join("\n"),
            lit(self.topic),
            self.key.java(),
            self.value.java()
        ))
    }

    fn python(&self, bootstrap: &str) -> Code {
        let partitioner = match self.librdkafka_partitioner() {
            Ok(p) => p,
            Err(why) => return why,
        };
        let mut args = vec![lit(self.topic)];
        if self.key.text.is_some() {
            args.push(format!("key={}", self.key.python()));
        }
        args.push(format!("value={}", self.value.python()));
        if let Some(p) = self.partition {
            args.push(format!("partition={p}"));
        }
        if !self.headers.is_empty() {
            let h: Vec<String> =
                self.headers.iter().map(|(k, v)| format!("({}, {})", lit(k), lit(v))).collect();
            args.push(format!("headers=[{}]", h.join(", ")));
        }
        args.push("on_delivery=delivered".into());
        let args = args.join(",\n          ");
        let (transactional, begin, end) = match self.transactional_id {
            Some(id) => (
                format!(",\n              \"transactional.id\": {}", lit(id)),
                "p.init_transactions(10)\np.begin_transaction()\n",
                "p.commit_transaction(10)  # or p.abort_transaction(10): read_committed consumers skip it",
            ),
            None => (String::new(), "", "p.flush(10)"),
        };
        ready(format!(
            "from confluent_kafka import Producer\n\n\
             p = Producer({{\"bootstrap.servers\": {}, \"acks\": \"{}\", \"partitioner\": \"{partitioner}\",\n              \
             \"enable.idempotence\": {}{transactional}}})\n\n\
             def delivered(err, msg):\n    \
             print(err or f\"{{msg.topic()}}-{{msg.partition()}}@{{msg.offset()}}\")\n\n\
             {begin}p.produce({args})\n{end}",
            lit(bootstrap),
            acks_name(self.client_acks()),
            if self.idempotence() { "True" } else { "False" },
        ))
    }

    fn kafkajs(&self, bootstrap: &str) -> Code {
        let partitioner = match self.partitioner {
            PartitionerKind::Default | PartitionerKind::Murmur2Random => {
                "Partitioners.DefaultPartitioner".to_string()
            }
            // kafkajs has none built in: a partitioner is a function, so here is one.
            PartitionerKind::RoundRobin => {
                "() => { let next = 0; return ({ partitionMetadata }) => next++ % partitionMetadata.length; }"
                    .into()
            }
            PartitionerKind::ConsistentRandom => {
                return unavailable(
                    "consistent_random is librdkafka's partitioner; kafkajs hashes keys with murmur2.",
                    "consistent_random은 librdkafka의 파티셔너입니다. kafkajs는 key를 murmur2로 해시합니다.",
                );
            }
        };
        let mut message = Vec::new();
        if self.key.text.is_some() {
            message.push(format!("key: {}", self.key.js()));
        }
        message.push(format!("value: {}", self.value.js()));
        if let Some(p) = self.partition {
            message.push(format!("partition: {p}"));
        }
        if !self.headers.is_empty() {
            let h: Vec<String> =
                self.headers.iter().map(|(k, v)| format!("{}: {}", lit(k), lit(v))).collect();
            message.push(format!("headers: {{ {} }}", h.join(", ")));
        }
        let acks = match self.client_acks() {
            Acks::All => -1,
            Acks::Leader => 1,
            Acks::None => 0,
        };
        let send = format!(
            "send({{ topic: {}, acks: {acks}, messages: [{{ {} }}] }})",
            lit(self.topic),
            message.join(", ")
        );
        let (options, send) = match self.transactional_id {
            // kafkajs sends a transaction's batches one at a time (maxInFlightRequests 1).
            Some(id) => (
                format!(", transactionalId: {}, maxInFlightRequests: 1", lit(id)),
                format!(
                    "const transaction = await producer.transaction();\n\
                     console.log(await transaction.{send});\n\
                     await transaction.commit(); // or transaction.abort(): read_committed consumers skip it"
                ),
            ),
            None => (String::new(), format!("console.log(await producer.{send});")),
        };
        ready(kafkajs(
            bootstrap,
            &format!(
                "const producer = kafka.producer({{ createPartitioner: {partitioner}, idempotent: {}{options} }});\n\
             await producer.connect();\n{send}\nawait producer.disconnect();",
                self.idempotence(),
            ),
        ))
    }

    fn rust(&self, bootstrap: &str) -> Code {
        let partitioner = match self.librdkafka_partitioner() {
            Ok(p) => p,
            Err(why) => return why,
        };
        let mut record = format!("BaseRecord::to({})", rs(self.topic));
        if let Some(key) = self.key.rust() {
            record.push_str(&format!("\n    .key({key})"));
        }
        if let Some(value) = self.value.rust() {
            record.push_str(&format!("\n    .payload({value})"));
        }
        if let Some(p) = self.partition {
            record.push_str(&format!("\n    .partition({p})"));
        }
        if !self.headers.is_empty() {
            let h: String = self
                .headers
                .iter()
                .map(|(k, v)| format!(".insert(Header {{ key: {}, value: Some({}) }})", rs(k), rs(v)))
                .collect();
            record.push_str(&format!("\n    .headers(OwnedHeaders::new(){h})"));
        }
        // A record without a key or value needs its types named.
        let ty = |f: &Field<'_>| if f.text_bytes().is_some() { "str" } else { "[u8]" };
        let types = if self.key.text.is_none() || self.value.text.is_none() {
            format!("::<{}, {}>", ty(&self.key), ty(&self.value))
        } else {
            String::new()
        };
        let headers_use =
            if self.headers.is_empty() { "" } else { "use rdkafka::message::{Header, OwnedHeaders};\n" };
        let record = record.replacen("BaseRecord::to", &format!("BaseRecord{types}::to"), 1);
        let (transactional, begin, end) = match self.transactional_id {
            Some(id) => (
                format!("\n    .set(\"transactional.id\", {})", rs(id)),
                "producer.init_transactions(std::time::Duration::from_secs(10))?;\nproducer.begin_transaction()?;\n",
                "// or abort_transaction: read_committed consumers skip it\n\
                 producer.commit_transaction(std::time::Duration::from_secs(10))?;",
            ),
            None => (String::new(), "", "producer.flush(std::time::Duration::from_secs(10))?;"),
        };
        ready(format!(
            "use rdkafka::config::ClientConfig;\n{headers_use}\
             use rdkafka::producer::{{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer}};\n\n\
             let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()\n    \
             .set(\"bootstrap.servers\", {})\n    .set(\"acks\", \"{}\")\n    .set(\"partitioner\", \"{partitioner}\")\n    \
             .set(\"enable.idempotence\", \"{}\"){transactional}\n    .create()?;\n\
             {begin}producer.send({record}).map_err(|(e, _)| e)?;\n{end}",
            rs(bootstrap),
            acks_name(self.client_acks()),
            self.idempotence()
        ))
    }
}

/// A consumer in a group, subscribed to topics.
struct GroupConsumer<'a> {
    group: &'a str,
    topics: &'a [String],
    earliest: bool,
}

impl GroupConsumer<'_> {
    fn code(&self, tool: Tool, bootstrap: &str) -> Code {
        let reset = if self.earliest { "earliest" } else { "latest" };
        let group = self.group;
        match tool {
            Tool::KafkaCli => {
                let mut line =
                    format!("kafka-console-consumer.sh --bootstrap-server {bootstrap} --group {}", sh(group));
                line.push_str(&match self.topics {
                    [one] => format!(" --topic {}", sh(one)),
                    many => format!(" --include {}", sh(&many.join("|"))),
                });
                if self.earliest {
                    line.push_str(" --from-beginning");
                }
                line.push_str(" \\\n  --property print.key=true --property print.partition=true --property print.offset=true");
                ready(line)
            }
            Tool::Kcat => {
                let topics: Vec<String> = self.topics.iter().map(|t| sh(t)).collect();
                ready(format!(
                    "kcat -b {bootstrap} -G {} -X auto.offset.reset={reset} \\\n  -f '%t-%p@%o %k: %s\\n' {}",
                    sh(group),
                    topics.join(" ")
                ))
            }
            Tool::Java => {
                let topics: Vec<String> = self.topics.iter().map(|t| lit(t)).collect();
                ready(format!(
                    "import java.time.Duration;\nimport java.util.*;\nimport org.apache.kafka.clients.consumer.*;\n\n\
                     Properties props = new Properties();\nprops.put(\"bootstrap.servers\", {});\n\
                     props.put(\"group.id\", {});\nprops.put(\"auto.offset.reset\", \"{reset}\");\n\
                     props.put(\"key.deserializer\", \"org.apache.kafka.common.serialization.StringDeserializer\");\n\
                     props.put(\"value.deserializer\", \"org.apache.kafka.common.serialization.StringDeserializer\");\n\
                     try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {{\n    \
                     consumer.subscribe(List.of({}));\n    while (true) {{\n        \
                     for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(1))) {{\n            \
                     System.out.println(r.topic() + \"-\" + r.partition() + \"@\" + r.offset() + \" \" + r.key() + \": \" + r.value());\n        \
                     }}\n    }}\n}}",
                    lit(bootstrap),
                    lit(group),
                    topics.join(", ")
                ))
            }
            Tool::Python => {
                let topics: Vec<String> = self.topics.iter().map(|t| lit(t)).collect();
                ready(format!(
                    "from confluent_kafka import Consumer\n\n\
                     c = Consumer({{\"bootstrap.servers\": {}, \"group.id\": {}, \"auto.offset.reset\": \"{reset}\"}})\n\
                     c.subscribe([{}])\nwhile True:\n    msg = c.poll(1.0)\n    if msg is None or msg.error():\n        continue\n    \
                     print(f\"{{msg.topic()}}-{{msg.partition()}}@{{msg.offset()}} {{msg.key()}}: {{msg.value()}}\")",
                    lit(bootstrap),
                    lit(group),
                    topics.join(", ")
                ))
            }
            Tool::Kafkajs => {
                let topics: Vec<String> = self.topics.iter().map(|t| lit(t)).collect();
                ready(kafkajs(
                    bootstrap,
                    &format!(
                        "const consumer = kafka.consumer({{ groupId: {} }});\nawait consumer.connect();\n\
                     await consumer.subscribe({{ topics: [{}], fromBeginning: {} }});\n\
                     await consumer.run({{\n  eachMessage: async ({{ topic, partition, message }}) =>\n    \
                     console.log(`${{topic}}-${{partition}}@${{message.offset}} ${{message.key}}: ${{message.value}}`),\n}});",
                        lit(group),
                        topics.join(", "),
                        self.earliest
                    ),
                ))
            }
            Tool::Rust => {
                let topics: Vec<String> = self.topics.iter().map(|t| rs(t)).collect();
                ready(format!(
                    "use rdkafka::config::ClientConfig;\nuse rdkafka::consumer::{{BaseConsumer, Consumer}};\n\
                     use rdkafka::Message;\n\n\
                     let consumer: BaseConsumer = ClientConfig::new()\n    .set(\"bootstrap.servers\", {})\n    \
                     .set(\"group.id\", {})\n    .set(\"auto.offset.reset\", \"{reset}\")\n    .create()?;\n\
                     consumer.subscribe(&[{}])?;\nloop {{\n    \
                     if let Some(Ok(m)) = consumer.poll(std::time::Duration::from_secs(1)) {{\n        \
                     println!(\"{{}}-{{}}@{{}} {{:?}}\", m.topic(), m.partition(), m.offset(), m.payload_view::<str>());\n    \
                     }}\n}}",
                    rs(bootstrap),
                    rs(group),
                    topics.join(", ")
                ))
            }
        }
    }
}

/// kafka-consumer-groups --reset-offsets, and its equivalents.
struct Reset<'a> {
    group: &'a str,
    topic: &'a str,
    to: &'a ResetTarget,
    execute: bool,
}

impl Reset<'_> {
    fn code(&self, tool: Tool, bootstrap: &str) -> Code {
        let no_admin = |who: &str, ko: &str| {
            unavailable(
                &format!(
                    "{who} has no offset reset in one call: use kafka-consumer-groups.sh, Java or kafkajs."
                ),
                &format!(
                    "{ko}에는 offset을 한 번에 되돌리는 기능이 없습니다. kafka-consumer-groups.sh, Java, kafkajs를 쓰세요."
                ),
            )
        };
        match tool {
            Tool::KafkaCli => {
                let to = match self.to {
                    ResetTarget::Earliest => "--to-earliest".to_string(),
                    ResetTarget::Latest => "--to-latest".to_string(),
                    ResetTarget::Offset { offset } => format!("--to-offset {offset}"),
                    ResetTarget::ShiftBy { shift } => format!("--shift-by {shift}"),
                    ResetTarget::Datetime { timestamp_ms } => {
                        format!("--to-datetime {}", datetime(*timestamp_ms))
                    }
                };
                ready(format!(
                    "kafka-consumer-groups.sh --bootstrap-server {bootstrap} --group {} --topic {} \\\n  --reset-offsets {to} {}",
                    sh(self.group),
                    sh(self.topic),
                    if self.execute { "--execute" } else { "--dry-run" }
                ))
            }
            Tool::Kcat => no_admin("kcat", "kcat"),
            Tool::Python => no_admin("confluent-kafka", "confluent-kafka"),
            Tool::Rust => no_admin("rdkafka", "rdkafka"),
            Tool::Java => self.java(bootstrap),
            Tool::Kafkajs => self.kafkajs(bootstrap),
        }
    }

    fn java(&self, bootstrap: &str) -> Code {
        let spec = match self.to {
            ResetTarget::Earliest => "OffsetSpec.earliest()".to_string(),
            ResetTarget::Latest => "OffsetSpec.latest()".to_string(),
            ResetTarget::Datetime { timestamp_ms } => format!("OffsetSpec.forTimestamp({timestamp_ms}L)"),
            ResetTarget::Offset { .. } | ResetTarget::ShiftBy { .. } => {
                return unavailable(
                    "For --to-offset and --shift-by, kafka-consumer-groups.sh is the short way.",
                    "--to-offset과 --shift-by는 kafka-consumer-groups.sh가 가장 간단합니다.",
                );
            }
        };
        let apply = if self.execute {
            "admin.alterConsumerGroupOffsets(group, offsets).all().get();"
        } else {
            "System.out.println(offsets); // a dry run: nothing committed"
        };
        ready(format!(
            "import java.util.*;\nimport org.apache.kafka.clients.admin.*;\n\
             import org.apache.kafka.clients.consumer.OffsetAndMetadata;\nimport org.apache.kafka.common.TopicPartition;\n\n\
             Properties props = new Properties();\nprops.put(\"bootstrap.servers\", {});\n\
             String group = {}, topic = {};\n\
             try (Admin admin = Admin.create(props)) {{\n    \
             int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();\n    \
             Map<TopicPartition, OffsetSpec> specs = new HashMap<>();\n    \
             for (int p = 0; p < partitions; p++) specs.put(new TopicPartition(topic, p), {spec});\n    \
             Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();\n    \
             admin.listOffsets(specs).all().get().forEach((tp, info) -> offsets.put(tp, new OffsetAndMetadata(info.offset())));\n    \
             {apply}\n}}",
            lit(bootstrap),
            lit(self.group),
            lit(self.topic)
        ))
    }

    fn kafkajs(&self, bootstrap: &str) -> Code {
        let call = match self.to {
            ResetTarget::Earliest => format!(
                "admin.resetOffsets({{ groupId: {}, topic: {}, earliest: true }})",
                lit(self.group),
                lit(self.topic)
            ),
            ResetTarget::Latest => {
                format!("admin.resetOffsets({{ groupId: {}, topic: {} }})", lit(self.group), lit(self.topic))
            }
            ResetTarget::Datetime { timestamp_ms } => format!(
                "admin.fetchTopicOffsetsByTimestamp({}, {timestamp_ms}).then((partitions) =>\n  admin.setOffsets({{ groupId: {}, topic: {}, partitions }}))",
                lit(self.topic),
                lit(self.group),
                lit(self.topic)
            ),
            ResetTarget::Offset { offset } => format!(
                "admin.fetchTopicOffsets({}).then((partitions) =>\n  admin.setOffsets({{ groupId: {}, topic: {}, partitions: partitions.map(({{ partition }}) => ({{ partition, offset: \"{offset}\" }})) }}))",
                lit(self.topic),
                lit(self.group),
                lit(self.topic)
            ),
            ResetTarget::ShiftBy { .. } => {
                return unavailable(
                    "For --shift-by, kafka-consumer-groups.sh is the short way.",
                    "--shift-by는 kafka-consumer-groups.sh가 가장 간단합니다.",
                );
            }
        };
        if !self.execute {
            return unavailable(
                "kafkajs' admin applies a reset at once; for a dry run use kafka-consumer-groups.sh --dry-run.",
                "kafkajs의 admin은 바로 적용합니다. 미리 보기(dry run)는 kafka-consumer-groups.sh --dry-run을 쓰세요.",
            );
        }
        ready(kafkajs(
            bootstrap,
            &format!(
                "const admin = kafka.admin();\nawait admin.connect();\nawait {call};\nawait admin.disconnect();"
            ),
        ))
    }
}

/// kafka-consumer-groups' `--to-datetime` form (`YYYY-MM-DDTHH:mm:SS.sss`, UTC) of a time in ms.
fn datetime(ms: i64) -> String {
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1_000 % 60, rest % 1_000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a reader types, every tool's snippet is written (or refused) without a panic,
        /// and the text reaches the code intact: a string literal reads back as the text.
        #[test]
        fn any_key_and_value_make_code(key in "\\PC{0,40}", value in "(\\PC|\n|'|\"){0,40}", partition in proptest::option::of(0..3i32)) {
            let command = Command::Produce {
                topic: "t".into(), partition, key: Some(key.clone()), value: Some(value.clone()), timestamp_ms: None,
                partitioner: PartitionerKind::Default, key_serializer: SerializerKind::String,
                value_serializer: SerializerKind::String, headers: vec![("h".into(), value.clone())],
                acks: Acks::All, producer: None,
            };
            prop_assert_eq!(snippets(&command, "127.0.0.1:9092").len(), Tool::ALL.len());
            prop_assert_eq!(serde_json::from_str::<String>(&lit(&value)).ok(), Some(value.clone()));
            // A single-quoted shell word holds anything but `'`, which is closed, escaped and reopened.
            let quoted = sh(&key);
            prop_assert!(quoted == key || (quoted.starts_with('\'') && quoted.ends_with('\'')));
        }
    }

    #[test]
    fn a_record_sent_in_a_transaction_is_written_as_a_transactional_producers() {
        let producer = crate::api::IdempotentProducer {
            producer_id: 1,
            producer_epoch: 0,
            sequences: Vec::new(),
            transactional_id: None,
        };
        let mut command = Command::produce_text("t", None, None, "v");
        if let Command::Produce { producer: p, .. } = &mut command {
            *p = Some(producer.clone());
        }
        assert!(is_copyable(&command), "an idempotent producer's record has its code");
        if let Command::Produce { producer: p, .. } = &mut command {
            *p =
                Some(crate::api::IdempotentProducer { transactional_id: Some("pay-app".into()), ..producer });
        }
        let written = snippets(&command, "127.0.0.1:9092");
        let java = written.iter().find(|s| s.tool == Tool::Java).map(|s| &s.code);
        let Some(Code::Ready { text }) = java else { panic!("{java:?}") };
        assert!(text.contains("props.put(\"transactional.id\", \"pay-app\");"), "{text}");
        assert!(
            text.contains("producer.beginTransaction();") && text.contains("producer.commitTransaction();")
        );
        let kcat = written.iter().find(|s| s.tool == Tool::Kcat).map(|s| &s.code);
        assert!(matches!(kcat, Some(Code::Unavailable { .. })), "kcat sends no transactions");
    }

    #[test]
    fn a_datetime_is_written_as_kafka_consumer_groups_reads_it() {
        assert_eq!(datetime(1_700_000_000_000), "2023-11-14T22:13:20.000");
        assert_eq!(datetime(0), "1970-01-01T00:00:00.000");
        assert_eq!(datetime(951_782_400_123), "2000-02-29T00:00:00.123");
    }
}
