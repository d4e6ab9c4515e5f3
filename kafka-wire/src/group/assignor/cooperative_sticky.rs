//! The `cooperative-sticky` assignor (placeholder until implemented).

use std::collections::BTreeMap;

use super::{AssignError, Assignment, Assignor, MemberSubscription};

/// The `cooperative-sticky` assignor.
#[derive(Debug, Default, Clone)]
pub struct CooperativeStickyAssignor;

impl Assignor for CooperativeStickyAssignor {
    fn name(&self) -> &str {
        "cooperative-sticky"
    }

    fn assign(
        &self,
        _partitions_per_topic: &BTreeMap<String, i32>,
        _members: &[MemberSubscription],
    ) -> Result<BTreeMap<String, Assignment>, AssignError> {
        Err(AssignError {
            assignor: "cooperative-sticky".into(),
            detail: "not implemented yet".into(),
        })
    }
}
