//! Session-windowed aggregations through the `TopologyTestDriver`: a record bridging two
//! sessions merges them (the merged-away sessions forwarded as tombstones, then the merged
//! one, stamped with its end), a record whose session closed is dropped and counted, and
//! emit-on-window-close forwards each session once, when it closes.

use std::time::Duration;

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, OptionSerde, SessionWindowedSerde, StringSerde};
use streams_dsl::{
    EmitStrategy, Materialized, Named, Produced, SessionWindows, StreamsBuilder, Window, Windowed,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn s(v: &str) -> String {
    v.to_owned()
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn session(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(s(key), Window::new(start, end))
}

fn session_count(emit: EmitStrategy, retention: Option<Duration>) -> Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let mut store = Materialized::as_("sessions");
    if let Some(r) = retention {
        store = store.with_retention(r);
    }
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(ms(5), ms(3))?)
        .emit_strategy(emit)
        .count_with(Named::empty(), store)
        .to_stream()
        .to_with(
            "out",
            Produced::with(
                SessionWindowedSerde::new(StringSerde),
                OptionSerde::new(I64Serde),
            ),
        );
    Ok(TopologyTestDriver::new(
        builder.build()?,
        [("application.id", "sess")],
        0,
    )?)
}

#[test]
fn a_record_between_two_sessions_merges_them() -> Result {
    // A retention past gap + grace keeps [0, 0] in the store when stream time is 10 (with
    // the default, 8 ms, it would have expired, as in Kafka).
    let driver = session_count(EmitStrategy::OnWindowUpdate, Some(ms(60)))?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        SessionWindowedSerde::new(StringSerde),
        OptionSerde::new(I64Serde),
    );
    // Sessions [0, 0] and [10, 10]; 5 bridges them (each within the 5 ms gap); 30 moves
    // stream time on so that 2 (merged into [0, 10], closed at 30 - 3 - 5 = 22) is dropped.
    for ts in [0, 10, 5, 30, 2] {
        input.pipe_record(TestRecord::at(s("k"), s("v"), ts))?;
    }
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(session("k", 0, 0), Some(1), 0),
            TestRecord::at(session("k", 10, 10), Some(1), 10),
            TestRecord::at(session("k", 0, 0), None, 0),
            TestRecord::at(session("k", 10, 10), None, 10),
            TestRecord::at(session("k", 0, 10), Some(3), 10),
            TestRecord::at(session("k", 30, 30), Some(1), 30),
        ]
    );
    assert_eq!(driver.dropped_records(), 1);
    let store = driver.get_session_store::<String, i64>("sessions")?;
    assert_eq!(
        store.fetch(&s("k"))?,
        vec![(s("k"), 0, 10, 3), (s("k"), 30, 30, 1)]
    );
    assert_eq!(
        driver.changelog_topic("sessions").as_deref(),
        Some("sess-sessions-changelog")
    );
    Ok(())
}

#[test]
fn on_window_close_forwards_each_session_once_it_closed() -> Result {
    // With the default retention (gap + grace) a session expires from the store as it
    // closes, and Kafka emits nothing; a longer retention keeps it to be emitted.
    let driver = session_count(EmitStrategy::OnWindowClose, Some(ms(60)))?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        SessionWindowedSerde::new(StringSerde),
        OptionSerde::new(I64Serde),
    );
    for (k, ts) in [("a", 0), ("b", 1), ("a", 4), ("a", 20), ("b", 40)] {
        input.pipe_record(TestRecord::at(s(k), s("v"), ts))?;
        driver.advance_wall_clock_time(Duration::from_secs(1))?;
    }
    // At 20 (close time 12) [a 0..4] and [b 1..1] closed; at 40 (close 32) [a 20..20].
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            TestRecord::at(session("b", 1, 1), Some(1), 1),
            TestRecord::at(session("a", 0, 4), Some(2), 4),
            TestRecord::at(session("a", 20, 20), Some(1), 20),
        ]
    );
    Ok(())
}
