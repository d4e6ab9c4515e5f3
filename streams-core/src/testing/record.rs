//! [`TestRecord`]: a record piped into or read from a test topic (Java's `TestRecord`).

use kafka_wire::protocol::record_batch::Header;

/// A key, a value, headers and a timestamp. Piped in without a timestamp, a record takes its
/// input topic's current time; read from an output topic, it always has one.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRecord<K, V> {
    /// The key (`Option<_>` types carry Kafka's null).
    pub key: K,
    /// The value.
    pub value: V,
    /// The timestamp in ms, if set.
    pub timestamp: Option<i64>,
    /// The headers.
    pub headers: Vec<Header>,
}

impl<K, V> TestRecord<K, V> {
    /// A record without timestamp and headers.
    pub fn new(key: K, value: V) -> Self {
        TestRecord {
            key,
            value,
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// A record stamped `timestamp` (ms), without headers: what an output topic returns.
    pub fn at(key: K, value: V, timestamp: i64) -> Self {
        TestRecord::new(key, value).with_timestamp(timestamp)
    }

    /// The same record stamped `timestamp` (ms).
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// The same record with `headers`.
    pub fn with_headers(mut self, headers: Vec<Header>) -> Self {
        self.headers = headers;
        self
    }
}
