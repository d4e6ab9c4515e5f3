//! The built topology: node definitions split into sub-topologies, and what the runtime needs
//! to create a task's nodes and stores.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::subtopology::{split, Subtopology};
use super::{Instantiator, NodeDef, NodeKind, StoreBuilder, StoreInit};
use crate::error::{StreamsError, TopologyError};
use crate::processor::node::{ErasedNode, RawSource};
use crate::state::backend::SharedBackend;
use crate::state::{RecordCache, StateStore, StoreError, StoreSlot, ThreadCacheBudget};
use crate::timestamp::TimestampExtractor;

use std::cell::RefCell;
use std::rc::Rc;

/// A finished topology; shared by every stream thread (each builds its tasks' nodes from it).
#[derive(Clone)]
pub struct Topology {
    pub(crate) nodes: Arc<Vec<NodeDef>>,
    pub(crate) stores: Arc<BTreeMap<String, StoreBuilder>>,
    pub(crate) internal_topics: Vec<String>,
    subtopologies: Vec<Subtopology>,
    global_groups: Vec<Subtopology>,
    /// Groups of source topics (as named in the topology) that must be co-partitioned.
    pub(crate) copartition_groups: Vec<Vec<String>>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("subtopologies", &self.subtopologies)
            .finish_non_exhaustive()
    }
}

/// The nodes of one task, created from its sub-topology.
pub(crate) struct TaskNodes {
    /// Source nodes by the topic (as named in the topology) they read.
    pub sources: BTreeMap<String, usize>,
    /// Source nodes by index.
    pub source_nodes: BTreeMap<usize, Box<dyn RawSource>>,
    /// Every other node by index, in the order they were added.
    pub nodes: BTreeMap<usize, Rc<RefCell<dyn ErasedNode>>>,
}

impl Topology {
    pub(crate) fn new(
        nodes: Vec<NodeDef>,
        stores: BTreeMap<String, StoreBuilder>,
        internal_topics: Vec<String>,
    ) -> Result<Topology, TopologyError> {
        for n in &nodes {
            for s in &n.stores {
                if !stores.contains_key(s) {
                    return Err(TopologyError::UnknownStore {
                        processor: n.name.clone(),
                        store: s.clone(),
                    });
                }
            }
        }
        let (global_groups, subtopologies) = split(&nodes).into_iter().partition(|s| s.global);
        Ok(Topology {
            nodes: Arc::new(nodes),
            stores: Arc::new(stores),
            internal_topics,
            subtopologies,
            global_groups,
            copartition_groups: Vec::new(),
        })
    }

    /// The groups of source topics (as named in the topology) that must have the same
    /// number of partitions (joins' inputs).
    pub fn copartition_groups(&self) -> &[Vec<String>] {
        &self.copartition_groups
    }

    /// The sub-topologies that make tasks, by id.
    pub fn subtopologies(&self) -> &[Subtopology] {
        &self.subtopologies
    }

    /// The global stores' source-and-processor groups, by id.
    pub fn global_groups(&self) -> &[Subtopology] {
        &self.global_groups
    }

    /// Names of the global stores.
    pub fn global_store_names(&self) -> Vec<String> {
        self.global_groups
            .iter()
            .flat_map(|g| g.stores.iter().cloned())
            .collect()
    }

    /// A node's name.
    pub fn node_name(&self, index: usize) -> Option<&str> {
        self.nodes.get(index).map(|n| n.name.as_str())
    }

    /// The internal (repartition) topics, as named in the topology (without the
    /// `<application.id>-` prefix).
    pub fn internal_topics(&self) -> Vec<String> {
        self.internal_topics.clone()
    }

    /// Whether `topic` (as named in the topology) is internal.
    pub fn is_internal_topic(&self, topic: &str) -> bool {
        self.internal_topics.iter().any(|t| t == topic)
    }

    /// The topic name on the cluster: internal topics get the `<application.id>-` prefix.
    pub fn physical_topic(&self, application_id: &str, topic: &str) -> String {
        if self.is_internal_topic(topic) {
            format!("{application_id}-{topic}")
        } else {
            topic.to_owned()
        }
    }

    /// The changelog topic of `store` (`<application.id>-<store>-changelog`), if it is logged.
    pub fn changelog_topic(&self, application_id: &str, store: &str) -> Option<String> {
        self.stores
            .get(store)
            .filter(|s| s.logging)
            .map(|_| format!("{application_id}-{store}-changelog"))
    }

    /// The source topic that doubles as `store`'s changelog, if any.
    pub fn source_changelog(&self, store: &str) -> Option<&str> {
        self.stores.get(store)?.source_changelog.as_deref()
    }

    /// The extra topic configs of a store's changelog.
    pub fn changelog_config(&self, store: &str) -> BTreeMap<String, String> {
        self.stores
            .get(store)
            .map(|s| s.changelog_config.clone())
            .unwrap_or_default()
    }

    /// The source topics' timestamp extractor and reset policy for `topic`, if set.
    pub(crate) fn source_options(
        &self,
        topic: &str,
    ) -> (
        Option<Arc<dyn TimestampExtractor>>,
        Option<kafka_wire::consumer::OffsetReset>,
    ) {
        for n in self.nodes.iter() {
            if let NodeKind::Source {
                topics,
                pattern,
                reset,
                extractor,
            } = &n.kind
            {
                if topics.iter().any(|t| t == topic)
                    || pattern.as_ref().is_some_and(|p| p.is_match(topic))
                {
                    return (extractor.clone(), *reset);
                }
            }
        }
        (None, None)
    }

