//! The stream thread's rebalance hooks (Kafka Streams' `StreamsRebalanceListener`): before
//! partitions are revoked, the output of every processed record is acknowledged and their
//! processed offsets are committed (at-least-once; under exactly-once the thread commits its
//! transaction right after the poll, before it rejoins); what changed is left for the thread
//! to apply after its poll.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::BoxFuture;
use kafka_wire::consumer::{Committer, RebalanceListener};
use kafka_wire::group::offsets::OffsetAndMetadata;
use kafka_wire::producer::Producer;
use kafka_wire::TopicPartition;
use tracing::warn;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the stream thread and its rebalance hooks share.
pub(crate) struct RebalanceShared {
    /// Next offset to commit per partition, as processed so far (only what was processed and
    /// handed to the producer).
    processed: Mutex<BTreeMap<TopicPartition, i64>>,
    /// Partitions revoked since the thread last looked.
    revoked: Mutex<Vec<TopicPartition>>,
    /// Partitions lost (the member was fenced or expired) since the thread last looked: they
    /// may belong to another member already, so nothing of them is committed.
    lost: Mutex<Vec<TopicPartition>>,
    /// Partitions assigned since the thread last looked.
    assigned: Mutex<Vec<TopicPartition>>,
    producer: Producer,
    /// A rebalance completed (possibly assigning nothing) since the thread last looked.
    rebalanced: AtomicBool,
    /// Exactly-once: offsets are committed only in the thread's transaction, never here.
    exactly_once: bool,
}

impl RebalanceShared {
    /// The state of a thread whose output goes through `producer`.
    pub fn new(producer: Producer, exactly_once: bool) -> Self {
        RebalanceShared {
            processed: Mutex::default(),
            revoked: Mutex::default(),
            lost: Mutex::default(),
            assigned: Mutex::default(),
            producer,
            rebalanced: AtomicBool::new(false),
            exactly_once,
        }
    }

    /// Record the next offsets to commit of processed partitions.
    pub fn processed(&self, offsets: BTreeMap<TopicPartition, i64>) {
        lock(&self.processed).extend(offsets);
    }

    /// `tp` left the thread: nothing to commit for it any more.
    pub fn forget(&self, tp: &TopicPartition) {
        lock(&self.processed).remove(tp);
    }

    /// What changed since the last call.
    pub fn take_changes(&self) -> RebalanceChanges {
        RebalanceChanges {
            revoked: std::mem::take(&mut *lock(&self.revoked)),
            lost: std::mem::take(&mut *lock(&self.lost)),
            assigned: std::mem::take(&mut *lock(&self.assigned)),
            rebalanced: self.rebalanced.swap(false, Ordering::Relaxed),
        }
    }
}

/// The partitions a rebalance moved, as the stream thread applies them.
#[derive(Debug, Default)]
pub(crate) struct RebalanceChanges {
    /// Revoked: their tasks commit, then close.
    pub revoked: Vec<TopicPartition>,
    /// Lost: their tasks close dirty, nothing of them is committed.
    pub lost: Vec<TopicPartition>,
    /// Assigned: their tasks are created.
    pub assigned: Vec<TopicPartition>,
    /// A rebalance completed (possibly moving nothing).
    pub rebalanced: bool,
}

impl RebalanceChanges {
    /// Nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
            && self.lost.is_empty()
            && self.assigned.is_empty()
            && !self.rebalanced
    }
}

/// The listener installed on the thread's consumer.
pub(crate) struct CommitOnRevoke(Arc<RebalanceShared>);

impl CommitOnRevoke {
    pub fn new(shared: Arc<RebalanceShared>) -> Self {
        CommitOnRevoke(shared)
    }
}

impl RebalanceListener for CommitOnRevoke {
    fn on_partitions_revoked<'a>(
        &'a self,
        committer: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if self.0.exactly_once {
                // The thread commits its transaction (offsets included) when it applies the
                // revocation, before this member rejoins: under the cooperative protocol
                // nobody else gets the partitions until then; under the eager one the join
                // waits for the next poll.
                lock(&self.0.revoked).extend_from_slice(partitions);
                return;
            }
            // Every output of a processed record is acknowledged first.
            self.0.producer.flush().await;
            let offsets: BTreeMap<TopicPartition, OffsetAndMetadata> = {
                let processed = lock(&self.0.processed);
                partitions
                    .iter()
                    .filter_map(|tp| {
                        processed
                            .get(tp)
                            .map(|o| (tp.clone(), OffsetAndMetadata::new(*o)))
                    })
                    .collect()
            };
            if !offsets.is_empty() {
                if let Err(e) = committer.commit(&offsets).await {
                    warn!(error = %e, "committing revoked partitions failed; their records may be processed again");
                }
            }
            lock(&self.0.revoked).extend_from_slice(partitions);
        })
    }

    fn on_partitions_assigned<'a>(
        &'a self,
        _c: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            lock(&self.0.assigned).extend_from_slice(partitions);
            // Also when nothing was added: the thread still has to pass through its
            // rebalance states back to Running.
            self.0.rebalanced.store(true, Ordering::Relaxed);
        })
    }

    fn on_partitions_lost<'a>(
        &'a self,
        _c: &'a Committer,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            lock(&self.0.lost).extend_from_slice(partitions);
        })
    }
}
