//! `kite serve` as a process: it serves the built UI with the right content types, refuses a data
//! directory another server holds, and stops cleanly on SIGTERM.

use kite_e2e::{KiteServer, TempDir, http_get, kite_serve};

#[test]
fn serves_the_ui_and_its_wasm() {
    let data = TempDir::new("http");
    let server = KiteServer::start(data.path());
    let (status, headers, body) = http_get(server.addr, "/");
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: text/html"), "{headers}");
    assert!(String::from_utf8_lossy(&body).contains("kite_frontend.js"), "the page loads the UI module");

    let (status, headers, body) = http_get(server.addr, "/kite_frontend_bg.wasm");
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: application/wasm"), "{headers}");
    assert_eq!(&body[..4], b"\0asm", "a WebAssembly module");

    let (status, _, _) = http_get(server.addr, "/worker.js");
    assert!(status.contains("200"), "{status}");
    let (status, _, _) = http_get(server.addr, "/no-such-file");
    assert!(status.contains("404"), "{status}");
}

#[test]
fn a_second_server_cannot_take_a_held_data_dir_and_sigterm_stops_cleanly() {
    let data = TempDir::new("lock");
    let mut first = KiteServer::start(data.path());

    let second = kite_serve(data.path()).output().unwrap();
    assert!(!second.status.success(), "a second server on the same data dir must not start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("is in use by another kite process"), "{stderr}");

    let status = first.terminate();
    assert!(status.success(), "kite serve exits 0 after SIGTERM, got {status}");

    // Once the first has stopped, the directory is free again.
    let mut again = KiteServer::start(data.path());
    assert!(again.terminate().success());
}
