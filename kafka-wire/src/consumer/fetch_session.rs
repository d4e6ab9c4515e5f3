//! Incremental fetch sessions (KIP-227), one per broker, as a plain state machine.
//!
//! The first fetch to a broker is a full one (epoch 0). If the broker answers with a session
//! id, later fetches are incremental: they list only partitions that are new or whose fetch
//! offset or size changed, and name the partitions to drop ("forgotten"); the broker answers
//! only for partitions with news. An error about the session (unknown id, wrong epoch) or a
//! broker that declines sessions makes the next fetch a full one again.
//!
//! The session also remembers the leader epochs sent with each partition (KIP-320's
//! `CurrentLeaderEpoch` and `LastFetchedEpoch`), so a partition whose epochs changed is
//! listed again even if its offset did not move.

use std::collections::BTreeMap;

use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// What one fetch request to a broker must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPlan {
    /// `session_id` field.
    pub session_id: i32,
    /// `session_epoch` field.
    pub epoch: i32,
    /// Partitions to list: (partition, fetch offset, max bytes).
    pub partitions: Vec<(TopicPartition, i64, i32)>,
    /// The leader epochs of each entry of `partitions`, in the same order.
    pub epochs: Vec<FetchEpochs>,
    /// Partitions to drop from the session.
    pub forgotten: Vec<TopicPartition>,
    /// Whether this is a full fetch (every wanted partition listed).
    pub full: bool,
}

/// The leader epochs a fetch sends for a partition (-1: unknown, not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchEpochs {
    /// `CurrentLeaderEpoch`: the leader epoch the consumer knows from metadata (Fetch v9+);
    /// a leader with another epoch answers FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.
    pub current_leader_epoch: i32,
    /// `LastFetchedEpoch`: the epoch of the last record fetched before the fetch offset
    /// (Fetch v12+); the leader answers `DivergingEpoch` if its log diverged there.
    pub last_fetched_epoch: i32,
}

impl FetchEpochs {
    /// No epochs known.
    pub const UNKNOWN: FetchEpochs = FetchEpochs {
        current_leader_epoch: -1,
        last_fetched_epoch: -1,
    };
}

impl Default for FetchEpochs {
    fn default() -> Self {
        Self::UNKNOWN
    }
}

/// What the session knows of one partition: (fetch offset, max bytes, epochs).
type SessionPartition = (i64, i32, FetchEpochs);

/// Fetch-session state for one broker.
#[derive(Debug, Default)]
pub struct FetchSession {
    id: i32,
    epoch: i32,
    /// What the broker's session holds: partition → (fetch offset, max bytes, epochs).
    partitions: BTreeMap<TopicPartition, SessionPartition>,
    /// Counters: full and incremental fetches sent.
    pub full_fetches: u64,
    /// See `full_fetches`.
    pub incremental_fetches: u64,
}

impl FetchSession {
    /// A broker with no session yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current session id (0 when there is none).
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Plan the next fetch for `wanted` partitions (partition → (fetch offset, max bytes)),
    /// without leader epochs. `sessions_supported` is false for brokers below Fetch v7.
    pub fn plan(
        &mut self,
        wanted: &BTreeMap<TopicPartition, (i64, i32)>,
        sessions_supported: bool,
    ) -> FetchPlan {
        let wanted = wanted
            .iter()
            .map(|(tp, (o, m))| (tp.clone(), (*o, *m, FetchEpochs::UNKNOWN)))
            .collect();
        self.plan_with_epochs(&wanted, sessions_supported)
    }

    /// Plan the next fetch for `wanted` partitions (partition → (fetch offset, max bytes,
    /// leader epochs)). `sessions_supported` is false for brokers below Fetch v7.
    pub fn plan_with_epochs(
        &mut self,
        wanted: &BTreeMap<TopicPartition, SessionPartition>,
        sessions_supported: bool,
    ) -> FetchPlan {
        let all = || {
            wanted
                .iter()
                .map(|(tp, (o, m, _))| (tp.clone(), *o, *m))
                .collect()
        };
        let all_epochs = || wanted.values().map(|(_, _, e)| *e).collect();
        if !sessions_supported {
            self.full_fetches += 1;
            return FetchPlan {
                session_id: 0,
                epoch: -1,
                partitions: all(),
                epochs: all_epochs(),
                forgotten: Vec::new(),
                full: true,
            };
        }
        if self.id == 0 {
            self.full_fetches += 1;
            return FetchPlan {
                session_id: 0,
                epoch: 0,
                partitions: all(),
                epochs: all_epochs(),
                forgotten: Vec::new(),
                full: true,
            };
        }
        self.incremental_fetches += 1;
        let changed: Vec<(&TopicPartition, &SessionPartition)> = wanted
            .iter()
            .filter(|(tp, state)| self.partitions.get(*tp) != Some(*state))
            .collect();
        let partitions = changed
            .iter()
            .map(|(tp, (o, m, _))| ((*tp).clone(), *o, *m))
            .collect();
        let epochs = changed.iter().map(|(_, (_, _, e))| *e).collect();
        let forgotten = self
            .partitions
            .keys()
            .filter(|tp| !wanted.contains_key(*tp))
            .cloned()
            .collect();
        FetchPlan {
            session_id: self.id,
            epoch: self.epoch,
            partitions,
            epochs,
            forgotten,
            full: false,
        }
    }

