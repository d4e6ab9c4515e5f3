//! The error codes members and the leader exchange in the assignor's user data (Kafka's
//! `AssignorError`).

use std::fmt;

/// An error the leader (in an [`super::AssignmentInfo`]) or a member (in a
/// [`super::SubscriptionInfo`]) reports to the others. Codes and meanings are Kafka Streams'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AssignmentErrorCode {
    /// No error.
    #[default]
    None,
    /// A source topic of the topology does not exist (or its metadata is unknown): every
    /// member shuts down rather than process part of its input.
    IncompleteSourceTopicMetadata,
    /// Version probing: the leader could not read a newer subscription (not used yet).
    VersionProbing,
    /// The leader could not compute an assignment (e.g. source topics that must be
    /// co-partitioned are not); its log says why.
    AssignmentError,
    /// A member asks the whole application to shut down.
    ShutdownRequested,
    /// A code this release does not know (sent by a newer one).
    Unknown(i32),
}

impl AssignmentErrorCode {
    /// The code on the wire.
    pub fn code(self) -> i32 {
        match self {
            AssignmentErrorCode::None => 0,
            AssignmentErrorCode::IncompleteSourceTopicMetadata => 1,
            AssignmentErrorCode::VersionProbing => 2,
            AssignmentErrorCode::AssignmentError => 3,
            AssignmentErrorCode::ShutdownRequested => 4,
            AssignmentErrorCode::Unknown(code) => code,
        }
    }

    /// The error a code stands for; unknown codes are kept as [`AssignmentErrorCode::Unknown`].
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => AssignmentErrorCode::None,
            1 => AssignmentErrorCode::IncompleteSourceTopicMetadata,
            2 => AssignmentErrorCode::VersionProbing,
            3 => AssignmentErrorCode::AssignmentError,
            4 => AssignmentErrorCode::ShutdownRequested,
            other => AssignmentErrorCode::Unknown(other),
        }
    }

    /// Whether this is an error at all.
    pub fn is_error(self) -> bool {
        self != AssignmentErrorCode::None
    }
}

impl fmt::Display for AssignmentErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssignmentErrorCode::None => f.write_str("NONE"),
            AssignmentErrorCode::IncompleteSourceTopicMetadata => {
                f.write_str("INCOMPLETE_SOURCE_TOPIC_METADATA")
            }
            AssignmentErrorCode::VersionProbing => f.write_str("VERSION_PROBING"),
            AssignmentErrorCode::AssignmentError => f.write_str("ASSIGNMENT_ERROR"),
            AssignmentErrorCode::ShutdownRequested => f.write_str("SHUTDOWN_REQUESTED"),
            AssignmentErrorCode::Unknown(code) => write!(f, "UNKNOWN({code})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in -2..8 {
            assert_eq!(AssignmentErrorCode::from_code(code).code(), code);
        }
        assert_eq!(
            AssignmentErrorCode::from_code(1).to_string(),
            "INCOMPLETE_SOURCE_TOPIC_METADATA"
        );
    }
}
