//! [`Change`]: what a table node forwards to the next (Kafka's `Change<V>`), the key's new
//! value and, when a downstream node asked for it, the value it replaces; and
//! [`ChangeSerde`], how a grouped table's repartition topic carries one (Kafka's
//! `ChangedSerializer`/`ChangedDeserializer`). Which nodes send old values is
//! [`crate::table_node`]'s concern.

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::serde::{Deserializer, SerdeError, Serializer};

use crate::serdes::DynSerde;

/// One update of a table's key: the new value (`None`: deleted) and the old one (`None`:
/// there was none, or old values are not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change<V> {
    pub new: Option<V>,
    pub old: Option<V>,
    /// Whether `new` is the key's latest value (Kafka's `Change.isLatest`, KIP-914): `false`
    /// for an out-of-order update of a versioned table, which a table-table join skips.
    pub is_latest: bool,
}

impl<V> Change<V> {
    /// `new` replacing `old`, the key's latest value.
    pub fn new(new: Option<V>, old: Option<V>) -> Self {
        Change {
            new,
            old,
            is_latest: true,
        }
    }

    /// `new` replacing `old`, marked latest or not.
    pub fn with_latest(new: Option<V>, old: Option<V>, is_latest: bool) -> Self {
        Change {
            new,
            old,
            is_latest,
        }
    }
}

/// Kafka's wire format of a `Change` on a repartition topic: `{old}{0}`, `{new}{1}`, or
/// `{zigzag varint len(new)}{new}{old}{2}`. A change with neither value is refused, as Kafka
/// refuses it.
pub(crate) struct ChangeSerde<V> {
    pub inner: DynSerde<V>,
}

impl<V> Clone for ChangeSerde<V> {
    fn clone(&self) -> Self {
        ChangeSerde {
            inner: self.inner.clone(),
        }
    }
}

const NAME: &str = "ChangeSerde";

impl<V: 'static> Serializer<Change<V>> for ChangeSerde<V> {
    fn serialize(&self, topic: &str, value: &Change<V>) -> Result<Option<Bytes>, SerdeError> {
        let ser = |v: &Option<V>| -> Result<Option<Bytes>, SerdeError> {
            match v {
                Some(v) => self.inner.serialize(topic, v),
                None => Ok(None),
            }
        };
        let (new, old) = (ser(&value.new)?, ser(&value.old)?);
        let mut buf = BytesMut::new();
        match (new, old) {
            (Some(n), Some(o)) => {
                let len = i32::try_from(n.len())
                    .map_err(|_| SerdeError::new(NAME, topic, "new value too long"))?;
                put_zigzag_varint(&mut buf, len);
                buf.put_slice(&n);
                buf.put_slice(&o);
                buf.put_u8(2);
            }
            (Some(n), None) => {
                buf.put_slice(&n);
                buf.put_u8(1);
            }
            (None, Some(o)) => {
                buf.put_slice(&o);
                buf.put_u8(0);
            }
            (None, None) => {
                return Err(SerdeError::new(
                    NAME,
                    topic,
                    "both old and new values are null, which is not allowed",
                ))
            }
        }
        Ok(Some(buf.freeze()))
    }
}

impl<V: 'static> Deserializer<Change<V>> for ChangeSerde<V> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Change<V>, SerdeError> {
        let err = |d: &str| SerdeError::new(NAME, topic, d.to_owned());
        let data = data.ok_or_else(|| err("a change cannot be null"))?;
        let (flag, body) = data.split_last().ok_or_else(|| err("empty change"))?;
        let de = |b: &[u8]| self.inner.deserialize(topic, Some(b)).map(Some);
        match *flag {
            0 => Ok(Change::new(None, de(body)?)),
            1 => Ok(Change::new(de(body)?, None)),
            2 => {
                let (len, rest) = read_zigzag_varint(body).ok_or_else(|| err("bad varint"))?;
                let len = usize::try_from(len).map_err(|_| err("negative length"))?;
                if len > rest.len() {
                    return Err(err("new value length beyond the data"));
                }
                let (n, o) = rest.split_at(len);
                Ok(Change::new(de(n)?, de(o)?))
            }
            f => Err(err(&format!("unknown encoding flag {f}"))),
        }
    }
}

fn put_zigzag_varint(buf: &mut BytesMut, v: i32) {
    let mut z = ((v << 1) ^ (v >> 31)) as u32;
    while z & !0x7f != 0 {
        buf.put_u8(((z & 0x7f) | 0x80) as u8);
        z >>= 7;
    }
    buf.put_u8(z as u8);
}

fn read_zigzag_varint(data: &[u8]) -> Option<(i32, &[u8])> {
    let mut z: u32 = 0;
    for (i, b) in data.iter().enumerate().take(5) {
        z |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let v = ((z >> 1) as i32) ^ -((z & 1) as i32);
            return Some((v, &data[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::StringSerde;

    fn serde() -> ChangeSerde<String> {
        ChangeSerde {
            inner: DynSerde::new(StringSerde),
        }
    }

    #[test]
    fn changes_are_written_as_kafka_writes_them() -> Result<(), SerdeError> {
        let s = serde();
        let c = |n: Option<&str>, o: Option<&str>| {
            Change::new(n.map(str::to_owned), o.map(str::to_owned))
        };
        let cases = [
            (c(Some("ab"), None), &b"ab\x01"[..]),
            (c(None, Some("xy")), &b"xy\x00"[..]),
            (c(Some("ab"), Some("xyz")), &b"\x04abxyz\x02"[..]),
        ];
        for (change, bytes) in cases {
            let b = s.serialize("t", &change)?;
            assert_eq!(b.as_deref(), Some(bytes));
            assert_eq!(s.deserialize("t", Some(bytes))?, change);
        }
        assert!(s.serialize("t", &c(None, None)).is_err());
        assert!(s.deserialize("t", Some(b"\x09")).is_err());
        assert!(s.deserialize("t", Some(b"\x7fab\x02")).is_err());
        Ok(())
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes on a grouped table's repartition topic read as a change or an error,
            /// never a panic.
            #[test]
            fn any_bytes_deserialize_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..64)) {
                let _ = serde().deserialize("t", Some(&data));
            }

            /// Changes read back as written.
            #[test]
            fn changes_round_trip(new in proptest::option::of("\\PC{0,20}"), old in proptest::option::of("\\PC{0,20}")) {
                prop_assume!(new.is_some() || old.is_some());
                let c = Change::new(new, old);
                let s = serde();
                let bytes = s.serialize("t", &c).ok().flatten().unwrap_or_default();
                prop_assert_eq!(s.deserialize("t", Some(&bytes)).ok(), Some(c));
            }
        }
    }
}
