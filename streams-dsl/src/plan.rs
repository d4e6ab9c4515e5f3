//! The plan a [`crate::StreamsBuilder`] records: every DSL call names its nodes at once
//! (Kafka's shared index) and queues a graph node — its parents, its role for the optimizer
//! and a step that writes it into streams-core's [`TopologyBuilder`] when the topology is
//! built, in call order (Kafka's graph build order). Errors are collected there, so DSL
//! calls stay infallible.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use streams_core::topology::{NodeHandle, StoreBuilder, TopologyBuilder, TopologyOptimization};

use crate::error::{DslError, SerdeRole};
use crate::joins::value_getter::ValueGetterRef;
use crate::names::NameGenerator;
pub(crate) use crate::optimize::Role;
use crate::serdes::{DynSerde, SerdeRegistry};

/// One queued write into the topology builder.
pub(crate) type Step = Box<dyn FnOnce(&mut Build<'_>) -> Result<(), DslError>>;

/// One node of the plan's graph (Kafka's `GraphNode`): the name its children read it by,
/// the names it reads, what the optimizer needs to know of it, and the step writing it.
pub(crate) struct PlanNode {
    pub name: String,
    pub parents: Vec<String>,
    /// For each parent, the plan node it is when its name alone is ambiguous.
    pub parent_indexes: Vec<Option<usize>>,
    pub role: Role,
    /// How to write the repartition that replaces this one and its group
    /// (`merge.repartition.topics`); set on mergeable repartitions only.
    pub mergeable: Option<Mergeable>,
    /// A left/outer join that joins null-key records (KIP-962, Kafka's
    /// `NULL_KEY_RELAXED_JOIN` label): repartition topics upstream keep such records.
    pub relaxed_null_key_join: bool,
    pub step: Step,
}

/// A node as a DSL call declares it.
pub(crate) struct NodeSpec {
    name: String,
    parents: Vec<String>,
    parent_indexes: Vec<Option<usize>>,
    role: Role,
    mergeable: Option<Mergeable>,
    relaxed_null_key_join: bool,
}

impl NodeSpec {
    /// Node `name` reading `parents`.
    pub fn new(name: &str, parents: &[&str]) -> Self {
        NodeSpec {
            name: name.to_owned(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            parent_indexes: vec![None; parents.len()],
            role: Role::Plain,
            mergeable: None,
            relaxed_null_key_join: false,
        }
    }

    /// A left/outer join joining null-key records (see [`PlanNode::relaxed_null_key_join`]).
    pub fn relaxed_null_key_join(mut self) -> Self {
        self.relaxed_null_key_join = true;
        self
    }

    /// Also reading `parent`, plan node `index` when given (two repartition topics after
    /// one key change carry the same names until they are merged).
    pub fn parent_at(mut self, parent: &str, index: Option<usize>) -> Self {
        self.parents.push(parent.to_owned());
        self.parent_indexes.push(index);
        self
    }

    /// With the optimizer's `role`.
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// A repartition `merge.repartition.topics` may merge.
    pub fn mergeable(mut self, mergeable: Mergeable) -> Self {
        self.role = Role::Repartition;
        self.mergeable = Some(mergeable);
        self
    }
}

/// A mergeable repartition: its topic and serdes (each `Option<DynSerde<_>>` of its record
/// types, erased), and how to write the repartition replacing its group when it is the
/// group's first (Kafka names the merged topic after the first).
pub(crate) struct Mergeable {
    pub topic: String,
    pub key_serde: Option<Box<dyn Any>>,
    pub value_serde: Option<Box<dyn Any>>,
    pub write_merged: Box<dyn FnOnce(MergedRepartition) -> Step>,
}

/// The repartition replacing a group: after `parent`, on `topic`, with the first serdes
/// the group's repartitions were given (else the defaults).
pub(crate) struct MergedRepartition {
    pub parent: String,
    pub topic: String,
    pub key_serde: Option<Box<dyn Any>>,
    pub value_serde: Option<Box<dyn Any>>,
}

/// What the builder and every stream of it share.
pub(crate) struct Plan {
    pub names: NameGenerator,
    pub nodes: Vec<PlanNode>,
    pub stores: Vec<StoreBuilder>,
    pub serdes: SerdeRegistry,
}

/// The shared plan.
pub(crate) type PlanRef = Rc<RefCell<Plan>>;

impl Plan {
    pub fn new() -> PlanRef {
        Rc::new(RefCell::new(Plan {
            names: NameGenerator::default(),
            nodes: Vec::new(),
            stores: Vec::new(),
            serdes: SerdeRegistry::new(),
        }))
    }
}

/// `named`, else a generated processor name with `prefix`; an index is drawn either way
/// (Kafka's `orElseGenerateWithPrefix`, which burns one "to keep topology backward
/// compatibility"), so the names after a named operation are Java's.
pub(crate) fn processor_name(plan: &PlanRef, named: Option<String>, prefix: &str) -> String {
    let generated = plan.borrow_mut().names.processor(prefix);
    named.unwrap_or(generated)
}

/// `named`, else a generated processor name with `prefix`, drawing an index only then (the
/// operations Kafka names without `orElseGenerateWithPrefix`: `repartition`, `process`,
/// `processValues`).
pub(crate) fn processor_name_or_draw(
    plan: &PlanRef,
    named: Option<String>,
    prefix: &str,
) -> String {
    match named {
        Some(n) => n,
        None => plan.borrow_mut().names.processor(prefix),
    }
}

/// Queue `step`, writing `node`.
pub(crate) fn push(
    plan: &PlanRef,
    node: NodeSpec,
    step: impl FnOnce(&mut Build<'_>) -> Result<(), DslError> + 'static,
) {
    plan.borrow_mut().nodes.push(PlanNode {
        name: node.name,
        parents: node.parents,
        parent_indexes: node.parent_indexes,
        role: node.role,
        mergeable: node.mergeable,
        relaxed_null_key_join: node.relaxed_null_key_join,
        step: Box::new(step),
    });
}

/// The nodes with a null-key-relaxed join downstream (Kafka's
/// `NodesWithRelaxedNullKeyJoinDownstream`): every ancestor of such a join, by name.
pub(crate) fn upstream_of_relaxed_joins(nodes: &[PlanNode]) -> std::collections::HashSet<String> {
    let parents: HashMap<&str, Vec<&str>> = nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.parents.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let mut found = std::collections::HashSet::new();
    let mut stack: Vec<&str> = nodes
        .iter()
        .filter(|n| n.relaxed_null_key_join)
        .flat_map(|n| n.parents.iter().map(String::as_str))
        .collect();
    while let Some(name) = stack.pop() {
        if found.insert(name.to_owned()) {
            if let Some(ps) = parents.get(name) {
                stack.extend(ps.iter().copied());
            }
        }
    }
    found
}

/// A fixed-topic sink, for the loop check.
pub(crate) struct SinkUse {
    pub sink: String,
    pub topic: String,
    pub intended: bool,
}

/// The state while the plan is written into the topology builder.
pub(crate) struct Build<'a> {
    pub tb: TopologyBuilder,
    handles: HashMap<String, Box<dyn Any>>,
    serdes: &'a SerdeRegistry,
    /// (topic, source node) of every source on named topics.
    pub sources: Vec<(String, String)>,
    pub sinks: Vec<SinkUse>,
    /// The rewrites asked for (`topology.optimization`).
    pub optimization: TopologyOptimization,
    /// For the step being written: a parent it names → the node it reads after the
    /// optimizer moved things.
    pub remap: HashMap<String, String>,
    /// Repartition sources whose filter passes null-key records: a left/outer join that
    /// joins them is downstream (Kafka's `rewriteRepartitionNodes`); others drop them.
    pub pass_null_keys: std::collections::HashSet<String>,
    /// The value getters of the table nodes written so far (what joins read), by node name
    /// (a global table's by `global:<store>`).
    getters: HashMap<String, Box<dyn Any>>,
}

impl<'a> Build<'a> {
    pub fn new(serdes: &'a SerdeRegistry, optimization: TopologyOptimization) -> Self {
        Build {
            tb: TopologyBuilder::new(),
            handles: HashMap::new(),
            serdes,
            sources: Vec::new(),
            sinks: Vec::new(),
            optimization,
            remap: HashMap::new(),
            pass_null_keys: std::collections::HashSet::new(),
            getters: HashMap::new(),
        }
    }

    /// The node `name` stands for in the step being written (after the optimizer's moves).
    pub fn resolve(&self, name: &str) -> String {
        self.remap
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    /// Remember table node `name`'s value getter.
    pub fn put_getter<K: 'static, V: 'static>(&mut self, name: &str, getter: ValueGetterRef<K, V>) {
        self.getters.insert(name.to_owned(), Box::new(getter));
    }

    /// Table node `name`'s value getter, if it has one.
    pub fn getter<K: 'static, V: 'static>(&self, name: &str) -> Option<ValueGetterRef<K, V>> {
        let name = self.remap.get(name).map_or(name, String::as_str);
        self.getters
            .get(name)
            .and_then(|g| g.downcast_ref::<ValueGetterRef<K, V>>())
            .cloned()
    }

    /// Table node `name`'s value getter, or an error naming the join that needs it.
    pub fn required_getter<K: 'static, V: 'static>(
        &self,
        name: &str,
        join: &str,
    ) -> Result<ValueGetterRef<K, V>, DslError> {
        self.getter(name).ok_or_else(|| DslError::Internal {
            node: join.to_owned(),
            detail: format!(
                "table {name:?} has no value getter (a table of another StreamsBuilder?)"
            ),
        })
    }

    /// The typed handle of node `name` (written by an earlier step).
    pub fn handle<K: 'static, V: 'static>(&self, name: &str) -> Result<NodeHandle<K, V>, DslError> {
        let name = self.remap.get(name).map_or(name, String::as_str);
        self.handles
            .get(name)
            .and_then(|h| h.downcast_ref::<NodeHandle<K, V>>())
            .copied()
            .ok_or_else(|| DslError::Internal {
                node: name.to_owned(),
                detail: "no node of these record types was written under this name (a stream of another StreamsBuilder?)".into(),
            })
    }

    /// Remember node `name`'s handle for its children.
    pub fn put<K: 'static, V: 'static>(&mut self, name: &str, handle: NodeHandle<K, V>) {
        self.handles.insert(name.to_owned(), Box::new(handle));
    }

    /// `explicit`, else the default serde of `T`, else an error naming `node`.
    pub fn serde<T: 'static>(
        &self,
        explicit: Option<DynSerde<T>>,
        node: &str,
        role: SerdeRole,
        fix: &'static str,
    ) -> Result<DynSerde<T>, DslError> {
        explicit
            .or_else(|| self.serdes.get::<T>())
            .ok_or_else(|| DslError::MissingSerde {
                node: node.to_owned(),
                role,
                type_name: std::any::type_name::<T>(),
                fix,
            })
    }

    /// `explicit`, else the default serde of `T`, if any.
    pub fn optional_serde<T: 'static>(&self, explicit: Option<DynSerde<T>>) -> Option<DynSerde<T>> {
        explicit.or_else(|| self.serdes.get::<T>())
    }

    /// Key and value serdes for `node`.
    pub fn serdes<K: 'static, V: 'static>(
        &self,
        key: Option<DynSerde<K>>,
        value: Option<DynSerde<V>>,
        node: &str,
        fix: &'static str,
    ) -> Result<(DynSerde<K>, DynSerde<V>), DslError> {
        Ok((
            self.serde(key, node, SerdeRole::Key, fix)?,
            self.serde(value, node, SerdeRole::Value, fix)?,
        ))
    }

    /// Refuse a sink to a topic this topology reads, unless intended.
    pub fn check_loops(&self) -> Result<(), DslError> {
        for s in self.sinks.iter().filter(|s| !s.intended) {
            if let Some((_, source)) = self.sources.iter().find(|(t, _)| *t == s.topic) {
                return Err(DslError::SinkToSourceTopic {
                    sink: s.sink.clone(),
                    topic: s.topic.clone(),
                    source_node: source.clone(),
                });
            }
        }
        Ok(())
    }
}
