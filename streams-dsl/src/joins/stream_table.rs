//! The stream-table and stream-global-table join processor (Kafka's
//! `KStreamKTableJoinProcessor`): each stream record looks up the table's value of its
//! (mapped) key — a versioned table's as of the record's timestamp (KIP-914) — table updates
//! produce nothing. With a grace period (KIP-923) records wait in a [`JoinBuffer`] and are
//! joined in timestamp order once stream time passes them by the grace period.

use std::sync::Arc;

use bytes::Bytes;
use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::serde::{Deserializer, Serializer};
use streams_core::state::StoreHandle;

use super::join_buffer::{split_store_key, JoinBuffer};
use super::value_getter::ValueGetterRef;
use crate::processors::ops::is_null;
use crate::processors::suppress_buffer::{decode, encode, BufferedChange, BufferedContext};
use crate::serdes::DynSerde;

/// Why a buffered stream record could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("stream-table join buffer {store:?} holds an unreadable entry: {detail}")]
pub(crate) struct JoinBufferCorrupt {
    store: String,
    detail: String,
}

/// A left join with a grace period met a record with a null key: Kafka's buffer refuses it
/// (`NullPointerException: key cannot be null`) and the task fails; so does ours.
#[derive(Debug, thiserror::Error)]
#[error("stream-table left join {join:?} has a grace period and got a record with a null key, which its buffer cannot hold (Kafka's task fails the same way): drop or re-key null-key records before the join, or drop Joined::with_grace_period")]
pub(crate) struct NullKeyInGraceBuffer {
    join: String,
}

/// A stream-table join's grace period: the buffer store and how records are serialized
/// into it (the stream's serdes, with the join processor's name as topic, as Kafka's).
pub(crate) struct GraceSpec<K, V> {
    pub store: StoreHandle<Bytes, Bytes>,
    pub grace_ms: i64,
    pub key_serde: DynSerde<K>,
    pub value_serde: DynSerde<V>,
    pub topic: String,
}

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
    /// The grace period and its buffer (KIP-923), with the records waiting in it.
    pub grace: Option<(Arc<GraceSpec<K, V>>, JoinBuffer)>,
}

impl<K, V, KT, VT, VR> Processor<K, V, K, VR> for StreamTableJoin<K, V, KT, VT, VR>
where
    K: Clone + 'static,
    V: 'static,
    KT: 'static,
    VT: 'static,
    VR: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), BoxError> {
        if let Some((spec, buffer)) = &mut self.grace {
            *buffer = JoinBuffer::new(spec.grace_ms);
            for (key, value) in ctx.key_value_store(&spec.store)?.all()? {
                if !buffer.restore(key.to_vec(), value) {
                    return Err(Box::new(JoinBufferCorrupt {
                        store: spec.store.name().to_owned(),
                        detail: format!("a key of {} bytes", key.len()),
                    }));
                }
            }
        }
        Ok(())
    }

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
        if self.grace.is_some() {
            // Only a left join gets here with a null key (KIP-962); Kafka's buffer refuses it.
            if null_key {
                return Err(Box::new(NullKeyInGraceBuffer {
                    join: ctx.processor_name().to_owned(),
                }));
            }
            return self.buffer_and_emit(ctx, record);
        }
        self.join(ctx, record, mapped, null_mapped)
    }
}

impl<K, V, KT, VT, VR> StreamTableJoin<K, V, KT, VT, VR>
where
    K: Clone + 'static,
    V: 'static,
    KT: 'static,
    VT: 'static,
    VR: Clone + 'static,
{
    /// Kafka's `buffer.put` then `evictWhile`: the record waits (or, beyond the grace
    /// period, is joined at once); the records whose time came are joined in order.
    fn buffer_and_emit(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        let Some((spec, buffer)) = &mut self.grace else {
            return Ok(());
        };
        let spec = Arc::clone(spec);
        let key = spec
            .key_serde
            .serialize(&spec.topic, &record.key)?
            .unwrap_or_default();
        let new = spec.value_serde.serialize(&spec.topic, &record.value)?;
        let meta = ctx.record_metadata().cloned();
        let context = BufferedContext {
            timestamp: record.timestamp,
            offset: meta.as_ref().map_or(-1, |m| m.offset),
            topic: meta
                .as_ref()
                .map_or_else(String::new, |m| m.topic.to_string()),
            partition: meta.as_ref().map_or(-1, |m| m.partition),
            headers: record.headers.clone(),
        };
        let value = encode(
            0,
            &BufferedChange {
                prior: None,
                old: None,
                new,
                context,
            },
        );
        let Some(store_key) = buffer.put(record.timestamp, &key, value.clone()) else {
            let mapped = (self.key_mapper)(&record.key, &record.value);
            return self.join(ctx, record, mapped, false);
        };
        let due = buffer.evict();
        ctx.key_value_store(&spec.store)?
            .put(&Bytes::from(store_key), &value)?;
        for (store_key, value) in due {
            ctx.key_value_store(&spec.store)?
                .delete(&Bytes::from(store_key.clone()))?;
            let corrupt = |detail: String| JoinBufferCorrupt {
                store: spec.store.name().to_owned(),
                detail,
            };
            let (_, key_bytes) = split_store_key(&store_key)
                .ok_or_else(|| corrupt(format!("a key of {} bytes", store_key.len())))?;
            let (_, change) = decode(&value).map_err(|e| corrupt(e.to_string()))?;
            let key = spec.key_serde.deserialize(&spec.topic, Some(key_bytes))?;
            let value = spec
                .value_serde
                .deserialize(&spec.topic, change.new.as_deref())?;
            let mapped = (self.key_mapper)(&key, &value);
            let record = Record {
                key,
                value,
                timestamp: change.context.timestamp,
                headers: change.context.headers,
            };
            self.join(ctx, record, mapped, false)?;
        }
        Ok(())
    }

    /// Kafka's `doJoin`: the table's value of `mapped` (as of the record's time for a
    /// versioned table), the joiner, the output at the record's timestamp.
    fn join(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        record: Record<K, V>,
        mapped: KT,
        null_mapped: bool,
    ) -> Result<(), BoxError> {
        let other = if null_mapped {
            None
        } else if self.getter.is_versioned() {
            self.getter
                .get_as_of(&mut ctx.store_access(), &mapped, record.timestamp)?
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
