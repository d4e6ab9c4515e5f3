//! The time-windowed aggregation processor of `count`, `reduce` and `aggregate` on a
//! [`crate::TimeWindowedKStream`] (Kafka's `KStreamWindowAggregate`): each record updates the
//! aggregate of every window holding its timestamp, kept with its timestamp (the latest of
//! its records') in a window store; a record for a window already closed (its end plus the
//! grace period at or behind the stream time this processor observed) is dropped and counted.
//! Updates are forwarded as they happen (through the record cache when the store has one: once
//! per window per commit), or — with [`EmitStrategy::OnWindowClose`] — each window's final
//! result once, when it closes.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::{Header, Record};
use streams_core::serde::Serializer;
use streams_core::state::{StoreHandle, ValueAndTimestamp};
use tracing::warn;

use crate::change::Change;
use crate::processors::aggregate::Step;
use crate::processors::ops::is_null;
use crate::processors::window_emit::{
    is_closed, window_close_time, EmitFinalTracker, DEFAULT_EMIT_INTERVAL_MS, NO_TIMESTAMP,
};
use crate::serdes::DynSerde;
use crate::windowed::{Window, Windowed};
use crate::windows::{EmitStrategy, TimeWindows};

/// The aggregate a window starts from, as the "old value" Kafka forwards for a new window
/// (the initializer's value; `None` for `reduce`).
pub(crate) type Initial<VA> = Arc<dyn Fn() -> Option<VA> + Send + Sync>;

/// Forward the final result of each window of `store` starting in `starts` (inclusive), in
/// Kafka's time-ordered store order — by start, then key bytes — each stamped with its
/// aggregate's timestamp and carrying `headers` (emit-on-window-close of time and sliding
/// windows).
pub(crate) fn forward_closed_windows<K: Clone + 'static, VA: Clone + 'static>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    store: &StoreHandle<K, ValueAndTimestamp<VA>>,
    key_serde: &DynSerde<K>,
    starts: (i64, i64),
    window_of: impl Fn(i64) -> Window,
    headers: &[Header],
) -> Result<(), BoxError> {
    let closed = ctx
        .window_store(store)?
        .fetch_all(starts.0, starts.1, false)?;
    let mut keyed = Vec::with_capacity(closed.len());
    for (key, start, value) in closed {
        let bytes = key_serde.serialize(store.name(), &key)?;
        keyed.push((start, bytes, key, value));
    }
    keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (start, _, key, value) in keyed {
        let mut record = Record::new(
            Windowed::new(key, window_of(start)),
            Change::new(Some(value.value), None),
            value.timestamp,
        );
        record.headers = headers.to_vec();
        ctx.forward(record)?;
    }
    Ok(())
}

/// Forward what the record cache flushes of the window store `store` (windows `size_ms`
/// long): each window's new aggregate — with the one it replaced when `send_old` — stamped
/// with its timestamp (Kafka's `TimestampedCacheFlushListener`).
pub(crate) fn forward_window_flushes<K: Clone + 'static, VA: Clone + 'static>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    store: &StoreHandle<K, ValueAndTimestamp<VA>>,
    send_old: bool,
    size_ms: i64,
) -> Result<(), BoxError> {
    ctx.on_window_cache_flush(store, send_old, move |ctx, flush| {
        let ((key, start), Some(new)) = (flush.key, flush.new) else {
            return Ok(());
        };
        let old = if send_old {
            flush.old.map(|o| o.value)
        } else {
            None
        };
        let windowed = Windowed::new(key, Window::of_size(start, size_ms));
        ctx.forward(Record::new(
            windowed,
            Change::new(Some(new.value), old),
            new.timestamp,
        ))?;
        Ok(())
    })?;
    Ok(())
}

/// One task's time-windowed aggregation.
pub(crate) struct WindowAggregate<K, V, VA> {
    pub store: StoreHandle<K, ValueAndTimestamp<VA>>,
    pub windows: TimeWindows,
    pub step: Step<K, V, VA>,
    pub initial: Initial<VA>,
    pub emit: EmitStrategy,
    /// Forward the aggregate each update replaces (a downstream table node asked for it).
    pub send_old_values: bool,
    /// Tells a null key (a record Kafka skips) and orders final results by key bytes.
    pub key_serde: DynSerde<K>,
    /// The largest record timestamp this processor saw (Kafka's `observedStreamTime`).
    pub observed_stream_time: i64,
    /// The store caches: updates are forwarded when the cache flushes them (Kafka's
    /// `TimestampedTupleForwarder` with a caching store), set at `init`.
    pub caching: bool,
    /// Forward the cache's flushes (of a store a cogroup's processors share, only the
    /// first one does).
    pub forward_flushes: bool,
    pub emit_final: EmitFinalTracker,
}

