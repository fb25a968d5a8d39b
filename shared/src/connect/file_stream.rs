//! How FileStreamSource's task cuts a file into lines from its position (Kafka's
//! `FileStreamSourceTask`); FileStreamSink writes each record's value on a line (`task`).

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
}
