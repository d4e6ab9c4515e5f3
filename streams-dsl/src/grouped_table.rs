//! [`KGroupedTable`]: a regrouped table and its aggregations, `count`, `reduce` and
//! `aggregate`, each with an adder and a subtractor (Kafka's `KGroupedTable`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use streams_core::timestamp::FailOnInvalidTimestamp;

use crate::change::{Change, ChangeSerde};
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec, PlanRef};
use crate::processors::aggregate::{self, Step};
use crate::processors::table_aggregate::{self as table_agg, Subtract, TableAggregate};
use crate::serdes::{DynSerde, I64Serde};
use crate::store::table_store_builder;
use crate::table_node::TableNode;

const GROUPED_FIX: &str = "Grouped::with(key_serde, value_serde) on group_by";
const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";

/// A table's rows grouped by a new key (Kafka's `KGroupedTable`), from
/// [`KTable::group_by`]. Every aggregation goes through the repartition topic
/// `<Grouped name or store name>-repartition`, which carries Kafka's `Change` encoding: a row
/// that stays under its key is one record with the old and the new value, a row that moves
/// is two, the subtraction from its old key and then the addition to its new one. Results
/// are kept in a timestamped key-value store (persistent, logged, cached unless
/// `Materialized` says otherwise) and are a [`KTable`].
pub struct KGroupedTable<K, V> {
    pub(crate) plan: PlanRef,
    /// The selection node.
    pub(crate) name: String,
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    /// `Grouped`'s name: names the repartition topic.
    pub(crate) repartition_name: Option<String>,
    /// The repartition topic's source once an aggregation wrote it: with a `Grouped` name,
    /// later aggregations read the same topic (Kafka reuses its repartition node then).
    pub(crate) repartition_source: Rc<RefCell<Option<String>>>,
}

