//! The group leader's part of a rebalance, without I/O: decode every member's subscription
//! from the JoinGroup response, then (once the partition counts of the subscribed topics, and
//! of the assignor's extra topics, are known) run the chosen assignor and encode one
//! assignment per member for SyncGroup. [`LeaderContext`] is what an assignor's async
//! preparation step ([`Assignor::prepare`]) gets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use crate::admin::Admin;
use crate::cluster::Client;
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

    /// The subscribed topics and the ones `assignor` names besides
    /// ([`Assignor::extra_topics`]), sorted and without duplicates.
    pub fn topics_for(&self, assignor: &dyn Assignor) -> Vec<String> {
        let mut topics: BTreeSet<String> = self.topics().into_iter().collect();
        topics.extend(assignor.extra_topics(&self.members));
        topics.into_iter().collect()
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

/// What the leader's [`Assignor::prepare`] step gets: the cluster, the group and its members.
#[derive(Debug, Clone)]
pub struct LeaderContext {
    client: Client,
    group_id: String,
    generation: i32,
    members: Vec<MemberSubscription>,
}

impl LeaderContext {
    /// The context of generation `generation` of `group_id`.
    pub fn new(
        client: Client,
        group_id: String,
        generation: i32,
        members: Vec<MemberSubscription>,
    ) -> Self {
        LeaderContext {
            client,
            group_id,
            generation,
            members,
        }
    }

    /// The consumer's cluster client (metadata, any request).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// An admin client on the same connections (create, describe or check topics).
    pub fn admin(&self) -> Admin {
        Admin::from_client(self.client.clone())
    }

    /// The group.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The generation being assigned.
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// Every member's subscription, sorted by member id.
    pub fn members(&self) -> &[MemberSubscription] {
        &self.members
    }
}
