//! Committed offsets: OffsetCommit and OffsetFetch against the group coordinator.

use std::collections::BTreeMap;
use std::time::Instant;

use tracing::debug;

use crate::cluster::coordinator::Coordinator;
use crate::cluster::retry::RetryPolicy;
use crate::error::{Error, Result};
use crate::protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use crate::protocol::messages::offset_fetch_request::{
    OffsetFetchRequest, OffsetFetchRequestTopic,
};
use crate::protocol::ErrorCode;
use crate::topic_partition::{group_by_topic, partitions_by_topic};
use crate::TopicPartition;

/// A committed position: the offset of the next record to consume, with the leader epoch of
/// the last consumed record and free-form metadata (Java's `OffsetAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// The leader epoch of the last consumed record, if known.
    pub leader_epoch: Option<i32>,
    /// Application metadata stored with the offset.
    pub metadata: Option<String>,
}

impl OffsetAndMetadata {
    /// An offset without epoch or metadata.
    pub fn new(offset: i64) -> Self {
        OffsetAndMetadata {
            offset,
            leader_epoch: None,
            metadata: None,
        }
    }
}

/// Who commits: the member's identity in its current generation, or the "simple" identity
/// (`generation -1`, empty member id) of a consumer outside group management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitIdentity {
    /// The generation the member belongs to, or -1.
    pub generation_id: i32,
    /// The member id, or empty.
    pub member_id: String,
    /// `group.instance.id`, if static.
    pub group_instance_id: Option<String>,
}

