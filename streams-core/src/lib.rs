//! Kafka Streams in Rust, on `kafka-wire`: topology and Processor API, tasks and stream
//! threads, task assignment over the classic consumer-group protocol, state stores with
//! changelog topics, at-least-once processing.
//!
//! Layers (imports only go down):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | values | [`task_id`], [`serde`], [`record`] | task ids, serializers, records |
//! | state | [`state`] | store traits and the in-memory store; never sees tasks or producers |
//! | topology | [`processor`], [`topology`] | the Processor API and the topology builder |
//! | assignment | [`assignment`] | the streams assignor: a pure function over members and tasks |
//! | runtime | [`runtime`] | tasks, stream threads, the `KafkaStreams` application |
//!
//! Persistent redb stores, standby replicas and exactly-once come in later work; the seams
//! for them are the store trait, the commit step per task and the producer per thread.

pub mod assignment;
pub mod error;
pub mod processor;
pub mod record;
pub mod runtime;
pub mod serde;
pub mod state;
pub mod task_id;
pub mod timestamp;
pub mod topology;

pub use task_id::TaskId;
