//! What a group consumer tells the application about rebalances: [`ConsumerEvent`] items of
//! its stream, the async hooks of a [`RebalanceListener`], and the [`Committer`] those hooks
//! commit through (see [`super::group`] for the flow).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::group::member::GroupMember;
use crate::group::offsets::{self, CommitIdentity, OffsetAndMetadata};
use crate::TopicPartition;

use super::ConsumerRecord;

/// An item of a group consumer's stream: a record or a change of assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    /// A record of an assigned partition.
    Record(ConsumerRecord),
    /// Partitions added by a completed rebalance (possibly none), positioned at their
    /// committed offsets (or `auto.offset.reset`).
    Assigned(Vec<TopicPartition>),
    /// Partitions given up in a rebalance; with auto commit on, their offsets were committed.
    Revoked(Vec<TopicPartition>),
    /// Partitions lost without a clean hand-over (the member was fenced or timed out); they
    /// may already belong to another member, so nothing was committed for them.
    Lost(Vec<TopicPartition>),
}

/// Async hooks called during rebalances, before the matching [`ConsumerEvent`] is returned.
/// Each defaults to doing nothing.
pub trait RebalanceListener: Send + Sync {
    /// Partitions are about to be given up (commit or flush for them now): their positions
    /// are still readable through [`Committer::position`] and can be committed with
    /// [`Committer::commit_positions`].
    fn on_partitions_revoked<'a>(
        &'a self,
        committer: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let _ = (committer, partitions);
        Box::pin(async {})
    }

    /// Partitions were assigned.
    fn on_partitions_assigned<'a>(
        &'a self,
        committer: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let _ = (committer, partitions);
        Box::pin(async {})
    }

    /// Partitions were lost (do not commit for them).
    fn on_partitions_lost<'a>(
        &'a self,
        committer: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        let _ = (committer, partitions);
        Box::pin(async {})
    }
}

/// Commits offsets for the group while the consumer itself is borrowed (by its stream, or in
/// a [`RebalanceListener`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Committer {
    pub(super) member: Arc<GroupMember>,
    /// The consumer's positions while one of its rebalance hooks runs.
    pub(super) positions: Arc<Mutex<BTreeMap<TopicPartition, i64>>>,
}

impl Committer {
    /// Commit these offsets (the next offset to read per partition) in the member's current
    /// generation; fails if the member was fenced meanwhile, or with `REBALANCE_IN_PROGRESS`
    /// during a rebalance (commit again once it completed).
    pub async fn commit(
        &self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        self.member.commit(offsets, false).await
    }

    /// The committed offsets of `partitions`.
    pub async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        offsets::fetch_committed(self.member.coordinator(), Some(partitions), false).await
    }

    /// The member's generation, member id and instance id, for transactional offset commits
    /// (KIP-447's `ConsumerGroupMetadata`).
    pub fn group_metadata(&self) -> CommitIdentity {
        self.member.identity()
    }

    /// While a [`RebalanceListener`] hook runs: the consumer's position of `tp` (the offset of
    /// the next record it would return), for every partition it had when the hook was called,
    /// the ones being revoked included (Java's `consumer.position(tp)` inside
    /// `onPartitionsRevoked`). `None` outside hooks, and for partitions without a position.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions().get(tp).copied()
    }

    /// While a [`RebalanceListener`] hook runs: commit the positions of `partitions` (those
    /// that have one), e.g. of the partitions being revoked, before they go.
    pub async fn commit_positions(&self, partitions: &[TopicPartition]) -> Result<()> {
        let offsets: BTreeMap<TopicPartition, OffsetAndMetadata> = {
            let positions = self.positions();
            partitions
                .iter()
                .filter_map(|tp| Some((tp.clone(), OffsetAndMetadata::new(*positions.get(tp)?))))
                .collect()
        };
        self.commit(&offsets).await
    }

    fn positions(&self) -> std::sync::MutexGuard<'_, BTreeMap<TopicPartition, i64>> {
        self.positions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn set_positions(&self, positions: BTreeMap<TopicPartition, i64>) {
        *self.positions() = positions;
    }
}
