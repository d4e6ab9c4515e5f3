//! The key-value store on a [`StateBackend`](super::backend::StateBackend) table: persistent
//! on redb (Kafka's `Stores.persistentKeyValueStore`), or on a private in-memory backend.

use std::ops::Bound;

use bytes::Bytes;

use super::backend::{MemoryBackend, SharedBackend};
use super::{KeyValueStore, StoreError};

/// A key-value store in one table of a backend; the table is named after the store.
#[derive(Debug)]
pub struct BackendKeyValueStore {
    name: String,
    backend: SharedBackend,
    persistent: bool,
}

impl BackendKeyValueStore {
    /// The store `name` in `backend` (the task's redb file for a persistent store).
    pub fn new(name: impl Into<String>, backend: SharedBackend) -> Self {
        let persistent = backend.lock().persistent();
        BackendKeyValueStore {
            name: name.into(),
            backend,
            persistent,
        }
    }

    /// The store `name` on its own in-memory backend.
    pub fn in_memory(name: impl Into<String>) -> Self {
        Self::new(name, SharedBackend::new(Box::new(MemoryBackend::new())))
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            detail: e.to_string(),
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (`None`: there is none).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl KeyValueStore for BackendKeyValueStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.backend
            .lock()
            .get(&self.name, key)
            .map_err(|e| self.err(e))
    }

    fn put(&mut self, key: Bytes, value: Bytes) -> Result<(), StoreError> {
        self.backend
            .lock()
            .put(&self.name, &key, &value)
            .map_err(|e| self.err(e))
    }

    fn delete(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.backend
            .lock()
            .delete(&self.name, key)
            .map_err(|e| self.err(e))
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        let lower = from.map_or(Bound::Unbounded, Bound::Included);
        let upper = to.map_or(Bound::Unbounded, Bound::Included);
        self.backend
            .lock()
            .range(&self.name, lower, upper, false)
            .map_err(|e| self.err(e))
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        let end = prefix_end(prefix);
        let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        self.backend
            .lock()
            .range(&self.name, Bound::Included(prefix), upper, false)
            .map_err(|e| self.err(e))
    }

    fn approximate_num_entries(&self) -> u64 {
        self.backend.lock().len(&self.name).unwrap_or(0)
    }

    fn restore_batch(
        &mut self,
        mut records: Vec<(Bytes, Option<Bytes>)>,
    ) -> Result<(), StoreError> {
        // In key order, the last write of a key winning: the B-tree's pages fill up instead of
        // being split half empty by out-of-order inserts.
        records.reverse();
        records.sort_by(|a, b| a.0.cmp(&b.0));
        records.dedup_by(|later, earlier| later.0 == earlier.0);
        self.backend
            .lock()
            .write_batch(&self.name, &records)
            .map_err(|e| self.err(e))
    }

    fn persistent(&self) -> bool {
        self.persistent
    }

    fn wipe(&mut self) -> Result<(), StoreError> {
        self.backend
            .lock()
            .drop_table(&self.name)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_carries_over_0xff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn a_restore_batch_keeps_the_last_write_of_each_key() {
        let mut s = BackendKeyValueStore::in_memory("s");
        s.restore_batch(vec![
            (Bytes::from("b"), Some(Bytes::from("1"))),
            (Bytes::from("a"), Some(Bytes::from("1"))),
            (Bytes::from("b"), Some(Bytes::from("2"))),
            (Bytes::from("a"), None),
        ])
        .unwrap();
        assert_eq!(s.get(b"b").unwrap(), Some(Bytes::from("2")));
        assert_eq!(s.get(b"a").unwrap(), None);
    }

    #[test]
    fn in_memory_variant_scans_prefixes_in_key_order() {
        let mut s = BackendKeyValueStore::in_memory("s");
        for k in ["b", "a", "ab", "c"] {
            s.put(Bytes::from(k), Bytes::from(k)).unwrap();
        }
        let keys: Vec<Bytes> = s
            .prefix_scan(b"a")
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(keys, vec![Bytes::from("a"), Bytes::from("ab")]);
        assert!(s.range(Some(b"c"), Some(b"a")).unwrap().is_empty());
        assert_eq!(s.approximate_num_entries(), 4);
    }
}
