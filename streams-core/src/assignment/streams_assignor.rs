//! The `stream` assignor: Kafka Streams' `StreamsPartitionAssignor` as a
//! [`kafka_wire::group::Assignor`].
//!
//! Every member sends a [`SubscriptionInfo`] (its process id, the tasks it owns, its
//! endpoint); the leader groups members by process id into clients, computes the tasks
//! ([`plan_tasks`]), places them ([`assign_tasks`]), and sends each member the source
//! partitions of its active tasks with an [`AssignmentInfo`]. Each member's
//! [`Assignor::on_assignment`] decodes its `AssignmentInfo` into the [`AssignorHandle`] the
//! stream thread reads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::group::assignor::AssignError;
use kafka_wire::group::{Assignment, Assignor, FollowUp, MemberSubscription, RebalanceProtocol};
use kafka_wire::protocol::Uuid;
use kafka_wire::TopicPartition;
use tracing::{error, info};

use super::assignment_info::AssignmentInfo;
use super::codec::CodecError;
use super::error_code::AssignmentErrorCode;
use super::partition_grouper::{plan_tasks, GroupingError, TaskPlan};
use super::subscription_info::SubscriptionInfo;
use super::task_assignor::{assign_tasks, AssignmentInput, MemberState};
use super::topology_info::TopologyInfo;
use crate::TaskId;

/// Kafka Streams' protocol name in JoinGroup.
pub const STREAMS_ASSIGNOR_NAME: &str = "stream";

/// An assignment as this member received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAssignment {
    /// The generation it belongs to.
    pub generation: i32,
    /// The partitions the member's consumer was assigned.
    pub partitions: Vec<TopicPartition>,
    /// The streams data: tasks, error code, follow-up; or why it could not be read.
    pub info: Result<AssignmentInfo, CodecError>,
}

/// What the stream thread and its assignor share.
#[derive(Debug, Default)]
struct SharedState {
    owned_active: BTreeSet<TaskId>,
    owned_standby: BTreeSet<TaskId>,
    task_offset_sums: Option<BTreeMap<TaskId, i64>>,
    latest: Option<ReceivedAssignment>,
    shutdown_requested: bool,
}

/// The stream thread's side of its [`StreamsAssignor`]: it tells the assignor which tasks it
/// owns (sent with the next subscription) and reads the latest assignment back. Cloning
/// gives another handle on the same state.
#[derive(Debug, Clone, Default)]
pub struct AssignorHandle(Arc<Mutex<SharedState>>);

impl AssignorHandle {
    /// A handle with no tasks and no assignment yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, SharedState> {
        // The state is plain data; a panic elsewhere cannot leave it half-updated.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Record the tasks the thread owns now (reported in its next subscription).
    pub fn set_owned_tasks(&self, active: BTreeSet<TaskId>, standby: BTreeSet<TaskId>) {
        let mut state = self.lock();
        state.owned_active = active;
        state.owned_standby = standby;
    }

    /// Record the changelog offset sums of the tasks with local state (for lags).
    pub fn set_task_offset_sums(&self, sums: Option<BTreeMap<TaskId, i64>>) {
        self.lock().task_offset_sums = sums;
    }

    /// The active and standby tasks the thread said it owns.
    pub fn owned_tasks(&self) -> (BTreeSet<TaskId>, BTreeSet<TaskId>) {
        let state = self.lock();
        (state.owned_active.clone(), state.owned_standby.clone())
    }

    /// The last assignment received, if any.
    pub fn latest_assignment(&self) -> Option<ReceivedAssignment> {
        self.lock().latest.clone()
    }

    /// Ask the whole application to shut down (Kafka Streams' `SHUTDOWN_APPLICATION`): the
    /// next subscription carries `SHUTDOWN_REQUESTED`, and the leader then gives every member
    /// that error code.
    pub fn request_shutdown(&self) {
        self.lock().shutdown_requested = true;
    }

    /// The error code of the last assignment received (`None` when there is none).
    pub fn latest_error(&self) -> AssignmentErrorCode {
        self.lock()
            .latest
            .as_ref()
            .and_then(|a| a.info.as_ref().ok())
            .map_or(AssignmentErrorCode::None, |i| i.error_code)
    }
}

