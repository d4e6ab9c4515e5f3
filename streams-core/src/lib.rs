//! Kafka Streams in Rust, on `kafka-wire`: topology and Processor API, tasks and stream
//! threads, task assignment over the classic consumer-group protocol, state stores with
//! changelog topics (persistent on redb or in memory), standby and warm-up replicas,
//! at-least-once and exactly-once (`exactly_once_v2`) processing.
//!
//! Layers (imports only go down):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | values | [`task_id`], [`serde`], [`record`] | task ids, serializers, records |
//! | state | [`state`] | stores on a storage backend (redb or memory), the record cache, the state directory; never sees tasks or producers |
//! | topology | [`processor`], [`topology`] | the Processor API and the topology builder |
//! | assignment | [`assignment`] | the streams assignor: a pure function over members and tasks |
//! | runtime | [`runtime`] | tasks, stream threads, the `KafkaStreams` application |
//! | testing | [`testing`] | the broker-less `TopologyTestDriver` (Kafka's `kafka-streams-test-utils`), on the runtime's tasks |
//!
//! The shortest working program: upper-case every value of `input` into `output`.
//!
//! ```no_run
//! use std::time::Duration;
//! use streams_core::error::BoxError;
//! use streams_core::processor::ProcessorContext;
//! use streams_core::record::Record;
//! use streams_core::runtime::{KafkaStreams, StreamsConfig};
//! use streams_core::serde::StringSerde;
//! use streams_core::topology::TopologyBuilder;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut b = TopologyBuilder::new();
//! let source = b.add_source::<Option<String>, String>("Source", &["input"], StringSerde, StringSerde)?;
//! let upper = b.add_processor("Upper", &[&source], || {
//!     |ctx: &mut ProcessorContext<'_, Option<String>, String>,
//!      r: Record<Option<String>, String>|
//!      -> Result<(), BoxError> {
//!         let v = r.value.to_uppercase();
//!         ctx.forward(r.with_value(v))?;
//!         Ok(())
//!     }
//! })?;
//! b.add_sink("Sink", "output", StringSerde, StringSerde, &[&upper])?;
//!
//! let mut streams = KafkaStreams::new(b.build()?, StreamsConfig::new("upper-app", "localhost:9092"))?;
//! streams.start()?;
//! std::thread::sleep(Duration::from_secs(60));
//! streams.close(Duration::from_secs(10));
//! # Ok(()) }
//! ```
//!
//! Kafka's `WordCountProcessorDemo` ported is `examples/wordcount_processor.rs`.
//!
//! A persistent store is one line in the topology: `b.add_state_store(StoreBuilder::persistent_key_value(&handle), &["Count"])`
//! keeps the store in a redb file under `state.dir/<application.id>/<task>/`, with the
//! changelog position committed in the same transaction as the data (a restart restores only
//! the changelog's tail).
//!
//! Exactly-once is one setting: `config.set("processing.guarantee", "exactly_once_v2")`. Each
//! stream thread then writes its output, its changelog records and its input offsets in one
//! Kafka transaction, and commits its stores' redb transactions only after the Kafka one, so
//! after a crash at any point (or an aborted transaction, or a fenced producer) every store is
//! back at the last committed transaction **without being wiped** — see [`runtime::eos`] for
//! the ordering and why it holds. A restarted instance (same `state.dir`) rejoins as the same
//! static members (`group.instance.id` from the process id kept in the state directory;
//! `static.membership.enabled=false` turns it off), so it takes its tasks back without waiting
//! out `session.timeout.ms`.

pub mod assignment;
pub mod error;
pub mod java_text;
pub mod processor;
pub mod record;
pub mod runtime;
pub mod serde;
pub mod state;
pub mod task_id;
pub mod testing;
pub mod timestamp;
pub mod topology;

pub use task_id::TaskId;
