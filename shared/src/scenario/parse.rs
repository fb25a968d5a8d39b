//! Reading a scenario script: one step per line, words separated by spaces, `"…"` for words with
//! spaces, `#` starting a comment line. Every error names its line and what was expected there.

use std::collections::BTreeMap;

use crate::api::Command;
use crate::config::{Acks, BrokerConfigs, broker_racks};
use crate::partitioner::PartitionerKind;
use crate::replication::kraft::{DEFAULT_CONTROLLERS, check_quorum_size};
use crate::replication::partition::DELETE_TO_HIGH_WATERMARK;
use crate::serializer::SerializerKind;

use super::{
    Action, Expectation, MAX_ASK_CHOICES, MAX_SCENARIO_BROKERS, MAX_SCENARIO_LINES,
    MAX_SCENARIO_TOTAL_WAIT_MS, MAX_SCENARIO_WAIT_MS, ParseError, Script, Step,
};

const STEPS: &str = "seed, brokers, topic, alter, reassign, elect, produce, offsets, delete, stop, start, pause, ask, resume, isolate, heal, cut, consumer, begin, commit, abort, connector, append, wait, expect";
const ASK_USAGE: &str = "expected `ask \"QUESTION\" [ko \"질문\"] choices A B … answer A`";

/// Splits a line into words: spaces separate, `"…"` groups (with `\"` and `\\` inside), and a
/// quoted part may follow `name=` (`value="hello world"`).
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => current.push(escaped),
                            None => return Err("a `\\` at the end of the line".into()),
                        },
                        Some(other) => current.push(other),
                        None => return Err("a `\"` is not closed".into()),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

fn number<T: std::str::FromStr>(what: &str, word: Option<&String>) -> Result<T, String> {
    match word {
        Some(word) => word.parse().map_err(|_| format!("{what} expects a number, found `{word}`")),
        None => Err(format!("{what} expects a number")),
    }
}

/// `orders-2` → ("orders", 2).
fn topic_partition(word: Option<&String>) -> Result<(String, i32), String> {
    let word = word.ok_or("expected a partition as TOPIC-N, e.g. orders-0")?;
    word.rsplit_once('-')
        .and_then(|(topic, p)| Some((topic.to_string(), p.parse().ok()?)))
        .filter(|(topic, _)| !topic.is_empty())
        .ok_or_else(|| format!("expected a partition as TOPIC-N, e.g. orders-0, found `{word}`"))
}

/// `0,1,2` → broker ids, for `what`.
fn broker_ids(what: &str, word: Option<&String>) -> Result<Vec<i32>, String> {
    let list = word.ok_or_else(|| format!("{what} expects brokers, e.g. 0,1,2"))?;
    list.split(',')
        .map(|b| b.trim().parse().map_err(|_| format!("{what}: `{b}` is not a broker id")))
        .collect()
}

/// `reassign TOPIC-N to B,B,…` or `reassign TOPIC-N cancel`.
fn reassign(words: &[String]) -> Result<Command, String> {
    const USAGE: &str = "expected `reassign TOPIC-N to 0,1,2` or `reassign TOPIC-N cancel`";
    let (topic, partition) = topic_partition(words.get(1))?;
    let (replicas, used) = match words.get(2).map(String::as_str) {
        Some("to") => (Some(broker_ids("reassign TOPIC-N to", words.get(3))?), 4),
        Some("cancel") => (None, 3),
        _ => return Err(USAGE.into()),
    };
    no_more(words, used)?;
    let target = crate::api::ReassignmentTarget { topic, partition, replicas };
    Ok(Command::AlterPartitionReassignments { partitions: vec![target] })
}

/// `alter topic NAME partitions N`, `alter topic NAME config K=V …` or `alter broker N|default
/// config K=V …` (a dynamic broker config, `default` for every broker's).
fn alter(words: &[String]) -> Result<Command, String> {
    const USAGE: &str = "expected `alter topic NAME partitions N`, `alter topic NAME config K=V …` or `alter broker N|default config K=V …`";
    let configs = || -> Result<BTreeMap<String, String>, String> {
        let pairs = words.get(4..).filter(|pairs| !pairs.is_empty()).ok_or(USAGE)?;
        let pair = |p: &String| p.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()));
        pairs.iter().map(|p| pair(p).ok_or_else(|| format!("expected K=V, found `{p}`"))).collect()
    };
    match (words.get(1).map(String::as_str), words.get(2), words.get(3).map(String::as_str)) {
        (Some("topic"), Some(topic), Some("partitions")) => {
            let count = number("partitions", words.get(4))?;
            no_more(words, 5)?;
            Ok(Command::CreatePartitions { topic: topic.clone(), count })
        }
        (Some("topic"), Some(topic), Some("config")) => {
            Ok(Command::AlterTopicConfig { name: topic.clone(), set: configs()?, delete: Vec::new() })
        }
        (Some("broker"), Some(broker), Some("config")) => {
            let broker = match broker.as_str() {
                "default" => None,
                id => Some(number("alter broker", Some(&id.to_string()))?),
            };
            Ok(Command::AlterBrokerConfig { broker, set: configs()?, delete: Vec::new() })
        }
        _ => Err(USAGE.into()),
    }
}