impl<K, V, VA> WindowAggregate<K, V, VA> {
    /// A processor that has seen nothing yet.
    pub(crate) fn new(
        store: StoreHandle<K, ValueAndTimestamp<VA>>,
        windows: TimeWindows,
        step: Step<K, V, VA>,
        initial: Initial<VA>,
        emit: EmitStrategy,
        send_old_values: bool,
        key_serde: DynSerde<K>,
    ) -> Self {
        WindowAggregate {
            store,
            windows,
            step,
            initial,
            emit,
            send_old_values,
            key_serde,
            observed_stream_time: NO_TIMESTAMP,
            caching: false,
            forward_flushes: true,
            emit_final: EmitFinalTracker::new(DEFAULT_EMIT_INTERVAL_MS),
        }
    }
}

impl<K, V, VA> WindowAggregate<K, V, VA>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
{
    /// Forward the final results of the windows that closed since the last emission.
    fn maybe_emit_final(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        close_time: i64,
        source: &Record<K, V>,
    ) -> Result<(), BoxError> {
        if self.emit != EmitStrategy::OnWindowClose {
            return Ok(());
        }
        let now = ctx.current_system_time();
        let Some((lower, upper)) = self.emit_final.due(&self.windows, now, close_time) else {
            return Ok(());
        };
        let size = self.windows.size_ms();
        forward_closed_windows(
            ctx,
            &self.store,
            &self.key_serde,
            (lower, upper),
            |start| Window::of_size(start, size),
            &source.headers,
        )?;
        Ok(())
    }
}

impl<K, V, VA> Processor<K, V, Windowed<K>, Change<VA>> for WindowAggregate<K, V, VA>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
    ) -> Result<(), BoxError> {
        self.caching = ctx.caches(&self.store);
        if self.caching && self.forward_flushes && self.emit == EmitStrategy::OnWindowUpdate {
            forward_window_flushes(
                ctx,
                &self.store,
                self.send_old_values,
                self.windows.size_ms(),
            )?;
        }
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        if is_null(&self.key_serde, &record.key) {
            warn!(
                processor = ctx.processor_name(),
                at = ?ctx.record_metadata(),
                "Skipping record due to null key"
            );
            ctx.record_dropped();
            return Ok(());
        }
        let timestamp = record.timestamp;
        self.observed_stream_time = self.observed_stream_time.max(timestamp);
        let close_time = window_close_time(self.observed_stream_time, self.windows.grace_ms());
        for window in self.windows.windows_for(timestamp) {
            let start = window.start;
            if is_closed(window.end, close_time) {
                warn!(
                    processor = ctx.processor_name(),
                    at = ?ctx.record_metadata(),
                    timestamp,
                    window = %format_args!("[{},{})", window.start, window.end),
                    expiration = close_time,
                    stream_time = self.observed_stream_time,
                    "Skipping record for expired window"
                );
                ctx.record_dropped();
                continue;
            }
            let mut store = ctx.window_store(&self.store)?;
            let (old, new_timestamp) = match store.fetch(&record.key, start)? {
                Some(old) => (Some(old.value), timestamp.max(old.timestamp)),
                None => (None, timestamp),
            };
            let old_sent = if self.send_old_values {
                old.clone().or_else(|| (self.initial)())
            } else {
                None
            };
            let new = (self.step)(&record.key, record.value.clone(), old);
            let stored = ValueAndTimestamp {
                value: new,
                timestamp: new_timestamp,
            };
            if !store.put(&record.key, Some(&stored), start)? {
                // Behind the store's retention (only with a retention shorter than the
                // window's life, which the DSL refuses): Kafka's store logs and counts it.
                warn!(
                    processor = ctx.processor_name(),
                    store = self.store.name(),
                    "Skipping record for expired segment."
                );
                ctx.record_dropped();
            }
            if self.emit == EmitStrategy::OnWindowUpdate && !self.caching {
                let mut out = Record::new(
                    Windowed::new(record.key.clone(), window),
                    Change::new(Some(stored.value), old_sent),
                    new_timestamp,
                );
                out.headers = record.headers.clone();
                ctx.forward(out)?;
            }
        }
        self.maybe_emit_final(ctx, close_time, &record)
    }
}
