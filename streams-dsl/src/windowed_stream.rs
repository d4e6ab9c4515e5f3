//! [`WindowedKStream`]: a grouped stream windowed by one kind of window, and the aggregations
//! `count`, `reduce` and `aggregate` every kind shares (Kafka's `TimeWindowedKStream` and
//! `SessionWindowedKStream`). What differs by kind — the store, the processor, the windowed
//! key serde — is the crate's [`WindowKind`], implemented by [`TimeWindows`](crate::TimeWindows),
//! [`SlidingWindows`](crate::SlidingWindows) and [`SessionWindows`](crate::SessionWindows)
//! (next to their aliases [`crate::TimeWindowedKStream`], [`crate::SlidingWindowedKStream`],
//! [`crate::SessionWindowedKStream`]).

use std::sync::Arc;

use streams_core::processor::Processor;
use streams_core::topology::StoreBuilder;

use crate::cogrouped_stream::SharedStoreKind;
use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::{processor_name, push, Build, NodeSpec};
use crate::processors::aggregate::{self, Step};
use crate::processors::session_aggregate::SessionMerger;
use crate::processors::window_aggregate::Initial;
use crate::serdes::{DynSerde, I64Serde};
use crate::store::{refuse_versioned, windowed_retention_ms};
use crate::table_node::TableNode;
use crate::windowed::Windowed;
use crate::windows::EmitStrategy;

const MATERIALIZED_FIX: &str = "Materialized::with(key_serde, value_serde) or Grouped::with";

/// What one windowed aggregation folds with: the aggregate a window starts from (as the old
/// value Kafka forwards for a new window), the step, and how two sessions combine (sessions
/// only).
pub(crate) struct Steps<K, V, VA> {
    pub initial: Initial<VA>,
    pub step: Step<K, V, VA>,
    pub merger: Option<SessionMerger<K, VA>>,
}

impl<K, V, VA> Clone for Steps<K, V, VA> {
    fn clone(&self) -> Self {
        Steps {
            initial: Arc::clone(&self.initial),
            step: Arc::clone(&self.step),
            merger: self.merger.clone(),
        }
    }
}

/// One windowed aggregation processor, as a [`WindowKind`] makes it.
pub(crate) struct Aggregation<K, V, VA, S> {
    pub store: S,
    pub steps: Steps<K, V, VA>,
    pub emit: EmitStrategy,
    /// Forward the aggregate each update replaces (a downstream table node asked for it).
    pub send_old_values: bool,
    pub key_serde: DynSerde<K>,
    /// The grouped stream's value serde (a sliding aggregation skips null values with it).
    pub value_serde: Option<DynSerde<V>>,
    /// Forward the store's cache flushes (only the first of a cogroup's aggregations does).
    pub forward_flushes: bool,
}

impl<K, V, VA, S> Aggregation<K, V, VA, S> {
    /// The same aggregation over `store`.
    pub(crate) fn with_store<T>(self, store: T) -> Aggregation<K, V, VA, T> {
        Aggregation {
            store,
            steps: self.steps,
            emit: self.emit,
            send_old_values: self.send_old_values,
            key_serde: self.key_serde,
            value_serde: self.value_serde,
            forward_flushes: self.forward_flushes,
        }
    }
}

