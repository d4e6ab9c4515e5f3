//! Subscribing through a consumer group: the consumer side of rebalances (revoke, assign,
//! lose), committed offsets as starting positions, auto commit, and rebalance events.
//!
//! Rebalance events reach the application two ways: as [`ConsumerEvent`] items of
//! [`Consumer::events`], in order with the records (no record of a partition follows its
//! `Revoked`/`Lost` event), and as async hooks of a [`RebalanceListener`]. The consumer only
//! moves on to rejoin when the application asks for the next item, so it can commit or flush
//! its state for a partition before losing it: inside `on_partitions_revoked` the positions of
//! the partitions being revoked are readable ([`Committer::position`]) and committable
//! ([`Committer::commit_positions`]), as Kafka Streams does in Java's
//! `onPartitionsRevoked`; after a `Revoked` event, [`Consumer::position`] still answers for
//! its partitions until the next item is asked for.
//!
//! Under the cooperative protocol (`cooperative-sticky`) a rejoin does not stop consumption:
//! as Java's `KafkaConsumer.poll`, the consumer starts the JoinGroup/SyncGroup in a task of
//! its own and keeps returning the records of the partitions it owns while the coordinator
//! holds the join (until every member rejoined); when the join completes it revokes only the
//! partitions that moved and adds the new ones. Under the eager protocol it revokes
//! everything, then joins.
//!
//! Besides [`Consumer::subscribe`], a consumer can subscribe to a regex
//! ([`Consumer::subscribe_pattern`]) and force a rebalance ([`Consumer::enforce_rebalance`]).
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use kafka_wire::consumer::{Consumer, ConsumerConfig, ConsumerEvent};
//!
//! # async fn run() -> kafka_wire::Result<()> {
//! let mut config = ConsumerConfig::new("127.0.0.1:9092");
//! config.set("group.id", "my-group")?;
//! let mut consumer = Consumer::connect(config).await?;
//! consumer.subscribe(["orders"])?;
//! let mut events = consumer.events();
//! while let Some(event) = events.next().await {
//!     match event? {
//!         ConsumerEvent::Record(r) => println!("{}-{}@{}", r.topic, r.partition, r.offset),
//!         ConsumerEvent::Assigned(tps) => println!("assigned {tps:?}"),
//!         ConsumerEvent::Revoked(tps) | ConsumerEvent::Lost(tps) => println!("gone {tps:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::error::{ClientError, Error, Result};
use crate::group::assignor::{
    Assignor, CooperativeStickyAssignor, RangeAssignor, RebalanceProtocol, RoundRobinAssignor,
};
use crate::group::member::{GroupMember, JoinResult, MemberConfig};
use crate::group::membership::MembershipConfig;
use crate::group::offsets::{self, ConsumerGroupMetadata};
use crate::group::pattern::TopicPattern;
use crate::TopicPartition;

use super::config::IsolationLevel;
use super::{Consumer, ConsumerRecord};

pub use super::hooks::{Committer, ConsumerEvent, RebalanceListener};

/// The consumer's group state (present once [`Consumer::subscribe`] was called).
pub(super) struct GroupState {
    pub(super) member: Arc<GroupMember>,
    committer: Committer,
    topics: Vec<String>,
    pending: VecDeque<ConsumerEvent>,
    /// Next offset per partition of the records handed to the application, with the last
    /// record's leader epoch (keyed by the records' shared topic name: no allocation per
    /// record).
    pub(super) delivered: HashMap<(Arc<str>, i32), (i64, Option<i32>)>,
    /// What was last committed, to skip commits that change nothing.
    pub(super) committed: BTreeMap<TopicPartition, i64>,
    /// `auto.commit.interval.ms` when `enable.auto.commit` (the member says when it is due).
    auto_commit: Option<Duration>,
    listener: Option<Arc<dyn RebalanceListener>>,
    /// Eager protocol: partitions were revoked and the member may join now.
    ready_to_join: bool,
    /// Positions of partitions revoked whose `Revoked` event has not been handed out, or was
    /// the last item handed out ([`Consumer::position`] answers for them until the next).
    revoked_positions: BTreeMap<TopicPartition, i64>,
    /// A `Revoked` event was the last item handed out: forget `revoked_positions` at the next.
    revoked_handed_out: bool,
    /// Cooperative protocol: the join under way while the consumer keeps delivering the
    /// records of the partitions it owns. Kept here, not in a poll future, so that dropping a
    /// poll mid-way loses nothing.
    join: Option<PendingJoin>,
    /// A completed join being applied; kept until it was applied in full, so that a poll
    /// dropped mid-way (or an error while starting the added partitions) resumes it at the
    /// next poll instead of losing it. Applying is a difference with the partitions held
    /// then, so what was done already is not done twice.
    applying: Option<JoinResult>,
}

