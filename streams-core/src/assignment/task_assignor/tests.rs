use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

fn pid(n: u8) -> Uuid {
    Uuid([n; 16])
}

fn tasks(subtopologies: u32, partitions: i32) -> BTreeSet<TaskId> {
    (0..subtopologies)
        .flat_map(|s| (0..partitions).map(move |p| TaskId::new(s, p)))
        .collect()
}

/// `threads[i]` members on client `i`, named `c<i>-t<j>`, owning nothing.
fn fresh_clients(threads: &[usize]) -> BTreeMap<Uuid, ClientState> {
    threads
        .iter()
        .enumerate()
        .map(|(c, n)| {
            let members = (0..*n)
                .map(|t| (format!("c{c}-t{t}"), MemberState::default()))
                .collect();
            (
                pid(c as u8),
                ClientState {
                    members,
                    ..Default::default()
                },
            )
        })
        .collect()
}

fn input(clients: BTreeMap<Uuid, ClientState>, tasks: BTreeSet<TaskId>) -> AssignmentInput {
    AssignmentInput {
        clients,
        tasks,
        ..Default::default()
    }
}

/// Each member's active tasks, by member id.
fn by_member(result: &BTreeMap<Uuid, ClientTasks>) -> BTreeMap<String, BTreeSet<TaskId>> {
    result
        .values()
        .flat_map(|c| c.members.iter().map(|(m, t)| (m.clone(), t.active.clone())))
        .collect()
}

/// The next generation's input: every member owns what it was given.
fn owning(
    mut clients: BTreeMap<Uuid, ClientState>,
    result: &BTreeMap<Uuid, ClientTasks>,
) -> BTreeMap<Uuid, ClientState> {
    let given = by_member(result);
    for client in clients.values_mut() {
        for (id, member) in client.members.iter_mut() {
            member.previous_active = given.get(id).cloned().unwrap_or_default();
        }
    }
    clients
}

/// Every task exactly once, per-member counts within one of each other, client totals equal
/// to the sum of their members.
fn check_invariants(input: &AssignmentInput, result: &BTreeMap<Uuid, ClientTasks>) {
    let mut seen = BTreeSet::new();
    for client in result.values() {
        let mut union = BTreeSet::new();
        for tasks in client.members.values() {
            for t in &tasks.active {
                assert!(seen.insert(*t), "task {t} assigned twice");
                union.insert(*t);
            }
        }
        assert_eq!(union, client.active);
    }
    let members: usize = input.clients.values().map(ClientState::capacity).sum();
    if members > 0 {
        assert_eq!(seen, input.tasks, "every task assigned");
        let counts: Vec<usize> = by_member(result).values().map(BTreeSet::len).collect();
        let (min, max) = (counts.iter().min(), counts.iter().max());
        assert!(
            max.zip(min).is_some_and(|(max, min)| max - min <= 1),
            "unbalanced: {counts:?}"
        );
    }
}

/// How many tasks changed member between two results, among those whose previous owner is
/// still a member.
fn moves(before: &BTreeMap<Uuid, ClientTasks>, after: &BTreeMap<Uuid, ClientTasks>) -> usize {
    let owner = |r: &BTreeMap<Uuid, ClientTasks>| -> BTreeMap<TaskId, String> {
        by_member(r)
            .into_iter()
            .flat_map(|(m, ts)| ts.into_iter().map(move |t| (t, m.clone())))
            .collect()
    };
    let (b, a) = (owner(before), owner(after));
    let members = by_member(after);
    a.iter()
        .filter(|(t, m)| {
            b.get(*t)
                .is_some_and(|old| old != *m && members.contains_key(old))
        })
        .count()
}

fn client_counts(result: &BTreeMap<Uuid, ClientTasks>) -> Vec<usize> {
    result.values().map(|c| c.active.len()).collect()
}

