//! What a Kafka Streams-style runtime needs from the member, on the hand-driven clock:
//! `enforce_rebalance`, follow-up rebalances asked for by the assignor, the leader's
//! preparation step with extra topics and racks, and pattern subscriptions.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::*;
use crate::group::assignor::{AssignError, FollowUp, MemberSubscription};
use crate::group::leader::LeaderContext;
use crate::group::pattern::TopicPattern;

/// A range assignor with the streams extensions, recording what the leader step saw.
#[derive(Debug, Default)]
struct StreamsLike {
    /// Ask for a follow-up rebalance after this long, on the first `follow_ups` assignments.
    follow_up: Option<Duration>,
    follow_ups: u32,
    assignments_seen: AtomicU32,
    /// Named as extra topics; the leader runs `prepare` if set.
    extra: Vec<String>,
    prepare: bool,
    /// What `assign` got: partition counts and each member's rack.
    seen_counts: Mutex<BTreeMap<String, i32>>,
    seen_racks: Mutex<BTreeMap<String, Option<String>>>,
}

impl Assignor for StreamsLike {
    fn name(&self) -> &str {
        "streams-like"
    }

    fn extra_topics(&self, _members: &[MemberSubscription]) -> Vec<String> {
        self.extra.clone()
    }

    fn needs_prepare(&self) -> bool {
        self.prepare
    }

    fn prepare<'a>(&'a self, _context: &'a LeaderContext) -> BoxFuture<'a, Result<(), Error>> {
        unreachable!("the shell runs prepare; the core only asks for it")
    }

    fn assign(
        &self,
        partitions_per_topic: &BTreeMap<String, i32>,
        members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        *self.seen_counts.lock().expect("not poisoned") = partitions_per_topic.clone();
        *self.seen_racks.lock().expect("not poisoned") = members
            .iter()
            .map(|m| (m.member_id.clone(), m.rack_id().map(str::to_owned)))
            .collect();
        RangeAssignor.assign(partitions_per_topic, members)
    }

    fn on_assignment(&self, _assignment: &Assignment, _generation: i32) -> FollowUp {
        let n = self.assignments_seen.fetch_add(1, Ordering::SeqCst);
        match self.follow_up {
            Some(after) if n < self.follow_ups => FollowUp::rebalance_after(after),
            _ => FollowUp::NONE,
        }
    }
}

fn join_reason(out: &[OutgoingRequest]) -> Option<String> {
    out.iter().find_map(|o| match &o.request {
        GroupRequest::JoinGroup { request, .. } => Some(request.reason.clone().unwrap_or_default()),
        _ => None,
    })
}

#[test]
fn enforce_rebalance_rejoins_a_stable_member_with_its_reason() {
    let mut h = Harness::range();
    let generation = h.join_stable(&[tp(0)]);
    h.core.enforce_rebalance("probing for warm-up progress");
    assert!(h.core.rejoin_needed());
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    // The partitions stay until the application rejoins (its next poll).
    assert_eq!(
        h.core
            .commit_identity()
            .expect("still stable")
            .generation_id,
        generation
    );
    h.core.join(vec!["t".into()], vec![tp(0)]);
    let out = h.outgoing();
    assert_eq!(
        join_reason(&out).as_deref(),
        Some("probing for warm-up progress")
    );
    // During the rebalance, enforcing again changes nothing.
    h.core.enforce_rebalance("again");
    assert!(h.events().is_empty());
    for o in &out {
        h.answer(o);
    }
    h.exchange();
    let events = h.events();
    assert_eq!(
        assigned(&events)[0].generation,
        generation + 1,
        "{events:?}"
    );
    assert!(!h.core.rejoin_needed());
}

#[test]
fn enforce_rebalance_before_joining_does_nothing_more() {
    let mut h = Harness::range();
    h.core.enforce_rebalance("too early");
    assert!(h.events().is_empty());
    assert!(
        h.outgoing().is_empty(),
        "no join until the application joins"
    );
}

#[test]
fn the_assignors_follow_up_rebalance_fires_on_the_simulated_clock() {
    let assignor = Arc::new(StreamsLike {
        follow_up: Some(Duration::from_secs(2)),
        follow_ups: 1,
        ..Default::default()
    });
    let mut h = Harness::new(assignor.clone(), None);
    let generation = h.join_stable(&[tp(0)]);
    let joined_at = h.now;
    assert_eq!(
        h.core.timer(Timer::ScheduledRebalance),
        Some(joined_at + Duration::from_secs(2))
    );
    h.run(
        Duration::from_millis(1900),
        Duration::from_millis(100),
        true,
    );
    assert!(!h.core.rejoin_needed(), "not due before 2 s");
    assert!(h.events().is_empty());
    h.run(Duration::from_millis(100), Duration::from_millis(100), true);
    assert!(h.core.rejoin_needed(), "due at 2 s");
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    // The rejoin carries the reason, and the new assignment (no follow-up) clears the schedule.
    h.core.join(vec!["t".into()], vec![tp(0)]);
    let out = h.outgoing();
    assert_eq!(
        join_reason(&out).as_deref(),
        Some("scheduled rebalance requested by the assignor")
    );
    for o in &out {
        h.answer(o);
    }
    h.exchange();
    assert_eq!(assigned(&h.events())[0].generation, generation + 1);
    assert_eq!(h.core.timer(Timer::ScheduledRebalance), None);
    h.run(Duration::from_secs(10), Duration::from_millis(500), true);
    assert!(!h.core.rejoin_needed(), "no second follow-up");
}

