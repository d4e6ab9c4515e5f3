//! The aggregation processor of `count`, `reduce` and `aggregate` on a grouped stream
//! (Kafka's `KStreamAggregate` and `KStreamReduce`): the running value of each key with its
//! timestamp (the latest of its records') in a timestamped key-value store; updates are
//! forwarded as the table's new values stamped with that timestamp, through the record cache
//! when the store has one (once per key per commit), else at once.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use crate::change::Change;
use crate::processors::ops::is_null;
use crate::processors::table_source::TableStore;
use crate::serdes::DynSerde;

/// How a key's aggregate changes with one value: `None` is the aggregate before the key's
/// first value.
pub(crate) type Step<K, V, VA> = Arc<dyn Fn(&K, V, Option<VA>) -> VA + Send + Sync>;

/// The aggregation of one grouped stream.
pub(crate) struct Aggregate<K, V, VA> {
    /// A timestamped store, or a versioned one (KIP-914: an aggregate older than the store's
    /// history is not written nor forwarded).
    pub store: TableStore<K, VA>,
    pub step: Step<K, V, VA>,
    /// The store has a record cache: forward what it flushes.
    pub caching: bool,
    /// Forward the cache's flushes (of a store several processors share, as a cogroup's,
    /// only one of them does).
    pub forward_flushes: bool,
    /// Forward the aggregate each update replaces (a downstream table node asked for it).
    pub send_old_values: bool,
    /// Tells a null key (a record Kafka skips).
    pub key_serde: DynSerde<K>,
    /// Tells a null value, when the value type has a serde (else no value is taken for null).
    pub value_serde: Option<DynSerde<V>>,
}

impl<K, V, VA> Processor<K, V, K, Change<VA>> for Aggregate<K, V, VA>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<VA>>) -> Result<(), BoxError> {
        if self.caching && self.forward_flushes {
            let send_old = self.send_old_values;
            ctx.on_cache_flush_with(&self.store.handle, send_old, |ctx, flush| {
                if flush.new.is_some() {
                    let change = Change::new(flush.new, flush.old);
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
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        // A null key or value is skipped, as Kafka's aggregations skip it ("Skipping record
        // due to null key or value").
        if is_null(&self.key_serde, &record.key)
            || self
                .value_serde
                .as_ref()
                .is_some_and(|s| is_null(s, &record.value))
        {
            return Ok(());
        }
        // The aggregate's timestamp is the latest of its records' (Kafka's
        // `max(record.timestamp, old timestamp)`), also when a record comes out of order.
        let (old, timestamp) = match self.store.get(ctx, &record.key)? {
            Some(old) => (Some(old.value), record.timestamp.max(old.timestamp)),
            None => (None, record.timestamp),
        };
        let old_sent = if self.send_old_values {
            old.clone()
        } else {
            None
        };
        let new = (self.step)(&record.key, record.value, old);
        let Some(is_latest) = self.store.put(ctx, &record.key, Some(&new), timestamp)? else {
            return Ok(());
        };
        if !self.caching {
            let Record { key, headers, .. } = record;
            ctx.forward(Record {
                key,
                value: Change::with_latest(Some(new), old_sent, is_latest),
                timestamp,
                headers,
            })?;
        }
        Ok(())
    }
}

/// `count`'s step.
pub(crate) fn count<K, V>() -> Step<K, V, i64> {
    Arc::new(|_, _, old| old.unwrap_or(0) + 1)
}

/// `reduce`'s step: the first value as it is, then `reducer(aggregate, value)`.
pub(crate) fn reduce<K, V: 'static>(
    reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
) -> Step<K, V, V> {
    Arc::new(move |_, v, old| match old {
        Some(agg) => reducer(agg, v),
        None => v,
    })
}

/// `aggregate`'s step: `aggregator(key, value, aggregate)` from `initializer()`.
pub(crate) fn aggregate<K, V, VA: 'static>(
    initializer: impl Fn() -> VA + Send + Sync + 'static,
    aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
) -> Step<K, V, VA> {
    Arc::new(move |k, v, old| aggregator(k, v, old.unwrap_or_else(&initializer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold<V: Clone, VA: Clone>(step: &Step<String, V, VA>, values: &[V]) -> Vec<VA> {
        let mut agg = None;
        let mut out = Vec::new();
        for v in values {
            let n = step(&"k".to_owned(), v.clone(), agg.take());
            out.push(n.clone());
            agg = Some(n);
        }
        out
    }

    #[test]
    fn count_reduce_and_aggregate_fold_as_kafka_does() {
        assert_eq!(
            fold(&count::<String, String>(), &["a".into(), "b".into()]),
            vec![1, 2]
        );
        assert_eq!(
            fold(&reduce::<String, i64>(|a, b| a.max(b)), &[3, 1, 7]),
            vec![3, 3, 7]
        );
        let concat = aggregate::<String, String, String>(String::new, |_, v, agg| agg + &v);
        assert_eq!(
            fold(&concat, &["a".into(), "b".into()]),
            vec!["a".to_owned(), "ab".to_owned()]
        );
    }
}
