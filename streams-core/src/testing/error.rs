//! What the test driver reports: every error names the topic or store at fault.

use crate::error::StreamsError;
use crate::serde::SerdeError;

/// A [`TopologyTestDriver`](super::TopologyTestDriver) call that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestDriverError {
    /// Records were piped into a topic no source (nor global store) of the topology reads.
    #[error("topic {topic:?} is not read by the topology; its input topics are: {known}")]
    UnknownTopic {
        /// The topic.
        topic: String,
        /// The topics the topology reads, comma-separated.
        known: String,
    },
    /// An output topic was read while it holds no record.
    #[error(
        "output topic {topic:?} has no record left to read (check is_empty or queue_size first)"
    )]
    NoRecord {
        /// The topic.
        topic: String,
    },
    /// A key or value could not be serialized for, or deserialized from, a topic.
    #[error("the {role} of a record of topic {topic:?}: {source}")]
    Serde {
        /// The topic.
        topic: String,
        /// `key` or `value`.
        role: &'static str,
        /// What failed.
        #[source]
        source: SerdeError,
    },
    /// No store of that name, or not a store the call can open.
    #[error("state store {store:?}: {detail}")]
    Store {
        /// The store.
        store: String,
        /// What is wrong.
        detail: String,
    },
    /// The topology failed while the driver ran it (a processor, punctuator, extractor or
    /// store error); `during` says what the driver was doing.
    #[error("{during}: {source}")]
    Streams {
        /// What the driver was doing (`processing a record of topic "x"`, …).
        during: String,
        /// The failure.
        #[source]
        source: StreamsError,
    },
    /// A configuration property is invalid.
    #[error("config: {0}")]
    Config(String),
    /// The driver was closed.
    #[error("the test driver was closed; create a new one")]
    Closed,
}

impl TestDriverError {
    /// A [`TestDriverError::Streams`] while doing `during`.
    pub(crate) fn streams(during: impl Into<String>) -> impl FnOnce(StreamsError) -> Self {
        let during = during.into();
        move |source| TestDriverError::Streams { during, source }
    }

    /// A [`TestDriverError::Store`] from a store error.
    pub(crate) fn store(e: crate::state::StoreError) -> Self {
        TestDriverError::Store {
            store: e.store,
            detail: e.detail,
        }
    }
}
