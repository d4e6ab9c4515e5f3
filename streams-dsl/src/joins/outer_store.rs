//! The shared outer-join store of a left/outer stream-stream join (KIP-633, Kafka's
//! `KSTREAM-OUTERSHARED-…-store`): records still without a partner, keyed as Kafka's
//! `TimestampedKeyAndJoinSide` (`timestamp ‖ side ‖ key`, so a scan visits them by time),
//! each key holding the list of such records (Kafka's `ListValueStore`).

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::serde::{Deserializer, SerdeError, Serializer};

use crate::serdes::DynSerde;

/// A stored record's key: its timestamp, its side and its key (Kafka's
/// `TimestampedKeyAndJoinSide`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OuterKey<K> {
    pub timestamp: i64,
    pub left: bool,
    pub key: K,
}

/// A stored record's value: the left or the right stream's (Kafka's `LeftOrRightValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LeftOrRight<VL, VR> {
    Left(VL),
    Right(VR),
}

/// `timestamp (8 bytes, big-endian) ‖ 1 (left) or 0 (right) ‖ key`, as Kafka's
/// `TimestampedKeyAndJoinSideSerializer`.
pub(crate) struct OuterKeySerde<K> {
    pub key: DynSerde<K>,
}

impl<K> Clone for OuterKeySerde<K> {
    fn clone(&self) -> Self {
        OuterKeySerde {
            key: self.key.clone(),
        }
    }
}

const KEY_SERDE: &str = "TimestampedKeyAndJoinSideSerde";
const VALUE_SERDE: &str = "LeftOrRightValueListSerde";

impl<K: 'static> Serializer<OuterKey<K>> for OuterKeySerde<K> {
    fn serialize(&self, topic: &str, v: &OuterKey<K>) -> Result<Option<Bytes>, SerdeError> {
        let key = self
            .key
            .serialize(topic, &v.key)?
            .ok_or_else(|| SerdeError::new(KEY_SERDE, topic, "a join key cannot be null"))?;
        let mut b = BytesMut::with_capacity(9 + key.len());
        b.put_i64(v.timestamp);
        b.put_u8(u8::from(v.left));
        b.put_slice(&key);
        Ok(Some(b.freeze()))
    }
}

impl<K: 'static> Deserializer<OuterKey<K>> for OuterKeySerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<OuterKey<K>, SerdeError> {
        let err = |d: &str| SerdeError::new(KEY_SERDE, topic, d.to_owned());
        let data = data.ok_or_else(|| err("null key"))?;
        if data.len() < 9 {
            return Err(err("shorter than timestamp and side (9 bytes)"));
        }
        let (ts, rest) = data.split_at(8);
        let mut t = [0u8; 8];
        t.copy_from_slice(ts);
        Ok(OuterKey {
            timestamp: i64::from_be_bytes(t),
            left: rest[0] == 1,
            key: self.key.deserialize(topic, Some(&rest[1..]))?,
        })
    }
}

/// A list of [`LeftOrRight`] values: `count (4 bytes)` then, per value, `length (4 bytes) ‖
/// 1 (left) or 0 (right) ‖ value`.
pub(crate) struct LeftOrRightListSerde<VL, VR> {
    pub left: DynSerde<VL>,
    pub right: DynSerde<VR>,
}

impl<VL, VR> Clone for LeftOrRightListSerde<VL, VR> {
    fn clone(&self) -> Self {
        LeftOrRightListSerde {
            left: self.left.clone(),
            right: self.right.clone(),
        }
    }
}

impl<VL: 'static, VR: 'static> Serializer<Vec<LeftOrRight<VL, VR>>>
    for LeftOrRightListSerde<VL, VR>
{
    fn serialize(
        &self,
        topic: &str,
        values: &Vec<LeftOrRight<VL, VR>>,
    ) -> Result<Option<Bytes>, SerdeError> {
        let err = |d: &str| SerdeError::new(VALUE_SERDE, topic, d.to_owned());
        let mut b = BytesMut::new();
        b.put_i32(i32::try_from(values.len()).map_err(|_| err("too many values"))?);
        for v in values {
            let (flag, bytes) = match v {
                LeftOrRight::Left(l) => (1u8, self.left.serialize(topic, l)?),
                LeftOrRight::Right(r) => (0u8, self.right.serialize(topic, r)?),
            };
            let bytes = bytes.ok_or_else(|| err("a joined value cannot be null"))?;
            b.put_i32(i32::try_from(bytes.len() + 1).map_err(|_| err("value too long"))?);
            b.put_u8(flag);
            b.put_slice(&bytes);
        }
        Ok(Some(b.freeze()))
    }
}

impl<VL: 'static, VR: 'static> Deserializer<Vec<LeftOrRight<VL, VR>>>
    for LeftOrRightListSerde<VL, VR>
{
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<Vec<LeftOrRight<VL, VR>>, SerdeError> {
        let err = |d: &str| SerdeError::new(VALUE_SERDE, topic, d.to_owned());
        let mut data = data.ok_or_else(|| err("null list"))?;
        let read_i32 = |d: &mut &[u8]| -> Result<usize, SerdeError> {
            if d.len() < 4 {
                return Err(err("truncated length"));
            }
            let (n, rest) = d.split_at(4);
            *d = rest;
            let n = i32::from_be_bytes([n[0], n[1], n[2], n[3]]);
            usize::try_from(n).map_err(|_| err("negative length"))
        };
        let count = read_i32(&mut data)?;
        let mut out = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let len = read_i32(&mut data)?;
            if len == 0 || len > data.len() {
                return Err(err("value length beyond the data"));
            }
            let (v, rest) = data.split_at(len);
            data = rest;
            out.push(match v[0] {
                1 => LeftOrRight::Left(self.left.deserialize(topic, Some(&v[1..]))?),
                _ => LeftOrRight::Right(self.right.deserialize(topic, Some(&v[1..]))?),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::StringSerde;

    #[test]
    fn keys_sort_by_time_then_side_and_values_round_trip() -> Result<(), SerdeError> {
        let ks = OuterKeySerde {
            key: DynSerde::new(StringSerde),
        };
        let k = |t, left| OuterKey {
            timestamp: t,
            left,
            key: "k".to_owned(),
        };
        let a = ks.serialize("t", &k(5, true))?;
        let b = ks.serialize("t", &k(5, false))?;
        let c = ks.serialize("t", &k(6, false))?;
        assert!(b < a && a < c);
        assert_eq!(ks.deserialize("t", a.as_deref())?, k(5, true));
        let vs = LeftOrRightListSerde {
            left: DynSerde::new(StringSerde),
            right: DynSerde::new(StringSerde),
        };
        let list = vec![
            LeftOrRight::Left("a".to_owned()),
            LeftOrRight::Right("bc".to_owned()),
        ];
        let bytes = vs.serialize("t", &list)?;
        assert_eq!(vs.deserialize("t", bytes.as_deref())?, list);
        assert!(vs
            .deserialize("t", Some(&[0, 0, 0, 1, 0, 0, 0, 9, 1]))
            .is_err());
        Ok(())
    }
}
