//! Consumer groups over the classic group protocol (JoinGroup / SyncGroup / Heartbeat).
//!
//! * [`assignor`]: the partition assignors (`range`, `roundrobin`, `cooperative-sticky`, or
//!   your own) and the consumer protocol's wire formats.
//! * [`membership`]: the membership protocol's requests and error handling, tested without
//!   sockets.
//! * [`member_core`]: the whole member as a sans-I/O state machine: which request to send
//!   next, events for the application, and every timer (heartbeat, session,
//!   `max.poll.interval.ms`, rebalance, auto commit), driven by an explicit clock.
//! * [`timer`]: the member's timer table; [`leader`]: the leader's assignment step.
//! * [`member`]: the tokio shell around the core: sends what it asks for, sleeps until its
//!   next timer.
//! * [`offsets`]: OffsetCommit / OffsetFetch.
//! * [`pattern`]: regex subscriptions with Java `Pattern` matching rules.
//!
//! Applications use groups through [`crate::consumer::Consumer::subscribe`].
pub mod assignor;
pub mod leader;
pub mod member;
pub mod member_core;
pub mod membership;
pub mod offsets;
pub mod pattern;
pub mod timer;

pub use assignor::{
    Assignment, Assignor, FollowUp, MemberSubscription, RebalanceProtocol, Subscription,
};
pub use leader::LeaderContext;
pub use member::{GroupMember, MemberConfig};
pub use offsets::{CommitIdentity, ConsumerGroupMetadata, OffsetAndMetadata};
pub use pattern::TopicPattern;
