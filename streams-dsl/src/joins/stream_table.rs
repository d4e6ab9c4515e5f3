//! The stream-table and stream-global-table join processor (Kafka's
//! `KStreamKTableJoinProcessor`): each stream record looks up the table's current value of
//! its (mapped) key; table updates produce nothing.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use super::value_getter::ValueGetterRef;
use crate::processors::ops::is_null;
use crate::serdes::DynSerde;

/// What a stream record does in a stream-table join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamRecordFate {
    /// Dropped: a null value, or a null (mapped) key in an inner join.
    Drop,
    /// Joined with the table's value of its key (none for a null key of a left join).
    Lookup,
}

/// Kafka's `maybeDropRecord`: a left join keeps a null-key record with a value (KIP-962);
/// otherwise a null mapped key or a null value drops the record.
pub(crate) fn stream_record_fate(
    left: bool,
    null_key: bool,
    null_mapped_key: bool,
    null_value: bool,
) -> StreamRecordFate {
    if left && null_key && !null_value {
        return StreamRecordFate::Lookup;
    }
    if null_mapped_key || null_value {
        return StreamRecordFate::Drop;
    }
    StreamRecordFate::Lookup
}

/// Maps a stream record to the table key it looks up (the key itself for a `KTable`).
pub(crate) type KeyMapper<K, V, KT> = Arc<dyn Fn(&K, &V) -> KT + Send + Sync>;
/// The user's joiner with the table's value possibly missing; `None`: no output (an inner
/// join's joiner without a table value, never asked).
pub(crate) type LookupJoiner<K, V, VT, VR> =
    Arc<dyn Fn(&K, &V, Option<&VT>) -> Option<VR> + Send + Sync>;

/// `KSTREAM-JOIN-…`/`KSTREAM-LEFTJOIN-…`: joins each record with the table's value of
/// `key_mapper(key, value)`, emitting `joiner(key, value, table value)` at the record's
/// timestamp when there is one (inner) or always (left, `None` for a missing row).
pub(crate) struct StreamTableJoin<K, V, KT, VT, VR> {
    pub key_mapper: KeyMapper<K, V, KT>,
    pub getter: ValueGetterRef<KT, VT>,
    pub joiner: LookupJoiner<K, V, VT, VR>,
    pub left: bool,
    pub key_serde: Option<DynSerde<K>>,
    pub mapped_key_serde: Option<DynSerde<KT>>,
    pub value_serde: Option<DynSerde<V>>,
}

impl<K, V, KT, VT, VR> Processor<K, V, K, VR> for StreamTableJoin<K, V, KT, VT, VR>
where
    K: Clone + 'static,
    V: 'static,
    KT: 'static,
    VT: 'static,
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
        let mapped = (self.key_mapper)(&record.key, &record.value);
        let null_mapped = self
            .mapped_key_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &mapped));
        if stream_record_fate(self.left, null_key, null_mapped, null_value)
            == StreamRecordFate::Drop
        {
            return Ok(());
        }
        let other = if null_mapped {
            None
        } else {
            self.getter.get(&mut ctx.store_access(), &mapped)?
        };
        if self.left || other.is_some() {
            let out = (self.joiner)(&record.key, &record.value, other.as_ref().map(|v| &v.value));
            if let Some(value) = out {
                ctx.forward(Record {
                    key: record.key,
                    value,
                    timestamp: record.timestamp,
                    headers: record.headers,
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_keys_and_values_are_dropped_as_kafka_drops_them() {
        use StreamRecordFate::*;
        assert_eq!(stream_record_fate(false, false, false, false), Lookup);
        assert_eq!(stream_record_fate(false, true, true, false), Drop);
        assert_eq!(stream_record_fate(true, true, true, false), Lookup);
        assert_eq!(stream_record_fate(true, true, true, true), Drop);
        assert_eq!(stream_record_fate(true, false, false, true), Drop);
        assert_eq!(stream_record_fate(true, false, true, false), Drop);
    }
}
