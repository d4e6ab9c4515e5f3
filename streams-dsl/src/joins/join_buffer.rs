//! The grace-period buffer of a stream-table join (KIP-923, Kafka's
//! `RocksDBTimeOrderedKeyValueBuffer` behind `Joined.withGracePeriod`), without I/O: stream
//! records wait, ordered by timestamp, then key bytes, then arrival, until the buffer's stream
//! time (the latest timestamp it took) is `grace` past them.
//!
//! Keys and values are Kafka's: the key is `timestamp (8 bytes) ‖ serialized key ‖ sequence
//! number (4 bytes)`, the value the suppress buffer's changelog value (Kafka's `BufferValue`
//! with only a new value, then the buffer time 0), so the store holds exactly what its
//! changelog carries and restores from it as is.

use std::collections::BTreeMap;

use bytes::Bytes;

/// Kafka's `ConsumerRecord.NO_TIMESTAMP`: the buffer's stream time before its first record.
const NO_TIMESTAMP: i64 = -1;

/// Buffered stream records by store key.
#[derive(Debug)]
pub(crate) struct JoinBuffer {
    grace_ms: i64,
    /// The latest timestamp put (Kafka's buffer store's `observedStreamTime`).
    stream_time: i64,
    /// Kafka's per-put sequence number, keeping records of one key and time apart.
    seqnum: u32,
    entries: BTreeMap<Vec<u8>, Bytes>,
}

/// The store key of a record: `timestamp ‖ key ‖ seqnum` (Kafka's
/// `TimeFirstWindowKeySchema.toStoreKeyBinary`).
pub(crate) fn store_key(timestamp: i64, key: &[u8], seqnum: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + key.len());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&seqnum.to_be_bytes());
    out
}

/// The timestamp and serialized key of a store key; `None` when it is too short to be one.
pub(crate) fn split_store_key(store_key: &[u8]) -> Option<(i64, &[u8])> {
    let ts: [u8; 8] = store_key.get(..8)?.try_into().ok()?;
    let key = store_key.get(8..store_key.len().checked_sub(4)?)?;
    Some((i64::from_be_bytes(ts), key))
}

impl JoinBuffer {
    /// An empty buffer holding records for `grace_ms`.
    pub fn new(grace_ms: i64) -> Self {
        JoinBuffer {
            grace_ms,
            stream_time: NO_TIMESTAMP,
            seqnum: 0,
            entries: BTreeMap::new(),
        }
    }

    /// Take back an entry of the store (after a restart): the stream time becomes at least its
    /// timestamp. `false` for a key that is not a store key.
    pub fn restore(&mut self, key: Vec<u8>, value: Bytes) -> bool {
        let Some((ts, _)) = split_store_key(&key) else {
            return false;
        };
        self.stream_time = self.stream_time.max(ts);
        self.entries.insert(key, value);
        true
    }

    /// Buffer a record of `timestamp` (Kafka's `put`): its store key, or `None` when it is
    /// already more than `grace` behind the buffer's stream time (the caller joins it at
    /// once, as Kafka does).
    pub fn put(&mut self, timestamp: i64, key: &[u8], value: Bytes) -> Option<Vec<u8>> {
        if self.stream_time.saturating_sub(self.grace_ms) > timestamp {
            return None;
        }
        self.seqnum = self.seqnum.wrapping_add(1) & 0x7FFF_FFFF;
        let k = store_key(timestamp, key, self.seqnum);
        self.stream_time = self.stream_time.max(timestamp);
        self.entries.insert(k.clone(), value);
        Some(k)
    }

    /// Remove and return, in order, the records whose time has come: timestamp at most
    /// stream time minus grace (Kafka's `evictWhile`).
    pub fn evict(&mut self) -> Vec<(Vec<u8>, Bytes)> {
        let due = self.stream_time.saturating_sub(self.grace_ms);
        let mut out = Vec::new();
        while let Some(entry) = self.entries.first_entry() {
            match split_store_key(entry.key()) {
                Some((ts, _)) if ts <= due => out.push(entry.remove_entry()),
                _ => break,
            }
        }
        out
    }

    /// How many records wait.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(evicted: &[(Vec<u8>, Bytes)]) -> Vec<(i64, Vec<u8>)> {
        evicted
            .iter()
            .filter_map(|(k, _)| split_store_key(k).map(|(t, k)| (t, k.to_vec())))
            .collect()
    }

    #[test]
    fn records_wait_for_the_grace_period_then_leave_in_timestamp_order() {
        let mut b = JoinBuffer::new(10);
        assert!(b.put(100, b"b", Bytes::new()).is_some());
        assert!(keys(&b.evict()).is_empty());
        assert!(b.put(95, b"a", Bytes::new()).is_some());
        assert!(b.put(98, b"e", Bytes::new()).is_some());
        assert!(keys(&b.evict()).is_empty());
        // Stream time 110: 95, 98 and 100 are due (at most 110 - 10), in timestamp order.
        assert!(b.put(110, b"d", Bytes::new()).is_some());
        assert_eq!(
            keys(&b.evict()),
            vec![
                (95, b"a".to_vec()),
                (98, b"e".to_vec()),
                (100, b"b".to_vec())
            ]
        );
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn a_record_beyond_the_grace_period_is_not_buffered() {
        let mut b = JoinBuffer::new(10);
        b.put(100, b"a", Bytes::new());
        b.evict();
        // 90 is exactly grace behind: still buffered, and due at once.
        assert!(b.put(90, b"x", Bytes::new()).is_some());
        assert_eq!(keys(&b.evict()), vec![(90, b"x".to_vec())]);
        assert!(b.put(89, b"y", Bytes::new()).is_none());
    }

    #[test]
    fn zero_grace_passes_records_straight_through_and_equal_times_keep_key_then_arrival_order() {
        let mut b = JoinBuffer::new(0);
        b.put(5, b"k", Bytes::from_static(b"1"));
        assert_eq!(b.evict().len(), 1);
        let mut b = JoinBuffer::new(100);
        b.put(5, b"k", Bytes::from_static(b"1"));
        b.put(5, b"j", Bytes::from_static(b"2"));
        b.put(5, b"k", Bytes::from_static(b"3"));
        b.put(200, b"z", Bytes::new());
        let values: Vec<Bytes> = b.evict().into_iter().map(|(_, v)| v).collect();
        assert_eq!(values, vec!["2", "1", "3"]);
    }

    #[test]
    fn restored_entries_bring_back_the_stream_time() {
        let mut b = JoinBuffer::new(10);
        assert!(b.restore(store_key(50, b"a", 1), Bytes::new()));
        assert!(!b.restore(vec![1, 2], Bytes::new()));
        assert!(b.put(39, b"late", Bytes::new()).is_none());
        assert!(b.put(60, b"b", Bytes::new()).is_some());
        assert_eq!(keys(&b.evict()), vec![(50, b"a".to_vec())]);
    }
}
