use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kafka_wire::group::{Assignment, Assignor, FollowUp, MemberSubscription, Subscription};
use kafka_wire::protocol::Uuid;
use kafka_wire::TopicPartition;

use super::*;
use crate::assignment::topology_info::SubtopologyInfo;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Sub-topology 0 reads `in` (4 partitions) and writes `app-r-repartition`; sub-topology 1
/// reads it and keeps a store.
fn topology() -> Arc<TopologyInfo> {
    Arc::new(
        TopologyInfo::new(
            "app",
            vec![
                SubtopologyInfo {
                    id: 0,
                    source_topics: strings(&["in"]),
                    sink_repartition_topics: strings(&["app-r-repartition"]),
                    ..Default::default()
                },
                SubtopologyInfo {
                    id: 1,
                    source_topics: strings(&["app-r-repartition"]),
                    changelog_topics: strings(&["app-s-changelog"]),
                    ..Default::default()
                },
            ],
        )
        .expect("valid"),
    )
}

fn counts(n: i32) -> BTreeMap<String, i32> {
    [("in".to_string(), n)].into()
}

fn assignor() -> StreamsAssignor {
    StreamsAssignor::new(topology(), Uuid::ZERO, AssignorHandle::new())
}

/// A member of process `process` that owns `owned` partitions (cooperative) and says it owns
/// the tasks reading them.
fn member(id: &str, process: u8, owned: &[TopicPartition]) -> MemberSubscription {
    let handle = AssignorHandle::new();
    let plan = plan_tasks(&topology(), &counts(4)).expect("plans");
    let tasks = owned
        .iter()
        .filter_map(|tp| plan.task_of_partition.get(tp).copied())
        .collect();
    handle.set_owned_tasks(tasks, BTreeSet::new());
    let a = StreamsAssignor::new(topology(), Uuid([process; 16]), handle)
        .with_endpoint(format!("host{process}:80"));
    MemberSubscription {
        member_id: id.to_owned(),
        group_instance_id: None,
        subscription: Subscription {
            topics: strings(&["in", "app-r-repartition"]),
            user_data: a.subscription_user_data(&[], owned, 1),
            owned_partitions: owned.to_vec(),
            generation_id: 1,
            rack_id: None,
        },
    }
}

fn info(a: &Assignment) -> AssignmentInfo {
    AssignmentInfo::decode(a.user_data.as_deref().unwrap_or_default()).expect("decodes")
}

/// Every partition goes to at most one member, and each member's partitions are those of its
/// active tasks.
fn check(result: &BTreeMap<String, Assignment>) {
    let mut seen = BTreeSet::new();
    for (m, a) in result {
        for tp in &a.partitions {
            assert!(seen.insert(tp.clone()), "{tp} given twice (to {m})");
        }
        assert_eq!(info(a).active_partitions(), a.partitions);
    }
}

fn all_partitions(result: &BTreeMap<String, Assignment>) -> BTreeSet<TopicPartition> {
    result
        .values()
        .flat_map(|a| a.partitions.iter().cloned())
        .collect()
}

#[test]
fn the_assignor_is_called_stream_and_prefers_cooperative() {
    let a = assignor();
    assert_eq!(a.name(), "stream");
    assert_eq!(
        a.supported_protocols().last(),
        Some(&RebalanceProtocol::Cooperative)
    );
    assert_eq!(
        a.extra_topics(&[]),
        strings(&["app-r-repartition", "app-s-changelog"])
    );
}

#[test]
fn a_fresh_group_gets_every_source_partition_once() {
    let members = vec![
        member("a", 1, &[]),
        member("b", 1, &[]),
        member("c", 2, &[]),
    ];
    let result = assignor().assign(&counts(4), &members).expect("assigns");
    check(&result);
    assert_eq!(
        all_partitions(&result).len(),
        8,
        "in and app-r-repartition, 4 each"
    );
    let tasks: usize = result.values().map(|a| info(a).active_tasks.len()).sum();
    assert_eq!(tasks, 8);
    for a in result.values() {
        let i = info(a);
        assert!(
            (2..=3).contains(&i.active_tasks.len()),
            "8 tasks over 3 threads"
        );
        assert_eq!(i.follow_up_rebalance_after, None);
        assert_eq!(i.partitions_by_host.len(), 2, "both endpoints listed");
    }
}

