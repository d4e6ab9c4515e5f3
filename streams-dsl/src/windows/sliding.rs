//! [`SlidingWindows`]: windows defined by a maximum time difference between records
//! (KIP-450, Kafka's `SlidingWindows`).

use std::time::Duration;

use super::{millis, WindowsError};

/// Windows of `time_difference + 1` ms (both ends inclusive) that exist where records are:
/// two records fall in one window when their timestamps differ by at most the time
/// difference (Kafka's `SlidingWindows`). Each record creates at most two windows — the one
/// ending at it and the one starting just after it — and updates those it falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingWindows {
    time_difference_ms: i64,
    grace_ms: i64,
}

impl SlidingWindows {
    /// Sliding windows of `time_difference`, without a grace period (Kafka's
    /// `SlidingWindows.ofTimeDifferenceWithNoGrace`).
    pub fn of_time_difference_with_no_grace(
        time_difference: Duration,
    ) -> Result<Self, WindowsError> {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Sliding windows of `time_difference` accepting records up to `grace` after a window's
    /// end (Kafka's `SlidingWindows.ofTimeDifferenceAndGrace`).
    pub fn of_time_difference_and_grace(
        time_difference: Duration,
        grace: Duration,
    ) -> Result<Self, WindowsError> {
        Ok(SlidingWindows {
            time_difference_ms: millis("the time difference", time_difference)?,
            grace_ms: millis("the grace period", grace)?,
        })
    }

    /// The time difference in ms (Kafka's `timeDifferenceMs()`); windows span it inclusively.
    pub fn time_difference_ms(&self) -> i64 {
        self.time_difference_ms
    }

    /// The grace period in ms (Kafka's `gracePeriodMs()`).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_windows_keep_their_difference_and_grace() -> Result<(), WindowsError> {
        let w = SlidingWindows::of_time_difference_and_grace(
            Duration::from_millis(10),
            Duration::from_millis(3),
        )?;
        assert_eq!((w.time_difference_ms(), w.grace_ms()), (10, 3));
        let z = SlidingWindows::of_time_difference_with_no_grace(Duration::ZERO)?;
        assert_eq!((z.time_difference_ms(), z.grace_ms()), (0, 0));
        assert!(matches!(
            SlidingWindows::of_time_difference_with_no_grace(Duration::MAX),
            Err(WindowsError::TooLong { .. })
        ));
        Ok(())
    }
}
