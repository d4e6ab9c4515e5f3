use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;
use proptest::prelude::*;

use crate::assignment::assignment_configs::AssignmentConfigs;
use crate::assignment::lag::LATEST_OFFSET;
use crate::assignment::task_assignor::{
    compute_assignment, AssignmentInput, ClientState, MemberState, TaskAssignment,
};
use crate::TaskId;

fn pid(n: u8) -> Uuid {
    Uuid([n; 16])
}

fn t(s: u32, p: i32) -> TaskId {
    TaskId::new(s, p)
}

/// A one-thread client (member `c<n>`) that ran `active` (reported as running) and kept
/// `standby` with the given offset sums.
fn client(n: u8, active: &[TaskId], sums: &[(TaskId, i64)]) -> (Uuid, ClientState) {
    let mut member = MemberState {
        previous_active: active.iter().copied().collect(),
        ..Default::default()
    };
    for task in active {
        member.task_offset_sums.insert(*task, LATEST_OFFSET);
    }
    for (task, sum) in sums {
        member.previous_standby.insert(*task);
        member.task_offset_sums.insert(*task, *sum);
    }
    let state = ClientState {
        members: [(format!("c{n}"), member)].into(),
        ..Default::default()
    };
    (pid(n), state)
}

/// Stateful tasks `0_0..0_{n}`, each with a changelog end-offset sum of 1 000 000.
fn stateful(n: i32) -> BTreeSet<TaskId> {
    (0..n).map(|p| t(0, p)).collect()
}

fn input(clients: Vec<(Uuid, ClientState)>, tasks: &BTreeSet<TaskId>) -> AssignmentInput {
    AssignmentInput {
        clients: clients.into_iter().collect(),
        tasks: tasks.clone(),
        stateful_tasks: tasks.clone(),
        task_end_offset_sums: Some(tasks.iter().map(|t| (*t, 1_000_000)).collect()),
        configs: AssignmentConfigs::default(),
    }
}

/// Every task active exactly once, never two copies on one client, warm-ups are standbys.
fn check(i: &AssignmentInput, r: &TaskAssignment) {
    let mut seen = BTreeSet::new();
    for (id, c) in &r.clients {
        for task in &c.active {
            assert!(seen.insert(*task), "{task} active twice");
        }
        assert!(
            c.active.is_disjoint(&c.standby),
            "{id:?} holds a task twice: {c:?}"
        );
        assert!(c.warmup.is_subset(&c.standby));
        assert!(
            c.standby.is_subset(&i.stateful_tasks),
            "only stateful tasks are replicated"
        );
        let members: Vec<&BTreeSet<TaskId>> = c.members.values().map(|m| &m.standby).collect();
        let total: usize = members.iter().map(|s| s.len()).sum();
        assert_eq!(
            total,
            c.standby.len(),
            "a standby on one member of the client"
        );
    }
    if i.clients.values().any(|c| c.capacity() > 0) {
        assert_eq!(seen, i.tasks);
    }
    let warmups: usize = r.clients.values().map(|c| c.warmup.len()).sum();
    assert!(warmups <= i.configs.max_warmup_replicas as usize);
}

#[test]
fn a_new_empty_client_gets_warmups_not_actives_and_a_probing_rebalance_is_asked() {
    let tasks = stateful(4);
    let i = input(
        vec![
            client(0, &[t(0, 0), t(0, 1)], &[]),
            client(1, &[t(0, 2), t(0, 3)], &[]),
            client(2, &[], &[]),
        ],
        &tasks,
    );
    let r = compute_assignment(&i);
    check(&i, &r);
    assert!(r.clients[&pid(2)].active.is_empty(), "{r:?}");
    assert_eq!(r.clients[&pid(2)].warmup, [t(0, 3)].into());
    assert_eq!(r.clients[&pid(2)].standby, [t(0, 3)].into());
    assert_eq!(r.clients[&pid(1)].active, [t(0, 2), t(0, 3)].into());
    assert!(r.probing_rebalance_needed);
}

#[test]
fn once_the_warmup_reports_a_small_lag_the_active_moves_to_it() {
    let tasks = stateful(4);
    let clients = vec![
        client(0, &[t(0, 0), t(0, 1)], &[]),
        client(1, &[t(0, 2), t(0, 3)], &[]),
        // The warm-up of 0_3 restored all but 10 records.
        client(2, &[], &[(t(0, 3), 999_990)]),
    ];
    let i = input(clients, &tasks);
    let r = compute_assignment(&i);
    check(&i, &r);
    assert_eq!(r.clients[&pid(2)].active, [t(0, 3)].into(), "{r:?}");
    assert_eq!(r.clients[&pid(1)].active, [t(0, 2)].into());
    assert!(r.clients.values().all(|c| c.warmup.is_empty()));
    assert!(!r.probing_rebalance_needed);
}

