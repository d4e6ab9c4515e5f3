//! Versioned key-value stores (KIP-889, Kafka's `VersionedKeyValueStore`): every value of a
//! key is kept with the time it became valid, so a read can ask for the value as of a
//! timestamp; versions older than `history_retention` behind stream time are dropped.
//!
//! The changelog is the plain key and value, stamped with the version's timestamp (a
//! tombstone for a delete), as in Kafka.

use std::ops::Bound;

use bytes::Bytes;

use super::backend::{MemoryBackend, SharedBackend};
use super::ordered_key::{encode, push_key, read_time, split_key};
use super::{ChangelogRecord, StoreError};

/// A value with the timestamp it became valid at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedRecord {
    /// The value.
    pub value: Bytes,
    /// When it became valid.
    pub timestamp: i64,
    /// When the next version replaced it (`None`: still current).
    pub valid_to: Option<i64>,
}

/// What a [`VersionedKeyValueStore::put`] did (Kafka's put return codes:
/// `PUT_RETURN_CODE_NOT_PUT`, `PUT_RETURN_CODE_VALID_TO_UNDEFINED` or the new version's
/// valid-to timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionedPut {
    /// Dropped: the timestamp is older than the history retention behind stream time.
    NotPut,
    /// Stored as the key's latest version.
    Latest,
    /// Stored as an older version, valid until the next version's timestamp.
    ValidTo(i64),
}

impl VersionedPut {
    /// Whether the version was stored.
    pub fn is_put(self) -> bool {
        self != VersionedPut::NotPut
    }
}

const TOMBSTONE: u8 = 0;
const VALUE: u8 = 1;

/// A versioned key-value store in one backend table: `ordered key ‖ ordered valid-from` →
/// a tag byte (value or tombstone) and the value.
#[derive(Debug)]
pub struct VersionedKeyValueStore {
    name: String,
    backend: SharedBackend,
    persistent: bool,
    history_retention_ms: i64,
    stream_time: i64,
}

impl VersionedKeyValueStore {
    /// The store `name` in `backend`, answering reads as of any time within
    /// `history_retention_ms` of stream time.
    pub fn new(name: impl Into<String>, backend: SharedBackend, history_retention_ms: i64) -> Self {
        let persistent = backend.lock().persistent();
        VersionedKeyValueStore {
            name: name.into(),
            backend,
            persistent,
            history_retention_ms,
            stream_time: i64::MIN,
        }
    }

    /// An in-memory versioned store.
    pub fn in_memory(name: impl Into<String>, history_retention_ms: i64) -> Self {
        Self::new(
            name,
            SharedBackend::new(Box::new(MemoryBackend::new())),
            history_retention_ms,
        )
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.clone(),
            detail: e.to_string(),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn cutoff(&self) -> i64 {
        self.stream_time.saturating_sub(self.history_retention_ms)
    }

    /// Versions of `key` with valid-from `<= at`, newest first.
    fn versions_before(&mut self, key: &[u8], at: i64) -> Result<Vec<(i64, Bytes)>, StoreError> {
        let mut lower = Vec::new();
        push_key(&mut lower, key);
        let upper = encode(key, &[at]);
        let entries = self
            .backend
            .lock()
            .range(
                &self.name,
                Bound::Included(&lower),
                Bound::Included(&upper),
                true,
            )
            .map_err(|e| self.err(e))?;
        entries
            .into_iter()
            .map(|(k, v)| {
                let (_, rest) = split_key(&k).ok_or_else(|| self.err("malformed stored key"))?;
                let (t, _) = read_time(rest).ok_or_else(|| self.err("malformed stored key"))?;
                Ok((t, v))
            })
            .collect()
    }

    /// The value of `key` valid at `as_of` (`None`: none, deleted, or older than the history
    /// retention).
    pub fn get_as_of(
        &mut self,
        key: &[u8],
        as_of: i64,
    ) -> Result<Option<VersionedRecord>, StoreError> {
        if as_of < self.cutoff() {
            return Ok(None);
        }
        let versions = self.versions_before(key, as_of)?;
        let Some((t, v)) = versions.into_iter().next() else {
            return Ok(None);
        };
        if v.first() != Some(&VALUE) {
            return Ok(None);
        }
        let next = self.next_version_after(key, t)?;
        Ok(Some(VersionedRecord {
            value: v.slice(1..),
            timestamp: t,
            valid_to: next,
        }))
    }

    fn next_version_after(&mut self, key: &[u8], t: i64) -> Result<Option<i64>, StoreError> {
        let lower = encode(key, &[t]);
        let upper = encode(key, &[i64::MAX]);
        let entries = self
            .backend
            .lock()
            .range(
                &self.name,
                Bound::Excluded(&lower),
                Bound::Included(&upper),
                false,
            )
            .map_err(|e| self.err(e))?;
        Ok(entries.first().and_then(|(k, _)| {
            let (_, rest) = split_key(k)?;
            Some(read_time(rest)?.0)
        }))
    }

    /// The latest value of `key`.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<VersionedRecord>, StoreError> {
        self.get_as_of(key, i64::MAX)
    }

    /// Record `value` (`None`: a delete) as valid for `key` from `timestamp` on: whether it
    /// was dropped (the timestamp is older than the history retention, as Kafka drops it),
    /// became the latest version, or was stored as an older one.
    pub fn put(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<VersionedPut, StoreError> {
        self.stream_time = self.stream_time.max(timestamp);
        if timestamp < self.cutoff() {
            return Ok(VersionedPut::NotPut);
        }
        let outcome = match self.next_version_after(key, timestamp)? {
            Some(next) => VersionedPut::ValidTo(next),
            None => VersionedPut::Latest,
        };
        let mut v = Vec::with_capacity(1 + value.map_or(0, <[u8]>::len));
        match value {
            Some(value) => {
                v.push(VALUE);
                v.extend_from_slice(value);
            }
            None => v.push(TOMBSTONE),
        }
        self.backend
            .lock()
            .put(&self.name, &encode(key, &[timestamp]), &v)
            .map_err(|e| self.err(e))?;
        // History: keep the newest version at or before the cutoff (it answers reads as of
        // the cutoff); drop the ones before it.
        let cutoff = self.cutoff();
        let old = self.versions_before(key, cutoff)?;
        for (t, _) in old.iter().skip(1) {
            self.backend
                .lock()
                .delete(&self.name, &encode(key, &[*t]))
                .map_err(|e| self.err(e))?;
        }
        Ok(outcome)
    }

    /// Delete `key` as of `timestamp`; returns the value that was valid then.
    pub fn delete(
        &mut self,
        key: &[u8],
        timestamp: i64,
    ) -> Result<Option<VersionedRecord>, StoreError> {
        let old = self.get_as_of(key, timestamp)?;
        self.put(key, None, timestamp)?;
        Ok(old)
    }

    /// Apply changelog records while restoring.
    pub fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<(), StoreError> {
        for r in records {
            self.put(&r.key, r.value.as_deref(), r.timestamp)?;
        }
        Ok(())
    }

    /// Number of stored versions.
    pub fn approximate_num_entries(&self) -> u64 {
        self.backend.lock().len(&self.name).unwrap_or(0)
    }

    /// Whether content survives a restart.
    pub fn persistent(&self) -> bool {
        self.persistent
    }

    /// Delete everything.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        self.stream_time = i64::MIN;
        self.backend
            .lock()
            .drop_table(&self.name)
            .map_err(|e| self.err(e))
    }
}
