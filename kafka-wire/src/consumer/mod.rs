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
//! stop at the last stable offset and drop aborted transactions ([`read_committed`]). Fetch
//! sessions (KIP-227) are used where the broker offers them ([`fetch_session`]): after the
//! first full fetch, requests only list partitions whose position changed.
//!
//! Fetched records wait in one queue per partition ([`FetchBuffer`]). [`Consumer::poll`]
//! returns up to `max.poll.records` shared fairly across partitions, and
//! [`Consumer::poll_records`] the same grouped by partition ([`ConsumerRecords`]), so a caller
//! can pick the next record by timestamp across partitions. A paused partition keeps its
//! queued records until it is resumed.
//!
//! **Prefetch.** As soon as records are handed out, the next fetch round starts in its own
//! task, so it is in flight while the application processes them. A round asks only for
//! partitions that are not paused and have less than `max.partition.fetch.bytes` queued, and
//! starts only while the queued records total less than `fetch.max.bytes`: fetched but
//! unreturned data stays below `fetch.max.bytes` plus the one response in flight (itself at
//! most `fetch.max.bytes` per broker). Sizes are estimated from keys, values and headers
//! ([`buffer::record_bytes`]).
//!
//! **Leader epochs (KIP-320).** Each record carries the leader epoch of its batch; commits in
//! a group carry the epoch of the last consumed record, and every fetch carries the epoch of
//! the last fetched record, so that after a leader change the new leader validates the
//! position and a truncated log is detected ([`validation`]).

pub mod buffer;
mod config;
mod fetch;
pub mod fetch_session;
mod group;
mod group_commit;
mod hooks;
mod prefetch;
pub mod read_committed;
pub mod validation;

pub use buffer::{ConsumerRecords, FetchBuffer};
pub use config::{assignor_name, ConsumerConfig, IsolationLevel, OffsetReset, CONSUMER_TABLE};
pub use hooks::{Committer, ConsumerEvent, RebalanceListener};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::admin::{Admin, ListOffsetsOptions, OffsetSpec};
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
    /// The leader epoch of the record's batch (KIP-320), if the broker wrote one.
    pub leader_epoch: Option<i32>,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<Header>,
}

#[derive(Debug, Default, Clone)]
struct PartitionState {
    /// The next offset to fetch (records before it may still be queued in the buffer).
    position: Option<i64>,
    /// The leader epoch of the last record fetched before `position` (KIP-320).
    last_epoch: Option<i32>,
    reset: Option<Offset>,
    paused: bool,
    high_watermark: Option<i64>,
}

/// A consumer of manually assigned partitions.
#[derive(Debug)]
pub struct Consumer {
    client: Client,
    config: Arc<ConsumerConfig>,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    buffer: FetchBuffer,
    /// Per-broker fetch sessions (moved into the round in flight while it runs).
    sessions: HashMap<i32, fetch_session::FetchSession>,
    /// The fetch round in flight, if any.
    in_flight: Option<prefetch::InFlight>,
    /// Fetch counts as of the start of the round in flight.
    counts_before_flight: (u64, u64),
    /// Set by [`Consumer::subscribe`].
    group: Option<Box<group::GroupState>>,
}

impl Consumer {
    /// Connect to the cluster.
    pub async fn connect(config: ConsumerConfig) -> Result<Consumer> {
        config.validate()?;
        let client = Client::connect(config.client.clone()).await?;
        Ok(Consumer {
            client,
            config: Arc::new(config),
            partitions: BTreeMap::new(),
            buffer: FetchBuffer::new(),
            sessions: HashMap::new(),
            in_flight: None,
            counts_before_flight: (0, 0),
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
        self.buffer.retain_partitions(|tp| wanted.contains(tp));
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
        state.last_epoch = None;
        self.buffer.clear_partition(tp);
        Ok(())
    }

    /// The offset of the next record to be returned for `tp`, once known.
    /// Right after a group rebalance revoked `tp` (until the item after its `Revoked` event is
    /// asked for), its last position.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        let Some(state) = self.partitions.get(tp) else {
            return group::revoked_position(self.group.as_deref(), tp);
        };
        self.buffer.first_offset(tp).or(state.position)
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

    /// Full and incremental (KIP-227 session) fetches sent so far, over all brokers (while a
    /// round is in flight: as of its start).
    pub fn fetch_counts(&self) -> (u64, u64) {
        if self.in_flight.is_some() {
            return self.counts_before_flight;
        }
        self.sessions.values().fold((0, 0), |(f, i), s| {
            (f + s.full_fetches, i + s.incremental_fetches)
        })
    }

    /// Records fetched and not yet returned, over all partitions (paused ones included).
    pub fn buffered_records(&self) -> usize {
        self.buffer.len()
    }

    /// Stop fetching these partitions and returning their records: records already buffered
    /// for them are held, not lost, and returned after [`Consumer::resume`].
    pub fn pause(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(s) = self.partitions.get_mut(tp) {
                s.paused = true;
            }
        }
    }

