//! A consumer-group member as a plain state machine: no sockets, no clock, no tasks.
//!
//! [`MemberCore`] owns everything a member decides: the membership state ([`Membership`]),
//! which request goes out next and to whom ([`MemberCore::poll_request`]), what the
//! application must hear about ([`MemberCore::poll_event`]) and every timer
//! ([`MemberCore::poll_timeout`]). The I/O shell ([`super::member`]) only sends what it is
//! asked to, feeds each outcome back with the time it arrived ([`MemberCore::handle_response`],
//! [`MemberCore::handle_error`]), calls [`MemberCore::handle_timeout`] when the earliest timer
//! fires, and passes the application's commands on ([`MemberCore::join`],
//! [`MemberCore::handle_poll`], [`MemberCore::request_rejoin`], [`MemberCore::leave`]).
//!
//! The timers follow the Java client's `Heartbeat` class and its heartbeat thread
//! (`AbstractCoordinator`):
//!
//! * a heartbeat goes out every `heartbeat.interval.ms` while the member is joined
//!   (`CompletingRebalance` or `Stable`), `retry.backoff.ms` after a failed one;
//! * no successful heartbeat for `session.timeout.ms` means the coordinator is presumed dead:
//!   it is looked up again (`sessionTimeoutExpired`);
//! * no application poll for `max.poll.interval.ms` makes the member leave the group and lose
//!   its partitions (`pollTimeoutExpired`);
//! * a JoinGroup/SyncGroup that does not complete within the rebalance timeout (plus
//!   `request.timeout.ms`) is abandoned and the join retried on a rediscovered coordinator;
//! * auto commit is due every `auto.commit.interval.ms`, only while the member is stable: a
//!   commit due during a rebalance waits for its end, so no offsets go out with a generation
//!   that is being replaced.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::error::Error;
use crate::protocol::messages::heartbeat_request::HeartbeatRequest;
use crate::protocol::messages::heartbeat_response::HeartbeatResponse;
use crate::protocol::messages::join_group_request::JoinGroupRequest;
use crate::protocol::messages::join_group_response::JoinGroupResponse;
use crate::protocol::messages::leave_group_request::LeaveGroupRequest;
use crate::protocol::messages::leave_group_response::LeaveGroupResponse;
use crate::protocol::messages::sync_group_request::SyncGroupRequest;
use crate::protocol::messages::sync_group_response::SyncGroupResponse;
use crate::protocol::ErrorCode;
use crate::TopicPartition;

use super::assignor::{
    common_protocol, decode_assignment, encode_subscription, Assignment, Assignor,
    RebalanceProtocol, Subscription,
};
use super::leader::LeaderView;
use super::membership::{MemberState, Membership, MembershipConfig, Next, NO_GENERATION};
use super::offsets::CommitIdentity;
use super::timer::{Timer, TimerTable};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Any broker (coordinator discovery, metadata).
    AnyBroker,
    /// The group coordinator.
    Coordinator,
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
        /// Every topic a member subscribes to.
        topics: Vec<String>,
    },
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
            GroupRequest::FindCoordinator | GroupRequest::Metadata { .. } => Destination::AnyBroker,
            _ => Destination::Coordinator,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            GroupRequest::FindCoordinator => "FindCoordinator",
            GroupRequest::Metadata { .. } => "Metadata",
            GroupRequest::JoinGroup { .. } => "JoinGroup",
            GroupRequest::SyncGroup(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::LeaveGroup(_) => "LeaveGroup",
        }
    }
}

/// A request handed out by [`MemberCore::poll_request`].
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
    /// for the second rebalance ([`MemberCore::rejoin_needed`]).
    Assigned(JoinResult),
    /// The coordinator started a rebalance (or an offset commit found one): rejoin. The
    /// partitions are kept until then.
    RejoinNeeded,
    /// The member's generation is gone (fenced, expired, or it left on `max.poll.interval.ms`):
    /// its partitions may belong to another member already; commit nothing for them, rejoin.
    PartitionsLost,
    /// Auto commit is due (`auto.commit.interval.ms`); the member is stable.
    CommitDue,
    /// A join failed with an error the caller of [`MemberCore::join`] should see; the member
    /// still needs to join.
    JoinFailed(Error),
    /// The LeaveGroup asked for by [`MemberCore::leave`] completed (or there was nothing to
    /// leave).
    Left(Result<(), Error>),
    /// An unrecoverable error (e.g. `FENCED_INSTANCE_ID`): the member does nothing more.
    Fatal(Error),
}

