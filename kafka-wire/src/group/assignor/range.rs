//! The `range` assignor (Java's `RangeAssignor`).

use std::collections::BTreeMap;

use super::common::{
    assignable_topics, check_members, empty_lists, into_assignments, member_info_cmp, subscribes,
};
use super::{AssignError, Assignment, Assignor, MemberSubscription};
use crate::TopicPartition;

/// The `range` assignor, the Java consumer's default: works topic by topic.
///
/// For each topic, the members subscribed to it are laid out in order (static members first,
/// by `group.instance.id`, then dynamic members by member id, as Java's `MemberInfo`), and the
/// partitions are cut into contiguous ranges: with `n` partitions and `m` members each member
/// gets `n / m` partitions and the first `n % m` members one more. With two members `C0`, `C1`
/// and two topics of three partitions, `C0` gets `t0p0, t0p1, t1p0, t1p1` and `C1` gets
/// `t0p2, t1p2`. Topics with the same partition count and the same subscribers are therefore
/// co-partitioned.
///
/// Eager only. Rack-aware assignment (KIP-881) is not implemented: `rack_id` is ignored, which
/// gives the assignment Java computes when racks are unknown.
#[derive(Debug, Default, Clone)]
pub struct RangeAssignor;

impl Assignor for RangeAssignor {
    fn name(&self) -> &str {
        "range"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        check_members(self.name(), members)?;
        let mut lists = empty_lists(members);
        for (topic, count) in assignable_topics(partitions_per_topic, members) {
            let mut consumers: Vec<&MemberSubscription> =
                members.iter().filter(|m| subscribes(m, topic)).collect();
            consumers.sort_by(|a, b| member_info_cmp(a, b));
            for (member, range) in consumers.iter().zip(ranges(count, consumers.len())) {
                if let Some(list) = lists.get_mut(&member.member_id) {
                    list.extend(range.map(|p| TopicPartition::new(topic, p)));
                }
            }
        }
        Ok(into_assignments(lists))
    }
}

