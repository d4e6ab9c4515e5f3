//! Our DSL and `TopologyTestDriver` against Java's, record for record: each topology below is
//! built twice, with streams-dsl here and with Kafka Streams 4.4.0 in
//! `integration-tests/peers/TtdReference.java`, the same input (out-of-order timestamps, null
//! values, null keys, a tombstone of a key never seen) is piped through each language's
//! `TopologyTestDriver`, and every record of the output topics (key, value, timestamp, topic by
//! topic in a fixed order) must be the same. A `_nocache` suffix runs the topology with
//! `statestore.cache.max.bytes=0`; without it Kafka's default cache is on, and both drivers
//! commit (flush the cache) after each piped record. An `_opt` suffix builds the topology with
//! `topology.optimization=all` (Java: `build(props)`), and `describe()` — every node, topic
//! and store name after the repartition topics are merged — is compared line for line too;
//! the `opt_` topologies put several groupings, a `to_table`, a merge, a value change, a
//! `repartition()` and a cogroup after one key change.
//!
//! Covered: KStream filter/filterNot, map/mapValues, flatMap/flatMapValues, selectKey with
//! peek and foreach (their call counts compared too), merge, split, repartition, toTable;
//! table (unmaterialized, materialized), KTable filter/mapValues, KTable groupBy count and
//! reduce (adder and subtractor); groupByKey count, groupBy reduce/aggregate (through the
//! repartition topic), cogroup of two streams (one regrouped); process/processValues; null
//! keys through stateless and stateful nodes. Both drivers keep stores in memory (Java:
//! `dsl.store.suppliers.class` in-memory).
//!
//! No broker. Java needs a JDK and the jars `scripts/test` downloads into
//! `KAFKA_WIRE_STREAMS_LIBS` (default `~/.cache/kafka-wire-testbed/kafka-streams-4.4.0/libs`):
//! kafka-streams, kafka-streams-test-utils, kafka-clients 4.4.0 and slf4j-api. Without them
//! the test fails, naming the command that installs them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use integration_tests::java_ttd;
use streams_core::error::BoxError;
use streams_core::processor::ProcessorContext;
use streams_core::record::Record;
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::TopologyOptimization;
use streams_dsl::serdes::{I64Serde, OptionSerde, StringSerde};
use streams_dsl::{
    Branched, Buffer, Consumed, Grouped, Materialized, Named, Produced, Repartitioned,
    StreamsBuilder, Suppressed, TimeWindows, Windowed,
};

/// The input, piped in this order: (topic, key, value, timestamp). A topology skips the
/// records of topics it does not read. Same as `FEED` in `TtdReference.java`.
const FEED: &[(&str, Option<&str>, Option<&str>, i64)] = &[
    ("input", Some("a"), Some("apple"), 100),
    ("input", Some("b"), Some("banana"), 50),
    ("input", Some("a"), Some("avocado"), 200),
    ("input2", Some("x"), Some("xigua"), 175),
    ("input", Some("c"), Some("cherry"), 150),
    ("input", Some("b"), None, 300),
    ("input", Some("d"), Some("date"), 250),
    ("input2", Some("y"), Some("yam"), 60),
    ("input", Some("a"), Some("apricot"), 400),
    ("input", Some("e"), None, 120),
    ("input", Some("c"), Some("coconut"), 90),
    ("input", Some("d"), Some("durian"), 250),
    ("input3", None, Some("nokey"), 130),
    ("input3", Some("k"), Some("kiwi"), 140),
    ("input3", None, None, 160),
    ("input3", Some("k"), Some("kumquat"), 110),
];

