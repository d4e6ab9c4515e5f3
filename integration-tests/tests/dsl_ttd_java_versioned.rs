//! Versioned tables (KIP-889/KIP-914) and stream-table joins with a grace period (KIP-923)
//! against Java's `TopologyTestDriver`, record for record: each topology below is built with
//! streams-dsl here and with Kafka Streams 4.4.0 in
//! `integration-tests/peers/TtdVersionedReference.java` (Java's versioned store, a RocksDB
//! one, with a 5 s history), the same feed is piped through each driver, and every record
//! of the output topic (key, value, timestamp) must be the same.
//!
//! The feed has out-of-order table updates (kept as older versions and forwarded as not the
//! latest), one beyond the history retention (dropped), deletes, late stream records (joined
//! with the table's value as of their time), a stream record before its key's first table
//! value and one read older than the history. Covered: a stream-table inner and left join on
//! a versioned table (and, for contrast, on a plain one), with grace periods of 2 s, 0 and
//! 5 s (records joined in timestamp order when stream time passes them), through a filtered
//! and mapped view, on a versioned `to_table`; a versioned source and filter through
//! `to_stream` (out-of-order updates go on, those beyond the history do not); table-table
//! inner and left joins of versioned tables and an outer join of a versioned with a plain
//! one (a versioned side skips its out-of-order updates); `describe()` of a named grace join
//! (its `<name>-Buffer` store); and the two grace periods Java refuses (a plain table, a
//! grace beyond the history), printed `(error)` by both.
//!
//! Java quirk matched: a left join with a grace period cannot buffer a null-key record —
//! Java's task fails on it (`NullPointerException: key cannot be null` in the buffer's
//! `put`), and so does ours; both print `(process error)` and stop the feed there.
//!
//! Java needs a JDK, the jars `scripts/test` downloads, and RocksDB's JNI jar.

use std::time::Duration;

use integration_tests::java_ttd;
use streams_core::testing::TopologyTestDriver;
use streams_dsl::serdes::StringSerde;
use streams_dsl::{
    Buffer, Consumed, Joined, KTable, Materialized, Named, StreamsBuilder, Suppressed, TableJoined,
};

type In = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    i64,
);

/// Same as `FEED` in `TtdVersionedReference.java`.
const FEED: &[In] = &[
    ("table", Some("a"), Some("a1"), 1000),
    ("table", Some("b"), Some("b1"), 1000),
    ("other", Some("a"), Some("x1"), 1200),
    ("stream", Some("a"), Some("S1"), 1500),
    ("table", Some("a"), Some("a2"), 5000),
    ("other", Some("a"), Some("x2"), 5500),
    ("stream", Some("a"), Some("S2"), 6000),
    ("stream", Some("a"), Some("S3"), 3000),
    ("table", Some("a"), Some("a0"), 2000),
    ("other", Some("a"), Some("x0"), 1800),
    ("stream", Some("a"), Some("S4"), 2500),
    ("table", Some("b"), None, 7000),
    ("stream", Some("b"), Some("S5"), 4000),
    ("stream", Some("b"), Some("S6"), 8000),
    ("table", Some("c"), Some("c1"), 9000),
    ("other", Some("c"), Some("y1"), 8800),
    ("stream", Some("c"), Some("S7"), 8500),
    ("stream", Some("c"), Some("S8"), 9500),
    ("table", Some("a"), Some("aX"), 100),
    ("other", Some("c"), Some("y0"), 8700),
    ("stream", Some("a"), Some("S9"), 100),
    ("stream", Some("b"), Some("S10"), 7500),
    ("stream", None, Some("N1"), 9600),
    ("stream", Some("d"), Some("S11"), 20000),
    ("table", Some("a"), Some("a3"), 30000),
    ("other", Some("a"), Some("x3"), 29000),
    ("stream", Some("a"), Some("S12"), 25000),
    ("stream", Some("a"), Some("S13"), 31000),
    ("table", Some("a"), Some("a4"), 26000),
    ("stream", Some("a"), Some("S14"), 40000),
];

