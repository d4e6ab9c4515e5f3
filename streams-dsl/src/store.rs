//! The key-value, window and session stores a [`Materialized`] describes, as streams-core
//! [`StoreBuilder`]s.

use streams_core::state::{StoreHandle, ValueAndTimestamp};
use streams_core::topology::StoreBuilder;

use crate::error::DslError;
use crate::options::{Materialized, StoreType};
use crate::processors::table_source::TableStore;
use crate::serdes::{DynSerde, ValueAndTimestampSerde};
use crate::windows::millis;

/// The store `name` with these serdes, kind, changelog and cache (Kafka's
/// `KeyValueStoreMaterializer`: persistent, logged and cached unless told otherwise).
pub(crate) fn kv_store_builder<K: 'static, V: 'static, MK, MV>(
    name: &str,
    key_serde: DynSerde<K>,
    value_serde: DynSerde<V>,
    materialized: &Materialized<MK, MV>,
) -> (StoreBuilder, StoreHandle<K, V>) {
    let handle = StoreHandle::new(name, key_serde, value_serde);
    let b = match materialized.store_type {
        StoreType::Persistent => StoreBuilder::persistent_key_value(&handle),
        StoreType::InMemory => StoreBuilder::in_memory_key_value(&handle),
    };
    (configure(b, materialized), handle)
}

/// The timestamped key-value store `name` of an aggregation (Kafka's
/// `TimestampedKeyValueStoreMaterializer`): each value kept with its timestamp, the changelog
/// holding the plain value stamped with it; persistent, logged and cached unless told
/// otherwise.
pub(crate) fn timestamped_kv_store_builder<K: 'static, V: 'static, MK, MV>(
    name: &str,
    key_serde: DynSerde<K>,
    value_serde: DynSerde<V>,
    materialized: &Materialized<MK, MV>,
) -> (StoreBuilder, StoreHandle<K, V>) {
    let handle = StoreHandle::new(name, key_serde, value_serde);
    let persistent = matches!(materialized.store_type, StoreType::Persistent);
    let b = StoreBuilder::timestamped_key_value(&handle, persistent);
    (configure(b, materialized), handle)
}

/// A KTable node's store (a source's, a materialized filter's, mapValues' or join's): versioned
/// when `materialized` asks for one ([`Materialized::as_versioned`], Kafka's
/// `VersionedBytesStoreSupplier`: no cache, changelog compacted with `min.compaction.lag.ms` =
/// history retention + 1 day), else timestamped.
pub(crate) fn table_store_builder<K: 'static, V: 'static, MK, MV>(
    name: &str,
    key_serde: DynSerde<K>,
    value_serde: DynSerde<V>,
    materialized: &Materialized<MK, MV>,
) -> (StoreBuilder, TableStore<K, V>) {
    let Some(history) = materialized.history_retention else {
        let (b, handle) = timestamped_kv_store_builder(name, key_serde, value_serde, materialized);
        let store = TableStore {
            handle,
            caching: materialized.caching,
            history_ms: None,
        };
        return (b, store);
    };
    let handle = StoreHandle::new(name, key_serde, value_serde);
    let persistent = matches!(materialized.store_type, StoreType::Persistent);
    let history_ms = i64::try_from(history.as_millis()).unwrap_or(i64::MAX);
    let mut b = StoreBuilder::versioned(&handle, persistent, history_ms);
    if !materialized.logging {
        b = b.with_logging_disabled();
    } else if !materialized.logging_config.is_empty() {
        b = b.with_logging_config(materialized.logging_config.clone());
    }
    let store = TableStore {
        handle,
        caching: false,
        history_ms: Some(history_ms),
    };
    (b, store)
}

/// Refuse a versioned `materialized` for an operation whose store cannot be one.
pub(crate) fn refuse_versioned<MK, MV>(
    materialized: &Materialized<MK, MV>,
    store: &str,
    operation: &'static str,
) -> Result<(), DslError> {
    match materialized.history_retention {
        Some(_) => Err(DslError::VersionedStoreUnsupported {
            store: store.to_owned(),
            operation,
        }),
        None => Ok(()),
    }
}

