//! The classic encoding of the coordinators' records (`__consumer_offsets`, `__transaction_state`,
//! transaction markers): big-endian integers, int16-length strings, int32-length bytes and
//! arrays, each read with a typed error naming its field and every count bounded by the bytes
//! left.

/// The most elements a decoded array may claim, so a corrupt count cannot make us allocate.
pub const MAX_DECODED_ARRAY_LEN: usize = 1 << 20;

/// Why bytes are not a valid record of this kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end inside a field.
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A version this decoder does not read.
    UnknownVersion {
        /// The kind of record.
        record: &'static str,
        /// The version it claims.
        version: i16,
    },
    /// A length or count that cannot be: negative where null is not allowed, or more than the
    /// bytes left could hold.
    BadLength {
        /// The field it belongs to.
        field: &'static str,
        /// The length it claims.
        length: i64,
    },
    /// A string that is not UTF-8.
    NotUtf8 {
        /// The field.
        field: &'static str,
    },
    /// Bytes left over after a whole record.
    TrailingBytes {
        /// The kind of record.
        record: &'static str,
        /// How many bytes are left over.
        count: usize,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated { field } => write!(f, "the bytes end inside {field}"),
            DecodeError::UnknownVersion { record, version } => {
                write!(f, "{record} has unknown version {version}")
            }
            DecodeError::BadLength { field, length } => write!(f, "{field} has impossible length {length}"),
            DecodeError::NotUtf8 { field } => write!(f, "{field} is not UTF-8"),
            DecodeError::TrailingBytes { record, count } => {
                write!(f, "{record} is followed by {count} stray bytes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

// ---- writing (Kafka's classic, non-flexible encoding: big-endian, int16 string lengths) ----

pub(crate) fn put_i16(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(crate) fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(crate) fn put_len(out: &mut Vec<u8>, len: usize) {
    put_i32(out, i32::try_from(len).unwrap_or(i32::MAX));
}
pub(crate) fn put_string(out: &mut Vec<u8>, s: &str) {
    // Kafka's strings are at most i16::MAX bytes; ours come from validated names.
    let bytes = &s.as_bytes()[..s.len().min(i16::MAX as usize)];
    put_i16(out, bytes.len() as i16);
    out.extend_from_slice(bytes);
}
pub(crate) fn put_nullable_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_string(out, s),
        None => put_i16(out, -1),
    }
}
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len());
    out.extend_from_slice(b);
}
pub(crate) fn put_nullable_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => put_bytes(out, b),
        None => put_i32(out, -1),
    }
}
pub(crate) fn put_topic_partitions(out: &mut Vec<u8>, list: &[(String, Vec<i32>)]) {
    put_len(out, list.len());
    for (topic, partitions) in list {
        put_string(out, topic);
        put_len(out, partitions.len());
        for &p in partitions {
            put_i32(out, p);
        }
    }
}

// ---- reading ----

/// Reads a coordinator record's fields in order, each error naming its field.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError::Truncated { field });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    pub(crate) fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    pub(crate) fn nullable_string(&mut self, field: &'static str) -> Result<Option<String>, DecodeError> {
        let len = self.i16(field)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| DecodeError::BadLength { field, length: len.into() })?;
        let bytes = self.take(len, field)?;
        String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| DecodeError::NotUtf8 { field })
    }
    pub(crate) fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.nullable_string(field)?.ok_or(DecodeError::BadLength { field, length: -1 })
    }
    pub(crate) fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
        let len = self.i32(field)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| DecodeError::BadLength { field, length: len.into() })?;
        Ok(Some(self.take(len, field)?.to_vec()))
    }
    pub(crate) fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        self.nullable_bytes(field)?.ok_or(DecodeError::BadLength { field, length: -1 })
    }
    /// An array count, bounded by what could possibly follow (each element ≥ `min_element_bytes`).
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        min_element_bytes: usize,
    ) -> Result<usize, DecodeError> {
        let count = self.i32(field)?;
        let bad = DecodeError::BadLength { field, length: count.into() };
        let count = usize::try_from(count).map_err(|_| bad.clone())?;
        if count > MAX_DECODED_ARRAY_LEN || count.saturating_mul(min_element_bytes) > self.bytes.len() {
            return Err(bad);
        }
        Ok(count)
    }
    pub(crate) fn topic_partitions(
        &mut self,
        field: &'static str,
    ) -> Result<Vec<(String, Vec<i32>)>, DecodeError> {
        let topics = self.count(field, 6)?;
        let mut out = Vec::with_capacity(topics);
        for _ in 0..topics {
            let topic = self.string(field)?;
            let n = self.count(field, 4)?;
            let mut partitions = Vec::with_capacity(n);
            for _ in 0..n {
                partitions.push(self.i32(field)?);
            }
            out.push((topic, partitions));
        }
        Ok(out)
    }
    pub(crate) fn finish(self, record: &'static str) -> Result<(), DecodeError> {
        match self.bytes.len() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { record, count }),
        }
    }
}
