//! The crate's error types.
//!
//! Each layer has its own enum ([`crate::protocol::DecodeError`], [`ConnectionError`],
//! [`crate::config::ConfigError`]); [`Error`] is what client operations return. Every variant
//! says what failed and where (broker address, API, topic or partition), and
//! [`Error::is_retriable`] tells whether trying again can help.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{BrokerAddress, ConfigError};
use crate::protocol::{ApiKey, DecodeError, EncodeError, ErrorCode};
use crate::TopicPartition;

/// A failure of one broker connection. Cloneable: when a connection dies, every request
/// in flight on it receives the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The broker.
        addr: BrokerAddress,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// TCP connect did not finish in time.
    #[error("connecting to {addr} timed out after {after:?} (socket.connection.setup.timeout.ms)")]
    ConnectTimeout {
        /// The broker.
        addr: BrokerAddress,
        /// The timeout.
        after: Duration,
    },
    /// Reading or writing the socket failed.
    #[error("connection to {addr} failed: {source}")]
    Io {
        /// The broker.
        addr: BrokerAddress,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The connection is closed (by the broker, by us, or after an earlier failure).
    #[error("connection to {addr} is closed: {reason}")]
    Closed {
        /// The broker.
        addr: BrokerAddress,
        /// Why.
        reason: String,
    },
    /// A response frame larger than `receive.message.max.bytes`.
    #[error("response of {size} bytes from {addr} exceeds receive.message.max.bytes ({limit}); raise it if this broker really sends such responses")]
    ResponseTooLarge {
        /// The broker.
        addr: BrokerAddress,
        /// Declared frame size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A frame size that cannot be valid (negative or too small for a header).
    #[error("invalid response frame size {size} from {addr}: is this a Kafka broker (or a TLS/SASL listener)?")]
    InvalidFrameSize {
        /// The broker.
        addr: BrokerAddress,
        /// Declared size.
        size: i32,
    },
    /// No response within `request.timeout.ms`; the connection is closed, as in the Java client.
    #[error("{api:?} request to {addr} timed out after {after:?} (request.timeout.ms)")]
    RequestTimeout {
        /// The broker.
        addr: BrokerAddress,
        /// The API.
        api: ApiKey,
        /// The timeout.
        after: Duration,
    },
    /// The request could not be encoded at the negotiated version.
    #[error("cannot encode {api:?} v{version} for {addr}: {source}")]
    Encode {
        /// The broker.
        addr: BrokerAddress,
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// What was wrong.
        #[source]
        source: EncodeError,
    },
    /// The response could not be decoded.
    #[error("malformed {api:?} v{version} response from {addr}: {source}")]
    Decode {
        /// The broker.
        addr: BrokerAddress,
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// The broker and this client share no version of an API.
    #[error("broker {addr} does not support {api:?} at any version this client speaks (client {ours:?}, broker {theirs})")]
    UnsupportedApi {
        /// The broker.
        addr: BrokerAddress,
        /// The API.
        api: ApiKey,
        /// Versions this client implements.
        ours: (i16, i16),
        /// What the broker advertised.
        theirs: String,
    },
    /// ApiVersions negotiation failed with an error code.
    #[error("ApiVersions handshake with {addr} failed: {code}")]
    Handshake {
        /// The broker.
        addr: BrokerAddress,
        /// The error code returned.
        code: ErrorCode,
    },
    /// TLS could not be set up or the broker's certificate was refused.
    #[error("TLS with {addr} failed: {reason}")]
    Tls {
        /// The broker.
        addr: BrokerAddress,
        /// What failed (certificate untrusted, wrong host name, bad PEM file, no provider…).
        reason: String,
    },
    /// SASL authentication failed (wrong credentials, unsupported mechanism, …).
    #[error("SASL {mechanism} authentication with {addr} failed: {reason}")]
    Authentication {
        /// The broker.
        addr: BrokerAddress,
        /// The mechanism tried.
        mechanism: String,
        /// The broker's or the mechanism's explanation (never the password).
        reason: String,
    },
}

impl ConnectionError {
    /// The broker the error is about.
    pub fn addr(&self) -> &BrokerAddress {
        match self {
            ConnectionError::Connect { addr, .. }
            | ConnectionError::ConnectTimeout { addr, .. }
            | ConnectionError::Io { addr, .. }
            | ConnectionError::Closed { addr, .. }
            | ConnectionError::ResponseTooLarge { addr, .. }
            | ConnectionError::InvalidFrameSize { addr, .. }
            | ConnectionError::RequestTimeout { addr, .. }
            | ConnectionError::Encode { addr, .. }
            | ConnectionError::Decode { addr, .. }
            | ConnectionError::UnsupportedApi { addr, .. }
            | ConnectionError::Handshake { addr, .. }
            | ConnectionError::Tls { addr, .. }
            | ConnectionError::Authentication { addr, .. } => addr,
        }
    }

    /// Whether a new connection (or another broker) may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            ConnectionError::Connect { .. }
                | ConnectionError::ConnectTimeout { .. }
                | ConnectionError::Io { .. }
                | ConnectionError::Closed { .. }
                | ConnectionError::RequestTimeout { .. }
        )
    }
}