/// `expect connector NAME STATE`, `expect file PATH lines N` or `expect table DB TABLE rows N`.
fn expect_connect(words: &[String]) -> Result<(Expectation, usize), String> {
    if words[1] == "table" {
        const USAGE: &str = "expected `expect table DATABASE TABLE rows N`";
        let (database, table) = (words.get(2).ok_or(USAGE)?.clone(), words.get(3).ok_or(USAGE)?.clone());
        if words.get(4).map(String::as_str) != Some("rows") {
            return Err(USAGE.into());
        }
        let rows = number("expect table DATABASE TABLE rows", words.get(5))?;
        return Ok((Expectation::TableRows { database, table, rows }, 6));
    }
    if words[1] == "connector" {
        const USAGE: &str = "expected `expect connector NAME RUNNING|PAUSED|FAILED|…`";
        let name = words.get(2).ok_or(USAGE)?.clone();
        let state = words.get(3).ok_or(USAGE)?.to_ascii_uppercase();
        return Ok((Expectation::Connector { name, state }, 4));
    }
    const USAGE: &str = "expected `expect file PATH lines N`";
    let path = words.get(2).ok_or(USAGE)?.clone();
    if words.get(3).map(String::as_str) != Some("lines") {
        return Err(USAGE.into());
    }
    Ok((Expectation::FileLines { path, lines: number("expect file PATH lines", words.get(4))? }, 5))
}

/// `expect subject SUBJECT versions N`: the schema registry's subject.
fn expect_subject(words: &[String]) -> Result<(Expectation, usize), String> {
    const USAGE: &str = "expected `expect subject SUBJECT versions N`";
    let subject = words.get(2).ok_or(USAGE)?.clone();
    if words.get(3).map(String::as_str) != Some("versions") {
        return Err(USAGE.into());
    }
    let versions = number("expect subject SUBJECT versions", words.get(4))?;
    Ok((Expectation::SubjectVersions { subject, versions }, 5))
}

/// `connector create NAME CLASS K=V …` (POST /connectors), or `connector pause|resume|restart|
/// delete NAME`: Kite Connect's REST API.
fn connector(words: &[String]) -> Result<Command, String> {
    const USAGE: &str =
        "expected `connector create NAME CLASS K=V …` or `connector pause|resume|restart|delete NAME`";
    let name = words.get(2).ok_or(USAGE)?;
    let path = |tail: &str| format!("/connectors/{}{tail}", crate::connect::rest::percent_encode(name));
    let (method, path, body) = match words.get(1).map(String::as_str) {
        Some("create") => {
            let class = words.get(3).ok_or(USAGE)?;
            let mut config = serde_json::Map::new();
            config.insert("connector.class".into(), class.clone().into());
            for pair in &words[4..] {
                let (k, v) = pair.split_once('=').ok_or_else(|| format!("expected K=V, found `{pair}`"))?;
                config.insert(k.to_string(), v.into());
            }
            ("POST", "/connectors".to_string(), Some(serde_json::json!({ "name": name, "config": config })))
        }
        Some("pause") => ("PUT", path("/pause"), None),
        Some("resume") => ("PUT", path("/resume"), None),
        Some("restart") => ("POST", path("/restart?includeTasks=true"), None),
        Some("delete") => ("DELETE", path(""), None),
        _ => return Err(USAGE.into()),
    };
    if body.is_none() {
        no_more(words, 3)?;
    }
    Ok(Command::Connect { method: method.into(), path, body })
}

/// `elect leaders preferred|unclean [TOPIC-N]`: every partition when none is named.
fn elect(words: &[String]) -> Result<Command, String> {
    const USAGE: &str = "expected `elect leaders preferred [TOPIC-N]` or `elect leaders unclean [TOPIC-N]`";
    let election = match (words.get(1).map(String::as_str), words.get(2).map(String::as_str)) {
        (Some("leaders"), Some("preferred")) => crate::config::ElectionType::Preferred,
        (Some("leaders"), Some("unclean")) => crate::config::ElectionType::Unclean,
        _ => return Err(USAGE.into()),
    };
    let partitions = match words.get(3) {
        None => None,
        Some(word) => {
            let (topic, partition) = topic_partition(Some(word))?;
            Some(vec![crate::api::PartitionRef { topic, partition }])
        }
    };
    no_more(words, if partitions.is_some() { 4 } else { 3 })?;
    Ok(Command::ElectLeaders { election, partitions })
}

/// `500`, `500ms`, `10s`, `2m` → milliseconds.
fn duration_ms(word: Option<&String>) -> Result<i64, String> {
    let word = word.ok_or("wait expects a time: 500ms, 10s or 2m")?;
    let (digits, unit) = word.split_at(word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len()));
    let amount: i64 =
        digits.parse().map_err(|_| format!("wait expects a time: 500ms, 10s or 2m, found `{word}`"))?;
    let ms = match unit {
        "" | "ms" => Some(amount),
        "s" => amount.checked_mul(1_000),
        "m" => amount.checked_mul(60_000),
        _ => None,
    }
    .ok_or_else(|| format!("wait expects a time: 500ms, 10s or 2m, found `{word}`"))?;
    if !(1..=MAX_SCENARIO_WAIT_MS).contains(&ms) {
        return Err(format!("wait {word} is outside 1ms..=1h"));
    }
    Ok(ms)
}

fn broker(step: &str, words: &[String]) -> Result<i32, String> {
    match words.get(1).map(String::as_str) {
        Some("broker") => number(&format!("{step} broker"), words.get(2)),
        _ if matches!(step, "stop" | "start" | "resume" | "isolate" | "heal") => {
            Err(format!("expected `{step} broker N` or `{step} controller N`"))
        }
        _ => Err(format!("expected `{step} broker N`")),
    }
}

