//! The member's own rebalance: JoinGroup, the leader's assignment, SyncGroup, and what each
//! answer means (the error table of [`crate::group::membership`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tracing::{debug, info, warn};

use crate::error::Error;
use crate::group::assignor::{
    decode_assignment, encode_subscription, Assignment, Assignor, RebalanceProtocol, Subscription,
};
use crate::group::leader::LeaderView;
use crate::group::membership::Next;
use crate::group::timer::Timer;
use crate::protocol::messages::join_group_response::JoinGroupResponse;
use crate::protocol::messages::sync_group_response::SyncGroupResponse;

use super::{Event, GroupRequest, JoinResult, MemberCore, Rebalance};

impl MemberCore {
    pub(super) fn join_group_request(&mut self, now: Instant) -> GroupRequest {
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
        self.joined_topics = self.topics.clone();
        let request = self.membership.join_request(protocols, &self.reason);
        let timeout = self.config.membership.rebalance_timeout + self.request_timeout;
        self.timers.set(Timer::Rebalance, now + timeout);
        GroupRequest::JoinGroup { request, timeout }
    }

    pub(super) fn on_join_response(&mut self, now: Instant, resp: JoinGroupResponse) {
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
                                detail: format!(
                                    "the coordinator chose assignor {name:?}, which this member did not offer"
                                ),
                            });
                        }
                        let prepare = self.chosen_assignor().is_some_and(|a| a.needs_prepare());
                        match LeaderView::decode(members) {
                            Ok(view) if prepare => Rebalance::Prepare(view),
                            Ok(view) => Rebalance::NeedMetadata(view),
                            Err(e) => return self.join_failed(e),
                        }
                    }
                };
            }
            next => self.retry_step(now, next, "JoinGroup"),
        }
    }

    pub(super) fn on_sync_response(&mut self, now: Instant, resp: SyncGroupResponse) {
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

    pub(super) fn chosen_assignor(&self) -> Option<&Arc<dyn Assignor>> {
        let name = self.membership.protocol_name()?;
        self.assignors.iter().find(|a| a.name() == name)
    }

    /// The leader lost track of the assignor the coordinator chose (the generation was reset
    /// under it): the join fails.
    pub(super) fn assignor_gone(&mut self) {
        self.join_failed(Error::Protocol {
            operation: "JoinGroup",
            detail: "the chosen assignor is gone".into(),
        });
    }

    pub(super) fn lead(&mut self, view: &LeaderView, partitions_per_topic: &BTreeMap<String, i32>) {
        let Some(assignor) = self.chosen_assignor().cloned() else {
            return self.assignor_gone();
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
        let follow_up = self
            .chosen_assignor()
            .map(|a| a.on_assignment(&assignment, generation))
            .unwrap_or_default();
        // A new assignment replaces the schedule of the previous one.
        match follow_up.rebalance_after {
            Some(after) => {
                debug!(
                    group = %self.config.membership.group_id,
                    ?after,
                    "the assignor asked for a follow-up rebalance"
                );
                self.timers.set(Timer::ScheduledRebalance, now + after);
            }
            None => self.timers.stop(Timer::ScheduledRebalance),
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
        } else if self.joined_topics != self.topics {
            // The subscription changed while the rebalance ran (a pattern matched new topics):
            // this generation was joined with the old one (Java's `joinedSubscription`).
            self.request_rejoin("subscribed topics changed");
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
        self.auto_commit_after_rebalance(now);
    }

    /// The follow-up rebalance the assignor asked for is due: rejoin if stable (a rebalance
    /// under way brings a new assignment, which schedules anew).
    pub(super) fn scheduled_rebalance_due(&mut self) {
        if self.is_stable() {
            info!(
                group = %self.config.membership.group_id,
                "follow-up rebalance asked for by the assignor is due; rejoining"
            );
            self.request_rejoin("scheduled rebalance requested by the assignor");
            self.events.push_back(Event::RejoinNeeded);
        }
    }

    /// The JoinGroup/SyncGroup round did not complete in time: give it up and join again on
    /// a rediscovered coordinator (Java disconnects on the request timeout).
    pub(super) fn rebalance_timed_out(&mut self, now: Instant) {
        if !matches!(
            self.rebalance,
            Rebalance::Joining(_)
                | Rebalance::Syncing(_)
                | Rebalance::Prepare(_)
                | Rebalance::Preparing(..)
                | Rebalance::NeedMetadata(_)
                | Rebalance::FetchingMetadata(..)
                | Rebalance::Sync(_)
        ) {
            return;
        }
        let group = &self.config.membership.group_id;
        warn!(%group, "the rebalance did not complete in time; joining again");
        self.coordinator = None;
        self.reason = "rebalance timed out".into();
        self.rebalance = Rebalance::Join;
        self.timers
            .set(Timer::Backoff, now + self.config.membership.retry_backoff);
    }
}
