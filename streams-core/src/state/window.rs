//! Window stores (Kafka's `WindowStore<Bytes, byte[]>`): values by key and window start,
//! kept for `retention` and split into time segments, one backend table each, so expired
//! windows go by dropping whole tables rather than deleting key by key.
//!
//! Layout, as Kafka's RocksDB segmented store: segment `id = window_start / segment_interval`
//! in table `<store>.<id * segment_interval>`; the changelog key is Kafka's windowed binary
//! key, `key ‖ window_start (8 bytes, big-endian) ‖ sequence number (4 bytes)`.

use std::collections::BTreeSet;
use std::ops::Bound;

use bytes::{BufMut, Bytes, BytesMut};

use super::backend::{MemoryBackend, SharedBackend};
use super::ordered_key::{encode, push_key, push_time, read_time, split_key};
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

/// Kafka's default segment interval: half the retention, at least one minute.
pub fn default_segment_interval(retention_ms: i64) -> i64 {
    (retention_ms / 2).max(60_000)
}

/// A window store over segment tables of a backend.
#[derive(Debug)]
pub struct SegmentedWindowStore {
    name: String,
    backend: SharedBackend,
    persistent: bool,
    retention_ms: i64,
    segment_interval: i64,
    retain_duplicates: bool,
    seqnum: i32,
    /// Live segment ids.
    segments: BTreeSet<i64>,
    /// The largest window start seen (Kafka's observed stream time); -1 before any.
    stream_time: i64,
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
        let err = |e: super::backend::BackendError| StoreError {
            store: name.clone(),
            detail: e.to_string(),
        };
        let (persistent, tables) = {
            let mut b = backend.lock();
            (b.persistent(), b.tables().map_err(err)?)
        };
        let prefix = format!("{name}.");
        let segment_interval = segment_interval.max(1);
        let segments: BTreeSet<i64> = tables
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix)?.parse::<i64>().ok())
            .map(|start| start.div_euclid(segment_interval))
            .collect();
        let mut store = SegmentedWindowStore {
            name,
            backend,
            persistent,
            retention_ms,
            segment_interval,
            retain_duplicates,
            seqnum: 0,
            segments,
            stream_time: -1,
        };
        if let Some(&last) = store.segments.iter().next_back() {
            let entries = store
                .backend
                .lock()
                .range(
                    &store.table(last),
                    Bound::Unbounded,
                    Bound::Unbounded,
                    false,
                )
                .map_err(|e| store.err(e))?;
            for (k, _) in entries {
                if let Some((_, start, _)) = decode_table_key(&k) {
                    store.stream_time = store.stream_time.max(start);
                }
            }
        }
        Ok(store)
    }

    /// An in-memory window store (Kafka's `Stores.inMemoryWindowStore`).
    pub fn in_memory(
        name: impl Into<String>,
        retention_ms: i64,
        retain_duplicates: bool,
    ) -> Result<Self, StoreError> {
        Self::new(
            name,
            SharedBackend::new(Box::new(MemoryBackend::new())),
            retention_ms,
            default_segment_interval(retention_ms),
            retain_duplicates,
        )
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            detail: e.to_string(),
        }
    }

    fn segment_id(&self, t: i64) -> i64 {
        t.div_euclid(self.segment_interval)
    }

    fn table(&self, segment: i64) -> String {
        format!(
            "{}.{}",
            self.name,
            segment.saturating_mul(self.segment_interval)
        )
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
        let min_live = self.segment_id(self.stream_time.saturating_sub(self.retention_ms));
        let expired: Vec<i64> = self.segments.range(..min_live).copied().collect();
        for id in expired {
            let table = self.table(id);
            self.backend
                .lock()
                .drop_table(&table)
                .map_err(|e| self.err(e))?;
            self.segments.remove(&id);
        }
        Ok(())
    }

    fn write(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        window_start: i64,
        seqnum: i32,
    ) -> Result<bool, StoreError> {
        self.stream_time = self.stream_time.max(window_start);
        let id = self.segment_id(window_start);
        let min_live = self.segment_id(self.stream_time.saturating_sub(self.retention_ms));
        if id < min_live {
            self.drop_expired_segments()?;
            return Ok(false);
        }
        let table = self.table(id);
        let k = table_key(key, window_start, seqnum);
        {
            let mut b = self.backend.lock();
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
            self.segments.insert(id);
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
        let ids: Vec<i64> = self
            .segments
            .range(self.segment_id(from)..=self.segment_id(to))
            .copied()
            .collect();
        let mut out = Vec::new();
        let order: Box<dyn Iterator<Item = &i64>> = if backward {
            Box::new(ids.iter().rev())
        } else {
            Box::new(ids.iter())
        };
        for id in order {
            let entries = self
                .backend
                .lock()
                .range(
                    &self.table(*id),
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
        let id = self.segment_id(window_start);
        if !self.segments.contains(&id) {
            return Ok(None);
        }
        let table = self.table(id);
        self.backend
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
        let min_live = self.segment_id(self.stream_time.saturating_sub(self.retention_ms));
        let mut by_segment: std::collections::BTreeMap<i64, Vec<(Bytes, Option<Bytes>)>> =
            std::collections::BTreeMap::new();
        for (key, start, seq, value) in parsed {
            let id = self.segment_id(start);
            if id < min_live {
                continue;
            }
            by_segment
                .entry(id)
                .or_default()
                .push((Bytes::from(table_key(key, start, seq)), value));
        }
        for (id, writes) in by_segment {
            let table = self.table(id);
            self.backend
                .lock()
                .write_batch(&table, &writes)
                .map_err(|e| StoreError {
                    store: self.name.clone(),
                    detail: e.to_string(),
                })?;
            if writes.iter().any(|(_, v)| v.is_some()) {
                self.segments.insert(id);
            }
        }
        self.drop_expired_segments()
    }

    fn approximate_num_entries(&self) -> u64 {
        let mut b = self.backend.lock();
        self.segments
            .iter()
            .map(|id| b.len(&self.table(*id)).unwrap_or(0))
            .sum()
    }

    fn persistent(&self) -> bool {
        self.persistent
    }

    fn wipe(&mut self) -> Result<(), StoreError> {
        let ids: Vec<i64> = self.segments.iter().copied().collect();
        for id in ids {
            let table = self.table(id);
            self.backend
                .lock()
                .drop_table(&table)
                .map_err(|e| self.err(e))?;
        }
        self.segments.clear();
        self.stream_time = -1;
        Ok(())
    }

    fn segment_count(&self) -> usize {
        self.segments.len()
    }
}
