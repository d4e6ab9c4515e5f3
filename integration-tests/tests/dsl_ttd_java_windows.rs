//! Windowed aggregations of our DSL against Java's, record for record: each topology below is
//! built with streams-dsl here and with Kafka Streams 4.4.0 in
//! `integration-tests/peers/TtdWindowsReference.java`; the same input — out-of-order records,
//! records late within and after the grace period, a null key, a last record that moves stream
//! time past every window — is piped through each language's `TopologyTestDriver` (the wall
//! clock one second on after each record, so `EmitStrategy::OnWindowClose` looks for closed
//! windows after each), and every output record (the windowed key as Java's
//! `Windowed.toString()`, the value, the timestamp) and the task's `dropped-records-total`
//! must be the same, and for a window and a session store the changelog records (key and
//! value bytes, timestamp). An `_opt` suffix builds with `topology.optimization=all` and compares
//! `describe()` line for line too.
//!
//! A `_nocache` suffix runs with `statestore.cache.max.bytes=0`; without it Kafka's default
//! cache is on and both drivers commit (flush the caches) after each record. Time and sliding
//! windows and sessions run both ways: with the cache a closed window or session still in the
//! cache is seen where the uncached store had expired it (emitted on window close, merged),
//! and a session removed and put again within one commit is forwarded once — as Java does.
//!
//! Covered: tumbling count (no grace, grace), hopping count (even and uneven advance),
//! tumbling reduce, aggregate (`Named`, `Materialized` with a retention), emit-on-window-close
//! (tumbling count, hopping reduce), a key change before a windowed count (repartition topic),
//! two windowed aggregations after one key change (`_opt`: the repartition topics merged);
//! session count (grace, no grace), reduce and aggregate (merger) with sessions merged by
//! out-of-order records (tombstones of the merged sessions), a session count after a key
//! change; sliding windows (KIP-450: count with and without grace, reduce, emit-on-window-close,
//! after a named key change with `_opt`), records earlier than the time difference included;
//! a session count suppressed until its sessions close (gap plus grace past their end, as
//! Kafka's `GraphGraceSearchUtil`); emit-on-window-close of sessions and of time windows with the default retention
//! (closed windows may have expired from the store already: Kafka then emits nothing for
//! them) and with a longer one. `emit_final_retained` runs with the cache on too: emitted
//! final results do not go through the cache.
//!
//! No broker. Java needs a JDK and the jars `scripts/test` downloads (see `dsl_ttd_java.rs`).

use std::time::Duration;

use integration_tests::java_ttd;
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::TopologyOptimization;
use streams_dsl::serdes::{
    DynSerde, I64Serde, OptionSerde, SessionWindowedSerde, StringSerde, TimeWindowedSerde,
};
use streams_dsl::{
    Buffer, EmitStrategy, Grouped, Materialized, Named, Produced, SessionWindows, SlidingWindows,
    StreamsBuilder, Suppressed, TimeWindows, Windowed,
};

/// The input of topic `win`, piped in this order: (key, value, timestamp). Same as `FEED` in
/// `TtdWindowsReference.java`.
const FEED: &[(Option<&str>, &str, i64)] = &[
    (Some("a"), "a1", 1000),
    (Some("b"), "b1", 2000),
    (Some("a"), "a2", 4500),
    (Some("a"), "a3", 12000),
    (Some("b"), "b2", 6000),
    (Some("a"), "a4", 16000),
    (None, "n1", 16500),
    (Some("b"), "b3", 3000),
    (Some("c"), "c1", 21000),
    (Some("a"), "a5", 14000),
    (Some("b"), "b4", 25000),
    (Some("a"), "a6", 19999),
    (Some("a"), "a7", 8200),
    (Some("c"), "c2", 40000),
];

