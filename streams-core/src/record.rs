//! The record a processor sees and forwards, and where it came from.

/// A record header (a key and a nullable value), as the client reads and writes it.
pub use kafka_wire::protocol::record_batch::Header;

/// A key, a value, a timestamp and headers (Kafka Streams' `api.Record`).
///
/// Processors receive records by value and forward new ones; [`Record::with_value`] and
/// friends build the next record from this one, keeping the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Event time in ms since the epoch: what stream time advances with.
    pub timestamp: i64,
    /// The headers, carried through processors unless replaced.
    pub headers: Vec<Header>,
}

impl<K, V> Record<K, V> {
    /// A record without headers.
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Record {
            key,
            value,
            timestamp,
            headers: Vec::new(),
        }
    }

    /// The same record with another key.
    pub fn with_key<K2>(self, key: K2) -> Record<K2, V> {
        Record {
            key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> Record<K, V2> {
        Record {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(self, timestamp: i64) -> Self {
        Record { timestamp, ..self }
    }

    /// The same record with other headers.
    pub fn with_headers(self, headers: Vec<Header>) -> Self {
        Record { headers, ..self }
    }
}

/// Where the record being processed was read (Kafka's `RecordMetadata`). Absent while a
/// punctuator runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The topic it was read from (shared with the consumed record: no copy per record).
    pub topic: std::sync::Arc<str>,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
}
