//! Consumer groups over the classic group protocol (JoinGroup / SyncGroup / Heartbeat).
//!
//! * [`assignor`]: the partition assignors (`range`, `roundrobin`, `cooperative-sticky`, or
//!   your own) and the consumer protocol's wire formats.
//! * [`membership`]: the membership protocol as a plain state machine, tested without sockets.
//! * [`member`]: the I/O around it: coordinator lookup, join/sync, background heartbeats.
//! * [`offsets`]: OffsetCommit / OffsetFetch.
//!
//! Applications use groups through [`crate::consumer::Consumer::subscribe`].
pub mod assignor;
pub mod member;
pub mod membership;
pub mod offsets;

pub use assignor::{Assignment, Assignor, RebalanceProtocol, Subscription};
pub use member::{GroupMember, MemberConfig};
pub use offsets::{CommitIdentity, ConsumerGroupMetadata, OffsetAndMetadata};
