//! State stores: key-value (plain, timestamped, versioned), window and session stores, on a
//! storage backend (redb or memory), and the changelog each write is recorded in.
//!
//! Stores hold bytes; [`KeyValueStoreRef`] and its siblings are the typed views a processor
//! gets, with the serdes of the store's [`StoreHandle`]. A store never sees tasks, producers or
//! topics: a logged store keeps its writes in a [`ChangelogBuffer`] that the task drains to
//! the changelog topic, and restoration feeds changelog records back through
//! [`StateStore::restore_batch`].
//!
//! Persistent stores of a task share one redb file under `state.dir` ([`StateDirectory`]);
//! the task commits their writes together with the changelog offsets they cover
//! ([`backend::StateBackend::commit`]), so a restart restores only the changelog's tail.

pub mod backend;
mod cache;
mod key_value;
mod memory;
mod ordered_key;
mod process_id;
mod segments;
mod session;
mod shared;
mod state_dir;
mod store_ref;
#[cfg(test)]
mod store_tests;
mod timestamped_window;
mod typed_refs;
mod versioned;
mod window;

pub use cache::{CacheFlush, FlushedChange, FlushedWrite, RecordCache, ThreadCacheBudget};
pub use key_value::BackendKeyValueStore;
pub use memory::InMemoryKeyValueStore;
pub use process_id::{ProcessIdentity, PROCESS_FILE};
pub use session::{parse_session_changelog_key, session_changelog_key, SessionEntry, SessionStore};
pub use shared::SharedStore;
pub use state_dir::{StateDirError, StateDirectory, TaskDirectory, DB_FILE};
pub use store_ref::{KeyValueStoreRef, StoreHandle};
pub use timestamped_window::{split_timestamped, TimestampedWindowStore};
pub use typed_refs::{
    SessionStoreRef, TimestampedKeyValueStoreRef, ValueAndTimestamp, VersionedStoreRef,
    WindowStoreRef,
};
pub use versioned::{VersionedKeyValueStore, VersionedPut, VersionedRecord};
pub use window::{
    default_segment_interval, parse_windowed_changelog_key, split_window_cache_key,
    window_cache_key, windowed_changelog_key, SegmentedWindowStore, WindowEntry, WindowStore,
};

use bytes::Bytes;

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store {store:?}: {detail}")]
pub struct StoreError {
    /// The store.
    pub store: String,
    /// What failed.
    pub detail: String,
}

/// A key-value store of bytes (Kafka's `KeyValueStore<Bytes, byte[]>`), ordered by key bytes.
pub trait KeyValueStore: std::fmt::Debug + Send {
    /// The store's name.
    fn name(&self) -> &str;
    /// The value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError>;
    /// Set `key` to `value`.
    fn put(&mut self, key: Bytes, value: Bytes) -> Result<(), StoreError>;
    /// Remove `key`; returns its old value.
    fn delete(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError>;
    /// Entries with `from <= key <= to` (either bound open when `None`), in key order.
    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError>;
    /// Entries whose key starts with `prefix`, in key order.
    fn prefix_scan(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, StoreError>;
    /// An estimate of the number of entries.
    fn approximate_num_entries(&self) -> u64;
    /// Make writes durable (a no-op for in-memory stores).
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Apply changelog records (`None`: a tombstone) while restoring.
    fn restore_batch(&mut self, records: Vec<(Bytes, Option<Bytes>)>) -> Result<(), StoreError> {
        for (k, v) in records {
            match v {
                Some(v) => self.put(k, v)?,
                None => {
                    self.delete(&k)?;
                }
            }
        }
        Ok(())
    }
    /// Whether the store keeps its content across restarts (then it is restored only from its
    /// committed changelog position on).
    fn persistent(&self) -> bool {
        false
    }
    /// Delete every entry (before a restore from the changelog's beginning).
    fn wipe(&mut self) -> Result<(), StoreError> {
        for (k, _) in self.range(None, None)? {
            self.delete(&k)?;
        }
        Ok(())
    }
}

/// A task's store of any kind.
#[derive(Debug)]
pub enum StateStore {
    /// A key-value store.
    KeyValue(Box<dyn KeyValueStore>),
    /// A key-value store whose values carry their timestamp (Kafka's
    /// `TimestampedKeyValueStore`: stored as 8-byte big-endian timestamp ‖ value; the changelog
    /// holds the plain value stamped with that timestamp).
    TimestampedKeyValue(Box<dyn KeyValueStore>),
    /// A window store.
    Window(Box<dyn WindowStore>),
    /// A session store.
    Session(SessionStore),
    /// A versioned key-value store.
    Versioned(VersionedKeyValueStore),
}

impl StateStore {
    /// The store's name.
    pub fn name(&self) -> &str {
        match self {
            StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => s.name(),
            StateStore::Window(s) => s.name(),
            StateStore::Session(s) => s.name(),
            StateStore::Versioned(s) => s.name(),
        }
    }

    /// The kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            StateStore::KeyValue(_) => "key-value",
            StateStore::TimestampedKeyValue(_) => "timestamped key-value",
            StateStore::Window(_) => "window",
            StateStore::Session(_) => "session",
            StateStore::Versioned(_) => "versioned key-value",
        }
    }

