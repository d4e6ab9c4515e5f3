//! Benchmarks that run kafka-wire against its peers — the Java client, rust-rdkafka (C) and
//! rskafka — on the same broker in the same run.
//!
//! This crate is deliberately **not** in the workspace's `default-members`: it will depend on
//! C-backed peers (rust-rdkafka), which must never enter the default build (see the no-C gate
//! in `scripts/no-c-gate`). Build it explicitly with `cargo build -p bench`.
//! The benchmarks arrive with the producer and consumer.