    /// The sub-topology whose source reads `topic` (matching patterns too).
    pub fn subtopology_of_topic(&self, topic: &str) -> Option<&Subtopology> {
        self.subtopologies.iter().find(|s| {
            s.nodes.iter().any(|i| match &self.nodes[*i].kind {
                NodeKind::Source {
                    topics, pattern, ..
                } => {
                    topics.iter().any(|t| t == topic)
                        || pattern.as_ref().is_some_and(|p| p.is_match(topic))
                }
                _ => false,
            })
        })
    }

    /// A fresh instance of store `name` (for global stores, shared by the threads).
    pub(crate) fn create_store(
        &self,
        name: &str,
        backend: Option<&SharedBackend>,
    ) -> Option<Result<StateStore, StoreError>> {
        self.stores.get(name).map(|b| {
            (b.supplier)(&StoreInit {
                name,
                backend: backend.filter(|_| b.persistent),
            })
        })
    }

    /// Whether any store of the topology is persistent (the application then needs
    /// `state.dir`).
    pub(crate) fn has_persistent_stores_anywhere(&self) -> bool {
        self.stores.values().any(|b| b.persistent)
    }

    /// Whether any store of `subtopology` (global stores aside) is persistent: its tasks then
    /// take a directory under `state.dir`.
    pub(crate) fn has_persistent_stores(&self, subtopology: &Subtopology) -> bool {
        let globals = self.global_store_names();
        subtopology
            .stores
            .iter()
            .filter(|n| !globals.contains(n))
            .any(|n| self.stores.get(n).is_some_and(|b| b.persistent))
    }

    /// Create the nodes of one task of `subtopology`; `topics` are the concrete topics its
    /// pattern sources read (fixed-topic sources need none).
    pub(crate) fn instantiate(
        &self,
        subtopology: &Subtopology,
        pattern_topics: &[String],
    ) -> Result<TaskNodes, StreamsError> {
        let mut inst = Instantiator::new(&self.nodes);
        let mut sources = BTreeMap::new();
        let mut source_nodes = BTreeMap::new();
        for i in &subtopology.nodes {
            if let NodeKind::Source {
                topics, pattern, ..
            } = &self.nodes[*i].kind
            {
                source_nodes.insert(*i, inst.source(*i)?);
                for t in topics {
                    sources.insert(t.clone(), *i);
                }
                if let Some(p) = pattern {
                    for t in pattern_topics.iter().filter(|t| p.is_match(t)) {
                        sources.insert(t.clone(), *i);
                    }
                }
            }
        }
        Ok(TaskNodes {
            sources,
            source_nodes,
            nodes: inst.into_nodes(),
        })
    }

    /// The stores of a task of `subtopology`, logged ones with a changelog buffer; persistent
    /// ones open in `backend` (the task's redb file); caching ones with a record cache
    /// charged to `cache_budget` (none: caching off, as for standby tasks).
    pub(crate) fn create_stores(
        &self,
        subtopology: &Subtopology,
        backend: Option<&SharedBackend>,
        cache_budget: Option<&Arc<ThreadCacheBudget>>,
    ) -> Result<BTreeMap<String, StoreSlot>, StoreError> {
        let globals = self.global_store_names();
        let mut out = BTreeMap::new();
        for name in subtopology.stores.iter().filter(|n| !globals.contains(n)) {
            let Some(b) = self.stores.get(name) else {
                continue;
            };
            let store = (b.supplier)(&StoreInit {
                name,
                backend: backend.filter(|_| b.persistent),
            })?;
            let caching = b.caching
                && matches!(
                    store,
                    StateStore::KeyValue(_)
                        | StateStore::TimestampedKeyValue(_)
                        | StateStore::Window(_)
                        | StateStore::Session(_)
                );
            let mut slot = StoreSlot::new(store, b.logging);
            slot.cache = cache_budget
                .filter(|_| caching)
                .map(|budget| RecordCache::new(budget.clone()));
            out.insert(name.clone(), slot);
        }
        Ok(out)
    }

    /// Which stores each node of `subtopology` may open.
    pub(crate) fn node_stores(&self, subtopology: &Subtopology) -> BTreeMap<usize, Vec<String>> {
        subtopology
            .nodes
            .iter()
            .filter(|i| !self.nodes[**i].stores.is_empty())
            .map(|i| (*i, self.nodes[*i].stores.clone()))
            .collect()
    }
}

impl Topology {
    /// What the assignor needs to know of this topology under `application_id` (physical
    /// topic names).
    pub fn topology_info(
        &self,
        application_id: &str,
    ) -> Result<crate::assignment::TopologyInfo, crate::assignment::TopologyError> {
        let subtopologies = self
            .subtopologies
            .iter()
            .map(|s| crate::assignment::SubtopologyInfo {
                id: s.id,
                source_topics: s
                    .source_topics
                    .iter()
                    .map(|t| self.physical_topic(application_id, t))
                    .collect(),
                sink_repartition_topics: s
                    .sink_topics
                    .iter()
                    .filter(|t| self.is_internal_topic(t))
                    .map(|t| self.physical_topic(application_id, t))
                    .collect(),
                changelog_topics: s
                    .stores
                    .iter()
                    .filter_map(|st| self.changelog_topic(application_id, st))
                    .collect(),
                copartition_groups: self
                    .copartition_groups
                    .iter()
                    .filter(|g| g.iter().all(|t| s.source_topics.contains(t)))
                    .map(|g| {
                        g.iter()
                            .map(|t| self.physical_topic(application_id, t))
                            .collect()
                    })
                    .collect(),
            })
            .collect();
        crate::assignment::TopologyInfo::new(application_id, subtopologies)
    }

    /// The store whose changelog is `topic` under `application_id`.
    pub fn store_of_changelog(&self, application_id: &str, topic: &str) -> Option<&str> {
        self.stores
            .keys()
            .find(|s| self.changelog_topic(application_id, s).as_deref() == Some(topic))
            .map(String::as_str)
    }
}
