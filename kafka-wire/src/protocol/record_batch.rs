//! RecordBatch v2 (magic 2), the on-disk and on-wire format of Kafka records since 0.11.
//!
//! Reading hands out keys, values and header values as [`Bytes`] slices of the fetched buffer
//! (or of the decompressed buffer for compressed batches): no per-record copy. The CRC32C of
//! every batch is checked before any record is read. Writing produces the exact layout the Java
//! client does, with the compression codecs of [`super::compression`].
//!
//! ```text
//! baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 = 2 | crc u32
//! | attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64
//! | producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records...
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::compression::{self, Compression, CompressionError};
use super::wire::{self, DecodeError, ReadBuf};

/// Bytes from the start of a batch to the end of its `batchLength` field.
pub const BATCH_OVERHEAD: usize = 12;
/// Size of the fixed batch header (up to and including the record count).
pub const BATCH_HEADER_SIZE: usize = 61;
const CRC_OFFSET: usize = 17; // after baseOffset, batchLength, leaderEpoch, magic
const ATTRIBUTES_OFFSET: usize = 21;

/// Attribute bit 3: timestamps are LogAppendTime (set by the broker), not CreateTime.
const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;
const DELETE_HORIZON_BIT: i16 = 0x40;

/// Where a record's timestamp came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// Set by the producer (`CreateTime`).
    #[default]
    CreateTime,
    /// Set by the broker when it appended the batch (`LogAppendTime`).
    LogAppendTime,
}

/// A record header: a string key and an optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The key, UTF-8 by Kafka's contract (checked on read).
    pub key: Bytes,
    /// The value; `None` is a null header value.
    pub value: Option<Bytes>,
}

impl Header {
    /// A header from a string key and a value.
    pub fn new(key: impl Into<String>, value: Option<impl Into<Bytes>>) -> Self {
        Header {
            key: Bytes::from(key.into()),
            value: value.map(Into::into),
        }
    }

    /// The key as text.
    pub fn key_str(&self) -> &str {
        // Checked to be UTF-8 when decoded; built from a String otherwise.
        std::str::from_utf8(&self.key).unwrap_or("")
    }
}

/// One record with its absolute offset and timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Absolute offset (base offset + offset delta).
    pub offset: i64,
    /// Absolute timestamp in ms (for LogAppendTime batches, the batch's max timestamp).
    pub timestamp: i64,
    /// The key, `None` for a null key.
    pub key: Option<Bytes>,
    /// The value, `None` for a null value (a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// Headers in wire order.
    pub headers: Vec<Header>,
}

/// The kind of a control record (transaction markers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRecordType {
    /// The transaction was aborted.
    Abort,
    /// The transaction was committed.
    Commit,
    /// Any other control type (e.g. KRaft's), kept as its number.
    Other(i16),
}

/// A RecordBatch v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Leader epoch stamped by the broker; -1 from producers.
    pub partition_leader_epoch: i32,
    /// Compression of the records section.
    pub compression: Compression,
    /// CreateTime or LogAppendTime.
    pub timestamp_type: TimestampType,
    /// Part of a transaction.
    pub is_transactional: bool,
    /// A control batch (transaction marker).
    pub is_control: bool,
    /// Offset of the last record relative to `base_offset` (kept even if compaction removed it).
    pub last_offset_delta: i32,
    /// Timestamp of the first record (or the delete horizon when that flag is set).
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Idempotent/transactional producer id, -1 if none.
    pub producer_id: i64,
    /// Producer epoch, -1 if none.
    pub producer_epoch: i16,
    /// Sequence of the first record, -1 if none.
    pub base_sequence: i32,
    /// The records.
    pub records: Vec<Record>,
}

impl Default for RecordBatch {
    fn default() -> Self {
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            compression: Compression::None,
            timestamp_type: TimestampType::CreateTime,
            is_transactional: false,
            is_control: false,
            last_offset_delta: 0,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records: Vec::new(),
        }
    }
}

