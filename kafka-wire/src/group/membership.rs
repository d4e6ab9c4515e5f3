//! Group membership as a plain state machine (no sockets, no clock of its own).
//!
//! [`Membership`] holds what the classic group protocol needs between requests — member id,
//! generation, chosen protocol, state — builds the JoinGroup / SyncGroup / Heartbeat /
//! LeaveGroup requests, and turns each response (or error code) into a [`Next`] step for the
//! I/O shell to carry out. The error handling follows the Java client's `AbstractCoordinator`:
//!
//! | error | JoinGroup | SyncGroup | Heartbeat |
//! |---|---|---|---|
//! | `MEMBER_ID_REQUIRED` (KIP-394) | take the id, rejoin | – | – |
//! | `UNKNOWN_MEMBER_ID`, `ILLEGAL_GENERATION` | reset id/generation, rejoin | partitions lost, rejoin | partitions lost, rejoin |
//! | `REBALANCE_IN_PROGRESS` | retry | rejoin | rejoin (partitions kept) |
//! | `NOT_COORDINATOR`, `COORDINATOR_NOT_AVAILABLE` | rediscover | rediscover | rediscover |
//! | `COORDINATOR_LOAD_IN_PROGRESS` | retry after backoff | rediscover | rediscover |
//! | `FENCED_INSTANCE_ID`, `GROUP_AUTHORIZATION_FAILED`, `INVALID_SESSION_TIMEOUT`, `INCONSISTENT_GROUP_PROTOCOL`, `GROUP_MAX_SIZE_REACHED`, … | fatal | fatal | fatal |

use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;
use crate::protocol::messages::heartbeat_request::HeartbeatRequest;
use crate::protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use crate::protocol::messages::join_group_response::{JoinGroupResponse, JoinGroupResponseMember};
use crate::protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use crate::protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use crate::protocol::messages::sync_group_response::SyncGroupResponse;
use crate::protocol::ErrorCode;

use super::assignor::CONSUMER_PROTOCOL_TYPE;

/// The generation of a member that has not joined (Java's `Generation.NO_GENERATION`).
pub const NO_GENERATION: i32 = -1;

/// Where a member is in the join/sync cycle (Java's `MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    /// Not in the group (never joined, left, or fenced).
    Unjoined,
    /// JoinGroup sent, waiting for the rebalance to complete.
    PreparingRebalance,
    /// Joined; SyncGroup sent, waiting for the assignment.
    CompletingRebalance,
    /// Has its assignment for the current generation; heartbeating.
    Stable,
}

/// Membership settings (the consumer's `group.*`, `session.timeout.ms`, … properties).
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipConfig {
    /// `group.id`.
    pub group_id: String,
    /// `group.instance.id` (static membership, KIP-345).
    pub group_instance_id: Option<String>,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// The rebalance timeout (`max.poll.interval.ms`, as in the Java consumer).
    pub rebalance_timeout: Duration,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
}

/// What the I/O shell should do after a response.
#[derive(Debug, Clone)]
pub enum Next {
    /// JoinGroup succeeded: send SyncGroup. The leader gets every member's subscription in
    /// `members` and must compute the assignments first.
    Sync {
        /// Present only on the leader.
        members: Option<Vec<JoinGroupResponseMember>>,
    },
    /// SyncGroup succeeded: the member's assignment bytes for the current generation.
    Assigned(Bytes),
    /// Nothing to change (a heartbeat was accepted).
    Continue,
    /// Send JoinGroup again now (the member keeps its partitions until the join completes).
    Rejoin,
    /// The member's generation is no longer valid: its partitions are lost (they may already
    /// belong to someone else, so nothing may be committed for them); rejoin.
    Lost,
    /// Retry the same step after this backoff.
    RetryAfter(Duration),
    /// The coordinator moved or is unavailable: find it again, then retry.
    FindCoordinator,
    /// An error the member cannot recover from.
    Fatal(Error),
}

