//! The Kafka Streams DSL in Rust: KStream, KTable and GlobalKTable, serdes, stateless
//! operations, aggregations, windows, joins, suppression, and a broker-less
//! TopologyTestDriver.
//!
//! **Not implemented yet.** A placeholder: the DSL will only build plans and write them into
//! streams-core's topology builder, never touching runtime types.