impl RecordBatch {
    /// Offset after the last record of the batch: where the next fetch continues.
    pub fn next_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta) + 1
    }

    /// For a control batch, the type of its marker (from the first record's key).
    pub fn control_type(&self) -> Option<ControlRecordType> {
        if !self.is_control {
            return None;
        }
        let key = self.records.first()?.key.as_ref()?;
        let ty = i16::from_be_bytes([*key.get(2)?, *key.get(3)?]);
        Some(match ty {
            0 => ControlRecordType::Abort,
            1 => ControlRecordType::Commit,
            n => ControlRecordType::Other(n),
        })
    }

    fn attributes(&self) -> i16 {
        let mut a = self.compression.attribute_bits();
        if self.timestamp_type == TimestampType::LogAppendTime {
            a |= TIMESTAMP_TYPE_BIT;
        }
        if self.is_transactional {
            a |= TRANSACTIONAL_BIT;
        }
        if self.is_control {
            a |= CONTROL_BIT;
        }
        a
    }
}

/// A batch that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordBatchError {
    /// A field could not be decoded.
    #[error("record batch at offset {base_offset}: {source}")]
    Decode {
        /// Base offset of the batch.
        base_offset: i64,
        /// The field error.
        #[source]
        source: DecodeError,
    },
    /// The stored CRC does not match the data.
    #[error("record batch at offset {base_offset} is corrupt: CRC32C {computed:#010x} does not match the stored {stored:#010x}")]
    CrcMismatch {
        /// Base offset of the batch.
        base_offset: i64,
        /// CRC in the batch.
        stored: u32,
        /// CRC computed over the data.
        computed: u32,
    },
    /// A magic byte other than 2 (v0/v1 message sets are not supported, as in Kafka 4).
    #[error("record batch at offset {base_offset} has magic {magic}; only v2 (magic 2) batches are supported")]
    UnsupportedMagic {
        /// Base offset of the batch.
        base_offset: i64,
        /// The magic byte found.
        magic: i8,
    },
    /// A batch length that cannot hold a batch header.
    #[error("record batch at offset {base_offset} has invalid length {length}")]
    InvalidLength {
        /// Base offset of the batch.
        base_offset: i64,
        /// The length read.
        length: i32,
    },
    /// Decompression failed or exceeded the limit.
    #[error("record batch at offset {base_offset}: {source}")]
    Compression {
        /// Base offset of the batch.
        base_offset: i64,
        /// The codec error.
        #[source]
        source: CompressionError,
    },
    /// A record's declared length does not match its contents.
    #[error("record batch at offset {base_offset}: record {index} declares {declared} bytes but uses {used}")]
    RecordLength {
        /// Base offset of the batch.
        base_offset: i64,
        /// Index of the record in the batch.
        index: usize,
        /// Length in the record.
        declared: usize,
        /// Bytes actually read.
        used: usize,
    },
    /// Too many records or bytes to encode.
    #[error("record batch is too large to encode: {0}")]
    TooLarge(&'static str),
}

/// Limits applied while reading batches.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Largest decompressed records section accepted for one batch.
    pub max_decompressed_batch_bytes: usize,
    /// Check CRC32C (on by default, as `check.crcs` in the Java client).
    pub check_crcs: bool,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed_batch_bytes: 128 * 1024 * 1024,
            check_crcs: true,
        }
    }
}

/// Iterates over the batches in a `records` field of a fetch response.
///
/// A batch cut short at the end of the buffer (the broker truncates to the fetch size) ends the
/// iteration without error, as in the Java client.
#[derive(Debug, Clone)]
pub struct RecordBatchReader {
    buf: Bytes,
    limits: DecodeLimits,
}

impl RecordBatchReader {
    /// Read batches from `records` with the given limits.
    pub fn new(records: Bytes, limits: DecodeLimits) -> Self {
        RecordBatchReader {
            buf: records,
            limits,
        }
    }

    /// Bytes of a trailing partial batch left unread.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
}

