//! The stream thread's commit: the record caches flushed, then the records acknowledged and
//! the offsets committed through the group (at-least-once) or the transaction committed with
//! the offsets in it (exactly-once, `exactly_once.rs`), then each task's stores committed with
//! the changelog positions they reach; consumed repartition records purged now and then.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_wire::group::offsets::OffsetAndMetadata;
use kafka_wire::protocol::ErrorCode;
use kafka_wire::TopicPartition;
use tracing::{debug, info_span, warn};

use super::StreamThread;
use crate::error::StreamsError;
use crate::runtime::handlers::ErrorHandling;
use crate::runtime::metrics::{STATE, THREAD};
use crate::runtime::restore::WrittenPositions;

impl StreamThread {
    /// Commit every task: flush the record caches, then (at-least-once) wait for every record
    /// sent so far and commit the processed offsets, or (exactly-once) commit the transaction
    /// with the offsets in it; then commit each task's stores with the changelog positions
    /// they reach, and purge consumed repartition records.
    pub(super) fn commit(&mut self) -> Result<(), StreamsError> {
        self.commit_with(false)
    }

    /// [`StreamThread::commit`]; `durable`: every task's stores are committed durably (its
    /// tasks are about to close). Otherwise a task's stores are fsynced at most once per
    /// `statestore.fsync.interval.ms` under exactly-once (which commits every 100 ms by
    /// default), at every commit under at-least-once.
    pub(super) fn commit_with(&mut self, durable: bool) -> Result<(), StreamsError> {
        let _span = info_span!("commit", thread = %self.cx.name).entered();
        let started = Instant::now();
        // The record caches' dirty entries go to their stores and changelogs first.
        let mut cached = Vec::new();
        for task in self.tasks.values_mut() {
            task.flush_caches()?;
            cached.extend(task.take_outgoing());
        }
        self.send(cached)?;
        self.record_store_metrics();
        let offsets: BTreeMap<TopicPartition, OffsetAndMetadata> = self
            .tasks
            .values()
            .filter(|t| t.commit_needed())
            .flat_map(|t| t.offsets_to_commit())
            .map(|(tp, o)| (tp, OffsetAndMetadata::new(o)))
            .collect();
        let flushed_at = started.elapsed();
        let (written, commit_no) = if self.eos {
            self.commit_transaction(&offsets)?
        } else {
            (self.commit_at_least_once(&offsets)?, 0)
        };
        // The stores' writes, with the changelog positions they reach, in one redb transaction
        // per task: a restart restores only what comes after.
        let durable_every = if durable || !self.eos {
            Duration::ZERO
        } else {
            self.cx.config.fsync_interval
        };
        for task in self.tasks.values_mut() {
            task.flush_stores()?;
            task.commit_state(&written, durable_every)?;
        }
        if self.crash.crashes_at(
            crate::runtime::config::CrashPoint::AfterStateCommit,
            commit_no,
        ) {
            crate::runtime::eos::CrashPlan::crash_now(
                crate::runtime::config::CrashPoint::AfterStateCommit,
            );
        }
        self.commit_standbys()?;
        self.report_tasks();
        self.decisions.committed(self.wall_ms());
        debug!(
            took_ms = started.elapsed().as_secs_f64() * 1e3,
            caches_ms = flushed_at.as_secs_f64() * 1e3,
            polled_ms = std::mem::take(&mut self.polled_for).as_secs_f64() * 1e3,
            partitions = offsets.len(),
            "committed"
        );
        self.cx
            .metrics
            .timed(THREAD, "commit", self.thread_tag(), 1, started.elapsed());
        if self.decisions.purge_due(self.wall_ms()) {
            self.purge_repartition(&offsets);
            self.decisions.purged(self.wall_ms());
        }
        Ok(())
    }

    /// The stores' operation counts since the last commit, as metrics.
    fn record_store_metrics(&mut self) {
        let mut store_ops = Vec::new();
        for task in self.tasks.values_mut() {
            store_ops.push((task.id, task.take_store_ops()));
        }
        for (id, ops) in store_ops {
            for (store, o) in ops {
                let tags = vec![
                    ("thread-id", self.cx.name.clone()),
                    ("task-id", id.to_string()),
                    ("store-name", store),
                ];
                self.cx.metrics.count(STATE, "get", tags.clone(), o.gets);
                self.cx.metrics.count(STATE, "put", tags.clone(), o.puts);
                self.cx
                    .metrics
                    .count(STATE, "range", tags.clone(), o.ranges);
                self.cx.metrics.count(STATE, "restore", tags, o.restored);
            }
        }
    }

