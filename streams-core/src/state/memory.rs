//! The in-memory key-value store (Kafka's `Stores.inMemoryKeyValueStore`).

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;

use super::{KeyValueStore, StoreError};

/// A sorted in-memory map; rebuilt from its changelog when its task moves.
#[derive(Debug, Default)]
pub struct InMemoryKeyValueStore {
    name: String,
    map: BTreeMap<Bytes, Bytes>,
}

impl InMemoryKeyValueStore {
    /// An empty store named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        InMemoryKeyValueStore {
            name: name.into(),
            map: BTreeMap::new(),
        }
    }
}

impl KeyValueStore for InMemoryKeyValueStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        Ok(self.map.get(key).cloned())
    }

    fn put(&mut self, key: Bytes, value: Bytes) -> Result<(), StoreError> {
        self.map.insert(key, value);
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        Ok(self.map.remove(key))
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Ok(Vec::new());
            }
        }
        let lower = from.map_or(Bound::Unbounded, Bound::Included);
        let upper = to.map_or(Bound::Unbounded, Bound::Included);
        Ok(self
            .map
            .range::<[u8], _>((lower, upper))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, StoreError> {
        Ok(self
            .map
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn approximate_num_entries(&self) -> u64 {
        self.map.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn ranges_and_prefixes_are_in_key_order() {
        let mut s = InMemoryKeyValueStore::new("s");
        for k in ["b", "a", "ab", "c"] {
            s.put(b(k), b(k)).unwrap();
        }
        let keys = |v: Vec<(Bytes, Bytes)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(s.range(None, None).unwrap()),
            vec![b("a"), b("ab"), b("b"), b("c")]
        );
        assert_eq!(
            keys(s.range(Some(b"ab"), Some(b"b")).unwrap()),
            vec![b("ab"), b("b")]
        );
        assert!(s.range(Some(b"c"), Some(b"a")).unwrap().is_empty());
        assert_eq!(keys(s.prefix_scan(b"a").unwrap()), vec![b("a"), b("ab")]);
        assert_eq!(s.delete(b"a").unwrap(), Some(b("a")));
        assert_eq!(s.approximate_num_entries(), 3);
        s.restore_batch(vec![(b("z"), Some(b("1"))), (b("b"), None)])
            .unwrap();
        assert_eq!(s.get(b"z").unwrap(), Some(b("1")));
        assert_eq!(s.get(b"b").unwrap(), None);
    }
}
