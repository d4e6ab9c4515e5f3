//! The processors the DSL writes into the topology: stateless record operations
//! ([`ops`]), `split()`'s router ([`branch`]) and the aggregations ([`aggregate`]).

pub(crate) mod aggregate;
pub(crate) mod branch;
pub(crate) mod ops;
pub(crate) mod session_aggregate;
pub(crate) mod session_merge;
pub(crate) mod sliding_aggregate;
pub(crate) mod sliding_plan;
pub(crate) mod suppress;
pub(crate) mod suppress_buffer;
pub(crate) mod table_aggregate;
pub(crate) mod table_ops;
pub(crate) mod table_source;
pub(crate) mod window_aggregate;
pub(crate) mod window_emit;