/// The topologies compared, by the names both programs know them by.
const TOPOLOGIES: &[&str] = &[
    "tumbling_count_nocache",
    "tumbling_count_grace_nocache",
    "hopping_count_nocache",
    "hopping_uneven_count_nocache",
    "tumbling_reduce_nocache",
    "tumbling_aggregate_nocache",
    "emit_final_nocache",
    "emit_final_hopping_nocache",
    "emit_final_retained_nocache",
    "emit_final_retained",
    "rekey_count_nocache",
    "rekey_count_nocache_opt",
    "rekey_two_windows_nocache",
    "rekey_two_windows_nocache_opt",
    "sliding_count_nocache",
    "sliding_count_no_grace_nocache",
    "sliding_reduce_nocache",
    "sliding_emit_final_nocache",
    "sliding_rekey_nocache_opt",
    "tumbling_count",
    "tumbling_count_grace",
    "hopping_count",
    "hopping_uneven_count",
    "tumbling_reduce",
    "tumbling_aggregate",
    "emit_final",
    "emit_final_hopping",
    "rekey_count",
    "rekey_two_windows_opt",
    "sliding_count",
    "sliding_count_no_grace",
    "sliding_reduce",
    "sliding_emit_final",
    "sliding_rekey_opt",
    "session_count_nocache",
    "session_count_short_grace_nocache",
    "session_count_no_grace_nocache",
    "session_reduce_nocache",
    "session_aggregate_nocache",
    "session_rekey_nocache",
    "session_rekey_nocache_opt",
    "session_emit_final_nocache",
    "session_emit_final_retained_nocache",
    "session_count",
    "session_count_short_grace",
    "session_count_no_grace",
    "session_reduce",
    "session_aggregate",
    "session_rekey_opt",
    "session_emit_final_retained",
    "session_suppressed_nocache",
    "session_suppressed",
];

/// The window size of every topology (ms).
const SIZE: i64 = 10_000;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// An output topic's value type, and whether its keys are sessions.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Long,
    SessionLong,
    SessionStr,
}

type Key = Option<String>;

fn windowed_long() -> Produced<Windowed<String>, Option<i64>> {
    Produced::with(
        TimeWindowedSerde::new(StringSerde, SIZE),
        OptionSerde::new(I64Serde),
    )
}

fn windowed_str() -> Produced<Windowed<String>, Option<String>> {
    Produced::with(
        TimeWindowedSerde::new(StringSerde, SIZE),
        OptionSerde::new(StringSerde),
    )
}

fn windowed_long_k() -> Produced<Windowed<Key>, Option<i64>> {
    Produced::with(
        TimeWindowedSerde::new(OptionSerde::new(StringSerde), SIZE),
        OptionSerde::new(I64Serde),
    )
}

fn windowed_str_k() -> Produced<Windowed<Key>, Option<String>> {
    Produced::with(
        TimeWindowedSerde::new(OptionSerde::new(StringSerde), SIZE),
        OptionSerde::new(StringSerde),
    )
}

/// Sessions with a 5 s gap and `grace` seconds of grace.
fn sessions(grace: u64) -> Result<SessionWindows, String> {
    SessionWindows::of_inactivity_gap_and_grace(secs(5), secs(grace)).map_err(|e| e.to_string())
}

fn session_long_k() -> Produced<Windowed<Key>, Option<i64>> {
    Produced::with(
        SessionWindowedSerde::new(OptionSerde::new(StringSerde)),
        OptionSerde::new(I64Serde),
    )
}

fn session_str_k() -> Produced<Windowed<Key>, Option<String>> {
    Produced::with(
        SessionWindowedSerde::new(OptionSerde::new(StringSerde)),
        OptionSerde::new(StringSerde),
    )
}

/// The last character of a value: the new key of the `rekey_` cases.
#[allow(clippy::ptr_arg)] // the key selector's signature
fn last_char(_: &Key, v: &String) -> String {
    last_of(v)
}

fn last_of(v: &str) -> String {
    v.chars().last().map(String::from).unwrap_or_default()
}

