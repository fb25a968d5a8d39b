//! The four codecs a RecordBatch's records may be compressed with, framed exactly as Kafka's Java
//! client frames them, all in pure Rust so the same code runs in the browser tab:
//! gzip (flate2), snappy with xerial's stream framing (snap), lz4 frames (lz4_flex), zstd (ruzstd).

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::batch::BatchError;

/// A batch's codec (attribute bits 0–2), by Kafka's `compression.type` names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Records stored as they are (id 0).
    #[default]
    None,
    /// gzip (id 1).
    Gzip,
    /// snappy in xerial snappy-java's stream framing (id 2).
    Snappy,
    /// LZ4 frames (id 3).
    Lz4,
    /// Zstandard (id 4).
    Zstd,
}

impl Compression {
    /// Every codec, in id order.
    pub const ALL: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    /// The codec's id in the batch attributes' low three bits.
    pub fn id(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec with this attributes id; `None` for an id Kafka does not define.
    pub fn from_id(id: i16) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The name Kafka's `compression.type` uses.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// The codec `compression.type` names (lowercase, exact); `None` for any other name.
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// xerial snappy-java's stream header: magic, version 1, minimum compatible version 1.
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_BYTES: usize = 16;
/// snappy-java's default block size, which Kafka's producer uses.
const XERIAL_BLOCK_BYTES: usize = 32 * 1024;

/// Compresses `data` as Kafka's producer would for `codec`.
pub fn compress(codec: Compression, data: &[u8]) -> Result<Vec<u8>, String> {
    match codec {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            // Kafka's default gzip level is Deflater's default, 6, which is flate2's default too.
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(data).map_err(|e| e.to_string())?;
            encoder.finish().map_err(|e| e.to_string())
        }
        Compression::Snappy => {
            let mut out = Vec::with_capacity(XERIAL_HEADER_BYTES + snap::raw::max_compress_len(data.len()));
            out.extend_from_slice(&XERIAL_MAGIC);
            out.extend_from_slice(&1_i32.to_be_bytes());
            out.extend_from_slice(&1_i32.to_be_bytes());
            let mut encoder = snap::raw::Encoder::new();
            for block in data.chunks(XERIAL_BLOCK_BYTES) {
                let compressed = encoder.compress_vec(block).map_err(|e| e.to_string())?;
                let len = i32::try_from(compressed.len()).map_err(|e| e.to_string())?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&compressed);
            }
            Ok(out)
        }
        Compression::Lz4 => {
            // Kafka's KafkaLZ4BlockOutputStream: 64 KiB independent blocks, no checksums.
            let info = lz4_flex::frame::FrameInfo::new()
                .block_size(lz4_flex::frame::BlockSize::Max64KB)
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
            encoder.write_all(data).map_err(|e| e.to_string())?;
            encoder.finish().map_err(|e| e.to_string())
        }
        Compression::Zstd => {
            Ok(ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest))
        }
    }
}

/// Decompresses a batch's records, refusing to produce more than `max_bytes`.
pub fn decompress(codec: Compression, data: &[u8], max_bytes: usize) -> Result<Vec<u8>, BatchError> {
    let corrupt = |reason: String| BatchError::Decompression { codec, reason };
    let too_large = BatchError::DecompressedTooLarge { codec, max_bytes };
    let read_bounded = |reader: &mut dyn Read| -> Result<Vec<u8>, BatchError> {
        let mut out = Vec::new();
        reader.take(max_bytes as u64 + 1).read_to_end(&mut out).map_err(|e| corrupt(e.to_string()))?;
        if out.len() > max_bytes { Err(too_large.clone()) } else { Ok(out) }
    };
    match codec {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => read_bounded(&mut flate2::read::MultiGzDecoder::new(data)),
        Compression::Lz4 => read_bounded(&mut lz4_flex::frame::FrameDecoder::new(data)),
        Compression::Zstd => {
            let mut out = Vec::new();
            let mut rest = data;
            // A stream may hold several frames; each is bounded by what is still allowed.
            while !rest.is_empty() {
                let window = max_bytes as u64;
                let mut decoder =
                    ruzstd::decoding::StreamingDecoder::new_with_max_window_size(&mut rest, window)
                        .map_err(|e| corrupt(e.to_string()))?;
                let allowed = (max_bytes - out.len()) as u64 + 1;
                (&mut decoder).take(allowed).read_to_end(&mut out).map_err(|e| corrupt(e.to_string()))?;
                if out.len() > max_bytes {
                    return Err(too_large);
                }
            }
            Ok(out)
        }
        Compression::Snappy => {
            if data.len() >= XERIAL_HEADER_BYTES && data[..8] == XERIAL_MAGIC {
                decompress_xerial(&data[XERIAL_HEADER_BYTES..], max_bytes).map_err(|e| match e {
                    SnappyError::Corrupt(reason) => corrupt(reason),
                    SnappyError::TooLarge => too_large.clone(),
                })
            } else {
                // librdkafka and some clients send one raw snappy block; snappy-java reads both.
                decompress_snappy_block(data, max_bytes).map_err(|e| match e {
                    SnappyError::Corrupt(reason) => corrupt(reason),
                    SnappyError::TooLarge => too_large.clone(),
                })
            }
        }
    }
}

