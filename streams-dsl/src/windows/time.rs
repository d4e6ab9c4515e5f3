//! [`TimeWindows`]: fixed-size windows, tumbling or hopping (Kafka's `TimeWindows`).

use std::time::Duration;

use super::{millis, WindowsError};
use crate::windowed::Window;

/// Fixed-size windows aligned to the epoch (Kafka's `TimeWindows`): tumbling when they
/// advance by their size (the default), hopping (overlapping) with
/// [`advance_by`](Self::advance_by). A record belongs to every window `[start, start + size)`
/// holding its timestamp; a window accepts records until stream time reaches its end plus
/// the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindows {
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size` without a grace period: a record later than its window's
    /// end is dropped (Kafka's `TimeWindows.ofSizeWithNoGrace`).
    pub fn of_size_with_no_grace(size: Duration) -> Result<Self, WindowsError> {
        Self::of_size_and_grace(size, Duration::ZERO)
    }

    /// Tumbling windows of `size` accepting records up to `grace` after a window's end
    /// (Kafka's `TimeWindows.ofSizeAndGrace`). The size must be above 0.
    pub fn of_size_and_grace(size: Duration, grace: Duration) -> Result<Self, WindowsError> {
        let size_ms = millis("the window size", size)?;
        let grace_ms = millis("the grace period", grace)?;
        Self::from_millis(size_ms, size_ms, grace_ms)
    }

    /// Hopping windows: a new window every `advance` (Kafka's `advanceBy`); it must be above
    /// 0 and at most the size.
    pub fn advance_by(self, advance: Duration) -> Result<Self, WindowsError> {
        let advance_ms = millis("the window advance", advance)?;
        Self::from_millis(self.size_ms, advance_ms, self.grace_ms)
    }

    fn from_millis(size_ms: i64, advance_ms: i64, grace_ms: i64) -> Result<Self, WindowsError> {
        if size_ms <= 0 {
            return Err(WindowsError::NonPositiveSize { size_ms });
        }
        if advance_ms <= 0 || advance_ms > size_ms {
            return Err(WindowsError::InvalidAdvance {
                size_ms,
                advance_ms,
            });
        }
        Ok(TimeWindows {
            size_ms,
            advance_ms,
            grace_ms,
        })
    }

    /// The window size in ms (Kafka's `size()`).
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// The advance in ms (the size for tumbling windows).
    pub fn advance_ms(&self) -> i64 {
        self.advance_ms
    }

    /// The grace period in ms (Kafka's `gracePeriodMs()`).
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The windows holding `timestamp`, in order of start (Kafka's `TimeWindows.windowsFor`): from
    /// the last start at or before `timestamp - size + advance` (at least 0) aligned to the
    /// advance, every advance up to `timestamp`. Window ends past `i64::MAX` are `i64::MAX`.
    pub fn windows_for(&self, timestamp: i64) -> impl Iterator<Item = Window> {
        let (size, advance) = (self.size_ms, self.advance_ms);
        let lowest = timestamp
            .saturating_sub(size)
            .saturating_add(advance)
            .max(0);
        // Lazily, by start: a 7-day window advancing by 1 s holds a record 604 800 times.
        let first = Some(lowest / advance * advance).filter(|s| *s <= timestamp);
        std::iter::successors(first, move |s| {
            s.checked_add(advance).filter(|next| *next <= timestamp)
        })
        .map(move |start| Window::of_size(start, size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn starts(w: &TimeWindows, ts: i64) -> Vec<(i64, i64)> {
        w.windows_for(ts).map(|w| (w.start, w.end)).collect()
    }

    #[test]
    fn tumbling_windows_hold_each_timestamp_once() -> Result<(), WindowsError> {
        let w = TimeWindows::of_size_with_no_grace(ms(10))?;
        assert_eq!(starts(&w, 0), vec![(0, 10)]);
        assert_eq!(starts(&w, 9), vec![(0, 10)]);
        assert_eq!(starts(&w, 10), vec![(10, 20)]);
        assert_eq!(starts(&w, 25), vec![(20, 30)]);
        assert_eq!(w.grace_ms(), 0);
        Ok(())
    }

    #[test]
    fn hopping_windows_overlap_and_start_at_zero_for_early_timestamps() -> Result<(), WindowsError>
    {
        let w = TimeWindows::of_size_and_grace(ms(10), ms(5))?.advance_by(ms(5))?;
        assert_eq!(starts(&w, 12), vec![(5, 15), (10, 20)]);
        assert_eq!(starts(&w, 10), vec![(5, 15), (10, 20)]);
        // A timestamp before the first full window only falls in windows starting at 0+.
        assert_eq!(starts(&w, 3), vec![(0, 10)]);
        assert_eq!(starts(&w, 0), vec![(0, 10)]);
        let w3 = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(3))?;
        assert_eq!(starts(&w3, 11), vec![(3, 13), (6, 16), (9, 19)]);
        assert_eq!(starts(&w3, 4), vec![(0, 10), (3, 13)]);
        assert_eq!(w.grace_ms(), 5);
        Ok(())
    }

    #[test]
    fn a_negative_timestamp_falls_in_no_window() -> Result<(), WindowsError> {
        // Kafka drops records with negative timestamps before any processor (as the task
        // does here); were one to reach the windows, no window would hold it.
        let w = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?;
        assert!(w.windows_for(-1).next().is_none());
        assert!(w.windows_for(-100).next().is_none());
        Ok(())
    }

    #[test]
    fn windows_near_i64_max_end_there() -> Result<(), WindowsError> {
        let w = TimeWindows::of_size_with_no_grace(ms(10))?;
        let last: Vec<Window> = w.windows_for(i64::MAX).collect();
        assert_eq!(last.len(), 1);
        assert!(last.iter().all(|w| w.end == i64::MAX));
        Ok(())
    }

    #[test]
    fn invalid_specs_are_refused_as_java_refuses_them() {
        assert_eq!(
            TimeWindows::of_size_with_no_grace(ms(0)),
            Err(WindowsError::NonPositiveSize { size_ms: 0 })
        );
        assert_eq!(
            TimeWindows::of_size_with_no_grace(ms(10)).and_then(|w| w.advance_by(ms(11))),
            Err(WindowsError::InvalidAdvance {
                size_ms: 10,
                advance_ms: 11
            })
        );
        assert!(matches!(
            TimeWindows::of_size_with_no_grace(ms(10)).and_then(|w| w.advance_by(ms(0))),
            Err(WindowsError::InvalidAdvance { .. })
        ));
        assert!(matches!(
            TimeWindows::of_size_with_no_grace(Duration::MAX),
            Err(WindowsError::TooLong { .. })
        ));
    }
}
