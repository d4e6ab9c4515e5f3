//! The key-value store a [`Materialized`] describes, as a streams-core [`StoreBuilder`].

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
    let mut b = match materialized.store_type {
        StoreType::Persistent => StoreBuilder::persistent_key_value(&handle),
        StoreType::InMemory => StoreBuilder::in_memory_key_value(&handle),
    };
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
