//! What the assignor needs to know of a topology: its sub-topologies, the topics each reads
//! and writes, and which topics are internal (repartition and changelog topics, named after
//! `application.id` as Kafka Streams names them).

use std::collections::{BTreeMap, BTreeSet};

/// The suffix of repartition topics (`<application.id>-<name>-repartition`).
pub const REPARTITION_SUFFIX: &str = "-repartition";
/// The suffix of a foreign-key join's subscription and response topics
/// (`<application.id>-<name>-topic`, Kafka's `KTableImpl.TOPIC_SUFFIX`): repartition topics
/// too, known as such by being written by a sub-topology's sink.
pub const FK_JOIN_TOPIC_SUFFIX: &str = "-topic";
/// The suffix of changelog topics (`<application.id>-<store>-changelog`).
pub const CHANGELOG_SUFFIX: &str = "-changelog";

/// One sub-topology as the assignor sees it (Kafka's `TopicsInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubtopologyInfo {
    /// The sub-topology id (the first half of its task ids).
    pub id: u32,
    /// Every topic it reads: external input topics and repartition topics.
    pub source_topics: Vec<String>,
    /// The repartition topics it writes (read by other sub-topologies).
    pub sink_repartition_topics: Vec<String>,
    /// The changelog topics of its state stores (one partition per task).
    pub changelog_topics: Vec<String>,
    /// Groups of its source topics that must be co-partitioned (joins): the topics of a group
    /// must have the same number of partitions.
    pub copartition_groups: Vec<Vec<String>>,
}

impl SubtopologyInfo {
    /// Whether the sub-topology has state (its tasks restore changelogs).
    pub fn is_stateful(&self) -> bool {
        !self.changelog_topics.is_empty()
    }
}

/// A topology that breaks the assignor's assumptions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    /// Two sub-topologies share an id.
    #[error("sub-topology id {0} appears more than once in the topology")]
    DuplicateSubtopology(u32),
    /// A topic is read by more than one sub-topology, so its partitions cannot map to one task.
    #[error("topic {topic} is a source topic of sub-topologies {first} and {second}; a topic may be read by one sub-topology only")]
    SharedSourceTopic {
        /// The topic.
        topic: String,
        /// One reader.
        first: u32,
        /// Another.
        second: u32,
    },
    /// An internal topic is not named `<application.id>-<name>-repartition` / `-changelog`.
    #[error("{kind} topic {topic} of sub-topology {subtopology} is not named {application_id}-<name>{suffix}")]
    BadInternalTopicName {
        /// `repartition` or `changelog`.
        kind: &'static str,
        /// The topic.
        topic: String,
        /// The sub-topology listing it.
        subtopology: u32,
        /// The application id.
        application_id: String,
        /// The expected suffix.
        suffix: &'static str,
    },
    /// A co-partition group names a topic its sub-topology does not read.
    #[error("co-partition group {group:?} of sub-topology {subtopology} names {topic}, which is not one of its source topics")]
    CopartitionTopicNotSource {
        /// The sub-topology.
        subtopology: u32,
        /// The group.
        group: Vec<String>,
        /// The topic it does not read.
        topic: String,
    },
}

/// The assignor's view of a topology (`application.id` and its sub-topologies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopologyInfo {
    /// `application.id`: the consumer group id and the prefix of internal topics.
    pub application_id: String,
    /// The sub-topologies, in any order.
    pub subtopologies: Vec<SubtopologyInfo>,
}

impl TopologyInfo {
    /// A topology of `subtopologies` for `application_id`, checked ([`TopologyInfo::validate`]).
    pub fn new(
        application_id: impl Into<String>,
        subtopologies: Vec<SubtopologyInfo>,
    ) -> Result<Self, TopologyError> {
        let info = TopologyInfo {
            application_id: application_id.into(),
            subtopologies,
        };
        info.validate()?;
        Ok(info)
    }

