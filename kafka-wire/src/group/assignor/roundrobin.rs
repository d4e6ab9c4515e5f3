//! The `roundrobin` assignor (Java's `RoundRobinAssignor`).

use std::collections::{BTreeMap, BTreeSet};

use super::common::{
    assignable_topics, check_members, empty_lists, into_assignments, member_info_cmp,
};
use super::{AssignError, Assignment, Assignor, MemberSubscription};
use crate::TopicPartition;

/// The `roundrobin` assignor: deals all partitions out in a circle.
///
/// Every partition of every subscribed topic, sorted by topic then partition, is dealt in turn
/// to the members laid out in order (static members first, by `group.instance.id`, then dynamic
/// members by member id, as Java's `MemberInfo`); a member not subscribed to a partition's topic
/// is skipped. With identical subscriptions the counts differ by at most one; with different
/// ones the result can be unbalanced (Java's documented behaviour, kept for compatibility).
///
/// Eager only.
#[derive(Debug, Default, Clone)]
pub struct RoundRobinAssignor;

impl Assignor for RoundRobinAssignor {
    fn name(&self) -> &str {
        "roundrobin"
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        check_members(self.name(), members)?;
        let mut lists = empty_lists(members);
        let mut circle: Vec<&MemberSubscription> = members.iter().collect();
        circle.sort_by(|a, b| member_info_cmp(a, b));
        let subscribed: Vec<BTreeSet<&str>> = circle
            .iter()
            .map(|m| m.subscription.topics.iter().map(String::as_str).collect())
            .collect();

        let mut next = 0;
        for (topic, count) in assignable_topics(partitions_per_topic, members) {
            for partition in 0..count {
                // `assignable_topics` only yields topics some member subscribes to.
                let Some(at) = (0..circle.len())
                    .map(|step| (next + step) % circle.len())
                    .find(|&i| subscribed[i].contains(topic))
                else {
                    break;
                };
                if let Some(list) = lists.get_mut(&circle[at].member_id) {
                    list.push(TopicPartition::new(topic, partition));
                }
                next = (at + 1) % circle.len();
            }
        }
        Ok(into_assignments(lists))
    }
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
        let result = RoundRobinAssignor
            .assign(partitions_per_topic, members)
            .expect("assigns");
        check_valid(partitions_per_topic, members, &result);
        lists(&result)
    }

    /// Java: testOneConsumerNoTopic, testOneConsumerNonexistentTopic, testOneConsumerOneTopic,
    /// testOnlyAssignsPartitionsFromSubscribedTopics, testOneConsumerMultipleTopics.
    #[test]
    fn single_member_vectors() {
        for subscribed in [&[][..], &["topic"][..]] {
            let out = assign(&topics(&[]), &[member("consumer", subscribed)]);
            assert!(out["consumer"].is_empty());
        }
        let out = assign(
            &topics(&[("topic", 3), ("other", 3)]),
            &[member("consumer", &["topic"])],
        );
        assert_eq!(out["consumer"], tps("topic-0, topic-1, topic-2"));
        let out = assign(
            &topics(&[("topic1", 1), ("topic2", 2)]),
            &[member("consumer", &["topic1", "topic2"])],
        );
        assert_eq!(out["consumer"], tps("topic1-0, topic2-0, topic2-1"));
    }

    /// Java: testTwoConsumersOneTopicOnePartition, testTwoConsumersOneTopicTwoPartitions,
    /// testMultipleConsumersMixedTopics, testTwoDynamicConsumersTwoTopicsSixPartitions.
    #[test]
    fn multiple_member_vectors() {
        let two = [
            member("consumer1", &["topic"]),
            member("consumer2", &["topic"]),
        ];
        let out = assign(&topics(&[("topic", 1)]), &two);
        assert_eq!(out["consumer1"], tps("topic-0"));
        assert!(out["consumer2"].is_empty());
        let out = assign(&topics(&[("topic", 2)]), &two);
        assert_eq!(out["consumer1"], tps("topic-0"));
        assert_eq!(out["consumer2"], tps("topic-1"));

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
        assert_eq!(out["consumer1"], tps("topic1-0, topic1-2, topic2-1"));
        assert_eq!(out["consumer2"], tps("topic1-1, topic2-0, topic2-2"));
    }

    /// The example of Java's class documentation: different subscriptions, unbalanced result.
    #[test]
    fn java_doc_example_with_different_subscriptions() {
        let members = [
            member("C0", &["t0"]),
            member("C1", &["t0", "t1"]),
            member("C2", &["t0", "t1", "t2"]),
        ];
        let out = assign(&topics(&[("t0", 1), ("t1", 2), ("t2", 3)]), &members);
        assert_eq!(out["C0"], tps("t0-0"));
        assert_eq!(out["C1"], tps("t1-0"));
        assert_eq!(out["C2"], tps("t1-1, t2-0, t2-1, t2-2"));
    }

    /// Java: testTwoStaticConsumersTwoTopicsSixPartitions,
    /// testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions.
    #[test]
    fn static_members_sort_by_instance_id_and_before_dynamic_ones() {
        let per_topic = topics(&[("topic1", 3), ("topic2", 3)]);
        let t = ["topic1", "topic2"];
        for other in [
            static_member("consumer-a", "instance2", &t),
            member("consumer-a", &t),
        ] {
            let first = static_member("consumer-b", "instance1", &t);
            let out = assign(&per_topic, &[other, first]);
            assert_eq!(out["consumer-b"], tps("topic1-0, topic1-2, topic2-1"));
            assert_eq!(out["consumer-a"], tps("topic1-1, topic2-0, topic2-2"));
        }
    }

    /// Java: testStaticMemberRoundRobinAssignmentPersistent and
    /// testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges.
    #[test]
    fn static_assignment_is_persistent() {
        let t = ["topic1", "topic2"];
        let per_topic = topics(&[("topic1", 3), ("topic2", 3)]);
        for dynamic in ["consumer4", "consumer5"] {
            let members = [
                static_member("consumer1", "instance1", &t),
                static_member("consumer2", "instance2", &t),
                static_member("consumer3", "instance3", &t),
                member(dynamic, &t),
            ];
            let out = assign(&per_topic, &members);
            assert_eq!(out["consumer1"], tps("topic1-0, topic2-1"));
            assert_eq!(out["consumer2"], tps("topic1-1, topic2-2"));
            assert_eq!(out["consumer3"], tps("topic1-2"));
            assert_eq!(out[dynamic], tps("topic2-0"));
        }

        let per_topic = topics(&[("topic1", 5), ("topic2", 5)]);
        let expected = [
            ("instance1", "topic1-0, topic1-3, topic2-1, topic2-4"),
            ("instance2", "topic1-1, topic1-4, topic2-2"),
            ("instance3", "topic1-2, topic2-0, topic2-3"),
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

    #[test]
    fn every_partition_once_and_balanced_with_identical_subscriptions() {
        let mut rng = Rng(11);
        for round in 0..300 {
            let n_topics = 1 + rng.below(4) as usize;
            let names: Vec<String> = (0..n_topics).map(|t| format!("t{t}")).collect();
            let per_topic: BTreeMap<String, i32> = names
                .iter()
                .map(|t| (t.clone(), rng.below(17) as i32))
                .collect();
            let identical = round % 2 == 0;
            let members: Vec<MemberSubscription> = (0..1 + rng.below(9))
                .map(|i| {
                    let subscribed: Vec<&str> = names
                        .iter()
                        .filter(|_| identical || rng.below(3) > 0)
                        .map(String::as_str)
                        .collect();
                    member(&format!("m{}", rng.below(10_000) * 10 + i), &subscribed)
                })
                .collect();
            let result = RoundRobinAssignor
                .assign(&per_topic, &members)
                .expect("assigns");
            let assigned = check_valid(&per_topic, &members, &result);
            assert_eq!(assigned, all_subscribed(&per_topic, &members));
            if identical {
                let counts: Vec<usize> = result.values().map(|a| a.partitions.len()).collect();
                let min = counts.iter().min().copied().unwrap_or(0);
                let max = counts.iter().max().copied().unwrap_or(0);
                assert!(max - min <= 1, "unbalanced: {counts:?}");
            }
        }
    }

    #[test]
    fn odd_input_is_handled_without_panicking() {
        let per_topic = topics(&[("a", 0), ("b", -1), ("c", 3)]);
        let members = [member("m1", &["a", "b", "c", "c"]), member("m2", &[])];
        let out = assign(&per_topic, &members);
        assert_eq!(out["m1"], tps("c-0, c-1, c-2"));
        assert!(out["m2"].is_empty());
        assert!(RoundRobinAssignor
            .assign(&per_topic, &[])
            .expect("assigns")
            .is_empty());
        let twice = [member("m1", &["c"]), member("m1", &["c"])];
        assert!(RoundRobinAssignor.assign(&per_topic, &twice).is_err());
    }
}