#[test]
fn one_client_with_one_thread_gets_every_task() {
    let i = input(fresh_clients(&[1]), tasks(2, 3));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
    assert_eq!(r[&pid(0)].active, tasks(2, 3));
}

#[test]
fn three_clients_with_two_threads_each_share_tasks_evenly() {
    for n in [6, 7, 12, 13] {
        let i = input(fresh_clients(&[2, 2, 2]), tasks(1, n));
        let r = assign_tasks(&i);
        check_invariants(&i, &r);
        let counts = client_counts(&r);
        assert!(counts
            .iter()
            .max()
            .zip(counts.iter().min())
            .is_some_and(|(a, b)| a - b <= 2));
    }
}

#[test]
fn clients_with_one_to_four_threads_get_tasks_in_proportion() {
    let i = input(fresh_clients(&[1, 2, 3, 4]), tasks(4, 5));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
    assert_eq!(client_counts(&r), vec![2, 4, 6, 8]);
}

#[test]
fn seven_tasks_over_three_clients_split_three_two_two() {
    let i = input(fresh_clients(&[1, 1, 1]), tasks(1, 7));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
    let mut counts = client_counts(&r);
    counts.sort();
    assert_eq!(counts, vec![2, 2, 3]);
}

#[test]
fn more_clients_than_tasks_leaves_some_idle_and_none_doubled() {
    let i = input(fresh_clients(&[1, 1, 1, 1, 1]), tasks(1, 3));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
    let mut counts = client_counts(&r);
    counts.sort();
    assert_eq!(counts, vec![0, 0, 1, 1, 1]);
}

#[test]
fn with_no_members_nothing_is_assigned() {
    let r = assign_tasks(&input(BTreeMap::new(), tasks(1, 3)));
    assert!(r.is_empty());
}

#[test]
fn tasks_of_a_subtopology_spread_over_members() {
    let i = input(fresh_clients(&[1, 1]), tasks(2, 2));
    let r = assign_tasks(&i);
    for client in r.values() {
        let subtopologies: BTreeSet<u32> = client.active.iter().map(|t| t.subtopology).collect();
        assert_eq!(
            subtopologies.len(),
            2,
            "each client gets one task of each: {r:?}"
        );
    }
}

#[test]
fn a_leaving_member_only_moves_its_own_tasks() {
    let clients = fresh_clients(&[2, 1, 3]);
    let all = tasks(3, 4);
    let first = assign_tasks(&input(clients.clone(), all.clone()));
    let mut next = owning(clients, &first);
    let gone: BTreeSet<TaskId> = next
        .get_mut(&pid(2))
        .and_then(|c| c.members.remove("c2-t1"))
        .map(|m| m.previous_active)
        .unwrap_or_default();
    assert!(!gone.is_empty());
    let i = input(next, all);
    let second = assign_tasks(&i);
    check_invariants(&i, &second);
    assert_eq!(moves(&first, &second), 0, "no task moves between survivors");
    let before = by_member(&first);
    for (member, now) in by_member(&second) {
        let added: BTreeSet<TaskId> = now.difference(&before[&member]).copied().collect();
        assert!(
            added.is_subset(&gone),
            "{member} took {added:?}, not the leaver's"
        );
        assert!(before[&member].is_subset(&now), "{member} kept all it had");
    }
}

#[test]
fn a_whole_client_leaving_only_moves_its_tasks() {
    let clients = fresh_clients(&[2, 2, 2]);
    let all = tasks(2, 6);
    let first = assign_tasks(&input(clients.clone(), all.clone()));
    let mut next = owning(clients, &first);
    next.remove(&pid(1));
    let i = input(next, all);
    let second = assign_tasks(&i);
    check_invariants(&i, &second);
    assert_eq!(moves(&first, &second), 0);
}

