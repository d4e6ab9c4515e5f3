//! Typed views of timestamped key-value, window, session and versioned stores, for the
//! record being processed (its timestamp stamps the changelog writes).

use bytes::Bytes;

use super::{parse_session_changelog_key, session_changelog_key};
use super::{split_timestamped, split_window_cache_key, window_cache_key};
use super::{ChangelogRecord, StateStore, StoreError, StoreHandle, StoreSlot};
use super::{SessionStore, VersionedKeyValueStore, VersionedPut, WindowStore};

fn log(slot: &mut StoreSlot, key: Bytes, value: Option<Bytes>, timestamp: i64) {
    if let Some(changelog) = &mut slot.changelog {
        changelog.push(ChangelogRecord {
            key,
            value,
            timestamp,
        });
    }
}

/// A value with its timestamp (Kafka's `ValueAndTimestamp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueAndTimestamp<V> {
    /// The value.
    pub value: V,
    /// Its timestamp.
    pub timestamp: i64,
}

/// A typed view of a timestamped key-value store.
pub struct TimestampedKeyValueStoreRef<'a, K, V> {
    pub(crate) handle: &'a StoreHandle<K, V>,
    pub(crate) slot: &'a mut StoreSlot,
    pub(crate) timestamp: i64,
}

impl<K: 'static, V: 'static> TimestampedKeyValueStoreRef<'_, K, V> {
    fn store(&mut self) -> Result<&mut dyn super::KeyValueStore, StoreError> {
        match &mut self.slot.store {
            StateStore::TimestampedKeyValue(s) => Ok(s.as_mut()),
            other => Err(other.wrong_kind("timestamped key-value")),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<ValueAndTimestamp<V>, StoreError> {
        let (ts, value) = bytes.split_first_chunk::<8>().ok_or_else(|| {
            self.handle
                .err("a stored value is shorter than its 8-byte timestamp")
        })?;
        Ok(ValueAndTimestamp {
            value: self.handle.value_of(value)?,
            timestamp: i64::from_be_bytes(*ts),
        })
    }

    /// The stored bytes (timestamp ‖ value) of `key`, through the cache when there is one.
    fn get_bytes(&mut self, k: &Bytes) -> Result<Option<Bytes>, StoreError> {
        if let Some(cached) = self.slot.cache.as_mut().and_then(|c| c.get(k)) {
            return Ok(cached);
        }
        let v = self.store()?.get(k)?;
        if let (Some(cache), Some(v)) = (&mut self.slot.cache, &v) {
            let evicted = cache.remember(k.clone(), v.clone());
            self.slot.apply_flushed(evicted)?;
        }
        Ok(v)
    }

    /// The value of `key` with its timestamp.
    pub fn get(&mut self, key: &K) -> Result<Option<ValueAndTimestamp<V>>, StoreError> {
        self.slot.ops.gets += 1;
        let k = self.handle.key_bytes(key)?;
        match self.get_bytes(&k)? {
            None => Ok(None),
            Some(v) => self.decode(&v).map(Some),
        }
    }

    /// Set `key` to `value` stamped `timestamp` (`None`: delete).
    pub fn put(&mut self, key: &K, value: Option<&V>, timestamp: i64) -> Result<(), StoreError> {
        self.slot.ops.puts += 1;
        let k = self.handle.key_bytes(key)?;
        let v = match value {
            Some(v) => self.handle.value_bytes(v)?,
            None => None,
        };
        if let Some(cache) = &mut self.slot.cache {
            // Cached: the write reaches the store and the changelog at the next flush, or
            // when the budget evicts it, stamped `timestamp`.
            let stored = v.as_ref().map(|v| {
                let mut stored = Vec::with_capacity(8 + v.len());
                stored.extend_from_slice(&timestamp.to_be_bytes());
                stored.extend_from_slice(v);
                Bytes::from(stored)
            });
            let evicted = cache.put(k, stored, timestamp);
            return self.slot.apply_flushed(evicted);
        }
        match &v {
            Some(v) => {
                let mut stored = Vec::with_capacity(8 + v.len());
                stored.extend_from_slice(&timestamp.to_be_bytes());
                stored.extend_from_slice(v);
                self.store()?.put(k.clone(), Bytes::from(stored))?;
            }
            None => {
                self.store()?.delete(&k)?;
            }
        }
        log(self.slot, k, v, timestamp);
        Ok(())
    }

    /// Every entry in key-byte order.
    pub fn all(&mut self) -> Result<Vec<(K, ValueAndTimestamp<V>)>, StoreError> {
        self.slot.ops.ranges += 1;
        // Dirty cache entries go to the store before it is scanned.
        self.slot.flush_cache()?;
        let entries = self.store()?.range(None, None)?;
        entries
            .iter()
            .map(|(k, v)| Ok((self.handle.key_of(k)?, self.decode(v)?)))
            .collect()
    }

    /// The entries whose key bytes start with `prefix`, in key-byte order, each with its key
    /// bytes (Kafka's `prefixScan`, as a foreign-key join's subscription store is read).
    pub fn prefix_scan_bytes(
        &mut self,
        prefix: &[u8],
    ) -> Result<Vec<(Bytes, ValueAndTimestamp<V>)>, StoreError> {
        self.slot.ops.ranges += 1;
        self.slot.flush_cache()?;
        let entries = self.store()?.prefix_scan(prefix)?;
        entries
            .into_iter()
            .map(|(k, v)| Ok((k, self.decode(&v)?)))
            .collect()
    }

    /// The timestamp of the record being processed.
    pub fn record_timestamp(&self) -> i64 {
        self.timestamp
    }
}

/// A typed view of a window store.
pub struct WindowStoreRef<'a, K, V> {
    pub(crate) handle: &'a StoreHandle<K, V>,
    pub(crate) slot: &'a mut StoreSlot,
    pub(crate) timestamp: i64,
}

