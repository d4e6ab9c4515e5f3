//! [`Produced`]: how a sink writes.

use std::sync::Arc;

use streams_core::serde::Serde;

use super::StreamPartitioner;
use crate::serdes::DynSerde;

/// A sink's serdes, partitioner and name (Kafka's `Produced`). Serdes left out are the
/// stream's, else the builder's defaults for the types.
pub struct Produced<K, V> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) partitioner: Option<StreamPartitioner<K, V>>,
    pub(crate) name: Option<String>,
    pub(crate) repartition_intent: bool,
}

impl<K, V> Default for Produced<K, V> {
    fn default() -> Self {
        Produced {
            key_serde: None,
            value_serde: None,
            partitioner: None,
            name: None,
            repartition_intent: false,
        }
    }
}

impl<K: 'static, V: 'static> Produced<K, V> {
    /// Write with these serdes (Kafka's `Produced.with(keySerde, valueSerde)`).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Produced::default()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }

    /// Name the sink node (Kafka's `Produced.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Produced::default().with_name(name)
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

    /// The sink node's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Choose each record's partition (Kafka's `Produced.streamPartitioner`).
    pub fn with_stream_partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }

    /// This sink writes to a topic the same topology reads, on purpose (what Kafka's removed
    /// `through()` did): without it, [`crate::StreamsBuilder::build`] refuses such a loop
    /// ([`crate::DslError::SinkToSourceTopic`]); `repartition()` is usually what is meant.
    pub fn with_repartition_intent(mut self) -> Self {
        self.repartition_intent = true;
        self
    }
}
