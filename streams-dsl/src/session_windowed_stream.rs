//! [`SessionWindowedKStream`]: a grouped stream cut into sessions of activity, and its
//! aggregations `count`, `reduce` and `aggregate` (Kafka's `SessionWindowedKStream`).

use std::sync::Arc;

use crate::change::Change;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, NodeSpec};
use crate::processors::aggregate::{self, Step};
use crate::processors::session_aggregate::{SessionAggregate, SessionMerger};
use crate::processors::window_aggregate::Initial;
use crate::serdes::{DynSerde, I64Serde, SessionWindowedSerde};
use crate::store::{refuse_versioned, session_store_builder, windowed_retention_ms};
use crate::table_node::TableNode;
use crate::windowed::Windowed;
use crate::windows::{EmitStrategy, SessionWindows, WindowSpec};

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";

/// Records grouped by key and cut into sessions by [`SessionWindows`] (Kafka's
/// `SessionWindowedKStream`, from [`KGroupedStream::windowed_by`] with [`SessionWindows`]). Each aggregation
/// keeps one aggregate per key and session in a session store (persistent, logged to
/// `<application.id>-<store>-changelog` with `cleanup.policy=compact,delete`) and is a
/// [`KTable`] keyed by [`Windowed<K>`] (the session `[start, end]`); write it out with
/// `Produced::with(SessionWindowedSerde::new(key_serde), value_serde)`.
///
/// A record that bridges sessions merges them: the merged-away sessions are forwarded as
/// tombstones (`None`), then the merged session's aggregate, as in Kafka. A record whose
/// session already closed (its end before stream time minus gap and grace) is dropped and
/// counted in `dropped-records`.
pub struct SessionWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: SessionWindows,
    emit: EmitStrategy,
}

impl<K: Clone + 'static, V: Clone + 'static> WindowSpec<K, V> for SessionWindows {
    type Stream = SessionWindowedKStream<K, V>;

    fn windowed(self, grouped: KGroupedStream<K, V>) -> SessionWindowedKStream<K, V> {
        SessionWindowedKStream {
            grouped,
            windows: self,
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SessionWindowedKStream<K, V> {
    /// When results are forwarded (KIP-825): every update (the default), or each session's
    /// final result once it closes ([`EmitStrategy::OnWindowClose`]).
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// The number of records of each key's sessions (Kafka's `count()`).
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
        let merger: SessionMerger<K, i64> = Arc::new(|_, a, b| a.unwrap_or(0) + b);
        self.do_aggregate(
            names::AGGREGATE,
            named,
            materialized,
            (initial, aggregate::count(), merger),
        )
    }

    /// Combine each session's values with `reducer(aggregate, value)`, starting from its
    /// first value; merged sessions combine with `reducer(earlier, later)` (Kafka's `reduce`).
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
        let reducer = Arc::new(reducer);
        let r = Arc::clone(&reducer);
        let initial: Initial<V> = Arc::new(|| None);
        let merger: SessionMerger<K, V> = Arc::new(move |_, a, b| match a {
            None => b,
            Some(a) => r(a, b),
        });
        let step = aggregate::reduce(move |a, b| reducer(a, b));
        self.do_aggregate(names::REDUCE, named, materialized, (initial, step, merger))
    }

    /// Fold each session's values with `aggregator(key, value, aggregate)` from
    /// `initializer()`; two sessions a record bridges combine with
    /// `merger(key, aggregate, other session's aggregate)` (Kafka's `aggregate`).
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        merger: impl Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VA> {
        self.aggregate_with(
            initializer,
            aggregator,
            merger,
            Named::empty(),
            Materialized::default(),
        )
    }

    /// [`aggregate`](Self::aggregate) with a processor name and a store.
    pub fn aggregate_with<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
        merger: impl Fn(&K, VA, VA) -> VA + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let initializer = Arc::new(initializer);
        let (i1, i2) = (Arc::clone(&initializer), Arc::clone(&initializer));
        let initial: Initial<VA> = Arc::new(move || Some(i1()));
        let merger: SessionMerger<K, VA> =
            Arc::new(move |k, a, b| merger(k, a.unwrap_or_else(|| i2()), b));
        let step = aggregate::aggregate(move || initializer(), aggregator);
        self.do_aggregate(
            names::AGGREGATE,
            named,
            materialized,
            (initial, step, merger),
        )
    }

    /// Kafka's order: the store name (drawn first), the processor name, the repartition
    /// topic when required, then the aggregation with its session store.
    fn do_aggregate<VA: Clone + 'static>(
        &self,
        prefix: &str,
        named: Named,
        mut materialized: Materialized<K, VA>,
        (initial, step, merger): (Initial<VA>, Step<K, V, VA>, SessionMerger<K, VA>),
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
        let key = materialized
            .key_serde
            .clone()
            .map(|k| DynSerde::new(SessionWindowedSerde::from_dyn(k)));
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
                windows.inactivity_gap_ms(),
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
            refuse_versioned(&materialized, &store, "a session aggregation")?;
            let (builder, handle) =
                session_store_builder(&store, ks, vs, retention_ms, &materialized);
            let send_old_values = built.sends_old_values();
            let (initial, step, merger) =
                (Arc::clone(&initial), Arc::clone(&step), Arc::clone(&merger));
            let p = b.handle::<K, V>(&parent)?;
            let h = b.tb.add_processor::<K, V, Windowed<K>, Change<VA>, _, _>(
                &node,
                &[&p],
                move || {
                    SessionAggregate::new(
                        handle.clone(),
                        windows,
                        initial.clone(),
                        step.clone(),
                        merger.clone(),
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
