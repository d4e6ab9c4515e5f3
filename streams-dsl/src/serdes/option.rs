//! [`OptionSerde`]: Kafka's null as `None` around any serde.

use bytes::Bytes;
use streams_core::serde::{Deserializer, Serde, SerdeError, Serializer};

use super::DynSerde;

/// `Option<T>` over a serde of `T`: `None` is Kafka's null (a missing key, a tombstone), and
/// `Some` is what the inner serde writes. What a KTable's tombstones and a stream's nullable
/// keys go through.
pub struct OptionSerde<T> {
    inner: DynSerde<T>,
}

impl<T> Clone for OptionSerde<T> {
    fn clone(&self) -> Self {
        OptionSerde {
            inner: self.inner.clone(),
        }
    }
}

impl<T: 'static> OptionSerde<T> {
    /// `Option<T>` over `inner`.
    pub fn new(inner: impl Serde<T>) -> Self {
        OptionSerde {
            inner: DynSerde::new(inner),
        }
    }

    /// `Option<T>` over an already wrapped serde.
    pub fn of(inner: DynSerde<T>) -> Self {
        OptionSerde { inner }
    }
}

impl<T: 'static> Serializer<Option<T>> for OptionSerde<T> {
    fn serialize(&self, topic: &str, value: &Option<T>) -> Result<Option<Bytes>, SerdeError> {
        match value {
            Some(v) => self.inner.serialize(topic, v),
            None => Ok(None),
        }
    }

    fn is_null(&self, value: &Option<T>) -> bool {
        value.as_ref().is_none_or(|v| self.inner.is_null(v))
    }
}

impl<T: 'static> Deserializer<Option<T>> for OptionSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Option<T>, SerdeError> {
        match data {
            Some(d) => self.inner.deserialize(topic, Some(d)).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::StringSerde;

    #[test]
    fn null_is_none_and_none_is_null() -> Result<(), SerdeError> {
        let s = OptionSerde::<String>::new(StringSerde);
        assert_eq!(s.deserialize("t", None)?, None);
        assert_eq!(s.serialize("t", &None)?, None);
        let b = s.serialize("t", &Some("a".to_owned()))?;
        assert_eq!(s.deserialize("t", b.as_deref())?, Some("a".to_owned()));
        Ok(())
    }
}
