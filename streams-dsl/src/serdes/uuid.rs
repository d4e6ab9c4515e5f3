//! [`UuidSerde`]: Kafka's `Serdes.UUID()`.

use bytes::Bytes;
use streams_core::serde::{Deserializer, SerdeError, Serializer};
use uuid::Uuid;

/// UUIDs as their 36-character string form in UTF-8 (Kafka's `UUIDSerializer` writes
/// `uuid.toString()`), lower-case hex as Java prints it. Null reads as an error for `Uuid` and
/// as `None` for `Option<Uuid>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidSerde;

impl Serializer<Uuid> for UuidSerde {
    fn serialize(&self, _topic: &str, value: &Uuid) -> Result<Option<Bytes>, SerdeError> {
        Ok(Some(Bytes::from(value.hyphenated().to_string())))
    }

    fn is_null(&self, _value: &Uuid) -> bool {
        false
    }
}

impl Deserializer<Uuid> for UuidSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Uuid, SerdeError> {
        let data = data.ok_or_else(|| {
            SerdeError::new(
                "UuidSerde",
                topic,
                "null where a UUID was expected (deserialize into Option<Uuid> to accept nulls)",
            )
        })?;
        let text = std::str::from_utf8(data)
            .map_err(|e| SerdeError::new("UuidSerde", topic, format!("not UTF-8: {e}")))?;
        Uuid::parse_str(text).map_err(|e| {
            SerdeError::new("UuidSerde", topic, format!("{text:?} is not a UUID: {e}"))
        })
    }
}

impl Serializer<Option<Uuid>> for UuidSerde {
    fn serialize(&self, topic: &str, value: &Option<Uuid>) -> Result<Option<Bytes>, SerdeError> {
        match value {
            Some(v) => Serializer::<Uuid>::serialize(self, topic, v),
            None => Ok(None),
        }
    }

    fn is_null(&self, value: &Option<Uuid>) -> bool {
        value.is_none()
    }
}

impl Deserializer<Option<Uuid>> for UuidSerde {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Option<Uuid>, SerdeError> {
        match data {
            Some(d) => Deserializer::<Uuid>::deserialize(self, topic, Some(d)).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_their_string_form_as_in_java() -> Result<(), SerdeError> {
        let u = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let b = Serializer::<Uuid>::serialize(&UuidSerde, "t", &u)?;
        assert_eq!(
            b.as_deref(),
            Some(&b"01234567-89ab-cdef-0123-456789abcdef"[..])
        );
        let back: Uuid = UuidSerde.deserialize("t", b.as_deref())?;
        assert_eq!(back, u);
        let e = Deserializer::<Uuid>::deserialize(&UuidSerde, "t", Some(b"nope")).unwrap_err();
        assert!(e.to_string().contains("is not a UUID"), "{e}");
        let none: Option<Uuid> = UuidSerde.deserialize("t", None)?;
        assert_eq!(none, None);
        Ok(())
    }
}
