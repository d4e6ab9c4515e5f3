//! Offset commits of a group member: what was delivered and not yet committed, sync and
//! async commits, committed offsets, and auto-commit (split from `group.rs` by concern).

use std::collections::BTreeMap;

use tracing::warn;

use crate::error::Result;
use crate::group::offsets::OffsetAndMetadata;
use crate::TopicPartition;

use super::{Consumer, ConsumerRecord};

impl Consumer {
    pub(super) fn mark_delivered(&mut self, r: &ConsumerRecord) {
        if let Some(g) = self.group.as_deref_mut() {
            g.delivered.insert(
                (r.topic.clone(), r.partition),
                (r.offset + 1, r.leader_epoch),
            );
        }
    }

    /// Mark `records` (handed to the application in this order) delivered: the last record of
    /// each run of one partition is what counts.
    pub(super) fn mark_all_delivered(&mut self, records: &[ConsumerRecord]) {
        for (i, r) in records.iter().enumerate() {
            let last_of_run = records.get(i + 1).is_none_or(|next| {
                next.partition != r.partition || !std::sync::Arc::ptr_eq(&next.topic, &r.topic)
            });
            if last_of_run {
                self.mark_delivered(r);
            }
        }
    }

    /// The offsets of the records handed to the application for `partitions` (all if `None`)
    /// that are not committed yet.
    pub(super) fn uncommitted(
        &self,
        partitions: Option<&[TopicPartition]>,
    ) -> BTreeMap<TopicPartition, OffsetAndMetadata> {
        let Some(g) = self.group.as_deref() else {
            return BTreeMap::new();
        };
        g.delivered
            .iter()
            .map(|((topic, partition), off)| (TopicPartition::new(&**topic, *partition), *off))
            .filter(|(tp, _)| partitions.is_none_or(|ps| ps.contains(tp)))
            .filter(|(tp, (off, _))| g.committed.get(tp) != Some(off))
            .map(|(tp, (offset, leader_epoch))| {
                let om = OffsetAndMetadata {
                    offset,
                    leader_epoch,
                    metadata: None,
                };
                (tp, om)
            })
            .collect()
    }

    /// Commit the offsets of every record handed to the application so far (synchronously).
    pub async fn commit_consumed(&mut self) -> Result<()> {
        let offsets = self.uncommitted(None);
        self.commit_and_remember(offsets).await
    }

    pub(super) async fn commit_and_remember(
        &mut self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        self.commit_as(offsets, false).await
    }

    /// Commit through the member (which refuses during a rebalance and learns the outcome);
    /// remember what was committed.
    pub(super) async fn commit_as(
        &mut self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
        auto: bool,
    ) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let g = self.group_ref()?;
        g.member.commit(&offsets, auto).await?;
        let g = self.group_mut()?;
        for (tp, om) in offsets {
            g.committed.insert(tp, om.offset);
        }
        Ok(())
    }

    /// Commit explicit offsets (the next offset to read per partition) and wait for the result.
    pub async fn commit(
        &mut self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        self.commit_and_remember(offsets.clone()).await
    }

    /// Commit explicit offsets in the background; the handle gives the result.
    pub fn commit_async(
        &self,
        offsets: BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<tokio::task::JoinHandle<Result<()>>> {
        let committer = self.committer()?;
        Ok(tokio::spawn(
            async move { committer.commit(&offsets).await },
        ))
    }

    /// The group's committed offsets for `partitions`.
    pub async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        self.committer()?.committed(partitions).await
    }

    /// The member said auto commit is due: commit what was consumed.
    pub(super) async fn auto_commit_consumed(&mut self) {
        let offsets = self.uncommitted(None);
        if let Err(e) = self.commit_as(offsets, true).await {
            warn!(error = %e, "auto commit failed; the member schedules the retry");
        }
    }
}
