//! [`DynSerde`]: any serde of `T` behind one type.

use std::sync::Arc;

use bytes::Bytes;
use streams_core::serde::{Deserializer, Serde, SerdeError, Serializer};

/// Both halves of a serde, object-safe.
trait ErasedSerde<T>: Send + Sync + 'static {
    fn ser(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError>;
    fn de(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError>;
    fn null(&self, value: &T) -> bool;
}

impl<T, S: Serde<T>> ErasedSerde<T> for S {
    fn ser(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        self.serialize(topic, value)
    }
    fn de(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        self.deserialize(topic, data)
    }
    fn null(&self, value: &T) -> bool {
        self.is_null(value)
    }
}

/// Any [`Serde<T>`] behind one cheap-to-clone type: what the DSL's option types
/// ([`crate::Consumed`], [`crate::Produced`], …) and streams hold.
pub struct DynSerde<T> {
    inner: Arc<dyn ErasedSerde<T>>,
    name: &'static str,
}

impl<T> Clone for DynSerde<T> {
    fn clone(&self) -> Self {
        DynSerde {
            inner: self.inner.clone(),
            name: self.name,
        }
    }
}

impl<T> std::fmt::Debug for DynSerde<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DynSerde({})", self.name)
    }
}

impl<T: 'static> DynSerde<T> {
    /// Wrap `serde`.
    pub fn new<S: Serde<T>>(serde: S) -> Self {
        DynSerde {
            inner: Arc::new(serde),
            name: std::any::type_name::<S>(),
        }
    }

    /// The wrapped serde's type name, for messages.
    pub fn serde_name(&self) -> &'static str {
        self.name
    }
}

impl<T: 'static> Serializer<T> for DynSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Option<Bytes>, SerdeError> {
        self.inner.ser(topic, value)
    }

    fn is_null(&self, value: &T) -> bool {
        self.inner.null(value)
    }
}

impl<T: 'static> Deserializer<T> for DynSerde<T> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<T, SerdeError> {
        self.inner.de(topic, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::I64Serde;

    #[test]
    fn a_dyn_serde_writes_what_the_wrapped_one_writes() -> Result<(), SerdeError> {
        let s = DynSerde::<i64>::new(I64Serde);
        let b = s.serialize("t", &258)?;
        assert_eq!(b.as_deref(), Some(&[0, 0, 0, 0, 0, 0, 1, 2][..]));
        assert_eq!(s.deserialize("t", b.as_deref())?, 258);
        assert!(s.serde_name().ends_with("I64Serde"));
        Ok(())
    }
}
