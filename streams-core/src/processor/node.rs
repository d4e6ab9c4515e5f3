//! The nodes a task runs: typed processor and sink nodes behind `dyn Node<K, V>` (so a parent
//! calls its children without knowing them), and source nodes that start from bytes.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use kafka_wire::consumer::ConsumerRecord;

use super::context::ProcessorContext;
use super::punctuation::PunctuatorId;
use super::task_context::{OutgoingRecord, TaskContext};
use super::Processor;
use crate::error::{BoxError, StreamsError};
use crate::record::{Record, RecordMetadata};
use crate::serde::{Deserializer, Serializer};
use crate::state::FlushedChange;

/// A punctuator closure, taken out while it runs.
pub(crate) type PunctuatorFn<K, V> =
    Box<dyn FnMut(&mut ProcessorContext<'_, K, V>, i64) -> Result<(), BoxError>>;
pub(crate) type Punctuators<K, V> = Vec<(PunctuatorId, Option<PunctuatorFn<K, V>>)>;
/// A cache flush listener (by store name), taken out while it runs.
pub(crate) type FlushListenerFn<K, V> =
    Box<dyn FnMut(&mut ProcessorContext<'_, K, V>, &FlushedChange) -> Result<(), BoxError>>;
pub(crate) type FlushListeners<K, V> = Vec<(String, Option<FlushListenerFn<K, V>>)>;

/// Lifecycle of any node, whatever its types.
pub(crate) trait ErasedNode {
    fn init(&mut self, task: &mut TaskContext) -> Result<(), StreamsError>;
    fn punctuate(
        &mut self,
        task: &mut TaskContext,
        id: PunctuatorId,
        time: i64,
    ) -> Result<(), StreamsError>;
    fn close(&mut self, task: &mut TaskContext);
    /// Hand the node the flushed writes of `store`'s record cache (nodes without a listener
    /// for it ignore them).
    fn cache_flushed(
        &mut self,
        task: &mut TaskContext,
        store: &str,
        changes: &[FlushedChange],
    ) -> Result<(), StreamsError> {
        let _ = (task, store, changes);
        Ok(())
    }
}

/// A node that takes records of `K`/`V`.
pub(crate) trait Node<K, V>: ErasedNode {
    fn process(&mut self, task: &mut TaskContext, record: Record<K, V>)
        -> Result<(), StreamsError>;
}

/// A child of a node, by name.
pub(crate) struct Child<K, V> {
    pub name: String,
    pub node: Rc<RefCell<dyn Node<K, V>>>,
}

/// A source node: deserializes a consumed record and forwards it.
pub(crate) trait RawSource {
    fn process_raw(
        &mut self,
        task: &mut TaskContext,
        raw: &ConsumerRecord,
        timestamp: i64,
    ) -> Result<(), StreamsError>;
}

/// Send `record` to `children` in order (the last one gets it without a copy).
pub(crate) fn forward_to_children<K: Clone, V: Clone>(
    children: &[Child<K, V>],
    task: &mut TaskContext,
    record: Record<K, V>,
) -> Result<(), StreamsError> {
    let Some((last, rest)) = children.split_last() else {
        return Ok(());
    };
    let saved = task.timestamp;
    task.timestamp = record.timestamp;
    for c in rest {
        c.node.borrow_mut().process(task, record.clone())?;
    }
    let result = last.node.borrow_mut().process(task, record);
    task.timestamp = saved;
    result
}

fn at(task: &TaskContext) -> String {
    task.metadata
        .as_ref()
        .map(|m| format!(" at {}-{}@{}", m.topic, m.partition, m.offset))
        .unwrap_or_default()
}

fn wrap(task: &TaskContext, name: &str, e: BoxError) -> StreamsError {
    // A child's failure passes through unchanged: it already names its node.
    match e.downcast::<StreamsError>() {
        Ok(inner) => *inner,
        Err(e) => StreamsError::Processing {
            task: task.task_id,
            processor: name.to_owned(),
            at: at(task),
            source: e,
        },
    }
}

/// A user's processor with its children.
pub(crate) struct ProcessorNode<P, KIn, VIn, KOut, VOut> {
    pub index: usize,
    pub name: String,
    pub processor: P,
    pub children: Vec<Child<KOut, VOut>>,
    pub punctuators: Punctuators<KOut, VOut>,
    pub flush_listeners: FlushListeners<KOut, VOut>,
    pub _types: PhantomData<fn(KIn, VIn)>,
}

impl<P, KIn, VIn, KOut, VOut> ErasedNode for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn init(&mut self, task: &mut TaskContext) -> Result<(), StreamsError> {
        let mut ctx = ProcessorContext {
            node: self.index,
            name: &self.name,
            children: &self.children,
            punctuators: &mut self.punctuators,
            flush_listeners: &mut self.flush_listeners,
            task,
        };
        self.processor
            .init(&mut ctx)
            .map_err(|e| wrap(ctx.task, &self.name, e))
    }

    fn punctuate(
        &mut self,
        task: &mut TaskContext,
        id: PunctuatorId,
        time: i64,
    ) -> Result<(), StreamsError> {
        let Some(pos) = self.punctuators.iter().position(|(i, _)| *i == id) else {
            return Ok(());
        };
        let Some(mut f) = self.punctuators[pos].1.take() else {
            return Ok(()); // already running (a punctuator cannot re-enter itself)
        };
        let saved = (task.metadata.take(), task.timestamp);
        task.timestamp = time;
        let mut ctx = ProcessorContext {
            node: self.index,
            name: &self.name,
            children: &self.children,
            punctuators: &mut self.punctuators,
            flush_listeners: &mut self.flush_listeners,
            task,
        };
        let result = f(&mut ctx, time).map_err(|e| wrap(ctx.task, &self.name, e));
        (task.metadata, task.timestamp) = saved;
        if let Some(slot) = self.punctuators.iter_mut().find(|(i, _)| *i == id) {
            slot.1 = Some(f);
        }
        result
    }

    fn cache_flushed(
        &mut self,
        task: &mut TaskContext,
        store: &str,
        changes: &[FlushedChange],
    ) -> Result<(), StreamsError> {
        let Some(pos) = self.flush_listeners.iter().position(|(s, _)| s == store) else {
            return Ok(());
        };
        let Some(mut f) = self.flush_listeners[pos].1.take() else {
            return Ok(()); // already running
        };
        let saved = (task.metadata.take(), task.timestamp);
        let mut result = Ok(());
        for change in changes {
            task.timestamp = change.timestamp;
            let mut ctx = ProcessorContext {
                node: self.index,
                name: &self.name,
                children: &self.children,
                punctuators: &mut self.punctuators,
                flush_listeners: &mut self.flush_listeners,
                task,
            };
            if let Err(e) = f(&mut ctx, change) {
                result = Err(wrap(ctx.task, &self.name, e));
                break;
            }
        }
        (task.metadata, task.timestamp) = saved;
        if let Some(slot) = self.flush_listeners.iter_mut().find(|(s, _)| s == store) {
            slot.1 = Some(f);
        }
        result
    }

    fn close(&mut self, task: &mut TaskContext) {
        let mut ctx = ProcessorContext {
            node: self.index,
            name: &self.name,
            children: &self.children,
            punctuators: &mut self.punctuators,
            flush_listeners: &mut self.flush_listeners,
            task,
        };
        self.processor.close(&mut ctx);
    }
}

impl<P, KIn, VIn, KOut, VOut> Node<KIn, VIn> for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn process(
        &mut self,
        task: &mut TaskContext,
        record: Record<KIn, VIn>,
    ) -> Result<(), StreamsError> {
        let mut ctx = ProcessorContext {
            node: self.index,
            name: &self.name,
            children: &self.children,
            punctuators: &mut self.punctuators,
            flush_listeners: &mut self.flush_listeners,
            task,
        };
        self.processor
            .process(&mut ctx, record)
            .map_err(|e| wrap(ctx.task, &self.name, e))
    }
}

