//! Layer 3: the consumer, with manual partition assignment.
//!
//! ```no_run
//! # async fn demo() -> kafka_wire::Result<()> {
//! use futures_util::StreamExt;
//! use kafka_wire::consumer::{Consumer, ConsumerConfig, Offset};
//! use kafka_wire::TopicPartition;
//!
//! let mut consumer = Consumer::connect(ConsumerConfig::new("127.0.0.1:9092")).await?;
//! let tp = TopicPartition::new("orders", 0);
//! consumer.assign([tp.clone()]);
//! consumer.seek(&tp, Offset::Beginning)?;
//! let mut records = consumer.stream();
//! while let Some(record) = records.next().await {
//!     let record = record?;
//!     println!("{}@{}: {:?}", record.partition, record.offset, record.value);
//! }
//! # Ok(()) }
//! ```
//!
//! Fetches go to each partition's leader (one request per broker, concurrently), honour
//! `fetch.min.bytes`, `fetch.max.wait.ms`, `fetch.max.bytes` and `max.partition.fetch.bytes`,
//! check CRCs, skip control batches and offset gaps, and with `isolation.level=read_committed`
//! stop at the last stable offset and drop aborted transactions ([`read_committed`]). At most
//! one fetch response per broker is held in memory. Fetch sessions (KIP-227) are used where the
//! broker offers them ([`fetch_session`]): after the first full fetch, requests only list
//! partitions whose position changed. Consumer groups come with the groups issue;
//! the assignment API is what the group coordinator will drive.

mod config;
mod fetch;
pub mod fetch_session;
mod group;
pub mod read_committed;

pub use config::{assignor_name, ConsumerConfig, IsolationLevel, OffsetReset, CONSUMER_KEYS};
pub use group::{Committer, ConsumerEvent, RebalanceListener};

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::admin::{Admin, OffsetSpec};
use crate::cluster::{Client, TopicsToRefresh};
use crate::error::{ClientError, Error, Result};
use crate::protocol::record_batch::{Header, TimestampType};
use crate::protocol::ErrorCode;
use crate::TopicPartition;

/// Where to (re)start reading a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    /// The log start.
    Beginning,
    /// The log end: only new records.
    End,
    /// This offset.
    At(i64),
    /// `n` records before the end (kcat's `-o -N`).
    FromEnd(i64),
    /// The first record at or after this timestamp (ms); the end if there is none.
    Timestamp(i64),
}

/// A record read from Kafka; key, value and header values share the fetched buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Topic (shared by all records of a fetch: no allocation per record).
    pub topic: std::sync::Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in ms.
    pub timestamp: i64,
    /// CreateTime or LogAppendTime.
    pub timestamp_type: TimestampType,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<Header>,
}

#[derive(Debug, Default, Clone)]
struct PartitionState {
    position: Option<i64>,
    reset: Option<Offset>,
    paused: bool,
    high_watermark: Option<i64>,
}

/// A consumer of manually assigned partitions.
#[derive(Debug)]
pub struct Consumer {
    client: Client,
    config: ConsumerConfig,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    buffer: VecDeque<ConsumerRecord>,
    sessions: std::collections::HashMap<i32, fetch_session::FetchSession>,
    /// Set by [`Consumer::subscribe`].
    group: Option<Box<group::GroupState>>,
}

impl Consumer {
    /// Connect to the cluster.
    pub async fn connect(config: ConsumerConfig) -> Result<Consumer> {
        let client = Client::connect(config.client.clone()).await?;
        Ok(Consumer {
            client,
            config,
            partitions: BTreeMap::new(),
            buffer: VecDeque::new(),
            sessions: std::collections::HashMap::new(),
            group: None,
        })
    }

    /// The cluster client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Replace the assignment. Partitions kept keep their position; new ones start per
    /// `auto.offset.reset` unless [`Consumer::seek`] says otherwise.
    pub fn assign(&mut self, partitions: impl IntoIterator<Item = TopicPartition>) {
        let wanted: Vec<TopicPartition> = partitions.into_iter().collect();
        self.partitions.retain(|tp, _| wanted.contains(tp));
        self.buffer.retain(|r| {
            wanted
                .iter()
                .any(|tp| *tp.topic == *r.topic && tp.partition == r.partition)
        });
        for tp in wanted {
            self.partitions.entry(tp).or_default();
        }
    }

