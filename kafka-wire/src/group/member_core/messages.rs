//! What goes in and out of [`MemberCore`](super::MemberCore): settings, the requests it asks
//! for, their answers, and the events for the application.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::group::assignor::{Assignment, Assignor, MemberSubscription};
use crate::group::membership::MembershipConfig;
use crate::protocol::messages::heartbeat_request::HeartbeatRequest;
use crate::protocol::messages::heartbeat_response::HeartbeatResponse;
use crate::protocol::messages::join_group_request::JoinGroupRequest;
use crate::protocol::messages::join_group_response::JoinGroupResponse;
use crate::protocol::messages::leave_group_request::LeaveGroupRequest;
use crate::protocol::messages::leave_group_response::LeaveGroupResponse;
use crate::protocol::messages::sync_group_request::SyncGroupRequest;
use crate::protocol::messages::sync_group_response::SyncGroupResponse;

/// Settings of a group member besides [`MembershipConfig`].
#[derive(Debug, Clone)]
pub struct MemberConfig {
    /// Join/sync settings.
    pub membership: MembershipConfig,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms`.
    pub max_poll_interval: Duration,
    /// `client.rack`, sent in the subscription.
    pub client_rack: Option<String>,
}

/// The result of one completed rebalance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    /// The generation joined.
    pub generation: i32,
    /// This member's partitions in it.
    pub assignment: Assignment,
    /// The member's id in the group.
    pub member_id: String,
}

/// Identifies a request handed out by [`MemberCore::poll_request`]; its outcome is fed back
/// with the same id (answers to requests the core gave up on are ignored).
///
/// [`MemberCore::poll_request`]: super::MemberCore::poll_request
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(pub(super) u64);

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Any broker (coordinator discovery, metadata).
    AnyBroker,
    /// The group coordinator.
    Coordinator,
    /// Run in this process (the assignor's preparation step, which may talk to any broker).
    Local,
}

/// A request the core wants sent.
#[derive(Debug, Clone)]
pub enum GroupRequest {
    /// Look the coordinator up (forgetting the one known, if any); answer with
    /// [`GroupResponse::FindCoordinator`].
    FindCoordinator,
    /// The leader needs the partition counts of these topics for its assignor; answer with
    /// [`GroupResponse::Metadata`].
    Metadata {
        /// Every topic a member subscribes to, and the assignor's extra topics.
        topics: Vec<String>,
    },
    /// The leader runs the assignor's async preparation step ([`Assignor::prepare`]) with a
    /// [`LeaderContext`](crate::group::LeaderContext) built from these; answer with
    /// [`GroupResponse::Prepared`].
    PrepareAssignment {
        /// The assignor the coordinator chose.
        assignor: Arc<dyn Assignor>,
        /// The generation being assigned.
        generation: i32,
        /// Every member's subscription, sorted by member id.
        members: Vec<MemberSubscription>,
    },
    /// A pattern subscription needs every topic in the cluster (metadata for all topics);
    /// answer with [`GroupResponse::Topics`].
    ListTopics,
    /// JoinGroup; it may block for a whole rebalance, so wait up to `timeout`.
    JoinGroup {
        /// The request.
        request: JoinGroupRequest,
        /// How long to wait for the answer (rebalance timeout plus `request.timeout.ms`).
        timeout: Duration,
    },
    /// SyncGroup (with the assignments when this member leads).
    SyncGroup(SyncGroupRequest),
    /// Heartbeat.
    Heartbeat(HeartbeatRequest),
    /// LeaveGroup.
    LeaveGroup(LeaveGroupRequest),
}

impl GroupRequest {
    /// Where the request goes.
    pub fn destination(&self) -> Destination {
        match self {
            GroupRequest::FindCoordinator
            | GroupRequest::Metadata { .. }
            | GroupRequest::ListTopics => Destination::AnyBroker,
            GroupRequest::PrepareAssignment { .. } => Destination::Local,
            _ => Destination::Coordinator,
        }
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            GroupRequest::FindCoordinator => "FindCoordinator",
            GroupRequest::Metadata { .. } => "Metadata",
            GroupRequest::PrepareAssignment { .. } => "PrepareAssignment",
            GroupRequest::ListTopics => "ListTopics",
            GroupRequest::JoinGroup { .. } => "JoinGroup",
            GroupRequest::SyncGroup(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::LeaveGroup(_) => "LeaveGroup",
        }
    }
}

/// A request handed out by [`MemberCore::poll_request`](super::MemberCore::poll_request).
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    /// Feed the outcome back with this id.
    pub id: RequestId,
    /// What to send.
    pub request: GroupRequest,
}

/// The answer to a [`GroupRequest`].
#[derive(Debug, Clone)]
pub enum GroupResponse {
    /// The coordinator's node id.
    FindCoordinator {
        /// Its broker id.
        node: i32,
    },
    /// Partition counts of the existing topics asked for (missing topics are not assigned).
    Metadata {
        /// Topic name → partition count.
        partitions_per_topic: BTreeMap<String, i32>,
    },
    /// The assignor's preparation step succeeded.
    Prepared,
    /// Every topic in the cluster: name → whether the brokers flag it internal.
    Topics {
        /// The topics.
        topics: BTreeMap<String, bool>,
    },
    /// JoinGroup's answer.
    JoinGroup(JoinGroupResponse),
    /// SyncGroup's answer.
    SyncGroup(SyncGroupResponse),
    /// Heartbeat's answer.
    Heartbeat(HeartbeatResponse),
    /// LeaveGroup's answer.
    LeaveGroup(LeaveGroupResponse),
}

/// What the application must hear about.
#[derive(Debug, Clone)]
pub enum Event {
    /// A rebalance completed: this member's assignment in the new generation. Under the
    /// cooperative protocol, if partitions it owned were revoked, the core has already asked
    /// for the second rebalance ([`MemberCore::rejoin_needed`](super::MemberCore::rejoin_needed)).
    Assigned(JoinResult),
    /// The coordinator started a rebalance (or an offset commit found one, the application
    /// or the assignor asked for one, or a pattern subscription's topics changed): rejoin.
    /// The partitions are kept until then.
    RejoinNeeded,
    /// The member's generation is gone (fenced, expired, or it left on `max.poll.interval.ms`):
    /// its partitions may belong to another member already; commit nothing for them, rejoin.
    PartitionsLost,
    /// Auto commit is due (`auto.commit.interval.ms`); the member is stable.
    CommitDue,
    /// A join failed with an error the caller of [`MemberCore::join`] should see; the
    /// member still needs to join.
    ///
    /// [`MemberCore::join`]: super::MemberCore::join
    JoinFailed(Error),
    /// The LeaveGroup asked for by [`MemberCore::leave`] completed (or there was nothing
    /// to leave).
    ///
    /// [`MemberCore::leave`]: super::MemberCore::leave
    Left(Result<(), Error>),
    /// An unrecoverable error (e.g. `FENCED_INSTANCE_ID`): the member does nothing more.
    Fatal(Error),
}

impl GroupResponse {
    pub(super) fn name(&self) -> &'static str {
        match self {
            GroupResponse::FindCoordinator { .. } => "FindCoordinator",
            GroupResponse::Metadata { .. } => "Metadata",
            GroupResponse::Prepared => "PrepareAssignment",
            GroupResponse::Topics { .. } => "ListTopics",
            GroupResponse::JoinGroup(_) => "JoinGroup",
            GroupResponse::SyncGroup(_) => "SyncGroup",
            GroupResponse::Heartbeat(_) => "Heartbeat",
            GroupResponse::LeaveGroup(_) => "LeaveGroup",
        }
    }
}
