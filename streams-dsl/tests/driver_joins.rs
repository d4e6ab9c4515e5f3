//! Joins through the `TopologyTestDriver`, reproducing record for record the "Join
//! semantics" tables of Kafka Streams' developer guide (`dsl-api.html`: stream-stream,
//! stream-table and table-table, each inner/left/outer): one key, the guide's timeline of
//! values (`None`: a null value) at its timestamps (seconds, here in ms × 1000), the joiner
//! printing `[left, right]` as Java's string concatenation would (`null` for a missing
//! side). Where Kafka Streams 4.4 emits otherwise than the guide's table (left/outer
//! stream-stream results since KIP-633), the expectation is Java 4.4's, checked against
//! Java's driver by `integration-tests/tests/dsl_ttd_java_joins.rs` (the `doc_` cases).

use std::time::Duration;

use streams_core::testing::TopologyTestDriver;
use streams_dsl::serdes::StringSerde;
use streams_dsl::{JoinWindows, KStream, KTable, StreamJoined, StreamsBuilder};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;
type Val = Option<String>;

/// `[l, r]` with Java's `null`.
fn pair(l: Option<&String>, r: Option<&String>) -> String {
    let s = |v: Option<&String>| v.map_or_else(|| "null".to_owned(), Clone::clone);
    format!("[{}, {}]", s(l), s(r))
}

/// The guide's input: (timestamp in s, left value, right value); `Some(None)` is a record
/// with a null value, `None` no record on that side.
/// A side's entry at one time: no record, or a record with a value or a null value.
type Entry = Option<Option<&'static str>>;

const TIMELINE: &[(i64, Entry, Entry)] = &[
    (1, Some(None), None),
    (2, None, Some(None)),
    (3, Some(Some("A")), None),
    (4, None, Some(Some("a"))),
    (5, Some(Some("B")), None),
    (6, None, Some(Some("b"))),
    (7, Some(None), None),
    (8, None, Some(None)),
    (9, Some(Some("C")), None),
    (10, None, Some(Some("c"))),
    (11, None, Some(None)),
    (12, Some(None), None),
    (13, None, Some(None)),
    (14, None, Some(Some("d"))),
    (15, Some(Some("D")), None),
    (40, Some(Some("E")), None),
    (60, Some(Some("F")), None),
    (80, None, Some(Some("f"))),
    (100, Some(Some("G")), None),
];

/// Pipe the timeline into `left`/`right` and read `out` as (timestamp in s, value).
fn run(builder: StreamsBuilder) -> Result<Vec<(i64, String)>> {
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "joins")], 0)?;
    let mut left = driver.create_input_topic::<String, Val>("left", StringSerde, StringSerde)?;
    let mut right = driver.create_input_topic::<String, Val>("right", StringSerde, StringSerde)?;
    for &(ts, l, r) in TIMELINE {
        if let Some(v) = l {
            left.pipe_input_with_timestamp("k".to_owned(), v.map(str::to_owned), ts * 1000)?;
        }
        if let Some(v) = r {
            right.pipe_input_with_timestamp("k".to_owned(), v.map(str::to_owned), ts * 1000)?;
        }
    }
    let out = driver.create_output_topic::<String, String>("out", StringSerde, StringSerde);
    Ok(out
        .read_records_to_list()?
        .into_iter()
        .map(|r| (r.timestamp.unwrap_or(-1) / 1000, r.value))
        .collect())
}

fn expect(rows: &[(i64, &str)]) -> Vec<(i64, String)> {
    rows.iter().map(|(t, v)| (*t, (*v).to_owned())).collect()
}

/// The guide's window: 15 s, grace 5 s. The driver scans for closed windows at every record
/// (`__emit.interval.ms.kstreams.outer.join.spurious.results.fix__` is 0 in drivers, Java's
/// too).
fn windows() -> JoinWindows {
    JoinWindows::of_time_difference_and_grace(Duration::from_secs(15), Duration::from_secs(5))
}

fn joined() -> StreamJoined<String, Val, Val> {
    StreamJoined::default()
}

fn streams(b: &StreamsBuilder) -> (KStream<String, Val>, KStream<String, Val>) {
    (b.stream("left"), b.stream("right"))
}

/// The inner rows, the same for the three joins in the guide: every pair at the later
/// timestamp.
const INNER: &[(i64, &str)] = &[
    (4, "[A, a]"),
    (5, "[B, a]"),
    (6, "[A, b]"),
    (6, "[B, b]"),
    (9, "[C, a]"),
    (9, "[C, b]"),
    (10, "[A, c]"),
    (10, "[B, c]"),
    (10, "[C, c]"),
    (14, "[A, d]"),
    (14, "[B, d]"),
    (14, "[C, d]"),
    (15, "[D, a]"),
    (15, "[D, b]"),
    (15, "[D, c]"),
    (15, "[D, d]"),
];

