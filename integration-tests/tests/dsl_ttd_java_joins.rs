//! Our joins and `TopologyTestDriver` against Java's, record for record: each topology below
//! is built with streams-dsl here and with Kafka Streams 4.4.0 in
//! `integration-tests/peers/TtdJoinsReference.java`, the same input is piped through each
//! language's driver, and every record of the output topic (key, value, timestamp) must be
//! the same. An `_opt` suffix builds with `topology.optimization=all` and compares
//! `describe()` line for line first (node, store and repartition-topic names, and the stores a
//! join reads through its value getters).
//!
//! Two inputs: `DOC`, the developer guide's join timeline (one key, values at seconds ×
//! 1000, window 15 s with 5 s grace: the `doc_` cases are the guide's "Join semantics"
//! tables, stream-stream, stream-table and table-table, inner/left/outer), and `MIX`:
//! several keys, out-of-order records, null keys (a left/outer join keeps them, KIP-962, also
//! through the repartition topics before it, which drop them before other operations),
//! null values, a global table and a late `probe` stream. Covered: every stream-stream join
//! (also after a key change on both sides, and named with `StreamJoined`), stream-table
//! inner/left (also after a key change, and through a filtered and mapped table, read by its
//! value getter), stream-global-table inner/left, table-table inner/left/outer (also
//! materialized, a join result read by a stream join, and one regrouped and reduced, which
//! takes old values through the join) and a stream joined with itself (with
//! `single.store.self.join` too: one store, Kafka's self-join processor, which Kafka uses for
//! a left self-join as well). A `_throttled` case sets Kafka's
//! internal `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__` to its
//! application default, 1 s, which both drivers (their wall clocks standing still) honour:
//! only the first scan for closed windows runs; otherwise drivers scan at every record, as
//! Java's driver does.
//!
//! Java needs a JDK and the jars `scripts/test` downloads (see `dsl_ttd_java.rs`).

use std::time::Duration;

use integration_tests::java_ttd;
use streams_core::testing::TopologyTestDriver;
use streams_core::topology::TopologyOptimization;
use streams_dsl::serdes::StringSerde;
use streams_dsl::{
    Consumed, JoinWindows, Joined, Materialized, Named, StreamJoined, StreamsBuilder,
};

type In = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    i64,
);

/// The developer guide's timeline. Same as `DOC` in `TtdJoinsReference.java`.
const DOC: &[In] = &[
    ("left", Some("k"), None, 1000),
    ("right", Some("k"), None, 2000),
    ("left", Some("k"), Some("A"), 3000),
    ("right", Some("k"), Some("a"), 4000),
    ("left", Some("k"), Some("B"), 5000),
    ("right", Some("k"), Some("b"), 6000),
    ("left", Some("k"), None, 7000),
    ("right", Some("k"), None, 8000),
    ("left", Some("k"), Some("C"), 9000),
    ("right", Some("k"), Some("c"), 10000),
    ("right", Some("k"), None, 11000),
    ("left", Some("k"), None, 12000),
    ("right", Some("k"), None, 13000),
    ("right", Some("k"), Some("d"), 14000),
    ("left", Some("k"), Some("D"), 15000),
    ("left", Some("k"), Some("E"), 40000),
    ("left", Some("k"), Some("F"), 60000),
    ("right", Some("k"), Some("f"), 80000),
    ("left", Some("k"), Some("G"), 100000),
];

/// Same as `MIX` in `TtdJoinsReference.java`.
const MIX: &[In] = &[
    ("global", Some("A"), Some("alpha"), 0),
    ("global", Some("B"), Some("beta"), 0),
    ("left", Some("a"), Some("A1"), 1000),
    ("right", Some("a"), Some("a1"), 1500),
    ("left", Some("b"), Some("B1"), 2000),
    ("right", Some("c"), Some("c1"), 2500),
    ("left", None, Some("N1"), 3000),
    ("right", None, Some("n1"), 3100),
    ("right", Some("b"), Some("b1"), 9000),
    ("left", Some("a"), Some("A2"), 12000),
    ("right", Some("a"), None, 12500),
    ("left", Some("c"), Some("C1"), 4000),
    ("left", Some("b"), None, 13000),
    ("right", Some("a"), Some("a2"), 20000),
    ("left", Some("d"), Some("D1"), 30000),
    ("right", Some("d"), Some("d1"), 45000),
    ("left", Some("a"), Some("A3"), 60000),
    ("right", Some("e"), Some("e1"), 61000),
    ("probe", Some("a"), Some("P1"), 70000),
    ("probe", Some("b"), Some("P2"), 70000),
    ("probe", Some("c"), Some("P3"), 70000),
    ("probe", Some("d"), Some("P4"), 70000),
    ("probe", Some("e"), Some("P5"), 70000),
];