/// The error of a client operation.
///
/// One enum for every operation, with typed sub-enums by where the failure arose: the
/// configuration ([`ConfigError`]), a connection ([`ConnectionError`]), the broker (an error
/// code: [`Error::Kafka`]), the client's own state or limits ([`ClientError`]), a transaction
/// ([`Error::Transaction`]). `docs/architecture.md` says why this shape rather than one enum per
/// operation.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A connection failed.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The broker answered with an error code.
    #[error("{operation} failed for {resource}: {code}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kafka {
        /// What was attempted, e.g. `CreateTopics`.
        operation: &'static str,
        /// The topic, partition, group or broker it was about.
        resource: String,
        /// The error code.
        code: ErrorCode,
        /// The broker's error message, if it sent one.
        message: Option<String>,
    },
    /// The operation kept failing with retriable errors until its deadline.
    #[error("{operation} did not succeed within {timeout:?}; last error: {last}")]
    Timeout {
        /// What was attempted.
        operation: &'static str,
        /// The deadline (`default.api.timeout.ms` unless given).
        timeout: Duration,
        /// The last error seen.
        last: Box<Error>,
    },
    /// No bootstrap server or broker could be reached.
    #[error("no broker is reachable (tried {tried}); last error: {last}")]
    NoBrokerAvailable {
        /// Addresses tried.
        tried: String,
        /// The last error.
        last: Box<Error>,
    },
    /// The broker's answer makes no sense for the request (a protocol violation).
    #[error("unexpected response to {operation}: {detail}")]
    Protocol {
        /// What was attempted.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A failure decided by the client itself (closed, timed out, too large, not assigned, …),
    /// never dressed as a broker error code.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The client was asked for something it cannot do (a usage error not covered by a
    /// [`ClientError`] variant).
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    /// A transaction failed. [`TransactionErrorKind`] says what to do: abort and retry the
    /// transaction, or close the producer.
    #[error("transaction {operation} failed ({kind}): {detail}")]
    Transaction {
        /// What was attempted (`commit_transaction`, `send`, …).
        operation: &'static str,
        /// How to recover.
        kind: TransactionErrorKind,
        /// The broker's error code, if one caused it.
        code: Option<ErrorCode>,
        /// What happened.
        detail: String,
    },
}

