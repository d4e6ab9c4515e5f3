//! The tokio shell around [`MemberCore`]: a background task sends the requests the core asks
//! for, feeds every answer back with the time it arrived, and sleeps until the core's next
//! timer or a command from the application. It decides nothing itself: when to heartbeat,
//! when the session or `max.poll.interval.ms` expired, what an error means, when auto commit
//! is due: all of that is the core's (see [`super::member_core`]).
//!
//! As in the Java consumer, heartbeats run in the background so that record processing never
//! starves the session, and a member whose application stops polling for
//! `max.poll.interval.ms` leaves the group (its partitions go to the others) and finds its
//! partitions lost on its next poll.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Notify;

use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::{Client, TopicsToRefresh};
use crate::error::{Error, Result};
use crate::protocol::messages::leave_group_request::LeaveGroupRequest;
use crate::protocol::messages::sync_group_request::SyncGroupRequest;
use crate::TopicPartition;

use super::assignor::{Assignor, RebalanceProtocol};
use super::leader::LeaderContext;
use super::member_core::{
    Event, GroupRequest, GroupResponse, MemberCore, OutgoingRequest, RequestId,
};
use super::offsets::{self, CommitIdentity, OffsetAndMetadata};
use super::pattern::TopicPattern;

pub use super::member_core::{JoinResult, MemberConfig};

/// The core's events, kept until the application looks.
#[derive(Debug, Default)]
struct Signals {
    /// The member lost its generation (fenced, expired, or left on poll timeout).
    lost: bool,
    /// An unrecoverable error (e.g. FENCED_INSTANCE_ID).
    fatal: Option<Error>,
    /// Auto commit is due.
    commit_due: bool,
    /// A completed rebalance.
    assigned: Option<JoinResult>,
    /// A join failed with an error for its caller.
    join_error: Option<Error>,
    /// The LeaveGroup's outcome.
    left: Option<Result<()>>,
}

#[derive(Debug)]
struct Shared {
    coordinator: Coordinator,
    core: Mutex<MemberCore>,
    signals: Mutex<Signals>,
    /// The application gave the core a command: the driver should look at it again.
    wake_driver: Notify,
    /// The core has news for the application.
    changed: Notify,
}

