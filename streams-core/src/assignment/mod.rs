//! Task assignment over the classic consumer-group protocol (Kafka's `StreamsPartitionAssignor`).
//!
//! Every stream thread's consumer is a group member running a [`StreamsAssignor`] (protocol
//! name `stream`); the threads of one application instance share a process id. A rebalance
//! goes:
//!
//! 1. **Subscription** (every member, JoinGroup): the assignor's
//!    `subscription_user_data` encodes a [`SubscriptionInfo`]: the process id, the tasks the
//!    thread owns now (told through its [`AssignorHandle`]), its changelog offset sums and
//!    `application.server` endpoint. Under the cooperative protocol the consumer also sends
//!    the partitions it owns.
//! 2. **Leader's assign** (one member): the members are grouped into clients by process id;
//!    [`plan_tasks`] turns the partition counts of the source topics into tasks (deriving the
//!    counts of repartition and changelog topics and checking co-partitioning); the pure
//!    [`assign_tasks`] places them, balanced per thread and sticky; a task whose partitions
//!    another member still owns is withheld for one generation (the cooperative rule); each
//!    member gets its tasks' partitions and an [`AssignmentInfo`]. A missing source topic
//!    gives every member `INCOMPLETE_SOURCE_TOPIC_METADATA` instead of tasks.
//! 3. **on_assignment** (every member, after SyncGroup): the [`AssignmentInfo`] is decoded
//!    into the [`AssignorHandle`], where the stream thread reads its tasks and the error
//!    code; a follow-up rebalance it carries is handed to the member as a
//!    [`kafka_wire::group::FollowUp`].
//!
//! Files: [`topology_info`] (what the assignor knows of a topology), [`partition_grouper`]
//! (tasks and internal topic counts), [`subscription_info`] and [`assignment_info`] (the
//! user-data formats), [`error_code`], [`task_assignor`] (who runs what), and
//! [`streams_assignor`] (the `Assignor` tying them together). Nothing here does I/O.

mod codec;

pub mod assignment_info;
pub mod error_code;
pub mod partition_grouper;
pub mod streams_assignor;
pub mod subscription_info;
pub mod task_assignor;
pub mod topology_info;

pub use assignment_info::{AssignmentInfo, ASSIGNMENT_INFO_VERSION};
pub use codec::CodecError;
pub use error_code::AssignmentErrorCode;
pub use partition_grouper::{plan_tasks, GroupingError, TaskPlan};
pub use streams_assignor::{
    AssignorHandle, ReceivedAssignment, StreamsAssignor, STREAMS_ASSIGNOR_NAME,
};
pub use subscription_info::{SubscriptionInfo, SUBSCRIPTION_INFO_VERSION};
pub use task_assignor::{
    assign_tasks, AssignmentInput, ClientState, ClientTasks, MemberState, MemberTasks,
};
pub use topology_info::{SubtopologyInfo, TopologyError, TopologyInfo};