/// The topologies compared, by the names both programs know them by.
const TOPOLOGIES: &[&str] = &[
    "filter",
    "map",
    "flat_map",
    "select_key_peek",
    "merge",
    "split",
    "repartition",
    "to_table",
    "to_table_nocache",
    "table",
    "table_mat",
    "table_mat_nocache",
    "table_filter_map_values",
    "table_filter_map_values_nocache",
    "table_group_by_count",
    "table_group_by_count_nocache",
    "table_group_by_reduce",
    "table_group_by_reduce_nocache",
    "null_key",
    "null_key_nocache",
    "cogroup",
    "cogroup_nocache",
    "count",
    "count_nocache",
    "group_by_reduce",
    "group_by_reduce_nocache",
    "group_by_aggregate",
    "group_by_aggregate_nocache",
    "process",
    "process_values",
    "opt_filter_peek_opt",
    "opt_to_table_opt",
    "opt_merge_opt",
    "opt_value_changing_opt",
    "opt_named_opt",
    "opt_repartition_opt",
    "opt_cogroup_opt",
    "group_by_reduce_opt",
    "group_by_aggregate_nocache_opt",
    "to_table_opt",
    "table_mat_opt",
    "cogroup_opt",
    "table_group_by_count_opt",
    "null_key_opt",
    "suppress_time",
    "suppress_time_nocache",
    "suppress_max_records",
    "suppress_max_records_nocache",
    "suppress_table",
    "suppress_table_opt",
    "suppress_join",
    "suppress_join_nocache",
    "suppress_windows",
    "suppress_windows_nocache",
    "suppress_windows_hopping",
    "suppress_windows_hopping_opt",
];

/// An output topic's value type.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Long,
}

