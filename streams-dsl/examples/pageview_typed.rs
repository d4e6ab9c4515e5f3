//! Kafka's `PageViewTypedDemo` (kafka-streams-examples 4.3.1) in the DSL, with the same
//! application id, topics, serdes and output bytes:
//!
//! ```text
//! cargo run -p streams-dsl --example pageview_typed -- BOOTSTRAP [at_least_once|exactly_once_v2]
//! ```
//!
//! Page views (`streams-pageview-input`, String user → JSON `PageView`) are left-joined with
//! the user profiles (`streams-userprofile-input`, a table of JSON `UserProfile`) for the
//! user's region (`"UNKNOWN"` without a profile), re-keyed by region and counted per region
//! in Kafka's 7-day windows advancing by 1 second (24 hours of grace): each view updates
//! 604 800 windows. Every updated count goes to `streams-pageviewstats-typed-output` as JSON
//! `WindowedPageViewByRegion` → `RegionCount`. The JSON is Jackson's, as the demo's
//! `JSONSerde` writes it: the type property `_t` first (`pv`, `up`, `pvbr`, `wpvbr`, `rc`),
//! then the fields in declaration order, nulls written. Record times come from the values'
//! `timestamp` field (Kafka's `JsonTimestampExtractor`). Cache off, commits every second, as
//! the demo sets. Application id `streams-pageview-typed`.

mod common;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use streams_core::serde::StringSerde;
use streams_dsl::serdes::JsonSerde;
use streams_dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder, Windowed};

use common::pageview::{windows, JsonTimestampExtractor, PAGE_VIEWS, USER_PROFILES};

/// The demo's `JSONSerdeCompatible` types, told apart by `_t` (Jackson's `@JsonTypeInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "_t")]
enum Json {
    #[serde(rename = "pv")]
    PageView {
        user: Option<String>,
        page: Option<String>,
        timestamp: Option<i64>,
    },
    #[serde(rename = "up")]
    UserProfile {
        region: Option<String>,
        timestamp: Option<i64>,
    },
    #[serde(rename = "pvbr")]
    PageViewByRegion {
        user: Option<String>,
        page: Option<String>,
        region: Option<String>,
    },
    #[serde(rename = "wpvbr")]
    WindowedPageViewByRegion {
        #[serde(rename = "windowStart")]
        window_start: i64,
        region: Option<String>,
    },
    #[serde(rename = "rc")]
    RegionCount { count: i64, region: Option<String> },
}

fn main() {
    if let Err(e) = run() {
        eprintln!("pageview_typed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::parse_args("pageview_typed")?;
    let builder = StreamsBuilder::new();
    let views = builder
        .stream_with::<String, Json>(&[PAGE_VIEWS], Consumed::with(StringSerde, JsonSerde::new()));
    let users = builder.table_with::<String, Json>(
        USER_PROFILES,
        Consumed::with(StringSerde, JsonSerde::new()),
        Materialized::default(),
    );
    views
        .left_join_table(&users, |view: &Json, profile: Option<&Json>| {
            let (user, page) = match view {
                Json::PageView { user, page, .. } => (user.clone(), page.clone()),
                _ => (None, None),
            };
            let region = match profile {
                Some(Json::UserProfile { region, .. }) => region.clone(),
                _ => Some("UNKNOWN".to_owned()),
            };
            Json::PageViewByRegion { user, page, region }
        })
        .map(|_, by_region: Json| {
            let region = match &by_region {
                Json::PageViewByRegion { region, .. } => region.clone(),
                _ => None,
            };
            (region, by_region)
        })
        .group_by_key_with(Grouped::with(
            streams_dsl::serdes::OptionSerde::new(StringSerde),
            JsonSerde::new(),
        ))
        .windowed_by(windows()?)
        .count()
        .to_stream()
        .map(|key: Windowed<Option<String>>, count: Option<i64>| {
            let wkey = Json::WindowedPageViewByRegion {
                window_start: key.window.start,
                region: key.key.clone(),
            };
            let value = Json::RegionCount {
                count: count.unwrap_or_default(),
                region: key.key,
            };
            (wkey, value)
        })
        .to_with(
            "streams-pageviewstats-typed-output",
            Produced::with(JsonSerde::<Json>::new(), JsonSerde::<Json>::new()),
        );
    let topology = builder.build()?;
    let mut config = common::config(
        "streams-pageview-typed",
        &args,
        &[
            ("statestore.cache.max.bytes", "0"),
            ("commit.interval.ms", "1000"),
        ],
    )?;
    config.timestamp_extractor = Arc::new(JsonTimestampExtractor);
    common::run_until_signal(topology, config)
}
