//! A stream task: one partition of one sub-topology, processed one record at a time.
//!
//! No I/O and no clock: the stream thread hands it consumed records and the time, asks it to
//! process, drains what its sinks and changelogs want sent, and asks for the offsets to
//! commit. Lifecycle (as Kafka's `Task.State`):
//!
//! ```text
//! Created --restore--> Restoring --(changelogs caught up)--> Running --close--> Closed
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::TopicPartition;
use tracing::warn;

use super::handlers::{dead_letter, ErrorHandling};
use super::partition_group::{PartitionGroup, Readiness, StampedRecord};
use super::restore::WrittenPositions;
use crate::error::StreamsError;
use crate::processor::task_context::TaskContext;
use crate::processor::{OutgoingRecord, PartitionCounts};
use crate::record::RecordMetadata;
use crate::state::backend::SharedBackend;
use crate::state::{ChangelogBuffer, ChangelogRecord, StoreSlot};
use crate::timestamp::TimestampExtractor;
use crate::topology::{Subtopology, Topology};
use crate::TaskId;

use crate::topology::build::TaskNodes;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Nodes created, stores empty.
    Created,
    /// Stores being rebuilt from their changelogs.
    Restoring,
    /// Processing.
    Running,
    /// Closed; its nodes were closed.
    Closed,
}

