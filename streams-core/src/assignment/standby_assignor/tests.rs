use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::protocol::Uuid;

use crate::assignment::assignment_configs::AssignmentConfigs;
use crate::assignment::task_assignor::{
    compute_assignment, AssignmentInput, ClientState, MemberState, TaskAssignment,
};
use crate::TaskId;

fn pid(n: u8) -> Uuid {
    Uuid([n; 16])
}

/// Clients `0..threads.len()` with `threads[i]` members, tagged with `tags[i]` if given.
fn clients(threads: &[usize], tags: &[&[(&str, &str)]]) -> BTreeMap<Uuid, ClientState> {
    threads
        .iter()
        .enumerate()
        .map(|(c, n)| {
            let members = (0..*n)
                .map(|m| (format!("c{c}-t{m}"), MemberState::default()))
                .collect();
            let client_tags = tags
                .get(c)
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            (
                pid(c as u8),
                ClientState {
                    members,
                    client_tags,
                },
            )
        })
        .collect()
}

fn stateful(n: i32) -> BTreeSet<TaskId> {
    (0..n).map(|p| TaskId::new(0, p)).collect()
}

fn input(clients: BTreeMap<Uuid, ClientState>, n: i32, standbys: u32) -> AssignmentInput {
    AssignmentInput {
        clients,
        tasks: stateful(n),
        stateful_tasks: stateful(n),
        task_end_offset_sums: None,
        configs: AssignmentConfigs {
            num_standby_replicas: standbys,
            ..Default::default()
        },
    }
}

/// Per task, the clients holding it as active and as standby.
fn holders(r: &TaskAssignment) -> BTreeMap<TaskId, (Uuid, Vec<Uuid>)> {
    let mut out: BTreeMap<TaskId, (Uuid, Vec<Uuid>)> = BTreeMap::new();
    for (id, c) in &r.clients {
        for t in &c.active {
            out.entry(*t).or_insert((Uuid::ZERO, Vec::new())).0 = *id;
        }
    }
    for (id, c) in &r.clients {
        for t in &c.standby {
            if let Some(entry) = out.get_mut(t) {
                entry.1.push(*id);
            }
        }
    }
    out
}

#[test]
fn n_standbys_on_other_clients_than_the_active_when_there_are_enough_clients() {
    let i = input(clients(&[2, 2, 2, 2], &[]), 12, 2);
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_eq!(standbys.len(), 2, "{task}");
        assert!(
            !standbys.contains(&active),
            "{task} standby beside its active"
        );
        let distinct: BTreeSet<&Uuid> = standbys.iter().collect();
        assert_eq!(distinct.len(), 2, "{task}: two copies on one client");
    }
    // 12 actives and 24 standbys over four equal clients: about 9 tasks each, spread evenly
    // over each client's threads.
    for c in r.clients.values() {
        let total = c.active.len() + c.standby.len();
        assert!((8..=10).contains(&total), "{total}: {r:?}");
        let loads: Vec<usize> = c
            .members
            .values()
            .map(|m| m.active.len() + m.standby.len())
            .collect();
        let (min, max) = (loads.iter().min(), loads.iter().max());
        assert!(min.zip(max).is_some_and(|(a, b)| b - a <= 1), "{loads:?}");
    }
    assert!(!r.probing_rebalance_needed);
}

#[test]
fn with_too_few_clients_a_task_gets_as_many_standbys_as_there_are_other_clients() {
    let i = input(clients(&[1, 1], &[]), 4, 3);
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_eq!(standbys.len(), 1, "{task}");
        assert_ne!(standbys[0], active);
    }
    let one = input(clients(&[3], &[]), 4, 1);
    let r = compute_assignment(&one);
    assert!(r.clients.values().all(|c| c.standby.is_empty()));
}

#[test]
fn stateless_tasks_get_no_standbys() {
    let mut i = input(clients(&[1, 1, 1], &[]), 2, 1);
    i.tasks.extend((0..3).map(|p| TaskId::new(1, p)));
    let r = compute_assignment(&i);
    for c in r.clients.values() {
        assert!(c.standby.iter().all(|t| t.subtopology == 0), "{r:?}");
    }
    let standbys: usize = r.clients.values().map(|c| c.standby.len()).sum();
    assert_eq!(standbys, 2);
}

#[test]
fn a_standby_returns_to_the_client_and_member_that_held_it() {
    let mut cs = clients(&[1, 1, 2], &[]);
    let task = TaskId::new(0, 0);
    if let Some(m) = cs.get_mut(&pid(0)).and_then(|c| c.members.get_mut("c0-t0")) {
        m.previous_active.insert(task);
    }
    if let Some(m) = cs.get_mut(&pid(2)).and_then(|c| c.members.get_mut("c2-t1")) {
        m.previous_standby.insert(task);
    }
    let i = input(cs, 1, 1);
    let r = compute_assignment(&i);
    assert!(r.clients[&pid(0)].active.contains(&task));
    assert_eq!(
        r.clients[&pid(2)].members["c2-t1"].standby,
        [task].into(),
        "{r:?}"
    );
}

