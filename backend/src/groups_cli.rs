//! `kite groups`, like kafka-consumer-groups against a running `kite serve`: list the groups,
//! describe one (its members and, per partition, CURRENT-OFFSET, LOG-END-OFFSET and LAG), reset
//! an inactive group's offsets (a dry run unless `--execute`), delete an empty group.

use std::io::Write;

use kite_shared::api::{Command, GroupOffset, GroupOffsetRow, Reply, ResetTarget};

use kite_backend::client::ApiClient;

use crate::cli::{Output, ServerArg, kafka_error};

#[derive(clap::Subcommand)]
pub(crate) enum GroupsCommand {
    /// List the consumer groups.
    List {
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Describe a group: each partition's committed offset, log end and lag, and its owner.
    Describe {
        group: String,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Move an inactive group's committed offsets for a topic (a dry run without --execute).
    ResetOffsets {
        group: String,
        #[arg(long)]
        topic: String,
        #[arg(long, group = "target")]
        to_earliest: bool,
        #[arg(long, group = "target")]
        to_latest: bool,
        #[arg(long, group = "target", value_name = "OFFSET")]
        to_offset: Option<i64>,
        /// The first offset at or after this time, in milliseconds since the epoch.
        #[arg(long, group = "target", value_name = "MS")]
        to_datetime: Option<i64>,
        /// Move each committed offset by N (negative: back).
        #[arg(long, group = "target", value_name = "N", allow_hyphen_values = true)]
        shift_by: Option<i64>,
        /// Apply the change (without it, only print what it would be).
        #[arg(long)]
        execute: bool,
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Delete an empty group and its committed offsets.
    Delete { group: String },
}

fn dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn describe_rows(group: &str, rows: &[GroupOffsetRow], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<20} {:<20} {:<10} {:<15} {:<15} {:<10} {:<40} {:<15} CLIENT-ID",
        "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<20} {:<20} {:<10} {:<15} {:<15} {:<10} {:<40} {:<15} {}",
            group,
            row.topic,
            row.partition,
            dash(row.current_offset),
            row.log_end_offset,
            dash(row.lag),
            dash(row.consumer_id.clone()),
            dash(row.host.clone()),
            dash(row.client_id.clone())
        )?;
    }
    // A read_committed member cannot read past the last stable offset: its lag counts to it.
    for row in rows.iter().filter(|row| row.read_committed) {
        writeln!(
            out,
            "{}-{}: its member reads committed, so LAG counts to the last stable offset {} (LOG-END-OFFSET {}).",
            row.topic, row.partition, row.last_stable_offset, row.log_end_offset
        )?;
    }
    Ok(())
}

fn reset_rows(group: &str, offsets: &[GroupOffset], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{:<20} {:<20} {:<10} NEW-OFFSET", "GROUP", "TOPIC", "PARTITION")?;
    for o in offsets {
        writeln!(out, "{:<20} {:<20} {:<10} {}", group, o.topic, o.partition, o.offset)?;
    }
    Ok(())
}

pub(crate) fn groups(command: GroupsCommand, server: &ServerArg, out: &mut impl Write) -> Result<(), String> {
    let mut connection = ApiClient::connect(&server.server)?;
    let io = |e: std::io::Error| e.to_string();
    match command {
        GroupsCommand::List { output } => match connection.request(Command::ListGroups)? {
            Reply::Groups { groups } => groups.iter().try_for_each(|g| match output {
                Output::Text => writeln!(out, "{}", g.group).map_err(io),
                Output::Json => writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "group": g.group, "state": g.state, "protocol_type": g.protocol_type })
                )
                .map_err(io),
            }),
            other => Err(kafka_error(other)),
        },
        GroupsCommand::Describe { group, output } => {
            match connection.request(Command::DescribeGroup { group: group.clone() })? {
                Reply::GroupDescribed { state, offsets, members, .. } => match output {
                    Output::Json => offsets.iter().try_for_each(|row| {
                        let line = serde_json::json!({
                            "group": group, "topic": row.topic, "partition": row.partition,
                            "current_offset": row.current_offset, "log_end_offset": row.log_end_offset,
                            "last_stable_offset": row.last_stable_offset,
                            "read_committed": row.read_committed,
                            "lag": row.lag, "consumer_id": row.consumer_id, "host": row.host,
                            "client_id": row.client_id, "state": state,
                        });
                        writeln!(out, "{line}").map_err(io)
                    }),
                    Output::Text => {
                        writeln!(out).map_err(io)?;
                        if members.is_empty() {
                            writeln!(out, "Consumer group '{group}' has no active members.").map_err(io)?;
                            writeln!(out).map_err(io)?;
                        }
                        describe_rows(&group, &offsets, out).map_err(io)
                    }
                },
                other => Err(kafka_error(other)),
            }
        }
        GroupsCommand::ResetOffsets {
            group,
            topic,
            to_earliest,
            to_latest,
            to_offset,
            to_datetime,
            shift_by,
            execute,
            output,
        } => {
            let to = match (to_earliest, to_latest, to_offset, to_datetime, shift_by) {
                (true, ..) => ResetTarget::Earliest,
                (_, true, ..) => ResetTarget::Latest,
                (_, _, Some(offset), ..) => ResetTarget::Offset { offset },
                (_, _, _, Some(timestamp_ms), _) => ResetTarget::Datetime { timestamp_ms },
                (.., Some(shift)) => ResetTarget::ShiftBy { shift },
                _ => {
                    return Err(
                        "One of the reset scenarios must be given: --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by"
                            .into(),
                    );
                }
            };
            match connection.request(Command::ResetOffsets { group: group.clone(), topic, to, execute })? {
                Reply::OffsetsReset { offsets, executed, .. } => match output {
                    Output::Json => offsets.iter().try_for_each(|o| {
                        let line = serde_json::json!({
                            "group": group, "topic": o.topic, "partition": o.partition,
                            "new_offset": o.offset, "executed": executed,
                        });
                        writeln!(out, "{line}").map_err(io)
                    }),
                    Output::Text => {
                        writeln!(out).map_err(io)?;
                        reset_rows(&group, &offsets, out).map_err(io)?;
                        if !executed {
                            writeln!(out, "\n(Dry run: nothing changed; add --execute to apply.)").map_err(io)?;
                        }
                        Ok(())
                    }
                },
                other => Err(kafka_error(other)),
            }
        }
        GroupsCommand::Delete { group } => match connection.request(Command::DeleteGroup { group: group.clone() })? {
            Reply::GroupDeleted { .. } => {
                writeln!(out, "Deletion of requested consumer groups ('{group}') was successful.").map_err(io)
            }
            other => Err(kafka_error(other)),
        },
    }
}
