//! [`TopologyTestDriver`]: a topology run without a broker (Java's `TopologyTestDriver`).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use super::core::{DriverCore, StoreOwner};
use super::error::TestDriverError;
use super::input_topic::TestInputTopic;
use super::output_topic::TestOutputTopic;
use super::store::TestKeyValueStore;
use super::windowed_store::{TestSessionStore, TestWindowStore};
use crate::runtime::StreamsConfig;
use crate::serde::{Deserializer, Serializer};
use crate::state::StoreHandle;
use crate::topology::Topology;

/// The application id when the properties set none (Java's driver draws a random suffix;
/// this one is fixed, so internal topic names are stable).
pub const DEFAULT_APPLICATION_ID: &str = "dummy-topology-test-driver-app-id";

/// Runs a [`Topology`] in the calling thread, without a broker: records piped into a
/// [`TestInputTopic`] are processed before the call returns, and what the topology produces
/// is read from a [`TestOutputTopic`].
///
/// As Java's driver:
/// - one task per sub-topology, on partition 0 of each source topic (every topic has one
///   partition);
/// - **each processed record is followed by the stream-time punctuation check and a commit**
///   (Java's `pipeInput` ends with one): record caches are flushed at every commit and their
///   downstream forwards emitted, so an aggregation with caching emits one update per input
///   record per key, as Java's driver does (`statestore.cache.max.bytes` still bounds the
///   cache between commits, and eviction forwards as in the runtime);
/// - records produced to a topic the topology reads (repartition topics, a sink into another
///   source) are processed at once, depth-first in the order produced; they stay readable
///   from their output topic too. Changelog records are captured (readable under
///   [`changelog_topic`](Self::changelog_topic)) but not processed;
/// - time is the driver's own: the wall clock starts at the given time and moves only with
///   [`advance_wall_clock_time`](Self::advance_wall_clock_time), which fires wall-clock
///   punctuators; no thread, no runtime, no clock read.
pub struct TopologyTestDriver {
    core: Rc<RefCell<DriverCore>>,
}

impl std::fmt::Debug for TopologyTestDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let core = self.core.borrow();
        f.debug_struct("TopologyTestDriver")
            .field("application_id", &core.application_id)
            .field("wall_clock", &core.wall_clock)
            .finish_non_exhaustive()
    }
}

/// Build the configuration from `props` (application id defaulted).
fn config<I, K, V>(props: I) -> Result<StreamsConfig, TestDriverError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut config = StreamsConfig::new(DEFAULT_APPLICATION_ID, "dummy-bootstrap-host:0");
    // As Java's driver: outer joins emit as soon as a window closes, unless told otherwise.
    config.outer_join_emit_interval_ms = 0;
    for (k, v) in props {
        config
            .set(k.as_ref(), v.as_ref())
            .map_err(|e| TestDriverError::Config(e.to_string()))?;
    }
    Ok(config)
}

