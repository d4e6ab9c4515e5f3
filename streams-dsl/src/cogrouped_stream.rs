//! [`CogroupedKStream`]: several grouped streams aggregated into one table, each with its
//! own aggregator (Kafka's `KGroupedStream.cogroup` and `CogroupedKStream`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use streams_core::state::{StoreHandle, ValueAndTimestamp};
use streams_core::topology::StoreBuilder;

use crate::change::Change;
use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, Build, NodeSpec, PlanRef};
use crate::processors::aggregate::{Aggregate, Step};
use crate::processors::ops::{OpProcessor, PassThrough};
use crate::processors::session_aggregate::SessionMerger;
use crate::processors::table_source::TableStore;
use crate::serdes::DynSerde;
use crate::store::table_store_builder;
use crate::table_node::{TableNode, TableNodeRef};
use crate::windowed_stream::{add_processor, Aggregation, Steps, WindowKind};
use crate::windows::{EmitStrategy, SessionWindows, SlidingWindows, TimeWindows};

pub(crate) const MATERIALIZED_FIX: &str =
    "Materialized::with(key_serde, value_serde) or Grouped::with";
/// `COGROUPKSTREAM-AGGREGATE-` (the per-stream aggregations and the store).
const COGROUP_AGGREGATE: &str = "COGROUPKSTREAM-AGGREGATE-";
/// `COGROUPKSTREAM-MERGE-`.
const COGROUP_MERGE: &str = "COGROUPKSTREAM-MERGE-";

/// The initializer shared by every stream's aggregation.
pub(crate) type Init<VOut> = Arc<dyn Fn() -> VOut + Send + Sync>;

