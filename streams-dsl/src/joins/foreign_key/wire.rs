//! What a foreign-key join writes on its internal topics and in its subscription store, byte
//! for byte as Kafka Streams 4.x (so an instance reads what a Java instance wrote):
//!
//! - a subscription (`SubscriptionWrapperSerde`, v1):
//!   `{hash-null bit, 7-bit version}{instruction}{16-byte hash, when not null}{primary key}{4-byte primary partition}`
//!   (v0 has no partition);
//! - a response (`SubscriptionResponseWrapperSerde`, v0):
//!   `{hash-null bit, 7-bit version}{16-byte hash, when not null}{foreign value, when not null}`;
//! - the subscription store's combined key (`CombinedKeySchema`):
//!   `{4-byte foreign key length}{foreign key}{primary key}`.

use bytes::{BufMut, Bytes, BytesMut};
use streams_core::serde::{Deserializer, SerdeError, Serializer};

use super::murmur3::ValueHash;
use super::pseudo_topics::PseudoTopics;
use crate::serdes::DynSerde;

/// The subscription version this crate writes (Kafka's `SubscriptionWrapper.CURRENT_VERSION`).
pub(crate) const SUBSCRIPTION_VERSION: u8 = 1;
/// The response version (Kafka's `SubscriptionResponseWrapper.CURRENT_VERSION`).
pub(crate) const RESPONSE_VERSION: u8 = 0;

/// What the right side does with a subscription (Kafka's `SubscriptionWrapper.Instruction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instruction {
    /// Remove the subscription; answer nothing (the left row moved to another foreign key).
    DeleteKeyNoPropagate = 0,
    /// Remove the subscription; answer with no foreign value (the row was deleted, or a left
    /// join's row moved away).
    DeleteKeyAndPropagate = 1,
    /// Subscribe; answer with the foreign value or none (left joins, changed rows).
    PropagateNullIfNoFkValAvailable = 2,
    /// Subscribe; answer only when a foreign value exists (an inner join's new row).
    PropagateOnlyIfFkValAvailable = 3,
}

impl Instruction {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Instruction::DeleteKeyNoPropagate,
            1 => Instruction::DeleteKeyAndPropagate,
            2 => Instruction::PropagateNullIfNoFkValAvailable,
            3 => Instruction::PropagateOnlyIfFkValAvailable,
            _ => return None,
        })
    }

    /// Whether the subscription store drops the subscription.
    pub fn deletes(self) -> bool {
        matches!(
            self,
            Instruction::DeleteKeyNoPropagate | Instruction::DeleteKeyAndPropagate
        )
    }
}

/// A left row's subscription to a foreign key (Kafka's `SubscriptionWrapper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubscriptionWrapper<K> {
    /// The hash of the left value that sent it; `None` when the row was deleted.
    pub hash: Option<ValueHash>,
    pub instruction: Instruction,
    pub primary_key: K,
    /// The left row's partition (v1); `None` in a v0 subscription.
    pub primary_partition: Option<i32>,
    pub version: u8,
}

/// The right side's answer to a subscription (Kafka's `SubscriptionResponseWrapper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubscriptionResponseWrapper<VO> {
    /// The hash the subscription carried, for the left side to drop stale answers.
    pub hash: Option<ValueHash>,
    pub foreign_value: Option<VO>,
    pub version: u8,
    /// Where the answer goes (the subscription's partition); not written.
    pub primary_partition: Option<i32>,
}

fn short(serde: &'static str, topic: &str, what: &str) -> SerdeError {
    SerdeError::new(
        serde,
        topic,
        format!("{what}: the record is shorter than its header (not written by a foreign-key join of Kafka Streams 2.4 or later?)"),
    )
}

/// Split the `{hash-null bit, version}` byte and the hash after it.
fn read_header<'a>(
    serde: &'static str,
    topic: &str,
    data: &'a [u8],
) -> Result<(u8, Option<ValueHash>, &'a [u8]), SerdeError> {
    let (first, rest) = data
        .split_first()
        .ok_or_else(|| short(serde, topic, "empty value"))?;
    let version = first & 0x7f;
    if first & 0x80 != 0 {
        return Ok((version, None, rest));
    }
    let (hash, rest) = rest
        .split_first_chunk::<16>()
        .ok_or_else(|| short(serde, topic, "no 16-byte value hash"))?;
    Ok((version, Some(*hash), rest))
}

