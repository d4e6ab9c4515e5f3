//! [`TopicPartition`], the address of a partition, used by every layer.

use std::collections::BTreeMap;
use std::fmt;

/// A topic name and partition index, as Kafka's `TopicPartition`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Items of partitions grouped per topic, topics in name order and each topic's items in input
/// order: the shape of every Kafka request that lists topics, each with its partitions.
pub(crate) fn group_by_topic<'a, V>(
    items: impl IntoIterator<Item = (&'a TopicPartition, V)>,
) -> BTreeMap<&'a str, Vec<(i32, V)>> {
    let mut by_topic: BTreeMap<&str, Vec<(i32, V)>> = BTreeMap::new();
    for (tp, v) in items {
        by_topic
            .entry(&tp.topic)
            .or_default()
            .push((tp.partition, v));
    }
    by_topic
}

/// Partition indexes grouped per topic, as [`group_by_topic`] (input order within a topic).
pub(crate) fn partitions_by_topic<'a>(
    partitions: impl IntoIterator<Item = &'a TopicPartition>,
) -> BTreeMap<&'a str, Vec<i32>> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        by_topic.entry(&tp.topic).or_default().push(tp.partition);
    }
    by_topic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_orders_topics_and_keeps_partition_order() {
        let tps = [
            TopicPartition::new("b", 2),
            TopicPartition::new("a", 1),
            TopicPartition::new("b", 0),
        ];
        let by_topic = partitions_by_topic(&tps);
        assert_eq!(
            by_topic.into_iter().collect::<Vec<_>>(),
            [("a", vec![1]), ("b", vec![2, 0])]
        );
        let items = group_by_topic(tps.iter().zip(["x", "y", "z"]));
        assert_eq!(
            items.into_iter().collect::<Vec<_>>(),
            [("a", vec![(1, "y")]), ("b", vec![(2, "x"), (0, "z")])]
        );
    }
}
