//! The `stream` assignor: Kafka Streams' `StreamsPartitionAssignor` as a
//! [`kafka_wire::group::Assignor`].
//!
//! Every member sends a [`SubscriptionInfo`] (its process id, the tasks it owns, their
//! changelog offset sums, its endpoint and client tags); the leader fetches the changelog
//! end offsets (its `prepare` step, through the [`ChangelogEndOffsets`] set with
//! [`StreamsAssignor::with_changelog_end_offsets`]), groups members by process id into
//! clients, computes the tasks ([`plan_tasks`]), places them ([`compute_assignment`]), and
//! sends each member the source partitions of its active tasks with an [`AssignmentInfo`]
//! listing its active and standby tasks. Each member's [`Assignor::on_assignment`] decodes
//! its `AssignmentInfo` into the [`AssignorHandle`] the stream thread reads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use kafka_wire::group::assignor::AssignError;
use kafka_wire::group::{
    Assignment, Assignor, FollowUp, LeaderContext, MemberSubscription, RebalanceProtocol,
};
use kafka_wire::protocol::Uuid;
use kafka_wire::TopicPartition;
use tracing::{debug, error, info, warn};

use super::assignment_configs::AssignmentConfigs;
use super::assignment_info::AssignmentInfo;
use super::codec::CodecError;
use super::end_offsets::{task_end_offset_sums, ChangelogEndOffsets, EndOffsetsError};
use super::error_code::AssignmentErrorCode;
use super::partition_grouper::{plan_tasks, GroupingError, TaskPlan};
use super::subscription_info::SubscriptionInfo;
use super::task_assignor::{compute_assignment, AssignmentInput, ClientState, MemberState};
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
/// The leader's [`Assignor::prepare`] step fetches the changelog end offsets for lags when a
/// [`ChangelogEndOffsets`] is set ([`StreamsAssignor::with_changelog_end_offsets`]) and the
/// topology has state stores; otherwise there is no such step and every client counts as
/// caught up. Internal topics are created before the application joins its group, not here.
#[derive(Debug, Clone)]
pub struct StreamsAssignor {
    topology: Arc<TopologyInfo>,
    process_id: Uuid,
    endpoint: Option<String>,
    handle: AssignorHandle,
    configs: AssignmentConfigs,
    client_tags: BTreeMap<String, String>,
    end_offsets: Option<Arc<dyn ChangelogEndOffsets>>,
    /// What the last `prepare` fetched, taken by the `assign` that follows it.
    fetched: Arc<Mutex<Option<FetchedEndOffsets>>>,
}

/// The end offset of each changelog partition, or why they could not be fetched.
type FetchedEndOffsets = Result<BTreeMap<TopicPartition, i64>, EndOffsetsError>;

impl StreamsAssignor {
    /// The assignor of a member of application instance `process_id` running `topology`,
    /// sharing `handle` with its stream thread.
    pub fn new(topology: Arc<TopologyInfo>, process_id: Uuid, handle: AssignorHandle) -> Self {
        StreamsAssignor {
            topology,
            process_id,
            endpoint: None,
            handle,
            configs: AssignmentConfigs::default(),
            client_tags: BTreeMap::new(),
            end_offsets: None,
            fetched: Arc::new(Mutex::new(None)),
        }
    }

    /// Assign with `configs` (standby replicas, acceptable recovery lag, warm-ups, probing
    /// interval, rack-aware tags) instead of Kafka's defaults.
    pub fn with_configs(mut self, configs: AssignmentConfigs) -> Self {
        self.configs = configs;
        self
    }

    /// Send this instance's client tags (`client.tag.<key>` = value) in its subscriptions.
    pub fn with_client_tags(mut self, tags: BTreeMap<String, String>) -> Self {
        self.client_tags = tags;
        self
    }

    /// Have the leader fetch the changelog end offsets through `source` before assigning, so
    /// that active tasks stay on caught-up clients while warm-ups restore (KIP-441). Without
    /// it, every client counts as caught up.
    pub fn with_changelog_end_offsets(mut self, source: Arc<dyn ChangelogEndOffsets>) -> Self {
        self.end_offsets = Some(source);
        self
    }

    /// The end-offset sums of `plan`'s stateful tasks from the last `prepare`, or `None`
    /// (with a warning if they were wanted but could not be fetched).
    fn end_offset_sums(&self, plan: &TaskPlan) -> Option<BTreeMap<TaskId, i64>> {
        self.end_offsets.as_ref()?;
        if plan.stateful_tasks.is_empty() {
            return None;
        }
        let fetched = self
            .fetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match fetched {
            Some(Ok(offsets)) => Some(task_end_offset_sums(
                &self.topology,
                &plan.stateful_tasks,
                &offsets,
            )),
            Some(Err(e)) => {
                warn!(error = %e, "assigning as if every instance were caught up on every task");
                None
            }
            None => {
                warn!("the changelog end offsets were not fetched before this assignment; assigning as if every instance were caught up on every task");
                None
            }
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
        info.client_tags = self.client_tags.clone();
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
        let end_offset_sums = self.end_offset_sums(&plan);
        let leader = LeaderParams {
            process_id: self.process_id,
            configs: &self.configs,
            end_offset_sums,
        };
        Ok(assign_plan(&plan, members, &infos, leader))
    }

    /// Whether the leader fetches changelog end offsets: a [`ChangelogEndOffsets`] is set and
    /// the topology has state stores.
    fn needs_prepare(&self) -> bool {
        self.end_offsets.is_some() && !self.topology.changelog_topics().is_empty()
    }

    /// Fetch the changelog end offsets for the `assign` that follows. Never fails: an error
    /// is kept for `assign`, which then treats every client as caught up.
    fn prepare<'a>(
        &'a self,
        context: &'a LeaderContext,
    ) -> BoxFuture<'a, Result<(), kafka_wire::Error>> {
        Box::pin(async move {
            let Some(source) = &self.end_offsets else {
                return Ok(());
            };
            let topics: Vec<String> = self
                .topology
                .changelog_topics()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let result = source.end_offsets(context, &topics).await;
            if let Ok(offsets) = &result {
                debug!(
                    partitions = offsets.len(),
                    generation = context.generation(),
                    "fetched the changelog end offsets"
                );
            }
            *self.fetched.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            Ok(())
        })
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

/// What the leader's own instance adds to the assignment.
struct LeaderParams<'a> {
    /// The leader's process id: its first member is asked for the probing rebalance.
    process_id: Uuid,
    configs: &'a AssignmentConfigs,
    /// Per stateful task, its changelog end-offset sum; `None` when unknown.
    end_offset_sums: Option<BTreeMap<TaskId, i64>>,
}