const TOPOLOGIES: &[&str] = &[
    "v_st_inner",
    "v_st_left",
    "plain_st_inner",
    "v_st_grace",
    "v_st_grace_left",
    "v_st_grace_left_keyed",
    "v_filter_materialized",
    "v_tt_materialized",
    "v_tt_inner_describe",
    "v_fk_left",
    "v_fk_inner_materialized",
    "v_suppress",
    "v_grouped_count",
    "v_count_versioned",
    "v_reduce_versioned",
    "v_cogroup",
    "v_st_grace_zero",
    "v_st_grace_named_describe",
    "v_st_filtered",
    "v_source_to_stream",
    "v_filter_to_stream",
    "v_tt_inner",
    "v_tt_left",
    "v_tt_outer_mixed",
    "v_to_table",
    "grace_plain_table",
    "grace_beyond_history",
];

type Key = Option<String>;
type Val = Option<String>;

/// Java's `"[" + l + ", " + r + "]"`.
fn pair(l: Option<&String>, r: Option<&String>) -> String {
    let s = |v: Option<&String>| v.map_or_else(|| "null".to_owned(), Clone::clone);
    format!("[{}, {}]", s(l), s(r))
}

/// The foreign key: `a` for values starting with `a`, else `c`.
fn fk(v: &str) -> Option<Key> {
    Some(Some(if v.starts_with('a') { "a" } else { "c" }.to_owned()))
}

fn inner(l: &Val, r: &String) -> String {
    pair(l.as_ref(), Some(r))
}

fn left(l: &Val, r: Option<&String>) -> String {
    pair(l.as_ref(), r)
}

/// `topic` as a table in a versioned store `store` with 5 s of history.
fn versioned(b: &StreamsBuilder, topic: &str, store: &str) -> KTable<Key, String> {
    b.table_with(
        topic,
        Consumed::default(),
        Materialized::as_versioned(store, Duration::from_secs(5)),
    )
}

fn grace(ms: u64) -> Joined<Key, Val, String> {
    Joined::default().with_grace_period(Duration::from_millis(ms))
}

