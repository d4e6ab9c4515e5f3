//! `isolation.level=read_committed`: dropping the records of aborted transactions.
//!
//! A plain filter over the batches of one partition fetch, fed with the fetch response's
//! aborted-transaction list (producer id + first offset of each aborted transaction below the
//! last stable offset), as the Java client's `CompletedFetch` does:
//! * before each batch, every aborted transaction that starts at or before the batch's last
//!   offset marks its producer as aborted;
//! * a transactional batch of an aborted producer is dropped;
//! * the producer's ABORT marker (a control batch) ends that, and control batches themselves
//!   are never handed to the application.

use std::collections::{BTreeSet, HashSet};

use crate::protocol::record_batch::{ControlRecordType, RecordBatch};

/// Decides which batches of one partition fetch reach the application.
#[derive(Debug, Default)]
pub struct AbortedTransactionFilter {
    /// (first offset, producer id), in offset order.
    pending: BTreeSet<(i64, i64)>,
    aborted_producers: HashSet<i64>,
    read_committed: bool,
}

impl AbortedTransactionFilter {
    /// A filter for `read_uncommitted` (only control batches are dropped).
    pub fn read_uncommitted() -> Self {
        Self::default()
    }

    /// A filter for `read_committed` with the response's aborted transactions
    /// `(producer id, first offset)`.
    pub fn read_committed(aborted: impl IntoIterator<Item = (i64, i64)>) -> Self {
        AbortedTransactionFilter {
            pending: aborted
                .into_iter()
                .map(|(pid, first)| (first, pid))
                .collect(),
            aborted_producers: HashSet::new(),
            read_committed: true,
        }
    }

    /// Whether the records of `batch` go to the application. Call for every batch, in order.
    pub fn keep(&mut self, batch: &RecordBatch) -> bool {
        if self.read_committed {
            let last = batch.base_offset + i64::from(batch.last_offset_delta);
            while let Some(&(first, pid)) = self.pending.first() {
                if first > last {
                    break;
                }
                self.pending.pop_first();
                self.aborted_producers.insert(pid);
            }
        }
        if batch.is_control {
            if batch.control_type() == Some(ControlRecordType::Abort) {
                self.aborted_producers.remove(&batch.producer_id);
            }
            return false;
        }
        !(self.read_committed
            && batch.is_transactional
            && self.aborted_producers.contains(&batch.producer_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::record_batch::{control_batch, Record};

    fn txn_batch(pid: i64, offset: i64) -> RecordBatch {
        RecordBatch {
            base_offset: offset,
            producer_id: pid,
            is_transactional: true,
            records: vec![Record {
                offset,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn aborted_records_and_markers_are_dropped() {
        // pid 1 aborts offsets 0..=1 (marker at 2), pid 2 commits 3 (marker at 4),
        // pid 1 starts a new committed transaction at 5 (marker at 6).
        let log = [
            txn_batch(1, 0),
            txn_batch(1, 1),
            control_batch(false, 1, 0, 0, 2, 0),
            txn_batch(2, 3),
            control_batch(true, 2, 0, 0, 4, 0),
            txn_batch(1, 5),
            control_batch(true, 1, 0, 0, 6, 0),
        ];
        let mut f = AbortedTransactionFilter::read_committed([(1, 0)]);
        let kept: Vec<i64> = log
            .iter()
            .filter(|b| f.keep(b))
            .map(|b| b.base_offset)
            .collect();
        assert_eq!(kept, vec![3, 5]);
        let mut f = AbortedTransactionFilter::read_uncommitted();
        let kept: Vec<i64> = log
            .iter()
            .filter(|b| f.keep(b))
            .map(|b| b.base_offset)
            .collect();
        assert_eq!(kept, vec![0, 1, 3, 5]);
    }

    #[test]
    fn non_transactional_batches_of_the_same_producer_id_stay() {
        let mut plain = txn_batch(1, 1);
        plain.is_transactional = false;
        let mut f = AbortedTransactionFilter::read_committed([(1, 0)]);
        assert!(!f.keep(&txn_batch(1, 0)));
        assert!(f.keep(&plain));
    }
}
