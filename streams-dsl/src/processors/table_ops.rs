//! Table operations on [`Change`]s: `filter`/`filterNot`/`mapValues` ([`TableMap`], Kafka's
//! `KTableFilter` and `KTableMapValues`) and a grouping's key and value selection
//! ([`TableGroupBy`], Kafka's `KTableRepartitionMap`).

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use crate::change::Change;
use crate::processors::ops::is_null;
use crate::processors::table_source::TableStore;
use crate::serdes::DynSerde;

/// A value's image in the derived table: `None` for a filtered-out value.
pub(crate) type ValueFn<K, V, V2> = Arc<dyn Fn(&K, &V) -> Option<V2> + Send + Sync>;

/// A table derived value by value (filter, filterNot, mapValues), materialized in a
/// timestamped store when it has one.
pub(crate) struct TableMap<K, V, V2> {
    pub f: ValueFn<K, V, V2>,
    /// Kafka's `KTableFilter`: while sending old values, an update that is out of the table
    /// before and after (both `None`) is not forwarded. mapValues forwards every update.
    pub is_filter: bool,
    pub send_old_values: bool,
    pub store: Option<TableStore<K, V2>>,
    /// The parent is a versioned table (Kafka's `setUseVersionedSemantics`): a filter
    /// forwards even an update out of the table before and after.
    pub versioned_semantics: bool,
}

impl<K, V, V2> Processor<K, Change<V>, K, Change<V2>> for TableMap<K, V, V2>
where
    K: Clone + 'static,
    V: 'static,
    V2: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V2>>) -> Result<(), BoxError> {
        if let Some(TableStore {
            handle,
            caching: true,
            ..
        }) = &self.store
        {
            let send_old = self.send_old_values;
            ctx.on_cache_flush(handle, move |ctx, flush| {
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
        ctx: &mut ProcessorContext<'_, K, Change<V2>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        let Record {
            key,
            value: change,
            timestamp,
            headers,
        } = record;
        let new = change.new.as_ref().and_then(|v| (self.f)(&key, v));
        let Some(s) = &self.store else {
            let old = if self.send_old_values {
                change.old.as_ref().and_then(|v| (self.f)(&key, v))
            } else {
                None
            };
            if self.is_filter
                && !self.versioned_semantics
                && self.send_old_values
                && old.is_none()
                && new.is_none()
            {
                return Ok(());
            }
            ctx.forward(Record {
                key,
                value: Change::with_latest(new, old, change.is_latest),
                timestamp,
                headers,
            })?;
            return Ok(());
        };
        let s = s.clone();
        // A materialized node's old value is what its own store held.
        let old = if self.send_old_values {
            s.latest(ctx, &key)?
        } else {
            None
        };
        if self.is_filter
            && !self.versioned_semantics
            && self.send_old_values
            && old.is_none()
            && new.is_none()
        {
            return Ok(());
        }
        // A versioned store: dropped updates go nowhere, out-of-order ones are marked.
        let Some(is_latest) = s.put(ctx, &key, new.as_ref(), timestamp)? else {
            return Ok(());
        };
        // Uncached, every update goes on (Kafka's `TimestampedTupleForwarder`); cached, the
        // flush decides (a key neither before nor after in the table is not forwarded).
        if !s.caching {
            ctx.forward(Record {
                key,
                value: Change::with_latest(new, old, is_latest),
                timestamp,
                headers,
            })?;
        }
        Ok(())
    }
}

/// A grouping's selection: the new key and value of a table's row.
pub(crate) type Selector<K, V, K2, V2> = Arc<dyn Fn(&K, &V) -> (K2, V2) + Send + Sync>;

/// Kafka's `KTableRepartitionMap`: each change becomes the subtraction of the old row's
/// selection and the addition of the new one's — one record carrying both when they fall
/// under the same key, else two (the subtraction first). A selection whose key or value is
/// null is left out.
pub(crate) struct TableGroupBy<K, V, K2, V2> {
    pub selector: Selector<K, V, K2, V2>,
    /// Tell a null selected key or value (types without a serde cannot be null).
    pub key_serde: Option<DynSerde<K2>>,
    pub value_serde: Option<DynSerde<V2>>,
    /// The table is versioned (Kafka's `setUseVersionedSemantics`): an out-of-order update
    /// is left out of the aggregate (KIP-914).
    pub versioned_semantics: bool,
}

impl<K, V, K2, V2> TableGroupBy<K, V, K2, V2>
where
    K2: 'static,
    V2: 'static,
{
    fn select(&self, key: &K, value: Option<&V>) -> Option<(K2, V2)> {
        let (k, v) = (self.selector)(key, value?);
        let null_key = self.key_serde.as_ref().is_some_and(|s| is_null(s, &k));
        let null_value = self.value_serde.as_ref().is_some_and(|s| is_null(s, &v));
        (!null_key && !null_value).then_some((k, v))
    }
}

impl<K, V, K2, V2> Processor<K, Change<V>, K2, Change<V2>> for TableGroupBy<K, V, K2, V2>
where
    K: 'static,
    V: 'static,
    K2: Clone + PartialEq + 'static,
    V2: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K2, Change<V2>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        if self.versioned_semantics && !record.value.is_latest {
            return Ok(());
        }
        let new = self.select(&record.key, record.value.new.as_ref());
        let old = self.select(&record.key, record.value.old.as_ref());
        let (timestamp, headers) = (record.timestamp, record.headers);
        let out = |key: K2, change: Change<V2>| Record {
            key,
            value: change,
            timestamp,
            headers: headers.clone(),
        };
        match (old, new) {
            (Some((ok, ov)), Some((nk, nv))) if ok == nk => {
                ctx.forward(out(ok, Change::new(Some(nv), Some(ov))))?;
            }
            (old, new) => {
                if let Some((ok, ov)) = old {
                    ctx.forward(out(ok, Change::new(None, Some(ov))))?;
                }
                if let Some((nk, nv)) = new {
                    ctx.forward(out(nk, Change::new(Some(nv), None)))?;
                }
            }
        }
        Ok(())
    }
}
