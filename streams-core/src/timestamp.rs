//! Timestamp extractors: the event time of a consumed record (Kafka's `TimestampExtractor`).
//!
//! A negative extracted timestamp means the record cannot be placed in time: Kafka Streams
//! drops it with a warning and counts it in `dropped-records` (the task does the same). The
//! default, [`FailOnInvalidTimestamp`], returns an error instead, as Kafka's default does.

use kafka_wire::consumer::ConsumerRecord;

use crate::error::BoxError;

/// Extracts a record's event time; `partition_time` is the highest timestamp seen on its
/// partition so far (-1 before the first).
pub trait TimestampExtractor: Send + Sync + 'static {
    /// The record's timestamp, negative to drop it, or an error to fail the task.
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, BoxError>;
}

/// The record's own timestamp (CreateTime or LogAppendTime); a negative one fails the task
/// (Kafka's default `FailOnInvalidTimestamp`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FailOnInvalidTimestamp;

impl TimestampExtractor for FailOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, _partition_time: i64) -> Result<i64, BoxError> {
        if record.timestamp < 0 {
            return Err(format!(
                "record at {}-{}@{} has invalid (negative) timestamp {}; set default.timestamp.extractor to LogAndSkipOnInvalidTimestamp or UsePartitionTimeOnInvalidTimestamp to accept such records",
                record.topic, record.partition, record.offset, record.timestamp
            )
            .into());
        }
        Ok(record.timestamp)
    }
}

/// The record's own timestamp; a negative one drops the record with a warning.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAndSkipOnInvalidTimestamp;

impl TimestampExtractor for LogAndSkipOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, _partition_time: i64) -> Result<i64, BoxError> {
        Ok(record.timestamp)
    }
}

/// The record's own timestamp; a negative one is replaced by the partition time (or fails
/// before the partition has one).
#[derive(Debug, Clone, Copy, Default)]
pub struct UsePartitionTimeOnInvalidTimestamp;

impl TimestampExtractor for UsePartitionTimeOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, BoxError> {
        if record.timestamp >= 0 {
            return Ok(record.timestamp);
        }
        if partition_time < 0 {
            return Err(format!(
                "record at {}-{}@{} has invalid timestamp {} and its partition has no time yet",
                record.topic, record.partition, record.offset, record.timestamp
            )
            .into());
        }
        Ok(partition_time)
    }
}

/// The wall-clock time when the record is processed (Kafka's `WallclockTimestampExtractor`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WallclockTimestampExtractor;

impl TimestampExtractor for WallclockTimestampExtractor {
    fn extract(&self, _record: &ConsumerRecord, _partition_time: i64) -> Result<i64, BoxError> {
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0))
    }
}