impl Iterator for RecordBatchReader {
    type Item = Result<RecordBatch, RecordBatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.len() < BATCH_OVERHEAD {
            return None;
        }
        let base_offset = i64::from_be_bytes(self.buf[0..8].try_into().ok()?);
        let length = i32::from_be_bytes(self.buf[8..12].try_into().ok()?);
        if length < (BATCH_HEADER_SIZE - BATCH_OVERHEAD) as i32 {
            self.buf.clear();
            return Some(Err(RecordBatchError::InvalidLength {
                base_offset,
                length,
            }));
        }
        let total = BATCH_OVERHEAD + length as usize;
        if self.buf.len() < total {
            return None; // partial batch at the end of a fetch
        }
        let batch = self.buf.split_to(total);
        let result = decode_batch(batch, &self.limits);
        if result.is_err() {
            self.buf.clear();
        }
        Some(result)
    }
}

/// Decode every complete batch in `records`.
pub fn decode_batches(
    records: Bytes,
    limits: DecodeLimits,
) -> Result<Vec<RecordBatch>, RecordBatchError> {
    RecordBatchReader::new(records, limits).collect()
}

fn decode_batch(batch: Bytes, limits: &DecodeLimits) -> Result<RecordBatch, RecordBatchError> {
    let base_offset = i64::from_be_bytes(batch[0..8].try_into().unwrap_or_default());
    let err = |source| RecordBatchError::Decode {
        base_offset,
        source,
    };
    let mut r = ReadBuf::new(batch.slice(12..));
    let partition_leader_epoch = r.i32("RecordBatch.PartitionLeaderEpoch").map_err(err)?;
    let magic = r.i8("RecordBatch.Magic").map_err(err)?;
    if magic != 2 {
        return Err(RecordBatchError::UnsupportedMagic { base_offset, magic });
    }
    let stored = r.u32("RecordBatch.Crc").map_err(err)?;
    if limits.check_crcs {
        let computed = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
        if computed != stored {
            return Err(RecordBatchError::CrcMismatch {
                base_offset,
                stored,
                computed,
            });
        }
    }
    let attributes = r.i16("RecordBatch.Attributes").map_err(err)?;
    let last_offset_delta = r.i32("RecordBatch.LastOffsetDelta").map_err(err)?;
    let base_timestamp = r.i64("RecordBatch.BaseTimestamp").map_err(err)?;
    let max_timestamp = r.i64("RecordBatch.MaxTimestamp").map_err(err)?;
    let producer_id = r.i64("RecordBatch.ProducerId").map_err(err)?;
    let producer_epoch = r.i16("RecordBatch.ProducerEpoch").map_err(err)?;
    let base_sequence = r.i32("RecordBatch.BaseSequence").map_err(err)?;
    let count = r.i32("RecordBatch.RecordCount").map_err(err)?;
    let compression = Compression::from_attributes(attributes).map_err(|source| {
        RecordBatchError::Compression {
            base_offset,
            source,
        }
    })?;
    let timestamp_type = if attributes & TIMESTAMP_TYPE_BIT != 0 {
        TimestampType::LogAppendTime
    } else {
        TimestampType::CreateTime
    };
    let body = r.into_bytes();
    let body = match compression {
        Compression::None => body,
        codec => compression::decompress(codec, &body, limits.max_decompressed_batch_bytes)
            .map(Bytes::from)
            .map_err(|source| RecordBatchError::Compression {
                base_offset,
                source,
            })?,
    };
    let count = usize::try_from(count).map_err(|_| {
        err(DecodeError::invalid(
            "RecordBatch.RecordCount",
            format!("negative record count {count}"),
        ))
    })?;
    // A record takes at least 7 bytes (length, attributes, 2 deltas, key, value, headers).
    if count > body.len() / 7 {
        return Err(err(DecodeError::invalid(
            "RecordBatch.RecordCount",
            format!("{count} records cannot fit in {} bytes", body.len()),
        )));
    }
    let mut body = ReadBuf::new(body);
    let mut records = Vec::with_capacity(count);
    let log_append = timestamp_type == TimestampType::LogAppendTime;
    for index in 0..count {
        let record = decode_record(&mut body, base_offset, base_timestamp, index)?;
        records.push(Record {
            timestamp: if log_append {
                max_timestamp
            } else {
                record.timestamp
            },
            ..record
        });
    }
    Ok(RecordBatch {
        base_offset,
        partition_leader_epoch,
        compression,
        timestamp_type,
        is_transactional: attributes & TRANSACTIONAL_BIT != 0,
        is_control: attributes & CONTROL_BIT != 0,
        last_offset_delta,
        base_timestamp,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        records,
    })
}

