//! The I/O shell around [`Membership`]: joins and syncs through the coordinator, runs the
//! leader's assignor, and heartbeats from a background task so that record processing never
//! starves the session.
//!
//! The heartbeat task also enforces `max.poll.interval.ms` as the Java consumer does: when the
//! application has not asked for records for that long, the member leaves the group (its
//! partitions go to the others) and finds its partitions lost on its next poll.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::{Client, TopicsToRefresh};
use crate::error::{Error, Result};
use crate::protocol::messages::join_group_response::JoinGroupResponseMember;
use crate::protocol::ErrorCode;
use crate::TopicPartition;

use super::assignor::{
    common_protocol, decode_assignment, decode_subscription, encode_assignment,
    encode_subscription, Assignment, Assignor, MemberSubscription, RebalanceProtocol, Subscription,
};
use super::membership::{MemberState, Membership, MembershipConfig, Next};
use super::offsets::CommitIdentity;

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
#[derive(Debug, Clone)]
pub struct JoinResult {
    /// The generation joined.
    pub generation: i32,
    /// This member's partitions in it.
    pub assignment: Assignment,
    /// The member's id in the group.
    pub member_id: String,
}

/// What the background task found since the last look.
#[derive(Debug, Default)]
struct Signals {
    /// The member lost its generation (fenced, expired, or left on poll timeout).
    lost: bool,
    /// An unrecoverable error (e.g. FENCED_INSTANCE_ID).
    fatal: Option<Error>,
}

#[derive(Debug)]
struct Shared {
    coordinator: Coordinator,
    config: MemberConfig,
    membership: Mutex<Membership>,
    signals: Mutex<Signals>,
    last_poll: Mutex<Instant>,
    wake: Notify,
}

impl Shared {
    fn membership(&self) -> std::sync::MutexGuard<'_, Membership> {
        self.membership.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn signals(&self) -> std::sync::MutexGuard<'_, Signals> {
        self.signals.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A member of one consumer group.
#[derive(Debug)]
pub struct GroupMember {
    shared: Arc<Shared>,
    assignors: Vec<Arc<dyn Assignor>>,
    protocol: RebalanceProtocol,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl GroupMember {
    /// A member of `config.membership.group_id` using `assignors` (in order of preference).
    pub fn new(
        client: Client,
        config: MemberConfig,
        assignors: Vec<Arc<dyn Assignor>>,
    ) -> Result<Self> {
        if assignors.is_empty() {
            return Err(Error::InvalidArgument(
                "partition.assignment.strategy must name at least one assignor".into(),
            ));
        }
        if config.heartbeat_interval >= config.membership.session_timeout {
            return Err(Error::InvalidArgument(format!(
                "heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
                config.heartbeat_interval.as_millis(),
                config.membership.session_timeout.as_millis()
            )));
        }
        let protocol = common_protocol(&assignors);
        let shared = Arc::new(Shared {
            coordinator: Coordinator::new(
                client,
                CoordinatorType::Group,
                config.membership.group_id.clone(),
            ),
            membership: Mutex::new(Membership::new(config.membership.clone())),
            config,
            signals: Mutex::new(Signals::default()),
            last_poll: Mutex::new(Instant::now()),
            wake: Notify::new(),
        });
        let heartbeat = tokio::spawn(heartbeat_loop(Arc::downgrade(&shared)));
        Ok(GroupMember {
            shared,
            assignors,
            protocol,
            heartbeat,
        })
    }

    /// The group coordinator.
    pub fn coordinator(&self) -> &Coordinator {
        &self.shared.coordinator
    }

    /// The rebalance protocol all configured assignors support.
    pub fn protocol(&self) -> RebalanceProtocol {
        self.protocol
    }

    /// Who commits offsets now (generation, member id, instance id).
    pub fn identity(&self) -> CommitIdentity {
        let m = self.shared.membership();
        CommitIdentity {
            generation_id: m.generation(),
            member_id: m.member_id().to_owned(),
            group_instance_id: m.config().group_instance_id.clone(),
        }
    }

