//! The global thread (Kafka Streams' `GlobalStreamThread`): reads every partition of the
//! global stores' topics through their source and processor, fills the stores before the
//! stream threads start, and keeps them up to date afterwards.
//!
//! Global stores have no changelog and no committed offsets: their topic is their log, and an
//! in-memory global store is rebuilt from its beginning at every start.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::consumer::{Consumer, Offset};
use kafka_wire::TopicPartition;
use tokio::runtime::Handle;
use tracing::{info, info_span, warn};

use super::config::StreamsConfig;
use super::task::{Processed, StreamTask, TaskSettings};
use crate::error::StreamsError;
use crate::state::SharedStore;
use crate::topology::Topology;
use crate::TaskId;

/// The running global thread.
pub(crate) struct GlobalThread {
    shutdown: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl GlobalThread {
    /// Stop the thread and wait up to `timeout`.
    pub fn stop(&mut self, timeout: Duration) {
        self.shutdown.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + timeout;
        if let Some(j) = self.join.take() {
            while !j.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if j.is_finished() {
                let _ = j.join();
            }
        }
    }
}

/// Create the global stores, fill them from their topics (blocking until caught up), and
/// start the thread that keeps them current. Returns read-only handles for the tasks.
pub(crate) fn start(
    topology: &Topology,
    config: &StreamsConfig,
    handle: &Handle,
    admin: &Admin,
) -> Result<(BTreeMap<String, SharedStore>, Option<GlobalThread>), StreamsError> {
    if topology.global_groups().is_empty() {
        return Ok((BTreeMap::new(), None));
    }
    let mut writable = BTreeMap::new();
    for name in topology.global_store_names() {
        match topology.create_store(&name, None) {
            Some(Ok(crate::state::StateStore::KeyValue(store))) => {
                writable.insert(name, SharedStore::new(store));
            }
            Some(Ok(other)) => {
                return Err(StreamsError::Config(format!(
                    "global store {name:?} is a {} store; global stores are key-value stores",
                    other.kind()
                )))
            }
            Some(Err(e)) => {
                return Err(StreamsError::Store {
                    store: e.store,
                    detail: e.detail,
                })
            }
            None => {}
        }
    }
    let read_only = writable
        .iter()
        .map(|(n, s)| (n.clone(), s.read_only()))
        .collect();
    let topics: Vec<String> = topology
        .global_groups()
        .iter()
        .flat_map(|g| g.source_topics.clone())
        .collect();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let described = handle.block_on(admin.describe_topics(&names))?;
    let mut partitions = Vec::new();
    for t in &described {
        if t.partitions.is_empty() {
            return Err(StreamsError::Config(format!(
                "global topic {:?} does not exist; create it before starting the application",
                t.name
            )));
        }
        partitions.extend(
            t.partitions
                .iter()
                .map(|p| TopicPartition::new(t.name.clone(), p.partition)),
        );
    }
    let consumer_cfg =
        config.global_consumer(&format!("{}-global-consumer", config.application_id))?;
    let shutdown = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), StreamsError>>();
    let topology = topology.clone();
    let config = config.clone();
    let handle2 = handle.clone();
    let admin = admin.clone();
    let stop = shutdown.clone();
    let join = std::thread::Builder::new()
        .name(format!("{}-GlobalStreamThread", config.application_id))
        .spawn(move || {
            let _entered = handle2.enter();
            let run = || -> Result<(Consumer, Vec<StreamTask>), StreamsError> {
                let mut consumer = handle2.block_on(Consumer::connect(consumer_cfg))?;
                consumer.assign(partitions.clone());
                for tp in &partitions {
                    consumer.seek(tp, Offset::Beginning)?;
                }
                let mut tasks = Vec::new();
                for g in topology.global_groups() {
                    let mine: Vec<TopicPartition> = partitions
                        .iter()
                        .filter(|tp| g.source_topics.contains(&tp.topic))
                        .cloned()
                        .collect();
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
                    let mut task = StreamTask::new(
                        TaskId::new(g.id, -1),
                        &topology,
                        g,
                        mine,
                        settings,
                        None,
                        None,
                    )?;
                    task.initialize(0)?;
                    tasks.push(task);
                }
                // Bootstrap: read every partition up to its end offset now.
                let _span = info_span!("restore", global = true).entered();
                let specs: Vec<(TopicPartition, OffsetSpec)> = partitions
                    .iter()
                    .map(|tp| (tp.clone(), OffsetSpec::Latest))
                    .collect();
                let ends = handle2.block_on(admin.list_offsets(&specs))?;
                let started = Instant::now();
                let mut restored = 0usize;
                loop {
                    let caught_up = partitions.iter().all(|tp| {
                        let end = ends.get(tp).map_or(0, |o| o.offset);
                        end <= 0 || consumer.position(tp).is_some_and(|p| p >= end)
                    });
                    if caught_up {
                        break;
                    }
                    let records =
                        handle2.block_on(consumer.poll_records(Duration::from_millis(200)))?;
                    restored += records.len();
                    feed(&mut tasks, records)?;
                }
                info!(
                    records = restored,
                    ms = started.elapsed().as_millis() as u64,
                    "global stores bootstrapped"
                );
                Ok((consumer, tasks))
            };
            let (mut consumer, mut tasks) = match run() {
                Ok(x) => {
                    let _ = ready_tx.send(Ok(()));
                    x
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            while !stop.load(Ordering::Relaxed) {
                let records = match handle2.block_on(consumer.poll_records(config.poll)) {
                    Ok(r) => r,
                    Err(e) => {
                        warn!(error = %e, "global consumer poll failed; retrying");
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                };
                if let Err(e) = feed(&mut tasks, records) {
                    warn!(error = %e, "global store update failed");
                }
            }
            for t in &mut tasks {
                t.close();
            }
        })
        .map_err(|e| StreamsError::IllegalState(format!("cannot spawn the global thread: {e}")))?;
    let mut thread = GlobalThread {
        shutdown,
        join: Some(join),
    };
    match ready_rx.recv() {
        Ok(Ok(())) => Ok((read_only, Some(thread))),
        Ok(Err(e)) => {
            thread.stop(Duration::from_secs(1));
            Err(e)
        }
        Err(_) => Err(StreamsError::IllegalState(
            "the global thread stopped before its stores were filled".into(),
        )),
    }
}

fn feed(
    tasks: &mut [StreamTask],
    records: kafka_wire::consumer::ConsumerRecords,
) -> Result<(), StreamsError> {
    for (tp, recs) in records.into_batches() {
        if let Some(task) = tasks.iter_mut().find(|t| t.partitions().contains(&tp)) {
            task.add_records(&tp, recs)?;
        }
    }
    for task in tasks.iter_mut() {
        while task.process(0)? == Processed::Record {}
        let _ = task.take_outgoing();
    }
    Ok(())
}