/// A kind of window (time, sliding, session): its store, its aggregation processor and its
/// windowed keys. Crate-private: the window specifications implement it.
pub(crate) trait WindowKind: Copy + 'static {
    /// The handle of the kind's store, for aggregates of `VA` by `K`.
    type Store<K: 'static, VA: 'static>: Clone + 'static;
    /// The grace period (ms).
    fn grace_ms(&self) -> i64;
    /// What the store's retention must cover besides the grace period (ms).
    fn store_size_ms(&self) -> i64;
    /// How long past a window's end `suppress(until_window_closes)` downstream waits (ms):
    /// the grace period (Kafka's `GraphGraceSearchUtil`; sessions add their gap).
    fn close_delay_ms(&self) -> i64 {
        self.grace_ms()
    }
    /// The serde of the table's windowed keys (Kafka's `FullTimeWindowedSerde` or
    /// `SessionWindowedSerde`).
    fn windowed_serde<K: Clone + 'static>(&self, key: DynSerde<K>) -> DynSerde<Windowed<K>>;
    /// The store `name` with its serdes and retention.
    fn store<K: 'static, VA: 'static>(
        &self,
        name: &str,
        key_serde: DynSerde<K>,
        value_serde: DynSerde<VA>,
        retention_ms: i64,
        materialized: &Materialized<K, VA>,
    ) -> (StoreBuilder, Self::Store<K, VA>);
    /// Add the aggregation processor `node` below `parent`.
    fn add_aggregation<K: Clone + 'static, V: Clone + 'static, VA: Clone + 'static>(
        &self,
        b: &mut Build<'_>,
        node: &str,
        parent: &str,
        aggregation: Aggregation<K, V, VA, Self::Store<K, VA>>,
    ) -> Result<(), DslError>;
}

/// The window kinds whose windows never merge — time and sliding windows: their
/// `aggregate` takes no merger, and a cogroup's shared store of the kind is known by it.
pub(crate) trait TimeKind: WindowKind {
    /// A cogroup's aggregations over `store`, of this kind.
    fn shared<K: 'static, VOut: 'static>(
        self,
        store: Self::Store<K, VOut>,
    ) -> SharedStoreKind<K, VOut>;
}

/// Records grouped by key and windowed by `W` (from [`KGroupedStream::windowed_by`]), named
/// by kind [`crate::TimeWindowedKStream`], [`crate::SlidingWindowedKStream`] and
/// [`crate::SessionWindowedKStream`]: each aggregation keeps one aggregate per key and window
/// (or session) in a window (session) store — persistent, logged to
/// `<application.id>-<store>-changelog` with `cleanup.policy=compact,delete` — and is a
/// [`KTable`] keyed by [`Windowed<K>`].
pub struct WindowedKStream<W, K, V> {
    pub(crate) grouped: KGroupedStream<K, V>,
    pub(crate) windows: W,
    pub(crate) emit: EmitStrategy,
}

impl<W: std::fmt::Debug, K, V> std::fmt::Debug for WindowedKStream<W, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowedKStream")
            .field("windows", &self.windows)
            .field("emit", &self.emit)
            .finish_non_exhaustive()
    }
}

impl<W, K, V> WindowedKStream<W, K, V> {
    /// `grouped` windowed by `windows`, forwarding every update.
    pub(crate) fn new(grouped: KGroupedStream<K, V>, windows: W) -> Self {
        WindowedKStream {
            grouped,
            windows,
            emit: EmitStrategy::default(),
        }
    }
}