#[test]
fn a_joining_member_takes_only_enough_tasks_to_balance() {
    // 12 tasks over 3 single-thread clients: 4 each. A fourth joins: 3 each, 3 tasks move.
    let clients = fresh_clients(&[1, 1, 1]);
    let all = tasks(1, 12);
    let first = assign_tasks(&input(clients.clone(), all.clone()));
    let mut next = owning(clients, &first);
    let mut joiner = ClientState::default();
    joiner
        .members
        .insert("c3-t0".into(), MemberState::default());
    next.insert(pid(3), joiner);
    let i = input(next, all);
    let second = assign_tasks(&i);
    check_invariants(&i, &second);
    assert_eq!(moves(&first, &second), 3);
    assert_eq!(second[&pid(3)].active.len(), 3);
}

#[test]
fn a_task_released_by_a_member_goes_to_another_thread_of_its_client() {
    // c0-t0 owns 0_2 and 0_3, c1-t0 owns 0_0 and 0_1; each client starts a second thread.
    // Each old thread keeps one task and the one it releases goes to its own client's new
    // thread, not across (0_1 is placed first and would otherwise go to c0-t1).
    let mut clients = fresh_clients(&[2, 2]);
    let own = |c: &mut BTreeMap<Uuid, ClientState>, p: u8, m: &str, ts: &[i32]| {
        if let Some(member) = c.get_mut(&pid(p)).and_then(|c| c.members.get_mut(m)) {
            member.previous_active = ts.iter().map(|t| TaskId::new(0, *t)).collect();
        }
    };
    own(&mut clients, 0, "c0-t0", &[2, 3]);
    own(&mut clients, 1, "c1-t0", &[0, 1]);
    let i = input(clients, tasks(1, 4));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
    assert_eq!(
        r[&pid(0)].active,
        [TaskId::new(0, 2), TaskId::new(0, 3)].into()
    );
    assert_eq!(
        r[&pid(1)].active,
        [TaskId::new(0, 0), TaskId::new(0, 1)].into()
    );
    assert_eq!(
        r[&pid(1)].members["c1-t1"].active,
        [TaskId::new(0, 1)].into()
    );
}

#[test]
fn a_new_partition_becomes_a_task_without_moving_others() {
    let clients = fresh_clients(&[1, 1, 1]);
    let first = assign_tasks(&input(clients.clone(), tasks(1, 5)));
    let i = input(owning(clients, &first), tasks(1, 6));
    let second = assign_tasks(&i);
    check_invariants(&i, &second);
    assert_eq!(moves(&first, &second), 0);
    assert!(second
        .values()
        .any(|c| c.active.contains(&TaskId::new(0, 5))));
}

#[test]
fn a_task_that_no_longer_exists_is_dropped() {
    let mut clients = fresh_clients(&[1]);
    if let Some(c) = clients.get_mut(&pid(0)) {
        c.members
            .values_mut()
            .for_each(|m| m.previous_active = tasks(1, 5));
    }
    let r = assign_tasks(&input(clients, tasks(1, 3)));
    assert_eq!(r[&pid(0)].active, tasks(1, 3));
}

#[test]
fn a_task_claimed_by_two_members_goes_to_one() {
    let mut clients = fresh_clients(&[1, 1]);
    for c in clients.values_mut() {
        c.members
            .values_mut()
            .for_each(|m| m.previous_active = tasks(1, 2));
    }
    let i = input(clients, tasks(1, 2));
    let r = assign_tasks(&i);
    check_invariants(&i, &r);
}

#[test]
fn a_moving_stateful_task_prefers_a_client_with_its_standby() {
    let mut clients = fresh_clients(&[1, 1, 1]);
    let task = TaskId::new(0, 0);
    if let Some(c) = clients.get_mut(&pid(2)) {
        c.members
            .values_mut()
            .for_each(|m| m.previous_standby = [task].into());
    }
    let i = AssignmentInput {
        clients,
        tasks: [task].into(),
        stateful_tasks: [task].into(),
        ..Default::default()
    };
    let r = assign_tasks(&i);
    assert!(r[&pid(2)].active.contains(&task), "{r:?}");
}