/// Chooses a sink's topic per record (Kafka's `TopicNameExtractor`).
pub type TopicNameExtractor<K, V> =
    Arc<dyn Fn(&Record<K, V>, Option<&RecordMetadata>) -> String + Send + Sync>;

/// Chooses a sink record's partition from its key, value and the topic's partition count
/// (Kafka's `StreamPartitioner`); `None` leaves it to the producer's default partitioner.
pub type StreamPartitioner<K, V> = Arc<dyn Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync>;

/// Where a sink writes.
pub(crate) enum SinkTopic<K, V> {
    Fixed(String),
    Extractor(TopicNameExtractor<K, V>),
}

/// A sink: serializes and queues the record for the producer.
pub(crate) struct SinkNode<K, V> {
    pub name: String,
    pub topic: SinkTopic<K, V>,
    pub key_ser: Arc<dyn Serializer<K>>,
    pub value_ser: Arc<dyn Serializer<V>>,
    pub partitioner: Option<StreamPartitioner<K, V>>,
}

impl<K: 'static, V: 'static> ErasedNode for SinkNode<K, V> {
    fn init(&mut self, _task: &mut TaskContext) -> Result<(), StreamsError> {
        Ok(())
    }
    fn punctuate(
        &mut self,
        _: &mut TaskContext,
        _: PunctuatorId,
        _: i64,
    ) -> Result<(), StreamsError> {
        Ok(())
    }
    fn close(&mut self, _task: &mut TaskContext) {}
}

