//! Window stores (Kafka's `WindowStore<Bytes, byte[]>`): values by key and window start,
//! kept for `retention` and split into time segments, one backend table each, so expired
//! windows go by dropping whole tables rather than deleting key by key.
//!
//! Layout, as Kafka's RocksDB segmented store: segment `id = window_start / segment_interval`
//! in table `<store>.<id * segment_interval>`; the changelog key is Kafka's windowed binary
//! key, `key ‖ window_start (8 bytes, big-endian) ‖ sequence number (4 bytes)`.

use std::ops::Bound;

use bytes::{BufMut, Bytes, BytesMut};

use super::backend::{MemoryBackend, SharedBackend};
use super::ordered_key::{encode, push_key, push_time, read_time, split_key};
use super::segments::Segments;
use super::{ChangelogRecord, StoreError};

/// One stored window: its key, start and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowEntry {
    /// The record key.
    pub key: Bytes,
    /// The window's start (ms).
    pub window_start: i64,
    /// The value.
    pub value: Bytes,
}

/// A store of windowed values.
pub trait WindowStore: std::fmt::Debug + Send {
    /// The store's name.
    fn name(&self) -> &str;
    /// Put `value` for `key` in the window starting at `window_start` (`None` deletes it).
    /// Returns the changelog key to log, or `None` when the window is already expired
    /// (older than the retention behind stream time) and the write was dropped.
    fn put(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        window_start: i64,
    ) -> Result<Option<Bytes>, StoreError>;
    /// The value of `key` in the window starting at `window_start`.
    fn fetch(&mut self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError>;
    /// Windows of `key` starting in `[from, to]`, by start time (latest first when
    /// `backward`).
    fn fetch_range(
        &mut self,
        key: &[u8],
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError>;
    /// Windows starting in `[from, to]` of keys in `[key_from, key_to]` (open bounds when
    /// `None`), segment by segment, by key then start within one.
    fn fetch_keys(
        &mut self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError>;
    /// Every live window.
    fn all(&mut self) -> Result<Vec<WindowEntry>, StoreError> {
        self.fetch_keys(None, None, i64::MIN, i64::MAX, false)
    }
    /// Apply changelog records (Kafka's windowed binary keys) while restoring.
    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError>;
    /// Number of stored windows.
    fn approximate_num_entries(&self) -> u64;
    /// Whether content survives a restart.
    fn persistent(&self) -> bool;
    /// Delete everything.
    fn wipe(&mut self) -> Result<(), StoreError>;
    /// Number of live segments (for tests and metrics).
    fn segment_count(&self) -> usize;
    /// Whether values are `timestamp ‖ value` and the changelog holds the plain value stamped
    /// with that timestamp (Kafka's `TimestampedWindowStore`).
    fn timestamped(&self) -> bool {
        false
    }
}

/// Kafka's windowed changelog key: `key ‖ window_start ‖ seqnum`, big-endian.
pub fn windowed_changelog_key(key: &[u8], window_start: i64, seqnum: i32) -> Bytes {
    let mut out = BytesMut::with_capacity(key.len() + 12);
    out.put_slice(key);
    out.put_i64(window_start);
    out.put_i32(seqnum);
    out.freeze()
}

/// Split a windowed changelog key into (key, window start, seqnum).
pub fn parse_windowed_changelog_key(bytes: &[u8]) -> Option<(&[u8], i64, i32)> {
    let split = bytes.len().checked_sub(12)?;
    let (key, tail) = bytes.split_at(split);
    let start = i64::from_be_bytes(tail[..8].try_into().ok()?);
    let seq = i32::from_be_bytes(tail[8..].try_into().ok()?);
    Some((key, start, seq))
}

/// The record-cache key of a window: `key ‖ window_start` (8 bytes, big-endian).
pub fn window_cache_key(key: &[u8], window_start: i64) -> Bytes {
    let mut out = BytesMut::with_capacity(key.len() + 8);
    out.put_slice(key);
    out.put_i64(window_start);
    out.freeze()
}

/// Split a window's record-cache key into (key, window start).
pub fn split_window_cache_key(bytes: &[u8]) -> Option<(&[u8], i64)> {
    let split = bytes.len().checked_sub(8)?;
    let (key, start) = bytes.split_at(split);
    Some((key, i64::from_be_bytes(start.try_into().ok()?)))
}

/// Kafka's default segment interval: half the retention, at least one minute.
pub fn default_segment_interval(retention_ms: i64) -> i64 {
    (retention_ms / 2).max(60_000)
}

/// A window store over segment tables of a backend.
#[derive(Debug)]
pub struct SegmentedWindowStore {
    name: String,
    segments: Segments,
    persistent: bool,
    retention_ms: i64,
    retain_duplicates: bool,
    seqnum: i32,
    /// The largest window start seen (Kafka's observed stream time); -1 before any.
    stream_time: i64,
    /// A write of a window at or behind stream time minus the retention is dropped whatever
    /// its segment (Kafka's `InMemoryWindowStore`); else only a write to an expired segment
    /// is (Kafka's RocksDB segmented store).
    expire_writes_by_time: bool,
}

impl SegmentedWindowStore {
    /// The store `name` in `backend`, keeping windows for `retention_ms` in segments of
    /// `segment_interval` ms. With `retain_duplicates` (stream-stream joins) every put is kept
    /// under its own sequence number. Existing segments are found and stream time recovered.
    pub fn new(
        name: impl Into<String>,
        backend: SharedBackend,
        retention_ms: i64,
        segment_interval: i64,
        retain_duplicates: bool,
    ) -> Result<Self, StoreError> {
        let name = name.into();
        let segments = Segments::open(&name, backend, segment_interval)?;
        let mut stream_time = -1;
        for (k, _) in segments.newest_entries()? {
            if let Some((_, start, _)) = decode_table_key(&k) {
                stream_time = stream_time.max(start);
            }
        }
        Ok(SegmentedWindowStore {
            name,
            persistent: segments.persistent(),
            segments,
            retention_ms,
            retain_duplicates,
            seqnum: 0,
            stream_time,
            expire_writes_by_time: false,
        })
    }

    /// Drop writes as Kafka's `InMemoryWindowStore` does: a window starting at or before
    /// stream time minus the retention, not only one in an expired segment.
    pub fn with_writes_expired_by_time(mut self) -> Self {
        self.expire_writes_by_time = true;
        self
    }

    /// An in-memory window store (Kafka's `Stores.inMemoryWindowStore`).
    pub fn in_memory(
        name: impl Into<String>,
        retention_ms: i64,
        retain_duplicates: bool,
    ) -> Result<Self, StoreError> {
        Ok(Self::new(
            name,
            SharedBackend::new(Box::new(MemoryBackend::new())),
            retention_ms,
            default_segment_interval(retention_ms),
            retain_duplicates,
        )?
        .with_writes_expired_by_time())
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            detail: e.to_string(),
        }
    }

    /// The oldest window start still returned: anything at or before stream time minus the
    /// retention is expired.
    fn min_live_time(&self) -> i64 {
        if self.stream_time < 0 {
            i64::MIN
        } else {
            self.stream_time
                .saturating_sub(self.retention_ms)
                .saturating_add(1)
        }
    }

    /// Drop segments wholly behind the retention (one table drop each).
    fn drop_expired_segments(&mut self) -> Result<(), StoreError> {
        if self.stream_time < 0 {
            return Ok(());
        }
        let min_live = self.segments.min_live(self.stream_time, self.retention_ms);
        self.segments.drop_before(min_live)
    }

    fn write(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        window_start: i64,
        seqnum: i32,
    ) -> Result<bool, StoreError> {
        self.stream_time = self.stream_time.max(window_start);
        let id = self.segments.id(window_start);
        let min_live = self.segments.min_live(self.stream_time, self.retention_ms);
        if id < min_live || (self.expire_writes_by_time && window_start < self.min_live_time()) {
            self.drop_expired_segments()?;
            return Ok(false);
        }
        let table = self.segments.table(id);
        let k = table_key(key, window_start, seqnum);
        {
            let mut b = self.segments.backend().lock();
            match value {
                Some(v) => b.put(&table, &k, v),
                None => b.delete(&table, &k).map(|_| ()),
            }
            .map_err(|e| StoreError {
                store: self.name.clone(),
                detail: e.to_string(),
            })?;
        }
        if value.is_some() {
            self.segments.created(id);
        }
        self.drop_expired_segments()?;
        Ok(true)
    }

    fn scan(
        &mut self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        let from = from.max(self.min_live_time());
        if from > to {
            return Ok(Vec::new());
        }
        let ids = self
            .segments
            .ids_between(self.segments.id(from), self.segments.id(to));
        let mut out = Vec::new();
        let order: Box<dyn Iterator<Item = &i64>> = if backward {
            Box::new(ids.iter().rev())
        } else {
            Box::new(ids.iter())
        };
        for id in order {
            let entries = self
                .segments
                .backend()
                .lock()
                .range(
                    &self.segments.table(*id),
                    bound_ref(&lower),
                    bound_ref(&upper),
                    backward,
                )
                .map_err(|e| self.err(e))?;
            for (k, v) in entries {
                let (key, start, _) = decode_table_key(&k)
                    .ok_or_else(|| self.err(format!("malformed stored window key {k:?}")))?;
                if start >= from && start <= to {
                    out.push(WindowEntry {
                        key: Bytes::from(key),
                        window_start: start,
                        value: v,
                    });
                }
            }
        }
        Ok(out)
    }
}

fn bound_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The key inside a segment table: ordered key ‖ ordered start ‖ seqnum.
fn table_key(key: &[u8], window_start: i64, seqnum: i32) -> Vec<u8> {
    let mut k = encode(key, &[window_start]);
    k.extend_from_slice(&seqnum.to_be_bytes());
    k
}

fn decode_table_key(bytes: &[u8]) -> Option<(Vec<u8>, i64, i32)> {
    let (key, rest) = split_key(bytes)?;
    let (start, rest) = read_time(rest)?;
    let seq = i32::from_be_bytes(rest.try_into().ok()?);
    Some((key, start, seq))
}

impl WindowStore for SegmentedWindowStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn put(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        window_start: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        let seqnum = if self.retain_duplicates {
            if value.is_none() {
                // Kafka ignores deletes in a store that keeps duplicates.
                return Ok(None);
            }
            self.seqnum = self.seqnum.wrapping_add(1) & 0x7fff_ffff;
            self.seqnum
        } else {
            0
        };
        Ok(self
            .write(key, value, window_start, seqnum)?
            .then(|| windowed_changelog_key(key, window_start, seqnum)))
    }

    fn fetch(&mut self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        if window_start < self.min_live_time() {
            return Ok(None);
        }
        let id = self.segments.id(window_start);
        if !self.segments.contains(id) {
            return Ok(None);
        }
        let table = self.segments.table(id);
        self.segments
            .backend()
            .lock()
            .get(&table, &table_key(key, window_start, 0))
            .map_err(|e| self.err(e))
    }

    fn fetch_range(
        &mut self,
        key: &[u8],
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        let lower = encode(key, &[from.max(self.min_live_time())]);
        let mut upper = encode(key, &[to]);
        upper.extend_from_slice(&[0xff; 4]);
        self.scan(
            Bound::Included(lower),
            Bound::Included(upper),
            from,
            to,
            backward,
        )
    }

    fn fetch_keys(
        &mut self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<WindowEntry>, StoreError> {
        if let (Some(f), Some(t)) = (key_from, key_to) {
            if f > t {
                return Ok(Vec::new());
            }
        }
        let lower = key_from.map_or(Bound::Unbounded, |k| {
            let mut v = Vec::new();
            push_key(&mut v, k);
            Bound::Included(v)
        });
        let upper = key_to.map_or(Bound::Unbounded, |k| {
            let mut v = Vec::new();
            push_key(&mut v, k);
            push_time(&mut v, i64::MAX);
            v.extend_from_slice(&[0xff; 4]);
            Bound::Included(v)
        });
        self.scan(lower, upper, from, to, backward)
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError> {
        // Stream time after the batch decides what is expired; the writes of each segment go
        // to its table in one call.
        let mut parsed = Vec::with_capacity(records.len());
        for r in records {
            let (key, start, seq) = parse_windowed_changelog_key(&r.key).ok_or_else(|| {
                self.err(format!(
                    "changelog key of {} bytes is not a windowed key (key ‖ 8-byte start ‖ 4-byte seqnum)",
                    r.key.len()
                ))
            })?;
            self.stream_time = self.stream_time.max(start);
            if self.retain_duplicates {
                self.seqnum = self.seqnum.max(seq);
            }
            parsed.push((key, start, seq, r.value.clone()));
        }
        let min_live = self.segments.min_live(self.stream_time, self.retention_ms);
        let mut by_segment: std::collections::BTreeMap<i64, Vec<(Bytes, Option<Bytes>)>> =
            std::collections::BTreeMap::new();
        for (key, start, seq, value) in parsed {
            let id = self.segments.id(start);
            if id < min_live {
                continue;
            }
            by_segment
                .entry(id)
                .or_default()
                .push((Bytes::from(table_key(key, start, seq)), value));
        }
        for (id, mut writes) in by_segment {
            // In key order, the last write of a key winning: redb's B-tree pages fill up,
            // where a changelog written newest-window-first would leave them half empty.
            writes.reverse();
            writes.sort_by(|a, b| a.0.cmp(&b.0));
            writes.dedup_by(|later, earlier| later.0 == earlier.0);
            let table = self.segments.table(id);
            self.segments
                .backend()
                .lock()
                .write_batch(&table, &writes)
                .map_err(|e| StoreError {
                    store: self.name.clone(),
                    detail: e.to_string(),
                })?;
            if writes.iter().any(|(_, v)| v.is_some()) {
                self.segments.created(id);
            }
        }
        self.drop_expired_segments()
    }

    fn approximate_num_entries(&self) -> u64 {
        self.segments.len()
    }

    fn persistent(&self) -> bool {
        self.persistent
    }

    fn wipe(&mut self) -> Result<(), StoreError> {
        self.segments.drop_all()?;
        self.stream_time = -1;
        Ok(())
    }

    fn segment_count(&self) -> usize {
        self.segments.count()
    }
}