/// A typed window: key, window start, value.
pub type Windowed<K, V> = (K, i64, V);

impl<K: 'static, V: 'static> WindowStoreRef<'_, K, V> {
    fn store(&mut self) -> Result<&mut dyn WindowStore, StoreError> {
        match &mut self.slot.store {
            StateStore::Window(s) => Ok(s.as_mut()),
            other => Err(other.wrong_kind("window")),
        }
    }

    /// Put `value` (`None`: delete) for `key` in the window starting at `window_start`.
    /// A window already past the retention is dropped, as in Kafka: `false` then (Kafka
    /// counts such a write in the task's `dropped-records`). With a record cache the write
    /// waits in it (Kafka's `CachingWindowStore`) and reaches the store and its changelog at
    /// the next flush: `true`.
    pub fn put(
        &mut self,
        key: &K,
        value: Option<&V>,
        window_start: i64,
    ) -> Result<bool, StoreError> {
        self.slot.ops.puts += 1;
        let k = self.handle.key_bytes(key)?;
        let v = match value {
            Some(v) => self.handle.value_bytes(v)?,
            None => None,
        };
        if let Some(cache) = self.slot.cache.as_mut().filter(|c| c.enabled()) {
            let evicted = cache.put(window_cache_key(&k, window_start), v, self.timestamp);
            self.slot.apply_flushed(evicted)?;
            return Ok(true);
        }
        let store = self.store()?;
        let timestamped = store.timestamped();
        match store.put(&k, v.as_deref(), window_start)? {
            Some(changelog_key) => {
                // A timestamped store logs the plain value stamped with its timestamp.
                let (v, ts) = match v {
                    Some(v) if timestamped => match split_timestamped(&v) {
                        Some((plain, ts)) => (Some(plain), ts),
                        None => (Some(v), self.timestamp),
                    },
                    other => (other, self.timestamp),
                };
                log(self.slot, changelog_key, v, ts);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The value of `key` in the window starting at `window_start` (the cached one first).
    pub fn fetch(&mut self, key: &K, window_start: i64) -> Result<Option<V>, StoreError> {
        self.slot.ops.gets += 1;
        let k = self.handle.key_bytes(key)?;
        let cached = self
            .slot
            .cache
            .as_mut()
            .and_then(|c| c.get(&window_cache_key(&k, window_start)));
        let bytes = match cached {
            Some(cached) => cached,
            None => self.store()?.fetch(&k, window_start)?,
        };
        bytes.map(|v| self.handle.value_of(&v)).transpose()
    }

    fn typed(&self, entries: Vec<super::WindowEntry>) -> Result<Vec<Windowed<K, V>>, StoreError> {
        entries
            .iter()
            .map(|e| {
                Ok((
                    self.handle.key_of(&e.key)?,
                    e.window_start,
                    self.handle.value_of(&e.value)?,
                ))
            })
            .collect()
    }

    /// `entries` from the store with the cached windows of `key` (every key when `None`)
    /// starting in `[from, to]` laid over them, as Kafka's caching window store merges its
    /// cache and store iterators; by key, then start.
    fn with_cached(
        &self,
        entries: Vec<super::WindowEntry>,
        key: Option<&[u8]>,
        from: i64,
        to: i64,
    ) -> Vec<super::WindowEntry> {
        let Some(cache) = &self.slot.cache else {
            return entries;
        };
        let cached = cache.entries_where(|ck| {
            split_window_cache_key(ck).is_some_and(|(k, start)| {
                key.is_none_or(|want| want == k) && start >= from && start <= to
            })
        });
        if cached.is_empty() {
            return entries;
        }
        let mut merged: std::collections::BTreeMap<(Bytes, i64), Bytes> = entries
            .into_iter()
            .map(|e| ((e.key, e.window_start), e.value))
            .collect();
        for (ck, value) in cached {
            if let Some((k, start)) = split_window_cache_key(&ck) {
                let at = (Bytes::copy_from_slice(k), start);
                match value {
                    Some(v) => {
                        merged.insert(at, v);
                    }
                    None => {
                        merged.remove(&at);
                    }
                }
            }
        }
        merged
            .into_iter()
            .map(|((key, window_start), value)| super::WindowEntry {
                key,
                window_start,
                value,
            })
            .collect()
    }

    /// Windows of `key` starting in `[from, to]` (latest first when `backward`).
    pub fn fetch_range(
        &mut self,
        key: &K,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<Windowed<K, V>>, StoreError> {
        self.slot.ops.ranges += 1;
        let k = self.handle.key_bytes(key)?;
        let entries = self.store()?.fetch_range(&k, from, to, false)?;
        let mut entries = self.with_cached(entries, Some(&k), from, to);
        if backward {
            entries.reverse();
        }
        self.typed(entries)
    }

    /// Windows starting in `[from, to]` of every key.
    pub fn fetch_all(
        &mut self,
        from: i64,
        to: i64,
        backward: bool,
    ) -> Result<Vec<Windowed<K, V>>, StoreError> {
        self.slot.ops.ranges += 1;
        let entries = self.store()?.fetch_keys(None, None, from, to, backward)?;
        let entries = if self.slot.cache.is_some() {
            let mut merged = self.with_cached(entries, None, from, to);
            if backward {
                merged.reverse();
            }
            merged
        } else {
            entries
        };
        self.typed(entries)
    }

    /// Every live window.
    pub fn all(&mut self) -> Result<Vec<Windowed<K, V>>, StoreError> {
        self.fetch_all(i64::MIN, i64::MAX, false)
    }
}

/// A typed session: key, start, end, aggregate.
pub type Session<K, V> = (K, i64, i64, V);

/// A typed view of a session store.
pub struct SessionStoreRef<'a, K, V> {
    pub(crate) handle: &'a StoreHandle<K, V>,
    pub(crate) slot: &'a mut StoreSlot,
    pub(crate) timestamp: i64,
}

impl<K: 'static, V: 'static> SessionStoreRef<'_, K, V> {
    fn store(&mut self) -> Result<&mut SessionStore, StoreError> {
        match &mut self.slot.store {
            StateStore::Session(s) => Ok(s),
            other => Err(other.wrong_kind("session")),
        }
    }

    /// Put (`None`: remove) the session `[start, end]` of `key`. A session that ended
    /// behind the retention is dropped, as in Kafka: `false` then (Kafka counts such a write
    /// in the task's `dropped-records`). With a record cache the write waits in it (Kafka's
    /// `CachingSessionStore`) until the next flush: `true`.
    pub fn put(
        &mut self,
        key: &K,
        start: i64,
        end: i64,
        value: Option<&V>,
    ) -> Result<bool, StoreError> {
        self.slot.ops.puts += 1;
        let k = self.handle.key_bytes(key)?;
        let v = match value {
            Some(v) => self.handle.value_bytes(v)?,
            None => None,
        };
        if let Some(cache) = self.slot.cache.as_mut().filter(|c| c.enabled()) {
            let evicted = cache.put(session_changelog_key(&k, start, end), v, self.timestamp);
            self.slot.apply_flushed(evicted)?;
            return Ok(true);
        }
        match self.store()?.put(&k, start, end, v.as_deref())? {
            Some(changelog_key) => {
                log(self.slot, changelog_key, v, self.timestamp);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Remove the session `[start, end]` of `key` (`false`: it ended behind the retention).
    pub fn remove(&mut self, key: &K, start: i64, end: i64) -> Result<bool, StoreError> {
        self.put(key, start, end, None)
    }

    /// `entries` from the store with the cached sessions `keep` accepts laid over them (as
    /// Kafka's caching session store merges its cache and store iterators), by end, then key,
    /// then start.
    fn with_cached(
        &self,
        entries: Vec<super::SessionEntry>,
        mut keep: impl FnMut(&[u8], i64, i64) -> bool,
    ) -> Vec<super::SessionEntry> {
        let Some(cache) = &self.slot.cache else {
            return entries;
        };
        let cached = cache.entries_where(|ck| {
            parse_session_changelog_key(ck).is_some_and(|(k, start, end)| keep(k, start, end))
        });
        let mut merged: std::collections::BTreeMap<(i64, Bytes, i64), Bytes> = entries
            .into_iter()
            .map(|e| ((e.end, e.key, e.start), e.value))
            .collect();
        for (ck, value) in cached {
            if let Some((k, start, end)) = parse_session_changelog_key(&ck) {
                let at = (end, Bytes::copy_from_slice(k), start);
                match value {
                    Some(v) => {
                        merged.insert(at, v);
                    }
                    None => {
                        merged.remove(&at);
                    }
                }
            }
        }
        merged
            .into_iter()
            .map(|((end, key, start), value)| super::SessionEntry {
                key,
                start,
                end,
                value,
            })
            .collect()
    }

    fn typed(&self, entries: &[super::SessionEntry]) -> Result<Vec<Session<K, V>>, StoreError> {
        entries
            .iter()
            .map(|e| {
                Ok((
                    self.handle.key_of(&e.key)?,
                    e.start,
                    e.end,
                    self.handle.value_of(&e.value)?,
                ))
            })
            .collect()
    }

    /// Sessions of every key ending in `[earliest_end, latest_end]` (those an
    /// emit-on-window-close aggregation emits when they close), by end, then key bytes, then
    /// start.
    pub fn find_sessions_ending(
        &mut self,
        earliest_end: i64,
        latest_end: i64,
    ) -> Result<Vec<Session<K, V>>, StoreError> {
        self.slot.ops.ranges += 1;
        let mut entries = self
            .store()?
            .find_sessions(None, None, earliest_end, i64::MAX, false)?;
        entries.retain(|e| e.end <= latest_end);
        let mut entries = self.with_cached(entries, |_, _, end| {
            end >= earliest_end && end <= latest_end
        });
        entries.sort_by(|a, b| (a.end, &a.key, a.start).cmp(&(b.end, &b.key, b.start)));
        self.typed(&entries)
    }

    /// Sessions of `key` ending at or after `earliest_end` and starting at or before
    /// `latest_start` (those a new record could merge with), by end, then start.
    pub fn find_sessions(
        &mut self,
        key: &K,
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<Session<K, V>>, StoreError> {
        self.slot.ops.ranges += 1;
        let k = self.handle.key_bytes(key)?;
        let entries = self
            .store()?
            .find_key_sessions(&k, earliest_end, latest_start)?;
        let entries = self.with_cached(entries, |ck, start, end| {
            ck == k.as_ref() && end >= earliest_end && start <= latest_start
        });
        self.typed(&entries)
    }
}

/// A typed view of a versioned key-value store.
pub struct VersionedStoreRef<'a, K, V> {
    pub(crate) handle: &'a StoreHandle<K, V>,
    pub(crate) slot: &'a mut StoreSlot,
}

impl<K: 'static, V: 'static> VersionedStoreRef<'_, K, V> {
    fn store(&mut self) -> Result<&mut VersionedKeyValueStore, StoreError> {
        match &mut self.slot.store {
            StateStore::Versioned(s) => Ok(s),
            other => Err(other.wrong_kind("versioned key-value")),
        }
    }

    /// Record `value` (`None`: a delete) for `key`, valid from `timestamp`: dropped (behind the
    /// history retention, not logged either), the latest version, or an older one.
    pub fn put(
        &mut self,
        key: &K,
        value: Option<&V>,
        timestamp: i64,
    ) -> Result<VersionedPut, StoreError> {
        self.slot.ops.puts += 1;
        let k = self.handle.key_bytes(key)?;
        let v = match value {
            Some(v) => self.handle.value_bytes(v)?,
            None => None,
        };
        let put = self.store()?.put(&k, v.as_deref(), timestamp)?;
        if put.is_put() {
            log(self.slot, k, v, timestamp);
        }
        Ok(put)
    }

    /// The value of `key` valid at `as_of` (latest when `None`), with its timestamp.
    pub fn get(
        &mut self,
        key: &K,
        as_of: Option<i64>,
    ) -> Result<Option<ValueAndTimestamp<V>>, StoreError> {
        self.slot.ops.gets += 1;
        let k = self.handle.key_bytes(key)?;
        let record = self.store()?.get_as_of(&k, as_of.unwrap_or(i64::MAX))?;
        record
            .map(|r| {
                Ok(ValueAndTimestamp {
                    value: self.handle.value_of(&r.value)?,
                    timestamp: r.timestamp,
                })
            })
            .transpose()
    }
}
