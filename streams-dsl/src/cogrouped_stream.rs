//! [`CogroupedKStream`]: several grouped streams aggregated into one table, each with its
//! own aggregator (Kafka's `KGroupedStream.cogroup` and `CogroupedKStream`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use streams_core::topology::StoreBuilder;

use crate::change::Change;
use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, Build, NodeSpec, PlanRef};
use crate::processors::aggregate::{Aggregate, Step};
use crate::processors::ops::{OpProcessor, PassThrough};
use crate::processors::table_source::TableStore;
use crate::serdes::DynSerde;
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";
/// `COGROUPKSTREAM-AGGREGATE-` (the per-stream aggregations and the store).
const COGROUP_AGGREGATE: &str = "COGROUPKSTREAM-AGGREGATE-";
/// `COGROUPKSTREAM-MERGE-`.
const COGROUP_MERGE: &str = "COGROUPKSTREAM-MERGE-";

/// The initializer shared by every stream's aggregation.
type Init<VOut> = Arc<dyn Fn() -> VOut + Send + Sync>;

/// Writes one stream's aggregation node.
type WriteFn<K, VOut> =
    Rc<dyn Fn(&mut Build<'_>, AggNode<K, VOut>, Init<VOut>) -> Result<(), DslError>>;

/// One stream's aggregation node, as the build writes it.
struct AggNode<K, VOut> {
    name: String,
    parent: String,
    store: TableStore<K, VOut>,
    key_serde: DynSerde<K>,
    caching: bool,
    /// Only the first node forwards the shared store's cache flushes.
    forward_flushes: bool,
    send_old_values: bool,
}

/// The cogroup's store while the build writes it.
struct SharedStore<K, VOut> {
    builder: Option<StoreBuilder>,
    table: TableStore<K, VOut>,
    key_serde: DynSerde<K>,
}

/// One cogrouped stream, its value type erased: how to find its parent (repartitioning
/// first when needed) and how to write its aggregation.
struct Pattern<K, VOut> {
    parent: Box<dyn Fn(&str) -> String>,
    write: WriteFn<K, VOut>,
}

/// Grouped streams aggregated together into one table (Kafka's `CogroupedKStream`), from
/// [`KGroupedStream::cogroup`]: every record of any of them updates its key's aggregate with
/// its stream's aggregator, in one store; the result is one [`KTable`].
pub struct CogroupedKStream<K, VOut> {
    plan: PlanRef,
    key_serde: Option<DynSerde<K>>,
    patterns: Vec<Pattern<K, VOut>>,
}

impl<K, VOut> std::fmt::Debug for CogroupedKStream<K, VOut> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CogroupedKStream")
            .field("streams", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Start a cogroup with this stream and its aggregator (Kafka's `cogroup`); add more
    /// streams with [`CogroupedKStream::cogroup`], then
    /// [`aggregate`](CogroupedKStream::aggregate).
    pub fn cogroup<VOut: Clone + 'static>(
        &self,
        aggregator: impl Fn(&K, V, VOut) -> VOut + Send + Sync + 'static,
    ) -> CogroupedKStream<K, VOut> {
        CogroupedKStream {
            plan: self.plan.clone(),
            key_serde: self.key_serde.clone(),
            patterns: Vec::new(),
        }
        .cogroup(self, aggregator)
    }
}

impl<K: Clone + 'static, VOut: Clone + 'static> CogroupedKStream<K, VOut> {
    /// Add `grouped` with its aggregator (Kafka's `cogroup(groupedStream, aggregator)`).
    pub fn cogroup<V: Clone + 'static>(
        mut self,
        grouped: &KGroupedStream<K, V>,
        aggregator: impl Fn(&K, V, VOut) -> VOut + Send + Sync + 'static,
    ) -> Self {
        let g = KGroupedStream {
            plan: grouped.plan.clone(),
            name: grouped.name.clone(),
            key_serde: grouped.key_serde.clone(),
            value_serde: grouped.value_serde.clone(),
            repartition_name: grouped.repartition_name.clone(),
            repartition_required: grouped.repartition_required,
        };
        let value_serde = grouped.value_serde.clone();
        let aggregator = Arc::new(aggregator);
        self.patterns.push(Pattern {
            parent: Box::new(move |store| g.aggregation_parent(store)),
            write: Rc::new(move |b, n, init| {
                let aggregator = aggregator.clone();
                let step: Step<K, V, VOut> =
                    Arc::new(move |k, v, old| aggregator(k, v, old.unwrap_or_else(|| init())));
                let value_serde = b.optional_serde(value_serde.clone());
                let p = b.handle::<K, V>(&n.parent)?;
                let h =
                    b.tb.add_processor::<K, V, K, Change<VOut>, _, _>(&n.name, &[&p], move || {
                        Aggregate {
                            store: n.store.clone(),
                            step: step.clone(),
                            caching: n.caching,
                            forward_flushes: n.forward_flushes,
                            send_old_values: n.send_old_values,
                            key_serde: n.key_serde.clone(),
                            value_serde: value_serde.clone(),
                        }
                    })?;
                b.put(&n.name, h);
                Ok(())
            }),
        });
        self
    }

    /// Aggregate every stream's records from `initializer()` (Kafka's `aggregate`), in a
    /// store named `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`; the aggregate's serde is
    /// the default for `VOut`.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
    ) -> KTable<K, VOut> {
        self.aggregate_with(initializer, Named::empty(), Materialized::default())
    }

    /// [`aggregate`](Self::aggregate) with a name (the aggregations are
    /// `<name>-cogroup-agg-<n>`, their merge `<name>-cogroup-merge`) and a store.
    ///
    /// As Kafka's `CogroupedStreamAggregateBuilder`: the store name first, then each
    /// stream's repartition topic (`<Grouped name or store>-repartition`) where its key
    /// changed, each stream's aggregation, and the merge node the table is.
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        named: Named,
        mut materialized: Materialized<K, VOut>,
    ) -> KTable<K, VOut> {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(COGROUP_AGGREGATE),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.key_serde.clone();
        }
        // Each stream's parent, and the plan node it is when a repartition was just queued
        // (two repartitions after one key change share their names until merged).
        let parents: Vec<(String, Option<usize>)> = self
            .patterns
            .iter()
            .map(|p| {
                let before = self.plan.borrow().nodes.len();
                let name = (p.parent)(&store_name);
                let after = self.plan.borrow().nodes.len();
                (name, (after > before).then(|| after - 1))
            })
            .collect();
        // An index drawn for each, named or not (Kafka's `suffixWithOrElseGet`).
        let nodes: Vec<String> = (0..self.patterns.len())
            .map(|i| {
                let named = named.name.as_ref().map(|n| format!("{n}-cogroup-agg-{i}"));
                processor_name(&self.plan, named, COGROUP_AGGREGATE)
            })
            .collect();
        let named_merge = named.name.as_ref().map(|n| format!("{n}-cogroup-merge"));
        let merge = processor_name(&self.plan, named_merge, COGROUP_MERGE);
        let (key, value) = (
            materialized.key_serde.clone(),
            materialized.value_serde.clone(),
        );
        let queryable = materialized.name.clone();
        let table_node = TableNode::stateful();
        table_node.set_output_versioned(materialized.history_retention.is_some());
        let init: Init<VOut> = Arc::new(initializer);
        // The store, made by the first aggregation's step and added by the merge's.
        let store: Rc<RefCell<Option<SharedStore<K, VOut>>>> = Rc::new(RefCell::new(None));
        let materialized = Rc::new(materialized);
        // One graph node per stream's aggregation (Kafka's), so the optimizer can move each.
        for (i, ((pattern, (parent, index)), name)) in
            self.patterns.iter().zip(&parents).zip(&nodes).enumerate()
        {
            let spec = NodeSpec::new(name, &[]).parent_at(parent, *index);
            let (write, init, store) = (pattern.write.clone(), init.clone(), store.clone());
            let (materialized, built) = (materialized.clone(), table_node.clone());
            let (name, parent, store_name) = (name.clone(), parent.clone(), store_name.clone());
            push(&self.plan, spec, move |b| {
                if store.borrow().is_none() {
                    let (ks, vs) = b.serdes(
                        materialized.key_serde.clone(),
                        materialized.value_serde.clone(),
                        &store_name,
                        MATERIALIZED_FIX,
                    )?;
                    let (builder, table) =
                        table_store_builder(&store_name, ks.clone(), vs, &materialized);
                    *store.borrow_mut() = Some(SharedStore {
                        builder: Some(builder),
                        table,
                        key_serde: ks,
                    });
                }
                let Some((table, key_serde)) = store
                    .borrow()
                    .as_ref()
                    .map(|s| (s.table.clone(), s.key_serde.clone()))
                else {
                    return Err(DslError::Internal {
                        node: name,
                        detail: "the cogroup's store was not made".into(),
                    });
                };
                let node = AggNode {
                    name,
                    parent,
                    caching: table.caching,
                    store: table,
                    key_serde,
                    forward_flushes: i == 0,
                    send_old_values: built.sends_old_values(),
                };
                write(b, node, init)
            });
        }
        let spec = {
            let refs: Vec<&str> = nodes.iter().map(String::as_str).collect();
            NodeSpec::new(&merge, &refs)
        };
        let merge_node = merge.clone();
        push(&self.plan, spec, move |b| {
            let handles = nodes
                .iter()
                .map(|n| b.handle::<K, Change<VOut>>(n))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<_> = handles.iter().collect();
            let h =
                b.tb.add_processor::<K, Change<VOut>, K, Change<VOut>, _, _>(
                    &merge_node,
                    &refs,
                    || OpProcessor(Arc::new(PassThrough)),
                )?;
            b.put(&merge_node, h);
            if let Some(getter) = store.borrow().as_ref().map(|s| s.table.getter()) {
                b.put_getter(&merge_node, getter);
            }
            let builder = store.borrow_mut().as_mut().and_then(|s| s.builder.take());
            if let Some(builder) = builder {
                let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
                b.tb.add_state_store(builder, &names)?;
            }
            Ok(())
        });
        KTable::new(self.plan.clone(), merge, key, value, queryable, table_node)
    }
}