/// A failure the client decided on its own: its state, its limits, or what it knows of the
/// cluster. Each message says what failed and, where a setting is involved, which one to change.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `send` (or another operation) after `close()`.
    #[error("the producer is closed: it was closed with close() and accepts no more records")]
    ProducerClosed,
    /// A record was not acknowledged within `delivery.timeout.ms`.
    #[error(
        "a record for {topic_partition} was not acknowledged within delivery.timeout.ms \
         ({timeout:?}{}); raise delivery.timeout.ms or check that the partition has a leader{}",
        if *attempts > 0 { format!(", after {attempts} retries") } else { String::new() },
        last.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
    )]
    DeliveryTimeout {
        /// The partition the record was for.
        topic_partition: TopicPartition,
        /// `delivery.timeout.ms`.
        timeout: Duration,
        /// Retries made before giving up.
        attempts: u32,
        /// The last failure, if the record was sent at all.
        last: Option<Box<Error>>,
    },
    /// A record larger than the producer may send.
    #[error(
        "a record for {topic} is about {size} bytes, more than max.request.size ({max_request_size}); \
         raise max.request.size (and the topic's max.message.bytes) or send smaller records"
    )]
    RecordTooLarge {
        /// The topic.
        topic: String,
        /// The record's estimated encoded size.
        size: usize,
        /// `max.request.size`.
        max_request_size: usize,
    },
    /// `send` waited `max.block.ms` for `buffer.memory` to free up.
    #[error(
        "buffer.memory ({buffer_memory} bytes) stayed full for max.block.ms ({max_block:?}): \
         records are produced faster than the brokers take them; raise buffer.memory or \
         max.block.ms, or slow down"
    )]
    BufferExhausted {
        /// `buffer.memory`.
        buffer_memory: usize,
        /// `max.block.ms`.
        max_block: Duration,
    },
    /// The topic is not in the cluster's metadata (it may be being created).
    #[error("topic {topic} is not in the cluster metadata (does it exist? allow.auto.create.topics applies only where the broker allows it)")]
    UnknownTopic {
        /// The topic.
        topic: String,
    },
    /// A partition number beyond the topic's partitions.
    #[error("partition {partition} of {topic} does not exist (it has {partitions})")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
        /// How many partitions the topic has.
        partitions: usize,
    },
    /// A broker id that the cluster metadata does not list (it left, or metadata is stale).
    #[error("broker {node_id} is not in the cluster metadata")]
    UnknownBroker {
        /// The node id.
        node_id: i32,
    },
    /// A group operation on a consumer that is not subscribed.
    #[error("{operation} needs a consumer group: call subscribe() first (with group.id set)")]
    NotSubscribed {
        /// What was attempted.
        operation: &'static str,
    },
    /// A partition operation on a partition the consumer does not have.
    #[error("cannot {operation} {topic_partition}: it is not assigned to this consumer")]
    NotAssigned {
        /// What was attempted.
        operation: &'static str,
        /// The partition.
        topic_partition: TopicPartition,
    },
    /// An operation that needs a setting which is not set.
    #[error("{operation} needs {key} to be set")]
    MissingSetting {
        /// What was attempted.
        operation: &'static str,
        /// The property, e.g. `group.id` or `transactional.id`.
        key: &'static str,
    },
    /// The producer was dropped (or its sender stopped) before a record's outcome was known.
    #[error("the producer was dropped before the record was delivered: keep it alive and flush() or close() before dropping it")]
    ProducerDropped,
    /// A transactional operation not allowed in the producer's current state.
    #[error("{operation} is not allowed while the transactional producer is {state}{}", if hint.is_empty() { String::new() } else { format!(" ({hint})") })]
    TransactionState {
        /// What was attempted.
        operation: &'static str,
        /// The transaction manager's state, e.g. `Ready`.
        state: String,
        /// What to do instead, if there is something to say.
        hint: &'static str,
    },
    /// A partition without a position, whose reset policy is `none`.
    #[error("{topic_partition} has no committed offset or position and auto.offset.reset=none: seek it first or set auto.offset.reset")]
    NoOffsetForPartition {
        /// The partition.
        topic_partition: TopicPartition,
    },
    /// The partition's log was truncated below the consumer's position (records it had read
    /// were lost, e.g. in an unclean leader election), detected by leader-epoch validation
    /// (KIP-320), and `auto.offset.reset=none` forbids moving on by itself.
    #[error(
        "log truncation detected on {topic_partition}: position {position} is past the end \
         ({divergent_offset}) of leader epoch {epoch}; auto.offset.reset=none, so seek to \
         {divergent_offset} (or elsewhere) to go on"
    )]
    LogTruncation {
        /// The partition.
        topic_partition: TopicPartition,
        /// The consumer's position when the truncation was detected.
        position: i64,
        /// The first offset known to diverge: where the epoch ends on the leader.
        divergent_offset: i64,
        /// The leader epoch that ends there.
        epoch: i32,
    },
    /// A topic that exists with another partition count than required.
    #[error("topic {topic} exists with {actual} partitions but {required} are required")]
    PartitionCountMismatch {
        /// The topic.
        topic: String,
        /// Its partition count.
        actual: usize,
        /// The count required.
        required: usize,
    },
    /// The cluster metadata lists no broker at all.
    #[error("the cluster metadata lists no broker")]
    NoBrokersInMetadata,
    /// An operation called before the step it depends on.
    #[error("{operation}: call {first} first")]
    NotReady {
        /// What was attempted.
        operation: &'static str,
        /// What must come first, e.g. `init_transactions`.
        first: &'static str,
    },
    /// The background task running a group join (cooperative protocol) did not finish
    /// normally (it panicked or was cancelled); the next poll joins again.
    #[error("the join of group {group} ended abnormally: {detail}")]
    JoinTaskFailed {
        /// The group.
        group: String,
        /// What happened to the task.
        detail: String,
    },
}

