//! Versioned tables (KIP-889/KIP-914) and grace-period stream-table joins (KIP-923) through
//! our `TopologyTestDriver`: reads as of a stream record's time, out-of-order table updates,
//! buffered stream records emitted in timestamp order, the buffer's changelog, the changelog
//! configs, and the build errors. Java's output for the same programs is compared in
//! `integration-tests/tests/dsl_ttd_java_versioned.rs`.

use std::time::Duration;

use bytes::Bytes;
use streams_core::serde::BytesSerde;
use streams_core::testing::TopologyTestDriver;
use streams_dsl::error::DslError;
use streams_dsl::serdes::{OptionSerde, StringSerde};
use streams_dsl::{Consumed, Joined, KTable, Materialized, StreamsBuilder};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn versioned(b: &StreamsBuilder, history: Duration) -> KTable<String, String> {
    b.table_with(
        "table",
        Consumed::default(),
        Materialized::as_versioned("vt", history),
    )
}

/// Pipe `(topic, key, value, ts)` and read `out` as `(key, value, ts)`.
fn run(
    b: StreamsBuilder,
    feed: &[(&str, &str, Option<&str>, i64)],
) -> Result<Vec<(String, String, i64)>> {
    let driver = TopologyTestDriver::new(b.build()?, [("application.id", "app")], 0)?;
    let mut table =
        driver.create_input_topic::<String, Option<String>>("table", StringSerde, StringSerde)?;
    let mut stream =
        driver.create_input_topic::<String, String>("stream", StringSerde, StringSerde)?;
    for &(topic, k, v, ts) in feed {
        match topic {
            "table" => table.pipe_input_with_timestamp(k.to_owned(), v.map(str::to_owned), ts)?,
            _ => stream.pipe_input_with_timestamp(
                k.to_owned(),
                v.unwrap_or_default().to_owned(),
                ts,
            )?,
        }
    }
    let out = driver.create_output_topic::<String, String>("out", StringSerde, StringSerde);
    Ok(out
        .read_records_to_list()?
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp.unwrap_or(-1)))
        .collect())
}

fn rows(rows: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    rows.iter()
        .map(|(k, v, t)| ((*k).to_owned(), (*v).to_owned(), *t))
        .collect()
}

const FEED: &[(&str, &str, Option<&str>, i64)] = &[
    ("table", "k", Some("v1"), 1_000),
    ("table", "k", Some("v3"), 3_000),
    ("stream", "k", Some("s4"), 4_000),
    // Late: joins with the value valid at 2 000.
    ("stream", "k", Some("s2"), 2_000),
    // Out of order: a version between v1 and v3.
    ("table", "k", Some("v2"), 2_000),
    ("stream", "k", Some("s2b"), 2_500),
    ("stream", "k", Some("s0"), 500),
];

#[test]
fn a_stream_record_joins_the_table_value_valid_at_its_time() -> Result {
    let b = StreamsBuilder::new();
    let t = versioned(&b, Duration::from_secs(10));
    b.stream::<String, String>("stream")
        .left_join_table(&t, |s: &String, v: Option<&String>| {
            format!("{s}+{}", v.map_or("none", String::as_str))
        })
        .to("out");
    assert_eq!(
        run(b, FEED)?,
        rows(&[
            ("k", "s4+v3", 4_000),
            ("k", "s2+v1", 2_000),
            ("k", "s2b+v2", 2_500),
            ("k", "s0+none", 500),
        ])
    );
    Ok(())
}

#[test]
fn with_a_grace_period_stream_records_wait_and_leave_in_timestamp_order() -> Result {
    let b = StreamsBuilder::new();
    let t = versioned(&b, Duration::from_secs(10));
    b.stream::<String, String>("stream")
        .join_table_with(
            &t,
            |_, s: &String, v: &String| format!("{s}+{v}"),
            Joined::default().with_grace_period(Duration::from_millis(1_000)),
        )
        .to("out");
    let mut feed = FEED.to_vec();
    feed.push(("stream", "k", Some("s9"), 9_000));
    assert_eq!(
        run(b, &feed)?,
        rows(&[
            // s4 waits; s2 is more than the grace period behind stream time 4 000: joined at
            // once, with v1 (v2 comes later).
            ("k", "s2+v1", 2_000),
            // s2b too, seeing v2; s0 (500) too, before any version: nothing (inner join).
            ("k", "s2b+v2", 2_500),
            // Stream time 9 000 lets s4 go.
            ("k", "s4+v3", 4_000),
        ])
    );
    Ok(())
}