    /// Fetch and return these partitions again (their held records first).
    pub fn resume(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            if let Some(s) = self.partitions.get_mut(tp) {
                s.paused = false;
            }
        }
    }

    /// Wait up to `timeout` for records; returns at most `max.poll.records` (possibly none),
    /// shared fairly across partitions, each partition's in offset order.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        if self.group.is_some() {
            return self.poll_group(timeout).await;
        }
        if !self.await_records(Instant::now() + timeout).await? {
            return Ok(Vec::new());
        }
        let partitions = &self.partitions;
        let records = self.buffer.drain_flat(self.config.max_poll_records, |tp| {
            partitions.get(tp).is_some_and(|s| !s.paused)
        });
        self.prefetch();
        Ok(records)
    }

    /// [`Consumer::poll`], with the records grouped by partition (Java's `ConsumerRecords`).
    /// In group mode rebalance events go to the listener, as with `poll`.
    pub async fn poll_records(&mut self, timeout: Duration) -> Result<ConsumerRecords> {
        if self.group.is_some() {
            let records = self.poll_group(timeout).await?;
            return Ok(ConsumerRecords::from_records(records));
        }
        if !self.await_records(Instant::now() + timeout).await? {
            return Ok(ConsumerRecords::default());
        }
        let partitions = &self.partitions;
        let records = self.buffer.drain(self.config.max_poll_records, |tp| {
            partitions.get(tp).is_some_and(|s| !s.paused)
        });
        self.prefetch();
        Ok(records)
    }

    /// Take in finished fetches and fetch more until a record of a partition that is not
    /// paused is buffered (`true`) or `deadline` passes (`false`).
    async fn await_records(&mut self, deadline: Instant) -> Result<bool> {
        loop {
            self.collect_fetch()?;
            if self.has_returnable() {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            self.fill(left).await?;
            if !self.has_returnable() && Instant::now() >= deadline {
                return Ok(false);
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
                if let Some(r) = consumer.next_buffered() {
                    return Some((Ok(r), consumer));
                }
                if let Err(e) = consumer.fill(Duration::from_secs(1)).await {
                    return Some((Err(e), consumer));
                }
            }
        })
        .boxed()
    }

    /// Whether a partition that is not paused has buffered records.
    fn has_returnable(&self) -> bool {
        let partitions = &self.partitions;
        self.buffer
            .has_returnable(|tp| partitions.get(tp).is_some_and(|s| !s.paused))
    }

    /// One buffered record of a partition that is not paused (rotating over partitions);
    /// starts the next fetch round when it may.
    pub(super) fn next_buffered(&mut self) -> Option<ConsumerRecord> {
        let partitions = &self.partitions;
        let r = self
            .buffer
            .pop(|tp| partitions.get(tp).is_some_and(|s| !s.paused))?;
        if self.in_flight.is_none() {
            self.prefetch();
        }
        Some(r)
    }

    /// Up to `max` more buffered records of unpaused partitions appended to `out`, marked
    /// delivered (group mode).
    pub(super) fn drain_buffered(&mut self, max: usize, out: &mut Vec<ConsumerRecord>) {
        if max == 0 {
            return;
        }
        let start = out.len();
        let partitions = &self.partitions;
        self.buffer
            .drain_append(max, |tp| partitions.get(tp).is_some_and(|s| !s.paused), out);
        self.mark_all_delivered(&out[start..]);
        if self.in_flight.is_none() {
            self.prefetch();
        }
    }

    /// Resolve pending resets, then wait up to `wait` for the round in flight (starting one if
    /// none is). Cancel-safe: a round still running stays in flight.
    async fn fill(&mut self, wait: Duration) -> Result<()> {
        self.resolve_resets().await?;
        self.collect_fetch()?;
        if self.has_returnable() {
            return Ok(());
        }
        self.prefetch();
        let Some(in_flight) = self.in_flight.as_mut() else {
            tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
            return Ok(());
        };
        let Some(outcome) = in_flight.wait(wait).await else {
            return Ok(());
        };
        self.in_flight = None;
        self.complete(outcome)
    }

    /// Apply the round in flight if it has completed.
    fn collect_fetch(&mut self) -> Result<()> {
        match self.in_flight.as_mut().and_then(|f| f.try_take()) {
            Some(outcome) => {
                self.in_flight = None;
                self.complete(outcome)
            }
            None => Ok(()),
        }
    }

    fn complete(&mut self, outcome: prefetch::FetchOutcome) -> Result<()> {
        self.sessions = outcome.sessions;
        for result in outcome.results? {
            self.apply(result)?;
        }
        Ok(())
    }

    /// Start the next fetch round unless one is in flight: for partitions that are not paused,
    /// have a position and less than `max.partition.fetch.bytes` buffered, while the buffer
    /// holds less than `fetch.max.bytes`.
    fn prefetch(&mut self) {
        if self.in_flight.is_some() {
            return;
        }
        let max_bytes = usize::try_from(self.config.fetch_max_bytes).unwrap_or(0);
        let partition_max = usize::try_from(self.config.max_partition_fetch_bytes).unwrap_or(0);
        if self.buffer.bytes() >= max_bytes.max(1) {
            return;
        }
        // Partitions left out because a full fetch of theirs is still buffered: the
        // application drains them soon and wants more at once, but only one round can be in
        // flight. A long poll (`fetch.max.wait.ms`) for the others, which may have nothing new,
        // would keep them waiting that long; so this round asks the broker not to wait.
        let mut left_out = false;
        let fetchable: Vec<(TopicPartition, fetch::FetchPosition)> = self
            .partitions
            .iter()
            .filter(|(_, s)| !s.paused)
            .filter(|(tp, s)| {
                // Double buffering: the next fetch of a partition goes out while a whole
                // fetch of it is still buffered, so a fast application never waits a round
                // trip for its next records (left out only with two fetches' worth).
                let full = self.buffer.partition_bytes(tp) >= 2 * partition_max.max(1);
                left_out |= full && s.position.is_some();
                !full
            })
            .filter_map(|(tp, s)| {
                let offset = s.position?;
                let position = fetch::FetchPosition {
                    offset,
                    last_fetched_epoch: s.last_epoch,
                };
                Some((tp.clone(), position))
            })
            .collect();
        if fetchable.is_empty() {
            return;
        }
        self.counts_before_flight = self.fetch_counts();
        self.in_flight = Some(prefetch::InFlight::start(
            self.client.clone(),
            self.config.clone(),
            fetchable,
            std::mem::take(&mut self.sessions),
            if left_out {
                Duration::ZERO
            } else {
                self.config.fetch_max_wait
            },
        ));
    }

    fn apply(&mut self, r: fetch::PartitionFetch) -> Result<()> {
        let Some(state) = self.partitions.get_mut(&r.tp) else {
            return Ok(()); // unassigned meanwhile
        };
        if state.position != Some(r.fetch_offset) || state.paused {
            return Ok(()); // a seek or pause happened meanwhile: drop the stale data
        }
        if let Some(diverging) = r.diverging.filter(|_| r.error.is_ok()) {
            use validation::Validation;
            match validation::validate(r.fetch_offset, diverging, self.config.auto_offset_reset) {
                Validation::Valid { epoch } => state.last_epoch = Some(epoch),
                Validation::Truncated { offset, epoch } => {
                    tracing::warn!(
                        partition = %r.tp, position = r.fetch_offset, reset_to = offset,
                        "log truncation detected: resetting to the first offset known to diverge"
                    );
                    state.position = Some(offset);
                    state.last_epoch = Some(epoch);
                }
                Validation::TruncatedNoReset {
                    divergent_offset,
                    epoch,
                } => {
                    return Err(ClientError::LogTruncation {
                        topic_partition: r.tp,
                        position: r.fetch_offset,
                        divergent_offset,
                        epoch,
                    }
                    .into())
                }
                Validation::Unknown => {
                    return reset_out_of_range(state, &r, self.config.auto_offset_reset)
                }
            }
            return Ok(());
        }
        match r.error {
            ErrorCode::NONE => {}
            ErrorCode::OFFSET_OUT_OF_RANGE => {
                return reset_out_of_range(state, &r, self.config.auto_offset_reset);
            }
            code if code.invalidates_metadata() || code.is_retriable() => {
                self.client.invalidate_metadata();
                return Ok(());
            }
            code => return Err(Error::kafka("Fetch", r.tp.to_string(), code, None)),
        }
        state.high_watermark = Some(r.high_watermark);
        state.position = Some(r.next_offset);
        state.last_epoch = r.last_epoch.or(state.last_epoch);
        self.buffer.push(&r.tp, r.records);
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
        let options = ListOffsetsOptions {
            isolation_level: self.config.isolation_level,
        };
        let offsets = admin.list_offsets_with(&specs, options).await?;
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
                (Some(Offset::FromEnd(n)), _) => {
                    state.position = Some((found.offset - n).max(0));
                    state.last_epoch = None;
                }
                (Some(Offset::Timestamp(_)), _) if found.offset < 0 => {
                    // No record that late: start at the end, as the Java client does.
                    state.reset = Some(Offset::End);
                    continue;
                }
                _ => {
                    state.position = Some(found.offset);
                    state.last_epoch = found.leader_epoch;
                }
            }
            state.reset = None;
        }
        Ok(())
    }
}

/// OFFSET_OUT_OF_RANGE (or a position the leader cannot validate): reset per
/// `auto.offset.reset`, or fail with `none`.
fn reset_out_of_range(
    state: &mut PartitionState,
    r: &fetch::PartitionFetch,
    policy: OffsetReset,
) -> Result<()> {
    let to = match policy {
        OffsetReset::Earliest => Offset::Beginning,
        OffsetReset::Latest => Offset::End,
        OffsetReset::None => {
            return Err(Error::kafka(
                "Fetch",
                r.tp.to_string(),
                ErrorCode::OFFSET_OUT_OF_RANGE,
                Some(format!(
                    "offset {} is out of range and auto.offset.reset=none",
                    r.fetch_offset
                )),
            ))
        }
    };
    state.position = None;
    state.last_epoch = None;
    state.reset = Some(to);
    Ok(())
}