/// A join running in a task of its own ([`GroupMember::joined`]).
struct PendingJoin {
    task: tokio::task::JoinHandle<Result<Option<JoinResult>>>,
    /// Notified (with a stored permit) when the task finished.
    done: Arc<Notify>,
}

impl Drop for GroupState {
    fn drop(&mut self) {
        // The task holds the member: stop it so the member (and its heartbeats) go too.
        if let Some(join) = &self.join {
            join.task.abort();
        }
    }
}

/// The position of `tp` if it was just revoked by a rebalance (its `Revoked` event is pending
/// or was the last item handed out).
pub(super) fn revoked_position(group: Option<&GroupState>, tp: &TopicPartition) -> Option<i64> {
    group?.revoked_positions.get(tp).copied()
}

impl std::fmt::Debug for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupState")
            .field("topics", &self.topics)
            .field("identity", &self.member.identity())
            .finish_non_exhaustive()
    }
}

fn builtin_assignor(name: &str) -> Option<Arc<dyn Assignor>> {
    Some(match name {
        "range" => Arc::new(RangeAssignor),
        "roundrobin" => Arc::new(RoundRobinAssignor),
        "cooperative-sticky" => Arc::new(CooperativeStickyAssignor),
        _ => return None,
    })
}

impl Consumer {
    /// Join `group.id` and consume `topics`, with partitions assigned by the group
    /// (`partition.assignment.strategy`). Replaces any manual assignment.
    pub fn subscribe<I, S>(&mut self, topics: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let assignors = self.configured_assignors()?;
        self.subscribe_with(topics, assignors)
    }

