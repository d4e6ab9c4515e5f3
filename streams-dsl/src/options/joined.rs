//! [`StreamJoined`] (a stream-stream join's serdes and stores) and [`Joined`] (a
//! stream-table join's serdes and name).

use std::collections::BTreeMap;
use std::time::Duration;

use streams_core::serde::Serde;

use crate::options::StoreType;
use crate::serdes::DynSerde;

/// A stream-stream join's serdes, store names and changelog (Kafka's `StreamJoined`): `K`,
/// the left values `V1` and the right values `V2`.
pub struct StreamJoined<K, V1, V2> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V1>>,
    pub(crate) other_value_serde: Option<DynSerde<V2>>,
    pub(crate) name: Option<String>,
    pub(crate) store_name: Option<String>,
    pub(crate) store_type: StoreType,
    pub(crate) logging: bool,
    pub(crate) logging_config: BTreeMap<String, String>,
}

impl<K, V1, V2> Default for StreamJoined<K, V1, V2> {
    fn default() -> Self {
        StreamJoined {
            key_serde: None,
            value_serde: None,
            other_value_serde: None,
            name: None,
            store_name: None,
            store_type: StoreType::default(),
            logging: true,
            logging_config: BTreeMap::new(),
        }
    }
}

impl<K: 'static, V1: 'static, V2: 'static> StreamJoined<K, V1, V2> {
    /// These serdes (Kafka's `StreamJoined.with`).
    pub fn with(key: impl Serde<K>, value: impl Serde<V1>, other_value: impl Serde<V2>) -> Self {
        StreamJoined {
            key_serde: Some(DynSerde::new(key)),
            value_serde: Some(DynSerde::new(value)),
            other_value_serde: Some(DynSerde::new(other_value)),
            ..StreamJoined::default()
        }
    }

    /// Stores named `<store_name>-this-join-store`, `<store_name>-other-join-store` (with
    /// `outer-` before `this`/`other` on an outer side) (Kafka's `StreamJoined.as`).
    pub fn as_(store_name: impl Into<String>) -> Self {
        StreamJoined {
            store_name: Some(store_name.into()),
            ..StreamJoined::default()
        }
    }

    /// Processors and repartition topics named after `name` (`<name>-this-windowed`,
    /// `<name>-this-join`, `<name>-merge`, `<name>-left-repartition`, …).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The stores' base name (see [`as_`](Self::as_)).
    pub fn with_store_name(mut self, store_name: impl Into<String>) -> Self {
        self.store_name = Some(store_name.into());
        self
    }

    /// The key serde.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(DynSerde::new(serde));
        self
    }

    /// The left values' serde.
    pub fn with_value_serde(mut self, serde: impl Serde<V1>) -> Self {
        self.value_serde = Some(DynSerde::new(serde));
        self
    }

    /// The right values' serde.
    pub fn with_other_value_serde(mut self, serde: impl Serde<V2>) -> Self {
        self.other_value_serde = Some(DynSerde::new(serde));
        self
    }

    /// Persistent (the default) or in-memory stores.
    pub fn with_store_type(mut self, store_type: StoreType) -> Self {
        self.store_type = store_type;
        self
    }

    /// Changelogs with these extra topic configs (the default: logged).
    pub fn with_logging_enabled(mut self, config: BTreeMap<String, String>) -> Self {
        self.logging = true;
        self.logging_config = config;
        self
    }

    /// No changelogs: the stores start empty whenever their task moves.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }
}

/// A stream-table join's serdes and name (Kafka's `Joined`): `K`, the stream's values `V`
/// and the table's `VO`.
pub struct Joined<K, V, VO> {
    pub(crate) key_serde: Option<DynSerde<K>>,
    pub(crate) value_serde: Option<DynSerde<V>>,
    pub(crate) other_value_serde: Option<DynSerde<VO>>,
    pub(crate) name: Option<String>,
    pub(crate) grace_period: Option<Duration>,
}

impl<K, V, VO> Default for Joined<K, V, VO> {
    fn default() -> Self {
        Joined {
            key_serde: None,
            value_serde: None,
            other_value_serde: None,
            name: None,
            grace_period: None,
        }
    }
}

impl<K: 'static, V: 'static, VO: 'static> Joined<K, V, VO> {
    /// These serdes (Kafka's `Joined.with`).
    pub fn with(key: impl Serde<K>, value: impl Serde<V>, other_value: impl Serde<VO>) -> Self {
        Joined {
            key_serde: Some(DynSerde::new(key)),
            value_serde: Some(DynSerde::new(value)),
            other_value_serde: Some(DynSerde::new(other_value)),
            name: None,
            grace_period: None,
        }
    }

    /// The join processor named `name`, the repartition topic `<name>-repartition` (Kafka's
    /// `Joined.as`).
    pub fn as_(name: impl Into<String>) -> Self {
        Joined {
            name: Some(name.into()),
            ..Joined::default()
        }
    }

    /// The name (see [`as_`](Self::as_)).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The key serde.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(DynSerde::new(serde));
        self
    }

    /// The stream values' serde.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(DynSerde::new(serde));
        self
    }

    /// The table values' serde.
    pub fn with_other_value_serde(mut self, serde: impl Serde<VO>) -> Self {
        self.other_value_serde = Some(DynSerde::new(serde));
        self
    }

    /// Hold stream records back until stream time passes their timestamp plus `grace`, then
    /// join them in timestamp order (KIP-923, Kafka's `Joined.withGracePeriod`), so a table
    /// update arriving a little after a stream record it should have met still meets it.
    /// The records wait in a logged store `<join processor>-Buffer`; a record already
    /// `grace` behind stream time is joined at once. The table must be versioned
    /// ([`crate::Materialized::as_versioned`]) with a history retention of at least `grace`,
    /// else building the topology fails. As in Kafka, a left join's record with a null key
    /// cannot be buffered: processing fails on it (filter or re-key such records first).
    pub fn with_grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = Some(grace);
        self
    }
}