const TOPOLOGIES: &[&str] = &[
    "doc_ss_inner",
    "doc_ss_left",
    "doc_ss_outer",
    "doc_ss_left_throttled",
    "doc_ss_outer_throttled",
    "doc_st_inner",
    "doc_st_left",
    "doc_tt_inner",
    "doc_tt_left",
    "doc_tt_outer",
    "ss_inner",
    "ss_left",
    "ss_outer",
    "ss_rekeyed_opt",
    "ss_named_opt",
    "st_inner",
    "st_left",
    "st_rekeyed_opt",
    "st_view",
    "global",
    "tt_inner",
    "tt_left",
    "tt_outer",
    "tt_materialized_opt",
    "tt_chain",
    "st_view_opt",
    "global_opt",
    "tt_chain_opt",
    "doc_ss_outer_opt",
    "tt_grouped",
    "tt_grouped_opt",
    "ss_self",
    "ss_self_opt",
    "ss_self_left_opt",
    "ss_self_asym",
    "ss_self_asym_opt",
    "doc_ss_self",
    "doc_ss_self_opt",
    "st_to_table",
    "st_to_table_opt",
    "tt_views",
    "tt_views_opt",
    "null_keys_rekeyed",
    "null_keys_rekeyed_opt",
    "ss_self_rekeyed",
    "ss_self_rekeyed_opt",
];

type Key = Option<String>;
type Val = Option<String>;

/// Java's `"[" + l + ", " + r + "]"`.
fn pair(l: Option<&String>, r: Option<&String>) -> String {
    let s = |v: Option<&String>| v.map_or_else(|| "null".to_owned(), Clone::clone);
    format!("[{}, {}]", s(l), s(r))
}

fn doc_windows() -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(Duration::from_secs(15), Duration::from_secs(5))
}

fn mix_windows() -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(Duration::from_secs(5), Duration::from_secs(2))
}

/// The first letter of a value (the global table's key, Java's `initial`).
fn initial(v: &Val) -> String {
    v.as_deref().map_or_else(String::new, |v| v[..1].to_owned())
}

