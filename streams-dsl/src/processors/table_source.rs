//! The processor that turns a stream of updates into a table (Kafka's `KTableSource`, used by
//! `StreamsBuilder::table` and `KStream::to_table`): with a store (timestamped, as Kafka's),
//! each update is written (`None` deletes) and forwarded through the record cache, else
//! forwarded at once.

use std::sync::Arc;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use streams_core::state::{StoreHandle, ValueAndTimestamp, VersionedPut};

use crate::change::Change;
use crate::joins::value_getter::{TimestampedStoreGetter, ValueGetterRef, VersionedStoreGetter};
use crate::processors::ops::is_null;
use crate::serdes::DynSerde;

/// The table's store, when it is materialized.
pub(crate) struct TableStore<K, V> {
    pub handle: StoreHandle<K, V>,
    pub caching: bool,
    /// A versioned store (KIP-889) keeping this much history (ms); `None`: a timestamped
    /// store.
    pub history_ms: Option<i64>,
}

impl<K, V> Clone for TableStore<K, V> {
    fn clone(&self) -> Self {
        TableStore {
            handle: self.handle.clone(),
            caching: self.caching,
            history_ms: self.history_ms,
        }
    }
}

impl<K: 'static, V: 'static> TableStore<K, V> {
    /// How a join reads the store.
    pub fn getter(&self) -> ValueGetterRef<K, V> {
        if let Some(history_ms) = self.history_ms {
            Arc::new(VersionedStoreGetter {
                handle: self.handle.clone(),
                history_ms,
            })
        } else {
            Arc::new(TimestampedStoreGetter(self.handle.clone()))
        }
    }

    /// The key's latest value and its timestamp (Kafka's `KeyValueStoreWrapper.get`).
    pub fn get<KO, VO>(
        &self,
        ctx: &mut ProcessorContext<'_, KO, VO>,
        key: &K,
    ) -> Result<Option<ValueAndTimestamp<V>>, BoxError> {
        Ok(if self.history_ms.is_some() {
            ctx.versioned_store(&self.handle)?.get(key, None)?
        } else {
            ctx.timestamped_key_value_store(&self.handle)?.get(key)?
        })
    }

    /// The key's latest value.
    pub fn latest<KO, VO>(
        &self,
        ctx: &mut ProcessorContext<'_, KO, VO>,
        key: &K,
    ) -> Result<Option<V>, BoxError> {
        Ok(self.get(ctx, key)?.map(|vt| vt.value))
    }

    /// Write `value` (`None`: a delete) at `timestamp` (Kafka's `KeyValueStoreWrapper.put`):
    /// `None` when a versioned store dropped it (older than its history retention: nothing
    /// is forwarded), else whether it is now the key's latest value.
    pub fn put<KO, VO>(
        &self,
        ctx: &mut ProcessorContext<'_, KO, VO>,
        key: &K,
        value: Option<&V>,
        timestamp: i64,
    ) -> Result<Option<bool>, BoxError> {
        if self.history_ms.is_none() {
            ctx.timestamped_key_value_store(&self.handle)?
                .put(key, value, timestamp)?;
            return Ok(Some(true));
        }
        Ok(
            match ctx
                .versioned_store(&self.handle)?
                .put(key, value, timestamp)?
            {
                VersionedPut::NotPut => None,
                VersionedPut::Latest => Some(true),
                VersionedPut::ValidTo(_) => Some(false),
            },
        )
    }
}

/// Updates `VIn` (a value, or `Option<V>` with tombstones) into a table of `V`, forwarded as
/// [`Change`]s: the old value too when a downstream node asked for it (then the table is
/// materialized: Kafka's `KTableSource` with `sendOldValues`).
pub(crate) struct TableSource<K, V> {
    pub store: Option<TableStore<K, V>>,
    /// Forward the value each update replaces.
    pub send_old_values: bool,
    /// Tells a null key: Kafka's `KTableSource` skips such records ("Skipping record due to
    /// null key"). `None`: the key type has no serde, no key is taken for null.
    pub key_serde: Option<DynSerde<K>>,
}

impl<K, V, VIn> Processor<K, VIn, K, Change<V>> for TableSource<K, V>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VIn: Into<Option<V>> + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), BoxError> {
        // With `statestore.cache.max.bytes=0` Kafka builds no caching store at all
        // (`rewriteTopology`): every update goes on, a delete of an unknown key too.
        if let Some(s) = &mut self.store {
            s.caching &= ctx.caches(&s.handle);
        }
        if let Some(TableStore {
            handle,
            caching: true,
            ..
        }) = &self.store
        {
            let send_old = self.send_old_values;
            ctx.on_cache_flush(handle, move |ctx, flush| {
                // A delete of a key the table never had changes nothing (Kafka's caching
                // store forwards a flush only when there is a new or an old value).
                if flush.new.is_some() || flush.old.is_some() {
                    let old = if send_old { flush.old } else { None };
                    let change = Change::new(flush.new, old);
                    ctx.forward(Record::new(flush.key, change, flush.timestamp))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, VIn>,
    ) -> Result<(), BoxError> {
        if self
            .key_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.key))
        {
            return Ok(());
        }
        let value: Option<V> = record.value.into();
        let Record {
            key,
            timestamp,
            headers,
            ..
        } = record;
        match &self.store {
            None => ctx.forward(Record {
                key,
                value: Change::new(value, None),
                timestamp,
                headers,
            })?,
            Some(s) => {
                let old = if self.send_old_values {
                    s.latest(ctx, &key)?
                } else {
                    None
                };
                // A versioned store drops an update older than its history retention
                // (nothing goes on) and marks an out-of-order one as not the latest.
                let Some(is_latest) = s.put(ctx, &key, value.as_ref(), timestamp)? else {
                    return Ok(());
                };
                // Uncached, every update goes on, a tombstone of an unknown key too (Kafka's
                // `TimestampedTupleForwarder` without a cache); cached, the flush decides.
                if !s.caching {
                    ctx.forward(Record {
                        key,
                        value: Change::with_latest(value, old, is_latest),
                        timestamp,
                        headers,
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// A global table's store updater (Kafka's `KTableSource` under a global store): writes each
/// update into the store, forwards nothing.
pub(crate) struct GlobalTableSource<K, V> {
    pub handle: StoreHandle<K, V>,
    /// Tells a null key (skipped, as Kafka's `KTableSource` does).
    pub key_serde: DynSerde<K>,
}

impl<K: 'static, V: 'static> Processor<K, Option<V>, (), ()> for GlobalTableSource<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), ()>,
        record: Record<K, Option<V>>,
    ) -> Result<(), BoxError> {
        if is_null(&self.key_serde, &record.key) {
            return Ok(());
        }
        let mut store = ctx.key_value_store(&self.handle)?;
        match &record.value {
            Some(v) => store.put(&record.key, v)?,
            None => {
                store.delete(&record.key)?;
            }
        }
        Ok(())
    }
}
