//! The context a processor works through (Kafka Streams' `api.ProcessorContext`).

use std::time::Duration;

use super::node::{forward_to_children, Child, FlushListeners, Punctuators};
use super::punctuation::{Cancellable, PunctuationType};
use super::task_context::TaskContext;
use crate::error::{BoxError, StreamsError};
use crate::record::{Record, RecordMetadata};
use crate::state::{
    parse_session_changelog_key, split_window_cache_key, CacheFlush, FlushedChange,
    KeyValueStoreRef, RecordCache, SessionStoreRef, StoreError, StoreHandle, StoreSlot,
    TimestampedKeyValueStoreRef, VersionedStoreRef, WindowStoreRef,
};
use crate::TaskId;

/// Forwards records of `K`/`V` to the node's children, schedules punctuation, opens the
/// node's stores, and tells where the current record came from.
pub struct ProcessorContext<'a, K, V> {
    pub(crate) node: usize,
    pub(crate) name: &'a str,
    pub(crate) children: &'a [Child<K, V>],
    pub(crate) punctuators: &'a mut Punctuators<K, V>,
    pub(crate) flush_listeners: &'a mut FlushListeners<K, V>,
    pub(crate) task: &'a mut TaskContext,
}

impl<K: Clone + 'static, V: Clone + 'static> ProcessorContext<'_, K, V> {
    /// Send `record` to every child, in the order they were connected.
    pub fn forward(&mut self, record: Record<K, V>) -> Result<(), StreamsError> {
        forward_to_children(self.children, self.task, record)
    }

    /// Send `record` to the child named `child` only.
    pub fn forward_to(&mut self, child: &str, record: Record<K, V>) -> Result<(), StreamsError> {
        let Some(c) = self.children.iter().find(|c| c.name == child) else {
            return Err(StreamsError::IllegalState(format!(
                "processor {:?} has no child named {child:?} (children: {})",
                self.name,
                self.children
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        forward_to_children(std::slice::from_ref(c), self.task, record)
    }

    /// Call `punctuator` every `interval` of `ty` time (Kafka Streams' `schedule`). Stream
    /// time punctuation is aligned to 0 and fires as soon as stream time is known; wall-clock
    /// punctuation fires first `interval` from now. The punctuator gets this context (stores,
    /// forward) and the current stream or wall-clock time.
    pub fn schedule<F>(
        &mut self,
        interval: Duration,
        ty: PunctuationType,
        punctuator: F,
    ) -> Cancellable
    where
        F: FnMut(&mut ProcessorContext<'_, K, V>, i64) -> Result<(), BoxError> + 'static,
    {
        let id = self.task.next_punctuator_id();
        self.punctuators.push((id, Some(Box::new(punctuator))));
        match ty {
            PunctuationType::StreamTime => self
                .task
                .stream_punctuation
                .schedule(self.node, id, interval, 0),
            PunctuationType::WallClockTime => {
                let first = self
                    .task
                    .wall_clock
                    .saturating_add(i64::try_from(interval.as_millis()).unwrap_or(i64::MAX));
                self.task
                    .wall_punctuation
                    .schedule(self.node, id, interval, first)
            }
        }
    }
}

/// The slot of store `store` if node `node` (named `name`) is connected to it (or it is
/// global), and the current record's timestamp.
fn connected_slot<'t>(
    task: &'t mut TaskContext,
    node: usize,
    name: &str,
    store: &str,
) -> Result<(&'t mut StoreSlot, i64), StreamsError> {
    let connected = task
        .node_stores
        .get(&node)
        .is_some_and(|s| s.iter().any(|n| n == store))
        || task.global_stores.iter().any(|n| n == store);
    let not_connected = || StreamsError::StoreNotConnected {
        processor: name.to_owned(),
        store: store.to_owned(),
    };
    if !connected {
        return Err(not_connected());
    }
    let timestamp = task.timestamp;
    let slot = task.stores.get_mut(store).ok_or_else(not_connected)?;
    Ok((slot, timestamp))
}

/// A processor's stores, whatever the types it forwards (what a table's value getter reads
/// through, Kafka's `KTableValueGetter.init(context)`).
pub struct StoreAccess<'a> {
    node: usize,
    name: &'a str,
    task: &'a mut TaskContext,
}

impl StoreAccess<'_> {
    /// Open a key-value store connected to the processor.
    pub fn key_value_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<KeyValueStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = connected_slot(self.task, self.node, self.name, handle.name())?;
        Ok(KeyValueStoreRef::new(handle, slot, timestamp))
    }

    /// Open a timestamped key-value store connected to the processor.
    pub fn timestamped_key_value_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<TimestampedKeyValueStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = connected_slot(self.task, self.node, self.name, handle.name())?;
        Ok(TimestampedKeyValueStoreRef {
            handle,
            slot,
            timestamp,
        })
    }

    /// Open a versioned key-value store connected to the processor.
    pub fn versioned_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<VersionedStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, _) = connected_slot(self.task, self.node, self.name, handle.name())?;
        Ok(VersionedStoreRef { handle, slot })
    }
}