    /// Record that the application polled (for `max.poll.interval.ms`).
    pub fn polled(&self) {
        *self
            .shared
            .last_poll
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// Whether the member must rejoin before consuming (not joined, a rebalance started, or it
    /// asked for one).
    pub fn rejoin_needed(&self) -> bool {
        self.shared.membership().rejoin_needed()
    }

    /// Ask for a rejoin (e.g. after revoking partitions in a cooperative rebalance).
    pub fn request_rejoin(&self) {
        self.shared.membership().request_rejoin();
    }

    /// Take the "partitions lost" signal, if the heartbeat task raised it.
    pub fn take_lost(&self) -> bool {
        std::mem::take(&mut self.shared.signals().lost)
    }

    /// Take a fatal error the heartbeat task saw, if any.
    pub fn take_fatal(&self) -> Option<Error> {
        self.shared.signals().fatal.take()
    }

    /// Resolves when the heartbeat task has news (rebalance, loss, fatal error).
    pub async fn changed(&self) {
        self.shared.wake.notified().await
    }

    /// Join the group and wait for this member's assignment. `owned` are the partitions it
    /// holds (kept across the rebalance under the cooperative protocol). Returns `Ok(None)`
    /// when the member found itself fenced on the way (its partitions are lost; call again).
    pub async fn join(
        &self,
        topics: &[String],
        owned: &[TopicPartition],
    ) -> Result<Option<JoinResult>> {
        let mut lost = false;
        let mut reason = "joining".to_owned();
        loop {
            let generation = self.shared.membership().generation();
            let subscription = Subscription {
                topics: topics.to_vec(),
                user_data: None,
                owned_partitions: match self.protocol {
                    RebalanceProtocol::Cooperative if !lost => owned.to_vec(),
                    _ => Vec::new(),
                },
                generation_id: generation,
                rack_id: self.shared.config.client_rack.clone(),
            };
            let protocols: Vec<(String, Bytes)> = self
                .assignors
                .iter()
                .map(|a| {
                    let mut s = subscription.clone();
                    s.user_data = a.subscription_user_data(topics, &s.owned_partitions, generation);
                    (a.name().to_owned(), encode_subscription(&s))
                })
                .collect();
            let request = self.shared.membership().join_request(protocols, &reason);
            let timeout = self.shared.config.membership.rebalance_timeout
                + self.shared.coordinator.client().config().request_timeout;
            let next = match self
                .shared
                .coordinator
                .send_built(i16::MAX, Some(timeout), |v| {
                    let mut request = request;
                    if v < 8 {
                        request.reason = None; // JoinGroup carries a reason from v8 (KIP-800)
                    }
                    request
                })
                .await
            {
                Ok(resp) => self.shared.membership().on_join_response(resp),
                Err(e) => self.transport_error("JoinGroup", e)?,
            };
            let members = match next {
                Next::Sync { members } => members,
                Next::Rejoin => continue,
                Next::Lost => {
                    lost = true;
                    continue;
                }
                other => {
                    self.wait_step(other, &mut reason).await?;
                    continue;
                }
            };
            let assignments = match members {
                Some(members) => self.lead(members).await?,
                None => Vec::new(),
            };
            let request = self.shared.membership().sync_request(assignments);
            let sent = self
                .shared
                .coordinator
                .send_versioned(i16::MAX, |v| {
                    let mut request = request;
                    if v < 5 {
                        // SyncGroup names the protocol from v5 (KIP-559).
                        request.protocol_type = None;
                        request.protocol_name = None;
                    }
                    request
                })
                .await;
            let next = match sent {
                Ok(resp) => self.shared.membership().on_sync_response(resp),
                Err(e) => self.transport_error("SyncGroup", e)?,
            };
            match next {
                Next::Assigned(bytes) => {
                    let assignment = decode_assignment(bytes).map_err(|e| Error::Protocol {
                        operation: "SyncGroup",
                        detail: format!("undecodable assignment: {e}"),
                    })?;
                    let (generation, member_id, name) = {
                        let m = self.shared.membership();
                        (
                            m.generation(),
                            m.member_id().to_owned(),
                            m.protocol_name().map(str::to_owned),
                        )
                    };
                    if let Some(a) = self
                        .assignors
                        .iter()
                        .find(|a| Some(a.name()) == name.as_deref())
                    {
                        a.on_assignment(&assignment, generation);
                    }
                    info!(
                        group = self.shared.coordinator.key(),
                        generation,
                        member = %member_id,
                        partitions = assignment.partitions.len(),
                        "joined group"
                    );
                    self.shared.signals().lost = false;
                    self.polled();
                    if lost {
                        return Ok(None);
                    }
                    return Ok(Some(JoinResult {
                        generation,
                        assignment,
                        member_id,
                    }));
                }
                Next::Rejoin => reason = "rebalance in progress during sync".into(),
                Next::Lost => lost = true,
                other => self.wait_step(other, &mut reason).await?,
            }
        }
    }

    fn transport_error(&self, operation: &'static str, e: Error) -> Result<Next> {
        if e.is_retriable() || matches!(e, Error::Connection(_) | Error::Timeout { .. }) {
            debug!(group = self.shared.coordinator.key(), operation, error = %e, "retrying");
            self.shared.coordinator.mark_unknown();
            Ok(Next::RetryAfter(
                self.shared.config.membership.retry_backoff,
            ))
        } else {
            Err(e)
        }
    }

    async fn wait_step(&self, next: Next, reason: &mut String) -> Result<()> {
        match next {
            Next::RetryAfter(d) => tokio::time::sleep(d).await,
            Next::FindCoordinator => {
                self.shared.coordinator.mark_unknown();
                *reason = "coordinator moved".into();
                tokio::time::sleep(self.shared.config.membership.retry_backoff).await;
            }
            Next::Fatal(e) => return Err(e),
            Next::Continue | Next::Rejoin | Next::Lost | Next::Sync { .. } | Next::Assigned(_) => {}
        }
        Ok(())
    }

    /// The leader's part: decode every member's subscription, run the chosen assignor over
    /// the current partition counts and encode the results.
    async fn lead(&self, members: Vec<JoinGroupResponseMember>) -> Result<Vec<(String, Bytes)>> {
        let name = self.shared.membership().protocol_name().map(str::to_owned);
        let Some(assignor) = self
            .assignors
            .iter()
            .find(|a| Some(a.name()) == name.as_deref())
        else {
            return Err(Error::Protocol {
                operation: "JoinGroup",
                detail: format!(
                    "the coordinator chose assignor {name:?}, which this member did not offer"
                ),
            });
        };
        let mut subscriptions = Vec::with_capacity(members.len());
        let mut all_topics = BTreeSet::new();
        for m in members {
            let subscription = decode_subscription(m.metadata).map_err(|e| Error::Protocol {
                operation: "JoinGroup",
                detail: format!("member {}'s subscription is undecodable: {e}", m.member_id),
            })?;
            all_topics.extend(subscription.topics.iter().cloned());
            subscriptions.push(MemberSubscription {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                subscription,
            });
        }
        subscriptions.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        let topics: Vec<String> = all_topics.into_iter().collect();
        let client = self.shared.coordinator.client();
        client
            .refresh_metadata(TopicsToRefresh::Some(topics.clone()))
            .await?;
        let partitions_per_topic: BTreeMap<String, i32> = client.with_metadata(|m| {
            topics
                .iter()
                .filter_map(|t| {
                    let meta = m.topics.get(t)?;
                    (meta.error.is_ok() && !meta.partitions.is_empty())
                        .then(|| (t.clone(), meta.partitions.len() as i32))
                })
                .collect()
        });
        let assignments = assignor
            .assign(&partitions_per_topic, &subscriptions)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        debug!(
            group = self.shared.coordinator.key(),
            assignor = assignor.name(),
            members = subscriptions.len(),
            "computed assignment as leader"
        );
        Ok(subscriptions
            .iter()
            .map(|m| {
                let a = assignments.get(&m.member_id).cloned().unwrap_or_default();
                (m.member_id.clone(), encode_assignment(&a))
            })
            .collect())
    }

    /// Leave the group (LeaveGroup; static members only stop heartbeating, KIP-345).
    pub async fn leave(&self, reason: &str) -> Result<()> {
        self.heartbeat.abort();
        let request = self.shared.membership().leave_request(reason, false);
        let Some(request) = request else {
            return Ok(());
        };
        let resp = self
            .shared
            .coordinator
            .send_versioned(i16::MAX, |v| leave_at_version(request, v))
            .await?;
        let code = ErrorCode(resp.error_code);
        match code {
            ErrorCode::NONE | ErrorCode::UNKNOWN_MEMBER_ID => Ok(()),
            code => Err(Error::kafka(
                "LeaveGroup",
                self.shared.coordinator.key(),
                code,
                None,
            )),
        }
    }
}

/// LeaveGroup names the member at the top level up to v2 and in `members` from v3 (KIP-345).
fn leave_at_version(
    mut request: crate::protocol::messages::leave_group_request::LeaveGroupRequest,
    version: i16,
) -> crate::protocol::messages::leave_group_request::LeaveGroupRequest {
    if version >= 3 {
        request.member_id.clear();
    } else {
        request.members.clear();
    }
    if version < 5 {
        for m in &mut request.members {
            m.reason = None;
        }
    }
    request
}

/// Heartbeats every `heartbeat.interval.ms` while the member has a generation, and leaves the
/// group when the application stops polling for `max.poll.interval.ms`.
async fn heartbeat_loop(shared: std::sync::Weak<Shared>) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let interval = s.config.heartbeat_interval;
        let state_gen = {
            let m = s.membership();
            matches!(
                m.state(),
                MemberState::Stable | MemberState::CompletingRebalance
            )
            .then(|| (m.generation(), m.heartbeat_request()))
        };
        if let Some((generation, request)) = state_gen {
            let since_poll = s
                .last_poll
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed();
            if since_poll > s.config.max_poll_interval {
                warn!(
                    group = s.coordinator.key(),
                    "no poll for {since_poll:?} > max.poll.interval.ms; leaving the group"
                );
                let leave = s
                    .membership()
                    .leave_request("consumer poll timeout has expired", true);
                if let Some(leave) = leave {
                    let _ = s
                        .coordinator
                        .send_versioned(i16::MAX, |v| leave_at_version(leave, v))
                        .await;
                }
                s.signals().lost = true;
                s.wake.notify_waiters();
            } else {
                let next = match s.coordinator.send(&request).await {
                    Ok(resp) => s
                        .membership()
                        .on_heartbeat_response(ErrorCode(resp.error_code), generation),
                    Err(e) => {
                        debug!(group = s.coordinator.key(), error = %e, "heartbeat failed");
                        Next::FindCoordinator
                    }
                };
                match next {
                    Next::Continue => {}
                    Next::Rejoin => s.wake.notify_waiters(),
                    Next::Lost => {
                        s.signals().lost = true;
                        s.wake.notify_waiters();
                    }
                    Next::FindCoordinator => {
                        s.coordinator.mark_unknown();
                        drop(s);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    Next::Fatal(e) => {
                        s.signals().fatal = Some(e);
                        s.wake.notify_waiters();
                    }
                    Next::RetryAfter(_) | Next::Sync { .. } | Next::Assigned(_) => {}
                }
            }
        }
        drop(s);
        tokio::time::sleep(interval).await;
    }
}
