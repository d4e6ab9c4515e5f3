//! Fetched records waiting to be returned by `poll`, one queue per partition.
//!
//! A plain value (no I/O): the consumer pushes each partition's fetched records and takes
//! them out with [`FetchBuffer::drain`] (up to `max.poll.records`, shared fairly across the
//! partitions that have records) or [`FetchBuffer::pop`] (one record at a time, rotating over
//! partitions). Which partitions may be returned is the caller's predicate: a paused
//! partition keeps its queue, untouched, until it is resumed. Records of one partition always
//! leave in offset order.

use std::collections::VecDeque;

use super::ConsumerRecord;
use crate::TopicPartition;

/// Per-record bookkeeping counted on top of key, value and header bytes when estimating how
/// much fetched data the buffer holds (about the size of a record's wire framing).
pub const RECORD_OVERHEAD: usize = 16;

/// The estimated size of a fetched record: key, value, header keys and values, plus
/// [`RECORD_OVERHEAD`].
pub fn record_bytes(r: &ConsumerRecord) -> usize {
    let headers: usize = r
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
        .sum();
    r.key.as_ref().map_or(0, |k| k.len())
        + r.value.as_ref().map_or(0, |v| v.len())
        + headers
        + RECORD_OVERHEAD
}

/// A partition's buffered records as its fetches delivered them: the decoded lists
/// themselves, taken from the front. A record moves once, from its fetch's list to the caller;
/// a list's memory goes as soon as its last record is taken.
#[derive(Debug, Default)]
struct Chunks {
    chunks: VecDeque<std::vec::IntoIter<ConsumerRecord>>,
    len: usize,
}