#[test]
fn a_follow_up_due_during_a_rebalance_waits_for_the_new_assignment() {
    let assignor = Arc::new(StreamsLike {
        follow_up: Some(Duration::from_secs(2)),
        follow_ups: 2,
        ..Default::default()
    });
    let mut h = Harness::new(assignor, None);
    h.join_stable(&[tp(0)]);
    // A rebalance starts before the follow-up is due and is still running when it is.
    h.advance(Duration::from_secs(1));
    h.core.request_rejoin("subscription changed");
    h.core.join(vec!["t".into()], vec![tp(0)]);
    let out = h.outgoing(); // JoinGroup, unanswered
    h.advance(Duration::from_secs(1));
    assert!(h.events().is_empty(), "no RejoinNeeded in a rebalance");
    for o in &out {
        h.answer(o);
    }
    h.exchange();
    assert_eq!(assigned(&h.events()).len(), 1);
    // The second assignment asked again: scheduled from its arrival.
    assert_eq!(
        h.core.timer(Timer::ScheduledRebalance),
        Some(h.now + Duration::from_secs(2))
    );
}

#[test]
fn the_leader_prepares_then_sees_extra_topics_and_racks() {
    let assignor = Arc::new(StreamsLike {
        extra: vec!["app-changelog".into(), "app-missing".into()],
        prepare: true,
        ..Default::default()
    });
    let mut h = Harness::new(assignor.clone(), None);
    let mut config = h.core.config().clone();
    config.client_rack = Some("rack-a".into());
    h.core = MemberCore::new(config, Duration::from_secs(30), vec![assignor.clone()]);
    h.fake.partitions.insert("app-changelog".into(), 6);
    h.fake.others = vec![(
        "m-2".into(),
        Subscription {
            topics: vec!["t".into()],
            rack_id: Some("rack-b".into()),
            ..Default::default()
        },
    )];
    h.core.join(vec!["t".into()], Vec::new());
    let mut metadata_topics = Vec::new();
    let mut sent = Vec::new();
    while let Some(out) = h.core.poll_request(h.now) {
        sent.push(out.request.name());
        if let GroupRequest::Metadata { topics } = &out.request {
            metadata_topics = topics.clone();
        }
        h.answer(&out);
    }
    assert_eq!(
        sent,
        [
            "FindCoordinator",
            "JoinGroup",
            "PrepareAssignment",
            "Metadata",
            "SyncGroup"
        ]
    );
    assert_eq!(h.fake.prepared, [(1, vec!["m-1".into(), "m-2".into()])]);
    assert_eq!(metadata_topics, ["app-changelog", "app-missing", "t"]);
    assert_eq!(
        *assignor.seen_counts.lock().expect("not poisoned"),
        BTreeMap::from([("app-changelog".into(), 6), ("t".into(), 4)]),
        "counts of the existing extra topics, missing ones left out"
    );
    assert_eq!(
        *assignor.seen_racks.lock().expect("not poisoned"),
        BTreeMap::from([
            ("m-1".into(), Some("rack-a".into())),
            ("m-2".into(), Some("rack-b".into()))
        ])
    );
    assert_eq!(assigned(&h.events()).len(), 1);
}

#[test]
fn a_failed_preparation_is_retried_if_transient_and_fails_the_join_otherwise() {
    let assignor = Arc::new(StreamsLike {
        prepare: true,
        ..Default::default()
    });
    let mut h = Harness::new(assignor, None);
    h.core.join(vec!["t".into()], Vec::new());
    let prepare = loop {
        let out = h.outgoing();
        let Some(p) = out
            .iter()
            .find(|o| matches!(o.request, GroupRequest::PrepareAssignment { .. }))
            .cloned()
        else {
            out.iter().for_each(|o| h.answer(o));
            continue;
        };
        break p;
    };
    let timeout = Error::Timeout {
        operation: "CreateTopics",
        timeout: Duration::from_secs(1),
        last: Box::new(Error::InvalidArgument("slow".into())),
    };
    h.core.handle_error(h.now, prepare.id, &timeout);
    assert!(
        h.events().is_empty(),
        "transient: no error for the application"
    );
    assert!(h.outgoing().is_empty(), "retried after the backoff");
    h.advance(BACKOFF);
    let sent = h.exchange();
    assert_eq!(
        sent,
        ["JoinGroup", "PrepareAssignment", "Metadata", "SyncGroup"]
    );
    assert_eq!(assigned(&h.events()).len(), 1);

    // A non-transient failure fails the join for the application.
    h.core.request_rejoin("again");
    h.core.join(vec!["t".into()], vec![tp(0)]);
    let join = h.outgoing();
    join.iter().for_each(|o| h.answer(o));
    let prepare = h.outgoing();
    assert_eq!(prepare.len(), 1);
    let refused = Error::InvalidArgument("topic app-changelog has 3 partitions, want 6".into());
    h.core.handle_error(h.now, prepare[0].id, &refused);
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::JoinFailed(Error::InvalidArgument(_))]
        ),
        "{events:?}"
    );
    assert!(h.core.rejoin_needed());
}

