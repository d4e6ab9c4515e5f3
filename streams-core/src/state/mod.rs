//! State stores: the key-value store trait, the in-memory store, and the changelog each write
//! is recorded in.
//!
//! Stores hold bytes; [`KeyValueStoreRef`] is the typed view a processor gets, with the
//! serdes of the store's [`StoreHandle`]. A store never sees tasks, producers or topics: a
//! logged store keeps its writes in a [`ChangelogBuffer`] that the task drains to the
//! changelog topic, and restoration feeds changelog records back through
//! [`KeyValueStore::restore_batch`]. Persistent stores (redb) implement the same trait.

mod memory;
mod shared;
mod store_ref;

pub use memory::InMemoryKeyValueStore;
pub use shared::SharedStore;
pub use store_ref::{KeyValueStoreRef, StoreHandle};

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
    pub store: Box<dyn KeyValueStore>,
    /// Its changelog writes, when it is logged.
    pub changelog: Option<ChangelogBuffer>,
    /// Operations since last read.
    pub ops: StoreOps,
}