    /// The assigned partitions.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// Move a partition's position; applied before the next fetch.
    pub fn seek(&mut self, tp: &TopicPartition, offset: Offset) -> Result<()> {
        let state = self
            .partitions
            .get_mut(tp)
            .ok_or_else(|| ClientError::NotAssigned {
                operation: "seek",
                topic_partition: tp.clone(),
            })?;
        match offset {
            Offset::At(o) if o >= 0 => {
                state.position = Some(o);
                state.reset = None;
            }
            other => {
                state.position = None;
                state.reset = Some(other);
            }
        }
        self.buffer
            .retain(|r| !(*r.topic == *tp.topic && r.partition == tp.partition));
        Ok(())
    }

    /// The offset of the next record to be returned for `tp`, once known.
    /// Right after a group rebalance revoked `tp` (until the item after its `Revoked` event is
    /// asked for), its last position.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        let Some(state) = self.partitions.get(tp) else {
            return group::revoked_position(self.group.as_deref(), tp);
        };
        let buffered = self
            .buffer
            .iter()
            .find(|r| *r.topic == *tp.topic && r.partition == tp.partition)
            .map(|r| r.offset);
        buffered.or(state.position)
    }

    /// The end of `tp` seen in the last fetch: the high watermark, or under `read_committed`
    /// the last stable offset (records of open transactions lie beyond it).
    pub fn high_watermark(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions.get(tp)?.high_watermark
    }

    /// Whether every record of `tp` up to the last fetch's end (high watermark, or last stable
    /// offset under `read_committed`) has been returned.
    pub fn at_end(&self, tp: &TopicPartition) -> bool {
        match (self.position(tp), self.high_watermark(tp)) {
            (Some(p), Some(h)) => p >= h,
            _ => false,
        }
    }

    /// Full and incremental (KIP-227 session) fetches sent so far, over all brokers.
    pub fn fetch_counts(&self) -> (u64, u64) {
        self.sessions.values().fold((0, 0), |(f, i), s| {
            (f + s.full_fetches, i + s.incremental_fetches)
        })
    }

    /// Stop fetching these partitions (records already buffered stay).
    pub fn pause(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(s) = self.partitions.get_mut(tp) {
                s.paused = true;
            }
        }
    }

    /// Fetch these partitions again.
    pub fn resume(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(s) = self.partitions.get_mut(tp) {
                s.paused = false;
            }
        }
    }

    /// Wait up to `timeout` for records; returns at most `max.poll.records` (possibly none).
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        if self.group.is_some() {
            return self.poll_group(timeout).await;
        }
        let deadline = Instant::now() + timeout;
        loop {
            if !self.buffer.is_empty() {
                let n = self.buffer.len().min(self.config.max_poll_records);
                return Ok(self.buffer.drain(..n).collect());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            self.fill(left).await?;
            if self.buffer.is_empty() && Instant::now() >= deadline {
                return Ok(Vec::new());
            }
        }
    }

    /// The records of the assigned partitions as an endless stream.
    pub fn stream(&mut self) -> futures_util::stream::BoxStream<'_, Result<ConsumerRecord>> {
        use futures_util::StreamExt;
        futures_util::stream::unfold(self, |consumer| async move {
            if consumer.group.is_some() {
                // Group mode: records only; rebalance events go to the listener.
                loop {
                    match consumer.next_event().await {
                        Ok(group::ConsumerEvent::Record(r)) => return Some((Ok(r), consumer)),
                        Ok(_) => continue,
                        Err(e) => return Some((Err(e), consumer)),
                    }
                }
            }
            loop {
                if let Some(r) = consumer.buffer.pop_front() {
                    return Some((Ok(r), consumer));
                }
                if let Err(e) = consumer.fill(Duration::from_secs(1)).await {
                    return Some((Err(e), consumer));
                }
            }
        })
        .boxed()
    }

    /// Resolve pending resets, then run one fetch round (bounded by `wait`).
    async fn fill(&mut self, wait: Duration) -> Result<()> {
        self.resolve_resets().await?;
        let fetchable: Vec<(TopicPartition, i64)> = self
            .partitions
            .iter()
            .filter(|(_, s)| !s.paused)
            .filter_map(|(tp, s)| s.position.map(|p| (tp.clone(), p)))
            .collect();
        if fetchable.is_empty() {
            tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
            return Ok(());
        }
        let wait = wait.min(self.config.fetch_max_wait);
        let started = Instant::now();
        let results = fetch::fetch_round(
            &self.client,
            &self.config,
            &fetchable,
            &mut self.sessions,
            wait,
        )
        .await?;
        for result in results {
            self.apply(result)?;
        }
        // A broker that answers an empty fetch at once instead of waiting `fetch.max.wait.ms`
        // (noida-db does) must not turn polling into a busy loop.
        let elapsed = started.elapsed();
        if self.buffer.is_empty() && elapsed < wait {
            tokio::time::sleep((wait - elapsed).min(Duration::from_millis(50))).await;
        }
        Ok(())
    }

    fn apply(&mut self, r: fetch::PartitionFetch) -> Result<()> {
        let Some(state) = self.partitions.get_mut(&r.tp) else {
            return Ok(()); // unassigned meanwhile
        };
        if state.position != Some(r.fetch_offset) || state.paused {
            return Ok(()); // a seek or pause happened meanwhile: drop the stale data
        }
        match r.error {
            ErrorCode::NONE => {}
            ErrorCode::OFFSET_OUT_OF_RANGE => {
                return match self.config.auto_offset_reset {
                    OffsetReset::Earliest => {
                        state.position = None;
                        state.reset = Some(Offset::Beginning);
                        Ok(())
                    }
                    OffsetReset::Latest => {
                        state.position = None;
                        state.reset = Some(Offset::End);
                        Ok(())
                    }
                    OffsetReset::None => Err(Error::kafka(
                        "Fetch",
                        r.tp.to_string(),
                        ErrorCode::OFFSET_OUT_OF_RANGE,
                        Some(format!(
                            "offset {} is out of range and auto.offset.reset=none",
                            r.fetch_offset
                        )),
                    )),
                };
            }
            code if code.invalidates_metadata() || code.is_retriable() => {
                self.client.invalidate_metadata();
                return Ok(());
            }
            code => return Err(Error::kafka("Fetch", r.tp.to_string(), code, None)),
        }
        state.high_watermark = Some(r.high_watermark);
        state.position = Some(r.next_offset);
        self.buffer.extend(r.records);
        Ok(())
    }

    async fn resolve_resets(&mut self) -> Result<()> {
        let default = match self.config.auto_offset_reset {
            OffsetReset::Earliest => Some(Offset::Beginning),
            OffsetReset::Latest => Some(Offset::End),
            OffsetReset::None => None,
        };
        let mut specs = Vec::new();
        for (tp, s) in &mut self.partitions {
            if s.position.is_none() && s.reset.is_none() {
                s.reset = default;
                if default.is_none() {
                    return Err(ClientError::NoOffsetForPartition {
                        topic_partition: tp.clone(),
                    }
                    .into());
                }
            }
            match s.reset {
                Some(Offset::Beginning) => specs.push((tp.clone(), OffsetSpec::Earliest)),
                Some(Offset::End) | Some(Offset::FromEnd(_)) => {
                    specs.push((tp.clone(), OffsetSpec::Latest))
                }
                Some(Offset::Timestamp(t)) => specs.push((tp.clone(), OffsetSpec::Timestamp(t))),
                Some(Offset::At(o)) => {
                    s.position = Some(o.max(0));
                    s.reset = None;
                }
                None => {}
            }
        }
        if specs.is_empty() {
            return Ok(());
        }
        let topics: Vec<String> = specs.iter().map(|(tp, _)| tp.topic.clone()).collect();
        self.client
            .refresh_metadata(TopicsToRefresh::Some(topics))
            .await?;
        let admin = Admin::from_client(self.client.clone());
        let offsets = admin.list_offsets(&specs).await?;
        for (tp, spec) in &specs {
            let Some(state) = self.partitions.get_mut(tp) else {
                continue;
            };
            let Some(found) = offsets.get(tp) else {
                continue;
            };
            match (state.reset, spec) {
                // Below the log start, the fetch answers OFFSET_OUT_OF_RANGE and
                // auto.offset.reset applies.
                (Some(Offset::FromEnd(n)), _) => state.position = Some((found.offset - n).max(0)),
                (Some(Offset::Timestamp(_)), _) if found.offset < 0 => {
                    // No record that late: start at the end, as the Java client does.
                    state.reset = Some(Offset::End);
                    continue;
                }
                _ => state.position = Some(found.offset),
            }
            state.reset = None;
        }
        Ok(())
    }
}
