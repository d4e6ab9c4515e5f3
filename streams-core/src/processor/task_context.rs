//! What every node of one task shares while it runs: the task's identity and times, the
//! record being processed, the punctuation schedules, the stores and the records to send.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use kafka_wire::protocol::record_batch::Header;

use super::punctuation::{PunctuationQueue, PunctuatorId};
use crate::error::StreamsError;
use crate::record::RecordMetadata;
use crate::state::StoreSlot;
use crate::TaskId;

/// A record a sink or a changelog wants sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRecord {
    /// The topic.
    pub topic: String,
    /// The partition, or `None` for the producer's default partitioner (Java's murmur2 over
    /// the key bytes, sticky for null keys).
    pub partition: Option<i32>,
    /// The key bytes.
    pub key: Option<Bytes>,
    /// The value bytes.
    pub value: Option<Bytes>,
    /// The timestamp.
    pub timestamp: i64,
    /// The headers.
    pub headers: Vec<Header>,
}

/// Hands records to the producer in the middle of processing (see [`TaskContext::spill`]).
pub type Spill = Box<dyn FnMut(Vec<OutgoingRecord>) -> Result<(), StreamsError> + Send>;

/// Records a sink lets wait before it hands them to [`TaskContext::spill`].
pub const SPILL_AT: usize = 10_000;

/// Partition counts of output topics, as the runtime's cluster metadata knows them.
pub type PartitionCounts = Arc<dyn Fn(&str) -> Option<i32> + Send + Sync>;

/// The shared state of one task's nodes.
pub(crate) struct TaskContext {
    pub application_id: Arc<str>,
    pub task_id: TaskId,
    /// Where the record being processed came from (`None` in a punctuator).
    pub metadata: Option<RecordMetadata>,
    /// The timestamp of the record being processed (or the punctuation time).
    pub timestamp: i64,
    /// The task's stream time (-1 until the first record).
    pub stream_time: i64,
    /// The wall-clock time the runtime last passed in.
    pub wall_clock: i64,
    pub stream_punctuation: PunctuationQueue,
    pub wall_punctuation: PunctuationQueue,
    next_punctuator: PunctuatorId,
    pub stores: BTreeMap<String, StoreSlot>,
    /// Stores each node (by index) may open.
    pub node_stores: BTreeMap<usize, Vec<String>>,
    /// Global stores: every node may open them.
    pub global_stores: Vec<String>,
    /// Records for sinks, in the order they were produced.
    pub outgoing: Vec<OutgoingRecord>,
    /// The changelog topic of each logged store.
    pub changelog_topics: BTreeMap<String, String>,
    /// Where the sinks hand their records (with the changelogs' writes) once
    /// [`SPILL_AT`] wait, while the runtime allows it: one record that writes a great many
    /// (an update per window of a long hopping window) is then not held whole in memory.
    pub spill: Option<Spill>,
    pub commit_requested: bool,
    pub partition_counts: PartitionCounts,
    /// The topology's internal topics (repartition topics declared with
    /// `add_internal_topic`): a sink writing to one writes to `<application.id>-<topic>`.
    pub internal_topics: Arc<[String]>,
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`.
    pub outer_join_emit_interval_ms: i64,
    /// Records processors skipped since the task last collected the count (Kafka's
    /// `dropped-records` sensor: late records of windowed aggregations, null keys).
    pub dropped_records: u64,
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("task_id", &self.task_id)
            .field("stream_time", &self.stream_time)
            .finish_non_exhaustive()
    }
}

impl TaskContext {
    pub fn new(
        application_id: Arc<str>,
        task_id: TaskId,
        partition_counts: PartitionCounts,
    ) -> Self {
        TaskContext {
            application_id,
            task_id,
            metadata: None,
            timestamp: -1,
            stream_time: -1,
            wall_clock: 0,
            stream_punctuation: PunctuationQueue::default(),
            wall_punctuation: PunctuationQueue::default(),
            next_punctuator: 0,
            stores: BTreeMap::new(),
            node_stores: BTreeMap::new(),
            global_stores: Vec::new(),
            outgoing: Vec::new(),
            changelog_topics: BTreeMap::new(),
            spill: None,
            commit_requested: false,
            partition_counts,
            internal_topics: Arc::from(Vec::new()),
            outer_join_emit_interval_ms: 1000,
            dropped_records: 0,
        }
    }

    /// Records the sinks and the changelogs want sent, in order (changelog writes follow the
    /// sink output of the same records).
    pub fn drain_outgoing(&mut self) -> Vec<OutgoingRecord> {
        let mut out = std::mem::take(&mut self.outgoing);
        let partition = self.task_id.partition;
        for (store, slot) in &mut self.stores {
            let (Some(buffer), Some(topic)) =
                (&mut slot.changelog, self.changelog_topics.get(store))
            else {
                continue;
            };
            for c in buffer.drain() {
                out.push(OutgoingRecord {
                    topic: topic.clone(),
                    partition: Some(partition),
                    key: Some(c.key),
                    value: c.value,
                    timestamp: c.timestamp,
                    headers: Vec::new(),
                });
            }
        }
        out
    }

    /// Hand what waits to [`spill`](Self::spill) if [`SPILL_AT`] records wait and the runtime
    /// set one.
    pub fn maybe_spill(&mut self) -> Result<(), StreamsError> {
        if self.outgoing.len() < SPILL_AT || self.spill.is_none() {
            return Ok(());
        }
        let records = self.drain_outgoing();
        match self.spill.as_mut() {
            Some(spill) => spill(records),
            None => Ok(()),
        }
    }

    /// The topic a sink's `topic` names on the cluster: `<application.id>-<topic>` for an
    /// internal topic, else itself.
    pub fn physical_topic(&self, topic: String) -> String {
        if self.internal_topics.contains(&topic) {
            format!("{}-{topic}", self.application_id)
        } else {
            topic
        }
    }

    pub fn next_punctuator_id(&mut self) -> PunctuatorId {
        self.next_punctuator += 1;
        self.next_punctuator
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn record(i: usize) -> OutgoingRecord {
        OutgoingRecord {
            topic: "out".into(),
            partition: None,
            key: None,
            value: Some(Bytes::from(i.to_string())),
            timestamp: i as i64,
            headers: Vec::new(),
        }
    }

    #[test]
    fn sinks_hand_records_to_the_spill_once_spill_at_wait() {
        let mut ctx = TaskContext::new(
            Arc::from("app"),
            TaskId::new(0, 3),
            Arc::new(|_: &str| Some(1)),
        );
        // Without a spill records wait, however many.
        ctx.outgoing.extend((0..SPILL_AT).map(record));
        ctx.maybe_spill().unwrap();
        assert_eq!(ctx.outgoing.len(), SPILL_AT);
        ctx.outgoing.clear();

        let handed: Arc<Mutex<Vec<Vec<OutgoingRecord>>>> = Arc::default();
        let sink = handed.clone();
        ctx.spill = Some(Box::new(move |records| {
            sink.lock().unwrap().push(records);
            Ok(())
        }));
        for i in 0..SPILL_AT + 5 {
            ctx.outgoing.push(record(i));
            ctx.maybe_spill().unwrap();
        }
        let handed = handed.lock().unwrap();
        assert_eq!(handed.len(), 1, "one batch at SPILL_AT");
        assert_eq!(handed[0].len(), SPILL_AT);
        assert_eq!(handed[0][0], record(0), "in order");
        assert_eq!(
            ctx.drain_outgoing(),
            (SPILL_AT..SPILL_AT + 5).map(record).collect::<Vec<_>>()
        );
    }
}
