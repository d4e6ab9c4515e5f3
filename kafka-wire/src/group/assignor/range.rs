//! The `range` assignor (placeholder until implemented).

use std::collections::BTreeMap;

use super::{AssignError, Assignment, Assignor, MemberSubscription};

/// The `range` assignor.
#[derive(Debug, Default, Clone)]
pub struct RangeAssignor;

impl Assignor for RangeAssignor {
    fn name(&self) -> &str {
        "range"
    }

    fn assign(
        &self,
        _partitions_per_topic: &BTreeMap<String, i32>,
        _members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        Err(AssignError {
            assignor: "range".into(),
            detail: "not implemented yet".into(),
        })
    }
}
