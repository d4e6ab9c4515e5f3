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

/// A member of process `process` (no owned partitions: eager) that ran `tasks` as active.
fn member_running(id: &str, process: u8, tasks: &BTreeSet<TaskId>) -> MemberSubscription {
    let mut m = member(id, process, &[]);
    let mut info = SubscriptionInfo::new(Uuid([process; 16]));
    info.previous_active = tasks.clone();
    m.subscription.user_data = Some(info.encode());
    m
}

/// End offsets a test sets as if the leader's `prepare` had fetched them.
#[derive(Debug)]
struct FakeEndOffsets;

impl ChangelogEndOffsets for FakeEndOffsets {
    fn end_offsets<'a>(
        &'a self,
        _context: &'a LeaderContext,
        _changelog_topics: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, EndOffsetsError>> {
        Box::pin(async { Ok(BTreeMap::new()) })
    }
}

/// The assignor of the leader (process 1), with `fetched` as its `prepare` step's result.
fn leader_with(
    fetched: Result<BTreeMap<TopicPartition, i64>, EndOffsetsError>,
    configs: AssignmentConfigs,
) -> StreamsAssignor {
    let a = StreamsAssignor::new(topology(), Uuid([1; 16]), AssignorHandle::new())
        .with_configs(configs)
        .with_changelog_end_offsets(Arc::new(FakeEndOffsets));
    *a.fetched.lock().unwrap_or_else(PoisonError::into_inner) = Some(fetched);
    a
}

fn all_tasks() -> BTreeSet<TaskId> {
    plan_tasks(&topology(), &counts(4))
        .expect("plans")
        .tasks
        .keys()
        .copied()
        .collect()
}

fn changelog_ends(end: i64) -> BTreeMap<TopicPartition, i64> {
    (0..4)
        .map(|p| (TopicPartition::new("app-s-changelog", p), end))
        .collect()
}

#[test]
fn end_offsets_are_fetched_only_with_a_source_and_state_stores() {
    assert!(!assignor().needs_prepare());
    let with = assignor().with_changelog_end_offsets(Arc::new(FakeEndOffsets));
    assert!(with.needs_prepare());
    let stateless = Arc::new(
        TopologyInfo::new(
            "app",
            vec![SubtopologyInfo {
                id: 0,
                source_topics: strings(&["in"]),
                ..Default::default()
            }],
        )
        .expect("valid"),
    );
    let without_state = StreamsAssignor::new(stateless, Uuid::ZERO, AssignorHandle::new())
        .with_changelog_end_offsets(Arc::new(FakeEndOffsets));
    assert!(!without_state.needs_prepare());
}

#[test]
fn a_new_instance_gets_a_warmup_and_the_leader_a_probing_rebalance() {
    let members = [
        member_running("a", 1, &all_tasks()),
        member("b", 2, &[]),
        member("c", 3, &[]),
    ];
    let leader = leader_with(Ok(changelog_ends(1_000_000)), AssignmentConfigs::default());
    let result = leader.assign(&counts(4), &members).expect("assigns");
    check(&result);
    let (a, b, c) = (info(&result["a"]), info(&result["b"]), info(&result["c"]));
    let stateful: BTreeSet<TaskId> = (0..4).map(|p| TaskId::new(1, p)).collect();
    let a_stateful: BTreeSet<TaskId> = a.active_tasks.keys().copied().collect();
    assert!(stateful.is_subset(&a_stateful), "{a:?}");
    let warmups: BTreeMap<TaskId, Vec<TopicPartition>> = b
        .standby_tasks
        .iter()
        .chain(&c.standby_tasks)
        .map(|(t, p)| (*t, p.clone()))
        .collect();
    assert!(!warmups.is_empty());
    for (task, partitions) in &warmups {
        assert_eq!(
            partitions,
            &vec![TopicPartition::new("app-r-repartition", task.partition)],
            "a standby lists its source partitions"
        );
    }
    assert_eq!(
        a.follow_up_rebalance_after,
        Some(AssignmentConfigs::default().probing_rebalance_interval)
    );
    assert_eq!(b.follow_up_rebalance_after, None);
    assert_eq!(c.follow_up_rebalance_after, None);

    // The end offsets are used once: without a new fetch, every instance is caught up.
    let again = leader.assign(&counts(4), &members).expect("assigns");
    assert!(again.values().all(|a| info(a).standby_tasks.is_empty()));
}

#[test]
fn failing_to_fetch_end_offsets_assigns_as_if_everyone_were_caught_up() {
    let members = [
        member_running("a", 1, &all_tasks()),
        member("b", 2, &[]),
        member("c", 3, &[]),
    ];
    let leader = leader_with(
        Err(EndOffsetsError("broker unreachable".into())),
        AssignmentConfigs::default(),
    );
    let result = leader
        .assign(&counts(4), &members)
        .expect("never fails for it");
    check(&result);
    for a in result.values() {
        let i = info(a);
        assert!(i.standby_tasks.is_empty());
        assert_eq!(i.follow_up_rebalance_after, None);
        assert!(!i.active_tasks.is_empty(), "balanced over the three: {i:?}");
    }
}

#[test]
fn standby_replicas_reach_the_members_never_beside_their_active() {
    let configs = AssignmentConfigs {
        num_standby_replicas: 1,
        ..Default::default()
    };
    let a = StreamsAssignor::new(topology(), Uuid([1; 16]), AssignorHandle::new())
        .with_configs(configs);
    let members = [
        member("a", 1, &[]),
        member("b", 2, &[]),
        member("b2", 2, &[]),
    ];
    let result = a.assign(&counts(4), &members).expect("assigns");
    check(&result);
    let by_process = |p: &str| if p == "a" { 1 } else { 2 };
    let mut actives: BTreeMap<TaskId, u8> = BTreeMap::new();
    for (m, a) in &result {
        for t in info(a).active_tasks.keys() {
            actives.insert(*t, by_process(m));
        }
    }
    let mut standbys: BTreeMap<TaskId, u8> = BTreeMap::new();
    for (m, a) in &result {
        for (t, partitions) in info(a).standby_tasks {
            assert_eq!(t.subtopology, 1, "only stateful tasks");
            assert_ne!(actives[&t], by_process(m), "{t} standby beside its active");
            assert_eq!(
                partitions,
                vec![TopicPartition::new("app-r-repartition", t.partition)]
            );
            assert!(standbys.insert(t, by_process(m)).is_none());
        }
    }
    assert_eq!(standbys.len(), 4, "every stateful task has one standby");
}

#[test]
fn client_tags_travel_in_the_subscription() {
    let tags: BTreeMap<String, String> = [("zone".to_string(), "eu-1a".to_string())].into();
    let a = assignor().with_client_tags(tags.clone());
    let data = a.subscription_user_data(&[], &[], 1).expect("user data");
    assert_eq!(
        SubscriptionInfo::decode(&data)
            .expect("decodes")
            .client_tags,
        tags
    );
}
