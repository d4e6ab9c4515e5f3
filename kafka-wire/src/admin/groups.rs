//! Consumer-group administration: list, describe, delete groups; list, alter and delete
//! committed offsets; consumer lag (what `kafka-consumer-groups.sh` shows).

use std::collections::BTreeMap;

use crate::cluster::coordinator::{Coordinator, CoordinatorType};
use crate::cluster::TopicsToRefresh;
use crate::error::{Error, Result};
use crate::group::assignor::{decode_assignment, CONSUMER_PROTOCOL_TYPE};
use crate::group::offsets::{self, CommitIdentity, OffsetAndMetadata};
use crate::protocol::messages::delete_groups_request::DeleteGroupsRequest;
use crate::protocol::messages::describe_groups_request::DescribeGroupsRequest;
use crate::protocol::messages::list_groups_request::ListGroupsRequest;
use crate::protocol::messages::offset_delete_request::{
    OffsetDeleteRequest, OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use crate::protocol::ErrorCode;
use crate::topic_partition::partitions_by_topic;
use crate::TopicPartition;

use super::{Admin, OffsetSpec};

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// `consumer` for consumer groups, `connect`, empty for groups that only commit offsets.
    pub protocol_type: String,
    /// `Stable`, `Empty`, `PreparingRebalance`, … (empty if the broker does not say).
    pub state: String,
}

