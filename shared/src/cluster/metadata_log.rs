//! `describe_metadata_log`: one KRaft controller's copy of `__cluster_metadata`, entry by entry,
//! as `kafka-dump-log --cluster-metadata-decoder` prints a controller's segment.

use crate::api::{DEFAULT_METADATA_LOG_ENTRIES, MAX_METADATA_LOG_ENTRIES, MetadataEntryView, Reply};
use crate::error::{ErrorCode, KafkaError};
use crate::replication::kraft::Controllers;
use crate::replication::quorum::VoterId;

/// Entries of `controller`'s log (the active one's, or with none active the running voter with
/// the longest log) from `from_offset` (the last `max_entries` when not given).
pub fn describe(
    quorum: &Controllers,
    controller: Option<VoterId>,
    from_offset: Option<i64>,
    max_entries: Option<u32>,
) -> Result<Reply, KafkaError> {
    let id = match controller {
        Some(id) if quorum.ids().contains(&id) => id,
        Some(id) => {
            let last = quorum.ids().len().saturating_sub(1);
            return Err(KafkaError::new(
                ErrorCode::InvalidRequest,
                format!("There is no controller {id}: controllers are 0 to {last}."),
            ));
        }
        None => quorum.active().or_else(|| longest_log(quorum)).unwrap_or(0),
    };
    let node = quorum.node(id).ok_or_else(|| KafkaError::new(ErrorCode::InvalidRequest, "No controller."))?;
    let start = node.snapshot().map_or(0, |s| s.end_offset);
    let end = start + node.log().len() as i64;
    let max =
        i64::from(max_entries.unwrap_or(DEFAULT_METADATA_LOG_ENTRIES).clamp(1, MAX_METADATA_LOG_ENTRIES));
    let from = match from_offset {
        None => (end - max).max(start),
        Some(offset) if offset < start => {
            return Err(KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!(
                    "Offset {offset} of controller-{id}'s metadata log is in its snapshot: the log starts at {start}."
                ),
            ));
        }
        Some(offset) if offset > end => {
            return Err(KafkaError::new(
                ErrorCode::OffsetOutOfRange,
                format!("Offset {offset} is past the end of controller-{id}'s metadata log ({end})."),
            ));
        }
        Some(offset) => offset,
    };
    let entries = node.log()[(from - start) as usize..((from + max).min(end) - start) as usize]
        .iter()
        .zip(from..)
        .map(|(entry, offset)| MetadataEntryView {
            offset,
            epoch: entry.epoch,
            record_type: entry.record.as_ref().map_or("LeaderChangeMessage", |r| r.kafka_name()).to_string(),
            record: entry.record.clone(),
        })
        .collect();
    Ok(Reply::MetadataLogDescribed {
        controller: id,
        log_start_offset: start,
        high_watermark: node.high_watermark(),
        log_end_offset: end,
        entries,
    })
}

/// The running voter with the longest log (the lowest id of those), if any runs.
fn longest_log(quorum: &Controllers) -> Option<VoterId> {
    let length = |id: VoterId| quorum.voter(id).map_or(0, |(_, _, end, _)| end);
    quorum.ids().iter().copied().filter(|&id| quorum.is_running(id)).max_by_key(|&id| (length(id), -id))
}