/// The leader's assignment once the tasks are known.
fn assign_plan(
    plan: &TaskPlan,
    members: &[MemberSubscription],
    infos: &[SubscriptionInfo],
    leader: LeaderParams<'_>,
) -> BTreeMap<String, Assignment> {
    let mut input = AssignmentInput {
        tasks: plan.tasks.keys().copied().collect(),
        stateful_tasks: plan.stateful_tasks.clone(),
        task_end_offset_sums: leader.end_offset_sums,
        configs: leader.configs.clone(),
        ..Default::default()
    };
    let mut endpoints: BTreeMap<Uuid, String> = BTreeMap::new();
    for (m, info) in members.iter().zip(infos) {
        let client: &mut ClientState = input.clients.entry(info.process_id).or_default();
        client.members.insert(
            m.member_id.clone(),
            MemberState {
                previous_active: info.previous_active.clone(),
                previous_standby: info.previous_standby.clone(),
                task_offset_sums: info.task_offset_sums.clone().unwrap_or_default(),
            },
        );
        if client.client_tags.is_empty() {
            client.client_tags = info.client_tags.clone();
        }
        if let Some(endpoint) = &info.endpoint {
            endpoints
                .entry(info.process_id)
                .or_insert_with(|| endpoint.clone());
        }
    }
    let assignment = compute_assignment(&input);
    let placed = &assignment.clients;
    // Kafka asks one member, the first of the leader's own instance, for the probing
    // rebalance (any member's rebalance reassigns the whole group).
    let prober: Option<&str> = assignment
        .probing_rebalance_needed
        .then(|| {
            placed
                .get(&leader.process_id)
                .and_then(|c| c.members.keys().next())
                .or_else(|| placed.values().flat_map(|c| c.members.keys()).next())
                .map(String::as_str)
        })
        .flatten();
    if let Some(prober) = prober {
        let warmups: usize = placed.values().map(|c| c.warmup.len()).sum();
        info!(
            warmups,
            member = prober,
            after_ms = leader.configs.probing_rebalance_interval.as_millis() as u64,
            "some stateful tasks stay on caught-up instances while others warm up; a probing rebalance is scheduled"
        );
    }

    // Cooperative rule: who owns each partition now (empty under the eager protocol).
    let mut owners: BTreeMap<&TopicPartition, BTreeSet<&str>> = BTreeMap::new();
    for m in members {
        for tp in &m.subscription.owned_partitions {
            owners.entry(tp).or_default().insert(m.member_id.as_str());
        }
    }
    let mut given: BTreeMap<String, BTreeMap<TaskId, Vec<TopicPartition>>> = BTreeMap::new();
    let mut standbys: BTreeMap<String, BTreeMap<TaskId, Vec<TopicPartition>>> = BTreeMap::new();
    let mut revoking: BTreeSet<&str> = BTreeSet::new();
    let mut withheld = 0usize;
    let previous_standby: BTreeMap<&str, &BTreeSet<TaskId>> = members
        .iter()
        .zip(infos)
        .map(|(m, i)| (m.member_id.as_str(), &i.previous_standby))
        .collect();
    for client in placed.values() {
        for (member, tasks) in &client.members {
            // As Kafka, a standby lists the task's source partitions (the member derives the
            // changelog partitions it restores from its topology).
            let my_standbys = standbys.entry(member.clone()).or_default();
            for task in &tasks.standby {
                let partitions = plan.tasks.get(task).cloned().unwrap_or_default();
                my_standbys.insert(*task, partitions);
            }
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
                    // A stateful task this member kept as a standby stays a standby until
                    // it can take it as active (Kafka keeps its state the same way).
                    if plan.stateful_tasks.contains(task)
                        && previous_standby
                            .get(member.as_str())
                            .is_some_and(|s| s.contains(task))
                    {
                        my_standbys.insert(*task, partitions);
                    }
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
            let standby_tasks = standbys.remove(&m.member_id).unwrap_or_default();
            // Kafka asks a member giving up tasks to rejoin at once (kafka-wire's member
            // already does under the cooperative protocol when partitions are revoked); that
            // rebalance makes a probing one needless.
            let follow_up_rebalance_after = if revoking.contains(m.member_id.as_str()) {
                Some(Duration::ZERO)
            } else if prober == Some(m.member_id.as_str()) {
                Some(leader.configs.probing_rebalance_interval)
            } else {
                None
            };
            let info = AssignmentInfo {
                latest_supported_version: super::ASSIGNMENT_INFO_VERSION,
                active_tasks,
                standby_tasks,
                follow_up_rebalance_after,
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
