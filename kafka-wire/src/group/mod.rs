//! Consumer groups over the classic group protocol (JoinGroup / SyncGroup / Heartbeat).
//!
//! * [`assignor`]: the partition assignors and the consumer protocol's wire formats.
pub mod assignor;