const SUB: &str = "SubscriptionWrapperSerde";
const RESP: &str = "SubscriptionResponseWrapperSerde";

/// Kafka's `SubscriptionWrapperSerde` of primary keys `K`.
pub(crate) struct SubscriptionWrapperSerde<K> {
    pub primary_key: DynSerde<K>,
    /// The pseudo-topic primary keys are serialized for (`<registration topic>-pk`).
    pub topics: PseudoTopics,
}

impl<K> Clone for SubscriptionWrapperSerde<K> {
    fn clone(&self) -> Self {
        SubscriptionWrapperSerde {
            primary_key: self.primary_key.clone(),
            topics: self.topics.clone(),
        }
    }
}

impl<K: 'static> Serializer<SubscriptionWrapper<K>> for SubscriptionWrapperSerde<K> {
    fn serialize(
        &self,
        topic: &str,
        s: &SubscriptionWrapper<K>,
    ) -> Result<Option<Bytes>, SerdeError> {
        if s.version > 1 {
            return Err(SerdeError::new(
                SUB,
                topic,
                format!(
                    "subscription version {} is not supported (0 or 1)",
                    s.version
                ),
            ));
        }
        let pk = self
            .primary_key
            .serialize(self.topics.primary_key(), &s.primary_key)?
            .ok_or_else(|| SerdeError::new(SUB, topic, "the primary key serialized to null"))?;
        let mut buf = BytesMut::with_capacity(2 + 16 + pk.len() + 4);
        match &s.hash {
            Some(h) => {
                buf.put_u8(s.version);
                buf.put_u8(s.instruction as u8);
                buf.put_slice(h);
            }
            None => {
                buf.put_u8(s.version | 0x80);
                buf.put_u8(s.instruction as u8);
            }
        }
        buf.put_slice(&pk);
        if s.version >= 1 {
            buf.put_i32(s.primary_partition.unwrap_or(-1));
        }
        Ok(Some(buf.freeze()))
    }
}

impl<K: 'static> Deserializer<SubscriptionWrapper<K>> for SubscriptionWrapperSerde<K> {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<SubscriptionWrapper<K>, SerdeError> {
        let data =
            data.ok_or_else(|| SerdeError::new(SUB, topic, "a subscription cannot be null"))?;
        let (first, _) = data
            .split_first()
            .ok_or_else(|| short(SUB, topic, "empty value"))?;
        let hash_null = first & 0x80 != 0;
        let version = first & 0x7f;
        let rest = &data[1..];
        let (inst, rest) = rest
            .split_first()
            .ok_or_else(|| short(SUB, topic, "no instruction"))?;
        let instruction = Instruction::from_byte(*inst).ok_or_else(|| {
            SerdeError::new(
                SUB,
                topic,
                format!("unknown subscription instruction {inst}"),
            )
        })?;
        let (hash, rest) = if hash_null {
            (None, rest)
        } else {
            let (h, rest) = rest
                .split_first_chunk::<16>()
                .ok_or_else(|| short(SUB, topic, "no 16-byte value hash"))?;
            (Some(*h), rest)
        };
        let (pk, primary_partition) = if version > 0 {
            let (pk, part) = rest
                .split_last_chunk::<4>()
                .ok_or_else(|| short(SUB, topic, "no 4-byte primary partition"))?;
            (pk, Some(i32::from_be_bytes(*part)))
        } else {
            (rest, None)
        };
        let primary_key = self
            .primary_key
            .deserialize(self.topics.primary_key(), Some(pk))?;
        Ok(SubscriptionWrapper {
            hash,
            instruction,
            primary_key,
            primary_partition,
            version,
        })
    }
}

/// Kafka's `SubscriptionResponseWrapperSerde` of foreign values `VO`.
pub(crate) struct SubscriptionResponseWrapperSerde<VO> {
    pub foreign_value: DynSerde<VO>,
}

