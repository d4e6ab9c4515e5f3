//! The group as the sticky algorithms see it: topics by index, members in member-id order, and
//! who keeps which owned partition once conflicting claims are settled (the bookkeeping of
//! Java's `AbstractStickyAssignor.allSubscriptionsEqual`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::super::common::{assignable_topics, into_assignments, java_string_cmp};
use super::super::{Assignment, MemberSubscription};
use super::member_generation;
use crate::TopicPartition;

/// A partition as (index into [`Group::topics`], partition). Topics are indexed in name order,
/// so this orders as Java's (topic, partition) comparator.
pub(super) type Tp = (usize, i32);

/// One member of the group.
pub(super) struct Member<'a> {
    /// Its member id.
    pub id: &'a str,
    /// The assignable topics it subscribes to, by index.
    pub topics: BTreeSet<usize>,
    /// Every existing partition it says it owns, whether or not it keeps the claim.
    pub claimed: BTreeSet<Tp>,
    /// The claims it keeps: partitions of assignable topics that no member of a higher
    /// generation (or of the same generation) also claims. Sorted.
    pub owned: Vec<Tp>,
}

/// The members, topics and ownership the sticky algorithms start from.
pub(super) struct Group<'a> {
    /// The topics to assign with their partition counts, in name order.
    pub topics: Vec<(&'a str, i32)>,
    /// The members, in member-id order.
    pub members: Vec<Member<'a>>,
    /// Indices into `members` in the order Java's leader walks them (see [`java_hash_map_order`]).
    pub java_order: Vec<usize>,
    /// Whether every member lists the same topics (Java compares the raw topic lists, so a topic
    /// missing from the metadata still counts).
    pub same_subscriptions: bool,
    /// Partitions claimed by several members of the same (highest) generation: nobody keeps
    /// them, and whoever gets them must wait until the claimants have revoked them.
    pub multiply_claimed: BTreeSet<Tp>,
}

impl<'a> Group<'a> {
    pub fn new(
        partitions_per_topic: &'a BTreeMap<String, i32>,
        members: &'a [MemberSubscription],
    ) -> Self {
        let topics = assignable_topics(partitions_per_topic, members);
        let index: HashMap<&str, usize> = topics
            .iter()
            .enumerate()
            .map(|(i, (topic, _))| (*topic, i))
            .collect();

        let mut sorted: Vec<&MemberSubscription> = members.iter().collect();
        sorted.sort_by(|a, b| java_string_cmp(&a.member_id, &b.member_id));
        let raw_topics: Vec<BTreeSet<&str>> = sorted
            .iter()
            .map(|m| m.subscription.topics.iter().map(String::as_str).collect())
            .collect();
        let same_subscriptions = raw_topics.windows(2).all(|pair| pair[0] == pair[1]);

        // Every claim on an existing partition, with the claimant's generation.
        let mut claims: BTreeMap<Tp, Vec<(usize, i32)>> = BTreeMap::new();
        let mut group_members = Vec::with_capacity(sorted.len());
        for (i, m) in sorted.iter().enumerate() {
            let generation = member_generation(&m.subscription);
            let mut claimed = BTreeSet::new();
            for tp in &m.subscription.owned_partitions {
                let Some(&t) = index.get(tp.topic.as_str()) else {
                    continue;
                };
                let exists = (0..topics[t].1).contains(&tp.partition);
                if exists && claimed.insert((t, tp.partition)) {
                    claims
                        .entry((t, tp.partition))
                        .or_default()
                        .push((i, generation));
                }
            }
            group_members.push(Member {
                id: &m.member_id,
                topics: m
                    .subscription
                    .topics
                    .iter()
                    .filter_map(|t| index.get(t.as_str()).copied())
                    .collect(),
                claimed,
                owned: Vec::new(),
            });
        }

        // The highest generation keeps a partition; a tie at the top leaves it to nobody.
        let mut multiply_claimed = BTreeSet::new();
        for (tp, claimants) in claims {
            let newest = claimants.iter().map(|(_, g)| *g).max();
            let mut winners = claimants.iter().filter(|(_, g)| Some(*g) == newest);
            match (winners.next(), winners.next()) {
                (Some((winner, _)), None) => group_members[*winner].owned.push(tp),
                _ => {
                    multiply_claimed.insert(tp);
                }
            }
        }

        let java_order = java_hash_map_order(&group_members);
        Group {
            topics,
            java_order,
            members: group_members,
            same_subscriptions,
            multiply_claimed,
        }
    }

    /// The number of partitions to assign.
    pub fn total_partitions(&self) -> usize {
        self.topics
            .iter()
            .map(|(_, count)| usize::try_from(*count).unwrap_or(0))
            .sum()
    }

    /// The partitions of topic `t`, in order.
    pub fn partitions_of(&self, t: usize) -> impl Iterator<Item = Tp> {
        let count = self.topics.get(t).map_or(0, |(_, count)| *count);
        (0..count).map(move |p| (t, p))
    }

    /// Every partition to assign, by topic then partition.
    pub fn all_partitions(&self) -> impl Iterator<Item = Tp> + '_ {
        (0..self.topics.len()).flat_map(|t| self.partitions_of(t))
    }

    /// Turn per-member lists (by member index) into the assignor's result.
    pub fn assignments(&self, lists: Vec<Vec<Tp>>) -> BTreeMap<String, Assignment> {
        let mut out: BTreeMap<String, Vec<TopicPartition>> = self
            .members
            .iter()
            .map(|m| (m.id.to_owned(), Vec::new()))
            .collect();
        for (member, list) in self.members.iter().zip(lists) {
            if let Some(partitions) = out.get_mut(member.id) {
                partitions.extend(
                    list.into_iter()
                        .map(|(t, p)| TopicPartition::new(self.topics[t].0, p)),
                );
            }
        }
        into_assignments(out)
    }
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The order in which a Java `HashMap<String, _>` built with the default capacity iterates the
/// members' ids: by bucket (`(h ^ (h >>> 16)) & (capacity - 1)`, the capacity being the
/// smallest power of two from 16 up that keeps the load factor at most 0.75), then by insertion
/// order, for which we use member-id order (the order the coordinator listed the members in is
/// not known here).
///
/// Java's sticky assignors walk the members in this order when they hand out quotas of owned
/// partitions, so following it reproduces the Java leader's choice of which members keep the
/// larger quota.
fn java_hash_map_order(members: &[Member<'_>]) -> Vec<usize> {
    let mut capacity: usize = 16;
    while members.len() > capacity / 4 * 3 {
        capacity = capacity.saturating_mul(2);
    }
    let bucket = |id: &str| {
        // Reinterpret the hash's bits as unsigned for Java's `>>>`.
        let h = java_string_hash(id) as u32;
        (h ^ (h >> 16)) as usize & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| (bucket(members[i].id), i));
    order
}
