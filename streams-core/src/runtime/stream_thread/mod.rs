//! A stream thread: one consumer and one producer, the tasks of its assigned partitions, and
//! the poll → process → commit loop (Kafka Streams' `StreamThread`).
//!
//! Each stream thread is an OS thread: processing is CPU work that must not stall the tokio
//! workers that carry heartbeats and fetches for every thread, and a slow processor then delays
//! only its own thread (as in Java). The thread reaches the clients through a tokio runtime
//! handle (`block_on` for each poll, send batch and commit); the clients' background tasks run
//! on the runtime's workers. Measured (`examples/thread_model.rs`, 2 cores, two threads each
//! processing in 50 ms CPU bursts, a 10 ms timer on the runtime standing for a heartbeat):
//! as tokio tasks the timer woke 60 times in 3 s, 41 ms late on average (90 ms at worst); as
//! OS threads 234 times, 3 ms late on average (27 ms at worst).
//!
//! At-least-once: offsets are committed only after the producer acknowledged every record the
//! processed input led to (sink output and changelog writes). Offsets of partitions being
//! revoked are committed in the revoke hook, after a producer flush, before the partitions go.
//!
//! Exactly-once (`exactly_once_v2`, `exactly_once.rs`): the producer is transactional; output,
//! changelog records and input offsets commit in one Kafka transaction, then the stores' redb
//! transactions commit (see [`crate::runtime::eos`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_wire::admin::Admin;
use kafka_wire::consumer::{Consumer, ConsumerRecords};
use kafka_wire::group::assignor::RangeAssignor;
use kafka_wire::group::Assignor;
use kafka_wire::producer::{DeliveryFuture, Producer, ProducerRecord};
use kafka_wire::TopicPartition;
use tokio::runtime::Handle;
use tracing::{debug, info, info_span, warn};

use super::config::StreamsConfig;
use super::metrics::{StreamsMetrics, TASK, THREAD};
use super::rebalance_listener::{CommitOnRevoke, RebalanceShared};
use super::restore::StateRestoreListener;
use super::task::{Processed, StreamTask};
use crate::error::StreamsError;
use crate::processor::task_context::Spill;
use crate::processor::OutgoingRecord;
use crate::state::StateDirectory;

mod commit;
mod decisions;
mod exactly_once;
mod standbys;
mod task_lifecycle;
use crate::topology::Topology;
use crate::TaskId;
use decisions::ThreadDecisions;
use task_lifecycle::PendingTask;

/// How many of the latest kept deliveries a new one is matched against for its batch (a
/// round's records go to a few partitions: the changelogs, repartition and output topics).
const RECENT_BATCHES: usize = 8;
/// The producer's records for what sinks and changelogs want sent.
fn producer_records(outgoing: Vec<OutgoingRecord>) -> Vec<ProducerRecord> {
    outgoing
        .into_iter()
        .map(|o| ProducerRecord {
            topic: o.topic,
            partition: o.partition,
            key: o.key,
            value: o.value,
            headers: o.headers,
            timestamp: Some(o.timestamp),
        })
        .collect()
}

/// Records a task may have waiting for the producer before its share of a processing round
/// ends (more only when one record writes more).
const OUTGOING_PER_ROUND: usize = 10_000;

/// The producer configuration of the thread `cx` describes (transactional under
/// exactly-once).
fn thread_producer_config(
    cx: &ThreadContext,
) -> Result<kafka_wire::producer::ProducerConfig, StreamsError> {
    let id = exactly_once::transactional_id(&cx.config.application_id, &cx.process_uuid, cx.index);
    cx.config
        .producer(&format!("{}-producer", cx.name), Some(&id))
}

/// What one task did in one processing round: records, time, records dropped, and its
/// records' end-to-end latency (count, sum, max in ms).
struct RoundOfTask(TaskId, u64, Duration, u64, (u64, i64, i64));

/// A stream thread's state (Kafka's `StreamThread.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    /// Created, not joined yet.
    Starting,
    /// A rebalance is under way.
    PartitionsRevoked,
    /// Tasks for the new assignment are being created and restored.
    PartitionsAssigned,
    /// Processing.
    Running,
    /// Shutting down.
    PendingShutdown,
    /// Stopped.
    Dead,
}

