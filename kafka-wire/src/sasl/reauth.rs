//! KIP-368 re-authentication timing.

use std::time::{Duration, Instant};

use rand::Rng;

/// Fraction of the session lifetime at which the earliest re-authentication starts: the rest
/// absorbs network latency and clock drift (Java's `SaslClientAuthenticator` uses the same).
const WINDOW_START: f64 = 0.85;
/// Width of the jitter window, as a fraction of the session lifetime, so that many connections
/// authenticated at once do not all re-authenticate at once.
const WINDOW_JITTER: f64 = 0.10;

/// When to re-authenticate a connection (KIP-368), given the `session_lifetime_ms` of the last
/// successful `SaslAuthenticate` response and `now`, the instant that response arrived.
///
/// The deadline is a random point between 85 % and 95 % of the lifetime after `now`, as the Java
/// client picks it. Returns `None` when the broker set no lifetime (`session_lifetime_ms <= 0`,
/// i.e. `connections.max.reauth.ms` is off and the credential does not expire) or when the
/// deadline cannot be represented as an [`Instant`]: then the connection never needs to
/// re-authenticate.
pub fn reauth_deadline(now: Instant, session_lifetime_ms: i64) -> Option<Instant> {
    let jitter: f64 = rand::rng().random();
    reauth_deadline_with_jitter(now, session_lifetime_ms, jitter)
}

/// [`reauth_deadline`] with the jitter given: `jitter` in `[0, 1]` picks the point in the window.
fn reauth_deadline_with_jitter(
    now: Instant,
    session_lifetime_ms: i64,
    jitter: f64,
) -> Option<Instant> {
    if session_lifetime_ms <= 0 {
        return None;
    }
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let fraction = WINDOW_START + WINDOW_JITTER * jitter;
    // `as` from f64 to u64 saturates; the product is positive and finite.
    let millis = (session_lifetime_ms as f64 * fraction) as u64;
    now.checked_add(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_lifetime_means_no_reauthentication() {
        let now = Instant::now();
        assert_eq!(reauth_deadline(now, 0), None);
        assert_eq!(reauth_deadline(now, -1), None);
        assert_eq!(reauth_deadline(now, i64::MIN), None);
    }

    #[test]
    fn window_bounds_are_85_and_95_percent() {
        let now = Instant::now();
        assert_eq!(
            reauth_deadline_with_jitter(now, 100_000, 0.0),
            Some(now + Duration::from_millis(85_000))
        );
        assert_eq!(
            reauth_deadline_with_jitter(now, 100_000, 1.0),
            Some(now + Duration::from_millis(95_000))
        );
        assert_eq!(
            reauth_deadline_with_jitter(now, 100_000, 0.5),
            Some(now + Duration::from_millis(90_000))
        );
        // Out-of-range jitter is clamped into the window.
        assert_eq!(
            reauth_deadline_with_jitter(now, 100_000, 7.0),
            Some(now + Duration::from_millis(95_000))
        );
        assert_eq!(
            reauth_deadline_with_jitter(now, 100_000, f64::NAN),
            Some(now + Duration::from_millis(85_000))
        );
    }

    #[test]
    fn random_deadlines_stay_in_the_window_and_spread() {
        let now = Instant::now();
        let lifetime_ms = 3_600_000; // one hour, a typical token lifetime
        let low = now + Duration::from_millis(lifetime_ms * 85 / 100);
        let high = now + Duration::from_millis(lifetime_ms * 95 / 100);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let deadline = reauth_deadline(now, lifetime_ms as i64).expect("positive lifetime");
            assert!(deadline >= low && deadline <= high, "{deadline:?}");
            seen.insert(deadline);
        }
        assert!(seen.len() > 100, "jitter should spread deadlines");
    }

    #[test]
    fn huge_lifetime_does_not_panic() {
        let now = Instant::now();
        // Either representable or None, but never a panic.
        let _ = reauth_deadline(now, i64::MAX);
    }
}