/// How to recover from a failed transaction (the Java client's abortable vs fatal errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionErrorKind {
    /// The transaction cannot commit: call `abort_transaction`, then retry the work in a new
    /// transaction (records sent in this one are discarded; read_committed readers never see
    /// them). Consumers should rewind to their committed offsets.
    Abortable,
    /// The producer can no longer be used (fenced by a newer instance with the same
    /// `transactional.id`, its epoch was bumped by the coordinator, or it is not authorized):
    /// close it; a new producer must `init_transactions` again.
    Fatal,
}

impl std::fmt::Display for TransactionErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransactionErrorKind::Abortable => "abortable: abort the transaction and retry it",
            TransactionErrorKind::Fatal => "fatal: close this producer and create a new one",
        })
    }
}

impl Error {
    /// Whether trying again (after a metadata refresh) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Connection(e) => e.is_retriable(),
            Error::Kafka { code, .. } => code.is_retriable(),
            Error::NoBrokerAvailable { .. } => true,
            Error::Client(ClientError::UnknownTopic { .. } | ClientError::UnknownBroker { .. }) => {
                true
            }
            _ => false,
        }
    }

    /// Whether cached metadata must be refreshed before retrying.
    pub fn invalidates_metadata(&self) -> bool {
        match self {
            Error::Kafka { code, .. } => code.invalidates_metadata(),
            Error::Connection(e) => e.is_retriable(),
            Error::Client(ClientError::UnknownTopic { .. } | ClientError::UnknownBroker { .. }) => {
                true
            }
            _ => false,
        }
    }

    /// For a failed transaction, how to recover.
    pub fn transaction_kind(&self) -> Option<TransactionErrorKind> {
        match self {
            Error::Transaction { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The Kafka error code, if the broker returned one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Kafka { code, .. } => Some(*code),
            Error::Transaction { code, .. } => *code,
            Error::Timeout { last, .. } => last.code(),
            _ => None,
        }
    }

    pub(crate) fn kafka(
        operation: &'static str,
        resource: impl Into<String>,
        code: ErrorCode,
        message: Option<String>,
    ) -> Self {
        Error::Kafka {
            operation,
            resource: resource.into(),
            code,
            message: message.filter(|m| !m.is_empty()),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
