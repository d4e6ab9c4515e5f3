//! The driver's engine: one task per sub-topology on partition 0, records piped in one at a
//! time, each processed record followed by the stream-time punctuation check and a commit, and
//! the records the tasks produce captured per topic and — for topics the topology reads —
//! processed at once, depth-first (as Java's `TopologyTestDriver` does).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::protocol::record_batch::Header;
use kafka_wire::TopicPartition;

use super::error::TestDriverError;
use super::state_dir::TempStateDir;
use crate::processor::OutgoingRecord;
use crate::runtime::restore::WrittenPositions;
use crate::runtime::task::{Processed, StreamTask, TaskSettings, TaskStateDir};
use crate::runtime::StreamsConfig;
use crate::state::backend::{RedbBackend, SharedBackend};
use crate::state::{SharedStore, StateStore, StoreSlot, ThreadCacheBudget};
use crate::topology::Topology;
use crate::TaskId;

/// Which task holds a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreOwner {
    /// A stream task.
    Task(TaskId),
    /// The global task at this index.
    Global(usize),
}

/// A record to pipe into a topic: bytes, timestamp and headers.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub timestamp: i64,
    pub headers: Vec<Header>,
}

/// Everything the driver, its topics and its stores share.
pub(crate) struct DriverCore {
    pub application_id: String,
    pub topology: Topology,
    /// Stream tasks by id (task id order is the commit order).
    tasks: BTreeMap<TaskId, StreamTask>,
    /// The global stores' tasks.
    globals: Vec<StreamTask>,
    /// The task reading each (physical) topic.
    topic_task: BTreeMap<String, TaskId>,
    /// The global task reading each topic.
    global_topics: BTreeMap<String, usize>,
    /// Next offset of each topic piped into.
    input_offsets: BTreeMap<String, i64>,
    /// Records produced to each topic, not read yet.
    pub captured: BTreeMap<String, VecDeque<OutgoingRecord>>,
    /// Records produced to each topic so far (its next offset).
    produced: BTreeMap<String, i64>,
    /// The driver's wall-clock time (ms).
    pub wall_clock: i64,
    pub closed: bool,
    /// The temporary state directory of persistent stores (removed when dropped, after the
    /// tasks that hold it: fields drop in declaration order).
    _state: Option<TempStateDir>,
}

impl DriverCore {
    /// Create and initialize the tasks of `topology` at wall-clock `now`; persistent stores
    /// on redb in a temporary directory when `on_disk`, else in memory.
    pub fn new(
        topology: Topology,
        config: &StreamsConfig,
        now: i64,
        on_disk: bool,
    ) -> Result<DriverCore, TestDriverError> {
        let app = config.application_id.clone();
        let setup = TestDriverError::streams;
        let state = if on_disk && topology.has_persistent_stores_anywhere() {
            Some(TempStateDir::create(&app)?)
        } else {
            None
        };
        let (global_writable, globals, global_topics) = create_globals(&topology, config, now)?;
        let budget = ThreadCacheBudget::new(config.cache_max_bytes);
        let settings = TaskSettings {
            outer_join_emit_interval_ms: config.outer_join_emit_interval_ms,
            application_id: Arc::from(app.as_str()),
            max_task_idle_ms: config.max_task_idle_ms,
            default_extractor: config.timestamp_extractor.clone(),
            deserialization: config.deserialization_handler,
            processing: config.processing_handler,
            dead_letter_topic: config.dead_letter_topic.clone(),
            // One partition per topic, as Java's driver.
            partition_counts: Arc::new(|_| Some(1)),
            global_stores: global_writable
                .iter()
                .map(|(n, s)| (n.clone(), s.read_only()))
                .collect(),
            cache_budget: Some(budget),
        };
        let mut tasks = BTreeMap::new();
        let mut topic_task = BTreeMap::new();
        for sub in topology.subtopologies() {
            let id = TaskId::new(sub.id, 0);
            let partitions: Vec<TopicPartition> = sub
                .source_topics
                .iter()
                .map(|t| TopicPartition::new(topology.physical_topic(&app, t), 0))
                .collect();
            let state_dir = match &state {
                Some(dir) if topology.has_persistent_stores(sub) => Some(open_task_state(dir, id)?),
                _ => None,
            };
            let mut task = StreamTask::new(
                id,
                &topology,
                sub,
                partitions.clone(),
                settings.clone(),
                state_dir,
                None,
            )
            .map_err(setup(format!("creating task {id}")))?;
            task.initialize(now)
                .map_err(setup(format!("initializing task {id}")))?;
            for tp in partitions {
                // Everything piped in is queued at once: no partition has records to fetch.
                task.set_fetched_lag(&tp, Some(0));
                topic_task.insert(tp.topic, id);
            }
            tasks.insert(id, task);
        }
        Ok(DriverCore {
            application_id: app,
            topology,
            tasks,
            globals,
            topic_task,
            global_topics,
            input_offsets: BTreeMap::new(),
            captured: BTreeMap::new(),
            produced: BTreeMap::new(),
            wall_clock: now,
            closed: false,
            _state: state,
        })
    }

