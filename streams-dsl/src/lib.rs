//! The Kafka Streams DSL in Rust: [`StreamsBuilder`], [`KStream`], [`KTable`] and
//! [`GlobalKTable`], written into streams-core's Processor API topology
//! ([`streams_core::topology::TopologyBuilder`]) and run by
//! [`streams_core::runtime::KafkaStreams`].
//!
//! Streams and tables are typed: `KStream<K, V>` only connects to operations taking `K`
//! and `V`, and closures get `&K`, `&V` or owned values, never casts. Nodes, stores and
//! repartition topics are named exactly as Kafka Streams 4.4 names them (one index shared
//! by processors and stores: `KSTREAM-SOURCE-0000000000`, `KSTREAM-MAPVALUES-0000000001`,
//! `KSTREAM-AGGREGATE-STATE-STORE-0000000002`, `<store>-repartition`, …) unless a
//! [`Named`] (or the name of [`Consumed`], [`Produced`], [`Grouped`], [`Materialized`],
//! [`Repartitioned`]) is given, so `topology.describe()` prints what Java prints for the same
//! program and internal topics keep Java's names. DSL calls never fail; an invalid program
//! (a type without a serde, a name used twice, a sink writing to a topic the topology reads)
//! is a [`DslError`] from [`StreamsBuilder::build`] that names the node and the fix.
//!
//! The shortest program, Kafka's `WordCountDemo`:
//!
//! ```no_run
//! use std::time::Duration;
//! use streams_core::runtime::{KafkaStreams, StreamsConfig};
//! use streams_dsl::{Grouped, Materialized, StreamsBuilder};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream::<Option<String>, String>("streams-plaintext-input")
//!     .flat_map_values(|line| {
//!         line.to_lowercase()
//!             .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
//!             .filter(|w| !w.is_empty())
//!             .map(str::to_owned)
//!             .collect::<Vec<_>>()
//!     })
//!     .group_by_with(|_, word| word.clone(), Grouped::default())
//!     .count_with(Default::default(), Materialized::as_("counts-store"))
//!     .to_stream()
//!     .to("streams-wordcount-output");
//! let topology = builder.build()?;
//! println!("{}", topology.describe());
//!
//! let config = StreamsConfig::new("streams-wordcount", "localhost:9092");
//! let mut streams = KafkaStreams::new(topology, config)?;
//! streams.start()?;
//! std::thread::sleep(Duration::from_secs(60));
//! streams.close(Duration::from_secs(10));
//! # Ok(()) }
//! ```
//!
//! Serdes: without a serde the builder takes the default for the type — Kafka's built-in
//! serdes for `String`, `Bytes`, `i32`, `i64`, `f32`, `f64`, `Uuid` and their `Option`s
//! ([`serdes::SerdeRegistry`]); [`StreamsBuilder::default_serde`] adds a type
//! ([`serdes::JsonSerde`] for `serde` types), and every option type takes explicit serdes.
//! A null key or value needs an `Option` type: `stream::<Option<String>, String>` reads
//! records without keys.
//!
//! # Kafka Streams' DSL and this crate
//!
//! | Kafka Streams | here |
//! |---|---|
//! | `new StreamsBuilder()` / `build()` | [`StreamsBuilder::new`] / [`StreamsBuilder::build`] → [`Topology`](streams_core::topology::Topology) |
//! | `build(props)` with `topology.optimization` (`all`, `reuse.ktable.source.topics`, `merge.repartition.topics`) | [`StreamsBuilder::build_with`] (a [`StreamsConfig`](streams_core::runtime::StreamsConfig)) / [`StreamsBuilder::build_with_optimization`] |
//! | `stream(topic)`, `stream(topics, Consumed)`, `stream(Pattern)` | [`StreamsBuilder::stream`], [`stream_with`](StreamsBuilder::stream_with), [`stream_pattern`](StreamsBuilder::stream_pattern) |
//! | `table(topic[, Consumed, Materialized])` | [`StreamsBuilder::table`], [`table_with`](StreamsBuilder::table_with) |
//! | `globalTable(topic, Consumed, Materialized)` | [`StreamsBuilder::global_table`] |
//! | `addStateStore(StoreBuilder)` | [`StreamsBuilder::add_state_store`] |
//! | `default.key.serde` / `default.value.serde` | [`StreamsBuilder::default_serde`] (by type) |
//! | `filter`, `filterNot` | [`KStream::filter`], [`KStream::filter_not`] |
//! | `map`, `mapValues` | [`KStream::map`], [`KStream::map_values`], [`KStream::map_values_with_key`] |
//! | `flatMap`, `flatMapValues` | [`KStream::flat_map`], [`KStream::flat_map_values`], [`KStream::flat_map_values_with_key`] |
//! | `selectKey` | [`KStream::select_key`] |
//! | `peek`, `foreach`, `print(Printed)` | [`KStream::peek`], [`KStream::foreach`], [`KStream::print`] |
//! | `merge` | [`KStream::merge`] |
//! | `split()` / `branch` / `defaultBranch` / `noDefaultBranch` | [`KStream::split`], [`BranchedKStream::branch`], [`default_branch`](BranchedKStream::default_branch), [`no_default_branch`](BranchedKStream::no_default_branch) |
//! | `repartition([Repartitioned])` | [`KStream::repartition`], [`repartition_with`](KStream::repartition_with) |
//! | `to(topic[, Produced])`, `to(TopicNameExtractor[, Produced])` | [`KStream::to`], [`to_with`](KStream::to_with), [`to_extractor`](KStream::to_extractor) |
//! | `toTable([Named, Materialized])` | [`KStream::to_table`], [`to_table_with`](KStream::to_table_with) |
//! | `process`, `processValues` | [`KStream::process`], [`KStream::process_values`] |
//! | `groupByKey([Grouped])`, `groupBy(mapper[, Grouped])` | [`KStream::group_by_key`], [`group_by_key_with`](KStream::group_by_key_with), [`KStream::group_by`], [`group_by_with`](KStream::group_by_with) |
//! | `KGroupedStream.count/reduce/aggregate` | [`KGroupedStream::count`], [`reduce`](KGroupedStream::reduce), [`aggregate`](KGroupedStream::aggregate) (and `_with` for `Named`/`Materialized`) |
//! | `KTable.toStream()` | [`KTable::to_stream`] (deletions are `None`) |
//! | `KTable.filter`, `filterNot` (`Named`, `Materialized`) | [`KTable::filter`], [`filter_named`](KTable::filter_named), [`filter_with`](KTable::filter_with), [`KTable::filter_not`], [`filter_not_named`](KTable::filter_not_named), [`filter_not_with`](KTable::filter_not_with) |
//! | `KTable.mapValues` (`ValueMapper`, `ValueMapperWithKey`, `Named`, `Materialized`) | [`KTable::map_values`], [`map_values_with_key`](KTable::map_values_with_key), [`map_values_with`](KTable::map_values_with) |
//! | `KTable.groupBy(selector[, Grouped])` | [`KTable::group_by`], [`group_by_with`](KTable::group_by_with) (the selector returns a `(key, value)` tuple) |
//! | `KGroupedTable.count/reduce/aggregate` (adder and subtractor) | [`KGroupedTable::count`], [`reduce`](KGroupedTable::reduce), [`aggregate`](KGroupedTable::aggregate) (and `_with` for `Named`/`Materialized`) |
//! | `KGroupedStream.windowedBy(TimeWindows / SlidingWindows / SessionWindows)` | [`KGroupedStream::windowed_by`] → [`TimeWindowedKStream`], [`SlidingWindowedKStream`], [`SessionWindowedKStream`] (each a [`WindowedKStream`] of its window kind) |
//! | `TimeWindows.ofSizeWithNoGrace/ofSizeAndGrace/advanceBy`, `SlidingWindows.ofTimeDifference…`, `SessionWindows.ofInactivityGap…` | [`TimeWindows`], [`SlidingWindows`], [`SessionWindows`] (invalid ones are a [`WindowsError`]) |
//! | windowed `count/reduce/aggregate` (session: with a `Merger`), `emitStrategy(EmitStrategy.onWindowClose())` | `count`, `reduce`, `aggregate` (and `_with`) on each windowed stream, `emit_strategy(`[`EmitStrategy::OnWindowClose`]`)` |
//! | `Materialized.withRetention` | [`Materialized::with_retention`] |
//! | `Windowed<K>`, `WindowedSerdes.timeWindowedSerdeFrom/sessionWindowedSerdeFrom` | [`Windowed`], [`serdes::TimeWindowedSerde`], [`serdes::SessionWindowedSerde`] |
//! | `KGroupedStream.cogroup(aggregator)`, `CogroupedKStream.cogroup/aggregate` | [`KGroupedStream::cogroup`], [`CogroupedKStream::cogroup`], [`aggregate`](CogroupedKStream::aggregate), [`aggregate_with`](CogroupedKStream::aggregate_with) |
//! | `CogroupedKStream.windowedBy(Windows / SlidingWindows / SessionWindows)`, `aggregate(initializer[, sessionMerger][, Named][, Materialized])` | [`CogroupedKStream::windowed_by`] → [`TimeWindowedCogroupedKStream`], [`SlidingWindowedCogroupedKStream`], [`SessionWindowedCogroupedKStream`] (each a [`WindowedCogroupedKStream`]) with `aggregate`/`aggregate_with` (every update forwarded: Kafka's windowed cogroups have no emit strategy) |
//! | `Change<V>` between table nodes, `enableSendingOldValues` | internal: old values are sent only where a downstream node needs them (a filter of a materialized table, a grouping), and a source table is materialized for a grouping, as in Kafka |
//! | `JoinWindows.ofTimeDifferenceWithNoGrace/AndGrace`, `before`, `after` | [`JoinWindows`] |
//! | `KStream.join/leftJoin/outerJoin(KStream, ValueJoiner[WithKey], JoinWindows[, StreamJoined])` | [`KStream::join`], [`left_join`](KStream::left_join), [`outer_join`](KStream::outer_join) (and `_with` for [`StreamJoined`], `_with_key` for a joiner reading the key); a missing side is `None` |
//! | `KStream.join/leftJoin(KTable, ValueJoiner[WithKey][, Joined])` | [`KStream::join_table`], [`left_join_table`](KStream::left_join_table), [`join_table_with`](KStream::join_table_with), [`left_join_table_with`](KStream::left_join_table_with) |
//! | `KStream.join/leftJoin(GlobalKTable, KeyValueMapper, ValueJoiner[WithKey][, Named])` | [`KStream::join_global`], [`left_join_global`](KStream::left_join_global) (and `_named`) |
//! | `KTable.join/leftJoin/outerJoin(KTable, ValueJoiner[, Named, Materialized])` | [`KTable::join`], [`left_join`](KTable::left_join), [`outer_join`](KTable::outer_join) (and `_with`) |
//! | `KTable.join/leftJoin(KTable, Function<V, KO>, ValueJoiner[, TableJoined][, Materialized])` (foreign-key joins, KIP-213) | [`KTable::join_on_foreign_key`], [`left_join_on_foreign_key`](KTable::left_join_on_foreign_key) (and `_with` for [`TableJoined`]/[`Materialized`]); the extractor returns `Option<KO>` (`None`: no foreign key) |
//! | the same with `BiFunction<K, V, KO>` (KIP-1104) | [`KTable::join_on_foreign_key_with_key`], [`left_join_on_foreign_key_with_key`](KTable::left_join_on_foreign_key_with_key) |
//! | `TableJoined.as/with/withPartitioner/withOtherPartitioner` | [`TableJoined`] |
//! | `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__` | the same key in [`StreamsConfig`](streams_core::runtime::StreamsConfig) (0 in the `TopologyTestDriver`, as Java's) |
//! | `KTable.queryableStoreName()` | [`KTable::queryable_store_name`], [`GlobalKTable::queryable_store_name`] |
//! | any method's `Named` overload | `*_named` (or `*_with`) |
//! | `Named.as`, `Consumed.as`, `Materialized.as`, … | [`Named::as_`], [`Consumed::as_`], [`Materialized::as_`], … (`as` is a Rust keyword) |
//! | `Serdes.String()`, `Long()`, `Integer()`, `Float()`, `Double()`, `Bytes()`, `UUID()`, `Void()` | [`serdes::StringSerde`], [`serdes::I64Serde`], [`serdes::I32Serde`], [`serdes::F32Serde`], [`serdes::F64Serde`], [`serdes::BytesSerde`], [`serdes::UuidSerde`], [`serdes::UnitSerde`] |
//!
//! Programs are tested without a broker by streams-core's
//! [`TopologyTestDriver`](streams_core::testing::TopologyTestDriver) (Kafka's
//! `kafka-streams-test-utils`): `tests/driver_*.rs` run the operations and Kafka's
//! `WordCountDemo` through it.
//!
//! `topology.optimization` rewrites the topology as Kafka's does, with Java's node and
//! topic names (compared with Java's `describe()` in the integration tests); where Kafka's
//! rewrite throws (two groupings below one shared node after a key change) the repartition
//! is merged through that node instead.
//!
//! Windowed aggregations behave as Kafka's (`KStreamWindowAggregate`,
//! `KStreamSlidingWindowAggregate`, `KStreamSessionWindowAggregate`: grace, late records
//! dropped and counted in `dropped-records`, emit-on-window-close), compared record for
//! record with Java's driver in the integration tests, their window and session stores cached
//! as Kafka's (updates forwarded when the cache flushes them) and their changelogs written as
//! Kafka writes them. `KTable::suppress` holds a table's updates back as Kafka's
//! (`until_window_closes` after a windowed aggregation, `until_time_limit`).
//!
//! Joins are Kafka's, node and store names included (stream-stream windowed joins with the
//! KIP-633 outer-join store, stream-table and stream-global-table lookups through the
//! table's value getter, table-table joins of `Change`s; `single.store.self.join` for a
//! stream joined with itself; foreign-key table joins with Kafka's subscription and response
//! topics, byte for byte, so Rust and Java instances of one application read each other's
//! internal topics and subscription store); they are compared record for record
//! with Java's `TopologyTestDriver` in the integration tests.
//!
//! Versioned tables (KIP-889/KIP-914): `Materialized::as_versioned(name, history_retention)`
//! keeps every value of a key for the history retention (table sources, `to_table`,
//! materialized filters, mapValues and table joins, foreign-key results, `count`, `reduce`
//! and `aggregate` of grouped streams and tables, cogroups). Such a table drops updates older than its
//! history, forwards out-of-order ones marked not the latest (table joins and `groupBy`,
//! also through filters and mapValues, skip them), and a stream-table join reads it as of
//! each stream record's timestamp; `Joined::with_grace_period` (KIP-923) holds stream records
//! in Kafka's `<join>-Buffer` store and joins them in timestamp order. Compared record for
//! record with Java's driver as well.
//!
//! Not yet: `KTable.transformValues`, custom join store suppliers.

