//! [`StreamsBuilder`]: where a DSL program starts and how it becomes a [`Topology`].

use std::marker::PhantomData;

use std::collections::HashMap;
use streams_core::serde::Serde;

use streams_core::runtime::StreamsConfig;
use streams_core::topology::{StoreBuilder, Topology, TopologyOptimization};

use crate::change::Change;
use crate::error::DslError;
use crate::global_ktable::GlobalKTable;
use crate::joins::value_getter::{KeyValueStoreGetter, ValueGetterRef};
use crate::kstream::KStream;
use crate::ktable::KTable;
use crate::names;
use crate::optimize::{self, Role};
use crate::options::{Consumed, Materialized};
use crate::plan::{
    processor_name, push, Build, MergedRepartition, NodeSpec, Plan, PlanNode, PlanRef, Step,
};
use crate::processors::table_source::{GlobalTableSource, TableSource};
use crate::serdes::OptionSerde;
use crate::store::{kv_store_builder, refuse_versioned, table_store_builder};
use crate::table_node::TableNode;
use std::sync::Arc;

const CONSUMED_FIX: &str = "Consumed::with(key_serde, value_serde)";

/// Builds a topology with the DSL (Kafka's `StreamsBuilder`): sources from
/// [`stream`](Self::stream), [`table`](Self::table) and
/// [`global_table`](Self::global_table), operations on the streams and tables they return,
/// then [`build`](Self::build).
pub struct StreamsBuilder {
    plan: PlanRef,
}

impl Default for StreamsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StreamsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsBuilder")
            .field("nodes", &self.plan.borrow().nodes.len())
            .finish()
    }
}

impl StreamsBuilder {
    /// An empty program, with Kafka's built-in serdes as the defaults for their types
    /// ([`crate::serdes::SerdeRegistry::new`]).
    pub fn new() -> Self {
        StreamsBuilder { plan: Plan::new() }
    }