#[test]
fn a_warmup_still_far_behind_stays_a_warmup() {
    let tasks = stateful(4);
    let clients = vec![
        client(0, &[t(0, 0), t(0, 1)], &[]),
        client(1, &[t(0, 2), t(0, 3)], &[]),
        client(2, &[], &[(t(0, 3), 500_000)]),
    ];
    let i = input(clients, &tasks);
    let r = compute_assignment(&i);
    check(&i, &r);
    assert!(r.clients[&pid(2)].active.is_empty());
    assert_eq!(r.clients[&pid(2)].warmup, [t(0, 3)].into());
    assert!(r.probing_rebalance_needed);
}

#[test]
fn warmups_are_capped_by_max_warmup_replicas() {
    let tasks = stateful(8);
    let all: Vec<TaskId> = tasks.iter().copied().collect();
    let mut i = input(
        vec![
            client(0, &all, &[]),
            client(1, &[], &[]),
            client(2, &[], &[]),
            client(3, &[], &[]),
        ],
        &tasks,
    );
    let r = compute_assignment(&i);
    check(&i, &r);
    assert_eq!(
        r.clients[&pid(0)].active,
        tasks,
        "nothing moves to empty clients"
    );
    let warmups: usize = r.clients.values().map(|c| c.warmup.len()).sum();
    assert_eq!(warmups, 2);
    assert!(r.probing_rebalance_needed);

    i.configs.max_warmup_replicas = 5;
    let r = compute_assignment(&i);
    check(&i, &r);
    let warmups: usize = r.clients.values().map(|c| c.warmup.len()).sum();
    assert_eq!(warmups, 5);
}

#[test]
fn a_stateless_task_is_never_warmed_up_and_moves_at_once() {
    let stateful_tasks = stateful(4);
    let stateless: BTreeSet<TaskId> = (0..2).map(|p| t(1, p)).collect();
    let all: Vec<TaskId> = stateful_tasks.union(&stateless).copied().collect();
    let mut i = input(
        vec![client(0, &all, &[]), client(1, &[], &[])],
        &stateful_tasks,
    );
    i.tasks.extend(stateless.iter().copied());
    let r = compute_assignment(&i);
    check(&i, &r);
    let new = &r.clients[&pid(1)];
    assert!(new.warmup.is_subset(&stateful_tasks));
    assert!(!new.warmup.is_empty());
    assert!(new.active.is_subset(&stateless), "{r:?}");
    assert!(
        !new.active.is_empty(),
        "stateless tasks balance the load: {r:?}"
    );
}

#[test]
fn with_no_caught_up_client_the_task_goes_to_the_least_lagging_one() {
    // Nobody runs the tasks; client 0 has most of both, client 1 nothing.
    let tasks = stateful(2);
    let i = input(
        vec![
            client(0, &[], &[(t(0, 0), 950_000), (t(0, 1), 950_000)]),
            client(1, &[], &[]),
        ],
        &tasks,
    );
    let r = compute_assignment(&i);
    check(&i, &r);
    assert_eq!(r.clients[&pid(0)].active, tasks);
    assert_eq!(r.clients[&pid(1)].warmup.len(), 1);
    assert!(r.probing_rebalance_needed);
}

#[test]
fn clients_equally_behind_get_the_balanced_assignment_without_warmups() {
    let tasks = stateful(4);
    let i = input(vec![client(0, &[], &[]), client(1, &[], &[])], &tasks);
    let r = compute_assignment(&i);
    check(&i, &r);
    assert_eq!(r.clients[&pid(0)].active.len(), 2);
    assert!(!r.probing_rebalance_needed);
}

#[test]
fn unknown_end_offsets_treat_every_client_as_caught_up() {
    let tasks = stateful(4);
    let mut i = input(
        vec![
            client(0, &tasks.iter().copied().collect::<Vec<_>>(), &[]),
            client(1, &[], &[]),
        ],
        &tasks,
    );
    i.task_end_offset_sums = None;
    let r = compute_assignment(&i);
    check(&i, &r);
    assert_eq!(r.clients[&pid(1)].active.len(), 2);
    assert!(r.clients.values().all(|c| c.standby.is_empty()));
    assert!(!r.probing_rebalance_needed);
}