pub mod error;
pub mod options;
pub mod serdes;

mod builder;
mod change;
mod cogrouped_stream;
mod cogrouped_windowed_stream;
mod global_ktable;
mod grouped_stream;
mod grouped_table;
mod joins;
mod kstream;
mod ktable;
mod names;
mod optimize;
mod plan;
mod processors;
mod session_windowed_stream;
mod sliding_windowed_stream;
mod store;
mod table_node;
mod time_windowed_stream;
mod windowed;
mod windowed_stream;
pub mod windows;

pub use builder::StreamsBuilder;
pub use cogrouped_stream::CogroupedKStream;
pub use cogrouped_windowed_stream::{
    SessionWindowedCogroupedKStream, SlidingWindowedCogroupedKStream, TimeWindowedCogroupedKStream,
};
pub use error::{DslError, SerdeRole};
pub use global_ktable::GlobalKTable;
pub use grouped_stream::KGroupedStream;
pub use grouped_table::KGroupedTable;
pub use kstream::{BranchedKStream, KStream};
pub use ktable::KTable;
pub use options::{
    Branched, Buffer, BufferFullStrategy, Consumed, EagerBufferConfig, Grouped, JoinWindows,
    Joined, Materialized, Named, Printable, Printed, Produced, Repartitioned, StoreType,
    StreamJoined, StrictBufferConfig, Suppressed, TableJoined,
};
pub use session_windowed_stream::SessionWindowedKStream;
pub use sliding_windowed_stream::SlidingWindowedKStream;
pub use time_windowed_stream::TimeWindowedKStream;
pub use windowed::{Window, Windowed};
pub use windowed_stream::WindowedKStream;
pub use windows::{
    CogroupWindowSpec, EmitStrategy, SessionWindows, SlidingWindows, TimeWindows, WindowSpec,
    WindowsError,
};
