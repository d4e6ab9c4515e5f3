//! Session stores (Kafka's `SessionStore<Bytes, byte[]>`): values by key and session
//! `[start, end]`, segmented by end time like a window store.
//!
//! The changelog key is Kafka's session binary key: `key ‖ end (8 bytes) ‖ start (8 bytes)`,
//! big-endian.

use std::ops::Bound;

use bytes::{BufMut, Bytes, BytesMut};

use super::backend::{MemoryBackend, SharedBackend};
use super::ordered_key::{encode, push_key, push_time, read_time, split_key};
use super::segments::Segments;
use super::window::default_segment_interval;
use super::{ChangelogRecord, StoreError};

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// The record key.
    pub key: Bytes,
    /// The session's first record time.
    pub start: i64,
    /// The session's last record time.
    pub end: i64,
    /// The aggregate.
    pub value: Bytes,
}

/// Kafka's session changelog key: `key ‖ end ‖ start`.
pub fn session_changelog_key(key: &[u8], start: i64, end: i64) -> Bytes {
    let mut out = BytesMut::with_capacity(key.len() + 16);
    out.put_slice(key);
    out.put_i64(end);
    out.put_i64(start);
    out.freeze()
}

/// Split a session changelog key into (key, start, end).
pub fn parse_session_changelog_key(bytes: &[u8]) -> Option<(&[u8], i64, i64)> {
    let split = bytes.len().checked_sub(16)?;
    let (key, tail) = bytes.split_at(split);
    let end = i64::from_be_bytes(tail[..8].try_into().ok()?);
    let start = i64::from_be_bytes(tail[8..].try_into().ok()?);
    Some((key, start, end))
}

/// A store of sessions over segment tables of a backend.
#[derive(Debug)]
pub struct SessionStore {
    name: String,
    segments: Segments,
    persistent: bool,
    retention_ms: i64,
    stream_time: i64,
}

impl SessionStore {
    /// The store `name` in `backend`, keeping sessions whose end is within `retention_ms` of
    /// stream time.
    pub fn new(
        name: impl Into<String>,
        backend: SharedBackend,
        retention_ms: i64,
    ) -> Result<Self, StoreError> {
        let name = name.into();
        let segments = Segments::open(&name, backend, default_segment_interval(retention_ms))?;
        let mut stream_time = -1;
        for (k, _) in segments.newest_entries()? {
            if let Some((_, end, _)) = decode(&k) {
                stream_time = stream_time.max(end);
            }
        }
        Ok(SessionStore {
            name,
            persistent: segments.persistent(),
            segments,
            retention_ms,
            stream_time,
        })
    }