impl TopologyTestDriver {
    /// A driver for `topology` with Kafka Streams properties `props` (`application.id`
    /// defaults to [`DEFAULT_APPLICATION_ID`]), its wall clock starting at
    /// `initial_wall_clock_ms` (Java's `initialWallClockTime`). Persistent stores are kept in
    /// memory (see [`new_on_disk`](Self::new_on_disk)).
    pub fn new<I, K, V>(
        topology: Topology,
        props: I,
        initial_wall_clock_ms: i64,
    ) -> Result<TopologyTestDriver, TestDriverError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let config = config(props)?;
        let core = DriverCore::new(topology, &config, initial_wall_clock_ms, false)?;
        Ok(TopologyTestDriver {
            core: Rc::new(RefCell::new(core)),
        })
    }

    /// [`new`](Self::new), with persistent stores on redb in a temporary state directory of
    /// their own (deleted when the driver and its topics and stores are dropped), as the
    /// runtime keeps them.
    pub fn new_on_disk<I, K, V>(
        topology: Topology,
        props: I,
        initial_wall_clock_ms: i64,
    ) -> Result<TopologyTestDriver, TestDriverError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let config = config(props)?;
        let core = DriverCore::new(topology, &config, initial_wall_clock_ms, true)?;
        Ok(TopologyTestDriver {
            core: Rc::new(RefCell::new(core)),
        })
    }

    /// An input topic whose records without a timestamp are stamped with the driver's
    /// current wall-clock time (Java uses the system clock), not advancing.
    pub fn create_input_topic<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serializer: impl Serializer<K>,
        value_serializer: impl Serializer<V>,
    ) -> Result<TestInputTopic<K, V>, TestDriverError> {
        let now = self.core.borrow().wall_clock;
        self.create_input_topic_with(topic, key_serializer, value_serializer, now, Duration::ZERO)
    }

    /// An input topic whose records without a timestamp are stamped `start_timestamp_ms`,
    /// then `auto_advance` later for each next one (Java's `createInputTopic(topic, keySer,
    /// valueSer, startTimestamp, autoAdvance)`). Fails if the topology does not read `topic`.
    pub fn create_input_topic_with<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serializer: impl Serializer<K>,
        value_serializer: impl Serializer<V>,
        start_timestamp_ms: i64,
        auto_advance: Duration,
    ) -> Result<TestInputTopic<K, V>, TestDriverError> {
        {
            let core = self.core.borrow();
            if !core.reads(topic) {
                return Err(TestDriverError::UnknownTopic {
                    topic: topic.to_owned(),
                    known: core.input_topics(),
                });
            }
        }
        Ok(TestInputTopic {
            core: self.core.clone(),
            topic: topic.to_owned(),
            key_serializer: Box::new(key_serializer),
            value_serializer: Box::new(value_serializer),
            current_time: start_timestamp_ms,
            auto_advance: i64::try_from(auto_advance.as_millis()).unwrap_or(i64::MAX),
        })
    }

    /// An output topic reading what the topology produced to `topic` (any topic: sinks'
    /// topics, repartition and changelog topics).
    pub fn create_output_topic<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_deserializer: impl Deserializer<K>,
        value_deserializer: impl Deserializer<V>,
    ) -> TestOutputTopic<K, V> {
        TestOutputTopic {
            core: self.core.clone(),
            topic: topic.to_owned(),
            key_deserializer: Box::new(key_deserializer),
            value_deserializer: Box::new(value_deserializer),
        }
    }

    /// Move the wall clock forward by `by`: wall-clock punctuators that became due fire, a
    /// commit follows, and records held back (by `max.task.idle.ms`) are processed.
    pub fn advance_wall_clock_time(&self, by: Duration) -> Result<(), TestDriverError> {
        self.core.borrow_mut().advance_wall_clock(by)
    }

    /// The driver's wall-clock time (ms).
    pub fn wall_clock_time_ms(&self) -> i64 {
        self.core.borrow().wall_clock
    }

    /// The records the tasks dropped so far (Kafka's task metric `dropped-records-total`):
    /// invalid timestamps, records skipped by an exception handler, and records processors
    /// skipped (a null key in an aggregation, a record for a window already closed).
    pub fn dropped_records(&self) -> u64 {
        self.core.borrow().dropped_records()
    }

    /// The key-value store `name`, typed by its own serdes: `K` and `V` must be the types of
    /// the `StoreHandle` it was built from (`StoreBuilder::in_memory_key_value`,
    /// `persistent_key_value`, the DSL's stores). Global stores are found too.
    pub fn get_key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<TestKeyValueStore<K, V>, TestDriverError> {
        let (owner, handle) = self.handle_of::<K, V>(name)?;
        Ok(TestKeyValueStore {
            core: self.core.clone(),
            owner,
            handle,
        })
    }

    /// Where store `name` lives and its handle, typed `K`/`V` as it was built.
    fn handle_of<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<(StoreOwner, StoreHandle<K, V>), TestDriverError> {
        let core = self.core.borrow();
        let owner = core.owner_of(name)?;
        let handle = core
            .topology
            .stores
            .get(name)
            .and_then(|b| b.handle.clone())
            .ok_or_else(|| TestDriverError::Store {
                store: name.to_owned(),
                detail: "not a plain key-value store with known serdes; open it with get_key_value_store_with(&handle)".into(),
            })?;
        let handle = handle
            .downcast_ref::<StoreHandle<K, V>>()
            .cloned()
            .ok_or_else(|| TestDriverError::Store {
                store: name.to_owned(),
                detail: format!(
                    "its keys and values are not {} and {}; ask for the types it was built with",
                    std::any::type_name::<K>(),
                    std::any::type_name::<V>()
                ),
            })?;
        Ok((owner, handle))
    }

    /// The window store `name` (Java's `getWindowStore` / `getTimestampedWindowStore`),
    /// typed by its own serdes: a DSL windowed aggregation's store holds
    /// `ValueAndTimestamp<V>` values (its aggregates with their timestamps).
    pub fn get_window_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<TestWindowStore<K, V>, TestDriverError> {
        let (owner, handle) = self.handle_of::<K, V>(name)?;
        Ok(TestWindowStore {
            core: self.core.clone(),
            owner,
            handle,
        })
    }

    /// The session store `name` (Java's `getSessionStore`), typed by its own serdes.
    pub fn get_session_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<TestSessionStore<K, V>, TestDriverError> {
        let (owner, handle) = self.handle_of::<K, V>(name)?;
        Ok(TestSessionStore {
            core: self.core.clone(),
            owner,
            handle,
        })
    }

    /// The key-value store `handle` names, read and written with its serdes (for stores of
    /// custom suppliers).
    pub fn get_key_value_store_with<K: 'static, V: 'static>(
        &self,
        handle: &StoreHandle<K, V>,
    ) -> Result<TestKeyValueStore<K, V>, TestDriverError> {
        let owner = self.core.borrow().owner_of(handle.name())?;
        Ok(TestKeyValueStore {
            core: self.core.clone(),
            owner,
            handle: handle.clone(),
        })
    }

    /// The changelog topic of `store` (`<application.id>-<store>-changelog`), if it is
    /// logged: its records are readable with [`create_output_topic`](Self::create_output_topic).
    pub fn changelog_topic(&self, store: &str) -> Option<String> {
        let core = self.core.borrow();
        core.topology.changelog_topic(&core.application_id, store)
    }

    /// The application id the topology runs under (internal topics are prefixed with it).
    pub fn application_id(&self) -> String {
        self.core.borrow().application_id.clone()
    }

    /// Every topic the topology has produced to so far (Java's `producedTopicNames`).
    pub fn produced_topic_names(&self) -> BTreeSet<String> {
        self.core.borrow().captured.keys().cloned().collect()
    }

    /// Commit (flushing the record caches; what that produces is routed and readable), then
    /// close every task. Topics and stores fail with [`TestDriverError::Closed`] afterwards,
    /// except output topics, which still read what was produced. Dropping the driver without
    /// closing it skips that last commit.
    pub fn close(self) -> Result<(), TestDriverError> {
        self.core.borrow_mut().close()
    }
}
