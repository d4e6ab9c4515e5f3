//! The cluster metadata cache: brokers, topics, partitions and their leaders.
//!
//! A plain value updated from Metadata responses, with no I/O: the [`Client`](super::Client)
//! decides when to fetch and applies responses here. Partition leadership is never moved
//! backwards: a response from a lagging broker with an older leader epoch than the cached one
//! does not replace the cached partition (as in the Java client).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::config::BrokerAddress;
use crate::protocol::messages::MetadataResponse;
use crate::protocol::{ErrorCode, Uuid};
use crate::TopicPartition;

/// A broker from metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerMetadata {
    /// `node.id`.
    pub node_id: i32,
    /// Advertised address.
    pub address: BrokerAddress,
    /// `broker.rack`, if set.
    pub rack: Option<String>,
}

/// A partition from metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// Partition index.
    pub partition: i32,
    /// Leader node, `None` while there is none (election in progress, all replicas offline).
    pub leader: Option<i32>,
    /// Leader epoch, -1 if the broker does not send it.
    pub leader_epoch: i32,
    /// All replicas.
    pub replicas: Vec<i32>,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Offline replicas.
    pub offline_replicas: Vec<i32>,
    /// Partition-level error (e.g. LEADER_NOT_AVAILABLE).
    pub error: ErrorCode,
}

/// A topic from metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    /// Topic name.
    pub name: String,
    /// Topic id (zero from brokers that do not send one).
    pub topic_id: Uuid,
    /// Internal topic such as `__consumer_offsets`.
    pub is_internal: bool,
    /// Partitions ordered by index.
    pub partitions: Vec<PartitionMetadata>,
    /// Topic-level error (e.g. UNKNOWN_TOPIC_OR_PARTITION).
    pub error: ErrorCode,
}

/// Where a partition's leader stands in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderLookup {
    /// The leader's node id and address.
    Leader(BrokerMetadata),
    /// The topic is not in the cache (or the broker said it does not exist).
    UnknownTopic,
    /// The topic exists but has no such partition.
    UnknownPartition,
    /// The partition currently has no leader (or the leader is not among known brokers).
    NoLeader,
}

/// Everything the client knows about the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterMetadata {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// The node that handles controller requests (any broker forwards them under KRaft).
    pub controller_id: Option<i32>,
    /// Brokers by node id.
    pub brokers: BTreeMap<i32, BrokerMetadata>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicMetadata>,
    updated_at: Option<Instant>,
    stale: bool,
}

impl ClusterMetadata {
    /// Apply a Metadata response. `all_topics` is true when it answered a request for every
    /// topic, so topics absent from it are forgotten.
    pub fn update(&mut self, response: &MetadataResponse, all_topics: bool, now: Instant) {
        self.cluster_id = response.cluster_id.clone().or(self.cluster_id.take());
        self.controller_id = (response.controller_id >= 0).then_some(response.controller_id);
        if !response.brokers.is_empty() {
            self.brokers = response
                .brokers
                .iter()
                .map(|b| {
                    let broker = BrokerMetadata {
                        node_id: b.node_id,
                        address: BrokerAddress {
                            host: b.host.clone(),
                            port: u16::try_from(b.port).unwrap_or(0),
                        },
                        rack: b.rack.clone(),
                    };
                    (b.node_id, broker)
                })
                .collect();
        }
        if all_topics {
            let present: std::collections::BTreeSet<&str> = response
                .topics
                .iter()
                .filter_map(|t| t.name.as_deref())
                .collect();
            self.topics
                .retain(|name, _| present.contains(name.as_str()));
        }
        for t in &response.topics {
            let Some(name) = t.name.clone() else { continue };
            let error = ErrorCode(t.error_code);
            if error == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                || error == ErrorCode::INVALID_TOPIC_EXCEPTION
            {
                self.topics.remove(&name);
                continue;
            }
            let old = self.topics.get(&name);
            let mut partitions: Vec<PartitionMetadata> = t
                .partitions
                .iter()
                .map(|p| {
                    let fresh = PartitionMetadata {
                        partition: p.partition_index,
                        leader: (p.leader_id >= 0).then_some(p.leader_id),
                        leader_epoch: p.leader_epoch,
                        replicas: p.replica_nodes.clone(),
                        isr: p.isr_nodes.clone(),
                        offline_replicas: p.offline_replicas.clone(),
                        error: ErrorCode(p.error_code),
                    };
                    match old.and_then(|o| {
                        o.partitions
                            .iter()
                            .find(|q| q.partition == p.partition_index)
                    }) {
                        Some(cached)
                            if fresh.leader_epoch >= 0
                                && cached.leader_epoch > fresh.leader_epoch =>
                        {
                            cached.clone()
                        }
                        _ => fresh,
                    }
                })
                .collect();
            partitions.sort_by_key(|p| p.partition);
            self.topics.insert(
                name.clone(),
                TopicMetadata {
                    name,
                    topic_id: t.topic_id,
                    is_internal: t.is_internal,
                    partitions,
                    error,
                },
            );
        }
        self.updated_at = Some(now);
        self.stale = false;
    }

