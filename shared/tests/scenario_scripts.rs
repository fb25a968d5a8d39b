//! The docs' scenario scripts (`docs/scenarios/*.kite`) played to their end: every expectation in
//! them holds, and what each step did matches the snapshot beside the tests
//! (`tests/scenario_scripts/NAME.trace`; `UPDATE_EXPECT=1` rewrites them). A docs page's live
//! example cannot rot unnoticed.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use kite_shared::scenario::{Action, Outcome, Prediction, ScenarioRun, parse};

mod common;

/// A report's Korean, on its own line under the English.
fn korean(ko: &Option<String>) -> String {
    ko.as_ref().map(|ko| format!("\n    ko: {ko}")).unwrap_or_default()
}

/// The question an expectation settles, on its own line.
fn settled(prediction: &Option<Prediction>) -> String {
    prediction
        .as_ref()
        .map(|p| format!("\n    settles: {} (answer {})", p.question, p.answer))
        .unwrap_or_default()
}

fn play(text: &str) -> (String, Vec<String>) {
    let script = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let mut cluster = ScenarioRun::cluster_for(&script);
    let mut run = ScenarioRun::new(script);
    let (mut trace, mut failed) = (String::new(), Vec::new());
    // Past every reader's pause, to the end.
    while let Some(report) = run.step(&mut cluster) {
        let outcome = match &report.outcome {
            Outcome::Done { said, ko } => format!("  {said}{}", korean(ko)),
            Outcome::Paused { text, ko: None } => format!("  (pause) {text}"),
            Outcome::Paused { text, ko: Some(ko) } => format!("  (pause) {text} / {ko}"),
            Outcome::Asked { text, ko, choices } => {
                format!("  (ask) {text} [{}]{}", choices.join(" / "), korean(ko))
            }
            Outcome::Passed { said, ko, prediction } => {
                format!("  ✓ {said}{}{}", korean(ko), settled(prediction))
            }
            Outcome::Failed { why, ko, prediction } => {
                failed.push(format!("line {}: {why}", report.line));
                format!("  ✗ {why}{}{}", korean(ko), settled(prediction))
            }
        };
        trace.push_str(&format!("{:>3} {}\n{outcome}\n", report.line, report.source));
    }
    (trace, failed)
}

#[test]
fn the_docs_scenarios_play_and_their_expectations_hold() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios");
    let scripts = common::files_with_extension(&docs, "kite");
    assert!(scripts.len() >= 3, "expected the docs' three scenarios in {}", docs.display());
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenario_scripts");
    for script in scripts {
        let text = std::fs::read_to_string(&script).expect("readable script");
        let (trace, failed) = play(&text);
        let name = script.file_stem().expect("a file name").to_string_lossy().into_owned();
        expect_test::expect_file![traces.join(format!("{name}.trace"))].assert_eq(&trace);
        assert!(failed.is_empty(), "{name}.kite: {failed:?}");
    }
}

/// A `<kite-compare>`'s source (`docs/scenarios/NAME.compare`): `a` and `b` lines give each
/// side's `NAME=VALUE; …`, and the script after `---` names them as `{{NAME}}`. Returns each
/// side's script, its placeholders filled as `kite-embed.js` fills them.
fn compare_sides(text: &str) -> [String; 2] {
    let (head, template) = text.split_once("\n---\n").expect("a `---` line before the script");
    let values = |side: &str| -> Vec<(String, String)> {
        let line = head
            .lines()
            .find_map(|l| l.strip_prefix(side).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no `{side}` line"));
        line.split(';')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
            .collect()
    };
    ["a", "b"].map(|side| {
        let mut script = template.to_string();
        for (name, value) in values(side) {
            script = script.replace(&format!("{{{{{name}}}}}"), &value);
        }
        assert!(!script.contains("{{"), "side {side} leaves a placeholder unfilled:\n{script}");
        script
    })
}

/// Each comparison in the docs plays on both sides with every expectation held, and the two
/// sides part somewhere (a comparison that shows no difference compares nothing).
#[test]
fn the_docs_comparisons_hold_on_both_sides_and_differ() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios");
    let sources = common::files_with_extension(&docs, "compare");
    assert!(sources.len() >= 3, "expected the docs' comparisons in {}", docs.display());
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenario_scripts");
    for source in sources {
        let name = source.file_stem().expect("a file name").to_string_lossy().into_owned();
        let sides = compare_sides(&std::fs::read_to_string(&source).expect("readable comparison"));
        let [(a, a_failed), (b, b_failed)] = sides.map(|script| play(&script));
        expect_test::expect_file![traces.join(format!("{name}.a.trace"))].assert_eq(&a);
        expect_test::expect_file![traces.join(format!("{name}.b.trace"))].assert_eq(&b);
        assert!(a_failed.is_empty() && b_failed.is_empty(), "{name}: {a_failed:?} {b_failed:?}");
        assert_ne!(a, b, "{name}: the two sides play the same");
    }
}

