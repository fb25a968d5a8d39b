//! `kite scenario play FILE` plays a scenario script (docs/scenarios.md) on an in-memory cluster
//! and prints what each step did, failing if an expectation did not hold; `kite scenario url
//! FILE` prints the `?scenario=` parameter that opens it in the playground or an embed; `kite
//! scenario code FILE --tool kcat` writes its topics, records and consumers as that tool's code.

use std::path::PathBuf;

use kite_shared::api::{Command, IdempotentProducer};
use kite_shared::code::{Code, Tool, snippets};
use kite_shared::scenario::{Action, Outcome, ScenarioRun, Script, parse, to_url};

#[derive(clap::Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Play a script to its end (past its pauses and questions) and print each step; fails on a
    /// broken expectation.
    Play { file: PathBuf },
    /// Print the URL parameter (`v1.…`) that opens the script: `/?scenario=…`, `/?embed=1&scenario=…`.
    Url { file: PathBuf },
    /// Print the script's topics, records and consumers as code for a real cluster (the Code view's
    /// snippets): `--tool` kafka-cli, kcat, java, python, kafkajs or rust.
    Code {
        file: PathBuf,
        #[arg(long, default_value = "kafka-cli")]
        tool: String,
        #[arg(long, default_value = "127.0.0.1:9092")]
        bootstrap_server: String,
    },
}

/// Each step of `script` a real client can do, as `tool`'s code (or why it cannot), under a
/// comment naming the step's line.
fn write_code(
    script: &Script,
    tool: Tool,
    bootstrap: &str,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let comment = if matches!(tool, Tool::Java | Tool::Kafkajs | Tool::Rust) { "//" } else { "#" };
    for step in &script.steps {
        let command = match &step.action {
            Action::Request(command) => command.clone(),
            Action::ProduceIdempotent(command) => {
                let mut command = command.clone();
                if let Command::Produce { producer, .. } = &mut command {
                    // What the code needs to know: the producer is idempotent.
                    *producer = Some(IdempotentProducer {
                        producer_id: 0,
                        producer_epoch: 0,
                        sequences: Vec::new(),
                        transactional_id: None,
                    });
                }
                command
            }
            Action::OpenConsumer { name, group, topic, read_committed } => Command::OpenConsumer {
                group: Some(group.clone()),
                topics: vec![topic.clone()],
                partitions: Vec::new(),
                client_id: Some(name.clone()),
                auto_offset_reset: Some("earliest".into()),
                assignors: Vec::new(),
                enable_auto_commit: None,
                session_timeout_ms: None,
                isolation_level: if *read_committed {
                    kite_shared::api::IsolationLevel::ReadCommitted
                } else {
                    kite_shared::api::IsolationLevel::ReadUncommitted
                },
            },
            _ => continue,
        };
        let Some(snippet) = snippets(&command, bootstrap).into_iter().find(|s| s.tool == tool) else {
            continue;
        };
        writeln!(out, "{comment} line {}: {}", step.line, step.source)?;
        match snippet.code {
            Code::Ready { text } => writeln!(out, "{text}\n")?,
            Code::Unavailable { en, .. } => writeln!(out, "{comment} {en}\n")?,
        }
    }
    Ok(())
}

fn read(file: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

pub(crate) fn run(command: ScenarioCommand, out: &mut impl std::io::Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    match command {
        ScenarioCommand::Url { file } => writeln!(out, "{}", to_url(&read(&file)?)).map_err(io),
        ScenarioCommand::Code { file, tool, bootstrap_server } => {
            let tool = Tool::from_id(&tool).ok_or_else(|| {
                let ids: Vec<&str> = Tool::ALL.iter().map(|t| t.id()).collect();
                format!("--tool {tool:?} is not one of {}", ids.join(", "))
            })?;
            let script = parse(&read(&file)?).map_err(|e| format!("{}: {e}", file.display()))?;
            write_code(&script, tool, &bootstrap_server, out).map_err(io)
        }
        ScenarioCommand::Play { file } => {
            let text = read(&file)?;
            let script = parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut cluster = ScenarioRun::cluster_for(&script);
            let mut run = ScenarioRun::new(script);
            let mut failed = 0;
            while let Some(report) = run.step(&mut cluster) {
                let said = match &report.outcome {
                    Outcome::Done { said, .. } => said.clone(),
                    Outcome::Paused { text, .. } => format!("(pause) {text}"),
                    // The terminal plays on unasked; the answer is what the next expectation checks.
                    Outcome::Asked { text, choices, .. } => format!("(ask) {text} [{}]", choices.join(" / ")),
                    Outcome::Passed { said, .. } => format!("✓ {said}"),
                    Outcome::Failed { why, .. } => {
                        failed += 1;
                        format!("✗ {why}")
                    }
                };
                writeln!(out, "{:>4}  {:<50}  {said}", report.line, report.source).map_err(io)?;
            }
            if failed > 0 {
                return Err(format!("{failed} expectation(s) did not hold"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_prints_each_question_and_the_arithmetic_that_answers_it() {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios/same-key.kite");
        let mut out = Vec::new();
        run(ScenarioCommand::Play { file }, &mut out).expect("every expectation holds");
        let out = String::from_utf8(out).expect("text");
        assert!(
            out.contains(
                "(ask) The same key again: which partition will the second record go to? [0 / 1 / 2]"
            ),
            "{out}"
        );
        assert!(!out.contains("answer 2"), "the answer stays hidden in the question's line: {out}");
        assert!(
            out.contains("murmur2(\"foobar\") = -790332482, & 0x7fffffff = 1357151166, % 3 = 0"),
            "{out}"
        );
    }

    #[test]
    fn code_writes_a_scripts_topics_records_and_consumers_for_one_tool() {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios/what-is-kafka.kite");
        let mut out = Vec::new();
        let command =
            ScenarioCommand::Code { file, tool: "kcat".into(), bootstrap_server: "broker:9092".into() };
        run(command, &mut out).expect("a readable script");
        let out = String::from_utf8(out).expect("text");
        assert!(
            out.starts_with(
                "# line 5: topic orders partitions 3 replication 3\n# kcat does not create topics"
            ),
            "{out}"
        );
        assert!(
            out.contains("printf '%s\\n' customer-1:pizza | kcat -P -b broker:9092 -t orders -X acks=all -X partitioner=murmur2_random -K :"),
            "{out}"
        );
        assert!(out.contains("kcat -b broker:9092 -G billing -X auto.offset.reset=earliest"), "{out}");
        let unknown = ScenarioCommand::Code {
            file: PathBuf::from("x"),
            tool: "perl".into(),
            bootstrap_server: String::new(),
        };
        assert_eq!(
            run(unknown, &mut Vec::new()),
            Err("--tool \"perl\" is not one of kafka-cli, kcat, java, python, kafkajs, rust".into())
        );
    }
}
