//! A task's input: one queue per partition, and which record the task processes next
//! (Kafka Streams' `PartitionGroup` and `RecordQueue`).
//!
//! Within a partition records go in offset order; across the task's partitions the head with
//! the lowest timestamp goes first. While some partitions are empty the task waits for them,
//! so a join does not race ahead of a slower input (Kafka's `PartitionGroup.readyToProcess`,
//! KIP-353 and KIP-695): an empty partition whose lag is unknown (not fetched yet) or above
//! zero (records on the broker not polled yet) holds the task; one known to be caught up holds
//! it for `max.task.idle.ms` of wall-clock time, in case more records arrive. `-1` never
//! waits. Stream time is the highest timestamp processed.

use std::collections::VecDeque;

use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::TopicPartition;

/// A record with its extracted timestamp.
#[derive(Debug, Clone)]
pub(crate) struct StampedRecord {
    pub record: ConsumerRecord,
    pub timestamp: i64,
}

#[derive(Debug)]
struct RecordQueue {
    records: VecDeque<StampedRecord>,
    /// Highest timestamp seen on the partition (-1 before the first).
    partition_time: i64,
    /// Records on the broker the consumer has not returned yet, as of its last fetch
    /// (`None`: not known yet).
    fetched_lag: Option<i64>,
    /// While empty and caught up: when it stops holding the task (wall clock, ms).
    idle_deadline: Option<i64>,
}

/// Whether the task may process now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// A record is ready.
    Ready,
    /// Nothing buffered.
    Empty,
    /// Some partitions are empty but caught up; wait until this time (ms) before processing
    /// the others.
    WaitUntil(i64),
    /// Some partitions are empty and their records are still to be fetched (or their lag is
    /// not known yet): wait for the next poll.
    WaitForFetch,
}

/// The partitions of one task, in `TopicPartition` order (a task has a handful: a list is
/// faster than a map). A partition's position in it is its queue index.
#[derive(Debug)]
pub(crate) struct PartitionGroup {
    queues: Vec<(TopicPartition, RecordQueue)>,
    max_task_idle_ms: i64,
    stream_time: i64,
}

impl PartitionGroup {
    pub fn new(
        partitions: impl IntoIterator<Item = TopicPartition>,
        max_task_idle_ms: i64,
    ) -> Self {
        let mut queues: Vec<(TopicPartition, RecordQueue)> = partitions
            .into_iter()
            .map(|tp| {
                (
                    tp,
                    RecordQueue {
                        records: VecDeque::new(),
                        partition_time: -1,
                        fetched_lag: None,
                        idle_deadline: None,
                    },
                )
            })
            .collect();
        queues.sort_by(|a, b| a.0.cmp(&b.0));
        queues.dedup_by(|a, b| a.0 == b.0);
        PartitionGroup {
            queues,
            max_task_idle_ms,
            stream_time: -1,
        }
    }

    pub fn partitions(&self) -> impl Iterator<Item = &TopicPartition> {
        self.queues.iter().map(|(tp, _)| tp)
    }

    /// The queue index of `tp`, if it is this task's.
    pub fn index_of(&self, tp: &TopicPartition) -> Option<usize> {
        self.queues.iter().position(|(t, _)| t == tp)
    }

    /// The partition of queue `index`.
    #[cfg(test)]
    pub fn partition(&self, index: usize) -> Option<&TopicPartition> {
        self.queues.get(index).map(|(tp, _)| tp)
    }

    fn queue(&self, tp: &TopicPartition) -> Option<&RecordQueue> {
        self.queues.iter().find(|(t, _)| t == tp).map(|(_, q)| q)
    }

    /// The partition's current time (highest timestamp added), for extractors.
    pub fn partition_time(&self, tp: &TopicPartition) -> i64 {
        self.queue(tp).map_or(-1, |q| q.partition_time)
    }

    /// Queue a record; returns false if the partition is not this task's.
    pub fn add(&mut self, tp: &TopicPartition, record: StampedRecord) -> bool {
        let Some((_, q)) = self.queues.iter_mut().find(|(t, _)| t == tp) else {
            return false;
        };
        q.partition_time = q.partition_time.max(record.timestamp);
        q.records.push_back(record);
        true
    }

    /// Records queued for `tp`.
    pub fn buffered(&self, tp: &TopicPartition) -> usize {
        self.queue(tp).map_or(0, |q| q.records.len())
    }

    /// Records queued in all partitions.
    pub fn total_buffered(&self) -> usize {
        self.queues.iter().map(|(_, q)| q.records.len()).sum()
    }

    /// What the consumer knows of `tp` after a poll: how many records of it are on the broker
    /// and not returned yet (`None`: not fetched yet).
    pub fn set_fetched_lag(&mut self, tp: &TopicPartition, lag: Option<i64>) {
        if let Some((_, q)) = self.queues.iter_mut().find(|(t, _)| t == tp) {
            q.fetched_lag = lag;
        }
    }