/// Builds `base` as `TtdVersionedReference.java` does; every case writes to `out`.
fn build(base: &str) -> Result<StreamsBuilder, String> {
    let b = StreamsBuilder::new();
    let stream = || b.stream::<Key, Val>("stream");
    match base {
        "v_st_inner" => stream()
            .join_table(&versioned(&b, "table", "vt"), inner)
            .to("out"),
        "v_st_left" => stream()
            .left_join_table(&versioned(&b, "table", "vt"), left)
            .to("out"),
        "plain_st_inner" => stream()
            .join_table(&b.table::<Key, String>("table"), inner)
            .to("out"),
        "v_st_grace" => stream()
            .join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| inner(l, r),
                grace(2000),
            )
            .to("out"),
        "v_st_grace_left" => stream()
            .left_join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| left(l, r),
                grace(2000),
            )
            .to("out"),
        "v_st_grace_left_keyed" => stream()
            .filter(|k: &Key, _| k.is_some())
            .left_join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| left(l, r),
                grace(2000),
            )
            .to("out"),
        "v_filter_materialized" => {
            let t = versioned(&b, "table", "vt").filter_with(
                |_, v: &String| v != "a2",
                Named::empty(),
                Materialized::as_versioned("vf", Duration::from_secs(5)),
            );
            t.to_stream()
                .map_values(|v: Option<String>| {
                    format!("table {}", v.unwrap_or_else(|| "null".to_owned()))
                })
                .to("out");
            stream()
                .filter(|k: &Key, _| k.is_some())
                .left_join_table_with(&t, |_, l, r| left(l, r), grace(1000))
                .to("out");
        }
        "v_tt_materialized" => {
            let t = versioned(&b, "table", "vt").join_with(
                &versioned(&b, "other", "vo"),
                |l: &String, r: &String| pair(Some(l), Some(r)),
                Named::empty(),
                Some(Materialized::as_versioned("vj", Duration::from_secs(5))),
            );
            stream().join_table(&t, inner).to("out");
        }
        "v_fk_left" => versioned(&b, "table", "vt")
            .left_join_on_foreign_key(
                &versioned(&b, "other", "vo"),
                |v: &String| fk(v),
                |l: &String, r| pair(Some(l), r),
            )
            .to_stream()
            .to("out"),
        "v_fk_inner_materialized" => {
            let t = versioned(&b, "table", "vt").join_on_foreign_key_with(
                &versioned(&b, "other", "vo"),
                |v: &String| fk(v),
                |l: &String, r: &String| pair(Some(l), Some(r)),
                TableJoined::default(),
                Some(Materialized::as_versioned("vfk", Duration::from_secs(5))),
            );
            t.to_stream().to("out");
            stream()
                .filter(|k: &Key, _| k.is_some())
                .join_table_with(&t, |_, l, r| inner(l, r), grace(1000))
                .to("out");
        }
        "v_suppress" => versioned(&b, "table", "vt")
            .suppress(Suppressed::until_time_limit(
                Duration::from_secs(1),
                Buffer::unbounded(),
            ))
            .to_stream()
            .to("out"),
        "v_grouped_count" => versioned(&b, "table", "vt")
            .group_by(|_, v: &String| (Some(v[..1].to_owned()), v.clone()))
            .count()
            .to_stream()
            .map_values(|c: Option<i64>| format!("count {}", c.unwrap_or_default()))
            .to("out"),
        "v_count_versioned" => {
            let c = stream()
                .filter(|k: &Key, _| k.is_some())
                .group_by_key()
                .count_with(
                    Named::empty(),
                    Materialized::as_versioned("vc", Duration::from_secs(5)),
                );
            c.to_stream()
                .map_values(|n: Option<i64>| format!("count {}", n.unwrap_or_default()))
                .to("out");
            b.stream::<Key, Val>("other")
                .join_table_with(
                    &c,
                    |_, v: &Val, n: &i64| format!("{}#{n}", v.as_deref().unwrap_or("null")),
                    Joined::default().with_grace_period(Duration::from_millis(500)),
                )
                .to("out");
        }
        "v_reduce_versioned" => versioned(&b, "table", "vt")
            .group_by(|_, v: &String| (Some(v[..1].to_owned()), v.clone()))
            .reduce_with(
                |x: String, y: String| format!("{x}+{y}"),
                |x: String, y: String| format!("{x}-{y}"),
                Named::empty(),
                Materialized::as_versioned("vr", Duration::from_secs(5)),
            )
            .to_stream()
            .to("out"),
        "v_cogroup" => {
            let g1 = stream().filter(|k: &Key, _| k.is_some()).group_by_key();
            let g2 = b.stream::<Key, Val>("other").group_by_key();
            let t = g1
                .cogroup(|_, v: Val, agg: String| agg + v.as_deref().unwrap_or("null"))
                .cogroup(&g2, |_, v: Val, agg: String| {
                    agg + &v.as_deref().unwrap_or("null").to_uppercase()
                })
                .aggregate_with(
                    String::new,
                    Named::empty(),
                    Materialized::as_versioned("vcg", Duration::from_secs(5)),
                );
            t.to_stream().to("out");
            b.stream::<Key, Val>("table")
                .filter(|_, v: &Val| v.is_some())
                .join_table_with(
                    &t,
                    |_, l: &Val, r: &String| pair(l.as_ref(), Some(r)),
                    grace(1000),
                )
                .to("out");
        }
        "v_st_grace_zero" => stream()
            .join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| inner(l, r),
                grace(0),
            )
            .to("out"),
        "v_st_grace_named" => stream()
            .left_join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| left(l, r),
                grace(5000).with_name("lookup"),
            )
            .to("out"),
        "v_st_filtered" => {
            let t = versioned(&b, "table", "vt")
                .filter(|_, v: &String| v != "a2")
                .map_values(|v: String| format!("{v}!"));
            stream()
                .left_join_table_with(&t, |_, l, r| left(l, r), grace(1000))
                .to("out");
        }
        "v_source_to_stream" => versioned(&b, "table", "vt").to_stream().to("out"),
        "v_filter_to_stream" => versioned(&b, "table", "vt")
            .filter(|_, v: &String| !v.starts_with("a0"))
            .to_stream()
            .to("out"),
        "v_tt_inner" => versioned(&b, "table", "vt")
            .join(&versioned(&b, "other", "vo"), |l: &String, r: &String| {
                pair(Some(l), Some(r))
            })
            .to_stream()
            .to("out"),
        "v_tt_left" => versioned(&b, "table", "vt")
            .left_join(
                &versioned(&b, "other", "vo"),
                |l: &String, r: Option<&String>| pair(Some(l), r),
            )
            .to_stream()
            .to("out"),
        "v_tt_outer_mixed" => versioned(&b, "table", "vt")
            .outer_join(
                &b.table::<Key, String>("other"),
                |l: Option<&String>, r: Option<&String>| pair(l, r),
            )
            .to_stream()
            .to("out"),
        "v_to_table" => {
            let t = b.stream::<Key, Val>("table").to_table_with(
                Named::empty(),
                Materialized::as_versioned("tt", Duration::from_secs(5)),
            );
            stream()
                .join_table_with(
                    &t,
                    |_, l: &Val, r: &Val| pair(l.as_ref(), r.as_ref()),
                    Joined::default().with_grace_period(Duration::from_millis(1000)),
                )
                .to("out");
        }
        "grace_plain_table" => stream()
            .join_table_with(
                &b.table::<Key, String>("table"),
                |_, l, r| inner(l, r),
                grace(1000),
            )
            .to("out"),
        "grace_beyond_history" => stream()
            .join_table_with(
                &versioned(&b, "table", "vt"),
                |_, l, r| inner(l, r),
                grace(6000),
            )
            .to("out"),
        other => return Err(format!("unknown topology {other}")),
    }
    Ok(b)
}