#[test]
fn the_same_script_plays_the_same_way_twice() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios/kill-the-leader.kite"),
    )
    .expect("readable script");
    assert_eq!(play(&text), play(&text));
}

#[test]
fn a_failed_expectation_says_what_was_found() {
    let (_, failed) =
        play("brokers 1\ntopic t partitions 3\nproduce t key=foobar value=v\nexpect partition 1\n");
    assert_eq!(failed, vec!["line 4: expected partition 1, found 0".to_string()]);
}

#[test]
fn a_failed_expectation_says_it_in_korean_too() {
    let script = parse("brokers 1\ntopic t partitions 3\nproduce t key=foobar value=v\nexpect partition 1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cluster = ScenarioRun::cluster_for(&script);
    let mut run = ScenarioRun::new(script);
    let reports: Vec<_> = std::iter::from_fn(|| run.step(&mut cluster)).collect();
    let last = reports.last().map(|r| r.outcome.clone());
    assert_eq!(
        last,
        Some(Outcome::Failed {
            why: "expected partition 1, found 0".into(),
            ko: Some("기대한 partition: 1, 실제: 0".into()),
            prediction: None,
        })
    );
}

/// `offsets` asks ListOffsets as kafka-get-offsets does: the largest timestamp is not the newest
/// record when a producer stamped an older time after it; `expect offset` checks the lookup.
#[test]
fn offsets_finds_the_largest_timestamp_and_a_time() {
    let script = "brokers 3\ntopic t partitions 1 replication 3\n\
        produce t value=a timestamp=1000\nproduce t value=b timestamp=9000\nproduce t value=c timestamp=2000\n\
        offsets t-0 at max-timestamp\nexpect offset 1\n\
        offsets t-0 at 1500\nexpect offset 1\n\
        offsets t-0 at latest\nexpect offset 3\n\
        offsets t-0 at 9001\nexpect offset 0\n";
    let (trace, failed) = play(script);
    assert_eq!(failed, vec!["line 13: expected offset 0, the lookup found none".to_string()], "{trace}");
    assert!(trace.contains("t-0: offset 1 (timestamp 9000)"), "{trace}");
    assert!(trace.contains("t-0: offset 1 (타임스탬프 9000)"), "{trace}");
    assert_eq!(
        parse("offsets t-0 at soon").map(|_| ()).unwrap_err().to_string(),
        "line 1: expected `offsets TOPIC-N at earliest|latest|max-timestamp|TIME_MS`"
    );
}

/// `delete records` asks DeleteRecords as kafka-delete-records does: the log starts at the offset
/// on every replica, a new leader included; `expect offset` checks the low watermark, and past
/// the high watermark is Kafka's error.
#[test]
fn delete_records_moves_the_log_start_on_every_replica() {
    let script = "brokers 3\ntopic t partitions 1 replication 3\n\
        produce t value=a\nproduce t value=b\nproduce t value=c\n\
        delete records t-0 before 2\nexpect offset 2\n\
        stop broker 0\noffsets t-0 at earliest\nexpect offset 2\n\
        delete records t-0 before 9\nexpect error OFFSET_OUT_OF_RANGE\n\
        delete records t-0 before high-watermark\nexpect offset 3\n";
    let (trace, failed) = play(script);
    assert!(failed.is_empty(), "{failed:?}\n{trace}");
    assert!(trace.contains("t-0 starts at offset 2 (low watermark)"), "{trace}");
    assert!(trace.contains("t-0의 로그가 offset 2에서 시작 (low watermark)"), "{trace}");
    assert_eq!(
        parse("delete records t-0 after 2").map(|_| ()).unwrap_err().to_string(),
        "line 1: expected `delete topic NAME` or `delete records TOPIC-N before OFFSET|high-watermark`"
    );
}

/// `alter topic NAME partitions N` adds partitions as `kafka-topics --alter` does: the same key
/// hashes over the new count, so its next record lands elsewhere; fewer is Kafka's error.
#[test]
fn alter_topic_partitions_moves_a_keys_new_records() {
    let script = "brokers 3\ntopic t partitions 2 replication 3\n\
        produce t key=alice value=a\nexpect partition 1\n\
        alter topic t partitions 5\n\
        produce t key=alice value=b\nexpect partition 4\n\
        alter topic t partitions 3\nexpect error INVALID_PARTITIONS\n";
    let (trace, failed) = play(script);
    assert!(failed.is_empty(), "{failed:?}\n{trace}");
    assert!(trace.contains("t now has 5 partitions"), "{trace}");
    assert!(trace.contains("t의 partition이 5개가 됨"), "{trace}");
    assert_eq!(
        parse("alter topic t replicas 5").map(|_| ()).unwrap_err().to_string(),
        "line 1: expected `alter topic NAME partitions N`, `alter topic NAME config K=V …` or `alter broker N|default config K=V …`"
    );
}

/// `alter topic NAME config K=V …` and `alter broker N|default config K=V …` change configs as
/// `kafka-configs --alter` does: a topic's overrides, a broker's dynamic configs (the replication
/// throttle's rates); a static broker config is refused by name. `add broker rack NAME` adds a
/// broker on a rack.
#[test]
fn config_steps_change_topic_and_dynamic_broker_configs_and_a_broker_joins_a_rack() {
    let script = "brokers 3
topic t partitions 1 replication 3
        alter topic t config follower.replication.throttled.replicas=0:1 retention.ms=1000
expect ok
        alter broker 1 config follower.replication.throttled.rate=100
expect ok
        alter broker default config leader.replication.throttled.rate=200
expect ok
        alter broker 1 config auto.leader.rebalance.enable=false
expect error INVALID_REQUEST
";
    let (trace, failed) = play(script);
    assert!(failed.is_empty(), "{failed:?}\n{trace}");
    assert!(
        trace.contains("t's configs: follower.replication.throttled.replicas=0:1, retention.ms=1000"),
        "{trace}"
    );
    assert!(trace.contains("broker 1's dynamic configs: follower.replication.throttled.rate=100"), "{trace}");
    assert!(
        trace.contains("모든 브로커(기본값)의 동적 설정: leader.replication.throttled.rate=200"),
        "{trace}"
    );
    // `add broker rack NAME`: the next broker, on that rack.
    let (trace, failed) = play("brokers 3\nracks a,b,c\nadd broker rack b\nexpect ok\n");
    assert!(failed.is_empty(), "{failed:?}\n{trace}");
    assert!(trace.contains("broker 3 added"), "{trace}");
    assert_eq!(
        parse("add broker rack").map(|_| ()).unwrap_err().to_string(),
        "line 1: expected `add broker rack NAME`"
    );
    assert_eq!(
        parse("alter broker x config a=1").map(|_| ()).unwrap_err().to_string(),
        "line 1: alter broker expects a number, found `x`"
    );
    assert_eq!(
        parse("alter broker 1 config a").map(|_| ()).unwrap_err().to_string(),
        "line 1: expected K=V, found `a`"
    );
}

/// Every question in the docs' scripts, answered with each of its choices in turn: the run stops
/// at the question, takes the choice, and the expectation after it holds (so the script's answer
/// is what the engine does) and says the prediction held exactly when the choice was the answer.
#[test]
fn each_question_in_the_docs_scenarios_is_settled_by_the_engine_for_every_choice() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios");
    let mut questions = 0;
    for path in common::files_with_extension(&docs, "kite") {
        let text = std::fs::read_to_string(&path).expect("readable script");
        let script = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let asks: Vec<(usize, Vec<String>, String)> = script
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                Action::Ask { choices, answer, .. } => Some((step.line, choices.clone(), answer.clone())),
                _ => None,
            })
            .collect();
        for (line, choices, answer) in asks {
            questions += 1;
            for choice in &choices {
                let settled = play_answering(&script, line, choice);
                let name = path.display();
                let Some((held, true)) = settled else {
                    panic!(
                        "{name} line {line}, choice {choice}: the expectation after it did not hold ({settled:?})"
                    )
                };
                assert_eq!(held, *choice == answer, "{name} line {line}: choice {choice}, answer {answer}");
            }
        }
    }
    assert!(questions >= 1, "the docs' scenarios ask at least one question");
}

