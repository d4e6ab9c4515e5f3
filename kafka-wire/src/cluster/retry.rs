//! One retry policy for every operation that retries: a deadline, exponential backoff with
//! jitter (KIP-580: `retry.backoff.ms` doubling up to `retry.backoff.max.ms`, ±20 %), and one
//! classification of errors — give up, or retry after refreshing metadata or finding the
//! coordinator again. A plain type: the async loops ([`super::Client::retry_for`], the
//! coordinator lookup, the transactional requests, offset commits) only sleep for what it says.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::config::ClientConfig;
use crate::error::{ClientError, Error};
use crate::protocol::ErrorCode;

/// Exponential backoff with ±20 % jitter, as the Java client's `ExponentialBackoff`.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempts: u32,
    /// Seeded at the first wait: an operation that never fails never asks the OS for entropy.
    rng: Option<rand::rngs::SmallRng>,
}

impl Backoff {
    /// Backoff from `base`, doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self::with_rng(base, max, None)
    }

    /// The same with a fixed seed (tests).
    pub fn seeded(base: Duration, max: Duration, seed: u64) -> Self {
        Self::with_rng(base, max, Some(rand::rngs::SmallRng::seed_from_u64(seed)))
    }

    fn with_rng(base: Duration, max: Duration, rng: Option<rand::rngs::SmallRng>) -> Self {
        Backoff {
            base,
            max: max.max(base),
            attempts: 0,
            rng,
        }
    }

    /// The wait before the next attempt.
    pub fn next_wait(&mut self) -> Duration {
        let exp = self.base.as_secs_f64() * 2f64.powi(self.attempts.min(30) as i32);
        self.attempts = self.attempts.saturating_add(1);
        let capped = exp.min(self.max.as_secs_f64());
        let rng = self
            .rng
            .get_or_insert_with(rand::rngs::SmallRng::from_os_rng);
        let jitter = 1.0 + rng.random_range(-0.2..=0.2);
        Duration::from_secs_f64((capped * jitter).max(0.0))
    }
}

/// What to do after a failed attempt.
#[derive(Debug)]
pub enum RetryDecision {
    /// Try again after `wait`; refresh what the error says is stale first.
    Retry {
        /// The backoff.
        wait: Duration,
        /// Cluster metadata is stale (a leader moved, a broker vanished, a topic is unknown).
        refresh_metadata: bool,
        /// The coordinator moved or its connection broke: look it up again.
        find_coordinator: bool,
    },
    /// Stop: the error is final, or the deadline would pass during the backoff.
    GiveUp(Error),
}

/// The retry state of one operation.
#[derive(Debug)]
pub struct RetryPolicy {
    operation: &'static str,
    timeout: Duration,
    deadline: Instant,
    backoff: Backoff,
}

impl RetryPolicy {
    /// Retries of `operation` until `timeout` from `now`, backing off per `config`.
    pub fn new(
        operation: &'static str,
        timeout: Duration,
        config: &ClientConfig,
        now: Instant,
    ) -> Self {
        Self::with_backoff(
            operation,
            timeout,
            Backoff::new(config.retry_backoff, config.retry_backoff_max),
            now,
        )
    }

    /// The same with an explicit backoff (tests, or a seeded one).
    pub fn with_backoff(
        operation: &'static str,
        timeout: Duration,
        backoff: Backoff,
        now: Instant,
    ) -> Self {
        RetryPolicy {
            operation,
            timeout,
            deadline: now + timeout,
            backoff,
        }
    }

    /// An attempt failed with `err` at `now`: retry (and how), or give up with the error to
    /// report (a timeout naming the last error once the deadline is near).
    pub fn on_error(&mut self, err: Error, now: Instant) -> RetryDecision {
        let retriable = err.is_retriable();
        self.decide(err, retriable, now)
    }

    /// Like [`RetryPolicy::on_error`], for an operation that classifies its errors itself
    /// (transactional requests retry some codes Kafka does not mark retriable).
    pub fn decide(&mut self, err: Error, retriable: bool, now: Instant) -> RetryDecision {
        if !retriable {
            return RetryDecision::GiveUp(err);
        }
        let wait = self.backoff.next_wait();
        if now + wait >= self.deadline {
            return RetryDecision::GiveUp(Error::Timeout {
                operation: self.operation,
                timeout: self.timeout,
                last: Box::new(err),
            });
        }
        RetryDecision::Retry {
            wait,
            refresh_metadata: err.invalidates_metadata(),
            find_coordinator: coordinator_lost(&err),
        }
    }
}

/// Whether `err` means the coordinator must be looked up again: it said it is not the
/// coordinator (any more), or its broker is gone.
pub fn coordinator_lost(err: &Error) -> bool {
    match err {
        Error::Kafka { code, .. } => matches!(
            *code,
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
        ),
        Error::Connection(_) => true,
        Error::Client(ClientError::UnknownBroker { .. }) => true,
        Error::Timeout { last, .. } | Error::NoBrokerAvailable { last, .. } => {
            coordinator_lost(last)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka(code: ErrorCode) -> Error {
        Error::Kafka {
            operation: "Test",
            resource: "r".into(),
            code,
            message: None,
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::seeded(Duration::from_millis(100), Duration::from_millis(1000), 7);
        let waits: Vec<u128> = (0..6).map(|_| b.next_wait().as_millis()).collect();
        let nominal = [100u128, 200, 400, 800, 1000, 1000];
        for (w, n) in waits.iter().zip(nominal) {
            assert!(*w >= n * 8 / 10 && *w <= n * 12 / 10, "{waits:?}");
        }
        assert_ne!(waits[4], waits[5], "jitter spreads retries: {waits:?}");
    }

    #[test]
    fn classification_decides_what_to_refresh() {
        let now = Instant::now();
        let backoff = Backoff::seeded(Duration::from_millis(10), Duration::from_millis(10), 1);
        let mut p = RetryPolicy::with_backoff("Test", Duration::from_secs(10), backoff, now);
        match p.on_error(kafka(ErrorCode::NOT_LEADER_OR_FOLLOWER), now) {
            RetryDecision::Retry {
                refresh_metadata: true,
                find_coordinator: false,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        match p.on_error(kafka(ErrorCode::NOT_COORDINATOR), now) {
            RetryDecision::Retry {
                find_coordinator: true,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        match p.on_error(ClientError::UnknownBroker { node_id: 3 }.into(), now) {
            RetryDecision::Retry {
                refresh_metadata: true,
                find_coordinator: true,
                ..
            } => {}
            other => panic!("a vanished broker is retriable: {other:?}"),
        }
        match p.on_error(kafka(ErrorCode::TOPIC_AUTHORIZATION_FAILED), now) {
            RetryDecision::GiveUp(Error::Kafka { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_deadline_turns_the_last_error_into_a_timeout() {
        let now = Instant::now();
        let backoff = Backoff::seeded(Duration::from_millis(400), Duration::from_millis(400), 1);
        let mut p = RetryPolicy::with_backoff("Lookup", Duration::from_secs(1), backoff, now);
        assert!(matches!(
            p.on_error(kafka(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS), now),
            RetryDecision::Retry { .. }
        ));
        match p.on_error(
            kafka(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS),
            now + Duration::from_millis(900),
        ) {
            RetryDecision::GiveUp(Error::Timeout {
                operation, last, ..
            }) => {
                assert_eq!(operation, "Lookup");
                assert_eq!(last.code(), Some(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS));
            }
            other => panic!("{other:?}"),
        }
    }
}