impl<VO> Clone for SubscriptionResponseWrapperSerde<VO> {
    fn clone(&self) -> Self {
        SubscriptionResponseWrapperSerde {
            foreign_value: self.foreign_value.clone(),
        }
    }
}

impl<VO: 'static> Serializer<SubscriptionResponseWrapper<VO>>
    for SubscriptionResponseWrapperSerde<VO>
{
    fn serialize(
        &self,
        topic: &str,
        r: &SubscriptionResponseWrapper<VO>,
    ) -> Result<Option<Bytes>, SerdeError> {
        if r.version > 0x7f {
            return Err(SerdeError::new(RESP, topic, "response version above 127"));
        }
        let value = match &r.foreign_value {
            Some(v) => self.foreign_value.serialize(topic, v)?,
            None => None,
        };
        let mut buf = BytesMut::with_capacity(17 + value.as_ref().map_or(0, Bytes::len));
        match &r.hash {
            Some(h) => {
                buf.put_u8(r.version);
                buf.put_slice(h);
            }
            None => buf.put_u8(r.version | 0x80),
        }
        if let Some(v) = value {
            buf.put_slice(&v);
        }
        Ok(Some(buf.freeze()))
    }
}

impl<VO: 'static> Deserializer<SubscriptionResponseWrapper<VO>>
    for SubscriptionResponseWrapperSerde<VO>
{
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<SubscriptionResponseWrapper<VO>, SerdeError> {
        let data = data.ok_or_else(|| SerdeError::new(RESP, topic, "a response cannot be null"))?;
        let (version, hash, rest) = read_header(RESP, topic, data)?;
        // Kafka reads no bytes after the header as no foreign value.
        let foreign_value = if rest.is_empty() {
            None
        } else {
            Some(self.foreign_value.deserialize(topic, Some(rest))?)
        };
        Ok(SubscriptionResponseWrapper {
            hash,
            foreign_value,
            version,
            primary_partition: None,
        })
    }
}

/// The subscription store's key of `(foreign key bytes, primary key bytes)`.
pub(crate) fn combined_key(fk: &[u8], pk: &[u8]) -> Result<Bytes, CombinedKeyError> {
    let len = i32::try_from(fk.len()).map_err(|_| CombinedKeyError::TooLong(fk.len()))?;
    let mut buf = BytesMut::with_capacity(4 + fk.len() + pk.len());
    buf.put_i32(len);
    buf.put_slice(fk);
    buf.put_slice(pk);
    Ok(buf.freeze())
}

/// The prefix of every subscription to foreign key `fk` (Kafka's `prefixBytes`).
pub(crate) fn combined_key_prefix(fk: &[u8]) -> Result<Bytes, CombinedKeyError> {
    combined_key(fk, &[])
}

/// The primary key bytes of a combined key.
pub(crate) fn primary_key_of(combined: &[u8]) -> Result<&[u8], CombinedKeyError> {
    let (len, rest) = combined
        .split_first_chunk::<4>()
        .ok_or(CombinedKeyError::Truncated)?;
    let len = usize::try_from(i32::from_be_bytes(*len)).map_err(|_| CombinedKeyError::Truncated)?;
    rest.get(len..).ok_or(CombinedKeyError::Truncated)
}

