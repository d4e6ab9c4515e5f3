//! Helpers shared by the built-in assignors: Java's member and string orders, the topics worth
//! assigning, and the final wrapping into [`Assignment`]s.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::{AssignError, Assignment, MemberSubscription};
use crate::TopicPartition;

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
///
/// This is byte order for ASCII (so for every legal topic name), but member and instance ids are
/// free-form strings, and supplementary characters sort differently in UTF-8 and UTF-16.
pub(super) fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The member order of Java's `AbstractPartitionAssignor.MemberInfo`, used by `range` and
/// `roundrobin`: static members (with a `group.instance.id`) first, by instance id; then dynamic
/// members by member id. Java leaves two members with the same instance id in map order; we
/// break that tie by member id so the result never depends on input order.
pub(super) fn member_info_cmp(a: &MemberSubscription, b: &MemberSubscription) -> Ordering {
    let by_instance = match (&a.group_instance_id, &b.group_instance_id) {
        (Some(x), Some(y)) => java_string_cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    by_instance.then_with(|| java_string_cmp(&a.member_id, &b.member_id))
}

/// Whether `member` lists `topic` in its subscription.
pub(super) fn subscribes(member: &MemberSubscription, topic: &str) -> bool {
    member.subscription.topics.iter().any(|t| t == topic)
}

/// The topics to assign, in Java's (`TreeSet<String>`) order: those in `partitions_per_topic`
/// with at least one partition that some member subscribes to (Java's
/// `AbstractPartitionAssignor` never passes the others to the assignors).
pub(super) fn assignable_topics<'a>(
    partitions_per_topic: &'a BTreeMap<String, i32>,
    members: &[MemberSubscription],
) -> Vec<(&'a str, i32)> {
    let subscribed: BTreeSet<&str> = members
        .iter()
        .flat_map(|m| m.subscription.topics.iter().map(String::as_str))
        .collect();
    let mut topics: Vec<(&str, i32)> = partitions_per_topic
        .iter()
        .filter(|(topic, count)| **count > 0 && subscribed.contains(topic.as_str()))
        .map(|(topic, count)| (topic.as_str(), *count))
        .collect();
    topics.sort_by(|a, b| java_string_cmp(a.0, b.0));
    topics
}

/// Refuse a member list with a member id twice: the result is keyed by member id, so such a
/// group cannot be given a well-defined assignment.
pub(super) fn check_members(
    assignor: &str,
    members: &[MemberSubscription],
) -> Result<(), AssignError> {
    let mut seen = BTreeSet::new();
    for m in members {
        if !seen.insert(m.member_id.as_str()) {
            return Err(AssignError {
                assignor: assignor.to_owned(),
                detail: format!("member id {:?} appears more than once", m.member_id),
            });
        }
    }
    Ok(())
}

/// An empty partition list for every member.
pub(super) fn empty_lists(members: &[MemberSubscription]) -> BTreeMap<String, Vec<TopicPartition>> {
    members
        .iter()
        .map(|m| (m.member_id.clone(), Vec::new()))
        .collect()
}

/// Wrap per-member partition lists into [`Assignment`]s (no user data, as Java's built-in
/// assignors), partitions sorted by topic then partition.
pub(super) fn into_assignments(
    lists: BTreeMap<String, Vec<TopicPartition>>,
) -> BTreeMap<String, Assignment> {
    lists
        .into_iter()
        .map(|(member, mut partitions)| {
            partitions.sort();
            partitions.dedup();
            let assignment = Assignment {
                partitions,
                user_data: None,
            };
            (member, assignment)
        })
        .collect()
}

/// Builders and checks shared by the assignors' unit tests.
#[cfg(test)]
pub(super) mod testing {
    use std::collections::{BTreeMap, BTreeSet};

    use super::super::{Assignment, MemberSubscription, Subscription};
    use crate::TopicPartition;

    /// A dynamic member with no owned partitions and no generation.
    pub fn member(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.to_owned(),
            group_instance_id: None,
            subscription: Subscription {
                topics: topics.iter().map(|t| (*t).to_owned()).collect(),
                generation_id: -1,
                ..Default::default()
            },
        }
    }

    /// A static member (with a `group.instance.id`).
    pub fn static_member(id: &str, instance: &str, topics: &[&str]) -> MemberSubscription {
        let mut m = member(id, topics);
        m.group_instance_id = Some(instance.to_owned());
        m
    }

    /// Partition counts per topic.
    pub fn topics(counts: &[(&str, i32)]) -> BTreeMap<String, i32> {
        counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
    }

    /// Parse Java's test notation `"t1-0, t1-1"` into sorted partitions.
    pub fn tps(list: &str) -> Vec<TopicPartition> {
        let mut out: Vec<TopicPartition> = list
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (topic, p) = s.rsplit_once('-').expect("topic-partition");
                TopicPartition::new(topic, p.parse().expect("partition"))
            })
            .collect();
        out.sort();
        out
    }

    /// The partition lists of an assignment result.
    pub fn lists(result: &BTreeMap<String, Assignment>) -> BTreeMap<String, Vec<TopicPartition>> {
        result
            .iter()
            .map(|(m, a)| (m.clone(), a.partitions.clone()))
            .collect()
    }

    /// A small deterministic pseudo-random generator (splitmix64) for property-style loops.
    pub struct Rng(pub u64);

    impl Rng {
        /// The next value in `0..n` (`n > 0`).
        pub fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % n
        }
    }

    /// Check the invariants every assignor keeps: an entry for every member, only partitions
    /// of existing topics the member subscribes to, no partition given twice. Returns the set
    /// of assigned partitions.
    pub fn check_valid(
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
        result: &BTreeMap<String, Assignment>,
    ) -> BTreeSet<TopicPartition> {
        assert_eq!(result.len(), members.len(), "one entry per member");
        let mut seen = BTreeSet::new();
        for m in members {
            let a = result.get(&m.member_id).expect("every member has an entry");
            for tp in &a.partitions {
                assert!(
                    m.subscription.topics.contains(&tp.topic),
                    "{tp} given to {} which does not subscribe to it",
                    m.member_id
                );
                let count = partitions_per_topic.get(&tp.topic).copied().unwrap_or(0);
                assert!(
                    tp.partition >= 0 && tp.partition < count,
                    "{tp} does not exist"
                );
                assert!(seen.insert(tp.clone()), "{tp} assigned twice");
            }
        }
        seen
    }

    /// Every partition of every topic some member subscribes to.
    pub fn all_subscribed(
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> BTreeSet<TopicPartition> {
        let mut out = BTreeSet::new();
        for (topic, count) in partitions_per_topic {
            if members
                .iter()
                .any(|m| m.subscription.topics.contains(topic))
            {
                out.extend((0..*count).map(|p| TopicPartition::new(topic.clone(), p)));
            }
        }
        out
    }
}
