//! `kite snapshot create --data-dir D` writes a stopped server's data directory as one snapshot
//! file (`kite_shared::snapshot`, the format the tab exports), and `kite snapshot restore FILE
//! --data-dir D` fills a new or empty data directory from one. Both hold the directory's lock, so
//! neither runs beside a `kite serve` on it; a restore never writes over anything stored.

use std::path::{Path, PathBuf};

use kite_backend::data_dir::DataDir;
use kite_shared::snapshot::{SnapshotFiles, decode, encode};

#[derive(clap::Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Write a stopped server's data directory as one snapshot file (to stdout, or `--out`).
    Create {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fill a new or empty data directory from a snapshot file; `kite serve` then opens it.
    Restore {
        file: PathBuf,
        #[arg(long)]
        data_dir: PathBuf,
    },
}

/// The lock file `DataDir` holds, which belongs to no snapshot.
const LOCK_FILE_NAME: &str = ".lock";

/// Every file under `root`, by directory (relative, `/`-separated) and name.
fn read_tree(root: &Path, dir: &str, files: &mut SnapshotFiles) -> Result<(), String> {
    let path = if dir.is_empty() { root.to_path_buf() } else { root.join(dir) };
    let entries = std::fs::read_dir(&path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        if kind.is_dir() {
            let inner = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            read_tree(root, &inner, files)?;
        } else if kind.is_file() && !(dir.is_empty() && name == LOCK_FILE_NAME) {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
            files.insert((dir.to_string(), name), bytes);
        }
    }
    Ok(())
}

pub(crate) fn run(command: SnapshotCommand, out: &mut impl std::io::Write) -> Result<(), String> {
    match command {
        SnapshotCommand::Create { data_dir, out: file } => {
            if !data_dir.is_dir() {
                return Err(format!("{} is not a data directory", data_dir.display()));
            }
            let locked = DataDir::open(&data_dir)?;
            let mut files = SnapshotFiles::new();
            read_tree(locked.path(), "", &mut files)?;
            if files.is_empty() {
                return Err(format!("{} holds no cluster", data_dir.display()));
            }
            // A server draws its seed at each start; a snapshot of one carries none (0).
            let text = encode(0, &files);
            match file {
                Some(file) => {
                    std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))
                }
                None => writeln!(out, "{text}").map_err(|e| e.to_string()),
            }
        }
        SnapshotCommand::Restore { file, data_dir } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let (_, files) = decode(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let occupied =
                std::fs::read_dir(&data_dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
            if occupied {
                return Err(format!(
                    "{} is not empty: a restore never writes over stored data; give a new directory",
                    data_dir.display()
                ));
            }
            let locked = DataDir::open(&data_dir)?;
            for ((dir, name), bytes) in &files {
                let dir_path =
                    if dir.is_empty() { locked.path().to_path_buf() } else { locked.path().join(dir) };
                std::fs::create_dir_all(&dir_path)
                    .map_err(|e| format!("cannot create {}: {e}", dir_path.display()))?;
                let path = dir_path.join(name);
                std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            writeln!(out, "restored {} files into {}", files.len(), data_dir.display())
                .map_err(|e| e.to_string())
        }
    }
}
