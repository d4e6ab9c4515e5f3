//! Primitive encoders and decoders of the Kafka wire format.
//!
//! The generated message codecs (`protocol::messages`) are built from these. Reading works on
//! a [`ReadBuf`] that owns a [`Bytes`] slice of the received frame: `bytes` and `records` fields
//! come out as sub-slices of it, never copied. Every length or count read from the network is
//! checked against the bytes that are left before anything is allocated, and every failure names
//! the field being read.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

/// A malformed or truncated value, with the message field it was read for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {field}: {kind}")]
pub struct DecodeError {
    /// Dotted path of the field, e.g. `MetadataResponse.Topics.Partitions.LeaderId`.
    pub field: &'static str,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// What was wrong with a decoded value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The frame ended before the value did.
    #[error("needs {needed} more bytes but only {remaining} are left")]
    Truncated {
        /// Bytes the value needs.
        needed: usize,
        /// Bytes left in the frame.
        remaining: usize,
    },
    /// A length or count that is negative where that is not allowed.
    #[error("negative length {0}")]
    NegativeLength(i64),
    /// An array count that cannot fit in what is left of the frame.
    #[error(
        "count {count} of elements of at least {min_size} bytes exceeds the {remaining} bytes left"
    )]
    CountTooLarge {
        /// The count read.
        count: usize,
        /// Smallest encoding of one element.
        min_size: usize,
        /// Bytes left in the frame.
        remaining: usize,
    },
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A variable-length integer longer than its type allows.
    #[error("variable-length integer is too long")]
    VarintTooLong,
    /// Null where the field is not nullable.
    #[error("null is not allowed here")]
    UnexpectedNull,
    /// Bytes left over after the message was fully read.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// A value outside the field's domain (e.g. an unknown compression codec).
    #[error("invalid value: {0}")]
    Invalid(String),
}

impl DecodeError {
    /// Null in a non-nullable field.
    pub fn null(field: &'static str) -> Self {
        DecodeError {
            field,
            kind: DecodeErrorKind::UnexpectedNull,
        }
    }

    pub(crate) fn invalid(field: &'static str, what: impl Into<String>) -> Self {
        DecodeError {
            field,
            kind: DecodeErrorKind::Invalid(what.into()),
        }
    }
}

