//! The aggregation of a grouped table (Kafka's `KTableAggregate` and `KTableReduce`): each
//! change from the repartition topic first subtracts its old value from the key's aggregate,
//! then adds its new value, in a timestamped store; the result is forwarded as a `Change`.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use crate::change::Change;
use crate::processors::aggregate::Step;
use crate::processors::ops::is_null;
use crate::processors::table_source::TableStore;
use crate::serdes::DynSerde;

/// How a value leaves an aggregate (Kafka's subtractor).
pub(crate) type Subtract<K, V, VA> = Arc<dyn Fn(&K, V, VA) -> VA + Send + Sync>;

/// The aggregation of one grouped table.
pub(crate) struct TableAggregate<K, V, VA> {
    /// A timestamped store, or a versioned one (KIP-914: an aggregate older than the store's
    /// history is not written nor forwarded, an out-of-order one is marked not the latest).
    pub store: TableStore<K, VA>,
    /// Adds a value (`None`: the key has no aggregate yet).
    pub add: Step<K, V, VA>,
    pub subtract: Subtract<K, V, VA>,
    pub caching: bool,
    pub send_old_values: bool,
    /// Tells a null key (skipped; Kafka fails the task on one).
    pub key_serde: DynSerde<K>,
}

impl<K, V, VA> Processor<K, Change<V>, K, Change<VA>> for TableAggregate<K, V, VA>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<(), BoxError> {
        if self.caching {
            let send_old = self.send_old_values;
            ctx.on_cache_flush(&self.store.handle, move |ctx, flush| {
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
        ctx: &mut ProcessorContext<'_, K, Change<VA>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), BoxError> {
        if is_null(&self.key_serde, &record.key) {
            return Ok(());
        }
        let Record {
            key,
            value: change,
            timestamp,
            headers,
        } = record;
        let (old_agg, old_ts) = match self.store.get(ctx, &key)? {
            Some(vt) => (Some(vt.value), Some(vt.timestamp)),
            None => (None, None),
        };
        let mut new_ts = timestamp;
        // First the old value leaves the aggregate, then the new one joins it; either moves
        // the timestamp to the latest of the record's and the aggregate's.
        let intermediate = match (change.old, old_agg.clone()) {
            (Some(old), Some(agg)) => {
                new_ts = old_ts.map_or(timestamp, |t| t.max(timestamp));
                Some((self.subtract)(&key, old, agg))
            }
            (_, agg) => agg,
        };
        let new_agg = match change.new {
            Some(new) => {
                if intermediate.is_some() {
                    new_ts = old_ts.map_or(timestamp, |t| t.max(timestamp));
                }
                Some((self.add)(&key, new, intermediate))
            }
            None => intermediate,
        };
        let Some(is_latest) = self.store.put(ctx, &key, new_agg.as_ref(), new_ts)? else {
            return Ok(());
        };
        if !self.caching {
            let old = if self.send_old_values { old_agg } else { None };
            ctx.forward(Record {
                key,
                value: Change::with_latest(new_agg, old, is_latest),
                timestamp: new_ts,
                headers,
            })?;
        }
        Ok(())
    }
}

/// `count`'s subtractor.
pub(crate) fn count_subtract<K, V>() -> Subtract<K, V, i64> {
    Arc::new(|_, _, agg| agg - 1)
}

/// `reduce`'s subtractor: `subtractor(aggregate, value)`.
pub(crate) fn reduce_subtract<K, V: 'static>(
    subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
) -> Subtract<K, V, V> {
    Arc::new(move |_, v, agg| subtractor(agg, v))
}

/// `aggregate`'s subtractor: `subtractor(key, value, aggregate)`.
pub(crate) fn aggregate_subtract<K, V, VA: 'static>(
    subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
) -> Subtract<K, V, VA> {
    Arc::new(subtractor)
}