/// The `stream` assignor (Kafka's `StreamsPartitionAssignor`), for one member: one per
/// stream thread's consumer, all threads of an instance sharing its process id.
///
/// Supports the cooperative protocol (preferred) and the eager one. Under the cooperative
/// protocol a partition that a member owns is never given to another member in the same
/// generation: the task is left out, its owner (which no longer gets it) revokes it and
/// rejoins at once, and the new owner gets it in that next rebalance, so no task is ever
/// processed by two members at once.
///
/// The leader's [`Assignor::prepare`] step (creating the internal topics with the counts of
/// [`TaskPlan::internal_topics`]) is not done here: the default (no preparation) is kept,
/// and internal topics are created before the application joins its group. That step plugs
/// in as `needs_prepare` / `prepare` on this type.
#[derive(Debug, Clone)]
pub struct StreamsAssignor {
    topology: Arc<TopologyInfo>,
    process_id: Uuid,
    endpoint: Option<String>,
    handle: AssignorHandle,
}

impl StreamsAssignor {
    /// The assignor of a member of application instance `process_id` running `topology`,
    /// sharing `handle` with its stream thread.
    pub fn new(topology: Arc<TopologyInfo>, process_id: Uuid, handle: AssignorHandle) -> Self {
        StreamsAssignor {
            topology,
            process_id,
            endpoint: None,
            handle,
        }
    }

    /// Advertise `application.server` (`host:port`) for interactive queries.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The handle shared with the stream thread.
    pub fn handle(&self) -> &AssignorHandle {
        &self.handle
    }

    fn fail(&self, detail: String) -> AssignError {
        AssignError {
            assignor: STREAMS_ASSIGNOR_NAME.to_owned(),
            detail,
        }
    }

    /// Every member's decoded subscription, in member order.
    fn decode_members(
        &self,
        members: &[MemberSubscription],
    ) -> Result<Vec<SubscriptionInfo>, AssignError> {
        let mut seen = BTreeSet::new();
        members
            .iter()
            .map(|m| {
                if !seen.insert(m.member_id.as_str()) {
                    return Err(self.fail(format!("member id {:?} appears more than once", m.member_id)));
                }
                let data = m.subscription.user_data.as_ref().ok_or_else(|| {
                    self.fail(format!(
                        "member {} sent no streams subscription data; every member of group {} must run this application's `stream` assignor",
                        m.member_id, self.topology.application_id
                    ))
                })?;
                SubscriptionInfo::decode(data).map_err(|e| {
                    self.fail(format!("member {}'s subscription data is unreadable: {e}", m.member_id))
                })
            })
            .collect()
    }
}

/// Every member's assignment carrying only `code`.
fn error_assignments(
    members: &[MemberSubscription],
    code: AssignmentErrorCode,
) -> BTreeMap<String, Assignment> {
    let user_data = Some(AssignmentInfo::error(code).encode());
    members
        .iter()
        .map(|m| {
            let assignment = Assignment {
                partitions: Vec::new(),
                user_data: user_data.clone(),
            };
            (m.member_id.clone(), assignment)
        })
        .collect()
}

impl Assignor for StreamsAssignor {
    fn name(&self) -> &str {
        STREAMS_ASSIGNOR_NAME
    }

    fn supported_protocols(&self) -> &[RebalanceProtocol] {
        &[RebalanceProtocol::Eager, RebalanceProtocol::Cooperative]
    }

    /// A [`SubscriptionInfo`]: this instance's process id and endpoint, and the tasks the
    /// stream thread reported through the [`AssignorHandle`].
    fn subscription_user_data(
        &self,
        _topics: &[String],
        _owned: &[TopicPartition],
        _generation: i32,
    ) -> Option<Bytes> {
        let state = self.handle.lock();
        let mut info = SubscriptionInfo::new(self.process_id);
        info.previous_active = state.owned_active.clone();
        info.previous_standby = state.owned_standby.clone();
        info.task_offset_sums = state.task_offset_sums.clone();
        info.endpoint = self.endpoint.clone();
        if state.shutdown_requested {
            info.error_code = AssignmentErrorCode::ShutdownRequested;
        }
        Some(info.encode())
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        let infos = self.decode_members(members)?;
        if let Some((m, _)) = members
            .iter()
            .zip(&infos)
            .find(|(_, i)| i.error_code == AssignmentErrorCode::ShutdownRequested)
        {
            info!(member = %m.member_id, "a member requested the application's shutdown");
            return Ok(error_assignments(
                members,
                AssignmentErrorCode::ShutdownRequested,
            ));
        }
        let plan = match plan_tasks(&self.topology, partitions_per_topic) {
            Ok(plan) => plan,
            Err(e) => {
                let code = match e {
                    GroupingError::MissingSourceTopics { .. } => {
                        AssignmentErrorCode::IncompleteSourceTopicMetadata
                    }
                    _ => AssignmentErrorCode::AssignmentError,
                };
                error!(
                    application_id = %self.topology.application_id,
                    error = %e,
                    "cannot assign tasks; every member gets {code}"
                );
                return Ok(error_assignments(members, code));
            }
        };
        Ok(assign_plan(&plan, members, &infos))
    }