/// Settings a task runs with.
#[derive(Clone)]
pub(crate) struct TaskSettings {
    pub application_id: Arc<str>,
    pub max_task_idle_ms: i64,
    pub default_extractor: Arc<dyn TimestampExtractor>,
    pub deserialization: ErrorHandling,
    pub processing: ErrorHandling,
    pub dead_letter_topic: Option<String>,
    pub partition_counts: PartitionCounts,
    /// Global stores by name (read-only handles for stream tasks, writable for the global
    /// task).
    pub global_stores: BTreeMap<String, crate::state::SharedStore>,
    /// The thread's record cache budget (`statestore.cache.max.bytes` / threads).
    pub cache_budget: Option<Arc<crate::state::ThreadCacheBudget>>,
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`.
    pub outer_join_emit_interval_ms: i64,
}

/// A task's hold on its state: the locked directory under `state.dir` and the redb backend
/// its persistent stores share.
#[derive(Debug)]
pub(crate) struct TaskStateDir {
    /// Held for its lock: released when the task goes.
    #[allow(dead_code)]
    pub dir: crate::state::TaskDirectory,
    pub backend: SharedBackend,
}

/// What one call to [`StreamTask::process`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Processed {
    /// A record went through the topology (or was dropped by a handler).
    Record,
    /// Nothing to do now; retry at this wall-clock time (ms) if waiting for idle partitions.
    Idle(Option<i64>),
}

/// One active task.
pub(crate) struct StreamTask {
    pub id: TaskId,
    pub state: TaskState,
    nodes: TaskNodes,
    ctx: TaskContext,
    group: PartitionGroup,
    settings: TaskSettings,
    extractors: BTreeMap<String, Arc<dyn TimestampExtractor>>,
    /// Stores whose changelog is a source topic (physical name): restored up to the group's
    /// committed offset, their position being what the task consumed.
    source_changelogs: BTreeMap<String, String>,
    /// Where restoring a source-topic changelog stops (the group's committed offset).
    restore_limits: BTreeMap<TopicPartition, i64>,
    /// Positions of in-memory stores handed over by a standby.
    known_positions: BTreeMap<TopicPartition, i64>,
    /// The task's directory and persistent backend, when it has persistent stores.
    state_dir: Option<TaskStateDir>,
    /// When its stores were last committed durably (fsync).
    last_durable: std::time::Instant,
    /// Next offset to commit per input partition, by queue index of `group` (-1: nothing
    /// consumed yet).
    consumed: Vec<i64>,
    /// The source node reading each queue of `group`, by queue index.
    queue_sources: Vec<Option<usize>>,
    /// Offsets consumed since the last commit.
    commit_needed: bool,
    /// Records dropped by handlers or invalid timestamps.
    pub dropped_records: u64,
    /// Records processed since created.
    pub processed_records: u64,
    /// End-to-end latency (wall clock minus record timestamp, ms) of the records processed
    /// since the thread last read it: (count, sum, max).
    pub e2e_latency: (u64, i64, i64),
}

impl std::fmt::Debug for StreamTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTask")
            .field("id", &self.id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl StreamTask {
    /// Create task `id` of `subtopology` reading `partitions` (physical topic names).
    pub fn new(
        id: TaskId,
        topology: &Topology,
        subtopology: &Subtopology,
        partitions: Vec<TopicPartition>,
        settings: TaskSettings,
        state_dir: Option<TaskStateDir>,
        from_standby: Option<(BTreeMap<String, StoreSlot>, BTreeMap<TopicPartition, i64>)>,
    ) -> Result<StreamTask, StreamsError> {
        let app = settings.application_id.to_string();
        let mut logical = BTreeMap::new();
        let mut pattern_topics = Vec::new();
        for tp in &partitions {
            let name = subtopology
                .source_topics
                .iter()
                .find(|t| topology.physical_topic(&app, t) == tp.topic)
                .cloned()
                .unwrap_or_else(|| {
                    pattern_topics.push(tp.topic.clone());
                    tp.topic.clone()
                });
            logical.insert(tp.topic.clone(), name);
        }
        let nodes = topology.instantiate(subtopology, &pattern_topics)?;
        let mut ctx = TaskContext::new(
            settings.application_id.clone(),
            id,
            settings.partition_counts.clone(),
        );
        ctx.internal_topics = topology.internal_topics().into();
        ctx.outer_join_emit_interval_ms = settings.outer_join_emit_interval_ms;
        let (known_positions, from_standby) = match from_standby {
            Some((stores, positions)) => (positions, Some(stores)),
            None => (BTreeMap::new(), None),
        };
        ctx.stores = topology
            .create_stores(
                subtopology,
                state_dir.as_ref().map(|s| &s.backend),
                settings.cache_budget.as_ref(),
            )
            .map_err(StreamsError::from)?;
        // A standby's stores replace the fresh ones (their caches are the fresh ones').
        for (name, mut slot) in from_standby.into_iter().flatten() {
            if let Some(fresh) = ctx.stores.get_mut(&name) {
                slot.cache = fresh.cache.take();
                *fresh = slot;
            }
        }
        for (name, shared) in &settings.global_stores {
            ctx.stores.insert(
                name.clone(),
                crate::state::StoreSlot::new(
                    crate::state::StateStore::KeyValue(Box::new(shared.clone())),
                    false,
                ),
            );
            ctx.global_stores.push(name.clone());
        }
        ctx.node_stores = topology.node_stores(subtopology);
        ctx.changelog_topics = subtopology
            .stores
            .iter()
            .filter_map(|s| topology.changelog_topic(&app, s).map(|t| (s.clone(), t)))
            .collect();
        let source_changelogs = subtopology
            .stores
            .iter()
            .filter_map(|s| {
                topology
                    .source_changelog(s)
                    .map(|t| (s.clone(), topology.physical_topic(&app, t)))
            })
            .collect();
        let extractors = logical
            .iter()
            .filter_map(|(physical, name)| {
                topology
                    .source_options(name)
                    .0
                    .map(|e| (physical.clone(), e))
            })
            .collect();
        let group = PartitionGroup::new(partitions, settings.max_task_idle_ms);
        let queue_sources: Vec<Option<usize>> = group
            .partitions()
            .map(|tp| {
                let name = logical.get(&tp.topic).unwrap_or(&tp.topic);
                nodes.sources.get(name).copied()
            })
            .collect();
        Ok(StreamTask {
            id,
            state: TaskState::Created,
            nodes,
            ctx,
            consumed: vec![-1; queue_sources.len()],
            queue_sources,
            group,
            settings,
            extractors,
            source_changelogs,
            restore_limits: BTreeMap::new(),
            known_positions,
            state_dir,
            last_durable: std::time::Instant::now(),
            commit_needed: false,
            dropped_records: 0,
            processed_records: 0,
            e2e_latency: (0, 0, 0),
        })
    }

    /// The task's input partitions.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.group.partitions().cloned().collect()
    }

    /// The changelog partition of each logged store (the task's partition of its topic), and
    /// of each store whose changelog is a source topic.
    pub fn changelog_partitions(&self) -> BTreeMap<String, TopicPartition> {
        self.ctx
            .changelog_topics
            .iter()
            .chain(self.source_changelogs.iter())
            .map(|(store, topic)| {
                (
                    store.clone(),
                    TopicPartition::new(topic.clone(), self.id.partition),
                )
            })
            .collect()
    }

    /// The task's slot of `store` (also the test driver's direct store access).
    pub(crate) fn slot(
        &mut self,
        store: &str,
    ) -> Result<&mut crate::state::StoreSlot, StreamsError> {
        let id = self.id;
        self.ctx
            .stores
            .get_mut(store)
            .ok_or_else(|| StreamsError::Store {
                store: store.to_owned(),
                detail: format!("task {id} has no such store"),
            })
    }

    /// Apply changelog records to `store` while restoring.
    pub fn restore(
        &mut self,
        store: &str,
        records: &[ChangelogRecord],
    ) -> Result<(), StreamsError> {
        self.state = TaskState::Restoring;
        let slot = self.slot(store)?;
        slot.ops.restored += records.len() as u64;
        slot.store
            .restore_batch(records)
            .map_err(StreamsError::from)
    }

    /// Where restoring `store` from `changelog` resumes: the position committed with its
    /// data, for a persistent store; for an in-memory one the position a standby handed over,
    /// else `None` (the beginning).
    pub fn changelog_position(&self, store: &str, changelog: &TopicPartition) -> Option<i64> {
        let persistent = self
            .ctx
            .stores
            .get(store)
            .is_some_and(|s| s.store.persistent());
        if !persistent {
            // In memory: known only when a standby handed the store over.
            return self.known_positions.get(changelog).copied();
        }
        let backend = &self.state_dir.as_ref()?.backend;
        backend.lock().committed_offsets().get(changelog).copied()
    }

    /// The source-topic changelog partitions, whose restoration stops at the group's
    /// committed offset.
    pub fn source_changelog_partitions(&self) -> Vec<TopicPartition> {
        self.source_changelogs
            .values()
            .map(|t| TopicPartition::new(t.clone(), self.id.partition))
            .collect()
    }

    /// Set where restoring source-topic changelogs stops (committed offsets; a partition
    /// without one restores nothing: its records are processed instead).
    pub fn set_restore_limits(&mut self, limits: BTreeMap<TopicPartition, i64>) {
        self.restore_limits = limits;
    }

    /// Where restoring `changelog` must stop, when not at its end.
    pub fn restore_limit(&self, changelog: &TopicPartition) -> Option<i64> {
        let source = self
            .source_changelogs
            .values()
            .any(|t| *t == changelog.topic);
        source.then(|| self.restore_limits.get(changelog).copied().unwrap_or(0))
    }

    /// Delete `store`'s content (before restoring it from the beginning).
    pub fn wipe_store(&mut self, store: &str) -> Result<(), StreamsError> {
        self.slot(store)?.store.wipe().map_err(StreamsError::from)
    }

    /// Restoration applied `changelog` up to `next_offset`: commit that with the data (to
    /// disk when `durable`).
    pub fn restored_to(
        &mut self,
        changelog: &TopicPartition,
        next_offset: i64,
        durable: bool,
    ) -> Result<(), StreamsError> {
        if let Some(state) = &self.state_dir {
            state
                .backend
                .lock()
                .commit(&BTreeMap::from([(changelog.clone(), next_offset)]), durable)
                .map_err(StreamsError::from)?;
        }
        Ok(())
    }

    /// Commit the persistent stores' writes since the last commit, with the changelog
    /// positions they reach (`written`: the thread's producer's positions per changelog
    /// partition; this task takes its own), durably.
    ///
    /// The redb commit is durable (fsync) when the last durable one is `durable_every` old or
    /// older, else it is only atomic: a crash then returns the stores to the last durable
    /// commit *with its changelog positions*, and restoration replays the rest from the
    /// changelog — never a wrong state, only a longer restore.
    pub fn commit_state(
        &mut self,
        written: &WrittenPositions,
        durable_every: std::time::Duration,
    ) -> Result<(), StreamsError> {
        let durable = self.last_durable.elapsed() >= durable_every;
        if durable {
            self.last_durable = std::time::Instant::now();
        }
        let Some(state) = &self.state_dir else {
            return Ok(());
        };
        let mut mine: BTreeMap<TopicPartition, i64> = self
            .changelog_partitions()
            .into_values()
            .filter_map(|tp| written.get(&tp).map(|o| (tp, *o)))
            .collect();
        // A source topic doubling as a changelog: the store covers what the task consumed.
        for tp in self.source_changelog_partitions() {
            if let Some(o) = self.consumed_of(&tp) {
                mine.insert(tp, o);
            }
        }
        state
            .backend
            .lock()
            .commit(&mine, durable)
            .map_err(StreamsError::from)
    }

    /// Drop the persistent stores' writes since the last commit (a task closed uncleanly).
    pub fn abort_state(&mut self) -> Result<(), StreamsError> {
        if let Some(state) = &self.state_dir {
            state.backend.lock().abort().map_err(StreamsError::from)?;
        }
        Ok(())
    }

    /// Initialize the processors (after restoration) at wall-clock `now` (ms).
    pub fn initialize(&mut self, now: i64) -> Result<(), StreamsError> {
        self.ctx.wall_clock = now;
        for node in self.nodes.nodes.values() {
            node.borrow_mut().init(&mut self.ctx)?;
        }
        self.state = TaskState::Running;
        Ok(())
    }

    /// Queue consumed records of `tp`, extracting their timestamps. A negative timestamp
    /// drops the record (counted); an extractor's error fails the task.
    pub fn add_records(
        &mut self,
        tp: &TopicPartition,
        records: Vec<ConsumerRecord>,
    ) -> Result<(), StreamsError> {
        let extractor = self
            .extractors
            .get(&tp.topic)
            .unwrap_or(&self.settings.default_extractor)
            .clone();
        for record in records {
            let partition_time = self.group.partition_time(tp);
            let timestamp = extractor.extract(&record, partition_time).map_err(|e| {
                StreamsError::Processing {
                    task: self.id,
                    processor: "timestamp extractor".into(),
                    at: format!(
                        " at {}-{}@{}",
                        record.topic, record.partition, record.offset
                    ),
                    source: e,
                }
            })?;
            if timestamp < 0 {
                warn!(task = %self.id, topic = %record.topic, partition = record.partition, offset = record.offset, timestamp,
                    "skipping a record with an invalid timestamp");
                self.dropped_records += 1;
                if let Some(c) = self
                    .group
                    .index_of(tp)
                    .and_then(|i| self.consumed.get_mut(i))
                {
                    *c = record.offset + 1;
                }
                self.commit_needed = true;
                continue;
            }
            self.group.add(tp, StampedRecord { record, timestamp });
        }
        Ok(())
    }

    /// What the consumer's last fetch says of `tp`: records on the broker not returned yet
    /// (`None`: not fetched yet). An empty partition with records still to fetch holds the
    /// task (see [`PartitionGroup`]'s readiness).
    pub fn set_fetched_lag(&mut self, tp: &TopicPartition, lag: Option<i64>) {
        self.group.set_fetched_lag(tp, lag);
    }

    /// Records queued in `tp` (for back-pressure).
    pub fn buffered(&self, tp: &TopicPartition) -> usize {
        self.group.buffered(tp)
    }

    /// Records queued in all the task's partitions.
    pub fn total_buffered(&self) -> usize {
        self.group.total_buffered()
    }

    /// Process the next record, if the task may at wall-clock `now` (ms). Stream-time
    /// punctuators that became due fire when the thread calls
    /// [`StreamTask::punctuate_stream_time`], between batches of records (as in Kafka Streams).
    pub fn process(&mut self, now: i64) -> Result<Processed, StreamsError> {
        self.ctx.wall_clock = now;
        match self.group.readiness(now) {
            Readiness::Empty => return Ok(Processed::Idle(None)),
            Readiness::WaitUntil(t) => return Ok(Processed::Idle(Some(t))),
            Readiness::WaitForFetch => return Ok(Processed::Idle(None)),
            Readiness::Ready => {}
        }
        let Some((queue, stamped)) = self.group.next() else {
            return Ok(Processed::Idle(None));
        };
        let StampedRecord { record, timestamp } = stamped;
        let e2e = now.saturating_sub(timestamp).max(0);
        self.e2e_latency = (
            self.e2e_latency.0 + 1,
            self.e2e_latency.1 + e2e,
            self.e2e_latency.2.max(e2e),
        );
        self.ctx.stream_time = self.group.stream_time();
        self.ctx.timestamp = timestamp;
        self.ctx.metadata = Some(RecordMetadata {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
        });
        let result = match self
            .queue_sources
            .get(queue)
            .copied()
            .flatten()
            .and_then(|i| self.nodes.source_nodes.get_mut(&i))
        {
            Some(source) => source.process_raw(&mut self.ctx, &record, timestamp),
            None => Err(StreamsError::IllegalState(format!(
                "task {}: no source reads topic {}",
                self.id, record.topic
            ))),
        };
        let result = result.and_then(|()| self.deliver_flushes());
        self.ctx.metadata = None;
        self.dropped_records += std::mem::take(&mut self.ctx.dropped_records);
        self.count_expired_writes();
        if let Err(e) = result {
            self.handle_failure(&record, e)?;
        }
        self.processed_records += 1;
        if let Some(c) = self.consumed.get_mut(queue) {
            *c = record.offset + 1;
        }
        self.commit_needed = true;
        Ok(Processed::Record)
    }

    fn handle_failure(
        &mut self,
        record: &ConsumerRecord,
        e: StreamsError,
    ) -> Result<(), StreamsError> {
        let (handling, kind) = match &e {
            StreamsError::Serde { .. } => (self.settings.deserialization, "SerdeError"),
            StreamsError::Processing { .. } | StreamsError::Store { .. } => {
                (self.settings.processing, "ProcessingError")
            }
            _ => return Err(e),
        };
        if let Some(dlq) = &self.settings.dead_letter_topic {
            self.ctx
                .outgoing
                .push(dead_letter(dlq, record, kind, &e.to_string()));
        }
        match handling {
            ErrorHandling::LogAndFail => Err(e),
            ErrorHandling::LogAndContinue => {
                warn!(task = %self.id, error = %e, "record skipped by the exception handler");
                self.dropped_records += 1;
                Ok(())
            }
        }
    }

    /// Fire stream-time punctuators due at the task's stream time.
    pub fn punctuate_stream_time(&mut self) -> Result<usize, StreamsError> {
        let time = self.ctx.stream_time;
        if time < 0 {
            return Ok(0);
        }
        let due = self.ctx.stream_punctuation.due(time);
        self.fire(due, true)
    }

    /// Fire wall-clock punctuators due at `now` (ms).
    pub fn punctuate_wall_clock(&mut self, now: i64) -> Result<usize, StreamsError> {
        self.ctx.wall_clock = now;
        let due = self.ctx.wall_punctuation.due(now);
        self.fire(due, false)
    }

    fn fire(
        &mut self,
        due: Vec<crate::processor::punctuation::Due>,
        stream: bool,
    ) -> Result<usize, StreamsError> {
        let mut fired = 0;
        for d in due {
            let queue = if stream {
                &self.ctx.stream_punctuation
            } else {
                &self.ctx.wall_punctuation
            };
            if queue.is_cancelled(d.node, d.id) {
                continue;
            }
            if let Some(node) = self.nodes.nodes.get(&d.node) {
                node.borrow_mut().punctuate(&mut self.ctx, d.id, d.time)?;
                fired += 1;
            }
        }
        self.deliver_flushes()?;
        Ok(fired)
    }

    /// Hand flushed cache writes to the processors that forward them, until none are left
    /// (forwarding may write and evict further).
    fn deliver_flushes(&mut self) -> Result<(), StreamsError> {
        loop {
            let pending: Vec<(String, Vec<crate::state::FlushedChange>)> = self
                .ctx
                .stores
                .iter_mut()
                .filter(|(_, s)| !s.flushed.is_empty())
                .map(|(n, s)| (n.clone(), std::mem::take(&mut s.flushed)))
                .collect();
            if pending.is_empty() {
                return Ok(());
            }
            for (store, changes) in pending {
                for node in self.nodes.nodes.values() {
                    node.borrow_mut()
                        .cache_flushed(&mut self.ctx, &store, &changes)?;
                }
            }
        }
    }

    /// How many records the sinks and the changelogs have waiting for
    /// [`take_outgoing`](Self::take_outgoing).
    pub fn outgoing_len(&self) -> usize {
        self.ctx.outgoing.len()
            + self
                .ctx
                .stores
                .values()
                .filter_map(|s| s.changelog.as_ref())
                .map(ChangelogBuffer::len)
                .sum::<usize>()
    }

    /// Records the sinks and the changelogs want sent, in order (changelog writes of a record
    /// follow its sink output).
    pub fn take_outgoing(&mut self) -> Vec<OutgoingRecord> {
        self.ctx.drain_outgoing()
    }

    /// Let the sinks hand records to `spill` while they process (`None`: keep them for
    /// [`take_outgoing`](Self::take_outgoing)).
    pub fn set_spill(&mut self, spill: Option<crate::processor::task_context::Spill>) {
        self.ctx.spill = spill;
    }

    /// Whether records were consumed since the last commit, or a processor asked for one.
    pub fn commit_needed(&self) -> bool {
        self.commit_needed || self.ctx.commit_requested
    }

    /// Whether a processor asked for a commit.
    pub fn commit_requested(&self) -> bool {
        self.ctx.commit_requested
    }

    /// The offsets to commit: the next offset of each partition the task processed from.
    pub fn offsets_to_commit(&self) -> BTreeMap<TopicPartition, i64> {
        self.group
            .partitions()
            .zip(&self.consumed)
            .filter(|(_, o)| **o >= 0)
            .map(|(tp, o)| (tp.clone(), *o))
            .collect()
    }

    /// The next offset to commit of input partition `tp`, if the task consumed from it.
    fn consumed_of(&self, tp: &TopicPartition) -> Option<i64> {
        let o = *self.consumed.get(self.group.index_of(tp)?)?;
        (o >= 0).then_some(o)
    }

    /// The offsets were committed.
    pub fn committed(&mut self) {
        self.commit_needed = false;
        self.ctx.commit_requested = false;
    }

    /// Store operations since the last call, by store name.
    pub fn take_store_ops(&mut self) -> Vec<(String, crate::state::StoreOps)> {
        self.ctx
            .stores
            .iter_mut()
            .map(|(name, slot)| (name.clone(), std::mem::take(&mut slot.ops)))
            .collect()
    }

    /// Write the record caches' dirty entries to their stores and changelogs (first step of a
    /// commit; the changelog records then go out with `take_outgoing`).
    /// Delivering a flush may write into a downstream node's cache (a cached table joined or
    /// mapped into another cached table): caches are flushed again until all are clean, as
    /// Kafka's flush in topological order leaves them, at most once per store.
    pub fn flush_caches(&mut self) -> Result<(), StreamsError> {
        for _ in 0..=self.ctx.stores.len() {
            let mut flushed = false;
            for slot in self.ctx.stores.values_mut() {
                slot.flush_cache().map_err(StreamsError::from)?;
                flushed |= !slot.flushed.is_empty();
            }
            if !flushed {
                break;
            }
            self.deliver_flushes()?;
        }
        Ok(())
    }

    /// Records dropped so far, with the cache flushes stores dropped as expired that the next
    /// processed record will count (a commit's flush happens between processing rounds).
    pub fn dropped_records_total(&self) -> u64 {
        self.dropped_records
            + self
                .ctx
                .stores
                .values()
                .map(|s| s.expired_writes)
                .sum::<u64>()
    }

    /// Count the cache flushes window and session stores dropped as expired in
    /// `dropped-records`, as Kafka's stores do (after each record, so that the thread's
    /// per-round metric sees them).
    fn count_expired_writes(&mut self) {
        for slot in self.ctx.stores.values_mut() {
            self.dropped_records += std::mem::take(&mut slot.expired_writes);
        }
    }

    /// Flush the stores (durability for persistent ones).
    pub fn flush_stores(&mut self) -> Result<(), StreamsError> {
        for slot in self.ctx.stores.values_mut() {
            slot.store.flush().map_err(StreamsError::from)?;
        }
        Ok(())
    }

    /// Close the processors and drop queued records.
    pub fn close(&mut self) {
        if self.state == TaskState::Running {
            for node in self.nodes.nodes.values() {
                node.borrow_mut().close(&mut self.ctx);
            }
        }
        self.group.clear();
        self.state = TaskState::Closed;
    }

    /// The task's stream time.
    #[allow(dead_code)] // for the metrics and the thread's idle decisions
    pub fn stream_time(&self) -> i64 {
        self.group.stream_time()
    }
}

#[cfg(test)]
impl StreamTask {
    pub(crate) fn settings_for_test(&mut self, handling: ErrorHandling, dlq: Option<String>) {
        self.settings.deserialization = handling;
        self.settings.processing = handling;
        self.settings.dead_letter_topic = dlq;
    }
}
