//! From partition counts to tasks (Kafka's `PartitionGrouper`, `RepartitionTopics` and
//! `CopartitionedTopicsEnforcer`).
//!
//! In order:
//! 1. every external source topic must have a partition count (else
//!    [`GroupingError::MissingSourceTopics`]);
//! 2. each repartition topic gets the largest partition count among the source topics of the
//!    sub-topologies writing it, followed through chains of repartition topics (computed as
//!    the least fixed point, so the order of sub-topologies does not matter);
//! 3. co-partition groups: their external topics must have equal counts (else
//!    [`GroupingError::NotCopartitioned`]), and their repartition topics take that count (the
//!    largest of their own counts if the group has no external topic), as Kafka enforces it
//!    after step 2;
//! 4. a sub-topology has as many tasks as its largest source topic has partitions; task `i`
//!    reads partition `i` of each source topic that has one;
//! 5. a changelog topic has as many partitions as its sub-topology has tasks.
//!
//! Repartition topic counts come from the topology, never from the cluster: whether existing
//! internal topics match them is checked where they are created.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::TopicPartition;

use super::topology_info::TopologyInfo;
use crate::TaskId;

/// The tasks of a topology over given partition counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPlan {
    /// Every task with the source partitions it reads, sorted.
    pub tasks: BTreeMap<TaskId, Vec<TopicPartition>>,
    /// The tasks of sub-topologies with state stores.
    pub stateful_tasks: BTreeSet<TaskId>,
    /// The task reading each source partition.
    pub task_of_partition: BTreeMap<TopicPartition, TaskId>,
    /// The internal topics (repartition and changelog) to create, with their partition counts.
    pub internal_topics: BTreeMap<String, i32>,
}

/// Why the tasks could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupingError {
    /// External source topics are missing from the metadata (not created yet, or deleted).
    #[error("source topics {topics:?} are missing from the cluster metadata; create them before starting the application (or check the topic names in the topology)")]
    MissingSourceTopics {
        /// The missing topics, sorted.
        topics: Vec<String>,
    },
    /// A topic reports a partition count below one.
    #[error("topic {topic} reports {count} partitions")]
    InvalidPartitionCount {
        /// The topic.
        topic: String,
        /// Its count.
        count: i32,
    },
    /// The external topics of a co-partition group have different partition counts.
    #[error("topics {} of sub-topology {subtopology} must be co-partitioned (joined) but have different partition counts; give them the same number of partitions", describe(.topics))]
    NotCopartitioned {
        /// The sub-topology.
        subtopology: u32,
        /// Each topic of the group with its count.
        topics: Vec<(String, i32)>,
    },
    /// A repartition topic's count cannot be derived: no sub-topology with known inputs
    /// writes it.
    #[error("the partition count of repartition topic {topic} cannot be derived: no sub-topology writing it reads a topic of known size")]
    UnresolvedRepartitionTopic {
        /// The topic.
        topic: String,
    },
}

fn describe(topics: &[(String, i32)]) -> String {
    let parts: Vec<String> = topics
        .iter()
        .map(|(t, n)| format!("{t} ({n} partitions)"))
        .collect();
    parts.join(", ")
}

/// Compute the tasks of `topology` given the partition count of each topic that exists.
pub fn plan_tasks(
    topology: &TopologyInfo,
    partitions_per_topic: &BTreeMap<String, i32>,
) -> Result<TaskPlan, GroupingError> {
    let mut counts = external_counts(topology, partitions_per_topic)?;
    resolve_repartition_counts(topology, &mut counts)?;
    enforce_copartitioning(topology, &mut counts)?;

    let mut plan = TaskPlan::default();
    for (topic, count) in &counts {
        if topology.is_repartition_topic(topic) {
            plan.internal_topics.insert(topic.clone(), *count);
        }
    }
    for s in &topology.subtopologies {
        let task_count = s
            .source_topics
            .iter()
            .filter_map(|t| counts.get(t))
            .copied()
            .max()
            .unwrap_or(0);
        for partition in 0..task_count {
            let task = TaskId::new(s.id, partition);
            let mut partitions: Vec<TopicPartition> = s
                .source_topics
                .iter()
                .filter(|t| counts.get(*t).is_some_and(|n| partition < *n))
                .map(|t| TopicPartition::new(t.clone(), partition))
                .collect();
            partitions.sort();
            for tp in &partitions {
                plan.task_of_partition.insert(tp.clone(), task);
            }
            plan.tasks.insert(task, partitions);
            if s.is_stateful() {
                plan.stateful_tasks.insert(task);
            }
        }
        for changelog in &s.changelog_topics {
            let entry = plan.internal_topics.entry(changelog.clone()).or_insert(0);
            *entry = (*entry).max(task_count);
        }
    }
    Ok(plan)
}

