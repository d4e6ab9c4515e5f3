//! The key-value stores a [`Materialized`] describes, as streams-core [`StoreBuilder`]s.

use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;

use crate::options::{Materialized, StoreType};
use crate::serdes::DynSerde;

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