    /// Apply the broker's answer to `plan`: its top-level error code and session id.
    pub fn on_response(&mut self, plan: &FetchPlan, error: ErrorCode, session_id: i32) {
        if !error.is_ok() {
            if matches!(
                error,
                ErrorCode::FETCH_SESSION_ID_NOT_FOUND | ErrorCode::INVALID_FETCH_SESSION_EPOCH
            ) {
                tracing::debug!(%error, "fetch session reset; next fetch is a full one");
            }
            self.reset();
            return;
        }
        if plan.full {
            if plan.epoch == 0 && session_id != 0 {
                self.id = session_id;
                self.epoch = 1;
                self.partitions = plan
                    .partitions
                    .iter()
                    .zip(
                        plan.epochs
                            .iter()
                            .chain(std::iter::repeat(&FetchEpochs::UNKNOWN)),
                    )
                    .map(|((tp, o, m), e)| (tp.clone(), (*o, *m, *e)))
                    .collect();
            } else {
                self.reset(); // the broker declined a session: stay sessionless
            }
            return;
        }
        self.epoch = if self.epoch == i32::MAX {
            1
        } else {
            self.epoch + 1
        };
        let epochs = plan
            .epochs
            .iter()
            .chain(std::iter::repeat(&FetchEpochs::UNKNOWN));
        for ((tp, o, m), e) in plan.partitions.iter().zip(epochs) {
            self.partitions.insert(tp.clone(), (*o, *m, *e));
        }
        for tp in &plan.forgotten {
            self.partitions.remove(tp);
        }
    }

    /// Forget the session (after a failure): the next fetch is a full one.
    pub fn reset(&mut self) {
        self.id = 0;
        self.epoch = 0;
        self.partitions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn full_then_incremental_then_reset() {
        let mut s = FetchSession::new();
        let mut wanted = BTreeMap::from([(tp(0), (0, 100)), (tp(1), (5, 100))]);
        let plan = s.plan(&wanted, true);
        assert!(plan.full && plan.epoch == 0 && plan.partitions.len() == 2);
        s.on_response(&plan, ErrorCode::NONE, 42);
        assert_eq!(s.id(), 42);

        // Nothing changed: an empty incremental fetch (the broker still long-polls).
        let plan = s.plan(&wanted, true);
        assert_eq!(
            (
                plan.session_id,
                plan.epoch,
                plan.partitions.len(),
                plan.full
            ),
            (42, 1, 0, false)
        );
        s.on_response(&plan, ErrorCode::NONE, 42);

        // Partition 0 advanced, partition 1 dropped, partition 2 added.
        wanted.insert(tp(0), (10, 100));
        wanted.remove(&tp(1));
        wanted.insert(tp(2), (0, 100));
        let plan = s.plan(&wanted, true);
        assert_eq!(plan.epoch, 2);
        assert_eq!(plan.partitions, vec![(tp(0), 10, 100), (tp(2), 0, 100)]);
        assert_eq!(plan.forgotten, vec![tp(1)]);
        s.on_response(&plan, ErrorCode::NONE, 42);

        let plan = s.plan(&wanted, true);
        assert!(plan.partitions.is_empty() && plan.forgotten.is_empty());
        s.on_response(&plan, ErrorCode::INVALID_FETCH_SESSION_EPOCH, 0);
        let plan = s.plan(&wanted, true);
        assert!(plan.full && plan.session_id == 0 && plan.partitions.len() == 2);
    }

    #[test]
    fn changed_epochs_list_the_partition_again() {
        let mut s = FetchSession::new();
        let epochs = |current, last| FetchEpochs {
            current_leader_epoch: current,
            last_fetched_epoch: last,
        };
        let mut wanted = BTreeMap::from([
            (tp(0), (5, 100, epochs(1, 1))),
            (tp(1), (0, 100, epochs(1, -1))),
        ]);
        let plan = s.plan_with_epochs(&wanted, true);
        assert_eq!(plan.epochs, vec![epochs(1, 1), epochs(1, -1)]);
        s.on_response(&plan, ErrorCode::NONE, 7);
        // A leader change bumps partition 0's epoch at the same offset: listed again.
        wanted.insert(tp(0), (5, 100, epochs(2, 1)));
        let plan = s.plan_with_epochs(&wanted, true);
        assert_eq!(plan.partitions, vec![(tp(0), 5, 100)]);
        assert_eq!(plan.epochs, vec![epochs(2, 1)]);
        s.on_response(&plan, ErrorCode::NONE, 7);
        let plan = s.plan_with_epochs(&wanted, true);
        assert!(plan.partitions.is_empty() && plan.epochs.is_empty());
    }

    #[test]
    fn declined_or_unsupported_sessions_stay_full() {
        let mut s = FetchSession::new();
        let wanted = BTreeMap::from([(tp(0), (0, 100))]);
        let plan = s.plan(&wanted, true);
        s.on_response(&plan, ErrorCode::NONE, 0);
        assert!(s.plan(&wanted, true).full);
        let plan = s.plan(&wanted, false);
        assert_eq!((plan.epoch, plan.full), (-1, true));
    }
}
