//! The session arithmetic of a session-windowed aggregation (Kafka's
//! `KStreamSessionWindowAggregate`), as plain functions: which stored sessions a record
//! merges with, the merged session, whether it is already closed, and which closed sessions
//! an emit-on-window-close aggregation emits next.

use crate::processors::window_emit::NO_TIMESTAMP;
use crate::windowed::Window;
use crate::windows::SessionWindows;

/// The time range a record at `timestamp` looks for sessions to merge with: sessions ending
/// at or after the first bound and starting at or before the second.
pub(crate) fn merge_range(windows: &SessionWindows, timestamp: i64) -> (i64, i64) {
    let gap = windows.inactivity_gap_ms();
    (timestamp.saturating_sub(gap), timestamp.saturating_add(gap))
}

/// The session spanning both (Kafka's `mergeSessionWindow`).
pub(crate) fn merge(a: Window, b: Window) -> Window {
    Window::new(a.start.min(b.start), a.end.max(b.end))
}

/// The session close time at `observed_stream_time`: a session ending before it takes no more
/// records (stream time minus the grace period and the gap).
pub(crate) fn session_close_time(windows: &SessionWindows, observed_stream_time: i64) -> i64 {
    observed_stream_time
        .saturating_sub(windows.grace_ms())
        .saturating_sub(windows.inactivity_gap_ms())
}

/// Whether a merged session ending at `end` is closed at `close_time` (Kafka: `end <
/// windowCloseTime`: a session's end is inclusive).
pub(crate) fn is_session_closed(end: i64, close_time: i64) -> bool {
    end < close_time
}

/// The bookkeeping of emit-on-window-close for sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionEmitTracker {
    /// The close time of the last emission (Kafka's `lastEmitWindowCloseTime`).
    pub last_emit_close_time: i64,
    next_time_to_emit: i64,
    emit_interval_ms: i64,
}

impl SessionEmitTracker {
    /// A tracker that has emitted nothing, looking at most every `emit_interval_ms`.
    pub(crate) fn new(emit_interval_ms: i64) -> Self {
        SessionEmitTracker {
            last_emit_close_time: NO_TIMESTAMP,
            next_time_to_emit: 0,
            emit_interval_ms,
        }
    }

    /// At wall-clock `now` and session close time `close_time`: the range of session ends
    /// `[lower, upper]` now final, or `None`. A returned range counts as emitted.
    pub(crate) fn due(&mut self, now: i64, close_time: i64) -> Option<(i64, i64)> {
        if now < self.next_time_to_emit {
            return None;
        }
        self.next_time_to_emit = now.saturating_add(self.emit_interval_ms);
        let progressed =
            self.last_emit_close_time == NO_TIMESTAMP || self.last_emit_close_time < close_time;
        if !progressed {
            return None;
        }
        // Session ends are inclusive: the last closed end is one before the close time.
        let upper = close_time.saturating_sub(1);
        if upper < 0 {
            return None;
        }
        let lower = self.last_emit_close_time.max(0);
        // A session may be one point: fetch even when both bounds are equal.
        if upper < lower {
            return None;
        }
        self.last_emit_close_time = close_time;
        Some((lower, upper))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::windows::WindowsError;

    fn sessions(gap: u64, grace: u64) -> Result<SessionWindows, WindowsError> {
        SessionWindows::of_inactivity_gap_and_grace(
            Duration::from_millis(gap),
            Duration::from_millis(grace),
        )
    }

    #[test]
    fn a_record_merges_with_sessions_within_the_gap() -> Result<(), WindowsError> {
        let w = sessions(5, 0)?;
        assert_eq!(merge_range(&w, 10), (5, 15));
        assert_eq!(
            merge(Window::new(10, 10), Window::new(3, 6)),
            Window::new(3, 10)
        );
        assert_eq!(
            merge(Window::new(10, 10), Window::new(12, 20)),
            Window::new(10, 20)
        );
        Ok(())
    }

    #[test]
    fn a_session_closes_after_gap_and_grace() -> Result<(), WindowsError> {
        let w = sessions(5, 2)?;
        // Stream time 20: sessions ending before 13 are closed.
        assert_eq!(session_close_time(&w, 20), 13);
        assert!(is_session_closed(12, 13));
        assert!(!is_session_closed(13, 13));
        Ok(())
    }

    #[test]
    fn closed_sessions_are_emitted_once() {
        let mut t = SessionEmitTracker::new(0);
        assert_eq!(t.due(0, 0), None);
        assert_eq!(t.due(0, 10), Some((0, 9)));
        assert_eq!(t.due(0, 10), None);
        assert_eq!(t.due(0, 11), Some((10, 10)));
        let mut throttled = SessionEmitTracker::new(1000);
        assert_eq!(throttled.due(0, 10), Some((0, 9)));
        assert_eq!(throttled.due(500, 20), None);
        assert_eq!(throttled.due(1000, 20), Some((10, 19)));
    }
}
