//! [`MemberCore`] against a fake coordinator, on a clock advanced by hand: no sockets, no
//! sleeping.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::group::assignor::{
    decode_assignment, decode_subscription, encode_assignment, encode_subscription, Assignment,
    CooperativeStickyAssignor, RangeAssignor, Subscription,
};
use crate::group::membership::MembershipConfig;
use crate::protocol::messages::heartbeat_response::HeartbeatResponse;
use crate::protocol::messages::join_group_response::{JoinGroupResponse, JoinGroupResponseMember};
use crate::protocol::messages::leave_group_response::LeaveGroupResponse;
use crate::protocol::messages::sync_group_response::SyncGroupResponse;

const HEARTBEAT: Duration = Duration::from_secs(3);
const SESSION: Duration = Duration::from_secs(10);
const MAX_POLL: Duration = Duration::from_secs(30);
const BACKOFF: Duration = Duration::from_millis(100);
const AUTO_COMMIT: Duration = Duration::from_secs(5);

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

/// A group coordinator answering the core's requests: every request succeeds unless an error
/// was queued for its API.
struct FakeCoordinator {
    node: i32,
    generation: i32,
    /// The id our member gets.
    member_id: String,
    /// The leader's id; `None`: our member leads.
    leader: Option<String>,
    /// The other members (sent to our member when it leads).
    others: Vec<(String, Subscription)>,
    /// What our member gets as a follower.
    follower_assignment: Vec<TopicPartition>,
    partitions: BTreeMap<String, i32>,
    /// The next answer of that API carries this error.
    errors: VecDeque<(&'static str, ErrorCode)>,
    /// The assignments of the last leader SyncGroup.
    leader_assignments: BTreeMap<String, Assignment>,
    /// Our member's subscription in its last JoinGroup.
    last_subscription: Option<Subscription>,
    /// The preparation steps run as leader: (generation, member ids).
    prepared: Vec<(i32, Vec<String>)>,
}

impl FakeCoordinator {
    fn new() -> Self {
        FakeCoordinator {
            node: 1,
            generation: 0,
            member_id: "m-1".into(),
            leader: None,
            others: Vec::new(),
            follower_assignment: Vec::new(),
            partitions: BTreeMap::from([("t".to_owned(), 4)]),
            errors: VecDeque::new(),
            leader_assignments: BTreeMap::new(),
            last_subscription: None,
            prepared: Vec::new(),
        }
    }

    fn fail_next(&mut self, api: &'static str, code: ErrorCode) {
        self.errors.push_back((api, code));
    }

    fn queued_error(&mut self, api: &str) -> Option<ErrorCode> {
        let at = self.errors.iter().position(|(a, _)| *a == api)?;
        self.errors.remove(at).map(|(_, code)| code)
    }

