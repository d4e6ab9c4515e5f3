//! Typed access to a byte store: a [`StoreHandle`] names a store and fixes its key and value
//! types and serdes; [`KeyValueStoreRef`] is what a processor reads and writes through.

use std::sync::Arc;

use bytes::Bytes;

use super::{ChangelogRecord, KeyValueStore, StateStore, StoreError, StoreSlot};
use crate::serde::{Deserializer, Serde, Serializer};

/// A store's name with its key and value types (as redb's `TableDefinition`). Cheap to clone:
/// processors keep one to open their store.
pub struct StoreHandle<K, V> {
    name: Arc<str>,
    key_ser: Arc<dyn Serializer<K>>,
    key_de: Arc<dyn Deserializer<K>>,
    value_ser: Arc<dyn Serializer<V>>,
    value_de: Arc<dyn Deserializer<V>>,
}

impl<K, V> Clone for StoreHandle<K, V> {
    fn clone(&self) -> Self {
        StoreHandle {
            name: self.name.clone(),
            key_ser: self.key_ser.clone(),
            key_de: self.key_de.clone(),
            value_ser: self.value_ser.clone(),
            value_de: self.value_de.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for StoreHandle<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle")
            .field("name", &self.name)
            .finish()
    }
}

impl<K: 'static, V: 'static> StoreHandle<K, V> {
    /// A store named `name` holding `K` keys and `V` values with these serdes.
    pub fn new(
        name: impl Into<String>,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Self {
        StoreHandle {
            name: Arc::from(name.into()),
            key_ser: Arc::new(key_serde.clone()),
            key_de: Arc::new(key_serde),
            value_ser: Arc::new(value_serde.clone()),
            value_de: Arc::new(value_serde),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn err(&self, detail: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.name.to_string(),
            detail: detail.to_string(),
        }
    }

    /// A key's bytes (a key may not serialize to null).
    pub(crate) fn key_bytes(&self, key: &K) -> Result<Bytes, StoreError> {
        self.key_ser
            .serialize(&self.name, key)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| self.err("a key serialized to null; store keys may not be null"))
    }

    /// A value's bytes (`None`: it serialized to null).
    pub(crate) fn value_bytes(&self, value: &V) -> Result<Option<Bytes>, StoreError> {
        self.value_ser
            .serialize(&self.name, value)
            .map_err(|e| self.err(e))
    }

    pub(crate) fn key_of(&self, bytes: &[u8]) -> Result<K, StoreError> {
        self.key_de
            .deserialize(&self.name, Some(bytes))
            .map_err(|e| self.err(e))
    }

    pub(crate) fn value_of(&self, bytes: &[u8]) -> Result<V, StoreError> {
        self.value_de
            .deserialize(&self.name, Some(bytes))
            .map_err(|e| self.err(e))
    }
}

/// A typed view of a store for the record being processed (writes are stamped with its
/// timestamp in the changelog).
pub struct KeyValueStoreRef<'a, K, V> {
    handle: &'a StoreHandle<K, V>,
    slot: &'a mut StoreSlot,
    timestamp: i64,
}

impl<'a, K: 'static, V: 'static> KeyValueStoreRef<'a, K, V> {
    pub(crate) fn new(
        handle: &'a StoreHandle<K, V>,
        slot: &'a mut StoreSlot,
        timestamp: i64,
    ) -> Self {
        KeyValueStoreRef {
            handle,
            slot,
            timestamp,
        }
    }

    fn kv(&mut self) -> Result<&mut dyn KeyValueStore, StoreError> {
        match &mut self.slot.store {
            StateStore::KeyValue(s) => Ok(s.as_mut()),
            other => Err(other.wrong_kind("key-value")),
        }
    }

    fn err(&self, detail: impl std::fmt::Display) -> StoreError {
        StoreError {
            store: self.handle.name.to_string(),
            detail: detail.to_string(),
        }
    }

    fn key_bytes(&self, key: &K) -> Result<Bytes, StoreError> {
        self.handle
            .key_ser
            .serialize(&self.handle.name, key)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| self.err("a key serialized to null; store keys may not be null"))
    }

    fn decode(&self, k: &[u8], v: &[u8]) -> Result<(K, V), StoreError> {
        let key = self
            .handle
            .key_de
            .deserialize(&self.handle.name, Some(k))
            .map_err(|e| self.err(e))?;
        let value = self
            .handle
            .value_de
            .deserialize(&self.handle.name, Some(v))
            .map_err(|e| self.err(e))?;
        Ok((key, value))
    }

