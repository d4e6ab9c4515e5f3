//! Task lifecycle on a stream thread: creating a task for assigned partitions (its state
//! directory locked, its persistent stores opened, its stores restored), retrying tasks whose
//! directory another instance still holds, and closing tasks.

use std::sync::Arc;
use std::time::Instant;

use kafka_wire::consumer::{Offset, OffsetReset};
use kafka_wire::TopicPartition;
use tracing::{info, warn};

use super::StreamThread;
use crate::error::StreamsError;
use crate::runtime::metrics::THREAD;
use crate::runtime::restore::ChangelogReader;
use crate::runtime::task::{StreamTask, TaskSettings, TaskStateDir};
use crate::state::backend::{RedbBackend, SharedBackend};
use crate::state::StateDirError;
use crate::TaskId;

/// A task whose state directory is locked elsewhere: retried on every loop iteration.
#[derive(Debug)]
pub(super) struct PendingTask {
    pub partitions: Vec<TopicPartition>,
    pub since: Instant,
    /// Per partition, the first offset polled (and dropped) while the task waited: where to
    /// resume once it is created.
    pub rewind: std::collections::BTreeMap<TopicPartition, i64>,
}

impl StreamThread {
    pub(super) fn subtopology_for(&self, app: &str, physical: &str) -> Option<u32> {
        self.cx
            .topology
            .subtopologies()
            .iter()
            .find(|s| {
                s.source_topics
                    .iter()
                    .any(|t| self.cx.topology.physical_topic(app, t) == physical)
                    || (s.has_pattern_source
                        && self
                            .cx
                            .topology
                            .subtopology_of_topic(physical)
                            .is_some_and(|x| x.id == s.id))
            })
            .map(|s| s.id)
    }

    /// A source's own reset policy (Kafka's `Consumed.withOffsetResetPolicy`) for partitions
    /// the group has no committed offset for; the others follow `auto.offset.reset`.
    fn apply_source_resets(&mut self, partitions: &[TopicPartition]) -> Result<(), StreamsError> {
        let app = self.cx.config.application_id.clone();
        let topology = self.cx.topology.clone();
        let resets: Vec<(TopicPartition, OffsetReset)> = partitions
            .iter()
            .filter_map(|tp| {
                let logical = topology
                    .subtopologies()
                    .iter()
                    .flat_map(|s| s.source_topics.iter())
                    .find(|t| topology.physical_topic(&app, t) == tp.topic)
                    .cloned()
                    .unwrap_or_else(|| tp.topic.clone());
                topology.source_options(&logical).1.map(|r| (tp.clone(), r))
            })
            .collect();
        if resets.is_empty() {
            return Ok(());
        }
        let tps: Vec<TopicPartition> = resets.iter().map(|(tp, _)| tp.clone()).collect();
        let committed = self.cx.handle.block_on(self.consumer.committed(&tps))?;
        for (tp, reset) in resets {
            if committed.contains_key(&tp) {
                continue;
            }
            let to = match reset {
                OffsetReset::Earliest => Offset::Beginning,
                OffsetReset::Latest => Offset::End,
                OffsetReset::None => {
                    return Err(StreamsError::Config(format!(
                        "partition {tp} has no committed offset and its source's reset policy is none; commit an offset for it or give the source another policy"
                    )))
                }
            };
            self.consumer.seek(&tp, to)?;
            // Records of it the same poll already returned are from the old position.
            self.reset_now.insert(tp);
        }
        Ok(())
    }

    /// Lock the task's directory and open its redb file, when it has persistent stores.
    /// `Ok(None)`: no persistent stores; `Err(Locked)`: another holder has it.
    pub(super) fn open_state(&self, id: TaskId) -> Result<Option<TaskStateDir>, StreamsError> {
        let sub = self
            .cx
            .topology
            .subtopologies()
            .iter()
            .find(|s| s.id == id.subtopology);
        let Some(sub) = sub else {
            return Ok(None);
        };
        if !self.cx.topology.has_persistent_stores(sub) {
            return Ok(None);
        }
        let Some(state_directory) = &self.cx.state_directory else {
            return Err(StreamsError::Config(
                "the topology has persistent stores but no state directory was set up (state.dir)"
                    .into(),
            ));
        };
        let dir = state_directory.lock_task(id).map_err(|e| match e {
            StateDirError::Locked { .. } => StreamsError::TaskDirectoryLocked(e.to_string()),
            other => StreamsError::Config(other.to_string()),
        })?;
        let backend = RedbBackend::open(&dir.db_path()).map_err(|e| StreamsError::Store {
            store: e.location,
            detail: e.detail,
        })?;
        Ok(Some(TaskStateDir {
            dir,
            backend: SharedBackend::new(Box::new(backend)),
        }))
    }