/// `cut link A B`: the two ends, checked here so a typo is a parse error with its line.
fn link(step: &str, words: &[String]) -> Result<(String, String), String> {
    let usage = || format!("expected `{step} link A B` (controller, broker-N or clients)");
    let (Some(a), Some(b)) = (words.get(2), words.get(3)) else { return Err(usage()) };
    for end in [a, b] {
        end.parse::<crate::replication::local::LinkEnd>()?;
    }
    Ok((a.clone(), b.clone()))
}

fn no_more(words: &[String], used: usize) -> Result<(), String> {
    match words.get(used) {
        Some(extra) => Err(format!("unexpected `{extra}` at the end of the step")),
        None => Ok(()),
    }
}

fn topic(words: &[String]) -> Result<Command, String> {
    let name = words.get(1).ok_or("topic expects a name: topic NAME partitions N")?.clone();
    let mut partitions = None;
    let mut replication_factor = None;
    let mut configs = BTreeMap::new();
    let mut i = 2;
    while i < words.len() {
        match words[i].as_str() {
            "partitions" => partitions = Some(number("partitions", words.get(i + 1))?),
            "replication" => replication_factor = Some(number("replication", words.get(i + 1))?),
            "config" => {
                let pair = words.get(i + 1).ok_or("config expects name=value")?;
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("config expects name=value, found `{pair}`"))?;
                configs.insert(k.to_string(), v.to_string());
            }
            other => {
                return Err(format!(
                    "topic: unexpected `{other}` (expected partitions N, replication N or config name=value)"
                ));
            }
        }
        i += 2;
    }
    let partitions = partitions.ok_or("topic expects `partitions N`")?;
    Ok(Command::CreateTopic { name, partitions, configs, replication_factor })
}

/// `produce TOPIC key=… value=… [idempotent]`: the record, and whether the script's idempotent
/// producer sends it.
fn produce(words: &[String]) -> Result<(Command, bool), String> {
    let topic = words.get(1).ok_or("produce expects a topic: produce TOPIC key=K value=V")?.clone();
    let (mut key, mut value, mut partition, mut headers) = (None, None, None, Vec::new());
    let mut timestamp_ms = None;
    let (mut partitioner, mut acks) = (PartitionerKind::default(), Acks::default());
    let mut idempotent = false;
    let (mut key_serializer, mut value_serializer) = (SerializerKind::default(), SerializerKind::default());
    for option in &words[2..] {
        if option == "idempotent" {
            idempotent = true;
            continue;
        }
        let (name, given) = option.split_once('=').ok_or_else(|| {
            format!("produce: expected name=value, found `{option}` (key=, value=, partition=, timestamp=, partitioner=, acks=, header=, or idempotent)")
        })?;
        match name {
            "key" => key = Some(given.to_string()),
            "value" => value = Some(given.to_string()),
            "partition" => partition = Some(number("partition=", Some(&given.to_string()))?),
            // The record's CreateTime (ms since the epoch); the clock's time when not given.
            "timestamp" => timestamp_ms = Some(number("timestamp=", Some(&given.to_string()))?),
            "partitioner" => {
                partitioner = PartitionerKind::from_name(given).ok_or_else(|| {
                    format!("unknown partitioner `{given}` (default, RoundRobinPartitioner, consistent_random, murmur2_random)")
                })?
            }
            "acks" => {
                acks = Acks::from_name(given).ok_or_else(|| format!("acks is all, 1 or 0, found `{given}`"))?
            }
            "header" => {
                let (k, v) = given.split_once(':').unwrap_or((given, ""));
                headers.push((k.to_string(), v.to_string()));
            }
            // Kafka's serializer classes by short name (`IntegerSerializer`): the bytes the
            // partitioner hashes and the log keeps are the serializer's, not the text's.
            "key-serializer" => key_serializer = serializer(given)?,
            "value-serializer" => value_serializer = serializer(given)?,
            other => {
                return Err(format!(
                    "produce: unknown option `{other}` (expected key=, value=, partition=, timestamp=, partitioner=, acks=, header=, key-serializer=, value-serializer=, or idempotent)"
                ));
            }
        }
    }
    let command = Command::Produce {
        topic,
        partition,
        key,
        value,
        timestamp_ms,
        partitioner,
        key_serializer,
        value_serializer,
        headers,
        acks,
        producer: None,
    };
    Ok((command, idempotent))
}

/// A `key-serializer=` / `value-serializer=` word: one of Kafka's serializer classes.
fn serializer(name: &str) -> Result<SerializerKind, String> {
    SerializerKind::from_class_name(name).filter(|kind| *kind != SerializerKind::Avro).ok_or_else(|| {
        format!("unknown serializer `{name}` (StringSerializer, IntegerSerializer, LongSerializer, ShortSerializer, DoubleSerializer, FloatSerializer, BooleanSerializer, UUIDSerializer, ByteArraySerializer, JsonSerializer)")
    })
}

