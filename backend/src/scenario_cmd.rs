//! `kite scenario play FILE` plays a scenario script (docs/scenarios.md) on an in-memory cluster
//! and prints what each step did, failing if an expectation did not hold; `kite scenario url
//! FILE` prints the `?scenario=` parameter that opens it in the playground or an embed.

use std::path::PathBuf;

use kite_shared::scenario::{Outcome, ScenarioRun, parse, to_url};

#[derive(clap::Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Play a script to its end (past its pauses and questions) and print each step; fails on a
    /// broken expectation.
    Play { file: PathBuf },
    /// Print the URL parameter (`v1.…`) that opens the script: `/?scenario=…`, `/?embed=1&scenario=…`.
    Url { file: PathBuf },
}

fn read(file: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

pub(crate) fn run(command: ScenarioCommand, out: &mut impl std::io::Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    match command {
        ScenarioCommand::Url { file } => writeln!(out, "{}", to_url(&read(&file)?)).map_err(io),
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
}