    /// Create the task for `partitions`, or park it as pending while its state directory is
    /// locked by another instance (its partitions are paused meanwhile).
    pub(super) fn create_task(
        &mut self,
        id: TaskId,
        partitions: Vec<TopicPartition>,
    ) -> Result<(), StreamsError> {
        // A standby of it hands its stores over (persistent ones committed), with its lock.
        let handed = match self.standbys.remove(&id) {
            Some(standby) => Some(standby.hand_over()?),
            None => None,
        };
        let (state_dir, from_standby) = match handed {
            Some(h) => (Ok(h.state), Some((h.stores, h.positions))),
            None => (self.open_state(id), None),
        };
        let state_dir = match state_dir {
            Ok(s) => s,
            Err(StreamsError::TaskDirectoryLocked(why)) => {
                if !self.pending.contains_key(&id) {
                    warn!(task = %id, "{why}");
                    self.consumer.pause(&partitions);
                    self.paused.extend(partitions.iter().cloned());
                    self.pending.insert(
                        id,
                        PendingTask {
                            partitions,
                            since: Instant::now(),
                            rewind: Default::default(),
                        },
                    );
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = self.pending.remove(&id) {
            // Records polled while it was pending were dropped: go back to the first of them,
            // then resume.
            for (tp, offset) in &p.rewind {
                self.consumer.seek(tp, Offset::At(*offset))?;
            }
            self.consumer.resume(&p.partitions);
            for tp in &p.partitions {
                self.paused.remove(tp);
            }
            info!(task = %id, waited_ms = p.since.elapsed().as_millis() as u64, rewind = ?p.rewind, "state directory free now; creating the task");
        }
        self.apply_source_resets(&partitions)?;
        let sub = self
            .cx
            .topology
            .subtopologies()
            .iter()
            .find(|s| s.id == id.subtopology)
            .cloned()
            .ok_or_else(|| {
                StreamsError::IllegalState(format!("task {id}: no sub-topology {}", id.subtopology))
            })?;
        let admin_client = self.cx.admin.client().clone();
        let settings = TaskSettings {
            outer_join_emit_interval_ms: self.cx.config.outer_join_emit_interval_ms,
            global_stores: self.cx.global_stores.clone(),
            application_id: Arc::from(self.cx.config.application_id.as_str()),
            max_task_idle_ms: self.cx.config.max_task_idle_ms,
            default_extractor: self.cx.config.timestamp_extractor.clone(),
            deserialization: self.cx.config.deserialization_handler,
            processing: self.cx.config.processing_handler,
            dead_letter_topic: self.cx.config.dead_letter_topic.clone(),
            cache_budget: Some(self.cache_budget.clone()),
            partition_counts: Arc::new(move |t| {
                admin_client
                    .with_metadata(|m| m.partition_count(t))
                    .and_then(|n| i32::try_from(n).ok())
            }),
        };
        let mut task = StreamTask::new(
            id,
            &self.cx.topology,
            &sub,
            partitions.clone(),
            settings,
            state_dir,
            from_standby,
        )?;
        let source_changelogs = task.source_changelog_partitions();
        if !source_changelogs.is_empty() {
            let committed = self
                .cx
                .handle
                .block_on(self.consumer.committed(&source_changelogs))?;
            task.set_restore_limits(
                committed
                    .into_iter()
                    .map(|(tp, o)| (tp, o.offset))
                    .collect(),
            );
        }
        let outcomes = ChangelogReader {
            consumer: &mut self.restore,
            read_committed: self.eos,
            admin: &self.cx.admin,
            handle: &self.cx.handle,
            listener: self.cx.restore_listener.clone(),
        }
        .restore(&mut task)?;
        for o in outcomes {
            self.cx.metrics.count(
                crate::runtime::metrics::STATE,
                "restore",
                vec![
                    ("thread-id", self.cx.name.clone()),
                    ("task-id", id.to_string()),
                    ("store-name", o.store.clone()),
                ],
                o.restored,
            );
        }
        task.initialize(self.wall_ms())?;
        info!(task = %id, partitions = ?partitions, "task running");
        self.cx
            .metrics
            .count(THREAD, "task-created", self.thread_tag(), 1);
        for tp in partitions {
            self.partition_task.insert(tp, id);
        }
        self.tasks.insert(id, task);
        Ok(())
    }

    /// Retry the tasks waiting for their state directory.
    pub(super) fn retry_pending(&mut self) -> Result<bool, StreamsError> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        let ids: Vec<(TaskId, Vec<TopicPartition>)> = self
            .pending
            .iter()
            .map(|(id, p)| (*id, p.partitions.clone()))
            .collect();
        let before = self.tasks.len();
        for (id, partitions) in ids {
            self.create_task(id, partitions)?;
        }
        Ok(self.tasks.len() != before)
    }

    /// Forget pending tasks whose partitions were revoked.
    pub(super) fn drop_pending(&mut self, revoked: &[TopicPartition]) {
        self.pending
            .retain(|_, p| !p.partitions.iter().any(|tp| revoked.contains(tp)));
    }

    /// The member lost `lost` (fenced, or its session expired): they may be another member's
    /// already, so their tasks close dirty and nothing of them is committed (Kafka Streams'
    /// `handleLostAll`). Under exactly-once the thread's open transaction holds their work
    /// too: it is aborted and the thread's other tasks go back to their last commit.
    pub(super) fn close_lost(&mut self, lost: &[TopicPartition]) -> Result<(), StreamsError> {
        self.drop_pending(lost);
        let ids: std::collections::BTreeSet<TaskId> = lost
            .iter()
            .filter_map(|tp| self.partition_task.get(tp).copied())
            .collect();
        for id in &ids {
            if let Some(task) = self.tasks.remove(id) {
                warn!(task = %id, "closing task dirty (its partitions were lost)");
                self.close_task(task, false);
            }
        }
        if self.eos && self.txn_open {
            self.abort_and_revive(false)?;
        }
        Ok(())
    }

    /// Close a task: commit its stores if `clean`, else drop their uncommitted writes; its
    /// directory lock goes with it.
    pub(super) fn close_task(&mut self, mut task: StreamTask, clean: bool) {
        task.close();
        if !clean {
            if let Err(e) = task.abort_state() {
                warn!(task = %task.id, error = %e, "dropping the task's uncommitted state failed");
            }
        }
        for tp in task.partitions() {
            self.partition_task.remove(&tp);
            self.paused.remove(&tp);
            self.shared.forget(&tp);
        }
    }
}