    fn answer(&mut self, request: &GroupRequest) -> GroupResponse {
        let error = self.queued_error(request.name());
        match request {
            GroupRequest::FindCoordinator => GroupResponse::FindCoordinator { node: self.node },
            GroupRequest::Metadata { topics } => GroupResponse::Metadata {
                partitions_per_topic: self
                    .partitions
                    .iter()
                    .filter(|(t, _)| topics.contains(t))
                    .map(|(t, n)| (t.clone(), *n))
                    .collect(),
            },
            GroupRequest::PrepareAssignment {
                generation,
                members,
                ..
            } => {
                let ids = members.iter().map(|m| m.member_id.clone()).collect();
                self.prepared.push((*generation, ids));
                GroupResponse::Prepared
            }
            GroupRequest::ListTopics => GroupResponse::Topics {
                topics: self
                    .partitions
                    .keys()
                    .map(|t| (t.clone(), false))
                    .chain([("__consumer_offsets".to_owned(), true)])
                    .collect(),
            },
            GroupRequest::JoinGroup { request, .. } => {
                if let Some(code) = error {
                    return GroupResponse::JoinGroup(JoinGroupResponse {
                        error_code: code.0,
                        member_id: request.member_id.clone(),
                        ..Default::default()
                    });
                }
                let ours = &request.protocols[0];
                let subscription = decode_subscription(ours.metadata.clone()).expect("decodes");
                self.last_subscription = Some(subscription);
                self.generation += 1;
                let leader = self.leader.clone().unwrap_or(self.member_id.clone());
                let members = if leader == self.member_id {
                    let mut members = vec![JoinGroupResponseMember {
                        member_id: self.member_id.clone(),
                        metadata: ours.metadata.clone(),
                        ..Default::default()
                    }];
                    members.extend(self.others.iter().map(|(id, s)| JoinGroupResponseMember {
                        member_id: id.clone(),
                        metadata: encode_subscription(s),
                        ..Default::default()
                    }));
                    members
                } else {
                    Vec::new()
                };
                GroupResponse::JoinGroup(JoinGroupResponse {
                    generation_id: self.generation,
                    protocol_type: Some("consumer".into()),
                    protocol_name: Some(ours.name.clone()),
                    leader,
                    member_id: self.member_id.clone(),
                    members,
                    ..Default::default()
                })
            }
            GroupRequest::SyncGroup(request) => {
                if let Some(code) = error {
                    return GroupResponse::SyncGroup(SyncGroupResponse {
                        error_code: code.0,
                        ..Default::default()
                    });
                }
                assert_eq!(request.generation_id, self.generation, "synced stale");
                let ours = if request.assignments.is_empty() {
                    Assignment {
                        partitions: self.follower_assignment.clone(),
                        user_data: None,
                    }
                } else {
                    self.leader_assignments = request
                        .assignments
                        .iter()
                        .map(|a| {
                            let decoded = decode_assignment(a.assignment.clone()).expect("decodes");
                            (a.member_id.clone(), decoded)
                        })
                        .collect();
                    self.leader_assignments[&self.member_id].clone()
                };
                GroupResponse::SyncGroup(SyncGroupResponse {
                    protocol_type: Some("consumer".into()),
                    protocol_name: request.protocol_name.clone(),
                    assignment: encode_assignment(&ours),
                    ..Default::default()
                })
            }
            GroupRequest::Heartbeat(request) => {
                let code = error.unwrap_or(if request.generation_id == self.generation {
                    ErrorCode::NONE
                } else {
                    ErrorCode::ILLEGAL_GENERATION
                });
                GroupResponse::Heartbeat(HeartbeatResponse {
                    error_code: code.0,
                    ..Default::default()
                })
            }
            GroupRequest::LeaveGroup(_) => GroupResponse::LeaveGroup(LeaveGroupResponse {
                error_code: error.unwrap_or(ErrorCode::NONE).0,
                ..Default::default()
            }),
        }
    }
}

/// The core, the fake coordinator and the hand-driven clock.
struct Harness {
    core: MemberCore,
    fake: FakeCoordinator,
    now: Instant,
    events: Vec<Event>,
}

impl Harness {
    fn new(assignor: Arc<dyn Assignor>, instance: Option<&str>) -> Self {
        let config = MemberConfig {
            membership: MembershipConfig {
                group_id: "g".into(),
                group_instance_id: instance.map(str::to_owned),
                session_timeout: SESSION,
                rebalance_timeout: Duration::from_secs(60),
                retry_backoff: BACKOFF,
            },
            heartbeat_interval: HEARTBEAT,
            max_poll_interval: MAX_POLL,
            client_rack: None,
        };
        Harness {
            core: MemberCore::new(config, Duration::from_secs(30), vec![assignor]),
            fake: FakeCoordinator::new(),
            now: Instant::now(),
            events: Vec::new(),
        }
    }

    fn range() -> Self {
        Harness::new(Arc::new(RangeAssignor), None)
    }