    /// Whether its content survives a restart.
    pub fn persistent(&self) -> bool {
        match self {
            StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => s.persistent(),
            StateStore::Window(s) => s.persistent(),
            StateStore::Session(s) => s.persistent(),
            StateStore::Versioned(s) => s.persistent(),
        }
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> u64 {
        match self {
            StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => {
                s.approximate_num_entries()
            }
            StateStore::Window(s) => s.approximate_num_entries(),
            StateStore::Session(s) => s.approximate_num_entries(),
            StateStore::Versioned(s) => s.approximate_num_entries(),
        }
    }

    /// Apply changelog records, in order, while restoring.
    pub fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError> {
        match self {
            StateStore::KeyValue(s) => s.restore_batch(
                records
                    .iter()
                    .map(|r| (r.key.clone(), r.value.clone()))
                    .collect(),
            ),
            StateStore::TimestampedKeyValue(s) => s.restore_batch(
                records
                    .iter()
                    .map(|r| {
                        let v = r.value.as_ref().map(|v| {
                            let mut out = Vec::with_capacity(8 + v.len());
                            out.extend_from_slice(&r.timestamp.to_be_bytes());
                            out.extend_from_slice(v);
                            Bytes::from(out)
                        });
                        (r.key.clone(), v)
                    })
                    .collect(),
            ),
            StateStore::Window(s) => s.restore_batch(records),
            StateStore::Session(s) => s.restore_batch(records),
            StateStore::Versioned(s) => s.restore_batch(records),
        }
    }

    /// Delete everything (before restoring from the changelog's beginning).
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        match self {
            StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => s.wipe(),
            StateStore::Window(s) => s.wipe(),
            StateStore::Session(s) => s.wipe(),
            StateStore::Versioned(s) => s.wipe(),
        }
    }

    /// Make writes durable where the store does so itself.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        match self {
            StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => s.flush(),
            _ => Ok(()),
        }
    }

    fn wrong_kind(&self, wanted: &str) -> StoreError {
        StoreError {
            store: self.name().to_owned(),
            detail: format!(
                "opened as a {wanted} store but it is a {} store; use the accessor of its kind",
                self.kind()
            ),
        }
    }
}

/// A write to record in a store's changelog: key, value (`None`: deleted), timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogRecord {
    /// The key.
    pub key: Bytes,
    /// The new value, or `None` for a delete.
    pub value: Option<Bytes>,
    /// The timestamp of the record that caused the write.
    pub timestamp: i64,
}

/// Writes of one logged store not yet handed to the task's record collector.
#[derive(Debug, Default)]
pub struct ChangelogBuffer {
    records: Vec<ChangelogRecord>,
}

impl ChangelogBuffer {
    /// Record a write.
    pub fn push(&mut self, record: ChangelogRecord) {
        self.records.push(record);
    }

    /// Take the writes recorded so far, in order.
    pub fn drain(&mut self) -> Vec<ChangelogRecord> {
        std::mem::take(&mut self.records)
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many writes are waiting.
    pub fn len(&self) -> usize {
        self.records.len()
    }
}

/// Operations on a store since the runtime last read them (for `stream-state-metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreOps {
    /// Reads.
    pub gets: u64,
    /// Writes (puts and deletes).
    pub puts: u64,
    /// Range and prefix scans.
    pub ranges: u64,
    /// Records restored from the changelog.
    pub restored: u64,
}

/// A store instance in a task: the store, and its changelog buffer if logging is on.
#[derive(Debug)]
pub struct StoreSlot {
    /// The store.
    pub store: StateStore,
    /// Its changelog writes, when it is logged.
    pub changelog: Option<ChangelogBuffer>,
    /// Its record cache, when caching is on (key-value and window stores).
    pub cache: Option<RecordCache>,
    /// A processor forwards this store's cache flushes: flushed writes are kept, with the
    /// values they replace, in `flushed` until the task hands them to it.
    pub forwards_flushes: bool,
    /// A flush listener wants the values flushed writes replace (Kafka's `sendOldValues`):
    /// each flushed key is then read from the store before it is overwritten.
    pub sends_old_values: bool,
    /// Flushed writes waiting for the processor that forwards them.
    pub flushed: Vec<FlushedChange>,
    /// Flushed writes a window or session store dropped as behind its retention, not yet
    /// counted in the task's `dropped-records` (Kafka's stores count them).
    pub expired_writes: u64,
    /// Operations since last read.
    pub ops: StoreOps,
}

impl StoreSlot {
    /// A slot for `store`, logged or not, without a cache.
    pub fn new(store: StateStore, logged: bool) -> Self {
        StoreSlot {
            store,
            changelog: logged.then(ChangelogBuffer::default),
            cache: None,
            forwards_flushes: false,
            sends_old_values: false,
            flushed: Vec::new(),
            expired_writes: 0,
            ops: StoreOps::default(),
        }
    }