    /// The topics records can be piped into, comma-separated (for messages).
    pub fn input_topics(&self) -> String {
        let mut all: Vec<&str> = self
            .topic_task
            .keys()
            .chain(self.global_topics.keys())
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.join(", ")
    }

    /// Whether `topic` is read by a task or a global store.
    pub fn reads(&self, topic: &str) -> bool {
        self.topic_task.contains_key(topic) || self.global_topics.contains_key(topic)
    }

    /// Pipe one record into `topic` and process everything it leads to.
    pub fn pipe(&mut self, topic: &str, record: RawRecord) -> Result<(), TestDriverError> {
        if self.closed {
            return Err(TestDriverError::Closed);
        }
        let task = self.topic_task.get(topic).copied();
        let global = self.global_topics.get(topic).copied();
        if task.is_none() && global.is_none() {
            return Err(TestDriverError::UnknownTopic {
                topic: topic.to_owned(),
                known: self.input_topics(),
            });
        }
        let during = || format!("processing a record of topic {topic:?}");
        let offset = self.input_offsets.entry(topic.to_owned()).or_insert(0);
        let consumed = ConsumerRecord {
            topic: Arc::from(topic),
            partition: 0,
            offset: *offset,
            timestamp: record.timestamp,
            timestamp_type: Default::default(),
            leader_epoch: None,
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        *offset += 1;
        let tp = TopicPartition::new(topic, 0);
        if let Some(g) = global.and_then(|g| self.globals.get_mut(g)) {
            g.add_records(&tp, vec![consumed.clone()])
                .map_err(TestDriverError::streams(during()))?;
            while g
                .process(self.wall_clock)
                .map_err(TestDriverError::streams(during()))?
                == Processed::Record
            {}
            // A global store's processor only writes its store.
            let _ = g.take_outgoing();
        }
        if let Some(id) = task {
            if let Some(t) = self.tasks.get_mut(&id) {
                t.add_records(&tp, vec![consumed])
                    .map_err(TestDriverError::streams(during()))?;
            }
            self.drain(id, &during())?;
        }
        Ok(())
    }

    /// Process what task `id` has queued and may process now, each record followed by the
    /// stream-time punctuation check and a commit; produced records are routed as they come.
    fn drain(&mut self, id: TaskId, during: &str) -> Result<(), TestDriverError> {
        loop {
            let now = self.wall_clock;
            let Some(task) = self.tasks.get_mut(&id) else {
                return Ok(());
            };
            let fail = TestDriverError::streams(during);
            match task.process(now).map_err(fail)? {
                Processed::Record => {}
                Processed::Idle(_) => return Ok(()),
            }
            task.punctuate_stream_time()
                .map_err(TestDriverError::streams(during))?;
            let out = task.take_outgoing();
            let out = self.commit(out, during)?;
            self.capture_and_route(out)?;
        }
    }

    /// Process whatever any task may process now (records held back by `max.task.idle.ms`).
    fn drain_all(&mut self) -> Result<(), TestDriverError> {
        let ids: Vec<TaskId> = self.tasks.keys().copied().collect();
        for id in ids {
            self.drain(id, &format!("processing records queued in task {id}"))?;
        }
        Ok(())
    }

    /// Commit every task as the runtime does: record caches flushed (their forwards
    /// emitted), stores committed with the changelog positions they reach, offsets marked
    /// committed. Returns `out` (produced before the commit, not captured yet) followed by
    /// what the flushes produced.
    fn commit(
        &mut self,
        mut out: Vec<OutgoingRecord>,
        during: &str,
    ) -> Result<Vec<OutgoingRecord>, TestDriverError> {
        for task in self.tasks.values_mut() {
            task.flush_caches()
                .map_err(TestDriverError::streams(during))?;
            out.extend(task.take_outgoing());
        }
        // Where each changelog partition will be once `out` is captured.
        let mut written: WrittenPositions = self
            .produced
            .iter()
            .filter(|(t, _)| t.ends_with("-changelog"))
            .map(|(t, n)| (TopicPartition::new(t.clone(), 0), *n))
            .collect();
        for o in out.iter().filter(|o| o.topic.ends_with("-changelog")) {
            *written
                .entry(TopicPartition::new(o.topic.clone(), 0))
                .or_insert(0) += 1;
        }
        for task in self.tasks.values_mut() {
            task.flush_stores()
                .map_err(TestDriverError::streams(during))?;
            // Atomic, not durable: the temporary state never outlives the driver.
            task.commit_state(&written, Duration::MAX)
                .map_err(TestDriverError::streams(during))?;
            task.committed();
        }
        Ok(out)
    }

    /// Keep each produced record for the output topics, and pipe those of topics the
    /// topology reads back in at once (depth-first, in the order produced).
    fn capture_and_route(&mut self, out: Vec<OutgoingRecord>) -> Result<(), TestDriverError> {
        for o in out {
            *self.produced.entry(o.topic.clone()).or_insert(0) += 1;
            let again = self.reads(&o.topic).then(|| {
                (
                    o.topic.clone(),
                    RawRecord {
                        key: o.key.clone(),
                        value: o.value.clone(),
                        timestamp: o.timestamp,
                        headers: o.headers.clone(),
                    },
                )
            });
            self.captured
                .entry(o.topic.clone())
                .or_default()
                .push_back(o);
            if let Some((topic, record)) = again {
                self.pipe(&topic, record)?;
            }
        }
        Ok(())
    }

    /// Advance the wall clock by `by`: wall-clock punctuators fire, a commit follows, then
    /// whatever became processable is processed.
    pub fn advance_wall_clock(&mut self, by: Duration) -> Result<(), TestDriverError> {
        if self.closed {
            return Err(TestDriverError::Closed);
        }
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.wall_clock = self.wall_clock.saturating_add(ms);
        let now = self.wall_clock;
        let during = "wall-clock punctuation";
        let mut out = Vec::new();
        for task in self.tasks.values_mut() {
            task.punctuate_wall_clock(now)
                .map_err(TestDriverError::streams(during))?;
            out.extend(task.take_outgoing());
        }
        let out = self.commit(out, during)?;
        self.capture_and_route(out)?;
        self.drain_all()
    }

    /// Records the tasks dropped (invalid timestamps, handlers, processors' skips).
    pub fn dropped_records(&self) -> u64 {
        self.tasks.values().map(|t| t.dropped_records_total()).sum()
    }

    /// The slot of store `name` in `owner`.
    pub fn slot(
        &mut self,
        owner: StoreOwner,
        name: &str,
    ) -> Result<&mut StoreSlot, TestDriverError> {
        if self.closed {
            return Err(TestDriverError::Closed);
        }
        let task = match owner {
            StoreOwner::Task(id) => self.tasks.get_mut(&id),
            StoreOwner::Global(i) => self.globals.get_mut(i),
        };
        let Some(task) = task else {
            return Err(TestDriverError::Closed);
        };
        task.slot(name).map_err(|e| TestDriverError::Store {
            store: name.to_owned(),
            detail: e.to_string(),
        })
    }

    /// The task holding store `name`.
    pub fn owner_of(&self, name: &str) -> Result<StoreOwner, TestDriverError> {
        if let Some(s) = self
            .topology
            .subtopologies()
            .iter()
            .find(|s| s.stores.iter().any(|n| n == name))
        {
            return Ok(StoreOwner::Task(TaskId::new(s.id, 0)));
        }
        if let Some(i) = self
            .topology
            .global_groups()
            .iter()
            .position(|g| g.stores.iter().any(|n| n == name))
        {
            return Ok(StoreOwner::Global(i));
        }
        let known: Vec<&str> = self.topology.stores.keys().map(String::as_str).collect();
        Err(TestDriverError::Store {
            store: name.to_owned(),
            detail: format!(
                "the topology has no such store (or no processor uses it); its stores: {}",
                known.join(", ")
            ),
        })
    }

    /// Commit (flushing the caches and routing what that produces), then close every task.
    pub fn close(&mut self) -> Result<(), TestDriverError> {
        if self.closed {
            return Ok(());
        }
        let out = self.commit(Vec::new(), "closing")?;
        self.capture_and_route(out)?;
        for task in self.tasks.values_mut().chain(self.globals.iter_mut()) {
            task.close();
        }
        self.closed = true;
        Ok(())
    }
}

/// Lock task `id`'s directory under `dir` and open its redb file.
fn open_task_state(dir: &TempStateDir, id: TaskId) -> Result<TaskStateDir, TestDriverError> {
    let task_dir = dir
        .directory
        .lock_task(id)
        .map_err(|e| TestDriverError::Config(e.to_string()))?;
    let backend = RedbBackend::open(&task_dir.db_path()).map_err(|e| TestDriverError::Store {
        store: e.location,
        detail: e.detail,
    })?;
    Ok(TaskStateDir {
        dir: task_dir,
        backend: SharedBackend::new(Box::new(backend)),
    })
}

/// The global stores (writable), their tasks and the topic each task reads.
type Globals = (
    BTreeMap<String, SharedStore>,
    Vec<StreamTask>,
    BTreeMap<String, usize>,
);

/// Create the global stores and one task per global group, as the global thread does.
fn create_globals(
    topology: &Topology,
    config: &StreamsConfig,
    now: i64,
) -> Result<Globals, TestDriverError> {
    let mut writable = BTreeMap::new();
    for name in topology.global_store_names() {
        match topology.create_store(&name, None) {
            Some(Ok(StateStore::KeyValue(store))) => {
                writable.insert(name, SharedStore::new(store));
            }
            Some(Ok(other)) => {
                return Err(TestDriverError::Store {
                    store: name,
                    detail: format!(
                        "a global store must be a key-value store, not a {} store",
                        other.kind()
                    ),
                })
            }
            Some(Err(e)) => return Err(TestDriverError::store(e)),
            None => {}
        }
    }
    let mut tasks = Vec::new();
    let mut topics = BTreeMap::new();
    for g in topology.global_groups() {
        let settings = TaskSettings {
            outer_join_emit_interval_ms: config.outer_join_emit_interval_ms,
            application_id: Arc::from(config.application_id.as_str()),
            max_task_idle_ms: -1,
            default_extractor: config.timestamp_extractor.clone(),
            deserialization: config.deserialization_handler,
            processing: config.processing_handler,
            dead_letter_topic: None,
            partition_counts: Arc::new(|_| None),
            cache_budget: None,
            global_stores: g
                .stores
                .iter()
                .filter_map(|s| writable.get(s).map(|w| (s.clone(), w.clone())))
                .collect(),
        };
        let partitions: Vec<TopicPartition> = g
            .source_topics
            .iter()
            .map(|t| TopicPartition::new(t.clone(), 0))
            .collect();
        let id = TaskId::new(g.id, -1);
        let during = TestDriverError::streams(format!("creating the global task {}", g.id));
        let mut task =
            StreamTask::new(id, topology, g, partitions, settings, None, None).map_err(during)?;
        task.initialize(now)
            .map_err(TestDriverError::streams("initializing a global task"))?;
        for t in &g.source_topics {
            topics.insert(t.clone(), tasks.len());
        }
        tasks.push(task);
    }
    Ok((writable, tasks, topics))
}