    /// An in-memory session store (Kafka's `Stores.inMemorySessionStore`).
    pub fn in_memory(name: impl Into<String>, retention_ms: i64) -> Result<Self, StoreError> {
        Self::new(
            name,
            SharedBackend::new(Box::new(MemoryBackend::new())),
            retention_ms,
        )
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            detail: e.to_string(),
        }
    }

    /// The earliest session end still live: a session ending at or before stream time minus
    /// the retention is expired, whatever its segment (Kafka's session stores filter by it).
    fn min_live_end(&self) -> i64 {
        if self.stream_time < 0 {
            i64::MIN
        } else {
            self.stream_time
                .saturating_sub(self.retention_ms)
                .saturating_add(1)
        }
    }

    fn min_live_segment(&self) -> i64 {
        self.segments.min_live(self.stream_time, self.retention_ms)
    }

    /// Put (or with `None` remove) the session `[start, end]` of `key`. Returns the
    /// changelog key, or `None` when the session ended before the retention and was dropped.
    pub fn put(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
        value: Option<&[u8]>,
    ) -> Result<Option<Bytes>, StoreError> {
        self.stream_time = self.stream_time.max(end);
        let id = self.segments.id(end);
        if id < self.min_live_segment() || end < self.min_live_end() {
            return Ok(None);
        }
        let table = self.segments.table(id);
        let k = encode(key, &[end, start]);
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
        let min_live = self.min_live_segment();
        self.segments.drop_before(min_live)?;
        Ok(Some(session_changelog_key(key, start, end)))
    }

    /// Remove a session.
    pub fn remove(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        self.put(key, start, end, None)
    }

    /// The aggregate of exactly the session `[start, end]` of `key` (`None` once it ended
    /// behind the retention).
    pub fn fetch_session(
        &mut self,
        key: &[u8],
        start: i64,
        end: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        let id = self.segments.id(end);
        if !self.segments.contains(id) || end < self.min_live_end() {
            return Ok(None);
        }
        let table = self.segments.table(id);
        self.segments
            .backend()
            .lock()
            .get(&table, &encode(key, &[end, start]))
            .map_err(|e| self.err(e))
    }

    /// Sessions of keys in `[key_from, key_to]` that end at or after `earliest_end` and start
    /// at or before `latest_start` (the sessions a record at a time could merge with), by
    /// segment, then key, then end time (reversed when `backward`).
    pub fn find_sessions(
        &mut self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
        backward: bool,
    ) -> Result<Vec<SessionEntry>, StoreError> {
        if let (Some(f), Some(t)) = (key_from, key_to) {
            if f > t {
                return Ok(Vec::new());
            }
        }
        let lower = key_from.map(|k| {
            let mut v = Vec::new();
            push_key(&mut v, k);
            v
        });
        let upper = key_to.map(|k| {
            let mut v = Vec::new();
            push_key(&mut v, k);
            push_time(&mut v, i64::MAX);
            push_time(&mut v, i64::MAX);
            v
        });
        let min_live_end = self.min_live_end();
        let ids = self.segments.ids_between(
            self.segments.id(earliest_end).max(self.min_live_segment()),
            i64::MAX,
        );
        let mut out = Vec::new();
        let order: Box<dyn Iterator<Item = &i64>> = if backward {
            Box::new(ids.iter().rev())
        } else {
            Box::new(ids.iter())
        };
        for id in order {
            let lo = lower.as_deref().map_or(Bound::Unbounded, Bound::Included);
            let hi = upper.as_deref().map_or(Bound::Unbounded, Bound::Included);
            let entries = self
                .segments
                .backend()
                .lock()
                .range(&self.segments.table(*id), lo, hi, backward)
                .map_err(|e| self.err(e))?;
            for (k, v) in entries {
                let (key, end, start) = decode(&k)
                    .ok_or_else(|| self.err(format!("malformed stored session key {k:?}")))?;
                if end >= earliest_end && end >= min_live_end && start <= latest_start {
                    out.push(SessionEntry {
                        key: Bytes::from(key),
                        start,
                        end,
                        value: v,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Sessions of one key (see [`find_sessions`](Self::find_sessions)).
    pub fn find_key_sessions(
        &mut self,
        key: &[u8],
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<SessionEntry>, StoreError> {
        self.find_sessions(Some(key), Some(key), earliest_end, latest_start, false)
    }

    /// Apply changelog records (Kafka's session binary keys) while restoring.
    pub fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError> {
        for r in records {
            let (key, start, end) = parse_session_changelog_key(&r.key).ok_or_else(|| {
                self.err(format!(
                    "changelog key of {} bytes is not a session key (key ‖ 8-byte end ‖ 8-byte start)",
                    r.key.len()
                ))
            })?;
            self.put(key, start, end, r.value.as_deref())?;
        }
        Ok(())
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of stored sessions.
    pub fn approximate_num_entries(&self) -> u64 {
        self.segments.len()
    }

    /// Whether content survives a restart.
    pub fn persistent(&self) -> bool {
        self.persistent
    }

    /// Delete everything.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        self.segments.drop_all()?;
        self.stream_time = -1;
        Ok(())
    }
}

fn decode(bytes: &[u8]) -> Option<(Vec<u8>, i64, i64)> {
    let (key, rest) = split_key(bytes)?;
    let (end, rest) = read_time(rest)?;
    let (start, rest) = read_time(rest)?;
    rest.is_empty().then_some((key, end, start))
}
