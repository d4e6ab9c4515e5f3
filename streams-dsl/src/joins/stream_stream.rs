//! The processors of a stream-stream join (Kafka's `KStreamJoinWindow` and
//! `KStreamKStreamJoin`, with the KIP-633 outer-join store) and the decisions they take —
//! which records a record joins, when a record without a partner is emitted — as plain
//! functions over a [`TimeTracker`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use streams_core::error::BoxError;
use streams_core::processor::{Processor, ProcessorContext};
use streams_core::record::Record;
use streams_core::state::StoreHandle;
use streams_core::TaskId;

use super::outer_store::{LeftOrRight, OuterKey};
use crate::options::JoinWindows;
use crate::processors::ops::is_null;
use crate::serdes::DynSerde;

/// The stream time both sides of one join share in a task, the earliest record waiting in
/// the outer-join store and the next wall-clock time a scan may run (Kafka's `TimeTracker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeTracker {
    pub stream_time: i64,
    pub min_time: i64,
    pub next_time_to_emit: i64,
}

impl Default for TimeTracker {
    fn default() -> Self {
        TimeTracker {
            stream_time: -1,
            min_time: i64::MAX,
            next_time_to_emit: 0,
        }
    }
}

impl TimeTracker {
    /// A record at `timestamp` arrived on either side.
    pub fn advance(&mut self, timestamp: i64) {
        self.stream_time = self.stream_time.max(timestamp);
    }

    /// Whether a record waiting since `min_time` may have its window closed: a scan is
    /// worth it only when `min_time + after + grace < stream time`.
    pub fn scan_may_emit(&self, join_after_ms: i64, grace_ms: i64) -> bool {
        self.min_time
            .saturating_add(join_after_ms)
            .saturating_add(grace_ms)
            < self.stream_time
    }

    /// Whether the scan is throttled at wall-clock `now`; if not, the next scan is set one
    /// interval later (Kafka's emit throttle).
    pub fn take_emit_slot(&mut self, now: i64, interval_ms: i64) -> bool {
        if now < self.next_time_to_emit {
            return false;
        }
        self.next_time_to_emit = now.saturating_add(interval_ms);
        true
    }
}

/// Whether a stored record at `timestamp` still waits: its window (`lookback`: the window's
/// `after` for a left record, `before` for a right one) plus grace is open at stream time.
pub(crate) fn outer_window_open(
    timestamp: i64,
    lookback_ms: i64,
    grace_ms: i64,
    stream_time: i64,
) -> bool {
    timestamp
        .saturating_add(lookback_ms)
        .saturating_add(grace_ms)
        >= stream_time
}

/// Whether an unmatched record whose window ends at `time_to` is emitted at once (its window
/// already closed: it arrived out of order) rather than stored.
pub(crate) fn emit_unmatched_at_once(time_to: i64, stream_time: i64) -> bool {
    time_to < stream_time
}

/// The trackers of one join, by task (Kafka's `TimeTrackerSupplier`).
pub(crate) type SharedTimeTrackers = Arc<Mutex<HashMap<TaskId, TimeTracker>>>;

fn with_tracker<T>(
    trackers: &SharedTimeTrackers,
    task: TaskId,
    f: impl FnOnce(&mut TimeTracker) -> T,
) -> T {
    let mut map = trackers.lock().unwrap_or_else(|p| p.into_inner());
    f(map.entry(task).or_default())
}

/// `KSTREAM-WINDOWED-…` (Kafka's `KStreamJoinWindow`): passes each record on, then keeps it
/// in its side's window store (records with a null key never join and are not kept).
pub(crate) struct JoinWindowProcessor<K, V> {
    pub store: StoreHandle<K, V>,
    pub key_serde: Option<DynSerde<K>>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for JoinWindowProcessor<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), BoxError> {
        let keep = !self
            .key_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.key));
        let (key, value, ts) = (record.key.clone(), record.value.clone(), record.timestamp);
        ctx.forward(record)?;
        if keep {
            ctx.window_store(&self.store)?.put(&key, Some(&value), ts)?;
        }
        Ok(())
    }
}

/// The user's joiner seen from one side: this side's value, the other's when there is one.
/// `None` only where the join emits nothing (an inner join's missing side, never asked).
pub(crate) type SideJoiner<K, VThis, VOther, VOut> =
    Arc<dyn Fn(&K, &VThis, Option<&VOther>) -> Option<VOut> + Send + Sync>;
