//! [`Topology::describe`]: the topology as Kafka Streams' `TopologyDescription` shows it, with
//! a [`Display`](fmt::Display) that prints the text Java's `Topology.describe().toString()`
//! prints for the same topology, byte for byte:
//!
//! ```text
//! Topologies:
//!    Sub-topology: 0
//!     Source: Source (topics: [streams-plaintext-input])
//!       --> Process
//!     Processor: Process (stores: [Counts])
//!       --> Sink
//!       <-- Source
//!     Sink: Sink (topic: streams-wordcount-processor-output)
//!       <-- Process
//!
//! ```
//!
//! The rules, as Kafka Streams 4.4 applies them:
//!
//! - The text starts with `Topologies:\n ` (a newline and one space); each sub-topology then
//!   adds two spaces, `Sub-topology: <id>\n`, one line group per node, and an empty line. The
//!   first sub-topology header is thus indented by three spaces, the others by two.
//! - Each node is printed after four spaces: `Source: <name> (topics: [<t1>, <t2>])` (or
//!   `(topics: <pattern>)`) then `      --> <successors>`; `Processor: <name> (stores: [..])`
//!   then `      --> <successors>` and `      <-- <predecessors>`; `Sink: <name> (topic: <t>)`
//!   then `      <-- <predecessors>`. An empty list of neighbours is `none`.
//! - Nodes of a sub-topology are ordered by the size of the sub-graph below them (the node
//!   counted once per path reaching it), largest first, then by name.
//! - Topics and stores are listed in the order of a Java `HashSet<String>`; predecessors and
//!   successors in the order of the `TreeSet`s Java fills while it links the nodes, whose
//!   ordering key (the size) grows after insertion. Both are reproduced by `java_order`.
//! - Global stores print as `Sub-topology: <id> for global store (will not generate tasks)`
//!   between the sub-topologies, at their id.
//!
//! One difference: a sink with a topic-name extractor prints
//! `(extractor class: TopicNameExtractor)`, where Java prints the extractor object's
//! `toString()` (its class name and identity hash, which differ from run to run).

use std::cmp::Ordering;
use std::fmt;

use super::java_order::{copy_capacity, hash_set_order, string_compare, JavaTreeSet};
use super::{NodeDef, NodeKind, Topology};

/// What [`Topology::describe`] returns: the sub-topologies and global stores.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopologyDescription {
    /// The sub-topologies, by id.
    pub subtopologies: Vec<SubtopologyDescription>,
    /// The global stores, by id (this crate's builder has none yet; kept for the format).
    pub global_stores: Vec<GlobalStoreDescription>,
}

/// One sub-topology and its nodes, in the order Java prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtopologyDescription {
    /// Its id (the first half of its task ids).
    pub id: u32,
    /// Its nodes: largest sub-graph first, then by name.
    pub nodes: Vec<NodeDescription>,
}

/// A global store: a source and the processor updating the store, printed as a sub-topology
/// that creates no tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalStoreDescription {
    /// Its id, numbered with the sub-topologies.
    pub id: u32,
    /// The source reading the global topic.
    pub source: NodeDescription,
    /// The processor maintaining the store.
    pub processor: NodeDescription,
}

/// One node with its neighbours (names, in the order Java prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescription {
    /// The node's name.
    pub name: String,
    /// Source, processor or sink, with what it reads, uses or writes.
    pub kind: NodeDescriptionKind,
    /// The nodes feeding it (empty for a source).
    pub predecessors: Vec<String>,
    /// The nodes it forwards to (empty for a sink).
    pub successors: Vec<String>,
}

/// What a described node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeDescriptionKind {
    /// A source reading topics by name or by pattern.
    Source(SourceTopics),
    /// A processor with the stores it is connected to.
    Processor {
        /// The stores, in the order Java prints them.
        stores: Vec<String>,
    },
    /// A sink writing to a topic or to topics chosen per record.
    Sink(SinkTarget),
}

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceTopics {
    /// These topics, in the order Java prints them.
    Topics(Vec<String>),
    /// Every topic matching this pattern (as given to the builder).
    Pattern(String),
}