// `WindowKind` is crate-private on purpose (it builds with the crate's plan types): only the
// crate's window specifications are kinds, which callers reach through `windowed_by`.
#[allow(private_bounds)]
impl<W: WindowKind, K: Clone + 'static, V: Clone + 'static> WindowedKStream<W, K, V> {
    /// When results are forwarded (KIP-825, Kafka's `emitStrategy`): every update (the
    /// default), or each window's (session's) final result once it closes
    /// ([`EmitStrategy::OnWindowClose`]).
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// The number of records of each key in each window or session (Kafka's `count()`).
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
        let steps = Steps {
            initial: Arc::new(|| Some(0)),
            step: aggregate::count(),
            merger: Some(Arc::new(|_, a, b| a.unwrap_or(0) + b)),
        };
        self.do_aggregate(names::AGGREGATE, named, materialized, steps)
    }

    /// Combine each key's values per window (session) with `reducer(aggregate, value)`,
    /// starting from the first value; merged sessions combine with `reducer(earlier, later)`
    /// (Kafka's `reduce`).
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
        let merger: SessionMerger<K, V> = Arc::new(move |_, a, b| match a {
            None => b,
            Some(a) => r(a, b),
        });
        let steps = Steps {
            initial: Arc::new(|| None),
            step: aggregate::reduce(move |a, b| reducer(a, b)),
            merger: Some(merger),
        };
        self.do_aggregate(names::REDUCE, named, materialized, steps)
    }

    /// `aggregate`'s steps: `aggregator(key, value, aggregate)` from `initializer()`, which is
    /// also a new window's old value (no merger: sessions add theirs).
    pub(crate) fn aggregate_steps<VA: Clone + 'static>(
        initializer: Arc<dyn Fn() -> VA + Send + Sync>,
        aggregator: impl Fn(&K, V, VA) -> VA + Send + Sync + 'static,
    ) -> Steps<K, V, VA> {
        let init = Arc::clone(&initializer);
        Steps {
            initial: Arc::new(move || Some(init())),
            step: aggregate::aggregate(move || initializer(), aggregator),
            merger: None,
        }
    }

    /// Kafka's order: the store name (drawn first), the processor name, the repartition
    /// topic when required, then the aggregation with its store.
    pub(crate) fn do_aggregate<VA: Clone + 'static>(
        &self,
        prefix: &str,
        named: Named,
        mut materialized: Materialized<K, VA>,
        steps: Steps<K, V, VA>,
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
            .map(|k| windows.windowed_serde(k));
        let value = materialized.value_serde.clone();
        let queryable = materialized.name.clone();
        let node = name.clone();
        let emit = self.emit;
        let grouped_value_serde = self.grouped.value_serde.clone();
        let table_node = TableNode::stateful();
        // What `suppress(until_window_closes)` downstream waits for past a window's end.
        table_node.set_window_grace(windows.close_delay_ms());
        let built = table_node.clone();
        push(plan, NodeSpec::new(&name, &[&parent]), move |b| {
            let retention_ms = windowed_retention_ms(
                &store_name,
                &node,
                windows.store_size_ms(),
                windows.grace_ms(),
                &materialized,
            )?;
            let (ks, vs) = b.serdes(
                materialized.key_serde.clone(),
                materialized.value_serde.clone(),
                &store_name,
                MATERIALIZED_FIX,
            )?;
            refuse_versioned(
                &materialized,
                &store_name,
                "a windowed or session aggregation",
            )?;
            let (builder, store) =
                windows.store(&store_name, ks.clone(), vs, retention_ms, &materialized);
            let aggregation = Aggregation {
                store,
                steps: steps.clone(),
                emit,
                send_old_values: built.sends_old_values(),
                key_serde: ks,
                value_serde: b.optional_serde(grouped_value_serde.clone()),
                forward_flushes: true,
            };
            windows.add_aggregation(b, &node, &parent, aggregation)?;
            b.tb.add_state_store(builder, &[&node])?;
            Ok(())
        });
        KTable::new(plan.clone(), name, key, value, queryable, table_node)
    }
}

// As above: `TimeKind` is crate-private on purpose.
#[allow(private_bounds)]
impl<W: TimeKind, K: Clone + 'static, V: Clone + 'static> WindowedKStream<W, K, V> {
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
        let steps = Self::aggregate_steps(Arc::new(initializer), aggregator);
        self.do_aggregate(names::AGGREGATE, named, materialized, steps)
    }
}

/// Add processor `node` below `parent`, made by `make` for each task.
pub(crate) fn add_processor<KIn, VIn, KOut, VOut, P>(
    b: &mut Build<'_>,
    node: &str,
    parent: &str,
    make: impl Fn() -> P + Send + Sync + 'static,
) -> Result<(), DslError>
where
    KIn: 'static,
    VIn: 'static,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
    P: Processor<KIn, VIn, KOut, VOut>,
{
    let p = b.handle::<KIn, VIn>(parent)?;
    let h =
        b.tb.add_processor::<KIn, VIn, KOut, VOut, _, _>(node, &[&p], make)?;
    b.put(node, h);
    Ok(())
}
