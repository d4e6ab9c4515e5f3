//! When a time-windowed aggregation drops a record and when it emits final results (Kafka's
//! `KStreamWindowAggregate` and `AbstractKStreamTimeWindowAggregateProcessor` decisions), as
//! plain functions of the times involved.

use crate::windows::TimeWindows;

/// Kafka's `ConsumerRecord.NO_TIMESTAMP`: no time observed or emitted yet.
pub(crate) const NO_TIMESTAMP: i64 = -1;

/// Kafka's default `__emit.interval.ms.kstreams.windowed.aggregation__`: final results are
/// looked for at most once per second of wall-clock time.
pub(crate) const DEFAULT_EMIT_INTERVAL_MS: i64 = 1000;

/// The window close time at `observed_stream_time`: a window ending at or before it no longer
/// takes records.
pub(crate) fn window_close_time(observed_stream_time: i64, grace_ms: i64) -> i64 {
    observed_stream_time.saturating_sub(grace_ms)
}

/// Whether a window ending at `window_end` (exclusive) is closed at `close_time`.
pub(crate) fn is_closed(window_end: i64, close_time: i64) -> bool {
    window_end <= close_time
}

/// The bookkeeping of `EmitStrategy::OnWindowClose`: the close time of the last emission
/// and the wall-clock throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmitFinalTracker {
    /// The window close time at the last emission (Kafka's `lastEmitWindowCloseTime`).
    pub last_emit_close_time: i64,
    next_time_to_emit: i64,
    emit_interval_ms: i64,
}

impl EmitFinalTracker {
    /// A tracker that has emitted nothing, looking at most every `emit_interval_ms`.
    pub(crate) fn new(emit_interval_ms: i64) -> Self {
        EmitFinalTracker {
            last_emit_close_time: NO_TIMESTAMP,
            next_time_to_emit: 0,
            emit_interval_ms,
        }
    }

    /// After a record, at wall-clock `now` and window close time `close_time`: the range of
    /// window starts `[lower, upper]` whose final results are due, or `None`. A returned range
    /// counts as emitted (the caller forwards every window starting in it).
    pub(crate) fn due(
        &mut self,
        windows: &TimeWindows,
        now: i64,
        close_time: i64,
    ) -> Option<(i64, i64)> {
        // The throttle: at most once per interval, counted from this look.
        if now < self.next_time_to_emit {
            return None;
        }
        self.next_time_to_emit = now.saturating_add(self.emit_interval_ms);
        let progressed =
            self.last_emit_close_time == NO_TIMESTAMP || self.last_emit_close_time < close_time;
        if !progressed {
            return None;
        }
        let size = windows.size_ms();
        let upper = close_time.saturating_sub(size);
        // No window has closed yet.
        if upper < 0 {
            return None;
        }
        let lower = if self.last_emit_close_time == NO_TIMESTAMP {
            0
        } else {
            self.last_emit_close_time.saturating_sub(size).max(0) + 1
        };
        // Nothing new closed: the windows holding the upper bound are those holding the
        // last bound already emitted.
        if self.last_emit_close_time != NO_TIMESTAMP
            && windows
                .windows_for(upper)
                .eq(windows.windows_for(lower - 1))
        {
            return None;
        }
        self.last_emit_close_time = close_time;
        Some((lower, upper))
    }
}

/// The bookkeeping of `EmitStrategy::OnWindowClose` for sliding windows (Kafka's
/// `KStreamSlidingWindowAggregate` bounds): windows are `[start, start + d]`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlidingEmitTracker {
    /// The window close time at the last emission.
    pub last_emit_close_time: i64,
    next_time_to_emit: i64,
    emit_interval_ms: i64,
}

impl SlidingEmitTracker {
    /// A tracker that has emitted nothing, looking at most every `emit_interval_ms`.
    pub(crate) fn new(emit_interval_ms: i64) -> Self {
        SlidingEmitTracker {
            last_emit_close_time: NO_TIMESTAMP,
            next_time_to_emit: 0,
            emit_interval_ms,
        }
    }

    /// After a record, at wall-clock `now` and close time `close_time`: the window starts
    /// `[lower, upper]` now final for time difference `d`, or `None`; a returned range
    /// counts as emitted.
    pub(crate) fn due(&mut self, d: i64, now: i64, close_time: i64) -> Option<(i64, i64)> {
        if now < self.next_time_to_emit {
            return None;
        }
        self.next_time_to_emit = now.saturating_add(self.emit_interval_ms);
        let progressed =
            self.last_emit_close_time == NO_TIMESTAMP || self.last_emit_close_time < close_time;
        if !progressed {
            return None;
        }
        // The window end is inclusive: the last closed window starts d + 1 before the close.
        let upper = close_time.saturating_sub(d).saturating_sub(1);
        if upper < 0 {
            return None;
        }
        let lower = if self.last_emit_close_time == NO_TIMESTAMP {
            0
        } else {
            self.last_emit_close_time.saturating_sub(d).max(0)
        };
        self.last_emit_close_time = close_time;
        Some((lower, upper))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::windows::WindowsError;

    #[test]
    fn a_window_closes_at_its_end_plus_grace() {
        // Window [0, 10) with grace 5: open while stream time < 15.
        assert!(!is_closed(10, window_close_time(14, 5)));
        assert!(is_closed(10, window_close_time(15, 5)));
        assert!(is_closed(10, window_close_time(10, 0)));
        assert!(!is_closed(10, window_close_time(9, 0)));
        assert_eq!(window_close_time(NO_TIMESTAMP, 0), NO_TIMESTAMP);
    }

    #[test]
    fn final_results_are_due_once_per_closed_range() -> Result<(), WindowsError> {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
        let mut t = EmitFinalTracker::new(0);
        // Nothing closed before stream time reaches the first window's end.
        assert_eq!(t.due(&w, 0, 5), None);
        assert_eq!(t.last_emit_close_time, NO_TIMESTAMP);
        // [0, 10) closes at 10: starts [0, 0].
        assert_eq!(t.due(&w, 0, 10), Some((0, 0)));
        // No progress: nothing.
        assert_eq!(t.due(&w, 0, 10), None);
        // 15: no new window closed ([10, 20) still open).
        assert_eq!(t.due(&w, 0, 15), None);
        assert_eq!(t.last_emit_close_time, 10);
        // 31: [10, 20) and [20, 30) closed.
        assert_eq!(t.due(&w, 0, 31), Some((1, 21)));
        Ok(())
    }

    #[test]
    fn sliding_windows_are_final_once_their_inclusive_end_is_behind() {
        let mut t = SlidingEmitTracker::new(0);
        // d = 10: [0, 10] closes when the close time passes 10.
        assert_eq!(t.due(10, 0, 10), None);
        assert_eq!(t.due(10, 0, 11), Some((0, 0)));
        assert_eq!(t.due(10, 0, 11), None);
        assert_eq!(t.due(10, 0, 30), Some((1, 19)));
    }

    #[test]
    fn the_wall_clock_throttles_the_look_for_final_results() -> Result<(), WindowsError> {
        let w = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
        let mut t = EmitFinalTracker::new(DEFAULT_EMIT_INTERVAL_MS);
        assert_eq!(t.due(&w, 0, 10), Some((0, 0)));
        // Within the interval: not looked at, even with windows closed.
        assert_eq!(t.due(&w, 999, 40), None);
        assert_eq!(t.due(&w, 1000, 40), Some((1, 30)));
        Ok(())
    }
}