fn varlen_bytes(r: &mut ReadBuf, field: &'static str) -> Result<Option<Bytes>, DecodeError> {
    let len = r.varint(field)?;
    match len {
        -1 => Ok(None),
        n if n < -1 => Err(DecodeError {
            field,
            kind: wire::DecodeErrorKind::NegativeLength(i64::from(n)),
        }),
        n => r.take(n as usize, field).map(Some),
    }
}

fn decode_record(
    body: &mut ReadBuf,
    base_offset: i64,
    base_timestamp: i64,
    index: usize,
) -> Result<Record, RecordBatchError> {
    let err = |source| RecordBatchError::Decode {
        base_offset,
        source,
    };
    let length = body.varint("Record.Length").map_err(err)?;
    let length = usize::try_from(length).map_err(|_| {
        err(DecodeError::invalid(
            "Record.Length",
            format!("negative length {length}"),
        ))
    })?;
    let mut r = ReadBuf::new(body.take(length, "Record.Length").map_err(err)?);
    let _attributes = r.i8("Record.Attributes").map_err(err)?;
    let timestamp_delta = r.varlong("Record.TimestampDelta").map_err(err)?;
    let offset_delta = r.varint("Record.OffsetDelta").map_err(err)?;
    let key = varlen_bytes(&mut r, "Record.Key").map_err(err)?;
    let value = varlen_bytes(&mut r, "Record.Value").map_err(err)?;
    let header_count = r.varint("Record.Headers").map_err(err)?;
    let header_count = usize::try_from(header_count).map_err(|_| {
        err(DecodeError::invalid(
            "Record.Headers",
            format!("negative header count {header_count}"),
        ))
    })?;
    // A header takes at least 2 bytes (key length and value length).
    if header_count > r.remaining() / 2 {
        return Err(err(DecodeError::invalid(
            "Record.Headers",
            format!(
                "{header_count} headers cannot fit in {} bytes",
                r.remaining()
            ),
        )));
    }
    let mut headers = Vec::with_capacity(header_count);
    for _ in 0..header_count {
        let key = varlen_bytes(&mut r, "Record.Header.Key")
            .map_err(err)?
            .ok_or_else(|| err(DecodeError::null("Record.Header.Key")))?;
        if std::str::from_utf8(&key).is_err() {
            return Err(err(DecodeError {
                field: "Record.Header.Key",
                kind: wire::DecodeErrorKind::InvalidUtf8,
            }));
        }
        let value = varlen_bytes(&mut r, "Record.Header.Value").map_err(err)?;
        headers.push(Header { key, value });
    }
    if r.remaining() != 0 {
        return Err(RecordBatchError::RecordLength {
            base_offset,
            index,
            declared: length,
            used: length - r.remaining(),
        });
    }
    Ok(Record {
        offset: base_offset.wrapping_add(i64::from(offset_delta)),
        timestamp: base_timestamp.wrapping_add(timestamp_delta),
        key,
        value,
        headers,
    })
}

fn put_varlen_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        None => wire::put_varint(buf, -1),
        Some(b) => {
            wire::put_varint(buf, b.len() as i32);
            buf.put_slice(b);
        }
    }
}

fn varlen_size(b: Option<&[u8]>) -> usize {
    match b {
        None => 1,
        Some(b) => wire::varint_size(b.len() as i32) + b.len(),
    }
}

/// Append the encoding of one record (length prefix included) to `buf`.
pub fn encode_record(buf: &mut BytesMut, record: &Record, base_offset: i64, base_timestamp: i64) {
    encode_record_fields(
        buf,
        record.timestamp.wrapping_sub(base_timestamp),
        record.offset.wrapping_sub(base_offset) as i32,
        record.key.as_deref(),
        record.value.as_deref(),
        &record.headers,
    );
}