/// One topology, built: what it reads, the output topics to render, and the counters of
/// `peek`/`foreach` calls reported as pseudo-topics.
struct Case {
    builder: StreamsBuilder,
    reads: Vec<&'static str>,
    outputs: Vec<(&'static str, Kind)>,
    counters: Vec<(&'static str, Arc<AtomicU64>)>,
}

type Val = Option<String>;

fn first(v: &Val, n: usize) -> String {
    v.as_deref()
        .map_or_else(|| "none".to_owned(), |v| v[..n].to_owned())
}

/// The serde of a table of nullable values as a stream (`Option<Option<String>>`): the
/// registry of default serdes has none for it.
fn nested() -> Produced<String, Option<Val>> {
    Produced::with(StringSerde, OptionSerde::new(OptionSerde::new(StringSerde)))
}

/// Builds `base` (a name without its `_nocache` suffix) as `TtdReference.java` does.
fn build(base: &str) -> Case {
    let b = StreamsBuilder::new();
    let mut reads = vec!["input"];
    let mut counters = Vec::new();
    let outputs: Vec<(&str, Kind)> = match base {
        "filter" => {
            let s = b.stream::<String, Val>("input");
            let long = |_: &String, v: &Val| v.as_ref().is_some_and(|v| v.len() > 5);
            s.filter(long).to("out-filter");
            s.filter_not(long).to("out-filter-not");
            vec![("out-filter", Kind::Str), ("out-filter-not", Kind::Str)]
        }
        "map" => {
            let s = b.stream::<String, Val>("input");
            s.map_values(|v: Val| v.map(|v| v.to_uppercase()))
                .to("out-map-values");
            s.map(|k, v| {
                let key = first(&v, 2);
                (key, format!("{k}={}", v.as_deref().unwrap_or("null")))
            })
            .to("out-map");
            vec![("out-map-values", Kind::Str), ("out-map", Kind::Str)]
        }
        "flat_map" => {
            let s = b.stream::<String, Val>("input");
            s.flat_map_values(|v: Val| match v {
                None => vec![],
                Some(v) => {
                    let n = v.len().to_string();
                    vec![v, n]
                }
            })
            .to("out-flat-map-values");
            s.flat_map(|k, v| match v {
                None => vec![(k, "gone".to_owned())],
                Some(v) => vec![
                    (format!("{k}1"), v.clone()),
                    (format!("{k}2"), v[1..].to_owned()),
                ],
            })
            .to("out-flat-map");
            vec![
                ("out-flat-map-values", Kind::Str),
                ("out-flat-map", Kind::Str),
            ]
        }
        "select_key_peek" => {
            let (peeked, foreached) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
            let (p, f) = (peeked.clone(), foreached.clone());
            let s = b
                .stream::<String, Val>("input")
                .peek(move |_, _| {
                    p.fetch_add(1, Ordering::Relaxed);
                })
                .select_key(|_, v| first(v, 1));
            s.foreach(move |_, _| {
                f.fetch_add(1, Ordering::Relaxed);
            });
            s.to("out-select-key");
            counters = vec![("peek", peeked), ("foreach", foreached)];
            vec![("out-select-key", Kind::Str)]
        }
        "merge" => {
            reads = vec!["input", "input2"];
            b.stream::<String, Val>("input")
                .merge(&b.stream::<String, Val>("input2"))
                .to("out-merge");
            vec![("out-merge", Kind::Str)]
        }
        "split" => {
            let branches = b
                .stream::<String, Val>("input")
                .split_named(Named::as_("s-"))
                .branch_with(|_, v| v.is_none(), Branched::as_("nulls"))
                .branch_with(
                    |_, v| v.as_ref().is_some_and(|v| v.len() < 6),
                    Branched::as_("short"),
                )
                .default_branch_with(Branched::as_("long"));
            for (branch, topic) in [
                ("s-nulls", "out-nulls"),
                ("s-short", "out-short"),
                ("s-long", "out-long"),
            ] {
                branches[branch].to(topic);
            }
            vec![
                ("out-nulls", Kind::Str),
                ("out-short", Kind::Str),
                ("out-long", Kind::Str),
            ]
        }
        "repartition" => {
            b.stream::<String, Val>("input")
                .select_key(|_, v| first(v, 1))
                .repartition_with(Repartitioned::as_("rp"))
                .to("out-repartition");
            vec![("out-repartition", Kind::Str)]
        }
        "to_table" => {
            b.stream::<String, Val>("input")
                .to_table_with(Named::empty(), Materialized::as_("tt-store"))
                .to_stream()
                .to_with("out-to-table", nested());
            vec![("out-to-table", Kind::Str)]
        }
        "table" => {
            b.table::<String, String>("input")
                .to_stream()
                .to("out-table");
            vec![("out-table", Kind::Str)]
        }
        "table_mat" => {
            b.table_with::<String, String>(
                "input",
                Consumed::default(),
                Materialized::as_("tbl-store"),
            )
            .to_stream()
            .to("out-table");
            vec![("out-table", Kind::Str)]
        }
        "table_filter_map_values" => {
            b.table::<String, String>("input")
                .filter(|_, v| v.len() > 4)
                .map_values(|v| v.to_uppercase())
                .to_stream()
                .to("out-table-ops");
            vec![("out-table-ops", Kind::Str)]
        }
        "table_group_by_count" => {
            b.table::<String, String>("input")
                .group_by(|_, v| (v[..1].to_owned(), v.clone()))
                .count()
                .to_stream()
                .to("out-table-count");
            vec![("out-table-count", Kind::Long)]
        }
        "table_group_by_reduce" => {
            b.table::<String, String>("input")
                .group_by(|_, v| ((v.len() % 2).to_string(), v.clone()))
                .reduce(|agg, v| format!("{agg}+{v}"), |agg, v| format!("{agg}-{v}"))
                .to_stream()
                .to("out-table-reduce");
            vec![("out-table-reduce", Kind::Str)]
        }
        "null_key" => {
            reads = vec!["input3"];
            let s = b.stream::<Option<String>, Val>("input3");
            s.map_values(|v: Val| v.map(|v| v.to_uppercase()))
                .to("out-null-key-map");
            s.group_by_key()
                .count()
                .to_stream()
                .to("out-null-key-count");
            s.to_table_with(Named::empty(), Materialized::as_("nk-store"))
                .to_stream()
                .to_with(
                    "out-null-key-table",
                    Produced::with(StringSerde, OptionSerde::new(OptionSerde::new(StringSerde))),
                );
            vec![
                ("out-null-key-map", Kind::Str),
                ("out-null-key-count", Kind::Long),
                ("out-null-key-table", Kind::Str),
            ]
        }
        "cogroup" => {
            reads = vec!["input", "input2"];
            let g1 = b.stream::<String, Val>("input").group_by_key();
            let g2 = b
                .stream::<String, Val>("input2")
                .group_by(|_, _| "a".to_owned());
            g1.cogroup(|_, v: Val, agg: i64| agg + v.map_or(0, |v| v.len() as i64))
                .cogroup(&g2, |_, _, agg| agg + 1000)
                .aggregate(|| 0)
                .to_stream()
                .to("out-cogroup");
            vec![("out-cogroup", Kind::Long)]
        }
        "count" => {
            b.stream::<String, Val>("input")
                .group_by_key()
                .count()
                .to_stream()
                .to("out-count");
            vec![("out-count", Kind::Long)]
        }
        "group_by_reduce" => {
            b.stream::<String, Val>("input")
                .group_by_with(|_, v| first(v, 1), Grouped::as_("by-letter"))
                .reduce(|a, v| {
                    Some(format!(
                        "{}|{}",
                        a.unwrap_or_default(),
                        v.unwrap_or_default()
                    ))
                })
                .to_stream()
                .to_with("out-reduce", nested());
            vec![("out-reduce", Kind::Str)]
        }
        "group_by_aggregate" => {
            b.stream::<String, Val>("input")
                .group_by(|_, v| {
                    v.as_ref()
                        .map_or_else(|| "none".to_owned(), |v| (v.len() % 3).to_string())
                })
                .aggregate(|| 0i64, |_, v, agg| agg + v.map_or(0, |v| v.len() as i64))
                .to_stream()
                .to("out-aggregate");
            vec![("out-aggregate", Kind::Long)]
        }
        "process" => {
            b.stream::<String, Val>("input")
                .process(
                    || {
                        |ctx: &mut ProcessorContext<'_, String, Val>,
                         r: Record<String, Val>|
                         -> Result<(), BoxError> {
                            let Some(v) = r.value.clone() else {
                                return Ok(());
                            };
                            let ts = r.timestamp;
                            ctx.forward(
                                r.clone()
                                    .with_key(format!("{}!", r.key))
                                    .with_timestamp(ts + 1),
                            )?;
                            if v.len() > 5 {
                                ctx.forward(r.clone().with_key(v).with_value(Some(r.key)))?;
                            }
                            Ok(())
                        }
                    },
                    &[],
                )
                .to("out-process");
            vec![("out-process", Kind::Str)]
        }
        "process_values" => {
            b.stream::<String, Val>("input")
                .process_values(
                    || {
                        |ctx: &mut ProcessorContext<'_, String, Val>,
                         r: Record<String, Val>|
                         -> Result<(), BoxError> {
                            let v = r
                                .value
                                .as_deref()
                                .map_or_else(|| "<null>".to_owned(), str::to_uppercase);
                            let ts = r.timestamp;
                            ctx.forward(r.with_value(Some(v)).with_timestamp(ts * 2))?;
                            Ok(())
                        }
                    },
                    &[],
                )
                .to("out-process-values");
            vec![("out-process-values", Kind::Str)]
        }
        // Built with topology.optimization=all (the `_opt` suffix): repartition topics
        // after one key change merged.
        "opt_filter_peek" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            m.filter(|_, v| v.is_some())
                .group_by_key()
                .count()
                .to_stream()
                .to("out-opt-count");
            let n = counter(&mut counters, "peek");
            m.peek(move |_, _| {
                n.fetch_add(1, Ordering::Relaxed);
            })
            .group_by_key()
            .reduce(join_values)
            .to_stream()
            .to_with("out-opt-reduce", nested());
            vec![("out-opt-count", Kind::Long), ("out-opt-reduce", Kind::Str)]
        }
        "opt_to_table" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            m.to_table_with(Named::empty(), Materialized::as_("opt-tt-store"))
                .to_stream()
                .to_with("out-opt-table", nested());
            m.group_by_key().count().to_stream().to("out-opt-count");
            vec![("out-opt-table", Kind::Str), ("out-opt-count", Kind::Long)]
        }
        "opt_merge" => {
            reads = vec!["input", "input2"];
            let x = b.stream::<String, Val>("input").select_key(initial);
            let y = b
                .stream::<String, Val>("input2")
                .map(|k, v| (initial(&k, &v), v));
            x.merge(&y)
                .group_by_key()
                .count()
                .to_stream()
                .to("out-opt-count");
            vec![("out-opt-count", Kind::Long)]
        }
        "opt_value_changing" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            m.map_values(|v: Val| v.map(|v| v.to_uppercase()))
                .group_by_key()
                .reduce(join_values)
                .to_stream()
                .to_with("out-opt-reduce", nested());
            m.group_by_key().count().to_stream().to("out-opt-count");
            vec![("out-opt-reduce", Kind::Str), ("out-opt-count", Kind::Long)]
        }
        "opt_named" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            m.group_by_key_with(Grouped::as_("first"))
                .count_with(Named::empty(), Materialized::as_("first-store"))
                .to_stream()
                .to("out-opt-count");
            m.group_by_key_with(Grouped::as_("second"))
                .count()
                .to_stream()
                .to("out-opt-count2");
            vec![
                ("out-opt-count", Kind::Long),
                ("out-opt-count2", Kind::Long),
            ]
        }
        "opt_repartition" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            m.repartition()
                .group_by_key()
                .count()
                .to_stream()
                .to("out-opt-count");
            m.group_by_key().count().to_stream().to("out-opt-count2");
            vec![
                ("out-opt-count", Kind::Long),
                ("out-opt-count2", Kind::Long),
            ]
        }
        "opt_cogroup" => {
            let m = b.stream::<String, Val>("input").select_key(initial);
            let g1 = m.group_by_key();
            let g2 = m.filter(|_, v| v.is_some()).group_by_key();
            g1.cogroup(|_, v: Val, agg: i64| agg + v.map_or(0, |v| v.len() as i64))
                .cogroup(&g2, |_, _, agg| agg + 1000)
                .aggregate(|| 0)
                .to_stream()
                .to("out-opt-cogroup");
            vec![("out-opt-cogroup", Kind::Long)]
        }
        // suppress(until_time_limit): each key's latest count once stream time is 100 ms
        // past its first held-back update; unbounded, at most 2 records (emit early), and
        // on a table with deletions.
        "suppress_time" => {
            b.stream::<String, Val>("input")
                .group_by_key()
                .count()
                .suppress(Suppressed::until_time_limit(
                    Duration::from_millis(100),
                    Buffer::unbounded(),
                ))
                .to_stream()
                .to("out-suppress");
            vec![("out-suppress", Kind::Long)]
        }
        "suppress_max_records" => {
            b.stream::<String, Val>("input")
                .group_by_key()
                .count()
                .suppress(
                    Suppressed::until_time_limit(
                        Duration::from_millis(1000),
                        Buffer::max_records(2).emit_early_when_full(),
                    )
                    .with_name("held"),
                )
                .to_stream()
                .to("out-suppress");
            vec![("out-suppress", Kind::Long)]
        }
        "suppress_table" => {
            b.table_with::<String, String>(
                "input",
                Consumed::default(),
                Materialized::as_("sup-src"),
            )
            .suppress(Suppressed::until_time_limit(
                Duration::from_millis(50),
                Buffer::max_bytes(10_000),
            ))
            .to_stream()
            .to("out-suppress");
            vec![("out-suppress", Kind::Str)]
        }
        "suppress_join" => {
            let t = b.table_with::<String, String>(
                "input",
                Consumed::default(),
                Materialized::as_("sj-src"),
            );
            let held = t.suppress(Suppressed::until_time_limit(
                Duration::from_millis(100),
                Buffer::unbounded(),
            ));
            t.left_join(&held, |a: &String, c: Option<&String>| {
                format!("{a}/{}", c.map_or("null", String::as_str))
            })
            .to_stream()
            .to("out-suppress-join");
            vec![("out-suppress-join", Kind::Str)]
        }
        // suppress(until_window_closes): each window's final result once stream time passed
        // its end plus the grace; the windowed key written as Java's `Windowed.toString()`.
        "suppress_windows" => {
            let windows = TimeWindows::of_size_and_grace(
                Duration::from_millis(100),
                Duration::from_millis(50),
            )
            .expect("valid windows");
            b.stream::<String, Val>("input")
                .group_by_key()
                .windowed_by(windows)
                .count_with(Named::empty(), Materialized::with(StringSerde, I64Serde))
                .suppress(Suppressed::until_window_closes(Buffer::unbounded()))
                .to_stream()
                .map(|k: Windowed<String>, v| (k.to_string(), v))
                .to("out-suppress-windows");
            vec![("out-suppress-windows", Kind::Long)]
        }
        "suppress_windows_hopping" => {
            let windows = TimeWindows::of_size_and_grace(
                Duration::from_millis(200),
                Duration::from_millis(100),
            )
            .and_then(|w| w.advance_by(Duration::from_millis(50)))
            .expect("valid windows");
            b.stream::<String, Val>("input")
                .group_by(|_, v| first(v, 1))
                .windowed_by(windows)
                .reduce_with(
                    |a: Val, v: Val| {
                        Some(format!(
                            "{}|{}",
                            a.unwrap_or_default(),
                            v.unwrap_or_default()
                        ))
                    },
                    Named::empty(),
                    Materialized::with(StringSerde, OptionSerde::new(StringSerde)),
                )
                .filter(|_, v| v.as_ref().is_some_and(|v| v.len() > 3))
                .suppress(
                    Suppressed::until_window_closes(Buffer::max_records(100).shut_down_when_full())
                        .with_name("final"),
                )
                .to_stream()
                .map(|k: Windowed<String>, v| (k.to_string(), v.flatten()))
                .to("out-suppress-windows");
            vec![("out-suppress-windows", Kind::Str)]
        }
        other => panic!("unknown topology {other}"),
    };
    Case {
        builder: b,
        reads,
        outputs,
        counters,
    }
}