/// The counts of the external source topics; all must be known.
fn external_counts(
    topology: &TopologyInfo,
    partitions_per_topic: &BTreeMap<String, i32>,
) -> Result<BTreeMap<String, i32>, GroupingError> {
    let mut counts = BTreeMap::new();
    let mut missing = Vec::new();
    for topic in topology.external_source_topics() {
        match partitions_per_topic.get(topic) {
            None => missing.push(topic.to_owned()),
            Some(&count) if count < 1 => {
                return Err(GroupingError::InvalidPartitionCount {
                    topic: topic.to_owned(),
                    count,
                })
            }
            Some(&count) => {
                counts.insert(topic.to_owned(), count);
            }
        }
    }
    if missing.is_empty() {
        Ok(counts)
    } else {
        Err(GroupingError::MissingSourceTopics { topics: missing })
    }
}

/// Give every repartition topic the largest count among the inputs of its writers, through
/// chains: raise counts until nothing changes (counts only grow and are bounded by the largest
/// external count, so this ends).
fn resolve_repartition_counts(
    topology: &TopologyInfo,
    counts: &mut BTreeMap<String, i32>,
) -> Result<(), GroupingError> {
    let repartition = topology.repartition_topics();
    loop {
        let mut changed = false;
        for topic in &repartition {
            let candidate = topology
                .subtopologies
                .iter()
                .filter(|s| s.sink_repartition_topics.iter().any(|t| t == topic))
                .flat_map(|s| s.source_topics.iter())
                .filter_map(|t| counts.get(t))
                .copied()
                .max();
            if let Some(candidate) = candidate {
                let current = counts.entry((*topic).to_owned()).or_insert(0);
                if candidate > *current {
                    *current = candidate;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    match repartition.iter().find(|t| !counts.contains_key(**t)) {
        Some(topic) => Err(GroupingError::UnresolvedRepartitionTopic {
            topic: (*topic).to_owned(),
        }),
        None => Ok(()),
    }
}

/// Kafka's `CopartitionedTopicsEnforcer`.
fn enforce_copartitioning(
    topology: &TopologyInfo,
    counts: &mut BTreeMap<String, i32>,
) -> Result<(), GroupingError> {
    for s in &topology.subtopologies {
        for group in &s.copartition_groups {
            let group: BTreeSet<&str> = group.iter().map(String::as_str).collect();
            let (internal, external): (Vec<&str>, Vec<&str>) =
                group.iter().partition(|t| topology.is_repartition_topic(t));
            let external_counts: BTreeSet<i32> = external
                .iter()
                .filter_map(|t| counts.get(*t))
                .copied()
                .collect();
            if external_counts.len() > 1 {
                return Err(GroupingError::NotCopartitioned {
                    subtopology: s.id,
                    topics: external
                        .iter()
                        .filter_map(|t| counts.get(*t).map(|n| ((*t).to_owned(), *n)))
                        .collect(),
                });
            }
            let target = match external_counts.first() {
                Some(n) => Some(*n),
                None => internal
                    .iter()
                    .filter_map(|t| counts.get(*t))
                    .copied()
                    .max(),
            };
            if let Some(target) = target {
                for topic in internal {
                    counts.insert(topic.to_owned(), target);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::topology_info::SubtopologyInfo;
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn counts(v: &[(&str, i32)]) -> BTreeMap<String, i32> {
        v.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn sub(id: u32, sources: &[&str], sinks: &[&str], changelogs: &[&str]) -> SubtopologyInfo {
        SubtopologyInfo {
            id,
            source_topics: strings(sources),
            sink_repartition_topics: strings(sinks),
            changelog_topics: strings(changelogs),
            copartition_groups: Vec::new(),
        }
    }

    fn topology(subs: Vec<SubtopologyInfo>) -> TopologyInfo {
        TopologyInfo::new("app", subs).expect("valid topology")
    }

    #[test]
    fn a_subtopology_has_as_many_tasks_as_its_largest_source_topic() {
        let t = topology(vec![
            sub(0, &["a", "b"], &[], &[]),
            sub(1, &["c"], &[], &[]),
        ]);
        let plan = plan_tasks(&t, &counts(&[("a", 2), ("b", 4), ("c", 1)])).expect("plans");
        let ids: Vec<String> = plan.tasks.keys().map(ToString::to_string).collect();
        assert_eq!(ids, ["0_0", "0_1", "0_2", "0_3", "1_0"]);
        assert_eq!(
            plan.tasks[&TaskId::new(0, 1)],
            vec![TopicPartition::new("a", 1), TopicPartition::new("b", 1)]
        );
        assert_eq!(
            plan.tasks[&TaskId::new(0, 3)],
            vec![TopicPartition::new("b", 3)]
        );
        assert_eq!(
            plan.task_of_partition[&TopicPartition::new("c", 0)],
            TaskId::new(1, 0)
        );
        assert!(plan.stateful_tasks.is_empty());
        assert!(plan.internal_topics.is_empty());
    }

    #[test]
    fn missing_source_topics_are_named() {
        let t = topology(vec![
            sub(0, &["a", "b"], &[], &[]),
            sub(1, &["c"], &[], &[]),
        ]);
        let err = plan_tasks(&t, &counts(&[("b", 1)])).expect_err("missing");
        assert_eq!(
            err,
            GroupingError::MissingSourceTopics {
                topics: strings(&["a", "c"])
            }
        );
        assert!(
            err.to_string().contains("[\"a\", \"c\"] are missing"),
            "{err}"
        );
    }

    #[test]
    fn a_repartition_chain_takes_the_largest_upstream_count() {
        // 0: in(3), side(5) -> r1 ; 1: r1 -> r2 ; 2: r2, other(2) -> changelog
        let t = topology(vec![
            sub(
                2,
                &["app-r2-repartition", "other"],
                &[],
                &["app-store-changelog"],
            ),
            sub(1, &["app-r1-repartition"], &["app-r2-repartition"], &[]),
            sub(0, &["in", "side"], &["app-r1-repartition"], &[]),
        ]);
        let plan = plan_tasks(&t, &counts(&[("in", 3), ("side", 5), ("other", 2)])).expect("plans");
        assert_eq!(
            plan.internal_topics,
            counts(&[
                ("app-r1-repartition", 5),
                ("app-r2-repartition", 5),
                ("app-store-changelog", 5)
            ])
        );
        assert_eq!(plan.tasks.keys().filter(|t| t.subtopology == 2).count(), 5);
        assert!(plan.stateful_tasks.contains(&TaskId::new(2, 4)));
        assert!(!plan.stateful_tasks.contains(&TaskId::new(1, 0)));
    }

    #[test]
    fn existing_repartition_topics_keep_the_topology_count_not_the_clusters() {
        let t = topology(vec![
            sub(0, &["in"], &["app-r-repartition"], &[]),
            sub(1, &["app-r-repartition"], &[], &[]),
        ]);
        let plan = plan_tasks(&t, &counts(&[("in", 2), ("app-r-repartition", 7)])).expect("plans");
        assert_eq!(plan.internal_topics["app-r-repartition"], 2);
        assert_eq!(plan.tasks.len(), 4);
    }

    #[test]
    fn a_repartition_topic_nobody_writes_is_an_error() {
        let t = topology(vec![sub(1, &["app-r-repartition"], &[], &[])]);
        let err = plan_tasks(&t, &BTreeMap::new()).expect_err("unresolved");
        assert!(
            err.to_string()
                .contains("app-r-repartition cannot be derived"),
            "{err}"
        );
    }

    #[test]
    fn copartitioned_topics_with_different_counts_are_named_with_their_counts() {
        let mut join = sub(0, &["left", "right"], &[], &[]);
        join.copartition_groups = vec![strings(&["left", "right"])];
        let t = topology(vec![join]);
        let err = plan_tasks(&t, &counts(&[("left", 3), ("right", 4)])).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "topics left (3 partitions), right (4 partitions) of sub-topology 0 must be \
             co-partitioned (joined) but have different partition counts; give them the same \
             number of partitions"
        );
        assert!(plan_tasks(&t, &counts(&[("left", 4), ("right", 4)])).is_ok());
    }

    #[test]
    fn a_repartition_topic_in_a_copartition_group_takes_the_groups_count() {
        let mut join = sub(
            1,
            &["app-r-repartition", "table"],
            &[],
            &["app-j-changelog"],
        );
        join.copartition_groups = vec![strings(&["app-r-repartition", "table"])];
        let t = topology(vec![sub(0, &["in"], &["app-r-repartition"], &[]), join]);
        let plan = plan_tasks(&t, &counts(&[("in", 8), ("table", 3)])).expect("plans");
        assert_eq!(plan.internal_topics["app-r-repartition"], 3);
        assert_eq!(plan.internal_topics["app-j-changelog"], 3);
        assert_eq!(plan.tasks.keys().filter(|t| t.subtopology == 1).count(), 3);
    }

    #[test]
    fn copartitioned_repartition_topics_alone_take_their_largest_count() {
        let mut join = sub(2, &["app-a-repartition", "app-b-repartition"], &[], &[]);
        join.copartition_groups = vec![strings(&["app-a-repartition", "app-b-repartition"])];
        let t = topology(vec![
            sub(0, &["x"], &["app-a-repartition"], &[]),
            sub(1, &["y"], &["app-b-repartition"], &[]),
            join,
        ]);
        let plan = plan_tasks(&t, &counts(&[("x", 2), ("y", 6)])).expect("plans");
        assert_eq!(plan.internal_topics["app-a-repartition"], 6);
        assert_eq!(plan.internal_topics["app-b-repartition"], 6);
    }

    #[test]
    fn a_zero_partition_count_is_an_error() {
        let t = topology(vec![sub(0, &["a"], &[], &[])]);
        assert_eq!(
            plan_tasks(&t, &counts(&[("a", 0)])),
            Err(GroupingError::InvalidPartitionCount {
                topic: "a".into(),
                count: 0
            })
        );
    }
}