    /// Mark the cache stale so the next lookup refreshes it (after NOT_LEADER_OR_FOLLOWER etc.).
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// Whether a refresh is due: never fetched, marked stale, or older than `max_age`.
    pub fn needs_refresh(&self, now: Instant, max_age: Duration) -> bool {
        self.stale
            || self
                .updated_at
                .is_none_or(|t| now.saturating_duration_since(t) >= max_age)
    }

    /// The leader of `tp` as far as the cache knows.
    pub fn leader(&self, tp: &TopicPartition) -> LeaderLookup {
        let Some(topic) = self.topics.get(&tp.topic) else {
            return LeaderLookup::UnknownTopic;
        };
        let Some(p) = topic
            .partitions
            .iter()
            .find(|p| p.partition == tp.partition)
        else {
            return LeaderLookup::UnknownPartition;
        };
        match p.leader.and_then(|id| self.brokers.get(&id)) {
            Some(b) => LeaderLookup::Leader(b.clone()),
            None => LeaderLookup::NoLeader,
        }
    }

    /// Number of partitions of `topic`, if known.
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.topics.get(topic).map(|t| t.partitions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    fn response(leader: i32, epoch: i32) -> MetadataResponse {
        MetadataResponse {
            brokers: vec![
                MetadataResponseBroker {
                    node_id: 1,
                    host: "a".into(),
                    port: 9092,
                    ..Default::default()
                },
                MetadataResponseBroker {
                    node_id: 2,
                    host: "b".into(),
                    port: 9092,
                    ..Default::default()
                },
            ],
            controller_id: 1,
            topics: vec![MetadataResponseTopic {
                name: Some("t".into()),
                partitions: vec![MetadataResponsePartition {
                    partition_index: 0,
                    leader_id: leader,
                    leader_epoch: epoch,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn leader_follows_newer_epochs_only() {
        let now = Instant::now();
        let tp = TopicPartition::new("t", 0);
        let mut m = ClusterMetadata::default();
        assert!(m.needs_refresh(now, Duration::from_secs(60)));
        m.update(&response(1, 5), false, now);
        assert!(matches!(m.leader(&tp), LeaderLookup::Leader(b) if b.node_id == 1));
        m.update(&response(2, 4), false, now); // a lagging broker's view
        assert!(matches!(m.leader(&tp), LeaderLookup::Leader(b) if b.node_id == 1));
        m.update(&response(2, 6), false, now);
        assert!(matches!(m.leader(&tp), LeaderLookup::Leader(b) if b.node_id == 2));
        m.update(&response(-1, 7), false, now);
        assert_eq!(m.leader(&tp), LeaderLookup::NoLeader);
        assert_eq!(
            m.leader(&TopicPartition::new("t", 9)),
            LeaderLookup::UnknownPartition
        );
        assert_eq!(
            m.leader(&TopicPartition::new("u", 0)),
            LeaderLookup::UnknownTopic
        );
    }

    #[test]
    fn staleness() {
        let now = Instant::now();
        let mut m = ClusterMetadata::default();
        m.update(&response(1, 0), true, now);
        assert!(!m.needs_refresh(now, Duration::from_secs(60)));
        assert!(m.needs_refresh(now + Duration::from_secs(61), Duration::from_secs(60)));
        m.invalidate();
        assert!(m.needs_refresh(now, Duration::from_secs(60)));
    }
}
