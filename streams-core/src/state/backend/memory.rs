//! The in-memory backend: B-trees that start empty at every start of the task (Kafka's
//! in-memory stores). Writes apply at once; a commit only records the positions.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use bytes::Bytes;
use kafka_wire::TopicPartition;

use super::{BackendError, Entries, StateBackend};

/// B-tree tables in memory.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    tables: BTreeMap<String, BTreeMap<Bytes, Bytes>>,
    offsets: BTreeMap<TopicPartition, i64>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A range of a B-tree map between byte bounds; empty when the bounds cross (the map would
/// panic on them).
pub(crate) fn btree_range(
    map: &BTreeMap<Bytes, Bytes>,
    from: Bound<&[u8]>,
    to: Bound<&[u8]>,
    reverse: bool,
) -> Entries {
    if super::bounds_crossed(from, to) {
        return Vec::new();
    }
    let it = map.range::<[u8], _>((from, to));
    let clone = |(k, v): (&Bytes, &Bytes)| (k.clone(), v.clone());
    if reverse {
        it.rev().map(clone).collect()
    } else {
        it.map(clone).collect()
    }
}

impl StateBackend for MemoryBackend {
    fn get(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError> {
        Ok(self.tables.get(table).and_then(|t| t.get(key)).cloned())
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), BackendError> {
        self.tables
            .entry(table.to_owned())
            .or_default()
            .insert(Bytes::copy_from_slice(key), Bytes::copy_from_slice(value));
        Ok(())
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<Option<Bytes>, BackendError> {
        Ok(self.tables.get_mut(table).and_then(|t| t.remove(key)))
    }

    fn range(
        &mut self,
        table: &str,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<Entries, BackendError> {
        Ok(self
            .tables
            .get(table)
            .map(|t| btree_range(t, from, to, reverse))
            .unwrap_or_default())
    }

    fn drop_table(&mut self, table: &str) -> Result<(), BackendError> {
        self.tables.remove(table);
        Ok(())
    }

    fn tables(&mut self) -> Result<Vec<String>, BackendError> {
        Ok(self
            .tables
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect())
    }

    fn len(&mut self, table: &str) -> Result<u64, BackendError> {
        Ok(self.tables.get(table).map_or(0, |t| t.len() as u64))
    }

    fn committed_offsets(&self) -> &BTreeMap<TopicPartition, i64> {
        &self.offsets
    }

    fn commit(
        &mut self,
        offsets: &BTreeMap<TopicPartition, i64>,
        _durable: bool,
    ) -> Result<(), BackendError> {
        self.offsets
            .extend(offsets.iter().map(|(tp, o)| (tp.clone(), *o)));
        Ok(())
    }

    fn abort(&mut self) -> Result<(), BackendError> {
        // Writes applied at once cannot be taken back: the stores are emptied and rebuilt from
        // the changelog, as Kafka does with in-memory stores.
        self.wipe()
    }

    fn wipe(&mut self) -> Result<(), BackendError> {
        self.tables.clear();
        self.offsets.clear();
        Ok(())
    }

    fn persistent(&self) -> bool {
        false
    }
}
