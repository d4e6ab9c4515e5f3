//! Value getters: how a join reads a table's current value of a key (Kafka's
//! `KTableValueGetterSupplier`/`KTableValueGetter`). A materialized table node is read from
//! its own store; a filter or mapValues without a store reads its parent's getter and
//! applies itself (so a join never forces it to keep a store, only the source table
//! behind it, as Kafka's `KTableSource.materialize()`); a table-table join without a store
//! joins its two sides' getters.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::StoreAccess;
use streams_core::state::{StoreHandle, ValueAndTimestamp};

use crate::processors::table_ops::ValueFn;

/// Reads a table's current value (and its timestamp) of a key.
pub(crate) trait ValueGetter<K, V>: Send + Sync + 'static {
    /// The value of `key`, read through the stores the processor is connected to.
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError>;
    /// The stores a processor reading through this getter must be connected to.
    fn store_names(&self) -> Vec<String>;
    /// The value of `key` valid at `as_of` (Kafka's `get(key, asOfTimestamp)`): a versioned
    /// table's answer; any other table answers with its current value.
    fn get_as_of(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
        as_of: i64,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        let _ = as_of;
        self.get(stores, key)
    }
    /// The history retention (ms) of the versioned store it reads, directly or through
    /// filters and mapValues without a store; `None`: not a versioned table.
    fn history_retention_ms(&self) -> Option<i64> {
        None
    }
    /// Whether it reads a versioned store (Kafka's `isVersioned`).
    fn is_versioned(&self) -> bool {
        self.history_retention_ms().is_some()
    }
}

/// Reads a versioned store (a versioned table's, KIP-889): the latest value, or the one valid
/// at a time.
pub(crate) struct VersionedStoreGetter<K, V> {
    pub handle: StoreHandle<K, V>,
    pub history_ms: i64,
}

impl<K: 'static, V: 'static> ValueGetter<K, V> for VersionedStoreGetter<K, V> {
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        Ok(stores.versioned_store(&self.handle)?.get(key, None)?)
    }

    fn store_names(&self) -> Vec<String> {
        vec![self.handle.name().to_owned()]
    }

    fn get_as_of(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
        as_of: i64,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        Ok(stores
            .versioned_store(&self.handle)?
            .get(key, Some(as_of))?)
    }

    fn history_retention_ms(&self) -> Option<i64> {
        Some(self.history_ms)
    }
}

/// A shared getter.
pub(crate) type ValueGetterRef<K, V> = Arc<dyn ValueGetter<K, V>>;

/// Reads a timestamped store (a table source's, an aggregation's, a materialized node's).
pub(crate) struct TimestampedStoreGetter<K, V>(pub StoreHandle<K, V>);

impl<K: 'static, V: 'static> ValueGetter<K, V> for TimestampedStoreGetter<K, V> {
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        Ok(stores.timestamped_key_value_store(&self.0)?.get(key)?)
    }

    fn store_names(&self) -> Vec<String> {
        vec![self.0.name().to_owned()]
    }
}

/// Reads a plain key-value store (a global table's): the timestamp is unknown (-1).
pub(crate) struct KeyValueStoreGetter<K, V>(pub StoreHandle<K, V>);

impl<K: 'static, V: 'static> ValueGetter<K, V> for KeyValueStoreGetter<K, V> {
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        let value = stores.key_value_store(&self.0)?.get(key)?;
        Ok(value.map(|value| ValueAndTimestamp {
            value,
            timestamp: -1,
        }))
    }

    fn store_names(&self) -> Vec<String> {
        vec![self.0.name().to_owned()]
    }
}

/// A filter's or mapValues' view of its parent (Kafka's `KTableFilter.view()`,
/// `KTableMapValues.view()`): the parent's value through `f`, `None` when filtered out.
pub(crate) struct MappedGetter<K, V, V2> {
    pub parent: ValueGetterRef<K, V>,
    pub f: ValueFn<K, V, V2>,
}

impl<K: 'static, V: 'static, V2: 'static> ValueGetter<K, V2> for MappedGetter<K, V, V2> {
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V2>>, BoxError> {
        Ok(self.parent.get(stores, key)?.and_then(|vt| {
            (self.f)(key, &vt.value).map(|value| ValueAndTimestamp {
                value,
                timestamp: vt.timestamp,
            })
        }))
    }

    fn store_names(&self) -> Vec<String> {
        self.parent.store_names()
    }

    fn get_as_of(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
        as_of: i64,
    ) -> Result<Option<ValueAndTimestamp<V2>>, BoxError> {
        Ok(self.parent.get_as_of(stores, key, as_of)?.and_then(|vt| {
            (self.f)(key, &vt.value).map(|value| ValueAndTimestamp {
                value,
                timestamp: vt.timestamp,
            })
        }))
    }

    fn history_retention_ms(&self) -> Option<i64> {
        self.parent.history_retention_ms()
    }
}

/// Which rows a table-table join holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableJoinKind {
    Inner,
    Left,
    Outer,
}

/// The result of a table-table join joiner; `None` where the join has no row.
pub(crate) type TableJoiner<K, V1, V2, VR> =
    Arc<dyn Fn(&K, Option<&V1>, Option<&V2>) -> Option<VR> + Send + Sync>;

/// An unmaterialized table-table join's view (Kafka's
/// `KTableKTableAbstractJoinValueGetterSupplier`): both sides' values joined, at the later
/// of their timestamps.
pub(crate) struct JoinGetter<K, V1, V2, VR> {
    pub left: ValueGetterRef<K, V1>,
    pub right: ValueGetterRef<K, V2>,
    pub kind: TableJoinKind,
    pub joiner: TableJoiner<K, V1, V2, VR>,
}

impl<K: 'static, V1: 'static, V2: 'static, VR: 'static> ValueGetter<K, VR>
    for JoinGetter<K, V1, V2, VR>
{
    fn get(
        &self,
        stores: &mut StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<VR>>, BoxError> {
        let l = self.left.get(stores, key)?;
        let r = self.right.get(stores, key)?;
        let present = match self.kind {
            TableJoinKind::Inner => l.is_some() && r.is_some(),
            TableJoinKind::Left => l.is_some(),
            TableJoinKind::Outer => l.is_some() || r.is_some(),
        };
        if !present {
            return Ok(None);
        }
        let timestamp = l
            .as_ref()
            .map_or(-1, |v| v.timestamp)
            .max(r.as_ref().map_or(-1, |v| v.timestamp));
        let value = (self.joiner)(
            key,
            l.as_ref().map(|v| &v.value),
            r.as_ref().map(|v| &v.value),
        );
        Ok(value.map(|value| ValueAndTimestamp { value, timestamp }))
    }

    fn store_names(&self) -> Vec<String> {
        let mut names = self.left.store_names();
        for n in self.right.store_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }
}