    /// [`Consumer::subscribe`] with your own assignors (in order of preference), e.g. a
    /// stream-processing runtime's task assignor.
    pub fn subscribe_with<I, S>(
        &mut self,
        topics: I,
        assignors: Vec<Arc<dyn Assignor>>,
    ) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let topics: Vec<String> = topics
            .into_iter()
            .map(Into::into)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if topics.is_empty() {
            return Err(Error::InvalidArgument(
                "subscribe needs at least one topic".into(),
            ));
        }
        if let Some(state) = &mut self.group {
            state.topics = topics.clone();
            state.member.subscribe_topics(topics);
            state.member.request_rejoin();
            return Ok(());
        }
        self.start_group(topics, assignors)
    }

    /// Subscribe to every topic whose whole name matches `pattern` (Java's
    /// `subscribe(Pattern)`: the pattern is anchored, internal topics are left out; see
    /// [`TopicPattern`]), with the `partition.assignment.strategy` assignors. The cluster's
    /// topics are looked at every `metadata.max.age.ms`; topics created (or deleted) later
    /// join (or leave) the subscription with a rebalance. Replaces any subscription.
    pub fn subscribe_pattern(&mut self, pattern: &str) -> Result<()> {
        let assignors = self.configured_assignors()?;
        self.subscribe_pattern_with(pattern, assignors)
    }

    /// [`Consumer::subscribe_pattern`] with your own assignors (ignored if the consumer is
    /// subscribed already: the group member keeps its assignors).
    pub fn subscribe_pattern_with(
        &mut self,
        pattern: &str,
        assignors: Vec<Arc<dyn Assignor>>,
    ) -> Result<()> {
        let pattern =
            TopicPattern::new(pattern)?.including_internal(!self.config.exclude_internal_topics);
        if self.group.is_none() {
            self.start_group(Vec::new(), assignors)?;
        }
        let refresh = self.config.client.metadata_max_age;
        let g = self.group_mut()?;
        g.topics.clear();
        g.member.subscribe_pattern(pattern, refresh);
        Ok(())
    }

    /// Rebalance the group now (Java's `enforceRebalance`): this member rejoins at its next
    /// poll, which makes the coordinator rebalance every member, even if nothing changed
    /// (e.g. a stream-processing runtime probing whether a warm-up finished). `reason` is
    /// sent to the coordinator (JoinGroup v8+). Nothing happens during a rebalance.
    pub fn enforce_rebalance(&self, reason: &str) -> Result<()> {
        let g = self.group.as_deref().ok_or(ClientError::NotSubscribed {
            operation: "enforce_rebalance",
        })?;
        g.member.enforce_rebalance(reason);
        Ok(())
    }

    /// The assignors `partition.assignment.strategy` names.
    fn configured_assignors(&self) -> Result<Vec<Arc<dyn Assignor>>> {
        self.config
            .partition_assignment_strategy
            .iter()
            .map(|n| {
                builtin_assignor(n).ok_or_else(|| {
                    Error::InvalidArgument(format!("unknown partition.assignment.strategy {n:?}"))
                })
            })
            .collect()
    }

    /// Create the group member and state, subscribed to `topics`.
    fn start_group(
        &mut self,
        topics: Vec<String>,
        assignors: Vec<Arc<dyn Assignor>>,
    ) -> Result<()> {
        let group_id =
            self.config.group_id.clone().ok_or_else(|| {
                Error::InvalidArgument("subscribe needs group.id to be set".into())
            })?;
        let config = MemberConfig {
            membership: MembershipConfig {
                group_id,
                group_instance_id: self.config.group_instance_id.clone(),
                session_timeout: self.config.session_timeout,
                rebalance_timeout: self
                    .config
                    .rebalance_timeout
                    .unwrap_or(self.config.max_poll_interval),
                retry_backoff: self.client.config().retry_backoff,
            },
            heartbeat_interval: self.config.heartbeat_interval,
            max_poll_interval: self.config.max_poll_interval,
            client_rack: self.config.client_rack.clone(),
        };
        let member = Arc::new(GroupMember::new(self.client.clone(), config, assignors)?);
        let auto_commit = self
            .config
            .enable_auto_commit
            .then_some(self.config.auto_commit_interval);
        member.set_auto_commit(auto_commit);
        self.assign(Vec::new());
        self.group = Some(Box::new(GroupState {
            committer: Committer {
                member: member.clone(),
                positions: Arc::default(),
            },
            member,
            topics,
            pending: VecDeque::new(),
            delivered: HashMap::new(),
            committed: BTreeMap::new(),
            auto_commit,
            listener: None,
            ready_to_join: false,
            revoked_positions: BTreeMap::new(),
            revoked_handed_out: false,
            join: None,
            applying: None,
        }));
        Ok(())
    }

    /// Call `listener`'s hooks on every rebalance.
    pub fn set_rebalance_listener(&mut self, listener: Arc<dyn RebalanceListener>) -> Result<()> {
        self.group_mut()?.listener = Some(listener);
        Ok(())
    }

    /// A handle to commit offsets while the consumer is borrowed (e.g. by [`Consumer::events`]).
    pub fn committer(&self) -> Result<Committer> {
        Ok(self.group_ref()?.committer.clone())
    }

    /// The group and this member's generation, for committing offsets in a transaction
    /// (KIP-447; pass it to `Producer::send_offsets_to_transaction`), if subscribed.
    pub fn group_metadata(&self) -> Option<ConsumerGroupMetadata> {
        let g = self.group.as_deref()?;
        Some(ConsumerGroupMetadata {
            group_id: g.member.coordinator().key().to_owned(),
            member: g.member.identity(),
        })
    }

    pub(super) fn group_ref(&self) -> Result<&GroupState> {
        self.group.as_deref().ok_or_else(|| {
            Error::InvalidArgument("the consumer is not subscribed to a group".into())
        })
    }

    pub(super) fn group_mut(&mut self) -> Result<&mut GroupState> {
        self.group.as_deref_mut().ok_or_else(|| {
            Error::InvalidArgument("the consumer is not subscribed to a group".into())
        })
    }

    /// The next record or rebalance event (joining the group first if needed).
    pub async fn next_event(&mut self) -> Result<ConsumerEvent> {
        loop {
            if let Some(e) = self.try_next_event(Duration::from_secs(1)).await? {
                return Ok(e);
            }
        }
    }

    /// One step: `Some` event, or `None` after a fetch round that returned nothing (waiting at
    /// most `wait` for records).
    async fn try_next_event(&mut self, wait: Duration) -> Result<Option<ConsumerEvent>> {
        let group = self.group_mut()?;
        group.member.polled();
        // While a join runs in its task, that task takes the member's fatal error and loss
        // (they end the join) and hands them over as its outcome.
        let joining = group.join.is_some();
        if !joining {
            if let Some(e) = group.member.take_fatal() {
                return Err(e);
            }
        }
        if std::mem::take(&mut group.revoked_handed_out) {
            group.revoked_positions.clear();
        }
        if let Some(event) = group.pending.pop_front() {
            group.revoked_handed_out = matches!(event, ConsumerEvent::Revoked(_));
            return Ok(Some(event));
        }
        if let Some(joined) = group.applying.clone() {
            self.apply_join(Some(joined)).await?;
            return Ok(None);
        }
        if joining {
            if let Some(joined) = self.take_finished_join().await? {
                self.apply_join(joined).await?;
                return Ok(None);
            }
        } else {
            if group.member.take_lost() {
                self.lose_partitions().await;
                return Ok(None);
            }
            let member = &self.group_ref()?.member;
            if member.rejoin_needed() {
                if !member.consumes_while_joining() {
                    self.rebalance().await?;
                    return Ok(None);
                }
                // Cooperative: join in the background and keep consuming meanwhile.
                self.start_join()?;
            }
        }
        if group_has_commit_due(self.group.as_deref()) {
            self.auto_commit_consumed().await;
        }
        if let Some(r) = self.next_buffered() {
            self.mark_delivered(&r);
            return Ok(Some(ConsumerEvent::Record(r)));
        }
        let group = self.group_ref()?;
        match &group.join {
            // Wake early when the join completes (its task alone waits for the member's news
            // then: the member's notification wakes one waiter).
            Some(join) => {
                let done = join.done.clone();
                tokio::select! {
                    r = self.fill(wait) => r?,
                    _ = done.notified() => {}
                }
            }
            // Wake early when the heartbeat task reports a rebalance.
            None => {
                let member = group.member.clone();
                tokio::select! {
                    r = self.fill(wait) => r?,
                    _ = member.changed() => {}
                }
            }
        }
        Ok(None)
    }

    /// Start a join in a task of its own (cooperative protocol), owning the partitions
    /// assigned now. The member is rebalancing when this returns, so nothing starts a second
    /// join meanwhile.
    fn start_join(&mut self) -> Result<()> {
        let owned = self.assignment();
        let g = self.group_mut()?;
        g.member.start_join(&g.topics, &owned)?;
        let member = g.member.clone();
        let done = Arc::new(Notify::new());
        let notify = done.clone();
        let task = tokio::spawn(async move {
            let outcome = member.joined().await;
            notify.notify_one();
            outcome
        });
        g.join = Some(PendingJoin { task, done });
        Ok(())
    }

    /// The outcome of the join running in its task, if it finished (`None` if still running).
    /// The task's handle stays in the group state until its outcome was read, so a poll
    /// dropped meanwhile loses nothing.
    async fn take_finished_join(&mut self) -> Result<Option<Option<JoinResult>>> {
        let g = self.group_mut()?;
        let Some(join) = g.join.as_mut() else {
            return Ok(None);
        };
        if !join.task.is_finished() {
            return Ok(None);
        }
        let outcome = (&mut join.task).await;
        g.join = None;
        match outcome {
            Ok(result) => result.map(Some),
            Err(e) => Err(ClientError::JoinTaskFailed {
                group: g.member.coordinator().key().to_owned(),
                detail: e.to_string(),
            }
            .into()),
        }
    }

    /// Join (or rejoin) the group and apply the new assignment.
    async fn rebalance(&mut self) -> Result<()> {
        let owned = self.assignment();
        let (protocol, ready) = {
            let g = self.group_ref()?;
            (g.member.protocol(), g.ready_to_join)
        };
        if protocol == RebalanceProtocol::Eager && !owned.is_empty() && !ready {
            // Eager: give everything up before joining.
            self.revoke(owned).await;
            self.group_mut()?.ready_to_join = true;
            return Ok(());
        }
        let (member, topics) = {
            let g = self.group_mut()?;
            g.ready_to_join = false;
            (g.member.clone(), g.topics.clone())
        };
        let owned = self.assignment();
        let joined = member.join(&topics, &owned).await?;
        self.apply_join(joined).await
    }

    /// Apply a completed join: revoke the partitions that moved (with the revoke hook), start
    /// the added ones at their committed offsets, call the assigned hook and queue the
    /// `Assigned` event; `None` (the member lost its generation on the way) loses every
    /// partition.
    async fn apply_join(&mut self, joined: Option<JoinResult>) -> Result<()> {
        let Some(joined) = joined else {
            self.lose_partitions().await;
            return Ok(());
        };
        self.group_mut()?.applying = Some(joined.clone());
        let owned = self.assignment();
        let new: BTreeSet<TopicPartition> = joined.assignment.partitions.iter().cloned().collect();
        let old: BTreeSet<TopicPartition> = owned.iter().cloned().collect();
        let revoked: Vec<TopicPartition> = old.difference(&new).cloned().collect();
        let added: Vec<TopicPartition> = new.difference(&old).cloned().collect();
        if !revoked.is_empty() {
            // Cooperative: give up only what moved; the member has already asked for the
            // second rebalance that hands them over (KIP-429).
            self.revoke(revoked).await;
        }
        self.start_partitions(&added).await?;
        info!(
            generation = joined.generation,
            added = added.len(),
            owned = self.assignment().len(),
            "assignment applied"
        );
        let positions = self.positions_snapshot();
        self.call_hook(
            positions,
            |l, c, tps| l.on_partitions_assigned(c, tps),
            &added,
        )
        .await;
        let g = self.group_mut()?;
        g.applying = None;
        g.pending.push_back(ConsumerEvent::Assigned(added));
        Ok(())
    }

    /// Add partitions, positioned at their committed offsets.
    async fn start_partitions(&mut self, added: &[TopicPartition]) -> Result<()> {
        if added.is_empty() {
            return Ok(());
        }
        let require_stable = self.config.isolation_level == IsolationLevel::ReadCommitted;
        let committed = {
            let g = self.group_ref()?;
            offsets::fetch_committed(g.member.coordinator(), Some(added), require_stable).await?
        };
        for tp in added {
            let state = self.partitions.entry(tp.clone()).or_default();
            if let Some(om) = committed.get(tp) {
                state.position = Some(om.offset);
                state.last_epoch = om.leader_epoch;
                state.reset = None;
            }
        }
        if let Some(g) = self.group.as_deref_mut() {
            for (tp, om) in committed {
                g.committed.insert(tp, om.offset);
            }
        }
        Ok(())
    }

    /// Remove `partitions` cleanly: commit what was consumed (auto commit), call the hook,
    /// queue the `Revoked` event.
    async fn revoke(&mut self, partitions: Vec<TopicPartition>) {
        if self
            .group
            .as_deref()
            .is_some_and(|g| g.auto_commit.is_some())
        {
            let offsets = self.uncommitted(Some(&partitions));
            if let Err(e) = self.commit_and_remember(offsets).await {
                warn!(error = %e, "commit on revoke failed");
            }
        }
        let positions = self.positions_snapshot();
        let revoked: BTreeMap<TopicPartition, i64> = positions
            .iter()
            .filter(|(tp, _)| partitions.contains(tp))
            .map(|(tp, p)| (tp.clone(), *p))
            .collect();
        self.call_hook(
            positions,
            |l, c, tps| l.on_partitions_revoked(c, tps),
            &partitions,
        )
        .await;
        self.remove_partitions(&partitions);
        if let Some(g) = self.group.as_deref_mut() {
            g.revoked_positions.extend(revoked);
            g.pending.push_back(ConsumerEvent::Revoked(partitions));
        }
    }

    /// The position of every assigned partition that has one.
    fn positions_snapshot(&self) -> BTreeMap<TopicPartition, i64> {
        self.partitions
            .keys()
            .filter_map(|tp| Some((tp.clone(), self.position(tp)?)))
            .collect()
    }

    /// Run a listener hook (if a listener is set) with `positions` readable through the
    /// committer while it runs.
    async fn call_hook<F>(
        &mut self,
        positions: BTreeMap<TopicPartition, i64>,
        hook: F,
        partitions: &[TopicPartition],
    ) where
        F: for<'a> FnOnce(
            &'a dyn RebalanceListener,
            &'a Committer,
            &'a [TopicPartition],
        ) -> BoxFuture<'a, ()>,
    {
        let Some(g) = self.group.as_deref() else {
            return;
        };
        let Some(listener) = g.listener.clone() else {
            return;
        };
        let committer = g.committer.clone();
        committer.set_positions(positions);
        hook(listener.as_ref(), &committer, partitions).await;
        committer.set_positions(BTreeMap::new());
    }

    /// The member's generation is gone: drop every partition without committing.
    async fn lose_partitions(&mut self) {
        let lost = self.assignment();
        let positions = self.positions_snapshot();
        self.remove_partitions(&lost);
        if let Some(g) = self.group.as_deref_mut() {
            g.ready_to_join = false;
            // A generation lost supersedes an assignment still being applied.
            g.applying = None;
            g.member.request_rejoin();
        }
        if !lost.is_empty() {
            warn!(partitions = lost.len(), "partitions lost");
            self.call_hook(positions, |l, c, tps| l.on_partitions_lost(c, tps), &lost)
                .await;
            if let Some(g) = self.group.as_deref_mut() {
                g.pending.push_back(ConsumerEvent::Lost(lost));
            }
        }
    }

    fn remove_partitions(&mut self, partitions: &[TopicPartition]) {
        // Partitions that stay keep their positions.
        self.partitions.retain(|tp, _| !partitions.contains(tp));
        self.buffer.retain_partitions(|tp| !partitions.contains(tp));
        if let Some(g) = self.group.as_deref_mut() {
            g.delivered.retain(|(topic, partition), _| {
                !partitions
                    .iter()
                    .any(|tp| *tp.topic == **topic && tp.partition == *partition)
            });
            for tp in partitions {
                g.committed.remove(tp);
            }
        }
    }

    /// Records only, for [`Consumer::poll`] in group mode (events go to the listener).
    pub(super) async fn poll_group(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            // Never wait for records past the caller's timeout (a fetch long-poll may be
            // parked at the broker for `fetch.max.wait.ms`).
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            match self.try_next_event(wait).await? {
                Some(ConsumerEvent::Record(r)) => {
                    // The group's checks of this step hold for everything buffered now: the
                    // rest of the poll comes straight from the buffer, and the poll returns
                    // without waiting for more (as Java's does).
                    out.push(r);
                    let more = self.config.max_poll_records.saturating_sub(1);
                    self.drain_buffered(more, &mut out);
                    return Ok(out);
                }
                Some(_) => continue,
                None => {}
            }
            if !out.is_empty() || Instant::now() >= deadline {
                return Ok(out);
            }
        }
    }

    /// Records and rebalance events as an endless stream (group mode).
    pub fn events(&mut self) -> futures_util::stream::BoxStream<'_, Result<ConsumerEvent>> {
        use futures_util::StreamExt;
        futures_util::stream::unfold(self, |consumer| async move {
            let item = consumer.next_event().await;
            Some((item, consumer))
        })
        .boxed()
    }

    /// Leave the group cleanly: commit what was consumed (auto commit), revoke (hooks run),
    /// and send LeaveGroup so the partitions move at once (static members keep their
    /// partitions until `session.timeout.ms`).
    pub async fn close(self) -> Result<()> {
        self.close_with(false).await
    }

    /// Close and leave the group even as a static member (`group.instance.id` set): its
    /// partitions are reassigned at once instead of waiting for it until the session times
    /// out (Java's `close(CloseOptions)` with `LEAVE_GROUP`).
    pub async fn close_leaving_group(self) -> Result<()> {
        self.close_with(true).await
    }

    async fn close_with(mut self, leave: bool) -> Result<()> {
        let Some(g) = self.group.as_deref_mut() else {
            return Ok(());
        };
        // A join under way is given up: the member leaves instead.
        if let Some(join) = g.join.take() {
            join.task.abort();
        }
        g.applying = None;
        let owned = self.assignment();
        if !owned.is_empty() {
            self.revoke(owned).await;
        }
        let g = self.group_ref()?;
        g.member.leave("the consumer is being closed", leave).await
    }
}

/// Whether the member says auto commit is due (taking the signal).
fn group_has_commit_due(group: Option<&GroupState>) -> bool {
    group.is_some_and(|g| g.auto_commit.is_some() && g.member.take_commit_due())
}