/// Split partitions `0..count` into `members` contiguous ranges, the first `count % members`
/// one partition longer than the rest.
fn ranges(count: i32, members: usize) -> Vec<std::ops::Range<i32>> {
    let Ok(members) = i32::try_from(members) else {
        // More members than any topic can have partitions: only the first `count` get one.
        return (0..count).map(|p| p..p + 1).collect();
    };
    if members == 0 || count <= 0 {
        return Vec::new();
    }
    let per_member = count / members;
    let with_extra = count % members;
    (0..members)
        .map(|i| {
            let start = per_member * i + i.min(with_extra);
            let len = per_member + i32::from(i < with_extra);
            start..start + len
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{
        all_subscribed, check_valid, lists, member, static_member, topics, tps, Rng,
    };
    use super::*;

    fn assign(
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let result = RangeAssignor
            .assign(partitions_per_topic, members)
            .expect("assigns");
        check_valid(partitions_per_topic, members, &result);
        lists(&result)
    }

    /// Java: testOneConsumerNoTopic, testOneConsumerNonexistentTopic.
    #[test]
    fn member_without_assignable_topics_gets_an_empty_entry() {
        for subscribed in [&[][..], &["topic1"][..]] {
            let out = assign(&topics(&[]), &[member("consumer1", subscribed)]);
            assert_eq!(out.len(), 1);
            assert!(out["consumer1"].is_empty());
        }
    }

    /// Java: testOneConsumerOneTopic, testOnlyAssignsPartitionsFromSubscribedTopics,
    /// testOneConsumerMultipleTopics.
    #[test]
    fn single_member_vectors() {
        let out = assign(
            &topics(&[("topic1", 3), ("other", 3)]),
            &[member("consumer1", &["topic1"])],
        );
        assert_eq!(out["consumer1"], tps("topic1-0, topic1-1, topic1-2"));

        let out = assign(
            &topics(&[("topic1", 1), ("topic2", 2)]),
            &[member("consumer1", &["topic1", "topic2"])],
        );
        assert_eq!(out["consumer1"], tps("topic1-0, topic2-0, topic2-1"));
    }

    /// Java: testTwoConsumersOneTopicOnePartition, testTwoConsumersOneTopicTwoPartitions,
    /// testMultipleConsumersMixedTopics, testTwoConsumersTwoTopicsSixPartitions.
    #[test]
    fn multiple_member_vectors() {
        let two = [
            member("consumer1", &["topic1"]),
            member("consumer2", &["topic1"]),
        ];
        let out = assign(&topics(&[("topic1", 1)]), &two);
        assert_eq!(out["consumer1"], tps("topic1-0"));
        assert!(out["consumer2"].is_empty());
        let out = assign(&topics(&[("topic1", 2)]), &two);
        assert_eq!(out["consumer1"], tps("topic1-0"));
        assert_eq!(out["consumer2"], tps("topic1-1"));

        let mixed = [
            member("consumer1", &["topic1"]),
            member("consumer2", &["topic1", "topic2"]),
            member("consumer3", &["topic1"]),
        ];
        let out = assign(&topics(&[("topic1", 3), ("topic2", 2)]), &mixed);
        assert_eq!(out["consumer1"], tps("topic1-0"));
        assert_eq!(out["consumer2"], tps("topic1-1, topic2-0, topic2-1"));
        assert_eq!(out["consumer3"], tps("topic1-2"));

        let both = [
            member("consumer1", &["topic1", "topic2"]),
            member("consumer2", &["topic1", "topic2"]),
        ];
        let out = assign(&topics(&[("topic1", 3), ("topic2", 3)]), &both);
        assert_eq!(
            out["consumer1"],
            tps("topic1-0, topic1-1, topic2-0, topic2-1")
        );
        assert_eq!(out["consumer2"], tps("topic1-2, topic2-2"));
    }

    /// Java: testTwoStaticConsumersTwoTopicsSixPartitions,
    /// testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions.
    #[test]
    fn static_members_sort_by_instance_id_and_before_dynamic_ones() {
        let per_topic = topics(&[("topic1", 3), ("topic2", 3)]);
        let t = ["topic1", "topic2"];
        for high in [
            static_member("consumer-a", "instance2", &t),
            member("consumer-a", &t),
        ] {
            let low = static_member("consumer-b", "instance1", &t);
            let out = assign(&per_topic, &[high, low]);
            assert_eq!(
                out["consumer-b"],
                tps("topic1-0, topic1-1, topic2-0, topic2-1")
            );
            assert_eq!(out["consumer-a"], tps("topic1-2, topic2-2"));
        }
    }

    /// Java: testStaticMemberRangeAssignmentPersistent.
    #[test]
    fn static_assignment_survives_a_dynamic_member_being_replaced() {
        let per_topic = topics(&[("topic1", 5), ("topic2", 4)]);
        let t = ["topic1", "topic2"];
        let statics = [
            static_member("consumer1", "instance1", &t),
            static_member("consumer2", "instance2", &t),
            static_member("consumer3", "instance3", &t),
        ];
        for dynamic in ["consumer4", "consumer5"] {
            let mut members = statics.to_vec();
            members.push(member(dynamic, &t));
            let out = assign(&per_topic, &members);
            assert_eq!(out["consumer1"], tps("topic1-0, topic1-1, topic2-0"));
            assert_eq!(out["consumer2"], tps("topic1-2, topic2-1"));
            assert_eq!(out["consumer3"], tps("topic1-3, topic2-2"));
            assert_eq!(out[dynamic], tps("topic1-4, topic2-3"));
        }
    }

    /// Java: testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges.
    #[test]
    fn static_assignment_survives_member_id_changes() {
        let per_topic = topics(&[("topic1", 5), ("topic2", 5)]);
        let t = ["topic1", "topic2"];
        let expected = [
            ("instance1", "topic1-0, topic1-1, topic2-0, topic2-1"),
            ("instance2", "topic1-2, topic1-3, topic2-2, topic2-3"),
            ("instance3", "topic1-4, topic2-4"),
        ];
        for ids in [
            ["consumer1", "consumer2", "consumer3"],
            ["consumer1", "consumer5", "consumer4"],
        ] {
            let members: Vec<_> = ids
                .iter()
                .zip(&expected)
                .map(|(id, (instance, _))| static_member(id, instance, &t))
                .collect();
            let out = assign(&per_topic, &members);
            for (id, (_, partitions)) in ids.iter().zip(&expected) {
                assert_eq!(out[*id], tps(partitions));
            }
        }
    }

    /// Java: testRackAwareAssignmentWithUniformSubscription and
    /// testRackAwareAssignmentWithNonEqualSubscription, the non-rack-aware expectations.
    #[test]
    fn java_non_rack_aware_vectors() {
        let per_topic = topics(&[("t1", 6), ("t2", 7), ("t3", 2)]);
        let all = ["t1", "t2", "t3"];
        let cases: [(&[&str], [&str; 3]); 2] = [
            (
                &all,
                [
                    "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0",
                    "t1-2, t1-3, t2-3, t2-4, t3-1",
                    "t1-4, t1-5, t2-5, t2-6",
                ],
            ),
            (
                &["t1", "t3"],
                [
                    "t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0",
                    "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1",
                    "t1-4, t1-5",
                ],
            ),
        ];
        for (third, expected) in cases {
            let members = [
                member("consumer0", &all),
                member("consumer1", &all),
                member("consumer2", third),
            ];
            let out = assign(&per_topic, &members);
            for (i, partitions) in expected.iter().enumerate() {
                assert_eq!(out[&format!("consumer{i}")], tps(partitions));
            }
        }
    }

    #[test]
    fn every_partition_once_and_ranges_balanced_per_topic() {
        let mut rng = Rng(7);
        for round in 0..300 {
            let n_topics = 1 + rng.below(4) as usize;
            let names: Vec<String> = (0..n_topics).map(|t| format!("t{t}")).collect();
            let per_topic: BTreeMap<String, i32> = names
                .iter()
                .map(|t| (t.clone(), rng.below(13) as i32))
                .collect();
            let n_members = 1 + rng.below(9) as usize;
            let members: Vec<MemberSubscription> = (0..n_members)
                .map(|i| {
                    let subscribed: Vec<&str> = names
                        .iter()
                        .filter(|_| round % 3 == 0 || rng.below(3) > 0)
                        .map(String::as_str)
                        .collect();
                    let id = format!("m{:02}", rng.below(1000) * 100 + i as u64);
                    if rng.below(2) == 0 {
                        static_member(&id, &format!("i{i}"), &subscribed)
                    } else {
                        member(&id, &subscribed)
                    }
                })
                .collect();
            let result = RangeAssignor.assign(&per_topic, &members).expect("assigns");
            let assigned = check_valid(&per_topic, &members, &result);
            assert_eq!(assigned, all_subscribed(&per_topic, &members));
            for topic in &names {
                let counts: Vec<usize> = members
                    .iter()
                    .filter(|m| subscribes(m, topic))
                    .map(|m| {
                        let a = &result[&m.member_id].partitions;
                        a.iter().filter(|tp| &tp.topic == topic).count()
                    })
                    .collect();
                let (min, max) = (counts.iter().min(), counts.iter().max());
                if let (Some(min), Some(max)) = (min, max) {
                    assert!(max - min <= 1, "topic {topic} unbalanced: {counts:?}");
                }
            }
        }
    }

    #[test]
    fn odd_input_is_handled_without_panicking() {
        // Non-positive partition counts are skipped, a topic listed twice counts once.
        let per_topic = topics(&[("a", 0), ("b", -3), ("c", 2)]);
        let members = [member("m1", &["a", "b", "c", "c"]), member("m2", &["c"])];
        let out = assign(&per_topic, &members);
        assert_eq!(out["m1"], tps("c-0"));
        assert_eq!(out["m2"], tps("c-1"));
        // No members at all.
        assert!(RangeAssignor
            .assign(&per_topic, &[])
            .expect("assigns")
            .is_empty());
        // The same member id twice is refused.
        let twice = [member("m1", &["c"]), member("m1", &["c"])];
        assert!(RangeAssignor.assign(&per_topic, &twice).is_err());
    }
}