/// One output line, as `TtdReference.java` prints it (`null` for what is missing).
fn render(topic: &str, key: Option<String>, value: Option<String>, ts: Option<i64>) -> String {
    let null = || "null".to_owned();
    format!(
        "{topic}\t{}\t{}\t{}",
        key.unwrap_or_else(null),
        value.unwrap_or_else(null),
        ts.map_or_else(null, |t| t.to_string())
    )
}

/// The first letter of a value, "none" for a null one: the new key of the `opt_` cases.
fn initial(_: &String, v: &Val) -> String {
    first(v, 1)
}

/// Java's `(a, v) -> a + "|" + v` over nullable values (a reduce never sees a null one).
fn join_values(a: Val, v: Val) -> Val {
    Some(format!(
        "{}|{}",
        a.unwrap_or_default(),
        v.unwrap_or_default()
    ))
}

/// A new `peek`/`foreach` call counter, reported as `name`.
fn counter(
    counters: &mut Vec<(&'static str, Arc<AtomicU64>)>,
    name: &'static str,
) -> Arc<AtomicU64> {
    let n = Arc::new(AtomicU64::new(0));
    counters.push((name, n.clone()));
    n
}

/// Our lines for topology `name`: with an `_opt` suffix, built with
/// `topology.optimization=all` and its `describe()` lines first, as Java prints them.
fn run_ours(name: &str) -> Result<Vec<String>, String> {
    let optimize = name.ends_with("_opt");
    let name = name.trim_end_matches("_opt");
    let nocache = name.ends_with("_nocache");
    let case = build(name.trim_end_matches("_nocache"));
    let mut lines = Vec::new();
    let topology = if optimize {
        let t = case
            .builder
            .build_with_optimization(TopologyOptimization::ALL)
            .map_err(|e| e.to_string())?;
        for line in t.describe().to_string().lines() {
            if !line.trim().is_empty() {
                lines.push(format!("(describe)\t{}", line.trim_end()));
            }
        }
        t
    } else {
        case.builder.build().map_err(|e| e.to_string())?
    };
    let mut props = vec![("application.id", "ttd")];
    if nocache {
        props.push(("statestore.cache.max.bytes", "0"));
    }
    let driver = TopologyTestDriver::new(topology, props, 0).map_err(|e| e.to_string())?;
    let mut inputs = std::collections::BTreeMap::new();
    for &(topic, key, value, ts) in FEED {
        if !case.reads.contains(&topic) {
            continue;
        }
        if !inputs.contains_key(topic) {
            let t = driver
                .create_input_topic::<Option<String>, Val>(topic, StringSerde, StringSerde)
                .map_err(|e| e.to_string())?;
            inputs.insert(topic, t);
        }
        let input = inputs.get_mut(topic).expect("just inserted");
        input
            .pipe_input_with_timestamp(key.map(str::to_owned), value.map(str::to_owned), ts)
            .map_err(|e| format!("piping {key:?}={value:?}@{ts} into {topic}: {e}"))?;
    }
    for (topic, kind) in case.outputs {
        match kind {
            Kind::Str => {
                let out = driver.create_output_topic::<Option<String>, Val>(
                    topic,
                    StringSerde,
                    StringSerde,
                );
                for r in out.read_records_to_list().map_err(|e| e.to_string())? {
                    lines.push(render(topic, r.key, r.value, r.timestamp));
                }
            }
            Kind::Long => {
                let out = driver.create_output_topic::<Option<String>, Option<i64>>(
                    topic,
                    StringSerde,
                    I64Serde,
                );
                for r in out.read_records_to_list().map_err(|e| e.to_string())? {
                    lines.push(render(
                        topic,
                        r.key,
                        r.value.map(|v| v.to_string()),
                        r.timestamp,
                    ));
                }
            }
        }
    }
    drop(driver);
    for (name, n) in case.counters {
        lines.push(format!("({name})\tnull\t{}\t0", n.load(Ordering::Relaxed)));
    }
    Ok(lines)
}

/// Every topology is run and tabled; the first that differs fails the test with both outputs.
#[test]
fn dsl_topologies_match_javas_topology_test_driver() {
    java_ttd::compare("TtdReference", TOPOLOGIES, run_ours);
}
