//! The record-batch compression codecs, all pure Rust, in the exact framings the Java client
//! writes and reads:
//!
//! | codec  | crate      | framing written                                           | read |
//! |--------|------------|-----------------------------------------------------------|------|
//! | gzip   | `flate2` (miniz_oxide) | one gzip member                              | concatenated members |
//! | snappy | `snap`     | xerial (`\x82SNAPPY\0`, version 1, compat 1, 32 KiB blocks) | xerial or raw |
//! | lz4    | `lz4_flex` | LZ4 frame, 64 KiB independent blocks (KafkaLZ4BlockOutputStream) | LZ4 frame |
//! | zstd   | `ruzstd`   | one zstd frame at level "fastest" (≈ zstd level 1)       | one or more frames |
//!
//! Decompression is bounded: output beyond `max_output` bytes is an error, never an allocation.

use std::io::{Read, Write};

/// The compression codec of a record batch (attribute bits 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// gzip (codec 1).
    Gzip,
    /// snappy (codec 2).
    Snappy,
    /// lz4 (codec 3).
    Lz4,
    /// zstd (codec 4).
    Zstd,
}

impl Compression {
    /// The codec for attribute bits 0–2.
    pub fn from_attributes(attributes: i16) -> Result<Self, CompressionError> {
        match attributes & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(CompressionError::UnknownCodec(other as u8)),
        }
    }

    /// The attribute bits for this codec.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The name used by `compression.type` (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = CompressionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            other => Err(CompressionError::UnknownName(other.to_owned())),
        }
    }
}

/// A failure to compress or decompress.
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    /// Attribute bits name no codec.
    #[error("unknown compression codec id {0} in batch attributes")]
    UnknownCodec(u8),
    /// `compression.type` names no codec.
    #[error("unknown compression type {0:?}; expected one of none, gzip, snappy, lz4, zstd")]
    UnknownName(String),
    /// Output grew past the configured bound.
    #[error("{codec} data decompresses to more than the limit of {limit} bytes")]
    TooLarge {
        /// Codec name.
        codec: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The compressed data is corrupt.
    #[error("corrupt {codec} data: {detail}")]
    Corrupt {
        /// Codec name.
        codec: &'static str,
        /// What the codec reported.
        detail: String,
    },
}

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_BLOCK: usize = 32 * 1024;

fn corrupt(codec: &'static str, e: impl std::fmt::Display) -> CompressionError {
    CompressionError::Corrupt {
        codec,
        detail: e.to_string(),
    }
}

/// Compress `data` with `codec`.
pub fn compress(codec: Compression, data: &[u8]) -> Vec<u8> {
    match codec {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(data);
            enc.finish().unwrap_or_default()
        }
        Compression::Snappy => {
            let mut out = Vec::with_capacity(16 + data.len() / 2);
            out.extend_from_slice(&XERIAL_MAGIC);
            out.extend_from_slice(&1i32.to_be_bytes());
            out.extend_from_slice(&1i32.to_be_bytes());
            let mut enc = snap::raw::Encoder::new();
            for block in data.chunks(XERIAL_BLOCK) {
                // A block within snap's input limit always compresses.
                let c = enc.compress_vec(block).unwrap_or_default();
                out.extend_from_slice(&(c.len() as i32).to_be_bytes());
                out.extend_from_slice(&c);
            }
            out
        }
        Compression::Lz4 => {
            let info = lz4_flex::frame::FrameInfo::new()
                .block_size(lz4_flex::frame::BlockSize::Max64KB)
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
            let _ = enc.write_all(data);
            enc.finish().unwrap_or_default()
        }
        Compression::Zstd => {
            ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
        }
    }
}

/// Read all of `reader`, failing once more than `limit` bytes come out.
fn read_bounded(
    reader: impl Read,
    codec: &'static str,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let budget = (limit - out.len().min(limit)) as u64 + 1;
    reader
        .take(budget)
        .read_to_end(out)
        .map_err(|e| corrupt(codec, e))?;
    if out.len() > limit {
        return Err(CompressionError::TooLarge { codec, limit });
    }
    Ok(())
}

/// Decompress `data` with `codec`, producing at most `max_output` bytes.
pub fn decompress(
    codec: Compression,
    data: &[u8],
    max_output: usize,
) -> Result<Vec<u8>, CompressionError> {
    let mut out = Vec::new();
    match codec {
        Compression::None => {
            if data.len() > max_output {
                return Err(CompressionError::TooLarge {
                    codec: "none",
                    limit: max_output,
                });
            }
            out.extend_from_slice(data);
        }
        Compression::Gzip => {
            read_bounded(
                flate2::read::MultiGzDecoder::new(data),
                "gzip",
                max_output,
                &mut out,
            )?;
        }
        Compression::Snappy => snappy_decompress(data, max_output, &mut out)?,
        Compression::Lz4 => {
            read_bounded(
                lz4_flex::frame::FrameDecoder::new(data),
                "lz4",
                max_output,
                &mut out,
            )?;
        }
        Compression::Zstd => {
            let mut rest = data;
            while !rest.is_empty() {
                let dec = ruzstd::decoding::StreamingDecoder::new(&mut rest)
                    .map_err(|e| corrupt("zstd", e))?;
                read_bounded(dec, "zstd", max_output, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn snappy_raw_block(
    block: &[u8],
    max_output: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let len = snap::raw::decompress_len(block).map_err(|e| corrupt("snappy", e))?;
    if out.len() + len > max_output {
        return Err(CompressionError::TooLarge {
            codec: "snappy",
            limit: max_output,
        });
    }
    let start = out.len();
    out.resize(start + len, 0);
    snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| corrupt("snappy", e))?;
    Ok(())
}

fn snappy_decompress(
    data: &[u8],
    max_output: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    if !data.starts_with(&XERIAL_MAGIC) {
        return snappy_raw_block(data, max_output, out);
    }
    // Skip magic, version and compatible version.
    let mut rest = data
        .get(16..)
        .ok_or_else(|| corrupt("snappy", "truncated xerial header"))?;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt("snappy", "truncated xerial block length"))?;
        let len = i32::from_be_bytes(*len);
        let len =
            usize::try_from(len).map_err(|_| corrupt("snappy", "negative xerial block length"))?;
        let block = tail
            .get(..len)
            .ok_or_else(|| corrupt("snappy", "xerial block longer than the data"))?;
        snappy_raw_block(block, max_output, out)?;
        rest = &tail[len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    #[test]
    fn every_codec_round_trips() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 1000) as u8)
            .collect();
        for codec in ALL {
            let c = compress(codec, &data);
            assert_eq!(
                decompress(codec, &c, data.len()).unwrap(),
                data,
                "{codec:?}"
            );
        }
    }

    #[test]
    fn output_beyond_the_limit_is_refused() {
        let data = vec![0u8; 1 << 20];
        for codec in ALL {
            let c = compress(codec, &data);
            let err = decompress(codec, &c, 1000).unwrap_err();
            assert!(
                matches!(err, CompressionError::TooLarge { .. }),
                "{codec:?}: {err}"
            );
        }
    }

    #[test]
    fn raw_snappy_is_accepted() {
        let data = b"hello hello hello hello".repeat(10);
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decompress(Compression::Snappy, &raw, 10_000).unwrap(), data);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for codec in ALL {
            let _ = decompress(codec, &[0x82, b'S', 1, 2, 3, 0xff, 0xff, 0xff], 1 << 20);
        }
    }
}
