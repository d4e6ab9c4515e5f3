//! Listing partition offsets and deleting records, each sent to the partition leaders.

use std::collections::BTreeMap;

use super::Admin;
use crate::error::{Error, Result};
use crate::protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use crate::protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use crate::protocol::messages::{DeleteRecordsRequest, ListOffsetsRequest};
use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// Which offset [`Admin::list_offsets`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The log end offset (high watermark).
    Latest,
    /// The first offset whose timestamp is at or after this time (ms); -1 offset if none.
    Timestamp(i64),
    /// The offset of the record with the largest timestamp (KIP-734).
    MaxTimestamp,
}

impl OffsetSpec {
    fn wire(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::MaxTimestamp => -3,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

/// A listed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedOffset {
    /// The offset; -1 when no record matches a timestamp.
    pub offset: i64,
    /// The record's timestamp for timestamp lookups, -1 otherwise.
    pub timestamp: i64,
    /// The leader epoch of that offset, if the broker reports it.
    pub leader_epoch: Option<i32>,
}

/// Group `items` by the leader of their partition.
async fn by_leader<T: Clone>(
    admin: &Admin,
    items: &BTreeMap<TopicPartition, T>,
) -> Result<BTreeMap<i32, Vec<(TopicPartition, T)>>> {
    let mut groups: BTreeMap<i32, Vec<(TopicPartition, T)>> = BTreeMap::new();
    for (tp, v) in items {
        let leader = admin.client.leader(tp).await?;
        groups
            .entry(leader.node_id)
            .or_default()
            .push((tp.clone(), v.clone()));
    }
    Ok(groups)
}

fn group_topics<T, P>(
    items: &[(TopicPartition, T)],
    mut partition: impl FnMut(i32, &T) -> P,
) -> BTreeMap<String, Vec<P>> {
    let mut topics: BTreeMap<String, Vec<P>> = BTreeMap::new();
    for (tp, v) in items {
        topics
            .entry(tp.topic.clone())
            .or_default()
            .push(partition(tp.partition, v));
    }
    topics
}

impl Admin {
    /// Look up offsets (read_uncommitted) for partitions, each from its leader.
    pub async fn list_offsets(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
    ) -> Result<BTreeMap<TopicPartition, ListedOffset>> {
        let pending: BTreeMap<TopicPartition, OffsetSpec> = specs.iter().cloned().collect();
        let state = tokio::sync::Mutex::new((pending, BTreeMap::new()));
        self.client
            .retry("ListOffsets", || async {
                let mut guard = state.lock().await;
                let (pending, out) = &mut *guard;
                {
                    let mut retriable: Option<Error> = None;
                    for (leader, items) in by_leader(self, pending).await? {
                        let topics =
                            group_topics(&items, |p, spec: &OffsetSpec| ListOffsetsPartition {
                                partition_index: p,
                                timestamp: spec.wire(),
                                ..Default::default()
                            });
                        let request = ListOffsetsRequest {
                            replica_id: -1,
                            topics: topics
                                .into_iter()
                                .map(|(name, partitions)| ListOffsetsTopic {
                                    name,
                                    partitions,
                                    ..Default::default()
                                })
                                .collect(),
                            ..Default::default()
                        };
                        let response = match self.client.send_to_node(leader, &request).await {
                            Ok(r) => r,
                            Err(e) if e.is_retriable() => {
                                retriable = Some(e);
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        for t in response.topics {
                            for p in t.partitions {
                                let tp = TopicPartition::new(t.name.clone(), p.partition_index);
                                match ErrorCode(p.error_code) {
                                    ErrorCode::NONE => {
                                        pending.remove(&tp);
                                        out.insert(
                                            tp,
                                            ListedOffset {
                                                offset: p.offset,
                                                timestamp: p.timestamp,
                                                leader_epoch: (p.leader_epoch >= 0)
                                                    .then_some(p.leader_epoch),
                                            },
                                        );
                                    }
                                    code => {
                                        let e =
                                            Error::kafka("ListOffsets", tp.to_string(), code, None);
                                        if !code.is_retriable() {
                                            return Err(e);
                                        }
                                        retriable = Some(e);
                                    }
                                }
                            }
                        }
                    }
                    match retriable {
                        Some(e) if !pending.is_empty() => Err(e),
                        _ => Ok(()),
                    }
                }
            })
            .await?;
        Ok(state.into_inner().1)
    }

    /// Delete all records before the given offsets (-1: up to the high watermark). Returns the
    /// new log start offset (low watermark) per partition.
    pub async fn delete_records(
        &self,
        before: &[(TopicPartition, i64)],
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        let timeout_ms = self
            .client
            .config()
            .request_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32;
        let pending: BTreeMap<TopicPartition, i64> = before.iter().cloned().collect();
        let state = tokio::sync::Mutex::new((pending, BTreeMap::new()));
        self.client
            .retry("DeleteRecords", || async {
                let mut guard = state.lock().await;
                let (pending, out) = &mut *guard;
                {
                    let mut retriable: Option<Error> = None;
                    for (leader, items) in by_leader(self, pending).await? {
                        let topics =
                            group_topics(&items, |p, offset: &i64| DeleteRecordsPartition {
                                partition_index: p,
                                offset: *offset,
                                ..Default::default()
                            });
                        let request = DeleteRecordsRequest {
                            topics: topics
                                .into_iter()
                                .map(|(name, partitions)| DeleteRecordsTopic {
                                    name,
                                    partitions,
                                    ..Default::default()
                                })
                                .collect(),
                            timeout_ms,
                            ..Default::default()
                        };
                        let response = match self.client.send_to_node(leader, &request).await {
                            Ok(r) => r,
                            Err(e) if e.is_retriable() => {
                                retriable = Some(e);
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        for t in response.topics {
                            for p in t.partitions {
                                let tp = TopicPartition::new(t.name.clone(), p.partition_index);
                                match ErrorCode(p.error_code) {
                                    ErrorCode::NONE => {
                                        pending.remove(&tp);
                                        out.insert(tp, p.low_watermark);
                                    }
                                    code => {
                                        let e = Error::kafka(
                                            "DeleteRecords",
                                            tp.to_string(),
                                            code,
                                            None,
                                        );
                                        if !code.is_retriable() {
                                            return Err(e);
                                        }
                                        retriable = Some(e);
                                    }
                                }
                            }
                        }
                    }
                    match retriable {
                        Some(e) if !pending.is_empty() => Err(e),
                        _ => Ok(()),
                    }
                }
            })
            .await?;
        Ok(state.into_inner().1)
    }
}
