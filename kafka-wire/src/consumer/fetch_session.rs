//! Incremental fetch sessions (KIP-227), one per broker, as a plain state machine.
//!
//! The first fetch to a broker is a full one (epoch 0). If the broker answers with a session
//! id, later fetches are incremental: they list only partitions that are new or whose fetch
//! offset or size changed, and name the partitions to drop ("forgotten"); the broker answers
//! only for partitions with news. An error about the session (unknown id, wrong epoch) or a
//! broker that declines sessions makes the next fetch a full one again.

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
    /// Partitions to drop from the session.
    pub forgotten: Vec<TopicPartition>,
    /// Whether this is a full fetch (every wanted partition listed).
    pub full: bool,
}

/// Fetch-session state for one broker.
#[derive(Debug, Default)]
pub struct FetchSession {
    id: i32,
    epoch: i32,
    /// What the broker's session holds: partition → (fetch offset, max bytes).
    partitions: BTreeMap<TopicPartition, (i64, i32)>,
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

    /// Plan the next fetch for `wanted` partitions (partition → (fetch offset, max bytes)).
    /// `sessions_supported` is false for brokers below Fetch v7.
    pub fn plan(
        &mut self,
        wanted: &BTreeMap<TopicPartition, (i64, i32)>,
        sessions_supported: bool,
    ) -> FetchPlan {
        let all = || {
            wanted
                .iter()
                .map(|(tp, (o, m))| (tp.clone(), *o, *m))
                .collect()
        };
        if !sessions_supported {
            self.full_fetches += 1;
            return FetchPlan {
                session_id: 0,
                epoch: -1,
                partitions: all(),
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
                forgotten: Vec::new(),
                full: true,
            };
        }
        self.incremental_fetches += 1;
        let partitions = wanted
            .iter()
            .filter(|(tp, state)| self.partitions.get(*tp) != Some(*state))
            .map(|(tp, (o, m))| (tp.clone(), *o, *m))
            .collect();
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
                    .map(|(tp, o, m)| (tp.clone(), (*o, *m)))
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
        for (tp, o, m) in &plan.partitions {
            self.partitions.insert(tp.clone(), (*o, *m));
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