/// A combined key that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CombinedKeyError {
    /// A foreign key longer than an `i32` length can say.
    #[error("a serialized foreign key of {0} bytes is too long for the subscription store's key")]
    TooLong(usize),
    /// A stored key shorter than its length prefix says.
    #[error("a subscription store key is shorter than its foreign-key length says (the store holds something else: reset the application's state)")]
    Truncated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::StringSerde;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect()
    }

    fn sub_serde() -> SubscriptionWrapperSerde<String> {
        SubscriptionWrapperSerde {
            primary_key: DynSerde::new(StringSerde),
            topics: PseudoTopics::new("t"),
        }
    }

    fn hash(s: &str) -> ValueHash {
        let mut h = [0u8; 16];
        h.copy_from_slice(&unhex(s));
        h
    }

    /// Records Java 4.4 wrote on its registration topic (`TtdFkJoinsReference.java bytes`).
    #[test]
    fn subscriptions_are_javas_bytes() -> Result<(), SerdeError> {
        let s = sub_serde();
        let cases = [
            (
                "0103e49192376451cf6f63ed3f96c58964446f3100000000",
                SubscriptionWrapper {
                    hash: Some(hash("e49192376451cf6f63ed3f96c5896444")),
                    instruction: Instruction::PropagateOnlyIfFkValAvailable,
                    primary_key: "o1".to_owned(),
                    primary_partition: Some(0),
                    version: 1,
                },
            ),
            (
                "01004c145c3cbf87ed733b86c93c1fb198226f3100000000",
                SubscriptionWrapper {
                    hash: Some(hash("4c145c3cbf87ed733b86c93c1fb19822")),
                    instruction: Instruction::DeleteKeyNoPropagate,
                    primary_key: "o1".to_owned(),
                    primary_partition: Some(0),
                    version: 1,
                },
            ),
            (
                "81016f3200000000",
                SubscriptionWrapper {
                    hash: None,
                    instruction: Instruction::DeleteKeyAndPropagate,
                    primary_key: "o2".to_owned(),
                    primary_partition: Some(0),
                    version: 1,
                },
            ),
        ];
        for (bytes, sub) in cases {
            let bytes = unhex(bytes);
            assert_eq!(s.serialize("t", &sub)?.as_deref(), Some(&bytes[..]));
            assert_eq!(s.deserialize("t", Some(&bytes))?, sub);
        }
        // v0 (written before Kafka 3.5): no partition.
        let v0 = s.deserialize("t", Some(&unhex("80016f32")))?;
        assert_eq!((v0.version, v0.primary_partition), (0, None));
        assert!(s.deserialize("t", Some(&unhex("0103e491"))).is_err());
        assert!(s.deserialize("t", Some(&unhex("0109"))).is_err());
        assert!(s.deserialize("t", Some(&[])).is_err());
        Ok(())
    }

    /// Records Java 4.4 wrote on its response topic.
    #[test]
    fn responses_are_javas_bytes() -> Result<(), SerdeError> {
        let s = SubscriptionResponseWrapperSerde::<String> {
            foreign_value: DynSerde::new(StringSerde),
        };
        let cases = [
            (
                "00e49192376451cf6f63ed3f96c5896444616c696365",
                Some(hash("e49192376451cf6f63ed3f96c5896444")),
                Some("alice"),
            ),
            (
                "004c145c3cbf87ed733b86c93c1fb19822",
                Some(hash("4c145c3cbf87ed733b86c93c1fb19822")),
                None,
            ),
            ("80", None, None),
        ];
        for (bytes, h, v) in cases {
            let r = SubscriptionResponseWrapper {
                hash: h,
                foreign_value: v.map(str::to_owned),
                version: 0,
                primary_partition: None,
            };
            let bytes = unhex(bytes);
            assert_eq!(s.serialize("t", &r)?.as_deref(), Some(&bytes[..]));
            assert_eq!(s.deserialize("t", Some(&bytes))?, r);
        }
        assert!(s.deserialize("t", Some(&unhex("00e491"))).is_err());
        Ok(())
    }

    #[test]
    fn combined_keys_are_length_prefixed() -> Result<(), CombinedKeyError> {
        let k = combined_key(b"A", b"o1")?;
        assert_eq!(&k[..], &[0, 0, 0, 1, b'A', b'o', b'1']);
        assert_eq!(primary_key_of(&k)?, b"o1");
        assert_eq!(&combined_key_prefix(b"A")?[..], &[0, 0, 0, 1, b'A']);
        assert!(primary_key_of(&[0, 0, 0, 9, 1]).is_err());
        assert!(primary_key_of(&[0xff, 0xff, 0xff, 0xff]).is_err());
        Ok(())
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes on the internal topics read as a wrapper or an error, never a panic.
            #[test]
            fn any_bytes_deserialize_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..48)) {
                let _ = sub_serde().deserialize("t", Some(&data));
                let r = SubscriptionResponseWrapperSerde::<String> { foreign_value: DynSerde::new(StringSerde) };
                let _ = r.deserialize("t", Some(&data));
                let _ = primary_key_of(&data);
            }
        }
    }
}
