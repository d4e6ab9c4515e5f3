//! A store shared between threads: global stores are written by the global thread and read by
//! every task (Kafka's global state stores, read-only to processors).

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::{KeyValueStore, StoreError};

/// A handle on a store behind a lock; clones share the store. A read-only handle refuses
/// writes with an error naming the store.
#[derive(Debug, Clone)]
pub struct SharedStore {
    name: String,
    inner: Arc<Mutex<Box<dyn KeyValueStore>>>,
    read_only: bool,
}

impl SharedStore {
    /// Share `store` (writable through this handle).
    pub fn new(store: Box<dyn KeyValueStore>) -> Self {
        SharedStore {
            name: store.name().to_owned(),
            inner: Arc::new(Mutex::new(store)),
            read_only: false,
        }
    }

    /// A handle on the same store that refuses writes.
    pub fn read_only(&self) -> Self {
        SharedStore {
            read_only: true,
            ..self.clone()
        }
    }

    fn lock(&self) -> MutexGuard<'_, Box<dyn KeyValueStore>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError {
                store: self.name.clone(),
                detail:
                    "a global store is read-only to processors; it is written only from its topic"
                        .into(),
            });
        }
        Ok(())
    }
}

impl KeyValueStore for SharedStore {
    fn name(&self) -> &str {
        &self.name
    }
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.lock().get(key)
    }
    fn put(&mut self, key: Bytes, value: Bytes) -> Result<(), StoreError> {
        self.writable()?;
        self.lock().put(key, value)
    }
    fn delete(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.writable()?;
        self.lock().delete(key)
    }
    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        self.lock().range(from, to)
    }
    fn prefix_scan(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        self.lock().prefix_scan(prefix)
    }
    fn approximate_num_entries(&self) -> u64 {
        self.lock().approximate_num_entries()
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        self.lock().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::InMemoryKeyValueStore;

    #[test]
    fn a_read_only_handle_sees_writes_and_refuses_its_own() {
        let mut writer = SharedStore::new(Box::new(InMemoryKeyValueStore::new("g")));
        let mut reader = writer.read_only();
        writer
            .put(Bytes::from_static(b"k"), Bytes::from_static(b"v"))
            .unwrap();
        assert_eq!(reader.get(b"k").unwrap(), Some(Bytes::from_static(b"v")));
        let e = reader
            .put(Bytes::from_static(b"k"), Bytes::from_static(b"x"))
            .unwrap_err();
        assert!(e.detail.contains("read-only"), "{e}");
    }
}