impl<K, V> ProcessorContext<'_, K, V> {
    /// The slot of a store connected to this processor, and the current record's timestamp.
    fn connected_slot(&mut self, store: &str) -> Result<(&mut StoreSlot, i64), StreamsError> {
        connected_slot(self.task, self.node, self.name, store)
    }

    /// This processor's stores, apart from the types it forwards.
    pub fn store_access(&mut self) -> StoreAccess<'_> {
        StoreAccess {
            node: self.node,
            name: self.name,
            task: self.task,
        }
    }

    /// Whether store `handle` caches writes (Kafka's `WrappedStateStore.setFlushListener`
    /// result): it was built with caching and `statestore.cache.max.bytes` is above 0. Kafka
    /// turns caching off on every store when the cache has 0 bytes, so a KTable processor then
    /// forwards each update itself, as without a cache. An unconnected store: `false`.
    pub fn caches<SK: 'static, SV: 'static>(&mut self, handle: &StoreHandle<SK, SV>) -> bool {
        self.connected_slot(handle.name())
            .is_ok_and(|(slot, _)| slot.cache.as_ref().is_some_and(RecordCache::enabled))
    }

    /// Forward what the record cache of caching store `handle` flushes (at commit, or when the
    /// thread's cache budget evicts it), as Kafka's KTable processors do with their flush
    /// listener: `listener` gets this context, and each flushed key with its new value
    /// (`None`: deleted), the value the store held before, and the write's timestamp (the
    /// context's record timestamp is set to it). Call it from `init`.
    pub fn on_cache_flush<SK: 'static, SV: 'static, F>(
        &mut self,
        handle: &StoreHandle<SK, SV>,
        listener: F,
    ) -> Result<(), StreamsError>
    where
        F: FnMut(&mut ProcessorContext<'_, K, V>, CacheFlush<SK, SV>) -> Result<(), BoxError>
            + 'static,
    {
        self.on_cache_flush_with(handle, true, listener)
    }

    /// [`ProcessorContext::on_cache_flush`], choosing whether the listener gets the values
    /// the flushed writes replace (Kafka's `sendOldValues`). Without them (`false`,
    /// [`CacheFlush::old`] is always `None`) a flush does not read each key from the store
    /// first: a KTable whose downstream never subtracts (Kafka's default) flushes faster.
    pub fn on_cache_flush_with<SK: 'static, SV: 'static, F>(
        &mut self,
        handle: &StoreHandle<SK, SV>,
        send_old_values: bool,
        listener: F,
    ) -> Result<(), StreamsError>
    where
        F: FnMut(&mut ProcessorContext<'_, K, V>, CacheFlush<SK, SV>) -> Result<(), BoxError>
            + 'static,
    {
        self.listen_to_flushes(handle, send_old_values, |h, key| h.key_of(key), listener)
    }

    /// [`ProcessorContext::on_cache_flush_with`] for a caching window store (Kafka's
    /// `CachingWindowStore` flush listener): each flushed window comes as its key with the
    /// window start, `(key, start)`, with its new value, the value the store held before (when
    /// `send_old_values`) and the write's timestamp. Call it from `init`.
    pub fn on_window_cache_flush<SK: 'static, SV: 'static, F>(
        &mut self,
        handle: &StoreHandle<SK, SV>,
        send_old_values: bool,
        listener: F,
    ) -> Result<(), StreamsError>
    where
        F: FnMut(
                &mut ProcessorContext<'_, K, V>,
                CacheFlush<(SK, i64), SV>,
            ) -> Result<(), BoxError>
            + 'static,
    {
        let decode = |h: &StoreHandle<SK, SV>, bytes: &[u8]| {
            let (key, start) = split_window_cache_key(bytes)
                .ok_or_else(|| h.err("a flushed window key has no 8-byte window start"))?;
            Ok((h.key_of(key)?, start))
        };
        self.listen_to_flushes(handle, send_old_values, decode, listener)
    }

    /// [`ProcessorContext::on_cache_flush_with`] for a caching session store (Kafka's
    /// `CachingSessionStore` flush listener): each flushed session comes as
    /// `(key, start, end)` with its new value (`None`: removed), the value the store held
    /// before (when `send_old_values`) and the write's timestamp. Call it from `init`.
    pub fn on_session_cache_flush<SK: 'static, SV: 'static, F>(
        &mut self,
        handle: &StoreHandle<SK, SV>,
        send_old_values: bool,
        listener: F,
    ) -> Result<(), StreamsError>
    where
        F: FnMut(
                &mut ProcessorContext<'_, K, V>,
                CacheFlush<(SK, i64, i64), SV>,
            ) -> Result<(), BoxError>
            + 'static,
    {
        let decode = |h: &StoreHandle<SK, SV>, bytes: &[u8]| {
            let (key, start, end) = parse_session_changelog_key(bytes)
                .ok_or_else(|| h.err("a flushed session key is not key ‖ end ‖ start"))?;
            Ok((h.key_of(key)?, start, end))
        };
        self.listen_to_flushes(handle, send_old_values, decode, listener)
    }

    /// Register `listener` for the flushes of caching store `handle`, its cache keys read
    /// with `decode`.
    fn listen_to_flushes<SK: 'static, SV: 'static, FK: 'static, F>(
        &mut self,
        handle: &StoreHandle<SK, SV>,
        send_old_values: bool,
        decode: impl Fn(&StoreHandle<SK, SV>, &[u8]) -> Result<FK, StoreError> + 'static,
        mut listener: F,
    ) -> Result<(), StreamsError>
    where
        F: FnMut(&mut ProcessorContext<'_, K, V>, CacheFlush<FK, SV>) -> Result<(), BoxError>
            + 'static,
    {
        let name = handle.name().to_owned();
        let (slot, _) = self.connected_slot(&name)?;
        if slot.cache.is_none() {
            return Err(StreamsError::Store {
                store: name,
                detail: "it has no record cache to flush: build it with StoreBuilder::with_caching_enabled() (and a statestore.cache.max.bytes above 0)".into(),
            });
        }
        slot.forwards_flushes = true;
        slot.sends_old_values |= send_old_values;
        let h = handle.clone();
        self.flush_listeners.push((
            name,
            Some(Box::new(move |ctx, change: &FlushedChange| {
                let key = decode(&h, &change.key)?;
                let new = change.new.as_deref().map(|v| h.value_of(v)).transpose()?;
                let old = change.old.as_deref().map(|v| h.value_of(v)).transpose()?;
                listener(
                    ctx,
                    CacheFlush {
                        key,
                        new,
                        old,
                        timestamp: change.timestamp,
                    },
                )
            })),
        ));
        Ok(())
    }

    /// Open a key-value store connected to this processor.
    pub fn key_value_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<KeyValueStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = self.connected_slot(handle.name())?;
        Ok(KeyValueStoreRef::new(handle, slot, timestamp))
    }

    /// Open a timestamped key-value store connected to this processor.
    pub fn timestamped_key_value_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<TimestampedKeyValueStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = self.connected_slot(handle.name())?;
        Ok(TimestampedKeyValueStoreRef {
            handle,
            slot,
            timestamp,
        })
    }

    /// Open a window store connected to this processor.
    pub fn window_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<WindowStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = self.connected_slot(handle.name())?;
        Ok(WindowStoreRef {
            handle,
            slot,
            timestamp,
        })
    }

    /// Open a session store connected to this processor.
    pub fn session_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<SessionStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, timestamp) = self.connected_slot(handle.name())?;
        Ok(SessionStoreRef {
            handle,
            slot,
            timestamp,
        })
    }

    /// Open a versioned key-value store connected to this processor.
    pub fn versioned_store<'s, SK: 'static, SV: 'static>(
        &'s mut self,
        handle: &'s StoreHandle<SK, SV>,
    ) -> Result<VersionedStoreRef<'s, SK, SV>, StreamsError> {
        let (slot, _) = self.connected_slot(handle.name())?;
        Ok(VersionedStoreRef { handle, slot })
    }

    /// Count the current record as dropped (Kafka's task-level `dropped-records` sensor), as
    /// a processor does when it skips a record it cannot use (a null key, a window already
    /// closed).
    pub fn record_dropped(&mut self) {
        self.task.dropped_records += 1;
    }

    /// Ask for a commit as soon as possible (Kafka Streams' `commit()`).
    pub fn commit(&mut self) {
        self.task.commit_requested = true;
    }

    /// Where the current record was read; `None` in a punctuator.
    pub fn record_metadata(&self) -> Option<&RecordMetadata> {
        self.task.metadata.as_ref()
    }

    /// The task this processor instance belongs to.
    pub fn task_id(&self) -> TaskId {
        self.task.task_id
    }

    /// `application.id`.
    pub fn application_id(&self) -> &str {
        &self.task.application_id
    }

    /// The task's stream time (-1 before its first record).
    pub fn current_stream_time(&self) -> i64 {
        self.task.stream_time
    }

    /// The wall-clock time the runtime last passed to the task, in ms.
    pub fn current_system_time(&self) -> i64 {
        self.task.wall_clock
    }

    /// How often (wall-clock ms) a left/outer stream-stream join scans for records whose
    /// window closed (Kafka's internal
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`).
    pub fn outer_join_emit_interval_ms(&self) -> i64 {
        self.task.outer_join_emit_interval_ms
    }

    /// This processor's name.
    pub fn processor_name(&self) -> &str {
        self.name
    }
}
