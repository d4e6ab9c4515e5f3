//! How a store is made for each task: [`StoreBuilder`] with its kind, persistence, logging,
//! caching and changelog topic configs.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::state::backend::{MemoryBackend, SharedBackend};
use crate::state::{
    default_segment_interval, BackendKeyValueStore, InMemoryKeyValueStore, KeyValueStore,
    SegmentedWindowStore, SessionStore, StateStore, StoreError, StoreHandle,
    TimestampedWindowStore, VersionedKeyValueStore,
};

/// What a store supplier gets: the store's name, and the task's persistent backend (its redb
/// file under `state.dir`) when the store was declared persistent.
#[derive(Debug)]
pub struct StoreInit<'a> {
    /// The store's name.
    pub name: &'a str,
    /// The task's backend, for persistent stores.
    pub backend: Option<&'a SharedBackend>,
}

impl StoreInit<'_> {
    /// The backend a store should use: the task's for a persistent store, else a private
    /// in-memory one.
    pub fn backend_or_memory(&self) -> SharedBackend {
        self.backend
            .cloned()
            .unwrap_or_else(|| SharedBackend::new(Box::new(MemoryBackend::new())))
    }
}

/// Makes a task's instance of a store.
pub type StoreSupplier =
    Arc<dyn Fn(&StoreInit<'_>) -> Result<StateStore, StoreError> + Send + Sync>;

/// A window store's segments for `init`: an in-memory one drops writes behind the retention
/// as Kafka's `InMemoryWindowStore` does, a persistent one as its RocksDB store.
fn segmented_window_store(
    init: &StoreInit<'_>,
    persistent: bool,
    retention_ms: i64,
    retain_duplicates: bool,
) -> Result<SegmentedWindowStore, StoreError> {
    let store = SegmentedWindowStore::new(
        init.name,
        init.backend_or_memory(),
        retention_ms,
        default_segment_interval(retention_ms),
        retain_duplicates,
    )?;
    Ok(if persistent {
        store
    } else {
        store.with_writes_expired_by_time()
    })
}

/// One day: Kafka's `windowstore.changelog.additional.retention.ms` default, added to a
/// windowed store's retention for its changelog's `retention.ms`.
const CHANGELOG_ADDITIONAL_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// How to make a store for each task.
#[derive(Clone)]
pub struct StoreBuilder {
    pub(crate) name: String,
    pub(crate) logging: bool,
    pub(crate) persistent: bool,
    pub(crate) changelog_config: BTreeMap<String, String>,
    /// A source topic that doubles as the changelog (no changelog topic, no writes logged).
    pub(crate) source_changelog: Option<String>,
    /// Writes wait in the thread's record cache until commit or eviction.
    pub(crate) caching: bool,
    pub(crate) supplier: StoreSupplier,
    /// The `StoreHandle<K, V>` of a plain key-value store, type-erased: the test driver's
    /// typed store access finds the store's serdes here.
    pub(crate) handle: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("name", &self.name)
            .field("logging", &self.logging)
            .field("persistent", &self.persistent)
            .finish_non_exhaustive()
    }
}

fn windowed_changelog_config(retention_ms: i64) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("cleanup.policy".to_owned(), "compact,delete".to_owned()),
        (
            "retention.ms".to_owned(),
            retention_ms
                .saturating_add(CHANGELOG_ADDITIONAL_RETENTION_MS)
                .to_string(),
        ),
    ])
}

