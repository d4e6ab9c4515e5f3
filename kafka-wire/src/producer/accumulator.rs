//! The record accumulator: per-partition queues of batches waiting to be sent.
//!
//! No I/O: `send` appends records, the sender asks which partitions are ready (a full batch,
//! `linger.ms` passed, a flush, or a retry whose backoff ended), drains their first batch, and
//! puts failed batches back in sequence order. Expiry by `delivery.timeout.ms` is decided here
//! too. The ready pass also reports how many batches wait per partition ([`QueueLengths`]):
//! the load statistics of adaptive partitioning.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::delivery::{self, BatchResult, DeliveryFuture};
use super::idempotence::BatchSequence;
use super::partitioner::QueueLengths;
use crate::error::Error;
use crate::protocol::batch_builder::{BatchBuilder, ProducerFields};
use crate::protocol::record_batch::Record;
use crate::TopicPartition;

/// A batch of records for one partition.
#[derive(Debug)]
pub(crate) struct ProducerBatch {
    pub tp: TopicPartition,
    /// The records, encoded as they were appended (taken when the batch is first encoded).
    pub builder: BatchBuilder,
    /// How many records the batch holds.
    pub record_count: usize,
    /// The outcome every record's [`DeliveryFuture`] resolves from.
    pub result: Arc<BatchResult>,
    /// Estimated encoded size; also the buffer memory it holds.
    pub size: usize,
    pub created: Instant,
    pub attempts: u32,
    pub retry_at: Option<Instant>,
    /// Idempotence fields, once assigned.
    pub sequence: Option<BatchSequence>,
    /// The closed batch and the producer fields in its header, kept for retries (its header is
    /// rewritten when an epoch bump renumbers it).
    pub encoded: Option<(Bytes, ProducerFields)>,
    /// Why the last attempt failed (reported if the batch then expires).
    pub last_error: Option<Error>,
}

/// Bytes a RecordBatch header takes, counted in [`ProducerBatch::size`] but not reserved from
/// `buffer.memory` (which holds the records' own sizes).
pub const BATCH_OVERHEAD: usize = 61;

impl ProducerBatch {
    /// The `buffer.memory` this batch holds: what `send` reserved for its records.
    pub fn reserved(&self) -> usize {
        self.size.saturating_sub(BATCH_OVERHEAD)
    }

    /// An empty batch with room for `capacity` bytes of records before its buffer grows.
    fn new(tp: TopicPartition, now: Instant, capacity: usize) -> Self {
        ProducerBatch {
            result: BatchResult::new(tp.clone()),
            tp,
            builder: BatchBuilder::with_capacity(capacity),
            record_count: 0,
            size: BATCH_OVERHEAD,
            created: now,
            attempts: 0,
            retry_at: None,
            sequence: None,
            encoded: None,
            last_error: None,
        }
    }

    /// The batch was written at `base_offset` (-1 with `acks=0`; `log_append_time` -1 for
    /// CreateTime topics): its records' futures resolve.
    pub fn complete(self, base_offset: i64, log_append_time: i64) {
        self.result.written(base_offset, log_append_time);
    }

    /// Fail every record of the batch with `err`.
    pub fn fail(self, err: Error) {
        self.result.failed(err);
    }
}

impl Drop for ProducerBatch {
    /// A batch dropped without an outcome (the producer itself was dropped): its records fail.
    fn drop(&mut self) {
        delivery::fail_unsettled(&self.result);
    }
}

/// Per-partition batch queues.
#[derive(Debug)]
pub(crate) struct Accumulator {
    batch_size: usize,
    linger: Duration,
    queues: BTreeMap<TopicPartition, VecDeque<ProducerBatch>>,
    records: usize,
}

impl Accumulator {
    pub fn new(batch_size: usize, linger: Duration) -> Self {
        Accumulator {
            batch_size,
            linger,
            queues: BTreeMap::new(),
            records: 0,
        }
    }

    /// Records waiting (not yet handed to the sender).
    pub fn len(&self) -> usize {
        self.records
    }

