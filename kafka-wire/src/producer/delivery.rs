//! Delivery results shared per batch, as the Java client's `ProduceRequestResult`: one
//! allocation per batch instead of a channel per record. Each record's [`DeliveryFuture`] holds
//! its batch's [`BatchResult`] and its index in the batch; the core settles the batch once, and
//! every future of it resolves from that.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use super::record::RecordMetadata;
use crate::error::{ClientError, Error};
use crate::TopicPartition;

/// How a batch ended.
#[derive(Debug)]
enum Outcome {
    /// Written at `base_offset` (-1 with `acks=0`); `log_append_time` is -1 for CreateTime
    /// topics.
    Written {
        base_offset: i64,
        log_append_time: i64,
    },
    /// Not written.
    Failed(Error),
}

/// The outcome of one batch, shared by the futures of its records.
#[derive(Debug)]
pub(crate) struct BatchResult {
    tp: TopicPartition,
    outcome: OnceLock<Outcome>,
    /// Futures that were polled before the outcome was known.
    wakers: Mutex<Vec<Waker>>,
}

impl BatchResult {
    /// A batch of `tp` whose outcome is not known yet.
    pub fn new(tp: TopicPartition) -> Arc<Self> {
        Arc::new(BatchResult {
            tp,
            outcome: OnceLock::new(),
            wakers: Mutex::new(Vec::new()),
        })
    }

    /// The batch was written (the first outcome set is the one that counts).
    pub fn written(&self, base_offset: i64, log_append_time: i64) {
        self.settle(Outcome::Written {
            base_offset,
            log_append_time,
        });
    }

    /// The batch failed with `err`.
    pub fn failed(&self, err: Error) {
        self.settle(Outcome::Failed(err));
    }

    /// Whether the outcome is known.
    pub fn is_settled(&self) -> bool {
        self.outcome.get().is_some()
    }

    fn settle(&self, outcome: Outcome) {
        if self.outcome.set(outcome).is_ok() {
            let wakers =
                std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|p| p.into_inner()));
            for w in wakers {
                w.wake();
            }
        }
    }

    fn metadata(&self, index: u32, timestamp: i64) -> Option<Result<RecordMetadata, Error>> {
        Some(match self.outcome.get()? {
            Outcome::Written {
                base_offset,
                log_append_time,
            } => Ok(RecordMetadata {
                topic: self.tp.topic.clone(),
                partition: self.tp.partition,
                offset: if *base_offset >= 0 {
                    base_offset + i64::from(index)
                } else {
                    -1
                },
                timestamp: if *log_append_time >= 0 {
                    *log_append_time
                } else {
                    timestamp
                },
            }),
            Outcome::Failed(e) => Err(e.clone()),
        })
    }
}

/// Resolves when the record is written (or finally failed).
#[derive(Debug)]
pub struct DeliveryFuture {
    batch: Arc<BatchResult>,
    index: u32,
    timestamp: i64,
}

impl DeliveryFuture {
    /// The future of record `index` (with `timestamp`) of `batch`.
    pub(crate) fn new(batch: Arc<BatchResult>, index: u32, timestamp: i64) -> Self {
        DeliveryFuture {
            batch,
            index,
            timestamp,
        }
    }
}

impl DeliveryFuture {
    /// Whether this record and `other` went into the same batch: they are written or fail
    /// together, and the one appended later has the higher offset. A caller keeping futures
    /// only to learn outcomes and last offsets needs one per batch.
    pub fn same_batch(&self, other: &DeliveryFuture) -> bool {
        Arc::ptr_eq(&self.batch, &other.batch)
    }

    /// A future that has already failed with `err`.
    pub(crate) fn failed(tp: TopicPartition, err: Error) -> Self {
        let batch = BatchResult::new(tp);
        batch.failed(err);
        DeliveryFuture::new(batch, 0, 0)
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(r) = self.batch.metadata(self.index, self.timestamp) {
            return Poll::Ready(r);
        }
        let mut wakers = self.batch.wakers.lock().unwrap_or_else(|p| p.into_inner());
        // Settled between the first look and the lock: `settle` takes the wakers after it
        // sets the outcome, so looking again under the lock cannot miss it.
        if let Some(r) = self.batch.metadata(self.index, self.timestamp) {
            return Poll::Ready(r);
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A batch dropped without an outcome (the producer was dropped): its records fail.
pub(crate) fn fail_unsettled(result: &BatchResult) {
    if !result.is_settled() {
        result.failed(ClientError::ProducerDropped.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(f: &mut DeliveryFuture) -> Poll<Result<RecordMetadata, Error>> {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(f).poll(&mut cx)
    }

    #[test]
    fn every_record_of_a_batch_resolves_from_one_outcome() {
        let batch = BatchResult::new(TopicPartition::new("t", 3));
        let mut first = DeliveryFuture::new(batch.clone(), 0, 100);
        let mut third = DeliveryFuture::new(batch.clone(), 2, 102);
        assert!(poll(&mut first).is_pending());
        batch.written(40, -1);
        batch.failed(ClientError::ProducerClosed.into()); // too late: the first outcome holds
        match (poll(&mut first), poll(&mut third)) {
            (Poll::Ready(Ok(a)), Poll::Ready(Ok(c))) => {
                assert_eq!((a.partition, a.offset, a.timestamp), (3, 40, 100));
                assert_eq!((c.offset, c.timestamp), (42, 102));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dropped_batch_fails_its_records() {
        let batch = BatchResult::new(TopicPartition::new("t", 0));
        let mut f = DeliveryFuture::new(batch.clone(), 0, 1);
        fail_unsettled(&batch);
        match poll(&mut f) {
            Poll::Ready(Err(Error::Client(ClientError::ProducerDropped))) => {}
            other => panic!("{other:?}"),
        }
    }
}