/// A topology and its output topics, in the order they are rendered.
type Case = (StreamsBuilder, Vec<(&'static str, Kind)>);

/// Builds `base` (a name without its suffixes) as `TtdWindowsReference.java` does.
fn build(base: &str) -> Result<Case, String> {
    let b = StreamsBuilder::new();
    let input = b.stream::<Key, String>("win");
    let by_key = input.group_by_key();
    let err = |e: streams_dsl::WindowsError| e.to_string();
    let tumbling = TimeWindows::of_size_with_no_grace(secs(10)).map_err(err)?;
    let tumbling_grace = TimeWindows::of_size_and_grace(secs(10), secs(5)).map_err(err)?;
    let hopping = tumbling_grace.advance_by(secs(5)).map_err(err)?;
    let outputs = match base {
        "tumbling_count" => {
            by_key
                .windowed_by(tumbling)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "tumbling_count_grace" => {
            by_key
                .windowed_by(tumbling_grace)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "hopping_count" => {
            by_key
                .windowed_by(hopping)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "hopping_uneven_count" => {
            let w = tumbling.advance_by(secs(3)).map_err(err)?;
            by_key
                .windowed_by(w)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "tumbling_reduce" => {
            by_key
                .windowed_by(tumbling_grace)
                .reduce(|agg, v| format!("{agg}+{v}"))
                .to_stream()
                .to_with("out", windowed_str_k());
            vec![("out", Kind::Str)]
        }
        "tumbling_aggregate" => {
            by_key
                .windowed_by(tumbling_grace)
                .aggregate_with(
                    || "<".to_owned(),
                    |_, v, agg| agg + &v,
                    Named::as_("win-agg"),
                    Materialized::as_("agg-store")
                        .with_value_serde(StringSerde)
                        .with_retention(Duration::from_secs(60)),
                )
                .to_stream()
                .to_with("out", windowed_str_k());
            vec![("out", Kind::Str)]
        }
        "emit_final" => {
            let w = TimeWindows::of_size_and_grace(secs(10), secs(2)).map_err(err)?;
            by_key
                .windowed_by(w)
                .emit_strategy(EmitStrategy::OnWindowClose)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "emit_final_retained" => {
            let w = TimeWindows::of_size_and_grace(secs(10), secs(2)).map_err(err)?;
            by_key
                .windowed_by(w)
                .emit_strategy(EmitStrategy::OnWindowClose)
                .count_with(
                    Named::empty(),
                    Materialized::as_("final-counts").with_retention(secs(60)),
                )
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "emit_final_hopping" => {
            by_key
                .windowed_by(hopping)
                .emit_strategy(EmitStrategy::OnWindowClose)
                .reduce(|agg, v| format!("{agg}+{v}"))
                .to_stream()
                .to_with("out", windowed_str_k());
            vec![("out", Kind::Str)]
        }
        "rekey_count" => {
            input
                .group_by(last_char)
                .windowed_by(tumbling_grace)
                .count()
                .to_stream()
                .to_with("out", windowed_long());
            vec![("out", Kind::Long)]
        }
        "rekey_two_windows" => {
            let m = input.select_key(last_char);
            m.group_by_key_with(Grouped::as_("by-digit"))
                .windowed_by(tumbling_grace)
                .count()
                .to_stream()
                .to_with("out", windowed_long());
            m.group_by_key()
                .windowed_by(tumbling)
                .reduce(|agg, v| agg + &v)
                .to_stream()
                .to_with("out2", windowed_str());
            vec![("out", Kind::Long), ("out2", Kind::Str)]
        }
        "sliding_count" | "sliding_count_no_grace" => {
            let w = if base == "sliding_count" {
                SlidingWindows::of_time_difference_and_grace(secs(10), secs(5))
            } else {
                SlidingWindows::of_time_difference_with_no_grace(secs(10))
            }
            .map_err(err)?;
            by_key
                .windowed_by(w)
                .count()
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "sliding_reduce" => {
            let w = SlidingWindows::of_time_difference_and_grace(secs(10), secs(5)).map_err(err)?;
            by_key
                .windowed_by(w)
                .reduce(|agg, v| format!("{agg}+{v}"))
                .to_stream()
                .to_with("out", windowed_str_k());
            vec![("out", Kind::Str)]
        }
        "sliding_emit_final" => {
            let w = SlidingWindows::of_time_difference_and_grace(secs(10), secs(2)).map_err(err)?;
            by_key
                .windowed_by(w)
                .emit_strategy(EmitStrategy::OnWindowClose)
                .count_with(
                    Named::empty(),
                    Materialized::as_("sliding-final").with_retention(secs(60)),
                )
                .to_stream()
                .to_with("out", windowed_long_k());
            vec![("out", Kind::Long)]
        }
        "sliding_rekey" => {
            let w = SlidingWindows::of_time_difference_and_grace(secs(10), secs(5)).map_err(err)?;
            input
                .group_by_with(last_char, Grouped::as_("by-digit"))
                .windowed_by(w)
                .count()
                .to_stream()
                .to_with("out", windowed_long());
            vec![("out", Kind::Long)]
        }
        "session_count" => {
            by_key
                .windowed_by(sessions(10)?)
                .count()
                .to_stream()
                .to_with("out", session_long_k());
            vec![("out", Kind::SessionLong)]
        }
        "session_count_short_grace" => {
            let w = SessionWindows::of_inactivity_gap_and_grace(secs(5), secs(1)).map_err(err)?;
            by_key
                .windowed_by(w)
                .count()
                .to_stream()
                .to_with("out", session_long_k());
            vec![("out", Kind::SessionLong)]
        }
        "session_count_no_grace" => {
            let w = SessionWindows::of_inactivity_gap_with_no_grace(secs(5)).map_err(err)?;
            by_key
                .windowed_by(w)
                .count()
                .to_stream()
                .to_with("out", session_long_k());
            vec![("out", Kind::SessionLong)]
        }
        "session_reduce" => {
            by_key
                .windowed_by(sessions(10)?)
                .reduce(|agg, v| format!("{agg}+{v}"))
                .to_stream()
                .to_with("out", session_str_k());
            vec![("out", Kind::SessionStr)]
        }
        "session_aggregate" => {
            by_key
                .windowed_by(sessions(10)?)
                .aggregate_with(
                    || "<".to_owned(),
                    |_, v, agg| agg + &v,
                    |_, a1, a2| format!("{a1}|{a2}"),
                    Named::as_("sess-agg"),
                    Materialized::as_("sess-store").with_value_serde(StringSerde),
                )
                .to_stream()
                .to_with("out", session_str_k());
            vec![("out", Kind::SessionStr)]
        }
        "session_emit_final" | "session_emit_final_retained" => {
            let w = SessionWindows::of_inactivity_gap_and_grace(secs(5), secs(1)).map_err(err)?;
            let windowed = by_key
                .windowed_by(w)
                .emit_strategy(EmitStrategy::OnWindowClose);
            let counts = if base == "session_emit_final" {
                windowed.count()
            } else {
                windowed.count_with(
                    Named::empty(),
                    Materialized::as_("final-sessions").with_retention(secs(60)),
                )
            };
            counts.to_stream().to_with("out", session_long_k());
            vec![("out", Kind::SessionLong)]
        }
        "session_rekey" => {
            input
                .group_by(last_char)
                .windowed_by(sessions(10)?)
                .count()
                .to_stream()
                .to_with(
                    "out",
                    Produced::with(
                        SessionWindowedSerde::new(StringSerde),
                        OptionSerde::new(I64Serde),
                    ),
                );
            vec![("out", Kind::SessionLong)]
        }
        "session_suppressed" => {
            by_key
                .windowed_by(sessions(10)?)
                .count_with(
                    Named::empty(),
                    Materialized::with(OptionSerde::new(StringSerde), I64Serde),
                )
                .suppress(Suppressed::until_window_closes(Buffer::unbounded()))
                .to_stream()
                .to_with("out", session_long_k());
            vec![("out", Kind::SessionLong)]
        }
        other => return Err(format!("unknown topology {other}")),
    };
    Ok((b, outputs))
}

/// The stores whose changelog records are compared too (as `TtdWindowsReference.java`
/// lists them): a timestamped window store's (the plain value, stamped with the window's
/// timestamp) and a session store's.
fn changelogs_of(base: &str) -> &'static [&'static str] {
    match base {
        "tumbling_aggregate" => &["agg-store"],
        "session_aggregate" => &["sess-store"],
        _ => &[],
    }
}

/// One output line, as `TtdWindowsReference.java` prints it.
fn render(topic: &str, key: &Windowed<String>, value: Option<String>, ts: Option<i64>) -> String {
    format!(
        "{topic}\t{key}\t{}\t{}",
        value.unwrap_or_else(|| "null".to_owned()),
        ts.map_or_else(|| "null".to_owned(), |t| t.to_string())
    )
}

/// Our lines for topology `name`.
fn run_ours(name: &str) -> Result<Vec<String>, String> {
    let optimize = name.ends_with("_opt");
    let name = name.trim_end_matches("_opt");
    let nocache = name.ends_with("_nocache");
    let (builder, outputs) = build(name.trim_end_matches("_nocache"))?;
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
    let mut props = vec![("application.id", "ttdw")];
    if nocache {
        props.push(("statestore.cache.max.bytes", "0"));
    }
    let driver = TopologyTestDriver::new(topology, props, 0).map_err(|e| e.to_string())?;
    let mut input = driver
        .create_input_topic::<Key, String>("win", OptionSerde::new(StringSerde), StringSerde)
        .map_err(|e| e.to_string())?;
    for &(key, value, ts) in FEED {
        input
            .pipe_input_with_timestamp(key.map(str::to_owned), value.to_owned(), ts)
            .map_err(|e| format!("piping {key:?}={value:?}@{ts}: {e}"))?;
        driver
            .advance_wall_clock_time(secs(1))
            .map_err(|e| e.to_string())?;
    }
    for (topic, kind) in outputs {
        let keys: DynSerde<Windowed<String>> = match kind {
            Kind::SessionLong | Kind::SessionStr => {
                DynSerde::new(SessionWindowedSerde::new(StringSerde))
            }
            Kind::Str | Kind::Long => DynSerde::new(TimeWindowedSerde::new(StringSerde, SIZE)),
        };
        match kind {
            Kind::Str | Kind::SessionStr => {
                let out = driver.create_output_topic::<Windowed<String>, Option<String>>(
                    topic,
                    keys,
                    OptionSerde::new(StringSerde),
                );
                for r in out.read_records_to_list().map_err(|e| e.to_string())? {
                    lines.push(render(topic, &r.key, r.value, r.timestamp));
                }
            }
            Kind::Long | Kind::SessionLong => {
                let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
                    topic,
                    keys,
                    OptionSerde::new(I64Serde),
                );
                for r in out.read_records_to_list().map_err(|e| e.to_string())? {
                    let value = r.value.map(|v| v.to_string());
                    lines.push(render(topic, &r.key, value, r.timestamp));
                }
            }
        }
    }
    for store in changelogs_of(name.trim_end_matches("_nocache")) {
        lines.extend(java_ttd::changelog_lines(
            &driver,
            &format!("ttdw-{store}-changelog"),
        )?);
    }
    lines.push(java_ttd::dropped_line(&driver));
    Ok(lines)
}

/// Every topology is run and tabled; the first that differs fails the test with both outputs.
#[test]
fn windowed_topologies_match_javas_topology_test_driver() {
    java_ttd::compare("TtdWindowsReference", TOPOLOGIES, run_ours);
}
