//! Kafka's `TemperatureDemo` (kafka-streams-examples 4.3.1) in the DSL, with the same
//! application id, topics, serdes and output records:
//!
//! ```text
//! cargo run -p streams-dsl --example temperature -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```
//!
//! Reads temperatures (integers as text, no key) from `iot-temperature`, keys them all
//! `"temp"`, keeps the maximum per 5-second tumbling window (24 hours of grace), and writes the
//! windows whose maximum is above 20 to `iot-temperature-max`, keyed by the window as Kafka's
//! `WindowedSerdes.timeWindowedSerdeFrom(String.class, 5)` writes it (`"temp"` then the
//! window start, 8 bytes big-endian). Like the Java demo it turns the record cache off
//! (`statestore.cache.max.bytes=0`), so every new maximum is written. Application id
//! `streams-temperature`.
//!
//! Java's `Integer.parseInt` stops the application on a value that is not an integer; here
//! such a value is never a window's maximum and never passes the threshold, and is logged.

mod common;

use std::time::Duration;

use streams_core::serde::StringSerde;
use streams_dsl::serdes::TimeWindowedSerde;
use streams_dsl::{Produced, StreamsBuilder, TimeWindows, Windowed};

/// `TEMPERATURE_THRESHOLD`.
const THRESHOLD: i32 = 20;
/// `TEMPERATURE_WINDOW_SIZE`, seconds.
const WINDOW_SECONDS: u64 = 5;

fn main() {
    if let Err(e) = run() {
        eprintln!("temperature: {e}");
        std::process::exit(1);
    }
}

/// The value as Java's `Integer.parseInt` reads it, if it does.
fn parse(value: &str) -> Option<i32> {
    let v = value.parse().ok();
    if v.is_none() {
        eprintln!("temperature: {value:?} is not an integer; it cannot be a maximum");
    }
    v
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("temperature")?;
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(
        Duration::from_secs(WINDOW_SECONDS),
        Duration::from_secs(24 * 60 * 60),
    )?;
    builder
        .stream::<Option<String>, String>("iot-temperature")
        // The temperatures come without a key: one key for all of them.
        .select_key(|_, _| "temp".to_owned())
        .group_by_key()
        .windowed_by(windows)
        .reduce(|a: String, b: String| match (parse(&a), parse(&b)) {
            (Some(x), Some(y)) if x > y => a,
            (Some(_), None) => a,
            _ => b,
        })
        .to_stream()
        .filter(|_, max: &Option<String>| {
            max.as_deref()
                .and_then(|v| v.parse::<i32>().ok())
                .is_some_and(|v| v > THRESHOLD)
        })
        .map_values(|max: Option<String>| max.unwrap_or_default())
        .to_with(
            "iot-temperature-max",
            // Java gives the serde a window size of 5 (ms, not s): the key bytes do not
            // carry the end, so it only matters to a reader of the topic.
            Produced::<Windowed<String>, String>::with(
                TimeWindowedSerde::new(StringSerde, WINDOW_SECONDS as i64),
                StringSerde,
            ),
        );
    let topology = builder.build()?;
    let config = common::config(
        "streams-temperature",
        &args,
        &[("statestore.cache.max.bytes", "0")],
    )?;
    common::run_until_signal(topology, config)
}
