//! [`KGroupedStream`]: a grouped stream and its aggregations, `count`, `reduce` and
//! `aggregate` (Kafka's `KGroupedStream`).

use std::sync::Arc;

use crate::change::Change;
use crate::kstream::KStream;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec, PlanRef};
use crate::processors::aggregate::{self, Aggregate, Step};
use crate::serdes::{DynSerde, I64Serde};
use crate::store::table_store_builder;
use crate::table_node::TableNode;
use crate::windows::WindowSpec;

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";

/// Records grouped by key, ready to aggregate (Kafka's `KGroupedStream`). Each aggregation
/// keeps its results in a key-value store (persistent, logged to
/// `<application.id>-<store>-changelog`, cached) and is a [`KTable`] of them. A grouping
/// after a key change repartitions first, through `<store or Grouped name>-repartition`.
pub struct KGroupedStream<K, V> {
    pub(crate) plan: PlanRef,
    pub(crate) name: String,
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    /// `Grouped`'s name: names the repartition topic.
    pub(crate) repartition_name: Option<String>,
    pub(crate) repartition_required: bool,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// The number of records of each key (Kafka's `count()`), in a store named
    /// `KSTREAM-AGGREGATE-STATE-STORE-<index>`.
    pub fn count(&self) -> KTable<K, i64> {
        self.do_count(Named::empty(), Materialized::default())
    }

    /// [`count`](Self::count) with a processor name and a store.
    pub fn count_with(&self, named: Named, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        // Kafka draws an extra store name here when none is given (kept for compatibility).
        if materialized.name.is_none() {
            self.plan.borrow_mut().names.store(names::AGGREGATE);
        }
        self.do_count(named, materialized)
    }

    fn do_count(&self, named: Named, mut materialized: Materialized<K, i64>) -> KTable<K, i64> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = Some(DynSerde::new(I64Serde));
        }
        self.do_aggregate(names::AGGREGATE, named, materialized, aggregate::count())
    }

    /// Combine each key's values with `reducer(aggregate, value)`, starting from its first
    /// value (Kafka's `reduce`).
    pub fn reduce(&self, reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> KTable<K, V> {
        self.reduce_with(reducer, Named::empty(), Materialized::default())
    }

    /// [`reduce`](Self::reduce) with a processor name and a store.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        named: Named,
        mut materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = self.value_serde.clone();
        }
        self.do_aggregate(
            names::REDUCE,
            named,
            materialized,
            aggregate::reduce(reducer),
        )
    }

    /// Fold each key's values with `aggregator(key, value, aggregate)`, starting from
    /// `initializer()` (Kafka's `aggregate`). The aggregate's serde is the default for `VA`
    /// unless [`aggregate_with`](Self::aggregate_with) gives one.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<K, VA> {
        self.aggregate_with(
            initializer,
            aggregator,
            Named::empty(),
            Materialized::default(),
        )
    }

    /// [`aggregate`](Self::aggregate) with a processor name and a store.
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        let step = aggregate::aggregate(initializer, aggregator);
        self.do_aggregate(names::AGGREGATE, named, materialized, step)
    }

    /// Aggregate per window (Kafka's `windowedBy`): [`TimeWindows`](crate::TimeWindows) give
    /// a [`TimeWindowedKStream`](crate::TimeWindowedKStream),
    /// [`SlidingWindows`](crate::SlidingWindows) a
    /// [`SlidingWindowedKStream`](crate::SlidingWindowedKStream),
    /// [`SessionWindows`](crate::SessionWindows) a
    /// [`SessionWindowedKStream`](crate::SessionWindowedKStream).
    pub fn windowed_by<W: WindowSpec<K, V>>(&self, windows: W) -> W::Stream {
        windows.windowed(self.clone_grouping())
    }

    /// The same grouping, for a windowed or cogrouped view of it.
    pub(crate) fn clone_grouping(&self) -> KGroupedStream<K, V> {
        KGroupedStream {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_name: self.repartition_name.clone(),
            repartition_required: self.repartition_required,
        }
    }

    /// The node an aggregation of these records reads: the source of the repartition topic
    /// `<Grouped name or store_name>-repartition` when the key changed (its nodes queued and
    /// named now, as Kafka's `createRepartitionedSource`), else the grouped node.
    pub(crate) fn aggregation_parent(&self, store_name: &str) -> String {
        if !self.repartition_required {
            return self.name.clone();
        }
        let topic_prefix = self.repartition_name.as_deref().unwrap_or(store_name);
        let stream = KStream::<K, V> {
            plan: self.plan.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            repartition_required: true,
            join_repartition: Default::default(),
        };
        stream.repartition_nodes(
            topic_prefix,
            self.key_serde.clone(),
            self.value_serde.clone(),
            None,
            true,
        )
    }

    /// Kafka's `MaterializedInternal` (the store name, drawn first), the processor name, the
    /// repartition topic when required (`GroupedStreamAggregateBuilder.build`), then the
    /// aggregation with its store.
    fn do_aggregate<VA: Clone + 'static>(
        &self,
        prefix: &str,
        named: Named,
        mut materialized: Materialized<K, VA>,
        step: Step<K, V, VA>,
    ) -> KTable<K, VA> {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(prefix),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.key_serde.clone();
        }
        let name = processor_name(&self.plan, named.name, prefix);
        let parent = self.aggregation_parent(&store_name);
        let (key, value) = (
            materialized.key_serde.clone(),
            materialized.value_serde.clone(),
        );
        let queryable = materialized.name.clone();
        let node = name.clone();
        let store = store_name.clone();
        let grouped_value_serde = self.value_serde.clone();
        let table_node = TableNode::stateful();
        table_node.set_output_versioned(materialized.history_retention.is_some());
        let built = table_node.clone();
        push(&self.plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let (ks, vs) = b.serdes(
                materialized.key_serde.clone(),
                materialized.value_serde.clone(),
                &store,
                MATERIALIZED_FIX,
            )?;
            let value_serde = b.optional_serde(grouped_value_serde);
            let key_serde = ks.clone();
            let (builder, table_store) = table_store_builder(&store, ks, vs, &materialized);
            let getter = table_store.getter();
            let caching = table_store.caching;
            let send_old_values = built.sends_old_values();
            let step = Arc::clone(&step);
            let p = b.handle::<K, V>(&parent)?;
            let h =
                b.tb.add_processor::<K, V, K, Change<VA>, _, _>(&node, &[&p], move || Aggregate {
                    store: table_store.clone(),
                    step: step.clone(),
                    caching,
                    forward_flushes: true,
                    send_old_values,
                    key_serde: key_serde.clone(),
                    value_serde: value_serde.clone(),
                })?;
            b.put(&node, h);
            b.put_getter(&node, getter);
            b.tb.add_state_store(builder, &[&node])?;
            Ok(())
        });
        KTable::new(self.plan.clone(), name, key, value, queryable, table_node)
    }
}
