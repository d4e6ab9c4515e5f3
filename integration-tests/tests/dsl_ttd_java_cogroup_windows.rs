//! Windowed cogroups of our DSL against Java's, record for record: each topology below is
//! built with streams-dsl here and with Kafka Streams 4.4.0 in
//! `integration-tests/peers/TtdCogroupWindowsReference.java`; the same input of two topics —
//! out-of-order records, records late for one stream's time but not the other's (each
//! stream's aggregation keeps its own stream time, as Kafka's), a null key, a record bridging
//! two sessions — is piped through each language's `TopologyTestDriver` (the wall clock one
//! second on after each record), and every output record (the windowed key as Java's
//! `Windowed.toString()`, the value, the timestamp), the task's `dropped-records-total` and,
//! for the named stores, the changelog records (key and value bytes, timestamp) must be the
//! same. An `_opt` suffix builds with `topology.optimization=all` and compares `describe()`
//! line for line too; a `_nocache` suffix runs with `statestore.cache.max.bytes=0`, else the
//! shared store caches and both drivers commit after each record.
//!
//! Covered: tumbling, hopping and sliding windows and sessions (with a merger) over two
//! cogrouped streams, one of them re-keyed (a repartition topic named after the store), with
//! a `Named` and a `Materialized` (name, retention), and suppressed until their windows
//! (sessions) close.
//!
//! Both sides use in-memory stores (Java's `InMemoryDslStoreSuppliers`): the aggregations
//! share one store whose stream time can run ahead of one stream's, and Kafka's in-memory
//! window store drops a write behind its retention where its RocksDB store would keep it.
//! The short forms (`aggregate(initializer)`) are the same plan as `aggregate_with` with
//! `Named::empty()` and a default `Materialized` (`streams-dsl/tests/driver_cogroup_windows.rs`).
//!
//! No broker. Java needs a JDK and the jars `scripts/test` downloads (see `dsl_ttd_java.rs`).

use std::time::Duration;

use integration_tests::java_ttd;
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::TopologyOptimization;
use streams_dsl::serdes::{
    DynSerde, OptionSerde, SessionWindowedSerde, StringSerde, TimeWindowedSerde,
};
use streams_dsl::{
    Buffer, KGroupedStream, Materialized, Named, Produced, SessionWindows, SlidingWindows,
    StoreType, StreamsBuilder, Suppressed, TimeWindows, Windowed,
};

/// The input, piped in this order: (topic, key, value, timestamp). Same as `FEED` in
/// `TtdCogroupWindowsReference.java`. A value's first character is the key the `rekey`
/// cases group the `right` stream by.
const FEED: &[(&str, Option<&str>, &str, i64)] = &[
    ("left", Some("a"), "a-l1", 1000),
    ("right", Some("a"), "a-r1", 1500),
    ("left", Some("b"), "b-l1", 2000),
    ("right", Some("x"), "b-r1", 4000),
    ("left", Some("a"), "a-l2", 12000),
    ("right", Some("a"), "a-r2", 9000),
    ("left", None, "n-l", 13000),
    ("right", Some("a"), "a-r3", 16000),
    ("left", Some("b"), "b-l2", 3000),
    ("right", Some("b"), "b-r2", 5000),
    ("left", Some("c"), "c-l1", 21000),
    ("right", Some("c"), "c-r1", 20500),
    ("left", Some("a"), "a-l3", 7000),
    ("right", Some("y"), "a-r4", 14000),
    ("right", Some("a"), "a-r5", 5000),
    ("left", Some("c"), "c-l2", 40000),
    ("right", Some("c"), "c-r2", 41000),
];

/// The topologies compared, by the names both programs know them by.
const TOPOLOGIES: &[&str] = &[
    "tumbling_nocache",
    "tumbling",
    "hopping_nocache",
    "hopping",
    "sliding_nocache",
    "sliding",
    "session_nocache",
    "session",
    "rekey_nocache",
    "rekey",
    "rekey_nocache_opt",
    "sliding_rekey_opt",
    "session_rekey_nocache_opt",
    "named_nocache",
    "named_opt",
    "session_named_nocache",
    "session_named",
    "suppressed_nocache",
    "session_suppressed",
];