fn expect(words: &[String]) -> Result<(Expectation, usize), String> {
    let what = words.get(1).map(String::as_str);
    Ok(match what {
        Some("partition") => (Expectation::Partition(number("expect partition", words.get(2))?), 3),
        Some("offset") => (Expectation::Offset(number("expect offset", words.get(2))?), 3),
        Some("ok") => (Expectation::Ok, 2),
        Some("error") => {
            let name =
                words.get(2).ok_or("expect error expects a Kafka error name, e.g. NOT_ENOUGH_REPLICAS")?;
            (Expectation::Error(name.clone()), 3)
        }
        Some("leader") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            let broker = match words.get(3).map(String::as_str) {
                Some("none") => None,
                _ => Some(number("expect leader TOPIC-N", words.get(3))?),
            };
            (Expectation::Leader { topic, partition, broker }, 4)
        }
        Some("isr") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            let brokers = broker_ids("expect isr TOPIC-N", words.get(3))?;
            (Expectation::Isr { topic, partition, brokers }, 4)
        }
        Some("replicas") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            let brokers = broker_ids("expect replicas TOPIC-N", words.get(3))?;
            (Expectation::Replicas { topic, partition, brokers }, 4)
        }
        Some("brokers") => (Expectation::Brokers(broker_ids("expect brokers", words.get(2))?), 3),
        Some("controller") => {
            let active = match words.get(2).map(String::as_str) {
                Some("none") => None,
                _ => Some(number("expect controller", words.get(2))?),
            };
            (Expectation::ActiveController(active), 3)
        }
        Some("connector" | "file" | "table") => expect_connect(words)?,
        Some("subject") => expect_subject(words)?,
        Some("records") => {
            let topic = words.get(2).ok_or("expect records expects a topic and a count")?.clone();
            (Expectation::Records { topic, count: number("expect records TOPIC", words.get(3))? }, 4)
        }
        Some("lag") => {
            let group = words.get(2).ok_or("expect lag expects a group and a number")?.clone();
            (Expectation::Lag { group, lag: number("expect lag GROUP", words.get(3))? }, 4)
        }
        Some("assigned") => {
            let group =
                words.get(2).ok_or("expect assigned expects a group, a consumer and a count")?.clone();
            let member =
                words.get(3).ok_or("expect assigned expects a group, a consumer and a count")?.clone();
            (
                Expectation::Assigned {
                    group,
                    member,
                    count: number("expect assigned GROUP CONSUMER", words.get(4))?,
                },
                5,
            )
        }
        Some("readable") => {
            const USAGE: &str = "expected `expect readable TOPIC N read_committed|read_uncommitted`";
            let topic = words.get(2).ok_or(USAGE)?.clone();
            let count = number("expect readable TOPIC", words.get(3))?;
            let read_committed = match words.get(4).map(String::as_str) {
                Some("read_committed") => true,
                Some("read_uncommitted") => false,
                _ => return Err(USAGE.into()),
            };
            (Expectation::Readable { topic, count, read_committed }, 5)
        }
        Some("stable-offset") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            let offset = number("expect stable-offset TOPIC-N", words.get(3))?;
            (Expectation::StableOffset { topic, partition, offset }, 4)
        }
        Some("segments") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            (
                Expectation::Segments {
                    topic,
                    partition,
                    count: number("expect segments TOPIC-N", words.get(3))?,
                },
                4,
            )
        }
        _ => {
            return Err(
                "expect what? partition N, offset N, ok, error NAME, leader TOPIC-N B|none, isr TOPIC-N B,B, records TOPIC N, lag GROUP N, assigned GROUP CONSUMER N, segments TOPIC-N N, readable TOPIC N read_committed|read_uncommitted or stable-offset TOPIC-N N"
                    .into(),
            );
        }
    })
}

const DELETE_USAGE: &str =
    "expected `delete topic NAME` or `delete records TOPIC-N before OFFSET|high-watermark`";

const OFFSETS_USAGE: &str = "expected `offsets TOPIC-N at earliest|latest|max-timestamp|TIME_MS`";

/// `offsets`' `at` word as ListOffsets' timestamp: a special one by kafka-get-offsets' name, or
/// a time in ms.
fn offsets_at(when: &str) -> Result<i64, String> {
    crate::cluster::list_offsets_timestamp(when)
        .or_else(|| when.parse::<i64>().ok().filter(|t| *t >= 0))
        .ok_or_else(|| OFFSETS_USAGE.to_string())
}

/// `delete topic NAME`, or `delete records TOPIC-N before OFFSET|high-watermark`.
fn delete(words: &[String]) -> Result<Action, String> {
    let (command, used) = match words.get(1).map(String::as_str) {
        Some("topic") => (Command::DeleteTopic { name: words.get(2).ok_or(DELETE_USAGE)?.clone() }, 3),
        Some("records") => {
            let (topic, partition) = topic_partition(words.get(2))?;
            let offset = match (words.get(3).map(String::as_str), words.get(4).map(String::as_str)) {
                // Kafka's -1: everything committed.
                (Some("before"), Some("high-watermark")) => DELETE_TO_HIGH_WATERMARK,
                (Some("before"), Some(offset)) => {
                    offset.parse::<i64>().ok().filter(|o| *o >= 0).ok_or(DELETE_USAGE)?
                }
                _ => return Err(DELETE_USAGE.into()),
            };
            (Command::DeleteRecords { topic, partition, offset }, 5)
        }
        _ => return Err(DELETE_USAGE.into()),
    };
    no_more(words, used).map(|()| Action::Request(command))
}

/// `stop|start|pause|resume|isolate|heal controller N`.
fn controller_fault(step: &str, words: &[String]) -> Result<Command, String> {
    let controller = number(&format!("{step} controller"), words.get(2))?;
    Ok(match step {
        "stop" => Command::StopController { controller },
        "start" => Command::StartController { controller },
        "pause" => Command::PauseController { controller },
        "resume" => Command::ResumeController { controller },
        "isolate" => Command::IsolateController { controller },
        _ => Command::HealController { controller },
    })
}

