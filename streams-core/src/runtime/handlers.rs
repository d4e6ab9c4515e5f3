//! What happens to a record that cannot be deserialized, processed or produced (Kafka
//! Streams' `default.deserialization.exception.handler`, `processing.exception.handler` and
//! `default.production.exception.handler`), with KIP-1034's dead-letter topic for all three
//! (`errors.dead.letter.queue.topic.name`): the failed record is sent there, with headers
//! saying what failed and where, and processing continues or fails as the handler says.

use bytes::Bytes;
use kafka_wire::consumer::ConsumerRecord;
use kafka_wire::protocol::record_batch::Header;

use crate::processor::OutgoingRecord;

/// Whether a failed record stops the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorHandling {
    /// Log the failure and stop the stream thread (Kafka's `LogAndFail…Handler`; the default).
    #[default]
    LogAndFail,
    /// Log the failure, count the record as dropped and go on (`LogAndContinue…Handler`).
    LogAndContinue,
}

impl ErrorHandling {
    /// From a Kafka Streams handler class name or our short names.
    pub fn parse(value: &str) -> Option<Self> {
        let simple = value.rsplit('.').next().unwrap_or(value);
        match simple {
            "LogAndFailExceptionHandler"
            | "LogAndFailProcessingExceptionHandler"
            | "DefaultProductionExceptionHandler"
            | "log_and_fail"
            | "fail" => Some(ErrorHandling::LogAndFail),
            "LogAndContinueExceptionHandler"
            | "LogAndContinueProcessingExceptionHandler"
            | "log_and_continue"
            | "continue" => Some(ErrorHandling::LogAndContinue),
            _ => None,
        }
    }
}

/// The dead-letter record for `raw`, which failed with `error` (KIP-1034's headers).
pub(crate) fn dead_letter(
    topic: &str,
    raw: &ConsumerRecord,
    kind: &str,
    error: &str,
) -> OutgoingRecord {
    let mut headers = raw.headers.clone();
    let h = |k: &str, v: String| Header {
        key: Bytes::copy_from_slice(k.as_bytes()),
        value: Some(Bytes::from(v)),
    };
    headers.push(h("__streams.errors.exception", kind.to_owned()));
    headers.push(h("__streams.errors.message", error.to_owned()));
    headers.push(h("__streams.errors.topic", raw.topic.to_string()));
    headers.push(h("__streams.errors.partition", raw.partition.to_string()));
    headers.push(h("__streams.errors.offset", raw.offset.to_string()));
    OutgoingRecord {
        topic: topic.to_owned(),
        partition: None,
        key: raw.key.clone(),
        value: raw.value.clone(),
        timestamp: raw.timestamp,
        headers,
    }
}

/// The dead-letter record for an output record the producer could not write (`error`).
pub(crate) fn dead_letter_output(
    topic: &str,
    record: OutgoingRecord,
    error: &str,
) -> kafka_wire::producer::ProducerRecord {
    let mut headers = record.headers;
    let h = |k: &str, v: String| Header {
        key: Bytes::copy_from_slice(k.as_bytes()),
        value: Some(Bytes::from(v)),
    };
    headers.push(h(
        "__streams.errors.exception",
        "ProductionError".to_owned(),
    ));
    headers.push(h("__streams.errors.message", error.to_owned()));
    headers.push(h("__streams.errors.topic", record.topic));
    headers.push(h(
        "__streams.errors.partition",
        record.partition.map_or("-1".to_owned(), |p| p.to_string()),
    ));
    kafka_wire::producer::ProducerRecord {
        topic: topic.to_owned(),
        partition: None,
        key: record.key,
        value: record.value,
        headers,
        timestamp: Some(record.timestamp),
    }
}
