//! The assignment when members subscribe to different topics (the role of Java's
//! `AbstractStickyAssignor.GeneralAssignmentBuilder`, by a simpler greedy algorithm).
//!
//! 1. Every member keeps the owned partitions of topics it still subscribes to.
//! 2. The other partitions, topics with the fewest potential members first (then by name,
//!    partition), each go to the least loaded member subscribed to the topic (ties by member
//!    id) — Java's initial placement.
//! 3. While some member could take a partition from a member holding at least two more, one
//!    such partition moves from the most loaded such holder to the least loaded such taker,
//!    preferring a partition the taker owned before, then one the holder did not own before.
//!
//! Each move lowers the sum of squared member loads, so step 3 ends, and when it does no
//! partition can move to a member with two fewer partitions than its holder: Java's balance
//! criterion (`isBalanced`). Members with identical subscriptions end within one of each other.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use super::group::{Group, Tp};

pub(super) fn assign(group: &Group<'_>) -> Vec<Vec<Tp>> {
    let members = &group.members;
    let mut held: Vec<BTreeSet<Tp>> = vec![BTreeSet::new(); members.len()];
    let mut taken: BTreeSet<Tp> = BTreeSet::new();
    for (i, m) in members.iter().enumerate() {
        for &tp in &m.owned {
            if m.topics.contains(&tp.0) && taken.insert(tp) {
                held[i].insert(tp);
            }
        }
    }

    // Potential members per topic, in member-id order.
    let mut potential: Vec<Vec<usize>> = vec![Vec::new(); group.topics.len()];
    for (i, m) in members.iter().enumerate() {
        for &t in &m.topics {
            if let Some(list) = potential.get_mut(t) {
                list.push(i);
            }
        }
    }

    let mut topic_order: Vec<usize> = (0..group.topics.len()).collect();
    topic_order.sort_by_key(|&t| (potential[t].len(), t));
    for &t in &topic_order {
        for tp in group.partitions_of(t) {
            if taken.contains(&tp) {
                continue;
            }
            let least_loaded = potential[t]
                .iter()
                .copied()
                .min_by_key(|&c| (held[c].len(), c));
            if let Some(c) = least_loaded {
                held[c].insert(tp);
                taken.insert(tp);
            }
        }
    }

    let previous_owner: HashMap<Tp, usize> = members
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.owned.iter().map(move |tp| (*tp, i)))
        .collect();
    while let Some((tp, from, to)) = next_move(group, &held, &previous_owner) {
        held[from].remove(&tp);
        held[to].insert(tp);
    }

    held.into_iter()
        .map(|set| set.into_iter().collect())
        .collect()
}

/// The next balancing move: a partition, its holder and its taker, or `None` when balanced.
fn next_move(
    group: &Group<'_>,
    held: &[BTreeSet<Tp>],
    previous_owner: &HashMap<Tp, usize>,
) -> Option<(Tp, usize, usize)> {
    let mut takers: Vec<usize> = (0..held.len()).collect();
    takers.sort_by_key(|&i| (held[i].len(), i));
    let mut holders = takers.clone();
    holders.sort_by_key(|&i| (Reverse(held[i].len()), i));

    let most_held = holders.first().map_or(0, |&i| held[i].len());
    for &to in &takers {
        if most_held <= held[to].len() + 1 {
            // Takers are sorted by load: none further on can take anything either.
            break;
        }
        let wanted = &group.members[to].topics;
        for &from in &holders {
            if held[from].len() <= held[to].len() + 1 {
                // Holders are sorted by load: none further on is loaded enough either.
                break;
            }
            let rank = |tp: &Tp| match previous_owner.get(tp) {
                Some(&owner) if owner == to => 0,
                Some(&owner) if owner == from => 2,
                _ => 1,
            };
            let candidate = held[from]
                .iter()
                .filter(|tp| wanted.contains(&tp.0))
                .min_by_key(|tp| (rank(tp), **tp));
            if let Some(&tp) = candidate {
                return Some((tp, from, to));
            }
        }
    }
    None
}
