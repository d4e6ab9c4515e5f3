//! Windowed cogroups through the `TopologyTestDriver`: two grouped streams aggregated per
//! key and window (time, sliding) or session into one windowed table, each with its own
//! aggregator and its own stream time (a record late for its stream is dropped though the
//! other stream's records are on time), Kafka's node and store names, the store's retention
//! checked. Record-for-record comparisons with Java's driver are in
//! `integration-tests/tests/dsl_ttd_java_cogroup_windows.rs`.

use std::time::Duration;

use streams_core::state::ValueAndTimestamp;
use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{OptionSerde, SessionWindowedSerde, StringSerde, TimeWindowedSerde};
use streams_dsl::{
    CogroupedKStream, DslError, Materialized, Named, Produced, SessionWindows, SlidingWindows,
    StreamsBuilder, TimeWindows, Window, Windowed,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn w(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(s(key), Window::new(start, end))
}

/// Streams `a` and `b` cogrouped: `a`'s values appended as `+v`, `b`'s as `-v`.
fn cogroup(builder: &StreamsBuilder) -> CogroupedKStream<String, String> {
    let a = builder.stream::<String, String>("a").group_by_key();
    let b = builder.stream::<String, String>("b").group_by_key();
    a.cogroup(|_, v, agg: String| format!("{agg}+{v}"))
        .cogroup(&b, |_, v, agg| format!("{agg}-{v}"))
}

fn time_out() -> Produced<Windowed<String>, Option<String>> {
    Produced::with(
        TimeWindowedSerde::new(StringSerde, 10),
        OptionSerde::new(StringSerde),
    )
}

/// A driver without a record cache (every update forwarded at once).
fn driver(builder: StreamsBuilder, app: &str) -> Result<TopologyTestDriver> {
    Ok(TopologyTestDriver::new(
        builder.build()?,
        [("application.id", app), ("statestore.cache.max.bytes", "0")],
        0,
    )?)
}

/// Tumbling windows of 10 ms with 5 ms grace: both streams update one window per key; a
/// record of `a` behind `a`'s stream time by more than the grace is dropped while `b`, whose
/// stream time is behind, still updates that window (the store retains it long enough: with
/// the default retention, size plus grace, the shared store would have expired it already).
#[test]
fn tumbling_windows_aggregate_both_streams_each_with_its_own_stream_time() -> Result {
    let builder = StreamsBuilder::new();
    cogroup(&builder)
        .windowed_by(TimeWindows::of_size_and_grace(ms(10), ms(5))?)
        .aggregate_with(
            || s("<"),
            Named::empty(),
            Materialized::default().with_retention(ms(100)),
        )
        .to_stream()
        .to_with("out", time_out());
    let driver = driver(builder, "cgt")?;
    let mut a = driver.create_input_topic::<String, String>("a", StringSerde, StringSerde)?;
    let mut b = driver.create_input_topic::<String, String>("b", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<String>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        OptionSerde::new(StringSerde),
    );
    a.pipe_input_with_timestamp(s("k"), s("1"), 1)?;
    b.pipe_input_with_timestamp(s("k"), s("2"), 2)?;
    a.pipe_input_with_timestamp(s("k"), s("3"), 21)?;
    // Late for `a` (its window [0, 10) closed at 15), on time for `b` (stream time 2).
    a.pipe_input_with_timestamp(s("k"), s("4"), 4)?;
    b.pipe_input_with_timestamp(s("k"), s("5"), 5)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(w("k", 0, 10), Some(s("<+1")), 1),
            TestRecord::at(w("k", 0, 10), Some(s("<+1-2")), 2),
            TestRecord::at(w("k", 20, 30), Some(s("<+3")), 21),
            TestRecord::at(w("k", 0, 10), Some(s("<+1-2-5")), 5),
        ]
    );
    assert_eq!(driver.dropped_records(), 1);
    Ok(())
}