/// Builds `base` as `TtdJoinsReference.java` does; every case writes to `out`.
fn build(base: &str) -> Result<StreamsBuilder, String> {
    let b = StreamsBuilder::new();
    match base {
        "doc_ss_inner" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.join(
                &r,
                |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()),
                doc_windows(),
            )
            .to("out");
        }
        "doc_ss_left" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.left_join(
                &r,
                |l: &Val, r: Option<&Val>| pair(l.as_ref(), r.and_then(Option::as_ref)),
                doc_windows(),
            )
            .to("out");
        }
        "doc_ss_outer" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.outer_join(
                &r,
                |l: Option<&Val>, r: Option<&Val>| {
                    pair(l.and_then(Option::as_ref), r.and_then(Option::as_ref))
                },
                doc_windows(),
            )
            .to("out");
        }
        "doc_st_inner" | "st_inner" => {
            let s = b.stream::<Key, Val>("left");
            let t = b.table::<Key, String>("right");
            s.join_table(&t, |l: &Val, r: &String| pair(l.as_ref(), Some(r)))
                .to("out");
        }
        "doc_st_left" | "st_left" => {
            let s = b.stream::<Key, Val>("left");
            let t = b.table::<Key, String>("right");
            s.left_join_table(&t, |l: &Val, r: Option<&String>| pair(l.as_ref(), r))
                .to("out");
        }
        "doc_tt_inner" | "tt_inner" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            l.join(&r, |l: &String, r: &String| pair(Some(l), Some(r)))
                .to_stream()
                .to("out");
        }
        "doc_tt_left" | "tt_left" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            l.left_join(&r, |l: &String, r: Option<&String>| pair(Some(l), r))
                .to_stream()
                .to("out");
        }
        "doc_tt_outer" | "tt_outer" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            l.outer_join(&r, |l: Option<&String>, r: Option<&String>| pair(l, r))
                .to_stream()
                .to("out");
        }
        "ss_inner" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.join(
                &r,
                |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()),
                mix_windows(),
            )
            .to("out");
        }
        "ss_left" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.left_join(
                &r,
                |l: &Val, r: Option<&Val>| pair(l.as_ref(), r.and_then(Option::as_ref)),
                mix_windows(),
            )
            .to("out");
        }
        "ss_outer" => {
            let l = b.stream::<Key, Val>("left");
            let r = b.stream::<Key, Val>("right");
            l.outer_join(
                &r,
                |l: Option<&Val>, r: Option<&Val>| {
                    pair(l.and_then(Option::as_ref), r.and_then(Option::as_ref))
                },
                mix_windows().before(Duration::from_secs(1)),
            )
            .to("out");
        }
        "ss_rekeyed" => {
            let first = |v: &Val, lower: bool| -> String {
                v.as_deref().map_or_else(
                    || "none".to_owned(),
                    |v| {
                        if lower {
                            v[..1].to_lowercase()
                        } else {
                            v[..1].to_owned()
                        }
                    },
                )
            };
            let l = b
                .stream::<Key, Val>("left")
                .select_key(move |_, v: &Val| first(v, true));
            let r = b
                .stream::<Key, Val>("right")
                .select_key(move |_, v: &Val| first(v, false));
            l.left_join(
                &r,
                |l: &Val, r: Option<&Val>| pair(l.as_ref(), r.and_then(Option::as_ref)),
                mix_windows(),
            )
            .to("out");
        }
        "ss_named" => {
            let l = b
                .stream::<Key, Val>("left")
                .map(|k: Key, v: Val| (Some(k.unwrap_or_else(|| "z".to_owned())), v));
            let r = b.stream::<Key, Val>("right");
            l.outer_join_with(
                &r,
                |l: Option<&Val>, r: Option<&Val>| {
                    pair(l.and_then(Option::as_ref), r.and_then(Option::as_ref))
                },
                mix_windows(),
                StreamJoined::as_("js").with_name("sj"),
            )
            .to("out");
        }
        "st_rekeyed" => {
            let s = b.stream::<Key, Val>("left").select_key(|_, v: &Val| {
                Some(
                    v.as_deref()
                        .map_or_else(|| "none".to_owned(), |v| v[..1].to_lowercase()),
                )
            });
            let t = b.table::<Key, String>("right");
            s.left_join_table_with(
                &t,
                |_, l: &Val, r: Option<&String>| pair(l.as_ref(), r),
                Joined::as_("stj"),
            )
            .to("out");
        }
        "st_view" => {
            let t = b
                .table::<Key, String>("right")
                .filter(|_, v: &String| !v.starts_with('b'))
                .map_values(|v: String| v.to_uppercase());
            b.stream::<Key, Val>("left")
                .left_join_table(&t, |l: &Val, r: Option<&String>| pair(l.as_ref(), r))
                .to("out");
        }
        "global" => {
            let g = b.global_table::<String, String>(
                "global",
                Consumed::default(),
                Materialized::default(),
            );
            let s = b.stream::<Key, Val>("left");
            s.join_global(
                &g,
                |_, v: &Val| initial(v),
                |l: &Val, r: &String| pair(l.as_ref(), Some(r)),
            )
            .to("out");
            s.left_join_global_named(
                &g,
                |_, v: &Val| initial(v),
                |_, l: &Val, r: Option<&String>| pair(l.as_ref(), r),
                Named::as_("gl"),
            )
            .to("out");
        }
        "tt_materialized" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            l.outer_join_with(
                &r,
                |l: Option<&String>, r: Option<&String>| pair(l, r),
                Named::as_("tj"),
                Some(Materialized::as_("joined-store")),
            )
            .to_stream()
            .to("out");
        }
        "tt_chain" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            let j = l.left_join(&r, |l: &String, r: Option<&String>| pair(Some(l), r));
            b.stream_with::<Key, Val>(&["probe"], Consumed::as_("probe"))
                .join_table(&j, |p: &Val, j: &String| pair(p.as_ref(), Some(j)))
                .to("out");
        }
        "tt_grouped" => {
            let l = b.table::<Key, String>("left");
            let r = b.table::<Key, String>("right");
            l.outer_join(&r, |l: Option<&String>, r: Option<&String>| pair(l, r))
                .group_by(|_, v: &String| {
                    let half = if v.contains("null") { "half" } else { "full" };
                    (half.to_owned(), v.clone())
                })
                .reduce(|a, v| format!("{a}+{v}"), |a, v| format!("{a}-{v}"))
                .to_stream()
                .to("out");
        }
        "ss_self_left" => {
            let s = b.stream::<Key, Val>("left");
            s.left_join(
                &s,
                |l: &Val, r: Option<&Val>| pair(l.as_ref(), r.and_then(Option::as_ref)),
                mix_windows(),
            )
            .to("out");
        }
        "ss_self_asym" => {
            let s = b.stream::<Key, Val>("left");
            let w = mix_windows()
                .before(Duration::from_secs(1))
                .after(Duration::from_secs(10));
            s.join(&s, |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()), w)
                .to("out");
        }
        "doc_ss_self" => {
            let s = b.stream::<Key, Val>("left");
            let w = doc_windows().before(Duration::from_secs(4));
            s.join(&s, |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()), w)
                .to("out");
        }
        "st_to_table" => {
            let s = b.stream::<Key, Val>("left");
            let t = b.stream::<Key, Val>("right").to_table();
            s.left_join_table(&t, |l: &Val, r: Option<&Val>| {
                pair(l.as_ref(), r.and_then(Option::as_ref))
            })
            .to("out");
        }
        "tt_views" => {
            let l = b
                .table::<Key, String>("left")
                .filter(|_, v: &String| !v.starts_with('B'));
            let r = b.table::<Key, String>("right").map_values_with(
                |_, v: String| format!("{v}!"),
                Named::empty(),
                Materialized::as_("bang"),
            );
            l.outer_join(&r, |l: Option<&String>, r: Option<&String>| pair(l, r))
                .to_stream()
                .to("out");
        }
        "null_keys_rekeyed" => {
            let s = b
                .stream::<Key, Val>("left")
                .select_key(|k: &Key, _| k.clone());
            let t = b.table::<Key, String>("right");
            s.left_join_table(&t, |l: &Val, r: Option<&String>| pair(l.as_ref(), r))
                .to("out");
            s.join_table(&t, |l: &Val, r: &String| pair(l.as_ref(), Some(r)))
                .map_values(|v| format!("inner {v}"))
                .to("out");
            let r = b
                .stream::<Key, Val>("probe")
                .select_key(|k: &Key, _| k.clone());
            s.left_join(
                &r,
                |l: &Val, r: Option<&Val>| pair(l.as_ref(), r.and_then(Option::as_ref)),
                mix_windows(),
            )
            .map_values(|v| format!("ss {v}"))
            .to("out");
            s.group_by_key()
                .count()
                .to_stream()
                .map_values(|v: Option<i64>| format!("count {}", v.unwrap_or_default()))
                .to("out");
        }
        "ss_self_rekeyed" => {
            let s = b
                .stream::<Key, Val>("left")
                .select_key(|k: &Key, _| k.clone());
            s.join(
                &s,
                |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()),
                mix_windows(),
            )
            .to("out");
        }
        "ss_self" => {
            let s = b.stream::<Key, Val>("left");
            s.join(
                &s,
                |l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()),
                mix_windows(),
            )
            .to("out");
        }
        other => return Err(format!("unknown topology {other}")),
    }
    Ok(b)
}

