//! Kite Connect on `kite serve`: Kafka Connect's REST API under `/connect` (the same Host,
//! Origin and token checks as the websocket), and the directory the file connectors read and
//! write (`--connect-dir`), the only files they can reach (the JDBC sink's SQLite databases
//! among them).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kite_shared::api::{Command, Reply, TableView};
use kite_shared::connect::files::{ConnectFiles, check_path};
use kite_shared::connect::tables::{Column, ConnectTables, TableChange};
use warp::Filter;

use crate::engine::Engine;
use crate::guard::{Guard, Upgrade, request_token};

/// The largest request body `/connect` reads, in bytes (a connector config is a few hundred).
pub(crate) const MAX_CONNECT_BODY_BYTES: u64 = 256 * 1024;

/// The file connectors' files: paths inside one directory, no symbolic link followed.
pub(crate) struct DirFiles {
    dir: PathBuf,
    /// The JDBC sink's databases, SQLite files in the same directory.
    tables: kite_backend::connect_sqlite::SqliteTables,
}

impl DirFiles {
    /// The directory, created when missing.
    pub(crate) fn open(dir: &Path) -> Result<DirFiles, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the connect directory {}: {e}", dir.display()))?;
        Ok(DirFiles { dir: dir.to_path_buf(), tables: Default::default() })
    }

    /// The file's path, refused when it leaves the directory or passes through a symbolic link.
    fn path(&self, path: &str) -> Result<PathBuf, String> {
        check_path(path)?;
        let mut at = self.dir.clone();
        for segment in path.split('/') {
            at.push(segment);
            if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!(
                    "{path} passes through a symbolic link; the connect directory's files are its own"
                ));
            }
        }
        Ok(at)
    }
}

impl ConnectTables for DirFiles {
    fn columns(&mut self, database: &str, table: &str) -> Result<Option<Vec<Column>>, String> {
        let at = self.path(database)?;
        self.tables.columns(database, &at, table)
    }

    fn apply(&mut self, database: &str, changes: &[TableChange]) -> Result<(), String> {
        let at = self.path(database)?;
        self.tables.apply(database, &at, changes)
    }

    fn show(&mut self, database: &str) -> Result<Vec<TableView>, String> {
        let at = self.path(database)?;
        self.tables.show(database, &at)
    }
}

impl ConnectFiles for DirFiles {
    fn read(&mut self, path: &str, offset: u64, max_bytes: usize) -> Result<Option<Vec<u8>>, String> {
        let at = self.path(path)?;
        let mut file = match std::fs::File::open(&at) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        };
        file.seek(SeekFrom::Start(offset)).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut bytes = Vec::new();
        file.take(max_bytes as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read {path}: {e}"))?;
        Ok(Some(bytes))
    }

    fn append(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        let at = self.path(path)?;
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&at)
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len + bytes.len() as u64 > kite_shared::limits::MAX_CONNECT_FILE_BYTES {
            return Err(format!(
                "{path} would grow past {} bytes, the most a connect file may hold",
                kite_shared::limits::MAX_CONNECT_FILE_BYTES
            ));
        }
        file.write_all(bytes).map_err(|e| format!("cannot write {path}: {e}"))
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        let at = self.path(path)?;
        if bytes.len() as u64 > kite_shared::limits::MAX_CONNECT_FILE_BYTES {
            return Err(format!(
                "{path} may hold at most {} bytes",
                kite_shared::limits::MAX_CONNECT_FILE_BYTES
            ));
        }
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&at, bytes).map_err(|e| format!("cannot write {path}: {e}"))
    }

    fn flush(&mut self, path: &str) -> Result<(), String> {
        let at = self.path(path)?;
        match std::fs::File::open(&at) {
            Ok(file) => file.sync_data().map_err(|e| format!("cannot flush {path}: {e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot flush {path}: {e}")),
        }
    }

    fn list(&mut self) -> Vec<(String, u64)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut files: Vec<(String, u64)> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len())))
            .collect();
        files.sort();
        files
    }
}

