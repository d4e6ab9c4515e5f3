//! [`DslError`]: why a DSL program is not a valid topology, found by
//! [`crate::StreamsBuilder::build`], each naming the node at fault and the fix.

use streams_core::error::TopologyError;

/// What a serde was missing for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerdeRole {
    /// The record keys.
    Key,
    /// The record values.
    Value,
}

impl std::fmt::Display for SerdeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SerdeRole::Key => "key",
            SerdeRole::Value => "value",
        })
    }
}

/// A DSL program that cannot become a topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DslError {
    /// A node reads, writes or stores a type that has no serde.
    #[error("{node:?} needs a {role} serde for {type_name} and has none: pass one ({fix}) or register a default for the type with StreamsBuilder::default_serde::<{type_name}>(..)")]
    MissingSerde {
        /// The source, sink, store or repartition topic's node.
        node: String,
        /// Key or value.
        role: SerdeRole,
        /// The Rust type.
        type_name: &'static str,
        /// Where the serde can be given (`Consumed::with`, `Produced::with`, …).
        fix: &'static str,
    },
    /// Two processors, sources or sinks with one name.
    #[error("two nodes are named {0:?}: give one of them another name with Named::as_(..) (or the name option of Consumed/Produced/Grouped/Repartitioned)")]
    DuplicateNode(String),
    /// A stream-table join with a grace period reads a table that is not versioned (Kafka's
    /// "KTable must be versioned to use a grace period in a stream table join").
    #[error("stream-table join {join:?} has a grace period but its table is not versioned: materialize the table with Materialized::as_versioned(name, history_retention), or drop Joined::with_grace_period")]
    GraceNeedsVersionedTable {
        /// The join processor.
        join: String,
    },
    /// A stream-table join's grace period is longer than the table's history retention
    /// (Kafka's "History retention must be at least grace period").
    #[error("stream-table join {join:?} waits {grace_ms} ms but its table's store {store:?} keeps only {history_ms} ms of history: give Materialized::as_versioned a history retention of at least the grace period")]
    GraceBeyondHistory {
        /// The join processor.
        join: String,
        /// The versioned store.
        store: String,
        /// The grace period (ms).
        grace_ms: i64,
        /// The store's history retention (ms).
        history_ms: i64,
    },
    /// A versioned store asked for where there cannot be one: a window or session store, a
    /// global table (Kafka refuses them too).
    #[error("store {store:?} of {operation} cannot be versioned here: use Materialized::as_(name) for it (versioned stores are for table sources, to_table, filter, mapValues, table joins and non-windowed aggregations)")]
    VersionedStoreUnsupported {
        /// The store.
        store: String,
        /// The operation (a windowed or session aggregation, a global table).
        operation: &'static str,
    },
    /// `suppress` of a versioned table, or of one derived from it (Kafka's "suppress() is only
    /// supported for non-versioned KTables").
    #[error("suppress {node:?} follows a versioned table (versioning is inherited through filter and mapValues without a store): suppress only non-versioned tables, e.g. materialize the table before it with Materialized::as_(name)")]
    SuppressOnVersionedTable {
        /// The suppress processor.
        node: String,
    },
    /// Two stores with one name.
    #[error("two state stores are named {0:?}: give one of them another name with Materialized::as_(..)")]
    DuplicateStore(String),
    /// A sink writes to a topic that the same topology reads.
    #[error("sink {sink:?} writes to topic {topic:?}, which source {source_node:?} of this topology reads: use repartition() for a topic Kafka Streams manages, or mark the loop as intended with Produced::with_repartition_intent()")]
    SinkToSourceTopic {
        /// The sink.
        sink: String,
        /// The topic.
        topic: String,
        /// The source reading it.
        source_node: String,
    },
    /// A branch of `split()` named twice.
    #[error("split {split:?} has two branches named {branch:?}: give each Branched::as_(..) its own name")]
    DuplicateBranch {
        /// The split processor.
        split: String,
        /// The branch's full name.
        branch: String,
    },
    /// A store named in `process(..)` that no `add_state_store` added.
    #[error("processor {processor:?} uses state store {store:?}, which was never added: add it with StreamsBuilder::add_state_store before build()")]
    UnknownStore {
        /// The processor.
        processor: String,
        /// The store.
        store: String,
    },
    /// `topology.optimization=merge.repartition.topics` (or `all`) cannot merge the
    /// repartition topics after a node.
    #[error("topology.optimization cannot merge repartition topic {topic:?} into the one after {node:?}: {detail}; build without merge.repartition.topics (topology.optimization=reuse.ktable.source.topics, or none)")]
    UnmergeableRepartition {
        /// The node the merged repartition would follow.
        node: String,
        /// The repartition topic.
        topic: String,
        /// Why.
        detail: String,
    },
    /// `suppress(Suppressed::until_window_closes(..))` on a table that is not a windowed
    /// aggregation's.
    #[error("suppress node {node:?}: until_window_closes needs a table made by a windowed aggregation (windowed_by(..).count/reduce/aggregate, or a filter/map_values of one); use Suppressed::until_time_limit for other tables")]
    SuppressNotWindowed {
        /// The suppress node.
        node: String,
    },
    /// Join windows Kafka refuses (a negative interval or grace period).
    #[error("invalid JoinWindows: {detail}; give before + after >= 0 and a grace period >= 0")]
    InvalidJoinWindows {
        /// What is wrong, in Kafka's words.
        detail: String,
    },
    /// A windowed aggregation's store keeps windows for less than the window size plus the
    /// grace period (Kafka: "The retention period of the window store ... must be no smaller
    /// than its window size plus the grace period").
    #[error("the retention period of window store {store:?} ({retention_ms} ms) must be no smaller than its window size plus the grace period ({size_ms} + {grace_ms} ms): give Materialized::with_retention at least that, or none")]
    RetentionTooShort {
        /// The store.
        store: String,
        /// The retention given.
        retention_ms: i64,
        /// The window size.
        size_ms: i64,
        /// The grace period.
        grace_ms: i64,
    },
    /// A window specification Kafka refuses (a windowed aggregation's retention past
    /// `i64::MAX` ms, …).
    #[error("windowed aggregation {node:?}: {source}")]
    Windows {
        /// The aggregation.
        node: String,
        /// What was wrong.
        source: crate::windows::WindowsError,
    },
    /// Any other invalid topology, as streams-core's builder reports it.
    #[error(transparent)]
    Topology(TopologyError),
    /// A DSL object built by another `StreamsBuilder`, or a bug in this crate.
    #[error("internal error at {node:?}: {detail}")]
    Internal {
        /// The node.
        node: String,
        /// What went wrong.
        detail: String,
    },
}

impl From<TopologyError> for DslError {
    fn from(e: TopologyError) -> Self {
        match e {
            TopologyError::DuplicateNode(n) => DslError::DuplicateNode(n),
            TopologyError::DuplicateStore(s) => DslError::DuplicateStore(s),
            TopologyError::UnknownStore { processor, store } => {
                DslError::UnknownStore { processor, store }
            }
            other => DslError::Topology(other),
        }
    }
}
