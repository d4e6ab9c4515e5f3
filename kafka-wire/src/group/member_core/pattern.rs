//! Pattern subscriptions: the member lists the cluster's topics every `metadata.max.age.ms`
//! (Java's consumer asks for metadata of all topics under a pattern and re-evaluates it on
//! every update), subscribes to those the pattern matches, and rejoins when that set changes.
//! The first JoinGroup waits for the first listing, so the member does not join with an
//! empty subscription only to rejoin at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use crate::error::Error;
use crate::group::membership::NO_GENERATION;
use crate::group::pattern::TopicPattern;
use crate::group::timer::Timer;

use super::{Event, GroupRequest, MemberCore, OutgoingRequest, RequestId};

/// A pattern subscription's state.
#[derive(Debug, Clone)]
pub(super) struct PatternSubscription {
    pattern: TopicPattern,
    /// How often the topics are listed (`metadata.max.age.ms`).
    refresh: Duration,
    /// A listing is due.
    due: bool,
    /// The listing in flight.
    in_flight: Option<RequestId>,
    /// The pattern was matched against at least one listing.
    evaluated: bool,
}

impl MemberCore {
    /// Subscribe to every topic whose whole name matches `pattern` (internal topics excluded),
    /// looking at the cluster's topics now and every `refresh` (`metadata.max.age.ms`) after;
    /// the member rejoins whenever the matching set changes. Replaces a topic-list or pattern
    /// subscription (rejoining if the member is in the group).
    pub fn subscribe_pattern(&mut self, pattern: TopicPattern, refresh: Duration) {
        let changed = self.pattern.as_ref().is_none_or(|p| p.pattern != pattern);
        self.pattern = Some(PatternSubscription {
            pattern,
            refresh,
            due: true,
            in_flight: None,
            evaluated: false,
        });
        self.timers.stop(Timer::TopicRefresh);
        if changed && self.membership.generation() != NO_GENERATION {
            self.request_rejoin("subscription changed to a pattern");
        }
    }

    /// Subscribe to `topics` again instead of a pattern (the next join sends them).
    pub fn subscribe_topics(&mut self, topics: Vec<String>) {
        self.pattern = None;
        self.timers.stop(Timer::TopicRefresh);
        if topics != self.topics {
            self.topics = topics;
            if self.membership.generation() != NO_GENERATION {
                self.request_rejoin("subscription changed");
            }
        }
    }

    /// The topics the member subscribes to now (what the pattern matched last, under a
    /// pattern subscription).
    pub fn subscribed_topics(&self) -> &[String] {
        &self.topics
    }

    /// The pattern subscribed to, if any.
    pub fn subscribed_pattern(&self) -> Option<&TopicPattern> {
        self.pattern.as_ref().map(|p| &p.pattern)
    }

    /// Whether a join may go out: not before a pattern subscription's first listing.
    pub(super) fn pattern_evaluated(&self) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.evaluated)
    }

    pub(super) fn is_topic_listing(&self, id: RequestId) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|p| p.in_flight == Some(id))
    }

    /// The topic listing to send now, if one is due.
    pub(super) fn poll_topic_listing(&mut self) -> Option<OutgoingRequest> {
        if self.closed {
            return None;
        }
        let p = self.pattern.as_mut()?;
        if !p.due || p.in_flight.is_some() {
            return None;
        }
        p.due = false;
        Some(self.issue(GroupRequest::ListTopics, |s, id| {
            if let Some(p) = s.pattern.as_mut() {
                p.in_flight = Some(id);
            }
        }))
    }

    pub(super) fn topic_refresh_due(&mut self) {
        if let Some(p) = self.pattern.as_mut() {
            p.due = true;
        }
    }

    /// The cluster's topics (name → flagged internal) arrived for listing `id`.
    pub(super) fn on_topics(
        &mut self,
        now: Instant,
        id: RequestId,
        topics: &BTreeMap<String, bool>,
    ) {
        if !self.is_topic_listing(id) {
            return self.stale("ListTopics");
        }
        let Some(p) = self.pattern.as_mut() else {
            return;
        };
        p.in_flight = None;
        p.evaluated = true;
        let matched = p.pattern.matching(
            topics
                .iter()
                .map(|(name, internal)| (name.as_str(), *internal)),
        );
        self.timers.set(Timer::TopicRefresh, now + p.refresh);
        if matched == self.topics {
            return;
        }
        info!(
            group = %self.config.membership.group_id,
            pattern = p.pattern.as_str(),
            topics = ?matched,
            "the topics matching the subscribed pattern changed"
        );
        self.topics = matched;
        if self.membership.generation() != NO_GENERATION {
            let stable = self.is_stable();
            self.request_rejoin("subscribed topics changed");
            if stable {
                self.events.push_back(Event::RejoinNeeded);
            }
        }
    }

    pub(super) fn topic_listing_failed(&mut self, now: Instant, error: &Error) {
        let Some(p) = self.pattern.as_mut() else {
            return;
        };
        p.in_flight = None;
        debug!(group = %self.config.membership.group_id, %error, "listing topics failed");
        self.timers.set(
            Timer::TopicRefresh,
            now + self.config.membership.retry_backoff,
        );
    }
}
