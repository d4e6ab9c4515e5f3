//! [`Repartitioned`]: how `repartition()` writes its topic.

use std::sync::Arc;

use streams_core::serde::Serde;

use super::StreamPartitioner;
use crate::serdes::DynSerde;

/// The serdes, name, partition count and partitioner of a repartition topic (Kafka's
/// `Repartitioned`).
pub struct Repartitioned<K, V> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) name: Option<String>,
    pub(crate) partitions: Option<i32>,
    pub(crate) partitioner: Option<StreamPartitioner<K, V>>,
}

impl<K, V> Default for Repartitioned<K, V> {
    fn default() -> Self {
        Repartitioned {
            key_serde: None,
            value_serde: None,
            name: None,
            partitions: None,
            partitioner: None,
        }
    }
}

impl<K: 'static, V: 'static> Repartitioned<K, V> {
    /// Repartition with these serdes (Kafka's `Repartitioned.with`).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Repartitioned::default()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }

    /// Name the topic `<name>-repartition` and its nodes (Kafka's `Repartitioned.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Repartitioned::default().with_name(name)
    }

    /// The key serde.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(DynSerde::new(serde));
        self
    }

    /// The value serde.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(DynSerde::new(serde));
        self
    }

    /// The name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The topic's partition count (Kafka's `withNumberOfPartitions`). Recorded, but
    /// streams-core does not yet take a partition count for an internal topic: the topic
    /// gets the source topics' count, as without it.
    pub fn with_number_of_partitions(mut self, partitions: i32) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// Choose each record's partition (Kafka's `withStreamPartitioner`).
    pub fn with_stream_partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }
}
