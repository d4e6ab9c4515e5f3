//! [`Grouped`]: how a grouping repartitions.

use streams_core::serde::Serde;

use crate::serdes::DynSerde;

/// The serdes and name of a grouping (Kafka's `Grouped`): the name names the repartition
/// topic (`<name>-repartition`) and its nodes, when the grouping needs one.
pub struct Grouped<K, V> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) name: Option<String>,
}

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Grouped {
            key_serde: None,
            value_serde: None,
            name: None,
        }
    }
}

impl<K: 'static, V: 'static> Grouped<K, V> {
    /// Group with these serdes (Kafka's `Grouped.with(keySerde, valueSerde)`).
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Grouped::default()
            .with_key_serde(key_serde)
            .with_value_serde(value_serde)
    }

    /// Name the grouping (Kafka's `Grouped.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Grouped::default().with_name(name)
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

    /// The grouping's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}
