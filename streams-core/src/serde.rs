//! Serializers and deserializers between typed keys and values and Kafka's bytes.
//!
//! Kafka's null (a missing key, a tombstone value) is `None` on the wire side: a
//! [`Deserializer`] gets `Option<&[u8]>` and decides what null means for its type; the
//! built-in serdes implement both `T` (null is an error naming the topic) and `Option<T>`
//! (null is `None`), so a processor that must see tombstones asks for `Option<V>`.
//! Numbers use Kafka's big-endian encodings, byte-identical to Java's serdes.

use bytes::Bytes;

/// A value that could not be turned into bytes or back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{serde} on topic {topic:?}: {detail}")]
pub struct SerdeError {
    /// The serde that failed (`StringSerde`, a user type's name, …).
    pub serde: &'static str,
    /// The topic the bytes came from or go to.
    pub topic: String,
    /// What was wrong.
    pub detail: String,
}

impl SerdeError {
    /// An error from `serde` on `topic`.
    pub fn new(serde: &'static str, topic: &str, detail: impl Into<String>) -> Self {
        SerdeError {
            serde,
            topic: topic.to_owned(),
            detail: detail.into(),
        }
    }
}

/// Turns a `T` into the bytes written to `topic` (`None`: Kafka's null).
pub trait Serializer<T>: Send + Sync + 'static {
    /// Serialize `value` for `topic`.
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError>;

    /// Whether `value` is Kafka's null for this serializer (what [`Serializer::serialize`]
    /// turns into `None`), for the operations that skip null keys or values. The default
    /// serializes `value` to find out, as a user's serializer may map any value to null; the
    /// built-in serdes answer without serializing (no allocation per record).
    fn is_null(&self, value: &T) -> bool {
        matches!(self.serialize("", value), Ok(None))
    }
}

/// Turns the bytes read from `topic` (`None`: Kafka's null) into a `T`.
pub trait Deserializer<T>: Send + Sync + 'static {
    /// Deserialize `data` read from `topic`.
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError>;
}

/// A serializer and a deserializer for the same type (Kafka's `Serde<T>`).
pub trait Serde<T>: Serializer<T> + Deserializer<T> + Clone {}

impl<T, S: Serializer<T> + Deserializer<T> + Clone> Serde<T> for S {}

fn null(serde: &'static str, topic: &str) -> SerdeError {
    SerdeError::new(
        serde,
        topic,
        "null where a value was expected (deserialize into Option<_> to accept nulls)",
    )
}

macro_rules! nullable {
    ($serde:ident, $t:ty) => {
        impl Serializer<Option<$t>> for $serde {
            fn serialize(
                &self,
                topic: &str,
                value: &Option<$t>,
            ) -> Result<Option<Bytes>, SerdeError> {
                match value {
                    Some(v) => Serializer::<$t>::serialize(self, topic, v),
                    None => Ok(None),
                }
            }

            fn is_null(&self, value: &Option<$t>) -> bool {
                value.is_none()
            }
        }
        impl Deserializer<Option<$t>> for $serde {
            fn deserialize(
                &self,
                topic: &str,
                data: Option<&[u8]>,
            ) -> Result<Option<$t>, SerdeError> {
                match data {
                    Some(d) => Deserializer::<$t>::deserialize(self, topic, Some(d)).map(Some),
                    None => Ok(None),
                }
            }
        }
    };
}

/// UTF-8 strings (Kafka's `Serdes.String()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerde;

impl Serializer<String> for StringSerde {
    fn serialize(&self, _topic: &str, value: &String) -> Result<Option<Bytes>, SerdeError> {
        Ok(Some(Bytes::copy_from_slice(value.as_bytes())))
    }

    fn is_null(&self, _value: &String) -> bool {
        false
    }
}

impl Deserializer<String> for StringSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<String, SerdeError> {
        let data = data.ok_or_else(|| null("StringSerde", topic))?;
        String::from_utf8(data.to_vec())
            .map_err(|e| SerdeError::new("StringSerde", topic, format!("not UTF-8: {e}")))
    }
}
nullable!(StringSerde, String);

/// Raw bytes, passed through (Kafka's `Serdes.Bytes()` / `ByteArray()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerde;

impl Serializer<Bytes> for BytesSerde {
    fn serialize(&self, _topic: &str, value: &Bytes) -> Result<Option<Bytes>, SerdeError> {
        Ok(Some(value.clone()))
    }

    fn is_null(&self, _value: &Bytes) -> bool {
        false
    }
}