/// Why offsets cannot be committed right now (Java's `generationIfStable` returning null).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitRefused {
    /// A rebalance is under way: finish it (poll), then commit again.
    #[error("the group is rebalancing; complete the rebalance by polling, then commit again")]
    RebalanceInProgress,
    /// The member has no generation (it was fenced, timed out or left).
    #[error("the member is not part of an active generation (it was fenced or left the group)")]
    NotInGroup,
    /// The member failed for good.
    #[error(transparent)]
    Fatal(Error),
}

impl CommitRefused {
    /// As the crate's error, with the broker error code the coordinator would have answered.
    pub fn into_error(self, group: &str) -> Error {
        let code = match self {
            CommitRefused::RebalanceInProgress => ErrorCode::REBALANCE_IN_PROGRESS,
            CommitRefused::NotInGroup => ErrorCode::UNKNOWN_MEMBER_ID,
            CommitRefused::Fatal(e) => return e,
        };
        Error::kafka(
            "OffsetCommit",
            format!("group {group}"),
            code,
            Some(self.to_string()),
        )
    }
}

/// Where the member is in a rebalance it runs.
#[derive(Debug, Clone)]
enum Rebalance {
    /// Not rebalancing.
    Idle,
    /// JoinGroup to send (once the coordinator is known and the backoff passed).
    Join,
    /// JoinGroup in flight.
    Joining(RequestId),
    /// Leader: partition counts needed.
    NeedMetadata(LeaderView),
    /// Leader: partition counts asked for.
    FetchingMetadata(RequestId, LeaderView),
    /// SyncGroup to send with these assignments.
    Sync(Vec<(String, bytes::Bytes)>),
    /// SyncGroup in flight.
    Syncing(RequestId),
}

#[derive(Debug, Clone)]
enum Leave {
    None,
    Pending {
        request: LeaveGroupRequest,
        report: bool,
    },
    InFlight {
        id: RequestId,
        report: bool,
    },
}

/// One group member's decisions: state, requests to send, events, timers.
#[derive(Debug)]
pub struct MemberCore {
    config: MemberConfig,
    request_timeout: Duration,
    membership: Membership,
    assignors: Vec<Arc<dyn Assignor>>,
    protocol: RebalanceProtocol,
    timers: TimerTable,
    coordinator: Option<i32>,
    finding: Option<RequestId>,
    rebalance: Rebalance,
    heartbeat_in_flight: Option<(RequestId, i32)>,
    heartbeat_due: bool,
    leave: Leave,
    topics: Vec<String>,
    owned: Vec<TopicPartition>,
    reason: String,
    auto_commit: Option<Duration>,
    commit_deferred: bool,
    closed: bool,
    fatal: Option<Error>,
    events: VecDeque<Event>,
    next_id: u64,
}

/// Errors after which the same step may succeed against a (re)discovered coordinator.
fn is_transient(e: &Error) -> bool {
    e.is_retriable() || matches!(e, Error::Connection(_) | Error::Timeout { .. })
}

impl MemberCore {
    /// A member that has not joined. `assignors` are in order of preference (at least one);
    /// `request_timeout` is the client's `request.timeout.ms`.
    pub fn new(
        config: MemberConfig,
        request_timeout: Duration,
        assignors: Vec<Arc<dyn Assignor>>,
    ) -> Self {
        MemberCore {
            membership: Membership::new(config.membership.clone()),
            protocol: common_protocol(&assignors),
            config,
            request_timeout,
            assignors,
            timers: TimerTable::default(),
            coordinator: None,
            finding: None,
            rebalance: Rebalance::Idle,
            heartbeat_in_flight: None,
            heartbeat_due: false,
            leave: Leave::None,
            topics: Vec::new(),
            owned: Vec::new(),
            reason: "joining".into(),
            auto_commit: None,
            commit_deferred: false,
            closed: false,
            fatal: None,
            events: VecDeque::new(),
            next_id: 0,
        }
    }

    // ---- getters ----

    /// The membership state (member id, generation, protocol).
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// The settings.
    pub fn config(&self) -> &MemberConfig {
        &self.config
    }

    /// The rebalance protocol all assignors support.
    pub fn protocol(&self) -> RebalanceProtocol {
        self.protocol
    }

    /// The coordinator's node id, if known.
    pub fn coordinator(&self) -> Option<i32> {
        self.coordinator
    }