/// Where a sink writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkTarget {
    /// One fixed topic.
    Topic(String),
    /// A topic-name extractor, described by this text (see the module docs).
    Extractor(String),
}

/// The extractor text printed for a sink with a topic-name extractor.
const EXTRACTOR_TEXT: &str = "TopicNameExtractor";

impl Topology {
    /// Describe the topology as Kafka Streams' `Topology.describe()` does; print it with
    /// `{}` for the text Java prints.
    pub fn describe(&self) -> TopologyDescription {
        TopologyDescription {
            subtopologies: self
                .subtopologies()
                .iter()
                .map(|s| SubtopologyDescription {
                    id: s.id,
                    nodes: describe_nodes(&self.nodes, &s.nodes),
                })
                .collect(),
            global_stores: self
                .global_groups()
                .iter()
                .filter_map(|g| {
                    let mut nodes = describe_nodes(&self.nodes, &g.nodes);
                    let source = nodes
                        .iter()
                        .position(|n| matches!(n.kind, NodeDescriptionKind::Source { .. }))?;
                    let source = nodes.remove(source);
                    let processor = nodes.into_iter().next()?;
                    Some(GlobalStoreDescription {
                        id: g.id,
                        source,
                        processor,
                    })
                })
                .collect(),
        }
    }
}

/// Link the `members` of one sub-topology as Java's `describeSubtopology` does and list them
/// in its order.
fn describe_nodes(defs: &[NodeDef], members: &[usize]) -> Vec<NodeDescription> {
    // Java collects the names in a HashSet (filled in the order the nodes were added), then
    // visits them through a HashMap keyed by name: linking follows the hash order.
    let names: Vec<&str> = members.iter().map(|i| defs[*i].name.as_str()).collect();
    let visit = hash_set_order(&hash_set_order(&names, 16), 16);
    let local = |name: &str| names.iter().position(|n| *n == name);
    let local_of = |index: usize| members.iter().position(|m| *m == index);

    let n = members.len();
    let mut size = vec![1usize; n];
    let mut predecessors: Vec<JavaTreeSet> = (0..n).map(|_| JavaTreeSet::default()).collect();
    let mut successors: Vec<JavaTreeSet> = (0..n).map(|_| JavaTreeSet::default()).collect();
    for node in visit.iter().filter_map(|name| local(name)) {
        for parent in defs[members[node]]
            .parents
            .iter()
            .filter_map(|p| local_of(*p))
        {
            let compare = |size: &[usize], key: usize, existing: usize| {
                compare_nodes(size, &names, key, existing)
            };
            predecessors[node].insert(parent, |k, e| compare(&size, k, e));
            successors[parent].insert(node, |k, e| compare(&size, k, e));
            let delta = size[node];
            add_size(&mut size, &predecessors, parent, delta);
        }
    }

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| compare_nodes(&size, &names, *a, *b));
    order
        .into_iter()
        .map(|i| {
            let def = &defs[members[i]];
            let named = |set: &JavaTreeSet| -> Vec<String> {
                set.keys()
                    .into_iter()
                    .map(|k| names[k].to_owned())
                    .collect()
            };
            NodeDescription {
                name: def.name.clone(),
                kind: describe_kind(def),
                predecessors: named(&predecessors[i]),
                successors: named(&successors[i]),
            }
        })
        .collect()
}

/// Java's node comparator: the same node is equal; else the larger sub-graph first, then the
/// name.
fn compare_nodes(size: &[usize], names: &[&str], a: usize, b: usize) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    size[b]
        .cmp(&size[a])
        .then_with(|| string_compare(names[a], names[b]))
}

/// Add `delta` to `node`'s size and, through every path, to all nodes above it (Java's
/// `updateSize`).
fn add_size(size: &mut [usize], predecessors: &[JavaTreeSet], node: usize, delta: usize) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        size[n] += delta;
        stack.extend(predecessors[n].keys());
    }
}

