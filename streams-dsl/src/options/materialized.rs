//! [`Materialized`]: how a KTable's store is made.

use std::collections::BTreeMap;
use std::time::Duration;

use streams_core::serde::Serde;

use crate::serdes::DynSerde;

/// Where a materialized store lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreType {
    /// In the task's redb file under `state.dir` (Kafka's default `ROCKS_DB`).
    #[default]
    Persistent,
    /// In memory, rebuilt from the changelog when the task moves (Kafka's `IN_MEMORY`).
    InMemory,
}

/// A KTable's store: name, serdes, kind, changelog and cache (Kafka's `Materialized`). A
/// store without a name gets a generated one (`KSTREAM-AGGREGATE-STATE-STORE-0000000002`)
/// and is not meant to be queried.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) store_type: StoreType,
    pub(crate) logging: bool,
    pub(crate) logging_config: BTreeMap<String, String>,
    pub(crate) caching: bool,
    /// How long a window store keeps windows (Kafka's `withRetention`); `None`: the window
    /// size plus the grace period.
    pub(crate) retention: Option<Duration>,
    /// A versioned store keeping this much history (Kafka's
    /// `Stores.persistentVersionedKeyValueStore`); `None`: a timestamped store.
    pub(crate) history_retention: Option<Duration>,
}

impl<K, V> Default for Materialized<K, V> {
    fn default() -> Self {
        Materialized {
            name: None,
            key_serde: None,
            value_serde: None,
            store_type: StoreType::default(),
            logging: true,
            logging_config: BTreeMap::new(),
            caching: true,
            retention: None,
            history_retention: None,
        }
    }
}

impl<K: 'static, V: 'static> Materialized<K, V> {
    /// A store named `name` (Kafka's `Materialized.as(storeName)`): its changelog is
    /// `<application.id>-<name>-changelog`, and a grouping that needs a repartition topic
    /// names it `<name>-repartition`.
    pub fn as_(name: impl Into<String>) -> Self {
        Materialized {
            name: Some(name.into()),
            ..Materialized::default()
        }
    }

    /// A versioned store named `name` keeping every value of a key for `history_retention`
    /// behind stream time (KIP-889/KIP-914, Kafka's
    /// `Materialized.as(Stores.persistentVersionedKeyValueStore(name, historyRetention))`),
    /// for [`crate::StreamsBuilder::table_with`], `KStream::to_table_with`, a filter's or
    /// mapValues' store, a table join's or a foreign-key join's result, a grouped stream's,
    /// table's or cogroup's aggregation (a windowed or session aggregation's or a global
    /// table's fails to build, as in Kafka: [`crate::DslError::VersionedStoreUnsupported`]).
    /// Such a table drops
    /// updates older than the
    /// history retention, forwards out-of-order ones marked as not the latest (a
    /// table-table join skips them), and a stream-table join reads it as of each stream
    /// record's timestamp, which allows a grace period (`Joined::with_grace_period`). Its
    /// changelog is compacted with `min.compaction.lag.ms` = history retention + 1 day; it
    /// has no record cache.
    pub fn as_versioned(name: impl Into<String>, history_retention: Duration) -> Self {
        Materialized {
            name: Some(name.into()),
            history_retention: Some(history_retention),
            caching: false,
            ..Materialized::default()
        }
    }

    /// A store of this kind (Kafka's `Materialized.as(StoreType)`).
    pub fn as_store_type(store_type: StoreType) -> Self {
        Materialized {
            store_type,
            ..Materialized::default()
        }
    }

    /// A store with these serdes (Kafka's `Materialized.with`).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Materialized::default()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }

    /// The key serde.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(DynSerde::new(serde));
        self
    }

    /// The value serde.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(DynSerde::new(serde));
        self
    }

    /// Persistent or in memory.
    pub fn with_store_type(mut self, store_type: StoreType) -> Self {
        self.store_type = store_type;
        self
    }

    /// No changelog (the store starts empty whenever its task moves).
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// A changelog with these extra topic configs.
    pub fn with_logging_enabled(mut self, config: BTreeMap<String, String>) -> Self {
        self.logging = true;
        self.logging_config = config;
        self
    }

    /// No record cache: every update is written and forwarded at once.
    pub fn with_caching_disabled(mut self) -> Self {
        self.caching = false;
        self
    }

    /// The record cache (the default): updates of a key between commits are written and
    /// forwarded once.
    pub fn with_caching_enabled(mut self) -> Self {
        self.caching = true;
        self
    }

    /// How long a windowed aggregation's store keeps windows (Kafka's `withRetention`):
    /// at least the window size plus the grace period (else building the topology fails),
    /// longer to query closed windows. Without it: size plus grace.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }
}