    /// Whether the member must (re)join before it can consume.
    pub fn rejoin_needed(&self) -> bool {
        self.membership.rejoin_needed()
    }

    /// Whether a JoinGroup/SyncGroup round is under way.
    pub fn is_rebalancing(&self) -> bool {
        !matches!(self.rebalance, Rebalance::Idle)
    }

    /// Who the member is now (for transactional offset commits, KIP-447).
    pub fn identity(&self) -> CommitIdentity {
        CommitIdentity {
            generation_id: self.membership.generation(),
            member_id: self.membership.member_id().to_owned(),
            group_instance_id: self.config.membership.group_instance_id.clone(),
        }
    }

    /// The identity to commit offsets with, if the member may commit now: only a stable member
    /// commits (Java's `generationIfStable`); during a rebalance the commit must wait for it.
    pub fn commit_identity(&self) -> Result<CommitIdentity, CommitRefused> {
        if let Some(e) = &self.fatal {
            return Err(CommitRefused::Fatal(e.clone()));
        }
        if self.membership.state() == MemberState::Stable && self.membership.can_commit() {
            return Ok(self.identity());
        }
        if self.is_rebalancing()
            || matches!(
                self.membership.state(),
                MemberState::PreparingRebalance | MemberState::CompletingRebalance
            )
        {
            Err(CommitRefused::RebalanceInProgress)
        } else {
            Err(CommitRefused::NotInGroup)
        }
    }

    /// The unrecoverable error the member stopped on, if any.
    pub fn fatal_error(&self) -> Option<&Error> {
        self.fatal.as_ref()
    }

