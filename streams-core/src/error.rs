//! Errors of the streams runtime.

use crate::serde::SerdeError;
use crate::TaskId;

/// An error a user's processor, punctuator or extractor returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A topology that cannot be built or run, named by the node or topic at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// Two nodes with one name.
    #[error("the topology already has a node named {0:?}: give each source, processor and sink its own name")]
    DuplicateNode(String),
    /// Two stores with one name.
    #[error("the topology already has a state store named {0:?}: give each store its own name")]
    DuplicateStore(String),
    /// A store connected to a processor that was never added.
    #[error("state store {store:?} is connected to {processor:?}, which is not a processor of this topology")]
    UnknownProcessor {
        /// The store.
        store: String,
        /// The missing processor.
        processor: String,
    },
    /// A store name no `add_state_store` registered.
    #[error("processor {processor:?} uses state store {store:?}, which was never added (add_state_store)")]
    UnknownStore {
        /// The processor.
        processor: String,
        /// The store.
        store: String,
    },
    /// A co-partition group names a node that was never added.
    #[error("co-partitioned node {0:?} is not a node of the topology (copartition_sources takes the names of nodes added before build)")]
    UnknownCopartitionSource(String),
    /// A topic read by two sources.
    #[error("topic {topic:?} is read by both {first:?} and {second:?}: a topic may be the source of one node only")]
    TopicSourcedTwice {
        /// The topic.
        topic: String,
        /// The first source.
        first: String,
        /// The second source.
        second: String,
    },
    /// A source without topics.
    #[error("source {0:?} has no topics: give it at least one topic or a pattern")]
    NoTopics(String),
    /// A pattern that is not a valid regular expression.
    #[error("source {source_name:?}: topic pattern {pattern:?} is invalid: {detail}")]
    BadPattern {
        /// The source.
        source_name: String,
        /// The pattern.
        pattern: String,
        /// Why.
        detail: String,
    },
}

/// What stopped a task, a stream thread or the application.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamsError {
    /// The topology is invalid.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A record's key or value could not be (de)serialized.
    #[error("task {task}: {source}")]
    Serde {
        /// The task.
        task: TaskId,
        /// What failed.
        #[source]
        source: SerdeError,
    },
    /// A processor or punctuator failed.
    #[error("task {task}, processor {processor:?}{at}: {source}")]
    Processing {
        /// The task.
        task: TaskId,
        /// The node.
        processor: String,
        /// Where the record came from (` at topic-partition@offset`), if a record was processed.
        at: String,
        /// The user's error.
        #[source]
        source: BoxError,
    },
    /// A record's timestamp was invalid and the extractor refuses it.
    #[error("task {task}: record at {topic}-{partition}@{offset} has an invalid timestamp {timestamp}; set default.timestamp.extractor to skip such records or use the partition time")]
    InvalidTimestamp {
        /// The task.
        task: TaskId,
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The offset.
        offset: i64,
        /// The extracted timestamp.
        timestamp: i64,
    },
    /// A task's state directory is held by another instance or thread on this machine (the
    /// task is retried until it is free).
    #[error("{0}")]
    TaskDirectoryLocked(String),
    /// A state store failed.
    #[error("state store {store:?}: {detail}")]
    Store {
        /// The store.
        store: String,
        /// What failed.
        detail: String,
    },
    /// A processor asked for a store it is not connected to.
    #[error("processor {processor:?} asked for state store {store:?}, which is not connected to it (connect it with add_state_store or connect_store)")]
    StoreNotConnected {
        /// The processor.
        processor: String,
        /// The store.
        store: String,
    },
    /// The Kafka client failed.
    #[error("kafka: {0}")]
    Kafka(#[from] kafka_wire::Error),
    /// A setting is invalid.
    #[error("config: {0}")]
    Config(String),
    /// The application is not in a state that allows the call.
    #[error("{0}")]
    IllegalState(String),
    /// The group leader told every member to stop: another instance asked for the
    /// application's shutdown, or the assignment failed (`code` says which).
    #[error("the application was shut down by its group: {code}")]
    ShutdownByGroup {
        /// The assignment's error code, as text.
        code: String,
    },
}

impl From<crate::state::StoreError> for StreamsError {
    fn from(e: crate::state::StoreError) -> Self {
        StreamsError::Store {
            store: e.store,
            detail: e.detail,
        }
    }
}

impl From<crate::state::backend::BackendError> for StreamsError {
    fn from(e: crate::state::backend::BackendError) -> Self {
        StreamsError::Store {
            store: e.location,
            detail: e.detail,
        }
    }
}
