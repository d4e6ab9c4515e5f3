//! Listing partition offsets and deleting records, each sent to the partition leaders.

use std::collections::BTreeMap;

use super::Admin;
use crate::consumer::IsolationLevel;
use crate::error::{Error, Result};
use crate::protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use crate::protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use crate::protocol::messages::{DeleteRecordsRequest, ListOffsetsRequest};
use crate::protocol::{ErrorCode, Request};
use crate::TopicPartition;

/// Which offset [`Admin::list_offsets`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The log end offset: the high watermark, or under `read_committed`
    /// ([`ListOffsetsOptions`]) the last stable offset.
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

/// Options of [`Admin::list_offsets_with`] (Java's `ListOffsetsOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOffsetsOptions {
    /// `read_committed`: [`OffsetSpec::Latest`] is the last stable offset (records of open
    /// transactions lie beyond it); `read_uncommitted` (the default): the high watermark.
    pub isolation_level: IsolationLevel,
}

impl Default for ListOffsetsOptions {
    fn default() -> Self {
        ListOffsetsOptions {
            isolation_level: IsolationLevel::ReadUncommitted,
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

/// Per-partition inputs grouped by topic, as partition-level requests want them.
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
    /// Send a partition-level request to each partition's leader and collect per-partition
    /// results, retrying partitions that fail with retriable errors (after a metadata
    /// refresh) until `default.api.timeout.ms`. A non-retriable error fails the call.
    async fn per_leader<I, O, R>(
        &self,
        operation: &'static str,
        items: &[(TopicPartition, I)],
        build: impl Fn(&[(TopicPartition, I)]) -> R,
        results: impl Fn(R::Response) -> Vec<(TopicPartition, Result<O, ErrorCode>)>,
    ) -> Result<BTreeMap<TopicPartition, O>>
    where
        I: Clone,
        R: Request,
    {
        let pending: BTreeMap<TopicPartition, I> = items.iter().cloned().collect();
        let state = tokio::sync::Mutex::new((pending, BTreeMap::new()));
        self.client
            .retry(operation, || async {
                let mut guard = state.lock().await;
                let (pending, out) = &mut *guard;
                let mut by_leader: BTreeMap<i32, Vec<(TopicPartition, I)>> = BTreeMap::new();
                for (tp, v) in pending.iter() {
                    let leader = self.client.leader(tp).await?;
                    by_leader
                        .entry(leader.node_id)
                        .or_default()
                        .push((tp.clone(), v.clone()));
                }
                let mut retriable: Option<Error> = None;
                for (leader, batch) in by_leader {
                    let response = match self.client.send_to_node(leader, &build(&batch)).await {
                        Ok(r) => r,
                        Err(e) if e.is_retriable() => {
                            retriable = Some(e);
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    for (tp, result) in results(response) {
                        match result {
                            Ok(v) => {
                                pending.remove(&tp);
                                out.insert(tp, v);
                            }
                            Err(code) => {
                                let e = Error::kafka(operation, tp.to_string(), code, None);
                                if !code.is_retriable() {
                                    return Err(e);
                                }
                                retriable = Some(e);
                            }
                        }
                    }
                }
                match retriable {
                    Some(e) if !pending.is_empty() => Err(e),
                    _ => Ok(()),
                }
            })
            .await?;
        Ok(state.into_inner().1)
    }

    /// Look up offsets (read_uncommitted) for partitions, each from its leader.
    pub async fn list_offsets(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
    ) -> Result<BTreeMap<TopicPartition, ListedOffset>> {
        self.list_offsets_with(specs, ListOffsetsOptions::default())
            .await
    }

    /// Look up offsets for partitions, each from its leader, under `options`' isolation level
    /// (ListOffsets v2+, Kafka 0.11+, carries it; `read_committed` fails on older brokers).
    pub async fn list_offsets_with(
        &self,
        specs: &[(TopicPartition, OffsetSpec)],
        options: ListOffsetsOptions,
    ) -> Result<BTreeMap<TopicPartition, ListedOffset>> {
        let isolation_level = match options.isolation_level {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        };
        let build = |items: &[(TopicPartition, OffsetSpec)]| ListOffsetsRequest {
            replica_id: -1,
            isolation_level,
            topics: group_topics(items, |p, spec| ListOffsetsPartition {
                partition_index: p,
                timestamp: spec.wire(),
                ..Default::default()
            })
            .into_iter()
            .map(|(name, partitions)| ListOffsetsTopic {
                name,
                partitions,
                ..Default::default()
            })
            .collect(),
            ..Default::default()
        };
        let results = |r: <ListOffsetsRequest as Request>::Response| {
            r.topics
                .into_iter()
                .flat_map(|t| {
                    t.partitions.into_iter().map(move |p| {
                        let tp = TopicPartition::new(t.name.clone(), p.partition_index);
                        let result = ErrorCode(p.error_code)
                            .into_result()
                            .map(|()| ListedOffset {
                                offset: p.offset,
                                timestamp: p.timestamp,
                                leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                            });
                        (tp, result)
                    })
                })
                .collect()
        };
        self.per_leader("ListOffsets", specs, build, results).await
    }

    /// Delete all records before the given offsets (-1: up to the high watermark). Returns the
    /// new log start offset (low watermark) per partition.
    pub async fn delete_records(
        &self,
        before: &[(TopicPartition, i64)],
    ) -> Result<BTreeMap<TopicPartition, i64>> {
        let timeout_ms = self.request_timeout_ms();
        let build = |items: &[(TopicPartition, i64)]| DeleteRecordsRequest {
            topics: group_topics(items, |p, offset| DeleteRecordsPartition {
                partition_index: p,
                offset: *offset,
                ..Default::default()
            })
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
        let results = |r: <DeleteRecordsRequest as Request>::Response| {
            r.topics
                .into_iter()
                .flat_map(|t| {
                    t.partitions.into_iter().map(move |p| {
                        let tp = TopicPartition::new(t.name.clone(), p.partition_index);
                        (
                            tp,
                            ErrorCode(p.error_code)
                                .into_result()
                                .map(|()| p.low_watermark),
                        )
                    })
                })
                .collect()
        };
        self.per_leader("DeleteRecords", before, build, results)
            .await
    }
}
