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
//!   that is being replaced;
//! * a follow-up rebalance the assignor asked for with the last assignment
//!   ([`FollowUp`](super::assignor::FollowUp)) starts when it is due, if the member is stable;
//! * a pattern subscription lists the cluster's topics every `metadata.max.age.ms` and rejoins
//!   when the matching set changed ([`MemberCore::subscribe_pattern`]).
//!
//! Besides its timers, the member rejoins when the application asks
//! ([`MemberCore::enforce_rebalance`], Java's `enforceRebalance`). A leader whose assignor has
//! a preparation step ([`Assignor::needs_prepare`]) asks for it to run
//! ([`GroupRequest::PrepareAssignment`]) before it looks up the partition counts of the
//! subscribed topics and of the assignor's extra topics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use crate::error::Error;
use crate::protocol::messages::heartbeat_response::HeartbeatResponse;
use crate::protocol::messages::leave_group_request::LeaveGroupRequest;
use crate::protocol::ErrorCode;
use crate::TopicPartition;

use super::assignor::{common_protocol, Assignor, RebalanceProtocol};
use super::leader::LeaderView;
use super::membership::{MemberState, Membership, Next, NO_GENERATION};
use super::offsets::CommitIdentity;
use super::timer::{Timer, TimerTable};

mod commit;
mod messages;
mod pattern;
mod rebalance;

pub use commit::CommitRefused;
pub use messages::{
    Destination, Event, GroupRequest, GroupResponse, JoinResult, MemberConfig, OutgoingRequest,
    RequestId,
};

/// Where the member is in a rebalance it runs.
#[derive(Debug, Clone)]
enum Rebalance {
    /// Not rebalancing.
    Idle,
    /// JoinGroup to send (once the coordinator is known and the backoff passed).
    Join,
    /// JoinGroup in flight.
    Joining(RequestId),
    /// Leader: the assignor's preparation step to run.
    Prepare(LeaderView),
    /// Leader: the preparation step is running.
    Preparing(RequestId, LeaderView),
    /// Leader: partition counts needed.
    NeedMetadata(LeaderView),
    /// Leader: partition counts asked for.
    FetchingMetadata(RequestId, LeaderView),
    /// SyncGroup to send with these assignments.
    Sync(Vec<(String, bytes::Bytes)>),
    /// SyncGroup in flight.
    Syncing(RequestId),
}