fn step(words: &[String], line_text: &str) -> Result<Action, String> {
    let first = words[0].as_str();
    let request = |command: Command, used: usize| no_more(words, used).map(|()| Action::Request(command));
    match first {
        "topic" => topic(words).map(Action::Request),
        "produce" => produce(words).map(|(command, idempotent)| match idempotent {
            true => Action::ProduceIdempotent(command),
            false => Action::Request(command),
        }),
        "retry" => no_more(words, 1).map(|()| Action::Retry),
        "delete" => delete(words),
        "alter" => alter(words).map(Action::Request),
        "reassign" => reassign(words).map(Action::Request),
        "elect" => elect(words).map(Action::Request),
        "offsets" => {
            let (topic, partition) = topic_partition(words.get(1))?;
            let timestamp_ms = match (words.get(2).map(String::as_str), words.get(3)) {
                (Some("at"), Some(when)) => offsets_at(when)?,
                _ => return Err(OFFSETS_USAGE.into()),
            };
            request(Command::ListOffsets { topic, partition, timestamp_ms }, 4)
        }
        "add" => match (words.get(1).map(String::as_str), words.get(2).map(String::as_str)) {
            (Some("broker"), Some("rack")) => {
                let rack = words.get(3).ok_or("expected `add broker rack NAME`")?.clone();
                request(Command::AddBroker { rack: Some(rack) }, 4)
            }
            (Some("broker"), _) => request(Command::AddBroker { rack: None }, 2),
            _ => Err("expected `add broker` or `add broker rack NAME`".into()),
        },
        "remove" => request(Command::RemoveBroker { broker: broker(first, words)? }, 3),
        // `pause controller N` exactly: a reader's pause may say anything.
        "stop" | "start" | "pause" | "resume" | "isolate" | "heal"
            if words.get(1).map(String::as_str) == Some("controller")
                && (first != "pause" || words.len() == 3) =>
        {
            request(controller_fault(first, words)?, 3)
        }
        "stop" => request(Command::StopBroker { broker: broker(first, words)? }, 3),
        "start" => request(Command::StartBroker { broker: broker(first, words)? }, 3),
        "resume" => request(Command::ResumeBroker { broker: broker(first, words)? }, 3),
        "isolate" => request(Command::IsolateBroker { broker: broker(first, words)? }, 3),
        "cut" | "heal" if words.get(1).map(String::as_str) == Some("link") => {
            let (from, to) = link(first, words)?;
            request(
                if first == "cut" { Command::CutLink { from, to } } else { Command::HealLink { from, to } },
                4,
            )
        }
        "heal" => request(Command::HealBroker { broker: broker(first, words)? }, 3),
        "pause" if words.get(1).map(String::as_str) == Some("broker") && words.len() == 3 => {
            request(Command::PauseBroker { broker: broker(first, words)? }, 3)
        }
        "pause" => {
            // The reader's pause: the rest of the line, unquoted or quoted, or two quoted
            // sentences, the English then the Korean: pause "…" ko "…".
            // Only a quoted English sentence may have a Korean one after it: unquoted, `ko` is a
            // word of the sentence (`pause Say ko twice`).
            let rest = line_text.trim_start().trim_start_matches("pause").trim();
            let (text, ko) = match words {
                [_, text] => (text.clone(), None),
                [_, text, ko_word, ko] if ko_word == "ko" && rest.starts_with('"') => {
                    (text.clone(), Some(ko.clone()))
                }
                [_, _, ko_word] if ko_word == "ko" && rest.starts_with('"') => {
                    return Err("pause \"…\" ko expects the Korean sentence after ko: ko \"…\"".into());
                }
                _ => (rest.to_string(), None),
            };
            if text.is_empty() || ko.as_deref() == Some("") {
                return Err("pause expects what to tell the reader: pause \"Now watch the leader\" (ko \"…\" after it for Korean pages)".into());
            }
            Ok(Action::Pause { text, ko })
        }
        "ask" => ask(words),
        "consumer" => consumer(words),
        "begin" | "commit" | "abort" => transaction(first, words),
        "wait" => {
            let ms = duration_ms(words.get(1))?;
            no_more(words, 2)?;
            Ok(Action::Wait { ms })
        }
        "connector" => connector(words).map(Action::Request),
        "append" => match (words.get(1), words.get(2)) {
            (Some(path), Some(line)) => {
                let write =
                    Command::WriteConnectFile { path: path.clone(), text: format!("{line}\n"), append: true };
                request(write, 3)
            }
            _ => Err("expected `append FILE \"a line\"`".into()),
        },
        "expect" => {
            let (expectation, used) = expect(words)?;
            no_more(words, used)?;
            Ok(Action::Expect(expectation))
        }
        other => Err(format!("unknown step `{other}`: expected one of {STEPS}")),
    }
}

/// `consumer NAME group G topic T [read_committed|read_uncommitted]`.
fn consumer(words: &[String]) -> Result<Action, String> {
    const USAGE: &str = "expected `consumer NAME group G topic T [read_committed|read_uncommitted]`";
    let name = words.get(1).ok_or(USAGE)?.clone();
    let (Some("group"), Some("topic")) = (words.get(2).map(String::as_str), words.get(4).map(String::as_str))
    else {
        return Err(USAGE.into());
    };
    let group = words.get(3).ok_or(USAGE)?.clone();
    let topic = words.get(5).ok_or(USAGE)?.clone();
    // Kafka's isolation.level; read_uncommitted, its default, may be said too.
    let level = words.get(6).map(String::as_str);
    let read_committed = level == Some("read_committed");
    let said = matches!(level, Some("read_committed" | "read_uncommitted"));
    no_more(words, if said { 7 } else { 6 })?;
    Ok(Action::OpenConsumer { name, group, topic, read_committed })
}

