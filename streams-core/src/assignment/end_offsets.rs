//! The changelog end offsets the leader needs for lags (KIP-441).
//!
//! The lag of a client on a task is the sum of the end offsets of the task's changelog
//! partitions minus the offset sum the client reports. The leader looks the end offsets up
//! during the rebalance, in the [`StreamsAssignor`](super::StreamsAssignor)'s async
//! `prepare` step, through a [`ChangelogEndOffsets`] (the only I/O of this module;
//! [`AdminChangelogEndOffsets`] is the real one, tests inject fakes), and
//! [`task_end_offset_sums`] turns them into per-task sums once the tasks are known.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use futures_util::future::BoxFuture;
use kafka_wire::admin::OffsetSpec;
use kafka_wire::group::LeaderContext;
use kafka_wire::TopicPartition;

use super::topology_info::TopologyInfo;
use crate::TaskId;

/// Why the end offsets could not be fetched (the assignment then treats every client as
/// caught up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot fetch the changelog end offsets: {0}")]
pub struct EndOffsetsError(pub String);

/// Looks up the end offsets of changelog topics for the group leader.
///
/// Called on the leader in every rebalance of an application with state stores, before the
/// assignment, with the [`LeaderContext`] (cluster client, admin) and the names of all the
/// application's changelog topics. It returns the end offset of every partition of those
/// topics that exists; a topic or partition left out counts as empty (a changelog that does
/// not exist yet has nothing to restore). It must finish well within the rebalance timeout.
/// On an error the leader logs a warning and assigns as if every client were caught up (the
/// rebalance never fails for it).
pub trait ChangelogEndOffsets: Send + Sync + fmt::Debug {
    /// The end offsets of the partitions of `changelog_topics`.
    fn end_offsets<'a>(
        &'a self,
        context: &'a LeaderContext,
        changelog_topics: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, EndOffsetsError>>;
}

/// [`ChangelogEndOffsets`] through the leader's admin client: the changelog topics'
/// partitions from metadata (topics that do not exist yet are skipped), then their latest
/// offsets (ListOffsets, `read_uncommitted`: the high watermark) from their leaders.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminChangelogEndOffsets;

impl ChangelogEndOffsets for AdminChangelogEndOffsets {
    fn end_offsets<'a>(
        &'a self,
        context: &'a LeaderContext,
        changelog_topics: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeMap<TopicPartition, i64>, EndOffsetsError>> {
        Box::pin(async move {
            let admin = context.admin();
            let mut specs = Vec::new();
            for topic in changelog_topics {
                // One topic at a time: a changelog not created yet is an error for it alone.
                let Ok(described) = admin.describe_topics(&[topic.as_str()]).await else {
                    continue;
                };
                for t in described {
                    specs.extend(t.partitions.iter().map(|p| {
                        (
                            TopicPartition::new(t.name.clone(), p.partition),
                            OffsetSpec::Latest,
                        )
                    }));
                }
            }
            if specs.is_empty() {
                return Ok(BTreeMap::new());
            }
            let listed = admin
                .list_offsets(&specs)
                .await
                .map_err(|e| EndOffsetsError(e.to_string()))?;
            Ok(listed
                .into_iter()
                .map(|(tp, listed)| (tp, listed.offset))
                .collect())
        })
    }
}

/// Per stateful task, the sum of the end offsets of its changelog partitions (partition `p`
/// of each changelog topic of its sub-topology); a partition missing from `end_offsets`
/// counts as 0, a negative offset as 0, and a sum that overflows as `i64::MAX` (as Kafka).
pub fn task_end_offset_sums(
    topology: &TopologyInfo,
    stateful_tasks: &BTreeSet<TaskId>,
    end_offsets: &BTreeMap<TopicPartition, i64>,
) -> BTreeMap<TaskId, i64> {
    stateful_tasks
        .iter()
        .map(|task| {
            let changelogs = topology
                .subtopology(task.subtopology)
                .map(|s| s.changelog_topics.as_slice())
                .unwrap_or_default();
            let sum = changelogs
                .iter()
                .map(|topic| {
                    end_offsets
                        .get(&TopicPartition::new(topic.clone(), task.partition))
                        .copied()
                        .unwrap_or(0)
                        .max(0)
                })
                .fold(0i64, i64::saturating_add);
            (*task, sum)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::topology_info::SubtopologyInfo;

    #[test]
    fn a_task_sums_partition_p_of_each_changelog_of_its_subtopology() {
        let topology = TopologyInfo::new(
            "app",
            vec![
                SubtopologyInfo {
                    id: 0,
                    source_topics: vec!["in".into()],
                    changelog_topics: vec!["app-a-changelog".into(), "app-b-changelog".into()],
                    ..Default::default()
                },
                SubtopologyInfo {
                    id: 1,
                    source_topics: vec!["in2".into()],
                    ..Default::default()
                },
            ],
        )
        .expect("a valid topology");
        let offsets: BTreeMap<TopicPartition, i64> = [
            (TopicPartition::new("app-a-changelog", 0), 100),
            (TopicPartition::new("app-b-changelog", 0), 20),
            (TopicPartition::new("app-a-changelog", 1), i64::MAX),
            (TopicPartition::new("app-b-changelog", 1), 5),
            (TopicPartition::new("app-a-changelog", 2), -1),
        ]
        .into();
        let tasks = [
            TaskId::new(0, 0),
            TaskId::new(0, 1),
            TaskId::new(0, 2),
            TaskId::new(0, 3),
        ]
        .into();
        let sums = task_end_offset_sums(&topology, &tasks, &offsets);
        assert_eq!(sums[&TaskId::new(0, 0)], 120);
        assert_eq!(sums[&TaskId::new(0, 1)], i64::MAX, "saturates");
        assert_eq!(sums[&TaskId::new(0, 2)], 0, "negative counts as 0");
        assert_eq!(sums[&TaskId::new(0, 3)], 0, "missing counts as 0");
    }
}