    /// Move the clock and let the timers fire.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
    }

    /// Send every request the core wants now, answer each at once; the APIs, in order.
    fn exchange(&mut self) -> Vec<&'static str> {
        let mut sent = Vec::new();
        while let Some(out) = self.core.poll_request(self.now) {
            assert!(sent.len() < 20, "request storm: {sent:?}");
            sent.push(out.request.name());
            let response = self.fake.answer(&out.request);
            self.core.handle_response(self.now, out.id, response);
        }
        sent
    }

    /// The requests the core wants now, unanswered.
    fn outgoing(&mut self) -> Vec<OutgoingRequest> {
        std::iter::from_fn(|| self.core.poll_request(self.now)).collect()
    }

    fn answer(&mut self, out: &OutgoingRequest) {
        let response = self.fake.answer(&out.request);
        self.core.handle_response(self.now, out.id, response);
    }

    /// The events since the last call.
    fn events(&mut self) -> Vec<Event> {
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
        std::mem::take(&mut self.events)
    }

    /// Run for `d` in steps of `step`, answering every request and polling if `poll`.
    fn run(&mut self, d: Duration, step: Duration, poll: bool) -> Vec<&'static str> {
        let end = self.now + d;
        let mut sent = Vec::new();
        while self.now < end {
            self.advance(step);
            if poll {
                self.core.handle_poll(self.now);
            }
            sent.extend(self.exchange());
        }
        sent
    }

    /// Join as a follower given `partitions`; returns the generation.
    fn join_stable(&mut self, partitions: &[TopicPartition]) -> i32 {
        self.fake.leader = Some("m-0".into());
        self.fake.follower_assignment = partitions.to_vec();
        self.core.join(vec!["t".into()], Vec::new());
        self.exchange();
        let events = self.events();
        assert!(
            matches!(events.as_slice(), [Event::Assigned(_)]),
            "{events:?}"
        );
        assert_eq!(self.core.membership().state(), MemberState::Stable);
        self.core.membership().generation()
    }
}

fn assigned(events: &[Event]) -> Vec<&JoinResult> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Assigned(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn lost(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::PartitionsLost))
}

fn commit_due(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::CommitDue))
}

#[test]
fn join_sync_happy_path_as_leader() {
    let mut h = Harness::range();
    h.fake.others = vec![(
        "m-2".into(),
        Subscription {
            topics: vec!["t".into()],
            ..Default::default()
        },
    )];
    h.core.join(vec!["t".into()], Vec::new());
    assert_eq!(
        h.exchange(),
        ["FindCoordinator", "JoinGroup", "Metadata", "SyncGroup"]
    );
    let events = h.events();
    let joined = assigned(&events);
    assert_eq!(joined.len(), 1, "{events:?}");
    assert_eq!(joined[0].generation, 1);
    assert_eq!(joined[0].member_id, "m-1");
    assert_eq!(joined[0].assignment.partitions, [tp(0), tp(1)]);
    assert_eq!(h.fake.leader_assignments["m-2"].partitions, [tp(2), tp(3)]);
    assert!(h.core.membership().is_leader());
    assert_eq!(h.core.coordinator(), Some(1));
    assert!(!h.core.rejoin_needed());
    assert_eq!(h.core.commit_identity().expect("stable").generation_id, 1);
    // The heartbeat thread is armed as Java's resetTimeouts does.
    assert_eq!(h.core.timer(Timer::Heartbeat), Some(h.now + HEARTBEAT));
    assert_eq!(h.core.timer(Timer::Session), Some(h.now + SESSION));
}

