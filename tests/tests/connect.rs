//! Kite Connect against a real `kite serve`: Kafka's Connect quickstart over the REST API under
//! `/connect` and the `kite connect` CLI, the connectors coming back after a restart from
//! `connect-configs` and `connect-offsets`, the JDBC sink into a real SQLite file, the REST
//! API's guards, and the Connect view in a real browser, in the tab and on the server, in
//! English and Korean.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kite_e2e::{
    ChromeDriver, KiteServer, TempDir, env_path, horizontal_overflow, screenshot, text_of, until, wait_for,
    with_browser,
};

/// How long a line may take to go from the source file to the sink file (the sink's group waits
/// 3 s before its first assignment).
const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);

/// One HTTP/1.0 request with a JSON body: (status code, body).
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete HTTP response");
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status code");
    (code, body.to_string())
}

fn post_json(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    http(addr, "POST", path, &[("Content-Type", "application/json")], body)
}

fn kite(server: &KiteServer, args: &[&str]) -> String {
    let output =
        Command::new(env_path("KITE_BIN")).args(args).arg("--server").arg(server.ws_url()).output().unwrap();
    assert!(output.status.success(), "kite {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn wait_for_file(path: &Path, expected: &str) {
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    loop {
        let got = std::fs::read_to_string(path).unwrap_or_default();
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{} holds {got:?}, not {expected:?}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kafkas_connect_quickstart_runs_against_kite_serve_and_survives_a_restart() {
    let dir = TempDir::new("connect-quickstart");
    let files = dir.path().join("connect-files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("test.txt"), "foo\nbar\n").unwrap();
    let mut server = KiteServer::start_with(dir.path(), &["--brokers", "1"]);

    // The source as curl would post it; the sink from Kafka's own properties file, by the CLI.
    let source = r#"{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"test.txt","topic":"connect-test"}}"#;
    let (code, body) = post_json(server.addr, "/connect/connectors", source);
    assert_eq!(code, 201, "{body}");
    let properties = dir.path().join("connect-file-sink.properties");
    std::fs::write(&properties, "name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=test.sink.txt\ntopics=connect-test\n").unwrap();
    let created = kite(&server, &["connect", "create", properties.to_str().unwrap()]);
    assert!(created.contains("\"type\": \"sink\""), "{created}");
    wait_for_file(&files.join("test.sink.txt"), "foo\nbar\n");
    let listed = kite(&server, &["connect", "list"]);
    assert_eq!(listed.matches("\"RUNNING\"").count(), 4, "both connectors and their tasks run: {listed}");

    // After a restart the worker reads its connectors back and the source goes on from its
    // committed position: a line appended then reaches the sink (lines since the last offset
    // flush may come twice: at least once).
    server.terminate();
    std::fs::OpenOptions::new()
        .append(true)
        .open(files.join("test.txt"))
        .unwrap()
        .write_all(b"Another line\n")
        .unwrap();
    let server = KiteServer::start_with(dir.path(), &["--brokers", "1"]);
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    while !std::fs::read_to_string(files.join("test.sink.txt"))
        .unwrap_or_default()
        .ends_with("Another line\n")
    {
        assert!(Instant::now() < deadline, "the line appended after the restart never reached the sink");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, status) = http(server.addr, "GET", "/connect/connectors/local-file-source/status", &[], "");
    assert_eq!(code, 200);
    assert!(status.contains(&format!("\"worker_id\":\"{}\"", server.addr)), "{status}");
}

/// Confluent's AvroConverter on a real `kite serve`: a file's lines written as Avro, the schema
/// in the server's registry (`kite connect schemas`), the records read by `kite consume` with
/// KafkaAvroDeserializer and by a sink with the same converter; after a restart the registry is
/// still there and a new line reaches the sink.
#[test]
fn the_avro_converter_writes_through_the_servers_schema_registry() {
    let dir = TempDir::new("connect-avro");
    let files = dir.path().join("connect-files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("in.txt"), "hello\nworld\n").unwrap();
    let mut server = KiteServer::start_with(dir.path(), &["--brokers", "1"]);
    let avro = r#""value.converter":"io.confluent.connect.avro.AvroConverter","value.converter.schema.registry.url":"http://localhost:8081""#;
    let source = format!(
        r#"{{"name":"in","config":{{"connector.class":"FileStreamSource","file":"in.txt","topic":"lines",{avro}}}}}"#
    );
    let sink = format!(
        r#"{{"name":"out","config":{{"connector.class":"FileStreamSink","file":"out.txt","topics":"lines",{avro}}}}}"#
    );
    for body in [&source, &sink] {
        let (code, body) = post_json(server.addr, "/connect/connectors", body);
        assert_eq!(code, 201, "{body}");
    }
    wait_for_file(&files.join("out.txt"), "hello\nworld\n");
    assert_eq!(kite(&server, &["connect", "schemas"]), "lines-value version 1 id 1\n\"string\"\n");
    let read = kite(
        &server,
        &[
            "consume",
            "lines",
            "--from-beginning",
            "--max-messages",
            "2",
            "--value-deserializer",
            "KafkaAvroDeserializer",
        ],
    );
    assert_eq!(read, "\"hello\"\n\"world\"\n", "the registry's framing, read back as Avro");
    let raw = kite(
        &server,
        &[
            "consume",
            "lines",
            "--from-beginning",
            "--max-messages",
            "1",
            "--value-deserializer",
            "ByteArrayDeserializer",
        ],
    );
    assert_eq!(raw, "00 00 00 00 01 0a 68 65 6c 6c 6f\n", "magic byte, schema id 1, the datum");

    server.terminate();
    std::fs::OpenOptions::new()
        .append(true)
        .open(files.join("in.txt"))
        .unwrap()
        .write_all(b"again\n")
        .unwrap();
    let server = KiteServer::start_with(dir.path(), &["--brokers", "1"]);
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    while !std::fs::read_to_string(files.join("out.txt")).unwrap_or_default().ends_with("again\n") {
        assert!(Instant::now() < deadline, "the line appended after the restart never reached the sink");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(kite(&server, &["connect", "schemas"]), "lines-value version 1 id 1\n\"string\"\n");
}

/// A topic into a table on a real `kite serve`: records produced by the CLI, the JDBC sink
/// upserting them by key into a real SQLite file in the connect directory (read here as
/// `sqlite3` would read it), and `kite connect tables` showing the same rows.
#[test]
fn the_jdbc_sink_upserts_a_topic_into_a_sqlite_file() {
    let dir = TempDir::new("connect-jdbc");
    let server = KiteServer::start_with(dir.path(), &["--brokers", "1"]);
    kite(&server, &["topics", "create", "accounts", "--partitions", "3"]);
    for (key, value) in [
        ("alice", r#"{"balance":10,"city":"Seoul"}"#),
        ("bob", r#"{"balance":5,"city":"Busan"}"#),
        ("alice", r#"{"balance":25,"city":"Seoul"}"#),
    ] {
        kite(&server, &["produce", "accounts", "--key", key, value]);
    }
    let sink = r#"{"name":"accounts-db","config":{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","topics":"accounts","connection.url":"jdbc:sqlite:bank.db","insert.mode":"upsert","pk.mode":"record_key","pk.fields":"name","auto.create":"true","key.converter":"org.apache.kafka.connect.storage.StringConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter.schemas.enable":"false"}}"#;
    let (code, body) = post_json(server.addr, "/connect/connectors", sink);
    assert_eq!(code, 201, "{body}");
    let database = dir.path().join("connect-files").join("bank.db");
    let read = || -> Result<Vec<(String, i64, String)>, rusqlite::Error> {
        let db =
            rusqlite::Connection::open_with_flags(&database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut select = db.prepare("SELECT name, balance, city FROM accounts ORDER BY name")?;
        let rows = select.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    };
    let expected =
        vec![("alice".to_string(), 25, "Seoul".to_string()), ("bob".to_string(), 5, "Busan".to_string())];
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    loop {
        match read() {
            Ok(rows) if rows == expected => break,
            got => assert!(Instant::now() < deadline, "bank.db holds {got:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let tables = kite(&server, &["connect", "tables"]);
    assert_eq!(
        tables,
        "bank.db:accounts (2 rows)\nname* | balance | city\nalice | 25      | Seoul\nbob   | 5       | Busan\n\n"
    );
}

#[test]
fn the_rest_api_keeps_its_guards() {
    let dir = TempDir::new("connect-guards");
    let server = KiteServer::start_with(dir.path(), &["--brokers", "1", "--token", "s3cret"]);
    let auth = ("Authorization", "Bearer s3cret");
    let (code, body) = http(server.addr, "GET", "/connect/connectors", &[], "");
    assert_eq!(code, 401, "{body}");
    let (code, body) =
        http(server.addr, "GET", "/connect/connectors", &[auth, ("Origin", "http://evil.example")], "");
    assert_eq!(code, 403, "a page elsewhere is refused: {body}");
    let sink = r#"{"name":"s","config":{"connector.class":"FileStreamSink","file":"../../etc/passwd","topics":"t"}}"#;
    let (code, body) =
        http(server.addr, "POST", "/connect/connectors", &[auth, ("Content-Type", "text/plain")], sink);
    assert_eq!(code, 415, "a body not sent as JSON (what a form could post cross-site): {body}");
    let (code, body) =
        http(server.addr, "POST", "/connect/connectors", &[auth, ("Content-Type", "application/json")], sink);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("is not a file inside the connect directory"), "{body}");
    let (code, body) = http(server.addr, "GET", "/connect/connectors/nope", &[auth], "");
    assert_eq!((code, body.as_str()), (404, r#"{"error_code":404,"message":"Connector nope not found"}"#));
}

/// Presses a button by script: the Connect view sits low in the side panel, under the page's
/// floating parts.
async fn press(client: &fantoccini::Client, css: &str) -> Result<(), String> {
    wait_for(client, css).await?;
    let js = format!("document.querySelector({css:?}).click(); return true;");
    client.execute(&js, vec![]).await.map(|_| ()).map_err(|e| e.to_string())
}

/// The Connect view runs Kafka's quickstart with one click, in the tab (files in memory) and on
/// `kite serve` (files in its connect directory), shows both connectors running and the sink's
/// file and a JDBC sink's table; the tab's connectors, files and tables come back after a reload,
/// a file is uploaded and offered for download; orders written by the AvroConverter show their
/// schema registry subject; in Korean on a phone the view does not scroll sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_view_runs_the_quickstart_in_the_tab_and_on_the_server() {
    let data = TempDir::new("connect-view");
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let url = server.url();
    let sink_file = data.path().join("connect-files").join("test.sink.txt");
    with_browser(&driver, |client| async move {
        client.set_window_size(1280, 900).await.map_err(|e| e.to_string())?;
        for engine in ["in-tab worker", "kite serve"] {
            client.goto(&format!("{url}?lang=en")).await.map_err(|e| e.to_string())?;
            wait_for(&client, "#status[data-status='ready']").await?;
            if engine == "kite serve" {
                // The page offers the server it came from.
                press(&client, "#server-connect").await?;
                let js = "return ((document.querySelector(\"#status[data-status='ready']\") || {}).textContent || '').includes('kite serve')";
                until(&client, js, serde_json::json!(true)).await?;
            }
            press(&client, "#connect-quickstart").await?;
            wait_for(&client, "#connectors .connector[data-name='local-file-source'][data-state='RUNNING']").await?;
            wait_for(&client, "#connectors .connector[data-name='local-file-sink'][data-state='RUNNING']").await?;
            press(&client, "#connect-files button[data-path='test.sink.txt']").await?;
            until(&client, "return (document.querySelector('#connect-file-text') || {}).textContent || ''", serde_json::json!("foo\nbar\n")).await?;
            let flow = text_of(&client, "#connectors .connector[data-name='local-file-sink'] .connector-flow").await?;
            assert_eq!(flow, "connect-test → test.sink.txt");
            // Users keep coming; the JDBC sink's table keeps one row a user id (nine at most).
            press(&client, "#connect-table").await?;
            let rows = "return Number((document.querySelector(\"#connect-tables .sql-table[data-table='users']\") || {dataset: {rows: 0}}).dataset.rows)";
            until(&client, &format!("{rows} >= 2"), serde_json::json!(true)).await?;
            let key = text_of(&client, "#connect-tables .sql-table[data-table='users'] th.key").await?;
            assert_eq!(key, "PK userid");
            // Throughput, from the records the tasks count between two refreshes.
            let rate = text_of(&client, "#connectors .connector[data-name='datagen-users'] .connector-rate").await?;
            assert!(rate.ends_with(" records/s"), "{rate}");
            let count: serde_json::Value = client.execute(rows, vec![]).await.map_err(|e| e.to_string())?;
            assert!(count.as_u64().is_some_and(|n| n <= 9), "one row a user id: {count}");
            if engine == "kite serve" {
                client.execute("document.querySelector('#connect-tables').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
                screenshot(&client, "connect-table-en").await?;
            }
            // Orders through Confluent's AvroConverter: the schema registry's subject appears,
            // and the connector says which converters it uses.
            press(&client, "#connect-avro").await?;
            wait_for(&client, "#connect-schemas .subject[data-subject='orders-avro-value']").await?;
            let schema = text_of(&client, "#connect-schemas .subject[data-subject='orders-avro-value'] .schema-text").await?;
            assert!(schema.contains("\"ConnectDefault\"") && schema.contains("\"orderid\""), "{schema}");
            let converters = text_of(&client, "#connectors .connector[data-name='datagen-orders-avro'] .connector-converters").await?;
            assert_eq!(converters, "Converters: key StringConverter, value AvroConverter");
            if engine == "kite serve" {
                client.execute("document.querySelector('#connect-schemas').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
                screenshot(&client, "connect-avro-en").await?;
            }
            if engine == "kite serve" {
                assert_eq!(std::fs::read_to_string(&sink_file).unwrap_or_default(), "foo\nbar\n", "the server's own file");
                client.execute("document.querySelector('#connect').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
                screenshot(&client, "connect-en").await?;
            }
        }
        client.set_window_size(390, 844).await.map_err(|e| e.to_string())?;
        client.goto(&format!("{url}?lang=ko")).await.map_err(|e| e.to_string())?;
        wait_for(&client, "#status[data-status='ready']").await?;
        // The tab's cluster is kept in IndexedDB: after the reload its worker reads its
        // connectors back from connect-configs, and its files and tables are there too.
        wait_for(&client, "#connectors .connector[data-name='local-file-sink']").await?;
        press(&client, "#connect-files button[data-path='test.sink.txt']").await?;
        until(&client, "return (document.querySelector('#connect-file-text') || {}).textContent || ''", serde_json::json!("foo\nbar\n")).await?;
        let download = "return (document.querySelector('#connect-download') || {}).download || ''";
        until(&client, download, serde_json::json!("test.sink.txt")).await?;
        // A file from this computer becomes a file of the connect directory.
        let upload = data.path().join("orders.csv");
        std::fs::write(&upload, "1,apple\n2,pear\n").unwrap();
        client
            .find(fantoccini::Locator::Css("#connect-upload"))
            .await
            .map_err(|e| e.to_string())?
            .send_keys(upload.to_str().unwrap())
            .await
            .map_err(|e| e.to_string())?;
        until(&client, "return (document.querySelector('#connect-file-text') || {}).textContent || ''", serde_json::json!("1,apple\n2,pear\n")).await?;
        client.execute("document.querySelector('.connect-files').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "connect-files-ko-phone").await?;
        let button = text_of(&client, "#connect-quickstart").await?;
        assert_eq!(button, "Kafka quickstart 실행 (파일 → topic → 파일)");
        // The datagen source keeps writing users, and the sink's table (in the tab's memory)
        // fills again.
        let caption = "return ((document.querySelector(\"#connect-tables .sql-table[data-table='users'] caption\") || {}).textContent || '').endsWith('행')";
        until(&client, caption, serde_json::json!(true)).await?;
        // The tab's schema registry came back with its cluster.
        wait_for(&client, "#connect-schemas .subject[data-subject='orders-avro-value']").await?;
        assert_eq!(text_of(&client, "#connect-schemas h3").await?, "Schema registry");
        let (overflow, widest) = horizontal_overflow(&client).await?;
        assert!(overflow <= 0, "the Korean page on a phone scrolls sideways: {widest}");
        client.execute("document.querySelector('#connect-schemas').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "connect-avro-ko-phone").await?;
        client.execute("document.querySelector('#connect').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "connect-ko-phone").await?;
        client.execute("document.querySelector('#connect-tables').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "connect-table-ko-phone").await?;
        Ok(())
    })
    .await;
}