    /// Wait for every record sent since the last commit: the failures, and per changelog
    /// partition the offset after the last record written. Failed records go to the
    /// dead-letter topic when one is set.
    pub(super) fn settle_deliveries(&mut self) -> (Vec<kafka_wire::Error>, WrittenPositions) {
        let deliveries = std::mem::take(&mut self.deliveries);
        let producer = self.producer.clone();
        let dlq = self.cx.config.dead_letter_topic.clone();
        self.cx.handle.block_on(async move {
            producer.flush().await;
            let mut failures = Vec::new();
            let mut dead = Vec::new();
            let mut written = WrittenPositions::new();
            for (d, copy) in deliveries {
                match d.await {
                    Ok(md) => {
                        if md.offset >= 0 && md.topic.ends_with("-changelog") {
                            let next = written
                                .entry(TopicPartition::new(md.topic, md.partition))
                                .or_insert(0);
                            *next = (*next).max(md.offset + 1);
                        }
                        continue;
                    }
                    Err(e) => {
                        if let (Some(topic), Some(record)) = (&dlq, copy) {
                            dead.push(crate::runtime::handlers::dead_letter_output(
                                topic,
                                *record,
                                &e.to_string(),
                            ));
                        }
                        failures.push(e);
                    }
                }
            }
            // The dead letters of records that could not be produced (KIP-1034).
            for r in dead {
                match producer.send(r).await {
                    Ok(d) => {
                        if let Err(e) = d.await {
                            warn!(error = %e, "a dead letter could not be produced either");
                        }
                    }
                    Err(e) => warn!(error = %e, "a dead letter could not be produced either"),
                }
            }
            (failures, written)
        })
    }

    /// At-least-once: wait for every record sent, then commit `offsets` through the group.
    fn commit_at_least_once(
        &mut self,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<WrittenPositions, StreamsError> {
        let (failures, written) = self.settle_deliveries();
        if let Some(e) = failures.into_iter().next() {
            match self.cx.config.production_handler {
                ErrorHandling::LogAndFail => return Err(StreamsError::Kafka(e)),
                ErrorHandling::LogAndContinue => {
                    warn!(error = %e, "a record could not be produced; continuing (production.exception.handler)")
                }
            }
        }
        if !offsets.is_empty() {
            match self.cx.handle.block_on(self.consumer.commit(offsets)) {
                Ok(()) => {
                    for task in self.tasks.values_mut() {
                        task.committed();
                    }
                    debug!(partitions = offsets.len(), "committed");
                }
                // As Kafka Streams: a commit refused because a rebalance is under way is
                // retried after it (the revoke hook commits what moves); a commit refused
                // because the member was fenced means the tasks migrated, which the next poll
                // reports as lost partitions. Neither stops the thread: the offsets stay
                // uncommitted and their records may be processed again (at-least-once).
                Err(e)
                    if matches!(
                        e.code(),
                        Some(
                            ErrorCode::REBALANCE_IN_PROGRESS
                                | ErrorCode::ILLEGAL_GENERATION
                                | ErrorCode::UNKNOWN_MEMBER_ID
                                | ErrorCode::FENCED_INSTANCE_ID
                        )
                    ) =>
                {
                    warn!(error = %e, "commit not accepted now; retried after the rebalance");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(written)
    }

    /// Delete records of internal topics below the committed offsets (Kafka Streams purges
    /// its repartition topics so they do not grow: `<name>-repartition`, and the
    /// subscription and response topics of foreign-key joins, all created with
    /// `retention.ms=-1`).
    fn purge_repartition(&self, committed: &BTreeMap<TopicPartition, OffsetAndMetadata>) {
        let app = &self.cx.config.application_id;
        let before = purgeable(app, |t| self.cx.topology.is_internal_topic(t), committed);
        if before.is_empty() {
            return;
        }
        if let Err(e) = self
            .cx
            .handle
            .block_on(self.cx.admin.delete_records(&before))
        {
            warn!(error = %e, "purging repartition topics failed; will retry after the next commit");
        }
    }
}

/// The committed positions of the application's internal (repartition-like) topics, below
/// which their records may be deleted: `<application.id>-<t>` for each `t` the topology
/// declares internal (not changelogs, not user topics).
fn purgeable(
    application_id: &str,
    is_internal: impl Fn(&str) -> bool,
    committed: &BTreeMap<TopicPartition, OffsetAndMetadata>,
) -> Vec<(TopicPartition, i64)> {
    let prefix = format!("{application_id}-");
    committed
        .iter()
        .filter(|(tp, _)| tp.topic.strip_prefix(&prefix).is_some_and(&is_internal))
        .map(|(tp, o)| (tp.clone(), o.offset))
        .collect()
}

#[cfg(test)]
mod purge_tests {
    use super::*;

    #[test]
    fn only_the_applications_internal_topics_are_purged() {
        let at = |offset| OffsetAndMetadata {
            offset,
            leader_epoch: None,
            metadata: None,
        };
        let committed: BTreeMap<TopicPartition, OffsetAndMetadata> = [
            ("app-x-repartition", 5),
            (
                "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
                7,
            ),
            ("app-store-changelog", 9),
            ("input", 11),
            ("other-x-repartition", 13),
        ]
        .into_iter()
        .map(|(t, o)| (TopicPartition::new(t, 0), at(o)))
        .collect();
        let internal = [
            "x-repartition",
            "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
        ];
        let got = purgeable("app", |t| internal.contains(&t), &committed);
        assert_eq!(
            got,
            vec![
                (
                    TopicPartition::new(
                        "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
                        0
                    ),
                    7
                ),
                (TopicPartition::new("app-x-repartition", 0), 5),
            ]
        );
    }
}