impl Deserializer<Bytes> for BytesSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Bytes, SerdeError> {
        data.map(Bytes::copy_from_slice)
            .ok_or_else(|| null("BytesSerde", topic))
    }
}
nullable!(BytesSerde, Bytes);

macro_rules! big_endian {
    ($serde:ident, $t:ty, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $serde;

        impl Serializer<$t> for $serde {
            fn serialize(&self, _topic: &str, value: &$t) -> Result<Option<Bytes>, SerdeError> {
                Ok(Some(Bytes::copy_from_slice(&value.to_be_bytes())))
            }

            fn is_null(&self, _value: &$t) -> bool {
                false
            }
        }

        impl Deserializer<$t> for $serde {
            fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<$t, SerdeError> {
                let data = data.ok_or_else(|| null($name, topic))?;
                let bytes: [u8; std::mem::size_of::<$t>()] = data.try_into().map_err(|_| {
                    SerdeError::new(
                        $name,
                        topic,
                        format!(
                            "{} bytes where {} were expected",
                            data.len(),
                            std::mem::size_of::<$t>()
                        ),
                    )
                })?;
                Ok(<$t>::from_be_bytes(bytes))
            }
        }
        nullable!($serde, $t);
    };
}

big_endian!(
    I32Serde,
    i32,
    "I32Serde",
    "4-byte big-endian integers (Kafka's `Serdes.Integer()`)."
);
big_endian!(
    I64Serde,
    i64,
    "I64Serde",
    "8-byte big-endian integers (Kafka's `Serdes.Long()`)."
);
big_endian!(
    F32Serde,
    f32,
    "F32Serde",
    "4-byte big-endian IEEE 754 floats (Kafka's `Serdes.Float()`)."
);
big_endian!(
    F64Serde,
    f64,
    "F64Serde",
    "8-byte big-endian IEEE 754 doubles (Kafka's `Serdes.Double()`)."
);

/// Always null (Kafka's `Serdes.Void()`): for keys a topology ignores.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitSerde;

impl Serializer<()> for UnitSerde {
    fn serialize(&self, _topic: &str, _value: &()) -> Result<Option<Bytes>, SerdeError> {
        Ok(None)
    }

    fn is_null(&self, _value: &()) -> bool {
        true
    }
}

impl Deserializer<()> for UnitSerde {
    fn deserialize(&self, _topic: &str, _data: Option<&[u8]>) -> Result<(), SerdeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn is_null_answers_what_serialize_would_without_serializing() {
        fn agrees<T, S: Serializer<T>>(s: &S, v: &T) {
            assert_eq!(s.is_null(v), matches!(s.serialize("t", v), Ok(None)));
        }
        agrees(&StringSerde, &"x".to_owned());
        agrees(&StringSerde, &Some("x".to_owned()));
        agrees::<Option<String>, _>(&StringSerde, &None);
        agrees(&I64Serde, &7);
        agrees::<Option<i64>, _>(&I64Serde, &None);
        agrees(&BytesSerde, &Bytes::new());
        agrees(&UnitSerde, &());
        assert!(Serializer::<Option<i32>>::is_null(&I32Serde, &None));
    }
    use super::*;

    #[test]
    fn numbers_are_big_endian_as_in_java() {
        let b = Serializer::<i64>::serialize(&I64Serde, "t", &1)
            .unwrap()
            .unwrap();
        assert_eq!(&b[..], &[0, 0, 0, 0, 0, 0, 0, 1]);
        let b = Serializer::<i32>::serialize(&I32Serde, "t", &-2)
            .unwrap()
            .unwrap();
        assert_eq!(&b[..], &[0xff, 0xff, 0xff, 0xfe]);
        let v: i32 = I32Serde.deserialize("t", Some(&[0, 0, 1, 0])).unwrap();
        assert_eq!(v, 256);
        let e = Deserializer::<i64>::deserialize(&I64Serde, "t", Some(&[1, 2])).unwrap_err();
        assert!(
            e.to_string().contains("2 bytes where 8 were expected"),
            "{e}"
        );
    }

    #[test]
    fn null_is_none_or_an_error_naming_the_topic() {
        let v: Option<String> = StringSerde.deserialize("in", None).unwrap();
        assert_eq!(v, None);
        let e = Deserializer::<String>::deserialize(&StringSerde, "in", None).unwrap_err();
        assert!(e.to_string().contains("\"in\""), "{e}");
        let tombstone = Serializer::<Option<String>>::serialize(&StringSerde, "t", &None).unwrap();
        assert_eq!(tombstone, None);
        assert!(Deserializer::<String>::deserialize(&StringSerde, "t", Some(&[0xff])).is_err());
    }
}
