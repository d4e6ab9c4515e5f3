//! Record timestamps without a second clock read per record.
//!
//! `send` already reads the monotonic clock for linger and deadlines; the wall-clock time a
//! record is stamped with (`CreateTime`, as Java's `System.currentTimeMillis()`) is derived from
//! it and an offset re-read from the system clock once a second. Both clocks are slewed alike
//! by NTP, so the derived time equals the system's except for up to a second after the system
//! clock is stepped.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How long a derived wall-clock offset is trusted before the system clock is read again.
const RESYNC_MS: i64 = 1_000;

/// Wall-clock milliseconds from monotonic instants.
#[derive(Debug)]
pub(crate) struct WallClock {
    base: Instant,
    /// Wall-clock ms at `base` (plus any step seen since).
    offset_ms: AtomicI64,
    /// Monotonic ms since `base` at which the offset is read again.
    resync_at_ms: AtomicI64,
}

impl WallClock {
    pub fn new() -> Self {
        let base = Instant::now();
        WallClock {
            base,
            offset_ms: AtomicI64::new(system_ms()),
            resync_at_ms: AtomicI64::new(RESYNC_MS),
        }
    }

    /// Milliseconds since the Unix epoch at `now`, an instant just read from the clock.
    pub fn millis_at(&self, now: Instant) -> i64 {
        let mono = i64::try_from(now.saturating_duration_since(self.base).as_millis())
            .unwrap_or(i64::MAX / 2);
        if mono >= self.resync_at_ms.load(Ordering::Relaxed) {
            // Racing senders may both resync: either result is a correct reading.
            self.offset_ms.store(system_ms() - mono, Ordering::Relaxed);
            self.resync_at_ms.store(mono + RESYNC_MS, Ordering::Relaxed);
        }
        mono + self.offset_ms.load(Ordering::Relaxed)
    }
}

/// The system clock in ms since the Unix epoch (0 if it is set before 1970).
fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn derived_time_follows_the_system_clock() {
        let clock = WallClock::new();
        let now = Instant::now();
        let derived = clock.millis_at(now);
        assert!((derived - system_ms()).abs() <= 2, "{derived}");
        // A later instant within the resync interval is exactly that much later.
        let later = now + Duration::from_millis(500);
        assert_eq!(clock.millis_at(later) - derived, 500);
    }

    #[test]
    fn a_step_of_the_system_clock_is_picked_up_at_the_next_resync() {
        let clock = WallClock::new();
        clock.offset_ms.fetch_sub(60_000, Ordering::Relaxed); // as if stepped a minute back
        let now = Instant::now();
        assert!(
            system_ms() - clock.millis_at(now) >= 59_000,
            "trusted for a second"
        );
        // At the resync the system clock is read again (as if `now` were a second later), so
        // the step is gone.
        let resync = now + Duration::from_millis(1_000);
        assert!(
            (clock.millis_at(resync) - system_ms()).abs() <= 2,
            "resynced"
        );
    }
}