/// The out-of-order update is forwarded (marked not latest); one older than the history
/// retention is dropped.
#[test]
fn a_versioned_source_forwards_out_of_order_updates_within_its_history_only() -> Result {
    let b = StreamsBuilder::new();
    versioned(&b, Duration::from_secs(1)).to_stream().to("out");
    let feed = [
        ("table", "k", Some("a"), 5_000),
        ("table", "k", Some("b"), 4_500),
        ("table", "k", Some("c"), 3_999),
        ("table", "k", None, 6_000),
    ];
    let driver = TopologyTestDriver::new(b.build()?, [("application.id", "app")], 0)?;
    let mut table =
        driver.create_input_topic::<String, Option<String>>("table", StringSerde, StringSerde)?;
    for (_, k, v, ts) in feed {
        table.pipe_input_with_timestamp(k.to_owned(), v.map(str::to_owned), ts)?;
    }
    let out = driver.create_output_topic::<String, Option<String>>("out", StringSerde, StringSerde);
    let got: Vec<(Option<String>, i64)> = out
        .read_records_to_list()?
        .into_iter()
        .map(|r| (r.value, r.timestamp.unwrap_or(-1)))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("a".to_owned()), 5_000),
            (Some("b".to_owned()), 4_500),
            (None, 6_000),
        ]
    );
    Ok(())
}

#[test]
fn the_versioned_and_buffer_changelogs_are_kafka_s() -> Result {
    let b = StreamsBuilder::new();
    let t = versioned(&b, Duration::from_secs(10));
    b.stream::<String, String>("stream")
        .join_table_with(
            &t,
            |_, s: &String, v: &String| format!("{s}+{v}"),
            Joined::as_("lookup").with_grace_period(Duration::from_millis(1_000)),
        )
        .to("out");
    let topology = b.build()?;
    // KIP-889: compacted, kept for the history retention plus a day before compaction.
    assert_eq!(
        topology
            .changelog_config("vt")
            .get("min.compaction.lag.ms")
            .map(String::as_str),
        Some("86410000")
    );
    assert_eq!(
        topology.changelog_topic("app", "lookup-Buffer").as_deref(),
        Some("app-lookup-Buffer-changelog")
    );
    let driver = TopologyTestDriver::new(topology, [("application.id", "app")], 0)?;
    let mut stream =
        driver.create_input_topic::<String, String>("stream", StringSerde, StringSerde)?;
    stream.pipe_input_with_timestamp("k".to_owned(), "s".to_owned(), 5_000)?;
    stream.pipe_input_with_timestamp("k".to_owned(), "t".to_owned(), 6_000)?;
    let log = driver.create_output_topic::<Bytes, Option<Bytes>>(
        "app-lookup-Buffer-changelog",
        BytesSerde,
        OptionSerde::new(BytesSerde),
    );
    let records = log.read_records_to_list()?;
    // Two puts and, at stream time 6 000, the first one's eviction (a tombstone).
    assert_eq!(records.len(), 3);
    let first = &records[0];
    // `timestamp ‖ key ‖ seqnum`.
    let mut key = 5_000i64.to_be_bytes().to_vec();
    key.extend_from_slice(b"k");
    key.extend_from_slice(&1u32.to_be_bytes());
    assert_eq!(first.key.as_ref(), key.as_slice());
    let value = first.value.clone().unwrap_or_default();
    // Kafka's BufferValue: record timestamp first, the buffer time (0) last.
    assert_eq!(&value[..8], &5_000i64.to_be_bytes());
    assert_eq!(&value[value.len() - 8..], &0i64.to_be_bytes());
    assert_eq!(records[2].key, records[0].key);
    assert_eq!(records[2].value, None);
    Ok(())
}

#[test]
fn a_grace_period_needs_a_versioned_table_with_enough_history() {
    let b = StreamsBuilder::new();
    let t = b.table::<String, String>("table");
    b.stream::<String, String>("stream")
        .join_table_with(
            &t,
            |_, s: &String, v: &String| format!("{s}+{v}"),
            Joined::default().with_grace_period(Duration::from_secs(1)),
        )
        .to("out");
    assert!(matches!(
        b.build(),
        Err(DslError::GraceNeedsVersionedTable { .. })
    ));

    let b = StreamsBuilder::new();
    let t = versioned(&b, Duration::from_secs(1)).filter(|_, v: &String| !v.is_empty());
    b.stream::<String, String>("stream")
        .join_table_with(
            &t,
            |_, s: &String, v: &String| format!("{s}+{v}"),
            Joined::default().with_grace_period(Duration::from_secs(2)),
        )
        .to("out");
    assert!(matches!(
        b.build(),
        Err(DslError::GraceBeyondHistory {
            grace_ms: 2_000,
            history_ms: 1_000,
            ..
        })
    ));
}