/// `begin TXN`, `commit TXN` or `abort TXN`.
fn transaction(first: &str, words: &[String]) -> Result<Action, String> {
    let transactional_id = words
        .get(1)
        .filter(|id| !id.is_empty())
        .ok_or(format!("expected `{first} TXN` (a transactional.id)"))?
        .clone();
    no_more(words, 2)?;
    Ok(match first {
        "begin" => Action::Begin { transactional_id },
        _ => Action::EndTransaction { transactional_id, commit: first == "commit" },
    })
}

/// `ask "QUESTION" [ko "질문"] choices A B … answer A`.
fn ask(words: &[String]) -> Result<Action, String> {
    let text = words.get(1).filter(|t| !t.is_empty()).ok_or(ASK_USAGE)?.clone();
    let (ko, rest) = match words.get(2).map(String::as_str) {
        Some("ko") => (Some(words.get(3).filter(|k| !k.is_empty()).ok_or(ASK_USAGE)?.clone()), &words[4..]),
        _ => (None, &words[2..]),
    };
    let Some(("choices", rest)) = rest.split_first().map(|(first, rest)| (first.as_str(), rest)) else {
        return Err(ASK_USAGE.into());
    };
    let at_answer = rest.iter().position(|w| w == "answer").ok_or(ASK_USAGE)?;
    let choices = rest[..at_answer].to_vec();
    let answer = match &rest[at_answer + 1..] {
        [answer] => answer.clone(),
        _ => return Err(ASK_USAGE.into()),
    };
    if !(2..=MAX_ASK_CHOICES).contains(&choices.len()) {
        return Err(format!("ask offers 2 to {MAX_ASK_CHOICES} choices, found {}", choices.len()));
    }
    if choices.iter().enumerate().any(|(i, c)| choices[..i].contains(c)) {
        return Err("ask: each choice once".into());
    }
    if !choices.contains(&answer) {
        return Err(format!("ask: the answer `{answer}` is not one of the choices"));
    }
    Ok(Action::Ask { text, ko, choices, answer })
}

/// The line of an `ask` with no `expect` after it before the next pause, question or the end:
/// the expectation is what settles the reader's prediction.
fn unsettled_question(steps: &[Step]) -> Option<usize> {
    let mut open: Option<usize> = None;
    for step in steps {
        match step.action {
            Action::Expect(_) => open = None,
            Action::Ask { .. } | Action::Pause { .. } if open.is_some() => return open,
            Action::Ask { .. } => open = Some(step.line),
            _ => {}
        }
    }
    open
}

