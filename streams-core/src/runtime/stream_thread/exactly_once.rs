//! The stream thread under `processing.guarantee=exactly_once_v2`: its transactional producer,
//! the transactional commit, and recovery from an aborted transaction or a fenced producer by
//! closing every task dirty and creating it again from the last commit. The ordering of the
//! Kafka and redb transactions, and why it survives a crash anywhere, is explained in
//! [`crate::runtime::eos`].

use std::collections::BTreeMap;

use kafka_wire::consumer::{Offset, OffsetReset};
use kafka_wire::group::offsets::OffsetAndMetadata;
use kafka_wire::producer::{Producer, ProducerConfig};
use kafka_wire::TopicPartition;
use tracing::{info, warn};

use super::StreamThread;
use crate::error::StreamsError;
use crate::runtime::config::CrashPoint;
use crate::runtime::eos::{recovery_for, CrashPlan, TxnRecovery};
use crate::runtime::restore::WrittenPositions;
use crate::TaskId;

/// The `transactional.id` of stream thread `index` of process `process_id` (Kafka Streams'
/// `<application.id>-<process id>-<thread index>`).
pub(super) fn transactional_id(application_id: &str, process_id: &str, index: usize) -> String {
    format!("{application_id}-{process_id}-{index}")
}

/// Connect a transactional producer and register its `transactional.id` (which fences an
/// older producer with the same id and aborts the transaction it left open).
pub(super) async fn connect_transactional(
    config: ProducerConfig,
) -> Result<Producer, kafka_wire::Error> {
    let producer = Producer::connect(config).await?;
    producer.init_transactions().await?;
    Ok(producer)
}

impl StreamThread {
    /// Begin the thread's transaction unless one is open (before the first send of it).
    pub(super) fn ensure_transaction(&mut self) -> Result<(), StreamsError> {
        if self.eos && !self.txn_open {
            self.producer.begin_transaction()?;
            self.txn_open = true;
        }
        Ok(())
    }

