//! Restoration: rebuild a task's stores from their changelogs, from the position committed
//! with the store's data (persistent stores) or from the beginning (in-memory stores), to the
//! changelog's end — Kafka Streams' `StoreChangelogReader`, run for one task at a time.
//!
//! Records go to the store in batches of up to 20 000, each committed durably with the
//! position after it in one backend transaction, so a restore interrupted by a crash resumes
//! where it stopped. A position the changelog no longer has — below its log
//! start (retention, compaction, `delete-records`) or past its end (the topic was recreated)
//! — wipes the store and restores from the earliest offset; that is logged, with the reason.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_wire::admin::{Admin, OffsetSpec};
use kafka_wire::consumer::{Consumer, Offset};
use kafka_wire::protocol::ErrorCode;
use kafka_wire::TopicPartition;
use tokio::runtime::Handle;
use tracing::{info, warn};

use super::task::StreamTask;
use crate::error::StreamsError;
use crate::state::ChangelogRecord;

/// Told about each changelog restoration (Kafka's `StateRestoreListener`); set with
/// [`KafkaStreams::set_global_state_restore_listener`](crate::runtime::KafkaStreams::set_global_state_restore_listener).
/// Called on the stream thread: keep it quick.
pub trait StateRestoreListener: Send + Sync {
    /// Restoration of `store` from `changelog` begins at `start` and runs to `end` (exclusive).
    fn on_restore_start(&self, changelog: &TopicPartition, store: &str, start: i64, end: i64) {
        let _ = (changelog, store, start, end);
    }
    /// A batch of `records` was applied; the next offset to read is `next_offset`.
    fn on_batch_restored(
        &self,
        changelog: &TopicPartition,
        store: &str,
        next_offset: i64,
        records: u64,
    ) {
        let _ = (changelog, store, next_offset, records);
    }
    /// Restoration of `store` ended after `total` records.
    fn on_restore_end(&self, changelog: &TopicPartition, store: &str, total: u64) {
        let _ = (changelog, store, total);
    }
    /// `store` of `task` was emptied before restoring it from the changelog's start, for
    /// `reason` (ours; Kafka has no such callback). Under exactly-once this happens only when
    /// the changelog lost the committed position (retention, compaction, a recreated topic).
    fn on_store_wiped(&self, task: crate::TaskId, store: &str, reason: &str) {
        let _ = (task, store, reason);
    }
}

/// How long an exactly-once restoration waits for another producer's transaction on a
/// changelog to be decided (Kafka Streams' producers abort theirs after 10 s; other producers'
/// default `transaction.timeout.ms` is 60 s).
const OPEN_TRANSACTION_WAIT: Duration = Duration::from_secs(120);

/// Records applied to a store in one backend transaction while restoring.
const RESTORE_BATCH: usize = 20_000;

/// What one store's restoration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The store.
    pub store: String,
    /// Its changelog partition.
    pub changelog: TopicPartition,
    /// The offset restoration started at.
    pub start: i64,
    /// The changelog's end when it started.
    pub end: i64,
    /// Records applied.
    pub restored: u64,
    /// Why the store was wiped first, if it was.
    pub wiped: Option<String>,
    /// How long it took.
    pub took: Duration,
}

/// Where a store's restoration starts, given its committed position and the changelog's
/// offsets: `(start, reason to wipe first)`. Pure, for unit tests.
pub(crate) fn restore_start(
    committed: Option<i64>,
    earliest: i64,
    end: i64,
) -> (i64, Option<String>) {
    match committed {
        None => (earliest, None),
        Some(p) if p > end => (
            earliest,
            Some(format!(
                "its committed changelog position {p} is past the changelog's end {end} (was the topic deleted and recreated?)"
            )),
        ),
        Some(p) if p < earliest => (
            earliest,
            Some(format!(
                "its committed changelog position {p} is below the changelog's log start {earliest} (records were removed by retention, compaction or delete-records)"
            )),
        ),
        Some(p) => (p, None),
    }
}

/// Restores tasks through the thread's restore consumer.
pub(crate) struct ChangelogReader<'a> {
    pub consumer: &'a mut Consumer,
    /// Exactly-once: restore up to the last stable offset (the restore consumer reads
    /// `read_committed`), not the high watermark.
    pub read_committed: bool,
    pub admin: &'a Admin,
    pub handle: &'a Handle,
    pub listener: Option<Arc<dyn StateRestoreListener>>,
}

