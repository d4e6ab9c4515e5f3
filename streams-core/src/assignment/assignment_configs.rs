//! The settings the task assignor works with (Kafka's `AssignmentConfigs`), as
//! [`crate::runtime::StreamsConfig`] reads them: standby replicas, the lag below which a
//! client counts as caught up, the warm-up budget, the probing interval and the client tags
//! standbys are spread over.

use std::time::Duration;

/// `num.standby.replicas`' default: no standbys.
pub const DEFAULT_NUM_STANDBY_REPLICAS: u32 = 0;
/// `acceptable.recovery.lag`'s default (records).
pub const DEFAULT_ACCEPTABLE_RECOVERY_LAG: u64 = 10_000;
/// `max.warmup.replicas`' default.
pub const DEFAULT_MAX_WARMUP_REPLICAS: u32 = 2;
/// `probing.rebalance.interval.ms`' default: ten minutes.
pub const DEFAULT_PROBING_REBALANCE_INTERVAL: Duration = Duration::from_secs(600);

/// How tasks are placed beyond balance and stickiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentConfigs {
    /// `num.standby.replicas`: copies of each stateful task's state kept on other clients
    /// than its active one.
    pub num_standby_replicas: u32,
    /// `acceptable.recovery.lag`: a client whose lag on a task (changelog records it lacks)
    /// is at most this is caught up and may take the task as active at once.
    pub acceptable_recovery_lag: u64,
    /// `max.warmup.replicas`: how many warm-up replicas (standbys placed so a client can
    /// catch up before it takes a task as active) the whole assignment may hold.
    pub max_warmup_replicas: u32,
    /// `probing.rebalance.interval.ms`: how long after an assignment with warm-ups the group
    /// rebalances again to see whether they caught up.
    pub probing_rebalance_interval: Duration,
    /// `rack.aware.assignment.tags`: the client-tag keys standbys are spread over (a standby
    /// goes to a client whose values for these keys differ from its active's); empty: no
    /// rack awareness.
    pub rack_aware_assignment_tags: Vec<String>,
}

impl Default for AssignmentConfigs {
    /// Kafka's defaults.
    fn default() -> Self {
        AssignmentConfigs {
            num_standby_replicas: DEFAULT_NUM_STANDBY_REPLICAS,
            acceptable_recovery_lag: DEFAULT_ACCEPTABLE_RECOVERY_LAG,
            max_warmup_replicas: DEFAULT_MAX_WARMUP_REPLICAS,
            probing_rebalance_interval: DEFAULT_PROBING_REBALANCE_INTERVAL,
            rack_aware_assignment_tags: Vec::new(),
        }
    }
}
