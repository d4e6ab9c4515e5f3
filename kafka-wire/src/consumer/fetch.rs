//! One fetch round: a Fetch request to each leader of the partitions to read, concurrently,
//! and the per-partition results decoded into records.

use std::collections::BTreeMap;
use std::time::Duration;

use super::fetch_session::{FetchEpochs, FetchSession};
use super::read_committed::AbortedTransactionFilter;
use super::validation::EpochEndOffset;
use super::{ConsumerConfig, ConsumerRecord, IsolationLevel};
use crate::cluster::{Client, LeaderLookup};
use crate::error::{Error, Result};
use crate::protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use crate::protocol::messages::{FetchRequest, FetchResponse};
use crate::protocol::record_batch::{DecodeLimits, RecordBatchReader};
use crate::protocol::{ApiKey, ErrorCode, Uuid};
use crate::TopicPartition;

/// Where to fetch a partition from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FetchPosition {
    /// The fetch offset.
    pub offset: i64,
    /// The leader epoch of the last record fetched before `offset` (or committed with it).
    pub last_fetched_epoch: Option<i32>,
}

/// The outcome of fetching one partition.
#[derive(Debug)]
pub(super) struct PartitionFetch {
    pub tp: TopicPartition,
    /// The position the fetch started at (results are dropped if it moved meanwhile).
    pub fetch_offset: i64,
    pub error: ErrorCode,
    pub high_watermark: i64,
    /// Where the next fetch continues (past control batches, aborted data and gaps).
    pub next_offset: i64,
    /// The leader epoch of the last batch read (for the next fetch's `LastFetchedEpoch`).
    pub last_epoch: Option<i32>,
    /// The leader's `DivergingEpoch`: the position must be validated (KIP-320).
    pub diverging: Option<EpochEndOffset>,
    pub records: Vec<ConsumerRecord>,
}