impl CommitIdentity {
    /// The identity of a consumer that commits without being a group member (admin tools).
    pub fn simple() -> Self {
        CommitIdentity {
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// What a transactional producer needs to commit offsets for a consumer group in a transaction
/// (KIP-447): the group and the member's current generation, so the coordinator can fence a
/// zombie whose partitions were reassigned. Java's `ConsumerGroupMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// The member's generation, member id and instance id.
    pub member: CommitIdentity,
}

/// OffsetCommit v10 addresses topics by id; this client sends names (v9 and below).
const MAX_OFFSET_COMMIT_VERSION: i16 = 9;
/// OffsetFetch v8 batches groups; one group per request keeps v7's shape.
const MAX_OFFSET_FETCH_VERSION: i16 = 7;

/// Commit `offsets` for the coordinator's group. Retries coordinator moves and loading until
/// `default.api.timeout.ms`; any other error fails the commit, naming the partition. A fencing
/// error (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS) means
/// the partitions may belong to someone else now: the caller must not retry with the same
/// generation.
pub async fn commit(
    coordinator: &Coordinator,
    identity: &CommitIdentity,
    offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
) -> Result<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let config = coordinator.client().config().clone();
    let mut policy = RetryPolicy::new(
        "OffsetCommit",
        config.default_api_timeout,
        &config,
        Instant::now(),
    );
    loop {
        let resp = coordinator
            .send_versioned(MAX_OFFSET_COMMIT_VERSION, |v| {
                commit_request(coordinator.key(), identity, offsets, v)
            })
            .await;
        let retry = match resp {
            Ok(resp) => {
                let mut retry = None;
                for topic in resp.topics {
                    for p in topic.partitions {
                        let code = ErrorCode(p.error_code);
                        if code.is_ok() {
                            continue;
                        }
                        let tp = TopicPartition::new(topic.name.clone(), p.partition_index);
                        let err = Error::kafka(
                            "OffsetCommit",
                            format!("group {} partition {tp}", coordinator.key()),
                            code,
                            None,
                        );
                        if coordinator.check(code)
                            || code == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
                        {
                            retry = Some(err);
                        } else {
                            return Err(err);
                        }
                    }
                }
                match retry {
                    None => return Ok(()),
                    Some(e) => e,
                }
            }
            Err(e) => e,
        };
        debug!(group = coordinator.key(), error = %retry, "offset commit failed");
        backoff(&mut policy, coordinator, retry).await?;
    }
}

fn commit_request(
    group: &str,
    identity: &CommitIdentity,
    offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    version: i16,
) -> OffsetCommitRequest {
    let topics = group_by_topic(offsets)
        .into_iter()
        .map(|(name, partitions)| OffsetCommitRequestTopic {
            name: name.to_owned(),
            partitions: partitions
                .into_iter()
                .map(|(partition_index, om)| OffsetCommitRequestPartition {
                    partition_index,
                    committed_offset: om.offset,
                    committed_leader_epoch: if version >= 6 {
                        om.leader_epoch.unwrap_or(-1)
                    } else {
                        -1
                    },
                    committed_metadata: Some(om.metadata.clone().unwrap_or_default()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    OffsetCommitRequest {
        group_id: group.to_owned(),
        generation_id_or_member_epoch: identity.generation_id,
        member_id: identity.member_id.clone(),
        group_instance_id: if version >= 7 {
            identity.group_instance_id.clone()
        } else {
            None
        },
        topics,
        ..Default::default()
    }
}

/// The committed offsets of `partitions` (all partitions with a commit if `None`). A partition
/// without a committed offset is absent from the result. With `require_stable`, offsets of
/// pending transactions make the broker answer UNSTABLE_OFFSET_COMMIT, which is retried (as the
/// Java consumer does for `read_committed`, KIP-447).
pub async fn fetch_committed(
    coordinator: &Coordinator,
    partitions: Option<&[TopicPartition]>,
    require_stable: bool,
) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
    let config = coordinator.client().config().clone();
    let mut policy = RetryPolicy::new(
        "OffsetFetch",
        config.default_api_timeout,
        &config,
        Instant::now(),
    );
    let topics = partitions.map(|tps| {
        partitions_by_topic(tps)
            .into_iter()
            .map(|(name, mut partition_indexes)| {
                partition_indexes.sort_unstable();
                OffsetFetchRequestTopic {
                    name: name.to_owned(),
                    partition_indexes,
                    ..Default::default()
                }
            })
            .collect::<Vec<_>>()
    });
    loop {
        let resp = coordinator
            .send_versioned(MAX_OFFSET_FETCH_VERSION, |v| OffsetFetchRequest {
                group_id: coordinator.key().to_owned(),
                topics: topics.clone(),
                require_stable: require_stable && v >= 7,
                ..Default::default()
            })
            .await;
        let retry = match resp {
            Ok(resp) => {
                let top = ErrorCode(resp.error_code);
                let mut retry = None;
                if !top.is_ok() {
                    let err = Error::kafka("OffsetFetch", coordinator.key(), top, None);
                    if coordinator.check(top)
                        || top == ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
                        || top == ErrorCode::UNSTABLE_OFFSET_COMMIT
                    {
                        retry = Some(err);
                    } else {
                        return Err(err);
                    }
                }
                let mut out = BTreeMap::new();
                for topic in resp.topics {
                    for p in topic.partitions {
                        let code = ErrorCode(p.error_code);
                        let tp = TopicPartition::new(topic.name.clone(), p.partition_index);
                        if code == ErrorCode::UNSTABLE_OFFSET_COMMIT {
                            retry = Some(Error::kafka("OffsetFetch", tp.to_string(), code, None));
                            continue;
                        }
                        if !code.is_ok() {
                            return Err(Error::kafka(
                                "OffsetFetch",
                                format!("group {} partition {tp}", coordinator.key()),
                                code,
                                None,
                            ));
                        }
                        if p.committed_offset < 0 {
                            continue; // nothing committed
                        }
                        out.insert(
                            tp,
                            OffsetAndMetadata {
                                offset: p.committed_offset,
                                leader_epoch: (p.committed_leader_epoch >= 0)
                                    .then_some(p.committed_leader_epoch),
                                metadata: p.metadata.filter(|m| !m.is_empty()),
                            },
                        );
                    }
                }
                match retry {
                    None => return Ok(out),
                    Some(e) => e,
                }
            }
            Err(e) => e,
        };
        backoff(&mut policy, coordinator, retry).await?;
    }
}

/// Wait as the retry policy says after `err` (marking the coordinator unknown when it moved),
/// or return the error to give up with.
async fn backoff(policy: &mut RetryPolicy, coordinator: &Coordinator, err: Error) -> Result<()> {
    coordinator
        .client()
        .back_off(policy.on_error(err, Instant::now()), Some(coordinator))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_request_groups_partitions_by_topic_and_respects_versions() {
        let mut offsets = BTreeMap::new();
        offsets.insert(TopicPartition::new("a", 1), OffsetAndMetadata::new(10));
        offsets.insert(TopicPartition::new("a", 0), OffsetAndMetadata::new(5));
        offsets.insert(
            TopicPartition::new("b", 0),
            OffsetAndMetadata {
                offset: 7,
                leader_epoch: Some(3),
                metadata: Some("m".into()),
            },
        );
        let identity = CommitIdentity {
            generation_id: 4,
            member_id: "m-1".into(),
            group_instance_id: Some("i".into()),
        };
        let r = commit_request("g", &identity, &offsets, 9);
        assert_eq!(r.topics.len(), 2);
        assert_eq!(r.topics[0].partitions.len(), 2);
        assert_eq!(r.topics[1].partitions[0].committed_leader_epoch, 3);
        assert_eq!(r.group_instance_id.as_deref(), Some("i"));
        let old = commit_request("g", &identity, &offsets, 5);
        assert_eq!(old.group_instance_id, None);
        assert_eq!(old.topics[1].partitions[0].committed_leader_epoch, -1);
    }
}