enum SnappyError {
    Corrupt(String),
    TooLarge,
}

fn decompress_snappy_block(block: &[u8], max_bytes: usize) -> Result<Vec<u8>, SnappyError> {
    let len = snap::raw::decompress_len(block).map_err(|e| SnappyError::Corrupt(e.to_string()))?;
    if len > max_bytes {
        return Err(SnappyError::TooLarge);
    }
    snap::raw::Decoder::new().decompress_vec(block).map_err(|e| SnappyError::Corrupt(e.to_string()))
}

fn decompress_xerial(mut blocks: &[u8], max_bytes: usize) -> Result<Vec<u8>, SnappyError> {
    let mut out = Vec::new();
    while !blocks.is_empty() {
        if blocks.len() < 4 {
            return Err(SnappyError::Corrupt("truncated xerial block length".into()));
        }
        let len = i32::from_be_bytes([blocks[0], blocks[1], blocks[2], blocks[3]]);
        let len =
            usize::try_from(len).map_err(|_| SnappyError::Corrupt(format!("negative block length {len}")))?;
        let block = blocks
            .get(4..4 + len)
            .ok_or_else(|| SnappyError::Corrupt(format!("xerial block of {len} bytes is truncated")))?;
        out.extend(decompress_snappy_block(block, max_bytes - out.len())?);
        blocks = &blocks[4 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        // Compressible and long enough to span several snappy and lz4 blocks.
        (0..200_000_u32).flat_map(|i| format!("record-{} ", i % 977).into_bytes()).collect()
    }

    #[test]
    fn every_codec_round_trips() {
        let data = sample();
        for codec in Compression::ALL {
            let compressed = compress(codec, &data).unwrap();
            if codec != Compression::None {
                assert!(compressed.len() < data.len() / 2, "{} should compress this", codec.name());
            }
            assert_eq!(decompress(codec, &compressed, data.len()).unwrap(), data, "{}", codec.name());
        }
    }

    #[test]
    fn output_is_bounded() {
        let data = sample();
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            let compressed = compress(codec, &data).unwrap();
            let err = decompress(codec, &compressed, data.len() - 1).unwrap_err();
            assert_eq!(
                err,
                BatchError::DecompressedTooLarge { codec, max_bytes: data.len() - 1 },
                "{}",
                codec.name()
            );
        }
    }

    #[test]
    fn snappy_uses_xerial_framing_and_reads_raw_blocks() {
        let compressed = compress(Compression::Snappy, b"hello hello hello").unwrap();
        assert_eq!(&compressed[..16], b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01");
        let raw = snap::raw::Encoder::new().compress_vec(b"hello hello hello").unwrap();
        assert_eq!(decompress(Compression::Snappy, &raw, 100).unwrap(), b"hello hello hello");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            for garbage in [
                &b"\x00\x01\x02\x03garbage"[..],
                &[0xff; 64],
                b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x7f\xff\xff\xff",
            ] {
                assert!(decompress(codec, garbage, 1 << 20).is_err(), "{} accepted garbage", codec.name());
            }
        }
    }
}
