//! Windowed cogroups (Kafka's `CogroupedKStream.windowedBy`): [`TimeWindowedCogroupedKStream`]
//! (time windows), [`SlidingWindowedCogroupedKStream`] (sliding windows) and
//! [`SessionWindowedCogroupedKStream`] (sessions), each aggregating every cogrouped stream
//! into one windowed table.

use std::rc::Rc;
use std::sync::Arc;

use crate::cogrouped_stream::{
    CogroupTable, CogroupedKStream, Init, MakeStore, SharedStoreKind, MATERIALIZED_FIX,
};
use crate::ktable::KTable;
use crate::options::{Materialized, Named};
use crate::processors::session_aggregate::SessionMerger;
use crate::store::{refuse_versioned, windowed_retention_ms};
use crate::table_node::TableNode;
use crate::windowed::Windowed;
use crate::windowed_stream::{TimeKind, WindowKind};
use crate::windows::{CogroupWindowSpec, SessionWindows, SlidingWindows, TimeWindows};

/// Cogrouped streams windowed by `W` (Kafka's `TimeWindowedCogroupedKStream` and
/// `SessionWindowedCogroupedKStream`, from [`CogroupedKStream::windowed_by`]), named by kind
/// [`TimeWindowedCogroupedKStream`], [`SlidingWindowedCogroupedKStream`] and
/// [`SessionWindowedCogroupedKStream`]: `aggregate` keeps one aggregate per key and window
/// (session) in one window (session) store — named, retained, logged and cached as a
/// [`crate::WindowedKStream`]'s — updated by each stream's records with that stream's
/// aggregator, and is a [`KTable`] keyed by [`Windowed<K>`].
///
/// As in Kafka, each stream's aggregation keeps its own stream time: a record is dropped
/// (and counted in `dropped-records`) when its window closed by the time its own stream has
/// seen; every update is forwarded (Kafka's windowed cogroups have no emit-on-window-close).
pub struct WindowedCogroupedKStream<W, K, VOut> {
    cogroup: CogroupedKStream<K, VOut>,
    windows: W,
}

/// Cogrouped streams windowed by [`TimeWindows`] (Kafka's `TimeWindowedCogroupedKStream`).
pub type TimeWindowedCogroupedKStream<K, VOut> = WindowedCogroupedKStream<TimeWindows, K, VOut>;

/// Cogrouped streams windowed by [`SlidingWindows`] (Kafka's
/// `SlidingWindowedCogroupedKStreamImpl`, a `TimeWindowedCogroupedKStream` in Java): the
/// windows of a [`crate::SlidingWindowedKStream`].
pub type SlidingWindowedCogroupedKStream<K, VOut> =
    WindowedCogroupedKStream<SlidingWindows, K, VOut>;

/// Cogrouped streams cut into sessions by [`SessionWindows`] (Kafka's
/// `SessionWindowedCogroupedKStream`): a record bridging sessions merges them with the merger
/// (the merged sessions forwarded as tombstones first), as a
/// [`crate::SessionWindowedKStream`] does.
pub type SessionWindowedCogroupedKStream<K, VOut> =
    WindowedCogroupedKStream<SessionWindows, K, VOut>;

impl<W: std::fmt::Debug, K, VOut> std::fmt::Debug for WindowedCogroupedKStream<W, K, VOut> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowedCogroupedKStream")
            .field("cogroup", &self.cogroup)
            .field("windows", &self.windows)
            .finish()
    }
}

macro_rules! cogroup_window_spec {
    ($($w:ty),*) => {$(
        impl<K: Clone + 'static, VOut: Clone + 'static> CogroupWindowSpec<K, VOut> for $w {
            type Stream = WindowedCogroupedKStream<$w, K, VOut>;

            fn cogroup_windowed(self, cogroup: CogroupedKStream<K, VOut>) -> Self::Stream {
                WindowedCogroupedKStream {
                    cogroup,
                    windows: self,
                }
            }
        }
    )*};
}

cogroup_window_spec!(TimeWindows, SlidingWindows, SessionWindows);

impl<K: Clone + 'static, VOut: Clone + 'static> CogroupedKStream<K, VOut> {
    /// Window the cogrouped streams (Kafka's `windowedBy`): by [`TimeWindows`] into a
    /// [`TimeWindowedCogroupedKStream`], by [`SlidingWindows`] into a
    /// [`SlidingWindowedCogroupedKStream`], by [`SessionWindows`] into a
    /// [`SessionWindowedCogroupedKStream`].
    pub fn windowed_by<W: CogroupWindowSpec<K, VOut>>(self, windows: W) -> W::Stream {
        windows.cogroup_windowed(self)
    }
}

