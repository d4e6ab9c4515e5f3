//! Stateless operations as [`RecordOp`]s: a record in, zero or more records out through
//! `emit`, without a processor context, so each is testable on its own; [`OpProcessor`] runs
//! one as a streams-core processor.

use std::marker::PhantomData;
use std::sync::Arc;

use streams_core::error::{BoxError, StreamsError};
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;

use streams_core::serde::Serializer;

use crate::options::printed::{Mapper, PrintTarget};
use crate::serdes::DynSerde;

/// One stateless operation (Kafka's `KStreamFilter`, `KStreamMap`, …).
pub(crate) trait RecordOp<KIn, VIn, KOut, VOut>: Send + Sync + 'static {
    /// Handle `record`, passing each output record to `emit`.
    fn apply<E>(&self, record: Record<KIn, VIn>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<KOut, VOut>) -> Result<(), StreamsError>;
}

/// A [`RecordOp`] as a processor: outputs are forwarded to every child.
pub(crate) struct OpProcessor<O>(pub Arc<O>);

impl<KIn, VIn, KOut, VOut, O> Processor<KIn, VIn, KOut, VOut> for OpProcessor<O>
where
    KIn: 'static,
    VIn: 'static,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
    O: RecordOp<KIn, VIn, KOut, VOut>,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        record: Record<KIn, VIn>,
    ) -> Result<(), BoxError> {
        self.0.apply(record, &mut |r| ctx.forward(r))
    }
}

/// `filter` (keeps records the predicate accepts) and `filterNot` (`negate`).
pub(crate) struct Filter<F> {
    pub predicate: F,
    pub negate: bool,
}

impl<K: 'static, V: 'static, F> RecordOp<K, V, K, V> for Filter<F>
where
    F: Fn(&K, &V) -> bool + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V>) -> Result<(), StreamsError>,
    {
        if (self.predicate)(&r.key, &r.value) != self.negate {
            emit(r)?;
        }
        Ok(())
    }
}

/// `map`: a new key and value.
pub(crate) struct Map<F>(pub F);

impl<K: 'static, V: 'static, K2, V2, F> RecordOp<K, V, K2, V2> for Map<F>
where
    F: Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K2, V2>) -> Result<(), StreamsError>,
    {
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        let (k, v) = (self.0)(key, value);
        emit(Record {
            key: k,
            value: v,
            timestamp,
            headers,
        })?;
        Ok(())
    }
}

/// `mapValues` (with the key, read-only).
pub(crate) struct MapValues<F>(pub F);

impl<K: 'static, V: 'static, V2, F> RecordOp<K, V, K, V2> for MapValues<F>
where
    F: Fn(&K, V) -> V2 + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V2>) -> Result<(), StreamsError>,
    {
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        let value = (self.0)(&key, value);
        emit(Record {
            key,
            value,
            timestamp,
            headers,
        })?;
        Ok(())
    }
}

/// `flatMap`: any number of new records, each with the input's timestamp and headers.
pub(crate) struct FlatMap<F, I>(pub F, pub PhantomData<fn() -> I>);

impl<K: 'static, V: 'static, K2, V2, F, I> RecordOp<K, V, K2, V2> for FlatMap<F, I>
where
    F: Fn(K, V) -> I + Send + Sync + 'static,
    I: IntoIterator<Item = (K2, V2)> + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K2, V2>) -> Result<(), StreamsError>,
    {
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        for (k, v) in (self.0)(key, value) {
            emit(Record {
                key: k,
                value: v,
                timestamp,
                headers: headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// `flatMapValues`: any number of new values under the input's key.
pub(crate) struct FlatMapValues<F, I>(pub F, pub PhantomData<fn() -> I>);

impl<K: Clone + 'static, V: 'static, V2, F, I> RecordOp<K, V, K, V2> for FlatMapValues<F, I>
where
    F: Fn(&K, V) -> I + Send + Sync + 'static,
    I: IntoIterator<Item = V2> + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V2>) -> Result<(), StreamsError>,
    {
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = r;
        for v in (self.0)(&key, value) {
            emit(Record {
                key: key.clone(),
                value: v,
                timestamp,
                headers: headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// `selectKey` and `groupBy`'s key selection.
pub(crate) struct SelectKey<F>(pub F);

impl<K: 'static, V: 'static, K2, F> RecordOp<K, V, K2, V> for SelectKey<F>
where
    F: Fn(&K, &V) -> K2 + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K2, V>) -> Result<(), StreamsError>,
    {
        let k = (self.0)(&r.key, &r.value);
        emit(r.with_key(k))?;
        Ok(())
    }
}

/// `peek`: calls the action and forwards the record unchanged.
pub(crate) struct Peek<F>(pub F);

impl<K: 'static, V: 'static, F> RecordOp<K, V, K, V> for Peek<F>
where
    F: Fn(&K, &V) + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V>) -> Result<(), StreamsError>,
    {
        (self.0)(&r.key, &r.value);
        emit(r)?;
        Ok(())
    }
}

/// `foreach`: calls the action, forwards nothing.
pub(crate) struct Foreach<F>(pub F);

impl<K: 'static, V: 'static, F> RecordOp<K, V, (), ()> for Foreach<F>
where
    F: Fn(&K, &V) + Send + Sync + 'static,
{
    fn apply<E>(&self, r: Record<K, V>, _emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<(), ()>) -> Result<(), StreamsError>,
    {
        (self.0)(&r.key, &r.value);
        Ok(())
    }
}

/// Forwards every record (`merge`, branches).
pub(crate) struct PassThrough;

impl<K: 'static, V: 'static> RecordOp<K, V, K, V> for PassThrough {
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V>) -> Result<(), StreamsError>,
    {
        emit(r)?;
        Ok(())
    }
}

/// Whether `value` is Kafka's null: its serde writes no bytes for it (`None` of an `Option`),
/// asked without serializing it ([`Serializer::is_null`]).
pub(crate) fn is_null<T: 'static>(serde: &DynSerde<T>, value: &T) -> bool {
    Serializer::is_null(serde, value)
}

/// The filter before a repartition topic (Kafka's `(k, v) -> k != null`): a record whose key
/// is null has no partition to go to and is dropped.
pub(crate) struct NotNullKey<K>(pub DynSerde<K>);

impl<K: 'static, V: 'static> RecordOp<K, V, K, V> for NotNullKey<K> {
    fn apply<E>(&self, r: Record<K, V>, emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<K, V>) -> Result<(), StreamsError>,
    {
        if !is_null(&self.0, &r.key) {
            emit(r)?;
        }
        Ok(())
    }
}

/// `print`: one line `[<label>]: <mapper(key, value)>` per record.
pub(crate) struct Print<K, V> {
    pub label: String,
    pub mapper: Mapper<K, V>,
    pub target: PrintTarget,
}

impl<K, V> Print<K, V> {
    pub(crate) fn line(&self, key: &K, value: &V) -> String {
        format!("[{}]: {}", self.label, (self.mapper)(key, value))
    }
}

impl<K: 'static, V: 'static> RecordOp<K, V, (), ()> for Print<K, V> {
    fn apply<E>(&self, r: Record<K, V>, _emit: &mut E) -> Result<(), BoxError>
    where
        E: FnMut(Record<(), ()>) -> Result<(), StreamsError>,
    {
        self.target.write_line(&self.line(&r.key, &r.value))?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
