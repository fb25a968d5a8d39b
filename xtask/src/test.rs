//! `cargo xtask test`: every check a contributor keeps green, one line per stage, and a closing
//! `N passed, N failed` line. Each stage's full output goes to `target/xtask/<stage>.log`; a failing
//! stage prints the tail of its log.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::tools::{self, WASM_TARGET};
use crate::{dist, proc};

/// Lines of a failing stage's log shown inline.
const FAILURE_TAIL_LINES: usize = 120;

/// Chromium's flags for every test here: headless as root in a container, with no background
/// traffic to hosts this machine cannot reach.
pub(crate) const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

struct Stage {
    name: &'static str,
    /// Whether the stage runs tests whose count is reported (and must be at least one).
    counts_tests: bool,
    command: Command,
}

struct Outcome {
    ok: bool,
    passed: u64,
    failed: u64,
}

pub(crate) fn run_all() -> Result<(), String> {
    let started = Instant::now();
    let root = crate::workspace_root();
    let log_dir = root.join("target").join("xtask");
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;

    // Bootstrap first, so a missing tool is reported before any long build.
    tools::ensure_wasm_target()?;
    let wasm_bindgen = tools::ensure_wasm_bindgen()?;
    let browser = tools::ensure_browser()?;
    let clients = KafkaClients::ensure()?;

    let mut results: Vec<(&str, Outcome, f64)> = Vec::new();
    let mut run_stage = |stage: Stage| {
        let stage_started = Instant::now();
        println!("xtask: {} …", stage.name);
        let log = log_dir.join(format!("{}.log", stage.name.replace([' ', '(', ')'], "-")));
        let outcome = run_one(stage.command, &log, stage.counts_tests);
        let secs = stage_started.elapsed().as_secs_f64();
        report(stage.name, &outcome, secs, stage.counts_tests, &log);
        results.push((stage.name, outcome, secs));
    };

    let mut fmt = proc::cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run_stage(Stage { name: "fmt", counts_tests: false, command: fmt });

    let mut tidy =
        Command::new(std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?);
    tidy.arg("tidy");
    run_stage(Stage { name: "tidy", counts_tests: false, command: tidy });

    let mut clippy_native = proc::cargo();
    clippy_native.args([
        "clippy",
        "--workspace",
        "--exclude",
        "kite-frontend",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run_stage(Stage { name: "clippy (native)", counts_tests: false, command: clippy_native });

    // The frontend's lib and browser tests, and with them shared's lib as the tab builds it (a
    // workspace member is linted as a dependency too); shared's own tests run natively only.
    let mut clippy_wasm = proc::cargo();
    clippy_wasm.args(["clippy", "-p", "kite-frontend", "--target", WASM_TARGET]);
    clippy_wasm.args(["--all-targets", "--", "-D", "warnings"]);
    run_stage(Stage { name: "clippy (wasm32)", counts_tests: false, command: clippy_wasm });

    let mut native = proc::cargo();
    native.args(["test", "--workspace", "--exclude", "kite-frontend", "--exclude", "kite-e2e"]);
    run_stage(Stage { name: "native tests", counts_tests: true, command: native });

    // The simulator's sweeps (10,000+ seeds) need an optimised build.
    let mut simulation = proc::cargo();
    // The `sim` profile: release, but kafka-protocol (which the sweeps never call) unoptimized,
    // a minute and more off the stage's build.
    simulation.args(["test", "--profile", "sim", "-p", "kite-shared", "--test", "sim"]);
    simulation.env("KITE_SIM_FRESH_SEED", fresh_seed().to_string());
    run_stage(Stage { name: "simulation", counts_tests: true, command: simulation });

    let webdriver_json = log_dir.join("webdriver.json");
    write_webdriver_json(&webdriver_json, &browser)?;
    let browser_tmp = browser_temp_dir(&root)?;
    let mut browser_tests = proc::cargo();
    browser_tests.args(["test", "-p", "kite-frontend", "--target", WASM_TARGET]);
    browser_tests
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &wasm_bindgen.test_runner)
        .env("CHROMEDRIVER", &browser.chromedriver)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
        .env("TMPDIR", &browser_tmp);
    run_stage(Stage { name: "browser tests", counts_tests: true, command: browser_tests });

    match e2e_build(&browser, &clients, &root) {
        Some(command) => run_stage(Stage { name: "end-to-end tests", counts_tests: true, command }),
        None => results.push(("end-to-end tests", Outcome { ok: false, passed: 0, failed: 0 }, 0.0)),
    }

    let passed: u64 = results.iter().map(|(_, o, _)| o.passed).sum();
    let failed: u64 = results.iter().map(|(_, o, _)| o.failed).sum();
    let failed_stages: Vec<&str> =
        results.iter().filter(|(_, o, _)| !o.ok).map(|(name, _, _)| *name).collect();
    println!("xtask: finished in {:.0} s", started.elapsed().as_secs_f64());
    for (name, outcome, _) in &results {
        if outcome.passed + outcome.failed > 0 {
            println!("xtask:   {name}: {} passed, {} failed", outcome.passed, outcome.failed);
        }
    }
    println!("test: {passed} passed, {failed} failed");
    if failed_stages.is_empty() {
        Ok(())
    } else {
        Err(format!("failed stages: {}", failed_stages.join(", ")))
    }
}

/// Where Chromium and chromedriver keep their profiles (`TMPDIR` for them), under `target/xtask/`.
const BROWSER_TMP_DIR: &str = "browser-tmp";

/// Empties and returns the browsers' temporary directory. Chromium leaves a profile of up to a few
/// hundred MB (IndexedDB included) in `$TMPDIR` whenever chromedriver is killed rather than quit;
/// under `/tmp` those piled up run after run until the disk was full and a link failed. Here they
/// go with `target/` and every run starts from an empty directory.
pub(crate) fn browser_temp_dir(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("target").join("xtask").join(BROWSER_TMP_DIR);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The capabilities wasm-bindgen-test-runner asks chromedriver for: which browser, which flags.
pub(crate) fn write_webdriver_json(path: &Path, browser: &tools::Browser) -> Result<(), String> {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let args: Vec<String> = CHROME_ARGS.iter().map(|a| quote(a)).collect();
    let json = format!(
        "{{\"goog:chromeOptions\": {{\"binary\": {}, \"args\": [{}]}}}}\n",
        quote(&browser.chrome.to_string_lossy()),
        args.join(", ")
    );
    std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// End-to-end: the real UI bundle, the real server binary, the real browser. `None` (said why)
/// when something cannot be built.
fn e2e_build(browser: &tools::Browser, clients: &KafkaClients, root: &Path) -> Option<Command> {
    let built = dist::build(true).and_then(|ui_dir| Ok((ui_dir, dist::build_server(false)?)));
    let (ui_dir, kite) =
        built.map_err(|e| eprintln!("xtask: cannot build for the end-to-end tests: {e}")).ok()?;
    match crate::docs::build(&ui_dir, &kite) {
        Ok(_) => Some(e2e_command(&ui_dir, &kite, browser, clients, root)),
        Err(e) => {
            eprintln!("xtask: cannot build the docs site for the end-to-end tests: {e}");
            None
        }
    }
}

/// The real Kafka clients the end-to-end tests drive.
struct KafkaClients {
    /// kcat (librdkafka's command-line client).
    kcat: PathBuf,
    /// A Python with confluent-kafka and kafka-python.
    python: PathBuf,
    /// A `node_modules` with kafkajs (and axe-core, for the browser tests).
    node_modules: PathBuf,
    /// A directory of Kafka's Java client jars (a JDK is on PATH).
    java_jars: PathBuf,
}

impl KafkaClients {
    /// Finds or installs each, at its pinned version.
    fn ensure() -> Result<KafkaClients, String> {
        Ok(KafkaClients {
            kcat: tools::ensure_kcat()?,
            python: tools::ensure_python_clients()?,
            node_modules: tools::ensure_node_clients()?,
            java_jars: tools::ensure_java_client()?,
        })
    }
}

fn e2e_command(
    ui_dir: &Path,
    kite: &Path,
    browser: &tools::Browser,
    clients: &KafkaClients,
    root: &Path,
) -> Command {
    let mut command = proc::cargo();
    command
        .args(["test", "-p", "kite-e2e"])
        .env("KITE_BIN", kite)
        .env("KITE_UI_DIR", ui_dir)
        .env("CHROME", &browser.chrome)
        .env("CHROMEDRIVER", &browser.chromedriver)
        .env("KCAT", &clients.kcat)
        .env("KITE_PYTHON", &clients.python)
        .env("KITE_NODE_MODULES", &clients.node_modules)
        .env("KITE_JAVA_JARS", &clients.java_jars)
        .env("KITE_CHROME_ARGS", CHROME_ARGS.join(" "))
        .env("KITE_SCREENSHOT_DIR", root.join("target").join("e2e"))
        .env("TMPDIR", root.join("target").join("xtask").join(BROWSER_TMP_DIR));
    command
}

fn run_one(command: Command, log: &Path, counts_tests: bool) -> Outcome {
    let ok = match proc::run_logged(command, log) {
        Ok(ok) => ok,
        Err(e) => {
            let _ = std::fs::write(log, &e);
            false
        }
    };
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (passed, failed) = count_tests(&text);
    // A test stage that ran nothing has not shown anything works.
    let ok = ok && failed == 0 && (!counts_tests || passed > 0);
    Outcome { ok, passed, failed }
}

fn report(name: &str, outcome: &Outcome, secs: f64, counts_tests: bool, log: &PathBuf) {
    let counts = if counts_tests {
        format!(": {} passed, {} failed", outcome.passed, outcome.failed)
    } else {
        String::new()
    };
    if outcome.ok {
        println!("xtask: ok    {name}{counts} ({secs:.1} s)");
        return;
    }
    println!("xtask: FAIL  {name}{counts} ({secs:.1} s) — full log: {}", log.display());
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[lines.len().saturating_sub(FAILURE_TAIL_LINES)..] {
        println!("    {line}");
    }
    if counts_tests && outcome.passed + outcome.failed == 0 {
        println!("    (no tests ran)");
    }
}

/// Sums libtest's `test result: ok. N passed; M failed; …` lines (cargo test and
/// wasm-bindgen-test-runner both print them).
fn count_tests(output: &str) -> (u64, u64) {
    let mut totals = (0, 0);
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { continue };
        let number_before = |word: &str| -> u64 {
            rest.split(';')
                .find_map(|part| part.trim().strip_suffix(word))
                .and_then(|n| n.trim().rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        totals.0 += number_before("passed");
        totals.1 += number_before("failed");
    }
    totals
}

/// A seed no run used before, from the clock: besides its fixed sweeps, the simulation stage
/// tries a batch of fresh seeds each time, and a failure prints the command that replays it.
fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_libtest_summaries() {
        let output = "running 2 tests\n\
            test result: ok. 13 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
            noise\n\
            test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(count_tests(output), (14, 2));
        assert_eq!(count_tests("nothing here"), (0, 0));
    }
}