/// Writes one stream's aggregation node.
type WriteFn<K, VOut> =
    Rc<dyn Fn(&mut Build<'_>, AggNode<K, VOut>, Init<VOut>) -> Result<(), DslError>>;

/// Makes the cogroup's store at build time (given the store's and the first aggregation's
/// names): its builder, how the aggregations use it, and its key serde.
pub(crate) type MakeStore<K, VOut> = Rc<
    dyn Fn(
        &mut Build<'_>,
        &str,
        &str,
    ) -> Result<(StoreBuilder, SharedStoreKind<K, VOut>, DynSerde<K>), DslError>,
>;

/// The store the cogroup's aggregations share, and the kind of aggregation each input's
/// processor is (Kafka's `KStreamAggregate`, `KStreamWindowAggregate`,
/// `KStreamSlidingWindowAggregate` or `KStreamSessionWindowAggregate`).
#[derive(Clone)]
pub(crate) enum SharedStoreKind<K, VOut> {
    /// A timestamped key-value store, or a versioned one (KIP-914), caching as materialized.
    KeyValue { store: TableStore<K, VOut> },
    /// A timestamped window store of time windows.
    Time {
        store: StoreHandle<K, ValueAndTimestamp<VOut>>,
        windows: TimeWindows,
    },
    /// A timestamped window store of sliding windows.
    Sliding {
        store: StoreHandle<K, ValueAndTimestamp<VOut>>,
        windows: SlidingWindows,
    },
    /// A session store; `merger` combines two sessions a record bridges.
    Session {
        store: StoreHandle<K, VOut>,
        windows: SessionWindows,
        merger: SessionMerger<K, VOut>,
    },
}

/// One stream's aggregation node, as the build writes it.
struct AggNode<K, VOut> {
    name: String,
    parent: String,
    kind: SharedStoreKind<K, VOut>,
    key_serde: DynSerde<K>,
    /// Only the first node forwards the shared store's cache flushes.
    forward_flushes: bool,
    send_old_values: bool,
}

/// The cogroup's store while the build writes it.
struct SharedStore<K, VOut> {
    builder: Option<StoreBuilder>,
    kind: SharedStoreKind<K, VOut>,
    key_serde: DynSerde<K>,
}

/// One cogrouped stream, its value type erased: how to find its parent (repartitioning
/// first when needed) and how to write its aggregation.
struct Pattern<K, VOut> {
    parent: Box<dyn Fn(&str) -> String>,
    write: WriteFn<K, VOut>,
}

/// The table a cogroup's build ends in: its key and value serdes, queryable store name and
/// table node.
pub(crate) struct CogroupTable<KT, VOut> {
    pub key: Option<DynSerde<KT>>,
    pub value: Option<DynSerde<VOut>>,
    pub queryable: Option<String>,
    pub node: TableNodeRef,
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
                let init_step = init.clone();
                let step: Step<K, V, VOut> =
                    Arc::new(move |k, v, old| aggregator(k, v, old.unwrap_or_else(|| init_step())));
                let value_serde = b.optional_serde(value_serde.clone());
                write_aggregation(b, n, init, step, value_serde)
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
        materialized: Materialized<K, VOut>,
    ) -> KTable<K, VOut> {
        let (store_name, materialized) = self.materialized(materialized);
        let node = TableNode::stateful();
        node.set_output_versioned(materialized.history_retention.is_some());
        let table = CogroupTable {
            key: materialized.key_serde.clone(),
            value: materialized.value_serde.clone(),
            queryable: materialized.name.clone(),
            node,
        };
        let make_store: MakeStore<K, VOut> = Rc::new(move |b, store, _| {
            let (ks, vs) = b.serdes(
                materialized.key_serde.clone(),
                materialized.value_serde.clone(),
                store,
                MATERIALIZED_FIX,
            )?;
            let (builder, table) = table_store_builder(store, ks.clone(), vs, &materialized);
            let kind = SharedStoreKind::KeyValue { store: table };
            Ok((builder, kind, ks))
        });
        self.build(Arc::new(initializer), named, store_name, make_store, table)
    }

    /// The store's name (drawn first when `materialized` has none, as Kafka's
    /// `MaterializedInternal`), and `materialized` with the first stream's key serde when it
    /// has none.
    pub(crate) fn materialized(
        &self,
        mut materialized: Materialized<K, VOut>,
    ) -> (String, Materialized<K, VOut>) {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(COGROUP_AGGREGATE),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.key_serde.clone();
        }
        (store_name, materialized)
    }

    /// The plan of every cogroup (Kafka's `CogroupedStreamAggregateBuilder.build`), after
    /// the store name: each stream's repartition where its key changed, one aggregation per
    /// stream sharing the store `make_store` makes, and the merge node the table `table` is.
    pub(crate) fn build<KT: Clone + 'static>(
        &self,
        init: Init<VOut>,
        named: Named,
        store_name: String,
        make_store: MakeStore<K, VOut>,
        table: CogroupTable<KT, VOut>,
    ) -> KTable<KT, VOut> {
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
        // The store, made by the first aggregation's step and added by the merge's.
        let store: Rc<RefCell<Option<SharedStore<K, VOut>>>> = Rc::new(RefCell::new(None));
        // One graph node per stream's aggregation (Kafka's), so the optimizer can move each.
        for (i, ((pattern, (parent, index)), name)) in
            self.patterns.iter().zip(&parents).zip(&nodes).enumerate()
        {
            let spec = NodeSpec::new(name, &[]).parent_at(parent, *index);
            let (write, init, store) = (pattern.write.clone(), init.clone(), store.clone());
            let (make_store, built) = (make_store.clone(), table.node.clone());
            let (name, parent, store_name) = (name.clone(), parent.clone(), store_name.clone());
            push(&self.plan, spec, move |b| {
                if store.borrow().is_none() {
                    let (builder, kind, key_serde) = make_store(b, &store_name, &name)?;
                    *store.borrow_mut() = Some(SharedStore {
                        builder: Some(builder),
                        kind,
                        key_serde,
                    });
                }
                let Some((kind, key_serde)) = store
                    .borrow()
                    .as_ref()
                    .map(|s| (s.kind.clone(), s.key_serde.clone()))
                else {
                    return Err(DslError::Internal {
                        node: name,
                        detail: "the cogroup's store was not made".into(),
                    });
                };
                let node = AggNode {
                    name,
                    parent,
                    kind,
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
                .map(|n| b.handle::<KT, Change<VOut>>(n))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<_> = handles.iter().collect();
            let h =
                b.tb.add_processor::<KT, Change<VOut>, KT, Change<VOut>, _, _>(
                    &merge_node,
                    &refs,
                    || OpProcessor(Arc::new(PassThrough)),
                )?;
            b.put(&merge_node, h);
            // A key-value cogroup's table reads its values from the store (the table's key
            // type is the store's then).
            let kv = store.borrow().as_ref().and_then(|s| match &s.kind {
                SharedStoreKind::KeyValue { store } => Some(store.getter()),
                _ => None,
            });
            if let Some(getter) = kv {
                b.put_getter(&merge_node, getter);
            }
            let builder = store.borrow_mut().as_mut().and_then(|s| s.builder.take());
            if let Some(builder) = builder {
                let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
                b.tb.add_state_store(builder, &names)?;
            }
            Ok(())
        });
        let CogroupTable {
            key,
            value,
            queryable,
            node,
        } = table;
        KTable::new(self.plan.clone(), merge, key, value, queryable, node)
    }
}

/// Write one stream's aggregation processor `n` of the kind its shared store is; every
/// windowed cogroup forwards each update (Kafka's cogroups have no other emit strategy).
fn write_aggregation<K, V, VOut>(
    b: &mut Build<'_>,
    n: AggNode<K, VOut>,
    init: Init<VOut>,
    step: Step<K, V, VOut>,
    value_serde: Option<DynSerde<V>>,
) -> Result<(), DslError>
where
    K: Clone + 'static,
    V: Clone + 'static,
    VOut: Clone + 'static,
{
    let AggNode {
        name,
        parent,
        kind,
        key_serde,
        forward_flushes,
        send_old_values,
    } = n;
    let (name, parent) = (name.as_str(), parent.as_str());
    let steps = Steps {
        initial: Arc::new(move || Some(init())),
        step,
        merger: None,
    };
    // Every kind's aggregation but its store.
    let common = Aggregation {
        store: (),
        steps,
        emit: EmitStrategy::OnWindowUpdate,
        send_old_values,
        key_serde,
        value_serde,
        forward_flushes,
    };
    match kind {
        SharedStoreKind::KeyValue { store } => {
            let caching = store.caching;
            let Aggregation {
                steps: Steps { step, .. },
                key_serde,
                value_serde,
                ..
            } = common;
            add_processor(b, name, parent, move || Aggregate {
                store: store.clone(),
                step: step.clone(),
                caching,
                forward_flushes,
                send_old_values,
                key_serde: key_serde.clone(),
                value_serde: value_serde.clone(),
            })
        }
        SharedStoreKind::Time { store, windows } => {
            windows.add_aggregation(b, name, parent, common.with_store(store))
        }
        SharedStoreKind::Sliding { store, windows } => {
            windows.add_aggregation(b, name, parent, common.with_store(store))
        }
        SharedStoreKind::Session {
            store,
            windows,
            merger,
        } => {
            let mut aggregation = common.with_store(store);
            aggregation.steps.merger = Some(merger);
            windows.add_aggregation(b, name, parent, aggregation)
        }
    }
}