    /// Apply writes the cache let go of to the store, and log them (a timestamped store logs
    /// the plain value, stamped with the stored timestamp; a window store's cache key is
    /// `key ‖ window start`, logged under Kafka's windowed changelog key).
    pub fn apply_flushed(&mut self, writes: Vec<FlushedWrite>) -> Result<(), StoreError> {
        for w in writes {
            let timestamped = matches!(self.store, StateStore::TimestampedKeyValue(_));
            let plain = |v: Bytes| {
                if timestamped {
                    v.slice(8.min(v.len())..)
                } else {
                    v
                }
            };
            if let StateStore::Session(_) = &self.store {
                self.apply_flushed_session(w)?;
                continue;
            }
            if self.forwards_flushes {
                let old = if self.sends_old_values {
                    match &mut self.store {
                        StateStore::KeyValue(s) | StateStore::TimestampedKeyValue(s) => {
                            s.get(&w.key)?
                        }
                        StateStore::Window(s) => match split_window_cache_key(&w.key) {
                            Some((key, start)) => s.fetch(key, start)?,
                            None => None,
                        },
                        _ => None,
                    }
                } else {
                    None
                };
                self.flushed.push(FlushedChange {
                    key: w.key.clone(),
                    new: w.value.clone().map(plain),
                    old: old.map(plain),
                    timestamp: w.timestamp,
                });
            }
            let logged = match &mut self.store {
                StateStore::KeyValue(s) => {
                    match &w.value {
                        Some(v) => s.put(w.key.clone(), v.clone())?,
                        None => {
                            s.delete(&w.key)?;
                        }
                    }
                    Some((w.key, w.value, w.timestamp))
                }
                StateStore::TimestampedKeyValue(s) => {
                    match &w.value {
                        Some(v) => s.put(w.key.clone(), v.clone())?,
                        None => {
                            s.delete(&w.key)?;
                        }
                    }
                    Some((
                        w.key,
                        w.value.map(|v| v.slice(8.min(v.len())..)),
                        w.timestamp,
                    ))
                }
                StateStore::Window(s) => {
                    let (key, start) =
                        split_window_cache_key(&w.key).ok_or_else(|| StoreError {
                            store: s.name().to_owned(),
                            detail: format!(
                                "a cached window key of {} bytes has no 8-byte window start",
                                w.key.len()
                            ),
                        })?;
                    // `None`: the window is behind the retention, the write dropped.
                    let timestamped = s.timestamped();
                    let written = s.put(key, w.value.as_deref(), start)?;
                    if written.is_none() {
                        self.expired_writes += 1;
                    }
                    match written {
                        Some(changelog_key) => {
                            let (value, ts) = match &w.value {
                                Some(v) if timestamped => match split_timestamped(v) {
                                    Some((plain, ts)) => (Some(plain), ts),
                                    None => (Some(v.clone()), w.timestamp),
                                },
                                other => (other.clone(), w.timestamp),
                            };
                            Some((changelog_key, value, ts))
                        }
                        None => None,
                    }
                }
                other => return Err(other.wrong_kind("cached key-value or window")),
            };
            if let (Some(changelog), Some((key, value, timestamp))) = (&mut self.changelog, logged)
            {
                changelog.push(ChangelogRecord {
                    key,
                    value,
                    timestamp,
                });
            }
        }
        Ok(())
    }

    /// A flushed write of a caching session store (Kafka's `CachingSessionStore`): a removal
    /// of a session the store never held is neither written, logged nor forwarded.
    fn apply_flushed_session(&mut self, w: FlushedWrite) -> Result<(), StoreError> {
        let StateStore::Session(s) = &mut self.store else {
            return Err(self.store.wrong_kind("session"));
        };
        let (key, start, end) = parse_session_changelog_key(&w.key).ok_or_else(|| StoreError {
            store: s.name().to_owned(),
            detail: format!(
                "a cached session key of {} bytes is not key ‖ 8-byte end ‖ 8-byte start",
                w.key.len()
            ),
        })?;
        let old = if w.value.is_none() || self.sends_old_values {
            s.fetch_session(key, start, end)?
        } else {
            None
        };
        if w.value.is_none() && old.is_none() {
            return Ok(());
        }
        let logged = s.put(key, start, end, w.value.as_deref())?;
        if logged.is_none() {
            self.expired_writes += 1;
        }
        if self.forwards_flushes {
            self.flushed.push(FlushedChange {
                key: w.key.clone(),
                new: w.value.clone(),
                old: if self.sends_old_values { old } else { None },
                timestamp: w.timestamp,
            });
        }
        if let (Some(changelog), Some(key)) = (&mut self.changelog, logged) {
            changelog.push(ChangelogRecord {
                key,
                value: w.value,
                timestamp: w.timestamp,
            });
        }
        Ok(())
    }

    /// Write every dirty cache entry to the store and its changelog (at commit).
    pub fn flush_cache(&mut self) -> Result<(), StoreError> {
        let writes = match &mut self.cache {
            Some(c) => c.flush(),
            None => return Ok(()),
        };
        self.apply_flushed(writes)
    }
}