impl<K, V> std::fmt::Debug for KGroupedTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KGroupedTable")
            .field("name", &self.name)
            .field("repartition_name", &self.repartition_name)
            .finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedTable<K, V> {
    /// The number of rows under each key (Kafka's `count()`): a row that leaves a key
    /// decrements it (down to 0, which stays), in a store named
    /// `KTABLE-AGGREGATE-STATE-STORE-<index>`.
    pub fn count(&self) -> KTable<K, i64> {
        self.count_with(Named::empty(), Materialized::default())
    }

    /// [`count`](Self::count) with a processor name and a store.
    pub fn count_with(
        &self,
        named: Named,
        mut materialized: Materialized<K, i64>,
    ) -> KTable<K, i64> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = Some(DynSerde::new(I64Serde));
        }
        let fns = (aggregate::count(), table_agg::count_subtract());
        self.do_aggregate(names::KTABLE_AGGREGATE, named, materialized, fns)
    }

    /// Combine each key's values with `adder(aggregate, value)`, starting from its first
    /// value, and take a row's old value out with `subtractor(aggregate, old)` (Kafka's
    /// `reduce(adder, subtractor)`).
    pub fn reduce(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.reduce_with(adder, subtractor, Named::empty(), Materialized::default())
    }

    /// [`reduce`](Self::reduce) with a processor name and a store.
    pub fn reduce_with(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
        named: Named,
        mut materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = self.value_serde.clone();
        }
        let fns = (
            aggregate::reduce(adder),
            table_agg::reduce_subtract(subtractor),
        );
        self.do_aggregate(names::KTABLE_REDUCE, named, materialized, fns)
    }

    /// Fold each key's values with `adder(key, value, aggregate)` from `initializer()`, and
    /// take a row's old value out with `subtractor(key, old, aggregate)` (Kafka's
    /// `aggregate(initializer, adder, subtractor)`). The aggregate's serde is the default
    /// for `VA` unless [`aggregate_with`](Self::aggregate_with) gives one.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<K, VA> {
        self.aggregate_with(
            initializer,
            adder,
            subtractor,
            Named::empty(),
            Materialized::default(),
        )
    }

    /// [`aggregate`](Self::aggregate) with a processor name and a store.
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        let fns = (
            aggregate::aggregate(initializer, adder),
            table_agg::aggregate_subtract(subtractor),
        );
        self.do_aggregate(names::KTABLE_AGGREGATE, named, materialized, fns)
    }

    /// Kafka's `KGroupedTableImpl.doAggregate`: the store name (drawn first, always with the
    /// `KTABLE-AGGREGATE-` prefix), the repartition sink and source (`<Named>-sink`/`-source`
    /// or generated), the processor, then the nodes: the repartition topic with `Change`
    /// values, and the aggregation with its store.
    fn do_aggregate<VA: Clone + 'static>(
        &self,
        prefix: &str,
        named: Named,
        mut materialized: Materialized<K, VA>,
        (add, subtract): (Step<K, V, VA>, Subtract<K, V, VA>),
    ) -> KTable<K, VA> {
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => self.plan.borrow_mut().names.store(names::KTABLE_AGGREGATE),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.key_serde.clone();
        }
        let suffixed = |suffix: &str| named.name.as_ref().map(|n| format!("{n}{suffix}"));
        let sink = processor_name(&self.plan, suffixed("-sink"), names::SINK);
        let source = processor_name(&self.plan, suffixed("-source"), names::SOURCE);
        let name = processor_name(&self.plan, named.name, prefix);
        let topic = format!(
            "{}{}",
            self.repartition_name.as_deref().unwrap_or(&store_name),
            names::REPARTITION_TOPIC_SUFFIX
        );
        let (key, value) = (
            materialized.key_serde.clone(),
            materialized.value_serde.clone(),
        );
        let queryable = materialized.name.clone();
        let table_node = TableNode::stateful();
        table_node.set_output_versioned(materialized.history_retention.is_some());
        let built = table_node.clone();
        let (select, node, store) = (self.name.clone(), name.clone(), store_name);
        let (gk, gv) = (self.key_serde.clone(), self.value_serde.clone());
        let shared = self.repartition_name.is_some();
        let existing = if shared {
            self.repartition_source.borrow().clone()
        } else {
            None
        };
        if shared && existing.is_none() {
            *self.repartition_source.borrow_mut() = Some(source.clone());
        }
        push(&self.plan, NodeSpec::new(&name, &[&select]), move |b| {
            let source = match existing {
                Some(s) => s,
                None => {
                    let (rks, rvs) = b.serdes(gk, gv, &sink, GROUPED_FIX)?;
                    let change_serde = ChangeSerde { inner: rvs };
                    b.tb.add_internal_topic(&topic);
                    let p = b.handle::<K, Change<V>>(&select)?;
                    b.tb.add_sink(&sink, &topic, rks.clone(), change_serde.clone(), &[&p])?;
                    let s = b.tb.add_source_with::<K, Change<V>>(
                        &source,
                        &[&topic],
                        None,
                        rks,
                        change_serde,
                        None,
                        Some(Arc::new(FailOnInvalidTimestamp)),
                    )?;
                    b.put(&source, s);
                    source
                }
            };
            let s = b.handle::<K, Change<V>>(&source)?;
            let (ks, vs) = b.serdes(
                materialized.key_serde.clone(),
                materialized.value_serde.clone(),
                &store,
                MATERIALIZED_FIX,
            )?;
            let key_serde = ks.clone();
            let (builder, table_store) = table_store_builder(&store, ks, vs, &materialized);
            let getter = table_store.getter();
            let caching = table_store.caching;
            let send_old_values = built.sends_old_values();
            let h =
                b.tb.add_processor::<K, Change<V>, K, Change<VA>, _, _>(&node, &[&s], move || {
                    TableAggregate {
                        store: table_store.clone(),
                        add: add.clone(),
                        subtract: subtract.clone(),
                        caching,
                        send_old_values,
                        key_serde: key_serde.clone(),
                    }
                })?;
            b.put(&node, h);
            b.put_getter(&node, getter);
            b.tb.add_state_store(builder, &[&node])?;
            Ok(())
        });
        KTable::new(self.plan.clone(), name, key, value, queryable, table_node)
    }
}