/// One member's view of its group.
#[derive(Debug, Clone)]
pub struct Membership {
    config: MembershipConfig,
    member_id: String,
    generation: i32,
    protocol_name: Option<String>,
    leader_id: String,
    state: MemberState,
    rejoin_needed: bool,
}

impl Membership {
    /// A member that has not joined yet.
    pub fn new(config: MembershipConfig) -> Self {
        Membership {
            config,
            member_id: String::new(),
            generation: NO_GENERATION,
            protocol_name: None,
            leader_id: String::new(),
            state: MemberState::Unjoined,
            rejoin_needed: true,
        }
    }

    /// The settings.
    pub fn config(&self) -> &MembershipConfig {
        &self.config
    }

    /// The member id the coordinator gave this member (empty before the first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The current generation, or [`NO_GENERATION`].
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The assignor the coordinator chose for the current generation.
    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }

    /// Whether this member is the group's leader in the current generation.
    pub fn is_leader(&self) -> bool {
        !self.member_id.is_empty() && self.member_id == self.leader_id
    }

    /// The state.
    pub fn state(&self) -> MemberState {
        self.state
    }

    /// Whether the member must (re)join before it can consume.
    pub fn rejoin_needed(&self) -> bool {
        self.rejoin_needed || self.state != MemberState::Stable
    }

    /// Ask for a rejoin at the next opportunity (subscription changed, partitions revoked in a
    /// cooperative rebalance, …).
    pub fn request_rejoin(&mut self) {
        self.rejoin_needed = true;
    }

    /// Forget the member id and generation (Java's `resetGenerationOnResponseError`).
    pub fn reset(&mut self) {
        self.member_id.clear();
        self.generation = NO_GENERATION;
        self.protocol_name = None;
        self.leader_id.clear();
        self.state = MemberState::Unjoined;
        self.rejoin_needed = true;
    }

    /// Offsets may only be committed by a stable member with a generation; otherwise the
    /// coordinator would reject them (or accept them from a zombie).
    pub fn can_commit(&self) -> bool {
        self.generation != NO_GENERATION && !self.member_id.is_empty()
    }

    /// The JoinGroup request; `protocols` are (assignor name, subscription bytes) in order of
    /// preference.
    pub fn join_request(
        &mut self,
        protocols: Vec<(String, Bytes)>,
        reason: &str,
    ) -> JoinGroupRequest {
        self.state = MemberState::PreparingRebalance;
        JoinGroupRequest {
            group_id: self.config.group_id.clone(),
            session_timeout_ms: millis(self.config.session_timeout),
            rebalance_timeout_ms: millis(self.config.rebalance_timeout),
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: CONSUMER_PROTOCOL_TYPE.into(),
            protocols: protocols
                .into_iter()
                .map(|(name, metadata)| JoinGroupRequestProtocol {
                    name,
                    metadata,
                    ..Default::default()
                })
                .collect(),
            reason: Some(reason.to_owned()),
            ..Default::default()
        }
    }

    /// Apply a JoinGroup response.
    pub fn on_join_response(&mut self, resp: JoinGroupResponse) -> Next {
        let code = ErrorCode(resp.error_code);
        match code {
            ErrorCode::NONE => {
                if resp
                    .protocol_type
                    .as_deref()
                    .is_some_and(|t| t != CONSUMER_PROTOCOL_TYPE)
                {
                    return self.fatal(
                        "JoinGroup",
                        ErrorCode::INCONSISTENT_GROUP_PROTOCOL,
                        Some(format!(
                            "the group uses protocol type {:?}, not {CONSUMER_PROTOCOL_TYPE:?}",
                            resp.protocol_type
                        )),
                    );
                }
                self.member_id = resp.member_id;
                self.generation = resp.generation_id;
                self.leader_id = resp.leader;
                self.protocol_name = resp.protocol_name;
                self.state = MemberState::CompletingRebalance;
                // KIP-814: a static leader rejoining with an unchanged subscription is told to
                // skip the assignment; it syncs as a follower.
                let members = (self.is_leader() && !resp.skip_assignment).then_some(resp.members);
                Next::Sync { members }
            }
            ErrorCode::MEMBER_ID_REQUIRED => {
                // KIP-394: the coordinator hands out the id and expects the join again with it.
                self.member_id = resp.member_id;
                Next::Rejoin
            }
            ErrorCode::UNKNOWN_MEMBER_ID | ErrorCode::ILLEGAL_GENERATION => {
                self.reset();
                Next::Rejoin
            }
            ErrorCode::REBALANCE_IN_PROGRESS | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => {
                self.state = MemberState::Unjoined;
                Next::RetryAfter(self.config.retry_backoff)
            }
            ErrorCode::COORDINATOR_NOT_AVAILABLE | ErrorCode::NOT_COORDINATOR => {
                self.state = MemberState::Unjoined;
                Next::FindCoordinator
            }
            code => self.fatal("JoinGroup", code, None),
        }
    }

    /// The SyncGroup request with the leader's assignments (empty for followers).
    pub fn sync_request(&self, assignments: Vec<(String, Bytes)>) -> SyncGroupRequest {
        SyncGroupRequest {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation,
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: Some(CONSUMER_PROTOCOL_TYPE.into()),
            protocol_name: self.protocol_name.clone(),
            assignments: assignments
                .into_iter()
                .map(|(member_id, assignment)| SyncGroupRequestAssignment {
                    member_id,
                    assignment,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Apply a SyncGroup response.
    pub fn on_sync_response(&mut self, resp: SyncGroupResponse) -> Next {
        match ErrorCode(resp.error_code) {
            ErrorCode::NONE => {
                if let (Some(chosen), Some(ours)) = (&resp.protocol_name, &self.protocol_name) {
                    if chosen != ours {
                        return self.fatal(
                            "SyncGroup",
                            ErrorCode::INCONSISTENT_GROUP_PROTOCOL,
                            Some(format!("joined with {ours:?} but synced with {chosen:?}")),
                        );
                    }
                }
                self.state = MemberState::Stable;
                self.rejoin_needed = false;
                Next::Assigned(resp.assignment)
            }
            ErrorCode::REBALANCE_IN_PROGRESS => {
                self.state = MemberState::Unjoined;
                Next::Rejoin
            }
            ErrorCode::UNKNOWN_MEMBER_ID | ErrorCode::ILLEGAL_GENERATION => {
                self.reset();
                Next::Lost
            }
            ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => {
                self.state = MemberState::Unjoined;
                Next::FindCoordinator
            }
            code => self.fatal("SyncGroup", code, None),
        }
    }

    /// The Heartbeat request for the current generation.
    pub fn heartbeat_request(&self) -> HeartbeatRequest {
        HeartbeatRequest {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation,
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            ..Default::default()
        }
    }

    /// Apply a heartbeat's error code. `sent_generation` is the generation the heartbeat was
    /// sent for: an answer about an older generation is ignored.
    pub fn on_heartbeat_response(&mut self, code: ErrorCode, sent_generation: i32) -> Next {
        if sent_generation != self.generation {
            return Next::Continue;
        }
        match code {
            ErrorCode::NONE => Next::Continue,
            ErrorCode::REBALANCE_IN_PROGRESS => {
                if self.state == MemberState::Stable {
                    self.rejoin_needed = true;
                    Next::Rejoin
                } else {
                    Next::Continue // the rebalance we are in
                }
            }
            ErrorCode::UNKNOWN_MEMBER_ID | ErrorCode::ILLEGAL_GENERATION => {
                self.reset();
                Next::Lost
            }
            ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => Next::FindCoordinator,
            code => self.fatal("Heartbeat", code, None),
        }
    }

    /// The LeaveGroup request, or `None` when there is nothing to leave. Static members do not
    /// leave on close (their partitions wait for them until the session times out, KIP-345),
    /// unless `force` (e.g. `max.poll.interval.ms` expired).
    pub fn leave_request(&mut self, reason: &str, force: bool) -> Option<LeaveGroupRequest> {
        if self.member_id.is_empty() || (self.config.group_instance_id.is_some() && !force) {
            self.state = MemberState::Unjoined;
            return None;
        }
        let request = LeaveGroupRequest {
            group_id: self.config.group_id.clone(),
            member_id: self.member_id.clone(),
            members: vec![MemberIdentity {
                member_id: self.member_id.clone(),
                group_instance_id: self.config.group_instance_id.clone(),
                reason: Some(reason.to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        };
        self.reset();
        Some(request)
    }

    fn fatal(&mut self, operation: &'static str, code: ErrorCode, message: Option<String>) -> Next {
        if code == ErrorCode::FENCED_INSTANCE_ID {
            self.reset();
        }
        self.state = MemberState::Unjoined;
        let message = message.or_else(|| match code {
            ErrorCode::FENCED_INSTANCE_ID => Some(format!(
                "another consumer joined with group.instance.id {:?}; this one is fenced and must close",
                self.config.group_instance_id.as_deref().unwrap_or("")
            )),
            ErrorCode::INVALID_SESSION_TIMEOUT => Some(format!(
                "session.timeout.ms={} is outside the broker's group.min/max.session.timeout.ms",
                self.config.session_timeout.as_millis()
            )),
            _ => None,
        });
        Next::Fatal(Error::kafka(
            operation,
            format!("group {}", self.config.group_id),
            code,
            message,
        ))
    }
}

fn millis(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(instance: Option<&str>) -> Membership {
        Membership::new(MembershipConfig {
            group_id: "g".into(),
            group_instance_id: instance.map(str::to_owned),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(300),
            retry_backoff: Duration::from_millis(100),
        })
    }

    fn joined(
        code: ErrorCode,
        member_id: &str,
        leader: &str,
        generation: i32,
    ) -> JoinGroupResponse {
        JoinGroupResponse {
            error_code: code.0,
            generation_id: generation,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            leader: leader.into(),
            member_id: member_id.into(),
            members: vec![JoinGroupResponseMember {
                member_id: member_id.into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn kip_394_member_id_round_then_leader_sync_then_stable() {
        let mut m = member(None);
        let req = m.join_request(vec![("range".into(), Bytes::new())], "start");
        assert_eq!(req.member_id, "");
        let next = m.on_join_response(joined(ErrorCode::MEMBER_ID_REQUIRED, "m-1", "", -1));
        assert!(matches!(next, Next::Rejoin));
        assert_eq!(m.join_request(vec![], "again").member_id, "m-1");
        match m.on_join_response(joined(ErrorCode::NONE, "m-1", "m-1", 3)) {
            Next::Sync { members: Some(ms) } => assert_eq!(ms.len(), 1),
            other => panic!("expected leader sync, got {other:?}"),
        }
        assert!(m.is_leader());
        assert_eq!(m.state(), MemberState::CompletingRebalance);
        let sync = m.sync_request(vec![("m-1".into(), Bytes::from_static(b"x"))]);
        assert_eq!(sync.generation_id, 3);
        let next = m.on_sync_response(SyncGroupResponse {
            assignment: Bytes::from_static(b"x"),
            protocol_name: Some("range".into()),
            ..Default::default()
        });
        assert!(matches!(next, Next::Assigned(ref b) if &b[..] == b"x"));
        assert_eq!(m.state(), MemberState::Stable);
        assert!(!m.rejoin_needed());
        assert!(m.can_commit());
    }

    #[test]
    fn followers_sync_without_members() {
        let mut m = member(None);
        m.join_request(vec![], "start");
        let next = m.on_join_response(joined(ErrorCode::NONE, "m-2", "m-1", 1));
        assert!(matches!(next, Next::Sync { members: None }));
    }

    fn stable(m: &mut Membership) {
        m.join_request(vec![], "start");
        m.on_join_response(joined(ErrorCode::NONE, "m-1", "m-1", 5));
        m.on_sync_response(SyncGroupResponse::default());
        assert_eq!(m.state(), MemberState::Stable);
    }

    #[test]
    fn heartbeat_rebalance_in_progress_asks_for_rejoin_keeping_the_generation() {
        let mut m = member(None);
        stable(&mut m);
        assert!(matches!(
            m.on_heartbeat_response(ErrorCode::NONE, 5),
            Next::Continue
        ));
        assert!(matches!(
            m.on_heartbeat_response(ErrorCode::REBALANCE_IN_PROGRESS, 5),
            Next::Rejoin
        ));
        assert!(m.rejoin_needed());
        assert_eq!(m.generation(), 5);
    }

    #[test]
    fn fencing_errors_lose_partitions_and_reset_the_member() {
        for code in [ErrorCode::UNKNOWN_MEMBER_ID, ErrorCode::ILLEGAL_GENERATION] {
            let mut m = member(None);
            stable(&mut m);
            assert!(matches!(m.on_heartbeat_response(code, 5), Next::Lost));
            assert_eq!(m.generation(), NO_GENERATION);
            assert_eq!(m.member_id(), "");
            assert!(!m.can_commit());
        }
    }

    #[test]
    fn stale_heartbeat_answers_are_ignored() {
        let mut m = member(None);
        stable(&mut m);
        assert!(matches!(
            m.on_heartbeat_response(ErrorCode::ILLEGAL_GENERATION, 4),
            Next::Continue
        ));
        assert_eq!(m.generation(), 5);
    }

    #[test]
    fn coordinator_errors_rediscover() {
        let mut m = member(None);
        stable(&mut m);
        for code in [
            ErrorCode::NOT_COORDINATOR,
            ErrorCode::COORDINATOR_NOT_AVAILABLE,
        ] {
            assert!(matches!(
                m.on_heartbeat_response(code, 5),
                Next::FindCoordinator
            ));
        }
        m.join_request(vec![], "x");
        assert!(matches!(
            m.on_join_response(joined(ErrorCode::NOT_COORDINATOR, "", "", -1)),
            Next::FindCoordinator
        ));
        assert!(matches!(
            m.on_join_response(joined(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS, "", "", -1)),
            Next::RetryAfter(_)
        ));
    }

    #[test]
    fn fenced_static_member_is_fatal_with_a_clear_message() {
        let mut m = member(Some("i-1"));
        stable(&mut m);
        match m.on_heartbeat_response(ErrorCode::FENCED_INSTANCE_ID, 5) {
            Next::Fatal(e) => {
                assert_eq!(e.code(), Some(ErrorCode::FENCED_INSTANCE_ID));
                assert!(e.to_string().contains("i-1"), "{e}");
            }
            other => panic!("expected fatal, got {other:?}"),
        }
    }

    #[test]
    fn static_members_do_not_leave_on_close_unless_forced() {
        let mut m = member(Some("i-1"));
        stable(&mut m);
        assert!(m.leave_request("close", false).is_none());
        let mut m = member(Some("i-1"));
        stable(&mut m);
        let req = m.leave_request("poll timeout", true).expect("forced leave");
        assert_eq!(req.members[0].group_instance_id.as_deref(), Some("i-1"));
        let mut m = member(None);
        stable(&mut m);
        assert!(m.leave_request("close", false).is_some());
        assert_eq!(m.state(), MemberState::Unjoined);
        assert!(
            m.leave_request("close", false).is_none(),
            "nothing left to leave"
        );
    }

    #[test]
    fn sync_rebalance_in_progress_rejoins_and_unknown_member_loses() {
        let mut m = member(None);
        m.join_request(vec![], "x");
        m.on_join_response(joined(ErrorCode::NONE, "m-1", "m-9", 2));
        let resp = SyncGroupResponse {
            error_code: ErrorCode::REBALANCE_IN_PROGRESS.0,
            ..Default::default()
        };
        assert!(matches!(m.on_sync_response(resp), Next::Rejoin));
        assert_eq!(m.member_id(), "m-1");
        let resp = SyncGroupResponse {
            error_code: ErrorCode::UNKNOWN_MEMBER_ID.0,
            ..Default::default()
        };
        assert!(matches!(m.on_sync_response(resp), Next::Lost));
        assert_eq!(m.member_id(), "");
    }
}