#[test]
fn a_standby_prefers_the_client_with_the_smallest_lag() {
    let mut cs = clients(&[1, 1, 1, 1], &[]);
    let task = TaskId::new(0, 0);
    let sums = [(1u8, 10_000i64), (2, 990_000), (3, 500_000)];
    for (c, sum) in sums {
        if let Some(m) = cs
            .get_mut(&pid(c))
            .and_then(|c| c.members.values_mut().next())
        {
            m.task_offset_sums.insert(task, sum);
        }
    }
    if let Some(m) = cs
        .get_mut(&pid(0))
        .and_then(|c| c.members.values_mut().next())
    {
        m.previous_active.insert(task);
    }
    let mut i = input(cs, 1, 1);
    i.task_end_offset_sums = Some([(task, 1_000_000)].into());
    let r = compute_assignment(&i);
    assert!(r.clients[&pid(0)].active.contains(&task));
    assert_eq!(r.clients[&pid(2)].standby, [task].into(), "{r:?}");
}

/// Kafka's example: zones a, b, c in two clusters.
fn zoned() -> BTreeMap<Uuid, ClientState> {
    clients(
        &[1, 1, 1, 1, 1, 1],
        &[
            &[("zone", "a"), ("cluster", "k1")],
            &[("zone", "b"), ("cluster", "k1")],
            &[("zone", "c"), ("cluster", "k1")],
            &[("zone", "a"), ("cluster", "k2")],
            &[("zone", "b"), ("cluster", "k2")],
            &[("zone", "c"), ("cluster", "k2")],
        ],
    )
}

fn tag<'a>(i: &'a AssignmentInput, client: &Uuid, key: &str) -> &'a str {
    i.clients[client].client_tags[key].as_str()
}

#[test]
fn rack_aware_standbys_go_to_other_tag_values_than_the_active() {
    let mut i = input(zoned(), 6, 1);
    i.configs.rack_aware_assignment_tags = vec!["zone".into(), "cluster".into()];
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_eq!(standbys.len(), 1);
        for key in ["zone", "cluster"] {
            assert_ne!(
                tag(&i, &active, key),
                tag(&i, &standbys[0], key),
                "{task} {key}"
            );
        }
    }

    // Two standbys: three distinct zones; the first standby also leaves the cluster.
    i.configs.num_standby_replicas = 2;
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_eq!(standbys.len(), 2);
        let zones: BTreeSet<&str> = std::iter::once(&active)
            .chain(&standbys)
            .map(|c| tag(&i, c, "zone"))
            .collect();
        assert_eq!(zones.len(), 3, "{task}: {zones:?}");
        let clusters: BTreeSet<&str> = std::iter::once(&active)
            .chain(&standbys)
            .map(|c| tag(&i, c, "cluster"))
            .collect();
        assert_eq!(clusters.len(), 2, "{task}");
    }
}

#[test]
fn only_the_listed_tags_constrain_standbys() {
    let mut i = input(
        clients(
            &[1, 1, 1],
            &[
                &[("zone", "a"), ("host", "h1")],
                &[("zone", "a"), ("host", "h2")],
                &[("zone", "b"), ("host", "h3")],
            ],
        ),
        3,
        1,
    );
    i.configs.rack_aware_assignment_tags = vec!["zone".into()];
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_ne!(
            tag(&i, &active, "zone"),
            tag(&i, &standbys[0], "zone"),
            "{task}: {r:?}"
        );
    }
}

#[test]
fn when_no_client_has_other_tag_values_standbys_still_go_to_other_clients() {
    let one_zone: &[(&str, &str)] = &[("zone", "a")];
    let mut i = input(clients(&[1, 1, 1], &[one_zone, one_zone, one_zone]), 3, 1);
    i.configs.rack_aware_assignment_tags = vec!["zone".into()];
    let r = compute_assignment(&i);
    for (task, (active, standbys)) in holders(&r) {
        assert_eq!(standbys.len(), 1, "{task}");
        assert_ne!(standbys[0], active);
    }
}

#[test]
fn standby_placement_is_deterministic() {
    let mut i = input(zoned(), 9, 2);
    i.configs.rack_aware_assignment_tags = vec!["zone".into()];
    let a = compute_assignment(&i);
    let mut reversed = i.clone();
    reversed.clients = i
        .clients
        .iter()
        .rev()
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    assert_eq!(a, compute_assignment(&reversed));
    assert_eq!(a, compute_assignment(&i));
}