fn describe_kind(def: &NodeDef) -> NodeDescriptionKind {
    match &def.kind {
        NodeKind::Source {
            topics, pattern, ..
        } => NodeDescriptionKind::Source(match pattern {
            Some(p) => SourceTopics::Pattern(pattern_text(p.as_str()).to_owned()),
            None => {
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                SourceTopics::Topics(
                    hash_set_order(&topics, copy_capacity(topics.len()))
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                )
            }
        }),
        NodeKind::Processor => {
            // The factory's HashSet (filled as stores were connected), copied into another.
            let stores: Vec<&str> = def.stores.iter().map(String::as_str).collect();
            let held = hash_set_order(&stores, 16);
            NodeDescriptionKind::Processor {
                stores: hash_set_order(&held, copy_capacity(held.len()))
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            }
        }
        NodeKind::Sink { topic: Some(t) } => {
            NodeDescriptionKind::Sink(SinkTarget::Topic(t.clone()))
        }
        NodeKind::Sink { topic: None } => {
            NodeDescriptionKind::Sink(SinkTarget::Extractor(EXTRACTOR_TEXT.to_owned()))
        }
    }
}

/// The pattern as the user gave it: the builder compiles `p` as `^(?:p)$`.
fn pattern_text(compiled: &str) -> &str {
    compiled
        .strip_prefix("^(?:")
        .and_then(|p| p.strip_suffix(")$"))
        .unwrap_or(compiled)
}

/// Names joined by `, `, or `none`.
struct Names<'a>(&'a [String]);

impl fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&self.0.join(", "))
        }
    }
}

impl fmt::Display for NodeDescription {
    /// One node as Java prints it: no leading indent and no trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        let succ = Names(&self.successors);
        let pred = Names(&self.predecessors);
        match &self.kind {
            NodeDescriptionKind::Source(SourceTopics::Topics(topics)) => write!(
                f,
                "Source: {name} (topics: [{}])\n      --> {succ}",
                topics.join(", ")
            ),
            NodeDescriptionKind::Source(SourceTopics::Pattern(p)) => {
                write!(f, "Source: {name} (topics: {p})\n      --> {succ}")
            }
            NodeDescriptionKind::Processor { stores } => write!(
                f,
                "Processor: {name} (stores: [{}])\n      --> {succ}\n      <-- {pred}",
                stores.join(", ")
            ),
            NodeDescriptionKind::Sink(SinkTarget::Topic(t)) => {
                write!(f, "Sink: {name} (topic: {t})\n      <-- {pred}")
            }
            NodeDescriptionKind::Sink(SinkTarget::Extractor(x)) => {
                write!(f, "Sink: {name} (extractor class: {x})\n      <-- {pred}")
            }
        }
    }
}

impl fmt::Display for SubtopologyDescription {
    /// `Sub-topology: <id>`, the nodes indented by four spaces, then an empty line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Sub-topology: {}", self.id)?;
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        writeln!(f)
    }
}

impl fmt::Display for GlobalStoreDescription {
    /// `Sub-topology: <id> for global store (will not generate tasks)`, source and processor.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Sub-topology: {} for global store (will not generate tasks)",
            self.id
        )?;
        writeln!(f, "    {}", self.source)?;
        writeln!(f, "    {}", self.processor)
    }
}

