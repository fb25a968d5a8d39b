//! Kafka's variable-length integers in record bodies: zigzag-encoded (protobuf `sint32`/`sint64`),
//! seven bits per byte, low group first, high bit = "more follows".
//!
//! These are not the protocol's unsigned "compact" lengths, which are plain varints of `length + 1`.

use super::batch::BatchError;

/// Longest varint for an i32 (Kafka's `ByteUtils.readVarint` rejects a sixth byte).
pub const MAX_VARINT_BYTES: usize = 5;
/// Longest varint for an i64.
pub const MAX_VARLONG_BYTES: usize = 10;

/// Appends `value` zigzag-encoded. An i32 encodes to the same bytes as its i64 sign extension,
/// so one writer serves both `varint` and `varlong` fields.
pub fn write_varlong(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

/// Appends `value` zigzag-encoded, as a record's varint fields (offsetDelta, lengths) hold it.
pub fn write_varint(out: &mut Vec<u8>, value: i32) {
    write_varlong(out, i64::from(value));
}

/// The number of bytes `write_varlong(value)` appends.
pub fn varlong_len(value: i64) -> usize {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    let bits = 64 - zigzag.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// The number of bytes `write_varint(value)` appends: 1 to 5.
pub fn varint_len(value: i32) -> usize {
    varlong_len(i64::from(value))
}

/// A cursor over a record body that reads Kafka's field types, never past its end.
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn read_raw(&mut self, max_bytes: usize, field: &'static str) -> Result<u64, BatchError> {
        let mut raw: u64 = 0;
        for index in 0..max_bytes {
            let Some(&byte) = self.bytes.get(self.position) else {
                return Err(BatchError::Truncated { field, needed: 1, available: 0 });
            };
            self.position += 1;
            raw |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(raw);
            }
        }
        Err(BatchError::VarintTooLong { field })
    }

    /// A zigzag varlong of at most 10 bytes (timestampDelta); `field` names it in errors.
    pub fn varlong(&mut self, field: &'static str) -> Result<i64, BatchError> {
        let raw = self.read_raw(MAX_VARLONG_BYTES, field)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A zigzag varint of at most 5 bytes that fits an i32; `field` names it in errors.
    pub fn varint(&mut self, field: &'static str) -> Result<i32, BatchError> {
        let raw = self.read_raw(MAX_VARINT_BYTES, field)?;
        // Five groups carry 35 bits; an i32's zigzag form has 32.
        let raw = u32::try_from(raw).map_err(|_| BatchError::VarintTooLong { field })?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// One signed byte (a record's attributes); `field` names it in errors.
    pub fn i8(&mut self, field: &'static str) -> Result<i8, BatchError> {
        Ok(self.bytes(1, field)?[0] as i8)
    }

    /// `len` bytes, checked against what is left before anything is allocated.
    pub fn bytes(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], BatchError> {
        if len > self.remaining() {
            return Err(BatchError::Truncated { field, needed: len, available: self.remaining() });
        }
        let slice = &self.bytes[self.position..self.position + len];
        self.position += len;
        Ok(slice)
    }

    /// A varint length then that many bytes; −1 is null. Other negative lengths are refused.
    pub fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, BatchError> {
        match self.varint(field)? {
            -1 => Ok(None),
            len if len < 0 => Err(BatchError::NegativeLength { field, len }),
            len => self.bytes(len as usize, field).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_examples() {
        // (value, bytes) from the protobuf sint encoding Kafka uses.
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-2, &[0x03]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (i64::from(i32::MAX), &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i64::from(i32::MIN), &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for &(value, bytes) in cases {
            let mut out = Vec::new();
            write_varlong(&mut out, value);
            assert_eq!(out, bytes, "encode {value}");
            assert_eq!(varlong_len(value), bytes.len(), "length of {value}");
            assert_eq!(Reader::new(bytes).varlong("test").unwrap(), value, "decode {value}");
            if let Ok(small) = i32::try_from(value) {
                assert_eq!(Reader::new(bytes).varint("test").unwrap(), small);
            }
        }
    }

    #[test]
    fn extremes_round_trip() {
        for value in [i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1] {
            let mut out = Vec::new();
            write_varlong(&mut out, value);
            assert_eq!(out.len(), MAX_VARLONG_BYTES);
            assert_eq!(Reader::new(&out).varlong("test").unwrap(), value);
        }
    }

    #[test]
    fn overlong_and_truncated_varints_are_errors() {
        let six = [0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(Reader::new(&six).varint("f"), Err(BatchError::VarintTooLong { field: "f" }));
        // Five bytes but more than 32 bits of zigzag payload.
        let wide = [0xff, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(Reader::new(&wide).varint("f"), Err(BatchError::VarintTooLong { field: "f" }));
        let eleven = [0x80; 11];
        assert_eq!(Reader::new(&eleven).varlong("f"), Err(BatchError::VarintTooLong { field: "f" }));
        assert!(matches!(Reader::new(&[0x80]).varint("f"), Err(BatchError::Truncated { .. })));
        assert!(matches!(Reader::new(&[]).varint("f"), Err(BatchError::Truncated { .. })));
    }
}
