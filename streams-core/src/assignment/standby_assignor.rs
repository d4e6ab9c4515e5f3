//! Standby replicas (`num.standby.replicas`; Kafka's `DefaultStandbyTaskAssignor` and
//! `ClientTagAwareStandbyTaskAssignor`).
//!
//! Every stateful task gets `num.standby.replicas` copies on clients other than the one
//! running it, never two copies of a task on one client (a warm-up placed by
//! [`super::task_movement`] counts as one of them). With too few clients, a task gets fewer
//! (logged). Among the clients that may take a copy, a standby goes to:
//!
//! 1. with `rack.aware.assignment.tags`, a client whose value of each listed tag differs
//!    from those of the clients already holding the task (a tag whose values are all used
//!    up stops constraining, as in Kafka); when no client qualifies, any client;
//! 2. a client under its fair share of tasks (actives and standbys in proportion to its
//!    threads), so standbys spread evenly;
//! 3. a client caught up on the task, then the least lagging, then one that held the task
//!    before (its state is there), then the least loaded per thread, then by process id.
//!
//! Within the client, the member that held the task before takes it, else the member with
//! fewest tasks.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;
use tracing::warn;

use super::lag::Lags;
use super::task_assignor::{client_holds, client_load, slots_of, AssignmentInput, Slot};
use crate::TaskId;

/// Place the standby replicas of `input.stateful_tasks` on `slots` (see the module
/// documentation).
pub(super) fn assign_standbys(input: &AssignmentInput, lags: &Lags, slots: &mut [Slot<'_>]) {
    let wanted = input.configs.num_standby_replicas as usize;
    if wanted == 0 || slots.is_empty() {
        return;
    }
    let clients: Vec<Uuid> = input
        .clients
        .iter()
        .filter(|(_, c)| c.capacity() > 0)
        .map(|(id, _)| *id)
        .collect();
    let copies_per_task = wanted.min(clients.len().saturating_sub(1));
    let total = input.tasks.len() + copies_per_task * input.stateful_tasks.len();
    let quota: BTreeMap<Uuid, usize> = input
        .clients
        .iter()
        .map(|(id, c)| (*id, (total * c.capacity()).div_ceil(slots.len())))
        .collect();
    let tags = TagValues::new(input);
    let mut short = BTreeSet::new();
    let mut untagged = BTreeSet::new();

    for task in &input.stateful_tasks {
        let Some(active) = slots
            .iter()
            .find(|s| s.assigned.contains(task))
            .map(|s| s.process_id)
        else {
            continue;
        };
        let mut holders = vec![active];
        holders.extend(
            clients
                .iter()
                .filter(|c| **c != active && client_holds(slots, c, task)),
        );
        let mut constraint = TagConstraint::default();
        for holder in &holders {
            constraint.add(&tags, input, holder);
        }
        let mut copies = holders.len() - 1;
        while copies < wanted {
            let candidates: Vec<Uuid> = clients
                .iter()
                .filter(|c| !client_holds(slots, c, task))
                .copied()
                .collect();
            let allowed: Vec<Uuid> = candidates
                .iter()
                .filter(|c| constraint.allows(input, c))
                .copied()
                .collect();
            if allowed.is_empty() && !candidates.is_empty() && !tags.keys.is_empty() {
                untagged.insert(*task);
            }
            let pool = if allowed.is_empty() {
                &candidates
            } else {
                &allowed
            };
            let Some(client) = best_client(lags, slots, &quota, pool, task) else {
                short.insert(*task);
                break;
            };
            let Some(member) = slots_of(slots, &client)
                .min_by_key(|(i, s)| (!s.owned_before(task), s.load(), *i))
                .map(|(i, _)| i)
            else {
                break;
            };
            slots[member].standby.insert(*task);
            constraint.add(&tags, input, &client);
            copies += 1;
        }
    }
    if !untagged.is_empty() {
        warn!(
            tasks = ?untagged,
            rack_aware_assignment_tags = ?tags.keys,
            "some standby replicas could not go to clients with other client tag values than the task's other copies (too few instances on different tag values); they went to the least loaded clients"
        );
    }
    if !short.is_empty() {
        warn!(
            tasks = ?short,
            num_standby_replicas = wanted,
            clients = clients.len(),
            "some tasks have fewer standby replicas than num.standby.replicas: a task's copies must be on different instances; start more application instances"
        );
    }
}

/// The client of `pool` that takes a standby of `task` (see the module documentation).
fn best_client(
    lags: &Lags,
    slots: &[Slot<'_>],
    quota: &BTreeMap<Uuid, usize>,
    pool: &[Uuid],
    task: &TaskId,
) -> Option<Uuid> {
    let key = |c: &Uuid| {
        let tasks: usize = slots_of(slots, c).map(|(_, s)| s.load()).sum();
        let held_before = slots_of(slots, c).any(|(_, s)| s.owned_before(task));
        (
            tasks >= quota.get(c).copied().unwrap_or(0),
            !lags.caught_up(c, task),
            lags.lag(c, task),
            !held_before,
        )
    };
    pool.iter()
        .min_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then(client_load(slots, a).total_cmp(&client_load(slots, b)))
                .then(a.cmp(b))
        })
        .copied()
}

/// Per `rack.aware.assignment.tags` key, every value the clients have.
#[derive(Debug, Default)]
struct TagValues {
    keys: Vec<String>,
    values: BTreeMap<String, BTreeSet<String>>,
}

impl TagValues {
    fn new(input: &AssignmentInput) -> Self {
        let keys = input.configs.rack_aware_assignment_tags.clone();
        let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for client in input.clients.values() {
            for key in &keys {
                if let Some(value) = client.client_tags.get(key) {
                    values.entry(key.clone()).or_default().insert(value.clone());
                }
            }
        }
        TagValues { keys, values }
    }
}

/// The tag values a task's copies already use, which the next copy avoids.
#[derive(Debug, Default)]
struct TagConstraint {
    /// Clients holding a copy so far.
    used_clients: usize,
    /// Per tag key still constraining, the values in use.
    used: BTreeMap<String, BTreeSet<String>>,
    /// Tag keys whose values are all in use: they no longer constrain.
    exhausted: BTreeSet<String>,
}

impl TagConstraint {
    /// Record that `client` holds a copy.
    fn add(&mut self, tags: &TagValues, input: &AssignmentInput, client: &Uuid) {
        self.used_clients += 1;
        let Some(state) = input.clients.get(client) else {
            return;
        };
        for key in &tags.keys {
            let Some(value) = state.client_tags.get(key) else {
                continue;
            };
            let distinct = tags.values.get(key).map_or(0, BTreeSet::len);
            if distinct <= self.used_clients {
                self.used.remove(key);
                self.exhausted.insert(key.clone());
            } else if !self.exhausted.contains(key) {
                self.used
                    .entry(key.clone())
                    .or_default()
                    .insert(value.clone());
            }
        }
    }

    /// Whether `client` has none of the values in use.
    fn allows(&self, input: &AssignmentInput, client: &Uuid) -> bool {
        let Some(state) = input.clients.get(client) else {
            return false;
        };
        self.used.iter().all(|(key, values)| {
            state
                .client_tags
                .get(key)
                .is_none_or(|v| !values.contains(v))
        })
    }
}

#[cfg(test)]
mod tests;
