//! Storage backends: ordered byte tables in one database per task, and the changelog
//! positions stored with them.
//!
//! A task's stores all live in one [`StateBackend`]: each store uses one or more named tables
//! (a window store one per segment). Writes since the last [`StateBackend::commit`] form one
//! unit: `commit` makes them durable together with the changelog offsets they cover, so a
//! restart restores only the changelog's tail after those offsets — there is no separate
//! checkpoint file. [`StateBackend::abort`] drops them (exactly-once, issue 15).
//!
//! Two backends: [`RedbBackend`] (a redb file under `state.dir`) and [`MemoryBackend`]
//! (B-trees in memory, empty at every start). Another engine implements this trait.

mod memory;
mod redb_backend;

pub use memory::MemoryBackend;
pub use redb_backend::RedbBackend;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use kafka_wire::TopicPartition;

/// A backend failure: which database or table, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state backend {location}: {detail}")]
pub struct BackendError {
    /// The database file or table.
    pub location: String,
    /// What failed.
    pub detail: String,
}

impl BackendError {
    pub(crate) fn new(location: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        BackendError {
            location: location.into(),
            detail: detail.to_string(),
        }
    }
}

/// Entries of a range read, in key order (or reversed).
pub type Entries = Vec<(Bytes, Bytes)>;

/// Ordered byte tables with atomic commits (one per task).
pub trait StateBackend: std::fmt::Debug + Send {
    /// The value of `key` in `table` (a missing table reads as empty).
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError>;
    /// Set `key` in `table` (created on first write).
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), BackendError>;
    /// Remove `key` from `table`; returns its old value.
    fn delete(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError>;
    /// Entries of `table` between the bounds, ascending (or descending when `reverse`).
    fn range(
        &mut self,
        table: &str,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<Entries, BackendError>;
    /// Apply many writes to one table at once (`None`: delete) — restoration's batch path.
    fn write_batch(
        &mut self,
        table: &str,
        writes: &[(Bytes, Option<Bytes>)],
    ) -> Result<(), BackendError> {
        for (k, v) in writes {
            match v {
                Some(v) => self.put(table, k, v)?,
                None => {
                    self.delete(table, k)?;
                }
            }
        }
        Ok(())
    }
    /// Drop a whole table in one step (a window store's expired segment).
    fn drop_table(&mut self, table: &str) -> Result<(), BackendError>;
    /// Names of the tables that exist, in order.
    fn tables(&mut self) -> Result<Vec<String>, BackendError>;
    /// Number of entries in `table`.
    fn len(&mut self, table: &str) -> Result<u64, BackendError>;
    /// The changelog positions of the last commit: per changelog partition, the offset to
    /// resume restoring from.
    fn committed_offsets(&self) -> &BTreeMap<TopicPartition, i64>;
    /// Commit every write since the last commit together with `offsets` (merged into the
    /// stored positions), atomically. `durable`: on disk when this returns (fsync); otherwise
    /// a crash may lose it back to the last durable commit — data and positions together.
    fn commit(
        &mut self,
        offsets: &BTreeMap<TopicPartition, i64>,
        durable: bool,
    ) -> Result<(), BackendError>;
    /// Drop every write since the last commit.
    fn abort(&mut self) -> Result<(), BackendError>;
    /// Delete everything, committed positions included (a restore from the beginning).
    fn wipe(&mut self) -> Result<(), BackendError>;
    /// Whether committed content survives a restart.
    fn persistent(&self) -> bool;
    /// Bytes used on disk (0 in memory).
    fn disk_bytes(&self) -> u64 {
        0
    }
}

/// A task's backend, shared by its stores (and by the task, which commits it).
#[derive(Debug, Clone)]
pub struct SharedBackend(Arc<Mutex<Box<dyn StateBackend>>>);

impl SharedBackend {
    /// Share `backend`.
    pub fn new(backend: Box<dyn StateBackend>) -> Self {
        SharedBackend(Arc::new(Mutex::new(backend)))
    }

    /// Lock it (a poisoned lock is taken over: the backend's own state stays consistent,
    /// every operation being a single call).
    pub fn lock(&self) -> MutexGuard<'_, Box<dyn StateBackend>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether a range's bounds cross (nothing lies between them; `BTreeMap::range` would panic).
pub(crate) fn bounds_crossed(from: Bound<&[u8]>, to: Bound<&[u8]>) -> bool {
    match (from, to) {
        (Bound::Included(f), Bound::Included(t)) => f > t,
        (Bound::Included(f) | Bound::Excluded(f), Bound::Excluded(t) | Bound::Included(t)) => {
            f >= t
        }
        _ => false,
    }
}

/// The key under which a changelog partition's position is stored.
pub(crate) fn offset_key(tp: &TopicPartition) -> String {
    format!("{}\u{0}{}", tp.topic, tp.partition)
}

/// The changelog partition of a stored position key.
pub(crate) fn parse_offset_key(key: &str) -> Option<TopicPartition> {
    let (topic, partition) = key.split_once('\u{0}')?;
    Some(TopicPartition::new(topic, partition.parse().ok()?))
}

#[cfg(test)]
mod tests;