/// A windowed cogroup's aggregation (Kafka's `CogroupedStreamAggregateBuilder` with the
/// kind's store materializer): one store of the window kind, its retention at least the
/// kind's size plus grace, the aggregations made by `kind`; the table's keys are the kind's
/// windowed keys, and a downstream `suppress(until_window_closes)` waits for the grace period.
fn aggregate_windowed<W: WindowKind, K: Clone + 'static, VOut: Clone + 'static>(
    cogroup: &CogroupedKStream<K, VOut>,
    init: Init<VOut>,
    named: Named,
    materialized: Materialized<K, VOut>,
    windows: W,
    kind: impl Fn(W::Store<K, VOut>) -> SharedStoreKind<K, VOut> + 'static,
) -> KTable<Windowed<K>, VOut> {
    let (store_name, materialized) = cogroup.materialized(materialized);
    let node = TableNode::stateful();
    node.set_window_grace(windows.close_delay_ms());
    let table = CogroupTable {
        key: materialized
            .key_serde
            .clone()
            .map(|k| windows.windowed_serde(k)),
        value: materialized.value_serde.clone(),
        queryable: materialized.name.clone(),
        node,
    };
    let make_store: MakeStore<K, VOut> = Rc::new(move |b, store, node| {
        let retention_ms = windowed_retention_ms(
            store,
            node,
            windows.store_size_ms(),
            windows.grace_ms(),
            &materialized,
        )?;
        let (ks, vs) = b.serdes(
            materialized.key_serde.clone(),
            materialized.value_serde.clone(),
            store,
            MATERIALIZED_FIX,
        )?;
        refuse_versioned(&materialized, store, "a windowed or session cogroup")?;
        let (builder, handle) = windows.store(store, ks.clone(), vs, retention_ms, &materialized);
        Ok((builder, kind(handle), ks))
    });
    cogroup.build(init, named, store_name, make_store, table)
}

// `TimeKind` is crate-private on purpose: only time and sliding windows are such kinds.
#[allow(private_bounds)]
impl<W: TimeKind, K: Clone + 'static, VOut: Clone + 'static> WindowedCogroupedKStream<W, K, VOut> {
    /// Aggregate every stream's records per key and window from `initializer()` (Kafka's
    /// `aggregate`), in a window store named `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VOut> {
        self.aggregate_with(initializer, Named::empty(), Materialized::default())
    }

    /// [`aggregate`](Self::aggregate) with a name (the aggregations are
    /// `<name>-cogroup-agg-<n>`, their merge `<name>-cogroup-merge`) and a store (its
    /// retention at least the window size — twice the time difference for sliding windows —
    /// plus the grace period).
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VOut>,
    ) -> KTable<Windowed<K>, VOut> {
        let windows = self.windows;
        let kind = move |store| windows.shared(store);
        let init = Arc::new(initializer);
        aggregate_windowed(&self.cogroup, init, named, materialized, windows, kind)
    }
}

impl<K: Clone + 'static, VOut: Clone + 'static> SessionWindowedCogroupedKStream<K, VOut> {
    /// Aggregate every stream's records per key and session from `initializer()`; two
    /// sessions a record bridges combine with `merger(key, aggregate, other session's
    /// aggregate)` (Kafka's `aggregate(initializer, sessionMerger)`), in a session store
    /// named `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        merger: impl Fn(&K, VOut, VOut) -> VOut + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VOut> {
        self.aggregate_with(initializer, merger, Named::empty(), Materialized::default())
    }

    /// [`aggregate`](Self::aggregate) with a name (the aggregations are
    /// `<name>-cogroup-agg-<n>`, their merge `<name>-cogroup-merge`) and a store (its
    /// retention at least the inactivity gap plus the grace period).
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        merger: impl Fn(&K, VOut, VOut) -> VOut + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VOut>,
    ) -> KTable<Windowed<K>, VOut> {
        let windows = self.windows;
        let init: Init<VOut> = Arc::new(initializer);
        let merge_init = Arc::clone(&init);
        let merger: SessionMerger<K, VOut> =
            Arc::new(move |k, a, b| merger(k, a.unwrap_or_else(|| merge_init()), b));
        let kind = move |store| SharedStoreKind::Session {
            store,
            windows,
            merger: merger.clone(),
        };
        aggregate_windowed(&self.cogroup, init, named, materialized, windows, kind)
    }
}
