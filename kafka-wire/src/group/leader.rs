//! The group leader's part of a rebalance, without I/O: decode every member's subscription
//! from the JoinGroup response, then (once the partition counts of the subscribed topics are
//! known) run the chosen assignor and encode one assignment per member for SyncGroup.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Error;
use crate::protocol::messages::join_group_response::JoinGroupResponseMember;

use super::assignor::{decode_subscription, encode_assignment, Assignor, MemberSubscription};

/// The members of a generation as the leader sees them, sorted by member id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderView {
    /// Every member's subscription.
    pub members: Vec<MemberSubscription>,
}

impl LeaderView {
    /// Decode the members of a JoinGroup response.
    pub fn decode(members: Vec<JoinGroupResponseMember>) -> Result<Self, Error> {
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let subscription = decode_subscription(m.metadata).map_err(|e| Error::Protocol {
                operation: "JoinGroup",
                detail: format!("member {}'s subscription is undecodable: {e}", m.member_id),
            })?;
            out.push(MemberSubscription {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                subscription,
            });
        }
        out.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        Ok(LeaderView { members: out })
    }

    /// Every topic some member subscribes to (the leader needs their partition counts).
    pub fn topics(&self) -> Vec<String> {
        self.members
            .iter()
            .flat_map(|m| m.subscription.topics.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Run `assignor` over `partitions_per_topic` (topics missing there are not assigned) and
    /// encode every member's assignment, in member order.
    pub fn assign(
        &self,
        assignor: &Arc<dyn Assignor>,
        partitions_per_topic: &BTreeMap<String, i32>,
    ) -> Result<Vec<(String, Bytes)>, Error> {
        let assignments = assignor
            .assign(partitions_per_topic, &self.members)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        Ok(self
            .members
            .iter()
            .map(|m| {
                let a = assignments.get(&m.member_id).cloned().unwrap_or_default();
                (m.member_id.clone(), encode_assignment(&a))
            })
            .collect())
    }
}