impl StoreBuilder {
    fn new(
        name: &str,
        persistent: bool,
        supplier: impl Fn(&StoreInit<'_>) -> Result<StateStore, StoreError> + Send + Sync + 'static,
    ) -> Self {
        StoreBuilder {
            name: name.to_owned(),
            logging: true,
            persistent,
            changelog_config: BTreeMap::new(),
            source_changelog: None,
            caching: false,
            supplier: Arc::new(supplier),
            handle: None,
        }
    }

    /// Keep `handle` (a plain key-value store's serdes) for typed access from outside a task.
    fn with_handle<K: 'static, V: 'static>(mut self, handle: &StoreHandle<K, V>) -> Self {
        self.handle = Some(Arc::new(handle.clone()));
        self
    }

    /// An in-memory key-value store for `handle`, logged to its changelog topic
    /// (`<application.id>-<store>-changelog`, compacted) and rebuilt from it when its task
    /// moves (Kafka's `Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(..))`).
    pub fn in_memory_key_value<K: 'static, V: 'static>(handle: &StoreHandle<K, V>) -> Self {
        Self::new(handle.name(), false, |init| {
            Ok(StateStore::KeyValue(Box::new(InMemoryKeyValueStore::new(
                init.name,
            ))))
        })
        .with_handle(handle)
    }

    /// A persistent key-value store for `handle` in the task's redb file under `state.dir`
    /// (Kafka's `Stores.persistentKeyValueStore`): after a restart only the changelog's tail
    /// past the offsets committed with the data is restored.
    pub fn persistent_key_value<K: 'static, V: 'static>(handle: &StoreHandle<K, V>) -> Self {
        Self::new(handle.name(), true, |init| {
            Ok(StateStore::KeyValue(Box::new(BackendKeyValueStore::new(
                init.name,
                init.backend_or_memory(),
            ))))
        })
        .with_handle(handle)
    }

    /// A timestamped key-value store (Kafka's `Stores.timestampedKeyValueStoreBuilder`),
    /// persistent or in memory.
    pub fn timestamped_key_value<K: 'static, V: 'static>(
        handle: &StoreHandle<K, V>,
        persistent: bool,
    ) -> Self {
        Self::new(handle.name(), persistent, |init| {
            Ok(StateStore::TimestampedKeyValue(Box::new(
                BackendKeyValueStore::new(init.name, init.backend_or_memory()),
            )))
        })
        .with_handle(handle)
    }

    /// A window store keeping windows for `retention_ms` (Kafka's
    /// `Stores.persistentWindowStore` / `inMemoryWindowStore`); with `retain_duplicates`
    /// every put is kept (stream-stream joins). Its changelog is `compact,delete` with
    /// `retention.ms` = retention + 1 day.
    pub fn window<K: 'static, V: 'static>(
        handle: &StoreHandle<K, V>,
        persistent: bool,
        retention_ms: i64,
        retain_duplicates: bool,
    ) -> Self {
        let mut b = Self::new(handle.name(), persistent, move |init| {
            Ok(StateStore::Window(Box::new(segmented_window_store(
                init,
                persistent,
                retention_ms,
                retain_duplicates,
            )?)))
        })
        .with_handle(handle);
        b.changelog_config = windowed_changelog_config(retention_ms);
        b
    }

    /// A timestamped window store keeping windows for `retention_ms` (Kafka's
    /// `Stores.timestampedWindowStoreBuilder`): values are `timestamp ‖ value` (8 bytes,
    /// big-endian), the changelog holds the plain value stamped with its timestamp, as Kafka's.
    /// Its changelog is `compact,delete` with `retention.ms` = retention + 1 day.
    pub fn timestamped_window<K: 'static, V: 'static>(
        handle: &StoreHandle<K, V>,
        persistent: bool,
        retention_ms: i64,
    ) -> Self {
        let mut b = Self::new(handle.name(), persistent, move |init| {
            Ok(StateStore::Window(Box::new(TimestampedWindowStore::new(
                segmented_window_store(init, persistent, retention_ms, false)?,
            ))))
        })
        .with_handle(handle);
        b.changelog_config = windowed_changelog_config(retention_ms);
        b
    }

    /// A session store keeping sessions for `retention_ms` (Kafka's
    /// `Stores.persistentSessionStore` / `inMemorySessionStore`).
    pub fn session<K: 'static, V: 'static>(
        handle: &StoreHandle<K, V>,
        persistent: bool,
        retention_ms: i64,
    ) -> Self {
        let mut b = Self::new(handle.name(), persistent, move |init| {
            Ok(StateStore::Session(SessionStore::new(
                init.name,
                init.backend_or_memory(),
                retention_ms,
            )?))
        })
        .with_handle(handle);
        b.changelog_config = windowed_changelog_config(retention_ms);
        b
    }

    /// A versioned key-value store answering reads as of any time within
    /// `history_retention_ms` (KIP-889, Kafka's `Stores.persistentVersionedKeyValueStore`).
    /// Its changelog is compacted with `min.compaction.lag.ms` = history retention + 1 day.
    pub fn versioned<K: 'static, V: 'static>(
        handle: &StoreHandle<K, V>,
        persistent: bool,
        history_retention_ms: i64,
    ) -> Self {
        let mut b = Self::new(handle.name(), persistent, move |init| {
            Ok(StateStore::Versioned(VersionedKeyValueStore::new(
                init.name,
                init.backend_or_memory(),
                history_retention_ms,
            )))
        })
        .with_handle(handle);
        b.changelog_config = BTreeMap::from([(
            "min.compaction.lag.ms".to_owned(),
            history_retention_ms
                .saturating_add(CHANGELOG_ADDITIONAL_RETENTION_MS)
                .to_string(),
        )]);
        b
    }

    /// A key-value store from a user's supplier (called once per task with the store's name).
    pub fn custom(
        name: impl Into<String>,
        supplier: impl Fn(&str) -> Box<dyn KeyValueStore> + Send + Sync + 'static,
    ) -> Self {
        let name = name.into();
        Self::new(&name, false, move |init| {
            Ok(StateStore::KeyValue(supplier(init.name)))
        })
    }

    /// Turn the changelog off (the store then starts empty whenever its task moves).
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Put the record cache in front of the store (Kafka's `withCachingEnabled`; key-value
    /// window and session stores): repeated writes of a key between two commits reach the store and the
    /// changelog once, at the commit or when the thread's `statestore.cache.max.bytes` budget
    /// evicts them.
    pub fn with_caching_enabled(mut self) -> Self {
        self.caching = true;
        self
    }

    /// Use source topic `topic` as the store's changelog (Kafka's `source.topic` optimization,
    /// `topology.optimization=reuse.ktable.source.topics`): the store holds what its
    /// processor derives from the topic's records, so no changelog topic is created and no
    /// write is logged; restoration reads the source partition up to the group's committed
    /// offset. The DSL sets it for a table read straight from a topic.
    pub fn with_source_topic_changelog(mut self, topic: impl Into<String>) -> Self {
        self.logging = false;
        self.source_changelog = Some(topic.into());
        self
    }

    /// Extra topic configs for the changelog topic (added to the kind's defaults).
    pub fn with_logging_config(mut self, config: BTreeMap<String, String>) -> Self {
        self.logging = true;
        self.changelog_config.extend(config);
        self
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it lives in the task's redb file.
    pub fn is_persistent(&self) -> bool {
        self.persistent
    }
}