impl fmt::Display for TopologyDescription {
    /// The whole description, as Java's `TopologyDescription.toString()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Topologies:\n ")?;
        let mut subs = self.subtopologies.iter().peekable();
        let mut globals = self.global_stores.iter().peekable();
        // While both remain, the one whose turn it is by id goes first (Java counts ids from 0
        // and takes the sub-topology when its id is the expected one, else the global store).
        let mut expected = 0u32;
        while let (Some(s), Some(_)) = (subs.peek(), globals.peek()) {
            if s.id == expected {
                write!(f, "  {s}")?;
                subs.next();
            } else if let Some(g) = globals.next() {
                write!(f, "  {g}")?;
            }
            expected += 1;
        }
        for s in subs {
            write!(f, "  {s}")?;
        }
        for g in globals {
            write!(f, "  {g}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::error::BoxError;
    use crate::processor::ProcessorContext;
    use crate::record::Record;
    use crate::serde::StringSerde;
    use crate::topology::{StoreBuilder, TopologyBuilder};

    fn noop(
        _: &mut ProcessorContext<'_, String, String>,
        _: Record<String, String>,
    ) -> Result<(), BoxError> {
        Ok(())
    }

    fn store(name: &str) -> StoreBuilder {
        StoreBuilder::custom(name, |n| {
            Box::new(crate::state::InMemoryKeyValueStore::new(n))
        })
    }

    #[test]
    fn empty_topology_is_the_header_and_a_space() {
        let t = TopologyBuilder::new().build().unwrap();
        assert_eq!(t.describe().to_string(), "Topologies:\n ");
    }

    #[test]
    fn pipe() {
        let mut b = TopologyBuilder::new();
        let src = b
            .add_source::<String, String>("Source", &["in"], StringSerde, StringSerde)
            .unwrap();
        b.add_sink("Sink", "out", StringSerde, StringSerde, &[&src])
            .unwrap();
        let text = b.build().unwrap().describe().to_string();
        assert_eq!(
            text,
            "Topologies:\n   Sub-topology: 0\n    Source: Source (topics: [in])\n      --> Sink\n    \
             Sink: Sink (topic: out)\n      <-- Source\n\n"
        );
    }

    #[test]
    fn nodes_without_neighbours_print_none() {
        let mut b = TopologyBuilder::new();
        let src = b
            .add_source::<String, String>("Lonely", &["in"], StringSerde, StringSerde)
            .unwrap();
        let _ = src;
        let src2 = b
            .add_source::<String, String>("Feeds", &["in2"], StringSerde, StringSerde)
            .unwrap();
        b.add_processor::<_, _, String, String, _, _>("Leaf", &[&src2], || noop)
            .unwrap();
        let d = b.build().unwrap().describe();
        let lonely = &d.subtopologies[0].nodes[0];
        assert_eq!(
            lonely.to_string(),
            "Source: Lonely (topics: [in])\n      --> none"
        );
        let leaf = &d.subtopologies[1].nodes[1];
        assert_eq!(
            leaf.to_string(),
            "Processor: Leaf (stores: [])\n      --> none\n      <-- Feeds"
        );
    }

    #[test]
    fn later_subtopologies_are_indented_by_two_spaces_after_an_empty_line() {
        let mut b = TopologyBuilder::new();
        b.add_source::<String, String>("A", &["a"], StringSerde, StringSerde)
            .unwrap();
        b.add_source::<String, String>("B", &["b"], StringSerde, StringSerde)
            .unwrap();
        let text = b.build().unwrap().describe().to_string();
        assert_eq!(
            text,
            "Topologies:\n   Sub-topology: 0\n    Source: A (topics: [a])\n      --> none\n\n  \
             Sub-topology: 1\n    Source: B (topics: [b])\n      --> none\n\n"
        );
    }

    #[test]
    fn subtopologies_are_numbered_in_the_order_their_first_node_was_added() {
        let mut b = TopologyBuilder::new();
        let z = b
            .add_source::<String, String>("z-source", &["z"], StringSerde, StringSerde)
            .unwrap();
        let a = b
            .add_source::<String, String>("a-source", &["a"], StringSerde, StringSerde)
            .unwrap();
        b.add_sink("a-sink", "a-out", StringSerde, StringSerde, &[&a])
            .unwrap();
        b.add_sink("z-sink", "z-out", StringSerde, StringSerde, &[&z])
            .unwrap();
        let d = b.build().unwrap().describe();
        let first: Vec<_> = d
            .subtopologies
            .iter()
            .map(|s| (s.id, s.nodes[0].name.as_str()))
            .collect();
        assert_eq!(first, [(0, "z-source"), (1, "a-source")]);
    }

    #[test]
    fn nodes_are_ordered_by_subgraph_size_then_name() {
        let mut b = TopologyBuilder::new();
        let src = b
            .add_source::<String, String>("src", &["in"], StringSerde, StringSerde)
            .unwrap();
        let short = b
            .add_processor::<_, _, String, String, _, _>("short", &[&src], || noop)
            .unwrap();
        let long = b
            .add_processor::<_, _, String, String, _, _>("long", &[&src], || noop)
            .unwrap();
        let long2 = b
            .add_processor::<_, _, String, String, _, _>("long2", &[&long], || noop)
            .unwrap();
        b.add_sink("b-sink", "t", StringSerde, StringSerde, &[&short])
            .unwrap();
        b.add_sink("a-sink", "t", StringSerde, StringSerde, &[&long2])
            .unwrap();
        let d = b.build().unwrap().describe();
        let names: Vec<_> = d.subtopologies[0]
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        // src 6, long 3, long2 2, short 2 (long2 < short by name), then the sinks by name.
        assert_eq!(names, ["src", "long", "long2", "short", "a-sink", "b-sink"]);
    }

    #[test]
    fn pattern_source_prints_the_pattern_as_given() {
        let mut b = TopologyBuilder::new();
        b.add_pattern_source::<String, String>("P", "events-.*|other", StringSerde, StringSerde)
            .unwrap();
        let d = b.build().unwrap().describe();
        assert_eq!(
            d.subtopologies[0].nodes[0].to_string(),
            "Source: P (topics: events-.*|other)\n      --> none"
        );
    }

    #[test]
    fn processor_stores_and_extractor_sink() {
        let mut b = TopologyBuilder::new();
        let src = b
            .add_source::<String, String>("S", &["in"], StringSerde, StringSerde)
            .unwrap();
        let p = b
            .add_processor::<_, _, String, String, _, _>("P", &[&src], || noop)
            .unwrap();
        b.add_state_store(store("Orders"), &["P"]).unwrap();
        b.add_state_store(store("Customers"), &["P"]).unwrap();
        b.add_sink_with(
            "X",
            Arc::new(|_, _| "t".to_owned()),
            StringSerde,
            StringSerde,
            None,
            &[&p],
        )
        .unwrap();
        let d = b.build().unwrap().describe();
        let text: Vec<String> = d.subtopologies[0]
            .nodes
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "Source: S (topics: [in])\n      --> P",
                // Java's HashSet order (as Kafka Streams prints this processor).
                "Processor: P (stores: [Orders, Customers])\n      --> X\n      <-- S",
                "Sink: X (extractor class: TopicNameExtractor)\n      <-- P",
            ]
        );
    }

