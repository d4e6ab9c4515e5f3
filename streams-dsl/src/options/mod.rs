//! The option types of Kafka Streams' DSL: [`Named`], [`Consumed`], [`Produced`],
//! [`Grouped`], [`JoinWindows`], [`StreamJoined`], [`Joined`], [`Materialized`], [`Repartitioned`], [`Printed`] and [`Branched`]. Each
//! starts from a constructor named as in Kafka (`with`, `as_` for Java's `as`, …) and is
//! refined with `with_*` methods.

mod branched;
mod consumed;
mod grouped;
mod join_windows;
mod joined;
mod materialized;
mod named;
pub(crate) mod printed;
mod produced;
mod repartitioned;
mod suppressed;
mod table_joined;

pub use branched::Branched;
pub use consumed::Consumed;
pub use grouped::Grouped;
pub use join_windows::JoinWindows;
pub use joined::{Joined, StreamJoined};
pub use materialized::{Materialized, StoreType};
pub use named::Named;
pub use printed::{Printable, Printed};
pub use produced::Produced;
pub use repartitioned::Repartitioned;
pub(crate) use suppressed::SuppressKind;
pub use suppressed::{
    Buffer, BufferFullStrategy, EagerBufferConfig, StrictBufferConfig, Suppressed,
};
pub use table_joined::{KeyPartitioner, TableJoined};

use std::sync::Arc;

/// Chooses a record's partition from its topic, key, value and the topic's partition count
/// (Kafka's `StreamPartitioner`); `None` leaves it to the producer's partitioner (murmur2 of
/// the key bytes, as Java's).
pub type StreamPartitioner<K, V> = Arc<dyn Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync>;