/// A value that cannot be encoded at the chosen version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The field is set to a non-default value but does not exist at this version.
    #[error("field {field} is not supported at version {version} of the API; leave it at its default or use a broker that supports a newer version")]
    FieldNotSupported {
        /// Dotted field path.
        field: &'static str,
        /// The negotiated version.
        version: i16,
    },
    /// The field is null but not nullable at this version.
    #[error("field {field} must not be null at version {version}")]
    NullNotAllowed {
        /// Dotted field path.
        field: &'static str,
        /// The negotiated version.
        version: i16,
    },
    /// A string, byte array or array longer than the wire format can carry.
    #[error("field {field} is too long to encode ({len} elements/bytes)")]
    TooLong {
        /// Dotted field path.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

/// Encode a message body at a version.
pub trait Encode {
    /// Append the encoding of `self` at `version` to `buf`.
    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError>;
}

/// Decode a message body at a version.
pub trait Decode: Sized {
    /// Read one value at `version` from `buf`.
    fn decode(buf: &mut ReadBuf, version: i16) -> Result<Self, DecodeError>;
}

/// A 128-bit UUID as Kafka uses for topic ids; shown in Kafka's URL-safe base64 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID Kafka uses for "no id".
    pub const ZERO: Uuid = Uuid([0; 16]);
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::with_capacity(22);
        for chunk in self.0.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// A cursor over a received frame; decoded `bytes` fields share its buffer.
#[derive(Debug, Clone, Default)]
pub struct ReadBuf {
    buf: Bytes,
}

macro_rules! fixed {
    ($($name:ident: $t:ty = $get:ident),* $(,)?) => {
        $(
            #[doc = concat!("Read a big-endian `", stringify!($t), "`.")]
            pub fn $name(&mut self, field: &'static str) -> Result<$t, DecodeError> {
                self.need(std::mem::size_of::<$t>(), field)?;
                Ok(self.buf.$get())
            }
        )*
    };
}

impl ReadBuf {
    /// Wrap a frame (or part of one).
    pub fn new(buf: Bytes) -> Self {
        ReadBuf { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unread bytes.
    pub fn into_bytes(self) -> Bytes {
        self.buf
    }

    fn need(&self, needed: usize, field: &'static str) -> Result<(), DecodeError> {
        if self.buf.len() < needed {
            return Err(DecodeError {
                field,
                kind: DecodeErrorKind::Truncated {
                    needed,
                    remaining: self.buf.len(),
                },
            });
        }
        Ok(())
    }

    /// Fail unless every byte was read.
    pub fn expect_end(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError {
                field,
                kind: DecodeErrorKind::TrailingBytes(self.buf.len()),
            })
        }
    }

    fixed! {
        i8: i8 = get_i8,
        i16: i16 = get_i16,
        u16: u16 = get_u16,
        i32: i32 = get_i32,
        u32: u32 = get_u32,
        i64: i64 = get_i64,
        f64: f64 = get_f64,
    }

    /// Read a boolean (any non-zero byte is true).
    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.i8(field)? != 0)
    }

    /// Read a 16-byte UUID.
    pub fn uuid(&mut self, field: &'static str) -> Result<Uuid, DecodeError> {
        self.need(16, field)?;
        let mut u = [0u8; 16];
        self.buf.copy_to_slice(&mut u);
        Ok(Uuid(u))
    }

    /// Take the next `len` bytes as a shared slice, no copy.
    pub fn take(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        self.need(len, field)?;
        Ok(self.buf.split_to(len))
    }

    /// Read an unsigned LEB128 varint of at most 32 bits.
    pub fn unsigned_varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let v = self.unsigned_varlong_bits(field, 5)?;
        u32::try_from(v).map_err(|_| DecodeError {
            field,
            kind: DecodeErrorKind::VarintTooLong,
        })
    }

    fn unsigned_varlong_bits(
        &mut self,
        field: &'static str,
        max_bytes: usize,
    ) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..max_bytes {
            self.need(1, field)?;
            let b = self.buf.get_u8();
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError {
            field,
            kind: DecodeErrorKind::VarintTooLong,
        })
    }

    /// Read a zig-zag varint (record fields).
    pub fn varint(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        let v = self.unsigned_varint(field)?;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }

    /// Read a zig-zag varlong (record fields).
    pub fn varlong(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let v = self.unsigned_varlong_bits(field, 10)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// Read a length prefix: `None` means null. Classic lengths are `i16`/`i32` with -1 for
    /// null; compact lengths are an unsigned varint of length + 1 with 0 for null.
    fn length(
        &mut self,
        flexible: bool,
        wide: bool,
        field: &'static str,
    ) -> Result<Option<usize>, DecodeError> {
        let n: i64 = if flexible {
            i64::from(self.unsigned_varint(field)?) - 1
        } else if wide {
            i64::from(self.i32(field)?)
        } else {
            i64::from(self.i16(field)?)
        };
        match n {
            -1 => Ok(None),
            n if n < -1 => Err(DecodeError {
                field,
                kind: DecodeErrorKind::NegativeLength(n),
            }),
            n => Ok(Some(n as usize)),
        }
    }

    /// Read a nullable string.
    pub fn nullable_string(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<Option<String>, DecodeError> {
        match self.length(flexible, false, field)? {
            None => Ok(None),
            Some(len) => {
                let raw = self.take(len, field)?;
                String::from_utf8(raw.to_vec())
                    .map(Some)
                    .map_err(|_| DecodeError {
                        field,
                        kind: DecodeErrorKind::InvalidUtf8,
                    })
            }
        }
    }

    /// Read a non-null string.
    pub fn string(&mut self, flexible: bool, field: &'static str) -> Result<String, DecodeError> {
        self.nullable_string(flexible, field)?
            .ok_or_else(|| DecodeError::null(field))
    }

    /// Read nullable bytes as a slice of the frame.
    pub fn nullable_bytes(
        &mut self,
        flexible: bool,
        field: &'static str,
    ) -> Result<Option<Bytes>, DecodeError> {
        match self.length(flexible, true, field)? {
            None => Ok(None),
            Some(len) => self.take(len, field).map(Some),
        }
    }

    /// Read non-null bytes as a slice of the frame.
    pub fn bytes(&mut self, flexible: bool, field: &'static str) -> Result<Bytes, DecodeError> {
        self.nullable_bytes(flexible, field)?
            .ok_or_else(|| DecodeError::null(field))
    }

    /// Read a nullable array whose elements each take at least `min_size` bytes. The count is
    /// checked against the remaining bytes before anything is reserved.
    pub fn array<T>(
        &mut self,
        flexible: bool,
        min_size: usize,
        field: &'static str,
        mut item: impl FnMut(&mut ReadBuf) -> Result<T, DecodeError>,
    ) -> Result<Option<Vec<T>>, DecodeError> {
        let Some(count) = self.length(flexible, true, field)? else {
            return Ok(None);
        };
        let min_size = min_size.max(1);
        if count > self.remaining() / min_size {
            return Err(DecodeError {
                field,
                kind: DecodeErrorKind::CountTooLarge {
                    count,
                    min_size,
                    remaining: self.remaining(),
                },
            });
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(item(self)?);
        }
        Ok(Some(out))
    }

    /// Read one tagged field: its tag and a cursor over exactly its bytes.
    pub fn tagged_field(&mut self, field: &'static str) -> Result<(u32, ReadBuf), DecodeError> {
        let tag = self.unsigned_varint(field)?;
        let size = self.unsigned_varint(field)? as usize;
        Ok((tag, ReadBuf::new(self.take(size, field)?)))
    }
}

/// Collects the known tagged fields of a structure, then writes them with the unknown ones.
#[derive(Default)]
pub struct TaggedFieldsWriter {
    fields: Vec<(u32, Bytes)>,
}

impl TaggedFieldsWriter {
    /// Add an encoded tagged field.
    pub fn push(&mut self, tag: u32, value: Bytes) {
        self.fields.push((tag, value));
    }

    /// Write the tagged-field section: count, then (tag, size, bytes) in tag order.
    pub fn write(mut self, buf: &mut BytesMut, unknown: &[(u32, Bytes)]) {
        self.fields.extend(unknown.iter().cloned());
        self.fields.sort_by_key(|(tag, _)| *tag);
        put_unsigned_varint(buf, self.fields.len() as u32);
        for (tag, value) in &self.fields {
            put_unsigned_varint(buf, *tag);
            put_unsigned_varint(buf, value.len() as u32);
            buf.put_slice(value);
        }
    }
}

/// Write an `i8`.
pub fn put_i8(buf: &mut BytesMut, v: i8) {
    buf.put_i8(v)
}
/// Write an `i16`.
pub fn put_i16(buf: &mut BytesMut, v: i16) {
    buf.put_i16(v)
}
/// Write a `u16`.
pub fn put_u16(buf: &mut BytesMut, v: u16) {
    buf.put_u16(v)
}
/// Write an `i32`.
pub fn put_i32(buf: &mut BytesMut, v: i32) {
    buf.put_i32(v)
}
/// Write a `u32`.
pub fn put_u32(buf: &mut BytesMut, v: u32) {
    buf.put_u32(v)
}
/// Write an `i64`.
pub fn put_i64(buf: &mut BytesMut, v: i64) {
    buf.put_i64(v)
}
/// Write an `f64`.
pub fn put_f64(buf: &mut BytesMut, v: f64) {
    buf.put_f64(v)
}
/// Write a boolean.
pub fn put_bool(buf: &mut BytesMut, v: bool) {
    buf.put_i8(i8::from(v))
}
/// Write a UUID.
pub fn put_uuid(buf: &mut BytesMut, v: Uuid) {
    buf.put_slice(&v.0)
}

/// Write an unsigned LEB128 varint.
pub fn put_unsigned_varint(buf: &mut BytesMut, mut v: u32) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// Write an unsigned LEB128 varlong.
pub fn put_unsigned_varlong(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// Write a zig-zag varint.
pub fn put_varint(buf: &mut BytesMut, v: i32) {
    put_unsigned_varint(buf, ((v << 1) ^ (v >> 31)) as u32)
}

/// Write a zig-zag varlong.
pub fn put_varlong(buf: &mut BytesMut, v: i64) {
    put_unsigned_varlong(buf, ((v << 1) ^ (v >> 63)) as u64)
}

/// Size of a zig-zag varint.
pub fn varint_size(v: i32) -> usize {
    let mut z = ((v << 1) ^ (v >> 31)) as u32;
    let mut n = 1;
    while z >= 0x80 {
        z >>= 7;
        n += 1;
    }
    n
}

/// Size of a zig-zag varlong.
pub fn varlong_size(v: i64) -> usize {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 1;
    while z >= 0x80 {
        z >>= 7;
        n += 1;
    }
    n
}

fn put_len(
    buf: &mut BytesMut,
    flexible: bool,
    wide: bool,
    len: usize,
    field: &'static str,
) -> Result<(), EncodeError> {
    let max = if wide || flexible {
        i32::MAX as usize - 1
    } else {
        i16::MAX as usize
    };
    if len > max {
        return Err(EncodeError::TooLong { field, len });
    }
    if flexible {
        put_unsigned_varint(buf, len as u32 + 1);
    } else if wide {
        buf.put_i32(len as i32);
    } else {
        buf.put_i16(len as i16);
    }
    Ok(())
}

/// Write a non-null string.
pub fn put_string(
    buf: &mut BytesMut,
    flexible: bool,
    v: &str,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, false, v.len(), field)?;
    buf.put_slice(v.as_bytes());
    Ok(())
}

/// Write a null string.
pub fn put_null_string(buf: &mut BytesMut, flexible: bool) {
    if flexible {
        buf.put_u8(0)
    } else {
        buf.put_i16(-1)
    }
}

/// Write non-null bytes.
pub fn put_bytes(
    buf: &mut BytesMut,
    flexible: bool,
    v: &[u8],
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, true, v.len(), field)?;
    buf.put_slice(v);
    Ok(())
}