impl Shared {
    fn core(&self) -> MutexGuard<'_, MemberCore> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn signals(&self) -> MutexGuard<'_, Signals> {
        self.signals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Move the core's events into the mailbox; whether there were any.
    fn absorb(&self) -> bool {
        let mut core = self.core();
        let mut signals = self.signals();
        let mut any = false;
        while let Some(event) = core.poll_event() {
            any = true;
            match event {
                Event::Assigned(r) => signals.assigned = Some(r),
                Event::PartitionsLost => {
                    signals.lost = true;
                    signals.assigned = None;
                }
                Event::RejoinNeeded => {}
                Event::CommitDue => signals.commit_due = true,
                Event::JoinFailed(e) => signals.join_error = Some(e),
                Event::Left(r) => signals.left = Some(r),
                Event::Fatal(e) => signals.fatal = Some(e),
            }
        }
        any
    }

    /// Feed a request's outcome to the core.
    fn complete(&self, id: RequestId, outcome: Result<GroupResponse>) {
        let mut core = self.core();
        let now = Instant::now();
        match outcome {
            Ok(response) => core.handle_response(now, id, response),
            Err(e) => core.handle_error(now, id, &e),
        }
    }
}

/// A member of one consumer group.
#[derive(Debug)]
pub struct GroupMember {
    shared: Arc<Shared>,
    protocol: RebalanceProtocol,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        self.driver.abort();
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
        let request_timeout = client.config().request_timeout;
        let coordinator = Coordinator::new(
            client,
            CoordinatorType::Group,
            config.membership.group_id.clone(),
        );
        let core = MemberCore::new(config, request_timeout, assignors);
        let protocol = core.protocol();
        let shared = Arc::new(Shared {
            coordinator,
            core: Mutex::new(core),
            signals: Mutex::new(Signals::default()),
            wake_driver: Notify::new(),
            changed: Notify::new(),
        });
        let driver = tokio::spawn(drive(shared.clone()));
        Ok(GroupMember {
            shared,
            protocol,
            driver,
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
        self.shared.core().identity()
    }

    /// Record that the application polled (for `max.poll.interval.ms`).
    pub fn polled(&self) {
        self.shared.core().handle_poll(Instant::now());
    }

    /// Whether the member must rejoin before consuming (not joined, a rebalance started, or it
    /// asked for one).
    pub fn rejoin_needed(&self) -> bool {
        self.shared.core().rejoin_needed()
    }

    /// Ask for a rejoin (e.g. after the subscription changed).
    pub fn request_rejoin(&self) {
        self.shared.core().request_rejoin("rejoin requested");
    }

    /// Rejoin now if stable (Java's `enforceRebalance`); see [`MemberCore::enforce_rebalance`].
    pub fn enforce_rebalance(&self, reason: &str) {
        self.shared.core().enforce_rebalance(reason);
        self.wake();
    }

    /// Subscribe to the topics matching `pattern`, listed every `refresh`; see
    /// [`MemberCore::subscribe_pattern`].
    pub fn subscribe_pattern(&self, pattern: TopicPattern, refresh: Duration) {
        self.shared.core().subscribe_pattern(pattern, refresh);
        self.wake();
    }

    /// Subscribe to `topics` (replacing a pattern); see [`MemberCore::subscribe_topics`].
    pub fn subscribe_topics(&self, topics: Vec<String>) {
        self.shared.core().subscribe_topics(topics);
        self.wake();
    }

    /// The topics subscribed to now (under a pattern: what it matched last).
    pub fn subscribed_topics(&self) -> Vec<String> {
        self.shared.core().subscribed_topics().to_vec()
    }

    /// Let the driver look at the core again, and the application at its events.
    fn wake(&self) {
        self.shared.wake_driver.notify_one();
        if self.shared.absorb() {
            self.shared.changed.notify_one();
        }
    }

    /// Take the "partitions lost" signal, if the member lost its generation.
    pub fn take_lost(&self) -> bool {
        self.shared.absorb();
        std::mem::take(&mut self.shared.signals().lost)
    }

    /// Take a fatal error the member stopped on, if any.
    pub fn take_fatal(&self) -> Option<Error> {
        self.shared.absorb();
        self.shared.signals().fatal.take()
    }

    /// Take the "auto commit is due" signal (see [`GroupMember::set_auto_commit`]).
    pub fn take_commit_due(&self) -> bool {
        self.shared.absorb();
        std::mem::take(&mut self.shared.signals().commit_due)
    }

    /// Signal auto commit every `interval` while the member is stable (`None`: never).
    pub fn set_auto_commit(&self, interval: Option<Duration>) {
        self.shared.core().set_auto_commit(Instant::now(), interval);
        self.shared.wake_driver.notify_one();
    }

    /// Resolves when the member has news (rebalance, loss, fatal error, commit due).
    pub async fn changed(&self) {
        self.shared.changed.notified().await
    }

    /// Join the group and wait for this member's assignment. `owned` are the partitions it
    /// holds (kept across the rebalance under the cooperative protocol). Returns `Ok(None)`
    /// when the member found itself fenced on the way (its partitions are lost; call again).
    pub async fn join(
        &self,
        topics: &[String],
        owned: &[TopicPartition],
    ) -> Result<Option<JoinResult>> {
        self.start_join(topics, owned)?;
        self.joined().await
    }

    /// Start joining the group (see [`GroupMember::join`]) without waiting: the core takes the
    /// command at once, so the member is rebalancing when this returns (a second start while
    /// a join is under way only updates the subscription). Wait with [`GroupMember::joined`].
    pub fn start_join(&self, topics: &[String], owned: &[TopicPartition]) -> Result<()> {
        {
            let mut core = self.shared.core();
            if let Some(e) = core.fatal_error() {
                return Err(e.clone());
            }
            core.join(topics.to_vec(), owned.to_vec());
        }
        self.shared.wake_driver.notify_one();
        Ok(())
    }

    /// Wait for the outcome of the join started with [`GroupMember::start_join`]: the
    /// assignment, `Ok(None)` if the member lost its generation on the way, or the error the
    /// join (or the member) failed with. Only one task should wait at a time.
    pub async fn joined(&self) -> Result<Option<JoinResult>> {
        loop {
            let changed = self.shared.changed.notified();
            self.shared.absorb();
            {
                let mut signals = self.shared.signals();
                if let Some(e) = signals.fatal.take() {
                    return Err(e);
                }
                if let Some(e) = signals.join_error.take() {
                    return Err(e);
                }
                if std::mem::take(&mut signals.lost) {
                    return Ok(None);
                }
                if let Some(joined) = signals.assigned.take() {
                    return Ok(Some(joined));
                }
            }
            changed.await;
        }
    }

    /// Whether the application keeps consuming its partitions while a join is under way; see
    /// [`MemberCore::consumes_while_joining`].
    pub fn consumes_while_joining(&self) -> bool {
        self.shared.core().consumes_while_joining()
    }

    /// Commit `offsets` in the member's current generation and tell the member how it went.
    /// Refused without a request while a rebalance is under way (commit again once it
    /// completed) or when the member has no generation. `auto` marks an auto commit (retried
    /// by the member's schedule).
    pub async fn commit(
        &self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
        auto: bool,
    ) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let identity = self
            .shared
            .core()
            .commit_identity()
            .map_err(|refused| refused.into_error(self.shared.coordinator.key()))?;
        let result = offsets::commit(&self.shared.coordinator, &identity, offsets).await;
        self.shared.core().handle_commit_result(
            Instant::now(),
            &identity,
            result.as_ref().map(|_| ()),
            auto,
        );
        self.shared.wake_driver.notify_one();
        if self.shared.absorb() {
            self.shared.changed.notify_one();
        }
        result
    }

