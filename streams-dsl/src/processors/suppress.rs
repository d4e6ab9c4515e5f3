//! `suppress`'s processor (Kafka's `KTableSuppressProcessor`): a table's changes wait in a
//! [`SuppressBuffer`] until their buffer time is `wait` behind the stream time this node
//! observed — the record's timestamp for `until_time_limit`, the window's end for
//! `until_window_closes` (whose wait is the windows' grace) — and leave it early, or stop
//! the task, when the buffer is over its limits. Each key's latest change is emitted once,
//! with the context of the record that made it.
//!
//! The buffer is kept in a logged key-value store of serialized keys and Kafka's buffer
//! values, so it survives a restart and a task move; the in-memory order is rebuilt from it
//! when the processor starts.

use std::sync::Arc;

use bytes::Bytes;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::{Deserializer, Serializer};
use streams_core::state::StoreHandle;

use super::suppress_buffer::{decode, BufferedContext, Eviction, SuppressBuffer};
use crate::change::Change;
use crate::options::BufferFullStrategy;
use crate::serdes::DynSerde;

/// Where a change's buffer time comes from (Kafka's `TimeDefinition`).
pub(crate) enum BufferTime<K> {
    /// The record's timestamp (`until_time_limit`).
    Record,
    /// The end of the key's window (`until_window_closes`).
    WindowEnd(Arc<dyn Fn(&K) -> i64 + Send + Sync>),
}

impl<K> Clone for BufferTime<K> {
    fn clone(&self) -> Self {
        match self {
            BufferTime::Record => BufferTime::Record,
            BufferTime::WindowEnd(f) => BufferTime::WindowEnd(f.clone()),
        }
    }
}

/// Why suppression stopped the task.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SuppressError {
    /// The buffer is full and its strategy is to shut down.
    #[error("suppress node {node:?}: its buffer exceeded its max capacity ({records}/{max_records} records, {bytes}/{max_bytes} bytes); raise BufferConfig::max_records/max_bytes, or use emit_early_when_full() (until_time_limit only)")]
    Full {
        node: String,
        records: u64,
        max_records: u64,
        bytes: u64,
        max_bytes: u64,
    },
    /// A buffered entry could not be read back from the store.
    #[error("suppress node {node:?}: buffered entry unreadable: {detail}")]
    Corrupt { node: String, detail: String },
}

/// The settings of one suppress node.
pub(crate) struct SuppressSpec<K, V> {
    pub store: StoreHandle<Bytes, Bytes>,
    pub key_serde: DynSerde<K>,
    pub value_serde: DynSerde<V>,
    pub time: BufferTime<K>,
    /// How far behind stream time a buffer time must be to emit (ms).
    pub wait_ms: i64,
    pub max_records: u64,
    pub max_bytes: u64,
    pub strategy: BufferFullStrategy,
    /// Final results: a deletion that was never emitted need not be (Kafka's
    /// `safeToDropTombstones`).
    pub drop_tombstones: bool,
}

/// The processor.
pub(crate) struct Suppress<K, V> {
    spec: Arc<SuppressSpec<K, V>>,
    buffer: SuppressBuffer,
    observed_stream_time: i64,
}

impl<K, V> Suppress<K, V> {
    pub fn new(spec: Arc<SuppressSpec<K, V>>) -> Self {
        Suppress {
            spec,
            buffer: SuppressBuffer::default(),
            observed_stream_time: i64::MIN,
        }
    }

    /// Whether the buffer holds more than its limits.
    fn over_capacity(b: &SuppressBuffer, spec: &SuppressSpec<K, V>) -> bool {
        b.num_records() > spec.max_records || b.buffer_size() > spec.max_bytes
    }
}

