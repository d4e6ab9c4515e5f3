//! The topology builder (Kafka's `Topology`): sources, processors, sinks and state stores,
//! connected through typed [`NodeHandle`]s so the compiler checks that a child takes what its
//! parents forward.
//!
//! ```
//! use streams_core::serde::StringSerde;
//! use streams_core::topology::TopologyBuilder;
//! use streams_core::processor::ProcessorContext;
//! use streams_core::record::Record;
//! use streams_core::error::BoxError;
//!
//! let mut b = TopologyBuilder::new();
//! let source = b.add_source("Source", &["input"], StringSerde, StringSerde).unwrap();
//! let upper = b
//!     .add_processor("Upper", &[&source], || {
//!         |ctx: &mut ProcessorContext<'_, String, String>, r: Record<String, String>| -> Result<(), BoxError> {
//!             let v = r.value.to_uppercase();
//!             ctx.forward(r.with_value(v))?;
//!             Ok(())
//!         }
//!     })
//!     .unwrap();
//! b.add_sink("Sink", "output", StringSerde, StringSerde, &[&upper]).unwrap();
//! let topology = b.build().unwrap();
//! assert_eq!(topology.subtopologies().len(), 1);
//! ```

pub(crate) mod build;
#[cfg(test)]
mod copartition_tests;
mod describe;
mod java_order;
mod optimization;
mod store_builder;
mod subtopology;

pub use build::Topology;
pub use describe::{
    GlobalStoreDescription, NodeDescription, NodeDescriptionKind, SinkTarget, SourceTopics,
    SubtopologyDescription, TopologyDescription,
};
pub use optimization::TopologyOptimization;
pub use store_builder::{StoreBuilder, StoreInit, StoreSupplier};
pub use subtopology::Subtopology;

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::error::{StreamsError, TopologyError};
use crate::processor::node::{
    Child, ErasedNode, Node, ProcessorNode, RawSource, SinkNode, SinkTopic, SourceNode,
    StreamPartitioner, TopicNameExtractor,
};
use crate::processor::Processor;
use crate::serde::Serde;
use crate::timestamp::TimestampExtractor;

pub use kafka_wire::consumer::OffsetReset;

/// A node of the topology whose records are `K`/`V`: pass it as a parent of the next node.
pub struct NodeHandle<K, V> {
    index: usize,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for NodeHandle<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for NodeHandle<K, V> {}

impl<K, V> std::fmt::Debug for NodeHandle<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeHandle({})", self.index)
    }
}

/// What kind of node, with what the description and the runtime need.
#[derive(Clone)]
pub(crate) enum NodeKind {
    Source {
        topics: Vec<String>,
        pattern: Option<regex::Regex>,
        reset: Option<OffsetReset>,
        extractor: Option<Arc<dyn TimestampExtractor>>,
    },
    Processor,
    Sink {
        /// `None`: a topic-name extractor.
        topic: Option<String>,
    },
}

