//! `topology.optimization`: which rewrites the DSL applies when it builds a topology
//! (Kafka's `StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG`).

use std::fmt;

/// `none`: no rewrite (the default).
pub const NO_OPTIMIZATION: &str = "none";
/// `all`: every rewrite.
pub const OPTIMIZE: &str = "all";
/// `reuse.ktable.source.topics`: a table read from a topic restores from that topic instead
/// of a `-changelog` topic of its own.
pub const REUSE_KTABLE_SOURCE_TOPICS: &str = "reuse.ktable.source.topics";
/// `merge.repartition.topics`: the repartition topics after one key-changing operation
/// become one.
pub const MERGE_REPARTITION_TOPICS: &str = "merge.repartition.topics";
/// `single.store.self.join`: a stream-stream self-join uses one window store.
pub const SINGLE_STORE_SELF_JOIN: &str = "single.store.self.join";

/// The rewrites `topology.optimization` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopologyOptimization {
    /// `reuse.ktable.source.topics`.
    pub reuse_ktable_source_topics: bool,
    /// `merge.repartition.topics`.
    pub merge_repartition_topics: bool,
    /// `single.store.self.join`: a stream joined with itself keeps one window store and
    /// one self-join processor.
    pub single_store_self_join: bool,
}

impl TopologyOptimization {
    /// No rewrite (`none`).
    pub const NONE: TopologyOptimization = TopologyOptimization {
        reuse_ktable_source_topics: false,
        merge_repartition_topics: false,
        single_store_self_join: false,
    };

    /// Every rewrite (`all`).
    pub const ALL: TopologyOptimization = TopologyOptimization {
        reuse_ktable_source_topics: true,
        merge_repartition_topics: true,
        single_store_self_join: true,
    };

    /// The value of `topology.optimization`, as Kafka reads it: `none`, `all`, or a
    /// comma-separated list of rule names; `none` and `all` stand alone. The error says what
    /// is accepted.
    pub fn parse(value: &str) -> Result<Self, String> {
        let rules: Vec<&str> = value.split(',').map(str::trim).collect();
        let expected = format!(
            "`{NO_OPTIMIZATION}`, `{OPTIMIZE}`, or a comma-separated list of \
             `{REUSE_KTABLE_SOURCE_TOPICS}`, `{MERGE_REPARTITION_TOPICS}`, \
             `{SINGLE_STORE_SELF_JOIN}`"
        );
        if rules.len() > 1
            && rules
                .iter()
                .any(|r| *r == NO_OPTIMIZATION || *r == OPTIMIZE)
        {
            return Err(format!(
                "`{NO_OPTIMIZATION}` and `{OPTIMIZE}` cannot be combined with other rules; expected {expected}"
            ));
        }
        let mut o = TopologyOptimization::NONE;
        for rule in rules {
            match rule {
                NO_OPTIMIZATION => {}
                OPTIMIZE => o = TopologyOptimization::ALL,
                REUSE_KTABLE_SOURCE_TOPICS => o.reuse_ktable_source_topics = true,
                MERGE_REPARTITION_TOPICS => o.merge_repartition_topics = true,
                SINGLE_STORE_SELF_JOIN => o.single_store_self_join = true,
                other => return Err(format!("unknown rule {other:?}; expected {expected}")),
            }
        }
        Ok(o)
    }

    /// Whether any rewrite is on.
    pub fn any(&self) -> bool {
        *self != TopologyOptimization::NONE
    }
}

impl fmt::Display for TopologyOptimization {
    /// The setting's value: `none`, `all`, or the rules, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == TopologyOptimization::ALL {
            return f.write_str(OPTIMIZE);
        }
        let rules: Vec<&str> = [
            (self.reuse_ktable_source_topics, REUSE_KTABLE_SOURCE_TOPICS),
            (self.merge_repartition_topics, MERGE_REPARTITION_TOPICS),
            (self.single_store_self_join, SINGLE_STORE_SELF_JOIN),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if rules.is_empty() {
            f.write_str(NO_OPTIMIZATION)
        } else {
            f.write_str(&rules.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_kafka_reads_them() {
        assert_eq!(
            TopologyOptimization::parse("all"),
            Ok(TopologyOptimization::ALL)
        );
        assert_eq!(
            TopologyOptimization::parse("none"),
            Ok(TopologyOptimization::NONE)
        );
        let two =
            TopologyOptimization::parse("merge.repartition.topics, reuse.ktable.source.topics")
                .unwrap();
        assert!(two.merge_repartition_topics && two.reuse_ktable_source_topics);
        assert!(!two.single_store_self_join);
        assert_eq!(
            two.to_string(),
            "reuse.ktable.source.topics,merge.repartition.topics"
        );
        assert!(TopologyOptimization::parse("all,merge.repartition.topics")
            .unwrap_err()
            .contains("cannot be combined"));
        assert!(TopologyOptimization::parse("fast")
            .unwrap_err()
            .contains("unknown rule \"fast\""));
        assert_eq!(TopologyOptimization::ALL.to_string(), "all");
        assert_eq!(TopologyOptimization::NONE.to_string(), "none");
    }
}