/// Append one record (length prefix included) from its deltas and fields.
pub(crate) fn encode_record_fields(
    buf: &mut BytesMut,
    ts_delta: i64,
    off_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) {
    let mut body_len = 1
        + wire::varlong_size(ts_delta)
        + wire::varint_size(off_delta)
        + varlen_size(key)
        + varlen_size(value)
        + wire::varint_size(headers.len() as i32);
    for h in headers {
        body_len += varlen_size(Some(&h.key)) + varlen_size(h.value.as_deref());
    }
    buf.reserve(body_len + 5);
    wire::put_varint(buf, body_len as i32);
    buf.put_i8(0);
    wire::put_varlong(buf, ts_delta);
    wire::put_varint(buf, off_delta);
    put_varlen_bytes(buf, key);
    put_varlen_bytes(buf, value);
    wire::put_varint(buf, headers.len() as i32);
    for h in headers {
        put_varlen_bytes(buf, Some(&h.key));
        put_varlen_bytes(buf, h.value.as_deref());
    }
}

/// Encode `batch` as it goes on the wire. Records' offsets and timestamps are absolute; the
/// deltas, `last_offset_delta`, `max_timestamp` and the CRC are computed here.
pub fn encode_batch(batch: &RecordBatch) -> Result<Bytes, RecordBatchError> {
    let count = i32::try_from(batch.records.len())
        .map_err(|_| RecordBatchError::TooLarge("more than i32::MAX records"))?;
    let mut raw = BytesMut::new();
    let mut max_ts = batch.base_timestamp;
    let mut last_delta = batch.last_offset_delta;
    for r in &batch.records {
        encode_record(&mut raw, r, batch.base_offset, batch.base_timestamp);
        max_ts = max_ts.max(r.timestamp);
        last_delta = last_delta.max(r.offset.wrapping_sub(batch.base_offset) as i32);
    }
    if batch.timestamp_type == TimestampType::LogAppendTime {
        max_ts = batch.max_timestamp;
    }
    let records: Vec<u8> = match batch.compression {
        Compression::None => raw.to_vec(),
        codec => compression::compress(codec, &raw),
    };
    let length = BATCH_HEADER_SIZE - BATCH_OVERHEAD + records.len();
    let length =
        i32::try_from(length).map_err(|_| RecordBatchError::TooLarge("batch over 2 GiB"))?;
    let mut buf = BytesMut::with_capacity(BATCH_HEADER_SIZE + records.len());
    buf.put_i64(batch.base_offset);
    buf.put_i32(length);
    buf.put_i32(batch.partition_leader_epoch);
    buf.put_i8(2);
    buf.put_u32(0); // CRC, patched below
    buf.put_i16(batch.attributes());
    buf.put_i32(last_delta);
    buf.put_i64(batch.base_timestamp);
    buf.put_i64(max_ts);
    buf.put_i64(batch.producer_id);
    buf.put_i16(batch.producer_epoch);
    buf.put_i32(batch.base_sequence);
    buf.put_i32(count);
    buf.put_slice(&records);
    let crc = crc32c::crc32c(&buf[ATTRIBUTES_OFFSET..]);
    buf[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(buf.freeze())
}

/// A control batch carrying one transaction marker, as the transaction coordinator writes it.
pub fn control_batch(
    commit: bool,
    producer_id: i64,
    producer_epoch: i16,
    coordinator_epoch: i32,
    offset: i64,
    timestamp: i64,
) -> RecordBatch {
    let mut key = BytesMut::with_capacity(4);
    key.put_i16(0); // version
    key.put_i16(i16::from(commit));
    let mut value = BytesMut::with_capacity(6);
    value.put_i16(0);
    value.put_i32(coordinator_epoch);
    RecordBatch {
        base_offset: offset,
        is_transactional: true,
        is_control: true,
        base_timestamp: timestamp,
        max_timestamp: timestamp,
        producer_id,
        producer_epoch,
        records: vec![Record {
            offset,
            timestamp,
            key: Some(key.freeze()),
            value: Some(value.freeze()),
            headers: Vec::new(),
        }],
        ..RecordBatch::default()
    }
}

/// Attribute bit for batches whose base timestamp is a delete horizon (KIP-534).
pub fn has_delete_horizon(attributes: i16) -> bool {
    attributes & DELETE_HORIZON_BIT != 0
}

#[cfg(test)]
mod tests;