    /// Check what the assignor relies on: unique sub-topology ids, each source topic read by
    /// one sub-topology, internal topics named after the application id, co-partition groups
    /// made of the sub-topology's source topics.
    pub fn validate(&self) -> Result<(), TopologyError> {
        let mut ids = BTreeSet::new();
        let mut readers: BTreeMap<&str, u32> = BTreeMap::new();
        for s in &self.subtopologies {
            if !ids.insert(s.id) {
                return Err(TopologyError::DuplicateSubtopology(s.id));
            }
            for topic in &s.source_topics {
                if let Some(first) = readers.insert(topic, s.id) {
                    if first != s.id {
                        return Err(TopologyError::SharedSourceTopic {
                            topic: topic.clone(),
                            first,
                            second: s.id,
                        });
                    }
                }
            }
            let internal = [
                (
                    "repartition",
                    REPARTITION_SUFFIX,
                    &s.sink_repartition_topics,
                ),
                ("changelog", CHANGELOG_SUFFIX, &s.changelog_topics),
            ];
            for (kind, suffix, topics) in internal {
                let named = |t: &&String| {
                    self.is_internal_with(t, suffix)
                        || (kind == "repartition" && self.is_internal_with(t, FK_JOIN_TOPIC_SUFFIX))
                };
                if let Some(topic) = topics.iter().find(|t| !named(t)) {
                    return Err(TopologyError::BadInternalTopicName {
                        kind,
                        topic: topic.clone(),
                        subtopology: s.id,
                        application_id: self.application_id.clone(),
                        suffix,
                    });
                }
            }
            for group in &s.copartition_groups {
                if let Some(topic) = group.iter().find(|t| !s.source_topics.contains(t)) {
                    return Err(TopologyError::CopartitionTopicNotSource {
                        subtopology: s.id,
                        group: group.clone(),
                        topic: topic.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// `<application.id>-<name>-repartition`.
    pub fn repartition_topic_name(&self, name: &str) -> String {
        format!("{}-{name}{REPARTITION_SUFFIX}", self.application_id)
    }

    /// `<application.id>-<store>-changelog`.
    pub fn changelog_topic_name(&self, store: &str) -> String {
        format!("{}-{store}{CHANGELOG_SUFFIX}", self.application_id)
    }

    fn is_internal_with(&self, topic: &str, suffix: &str) -> bool {
        topic
            .strip_prefix(self.application_id.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|name| !name.is_empty())
    }

    /// Whether `topic` is one of this application's repartition topics: by its name
    /// (`<application.id>-<name>-repartition`), or a foreign-key join's subscription or
    /// response topic (`<application.id>-<name>-topic`) a sub-topology writes.
    pub fn is_repartition_topic(&self, topic: &str) -> bool {
        self.is_internal_with(topic, REPARTITION_SUFFIX)
            || (self.is_internal_with(topic, FK_JOIN_TOPIC_SUFFIX)
                && self
                    .subtopologies
                    .iter()
                    .any(|s| s.sink_repartition_topics.iter().any(|t| t == topic)))
    }

    /// Whether `topic` is one of this application's changelog topics (by its name).
    pub fn is_changelog_topic(&self, topic: &str) -> bool {
        self.is_internal_with(topic, CHANGELOG_SUFFIX)
    }

    /// Whether `topic` is internal to this application (repartition or changelog).
    pub fn is_internal_topic(&self, topic: &str) -> bool {
        self.is_repartition_topic(topic) || self.is_changelog_topic(topic)
    }

    /// Every topic the application reads, sorted: what its consumers subscribe to.
    pub fn source_topics(&self) -> BTreeSet<&str> {
        self.subtopologies
            .iter()
            .flat_map(|s| s.source_topics.iter().map(String::as_str))
            .collect()
    }

    /// The source topics that are not internal (they must exist before the application runs).
    pub fn external_source_topics(&self) -> BTreeSet<&str> {
        self.source_topics()
            .into_iter()
            .filter(|t| !self.is_repartition_topic(t))
            .collect()
    }

    /// Every repartition topic (read or written), sorted.
    pub fn repartition_topics(&self) -> BTreeSet<&str> {
        let written = self
            .subtopologies
            .iter()
            .flat_map(|s| s.sink_repartition_topics.iter().map(String::as_str));
        let read = self
            .source_topics()
            .into_iter()
            .filter(|t| self.is_repartition_topic(t));
        written.chain(read).collect()
    }

    /// Every changelog topic, sorted.
    pub fn changelog_topics(&self) -> BTreeSet<&str> {
        self.subtopologies
            .iter()
            .flat_map(|s| s.changelog_topics.iter().map(String::as_str))
            .collect()
    }

    /// Every internal topic (repartition and changelog), sorted.
    pub fn internal_topics(&self) -> Vec<String> {
        let mut all = self.repartition_topics();
        all.extend(self.changelog_topics());
        all.into_iter().map(str::to_owned).collect()
    }

    /// The sub-topology with id `id`.
    pub fn subtopology(&self, id: u32) -> Option<&SubtopologyInfo> {
        self.subtopologies.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn two_subtopologies() -> Vec<SubtopologyInfo> {
        vec![
            SubtopologyInfo {
                id: 0,
                source_topics: strings(&["input"]),
                sink_repartition_topics: strings(&["app-by-key-repartition"]),
                ..Default::default()
            },
            SubtopologyInfo {
                id: 1,
                source_topics: strings(&["app-by-key-repartition"]),
                changelog_topics: strings(&["app-counts-changelog"]),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn internal_topics_are_recognised_by_application_id_and_suffix() {
        let t = TopologyInfo::new("app", two_subtopologies()).expect("valid");
        assert!(t.is_repartition_topic("app-by-key-repartition"));
        assert!(t.is_changelog_topic("app-counts-changelog"));
        assert!(!t.is_internal_topic("other-x-changelog"));
        assert!(!t.is_internal_topic("app--repartition"));
        assert!(!t.is_internal_topic("input"));
        assert_eq!(t.repartition_topic_name("k"), "app-k-repartition");
        assert_eq!(t.changelog_topic_name("s"), "app-s-changelog");
        assert_eq!(t.external_source_topics(), ["input"].into());
        assert_eq!(
            t.internal_topics(),
            strings(&["app-by-key-repartition", "app-counts-changelog"])
        );
    }

    #[test]
    fn a_foreign_key_joins_topics_are_repartition_topics_when_written_by_a_sink() {
        let reg = "app-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic";
        let subs = vec![
            SubtopologyInfo {
                id: 0,
                source_topics: strings(&["orders", "app-oc-subscription-response-topic"]),
                sink_repartition_topics: strings(&[reg]),
                ..Default::default()
            },
            SubtopologyInfo {
                id: 1,
                source_topics: strings(&["customers", reg, "app-orders-topic"]),
                sink_repartition_topics: strings(&["app-oc-subscription-response-topic"]),
                ..Default::default()
            },
        ];
        let t = TopologyInfo::new("app", subs).expect("valid");
        assert!(t.is_repartition_topic(reg));
        assert!(t.is_repartition_topic("app-oc-subscription-response-topic"));
        // A user's topic that happens to end in -topic is not internal.
        assert!(!t.is_internal_topic("app-orders-topic"));
        assert_eq!(
            t.external_source_topics(),
            ["app-orders-topic", "customers", "orders"].into()
        );
    }

    #[test]
    fn a_topology_that_breaks_the_assignors_assumptions_is_refused() {
        let mut dup = two_subtopologies();
        dup[1].id = 0;
        assert_eq!(
            TopologyInfo::new("app", dup),
            Err(TopologyError::DuplicateSubtopology(0))
        );
        let mut shared = two_subtopologies();
        shared[1].source_topics.push("input".into());
        let err = TopologyInfo::new("app", shared).expect_err("refused");
        assert!(err
            .to_string()
            .contains("topic input is a source topic of sub-topologies 0 and 1"));
        let mut badly_named = two_subtopologies();
        badly_named[1].changelog_topics = strings(&["counts-changelog"]);
        let err = TopologyInfo::new("app", badly_named).expect_err("refused");
        assert!(
            err.to_string().contains("not named app-<name>-changelog"),
            "{err}"
        );
        let mut group = two_subtopologies();
        group[0].copartition_groups = vec![strings(&["input", "other"])];
        let err = TopologyInfo::new("app", group).expect_err("refused");
        assert!(err.to_string().contains("names other"), "{err}");
    }
}
