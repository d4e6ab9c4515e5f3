//! The assignment when every member subscribes to the same topics (Java's
//! `AbstractStickyAssignor.ConstrainedAssignmentBuilder`, without the rack-aware steps).
//!
//! With `P` partitions and `N` members, every member gets `min = P / N` partitions and
//! `P % N` of them one more (`max`). First each member keeps its owned partitions up to its
//! quota: fewer than `min` are all kept; `max` or more keep `max` while fewer members than
//! `P % N` have been given `max`; otherwise `min`. The owned partitions beyond the quota may be
//! revoked. Members are visited in the order Java's `HashMap` iterates them, which decides who
//! keeps `max` when more members own that many than may keep it. Then the unassigned partitions
//! (by topic, partition) are dealt round-robin to the members below `min` (in member-id order),
//! and once all have `min`, one each to the members at `min` that may still go up to `max`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::group::{Group, Tp};

/// The full assignment by member index, and the partitions that move from a current owner to
/// another member (partition → receiving member index).
pub(super) type Outcome = (Vec<Vec<Tp>>, BTreeMap<Tp, usize>);

pub(super) fn assign(group: &Group<'_>) -> Result<Outcome, String> {
    let members = group.members.len();
    if members == 0 {
        return Ok((Vec::new(), BTreeMap::new()));
    }
    let total = group.total_partitions();
    let min_quota = total / members;
    let expected_over_min = total % members;
    let max_quota = min_quota + usize::from(expected_over_min > 0);
    let mut current_over_min = 0;

    let mut assignment: Vec<Vec<Tp>> = vec![Vec::new(); members];
    let mut assigned: BTreeSet<Tp> = BTreeSet::new();
    // Owned partitions beyond their owner's quota: partition → owner.
    let mut maybe_revoked: BTreeMap<Tp, usize> = BTreeMap::new();
    // Members below `min`, and members at `min` that may still get one more.
    let mut under_min: Vec<usize> = Vec::new();
    let mut at_min: VecDeque<usize> = VecDeque::new();

    for &i in &group.java_order {
        // Java keeps the lowest partition numbers first, across topics.
        let mut owned = group.members[i].owned.clone();
        owned.sort_by_key(|&(t, p)| (p, t));
        let quota = if owned.len() < min_quota {
            under_min.push(i);
            owned.len()
        } else if owned.len() >= max_quota && current_over_min < expected_over_min {
            current_over_min += 1;
            if current_over_min == expected_over_min {
                at_min.clear();
            }
            max_quota
        } else {
            if current_over_min < expected_over_min {
                at_min.push_back(i);
            }
            min_quota
        };
        let (kept, surplus) = owned.split_at(quota);
        assigned.extend(kept.iter().copied());
        assignment[i].extend_from_slice(kept);
        maybe_revoked.extend(surplus.iter().map(|tp| (*tp, i)));
    }

    let unassigned: Vec<Tp> = group
        .all_partitions()
        .filter(|tp| !assigned.contains(tp))
        .collect();
    // Member indices follow member-id order; Java sorts both lists by member id.
    under_min.sort_unstable();
    at_min.make_contiguous().sort_unstable();

    let mut transferring = BTreeMap::new();
    // Java walks `under_min` with an iterator it restarts at the end and removes from.
    let mut cursor = 0;
    for tp in unassigned {
        let (member, from_under_min) = if cursor < under_min.len() {
            cursor += 1;
            (under_min[cursor - 1], true)
        } else if !under_min.is_empty() {
            cursor = 1;
            (under_min[0], true)
        } else if let Some(member) = at_min.pop_front() {
            (member, false)
        } else {
            return Err(format!(
                "no member left to take partition {}-{} (quota {min_quota}..={max_quota})",
                group.topics[tp.0].0, tp.1
            ));
        };
        assignment[member].push(tp);
        let moves_from_owner = maybe_revoked.get(&tp).is_some_and(|&owner| owner != member);
        if moves_from_owner || group.multiply_claimed.contains(&tp) {
            transferring.insert(tp, member);
        }
        // A member reaching `min` may still take one more, after every other member has
        // reached `min`; one reaching `max` is full (it was taken off the lists already).
        if assignment[member].len() == min_quota {
            if from_under_min {
                cursor -= 1;
                under_min.remove(cursor);
            }
            at_min.push_back(member);
        }
    }
    Ok((assignment, transferring))
}