/// Sliding windows (10 ms difference): each record of either stream makes its windows as a
/// single sliding aggregation does, in one store.
#[test]
fn sliding_windows_cogroup_into_one_store() -> Result {
    let builder = StreamsBuilder::new();
    cogroup(&builder)
        .windowed_by(SlidingWindows::of_time_difference_and_grace(
            ms(10),
            ms(50),
        )?)
        .aggregate_with(
            || s("<"),
            Named::empty(),
            Materialized::as_("sliding-cogroup"),
        )
        .to_stream()
        .to_with("out", time_out());
    let driver = driver(builder, "cgs")?;
    let mut a = driver.create_input_topic::<String, String>("a", StringSerde, StringSerde)?;
    let mut b = driver.create_input_topic::<String, String>("b", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<String>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        OptionSerde::new(StringSerde),
    );
    a.pipe_input_with_timestamp(s("k"), s("1"), 20)?;
    b.pipe_input_with_timestamp(s("k"), s("2"), 25)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(w("k", 10, 20), Some(s("<+1")), 20),
            // The window after `a`'s record ([21, 31)) holds `b`'s only; the one ending at
            // `b`'s record holds both.
            TestRecord::at(w("k", 21, 31), Some(s("<-2")), 25),
            TestRecord::at(w("k", 15, 25), Some(s("<+1-2")), 25),
        ]
    );
    let store = driver.get_window_store::<String, ValueAndTimestamp<String>>("sliding-cogroup")?;
    assert_eq!(store.fetch(&s("k"), 15)?.map(|v| v.value), Some(s("<+1-2")));
    Ok(())
}

/// Sessions (5 ms gap): a record of `b` between a session of `a` and one of `b` merges them
/// with the merger; the merged-away sessions are forwarded as tombstones first.
#[test]
fn a_record_of_one_stream_merges_sessions_of_both() -> Result {
    let builder = StreamsBuilder::new();
    cogroup(&builder)
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(ms(5), ms(100))?)
        .aggregate_with(
            || s("<"),
            |_, x, y| format!("{x}|{y}"),
            Named::as_("sess"),
            Materialized::as_("sessions"),
        )
        .to_stream()
        .to_with(
            "out",
            Produced::with(
                SessionWindowedSerde::new(StringSerde),
                OptionSerde::new(StringSerde),
            ),
        );
    let topology = builder.build()?;
    let described = topology.describe().to_string();
    for node in [
        "sess-cogroup-agg-0",
        "sess-cogroup-agg-1",
        "sess-cogroup-merge",
    ] {
        assert!(described.contains(node), "{node} missing in\n{described}");
    }
    let driver = TopologyTestDriver::new(topology, [("application.id", "cgss")], 0)?;
    let mut a = driver.create_input_topic::<String, String>("a", StringSerde, StringSerde)?;
    let mut b = driver.create_input_topic::<String, String>("b", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<String>>(
        "out",
        SessionWindowedSerde::new(StringSerde),
        OptionSerde::new(StringSerde),
    );
    a.pipe_input_with_timestamp(s("k"), s("1"), 0)?;
    b.pipe_input_with_timestamp(s("k"), s("2"), 10)?;
    b.pipe_input_with_timestamp(s("k"), s("3"), 5)?;
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(w("k", 0, 0), Some(s("<+1")), 0),
            TestRecord::at(w("k", 10, 10), Some(s("<-2")), 10),
            TestRecord::at(w("k", 0, 0), None, 0),
            TestRecord::at(w("k", 10, 10), None, 10),
            TestRecord::at(w("k", 0, 10), Some(s("<|<+1|<-2-3")), 10),
        ]
    );
    Ok(())
}

/// Kafka's names: the store drawn first, one aggregation per stream reading it, then the
/// merge node; a retention shorter than the window and its grace is refused.
#[test]
fn windowed_cogroup_names_and_retention_are_kafkas() -> Result {
    let builder = StreamsBuilder::new();
    cogroup(&builder)
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .aggregate(|| s("<"))
        .to_stream()
        .to_with("out", time_out());
    let described = builder.build()?.describe().to_string();
    for line in [
        "Processor: COGROUPKSTREAM-AGGREGATE-0000000003 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
        "Processor: COGROUPKSTREAM-AGGREGATE-0000000004 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002])",
        "Processor: COGROUPKSTREAM-MERGE-0000000005 (stores: [])",
    ] {
        assert!(described.contains(line), "{line} missing in\n{described}");
    }

    let builder = StreamsBuilder::new();
    cogroup(&builder)
        .windowed_by(TimeWindows::of_size_and_grace(ms(10), ms(5))?)
        .aggregate_with(
            || s("<"),
            Named::empty(),
            Materialized::as_("short").with_retention(ms(14)),
        );
    match builder.build() {
        Err(DslError::RetentionTooShort {
            retention_ms: 14,
            size_ms: 10,
            grace_ms: 5,
            ..
        }) => Ok(()),
        other => Err(format!("expected RetentionTooShort, got {other:?}").into()),
    }
}