#[test]
fn stream_stream_inner_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = streams(&b);
    l.join_with(
        &r,
        |a: &Val, b: &Val| pair(a.as_ref(), b.as_ref()),
        windows(),
        joined(),
    )
    .to("out");
    assert_eq!(run(b)?, expect(INNER));
    Ok(())
}

/// Java 4.4 (KIP-633) emits `[E, null]` only once E's window plus grace closed strictly
/// before stream time: at 80 s, not at 60 s as the guide's table shows (40 + 15 + 5 = 60 is
/// still open at 60); likewise `[F, null]` at 100 s, not 80 s, each at its own timestamp.
#[test]
fn stream_stream_left_join_emits_unmatched_records_once_their_window_closed() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = streams(&b);
    l.left_join_with(
        &r,
        |a: &Val, b: Option<&Val>| pair(a.as_ref(), b.and_then(Option::as_ref)),
        windows(),
        joined(),
    )
    .to("out");
    let mut rows = INNER.to_vec();
    rows.extend([(40, "[E, null]"), (60, "[F, null]")]);
    assert_eq!(run(b)?, expect(&rows));
    Ok(())
}

/// As the left join, and the right side's `f` too — emitted only once a later record
/// advances stream time past 80 + 15 + 5 s, which the guide's timeline never does.
#[test]
fn stream_stream_outer_join_emits_both_sides_once_their_window_closed() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = streams(&b);
    l.outer_join_with(
        &r,
        |a: Option<&Val>, b: Option<&Val>| {
            pair(a.and_then(Option::as_ref), b.and_then(Option::as_ref))
        },
        windows(),
        joined(),
    )
    .to("out");
    let mut rows = INNER.to_vec();
    rows.extend([(40, "[E, null]"), (60, "[F, null]")]);
    assert_eq!(run(b)?, expect(&rows));
    Ok(())
}

/// The guide's stream-table and table-table timeline: its first fifteen seconds.
fn first_fifteen(builder: StreamsBuilder) -> Result<Vec<(i64, String)>> {
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "joins")], 0)?;
    let mut left = driver.create_input_topic::<String, Val>("left", StringSerde, StringSerde)?;
    let mut right = driver.create_input_topic::<String, Val>("right", StringSerde, StringSerde)?;
    for &(ts, l, r) in TIMELINE.iter().filter(|(ts, _, _)| *ts <= 15) {
        if let Some(v) = l {
            left.pipe_input_with_timestamp("k".to_owned(), v.map(str::to_owned), ts * 1000)?;
        }
        if let Some(v) = r {
            right.pipe_input_with_timestamp("k".to_owned(), v.map(str::to_owned), ts * 1000)?;
        }
    }
    let out = driver.create_output_topic::<String, Val>("out", StringSerde, StringSerde);
    Ok(out
        .read_records_to_list()?
        .into_iter()
        .map(|r| {
            let v = r.value.unwrap_or_else(|| "null".to_owned());
            (r.timestamp.unwrap_or(-1) / 1000, v)
        })
        .collect())
}

/// Tables of non-null strings: a null value deletes the key.
fn tables(b: &StreamsBuilder) -> (KTable<String, String>, KTable<String, String>) {
    (b.table("left"), b.table("right"))
}

fn s(v: Option<&String>) -> Option<&String> {
    v
}

#[test]
fn stream_table_inner_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let stream = b.stream::<String, Val>("left");
    let table = b.table::<String, String>("right");
    stream
        .join_table(&table, |l: &Val, r: &String| {
            Some(pair(l.as_ref(), Some(r)))
        })
        .to("out");
    assert_eq!(first_fifteen(b)?, expect(&[(5, "[B, a]"), (15, "[D, d]")]));
    Ok(())
}

#[test]
fn stream_table_left_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let stream = b.stream::<String, Val>("left");
    let table = b.table::<String, String>("right");
    stream
        .left_join_table(&table, |l: &Val, r: Option<&String>| {
            Some(pair(l.as_ref(), r))
        })
        .to("out");
    let rows = [
        (3, "[A, null]"),
        (5, "[B, a]"),
        (9, "[C, null]"),
        (15, "[D, d]"),
    ];
    assert_eq!(first_fifteen(b)?, expect(&rows));
    Ok(())
}