#[test]
fn a_missing_source_topic_gives_every_member_incomplete_source_topic_metadata() {
    let members = vec![member("a", 1, &[]), member("b", 2, &[])];
    let result = assignor()
        .assign(&BTreeMap::new(), &members)
        .expect("assigns");
    assert_eq!(result.len(), 2);
    for a in result.values() {
        assert!(a.partitions.is_empty());
        assert_eq!(
            info(a).error_code,
            AssignmentErrorCode::IncompleteSourceTopicMetadata
        );
    }
}

#[test]
fn topics_that_are_not_copartitioned_give_every_member_an_assignment_error() {
    let t = TopologyInfo::new(
        "app",
        vec![SubtopologyInfo {
            id: 0,
            source_topics: strings(&["l", "r"]),
            copartition_groups: vec![strings(&["l", "r"])],
            ..Default::default()
        }],
    )
    .expect("valid");
    let a = StreamsAssignor::new(Arc::new(t), Uuid::ZERO, AssignorHandle::new());
    let partitions = [("l".to_string(), 2), ("r".to_string(), 3)].into();
    let result = a
        .assign(&partitions, &[member("a", 1, &[])])
        .expect("assigns");
    assert_eq!(
        info(&result["a"]).error_code,
        AssignmentErrorCode::AssignmentError
    );
}

#[test]
fn a_member_without_streams_data_is_an_error_naming_it() {
    let mut m = member("zombie", 1, &[]);
    m.subscription.user_data = None;
    let err = assignor().assign(&counts(4), &[m]).expect_err("refused");
    assert!(
        err.to_string()
            .contains("member zombie sent no streams subscription data"),
        "{err}"
    );
    let mut m = member("garbled", 1, &[]);
    m.subscription.user_data = Some(Bytes::from_static(b"\x00\x00\x00\x01\x00"));
    let err = assignor().assign(&counts(4), &[m]).expect_err("refused");
    assert!(
        err.to_string()
            .contains("garbled's subscription data is unreadable"),
        "{err}"
    );
}

#[test]
fn a_moved_task_is_withheld_for_one_generation_then_given() {
    // Generation 1: "a" alone owns everything.
    let first = assignor()
        .assign(&counts(4), &[member("a", 1, &[])])
        .expect("assigns");
    let owned_by_a = first["a"].partitions.clone();
    assert_eq!(owned_by_a.len(), 8);

    // Generation 2: "b" (another instance) joins; "a" still owns everything.
    let members = vec![member("a", 1, &owned_by_a), member("b", 2, &[])];
    let second = assignor().assign(&counts(4), &members).expect("assigns");
    check(&second);
    assert!(
        second["b"].partitions.is_empty(),
        "nothing a owns goes to b yet"
    );
    assert_eq!(
        second["a"].partitions.len(),
        4,
        "a keeps its share, gives up the rest"
    );
    assert_eq!(
        info(&second["a"]).follow_up_rebalance_after,
        Some(Duration::ZERO),
        "the revoking member rejoins at once"
    );
    assert_eq!(info(&second["b"]).follow_up_rebalance_after, None);

    // Generation 3: "a" revoked what it lost; "b" gets exactly that.
    let members = vec![member("a", 1, &second["a"].partitions), member("b", 2, &[])];
    let third = assignor().assign(&counts(4), &members).expect("assigns");
    check(&third);
    assert_eq!(
        third["a"].partitions, second["a"].partitions,
        "a keeps its tasks"
    );
    let released: BTreeSet<TopicPartition> = owned_by_a
        .iter()
        .filter(|tp| !second["a"].partitions.contains(tp))
        .cloned()
        .collect();
    assert_eq!(
        third["b"]
            .partitions
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>(),
        released
    );
    assert!(third
        .values()
        .all(|a| info(a).follow_up_rebalance_after.is_none()));
}

#[test]
fn under_eager_nothing_is_withheld() {
    // Eager members send no owned partitions, only their previous tasks.
    let first = assignor()
        .assign(&counts(4), &[member("a", 1, &[])])
        .expect("assigns");
    let mut a = member("a", 1, &first["a"].partitions);
    a.subscription.owned_partitions.clear();
    let second = assignor()
        .assign(&counts(4), &[a, member("b", 2, &[])])
        .expect("assigns");
    assert_eq!(all_partitions(&second).len(), 8);
}

