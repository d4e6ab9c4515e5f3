//! Sub-topologies: the connected parts of a topology, split where records go through a topic.
//!
//! Nodes are connected by parent/child edges and by sharing a state store. Numbering follows
//! Kafka Streams 4.x: groups are numbered in the order their first node was added to the
//! topology, so task ids (`<subtopology>_<partition>`) match Java's for the same topology
//! built in the same order.

use std::collections::{BTreeMap, BTreeSet};

use super::{NodeDef, NodeKind};

/// One sub-topology: its nodes, the topics it reads and writes, its stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtopology {
    /// Its id, the first half of its task ids.
    pub id: u32,
    /// Its nodes (indices into the topology, in the order they were added).
    pub nodes: Vec<usize>,
    /// Topics its sources read (as named in the topology; internal ones without the prefix).
    pub source_topics: Vec<String>,
    /// Whether a source reads by pattern.
    pub has_pattern_source: bool,
    /// Topics its sinks write (fixed topics only).
    pub sink_topics: Vec<String>,
    /// Stores its processors use.
    pub stores: Vec<String>,
    /// A global store's source and processor: numbered like the others, but no tasks.
    pub global: bool,
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Split `nodes` into sub-topologies.
pub(crate) fn split(nodes: &[NodeDef]) -> Vec<Subtopology> {
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    let mut store_owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for p in &n.parents {
            union(&mut parent, i, *p);
        }
        for s in &n.stores {
            match store_owner.get(s.as_str()) {
                Some(o) => union(&mut parent, i, *o),
                None => {
                    store_owner.insert(s, i);
                }
            }
        }
    }
    // Number the groups as Kafka Streams 4.x does (`InternalTopologyBuilder.makeNodeGroups`):
    // walking the nodes in the order they were added, a group gets the next id when its
    // first node is met.
    let mut ids: BTreeMap<usize, u32> = BTreeMap::new();
    for i in 0..nodes.len() {
        let root = find(&mut parent, i);
        let next = ids.len() as u32;
        ids.entry(root).or_insert(next);
    }
    let mut subs: BTreeMap<u32, Subtopology> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let root = find(&mut parent, i);
        let id = ids.get(&root).copied().unwrap_or(0);
        let sub = subs.entry(id).or_insert_with(|| Subtopology {
            id,
            nodes: Vec::new(),
            source_topics: Vec::new(),
            has_pattern_source: false,
            sink_topics: Vec::new(),
            stores: Vec::new(),
            global: false,
        });
        sub.nodes.push(i);
        sub.global |= n.global;
        match &n.kind {
            NodeKind::Source {
                topics, pattern, ..
            } => {
                sub.source_topics.extend(topics.iter().cloned());
                sub.has_pattern_source |= pattern.is_some();
            }
            NodeKind::Sink { topic: Some(t) } => sub.sink_topics.push(t.clone()),
            _ => {}
        }
        let mut stores: BTreeSet<String> = sub.stores.drain(..).collect();
        stores.extend(n.stores.iter().cloned());
        sub.stores = stores.into_iter().collect();
    }
    subs.into_values().collect()
}