/// Caching and logging as `materialized` says.
fn configure<MK, MV>(mut b: StoreBuilder, materialized: &Materialized<MK, MV>) -> StoreBuilder {
    if materialized.caching {
        b = b.with_caching_enabled();
    }
    if !materialized.logging {
        b = b.with_logging_disabled();
    } else if !materialized.logging_config.is_empty() {
        b = b.with_logging_config(materialized.logging_config.clone());
    }
    b
}

/// The timestamped window store `name` of a time-windowed aggregation (Kafka's
/// `WindowStoreMaterializer` with `Stores.timestampedWindowStoreBuilder`): each window's
/// aggregate kept with its timestamp for `retention_ms`, segments of half that (at least a
/// minute), the changelog `compact,delete` with `retention.ms` = retention + 1 day; persistent,
/// logged and cached unless told otherwise.
pub(crate) fn timestamped_window_store_builder<K: 'static, V: 'static, MK, MV>(
    name: &str,
    key_serde: DynSerde<K>,
    value_serde: DynSerde<V>,
    retention_ms: i64,
    materialized: &Materialized<MK, MV>,
) -> (StoreBuilder, StoreHandle<K, ValueAndTimestamp<V>>) {
    let value_serde = DynSerde::new(ValueAndTimestampSerde::new(value_serde));
    let handle = StoreHandle::new(name, key_serde, value_serde);
    let persistent = matches!(materialized.store_type, StoreType::Persistent);
    let mut b = StoreBuilder::timestamped_window(&handle, persistent, retention_ms);
    if materialized.caching {
        b = b.with_caching_enabled();
    }
    if !materialized.logging {
        b = b.with_logging_disabled();
    } else if !materialized.logging_config.is_empty() {
        b = b.with_logging_config(materialized.logging_config.clone());
    }
    (b, handle)
}

/// The session store `name` of a session-windowed aggregation (Kafka's
/// `SessionStoreMaterializer`): sessions kept until their end is `retention_ms` behind stream
/// time, the changelog `compact,delete` with `retention.ms` = retention + 1 day; persistent,
/// logged and cached unless told otherwise.
pub(crate) fn session_store_builder<K: 'static, V: 'static, MK, MV>(
    name: &str,
    key_serde: DynSerde<K>,
    value_serde: DynSerde<V>,
    retention_ms: i64,
    materialized: &Materialized<MK, MV>,
) -> (StoreBuilder, StoreHandle<K, V>) {
    let handle = StoreHandle::new(name, key_serde, value_serde);
    let persistent = matches!(materialized.store_type, StoreType::Persistent);
    let mut b = StoreBuilder::session(&handle, persistent, retention_ms);
    if materialized.caching {
        b = b.with_caching_enabled();
    }
    if !materialized.logging {
        b = b.with_logging_disabled();
    } else if !materialized.logging_config.is_empty() {
        b = b.with_logging_config(materialized.logging_config.clone());
    }
    (b, handle)
}

/// A windowed aggregation's store retention (Kafka's `WindowStoreMaterializer` /
/// `SessionStoreMaterializer.retentionPeriod`): `Materialized::with_retention`, else
/// `size + grace` (the session gap for sessions); never less than that.
pub(crate) fn windowed_retention_ms<MK, MV>(
    store: &str,
    node: &str,
    size_ms: i64,
    grace_ms: i64,
    materialized: &Materialized<MK, MV>,
) -> Result<i64, DslError> {
    let floor = size_ms.saturating_add(grace_ms);
    let retention = match materialized.retention {
        Some(r) => millis("the store retention", r).map_err(|source| DslError::Windows {
            node: node.to_owned(),
            source,
        })?,
        None => floor,
    };
    if retention < floor {
        return Err(DslError::RetentionTooShort {
            store: store.to_owned(),
            retention_ms: retention,
            size_ms,
            grace_ms,
        });
    }
    Ok(retention)
}
