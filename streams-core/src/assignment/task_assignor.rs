//! Which member runs which task: a pure function of the group (Kafka's `LegacyStickyTaskAssignor`
//! in spirit, with the thread-level balance of its `HighAvailabilityTaskAssignor`).
//!
//! Clients are application instances (one process id); each has members (its stream
//! threads' consumers), and its capacity is its number of members. The assignment is:
//!
//! * **complete**: every task goes to exactly one member (if there is any member);
//! * **balanced**: every member gets `⌊T/M⌋` or `⌈T/M⌉` active tasks (T tasks, M members in
//!   the whole group), so active tasks per thread differ by at most one across the group and
//!   a client's share is proportional to its thread count;
//! * **sticky**: each member keeps as many of the active tasks it owned as balance allows
//!   (the one-task surplus of the `⌈T/M⌉` members goes to those that owned the most), so a
//!   joining member takes only what balance requires and a leaving member's tasks are the
//!   only ones to move; a task that has to move goes first to another member of the same
//!   client, then to a client holding it as a standby, then to the member with most room;
//! * **deterministic**: clients are visited by process id, members by member id, tasks in
//!   order; no hashing, no randomness.
//!
//! Stateful tasks are placed before stateless ones, and a member over its share keeps its
//! stateful tasks first (they have local state). Standby placement (`num.standby.replicas`)
//! is the seam `place_standbys`, which places none yet.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;

use crate::TaskId;

/// One member (stream thread) as the assignor sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberState {
    /// Active tasks the member owned before this rebalance.
    pub previous_active: BTreeSet<TaskId>,
    /// Standby tasks the member owned before this rebalance.
    pub previous_standby: BTreeSet<TaskId>,
}

/// One client (application instance): its members by member id. Its capacity is the number
/// of members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientState {
    /// The client's members (stream threads), by member id.
    pub members: BTreeMap<String, MemberState>,
}

impl ClientState {
    /// The client's capacity: its number of members (threads).
    pub fn capacity(&self) -> usize {
        self.members.len()
    }

    /// Active tasks any of its members owned.
    pub fn previous_active(&self) -> BTreeSet<TaskId> {
        self.members
            .values()
            .flat_map(|m| m.previous_active.iter().copied())
            .collect()
    }

    /// Standby tasks any of its members owned.
    pub fn previous_standby(&self) -> BTreeSet<TaskId> {
        self.members
            .values()
            .flat_map(|m| m.previous_standby.iter().copied())
            .collect()
    }
}

/// Everything the task assignor decides from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentInput {
    /// The clients, by process id.
    pub clients: BTreeMap<Uuid, ClientState>,
    /// Every task of the topology.
    pub tasks: BTreeSet<TaskId>,
    /// The tasks with state stores (a subset of `tasks`).
    pub stateful_tasks: BTreeSet<TaskId>,
    /// `num.standby.replicas` (not applied yet: standby placement is a stub that places none).
    pub num_standby_replicas: u32,
}

/// One member's tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberTasks {
    /// Tasks it processes.
    pub active: BTreeSet<TaskId>,
    /// Tasks whose state it keeps warm.
    pub standby: BTreeSet<TaskId>,
}

/// One client's tasks, in total and per member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTasks {
    /// Every active task of its members.
    pub active: BTreeSet<TaskId>,
    /// Every standby task of its members.
    pub standby: BTreeSet<TaskId>,
    /// Each member's tasks (every member of the input has an entry).
    pub members: BTreeMap<String, MemberTasks>,
}

/// A member's place in the search: its client and id, with what it owned.
struct Slot<'a> {
    process_id: Uuid,
    member_id: &'a str,
    member: &'a MemberState,
    assigned: BTreeSet<TaskId>,
}