#[test]
fn with_standby_replicas_the_target_keeps_a_standby_and_no_warmup_budget_is_used() {
    let tasks = stateful(4);
    let mut i = input(
        vec![
            client(0, &[t(0, 0), t(0, 1)], &[]),
            client(1, &[t(0, 2), t(0, 3)], &[]),
            client(2, &[], &[]),
        ],
        &tasks,
    );
    i.configs.num_standby_replicas = 1;
    let r = compute_assignment(&i);
    check(&i, &r);
    assert!(r.clients[&pid(2)].active.is_empty());
    assert!(r.clients[&pid(2)].standby.contains(&t(0, 3)));
    assert!(r.clients.values().all(|c| c.warmup.is_empty()));
    for task in &tasks {
        let copies = r
            .clients
            .values()
            .filter(|c| c.standby.contains(task))
            .count();
        assert_eq!(copies, 1, "{task}: {r:?}");
    }
    assert!(r.probing_rebalance_needed);
}

/// Clients (1..=3 threads each), tasks with their previous owner and per client an offset
/// sum for some tasks, then the configs.
fn lagged_group() -> impl Strategy<Value = AssignmentInput> {
    (
        proptest::collection::vec(1usize..=3, 1..=5),
        proptest::collection::btree_set((0u32..3, 0i32..6).prop_map(|(s, p)| t(s, p)), 0..16),
        0u32..3,
        1u32..4,
    )
        .prop_flat_map(|(threads, tasks, standbys, warmups)| {
            let n = tasks.len();
            let clients = threads.len();
            (
                Just(threads),
                Just(tasks),
                proptest::collection::vec(proptest::option::of(0..clients), n),
                proptest::collection::vec(proptest::option::of((0..clients, 0i64..1_200_000)), n),
                Just(standbys),
                Just(warmups),
            )
        })
        .prop_map(|(threads, tasks, owners, sums, standbys, warmups)| {
            let mut clients: BTreeMap<Uuid, ClientState> = BTreeMap::new();
            for (c, n) in threads.iter().enumerate() {
                let members = (0..*n)
                    .map(|m| (format!("c{c}-t{m}"), MemberState::default()))
                    .collect();
                clients.insert(
                    pid(c as u8),
                    ClientState {
                        members,
                        ..Default::default()
                    },
                );
            }
            for ((task, owner), sum) in tasks.iter().zip(&owners).zip(&sums) {
                if let Some(m) = owner
                    .and_then(|c| clients.get_mut(&pid(c as u8)))
                    .and_then(|c| c.members.values_mut().next())
                {
                    m.previous_active.insert(*task);
                }
                if let Some((c, s)) = sum {
                    if let Some(m) = clients
                        .get_mut(&pid(*c as u8))
                        .and_then(|c| c.members.values_mut().last())
                    {
                        m.previous_standby.insert(*task);
                        m.task_offset_sums.insert(*task, *s);
                    }
                }
            }
            let stateful_tasks: BTreeSet<TaskId> = tasks
                .iter()
                .filter(|t| t.subtopology != 2)
                .copied()
                .collect();
            AssignmentInput {
                task_end_offset_sums: Some(
                    stateful_tasks.iter().map(|t| (*t, 1_000_000)).collect(),
                ),
                stateful_tasks,
                tasks,
                clients,
                configs: AssignmentConfigs {
                    num_standby_replicas: standbys,
                    max_warmup_replicas: warmups,
                    ..Default::default()
                },
            }
        })
}

proptest! {
    #[test]
    fn any_lagged_group_is_assigned_completely_and_deterministically(i in lagged_group()) {
        let r = compute_assignment(&i);
        check(&i, &r);
        let clients = i.clients.len();
        let wanted = (i.configs.num_standby_replicas as usize).min(clients - 1);
        for task in &i.stateful_tasks {
            let copies = r.clients.values().filter(|c| c.standby.contains(task)).count();
            let warmup = r.clients.values().any(|c| c.warmup.contains(task));
            prop_assert_eq!(copies, wanted + usize::from(warmup), "{}: {:?}", task, r);
        }
        prop_assert_eq!(&r, &compute_assignment(&i), "deterministic");
        if r.clients.values().any(|c| !c.warmup.is_empty()) {
            prop_assert!(r.probing_rebalance_needed);
        }
    }
}
