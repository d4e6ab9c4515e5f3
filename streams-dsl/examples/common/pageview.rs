//! What the two page-view demos share: Kafka's `JsonTimestampExtractor` (a record's time is
//! the `timestamp` field of its JSON value) and the windows they count in.

use std::time::Duration;

use streams_core::error::BoxError;
use streams_core::timestamp::TimestampExtractor;
use streams_dsl::{TimeWindows, WindowsError};

/// The page-view demos' input topics.
pub const PAGE_VIEWS: &str = "streams-pageview-input";
/// The user profiles, read as a table.
pub const USER_PROFILES: &str = "streams-userprofile-input";

/// Kafka's `JsonTimestampExtractor`: the `timestamp` field of the JSON value; a value
/// without one stops the application, as Java's extractor throws.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonTimestampExtractor;

impl TimestampExtractor for JsonTimestampExtractor {
    fn extract(
        &self,
        record: &kafka_wire::consumer::ConsumerRecord,
        _partition_time: i64,
    ) -> Result<i64, BoxError> {
        let value = record
            .value
            .as_deref()
            .ok_or("JsonTimestampExtractor: a null value")?;
        let json: serde_json::Value = serde_json::from_slice(value)?;
        json.get("timestamp")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| {
                format!(
                    "JsonTimestampExtractor cannot recognize the record value {}",
                    String::from_utf8_lossy(value)
                )
                .into()
            })
    }
}

/// Kafka's page-view windows: 7 days advancing by 1 second (604 800 windows per record),
/// 24 hours of grace.
pub fn windows() -> Result<TimeWindows, WindowsError> {
    TimeWindows::of_size_and_grace(
        Duration::from_secs(7 * 24 * 60 * 60),
        Duration::from_secs(24 * 60 * 60),
    )?
    .advance_by(Duration::from_secs(1))
}