/// A LeaveGroup to send or in flight; `report` says whether the application waits for it
/// ([`Event::Left`]) or the core left on its own (`max.poll.interval.ms`).
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
    /// Set by [`MemberCore::subscribe_pattern`]: `topics` are what it matched last.
    pattern: Option<pattern::PatternSubscription>,
    /// The topics sent in the last JoinGroup.
    joined_topics: Vec<String>,
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
            pattern: None,
            joined_topics: Vec::new(),
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

    /// Whether the application keeps consuming the partitions it owns while a rejoin is under
    /// way (Java's `poll` not waiting for the join): under the cooperative protocol the
    /// member keeps its partitions through a rebalance and gives up only those that move,
    /// once SyncGroup answered (KIP-429); under the eager protocol it revokes everything
    /// before it joins, so there is nothing to consume meanwhile.
    pub fn consumes_while_joining(&self) -> bool {
        self.protocol == RebalanceProtocol::Cooperative
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
    /// except update the subscription for the next JoinGroup. Under a pattern subscription
    /// `topics` is ignored: the member subscribes to what the pattern matched last.
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
        if self.pattern.is_none() {
            self.topics = topics;
        }
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

    /// Rejoin the group now, as Java's `KafkaConsumer.enforceRebalance(reason)`: a stable
    /// member asks for a rejoin (the coordinator starts a rebalance of the whole group when
    /// it joins, [`Event::RejoinNeeded`]); during a rebalance, or before the member joined,
    /// nothing more happens. `reason` goes to the coordinator in JoinGroup (v8+).
    pub fn enforce_rebalance(&mut self, reason: &str) {
        if self.is_stable() {
            debug!(group = %self.config.membership.group_id, reason, "rebalance enforced");
            self.request_rejoin(reason);
            self.events.push_back(Event::RejoinNeeded);
        }
    }

    /// The application polled (asked for records): restart `max.poll.interval.ms`.
    pub fn handle_poll(&mut self, now: Instant) {
        if !self.closed && self.fatal.is_none() {
            self.timers
                .set(Timer::PollInterval, now + self.config.max_poll_interval);
        }
    }

    /// Leave the group (LeaveGroup; static members only stop, KIP-345, unless `force`: then
    /// they leave too, as Java's `CloseOptions` `LEAVE_GROUP`). The core stops everything
    /// else; [`Event::Left`] reports the outcome.
    pub fn leave(&mut self, reason: &str, force: bool) {
        self.closed = true;
        self.rebalance = Rebalance::Idle;
        self.heartbeat_due = false;
        for t in Timer::ALL {
            self.timers.stop(t);
        }
        match self.membership.leave_request(reason, force) {
            Some(request) => {
                self.leave = Leave::Pending {
                    request,
                    report: true,
                }
            }
            None => self.events.push_back(Event::Left(Ok(()))),
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
        if let Some(out) = self.poll_topic_listing() {
            return Some(out);
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
            Rebalance::Join if !backoff && self.pattern_evaluated() => {
                let request = self.join_group_request(now);
                return Some(self.issue(request, |s, id| s.rebalance = Rebalance::Joining(id)));
            }
            Rebalance::Prepare(view) => {
                let Some(assignor) = self.chosen_assignor().cloned() else {
                    self.assignor_gone();
                    return None;
                };
                let request = GroupRequest::PrepareAssignment {
                    assignor,
                    generation: self.membership.generation(),
                    members: view.members.clone(),
                };
                return Some(self.issue(request, |s, id| {
                    s.rebalance = Rebalance::Preparing(id, view)
                }));
            }
            Rebalance::NeedMetadata(view) => {
                let Some(assignor) = self.chosen_assignor().cloned() else {
                    self.assignor_gone();
                    return None;
                };
                let topics = view.topics_for(assignor.as_ref());
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
                            "no heartbeat answer for session.timeout.ms; rediscovering the coordinator"
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
                Timer::AutoCommit => self.auto_commit_fired(now),
                Timer::ScheduledRebalance => self.scheduled_rebalance_due(),
                Timer::TopicRefresh => self.topic_refresh_due(),
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
            GroupResponse::Prepared => {
                let Rebalance::Preparing(sent, view) =
                    std::mem::replace(&mut self.rebalance, Rebalance::Idle)
                else {
                    return self.stale("PrepareAssignment");
                };
                if sent != id {
                    self.rebalance = Rebalance::Preparing(sent, view);
                    return self.stale("PrepareAssignment");
                }
                self.rebalance = Rebalance::NeedMetadata(view);
            }
            GroupResponse::Topics { topics } => self.on_topics(now, id, &topics),
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
        } else if self.is_topic_listing(id) {
            self.topic_listing_failed(now, error);
        } else if self.in_flight_rebalance(id)
            || matches!(
                self.rebalance,
                Rebalance::FetchingMetadata(sent, _) | Rebalance::Preparing(sent, _) if sent == id
            )
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
        let group = &self.config.membership.group_id;
        debug!(%group, what, "ignoring an answer to a request given up on");
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

    /// The generation is gone (the membership was reset already).
    fn partitions_lost(&mut self, had_generation: bool) {
        self.timers.stop(Timer::Heartbeat);
        self.timers.stop(Timer::Session);
        self.heartbeat_due = false;
        if matches!(
            self.rebalance,
            Rebalance::Prepare(_)
                | Rebalance::Preparing(..)
                | Rebalance::NeedMetadata(_)
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

#[cfg(test)]
mod tests;
