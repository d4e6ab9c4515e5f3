//! The session-windowed aggregation processor of `count`, `reduce` and `aggregate` on a
//! [`crate::SessionWindowedKStream`] (Kafka's `KStreamSessionWindowAggregate`): a record
//! opens the session `[t, t]` of its key, merged with every stored session within the
//! inactivity gap; the sessions merged away are deleted and forwarded as tombstones, then the
//! merged session's aggregate is forwarded, stamped with the session's end (through the
//! record cache when the store has one: once per session per commit, a session removed and
//! put again within one forwarded once). A record whose
//! merged session is already closed (its end before stream time minus gap and grace) is
//! dropped and counted.

use std::sync::Arc;

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::StoreHandle;
use tracing::warn;

use crate::change::Change;
use crate::processors::aggregate::Step;
use crate::processors::ops::is_null;
use crate::processors::session_merge::{
    is_session_closed, merge, merge_range, session_close_time, SessionEmitTracker,
};
use crate::processors::window_aggregate::Initial;
use crate::processors::window_emit::{DEFAULT_EMIT_INTERVAL_MS, NO_TIMESTAMP};
use crate::serdes::DynSerde;
use crate::windowed::{Window, Windowed};
use crate::windows::{EmitStrategy, SessionWindows};

/// How two sessions' aggregates combine when a record bridges them (Kafka's `Merger`,
/// applied as `merger(key, aggregate so far, stored session's aggregate)`).
pub(crate) type SessionMerger<K, VA> = Arc<dyn Fn(&K, Option<VA>, VA) -> VA + Send + Sync>;

/// One task's session-windowed aggregation.
pub(crate) struct SessionAggregate<K, V, VA> {
    pub store: StoreHandle<K, VA>,
    pub windows: SessionWindows,
    pub initial: Initial<VA>,
    pub step: Step<K, V, VA>,
    pub merger: SessionMerger<K, VA>,
    pub emit: EmitStrategy,
    pub send_old_values: bool,
    pub key_serde: DynSerde<K>,
    pub observed_stream_time: i64,
    pub emit_final: SessionEmitTracker,
    /// The store caches: updates (and removals of sessions the store held) are forwarded when
    /// the cache flushes them, as Kafka's caching session store does; set at `init`.
    pub caching: bool,
    /// Forward the cache's flushes (of a store a cogroup's processors share, only the
    /// first one does).
    pub forward_flushes: bool,
}

impl<K, V, VA> SessionAggregate<K, V, VA> {
    /// A processor that has seen nothing yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: StoreHandle<K, VA>,
        windows: SessionWindows,
        initial: Initial<VA>,
        step: Step<K, V, VA>,
        merger: SessionMerger<K, VA>,
        emit: EmitStrategy,
        send_old_values: bool,
        key_serde: DynSerde<K>,
    ) -> Self {
        SessionAggregate {
            store,
            windows,
            initial,
            step,
            merger,
            emit,
            send_old_values,
            key_serde,
            observed_stream_time: NO_TIMESTAMP,
            emit_final: SessionEmitTracker::new(DEFAULT_EMIT_INTERVAL_MS),
            caching: false,
            forward_flushes: true,
        }
    }
}

impl<K, V, VA> SessionAggregate<K, V, VA>
where
    K: Clone + 'static,
    V: 'static,
    VA: Clone + 'static,
{
    /// Forward `change` of `session` unless results wait for the session to close; stamped
    /// with the session's end.
    fn forward_update(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<VA>>,
        session: Windowed<K>,
        new: Option<VA>,
        old: Option<VA>,
    ) -> Result<(), BoxError> {
        if self.emit == EmitStrategy::OnWindowClose || self.caching {
            return Ok(());
        }
        let old = if self.send_old_values { old } else { None };
        let end = session.window.end;
        ctx.forward(Record::new(session, Change::new(new, old), end))?;
        Ok(())
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
        let Some((lower, upper)) = self.emit_final.due(now, close_time) else {
            return Ok(());
        };
        let closed = ctx
            .session_store(&self.store)?
            .find_sessions_ending(lower, upper)?;
        for (key, start, end, value) in closed {
            let mut record = Record::new(
                Windowed::new(key, Window::new(start, end)),
                Change::new(Some(value), None),
                end,
            );
            record.headers = source.headers.clone();
            ctx.forward(record)?;
        }
        Ok(())
    }
}

impl<K, V, VA> Processor<K, V, Windowed<K>, Change<VA>> for SessionAggregate<K, V, VA>
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
            let send_old = self.send_old_values;
            ctx.on_session_cache_flush(&self.store, send_old, move |ctx, flush| {
                let (key, start, end) = flush.key;
                let old = if send_old { flush.old } else { None };
                // Stamped with the session's end, as Kafka's session flush listener does.
                ctx.forward(Record::new(
                    Windowed::new(key, Window::new(start, end)),
                    Change::new(flush.new, old),
                    end,
                ))?;
                Ok(())
            })?;
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
        let close_time = session_close_time(&self.windows, self.observed_stream_time);
        let (earliest_end, latest_start) = merge_range(&self.windows, timestamp);
        let found = ctx.session_store(&self.store)?.find_sessions(
            &record.key,
            earliest_end,
            latest_start,
        )?;
        let new_session = Window::new(timestamp, timestamp);
        let mut merged_window = new_session;
        let mut agg = (self.initial)();
        let mut merged = Vec::with_capacity(found.len());
        for (_, start, end, value) in found {
            agg = Some((self.merger)(&record.key, agg, value.clone()));
            merged_window = merge(merged_window, Window::new(start, end));
            merged.push((Window::new(start, end), value));
        }
        if is_session_closed(merged_window.end, close_time) {
            warn!(
                processor = ctx.processor_name(),
                at = ?ctx.record_metadata(),
                timestamp,
                window = %format_args!("[{},{}]", merged_window.start, merged_window.end),
                expiration = close_time,
                stream_time = self.observed_stream_time,
                "Skipping record for expired window"
            );
            ctx.record_dropped();
        } else {
            if merged_window != new_session {
                for (window, value) in merged {
                    ctx.session_store(&self.store)?.remove(
                        &record.key,
                        window.start,
                        window.end,
                    )?;
                    let key = Windowed::new(record.key.clone(), window);
                    self.forward_update(ctx, key, None, Some(value))?;
                }
            }
            let agg = (self.step)(&record.key, record.value.clone(), agg);
            let written = ctx.session_store(&self.store)?.put(
                &record.key,
                merged_window.start,
                merged_window.end,
                Some(&agg),
            )?;
            if !written {
                // The store's own expiry (the session ended behind its retention): Kafka's
                // store logs and counts it, and the update is still forwarded.
                warn!(
                    processor = ctx.processor_name(),
                    store = self.store.name(),
                    "Skipping record for expired segment."
                );
                ctx.record_dropped();
            }
            let key = Windowed::new(record.key.clone(), merged_window);
            self.forward_update(ctx, key, Some(agg), None)?;
        }
        self.maybe_emit_final(ctx, close_time, &record)
    }
}
