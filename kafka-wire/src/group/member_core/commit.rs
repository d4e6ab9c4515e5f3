//! Offset commits and rebalances: which identity a commit may use, when auto commit is due,
//! and what an OffsetCommit error means for the membership (Java's `ConsumerCoordinator`).

use std::time::{Duration, Instant};

use tracing::debug;

use crate::error::Error;
use crate::group::membership::MemberState;
use crate::group::offsets::CommitIdentity;
use crate::group::timer::Timer;
use crate::protocol::ErrorCode;

use super::{is_transient, Event, MemberCore};

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

impl MemberCore {
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

    /// Commit every `interval` while stable (`enable.auto.commit`), or never (`None`).
    pub fn set_auto_commit(&mut self, now: Instant, interval: Option<Duration>) {
        self.auto_commit = interval;
        match interval {
            Some(i) => self.timers.set(Timer::AutoCommit, now + i),
            None => self.timers.stop(Timer::AutoCommit),
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
                let group = &self.config.membership.group_id;
                debug!(%group, "offset commit found a rebalance; rejoining");
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

    /// The auto-commit timer fired: due now if stable, else once the rebalance completed.
    pub(super) fn auto_commit_fired(&mut self, now: Instant) {
        let Some(interval) = self.auto_commit else {
            return;
        };
        if self.is_stable() {
            self.events.push_back(Event::CommitDue);
            self.timers.set(Timer::AutoCommit, now + interval);
        } else {
            let group = &self.config.membership.group_id;
            debug!(%group, "auto commit due during a rebalance; deferred");
            self.commit_deferred = true;
        }
    }

    /// A rebalance completed: a commit deferred during it is due now.
    pub(super) fn auto_commit_after_rebalance(&mut self, now: Instant) {
        let Some(interval) = self.auto_commit else {
            return;
        };
        if self.commit_deferred && self.is_stable() {
            self.commit_deferred = false;
            self.events.push_back(Event::CommitDue);
            self.timers.set(Timer::AutoCommit, now + interval);
        } else if self.timers.get(Timer::AutoCommit).is_none() && !self.commit_deferred {
            self.timers.set(Timer::AutoCommit, now + interval);
        }
    }
}