#[test]
fn table_table_inner_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = tables(&b);
    l.join(&r, |a: &String, b: &String| pair(Some(a), Some(b)))
        .to_stream()
        .to("out");
    let rows = [
        (4, "[A, a]"),
        (5, "[B, a]"),
        (6, "[B, b]"),
        (7, "null"),
        (10, "[C, c]"),
        (11, "null"),
        (15, "[D, d]"),
    ];
    assert_eq!(first_fifteen(b)?, expect(&rows));
    Ok(())
}

#[test]
fn table_table_left_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = tables(&b);
    l.left_join(&r, |a: &String, b: Option<&String>| pair(Some(a), s(b)))
        .to_stream()
        .to("out");
    let rows = [
        (3, "[A, null]"),
        (4, "[A, a]"),
        (5, "[B, a]"),
        (6, "[B, b]"),
        (7, "null"),
        (9, "[C, null]"),
        (10, "[C, c]"),
        (11, "[C, null]"),
        (12, "null"),
        (15, "[D, d]"),
    ];
    assert_eq!(first_fifteen(b)?, expect(&rows));
    Ok(())
}

#[test]
fn table_table_outer_join_is_the_guide_s_table() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = tables(&b);
    l.outer_join(&r, |a: Option<&String>, b: Option<&String>| pair(a, b))
        .to_stream()
        .to("out");
    let rows = [
        (3, "[A, null]"),
        (4, "[A, a]"),
        (5, "[B, a]"),
        (6, "[B, b]"),
        (7, "[null, b]"),
        (8, "null"),
        (9, "[C, null]"),
        (10, "[C, c]"),
        (11, "[C, null]"),
        (12, "null"),
        (14, "[null, d]"),
        (15, "[D, d]"),
    ];
    assert_eq!(first_fifteen(b)?, expect(&rows));
    Ok(())
}

/// A join's inputs must be co-partitioned: the topology tells the assignor (a repartition
/// topic takes the table topic's partition count).
#[test]
fn joins_declare_their_inputs_co_partitioned() -> Result {
    let b = StreamsBuilder::new();
    let s = b
        .stream::<String, Val>("left")
        .select_key(|_, v: &Val| v.clone().unwrap_or_default());
    let t = b.table::<String, String>("right");
    s.join_table(&t, |l: &Val, r: &String| pair(l.as_ref(), Some(r)))
        .to("out");
    let (l, r) = (b.stream::<String, Val>("l2"), b.stream::<String, Val>("r2"));
    l.join(
        &r,
        |a: &Val, b: &Val| pair(a.as_ref(), b.as_ref()),
        windows(),
    )
    .to("out2");
    let topology = b.build()?;
    let group = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
    assert_eq!(
        topology.copartition_groups(),
        &[
            group("KSTREAM-KEY-SELECT-0000000001-repartition", "right"),
            group("l2", "r2"),
        ]
    );
    Ok(())
}

/// A stream-stream join's stores are logged to `<application.id>-<store>-changelog` (window
/// stores retained for size + grace + 1 day, as Kafka's windowed changelogs) unless
/// `StreamJoined` disables logging; the outer-join store is logged as well.
#[test]
fn join_stores_are_logged_as_stream_joined_says() -> Result {
    let b = StreamsBuilder::new();
    let (l, r) = streams(&b);
    l.left_join(
        &r,
        |a: &Val, b: Option<&Val>| pair(a.as_ref(), b.and_then(Option::as_ref)),
        windows(),
    )
    .to("out");
    let (l2, r2) = (b.stream::<String, Val>("l2"), b.stream::<String, Val>("r2"));
    l2.join_with(
        &r2,
        |a: &Val, b: &Val| pair(a.as_ref(), b.as_ref()),
        windows(),
        StreamJoined::as_("quiet").with_logging_disabled(),
    )
    .to("out2");
    let topology = b.build()?;
    let changelog = |s: &str| topology.changelog_topic("app", s);
    assert_eq!(
        changelog("KSTREAM-JOINTHIS-0000000004-store").as_deref(),
        Some("app-KSTREAM-JOINTHIS-0000000004-store-changelog")
    );
    assert!(changelog("KSTREAM-OUTEROTHER-0000000005-store").is_some());
    assert!(changelog("KSTREAM-OUTERSHARED-0000000004-store").is_some());
    let retention = topology.changelog_config("KSTREAM-JOINTHIS-0000000004-store");
    assert_eq!(
        retention.get("retention.ms").map(String::as_str),
        Some("86435000")
    );
    assert_eq!(changelog("quiet-this-join-store"), None);
    assert_eq!(changelog("quiet-other-join-store"), None);
    Ok(())
}
