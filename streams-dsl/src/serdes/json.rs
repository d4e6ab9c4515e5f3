//! [`JsonSerde`]: any `serde` type as JSON.

use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use streams_core::serde::{Deserializer, SerdeError, Serializer};

/// A type that derives `serde::Serialize` and `serde::Deserialize`, as UTF-8 JSON (what
/// Kafka's `JsonSerializer`/`JsonDeserializer` of `connect-json` and most Java JSON serdes
/// write). Kafka's null reads as an error; use `Option<T>` ([`crate::serdes::OptionSerde`])
/// where tombstones occur.
pub struct JsonSerde<T> {
    _type: PhantomData<fn() -> T>,
}

impl<T> JsonSerde<T> {
    /// A JSON serde for `T`.
    pub fn new() -> Self {
        JsonSerde { _type: PhantomData }
    }
}

impl<T> Default for JsonSerde<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for JsonSerde<T> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for JsonSerde<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonSerde<{}>", std::any::type_name::<T>())
    }
}

impl<T: Serialize + 'static> Serializer<T> for JsonSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        serde_json::to_vec(value)
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| SerdeError::new("JsonSerde", topic, e.to_string()))
    }

    fn is_null(&self, _value: &T) -> bool {
        false // a JSON value is never Kafka's null (JSON's null is the 4 bytes `null`)
    }
}

impl<T: DeserializeOwned + 'static> Deserializer<T> for JsonSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        let data = data.ok_or_else(|| {
            SerdeError::new(
                "JsonSerde",
                topic,
                "null where a JSON value was expected (use OptionSerde to accept nulls)",
            )
        })?;
        serde_json::from_slice(data).map_err(|e| SerdeError::new("JsonSerde", topic, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Order {
        id: u32,
        item: String,
    }

    #[test]
    fn a_derived_type_round_trips_as_json() -> Result<(), SerdeError> {
        let s = JsonSerde::<Order>::new();
        let o = Order {
            id: 7,
            item: "tea".into(),
        };
        let b = s.serialize("t", &o)?;
        assert_eq!(b.as_deref(), Some(&br#"{"id":7,"item":"tea"}"#[..]));
        assert_eq!(s.deserialize("t", b.as_deref())?, o);
        let e = s.deserialize("orders", Some(b"{")).unwrap_err();
        assert!(e.to_string().contains("\"orders\""), "{e}");
        Ok(())
    }
}