    /// The transactional part of a commit: `offsets` join the transaction, which commits.
    /// Returns the changelog positions the committed records reach, per partition.
    pub(super) fn commit_transaction(
        &mut self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<(WrittenPositions, u64), StreamsError> {
        let commit_no = if !offsets.is_empty() || self.txn_open {
            self.crash.count_commit()
        } else {
            0
        };
        if !offsets.is_empty() {
            self.ensure_transaction()?;
            let group = self.consumer.group_metadata().ok_or_else(|| {
                StreamsError::IllegalState(
                    "the main consumer has no group to commit offsets in".into(),
                )
            })?;
            let producer = self.producer.clone();
            self.cx
                .handle
                .block_on(async { producer.send_offsets_to_transaction(offsets, &group).await })?;
        }
        if self.txn_open {
            if self.crash.crashes_at(CrashPoint::BeforeEndTxn, commit_no) {
                CrashPlan::crash_now(CrashPoint::BeforeEndTxn);
            }
            let producer = self.producer.clone();
            self.cx
                .handle
                .block_on(async { producer.commit_transaction().await })?;
            self.txn_open = false;
            if self.crash.crashes_at(CrashPoint::AfterEndTxn, commit_no) {
                CrashPlan::crash_now(CrashPoint::AfterEndTxn);
            }
        }
        // Every record of the transaction was acknowledged before EndTxn.
        let (failures, written) = self.settle_deliveries();
        if let Some(e) = failures.into_iter().next() {
            return Err(StreamsError::Kafka(e));
        }
        for task in self.tasks.values_mut() {
            task.committed();
        }
        Ok((written, commit_no))
    }

    /// Handle `error` raised while processing or committing under exactly-once: abort the
    /// transaction (or replace a fenced producer), close every task dirty and create it
    /// again from the last commit. An error that is no transaction outcome is returned.
    pub(super) fn recover_transaction(&mut self, error: StreamsError) -> Result<(), StreamsError> {
        let recovery = match &error {
            StreamsError::Kafka(e) => recovery_for(e),
            _ => TxnRecovery::Fail,
        };
        if recovery == TxnRecovery::Fail {
            return Err(error);
        }
        warn!(thread = %self.cx.name, error = %error, ?recovery,
            "the transaction failed: its tasks go back to the last commit (closed dirty, created again)");
        self.abort_and_revive(recovery == TxnRecovery::NewProducerAndRevive)
    }

    /// Abort the open transaction (or, if `renew` or the abort fails, replace the producer),
    /// then close every task dirty and create it again from its last commit.
    pub(super) fn abort_and_revive(&mut self, mut renew: bool) -> Result<(), StreamsError> {
        self.deliveries.clear();
        if self.txn_open && !renew {
            let producer = self.producer.clone();
            if let Err(e) = self
                .cx
                .handle
                .block_on(async { producer.abort_transaction().await })
            {
                warn!(error = %e, "aborting the transaction failed; replacing the producer");
                renew = true;
            }
        }
        self.txn_open = false;
        if renew {
            self.renew_producer()?;
        }
        self.revive_tasks()?;
        self.cx.metrics.count(
            crate::runtime::metrics::THREAD,
            "transaction-aborted",
            self.thread_tag(),
            1,
        );
        Ok(())
    }

    /// Replace the producer by a new one with the same `transactional.id`.
    fn renew_producer(&mut self) -> Result<(), StreamsError> {
        let old = self.producer.clone();
        let handle = self.cx.handle.clone();
        if let Err(e) = handle.block_on(old.close()) {
            warn!(error = %e, "closing the fenced producer failed");
        }
        let config = self.producer_config()?;
        self.producer = handle.block_on(connect_transactional(config))?;
        info!(thread = %self.cx.name, "transactional producer replaced");
        Ok(())
    }

    /// Close every active task dirty (its stores back at their last commit) and create it
    /// again, its input rewound to the committed offsets.
    pub(super) fn revive_tasks(&mut self) -> Result<(), StreamsError> {
        let tasks = std::mem::take(&mut self.tasks);
        let mut again: Vec<(TaskId, Vec<TopicPartition>)> = Vec::new();
        for (id, task) in tasks {
            again.push((id, task.partitions()));
            self.close_task(task, false);
        }
        for (id, partitions) in again {
            self.rewind_to_committed(&partitions)?;
            self.create_task(id, partitions)?;
            info!(task = %id, "task created again from its last commit");
        }
        self.report_tasks();
        Ok(())
    }

    /// Seek `partitions` to the group's committed offsets (or, without one, by
    /// `auto.offset.reset`; a source's own policy is applied when the task is created).
    fn rewind_to_committed(&mut self, partitions: &[TopicPartition]) -> Result<(), StreamsError> {
        let committed = self
            .cx
            .handle
            .block_on(self.consumer.committed(partitions))?;
        let reset = self
            .cx
            .config
            .main_consumer(&self.cx.name, None)?
            .auto_offset_reset;
        for tp in partitions {
            let to = match (committed.get(tp), reset) {
                (Some(o), _) => Offset::At(o.offset),
                (None, OffsetReset::Latest) => Offset::End,
                (None, _) => Offset::Beginning,
            };
            self.consumer.seek(tp, to)?;
        }
        Ok(())
    }

    /// Abort the open transaction of a thread that stops uncleanly.
    pub(super) fn abort_open_transaction(&mut self) {
        if !self.txn_open {
            return;
        }
        let producer = self.producer.clone();
        if let Err(e) = self
            .cx
            .handle
            .block_on(async { producer.abort_transaction().await })
        {
            warn!(error = %e, "aborting the transaction at shutdown failed; the coordinator aborts it after transaction.timeout.ms");
        }
        self.txn_open = false;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn transactional_ids_are_kafka_streams_ones() {
        assert_eq!(
            super::transactional_id("app", "0f8fad5b-d9cb-469f-a165-70867728950e", 2),
            "app-0f8fad5b-d9cb-469f-a165-70867728950e-2"
        );
    }
}
