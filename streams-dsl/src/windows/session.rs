//! [`SessionWindows`]: windows of activity separated by gaps (Kafka's `SessionWindows`).

use std::time::Duration;

use super::{millis, WindowsError};

/// Sessions of each key: records less than the inactivity gap apart belong to one session
/// `[first, last]`, and a record bridging two sessions merges them (Kafka's
/// `SessionWindows`). A session accepts records until stream time passes its end plus the
/// grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionWindows {
    gap_ms: i64,
    grace_ms: i64,
}

impl SessionWindows {
    /// Sessions closed by `inactivity_gap` without a grace period (Kafka's
    /// `SessionWindows.ofInactivityGapWithNoGrace`). The gap must be above 0.
    pub fn of_inactivity_gap_with_no_grace(inactivity_gap: Duration) -> Result<Self, WindowsError> {
        Self::of_inactivity_gap_and_grace(inactivity_gap, Duration::ZERO)
    }

    /// Sessions closed by `inactivity_gap`, accepting records up to `grace` after a
    /// session's end (Kafka's `SessionWindows.ofInactivityGapAndGrace`).
    pub fn of_inactivity_gap_and_grace(
        inactivity_gap: Duration,
        grace: Duration,
    ) -> Result<Self, WindowsError> {
        let gap_ms = millis("the inactivity gap", inactivity_gap)?;
        let grace_ms = millis("the grace period", grace)?;
        if gap_ms <= 0 {
            return Err(WindowsError::NonPositiveGap);
        }
        Ok(SessionWindows { gap_ms, grace_ms })
    }

    /// The inactivity gap in ms (Kafka's `inactivityGap()`).
    pub fn inactivity_gap_ms(&self) -> i64 {
        self.gap_ms
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
    fn a_session_gap_must_be_positive() -> Result<(), WindowsError> {
        assert_eq!(
            SessionWindows::of_inactivity_gap_with_no_grace(Duration::ZERO),
            Err(WindowsError::NonPositiveGap)
        );
        let s = SessionWindows::of_inactivity_gap_and_grace(
            Duration::from_millis(5),
            Duration::from_millis(2),
        )?;
        assert_eq!((s.inactivity_gap_ms(), s.grace_ms()), (5, 2));
        Ok(())
    }
}