#[test]
fn join_sync_happy_path_as_follower() {
    let mut h = Harness::range();
    h.fake.leader = Some("m-0".into());
    h.fake.follower_assignment = vec![tp(3)];
    h.core.join(vec!["t".into()], Vec::new());
    assert_eq!(h.exchange(), ["FindCoordinator", "JoinGroup", "SyncGroup"]);
    let events = h.events();
    let joined = assigned(&events);
    assert_eq!(joined[0].assignment.partitions, [tp(3)]);
    assert!(!h.core.membership().is_leader());
    assert_eq!(h.core.membership().state(), MemberState::Stable);
    assert!(h.fake.leader_assignments.is_empty(), "followers send none");
}

#[test]
fn heartbeats_every_interval_and_retry_after_backoff_on_failure() {
    let mut h = Harness::range();
    h.join_stable(&[tp(0)]);
    h.advance(HEARTBEAT - Duration::from_millis(1));
    assert!(h.exchange().is_empty(), "not due yet");
    h.advance(Duration::from_millis(1));
    assert_eq!(h.exchange(), ["Heartbeat"]);
    assert_eq!(h.core.poll_timeout(), Some(h.now + HEARTBEAT));
    // The next one is lost with its connection: coordinator rediscovered, retry after backoff.
    h.advance(HEARTBEAT);
    let out = h.outgoing();
    assert_eq!(out.len(), 1);
    let timeout = Error::Timeout {
        operation: "Heartbeat",
        timeout: Duration::from_secs(30),
        last: Box::new(Error::InvalidArgument("test".into())),
    };
    h.core.handle_error(h.now, out[0].id, &timeout);
    assert_eq!(h.core.coordinator(), None);
    assert_eq!(h.exchange(), ["FindCoordinator"]);
    assert_eq!(h.core.timer(Timer::Heartbeat), Some(h.now + BACKOFF));
    h.advance(BACKOFF);
    assert_eq!(h.exchange(), ["Heartbeat"]);
    assert!(h.events().is_empty());
    assert_eq!(h.core.membership().state(), MemberState::Stable);
}

#[test]
fn session_expiry_without_a_successful_heartbeat_rediscovers_the_coordinator() {
    let mut h = Harness::range();
    h.join_stable(&[tp(0)]);
    // Heartbeats go out but no answer comes back (a hung coordinator).
    h.advance(HEARTBEAT);
    let hung = h.outgoing();
    assert_eq!(hung.len(), 1);
    h.advance(SESSION - HEARTBEAT - Duration::from_millis(1));
    assert!(h.outgoing().is_empty(), "one heartbeat in flight at a time");
    assert_eq!(h.core.coordinator(), Some(1));
    h.advance(Duration::from_millis(1));
    assert_eq!(h.core.coordinator(), None, "sessionTimeoutExpired");
    h.fake.node = 2;
    assert_eq!(h.exchange(), ["FindCoordinator", "Heartbeat"]);
    assert_eq!(h.core.coordinator(), Some(2));
    assert_eq!(h.core.timer(Timer::Session), Some(h.now + SESSION));
    // The old coordinator's late answer is ignored.
    h.answer(&hung[0]);
    assert!(h.events().is_empty());
    assert_eq!(h.core.membership().state(), MemberState::Stable);
}

#[test]
fn heartbeat_rebalance_in_progress_rejoins_keeping_partitions() {
    let mut h = Harness::range();
    let generation = h.join_stable(&[tp(0), tp(1)]);
    h.fake
        .fail_next("Heartbeat", ErrorCode::REBALANCE_IN_PROGRESS);
    h.advance(HEARTBEAT);
    assert_eq!(h.exchange(), ["Heartbeat"]);
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::RejoinNeeded]),
        "{events:?}"
    );
    assert!(h.core.rejoin_needed());
    // Partitions kept: same generation, still allowed to commit, heartbeats go on.
    assert_eq!(h.core.membership().generation(), generation);
    assert!(h.core.commit_identity().is_ok());
    assert_eq!(h.core.timer(Timer::Session), Some(h.now + SESSION));
    h.fake.follower_assignment = vec![tp(0), tp(1)];
    h.core.join(vec!["t".into()], vec![tp(0), tp(1)]);
    let out = h.outgoing();
    match &out[0].request {
        GroupRequest::JoinGroup { request, .. } => {
            assert_eq!(request.member_id, "m-1", "rejoins with its member id");
            assert_eq!(request.reason.as_deref(), Some("group is rebalancing"));
        }
        other => panic!("expected JoinGroup, got {other:?}"),
    }
    h.answer(&out[0]);
    assert_eq!(h.exchange(), ["SyncGroup"]);
    let events = h.events();
    assert!(!lost(&events));
    assert_eq!(assigned(&events)[0].generation, generation + 1);
    assert!(!h.core.rejoin_needed());
}