    /// Append a record, encoding it into its batch at once (its key and value buffers are
    /// released here, on the caller's thread); returns true when the sender should look again:
    /// a new batch was started (its linger deadline is new) or a batch is full.
    pub fn append(
        &mut self,
        tp: &TopicPartition,
        record: Record,
        size: usize,
        now: Instant,
    ) -> (bool, DeliveryFuture) {
        // Look up before inserting: no key clone on the per-record path.
        if !self.queues.contains_key(tp) {
            self.queues.insert(tp.clone(), VecDeque::new());
        }
        let Some(queue) = self.queues.get_mut(tp) else {
            // Cannot happen (inserted just above); the record fails rather than panics.
            let err = Error::InvalidArgument(format!("no queue for {tp}"));
            return (false, DeliveryFuture::failed(tp.clone(), err));
        };
        let fits = queue.back().is_some_and(|b| {
            b.sequence.is_none()
                && b.attempts == 0
                && b.encoded.is_none()
                && (b.record_count == 0 || b.size + size <= self.batch_size)
        });
        if !fits {
            // Room for a whole batch.size, up to 64 KiB: a batch that grows past it doubles.
            // (Reserving a whole 1 MB batch — kw's — up front cost an mmap and its page faults
            // each under musl's allocator: 0.7 s of system time per million records.)
            let capacity = self.batch_size.min(64 * 1024);
            queue.push_back(ProducerBatch::new(tp.clone(), now, capacity));
        }
        let started = !fits;
        let Some(batch) = queue.back_mut() else {
            // Cannot happen (ensured just above); the record fails rather than panics.
            let err = Error::InvalidArgument(format!("no open batch for {tp}"));
            return (false, DeliveryFuture::failed(tp.clone(), err));
        };
        let index = match batch.builder.append(
            record.timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        ) {
            Ok(i) => i,
            Err(e) => {
                let err = Error::InvalidArgument(format!("could not add a record to {tp}: {e}"));
                return (false, DeliveryFuture::failed(tp.clone(), err));
            }
        };
        let delivery = DeliveryFuture::new(
            batch.result.clone(),
            u32::try_from(index).unwrap_or(u32::MAX),
            record.timestamp,
        );
        batch.record_count += 1;
        batch.size += size;
        self.records += 1;
        (started || batch.size >= self.batch_size, delivery)
    }