/// The user's joiner applied to a record of the outer-join store (the other side missing).
pub(crate) type StoredJoiner<K, VL, VR, VOut> =
    Arc<dyn Fn(&K, &LeftOrRight<VL, VR>) -> Option<VOut> + Send + Sync>;

/// The outer-join store's handle.
pub(crate) type OuterStore<K, VL, VR> = StoreHandle<OuterKey<K>, Vec<LeftOrRight<VL, VR>>>;

/// One side of the join (`KSTREAM-JOINTHIS-…`, `-JOINOTHER-…`, `-OUTERTHIS-…`,
/// `-OUTEROTHER-…`; Kafka's `KStreamKStreamJoinLeftSide`/`RightSide`): joins each record
/// with the other side's records in its window, emitting `joiner(this, other)` at the later
/// of the two timestamps; an `outer` side keeps a record without a partner in the
/// outer-join store until its window closes, then emits `joiner(this, None)`.
pub(crate) struct StreamJoinSide<K, VThis, VOther, VL, VR, VOut> {
    pub other_store: StoreHandle<K, VOther>,
    pub outer_store: Option<OuterStore<K, VL, VR>>,
    /// Whether this is the left (`this`) stream's side.
    pub left: bool,
    pub outer: bool,
    pub windows: JoinWindows,
    pub joiner: SideJoiner<K, VThis, VOther, VOut>,
    pub stored_joiner: StoredJoiner<K, VL, VR, VOut>,
    pub wrap: Arc<dyn Fn(VThis) -> LeftOrRight<VL, VR> + Send + Sync>,
    pub trackers: SharedTimeTrackers,
    pub key_serde: Option<DynSerde<K>>,
    pub value_serde: Option<DynSerde<VThis>>,
}

impl<K, VThis, VOther, VL, VR, VOut> StreamJoinSide<K, VThis, VOther, VL, VR, VOut>
where
    K: Clone + 'static,
    VThis: Clone + 'static,
    VOther: Clone + 'static,
    VL: Clone + 'static,
    VR: Clone + 'static,
    VOut: Clone + 'static,
{
    /// This side's `(before, after)`: the window as given on the left, mirrored on the right.
    fn join_bounds(&self) -> (i64, i64) {
        if self.left {
            (self.windows.before_ms, self.windows.after_ms)
        } else {
            (self.windows.after_ms, self.windows.before_ms)
        }
    }

    /// Emit the stored records whose window closed, oldest first, and drop them (Kafka's
    /// `emitNonJoinedOuterRecords`).
    fn emit_closed(
        &self,
        ctx: &mut ProcessorContext<'_, K, VOut>,
        handle: &OuterStore<K, VL, VR>,
        record: &Record<K, VThis>,
    ) -> Result<(), BoxError> {
        let task = ctx.task_id();
        let now = ctx.current_system_time();
        let interval = ctx.outer_join_emit_interval_ms();
        let (_, join_after) = self.join_bounds();
        let grace = self.windows.grace_ms;
        let go = with_tracker(&self.trackers, task, |t| {
            if !t.scan_may_emit(join_after, grace) {
                return false;
            }
            if !t.take_emit_slot(now, interval) {
                return false;
            }
            t.min_time = i64::MAX;
            true
        });
        if !go {
            return Ok(());
        }
        let stream_time = with_tracker(&self.trackers, task, |t| t.stream_time);
        let entries = ctx.key_value_store(handle)?.all()?;
        let (mut left_open, mut right_open) = (false, false);
        let mut min_time = i64::MAX;
        let mut emitted = Vec::new();
        'scan: for (key, values) in entries {
            let mut forwarded = false;
            for value in values {
                min_time = key.timestamp;
                if left_open && right_open {
                    if forwarded {
                        emitted.push(key.clone());
                    }
                    break 'scan;
                }
                let lookback = if key.left {
                    self.windows.after_ms
                } else {
                    self.windows.before_ms
                };
                if outer_window_open(key.timestamp, lookback, grace, stream_time) {
                    if key.left {
                        left_open = true;
                    } else {
                        right_open = true;
                    }
                    continue;
                }
                if let Some(out) = (self.stored_joiner)(&key.key, &value) {
                    ctx.forward(Record {
                        key: key.key.clone(),
                        value: out,
                        timestamp: key.timestamp,
                        headers: record.headers.clone(),
                    })?;
                }
                forwarded = true;
            }
            if forwarded {
                emitted.push(key);
            }
        }
        with_tracker(&self.trackers, task, |t| t.min_time = min_time);
        let mut store = ctx.key_value_store(handle)?;
        for key in emitted {
            store.delete(&key)?;
        }
        Ok(())
    }
}

