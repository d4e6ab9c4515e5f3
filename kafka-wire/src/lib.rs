//! A pure-Rust Apache Kafka client: no C, no OpenSSL, one static binary.
//!
//! The crate is layered like the protocol, each layer only using the ones below it:
//!
//! | layer | module | what it holds |
//! |---|---|---|
//! | 0 codec | [`protocol`] | request/response codecs generated from Kafka 4.4.0's specs, RecordBatch v2, compression, error codes, each API's route, version fix-ups |
//! | 0 settings | [`config`], [`sasl`] | key tables under Kafka's property names; SASL mechanisms as step functions |
//! | 1 connection | [`connection`] | one multiplexed TCP/TLS connection, ApiVersions negotiation, SASL |
//! | 2 cluster | [`cluster`] | bootstrap, metadata cache, connections per broker and class, routing, the retry policy, coordinators |
//! | 3 clients | [`admin`], [`producer`], [`consumer`], [`group`], [`layered`] | admin client; producer (a sans-I/O core and its sender); consumer with manual assignment or a group (a sans-I/O member core); Kafka Streams-style layered properties |
//!
//! Configuration uses Kafka's property names ([`config::ClientConfig`]); errors are typed and
//! say what failed where ([`Error`]).
//!
//! The shortest program, listing a cluster's topics:
//!
//! ```no_run
//! use kafka_wire::{admin::Admin, config::ClientConfig};
//!
//! #[tokio::main]
//! async fn main() -> kafka_wire::Result<()> {
//!     let admin = Admin::connect(ClientConfig::new("127.0.0.1:9092")).await?;
//!     for topic in admin.list_topics().await? {
//!         println!("{topic}");
//!     }
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]

pub mod admin;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod consumer;
pub mod error;
pub mod group;
pub mod layered;
pub mod producer;
pub mod protocol;
pub mod sasl;
mod secret;
mod tls_provider;
mod topic_partition;

pub use error::{ClientError, Error, Result, TransactionErrorKind};
pub use topic_partition::TopicPartition;
