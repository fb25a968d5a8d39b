//! A cluster snapshot as one file: every file of a cluster's storage — segments, indexes,
//! checkpoints, the metadata log, topics and schemas, in Kafka's layout under `controller/` and
//! `broker-N/` — and the seed, as JSON with the bytes in base64. The tab exports its IndexedDB in
//! it and imports it back; `kite snapshot create|restore` does the same for a data directory.
//! Decoding trusts nothing: paths must stay inside the cluster's directory, and the size is capped.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// What a snapshot file says it is.
pub const SNAPSHOT_FORMAT: &str = "kite-snapshot";
/// The version of the snapshot format this Kite writes, and the only one it reads.
pub const SNAPSHOT_VERSION: u32 = 1;
/// The most bytes of files a snapshot may carry.
pub const MAX_SNAPSHOT_BYTES: usize = 256 * 1024 * 1024;

/// `(dir, file)` → bytes; `dir` is `/`-separated and empty for the root.
pub type SnapshotFiles = BTreeMap<(String, String), Vec<u8>>;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: String,
    version: u32,
    seed: u64,
    files: Vec<SnapshotFile>,
}

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    dir: String,
    file: String,
    /// The file's bytes, base64.
    bytes: String,
}

/// The snapshot of `files` and `seed` as JSON text.
pub fn encode(seed: u64, files: &SnapshotFiles) -> String {
    let files = files
        .iter()
        .map(|((dir, file), bytes)| SnapshotFile {
            dir: dir.clone(),
            file: file.clone(),
            bytes: STANDARD.encode(bytes),
        })
        .collect();
    let snapshot = Snapshot { format: SNAPSHOT_FORMAT.into(), version: SNAPSHOT_VERSION, seed, files };
    serde_json::to_string(&snapshot).unwrap_or_default()
}

/// A relative path without `.` or `..` parts or empty ones (`dir` may be empty: the root).
fn safe_dir(dir: &str) -> bool {
    dir.is_empty() || dir.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

fn safe_file(file: &str) -> bool {
    !file.is_empty() && file != "." && file != ".." && !file.contains(['/', '\\'])
}

/// The seed and files of a snapshot's text; an error says what is wrong with it.
pub fn decode(text: &str) -> Result<(u64, SnapshotFiles), String> {
    let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| format!("not a Kite snapshot: {e}"))?;
    if snapshot.format != SNAPSHOT_FORMAT {
        return Err(format!("not a Kite snapshot: its format is {:?}", snapshot.format));
    }
    if snapshot.version != SNAPSHOT_VERSION {
        return Err(format!(
            "a snapshot of version {}; this Kite reads version {SNAPSHOT_VERSION}",
            snapshot.version
        ));
    }
    let mut files = SnapshotFiles::new();
    let mut total = 0;
    for f in snapshot.files {
        if !safe_dir(&f.dir) || f.dir.contains('\\') || !safe_file(&f.file) {
            return Err(format!("the snapshot names an unsafe path: {:?}/{:?}", f.dir, f.file));
        }
        let bytes =
            STANDARD.decode(&f.bytes).map_err(|e| format!("{}/{}: not base64: {e}", f.dir, f.file))?;
        total += bytes.len();
        if total > MAX_SNAPSHOT_BYTES {
            return Err(format!("the snapshot holds more than {MAX_SNAPSHOT_BYTES} bytes"));
        }
        files.insert((f.dir, f.file), bytes);
    }
    Ok((snapshot.seed, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_goes_through_text_and_back() {
        let files = SnapshotFiles::from([
            (("broker-0/orders-0".to_string(), "00000000000000000000.log".to_string()), vec![0, 1, 255]),
            ((String::new(), "meta.properties".to_string()), b"version=1".to_vec()),
        ]);
        let (seed, back) = decode(&encode(7, &files)).expect("its own output decodes");
        assert_eq!((seed, back), (7, files));
    }

    #[test]
    fn unsafe_or_foreign_snapshots_are_refused_by_name() {
        let one = |dir: &str, file: &str| {
            format!(
                r#"{{"format":"kite-snapshot","version":1,"seed":1,"files":[{{"dir":"{dir}","file":"{file}","bytes":""}}]}}"#
            )
        };
        assert!(decode(&one("../etc", "passwd")).unwrap_err().contains("unsafe path"));
        assert!(decode(&one("broker-0", "../x")).unwrap_err().contains("unsafe path"));
        assert!(decode(&one("/abs", "x")).unwrap_err().contains("unsafe path"));
        assert!(decode(&one("broker-0", "ok")).is_ok());
        assert!(
            decode(r#"{"format":"zip","version":1,"seed":1,"files":[]}"#).unwrap_err().contains("format")
        );
        assert!(decode("not json").unwrap_err().starts_with("not a Kite snapshot"));
    }
}