/// Our lines for topology `name`.
fn run_ours(name: &str) -> Result<Vec<String>, String> {
    let optimize = name.ends_with("_opt");
    let base = name.trim_end_matches("_opt");
    let throttled = base.ends_with("_throttled");
    let base = base.trim_end_matches("_throttled");
    let builder = build(base)?;
    let mut lines = Vec::new();
    let topology = if optimize {
        let t = builder
            .build_with_optimization(TopologyOptimization::ALL)
            .map_err(|e| e.to_string())?;
        for line in t.describe().to_string().lines() {
            if !line.trim().is_empty() {
                lines.push(format!("(describe)\t{}", line.trim_end()));
            }
        }
        t
    } else {
        builder.build().map_err(|e| e.to_string())?
    };
    let described = topology.describe().to_string();
    let mut props = vec![("application.id", "ttd")];
    if throttled {
        props.push((
            "__emit.interval.ms.kstreams.outer.join.spurious.results.fix__",
            "1000",
        ));
    }
    let driver = TopologyTestDriver::new(topology, props, 0).map_err(|e| e.to_string())?;
    let feed = if base.starts_with("doc_") { DOC } else { MIX };
    let mut inputs = std::collections::BTreeMap::new();
    for &(topic, key, value, ts) in feed {
        if !described.contains(&format!("{topic}]")) {
            continue;
        }
        if !inputs.contains_key(topic) {
            let t = driver
                .create_input_topic::<Key, Val>(topic, StringSerde, StringSerde)
                .map_err(|e| e.to_string())?;
            inputs.insert(topic, t);
        }
        if let Some(input) = inputs.get_mut(topic) {
            input
                .pipe_input_with_timestamp(key.map(str::to_owned), value.map(str::to_owned), ts)
                .map_err(|e| format!("piping {key:?}={value:?}@{ts} into {topic}: {e}"))?;
        }
    }
    let out = driver.create_output_topic::<Key, Val>("out", StringSerde, StringSerde);
    for r in out.read_records_to_list().map_err(|e| e.to_string())? {
        let null = || "null".to_owned();
        lines.push(format!(
            "out\t{}\t{}\t{}",
            r.key.unwrap_or_else(null),
            r.value.unwrap_or_else(null),
            r.timestamp.map_or_else(null, |t| t.to_string())
        ));
    }
    Ok(lines)
}

/// Every topology is run and tabled; the first that differs fails the test with both outputs.
#[test]
fn joins_match_javas_topology_test_driver() {
    java_ttd::compare("TtdJoinsReference", TOPOLOGIES, run_ours);
}
