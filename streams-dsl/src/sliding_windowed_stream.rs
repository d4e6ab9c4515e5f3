//! [`SlidingWindowedKStream`]: a grouped stream aggregated over sliding windows, and its
//! aggregations `count`, `reduce` and `aggregate` (Kafka's `SlidingWindowedKStream` from
//! `windowedBy(SlidingWindows)`, KIP-450); the sliding windows' store and processor
//! ([`WindowKind`] for [`SlidingWindows`]).

use streams_core::state::{StoreHandle, ValueAndTimestamp};
use streams_core::topology::StoreBuilder;

use crate::cogrouped_stream::SharedStoreKind;
use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::options::Materialized;
use crate::plan::Build;
use crate::processors::sliding_aggregate::SlidingAggregate;
use crate::serdes::{DynSerde, TimeWindowedSerde};
use crate::store::timestamped_window_store_builder;
use crate::windowed::Windowed;
use crate::windowed_stream::{add_processor, Aggregation, TimeKind, WindowKind, WindowedKStream};
use crate::windows::{SlidingWindows, WindowSpec};

/// Records grouped by key and aggregated over [`SlidingWindows`] (Kafka's
/// `SlidingWindowedKStream` from `windowedBy(SlidingWindows)`, KIP-450; here from
/// [`KGroupedStream::windowed_by`] with [`SlidingWindows`]). Windows are
/// `[start, start + time difference]`, both ends inclusive, and exist where records are: each
/// record creates its left window `[t - d, t]` (and its right window `[t + 1, t + 1 + d]`
/// when later records fall in it) and updates the windows holding it, as Kafka's
/// `KStreamSlidingWindowAggregate` does. Aggregates are kept with their timestamps in a
/// window store kept for `2 * d + grace` (or `Materialized::with_retention`); write the
/// result out with `Produced::with(TimeWindowedSerde::new(key_serde, d), value_serde)`.
///
/// A record whose windows closed (stream time minus grace past their end) is dropped and
/// counted in `dropped-records`; so is a record with a null key or value.
pub type SlidingWindowedKStream<K, V> = WindowedKStream<SlidingWindows, K, V>;

impl<K: Clone + 'static, V: Clone + 'static> WindowSpec<K, V> for SlidingWindows {
    type Stream = SlidingWindowedKStream<K, V>;

    fn windowed(self, grouped: KGroupedStream<K, V>) -> SlidingWindowedKStream<K, V> {
        WindowedKStream::new(grouped, self)
    }
}

/// Sliding windows aggregate in a timestamped window store kept for twice the time difference
/// plus grace, with Kafka's `KStreamSlidingWindowAggregate`; their keys are windows of the
/// time difference.
impl WindowKind for SlidingWindows {
    type Store<K: 'static, VA: 'static> = StoreHandle<K, ValueAndTimestamp<VA>>;

    fn grace_ms(&self) -> i64 {
        SlidingWindows::grace_ms(self)
    }

    fn store_size_ms(&self) -> i64 {
        self.time_difference_ms().saturating_mul(2)
    }

    fn windowed_serde<K: Clone + 'static>(&self, key: DynSerde<K>) -> DynSerde<Windowed<K>> {
        DynSerde::new(TimeWindowedSerde::from_dyn(key, self.time_difference_ms()))
    }

    fn store<K: 'static, VA: 'static>(
        &self,
        name: &str,
        key_serde: DynSerde<K>,
        value_serde: DynSerde<VA>,
        retention_ms: i64,
        materialized: &Materialized<K, VA>,
    ) -> (StoreBuilder, Self::Store<K, VA>) {
        timestamped_window_store_builder(name, key_serde, value_serde, retention_ms, materialized)
    }

    fn add_aggregation<K: Clone + 'static, V: Clone + 'static, VA: Clone + 'static>(
        &self,
        b: &mut Build<'_>,
        node: &str,
        parent: &str,
        a: Aggregation<K, V, VA, Self::Store<K, VA>>,
    ) -> Result<(), DslError> {
        let windows = *self;
        add_processor(b, node, parent, move || {
            let mut p = SlidingAggregate::new(
                a.store.clone(),
                windows,
                a.steps.step.clone(),
                a.steps.initial.clone(),
                a.emit,
                a.send_old_values,
                a.key_serde.clone(),
                a.value_serde.clone(),
            );
            p.forward_flushes = a.forward_flushes;
            p
        })
    }
}

impl TimeKind for SlidingWindows {
    fn shared<K: 'static, VOut: 'static>(
        self,
        store: Self::Store<K, VOut>,
    ) -> SharedStoreKind<K, VOut> {
        SharedStoreKind::Sliding {
            store,
            windows: self,
        }
    }
}
