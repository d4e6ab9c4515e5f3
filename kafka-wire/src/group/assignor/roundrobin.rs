//! The `roundrobin` assignor (placeholder until implemented).

use std::collections::BTreeMap;

use super::{AssignError, Assignment, Assignor, MemberSubscription};

/// The `roundrobin` assignor.
#[derive(Debug, Default, Clone)]
pub struct RoundRobinAssignor;

impl Assignor for RoundRobinAssignor {
    fn name(&self) -> &str {
        "roundrobin"
    }

    fn assign(
        &self,
        _partitions_per_topic: &BTreeMap<String, i32>,
        _members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        Err(AssignError {
            assignor: "roundrobin".into(),
            detail: "not implemented yet".into(),
        })
    }
}