/// The window size (and sliding time difference) of every topology (ms).
const SIZE: i64 = 10_000;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

type Key = Option<String>;

fn windowed_out() -> Produced<Windowed<Key>, Option<String>> {
    Produced::with(
        TimeWindowedSerde::new(OptionSerde::new(StringSerde), SIZE),
        OptionSerde::new(StringSerde),
    )
}

fn session_out() -> Produced<Windowed<Key>, Option<String>> {
    Produced::with(
        SessionWindowedSerde::new(OptionSerde::new(StringSerde)),
        OptionSerde::new(StringSerde),
    )
}

/// The first character of a value: the new key of the `rekey` cases.
#[allow(clippy::ptr_arg)] // the key selector's signature
fn first_char(_: &Key, v: &String) -> Key {
    v.chars().next().map(String::from)
}

/// A topology, its output's keys are sessions, and the stores whose changelogs are compared.
type Case = (StreamsBuilder, bool, &'static [&'static str]);

/// Builds `base` (a name without its suffixes) as `TtdCogroupWindowsReference.java` does.
fn build(base: &str) -> Result<Case, String> {
    let b = StreamsBuilder::new();
    let left = b.stream::<Key, String>("left").group_by_key();
    let right_stream = b.stream::<Key, String>("right");
    let right: KGroupedStream<Key, String> = if base.contains("rekey") {
        right_stream.group_by(first_char)
    } else {
        right_stream.group_by_key()
    };
    let cogroup = left
        .cogroup(|_, v, agg: String| format!("{agg}L{v}"))
        .cogroup(&right, |_, v, agg| format!("{agg}R{v}"));
    let err = |e: streams_dsl::WindowsError| e.to_string();
    let tumbling = TimeWindows::of_size_and_grace(secs(10), secs(5)).map_err(err)?;
    let sliding = SlidingWindows::of_time_difference_and_grace(secs(10), secs(5)).map_err(err)?;
    let sessions = SessionWindows::of_inactivity_gap_and_grace(secs(5), secs(10)).map_err(err)?;
    let init = || "<".to_owned();
    // Java's side runs with in-memory stores (`InMemoryDslStoreSuppliers`).
    let in_memory = |m: Materialized<Key, String>| m.with_store_type(StoreType::InMemory);
    let default = || in_memory(Materialized::default());
    // The suppression buffers windowed keys: the table needs its key serde.
    let with_serdes = || {
        in_memory(Materialized::with(
            OptionSerde::new(StringSerde),
            StringSerde,
        ))
    };
    let merger = |_: &Key, a1: String, a2: String| format!("{a1}|{a2}");
    let case = match base {
        "tumbling" | "rekey" => {
            let t = cogroup
                .windowed_by(tumbling)
                .aggregate_with(init, Named::empty(), default());
            t.to_stream().to_with("out", windowed_out());
            (b, false, &[][..])
        }
        "hopping" => {
            let w = tumbling.advance_by(secs(5)).map_err(err)?;
            let t = cogroup
                .windowed_by(w)
                .aggregate_with(init, Named::empty(), default());
            t.to_stream().to_with("out", windowed_out());
            (b, false, &[][..])
        }
        "sliding" | "sliding_rekey" => {
            let t = cogroup
                .windowed_by(sliding)
                .aggregate_with(init, Named::empty(), default());
            t.to_stream().to_with("out", windowed_out());
            (b, false, &[][..])
        }
        "session" | "session_rekey" => {
            let t = cogroup.windowed_by(sessions).aggregate_with(
                init,
                merger,
                Named::empty(),
                default(),
            );
            t.to_stream().to_with("out", session_out());
            (b, true, &[][..])
        }
        "named" => {
            let t = cogroup.windowed_by(tumbling).aggregate_with(
                init,
                Named::as_("cg"),
                in_memory(Materialized::as_("cg-store").with_retention(secs(60))),
            );
            t.to_stream().to_with("out", windowed_out());
            (b, false, &["cg-store"][..])
        }
        "session_named" => {
            let t = cogroup.windowed_by(sessions).aggregate_with(
                init,
                merger,
                Named::as_("cgs"),
                in_memory(Materialized::as_("cg-sessions")),
            );
            t.to_stream().to_with("out", session_out());
            (b, true, &["cg-sessions"][..])
        }
        "suppressed" => {
            let t = cogroup
                .windowed_by(tumbling)
                .aggregate_with(init, Named::empty(), with_serdes())
                .suppress(Suppressed::until_window_closes(Buffer::unbounded()));
            t.to_stream().to_with("out", windowed_out());
            (b, false, &[][..])
        }
        "session_suppressed" => {
            let t = cogroup
                .windowed_by(sessions)
                .aggregate_with(init, merger, Named::empty(), with_serdes())
                .suppress(Suppressed::until_window_closes(Buffer::unbounded()));
            t.to_stream().to_with("out", session_out());
            (b, true, &[][..])
        }
        other => return Err(format!("unknown topology {other}")),
    };
    Ok(case)
}