/// Fetch `partitions` (with their positions) from their leaders.
pub(super) async fn fetch_round(
    client: &Client,
    config: &ConsumerConfig,
    partitions: &[(TopicPartition, FetchPosition)],
    sessions: &mut std::collections::HashMap<i32, FetchSession>,
    wait: Duration,
) -> Result<Vec<PartitionFetch>> {
    let topics: Vec<String> = partitions.iter().map(|(tp, _)| tp.topic.clone()).collect();
    let metadata = client.metadata_for(&topics).await?;
    let mut by_leader: BTreeMap<i32, Vec<(TopicPartition, i64, FetchEpochs)>> = BTreeMap::new();
    for (tp, position) in partitions {
        match metadata.leader(tp) {
            LeaderLookup::Leader(b) => {
                let current_leader_epoch = metadata
                    .topics
                    .get(&tp.topic)
                    .and_then(|t| t.partitions.iter().find(|p| p.partition == tp.partition))
                    .map_or(-1, |p| p.leader_epoch);
                let epochs = FetchEpochs {
                    current_leader_epoch,
                    last_fetched_epoch: position.last_fetched_epoch.unwrap_or(-1),
                };
                by_leader
                    .entry(b.node_id)
                    .or_default()
                    .push((tp.clone(), position.offset, epochs))
            }
            _ => client.invalidate_metadata(),
        }
    }
    let topic_ids: BTreeMap<String, Uuid> = metadata
        .topics
        .values()
        .map(|t| (t.name.clone(), t.topic_id))
        .collect();
    // Brokers we no longer fetch from keep no session.
    sessions.retain(|node, _| by_leader.contains_key(node));
    let requests = by_leader.into_iter().map(|(node, parts)| {
        let topic_ids = &topic_ids;
        let mut session = sessions.remove(&node).unwrap_or_default();
        async move {
            let result =
                fetch_from(client, config, node, &parts, &mut session, topic_ids, wait).await;
            (node, session, parts, result)
        }
    });
    let mut out = Vec::new();
    for (node, session, parts, result) in futures_util::future::join_all(requests).await {
        sessions.insert(node, session);
        match result {
            Ok(response) => out.extend(decode(config, &parts, &response, &topic_ids)?),
            Err(e) if e.is_retriable() => {
                tracing::debug!(error = %e, "fetch failed; will retry");
                client.invalidate_metadata();
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

async fn fetch_from(
    client: &Client,
    config: &ConsumerConfig,
    node: i32,
    parts: &[(TopicPartition, i64, FetchEpochs)],
    session: &mut FetchSession,
    topic_ids: &BTreeMap<String, Uuid>,
    wait: Duration,
) -> Result<FetchResponse> {
    let conn = client
        .connection_for(node, crate::cluster::ConnectionClass::Fetch)
        .await?;
    let mut version = conn.version_for(ApiKey::Fetch)?;
    let id_of = |t: &str| topic_ids.get(t).copied().unwrap_or(Uuid::ZERO);
    if parts
        .iter()
        .any(|(tp, _, _)| id_of(&tp.topic) == Uuid::ZERO)
    {
        version = version.min(12); // topic-id versions only when every id is known (as Java)
    }
    // Epochs only where the version carries them (the session compares what is sent).
    let sendable = |e: FetchEpochs| FetchEpochs {
        current_leader_epoch: if version >= 9 {
            e.current_leader_epoch
        } else {
            -1
        },
        last_fetched_epoch: if version >= 12 {
            e.last_fetched_epoch
        } else {
            -1
        },
    };
    let wanted: BTreeMap<TopicPartition, (i64, i32, FetchEpochs)> = parts
        .iter()
        .map(|(tp, o, e)| {
            let state = (*o, config.max_partition_fetch_bytes, sendable(*e));
            (tp.clone(), state)
        })
        .collect();
    let plan = session.plan_with_epochs(&wanted, version >= 7);
    let mut topics: BTreeMap<String, Vec<FetchPartition>> = BTreeMap::new();
    let epochs = plan
        .epochs
        .iter()
        .chain(std::iter::repeat(&FetchEpochs::UNKNOWN));
    for ((tp, offset, max_bytes), e) in plan.partitions.iter().zip(epochs) {
        topics
            .entry(tp.topic.clone())
            .or_default()
            .push(FetchPartition {
                partition: tp.partition,
                fetch_offset: *offset,
                partition_max_bytes: *max_bytes,
                current_leader_epoch: e.current_leader_epoch,
                last_fetched_epoch: e.last_fetched_epoch,
                ..Default::default()
            });
    }
    let mut forgotten: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for tp in &plan.forgotten {
        forgotten
            .entry(tp.topic.clone())
            .or_default()
            .push(tp.partition);
    }
    let request = FetchRequest {
        max_wait_ms: i32::try_from(wait.as_millis()).unwrap_or(i32::MAX),
        min_bytes: config.fetch_min_bytes,
        max_bytes: config.fetch_max_bytes,
        isolation_level: match config.isolation_level {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        },
        session_id: plan.session_id,
        session_epoch: plan.epoch,
        forgotten_topics_data: forgotten
            .into_iter()
            .map(|(name, partitions)| ForgottenTopic {
                topic_id: if version >= 13 {
                    id_of(&name)
                } else {
                    Uuid::ZERO
                },
                topic: if version >= 13 { String::new() } else { name },
                partitions,
                ..Default::default()
            })
            .collect(),
        topics: topics
            .into_iter()
            .map(|(name, partitions)| FetchTopic {
                topic_id: if version >= 13 {
                    id_of(&name)
                } else {
                    Uuid::ZERO
                },
                topic: if version >= 13 { String::new() } else { name },
                partitions,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let response = match conn.send_at(&request, version).await {
        Ok(r) => r,
        Err(e) => {
            session.reset();
            return Err(e.into());
        }
    };
    let code = ErrorCode(response.error_code);
    session.on_response(&plan, code, response.session_id);
    match code {
        ErrorCode::NONE => Ok(response),
        // The session is reset; the next round sends a full fetch.
        ErrorCode::FETCH_SESSION_ID_NOT_FOUND | ErrorCode::INVALID_FETCH_SESSION_EPOCH => {
            Ok(FetchResponse::default())
        }
        code => Err(Error::kafka("Fetch", format!("broker {node}"), code, None)),
    }
}

fn decode(
    config: &ConsumerConfig,
    parts: &[(TopicPartition, i64, FetchEpochs)],
    response: &FetchResponse,
    topic_ids: &BTreeMap<String, Uuid>,
) -> Result<Vec<PartitionFetch>> {
    let limits = DecodeLimits {
        check_crcs: config.check_crcs,
        ..DecodeLimits::default()
    };
    let mut out = Vec::new();
    for t in &response.responses {
        let name = if t.topic.is_empty() {
            topic_ids
                .iter()
                .find(|(_, id)| **id == t.topic_id)
                .map(|(n, _)| n.clone())
                .unwrap_or_default()
        } else {
            t.topic.clone()
        };
        for p in &t.partitions {
            let tp = TopicPartition::new(name.clone(), p.partition_index);
            let Some(&(_, fetch_offset, _)) = parts.iter().find(|(q, _, _)| *q == tp) else {
                continue; // not asked for: ignore
            };
            let error = ErrorCode(p.error_code);
            let mut result = PartitionFetch {
                tp: tp.clone(),
                fetch_offset,
                error,
                // Under read_committed the end of what can be read is the last stable offset
                // (as Java's endOffsets): records of open transactions are not returned yet.
                high_watermark: match config.isolation_level {
                    IsolationLevel::ReadCommitted if p.last_stable_offset >= 0 => {
                        p.last_stable_offset
                    }
                    _ => p.high_watermark,
                },
                next_offset: fetch_offset,
                last_epoch: None,
                diverging: (p.diverging_epoch.epoch >= 0 || p.diverging_epoch.end_offset >= 0)
                    .then_some(EpochEndOffset {
                        epoch: p.diverging_epoch.epoch,
                        end_offset: p.diverging_epoch.end_offset,
                    }),
                records: Vec::new(),
            };
            if error.is_ok() && result.diverging.is_none() {
                let topic: std::sync::Arc<str> = tp.topic.as_str().into();
                let mut filter = match config.isolation_level {
                    IsolationLevel::ReadCommitted => AbortedTransactionFilter::read_committed(
                        p.aborted_transactions
                            .iter()
                            .flatten()
                            .map(|a| (a.producer_id, a.first_offset)),
                    ),
                    IsolationLevel::ReadUncommitted => AbortedTransactionFilter::read_uncommitted(),
                };
                let records = p.records.clone().unwrap_or_default();
                for batch in RecordBatchReader::new(records, limits) {
                    let batch = batch.map_err(|e| Error::Protocol {
                        operation: "Fetch",
                        detail: format!("{tp}: {e}"),
                    })?;
                    let next = batch.next_offset();
                    let epoch =
                        (batch.partition_leader_epoch >= 0).then_some(batch.partition_leader_epoch);
                    result.last_epoch = epoch.or(result.last_epoch);
                    if filter.keep(&batch) {
                        for r in batch.records {
                            if r.offset >= fetch_offset {
                                result.records.push(ConsumerRecord {
                                    topic: topic.clone(),
                                    partition: tp.partition,
                                    offset: r.offset,
                                    timestamp: r.timestamp,
                                    timestamp_type: batch.timestamp_type,
                                    leader_epoch: epoch,
                                    key: r.key,
                                    value: r.value,
                                    headers: r.headers,
                                });
                            }
                        }
                    }
                    result.next_offset = result.next_offset.max(next);
                }
            }
            out.push(result);
        }
    }
    Ok(out)
}
