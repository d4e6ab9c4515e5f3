//! Serdes for the DSL: the built-in ones of [`streams_core::serde`] (String, bytes, i32, i64,
//! f32, f64, unit), plus [`UuidSerde`] (Kafka's `UUIDSerde`: the string form),
//! [`JsonSerde`] (any `serde` type as JSON) and [`OptionSerde`] (Kafka's null as `None`).
//!
//! Operations keep a serde as a [`DynSerde<T>`] (one type whatever serde it wraps); a node
//! without an explicit serde takes the builder's default for its type
//! ([`crate::StreamsBuilder::default_serde`]), found when the topology is built — a type with
//! neither is a [`crate::DslError::MissingSerde`] naming the node.
//!
//! A user type gets a serde by implementing [`streams_core::serde::Serializer`] and
//! [`streams_core::serde::Deserializer`] for a `Clone` serde struct (that is all
//! [`Serde<T>`](streams_core::serde::Serde) asks), or by deriving `serde`'s traits and using
//! [`JsonSerde`].

mod dyn_serde;
mod json;
mod option;
mod registry;
mod timestamped;
mod uuid;

pub use self::uuid::UuidSerde;
pub use crate::windowed::{SessionWindowedSerde, TimeWindowedSerde};
pub use dyn_serde::DynSerde;
pub use json::JsonSerde;
pub use option::OptionSerde;
pub use registry::SerdeRegistry;
pub use streams_core::serde::{
    BytesSerde, Deserializer, F32Serde, F64Serde, I32Serde, I64Serde, Serde, SerdeError,
    Serializer, StringSerde, UnitSerde,
};
pub(crate) use timestamped::ValueAndTimestampSerde;