impl ChangelogReader<'_> {
    /// Bring every logged store of `task` up to its changelog's end.
    pub fn restore(&mut self, task: &mut StreamTask) -> Result<Vec<RestoreOutcome>, StreamsError> {
        let changelogs = task.changelog_partitions();
        if changelogs.is_empty() {
            return Ok(Vec::new());
        }
        let mut specs = Vec::new();
        for tp in changelogs.values() {
            specs.push((tp.clone(), OffsetSpec::Earliest));
        }
        let earliest = self.handle.block_on(self.admin.list_offsets(&specs))?;
        let specs: Vec<_> = specs
            .into_iter()
            .map(|(tp, _)| (tp, OffsetSpec::Latest))
            .collect();
        let latest = self.handle.block_on(self.admin.list_offsets(&specs))?;
        let latest = if self.read_committed {
            self.wait_for_decided(task.id, latest)?
        } else {
            latest
        };
        let mut outcomes = Vec::new();
        for (store, tp) in changelogs {
            let earliest = earliest.get(&tp).map_or(0, |o| o.offset.max(0));
            let mut end = latest.get(&tp).map_or(0, |o| o.offset.max(0));
            if let Some(limit) = task.restore_limit(&tp) {
                end = end.min(limit.max(earliest));
            }
            outcomes.push(self.restore_store(task, &store, &tp, earliest, end)?);
        }
        Ok(outcomes)
    }

    /// Exactly-once: the end to restore to is the high watermark, once every transaction
    /// below it is decided. Only a task's owner writes its changelog, so a transaction open
    /// there now is a crashed or fenced previous owner's, which its coordinator aborts within
    /// that producer's `transaction.timeout.ms` (at once if its instance restarts). Until
    /// then the last stable offset stays at its first record — possibly below transactions the
    /// next owner committed after it — and a `read_committed` restore that stopped there would
    /// miss them. So wait for the last stable offset to reach the high watermark seen now.
    fn wait_for_decided(
        &self,
        task: crate::TaskId,
        high: std::collections::BTreeMap<TopicPartition, kafka_wire::admin::ListedOffset>,
    ) -> Result<
        std::collections::BTreeMap<TopicPartition, kafka_wire::admin::ListedOffset>,
        StreamsError,
    > {
        let options = kafka_wire::admin::ListOffsetsOptions {
            isolation_level: kafka_wire::consumer::IsolationLevel::ReadCommitted,
        };
        let started = Instant::now();
        let mut warned: Option<Instant> = None;
        loop {
            let specs: Vec<_> = high
                .keys()
                .map(|tp| (tp.clone(), OffsetSpec::Latest))
                .collect();
            let stable = self
                .handle
                .block_on(self.admin.list_offsets_with(&specs, options))?;
            let open: Vec<(&TopicPartition, i64, i64)> = high
                .iter()
                .filter_map(|(tp, h)| {
                    let lso = stable.get(tp).map_or(0, |o| o.offset);
                    (lso < h.offset).then_some((tp, lso, h.offset))
                })
                .collect();
            let Some((tp, lso, hw)) = open.first().copied() else {
                return Ok(stable);
            };
            if started.elapsed() >= OPEN_TRANSACTION_WAIT {
                return Err(StreamsError::IllegalState(format!(
                    "task {task}: changelog {tp} has had a transaction open for over {} s (its last stable offset {lso} stays below the high watermark {hw}); it belongs to another producer, a crashed or zombie instance of this application, and until its coordinator aborts it (after that producer's transaction.timeout.ms) the store cannot be restored to its committed state",
                    OPEN_TRANSACTION_WAIT.as_secs()
                )));
            }
            if warned.is_none_or(|w| w.elapsed() >= Duration::from_secs(5)) {
                warn!(task = %task, changelog = %tp, last_stable = lso, high_watermark = hw,
                    "another producer's transaction is open on the changelog; waiting for it to be decided before restoring");
                warned = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn restore_store(
        &mut self,
        task: &mut StreamTask,
        store: &str,
        tp: &TopicPartition,
        earliest: i64,
        end: i64,
    ) -> Result<RestoreOutcome, StreamsError> {
        let started = Instant::now();
        let (mut start, mut wiped) =
            restore_start(task.changelog_position(store, tp), earliest, end);
        if let Some(reason) = &wiped {
            warn!(task = %task.id, store, changelog = %tp, "wiping the store and restoring it from offset {earliest}: {reason}");
            task.wipe_store(store)?;
            if let Some(l) = &self.listener {
                l.on_store_wiped(task.id, store, reason);
            }
        }
        let mut restored = 0u64;
        if start < end {
            if let Some(l) = &self.listener {
                l.on_restore_start(tp, store, start, end);
            }
            self.consumer.assign([tp.clone()]);
            self.consumer.seek(tp, Offset::At(start))?;
            let mut pending: Vec<ChangelogRecord> = Vec::new();
            let mut applied_to = start;
            loop {
                let batch = match self
                    .handle
                    // Short: the last fetch may hold only a transaction marker, which moves the
                    // position to the end without returning a record.
                    .block_on(self.consumer.poll(Duration::from_millis(50)))
                {
                    Ok(b) => b,
                    // Truncated while we read (retention ran, delete-records): start over from
                    // the new log start.
                    Err(e) if e.code() == Some(ErrorCode::OFFSET_OUT_OF_RANGE) => {
                        let specs = [(tp.clone(), OffsetSpec::Earliest)];
                        let now_earliest = self
                            .handle
                            .block_on(self.admin.list_offsets(&specs))?
                            .get(tp)
                            .map_or(0, |o| o.offset.max(0));
                        let reason = format!(
                            "offset {start} went out of range while restoring (the changelog now starts at {now_earliest})"
                        );
                        warn!(task = %task.id, store, changelog = %tp, "wiping the store and restoring it again: {reason}");
                        task.wipe_store(store)?;
                        if let Some(l) = &self.listener {
                            l.on_store_wiped(task.id, store, &reason);
                        }
                        wiped = Some(reason);
                        start = now_earliest;
                        restored = 0;
                        pending.clear();
                        applied_to = start;
                        self.consumer.seek(tp, Offset::At(start))?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                for r in batch {
                    if r.offset >= end {
                        continue;
                    }
                    pending.push(ChangelogRecord {
                        key: r.key.unwrap_or_default(),
                        value: r.value,
                        timestamp: r.timestamp,
                    });
                }
                let next = self.consumer.position(tp).unwrap_or(start).min(end);
                // One backend transaction (committed durably) per RESTORE_BATCH records, not
                // per poll: fewer fsyncs, and redb reuses the pages a durable commit frees.
                if pending.len() >= RESTORE_BATCH || (next >= end && next > applied_to) {
                    let n = pending.len() as u64;
                    task.restore(store, &pending)?;
                    task.restored_to(tp, next, true)?;
                    pending.clear();
                    applied_to = next;
                    restored += n;
                    if let Some(l) = &self.listener {
                        l.on_batch_restored(tp, store, next, n);
                    }
                }
                if next >= end {
                    break;
                }
            }
            self.consumer.assign(std::iter::empty::<TopicPartition>());
            if let Some(l) = &self.listener {
                l.on_restore_end(tp, store, restored);
            }
        } else if wiped.is_some() || task.changelog_position(store, tp) != Some(end) {
            // Nothing to read: record the position so the next start knows.
            task.restored_to(tp, end, true)?;
        }
        let took = started.elapsed();
        info!(task = %task.id, store, changelog = %tp, from = start, to = end, records = restored,
              ms = took.as_millis() as u64, wiped = wiped.is_some(), "restored");
        Ok(RestoreOutcome {
            store: store.to_owned(),
            changelog: tp.clone(),
            start,
            end,
            restored,
            wiped,
            took,
        })
    }
}

/// Per changelog partition, the offset after the last record the thread's producer wrote
/// there: what a task commits with its stores' data.
pub(crate) type WrittenPositions = BTreeMap<TopicPartition, i64>;

#[cfg(test)]
mod tests {
    use super::restore_start;

    #[test]
    fn the_start_is_the_committed_position_unless_the_changelog_lost_it() {
        assert_eq!(restore_start(None, 0, 100), (0, None));
        assert_eq!(restore_start(None, 40, 100), (40, None));
        assert_eq!(restore_start(Some(90), 0, 100), (90, None));
        assert_eq!(restore_start(Some(100), 0, 100), (100, None));
        let (start, why) = restore_start(Some(10), 40, 100);
        assert_eq!(start, 40);
        assert!(why.unwrap().contains("below the changelog's log start 40"));
        let (start, why) = restore_start(Some(120), 0, 100);
        assert_eq!(start, 0);
        assert!(why.unwrap().contains("past the changelog's end 100"));
    }
}
