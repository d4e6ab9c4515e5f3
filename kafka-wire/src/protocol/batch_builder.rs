//! Writing a RecordBatch one record at a time, as the producer appends (Java's
//! `MemoryRecordsBuilder`).
//!
//! Each record is encoded into the batch's buffer when it is appended, behind room left for
//! the 61-byte header; closing the batch writes the header in place and computes the CRC, so an
//! uncompressed batch goes out without another copy of its records. The first record's
//! timestamp is the batch's base timestamp (later deltas may be negative, as Java writes them).
//! The producer fields (id, epoch, base sequence) are only known when the batch is drained, and
//! change if the producer's epoch is bumped (KIP-360): [`with_producer_fields`] rewrites them in
//! a closed batch.

use bytes::{BufMut, Bytes, BytesMut};

use super::compression::{self, Compression};
use super::record_batch::{
    encode_record_fields, Header, RecordBatchError, BATCH_HEADER_SIZE, BATCH_OVERHEAD,
};

const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const PRODUCER_ID_OFFSET: usize = 43;
const TRANSACTIONAL_BIT: i16 = 0x10;

/// The idempotence fields of a batch's header: who wrote it and at which sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerFields {
    /// The producer id, -1 without idempotence.
    pub producer_id: i64,
    /// The producer epoch, -1 without idempotence.
    pub producer_epoch: i16,
    /// The first record's sequence, -1 without idempotence.
    pub base_sequence: i32,
}

impl ProducerFields {
    /// A batch written without idempotence.
    pub const NONE: ProducerFields = ProducerFields {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
    };
}

/// An open RecordBatch: records are encoded as they are appended.
#[derive(Debug)]
pub struct BatchBuilder {
    /// Room for the header, then the uncompressed records.
    buf: BytesMut,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::with_capacity(0)
    }
}

impl BatchBuilder {
    /// An empty batch with room for `bytes` of records before its buffer grows.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = BytesMut::with_capacity(BATCH_HEADER_SIZE + bytes);
        buf.put_bytes(0, BATCH_HEADER_SIZE);
        BatchBuilder {
            buf,
            count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
        }
    }

    /// Records appended so far.
    pub fn record_count(&self) -> usize {
        self.count as usize
    }

    /// No record appended yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Encoded size so far, header included (before compression).
    pub fn size_in_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Encode one record at the next offset; returns its offset within the batch.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> Result<i32, RecordBatchError> {
        let offset_delta = self.count;
        let next = self
            .count
            .checked_add(1)
            .ok_or(RecordBatchError::TooLarge("more than i32::MAX records"))?;
        if self.count == 0 {
            self.base_timestamp = timestamp;
            self.max_timestamp = timestamp;
        } else {
            self.max_timestamp = self.max_timestamp.max(timestamp);
        }
        let ts_delta = timestamp.wrapping_sub(self.base_timestamp);
        encode_record_fields(&mut self.buf, ts_delta, offset_delta, key, value, headers);
        self.count = next;
        Ok(offset_delta)
    }

    /// Close the batch: compress its records if asked, write the header and the CRC.
    pub fn finish(
        self,
        compression: Compression,
        transactional: bool,
        producer: ProducerFields,
    ) -> Result<Bytes, RecordBatchError> {
        let mut buf = match compression {
            Compression::None => self.buf,
            codec => {
                let packed = compression::compress(codec, &self.buf[BATCH_HEADER_SIZE..]);
                let mut buf = BytesMut::with_capacity(BATCH_HEADER_SIZE + packed.len());
                buf.put_bytes(0, BATCH_HEADER_SIZE);
                buf.put_slice(&packed);
                buf
            }
        };
        let length = i32::try_from(buf.len() - BATCH_OVERHEAD)
            .map_err(|_| RecordBatchError::TooLarge("batch over 2 GiB"))?;
        let mut attributes = compression.attribute_bits();
        if transactional {
            attributes |= TRANSACTIONAL_BIT;
        }
        let mut header = &mut buf[..BATCH_HEADER_SIZE];
        header.put_i64(0); // base offset: the broker assigns it
        header.put_i32(length);
        header.put_i32(-1); // partition leader epoch: the broker sets it
        header.put_i8(2);
        header.put_u32(0); // CRC, below
        header.put_i16(attributes);
        header.put_i32(self.count.saturating_sub(1));
        header.put_i64(self.base_timestamp);
        header.put_i64(self.max_timestamp);
        header.put_i64(producer.producer_id);
        header.put_i16(producer.producer_epoch);
        header.put_i32(producer.base_sequence);
        header.put_i32(self.count);
        patch_crc(&mut buf);
        Ok(buf.freeze())
    }
}