    fn node(
        name: &str,
        kind: NodeDescriptionKind,
        pred: &[&str],
        succ: &[&str],
    ) -> NodeDescription {
        NodeDescription {
            name: name.to_owned(),
            kind,
            predecessors: pred.iter().map(|s| (*s).to_owned()).collect(),
            successors: succ.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn global_stores_are_printed_at_their_id_between_subtopologies() {
        let sub = |id| SubtopologyDescription {
            id,
            nodes: vec![node(
                &format!("s{id}"),
                NodeDescriptionKind::Source(SourceTopics::Topics(vec![format!("t{id}")])),
                &[],
                &[],
            )],
        };
        let global = GlobalStoreDescription {
            id: 1,
            source: node(
                "gs",
                NodeDescriptionKind::Source(SourceTopics::Topics(vec!["g".into()])),
                &[],
                &["gp"],
            ),
            processor: node(
                "gp",
                NodeDescriptionKind::Processor {
                    stores: vec!["G".into()],
                },
                &["gs"],
                &[],
            ),
        };
        let d = TopologyDescription {
            subtopologies: vec![sub(0), sub(2)],
            global_stores: vec![global],
        };
        assert_eq!(
            d.to_string(),
            "Topologies:\n   Sub-topology: 0\n    Source: s0 (topics: [t0])\n      --> none\n\n  \
             Sub-topology: 1 for global store (will not generate tasks)\n    \
             Source: gs (topics: [g])\n      --> gp\n    \
             Processor: gp (stores: [G])\n      --> none\n      <-- gs\n  \
             Sub-topology: 2\n    Source: s2 (topics: [t2])\n      --> none\n\n"
        );
    }
}
