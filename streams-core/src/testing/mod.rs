//! A broker-less test driver (Kafka's `kafka-streams-test-utils`): [`TopologyTestDriver`]
//! runs a [`Topology`](crate::topology::Topology) in the calling thread; records piped into a
//! [`TestInputTopic`] are processed before the call returns, and what the topology produces is
//! read from a [`TestOutputTopic`]. Deterministic: no thread, no runtime, no clock — the
//! driver's wall clock moves only when told to.
//!
//! ```
//! use streams_core::error::BoxError;
//! use streams_core::processor::ProcessorContext;
//! use streams_core::record::Record;
//! use streams_core::serde::StringSerde;
//! use streams_core::testing::{TestRecord, TopologyTestDriver};
//! use streams_core::topology::TopologyBuilder;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut b = TopologyBuilder::new();
//! let source = b.add_source::<String, String>("Source", &["input"], StringSerde, StringSerde)?;
//! let upper = b.add_processor("Upper", &[&source], || {
//!     |ctx: &mut ProcessorContext<'_, String, String>, r: Record<String, String>| -> Result<(), BoxError> {
//!         let v = r.value.to_uppercase();
//!         ctx.forward(r.with_value(v))?;
//!         Ok(())
//!     }
//! })?;
//! b.add_sink("Sink", "output", StringSerde, StringSerde, &[&upper])?;
//!
//! let driver = TopologyTestDriver::new(b.build()?, [("application.id", "upper")], 0)?;
//! let mut input = driver.create_input_topic("input", StringSerde, StringSerde)?;
//! let output = driver.create_output_topic("output", StringSerde, StringSerde);
//! input.pipe_input_with_timestamp("k".to_owned(), "hello".to_owned(), 42)?;
//! assert_eq!(output.read_record()?, TestRecord::at("k".to_owned(), "HELLO".to_owned(), 42));
//! assert!(output.is_empty());
//! # Ok(()) }
//! ```
//!
//! How it differs from Java's driver:
//! - one task per sub-topology (Java puts every sub-topology in one task): a stream-time
//!   punctuator sees the stream time of its own sub-topology's inputs, as in the runtime;
//!   wall-clock punctuators fire task by task;
//! - persistent stores live in memory unless the driver is made with
//!   [`TopologyTestDriver::new_on_disk`] (redb in a temporary directory);
//! - an input topic made without a start time starts at the driver's wall-clock time (Java's
//!   reads the system clock), and an unset `application.id` is
//!   [`DEFAULT_APPLICATION_ID`] (Java's has a random suffix);
//! - pattern sources read nothing (their topics are not known when the tasks are made);
//! - stores are opened as key-value stores only ([`TopologyTestDriver::get_key_value_store`],
//!   timestamped ones seen through their plain values): no window, session or versioned store
//!   accessors, no `getAllStateStores`.

mod core;
mod driver;
mod error;
mod input_topic;
mod output_topic;
mod record;
mod state_dir;
mod store;
#[cfg(test)]
mod tests;
mod windowed_store;

pub use driver::{TopologyTestDriver, DEFAULT_APPLICATION_ID};
pub use error::TestDriverError;
pub use input_topic::TestInputTopic;
pub use output_topic::TestOutputTopic;
pub use record::TestRecord;
pub use store::TestKeyValueStore;
pub use windowed_store::{TestSessionStore, TestWindowStore};