pub(crate) type BuiltNode = (Box<dyn Any>, Rc<RefCell<dyn ErasedNode>>);
type SourceFactory =
    Arc<dyn Fn(&mut Instantiator<'_>) -> Result<Box<dyn RawSource>, StreamsError> + Send + Sync>;
type NodeFactory =
    Arc<dyn Fn(&mut Instantiator<'_>) -> Result<BuiltNode, StreamsError> + Send + Sync>;

#[derive(Clone)]
pub(crate) enum Factory {
    Source(SourceFactory),
    Node(NodeFactory),
}

/// One node as added to the builder.
#[derive(Clone)]
pub(crate) struct NodeDef {
    pub name: String,
    /// Part of a global store's source and processor (no tasks).
    pub global: bool,
    pub kind: NodeKind,
    pub parents: Vec<usize>,
    pub stores: Vec<String>,
    pub factory: Factory,
}

/// Builds a [`Topology`].
#[derive(Default)]
pub struct TopologyBuilder {
    nodes: Vec<NodeDef>,
    stores: BTreeMap<String, StoreBuilder>,
    internal_topics: Vec<String>,
    /// Groups of source nodes whose topics must be co-partitioned (joins).
    copartition_sources: Vec<Vec<String>>,
}

impl TopologyBuilder {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    fn check_name(&self, name: &str) -> Result<(), TopologyError> {
        if self.nodes.iter().any(|n| n.name == name) {
            return Err(TopologyError::DuplicateNode(name.to_owned()));
        }
        Ok(())
    }

    fn check_topics(&self, name: &str, topics: &[String]) -> Result<(), TopologyError> {
        for n in &self.nodes {
            if let NodeKind::Source { topics: other, .. } = &n.kind {
                if let Some(t) = topics.iter().find(|t| other.contains(t)) {
                    return Err(TopologyError::TopicSourcedTwice {
                        topic: t.clone(),
                        first: n.name.clone(),
                        second: name.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A source reading `topics` with these serdes (record timestamps, the application's
    /// `auto.offset.reset`).
    pub fn add_source<K, V>(
        &mut self,
        name: &str,
        topics: &[&str],
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<NodeHandle<K, V>, TopologyError>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        self.add_source_with(name, topics, None, key_serde, value_serde, None, None)
    }

    /// A source reading every topic matching `pattern` (Java `Pattern` syntax, whole-name
    /// match), also topics created later.
    pub fn add_pattern_source<K, V>(
        &mut self,
        name: &str,
        pattern: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> Result<NodeHandle<K, V>, TopologyError>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        self.add_source_with(name, &[], Some(pattern), key_serde, value_serde, None, None)
    }

    /// A source with every option: topics or a pattern, a reset policy for partitions without
    /// a committed offset, and a timestamp extractor (else `default.timestamp.extractor`).
    #[allow(clippy::too_many_arguments)]
    pub fn add_source_with<K, V>(
        &mut self,
        name: &str,
        topics: &[&str],
        pattern: Option<&str>,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        reset: Option<OffsetReset>,
        extractor: Option<Arc<dyn TimestampExtractor>>,
    ) -> Result<NodeHandle<K, V>, TopologyError>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        self.check_name(name)?;
        let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        let pattern = match pattern {
            None if topics.is_empty() => return Err(TopologyError::NoTopics(name.to_owned())),
            None => None,
            Some(p) => Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                TopologyError::BadPattern {
                    source_name: name.to_owned(),
                    pattern: p.to_owned(),
                    detail: e.to_string(),
                }
            })?),
        };
        self.check_topics(name, &topics)?;
        let index = self.nodes.len();
        let key_de = Arc::new(key_serde);
        let value_de = Arc::new(value_serde);
        let factory: SourceFactory = Arc::new(move |inst| {
            let children = inst.children::<K, V>(index)?;
            Ok(Box::new(SourceNode {
                key_de: key_de.clone(),
                value_de: value_de.clone(),
                children,
            }) as Box<dyn RawSource>)
        });
        self.nodes.push(NodeDef {
            global: false,
            name: name.to_owned(),
            kind: NodeKind::Source {
                topics,
                pattern,
                reset,
                extractor,
            },
            parents: Vec::new(),
            stores: Vec::new(),
            factory: Factory::Source(factory),
        });
        Ok(NodeHandle {
            index,
            _types: PhantomData,
        })
    }

    /// A processor made by `supplier` for each task, fed by `parents`.
    pub fn add_processor<KIn, VIn, KOut, VOut, P, S>(
        &mut self,
        name: &str,
        parents: &[&NodeHandle<KIn, VIn>],
        supplier: S,
    ) -> Result<NodeHandle<KOut, VOut>, TopologyError>
    where
        KIn: 'static,
        VIn: 'static,
        KOut: Clone + 'static,
        VOut: Clone + 'static,
        P: Processor<KIn, VIn, KOut, VOut>,
        S: Fn() -> P + Send + Sync + 'static,
    {
        self.check_name(name)?;
        let index = self.nodes.len();
        let node_name = name.to_owned();
        let factory: NodeFactory = Arc::new(move |inst| {
            let children = inst.children::<KOut, VOut>(index)?;
            let node = Rc::new(RefCell::new(ProcessorNode {
                index,
                name: node_name.clone(),
                processor: supplier(),
                children,
                punctuators: Vec::new(),
                flush_listeners: Vec::new(),
                _types: PhantomData::<fn(KIn, VIn)>,
            }));
            let typed: Rc<RefCell<dyn Node<KIn, VIn>>> = node.clone();
            let erased: Rc<RefCell<dyn ErasedNode>> = node;
            Ok((Box::new(typed) as Box<dyn Any>, erased))
        });
        self.nodes.push(NodeDef {
            global: false,
            name: name.to_owned(),
            kind: NodeKind::Processor,
            parents: parents.iter().map(|p| p.index).collect(),
            stores: Vec::new(),
            factory: Factory::Node(factory),
        });
        Ok(NodeHandle {
            index,
            _types: PhantomData,
        })
    }

    /// A sink writing to `topic` with these serdes, partitioned by the producer's default
    /// partitioner (Java's murmur2 over the key bytes).
    pub fn add_sink<K, V>(
        &mut self,
        name: &str,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        parents: &[&NodeHandle<K, V>],
    ) -> Result<(), TopologyError>
    where
        K: 'static,
        V: 'static,
    {
        self.add_sink_inner(
            name,
            SinkTopic::Fixed(topic.to_owned()),
            key_serde,
            value_serde,
            None,
            parents,
        )
    }

    /// A sink choosing each record's topic with `extractor` and, optionally, its partition
    /// with `partitioner`.
    pub fn add_sink_with<K, V>(
        &mut self,
        name: &str,
        extractor: TopicNameExtractor<K, V>,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        partitioner: Option<StreamPartitioner<K, V>>,
        parents: &[&NodeHandle<K, V>],
    ) -> Result<(), TopologyError>
    where
        K: 'static,
        V: 'static,
    {
        self.add_sink_inner(
            name,
            SinkTopic::Extractor(extractor),
            key_serde,
            value_serde,
            partitioner,
            parents,
        )
    }

    /// A sink writing to `topic` with a stream partitioner.
    pub fn add_sink_partitioned<K, V>(
        &mut self,
        name: &str,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        partitioner: StreamPartitioner<K, V>,
        parents: &[&NodeHandle<K, V>],
    ) -> Result<(), TopologyError>
    where
        K: 'static,
        V: 'static,
    {
        self.add_sink_inner(
            name,
            SinkTopic::Fixed(topic.to_owned()),
            key_serde,
            value_serde,
            Some(partitioner),
            parents,
        )
    }

    fn add_sink_inner<K: 'static, V: 'static>(
        &mut self,
        name: &str,
        topic: SinkTopic<K, V>,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        partitioner: Option<StreamPartitioner<K, V>>,
        parents: &[&NodeHandle<K, V>],
    ) -> Result<(), TopologyError> {
        self.check_name(name)?;
        let fixed = match &topic {
            SinkTopic::Fixed(t) => Some(t.clone()),
            SinkTopic::Extractor(_) => None,
        };
        let topic = Arc::new(topic);
        let key_ser = Arc::new(key_serde);
        let value_ser = Arc::new(value_serde);
        let node_name = name.to_owned();
        let factory: NodeFactory = Arc::new(move |_inst| {
            let topic = match &*topic {
                SinkTopic::Fixed(t) => SinkTopic::Fixed(t.clone()),
                SinkTopic::Extractor(f) => SinkTopic::Extractor(f.clone()),
            };
            let node = Rc::new(RefCell::new(SinkNode {
                name: node_name.clone(),
                topic,
                key_ser: key_ser.clone(),
                value_ser: value_ser.clone(),
                partitioner: partitioner.clone(),
            }));
            let typed: Rc<RefCell<dyn Node<K, V>>> = node.clone();
            let erased: Rc<RefCell<dyn ErasedNode>> = node;
            Ok((Box::new(typed) as Box<dyn Any>, erased))
        });
        self.nodes.push(NodeDef {
            global: false,
            name: name.to_owned(),
            kind: NodeKind::Sink { topic: fixed },
            parents: parents.iter().map(|p| p.index).collect(),
            stores: Vec::new(),
            factory: Factory::Node(factory),
        });
        Ok(())
    }

    /// Add a state store and connect it to the named processors.
    pub fn add_state_store(
        &mut self,
        store: StoreBuilder,
        processors: &[&str],
    ) -> Result<(), TopologyError> {
        if self.stores.contains_key(&store.name) {
            return Err(TopologyError::DuplicateStore(store.name));
        }
        let name = store.name.clone();
        self.stores.insert(name.clone(), store);
        self.connect_processor_and_state_stores_inner(&name, processors)
    }

    /// Connect already added stores to a processor (Kafka's
    /// `connectProcessorAndStateStores`).
    pub fn connect_processor_and_state_stores(
        &mut self,
        processor: &str,
        stores: &[&str],
    ) -> Result<(), TopologyError> {
        for s in stores {
            if !self.stores.contains_key(*s) {
                return Err(TopologyError::UnknownStore {
                    processor: processor.to_owned(),
                    store: (*s).to_owned(),
                });
            }
            self.connect_processor_and_state_stores_inner(s, &[processor])?;
        }
        Ok(())
    }

    fn connect_processor_and_state_stores_inner(
        &mut self,
        store: &str,
        processors: &[&str],
    ) -> Result<(), TopologyError> {
        for p in processors {
            let node = self
                .nodes
                .iter_mut()
                .find(|n| n.name == *p && matches!(n.kind, NodeKind::Processor))
                .ok_or_else(|| TopologyError::UnknownProcessor {
                    store: store.to_owned(),
                    processor: (*p).to_owned(),
                })?;
            if !node.stores.iter().any(|s| s == store) {
                node.stores.push(store.to_owned());
            }
        }
        Ok(())
    }

    /// A global store (Kafka's `addGlobalStore`): every instance reads all partitions of
    /// `topic` through source `source_name` and processor `processor_name` (made by
    /// `supplier`), which writes the records into `store`; the store is filled from the topic
    /// before processing starts and kept up to date, and every processor of every task can
    /// read it (read-only). It has no changelog: the topic is its log.
    #[allow(clippy::too_many_arguments)]
    pub fn add_global_store<K, V, P, S>(
        &mut self,
        store: StoreBuilder,
        source_name: &str,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
        processor_name: &str,
        supplier: S,
    ) -> Result<(), TopologyError>
    where
        K: Clone + 'static,
        V: Clone + 'static,
        P: Processor<K, V, (), ()>,
        S: Fn() -> P + Send + Sync + 'static,
    {
        if self.stores.contains_key(&store.name) {
            return Err(TopologyError::DuplicateStore(store.name));
        }
        let source = self.add_source(source_name, &[topic], key_serde, value_serde)?;
        self.add_processor::<K, V, (), (), P, S>(processor_name, &[&source], supplier)?;
        for n in self.nodes.iter_mut().rev().take(2) {
            n.global = true;
        }
        let name = store.name.clone();
        self.stores
            .insert(name.clone(), store.with_logging_disabled());
        self.connect_processor_and_state_stores_inner(&name, &[processor_name])
    }

    /// Declare `topic` an internal (repartition) topic: sources and sinks name it as given,
    /// and the runtime reads and writes `<application.id>-<topic>`, created with Kafka
    /// Streams' repartition settings and purged after commits.
    pub fn add_internal_topic(&mut self, topic: &str) {
        if !self.internal_topics.iter().any(|t| t == topic) {
            self.internal_topics.push(topic.to_owned());
        }
    }

    /// Require the inputs of these nodes to be co-partitioned (Kafka's
    /// `copartitionSources`, what joins declare): the source topics each node reads through
    /// its sub-topology (its source ancestors) form one group, which the assignor gives one
    /// partition count (a repartition topic among them takes the others' count), refusing
    /// source topics of different counts. Unknown names are refused when the topology is
    /// built.
    pub fn copartition_sources(&mut self, nodes: &[&str]) {
        let group: Vec<String> = nodes.iter().map(|s| (*s).to_owned()).collect();
        if !self.copartition_sources.contains(&group) {
            self.copartition_sources.push(group);
        }
    }

    /// The source topics `node` reads within its sub-topology.
    fn source_topics_of(&self, node: &str) -> Result<Vec<String>, TopologyError> {
        let start = self
            .nodes
            .iter()
            .position(|n| n.name == node)
            .ok_or_else(|| TopologyError::UnknownCopartitionSource(node.to_owned()))?;
        let mut topics = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            match &self.nodes[i].kind {
                NodeKind::Source { topics: t, .. } => {
                    for topic in t {
                        if !topics.contains(topic) {
                            topics.push(topic.clone());
                        }
                    }
                }
                _ => stack.extend(self.nodes[i].parents.iter().copied()),
            }
        }
        Ok(topics)
    }

    /// The finished topology.
    pub fn build(self) -> Result<Topology, TopologyError> {
        let mut groups: Vec<Vec<String>> = Vec::with_capacity(self.copartition_sources.len());
        for group in &self.copartition_sources {
            let mut topics = Vec::new();
            for node in group {
                for topic in self.source_topics_of(node)? {
                    if !topics.contains(&topic) {
                        topics.push(topic);
                    }
                }
            }
            if topics.len() > 1 && !groups.contains(&topics) {
                groups.push(topics);
            }
        }
        let mut t = Topology::new(self.nodes, self.stores, self.internal_topics)?;
        t.copartition_groups = groups;
        Ok(t)
    }
}

/// Creates one task's nodes from their definitions, each node once (a node with several
/// parents is shared by them).
pub(crate) struct Instantiator<'a> {
    defs: &'a [NodeDef],
    built: BTreeMap<usize, BuiltNode>,
}

impl<'a> Instantiator<'a> {
    pub fn new(defs: &'a [NodeDef]) -> Self {
        Instantiator {
            defs,
            built: BTreeMap::new(),
        }
    }

    /// The children of node `parent`, typed as its output.
    pub fn children<K: 'static, V: 'static>(
        &mut self,
        parent: usize,
    ) -> Result<Vec<Child<K, V>>, StreamsError> {
        let indices: Vec<usize> = self
            .defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.parents.contains(&parent))
            .map(|(i, _)| i)
            .collect();
        indices
            .into_iter()
            .map(|i| {
                let node = self.typed::<K, V>(i)?;
                Ok(Child {
                    name: self.defs[i].name.clone(),
                    node,
                })
            })
            .collect()
    }

    fn typed<K: 'static, V: 'static>(
        &mut self,
        index: usize,
    ) -> Result<Rc<RefCell<dyn Node<K, V>>>, StreamsError> {
        if !self.built.contains_key(&index) {
            let Factory::Node(f) = &self.defs[index].factory else {
                return Err(StreamsError::IllegalState(format!(
                    "node {:?} is a source and cannot be a child",
                    self.defs[index].name
                )));
            };
            let f = f.clone();
            let built = f(self)?;
            self.built.insert(index, built);
        }
        self.built
            .get(&index)
            .and_then(|(any, _)| any.downcast_ref::<Rc<RefCell<dyn Node<K, V>>>>())
            .cloned()
            .ok_or_else(|| {
                // The typed handles make this unreachable; reported rather than panicking.
                StreamsError::IllegalState(format!(
                    "node {:?} was built with other record types than its parent forwards",
                    self.defs[index].name
                ))
            })
    }

    /// Build source `index` (and, through it, everything below it).
    pub fn source(&mut self, index: usize) -> Result<Box<dyn RawSource>, StreamsError> {
        let Factory::Source(f) = &self.defs[index].factory else {
            return Err(StreamsError::IllegalState(format!(
                "node {:?} is not a source",
                self.defs[index].name
            )));
        };
        let f = f.clone();
        f(self)
    }

    /// Every node built, by index (sources excluded).
    pub fn into_nodes(self) -> BTreeMap<usize, Rc<RefCell<dyn ErasedNode>>> {
        self.built.into_iter().map(|(i, (_, n))| (i, n)).collect()
    }
}
