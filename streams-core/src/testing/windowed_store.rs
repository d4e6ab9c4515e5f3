//! [`TestWindowStore`] and [`TestSessionStore`]: the window and session stores of the
//! driver's tasks read from a test, typed by the stores' own serdes (Java's `getWindowStore`,
//! `getTimestampedWindowStore` and `getSessionStore`). Reads go through the record cache, as
//! the topology's own reads do.

use std::cell::RefCell;
use std::rc::Rc;

use super::core::{DriverCore, StoreOwner};
use super::error::TestDriverError;
use crate::state::{SessionStoreRef, StoreError, StoreHandle, WindowStoreRef};

/// A window store of the topology, as its task holds it.
pub struct TestWindowStore<K, V> {
    pub(crate) core: Rc<RefCell<DriverCore>>,
    pub(crate) owner: StoreOwner,
    pub(crate) handle: StoreHandle<K, V>,
}

impl<K: 'static, V: 'static> std::fmt::Debug for TestWindowStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestWindowStore")
            .field("store", &self.handle.name())
            .finish()
    }
}

impl<K: 'static, V: 'static> TestWindowStore<K, V> {
    /// The store's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(WindowStoreRef<'_, K, V>) -> Result<T, StoreError>,
    ) -> Result<T, TestDriverError> {
        let mut core = self.core.borrow_mut();
        let now = core.wall_clock;
        let slot = core.slot(self.owner, self.handle.name())?;
        f(WindowStoreRef {
            handle: &self.handle,
            slot,
            timestamp: now,
        })
        .map_err(TestDriverError::store)
    }

    /// The value of `key` in the window starting at `window_start` (Java's `fetch(key,
    /// time)`).
    pub fn fetch(&self, key: &K, window_start: i64) -> Result<Option<V>, TestDriverError> {
        self.with(|mut s| s.fetch(key, window_start))
    }

    /// The windows of `key` starting in `[from, to]`, earliest first (Java's
    /// `fetch(key, from, to)`), as `(key, start, value)`.
    pub fn fetch_range(
        &self,
        key: &K,
        from: i64,
        to: i64,
    ) -> Result<Vec<(K, i64, V)>, TestDriverError> {
        self.with(|mut s| s.fetch_range(key, from, to, false))
    }

    /// Every live window of every key (Java's `all()`).
    pub fn all(&self) -> Result<Vec<(K, i64, V)>, TestDriverError> {
        self.with(|mut s| s.all())
    }
}

/// A session store of the topology, as its task holds it.
pub struct TestSessionStore<K, V> {
    pub(crate) core: Rc<RefCell<DriverCore>>,
    pub(crate) owner: StoreOwner,
    pub(crate) handle: StoreHandle<K, V>,
}

impl<K: 'static, V: 'static> std::fmt::Debug for TestSessionStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSessionStore")
            .field("store", &self.handle.name())
            .finish()
    }
}

impl<K: 'static, V: 'static> TestSessionStore<K, V> {
    /// The store's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(SessionStoreRef<'_, K, V>) -> Result<T, StoreError>,
    ) -> Result<T, TestDriverError> {
        let mut core = self.core.borrow_mut();
        let now = core.wall_clock;
        let slot = core.slot(self.owner, self.handle.name())?;
        f(SessionStoreRef {
            handle: &self.handle,
            slot,
            timestamp: now,
        })
        .map_err(TestDriverError::store)
    }

    /// Every live session of `key`, by end (Java's `fetch(key)`), as
    /// `(key, start, end, value)`.
    pub fn fetch(&self, key: &K) -> Result<Vec<(K, i64, i64, V)>, TestDriverError> {
        self.with(|mut s| s.find_sessions(key, i64::MIN, i64::MAX))
    }

    /// Sessions of `key` ending at or after `earliest_end` and starting at or before
    /// `latest_start` (Java's `findSessions`).
    pub fn find_sessions(
        &self,
        key: &K,
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<(K, i64, i64, V)>, TestDriverError> {
        self.with(|mut s| s.find_sessions(key, earliest_end, latest_start))
    }
}