    /// The stored bytes of `key`, through the cache when there is one.
    fn get_bytes(&mut self, k: &Bytes) -> Result<Option<Bytes>, StoreError> {
        if let Some(cache) = &mut self.slot.cache {
            if let Some(cached) = cache.get(k) {
                return Ok(cached);
            }
        }
        let v = self.kv()?.get(k)?;
        if let (Some(cache), Some(v)) = (&mut self.slot.cache, &v) {
            let evicted = cache.remember(k.clone(), v.clone());
            self.slot.apply_flushed(evicted)?;
        }
        Ok(v)
    }

    /// Write dirty cache entries through before a scan reads the store.
    fn flush_for_scan(&mut self) -> Result<(), StoreError> {
        self.slot.flush_cache()
    }

    /// The value of `key`.
    pub fn get(&mut self, key: &K) -> Result<Option<V>, StoreError> {
        self.slot.ops.gets += 1;
        let k = self.key_bytes(key)?;
        match self.get_bytes(&k)? {
            None => Ok(None),
            Some(v) => self
                .handle
                .value_de
                .deserialize(&self.handle.name, Some(&v))
                .map(Some)
                .map_err(|e| self.err(e)),
        }
    }

    /// Set `key` to `value` (a value serializing to null deletes the key, as in Kafka).
    pub fn put(&mut self, key: &K, value: &V) -> Result<(), StoreError> {
        self.slot.ops.puts += 1;
        let k = self.key_bytes(key)?;
        let v = self
            .handle
            .value_ser
            .serialize(&self.handle.name, value)
            .map_err(|e| self.err(e))?;
        if let Some(cache) = &mut self.slot.cache {
            let evicted = cache.put(k, v, self.timestamp);
            return self.slot.apply_flushed(evicted);
        }
        match &v {
            Some(v) => self.kv()?.put(k.clone(), v.clone())?,
            None => {
                self.kv()?.delete(&k)?;
            }
        }
        self.log(k, v);
        Ok(())
    }

    /// Set `key` to `value` unless it has a value; returns the value it had.
    pub fn put_if_absent(&mut self, key: &K, value: &V) -> Result<Option<V>, StoreError> {
        let old = self.get(key)?;
        if old.is_none() {
            self.put(key, value)?;
        }
        Ok(old)
    }

    /// Remove `key`; returns its old value.
    pub fn delete(&mut self, key: &K) -> Result<Option<V>, StoreError> {
        self.slot.ops.puts += 1;
        let k = self.key_bytes(key)?;
        let old = if self.slot.cache.is_some() {
            let old = self.get_bytes(&k)?;
            if let Some(cache) = &mut self.slot.cache {
                let evicted = cache.put(k.clone(), None, self.timestamp);
                self.slot.apply_flushed(evicted)?;
            }
            old
        } else {
            let old = self.kv()?.delete(&k)?;
            self.log(k, None);
            old
        };
        match old {
            None => Ok(None),
            Some(v) => self
                .handle
                .value_de
                .deserialize(&self.handle.name, Some(&v))
                .map(Some)
                .map_err(|e| self.err(e)),
        }
    }

    /// Entries with `from <= key <= to` in the order of their key bytes.
    pub fn range(&mut self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, StoreError> {
        self.slot.ops.ranges += 1;
        self.flush_for_scan()?;
        let from = from.map(|k| self.key_bytes(k)).transpose()?;
        let to = to.map(|k| self.key_bytes(k)).transpose()?;
        self.kv()?
            .range(from.as_deref(), to.as_deref())?
            .iter()
            .map(|(k, v)| self.decode(k, v))
            .collect()
    }

    /// Every entry, in the order of their key bytes.
    pub fn all(&mut self) -> Result<Vec<(K, V)>, StoreError> {
        self.range(None, None)
    }

    /// Entries whose key bytes start with `prefix` serialized by `prefix_serializer`.
    pub fn prefix_scan<P: 'static>(
        &mut self,
        prefix: &P,
        prefix_serializer: &dyn Serializer<P>,
    ) -> Result<Vec<(K, V)>, StoreError> {
        let p = prefix_serializer
            .serialize(&self.handle.name, prefix)
            .map_err(|e| self.err(e))?
            .unwrap_or_default();
        self.slot.ops.ranges += 1;
        self.flush_for_scan()?;
        self.kv()?
            .prefix_scan(&p)?
            .iter()
            .map(|(k, v)| self.decode(k, v))
            .collect()
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> u64 {
        self.slot.store.approximate_num_entries()
    }

    fn log(&mut self, key: Bytes, value: Option<Bytes>) {
        if let Some(changelog) = &mut self.slot.changelog {
            changelog.push(ChangelogRecord {
                key,
                value,
                timestamp: self.timestamp,
            });
        }
    }
}