#[test]
fn a_partition_is_never_given_while_another_member_owns_it_over_generations() {
    // Members come and go over several generations; each owns what it was given last.
    let schedule: [&[(&str, u8)]; 6] = [
        &[("a", 1)],
        &[("a", 1), ("b", 2)],
        &[("a", 1), ("b", 2), ("c", 2)],
        &[("b", 2), ("c", 2)],
        &[("b", 2), ("c", 2), ("d", 3)],
        &[("b", 2), ("c", 2), ("d", 3)],
    ];
    let mut owned: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
    for generation in schedule {
        // Two rounds per membership: the second hands over what the first withheld.
        for _ in 0..2 {
            let members: Vec<MemberSubscription> = generation
                .iter()
                .map(|(id, p)| member(id, *p, owned.get(*id).map_or(&[][..], Vec::as_slice)))
                .collect();
            let result = assignor().assign(&counts(4), &members).expect("assigns");
            check(&result);
            for (m, a) in &result {
                for tp in &a.partitions {
                    let other = owned.iter().find(|(o, ps)| {
                        *o != m && ps.contains(tp) && generation.iter().any(|(g, _)| g == *o)
                    });
                    assert!(other.is_none(), "{tp} given to {m} while {other:?} owns it");
                }
            }
            owned = result.into_iter().map(|(m, a)| (m, a.partitions)).collect();
        }
        let all: usize = owned.values().map(Vec::len).sum();
        assert_eq!(all, 8, "after the second round every partition is owned");
    }
}

#[test]
fn on_assignment_stores_the_tasks_and_asks_for_the_follow_up() {
    let a = assignor();
    let info = AssignmentInfo {
        active_tasks: [(TaskId::new(0, 1), vec![TopicPartition::new("in", 1)])].into(),
        follow_up_rebalance_after: Some(Duration::from_secs(600)),
        ..AssignmentInfo::error(AssignmentErrorCode::None)
    };
    let assignment = Assignment {
        partitions: vec![TopicPartition::new("in", 1)],
        user_data: Some(info.encode()),
    };
    assert_eq!(
        a.on_assignment(&assignment, 7),
        FollowUp::rebalance_after(Duration::from_secs(600))
    );
    let latest = a.handle().latest_assignment().expect("stored");
    assert_eq!(latest.generation, 7);
    assert_eq!(latest.info, Ok(info));

    let garbage = Assignment {
        partitions: Vec::new(),
        user_data: Some(Bytes::from_static(b"\xff")),
    };
    assert_eq!(a.on_assignment(&garbage, 8), FollowUp::NONE);
    assert!(a
        .handle()
        .latest_assignment()
        .is_some_and(|l| l.info.is_err()));
}

#[test]
fn the_subscription_reports_what_the_thread_owns() {
    let handle = AssignorHandle::new();
    let a = StreamsAssignor::new(topology(), Uuid([9; 16]), handle.clone()).with_endpoint("h:1");
    handle.set_owned_tasks([TaskId::new(1, 2)].into(), [TaskId::new(0, 0)].into());
    handle.set_task_offset_sums(Some([(TaskId::new(0, 0), 10)].into()));
    let data = a.subscription_user_data(&[], &[], 3).expect("user data");
    let info = SubscriptionInfo::decode(&data).expect("decodes");
    assert_eq!(info.process_id, Uuid([9; 16]));
    assert_eq!(info.previous_active, [TaskId::new(1, 2)].into());
    assert_eq!(info.previous_standby, [TaskId::new(0, 0)].into());
    assert_eq!(
        info.task_offset_sums,
        Some([(TaskId::new(0, 0), 10)].into())
    );
    assert_eq!(info.endpoint.as_deref(), Some("h:1"));
}

#[test]
fn a_member_asking_for_shutdown_shuts_every_member_down() {
    let mut m = member("a", 1, &[]);
    let mut i = SubscriptionInfo::new(Uuid([1; 16]));
    i.error_code = AssignmentErrorCode::ShutdownRequested;
    m.subscription.user_data = Some(i.encode());
    let result = assignor()
        .assign(&counts(4), &[m, member("b", 2, &[])])
        .expect("assigns");
    assert!(result
        .values()
        .all(|a| info(a).error_code == AssignmentErrorCode::ShutdownRequested));
}
