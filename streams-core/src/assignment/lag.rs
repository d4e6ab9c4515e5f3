//! Each client's lag on each stateful task (KIP-441), from the changelog offset sums its
//! members report and the end-offset sums the leader fetched.
//!
//! A task's lag on a client is the sum of its changelogs' end offsets minus the sum of the
//! changelog offsets the client has locally: the records it would restore before it could
//! process the task. A client is **caught up** on a task when it runs it as active now
//! ([`LATEST_OFFSET`]) or its lag is at most `acceptable.recovery.lag`. Without end offsets
//! every client counts as caught up (lags are unknown, so nothing waits for a warm-up).

use std::collections::BTreeMap;

use kafka_wire::protocol::Uuid;
use tracing::warn;

use super::task_assignor::AssignmentInput;
use crate::TaskId;

/// The offset sum a member reports for a task it runs as active and has caught up (Kafka's
/// `Task.LATEST_OFFSET`): the client's lag on it is taken as none.
pub const LATEST_OFFSET: i64 = -2;

/// Every client's lag on every stateful task.
#[derive(Debug, Clone)]
pub(super) struct Lags {
    /// Per client, per stateful task: [`LATEST_OFFSET`] or the lag (>= 0). Empty when the end
    /// offsets are unknown.
    lags: BTreeMap<Uuid, BTreeMap<TaskId, i64>>,
    known: bool,
    acceptable: u64,
}

impl Lags {
    /// The lags of `input`'s clients on its stateful tasks. A member's previous active task
    /// without a reported sum counts as running ([`LATEST_OFFSET`]); a task a client reports
    /// nothing for has lag equal to its end-offset sum (no local state).
    pub(super) fn compute(input: &AssignmentInput) -> Self {
        let Some(end_sums) = &input.task_end_offset_sums else {
            return Lags {
                lags: BTreeMap::new(),
                known: false,
                acceptable: input.configs.acceptable_recovery_lag,
            };
        };
        let mut lags = BTreeMap::new();
        for (process_id, client) in &input.clients {
            let mut sums: BTreeMap<TaskId, i64> = BTreeMap::new();
            for member in client.members.values() {
                for (task, sum) in &member.task_offset_sums {
                    let entry = sums.entry(*task).or_insert(*sum);
                    if *sum == LATEST_OFFSET || *entry == LATEST_OFFSET {
                        *entry = LATEST_OFFSET;
                    } else {
                        *entry = (*entry).max(*sum);
                    }
                }
                for task in &member.previous_active {
                    sums.entry(*task).or_insert(LATEST_OFFSET);
                }
            }
            let client_lags: BTreeMap<TaskId, i64> = input
                .stateful_tasks
                .iter()
                .map(|task| {
                    let end = end_sums.get(task).copied().unwrap_or(0).max(0);
                    let lag = match sums.get(task).copied() {
                        Some(LATEST_OFFSET) => LATEST_OFFSET,
                        Some(sum) if sum > end => {
                            warn!(%task, client = %process_id, offset_sum = sum, end_offset_sum = end,
                                "the client has more of the task's changelogs than they hold (corrupted or truncated state?); it is treated as having none");
                            end
                        }
                        Some(sum) => end - sum.max(0),
                        None => end,
                    };
                    (*task, lag)
                })
                .collect();
            lags.insert(*process_id, client_lags);
        }
        Lags {
            lags,
            known: true,
            acceptable: input.configs.acceptable_recovery_lag,
        }
    }

    /// Whether the end offsets were known (otherwise every client is caught up).
    pub(super) fn known(&self) -> bool {
        self.known
    }

    /// `client`'s lag on `task`: [`LATEST_OFFSET`] when it runs it, 0 for stateless tasks and
    /// when lags are unknown.
    pub(super) fn lag(&self, client: &Uuid, task: &TaskId) -> i64 {
        self.lags
            .get(client)
            .and_then(|l| l.get(task))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `client` may take `task` as active without a long restoration.
    pub(super) fn caught_up(&self, client: &Uuid, task: &TaskId) -> bool {
        let lag = self.lag(client, task);
        lag == LATEST_OFFSET || u64::try_from(lag).is_ok_and(|l| l <= self.acceptable)
    }
}
