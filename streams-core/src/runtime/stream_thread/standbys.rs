//! The stream thread's standby tasks: which ones it keeps (from the assignment), the consumer
//! that follows their changelogs, and the offset sums it reports to the assignor (KIP-441).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_wire::consumer::{Consumer, Offset};
use kafka_wire::protocol::ErrorCode;
use kafka_wire::TopicPartition;
use tracing::{info, warn};

use super::StreamThread;
use crate::assignment::lag::LATEST_OFFSET;
use crate::error::StreamsError;
use crate::runtime::standby::StandbyTask;
use crate::state::backend::{RedbBackend, StateBackend};
use crate::TaskId;

impl StreamThread {
    /// Standby tasks the latest assignment gives this thread (none it runs as active).
    fn assigned_standbys(&self) -> BTreeSet<TaskId> {
        let Some(h) = &self.cx.assignor_handle else {
            return BTreeSet::new();
        };
        let Some(latest) = h.latest_assignment() else {
            return BTreeSet::new();
        };
        let Ok(info) = latest.info else {
            return BTreeSet::new();
        };
        info.standby_tasks
            .keys()
            .filter(|id| !self.tasks.contains_key(id))
            .copied()
            .collect()
    }

    /// Close a standby, committing what it applied (its directory lock goes with it).
    pub(super) fn close_standby(&mut self, id: TaskId) -> Result<(), StreamsError> {
        if let Some(mut s) = self.standbys.remove(&id) {
            s.commit()?;
            info!(task = %id, applied = s.applied, "standby closed");
        }
        Ok(())
    }

    /// Open the standbys newly assigned, close the others, and point the standby consumer at
    /// their changelogs.
    pub(super) fn update_standbys(&mut self) -> Result<(), StreamsError> {
        let wanted = self.assigned_standbys();
        let gone: Vec<TaskId> = self
            .standbys
            .keys()
            .filter(|id| !wanted.contains(id))
            .copied()
            .collect();
        for id in gone {
            self.close_standby(id)?;
        }
        let app = self.cx.config.application_id.clone();
        for id in wanted {
            if self.standbys.contains_key(&id) {
                continue;
            }
            let state = match self.open_state(id) {
                Ok(s) => s,
                Err(StreamsError::TaskDirectoryLocked(why)) => {
                    warn!(task = %id, "standby not opened now: {why}");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(sub) = self
                .cx
                .topology
                .subtopologies()
                .iter()
                .find(|s| s.id == id.subtopology)
                .cloned()
            else {
                continue;
            };
            let standby = StandbyTask::new(id, &self.cx.topology, &sub, &app, state)?;
            if !standby.has_changelogs() {
                continue;
            }
            info!(task = %id, positions = ?standby.changelog_positions(), "standby opened");
            self.standbys.insert(id, standby);
        }
        self.assign_standby_consumer()
    }

    fn assign_standby_consumer(&mut self) -> Result<(), StreamsError> {
        let positions: Vec<(TopicPartition, Option<i64>)> = self
            .standbys
            .values()
            .flat_map(|s| s.changelog_positions())
            .collect();
        if positions.is_empty() {
            if let Some(c) = &mut self.standby_consumer {
                c.assign(std::iter::empty::<TopicPartition>());
            }
            return Ok(());
        }
        if self.standby_consumer.is_none() {
            let cfg = self
                .cx
                .config
                .restore_consumer(&format!("{}-standby-consumer", self.cx.name))?;
            self.standby_consumer = Some(self.cx.handle.block_on(Consumer::connect(cfg))?);
        }
        let Some(consumer) = &mut self.standby_consumer else {
            return Ok(());
        };
        consumer.assign(positions.iter().map(|(tp, _)| tp.clone()));
        for (tp, at) in &positions {
            consumer.seek(tp, at.map_or(Offset::Beginning, Offset::At))?;
        }
        Ok(())
    }

    /// Apply what the changelogs of the standbys have (without waiting).
    pub(super) fn poll_standbys(&mut self) -> Result<(), StreamsError> {
        if self.standbys.is_empty() {
            return Ok(());
        }
        let Some(consumer) = &mut self.standby_consumer else {
            return Ok(());
        };
        let records = match self
            .cx
            .handle
            .block_on(consumer.poll_records(Duration::ZERO))
        {
            Ok(r) => r,
            Err(e) if e.code() == Some(ErrorCode::OFFSET_OUT_OF_RANGE) => {
                // A changelog lost the standby's position: start those over.
                warn!(error = %e, "a standby's changelog position is gone (retention or delete-records); wiping and reading it from the beginning");
                let tps: Vec<TopicPartition> = consumer.assignment();
                for s in self.standbys.values_mut() {
                    for (tp, _) in s.changelog_positions() {
                        if tps.contains(&tp) && consumer.position(&tp).is_none() {
                            s.wipe(&tp)?;
                            consumer.seek(&tp, Offset::Beginning)?;
                        }
                    }
                }
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        // Per-partition batches as the consumer returns them: no regrouping per record.
        for (tp, records) in records.into_batches() {
            if let Some(s) = self.standbys.values_mut().find(|s| s.follows(&tp)) {
                s.apply(&tp, records)?;
            }
        }
        Ok(())
    }

    /// Commit every standby's stores with their positions.
    pub(super) fn commit_standbys(&mut self) -> Result<(), StreamsError> {
        for s in self.standbys.values_mut() {
            s.commit()?;
        }
        Ok(())
    }

    /// The offset sums the assignor sends the leader: running active tasks are caught up
    /// (`LATEST_OFFSET`); standbys report how far they got; task directories found on disk
    /// at start report what they hold.
    pub(super) fn task_offset_sums(&self) -> BTreeMap<TaskId, i64> {
        let mut sums = self.disk_offset_sums.clone();
        for (id, s) in &self.standbys {
            sums.insert(*id, s.offset_sum());
        }
        for id in self.tasks.keys() {
            sums.insert(*id, LATEST_OFFSET);
        }
        sums
    }

    /// What the task directories on disk hold (read once at start; directories another
    /// thread or instance holds are skipped).
    pub(super) fn read_disk_offset_sums(&mut self) {
        let Some(dir) = &self.cx.state_directory else {
            return;
        };
        for (id, _) in dir.task_dirs() {
            let Ok(held) = dir.lock_task(id) else {
                continue;
            };
            let db = held.db_path();
            if !db.exists() {
                continue;
            }
            if let Ok(backend) = RedbBackend::open(&db) {
                let sum: i64 = backend.committed_offsets().values().sum();
                self.disk_offset_sums.insert(id, sum);
            }
        }
    }
}
