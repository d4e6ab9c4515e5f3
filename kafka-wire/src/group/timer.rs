//! The group member's timers: a closed set of deadlines in a small table (the quinn-proto
//! pattern). Time is always an argument; nothing here reads a clock.

use std::time::Instant;

/// Every timer a group member runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The next heartbeat is due (`heartbeat.interval.ms` after the last one was sent, or
    /// `retry.backoff.ms` after one failed). Java's `Heartbeat.heartbeatTimer`.
    Heartbeat,
    /// No successful heartbeat for `session.timeout.ms`: the coordinator is presumed dead and
    /// looked up again. Java's `Heartbeat.sessionTimer`.
    Session,
    /// The application has not polled for `max.poll.interval.ms`: the member leaves the group.
    /// Java's `Heartbeat.pollTimer`.
    PollInterval,
    /// The JoinGroup or SyncGroup in flight is abandoned (the rebalance timeout plus
    /// `request.timeout.ms` for JoinGroup, `request.timeout.ms` for SyncGroup).
    Rebalance,
    /// Offsets are committed every `auto.commit.interval.ms` (`enable.auto.commit`).
    AutoCommit,
    /// No FindCoordinator or JoinGroup before `retry.backoff.ms` has passed since a failure.
    Backoff,
    /// The follow-up rebalance the assignor asked for with the last assignment
    /// ([`FollowUp`](crate::group::FollowUp); Kafka Streams' `nextScheduledRebalanceMs`).
    ScheduledRebalance,
    /// A pattern subscription looks at the cluster's topics again (`metadata.max.age.ms`).
    TopicRefresh,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 8] = [
        Timer::Heartbeat,
        Timer::Session,
        Timer::PollInterval,
        Timer::Rebalance,
        Timer::AutoCommit,
        Timer::Backoff,
        Timer::ScheduledRebalance,
        Timer::TopicRefresh,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The deadline of each [`Timer`] (unset when stopped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    /// Arm `timer` to fire at `at` (replacing any earlier deadline).
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// Stop `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// When `timer` fires, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// Whether `timer` is armed and has not fired by `now`.
    pub fn is_pending(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at > now)
    }

    /// The earliest deadline of all armed timers.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stop and return every timer that fired by `now`, in table order.
    pub fn take_expired(&mut self, now: Instant) -> Vec<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|t| {
                let slot = &mut self.deadlines[t.index()];
                if slot.is_some_and(|at| at <= now) {
                    *slot = None;
                    true
                } else {
                    false
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_deadline_and_expiry_stop_the_timer() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        assert_eq!(table.next_timeout(), None);
        table.set(Timer::Session, t0 + Duration::from_secs(10));
        table.set(Timer::Heartbeat, t0 + Duration::from_secs(3));
        assert_eq!(table.next_timeout(), Some(t0 + Duration::from_secs(3)));
        assert!(table.take_expired(t0 + Duration::from_secs(2)).is_empty());
        assert_eq!(
            table.take_expired(t0 + Duration::from_secs(3)),
            vec![Timer::Heartbeat]
        );
        assert_eq!(table.get(Timer::Heartbeat), None);
        assert!(table.is_pending(Timer::Session, t0 + Duration::from_secs(9)));
        table.stop(Timer::Session);
        assert_eq!(table.next_timeout(), None);
    }
}
