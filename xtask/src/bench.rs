//! `cargo xtask bench`: the throughput benchmarks, Kite beside its baselines in the same run —
//! the engine's (divan: record codec, partition log in memory), the disk log's (divan, `backend`),
//! and the IndexedDB log's (wasm-bindgen-test's criterion, in headless Chromium).
//! Figures and how to read them: docs/benchmarks.md.

use crate::tools::WASM_TARGET;
use crate::{proc, test, tools};

/// How long the browser benchmarks may run before wasm-bindgen-test-runner gives up.
const BROWSER_BENCH_TIMEOUT_SECS: u64 = 900;

pub(crate) fn run() -> Result<(), String> {
    let mut native = proc::cargo();
    native.args(["bench", "-p", "kite-shared", "-p", "kite-backend"]);
    // The benches' data directories (a `kite serve` each) go under target/, not the system's
    // temp directory, and are gone with the next run even when a bench panicked.
    native.env("TMPDIR", test::browser_temp_dir(&crate::workspace_root())?);
    // The Kafka-protocol rows need kcat, and Tansu for their baseline, and kcat runs on the
    // Python tests' librdkafka (tools::ensure_wheel_librdkafka says why); without them the bench
    // says it skipped those rows.
    let tools = [
        ("KCAT", tools::ensure_kcat()),
        ("TANSU", tools::ensure_tansu()),
        ("LD_LIBRARY_PATH", tools::ensure_wheel_librdkafka()),
    ];
    for (name, tool) in tools {
        match tool {
            Ok(path) => {
                native.env(name, path);
            }
            Err(reason) => println!("xtask: no {name} for the Kafka-protocol bench: {reason}"),
        }
    }
    proc::run(native)?;

    transfer_size()?;
    first_render()?;

    tools::ensure_wasm_target()?;
    let wasm_bindgen = tools::ensure_wasm_bindgen()?;
    let browser = tools::ensure_browser()?;
    let log_dir = crate::workspace_root().join("target").join("xtask");
    std::fs::create_dir_all(&log_dir).map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
    let webdriver_json = log_dir.join("webdriver.json");
    test::write_webdriver_json(&webdriver_json, &browser)?;
    let mut in_browser = proc::cargo();
    in_browser.args(["bench", "-p", "kite-frontend", "--target", WASM_TARGET, "--bench", "indexed_db"]);
    in_browser
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &wasm_bindgen.test_runner)
        .env("CHROMEDRIVER", &browser.chromedriver)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
        .env("TMPDIR", test::browser_temp_dir(&crate::workspace_root())?)
        // The runner's default timeout (20 s) is for tests; four criterion benchmarks take ~60 s.
        .env("WASM_BINDGEN_TEST_TIMEOUT", BROWSER_BENCH_TIMEOUT_SECS.to_string());
    proc::run(in_browser)
}

/// The page in headless Chromium, served by a release `kite serve`: first render on fresh
/// profiles, and frame times while 100,000 records are produced in the tab (tests/benches/page.rs).
fn first_render() -> Result<(), String> {
    let ui_dir = crate::dist::build(true)?;
    let kite = crate::dist::build_server(true)?;
    let browser = tools::ensure_browser()?;
    let root = crate::workspace_root();
    let mut bench = proc::cargo();
    bench
        .args(["bench", "-p", "kite-e2e", "--bench", "page"])
        .env("KITE_BIN", kite)
        .env("KITE_UI_DIR", ui_dir)
        .env("CHROME", &browser.chrome)
        .env("CHROMEDRIVER", &browser.chromedriver)
        .env("KITE_CHROME_ARGS", test::CHROME_ARGS.join(" "))
        .env("TMPDIR", test::browser_temp_dir(&root)?);
    proc::run(bench)
}

/// `cargo xtask soak [--minutes N] [--clients N]` (`--minutes 0`: the other two measurements
/// only): load and soak against a release `kite serve`
/// (tests/benches/soak.rs): memory over a long run of many clients, another client's latency
/// while a wide topic is created, and how fast SIGTERM ends the server, busy and on a full disk.
pub(crate) fn soak(args: &[String]) -> Result<(), String> {
    let mut bench = proc::cargo();
    bench.args(["bench", "-p", "kite-e2e", "--bench", "soak"]);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let variable = match flag.as_str() {
            "--minutes" => "KITE_SOAK_MINUTES",
            "--clients" => "KITE_SOAK_CLIENTS",
            other => {
                return Err(format!("unknown soak flag `{other}` (expected --minutes N or --clients N)"));
            }
        };
        let value = args.next().filter(|v| v.parse::<u64>().is_ok());
        let value = value.ok_or_else(|| format!("{flag} needs a whole number"))?;
        bench.env(variable, value);
    }
    let root = crate::workspace_root();
    bench
        .env("KITE_BIN", crate::dist::build_server(true)?)
        .env("KITE_UI_DIR", crate::dist::build(true)?)
        .env("TMPDIR", test::browser_temp_dir(&root)?);
    proc::run(bench)
}

/// The playground's transfer as `kite serve` sends it: every file of the built UI (not the docs)
/// as it is, and its gzip and brotli copies `dist::build` wrote (a file without a copy is sent as
/// it is).
fn transfer_size() -> Result<(), String> {
    let dist = crate::dist::build(true)?;
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .map_err(|e| format!("cannot list {}: {e}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && !path.extension().is_some_and(|e| e == "br" || e == "gz"))
        .collect();
    files.sort();
    let size = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len()).ok();
    let copy = |path: &std::path::Path, suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        size(std::path::Path::new(&name))
    };
    let mut totals = [0u64; 3];
    println!("page transfer as kite serve sends it, from {}:", dist.display());
    for path in files {
        let raw = size(&path).ok_or_else(|| format!("cannot read {}", path.display()))?;
        let row = [raw, copy(&path, ".gz").unwrap_or(raw), copy(&path, ".br").unwrap_or(raw)];
        totals.iter_mut().zip(row).for_each(|(total, bytes)| *total += bytes);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!("  {name:<40} {:>9} B raw {:>9} B gzip {:>9} B brotli", row[0], row[1], row[2]);
    }
    println!(
        "  {:<40} {:>9} B raw {:>9} B gzip {:>9} B brotli (target ≤ 500 KB; the page's own code ≤ 350 KB)",
        "total", totals[0], totals[1], totals[2]
    );
    Ok(())
}
