//! The runtime: tasks, stream threads and the application object.

pub mod config;
pub mod eos;
pub(crate) mod global_thread;
pub(crate) mod handlers;
pub mod kafka_streams;
pub mod metrics;
pub(crate) mod partition_group;
pub(crate) mod rebalance_listener;
pub mod restore;
pub(crate) mod standby;
pub mod stream_thread;
pub(crate) mod task;

pub use config::{CrashPoint, InternalTopicsSetup, ProcessingGuarantee, StreamsConfig};
pub use handlers::ErrorHandling;
pub use kafka_streams::{KafkaStreams, State, ThreadMetadata, UncaughtResponse};
pub use metrics::{MetricValue, StreamsMetrics};
pub use restore::{RestoreOutcome, StateRestoreListener};
pub use stream_thread::ThreadState;
pub use task::TaskState;

#[cfg(test)]
mod task_tests;
