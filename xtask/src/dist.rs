//! Building what `kite serve` serves: the frontend compiled to wasm32 in the size-optimised
//! `wasm-release` profile, its JS bindings, and the static files, written to `dist/`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::proc;
use crate::tools::{self, WASM_TARGET};

/// The frontend crate's library name: the names of the wasm module and its JS glue.
const FRONTEND_LIB: &str = "kite_frontend";
const WASM_PROFILE: &str = "wasm-release";
/// Files copied into `dist/` as they are: (source under the workspace, name in dist).
const STATIC_FILES: &[(&str, &str)] = &[
    ("index.html", "index.html"),
    ("frontend/style.css", "style.css"),
    ("frontend/start.js", "start.js"),
    ("frontend/worker.js", "worker.js"),
    ("frontend/kite-embed.js", "kite-embed.js"),
    // The tab's icon: without one the browser asks for /favicon.ico and logs the 404.
    ("frontend/favicon.svg", "favicon.svg"),
];

/// Builds `dist/` and returns its path. Incremental: cargo rebuilds only what changed, and each
/// later step (wasm-opt, bindings) reruns only when its input is newer than its output.
/// `install_tools` lets it install wasm-opt (Debian, root) when missing.
pub(crate) fn build(install_tools: bool) -> Result<PathBuf, String> {
    tools::ensure_wasm_target()?;
    let wasm_bindgen = tools::ensure_wasm_bindgen()?;
    let root = crate::workspace_root();
    let dist = root.join("dist");

    let mut build = proc::cargo();
    build.args([
        "build",
        "--package",
        "kite-frontend",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        WASM_PROFILE,
    ]);
    proc::run(build)?;

    let raw = root.join("target").join(WASM_TARGET).join(WASM_PROFILE).join(format!("{FRONTEND_LIB}.wasm"));
    // wasm-opt runs on rustc's module, before wasm-bindgen: Debian's binaryen is too old to read
    // wasm-bindgen's output, but reads rustc's fine. It takes about 40% off the bundle.
    let module = match tools::find_wasm_opt(install_tools) {
        Some(wasm_opt) => {
            let optimized = root.join("target").join("wasm-opt").join(format!("{FRONTEND_LIB}.wasm"));
            if is_stale(&[&optimized], &raw) {
                let dir = optimized.parent().expect("a file in a directory");
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let mut opt = std::process::Command::new(wasm_opt);
                opt.arg("-Oz").args(tools::WASM_OPT_FEATURES).arg(&raw).arg("-o").arg(&optimized);
                proc::run(opt)?;
            }
            optimized
        }
        None => {
            println!("xtask: wasm-opt not found, so the bundle is not size-optimised (install binaryen)");
            raw
        }
    };
    let glue = dist.join(format!("{FRONTEND_LIB}.js"));
    let bound = dist.join(format!("{FRONTEND_LIB}_bg.wasm"));
    if is_stale(&[&glue, &bound], &module) {
        let mut bindgen = std::process::Command::new(&wasm_bindgen.bindgen);
        bindgen.arg("--target").arg("web").arg("--no-typescript").arg("--out-dir").arg(&dist).arg(&module);
        proc::run(bindgen)?;
    }
    for (source, name) in STATIC_FILES {
        let from = root.join(source);
        std::fs::copy(&from, dist.join(name))
            .map_err(|e| format!("cannot copy {} into dist: {e}", from.display()))?;
    }
    let size = std::fs::metadata(&bound).map(|m| m.len()).unwrap_or(0);
    println!("xtask: dist ready in {} ({FRONTEND_LIB}_bg.wasm {} KiB)", dist.display(), size / 1024);
    Ok(dist)
}

/// Builds the `kite` binary and returns its path.
pub(crate) fn build_server(release: bool) -> Result<PathBuf, String> {
    let mut build = proc::cargo();
    build.args(["build", "--package", "kite-backend", "--bin", "kite"]);
    if release {
        build.arg("--release");
    }
    proc::run(build)?;
    let profile_dir = if release { "release" } else { "debug" };
    Ok(crate::workspace_root()
        .join("target")
        .join(profile_dir)
        .join(format!("kite{}", std::env::consts::EXE_SUFFIX)))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// True when any output is missing or older than the input.
fn is_stale(outputs: &[&Path], input: &Path) -> bool {
    let Some(input_time) = modified(input) else { return true };
    outputs.iter().any(|output| modified(output).is_none_or(|t| t < input_time))
}