/// Assign `input.tasks` to the members of `input.clients` (see the module documentation for
/// the guarantees). With no members, nothing is assigned.
pub fn assign_tasks(input: &AssignmentInput) -> BTreeMap<Uuid, ClientTasks> {
    let mut slots: Vec<Slot<'_>> = input
        .clients
        .iter()
        .flat_map(|(process_id, client)| {
            client.members.iter().map(|(member_id, member)| Slot {
                process_id: *process_id,
                member_id,
                member,
                assigned: BTreeSet::new(),
            })
        })
        .collect();
    let mut out = empty_result(input);
    if slots.is_empty() {
        return out;
    }

    let candidates = sticky_candidates(input, &slots);
    let base = input.tasks.len() / slots.len();
    let mut extras_left = input.tasks.len() % slots.len();
    keep_owned(base, &mut extras_left, &candidates, &mut slots);

    let assigned: BTreeSet<TaskId> = slots
        .iter()
        .flat_map(|s| s.assigned.iter().copied())
        .collect();
    let clients_previous_active: BTreeMap<Uuid, BTreeSet<TaskId>> = input
        .clients
        .iter()
        .map(|(id, c)| (*id, c.previous_active()))
        .collect();
    let clients_previous_standby: BTreeMap<Uuid, BTreeSet<TaskId>> = input
        .clients
        .iter()
        .map(|(id, c)| (*id, c.previous_standby()))
        .collect();
    let remaining = input
        .tasks
        .iter()
        .filter(|t| !assigned.contains(t))
        .map(|t| (!input.stateful_tasks.contains(t), *t));
    let mut remaining: Vec<(bool, TaskId)> = remaining.collect();
    remaining.sort();
    for (_, task) in remaining {
        let best = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.assigned.len() < base || (s.assigned.len() == base && extras_left > 0)
            })
            .min_by_key(|(i, s)| {
                let affinity = if clients_previous_active[&s.process_id].contains(&task) {
                    0
                } else if clients_previous_standby[&s.process_id].contains(&task) {
                    1
                } else {
                    2
                };
                let same_subtopology = s
                    .assigned
                    .iter()
                    .filter(|t| t.subtopology == task.subtopology)
                    .count();
                (
                    affinity,
                    std::cmp::Reverse(base + 1 - s.assigned.len()),
                    same_subtopology,
                    *i,
                )
            })
            .map(|(i, _)| i);
        // `base` per slot plus the extras add up to the number of tasks, so while a task is
        // left some slot is below `base` or an extra is left.
        if let Some(i) = best {
            if slots[i].assigned.len() == base {
                extras_left -= 1;
            }
            slots[i].assigned.insert(task);
        }
    }

    let standbys = place_standbys(input, &slots);
    for slot in slots {
        if let Some(client) = out.get_mut(&slot.process_id) {
            client.active.extend(slot.assigned.iter().copied());
            let member = client.members.entry(slot.member_id.to_owned()).or_default();
            member.active = slot.assigned;
            if let Some(standby) = standbys.get(&(slot.process_id, slot.member_id.to_owned())) {
                client.standby.extend(standby.iter().copied());
                member.standby = standby.clone();
            }
        }
    }
    out
}

/// Every client and member with no tasks.
fn empty_result(input: &AssignmentInput) -> BTreeMap<Uuid, ClientTasks> {
    input
        .clients
        .iter()
        .map(|(id, client)| {
            let members = client
                .members
                .keys()
                .map(|m| (m.clone(), MemberTasks::default()))
                .collect();
            (
                *id,
                ClientTasks {
                    members,
                    ..Default::default()
                },
            )
        })
        .collect()
}

/// Per slot, the tasks it owned that still exist and no earlier slot claimed, stateful ones
/// first (a member over its share keeps those), then by task id.
fn sticky_candidates(input: &AssignmentInput, slots: &[Slot<'_>]) -> Vec<Vec<TaskId>> {
    let mut claimed = BTreeSet::new();
    slots
        .iter()
        .map(|slot| {
            let mut owned: Vec<TaskId> = slot
                .member
                .previous_active
                .iter()
                .filter(|t| input.tasks.contains(t) && claimed.insert(**t))
                .copied()
                .collect();
            owned.sort_by_key(|t| (!input.stateful_tasks.contains(t), *t));
            owned
        })
        .collect()
}

/// Let each slot keep up to `base` (`⌊T/M⌋`) of the tasks it owned, and the slots owning the
/// most beyond that one more each, while extras (`T mod M`) are left: this keeps the most
/// owned tasks any balanced assignment can.
fn keep_owned(
    base: usize,
    extras_left: &mut usize,
    candidates: &[Vec<TaskId>],
    slots: &mut [Slot<'_>],
) {
    for (slot, owned) in slots.iter_mut().zip(candidates) {
        slot.assigned = owned.iter().take(base).copied().collect();
    }
    let mut order: Vec<usize> = (0..slots.len())
        .filter(|i| candidates[*i].len() > base)
        .collect();
    order.sort_by_key(|i| (std::cmp::Reverse(candidates[*i].len()), *i));
    for i in order {
        if *extras_left == 0 {
            break;
        }
        if let Some(task) = candidates[i].get(base) {
            slots[i].assigned.insert(*task);
            *extras_left -= 1;
        }
    }
}

/// Standby tasks per member (`num.standby.replicas` copies of each stateful task on other
/// clients than its active one). Not implemented yet: places none, whatever
/// `num_standby_replicas` says; the result flows into [`ClientTasks::standby`] and the
/// members' assignments unchanged once it does.
fn place_standbys(
    input: &AssignmentInput,
    active: &[Slot<'_>],
) -> BTreeMap<(Uuid, String), BTreeSet<TaskId>> {
    let _ = (input.num_standby_replicas, active);
    BTreeMap::new()
}

#[cfg(test)]
mod tests;
