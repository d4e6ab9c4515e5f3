//! Kafka's `PageViewUntypedDemo` (kafka-streams-examples 4.3.1) in the DSL, with the same
//! application id, topics, serdes and output bytes:
//!
//! ```text
//! cargo run -p streams-dsl --example pageview_untyped -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```
//!
//! The typed demo's topology (see `pageview_typed.rs`) on untyped JSON (Jackson's `JsonNode`
//! with `connect-json`'s serdes; here `serde_json::Value`): the profiles' table is mapped to
//! the region's text first, the joined view is `{"user","page","region"}`, and the output is
//! `{"window-start":…,"region":…}` → `{"count":…}` to `streams-pageviewstats-untyped-output`,
//! in Jackson's `ObjectNode` field order. Application id `streams-pageview-untyped`.

mod common;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use streams_core::serde::StringSerde;
use streams_dsl::serdes::{JsonSerde, OptionSerde};
use streams_dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder, Windowed};

use common::pageview::{windows, JsonTimestampExtractor, PAGE_VIEWS, USER_PROFILES};

/// A view with its region (the joiner's `ObjectNode`, fields in the order Java puts them).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct ViewRegion {
    user: Option<String>,
    page: Option<String>,
    region: Option<String>,
}

/// The output key (`keyNode`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct WindowKey {
    #[serde(rename = "window-start")]
    window_start: i64,
    region: Option<String>,
}

/// The output value (`valueNode`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct CountValue {
    count: i64,
}

/// `node.get(field).textValue()`: the text of a string field, else `None`.
fn text(node: &Value, field: &str) -> Option<String> {
    node.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("pageview_untyped: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("pageview_untyped")?;
    let builder = StreamsBuilder::new();
    let views = builder
        .stream_with::<String, Value>(&[PAGE_VIEWS], Consumed::with(StringSerde, JsonSerde::new()));
    let users = builder.table_with::<String, Value>(
        USER_PROFILES,
        Consumed::with(StringSerde, JsonSerde::new()),
        Materialized::default(),
    );
    let user_regions = users.map_values(|profile: Value| text(&profile, "region"));
    views
        .left_join_table(
            &user_regions,
            |view: &Value, region: Option<&Option<String>>| ViewRegion {
                user: text(view, "user"),
                page: text(view, "page"),
                region: Some(
                    region
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "UNKNOWN".to_owned()),
                ),
            },
        )
        .map(|_, view: ViewRegion| (view.region.clone(), view))
        .group_by_key_with(Grouped::with(
            OptionSerde::new(StringSerde),
            JsonSerde::new(),
        ))
        .windowed_by(windows()?)
        .count()
        .to_stream()
        .map(|key: Windowed<Option<String>>, count: Option<i64>| {
            (
                WindowKey {
                    window_start: key.window.start,
                    region: key.key,
                },
                CountValue {
                    count: count.unwrap_or_default(),
                },
            )
        })
        .to_with(
            "streams-pageviewstats-untyped-output",
            Produced::with(
                JsonSerde::<WindowKey>::new(),
                JsonSerde::<CountValue>::new(),
            ),
        );
    let topology = builder.build()?;
    let mut config = common::config(
        "streams-pageview-untyped",
        &args,
        &[("statestore.cache.max.bytes", "0")],
    )?;
    config.timestamp_extractor = Arc::new(JsonTimestampExtractor);
    common::run_until_signal(topology, config)
}
