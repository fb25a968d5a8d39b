//! `kite connect`: Kite Connect's REST API from the command line, against a running `kite
//! serve` (over its websocket, the `connect` command): list, create from a Kafka properties file
//! (`connect-file-source.properties`) or a JSON body, status, pause, resume, restart, delete;
//! the JDBC sinks' tables and the AvroConverters' schema registry subjects.

use std::io::Write;
use std::path::PathBuf;

use kite_shared::api::{Command, Reply};

use kite_backend::client::ApiClient;

use crate::cli::{ServerArg, kafka_error};

#[derive(clap::Subcommand)]
pub(crate) enum ConnectCommand {
    /// The connectors, each with its state and its tasks' (GET /connectors?expand=status).
    List,
    /// The connector plugins Kite has (GET /connector-plugins).
    Plugins,
    /// Creates a connector from a properties file as Kafka's `connect-standalone` takes one
    /// (`name=…`, `connector.class=…`), or from a JSON body `{"name", "config"}` (POST /connectors).
    Create { file: PathBuf },
    /// A connector's and its tasks' states (GET /connectors/NAME/status).
    Status { name: String },
    /// A connector's config (GET /connectors/NAME/config).
    Config { name: String },
    /// Pauses a connector (PUT /connectors/NAME/pause).
    Pause { name: String },
    /// Resumes a paused connector (PUT /connectors/NAME/resume).
    Resume { name: String },
    /// Restarts a connector and its tasks (POST /connectors/NAME/restart?includeTasks=true).
    Restart { name: String },
    /// Deletes a connector (DELETE /connectors/NAME).
    Delete { name: String },
    /// The tables the JDBC sinks write: each table's columns (key columns marked `*`), its
    /// first rows by key and how many it holds.
    Tables,
    /// The schema registry's subjects the AvroConverter connectors write and read: each one's
    /// latest version, its id and the schema.
    Schemas,
}

pub(crate) fn connect(
    command: ConnectCommand,
    server: &ServerArg,
    out: &mut impl Write,
) -> Result<(), String> {
    let escape = |name: &str| {
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let (method, path, body) = match &command {
        ConnectCommand::List => ("GET", "/connectors?expand=status".to_string(), None),
        ConnectCommand::Plugins => ("GET", "/connector-plugins".to_string(), None),
        ConnectCommand::Create { file } => ("POST", "/connectors".to_string(), Some(create_body(file)?)),
        ConnectCommand::Status { name } => ("GET", format!("/connectors/{}/status", escape(name)), None),
        ConnectCommand::Config { name } => ("GET", format!("/connectors/{}/config", escape(name)), None),
        ConnectCommand::Pause { name } => ("PUT", format!("/connectors/{}/pause", escape(name)), None),
        ConnectCommand::Resume { name } => ("PUT", format!("/connectors/{}/resume", escape(name)), None),
        ConnectCommand::Restart { name } => {
            ("POST", format!("/connectors/{}/restart?includeTasks=true", escape(name)), None)
        }
        ConnectCommand::Delete { name } => ("DELETE", format!("/connectors/{}", escape(name)), None),
        ConnectCommand::Tables => return tables(server, out),
        ConnectCommand::Schemas => return schemas(server, out),
    };
    let mut connection = ApiClient::connect(&server.server)?;
    let (status, body) = match connection.request(Command::Connect { method: method.into(), path, body })? {
        Reply::Connect { status, body } => (status, body),
        other => return Err(kafka_error(other)),
    };
    if status >= 400 {
        let message = body.as_ref().and_then(|b| b["message"].as_str()).unwrap_or("no message").to_string();
        return Err(format!("Error: {status} {message}"));
    }
    let io = |e: std::io::Error| e.to_string();
    match body {
        Some(body) => {
            writeln!(out, "{}", serde_json::to_string_pretty(&body).unwrap_or_default()).map_err(io)
        }
        None => writeln!(out, "{status} {method} done").map_err(io),
    }
}

/// The Connect view, as the UI asks for it.
fn describe(server: &ServerArg) -> Result<kite_shared::api::ConnectView, String> {
    let mut connection = ApiClient::connect(&server.server)?;
    match connection.request(Command::DescribeConnect { file: None })? {
        Reply::ConnectDescribed(view) => Ok(view),
        other => Err(kafka_error(other)),
    }
}

/// `kite connect schemas`: each subject, its version and id, then its schema indented.
fn schemas(server: &ServerArg, out: &mut impl Write) -> Result<(), String> {
    let view = describe(server)?;
    let io = |e: std::io::Error| e.to_string();
    if view.schemas.is_empty() {
        return writeln!(out, "no schemas: no AvroConverter has registered any").map_err(io);
    }
    for subject in view.schemas {
        writeln!(out, "{} version {} id {}", subject.subject, subject.version, subject.id).map_err(io)?;
        let schema = serde_json::from_str::<serde_json::Value>(&subject.schema)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or(subject.schema);
        writeln!(out, "{schema}").map_err(io)?;
    }
    Ok(())
}

/// `kite connect tables`: each table as a text grid, NULL as `NULL`.
fn tables(server: &ServerArg, out: &mut impl Write) -> Result<(), String> {
    let view = describe(server)?;
    let io = |e: std::io::Error| e.to_string();
    if view.tables.is_empty() {
        return writeln!(out, "no tables: no JDBC sink has written any").map_err(io);
    }
    for table in view.tables {
        let header: Vec<String> = table
            .columns
            .iter()
            .map(|(name, _, key)| if *key { format!("{name}*") } else { name.clone() })
            .collect();
        let rows: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|row| row.iter().map(|c| c.clone().unwrap_or_else(|| "NULL".into())).collect())
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            padded.join(" | ").trim_end().to_string()
        };
        writeln!(out, "{}:{} ({} rows)", table.database, table.table, table.row_count).map_err(io)?;
        writeln!(out, "{}", line(&header)).map_err(io)?;
        for row in &rows {
            writeln!(out, "{}", line(row)).map_err(io)?;
        }
        if table.row_count > rows.len() as u64 {
            writeln!(out, "… {} more", table.row_count - rows.len() as u64).map_err(io)?;
        }
        writeln!(out).map_err(io)?;
    }
    Ok(())
}

/// The POST body from a file: JSON as it is, or a properties file's `key=value` lines (`#` and
/// `!` comments, blank lines skipped) as the config, its `name` the connector's.
fn create_body(file: &PathBuf) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()));
    }
    let mut config = serde_json::Map::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            return Err(format!("{} line {}: not key=value: {line}", file.display(), n + 1));
        };
        config.insert(key.trim().to_string(), serde_json::Value::String(value.trim().to_string()));
    }
    let name = config.get("name").cloned().ok_or_else(|| format!("{} has no name=… line", file.display()))?;
    Ok(serde_json::json!({ "name": name, "config": config }))
}
