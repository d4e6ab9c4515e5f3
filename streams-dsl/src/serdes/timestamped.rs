//! The value serde of timestamped window stores: the aggregate's timestamp (8 bytes,
//! big-endian) then the aggregate's bytes, as Kafka's `ValueAndTimestampSerde` lays them out.

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::serde::{Deserializer, SerdeError, Serializer};
use streams_core::state::ValueAndTimestamp;

use super::DynSerde;

/// `timestamp ‖ value` around the value's own serde.
pub(crate) struct ValueAndTimestampSerde<V> {
    inner: DynSerde<V>,
}

impl<V> Clone for ValueAndTimestampSerde<V> {
    fn clone(&self) -> Self {
        ValueAndTimestampSerde {
            inner: self.inner.clone(),
        }
    }
}

impl<V: 'static> ValueAndTimestampSerde<V> {
    /// Around `inner`.
    pub(crate) fn new(inner: DynSerde<V>) -> Self {
        ValueAndTimestampSerde { inner }
    }
}

impl<V: 'static> Serializer<ValueAndTimestamp<V>> for ValueAndTimestampSerde<V> {
    fn serialize(
        &self,
        topic: &str,
        value: &ValueAndTimestamp<V>,
    ) -> Result<Option<Bytes>, SerdeError> {
        let Some(inner) = self.inner.serialize(topic, &value.value)? else {
            return Ok(None);
        };
        let mut buf = BytesMut::with_capacity(8 + inner.len());
        buf.put_i64(value.timestamp);
        buf.put_slice(&inner);
        Ok(Some(buf.freeze()))
    }
}

impl<V: 'static> Deserializer<ValueAndTimestamp<V>> for ValueAndTimestampSerde<V> {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<ValueAndTimestamp<V>, SerdeError> {
        let short = || {
            SerdeError::new(
                "ValueAndTimestampSerde",
                topic,
                "a stored value is shorter than its 8-byte timestamp",
            )
        };
        let data = data.ok_or_else(short)?;
        let (ts, value) = data.split_first_chunk::<8>().ok_or_else(short)?;
        Ok(ValueAndTimestamp {
            value: self.inner.deserialize(topic, Some(value))?,
            timestamp: i64::from_be_bytes(*ts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::I64Serde;

    #[test]
    fn the_timestamp_comes_first() -> Result<(), SerdeError> {
        let s = ValueAndTimestampSerde::new(DynSerde::new(I64Serde));
        let v = ValueAndTimestamp {
            value: 3i64,
            timestamp: 258,
        };
        let b = s.serialize("t", &v)?;
        assert_eq!(
            b.as_deref(),
            Some(&[0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3][..])
        );
        assert_eq!(s.deserialize("t", b.as_deref())?, v);
        assert!(s.deserialize("t", Some(&[1, 2])).is_err());
        Ok(())
    }
}