#[test]
fn the_same_input_gives_the_same_output_whatever_the_insertion_order() {
    let forward = fresh_clients(&[3, 1, 2]);
    let mut backward = BTreeMap::new();
    for (id, c) in forward.iter().rev() {
        let members: BTreeMap<String, MemberState> = c
            .members
            .iter()
            .rev()
            .map(|(m, s)| (m.clone(), s.clone()))
            .collect();
        backward.insert(
            *id,
            ClientState {
                members,
                ..Default::default()
            },
        );
    }
    let a = assign_tasks(&input(forward, tasks(3, 7)));
    let b = assign_tasks(&input(backward, tasks(3, 7)));
    assert_eq!(a, b);
    assert_eq!(
        a,
        assign_tasks(&input(fresh_clients(&[3, 1, 2]), tasks(3, 7)))
    );
}

#[test]
fn without_standby_replicas_or_lags_there_are_no_standbys_and_no_probing() {
    let mut i = input(fresh_clients(&[1, 1]), tasks(1, 2));
    i.stateful_tasks = i.tasks.clone();
    let r = compute_assignment(&i);
    assert!(r.clients.values().all(|c| c.standby.is_empty()));
    assert!(!r.probing_rebalance_needed);
}

/// A group: per client a thread count (1..=4), per task its previous owner (a member index
/// or none), and a number of tasks.
fn group() -> impl Strategy<Value = (Vec<usize>, Vec<Option<usize>>, BTreeSet<TaskId>)> {
    (
        proptest::collection::vec(1usize..=4, 1..=6),
        proptest::collection::btree_set(
            (0u32..4, 0i32..12).prop_map(|(s, p)| TaskId::new(s, p)),
            0..40,
        ),
    )
        .prop_flat_map(|(threads, tasks)| {
            let members: usize = threads.iter().sum();
            let owners = proptest::collection::vec(proptest::option::of(0..members), tasks.len());
            (Just(threads), owners, Just(tasks))
        })
}

fn build(threads: &[usize], owners: &[Option<usize>], all: &BTreeSet<TaskId>) -> AssignmentInput {
    let mut clients = fresh_clients(threads);
    let names: Vec<(Uuid, String)> = clients
        .iter()
        .flat_map(|(id, c)| c.members.keys().map(move |m| (*id, m.clone())))
        .collect();
    for (task, owner) in all.iter().zip(owners) {
        if let Some((id, m)) = owner.and_then(|o| names.get(o)) {
            if let Some(member) = clients.get_mut(id).and_then(|c| c.members.get_mut(m)) {
                member.previous_active.insert(*task);
            }
        }
    }
    input(clients, all.clone())
}

proptest! {
    #[test]
    fn any_group_gets_every_task_once_balanced_per_thread((threads, owners, all) in group()) {
        let i = build(&threads, &owners, &all);
        let r = assign_tasks(&i);
        check_invariants(&i, &r);
        prop_assert_eq!(&r, &assign_tasks(&i), "deterministic");
    }

    #[test]
    fn any_group_keeps_the_most_previous_tasks_balance_allows((threads, owners, all) in group()) {
        let i = build(&threads, &owners, &all);
        let r = assign_tasks(&i);
        let members: Vec<&MemberState> =
            i.clients.values().flat_map(|c| c.members.values()).collect();
        let (base, extra) = (all.len() / members.len(), all.len() % members.len());
        let owned: Vec<usize> = members.iter().map(|m| m.previous_active.len()).collect();
        let best = owned.iter().map(|n| (*n).min(base)).sum::<usize>()
            + owned.iter().filter(|n| **n > base).count().min(extra);
        let given = by_member(&r);
        let kept: usize = i
            .clients
            .values()
            .flat_map(|c| c.members.iter())
            .map(|(id, m)| m.previous_active.intersection(&given[id]).count())
            .sum();
        prop_assert_eq!(kept, best);
    }
}
