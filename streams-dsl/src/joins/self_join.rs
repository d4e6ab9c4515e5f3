//! A stream joined with itself under `topology.optimization=single.store.self.join` (Kafka's
//! `KStreamKStreamSelfJoin`): one window store, one processor, the output of the two-sided
//! inner join in the same order. Kafka rewrites every join of a stream with itself so, left
//! and outer joins included (whose records always find themselves).

use std::any::Any;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::StoreHandle;

use super::stream_stream::TimeTracker;
use crate::options::JoinWindows;
use crate::processors::ops::is_null;
use crate::serdes::DynSerde;

/// The user's joiner over the stream's values as both sides (`V2` is `V` at run time).
pub(crate) type SelfJoiner<K, V, V2, VR> =
    std::sync::Arc<dyn Fn(&K, Option<&V>, Option<&V2>) -> Option<VR> + Send + Sync>;

/// Whether a record at `timestamp` is still inside the store's retention at `stream_time`
/// (Kafka emits a record's join with itself only then).
pub(crate) fn within_retention(timestamp: i64, stream_time: i64, retention_ms: i64) -> bool {
    timestamp > stream_time.saturating_sub(retention_ms).saturating_add(1)
}

/// `KSTREAM-MERGE-…` of a self-join: joins each record with the stored records of its key,
/// as the left side then as the right, itself in between where its timestamp orders it.
pub(crate) struct SelfJoin<K, V, V2, VR> {
    pub store: StoreHandle<K, V>,
    pub windows: JoinWindows,
    pub joiner: SelfJoiner<K, V, V2, VR>,
    pub tracker: TimeTracker,
    pub key_serde: Option<DynSerde<K>>,
    pub value_serde: Option<DynSerde<V>>,
}

impl<K, V, V2, VR> SelfJoin<K, V, V2, VR>
where
    V: 'static,
    V2: 'static,
{
    fn as_other<'v>(&self, v: &'v V) -> Result<&'v V2, BoxError> {
        (v as &dyn Any)
            .downcast_ref::<V2>()
            .ok_or_else(|| "a self-join's two sides must have one value type".into())
    }
}

impl<K, V, V2, VR> Processor<K, V, K, VR> for SelfJoin<K, V, V2, VR>
where
    K: Clone + 'static,
    V: Clone + 'static,
    V2: 'static,
    VR: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        let null_key = self
            .key_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.key));
        let null_value = self
            .value_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.value));
        if null_key || null_value {
            return Ok(());
        }
        let ts = record.timestamp;
        self.tracker.advance(ts);
        let emit_self = within_retention(ts, self.tracker.stream_time, self.windows.retention_ms());
        let me = self.as_other(&record.value)?;
        let self_value = (self.joiner)(&record.key, Some(&record.value), Some(me));
        let out = |value: VR, timestamp: i64| Record {
            key: record.key.clone(),
            value,
            timestamp,
            headers: record.headers.clone(),
        };
        let (from, to) = self.windows.left_range(ts);
        let others = ctx
            .window_store(&self.store)?
            .fetch_range(&record.key, from, to, false)?;
        for (_, other_ts, other) in &others {
            let other = self.as_other(other)?;
            if let Some(v) = (self.joiner)(&record.key, Some(&record.value), Some(other)) {
                ctx.forward(out(v, ts.max(*other_ts)))?;
            }
        }
        let (from, to) = self.windows.right_range(ts);
        let others = ctx
            .window_store(&self.store)?
            .fetch_range(&record.key, from, to, false)?;
        let mut self_emitted = false;
        for (_, other_ts, other) in &others {
            let max_ts = ts.max(*other_ts);
            if ts < max_ts && !self_emitted && emit_self {
                self_emitted = true;
                if let Some(v) = self_value.clone() {
                    ctx.forward(out(v, ts))?;
                }
            }
            if let Some(v) = (self.joiner)(&record.key, Some(other), Some(me)) {
                ctx.forward(out(v, max_ts))?;
            }
        }
        if !self_emitted && emit_self {
            if let Some(v) = self_value {
                ctx.forward(out(v, ts))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_joins_itself_only_within_retention() {
        assert!(within_retention(10, 10, 5));
        assert!(within_retention(7, 10, 5));
        assert!(!within_retention(6, 10, 5));
    }
}