    /// Use `serde` for `T` wherever no serde is given (Kafka's `default.key.serde` and
    /// `default.value.serde`, by type). Register `Option<T>` too (with
    /// [`OptionSerde`]) where `T` can be null.
    pub fn default_serde<T: 'static>(&self, serde: impl Serde<T>) -> &Self {
        self.plan.borrow_mut().serdes.insert::<T>(serde);
        self
    }

    /// A stream of `topic`'s records, with the default serdes of `K` and `V` (Kafka's
    /// `stream(topic)`). Keys that may be null need `K = Option<_>`.
    pub fn stream<K: Clone + 'static, V: Clone + 'static>(&self, topic: &str) -> KStream<K, V> {
        self.stream_with(&[topic], Consumed::default())
    }

    /// A stream of the records of `topics`, read as `consumed` says.
    pub fn stream_with<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topics: &[&str],
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        self.add_stream_source(topics, None, consumed)
    }

    /// A stream of every topic matching `pattern` (Java regex syntax, whole name), also
    /// topics created later (Kafka's `stream(Pattern)`).
    pub fn stream_pattern<K: Clone + 'static, V: Clone + 'static>(
        &self,
        pattern: &str,
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        self.add_stream_source(Vec::new(), Some(pattern.to_owned()), consumed)
    }

    fn add_stream_source<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topics: Vec<String>,
        pattern: Option<String>,
        consumed: Consumed<K, V>,
    ) -> KStream<K, V> {
        let name = processor_name(&self.plan, consumed.name.clone(), names::SOURCE);
        let (key, value) = (consumed.key_serde.clone(), consumed.value_serde.clone());
        let node = name.clone();
        push(&self.plan, NodeSpec::new(&name, &[]), move |b| {
            let (ks, vs) = b.serdes(
                consumed.key_serde,
                consumed.value_serde,
                &node,
                CONSUMED_FIX,
            )?;
            let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
            let h = b.tb.add_source_with::<K, V>(
                &node,
                &refs,
                pattern.as_deref(),
                ks,
                vs,
                consumed.reset,
                consumed.extractor,
            )?;
            b.put(&node, h);
            for t in topics {
                b.sources.push((t, node.clone()));
            }
            Ok(())
        });
        KStream {
            plan: self.plan.clone(),
            name,
            key_serde: key,
            value_serde: value,
            repartition_required: false,
            join_repartition: Default::default(),
        }
    }

    /// `topic` as a table, a null value deleting its key (Kafka's `table(topic)`). Not
    /// materialized unless [`table_with`](Self::table_with) names a store.
    pub fn table<K: Clone + 'static, V: Clone + 'static>(&self, topic: &str) -> KTable<K, V> {
        self.table_with(topic, Consumed::default(), Materialized::default())
    }

    /// `topic` as a table, read as `consumed` says, in the store `materialized` describes.
    /// Source `KSTREAM-SOURCE-<i>` (or `<name>-source`) and processor `KTABLE-SOURCE-<i>`
    /// (or `<name>`); a named store is logged to `<application.id>-<store>-changelog`, or,
    /// built with `topology.optimization=reuse.ktable.source.topics` (or `all`), restored
    /// from `topic` itself.
    pub fn table_with<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        let store_name = self.store_name(topic, &materialized);
        let (source, processor) = self.table_node_names(&consumed);
        let key = consumed
            .key_serde
            .clone()
            .or_else(|| materialized.key_serde.clone());
        let value = consumed
            .value_serde
            .clone()
            .or_else(|| materialized.value_serde.clone());
        let queryable = materialized.name.clone();
        let table_node = TableNode::source(queryable.is_some());
        table_node.set_output_versioned(materialized.history_retention.is_some());
        let built = table_node.clone();
        let (node, topic) = (processor.clone(), topic.to_owned());
        let (k, v) = (key.clone(), value.clone());
        push(&self.plan, NodeSpec::new(&node, &[]), move |b| {
            let (ks, vs) = b.serdes(k, v, &source, CONSUMED_FIX)?;
            let h = b.tb.add_source_with::<K, Option<V>>(
                &source,
                &[&topic],
                None,
                ks.clone(),
                OptionSerde::of(vs.clone()),
                consumed.reset,
                consumed.extractor,
            )?;
            b.sources.push((topic.clone(), source.clone()));
            let key_serde = ks.clone();
            // Materialized when named, or when a downstream node needs old values (Kafka's
            // `KTableSource.materialize()`, in the store name drawn above).
            let reuse_source = b.optimization.reuse_ktable_source_topics;
            let store = built.is_materialized().then(|| {
                let (mut builder, store) = table_store_builder(&store_name, ks, vs, &materialized);
                // `reuse.ktable.source.topics`: the topic is the changelog.
                if reuse_source {
                    builder = builder.with_source_topic_changelog(&topic);
                }
                (builder, store)
            });
            let table_store = store.as_ref().map(|(_, s)| s.clone());
            let send_old_values = built.sends_old_values();
            let p =
                b.tb.add_processor::<K, Option<V>, K, Change<V>, _, _>(&node, &[&h], move || {
                    TableSource {
                        store: table_store.clone(),
                        send_old_values,
                        key_serde: Some(key_serde.clone()),
                    }
                })?;
            b.put(&node, p);
            if let Some((_, s)) = &store {
                b.put_getter(&node, s.getter());
            }
            if let Some((builder, _)) = store {
                b.tb.add_state_store(builder, &[&node])?;
            }
            Ok(())
        });
        KTable::new(
            self.plan.clone(),
            processor,
            key,
            value,
            queryable,
            table_node,
        )
    }

    /// `topic` as a global table: every instance reads all its partitions into a global
    /// store (Kafka's `globalTable`).
    pub fn global_table<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> GlobalKTable<K, V> {
        let store_name = self.store_name(topic, &materialized);
        let (source, processor) = self.table_node_names(&consumed);
        let key = consumed
            .key_serde
            .or_else(|| materialized.key_serde.clone());
        let value = consumed
            .value_serde
            .or_else(|| materialized.value_serde.clone());
        let (topic, store) = (topic.to_owned(), store_name.clone());
        push(&self.plan, NodeSpec::new(&processor, &[]), move |b| {
            let (ks, vs) = b.serdes(key, value, &source, CONSUMED_FIX)?;
            refuse_versioned(&materialized, &store, "a global table")?;
            let (builder, handle) = kv_store_builder(&store, ks.clone(), vs.clone(), &materialized);
            let getter: ValueGetterRef<K, V> = Arc::new(KeyValueStoreGetter(handle.clone()));
            b.put_getter(&format!("global:{store}"), getter);
            let key_serde = ks.clone();
            b.tb.add_global_store::<K, Option<V>, _, _>(
                builder,
                &source,
                &topic,
                ks,
                OptionSerde::of(vs),
                &processor,
                move || GlobalTableSource {
                    handle: handle.clone(),
                    key_serde: key_serde.clone(),
                },
            )?;
            b.sources.push((topic, source));
            Ok(())
        });
        GlobalKTable {
            store_name,
            _types: PhantomData,
        }
    }

    /// The store of a table read from `topic`: the given name, else `<topic>-STATE-STORE-<i>`
    /// (drawn first, as Kafka's `StreamsBuilder` does).
    fn store_name<K, V>(&self, topic: &str, materialized: &Materialized<K, V>) -> String {
        match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(&format!("{topic}-")),
        }
    }

    /// A table's source and processor names: `<name>-source` and `<name>`, else generated
    /// (two indexes drawn either way, as Kafka does).
    fn table_node_names<K, V>(&self, consumed: &Consumed<K, V>) -> (String, String) {
        let named = consumed.name.clone();
        let source = processor_name(
            &self.plan,
            named
                .as_ref()
                .map(|n| format!("{n}{}", names::TABLE_SOURCE_SUFFIX)),
            names::SOURCE,
        );
        (
            source,
            processor_name(&self.plan, named, names::KTABLE_SOURCE),
        )
    }

    /// Add a store for processors of `process`/`process_values` to use by name (Kafka's
    /// `addStateStore`).
    pub fn add_state_store(&self, store: StoreBuilder) -> &Self {
        self.plan.borrow_mut().stores.push(store);
        self
    }

    /// The topology (Kafka's `build()`), or the first reason it is invalid, naming the node.
    /// No rewrite is applied: see [`build_with`](Self::build_with).
    pub fn build(self) -> Result<Topology, DslError> {
        self.build_with_optimization(TopologyOptimization::NONE)
    }

    /// The topology with the rewrites `config`'s `topology.optimization` asks for (Kafka's
    /// `build(Properties)`): pass the configuration the application runs with, as in Java,
    /// where a `topology.optimization` given only to `KafkaStreams` changes nothing.
    pub fn build_with(self, config: &StreamsConfig) -> Result<Topology, DslError> {
        self.build_with_optimization(config.topology_optimization)
    }

    /// The topology with the rewrites `optimization` names:
    /// - `reuse.ktable.source.topics`: a materialized [`table`](Self::table) restores from
    ///   its source topic; no `<store>-changelog` topic is created;
    /// - `merge.repartition.topics`: the repartition topics that aggregations and
    ///   `to_table` insert after one key-changing operation (`map`, `select_key`,
    ///   `group_by`, …) become one, `<first one's name>-repartition`, right after that
    ///   operation; the nodes between move below it (Kafka's rewrite, and its node names).
    pub fn build_with_optimization(
        self,
        optimization: TopologyOptimization,
    ) -> Result<Topology, DslError> {
        let (nodes, stores) = {
            let mut p = self.plan.borrow_mut();
            (std::mem::take(&mut p.nodes), std::mem::take(&mut p.stores))
        };
        let plan = self.plan.borrow();
        let mut b = Build::new(&plan.serdes, optimization);
        for store in stores {
            b.tb.add_state_store(store, &[])?;
        }
        b.pass_null_keys = crate::plan::upstream_of_relaxed_joins(&nodes);
        for (step, remap) in order_steps(nodes, optimization.merge_repartition_topics, &mut b)? {
            b.remap = remap;
            step(&mut b)?;
        }
        b.remap.clear();
        b.check_loops()?;
        Ok(b.tb.build()?)
    }
}