/// Write null bytes.
pub fn put_null_bytes(buf: &mut BytesMut, flexible: bool) {
    if flexible {
        buf.put_u8(0)
    } else {
        buf.put_i32(-1)
    }
}

/// Write an array length.
pub fn put_array_len(
    buf: &mut BytesMut,
    flexible: bool,
    len: usize,
    field: &'static str,
) -> Result<(), EncodeError> {
    put_len(buf, flexible, true, len, field)
}

/// Write a null array.
pub fn put_null_array(buf: &mut BytesMut, flexible: bool) {
    put_null_bytes(buf, flexible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0i32, 1, -1, 63, -64, 64, 300, i32::MAX, i32::MIN] {
            let mut b = BytesMut::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_size(v));
            assert_eq!(ReadBuf::new(b.freeze()).varint("t").unwrap(), v);
        }
        for v in [0i64, -1, 1 << 40, i64::MAX, i64::MIN] {
            let mut b = BytesMut::new();
            put_varlong(&mut b, v);
            assert_eq!(b.len(), varlong_size(v));
            assert_eq!(ReadBuf::new(b.freeze()).varlong("t").unwrap(), v);
        }
    }

    #[test]
    fn huge_array_count_is_refused_before_allocation() {
        let mut b = BytesMut::new();
        b.put_i32(i32::MAX);
        b.put_i32(7);
        let err = ReadBuf::new(b.freeze())
            .array(false, 4, "Test.Items", |r| r.i32("Test.Items"))
            .unwrap_err();
        assert_eq!(err.field, "Test.Items");
        assert!(matches!(err.kind, DecodeErrorKind::CountTooLarge { .. }));
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let err = ReadBuf::new(Bytes::from_static(&[0xff; 11]))
            .varlong("x")
            .unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::VarintTooLong);
    }

    #[test]
    fn uuid_displays_as_kafka_base64() {
        // Kafka shows Uuid(0, 1) as "AAAAAAAAAAAAAAAAAAAAAQ".
        let mut u = [0u8; 16];
        u[15] = 1;
        assert_eq!(Uuid(u).to_string(), "AAAAAAAAAAAAAAAAAAAAAQ");
    }
}
