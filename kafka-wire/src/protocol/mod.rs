//! Layer 0: the Kafka wire protocol, with nothing asynchronous in it.
//!
//! - [`wire`]: primitive readers and writers, bounded against the bytes that are left;
//! - [`messages`]: every request and response the client uses, generated from Kafka's specs;
//! - [`frame`]: size-prefixed request/response frames with their headers;
//! - [`ErrorCode`]: Kafka's error codes with their retriable class;
//! - [`record_batch`] and [`compression`]: RecordBatch v2 and the four codecs, pure Rust;
//!   [`batch_builder`] writes a batch record by record as the producer appends;
//! - [`versioned`]: what a request must look like at the version a broker agreed to;
//! - [`route`]: which broker each API goes to, declared once.
//!
//! The rest of the crate reaches the codec only through the [`Request`] trait, so the generated
//! codecs can be replaced without touching connections or clients.

pub mod batch_builder;
pub mod compression;
mod error_code;
mod error_code_table;
pub mod frame;
pub mod messages;
pub mod record_batch;
pub mod route;
pub mod versioned;
pub mod wire;

pub use error_code::ErrorCode;
pub use messages::ApiKey;
pub use wire::{Decode, DecodeError, DecodeErrorKind, Encode, EncodeError, Uuid};

/// A Kafka request body, tied to its API key and response type.
///
/// Implemented by every generated `*Request` type. The connection layer only needs this trait:
/// it encodes the body at the negotiated version and decodes the matching response.
pub trait Request: Encode + Decode + std::fmt::Debug + Send + Sync + 'static {
    /// The API this request belongs to.
    const API_KEY: ApiKey;
    /// The response the broker answers with.
    type Response: Response;
}

/// A Kafka response body.
pub trait Response: Encode + Decode + std::fmt::Debug + Send + 'static {
    /// How long the broker asks the client to back off because of a quota (KIP-219), if this
    /// response carries `ThrottleTimeMs`.
    fn throttle_time_ms(&self) -> Option<i32>;
}