/// Plays `script`, answering the question on `line` with `choice` (the others unanswered), and
/// returns whether that question's prediction held and whether its expectation did.
fn play_answering(script: &kite_shared::scenario::Script, line: usize, choice: &str) -> Option<(bool, bool)> {
    let mut cluster = ScenarioRun::cluster_for(script);
    let mut run = ScenarioRun::new(script.clone());
    let mut answered = false;
    while let Some(report) = run.step(&mut cluster) {
        match &report.outcome {
            Outcome::Asked { .. } if report.line == line => {
                run.answer(choice).expect("a choice of the question");
                answered = true;
            }
            Outcome::Passed { prediction: Some(p), .. } if answered => return Some((p.held(), true)),
            Outcome::Failed { prediction: Some(p), .. } if answered => return Some((p.held(), false)),
            _ => {}
        }
    }
    None
}

#[test]
fn a_question_must_be_settled_by_an_expectation_and_offer_its_answer() {
    let error = |text: &str| parse(text).unwrap_err().to_string();
    assert_eq!(
        error(
            "topic t partitions 3\nask \"Where?\" choices 0 1 2 answer 0\nproduce t key=k\npause \"Look\"\n"
        ),
        "line 2: ask needs an `expect` after it (before the next pause or ask) to settle the prediction"
    );
    assert!(
        error("ask \"Where?\" choices 0 1 answer 2\nexpect ok\n")
            .contains("the answer `2` is not one of the choices")
    );
    assert!(error("ask \"Where?\" choices 0 answer 0\nexpect ok\n").contains("2 to 6 choices"));
    assert!(error("ask \"Where?\" choices 0 0 answer 0\nexpect ok\n").contains("each choice once"));
    assert!(error("ask \"Where?\" 0 1 answer 0\nexpect ok\n").contains("expected `ask"));
    let script =
        parse("ask \"어디?\" ko \"어디로?\" choices \"zero one\" two answer two\nexpect ok\n").unwrap();
    assert_eq!(
        script.steps[0].action,
        Action::Ask {
            text: "어디?".into(),
            ko: Some("어디로?".into()),
            choices: vec!["zero one".into(), "two".into()],
            answer: "two".into()
        }
    );
}

