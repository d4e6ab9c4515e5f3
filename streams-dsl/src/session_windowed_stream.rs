//! [`SessionWindowedKStream`]: a grouped stream cut into sessions of activity, and its
//! aggregations `count`, `reduce` and `aggregate` (Kafka's `SessionWindowedKStream`); the
//! sessions' store and processor ([`WindowKind`] for [`SessionWindows`]).

use std::sync::Arc;

use streams_core::state::StoreHandle;
use streams_core::topology::StoreBuilder;

use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::ktable::KTable;
use crate::names;
use crate::options::{Materialized, Named};
use crate::plan::Build;
use crate::processors::session_aggregate::{SessionAggregate, SessionMerger};
use crate::serdes::{DynSerde, SessionWindowedSerde};
use crate::store::session_store_builder;
use crate::windowed::Windowed;
use crate::windowed_stream::{add_processor, Aggregation, WindowKind, WindowedKStream};
use crate::windows::{SessionWindows, WindowSpec};

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
pub type SessionWindowedKStream<K, V> = WindowedKStream<SessionWindows, K, V>;

impl<K: Clone + 'static, V: Clone + 'static> WindowSpec<K, V> for SessionWindows {
    type Stream = SessionWindowedKStream<K, V>;

    fn windowed(self, grouped: KGroupedStream<K, V>) -> SessionWindowedKStream<K, V> {
        WindowedKStream::new(grouped, self)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SessionWindowedKStream<K, V> {
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
        let initializer: Arc<dyn Fn() -> VA + Send + Sync> = Arc::new(initializer);
        let init = Arc::clone(&initializer);
        let mut steps = Self::aggregate_steps(initializer, aggregator);
        let merger: SessionMerger<K, VA> =
            Arc::new(move |k, a, b| merger(k, a.unwrap_or_else(|| init()), b));
        steps.merger = Some(merger);
        self.do_aggregate(names::AGGREGATE, named, materialized, steps)
    }
}

/// Sessions aggregate in a session store kept for the inactivity gap plus grace, with
/// Kafka's `KStreamSessionWindowAggregate`.
impl WindowKind for SessionWindows {
    type Store<K: 'static, VA: 'static> = StoreHandle<K, VA>;

    fn grace_ms(&self) -> i64 {
        SessionWindows::grace_ms(self)
    }

    fn store_size_ms(&self) -> i64 {
        self.inactivity_gap_ms()
    }

    /// A session closes its gap after its end, then the grace period runs.
    fn close_delay_ms(&self) -> i64 {
        SessionWindows::grace_ms(self).saturating_add(self.inactivity_gap_ms())
    }

    fn windowed_serde<K: Clone + 'static>(&self, key: DynSerde<K>) -> DynSerde<Windowed<K>> {
        DynSerde::new(SessionWindowedSerde::from_dyn(key))
    }

    fn store<K: 'static, VA: 'static>(
        &self,
        name: &str,
        key_serde: DynSerde<K>,
        value_serde: DynSerde<VA>,
        retention_ms: i64,
        materialized: &Materialized<K, VA>,
    ) -> (StoreBuilder, Self::Store<K, VA>) {
        session_store_builder(name, key_serde, value_serde, retention_ms, materialized)
    }

    fn add_aggregation<K: Clone + 'static, V: Clone + 'static, VA: Clone + 'static>(
        &self,
        b: &mut Build<'_>,
        node: &str,
        parent: &str,
        a: Aggregation<K, V, VA, Self::Store<K, VA>>,
    ) -> Result<(), DslError> {
        let Some(merger) = a.steps.merger.clone() else {
            return Err(DslError::Internal {
                node: node.to_owned(),
                detail: "a session aggregation without a merger".into(),
            });
        };
        let windows = *self;
        add_processor(b, node, parent, move || {
            let mut p = SessionAggregate::new(
                a.store.clone(),
                windows,
                a.steps.initial.clone(),
                a.steps.step.clone(),
                merger.clone(),
                a.emit,
                a.send_old_values,
                a.key_serde.clone(),
            );
            p.forward_flushes = a.forward_flushes;
            p
        })
    }
}
