//! How a foreign-key join's processors fail on a record.

/// A foreign-key join failing on a record it cannot handle.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForeignKeyJoinError {
    /// A subscription or response of a version this crate cannot read.
    #[error("{what} of version {version} on the internal topic of {node}: written by a newer Kafka Streams; upgrade this application before the writer")]
    UnsupportedVersion {
        what: &'static str,
        version: u8,
        node: String,
    },
    /// A key or value that serialized to null where bytes are needed.
    #[error("{node}: the {what} serialized to null; the serde must write bytes for every value")]
    NullBytes { node: String, what: &'static str },
}