/// One member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// The member id.
    pub member_id: String,
    /// `group.instance.id`, for static members.
    pub group_instance_id: Option<String>,
    /// The member's `client.id`.
    pub client_id: String,
    /// The member's host as the broker saw it.
    pub client_host: String,
    /// Its assigned partitions (consumer groups only).
    pub assignment: Vec<TopicPartition>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Dead`.
    pub state: String,
    /// `consumer` for consumer groups.
    pub protocol_type: String,
    /// The assignor in use (`range`, `cooperative-sticky`, …).
    pub assignor: String,
    /// The members.
    pub members: Vec<MemberDescription>,
}

/// A partition's committed offset, end offset and the lag between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLag {
    /// The group's committed offset.
    pub committed: i64,
    /// The log end offset (high watermark).
    pub end: i64,
    /// `end - committed` (never negative).
    pub lag: i64,
}

impl Admin {
    fn group_coordinator(&self, group: &str) -> Coordinator {
        Coordinator::new(self.client().clone(), CoordinatorType::Group, group)
    }

    /// Every group on every broker (ListGroups is answered per coordinator).
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>> {
        self.client()
            .refresh_metadata(TopicsToRefresh::None)
            .await?;
        let brokers: Vec<i32> = self
            .client()
            .with_metadata(|m| m.brokers.keys().copied().collect());
        let mut out = Vec::new();
        for node in brokers {
            let resp = self
                .client()
                .send_to_node(node, &ListGroupsRequest::default())
                .await?;
            let code = ErrorCode(resp.error_code);
            if !code.is_ok() {
                return Err(Error::kafka(
                    "ListGroups",
                    format!("broker {node}"),
                    code,
                    None,
                ));
            }
            out.extend(resp.groups.into_iter().map(|g| GroupListing {
                group_id: g.group_id,
                protocol_type: g.protocol_type,
                state: g.group_state,
            }));
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out.dedup_by(|a, b| a.group_id == b.group_id);
        Ok(out)
    }

    /// Describe groups: state, assignor, members and their assignments.
    pub async fn describe_groups(&self, groups: &[&str]) -> Result<Vec<GroupDescription>> {
        let mut out = Vec::new();
        for group in groups {
            let coordinator = self.group_coordinator(group);
            let request = DescribeGroupsRequest {
                groups: vec![(*group).to_owned()],
                ..Default::default()
            };
            let resp = coordinator.send(&request).await?;
            for g in resp.groups {
                let code = ErrorCode(g.error_code);
                if !code.is_ok() {
                    return Err(Error::kafka(
                        "DescribeGroups",
                        g.group_id,
                        code,
                        g.error_message,
                    ));
                }
                let mut members = Vec::new();
                for m in g.members {
                    let assignment = if g.protocol_type == CONSUMER_PROTOCOL_TYPE {
                        decode_assignment(m.member_assignment)
                            .map_err(|e| Error::Protocol {
                                operation: "DescribeGroups",
                                detail: format!("member {}'s assignment: {e}", m.member_id),
                            })?
                            .partitions
                    } else {
                        Vec::new()
                    };
                    members.push(MemberDescription {
                        member_id: m.member_id,
                        group_instance_id: m.group_instance_id,
                        client_id: m.client_id,
                        client_host: m.client_host,
                        assignment,
                    });
                }
                out.push(GroupDescription {
                    group_id: g.group_id,
                    state: g.group_state,
                    protocol_type: g.protocol_type,
                    assignor: g.protocol_data,
                    members,
                });
            }
        }
        Ok(out)
    }

    /// Delete groups (they must be empty).
    pub async fn delete_groups(&self, groups: &[&str]) -> Result<()> {
        for group in groups {
            let request = DeleteGroupsRequest {
                groups_names: vec![(*group).to_owned()],
                ..Default::default()
            };
            let resp = self.group_coordinator(group).send(&request).await?;
            for r in resp.results {
                let code = ErrorCode(r.error_code);
                if !code.is_ok() {
                    return Err(Error::kafka(
                        "DeleteGroups",
                        r.group_id,
                        code,
                        r.error_message,
                    ));
                }
            }
        }
        Ok(())
    }

    /// A group's committed offsets: for `partitions`, or every partition it committed for
    /// when `None`.
    pub async fn list_group_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        offsets::fetch_committed(&self.group_coordinator(group), partitions, false).await
    }

    /// Set a group's committed offsets (the group must have no active members, as with
    /// `kafka-consumer-groups.sh --reset-offsets`).
    pub async fn alter_group_offsets(
        &self,
        group: &str,
        offsets: &BTreeMap<TopicPartition, OffsetAndMetadata>,
    ) -> Result<()> {
        offsets::commit(
            &self.group_coordinator(group),
            &CommitIdentity::simple(),
            offsets,
        )
        .await
    }

    /// Delete a group's committed offsets for these partitions (not allowed while the group
    /// is subscribed to their topic: GROUP_SUBSCRIBED_TO_TOPIC).
    pub async fn delete_group_offsets(
        &self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<()> {
        let request = OffsetDeleteRequest {
            group_id: group.to_owned(),
            topics: partitions_by_topic(partitions)
                .into_iter()
                .map(|(name, ps)| OffsetDeleteRequestTopic {
                    name: name.to_owned(),
                    partitions: ps
                        .into_iter()
                        .map(|p| OffsetDeleteRequestPartition {
                            partition_index: p,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let resp = self.group_coordinator(group).send(&request).await?;
        let code = ErrorCode(resp.error_code);
        if !code.is_ok() {
            return Err(Error::kafka("OffsetDelete", group, code, None));
        }
        for t in resp.topics {
            for p in t.partitions {
                let code = ErrorCode(p.error_code);
                if !code.is_ok() {
                    return Err(Error::kafka(
                        "OffsetDelete",
                        format!("group {group} partition {}-{}", t.name, p.partition_index),
                        code,
                        None,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Consumer lag per partition the group committed for: log end offset minus committed
    /// offset.
    pub async fn consumer_lag(
        &self,
        group: &str,
    ) -> Result<BTreeMap<TopicPartition, PartitionLag>> {
        let committed = self.list_group_offsets(group, None).await?;
        if committed.is_empty() {
            return Ok(BTreeMap::new());
        }
        let specs: Vec<(TopicPartition, OffsetSpec)> = committed
            .keys()
            .map(|tp| (tp.clone(), OffsetSpec::Latest))
            .collect();
        let topics: Vec<String> = committed.keys().map(|tp| tp.topic.clone()).collect();
        self.client()
            .refresh_metadata(TopicsToRefresh::Some(topics))
            .await?;
        let ends = self.list_offsets(&specs).await?;
        Ok(committed
            .into_iter()
            .filter_map(|(tp, c)| {
                let end = ends.get(&tp)?.offset;
                Some((
                    tp,
                    PartitionLag {
                        committed: c.offset,
                        end,
                        lag: (end - c.offset).max(0),
                    },
                ))
            })
            .collect())
    }
}