/// A copy of the closed `batch` carrying other producer fields (after an epoch bump renumbered
/// it), with its CRC recomputed.
pub fn with_producer_fields(
    batch: &[u8],
    producer: ProducerFields,
) -> Result<Bytes, RecordBatchError> {
    if batch.len() < BATCH_HEADER_SIZE {
        return Err(RecordBatchError::TooLarge(
            "a closed batch is shorter than its header",
        ));
    }
    let mut buf = BytesMut::from(batch);
    put_producer_fields(&mut buf[PRODUCER_ID_OFFSET..], producer);
    patch_crc(&mut buf);
    Ok(buf.freeze())
}

fn put_producer_fields(mut at: &mut [u8], producer: ProducerFields) {
    at.put_i64(producer.producer_id);
    at.put_i16(producer.producer_epoch);
    at.put_i32(producer.base_sequence);
}

fn patch_crc(buf: &mut [u8]) {
    let crc = crc32c::crc32c(&buf[ATTRIBUTES_OFFSET..]);
    buf[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::record_batch::Record;
    use crate::protocol::record_batch::{decode_batches, encode_batch, DecodeLimits, RecordBatch};

    fn build(compression: Compression, producer: ProducerFields) -> Bytes {
        let mut b = BatchBuilder::with_capacity(64);
        assert_eq!(b.append(1_000, Some(b"k"), Some(b"v0"), &[]).unwrap(), 0);
        let h = [Header::new("h", Some(&b"x"[..]))];
        assert_eq!(b.append(990, None, Some(b"v1"), &h).unwrap(), 1);
        assert_eq!(b.append(1_005, Some(b"k2"), None, &[]).unwrap(), 2);
        assert_eq!(b.record_count(), 3);
        b.finish(compression, true, producer).unwrap()
    }

    #[test]
    fn an_appended_batch_is_byte_identical_to_a_whole_encoded_one() {
        let producer = ProducerFields {
            producer_id: 7,
            producer_epoch: 2,
            base_sequence: 40,
        };
        let record =
            |offset, timestamp, key: Option<&[u8]>, value: Option<&[u8]>, headers| Record {
                offset,
                timestamp,
                key: key.map(Bytes::copy_from_slice),
                value: value.map(Bytes::copy_from_slice),
                headers,
            };
        let whole = RecordBatch {
            base_timestamp: 1_000,
            producer_id: 7,
            producer_epoch: 2,
            base_sequence: 40,
            is_transactional: true,
            records: vec![
                record(0, 1_000, Some(b"k"), Some(b"v0"), vec![]),
                record(
                    1,
                    990,
                    None,
                    Some(b"v1"),
                    vec![Header::new("h", Some(&b"x"[..]))],
                ),
                record(2, 1_005, Some(b"k2"), None, vec![]),
            ],
            ..RecordBatch::default()
        };
        assert_eq!(
            build(Compression::None, producer),
            encode_batch(&whole).unwrap()
        );
    }

    #[test]
    fn every_codec_round_trips_and_renumbering_keeps_the_crc_valid() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let closed = build(codec, ProducerFields::NONE);
            let bumped = ProducerFields {
                producer_id: 9,
                producer_epoch: 1,
                base_sequence: 0,
            };
            let renumbered = with_producer_fields(&closed, bumped).unwrap();
            let batches = decode_batches(renumbered, DecodeLimits::default()).unwrap();
            let batch = &batches[0];
            assert_eq!(
                (batch.producer_id, batch.base_sequence),
                (9, 0),
                "{codec:?}"
            );
            assert!(batch.is_transactional);
            assert_eq!(batch.records.len(), 3);
            assert_eq!(batch.records[1].timestamp, 990);
            assert_eq!(batch.max_timestamp, 1_005);
            assert_eq!(batch.records[2].offset, 2);
            assert_eq!(batch.records[1].headers[0].key_str(), "h");
        }
    }

    #[test]
    fn a_truncated_batch_is_refused_not_patched() {
        assert!(with_producer_fields(&[0; 10], ProducerFields::NONE).is_err());
    }
}
