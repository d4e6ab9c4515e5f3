//! The Kafka Streams runtime in Rust: topology and Processor API, tasks and stream threads,
//! task assignment over the consumer-group protocol, state stores on redb with changelog
//! topics and restoration, standby replicas, exactly-once v2 and at-least-once processing,
//! event time and punctuation.
//!
//! **Not implemented yet.** This crate is a placeholder in the workspace so the layering
//! (kafka-wire → streams-core → streams-dsl) is fixed from the start; it will be built on
//! kafka-wire's producer, consumer, groups and transactions, which come first.
