//! [`TimeWindowedKStream`]: a grouped stream cut into time windows, and its aggregations
//! `count`, `reduce` and `aggregate` (Kafka's `TimeWindowedKStream`).

use std::sync::Arc;

use crate::change::Change;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::aggregate::{self, Step};
use crate::processors::window_aggregate::{Initial, WindowAggregate};
use crate::serdes::{DynSerde, I64Serde, TimeWindowedSerde};
use crate::store::{refuse_versioned, timestamped_window_store_builder, windowed_retention_ms};
use crate::table_node::TableNode;
use crate::windowed::Windowed;
use crate::windows::{EmitStrategy, TimeWindows, WindowSpec};

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";

/// Records grouped by key and windowed by [`TimeWindows`] (Kafka's `TimeWindowedKStream`,
/// from [`KGroupedStream::windowed_by`] with [`TimeWindows`]). Each aggregation keeps one aggregate per key and
/// window in a timestamped window store (persistent, logged to
/// `<application.id>-<store>-changelog` with `cleanup.policy=compact,delete`) and is a
/// [`KTable`] keyed by [`Windowed<K>`]; write it out with
/// `Produced::with(TimeWindowedSerde::new(key_serde, size_ms), value_serde)`.
///
/// A record updates every window holding its timestamp; one arriving after its window closed
/// (stream time at or past the window's end plus the grace period) is dropped, logged and
/// counted in the task's `dropped-records` metric, as in Kafka.
pub struct TimeWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: TimeWindows,
    emit: EmitStrategy,
}

impl<K: Clone + 'static, V: Clone + 'static> WindowSpec<K, V> for TimeWindows {
    type Stream = TimeWindowedKStream<K, V>;

    fn windowed(self, grouped: KGroupedStream<K, V>) -> TimeWindowedKStream<K, V> {
        TimeWindowedKStream {
            grouped,
            windows: self,
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> TimeWindowedKStream<K, V> {
    /// When results are forwarded (KIP-825, Kafka's `emitStrategy`): every update (the
    /// default), or each window's final result once it closes
    /// ([`EmitStrategy::OnWindowClose`]).
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// The number of records of each key in each window (Kafka's `count()`).
    pub fn count(&self) -> KTable<Windowed<K>, i64> {
        self.do_count(Named::empty(), Materialized::default())
    }

    /// [`count`](Self::count) with a processor name (Kafka's `count(Named)`: unlike
    /// [`count_with`](Self::count_with) without a store name, it draws no extra index).
    pub fn count_named(&self, named: Named) -> KTable<Windowed<K>, i64> {
        self.do_count(named, Materialized::default())
    }

    /// [`count`](Self::count) with a processor name and a store.
    pub fn count_with(
        &self,
        named: Named,
        materialized: Materialized<K, i64>,
    ) -> KTable<Windowed<K>, i64> {
        // Kafka draws an extra store name here when none is given (kept for compatibility).
        if materialized.name.is_none() {
            self.grouped.plan.borrow_mut().names.store(names::AGGREGATE);
        }
        self.do_count(named, materialized)
    }

    fn do_count(
        &self,
        named: Named,
        mut materialized: Materialized<K, i64>,
    ) -> KTable<Windowed<K>, i64> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = Some(DynSerde::new(I64Serde));
        }
        let initial: Initial<i64> = Arc::new(|| Some(0));
        self.do_aggregate(
            names::AGGREGATE,
            named,
            materialized,
            aggregate::count(),
            initial,
        )
    }

    /// Combine each key's values per window with `reducer(aggregate, value)`, starting from
    /// the window's first value (Kafka's `reduce`).
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, V> {
        self.reduce_with(reducer, Named::empty(), Materialized::default())
    }

    /// [`reduce`](Self::reduce) with a processor name and a store.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        named: Named,
        mut materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        if materialized.value_serde.is_none() {
            materialized.value_serde = self.grouped.value_serde.clone();
        }
        let initial: Initial<V> = Arc::new(|| None);
        self.do_aggregate(
            names::REDUCE,
            named,
            materialized,
            aggregate::reduce(reducer),
            initial,
        )
    }

    /// Fold each key's values per window with `aggregator(key, value, aggregate)`, starting
    /// from `initializer()` (Kafka's `aggregate`).
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VA> {
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
    ) -> KTable<Windowed<K>, VA> {
        let initializer = Arc::new(initializer);
        let init = Arc::clone(&initializer);
        let initial: Initial<VA> = Arc::new(move || Some(init()));
        let step = aggregate::aggregate(move || initializer(), aggregator);
        self.do_aggregate(names::AGGREGATE, named, materialized, step, initial)
    }

    /// Kafka's order: the store name (drawn first), the processor name, the repartition
    /// topic when required, then the aggregation with its window store.
    fn do_aggregate<VA: Clone + 'static>(
        &self,
        prefix: &str,
        named: Named,
        mut materialized: Materialized<K, VA>,
        step: Step<K, V, VA>,
        initial: Initial<VA>,
    ) -> KTable<Windowed<K>, VA> {
        let plan = &self.grouped.plan;
        let store_name = match &materialized.name {
            Some(n) => n.clone(),
            None => plan.borrow_mut().names.store(prefix),
        };
        if materialized.key_serde.is_none() {
            materialized.key_serde = self.grouped.key_serde.clone();
        }
        let name = processor_name(plan, named.name, prefix);
        let parent = self.grouped.aggregation_parent(&store_name);
        let windows = self.windows;
        let size = windows.size_ms();
        let key = materialized
            .key_serde
            .clone()
            .map(|k| DynSerde::new(TimeWindowedSerde::from_dyn(k, size)));
        let value = materialized.value_serde.clone();
        let queryable = materialized.name.clone();
        let node = name.clone();
        let store = store_name.clone();
        let emit = self.emit;
        let table_node = TableNode::stateful();
        // What `suppress(until_window_closes)` downstream waits for past a window's end.
        table_node.set_window_grace(windows.grace_ms());
        let built = table_node.clone();
        push(plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let retention_ms = windowed_retention_ms(
                &store,
                &node,
                windows.size_ms(),
                windows.grace_ms(),
                &materialized,
            )?;
            let (ks, vs) = b.serdes(
                materialized.key_serde.clone(),
                materialized.value_serde.clone(),
                &store,
                MATERIALIZED_FIX,
            )?;
            let key_serde = ks.clone();
            refuse_versioned(&materialized, &store, "a windowed aggregation")?;
            let (builder, handle) =
                timestamped_window_store_builder(&store, ks, vs, retention_ms, &materialized);
            let send_old_values = built.sends_old_values();
            let step = Arc::clone(&step);
            let initial = Arc::clone(&initial);
            let p = b.handle::<K, V>(&parent)?;
            let h = b.tb.add_processor::<K, V, Windowed<K>, Change<VA>, _, _>(
                &node,
                &[&p],
                move || {
                    WindowAggregate::new(
                        handle.clone(),
                        windows,
                        step.clone(),
                        initial.clone(),
                        emit,
                        send_old_values,
                        key_serde.clone(),
                    )
                },
            )?;
            b.put(&node, h);
            b.tb.add_state_store(builder, &[&node])?;
            Ok(())
        });
        KTable::new(plan.clone(), name, key, value, queryable, table_node)
    }
}