    /// The repartition and changelog topics.
    fn extra_topics(&self, _members: &[MemberSubscription]) -> Vec<String> {
        self.topology.internal_topics()
    }

    /// Decode the [`AssignmentInfo`] into the [`AssignorHandle`]; ask for the follow-up
    /// rebalance it carries, if any.
    fn on_assignment(&self, assignment: &Assignment, generation: i32) -> FollowUp {
        let info = match &assignment.user_data {
            Some(data) => AssignmentInfo::decode(data),
            None => Err(CodecError::Invalid {
                what: "AssignmentInfo",
                field: "user_data",
                detail: "the assignment carries no streams data (was it computed by the `stream` assignor?)".into(),
            }),
        };
        let follow_up = match &info {
            Ok(AssignmentInfo {
                follow_up_rebalance_after: Some(after),
                ..
            }) => FollowUp::rebalance_after(*after),
            _ => FollowUp::NONE,
        };
        self.handle.lock().latest = Some(ReceivedAssignment {
            generation,
            partitions: assignment.partitions.clone(),
            info,
        });
        follow_up
    }
}

/// The leader's assignment once the tasks are known.
fn assign_plan(
    plan: &TaskPlan,
    members: &[MemberSubscription],
    infos: &[SubscriptionInfo],
) -> BTreeMap<String, Assignment> {
    let mut input = AssignmentInput {
        tasks: plan.tasks.keys().copied().collect(),
        stateful_tasks: plan.stateful_tasks.clone(),
        ..Default::default()
    };
    let mut endpoints: BTreeMap<Uuid, String> = BTreeMap::new();
    for (m, info) in members.iter().zip(infos) {
        let client = input.clients.entry(info.process_id).or_default();
        client.members.insert(
            m.member_id.clone(),
            MemberState {
                previous_active: info.previous_active.clone(),
                previous_standby: info.previous_standby.clone(),
            },
        );
        if let Some(endpoint) = &info.endpoint {
            endpoints
                .entry(info.process_id)
                .or_insert_with(|| endpoint.clone());
        }
    }
    let placed = assign_tasks(&input);

    // Cooperative rule: who owns each partition now (empty under the eager protocol).
    let mut owners: BTreeMap<&TopicPartition, BTreeSet<&str>> = BTreeMap::new();
    for m in members {
        for tp in &m.subscription.owned_partitions {
            owners.entry(tp).or_default().insert(m.member_id.as_str());
        }
    }
    let mut given: BTreeMap<String, BTreeMap<TaskId, Vec<TopicPartition>>> = BTreeMap::new();
    let mut revoking: BTreeSet<&str> = BTreeSet::new();
    let mut withheld = 0usize;
    for client in placed.values() {
        for (member, tasks) in &client.members {
            let mine = given.entry(member.clone()).or_default();
            for task in &tasks.active {
                let partitions = plan.tasks.get(task).cloned().unwrap_or_default();
                let others: Vec<&str> = partitions
                    .iter()
                    .filter_map(|tp| owners.get(tp))
                    .flatten()
                    .copied()
                    .filter(|o| *o != member.as_str())
                    .collect();
                if others.is_empty() {
                    mine.insert(*task, partitions);
                } else {
                    withheld += 1;
                    revoking.extend(others);
                }
            }
        }
    }
    if withheld > 0 {
        info!(
            withheld,
            "tasks moving between members are left out until their owners revoke them"
        );
    }

    let mut partitions_by_host: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
    for (process_id, endpoint) in &endpoints {
        let host = partitions_by_host.entry(endpoint.clone()).or_default();
        if let Some(client) = placed.get(process_id) {
            for member in client.members.keys() {
                if let Some(tasks) = given.get(member) {
                    host.extend(tasks.values().flatten().cloned());
                }
            }
        }
        host.sort();
    }

    members
        .iter()
        .map(|m| {
            let active_tasks = given.remove(&m.member_id).unwrap_or_default();
            let info = AssignmentInfo {
                latest_supported_version: super::ASSIGNMENT_INFO_VERSION,
                active_tasks,
                standby_tasks: BTreeMap::new(),
                // Kafka asks a member giving up tasks to rejoin at once; kafka-wire's member
                // already does under the cooperative protocol when partitions are revoked.
                follow_up_rebalance_after: revoking
                    .contains(m.member_id.as_str())
                    .then_some(Duration::ZERO),
                error_code: AssignmentErrorCode::None,
                partitions_by_host: partitions_by_host.clone(),
            };
            let assignment = Assignment {
                partitions: info.active_partitions(),
                user_data: Some(info.encode()),
            };
            (m.member_id.clone(), assignment)
        })
        .collect()
}

#[cfg(test)]
mod tests;