    /// Whether the task can process at `now` (ms).
    pub fn readiness(&mut self, now: i64) -> Readiness {
        let buffered = self
            .queues
            .iter()
            .filter(|(_, q)| !q.records.is_empty())
            .count();
        if buffered == 0 {
            for (_, q) in &mut self.queues {
                q.idle_deadline = None;
            }
            return Readiness::Empty;
        }
        if buffered == self.queues.len() || self.max_task_idle_ms < 0 {
            for (_, q) in &mut self.queues {
                q.idle_deadline = None;
            }
            return Readiness::Ready;
        }
        let mut wait_until: Option<i64> = None;
        let mut wait_for_fetch = false;
        for (_, q) in &mut self.queues {
            if !q.records.is_empty() {
                q.idle_deadline = None;
                continue;
            }
            match q.fetched_lag {
                // Records to fetch first (or nothing known): no deadline, as in Kafka.
                None | Some(1..) => {
                    q.idle_deadline = None;
                    wait_for_fetch = true;
                }
                Some(_) => {
                    let deadline = *q
                        .idle_deadline
                        .get_or_insert(now.saturating_add(self.max_task_idle_ms));
                    if now < deadline {
                        wait_until = Some(wait_until.map_or(deadline, |w| w.max(deadline)));
                    }
                }
            }
        }
        if wait_for_fetch {
            Readiness::WaitForFetch
        } else if let Some(until) = wait_until {
            Readiness::WaitUntil(until)
        } else {
            Readiness::Ready
        }
    }

    /// The next record with its queue index: the head with the lowest timestamp (ties: the
    /// first partition). Stream time advances to its timestamp if higher.
    pub fn next(&mut self) -> Option<(usize, StampedRecord)> {
        let index = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(i, (_, q))| q.records.front().map(|r| (r.timestamp, i)))
            .min_by_key(|(ts, _)| *ts)
            .map(|(_, i)| i)?;
        let record = self.queues.get_mut(index)?.1.records.pop_front()?;
        self.stream_time = self.stream_time.max(record.timestamp);
        Some((index, record))
    }

    /// The highest timestamp processed (-1 before the first record).
    pub fn stream_time(&self) -> i64 {
        self.stream_time
    }

    /// Drop every queued record (the task closes or is revived).
    pub fn clear(&mut self) {
        for (_, q) in &mut self.queues {
            q.records.clear();
            q.idle_deadline = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rec(tp: &TopicPartition, offset: i64, ts: i64) -> StampedRecord {
        StampedRecord {
            record: ConsumerRecord {
                topic: Arc::from(tp.topic.as_str()),
                partition: tp.partition,
                offset,
                timestamp: ts,
                timestamp_type: Default::default(),
                leader_epoch: None,
                key: None,
                value: None,
                headers: Vec::new(),
            },
            timestamp: ts,
        }
    }

    #[test]
    fn the_lowest_timestamp_goes_first_and_offsets_stay_in_order() {
        let a = TopicPartition::new("a", 0);
        let b = TopicPartition::new("b", 0);
        let mut g = PartitionGroup::new([a.clone(), b.clone()], 0);
        g.add(&a, rec(&a, 0, 30));
        g.add(&a, rec(&a, 1, 10)); // out of order within a: still after offset 0
        g.add(&b, rec(&b, 0, 20));
        let mut order: Vec<(String, i64)> = Vec::new();
        while let Some((i, r)) = g.next() {
            let topic = g
                .partition(i)
                .map(|tp| tp.topic.clone())
                .unwrap_or_default();
            order.push((topic, r.record.offset));
        }
        assert_eq!(
            order,
            vec![("b".into(), 0), ("a".into(), 0), ("a".into(), 1)]
        );
        assert_eq!(g.stream_time(), 30, "stream time never goes back");
    }

    #[test]
    fn an_empty_partition_holds_the_task_until_its_records_are_fetched() {
        let a = TopicPartition::new("a", 0);
        let b = TopicPartition::new("b", 0);
        let mut g = PartitionGroup::new([a.clone(), b.clone()], 0);
        g.add(&a, rec(&a, 0, 5));
        // b not fetched yet: whatever the time, the task waits for the next poll.
        assert_eq!(g.readiness(1_000), Readiness::WaitForFetch);
        assert_eq!(g.readiness(9_000), Readiness::WaitForFetch);
        // Fetched, 3 records on the broker not returned yet: still waiting.
        g.set_fetched_lag(&b, Some(3));
        assert_eq!(g.readiness(9_000), Readiness::WaitForFetch);
        // Caught up: max.task.idle.ms = 0 processes a at once.
        g.set_fetched_lag(&b, Some(0));
        assert_eq!(g.readiness(9_000), Readiness::Ready);
        // -1 never waits, even for a partition never fetched.
        let mut never_waits = PartitionGroup::new([a.clone(), b], -1);
        never_waits.add(&a, rec(&a, 0, 5));
        assert_eq!(never_waits.readiness(0), Readiness::Ready);
    }

    #[test]
    fn an_empty_partition_holds_the_task_for_max_task_idle_ms() {
        let a = TopicPartition::new("a", 0);
        let b = TopicPartition::new("b", 0);
        let mut g = PartitionGroup::new([a.clone(), b.clone()], 100);
        g.set_fetched_lag(&a, Some(0));
        g.set_fetched_lag(&b, Some(0));
        assert_eq!(g.readiness(0), Readiness::Empty);
        g.add(&a, rec(&a, 0, 5));
        assert_eq!(g.readiness(1_000), Readiness::WaitUntil(1_100));
        assert_eq!(g.readiness(1_050), Readiness::WaitUntil(1_100));
        assert_eq!(g.readiness(1_100), Readiness::Ready);
        g.add(&b, rec(&b, 0, 6));
        assert_eq!(g.readiness(1_101), Readiness::Ready);
        let mut never_waits = PartitionGroup::new([a.clone(), b], -1);
        never_waits.add(&a, rec(&a, 0, 5));
        assert_eq!(never_waits.readiness(0), Readiness::Ready);
    }
}
