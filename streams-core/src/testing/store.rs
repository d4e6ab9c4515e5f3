//! [`TestKeyValueStore`]: a key-value store of the driver's tasks read (and written) from a
//! test, typed by the store's own serdes (Java's `getKeyValueStore`).

use std::cell::RefCell;
use std::rc::Rc;

use super::core::{DriverCore, StoreOwner};
use super::error::TestDriverError;
use crate::state::{KeyValueStoreRef, StoreHandle};

/// A key-value store of the topology, as its task holds it (through its record cache).
pub struct TestKeyValueStore<K, V> {
    pub(crate) core: Rc<RefCell<DriverCore>>,
    pub(crate) owner: StoreOwner,
    pub(crate) handle: StoreHandle<K, V>,
}

impl<K: 'static, V: 'static> std::fmt::Debug for TestKeyValueStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKeyValueStore")
            .field("store", &self.handle.name())
            .finish()
    }
}

impl<K: 'static, V: 'static> TestKeyValueStore<K, V> {
    /// The store's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    /// Run `f` on the store, writes stamped with the driver's wall-clock time.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut KeyValueStoreRef<'_, K, V>) -> Result<T, crate::state::StoreError>,
    ) -> Result<T, TestDriverError> {
        let mut core = self.core.borrow_mut();
        let now = core.wall_clock;
        let slot = core.slot(self.owner, self.handle.name())?;
        let mut store = KeyValueStoreRef::new(&self.handle, slot, now);
        f(&mut store).map_err(TestDriverError::store)
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, TestDriverError> {
        self.with(|s| s.get(key))
    }

    /// Every entry, in the order of the key bytes.
    pub fn all(&self) -> Result<Vec<(K, V)>, TestDriverError> {
        self.with(|s| s.all())
    }

    /// Entries with `from <= key <= to` (`None`: open), in the order of the key bytes.
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, TestDriverError> {
        self.with(|s| s.range(from, to))
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64, TestDriverError> {
        self.with(|s| Ok(s.approximate_num_entries()))
    }

    /// Set `key` to `value` (logged to the changelog with the next records the task sends).
    pub fn put(&self, key: &K, value: &V) -> Result<(), TestDriverError> {
        self.with(|s| s.put(key, value))
    }

    /// Remove `key`; returns its old value.
    pub fn delete(&self, key: &K) -> Result<Option<V>, TestDriverError> {
        self.with(|s| s.delete(key))
    }
}
