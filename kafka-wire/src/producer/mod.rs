//! Layer 3: the producer.
//!
//! Present so far are the two pieces of the producer that are pure logic, each a plain type
//! unit-tested without sockets:
//! - [`partitioner`]: Java-identical partitioning (murmur2 for keys, sticky for keyless
//!   records, a [`partitioner::Partitioner`] trait for custom strategies);
//! - [`idempotence`]: producer id/epoch and per-partition sequence bookkeeping, with the
//!   Java client's recovery rules (KIP-360 epoch bumps).
//!
//! The `Producer` client (accumulator, sender, delivery futures) is built on them next.

pub mod idempotence;
pub mod partitioner;