impl<K, VThis, VOther, VL, VR, VOut> Processor<K, VThis, K, VOut>
    for StreamJoinSide<K, VThis, VOther, VL, VR, VOut>
where
    K: Clone + 'static,
    VThis: Clone + 'static,
    VOther: Clone + 'static,
    VL: Clone + 'static,
    VR: Clone + 'static,
    VOut: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VOut>,
        record: Record<K, VThis>,
    ) -> Result<(), BoxError> {
        let task = ctx.task_id();
        let ts = record.timestamp;
        let stream_time = with_tracker(&self.trackers, task, |t| {
            t.advance(ts);
            t.stream_time
        });
        let null_key = self
            .key_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.key));
        let null_value = self
            .value_serde
            .as_ref()
            .is_some_and(|s| is_null(s, &record.value));
        // KIP-962: an outer side joins a null-key record with nothing, at once.
        if self.outer && null_key && !null_value {
            if let Some(out) = (self.joiner)(&record.key, &record.value, None) {
                ctx.forward(record.with_value(out))?;
            }
            return Ok(());
        }
        if null_key || null_value {
            return Ok(());
        }
        if ts == stream_time {
            if let Some(h) = &self.outer_store {
                self.emit_closed(ctx, h, &record)?;
            }
        }
        let (from, to) = if self.left {
            self.windows.left_range(ts)
        } else {
            self.windows.right_range(ts)
        };
        let matches =
            ctx.window_store(&self.other_store)?
                .fetch_range(&record.key, from, to, false)?;
        for (_, other_ts, other) in &matches {
            if let Some(h) = &self.outer_store {
                // The partner no longer waits for one.
                let other_key = OuterKey {
                    timestamp: *other_ts,
                    left: !self.left,
                    key: record.key.clone(),
                };
                ctx.key_value_store(h)?.delete(&other_key)?;
            }
            if let Some(out) = (self.joiner)(&record.key, &record.value, Some(other)) {
                ctx.forward(Record {
                    key: record.key.clone(),
                    value: out,
                    timestamp: ts.max(*other_ts),
                    headers: record.headers.clone(),
                })?;
            }
        }
        if !self.outer || !matches.is_empty() {
            return Ok(());
        }
        match &self.outer_store {
            Some(h) if !emit_unmatched_at_once(to, stream_time) => {
                with_tracker(&self.trackers, task, |t| t.min_time = t.min_time.min(ts));
                let key = OuterKey {
                    timestamp: ts,
                    left: self.left,
                    key: record.key.clone(),
                };
                let mut store = ctx.key_value_store(h)?;
                let mut list = store.get(&key)?.unwrap_or_default();
                list.push((self.wrap)(record.value));
                store.put(&key, &list)?;
            }
            _ => {
                if let Some(out) = (self.joiner)(&record.key, &record.value, None) {
                    ctx.forward(record.with_value(out))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_records_wait_until_their_window_and_grace_closed() {
        let mut t = TimeTracker::default();
        t.advance(10);
        t.min_time = 5;
        // window after = 5, grace 0: 5 + 5 < 10 is false
        assert!(!t.scan_may_emit(5, 0));
        t.advance(11);
        assert!(t.scan_may_emit(5, 0));
        assert!(!t.scan_may_emit(5, 1));
        assert!(outer_window_open(5, 5, 1, 11));
        assert!(!outer_window_open(5, 5, 0, 11));
        assert!(emit_unmatched_at_once(9, 10));
        assert!(!emit_unmatched_at_once(10, 10));
    }

    #[test]
    fn scans_are_throttled_by_wall_clock() {
        let mut t = TimeTracker::default();
        assert!(t.take_emit_slot(100, 1000));
        assert!(!t.take_emit_slot(500, 1000));
        assert!(t.take_emit_slot(1100, 1000));
        let mut t = TimeTracker::default();
        assert!(t.take_emit_slot(1100, 0));
        assert!(t.take_emit_slot(1100, 0));
    }
}
