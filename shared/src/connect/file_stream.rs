//! What FileStreamSource's and FileStreamSink's tasks do with bytes: a source cuts a file into
//! lines from its position (Kafka's `FileStreamSourceTask`), a sink writes each record's value
//! as a line (`FileStreamSinkTask`).

use super::converter::{Converter, Data};
use crate::record::batch::{BatchRecord, RecordBatch};

/// Lines cut from bytes read at a position, and the position after the last one.
#[derive(Debug, PartialEq, Eq)]
pub struct Lines {
    /// Each line without its terminator (UTF-8; invalid bytes replaced).
    pub lines: Vec<String>,
    /// The byte just after the last line's terminator: where the next read starts, and the
    /// source offset (`{"position": N}`) once the lines are acknowledged.
    pub next_position: u64,
}

/// Cuts complete lines out of `bytes` (read at `position`), at most `max_lines`: `\n`, `\r\n`
/// or a lone `\r` ends a line, a `\r` at the very end waits for the next byte, and a last line
/// without its terminator waits for it — as Kafka's task does. Kafka counts the position in
/// characters and then skips that many bytes at a restart; Kite counts bytes.
pub fn split_lines(bytes: &[u8], position: u64, max_lines: usize) -> Lines {
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() && lines.len() < max_lines {
        let end_of_line = match bytes[i] {
            b'\n' => Some(i + 1),
            b'\r' if i + 1 < bytes.len() => Some(if bytes[i + 1] == b'\n' { i + 2 } else { i + 1 }),
            _ => None,
        };
        match end_of_line {
            Some(next) => {
                lines.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
                start = next;
                i = next;
            }
            None if bytes[i] == b'\r' => break,
            None => i += 1,
        }
    }
    Lines { lines, next_position: position + start as u64 }
}

/// Kafka's producer `batch.size` default: records are sent in batches of about this many bytes.
pub const PRODUCER_BATCH_SIZE_BYTES: usize = 16_384;

/// The source records of `lines` (a null key, the line as a string value), converted and put in
/// record batches of about `PRODUCER_BATCH_SIZE_BYTES`, as Connect's producer sends them.
pub fn source_batches(
    lines: &[String],
    key: Converter,
    value: Converter,
    now_ms: i64,
) -> Result<Vec<u8>, String> {
    let key_bytes = key.serialize(&Data::Null)?;
    let mut payload = Vec::new();
    let mut records = Vec::new();
    let mut bytes_in_batch = 0;
    for line in lines {
        let value = value.serialize(&Data::String(line.clone()))?;
        bytes_in_batch += value.as_ref().map_or(0, Vec::len);
        records.push(BatchRecord {
            offset_delta: records.len() as i32,
            key: key_bytes.clone(),
            value,
            ..BatchRecord::default()
        });
        if bytes_in_batch >= PRODUCER_BATCH_SIZE_BYTES {
            payload.extend(encode(now_ms, std::mem::take(&mut records))?);
            bytes_in_batch = 0;
        }
    }
    if !records.is_empty() {
        payload.extend(encode(now_ms, records)?);
    }
    Ok(payload)
}

fn encode(now_ms: i64, records: Vec<BatchRecord>) -> Result<Vec<u8>, String> {
    RecordBatch::new(now_ms, records).encode().map_err(|e| format!("cannot encode a record batch: {e:?}"))
}

/// A record's value as FileStreamSink writes it: the converter reads it, and the value goes on a
/// line of its own (`null` for a null value, as Java's `println` prints one).
pub fn sink_line(value: Converter, bytes: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut line = value.deserialize(bytes)?.to_line();
    line.push(b'\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, max: usize) -> (Vec<String>, u64) {
        let Lines { lines, next_position } = split_lines(text.as_bytes(), 10, max);
        (lines, next_position)
    }

    #[test]
    fn lines_end_at_newlines_carriage_returns_or_both() {
        assert_eq!(cut("a\nb\r\nc\rd", 10), (vec!["a".to_string(), "b".into(), "c".into()], 17));
        assert_eq!(cut("\n\nx", 10), (vec![String::new(), String::new()], 12), "empty lines are records too");
        assert_eq!(cut("a\r", 10), (Vec::<String>::new(), 10), "a \\r at the end waits: \\r\\n may follow");
        assert_eq!(cut("a\nb\nc\n", 2), (vec!["a".to_string(), "b".into()], 14));
        assert_eq!(cut("no newline yet", 10), (Vec::<String>::new(), 10));
    }

    #[test]
    fn source_lines_become_batches_and_sink_lines_come_back() {
        let lines: Vec<String> = (0..1000).map(|i| format!("line {i} {}", "x".repeat(40))).collect();
        let json = Converter::Json { schemas_enable: true };
        let payload = source_batches(&lines, json, json, 1_700_000_000_000).unwrap();
        let mut rest = payload.as_slice();
        let mut values = Vec::new();
        while !rest.is_empty() {
            let (batch, used) = RecordBatch::decode(rest).unwrap();
            assert!(batch.records.iter().all(|r| r.key.is_none()));
            values.extend(batch.records.into_iter().map(|r| r.value));
            rest = &rest[used..];
        }
        assert_eq!(values.len(), 1000);
        assert!(payload.len() > 4 * PRODUCER_BATCH_SIZE_BYTES, "several batches");
        assert_eq!(sink_line(json, values[7].as_deref()).unwrap(), format!("{}\n", lines[7]).into_bytes());
        assert_eq!(sink_line(json, None).unwrap(), b"null\n");
    }
}
