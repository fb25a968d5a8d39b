//! The UI's files as a browser should get them: the brotli or gzip copy `cargo xtask dist` wrote
//! beside a file when the browser accepts it, content-hashed names cached for good, every other
//! name (the page, `kite-embed.js`, the docs) revalidated at each visit with an `ETag`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use warp::Filter;
use warp::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderValue, VARY};
use warp::http::{Response, StatusCode};

/// How many files are read for browsers at once: each read holds a whole file (the wasm module
/// is the largest, ~2.7 MB) until it is sent.
const MAX_ASSET_READS_AT_ONCE: usize = 16;
/// Hex digits of the content hash `cargo xtask dist` puts in a name (`start.0123456789abcdef.js`).
const HASH_DIGITS: usize = 16;
/// A content-hashed name never changes content: a browser may keep it a year without asking.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Any other name is asked about at each use (a 304 when unchanged).
const REVALIDATE: &str = "no-cache";

/// The encodings a copy may be stored in, best first: (`Accept-Encoding` token, file suffix).
const ENCODINGS: &[(&str, &str)] = &[("br", "br"), ("gzip", "gz")];

/// What is asked of a file: its path under the UI's directory, and the request's headers that matter.
struct Ask {
    path: String,
    accept_encoding: Option<String>,
    if_none_match: Option<String>,
}

/// GET and HEAD of any path under `ui_dir`; a path that names no file is rejected (a 404 unless
/// another route takes it).
pub(crate) fn routes(ui_dir: &Path) -> warp::filters::BoxedFilter<(warp::reply::Response,)> {
    let ui_dir = Arc::new(ui_dir.to_path_buf());
    let reads = Arc::new(tokio::sync::Semaphore::new(MAX_ASSET_READS_AT_ONCE));
    warp::get()
        .or(warp::head())
        .unify()
        .and(warp::path::full())
        .and(warp::header::optional::<String>("accept-encoding"))
        .and(warp::header::optional::<String>("if-none-match"))
        .and_then(move |path: warp::path::FullPath, accept_encoding, if_none_match| {
            let ask = Ask { path: path.as_str().to_string(), accept_encoding, if_none_match };
            let (ui_dir, reads) = (ui_dir.clone(), reads.clone());
            async move {
                let Some(file) = resolve(&ui_dir, &ask.path) else { return Err(warp::reject::not_found()) };
                let _reading = reads.acquire().await.map_err(|_| warp::reject::not_found())?;
                answer(&file, &ask).await.ok_or_else(warp::reject::not_found)
            }
        })
        .boxed()
}

/// The file `path` names under `ui_dir` (a directory's `index.html`), or `None` when the path
/// could leave the directory or names a hidden file: each segment percent-decoded, and none may
/// be empty-dotted (`.`, `..`, `.git`) or hold a separator.
fn resolve(ui_dir: &Path, path: &str) -> Option<PathBuf> {
    let mut file = ui_dir.to_path_buf();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let segment = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
        if segment.starts_with('.') || segment.contains(['/', '\\', '\0', ':']) {
            return None;
        }
        file.push(segment.as_ref());
    }
    if path.ends_with('/') || file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

/// `file` as `ask` wants it: the smallest copy the browser accepts that is not older than the
/// file, or a 304 when its `If-None-Match` names what it would get.
async fn answer(file: &Path, ask: &Ask) -> Option<warp::reply::Response> {
    let original = tokio::fs::metadata(file).await.ok()?;
    let mut chosen = (file.to_path_buf(), original.clone(), None);
    for &(token, suffix) in ENCODINGS {
        if !accepts(ask.accept_encoding.as_deref(), token) {
            continue;
        }
        let mut copy = file.as_os_str().to_owned();
        copy.push(format!(".{suffix}"));
        let copy = PathBuf::from(copy);
        // A copy older than its file is from an earlier build: the file itself is right.
        match tokio::fs::metadata(&copy).await {
            Ok(meta) if meta.modified().ok() >= original.modified().ok() => {
                chosen = (copy, meta, Some(token));
                break;
            }
            _ => {}
        }
    }
    let (path, meta, encoding) = chosen;
    let etag = entity_tag(&meta, encoding);
    let mut response = if names(ask.if_none_match.as_deref(), &etag) {
        let mut not_modified = Response::new(Vec::new().into());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        not_modified
    } else {
        let bytes = tokio::fs::read(&path).await.ok()?;
        let mut ok = Response::new(bytes.into());
        ok.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type(file)));
        if let Some(token) = encoding {
            ok.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        ok
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, HeaderValue::from_str(&etag).ok()?);
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    let name = file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if is_hashed(&name) { IMMUTABLE } else { REVALIDATE }),
    );
    Some(response)
}

/// Whether an `Accept-Encoding` value accepts `token` (listed, or `*`, and not with `q=0`).
fn accepts(accept_encoding: Option<&str>, token: &str) -> bool {
    accept_encoding.unwrap_or("").split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused =
            parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
        (name.eq_ignore_ascii_case(token) || name == "*") && !refused
    })
}

/// A strong entity tag of one stored copy: its length and time, and its encoding (each
/// encoding is a representation of its own).
fn entity_tag(meta: &std::fs::Metadata, encoding: Option<&str>) -> String {
    let nanos = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{nanos:x}{}\"", meta.len(), encoding.map(|e| format!("-{e}")).unwrap_or_default())
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn names(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|value| value.split(',').map(str::trim).any(|tag| tag == etag || tag == "*"))
}

/// True for the names `cargo xtask dist` gives by content: `stem.<16 hex digits>.extension`.
fn is_hashed(name: &str) -> bool {
    let mut parts = name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    parts.next().is_some()
        && hash.is_some_and(|h| h.len() == HASH_DIGITS && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The media type a browser needs: a module script must be JavaScript, the wasm module
/// `application/wasm` for streaming compilation; with `nosniff`, nothing is guessed.
fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "txt" | "kite" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_cannot_leave_the_directory_or_name_a_hidden_file() {
        let dir = std::env::temp_dir();
        for path in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/a/..%2f..%2fetc",
            "/.git/config",
            "/x%00y",
            "/c:%5cwin",
        ] {
            assert_eq!(resolve(&dir, path), None, "{path}");
        }
    }

    #[test]
    fn accept_encoding_is_read_as_browsers_write_it() {
        assert!(accepts(Some("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(Some("gzip;q=1.0, br;q=0.5"), "br"));
        assert!(!accepts(Some("gzip, br;q=0"), "br"));
        assert!(accepts(Some("*"), "gzip"));
        assert!(!accepts(None, "gzip"));
        assert!(!accepts(Some("identity"), "gzip"));
    }

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(is_hashed("start.0123456789abcdef.js"));
        assert!(is_hashed("kite_frontend_bg.fedcba9876543210.wasm"));
        assert!(!is_hashed("start.js"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("0123456789abcdef.js"));
        assert!(!is_hashed("a.0123456789abcdeg.js"));
    }
}
