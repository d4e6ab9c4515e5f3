//! Sliding-window aggregations (KIP-450) through the `TopologyTestDriver`: a record creates
//! its left window `[t - d, t]`, the right window of the record before it when it falls in
//! that one, and — arriving out of order — its own right window of the later records.

use std::time::Duration;

use streams_core::testing::{TestRecord, TopologyTestDriver};
use streams_dsl::serdes::{I64Serde, OptionSerde, StringSerde, TimeWindowedSerde};
use streams_dsl::{Produced, SlidingWindows, StreamsBuilder, Window, Windowed};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn w(start: i64, end: i64) -> Windowed<String> {
    Windowed::new("k".to_owned(), Window::new(start, end))
}

#[test]
fn records_create_left_and_right_windows() -> Result {
    let builder = StreamsBuilder::new();
    let windows = SlidingWindows::of_time_difference_and_grace(
        Duration::from_millis(10),
        Duration::from_millis(100),
    )?;
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by(windows)
        .count()
        .to_stream()
        .to_with(
            "out",
            Produced::with(
                TimeWindowedSerde::new(StringSerde, 10),
                OptionSerde::new(I64Serde),
            ),
        );
    let driver = TopologyTestDriver::new(builder.build()?, [("application.id", "sl")], 0)?;
    let mut input = driver.create_input_topic("in", StringSerde, StringSerde)?;
    let out = driver.create_output_topic::<Windowed<String>, Option<i64>>(
        "out",
        TimeWindowedSerde::new(StringSerde, 10),
        OptionSerde::new(I64Serde),
    );
    for ts in [20, 25, 22] {
        input.pipe_record(TestRecord::at("k".to_owned(), "v".to_owned(), ts))?;
    }
    assert_eq!(
        out.read_records_to_list()?,
        vec![
            // 20: its left window.
            TestRecord::at(w(10, 20), Some(1), 20),
            // 25: 20's right window [21, 31], then its own left window [15, 25] with 20.
            TestRecord::at(w(21, 31), Some(1), 25),
            TestRecord::at(w(15, 25), Some(2), 25),
            // 22 (out of order): the windows holding it, latest first, its left window with
            // 20, and its right window [23, 33] holding 25.
            TestRecord::at(w(21, 31), Some(2), 25),
            TestRecord::at(w(15, 25), Some(3), 25),
            TestRecord::at(w(12, 22), Some(2), 22),
            TestRecord::at(w(23, 33), Some(1), 25),
        ]
    );
    Ok(())
}
