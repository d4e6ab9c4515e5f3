//! Lag-aware movement of active tasks and warm-up replicas (KIP-441, Kafka's `TaskMovement`).
//!
//! The balanced assignment may give a stateful task to a client that lacks most of its state.
//! Processing would stop while that client restores, so instead, when another client is more
//! caught up:
//!
//! 1. the task stays active on a **caught-up** client (the least loaded one, then the least
//!    lagging, then by process id), or if none is caught up on the **least-lagging** client;
//!    within that client it goes to the member that owned it, else the member with fewest
//!    active tasks;
//! 2. the balanced target keeps a copy to restore: a **warm-up replica** while the budget of
//!    `max.warmup.replicas` (for the whole assignment) lasts. With `num.standby.replicas` > 0
//!    the copy is one of the task's standby replicas and takes no warm-up budget (Kafka swaps
//!    the active with a caught-up standby the same way);
//! 3. to keep per-thread counts close, the member that took the task gives one of its
//!    stateless tasks (if it has any) to the member that lost it;
//! 4. a probing rebalance is requested; in it the warm-up reports its smaller lag and, once
//!    caught up, takes the task as active.
//!
//! Tasks are considered in order of how few clients are caught up on them, then by id, as
//! Kafka orders its movements. Stateless tasks never move here.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;

use super::lag::Lags;
use super::task_assignor::{client_load, slots_of, AssignmentInput, Slot};
use crate::TaskId;

/// What [`keep_actives_on_caught_up_clients`] did.
#[derive(Debug, Default)]
pub(super) struct Movements {
    /// Active tasks kept off their balanced target (each needs a probing rebalance).
    pub(super) moved: usize,
    /// Warm-up replicas placed, by client.
    pub(super) warmups: BTreeMap<Uuid, BTreeSet<TaskId>>,
}

/// Move each stateful active task whose balanced target is not caught up (while another
/// client is more caught up) to a caught-up client, leaving a warm-up or standby on the
/// target; see the module documentation.
pub(super) fn keep_actives_on_caught_up_clients(
    input: &AssignmentInput,
    lags: &Lags,
    slots: &mut [Slot<'_>],
) -> Movements {
    let mut out = Movements::default();
    if !lags.known() {
        return out;
    }
    let clients: Vec<Uuid> = input
        .clients
        .iter()
        .filter(|(_, c)| c.capacity() > 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order: Vec<(usize, TaskId)> = input
        .stateful_tasks
        .iter()
        .map(|t| (clients.iter().filter(|c| lags.caught_up(c, t)).count(), *t))
        .collect();
    order.sort();
    let mut warmups_left = input.configs.max_warmup_replicas;

    for (_, task) in order {
        let Some(target_slot) = slots.iter().position(|s| s.assigned.contains(&task)) else {
            continue;
        };
        let target = slots[target_slot].process_id;
        let target_lag = lags.lag(&target, &task);
        if lags.caught_up(&target, &task)
            || clients.iter().all(|c| lags.lag(c, &task) >= target_lag)
        {
            continue;
        }
        let caught_up = clients
            .iter()
            .filter(|c| **c != target && lags.caught_up(c, &task))
            .min_by(|a, b| {
                client_load(slots, a)
                    .total_cmp(&client_load(slots, b))
                    .then(lags.lag(a, &task).cmp(&lags.lag(b, &task)))
                    .then(a.cmp(b))
            });
        let least_lagging = || {
            clients
                .iter()
                .filter(|c| lags.lag(c, &task) < target_lag)
                .min_by_key(|c| (lags.lag(c, &task), **c))
        };
        let Some(source) = caught_up.or_else(least_lagging).copied() else {
            continue;
        };
        let Some(source_slot) = pick_member(slots, &source, &task) else {
            continue;
        };

        slots[target_slot].assigned.remove(&task);
        slots[source_slot].standby.remove(&task);
        slots[source_slot].assigned.insert(task);
        out.moved += 1;
        if input.configs.num_standby_replicas > 0 {
            slots[target_slot].standby.insert(task);
        } else if warmups_left > 0 {
            warmups_left -= 1;
            slots[target_slot].standby.insert(task);
            out.warmups.entry(target).or_default().insert(task);
        }
        give_back_a_stateless_task(input, slots, source_slot, target_slot);
    }
    out
}

/// The member of client `process_id` that takes `task`: the one that owned it (active, then
/// standby), else the one with fewest active tasks, then by member id.
fn pick_member(slots: &[Slot<'_>], process_id: &Uuid, task: &TaskId) -> Option<usize> {
    slots_of(slots, process_id)
        .min_by_key(|(i, s)| {
            (
                !s.member.previous_active.contains(task),
                !s.member.previous_standby.contains(task),
                s.assigned.len(),
                *i,
            )
        })
        .map(|(i, _)| i)
}

/// If member `from` now has two or more active tasks than member `to`, hand one of `from`'s
/// stateless tasks (one it did not own before, if any; else its last) to `to`.
fn give_back_a_stateless_task(
    input: &AssignmentInput,
    slots: &mut [Slot<'_>],
    from: usize,
    to: usize,
) {
    if slots[from].assigned.len() < slots[to].assigned.len() + 2 {
        return;
    }
    let stateless = |t: &&TaskId| !input.stateful_tasks.contains(*t);
    let from_slot = &slots[from];
    let task = from_slot
        .assigned
        .iter()
        .filter(stateless)
        .rfind(|t| !from_slot.member.previous_active.contains(*t))
        .or_else(|| from_slot.assigned.iter().rfind(stateless))
        .copied();
    if let Some(task) = task {
        slots[from].assigned.remove(&task);
        slots[to].assigned.insert(task);
    }
}

#[cfg(test)]
mod tests;