/// Told a thread's index, active tasks and standby tasks.
pub(crate) type OnTasks = Arc<dyn Fn(usize, BTreeSet<TaskId>, BTreeSet<TaskId>) + Send + Sync>;

/// Handed to the thread by the application: what to run and how to report.
pub(crate) struct ThreadContext {
    pub index: usize,
    pub name: String,
    pub topology: Topology,
    pub config: StreamsConfig,
    pub handle: Handle,
    pub admin: Admin,
    pub assignor: Option<Arc<dyn Assignor>>,
    /// Where the thread reports the tasks it owns to its assignor.
    pub assignor_handle: Option<crate::assignment::AssignorHandle>,
    pub shutdown: Arc<std::sync::atomic::AtomicBool>,
    pub on_state: Arc<dyn Fn(usize, ThreadState) + Send + Sync>,
    pub metrics: Arc<StreamsMetrics>,
    /// Read-only handles on the global stores.
    pub global_stores: BTreeMap<String, crate::state::SharedStore>,
    /// Set by the application to make this thread rejoin at once (to carry a shutdown
    /// request to the group leader).
    pub rejoin: Arc<std::sync::atomic::AtomicBool>,
    /// Told the thread's active and standby tasks whenever they change (for
    /// `KafkaStreams::local_thread_metadata`).
    pub on_tasks: OnTasks,
    /// `state.dir/<application.id>`: where tasks with persistent stores keep them.
    pub state_directory: Option<StateDirectory>,
    /// Told about every changelog restoration.
    pub restore_listener: Option<Arc<dyn StateRestoreListener>>,
    /// The process id in Java's UUID form: part of the thread's `transactional.id` and
    /// `group.instance.id`.
    pub process_uuid: String,
}

/// The running thread.
pub(crate) struct StreamThread {
    cx: ThreadContext,
    consumer: Consumer,
    producer: Producer,
    restore: Consumer,
    shared: Arc<RebalanceShared>,
    tasks: BTreeMap<TaskId, StreamTask>,
    /// Tasks assigned here whose state directory another holder still has.
    pending: BTreeMap<TaskId, PendingTask>,
    /// Standby (and warm-up) tasks.
    standbys: BTreeMap<TaskId, super::standby::StandbyTask>,
    /// Follows the standbys' changelogs (connected at the first standby).
    standby_consumer: Option<Consumer>,
    /// Changelog offset sums of task directories found on disk at start.
    disk_offset_sums: BTreeMap<TaskId, i64>,
    /// The record caches' budget of this thread (`statestore.cache.max.bytes` / threads).
    cache_budget: Arc<crate::state::ThreadCacheBudget>,
    partition_task: BTreeMap<TopicPartition, TaskId>,
    paused: BTreeSet<TopicPartition>,
    /// Partitions moved by a source's reset policy during this poll's rebalance.
    reset_now: BTreeSet<TopicPartition>,
    /// Records sent since the last commit; each with its copy when a dead-letter topic is
    /// set (to send there if it fails).
    deliveries: Vec<(DeliveryFuture, Option<Box<OutgoingRecord>>)>,
    /// When to commit and purge, and the round size (plain state, read with `wall_ms`).
    decisions: ThreadDecisions,
    /// Time spent waiting in `poll` since the last commit (logged with the commit).
    polled_for: Duration,
    epoch: Instant,
    wall_base_ms: i64,
    /// `processing.guarantee=exactly_once_v2`.
    eos: bool,
    /// Exactly-once: a transaction is open (begun at the first send after a commit).
    txn_open: bool,
    /// An injected crash (`__crash.point__`, tests only).
    crash: crate::runtime::eos::CrashPlan,
}

fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl StreamThread {
    /// Connect the thread's clients and subscribe.
    pub fn create(cx: ThreadContext) -> Result<StreamThread, StreamsError> {
        let instance = cx.config.group_instance_id(&cx.process_uuid, cx.index);
        let consumer_cfg = cx
            .config
            .main_consumer(&format!("{}-consumer", cx.name), instance.as_deref())?;
        let producer_cfg = thread_producer_config(&cx)?;
        let restore_cfg = cx
            .config
            .restore_consumer(&format!("{}-restore-consumer", cx.name))?;
        let eos = cx.config.is_exactly_once();
        let (mut consumer, producer, restore) = cx.handle.block_on(async {
            // The producer first: under exactly-once its init_transactions aborts what a
            // crashed predecessor with the same transactional.id left open, before this
            // thread reads anything.
            let p = if eos {
                exactly_once::connect_transactional(producer_cfg).await?
            } else {
                Producer::connect(producer_cfg).await?
            };
            let c = Consumer::connect(consumer_cfg).await?;
            let r = Consumer::connect(restore_cfg).await?;
            Ok::<_, kafka_wire::Error>((c, p, r))
        })?;
        info!(thread = %cx.name, group_instance_id = instance.as_deref().unwrap_or("-"),
              guarantee = ?cx.config.processing_guarantee, "stream thread connected");
        let shared = Arc::new(RebalanceShared::new(producer.clone(), eos));
        let app = cx.config.application_id.clone();
        let topics: Vec<String> = cx
            .topology
            .subtopologies()
            .iter()
            .flat_map(|s| {
                s.source_topics
                    .iter()
                    .map(|t| cx.topology.physical_topic(&app, t))
            })
            .collect();
        let assignor: Arc<dyn Assignor> = cx
            .assignor
            .clone()
            .unwrap_or_else(|| Arc::new(RangeAssignor));
        consumer.subscribe_with(topics, vec![assignor])?;
        consumer.set_rebalance_listener(Arc::new(CommitOnRevoke::new(shared.clone())))?;
        let now = Instant::now();
        let wall_base_ms = system_ms();
        let decisions = ThreadDecisions::new(
            wall_base_ms,
            cx.config.commit_interval,
            cx.config.repartition_purge_interval,
        );
        let cache_budget = crate::state::ThreadCacheBudget::new(
            cx.config.cache_max_bytes / cx.config.num_stream_threads.max(1),
        );
        let crash = crate::runtime::eos::CrashPlan::new(
            cx.config.crash_point,
            cx.config.crash_after_commits,
        );
        let mut thread = StreamThread {
            cx,
            consumer,
            producer,
            restore,
            shared,
            tasks: BTreeMap::new(),
            pending: BTreeMap::new(),
            standbys: BTreeMap::new(),
            standby_consumer: None,
            disk_offset_sums: BTreeMap::new(),
            cache_budget,
            partition_task: BTreeMap::new(),
            paused: BTreeSet::new(),
            reset_now: BTreeSet::new(),
            deliveries: Vec::new(),
            decisions,
            polled_for: Duration::ZERO,
            epoch: now,
            wall_base_ms,
            eos,
            txn_open: false,
            crash,
        };
        thread.read_disk_offset_sums();
        thread.report_tasks();
        Ok(thread)
    }

    /// The configuration of this thread's producer (transactional under exactly-once).
    fn producer_config(&self) -> Result<kafka_wire::producer::ProducerConfig, StreamsError> {
        thread_producer_config(&self.cx)
    }

    fn thread_tag(&self) -> Vec<(&'static str, String)> {
        vec![("thread-id", self.cx.name.clone())]
    }

    fn task_tags(&self, id: TaskId) -> Vec<(&'static str, String)> {
        vec![
            ("thread-id", self.cx.name.clone()),
            ("task-id", id.to_string()),
        ]
    }

    fn wall_ms(&self) -> i64 {
        self.wall_base_ms + i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(0)
    }

    fn set_state(&self, s: ThreadState) {
        (self.cx.on_state)(self.cx.index, s);
    }

    /// Run until shutdown is asked for or a fatal error.
    pub fn run(mut self) -> Result<(), StreamsError> {
        let result = self.run_loop();
        self.set_state(ThreadState::PendingShutdown);
        let (on_state, index) = (self.cx.on_state.clone(), self.cx.index);
        let close = self.shutdown(result.is_ok());
        on_state(index, ThreadState::Dead);
        result.and(close)
    }

    fn run_loop(&mut self) -> Result<(), StreamsError> {
        use std::sync::atomic::Ordering;
        self.set_state(ThreadState::Starting);
        while !self.cx.shutdown.load(Ordering::Relaxed) {
            match self.run_once() {
                Ok(()) => {}
                // Exactly-once: an aborted transaction or a fenced producer sends the tasks
                // back to their last commit; the thread goes on.
                Err(e) if self.eos => self.recover_transaction(e)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One poll and what follows it: rebalance changes, processing, punctuation, commits.
    fn run_once(&mut self) -> Result<(), StreamsError> {
        use std::sync::atomic::Ordering;
        {
            // What the tasks processed, for the revoke hook that may run inside this poll.
            for task in self.tasks.values() {
                self.shared.processed(task.offsets_to_commit());
            }
            // Exactly-once and caught up with uncommitted work: a short poll, and a commit
            // if it brings nothing (see `eos::commit_when_idle`).
            let idle = self.eos
                && self.tasks.values().any(|t| t.commit_needed())
                && self.tasks.values().all(|t| t.total_buffered() == 0);
            let timeout = if idle {
                self.cx.config.poll.min(crate::runtime::eos::IDLE_POLL)
            } else {
                self.cx.config.poll
            };
            let started = Instant::now();
            let records = self
                .cx
                .handle
                .block_on(self.consumer.poll_records(timeout))?;
            let polled = records.len();
            self.polled_for += started.elapsed();
            self.cx.metrics.timed(
                THREAD,
                "poll",
                self.thread_tag(),
                records.len() as u64,
                started.elapsed(),
            );
            self.apply_rebalance()?;
            if self.retry_pending()? {
                self.report_tasks();
            }
            if let Some(h) = &self.cx.assignor_handle {
                let code = h.latest_error();
                if code != crate::assignment::AssignmentErrorCode::None {
                    return Err(StreamsError::ShutdownByGroup {
                        code: format!("{code:?}"),
                    });
                }
            }
            if self.cx.rejoin.swap(false, Ordering::Relaxed) {
                self.consumer
                    .enforce_rebalance("the application's shutdown was requested")?;
            }
            self.route(records)?;
            self.update_fetched_lags();
            self.process()?;
            if idle
                && crate::runtime::eos::commit_when_idle(
                    self.tasks.values().any(|t| t.commit_needed()),
                    self.tasks.values().map(|t| t.total_buffered()).sum(),
                    polled,
                    self.decisions.since_commit(self.wall_ms()),
                    self.cx.config.commit_interval,
                )
            {
                self.commit()?;
            }
            self.poll_standbys()?;
            self.back_pressure();
        }
        Ok(())
    }

    fn apply_rebalance(&mut self) -> Result<(), StreamsError> {
        let changes = self.shared.take_changes();
        if changes.is_empty() {
            return Ok(());
        }
        let revoked = changes.revoked;
        let _span = info_span!("rebalance", thread = %self.cx.name).entered();
        self.set_state(ThreadState::PartitionsRevoked);
        if !changes.lost.is_empty() {
            self.close_lost(&changes.lost)?;
        }
        let closing: BTreeSet<TaskId> = revoked
            .iter()
            .filter_map(|tp| self.partition_task.get(tp).copied())
            .collect();
        self.drop_pending(&revoked);
        let mut clean = true;
        if !closing.is_empty() {
            // Their stores' writes are committed with the changelog positions they reach
            // before they go (a refused offset commit during the rebalance is only logged).
            match self.commit_with(true) {
                Ok(()) => {}
                // Exactly-once: a commit refused now (the partitions were lost, the group
                // moved on) aborts the transaction; the revoked tasks close dirty, the others
                // go back to their last commit.
                Err(e) if self.eos => {
                    clean = false;
                    for id in &closing {
                        if let Some(task) = self.tasks.remove(id) {
                            self.close_task(task, false);
                        }
                    }
                    self.recover_transaction(e)?;
                }
                Err(e) => return Err(e),
            }
        }
        for id in closing {
            if let Some(task) = self.tasks.remove(&id) {
                info!(task = %id, "closing task (revoked)");
                self.close_task(task, clean);
                self.cx.metrics.count(
                    THREAD,
                    "task-closed",
                    vec![("thread-id", self.cx.name.clone())],
                    1,
                );
            }
        }
        self.set_state(ThreadState::PartitionsAssigned);
        let owned: Vec<TopicPartition> = self.consumer.assignment();
        let mut by_task: BTreeMap<TaskId, Vec<TopicPartition>> = BTreeMap::new();
        let app = self.cx.config.application_id.clone();
        for tp in owned {
            if self.partition_task.contains_key(&tp) {
                continue;
            }
            let Some(sub) = self.subtopology_for(&app, &tp.topic) else {
                warn!(topic = %tp.topic, "assigned a partition no source reads; ignoring it");
                continue;
            };
            by_task
                .entry(TaskId::new(sub, tp.partition))
                .or_default()
                .push(tp);
        }
        for (id, partitions) in by_task {
            if !self.pending.contains_key(&id) {
                self.create_task(id, partitions)?;
            }
        }
        self.update_standbys()?;
        self.report_tasks();
        self.set_state(ThreadState::Running);
        Ok(())
    }

    /// Tell the assignor and the application which tasks run here, and how far this thread's
    /// state of each task is.
    fn report_tasks(&self) {
        if let Some(h) = &self.cx.assignor_handle {
            h.set_owned_tasks(
                self.tasks.keys().copied().collect(),
                self.standbys.keys().copied().collect(),
            );
            h.set_task_offset_sums(Some(self.task_offset_sums()));
        }
        (self.cx.on_tasks)(
            self.cx.index,
            self.tasks.keys().copied().collect(),
            self.standbys.keys().copied().collect(),
        );
    }

    /// Tell each task how many records of each of its partitions are on the broker and not
    /// returned yet (the last fetch's end less the consumer's position), so that an empty
    /// partition with records to come holds its task (Kafka's KIP-695).
    fn update_fetched_lags(&mut self) {
        for (tp, id) in &self.partition_task {
            if let Some(task) = self.tasks.get_mut(id) {
                let lag = self
                    .consumer
                    .high_watermark(tp)
                    .zip(self.consumer.position(tp))
                    .map(|(end, position)| (end - position).max(0));
                task.set_fetched_lag(tp, lag);
            }
        }
    }

    fn route(&mut self, records: ConsumerRecords) -> Result<(), StreamsError> {
        let reset = std::mem::take(&mut self.reset_now);
        for (tp, records) in records.into_batches() {
            if reset.contains(&tp) {
                continue;
            }
            match self
                .partition_task
                .get(&tp)
                .and_then(|id| self.tasks.get_mut(id))
            {
                Some(task) => task.add_records(&tp, records)?,
                None => {
                    // A task waiting for its state directory reads them again once created.
                    let first = records.first().map(|r| r.offset);
                    if let (Some(p), Some(first)) = (
                        self.pending
                            .values_mut()
                            .find(|p| p.partitions.contains(&tp)),
                        first,
                    ) {
                        p.rewind.entry(tp.clone()).or_insert(first);
                    }
                    debug!(partition = %tp, count = records.len(), "records for a partition without a running task dropped")
                }
            }
        }
        Ok(())
    }

    /// Process what the last poll buffered, as Kafka Streams' `StreamThread.runOnce` does:
    /// rounds of up to `iterations` records per task, each round followed by the punctuation
    /// check (stream time, then wall-clock time) and the commit check, until a round processes
    /// nothing; the round size follows [`ThreadDecisions::after_round`]. Which records a
    /// stream-time punctuator sees therefore matches Java's.
    fn process(&mut self) -> Result<(), StreamsError> {
        let ids: Vec<TaskId> = self.tasks.keys().copied().collect();
        loop {
            let now = self.wall_ms();
            let mut processed = 0usize;
            let mut per_task = Vec::new();
            for id in &ids {
                let (spill, spilled) = self.spill().unzip();
                let Some(task) = self.tasks.get_mut(id) else {
                    continue;
                };
                task.set_spill(spill);
                let started = Instant::now();
                let dropped = task.dropped_records;
                let mut n = 0u64;
                for _ in 0..self.decisions.iterations() {
                    match task.process(now)? {
                        Processed::Record => n += 1,
                        Processed::Idle(_) => break,
                    }
                    // A record that fans out (an update per window of a long hopping
                    // window, ...) ends the task's share of the round: what it wrote is
                    // handed to the producer before the next record adds more.
                    if task.outgoing_len() >= OUTGOING_PER_ROUND {
                        break;
                    }
                }
                if n > 0 {
                    per_task.push(RoundOfTask(
                        task.id,
                        n,
                        started.elapsed(),
                        task.dropped_records - dropped,
                        std::mem::take(&mut task.e2e_latency),
                    ));
                }
                processed += n as usize;
                // Task by task: a round holds one task's records at a time.
                self.hand_over(*id, spilled)?;
            }
            self.record_process_metrics(per_task);
            let punctuated = self.punctuate()?;
            let committed = self.maybe_commit()?;
            if !self.decisions.after_round(processed, punctuated, committed) {
                return Ok(());
            }
        }
    }

    /// Thread- and task-level processing metrics of one round.
    fn record_process_metrics(&self, per_task: Vec<RoundOfTask>) {
        for RoundOfTask(id, n, took, dropped, (count, sum, max)) in per_task {
            self.cx
                .metrics
                .timed(THREAD, "process", self.thread_tag(), n, took);
            self.cx
                .metrics
                .count(TASK, "process", self.task_tags(id), n);
            self.cx
                .metrics
                .count(TASK, "dropped-records", self.task_tags(id), dropped);
            let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
            self.cx.metrics.latencies(
                TASK,
                "record-e2e",
                self.task_tags(id),
                count,
                ms(sum),
                ms(max),
            );
        }
    }

    /// Fire the punctuators that are due: stream time, then wall-clock time, task by task.
    fn punctuate(&mut self) -> Result<usize, StreamsError> {
        let now = self.wall_ms();
        let mut took = Duration::ZERO;
        let mut fired = 0;
        let ids: Vec<TaskId> = self.tasks.keys().copied().collect();
        for id in &ids {
            let (spill, spilled) = self.spill().unzip();
            let Some(task) = self.tasks.get_mut(id) else {
                continue;
            };
            task.set_spill(spill);
            let started = Instant::now();
            let n = task.punctuate_stream_time()? + task.punctuate_wall_clock(now)?;
            took += started.elapsed();
            fired += n;
            self.hand_over(*id, spilled)?;
        }
        if fired > 0 {
            self.cx
                .metrics
                .timed(THREAD, "punctuate", self.thread_tag(), fired as u64, took);
        }
        Ok(fired)
    }

    /// After task `id` processed or punctuated: stop its spill, remember the deliveries of
    /// what it spilled, and send what it still holds.
    fn hand_over(
        &mut self,
        id: TaskId,
        spilled: Option<Arc<Mutex<Vec<DeliveryFuture>>>>,
    ) -> Result<(), StreamsError> {
        let Some(task) = self.tasks.get_mut(&id) else {
            return Ok(());
        };
        task.set_spill(None);
        let outgoing = task.take_outgoing();
        if let Some(spilled) = spilled {
            let sent = std::mem::take(&mut *spilled.lock().unwrap_or_else(|e| e.into_inner()));
            for d in sent {
                self.remember_delivery(d);
            }
        }
        self.send(outgoing)
    }

    /// Commit when a processor asked for it or the commit interval elapsed; the number of
    /// tasks that had something to commit.
    fn maybe_commit(&mut self) -> Result<usize, StreamsError> {
        let requested = self.tasks.values().any(|t| t.commit_requested());
        if !self.decisions.commit_due(self.wall_ms(), requested) {
            return Ok(0);
        }
        let needed = self.tasks.values().filter(|t| t.commit_needed()).count();
        self.commit()?;
        Ok(needed)
    }

    /// Where a task's sinks hand records while this thread processes it (so one record that
    /// writes a great many is not held whole), and the deliveries of what they handed; `None`
    /// while records must wait for [`send`](Self::send): a dead-letter queue keeps a copy of
    /// each, and under exactly-once the transaction must be open first.
    fn spill(&self) -> Option<(Spill, Arc<Mutex<Vec<DeliveryFuture>>>)> {
        if self.cx.config.dead_letter_topic.is_some() || (self.eos && !self.txn_open) {
            return None;
        }
        let producer = self.producer.clone();
        let handle = self.cx.handle.clone();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let deliveries = sent.clone();
        let spill: Spill = Box::new(move |records| {
            let records = producer_records(records);
            let producer = producer.clone();
            let d = handle.block_on(async move { producer.send_all(records).await })?;
            deliveries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(d);
            Ok(())
        });
        Some((spill, sent))
    }

    fn send(&mut self, outgoing: Vec<OutgoingRecord>) -> Result<(), StreamsError> {
        if outgoing.is_empty() {
            return Ok(());
        }
        self.ensure_transaction()?;
        let producer = self.producer.clone();
        let keep = self.cx.config.dead_letter_topic.is_some();
        let copies: Vec<OutgoingRecord> = if keep { outgoing.clone() } else { Vec::new() };
        let records = producer_records(outgoing);
        let sent = self
            .cx
            .handle
            .block_on(async move { producer.send_all(records).await })?;
        if keep {
            // A dead-letter queue needs each record back if it fails.
            self.deliveries.extend(
                sent.into_iter()
                    .zip(copies)
                    .map(|(d, c)| (d, Some(Box::new(c)))),
            );
        } else {
            for d in sent {
                self.remember_delivery(d);
            }
        }
        Ok(())
    }

    /// Keep `d` until the commit waits for it — one future per batch: a later record of a
    /// recent batch replaces the earlier one (same outcome, higher offset).
    fn remember_delivery(&mut self, d: DeliveryFuture) {
        let recent = self.deliveries.len().saturating_sub(RECENT_BATCHES);
        if let Some(slot) = self.deliveries[recent..]
            .iter_mut()
            .rev()
            .find(|(earlier, copy)| copy.is_none() && earlier.same_batch(&d))
        {
            slot.0 = d;
        } else {
            self.deliveries.push((d, None));
        }
    }

    /// Pause partitions whose task buffer is full; resume them once it drained.
    fn back_pressure(&mut self) {
        let limit = self.cx.config.buffered_records_per_partition;
        let mut pause = Vec::new();
        let mut resume = Vec::new();
        for (tp, id) in &self.partition_task {
            let Some(task) = self.tasks.get(id) else {
                continue;
            };
            let n = task.buffered(tp);
            if n > limit && !self.paused.contains(tp) {
                pause.push(tp.clone());
            } else if n <= limit / 2 && self.paused.contains(tp) {
                resume.push(tp.clone());
            }
        }
        if !pause.is_empty() {
            self.consumer.pause(&pause);
            self.paused.extend(pause);
        }
        if !resume.is_empty() {
            self.consumer.resume(&resume);
            for tp in &resume {
                self.paused.remove(tp);
            }
        }
    }

    fn shutdown(mut self, clean: bool) -> Result<(), StreamsError> {
        let result = if clean {
            self.commit_with(true)
        } else {
            Ok(())
        };
        let committed = clean && result.is_ok();
        if self.eos && !committed {
            self.abort_open_transaction();
        }
        let ids: Vec<TaskId> = self.standbys.keys().copied().collect();
        for id in ids {
            if let Err(e) = self.close_standby(id) {
                warn!(task = %id, error = %e, "closing a standby failed");
            }
        }
        for (_, task) in std::mem::take(&mut self.tasks) {
            self.close_task(task, committed);
        }
        (self.cx.on_tasks)(self.cx.index, BTreeSet::new(), BTreeSet::new());
        let handle = self.cx.handle.clone();
        if let Err(e) = handle.block_on(self.producer.close()) {
            warn!(error = %e, "closing the producer failed");
        }
        // Closing leaves the group even as a static member, so the tasks move at once (only a
        // crashed process keeps its membership, for its restart).
        if let Err(e) = handle.block_on(self.consumer.close_leaving_group()) {
            warn!(error = %e, "leaving the group failed");
        }
        result
    }
}