impl<K, V> Processor<K, Change<V>, K, Change<V>> for Suppress<K, V>
where
    K: Clone + 'static,
    V: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), BoxError> {
        let spec = self.spec.clone();
        let mut store = ctx.key_value_store(&spec.store)?;
        for (key, value) in store.all()? {
            let (time, change) = decode(&value).map_err(|e| SuppressError::Corrupt {
                node: spec.store.name().to_owned(),
                detail: e.to_string(),
            })?;
            self.buffer.restore(time, key, change);
        }
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        let spec = self.spec.clone();
        self.observed_stream_time = self.observed_stream_time.max(record.timestamp);
        let time = match &spec.time {
            BufferTime::Record => record.timestamp,
            BufferTime::WindowEnd(end) => end(&record.key),
        };
        let topic = "";
        let key = spec
            .key_serde
            .serialize(topic, &record.key)?
            .unwrap_or_default();
        let ser = |v: &Option<V>| -> Result<Option<Bytes>, BoxError> {
            Ok(match v {
                Some(v) => spec.value_serde.serialize(topic, v)?,
                None => None,
            })
        };
        let (new, old) = (ser(&record.value.new)?, ser(&record.value.old)?);
        let meta = ctx.record_metadata().cloned();
        let context = BufferedContext {
            timestamp: record.timestamp,
            offset: meta.as_ref().map_or(-1, |m| m.offset),
            topic: meta
                .as_ref()
                .map_or_else(String::new, |m| m.topic.to_string()),
            partition: meta.as_ref().map_or(-1, |m| m.partition),
            headers: record.headers,
        };
        let value = self.buffer.put(time, key.clone(), old, new, context);
        ctx.key_value_store(&spec.store)?.put(&key, &value)?;

        // Emit what is due, then what the limits force out.
        let expiry = self.observed_stream_time.saturating_sub(spec.wait_ms);
        let due = self.buffer.evict_while(|b| b.min_timestamp() <= expiry);
        self.emit(ctx, due)?;
        if Self::over_capacity(&self.buffer, &spec) {
            match spec.strategy {
                BufferFullStrategy::EmitEarly => {
                    let early = self.buffer.evict_while(|b| Self::over_capacity(b, &spec));
                    self.emit(ctx, early)?;
                }
                BufferFullStrategy::ShutDown => {
                    return Err(Box::new(SuppressError::Full {
                        node: ctx.processor_name().to_owned(),
                        records: self.buffer.num_records(),
                        max_records: spec.max_records,
                        bytes: self.buffer.buffer_size(),
                        max_bytes: spec.max_bytes,
                    }));
                }
            }
        }
        Ok(())
    }
}

impl<K, V> Suppress<K, V>
where
    K: Clone + 'static,
    V: Clone + 'static,
{
    /// Forward `evicted` (a deletion only when it must be) and drop them from the store.
    fn emit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        evicted: Vec<Eviction>,
    ) -> Result<(), BoxError> {
        let spec = self.spec.clone();
        for Eviction { key, change } in evicted {
            ctx.key_value_store(&spec.store)?.delete(&key)?;
            if change.new.is_none() && spec.drop_tombstones {
                continue;
            }
            let topic = "";
            let de = |v: Option<Bytes>| -> Result<Option<V>, BoxError> {
                Ok(match v {
                    Some(b) => Some(spec.value_serde.deserialize(topic, Some(&b))?),
                    None => None,
                })
            };
            let record = Record {
                key: spec.key_serde.deserialize(topic, Some(&key))?,
                value: Change::new(de(change.new)?, de(change.old)?),
                timestamp: change.context.timestamp,
                headers: change.context.headers,
            };
            ctx.forward(record)?;
        }
        Ok(())
    }
}

/// A suppressed table's view (Kafka's `KTableSuppressProcessorSupplier.view()`): a key
/// held back in the buffer reads as its value before the held-back updates (timestamp
/// unknown, -1, as in Kafka); any other key reads through the parent.
pub(crate) struct SuppressGetter<K, V> {
    pub spec: Arc<SuppressSpec<K, V>>,
    pub parent: crate::joins::value_getter::ValueGetterRef<K, V>,
}

impl<K: 'static, V: 'static> crate::joins::value_getter::ValueGetter<K, V>
    for SuppressGetter<K, V>
{
    fn get(
        &self,
        stores: &mut streams_core::processor::StoreAccess<'_>,
        key: &K,
    ) -> Result<Option<streams_core::state::ValueAndTimestamp<V>>, BoxError> {
        let spec = &self.spec;
        let bytes = spec.key_serde.serialize("", key)?.unwrap_or_default();
        let buffered = stores.key_value_store(&spec.store)?.get(&bytes)?;
        let Some(buffered) = buffered else {
            return self.parent.get(stores, key);
        };
        let (_, change) = decode(&buffered).map_err(|e| SuppressError::Corrupt {
            node: spec.store.name().to_owned(),
            detail: e.to_string(),
        })?;
        Ok(match change.prior {
            Some(prior) => Some(streams_core::state::ValueAndTimestamp {
                value: spec.value_serde.deserialize("", Some(&prior))?,
                timestamp: -1,
            }),
            None => None,
        })
    }

    fn store_names(&self) -> Vec<String> {
        let mut names = vec![self.spec.store.name().to_owned()];
        names.extend(self.parent.store_names());
        names
    }
}