/// For one step: a parent it names → the node it reads instead.
type Renames = HashMap<String, String>;

/// The steps in the order they are written, each with its parent renames: call order, or,
/// when repartition topics are merged, without the merged-away repartitions and with each
/// group's new repartition right after the node it follows (Kafka gives it that node's
/// build priority).
fn order_steps(
    mut nodes: Vec<PlanNode>,
    merge_repartitions: bool,
    b: &mut Build<'_>,
) -> Result<Vec<(Step, Renames)>, DslError> {
    if !merge_repartitions || !nodes.iter().any(|n| n.mergeable.is_some()) {
        return Ok(nodes
            .into_iter()
            .map(|n| (n.step, HashMap::new()))
            .collect());
    }
    // Parents by index: the latest earlier node of that name.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut parents = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let resolved = n.parents.iter().zip(&n.parent_indexes);
        parents.push(
            resolved
                .filter_map(|(p, at)| at.or_else(|| index.get(p).copied()))
                .collect::<Vec<_>>(),
        );
        index.insert(n.name.clone(), i);
    }
    let roles: Vec<Role> = nodes.iter().map(|n| n.role).collect();
    let rewrite = optimize::merge_repartition_topics(&roles, &parents);

    // Each group's new repartition, written by its first repartition's types and named
    // after its topic.
    let mut merged: Vec<(usize, String, Step)> = Vec::new();
    for group in &rewrite.groups {
        let mut key_serde = None;
        let mut value_serde = None;
        for &r in &group.repartitions {
            if let Some(m) = nodes[r].mergeable.as_mut() {
                if key_serde.is_none() {
                    key_serde = m.key_serde.take();
                }
                if value_serde.is_none() {
                    value_serde = m.value_serde.take();
                }
            }
        }
        let first = group.repartitions[0];
        let Some(m) = nodes[first].mergeable.take() else {
            return Err(DslError::Internal {
                node: nodes[first].name.clone(),
                detail: "a merged repartition without its description".into(),
            });
        };
        let source = format!("{}-source", m.topic);
        // The merged repartition feeds what each one it replaces fed.
        if group
            .repartitions
            .iter()
            .any(|&r| b.pass_null_keys.contains(&nodes[r].name))
        {
            b.pass_null_keys.insert(source.clone());
        }
        let step = (m.write_merged)(MergedRepartition {
            parent: nodes[group.key_changer].name.clone(),
            topic: m.topic,
            key_serde,
            value_serde,
        });
        merged.push((group.key_changer, source, step));
    }

    let name_of = |i: usize| -> String {
        match nodes.get(i) {
            Some(n) => n.name.clone(),
            None => merged[i - nodes.len()].1.clone(),
        }
    };
    let mut renames = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if rewrite.removed[i] {
            renames.push(HashMap::new());
            continue;
        }
        let before: Vec<String> = parents[i].iter().map(|&p| name_of(p)).collect();
        let after: Vec<String> = rewrite.parents[i].iter().map(|&p| name_of(p)).collect();
        let gone: Vec<&String> = before.iter().filter(|p| !after.contains(p)).collect();
        let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
        if gone.len() != new.len() {
            return Err(DslError::UnmergeableRepartition {
                node: n.name.clone(),
                topic: gone.first().map_or_else(String::new, |g| (*g).clone()),
                detail: format!("the node would read {new:?} instead of {gone:?}"),
            });
        }
        renames.push(
            gone.into_iter()
                .cloned()
                .zip(new.into_iter().cloned())
                .collect::<HashMap<_, _>>(),
        );
    }

    let mut merged: Vec<Option<(usize, String, Step)>> = merged.into_iter().map(Some).collect();
    let mut steps = Vec::with_capacity(nodes.len() + merged.len());
    for ((i, n), remap) in nodes.into_iter().enumerate().zip(renames) {
        if !rewrite.removed[i] {
            steps.push((n.step, remap));
        }
        for slot in merged.iter_mut() {
            if slot.as_ref().is_some_and(|(kc, _, _)| *kc == i) {
                if let Some((_, _, step)) = slot.take() {
                    steps.push((step, HashMap::new()));
                }
            }
        }
    }
    Ok(steps)
}