/// `/connect/…`: a request the guard admits, its JSON body (POST and PUT) read up to
/// `MAX_CONNECT_BODY_BYTES`, answered by the engine's worker in one turn.
pub(crate) fn route(
    guard: Arc<Guard>,
    engine: Arc<Engine>,
) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    warp::path("connect")
        .and(warp::method())
        .and(warp::path::tail())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("host"))
        .and(warp::header::optional::<String>("origin"))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::ext::optional::<crate::guard::Peer>())
        // A body comes with its length (at most MAX_CONNECT_BODY_BYTES: `None` past it); without
        // one (a GET, or a chunked body, which is not read) the request has none.
        .and(
            warp::body::content_length_limit(MAX_CONNECT_BODY_BYTES)
                .and(warp::body::bytes())
                .map(Some)
                .or(warp::header::optional::<u64>("content-length").map(|length: Option<u64>| {
                    length.is_none_or(|n| n <= MAX_CONNECT_BODY_BYTES).then(warp::hyper::body::Bytes::new)
                }))
                .unify(),
        )
        .then(
            move |method: warp::http::Method,
                  tail: warp::path::Tail,
                  query: String,
                  host: Option<String>,
                  origin: Option<String>,
                  authorization: Option<String>,
                  content_type: Option<String>,
                  peer: Option<crate::guard::Peer>,
                  body: Option<warp::hyper::body::Bytes>| {
                let (guard, engine) = (guard.clone(), engine.clone());
                async move {
                    let token = request_token(&query, authorization.as_deref());
                    let request = Upgrade {
                        host: host.as_deref(),
                        origin: origin.as_deref(),
                        token: token.as_deref(),
                        peer: peer.map(|crate::guard::Peer(ip)| ip),
                    };
                    let _permit = match guard.admit(&request, std::time::Instant::now()) {
                        Ok(permit) => permit,
                        Err(refusal) => {
                            return json(refusal.status(), &error(refusal.status(), refusal.message()));
                        }
                    };
                    let Some(body) = body else {
                        let message =
                            format!("A request body may hold at most {MAX_CONNECT_BODY_BYTES} bytes");
                        return json(413, &error(413, message));
                    };
                    let body = match parse_body(&body, content_type.as_deref()) {
                        Ok(body) => body,
                        Err(message) => return json(415, &error(415, message)),
                    };
                    let path = if query.is_empty() {
                        format!("/{}", tail.as_str())
                    } else {
                        format!("/{}?{query}", tail.as_str())
                    };
                    let command = Command::Connect { method: method.as_str().to_string(), path, body };
                    match engine.turn(|cluster| cluster.handle(crate::session::now_ms(), command)).await {
                        Reply::Connect { status, body: Some(body) } => json(status, &body),
                        Reply::Connect { status, body: None } => empty(status),
                        Reply::Error(e) => json(500, &error(500, e.message)),
                        _ => json(500, &error(500, "the engine did not answer the request".into())),
                    }
                }
            },
        )
        .boxed()
}

/// A body is JSON, sent as `application/json`: a browser cannot send that cross-origin without
/// a preflight this server never approves, so a page elsewhere cannot post a connector here.
fn parse_body(body: &[u8], content_type: Option<&str>) -> Result<Option<serde_json::Value>, String> {
    if body.is_empty() {
        return Ok(None);
    }
    let is_json = content_type.is_some_and(|t| {
        t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Err("A request body must be sent as Content-Type: application/json".into());
    }
    serde_json::from_slice(body).map(Some).map_err(|e| format!("The request body is not JSON: {e}"))
}

fn error(status: u16, message: String) -> serde_json::Value {
    serde_json::json!({ "error_code": status, "message": message })
}

fn json(status: u16, body: &serde_json::Value) -> warp::reply::Response {
    use warp::Reply;
    let status =
        warp::http::StatusCode::from_u16(status).unwrap_or(warp::http::StatusCode::INTERNAL_SERVER_ERROR);
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

fn empty(status: u16) -> warp::reply::Response {
    use warp::Reply;
    let status = warp::http::StatusCode::from_u16(status).unwrap_or(warp::http::StatusCode::NO_CONTENT);
    warp::reply::with_status(warp::reply(), status).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_keeps_its_files_and_follows_no_link() {
        let dir = std::env::current_dir().unwrap().join("../target/connect-files-test");
        let _ = std::fs::remove_dir_all(&dir);
        let mut files = DirFiles::open(&dir).unwrap();
        files.append("in/a.txt", b"foo\nbar\n").unwrap();
        assert_eq!(files.read("in/a.txt", 4, 100).unwrap(), Some(b"bar\n".to_vec()));
        assert_eq!(files.read("missing.txt", 0, 100).unwrap(), None);
        assert!(files.read("../escape.txt", 0, 1).unwrap_err().contains("connect directory"));
        std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
        assert!(files.read("etc/passwd", 0, 100).unwrap_err().contains("symbolic link"));
        files.flush("in/a.txt").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_body_must_be_json_sent_as_json() {
        assert_eq!(parse_body(b"", None), Ok(None));
        assert!(parse_body(b"{}", Some("text/plain")).unwrap_err().contains("application/json"));
        assert!(parse_body(b"{", Some("application/json")).unwrap_err().contains("not JSON"));
        assert_eq!(
            parse_body(b"{}", Some("application/json; charset=utf-8")),
            Ok(Some(serde_json::json!({})))
        );
    }
}
