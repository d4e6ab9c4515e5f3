//! The buffer behind `suppress` (Kafka's `InMemoryTimeOrderedKeyValueChangeBuffer`), without
//! I/O: the latest change of each buffered key, ordered by buffer time then key bytes, with
//! Kafka's size accounting (what `maxBytes` counts) and Kafka's changelog value layout
//! (version 3), so a buffer Java logged restores here. (Ours are logged through a key-value
//! store, without Kafka's `v: 3` record header: Java would read them as its version 0.)
//!
//! A key keeps the buffer time of its first change until it is evicted ("non-resetting"): a
//! key updated again and again is still emitted when its first update's time comes.

use std::collections::{BTreeMap, HashMap};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use streams_core::record::Header;

/// Kafka's null marker for a length-prefixed value.
const NULL_VALUE: i32 = -1;
/// Kafka's marker for an old value equal to the prior value (written once).
const OLD_IS_PRIOR: i32 = -2;

/// Where and when the buffered change was made (Kafka's `ProcessorRecordContext`): what the
/// emitted record carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BufferedContext {
    pub timestamp: i64,
    pub offset: i64,
    pub topic: String,
    pub partition: i32,
    pub headers: Vec<Header>,
}

impl BufferedContext {
    /// Kafka's `residentMemorySizeEstimate` of a record context.
    fn size_estimate(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|h| utf16_len(&h.key) + h.value.as_ref().map_or(0, Bytes::len))
            .sum();
        (8 + 8 + self.topic.encode_utf16().count() + 4 + headers) as u64
    }
}

/// The length of `key` in Java `char`s (UTF-16 units), as Kafka counts header keys.
fn utf16_len(key: &[u8]) -> usize {
    String::from_utf8_lossy(key).encode_utf16().count()
}

/// One buffered key's state (Kafka's `BufferValue`): the value the key had before it was
/// first buffered (`prior`), and its latest change (`old` → `new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BufferedChange {
    pub prior: Option<Bytes>,
    pub old: Option<Bytes>,
    pub new: Option<Bytes>,
    pub context: BufferedContext,
}

impl BufferedChange {
    /// Kafka's `residentMemorySizeEstimate` (an old value equal to the prior counts once).
    fn size_estimate(&self) -> u64 {
        let len = |v: &Option<Bytes>| v.as_ref().map_or(0, Bytes::len) as u64;
        let old = if self.old == self.prior {
            0
        } else {
            len(&self.old)
        };
        len(&self.prior) + old + len(&self.new) + self.context.size_estimate()
    }
}

/// A change evicted from the buffer, to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Eviction {
    pub key: Bytes,
    pub change: BufferedChange,
}

/// Why a changelog record of the buffer cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("suppress buffer changelog value: {0}")]
pub(crate) struct BufferDecodeError(String);

/// The suppression buffer.
#[derive(Debug, Default)]
pub(crate) struct SuppressBuffer {
    /// (buffer time, key) → change, in eviction order.
    sorted: BTreeMap<(i64, Bytes), BufferedChange>,
    /// key → its buffer time.
    index: HashMap<Bytes, i64>,
    /// Kafka's `memBufferSize`.
    size: u64,
}

/// Kafka's `computeRecordSize`: the buffer time, the key and the change.
fn record_size(key: &[u8], change: &BufferedChange) -> u64 {
    8 + key.len() as u64 + change.size_estimate()
}

impl SuppressBuffer {
    /// Buffer `change` of `key` at `time`, and return the key's changelog value. A key
    /// already buffered keeps its place and its prior value; the first change of a key takes
    /// its old value as the prior value (as Kafka).
    pub fn put(
        &mut self,
        time: i64,
        key: Bytes,
        old: Option<Bytes>,
        new: Option<Bytes>,
        context: BufferedContext,
    ) -> Bytes {
        let at = self.index.get(&key).copied();
        let slot = (at.unwrap_or(time), key);
        let replaced = self.sorted.remove(&slot);
        if let Some(r) = &replaced {
            self.size = self.size.saturating_sub(record_size(&slot.1, r));
        } else {
            self.index.insert(slot.1.clone(), slot.0);
        }
        let change = BufferedChange {
            prior: replaced.map_or_else(|| old.clone(), |r| r.prior),
            old,
            new,
            context,
        };
        self.size += record_size(&slot.1, &change);
        let value = encode(slot.0, &change);
        self.sorted.insert(slot, change);
        value
    }

    /// Put a change read back from the changelog at `time` (its prior value included).
    pub fn restore(&mut self, time: i64, key: Bytes, change: BufferedChange) {
        self.remove(&key);
        self.size += record_size(&key, &change);
        self.index.insert(key.clone(), time);
        self.sorted.insert((time, key), change);
    }