#[test]
fn coordinator_moved_not_coordinator_rediscovers_then_resumes() {
    let mut h = Harness::range();
    let generation = h.join_stable(&[tp(0)]);
    // Heartbeat: NOT_COORDINATOR → look it up again at once, heartbeat after the backoff.
    h.fake.fail_next("Heartbeat", ErrorCode::NOT_COORDINATOR);
    h.fake.node = 7;
    h.advance(HEARTBEAT);
    assert_eq!(h.exchange(), ["Heartbeat", "FindCoordinator"]);
    assert_eq!(h.core.coordinator(), Some(7));
    h.advance(BACKOFF);
    assert_eq!(h.exchange(), ["Heartbeat"]);
    assert!(h.events().is_empty(), "nothing lost");
    // JoinGroup: NOT_COORDINATOR → backoff, rediscover, join again.
    h.core.request_rejoin("test");
    h.fake.fail_next("JoinGroup", ErrorCode::NOT_COORDINATOR);
    h.fake.node = 8;
    h.core.join(vec!["t".into()], vec![tp(0)]);
    assert_eq!(h.exchange(), ["JoinGroup"]);
    assert_eq!(h.core.coordinator(), None);
    h.advance(BACKOFF);
    assert_eq!(h.exchange(), ["FindCoordinator", "JoinGroup", "SyncGroup"]);
    assert_eq!(h.core.coordinator(), Some(8));
    let events = h.events();
    assert_eq!(assigned(&events)[0].generation, generation + 1);
}

#[test]
fn fenced_instance_id_is_fatal() {
    let mut h = Harness::new(Arc::new(RangeAssignor), Some("i-1"));
    h.join_stable(&[tp(0)]);
    h.fake.fail_next("Heartbeat", ErrorCode::FENCED_INSTANCE_ID);
    h.advance(HEARTBEAT);
    assert_eq!(h.exchange(), ["Heartbeat"]);
    let events = h.events();
    match events.as_slice() {
        [Event::Fatal(e)] => {
            assert_eq!(e.code(), Some(ErrorCode::FENCED_INSTANCE_ID));
            assert!(e.to_string().contains("i-1"), "{e}");
        }
        other => panic!("expected Fatal, got {other:?}"),
    }
    assert!(h.core.fatal_error().is_some());
    assert_eq!(h.core.poll_timeout(), None, "every timer stopped");
    assert!(matches!(
        h.core.commit_identity(),
        Err(CommitRefused::Fatal(_))
    ));
    h.core.join(vec!["t".into()], Vec::new());
    h.advance(MAX_POLL * 2);
    assert!(h.exchange().is_empty(), "a fenced member sends nothing");
}

