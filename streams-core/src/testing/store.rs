//! [`TestKeyValueStore`]: a key-value store of the driver's tasks read (and written) from a
//! test, typed by the store's own serdes (Java's `getKeyValueStore`). A timestamped store is
//! seen through its plain values, as Java's facade shows it; its timestamps are read with
//! [`TestKeyValueStore::get_with_timestamp`].

use std::cell::RefCell;
use std::rc::Rc;

use super::core::{DriverCore, StoreOwner};
use super::error::TestDriverError;
use crate::state::{
    KeyValueStoreRef, StateStore, StoreError, StoreHandle, TimestampedKeyValueStoreRef,
    ValueAndTimestamp,
};

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

/// A plain or a timestamped view of the store.
enum View<'a, K, V> {
    Plain(KeyValueStoreRef<'a, K, V>),
    Timestamped(TimestampedKeyValueStoreRef<'a, K, V>),
}

impl<K: 'static, V: 'static> TestKeyValueStore<K, V> {
    /// The store's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    /// Run `f` on the store, writes stamped with the driver's wall-clock time.
    fn with<T>(
        &self,
        f: impl FnOnce(View<'_, K, V>, i64) -> Result<T, StoreError>,
    ) -> Result<T, TestDriverError> {
        let mut core = self.core.borrow_mut();
        let now = core.wall_clock;
        let slot = core.slot(self.owner, self.handle.name())?;
        let view = if matches!(slot.store, StateStore::TimestampedKeyValue(_)) {
            View::Timestamped(TimestampedKeyValueStoreRef {
                handle: &self.handle,
                slot,
                timestamp: now,
            })
        } else {
            View::Plain(KeyValueStoreRef::new(&self.handle, slot, now))
        };
        f(view, now).map_err(TestDriverError::store)
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, TestDriverError> {
        self.with(|view, _| match view {
            View::Plain(mut s) => s.get(key),
            View::Timestamped(mut s) => Ok(s.get(key)?.map(|v| v.value)),
        })
    }

    /// The value of `key` with its timestamp (a plain store's values carry none: `-1`).
    pub fn get_with_timestamp(
        &self,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, TestDriverError> {
        self.with(|view, _| match view {
            View::Plain(mut s) => Ok(s.get(key)?.map(|value| ValueAndTimestamp {
                value,
                timestamp: -1,
            })),
            View::Timestamped(mut s) => s.get(key),
        })
    }

    /// Every entry, in the order of the key bytes.
    pub fn all(&self) -> Result<Vec<(K, V)>, TestDriverError> {
        self.with(|view, _| match view {
            View::Plain(mut s) => s.all(),
            View::Timestamped(mut s) => {
                Ok(s.all()?.into_iter().map(|(k, v)| (k, v.value)).collect())
            }
        })
    }

    /// Entries with `from <= key <= to` (`None`: open), in the order of the key bytes.
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, TestDriverError> {
        let handle = &self.handle;
        self.with(|view, _| match view {
            View::Plain(mut s) => s.range(from, to),
            View::Timestamped(mut s) => {
                let from = from.map(|k| handle.key_bytes(k)).transpose()?;
                let to = to.map(|k| handle.key_bytes(k)).transpose()?;
                let mut out = Vec::new();
                for (k, v) in s.all()? {
                    let bytes = handle.key_bytes(&k)?;
                    if from.as_ref().is_none_or(|f| bytes >= *f)
                        && to.as_ref().is_none_or(|t| bytes <= *t)
                    {
                        out.push((k, v.value));
                    }
                }
                Ok(out)
            }
        })
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64, TestDriverError> {
        self.with(|view, _| {
            Ok(match view {
                View::Plain(s) => s.approximate_num_entries(),
                View::Timestamped(s) => s.slot.store.approximate_num_entries(),
            })
        })
    }

    /// Set `key` to `value`, stamped with the driver's wall-clock time (logged to the
    /// changelog with the next records the task sends).
    pub fn put(&self, key: &K, value: &V) -> Result<(), TestDriverError> {
        self.with(|view, now| match view {
            View::Plain(mut s) => s.put(key, value),
            View::Timestamped(mut s) => s.put(key, Some(value), now),
        })
    }

    /// Remove `key`; returns its old value.
    pub fn delete(&self, key: &K) -> Result<Option<V>, TestDriverError> {
        self.with(|view, now| match view {
            View::Plain(mut s) => s.delete(key),
            View::Timestamped(mut s) => {
                let old = s.get(key)?.map(|v| v.value);
                s.put(key, None, now)?;
                Ok(old)
            }
        })
    }
}