#[test]
fn an_answer_is_one_of_the_choices_of_the_question_waiting() {
    let script = parse("topic t partitions 3\nask \"Where?\" choices 0 1 2 answer 0\nproduce t key=foobar\nexpect partition 0\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut cluster = ScenarioRun::cluster_for(&script);
    let mut run = ScenarioRun::new(script);
    assert_eq!(run.answer("0"), Err("no question waits for an answer".into()));
    let reports = run.run_until_pause(&mut cluster);
    assert!(matches!(reports.last().map(|r| &r.outcome), Some(Outcome::Asked { .. })), "{reports:?}");
    // The question's line is shown without the answer the reader is about to predict.
    assert_eq!(reports.last().map(|r| r.source.as_str()), Some("ask \"Where?\" choices 0 1 2"));
    assert!(run.answer("7").unwrap_err().contains("not one of the question's choices"));
    // The tab plays nothing on until the reader picks (a double-clicked Continue cannot skip it).
    assert!(run.awaits_answer());
    run.answer("1").unwrap();
    assert!(!run.awaits_answer());
    assert_eq!(run.answer("0"), Err("the question was answered already".into()));
    let reports = run.run_until_pause(&mut cluster);
    let produced = &reports[0].outcome;
    assert!(
        matches!(produced, Outcome::Done { said, .. } if said.contains("murmur2(\"foobar\") = ") && said.ends_with("% 3 = 0")),
        "the produce says why: {produced:?}"
    );
    let Some(Outcome::Passed { prediction: Some(prediction), .. }) = reports.last().map(|r| &r.outcome)
    else {
        panic!("{reports:?}")
    };
    assert_eq!((prediction.picked.as_deref(), prediction.held()), (Some("1"), false));
}