#[test]
fn poll_interval_exceeded_leaves_and_loses_partitions() {
    let mut h = Harness::range();
    h.join_stable(&[tp(0), tp(1)]);
    // Polling keeps the member in the group however long it runs.
    let sent = h.run(MAX_POLL * 2, Duration::from_secs(1), true);
    assert!(sent.iter().all(|r| *r == "Heartbeat"), "{sent:?}");
    assert!(h.events().is_empty());
    // Then the application stops polling: heartbeats alone do not keep it in.
    let stopped = h.now;
    h.advance(MAX_POLL - Duration::from_secs(1));
    h.exchange();
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(h.now - stopped, MAX_POLL);
    let out = h.outgoing();
    assert_eq!(out.len(), 1);
    match &out[0].request {
        GroupRequest::LeaveGroup(leave) => {
            assert_eq!(leave.members[0].member_id, "m-1");
            assert_eq!(
                leave.members[0].reason.as_deref(),
                Some("consumer poll timeout has expired")
            );
        }
        other => panic!("expected LeaveGroup, got {other:?}"),
    }
    h.answer(&out[0]);
    let events = h.events();
    assert!(lost(&events), "{events:?}");
    assert_eq!(
        h.core.membership().generation(),
        crate::group::membership::NO_GENERATION
    );
    assert!(matches!(
        h.core.commit_identity(),
        Err(CommitRefused::NotInGroup)
    ));
    assert!(
        h.run(HEARTBEAT * 3, HEARTBEAT, false).is_empty(),
        "no heartbeats"
    );
    assert!(h.core.rejoin_needed());
}

#[test]
fn cooperative_two_phase_rebalance_revokes_then_assigns() {
    let mut h = Harness::new(Arc::new(CooperativeStickyAssignor), None);
    // Alone in the group: the leader takes every partition.
    h.core.join(vec!["t".into()], Vec::new());
    h.exchange();
    let first = h.events();
    let owned = assigned(&first)[0].assignment.partitions.clone();
    assert_eq!(owned.len(), 4);
    // m-2 joins; the coordinator tells us through the heartbeat.
    h.fake.others = vec![(
        "m-2".into(),
        Subscription {
            topics: vec!["t".into()],
            ..Default::default()
        },
    )];
    h.fake
        .fail_next("Heartbeat", ErrorCode::REBALANCE_IN_PROGRESS);
    h.advance(HEARTBEAT);
    h.exchange();
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    // First rebalance: we keep what we own in the subscription; the leader revokes two
    // partitions from us and gives them to nobody yet.
    h.core.join(vec!["t".into()], owned.clone());
    assert_eq!(h.exchange(), ["JoinGroup", "Metadata", "SyncGroup"]);
    let sent = h.fake.last_subscription.clone().expect("joined");
    assert_eq!(sent.owned_partitions, owned, "cooperative: owned sent");
    assert!(h.fake.leader_assignments["m-2"].partitions.is_empty());
    let events = h.events();
    let kept = assigned(&events)[0].assignment.partitions.clone();
    assert_eq!(kept.len(), 2);
    assert!(!lost(&events));
    assert!(h.core.rejoin_needed(), "revoked: rejoin at once");
    // Second rebalance (after the application revoked): the freed partitions move to m-2.
    h.core.join(vec!["t".into()], kept.clone());
    assert_eq!(h.exchange(), ["JoinGroup", "Metadata", "SyncGroup"]);
    assert_eq!(
        h.fake
            .last_subscription
            .as_ref()
            .expect("joined")
            .owned_partitions,
        kept
    );
    let events = h.events();
    let second = assigned(&events);
    assert_eq!(second[0].generation, 3);
    assert_eq!(second[0].assignment.partitions, kept, "sticky");
    assert_eq!(h.fake.leader_assignments["m-2"].partitions.len(), 2);
    assert!(!h.core.rejoin_needed());
}

