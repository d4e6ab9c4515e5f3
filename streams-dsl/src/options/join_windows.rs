//! [`JoinWindows`]: how far apart in time two records of a stream-stream join may be.

use std::time::Duration;

use crate::error::DslError;

/// The time difference within which a stream-stream join pairs records (Kafka's
/// `JoinWindows`): a record of this stream at `t` joins the other stream's records of the
/// same key in `[t - before, t + after]`; records arriving later than `grace` after a window
/// closed are not joined, and a left/outer join emits a record without a partner once its
/// window plus grace has closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindows {
    pub(crate) before_ms: i64,
    pub(crate) after_ms: i64,
    pub(crate) grace_ms: i64,
}

impl JoinWindows {
    /// Records at most `time_difference` apart join; no grace period (Kafka's
    /// `ofTimeDifferenceWithNoGrace`).
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Self {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Records at most `time_difference` apart join, and records up to `after_window_end`
    /// late still join (Kafka's `ofTimeDifferenceAndGrace`).
    pub fn of_time_difference_and_grace(
        time_difference: Duration,
        after_window_end: Duration,
    ) -> Self {
        let d = millis(time_difference);
        JoinWindows {
            before_ms: d,
            after_ms: d,
            grace_ms: millis(after_window_end),
        }
    }

    /// The same windows, reaching `time_difference` back from this stream's records (Kafka's
    /// `before`).
    pub fn before(self, time_difference: Duration) -> Self {
        JoinWindows {
            before_ms: millis(time_difference),
            ..self
        }
    }

    /// The same windows, reaching `time_difference` forward from this stream's records
    /// (Kafka's `after`).
    pub fn after(self, time_difference: Duration) -> Self {
        JoinWindows {
            after_ms: millis(time_difference),
            ..self
        }
    }

    /// Windows from signed bounds in ms (Java's `before`/`after` take negative durations,
    /// shifting the window): refused, as Java refuses them, when `before_ms + after_ms` is
    /// negative or `grace_ms` is.
    pub fn of_bounds_ms(before_ms: i64, after_ms: i64, grace_ms: i64) -> Result<Self, DslError> {
        if before_ms.saturating_add(after_ms) < 0 {
            return Err(DslError::InvalidJoinWindows {
                detail: format!(
                    "Window interval (ie, beforeMs+afterMs) must not be negative (before {before_ms} ms, after {after_ms} ms)"
                ),
            });
        }
        if grace_ms < 0 {
            return Err(DslError::InvalidJoinWindows {
                detail: format!("Grace period must not be negative (got {grace_ms} ms)"),
            });
        }
        Ok(JoinWindows {
            before_ms,
            after_ms,
            grace_ms,
        })
    }

    /// `before + after` (Kafka's `size()`).
    pub fn size_ms(&self) -> i64 {
        self.before_ms.saturating_add(self.after_ms)
    }

    /// The grace period in ms.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// How long the join's window stores keep records: size + grace (Kafka's store
    /// retention for joins).
    pub fn retention_ms(&self) -> i64 {
        self.size_ms().saturating_add(self.grace_ms)
    }

    /// The other side's records a record of the left (`this`) stream at `timestamp` joins:
    /// `[max(0, t - before), max(0, t + after)]` (Kafka clamps at 0).
    pub(crate) fn left_range(&self, timestamp: i64) -> (i64, i64) {
        range(timestamp, self.before_ms, self.after_ms)
    }

    /// The same for a record of the right (`other`) stream: the window mirrored.
    pub(crate) fn right_range(&self, timestamp: i64) -> (i64, i64) {
        range(timestamp, self.after_ms, self.before_ms)
    }
}

fn range(t: i64, before: i64, after: i64) -> (i64, i64) {
    (
        t.saturating_sub(before).max(0),
        t.saturating_add(after).max(0),
    )
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl std::fmt::Display for JoinWindows {
    /// Java's `toString`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JoinWindows{{beforeMs={}, afterMs={}, graceMs={}}}",
            self.before_ms, self.after_ms, self.grace_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_java_s() {
        let w = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10));
        assert_eq!((w.before_ms, w.after_ms, w.grace_ms), (10, 10, 0));
        assert_eq!(w.size_ms(), 20);
        assert_eq!(w.retention_ms(), 20);
        let w = JoinWindows::of_time_difference_and_grace(
            Duration::from_millis(10),
            Duration::from_millis(5),
        )
        .before(Duration::from_millis(3));
        assert_eq!((w.before_ms, w.after_ms, w.grace_ms), (3, 10, 5));
        assert_eq!(w.retention_ms(), 18);
        assert_eq!(w.left_range(2), (0, 12));
        assert_eq!(w.right_range(20), (10, 23));
        assert_eq!(
            w.to_string(),
            "JoinWindows{beforeMs=3, afterMs=10, graceMs=5}"
        );
        assert!(JoinWindows::of_bounds_ms(-5, 10, 0).is_ok());
        assert!(JoinWindows::of_bounds_ms(-11, 10, 0).is_err());
        assert!(JoinWindows::of_bounds_ms(1, 1, -1).is_err());
    }
}
