//! Standby tasks (Kafka's `StandbyTask`): a copy of an active task's stores on another
//! instance, kept current by reading their changelogs, so that a task moving here after a
//! failure restores only the small lag. A warm-up replica (KIP-441) is a standby the assignor
//! places to bring an instance up to date before it gets the active task.
//!
//! No processors run: the thread feeds it changelog records and commits its stores with the
//! positions they reach, as restoration does. In-memory stores are kept in memory, with their
//! positions; when the task becomes active here the standby hands its stores over (persistent
//! ones committed first), so only the tail past its positions is restored.

use std::collections::BTreeMap;

use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::TopicPartition;

use super::task::TaskStateDir;
use crate::error::StreamsError;
use crate::state::{ChangelogRecord, StoreSlot};
use crate::topology::{Subtopology, Topology};
use crate::TaskId;

/// What a standby hands to the active task that replaces it.
#[derive(Debug)]
pub(crate) struct StandbyState {
    pub stores: BTreeMap<String, StoreSlot>,
    pub positions: BTreeMap<TopicPartition, i64>,
    pub state: Option<TaskStateDir>,
}

/// One standby task.
#[derive(Debug)]
pub(crate) struct StandbyTask {
    pub id: TaskId,
    stores: BTreeMap<String, StoreSlot>,
    /// Changelog partition → the store it logs.
    changelogs: BTreeMap<TopicPartition, String>,
    /// The locked directory and redb backend, when the task has persistent stores.
    state: Option<TaskStateDir>,
    /// Next offset to read per changelog partition (applied; committed at the next commit).
    positions: BTreeMap<TopicPartition, i64>,
    dirty: bool,
    /// Records applied since created.
    pub applied: u64,
}

impl StandbyTask {
    /// Open the stores of task `id` of `subtopology`: persistent ones in its locked
    /// directory, the others in memory.
    pub fn new(
        id: TaskId,
        topology: &Topology,
        subtopology: &Subtopology,
        application_id: &str,
        state: Option<TaskStateDir>,
    ) -> Result<StandbyTask, StreamsError> {
        let stores = topology
            .create_stores(subtopology, state.as_ref().map(|s| &s.backend), None)
            .map_err(StreamsError::from)?;
        let changelogs: BTreeMap<TopicPartition, String> = stores
            .keys()
            .filter_map(|name| {
                topology
                    .changelog_topic(application_id, name)
                    .map(|t| (TopicPartition::new(t, id.partition), name.clone()))
            })
            .collect();
        let committed = state
            .as_ref()
            .map(|s| s.backend.lock().committed_offsets().clone())
            .unwrap_or_default();
        let positions = changelogs
            .keys()
            .filter_map(|tp| committed.get(tp).map(|o| (tp.clone(), *o)))
            .collect();
        Ok(StandbyTask {
            id,
            stores,
            changelogs,
            state,
            positions,
            dirty: false,
            applied: 0,
        })
    }

    /// The changelog partitions it follows, each with the offset to read from (`None`: the
    /// beginning).
    pub fn changelog_positions(&self) -> Vec<(TopicPartition, Option<i64>)> {
        self.changelogs
            .keys()
            .map(|tp| (tp.clone(), self.positions.get(tp).copied()))
            .collect()
    }

    /// Whether it follows `changelog`.
    pub fn follows(&self, changelog: &TopicPartition) -> bool {
        self.changelogs.contains_key(changelog)
    }

    /// Apply records read from `changelog`.
    pub fn apply(
        &mut self,
        changelog: &TopicPartition,
        records: Vec<ConsumerRecord>,
    ) -> Result<(), StreamsError> {
        let Some(store) = self.changelogs.get(changelog) else {
            return Ok(());
        };
        let Some(last) = records.last().map(|r| r.offset) else {
            return Ok(());
        };
        let batch: Vec<ChangelogRecord> = records
            .into_iter()
            .map(|r| ChangelogRecord {
                key: r.key.unwrap_or_default(),
                value: r.value,
                timestamp: r.timestamp,
            })
            .collect();
        let slot = self.stores.get_mut(store).ok_or_else(|| {
            StreamsError::IllegalState(format!("standby {}: no store {store}", self.id))
        })?;
        slot.store
            .restore_batch(&batch)
            .map_err(StreamsError::from)?;
        self.applied += batch.len() as u64;
        self.positions.insert(changelog.clone(), last + 1);
        self.dirty = true;
        Ok(())
    }

    /// The changelog lost the position (retention, delete-records): empty the store and
    /// start over from the earliest offset.
    pub fn wipe(&mut self, changelog: &TopicPartition) -> Result<(), StreamsError> {
        if let Some(store) = self.changelogs.get(changelog) {
            if let Some(slot) = self.stores.get_mut(store) {
                slot.store.wipe().map_err(StreamsError::from)?;
            }
        }
        self.positions.remove(changelog);
        self.dirty = true;
        Ok(())
    }

    /// Commit the stores with the positions reached (durably; in memory there is nothing to
    /// write).
    pub fn commit(&mut self) -> Result<(), StreamsError> {
        if !self.dirty {
            return Ok(());
        }
        if let Some(state) = &self.state {
            state
                .backend
                .lock()
                .commit(&self.positions, true)
                .map_err(StreamsError::from)?;
        }
        self.dirty = false;
        Ok(())
    }

    /// Whether it follows any changelog (a task without logged stores needs no standby).
    pub fn has_changelogs(&self) -> bool {
        !self.changelogs.is_empty()
    }

    /// Commit, then give up the stores, their positions and the directory to the active task
    /// taking over.
    pub fn hand_over(mut self) -> Result<StandbyState, StreamsError> {
        self.commit()?;
        Ok(StandbyState {
            stores: self.stores,
            positions: self.positions,
            state: self.state,
        })
    }

    /// The sum of its changelog positions (the assignor's measure of how far it got).
    pub fn offset_sum(&self) -> i64 {
        self.positions.values().sum()
    }
}