/// What the consumer does under the cooperative protocol (it keeps polling while a join is
/// parked at the coordinator): polls keep `max.poll.interval.ms` from expiring, asking to
/// join again or to enforce a rebalance sends no second JoinGroup, commits are refused as a
/// rebalance in progress, and the parked JoinGroup completes the rebalance when answered.
#[test]
fn cooperative_join_parked_at_the_coordinator_while_the_application_polls() {
    let mut h = Harness::new(Arc::new(CooperativeStickyAssignor), None);
    assert!(h.core.consumes_while_joining());
    assert!(!Harness::range().core.consumes_while_joining(), "eager");
    h.core.join(vec!["t".into()], Vec::new());
    h.exchange();
    let first = h.events();
    let owned = assigned(&first)[0].assignment.partitions.clone();
    let generation = h.core.membership().generation();
    h.fake
        .fail_next("Heartbeat", ErrorCode::REBALANCE_IN_PROGRESS);
    h.advance(HEARTBEAT);
    h.exchange();
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    h.core.join(vec!["t".into()], owned.clone());
    let parked = h.outgoing();
    let names: Vec<&str> = parked.iter().map(|o| o.request.name()).collect();
    assert_eq!(names, ["JoinGroup"]);
    // Held by the coordinator for longer than max.poll.interval.ms; the application polls.
    let step = Duration::from_secs(1);
    let end = h.now + MAX_POLL + SESSION;
    while h.now < end {
        h.advance(step);
        h.core.handle_poll(h.now);
        h.core.join(vec!["t".into()], owned.clone());
        h.core.enforce_rebalance("probing");
        let sent: Vec<&str> = h.outgoing().iter().map(|o| o.request.name()).collect();
        assert!(
            sent.is_empty(),
            "sent {sent:?} while the JoinGroup is parked"
        );
        assert!(matches!(
            h.core.commit_identity(),
            Err(CommitRefused::RebalanceInProgress)
        ));
    }
    assert!(h.events().is_empty(), "no loss, no second rejoin");
    h.answer(&parked[0]);
    assert_eq!(h.exchange(), ["Metadata", "SyncGroup"]);
    let events = h.events();
    assert!(!lost(&events));
    let joined = assigned(&events);
    assert_eq!(joined[0].generation, generation + 1);
    assert_eq!(
        joined[0].assignment.partitions, owned,
        "alone: keeps everything"
    );
    assert!(h.core.commit_identity().is_ok());
}

#[test]
fn commit_racing_a_rebalance_waits_for_the_new_generation() {
    let mut h = Harness::range();
    h.core.set_auto_commit(h.now, Some(AUTO_COMMIT));
    let generation = h.join_stable(&[tp(0)]);
    // A rebalance starts before the auto commit is due.
    h.fake
        .fail_next("Heartbeat", ErrorCode::REBALANCE_IN_PROGRESS);
    h.advance(HEARTBEAT);
    h.exchange();
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    h.core.join(vec!["t".into()], vec![tp(0)]);
    let join = h.outgoing();
    assert_eq!(join.len(), 1, "JoinGroup in flight");
    // The auto commit falls due mid-rebalance: deferred, and nothing may be committed with
    // the generation being replaced.
    h.advance(AUTO_COMMIT);
    assert!(!commit_due(&h.events()));
    assert!(matches!(
        h.core.commit_identity(),
        Err(CommitRefused::RebalanceInProgress)
    ));
    let refused = CommitRefused::RebalanceInProgress.into_error("g");
    assert_eq!(refused.code(), Some(ErrorCode::REBALANCE_IN_PROGRESS));
    h.answer(&join[0]);
    h.exchange();
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Assigned(_), Event::CommitDue]),
        "{events:?}"
    );
    let identity = h.core.commit_identity().expect("stable again");
    assert_eq!(identity.generation_id, generation + 1);
    assert_eq!(h.core.timer(Timer::AutoCommit), Some(h.now + AUTO_COMMIT));
}

