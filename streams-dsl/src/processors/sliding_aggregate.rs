//! The sliding-window aggregation processor (Kafka's `KStreamSlidingWindowAggregate`,
//! KIP-450): for each record the windows to create and update come from
//! [`crate::processors::sliding_plan`]; each window's aggregate is kept with its timestamp in
//! a window store, and a window whose end is behind the close time (stream time minus grace)
//! is not updated: the record is dropped for it and counted.

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::{StoreHandle, ValueAndTimestamp};
use tracing::warn;

use crate::change::Change;
use crate::processors::aggregate::Step;
use crate::processors::ops::is_null;
use crate::processors::sliding_plan::{plan, plan_early, Base, SlidingAction, Stored};
use crate::processors::window_aggregate::{
    forward_closed_windows, forward_window_flushes, Initial,
};
use crate::processors::window_emit::{SlidingEmitTracker, DEFAULT_EMIT_INTERVAL_MS, NO_TIMESTAMP};
use crate::serdes::DynSerde;
use crate::windowed::{Window, Windowed};
use crate::windows::{EmitStrategy, SlidingWindows};

/// The store holds a window a record at that time cannot meet (Kafka's
/// `IllegalStateException("Unexpected window found when processing sliding windows")`): the
/// store was written by something else than this aggregation.
#[derive(Debug, thiserror::Error)]
#[error(
    "sliding-window store {store:?}: {detail}; the store must be written by this aggregation only"
)]
pub(crate) struct UnexpectedWindow {
    store: String,
    detail: String,
}

/// One task's sliding-window aggregation.
pub(crate) struct SlidingAggregate<K, V, VA> {
    pub store: StoreHandle<K, ValueAndTimestamp<VA>>,
    pub windows: SlidingWindows,
    pub step: Step<K, V, VA>,
    pub initial: Initial<VA>,
    pub emit: EmitStrategy,
    pub send_old_values: bool,
    pub key_serde: DynSerde<K>,
    pub value_serde: Option<DynSerde<V>>,
    pub observed_stream_time: i64,
    /// The store caches: updates are forwarded when the cache flushes them (Kafka's
    /// `TimestampedTupleForwarder` with a caching store), set at `init`.
    pub caching: bool,
    /// Forward the cache's flushes (of a store a cogroup's processors share, only the
    /// first one does).
    pub forward_flushes: bool,
    pub emit_final: SlidingEmitTracker,
}

impl<K, V, VA> SlidingAggregate<K, V, VA> {
    /// A processor that has seen nothing yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: StoreHandle<K, ValueAndTimestamp<VA>>,
        windows: SlidingWindows,
        step: Step<K, V, VA>,
        initial: Initial<VA>,
        emit: EmitStrategy,
        send_old_values: bool,
        key_serde: DynSerde<K>,
        value_serde: Option<DynSerde<V>>,
    ) -> Self {
        SlidingAggregate {
            store,
            windows,
            step,
            initial,
            emit,
            send_old_values,
            key_serde,
            value_serde,
            observed_stream_time: NO_TIMESTAMP,
            caching: false,
            forward_flushes: true,
            emit_final: SlidingEmitTracker::new(DEFAULT_EMIT_INTERVAL_MS),
        }
    }
}

impl<K, V, VA> SlidingAggregate<K, V, VA>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VA: Clone + 'static,
{
    fn window(&self, start: i64) -> Window {
        Window::new(
            start,
            start.saturating_add(self.windows.time_difference_ms()),
        )
    }

    /// Store `value` for the window starting at `start` and forward it (unless results wait
    /// for the window to close).
    fn put_and_forward(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        record: &Record<K, V>,
        start: i64,
        value: ValueAndTimestamp<VA>,
        old: Option<VA>,
    ) -> Result<(), BoxError> {
        if !ctx
            .window_store(&self.store)?
            .put(&record.key, Some(&value), start)?
        {
            warn!(
                processor = ctx.processor_name(),
                store = self.store.name(),
                "Skipping record for expired segment."
            );
            ctx.record_dropped();
        }
        if self.emit == EmitStrategy::OnWindowUpdate && !self.caching {
            let old = if self.send_old_values { old } else { None };
            let mut out = Record::new(
                Windowed::new(record.key.clone(), self.window(start)),
                Change::new(Some(value.value), old),
                value.timestamp,
            );
            out.headers = record.headers.clone();
            ctx.forward(out)?;
        }
        Ok(())
    }

