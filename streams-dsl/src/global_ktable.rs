//! [`GlobalKTable`]: a table every instance holds whole (Kafka's `GlobalKTable`).

use std::marker::PhantomData;

/// A table read from all partitions of its topic by every instance, into a global store
/// that any processor may read (Kafka's `GlobalKTable`), from
/// [`crate::StreamsBuilder::global_table`]. Streams join it with
/// [`crate::KStream::join_global`] and [`crate::KStream::left_join_global`]; processors read
/// it through the store name with the Processor API.
pub struct GlobalKTable<K, V> {
    pub(crate) store_name: String,
    pub(crate) _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> GlobalKTable<K, V> {
    /// The global store's name (Kafka's `queryableStoreName`; generated as
    /// `<topic>-STATE-STORE-<index>` when not given).
    pub fn queryable_store_name(&self) -> &str {
        &self.store_name
    }
}

impl<K, V> std::fmt::Debug for GlobalKTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalKTable")
            .field("store_name", &self.store_name)
            .finish()
    }
}
