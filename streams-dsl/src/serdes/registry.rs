//! [`SerdeRegistry`]: the serde a type gets when an operation names none (Kafka's
//! `default.key.serde` / `default.value.serde`, chosen here by type).

use std::any::{Any, TypeId};
use std::collections::HashMap;

use bytes::Bytes;
use streams_core::serde::{
    BytesSerde, F32Serde, F64Serde, I32Serde, I64Serde, Serde, StringSerde, UnitSerde,
};
use uuid::Uuid;

use super::{DynSerde, OptionSerde, UuidSerde};

/// Default serdes by type. [`SerdeRegistry::new`] knows Kafka's built-in serdes:
///
/// | type | serde | Kafka |
/// |---|---|---|
/// | `String` | [`StringSerde`] | `Serdes.String()` |
/// | `Bytes` | [`BytesSerde`] | `Serdes.Bytes()` |
/// | `i32` / `i64` | [`I32Serde`] / [`I64Serde`] | `Serdes.Integer()` / `Long()` |
/// | `f32` / `f64` | [`F32Serde`] / [`F64Serde`] | `Serdes.Float()` / `Double()` |
/// | `Uuid` | [`UuidSerde`] | `Serdes.UUID()` |
/// | `()` | [`UnitSerde`] | `Serdes.Void()` |
///
/// and `Option<T>` of each but `()` (null is `None`).
#[derive(Default)]
pub struct SerdeRegistry {
    serdes: HashMap<TypeId, Box<dyn Any>>,
}

impl std::fmt::Debug for SerdeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerdeRegistry")
            .field("types", &self.serdes.len())
            .finish()
    }
}

impl SerdeRegistry {
    /// The built-in defaults (see the table above).
    pub fn new() -> Self {
        let mut r = SerdeRegistry::default();
        r.with_option::<String>(StringSerde);
        r.with_option::<Bytes>(BytesSerde);
        r.with_option::<i32>(I32Serde);
        r.with_option::<i64>(I64Serde);
        r.with_option::<f32>(F32Serde);
        r.with_option::<f64>(F64Serde);
        r.with_option::<Uuid>(UuidSerde);
        r.insert::<()>(UnitSerde);
        r
    }

    /// An empty registry: every serde must then be given explicitly.
    pub fn empty() -> Self {
        SerdeRegistry::default()
    }

    fn with_option<T: 'static>(&mut self, serde: impl Serde<T>) {
        let d = DynSerde::new(serde);
        self.insert::<Option<T>>(OptionSerde::of(d.clone()));
        self.serdes.insert(TypeId::of::<T>(), Box::new(d));
    }

    /// Use `serde` for every `T` that no operation gives a serde for (replaces an earlier
    /// default for `T`).
    pub fn insert<T: 'static>(&mut self, serde: impl Serde<T>) {
        self.serdes
            .insert(TypeId::of::<T>(), Box::new(DynSerde::new(serde)));
    }

    /// The default serde of `T`, if there is one.
    pub fn get<T: 'static>(&self) -> Option<DynSerde<T>> {
        self.serdes
            .get(&TypeId::of::<T>())
            .and_then(|s| s.downcast_ref::<DynSerde<T>>())
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streams_core::serde::{Deserializer, SerdeError, Serializer};

    #[test]
    fn built_in_types_and_their_options_have_defaults() -> Result<(), SerdeError> {
        let r = SerdeRegistry::new();
        let s = r
            .get::<i64>()
            .ok_or("i64")
            .map_err(|e| SerdeError::new("t", "t", e))?;
        assert_eq!(
            s.serialize("t", &1)?.as_deref(),
            Some(&[0, 0, 0, 0, 0, 0, 0, 1][..])
        );
        let o = r
            .get::<Option<String>>()
            .ok_or("Option<String>")
            .map_err(|e| SerdeError::new("t", "t", e))?;
        assert_eq!(o.deserialize("t", None)?, None);
        assert!(r.get::<u8>().is_none());
        assert!(SerdeRegistry::empty().get::<String>().is_none());
        Ok(())
    }
}
