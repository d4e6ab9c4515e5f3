//! [`TimeWindowedKStream`]: a grouped stream cut into time windows, and its aggregations
//! `count`, `reduce` and `aggregate` (Kafka's `TimeWindowedKStream`); the time windows' store
//! and processor ([`WindowKind`] for [`TimeWindows`]).

use streams_core::state::{StoreHandle, ValueAndTimestamp};
use streams_core::topology::StoreBuilder;

use crate::cogrouped_stream::SharedStoreKind;
use crate::error::DslError;
use crate::grouped_stream::KGroupedStream;
use crate::options::Materialized;
use crate::plan::Build;
use crate::processors::window_aggregate::WindowAggregate;
use crate::serdes::{DynSerde, TimeWindowedSerde};
use crate::store::timestamped_window_store_builder;
use crate::windowed::Windowed;
use crate::windowed_stream::{add_processor, Aggregation, TimeKind, WindowKind, WindowedKStream};
use crate::windows::{TimeWindows, WindowSpec};

/// Records grouped by key and windowed by [`TimeWindows`] (Kafka's `TimeWindowedKStream`,
/// from [`KGroupedStream::windowed_by`] with [`TimeWindows`]). Each aggregation keeps one aggregate per key and
/// window in a timestamped window store (persistent, logged to
/// `<application.id>-<store>-changelog` with `cleanup.policy=compact,delete`) and is a
/// [`KTable`](crate::KTable) keyed by [`Windowed<K>`]; write it out with
/// `Produced::with(TimeWindowedSerde::new(key_serde, size_ms), value_serde)`.
///
/// A record updates every window holding its timestamp; one arriving after its window closed
/// (stream time at or past the window's end plus the grace period) is dropped, logged and
/// counted in the task's `dropped-records` metric, as in Kafka.
pub type TimeWindowedKStream<K, V> = WindowedKStream<TimeWindows, K, V>;

impl<K: Clone + 'static, V: Clone + 'static> WindowSpec<K, V> for TimeWindows {
    type Stream = TimeWindowedKStream<K, V>;

    fn windowed(self, grouped: KGroupedStream<K, V>) -> TimeWindowedKStream<K, V> {
        WindowedKStream::new(grouped, self)
    }
}

/// Time windows aggregate in a timestamped window store kept for size plus grace, with
/// Kafka's `KStreamWindowAggregate`.
impl WindowKind for TimeWindows {
    type Store<K: 'static, VA: 'static> = StoreHandle<K, ValueAndTimestamp<VA>>;

    fn grace_ms(&self) -> i64 {
        TimeWindows::grace_ms(self)
    }

    fn store_size_ms(&self) -> i64 {
        self.size_ms()
    }

    fn windowed_serde<K: Clone + 'static>(&self, key: DynSerde<K>) -> DynSerde<Windowed<K>> {
        DynSerde::new(TimeWindowedSerde::from_dyn(key, self.size_ms()))
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
            let mut p = WindowAggregate::new(
                a.store.clone(),
                windows,
                a.steps.step.clone(),
                a.steps.initial.clone(),
                a.emit,
                a.send_old_values,
                a.key_serde.clone(),
            );
            p.forward_flushes = a.forward_flushes;
            p
        })
    }
}

impl TimeKind for TimeWindows {
    fn shared<K: 'static, VOut: 'static>(
        self,
        store: Self::Store<K, VOut>,
    ) -> SharedStoreKind<K, VOut> {
        SharedStoreKind::Time {
            store,
            windows: self,
        }
    }
}
