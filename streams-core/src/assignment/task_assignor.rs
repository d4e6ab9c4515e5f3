//! Which member runs which task: a pure function of the group, in the manner of Kafka's
//! `HighAvailabilityTaskAssignor` (KIP-441), with thread-level balance.
//!
//! Clients are application instances (one process id); each has members (its stream
//! threads' consumers), and its capacity is its number of members. The active assignment is:
//!
//! * **complete**: every task goes to exactly one member (if there is any member);
//! * **balanced**: every member gets `⌊T/M⌋` or `⌈T/M⌉` active tasks (T tasks, M members in
//!   the whole group), so active tasks per thread differ by at most one across the group and
//!   a client's share is proportional to its thread count — except while warm-ups run (below);
//! * **sticky**: each member keeps as many of the active tasks it owned as balance allows
//!   (the one-task surplus of the `⌈T/M⌉` members goes to those that owned the most), so a
//!   joining member takes only what balance requires and a leaving member's tasks are the
//!   only ones to move; a task that has to move goes first to another member of the same
//!   client, then to a client that is caught up on it (least lag), then to a client holding
//!   it as a standby, then to the member with most room;
//! * **lag-aware** ([`super::task_movement`]): when balance would give a stateful task to a
//!   client that is not caught up on it (see [`super::lag`]) while another client is more
//!   caught up, the task stays active on a caught-up client (or the least-lagging one) and the
//!   balanced target gets a **warm-up replica** (a standby) instead, at most
//!   `max.warmup.replicas` in the whole assignment; [`TaskAssignment::probing_rebalance_needed`]
//!   then asks for a probing rebalance, in which a caught-up warm-up takes the task over;
//! * **replicated** ([`super::standby_assignor`]): each stateful task gets
//!   `num.standby.replicas` standbys on other clients than its active one, never two copies
//!   on one client, preferring clients that hold its state, spread over client tags
//!   (`rack.aware.assignment.tags`) and balanced over clients and threads;
//! * **deterministic**: clients are visited by process id, members by member id, tasks in
//!   order; no hashing, no randomness.
//!
//! Stateful tasks are placed before stateless ones, and a member over its share keeps its
//! stateful tasks first (they have local state). Stateless tasks are never warmed up nor
//! replicated.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;

use super::assignment_configs::AssignmentConfigs;
use super::lag::Lags;
use super::{standby_assignor, task_movement};
use crate::TaskId;

/// One member (stream thread) as the assignor sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberState {
    /// Active tasks the member owned before this rebalance.
    pub previous_active: BTreeSet<TaskId>,
    /// Standby tasks the member owned before this rebalance.
    pub previous_standby: BTreeSet<TaskId>,
    /// Per task with local state, the sum of the changelog offsets the member has
    /// (`SubscriptionInfo::task_offset_sums`; [`super::lag::LATEST_OFFSET`] for a running
    /// active task). Empty when the member reports none.
    pub task_offset_sums: BTreeMap<TaskId, i64>,
}

/// One client (application instance): its members by member id. Its capacity is the number
/// of members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientState {
    /// The client's members (stream threads), by member id.
    pub members: BTreeMap<String, MemberState>,
    /// Its client tags (`client.tag.<key>` = value), for rack-aware standby placement.
    pub client_tags: BTreeMap<String, String>,
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
    /// Per stateful task, the sum of the end offsets of its changelog partitions (fetched by
    /// the leader). `None` when they are unknown: every client then counts as caught up on
    /// every task, so no warm-ups are placed.
    pub task_end_offset_sums: Option<BTreeMap<TaskId, i64>>,
    /// The assignment settings (standbys, recovery lag, warm-ups, rack tags).
    pub configs: AssignmentConfigs,
}

/// One member's tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberTasks {
    /// Tasks it processes.
    pub active: BTreeSet<TaskId>,
    /// Tasks whose state it keeps warm (standby and warm-up replicas).
    pub standby: BTreeSet<TaskId>,
}

/// One client's tasks, in total and per member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTasks {
    /// Every active task of its members.
    pub active: BTreeSet<TaskId>,
    /// Every standby task of its members (warm-ups included).
    pub standby: BTreeSet<TaskId>,
    /// The standby tasks that are warm-up replicas: placed so the client catches up before
    /// it takes them as active (a subset of `standby`).
    pub warmup: BTreeSet<TaskId>,
    /// Each member's tasks (every member of the input has an entry).
    pub members: BTreeMap<String, MemberTasks>,
}

/// The whole assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskAssignment {
    /// Each client's tasks, by process id (every client of the input has an entry).
    pub clients: BTreeMap<Uuid, ClientTasks>,
    /// Some active task was kept off its balanced target because the target is not caught
    /// up: the group should rebalance again after `probing.rebalance.interval.ms` to move it
    /// once the target's warm-up has caught up.
    pub probing_rebalance_needed: bool,
}