    /// Partitions whose first batch may be sent now, and the earliest time another may become
    /// ready. With `loads`, also the number of batches queued per partition (cleared first;
    /// partitions with nothing queued are absent), for adaptive partitioning.
    pub fn ready(
        &self,
        now: Instant,
        flushing: bool,
        mut loads: Option<&mut QueueLengths>,
    ) -> (Vec<TopicPartition>, Option<Instant>) {
        let mut ready = Vec::new();
        let mut next: Option<Instant> = None;
        if let Some(loads) = loads.as_deref_mut() {
            loads.clear();
        }
        for (tp, queue) in &self.queues {
            let Some(first) = queue.front() else { continue };
            if let Some(loads) = loads.as_deref_mut() {
                loads.push(&tp.topic, tp.partition, queue.len());
            }
            let due = match first.retry_at {
                Some(at) => at,
                None if queue.len() > 1 || first.size >= self.batch_size || flushing => now,
                None => first.created + self.linger,
            };
            if due <= now {
                ready.push(tp.clone());
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        (ready, next)
    }

    /// When the oldest queued batch was created (it expires first).
    pub fn oldest(&self) -> Option<Instant> {
        self.queues
            .values()
            .filter_map(|q| q.front().map(|b| b.created))
            .min()
    }

    /// Take the first batch of `tp`.
    pub fn drain(&mut self, tp: &TopicPartition) -> Option<ProducerBatch> {
        let queue = self.queues.get_mut(tp)?;
        let batch = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(tp);
        }
        self.records -= batch.record_count;
        Some(batch)
    }

    /// Take every queued batch (a transaction is aborted: they must not be sent).
    pub fn drain_all(&mut self) -> Vec<ProducerBatch> {
        self.records = 0;
        std::mem::take(&mut self.queues)
            .into_values()
            .flatten()
            .collect()
    }

    /// Put a batch back to be retried, before every batch with a later (or no) sequence.
    pub fn requeue(&mut self, batch: ProducerBatch) {
        self.records += batch.record_count;
        let queue = self.queues.entry(batch.tp.clone()).or_default();
        let seq = batch.sequence.map(|s| s.base_sequence);
        let pos = queue
            .iter()
            .position(|b| match (b.sequence.map(|s| s.base_sequence), seq) {
                (Some(other), Some(mine)) => other > mine,
                (None, _) => true,
                (Some(_), None) => false,
            })
            .unwrap_or(queue.len());
        queue.insert(pos, batch);
    }

    /// Apply a renumbering after an epoch bump; their headers are rewritten when next sent.
    pub fn renumber(&mut self, tp: &TopicPartition, old: i32, new: i32, seq: BatchSequence) {
        if let Some(queue) = self.queues.get_mut(tp) {
            for b in queue.iter_mut() {
                if b.sequence.is_some_and(|s| s.base_sequence == old) {
                    b.sequence = Some(BatchSequence {
                        base_sequence: new,
                        ..seq
                    });
                }
            }
        }
    }

    /// Remove batches that have waited longer than `delivery_timeout` (never sent, or waiting
    /// for a retry).
    pub fn expire(&mut self, now: Instant, delivery_timeout: Duration) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        for queue in self.queues.values_mut() {
            while queue
                .front()
                .is_some_and(|b| now.saturating_duration_since(b.created) >= delivery_timeout)
            {
                if let Some(b) = queue.pop_front() {
                    expired.push(b);
                }
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
        self.records -= expired.iter().map(|b| b.record_count).sum::<usize>();
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Record {
        Record {
            value: Some(Bytes::from_static(b"v")),
            ..Default::default()
        }
    }

    #[test]
    fn a_batch_is_ready_when_full_or_lingered() {
        let now = Instant::now();
        let tp = TopicPartition::new("t", 0);
        let mut acc = Accumulator::new(100, Duration::from_millis(10));
        assert!(
            acc.append(&tp, rec(), 20, now).0,
            "a new batch wakes the sender"
        );
        assert!(acc.ready(now, false, None).0.is_empty());
        assert_eq!(
            acc.ready(now, false, None).1,
            Some(now + Duration::from_millis(10))
        );
        assert_eq!(
            acc.ready(now + Duration::from_millis(10), false, None).0,
            vec![tp.clone()]
        );
        assert_eq!(
            acc.ready(now, true, None).0,
            vec![tp.clone()],
            "flush sends at once"
        );
        assert!(acc.append(&tp, rec(), 19, now).0, "full at batch.size");
        assert_eq!(acc.ready(now, false, None).0, vec![tp.clone()]);
        let b = acc.drain(&tp).unwrap();
        assert_eq!(b.record_count, 2);
        assert_eq!(b.builder.record_count(), 2);
        assert_eq!(acc.len(), 0);
    }

    #[test]
    fn the_ready_pass_reports_queue_lengths() {
        let now = Instant::now();
        let mut acc = Accumulator::new(100, Duration::from_secs(1));
        let a1 = TopicPartition::new("a", 1);
        let a3 = TopicPartition::new("a", 3);
        let b0 = TopicPartition::new("b", 0);
        for _ in 0..3 {
            acc.append(&a3, rec(), 40, now); // one full batch each
        }
        acc.append(&a1, rec(), 5, now); // lingering
        acc.append(&b0, rec(), 40, now); // full
        let mut loads = QueueLengths::default();
        loads.push("stale", 0, 9);
        let (ready, _) = acc.ready(now, false, Some(&mut loads));
        assert_eq!(ready, vec![a3.clone(), b0.clone()]);
        assert_eq!(loads.get("a"), Some(&[(1, 1), (3, 3)][..]));
        assert_eq!(loads.len_of("b", 0), 1);
        assert_eq!(loads.get("stale"), None, "cleared before the pass");
        acc.drain(&a3);
        acc.ready(now, false, Some(&mut loads));
        assert_eq!(loads.len_of("a", 3), 2);
    }

    #[test]
    fn retries_go_back_in_sequence_order() {
        let now = Instant::now();
        let tp = TopicPartition::new("t", 0);
        let mut acc = Accumulator::new(10, Duration::ZERO);
        for _ in 0..3 {
            acc.append(&tp, rec(), 10, now);
        }
        let id = super::super::idempotence::ProducerIdAndEpoch {
            producer_id: 1,
            epoch: 0,
        };
        let mut a = acc.drain(&tp).unwrap();
        let mut b = acc.drain(&tp).unwrap();
        a.sequence = Some(BatchSequence {
            id,
            base_sequence: 0,
        });
        b.sequence = Some(BatchSequence {
            id,
            base_sequence: 1,
        });
        acc.requeue(b);
        acc.requeue(a);
        let first = acc.drain(&tp).unwrap();
        assert_eq!(first.sequence.unwrap().base_sequence, 0);
        assert_eq!(acc.drain(&tp).unwrap().sequence.unwrap().base_sequence, 1);
        assert!(acc.drain(&tp).unwrap().sequence.is_none());
    }

    #[test]
    fn old_batches_expire() {
        let now = Instant::now();
        let tp = TopicPartition::new("t", 0);
        let mut acc = Accumulator::new(100, Duration::ZERO);
        acc.append(&tp, rec(), 10, now);
        assert!(acc.expire(now, Duration::from_secs(1)).is_empty());
        assert_eq!(
            acc.expire(now + Duration::from_secs(1), Duration::from_secs(1))
                .len(),
            1
        );
        assert_eq!(acc.len(), 0);
    }
}