    /// When `timer` fires, if armed.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.timers.get(timer)
    }

    // ---- application commands ----

    /// Join (or rejoin) the group subscribing to `topics`, owning `owned` now (kept across the
    /// rebalance under the cooperative protocol). Does nothing if a join is already under way
    /// except update the subscription for the next JoinGroup.
    pub fn join(&mut self, topics: Vec<String>, owned: Vec<TopicPartition>) {
        if self.fatal.is_some() {
            return;
        }
        if self.closed {
            self.events
                .push_back(Event::JoinFailed(Error::InvalidArgument(
                    "the member left the group; create a new one to join again".into(),
                )));
            return;
        }
        self.topics = topics;
        self.owned = owned;
        if matches!(self.rebalance, Rebalance::Idle) {
            self.rebalance = Rebalance::Join;
        }
    }

    /// Ask for a rejoin at the next opportunity (subscription changed, …).
    pub fn request_rejoin(&mut self, reason: &str) {
        self.membership.request_rejoin();
        self.reason = reason.to_owned();
    }

    /// The application polled (asked for records): restart `max.poll.interval.ms`.
    pub fn handle_poll(&mut self, now: Instant) {
        if !self.closed && self.fatal.is_none() {
            self.timers
                .set(Timer::PollInterval, now + self.config.max_poll_interval);
        }
    }

    /// Commit every `interval` while stable (`enable.auto.commit`), or never (`None`).
    pub fn set_auto_commit(&mut self, now: Instant, interval: Option<Duration>) {
        self.auto_commit = interval;
        match interval {
            Some(i) => self.timers.set(Timer::AutoCommit, now + i),
            None => self.timers.stop(Timer::AutoCommit),
        }
    }

    /// Leave the group (LeaveGroup; static members only stop, KIP-345). The core stops
    /// everything else; [`Event::Left`] reports the outcome.
    pub fn leave(&mut self, reason: &str) {
        self.closed = true;
        self.rebalance = Rebalance::Idle;
        self.heartbeat_due = false;
        for t in Timer::ALL {
            self.timers.stop(t);
        }
        match self.membership.leave_request(reason, false) {
            Some(request) => {
                self.leave = Leave::Pending {
                    request,
                    report: true,
                }
            }
            None => self.events.push_back(Event::Left(Ok(()))),
        }
    }

    /// An OffsetCommit sent with `identity` (from [`MemberCore::commit_identity`]) completed.
    /// As in the Java consumer: `REBALANCE_IN_PROGRESS` asks for a rejoin and keeps the
    /// generation (the commit can be retried once the rebalance completed);
    /// `UNKNOWN_MEMBER_ID`/`ILLEGAL_GENERATION` for the current generation lose the partitions;
    /// `FENCED_INSTANCE_ID` is fatal. `auto` marks an auto commit: it is retried after the
    /// rebalance, or after `retry.backoff.ms` when the error was retriable.
    pub fn handle_commit_result(
        &mut self,
        now: Instant,
        identity: &CommitIdentity,
        result: Result<(), &Error>,
        auto: bool,
    ) {
        let Err(e) = result else { return };
        match e.code() {
            Some(ErrorCode::REBALANCE_IN_PROGRESS) => {
                debug!(group = %self.config.membership.group_id, "offset commit found a rebalance; rejoining");
                self.request_rejoin("offset commit failed since the group is rebalancing");
                self.events.push_back(Event::RejoinNeeded);
                if auto {
                    self.commit_deferred = true;
                }
            }
            // Only if nothing moved on since (Java's resetGenerationOnResponseError).
            Some(ErrorCode::UNKNOWN_MEMBER_ID | ErrorCode::ILLEGAL_GENERATION)
                if identity.generation_id == self.membership.generation()
                    && identity.member_id == self.membership.member_id() =>
            {
                self.membership.reset();
                self.partitions_lost(true);
            }
            Some(ErrorCode::FENCED_INSTANCE_ID) => self.fail(e.clone()),
            _ if auto && is_transient(e) => {
                self.timers.set(
                    Timer::AutoCommit,
                    now + self.config.membership.retry_backoff,
                );
            }
            _ => {}
        }
    }

    // ---- outputs ----

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest armed timer: call [`MemberCore::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_timeout()
    }

    /// The next request to send now, if any (call until `None`).
    pub fn poll_request(&mut self, now: Instant) -> Option<OutgoingRequest> {
        if self.fatal.is_some() {
            return None;
        }
        let backoff = self.timers.is_pending(Timer::Backoff, now);
        if self.needs_coordinator() && self.coordinator.is_none() {
            if self.finding.is_some() || backoff {
                return None;
            }
            return Some(self.issue(GroupRequest::FindCoordinator, |s, id| s.finding = Some(id)));
        }
        if let Leave::Pending { .. } = self.leave {
            let Leave::Pending { request, report } =
                std::mem::replace(&mut self.leave, Leave::None)
            else {
                return None;
            };
            return Some(self.issue(GroupRequest::LeaveGroup(request), |s, id| {
                s.leave = Leave::InFlight { id, report }
            }));
        }
        match std::mem::replace(&mut self.rebalance, Rebalance::Idle) {
            Rebalance::Join if !backoff => {
                let request = self.join_group_request(now);
                return Some(self.issue(request, |s, id| s.rebalance = Rebalance::Joining(id)));
            }
            Rebalance::NeedMetadata(view) => {
                let topics = view.topics();
                return Some(self.issue(GroupRequest::Metadata { topics }, |s, id| {
                    s.rebalance = Rebalance::FetchingMetadata(id, view)
                }));
            }
            Rebalance::Sync(assignments) => {
                let request = self.membership.sync_request(assignments);
                self.timers
                    .set(Timer::Rebalance, now + self.request_timeout);
                return Some(self.issue(GroupRequest::SyncGroup(request), |s, id| {
                    s.rebalance = Rebalance::Syncing(id)
                }));
            }
            other => self.rebalance = other,
        }
        if self.heartbeat_due && self.heartbeat_in_flight.is_none() && self.is_joined() {
            self.heartbeat_due = false;
            // Java's Heartbeat.sentHeartbeat: the next one is due an interval after this one.
            self.timers
                .set(Timer::Heartbeat, now + self.config.heartbeat_interval);
            let generation = self.membership.generation();
            let request = self.membership.heartbeat_request();
            return Some(self.issue(GroupRequest::Heartbeat(request), |s, id| {
                s.heartbeat_in_flight = Some((id, generation))
            }));
        }
        None
    }

    // ---- inputs ----

    /// Timers that fired by `now` take effect.
    pub fn handle_timeout(&mut self, now: Instant) {
        for timer in self.timers.take_expired(now) {
            match timer {
                Timer::Heartbeat => self.heartbeat_due = self.is_joined(),
                Timer::Session => {
                    if self.is_joined() && self.coordinator.is_some() {
                        warn!(
                            group = %self.config.membership.group_id,
                            "no successful heartbeat for session.timeout.ms; looking the coordinator up again"
                        );
                        self.coordinator = None;
                        // The heartbeat in flight went to the presumed-dead coordinator.
                        self.heartbeat_in_flight = None;
                        self.heartbeat_due = true;
                    }
                }
                Timer::PollInterval => {
                    if self.is_joined() && !self.closed {
                        self.poll_interval_expired();
                    }
                }
                Timer::Rebalance => self.rebalance_timed_out(now),
                Timer::AutoCommit => {
                    if let Some(interval) = self.auto_commit {
                        if self.is_stable() {
                            self.events.push_back(Event::CommitDue);
                            self.timers.set(Timer::AutoCommit, now + interval);
                        } else {
                            debug!(group = %self.config.membership.group_id, "auto commit due during a rebalance; deferred");
                            self.commit_deferred = true;
                        }
                    }
                }
                Timer::Backoff => {}
            }
        }
    }

    /// The answer to request `id` arrived at `now`.
    pub fn handle_response(&mut self, now: Instant, id: RequestId, response: GroupResponse) {
        match response {
            GroupResponse::FindCoordinator { node } if self.finding == Some(id) => {
                self.finding = None;
                self.coordinator = Some(node);
                debug!(group = %self.config.membership.group_id, node, "coordinator found");
                if self.is_joined() {
                    // Java's resetSessionTimeout on discovery.
                    self.timers
                        .set(Timer::Session, now + self.config.membership.session_timeout);
                }
            }
            GroupResponse::Metadata {
                partitions_per_topic,
            } => {
                let Rebalance::FetchingMetadata(sent, view) =
                    std::mem::replace(&mut self.rebalance, Rebalance::Idle)
                else {
                    return self.stale("Metadata");
                };
                if sent != id {
                    self.rebalance = Rebalance::FetchingMetadata(sent, view);
                    return self.stale("Metadata");
                }
                self.lead(&view, &partitions_per_topic);
            }
            GroupResponse::JoinGroup(resp) if self.in_flight_rebalance(id) => {
                self.on_join_response(now, resp)
            }
            GroupResponse::SyncGroup(resp) if self.in_flight_rebalance(id) => {
                self.on_sync_response(now, resp)
            }
            GroupResponse::Heartbeat(resp) if self.is_heartbeat(id) => {
                self.on_heartbeat_response(now, resp)
            }
            GroupResponse::LeaveGroup(resp) => {
                let Leave::InFlight { id: sent, report } = self.leave else {
                    return self.stale("LeaveGroup");
                };
                if sent != id {
                    return self.stale("LeaveGroup");
                }
                self.leave = Leave::None;
                let result = match ErrorCode(resp.error_code) {
                    ErrorCode::NONE | ErrorCode::UNKNOWN_MEMBER_ID => Ok(()),
                    code => Err(Error::kafka(
                        "LeaveGroup",
                        self.config.membership.group_id.clone(),
                        code,
                        None,
                    )),
                };
                if report {
                    self.events.push_back(Event::Left(result));
                }
            }
            other => self.stale(other.name()),
        }
    }

    /// Request `id` failed without an answer (connection lost, timed out, or the coordinator
    /// lookup failed).
    pub fn handle_error(&mut self, now: Instant, id: RequestId, error: &Error) {
        let backoff = now + self.config.membership.retry_backoff;
        if self.finding == Some(id) {
            self.finding = None;
            debug!(group = %self.config.membership.group_id, %error, "coordinator lookup failed");
            if !is_transient(error) && self.is_rebalancing() {
                self.join_failed(error.clone());
            }
            if self.closed {
                // Closing: no coordinator, no LeaveGroup (the session expires instead).
                if let Leave::Pending { report: true, .. } = self.leave {
                    self.events.push_back(Event::Left(Err(error.clone())));
                }
                self.leave = Leave::None;
            }
            self.timers.set(Timer::Backoff, backoff);
        } else if self.in_flight_rebalance(id)
            || matches!(self.rebalance, Rebalance::FetchingMetadata(sent, _) if sent == id)
        {
            if is_transient(error) {
                debug!(group = %self.config.membership.group_id, %error, "join retrying");
                if self.in_flight_rebalance(id) {
                    // The coordinator's connection failed or timed out: look it up again.
                    self.coordinator = None;
                    self.reason = "coordinator moved".into();
                }
                self.rebalance = Rebalance::Join;
                self.timers.stop(Timer::Rebalance);
                self.timers.set(Timer::Backoff, backoff);
            } else {
                self.join_failed(error.clone());
            }
        } else if self.is_heartbeat(id) {
            self.heartbeat_in_flight = None;
            debug!(group = %self.config.membership.group_id, %error, "heartbeat failed");
            // Java's failHeartbeat: try again after the backoff, on a rediscovered coordinator.
            self.coordinator = None;
            self.timers.set(Timer::Heartbeat, backoff);
        } else if matches!(self.leave, Leave::InFlight { id: sent, .. } if sent == id) {
            if let Leave::InFlight { report: true, .. } = self.leave {
                self.events.push_back(Event::Left(Err(error.clone())));
            }
            self.leave = Leave::None;
        }
    }

    // ---- internals ----

    fn issue(
        &mut self,
        request: GroupRequest,
        track: impl FnOnce(&mut Self, RequestId),
    ) -> OutgoingRequest {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        track(self, id);
        debug!(group = %self.config.membership.group_id, request = request.name(), "sending");
        OutgoingRequest { id, request }
    }

    fn stale(&self, what: &str) {
        debug!(group = %self.config.membership.group_id, what, "ignoring an answer to a request given up on");
    }

    fn needs_coordinator(&self) -> bool {
        !matches!(self.leave, Leave::None)
            || (!self.closed && (matches!(self.rebalance, Rebalance::Join) || self.is_joined()))
    }

    /// Joined a generation (heartbeats run): `CompletingRebalance` or `Stable`.
    fn is_joined(&self) -> bool {
        !self.closed
            && matches!(
                self.membership.state(),
                MemberState::Stable | MemberState::CompletingRebalance
            )
    }

    /// Stable with nothing to rejoin: offsets may be auto-committed.
    fn is_stable(&self) -> bool {
        self.fatal.is_none()
            && !self.closed
            && !self.is_rebalancing()
            && !self.membership.rejoin_needed()
    }

    fn in_flight_rebalance(&self, id: RequestId) -> bool {
        matches!(self.rebalance, Rebalance::Joining(sent) | Rebalance::Syncing(sent) if sent == id)
    }

    fn is_heartbeat(&self, id: RequestId) -> bool {
        matches!(self.heartbeat_in_flight, Some((sent, _)) if sent == id)
    }

    fn join_group_request(&mut self, now: Instant) -> GroupRequest {
        let generation = self.membership.generation();
        let subscription = Subscription {
            topics: self.topics.clone(),
            user_data: None,
            owned_partitions: match self.protocol {
                RebalanceProtocol::Cooperative => self.owned.clone(),
                RebalanceProtocol::Eager => Vec::new(),
            },
            generation_id: generation,
            rack_id: self.config.client_rack.clone(),
        };
        let protocols = self
            .assignors
            .iter()
            .map(|a| {
                let mut s = subscription.clone();
                s.user_data =
                    a.subscription_user_data(&self.topics, &s.owned_partitions, generation);
                (a.name().to_owned(), encode_subscription(&s))
            })
            .collect();
        let request = self.membership.join_request(protocols, &self.reason);
        let timeout = self.config.membership.rebalance_timeout + self.request_timeout;
        self.timers.set(Timer::Rebalance, now + timeout);
        GroupRequest::JoinGroup { request, timeout }
    }

    fn on_join_response(&mut self, now: Instant, resp: JoinGroupResponse) {
        self.rebalance = Rebalance::Idle;
        match self.membership.on_join_response(resp) {
            Next::Sync { members } => {
                self.enter_completing_rebalance(now);
                self.rebalance = match members {
                    None => Rebalance::Sync(Vec::new()),
                    Some(members) => {
                        if self.chosen_assignor().is_none() {
                            let name = self.membership.protocol_name().map(str::to_owned);
                            return self.join_failed(Error::Protocol {
                                operation: "JoinGroup",
                                detail: format!("the coordinator chose assignor {name:?}, which this member did not offer"),
                            });
                        }
                        match LeaderView::decode(members) {
                            Ok(view) => Rebalance::NeedMetadata(view),
                            Err(e) => return self.join_failed(e),
                        }
                    }
                };
            }
            next => self.retry_step(now, next, "JoinGroup"),
        }
    }

    fn on_sync_response(&mut self, now: Instant, resp: SyncGroupResponse) {
        self.rebalance = Rebalance::Idle;
        self.timers.stop(Timer::Rebalance);
        match self.membership.on_sync_response(resp) {
            Next::Assigned(bytes) => match decode_assignment(bytes) {
                Ok(assignment) => self.assigned(now, assignment),
                Err(e) => self.join_failed(Error::Protocol {
                    operation: "SyncGroup",
                    detail: format!("undecodable assignment: {e}"),
                }),
            },
            Next::Rejoin => {
                self.reason = "rebalance in progress during sync".into();
                self.rebalance = Rebalance::Join;
            }
            next => self.retry_step(now, next, "SyncGroup"),
        }
    }

    /// The JoinGroup/SyncGroup outcomes other than success.
    fn retry_step(&mut self, now: Instant, next: Next, operation: &'static str) {
        match next {
            Next::Rejoin => self.rebalance = Rebalance::Join,
            Next::Lost => {
                self.partitions_lost(true);
                self.rebalance = Rebalance::Join;
            }
            Next::RetryAfter(d) => {
                self.rebalance = Rebalance::Join;
                self.timers.set(Timer::Backoff, now + d);
            }
            Next::FindCoordinator => {
                self.coordinator = None;
                self.reason = "coordinator moved".into();
                self.rebalance = Rebalance::Join;
                self.timers
                    .set(Timer::Backoff, now + self.config.membership.retry_backoff);
            }
            Next::Fatal(e) => self.fail(e),
            Next::Continue | Next::Sync { .. } | Next::Assigned(_) => {
                debug!(operation, "unexpected step; rejoining");
                self.rebalance = Rebalance::Join;
            }
        }
        if !matches!(self.rebalance, Rebalance::Idle) {
            self.timers.stop(Timer::Rebalance);
        }
    }

    /// Java's `Heartbeat.resetTimeouts` when the heartbeat thread is enabled after JoinGroup.
    fn enter_completing_rebalance(&mut self, now: Instant) {
        let c = &self.config;
        self.timers
            .set(Timer::Session, now + c.membership.session_timeout);
        self.timers
            .set(Timer::PollInterval, now + c.max_poll_interval);
        self.timers
            .set(Timer::Heartbeat, now + c.heartbeat_interval);
        self.timers
            .set(Timer::Rebalance, now + c.membership.rebalance_timeout);
        self.heartbeat_due = false;
    }

    fn chosen_assignor(&self) -> Option<&Arc<dyn Assignor>> {
        let name = self.membership.protocol_name()?;
        self.assignors.iter().find(|a| a.name() == name)
    }

    fn lead(&mut self, view: &LeaderView, partitions_per_topic: &BTreeMap<String, i32>) {
        let Some(assignor) = self.chosen_assignor().cloned() else {
            return self.join_failed(Error::Protocol {
                operation: "JoinGroup",
                detail: "the chosen assignor is gone".into(),
            });
        };
        match view.assign(&assignor, partitions_per_topic) {
            Ok(assignments) => {
                debug!(
                    group = %self.config.membership.group_id,
                    assignor = assignor.name(),
                    members = view.members.len(),
                    "computed assignment as leader"
                );
                self.rebalance = Rebalance::Sync(assignments);
            }
            Err(e) => self.join_failed(e),
        }
    }

    fn assigned(&mut self, now: Instant, assignment: Assignment) {
        let generation = self.membership.generation();
        if let Some(a) = self.chosen_assignor() {
            a.on_assignment(&assignment, generation);
        }
        let revoked = self
            .owned
            .iter()
            .filter(|tp| !assignment.partitions.contains(tp))
            .count();
        self.owned = assignment.partitions.clone();
        info!(
            group = %self.config.membership.group_id,
            generation,
            member = %self.membership.member_id(),
            partitions = assignment.partitions.len(),
            "joined group"
        );
        if self.protocol == RebalanceProtocol::Cooperative && revoked > 0 {
            // KIP-429: partitions given up are handed over in a second rebalance, started as
            // soon as the application has revoked them (its next join).
            self.request_rejoin("need to revoke partitions and re-join");
        } else {
            self.reason = "joining".into();
        }
        self.timers
            .set(Timer::PollInterval, now + self.config.max_poll_interval);
        self.events.push_back(Event::Assigned(JoinResult {
            generation,
            assignment,
            member_id: self.membership.member_id().to_owned(),
        }));
        if let Some(interval) = self.auto_commit {
            if self.commit_deferred && self.is_stable() {
                self.commit_deferred = false;
                self.events.push_back(Event::CommitDue);
                self.timers.set(Timer::AutoCommit, now + interval);
            } else if self.timers.get(Timer::AutoCommit).is_none() && !self.commit_deferred {
                self.timers.set(Timer::AutoCommit, now + interval);
            }
        }
    }

    fn on_heartbeat_response(&mut self, now: Instant, resp: HeartbeatResponse) {
        let Some((_, generation)) = self.heartbeat_in_flight.take() else {
            return;
        };
        let had_generation = self.membership.generation() != NO_GENERATION;
        let stable = self.membership.state() == MemberState::Stable;
        match self
            .membership
            .on_heartbeat_response(ErrorCode(resp.error_code), generation)
        {
            Next::Continue => self.heartbeat_received(now),
            Next::Rejoin => {
                // Java keeps heartbeating through the rebalance so the session stays alive.
                self.heartbeat_received(now);
                if stable {
                    self.reason = "group is rebalancing".into();
                    self.events.push_back(Event::RejoinNeeded);
                }
            }
            Next::Lost => self.partitions_lost(had_generation),
            Next::FindCoordinator => {
                self.coordinator = None;
                self.timers
                    .set(Timer::Heartbeat, now + self.config.membership.retry_backoff);
            }
            Next::Fatal(e) => self.fail(e),
            Next::RetryAfter(_) | Next::Sync { .. } | Next::Assigned(_) => {}
        }
    }

    /// Java's `Heartbeat.receiveHeartbeat`.
    fn heartbeat_received(&mut self, now: Instant) {
        if self.is_joined() {
            self.timers
                .set(Timer::Session, now + self.config.membership.session_timeout);
        }
    }

    /// `max.poll.interval.ms` passed without a poll: leave (so the partitions move at once)
    /// and lose the partitions.
    fn poll_interval_expired(&mut self) {
        warn!(
            group = %self.config.membership.group_id,
            "no poll for max.poll.interval.ms ({:?}); leaving the group",
            self.config.max_poll_interval
        );
        let had_generation = self.membership.generation() != NO_GENERATION;
        if let Some(request) = self
            .membership
            .leave_request("consumer poll timeout has expired", true)
        {
            self.leave = Leave::Pending {
                request,
                report: false,
            };
        }
        self.rebalance = Rebalance::Idle;
        self.partitions_lost(had_generation);
    }

    /// The JoinGroup/SyncGroup round did not complete in time: give it up and join again on
    /// a rediscovered coordinator (Java disconnects on the request timeout).
    fn rebalance_timed_out(&mut self, now: Instant) {
        if !matches!(
            self.rebalance,
            Rebalance::Joining(_)
                | Rebalance::Syncing(_)
                | Rebalance::NeedMetadata(_)
                | Rebalance::FetchingMetadata(..)
                | Rebalance::Sync(_)
        ) {
            return;
        }
        warn!(group = %self.config.membership.group_id, "the rebalance did not complete in time; joining again");
        self.coordinator = None;
        self.reason = "rebalance timed out".into();
        self.rebalance = Rebalance::Join;
        self.timers
            .set(Timer::Backoff, now + self.config.membership.retry_backoff);
    }

    /// The generation is gone (the membership was reset already).
    fn partitions_lost(&mut self, had_generation: bool) {
        self.timers.stop(Timer::Heartbeat);
        self.timers.stop(Timer::Session);
        self.heartbeat_due = false;
        if matches!(
            self.rebalance,
            Rebalance::NeedMetadata(_)
                | Rebalance::FetchingMetadata(..)
                | Rebalance::Sync(_)
                | Rebalance::Syncing(_)
        ) {
            self.rebalance = Rebalance::Join;
        }
        if had_generation || !self.owned.is_empty() {
            warn!(group = %self.config.membership.group_id, "member generation lost");
            self.owned.clear();
            self.events.push_back(Event::PartitionsLost);
        }
    }

    fn join_failed(&mut self, e: Error) {
        self.rebalance = Rebalance::Idle;
        self.timers.stop(Timer::Rebalance);
        self.membership.request_rejoin();
        self.events.push_back(Event::JoinFailed(e));
    }

    fn fail(&mut self, e: Error) {
        warn!(group = %self.config.membership.group_id, error = %e, "group member failed");
        self.fatal = Some(e.clone());
        self.rebalance = Rebalance::Idle;
        self.heartbeat_due = false;
        for t in Timer::ALL {
            self.timers.stop(t);
        }
        self.events.push_back(Event::Fatal(e));
    }
}

impl GroupResponse {
    fn name(&self) -> &'static str {
        match self {
            GroupResponse::FindCoordinator { .. } => "FindCoordinator",
            GroupResponse::Metadata { .. } => "Metadata",
            GroupResponse::JoinGroup(_) => "JoinGroup",
            GroupResponse::SyncGroup(_) => "SyncGroup",
            GroupResponse::Heartbeat(_) => "Heartbeat",
            GroupResponse::LeaveGroup(_) => "LeaveGroup",
        }
    }
}

#[cfg(test)]
mod tests;