impl Chunks {
    fn push(&mut self, records: Vec<ConsumerRecord>) {
        if !records.is_empty() {
            self.len += records.len();
            self.chunks.push_back(records.into_iter());
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn front(&self) -> Option<&ConsumerRecord> {
        self.chunks.iter().find_map(|c| c.as_slice().first())
    }

    fn pop_front(&mut self) -> Option<ConsumerRecord> {
        loop {
            let chunk = self.chunks.front_mut()?;
            match chunk.next() {
                Some(r) => {
                    self.len -= 1;
                    if chunk.len() == 0 {
                        self.chunks.pop_front();
                    }
                    return Some(r);
                }
                None => {
                    self.chunks.pop_front();
                }
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = &ConsumerRecord> {
        self.chunks.iter().flat_map(|c| c.as_slice().iter())
    }
}

#[derive(Debug)]
struct PartitionQueue {
    tp: TopicPartition,
    records: Chunks,
    bytes: usize,
}

/// Records fetched but not yet returned to the application, queued per partition.
#[derive(Debug, Default)]
pub struct FetchBuffer {
    queues: Vec<PartitionQueue>,
    /// The queue the next `drain` or `pop` starts at (rotates for fairness).
    cursor: usize,
    bytes: usize,
    len: usize,
}

/// The records of one poll, grouped by partition (Java's `ConsumerRecords`): each
/// partition's records are in offset order, so a caller can pick the next record across
/// partitions by timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerRecords {
    batches: Vec<(TopicPartition, Vec<ConsumerRecord>)>,
}

impl ConsumerRecords {
    /// The partitions with records in this poll.
    pub fn partitions(&self) -> impl Iterator<Item = &TopicPartition> {
        self.batches.iter().map(|(tp, _)| tp)
    }

    /// The records of `tp` in this poll, in offset order (empty if none).
    pub fn records(&self, tp: &TopicPartition) -> &[ConsumerRecord] {
        self.batches
            .iter()
            .find(|(t, _)| t == tp)
            .map_or(&[], |(_, r)| r.as_slice())
    }

    /// The number of records over all partitions.
    pub fn len(&self) -> usize {
        self.batches.iter().map(|(_, r)| r.len()).sum()
    }

    /// Whether the poll returned nothing.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Every record, partition by partition.
    pub fn iter(&self) -> impl Iterator<Item = &ConsumerRecord> {
        self.batches.iter().flat_map(|(_, r)| r.iter())
    }

    /// The per-partition batches, in the order they were taken from the buffer.
    pub fn into_batches(self) -> Vec<(TopicPartition, Vec<ConsumerRecord>)> {
        self.batches
    }

    /// Group `records` by partition, keeping their order within each partition.
    pub fn from_records(records: impl IntoIterator<Item = ConsumerRecord>) -> Self {
        let mut out = ConsumerRecords::default();
        for r in records {
            match out
                .batches
                .iter_mut()
                .rfind(|(tp, _)| tp.partition == r.partition && *tp.topic == *r.topic)
            {
                Some((_, v)) => v.push(r),
                None => out
                    .batches
                    .push((TopicPartition::new(&*r.topic, r.partition), vec![r])),
            }
        }
        out
    }

    fn push(&mut self, tp: &TopicPartition, records: impl Iterator<Item = ConsumerRecord>) {
        match self.batches.iter_mut().find(|(t, _)| t == tp) {
            Some((_, v)) => v.extend(records),
            None => self.batches.push((tp.clone(), records.collect())),
        }
    }
}

impl IntoIterator for ConsumerRecords {
    type Item = ConsumerRecord;
    type IntoIter = std::iter::FlatMap<
        std::vec::IntoIter<(TopicPartition, Vec<ConsumerRecord>)>,
        Vec<ConsumerRecord>,
        fn((TopicPartition, Vec<ConsumerRecord>)) -> Vec<ConsumerRecord>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let records: fn((TopicPartition, Vec<ConsumerRecord>)) -> Vec<ConsumerRecord> = |(_, r)| r;
        self.batches.into_iter().flat_map(records)
    }
}

impl FetchBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue `records` (fetched in offset order) behind those already buffered for `tp`.
    pub fn push(&mut self, tp: &TopicPartition, records: Vec<ConsumerRecord>) {
        if records.is_empty() {
            return;
        }
        let bytes: usize = records.iter().map(record_bytes).sum();
        let i = match self.queues.iter().position(|q| q.tp == *tp) {
            Some(i) => i,
            None => {
                self.queues.push(PartitionQueue {
                    tp: tp.clone(),
                    records: Chunks::default(),
                    bytes: 0,
                });
                self.queues.len() - 1
            }
        };
        let q = &mut self.queues[i];
        self.len += records.len();
        q.records.push(records);
        q.bytes += bytes;
        self.bytes += bytes;
    }

    /// Records buffered over all partitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Estimated bytes buffered over all partitions (see [`record_bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Estimated bytes buffered for `tp`.
    pub fn partition_bytes(&self, tp: &TopicPartition) -> usize {
        self.queue(tp).map_or(0, |q| q.bytes)
    }

    /// Records buffered for `tp`.
    pub fn partition_len(&self, tp: &TopicPartition) -> usize {
        self.queue(tp).map_or(0, |q| q.records.len())
    }

    /// The offset of the first buffered record of `tp`.
    pub fn first_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.queue(tp)?.records.front().map(|r| r.offset)
    }

    /// Whether some partition for which `returnable` holds has records.
    pub fn has_returnable(&self, returnable: impl Fn(&TopicPartition) -> bool) -> bool {
        self.queues
            .iter()
            .any(|q| !q.records.is_empty() && returnable(&q.tp))
    }

    /// Drop the records of `tp` (after a seek).
    pub fn clear_partition(&mut self, tp: &TopicPartition) {
        self.retain_partitions(|t| t != tp);
    }

    /// Drop the queues of partitions for which `keep` is false (after an unassignment).
    pub fn retain_partitions(&mut self, keep: impl Fn(&TopicPartition) -> bool) {
        let (mut len, mut bytes) = (0, 0);
        self.queues.retain(|q| {
            let kept = keep(&q.tp);
            if kept {
                len += q.records.len();
                bytes += q.bytes;
            }
            kept
        });
        (self.len, self.bytes) = (len, bytes);
        if self.cursor >= self.queues.len() {
            self.cursor = 0;
        }
    }

    /// Take one record of a returnable partition, rotating over partitions from one call to
    /// the next.
    pub fn pop(&mut self, returnable: impl Fn(&TopicPartition) -> bool) -> Option<ConsumerRecord> {
        let n = self.queues.len();
        for k in 0..n {
            let i = (self.cursor + k) % n;
            let q = &mut self.queues[i];
            if q.records.is_empty() || !returnable(&q.tp) {
                continue;
            }
            let r = q.records.pop_front()?;
            let b = record_bytes(&r);
            q.bytes -= b;
            self.bytes -= b;
            self.len -= 1;
            self.cursor = (i + 1) % n;
            return Some(r);
        }
        None
    }

    /// Take up to `max` records of returnable partitions, shared evenly among the partitions
    /// that have some (a partition with fewer leaves its share to the others). The partition
    /// served first rotates from one call to the next.
    pub fn drain(
        &mut self,
        max: usize,
        returnable: impl Fn(&TopicPartition) -> bool,
    ) -> ConsumerRecords {
        let mut out = ConsumerRecords::default();
        self.drain_into(max, returnable, |tp, records| out.push(tp, records));
        out
    }

    /// [`FetchBuffer::drain`] into one list (what `poll` returns): no grouping, no second move
    /// of each record.
    pub fn drain_flat(
        &mut self,
        max: usize,
        returnable: impl Fn(&TopicPartition) -> bool,
    ) -> Vec<ConsumerRecord> {
        let mut out = Vec::with_capacity(max.min(self.len));
        self.drain_append(max, returnable, &mut out);
        out
    }

    /// [`FetchBuffer::drain_flat`] appending to `out`.
    pub fn drain_append(
        &mut self,
        max: usize,
        returnable: impl Fn(&TopicPartition) -> bool,
        out: &mut Vec<ConsumerRecord>,
    ) {
        self.drain_into(max, returnable, |_, records| out.extend(records));
    }

    fn drain_into(
        &mut self,
        max: usize,
        returnable: impl Fn(&TopicPartition) -> bool,
        mut emit: impl FnMut(&TopicPartition, &mut dyn Iterator<Item = ConsumerRecord>),
    ) {
        let n = self.queues.len();
        if n == 0 {
            return;
        }
        let mut eligible: Vec<usize> = (0..n)
            .map(|k| (self.cursor + k) % n)
            .filter(|&i| !self.queues[i].records.is_empty() && returnable(&self.queues[i].tp))
            .collect();
        let mut left = max;
        while left > 0 && !eligible.is_empty() {
            let share = left.div_ceil(eligible.len());
            for &i in &eligible {
                let q = &mut self.queues[i];
                let take = share.min(left).min(q.records.len());
                let bytes: usize = q.records.iter().take(take).map(record_bytes).sum();
                q.bytes -= bytes;
                self.bytes -= bytes;
                self.len -= take;
                left -= take;
                let records = &mut q.records;
                emit(
                    &q.tp,
                    &mut std::iter::from_fn(|| records.pop_front()).take(take),
                );
            }
            eligible.retain(|&i| !self.queues[i].records.is_empty());
        }
        self.cursor = (self.cursor + 1) % n;
    }

    fn queue(&self, tp: &TopicPartition) -> Option<&PartitionQueue> {
        self.queues.iter().find(|q| q.tp == *tp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::record_batch::TimestampType;
    use bytes::Bytes;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn records(p: i32, offsets: std::ops::Range<i64>) -> Vec<ConsumerRecord> {
        offsets
            .map(|o| ConsumerRecord {
                topic: "t".into(),
                partition: p,
                offset: o,
                timestamp: o,
                timestamp_type: TimestampType::CreateTime,
                leader_epoch: Some(0),
                key: None,
                value: Some(Bytes::from_static(b"0123456789")),
                headers: Vec::new(),
            })
            .collect()
    }

    fn offsets(rs: &[ConsumerRecord]) -> Vec<i64> {
        rs.iter().map(|r| r.offset).collect()
    }

    #[test]
    fn drain_shares_max_poll_records_fairly_and_keeps_offset_order() {
        let mut b = FetchBuffer::new();
        b.push(&tp(0), records(0, 0..10));
        b.push(&tp(1), records(1, 0..3));
        b.push(&tp(2), records(2, 0..10));
        assert_eq!((b.len(), b.bytes()), (23, 23 * (10 + RECORD_OVERHEAD)));
        let polled = b.drain(12, |_| true);
        assert_eq!(polled.len(), 12);
        // 4 each, partition 1 has only 3: its leftover goes to the others.
        assert_eq!(offsets(polled.records(&tp(0))), (0..5).collect::<Vec<_>>());
        assert_eq!(offsets(polled.records(&tp(1))), vec![0, 1, 2]);
        assert_eq!(offsets(polled.records(&tp(2))), (0..4).collect::<Vec<_>>());
        assert_eq!(b.len(), 11);
        assert_eq!(b.first_offset(&tp(0)), Some(5));
        assert_eq!(b.first_offset(&tp(1)), None);
        // The next drain starts at the next partition and continues each in order.
        let polled = b.drain(100, |_| true);
        assert_eq!(polled.partitions().next(), Some(&tp(2)));
        assert_eq!(offsets(polled.records(&tp(0))), (5..10).collect::<Vec<_>>());
        assert_eq!(offsets(polled.records(&tp(2))), (4..10).collect::<Vec<_>>());
        assert!(b.is_empty() && b.bytes() == 0);
    }

    #[test]
    fn paused_partitions_keep_their_records_until_resumed() {
        let mut b = FetchBuffer::new();
        b.push(&tp(0), records(0, 0..5));
        b.push(&tp(1), records(1, 0..5));
        let paused = tp(0);
        let polled = b.drain(100, |t| *t != paused);
        assert_eq!(polled.partitions().collect::<Vec<_>>(), vec![&tp(1)]);
        assert!(b.pop(|t| *t != paused).is_none());
        assert!(!b.has_returnable(|t| *t != paused));
        assert_eq!(b.partition_len(&tp(0)), 5);
        // Resumed: every held record, in order, none lost.
        let polled = b.drain(100, |_| true);
        assert_eq!(offsets(polled.records(&tp(0))), (0..5).collect::<Vec<_>>());
    }

    #[test]
    fn pop_rotates_and_clear_drops_one_partition() {
        let mut b = FetchBuffer::new();
        b.push(&tp(0), records(0, 0..3));
        b.push(&tp(1), records(1, 10..13));
        let order: Vec<(i32, i64)> = std::iter::from_fn(|| b.pop(|_| true))
            .take(4)
            .map(|r| (r.partition, r.offset))
            .collect();
        assert_eq!(order, vec![(0, 0), (1, 10), (0, 1), (1, 11)]);
        b.push(&tp(1), records(1, 13..15));
        b.clear_partition(&tp(1));
        assert_eq!((b.len(), b.partition_bytes(&tp(1))), (1, 0));
        assert_eq!(b.bytes(), 10 + RECORD_OVERHEAD);
        b.retain_partitions(|_| false);
        assert!(b.is_empty() && b.bytes() == 0);
    }

    #[test]
    fn grouping_records_keeps_per_partition_order() {
        let mut all = records(0, 0..2);
        all.extend(records(1, 5..7));
        all.extend(records(0, 2..3));
        let grouped = ConsumerRecords::from_records(all);
        assert_eq!(offsets(grouped.records(&tp(0))), vec![0, 1, 2]);
        assert_eq!(offsets(grouped.records(&tp(1))), vec![5, 6]);
        assert!(grouped.records(&tp(9)).is_empty());
        assert_eq!(grouped.clone().into_iter().count(), 5);
        assert_eq!(grouped.iter().count(), 5);
    }
}
