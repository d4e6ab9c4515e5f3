//! Benchmarks that run kafka-wire against its peers — the Java client (kafka-tools'
//! ProducerPerformance / ConsumerPerformance), rust-rdkafka (librdkafka, C) and rskafka (pure
//! Rust) — on the same broker in the same run, interleaved (`src/main.rs`, run by
//! `scripts/bench`), plus a broker-free criterion micro-benchmark of record encode/decode
//! (`benches/codec.rs`).
//!
//! This crate is deliberately **not** in the workspace's `default-members`: it depends on
//! C-backed peers, which must never enter the default build (see `scripts/no-c-gate`).
