//! placeholder
pub mod config;
pub mod connection;
pub mod error;
pub mod protocol;
pub use error::{Error, Result};