    /// Leave the group (LeaveGroup; static members only stop heartbeating, KIP-345, unless
    /// `force`).
    pub async fn leave(&self, reason: &str, force: bool) -> Result<()> {
        // The background task stops; the core's last requests are carried out here.
        self.driver.abort();
        self.shared.core().leave(reason, force);
        loop {
            let next = self.shared.core().poll_request(Instant::now());
            let Some(out) = next else { break };
            let (id, outcome) = execute(self.shared.clone(), out).await;
            self.shared.complete(id, outcome);
        }
        self.shared.absorb();
        self.shared.signals().left.take().unwrap_or(Ok(()))
    }
}

/// The background task: carries out the core's requests and timers until the member is
/// dropped or leaves.
async fn drive(shared: Arc<Shared>) {
    type InFlight = BoxFuture<'static, (RequestId, Result<GroupResponse>)>;
    let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    loop {
        let deadline = {
            let mut core = shared.core();
            let now = Instant::now();
            core.handle_timeout(now);
            while let Some(out) = core.poll_request(now) {
                in_flight.push(Box::pin(execute(shared.clone(), out)));
            }
            core.poll_timeout()
        };
        if shared.absorb() {
            shared.changed.notify_one();
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some((id, outcome)) = in_flight.next(), if !in_flight.is_empty() => {
                shared.complete(id, outcome);
            }
            _ = sleep => {}
            _ = shared.wake_driver.notified() => {}
        }
    }
}

/// Send one request the core asked for; the outcome goes back to the core as is.
async fn execute(shared: Arc<Shared>, out: OutgoingRequest) -> (RequestId, Result<GroupResponse>) {
    let c = &shared.coordinator;
    let result = match out.request {
        GroupRequest::FindCoordinator => {
            c.mark_unknown();
            c.node()
                .await
                .map(|node| GroupResponse::FindCoordinator { node })
        }
        GroupRequest::Metadata { topics } => {
            partition_counts(c.client(), topics)
                .await
                .map(|partitions_per_topic| GroupResponse::Metadata {
                    partitions_per_topic,
                })
        }
        GroupRequest::PrepareAssignment {
            assignor,
            generation,
            members,
        } => {
            let context =
                LeaderContext::new(c.client().clone(), c.key().to_owned(), generation, members);
            assignor
                .prepare(&context)
                .await
                .map(|()| GroupResponse::Prepared)
        }
        GroupRequest::ListTopics => cluster_topics(c.client())
            .await
            .map(|topics| GroupResponse::Topics { topics }),
        GroupRequest::JoinGroup { request, timeout } => c
            .send_built(i16::MAX, Some(timeout), |v| {
                let mut request = request;
                if v < 8 {
                    request.reason = None; // JoinGroup carries a reason from v8 (KIP-800)
                }
                request
            })
            .await
            .map(GroupResponse::JoinGroup),
        GroupRequest::SyncGroup(request) => c
            .send_versioned(i16::MAX, |v| sync_at_version(request, v))
            .await
            .map(GroupResponse::SyncGroup),
        GroupRequest::Heartbeat(request) => c
            .send_versioned(i16::MAX, |_| request)
            .await
            .map(GroupResponse::Heartbeat),
        GroupRequest::LeaveGroup(request) => c
            .send_versioned(i16::MAX, |v| leave_at_version(request, v))
            .await
            .map(GroupResponse::LeaveGroup),
    };
    (out.id, result)
}

/// The partition counts of the existing `topics` (for the leader's assignor).
async fn partition_counts(client: &Client, topics: Vec<String>) -> Result<BTreeMap<String, i32>> {
    client
        .refresh_metadata(TopicsToRefresh::Some(topics.clone()))
        .await?;
    Ok(client.with_metadata(|m| {
        topics
            .iter()
            .filter_map(|t| {
                let meta = m.topics.get(t)?;
                (meta.error.is_ok() && !meta.partitions.is_empty())
                    .then(|| (t.clone(), meta.partitions.len() as i32))
            })
            .collect()
    }))
}

/// Every topic in the cluster (metadata for all topics), name → flagged internal; topics
/// the brokers answer with an error (e.g. being deleted) are left out.
async fn cluster_topics(client: &Client) -> Result<BTreeMap<String, bool>> {
    client.refresh_metadata(TopicsToRefresh::All).await?;
    Ok(client.with_metadata(|m| {
        m.topics
            .values()
            .filter(|t| t.error.is_ok())
            .map(|t| (t.name.clone(), t.is_internal))
            .collect()
    }))
}

/// SyncGroup names the protocol from v5 (KIP-559).
fn sync_at_version(mut request: SyncGroupRequest, version: i16) -> SyncGroupRequest {
    if version < 5 {
        request.protocol_type = None;
        request.protocol_name = None;
    }
    request
}

/// LeaveGroup names the member at the top level up to v2 and in `members` from v3 (KIP-345).
fn leave_at_version(mut request: LeaveGroupRequest, version: i16) -> LeaveGroupRequest {
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