    /// Aggregate `record` into the window starting at `start` from `base`, unless the
    /// window closed.
    fn update(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        record: &Record<K, V>,
        start: i64,
        base: Base<VA>,
        close_time: i64,
    ) -> Result<(), BoxError> {
        let window = self.window(start);
        if window.end < close_time {
            warn!(
                processor = ctx.processor_name(),
                at = ?ctx.record_metadata(),
                timestamp = record.timestamp,
                window = %format_args!("[{},{}]", window.start, window.end),
                expiration = close_time,
                stream_time = self.observed_stream_time,
                "Skipping record for expired window"
            );
            ctx.record_dropped();
            return Ok(());
        }
        let (old, old_timestamp) = match base {
            Base::Initial => ((self.initial)(), record.timestamp),
            Base::Existing(agg, ts) => (Some(agg), ts),
        };
        let timestamp = if old.is_none() {
            record.timestamp
        } else {
            record.timestamp.max(old_timestamp)
        };
        let new = (self.step)(&record.key, record.value.clone(), old.clone());
        let value = ValueAndTimestamp {
            value: new,
            timestamp,
        };
        self.put_and_forward(ctx, record, start, value, old)
    }

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
        let d = self.windows.time_difference_ms();
        let Some((lower, upper)) = self.emit_final.due(d, now, close_time) else {
            return Ok(());
        };
        forward_closed_windows(
            ctx,
            &self.store,
            &self.key_serde,
            (lower, upper),
            |start| self.window(start),
            &source.headers,
        )?;
        Ok(())
    }
}

impl<K, V, VA> Processor<K, V, Windowed<K>, Change<VA>> for SlidingAggregate<K, V, VA>
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
            let size = self.windows.time_difference_ms();
            forward_window_flushes(ctx, &self.store, self.send_old_values, size)?;
        }
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        if is_null(&self.key_serde, &record.key)
            || self
                .value_serde
                .as_ref()
                .is_some_and(|s| is_null(s, &record.value))
        {
            warn!(
                processor = ctx.processor_name(),
                at = ?ctx.record_metadata(),
                "Skipping record due to null key or value"
            );
            ctx.record_dropped();
            return Ok(());
        }
        let ts = record.timestamp;
        let d = self.windows.time_difference_ms();
        self.observed_stream_time = self.observed_stream_time.max(ts);
        let close_time = self
            .observed_stream_time
            .saturating_sub(self.windows.grace_ms());
        if ts.saturating_add(d) < close_time {
            warn!(
                processor = ctx.processor_name(),
                at = ?ctx.record_metadata(),
                timestamp = ts,
                window = %format_args!("[{},{}]", ts, ts.saturating_add(d)),
                expiration = close_time,
                stream_time = self.observed_stream_time,
                "Skipping record for expired window"
            );
            ctx.record_dropped();
            return Ok(());
        }
        let early = ts < d;
        let from = if early {
            0
        } else {
            ts.saturating_sub(d.saturating_mul(2)).max(0)
        };
        let stored: Vec<Stored<VA>> = ctx
            .window_store(&self.store)?
            .fetch_range(&record.key, from, ts.saturating_add(1), !early)?
            .into_iter()
            .map(|(_, start, v)| (start, v.value, v.timestamp))
            .collect();
        let actions = if early {
            plan_early(ts, &stored)
        } else {
            plan(d, ts, &stored)
        }
        .map_err(|detail| UnexpectedWindow {
            store: self.store.name().to_owned(),
            detail,
        })?;
        for action in actions {
            match action {
                SlidingAction::Update { start, base } => {
                    self.update(ctx, &record, start, base, close_time)?;
                }
                SlidingAction::CreateRight {
                    start,
                    agg,
                    timestamp,
                } => {
                    let value = ValueAndTimestamp {
                        value: agg,
                        timestamp,
                    };
                    self.put_and_forward(ctx, &record, start, value, None)?;
                }
            }
        }
        // Kafka looks for final results after a record past the first window only.
        if early {
            return Ok(());
        }
        self.maybe_emit_final(ctx, close_time, &record)
    }
}
