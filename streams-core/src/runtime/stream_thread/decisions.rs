//! The stream thread's timing decisions (the bookkeeping of Kafka Streams'
//! `StreamThread.runOnce`): when to commit, when to purge consumed repartition records, and
//! how many records each task processes per round. Plain state driven by the thread's clock
//! readings (ms), so the rules are tested without a thread, a broker or a clock; the thread
//! reads its clock and does the I/O.

use std::time::Duration;

/// Commit, purge and round-size decisions of one stream thread.
#[derive(Debug, Clone)]
pub(crate) struct ThreadDecisions {
    commit_interval_ms: i64,
    purge_interval_ms: i64,
    last_commit_ms: i64,
    last_purge_ms: i64,
    /// Records each task may process per round (Kafka's `numIterations`).
    iterations: usize,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl ThreadDecisions {
    /// A thread started at `now_ms`, committing every `commit_interval` (`commit.interval.ms`)
    /// and purging every `purge_interval` (`repartition.purge.interval.ms`).
    pub fn new(now_ms: i64, commit_interval: Duration, purge_interval: Duration) -> Self {
        ThreadDecisions {
            commit_interval_ms: ms(commit_interval),
            purge_interval_ms: ms(purge_interval),
            last_commit_ms: now_ms,
            last_purge_ms: now_ms,
            iterations: 1,
        }
    }

    /// Records each task may process in the next round.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether to commit at `now_ms`: a processor asked for it, or `commit.interval.ms`
    /// passed since the last commit.
    pub fn commit_due(&self, now_ms: i64, requested: bool) -> bool {
        requested || now_ms.saturating_sub(self.last_commit_ms) >= self.commit_interval_ms
    }

    /// The time since the last commit (zero if the clock reading went back).
    pub fn since_commit(&self, now_ms: i64) -> Duration {
        Duration::from_millis(
            u64::try_from(now_ms.saturating_sub(self.last_commit_ms)).unwrap_or(0),
        )
    }

    /// A commit finished at `now_ms`.
    pub fn committed(&mut self, now_ms: i64) {
        self.last_commit_ms = now_ms;
    }

    /// Whether consumed repartition records are due to be purged at `now_ms` (after a
    /// commit, at most once per `repartition.purge.interval.ms`).
    pub fn purge_due(&self, now_ms: i64) -> bool {
        now_ms.saturating_sub(self.last_purge_ms) >= self.purge_interval_ms
    }

    /// A purge was requested at `now_ms`.
    pub fn purged(&mut self, now_ms: i64) {
        self.last_purge_ms = now_ms;
    }

    /// After a processing round that processed, punctuated and committed so much: whether
    /// to run another round (something was processed). The round size grows by one after a
    /// round that neither punctuated nor committed and halves after one that did, as Kafka's
    /// `numIterations`; it carries over to the next poll.
    pub fn after_round(&mut self, processed: usize, punctuated: usize, committed: usize) -> bool {
        if processed == 0 {
            return false;
        }
        if punctuated > 0 || committed > 0 {
            self.iterations = (self.iterations / 2).max(1);
        } else {
            self.iterations += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_follow_the_interval_or_a_request() {
        let mut d =
            ThreadDecisions::new(1_000, Duration::from_millis(100), Duration::from_secs(30));
        assert!(!d.commit_due(1_050, false));
        assert!(d.commit_due(1_050, true));
        assert!(d.commit_due(1_100, false));
        d.committed(1_120);
        assert!(!d.commit_due(1_200, false));
        assert_eq!(d.since_commit(1_200), Duration::from_millis(80));
        // A clock reading before the last commit is no time at all.
        assert_eq!(d.since_commit(1_000), Duration::ZERO);
    }

    #[test]
    fn purges_wait_out_their_interval() {
        let mut d = ThreadDecisions::new(0, Duration::from_millis(100), Duration::from_secs(30));
        assert!(!d.purge_due(29_999));
        assert!(d.purge_due(30_000));
        d.purged(30_000);
        assert!(!d.purge_due(59_999));
    }

    #[test]
    fn rounds_grow_until_they_punctuate_or_commit() {
        let mut d = ThreadDecisions::new(0, Duration::from_millis(100), Duration::from_secs(30));
        assert_eq!(d.iterations(), 1);
        assert!(d.after_round(1, 0, 0));
        assert!(d.after_round(2, 0, 0));
        assert_eq!(d.iterations(), 3);
        assert!(d.after_round(3, 1, 0));
        assert_eq!(d.iterations(), 1);
        assert!(d.after_round(1, 0, 2));
        assert_eq!(d.iterations(), 1);
        // Nothing processed: the loop ends and the size stays.
        assert!(!d.after_round(0, 5, 5));
        assert_eq!(d.iterations(), 1);
    }
}
