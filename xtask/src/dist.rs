//! Building what `kite serve` serves: the frontend compiled to wasm32 in the size-optimised
//! `wasm-release` profile, its JS bindings, and the static files, written to `dist/`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::proc;
use crate::tools::{self, WASM_TARGET};

/// The frontend crate's library name: the names of the wasm module and its JS glue.
const FRONTEND_LIB: &str = "kite_frontend";
const WASM_PROFILE: &str = "wasm-release";
/// Where wasm-bindgen writes the module and its JS glue, before they are named into `dist/`.
const BINDGEN_DIR: &str = "target/wasm-bindgen";

/// Where a file of `dist/` comes from.
enum Source {
    /// A file of the workspace, at this path.
    Workspace(&'static str),
    /// wasm-bindgen's output, by this name.
    Bindgen(&'static str),
}

/// A file of `dist/`: its name in the sources, where it comes from, whether its name in `dist/`
/// carries a hash of its content (cached for good by browsers) or stays as it is (a page's own
/// address or one other sites link to, revalidated at each visit), and the files it refers to by
/// name, which are renamed in it. In order: a file refers only to files above it.
struct Asset {
    name: &'static str,
    source: Source,
    hashed: bool,
    refers_to: &'static [&'static str],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "kite_frontend_bg.wasm",
        source: Source::Bindgen("kite_frontend_bg.wasm"),
        hashed: true,
        refers_to: &[],
    },
    Asset {
        name: "kite_frontend.js",
        source: Source::Bindgen("kite_frontend.js"),
        hashed: true,
        refers_to: &[],
    },
    Asset {
        name: "style.css",
        source: Source::Workspace("frontend/style.css"),
        hashed: true,
        refers_to: &[],
    },
    Asset {
        name: "worker.js",
        source: Source::Workspace("frontend/worker.js"),
        hashed: true,
        refers_to: &["kite_frontend.js"],
    },
    Asset {
        name: "start.js",
        source: Source::Workspace("frontend/start.js"),
        hashed: true,
        refers_to: &["kite_frontend.js", "kite_frontend_bg.wasm", "worker.js"],
    },
    // Docs pages anywhere load the playground element from this address.
    Asset {
        name: "kite-embed.js",
        source: Source::Workspace("frontend/kite-embed.js"),
        hashed: false,
        refers_to: &["kite_frontend.js", "kite_frontend_bg.wasm", "worker.js", "style.css"],
    },
    Asset {
        name: "index.html",
        source: Source::Workspace("index.html"),
        hashed: false,
        refers_to: &["style.css", "start.js", "kite_frontend.js", "kite_frontend_bg.wasm"],
    },
    // The tab's icon: without one the browser asks for /favicon.ico and logs the 404.
    Asset {
        name: "favicon.svg",
        source: Source::Workspace("frontend/favicon.svg"),
        hashed: false,
        refers_to: &[],
    },
];

/// Hex digits of the content hash in a file's name (`start.0123456789abcdef.js`).
const HASH_DIGITS: usize = 16;
/// Files smaller than this are not worth compressing: the headers cost more than they save.
const MIN_COMPRESSED_BYTES: u64 = 1024;
/// The file types a browser gets compressed (the others are compressed already, or absent).
const COMPRESSED_EXTENSIONS: &[&str] = &["html", "js", "css", "wasm", "svg", "json"];

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
    let bindgen_dir = root.join(BINDGEN_DIR);
    let glue = bindgen_dir.join(format!("{FRONTEND_LIB}.js"));
    let bound = bindgen_dir.join(format!("{FRONTEND_LIB}_bg.wasm"));
    if is_stale(&[&glue, &bound], &module) {
        let mut bindgen = std::process::Command::new(&wasm_bindgen.bindgen);
        bindgen
            .arg("--target")
            .arg("web")
            .arg("--no-typescript")
            .arg("--out-dir")
            .arg(&bindgen_dir)
            .arg(&module);
        proc::run(bindgen)?;
    }
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    let written = write_assets(&root, &dist)?;
    remove_stale(&dist, &written)?;
    precompress(&dist, install_tools)?;
    let size = std::fs::metadata(&bound).map(|m| m.len()).unwrap_or(0);
    println!("xtask: dist ready in {} ({FRONTEND_LIB}_bg.wasm {} KiB)", dist.display(), size / 1024);
    Ok(dist)
}

/// Writes every asset into `dist/` under its name there, each file's references to the files
/// above it renamed; returns the names written.
fn write_assets(root: &Path, dist: &Path) -> Result<Vec<String>, String> {
    // (name in the sources, name in dist), for the assets written so far.
    let mut renamed: Vec<(&str, String)> = Vec::new();
    for asset in ASSETS {
        let from = match asset.source {
            Source::Workspace(path) => root.join(path),
            Source::Bindgen(name) => root.join(BINDGEN_DIR).join(name),
        };
        let mut bytes = std::fs::read(&from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        // Every text file is renamed in (wasm-bindgen's glue names the module as its default).
        if !asset.name.ends_with(".wasm") {
            bytes = rename_references(&bytes, asset, &renamed)
                .map_err(|e| format!("{}: {e}", from.display()))?
                .into_bytes();
        }
        let name = if asset.hashed { hashed_name(asset.name, &bytes) } else { asset.name.to_string() };
        let to = dist.join(&name);
        // Unchanged files keep their time, so a browser's revalidation finds them unchanged.
        if std::fs::read(&to).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&to, &bytes).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
        renamed.push((asset.name, name));
    }
    Ok(renamed.into_iter().map(|(_, name)| name).collect())
}