fn or_null<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// Our lines for topology `name`.
fn run_ours(name: &str) -> Result<Vec<String>, String> {
    let optimize = name.ends_with("_opt");
    let name = name.trim_end_matches("_opt");
    let nocache = name.ends_with("_nocache");
    let (builder, session, changelogs) = build(name.trim_end_matches("_nocache"))?;
    let mut lines = Vec::new();
    let topology = if optimize {
        let t = builder
            .build_with_optimization(TopologyOptimization::ALL)
            .map_err(|e| e.to_string())?;
        lines.extend(java_ttd::describe_lines(&t));
        t
    } else {
        builder.build().map_err(|e| e.to_string())?
    };
    let mut props = vec![("application.id", "ttdcw")];
    if nocache {
        props.push(("statestore.cache.max.bytes", "0"));
    }
    let driver = TopologyTestDriver::new(topology, props, 0).map_err(|e| e.to_string())?;
    let serde = || OptionSerde::new(StringSerde);
    let mut inputs = [
        driver
            .create_input_topic::<Key, String>("left", serde(), StringSerde)
            .map_err(|e| e.to_string())?,
        driver
            .create_input_topic::<Key, String>("right", serde(), StringSerde)
            .map_err(|e| e.to_string())?,
    ];
    for &(topic, key, value, ts) in FEED {
        let input = &mut inputs[usize::from(topic == "right")];
        input
            .pipe_input_with_timestamp(key.map(str::to_owned), value.to_owned(), ts)
            .map_err(|e| format!("piping {topic} {key:?}={value:?}@{ts}: {e}"))?;
        driver
            .advance_wall_clock_time(secs(1))
            .map_err(|e| e.to_string())?;
    }
    let keys: DynSerde<Windowed<String>> = if session {
        DynSerde::new(SessionWindowedSerde::new(StringSerde))
    } else {
        DynSerde::new(TimeWindowedSerde::new(StringSerde, SIZE))
    };
    let out = driver.create_output_topic::<Windowed<String>, Option<String>>(
        "out",
        keys,
        OptionSerde::new(StringSerde),
    );
    for r in out.read_records_to_list().map_err(|e| e.to_string())? {
        lines.push(format!(
            "out\t{}\t{}\t{}",
            r.key,
            or_null(r.value),
            or_null(r.timestamp)
        ));
    }
    for store in changelogs {
        lines.extend(java_ttd::changelog_lines(
            &driver,
            &format!("ttdcw-{store}-changelog"),
        )?);
    }
    lines.push(java_ttd::dropped_line(&driver));
    Ok(lines)
}

/// Every topology is run and tabled; the first that differs fails the test with both outputs.
#[test]
fn windowed_cogroups_match_javas_topology_test_driver() {
    java_ttd::compare("TtdCogroupWindowsReference", TOPOLOGIES, run_ours);
}
