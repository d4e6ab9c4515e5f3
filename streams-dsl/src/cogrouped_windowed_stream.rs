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
use crate::store::windowed_retention_ms;
use crate::table_node::TableNode;
use crate::windowed::Windowed;
use crate::windowed_stream::WindowKind;
use crate::windows::{CogroupWindowSpec, SessionWindows, SlidingWindows, TimeWindows};

/// Cogrouped streams windowed by [`TimeWindows`] (Kafka's `TimeWindowedCogroupedKStream`,
/// from [`CogroupedKStream::windowed_by`]): [`aggregate`](Self::aggregate) keeps one
/// aggregate per key and window in one timestamped window store (named, retained, logged
/// and cached as a [`crate::TimeWindowedKStream`]'s), updated by each stream's records with
/// that stream's aggregator, and is a [`KTable`] keyed by [`Windowed<K>`].
///
/// As in Kafka, each stream's aggregation keeps its own stream time: a record is dropped
/// (and counted in `dropped-records`) when its window closed by the time its own stream has
/// seen; every update is forwarded (Kafka's windowed cogroups have no emit-on-window-close).
pub struct TimeWindowedCogroupedKStream<K, VOut> {
    cogroup: CogroupedKStream<K, VOut>,
    windows: TimeWindows,
}

/// Cogrouped streams windowed by [`SlidingWindows`] (Kafka's
/// `SlidingWindowedCogroupedKStreamImpl`, a `TimeWindowedCogroupedKStream` in Java), from
/// [`CogroupedKStream::windowed_by`]: as [`TimeWindowedCogroupedKStream`], with the windows
/// of a [`crate::SlidingWindowedKStream`].
pub struct SlidingWindowedCogroupedKStream<K, VOut> {
    cogroup: CogroupedKStream<K, VOut>,
    windows: SlidingWindows,
}

/// Cogrouped streams cut into sessions by [`SessionWindows`] (Kafka's
/// `SessionWindowedCogroupedKStream`, from [`CogroupedKStream::windowed_by`]): one aggregate
/// per key and session in one session store, updated by each stream's records with that
/// stream's aggregator; a record bridging sessions merges them with the merger (the merged
/// sessions forwarded as tombstones first), as a [`crate::SessionWindowedKStream`] does.
pub struct SessionWindowedCogroupedKStream<K, VOut> {
    cogroup: CogroupedKStream<K, VOut>,
    windows: SessionWindows,
}

macro_rules! debug_windowed {
    ($($t:ident),*) => {$(
        impl<K, VOut> std::fmt::Debug for $t<K, VOut> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("cogroup", &self.cogroup)
                    .field("windows", &self.windows)
                    .finish()
            }
        }
    )*};
}

debug_windowed!(
    TimeWindowedCogroupedKStream,
    SlidingWindowedCogroupedKStream,
    SessionWindowedCogroupedKStream
);

impl<K: Clone + 'static, VOut: Clone + 'static> CogroupWindowSpec<K, VOut> for TimeWindows {
    type Stream = TimeWindowedCogroupedKStream<K, VOut>;

    fn cogroup_windowed(self, cogroup: CogroupedKStream<K, VOut>) -> Self::Stream {
        TimeWindowedCogroupedKStream {
            cogroup,
            windows: self,
        }
    }
}

impl<K: Clone + 'static, VOut: Clone + 'static> CogroupWindowSpec<K, VOut> for SlidingWindows {
    type Stream = SlidingWindowedCogroupedKStream<K, VOut>;

    fn cogroup_windowed(self, cogroup: CogroupedKStream<K, VOut>) -> Self::Stream {
        SlidingWindowedCogroupedKStream {
            cogroup,
            windows: self,
        }
    }
}

impl<K: Clone + 'static, VOut: Clone + 'static> CogroupWindowSpec<K, VOut> for SessionWindows {
    type Stream = SessionWindowedCogroupedKStream<K, VOut>;

    fn cogroup_windowed(self, cogroup: CogroupedKStream<K, VOut>) -> Self::Stream {
        SessionWindowedCogroupedKStream {
            cogroup,
            windows: self,
        }
    }
}

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
    node.set_window_grace(windows.grace_ms());
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
        let (builder, handle) = windows.store(store, ks.clone(), vs, retention_ms, &materialized);
        Ok((builder, kind(handle), ks))
    });
    cogroup.build(init, named, store_name, make_store, table)
}

impl<K: Clone + 'static, VOut: Clone + 'static> TimeWindowedCogroupedKStream<K, VOut> {
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
    /// retention at least the window size plus the grace period).
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VOut>,
    ) -> KTable<Windowed<K>, VOut> {
        let windows = self.windows;
        let kind = move |store| SharedStoreKind::Time { store, windows };
        let init = Arc::new(initializer);
        aggregate_windowed(&self.cogroup, init, named, materialized, windows, kind)
    }
}

impl<K: Clone + 'static, VOut: Clone + 'static> SlidingWindowedCogroupedKStream<K, VOut> {
    /// Aggregate every stream's records per key and sliding window from `initializer()`
    /// (Kafka's `aggregate`), in a window store named
    /// `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VOut> {
        self.aggregate_with(initializer, Named::empty(), Materialized::default())
    }

    /// [`aggregate`](Self::aggregate) with a name (the aggregations are
    /// `<name>-cogroup-agg-<n>`, their merge `<name>-cogroup-merge`) and a store (its
    /// retention at least twice the time difference plus the grace period).
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> VOut + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, VOut>,
    ) -> KTable<Windowed<K>, VOut> {
        let windows = self.windows;
        let kind = move |store| SharedStoreKind::Sliding { store, windows };
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