/// Our lines for topology `name`.
fn run_ours(name: &str) -> Result<Vec<String>, String> {
    let describe = name.ends_with("_describe");
    let base = name.trim_end_matches("_describe");
    let mut lines = Vec::new();
    let topology = match build(base)?.build() {
        Ok(t) => t,
        // The topologies Java refuses at build time (with an IllegalArgumentException).
        Err(e) if base.starts_with("grace_") || base == "v_suppress" => {
            eprintln!("{name}: {e}");
            return Ok(vec!["(error)".to_owned()]);
        }
        Err(e) => return Err(e.to_string()),
    };
    let described = topology.describe().to_string();
    if describe {
        for line in described.lines() {
            if !line.trim().is_empty() {
                lines.push(format!("(describe)\t{}", line.trim_end()));
            }
        }
    }
    let driver = TopologyTestDriver::new(topology, vec![("application.id", "ttd")], 0)
        .map_err(|e| e.to_string())?;
    let mut inputs = std::collections::BTreeMap::new();
    for &(topic, key, value, ts) in FEED {
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
            let piped = input.pipe_input_with_timestamp(
                key.map(str::to_owned),
                value.map(str::to_owned),
                ts,
            );
            if let Err(e) = piped {
                eprintln!("{name}: piping {key:?}={value:?}@{ts} into {topic}: {e}");
                lines.push("(process error)".to_owned());
                break;
            }
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
fn versioned_joins_match_javas_topology_test_driver() {
    if let Err(e) = java_ttd::require_rocksdb() {
        panic!("Java's side cannot run: {e}");
    }
    java_ttd::compare("TtdVersionedReference", TOPOLOGIES, run_ours);
}