/// A script's transactions one at a time, as one producer opens them: `begin` while another is
/// open, or `commit`/`abort` of one not open, is refused at its line.
fn transactions_in_order(steps: &[Step]) -> Result<(), ParseError> {
    let mut open: Option<&str> = None;
    for step in steps {
        let error = |message: String| ParseError { line: step.line, message };
        match (&step.action, open) {
            (Action::Begin { transactional_id }, None) => open = Some(transactional_id),
            (Action::Begin { .. }, Some(other)) => {
                return Err(error(format!(
                    "`begin`: transaction {other} is still open (commit or abort it first)"
                )));
            }
            (Action::EndTransaction { transactional_id, .. }, Some(id)) if id == transactional_id => {
                open = None
            }
            (Action::EndTransaction { transactional_id, .. }, _) => {
                return Err(error(format!(
                    "no transaction {transactional_id} is open here (`begin {transactional_id}` first)"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads a script. `seed`, `brokers`, `controllers`, `racks` and `broker-config` lines set the cluster up
/// and come before the steps.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let mut script = Script {
        seed: 1,
        brokers: 3,
        controllers: DEFAULT_CONTROLLERS,
        broker_configs: BrokerConfigs::DEFAULT,
        racks: Vec::new(),
        steps: Vec::new(),
    };
    let mut broker_configs: Vec<String> = Vec::new();
    let mut waited_ms = 0;
    for (index, line_text) in text.lines().enumerate() {
        let line = index + 1;
        let error = |message: String| ParseError { line, message };
        if line > MAX_SCENARIO_LINES {
            return Err(error(format!("a script has at most {MAX_SCENARIO_LINES} lines")));
        }
        let trimmed = line_text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words = words(trimmed).map_err(error)?;
        let setup = |what: &str| {
            if script.steps.is_empty() {
                Ok(())
            } else {
                Err(error(format!("`{what}` sets the cluster up: it comes before the first step")))
            }
        };
        match words[0].as_str() {
            "seed" => {
                setup("seed")?;
                script.seed = number("seed", words.get(1)).map_err(error)?;
                no_more(&words, 2).map_err(error)?;
            }
            "brokers" => {
                setup("brokers")?;
                let brokers: usize = number("brokers", words.get(1)).map_err(error)?;
                if !(1..=MAX_SCENARIO_BROKERS).contains(&brokers) {
                    return Err(error(format!("brokers {brokers} is outside 1..={MAX_SCENARIO_BROKERS}")));
                }
                script.brokers = brokers;
                no_more(&words, 2).map_err(error)?;
            }
            "racks" => {
                setup("racks")?;
                if words.len() < 2 {
                    return Err(error("expected `racks RACK RACK …` (broker 0's first)".into()));
                }
                script.racks = broker_racks(&words[1..].join(","), MAX_SCENARIO_BROKERS).map_err(error)?;
            }
            "broker-config" => {
                setup("broker-config")?;
                if words.len() < 2 {
                    return Err(error("expected `broker-config NAME=VALUE …`".into()));
                }
                broker_configs.extend(words[1..].iter().cloned());
                script.broker_configs =
                    BrokerConfigs::from_overrides(broker_configs.iter().map(String::as_str))
                        .map_err(|e| error(e.message))?;
            }
            "controllers" => {
                setup("controllers")?;
                let controllers: usize = number("controllers", words.get(1)).map_err(error)?;
                script.controllers = check_quorum_size(controllers).map_err(error)?;
                no_more(&words, 2).map_err(error)?;
            }
            _ => {
                let action = step(&words, trimmed).map_err(error)?;
                if let Action::Wait { ms } = action {
                    waited_ms += ms;
                    if waited_ms > MAX_SCENARIO_TOTAL_WAIT_MS {
                        return Err(error(format!(
                            "the script's waits add up to {waited_ms}ms here: at most 2h in all"
                        )));
                    }
                }
                script.steps.push(Step { line, source: trimmed.to_string(), action });
            }
        }
    }
    transactions_in_order(&script.steps)?;
    if let Some(line) = unsettled_question(&script.steps) {
        let message =
            "ask needs an `expect` after it (before the next pause or ask) to settle the prediction".into();
        return Err(ParseError { line, message });
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_spaces_and_keep_quoted_ones_whole() {
        assert_eq!(
            words(r#"produce t value="a b" key=k"#).unwrap(),
            vec!["produce", "t", "value=a b", "key=k"]
        );
        assert_eq!(words(r#"pause "say \"hi\"""#).unwrap(), vec!["pause", r#"say "hi""#]);
        assert!(words(r#"pause "open"#).is_err());
    }

    #[test]
    fn a_scripts_waits_add_up_to_at_most_two_hours() {
        assert!(parse("wait 60m\nwait 60m\n").is_ok());
        let error = parse("wait 60m\nwait 60m\nproduce t value=v\nwait 1ms\n").unwrap_err();
        assert_eq!(error.line, 4);
        assert_eq!(error.message, "the script's waits add up to 7200001ms here: at most 2h in all");
    }

    #[test]
    fn a_script_reads_into_steps() {
        let script = parse(
            "# same key, same partition\nseed 7\nbrokers 3\n\ntopic orders partitions 3 replication 3 config min.insync.replicas=2\n\
             produce orders key=alice value=\"10 EUR\" acks=all header=source:web\nexpect partition 0\n\
             stop broker 1\npause broker 2\npause Now watch the leader move\nwait 10s\n\
             consumer c1 group billing topic orders\nexpect leader orders-0 none\nexpect isr orders-1 0,2\nexpect lag billing 0\n",
        )
        .unwrap();
        assert_eq!((script.seed, script.brokers, script.steps.len()), (7, 3, 11));
        assert_eq!(script.steps[0].line, 5);
        assert!(
            matches!(&script.steps[1].action, Action::Request(Command::Produce { value: Some(v), headers, .. })
            if v == "10 EUR" && headers == &vec![("source".to_string(), "web".to_string())])
        );
        assert_eq!(script.steps[4].action, Action::Request(Command::PauseBroker { broker: 2 }));
        assert_eq!(
            script.steps[5].action,
            Action::Pause { text: "Now watch the leader move".into(), ko: None }
        );
        assert_eq!(script.steps[6].action, Action::Wait { ms: 10_000 });
        assert_eq!(
            script.steps[8].action,
            Action::Expect(Expectation::Leader { topic: "orders".into(), partition: 0, broker: None })
        );
    }

    #[test]
    fn a_pause_may_say_it_in_korean_too() {
        let script =
            parse("pause \"Now the leader stops.\" ko \"이제 리더를 정지합니다.\"\npause \"Only English\"\n")
                .unwrap();
        let pause =
            |text: &str, ko: Option<&str>| Action::Pause { text: text.into(), ko: ko.map(str::to_string) };
        assert_eq!(script.steps[0].action, pause("Now the leader stops.", Some("이제 리더를 정지합니다.")));
        assert_eq!(script.steps[1].action, pause("Only English", None));
        let error = parse("pause \"English\" ko \"\"\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("ko"), "{error:?}");
        assert!(parse("pause \"English\" ko\n").unwrap_err().message.contains("after ko"));
        // Unquoted, `ko` is only a word of the sentence.
        let script = parse("pause Say ko twice\n").unwrap();
        assert_eq!(script.steps[0].action, pause("Say ko twice", None));
    }

    // proptest is a native dev-dependency (the wasm32 build of the tests has none).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Any text gets a script or a line-numbered error, never a panic (the fuzz target
        /// `scenario_parse` goes further, on nightly).
        #[test]
        fn any_text_parses_or_names_its_line(text in "(\\PC|\n|\"){0,200}") {
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1));
            }
        }
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let error = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            error("topic orders partitions three"),
            "line 1: partitions expects a number, found `three`"
        );
        assert_eq!(
            error("topic t partitions 1\nproduc t"),
            format!("line 2: unknown step `produc`: expected one of {STEPS}")
        );
        assert!(error("produce t kye=1").starts_with("line 1: produce: unknown option `kye`"));
        assert_eq!(
            error("topic t partitions 1\nseed 3"),
            "line 2: `seed` sets the cluster up: it comes before the first step"
        );
        assert_eq!(error("brokers 12"), "line 1: brokers 12 is outside 1..=9");
        assert_eq!(
            error("controllers 4"),
            "line 1: 4 controllers: a quorum has an odd number of voters, 1 to 7 (an even one survives no more failures than one voter fewer)"
        );
        assert_eq!(
            error("seed 2\nbroker-config leader.imbalance.check.interval.seconds=0"),
            "line 2: Invalid value 0 for configuration leader.imbalance.check.interval.seconds: Value must be at least 1"
        );
        assert_eq!(error("broker-config"), "line 1: expected `broker-config NAME=VALUE …`");
        assert_eq!(
            error("topic t partitions 1\nbroker-config auto.leader.rebalance.enable=false"),
            "line 2: `broker-config` sets the cluster up: it comes before the first step"
        );
        let off = parse(
            "broker-config auto.leader.rebalance.enable=false\nbroker-config leader.imbalance.check.interval.seconds=9",
        );
        let configs = off.unwrap().broker_configs;
        assert_eq!(
            (configs.auto_leader_rebalance_enable, configs.leader_imbalance_check_interval_seconds),
            (false, 9)
        );
        assert_eq!(error("wait soon"), "line 1: wait expects a time: 500ms, 10s or 2m, found `soon`");
        assert_eq!(
            error("expect leader orders 1"),
            "line 1: expected a partition as TOPIC-N, e.g. orders-0, found `orders`"
        );
        assert_eq!(error("stop broker 1 now"), "line 1: unexpected `now` at the end of the step");
        assert_eq!(
            error("cut link broker-0 zookeeper"),
            "line 1: `zookeeper` is not a network node: name controller, broker-N or clients."
        );
        assert_eq!(
            error("cut link broker-0"),
            "line 1: expected `cut link A B` (controller, broker-N or clients)"
        );
        assert!(
            error("produce t key=1 key-serializer=KafkaAvroSerializer")
                .starts_with("line 1: unknown serializer `KafkaAvroSerializer`")
        );
        assert_eq!(
            error("expect assigned billing"),
            "line 1: expect assigned expects a group, a consumer and a count"
        );
        assert_eq!(
            error("expect segments t-0 two"),
            "line 1: expect segments TOPIC-N expects a number, found `two`"
        );
        assert_eq!(
            error("begin a\nbegin b"),
            "line 2: `begin`: transaction a is still open (commit or abort it first)"
        );
        assert_eq!(error("begin a\ncommit b"), "line 2: no transaction b is open here (`begin b` first)");
        assert_eq!(error("abort a"), "line 1: no transaction a is open here (`begin a` first)");
        assert_eq!(error("begin"), "line 1: expected `begin TXN` (a transactional.id)");
        assert_eq!(
            error("expect readable t 2 committed"),
            "line 1: expected `expect readable TOPIC N read_committed|read_uncommitted`"
        );
        assert_eq!(
            error("expect subject t-value version 1"),
            "line 1: expected `expect subject SUBJECT versions N`"
        );
        assert_eq!(
            error("expect subject t-value versions one"),
            "line 1: expect subject SUBJECT versions expects a number, found `one`"
        );
        assert_eq!(
            error("consumer c group g topic t serializable"),
            "line 1: unexpected `serializable` at the end of the step"
        );
    }

    #[test]
    fn a_produce_names_its_serializers_and_expectations_count_assignments_and_segments() {
        let script = parse(
            "produce users key=42 key-serializer=IntegerSerializer value-serializer=LongSerializer value=7\n\
             expect assigned billing billing-4 0\nexpect segments logs-0 3\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let Action::Request(Command::Produce { key_serializer, value_serializer, .. }) =
            &script.steps[0].action
        else {
            panic!("{:?}", script.steps[0].action)
        };
        assert_eq!((*key_serializer, *value_serializer), (SerializerKind::Integer, SerializerKind::Long));
        assert_eq!(
            script.steps[1].action,
            Action::Expect(Expectation::Assigned {
                group: "billing".into(),
                member: "billing-4".into(),
                count: 0
            })
        );
        assert_eq!(
            script.steps[2].action,
            Action::Expect(Expectation::Segments { topic: "logs".into(), partition: 0, count: 3 })
        );
    }

    #[test]
    fn links_are_cut_and_healed_by_their_ends() {
        let script = parse(
            "cut link broker-1 controller
heal link clients broker-2
heal broker 0
",
        )
        .unwrap();
        let link = |from: &str, to: &str| (from.to_string(), to.to_string());
        let (from, to) = link("broker-1", "controller");
        assert_eq!(script.steps[0].action, Action::Request(Command::CutLink { from, to }));
        let (from, to) = link("clients", "broker-2");
        assert_eq!(script.steps[1].action, Action::Request(Command::HealLink { from, to }));
        assert_eq!(script.steps[2].action, Action::Request(Command::HealBroker { broker: 0 }));
    }

    #[test]
    fn a_controller_is_stopped_paused_or_cut_off_like_a_broker() {
        let script = parse(
            "pause controller 0
resume controller 0
isolate controller 1
heal controller 1
pause controller 2 is where it gets interesting
",
        )
        .unwrap();
        let requests: Vec<&Action> = script.steps.iter().map(|s| &s.action).collect();
        assert_eq!(
            requests[..4],
            [
                &Action::Request(Command::PauseController { controller: 0 }),
                &Action::Request(Command::ResumeController { controller: 0 }),
                &Action::Request(Command::IsolateController { controller: 1 }),
                &Action::Request(Command::HealController { controller: 1 }),
            ]
        );
        // Anything longer is a reader's pause.
        assert!(matches!(requests[4], Action::Pause { .. }), "{:?}", requests[4]);
    }
}
