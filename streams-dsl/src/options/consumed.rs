//! [`Consumed`]: how a source reads its topics.

use std::sync::Arc;

use streams_core::serde::Serde;
use streams_core::timestamp::TimestampExtractor;
use streams_core::topology::OffsetReset;

use crate::serdes::DynSerde;

/// A source's serdes, name, reset policy and timestamp extractor (Kafka's `Consumed`).
/// Serdes left out are the builder's defaults for the types.
pub struct Consumed<K, V> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) name: Option<String>,
    pub(crate) reset: Option<OffsetReset>,
    pub(crate) extractor: Option<Arc<dyn TimestampExtractor>>,
}

impl<K, V> Default for Consumed<K, V> {
    fn default() -> Self {
        Consumed {
            key_serde: None,
            value_serde: None,
            name: None,
            reset: None,
            extractor: None,
        }
    }
}

impl<K: 'static, V: 'static> Consumed<K, V> {
    /// Read with these serdes (Kafka's `Consumed.with(keySerde, valueSerde)`).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Consumed::default()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }

    /// Name the source node (Kafka's `Consumed.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Consumed::default().with_name(name)
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

    /// The source node's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Where partitions without a committed offset start (else `auto.offset.reset`).
    pub fn with_offset_reset_policy(mut self, reset: OffsetReset) -> Self {
        self.reset = Some(reset);
        self
    }

    /// The records' event time (else `default.timestamp.extractor`).
    pub fn with_timestamp_extractor(mut self, extractor: impl TimestampExtractor) -> Self {
        self.extractor = Some(Arc::new(extractor));
        self
    }
}
