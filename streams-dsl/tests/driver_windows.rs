//! Time-windowed aggregations through the `TopologyTestDriver`, as Kafka's developer guide
//! describes them: a record updates every window holding its timestamp; an out-of-order
//! record within the grace period still updates its window; one after the grace period is
//! dropped and counted in `dropped-records`. The window stores are cached (Kafka's default)
//! and the driver commits after each record, so each record's updates are forwarded once.

use std::time::Duration;

use streams_core::state::ValueAndTimestamp;
use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, StringSerde, TimeWindowedSerde};
use streams_dsl::{
    DslError, EmitStrategy, Materialized, Named, Produced, StreamsBuilder, TimeWindows, Window,
    Windowed,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn w(key: &str, start: i64, size: i64) -> Windowed<String> {
    Windowed::new(s(key), Window::of_size(start, size))
}

fn windowed_count(
    windows: TimeWindows,
    emit: EmitStrategy,
    retention: Option<Duration>,
) -> Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let mut store = Materialized::as_("counts");
    if let Some(r) = retention {
        store = store.with_retention(r);
    }
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(emit)
        .count_with(Named::empty(), store)
        .to_stream()
        .to_with(
            "out",
            Produced::with(
                TimeWindowedSerde::new(StringSerde, windows.size_ms()),
                streams_dsl::serdes::OptionSerde::new(I64Serde),
            ),
        );
    Ok(TopologyTestDriver::new(
        builder.build()?,
        [("application.id", "win")],
        0,
    )?)
}

#[test]
fn a_late_record_within_grace_updates_its_window_and_after_grace_is_dropped() -> Result {
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(5))?;
    let driver = windowed_count(windows, EmitStrategy::OnWindowUpdate, None)?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        streams_dsl::serdes::OptionSerde::new(I64Serde),
    );
    let feed = [
        (s("a"), 1),
        (s("a"), 12),
        (s("a"), 7),
        (s("a"), 16),
        (s("a"), 3),
    ];
    for (k, ts) in feed {
        input.pipe_record(TestRecord::at(k, s("v"), ts))?;
    }
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(w("a", 0, 10), Some(1), 1),
            TestRecord::at(w("a", 10, 10), Some(1), 12),
            // Stream time 12, window [0, 10) open until 15: updated, stamped with the
            // latest of its records.
            TestRecord::at(w("a", 0, 10), Some(2), 7),
            TestRecord::at(w("a", 10, 10), Some(2), 16),
        ]
    );
    // Stream time 16: [0, 10) closed at 15, the record at 3 was dropped.
    assert_eq!(driver.dropped_records(), 1);
    // The store keeps each window's count with its timestamp (Java's
    // getTimestampedWindowStore).
    let store = driver.get_window_store::<String, ValueAndTimestamp<i64>>("counts")?;
    assert_eq!(
        store.fetch(&s("a"), 0)?,
        Some(ValueAndTimestamp {
            value: 2,
            timestamp: 7
        })
    );
    assert_eq!(
        store
            .fetch_range(&s("a"), 0, 100)?
            .into_iter()
            .map(|(_, start, v)| (start, v.value))
            .collect::<Vec<_>>(),
        vec![(0, 2), (10, 2)]
    );
    // The changelog is a windowed one.
    assert_eq!(
        driver.changelog_topic("counts").as_deref(),
        Some("win-counts-changelog")
    );
    Ok(())
}

#[test]
fn hopping_windows_count_a_record_in_each_window_holding_it() -> Result {
    let windows = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?;
    let driver = windowed_count(windows, EmitStrategy::OnWindowUpdate, None)?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        streams_dsl::serdes::OptionSerde::new(I64Serde),
    );
    input.pipe_record(TestRecord::at(s("k"), s("v"), 3))?;
    input.pipe_record(TestRecord::at(s("k"), s("v"), 12))?;
    assert_eq!(
        out.read_key_values_to_list()?,
        vec![
            (w("k", 0, 10), Some(1)),
            (w("k", 5, 10), Some(1)),
            (w("k", 10, 10), Some(1)),
        ]
    );
    Ok(())
}

#[test]
fn on_window_close_emits_each_final_result_once() -> Result {
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(2))?;
    // A retention past size + grace: the closed windows are still in the store when stream
    // time jumps past several of them at once (with the minimum retention the store's own
    // expiry would have dropped [0, 10) by then, as Kafka's uncached store does).
    let driver = windowed_count(windows, EmitStrategy::OnWindowClose, Some(ms(60)))?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        streams_dsl::serdes::OptionSerde::new(I64Serde),
    );
    for (k, ts) in [("b", 1), ("a", 2), ("a", 11), ("a", 9), ("b", 25)] {
        input.pipe_record(TestRecord::at(s(k), s("v"), ts))?;
        // Kafka looks for closed windows at most once a second of wall-clock time.
        driver.advance_wall_clock_time(Duration::from_secs(1))?;
    }
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(w("a", 0, 10), Some(2), 9),
            TestRecord::at(w("b", 0, 10), Some(1), 1),
            TestRecord::at(w("a", 10, 10), Some(1), 11),
        ]
    );
    assert_eq!(driver.dropped_records(), 0);
    Ok(())
}

#[test]
fn a_retention_shorter_than_size_plus_grace_is_refused() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(ms(10), ms(5))?)
        .count_with(
            Named::empty(),
            Materialized::as_("counts").with_retention(ms(14)),
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

#[test]
fn the_window_store_changelog_is_compacted_and_deleted_a_day_after_the_retention() -> Result {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("in").group_by_key();
    grouped
        .windowed_by(TimeWindows::of_size_and_grace(ms(10_000), ms(5_000))?)
        .count_with(Named::empty(), Materialized::as_("default-retention"));
    grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10_000))?)
        .count_with(
            Named::empty(),
            Materialized::as_("long-retention").with_retention(Duration::from_secs(3600)),
        );
    let topology = builder.build()?;
    let config = |store: &str| {
        let c = topology.changelog_config(store);
        (
            c.get("cleanup.policy").cloned(),
            c.get("retention.ms").cloned(),
        )
    };
    // Kafka: retention = size + grace unless given; the changelog keeps it plus
    // windowstore.changelog.additional.retention.ms (1 day).
    assert_eq!(
        config("default-retention"),
        (
            Some(s("compact,delete")),
            Some((15_000i64 + 86_400_000).to_string())
        )
    );
    assert_eq!(
        config("long-retention"),
        (
            Some(s("compact,delete")),
            Some((3_600_000i64 + 86_400_000).to_string())
        )
    );
    Ok(())
}
