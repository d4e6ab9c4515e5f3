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
//!    counts of repartition and changelog topics and checking co-partitioning); the
//!    changelog end offsets fetched in the leader's `prepare` step (through a
//!    [`ChangelogEndOffsets`], if one is set) give each client's lag on each stateful task;
//!    the pure [`compute_assignment`] places active tasks (balanced per thread, sticky, kept
//!    on caught-up clients while warm-up replicas restore elsewhere) and standby replicas; a
//!    task whose partitions another member still owns is withheld for one generation (the
//!    cooperative rule); each member gets its active tasks' partitions and an
//!    [`AssignmentInfo`] listing its active and standby tasks, and the leader's own instance
//!    is asked for a probing rebalance when warm-ups were placed. A missing source topic
//!    gives every member `INCOMPLETE_SOURCE_TOPIC_METADATA` instead of tasks.
//! 3. **on_assignment** (every member, after SyncGroup): the [`AssignmentInfo`] is decoded
//!    into the [`AssignorHandle`], where the stream thread reads its tasks and the error
//!    code; a follow-up rebalance it carries is handed to the member as a
//!    [`kafka_wire::group::FollowUp`].
//!
//! Files: [`topology_info`] (what the assignor knows of a topology), [`partition_grouper`]
//! (tasks and internal topic counts), [`subscription_info`] and [`assignment_info`] (the
//! user-data formats), [`error_code`], [`assignment_configs`] (the settings), [`lag`]
//! (caught-up or not), [`task_assignor`] (who runs what, balanced and sticky),
//! [`task_movement`] (warm-ups), [`standby_assignor`] (standby replicas), [`end_offsets`]
//! (the leader's one I/O step, behind a trait) and [`streams_assignor`] (the `Assignor`
//! tying them together).

mod codec;

pub mod assignment_configs;
pub mod assignment_info;
pub mod end_offsets;
pub mod error_code;
pub mod lag;
pub mod partition_grouper;
pub mod standby_assignor;
pub mod streams_assignor;
pub mod subscription_info;
pub mod task_assignor;
pub mod task_movement;
pub mod topology_info;

pub use assignment_configs::AssignmentConfigs;
pub use assignment_info::{AssignmentInfo, ASSIGNMENT_INFO_VERSION};
pub use codec::CodecError;
pub use end_offsets::{
    task_end_offset_sums, AdminChangelogEndOffsets, ChangelogEndOffsets, EndOffsetsError,
};
pub use error_code::AssignmentErrorCode;
pub use partition_grouper::{plan_tasks, GroupingError, TaskPlan};
pub use streams_assignor::{
    AssignorHandle, ReceivedAssignment, StreamsAssignor, STREAMS_ASSIGNOR_NAME,
};
pub use subscription_info::{SubscriptionInfo, SUBSCRIPTION_INFO_VERSION};
pub use task_assignor::{
    assign_tasks, compute_assignment, AssignmentInput, ClientState, ClientTasks, MemberState,
    MemberTasks, TaskAssignment,
};
pub use topology_info::{SubtopologyInfo, TopologyError, TopologyInfo};