#[test]
fn a_pattern_subscription_lists_topics_first_and_rejoins_when_the_matches_change() {
    let mut h = Harness::range();
    h.fake.leader = Some("m-0".into());
    h.fake.partitions.insert("other".into(), 1);
    let refresh = Duration::from_secs(5);
    h.core
        .subscribe_pattern(TopicPattern::new("t.*").expect("compiles"), refresh);
    h.core.join(Vec::new(), Vec::new());
    assert_eq!(
        h.exchange(),
        ["ListTopics", "FindCoordinator", "JoinGroup", "SyncGroup"]
    );
    let sub = h.fake.last_subscription.clone().expect("joined");
    assert_eq!(
        sub.topics,
        ["t"],
        "internal and non-matching topics left out"
    );
    assert_eq!(assigned(&h.events()).len(), 1);
    assert_eq!(h.core.timer(Timer::TopicRefresh), Some(h.now + refresh));

    // Nothing new: the listing changes nothing.
    let sent = h.run(refresh, Duration::from_secs(1), true);
    assert!(sent.contains(&"ListTopics"), "{sent:?}");
    assert!(!h.core.rejoin_needed());
    assert!(h.events().is_empty());

    // A matching topic is created: the next listing rejoins with it.
    h.fake.partitions.insert("t-new".into(), 2);
    h.run(refresh, Duration::from_secs(1), true);
    assert!(h.core.rejoin_needed());
    assert!(matches!(h.events().as_slice(), [Event::RejoinNeeded]));
    assert_eq!(h.core.subscribed_topics(), ["t", "t-new"]);
    h.core.join(Vec::new(), vec![tp(0)]);
    let out = h.outgoing();
    assert_eq!(
        join_reason(&out).as_deref(),
        Some("subscribed topics changed")
    );
    out.iter().for_each(|o| h.answer(o));
    h.exchange();
    let sub = h.fake.last_subscription.clone().expect("joined");
    assert_eq!(sub.topics, ["t", "t-new"]);
}

#[test]
fn a_failed_topic_listing_is_retried_after_the_backoff() {
    let mut h = Harness::range();
    h.core.subscribe_pattern(
        TopicPattern::new("t").expect("compiles"),
        Duration::from_secs(5),
    );
    h.core.join(Vec::new(), Vec::new());
    let out = h.outgoing();
    let names: Vec<&str> = out.iter().map(|o| o.request.name()).collect();
    assert_eq!(
        names,
        ["ListTopics", "FindCoordinator"],
        "no join before the listing"
    );
    h.core.handle_error(
        h.now,
        out[0].id,
        &Error::InvalidArgument("no broker".into()),
    );
    h.answer(&out[1]);
    assert!(h.outgoing().is_empty(), "the listing waits for the backoff");
    h.advance(BACKOFF);
    assert_eq!(
        h.exchange(),
        ["ListTopics", "JoinGroup", "Metadata", "SyncGroup"]
    );
}

#[test]
fn matches_changing_during_a_rebalance_rejoin_after_it() {
    let mut h = Harness::range();
    h.fake.leader = Some("m-0".into());
    let refresh = Duration::from_secs(5);
    h.core
        .subscribe_pattern(TopicPattern::new("t.*").expect("compiles"), refresh);
    h.core.join(Vec::new(), Vec::new());
    h.exchange();
    assert_eq!(assigned(&h.events()).len(), 1);
    // A rebalance starts; while its JoinGroup is in flight a matching topic appears.
    h.core.enforce_rebalance("test");
    h.core.join(Vec::new(), vec![tp(0)]);
    let join = h.outgoing();
    assert_eq!(join.len(), 1);
    h.fake.partitions.insert("t-new".into(), 2);
    h.advance(refresh);
    h.exchange(); // the listing
    assert_eq!(h.core.subscribed_topics(), ["t", "t-new"]);
    h.answer(&join[0]);
    h.exchange();
    let events = h.events();
    assert_eq!(assigned(&events).len(), 1, "{events:?}");
    assert!(
        h.core.rejoin_needed(),
        "joined with the old topics: rejoin with the new ones"
    );
    h.core.join(Vec::new(), vec![tp(0)]);
    let out = h.outgoing();
    assert_eq!(
        join_reason(&out).as_deref(),
        Some("subscribed topics changed")
    );
}
