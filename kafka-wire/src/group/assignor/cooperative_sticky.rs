//! The `cooperative-sticky` assignor (Java's `CooperativeStickyAssignor`, KIP-429).
//!
//! The work is split as in Java's `AbstractStickyAssignor`: [`group`] reads the subscriptions
//! (owned partitions, generations, conflicting claims), [`constrained`] assigns when every
//! member subscribes to the same topics, [`general`] when they do not; this file then applies
//! the cooperative adjustment and owns the user-data format.

mod constrained;
mod general;
mod group;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::common::check_members;
use super::{
    AssignError, Assignment, Assignor, MemberSubscription, RebalanceProtocol, Subscription,
};
use crate::TopicPartition;
use group::{Group, Tp};

const NAME: &str = "cooperative-sticky";

/// The generation Java uses for "unknown" (`AbstractStickyAssignor.DEFAULT_GENERATION`).
const DEFAULT_GENERATION: i32 = -1;

/// The `cooperative-sticky` assignor: balanced, sticky, and safe for incremental cooperative
/// rebalancing.
///
/// Each member keeps the partitions it owns (from its subscription's `owned_partitions`) as far
/// as balance allows; only the surplus of over-loaded members moves, to the least loaded
/// members. When two members claim the same partition, the one with the highest generation
/// keeps it; if several share the highest generation, none does. A member's generation is its
/// subscription's `generation_id`, or, for subscriptions older than version 2 (generation -1),
/// the generation in its user data (see [`Assignor::subscription_user_data`]).
///
/// With identical subscriptions the result is fully balanced (counts differ by at most one), by
/// the same quota algorithm as Java's; with different subscriptions a greedy algorithm is used
/// (keep valid owned partitions, give each unassigned partition to the least loaded member that
/// subscribes to its topic, then move partitions from the most to the least loaded members while
/// one is at least two partitions ahead of another that could take one of them), which leaves
/// no partition that could move to a member with two fewer. Java's general algorithm is a more
/// elaborate heuristic; both satisfy the same balance criterion, but their outputs may differ.
///
/// Cooperative adjustment: a partition moving from one member (which owns it now) to another is
/// left out of this rebalance's assignment; the owner revokes it, which triggers a follow-up
/// rebalance in which it is assigned to its new owner.
///
/// With identical subscriptions the assignment is the one Java computes, down to the order in
/// which Java's `HashMap` visits the members (reproduced from the members' hash codes; members
/// in the same hash bucket are taken in member-id order, as the order the coordinator listed
/// them in is not known here).
///
/// Not implemented: rack-aware assignment (KIP-881) — `rack_id` is ignored, giving Java's
/// assignment for unknown racks — and the general algorithm's preference for a partition's
/// previous owner of an older generation. Deliberate differences from Java, for inputs Java
/// treats inconsistently: conflicting claims are settled independently of member order (Java's
/// outcome with three or more claimants depends on its map order), a member's generation is
/// always its effective one (Java compares some claims against the raw subscription field),
/// and a member with an empty subscription does not count as subscribed to everything.
#[derive(Debug, Default, Clone)]
pub struct CooperativeStickyAssignor;

impl Assignor for CooperativeStickyAssignor {
    fn name(&self) -> &str {
        NAME
    }

    fn supported_protocols(&self) -> &[RebalanceProtocol] {
        &[RebalanceProtocol::Eager, RebalanceProtocol::Cooperative]
    }

    /// Java's `CooperativeStickyAssignorUserData` v0: the generation as a big-endian int32.
    fn subscription_user_data(
        &self,
        _topics: &[String],
        _owned: &[TopicPartition],
        generation: i32,
    ) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(&generation.to_be_bytes()))
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        let plan = plan(partitions_per_topic, members)?;
        let mut lists = plan.lists;
        for (member, withheld) in plan.transferring {
            if let Some(list) = lists.get_mut(member) {
                list.retain(|tp| !withheld.contains(tp));
            }
        }
        Ok(plan.group.assignments(lists))
    }
}

/// The generation in `CooperativeStickyAssignorUserData` v0 user data: `None` without user
/// data, -1 if it is too short to hold one (Java reads the int32 and ignores trailing bytes).
fn user_data_generation(user_data: Option<&Bytes>) -> Option<i32> {
    let data = user_data?;
    let generation = data
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(DEFAULT_GENERATION, i32::from_be_bytes);
    Some(generation)
}

/// The generation a member last joined: the subscription's, else the one in its user data,
/// else -1 (Java's `CooperativeStickyAssignor.memberData`).
fn member_generation(subscription: &Subscription) -> i32 {
    if subscription.generation_id >= 0 {
        return subscription.generation_id;
    }
    user_data_generation(subscription.user_data.as_ref()).unwrap_or(DEFAULT_GENERATION)
}

/// The sticky assignment before the cooperative adjustment.
struct Plan<'a> {
    group: Group<'a>,
    /// Each member's full target assignment, by member index.
    lists: Vec<Vec<Tp>>,
    /// Partitions to leave out of this rebalance, by the member index that is to get them.
    transferring: BTreeMap<usize, BTreeSet<Tp>>,
}

fn plan<'a>(
    partitions_per_topic: &'a BTreeMap<String, i32>,
    members: &'a [MemberSubscription],
) -> Result<Plan<'a>, AssignError> {
    check_members(NAME, members)?;
    let group = Group::new(partitions_per_topic, members);
    let (lists, transferring) = if group.members.is_empty() {
        (Vec::new(), BTreeMap::new())
    } else if group.same_subscriptions {
        constrained::assign(&group).map_err(|detail| AssignError {
            assignor: NAME.to_owned(),
            detail,
        })?
    } else {
        let lists = general::assign(&group);
        let transferring = transferring_by_claims(&group, &lists);
        (lists, transferring)
    };
    let mut by_member: BTreeMap<usize, BTreeSet<Tp>> = BTreeMap::new();
    for (tp, member) in transferring {
        by_member.entry(member).or_default().insert(tp);
    }
    Ok(Plan {
        group,
        lists,
        transferring: by_member,
    })
}

/// Java's `computePartitionsTransferringOwnership` (used after the general algorithm): the
/// partitions given to a member that did not claim them while another member that did claim
/// them loses them.
fn transferring_by_claims(group: &Group<'_>, lists: &[Vec<Tp>]) -> BTreeMap<Tp, usize> {
    let mut added = BTreeMap::new();
    let mut revoked = BTreeSet::new();
    for (i, (member, list)) in group.members.iter().zip(lists).enumerate() {
        let assigned: BTreeSet<Tp> = list.iter().copied().collect();
        added.extend(assigned.difference(&member.claimed).map(|tp| (*tp, i)));
        revoked.extend(member.claimed.difference(&assigned).copied());
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}