#[test]
fn offset_commit_rebalance_in_progress_is_retriable_after_rejoin() {
    let mut h = Harness::range();
    h.core.set_auto_commit(h.now, Some(AUTO_COMMIT));
    let generation = h.join_stable(&[tp(0)]);
    h.run(AUTO_COMMIT, Duration::from_secs(1), true);
    assert!(commit_due(&h.events()));
    let identity = h.core.commit_identity().expect("stable");
    // The coordinator answers REBALANCE_IN_PROGRESS (Java's RebalanceInProgressException):
    // rejoin, keep the generation, commit again once the rebalance is done.
    let answer = Error::kafka(
        "OffsetCommit",
        "group g partition t-0",
        ErrorCode::REBALANCE_IN_PROGRESS,
        None,
    );
    h.core
        .handle_commit_result(h.now, &identity, Err(&answer), true);
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::RejoinNeeded]),
        "{events:?}"
    );
    assert!(h.core.rejoin_needed());
    assert_eq!(h.core.membership().generation(), generation, "not reset");
    h.core.join(vec!["t".into()], vec![tp(0)]);
    h.exchange();
    let events = h.events();
    assert!(
        matches!(events.as_slice(), [Event::Assigned(_), Event::CommitDue]),
        "{events:?}"
    );
    // A fencing answer to the old generation's commit changes nothing now…
    let fenced = Error::kafka("OffsetCommit", "g", ErrorCode::ILLEGAL_GENERATION, None);
    h.core
        .handle_commit_result(h.now, &identity, Err(&fenced), true);
    assert!(h.events().is_empty());
    assert_eq!(h.core.membership().generation(), generation + 1);
    // …but one for the current generation loses the partitions.
    let current = h.core.commit_identity().expect("stable");
    h.core
        .handle_commit_result(h.now, &current, Err(&fenced), false);
    assert!(lost(&h.events()));
    assert!(h.core.rejoin_needed());
}

#[test]
fn auto_commit_is_due_every_interval_while_stable() {
    let mut h = Harness::range();
    h.core.set_auto_commit(h.now, Some(AUTO_COMMIT));
    h.join_stable(&[tp(0)]);
    h.run(AUTO_COMMIT * 3, Duration::from_secs(1), true);
    let due = h
        .events()
        .iter()
        .filter(|e| matches!(e, Event::CommitDue))
        .count();
    assert_eq!(due, 3);
}

#[test]
fn a_join_that_outlives_the_rebalance_timeout_is_retried_on_a_rediscovered_coordinator() {
    let mut h = Harness::range();
    h.fake.leader = Some("m-0".into());
    h.core.join(vec!["t".into()], Vec::new());
    let find = h.outgoing();
    assert!(matches!(find[0].request, GroupRequest::FindCoordinator));
    h.answer(&find[0]);
    let stuck = h.outgoing();
    let GroupRequest::JoinGroup { timeout, .. } = &stuck[0].request else {
        panic!("expected JoinGroup");
    };
    assert_eq!(
        *timeout,
        Duration::from_secs(90),
        "rebalance + request timeout"
    );
    h.advance(*timeout);
    assert_eq!(h.core.coordinator(), None);
    h.advance(BACKOFF);
    assert_eq!(h.exchange(), ["FindCoordinator", "JoinGroup", "SyncGroup"]);
    h.answer(&stuck[0]);
    let events = h.events();
    assert_eq!(assigned(&events).len(), 1, "the late answer is ignored");
}

#[test]
fn leave_sends_leave_group_and_reports_the_outcome() {
    let mut h = Harness::range();
    h.join_stable(&[tp(0)]);
    h.core.leave("closing", false);
    assert_eq!(h.exchange(), ["LeaveGroup"]);
    assert!(matches!(h.events().as_slice(), [Event::Left(Ok(()))]));
    assert_eq!(h.core.poll_timeout(), None);
    // A static member only stops (KIP-345).
    let mut h = Harness::new(Arc::new(RangeAssignor), Some("i-1"));
    h.join_stable(&[tp(0)]);
    h.core.leave("closing", false);
    assert!(h.exchange().is_empty());
    assert!(matches!(h.events().as_slice(), [Event::Left(Ok(()))]));
}

/// Enforced and scheduled rebalances, the leader's preparation step and extra topics, pattern
/// subscriptions.
mod streams;