/// `bytes` (a text file) with each quoted name of a file above it (`"./style.css"`, `'style.css'`)
/// replaced by that file's name in dist. Each name in `refers_to` must be found at least once.
fn rename_references(bytes: &[u8], asset: &Asset, renamed: &[(&str, String)]) -> Result<String, String> {
    let mut text = String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8 text".to_string())?;
    for (name, served) in renamed {
        let mut found = false;
        for quote in ['"', '\'', '`'] {
            for prefix in ["./", ""] {
                let quoted = format!("{quote}{prefix}{name}{quote}");
                if text.contains(&quoted) {
                    found = true;
                    text = text.replace(&quoted, &format!("{quote}{prefix}{served}{quote}"));
                }
            }
        }
        if !found && asset.refers_to.contains(name) {
            return Err(format!("names no \"{name}\" (its list of references is out of date)"));
        }
    }
    Ok(text)
}

/// `name` with a hash of `bytes` before its extension: `start.js` → `start.0123456789abcdef.js`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    // FNV-1a, 64 bits: stable across Rust versions (std's hasher is not), and a name needs only
    // to change when the content does.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("{stem}.{hash:0width$x}.{extension}", width = HASH_DIGITS)
}

/// True for a name `hashed_name` makes.
fn is_hashed_name(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    parts.next().is_some()
        && hash.is_some_and(|h| h.len() == HASH_DIGITS && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Removes from `dist/` the files of earlier builds: hashed names not written now, the names
/// hashed files had before they were hashed, and compressed copies of files that are gone.
fn remove_stale(dist: &Path, written: &[String]) -> Result<(), String> {
    let entries = std::fs::read_dir(dist).map_err(|e| format!("cannot list {}: {e}", dist.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let original = name.strip_suffix(".br").or_else(|| name.strip_suffix(".gz")).unwrap_or(&name);
        let was_unhashed = ASSETS.iter().any(|a| a.hashed && a.name == original);
        let stale = (is_hashed_name(original) && !written.iter().any(|w| w == original))
            || was_unhashed
            || (original != name && !dist.join(original).is_file());
        if stale && entry.path().is_file() {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes `FILE.gz` (and `FILE.br` when the `brotli` command is there) beside each file under
/// `dir` worth compressing, for `kite serve` to send to browsers that accept them. Only what
/// changed is compressed again; a copy no smaller than its file is not kept.
pub(crate) fn precompress(dir: &Path, install_tools: bool) -> Result<(), String> {
    let brotli = tools::find_brotli(install_tools);
    if brotli.is_none() {
        println!("xtask: brotli not found, so the UI's files are compressed with gzip only (install brotli)");
    }
    let mut files = Vec::new();
    list_files(dir, &mut files)?;
    for file in files {
        let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if !COMPRESSED_EXTENSIONS.contains(&extension) || size < MIN_COMPRESSED_BYTES {
            continue;
        }
        let mut gzip = std::process::Command::new("gzip");
        gzip.args(["-9", "-n", "-k", "-f"]).arg(&file);
        compress_beside(&file, "gz", size, gzip)?;
        if let Some(brotli) = &brotli {
            let mut command = std::process::Command::new(brotli);
            command.args(["-q", "11", "-k", "-f"]).arg(&file);
            compress_beside(&file, "br", size, command)?;
        }
    }
    Ok(())
}

/// Runs `command` (which writes `file.suffix`) when that copy is missing or older than `file`;
/// removes the copy if it is not smaller.
fn compress_beside(
    file: &Path,
    suffix: &str,
    size: u64,
    command: std::process::Command,
) -> Result<(), String> {
    let mut copy = file.as_os_str().to_owned();
    copy.push(format!(".{suffix}"));
    let copy = PathBuf::from(copy);
    if is_stale(&[&copy], file) {
        proc::run(command)?;
        // The copy carries its file's time to the nanosecond (`brotli` keeps only whole seconds):
        // `kite serve` sends a copy only when it is not older than its file.
        let time = modified(file).ok_or_else(|| format!("cannot read the time of {}", file.display()))?;
        std::fs::File::options()
            .write(true)
            .open(&copy)
            .and_then(|f| f.set_modified(time))
            .map_err(|e| format!("cannot set the time of {}: {e}", copy.display()))?;
    }
    if std::fs::metadata(&copy).is_ok_and(|m| m.len() >= size) {
        std::fs::remove_file(&copy).map_err(|e| format!("cannot remove {}: {e}", copy.display()))?;
    }
    Ok(())
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            list_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
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