    /// Drop `key` (a tombstone in the changelog).
    pub fn remove(&mut self, key: &Bytes) {
        if let Some(time) = self.index.remove(key) {
            if let Some(c) = self.sorted.remove(&(time, key.clone())) {
                self.size = self.size.saturating_sub(record_size(key, &c));
            }
        }
    }

    /// The earliest buffer time (`i64::MAX` when empty, as Kafka).
    pub fn min_timestamp(&self) -> i64 {
        self.sorted.keys().next().map_or(i64::MAX, |(t, _)| *t)
    }

    /// Buffered keys.
    pub fn num_records(&self) -> u64 {
        self.sorted.len() as u64
    }

    /// Kafka's estimate of the buffer's bytes.
    pub fn buffer_size(&self) -> u64 {
        self.size
    }

    /// Evict the earliest change while `more(self)` holds.
    pub fn evict_while(&mut self, more: impl Fn(&SuppressBuffer) -> bool) -> Vec<Eviction> {
        let mut out = Vec::new();
        while more(self) {
            let Some(((_, key), change)) = self.sorted.pop_first() else {
                break;
            };
            self.index.remove(&key);
            self.size = self.size.saturating_sub(record_size(&key, &change));
            out.push(Eviction { key, change });
        }
        out
    }
}

/// Kafka's changelog value (version 3): the record context (timestamp, offset, topic,
/// partition, headers), the prior, old and new values (length-prefixed, -1 for null, -2 for
/// an old value equal to the prior), then the buffer time.
pub(crate) fn encode(time: i64, c: &BufferedChange) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i64(c.context.timestamp);
    b.put_i64(c.context.offset);
    put_bytes(&mut b, Some(c.context.topic.as_bytes()));
    b.put_i32(c.context.partition);
    b.put_i32(c.context.headers.len() as i32);
    for h in &c.context.headers {
        put_bytes(&mut b, Some(&h.key));
        put_bytes(&mut b, h.value.as_deref());
    }
    put_bytes(&mut b, c.prior.as_deref());
    match &c.old {
        None => b.put_i32(NULL_VALUE),
        Some(_) if c.old == c.prior => b.put_i32(OLD_IS_PRIOR),
        Some(o) => put_bytes(&mut b, Some(o)),
    }
    put_bytes(&mut b, c.new.as_deref());
    b.put_i64(time);
    b.freeze()
}

/// The buffer time and change of a changelog value written by [`encode`] (or by Kafka).
pub(crate) fn decode(mut data: &[u8]) -> Result<(i64, BufferedChange), BufferDecodeError> {
    let timestamp = get_i64(&mut data, "the record timestamp")?;
    let offset = get_i64(&mut data, "the record offset")?;
    let topic = get_bytes(&mut data, "the topic")?.unwrap_or_default();
    let topic = String::from_utf8(topic.to_vec())
        .map_err(|_| BufferDecodeError("the topic is not UTF-8".into()))?;
    let partition = get_i32(&mut data, "the partition")?;
    let count = get_i32(&mut data, "the header count")?;
    // Each header takes at least 8 bytes: a count beyond that is corrupt, not a reason to
    // allocate.
    let count = usize::try_from(count)
        .ok()
        .filter(|n| n.saturating_mul(8) <= data.len())
        .ok_or_else(|| BufferDecodeError(format!("header count {count} does not fit the value")))?;
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let key = get_bytes(&mut data, "a header key")?.unwrap_or_default();
        let value = get_bytes(&mut data, "a header value")?;
        headers.push(Header { key, value });
    }
    let prior = get_bytes(&mut data, "the prior value")?;
    let old_len = get_i32(&mut data, "the old value's length")?;
    let old = match old_len {
        OLD_IS_PRIOR => prior.clone(),
        _ => take_bytes(&mut data, old_len, "the old value")?,
    };
    let new = get_bytes(&mut data, "the new value")?;
    let time = get_i64(&mut data, "the buffer time")?;
    if !data.is_empty() {
        return Err(BufferDecodeError(format!(
            "{} bytes after the buffer time",
            data.len()
        )));
    }
    Ok((
        time,
        BufferedChange {
            prior,
            old,
            new,
            context: BufferedContext {
                timestamp,
                offset,
                topic,
                partition,
                headers,
            },
        },
    ))
}

fn put_bytes(b: &mut BytesMut, v: Option<&[u8]>) {
    match v {
        None => b.put_i32(NULL_VALUE),
        Some(v) => {
            b.put_i32(v.len() as i32);
            b.put_slice(v);
        }
    }
}

fn short(what: &str) -> BufferDecodeError {
    BufferDecodeError(format!("ends before {what}"))
}

fn get_i64(data: &mut &[u8], what: &str) -> Result<i64, BufferDecodeError> {
    if data.remaining() < 8 {
        return Err(short(what));
    }
    Ok(data.get_i64())
}