impl<K: 'static, V: 'static> Node<K, V> for SinkNode<K, V> {
    fn process(
        &mut self,
        task: &mut TaskContext,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let topic = match &self.topic {
            SinkTopic::Fixed(t) => t.clone(),
            SinkTopic::Extractor(f) => f(&record, task.metadata.as_ref()),
        };
        let topic = task.physical_topic(topic);
        let serde_err = |source| StreamsError::Serde {
            task: task.task_id,
            source,
        };
        let key: Option<Bytes> = self
            .key_ser
            .serialize(&topic, &record.key)
            .map_err(serde_err)?;
        let value: Option<Bytes> = self
            .value_ser
            .serialize(&topic, &record.value)
            .map_err(serde_err)?;
        let partition = match &self.partitioner {
            None => None,
            Some(p) => {
                let count = (task.partition_counts)(&topic).ok_or_else(|| {
                    StreamsError::IllegalState(format!(
                        "sink {:?}: the partition count of topic {topic:?} is unknown (does the topic exist?)",
                        self.name
                    ))
                })?;
                p(&topic, &record.key, &record.value, count)
            }
        };
        task.outgoing.push(OutgoingRecord {
            topic,
            partition,
            key,
            value,
            timestamp: record.timestamp,
            headers: record.headers,
        });
        task.maybe_spill()
    }
}

/// A source: deserializes with its serdes and forwards to its children.
pub(crate) struct SourceNode<K, V> {
    pub key_de: Arc<dyn Deserializer<K>>,
    pub value_de: Arc<dyn Deserializer<V>>,
    pub children: Vec<Child<K, V>>,
}

impl<K: Clone + 'static, V: Clone + 'static> RawSource for SourceNode<K, V> {
    fn process_raw(
        &mut self,
        task: &mut TaskContext,
        raw: &ConsumerRecord,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        // Name the record, so a failure (LogAndFail) and its dead letter say which one.
        let serde_err = |mut source: crate::serde::SerdeError| {
            source.detail = format!(
                "{} (record at {}-{}@{})",
                source.detail, raw.topic, raw.partition, raw.offset
            );
            StreamsError::Serde {
                task: task.task_id,
                source,
            }
        };
        let key = self
            .key_de
            .deserialize(&raw.topic, raw.key.as_deref())
            .map_err(serde_err)?;
        let value = self
            .value_de
            .deserialize(&raw.topic, raw.value.as_deref())
            .map_err(serde_err)?;
        let record = Record {
            key,
            value,
            timestamp,
            headers: raw.headers.clone(),
        };
        forward_to_children(&self.children, task, record)
    }
}