/// A member's place in the search: its client and id, with what it owned and what it gets.
#[derive(Debug)]
pub(super) struct Slot<'a> {
    pub(super) process_id: Uuid,
    pub(super) member_id: &'a str,
    pub(super) member: &'a MemberState,
    /// Its active tasks so far.
    pub(super) assigned: BTreeSet<TaskId>,
    /// Its standby (and warm-up) tasks so far.
    pub(super) standby: BTreeSet<TaskId>,
}

impl Slot<'_> {
    /// Active and standby tasks.
    pub(super) fn load(&self) -> usize {
        self.assigned.len() + self.standby.len()
    }

    /// Whether it holds `task`, as active or standby.
    pub(super) fn holds(&self, task: &TaskId) -> bool {
        self.assigned.contains(task) || self.standby.contains(task)
    }

    /// Whether it owned `task` before (as active or standby).
    pub(super) fn owned_before(&self, task: &TaskId) -> bool {
        self.member.previous_active.contains(task) || self.member.previous_standby.contains(task)
    }
}

/// The member slots of client `process_id`.
pub(super) fn slots_of<'s, 'a>(
    slots: &'s [Slot<'a>],
    process_id: &'s Uuid,
) -> impl Iterator<Item = (usize, &'s Slot<'a>)> + 's {
    slots
        .iter()
        .enumerate()
        .filter(move |(_, s)| s.process_id == *process_id)
}

/// Whether client `process_id` holds `task` (as active or standby on any member).
pub(super) fn client_holds(slots: &[Slot<'_>], process_id: &Uuid, task: &TaskId) -> bool {
    slots_of(slots, process_id).any(|(_, s)| s.holds(task))
}

/// Client `process_id`'s tasks (active and standby) per member: its load.
pub(super) fn client_load(slots: &[Slot<'_>], process_id: &Uuid) -> f64 {
    let (tasks, members) =
        slots_of(slots, process_id).fold((0usize, 0usize), |(t, m), (_, s)| (t + s.load(), m + 1));
    if members == 0 {
        f64::INFINITY
    } else {
        tasks as f64 / members as f64
    }
}

/// Assign `input.tasks` to the members of `input.clients` (see the module documentation for
/// the guarantees), returning each client's tasks. With no members, nothing is assigned.
/// [`compute_assignment`] also tells whether a probing rebalance is needed.
pub fn assign_tasks(input: &AssignmentInput) -> BTreeMap<Uuid, ClientTasks> {
    compute_assignment(input).clients
}

/// Assign `input.tasks` (active, standby and warm-up replicas) to the members of
/// `input.clients`; see the module documentation. With no members, nothing is assigned.
pub fn compute_assignment(input: &AssignmentInput) -> TaskAssignment {
    let mut slots: Vec<Slot<'_>> = input
        .clients
        .iter()
        .flat_map(|(process_id, client)| {
            client.members.iter().map(|(member_id, member)| Slot {
                process_id: *process_id,
                member_id,
                member,
                assigned: BTreeSet::new(),
                standby: BTreeSet::new(),
            })
        })
        .collect();
    let mut out = TaskAssignment {
        clients: empty_result(input),
        probing_rebalance_needed: false,
    };
    if slots.is_empty() {
        return out;
    }

    let lags = Lags::compute(input);
    assign_balanced_actives(input, &lags, &mut slots);
    let movements = task_movement::keep_actives_on_caught_up_clients(input, &lags, &mut slots);
    standby_assignor::assign_standbys(input, &lags, &mut slots);

    out.probing_rebalance_needed = movements.moved > 0;
    for (process_id, warmups) in movements.warmups {
        if let Some(client) = out.clients.get_mut(&process_id) {
            client.warmup = warmups;
        }
    }
    for slot in slots {
        if let Some(client) = out.clients.get_mut(&slot.process_id) {
            client.active.extend(slot.assigned.iter().copied());
            client.standby.extend(slot.standby.iter().copied());
            let member = client.members.entry(slot.member_id.to_owned()).or_default();
            member.active = slot.assigned;
            member.standby = slot.standby;
        }
    }
    out
}

/// The balanced, sticky active assignment (before lag-aware movements).
fn assign_balanced_actives(input: &AssignmentInput, lags: &Lags, slots: &mut [Slot<'_>]) {
    let candidates = sticky_candidates(input, slots);
    let base = input.tasks.len() / slots.len();
    let mut extras_left = input.tasks.len() % slots.len();
    keep_owned(base, &mut extras_left, &candidates, slots);

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
                let client = &s.process_id;
                let affinity = if clients_previous_active
                    .get(client)
                    .is_some_and(|p| p.contains(&task))
                {
                    0
                } else if lags.known() && lags.caught_up(client, &task) {
                    1
                } else {
                    2
                };
                let standby = !clients_previous_standby
                    .get(client)
                    .is_some_and(|p| p.contains(&task));
                let same_subtopology = s
                    .assigned
                    .iter()
                    .filter(|t| t.subtopology == task.subtopology)
                    .count();
                (
                    affinity,
                    lags.lag(client, &task),
                    standby,
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

#[cfg(test)]
mod tests;
