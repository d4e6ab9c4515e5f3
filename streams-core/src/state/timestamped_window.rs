//! Timestamped window stores (Kafka's `TimestampedWindowStore`): each window's value is
//! stored as its timestamp (8 bytes, big-endian) then the value, while the changelog holds
//! the plain value stamped with that timestamp, as Kafka's
//! `ChangeLoggingTimestampedWindowBytesStore` writes it — so a changelog written by Kafka
//! Streams restores here and the other way round.

use bytes::Bytes;

use super::window::{SegmentedWindowStore, WindowEntry, WindowStore};
use super::{ChangelogRecord, StoreError};

/// A window store whose values carry their timestamp.
#[derive(Debug)]
pub struct TimestampedWindowStore {
    inner: SegmentedWindowStore,
}

impl TimestampedWindowStore {
    /// Around `inner`, whose values are `timestamp ‖ value`.
    pub fn new(inner: SegmentedWindowStore) -> Self {
        TimestampedWindowStore { inner }
    }
}

/// A stored `timestamp ‖ value` as the changelog holds it: the plain value and its timestamp
/// (`None` when shorter than a timestamp).
pub fn split_timestamped(stored: &Bytes) -> Option<(Bytes, i64)> {
    let (ts, _) = stored.split_first_chunk::<8>()?;
    Some((stored.slice(8..), i64::from_be_bytes(*ts)))
}

impl WindowStore for TimestampedWindowStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn put(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        window_start: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        self.inner.put(key, value, window_start)
    }

    fn fetch(&mut self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        self.inner.fetch(key, window_start)
    }

    fn fetch_range(
        &mut self,
        key: &[u8],
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        self.inner.fetch_range(key, from, to, backward)
    }

    fn fetch_keys(
        &mut self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        self.inner.fetch_keys(key_from, key_to, from, to, backward)
    }

    /// Changelog records hold the plain value: the record's timestamp goes back in front.
    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError> {
        let stamped: Vec<ChangelogRecord> = records
            .iter()
            .map(|r| ChangelogRecord {
                key: r.key.clone(),
                value: r.value.as_ref().map(|v| {
                    let mut out = Vec::with_capacity(8 + v.len());
                    out.extend_from_slice(&r.timestamp.to_be_bytes());
                    out.extend_from_slice(v);
                    Bytes::from(out)
                }),
                timestamp: r.timestamp,
            })
            .collect();
        self.inner.restore_batch(&stamped)
    }

    fn approximate_num_entries(&self) -> u64 {
        self.inner.approximate_num_entries()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn wipe(&mut self) -> Result<(), StoreError> {
        self.inner.wipe()
    }

    fn segment_count(&self) -> usize {
        self.inner.segment_count()
    }

    fn timestamped(&self) -> bool {
        true
    }
}