fn get_i32(data: &mut &[u8], what: &str) -> Result<i32, BufferDecodeError> {
    if data.remaining() < 4 {
        return Err(short(what));
    }
    Ok(data.get_i32())
}

fn get_bytes(data: &mut &[u8], what: &str) -> Result<Option<Bytes>, BufferDecodeError> {
    let len = get_i32(data, what)?;
    take_bytes(data, len, what)
}

fn take_bytes(data: &mut &[u8], len: i32, what: &str) -> Result<Option<Bytes>, BufferDecodeError> {
    if len == NULL_VALUE {
        return Ok(None);
    }
    let n =
        usize::try_from(len).map_err(|_| BufferDecodeError(format!("{what} has length {len}")))?;
    if data.remaining() < n {
        return Err(short(what));
    }
    let v = Bytes::copy_from_slice(&data[..n]);
    data.advance(n);
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ts: i64) -> BufferedContext {
        BufferedContext {
            timestamp: ts,
            offset: 7,
            topic: "in".into(),
            partition: 0,
            headers: vec![],
        }
    }

    fn b(s: &str) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn keys_keep_their_first_time_and_their_prior_value() {
        let mut buf = SuppressBuffer::default();
        buf.put(10, Bytes::from_static(b"a"), None, b("1"), ctx(10));
        buf.put(5, Bytes::from_static(b"b"), b("x"), b("y"), ctx(5));
        buf.put(20, Bytes::from_static(b"a"), b("1"), b("2"), ctx(20));
        assert_eq!(buf.num_records(), 2);
        assert_eq!(buf.min_timestamp(), 5);
        let out = buf.evict_while(|b| b.min_timestamp() <= 10);
        let keys: Vec<&[u8]> = out.iter().map(|e| &e.key[..]).collect();
        assert_eq!(keys, vec![&b"b"[..], &b"a"[..]]);
        // The latest change of "a", with its context, and the prior value it started from.
        assert_eq!(out[1].change.new, b("2"));
        assert_eq!(out[1].change.old, b("1"));
        assert_eq!(out[1].change.prior, None);
        assert_eq!(out[1].change.context.timestamp, 20);
        assert_eq!(buf.buffer_size(), 0);
        assert_eq!(buf.min_timestamp(), i64::MAX);
    }

    #[test]
    fn sizes_are_kafkas_estimates() {
        let mut buf = SuppressBuffer::default();
        // 8 (time) + 1 (key) + prior 0 + old 0 + new 1 + context (8 + 8 + 2 + 4) = 32.
        buf.put(1, Bytes::from_static(b"k"), None, b("v"), ctx(1));
        assert_eq!(buf.buffer_size(), 32);
        // Replaced in place: prior none, old "v" (1), new "vv" (2), context 22 → 25 + 9.
        buf.put(2, Bytes::from_static(b"k"), b("v"), b("vv"), ctx(2));
        assert_eq!(buf.buffer_size(), 34);
    }

    #[test]
    fn changelog_values_round_trip_and_bad_ones_are_errors() {
        let change = BufferedChange {
            prior: b("p"),
            old: b("p"),
            new: b("n"),
            context: BufferedContext {
                headers: vec![Header {
                    key: Bytes::from_static(b"h"),
                    value: None,
                }],
                ..ctx(3)
            },
        };
        let bytes = encode(9, &change);
        assert_eq!(decode(&bytes), Ok((9, change)));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = BytesMut::new();
        huge.put_i64(0);
        huge.put_i64(0);
        huge.put_i32(0);
        huge.put_i32(0);
        huge.put_i32(i32::MAX);
        assert!(decode(&huge).is_err());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Option<Bytes>> {
            proptest::option::of(
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from),
            )
        }

        proptest! {
            /// Whatever the changelog holds, reading it returns an error or a change, never
            /// panics or allocates by a length it read.
            #[test]
            fn any_bytes_decode_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..300)) {
                let _ = decode(&data);
            }

            /// Every change reads back as written.
            #[test]
            fn changes_round_trip(
                time in any::<i64>(), ts in any::<i64>(), offset in any::<i64>(),
                partition in any::<i32>(), topic in "[a-z.-]{0,12}",
                prior in value(), old in value(), new in value(),
                headers in proptest::collection::vec(("[a-z]{0,5}", value()), 0..3),
            ) {
                let change = BufferedChange {
                    prior, old, new,
                    context: BufferedContext {
                        timestamp: ts, offset, topic, partition,
                        headers: headers.into_iter().map(|(k, v)| Header { key: Bytes::from(k), value: v }).collect(),
                    },
                };
                let bytes = encode(time, &change);
                prop_assert_eq!(decode(&bytes), Ok((time, change)));
            }
        }
    }
}
