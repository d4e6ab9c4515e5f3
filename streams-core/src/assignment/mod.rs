//! Task assignment over the classic consumer-group protocol (Kafka's `StreamsPartitionAssignor`).

mod codec;

pub mod assignment_info;
pub mod error_code;
pub mod partition_grouper;
pub mod subscription_info;
pub mod task_assignor;
pub mod topology_info;

pub use assignment_info::{AssignmentInfo, ASSIGNMENT_INFO_VERSION};
pub use codec::CodecError;
pub use error_code::AssignmentErrorCode;
pub use partition_grouper::{plan_tasks, GroupingError, TaskPlan};
pub use subscription_info::{SubscriptionInfo, SUBSCRIPTION_INFO_VERSION};
pub use task_assignor::{
    assign_tasks, AssignmentInput, ClientState, ClientTasks, MemberState, MemberTasks,
};
pub use topology_info::{SubtopologyInfo, TopologyError, TopologyInfo};
