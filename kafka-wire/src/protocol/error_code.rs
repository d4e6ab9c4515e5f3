//! Kafka's error codes, named as in the protocol guide, with the Java client's classification.

use super::error_code_table::ERROR_TABLE;
use std::fmt;

/// A Kafka error code as carried in responses.
///
/// Every code Kafka defines has a named constant (`ErrorCode::NOT_LEADER_OR_FOLLOWER`, …),
/// generated from the `Errors` enum of the Kafka version we build against, so constants can be
/// used in `match` patterns. Codes a newer broker invents are kept and shown as unknown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub i16);

impl ErrorCode {
    fn entry(self) -> Option<&'static (i16, &'static str, bool, bool, &'static str)> {
        ERROR_TABLE.iter().find(|e| e.0 == self.0)
    }

    /// `true` for code 0 (`NONE`).
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Kafka's name for the code, e.g. `NOT_LEADER_OR_FOLLOWER`; `UNKNOWN` if not in the table.
    pub fn name(self) -> &'static str {
        self.entry().map_or("UNKNOWN", |e| e.1)
    }

    /// Whether the request may succeed if retried (the Java client's `RetriableException`).
    pub fn is_retriable(self) -> bool {
        self.entry().is_some_and(|e| e.2)
    }

    /// Whether the client's cached metadata is stale and must be refreshed before a retry
    /// (the Java client's `InvalidMetadataException`), e.g. after a leader moved.
    pub fn invalidates_metadata(self) -> bool {
        self.entry().is_some_and(|e| e.3)
    }

    /// Kafka's description of the error.
    pub fn description(self) -> &'static str {
        self.entry().map_or("unknown error code", |e| e.4)
    }

    /// `Ok(())` for `NONE`, the code otherwise.
    pub fn into_result(self) -> Result<(), ErrorCode> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<i16> for ErrorCode {
    fn from(code: i16) -> Self {
        ErrorCode(code)
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = if self.is_retriable() {
            "retriable"
        } else {
            "not retriable"
        };
        write!(
            f,
            "{} (code {}, {class}): {}",
            self.name(),
            self.0,
            self.description()
        )
    }
}

impl std::error::Error for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_matches_the_java_client() {
        assert!(ErrorCode::NOT_LEADER_OR_FOLLOWER.is_retriable());
        assert!(ErrorCode::NOT_LEADER_OR_FOLLOWER.invalidates_metadata());
        assert!(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.invalidates_metadata());
        assert!(!ErrorCode::TOPIC_AUTHORIZATION_FAILED.is_retriable());
        assert!(!ErrorCode::PRODUCER_FENCED.is_retriable());
        assert_eq!(ErrorCode(6).name(), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(ErrorCode(9999).name(), "UNKNOWN");
        assert!(ErrorCode::NONE.into_result().is_ok());
    }
}
