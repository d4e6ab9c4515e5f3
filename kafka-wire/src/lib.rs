//! placeholder
pub mod admin;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod error;
pub mod protocol;
mod topic_partition;

pub use error::{Error, Result};
pub use topic_partition::TopicPartition;
